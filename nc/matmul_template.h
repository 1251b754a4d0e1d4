/* Body of the SIMD matrix products, compiled once per ISA (matmul_avx2.c, matmul_avx512.c).
 *
 * The including file defines:
 *   MM_SUFFIX            avx2 | avx512 (names become nc_matmul_<suffix>, ...)
 *   MM_TARGET            __attribute__((target(...))) for every function here
 *   VEC, VL              vector type and its float lanes
 *   V_ZERO() V_LOADU(p) V_STOREU(p, v) V_BCAST(p) V_FMA(a, b, c) = a*b+c, one rounding
 *   MR, NV, KC, MC, NP   blocking (matmul_internal.h)
 *
 * Order (the contract, see docs/determinism.md): each output element has exactly one
 * accumulator, one SIMD lane of one register, which runs acc = fma(a(i,k), b(k,j), acc) for
 * k = 0, 1, ..., K-1 in that order, starting from +0.0f or the old C. Vectors span j only. Blocking
 * over k (KC) stores the accumulator to C and reloads it for the next k block: a float store and
 * load are exact, so the chain is unchanged. Edges (fewer than NR columns) run in a small stack
 * tile and zero-padded B lanes; padded lanes are computed and thrown away, they never mix with
 * real lanes. Hence the bits depend on nothing but the inputs.
 *
 * Speed: C is cut into MC-row blocks (the A block stays in L2) x KC-deep slices; for each slice NP
 * panels of B (NR columns each) are packed together into a contiguous, aligned buffer, and each
 * panel (KC x NR, in L1) is swept by MR x NR register blocks: MR*NV independent accumulators hide
 * the FMA latency; per k, one broadcast of a(i,k) per row and NV loads of B feed MR*NV FMAs.
 * A.B^T transposes B while packing (8 x 8 AVX blocks); A^T.B also packs its A block; short
 * products read B in place (MM_DIRECT_B_ROWS). */
#include <stdlib.h>
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
 * a = &a(0,0) of this block and the B panel bp (kc x NR, row stride ldbp: NR when packed, ldb when
 * read in place). mr and alayout are constants at every call site, so the guards fold away.
 * The accumulators are named variables, not an array: gcc 12 spills a VEC array to the stack on
 * every iteration, which halves the speed. */
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
                            size_t lda, const float *bp, size_t ldbp, size_t kc, int load_c)
{
    MM_ALL(MM_ROW)
    if (load_c) {
        MM_ALL(MM_LOADC)
    }
    if (alayout == A_ROWS) {
        /* Row pointers past the block's last row are never formed (mr is a constant here). */
        const float *a0 = a, *a1 = mr > 1 ? a + lda : a, *a2 = mr > 2 ? a + 2 * lda : a,
                    *a3 = mr > 3 ? a + 3 * lda : a;
        for (size_t k = 0; k < kc; k++) {
            VEC b0 = V_LOADU(bp + k * ldbp), b1 = V_LOADU(bp + k * ldbp + VL);
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
            VEC b0 = V_LOADU(bp + k * ldbp), b1 = V_LOADU(bp + k * ldbp + VL);
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
                                         size_t lda, const float *bp, size_t ldbp, size_t kc,    \
                                         int load_c)                                             \
    {                                                                                            \
        if (alayout == A_ROWS)                                                                   \
            MM(mm_block)(n, A_ROWS, c, ldc, a, lda, bp, ldbp, kc, load_c);                       \
        else                                                                                     \
            MM(mm_block)(n, A_COLS, c, ldc, a, lda, bp, ldbp, kc, load_c);                       \
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
                               size_t, int);
static const MM(mm_rows_fn) MM(mm_rows)[MR + 1] = {
    NULL, MM(mm_rows1), MM(mm_rows2), MM(mm_rows3), MM(mm_rows4), MM(mm_rows5), MM(mm_rows6),
#if MR > 6
    MM(mm_rows7), MM(mm_rows8),
#endif
};

/* Rows of B ahead of the one being packed that are prefetched: the panel reads one or two cache
 * lines per row with a stride of ldb, often a whole page, which the hardware prefetchers follow
 * poorly; without this the small-M products wait on memory latency. */
#define MM_PREFETCH_AHEAD 12

/* Pack several panels at once: panel p (kc x NR at bp + p * ps) = b(k, p*NR + j) for the
 * nb columns present, zero in the padding lanes. Reading NP * NR floats of each B row together
 * (several adjacent cache lines) instead of one panel's 64 bytes per row keeps the hardware
 * streamers useful and avoids refetching lines that a power-of-two ldb had evicted by the time
 * the next panel wanted them. */
static MM_TARGET void MM(mm_pack_rows)(float *bp, size_t ps, const float *B, size_t ldb, size_t kc,
                                       size_t nb)
{
    size_t full = nb / NR, rest = nb % NR;
    for (size_t k = 0; k < kc; k++) {
        const float *b = B + k * ldb;
        if (k + MM_PREFETCH_AHEAD < kc) {
            const float *pf = B + (k + MM_PREFETCH_AHEAD) * ldb;
            for (size_t x = 0; x < nb; x += 16)
                _mm_prefetch((const char *)(pf + x), _MM_HINT_T0);
            _mm_prefetch((const char *)(pf + nb - 1), _MM_HINT_T0);
        }
        for (size_t p = 0; p < full; p++)
            for (int v = 0; v < NV; v++)
                V_STOREU(bp + p * ps + k * NR + v * VL, V_LOADU(b + p * NR + v * VL));
        if (rest) {
            float *d = bp + full * ps + k * NR;
            size_t j = 0;
            for (; j < rest; j++)
                d[j] = b[full * NR + j];
            for (; j < NR; j++)
                d[j] = 0.0f;
        }
    }
}

/* d[r * ldd + c] = s[c * lds + r] for an 8 x 8 block: the classic unpack/shuffle/permute
 * transpose (AVX instructions, available under both targets). Data movement only. */
static inline __attribute__((always_inline)) MM_TARGET void
MM(mm_transpose8)(float *d, size_t ldd, const float *s, size_t lds)
{
    __m256 r0 = _mm256_loadu_ps(s + 0 * lds), r1 = _mm256_loadu_ps(s + 1 * lds);
    __m256 r2 = _mm256_loadu_ps(s + 2 * lds), r3 = _mm256_loadu_ps(s + 3 * lds);
    __m256 r4 = _mm256_loadu_ps(s + 4 * lds), r5 = _mm256_loadu_ps(s + 5 * lds);
    __m256 r6 = _mm256_loadu_ps(s + 6 * lds), r7 = _mm256_loadu_ps(s + 7 * lds);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    _mm256_storeu_ps(d + 0 * ldd, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(d + 1 * ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(d + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(d + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(d + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(d + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(d + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(d + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/* One panel from a transposed B: bp[k][j] = B[j*ldb + k], in 8 x 8 blocks; ragged edges scalar.
 * Rows of B are read along k, contiguously, so no block packing is needed here. */
static MM_TARGET void MM(mm_pack_cols1)(float *bp, const float *B, size_t ldb, size_t kc, size_t nr)
{
    size_t j = 0, k8 = kc & ~(size_t)7;
    for (; j + 8 <= nr; j += 8) {
        for (size_t k = 0; k < k8; k += 8)
            MM(mm_transpose8)(bp + k * NR + j, NR, B + j * ldb + k, ldb);
        for (size_t k = k8; k < kc; k++)
            for (size_t jj = j; jj < j + 8; jj++)
                bp[k * NR + jj] = B[jj * ldb + k];
    }
    for (; j < nr; j++)
        for (size_t k = 0; k < kc; k++)
            bp[k * NR + j] = B[j * ldb + k];
    for (; j < NR; j++)
        for (size_t k = 0; k < kc; k++)
            bp[k * NR + j] = 0.0f;
}

static MM_TARGET void MM(mm_pack_cols)(float *bp, size_t ps, const float *B, size_t ldb, size_t kc,
                                       size_t nb)
{
    for (size_t p = 0; p * NR < nb; p++) {
        size_t nr = nb - p * NR < NR ? nb - p * NR : NR;
        MM(mm_pack_cols1)(bp + p * ps, B + p * NR * ldb, ldb, kc, nr);
    }
}

/* A^T.B: copy the A block a(i, k) = A[k*lda + i], i < mc, k < kc into MR-row groups, each kc x MR
 * contiguous (zero rows past mc), so the kernel reads one stream instead of kc rows lda apart
 * (with a power-of-two M those rows all collide in the same cache sets). Copies only. */
static MM_TARGET void MM(mm_pack_a_cols)(float *ap, const float *A, size_t lda, size_t kc,
                                         size_t mc)
{
    for (size_t g = 0; g * MR < mc; g++) {
        size_t i0 = g * MR, mr = mc - i0 < MR ? mc - i0 : MR;
        float *d = ap + g * KC * MR;
        for (size_t k = 0; k < kc; k++) {
            const float *s = A + k * lda + i0;
            size_t r = 0;
            for (; r < mr; r++)
                d[k * MR + r] = s[r];
            for (; r < MR; r++)
                d[k * MR + r] = 0.0f;
        }
    }
}

/* Short products (<= this many rows, e.g. one timestep of 16) use each B element only a few times,
 * so packing it costs more than it saves: full panels are read in place, unless ldb is a multiple
 * of 512 floats (2 KiB), where the rows of a panel fall into a few cache sets and packing wins.
 * Measured on Zen 4; changes speed only. */
#define MM_DIRECT_B_ROWS 24

/* One register block of C (mr x nr at c) over a k slice; a ragged right edge (nr < NR) runs
 * full-width lanes on a stack tile and keeps the real ones. */
static inline __attribute__((always_inline)) MM_TARGET void
MM(mm_tile)(int alayout, float *c, size_t ldc, const float *a, size_t la, const float *panel,
            size_t ldp, size_t kc, int load_c, size_t mr, size_t nr)
{
    if (nr == NR) {
        MM(mm_rows)[mr](alayout, c, ldc, a, la, panel, ldp, kc, load_c);
        return;
    }
    _Alignas(64) float t[MR * NR];
    memset(t, 0, sizeof t);
    if (load_c)
        for (size_t r = 0; r < mr; r++)
            memcpy(t + r * NR, c + r * ldc, nr * sizeof *t);
    MM(mm_rows)[mr](alayout, t, NR, a, la, panel, ldp, kc, load_c);
    for (size_t r = 0; r < mr; r++)
        memcpy(c + r * ldc, t + r * NR, nr * sizeof *t);
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
    _Alignas(64) float bp[NP * KC * NR]; /* packed B: 64 KiB of stack */
    /* A^T.B packs A too, into the heap (too big for a polite stack); if that fails it reads A in
     * place: slower, same bits. */
    size_t mcap = M < MC ? (M + MR - 1) / MR * MR : MC; /* rows of the largest A block */
    float *ap = alayout == A_COLS && M ? aligned_alloc(64, mcap * KC * sizeof(float)) : NULL;
    /* Equal k slices (e.g. K = 352 -> 176 + 176, not 256 + 96); only speed depends on this. */
    size_t nslices = (K + KC - 1) / KC, kstep = (K + nslices - 1) / nslices;
    for (size_t ic = 0; ic < M; ic += MC) {
        size_t mc = M - ic < MC ? M - ic : MC;
        int direct = blayout == B_ROWS && mc <= MM_DIRECT_B_ROWS && ldb % 512 != 0;
        for (size_t pc = 0; pc < K; pc += kstep) {
            size_t kc = K - pc < kstep ? K - pc : kstep;
            int load_c = accumulate || pc > 0; /* later slices continue the chain held in C */
            /* As many panels per packed block as bp holds: thin slices (small K) get wide blocks,
             * so the C rows below are walked in long contiguous runs. */
            size_t ps = kc * NR, bw = NP * KC / kc * NR;
            if (ap)
                MM(mm_pack_a_cols)(ap, A + pc * lda + ic, lda, kc, mc);
            for (size_t jb = 0; jb < N; jb += bw) {
                size_t nb = N - jb < bw ? N - jb : bw;
                if (direct) {
                    if (nb % NR) /* full panels are read in place; only a ragged one is packed */
                        MM(mm_pack_rows)(bp, ps, B + pc * ldb + jb + nb / NR * NR, ldb, kc,
                                         nb % NR);
                } else if (blayout == B_ROWS) {
                    MM(mm_pack_rows)(bp, ps, B + pc * ldb + jb, ldb, kc, nb);
                } else {
                    MM(mm_pack_cols)(bp, ps, B + jb * ldb + pc, ldb, kc, nb);
                }
                for (size_t i = ic; i < ic + mc; i += MR) {
                    size_t mr = ic + mc - i < MR ? ic + mc - i : MR;
                    const float *a = alayout == A_ROWS ? A + i * lda + pc : A + pc * lda + i;
                    size_t la = lda;
                    if (ap) {
                        a = ap + (i - ic) / MR * KC * MR;
                        la = MR;
                    }
                    for (size_t jc = jb; jc < jb + nb; jc += NR) {
                        size_t nr = jb + nb - jc < NR ? jb + nb - jc : NR;
                        const float *panel = bp + (jc - jb) / NR * ps;
                        size_t ldp = NR;
                        if (direct && nr == NR) {
                            panel = B + pc * ldb + jc;
                            ldp = ldb;
                        } else if (direct) {
                            panel = bp;
                        }
                        MM(mm_tile)(alayout, C + i * ldc + jc, ldc, a, la, panel, ldp, kc, load_c,
                                    mr, nr);
                    }
                }
            }
        }
    }
    free(ap);
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
