/* nc: nnzip's deterministic numeric library -- the one public header.
 *
 * Everything here computes the same bits on every x86-64 CPU and every IEEE-754 machine, for any
 * thread count: see docs/determinism.md for the rules and how they are tested. */
#ifndef NC_NC_H
#define NC_NC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes --------------------------------------------------------------------------
 * Shared by nc, the coder and the models. Values are part of the tools' behaviour and are never
 * renumbered; add new ones at the end. */
typedef enum nc_status {
    NC_OK = 0,
    NC_ERR_NOMEM = 1,     /* an allocation failed */
    NC_ERR_ARG = 2,       /* a caller passed an invalid argument (our bug or a bad option) */
    NC_ERR_IO = 3,        /* read or write failed; errno holds the cause */
    NC_ERR_CORRUPT = 4,   /* compressed data is inconsistent */
    NC_ERR_TRUNCATED = 5, /* compressed data ends early */
    NC_ERR_FORMAT = 6,    /* not an .nnz file (bad magic) */
    NC_ERR_VERSION = 7,   /* .nnz file from a newer, unknown format version */
    NC_ERR_LIMIT = 8,     /* a header field is outside what this build accepts */
    NC_ERR_CHECKSUM = 9,  /* decoded data does not match the stored checksum */
    NC_ERR_UNSUPPORTED = 10 /* requested feature (e.g. an ISA) is not available here */
} nc_status;

/* A short English message for a status; never NULL. */
const char *nc_status_str(nc_status s);

/* ---- Elementary functions (math.c) ----------------------------------------------------------
 * Built only from IEEE + - * / sqrt, explicit fma and exact bit manipulation. */


/* ---- ISA selection and thread pool (cpu.c, thread.c) ------------------------------------------ */
/* Every kernel family has a scalar reference `name_ref` (the canonical semantics) and SIMD variants
 * `name_avx2`, `name_avx512` that produce the SAME BITS. The active ISA is process-global; it
 * starts as the best one this CPU and OS support and may be lowered (for tests, benchmarks, or to
 * rule out a SIMD bug) with nc_isa_select. Because all paths are bit-identical, switching never
 * changes a result, only speed. Dispatch pattern for a kernel family:
 *     static void (*const tab[NC_ISA_COUNT])(...) = { f_ref, f_avx2, f_avx512 };
 *     tab[nc_isa_active()](...);                                                                 */
typedef enum nc_isa {
    NC_ISA_REF = 0,    /* portable scalar C: the reference, available everywhere */
    NC_ISA_AVX2 = 1,   /* x86-64 AVX2 + FMA (CPUID and OS-enabled YMM state) */
    NC_ISA_AVX512 = 2  /* x86-64 AVX-512F (CPUID and OS-enabled ZMM + opmask state); implies AVX2 */
} nc_isa;
#define NC_ISA_COUNT 3

/* 1 if this CPU and OS can run `isa`, else 0 (also 0 for values outside the enum). */
int nc_isa_supported(nc_isa isa);
/* The fastest supported ISA. */
nc_isa nc_isa_best(void);
/* The ISA kernels dispatch to now; thread-safe. */
nc_isa nc_isa_active(void);
/* Make `isa` the active ISA. NC_ERR_UNSUPPORTED if this machine lacks it, NC_ERR_ARG if `isa` is
 * not an nc_isa. On error the active ISA is unchanged. */
nc_status nc_isa_select(nc_isa isa);
/* "ref", "avx2", "avx512"; "unknown" for other values. Never NULL. */
const char *nc_isa_name(nc_isa isa);
/* Parse "ref" | "avx2" | "avx512" into *out. NC_ERR_ARG for anything else (out untouched). */
nc_status nc_isa_parse(const char *name, nc_isa *out);
/* The feature switch for tests and tools: if the environment variable NNZIP_ISA is set and not
 * empty, parse it and select that ISA. Call once at program start. NC_OK if unset/empty (the
 * default stays), NC_ERR_ARG for an unknown name, NC_ERR_UNSUPPORTED if this machine lacks it;
 * on error the active ISA is unchanged, so the caller can print a clear message and stop. */
nc_status nc_isa_from_env(void);

/* A fixed set of threads that run a parallel-for. Work is split STATICALLY: with T threads and n
 * chunks, thread t (the caller is thread 0) runs chunks [t*n/T, (t+1)*n/T) in increasing order.
 * Every chunk runs exactly once; which thread runs it never affects results in nc, because kernels
 * give each output element to exactly one chunk and fix its operation order independently of the
 * split. */
typedef struct nc_pool nc_pool;
/* A chunk of work: called once per chunk index, possibly concurrently for different chunks. */
typedef void (*nc_pool_fn)(void *arg, size_t chunk);
/* A pool of `nthreads` threads in total, including the caller (so nthreads - 1 workers are started;
 * 1 is valid and starts none). NULL if nthreads < 1 or > NC_POOL_MAX_THREADS, or if memory or
 * threads cannot be had. Free with nc_pool_free. */
#define NC_POOL_MAX_THREADS 256
nc_pool *nc_pool_new(int nthreads);
/* Stop and join the workers and free the pool. NULL is allowed. Not while nc_pool_for runs. */
void nc_pool_free(nc_pool *pool);
/* Total thread count (1 for a NULL pool). */
int nc_pool_threads(const nc_pool *pool);
/* Run fn(arg, c) for every c in [0, nchunks) and return when all have finished. pool may be NULL
 * (the caller runs every chunk in order). A pool runs one parallel-for at a time: do not call this
 * concurrently on one pool, nor from inside fn. */
void nc_pool_for(nc_pool *pool, size_t nchunks, nc_pool_fn fn, void *arg);


/* ---- Matrix products (matmul) ------------------------------------------------------------------ */
/* Row-major matrices with leading dimensions (row strides, in floats, >= the row width), so any
 * sub-block or unaligned slice can be passed. Canonical order (docs/determinism-matmul.md): every
 * output element is ONE sequential fma chain in increasing k,
 *     acc = init;  for k = 0 .. K-1: acc = fmaf(a(i,k), b(k,j), acc);  C[i][j] = acc;
 * where init = +0.0f, or the old C[i][j] when `accumulate` is non-zero (so C += product is the
 * same chain started from old C, not the product added afterwards). K = 0 thus stores +0.0f, or
 * leaves C unchanged when accumulating. SIMD paths vectorise across j only, so the bits do not
 * depend on ISA, blocking, M, alignment, or thread count. Elements of C outside the M x N block
 * (the ldc padding) are never read or written. C must not overlap A or B.
 *
 * `_ref`, `_avx2`, `_avx512` are single-threaded variants; `_avx2`/`_avx512` must only be called
 * when nc_isa_supported says so. The entry points without suffix use nc_isa_active() and split the
 * output over `pool` (NULL = the calling thread only). */

/* C (M,N) = A (M,K) . B (K,N) */
void nc_matmul(nc_pool *pool, float *C, size_t ldc, const float *A, size_t lda, const float *B,
               size_t ldb, size_t M, size_t N, size_t K, int accumulate);
void nc_matmul_ref(float *C, size_t ldc, const float *A, size_t lda, const float *B, size_t ldb,
                   size_t M, size_t N, size_t K, int accumulate);
void nc_matmul_avx2(float *C, size_t ldc, const float *A, size_t lda, const float *B, size_t ldb,
                    size_t M, size_t N, size_t K, int accumulate);
void nc_matmul_avx512(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                      size_t ldb, size_t M, size_t N, size_t K, int accumulate);

/* C (M,N) = A (M,K) . B^T, with B (N,K):  C[i][j] = sum_k A[i][k] B[j][k] */
void nc_matmul_nt(nc_pool *pool, float *C, size_t ldc, const float *A, size_t lda,
                  const float *B, size_t ldb, size_t M, size_t N, size_t K, int accumulate);
void nc_matmul_nt_ref(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                      size_t ldb, size_t M, size_t N, size_t K, int accumulate);
void nc_matmul_nt_avx2(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                       size_t ldb, size_t M, size_t N, size_t K, int accumulate);
void nc_matmul_nt_avx512(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                         size_t ldb, size_t M, size_t N, size_t K, int accumulate);

/* C (M,N) = A^T . B (K,N), with A (K,M):  C[i][j] = sum_k A[k][i] B[k][j] */
void nc_matmul_tn(nc_pool *pool, float *C, size_t ldc, const float *A, size_t lda,
                  const float *B, size_t ldb, size_t M, size_t N, size_t K, int accumulate);
void nc_matmul_tn_ref(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                      size_t ldb, size_t M, size_t N, size_t K, int accumulate);
void nc_matmul_tn_avx2(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                       size_t ldb, size_t M, size_t N, size_t K, int accumulate);
void nc_matmul_tn_avx512(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                         size_t ldb, size_t M, size_t N, size_t K, int accumulate);


/* ---- Element-wise, normalisation, gather/scatter, reductions ----------------------------------- */



#ifdef __cplusplus
}
#endif
#endif /* NC_NC_H */
