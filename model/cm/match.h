/* The match model: the longest earlier occurrence of the recent bytes predicts the next one.
 *
 * A table maps the hash of the last CM_MATCH_MIN bytes to the position that followed them last
 * time. While a match is on, each byte that agrees with the predicted one lengthens it; a
 * mismatch ends it, and at the next byte boundary the table proposes a new candidate, whose
 * length is measured by comparing the history backwards (up to CM_MATCH_MAX). The predicted bit
 * is the next bit of the predicted byte, as long as the bits of the current byte agree with it;
 * its strength is learned per length bucket by an adaptive map. */
#ifndef NNZIP_MODEL_CM_MATCH_H
#define NNZIP_MODEL_CM_MATCH_H

#include <stdint.h>

#define CM_MATCH_MIN 6
#define CM_MATCH_MAX 65535

typedef struct cm_match {
    const uint8_t *buf;   /* the history (owned by the model), mask + 1 bytes */
    uint32_t mask;
    uint32_t *table;      /* (tmask + 1) positions + 1 (0: none) */
    uint32_t tmask;
    uint64_t ptr;         /* position of the predicted byte */
    uint32_t len;         /* current match length, 0: none */
    int miss;             /* the current byte already disagreed with the prediction */
} cm_match;

void cm_match_init(cm_match *m, const uint8_t *buf, unsigned buf_bits, uint32_t *table,
                   unsigned table_bits);
/* After byte pos - 1 was appended to the history (pos bytes in all). */
void cm_match_byte(cm_match *m, uint64_t pos);
/* The expected next bit (0/1) given the partial byte c0 (1..255 with a leading 1 bit, bits
 * bits known), or -1 if there is no prediction. */
static inline int cm_match_bit(const cm_match *m, uint32_t c0, unsigned bits)
{
    if (m->len == 0 || m->miss)
        return -1;
    uint32_t pb = (uint32_t)m->buf[m->ptr & m->mask] | 256;
    if ((pb >> (8 - bits)) != c0)
        return -1;
    return (int)(pb >> (7 - bits) & 1);
}
/* A length bucket 0..15 for the adaptive map and mixer selection (0: no match). */
static inline uint32_t cm_match_bucket(uint32_t len)
{
    if (len < 8)
        return len;
    uint32_t b = 8;
    for (uint32_t l = len >> 4; l && b < 15; l >>= 1)
        b++;
    return b;
}

#endif
