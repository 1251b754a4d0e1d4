/* The one-shot calls of nnzip.h, on top of the streams (lib/stream.c): one writer and one
 * reader of the format whichever way a program comes in. */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "config.h"
#include "member.h"
#include "nnzip.h"
#include "stream_int.h"

const char *nnz_version(void)
{
    return NNZ_VERSION_STRING;
}

const char *nnz_status_str(nnz_status s)
{
    return codec_status_str((nc_status)s);
}

void nnz_options_init(nnz_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->level = 5;
    o->threads = 1;
    o->mem_limit = codec_preset_memory_max();
}

uint64_t nnz_compress_bound(uint64_t n)
{
    /* one member: the header, a block head per block of the one-shot's largest, the bytes
     * stored, the end (a float member stored is smaller still) */
    uint64_t blocks = n / BLK_SIZE_MAX + 1;
    return FMT_HEADER_MAX + blocks * BLK_HEAD_MAX + n + BLK_END_SIZE;
}

uint64_t stream_stored_size(uint64_t n)
{
    fmt_header h = { .n_params = 1 }; /* the block size */
    blk_head b = { .raw_len = n ? n : 1, .kind = BLK_STORED, .payload_len = n ? n : 1 };
    uint8_t hd[BLK_HEAD_MAX];
    return fmt_header_size(&h) + (n ? blk_head_write(hd, &b) + n : 0) + BLK_END_SIZE;
}

/* Push all of src through s, pulling into dst (cap bytes) as it goes; then finish. */
static nc_status run(nnz_stream *s, uint8_t *dst, size_t cap, size_t *dst_len, const uint8_t *src,
                     size_t n)
{
    size_t done = 0, len = 0;
    nc_status st = NC_OK;
    for (int finished = 0; st == NC_OK && !nnz_stream_done(s);) {
        size_t used = 0, got = 0;
        if (done < n)
            st = (nc_status)nnz_stream_push(s, src + done, n - done, &used);
        else if (!finished && (finished = 1))
            st = (nc_status)nnz_stream_finish(s);
        done += used;
        /* dst is NULL for nnz_decoded_size, and NULL + 0 is undefined */
        if (st == NC_OK)
            st = (nc_status)nnz_stream_pull(s, dst ? dst + len : NULL, cap - len, &got);
        len += got;
        if (st == NC_OK && len == cap && !nnz_stream_done(s)) {
            uint8_t probe;
            if ((st = (nc_status)nnz_stream_pull(s, &probe, 1, &got)) == NC_OK && got)
                st = NC_ERR_SPACE;
        }
    }
    *dst_len = len;
    return st;
}

nnz_status nnz_compress(void *dst, size_t cap, size_t *dst_len, const void *src, size_t n,
                        const nnz_options *o)
{
    if (!dst_len || (n && !src) || (cap && !dst))
        return NNZ_ERR_ARG;
    *dst_len = 0;
    nnz_options d;
    nnz_options_init(&d);
    if (o)
        memcpy(&d, o, o->struct_size < sizeof d ? o->struct_size : sizeof d);
    d.struct_size = sizeof d;
    if (!d.block_size) /* the whole buffer as one block: one transform dictionary for all */
        d.block_size = n == 0 ? 1 : n < BLK_SIZE_MAX ? n : BLK_SIZE_MAX;
    nnz_stream *s;
    nnz_status st = nnz_encoder_new(&s, &d);
    if (st == NNZ_OK)
        st = (nnz_status)run(s, dst, cap, dst_len, src, n);
    nnz_stream_free(s);
    /* No input grows by more than the stored form's framing: a member whose model, parameter
     * list and all did not pay is written again as stored. */
    if ((st == NNZ_OK || st == NNZ_ERR_SPACE) && !d.float32 && d.member_size == 0
        && (st == NNZ_ERR_SPACE || *dst_len > stream_stored_size(n))) {
        d.model = CODEC_STORED_NAME;
        d.n_set = 0;
        if ((st = nnz_encoder_new(&s, &d)) == NNZ_OK)
            st = (nnz_status)run(s, dst, cap, dst_len, src, n);
        nnz_stream_free(s);
    }
    return st;
}

nnz_status nnz_decompress(void *dst, size_t cap, size_t *dst_len, const void *src, size_t n,
                          const nnz_options *o)
{
    if (!dst_len || (n && !src) || (cap && !dst))
        return NNZ_ERR_ARG;
    *dst_len = 0;
    nnz_stream *s;
    nnz_status st = nnz_decoder_new(&s, o);
    if (st == NNZ_OK)
        st = (nnz_status)run(s, dst, cap, dst_len, src, n);
    nnz_stream_free(s);
    return st;
}

static void add_size(void *ctx, const member_info *mi)
{
    uint64_t *total = ctx;
    *total = *total + mi->orig < *total ? UINT64_MAX : *total + mi->orig;
}

nnz_status nnz_decoded_size(uint64_t *size, const void *src, size_t n)
{
    if (!size || (n && !src))
        return NNZ_ERR_ARG;
    *size = 0;
    uint64_t total = 0;
    nnz_stream *s;
    nc_status st = stream_scanner_new(&s, add_size, &total);
    size_t len;
    if (st == NC_OK)
        st = run(s, NULL, 0, &len, src, n);
    nnz_stream_free(s);
    if (st == NC_OK)
        *size = total;
    return (nnz_status)st;
}

/* ---- the internal whole-buffer calls (tests and tools) ---------------------------------- */

nc_status codec_compress(uint8_t **out, size_t *out_len, const uint8_t *in, uint64_t n,
                         const model_config *cfg, const codec_opts *o)
{
    *out = NULL;
    *out_len = 0;
    nnz_options d;
    nnz_options_init(&d);
    d.threads = o->env.threads > 0 ? o->env.threads : 1;
    d.no_transform = o->no_transform;
    d.block_size = n == 0 ? 1 : n < BLK_SIZE_MAX ? n : BLK_SIZE_MAX;
    uint64_t cap = nnz_compress_bound(n);
    if (n > SIZE_MAX || cap > SIZE_MAX)
        return NC_ERR_LIMIT;
    uint8_t *buf = malloc((size_t)cap);
    nnz_stream *s = NULL;
    nc_status st = buf ? stream_encoder_cfg(&s, cfg, &d) : NC_ERR_NOMEM;
    if (st == NC_OK)
        st = run(s, buf, (size_t)cap, out_len, in, (size_t)n);
    nnz_stream_free(s);
    if (st == NC_OK && *out_len > stream_stored_size(n)) { /* as nnz_compress */
        model_config stored = { .id = MODEL_STORED, .level = cfg->level };
        if ((st = stream_encoder_cfg(&s, &stored, &d)) == NC_OK)
            st = run(s, buf, (size_t)cap, out_len, in, (size_t)n);
        nnz_stream_free(s);
    }
    if (st != NC_OK) {
        free(buf);
        *out_len = 0;
        return st;
    }
    *out = buf;
    return NC_OK;
}

nc_status codec_decompress(uint8_t **out, uint64_t *out_len, const uint8_t *in, size_t len,
                           const codec_opts *o)
{
    *out = NULL;
    *out_len = 0;
    uint64_t size;
    nc_status st = (nc_status)nnz_decoded_size(&size, in, len);
    if (st != NC_OK)
        return st;
    if (size > SIZE_MAX)
        return NC_ERR_LIMIT;
    nnz_options d;
    nnz_options_init(&d);
    d.threads = o->env.threads > 0 ? o->env.threads : 1;
    d.mem_limit = o->mem_limit;
    /* the sizes the framing claims are bounded by the payloads (checked by the scan), so the
     * allocation is too */
    uint8_t *buf = malloc(size ? (size_t)size : 1);
    size_t got = 0;
    if (!buf)
        return NC_ERR_NOMEM;
    st = (nc_status)nnz_decompress(buf, (size_t)size, &got, in, len, &d);
    if (st != NC_OK || got != size) {
        free(buf);
        return st != NC_OK ? st : NC_ERR_CORRUPT;
    }
    if (size == 0) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    *out_len = size;
    return NC_OK;
}
