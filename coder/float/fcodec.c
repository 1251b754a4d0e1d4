/* The float-array mode's container side (see fcodec.h): the section, the value loop shared by
 * both directions, and the checks a decoder makes before it trusts a size. */
#include "fcodec.h"

#include <stdlib.h>
#include <string.h>

#include "bitcoder.h"
#include "crc32.h"
#include "float/fmodel.h"
#include "float/npy.h"
#include "float/quant.h"

#define PROGRESS_EVERY 65536u
/* A .npy header kept verbatim is at most this long (npy_parse's own limit). */
#define FL_HEAD_MAX (1u << 20)
/* Every value is at least one binary decision (a value the match model predicts: its hit),
 * each of which costs the coder at least 2^-12 bits (its probabilities stay in
 * [32, 65504] / 2^16, and an interval of s >= 2 values keeps at most 1 - 2^-12 of itself), so p
 * payload bytes hold at most 8p * 2^12 = 32768 p values: the bound a decoder checks a claimed
 * size against before allocating. (A long run of repeated values does come close to it.) */
#define FL_VALUES_PER_BYTE 32768u

/* The section: varint head_len, head_len bytes of .npy header, varint n_tensors, then per
 * tensor varint count and varint row. */
typedef struct section {
    uint64_t head_len;
    const uint8_t *head;
    uint32_t n;
    fl_tensor *t;
    uint64_t used; /* bytes */
} section;

static size_t put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80; v >>= 7)
        out[n++] = (uint8_t)(v | 0x80);
    out[n++] = (uint8_t)v;
    return n;
}

static int get_varint(uint64_t *v, const uint8_t *in, size_t len, uint64_t *pos)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return 0;
        uint8_t b = in[(*pos)++];
        if (shift == 63 && b > 1)
            return 0;
        x |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

static nc_status section_read(section *s, const uint8_t *in, size_t len, uint64_t floats)
{
    memset(s, 0, sizeof *s);
    uint64_t pos = 0, n, total = 0;
    if (!get_varint(&s->head_len, in, len, &pos) || s->head_len > FL_HEAD_MAX
        || s->head_len > len - pos)
        return NC_ERR_CORRUPT;
    s->head = in + pos;
    pos += s->head_len;
    if (!get_varint(&n, in, len, &pos) || n == 0 || n > FL_MAX_TENSORS || n > len - pos)
        return NC_ERR_CORRUPT; /* each tensor takes at least two bytes */
    s->t = malloc((size_t)n * sizeof *s->t);
    if (!s->t)
        return NC_ERR_NOMEM;
    s->n = (uint32_t)n;
    for (uint32_t i = 0; i < s->n; i++) {
        if (!get_varint(&s->t[i].count, in, len, &pos) || !get_varint(&s->t[i].row, in, len, &pos)
            || s->t[i].count == 0 || s->t[i].count > floats - total) {
            free(s->t);
            s->t = NULL;
            return NC_ERR_CORRUPT;
        }
        total += s->t[i].count;
    }
    if (total != floats) {
        free(s->t);
        s->t = NULL;
        return NC_ERR_CORRUPT;
    }
    s->used = pos;
    return NC_OK;
}

static int enc_io(void *ctx, int bit, uint32_t p16)
{
    bit_enc_encode(ctx, bit, p16);
    return bit;
}

static int dec_io(void *ctx, int bit, uint32_t p16)
{
    (void)bit;
    return bit_dec_decode(ctx, p16);
}

static uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The value loop of both directions: encoding (e set) reads src, decoding (d set) writes dst
 * (little-endian float32, floats values). The encoder continues *crc over the values the
 * decoder will write (lossy: the grid values, not the originals). */
static nc_status value_loop(fm *m, const section *s, double e_bound, const uint8_t *src,
                            uint8_t *dst, uint64_t floats, bit_encoder *e, bit_decoder *d,
                            const codec_opts *o, uint32_t *crc)
{
    uint8_t chunk[4096];
    size_t in_chunk = 0;
    fm_io io = e ? enc_io : dec_io;
    void *ctx = e ? (void *)e : (void *)d;
    double step = 2 * e_bound;
    uint64_t i = 0;
    for (uint32_t t = 0; t < s->n; t++) {
        fm_tensor(m, s->t[t].row);
        for (uint64_t end = i + s->t[t].count; i < end; i++) {
            uint32_t bits = 0;
            if (src)
                bits = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8
                       | (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
            if (e_bound == 0) {
                fm_code_bits(m, io, ctx, &bits);
            } else {
                int esc = 0;
                int64_t q = 0;
                if (src)
                    esc = !fq_quantise(&q, u2f(bits), e_bound);
                fm_code_q(m, io, ctx, &esc, &q, &bits);
                if (!esc)
                    bits = f2u(fq_value(q, step));
            }
            uint8_t *to = dst ? dst + 4 * i : chunk + in_chunk;
            for (int b = 0; b < 4; b++)
                to[b] = (uint8_t)(bits >> 8 * b);
            if (dst && d->overrun > 8)
                return NC_ERR_TRUNCATED;
            if (!dst && (in_chunk += 4) == sizeof chunk) {
                *crc = crc32_update(*crc, chunk, in_chunk);
                in_chunk = 0;
            }
            if (o && o->progress && (i + 1) % PROGRESS_EVERY == 0)
                o->progress(o->progress_ctx, 4 * (i + 1), 4 * floats, e ? e->len : d->pos);
        }
    }
    if (!dst)
        *crc = crc32_update(*crc, chunk, in_chunk);
    return e ? e->err : NC_OK;
}

static void set_double(model_config *c, enum model_param lo, enum model_param hi, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    model_config_set(c, lo, (uint32_t)u);
    model_config_set(c, hi, (uint32_t)(u >> 32));
}

static double get_double(const model_config *c, enum model_param lo, enum model_param hi)
{
    uint64_t u = (uint64_t)c->value[hi] << 32 | c->value[lo];
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

nc_status fl_compress(uint8_t **out, size_t *out_len, const uint8_t *in, uint64_t n,
                      const fl_opts *fo, const codec_opts *o, const char **why)
{
    *out = NULL;
    *out_len = 0;
    *why = NULL;
    if (fo->max_error != 0 && !fq_bound_ok(fo->max_error)) {
        *why = "the error bound must be 0 (lossless) or a positive number up to 1e300";
        return NC_ERR_ARG;
    }
    npy_info ni = { 0 };
    unsigned kind = FL_KIND_RAW;
    if (npy_is_npy(in, (size_t)n)) {
        nc_status st = npy_parse(&ni, in, (size_t)n, why);
        if (st != NC_OK)
            return st == NC_ERR_NOMEM ? st : NC_ERR_ARG;
        kind = FL_KIND_NPY;
    } else if (n % 4) {
        *why = "not a whole number of float32 values (the size is not a multiple of 4)";
        return NC_ERR_ARG;
    }
    uint64_t floats = (n - ni.header_len) / 4;
    fl_tensor one = { floats, kind == FL_KIND_NPY && ni.ndim >= 2 ? ni.shape[ni.ndim - 1] : 0 };
    section s = { .head_len = ni.header_len, .head = in, .n = 1, .t = &one };
    fl_tensor *own = NULL; /* the caller's tensors without empty ones */
    if (fo->tensors && floats > 0) {
        uint64_t total = 0;
        if (!(own = malloc(((size_t)fo->n_tensors + 1) * sizeof *own)))
            return NC_ERR_NOMEM;
        s.n = 0;
        for (uint32_t i = 0; i < fo->n_tensors; i++) {
            total += fo->tensors[i].count;
            if (fo->tensors[i].count)
                own[s.n++] = fo->tensors[i];
        }
        if (total != floats || s.n > FL_MAX_TENSORS) {
            free(own);
            *why = total != floats ? "the tensors do not add up to the array's length"
                                   : "more than 2^24 tensors";
            return NC_ERR_ARG;
        }
        s.t = own;
    }
    /* The checksum is of what the decoder gives back: the header, then the decoded values. */
    fmt_header h = { .version = FMT_VERSION, .model_id = MODEL_FLOAT, .orig_size = n,
                     .orig_crc = crc32_update(0, in, (size_t)ni.header_len) };
    model_config c = { .id = MODEL_FLOAT };
    model_config_set(&c, MP_FL_KIND, kind);
    set_double(&c, MP_FL_ERR_LO, MP_FL_ERR_HI, fo->max_error);
    h.n_params = 0;
    for (unsigned k = 0; k < MP_COUNT; k++)
        if (model_config_has(&c, k))
            h.params[h.n_params++] = (fmt_param){ (uint16_t)k, c.value[k] };

    /* the section */
    uint64_t sec_bound = 10 + s.head_len + 10 + (uint64_t)s.n * 20;
    uint8_t *sec = malloc((size_t)sec_bound);
    if (!sec) {
        free(own);
        return NC_ERR_NOMEM;
    }
    size_t sl = put_varint(sec, s.head_len);
    memcpy(sec + sl, s.head, (size_t)s.head_len);
    sl += (size_t)s.head_len;
    sl += put_varint(sec + sl, s.n);
    for (uint32_t i = 0; i < s.n; i++) {
        sl += put_varint(sec + sl, s.t[i].count);
        sl += put_varint(sec + sl, s.t[i].row);
    }
    fm *m = NULL;
    bit_encoder e;
    bit_enc_init(&e);
    nc_status st = fm_new(&m, fo->max_error == 0);
    if (st == NC_OK)
        st = value_loop(m, &s, fo->max_error, in + ni.header_len, NULL, floats, &e, NULL, o,
                        &h.orig_crc);
    fm_free(m);
    if (st == NC_OK)
        st = bit_enc_finish(&e);
    if (st == NC_OK) {
        h.payload_size = sl + e.len;
        size_t hl = fmt_header_size(&h);
        /* Stored also if the decoder's size bound would refuse the file: the bound is proven,
         * so this never happens, but a file must never be one its decoder rejects. */
        int stored = floats == 0 || hl + h.payload_size >= fmt_stored_size(n)
                     || floats > (uint64_t)e.len * FL_VALUES_PER_BYTE;
        if (stored) { /* the original itself, exact even in lossy mode */
            h.model_id = MODEL_STORED;
            h.orig_crc = crc32_update(0, in, (size_t)n);
            h.n_params = 0;
            h.payload_size = n;
            hl = fmt_header_size(&h);
        }
        uint8_t *buf = malloc(hl + (size_t)h.payload_size + 1);
        if (!buf) {
            st = NC_ERR_NOMEM;
        } else {
            fmt_header_write(buf, &h);
            if (stored) {
                memcpy(buf + hl, in, (size_t)n);
            } else {
                memcpy(buf + hl, sec, sl);
                memcpy(buf + hl + sl, e.buf, e.len);
            }
            *out = buf;
            *out_len = hl + (size_t)h.payload_size;
        }
    }
    bit_enc_free(&e);
    free(sec);
    free(own);
    return st;
}

/* The header's keys: kind and bound known and valid. */
static nc_status check_keys(const model_config *cfg, double *bound, unsigned *kind)
{
    if (!model_config_has(cfg, MP_FL_KIND) || !model_config_has(cfg, MP_FL_ERR_LO)
        || !model_config_has(cfg, MP_FL_ERR_HI))
        return NC_ERR_CORRUPT;
    *kind = cfg->value[MP_FL_KIND];
    if (*kind != FL_KIND_RAW && *kind != FL_KIND_NPY)
        return NC_ERR_VERSION;
    *bound = get_double(cfg, MP_FL_ERR_LO, MP_FL_ERR_HI);
    if (*bound != 0 && !fq_bound_ok(*bound))
        return NC_ERR_CORRUPT;
    for (unsigned k = 0; k < MP_COUNT; k++)
        if (model_config_has(cfg, k) && k != MP_FL_KIND && k != MP_FL_ERR_LO && k != MP_FL_ERR_HI)
            return NC_ERR_CORRUPT;
    return NC_OK;
}

/* Everything a decoder checks before allocating: keys, the section, the sizes. */
static nc_status open_file(section *s, double *bound, unsigned *kind, uint64_t *floats,
                           const fmt_header *h, const model_config *cfg, const uint8_t *payload,
                           size_t len)
{
    nc_status st = check_keys(cfg, bound, kind);
    if (st != NC_OK)
        return st;
    /* The header's length comes first in the section; the array is the rest of the file. */
    uint64_t pos = 0, head_len;
    if (!get_varint(&head_len, payload, len, &pos) || head_len > h->orig_size
        || (h->orig_size - head_len) % 4 || (*kind == FL_KIND_RAW) != (head_len == 0))
        return NC_ERR_CORRUPT;
    *floats = (h->orig_size - head_len) / 4;
    if ((st = section_read(s, payload, len, *floats)) != NC_OK)
        return st;
    uint64_t coded = len - s->used;
    if (*floats > coded * (uint64_t)FL_VALUES_PER_BYTE
        || (*kind == FL_KIND_NPY && !npy_is_npy(s->head, (size_t)s->head_len))) {
        free(s->t);
        s->t = NULL;
        return NC_ERR_CORRUPT;
    }
    return NC_OK;
}

nc_status fl_inspect(const fmt_header *h, const model_config *cfg, const uint8_t *payload,
                     size_t len)
{
    section s;
    double bound;
    unsigned kind;
    uint64_t floats;
    nc_status st = open_file(&s, &bound, &kind, &floats, h, cfg, payload, len);
    if (st == NC_OK)
        free(s.t);
    return st;
}

nc_status fl_describe(fl_info *info, const fmt_header *h, const model_config *cfg,
                      const uint8_t *payload, size_t len)
{
    section s;
    memset(info, 0, sizeof *info);
    nc_status st = open_file(&s, &info->max_error, &info->kind, &info->floats, h, cfg, payload,
                             len);
    if (st == NC_OK) {
        info->header_bytes = s.head_len;
        info->n_tensors = s.n;
        free(s.t);
    }
    return st;
}

nc_status fl_decompress(uint8_t *dst, const fmt_header *h, const model_config *cfg,
                        const uint8_t *payload, size_t len, const codec_opts *o)
{
    section s;
    double bound;
    unsigned kind;
    uint64_t floats;
    nc_status st = open_file(&s, &bound, &kind, &floats, h, cfg, payload, len);
    if (st != NC_OK)
        return st;
    memcpy(dst, s.head, (size_t)s.head_len);
    fm *m = NULL;
    bit_decoder d;
    bit_dec_init(&d, payload + s.used, len - (size_t)s.used);
    if ((st = fm_new(&m, bound == 0)) == NC_OK)
        st = value_loop(m, &s, bound, NULL, dst + s.head_len, floats, NULL, &d, o, NULL);
    if (st == NC_OK)
        st = bit_dec_finish(&d);
    fm_free(m);
    free(s.t);
    return st;
}

uint64_t fl_memory(const model_config *cfg)
{
    double bound;
    unsigned kind;
    if (check_keys(cfg, &bound, &kind) != NC_OK)
        return 0;
    return fm_memory(bound == 0);
}
