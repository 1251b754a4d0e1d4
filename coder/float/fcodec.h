/* fcodec: the float-array mode (docs/format.md, "Float arrays"). A raw little-endian float32
 * array, or a whole NumPy .npy file of '<f4' in C order, is coded value by value by the float
 * predictor (model/float/fmodel.h): lossy within an exact bound E (coder/float/quant.h), or
 * bit for bit. The .nnz header gives model id MODEL_FLOAT, the kind of input and E; the
 * payload starts with a section holding the .npy header verbatim and the tensor list, then
 * the binary coder's bytes. The checksum covers the original file, header included. */
#ifndef NNZIP_CODER_FLOAT_FCODEC_H
#define NNZIP_CODER_FLOAT_FCODEC_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "opts.h"
#include "float/shapes.h"

#define FL_KIND_RAW 1u
#define FL_KIND_NPY 2u

typedef struct fl_opts {
    double max_error;         /* 0: lossless; else a bound fq_bound_ok accepts */
    const fl_tensor *tensors; /* NULL: one tensor (rows of the .npy shape's last dimension, or
                               * a flat array); else their counts add up to the array */
    uint32_t n_tensors;
} fl_opts;

/* Compress in (n bytes: a .npy file when it starts with the .npy magic, else raw float32) into
 * the .nnz file *out (caller frees). Input that is neither: NC_ERR_ARG, *why says why. */
nc_status fl_compress(uint8_t **out, size_t *out_len, const uint8_t *in, uint64_t n,
                      const fl_opts *fo, const codec_opts *o, const char **why);

/* codec.c's part for MODEL_FLOAT files: check the header's keys and the payload's section
 * against the sizes before anything is allocated; decode into dst (h->orig_size bytes). */
nc_status fl_inspect(const fmt_header *h, const model_config *cfg, const uint8_t *payload,
                     size_t len);
nc_status fl_decompress(uint8_t *dst, const fmt_header *h, const model_config *cfg,
                        const uint8_t *payload, size_t len, const codec_opts *o);

/* What a float file holds, for nnzip -l. */
typedef struct fl_info {
    unsigned kind;
    double max_error;
    uint64_t floats, header_bytes;
    uint32_t n_tensors;
} fl_info;
nc_status fl_describe(fl_info *info, const fmt_header *h, const model_config *cfg,
                      const uint8_t *payload, size_t len);

/* Bytes the decoder allocates besides the output (the predictor's tables). */
uint64_t fl_memory(const model_config *cfg);

#endif
