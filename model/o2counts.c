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
    o->c2 = calloc((size_t)O2_CONTEXTS * 256, sizeof *o->c2);
    o->n2 = calloc(O2_CONTEXTS, sizeof *o->n2);
    o->d2 = calloc(O2_CONTEXTS, sizeof *o->d2);
    if (!o->c2 || !o->n2 || !o->d2) {
        o2_free(o);
        return NULL;
    }
    return o;
}

nc_status o2_add_order3(o2counts *o)
{
    o->c3 = calloc((size_t)O3_CONTEXTS * 256, sizeof *o->c3);
    o->n3 = calloc(O3_CONTEXTS, sizeof *o->n3);
    o->d3 = calloc(O3_CONTEXTS, sizeof *o->d3);
    return o->c3 && o->n3 && o->d3 ? NC_OK : NC_ERR_NOMEM;
}

nc_status o2_add_order4(o2counts *o)
{
    o->c4 = calloc((size_t)O3_CONTEXTS * 256, sizeof *o->c4);
    o->n4 = calloc(O3_CONTEXTS, sizeof *o->n4);
    o->d4 = calloc(O3_CONTEXTS, sizeof *o->d4);
    return o->c4 && o->n4 && o->d4 ? NC_OK : NC_ERR_NOMEM;
}

void o2_free(o2counts *o)
{
    if (!o)
        return;
    free(o->c4);
    free(o->n4);
    free(o->d4);
    free(o->c3);
    free(o->n3);
    free(o->d3);
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

void o3_weights(const o2counts *o, unsigned h3, unsigned h2, unsigned h1, float *w, unsigned *n3)
{
    o2_weights(o, h2, h1, w);
    unsigned ctx2 = h2 << 8 | h1, ctx = o3_context(h3, h2, h1);
    float e2 = 1.5f * (float)o->d2[ctx2] + 0.5f, inv2 = 1.0f / ((float)o->n2[ctx2] + e2);
    float e3 = 1.5f * (float)o->d3[ctx] + 0.5f;
    const uint8_t *c3 = o->c3 + (size_t)ctx * 256;
    for (int s = 0; s < 256; s++) w[s] = (float)c3[s] + e3 * (w[s] * inv2);
    if (n3)
        *n3 = o->n3[ctx];
}

void o3_count(o2counts *o, unsigned h3, unsigned h2, unsigned h1, unsigned s)
{
    unsigned ctx = o3_context(h3, h2, h1);
    uint32_t n3 = o->n3[ctx], d3 = o->d3[ctx];
    count8(o->c3 + (size_t)ctx * 256, &n3, &d3, s, o->limit2);
    o->n3[ctx] = (uint16_t)n3;
    o->d3[ctx] = (uint16_t)d3;
    o2_count(o, h2, h1, s);
}

void o4_weights(const o2counts *o, const uint8_t *h, float *w, unsigned *n4)
{
    unsigned n3;
    o3_weights(o, h[2], h[1], h[0], w, &n3);
    unsigned ctx3 = o3_context(h[2], h[1], h[0]), ctx = o4_context(h[3], h[2], h[1], h[0]);
    float e3 = 1.5f * (float)o->d3[ctx3] + 0.5f, inv3 = 1.0f / ((float)n3 + e3);
    float e4 = 1.5f * (float)o->d4[ctx] + 0.5f;
    const uint8_t *c4 = o->c4 + (size_t)ctx * 256;
    for (int s = 0; s < 256; s++) w[s] = (float)c4[s] + e4 * (w[s] * inv3);
    if (n4)
        *n4 = o->n4[ctx];
}

void o4_count(o2counts *o, const uint8_t *h, unsigned s)
{
    unsigned ctx = o4_context(h[3], h[2], h[1], h[0]);
    uint32_t n4 = o->n4[ctx], d4 = o->d4[ctx];
    count8(o->c4 + (size_t)ctx * 256, &n4, &d4, s, o->limit2);
    o->n4[ctx] = (uint16_t)n4;
    o->d4[ctx] = (uint16_t)d4;
    o3_count(o, h[2], h[1], h[0], s);
}
