/* Reference kernels: portable scalar C that defines the canonical result of every kernel.
 *
 * The SIMD variants (kernels_simd.h) must reproduce these bits exactly, so this file is written
 * for clarity of order, not speed: every reduction spells out its 16 partial sums, its tree and
 * its tail, and every fma is an explicit fmaf (the build uses -ffp-contract=off, so the compiler
 * never fuses on its own). */
#include <math.h>
#include <string.h>

#include "kernels_internal.h"

/* ---- element-wise ---------------------------------------------------------------------------- */

/* y, a, b are (n) */
void nc_add_ref(float *y, const float *a, const float *b, size_t n)
{
    for (size_t k = 0; k < n; k++) y[k] = a[k] + b[k];
}

/* y, a, b are (n) */
void nc_sub_ref(float *y, const float *a, const float *b, size_t n)
{
    for (size_t k = 0; k < n; k++) y[k] = a[k] - b[k];
}

/* y, a, b are (n) */
void nc_mul_ref(float *y, const float *a, const float *b, size_t n)
{
    for (size_t k = 0; k < n; k++) y[k] = a[k] * b[k];
}

/* y, x are (n) */
void nc_scale_ref(float *y, const float *x, float s, size_t n)
{
    for (size_t k = 0; k < n; k++) y[k] = x[k] * s;
}

/* y, x are (n) */
void nc_axpy_ref(float *y, const float *x, float a, size_t n)
{
    for (size_t k = 0; k < n; k++) y[k] = fmaf(a, x[k], y[k]);
}

/* y, a, b, c are (n) */
void nc_muladd_ref(float *y, const float *a, const float *b, const float *c, size_t n)
{
    for (size_t k = 0; k < n; k++) y[k] = fmaf(a[k], b[k], c[k]);
}

/* y, a, b are (n) */
void nc_min_ref(float *y, const float *a, const float *b, size_t n)
{
    for (size_t k = 0; k < n; k++) y[k] = nc_k_min(a[k], b[k]);
}

/* y, a, b are (n) */
void nc_max_ref(float *y, const float *a, const float *b, size_t n)
{
    for (size_t k = 0; k < n; k++) y[k] = nc_k_max(a[k], b[k]);
}

/* y, x are (n) */
void nc_clamp_ref(float *y, const float *x, float lo, float hi, size_t n)
{
    for (size_t k = 0; k < n; k++) y[k] = nc_k_min(nc_k_max(x[k], lo), hi);
}

/* p, v, grad are (n); m is (n) or NULL (beta1 = 0) */
void nc_adam_update_ref(float *p, float *m, float *v, const float *grad, float lr, float beta1,
                        float beta2, float c1, float c2, float eps, float clip, size_t n)
{
    float omb1 = 1.0f - beta1, omb2 = 1.0f - beta2;
    for (size_t k = 0; k < n; k++)
        nc_k_adam(&p[k], m ? &m[k] : NULL, &v[k], grad[k], lr, beta1, omb1, beta2, omb2, c1, c2,
                  eps, clip);
}

/* c, h, c_prev, f, i, g, o are (n) */
void nc_lstm_cell_forward_ref(float *c, float *h, const float *c_prev, const float *f,
                              const float *i, const float *g, const float *o, size_t n)
{
    for (size_t k = 0; k < n; k++)
        nc_k_lstm_forward(&c[k], &h[k], c_prev[k], f[k], i[k], g[k], o[k]);
}

/* every array is (n); dc may be NULL (zero) */
void nc_lstm_cell_backward_ref(float *d_c_prev, float *d_f, float *d_i, float *d_g, float *d_o,
                               const float *dh, const float *dc, const float *c_prev,
                               const float *f, const float *i, const float *g, const float *o,
                               const float *c, size_t n)
{
    for (size_t k = 0; k < n; k++)
        nc_k_lstm_backward(&d_c_prev[k], &d_f[k], &d_i[k], &d_g[k], &d_o[k], dh[k],
                           dc ? dc[k] : 0.0f, c_prev[k], f[k], i[k], g[k], o[k], c[k]);
}

/* ---- row broadcasts ----------------------------------------------------------------------- */

/* y, x are (M,N), bias is (N) */
void nc_add_bias_ref(float *y, const float *x, const float *bias, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++)
        for (size_t j = 0; j < N; j++) y[r * N + j] = x[r * N + j] + bias[j];
}

/* y, x are (M,N), s is (M) */
void nc_row_sub_ref(float *y, const float *x, const float *s, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++)
        for (size_t j = 0; j < N; j++) y[r * N + j] = x[r * N + j] - s[r];
}

/* y, x are (M,N), s is (M) */
void nc_row_scale_ref(float *y, const float *x, const float *s, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++)
        for (size_t j = 0; j < N; j++) y[r * N + j] = x[r * N + j] * s[r];
}

/* y, x are (M,N), s is (M) */
void nc_row_div_ref(float *y, const float *x, const float *s, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++)
        for (size_t j = 0; j < N; j++) y[r * N + j] = x[r * N + j] / s[r];
}

/* ---- the canonical row reductions ------------------------------------------------------------
 * Element j of a row of n goes to partial p[j % 16] for j < 16*floor(n/16), in increasing j;
 * the partials meet in the fixed tree; the tail j >= 16*floor(n/16) follows in index order. */

/* x is (n) */
static float sum16(const float *x, size_t n)
{
    float p[NC_SUM_LANES] = {0};
    size_t body = n - n % NC_SUM_LANES, j = 0;
    for (; j < body; j += NC_SUM_LANES)
        for (int l = 0; l < NC_SUM_LANES; l++) p[l] = p[l] + x[j + l];
    float s = nc_k_tree_add(p);
    for (; j < n; j++) s = s + x[j];
    return s;
}

/* a, b are (n); b == a gives the sum of squares */
static float dot16(const float *a, const float *b, size_t n)
{
    float p[NC_SUM_LANES] = {0};
    size_t body = n - n % NC_SUM_LANES, j = 0;
    for (; j < body; j += NC_SUM_LANES)
        for (int l = 0; l < NC_SUM_LANES; l++) p[l] = fmaf(a[j + l], b[j + l], p[l]);
    float s = nc_k_tree_add(p);
    for (; j < n; j++) s = fmaf(a[j], b[j], s);
    return s;
}

/* x is (n) */
static float max16(const float *x, size_t n)
{
    float p[NC_SUM_LANES];
    for (int l = 0; l < NC_SUM_LANES; l++) p[l] = -INFINITY;
    size_t body = n - n % NC_SUM_LANES, j = 0;
    for (; j < body; j += NC_SUM_LANES)
        for (int l = 0; l < NC_SUM_LANES; l++) p[l] = nc_k_max(p[l], x[j + l]);
    float s = nc_k_tree_max(p);
    for (; j < n; j++) s = nc_k_max(s, x[j]);
    return s;
}

/* y is (M), x is (M,N) */
void nc_row_sum_ref(float *y, const float *x, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) y[r] = sum16(x + r * N, N);
}

/* y is (M), x is (M,N) */
void nc_row_sumsq_ref(float *y, const float *x, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) y[r] = dot16(x + r * N, x + r * N, N);
}

/* y is (M), x is (M,N) */
void nc_row_max_ref(float *y, const float *x, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) y[r] = max16(x + r * N, N);
}

/* y is (M), a, b are (M,N) */
void nc_row_dot_ref(float *y, const float *a, const float *b, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) y[r] = dot16(a + r * N, b + r * N, N);
}

/* y is (N), x is (M,N): rows in increasing order for every column */
void nc_col_sum_acc_ref(float *y, const float *x, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++)
        for (size_t j = 0; j < N; j++) y[j] = y[j] + x[r * N + j];
}

/* ---- normalisation ----------------------------------------------------------------------- */

/* y, x are (M,N), g is (N), rstd is (M) */
void nc_rmsnorm_forward_ref(float *y, float *rstd, const float *x, const float *g, float eps,
                            size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) {
        const float *xr = x + r * N;
        float *yr = y + r * N;
        float rs = nc_k_rstd(dot16(xr, xr, N), N, eps);
        rstd[r] = rs;
        for (size_t j = 0; j < N; j++) yr[j] = (xr[j] * rs) * g[j];
    }
}

/* dx, dy, x are (M,N), dg, g are (N), rstd is (M) */
void nc_rmsnorm_backward_ref(float *dx, float *dg, const float *dy, const float *x,
                             const float *g, const float *rstd, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) {
        const float *dyr = dy + r * N, *xr = x + r * N;
        float *dxr = dx + r * N;
        float rs = rstd[r];
        /* s = sum16 of (dy*g)*x, with the product dy*g rounded first, then fma into p */
        float p[NC_SUM_LANES] = {0};
        size_t body = N - N % NC_SUM_LANES, j = 0;
        for (; j < body; j += NC_SUM_LANES)
            for (int l = 0; l < NC_SUM_LANES; l++)
                p[l] = fmaf(dyr[j + l] * g[j + l], xr[j + l], p[l]);
        float s = nc_k_tree_add(p);
        for (; j < N; j++) s = fmaf(dyr[j] * g[j], xr[j], s);
        float negk = nc_k_rms_negk(s, rs, N);
        for (j = 0; j < N; j++) {
            float dyj = dyr[j], xj = xr[j];
            dxr[j] = nc_k_rms_dx(dyj, xj, g[j], rs, negk);
            dg[j] = fmaf(dyj, xj * rs, dg[j]);
        }
    }
}

/* y, x are (M,N), g, b are (N), mean, rstd are (M) */
void nc_layernorm_forward_ref(float *y, float *mean, float *rstd, const float *x, const float *g,
                              const float *b, float eps, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) {
        const float *xr = x + r * N;
        float *yr = y + r * N;
        float mu = nc_k_mean(sum16(xr, N), N);
        /* variance: sum16 of squares of d = x - mean, each d rounded, then fma into p */
        float p[NC_SUM_LANES] = {0};
        size_t body = N - N % NC_SUM_LANES, j = 0;
        for (; j < body; j += NC_SUM_LANES)
            for (int l = 0; l < NC_SUM_LANES; l++) {
                float d = xr[j + l] - mu;
                p[l] = fmaf(d, d, p[l]);
            }
        float ss = nc_k_tree_add(p);
        for (; j < N; j++) {
            float d = xr[j] - mu;
            ss = fmaf(d, d, ss);
        }
        float rs = nc_k_rstd(ss, N, eps);
        mean[r] = mu;
        rstd[r] = rs;
        for (j = 0; j < N; j++) yr[j] = fmaf((xr[j] - mu) * rs, g[j], b[j]);
    }
}

/* dx, dy, x are (M,N), dg, db, g are (N), mean, rstd are (M) */
void nc_layernorm_backward_ref(float *dx, float *dg, float *db, const float *dy, const float *x,
                               const float *g, const float *mean, const float *rstd, size_t M,
                               size_t N)
{
    for (size_t r = 0; r < M; r++) {
        const float *dyr = dy + r * N, *xr = x + r * N;
        float *dxr = dx + r * N;
        float mu = mean[r], rs = rstd[r];
        /* s1 = sum16(dy*g); s2 = sum16 of (dy*g)*xhat with fma; one pass, two sets of partials */
        float p1[NC_SUM_LANES] = {0}, p2[NC_SUM_LANES] = {0};
        size_t body = N - N % NC_SUM_LANES, j = 0;
        for (; j < body; j += NC_SUM_LANES)
            for (int l = 0; l < NC_SUM_LANES; l++) {
                float dxh = dyr[j + l] * g[j + l];
                float xh = (xr[j + l] - mu) * rs;
                p1[l] = p1[l] + dxh;
                p2[l] = fmaf(dxh, xh, p2[l]);
            }
        float s1 = nc_k_tree_add(p1), s2 = nc_k_tree_add(p2);
        for (; j < N; j++) {
            float dxh = dyr[j] * g[j];
            float xh = (xr[j] - mu) * rs;
            s1 = s1 + dxh;
            s2 = fmaf(dxh, xh, s2);
        }
        float m1 = nc_k_mean(s1, N), negm2 = -nc_k_mean(s2, N);
        for (j = 0; j < N; j++) {
            float dyj = dyr[j];
            float xh = (xr[j] - mu) * rs;
            dxr[j] = nc_k_ln_dx(dyj, xh, g[j], m1, negm2, rs);
            dg[j] = fmaf(dyj, xh, dg[j]);
            db[j] = db[j] + dyj;
        }
    }
}

/* ---- gather / scatter ---------------------------------------------------------------------- */

/* out is (M,N), table is (V,N), idx is (M) */
nc_status nc_gather_rows_ref(float *out, const float *table, const uint32_t *idx, size_t M,
                             size_t N, size_t V)
{
    for (size_t r = 0; r < M; r++)
        if (idx[r] >= V) return NC_ERR_ARG;
    for (size_t r = 0; r < M; r++)
        if (N) memcpy(out + r * N, table + (size_t)idx[r] * N, N * sizeof(float));
    return NC_OK;
}

/* table_grad is (V,N), grad is (M,N), idx is (M) */
nc_status nc_scatter_add_rows_ref(float *table_grad, const float *grad, const uint32_t *idx,
                                  size_t M, size_t N, size_t V)
{
    for (size_t r = 0; r < M; r++)
        if (idx[r] >= V) return NC_ERR_ARG;
    for (size_t r = 0; r < M; r++) {
        float *t = table_grad + (size_t)idx[r] * N;
        const float *gr = grad + r * N;
        for (size_t j = 0; j < N; j++) t[j] = t[j] + gr[j];
    }
    return NC_OK;
}

/* ---- windowed multi-head attention ------------------------------------------------------------ */
/* One (stream s, head h) unit. Query step t reads key/value positions t .. t+mem (row pos*S + s);
 * with W = mem + 1, P = mem + T:
 *   dot_j   = fma chain over d = 0 .. dk-1 in increasing d from +0 of q[d] * k_{t+j}[d]
 *   score_j = (dot_j * scale) + bias[h*W + j]                 (two roundings, no fma)
 *   p       = softmax over the W scores, composed as nc_softmax_forward
 *   out[d]  = fma chain over j = 0 .. W-1 in increasing j from +0 of p_j * v_{t+j}[d]
 * The scratch kt of the forward holds the unit's K^T [d][pos] at (s*H + h) * dk * P, the
 * scratch vt of the backward its V^T at (s*H + h) * dv * P (exact copies the SIMD kernels read). */

/* out (T*S,H*dv), p (T*S,H*W), kt (P*S,H*dk), q (T*S,H*dk), k (P*S,H*dk), v (P*S,H*dv),
 * bias (H*W) */
void nc_attn_fwd_ref(float *out, float *p, float *kt, const float *q, const float *k,
                     const float *v, const float *bias, float scale, const nc_attn_dims *d,
                     size_t s, size_t h)
{
    size_t S = d->S, H = d->heads, dk = d->dk, dv = d->dv, W = d->mem + 1, P = d->mem + d->T;
    float *ktu = kt + (s * H + h) * dk * P;
    for (size_t pos = 0; pos < P; pos++)
        for (size_t e = 0; e < dk; e++) ktu[e * P + pos] = k[(pos * S + s) * H * dk + h * dk + e];
    for (size_t t = 0; t < d->T; t++) {
        const float *qr = q + (t * S + s) * H * dk + h * dk;
        float *pr = p + (t * S + s) * H * W + h * W, m, sum;
        for (size_t j = 0; j < W; j++) {
            const float *kr = k + ((t + j) * S + s) * H * dk + h * dk;
            float acc = 0.0f;
            for (size_t e = 0; e < dk; e++) acc = fmaf(qr[e], kr[e], acc);
            float x = acc * scale;
            pr[j] = x + bias[h * W + j];
        }
        nc_row_max_ref(&m, pr, 1, W);
        nc_row_sub_ref(pr, pr, &m, 1, W);
        nc_vexp_ref(pr, pr, W);
        nc_row_sum_ref(&sum, pr, 1, W);
        nc_row_div_ref(pr, pr, &sum, 1, W);
        float *orow = out + (t * S + s) * H * dv + h * dv;
        for (size_t e = 0; e < dv; e++) {
            float acc = 0.0f;
            for (size_t j = 0; j < W; j++)
                acc = fmaf(pr[j], v[((t + j) * S + s) * H * dv + h * dv + e], acc);
            orow[e] = acc;
        }
    }
}

/* ds (T*S,H*W), vt (P*S,H*dv), dout (T*S,H*dv), p (T*S,H*W), v (P*S,H*dv). Per query step:
 *   dp_j = fma chain over d increasing from +0 of dout[d] * v_{t+j}[d]
 *   ds   = p * (dp - row_dot(dp, p)), composed as nc_softmax_backward */
void nc_attn_bwd_p_ref(float *ds, float *vt, const float *dout, const float *p, const float *v,
                       const nc_attn_dims *d, size_t s, size_t h)
{
    size_t S = d->S, H = d->heads, dv = d->dv, W = d->mem + 1, P = d->mem + d->T;
    float *vtu = vt + (s * H + h) * dv * P;
    for (size_t pos = 0; pos < P; pos++)
        for (size_t e = 0; e < dv; e++) vtu[e * P + pos] = v[(pos * S + s) * H * dv + h * dv + e];
    for (size_t t = 0; t < d->T; t++) {
        const float *dor = dout + (t * S + s) * H * dv + h * dv;
        const float *pr = p + (t * S + s) * H * W + h * W;
        float *dr = ds + (t * S + s) * H * W + h * W, dot;
        for (size_t j = 0; j < W; j++) {
            float acc = 0.0f;
            for (size_t e = 0; e < dv; e++)
                acc = fmaf(dor[e], v[((t + j) * S + s) * H * dv + h * dv + e], acc);
            dr[j] = acc;
        }
        nc_row_dot_ref(&dot, dr, pr, 1, W);
        nc_row_sub_ref(dr, dr, &dot, 1, W);
        nc_mul_ref(dr, dr, pr, W);
    }
}

/* dq (T*S,H*dk), dk (P*S,H*dk), dv (P*S,H*dv); ds, p (T*S,H*W), q, k, dout as in the forward.
 * With g_j = ds_j * scale (rounded):
 *   dq_t[d]      = fma chain over j increasing of g_j * k_{t+j}[d], from +0 (or the old dq)
 *   dk_{pos}[d]  = fma chain over (t increasing, then j increasing) with t + j = pos of
 *                  g_j(t) * q_t[d], from +0 (or the old dk)
 *   dv_{pos}[d]  = the same chain of p_j(t) * dout_t[d] */
void nc_attn_bwd_qkv_ref(float *dq, float *dk, float *dv, const float *ds, const float *p,
                         const float *q, const float *k, const float *dout, float scale,
                         const nc_attn_dims *d, size_t s, size_t h, unsigned acc)
{
    size_t S = d->S, H = d->heads, Dk = d->dk, Dv = d->dv, W = d->mem + 1, P = d->mem + d->T;
    if (!(acc & 2))
        for (size_t pos = 0; pos < P; pos++)
            memset(dk + (pos * S + s) * H * Dk + h * Dk, 0, Dk * sizeof *dk);
    if (!(acc & 4))
        for (size_t pos = 0; pos < P; pos++)
            memset(dv + (pos * S + s) * H * Dv + h * Dv, 0, Dv * sizeof *dv);
    for (size_t t = 0; t < d->T; t++) {
        const float *qr = q + (t * S + s) * H * Dk + h * Dk;
        const float *dor = dout + (t * S + s) * H * Dv + h * Dv;
        const float *dr = ds + (t * S + s) * H * W + h * W, *pr = p + (t * S + s) * H * W + h * W;
        float *dqr = dq + (t * S + s) * H * Dk + h * Dk;
        for (size_t e = 0; e < Dk; e++) {
            float a = (acc & 1) ? dqr[e] : 0.0f;
            for (size_t j = 0; j < W; j++)
                a = fmaf(dr[j] * scale, k[((t + j) * S + s) * H * Dk + h * Dk + e], a);
            dqr[e] = a;
        }
        for (size_t j = 0; j < W; j++) {
            float g = dr[j] * scale;
            float *dkr = dk + ((t + j) * S + s) * H * Dk + h * Dk;
            float *dvr = dv + ((t + j) * S + s) * H * Dv + h * Dv;
            for (size_t e = 0; e < Dk; e++) dkr[e] = fmaf(g, qr[e], dkr[e]);
            for (size_t e = 0; e < Dv; e++) dvr[e] = fmaf(pr[j], dor[e], dvr[e]);
        }
    }
}
