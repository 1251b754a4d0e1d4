/* bitcodec: the coding loop of bit-level models (model_ops.bit_predict / bit_update). Each byte
 * is 8 binary decisions, most significant bit first; for each, the model gives P(1), the bit is
 * coded (or decoded) with the binary arithmetic coder, and the model learns it. One loop serves
 * both directions, so the encoder and the decoder cannot drift apart. */
#ifndef NNZIP_CODER_BITCODEC_H
#define NNZIP_CODER_BITCODEC_H

#include <stdint.h>

#include "bitcoder.h"
#include "opts.h"

/* Whether the model of config c codes bit by bit: then codec.c calls the two functions below
 * instead of its symbol step loop. */
int bitcodec_config_applies(const model_config *c);

/* Open the model of cfg and code the n >= 1 bytes of in; *payload (caller frees) gets *len
 * bytes. */
nc_status bitcodec_compress(uint8_t **payload, size_t *len, const uint8_t *in, uint64_t n,
                            const model_config *cfg, const codec_opts *o);
/* Open the model of cfg and decode n >= 1 bytes into out from the len bytes of payload; the
 * payload must be consumed exactly. The caller checks the CRC. */
nc_status bitcodec_decompress(uint8_t *out, uint64_t n, const uint8_t *payload, size_t len,
                              const model_config *cfg, const codec_opts *o);

/* Whether m codes bit by bit (then codec.c uses the functions below instead of its step loop). */
int bitcodec_applies(const model *m);

/* Code the n bytes of in with model m into e. trace, if not NULL, receives the 8n probabilities
 * the coder was given (for tests: the decoder must see the same sequence). */
nc_status bitcodec_encode(model *m, bit_encoder *e, const uint8_t *in, uint64_t n,
                          const codec_opts *o, uint16_t *trace);
/* Decode n bytes into out from d; trace as above. Stops with NC_ERR_TRUNCATED as soon as the
 * payload is overrun by more than 8 bytes (garbage would follow). */
nc_status bitcodec_decode(model *m, bit_decoder *d, uint8_t *out, uint64_t n,
                          const codec_opts *o, uint16_t *trace);

#endif
