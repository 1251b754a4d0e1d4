/* Adaptive probability maps (secondary estimation): refine a probability p given a context.
 *
 * For each context, 33 probabilities at stretch(p) = -2048, -1920, ..., 2048 (start: squash of
 * those points, i.e. the identity). The output interpolates linearly between the two points
 * around stretch(p); learning moves the nearer point towards the bit by 1/2^rate. */
#ifndef NNZIP_MODEL_CM_APM_H
#define NNZIP_MODEL_CM_APM_H

#include <stdint.h>

#include "squash.h"

typedef struct cm_apm {
    uint16_t *t;   /* (contexts, 33) */
    uint32_t idx;  /* the entry to learn, after cm_apm_p */
    int rate;
} cm_apm;

void cm_apm_init(cm_apm *a, uint16_t *t, uint32_t contexts, int rate, const cm_logistic *l);
/* The refined probability (16 bits) of p16 in context cx (< contexts). */
uint32_t cm_apm_p(cm_apm *a, const cm_logistic *l, uint32_t p16, uint32_t cx);
void cm_apm_learn(cm_apm *a, int y);

#endif
