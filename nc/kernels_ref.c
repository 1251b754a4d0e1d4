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
