/* The push and pull sizes the stream targets (fuzz_stream, fuzz_roundtrip) choose from: a
 * fuzzer byte picks a row of CHUNKS, whose four sizes are used in turn, and a PULLS entry. The
 * rows mix 1-byte steps, sizes around block heads and varints, and all at once ((size_t)-1),
 * so a stream's result is shown not to depend on how it is fed. */
#ifndef NNZIP_FUZZ_CHUNKING_H
#define NNZIP_FUZZ_CHUNKING_H

#include <stddef.h>

static const size_t CHUNKS[8][4] = {
    { (size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1 }, /* all at once */
    { 1, 1, 1, 1 },
    { 1, 2, 3, 5 },
    { 7, 64, 13, 1 },
    { 29, 30, 31, 4096 },
    { 3, 1000, 1, 17 },
    { 64, 64, 64, 64 },
    { 2, 255, 256, 1 },
};
static const size_t PULLS[4] = { 1, 7, 64, 4096 };

#endif
