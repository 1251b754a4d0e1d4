/* Streams: members of blocks written and read a block at a time (lib/member.h), with memory
 * bounded by the model's and about two blocks whatever the input's length.
 *
 * The encoder gathers a block of input; it codes it once the block is full and more input comes
 * (or at the end), queues the block's bytes for pull, and takes no more input while they wait.
 * The decoder takes input until it holds a whole block (head and payload), decodes it into the
 * output queue, checks its CRC and only then lets the caller pull it: no byte of a damaged
 * block is ever given out. Both state machines live here so the framing has one reader and one
 * writer. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crc32.h"
#include "float/fcodec.h"
#include "float/npy.h"
#include "member.h"
#include "stream_int.h"
#include "transform/text.h"

typedef struct buf {
    uint8_t *p;
    size_t len, pos, cap; /* bytes [pos, len) are live */
} buf;

static nc_status buf_reserve(buf *b, size_t more)
{
    if (b->pos > 0 && b->pos == b->len)
        b->pos = b->len = 0;
    if (b->pos > 0 && b->pos >= b->cap / 2) { /* keep the live bytes at the front */
        memmove(b->p, b->p + b->pos, b->len - b->pos);
        b->len -= b->pos;
        b->pos = 0;
    }
    if (more <= b->cap - b->len)
        return NC_OK;
    if (more > SIZE_MAX / 2 - b->len)
        return NC_ERR_NOMEM;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < more)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return NC_ERR_NOMEM;
    b->p = p;
    b->cap = cap;
    return NC_OK;
}

static nc_status buf_put(buf *b, const void *d, size_t n)
{
    nc_status st = buf_reserve(b, n);
    if (st == NC_OK && n) {
        memcpy(b->p + b->len, d, n);
        b->len += n;
    }
    return st;
}

static size_t buf_avail(const buf *b)
{
    return b->len - b->pos;
}

/* The first live byte. Before anything was put, p is NULL, and NULL + 0 is undefined in C
 * (clang's UBSan reports it on a decoder's first push, before it holds any input). */
static uint8_t *buf_live(const buf *b)
{
    return b->p ? b->p + b->pos : NULL;
}

enum dstate { D_HEADER, D_BLOCK };

struct nnz_stream {
    int encode, scan;
    nnz_options opt;
    char **set_copy;      /* the options' strings, owned */
    char *shapes_copy;
    model_config cfg;     /* encoder: the config; decoder: the current member's */
    codec_opts co;
    nc_status err;        /* sticky */
    int header_due;       /* the current member's header is not written yet */
    int test_store;       /* stream_test_store_first: the next modelled block is stored */
    int why_shapes;       /* why is about the tensor list (shapes_json) */
    const char *why;      /* the float mode's reason for NC_ERR_ARG (static or thread-local) */
    int finishing, finished;
    buf in, out;
    codec_session *sess;
    xt_dict *xd;          /* the current member's text dictionary, once a block has made one */
    int in_member;
    uint64_t block;       /* the current member's block size */
    uint64_t member_bytes; /* original bytes of the current member so far */
    uint32_t member_crc;
    uint64_t members;
    /* decoder */
    enum dstate ds;
    uint64_t memory;
    member_info mi;
    member_fn on_member;
    void *on_ctx;
    /* progress */
    uint64_t in_total, out_total;
};

/* ---- progress -------------------------------------------------------------------------- */

static void block_progress(void *ctx, uint64_t done, uint64_t total, uint64_t coded)
{
    (void)total;
    nnz_stream *s = ctx;
    if (s->encode)
        s->opt.progress(s->opt.progress_ctx, s->in_total + done, s->out_total + coded);
    else
        s->opt.progress(s->opt.progress_ctx, s->in_total + coded, s->out_total + done);
}

/* ---- construction ---------------------------------------------------------------------- */

static void options_copy_size(nnz_options *dst, const nnz_options *src)
{
    nnz_options_init(dst);
    if (!src)
        return;
    size_t n = src->struct_size < sizeof *dst ? src->struct_size : sizeof *dst;
    memcpy(dst, src, n);
    dst->struct_size = sizeof *dst;
}

static nnz_stream *stream_alloc(int encode, const nnz_options *o)
{
    nnz_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->encode = encode;
    options_copy_size(&s->opt, o);
    s->co.env.threads = s->opt.threads;
    s->co.mem_limit = s->opt.mem_limit;
    s->co.no_transform = s->opt.no_transform;
    if (s->opt.progress) {
        s->co.progress = block_progress;
        s->co.progress_ctx = s;
    }
    return s;
}

static nc_status copy_strings(nnz_stream *s)
{
    const char *const *set = s->opt.set;
    if (s->opt.n_set) {
        if (!(s->set_copy = calloc(s->opt.n_set, sizeof *s->set_copy)))
            return NC_ERR_NOMEM;
        for (size_t i = 0; i < s->opt.n_set; i++)
            if (!(s->set_copy[i] = strdup(set[i])))
                return NC_ERR_NOMEM;
        s->opt.set = (const char *const *)s->set_copy;
    }
    if (s->opt.shapes_json) {
        if (!(s->shapes_copy = malloc(s->opt.shapes_len + 1)))
            return NC_ERR_NOMEM;
        memcpy(s->shapes_copy, s->opt.shapes_json, s->opt.shapes_len);
        s->shapes_copy[s->opt.shapes_len] = 0;
        s->opt.shapes_json = s->shapes_copy;
    }
    return NC_OK;
}

static int options_ok(const nnz_options *o)
{
    return o->threads >= 1 && o->threads <= 256 && o->block_size <= BLK_SIZE_MAX
           && (o->max_error == 0 || (o->max_error > 0 && o->float32))
           && (o->n_set == 0 || o->set) && (o->shapes_len == 0 || o->shapes_json);
}

nc_status stream_encoder_cfg(nnz_stream **out, const model_config *cfg, const nnz_options *o)
{
    *out = NULL;
    nnz_stream *s = stream_alloc(1, o);
    if (!s)
        return NC_ERR_NOMEM;
    nc_status st = options_ok(&s->opt) ? copy_strings(s) : NC_ERR_ARG;
    if (st != NC_OK) {
        nnz_stream_free(s);
        return st;
    }
    s->cfg = *cfg;
    s->block = s->opt.block_size ? s->opt.block_size : NNZ_BLOCK_DEFAULT;
    *out = s;
    return NC_OK;
}

nnz_status nnz_encoder_new(nnz_stream **out, const nnz_options *o)
{
    if (!out)
        return NNZ_ERR_ARG;
    *out = NULL;
    nnz_options d;
    options_copy_size(&d, o);
    model_config cfg;
    char why[160];
    if (!d.float32
        && codec_config_build(&cfg, d.model, d.level, d.set, d.n_set, why, sizeof why) != NC_OK)
        return NNZ_ERR_ARG;
    if (d.float32)
        memset(&cfg, 0, sizeof cfg);
    return (nnz_status)stream_encoder_cfg(out, &cfg, &d);
}

nnz_status nnz_decoder_new(nnz_stream **out, const nnz_options *o)
{
    if (!out)
        return NNZ_ERR_ARG;
    *out = NULL;
    nnz_stream *s = stream_alloc(0, o);
    if (!s)
        return NNZ_ERR_NOMEM;
    if (!options_ok(&s->opt)) {
        nnz_stream_free(s);
        return NNZ_ERR_ARG;
    }
    *out = s;
    return NNZ_OK;
}

nc_status stream_scanner_new(nnz_stream **out, member_fn on_member, void *ctx)
{
    nnz_stream *s = stream_alloc(0, NULL);
    *out = s;
    if (!s)
        return NC_ERR_NOMEM;
    s->scan = 1;
    s->on_member = on_member;
    s->on_ctx = ctx;
    return NC_OK;
}

void nnz_stream_free(nnz_stream *s)
{
    if (!s)
        return;
    codec_session_close(s->sess);
    xt_dict_free(s->xd);
    if (s->set_copy)
        for (size_t i = 0; i < s->opt.n_set; i++)
            free(s->set_copy[i]);
    free(s->set_copy);
    free(s->shapes_copy);
    free(s->in.p);
    free(s->out.p);
    free(s);
}

/* ---- encoder --------------------------------------------------------------------------- */

/* A member begins: its model opens; its header is written with its first block, which may
 * turn the member into a stored one (member_header). */
static nc_status member_begin(nnz_stream *s)
{
    nc_status st = NC_OK;
    if (s->cfg.id != MODEL_STORED)
        st = codec_session_open(&s->sess, &s->cfg, &s->co);
    s->in_member = 1;
    s->header_due = 1;
    s->member_bytes = 0;
    s->member_crc = 0;
    return st;
}

static nc_status member_header(nnz_stream *s, int stored)
{
    fmt_header h = { .version = FMT_VERSION_BLOCKS };
    model_config c = stored ? (model_config){ .id = MODEL_STORED, .level = s->cfg.level } : s->cfg;
    model_config_set(&c, MP_BLOCK, (uint32_t)s->block);
    codec_config_to_header(&h, &c);
    uint8_t hd[FMT_HEADER_MAX];
    size_t hl = fmt_header_write(hd, &h);
    s->header_due = 0;
    s->out_total += hl;
    return buf_put(&s->out, hd, hl);
}

static nc_status member_end(nnz_stream *s)
{
    uint8_t e[BLK_END_SIZE];
    blk_end_write(e, s->member_bytes, s->member_crc);
    codec_session_close(s->sess);
    s->sess = NULL;
    xt_dict_free(s->xd);
    s->xd = NULL;
    s->in_member = 0;
    s->members++;
    s->out_total += BLK_END_SIZE;
    return buf_put(&s->out, e, sizeof e);
}

/* Code the gathered input as one block: through the text transform where it finds text it
 * helps, and stored when the model's coding would not be smaller (the model has learned the
 * block all the same, and the decoder's model learns it again from the stored bytes). */
static nc_status encode_block(nnz_stream *s, int finishing)
{
    nc_status st = s->in_member ? NC_OK : member_begin(s);
    const uint8_t *raw = buf_live(&s->in);
    uint64_t n = buf_avail(&s->in);
    blk_head b = { .raw_len = n, .kind = BLK_STORED, .crc = crc32_update(0, raw, (size_t)n) };
    uint8_t *xt = NULL, *payload = NULL;
    size_t plen = 0;
    if (st == NC_OK && s->sess) {
        uint64_t m = n;
        int same = 0;
        if (!s->opt.no_transform)
            st = xt_encode_block(&s->xd, &xt, &m, &same, raw, n, codec_config_network(&s->cfg));
        if (st == NC_OK)
            st = codec_session_encode(s->sess, &payload, &plen, xt ? xt : raw, xt ? m : n);
        b.kind = !xt ? BLK_MODELLED : same ? BLK_TEXT_SAME : BLK_TEXT;
        b.modelled_len = m;
        b.payload_len = plen;
        if (plen >= n || s->test_store)
            b.kind = xt ? BLK_STORED_TEXT : BLK_STORED;
        s->test_store = 0;
    }
    if (b.kind == BLK_STORED || b.kind == BLK_STORED_TEXT)
        b.payload_len = n;
    /* A member of one block that is stored is written as a stored member: without the model's
     * parameters, it grows the input by the least framing (no later block needs the model). */
    int alone = s->header_due && (finishing || (s->opt.member_size
                                                && s->member_bytes + n >= s->opt.member_size));
    if (alone && st == NC_OK && b.kind != BLK_STORED) {
        /* the whole member either way: the model's header, or the stored one (no parameters) */
        fmt_header mh = { 0 }, sh = { .n_params = 1 };
        model_config c = s->cfg;
        model_config_set(&c, MP_BLOCK, (uint32_t)s->block);
        codec_config_to_header(&mh, &c);
        blk_head sb = { .raw_len = n, .kind = BLK_STORED, .payload_len = n };
        uint8_t t[BLK_HEAD_MAX];
        if (b.kind == BLK_STORED_TEXT
            || fmt_header_size(&mh) + blk_head_write(t, &b) + b.payload_len
                   >= fmt_header_size(&sh) + blk_head_write(t, &sb) + n)
            b = sb; /* no model will relearn it */
        b.crc = crc32_update(0, raw, (size_t)n);
    }
    if (st == NC_OK && s->header_due)
        st = member_header(s, alone && b.kind == BLK_STORED);
    uint8_t hd[BLK_HEAD_MAX];
    size_t hl = blk_head_write(hd, &b);
    if (st == NC_OK)
        st = buf_put(&s->out, hd, hl);
    int stored = b.kind == BLK_STORED || b.kind == BLK_STORED_TEXT;
    if (st == NC_OK)
        st = buf_put(&s->out, stored ? raw : payload, (size_t)b.payload_len);
    free(xt);
    free(payload);
    s->member_bytes += n;
    s->member_crc = crc32_update(s->member_crc, raw, (size_t)n);
    s->in_total += n;
    s->out_total += hl + b.payload_len;
    s->in.pos = s->in.len = 0;
    if (st == NC_OK && s->opt.member_size && s->member_bytes >= s->opt.member_size)
        st = member_end(s);
    return st;
}

/* Bytes the block being gathered may still take. */
static uint64_t block_room(const nnz_stream *s)
{
    uint64_t room = s->block - buf_avail(&s->in);
    if (s->opt.member_size) {
        uint64_t left = s->opt.member_size - (s->in_member ? s->member_bytes : 0) - buf_avail(&s->in);
        room = left < room ? left : room;
    }
    return room;
}

static nc_status encoder_push(nnz_stream *s, const uint8_t *in, size_t n, size_t *used)
{
    if (s->opt.float32) /* whole-buffer: all of it until the end */
        return (*used = n, buf_put(&s->in, in, n));
    while (*used < n) {
        uint64_t room = block_room(s);
        if (room == 0) {
            if (buf_avail(&s->out))
                return NC_OK; /* the caller pulls first */
            nc_status st = encode_block(s, 0);
            if (st != NC_OK)
                return st;
            continue;
        }
        size_t take = n - *used < room ? n - *used : (size_t)room;
        nc_status st = buf_put(&s->in, in + *used, take);
        if (st != NC_OK)
            return st;
        *used += take;
    }
    return NC_OK;
}

static nc_status encode_floats(nnz_stream *s)
{
    fl_tensor *t = NULL;
    uint32_t nt = 0;
    const char *why = NULL;
    const uint8_t *in = buf_live(&s->in);
    size_t n = buf_avail(&s->in);
    nc_status st = NC_OK;
    if (s->opt.shapes_json) {
        uint64_t floats = n / 4;
        npy_info ni;
        if (npy_is_npy(in, n) && npy_parse(&ni, in, n, &why) == NC_OK)
            floats = ni.count;
        st = fl_shapes_parse(&t, &nt, s->opt.shapes_json, s->opt.shapes_len, floats, &why);
        s->why_shapes = st != NC_OK;
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    fl_opts fo = { .max_error = s->opt.max_error, .tensors = t, .n_tensors = nt };
    if (st == NC_OK)
        st = fl_compress(&out, &out_len, in, n, &fo, &s->co, &why);
    free(t);
    s->why = why;
    if (st == NC_OK)
        st = buf_put(&s->out, out, out_len);
    free(out);
    s->in.pos = s->in.len = 0;
    return st;
}

static nc_status encoder_finish(nnz_stream *s)
{
    if (s->opt.float32)
        return encode_floats(s);
    nc_status st = NC_OK;
    if (buf_avail(&s->in))
        st = encode_block(s, 1);
    if (st == NC_OK && !s->in_member && s->members == 0) {
        /* empty input: one member without blocks, and without a model to open */
        s->cfg = (model_config){ .id = MODEL_STORED, .level = s->cfg.level };
        if ((st = member_begin(s)) == NC_OK)
            st = member_header(s, 1);
    }
    if (st == NC_OK && s->in_member)
        st = member_end(s);
    return st;
}

/* ---- decoder --------------------------------------------------------------------------- */

/* A member of version 1 (one payload, the float mode): decoded whole. need: its size. */
static nc_status decode_v1(nnz_stream *s, const uint8_t *p, size_t need)
{
    memset(&s->mi, 0, sizeof s->mi);
    nc_status st = codec_inspect(&s->mi.h, &s->mi.cfg, p, need);
    if (st != NC_OK)
        return st;
    s->memory = codec_model_memory(&s->mi.cfg);
    if (s->scan) {
        s->mi.orig = s->mi.h.orig_size;
        s->mi.packed = need;
        s->mi.crc = s->mi.h.orig_crc;
        s->mi.v1 = p;
        s->mi.v1_len = need;
        s->on_member(s->on_ctx, &s->mi);
        return NC_OK;
    }
    if (s->co.mem_limit && s->memory > s->co.mem_limit)
        return NC_ERR_LIMIT;
    uint8_t *o = NULL;
    uint64_t ol = 0;
    if ((st = codec_decompress_v1(&o, &ol, p, need, &s->co)) == NC_OK)
        st = buf_put(&s->out, o, (size_t)ol);
    free(o);
    s->out_total += ol;
    return st;
}

/* A member of blocks: its config, and the model opened. */
static nc_status member_open(nnz_stream *s, const fmt_header *h)
{
    memset(&s->mi, 0, sizeof s->mi);
    s->mi.h = *h;
    model_config *c = &s->mi.cfg;
    nc_status st = codec_header_to_config(c, h);
    if (st != NC_OK)
        return st;
    uint32_t block;
    if ((st = model_config_get(c, MP_BLOCK, &block)) != NC_OK || block == 0 || block > BLK_SIZE_MAX)
        return NC_ERR_CORRUPT;
    model_config_unset(c, MP_BLOCK);
    s->block = s->mi.block = block;
    if (h->model_id == MODEL_STORED) {
        if (h->n_params != 1)
            return NC_ERR_CORRUPT;
    } else {
        const model_ops *ops = h->model_id == MODEL_FLOAT ? NULL : model_find_id(h->model_id);
        if (!ops)
            return NC_ERR_VERSION;
        if ((st = ops->check(c)) != NC_OK)
            return st;
    }
    s->cfg = *c;
    s->memory = codec_model_memory(c);
    if (!s->scan && s->co.mem_limit && s->memory > s->co.mem_limit)
        return NC_ERR_LIMIT;
    if (!s->scan && h->model_id != MODEL_STORED)
        st = codec_session_open(&s->sess, c, &s->co);
    s->in_member = 1;
    s->member_bytes = 0;
    s->member_crc = 0;
    return st;
}

/* Check a block's sizes against what its payload can hold before allocating for them. */
static nc_status block_sizes_ok(const nnz_stream *s, const blk_head *b)
{
    int stored = b->kind == BLK_STORED || b->kind == BLK_STORED_TEXT;
    if (s->cfg.id == MODEL_STORED && b->kind != BLK_STORED)
        return NC_ERR_CORRUPT;
    if (b->kind >= BLK_TEXT) {
        if (b->raw_len > xt_max_expansion(b->modelled_len)
            || (!stored && b->modelled_len > codec_block_max_symbols(&s->cfg, b->payload_len)))
            return NC_ERR_CORRUPT;
        if (b->modelled_len > SIZE_MAX)
            return NC_ERR_LIMIT;
    } else if (!stored && b->raw_len > codec_block_max_symbols(&s->cfg, b->payload_len)) {
        return NC_ERR_CORRUPT;
    }
    return NC_OK;
}

/* Decode block b, whose payload is at p, into the output queue; it becomes visible only once
 * its CRC is verified. */
static nc_status decode_block(nnz_stream *s, const blk_head *b, const uint8_t *p)
{
    nc_status st = block_sizes_ok(s, b);
    if (st != NC_OK)
        return st;
    size_t n = (size_t)b->raw_len;
    if ((st = buf_reserve(&s->out, n)) != NC_OK)
        return st;
    uint8_t *dst = s->out.p + s->out.len, *mod = NULL, *text = NULL;
    switch (b->kind) {
    case BLK_STORED:
        memcpy(dst, p, n);
        if (s->sess)
            st = codec_session_learn(s->sess, dst, n);
        break;
    case BLK_STORED_TEXT: { /* the encoder's model learned the transform of these bytes */
        uint64_t m = 0;
        int same;
        memcpy(dst, p, n);
        /* the decoder's dictionary is the encoder's: the same call gives the same stream */
        st = xt_encode_block(&s->xd, &mod, &m, &same, dst, n, codec_config_network(&s->cfg));
        if (st == NC_OK)
            st = mod && m == b->modelled_len ? codec_session_learn(s->sess, mod, m) : NC_ERR_CORRUPT;
        break;
    }
    case BLK_MODELLED:
        st = codec_session_decode(s->sess, dst, n, p, (size_t)b->payload_len);
        break;
    case BLK_TEXT:
    case BLK_TEXT_SAME:
        if (!(mod = malloc((size_t)b->modelled_len))) {
            st = NC_ERR_NOMEM;
            break;
        }
        st = codec_session_decode(s->sess, mod, b->modelled_len, p, (size_t)b->payload_len);
        if (st == NC_OK
            && (st = xt_decode_block(&s->xd, b->kind == BLK_TEXT_SAME, &text, b->raw_len, mod,
                                     b->modelled_len)) == NC_OK)
            memcpy(dst, text, n);
        break;
    }
    free(mod);
    free(text);
    if (st != NC_OK)
        return st;
    if (crc32_update(0, dst, n) != b->crc)
        return NC_ERR_CHECKSUM;
    s->member_crc = crc32_update(s->member_crc, dst, n);
    s->out.len += n;
    s->out_total += n;
    return NC_OK;
}

/* One step of the decoder on the bytes it holds: 1 if it made progress, 0 if it needs more
 * input (then *need is a lower bound of the bytes it wants in all), or an error. */
static nc_status decode_step(nnz_stream *s, int *progress, size_t *need)
{
    const uint8_t *p = buf_live(&s->in);
    size_t avail = buf_avail(&s->in), used = 0;
    nc_status st;
    *progress = 0;
    if (s->ds == D_HEADER) {
        fmt_header h;
        size_t hl;
        st = fmt_header_read(&h, &hl, p, avail);
        if (st == NC_ERR_TRUNCATED) {
            *need = avail < FMT_FIXED_SIZE ? FMT_FIXED_SIZE : FMT_HEADER_MAX;
            return NC_OK;
        }
        if (st == NC_ERR_FORMAT && s->members > 0)
            st = NC_ERR_CORRUPT; /* bytes after a member that are not another one */
        if (st != NC_OK)
            return st;
        if (h.version == FMT_VERSION) {
            if (h.payload_size > SIZE_MAX - hl)
                return NC_ERR_LIMIT;
            if (avail < hl + h.payload_size) {
                *need = hl + (size_t)h.payload_size;
                return NC_OK;
            }
            if ((st = decode_v1(s, p, hl + (size_t)h.payload_size)) != NC_OK)
                return st;
            s->in.pos += hl + (size_t)h.payload_size;
            s->in_total += hl + h.payload_size;
            s->members++;
            *progress = 1;
            return NC_OK;
        }
        if ((st = member_open(s, &h)) != NC_OK)
            return st;
        s->in.pos += hl;
        s->in_total += hl;
        s->mi.packed = hl;
        s->ds = D_BLOCK;
        *progress = 1;
        return NC_OK;
    }
    blk_head b;
    uint64_t total = 0;
    uint32_t crc = 0;
    st = blk_read(&b, &used, &total, &crc, p, avail, s->block);
    if (st == NC_ERR_TRUNCATED) {
        *need = avail + 1 > BLK_HEAD_MAX ? avail + 1 : BLK_HEAD_MAX;
        return NC_OK;
    }
    if (st != NC_OK)
        return st;
    if (b.raw_len == 0) { /* the member's end */
        if (total != s->member_bytes)
            return NC_ERR_CORRUPT;
        if (crc != s->member_crc && !s->scan)
            return NC_ERR_CHECKSUM;
        codec_session_close(s->sess);
        s->sess = NULL;
        xt_dict_free(s->xd);
        s->xd = NULL;
        s->in_member = 0;
        s->in.pos += used;
        s->in_total += used;
        s->mi.packed += used;
        s->mi.orig = total;
        s->mi.crc = crc;
        if (s->scan)
            s->on_member(s->on_ctx, &s->mi);
        s->members++;
        s->ds = D_HEADER;
        *progress = 1;
        return NC_OK;
    }
    if (b.payload_len > SIZE_MAX - used || b.payload_len > avail - used) {
        if (b.payload_len > SIZE_MAX - used)
            return NC_ERR_LIMIT;
        *need = used + (size_t)b.payload_len;
        return NC_OK;
    }
    if (s->scan) {
        if ((st = block_sizes_ok(s, &b)) != NC_OK)
            return st;
    } else if ((st = decode_block(s, &b, p + used)) != NC_OK) {
        return st;
    }
    s->member_bytes += b.raw_len;
    s->mi.blocks++;
    s->mi.stored_blocks += b.kind == BLK_STORED || b.kind == BLK_STORED_TEXT;
    s->mi.text_blocks += b.kind >= BLK_TEXT;
    s->mi.modelled += b.modelled_len;
    s->mi.packed += used + b.payload_len;
    s->in.pos += used + (size_t)b.payload_len;
    s->in_total += used + b.payload_len;
    *progress = 1;
    return NC_OK;
}

/* Decode what the held input allows while no output waits. *need as in decode_step. */
static nc_status decode_run(nnz_stream *s, size_t *need)
{
    int progress = 1;
    *need = 0;
    while (progress && !buf_avail(&s->out)) {
        nc_status st = decode_step(s, &progress, need);
        if (st != NC_OK)
            return st;
        if (!progress && s->ds == D_HEADER && buf_avail(&s->in) == 0 && s->members > 0)
            *need = 0; /* at a member boundary: more members may come, or none */
    }
    return NC_OK;
}

static nc_status decoder_push(nnz_stream *s, const uint8_t *in, size_t n, size_t *used)
{
    size_t need = 0;
    nc_status st = decode_run(s, &need);
    while (st == NC_OK && *used < n && !buf_avail(&s->out)) {
        /* take what the next item needs (a whole block), so the input held stays bounded */
        size_t have = buf_avail(&s->in);
        size_t take = need > have ? need - have : 0;
        take = take < 64 ? 64 : take;
        take = take < n - *used ? take : n - *used;
        if ((st = buf_put(&s->in, in + *used, take)) != NC_OK)
            break;
        *used += take;
        st = decode_run(s, &need);
    }
    return st;
}

static nc_status decoder_finish_step(nnz_stream *s)
{
    size_t need = 0;
    nc_status st = decode_run(s, &need);
    if (st != NC_OK || buf_avail(&s->out))
        return st;
    if (s->ds != D_HEADER || buf_avail(&s->in) || s->members == 0)
        return NC_ERR_TRUNCATED; /* the input ended inside a member (or held none) */
    s->finished = 1;
    return NC_OK;
}

/* ---- the public calls ------------------------------------------------------------------ */

nnz_status nnz_stream_push(nnz_stream *s, const void *in, size_t n, size_t *used)
{
    if (!s || !used || (n && !in))
        return NNZ_ERR_ARG;
    *used = 0;
    if (s->err)
        return (nnz_status)s->err;
    if (s->finishing)
        return NNZ_ERR_ARG;
    s->err = s->encode ? encoder_push(s, in, n, used) : decoder_push(s, in, n, used);
    return (nnz_status)s->err;
}

nnz_status nnz_stream_finish(nnz_stream *s)
{
    if (!s)
        return NNZ_ERR_ARG;
    if (s->err || s->finishing)
        return (nnz_status)s->err;
    s->finishing = 1;
    if (s->encode) {
        s->err = encoder_finish(s);
        s->finished = s->err == NC_OK;
    } else {
        s->err = decoder_finish_step(s);
    }
    return (nnz_status)s->err;
}

nnz_status nnz_stream_pull(nnz_stream *s, void *out, size_t cap, size_t *got)
{
    if (!s || !got || (cap && !out))
        return NNZ_ERR_ARG;
    *got = 0;
    if (s->err)
        return (nnz_status)s->err;
    size_t n = buf_avail(&s->out) < cap ? buf_avail(&s->out) : cap;
    if (n)
        memcpy(out, s->out.p + s->out.pos, n);
    s->out.pos += n;
    *got = n;
    /* the decoder goes on with what it holds once the caller has taken its output */
    if (!s->encode && !buf_avail(&s->out) && s->finishing && !s->finished)
        s->err = decoder_finish_step(s);
    return (nnz_status)s->err;
}

int nnz_stream_done(const nnz_stream *s)
{
    return s && !s->err && s->finished && !buf_avail(&s->out);
}

uint64_t nnz_stream_memory(const nnz_stream *s)
{
    return s ? s->memory : 0;
}

const char *stream_why(const nnz_stream *s)
{
    return s ? s->why : NULL;
}

size_t stream_buffered(const nnz_stream *s)
{
    return s->in.cap + s->out.cap;
}

void stream_test_store_first(nnz_stream *s)
{
    s->test_store = 1;
}

int stream_why_shapes(const nnz_stream *s)
{
    return s && s->why_shapes;
}
