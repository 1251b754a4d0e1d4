/* lstm: the LSTM language model (graph in lstm_graph.c), trained online by the loop in net.c:
 * presets, the config and its limits. */
#include <string.h>

#include "lstm.h"
#include "models.h"

/* Levels trade speed for ratio through the network's size and the stream count; everything
 * else was measured best on enwik6 (docs/presets.md): segments of 32 steps, learning rate 1e-2
 * falling linearly to 2e-3 over about 1 MB of updates then as 1/sqrt, gate normalisation, a bigram
 * table, the count mixer up to order 5. Two streams learn better than four (more updates per
 * byte: 2.006 vs 2.020 bpb at 1x160; 1.948 vs 1.963 at 1x352) but their 2-row products use
 * the cores less well, so the two-layer levels use four. Hidden sizes avoid multiples of 128, whose 4H-wide weight rows alias
 * in the cache (matmul_template.h). */
static const struct { uint8_t layers, streams; uint16_t hidden; } presets[9] = {
    { 1, 2, 192 }, { 1, 2, 224 }, { 1, 2, 288 }, { 1, 2, 320 }, { 1, 2, 352 },
    { 1, 2, 416 }, { 2, 4, 288 }, { 2, 4, 320 }, { 2, 4, 352 },
};

static nc_status lstm_preset(model_config *c, int level)
{
    if (level < 1 || level > 9)
        return NC_ERR_ARG;
    unsigned S = presets[level - 1].streams;
    /* lr_steps: about 1 MB of updates, 2^20 / (32 steps x streams) */
    const net_cfg n = { .symbols = 256, .streams = S, .segment = 32, .seed = 1,
                        .lr = 1e-2f, .lr_end = 2e-3f, .lr_steps = S == 2 ? 15000 : 8000,
                        .lr_decay = 1, .beta2 = 0.9999f, .eps = 1e-6f, .mix_order = 5,
                        .o2_limit = 60, .o1_limit = 1000, .mix_rate = 0.002f };
    c->id = MODEL_LSTM;
    net_preset(c, &n);
    model_config_set(c, MP_LAYERS, presets[level - 1].layers);
    model_config_set(c, MP_HIDDEN, presets[level - 1].hidden);
    model_config_set(c, MP_EMBED, 64);
    model_config_setf(c, MP_INIT, 1.0f);
    model_config_set(c, MP_GATE_NORM, 1);
    model_config_set(c, MP_BIGRAM, 1);
    return NC_OK;
}

nc_status lstm_cfg_read(lstm_cfg *k, const model_config *c)
{
    memset(k, 0, sizeof *k);
    nc_status st = net_cfg_read(&k->n, c);
    const struct { enum model_param p; uint32_t *v; } u[] = {
        { MP_LAYERS, &k->layers }, { MP_HIDDEN, &k->hidden }, { MP_EMBED, &k->embed },
        { MP_GATE_NORM, &k->gate_norm }, { MP_BIGRAM, &k->bigram },
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0] && st == NC_OK; i++)
        st = model_config_get(c, u[i].p, u[i].v);
    if (st == NC_OK)
        st = model_config_getf(c, MP_INIT, &k->init);
    return st;
}

/* Largest activation workspace a file may ask for, in floats per segment row and per layer:
 * generous for this graph (about 30 values of `hidden` per row and layer), and a cap on the
 * total that keeps a foreign header from requesting absurd memory. */
#define MAX_PARAMS ((uint64_t)1 << 28)
#define MAX_ROWS_X_WIDTH ((uint64_t)1 << 26)

/* Floats of activation workspace, at most: rows of one segment times a bound on floats per row
 * (the planner's reuse only makes the real workspace smaller). */
static uint64_t lstm_workspace_floats(const lstm_cfg *k)
{
    uint64_t rows = (uint64_t)k->n.segment * k->n.streams;
    uint64_t width = (uint64_t)k->layers * k->hidden * 32 + k->n.symbols * 4 + k->embed;
    return rows * width;
}

static nc_status lstm_check(const model_config *c)
{
    lstm_cfg k;
    nc_status st = lstm_cfg_read(&k, c);
    if (st == NC_OK)
        st = net_cfg_check(&k.n);
    if (st != NC_OK)
        return st;
    if (k.layers < 1 || k.layers > LSTM_MAX_LAYERS || k.hidden < 1 || k.hidden > 4096
        || k.embed < 1 || k.embed > 1024 || k.gate_norm > 1 || k.bigram > 1
        || !(k.init >= 0 && k.init <= 16))
        return NC_ERR_LIMIT;
    if (lstm_param_count(&k) > MAX_PARAMS || lstm_workspace_floats(&k) > MAX_ROWS_X_WIDTH)
        return NC_ERR_LIMIT;
    return NC_OK;
}

static nc_status lstm_create(model **out, const model_config *c, const model_env *env)
{
    lstm_cfg k;
    net_ids ids;
    nc_graph *g = NULL;
    *out = NULL;
    nc_status st = lstm_cfg_read(&k, c);
    if (st == NC_OK)
        st = lstm_graph_build(&g, &ids, &k);
    if (st == NC_OK)
        st = net_create(out, &lstm_ops, &k.n, g, &ids, 0.0f, env);
    return st;
}

static void lstm_size(const model_config *c, uint64_t *params, uint64_t *bytes)
{
    lstm_cfg k;
    *params = *bytes = 0;
    if (lstm_cfg_read(&k, c) != NC_OK)
        return;
    *params = lstm_param_count(&k);
    *bytes = net_bytes(&k.n, *params, lstm_workspace_floats(&k));
}

const model_ops lstm_ops = {
    .name = "lstm-counts", /* the count mixer; new files: cm_lstm_ops */
    .id = MODEL_LSTM,
    .preset = lstm_preset,
    .check = lstm_check,
    .create = lstm_create,
    .destroy = net_destroy,
    .predict = net_predict,
    .predict_segment = net_predict_segment,
    .update = net_update,
    .size = lstm_size,
};
