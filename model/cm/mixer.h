/* Logistic mixing: p = squash(sum_i w_i * x_i) over stretched input probabilities x_i, with one
 * weight vector per value of a small selector context, trained online to reduce coding cost.
 *
 * Fixed point: inputs are stretch units (1/256 of a logit, |x| <= 2047), weights 2^-16 units
 * (65536 = 1.0), so the dot product shifted right by 16 is again in stretch units (each product
 * is shifted by 8 before the sum, then the sum by 8, so everything stays in 32 bits). Learning
 * bit y after predicting p: err = (y - p) in 2^-12 units times the rate (clamped to +-2^19, so
 * x_i * err fits in 32 bits), w_i += x_i * err / 2^16 (rounded), weights clamped to +-2^19 (+-8.0). The gradient of the code length with respect to w_i is
 * -(y - p) x_i, so this is online gradient descent on the coding loss. */
#ifndef NNZIP_MODEL_CM_MIXER_H
#define NNZIP_MODEL_CM_MIXER_H

#include <stdint.h>

#include "squash.h"

typedef struct cm_mixer {
    int32_t *w;       /* (sets, n) weights */
    uint32_t n, sets; /* inputs per set, weight sets */
    int32_t rate;
    int32_t *sel;     /* the selected set's weights, after cm_mixer_dot */
    int simd;         /* 1: the AVX2 loops (same bits), chosen from nc's active ISA at init */
} cm_mixer;

/* w: storage for sets * n weights, each set to init. */
void cm_mixer_init(cm_mixer *m, int32_t *w, uint32_t n, uint32_t sets, int32_t rate, int32_t init);
/* The mixed logit (stretch units, clamped to +-2047) of inputs x (n) with weight set s. */
int32_t cm_mixer_dot(cm_mixer *m, const int32_t *x, uint32_t s);
/* Learn bit y for the last cm_mixer_dot, whose squashed output was p16. */
void cm_mixer_learn(cm_mixer *m, const int32_t *x, uint32_t p16, int y);

#endif
