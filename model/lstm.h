/* lstm: internal interface between the model (lstm.c) and its graph builder (lstm_graph.c). */
#ifndef NNZIP_MODEL_LSTM_H
#define NNZIP_MODEL_LSTM_H

#include "net.h"

#define LSTM_MAX_LAYERS 8

/* The hyper-parameters, as read from a model_config. */
typedef struct lstm_cfg {
    net_cfg n;            /* symbols, streams, segment, seed, training, mixer */
    uint32_t layers, hidden, embed, gate_norm, bigram;
    float init;
} lstm_cfg;

/* Read the config (net_cfg_read and the LSTM keys); no range checks. */
nc_status lstm_cfg_read(lstm_cfg *k, const model_config *c);

/* The segment graph of k: T = k->segment steps of S = k->streams streams, its states h and c
 * of each layer in ids (state 2l: h, 2l + 1: c). *g owned by the caller; NULL and an error
 * status if it cannot be built. */
nc_status lstm_graph_build(nc_graph **g, net_ids *ids, const lstm_cfg *k);

/* Learned parameters of k, counted from the graph's shapes. */
uint64_t lstm_param_count(const lstm_cfg *k);

#endif
