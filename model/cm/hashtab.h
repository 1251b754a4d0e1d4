/* The context hash table: bit histories of hashed contexts, one slot per context and nibble.
 *
 * A slot is 16 bytes: a check byte, then the 15 bit-history states of the binary tree of one
 * nibble (node 1 for its first bit, 2-3 for the second, 4-7, 8-15). A context looks up a slot
 * at each nibble boundary, so the 4 bits of a nibble cost one cache miss. Slots are grouped by
 * four into 64-byte buckets. A context hash h selects bucket b = h mod buckets for the first
 * nibble of a byte; the second nibble's hash h2 selects bucket (b with its low 6 bits replaced
 * by those of h2), in the same 4 KiB page as the first, so it costs no TLB miss. The check
 * byte is the top byte of the nibble's own hash (h or h2). Lookup: the first slot of the bucket whose check byte matches is the context's.
 * Replacement rule when none matches: the slot whose first node has the fewest counts
 * (n0 + n1 of state 1), the first such slot on a tie, is cleared and takes the check byte: the
 * least used history gives way. Two contexts with the same bucket and check share a slot
 * (the mixer learns how far to trust each input). */
#ifndef NNZIP_MODEL_CM_HASHTAB_H
#define NNZIP_MODEL_CM_HASHTAB_H

#include <stdint.h>

#include "state.h"

#define CM_SLOT 16
#define CM_BUCKET_SLOTS 4

typedef struct cm_hashtab {
    uint8_t *t;        /* (buckets, 4, 16) */
    uint64_t mask;     /* buckets - 1 */
    uint8_t total[256]; /* n0 + n1 of each state: the replacement priority */
} cm_hashtab;

/* t: zeroed storage of 16 << bits bytes (bits >= 2). */
void cm_hashtab_init(cm_hashtab *h, uint8_t *t, unsigned bits, const cm_states *st);
/* The bucket of context hash x, and the one of its second nibble with hash x2. */
static inline uint64_t cm_hashtab_bucket(const cm_hashtab *h, uint64_t x)
{
    return x & h->mask;
}
static inline uint64_t cm_hashtab_bucket2(const cm_hashtab *h, uint64_t x, uint64_t x2)
{
    return ((x & ~(uint64_t)63) | (x2 & 63)) & h->mask;
}
/* Ask the memory system for bucket b ahead of cm_hashtab_find (a hint: no effect on results). */
static inline void cm_hashtab_prefetch(const cm_hashtab *h, uint64_t b)
{
#if defined(__GNUC__)
    __builtin_prefetch(h->t + b * (CM_SLOT * CM_BUCKET_SLOTS));
#else
    (void)h, (void)b;
#endif
}
/* The slot with check byte x >> 56 in bucket b (found or replaced). */
uint8_t *cm_hashtab_find(cm_hashtab *h, uint64_t b, uint64_t x);

#endif
