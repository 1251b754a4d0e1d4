/* Range coder: see rc.h for the design and invariants. */
#include "rc.h"

#include <assert.h>
#include <stdlib.h>

#include "bytes.h"

#define RC_TOP (1u << 24)

void rc_enc_init(rc_encoder *e)
{
    *e = (rc_encoder){ .low = 0, .range = 0xFFFFFFFFu, .cache = 0, .pending = 1 };
}

static void put_byte(rc_encoder *e, uint8_t b)
{
    bytes_put(&e->buf, &e->len, &e->cap, &e->err, b);
}

/* Move the top byte of low out. It can only be written once we know no later carry changes it:
 * a byte of 0xFF might still become 0x00 with a carry, so runs of them wait in `pending`. */
static void shift_low(rc_encoder *e)
{
    if ((uint32_t)e->low < 0xFF000000u || (e->low >> 32) != 0) {
        uint8_t carry = (uint8_t)(e->low >> 32);
        uint8_t b = e->cache;
        do {
            if (e->started)
                put_byte(e, (uint8_t)(b + carry));
            else
                assert(b + carry == 0); /* the top byte before any symbol can never carry */
            e->started = 1;
            b = 0xFF;
        } while (--e->pending != 0);
        e->cache = (uint8_t)(e->low >> 24);
    }
    e->pending++;
    e->low = (e->low & 0x00FFFFFFu) << 8;
}

void rc_enc_encode(rc_encoder *e, uint32_t cum, uint32_t freq)
{
    assert(freq > 0 && cum + freq <= RC_TOTAL);
    uint32_t r = e->range >> RC_TOTAL_BITS;
    e->low += (uint64_t)r * cum;
    e->range = (cum + freq == RC_TOTAL) ? e->range - r * cum : r * freq;
    while (e->range < RC_TOP) {
        e->range <<= 8;
        shift_low(e);
    }
}

nc_status rc_enc_finish(rc_encoder *e)
{
    for (int i = 0; i < 5; i++)
        shift_low(e);
    return e->err;
}

void rc_enc_free(rc_encoder *e)
{
    free(e->buf);
    e->buf = NULL;
    e->len = e->cap = 0;
}

static uint8_t next_byte(rc_decoder *d)
{
    return bytes_next(d->in, d->len, &d->pos, &d->overrun);
}

void rc_dec_init(rc_decoder *d, const uint8_t *in, size_t len)
{
    *d = (rc_decoder){ .range = 0xFFFFFFFFu, .code = 0, .in = in, .len = len };
    for (int i = 0; i < 4; i++)
        d->code = (d->code << 8) | next_byte(d);
}

uint32_t rc_dec_target(const rc_decoder *d)
{
    uint32_t v = d->code / (d->range >> RC_TOTAL_BITS);
    /* Values past the table belong to the last symbol, which took the range's remainder. */
    return v < RC_TOTAL ? v : RC_TOTAL - 1;
}

void rc_dec_update(rc_decoder *d, uint32_t cum, uint32_t freq)
{
    uint32_t r = d->range >> RC_TOTAL_BITS;
    d->code -= r * cum;
    d->range = (cum + freq == RC_TOTAL) ? d->range - r * cum : r * freq;
    while (d->range < RC_TOP) {
        d->range <<= 8;
        d->code = (d->code << 8) | next_byte(d);
    }
}

nc_status rc_dec_finish(const rc_decoder *d)
{
    if (d->overrun)
        return NC_ERR_TRUNCATED;
    if (d->pos != d->len)
        return NC_ERR_CORRUPT; /* bytes left over: not the stream this header describes */
    return NC_OK;
}
