/* squash/stretch: the logistic function and its inverse as integer tables.
 *
 * The mixing domain ("stretch units") is the logit ln(p / (1 - p)) in units of 1/256, clamped
 * to [-2047, 2047] (±8 in natural units). squash maps it to a 16-bit probability of a 1,
 * stretch maps a 16-bit probability (taken to 12 bits) back. Both tables are computed at model
 * creation with integer arithmetic only (no libm, no floats), so they are the same everywhere. */
#ifndef NNZIP_MODEL_CM_SQUASH_H
#define NNZIP_MODEL_CM_SQUASH_H

#include <stdint.h>

#define CM_ST_MAX 2047

typedef struct cm_logistic {
    uint16_t squash[2 * CM_ST_MAX + 1]; /* [d + 2047] -> p in [1, 65535] */
    int16_t stretch[4096];              /* [p >> 4] -> d in [-2047, 2047] */
} cm_logistic;

void cm_logistic_init(cm_logistic *l);

static inline uint32_t cm_squash(const cm_logistic *l, int32_t d)
{
    if (d > CM_ST_MAX)
        d = CM_ST_MAX;
    if (d < -CM_ST_MAX)
        d = -CM_ST_MAX;
    return l->squash[d + CM_ST_MAX];
}

static inline int32_t cm_stretch(const cm_logistic *l, uint32_t p16)
{
    return l->stretch[p16 >> 4];
}

#endif
