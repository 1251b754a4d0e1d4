/* Fuzz target for the text transform (coder/transform): any input must come back exactly from
 * the forward and inverse passes (rewriting whatever text it detects, however small, so short
 * inputs reach the dictionary and the escapes); and read as a 16-bit big-endian original size
 * and a transformed stream, it must make the inverse give an error or some bytes -- never a crash, a hang or an out-of-bounds access.
 *
 * Built like fuzz_decode.c: a libFuzzer target with -DNNZIP_FUZZ=ON, else a replayer of the
 * files named on the command line (tests/fuzz/corpus-transform under ctest). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transform/text_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *x = NULL, *back = NULL;
    uint64_t xl = 0;
    if (xt_encode_with(&x, &xl, data, size, NULL, 0, XT_MIN_COUNT_NET) != NC_OK)
        abort(); /* only an allocation can fail, and these are small */
    if (x) {
        if (xt_decode(&back, size, x, xl) != NC_OK || (size && memcmp(back, data, size) != 0))
            abort(); /* a round trip that loses data */
        free(back);
        free(x);
    }
    /* The input as an original size and a transformed stream. */
    if (size < 2)
        return 0;
    back = NULL;
    nc_status st = xt_decode(&back, (uint64_t)data[0] << 8 | data[1], data + 2, size - 2);
    if (st != NC_OK && back != NULL)
        abort();
    free(back);
    return 0;
}

#ifndef NNZIP_LIBFUZZER
#include "replay.h"

int main(int argc, char **argv)
{
    return fuzz_replay("fuzz_transform", argc, argv);
}
#endif
