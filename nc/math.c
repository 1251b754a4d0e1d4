/* Elementary functions (exp, log, tanh, sigmoid, GELU) from + - * / sqrt, explicit fma and exact
 * bit manipulation only: the canonical semantics that every nc path reproduces bit for bit.
 *
 * The idea. The encoder and the decoder of nnzip must compute the same floats on any machine, so
 * these functions cannot come from libm (whose results differ between libraries and versions)
 * and must not depend on the instruction set. Each function here is one fixed sequence of IEEE
 * operations, each rounded once in round-to-nearest-even:
 *   - no data-dependent branch: the argument is clamped by selects, both sides of a piecewise
 *     definition are computed and one is selected, special values are patched by selects last;
 *   - no table lookup; polynomials are evaluated by Horner's rule with explicit fma (fmaf is
 *     exact-then-rounded-once, the same as the vfmadd instruction), and the compiler never fuses
 *     anything on its own (-ffp-contract=off);
 *   - powers of two are built by integer arithmetic on the exponent bits.
 * Every `c ? a : b` below is a select that math_template.h turns into compare + blend, every
 * fma32 a vfmadd, every uint32_t operation the same 32-bit integer lane operation. That is why
 * nc_v*_ref, nc_v*_avx2 and nc_v*_avx512 agree to the bit, NaN payloads included.
 *
 * Accuracy and the methods are described in docs/determinism.md; the constants live in
 * math_simd.h, shared with the SIMD files. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "math_simd.h"
#include "nc/nc.h"

/* Each float operation must round to float at once: x87 excess precision (FLT_EVAL_METHOD 2,
 * e.g. 32-bit x86 without SSE2) would give different bits. */
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "nc needs FLT_EVAL_METHOD == 0 (float arithmetic evaluated in float, e.g. SSE2)"
#endif

static inline uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The only place scalar nc code fuses a multiply and an add: a*b+c rounded once. */
static inline float fma32(float a, float b, float c)
{
    return fmaf(a, b, c);
}

/* e^(x + xl) = hi + lo, where xl is a small correction to x (|xl| <= 2^-20 |x|, or 0); NaN x
 * gives NaN. hi alone is nc_expf; lo carries the rounding error of the last addition, for
 * callers that need more than float precision (sigmoid). The clamp keeps k in [-150, 128] and
 * changes no result: e^89 overflows and e^-104 rounds to zero anyway. 2^k is applied as
 * two normal factors 2^k1 * 2^k2 so that overflow, gradual underflow and the single final
 * rounding of subnormal results come out right. */
static inline void exp_core(float x, float xl, float *hi, float *lo)
{
    x = NC_EXP_HI < x ? NC_EXP_HI : x; /* NaN stays NaN */
    x = NC_EXP_LO > x ? NC_EXP_LO : x;
    float t = fma32(x, NC_LOG2E, NC_SHIFTER); /* 1.5*2^23 + round(x / ln2) */
    float kf = t - NC_SHIFTER;
    uint32_t k = bits_of(t) - NC_SHIFTER_BITS; /* the same integer, two's complement */
    float r1 = fma32(kf, -NC_LN2_HI, x); /* exact: x and k*ln2_hi nearly cancel */
    float r = fma32(kf, -NC_LN2_LO, r1);
    float dr = fma32(kf, -NC_LN2_LO, r1 - r); /* rounding error of r (r1 - r is exact) */
    dr = dr + xl;                            /* the reduced argument is r + dr, dr tiny */
    float q = fma32(NC_EXP_Q5, r, NC_EXP_Q4);
    q = fma32(q, r, NC_EXP_Q3);
    q = fma32(q, r, NC_EXP_Q2);
    q = fma32(q, r, NC_EXP_Q1);
    q = fma32(q, r, NC_EXP_Q0);
    float r2 = r * r;
    float pr = fma32(q, r2, r); /* p(r) - 1, |pr| < 0.42 */
    float p = pr + 1.0f;
    /* e^(r + dr) = p(r) (1 + dr) = p + pl with pl = (exact error of p) + (1 + pr) dr. */
    float pl = ((1.0f - p) + pr) + fma32(pr, dr, dr);
    float ph = p + pl;           /* renormalise: ph is the float nearest p + pl */
    pl = (p - ph) + pl;
    uint32_t k1 = ((k + 256u) >> 1) - 1u; /* floor(k/2) + 127, in [52, 191] */
    uint32_t k2 = k - k1 + 254u;          /* k - floor(k/2) + 127, in [52, 191] */
    float s1 = float_of(k1 << 23), s2 = float_of(k2 << 23);
    *hi = (ph * s1) * s2;
    *lo = (pl * s1) * s2;
}

/* sigmoid(v + vl) and sigmoid(-(v + vl)) = 1 - sigmoid(v + vl), both to full relative accuracy:
 * with e = e^-|v| in (0, 1], sigmoid(|v|) = 1/(1+e) and sigmoid(-|v|) = e/(1+e), so neither
 * cancels nor overflows for any v. e and 1 + e are carried as float pairs and each quotient is
 * corrected with its exact fma remainder, so the results are close to correctly rounded. */
static inline void sigmoid_pair(float v, float vl, float *pos, float *neg)
{
    float mabs = float_of(bits_of(v) | 0x80000000u); /* -|v| */
    float ml = v < 0.0f ? vl : -vl;                  /* low part of -|v + vl| */
    float e, el;
    exp_core(mabs, ml, &e, &el);
    float d = 1.0f + e;            /* 1 + e + el = d + dl */
    float dl = ((1.0f - d) + e) + el;
    float qb = 1.0f / d;           /* 1/(d + dl) = qb + qb (rb - qb dl) */
    float rb = fma32(-qb, d, 1.0f);
    float big = fma32(qb, fma32(-qb, dl, rb), qb); /* sigmoid(|v|) */
    float qs = e / d;              /* (e + el)/(d + dl) = qs + qb (rs + el - qs dl) */
    float rs = fma32(-qs, d, e);
    float cs = fma32(-qs, dl, rs + el);
    float small = fma32(qb, cs, qs); /* sigmoid(-|v|) */
    *pos = v < 0.0f ? small : big;
    *neg = v < 0.0f ? big : small;
}

float nc_expf(float x)
{
    float r, rl;
    exp_core(x, 0.0f, &r, &rl);
    (void)rl;
    return x != x ? x + x : r;
}

float nc_logf(float x)
{
    /* Subnormals (and zero and negatives, patched below) are scaled by 2^23 first. */
    int sub = x < 0x1p-126f;
    float xs = sub ? x * NC_LOG_SUBNORMAL_SCALE : x;
    float eadj = sub ? 23.0f : 0.0f;
    /* x = 2^e * m, m in [sqrt(1/2), sqrt(2)): offsetting the bits by those of sqrt(1/2) makes
     * the exponent field step exactly where m wraps. The bias keeps the shift on unsigned. */
    uint32_t ix = bits_of(xs);
    uint32_t tmp = ix + NC_LOG_BIAS;
    uint32_t eb = tmp >> 23; /* e + 128 */
    uint32_t im = ix - ((tmp & 0xFF800000u) - 0x40000000u);
    float e = (float)(int32_t)eb - 128.0f;
    e = e - eadj;
    float f = float_of(im) - 1.0f; /* exact (Sterbenz) */
    float z = f * f;
    float p = fma32(NC_LOG_P8, f, NC_LOG_P7);
    p = fma32(p, f, NC_LOG_P6);
    p = fma32(p, f, NC_LOG_P5);
    p = fma32(p, f, NC_LOG_P4);
    p = fma32(p, f, NC_LOG_P3);
    p = fma32(p, f, NC_LOG_P2);
    p = fma32(p, f, NC_LOG_P1);
    p = fma32(p, f, NC_LOG_P0);
    float y = (p * f) * z;
    y = fma32(e, NC_LOG_C2, y);
    y = fma32(z, -0.5f, y);
    float r = f + y;
    r = fma32(e, NC_LOG_C1, r); /* e * C1 is exact */
    r = x == INFINITY ? x : r;
    r = x == 0.0f ? -INFINITY : r;
    r = x < 0.0f ? float_of(NC_NAN_BITS) : r;
    return x != x ? x + x : r;
}

float nc_tanhf(float x)
{
    uint32_t sign = bits_of(x) & 0x80000000u;
    float a = float_of(bits_of(x) & 0x7FFFFFFFu);
    /* |x| < 0.625: odd polynomial. */
    float z = a * a;
    float t = fma32(NC_TANH_T4, z, NC_TANH_T3);
    t = fma32(t, z, NC_TANH_T2);
    t = fma32(t, z, NC_TANH_T1);
    t = fma32(t, z, NC_TANH_T0);
    t = t * z;
    float small = fma32(t, a, a);
    /* |x| >= 0.625: 1 - 2/(e^(2|x|) + 1) = 1 - 2 sigmoid(-2|x|), which is 1 for large |x|. */
    float pos, neg;
    sigmoid_pair(a + a, 0.0f, &pos, &neg);
    float big = fma32(-2.0f, neg, 1.0f);
    float r = a < NC_TANH_SMALL ? small : big;
    r = float_of(bits_of(r) | sign);
    return x != x ? x + x : r;
}

float nc_sigmoidf(float x)
{
    float pos, neg;
    sigmoid_pair(x, 0.0f, &pos, &neg);
    return x != x ? x + x : pos;
}

/* v = C x (1 + K x^2) = 2 sqrt(2/pi) (x + 0.044715 x^3) as vh + vl, accurate to about 2^-40
 * relative: for negative x, gelu(x) = x sigmoid(v) has relative condition number ~|v| with
 * respect to v, so v must be known to much better than float precision there. */
static inline void gelu_arg(float x, float *vh, float *vl)
{
    float x2 = x * x;
    float x2l = fma32(x, x, -x2);
    float p = NC_GELU_K_HI * x2; /* K x^2 = p + pl */
    float pl = fma32(NC_GELU_K_HI, x2, -p);
    pl = pl + fma32(NC_GELU_K_HI, x2l, NC_GELU_K_LO * x2);
    float s = 1.0f + p; /* 1 + p = s + sl (2Sum: p may exceed 1) */
    float bb = s - 1.0f;
    float sl = (1.0f - (s - bb)) + (p - bb);
    sl = sl + pl;
    float w = x * s; /* x (s + sl) = w + wl */
    float wl = fma32(x, s, -w);
    wl = fma32(x, sl, wl);
    float h = NC_GELU_C_HI * w; /* C (w + wl) = h + l */
    float l = fma32(NC_GELU_C_HI, w, -h);
    l = l + fma32(NC_GELU_C_HI, wl, NC_GELU_C_LO * w);
    *vh = h;
    *vl = l;
}

float nc_geluf(float x)
{
    float xc = NC_GELU_CLAMP < x ? NC_GELU_CLAMP : x;
    xc = -NC_GELU_CLAMP > xc ? -NC_GELU_CLAMP : xc;
    float vh, vl, pos, neg;
    gelu_arg(xc, &vh, &vl);
    sigmoid_pair(vh, vl, &pos, &neg);
    /* Below -20 the product is -20 * 0 = -0 (the rounded true value), also for x = -inf. */
    float xm = -NC_GELU_CLAMP > x ? -NC_GELU_CLAMP : x;
    float r = xm * pos;
    return x != x ? x + x : r;
}

float nc_gelu_gradf(float x)
{
    float xc = NC_GELU_CLAMP < x ? NC_GELU_CLAMP : x;
    xc = -NC_GELU_CLAMP > xc ? -NC_GELU_CLAMP : xc;
    float vh, vl, pos, neg;
    gelu_arg(xc, &vh, &vl);
    sigmoid_pair(vh, vl, &pos, &neg);
    /* d/dx x s(v) = s + x s (1 - s) v', v' = C (1 + 3 K x^2); 1 - s is `neg`, not 1 - pos. */
    float x2 = xc * xc;
    float dv = NC_GELU_C_HI * fma32(NC_GELU_3K, x2, 1.0f);
    float t = xc * pos;
    t = t * neg;
    float r = fma32(t, dv, pos);
    return x != x ? x + x : r;
}

/* Array forms: y[i] = f(x[i]) for i < n; y may equal x. */
void nc_vexp_ref(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = nc_expf(x[i]);
}

void nc_vlog_ref(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = nc_logf(x[i]);
}

void nc_vtanh_ref(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = nc_tanhf(x[i]);
}

void nc_vsigmoid_ref(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = nc_sigmoidf(x[i]);
}

void nc_vgelu_ref(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = nc_geluf(x[i]);
}

void nc_vgelu_grad_ref(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = nc_gelu_gradf(x[i]);
}
