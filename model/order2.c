/* order2: an adaptive order-2 context model blended down to order 1 and order 0 (the counts
 * and the blend are in o2counts.c). The fast baseline and test model. */
#include <stdlib.h>

#include "models.h"
#include "o2counts.h"

typedef struct order2 {
    model base;
    o2counts *o;
    uint8_t h1, h2;          /* the last two bytes, h1 the most recent */
} order2;

static nc_status order2_preset(model_config *c, int level)
{
    (void)level; /* one setting serves all levels: the model has nothing to trade */
    c->id = MODEL_ORDER2;
    model_config_set(c, MP_SYMBOLS, 256);
    model_config_set(c, MP_STREAMS, 1);
    model_config_set(c, MP_O2_LIMIT, 60); /* tuned on enwik6: adaptivity beats long memory */
    model_config_set(c, MP_O1_LIMIT, 1000);
    return NC_OK;
}

static nc_status order2_check(const model_config *c)
{
    uint32_t sym, streams, l2, l1;
    nc_status st;
    if ((st = model_config_get(c, MP_SYMBOLS, &sym)) || (st = model_config_get(c, MP_STREAMS, &streams)) ||
        (st = model_config_get(c, MP_O2_LIMIT, &l2)) || (st = model_config_get(c, MP_O1_LIMIT, &l1)))
        return st;
    /* Order-2 counts are bytes and order-1 counts uint16; a count may pass its limit by one
     * before the context is halved. */
    if (sym != 256 || streams != 1 || l2 < 2 || l2 > 250 || l1 < 2 || l1 > 60000)
        return NC_ERR_LIMIT;
    return NC_OK;
}

static void order2_destroy(model *m)
{
    order2 *o = (order2 *)m;
    if (o)
        o2_free(o->o);
    free(o);
}

static nc_status order2_create(model **out, const model_config *c, const model_env *env)
{
    (void)env;
    order2 *o = calloc(1, sizeof *o);
    if (!o)
        return NC_ERR_NOMEM;
    o->base.n_symbols = 256;
    o->base.n_streams = 1;
    o->base.ops = &order2_ops;
    if (!(o->o = o2_new(c->value[MP_O2_LIMIT], c->value[MP_O1_LIMIT]))) {
        order2_destroy(&o->base);
        return NC_ERR_NOMEM;
    }
    *out = &o->base;
    return NC_OK;
}

static nc_status order2_predict(model *m, float *w, uint32_t n_active)
{
    (void)n_active;
    order2 *o = (order2 *)m;
    o2_weights(o->o, o->h2, o->h1, w);
    return NC_OK;
}

static nc_status order2_update(model *m, const uint16_t *sym, uint32_t n_active)
{
    (void)n_active;
    order2 *o = (order2 *)m;
    o2_count(o->o, o->h2, o->h1, sym[0]);
    o->h2 = o->h1;
    o->h1 = (uint8_t)sym[0];
    return NC_OK;
}

static void order2_size(const model_config *c, uint64_t *params, uint64_t *bytes)
{
    (void)c;
    *params = 0; /* counts, no learned weights */
    *bytes = sizeof(order2) + o2_bytes();
}

const model_ops order2_ops = {
    .name = "order2",
    .id = MODEL_ORDER2,
    .preset = order2_preset,
    .check = order2_check,
    .create = order2_create,
    .destroy = order2_destroy,
    .predict = order2_predict,
    .update = order2_update,
    .size = order2_size,
};
