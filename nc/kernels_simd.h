/* SIMD kernel bodies, written once and compiled once per ISA (kernels_avx2.c, kernels_avx512.c).
 *
 * The includer defines a 16-float vector type `v16` and its operations (below), NC_TARGET (the
 * target attribute put on every function) and NC_SUFFIX (_avx2 or _avx512). A v16 holds exactly
 * the 16 canonical partial sums of a row reduction: lane l is p[l]. AVX-512 keeps it in one zmm
 * register; AVX2 in two ymm registers, lanes 0-7 and 8-15. So the loops below accumulate element
 * j into p[j % 16] exactly as kernels_ref.c does, whatever the register width, and v16_hsum
 * applies the same pairwise tree (p[l] += p[l+8], then +4, +2, +1).
 *
 * Element-wise loops run 16 floats at a time and finish the last n % 16 elements with the scalar
 * helpers of kernels_internal.h, the very functions the reference uses. Per-row scalars (rstd,
 * mean, k) are computed by those helpers too. Each vector formula is a line-for-line copy of its
 * scalar helper, with v16_fma where the helper has fmaf and nowhere else.
 *
 * Required from the includer (all lane-wise unless stated):
 *   v16 v16_load(const float *p), void v16_store(float *p, v16 v)  (unaligned)
 *   v16 v16_set1(float), v16_zero(void), v16_add/sub/mul/div(a, b)
 *   v16 v16_fma(a, b, c)           a*b + c rounded once
 *   v16 v16_sqrt(a)                IEEE square root (SQRTPS, correctly rounded like sqrtf)
 *   v16 v16_min(a, b), v16_max(a, b)  MINPS/MAXPS semantics: a < b ? a : b, a > b ? a : b
 *   v16 v16_neg(a)                 sign flip (not 0 - a)
 *   v16 v16_select_lt(a, b, x, y)  a < b ? x : y
 *   float v16_hsum(v16), v16_hmax(v16)  the canonical tree over lanes 0..15 */

#define NC_CAT2(a, b) a##b
#define NC_CAT(a, b) NC_CAT2(a, b)
#define NC_FN(name) NC_CAT(name, NC_SUFFIX)

#define L NC_SUM_LANES

/* ---- element-wise ---------------------------------------------------------------------------- */

/* y, a, b are (n) */
NC_TARGET void NC_FN(nc_add)(float *y, const float *a, const float *b, size_t n)
{
    size_t k = 0;
    for (; k + L <= n; k += L) v16_store(y + k, v16_add(v16_load(a + k), v16_load(b + k)));
    for (; k < n; k++) y[k] = a[k] + b[k];
}

/* y, a, b are (n) */
NC_TARGET void NC_FN(nc_sub)(float *y, const float *a, const float *b, size_t n)
{
    size_t k = 0;
    for (; k + L <= n; k += L) v16_store(y + k, v16_sub(v16_load(a + k), v16_load(b + k)));
    for (; k < n; k++) y[k] = a[k] - b[k];
}

/* y, a, b are (n) */
NC_TARGET void NC_FN(nc_mul)(float *y, const float *a, const float *b, size_t n)
{
    size_t k = 0;
    for (; k + L <= n; k += L) v16_store(y + k, v16_mul(v16_load(a + k), v16_load(b + k)));
    for (; k < n; k++) y[k] = a[k] * b[k];
}

/* y, x are (n) */
NC_TARGET void NC_FN(nc_scale)(float *y, const float *x, float s, size_t n)
{
    v16 vs = v16_set1(s);
    size_t k = 0;
    for (; k + L <= n; k += L) v16_store(y + k, v16_mul(v16_load(x + k), vs));
    for (; k < n; k++) y[k] = x[k] * s;
}

/* y, x are (n) */
NC_TARGET void NC_FN(nc_axpy)(float *y, const float *x, float a, size_t n)
{
    v16 va = v16_set1(a);
    size_t k = 0;
    for (; k + L <= n; k += L) v16_store(y + k, v16_fma(va, v16_load(x + k), v16_load(y + k)));
    for (; k < n; k++) y[k] = fmaf(a, x[k], y[k]);
}

/* y, a, b, c are (n) */
NC_TARGET void NC_FN(nc_muladd)(float *y, const float *a, const float *b, const float *c,
                                size_t n)
{
    size_t k = 0;
    for (; k + L <= n; k += L)
        v16_store(y + k, v16_fma(v16_load(a + k), v16_load(b + k), v16_load(c + k)));
    for (; k < n; k++) y[k] = fmaf(a[k], b[k], c[k]);
}

/* y, a, b are (n) */
NC_TARGET void NC_FN(nc_min)(float *y, const float *a, const float *b, size_t n)
{
    size_t k = 0;
    for (; k + L <= n; k += L) v16_store(y + k, v16_min(v16_load(a + k), v16_load(b + k)));
    for (; k < n; k++) y[k] = nc_k_min(a[k], b[k]);
}

/* y, a, b are (n) */
NC_TARGET void NC_FN(nc_max)(float *y, const float *a, const float *b, size_t n)
{
    size_t k = 0;
    for (; k + L <= n; k += L) v16_store(y + k, v16_max(v16_load(a + k), v16_load(b + k)));
    for (; k < n; k++) y[k] = nc_k_max(a[k], b[k]);
}

/* y, x are (n) */
NC_TARGET void NC_FN(nc_clamp)(float *y, const float *x, float lo, float hi, size_t n)
{
    v16 vlo = v16_set1(lo), vhi = v16_set1(hi);
    size_t k = 0;
    for (; k + L <= n; k += L) v16_store(y + k, v16_min(v16_max(v16_load(x + k), vlo), vhi));
    for (; k < n; k++) y[k] = nc_k_min(nc_k_max(x[k], lo), hi);
}

/* p, v, grad are (n); m is (n) or NULL (beta1 = 0); mirrors nc_k_adam line for line */
NC_TARGET void NC_FN(nc_adam_update)(float *p, float *m, float *v, const float *grad, float lr,
                                     float beta1, float beta2, float c1, float c2, float eps,
                                     float clip, size_t n)
{
    float omb1 = 1.0f - beta1, omb2 = 1.0f - beta2;
    v16 vb1 = v16_set1(beta1), vomb1 = v16_set1(omb1), vb2 = v16_set1(beta2);
    v16 vomb2 = v16_set1(omb2), vc1 = v16_set1(c1), vc2 = v16_set1(c2), veps = v16_set1(eps);
    v16 vlr = v16_set1(lr), vlo = v16_set1(-clip), vhi = v16_set1(clip);
    int do_clip = clip > 0.0f;
    size_t k = 0;
    for (; k + L <= n; k += L) {
        v16 g = v16_load(grad + k);
        if (do_clip) g = v16_min(v16_max(g, vlo), vhi);
        v16 mn = g;
        if (m) {
            mn = v16_fma(vb1, v16_load(m + k), v16_mul(vomb1, g));
            v16_store(m + k, mn);
        }
        v16 vn = v16_fma(vb2, v16_load(v + k), v16_mul(vomb2, v16_mul(g, g)));
        v16_store(v + k, vn);
        v16 u = v16_div(v16_div(mn, vc1), v16_add(v16_sqrt(v16_div(vn, vc2)), veps));
        v16_store(p + k, v16_sub(v16_load(p + k), v16_mul(vlr, u)));
    }
    for (; k < n; k++)
        nc_k_adam(&p[k], m ? &m[k] : NULL, &v[k], grad[k], lr, beta1, omb1, beta2, omb2, c1, c2,
                  eps, clip);
}

/* c, h, c_prev, f, i, g, o are (n); mirrors nc_k_lstm_forward */
NC_TARGET void NC_FN(nc_lstm_cell_forward)(float *c, float *h, const float *c_prev,
                                           const float *f, const float *i, const float *g,
                                           const float *o, size_t n)
{
    v16 one = v16_set1(1.0f);
    size_t k = 0;
    for (; k + L <= n; k += L) {
        v16 vf = v16_load(f + k);
        v16 t = v16_min(v16_sub(one, vf), v16_load(i + k));
        v16 cn = v16_fma(v16_load(c_prev + k), vf, v16_mul(t, v16_load(g + k)));
        v16 hn = v16_mul(v16_load(o + k), cn);
        v16_store(c + k, cn);
        v16_store(h + k, hn);
    }
    for (; k < n; k++) nc_k_lstm_forward(&c[k], &h[k], c_prev[k], f[k], i[k], g[k], o[k]);
}

/* every array is (n); dc may be NULL (zero); mirrors nc_k_lstm_backward */
NC_TARGET void NC_FN(nc_lstm_cell_backward)(float *d_c_prev, float *d_f, float *d_i, float *d_g,
                                            float *d_o, const float *dh, const float *dc,
                                            const float *c_prev, const float *f, const float *i,
                                            const float *g, const float *o, const float *c,
                                            size_t n)
{
    v16 one = v16_set1(1.0f), zero = v16_zero();
    size_t k = 0;
    for (; k + L <= n; k += L) {
        v16 vf = v16_load(f + k), vi = v16_load(i + k), vdh = v16_load(dh + k);
        v16 omf = v16_sub(one, vf);
        v16 e = v16_fma(vdh, v16_load(o + k), dc ? v16_load(dc + k) : zero);
        v16 dt = v16_mul(e, v16_load(g + k));
        v16 dt_f = v16_select_lt(omf, vi, dt, zero);
        v16 dt_i = v16_select_lt(omf, vi, zero, dt);
        v16 r_o = v16_mul(vdh, v16_load(c + k));
        v16 r_g = v16_mul(e, v16_select_lt(omf, vi, omf, vi));
        v16 r_f = v16_fma(e, v16_load(c_prev + k), v16_neg(dt_f));
        v16 r_c = v16_mul(e, vf);
        /* all loads of this block are done: d_c_prev may be dc */
        v16_store(d_o + k, r_o);
        v16_store(d_g + k, r_g);
        v16_store(d_f + k, r_f);
        v16_store(d_i + k, dt_i);
        v16_store(d_c_prev + k, r_c);
    }
    for (; k < n; k++)
        nc_k_lstm_backward(&d_c_prev[k], &d_f[k], &d_i[k], &d_g[k], &d_o[k], dh[k],
                           dc ? dc[k] : 0.0f, c_prev[k], f[k], i[k], g[k], o[k], c[k]);
}

/* ---- row broadcasts ----------------------------------------------------------------------- */

/* y, x are (M,N), bias is (N) */
NC_TARGET void NC_FN(nc_add_bias)(float *y, const float *x, const float *bias, size_t M,
                                  size_t N)
{
    for (size_t r = 0; r < M; r++) {
        const float *xr = x + r * N;
        float *yr = y + r * N;
        size_t j = 0;
        for (; j + L <= N; j += L) v16_store(yr + j, v16_add(v16_load(xr + j), v16_load(bias + j)));
        for (; j < N; j++) yr[j] = xr[j] + bias[j];
    }
}

/* y, x are (M,N), s is (M) */
NC_TARGET void NC_FN(nc_row_sub)(float *y, const float *x, const float *s, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) {
        const float *xr = x + r * N;
        float *yr = y + r * N;
        float sr = s[r];
        v16 vs = v16_set1(sr);
        size_t j = 0;
        for (; j + L <= N; j += L) v16_store(yr + j, v16_sub(v16_load(xr + j), vs));
        for (; j < N; j++) yr[j] = xr[j] - sr;
    }
}

/* y, x are (M,N), s is (M) */
NC_TARGET void NC_FN(nc_row_scale)(float *y, const float *x, const float *s, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) {
        const float *xr = x + r * N;
        float *yr = y + r * N;
        float sr = s[r];
        v16 vs = v16_set1(sr);
        size_t j = 0;
        for (; j + L <= N; j += L) v16_store(yr + j, v16_mul(v16_load(xr + j), vs));
        for (; j < N; j++) yr[j] = xr[j] * sr;
    }
}

/* y, x are (M,N), s is (M) */
NC_TARGET void NC_FN(nc_row_div)(float *y, const float *x, const float *s, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) {
        const float *xr = x + r * N;
        float *yr = y + r * N;
        float sr = s[r];
        v16 vs = v16_set1(sr);
        size_t j = 0;
        for (; j + L <= N; j += L) v16_store(yr + j, v16_div(v16_load(xr + j), vs));
        for (; j < N; j++) yr[j] = xr[j] / sr;
    }
}

/* ---- the canonical row reductions (see kernels_ref.c) ---------------------------------------- */

/* x is (n) */
NC_TARGET static inline float sum16(const float *x, size_t n)
{
    v16 p = v16_zero();
    size_t body = n - n % L, j = 0;
    for (; j < body; j += L) p = v16_add(p, v16_load(x + j));
    float s = v16_hsum(p);
    for (; j < n; j++) s = s + x[j];
    return s;
}

/* a, b are (n) */
NC_TARGET static inline float dot16(const float *a, const float *b, size_t n)
{
    v16 p = v16_zero();
    size_t body = n - n % L, j = 0;
    for (; j < body; j += L) p = v16_fma(v16_load(a + j), v16_load(b + j), p);
    float s = v16_hsum(p);
    for (; j < n; j++) s = fmaf(a[j], b[j], s);
    return s;
}

/* x is (n) */
NC_TARGET static inline float max16(const float *x, size_t n)
{
    v16 p = v16_set1(-INFINITY);
    size_t body = n - n % L, j = 0;
    for (; j < body; j += L) p = v16_max(p, v16_load(x + j));
    float s = v16_hmax(p);
    for (; j < n; j++) s = nc_k_max(s, x[j]);
    return s;
}

/* y is (M), x is (M,N) */
NC_TARGET void NC_FN(nc_row_sum)(float *y, const float *x, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) y[r] = sum16(x + r * N, N);
}

/* y is (M), x is (M,N) */
NC_TARGET void NC_FN(nc_row_sumsq)(float *y, const float *x, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) y[r] = dot16(x + r * N, x + r * N, N);
}

/* y is (M), x is (M,N) */
NC_TARGET void NC_FN(nc_row_max)(float *y, const float *x, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) y[r] = max16(x + r * N, N);
}

/* y is (M), a, b are (M,N) */
NC_TARGET void NC_FN(nc_row_dot)(float *y, const float *a, const float *b, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) y[r] = dot16(a + r * N, b + r * N, N);
}

/* y is (N), x is (M,N): vectorised across columns, rows in increasing order per column */
NC_TARGET void NC_FN(nc_col_sum_acc)(float *y, const float *x, size_t M, size_t N)
{
    size_t j = 0;
    for (; j + L <= N; j += L) {
        v16 acc = v16_load(y + j);
        for (size_t r = 0; r < M; r++) acc = v16_add(acc, v16_load(x + r * N + j));
        v16_store(y + j, acc);
    }
    for (; j < N; j++) {
        float acc = y[j];
        for (size_t r = 0; r < M; r++) acc = acc + x[r * N + j];
        y[j] = acc;
    }
}

/* ---- normalisation ----------------------------------------------------------------------- */

/* y, x are (M,N), g is (N), rstd is (M) */
NC_TARGET void NC_FN(nc_rmsnorm_forward)(float *y, float *rstd, const float *x, const float *g,
                                         float eps, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) {
        const float *xr = x + r * N;
        float *yr = y + r * N;
        float rs = nc_k_rstd(dot16(xr, xr, N), N, eps);
        rstd[r] = rs;
        v16 vrs = v16_set1(rs);
        size_t j = 0;
        for (; j + L <= N; j += L)
            v16_store(yr + j, v16_mul(v16_mul(v16_load(xr + j), vrs), v16_load(g + j)));
        for (; j < N; j++) yr[j] = (xr[j] * rs) * g[j];
    }
}

/* dx, dy, x are (M,N), dg, g are (N), rstd is (M) */
NC_TARGET void NC_FN(nc_rmsnorm_backward)(float *dx, float *dg, const float *dy, const float *x,
                                          const float *g, const float *rstd, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) {
        const float *dyr = dy + r * N, *xr = x + r * N;
        float *dxr = dx + r * N;
        float rs = rstd[r];
        v16 p = v16_zero();
        size_t body = N - N % L, j = 0;
        for (; j < body; j += L)
            p = v16_fma(v16_mul(v16_load(dyr + j), v16_load(g + j)), v16_load(xr + j), p);
        float s = v16_hsum(p);
        for (; j < N; j++) s = fmaf(dyr[j] * g[j], xr[j], s);
        float negk = nc_k_rms_negk(s, rs, N);
        v16 vrs = v16_set1(rs), vnegk = v16_set1(negk);
        for (j = 0; j + L <= N; j += L) {
            v16 vdy = v16_load(dyr + j), vx = v16_load(xr + j);
            v16 vdx = v16_fma(vnegk, vx, v16_mul(v16_mul(vdy, v16_load(g + j)), vrs));
            v16 vdg = v16_fma(vdy, v16_mul(vx, vrs), v16_load(dg + j));
            v16_store(dxr + j, vdx);
            v16_store(dg + j, vdg);
        }
        for (; j < N; j++) {
            float dyj = dyr[j], xj = xr[j];
            dxr[j] = nc_k_rms_dx(dyj, xj, g[j], rs, negk);
            dg[j] = fmaf(dyj, xj * rs, dg[j]);
        }
    }
}

/* y, x are (M,N), g, b are (N), mean, rstd are (M) */
NC_TARGET void NC_FN(nc_layernorm_forward)(float *y, float *mean, float *rstd, const float *x,
                                           const float *g, const float *b, float eps, size_t M,
                                           size_t N)
{
    for (size_t r = 0; r < M; r++) {
        const float *xr = x + r * N;
        float *yr = y + r * N;
        float mu = nc_k_mean(sum16(xr, N), N);
        v16 vmu = v16_set1(mu);
        v16 p = v16_zero();
        size_t body = N - N % L, j = 0;
        for (; j < body; j += L) {
            v16 d = v16_sub(v16_load(xr + j), vmu);
            p = v16_fma(d, d, p);
        }
        float ss = v16_hsum(p);
        for (; j < N; j++) {
            float d = xr[j] - mu;
            ss = fmaf(d, d, ss);
        }
        float rs = nc_k_rstd(ss, N, eps);
        mean[r] = mu;
        rstd[r] = rs;
        v16 vrs = v16_set1(rs);
        for (j = 0; j + L <= N; j += L) {
            v16 xh = v16_mul(v16_sub(v16_load(xr + j), vmu), vrs);
            v16_store(yr + j, v16_fma(xh, v16_load(g + j), v16_load(b + j)));
        }
        for (; j < N; j++) yr[j] = fmaf((xr[j] - mu) * rs, g[j], b[j]);
    }
}

/* dx, dy, x are (M,N), dg, db, g are (N), mean, rstd are (M) */
NC_TARGET void NC_FN(nc_layernorm_backward)(float *dx, float *dg, float *db, const float *dy,
                                            const float *x, const float *g, const float *mean,
                                            const float *rstd, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++) {
        const float *dyr = dy + r * N, *xr = x + r * N;
        float *dxr = dx + r * N;
        float mu = mean[r], rs = rstd[r];
        v16 vmu = v16_set1(mu), vrs = v16_set1(rs);
        v16 p1 = v16_zero(), p2 = v16_zero();
        size_t body = N - N % L, j = 0;
        for (; j < body; j += L) {
            v16 dxh = v16_mul(v16_load(dyr + j), v16_load(g + j));
            v16 xh = v16_mul(v16_sub(v16_load(xr + j), vmu), vrs);
            p1 = v16_add(p1, dxh);
            p2 = v16_fma(dxh, xh, p2);
        }
        float s1 = v16_hsum(p1), s2 = v16_hsum(p2);
        for (; j < N; j++) {
            float dxh = dyr[j] * g[j];
            float xh = (xr[j] - mu) * rs;
            s1 = s1 + dxh;
            s2 = fmaf(dxh, xh, s2);
        }
        float m1 = nc_k_mean(s1, N), negm2 = -nc_k_mean(s2, N);
        v16 vm1 = v16_set1(m1), vnegm2 = v16_set1(negm2);
        for (j = 0; j + L <= N; j += L) {
            v16 vdy = v16_load(dyr + j);
            v16 xh = v16_mul(v16_sub(v16_load(xr + j), vmu), vrs);
            v16 t = v16_fma(vnegm2, xh, v16_sub(v16_mul(vdy, v16_load(g + j)), vm1));
            v16 vdg = v16_fma(vdy, xh, v16_load(dg + j));
            v16 vdb = v16_add(v16_load(db + j), vdy);
            v16_store(dxr + j, v16_mul(t, vrs));
            v16_store(dg + j, vdg);
            v16_store(db + j, vdb);
        }
        for (; j < N; j++) {
            float dyj = dyr[j];
            float xh = (xr[j] - mu) * rs;
            dxr[j] = nc_k_ln_dx(dyj, xh, g[j], m1, negm2, rs);
            dg[j] = fmaf(dyj, xh, dg[j]);
            db[j] = db[j] + dyj;
        }
    }
}

/* ---- gather / scatter ---------------------------------------------------------------------- */

/* out is (M,N), table is (V,N), idx is (M); a copy, so bit-exact on any path */
NC_TARGET nc_status NC_FN(nc_gather_rows)(float *out, const float *table, const uint32_t *idx,
                                          size_t M, size_t N, size_t V)
{
    for (size_t r = 0; r < M; r++)
        if (idx[r] >= V) return NC_ERR_ARG;
    for (size_t r = 0; r < M; r++) {
        const float *t = table + (size_t)idx[r] * N;
        float *o = out + r * N;
        size_t j = 0;
        for (; j + L <= N; j += L) v16_store(o + j, v16_load(t + j));
        for (; j < N; j++) o[j] = t[j];
    }
    return NC_OK;
}

/* table_grad is (V,N), grad is (M,N), idx is (M): rows strictly in increasing r, never reordered
 * or grouped by index, so repeated indices accumulate in the same order however rows are batched */
NC_TARGET nc_status NC_FN(nc_scatter_add_rows)(float *table_grad, const float *grad,
                                               const uint32_t *idx, size_t M, size_t N, size_t V)
{
    for (size_t r = 0; r < M; r++)
        if (idx[r] >= V) return NC_ERR_ARG;
    for (size_t r = 0; r < M; r++) {
        float *t = table_grad + (size_t)idx[r] * N;
        const float *gr = grad + r * N;
        size_t j = 0;
        for (; j + L <= N; j += L) v16_store(t + j, v16_add(v16_load(t + j), v16_load(gr + j)));
        for (; j < N; j++) t[j] = t[j] + gr[j];
    }
    return NC_OK;
}

/* ---- windowed multi-head attention (canonical semantics: kernels_ref.c) ---------------------- */
/* Dots against the window are vectorised across the window positions j, reading a transposed
 * copy xt[e][pos] so that 16 consecutive positions are one load: each lane is one dot's fma chain
 * in increasing e, exactly the reference chain. When W is not a multiple of 16 the last block
 * starts at W-16 and overlaps the one before: overlapping lanes recompute the same chains and
 * store the same bits, so there is no scalar tail (W < 16 runs the scalar chains). Sums over the
 * window (out, dq) are vectorised across the feature index e, each lane one element's chain over
 * j in increasing j; four query steps run together so that eight independent fma chains hide the
 * fma latency. dk and dv are chains over the query steps reaching a position, in increasing t as
 * in the reference, four positions at a time (attn_pos_sum). The softmax pieces are this ISA's
 * row kernels, which give the reference bits. */

#define NC_ATTN_CHUNK 4096 /* floats of each stack copy of rows (16 KiB) */

/* dst[t][j] = fma chain over e < n of a_t[e] * xt[e*P + t + j], from +0, for t < T, j < W;
 * a_t = a + t*lda, dst row t = dst + t*ldd */
NC_TARGET static void NC_FN(attn_window_dots)(float *dst, size_t ldd, const float *a, size_t lda,
                                              const float *xt, size_t P, size_t n, size_t T,
                                              size_t W)
{
    size_t t = 0;
    if (W >= L) {
        for (; t + 4 <= T; t += 4) {
            const float *a0 = a + t * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
            for (size_t j = 0; j < W; j += L) {
                if (j + L > W)
                    j = W - L; /* the overlapping last block */
                v16 s0 = v16_zero(), s1 = v16_zero(), s2 = v16_zero(), s3 = v16_zero();
                for (size_t e = 0; e < n; e++) {
                    const float *x = xt + e * P + t + j;
                    s0 = v16_fma(v16_set1(a0[e]), v16_load(x), s0);
                    s1 = v16_fma(v16_set1(a1[e]), v16_load(x + 1), s1);
                    s2 = v16_fma(v16_set1(a2[e]), v16_load(x + 2), s2);
                    s3 = v16_fma(v16_set1(a3[e]), v16_load(x + 3), s3);
                }
                v16_store(dst + t * ldd + j, s0);
                v16_store(dst + (t + 1) * ldd + j, s1);
                v16_store(dst + (t + 2) * ldd + j, s2);
                v16_store(dst + (t + 3) * ldd + j, s3);
            }
        }
        for (; t < T; t++) { /* single steps (the decoder's T = 1): two window blocks at once */
            const float *a0 = a + t * lda;
            size_t nb = (W + L - 1) / L; /* blocks; the last one starts at W - L */
            for (size_t b = 0; b < nb; b += 2) {
                size_t j0 = b * L < W - L ? b * L : W - L;
                size_t j1 = (b + 1) * L < W - L ? (b + 1) * L : W - L;
                v16 s0 = v16_zero(), s1 = v16_zero();
                for (size_t e = 0; e < n; e++) {
                    v16 ae = v16_set1(a0[e]);
                    s0 = v16_fma(ae, v16_load(xt + e * P + t + j0), s0);
                    s1 = v16_fma(ae, v16_load(xt + e * P + t + j1), s1);
                }
                v16_store(dst + t * ldd + j0, s0);
                if (b + 1 < nb)
                    v16_store(dst + t * ldd + j1, s1);
            }
        }
    }
    for (; t < T; t++)
        for (size_t j = 0; j < W; j++) {
            float acc = 0.0f;
            for (size_t e = 0; e < n; e++) acc = fmaf(a[t * lda + e], xt[e * P + t + j], acc);
            dst[t * ldd + j] = acc;
        }
}

/* y_t[e] = fma chain over j < W in increasing j of c_t[j] * x_{t+j}[e], c_t[j] = w_t[j] (or
 * w_t[j] * scale rounded, when scaled), starting from +0 (or from y_t[e], when acc); for t < T,
 * e < n; w_t = w + t*ldw, y_t = y + t*ldy, x_pos = x + pos*ldx */
NC_TARGET static void NC_FN(attn_window_sum)(float *y, size_t ldy, const float *w, size_t ldw,
                                             const float *x, size_t ldx, size_t n, size_t T,
                                             size_t W, int scaled, float scale, int acc)
{
    /* rows of one unit lie S*H*n floats apart; a contiguous copy (exact) avoids cache conflicts */
    float xc[NC_ATTN_CHUNK];
    if (T >= 4 && (T + W - 1) * n <= NC_ATTN_CHUNK) { /* worth it when rows are read again */
        for (size_t pos = 0; pos < T + W - 1; pos++)
            memcpy(xc + pos * n, x + pos * ldx, n * sizeof *xc);
        x = xc;
        ldx = n;
    }
    size_t t = 0;
    for (; t + 4 <= T; t += 4) {
        const float *w0 = w + t * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        float *y0 = y + t * ldy, *y1 = y0 + ldy, *y2 = y1 + ldy, *y3 = y2 + ldy;
        for (size_t e = 0; e + L <= n; e += L) {
            v16 s0 = acc ? v16_load(y0 + e) : v16_zero(), s1 = acc ? v16_load(y1 + e) : v16_zero();
            v16 s2 = acc ? v16_load(y2 + e) : v16_zero(), s3 = acc ? v16_load(y3 + e) : v16_zero();
            for (size_t j = 0; j < W; j++) {
                const float *xr = x + (t + j) * ldx + e;
                float c0 = w0[j], c1 = w1[j], c2 = w2[j], c3 = w3[j];
                if (scaled) {
                    c0 = c0 * scale, c1 = c1 * scale;
                    c2 = c2 * scale, c3 = c3 * scale;
                }
                s0 = v16_fma(v16_set1(c0), v16_load(xr), s0);
                s1 = v16_fma(v16_set1(c1), v16_load(xr + ldx), s1);
                s2 = v16_fma(v16_set1(c2), v16_load(xr + 2 * ldx), s2);
                s3 = v16_fma(v16_set1(c3), v16_load(xr + 3 * ldx), s3);
            }
            v16_store(y0 + e, s0);
            v16_store(y1 + e, s1);
            v16_store(y2 + e, s2);
            v16_store(y3 + e, s3);
        }
    }
    for (; t < T; t++) { /* single steps (the decoder's T = 1): two feature blocks at once */
        const float *w0 = w + t * ldw;
        float *y0 = y + t * ldy;
        size_t e = 0;
        for (; e + 2 * L <= n; e += 2 * L) {
            v16 s0 = acc ? v16_load(y0 + e) : v16_zero();
            v16 s1 = acc ? v16_load(y0 + e + L) : v16_zero();
            for (size_t j = 0; j < W; j++) {
                v16 c0 = v16_set1(scaled ? w0[j] * scale : w0[j]);
                const float *xr = x + (t + j) * ldx + e;
                s0 = v16_fma(c0, v16_load(xr), s0);
                s1 = v16_fma(c0, v16_load(xr + L), s1);
            }
            v16_store(y0 + e, s0);
            v16_store(y0 + e + L, s1);
        }
        for (; e + L <= n; e += L) {
            v16 s0 = acc ? v16_load(y0 + e) : v16_zero();
            for (size_t j = 0; j < W; j++) {
                float c0 = scaled ? w0[j] * scale : w0[j];
                s0 = v16_fma(v16_set1(c0), v16_load(x + (t + j) * ldx + e), s0);
            }
            v16_store(y0 + e, s0);
        }
    }
    for (t = 0; t < T; t++) /* the feature tail, n % 16 */
        for (size_t e = n - n % L; e < n; e++) {
            float s0 = acc ? y[t * ldy + e] : 0.0f;
            for (size_t j = 0; j < W; j++) {
                float c0 = scaled ? w[t * ldw + j] * scale : w[t * ldw + j];
                s0 = fmaf(c0, x[(t + j) * ldx + e], s0);
            }
            y[t * ldy + e] = s0;
        }
}

#ifndef NC_ATTN_TRANSPOSE
#define NC_ATTN_TRANSPOSE
/* t (n, P) = the transpose of the P rows of n floats at x, x + ldx, ...: row by row of t, so the
 * stores are sequential (strided stores made this copy most of a one-step attention's time). */
static inline void attn_transpose(float *t, const float *x, size_t ldx, size_t P, size_t n)
{
    for (size_t e = 0; e < n; e++)
        for (size_t pos = 0; pos < P; pos++) t[e * P + pos] = x[pos * ldx + e];
}
#endif

/* out (T*S,H*dv), p (T*S,H*W), kt (P*S,H*dk), q (T*S,H*dk), k (P*S,H*dk), v (P*S,H*dv),
 * bias (H*W) */
NC_TARGET void NC_FN(nc_attn_fwd)(float *out, float *p, float *kt0, const float *q,
                                  const float *k, const float *v, const float *bias, float scale,
                                  const nc_attn_dims *d, size_t s, size_t h)
{
    size_t S = d->S, H = d->heads, dk = d->dk, dv = d->dv, W = d->mem + 1, P = d->mem + d->T;
    float *kt = kt0 + (s * H + h) * dk * P;
    attn_transpose(kt, k + s * H * dk + h * dk, S * H * dk, P, dk);
    float *p0 = p + s * H * W + h * W;
    size_t ldp = S * H * W;
    NC_FN(attn_window_dots)(p0, ldp, q + s * H * dk + h * dk, S * H * dk, kt, P, dk, d->T, W);
    v16 vscale = v16_set1(scale);
    for (size_t t = 0; t < d->T; t++) {
        float *pr = p0 + t * ldp, m, sum;
        size_t j = 0;
        for (; j + L <= W; j += L) {
            v16 x = v16_mul(v16_load(pr + j), vscale);
            v16_store(pr + j, v16_add(x, v16_load(bias + h * W + j)));
        }
        for (; j < W; j++) {
            float x = pr[j] * scale;
            pr[j] = x + bias[h * W + j];
        }
        NC_FN(nc_row_max)(&m, pr, 1, W);
        NC_FN(nc_row_sub)(pr, pr, &m, 1, W);
        NC_FN(nc_vexp)(pr, pr, W);
        NC_FN(nc_row_sum)(&sum, pr, 1, W);
        NC_FN(nc_row_div)(pr, pr, &sum, 1, W);
    }
    NC_FN(attn_window_sum)(out + s * H * dv + h * dv, S * H * dv, p0, ldp, v + s * H * dv + h * dv,
                           S * H * dv, dv, d->T, W, 0, 0.0f, 0);
}

/* ds (T*S,H*W), vt (P*S,H*dv), dout (T*S,H*dv), p (T*S,H*W), v (P*S,H*dv) */
NC_TARGET void NC_FN(nc_attn_bwd_p)(float *ds, float *vt0, const float *dout, const float *p,
                                    const float *v, const nc_attn_dims *d, size_t s, size_t h)
{
    size_t S = d->S, H = d->heads, dv = d->dv, W = d->mem + 1, P = d->mem + d->T;
    float *vt = vt0 + (s * H + h) * dv * P;
    attn_transpose(vt, v + s * H * dv + h * dv, S * H * dv, P, dv);
    size_t ldp = S * H * W;
    float *d0 = ds + s * H * W + h * W;
    NC_FN(attn_window_dots)(d0, ldp, dout + s * H * dv + h * dv, S * H * dv, vt, P, dv, d->T, W);
    for (size_t t = 0; t < d->T; t++) {
        const float *pr = p + t * ldp + s * H * W + h * W;
        float *dr = d0 + t * ldp, dot;
        NC_FN(nc_row_dot)(&dot, dr, pr, 1, W);
        NC_FN(nc_row_sub)(dr, dr, &dot, 1, W);
        NC_FN(nc_mul)(dr, dr, pr, W);
    }
}

/* y_pos[e] = fma chain over the query steps t with 0 <= pos - t < W, in increasing t, of
 * c_t[pos - t] * x_t[e], c_t[j] = w_t[j] (or w_t[j] * scale rounded, when scaled), from +0 (or
 * from y_pos[e], when acc); for pos < T + W - 1, e < n; w_t = w + t*ldw, x_t = x + t*ldx,
 * y_pos = y + pos*ldy. Four positions run together: one load of x_t feeds four chains, and
 * every chain still takes its terms in increasing t (a term that does not belong to a chain is
 * skipped, never added as zero, which could turn a -0 into +0). */
NC_TARGET static void NC_FN(attn_pos_sum)(float *y, size_t ldy, const float *w, size_t ldw,
                                          const float *x, size_t ldx, size_t n, size_t T,
                                          size_t W, int scaled, float scale, int acc)
{
    float xc[NC_ATTN_CHUNK];
    if (T * n <= NC_ATTN_CHUNK) { /* contiguous copy: exact, and no cache conflicts */
        for (size_t t = 0; t < T; t++) memcpy(xc + t * n, x + t * ldx, n * sizeof *xc);
        x = xc;
        ldx = n;
    }
#define NC_ATTN_COEF(t, j) (scaled ? w[(t) * ldw + (j)] * scale : w[(t) * ldw + (j)])
    size_t P = T + W - 1, pos = 0;
    for (; pos + 4 <= P; pos += 4) {
        size_t tlo = pos + 1 >= W ? pos + 1 - W : 0, thi = pos + 3 < T - 1 ? pos + 3 : T - 1;
        float *y0 = y + pos * ldy, *y1 = y0 + ldy, *y2 = y1 + ldy, *y3 = y2 + ldy;
        size_t e = 0;
        for (; e + L <= n; e += L) {
            v16 s0 = acc ? v16_load(y0 + e) : v16_zero(), s1 = acc ? v16_load(y1 + e) : v16_zero();
            v16 s2 = acc ? v16_load(y2 + e) : v16_zero(), s3 = acc ? v16_load(y3 + e) : v16_zero();
            for (size_t t = tlo; t <= thi; t++) {
                v16 xv = v16_load(x + t * ldx + e);
                if (t <= pos && pos - t < W)
                    s0 = v16_fma(v16_set1(NC_ATTN_COEF(t, pos - t)), xv, s0);
                if (t <= pos + 1 && pos + 1 - t < W)
                    s1 = v16_fma(v16_set1(NC_ATTN_COEF(t, pos + 1 - t)), xv, s1);
                if (t <= pos + 2 && pos + 2 - t < W)
                    s2 = v16_fma(v16_set1(NC_ATTN_COEF(t, pos + 2 - t)), xv, s2);
                if (pos + 3 - t < W)
                    s3 = v16_fma(v16_set1(NC_ATTN_COEF(t, pos + 3 - t)), xv, s3);
            }
            v16_store(y0 + e, s0);
            v16_store(y1 + e, s1);
            v16_store(y2 + e, s2);
            v16_store(y3 + e, s3);
        }
    }
    for (; pos < P; pos++) {
        size_t tlo = pos + 1 >= W ? pos + 1 - W : 0, thi = pos < T - 1 ? pos : T - 1;
        float *y0 = y + pos * ldy;
        for (size_t e = 0; e + L <= n; e += L) {
            v16 s0 = acc ? v16_load(y0 + e) : v16_zero();
            for (size_t t = tlo; t <= thi; t++)
                s0 = v16_fma(v16_set1(NC_ATTN_COEF(t, pos - t)), v16_load(x + t * ldx + e), s0);
            v16_store(y0 + e, s0);
        }
    }
    for (pos = 0; pos < P; pos++) { /* the feature tail, n % 16 */
        size_t tlo = pos + 1 >= W ? pos + 1 - W : 0, thi = pos < T - 1 ? pos : T - 1;
        for (size_t e = n - n % L; e < n; e++) {
            float s0 = acc ? y[pos * ldy + e] : 0.0f;
            for (size_t t = tlo; t <= thi; t++)
                s0 = fmaf(NC_ATTN_COEF(t, pos - t), x[t * ldx + e], s0);
            y[pos * ldy + e] = s0;
        }
    }
#undef NC_ATTN_COEF
}

/* dq (T*S,H*dk), dk (P*S,H*dk), dv (P*S,H*dv); ds, p (T*S,H*W); q, k, dout as in the forward */
NC_TARGET void NC_FN(nc_attn_bwd_qkv)(float *dq, float *dk, float *dv, const float *ds,
                                      const float *p, const float *q, const float *k,
                                      const float *dout, float scale, const nc_attn_dims *d,
                                      size_t s, size_t h, unsigned acc)
{
    size_t S = d->S, H = d->heads, Dk = d->dk, Dv = d->dv, W = d->mem + 1;
    size_t ldw = S * H * W;
    const float *w0 = ds + s * H * W + h * W, *p0 = p + s * H * W + h * W;
    NC_FN(attn_window_sum)(dq + s * H * Dk + h * Dk, S * H * Dk, w0, ldw, k + s * H * Dk + h * Dk,
                           S * H * Dk, Dk, d->T, W, 1, scale, (int)(acc & 1));
    NC_FN(attn_pos_sum)(dk + s * H * Dk + h * Dk, S * H * Dk, w0, ldw, q + s * H * Dk + h * Dk,
                        S * H * Dk, Dk, d->T, W, 1, scale, (int)((acc >> 1) & 1));
    NC_FN(attn_pos_sum)(dv + s * H * Dv + h * Dv, S * H * Dv, p0, ldw, dout + s * H * Dv + h * Dv,
                        S * H * Dv, Dv, d->T, W, 0, 0.0f, (int)((acc >> 2) & 1));
}

#undef L
