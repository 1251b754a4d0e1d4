/* bytes: the growing output buffer and the bounded input reader shared by the range coder
 * (rc.c) and the binary coder (bitcoder.c). */
#ifndef NNZIP_CODER_BYTES_H
#define NNZIP_CODER_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "nc/nc.h"

/* Append b to *buf (len bytes used of cap, doubled as needed); on failure *err becomes
 * NC_ERR_NOMEM, which is sticky: later bytes are dropped. */
static inline void bytes_put(uint8_t **buf, size_t *len, size_t *cap, nc_status *err, uint8_t b)
{
    if (*err)
        return;
    if (*len == *cap) {
        size_t c = *cap ? *cap * 2 : 4096;
        uint8_t *p = realloc(*buf, c);
        if (!p) {
            *err = NC_ERR_NOMEM;
            return;
        }
        *buf = p;
        *cap = c;
    }
    (*buf)[(*len)++] = b;
}

/* The next of the len bytes of in, or 0 past the end (counted in *overrun). */
static inline uint8_t bytes_next(const uint8_t *in, size_t len, size_t *pos, size_t *overrun)
{
    if (*pos < len)
        return in[(*pos)++];
    ++*overrun;
    return 0;
}

#endif
