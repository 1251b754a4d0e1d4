/* AVX-512F (16 lanes) instantiation of the elementary functions: identical bits to math.c.
 *
 * The lane bodies are in math_template.h (the same text the AVX2 file compiles and the tests run
 * on every machine); this file only maps its vocabulary onto AVX-512F intrinsics. Compares give
 * mask registers and _mm512_mask_blend_ps(m, f, t) takes t where m is set. All operations use
 * the default rounding (nearest even), never embedded rounding or approximations. */
#include <math.h>

#include "nc/nc.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define V __m512
#define VI __m512i
#define VM __mmask16
#define V_WIDTH 16
#define V_TARGET __attribute__((target("avx512f")))
#define V_NAME(f) f##_avx512

#define v_set1(c) _mm512_set1_ps(c)
#define v_loadu(p) _mm512_loadu_ps(p)
#define v_storeu(p, a) _mm512_storeu_ps((p), (a))
#define v_add(a, b) _mm512_add_ps((a), (b))
#define v_sub(a, b) _mm512_sub_ps((a), (b))
#define v_mul(a, b) _mm512_mul_ps((a), (b))
#define v_div(a, b) _mm512_div_ps((a), (b))
#define v_fma(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define v_lt(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ)
#define v_gt(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GT_OQ)
#define v_eq(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_EQ_OQ)
#define v_isnan(a) _mm512_cmp_ps_mask((a), (a), _CMP_UNORD_Q)
#define v_sel(m, t, f) _mm512_mask_blend_ps((m), (f), (t))
#define vi_set1(i) _mm512_set1_epi32(i)
#define vi_add(a, b) _mm512_add_epi32((a), (b))
#define vi_sub(a, b) _mm512_sub_epi32((a), (b))
#define vi_and(a, b) _mm512_and_si512((a), (b))
#define vi_or(a, b) _mm512_or_si512((a), (b))
#define vi_xor(a, b) _mm512_xor_si512((a), (b))
#define vi_srl(a, n) _mm512_srli_epi32((a), (n))
#define vi_sll(a, n) _mm512_slli_epi32((a), (n))
#define vi_to_f(a) _mm512_cvtepi32_ps(a)
#define v_as_i(a) _mm512_castps_si512(a)
#define vi_as_f(a) _mm512_castsi512_ps(a)

#include "math_template.h"

#else
/* Not x86: the portable _ref functions (math.c) are the only ones; this file compiles to
 * nothing and the dispatch tables (kernels.c) hold _ref in the avx512 row. */
typedef int nc_math_avx512_unused;
#endif
