/* Block heads and member ends: see member.h. */
#include "member.h"

static size_t put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/* NC_ERR_TRUNCATED if the varint runs past len; NC_ERR_CORRUPT if it is longer than 10 bytes,
 * overflows, or is not in its shortest form (one value, one encoding: no hidden bits). */
static nc_status get_varint(uint64_t *v, const uint8_t *in, size_t len, size_t *pos)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (*pos >= len)
            return NC_ERR_TRUNCATED;
        uint8_t b = in[(*pos)++];
        if (i == 9 && b > 1)
            return NC_ERR_CORRUPT;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0)
                return NC_ERR_CORRUPT;
            *v = x;
            return NC_OK;
        }
    }
    return NC_ERR_CORRUPT;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t blk_head_write(uint8_t *out, const blk_head *b)
{
    size_t n = put_varint(out, b->raw_len);
    out[n++] = b->kind;
    if (b->kind >= BLK_TEXT)
        n += put_varint(out + n, b->modelled_len);
    n += put_varint(out + n, b->payload_len);
    put32(out + n, b->crc);
    return n + 4;
}

size_t blk_end_write(uint8_t *out, uint64_t total, uint32_t crc)
{
    out[0] = 0;
    put32(out + 1, (uint32_t)total);
    put32(out + 5, (uint32_t)(total >> 32));
    put32(out + 9, crc);
    return BLK_END_SIZE;
}

nc_status blk_read(blk_head *b, size_t *used, uint64_t *total, uint32_t *crc, const uint8_t *in,
                   size_t len, uint64_t block_max)
{
    size_t pos = 0;
    nc_status st = get_varint(&b->raw_len, in, len, &pos);
    if (st != NC_OK)
        return st;
    if (b->raw_len == 0) {
        if (len < BLK_END_SIZE)
            return NC_ERR_TRUNCATED;
        *total = (uint64_t)get32(in + 1) | (uint64_t)get32(in + 5) << 32;
        *crc = get32(in + 9);
        *used = BLK_END_SIZE;
        return NC_OK;
    }
    if (b->raw_len > block_max)
        return NC_ERR_CORRUPT;
    if (pos >= len)
        return NC_ERR_TRUNCATED;
    b->kind = in[pos++];
    if (b->kind > BLK_TEXT_SAME)
        return NC_ERR_CORRUPT;
    int text = b->kind >= BLK_TEXT;
    b->modelled_len = b->raw_len;
    if (text && (st = get_varint(&b->modelled_len, in, len, &pos)) != NC_OK)
        return st;
    if ((st = get_varint(&b->payload_len, in, len, &pos)) != NC_OK)
        return st;
    if (len - pos < 4)
        return NC_ERR_TRUNCATED;
    b->crc = get32(in + pos);
    *used = pos + 4;
    /* The writer stores a block whose coding would not be smaller: a modelled payload is
     * shorter than the original, a stored one is the original. */
    int stored = b->kind == BLK_STORED || b->kind == BLK_STORED_TEXT;
    if (stored ? b->payload_len != b->raw_len : b->payload_len >= b->raw_len)
        return NC_ERR_CORRUPT;
    if (text && b->modelled_len == 0)
        return NC_ERR_CORRUPT;
    return NC_OK;
}
