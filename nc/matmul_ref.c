/* Scalar reference matrix products: THE definition of the canonical order that every SIMD path
 * reproduces bit for bit. Each output element is one fmaf chain in increasing k, started from +0.0f
 * or (accumulate) from the old C element. Deliberately plain loops; speed lives in matmul_avx*.c. */
#include <math.h>

#include "nc/nc.h"

/* C (M,N) = A (M,K) . B (K,N) */
void nc_matmul_ref(float *C, size_t ldc, const float *A, size_t lda, const float *B, size_t ldb,
                   size_t M, size_t N, size_t K, int accumulate)
{
    for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < N; j++) {
            float acc = accumulate ? C[i * ldc + j] : 0.0f;
            for (size_t k = 0; k < K; k++)
                acc = fmaf(A[i * lda + k], B[k * ldb + j], acc);
            C[i * ldc + j] = acc;
        }
    }
}

/* C (M,N) = A (M,K) . B^T, B (N,K) */
void nc_matmul_nt_ref(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                      size_t ldb, size_t M, size_t N, size_t K, int accumulate)
{
    for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < N; j++) {
            float acc = accumulate ? C[i * ldc + j] : 0.0f;
            for (size_t k = 0; k < K; k++)
                acc = fmaf(A[i * lda + k], B[j * ldb + k], acc);
            C[i * ldc + j] = acc;
        }
    }
}

/* C (M,N) = A^T . B (K,N), A (K,M) */
void nc_matmul_tn_ref(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                      size_t ldb, size_t M, size_t N, size_t K, int accumulate)
{
    for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < N; j++) {
            float acc = accumulate ? C[i * ldc + j] : 0.0f;
            for (size_t k = 0; k < K; k++)
                acc = fmaf(A[k * lda + i], B[k * ldb + j], acc);
            C[i * ldc + j] = acc;
        }
    }
}
