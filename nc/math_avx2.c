/* AVX2+FMA (8 lanes) instantiation of the elementary functions: identical bits to math.c.
 *
 * The lane bodies are in math_template.h; this file only maps its vocabulary onto AVX2
 * intrinsics. Each mapping is exact: _mm256_fmadd_ps is fmaf, add/sub/mul/div are the IEEE
 * operations, _CMP_*_OQ compares are C's comparisons (false on NaN), blendv is a select. */
#include <math.h>

#include "nc/nc.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define V __m256
#define VI __m256i
#define VM __m256
#define V_WIDTH 8
#define V_TARGET __attribute__((target("avx2,fma")))
#define V_NAME(f) f##_avx2

#define v_set1(c) _mm256_set1_ps(c)
#define v_loadu(p) _mm256_loadu_ps(p)
#define v_storeu(p, a) _mm256_storeu_ps((p), (a))
#define v_add(a, b) _mm256_add_ps((a), (b))
#define v_sub(a, b) _mm256_sub_ps((a), (b))
#define v_mul(a, b) _mm256_mul_ps((a), (b))
#define v_div(a, b) _mm256_div_ps((a), (b))
#define v_fma(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define v_lt(a, b) _mm256_cmp_ps((a), (b), _CMP_LT_OQ)
#define v_gt(a, b) _mm256_cmp_ps((a), (b), _CMP_GT_OQ)
#define v_eq(a, b) _mm256_cmp_ps((a), (b), _CMP_EQ_OQ)
#define v_isnan(a) _mm256_cmp_ps((a), (a), _CMP_UNORD_Q)
#define v_sel(m, t, f) _mm256_blendv_ps((f), (t), (m))
#define vi_set1(i) _mm256_set1_epi32(i)
#define vi_add(a, b) _mm256_add_epi32((a), (b))
#define vi_sub(a, b) _mm256_sub_epi32((a), (b))
#define vi_and(a, b) _mm256_and_si256((a), (b))
#define vi_or(a, b) _mm256_or_si256((a), (b))
#define vi_xor(a, b) _mm256_xor_si256((a), (b))
#define vi_srl(a, n) _mm256_srli_epi32((a), (n))
#define vi_sll(a, n) _mm256_slli_epi32((a), (n))
#define vi_to_f(a) _mm256_cvtepi32_ps(a)
#define v_as_i(a) _mm256_castps_si256(a)
#define vi_as_f(a) _mm256_castsi256_ps(a)

#include "math_template.h"

#else
/* Not x86: the portable _ref functions (math.c) are the only ones; this file compiles to
 * nothing and the dispatch tables (kernels.c) hold _ref in the avx2 row. */
typedef int nc_math_avx2_unused;
#endif
