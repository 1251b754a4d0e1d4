/* The count mixer (mixer.h). */
#include <stdlib.h>
#include <string.h>

#include "mixer.h"

void mixer_free(mixer *x)
{
    if (!x)
        return;
    o2_free(x->o2);
    free(x->hist);
    free(x->pl);
    free(x->po);
    free(x->bucket);
    free(x);
}

mixer *mixer_new(size_t S, int order, uint32_t o2_limit, uint32_t o1_limit, float rate)
{
    mixer *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->S = S;
    x->V = 256;
    x->rate = rate;
    x->o2 = o2_new(o2_limit, o1_limit);
    x->hist = calloc(S, O_MAX);
    x->pl = calloc(S * x->V, sizeof *x->pl);
    x->po = calloc(S * x->V, sizeof *x->po);
    x->bucket = calloc(S, 1);
    for (int b = 0; b < MIX_BUCKETS; b++) x->lam[b] = 0.5f;
    if (!x->o2 || !x->hist || !x->pl || !x->po || !x->bucket
        || o2_add_orders(x->o2, order) != NC_OK) {
        mixer_free(x);
        return NULL;
    }
    return x;
}

void mixer_step(mixer *x, float *w)
{
    size_t V = x->V;
    memcpy(x->pl, w, x->S * V * sizeof *w);
    for (size_t s = 0; s < x->S; s++) {
        float *po = x->po + s * V, *ws = w + s * V;
        unsigned n;
        on_weights(x->o2, x->hist + O_MAX * s, po, &n);
        float sum = 0.0f;
        for (size_t j = 0; j < V; j++) sum += po[j];
        float inv = 1.0f / sum;
        for (size_t j = 0; j < V; j++) po[j] *= inv;
        unsigned b = 0;
        n += 1u;
        while (n >>= 1) b++;
        x->bucket[s] = (uint8_t)(b < MIX_BUCKETS ? b : MIX_BUCKETS - 1);
        float lam = x->lam[x->bucket[s]], keep = 1.0f - lam;
        for (size_t j = 0; j < V; j++) ws[j] = keep * ws[j] + lam * po[j];
    }
}

void mixer_learn(mixer *x, const uint16_t *sym, size_t n_active)
{
    size_t V = x->V;
    for (size_t s = 0; s < n_active; s++) {
        float pl = x->pl[s * V + sym[s]], po = x->po[s * V + sym[s]];
        float *lam = &x->lam[x->bucket[s]];
        float pm = (1.0f - *lam) * pl + *lam * po;
        float l = *lam + x->rate * ((po - pl) / pm);
        *lam = l < MIX_LO ? MIX_LO : l > MIX_HI ? MIX_HI : l;
        uint8_t *h = x->hist + O_MAX * s;
        on_count(x->o2, h, sym[s]);
        memmove(h + 1, h, O_MAX - 1);
        h[0] = (uint8_t)sym[s];
    }
}

uint64_t mixer_bytes(int order)
{
    return o2_bytes() + (order > 2 ? (uint64_t)O_CONTEXTS * 260 * (uint64_t)(order - 2) : 0);
}
