/* The list of models, and the config helpers shared by all of them. */
#include <string.h>

#include "models.h"

/* Every model_ops, the decoder of each id first (model_find_id takes the first). The networks
 * with the count mixer (lstm-counts, transformer-counts) still decode their files; new files
 * use the names below, whose networks are inputs of cm's mixers. */
static const model_ops *const models[] = { &cm_ops, &lstm_ops, &transformer_ops, &order2_ops,
                                           &cm_hybrid_ops, &cm_lstm_ops, &cm_transformer_ops };
/* The names a user picks a model by; the first is the default. */
static const char *const names[] = { "hybrid", "cm", "lstm", "transformer", "order2", NULL };

#define N_MODELS (sizeof models / sizeof models[0])

const char *model_param_name(unsigned key)
{
    static const char *const param_names[MP_COUNT] = {
        [MP_SYMBOLS] = "symbols", [MP_STREAMS] = "streams",
        [MP_O2_LIMIT] = "o2_limit", [MP_O1_LIMIT] = "o1_limit", [MP_SEED] = "seed",
        [MP_LAYERS] = "layers", [MP_HIDDEN] = "hidden", [MP_EMBED] = "embed",
        [MP_SEGMENT] = "segment", [MP_LR] = "lr", [MP_BETA2] = "beta2",
        [MP_ADAM_EPS] = "adam_eps", [MP_INIT] = "init", [MP_GATE_NORM] = "gate_norm",
        [MP_LR_END] = "lr_end", [MP_LR_STEPS] = "lr_steps", [MP_LR_DECAY] = "lr_decay",
        [MP_BIGRAM] = "bigram", [MP_MIX_ORDER] = "mix_order", [MP_MIX_RATE] = "mix_rate",
        [MP_D_MODEL] = "d_model", [MP_HEADS] = "heads", [MP_D_KEY] = "d_key",
        [MP_D_VALUE] = "d_value", [MP_D_INNER] = "d_inner", [MP_MEMORY] = "memory",
        [MP_CLIP] = "clip", [MP_POS_SLOPE] = "pos_slope", [MP_POS_RATE] = "pos_rate",
        [MP_SHIFT] = "shift", [MP_CM_HASH] = "cm_hash", [MP_CM_MATCH] = "cm_match",
        [MP_CM_HISTORY] = "cm_history", [MP_CM_CONTEXTS] = "cm_contexts",
        [MP_CM_MIXERS] = "cm_mixers", [MP_CM_RATE] = "cm_rate", [MP_CM_APM] = "cm_apm",
        [MP_CM_NET] = "cm_net", [MP_NET_LAG] = "lag",
        [MP_TRANSFORM] = "transform", [MP_MODELLED_LO] = "modelled_lo",
        [MP_MODELLED_HI] = "modelled_hi", [MP_FL_KIND] = "float_kind",
        [MP_FL_ERR_LO] = "max_error_lo", [MP_FL_ERR_HI] = "max_error_hi", [MP_BLOCK] = "block",
    };
    return key < MP_COUNT ? param_names[key] : NULL;
}

void model_config_set(model_config *c, enum model_param k, uint32_t v)
{
    c->value[k] = v;
    c->present[k / 64] |= 1ull << (k % 64);
}

int model_config_has(const model_config *c, unsigned k)
{
    return k < MP_COUNT && (c->present[k / 64] >> (k % 64) & 1);
}

void model_config_unset(model_config *c, enum model_param k)
{
    c->present[k / 64] &= ~(1ull << (k % 64));
    c->value[k] = 0;
}

nc_status model_config_get(const model_config *c, enum model_param k, uint32_t *v)
{
    if (!model_config_has(c, k))
        return NC_ERR_CORRUPT;
    *v = c->value[k];
    return NC_OK;
}

int model_param_is_float(unsigned k)
{
    return k == MP_LR || k == MP_BETA2 || k == MP_ADAM_EPS || k == MP_INIT || k == MP_LR_END
           || k == MP_MIX_RATE || k == MP_CLIP || k == MP_POS_SLOPE || k == MP_POS_RATE;
}

void model_config_setf(model_config *c, enum model_param k, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    model_config_set(c, k, u);
}

nc_status model_config_getf(const model_config *c, enum model_param k, float *v)
{
    uint32_t u;
    nc_status st = model_config_get(c, k, &u);
    if (st == NC_OK)
        memcpy(v, &u, sizeof *v);
    return st;
}

const model_ops *model_find_id(unsigned id)
{
    for (size_t i = 0; i < N_MODELS; i++)
        if (models[i]->id == id)
            return models[i];
    return NULL;
}

const model_ops *model_find_name(const char *name)
{
    for (size_t i = 0; i < N_MODELS; i++)
        if (strcmp(models[i]->name, name) == 0)
            return models[i];
    return NULL;
}

const char *const *model_names(void)
{
    return names;
}

const model_ops *model_at(size_t i)
{
    return i < N_MODELS ? models[i] : NULL;
}

nc_status model_open(model **out, const model_config *c, const model_env *env)
{
    *out = NULL;
    const model_ops *ops = model_find_id(c->id);
    if (!ops)
        return NC_ERR_VERSION; /* a model this build does not know */
    nc_status st = ops->check(c);
    if (st != NC_OK)
        return st;
    return ops->create(out, c, env);
}

void model_close(model *m)
{
    if (m)
        m->ops->destroy(m);
}
