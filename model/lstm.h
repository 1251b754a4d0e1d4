/* lstm: internal interface between the model (lstm.c) and its graph builder (lstm_graph.c). */
#ifndef NNZIP_MODEL_LSTM_H
#define NNZIP_MODEL_LSTM_H

#include "model.h"

#define LSTM_MAX_LAYERS 8

/* The hyper-parameters, as read from a model_config. */
typedef struct lstm_cfg {
    uint32_t symbols, streams, layers, hidden, embed, segment, seed, gate_norm, bigram;
    uint32_t mix_order, o2_limit, o1_limit;
    uint32_t lr_steps, lr_decay;
    float lr, lr_end, beta2, eps, init, mix_rate;
} lstm_cfg;

/* Value ids of one graph: the per-segment training graph, or (after nc_graph_timestep) the
 * one-step graph, where -1 marks what it lacks. */
typedef struct lstm_ids {
    int sym, tgt, mask;     /* inputs: previous symbol, target symbol (index), loss weight */
    int prob, loss;         /* outputs: probabilities (rows, symbols), the scalar loss */
    int h0[LSTM_MAX_LAYERS], c0[LSTM_MAX_LAYERS]; /* state inputs (streams, hidden) */
    int h[LSTM_MAX_LAYERS], c[LSTM_MAX_LAYERS];   /* state outputs */
} lstm_ids;

nc_status lstm_cfg_read(lstm_cfg *k, const model_config *c);
/* The learning-rate schedule of k: lr falling linearly to lr_end over lr_steps updates, then
 * constant or decaying as 1/sqrt. */
void lstm_schedule(nc_lr_sched *s, const lstm_cfg *k);

/* The segment graph of k: T = k->segment steps of S = k->streams streams. *g owned by the
 * caller; NULL and an error status if it cannot be built. */
nc_status lstm_graph_build(nc_graph **g, lstm_ids *ids, const lstm_cfg *k);

/* Learned parameters of k, counted from the graph's shapes. */
uint64_t lstm_param_count(const lstm_cfg *k);

#endif
