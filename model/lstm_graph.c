/* The LSTM's training graph in nc bytecode: T steps of S streams, written once; nc derives the
 * backward pass from it and the decoder's one-step program (nc_graph_timestep).
 *
 * Layer-major, so the big products are time-parallel: layer l's input (the symbol embedding and
 * the outputs of all lower layers, over all T*S rows) is multiplied by its input weights in one
 * matmul, and only the recurrent product h(t-1) . Wh runs per step. The cell is NNCP's clamped
 * one without tanh on the output:
 *     c = c*f + min(1 - f, i)*g,   h = o*c,
 * which keeps |c| <= 1 (a convex mix of c and g in [-1, 1]) so no output squashing is needed.
 * With gate_norm each gate's pre-activation is RMS-normalised (own gain) before its bias, which
 * makes the step size of a gate independent of how large the layer's inputs have grown.
 * The head reads the outputs of all layers. Loss: the sum over rows of mask * cross-entropy, so
 * rows of inactive streams and of the padding after the end of the input teach nothing.
 *
 * Every builder call that builds two operands is split into two statements: C leaves argument
 * evaluation order unspecified and the instruction order must not depend on the compiler. */
#include <math.h>
#include <stdlib.h>

#include "lstm.h"

/* Weights of a layer with fan-in n: uniform in +-init/sqrt(n). sqrtf is exact (IEEE). */
static int weight(nc_graph *g, size_t rows, size_t cols, size_t fan_in, float init)
{
    return nc_g_param(g, rows, cols, NC_INIT_UNIFORM, init / sqrtf((float)fan_in));
}

/* One step of one layer on x = this step's rows of the input product. */
static void cell(nc_graph *g, const lstm_cfg *k, int x, int Wh, const int *gain, const int *bias,
                 int *h, int *c)
{
    size_t H = k->hidden;
    int r = nc_g_matmul(g, *h, Wh);
    int z = nc_g_add(g, x, r);
    int a[4];
    for (int j = 0; j < 4; j++) {
        int zj = nc_g_slice_cols(g, z, (size_t)j * H, H);
        if (k->gate_norm)
            zj = nc_g_add_bias(g, nc_g_rmsnorm(g, zj, gain[j], 1e-5f), bias[j]);
        a[j] = j == 2 ? nc_g_tanh(g, zj) : nc_g_sigmoid(g, zj);
    }
    /* a = f, i, g, o */
    int cf = nc_g_mul(g, *c, a[0]);
    int t = nc_g_min(g, nc_g_one_minus(g, a[0]), a[1]);
    int tg = nc_g_mul(g, t, a[2]);
    *c = nc_g_add(g, cf, tg);
    *h = nc_g_mul(g, a[3], *c);
}

nc_status lstm_graph_build(nc_graph **out, net_ids *id, const lstm_cfg *k)
{
    size_t S = k->n.streams, T = k->n.segment, H = k->hidden, E = k->embed, V = k->n.symbols;
    size_t L = k->layers;
    *out = NULL;
    nc_graph *g = nc_graph_new(k->n.seed);
    int *hs = malloc(T * sizeof *hs);
    if (!g || !hs) {
        nc_graph_free(g);
        free(hs);
        return NC_ERR_NOMEM;
    }
    id->sym = nc_g_index(g, T * S);
    id->tgt = nc_g_index(g, T * S);
    id->mask = nc_g_input(g, T * S, 1);
    id->sym2 = -1;
    int emb = nc_g_param(g, V, E, NC_INIT_UNIFORM, k->init);
    int below = nc_g_gather(g, emb, id->sym); /* (T*S, E + l*H): the input of layer l */
    int outs[LSTM_MAX_LAYERS];
    for (size_t l = 0; l < L; l++) {
        size_t in = E + l * H;
        int Wx = weight(g, in, 4 * H, in + H, k->init);
        int Wh = weight(g, H, 4 * H, in + H, k->init);
        int gain[4] = { -1, -1, -1, -1 }, bias[4] = { -1, -1, -1, -1 };
        int X = nc_g_matmul(g, below, Wx);
        if (k->gate_norm) {
            for (int j = 0; j < 4; j++) {
                gain[j] = nc_g_param(g, 1, H, NC_INIT_CONST, 1.0f);
                bias[j] = nc_g_param(g, 1, H, NC_INIT_CONST, 0.0f);
            }
        } else {
            X = nc_g_add_bias(g, X, nc_g_param(g, 1, 4 * H, NC_INIT_CONST, 0.0f));
        }
        int h0 = nc_g_input(g, S, H), h = h0;
        int c0 = nc_g_input(g, S, H), c = c0;
        for (size_t t = 0; t < T; t++) {
            nc_g_step(g, (int)t);
            int xt = nc_g_slice_rows(g, X, t * S, S);
            cell(g, k, xt, Wh, gain, bias, &h, &c);
            hs[t] = h;
        }
        nc_g_step(g, -1);
        id->state_in[2 * l] = h0;
        id->state_out[2 * l] = h;
        id->state_in[2 * l + 1] = c0;
        id->state_out[2 * l + 1] = c;
        outs[l] = nc_g_concat_rows_n(g, hs, T);
        if (l + 1 < L)
            below = nc_g_concat_cols(g, below, outs[l]);
    }
    int all = nc_g_concat_cols_n(g, outs, L);
    free(hs);
    id->nstate = (int)(2 * L);
    return net_graph_finish(out, g, id, all, V, (int)k->bigram);
}

uint64_t lstm_param_count(const lstm_cfg *k)
{
    uint64_t H = k->hidden, V = k->n.symbols, n = V * k->embed;
    for (uint64_t l = 0; l < k->layers; l++)
        n += (k->embed + l * H + H) * 4 * H + 4 * H * (k->gate_norm ? 2 : 1);
    return n + (k->layers * H + 1) * V + (k->bigram ? V * V : 0);
}
