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
 * nc's own failures. The same type carries the container's failures through the layers above
 * (model/status.h defines them: values 3-7, 9 and 11 up, which nc never returns), so a status
 * passes from a kernel to the library's caller unchanged. Values are never renumbered. */
typedef enum nc_status {
    NC_OK = 0,
    NC_ERR_NOMEM = 1,     /* an allocation failed */
    NC_ERR_ARG = 2,       /* a caller passed an invalid argument (our bug or a bad option) */
    NC_ERR_LIMIT = 8,     /* a size is outside what this build accepts */
    NC_ERR_UNSUPPORTED = 10 /* requested feature (e.g. an ISA) is not available here */
} nc_status;

/* A short English message for one of nc's codes ("unknown error" for others); never NULL. */
const char *nc_status_str(nc_status s);

/* ---- Elementary functions (math.c) ----------------------------------------------------------
 * Built only from IEEE + - * / sqrt, explicit fma and exact bit manipulation. */

/* Scalar functions: the canonical semantics (docs/determinism.md). Each is within 2 ulp of
 * the exact function except where stated, maps NaN to a quiet NaN (the input's payload,
 * quieted) and +-inf, +-0 to the function's limits, and never sets errno. Like all of nc they
 * assume the default FP environment: round to nearest even, no flush-to-zero. */
float nc_expf(float x);     /* e^x; +inf from x = 88.72284, +0 from x = -103.97209 */
float nc_logf(float x);     /* natural log; log(+-0) = -inf, log(x < 0) = NaN, log(+inf) = +inf */
float nc_tanhf(float x);    /* hyperbolic tangent, odd: tanhf(-0) = -0 */
float nc_sigmoidf(float x); /* 1 / (1 + e^-x), accurate in relative terms for all x */
/* The GELU nnzip uses is the tanh approximation 0.5 x (1 + tanh u), u = sqrt(2/pi) (x + 0.044715 x^3),
 * computed as x * sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)) (the same function). Within 2 ulp of
 * that formula, or within 2^-126 absolute: the latter matters only for x < -9.3, where
 * |gelu(x)| < 2^-100 and e^v is subnormal. */
float nc_geluf(float x);
/* d/dx of nc_geluf's formula; within 4 ulp or 2^-23 absolute (its terms cancel for x < 0). */
float nc_gelu_gradf(float x);

/* Array forms y[i] = f(x[i]) (nc_vexp, nc_vlog, nc_vtanh, nc_vsigmoid, nc_vgelu, nc_vgelu_grad)
 * are in the NC_KERNELS list below, with _ref/_avx2/_avx512 variants giving identical bits. */


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

/* A fixed set of threads that run a parallel-for. Chunks are handed out DYNAMICALLY: the caller and
 * whichever workers are awake claim them one at a time (starting in increasing order), so a
 * descheduled worker never holds up the others. Every chunk runs exactly once; which thread runs it
 * never affects results in nc, because kernels give each output element to exactly one chunk and
 * fix its operation order independently of the split. */
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
/* Run fn(arg, c) for every c in [0, nchunks) and return when all have finished, with their writes
 * visible to the caller (a worker that did not wake in time is not waited for). pool may be NULL
 * (the caller runs every chunk in order). A pool runs one parallel-for at a time: do not call this
 * concurrently on one pool, nor from inside fn. */
void nc_pool_for(nc_pool *pool, size_t nchunks, nc_pool_fn fn, void *arg);


/* ---- Matrix products (matmul) ------------------------------------------------------------------ */
/* Row-major matrices with leading dimensions (row strides, in floats, >= the row width), so any
 * sub-block or unaligned slice can be passed. Canonical order (docs/determinism.md): every
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
/* Every kernel below exists in three variants with bit-identical results:
 *   NAME_ref     portable C (kernels_ref.c): the canonical semantics, on any IEEE-754 machine;
 *   NAME_avx2    x86-64 with AVX2+FMA (kernels_avx2.c);
 *   NAME_avx512  x86-64 with AVX-512F (kernels_avx512.c).
 * The SIMD variants do not check the CPU; whoever dispatches must. They are declared everywhere
 * but defined only on x86: elsewhere only the _ref kernels exist. The list is written once
 * (NC_KERNELS) and declared per suffix, so the variants cannot drift apart; a dispatcher can
 * build its function table from the same list.
 *
 * Conventions: outputs first, then inputs, then sizes. Matrices are row-major with contiguous
 * rows: "x is (M,N)" means M rows of N floats. Element-wise kernels take a flat length n (any
 * shape, flattened). An output may be the very same pointer as an element-wise input (y == a);
 * any other overlap is not allowed. Arrays need no alignment. "+=" outputs accumulate into what
 * the caller put there. Canonical orders and every place FMA is used: docs/determinism.md.
 *   min(a,b) means (a < b ? a : b) and max(a,b) means (a > b ? a : b), exactly as x86 MINPS/MAXPS,
 *   which fixes the result for signed zeros (and NaN). fma(a,b,c) is a*b+c rounded once.
 *   sum16(...) is the canonical row reduction: 16 interleaved partial sums, a fixed pairwise
 *   tree, then the tail in index order. */
/* Shape of a windowed attention (ATTENTION op): T query steps of S streams, H heads of dk (query,
 * key) and dv (value) columns, mem earlier positions; the window has W = mem + 1 positions and
 * keys/values P = mem + T. */
typedef struct nc_attn_dims {
    size_t T, S, mem, heads, dk, dv;
} nc_attn_dims;

#define NC_KERNELS(X)                                                                           \
    /* ---- elementary functions, y[i] = f(x[i]), all (n); y may equal x (math.c) */          \
    X(void, nc_vexp, (float *y, const float *x, size_t n))                                     \
    X(void, nc_vlog, (float *y, const float *x, size_t n))                                     \
    X(void, nc_vtanh, (float *y, const float *x, size_t n))                                    \
    X(void, nc_vsigmoid, (float *y, const float *x, size_t n))                                 \
    X(void, nc_vgelu, (float *y, const float *x, size_t n))                                    \
    X(void, nc_vgelu_grad, (float *y, const float *x, size_t n))                               \
    /* ---- element-wise, all arrays (n) */                                                     \
    /* y = a + b */                                                                             \
    X(void, nc_add, (float *y, const float *a, const float *b, size_t n))                      \
    /* y = a - b */                                                                             \
    X(void, nc_sub, (float *y, const float *a, const float *b, size_t n))                      \
    /* y = a * b */                                                                             \
    X(void, nc_mul, (float *y, const float *a, const float *b, size_t n))                      \
    /* y = x * s */                                                                             \
    X(void, nc_scale, (float *y, const float *x, float s, size_t n))                           \
    /* y = fma(a, x, y): y += a*x rounded once */                                               \
    X(void, nc_axpy, (float *y, const float *x, float a, size_t n))                            \
    /* y = fma(a, b, c): a*b + c rounded once; y may be c, giving y += a*b */                   \
    X(void, nc_muladd, (float *y, const float *a, const float *b, const float *c, size_t n))   \
    /* y = min(a, b) */                                                                         \
    X(void, nc_min, (float *y, const float *a, const float *b, size_t n))                      \
    /* y = max(a, b) */                                                                         \
    X(void, nc_max, (float *y, const float *a, const float *b, size_t n))                      \
    /* y = min(max(x, lo), hi) */                                                               \
    X(void, nc_clamp, (float *y, const float *x, float lo, float hi, size_t n))                \
    /* Adam, one step on (n) elements (the formula and its order: docs/determinism.md,       */ \
    /* "Optimiser"; nc_adam_step computes c1, c2). m is NULL when beta1 = 0 (then m = g).     */ \
    /* p, m, v are updated in place; grad is read. No two arrays may overlap.                 */ \
    /*   g = clip > 0 ? min(max(grad, -clip), clip) : grad                                    */ \
    /*   m = fma(beta1, m, (1 - beta1)*g);  v = fma(beta2, v, (1 - beta2)*(g*g))             */ \
    /*   u = (m / c1) / (sqrt(v / c2) + eps);  p = p - lr*u                                   */ \
    X(void, nc_adam_update, (float *p, float *m, float *v, const float *grad, float lr,        \
                             float beta1, float beta2, float c1, float c2, float eps,          \
                             float clip, size_t n))                                            \
    /* LSTM cell, gates already activated; all (n); c may be c_prev:                          */ \
    /*   t = min(1 - f, i);  c = fma(c_prev, f, t*g);  h = o*c                                 */ \
    X(void, nc_lstm_cell_forward, (float *c, float *h, const float *c_prev, const float *f,    \
                                   const float *i, const float *g, const float *o, size_t n)) \
    /* Its backward, all (n). dh = dL/dh, dc = dL/dc from later steps (may be NULL for zero), */ \
    /* c = the forward output. Writes (not accumulates) the gradients w.r.t. c_prev and the   */ \
    /* gate activations; d_c_prev may be dc. With s = (1 - f < i), the branch min took:       */ \
    /*   e = fma(dh, o, dc);  d_o = dh*c;  dt = e*g;  d_g = e*min(1 - f, i);                  */ \
    /*   d_f = fma(e, c_prev, -(s ? dt : 0));  d_i = s ? 0 : dt;  d_c_prev = e*f              */ \
    X(void, nc_lstm_cell_backward, (float *d_c_prev, float *d_f, float *d_i, float *d_g,       \
                                    float *d_o, const float *dh, const float *dc,              \
                                    const float *c_prev, const float *f, const float *i,       \
                                    const float *g, const float *o, const float *c, size_t n)) \
    /* ---- row broadcasts: y, x are (M,N) */                                                  \
    /* y[r][j] = x[r][j] + bias[j];  bias is (N) */                                             \
    X(void, nc_add_bias, (float *y, const float *x, const float *bias, size_t M, size_t N))    \
    /* y[r][j] = x[r][j] - s[r];  s is (M) (softmax: subtract the row max) */                   \
    X(void, nc_row_sub, (float *y, const float *x, const float *s, size_t M, size_t N))        \
    /* y[r][j] = x[r][j] * s[r];  s is (M) */                                                   \
    X(void, nc_row_scale, (float *y, const float *x, const float *s, size_t M, size_t N))      \
    /* y[r][j] = x[r][j] / s[r];  s is (M) (softmax: divide by the row sum), IEEE division */   \
    X(void, nc_row_div, (float *y, const float *x, const float *s, size_t M, size_t N))        \
    /* ---- reductions along rows: x, a, b are (M,N), y is (M) */                              \
    /* y[r] = sum16(x[r][j]); partials start at +0, adds are plain */                           \
    X(void, nc_row_sum, (float *y, const float *x, size_t M, size_t N))                        \
    /* y[r] = sum16 of squares: partial p = fma(x, x, p), tail s = fma(x, x, s) */              \
    X(void, nc_row_sumsq, (float *y, const float *x, size_t M, size_t N))                      \
    /* y[r] = max16(x[r][j]): same order as sum16 with max; partials start at -inf */           \
    X(void, nc_row_max, (float *y, const float *x, size_t M, size_t N))                        \
    /* y[r] = sum16 of a*b: p = fma(a, b, p), tail s = fma(a, b, s) */                          \
    X(void, nc_row_dot, (float *y, const float *a, const float *b, size_t M, size_t N))        \
    /* ---- reduction over rows: x is (M,N), y is (N) */                                        \
    /* y[j] += x[0][j], then += x[1][j], ... in increasing row order (bias gradient) */          \
    X(void, nc_col_sum_acc, (float *y, const float *x, size_t M, size_t N))                    \
    /* ---- normalisation: x, y, dx, dy are (M,N); g, b, dg, db are (N); mean, rstd are (M) */  \
    /* RMSNorm: rstd = 1/sqrt(sumsq/N + eps); y = (x*rstd)*g. rstd is saved for backward. */    \
    X(void, nc_rmsnorm_forward, (float *y, float *rstd, const float *x, const float *g,        \
                                 float eps, size_t M, size_t N))                               \
    /* Writes dx; dg += over rows in increasing order. See the docs for the exact formulas. */  \
    X(void, nc_rmsnorm_backward, (float *dx, float *dg, const float *dy, const float *x,       \
                                  const float *g, const float *rstd, size_t M, size_t N))      \
    /* LayerNorm: mean = sum/N; rstd = 1/sqrt(sum16((x-mean)^2)/N + eps);                     */ \
    /* y = fma((x-mean)*rstd, g, b). mean and rstd are saved for backward.                    */ \
    X(void, nc_layernorm_forward, (float *y, float *mean, float *rstd, const float *x,         \
                                   const float *g, const float *b, float eps, size_t M,        \
                                   size_t N))                                                  \
    /* Writes dx; dg, db += over rows in increasing order. */                                   \
    X(void, nc_layernorm_backward, (float *dx, float *dg, float *db, const float *dy,          \
                                    const float *x, const float *g, const float *mean,         \
                                    const float *rstd, size_t M, size_t N))                    \
    /* ---- gather / scatter: table is (V,N), out and grad are (M,N), idx is (M) */            \
    /* out[r] = table[idx[r]]. NC_ERR_ARG (nothing written) if some idx[r] >= V. */             \
    X(nc_status, nc_gather_rows, (float *out, const float *table, const uint32_t *idx,         \
                                  size_t M, size_t N, size_t V))                               \
    /* table_grad[idx[r]] += grad[r] for r = 0, 1, ... in that order, so repeated indices     */ \
    /* always accumulate in increasing r. NC_ERR_ARG (nothing written) if some idx >= V.      */ \
    X(nc_status, nc_scatter_add_rows, (float *table_grad, const float *grad,                   \
                                       const uint32_t *idx, size_t M, size_t N, size_t V))     \
    /* ---- windowed multi-head attention, one (stream s, head h) unit per call: nc_attn_dims  */ \
    /* and the op ATTENTION (docs/determinism.md "Attention"). Rows of unit (s,h) are         */ \
    /* disjoint from every other unit's, so units may run on different threads.              */ \
    /* Forward: q (T*S,H*dk), k (P*S,H*dk), v (P*S,H*dv), bias (H*W) -> out (T*S,H*dv),      */ \
    /* p (T*S,H*W) (saved); kt (P*S,H*dk) scratch: the unit's keys transposed.               */ \
    X(void, nc_attn_fwd, (float *out, float *p, float *kt, const float *q, const float *k,     \
                          const float *v, const float *bias, float scale,                      \
                          const nc_attn_dims *d, size_t s, size_t h))                          \
    /* ds (T*S,H*W) = gradient of the scores from dout (T*S,H*dv), p and v (P*S,H*dv);       */ \
    /* vt (P*S,H*dv) scratch: the unit's values transposed.                                  */ \
    X(void, nc_attn_bwd_p, (float *ds, float *vt, const float *dout, const float *p,           \
                            const float *v, const nc_attn_dims *d, size_t s, size_t h))        \
    /* dq, dk, dv from ds, p, q, k, dout; bit k of acc: output k (dq, dk, dv) accumulates */   \
    X(void, nc_attn_bwd_qkv, (float *dq, float *dk, float *dv, const float *ds, const float *p, \
                              const float *q, const float *k, const float *dout, float scale,  \
                              const nc_attn_dims *d, size_t s, size_t h, unsigned acc))

#define NC_KERNEL_DECLARE_REF(ret, name, params) ret name##_ref params;
#define NC_KERNEL_DECLARE_AVX2(ret, name, params) ret name##_avx2 params;
#define NC_KERNEL_DECLARE_AVX512(ret, name, params) ret name##_avx512 params;
NC_KERNELS(NC_KERNEL_DECLARE_REF)
NC_KERNELS(NC_KERNEL_DECLARE_AVX2)
NC_KERNELS(NC_KERNEL_DECLARE_AVX512)

/* The kernels of the active ISA, as a table built from the same list: for example
 * nc_kernels()->nc_add(y, a, b, n). The table follows nc_isa_select at once; since every variant
 * gives the same bits, which one runs never changes a result. nc_kernels_for(isa) gives a given
 * ISA's table (NULL if isa is not an nc_isa); call its SIMD entries only where supported. */
typedef struct nc_kernel_table {
#define NC_KERNEL_FIELD(ret, name, params) ret(*name) params;
    NC_KERNELS(NC_KERNEL_FIELD)
#undef NC_KERNEL_FIELD
} nc_kernel_table;
const nc_kernel_table *nc_kernels(void);
const nc_kernel_table *nc_kernels_for(nc_isa isa);

/* Softmax family (softmax.c), composed row by row from the dispatched kernels above, so they give
 * the same bits on every path. x, y, dx, dy, logp are (M,N) with N >= 1 and finite x; y may equal
 * x, dx may equal dy. The row order of operations, per row r:
 *   softmax:      m = row_max(x);  y = e^(x - m);  s = row_sum(y);  y = y / s
 *   log-softmax:  m = row_max(x);  z = x - m;  s = row_sum(exp(z));  y = z - nc_logf(s)
 * tmp is (N) scratch, untouched between calls. */
void nc_softmax_forward(float *y, const float *x, size_t M, size_t N);
void nc_log_softmax_forward(float *y, float *tmp, const float *x, size_t M, size_t N);
/* dx = y * (dy - row_dot(dy, y)), with y the softmax output; tmp is (N) scratch. */
void nc_softmax_backward(float *dx, float *tmp, const float *dy, const float *y, size_t M, size_t N);
/* dx = fma(-row_sum(dy), e^logp, dy), with logp the log-softmax output; tmp is (N). */
void nc_log_softmax_backward(float *dx, float *tmp, const float *dy, const float *logp, size_t M,
                             size_t N);
/* Cross-entropy against integer targets: loss[r] = -logp[r][target[r]], loss is (M).
 * NC_ERR_ARG (nothing written) if a target is >= N. */
nc_status nc_cross_entropy(float *loss, const float *logp, const uint32_t *target, size_t M, size_t N);



/* ---- Optimiser (optim.c) ---------------------------------------------------------------------
 * Adam on a program's one parameter allocation and one gradient allocation (nc_program_params,
 * nc_program_grads: n floats each, same layout). The formula and its exact order of operations
 * are in docs/determinism.md, "Optimiser"; in short, at the k-th call (k = 1, 2, ...)
 *     b1k = b1k*beta1, b2k = b2k*beta2 (float running products from 1, so no powf);
 *     c1 = 1 - b1k, c2 = 1 - b2k;  then per element nc_adam_update (see NC_KERNELS).
 * The moments live in one zeroed allocation (v, and m unless beta1 = 0). */
typedef struct nc_adam_config {
    float beta1; /* 0 = no first moment (NNCP's setting): no m array is allocated */
    float beta2; /* e.g. 0.9999 */
    float eps;   /* e.g. 1e-5 */
    float clip;  /* per-element gradient clip to [-clip, clip] before use; 0 = off */
} nc_adam_config;
typedef struct nc_adam nc_adam;
/* Optimiser state for n parameters, zeroed (step count 0). NULL on bad config (beta1 or beta2
 * outside [0, 1), eps not > 0 or not finite, clip < 0 or NaN), on n too large, or no memory.
 * n = 0 is allowed (steps then do nothing but count). Free with nc_adam_free. */
nc_adam *nc_adam_new(size_t n, const nc_adam_config *cfg);
void nc_adam_free(nc_adam *a); /* NULL allowed */
/* One step: params -= lr * update, with bias correction computed from the step count inside (the
 * k-th call uses step k = 1, 2, ...). grads are read, not changed. Threads split the n elements
 * into fixed chunks; bits never depend on pool or ISA. params and grads must not overlap; pool
 * may be NULL (this thread). NC_ERR_ARG (nothing changed, step not counted) if a is NULL, n is
 * not the n given to nc_adam_new, a pointer is NULL while n > 0, or lr is NaN. */
nc_status nc_adam_step(nc_adam *a, nc_pool *pool, float *params, const float *grads, size_t n,
                       float lr);
/* Bytes of the moment allocation: 4n (beta1 = 0) or 8n; 0 for NULL. */
size_t nc_adam_state_bytes(const nc_adam *a);

/* Learning-rate schedule, stored in file headers. Up to 4 points (step, lr) with strictly
 * increasing steps; lr is piecewise linear between them, pt[0].lr before the first, and after
 * the last either constant (decay = 0) or lr_last * sqrt(step_last / step) (decay = 1). Computed
 * in float in a fixed order (docs/determinism.md, "Optimiser"), exact at every point, monotone on
 * every segment, the same bits on every machine. */
#define NC_LR_SCHED_MAX_POINTS 4
typedef struct nc_lr_point {
    uint64_t step;
    float lr;
} nc_lr_point;
typedef struct nc_lr_sched {
    uint32_t npoints; /* 1 .. NC_LR_SCHED_MAX_POINTS */
    uint32_t decay;   /* 0: constant after the last point; 1: 1/sqrt decay */
    nc_lr_point pt[NC_LR_SCHED_MAX_POINTS];
} nc_lr_sched;
/* NC_OK if s is a valid schedule: npoints in 1..4, steps strictly increasing, every lr finite
 * and >= 0, decay 0 or 1, and with decay the last step >= 1. NC_ERR_ARG otherwise (or NULL).
 * A decoder reading a schedule from a file checks it with this before use. */
nc_status nc_lr_sched_check(const nc_lr_sched *s);
/* The learning rate at `step`; 0 for a schedule nc_lr_sched_check refuses. */
float nc_lr_schedule(const nc_lr_sched *s, uint64_t step);


/* ---- Model bytecode (nc/ops.def graph.c program.c autodiff.c liveness.c timestep.c exec.c dump.c) -------
 * A model's forward pass over a training segment is written once as a linear program of tensor
 * ops on 2-D float values; compiling derives the backward program (autodiff), drops dead code and
 * plans one workspace by liveness. Rows are time-major: row t*S + s is step t of stream s.
 *
 * Builders take and return value ids (>= 0). Errors are sticky: the first bad call (unknown id,
 * shape mismatch, size out of range, out of memory) is recorded in the graph, returns -1, and
 * every later builder call is a no-op returning -1, so model code can run straight through and
 * check nc_graph_status once. */
typedef struct nc_graph nc_graph;
typedef struct nc_program nc_program;

/* Parameter initialisation. UNIFORM draws from [-a, a) with a splitmix64 stream seeded from the
 * graph seed and the parameter's ordinal, converted to float exactly (24-bit integers), then one
 * multiply by a: identical on every machine. CONST sets every element to a. */
typedef enum nc_init { NC_INIT_UNIFORM = 0, NC_INIT_CONST = 1 } nc_init;

/* Largest rows * cols of one value (also each of rows, cols). */
#define NC_GRAPH_MAX_ELEMS ((size_t)1 << 31)

/* A new empty graph; NULL if out of memory. Free with nc_graph_free (NULL allowed). */
nc_graph *nc_graph_new(uint64_t seed);
void nc_graph_free(nc_graph *g);
/* NC_OK, or the first error a builder call met. */
nc_status nc_graph_status(const nc_graph *g);

/* The number of values (ids are 0 .. count-1); 0 for NULL. */
int nc_graph_value_count(const nc_graph *g);
/* The shape of value v; NC_ERR_ARG (outputs untouched) for an unknown id. */
nc_status nc_graph_shape(const nc_graph *g, int v, size_t *rows, size_t *cols);

/* Leaves. rows, cols >= 1. */
int nc_g_param(nc_graph *g, size_t rows, size_t cols, nc_init init, float a); /* trained */
int nc_g_input(nc_graph *g, size_t rows, size_t cols); /* floats bound for each run */
int nc_g_index(nc_graph *g, size_t n);                 /* n uint32 indices (n,1) bound per run */

/* Ops. Shapes in comments are (rows, cols). */
int nc_g_matmul(nc_graph *g, int x, int w);    /* x(M,K) . w(K,N) -> (M,N) */
int nc_g_matmul_nt(nc_graph *g, int x, int w); /* x(M,K) . w(N,K)^T -> (M,N) */
int nc_g_add(nc_graph *g, int a, int b);       /* element-wise, same shapes */
int nc_g_sub(nc_graph *g, int a, int b);
int nc_g_mul(nc_graph *g, int a, int b);
int nc_g_min(nc_graph *g, int a, int b);       /* a < b ? a : b */
int nc_g_add_bias(nc_graph *g, int x, int b);  /* x(M,N) + b(1,N) */
int nc_g_scale(nc_graph *g, int x, float s);   /* x * s */
int nc_g_one_minus(nc_graph *g, int x);        /* 1 - x */
int nc_g_sigmoid(nc_graph *g, int x);
int nc_g_tanh(nc_graph *g, int x);
int nc_g_exp(nc_graph *g, int x);
int nc_g_gelu(nc_graph *g, int x);
int nc_g_softmax(nc_graph *g, int x);          /* along rows */
int nc_g_log_softmax(nc_graph *g, int x);
int nc_g_cross_entropy(nc_graph *g, int logp, int target); /* logp(M,N), target index(M) -> (M,1) */
int nc_g_rmsnorm(nc_graph *g, int x, int gain, float eps);          /* gain (1,N) */
int nc_g_layernorm(nc_graph *g, int x, int gain, int bias, float eps); /* gain, bias (1,N) */
int nc_g_gather(nc_graph *g, int table, int idx);     /* table(V,N), idx(M) -> (M,N) */
int nc_g_concat_cols(nc_graph *g, int a, int b);      /* (M,N1), (M,N2) -> (M,N1+N2) */
int nc_g_slice_cols(nc_graph *g, int x, size_t c0, size_t n); /* columns [c0, c0+n) */
int nc_g_concat_rows(nc_graph *g, int a, int b);      /* (M1,N), (M2,N) -> (M1+M2,N) */
int nc_g_slice_rows(nc_graph *g, int x, size_t r0, size_t n); /* rows [r0, r0+n) */
/* v[0], ..., v[n-1] joined in order (n >= 1; n = 1 returns v[0]), built as a balanced tree of the
 * binary concats: O(n log n) copies, where a chain of n concats (collecting T time steps) copies
 * O(n^2). */
int nc_g_concat_rows_n(nc_graph *g, const int *v, size_t n);
int nc_g_concat_cols_n(nc_graph *g, const int *v, size_t n);
int nc_g_transpose(nc_graph *g, int x);              /* (M,N) -> (N,M) */
/* The same elements in row-major order as (rows, cols); rows*cols must equal x's count. */
int nc_g_reshape(nc_graph *g, int x, size_t rows, size_t cols);
/* Windowed multi-head attention with a key/value memory (Transformer-XL style, sliding window),
 * so every query row attends to the same number of positions and causality is structural.
 * q is (T*S, H*dk) time-major; k (P*S, H*dk) and v (P*S, H*dv) hold P = mem + T positions: the
 * mem positions before step 0 followed by the T current ones (in a model, concat_rows of a memory
 * state input and the current keys); bias is a (1, H*W) parameter, W = mem + 1, the learned
 * relative-position bias (index j = 0 the oldest position of the window, W-1 the current one).
 * mem is derived from the row counts: rows(k) - rows(q) = mem * S. Query row t*S+s, head h,
 * attends to rows (t+j)*S+s, j = 0 .. mem, with
 *     score_j = (scale * dot(q_h, k_h)) + bias[h*W + j],  p = softmax_j(score),
 *     out_h   = sum_j p_j v_h
 * in the canonical orders of docs/determinism.md ("Attention"). Returns out (T*S, H*dv).
 * NC_ERR_ARG (sticky) unless rows(q) % S == 0, rows(k) = rows(v) >= rows(q), their difference a
 * multiple of S, cols(q) == cols(k), both cols(q) and cols(v) multiples of H, bias (1, H*W). */
int nc_g_attention(nc_graph *g, int q, int k, int v, int bias, size_t streams, size_t heads,
                   float scale);
/* (1,1): each row summed in the canonical row order (sum16), then the row sums added in
 * increasing row order starting from +0. */
int nc_g_sum_all(nc_graph *g, int x);

/* Mark v as an output (readable after each run), or as the scalar (1,1) loss to differentiate
 * (also an output). Return the graph status. */
nc_status nc_g_output(nc_graph *g, int v);
nc_status nc_g_loss(nc_graph *g, int v);

/* Per-timestep structure (see nc_graph_timestep). nc_g_step tags the instructions built next
 * with time step t (0 <= t <= 32767), or -1 (the default) for time-parallel ones. nc_g_state
 * declares a recurrent state: in is a float input (S,N) holding the state before step 0, out the
 * value of that state after the last step, same shape (marked as an output); after a run the
 * caller copies out into in's buffer to carry the state to the next segment. A key/value memory
 * for attention is a state too: in (mem*S,N) holds the mem positions before step 0 and out is
 * slice_rows(concat_rows(in, current), T*S, mem*S) (nc_graph_timestep). NC_ERR_ARG (sticky)
 * for a bad tag, in not an input, shapes that differ, out == in, or in declared twice. Both
 * return the graph status. */
nc_status nc_g_step(nc_graph *g, int t);
nc_status nc_g_state(nc_graph *g, int in, int out);

/* The per-timestep conversion (docs/architecture.md, "Per-timestep conversion"). g is a
 * per-segment forward graph over T steps of S streams: S is the streams argument of its
 * ATTENTION instructions (all equal) or, without attention, the row count of its states (at least
 * one; all equal); T is 1 + the largest step tag, or without step tags rows(q)/S of the
 * attention. Builds in *out a new graph that runs ONE step
 * of the S streams and gives, step after step, the same bits as g gives for that step:
 * time-parallel values of T*S rows (and inputs of T*S rows, such as the symbol indices) get S
 * rows; the instructions of step 0 are kept and those of steps >= 1 dropped, after checking that
 * every step repeats the previous one (same ops, shapes, constants; operands that are the same
 * time-parallel value or parameter, or the corresponding value of the previous step, or for
 * step 1 the value each state input is carried from). slice_rows(x, 0, S) of step 0 becomes x
 * itself, the row concatenation of the step outputs becomes the step-0 output, each state output
 * the step-0 value in its place. The loss, and whatever sums over all rows, is dropped (the
 * per-timestep graph has no loss).
 *
 * Key/value memory states (attention): a state input kin of mem*S rows read by a time-parallel
 * kall = concat_rows(kin, kcur) (kcur time-parallel, T*S rows), kall read only by ATTENTION (as
 * k or v) and by slice_rows(kall, T*S, mem*S), which must be the state output paired with kin.
 * In *out kall has (mem+1)*S rows, the attention S query rows and the state output becomes
 * slice_rows(kall, S, mem*S): run step after step with the state carried, every query row reads
 * the same W = mem+1 key/value rows in the same order as in g, so its bits are the same.
 * ATTENTION must be time-parallel (untagged); with mem = 0 its k and v are plain time-parallel
 * values and no state is needed. Memory states and step-carried states (S rows) may be mixed;
 * a state input read by a time-parallel concat_rows is a memory state and may be read by
 * nothing else. TRANSPOSE and RESHAPE are kept on time-invariant values and refused on
 * time-parallel ones.
 *
 * Value ids are kept: parameters (same order, so the same parameter allocation layout), inputs,
 * and every value computed by a kept instruction have the same id in *out as in g. If map is not
 * NULL it receives nc_graph_value_count(g) entries: map[v] = the id in *out of the value standing
 * for v (a concatenation of step outputs, a step-0 slice or a state output maps to the step-0
 * value it became, a kept value to itself), or -1 where v has none (values of steps >= 1 other
 * than state outputs, partial concatenations, the loss). Outputs and states are carried over.
 * *out is owned by the caller (nc_graph_free); g is unchanged.
 *
 * NC_ERR_ARG (*out NULL) when g has an error status or a gradient-only op, has neither an
 * attention nor a state and a step, or anything the rewrite cannot prove equivalent: steps out of order or of different
 * structure, a step reading a value of a step other than its own or the previous one, a state
 * input read outside step 0, a time-parallel instruction mixing rows of different steps or not
 * row-wise, a state output that is not a value of the last step, an output that would change
 * meaning; an attention tagged with a step or with another S, a memory state read twice or by a
 * step, its concat read by anything but attention and its slice (or marked as an output), a
 * memory state output that is not exactly that slice. NC_ERR_NOMEM. */
nc_status nc_graph_timestep(const nc_graph *g, nc_graph **out, int *map);

/* The decoder's feed (feed.c). A decoder runs the one-step program T times, then trains on the
 * segment with the training program, whose forward would compute every value again. A feed
 * instead copies, after each step, that step's part of every value the training program's
 * backward reads (and of its outputs) from the one-step program into the training workspace;
 * after the last step nc_program_backward can run at once, with the same bits as forward +
 * backward.
 *
 * nc_feed_new: g is the per-segment graph, train its program compiled with NC_COMPILE_GRAD. Builds
 * in *one the one-step graph exactly as nc_graph_timestep does (same ids; map as there), with the
 * values the feed copies also marked as outputs, and the feed in *out. Compile *one, then after
 * each run of it as step t = 0 .. T-1 (in order) call nc_feed_step; after step T-1 the training
 * program's forward counts as done (its loss value is not computed). The training program's
 * inputs must then hold the segment's inputs, as for a normal run. NC_ERR_ARG as
 * nc_graph_timestep; NC_ERR_UNSUPPORTED if the backward reads a value the one-step program never
 * holds (a sum over rows, say); NC_ERR_NOMEM. Free with nc_feed_free (NULL allowed). */
typedef struct nc_feed nc_feed;
nc_status nc_feed_new(const nc_graph *g, const nc_program *train, nc_graph **one, int *map,
                      nc_feed **out);
nc_status nc_feed_step(nc_feed *f, nc_program *train, const nc_program *step, int t);
void nc_feed_free(nc_feed *f);

/* A 64-bit hash of everything that defines the graph (seed, values, shapes, init, instructions in
 * order, constants, marks; not the build or the machine). Compile is a pure function of the graph,
 * so equal fingerprints give equal programs. The encoder can store it and the decoder compare it:
 * model code that builds a different graph (for example because C leaves the evaluation order of
 * two builder calls in one argument list unspecified, so gcc and clang order the instructions
 * differently) is then detected instead of silently decoding garbage. */
uint64_t nc_graph_fingerprint(const nc_graph *g);

/* Compile flags. GRAD: append the backward program (needs a loss) producing the gradient of every
 * parameter. NO_REUSE: give every activation its own workspace slot (also forced by the test
 * switch NNZIP_NO_REUSE=1 in the environment, read once). */
#define NC_COMPILE_GRAD 1u
#define NC_COMPILE_NO_REUSE 2u

/* Compile g (which stays unchanged and owned by the caller) into a new program: copies the
 * instructions, derives the backward pass if asked, drops instructions whose results reach no
 * output, loss or gradient, plans the workspace, allocates parameters (initialised as declared),
 * gradients (zero) and workspace. NC_ERR_ARG if g has an error status or GRAD without a loss,
 * NC_ERR_NOMEM; *out is NULL on error. The result is a pure function of the graph and flags. */
nc_status nc_graph_compile(const nc_graph *g, unsigned flags, nc_program **out);
void nc_program_free(nc_program *p); /* NULL allowed */

/* Bind the caller's buffer to INPUT or index value v: rows*cols floats, or n uint32 indices.
 * The buffer is read during each nc_program_run and must stay valid until rebound or freed.
 * NC_ERR_ARG if v is not an input. */
nc_status nc_program_bind(nc_program *p, int v, const void *data);
/* Run forward (and backward, if compiled with GRAD) once. Matrix products, and element-wise and
 * row-wise instructions of 32768 floats or more, are split over pool (NULL = this thread); the
 * result bits never depend on pool, thread count or ISA.
 * NC_ERR_ARG if an input is unbound or an index is out of range (values are then unspecified). */
nc_status nc_program_run(nc_program *p, nc_pool *pool);
/* The same run in two halves, so a coder can use the forward outputs (the probabilities of a
 * segment) before the backward pass trains on them: run = forward + backward, bit for bit.
 * Between the two, outputs may be read but inputs, bindings and parameters must not change (the
 * backward pass reads them). backward is NC_ERR_ARG unless a forward succeeded just before; on a
 * program compiled without GRAD it does nothing. */
nc_status nc_program_forward(nc_program *p, nc_pool *pool);
nc_status nc_program_backward(nc_program *p, nc_pool *pool);
/* After a run: an output's or the loss's data (rows*cols floats). For a PARAM: its parameters
 * (writable, persist across runs); for nc_program_grad, its gradient. NULL for other ids. The
 * pointers stay valid until nc_program_free. */
const float *nc_program_value(const nc_program *p, int v);
float *nc_program_param(nc_program *p, int v);
const float *nc_program_grad(const nc_program *p, int v);
/* The one parameter allocation and the one gradient allocation (same layout), n floats each. */
float *nc_program_params(nc_program *p, size_t *n);
/* Copy n floats into the parameter allocation: how a per-timestep program (nc_graph_timestep)
 * takes the training program's parameters (nc_program_params), once per segment. NC_ERR_ARG if
 * n is not the program's parameter count. */
nc_status nc_program_set_params(nc_program *p, const float *params, size_t n);
/* Make p read owner's parameter allocation instead of its own (which is freed), so a training
 * program's optimiser steps reach its per-timestep program without copying. The two must
 * declare the same parameters in the same order (as nc_graph_timestep keeps them); owner must
 * outlive p and not itself borrow. NC_ERR_ARG otherwise (p unchanged). */
nc_status nc_program_share_params(nc_program *p, nc_program *owner);
const float *nc_program_grads(const nc_program *p, size_t *n);
/* Workspace bytes as planned, and without reuse (the sum over all planned values). */
void nc_program_workspace(const nc_program *p, size_t *planned_bytes, size_t *naive_bytes);
/* Optional trace hook for measurement tools: while fn is set, every nc_program_run / _forward /
 * _backward calls fn(ctx, i, 0) before and fn(ctx, i, 1) after instruction i (0 .. count-1 over
 * forward then backward instructions, in order), so a tool can time each instruction without the
 * library reading a clock. fn = NULL (the default) turns it off. The hook never changes a result
 * bit; it must not touch the program. */
void nc_program_set_trace(nc_program *p, void (*fn)(void *ctx, int instr, int phase), void *ctx);

/* Write a text listing (values, then one line per instruction: op, outputs <- inputs, each as
 * v<id>(rows,cols), "+=" on accumulating outputs) into buf as snprintf does: at most cap bytes
 * including the NUL; returns the full length. nc_graph_dump lists the graph as built (forward
 * instructions, no plan); nc_program_dump the compiled program with backward instructions and
 * workspace offsets (@ in floats). */
size_t nc_graph_dump(const nc_graph *g, char *buf, size_t cap);
size_t nc_program_dump(const nc_program *p, char *buf, size_t cap);


#ifdef __cplusplus
}
#endif
#endif /* NC_NC_H */
