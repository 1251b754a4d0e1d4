/* The context models' byte-level side: after each byte, each group of contexts updates its
 * state from the history and writes the hashes of its contexts for the next byte.
 *
 * Groups (bits of the cm_contexts parameter, docs/format.md):
 *   CM_G_ORDERS  orders 0-4          CM_G_HIGH    orders 5, 6
 *   CM_G_LONG    orders 8, 12        CM_G_WORD    current word, with the previous one or two
 *   CM_G_COLUMN  byte above, column  CM_G_SPARSE  four sparse (skipping) contexts
 *   CM_G_RECORD  record length found from repeating distances: byte above, and with order 1
 *   CM_G_INDIRECT the bytes that followed the current order-1 and order-2 contexts last time */
#ifndef NNZIP_MODEL_CM_CONTEXT_H
#define NNZIP_MODEL_CM_CONTEXT_H

#include <stdint.h>

enum {
    CM_G_ORDERS = 1 << 0, CM_G_HIGH = 1 << 1, CM_G_LONG = 1 << 2, CM_G_WORD = 1 << 3,
    CM_G_COLUMN = 1 << 4, CM_G_SPARSE = 1 << 5, CM_G_RECORD = 1 << 6, CM_G_INDIRECT = 1 << 7,
    CM_G_ALL = 0xFF
};

#define CM_MAX_CONTEXTS 24

/* The recent history: a window of mask + 1 bytes, pos bytes seen so far. */
typedef struct cm_history {
    uint8_t *buf;
    uint32_t mask;
    uint64_t pos;
    uint32_t c4;  /* the last 4 bytes, most recent lowest */
} cm_history;

static inline uint8_t cm_back(const cm_history *h, uint64_t i) /* byte i >= 1 back, 0 before start */
{
    return i <= h->pos && i <= (uint64_t)h->mask + 1 ? h->buf[(h->pos - i) & h->mask] : 0;
}

typedef struct cm_text {
    uint64_t word0, word1, word2; /* hashes of the current (partial) word and the two before */
    unsigned before;              /* the last byte other than a letter or space before word0 */
    uint64_t line, prev_line;     /* positions where the current and previous lines start */
} cm_text;

typedef struct cm_record {
    uint32_t last[256];  /* position + 1 of each byte value's last occurrence (mod 2^32) */
    uint32_t dist[256];  /* its distance to the occurrence before */
    uint32_t cand, hits; /* candidate record length and its consecutive confirmations */
    uint32_t len;        /* record length in use, 0: none found yet */
} cm_record;

typedef struct cm_indirect {
    uint16_t o1[256];    /* the two bytes that followed each order-1 context */
    uint16_t *o2;        /* (65536) the same for order-2 contexts */
} cm_indirect;

/* Number of contexts of the groups in mask. */
unsigned cm_context_count(unsigned mask);

/* Each writes its hashes to out and returns how many (the history already holds the new byte). */
unsigned cm_orders_contexts(const cm_history *h, unsigned mask, uint64_t *out);
unsigned cm_text_contexts(cm_text *t, const cm_history *h, unsigned mask, uint64_t *out);
unsigned cm_binary_contexts(cm_record *r, const cm_history *h, unsigned mask, uint64_t *out);
unsigned cm_indirect_contexts(cm_indirect *in, const cm_history *h, uint64_t *out);

#endif
