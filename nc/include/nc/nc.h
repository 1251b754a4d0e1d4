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


/* ---- Matrix products (matmul) ------------------------------------------------------------------ */


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
#define NC_KERNELS(X)                                                                           \
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
                                       const uint32_t *idx, size_t M, size_t N, size_t V))

#define NC_KERNEL_DECLARE_REF(ret, name, params) ret name##_ref params;
#define NC_KERNEL_DECLARE_AVX2(ret, name, params) ret name##_avx2 params;
#define NC_KERNEL_DECLARE_AVX512(ret, name, params) ret name##_avx512 params;
NC_KERNELS(NC_KERNEL_DECLARE_REF)
NC_KERNELS(NC_KERNEL_DECLARE_AVX2)
NC_KERNELS(NC_KERNEL_DECLARE_AVX512)



#ifdef __cplusplus
}
#endif
#endif /* NC_NC_H */
