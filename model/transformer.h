/* transformer: internal interface between the model (transformer.c) and its graph builder
 * (transformer_graph.c). */
#ifndef NNZIP_MODEL_TRANSFORMER_H
#define NNZIP_MODEL_TRANSFORMER_H

#include "net.h"

#define TRF_MAX_LAYERS 16

/* The hyper-parameters, as read from a model_config. */
typedef struct trf_cfg {
    net_cfg n;            /* symbols, streams, segment, seed, training, mixer */
    uint32_t layers, d_model, heads, d_key, d_value, d_inner, memory, bigram, shift;
    float init, clip, pos_slope, pos_rate;
} trf_cfg;

/* Read the config (net_cfg_read and the transformer keys); no range checks. */
nc_status trf_cfg_read(trf_cfg *k, const model_config *c);

/* The segment graph of k: T = k->segment steps of S = k->streams streams; its states are the key
 * and value memories of each layer (state 2l: keys, 2l + 1: values), none when memory = 0;
 * bias[l] receives the position bias parameter of layer l (trf_bias_init sets its values). *g
 * owned by the caller; NULL and an error status if it cannot be built. */
nc_status trf_graph_build(nc_graph **g, net_ids *ids, int *bias, const trf_cfg *k);

/* The initial position bias parameter (1, heads * W), W = memory + 1: a recency prior, head h
 * adding -pos_slope * 2^-h per position back (ALiBi's linear biases, learned from there), divided
 * by pos_rate since the graph multiplies it by pos_rate. */
void trf_bias_init(float *b, const trf_cfg *k);

/* Learned parameters of k, counted from the graph's shapes. */
uint64_t trf_param_count(const trf_cfg *k);

#endif
