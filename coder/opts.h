/* opts: the run-time options of coding, shared by the coding loops (bitcodec, the float mode)
 * and the driver (lib/codec.h). None of them changes the output. */
#ifndef NNZIP_CODER_OPTS_H
#define NNZIP_CODER_OPTS_H

#include <stdint.h>

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

#endif
