/* The driver: a member's model across its blocks (the step loop shared by the encoder and the
 * decoder), whole-buffer members of format version 1, and the header's model config. */
#include "codec.h"

#include <stdlib.h>
#include <string.h>

#include "bitcodec.h"
#include "crc32.h"
#include "float/fcodec.h"
#include "rc.h"
#include "symbol.h"
#include "transform/text.h"

/* Report progress every this many steps: often enough that the slowest model shows it within
 * a second (the callback itself rate-limits what it prints), rarely enough to cost nothing. */
#define PROGRESS_EVERY 256u

uint64_t codec_max_symbols(uint64_t payload_size, uint32_t n_symbols)
{
    if (payload_size < 4 || n_symbols < 2)
        return 0;
    uint32_t n_eff = n_symbols <= RC_DIRECT_MAX ? n_symbols : (n_symbols + RC_GROUP - 1) / RC_GROUP;
    /* A symbol narrows the range by a factor of at most 1 - (n-1)(255/256)/2^16 (every other
     * symbol holds at least 1/2^16, less the truncation of range >> 16 when range >= 2^24),
     * so it costs at least (n-1)*255/(256*2^16) bits, and the payload holds 8 bits a byte. */
    uint64_t per_byte = ((uint64_t)8 * 256 * RC_TOTAL) / ((uint64_t)(n_eff - 1) * 255) + 1;
    if (payload_size > UINT64_MAX / per_byte)
        return UINT64_MAX;
    return payload_size * per_byte;
}

/* Stream s codes bytes [s*L, min(n, (s+1)*L)) with L = ceil(n / S): contiguous stripes, all full
 * but the last ones. At step t < L the active streams are those with s*L + t < n: a prefix. */
static uint32_t active_streams(uint64_t n, uint64_t stripe, uint32_t streams, uint64_t t)
{
    uint64_t a = (n - t + stripe - 1) / stripe;
    return a < streams ? (uint32_t)a : streams;
}

void codec_config_to_header(fmt_header *h, const model_config *c)
{
    h->model_id = c->id;
    h->level = c->level;
    h->n_params = 0;
    for (unsigned k = 0; k < MP_COUNT; k++)
        if (model_config_has(c, k))
            h->params[h->n_params++] = (fmt_param){ (uint16_t)k, c->value[k] };
}

nc_status codec_header_to_config(model_config *c, const fmt_header *h)
{
    memset(c, 0, sizeof *c);
    c->id = h->model_id;
    c->level = h->level;
    for (unsigned i = 0; i < h->n_params; i++) {
        if (h->params[i].key >= MP_COUNT)
            return NC_ERR_VERSION; /* a parameter this build does not know */
        model_config_set(c, (enum model_param)h->params[i].key, h->params[i].value);
    }
    return NC_OK;
}

int codec_config_network(const model_config *cfg)
{
    return cfg->id == MODEL_LSTM || cfg->id == MODEL_TRANSFORMER
           || (model_config_has(cfg, MP_CM_NET) && cfg->value[MP_CM_NET] != 0);
}

typedef struct loop {
    model *m;
    float *w;          /* (streams, symbols); (segment, streams, symbols) when encoding by segment */
    uint16_t *seg_sym; /* encoding by segment: (segment, streams) symbols to come */
    uint32_t *seg_act; /* (segment) active streams of each step */
    uint32_t seg;      /* steps per segment when the encoder may predict by segment, else 0 */
    uint32_t have, at; /* steps of w still to use from the last segment forward, and the next */
    uint64_t steps;    /* steps done in this member (a segment starts where steps % seg == 0) */
    uint16_t *sym;     /* (streams) */
    rc_scratch scratch;
    uint64_t n, stripe; /* this block: its bytes, and each stream's share */
    uint32_t streams, symbols;
} loop;

static nc_status loop_open(loop *lp, model *m)
{
    memset(lp, 0, sizeof *lp);
    lp->m = m;
    lp->streams = m->n_streams;
    lp->symbols = m->n_symbols;
    /* The encoder knows the symbols: a model trained by segments then evaluates a whole segment
     * with its batched forward, the decoder step by step. */
    lp->seg = m->ops->predict_segment ? m->segment : 0;
    size_t steps = lp->seg ? lp->seg : 1;
    lp->w = malloc(steps * lp->streams * lp->symbols * sizeof *lp->w);
    lp->sym = calloc(lp->streams, sizeof *lp->sym);
    lp->seg_sym = calloc(steps * lp->streams, sizeof *lp->seg_sym);
    lp->seg_act = calloc(steps, sizeof *lp->seg_act);
    return lp->w && lp->sym && lp->seg_sym && lp->seg_act ? NC_OK : NC_ERR_NOMEM;
}

static void loop_close(loop *lp)
{
    free(lp->w);
    free(lp->sym);
    free(lp->seg_sym);
    free(lp->seg_act);
}

/* Stream s codes bytes [s*L, min(n, (s+1)*L)) of the block with L = ceil(n / S). */
static void loop_block(loop *lp, uint64_t n)
{
    lp->n = n;
    lp->stripe = (n + lp->streams - 1) / lp->streams;
}

/* Encoding by segment: the probabilities of steps [t, t + seg) from one batched forward. */
static nc_status predict_segment(loop *lp, const uint8_t *src, uint64_t t)
{
    for (uint32_t j = 0; j < lp->seg; j++) {
        uint32_t act = active_streams(lp->n, lp->stripe, lp->streams, t + j);
        lp->seg_act[j] = act;
        for (uint32_t s = 0; s < lp->streams; s++)
            lp->seg_sym[(size_t)j * lp->streams + s] = s < act ? src[s * lp->stripe + t + j] : 0;
    }
    return lp->m->ops->predict_segment(lp->m, lp->w, lp->seg_sym, lp->seg_act, lp->seg);
}

static void report(const codec_opts *o, uint64_t t, const loop *lp, uint64_t coded)
{
    if (o->progress && (t % PROGRESS_EVERY == 0 || t == lp->stripe))
        o->progress(o->progress_ctx, t * lp->streams < lp->n ? t * lp->streams : lp->n, lp->n, coded);
}

/* The step loop over one block, one for both directions so they cannot drift apart: the model
 * sees the same calls in the same order with the same symbols. Encoding (e set) reads symbols
 * from src; decoding (d set) writes them to dst. The encoder predicts a whole segment at once
 * where one starts with all of it in this block; elsewhere (a segment that more blocks finish,
 * or the end of the data) it goes step by step, as the decoder always does. */
static nc_status step_loop(loop *lp, const uint8_t *src, uint8_t *dst, rc_encoder *e, rc_decoder *d,
                           const codec_opts *o)
{
    for (uint64_t t = 0; t < lp->stripe; t++, lp->steps++) {
        uint32_t act = active_streams(lp->n, lp->stripe, lp->streams, t);
        const float *wt = lp->w;
        nc_status st;
        if (e && lp->seg && !lp->have && lp->steps % lp->seg == 0 && lp->stripe - t >= lp->seg) {
            if ((st = predict_segment(lp, src, t)) != NC_OK)
                return st;
            lp->have = lp->seg;
            lp->at = 0;
        }
        if (lp->have) {
            wt += (size_t)lp->at++ * lp->streams * lp->symbols;
            lp->have--;
        } else if ((st = lp->m->ops->predict(lp->m, lp->w, act)) != NC_OK) {
            return st;
        }
        for (uint32_t s = 0; s < act; s++) {
            const float *w = wt + (size_t)s * lp->symbols;
            uint64_t at = s * lp->stripe + t;
            if (e) {
                lp->sym[s] = src[at];
                rc_encode_symbol(e, w, lp->symbols, src[at], &lp->scratch);
            } else {
                uint32_t v = rc_decode_symbol(d, w, lp->symbols, &lp->scratch);
                if (v > 255)
                    return NC_ERR_CORRUPT; /* models with wider alphabets need a symbol -> byte map */
                lp->sym[s] = (uint16_t)v;
                dst[at] = (uint8_t)v;
            }
        }
        if ((st = lp->m->ops->update(lp->m, lp->sym, act)) != NC_OK)
            return st;
        if (d && d->overrun > 8)
            return NC_ERR_TRUNCATED; /* stop early rather than decode garbage to the end */
        report(o, t + 1, lp, e ? e->len : d->pos);
    }
    return e ? e->err : NC_OK;
}

struct codec_session {
    codec_opts o;
    model *m;
    int bit; /* the model codes bit by bit (coder/bitcodec.h) */
    loop lp; /* else: the symbol step loop's buffers */
};

nc_status codec_session_open(codec_session **out, const model_config *cfg, const codec_opts *o)
{
    *out = NULL;
    codec_session *s = calloc(1, sizeof *s);
    if (!s)
        return NC_ERR_NOMEM;
    s->o = *o;
    nc_status st = model_open(&s->m, cfg, &o->env);
    if (st == NC_OK) {
        s->bit = bitcodec_applies(s->m);
        if (!s->bit)
            st = loop_open(&s->lp, s->m);
    }
    if (st != NC_OK) {
        codec_session_close(s);
        return st;
    }
    *out = s;
    return NC_OK;
}

void codec_session_close(codec_session *s)
{
    if (!s)
        return;
    if (s->m)
        model_close(s->m);
    loop_close(&s->lp);
    free(s);
}

nc_status codec_session_encode(codec_session *s, uint8_t **payload, size_t *len, const uint8_t *in,
                               uint64_t n)
{
    *payload = NULL;
    *len = 0;
    nc_status st;
    if (s->bit) {
        bit_encoder e;
        bit_enc_init(&e);
        st = bitcodec_encode(s->m, &e, in, n, &s->o, NULL);
        if (st == NC_OK)
            st = bit_enc_finish(&e);
        if (st == NC_OK) {
            *payload = e.buf;
            *len = e.len;
        } else {
            bit_enc_free(&e);
        }
        return st;
    }
    rc_encoder e;
    rc_enc_init(&e);
    loop_block(&s->lp, n);
    st = step_loop(&s->lp, in, NULL, &e, NULL, &s->o);
    if (st == NC_OK)
        st = rc_enc_finish(&e);
    if (st == NC_OK) {
        *payload = e.buf;
        *len = e.len;
        e.buf = NULL;
    }
    rc_enc_free(&e);
    return st;
}

nc_status codec_session_learn(codec_session *s, const uint8_t *in, uint64_t n)
{
    uint8_t *p;
    size_t len;
    nc_status st = codec_session_encode(s, &p, &len, in, n);
    free(p);
    return st;
}

nc_status codec_session_decode(codec_session *s, uint8_t *out, uint64_t n, const uint8_t *payload,
                               size_t len)
{
    nc_status st;
    if (s->bit) {
        bit_decoder d;
        bit_dec_init(&d, payload, len);
        st = bitcodec_decode(s->m, &d, out, n, &s->o, NULL);
        return st == NC_OK ? bit_dec_finish(&d) : st;
    }
    rc_decoder d;
    rc_dec_init(&d, payload, len);
    loop_block(&s->lp, n);
    st = step_loop(&s->lp, NULL, out, NULL, &d, &s->o);
    return st == NC_OK ? rc_dec_finish(&d) : st;
}

uint64_t codec_block_max_symbols(const model_config *cfg, uint64_t payload_len)
{
    if (bitcodec_config_applies(cfg))
        return bit_max_bytes(payload_len);
    return codec_max_symbols(payload_len, cfg->value[MP_SYMBOLS]);
}

uint64_t codec_model_memory(const model_config *cfg)
{
    if (cfg->id == MODEL_FLOAT)
        return fl_memory(cfg);
    const model_ops *ops = cfg->id == MODEL_STORED ? NULL : model_find_id(cfg->id);
    uint64_t params = 0, bytes = 0;
    if (ops)
        ops->size(cfg, &params, &bytes);
    return bytes;
}

uint64_t codec_preset_memory_max(void)
{
    uint64_t most = 0;
    const model_ops *ops;
    for (size_t i = 0; (ops = model_at(i)) != NULL; i++) {
        for (int level = 1; level <= 9; level++) {
            model_config c = { .id = ops->id };
            if (ops->preset(&c, level) == NC_OK && codec_model_memory(&c) > most)
                most = codec_model_memory(&c);
        }
    }
    return most;
}

nc_status codec_inspect(fmt_header *h, model_config *cfg, const uint8_t *in, size_t len)
{
    size_t hl;
    nc_status st = fmt_header_read(h, &hl, in, len);
    if (st != NC_OK)
        return st;
    if (h->version != FMT_VERSION)
        return NC_ERR_ARG; /* a member of blocks: lib/stream.c */
    if ((st = codec_header_to_config(cfg, h)) != NC_OK)
        return st;
    if (h->model_id == MODEL_STORED) {
        if (h->n_params != 0 || h->payload_size != h->orig_size)
            return NC_ERR_CORRUPT;
        return fmt_check_payload(h, hl, len);
    }
    if (h->model_id == MODEL_FLOAT) {
        if ((st = fmt_check_payload(h, hl, len)) != NC_OK)
            return st;
        return fl_inspect(h, cfg, in + hl, (size_t)h->payload_size);
    }
    const model_ops *ops = model_find_id(h->model_id);
    if (!ops)
        return NC_ERR_VERSION;
    if ((st = ops->check(cfg)) != NC_OK)
        return st;
    if ((st = fmt_check_payload(h, hl, len)) != NC_OK)
        return st;
    /* The transform is known (value 1) and says how many bytes the model codes. */
    if (model_config_has(cfg, MP_TRANSFORM)
        && (cfg->value[MP_TRANSFORM] != 1 || !model_config_has(cfg, MP_MODELLED_LO)
            || !model_config_has(cfg, MP_MODELLED_HI)))
        return cfg->value[MP_TRANSFORM] != 1 ? NC_ERR_VERSION : NC_ERR_CORRUPT;
    uint64_t m = codec_modelled_size(h, cfg);
    /* Refuse sizes no payload of this length could hold before allocating for them. */
    uint64_t most = codec_block_max_symbols(cfg, h->payload_size);
    if (m > most || m > SIZE_MAX || h->orig_size > SIZE_MAX)
        return NC_ERR_CORRUPT;
    if (m != h->orig_size && (h->orig_size > xt_max_expansion(m) || m == 0))
        return NC_ERR_CORRUPT;
    return NC_OK;
}

uint64_t codec_modelled_size(const fmt_header *h, const model_config *cfg)
{
    if (!model_config_has(cfg, MP_TRANSFORM))
        return h->orig_size;
    return (uint64_t)cfg->value[MP_MODELLED_HI] << 32 | cfg->value[MP_MODELLED_LO];
}

/* The model's part of decoding: the m bytes it codes, from the payload, into dst. */
static nc_status model_decompress(uint8_t *dst, uint64_t m, const uint8_t *payload,
                                  size_t payload_len, const model_config *cfg, const codec_opts *o)
{
    codec_session *s;
    nc_status st = codec_session_open(&s, cfg, o);
    if (st == NC_OK)
        st = codec_session_decode(s, dst, m, payload, payload_len);
    codec_session_close(s);
    return st;
}

nc_status codec_decompress_v1(uint8_t **out, uint64_t *out_len, const uint8_t *in, size_t len,
                              const codec_opts *o)
{
    *out = NULL;
    *out_len = 0;
    fmt_header h;
    model_config cfg;
    nc_status st = codec_inspect(&h, &cfg, in, len);
    if (st != NC_OK)
        return st;
    if (o->mem_limit && codec_model_memory(&cfg) > o->mem_limit)
        return NC_ERR_LIMIT;
    if (h.orig_size == 0)
        return h.orig_crc == 0 ? NC_OK : NC_ERR_CHECKSUM;
    const uint8_t *payload = in + (len - h.payload_size);
    uint8_t *buf = NULL;
    if (h.model_id == MODEL_STORED) {
        if ((buf = malloc((size_t)h.orig_size)) != NULL)
            memcpy(buf, payload, (size_t)h.orig_size);
    } else if (h.model_id == MODEL_FLOAT) {
        if ((buf = malloc((size_t)h.orig_size)) != NULL
            && (st = fl_decompress(buf, &h, &cfg, payload, (size_t)h.payload_size, o)) != NC_OK) {
            free(buf);
            return st;
        }
    } else if (!model_config_has(&cfg, MP_TRANSFORM)) {
        if ((buf = malloc((size_t)h.orig_size)) != NULL
            && (st = model_decompress(buf, h.orig_size, payload, (size_t)h.payload_size, &cfg, o))
                   != NC_OK) {
            free(buf);
            return st;
        }
    } else {
        /* The model rebuilds the transformed stream (its size bounded by the payload's), then
         * the inverse the original, allocated only once the stream's run list accounts for
         * every byte of it. */
        uint64_t m = codec_modelled_size(&h, &cfg);
        uint8_t *mod = malloc((size_t)m);
        if (!mod)
            return NC_ERR_NOMEM;
        st = model_decompress(mod, m, payload, (size_t)h.payload_size, &cfg, o);
        if (st == NC_OK)
            st = xt_decode(&buf, h.orig_size, mod, m);
        free(mod);
        if (st != NC_OK)
            return st;
    }
    if (!buf)
        return NC_ERR_NOMEM;
    if (crc32_update(0, buf, (size_t)h.orig_size) != h.orig_crc) {
        free(buf);
        return NC_ERR_CHECKSUM;
    }
    *out = buf;
    *out_len = h.orig_size;
    return NC_OK;
}
