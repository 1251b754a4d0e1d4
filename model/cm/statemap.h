/* Adaptive maps from a small context (a bit-history state, a match length, ...) to the
 * probability that the next bit is 1.
 *
 * Each entry holds a probability in 2^-32 units and a hit count n; learning bit y moves the
 * probability towards y by 1/(n + 1.5) of the distance, n growing to a limit: the entry first
 * averages what it saw, then follows it with a fixed rate 1/(limit + 1.5). */
#ifndef NNZIP_MODEL_CM_STATEMAP_H
#define NNZIP_MODEL_CM_STATEMAP_H

#include <stdint.h>

#include "state.h"

#define CM_SM_LIMIT_MAX 1023

typedef struct cm_statemap {
    uint32_t *p;  /* (n) probabilities of a 1, 2^-32 units */
    uint16_t *n;  /* (n) hit counts */
    uint32_t limit;
} cm_statemap;

/* The reciprocals 2^16 / (n + 1.5), shared by every map of a model. */
typedef struct cm_recip {
    uint32_t r[CM_SM_LIMIT_MAX + 1];
} cm_recip;

void cm_recip_init(cm_recip *r);

/* Point m at storage for size entries (p: size uint32, n: size uint16) set to probability 1/2. */
void cm_statemap_init(cm_statemap *m, uint32_t *p, uint16_t *n, uint32_t size, uint32_t limit);
/* Start each state's entry from its counts: (n1 + 1/2) / (n0 + n1 + 1). */
void cm_statemap_init_states(cm_statemap *m, const cm_states *st);

static inline uint32_t cm_statemap_p(const cm_statemap *m, uint32_t cx)
{
    return m->p[cx] >> 16;
}

static inline void cm_statemap_update(cm_statemap *m, const cm_recip *r, uint32_t cx, int y)
{
    uint32_t n = m->n[cx], p = m->p[cx];
    if (y)
        p += (uint32_t)(((uint64_t)(0xFFFFFFFFu - p) * r->r[n]) >> 16);
    else
        p -= (uint32_t)(((uint64_t)p * r->r[n]) >> 16);
    m->p[cx] = p;
    if (n < m->limit)
        m->n[cx] = (uint16_t)(n + 1);
}

#endif
