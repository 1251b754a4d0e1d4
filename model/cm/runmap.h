/* Run information per context: the byte that followed the context last time and how many
 * times in a row it did (a byte-level view a bit history cannot give early in a byte).
 *
 * A table of 32-bit entries (check 16 bits | byte 8 | run count 8) indexed by the context's
 * hash; an entry whose check differs belongs to another context and is taken over (the newest
 * context wins: run information is cheap to relearn). */
#ifndef NNZIP_MODEL_CM_RUNMAP_H
#define NNZIP_MODEL_CM_RUNMAP_H

#include <stdint.h>

typedef struct cm_runmap {
    uint32_t *t;
    uint64_t mask;
} cm_runmap;

/* t: zeroed storage of 4 << bits bytes. */
void cm_runmap_init(cm_runmap *r, uint32_t *t, unsigned bits);
/* The entry of context hash x, taken over if it belonged to another context. */
uint32_t *cm_runmap_find(cm_runmap *r, uint64_t x);
/* A hint to the memory system ahead of cm_runmap_find (no effect on results). */
static inline void cm_runmap_prefetch(const cm_runmap *r, uint64_t x)
{
#if defined(__GNUC__)
    __builtin_prefetch(&r->t[(x >> 20) & r->mask]);
#else
    (void)r, (void)x;
#endif
}
/* Record that byte c followed the context of entry e. */
void cm_runmap_update(uint32_t *e, uint8_t c);

/* The expected next bit (0/1) of entry e given the partial byte c0 with bits known, or -1. */
static inline int cm_run_bit(uint32_t e, uint32_t c0, unsigned bits)
{
    uint32_t count = e & 0xFF, b = (e >> 8 & 0xFF) | 256;
    if (count == 0 || (b >> (8 - bits)) != c0)
        return -1;
    return (int)(b >> (7 - bits) & 1);
}

#endif
