/* codec: whole-buffer compression and decompression -- the model, the symbol coder and the
 * container put together. The encoder and the decoder run the same loop: for each step, ask
 * the model for the next symbol's weights on every active stream, code (or decode) the
 * symbols, and let the model learn them. */
#ifndef NNZIP_CODER_CODEC_H
#define NNZIP_CODER_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "model.h"

typedef struct codec_opts {
    model_env env;
    /* Called now and then with symbols done, of total, and compressed bytes so far. */
    void (*progress)(void *ctx, uint64_t done, uint64_t total, uint64_t coded_bytes);
    void *progress_ctx;
    /* Decoding: refuse (NC_ERR_LIMIT) a file whose model needs more than this many bytes
     * (codec_model_memory); 0 = no limit. */
    uint64_t mem_limit;
    /* Compression: 1 = code the input as it is; 0 (the default) = through the text transform
     * (coder/transform/text.h) wherever it finds text it helps. */
    int no_transform;
} codec_opts;

/* Compress in (n bytes) with the model config cfg. On NC_OK *out (caller frees) holds the
 * whole .nnz file of *out_len bytes. */
nc_status codec_compress(uint8_t **out, size_t *out_len, const uint8_t *in, uint64_t n,
                         const model_config *cfg, const codec_opts *o);

/* Decompress a whole .nnz file. On NC_OK *out (caller frees; may be NULL when empty) holds the
 * original, whose checksum has been verified. Any damage gives an error, never wrong output. */
nc_status codec_decompress(uint8_t **out, uint64_t *out_len, const uint8_t *in, size_t len,
                           const codec_opts *o);

/* Read and check the header and the model config of a .nnz file without decoding it. */
nc_status codec_inspect(fmt_header *h, model_config *cfg, const uint8_t *in, size_t len);

/* The bytes the model codes: the transformed stream's length when the file uses the text
 * transform, else the original size. */
uint64_t codec_modelled_size(const fmt_header *h, const model_config *cfg);

/* A bound on the bytes a model of this config allocates to code or decode (0 for stored data):
 * its state and workspace, not the input and output buffers. */
uint64_t codec_model_memory(const model_config *cfg);

/* The most codec_model_memory of any preset of any model: a decoder limit that admits every
 * file written without --set overrides. */
uint64_t codec_preset_memory_max(void);

/* The worst case of codec_compress: the output is at most this many bytes (the stored form). */
uint64_t codec_compress_bound(uint64_t n);

/* The most symbols a payload of payload_size bytes can hold for an alphabet of n_symbols:
 * each symbol narrows the range by at least the smallest probability's complement. */
uint64_t codec_max_symbols(uint64_t payload_size, uint32_t n_symbols);

#endif
