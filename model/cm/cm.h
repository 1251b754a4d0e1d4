/* cm: the context-mixing model (model id 4), its presets and its memory layout.
 *
 * Shared between the model driver (cm.c) and the presets (presets.c) only. */
#ifndef NNZIP_MODEL_CM_CM_H
#define NNZIP_MODEL_CM_CM_H

#include <stdint.h>

#include "model.h"

/* The first-layer mixer weight-set selectors (bits of cm_mixers). */
enum { CM_MIX_C0 = 1, CM_MIX_C1 = 2, CM_MIX_MATCH = 4, CM_MIX_SEEN = 8, CM_MIX_C2 = 16, CM_MIX_ALL = 31 };

typedef struct cm_params {
    uint32_t hash_bits, match_bits, history_bits, contexts, mixers, rate, apm;
} cm_params;

nc_status cm_preset(model_config *c, int level);
/* Read and range-check the parameters of c. */
nc_status cm_params_get(const model_config *c, cm_params *p);
/* Bytes of the one large allocation (hash table, match table, history, large APMs, indirect
 * table) of a model with parameters p. */
uint64_t cm_region_bytes(const cm_params *p);

#endif
