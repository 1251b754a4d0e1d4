/* AVX2+FMA instantiation of the SIMD kernels: a v16 is two ymm registers, lanes 0-7 and 8-15.
 *
 * Compiled with per-function target attributes only (no -mavx2 for the file), so the library
 * still runs on any x86-64; the caller must check the CPU before calling a _avx2 kernel. */
#include "kernels_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define NC_TARGET __attribute__((target("avx2,fma")))
#define NC_SUFFIX _avx2
#define NC_V16 NC_TARGET static inline __attribute__((always_inline))

typedef struct {
    __m256 lo; /* lanes 0..7:  partials p[0..7] */
    __m256 hi; /* lanes 8..15: partials p[8..15] */
} v16;

NC_V16 v16 v16_make(__m256 lo, __m256 hi)
{
    v16 r;
    r.lo = lo;
    r.hi = hi;
    return r;
}

NC_V16 v16 v16_load(const float *p) { return v16_make(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)); }
NC_V16 void v16_store(float *p, v16 v)
{
    _mm256_storeu_ps(p, v.lo);
    _mm256_storeu_ps(p + 8, v.hi);
}
NC_V16 v16 v16_set1(float s) { return v16_make(_mm256_set1_ps(s), _mm256_set1_ps(s)); }
NC_V16 v16 v16_zero(void) { return v16_make(_mm256_setzero_ps(), _mm256_setzero_ps()); }
NC_V16 v16 v16_add(v16 a, v16 b)
{
    return v16_make(_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi));
}
NC_V16 v16 v16_sub(v16 a, v16 b)
{
    return v16_make(_mm256_sub_ps(a.lo, b.lo), _mm256_sub_ps(a.hi, b.hi));
}
NC_V16 v16 v16_mul(v16 a, v16 b)
{
    return v16_make(_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi));
}
NC_V16 v16 v16_div(v16 a, v16 b)
{
    return v16_make(_mm256_div_ps(a.lo, b.lo), _mm256_div_ps(a.hi, b.hi));
}
NC_V16 v16 v16_fma(v16 a, v16 b, v16 c)
{
    return v16_make(_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi));
}
NC_V16 v16 v16_sqrt(v16 a) { return v16_make(_mm256_sqrt_ps(a.lo), _mm256_sqrt_ps(a.hi)); }
/* MINPS/MAXPS return the second operand on ties and NaN: the semantics of nc_k_min/nc_k_max */
NC_V16 v16 v16_min(v16 a, v16 b)
{
    return v16_make(_mm256_min_ps(a.lo, b.lo), _mm256_min_ps(a.hi, b.hi));
}
NC_V16 v16 v16_max(v16 a, v16 b)
{
    return v16_make(_mm256_max_ps(a.lo, b.lo), _mm256_max_ps(a.hi, b.hi));
}
NC_V16 v16 v16_neg(v16 a)
{
    __m256 sign = _mm256_set1_ps(-0.0f);
    return v16_make(_mm256_xor_ps(a.lo, sign), _mm256_xor_ps(a.hi, sign));
}
/* a < b ? x : y, ordered compare (false for NaN) like the C '<' */
NC_V16 v16 v16_select_lt(v16 a, v16 b, v16 x, v16 y)
{
    __m256 mlo = _mm256_cmp_ps(a.lo, b.lo, _CMP_LT_OQ);
    __m256 mhi = _mm256_cmp_ps(a.hi, b.hi, _CMP_LT_OQ);
    return v16_make(_mm256_blendv_ps(y.lo, x.lo, mlo), _mm256_blendv_ps(y.hi, x.hi, mhi));
}

/* The canonical tree: p[l] += p[l+8] (lo + hi), then +4 (the two 128-bit halves), then +2
 * (MOVHLPS), then +1. Operand order matches nc_k_tree_add: the lower index is the first. */
NC_V16 float v16_hsum(v16 v)
{
    __m256 q = _mm256_add_ps(v.lo, v.hi);
    __m128 w = _mm_add_ps(_mm256_castps256_ps128(q), _mm256_extractf128_ps(q, 1));
    __m128 u = _mm_add_ps(w, _mm_movehl_ps(w, w));
    __m128 t = _mm_add_ss(u, _mm_shuffle_ps(u, u, 1));
    return _mm_cvtss_f32(t);
}

NC_V16 float v16_hmax(v16 v)
{
    __m256 q = _mm256_max_ps(v.lo, v.hi);
    __m128 w = _mm_max_ps(_mm256_castps256_ps128(q), _mm256_extractf128_ps(q, 1));
    __m128 u = _mm_max_ps(w, _mm_movehl_ps(w, w));
    __m128 t = _mm_max_ss(u, _mm_shuffle_ps(u, u, 1));
    return _mm_cvtss_f32(t);
}

#include "kernels_simd.h"

#else
/* Not x86: the portable _ref kernels are the only ones; this file compiles to nothing. */
typedef int nc_kernels_avx2_unused;
#endif
