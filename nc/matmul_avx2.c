/* AVX2 + FMA matrix products: matmul_template.h with 8-float vectors, 6 x 16 register blocks. */
#include "matmul_internal.h"
#include "nc/nc.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define MM_SUFFIX avx2
#define MM_TARGET __attribute__((target("avx2,fma")))
#define VEC __m256
#define VL 8
#define V_ZERO() _mm256_setzero_ps()
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define V_BCAST(p) _mm256_broadcast_ss(p)
#define V_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define MR NC_MM_AVX2_MR
#define NV NC_MM_AVX2_NV
#define KC NC_MM_AVX2_KC
#define MC NC_MM_AVX2_MC
#define NP NC_MM_AVX2_NP
#include "matmul_template.h"

#else
/* Not x86: never selected (nc_isa_supported says no); keep the symbols so tables link. */
void nc_matmul_avx2(float *C, size_t ldc, const float *A, size_t lda, const float *B, size_t ldb,
                    size_t M, size_t N, size_t K, int accumulate)
{
    nc_matmul_ref(C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}
void nc_matmul_nt_avx2(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                       size_t ldb, size_t M, size_t N, size_t K, int accumulate)
{
    nc_matmul_nt_ref(C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}
void nc_matmul_tn_avx2(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                       size_t ldb, size_t M, size_t N, size_t K, int accumulate)
{
    nc_matmul_tn_ref(C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}
#endif
