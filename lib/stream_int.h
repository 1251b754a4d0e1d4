/* stream_int: what the nnzip command and the tests see of a stream besides nnzip.h: the
 * internal status and config behind it, and a scanner that walks members without decoding. */
#ifndef NNZIP_LIB_STREAM_INT_H
#define NNZIP_LIB_STREAM_INT_H

#include <stdint.h>

#include "codec.h"
#include "nnzip.h"

#define NNZ_BLOCK_DEFAULT ((uint64_t)4 << 20)

/* One member, as the scanner found it. */
typedef struct member_info {
    fmt_header h;            /* its header (version 1: with sizes; 2: sizes 0) */
    model_config cfg;
    uint64_t orig, packed;   /* original bytes, and the member's bytes in the file */
    uint64_t block;          /* version 2: the most original bytes of one block */
    uint64_t blocks, stored_blocks, text_blocks;
    uint64_t modelled;       /* bytes the model coded (the transform's output where it ran) */
    uint32_t crc;            /* crc32 of the member's original */
    const uint8_t *v1;       /* version 1: the whole member (valid during the callback) */
    size_t v1_len;
} member_info;

typedef void (*member_fn)(void *ctx, const member_info *mi);

/* A decoder that checks the framing and headers of every member but decodes no payload, and
 * calls on_member at each member's end. Push, finish and done as for a decoder; it gives no
 * output. */
nc_status stream_scanner_new(nnz_stream **s, member_fn on_member, void *ctx);

/* The encoder's stream of a given config (the command line builds and checks it itself). */
nc_status stream_encoder_cfg(nnz_stream **s, const model_config *cfg, const nnz_options *o);

/* Why the float mode refused its input (NC_ERR_ARG), or NULL. */
const char *stream_why(const nnz_stream *s);
/* Whether that reason is about the tensor list (the caller names its file). */
int stream_why_shapes(const nnz_stream *s);

/* For tests: the bytes the stream's buffers hold (allocated); and a switch that stores the
 * next block the model codes, whatever its coding's size (the decoder's relearning path). */
size_t stream_buffered(const nnz_stream *s);
void stream_test_store_first(nnz_stream *s);

/* The size of the stored member of n bytes in one block: what the one-shot calls fall back to,
 * so that no input grows by more. */
uint64_t stream_stored_size(uint64_t n);

#endif
