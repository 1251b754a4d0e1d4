/* The bit coding loop shared by encoder and decoder: see bitcodec.h. */
#include "bitcodec.h"

#include <stdlib.h>

/* Bytes between progress callbacks: well under a second at the slowest level (the callback
 * itself rate-limits what it prints). */
#define PROGRESS_EVERY 4096u

int bitcodec_applies(const model *m)
{
    return m->ops->bit_predict != NULL && m->ops->bit_update != NULL;
}

/* Encoding (e set) reads bytes from src; decoding (d set) writes them to dst. */
static nc_status bit_loop(model *m, const uint8_t *src, uint8_t *dst, uint64_t n, bit_encoder *e,
                          bit_decoder *d, const codec_opts *o, uint16_t *trace)
{
    uint32_t (*predict)(model *) = m->ops->bit_predict;
    void (*update)(model *, int) = m->ops->bit_update;
    nc_status (*byte)(model *, const uint8_t *, uint64_t) = m->ops->bit_byte;
    for (uint64_t i = 0; i < n; i++) {
        unsigned c = e ? src[i] : 0;
        nc_status st = byte ? byte(m, e ? src + i : NULL, e ? n - i : 0) : NC_OK;
        if (st != NC_OK)
            return st;
        for (int j = 7; j >= 0; j--) {
            uint32_t p = predict(m);
            if (p < BIT_P_MIN || p > BIT_P_MAX)
                return NC_ERR_ARG; /* a model bug; never code with it */
            if (trace)
                *trace++ = (uint16_t)p;
            int bit;
            if (e) {
                bit = c >> j & 1;
                bit_enc_encode(e, bit, p);
            } else {
                bit = bit_dec_decode(d, p);
                c |= (unsigned)bit << j;
            }
            update(m, bit);
        }
        if (d) {
            dst[i] = (uint8_t)c;
            if (d->overrun > 8)
                return NC_ERR_TRUNCATED;
        }
        if (o && o->progress && ((i + 1) % PROGRESS_EVERY == 0 || i + 1 == n))
            o->progress(o->progress_ctx, i + 1, n, e ? e->len : d->pos);
    }
    return e ? e->err : NC_OK;
}

nc_status bitcodec_encode(model *m, bit_encoder *e, const uint8_t *in, uint64_t n,
                          const codec_opts *o, uint16_t *trace)
{
    return bit_loop(m, in, NULL, n, e, NULL, o, trace);
}

nc_status bitcodec_decode(model *m, bit_decoder *d, uint8_t *out, uint64_t n,
                          const codec_opts *o, uint16_t *trace)
{
    return bit_loop(m, NULL, out, n, NULL, d, o, trace);
}

int bitcodec_config_applies(const model_config *c)
{
    const model_ops *ops = model_find_id(c->id);
    return ops && ops->bit_predict && ops->bit_update;
}

nc_status bitcodec_compress(uint8_t **payload, size_t *len, const uint8_t *in, uint64_t n,
                            const model_config *cfg, const codec_opts *o)
{
    *payload = NULL;
    *len = 0;
    model *m;
    nc_status st = model_open(&m, cfg, &o->env);
    if (st != NC_OK)
        return st;
    bit_encoder e;
    bit_enc_init(&e);
    st = bitcodec_applies(m) ? bitcodec_encode(m, &e, in, n, o, NULL) : NC_ERR_ARG;
    model_close(m);
    if (st == NC_OK)
        st = bit_enc_finish(&e);
    if (st != NC_OK) {
        bit_enc_free(&e);
        return st;
    }
    *payload = e.buf;
    *len = e.len;
    return NC_OK;
}

nc_status bitcodec_decompress(uint8_t *out, uint64_t n, const uint8_t *payload, size_t len,
                              const model_config *cfg, const codec_opts *o)
{
    model *m;
    nc_status st = model_open(&m, cfg, &o->env);
    if (st != NC_OK)
        return st;
    bit_decoder d;
    bit_dec_init(&d, payload, len);
    st = bitcodec_applies(m) ? bitcodec_decode(m, &d, out, n, o, NULL) : NC_ERR_ARG;
    model_close(m);
    return st == NC_OK ? bit_dec_finish(&d) : st;
}
