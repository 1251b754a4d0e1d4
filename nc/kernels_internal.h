/* Scalar building blocks shared by the reference kernels and the scalar tails of the SIMD ones.
 *
 * Every formula that a kernel applies per element or per row lives here once. kernels_ref.c
 * loops over these; kernels_simd.h writes the same formula with 16-lane vectors and calls these
 * for the tail elements, so a tail can never disagree with the reference. The vector form of
 * each formula must use the same operations in the same order, with fma at exactly the places
 * written here (tests/test_kernels.c compares all variants with memcmp). */
#ifndef NC_KERNELS_INTERNAL_H
#define NC_KERNELS_INTERNAL_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

/* Every float operation must round to float at once: x87 (FLT_EVAL_METHOD 2) would keep extra
 * precision in intermediates and give other bits. */
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "nc kernels need FLT_EVAL_METHOD == 0 (on 32-bit x86: -msse2 -mfpmath=sse)"
#endif

/* No fusing of a*b+c behind our back. GCC ignores (and warns about) the standard pragma, so for
 * GCC this rests on -ffp-contract=off from CMakeLists.txt; the golden hash in
 * tests/test_kernels.c fails on a build without it (seen with gnu11 on aarch64). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include "nc/nc.h"

/* Width of the canonical reduction: 16 interleaved partial sums per row. Part of the format:
 * changing it changes every prediction, so it is not a tuning knob. */
#define NC_SUM_LANES 16

/* min/max exactly as x86 MINPS/MAXPS: the second operand wins on ties (so min(+0,-0) = -0 and
 * min(-0,+0) = +0) and whenever either is NaN. fminf/fmaxf would differ from the SIMD paths. */
static inline float nc_k_min(float a, float b) { return a < b ? a : b; }
static inline float nc_k_max(float a, float b) { return a > b ? a : b; }

/* The fixed pairwise tree over the 16 partials: p[l] op= p[l+8], then +4, +2, +1. */
static inline float nc_k_tree_add(float p[NC_SUM_LANES])
{
    for (int l = 0; l < 8; l++) p[l] = p[l] + p[l + 8];
    for (int l = 0; l < 4; l++) p[l] = p[l] + p[l + 4];
    for (int l = 0; l < 2; l++) p[l] = p[l] + p[l + 2];
    return p[0] + p[1];
}

static inline float nc_k_tree_max(float p[NC_SUM_LANES])
{
    for (int l = 0; l < 8; l++) p[l] = nc_k_max(p[l], p[l + 8]);
    for (int l = 0; l < 4; l++) p[l] = nc_k_max(p[l], p[l + 4]);
    for (int l = 0; l < 2; l++) p[l] = nc_k_max(p[l], p[l + 2]);
    return nc_k_max(p[0], p[1]);
}

/* LSTM cell forward for one element (see nc.h). */
static inline void nc_k_lstm_forward(float *c, float *h, float c_prev, float f, float i, float g,
                                     float o)
{
    float t = nc_k_min(1.0f - f, i);
    float cn = fmaf(c_prev, f, t * g);
    *c = cn;
    *h = o * cn;
}

/* LSTM cell backward for one element (see nc.h). dc is 0 when the caller passed NULL. */
static inline void nc_k_lstm_backward(float *d_c_prev, float *d_f, float *d_i, float *d_g,
                                      float *d_o, float dh, float dc, float c_prev, float f,
                                      float i, float g, float o, float c)
{
    float omf = 1.0f - f;
    int s = omf < i; /* min(1 - f, i) took 1 - f */
    float e = fmaf(dh, o, dc);
    float dt = e * g;
    float dt_f = s ? dt : 0.0f;
    float dt_i = s ? 0.0f : dt;
    *d_o = dh * c;
    *d_g = e * (s ? omf : i);
    *d_f = fmaf(e, c_prev, -dt_f);
    *d_i = dt_i;
    *d_c_prev = e * f;
}

/* Adam for one element (see nc.h, NC_KERNELS, and docs/determinism.md "Optimiser"). m is NULL
 * when beta1 = 0: the first moment is then g itself. omb1 = 1 - beta1 and omb2 = 1 - beta2 are
 * rounded once per call by the kernel. Each line is one formula of the definition; the vector
 * form in kernels_simd.h is a copy. */
static inline void nc_k_adam(float *p, float *m, float *v, float grad, float lr, float beta1,
                             float omb1, float beta2, float omb2, float c1, float c2, float eps,
                             float clip)
{
    float g = clip > 0.0f ? nc_k_min(nc_k_max(grad, -clip), clip) : grad;
    float mn = g;
    if (m) {
        mn = fmaf(beta1, *m, omb1 * g);
        *m = mn;
    }
    float vn = fmaf(beta2, *v, omb2 * (g * g));
    *v = vn;
    float u = (mn / c1) / (sqrtf(vn / c2) + eps);
    *p = *p - lr * u;
}

/* Per-row scalars of the normalisations, computed once per row in scalar code on every path. */
static inline float nc_k_rstd(float sumsq, size_t n, float eps)
{
    float ms = n ? sumsq / (float)n : 0.0f;
    return 1.0f / sqrtf(ms + eps);
}

static inline float nc_k_mean(float sum, size_t n) { return n ? sum / (float)n : 0.0f; }

/* RMSNorm backward: dx = fma(-k, x, (dy*g)*rstd) with k = ((s*rstd)*rstd)*rstd / N, where
 * s = sum16 of fma(dy*g, x, p). This returns -k. */
static inline float nc_k_rms_negk(float s, float rstd, size_t n)
{
    return n ? -(((s * rstd) * rstd) * rstd / (float)n) : 0.0f;
}

static inline float nc_k_rms_dx(float dy, float x, float g, float rstd, float negk)
{
    return fmaf(negk, x, (dy * g) * rstd);
}

/* LayerNorm backward per element: t = fma(-m2, xhat, dy*g - m1); dx = t*rstd, where
 * xhat = (x - mean)*rstd, m1 = sum16(dy*g)/N, m2 = sum16 of fma(dy*g, xhat, p) / N. */
static inline float nc_k_ln_dx(float dy, float xhat, float g, float m1, float negm2, float rstd)
{
    return fmaf(negm2, xhat, dy * g - m1) * rstd;
}

#endif
