/* Matrix product entry points: pick the active ISA's kernel and split the output over a pool.
 *
 * The output is cut into T rectangular tiles (T = thread count), each computed by one call of the
 * single-threaded kernel on a sub-matrix. Every kernel computes each element with the canonical
 * chain no matter where its sub-matrix starts or how big it is, so tiling never changes bits; it
 * only decides speed:
 *  - tall products (the per-segment ones, M >= ~100 per thread) are cut into row bands, so every
 *    thread streams its own rows of A and packs its own B panels;
 *  - short products (per-timestep, M = 16..64) are cut into column bands: each thread reads all of
 *    A (small) but packs only its share of B (the big operand).
 * Cuts fall on multiples of the kernel's register block, so no thread gets a ragged edge inside
 * the matrix. */
#include "matmul_internal.h"
#include "nc/nc.h"

typedef void (*mm_fn)(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                      size_t ldb, size_t M, size_t N, size_t K, int accumulate);

enum { MM_NN, MM_NT, MM_TN };

static const mm_fn mm_table[3][NC_ISA_COUNT] = {
    [MM_NN] = {nc_matmul_ref, nc_matmul_avx2, nc_matmul_avx512},
    [MM_NT] = {nc_matmul_nt_ref, nc_matmul_nt_avx2, nc_matmul_nt_avx512},
    [MM_TN] = {nc_matmul_tn_ref, nc_matmul_tn_avx2, nc_matmul_tn_avx512},
};
static const size_t mm_block_rows[NC_ISA_COUNT] = {1, NC_MM_AVX2_MR, NC_MM_AVX512_MR};
static const size_t mm_block_cols[NC_ISA_COUNT] = {1, NC_MM_AVX2_NV * 8, NC_MM_AVX512_NV * 16};

/* Rows per thread below which a product is cut into column bands instead of row bands. */
#define MM_MIN_ROWS_PER_THREAD 96

struct mm_job {
    mm_fn fn;
    int kind;
    float *C;
    const float *A, *B;
    size_t ldc, lda, ldb, M, N, K;
    int accumulate;
    size_t tiles_m, tiles_n, unit_m, unit_n;
};

/* Start of tile t of n over `len`, rounded down to a multiple of `unit`; tile n starts at len. */
static size_t cut(size_t t, size_t n, size_t len, size_t unit)
{
    if (t >= n)
        return len;
    size_t x = len * t / n;
    return x - x % unit;
}

static void mm_tile(void *arg, size_t chunk)
{
    const struct mm_job *j = arg;
    size_t tm = chunk / j->tiles_n, tn = chunk % j->tiles_n;
    size_t i0 = cut(tm, j->tiles_m, j->M, j->unit_m), i1 = cut(tm + 1, j->tiles_m, j->M, j->unit_m);
    size_t j0 = cut(tn, j->tiles_n, j->N, j->unit_n), j1 = cut(tn + 1, j->tiles_n, j->N, j->unit_n);
    if (i0 == i1 || j0 == j1)
        return;
    const float *a = j->kind == MM_TN ? j->A + i0 : j->A + i0 * j->lda;
    const float *b = j->kind == MM_NT ? j->B + j0 * j->ldb : j->B + j0;
    j->fn(j->C + i0 * j->ldc + j0, j->ldc, a, j->lda, b, j->ldb, i1 - i0, j1 - j0, j->K,
          j->accumulate);
}

static void mm_run(int kind, nc_pool *pool, float *C, size_t ldc, const float *A, size_t lda,
                   const float *B, size_t ldb, size_t M, size_t N, size_t K, int accumulate)
{
    nc_isa isa = nc_isa_active();
    mm_fn fn = mm_table[kind][isa];
    size_t T = (size_t)nc_pool_threads(pool);
    if (T == 1 || M == 0 || N == 0) {
        fn(C, ldc, A, lda, B, ldb, M, N, K, accumulate);
        return;
    }
    struct mm_job job = {fn, kind, C, A, B, ldc, lda, ldb, M, N, K, accumulate, 1, 1,
                         mm_block_rows[isa], mm_block_cols[isa]};
    if (M >= T * MM_MIN_ROWS_PER_THREAD || N < T * job.unit_n)
        job.tiles_m = T;
    else
        job.tiles_n = T;
    nc_pool_for(pool, job.tiles_m * job.tiles_n, mm_tile, &job);
}

void nc_matmul(nc_pool *pool, float *C, size_t ldc, const float *A, size_t lda, const float *B,
               size_t ldb, size_t M, size_t N, size_t K, int accumulate)
{
    mm_run(MM_NN, pool, C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}

void nc_matmul_nt(nc_pool *pool, float *C, size_t ldc, const float *A, size_t lda,
                  const float *B, size_t ldb, size_t M, size_t N, size_t K, int accumulate)
{
    mm_run(MM_NT, pool, C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}

void nc_matmul_tn(nc_pool *pool, float *C, size_t ldc, const float *A, size_t lda,
                  const float *B, size_t ldb, size_t M, size_t N, size_t K, int accumulate)
{
    mm_run(MM_TN, pool, C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}
