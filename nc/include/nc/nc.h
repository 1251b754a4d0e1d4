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

/* Scalar functions: the canonical semantics (docs/determinism-math.md). Each is within 2 ulp of
 * the exact function except where stated, maps NaN to a quiet NaN (the input's payload,
 * quieted) and +-inf, +-0 to the function's limits, and never sets errno. Like all of nc they
 * assume the default FP environment: round to nearest even, no flush-to-zero. */
float nc_expf(float x);     /* e^x; +inf from x = 88.72284, +0 from x = -103.97209 */
float nc_logf(float x);     /* natural log; log(+-0) = -inf, log(x < 0) = NaN, log(+inf) = +inf */
float nc_tanhf(float x);    /* hyperbolic tangent, odd: tanhf(-0) = -0 */
float nc_sigmoidf(float x); /* 1 / (1 + e^-x), accurate in relative terms for all x */
/* The GELU nnzip uses is the tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))),
 * computed as x * sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)) (the same function). Within 2 ulp of
 * that formula, or within 2^-126 absolute: the latter matters only for x < -9.3, where
 * |gelu(x)| < 2^-100 and e^v is subnormal. */
float nc_geluf(float x);
/* d/dx of nc_geluf's formula; within 4 ulp or 2^-23 absolute (its terms cancel for x < 0). */
float nc_gelu_gradf(float x);

/* Array forms: y[i] = f(x[i]) for 0 <= i < n. y may equal x (in place); no other overlap.
 * _ref, _avx2 and _avx512 give identical bits for every input. _avx2 needs a CPU with AVX2 and
 * FMA, _avx512 one with AVX-512F; the caller checks (see the ISA selection section). */
void nc_vexp_ref(float *y, const float *x, size_t n);
void nc_vexp_avx2(float *y, const float *x, size_t n);
void nc_vexp_avx512(float *y, const float *x, size_t n);
void nc_vlog_ref(float *y, const float *x, size_t n);
void nc_vlog_avx2(float *y, const float *x, size_t n);
void nc_vlog_avx512(float *y, const float *x, size_t n);
void nc_vtanh_ref(float *y, const float *x, size_t n);
void nc_vtanh_avx2(float *y, const float *x, size_t n);
void nc_vtanh_avx512(float *y, const float *x, size_t n);
void nc_vsigmoid_ref(float *y, const float *x, size_t n);
void nc_vsigmoid_avx2(float *y, const float *x, size_t n);
void nc_vsigmoid_avx512(float *y, const float *x, size_t n);
void nc_vgelu_ref(float *y, const float *x, size_t n);
void nc_vgelu_avx2(float *y, const float *x, size_t n);
void nc_vgelu_avx512(float *y, const float *x, size_t n);
void nc_vgelu_grad_ref(float *y, const float *x, size_t n);
void nc_vgelu_grad_avx2(float *y, const float *x, size_t n);
void nc_vgelu_grad_avx512(float *y, const float *x, size_t n);


/* ---- ISA selection and thread pool (cpu.c, thread.c) ------------------------------------------ */


/* ---- Matrix products (matmul) ------------------------------------------------------------------ */


/* ---- Element-wise, normalisation, gather/scatter, reductions ----------------------------------- */



#ifdef __cplusplus
}
#endif
#endif /* NC_NC_H */
