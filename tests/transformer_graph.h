/* A small transformer segment graph for the tests (test_graph_grad, test_graph_attention):
 * embedding, then per layer pre-norm RMSNorm, q/k/v projections, key/value memory states
 * (concat_rows of the memory input and the current keys/values, the last mem positions carried
 * as the state output), windowed attention with a learned position bias, output projection,
 * residual, RMSNorm, GELU feed-forward, residual; then a final RMSNorm, the output head,
 * log-softmax, cross-entropy and the summed loss. Optionally an LSTM-style recurrence tagged
 * per step (state of S rows) mixed in after the layers, and ways to break the memory pattern on
 * purpose for the refusal tests. One builder call per statement where two operands are built. */
#ifndef NNZIP_TESTS_TRANSFORMER_GRAPH_H
#define NNZIP_TESTS_TRANSFORMER_GRAPH_H

#include <math.h>
#include <stdlib.h>

#include "nc/nc.h"

enum {
    TRF_OK,
    TRF_BAD_SLICE,      /* memory state output slices the wrong rows */
    TRF_BAD_KALL_READ,  /* the key concat is read by another op too */
    TRF_BAD_SHARED_MEM, /* one memory input concatenated twice (keys and values) */
    TRF_BAD_NO_STATE,   /* the memory concats without nc_g_state */
    TRF_BAD_STEP_READ,  /* a step-tagged instruction reads a memory input (needs recur) */
    TRF_BAD_ATTN_STEP,  /* the attention of layer 0 tagged as a step */
    TRF_BAD_OUT_KALL,   /* the key concat marked as an output */
    TRF_EPS2            /* valid, another RMSNorm epsilon (different bits) */
};

#define TRF_MAX_LAYERS 2
#define TRF_MAX_PARAMS 32

typedef struct trf_cfg {
    size_t S, T, mem, C, H, dk, F, V;
    int layers, recur, bad;
} trf_cfg;

typedef struct trf {
    trf_cfg cfg;
    nc_graph *g;
    int sym, tgt, logp, ce, loss;
    int kin[TRF_MAX_LAYERS], vin[TRF_MAX_LAYERS], kout[TRF_MAX_LAYERS], vout[TRF_MAX_LAYERS];
    int h0, h;                    /* the recurrence's state (recur only) */
    int param[TRF_MAX_PARAMS];
    size_t psize[TRF_MAX_PARAMS];
    int nparam;
} trf;

static int trf_param(trf *m, size_t rows, size_t cols, nc_init init, float a)
{
    int p = nc_g_param(m->g, rows, cols, init, a);
    m->param[m->nparam] = p;
    m->psize[m->nparam++] = rows * cols;
    return p;
}

static void trf_build(trf *m, const trf_cfg *cfg)
{
    size_t S = cfg->S, T = cfg->T, mem = cfg->mem, C = cfg->C, H = cfg->H, dk = cfg->dk;
    size_t W = mem + 1;
    m->cfg = *cfg;
    m->nparam = 0;
    m->h0 = m->h = -1;
    nc_graph *g = m->g = nc_graph_new(77);
    float eps = cfg->bad == TRF_EPS2 ? 2e-5f : 1e-5f;
    float scale = (float)(1.0 / sqrt((double)dk));
    int emb = trf_param(m, cfg->V, C, NC_INIT_UNIFORM, 1.0f);
    m->sym = nc_g_index(g, T * S);
    m->tgt = nc_g_index(g, T * S);
    int x = nc_g_gather(g, emb, m->sym);
    for (int l = 0; l < cfg->layers; l++) {
        int g1 = trf_param(m, 1, C, NC_INIT_CONST, 1.0f);
        int Wq = trf_param(m, C, H * dk, NC_INIT_UNIFORM, 0.5f);
        int Wk = trf_param(m, C, H * dk, NC_INIT_UNIFORM, 0.5f);
        int Wv = trf_param(m, C, H * dk, NC_INIT_UNIFORM, 0.5f);
        int bias = trf_param(m, 1, H * W, NC_INIT_UNIFORM, 0.5f);
        int Wo = trf_param(m, H * dk, C, NC_INIT_UNIFORM, 0.5f);
        int g2 = trf_param(m, 1, C, NC_INIT_CONST, 1.0f);
        int W1 = trf_param(m, C, cfg->F, NC_INIT_UNIFORM, 0.5f);
        int W2 = trf_param(m, cfg->F, C, NC_INIT_UNIFORM, 0.5f);
        int h = nc_g_rmsnorm(g, x, g1, eps);
        int q = nc_g_matmul(g, h, Wq);
        int kc = nc_g_matmul(g, h, Wk);
        int vc = nc_g_matmul(g, h, Wv);
        int kall = kc, vall = vc;
        m->kin[l] = m->vin[l] = m->kout[l] = m->vout[l] = -1;
        if (mem > 0) {
            m->kin[l] = nc_g_input(g, mem * S, H * dk);
            m->vin[l] = nc_g_input(g, mem * S, H * dk);
            kall = nc_g_concat_rows(g, m->kin[l], kc);
            vall = nc_g_concat_rows(g, cfg->bad == TRF_BAD_SHARED_MEM ? m->kin[l] : m->vin[l], vc);
            size_t r0 = cfg->bad == TRF_BAD_SLICE && l == 0 ? (T - 1) * S : T * S;
            m->kout[l] = nc_g_slice_rows(g, kall, r0, mem * S);
            m->vout[l] = nc_g_slice_rows(g, vall, T * S, mem * S);
            if (cfg->bad == TRF_BAD_KALL_READ && l == 0)
                nc_g_output(g, nc_g_tanh(g, kall));
            if (cfg->bad == TRF_BAD_OUT_KALL && l == 0)
                nc_g_output(g, kall);
        }
        if (cfg->bad == TRF_BAD_ATTN_STEP && l == 0)
            nc_g_step(g, 0);
        int a = nc_g_attention(g, q, kall, vall, bias, S, H, scale);
        nc_g_step(g, -1);
        int o = nc_g_matmul(g, a, Wo);
        x = nc_g_add(g, x, o);
        int h2 = nc_g_rmsnorm(g, x, g2, eps);
        int f = nc_g_matmul(g, nc_g_gelu(g, nc_g_matmul(g, h2, W1)), W2);
        x = nc_g_add(g, x, f);
    }
    if (cfg->recur) { /* h_t = tanh(x_t Wr + h_{t-1} Ur), per step; x += the h's */
        int Wr = trf_param(m, C, C, NC_INIT_UNIFORM, 0.5f);
        int Ur = trf_param(m, C, C, NC_INIT_UNIFORM, 0.5f);
        int *outs = malloc(T * sizeof *outs);
        if (!outs)
            abort();
        m->h0 = m->h = nc_g_input(g, S, C);
        for (size_t t = 0; t < T; t++) {
            nc_g_step(g, (int)t);
            int xt = nc_g_slice_rows(g, x, t * S, S);
            int a = nc_g_matmul(g, xt, Wr);
            int b = nc_g_matmul(g, m->h, Ur);
            int z = nc_g_add(g, a, b);
            if (cfg->bad == TRF_BAD_STEP_READ && mem > 0)
                z = nc_g_add(g, z, nc_g_slice_rows(g, m->kin[0], 0, S));
            m->h = nc_g_tanh(g, z);
            outs[t] = m->h;
        }
        nc_g_step(g, -1);
        int hs = nc_g_concat_rows_n(g, outs, T);
        free(outs);
        x = nc_g_add(g, x, hs);
    }
    int gf = trf_param(m, 1, C, NC_INIT_CONST, 1.0f);
    int Wout = trf_param(m, C, cfg->V, NC_INIT_UNIFORM, 0.5f);
    int hf = nc_g_rmsnorm(g, x, gf, eps);
    m->logp = nc_g_log_softmax(g, nc_g_matmul(g, hf, Wout));
    m->ce = nc_g_cross_entropy(g, m->logp, m->tgt);
    m->loss = nc_g_sum_all(g, m->ce);
    nc_g_output(g, m->logp);
    nc_g_output(g, m->ce);
    nc_g_loss(g, m->loss);
    if (mem > 0 && cfg->bad != TRF_BAD_NO_STATE)
        for (int l = 0; l < cfg->layers; l++) {
            nc_g_state(g, m->kin[l], m->kout[l]);
            if (cfg->bad != TRF_BAD_SHARED_MEM)
                nc_g_state(g, m->vin[l], m->vout[l]);
        }
    if (cfg->recur)
        nc_g_state(g, m->h0, m->h);
}

#endif
