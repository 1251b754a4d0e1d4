/* The count mixer of the neural models: their probabilities mixed linearly with context counts.
 *
 * A network learns slowly at first; context counts learn from the first byte. Each stream's
 * coded weights are (1 - lam) * p_net + lam * p_counts, p_counts the blend of orders
 * order .. 0 (o2counts.c), lam one of MIX_BUCKETS weights chosen by how often the stream's
 * highest-order context was seen (floor(log2(n + 1))), each moved after every symbol along the
 * gradient of its code length and kept in [MIX_LO, MIX_HI]. Only binary32 operations in a fixed
 * order (docs/format.md): both sides compute the same weights. */
#ifndef NNZIP_MODEL_MIXER_H
#define NNZIP_MODEL_MIXER_H

#include <stdint.h>

#include "o2counts.h"

#define MIX_BUCKETS 8
#define MIX_LO 0.001f
#define MIX_HI 0.999f

typedef struct mixer {
    size_t S, V;               /* streams; symbols (256) */
    float rate;                /* step of the weights */
    o2counts *o2;              /* counts shared by all streams */
    uint8_t *hist;             /* (S, O_MAX): each stream's last bytes, most recent first */
    float *pl, *po;            /* (S, V): this step's network and count probabilities */
    uint8_t *bucket;           /* (S): this step's weight of each stream */
    float lam[MIX_BUCKETS];    /* weight of the counts, by how often the context was seen */
} mixer;

/* A mixer of orders up to order (2..O_MAX) for S streams of 256 symbols; NULL if out of memory. */
mixer *mixer_new(size_t S, int order, uint32_t o2_limit, uint32_t o1_limit, float rate);
void mixer_free(mixer *x);
/* Mix the network's weights w (S, V), normalised rows, in place with the counts. */
void mixer_step(mixer *x, float *w);
/* Learn one step's symbols of the first n_active streams: weights, then the counts. */
void mixer_learn(mixer *x, const uint16_t *sym, size_t n_active);
/* Bytes of the tables of a mixer of this order, for model sizes. */
uint64_t mixer_bytes(int order);

#endif
