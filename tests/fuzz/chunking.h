/* What the stream targets (fuzz_stream, fuzz_roundtrip) share: the push and pull sizes they
 * choose from, and the growing buffer their output goes to. CHUNKS and PULLS: a
 * fuzzer byte picks a row of CHUNKS, whose four sizes are used in turn, and a PULLS entry. The
 * rows mix 1-byte steps, sizes around block heads and varints, and all at once ((size_t)-1),
 * so a stream's result is shown not to depend on how it is fed. */
#ifndef NNZIP_FUZZ_CHUNKING_H
#define NNZIP_FUZZ_CHUNKING_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

/* Append n bytes to o, growing it by doubling; out of memory aborts (a fuzzer finding). */
static void put(bytes *o, const uint8_t *d, size_t n)
{
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n)
            cap *= 2;
        uint8_t *p = realloc(o->p, cap);
        if (!p)
            abort();
        o->p = p;
        o->cap = cap;
    }
    if (n)
        memcpy(o->p + o->len, d, n);
    o->len += n;
}

#endif
