/* Float weights -> integer frequency tables, and symbol coding on top of the range coder. */
#include "symbol.h"

#include <assert.h>
#include <math.h> /* INFINITY */

/* A weight as the mapping sees it: NaN and negatives are 0 (NaN > 0 is false). */
static float clean(float x)
{
    return x > 0.0f ? x : 0.0f;
}

static uint32_t argmax_u32(const uint32_t *f, uint32_t n)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (f[i] > f[best])
            best = i;
    return best;
}

uint32_t rc_quantize(uint32_t *freq, const float *w, uint32_t n)
{
    assert(n >= 1 && n <= RC_DIRECT_MAX);
    float sum = 0.0f;
    for (uint32_t i = 0; i < n; i++)
        sum += clean(w[i]);
    const uint32_t spare = RC_TOTAL - n; /* mass shared out after every symbol got 1 */
    float scale = (float)spare / sum;
    if (!(sum > 0.0f) || !(scale < INFINITY)) { /* no usable weights: uniform */
        for (uint32_t i = 0; i < n; i++)
            freq[i] = RC_TOTAL / n + (i < RC_TOTAL % n);
        return 0;
    }
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        float q = clean(w[i]) * scale;
        uint32_t extra = q >= (float)spare ? spare : (uint32_t)q; /* truncation toward 0 */
        freq[i] = 1 + extra;
        total += freq[i];
    }
    /* Rounding leaves the total a little off RC_TOTAL; the most probable symbol absorbs it,
     * which changes its probability least in relative terms. */
    while (total != RC_TOTAL) {
        uint32_t i = argmax_u32(freq, n);
        if (total < RC_TOTAL) {
            freq[i] += RC_TOTAL - total;
            total = RC_TOTAL;
        } else {
            uint32_t d = total - RC_TOTAL;
            if (d > freq[i] - 1)
                d = freq[i] - 1;
            freq[i] -= d;
            total -= d;
        }
    }
    return argmax_u32(freq, n);
}

/* Code-space order: every symbol but mps in index order, then mps (see rc_quantize). */
static void encode_table(rc_encoder *e, const uint32_t *freq, uint32_t mps, uint32_t sym)
{
    if (sym == mps) {
        rc_enc_encode(e, RC_TOTAL - freq[mps], freq[mps]);
        return;
    }
    uint32_t cum = 0;
    for (uint32_t i = 0; i < sym; i++)
        cum += i == mps ? 0 : freq[i];
    rc_enc_encode(e, cum, freq[sym]);
}

static uint32_t decode_table(rc_decoder *d, const uint32_t *freq, uint32_t mps, uint32_t n)
{
    uint32_t t = rc_dec_target(d);
    if (t >= RC_TOTAL - freq[mps]) {
        rc_dec_update(d, RC_TOTAL - freq[mps], freq[mps]);
        return mps;
    }
    /* t < RC_TOTAL - freq[mps], the others' total, so the scan stops by `last` at the latest;
     * the bound only matters for our own bugs, never reading past the table. */
    uint32_t cum = 0, s = 0, last = mps == n - 1 ? n - 2 : n - 1;
    for (;; s++) {
        if (s == mps)
            continue;
        if (s == last || t < cum + freq[s])
            break;
        cum += freq[s];
    }
    rc_dec_update(d, cum, freq[s]);
    return s;
}

/* Group weights for the two-stage code: sums of each run of RC_GROUP weights, in index order. */
static uint32_t group_weights(float *gw, const float *w, uint32_t n)
{
    uint32_t groups = (n + RC_GROUP - 1) / RC_GROUP;
    for (uint32_t g = 0; g < groups; g++) {
        float s = 0.0f;
        uint32_t end = (g + 1) * RC_GROUP < n ? (g + 1) * RC_GROUP : n;
        for (uint32_t i = g * RC_GROUP; i < end; i++)
            s += clean(w[i]);
        gw[g] = s;
    }
    return groups;
}

static uint32_t group_size(uint32_t n, uint32_t g)
{
    uint32_t start = g * RC_GROUP;
    return n - start < RC_GROUP ? n - start : RC_GROUP;
}

void rc_encode_symbol(rc_encoder *e, const float *w, uint32_t n, uint32_t sym, rc_scratch *s)
{
    assert(n >= 2 && n <= RC_MAX_SYMBOLS && sym < n);
    uint32_t *freq = s->freq;
    if (n <= RC_DIRECT_MAX) {
        encode_table(e, freq, rc_quantize(freq, w, n), sym);
        return;
    }
    float *gw = s->group_w;
    uint32_t groups = group_weights(gw, w, n), g = sym / RC_GROUP;
    encode_table(e, freq, rc_quantize(freq, gw, groups), g);
    uint32_t size = group_size(n, g);
    if (size > 1)
        encode_table(e, freq, rc_quantize(freq, w + g * RC_GROUP, size), sym - g * RC_GROUP);
}

uint32_t rc_decode_symbol(rc_decoder *d, const float *w, uint32_t n, rc_scratch *s)
{
    assert(n >= 2 && n <= RC_MAX_SYMBOLS);
    uint32_t *freq = s->freq;
    if (n <= RC_DIRECT_MAX) {
        uint32_t mps = rc_quantize(freq, w, n);
        return decode_table(d, freq, mps, n);
    }
    float *gw = s->group_w;
    uint32_t groups = group_weights(gw, w, n);
    uint32_t mps = rc_quantize(freq, gw, groups);
    uint32_t g = decode_table(d, freq, mps, groups), size = group_size(n, g);
    if (size == 1)
        return g * RC_GROUP;
    mps = rc_quantize(freq, w + g * RC_GROUP, size);
    return g * RC_GROUP + decode_table(d, freq, mps, size);
}
