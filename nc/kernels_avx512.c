/* AVX-512F instantiation of the SIMD kernels: a v16 is one zmm register, lane l = partial p[l].
 *
 * Only AVX-512F instructions are used (no DQ/VL/BW), so any AVX-512 CPU runs it. "avx2,fma" is
 * enabled too for the 256/128-bit steps of the final tree and the scalar tails; every AVX-512F
 * CPU has them. The caller must check the CPU before calling a _avx512 kernel. */
#include "kernels_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define NC_TARGET __attribute__((target("avx512f,avx2,fma")))
#define NC_SUFFIX _avx512
#define NC_V16 NC_TARGET static inline __attribute__((always_inline))

typedef __m512 v16;

NC_V16 v16 v16_load(const float *p) { return _mm512_loadu_ps(p); }
NC_V16 void v16_store(float *p, v16 v) { _mm512_storeu_ps(p, v); }
NC_V16 v16 v16_set1(float s) { return _mm512_set1_ps(s); }
NC_V16 v16 v16_zero(void) { return _mm512_setzero_ps(); }
NC_V16 v16 v16_add(v16 a, v16 b) { return _mm512_add_ps(a, b); }
NC_V16 v16 v16_sub(v16 a, v16 b) { return _mm512_sub_ps(a, b); }
NC_V16 v16 v16_mul(v16 a, v16 b) { return _mm512_mul_ps(a, b); }
NC_V16 v16 v16_div(v16 a, v16 b) { return _mm512_div_ps(a, b); }
NC_V16 v16 v16_fma(v16 a, v16 b, v16 c) { return _mm512_fmadd_ps(a, b, c); }
NC_V16 v16 v16_sqrt(v16 a) { return _mm512_sqrt_ps(a); }
/* VMINPS/VMAXPS (no SAE) return the second operand on ties and NaN, like nc_k_min/nc_k_max */
NC_V16 v16 v16_min(v16 a, v16 b) { return _mm512_min_ps(a, b); }
NC_V16 v16 v16_max(v16 a, v16 b) { return _mm512_max_ps(a, b); }
NC_V16 v16 v16_neg(v16 a)
{
    /* integer XOR: _mm512_xor_ps would need AVX512DQ */
    return _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)));
}
/* a < b ? x : y, ordered compare (false for NaN) like the C '<' */
NC_V16 v16 v16_select_lt(v16 a, v16 b, v16 x, v16 y)
{
    __mmask16 m = _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ);
    return _mm512_mask_blend_ps(m, y, x); /* lanes with m set take x */
}

/* The canonical tree: p[l] += p[l+8] (low and high 256-bit halves), then +4, +2, +1 exactly as
 * the AVX2 path. The high half is extracted as 64-bit lanes: extractf32x8 would need AVX512DQ. */
NC_V16 __m256 v16_high256(v16 v)
{
    return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

NC_V16 float v16_hsum(v16 v)
{
    __m256 q = _mm256_add_ps(_mm512_castps512_ps256(v), v16_high256(v));
    __m128 w = _mm_add_ps(_mm256_castps256_ps128(q), _mm256_extractf128_ps(q, 1));
    __m128 u = _mm_add_ps(w, _mm_movehl_ps(w, w));
    __m128 t = _mm_add_ss(u, _mm_shuffle_ps(u, u, 1));
    return _mm_cvtss_f32(t);
}

NC_V16 float v16_hmax(v16 v)
{
    __m256 q = _mm256_max_ps(_mm512_castps512_ps256(v), v16_high256(v));
    __m128 w = _mm_max_ps(_mm256_castps256_ps128(q), _mm256_extractf128_ps(q, 1));
    __m128 u = _mm_max_ps(w, _mm_movehl_ps(w, w));
    __m128 t = _mm_max_ss(u, _mm_shuffle_ps(u, u, 1));
    return _mm_cvtss_f32(t);
}

#include "kernels_simd.h"

#else
/* Not x86: the portable _ref kernels are the only ones; this file compiles to nothing. */
typedef int nc_kernels_avx512_unused;
#endif
