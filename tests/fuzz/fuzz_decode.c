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
#include "decode_once.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decode_once(data, size);
    return 0;
}

#ifndef NNZIP_LIBFUZZER
#include "replay.h"

int main(int argc, char **argv)
{
    return fuzz_replay("fuzz_decode", argc, argv);
}
#endif
