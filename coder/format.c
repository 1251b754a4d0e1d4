/* .nnz header: little-endian serialisation and validation of every field. */
#include "format.h"

#include <string.h>

#include "crc32.h"

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

size_t fmt_header_size(const fmt_header *h)
{
    return FMT_FIXED_SIZE + 6u * h->n_params + 4u;
}

size_t fmt_header_write(uint8_t *out, const fmt_header *h)
{
    memcpy(out, FMT_MAGIC, 4);
    out[4] = h->version;
    out[5] = h->model_id;
    out[6] = h->level;
    out[7] = h->flags;
    put64(out + 8, h->orig_size);
    put32(out + 16, h->orig_crc);
    put64(out + 20, h->payload_size);
    put16(out + 28, h->n_params);
    uint8_t *p = out + FMT_FIXED_SIZE;
    for (unsigned i = 0; i < h->n_params; i++, p += 6) {
        put16(p, h->params[i].key);
        put32(p + 2, h->params[i].value);
    }
    put32(p, crc32_update(0, out, (size_t)(p - out)));
    return (size_t)(p - out) + 4;
}

nc_status fmt_header_read(fmt_header *h, size_t *header_len, const uint8_t *in, size_t len)
{
    memset(h, 0, sizeof *h);
    if (len == 0)
        return NC_ERR_TRUNCATED;
    size_t m = len < 4 ? len : 4;
    if (memcmp(in, FMT_MAGIC, m) != 0)
        return NC_ERR_FORMAT;
    if (len < 5)
        return NC_ERR_TRUNCATED;
    h->version = in[4];
    if (h->version != FMT_VERSION && h->version != FMT_VERSION_BLOCKS)
        return NC_ERR_VERSION;
    if (len < FMT_FIXED_SIZE)
        return NC_ERR_TRUNCATED;
    h->model_id = in[5];
    h->level = in[6];
    h->flags = in[7];
    h->orig_size = get64(in + 8);
    h->orig_crc = get32(in + 16);
    h->payload_size = get64(in + 20);
    h->n_params = get16(in + 28);
    if (h->n_params > FMT_MAX_PARAMS)
        return NC_ERR_CORRUPT; /* no writer makes more; the CRC below can't be located */
    size_t size = fmt_header_size(h);
    if (len < size)
        return NC_ERR_TRUNCATED;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* let the fuzzer reach the fields behind it */
    if (get32(in + size - 4) != crc32_update(0, in, size - 4))
        return NC_ERR_CORRUPT;
#endif
    /* The CRC matched: from here on a bad field is a file from another writer, not damage. */
    if (h->flags != 0)
        return NC_ERR_VERSION;
    const uint8_t *p = in + FMT_FIXED_SIZE;
    for (unsigned i = 0; i < h->n_params; i++, p += 6) {
        h->params[i].key = get16(p);
        h->params[i].value = get32(p + 2);
        if (i > 0 && h->params[i].key <= h->params[i - 1].key)
            return NC_ERR_CORRUPT;
    }
    if (h->orig_size == 0 && h->payload_size != 0)
        return NC_ERR_CORRUPT;
    /* A member of blocks has its sizes and checksums in its blocks and its end. */
    if (h->version == FMT_VERSION_BLOCKS && (h->orig_size || h->orig_crc || h->payload_size))
        return NC_ERR_CORRUPT;
    *header_len = size;
    return NC_OK;
}

nc_status fmt_check_payload(const fmt_header *h, size_t header_len, size_t file_len)
{
    uint64_t have = file_len - header_len;
    if (have < h->payload_size)
        return NC_ERR_TRUNCATED;
    if (have > h->payload_size)
        return NC_ERR_CORRUPT; /* trailing bytes: concatenated or damaged */
    return NC_OK;
}

uint64_t fmt_stored_size(uint64_t n)
{
    fmt_header stored = { .model_id = 0 };
    return fmt_header_size(&stored) + n;
}
