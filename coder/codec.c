/* Whole-buffer compression: the step loop shared by encoder and decoder, and the header. */
#include "codec.h"

#include <stdlib.h>
#include <string.h>

#include "bitcodec.h"
#include "crc32.h"
#include "rc.h"
#include "symbol.h"

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

static void config_to_header(fmt_header *h, const model_config *c)
{
    h->model_id = c->id;
    h->level = c->level;
    h->n_params = 0;
    for (unsigned k = 0; k < MP_COUNT; k++)
        if (model_config_has(c, k))
            h->params[h->n_params++] = (fmt_param){ (uint16_t)k, c->value[k] };
}

static nc_status header_to_config(model_config *c, const fmt_header *h)
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

typedef struct loop {
    model *m;
    float *w;          /* (streams, symbols); (segment, streams, symbols) when encoding by segment */
    uint16_t *seg_sym; /* encoding by segment: (segment, streams) symbols to come */
    uint32_t *seg_act; /* (segment) active streams of each step */
    uint32_t seg;      /* steps per segment when encoding by segment, else 0 */
    uint16_t *sym;     /* (streams) */
    rc_scratch scratch;
    uint64_t n, stripe;
    uint32_t streams, symbols;
} loop;

static nc_status loop_open(loop *lp, const model_config *cfg, uint64_t n, const codec_opts *o,
                           int encode)
{
    memset(lp, 0, sizeof *lp);
    nc_status st = model_open(&lp->m, cfg, &o->env);
    if (st != NC_OK)
        return st;
    lp->streams = lp->m->n_streams;
    lp->symbols = lp->m->n_symbols;
    lp->n = n;
    lp->stripe = (n + lp->streams - 1) / lp->streams;
    /* The encoder knows the symbols: a model trained by segments then evaluates a whole segment
     * with its batched forward, the decoder step by step. */
    lp->seg = encode && lp->m->ops->predict_segment ? lp->m->segment : 0;
    size_t steps = lp->seg ? lp->seg : 1;
    lp->w = malloc(steps * lp->streams * lp->symbols * sizeof *lp->w);
    lp->sym = calloc(lp->streams, sizeof *lp->sym);
    lp->seg_sym = calloc(steps * lp->streams, sizeof *lp->seg_sym);
    lp->seg_act = calloc(steps, sizeof *lp->seg_act);
    return lp->w && lp->sym && lp->seg_sym && lp->seg_act ? NC_OK : NC_ERR_NOMEM;
}

static void loop_close(loop *lp)
{
    model_close(lp->m);
    free(lp->w);
    free(lp->sym);
    free(lp->seg_sym);
    free(lp->seg_act);
}

/* Encoding by segment: the probabilities of steps [t, t + steps) from one batched forward. */
static nc_status predict_segment(loop *lp, const uint8_t *src, uint64_t t)
{
    uint64_t left = lp->stripe - t;
    uint32_t steps = left < lp->seg ? (uint32_t)left : lp->seg;
    for (uint32_t j = 0; j < steps; j++) {
        uint32_t act = active_streams(lp->n, lp->stripe, lp->streams, t + j);
        lp->seg_act[j] = act;
        for (uint32_t s = 0; s < lp->streams; s++)
            lp->seg_sym[(size_t)j * lp->streams + s] = s < act ? src[s * lp->stripe + t + j] : 0;
    }
    return lp->m->ops->predict_segment(lp->m, lp->w, lp->seg_sym, lp->seg_act, steps);
}

static void report(const codec_opts *o, uint64_t t, const loop *lp, uint64_t coded)
{
    if (o->progress && (t % PROGRESS_EVERY == 0 || t == lp->stripe))
        o->progress(o->progress_ctx, t * lp->streams < lp->n ? t * lp->streams : lp->n, lp->n, coded);
}

/* The step loop, one for both directions so they cannot drift apart: the model sees the same
 * calls in the same order with the same symbols. Encoding (e set) reads symbols from src;
 * decoding (d set) writes them to dst. */
static nc_status step_loop(loop *lp, const uint8_t *src, uint8_t *dst, rc_encoder *e, rc_decoder *d,
                           const codec_opts *o)
{
    for (uint64_t t = 0; t < lp->stripe; t++) {
        uint32_t act = active_streams(lp->n, lp->stripe, lp->streams, t);
        const float *wt = lp->w;
        nc_status st;
        if (lp->seg) {
            if (t % lp->seg == 0 && (st = predict_segment(lp, src, t)) != NC_OK)
                return st;
            wt += (size_t)(t % lp->seg) * lp->streams * lp->symbols;
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

nc_status codec_compress(uint8_t **out, size_t *out_len, const uint8_t *in, uint64_t n,
                         const model_config *cfg, const codec_opts *o)
{
    *out = NULL;
    *out_len = 0;
    fmt_header h = { .version = FMT_VERSION, .orig_size = n, .orig_crc = crc32_update(0, in, n) };
    config_to_header(&h, cfg);
    rc_encoder e;
    rc_enc_init(&e);
    nc_status st = NC_OK;
    uint8_t *bits = NULL; /* the payload of a bit-level model (coder/bitcodec.c) */
    size_t bits_len = 0;
    if (n > 0 && bitcodec_config_applies(cfg)) {
        st = bitcodec_compress(&bits, &bits_len, in, n, cfg, o);
    } else if (n > 0) {
        loop lp;
        st = loop_open(&lp, cfg, n, o, 1);
        if (st == NC_OK)
            st = step_loop(&lp, in, NULL, &e, NULL, o);
        loop_close(&lp);
        if (st == NC_OK)
            st = rc_enc_finish(&e);
    }
    const uint8_t *payload = bits ? bits : e.buf;
    h.payload_size = bits ? bits_len : e.len;
    /* Store the data when the modelled file (header with its parameter list, and payload) would
     * not be smaller than the stored one: so no input grows by more than its 34-byte header. */
    if (st == NC_OK && fmt_header_size(&h) + h.payload_size >= codec_compress_bound(n)) {
        h.model_id = MODEL_STORED;
        h.n_params = 0;
        h.payload_size = n;
        payload = in;
    }
    if (st == NC_OK) {
        size_t hl = fmt_header_size(&h);
        uint8_t *buf = malloc(hl + h.payload_size + 1);
        if (!buf) {
            st = NC_ERR_NOMEM;
        } else {
            fmt_header_write(buf, &h);
            if (h.payload_size)
                memcpy(buf + hl, payload, h.payload_size);
            *out = buf;
            *out_len = hl + h.payload_size;
        }
    }
    rc_enc_free(&e);
    free(bits);
    return st;
}

uint64_t codec_compress_bound(uint64_t n)
{
    fmt_header stored = { .model_id = MODEL_STORED };
    return fmt_header_size(&stored) + n;
}

uint64_t codec_model_memory(const model_config *cfg)
{
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
    if ((st = header_to_config(cfg, h)) != NC_OK)
        return st;
    if (h->model_id == MODEL_STORED) {
        if (h->n_params != 0 || h->payload_size != h->orig_size)
            return NC_ERR_CORRUPT;
        return fmt_check_payload(h, hl, len);
    }
    const model_ops *ops = model_find_id(h->model_id);
    if (!ops)
        return NC_ERR_VERSION;
    if ((st = ops->check(cfg)) != NC_OK)
        return st;
    if ((st = fmt_check_payload(h, hl, len)) != NC_OK)
        return st;
    /* Refuse sizes no payload of this length could hold before allocating for them. */
    uint32_t symbols = cfg->value[MP_SYMBOLS];
    uint64_t most = bitcodec_config_applies(cfg) ? bit_max_bytes(h->payload_size)
                                                 : codec_max_symbols(h->payload_size, symbols);
    if (h->orig_size > most || h->orig_size > SIZE_MAX)
        return NC_ERR_CORRUPT;
    return NC_OK;
}

nc_status codec_decompress(uint8_t **out, uint64_t *out_len, const uint8_t *in, size_t len,
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
    uint8_t *buf = malloc((size_t)h.orig_size);
    if (!buf)
        return NC_ERR_NOMEM;
    if (h.model_id == MODEL_STORED) {
        memcpy(buf, in + (len - h.payload_size), (size_t)h.orig_size);
        st = crc32_update(0, buf, (size_t)h.orig_size) == h.orig_crc ? NC_OK : NC_ERR_CHECKSUM;
        if (st != NC_OK)
            free(buf);
        else
            *out = buf, *out_len = h.orig_size;
        return st;
    }
    if (bitcodec_config_applies(&cfg)) {
        st = bitcodec_decompress(buf, h.orig_size, in + (len - h.payload_size),
                                 (size_t)h.payload_size, &cfg, o);
    } else {
        loop lp;
        st = loop_open(&lp, &cfg, h.orig_size, o, 0);
        rc_decoder d;
        rc_dec_init(&d, in + (len - h.payload_size), (size_t)h.payload_size);
        if (st == NC_OK)
            st = step_loop(&lp, NULL, buf, NULL, &d, o);
        loop_close(&lp);
        if (st == NC_OK)
            st = rc_dec_finish(&d);
    }
    if (st == NC_OK && crc32_update(0, buf, (size_t)h.orig_size) != h.orig_crc)
        st = NC_ERR_CHECKSUM;
    if (st != NC_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *out_len = h.orig_size;
    return NC_OK;
}
