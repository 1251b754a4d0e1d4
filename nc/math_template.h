/* Lane bodies of the elementary functions, compiled once per ISA by math_avx2.c and
 * math_avx512.c. Internal to nc; included only after the ISA file has defined the vocabulary:
 *
 *   V, VI, VM           float vector, int32 vector, compare result (vector or mask register)
 *   V_WIDTH, V_TARGET   lanes per vector, the function attribute enabling the ISA
 *   V_NAME(f)           public name of array function f for this ISA (f##_avx2, ...)
 *   v_set1 v_loadu v_storeu v_add v_sub v_mul v_div v_fma       IEEE float lane operations
 *   v_lt(a,b) v_gt(a,b) v_eq(a,b) v_isnan(a)                    C's <, >, ==, a != a
 *   v_sel(m, t, f)      m ? t : f per lane
 *   vi_set1 vi_add vi_sub vi_and vi_or vi_xor vi_srl vi_sll vi_to_f v_as_i vi_as_f
 *                       uint32_t arithmetic, (float)(int32_t), bit casts
 *
 * Every function below is a line-by-line transcription of its scalar twin in math.c, which is
 * the canonical semantics: same operations, same order, same constants (math_simd.h). When you
 * change one, change the other and run test_math, which compares all paths with memcmp. */
#ifndef NC_MATH_TEMPLATE_H
#define NC_MATH_TEMPLATE_H

#include <stdint.h>
#include <string.h>

#include "math_simd.h"

/* An int32 with the bits of u, for the *_set1_epi32 intrinsics. */
static inline int32_t i32_of(uint32_t u)
{
    int32_t i;
    memcpy(&i, &u, sizeof i);
    return i;
}

#define vi_set1u(u) vi_set1(i32_of(u))
/* C's unary minus: flips the sign bit of anything, zeros and NaNs included. */
#define v_neg(a) vi_as_f(vi_xor(v_as_i(a), vi_set1u(0x80000000u)))

static inline V_TARGET void exp_core_v(V x, V xl, V *hi, V *lo)
{
    x = v_sel(v_lt(v_set1(NC_EXP_HI), x), v_set1(NC_EXP_HI), x);
    x = v_sel(v_gt(v_set1(NC_EXP_LO), x), v_set1(NC_EXP_LO), x);
    V t = v_fma(x, v_set1(NC_LOG2E), v_set1(NC_SHIFTER));
    V kf = v_sub(t, v_set1(NC_SHIFTER));
    VI k = vi_sub(v_as_i(t), vi_set1u(NC_SHIFTER_BITS));
    V r1 = v_fma(kf, v_set1(-NC_LN2_HI), x);
    V r = v_fma(kf, v_set1(-NC_LN2_LO), r1);
    V dr = v_fma(kf, v_set1(-NC_LN2_LO), v_sub(r1, r));
    dr = v_add(dr, xl);
    V q = v_fma(v_set1(NC_EXP_Q5), r, v_set1(NC_EXP_Q4));
    q = v_fma(q, r, v_set1(NC_EXP_Q3));
    q = v_fma(q, r, v_set1(NC_EXP_Q2));
    q = v_fma(q, r, v_set1(NC_EXP_Q1));
    q = v_fma(q, r, v_set1(NC_EXP_Q0));
    V r2 = v_mul(r, r);
    V pr = v_fma(q, r2, r);
    V p = v_add(pr, v_set1(1.0f));
    V pl = v_add(v_add(v_sub(v_set1(1.0f), p), pr), v_fma(pr, dr, dr));
    V ph = v_add(p, pl);
    pl = v_add(v_sub(p, ph), pl);
    VI k1 = vi_sub(vi_srl(vi_add(k, vi_set1u(256u)), 1), vi_set1u(1u));
    VI k2 = vi_add(vi_sub(k, k1), vi_set1u(254u));
    V s1 = vi_as_f(vi_sll(k1, 23)), s2 = vi_as_f(vi_sll(k2, 23));
    *hi = v_mul(v_mul(ph, s1), s2);
    *lo = v_mul(v_mul(pl, s1), s2);
}

static inline V_TARGET void sigmoid_pair_v(V v, V vl, V *pos, V *neg)
{
    V mabs = vi_as_f(vi_or(v_as_i(v), vi_set1u(0x80000000u)));
    VM vneg = v_lt(v, v_set1(0.0f));
    V ml = v_sel(vneg, vl, v_neg(vl));
    V e, el;
    exp_core_v(mabs, ml, &e, &el);
    V d = v_add(v_set1(1.0f), e);
    V dl = v_add(v_add(v_sub(v_set1(1.0f), d), e), el);
    V qb = v_div(v_set1(1.0f), d);
    V rb = v_fma(v_neg(qb), d, v_set1(1.0f));
    V big = v_fma(qb, v_fma(v_neg(qb), dl, rb), qb);
    V qs = v_div(e, d);
    V rs = v_fma(v_neg(qs), d, e);
    V cs = v_fma(v_neg(qs), dl, v_add(rs, el));
    V small = v_fma(qb, cs, qs);
    *pos = v_sel(vneg, small, big);
    *neg = v_sel(vneg, big, small);
}
static inline V_TARGET V expf_v(V x)
{
    V r, rl;
    exp_core_v(x, v_set1(0.0f), &r, &rl);
    (void)rl;
    return v_sel(v_isnan(x), v_add(x, x), r);
}

static inline V_TARGET V logf_v(V x)
{
    VM sub = v_lt(x, v_set1(0x1p-126f));
    V xs = v_sel(sub, v_mul(x, v_set1(NC_LOG_SUBNORMAL_SCALE)), x);
    V eadj = v_sel(sub, v_set1(23.0f), v_set1(0.0f));
    VI ix = v_as_i(xs);
    VI tmp = vi_add(ix, vi_set1u(NC_LOG_BIAS));
    VI eb = vi_srl(tmp, 23);
    VI im = vi_sub(ix, vi_sub(vi_and(tmp, vi_set1u(0xFF800000u)), vi_set1u(0x40000000u)));
    V e = v_sub(vi_to_f(eb), v_set1(128.0f));
    e = v_sub(e, eadj);
    V f = v_sub(vi_as_f(im), v_set1(1.0f));
    V z = v_mul(f, f);
    V p = v_fma(v_set1(NC_LOG_P8), f, v_set1(NC_LOG_P7));
    p = v_fma(p, f, v_set1(NC_LOG_P6));
    p = v_fma(p, f, v_set1(NC_LOG_P5));
    p = v_fma(p, f, v_set1(NC_LOG_P4));
    p = v_fma(p, f, v_set1(NC_LOG_P3));
    p = v_fma(p, f, v_set1(NC_LOG_P2));
    p = v_fma(p, f, v_set1(NC_LOG_P1));
    p = v_fma(p, f, v_set1(NC_LOG_P0));
    V y = v_mul(v_mul(p, f), z);
    y = v_fma(e, v_set1(NC_LOG_C2), y);
    y = v_fma(z, v_set1(-0.5f), y);
    V r = v_add(f, y);
    r = v_fma(e, v_set1(NC_LOG_C1), r);
    r = v_sel(v_eq(x, v_set1(INFINITY)), x, r);
    r = v_sel(v_eq(x, v_set1(0.0f)), v_set1(-INFINITY), r);
    r = v_sel(v_lt(x, v_set1(0.0f)), vi_as_f(vi_set1u(NC_NAN_BITS)), r);
    return v_sel(v_isnan(x), v_add(x, x), r);
}

static inline V_TARGET V tanhf_v(V x)
{
    VI sign = vi_and(v_as_i(x), vi_set1u(0x80000000u));
    V a = vi_as_f(vi_and(v_as_i(x), vi_set1u(0x7FFFFFFFu)));
    V z = v_mul(a, a);
    V t = v_fma(v_set1(NC_TANH_T4), z, v_set1(NC_TANH_T3));
    t = v_fma(t, z, v_set1(NC_TANH_T2));
    t = v_fma(t, z, v_set1(NC_TANH_T1));
    t = v_fma(t, z, v_set1(NC_TANH_T0));
    t = v_mul(t, z);
    V small = v_fma(t, a, a);
    V pos, neg;
    sigmoid_pair_v(v_add(a, a), v_set1(0.0f), &pos, &neg);
    V big = v_fma(v_set1(-2.0f), neg, v_set1(1.0f));
    V r = v_sel(v_lt(a, v_set1(NC_TANH_SMALL)), small, big);
    r = vi_as_f(vi_or(v_as_i(r), sign));
    return v_sel(v_isnan(x), v_add(x, x), r);
}

static inline V_TARGET V sigmoidf_v(V x)
{
    V pos, neg;
    sigmoid_pair_v(x, v_set1(0.0f), &pos, &neg);
    return v_sel(v_isnan(x), v_add(x, x), pos);
}

static inline V_TARGET void gelu_arg_v(V x, V *vh, V *vl)
{
    V x2 = v_mul(x, x);
    V x2l = v_fma(x, x, v_neg(x2));
    V p = v_mul(v_set1(NC_GELU_K_HI), x2);
    V pl = v_fma(v_set1(NC_GELU_K_HI), x2, v_neg(p));
    pl = v_add(pl, v_fma(v_set1(NC_GELU_K_HI), x2l, v_mul(v_set1(NC_GELU_K_LO), x2)));
    V s = v_add(v_set1(1.0f), p);
    V bb = v_sub(s, v_set1(1.0f));
    V sl = v_add(v_sub(v_set1(1.0f), v_sub(s, bb)), v_sub(p, bb));
    sl = v_add(sl, pl);
    V w = v_mul(x, s);
    V wl = v_fma(x, s, v_neg(w));
    wl = v_fma(x, sl, wl);
    V h = v_mul(v_set1(NC_GELU_C_HI), w);
    V l = v_fma(v_set1(NC_GELU_C_HI), w, v_neg(h));
    l = v_add(l, v_fma(v_set1(NC_GELU_C_HI), wl, v_mul(v_set1(NC_GELU_C_LO), w)));
    *vh = h;
    *vl = l;
}

static inline V_TARGET V gelu_clamp_v(V x)
{
    V xc = v_sel(v_lt(v_set1(NC_GELU_CLAMP), x), v_set1(NC_GELU_CLAMP), x);
    return v_sel(v_gt(v_set1(-NC_GELU_CLAMP), xc), v_set1(-NC_GELU_CLAMP), xc);
}

static inline V_TARGET V geluf_v(V x)
{
    V xc = gelu_clamp_v(x);
    V vh, vl, pos, neg;
    gelu_arg_v(xc, &vh, &vl);
    sigmoid_pair_v(vh, vl, &pos, &neg);
    V xm = v_sel(v_gt(v_set1(-NC_GELU_CLAMP), x), v_set1(-NC_GELU_CLAMP), x);
    V r = v_mul(xm, pos);
    return v_sel(v_isnan(x), v_add(x, x), r);
}

static inline V_TARGET V gelu_gradf_v(V x)
{
    V xc = gelu_clamp_v(x);
    V vh, vl, pos, neg;
    gelu_arg_v(xc, &vh, &vl);
    sigmoid_pair_v(vh, vl, &pos, &neg);
    V x2 = v_mul(xc, xc);
    V dv = v_mul(v_set1(NC_GELU_C_HI), v_fma(v_set1(NC_GELU_3K), x2, v_set1(1.0f)));
    V t = v_mul(xc, pos);
    t = v_mul(t, neg);
    V r = v_fma(t, dv, pos);
    return v_sel(v_isnan(x), v_add(x, x), r);
}

/* y[i] = f(x[i]): whole vectors here, the last n % V_WIDTH elements by the scalar reference,
 * which is the same operation sequence and so gives the same bits. Loading a whole vector before
 * storing it keeps y == x safe. */
#define NC_MATH_ARRAY(name, lanefn, ref)                                                      \
    V_TARGET void V_NAME(name)(float *y, const float *x, size_t n)                            \
    {                                                                                         \
        size_t i = 0;                                                                         \
        for (; n - i >= V_WIDTH; i += V_WIDTH)                                                \
            v_storeu(y + i, lanefn(v_loadu(x + i)));                                          \
        ref(y + i, x + i, n - i);                                                             \
    }

NC_MATH_ARRAY(nc_vexp, expf_v, nc_vexp_ref)
NC_MATH_ARRAY(nc_vlog, logf_v, nc_vlog_ref)
NC_MATH_ARRAY(nc_vtanh, tanhf_v, nc_vtanh_ref)
NC_MATH_ARRAY(nc_vsigmoid, sigmoidf_v, nc_vsigmoid_ref)
NC_MATH_ARRAY(nc_vgelu, geluf_v, nc_vgelu_ref)
NC_MATH_ARRAY(nc_vgelu_grad, gelu_gradf_v, nc_vgelu_grad_ref)

#endif
