/* cm levels -1 ... -9: which context groups and mixers run, and how much memory they get
 * (docs/presets.md has the measured table). */
#include "cm.h"
#include "context.h"

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
    uint32_t sym, streams;
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
        || p->contexts == 0 || p->contexts > CM_G_ALL || p->mixers == 0 || p->mixers > CM_MIX_ALL
        || p->rate < 1 || p->rate > 64 || p->apm < 1 || p->apm > 3)
        return NC_ERR_LIMIT;
    return NC_OK;
}
