/* The transformer's training graph in nc bytecode: T steps of S streams as T*S time-major rows,
 * written once; nc derives the backward pass and the decoder's one-step program from it.
 *
 * x is (T*S, d_model): the embedding of the previous symbol (plus, with `shift`, a second
 * embedding of the symbol before it), then per layer (pre-norm)
 *     h = rmsnorm(x);  q, k, v = h Wq, h Wk, h Wv        (heads x d_key, heads x d_value)
 *     x += attention(q, [memory k; k], [memory v; v]) Wo
 *     x += gelu(rmsnorm(x) W1) W2                         (d_inner)
 * then a final rmsnorm and the head (plus an optional bigram table of the previous symbol).
 * Attention is causal by construction: each query reads a window of W = memory + 1 positions of
 * its own stream, itself and the `memory` before it, with a learned bias per head and relative
 * position, initialised to a recency prior (trf_bias_init). The memory is Transformer-XL's, kept
 * as keys and values: the memory inputs are states, so no gradient flows into the previous
 * segment. Every row thus reads the same number of keys, and
 * the one-step program reads exactly the rows the segment did (nc/timestep.c).
 *
 * Every builder call that builds two operands is split into two statements: C leaves argument
 * evaluation order unspecified and the instruction order must not depend on the compiler. */
#include <math.h>

#include "transformer.h"

#define NORM_EPS 1e-5f

/* Weights of fan-in n: uniform in +-init/sqrt(n). sqrtf is exact (IEEE). */
static int weight(nc_graph *g, size_t rows, size_t cols, float init)
{
    return nc_g_param(g, rows, cols, NC_INIT_UNIFORM, init / sqrtf((float)rows));
}

/* Keys or values of a layer with their memory: (mem*S + T*S, cols), and the state pair. */
static int with_memory(nc_graph *g, net_ids *id, int cur, size_t cols, const trf_cfg *k)
{
    size_t S = k->n.streams, T = k->n.segment, mem = k->memory;
    if (mem == 0)
        return cur;
    int in = nc_g_input(g, mem * S, cols);
    int all = nc_g_concat_rows(g, in, cur);
    id->state_in[id->nstate] = in;
    id->state_out[id->nstate++] = nc_g_slice_rows(g, all, T * S, mem * S);
    return all;
}

static int layer(nc_graph *g, net_ids *id, int *pbias, int x, const trf_cfg *k)
{
    size_t C = k->d_model, H = k->heads, dk = k->d_key, dv = k->d_value, F = k->d_inner;
    size_t W = k->memory + 1;
    int g1 = nc_g_param(g, 1, C, NC_INIT_CONST, 1.0f);
    int Wq = weight(g, C, H * dk, k->init);
    int Wk = weight(g, C, H * dk, k->init);
    int Wv = weight(g, C, H * dv, k->init);
    /* Adam moves a parameter by about lr per update whatever its scale, too slowly for position
     * biases that must reach several units: the bias is pos_rate times its parameter. */
    int bp = *pbias = nc_g_param(g, 1, H * W, NC_INIT_CONST, 0.0f);
    int bias = nc_g_scale(g, bp, k->pos_rate);
    int Wo = weight(g, H * dv, C, k->init);
    int g2 = nc_g_param(g, 1, C, NC_INIT_CONST, 1.0f);
    int W1 = weight(g, C, F, k->init);
    int W2 = weight(g, F, C, k->init);
    int h = nc_g_rmsnorm(g, x, g1, NORM_EPS);
    int q = nc_g_matmul(g, h, Wq);
    int kc = nc_g_matmul(g, h, Wk);
    int vc = nc_g_matmul(g, h, Wv);
    int keys = with_memory(g, id, kc, H * dk, k);
    int values = with_memory(g, id, vc, H * dv, k);
    int a = nc_g_attention(g, q, keys, values, bias, k->n.streams, H, 1.0f / sqrtf((float)dk));
    int o = nc_g_matmul(g, a, Wo);
    x = nc_g_add(g, x, o);
    int h2 = nc_g_rmsnorm(g, x, g2, NORM_EPS);
    int f1 = nc_g_gelu(g, nc_g_matmul(g, h2, W1));
    int f = nc_g_matmul(g, f1, W2);
    return nc_g_add(g, x, f);
}

nc_status trf_graph_build(nc_graph **out, net_ids *id, int *bias, const trf_cfg *k)
{
    size_t S = k->n.streams, T = k->n.segment, C = k->d_model, V = k->n.symbols;
    *out = NULL;
    nc_graph *g = nc_graph_new(k->n.seed);
    if (!g)
        return NC_ERR_NOMEM;
    id->nstate = 0;
    id->sym = nc_g_index(g, T * S);
    id->tgt = nc_g_index(g, T * S);
    id->mask = nc_g_input(g, T * S, 1);
    id->sym2 = -1;
    int emb = nc_g_param(g, V, C, NC_INIT_UNIFORM, k->init);
    int x = nc_g_gather(g, emb, id->sym);
    if (k->shift) { /* the symbol before too, as a second embedding: a trigram at once */
        id->sym2 = nc_g_index(g, T * S);
        int emb2 = nc_g_param(g, V, C, NC_INIT_UNIFORM, k->init);
        int x2 = nc_g_gather(g, emb2, id->sym2);
        x = nc_g_add(g, x, x2);
    }
    for (uint32_t l = 0; l < k->layers; l++)
        x = layer(g, id, bias + l, x, k);
    int gf = nc_g_param(g, 1, C, NC_INIT_CONST, 1.0f);
    int hf = nc_g_rmsnorm(g, x, gf, NORM_EPS);
    return net_graph_finish(out, g, id, hf, V, (int)k->bigram);
}

uint64_t trf_param_count(const trf_cfg *k)
{
    uint64_t C = k->d_model, V = k->n.symbols, H = k->heads, F = k->d_inner;
    uint64_t emb = V * C * (k->shift ? 2 : 1);
    uint64_t per_layer = 2 * C + C * H * (2 * k->d_key + k->d_value) + H * (k->memory + 1)
                         + H * k->d_value * C + 2 * C * F;
    return emb + k->layers * per_layer + C + C * V + V + (k->bigram ? V * V : 0);
}

void trf_bias_init(float *b, const trf_cfg *k)
{
    size_t W = k->memory + 1;
    float slope = k->pos_slope;
    for (size_t h = 0; h < k->heads; h++, slope *= 0.5f)
        for (size_t j = 0; j < W; j++) b[h * W + j] = -(slope * (float)(W - 1 - j)) / k->pos_rate;
}
