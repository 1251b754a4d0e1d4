/* cm: the context-mixing model (model id 4), its presets and its memory layout.
 *
 * Shared between the model driver (cm.c) and the presets (presets.c) only. */
#ifndef NNZIP_MODEL_CM_CM_H
#define NNZIP_MODEL_CM_CM_H

#include <stdint.h>

#include "model.h"

/* The first-layer mixer weight-set selectors (bits of cm_mixers). */
enum { CM_MIX_C0 = 1, CM_MIX_C1 = 2, CM_MIX_MATCH = 4, CM_MIX_SEEN = 8, CM_MIX_C2 = 16,
       CM_MIX_ALL = 31, /* every selector of the context models */
       CM_MIX_NET = 32, /* the network's confidence: only with a network (key cm_net) */
       CM_N_MIXERS = 6 };

typedef struct cm_params {
    uint32_t hash_bits, match_bits, history_bits, contexts, mixers, rate, apm;
} cm_params;

nc_status cm_preset(model_config *c, int level);
/* The context models of cm level `level` with, if net is not NULL, the network net (lstm_ops,
 * transformer_ops) at its level net_level as a mixer input. */
nc_status cm_hybrid_preset(model_config *c, int level, const model_ops *net, int net_level);
/* Read and range-check the parameters of c. */
nc_status cm_params_get(const model_config *c, cm_params *p);
/* Bytes of the one large allocation (hash table, match table, history, large APMs, indirect
 * table) of a model with parameters p. */
/* The presets of the names hybrid, lstm and transformer (all model id 4). */
nc_status cm_hybrid_level(model_config *c, int level);
nc_status cm_lstm_level(model_config *c, int level);
nc_status cm_transformer_level(model_config *c, int level);
uint64_t cm_region_bytes(const cm_params *p);

#endif
