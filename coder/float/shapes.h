/* shapes: the tensor list of a float array, read from a JSON side file.
 *
 * The file describes how a raw float32 array is cut into tensors:
 *   {"tensors": [{"name": "F_0/kernel", "shape": [3, 3, 64, 64], "offset": 0, "count": 36864},
 *                ...], ...}
 * Other keys, at the top level and in each tensor (name, dtype, ...), are ignored. The JSON
 * reader is strict (RFC 8259: no comments, no trailing commas, no NaN, UTF-8 not validated
 * inside strings), nests at most FL_JSON_MAX_DEPTH deep, and never reads past len: the buffer
 * need not be NUL-terminated. */
#ifndef NNZIP_CODER_FLOAT_SHAPES_H
#define NNZIP_CODER_FLOAT_SHAPES_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define FL_JSON_MAX_DEPTH 64     /* arrays and objects, the top-level object included */
#define FL_MAX_TENSORS (1u << 24) /* entries of "tensors" */

typedef struct fl_tensor {
    uint64_t count; /* floats in the tensor */
    uint64_t row;   /* length of its last dimension (1 for a scalar / empty shape) */
} fl_tensor;

/* Parse json (len bytes). On NC_OK *out (caller frees) holds *n >= 1 tensors in offset order.
 * Every entry of "tensors" must be an object with "shape" (an array of non-negative integers),
 * "offset" and "count" (non-negative integers), listed in offset order and tiling the array from
 * 0: offset[i+1] == offset[i] + count[i], count == the product of the shape (1 for []).
 * Entries with count 0 are checked, then left out of *out.
 * Errors (*out NULL, *n 0):
 *   NC_ERR_FORMAT  a JSON syntax error ("shapes: JSON syntax error at byte 123"), nesting
 *                  deeper than FL_JSON_MAX_DEPTH, or valid JSON that is not such a list (a
 *                  missing or repeated key, a value of the wrong type, offsets that do not
 *                  tile, a count that is not the shape's product, no tensor with any floats);
 *   NC_ERR_LIMIT   more than FL_MAX_TENSORS entries;
 *   NC_ERR_ARG     the counts do not add up to total_floats, the array's length
 *                  ("shapes: tensors cover 1000 floats, the array has 1004"), or a NULL pointer;
 *   NC_ERR_NOMEM.
 * Syntax is checked over the whole text before its meaning, so a damaged or cut file always
 * reports the syntax error. why (may be NULL) gets NULL on NC_OK, else a one-line reason in a
 * thread-local buffer, valid until this thread's next fl_shapes_parse or npy_parse call. */
nc_status fl_shapes_parse(fl_tensor **out, uint32_t *n, const char *json, size_t len,
                          uint64_t total_floats, const char **why);

#endif
