/* Body of the SIMD matrix products, compiled once per ISA (matmul_avx2.c, matmul_avx512.c).
 *
 * The including file defines:
 *   MM_SUFFIX            avx2 | avx512 (names become nc_matmul_<suffix>, ...)
 *   MM_TARGET            __attribute__((target(...))) for every function here
 *   VEC, VL              vector type and its float lanes
 *   V_ZERO() V_LOAD(p) V_LOADU(p) V_STOREU(p, v) V_BCAST(p) V_FMA(a, b, c) = a*b+c, one rounding
 *   MR, NV, KC, MC       blocking (matmul_internal.h)
 *
 * Order (the contract, see docs/determinism-matmul.md): each output element has exactly one
 * accumulator, one SIMD lane of one register, which runs acc = fma(a(i,k), b(k,j), acc) for
 * k = 0, 1, ..., K-1 in that order, starting from +0.0f or the old C. Vectors span j only. Blocking
 * over k (KC) stores the accumulator to C and reloads it for the next k block: a float store and
 * load are exact, so the chain is unchanged. Edges (fewer than NR columns) run in a small stack
 * tile and zero-padded B lanes; padded lanes are computed and thrown away, they never mix with
 * real lanes. Hence the bits depend on nothing but the inputs.
 *
 * Speed: C is cut into MC-row blocks (A block stays in L2) x KC-deep slices; for each slice every
 * NR-column panel of B is packed once into a contiguous, aligned KC x NR buffer that stays in L1 and
 * is swept by MR x NR register blocks (MR*NV independent accumulators hide FMA latency; per k one
 * broadcast of a(i,k) per row and NV loads of B feed MR*NV FMAs). */
#include <string.h>

#include "nc/nc.h"

#define MM_CAT2(a, b) a##b
#define MM_CAT(a, b) MM_CAT2(a, b)
#define MM(name) MM_CAT(MM_CAT(name, _), MM_SUFFIX)
#define NR (NV * VL)
#define MM_INLINE static inline __attribute__((always_inline)) MM_TARGET

/* How a(i,k) and b(k,j) sit in memory. */
enum { A_ROWS = 0 /* a(i,k) = A[i*lda + k] */, A_COLS = 1 /* a(i,k) = A[k*lda + i] */ };
enum { B_ROWS = 0 /* b(k,j) = B[k*ldb + j] */, B_COLS = 1 /* b(k,j) = B[j*ldb + k] */ };

/* The register block: C[0..mr)[0..NR) (row stride ldc) gets kc more steps of its chains, from
 * a = &a(0,0) of this block and the packed panel bp (kc x NR). mr and alayout are constants at
 * every call site, so the guards fold away. The accumulators are named variables, not an array:
 * gcc 12 spills a VEC array to the stack on every iteration, which halves the speed. */
#if NV != 2
#error "matmul_template.h: mm_block is written for NV == 2"
#endif
#define MM_ROW(r) VEC c##r##0 = V_ZERO(), c##r##1 = V_ZERO();
#define MM_LOADC(r)                                                                              \
    if (mr > r) {                                                                                \
        c##r##0 = V_LOADU(c + (size_t)r * ldc);                                                  \
        c##r##1 = V_LOADU(c + (size_t)r * ldc + VL);                                             \
    }
#define MM_STEP(r, ap)                                                                           \
    if (mr > r) {                                                                                \
        VEC x = V_BCAST(ap);                                                                     \
        c##r##0 = V_FMA(x, b0, c##r##0);                                                         \
        c##r##1 = V_FMA(x, b1, c##r##1);                                                         \
    }
#define MM_STOREC(r)                                                                             \
    if (mr > r) {                                                                                \
        V_STOREU(c + (size_t)r * ldc, c##r##0);                                                  \
        V_STOREU(c + (size_t)r * ldc + VL, c##r##1);                                             \
    }
#define MM_ALL(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

MM_INLINE void MM(mm_block)(const int mr, const int alayout, float *c, size_t ldc, const float *a,
                            size_t lda, const float *bp, size_t kc, int load_c)
{
    MM_ALL(MM_ROW)
    if (load_c) {
        MM_ALL(MM_LOADC)
    }
    if (alayout == A_ROWS) {
        const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
        for (size_t k = 0; k < kc; k++) {
            VEC b0 = V_LOAD(bp + k * NR), b1 = V_LOAD(bp + k * NR + VL);
            MM_STEP(0, a0 + k)
            MM_STEP(1, a1 + k)
            MM_STEP(2, a2 + k)
            MM_STEP(3, a3 + k)
            MM_STEP(4, a0 + 4 * lda + k)
            MM_STEP(5, a1 + 4 * lda + k)
            MM_STEP(6, a2 + 4 * lda + k)
            MM_STEP(7, a3 + 4 * lda + k)
        }
    } else {
        for (size_t k = 0; k < kc; k++) {
            const float *ak = a + k * lda;
            VEC b0 = V_LOAD(bp + k * NR), b1 = V_LOAD(bp + k * NR + VL);
            MM_STEP(0, ak + 0)
            MM_STEP(1, ak + 1)
            MM_STEP(2, ak + 2)
            MM_STEP(3, ak + 3)
            MM_STEP(4, ak + 4)
            MM_STEP(5, ak + 5)
            MM_STEP(6, ak + 6)
            MM_STEP(7, ak + 7)
        }
    }
    MM_ALL(MM_STOREC)
}

/* Instantiate mm_block for each row count 1..MR and each A layout. */
#define MM_ROWS(n)                                                                               \
    static MM_TARGET void MM(mm_rows##n)(int alayout, float *c, size_t ldc, const float *a,      \
                                         size_t lda, const float *bp, size_t kc, int load_c)     \
    {                                                                                            \
        if (alayout == A_ROWS)                                                                   \
            MM(mm_block)(n, A_ROWS, c, ldc, a, lda, bp, kc, load_c);                             \
        else                                                                                     \
            MM(mm_block)(n, A_COLS, c, ldc, a, lda, bp, kc, load_c);                             \
    }
MM_ROWS(1)
MM_ROWS(2)
MM_ROWS(3)
MM_ROWS(4)
MM_ROWS(5)
MM_ROWS(6)
#if MR > 6
MM_ROWS(7)
MM_ROWS(8)
#endif
#if MR > 8
#error "matmul_template.h: extend MM_ROWS for MR > 8"
#endif

typedef void (*MM(mm_rows_fn))(int, float *, size_t, const float *, size_t, const float *, size_t,
                               int);
static const MM(mm_rows_fn) MM(mm_rows)[MR + 1] = {
    NULL, MM(mm_rows1), MM(mm_rows2), MM(mm_rows3), MM(mm_rows4), MM(mm_rows5), MM(mm_rows6),
#if MR > 6
    MM(mm_rows7), MM(mm_rows8),
#endif
};

/* bp (kc x NR) = b(k, j) for j < nr, zero for the padding lanes j >= nr. */
static MM_TARGET void MM(mm_pack_rows)(float *bp, const float *B, size_t ldb, size_t kc, size_t nr)
{
    if (nr == NR) {
        for (size_t k = 0; k < kc; k++)
            for (int v = 0; v < NV; v++)
                V_STOREU(bp + k * NR + v * VL, V_LOADU(B + k * ldb + v * VL));
        return;
    }
    for (size_t k = 0; k < kc; k++) {
        size_t j = 0;
        for (; j < nr; j++)
            bp[k * NR + j] = B[k * ldb + j];
        for (; j < NR; j++)
            bp[k * NR + j] = 0.0f;
    }
}

/* The same from a transposed B: bp[k][j] = B[j*ldb + k]. Reads run along k (contiguous), four
 * columns at a time; the writes land in the L1-resident panel. */
static MM_TARGET void MM(mm_pack_cols)(float *bp, const float *B, size_t ldb, size_t kc, size_t nr)
{
    size_t j = 0;
    for (; j + 4 <= nr; j += 4) {
        const float *b0 = B + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
        for (size_t k = 0; k < kc; k++) {
            float *d = bp + k * NR + j;
            d[0] = b0[k];
            d[1] = b1[k];
            d[2] = b2[k];
            d[3] = b3[k];
        }
    }
    for (; j < nr; j++)
        for (size_t k = 0; k < kc; k++)
            bp[k * NR + j] = B[j * ldb + k];
    for (; j < NR; j++)
        for (size_t k = 0; k < kc; k++)
            bp[k * NR + j] = 0.0f;
}

static MM_TARGET void MM(mm_driver)(int alayout, int blayout, float *C, size_t ldc, const float *A,
                                    size_t lda, const float *B, size_t ldb, size_t M, size_t N,
                                    size_t K, int accumulate)
{
    if (K == 0) {
        if (!accumulate)
            for (size_t i = 0; i < M; i++)
                memset(C + i * ldc, 0, N * sizeof *C);
        return;
    }
    _Alignas(64) float bp[KC * NR];
    /* Equal k slices (e.g. K = 352 -> 176 + 176, not 256 + 96); only speed depends on this. */
    size_t nslices = (K + KC - 1) / KC, kstep = (K + nslices - 1) / nslices;
    for (size_t ic = 0; ic < M; ic += MC) {
        size_t mc = M - ic < MC ? M - ic : MC;
        for (size_t pc = 0; pc < K; pc += kstep) {
            size_t kc = K - pc < kstep ? K - pc : kstep;
            int load_c = accumulate || pc > 0; /* later slices continue the chain held in C */
            for (size_t jc = 0; jc < N; jc += NR) {
                size_t nr = N - jc < NR ? N - jc : NR;
                if (blayout == B_ROWS)
                    MM(mm_pack_rows)(bp, B + pc * ldb + jc, ldb, kc, nr);
                else
                    MM(mm_pack_cols)(bp, B + jc * ldb + pc, ldb, kc, nr);
                for (size_t i = ic; i < ic + mc; i += MR) {
                    size_t mr = ic + mc - i < MR ? ic + mc - i : MR;
                    const float *a = alayout == A_ROWS ? A + i * lda + pc : A + pc * lda + i;
                    float *c = C + i * ldc + jc;
                    if (nr == NR) {
                        MM(mm_rows)[mr](alayout, c, ldc, a, lda, bp, kc, load_c);
                    } else {
                        /* Right edge: run full-width lanes on a stack tile, keep the real ones. */
                        _Alignas(64) float t[MR * NR];
                        memset(t, 0, sizeof t);
                        if (load_c)
                            for (size_t r = 0; r < mr; r++)
                                memcpy(t + r * NR, c + r * ldc, nr * sizeof *t);
                        MM(mm_rows)[mr](alayout, t, NR, a, lda, bp, kc, load_c);
                        for (size_t r = 0; r < mr; r++)
                            memcpy(c + r * ldc, t + r * NR, nr * sizeof *t);
                    }
                }
            }
        }
    }
}

/* C (M,N) = A (M,K) . B (K,N) */
MM_TARGET void MM_CAT(nc_matmul_, MM_SUFFIX)(float *C, size_t ldc, const float *A, size_t lda,
                                             const float *B, size_t ldb, size_t M, size_t N,
                                             size_t K, int accumulate)
{
    MM(mm_driver)(A_ROWS, B_ROWS, C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}

/* C (M,N) = A (M,K) . B^T, B (N,K) */
MM_TARGET void MM_CAT(nc_matmul_nt_, MM_SUFFIX)(float *C, size_t ldc, const float *A, size_t lda,
                                                const float *B, size_t ldb, size_t M, size_t N,
                                                size_t K, int accumulate)
{
    MM(mm_driver)(A_ROWS, B_COLS, C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}

/* C (M,N) = A^T . B (K,N), A (K,M) */
MM_TARGET void MM_CAT(nc_matmul_tn_, MM_SUFFIX)(float *C, size_t ldc, const float *A, size_t lda,
                                                const float *B, size_t ldb, size_t M, size_t N,
                                                size_t K, int accumulate)
{
    MM(mm_driver)(A_COLS, B_ROWS, C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}
