/* cm: a context-mixing model that predicts each bit of a byte (model id 4).
 *
 * Per bit: every context model looks up the bit-history state of its context at the current
 * node of the byte's binary tree (the slot of its context and nibble, hashtab.h), an adaptive
 * map per model turns the state into a probability (statemap.h), and its stretch is an input
 * of the mixers, once as is and once more if the state is deterministic (only zeros or only
 * ones seen), so the mixer can trust runs differently from mixed histories. The match model
 * adds its predicted bit with a strength learned per match length (match.h). One to three
 * first-layer mixers, each with weight sets selected by a small context (the partial byte, the
 * previous byte, the match length and bit position), mix the inputs in the logistic domain; a
 * final mixer combines their outputs; one to three APMs refine the result in order-0, order-1
 * and hashed order-3 contexts, and the final probability averages them with the mixer's.
 *
 * Everything is integer arithmetic on tables built at creation from integer code (squash.h,
 * state.h), and every table is explicitly initialised: the encoder and the decoder compute the
 * same bits on every machine, compiler and thread count by construction. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apm.h"
#include "cm.h"
#include "context.h"
#include "hash.h"
#include "hashtab.h"
#include "match.h"
#include "mixer.h"
#include "runmap.h"
#include "models.h"
#include "netin.h"
#include "squash.h"
#include "state.h"
#include "statemap.h"

#define CM_INPUTS (3 * CM_MAX_CONTEXTS + 5) /* three per context, two for the match, two for the
                                            * network, a bias */
#define CM_RUN_CONTEXTS 32 /* run length bucket x expected bit */
#define CM_BIAS 256
#define CM_SM_LIMIT 1023
#define CM_APM_RATE 7
#define CM_APM3_CONTEXTS (1024 * 256)
#define CM_P_MIN 4 /* the final probability is clamped to [CM_P_MIN, 65536 - CM_P_MIN] */
#define CM_W_INIT 4000
#define CM_MATCH_CONTEXTS 32
#define CM_NET_CONTEXTS (128 * 8) /* the network's stretch in 128 buckets x bit position */

/* c0; c1; match bucket x bit position; contexts seen x bit position; the byte two back; the
 * network's confidence (its stretch in 16 buckets) x bit position */
static const uint32_t mixer_sets[CM_N_MIXERS] = { 256, 256, 16 * 8, 32 * 8, 256, 16 * 8 };

typedef struct cm {
    model base;
    cm_params p;
    uint32_t n_ctx, n_in, n_mix;
    uint8_t mixer_kind[CM_N_MIXERS];  /* selector of each first-layer mixer (index into mixer_sets) */
    cm_logistic lg;
    cm_states st;
    cm_recip rc;
    cm_hashtab ht;
    cm_history hist;
    cm_text text;
    cm_record rec;
    cm_indirect ind;
    cm_match match;
    uint8_t deterministic[256];
    uint64_t ctx_hash[CM_MAX_CONTEXTS];
    uint8_t *slot[CM_MAX_CONTEXTS];
    cm_statemap sm[CM_MAX_CONTEXTS];
    uint32_t sm_p[CM_MAX_CONTEXTS][256];
    uint16_t sm_n[CM_MAX_CONTEXTS][256];
    cm_runmap runs;
    uint32_t *run[CM_MAX_CONTEXTS]; /* each context's run entry for this byte */
    int run_bit[CM_MAX_CONTEXTS];
    uint32_t run_cx[CM_MAX_CONTEXTS];
    cm_statemap rsm[CM_MAX_CONTEXTS];
    uint32_t rsm_p[CM_MAX_CONTEXTS][CM_RUN_CONTEXTS];
    uint16_t rsm_n[CM_MAX_CONTEXTS][CM_RUN_CONTEXTS];
    cm_statemap msm;
    uint32_t msm_p[CM_MATCH_CONTEXTS];
    uint16_t msm_n[CM_MATCH_CONTEXTS];
    cm_netin net;           /* net.net NULL without a network */
    cm_statemap nsm;        /* the network's stretch, recalibrated per bit position */
    uint32_t nsm_p[CM_NET_CONTEXTS];
    uint16_t nsm_n[CM_NET_CONTEXTS];
    int32_t net_st;
    uint32_t net_cx;
    int learn_pending;      /* the network has yet to learn the byte just coded */
    cm_mixer mix[CM_N_MIXERS], final;
    int32_t w1[(256 + 256 + 128 + 256 + 256 + 128) * CM_INPUTS], wf[256 * (CM_N_MIXERS + 2)];
    cm_apm apm[3];
    uint16_t apm1_t[256 * 33 * 33];
    uint32_t apm3_cx;       /* hashed order-3 part of the third APM's context */
    /* the current byte */
    uint32_t c0;            /* partial byte with a leading 1 */
    unsigned bits, node;    /* bits known; node of the nibble's tree (1..15) */
    /* the last prediction, for learning */
    int32_t x[CM_INPUTS], fx[CM_N_MIXERS + 2];
    uint32_t mix_p[CM_N_MIXERS], p_mix, match_cx, seen;
    int match_bit;
    uint8_t *region;        /* the one large allocation */
} cm;

uint64_t cm_region_bytes(const cm_params *p)
{
    uint64_t b = ((uint64_t)CM_SLOT << p->hash_bits) + ((uint64_t)4 << (p->hash_bits - 3))
                 + ((uint64_t)4 << p->match_bits)
                 + ((uint64_t)1 << p->history_bits);
    if (p->apm >= 2)
        b += 65536 * 33 * 2;
    if (p->apm >= 3)
        b += (uint64_t)CM_APM3_CONTEXTS * 33 * 2;
    if (p->contexts & CM_G_INDIRECT)
        b += 65536 * 2;
    return b;
}

static nc_status cm_check(const model_config *c)
{
    cm_params p;
    nc_status st = cm_params_get(c, &p);
    return st == NC_OK ? cm_netin_check(c) : st;
}

static void cm_destroy(model *m)
{
    cm *x = (cm *)m;
    if (x) {
        free(x->region);
        cm_netin_close(&x->net);
    }
    free(x);
}

/* At a nibble boundary: each context's slot for the coming nibble. The buckets are prefetched
 * first, so their cache misses overlap. */
static void lookup_slots(cm *x)
{
    uint64_t b[CM_MAX_CONTEXTS], h[CM_MAX_CONTEXTS];
    for (uint32_t i = 0; i < x->n_ctx; i++) {
        uint64_t c = x->ctx_hash[i];
        h[i] = x->bits ? cm_hash(c, x->c0) : c;
        b[i] = x->bits ? cm_hashtab_bucket2(&x->ht, c, h[i]) : cm_hashtab_bucket(&x->ht, c);
        cm_hashtab_prefetch(&x->ht, b[i]);
    }
    for (uint32_t i = 0; i < x->n_ctx; i++)
        x->slot[i] = cm_hashtab_find(&x->ht, b[i], h[i]);
    x->node = 1;
}

/* At a byte boundary: each context's run entry (prefetched first, like the slots). */
static void find_runs(cm *x)
{
    for (uint32_t i = 0; i < x->n_ctx; i++)
        cm_runmap_prefetch(&x->runs, x->ctx_hash[i]);
    for (uint32_t i = 0; i < x->n_ctx; i++)
        x->run[i] = cm_runmap_find(&x->runs, x->ctx_hash[i]);
}

/* After a whole byte: the history, the match model and every context hash. */
static void byte_done(cm *x, uint8_t c)
{
    cm_history *h = &x->hist;
    h->buf[h->pos & h->mask] = c;
    h->pos++;
    h->c4 = h->c4 << 8 | c;
    cm_match_byte(&x->match, h->pos);
    for (uint32_t i = 0; i < x->n_ctx; i++)
        cm_runmap_update(x->run[i], c);
    unsigned g = x->p.contexts, n = 0;
    uint64_t *out = x->ctx_hash;
    n += cm_orders_contexts(h, g, out + n);
    n += cm_text_contexts(&x->text, h, g, out + n);
    n += cm_binary_contexts(&x->rec, h, g, out + n);
    if (g & CM_G_INDIRECT)
        n += cm_indirect_contexts(&x->ind, h, out + n);
    /* the mixers learn faster at first: rate * (1 + 7 / (1 + pos / 2^14)) */
    int32_t rate = (int32_t)x->p.rate + (int32_t)((uint64_t)x->p.rate * 7 * 16384 / (16384 + h->pos));
    for (uint32_t j = 0; j < x->n_mix; j++)
        x->mix[j].rate = rate;
    x->final.rate = rate / 4 + 1;
    x->apm3_cx = (uint32_t)(cm_mix64(h->c4 & 0xFFFF) & (CM_APM3_CONTEXTS / 256 - 1)) << 8;
    x->c0 = 1;
    x->bits = 0;
    find_runs(x);
    lookup_slots(x);
}

static nc_status cm_create(model **out, const model_config *c, const model_env *env)
{
    *out = NULL;
    cm_params p;
    nc_status st = cm_params_get(c, &p);
    if (st == NC_OK)
        st = cm_netin_check(c);
    if (st != NC_OK)
        return st;
    cm *x = calloc(1, sizeof *x);
    if (!x)
        return NC_ERR_NOMEM;
    x->base.ops = &cm_ops;
    x->base.n_symbols = 256;
    x->base.n_streams = 1;
    x->p = p;
    if ((st = cm_netin_open(&x->net, c, env)) != NC_OK) {
        cm_destroy(&x->base);
        return st;
    }
    uint64_t region = cm_region_bytes(&p);
    if (region > SIZE_MAX || !(x->region = calloc(1, (size_t)region))) { /* SIZE_MAX: 32-bit hosts */
        cm_destroy(&x->base);
        return NC_ERR_NOMEM;
    }
    uint8_t *r = x->region;
    uint8_t *table = r;
    r += (size_t)CM_SLOT << p.hash_bits;
    uint32_t *rtab = (uint32_t *)(void *)r;
    r += (size_t)4 << (p.hash_bits - 3);
    uint32_t *mtab = (uint32_t *)(void *)r;
    r += (size_t)4 << p.match_bits;
    x->hist.buf = r;
    x->hist.mask = (uint32_t)(((uint64_t)1 << p.history_bits) - 1);
    r += (size_t)1 << p.history_bits;
    uint16_t *apm2_t = (uint16_t *)(void *)r, *apm3_t = NULL;
    if (p.apm >= 2)
        r += 65536 * 33 * 2;
    apm3_t = (uint16_t *)(void *)r;
    if (p.apm >= 3)
        r += (size_t)CM_APM3_CONTEXTS * 33 * 2;
    x->ind.o2 = (uint16_t *)(void *)r;

    cm_logistic_init(&x->lg);
    cm_states_init(&x->st);
    cm_recip_init(&x->rc);
    cm_hashtab_init(&x->ht, table, p.hash_bits, &x->st);
    cm_runmap_init(&x->runs, rtab, p.hash_bits - 3);
    cm_match_init(&x->match, x->hist.buf, p.history_bits, mtab, p.match_bits);
    for (unsigned s = 0; s < 256; s++)
        x->deterministic[s] = (x->st.n0[s] == 0) != (x->st.n1[s] == 0);
    x->n_ctx = cm_context_count(p.contexts);
    x->n_in = 3 * x->n_ctx + 3 + (x->net.net ? 2 : 0);
    for (uint32_t i = 0; i < x->n_ctx; i++) {
        cm_statemap_init(&x->rsm[i], x->rsm_p[i], x->rsm_n[i], CM_RUN_CONTEXTS, CM_SM_LIMIT);
        cm_statemap_init(&x->sm[i], x->sm_p[i], x->sm_n[i], 256, CM_SM_LIMIT);
        cm_statemap_init_states(&x->sm[i], &x->st);
    }
    cm_statemap_init(&x->msm, x->msm_p, x->msm_n, CM_MATCH_CONTEXTS, CM_SM_LIMIT);
    cm_statemap_init(&x->nsm, x->nsm_p, x->nsm_n, CM_NET_CONTEXTS, CM_SM_LIMIT);
    int32_t *w = x->w1;
    for (unsigned k = 0; k < CM_N_MIXERS; k++) {
        if (!(p.mixers >> k & 1))
            continue;
        x->mixer_kind[x->n_mix] = (uint8_t)k;
        cm_mixer_init(&x->mix[x->n_mix], w, x->n_in, mixer_sets[k], (int32_t)p.rate, CM_W_INIT);
        w += mixer_sets[k] * x->n_in;
        x->n_mix++;
    }
    cm_mixer_init(&x->final, x->wf, x->n_mix + 1 + (x->net.net ? 1 : 0), 256, (int32_t)p.rate, 65536 / (int32_t)x->n_mix);
    cm_apm_init(&x->apm[0], x->apm1_t, 256 * 33, CM_APM_RATE, &x->lg);
    if (p.apm >= 2)
        cm_apm_init(&x->apm[1], apm2_t, 65536, CM_APM_RATE, &x->lg);
    if (p.apm >= 3)
        cm_apm_init(&x->apm[2], apm3_t, CM_APM3_CONTEXTS, CM_APM_RATE, &x->lg);
    x->c0 = 1;
    x->bits = 0;
    for (uint32_t i = 0; i < x->n_ctx; i++) /* before the first byte every context hash is 0 */
        x->ctx_hash[i] = cm_hash(1000 + i, 0);
    lookup_slots(x);
    find_runs(x);
    *out = &x->base;
    return NC_OK;
}

static uint32_t mixer_select(const cm *x, unsigned kind)
{
    switch (kind) {
    case 0: return x->c0;
    case 1: return x->hist.c4 & 0xFF;
    case 2: return cm_match_bucket(x->match.len) * 8 + x->bits;
    case 3: return x->seen * 8 + x->bits;
    case 4: return x->hist.c4 >> 8 & 0xFF;
    default: return (uint32_t)(x->net_st + 2048) >> 8 << 3 | x->bits;
    }
}

static uint32_t cm_bit_predict(model *m)
{
    cm *x = (cm *)m;
    int32_t *in = x->x;
    x->seen = 0;
    for (uint32_t i = 0; i < x->n_ctx; i++) {
        unsigned s = x->slot[i][x->node];
        x->seen += s != 0;
        int32_t v = cm_stretch(&x->lg, cm_statemap_p(&x->sm[i], s));
        in[3 * i] = v;
        in[3 * i + 1] = x->deterministic[s] ? v : 0;
        uint32_t e = *x->run[i];
        int b = x->run_bit[i] = cm_run_bit(e, x->c0, x->bits);
        if (b >= 0) {
            uint32_t n = e & 0xFF;
            x->run_cx[i] = (n < 15 ? n : 15) * 2 + (uint32_t)b;
            in[3 * i + 2] = cm_stretch(&x->lg, cm_statemap_p(&x->rsm[i], x->run_cx[i]));
        } else {
            in[3 * i + 2] = 0;
        }
    }
    uint32_t k = 3 * x->n_ctx;
    x->match_bit = cm_match_bit(&x->match, x->c0, x->bits);
    if (x->match_bit >= 0) {
        uint32_t len = x->match.len < 32 ? x->match.len : 32;
        x->match_cx = cm_match_bucket(x->match.len) * 2 + (uint32_t)x->match_bit;
        in[k] = cm_stretch(&x->lg, cm_statemap_p(&x->msm, x->match_cx));
        in[k + 1] = (x->match_bit ? 1 : -1) * (int32_t)len * 16;
    } else {
        in[k] = in[k + 1] = 0;
    }
    if (x->net.net) {
        int32_t d = x->net_st = cm_netin_stretch(&x->net, x->c0);
        x->net_cx = (uint32_t)(d + 2048) >> 5 << 3 | x->bits;
        in[k + 2] = d;
        in[k + 3] = cm_stretch(&x->lg, cm_statemap_p(&x->nsm, x->net_cx));
        k += 2;
    }
    in[k + 2] = CM_BIAS;
    for (uint32_t j = 0; j < x->n_mix; j++) {
        int32_t d = cm_mixer_dot(&x->mix[j], in, mixer_select(x, x->mixer_kind[j]));
        x->fx[j] = d;
        x->mix_p[j] = cm_squash(&x->lg, d);
    }
    if (x->n_mix > 1) {
        uint32_t f = x->n_mix;
        if (x->net.net) /* the network once more, next to the mixers that used it */
            x->fx[f++] = x->net_st;
        x->fx[f] = CM_BIAS;
        x->p_mix = cm_squash(&x->lg, cm_mixer_dot(&x->final, x->fx, x->c0));
    } else {
        x->p_mix = x->mix_p[0];
    }
    uint32_t pm = x->p_mix, p;
    uint32_t mstate = x->match_bit < 0 ? 0 : 1 + x->match_cx; /* 0 .. 32 */
    uint32_t a1 = cm_apm_p(&x->apm[0], &x->lg, pm, mstate << 8 | x->c0);
    if (x->p.apm == 1) {
        p = (pm + 3 * a1) >> 2;
    } else {
        uint32_t a2 = cm_apm_p(&x->apm[1], &x->lg, pm, x->c0 | (x->hist.c4 & 0xFF) << 8);
        if (x->p.apm == 2) {
            p = (2 * pm + 3 * a1 + 3 * a2) >> 3;
        } else {
            uint32_t a3 = cm_apm_p(&x->apm[2], &x->lg, pm, x->apm3_cx | x->c0);
            p = (pm + a1 + a2 + a3) >> 2;
        }
    }
    return p < CM_P_MIN ? CM_P_MIN : p > 65536 - CM_P_MIN ? 65536 - CM_P_MIN : p;
}

static void cm_bit_update(model *m, int y)
{
    cm *x = (cm *)m;
    for (uint32_t i = 0; i < x->n_ctx; i++) {
        uint8_t *sp = &x->slot[i][x->node];
        cm_statemap_update(&x->sm[i], &x->rc, *sp, y);
        *sp = x->st.next[*sp][y];
        if (x->run_bit[i] >= 0)
            cm_statemap_update(&x->rsm[i], &x->rc, x->run_cx[i], y);
    }
    if (x->match_bit >= 0) {
        cm_statemap_update(&x->msm, &x->rc, x->match_cx, y);
        if (x->match_bit != y)
            x->match.miss = 1;
    }
    if (x->net.net)
        cm_statemap_update(&x->nsm, &x->rc, x->net_cx, y);
    for (uint32_t j = 0; j < x->n_mix; j++)
        cm_mixer_learn(&x->mix[j], x->x, x->mix_p[j], y);
    if (x->n_mix > 1)
        cm_mixer_learn(&x->final, x->fx, x->p_mix, y);
    for (uint32_t j = 0; j < x->p.apm; j++)
        cm_apm_learn(&x->apm[j], y);
    x->c0 = x->c0 << 1 | (uint32_t)y;
    x->node = x->node << 1 | (unsigned)y;
    x->bits++;
    if (x->bits == 8) {
        x->learn_pending = x->net.net != NULL;
        byte_done(x, (uint8_t)x->c0);
    }
    else if (x->bits == 4)
        lookup_slots(x);
}

/* Before a byte: the network learns the byte before (not the last one, which nothing follows)
 * and predicts this one. The encoder passes the bytes to come, for the network's batched
 * forward; the results are the same. */
static nc_status cm_bit_byte(model *m, const uint8_t *ahead, uint64_t n_ahead)
{
    cm *x = (cm *)m;
    if (!x->net.net)
        return NC_OK;
    nc_status st = NC_OK;
    if (x->learn_pending) {
        x->learn_pending = 0;
        st = cm_netin_learn(&x->net, (uint8_t)(x->hist.c4 & 0xFF));
    }
    return st == NC_OK ? cm_netin_byte(&x->net, ahead, n_ahead) : st;
}

static void cm_size(const model_config *c, uint64_t *params, uint64_t *bytes)
{
    cm_params p;
    *params = *bytes = 0;
    if (cm_params_get(c, &p) != NC_OK)
        return;
    uint64_t np, nb;
    cm_netin_size(c, &np, &nb);
    uint32_t n_in = 3 * cm_context_count(p.contexts) + 3 + (np ? 2 : 0), sets = 0;
    for (unsigned k = 0; k < CM_N_MIXERS; k++)
        if (p.mixers >> k & 1)
            sets += mixer_sets[k];
    *params = (uint64_t)sets * n_in + np; /* mixer weights and the network's; the rest are counts
                                             * and maps */
    *bytes = sizeof(cm) + cm_region_bytes(&p) + nb;
}

#define CM_OPS(NAME, PRESET)                                                                      \
    {                                                                                             \
        .name = NAME, .id = MODEL_CM, .preset = PRESET, .check = cm_check, .create = cm_create,  \
        .destroy = cm_destroy, .bit_predict = cm_bit_predict, .bit_update = cm_bit_update,        \
        .bit_byte = cm_bit_byte, .size = cm_size,                                                 \
    }

/* One model, four names for its presets: model_find_id(MODEL_CM) gives cm_ops. */
const model_ops cm_ops = CM_OPS("cm", cm_preset);
const model_ops cm_hybrid_ops = CM_OPS("hybrid", cm_hybrid_level);
const model_ops cm_lstm_ops = CM_OPS("lstm", cm_lstm_level);
const model_ops cm_transformer_ops = CM_OPS("transformer", cm_transformer_level);
