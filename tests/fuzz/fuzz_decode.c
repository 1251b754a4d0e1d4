/* Fuzz target for the decoder and the container parser: any input must give NC_OK with the
 * checksum verified, or an error -- never a crash, a hang, a leak or an allocation beyond the
 * memory limit.
 *
 * Built two ways: with clang -fsanitize=fuzzer (cmake -DNNZIP_FUZZ=ON) it is a libFuzzer target;
 * otherwise the main() below replays the files named on the command line (the committed corpus
 * and the golden/bad files), so every crash ever found stays a regression test under ctest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The command's default memory limit: without it a crafted header makes the decoder
     * allocate gigabytes (tests/data/bad-memory-*.nnz). */
    static codec_opts opts = { .env = { .threads = 1 } };
    if (!opts.mem_limit)
        opts.mem_limit = codec_preset_memory_max();
    uint8_t *out;
    uint64_t out_len;
    nc_status st = codec_decompress(&out, &out_len, data, size, &opts);
    /* Success means the CRC matched; an error must leave nothing to free. */
    if (st != NC_OK && out != NULL)
        abort();
    free(out);
    return 0;
}

#ifndef NNZIP_LIBFUZZER
#include "replay.h"

int main(int argc, char **argv)
{
    return fuzz_replay("fuzz_decode", argc, argv);
}
#endif
