/* Order-2 context counts (o2counts.h). The blend is PPM-like:
 *     w(s) = c2(s) + e2 * p1(s),  p1(s) = (c1(s) + e1 * p0(s)) / (n1 + e1),
 * where the escape weight e of a context is 1.5 x its number of distinct symbols + 0.5 (close to
 * Witten-Bell; the factors were tuned on enwik6), so a context that has seen few different
 * symbols trusts itself more. Counts are halved when a context's total passes a limit, which
 * keeps the statistics adaptive on changing data. */
#include <stdlib.h>

#include "o2counts.h"

#define O2_CONTEXTS 65536u

o2counts *o2_new(uint32_t limit2, uint32_t limit1)
{
    o2counts *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->limit2 = limit2;
    o->limit1 = limit1;
    o->max_order = 2;
    o->c2 = calloc((size_t)O2_CONTEXTS * 256, sizeof *o->c2);
    o->n2 = calloc(O2_CONTEXTS, sizeof *o->n2);
    o->d2 = calloc(O2_CONTEXTS, sizeof *o->d2);
    if (!o->c2 || !o->n2 || !o->d2) {
        o2_free(o);
        return NULL;
    }
    return o;
}

nc_status o2_add_orders(o2counts *o, int max_order)
{
    o->max_order = max_order;
    for (int k = 3; k <= max_order; k++) {
        o->ck[k] = calloc((size_t)O_CONTEXTS * 256, sizeof *o->ck[k]);
        o->nk[k] = calloc(O_CONTEXTS, sizeof *o->nk[k]);
        o->dk[k] = calloc(O_CONTEXTS, sizeof *o->dk[k]);
        if (!o->ck[k] || !o->nk[k] || !o->dk[k])
            return NC_ERR_NOMEM;
    }
    return NC_OK;
}

void o2_free(o2counts *o)
{
    if (!o)
        return;
    for (int k = 3; k <= O_MAX; k++) {
        free(o->ck[k]);
        free(o->nk[k]);
        free(o->dk[k]);
    }
    free(o->c2);
    free(o->n2);
    free(o->d2);
    free(o);
}

void o2_weights(const o2counts *o, unsigned h2, unsigned h1, float *w)
{
    unsigned ctx = h2 << 8 | h1;
    const uint8_t *c2 = o->c2 + (size_t)ctx * 256;
    const uint16_t *c1 = o->c1[h1];
    float inv0 = 1.0f / (float)(o->n0 + 256);
    float e1 = 1.5f * (float)o->d1[h1] + 0.5f, inv1 = 1.0f / ((float)o->n1[h1] + e1);
    float e2 = 1.5f * (float)o->d2[ctx] + 0.5f;
    for (int s = 0; s < 256; s++) {
        float p0 = (float)(o->c0[s] + 1) * inv0;
        float p1 = ((float)c1[s] + e1 * p0) * inv1;
        w[s] = (float)c2[s] + e2 * p1;
    }
}

/* Count s in a context; halve the context when its total passes the limit (so no count can
 * pass limit + 1: the models' check() keeps that within the counter's width). */
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

void o2_count(o2counts *o, unsigned h2, unsigned h1, unsigned s)
{
    unsigned ctx = h2 << 8 | h1;
    uint32_t n2 = o->n2[ctx], d2 = o->d2[ctx];
    count8(o->c2 + (size_t)ctx * 256, &n2, &d2, s, o->limit2);
    o->n2[ctx] = (uint16_t)n2;
    o->d2[ctx] = (uint16_t)d2;
    count16(o->c1[h1], &o->n1[h1], &o->d1[h1], s, o->limit1);
    o->c0[s]++;
    if (++o->n0 > 1u << 20) { /* order 0 barely moves; halve only to stay in range */
        o->n0 = 0;
        for (int i = 0; i < 256; i++)
            o->n0 += o->c0[i] >>= 1;
    }
}

uint64_t o2_bytes(void)
{
    return sizeof(o2counts) + (uint64_t)O2_CONTEXTS * 256 + O2_CONTEXTS * 4;
}

/* The context of order k (3 .. O_MAX) after h: FNV-1a over its k bytes, seeded by k. */
static unsigned context(const uint8_t *h, int k)
{
    uint32_t x = 2166136261u ^ (uint32_t)k;
    for (int i = 0; i < k; i++) x = (x ^ h[i]) * 16777619u;
    return (unsigned)(x >> (32 - O_BITS));
}

void on_weights(const o2counts *o, const uint8_t *h, float *w, unsigned *n)
{
    o2_weights(o, h[1], h[0], w);
    unsigned ctx2 = (unsigned)h[1] << 8 | h[0];
    unsigned nprev = o->n2[ctx2], dprev = o->d2[ctx2];
    for (int k = 3; k <= o->max_order; k++) {
        unsigned ctx = context(h, k);
        float ep = 1.5f * (float)dprev + 0.5f, inv = 1.0f / ((float)nprev + ep);
        float e = 1.5f * (float)o->dk[k][ctx] + 0.5f;
        const uint8_t *c = o->ck[k] + (size_t)ctx * 256;
        for (int s = 0; s < 256; s++) w[s] = (float)c[s] + e * (w[s] * inv);
        nprev = o->nk[k][ctx], dprev = o->dk[k][ctx];
    }
    *n = nprev;
}

void on_count(o2counts *o, const uint8_t *h, unsigned s)
{
    for (int k = 3; k <= o->max_order; k++) {
        unsigned ctx = context(h, k);
        uint32_t n = o->nk[k][ctx], d = o->dk[k][ctx];
        count8(o->ck[k] + (size_t)ctx * 256, &n, &d, s, o->limit2);
        o->nk[k][ctx] = (uint16_t)n;
        o->dk[k][ctx] = (uint16_t)d;
    }
    o2_count(o, h[1], h[0], s);
}
