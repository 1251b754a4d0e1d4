/* transformer: the transformer language model (graph in transformer_graph.c), trained online by
 * the loop in net.c: presets, the config and its limits. */
#include <string.h>

#include "models.h"
#include "transformer.h"

/* Levels trade speed for ratio through depth, width and streams (docs/presets.md). Shared by
 * all, measured best on enwik6: heads of 32 (keys and values), d_inner = 2 d_model, memory 32,
 * segments of 32 steps, lr 1e-3 falling to 5e-4 over about 1 MB of updates then as 1/sqrt, the
 * recency prior of the position bias, the shifted second embedding, a bigram table and the
 * count mixer up to order 5 as for the LSTM. Two streams learn better than four (2.044 vs 2.069
 * bpb at 2 x 128), but the decoder's one-step products then have two rows, and from 2 x 160 on
 * its weight traffic made decompression more than 1.5 times slower than compression (1.6 at
 * 3 x 160, 1.8 at 4 x 160; four streams: 1.4): those levels use four. */
static const struct { uint8_t layers, heads, streams; } presets[9] = {
    { 1, 4, 2 }, { 2, 4, 2 }, { 2, 5, 4 }, { 3, 5, 4 }, { 4, 5, 4 },
    { 4, 6, 4 }, { 6, 6, 4 }, { 6, 7, 4 }, { 6, 8, 4 },
};

static nc_status trf_preset(model_config *c, int level)
{
    if (level < 1 || level > 9)
        return NC_ERR_ARG;
    unsigned S = presets[level - 1].streams, H = presets[level - 1].heads;
    const net_cfg n = { .symbols = 256, .streams = S, .segment = 32, .seed = 1,
                        .lr = 1e-3f, .lr_end = 5e-4f, .lr_steps = S == 2 ? 15000 : 8000,
                        .lr_decay = 1,
                        .beta2 = 0.9999f, .eps = 1e-6f, .mix_order = 5,
                        .o2_limit = 60, .o1_limit = 1000, .mix_rate = 0.002f };
    c->id = MODEL_TRANSFORMER;
    net_preset(c, &n);
    model_config_set(c, MP_LAYERS, presets[level - 1].layers);
    model_config_set(c, MP_D_MODEL, 32 * H);
    model_config_set(c, MP_HEADS, H);
    model_config_set(c, MP_D_KEY, 32);
    model_config_set(c, MP_D_VALUE, 32);
    model_config_set(c, MP_D_INNER, 64 * H);
    model_config_set(c, MP_MEMORY, 32);
    model_config_setf(c, MP_INIT, 1.0f);
    model_config_setf(c, MP_CLIP, 0.0f);
    model_config_setf(c, MP_POS_SLOPE, 1.0f);
    model_config_setf(c, MP_POS_RATE, 10.0f);
    model_config_set(c, MP_BIGRAM, 1);
    model_config_set(c, MP_SHIFT, 1);
    return NC_OK;
}

nc_status trf_cfg_read(trf_cfg *k, const model_config *c)
{
    memset(k, 0, sizeof *k);
    nc_status st = net_cfg_read(&k->n, c);
    const struct { enum model_param p; uint32_t *v; } u[] = {
        { MP_LAYERS, &k->layers }, { MP_D_MODEL, &k->d_model }, { MP_HEADS, &k->heads },
        { MP_D_KEY, &k->d_key },   { MP_D_VALUE, &k->d_value }, { MP_D_INNER, &k->d_inner },
        { MP_MEMORY, &k->memory }, { MP_BIGRAM, &k->bigram },   { MP_SHIFT, &k->shift },
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0] && st == NC_OK; i++)
        st = model_config_get(c, u[i].p, u[i].v);
    if (st == NC_OK)
        st = model_config_getf(c, MP_INIT, &k->init);
    if (st == NC_OK)
        st = model_config_getf(c, MP_CLIP, &k->clip);
    if (st == NC_OK)
        st = model_config_getf(c, MP_POS_SLOPE, &k->pos_slope);
    if (st == NC_OK)
        st = model_config_getf(c, MP_POS_RATE, &k->pos_rate);
    return st;
}

/* Caps that keep a foreign header from requesting absurd memory: parameters, and the activation
 * workspace as segment rows times a generous count of floats per row. */
#define MAX_PARAMS ((uint64_t)1 << 28)
#define MAX_ROWS_X_WIDTH ((uint64_t)1 << 27)

/* Floats of activation workspace, at most: the key/value rows of one segment and its memory
 * times a bound on floats per row (the planner's reuse only makes the real workspace smaller). */
static uint64_t trf_workspace_floats(const trf_cfg *k)
{
    uint64_t S = k->n.streams, T = k->n.segment, H = k->heads, W = k->memory + 1;
    uint64_t per_row = k->layers * (8 * k->d_model + 4 * H * (2 * k->d_key + k->d_value) + 4 * H * W
                                    + 4 * k->d_inner) + 4 * k->n.symbols;
    return (T + k->memory) * S * per_row;
}

static nc_status trf_check(const model_config *c)
{
    trf_cfg k;
    nc_status st = trf_cfg_read(&k, c);
    if (st == NC_OK)
        st = net_cfg_check(&k.n);
    if (st != NC_OK)
        return st;
    if (k.layers < 1 || k.layers > TRF_MAX_LAYERS || k.d_model < 1 || k.d_model > 4096
        || k.heads < 1 || k.heads > 64 || k.d_key < 1 || k.d_key > 256 || k.d_value < 1
        || k.d_value > 256 || k.d_inner < 1 || k.d_inner > 16384 || k.memory > 1024
        || k.bigram > 1 || k.shift > 1 || !(k.init >= 0 && k.init <= 16)
        || !(k.clip >= 0 && k.clip <= 1e6f) || !(k.pos_slope >= 0 && k.pos_slope <= 64)
        || !(k.pos_rate >= 1.0f / 64 && k.pos_rate <= 64))
        return NC_ERR_LIMIT;
    if (trf_param_count(&k) > MAX_PARAMS || trf_workspace_floats(&k) > MAX_ROWS_X_WIDTH)
        return NC_ERR_LIMIT;
    return NC_OK;
}

static nc_status trf_create(model **out, const model_config *c, const model_env *env)
{
    trf_cfg k;
    net_ids ids;
    int bias[TRF_MAX_LAYERS];
    nc_graph *g = NULL;
    *out = NULL;
    nc_status st = trf_cfg_read(&k, c);
    if (st == NC_OK)
        st = trf_graph_build(&g, &ids, bias, &k);
    if (st == NC_OK)
        st = net_create(out, &transformer_ops, &k.n, g, &ids, k.clip, env);
    for (uint32_t l = 0; st == NC_OK && l < k.layers; l++)
        trf_bias_init(net_param(*out, bias[l]), &k);
    return st;
}

static void trf_size(const model_config *c, uint64_t *params, uint64_t *bytes)
{
    trf_cfg k;
    *params = *bytes = 0;
    if (trf_cfg_read(&k, c) != NC_OK)
        return;
    *params = trf_param_count(&k);
    *bytes = net_bytes(&k.n, *params, trf_workspace_floats(&k));
}

const model_ops transformer_ops = {
    .name = "transformer-counts", /* likewise: cm_transformer_ops */
    .id = MODEL_TRANSFORMER,
    .preset = trf_preset,
    .check = trf_check,
    .create = trf_create,
    .destroy = net_destroy,
    .predict = net_predict,
    .predict_segment = net_predict_segment,
    .update = net_update,
    .size = trf_size,
};
