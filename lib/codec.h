/* codec: the driver that puts a model, a coder and the container together. A member's model is
 * a codec_session, opened from the header's config and kept from the member's first block to its
 * last; each block is coded with a fresh coder (flushed at its end), so the model carries on
 * across blocks and only the coder's few bytes of flush are paid per block. The encoder and the
 * decoder run one step loop, so the model sees the same calls in the same order on both sides.
 * Members of format version 1 (one whole payload, the float mode) are decoded here too. */
#ifndef NNZIP_LIB_CODEC_H
#define NNZIP_LIB_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "model.h"
#include "opts.h"

typedef struct codec_session codec_session;

/* Open cfg's model for a member. */
nc_status codec_session_open(codec_session **s, const model_config *cfg, const codec_opts *o);
/* Code the n >= 1 bytes at in as one block: *payload (caller frees) gets *len bytes. */
nc_status codec_session_encode(codec_session *s, uint8_t **payload, size_t *len, const uint8_t *in,
                               uint64_t n);
/* Decode one block of n >= 1 bytes into out from the len bytes of payload, which must be
 * consumed exactly; the caller checks the CRC. */
nc_status codec_session_decode(codec_session *s, uint8_t *out, uint64_t n, const uint8_t *payload,
                               size_t len);
/* A stored block: the model learns its n bytes as the encoder's model did while coding them. */
nc_status codec_session_learn(codec_session *s, const uint8_t *in, uint64_t n);
void codec_session_close(codec_session *s); /* NULL is fine */

/* The header's parameter list and the config, both ways. header_to_config: NC_ERR_VERSION
 * for a key this build does not know. */
void codec_config_to_header(fmt_header *h, const model_config *c);
nc_status codec_header_to_config(model_config *c, const fmt_header *h);
/* Whether cfg's model has a network (the text transform then builds a larger dictionary). */
int codec_config_network(const model_config *cfg);

/* Version 1 (whole-buffer) members. codec_inspect reads and checks the header and config of
 * the member that fills in exactly (len bytes) without decoding it; codec_decompress_v1
 * decodes it into *out (caller frees; NULL when empty), checksum verified. */
nc_status codec_inspect(fmt_header *h, model_config *cfg, const uint8_t *in, size_t len);
nc_status codec_decompress_v1(uint8_t **out, uint64_t *out_len, const uint8_t *in, size_t len,
                              const codec_opts *o);
/* The bytes the model codes in a version 1 member: the transformed stream's length when it
 * uses the text transform, else the original size. */
uint64_t codec_modelled_size(const fmt_header *h, const model_config *cfg);

/* Whole buffers in the current format (lib/stream.c): compress in into one member of one block
 * with cfg's model; decompress every member of in. *out: caller frees. */
nc_status codec_compress(uint8_t **out, size_t *out_len, const uint8_t *in, uint64_t n,
                         const model_config *cfg, const codec_opts *o);
nc_status codec_decompress(uint8_t **out, uint64_t *out_len, const uint8_t *in, size_t len,
                           const codec_opts *o);

/* A bound on the bytes a model of this config allocates to code or decode (0 for stored data):
 * its state and workspace, not the input and output buffers. */
uint64_t codec_model_memory(const model_config *cfg);

/* The most codec_model_memory of any preset of any model: a decoder limit that admits every
 * file written without --set overrides. */
uint64_t codec_preset_memory_max(void);

/* The most symbols a payload of payload_size bytes can hold for an alphabet of n_symbols:
 * each symbol narrows the range by at least the smallest probability's complement. */
uint64_t codec_max_symbols(uint64_t payload_size, uint32_t n_symbols);

/* The most original bytes a block's payload of payload_len bytes can code with cfg's model. */
uint64_t codec_block_max_symbols(const model_config *cfg, uint64_t payload_len);

#endif
