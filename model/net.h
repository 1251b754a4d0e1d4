/* net: the online training loop shared by the neural models (lstm.c, transformer.c).
 *
 * A neural model is a segment graph in nc bytecode plus this loop. The graph takes T = segment
 * steps of S = streams streams as T*S time-major rows (row t*S + s is step t of stream s): the
 * previous symbol of each row (index input), its target (index input) and its loss weight
 * (float input, 0 for rows that must teach nothing); it outputs the probabilities (T*S, symbols)
 * and the scalar loss, and declares its recurrent states (nc_g_state): an LSTM's h and c, a
 * transformer's key/value memories. Everything else (batched encoder forward, the decoder's
 * one-step program and feed, training with Adam on the stored schedule, carrying states, the
 * count mixer) is here, the same for every model. */
#ifndef NNZIP_MODEL_NET_H
#define NNZIP_MODEL_NET_H

#include "model.h"

#define NET_MAX_STATES 64

/* The hyper-parameters every neural model reads from its config. */
typedef struct net_cfg {
    uint32_t symbols, streams, segment, seed;
    uint32_t lr_steps, lr_decay;
    uint32_t mix_order, o2_limit, o1_limit;
    uint32_t lag;           /* 1: training on a segment applies from the segment after next (net.c) */
    float lr, lr_end, beta2, eps, mix_rate;
} net_cfg;

/* Value ids of the segment graph; -1 for what it lacks. */
typedef struct net_ids {
    int sym, tgt, mask;     /* inputs: previous symbol, target symbol (index), loss weight */
    int sym2;               /* optional input (-1 if none): the symbol before the previous one */
    int prob, loss;         /* outputs: probabilities (rows, symbols), the scalar loss */
    int nstate;
    int state_in[NET_MAX_STATES], state_out[NET_MAX_STATES];
} net_ids;

/* The end every model's graph shares, after its features x (T*S, C): the head (zero-initialised
 * (C, V) weights and bias, plus with `bigram` a learned (V, V) table of the previous symbol),
 * log-softmax, the probabilities (id->prob, output), the loss sum(mask * cross-entropy)
 * (id->loss), and the declaration of the id->nstate states. *out = g, or NULL with g freed and
 * the graph's error status. */
nc_status net_graph_finish(nc_graph **out, nc_graph *g, net_ids *id, int x, size_t V, int bigram);

/* Read and range-check the shared keys. */
nc_status net_cfg_read(net_cfg *k, const model_config *c);
/* NC_ERR_LIMIT for shared values this build refuses. */
nc_status net_cfg_check(const net_cfg *k);
/* Write the shared keys common to every preset: learning-rate schedule, Adam, the mixer. */
void net_preset(model_config *c, const net_cfg *k);
/* The learning-rate schedule of k: lr falling linearly to lr_end over lr_steps updates, then
 * constant or decaying as 1/sqrt. */
void net_schedule(nc_lr_sched *s, const net_cfg *k);

/* A model of ops driving graph g (ids in ids; g is taken over, freed on failure too), trained
 * with Adam (beta1 = 0, per-element gradient clip `clip`, 0 = off). */
nc_status net_create(model **out, const model_ops *ops, const net_cfg *k, nc_graph *g,
                     const net_ids *ids, float clip, const model_env *env);
void net_destroy(model *m);
nc_status net_predict(model *m, float *w, uint32_t n_active);
nc_status net_predict_segment(model *m, float *w, const uint16_t *sym, const uint32_t *act,
                              uint32_t steps);
nc_status net_update(model *m, const uint16_t *sym, uint32_t n_active);
/* The parameter of graph value v, to set an initial value other than nc_g_param's; NULL if v
 * is not a parameter. */
float *net_param(model *m, int v);
/* A bound on the bytes a model with this many parameters allocates: parameters, gradients,
 * Adam's second moments, the one-step program's copy, the count tables, the activation
 * workspace (a bound in floats) and a fixed part. */
uint64_t net_bytes(const net_cfg *k, uint64_t params, uint64_t workspace_floats);

#endif
