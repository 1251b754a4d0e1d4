/* cm levels -1 ... -9: which context groups and mixers run, and how much memory they get
 * (docs/presets.md has the measured table). */
#include "cm.h"
#include "context.h"
#include "models.h"

typedef struct cm_level {
    uint8_t hash_bits, match_bits, history_bits, contexts, mixers, apm;
} cm_level;

#define TEXT (CM_G_ORDERS | CM_G_HIGH | CM_G_WORD)
#define FAST_MIX (CM_MIX_C0 | CM_MIX_C1 | CM_MIX_SEEN)

static const cm_level levels[9] = {
    /* hash match history contexts                                   mixers      apm */
    { 22, 20, 22, CM_G_ORDERS | CM_G_WORD,                           FAST_MIX,   2 },
    { 22, 20, 22, TEXT,                                              FAST_MIX,   2 },
    { 23, 21, 23, TEXT | CM_G_LONG | CM_G_SPARSE | CM_G_INDIRECT,    FAST_MIX,   3 },
    { 23, 21, 23, CM_G_ALL,                                          CM_MIX_ALL, 3 },
    { 24, 22, 24, CM_G_ALL,                                          CM_MIX_ALL, 3 },
    { 24, 23, 24, CM_G_ALL,                                          CM_MIX_ALL, 3 },
    { 25, 23, 24, CM_G_ALL,                                          CM_MIX_ALL, 3 },
    { 25, 23, 25, CM_G_ALL,                                          CM_MIX_ALL, 3 },
    { 25, 24, 26, CM_G_ALL,                                          CM_MIX_ALL, 3 },
};

#define CM_RATE 8

nc_status cm_preset(model_config *c, int level)
{
    if (level < 1 || level > 9)
        return NC_ERR_ARG;
    const cm_level *l = &levels[level - 1];
    c->id = MODEL_CM;
    model_config_set(c, MP_SYMBOLS, 256);
    model_config_set(c, MP_STREAMS, 1);
    model_config_set(c, MP_CM_HASH, l->hash_bits);
    model_config_set(c, MP_CM_MATCH, l->match_bits);
    model_config_set(c, MP_CM_HISTORY, l->history_bits);
    model_config_set(c, MP_CM_CONTEXTS, l->contexts);
    model_config_set(c, MP_CM_MIXERS, l->mixers);
    model_config_set(c, MP_CM_RATE, CM_RATE);
    model_config_set(c, MP_CM_APM, l->apm);
    return NC_OK;
}

nc_status cm_params_get(const model_config *c, cm_params *p)
{
    uint32_t sym, streams, net = 0;
    nc_status st;
    if ((st = model_config_get(c, MP_SYMBOLS, &sym)) || (st = model_config_get(c, MP_STREAMS, &streams))
        || (st = model_config_get(c, MP_CM_HASH, &p->hash_bits))
        || (st = model_config_get(c, MP_CM_MATCH, &p->match_bits))
        || (st = model_config_get(c, MP_CM_HISTORY, &p->history_bits))
        || (st = model_config_get(c, MP_CM_CONTEXTS, &p->contexts))
        || (st = model_config_get(c, MP_CM_MIXERS, &p->mixers))
        || (st = model_config_get(c, MP_CM_RATE, &p->rate))
        || (st = model_config_get(c, MP_CM_APM, &p->apm)))
        return st;
    if (sym != 256 || streams != 1 || p->hash_bits < 12 || p->hash_bits > 30 || p->match_bits < 8
        || p->match_bits > 28 || p->history_bits < 12 || p->history_bits > 30
        || p->contexts == 0 || p->contexts > CM_G_ALL || (p->mixers & CM_MIX_ALL) == 0
        || p->mixers > (CM_MIX_ALL | CM_MIX_NET)
        || ((p->mixers & CM_MIX_NET) && !(model_config_get(c, MP_CM_NET, &net) == NC_OK && net))
        || p->rate < 1 || p->rate > 64 || p->apm < 1 || p->apm > 3)
        return NC_ERR_LIMIT;
    return NC_OK;
}

/* The network part of a hybrid: the network's own preset of net_level, with one stream (cm codes
 * one), no count mixer (cm replaces it), its learning-rate schedule stretched over the same bytes
 * (a stream of S had S times fewer updates per byte), and lag mode (net.c), so that -T2 can train
 * while the next segment is coded. */
static nc_status net_part(model_config *c, const model_ops *net, int net_level)
{
    model_config n = { 0 };
    nc_status st = net->preset(&n, net_level);
    uint32_t streams = 1, steps = 0;
    if (st == NC_OK)
        st = model_config_get(&n, MP_STREAMS, &streams);
    if (st == NC_OK)
        st = model_config_get(&n, MP_LR_STEPS, &steps);
    if (st != NC_OK)
        return st;
    for (unsigned k = 0; k < MP_COUNT; k++)
        if (model_config_has(&n, k) && !model_config_has(c, k))
            model_config_set(c, (enum model_param)k, n.value[k]);
    model_config_set(c, MP_STREAMS, 1);
    model_config_set(c, MP_LR_STEPS, steps * streams);
    model_config_set(c, MP_MIX_ORDER, 0);
    model_config_set(c, MP_NET_LAG, 1); /* its training beside the next segment's coding */
    if (net == &lstm_ops) { /* lag mode learns better from smaller steps (enwik6: 213,387 bytes at
                             * -3 against 214,267 with the LSTM's own 1e-2 falling to 2e-3) */
        model_config_setf(c, MP_LR, 5e-3f);
        model_config_setf(c, MP_LR_END, 1e-3f);
    }
    model_config_unset(c, MP_O2_LIMIT);
    model_config_unset(c, MP_O1_LIMIT);
    model_config_unset(c, MP_MIX_RATE);
    model_config_set(c, MP_CM_NET, net->id);
    uint32_t mixers = 0;
    model_config_get(c, MP_CM_MIXERS, &mixers);
    model_config_set(c, MP_CM_MIXERS, mixers | CM_MIX_NET);
    return NC_OK;
}

nc_status cm_hybrid_preset(model_config *c, int level, const model_ops *net, int net_level)
{
    nc_status st = cm_preset(c, level);
    return st == NC_OK && net ? net_part(c, net, net_level) : st;
}

/* hybrid (the default): context mixing alone at the fastest levels, then with an LSTM growing
 * with the level (docs/presets.md has the measured table): {cm level, lstm level, cells (0: the
 * lstm level's own)}. On 1 MB of text more than 1 x 192 cells buys little (enwik6 at -3 before
 * lag mode: 213,039 bytes with 192, 212,277 with 352 at a third of the speed), so the default
 * stays at 192 and the larger networks are for larger inputs. */
static const struct { uint8_t cm, net; uint16_t hidden; } hybrid_levels[9] = {
    { 1, 0, 0 }, { 3, 0, 0 }, { 5, 1, 96 }, { 5, 1, 128 }, { 5, 1, 0 },
    { 6, 3, 0 }, { 7, 5, 0 }, { 8, 7, 0 }, { 9, 9, 0 },
};

nc_status cm_hybrid_level(model_config *c, int level)
{
    if (level < 1 || level > 9)
        return NC_ERR_ARG;
    int n = hybrid_levels[level - 1].net;
    nc_status st = cm_hybrid_preset(c, hybrid_levels[level - 1].cm, n ? &lstm_ops : NULL, n);
    if (st == NC_OK && hybrid_levels[level - 1].hidden)
        model_config_set(c, MP_HIDDEN, hybrid_levels[level - 1].hidden);
    return st;
}

/* lstm, transformer: that network at the level's size with the context models of cm -5. */
nc_status cm_lstm_level(model_config *c, int level)
{
    return level < 1 || level > 9 ? NC_ERR_ARG : cm_hybrid_preset(c, 5, &lstm_ops, level);
}

nc_status cm_transformer_level(model_config *c, int level)
{
    return level < 1 || level > 9 ? NC_ERR_ARG : cm_hybrid_preset(c, 5, &transformer_ops, level);
}
