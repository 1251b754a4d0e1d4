/* The decoder's fuzz check, shared by the fuzz targets that feed it their input as a .nnz file:
 * NC_OK (the checksum verified) or an error that leaves nothing to free, never a crash, a hang,
 * a leak or an allocation beyond the command's default memory limit. */
#ifndef NNZIP_TESTS_FUZZ_DECODE_ONCE_H
#define NNZIP_TESTS_FUZZ_DECODE_ONCE_H

#include <stdint.h>
#include <stdlib.h>

#include "codec.h"

static void fuzz_decode_once(const uint8_t *data, size_t size)
{
    /* Without the limit a crafted header makes the decoder allocate gigabytes
     * (tests/data/bad-memory-*.nnz). */
    static codec_opts opts = { .env = { .threads = 1 } };
    if (!opts.mem_limit)
        opts.mem_limit = codec_preset_memory_max();
    uint8_t *out;
    uint64_t out_len;
    nc_status st = codec_decompress(&out, &out_len, data, size, &opts);
    if (st != NC_OK && out != NULL)
        abort();
    free(out);
}

#endif
