/* Binary arithmetic coder: see bitcoder.h for the design and invariants. */
#include "bitcoder.h"

#include <assert.h>
#include <stdlib.h>

#include "bytes.h"

void bit_enc_init(bit_encoder *e)
{
    *e = (bit_encoder){ .x1 = 0, .x2 = 0xFFFFFFFFu };
}

static void put_byte(bit_encoder *e, uint8_t b)
{
    bytes_put(&e->buf, &e->len, &e->cap, &e->err, b);
}

static uint32_t split(uint32_t x1, uint32_t x2, uint32_t p)
{
    return x1 + (uint32_t)(((uint64_t)(x2 - x1) * p) >> BIT_P_BITS);
}

void bit_enc_encode(bit_encoder *e, int bit, uint32_t p)
{
    assert(p >= BIT_P_MIN && p <= BIT_P_MAX && e->x1 < e->x2);
    uint32_t xmid = split(e->x1, e->x2, p);
    if (bit)
        e->x2 = xmid;
    else
        e->x1 = xmid + 1;
    while (((e->x1 ^ e->x2) & 0xFF000000u) == 0) {
        put_byte(e, (uint8_t)(e->x2 >> 24));
        e->x1 <<= 8;
        e->x2 = (e->x2 << 8) | 0xFF;
    }
}

nc_status bit_enc_finish(bit_encoder *e)
{
    for (int i = 0; i < 4; i++) {
        put_byte(e, (uint8_t)(e->x1 >> 24));
        e->x1 <<= 8;
    }
    return e->err;
}

void bit_enc_free(bit_encoder *e)
{
    free(e->buf);
    e->buf = NULL;
    e->len = e->cap = 0;
}

static uint8_t next_byte(bit_decoder *d)
{
    return bytes_next(d->in, d->len, &d->pos, &d->overrun);
}

void bit_dec_init(bit_decoder *d, const uint8_t *in, size_t len)
{
    *d = (bit_decoder){ .x1 = 0, .x2 = 0xFFFFFFFFu, .in = in, .len = len };
    for (int i = 0; i < 4; i++)
        d->x = (d->x << 8) | next_byte(d);
}

int bit_dec_decode(bit_decoder *d, uint32_t p)
{
    /* A corrupt payload may put x outside [x1, x2]; the bits are then garbage (the checksum
     * catches it), but the interval arithmetic stays within its invariants. */
    uint32_t xmid = split(d->x1, d->x2, p);
    int bit = d->x <= xmid;
    if (bit)
        d->x2 = xmid;
    else
        d->x1 = xmid + 1;
    while (((d->x1 ^ d->x2) & 0xFF000000u) == 0) {
        d->x1 <<= 8;
        d->x2 = (d->x2 << 8) | 0xFF;
        d->x = (d->x << 8) | next_byte(d);
    }
    return bit;
}

nc_status bit_dec_finish(const bit_decoder *d)
{
    if (d->overrun)
        return NC_ERR_TRUNCATED;
    if (d->pos != d->len)
        return NC_ERR_CORRUPT;
    return NC_OK;
}

uint64_t bit_max_bytes(uint64_t payload_size)
{
    /* A bit narrows the interval (of size s = x2 - x1 + 1) to at most
     * (floor((s - 1) * 65535 / 2^16) + 1) / s <= 1 - 2^-17 of it (s >= 2), so it costs at least
     * 2^-17 / ln 2 > 2^-17 bits: a byte at least 2^-14 bits, and p payload bytes hold at most
     * 8p * 2^14 = p * 2^17 bytes. */
    if (payload_size < 4)
        return 0;
    if (payload_size > UINT64_MAX >> 17)
        return UINT64_MAX;
    return payload_size << 17;
}
