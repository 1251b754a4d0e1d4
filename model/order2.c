/* order2: an adaptive order-2 context model blended down to order 1 and order 0.
 *
 * The fast baseline and test model. Each context keeps symbol counts; the prediction is
 * the PPM-style blend  w(s) = c2(s) + e2 * p1(s),  p1(s) = (c1(s) + e1 * p0(s)) / (n1 + e1),
 * where the escape weight e of a context is 1.5 x its number of distinct symbols + 0.5 (close to
 * Witten-Bell; the factors were tuned on enwik6), so a context that has seen few different
 * symbols trusts itself more. Counts are halved when a context's total passes a limit, which
 * keeps the model adaptive on changing data.
 * All arithmetic is integer or IEEE float in a fixed order: identical on every machine. */
#include <stdlib.h>

#include "models.h"

#define O2_CONTEXTS 65536u

typedef struct order2 {
    model base;
    uint32_t limit2, limit1;
    uint8_t *c2;             /* (65536, 256): counts after each two-byte context */
    uint16_t *n2, *d2;       /* (65536): totals and distinct symbols per context */
    uint16_t c1[256][256];   /* after each one-byte context */
    uint32_t n1[256], d1[256];
    uint32_t c0[256], n0;
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
    if (!o)
        return;
    free(o->c2);
    free(o->n2);
    free(o->d2);
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
    o->limit2 = c->value[MP_O2_LIMIT];
    o->limit1 = c->value[MP_O1_LIMIT];
    /* calloc: untouched contexts cost no physical memory. */
    o->c2 = calloc((size_t)O2_CONTEXTS * 256, sizeof *o->c2);
    o->n2 = calloc(O2_CONTEXTS, sizeof *o->n2);
    o->d2 = calloc(O2_CONTEXTS, sizeof *o->d2);
    o->base.ops = &order2_ops;
    if (!o->c2 || !o->n2 || !o->d2) {
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
    unsigned ctx = (unsigned)o->h2 << 8 | o->h1;
    const uint8_t *c2 = o->c2 + (size_t)ctx * 256;
    const uint16_t *c1 = o->c1[o->h1];
    float inv0 = 1.0f / (float)(o->n0 + 256);
    float e1 = 1.5f * (float)o->d1[o->h1] + 0.5f, inv1 = 1.0f / ((float)o->n1[o->h1] + e1);
    float e2 = 1.5f * (float)o->d2[ctx] + 0.5f;
    for (int s = 0; s < 256; s++) {
        float p0 = (float)(o->c0[s] + 1) * inv0;
        float p1 = ((float)c1[s] + e1 * p0) * inv1;
        w[s] = (float)c2[s] + e2 * p1;
    }
    return NC_OK;
}

/* Count s in a context; halve the context when its total passes the limit (so no count can
 * pass limit + 1: check() keeps that within the counter's width). */
#define DEFINE_COUNT(name, type)                                                                 \
    static void name(type *c, uint32_t *n, uint32_t *d, unsigned s, uint32_t limit)              \
    {                                                                                            \
        *d += c[s] == 0;                                                                         \
        c[s]++;                                                                                  \
        if (++*n <= limit)                                                                       \
            return;                                                                              \
        *n = *d = 0;                                                                             \
        for (int i = 0; i < 256; i++) {                                                          \
            c[i] >>= 1;                                                                          \
            *n += c[i];                                                                          \
            *d += c[i] != 0;                                                                     \
        }                                                                                        \
    }
DEFINE_COUNT(count8, uint8_t)
DEFINE_COUNT(count16, uint16_t)

static nc_status order2_update(model *m, const uint16_t *sym, uint32_t n_active)
{
    (void)n_active;
    order2 *o = (order2 *)m;
    unsigned s = sym[0], ctx = (unsigned)o->h2 << 8 | o->h1;
    uint32_t n2 = o->n2[ctx], d2 = o->d2[ctx];
    count8(o->c2 + (size_t)ctx * 256, &n2, &d2, s, o->limit2);
    o->n2[ctx] = (uint16_t)n2;
    o->d2[ctx] = (uint16_t)d2;
    count16(o->c1[o->h1], &o->n1[o->h1], &o->d1[o->h1], s, o->limit1);
    o->c0[s]++;
    if (++o->n0 > 1u << 20) { /* order 0 barely moves; halve only to stay in range */
        o->n0 = 0;
        for (int i = 0; i < 256; i++)
            o->n0 += o->c0[i] >>= 1;
    }
    o->h2 = o->h1;
    o->h1 = (uint8_t)s;
    return NC_OK;
}

static void order2_size(const model_config *c, uint64_t *params, uint64_t *bytes)
{
    (void)c;
    *params = 0; /* counts, no learned weights */
    *bytes = sizeof(order2) + (uint64_t)O2_CONTEXTS * 256 + O2_CONTEXTS * 4;
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
