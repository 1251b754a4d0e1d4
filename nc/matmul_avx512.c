/* AVX-512F matrix products: matmul_template.h with 16-float vectors, 8 x 32 register blocks.
 * Compiled on every x86-64 build; runs only where CPUID and XCR0 allow it (cpu.c). */
#include "matmul_internal.h"
#include "nc/nc.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define MM_SUFFIX avx512
#define MM_TARGET __attribute__((target("avx512f")))
#define VEC __m512
#define VL 16
#define V_ZERO() _mm512_setzero_ps()
#define V_LOADU(p) _mm512_loadu_ps(p)
#define V_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define V_BCAST(p) _mm512_set1_ps(*(p))
#define V_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define MR NC_MM_AVX512_MR
#define NV NC_MM_AVX512_NV
#define KC NC_MM_AVX512_KC
#define MC NC_MM_AVX512_MC
#define NP NC_MM_AVX512_NP
#include "matmul_template.h"

#else
/* Not x86: never selected (nc_isa_supported says no); keep the symbols so tables link. */
void nc_matmul_avx512(float *C, size_t ldc, const float *A, size_t lda, const float *B, size_t ldb,
                    size_t M, size_t N, size_t K, int accumulate)
{
    nc_matmul_ref(C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}
void nc_matmul_nt_avx512(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                       size_t ldb, size_t M, size_t N, size_t K, int accumulate)
{
    nc_matmul_nt_ref(C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}
void nc_matmul_tn_avx512(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                       size_t ldb, size_t M, size_t N, size_t K, int accumulate)
{
    nc_matmul_tn_ref(C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}
#endif
