/* The AVX-512 matrix-product template instance, emulated with pairs of AVX2 registers, so its
 * blocking, packing, k slicing and edge logic can be tested on machines without AVX-512.
 *
 * nc/matmul_avx512.c compiles nc/matmul_template.h with 16-lane __m512 operations and the AVX-512
 * block sizes (MR 8, NV 2, KC 128, NP 2). This header compiles the SAME template with the SAME
 * parameters, but VEC is a struct of two __m256 halves and each V_* operation is applied to both
 * halves: lane for lane the arithmetic is identical (every lane is an independent fma chain), so
 * this instance runs exactly the code paths the real one runs, minus the literal 512-bit
 * instructions. Only the one-to-one mapping of V_* onto _mm512_* intrinsics stays untested
 * without AVX-512 hardware. */
#ifndef NNZIP_TESTS_MATMUL_AVX512_EMUL_H
#define NNZIP_TESTS_MATMUL_AVX512_EMUL_H

#include <immintrin.h>

#include "../nc/matmul_internal.h"

#define EMU_TARGET __attribute__((target("avx2,fma")))
#define EMU_INLINE static inline __attribute__((always_inline)) EMU_TARGET

typedef struct {
    __m256 lo, hi;
} emu512;

EMU_INLINE emu512 emu_zero(void)
{
    emu512 r = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    return r;
}
EMU_INLINE emu512 emu_loadu(const float *p)
{
    emu512 r = {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)};
    return r;
}
EMU_INLINE void emu_storeu(float *p, emu512 v)
{
    _mm256_storeu_ps(p, v.lo);
    _mm256_storeu_ps(p + 8, v.hi);
}
EMU_INLINE emu512 emu_bcast(const float *p)
{
    emu512 r = {_mm256_broadcast_ss(p), _mm256_broadcast_ss(p)};
    return r;
}
EMU_INLINE emu512 emu_fma(emu512 a, emu512 b, emu512 c)
{
    emu512 r = {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
    return r;
}

#define MM_SUFFIX avx512emu
#define MM_TARGET EMU_TARGET
#define VEC emu512
#define VL 16
#define V_ZERO() emu_zero()
#define V_LOADU(p) emu_loadu(p)
#define V_STOREU(p, v) emu_storeu((p), (v))
#define V_BCAST(p) emu_bcast(p)
#define V_FMA(a, b, c) emu_fma((a), (b), (c))
#define MR NC_MM_AVX512_MR
#define NV NC_MM_AVX512_NV
#define KC NC_MM_AVX512_KC
#define MC NC_MM_AVX512_MC
#define NP NC_MM_AVX512_NP

void nc_matmul_avx512emu(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                         size_t ldb, size_t M, size_t N, size_t K, int accumulate);
void nc_matmul_nt_avx512emu(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                            size_t ldb, size_t M, size_t N, size_t K, int accumulate);
void nc_matmul_tn_avx512emu(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                            size_t ldb, size_t M, size_t N, size_t K, int accumulate);

#include "../nc/matmul_template.h"

#endif
