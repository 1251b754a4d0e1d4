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



#ifdef __cplusplus
}
#endif
#endif /* NC_NC_H */
