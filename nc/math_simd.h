/* Constants shared by the scalar elementary functions (math.c) and their SIMD twins
 * (math_avx2.c, math_avx512.c). Internal to nc.
 *
 * Every constant lives here once, so the three implementations cannot drift apart: the scalar
 * code in math.c is the canonical sequence of operations and each SIMD file repeats it lane by
 * lane with these same values. See docs/determinism.md. */
#ifndef NC_MATH_SIMD_H
#define NC_MATH_SIMD_H

/* ---- exp ---------------------------------------------------------------------------------------
 * e^x = 2^k * p(r), k = round(x / ln2), r = x - k ln2 in [-ln2/2, ln2/2].
 * The argument is first clamped to [EXP_LO, EXP_HI]: e^89 overflows to +inf and e^-104
 * rounds to +0, so the clamp changes no finite result and keeps k in [-150, 128]. */
#define NC_EXP_HI 89.0f
#define NC_EXP_LO (-104.0f)
#define NC_LOG2E 0x1.715476p+0f
#define NC_SHIFTER 0x1.8p23f          /* x + 1.5*2^23 rounds x to an integer (|x| < 2^22) */
#define NC_SHIFTER_BITS 0x4B400000u   /* bits of NC_SHIFTER: bits(t) - this = k */
#define NC_LN2_HI 0x1.62e43p-1f       /* float(ln 2); k * NC_LN2_HI is exact for |k| <= 256 */
#define NC_LN2_LO (-0x1.05c61p-29f)   /* ln 2 - NC_LN2_HI */
/* p(r) = 1 + r + r^2 * q(r), q of degree 5 (Cephes expf, S. L. Moshier): total degree 7. */
#define NC_EXP_Q5 1.9875691500E-4f
#define NC_EXP_Q4 1.3981999507E-3f
#define NC_EXP_Q3 8.3334519073E-3f
#define NC_EXP_Q2 4.1665795894E-2f
#define NC_EXP_Q1 1.6666665459E-1f
#define NC_EXP_Q0 5.0000001201E-1f

/* ---- log ---------------------------------------------------------------------------------------
 * x = 2^e * m with m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact),
 * ln x = e*ln2 + f - f^2/2 + f^3 * P(f), P of degree 8 (Cephes logf). */
#define NC_LOG_SUBNORMAL_SCALE 0x1p23f   /* subnormal x are scaled into the normal range first */
#define NC_LOG_OFF 0x3F3504F3u           /* bits of float(sqrt(1/2)) */
#define NC_LOG_BIAS 0x00CAFB0Du          /* 0x40000000 - NC_LOG_OFF: keeps the shift unsigned */
#define NC_LOG_C1 0.693359375f           /* ln 2 = C1 + C2, C1 has 9 significant bits */
#define NC_LOG_C2 (-2.12194440e-4f)
#define NC_LOG_P8 7.0376836292E-2f
#define NC_LOG_P7 (-1.1514610310E-1f)
#define NC_LOG_P6 1.1676998740E-1f
#define NC_LOG_P5 (-1.2420140846E-1f)
#define NC_LOG_P4 1.4249322787E-1f
#define NC_LOG_P3 (-1.6668057665E-1f)
#define NC_LOG_P2 2.0000714765E-1f
#define NC_LOG_P1 (-2.4999993993E-1f)
#define NC_LOG_P0 3.3333331174E-1f
#define NC_NAN_BITS 0x7FC00000u          /* the one NaN nc produces from non-NaN input */

/* ---- tanh --------------------------------------------------------------------------------------
 * |x| < 0.625: x + x^3 * T(x^2), T of degree 4 (Cephes tanhf); otherwise 1 - 2/(e^(2|x|)+1). */
#define NC_TANH_SMALL 0.625f
#define NC_TANH_T4 (-5.70498872745E-3f)
#define NC_TANH_T3 2.06390887954E-2f
#define NC_TANH_T2 (-5.37397155531E-2f)
#define NC_TANH_T1 1.33314422036E-1f
#define NC_TANH_T0 (-3.33332819422E-1f)

/* ---- GELU (tanh form) --------------------------------------------------------------------------
 * gelu(x) = 0.5 x (1 + tanh u) = x * sigmoid(v), v = 2u = C x (1 + K x^2),
 * C = 2 sqrt(2/pi), K = 0.044715; C and K are carried as float pairs (hi + lo). */
#define NC_GELU_CLAMP 20.0f                 /* |x| >= 20: sigmoid(v) is exactly 0 or 1 */
#define NC_GELU_C_HI 0x1.988454p+0f
#define NC_GELU_C_LO (-0x1.857936p-25f)
#define NC_GELU_K_HI 0x1.6e4e26p-5f
#define NC_GELU_K_LO 0x1.a9003ep-30f
#define NC_GELU_3K 0x1.12ba9ep-3f           /* float(3 K), for the derivative */

#endif
