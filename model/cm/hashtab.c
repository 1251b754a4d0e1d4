/* Nibble-slot hash table with check bytes and least-used replacement (see hashtab.h). */
#include "hashtab.h"

#include <string.h>

void cm_hashtab_init(cm_hashtab *h, uint8_t *t, unsigned bits, const cm_states *st)
{
    h->t = t;
    h->mask = ((uint64_t)1 << (bits - 2)) - 1;
    for (unsigned s = 0; s < 256; s++) {
        unsigned n = st->n0[s] + st->n1[s];
        h->total[s] = (uint8_t)(n > 255 ? 255 : n);
    }
}

uint8_t *cm_hashtab_find(cm_hashtab *h, uint64_t bucket, uint64_t x)
{
    uint8_t check = (uint8_t)(x >> 56);
    uint8_t *b = h->t + bucket * (CM_SLOT * CM_BUCKET_SLOTS);
    for (unsigned i = 0; i < CM_BUCKET_SLOTS; i++)
        if (b[i * CM_SLOT] == check)
            return b + i * CM_SLOT;
    unsigned victim = 0, least = 256;
    for (unsigned i = 0; i < CM_BUCKET_SLOTS; i++) {
        unsigned n = h->total[b[i * CM_SLOT + 1]];
        if (n < least)
            least = n, victim = i;
    }
    uint8_t *s = b + victim * CM_SLOT;
    memset(s, 0, CM_SLOT);
    s[0] = check;
    return s;
}
