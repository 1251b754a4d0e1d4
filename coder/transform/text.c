/* The text transform's forward and inverse passes over the runs (the section is in
 * text_section.c, the dictionary in text_dict.c, detection in text_detect.c). */
#include <stdlib.h>
#include <string.h>

#include "text_int.h"

/* The transform is used when it makes the stream at least 1/XT_GAIN shorter, by at least
 * XT_SECTION_GAIN times the section's size: a shorter stream is less work for every model, and
 * the dictionary must pay for itself (on small inputs it does not). */
#define XT_GAIN 32u
#define XT_SECTION_GAIN 16u
/* Nor on less than this much text: below it the dictionary, coded by the model, costs more
 * than the shorter stream gains (measured on 45 and 134 KB of documentation with cm -5 and the
 * hybrid; docs/benchmarks.md). */
#define XT_MIN_TEXT (1u << 19)

/* Dictionary look-up for the encoder: open addressing on the word's letters. */
typedef struct lookup {
    uint32_t *slot; /* word index + 1, 0 empty */
    uint64_t mask;
    const xt_table *t;
} lookup;

static nc_status lookup_init(lookup *l, const xt_table *t)
{
    uint64_t words = (uint64_t)t->words1 + t->words2, cap = 16;
    while (cap < 2 * words)
        cap *= 2;
    l->slot = calloc(cap, sizeof *l->slot);
    if (!l->slot)
        return NC_ERR_NOMEM;
    l->mask = cap - 1;
    l->t = t;
    for (uint32_t i = 0; i < words; i++) {
        uint64_t j = xt_word_hash(t->words[i].s, t->words[i].len) & l->mask;
        while (l->slot[j])
            j = (j + 1) & l->mask;
        l->slot[j] = i + 1;
    }
    return NC_OK;
}

/* The index of the word s (len letters) in the dictionary, or -1. */
static int64_t lookup_find(const lookup *l, const char *s, unsigned len)
{
    for (uint64_t j = xt_word_hash(s, len) & l->mask; l->slot[j]; j = (j + 1) & l->mask) {
        const xt_word *w = &l->t->words[l->slot[j] - 1];
        if (w->len == len && memcmp(w->s, s, len) == 0)
            return l->slot[j] - 1;
    }
    return -1;
}

static uint8_t byte_of_role(const xt_table *t, unsigned role)
{
    for (unsigned b = 0; b < 256; b++)
        if (t->role[b] == role)
            return (uint8_t)b;
    return 0;
}

/* Rewrite one text run (len bytes at p) into out; returns the bytes written (at most 2 len). */
static uint64_t encode_run(uint8_t *out, const uint8_t *p, uint64_t len, const lookup *l)
{
    const xt_table *t = l->t;
    uint8_t esc = byte_of_role(t, XR_ESCAPE), cap = byte_of_role(t, XR_CAP),
            upper = byte_of_role(t, XR_UPPER);
    uint64_t n = 0, i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (!xt_letter(c)) {
            if (t->role[c] != XR_LITERAL)
                out[n++] = esc;
            out[n++] = (uint8_t)c;
            i++;
            continue;
        }
        enum xt_case cs;
        char s[XT_WORD_MAX];
        uint64_t j = xt_scan_word(p, len, i, &cs, s), k = j - i;
        int64_t w = cs != XC_MIXED && k <= XT_WORD_MAX ? lookup_find(l, s, (unsigned)k) : -1;
        /* Only a dictionary word gets a case flag: measured, flags before spelled-out words
         * cost the context models more than sharing the lower-case contexts gains. */
        if (w < 0) {
            memcpy(out + n, p + i, k);
            n += k;
            i = j;
            continue;
        }
        if (cs == XC_CAP || cs == XC_UPPER)
            out[n++] = cs == XC_CAP ? cap : upper;
        if ((uint64_t)w < t->words1) {
            out[n++] = t->word1_byte[w];
        } else {
            uint64_t x = (uint64_t)w - t->words1;
            out[n++] = t->lead_byte[x / XT_PER_LEAD];
            out[n++] = (uint8_t)(XT_SECOND + x % XT_PER_LEAD);
        }
        i = j;
    }
    return n;
}

/* Original bytes in the text runs of s. */
static uint64_t text_bytes(const xt_section *s)
{
    uint64_t text = 0;
    for (uint64_t i = 0; i < s->n_runs; i++)
        text += s->runs[i].text ? s->runs[i].len : 0;
    return text;
}

/* Every run of s rewritten into out (text runs through l's dictionary, others copied); returns
 * the bytes written. */
static uint64_t encode_runs(uint8_t *out, const xt_section *s, const uint8_t *in, const lookup *l)
{
    uint64_t len = 0, at = 0;
    for (uint64_t i = 0; i < s->n_runs; at += s->runs[i].len, i++) {
        if (s->runs[i].text) {
            len += encode_run(out + len, in + at, s->runs[i].len, l);
        } else {
            memcpy(out + len, in + at, s->runs[i].len);
            len += s->runs[i].len;
        }
    }
    return len;
}

static void fill_info(xt_info *info, const xt_section *s, uint64_t section_bytes)
{
    if (!info)
        return;
    memset(info, 0, sizeof *info);
    info->runs = s->n_runs;
    for (uint64_t i = 0; i < s->n_runs; i++)
        info->text_bytes += s->runs[i].text ? s->runs[i].len : 0;
    if (s->any_text) {
        info->codes = s->t.codes;
        info->leads = s->t.leads;
        info->words1 = s->t.words1;
        info->words2 = s->t.words2;
    }
    info->section_bytes = section_bytes;
}

nc_status xt_encode(uint8_t **out, uint64_t *out_len, const uint8_t *in, uint64_t n,
                    int network, xt_info *info)
{
    return xt_encode_with(out, out_len, in, n, info, XT_MIN_TEXT,
                          network ? XT_MIN_COUNT_NET : XT_MIN_COUNT_CM);
}

nc_status xt_encode_with(uint8_t **out, uint64_t *out_len, const uint8_t *in, uint64_t n,
                         xt_info *info, uint64_t min_text, uint32_t min_count)
{
    *out = NULL;
    *out_len = 0;
    if (info)
        memset(info, 0, sizeof *info);
    xt_section s = { 0 };
    nc_status st = xt_detect(&s.runs, &s.n_runs, in, n);
    if (st != NC_OK)
        return st;
    uint64_t text = text_bytes(&s);
    uint8_t map[32];
    uint32_t codes = text && text >= min_text ? xt_pick_codes(map, in, s.runs, s.n_runs) : 0;
    if (codes < 3) { /* no text, too little, or no byte values to spare */
        free(s.runs);
        return NC_OK;
    }
    s.any_text = 1;
    lookup l = { 0 };
    uint8_t *buf = NULL;
    if ((st = xt_build_dict(&s.t, codes, in, s.runs, s.n_runs, min_count)) == NC_OK
        && (st = xt_table_layout(&s.t, map, s.t.leads)) == NC_OK)
        st = lookup_init(&l, &s.t);
    uint64_t bound = xt_section_bound(&s) + n + text;
    if (st == NC_OK && !(buf = malloc(bound)))
        st = NC_ERR_NOMEM;
    if (st == NC_OK) {
        uint64_t section = xt_section_write(buf, &s);
        uint64_t len = section + encode_runs(buf + section, &s, in, &l);
        fill_info(info, &s, section);
        if (min_text == 0 || (len + n / XT_GAIN < n && n - len >= XT_SECTION_GAIN * section)) {
            *out = buf;
            *out_len = len;
            buf = NULL;
        }
    }
    free(buf);
    free(l.slot);
    xt_section_free(&s);
    return st;
}

/* Append word w, cased by flag (0, XR_CAP, XR_UPPER), to out[*o ... limit). */
static int put_word(uint8_t *out, uint64_t *o, uint64_t limit, const xt_word *w, int flag)
{
    if (w->len > limit - *o)
        return 0;
    for (unsigned i = 0; i < w->len; i++) {
        uint8_t c = (uint8_t)w->s[i];
        out[*o + i] = flag == XR_UPPER || (flag == XR_CAP && i == 0) ? (uint8_t)(c - 32) : c;
    }
    *o += w->len;
    return 1;
}

/* Rebuild the run out[*o ... limit) from in[*pos ...). */
static nc_status decode_run(uint8_t *out, uint64_t *o, uint64_t limit, const uint8_t *in,
                            uint64_t len, uint64_t *pos, const xt_table *t)
{
    int flag = 0;
    while (*o < limit) {
        if (*pos >= len)
            return NC_ERR_CORRUPT;
        uint8_t b = in[(*pos)++];
        unsigned role = t->role[b];
        if (role == XR_WORD1 || role == XR_LEAD) {
            uint64_t w = t->index[b];
            if (role == XR_LEAD) {
                if (*pos >= len || in[*pos] < XT_SECOND)
                    return NC_ERR_CORRUPT;
                w = t->words1 + w * XT_PER_LEAD + (in[(*pos)++] - XT_SECOND);
                if (w >= (uint64_t)t->words1 + t->words2)
                    return NC_ERR_CORRUPT;
            } else if (w >= t->words1) {
                return NC_ERR_CORRUPT;
            }
            if (!put_word(out, o, limit, &t->words[w], flag))
                return NC_ERR_CORRUPT;
            flag = 0;
            continue;
        }
        if (flag) /* the encoder writes a case flag only right before a word's code */
            return NC_ERR_CORRUPT;
        if (role == XR_CAP || role == XR_UPPER) {
            flag = (int)role;
        } else if (role == XR_ESCAPE) {
            if (*pos >= len)
                return NC_ERR_CORRUPT;
            out[(*o)++] = in[(*pos)++];
        } else {
            out[(*o)++] = b;
        }
    }
    return flag ? NC_ERR_CORRUPT : NC_OK;
}

/* Rebuild the runs of s into out from in[pos, len), text runs with table t; every byte of in
 * must be used. */
static nc_status decode_runs(uint8_t *out, const xt_section *s, const xt_table *t,
                             const uint8_t *in, uint64_t len, uint64_t pos)
{
    nc_status st = NC_OK;
    uint64_t o = 0;
    for (uint64_t i = 0; i < s->n_runs && st == NC_OK; i++) {
        uint64_t limit = o + s->runs[i].len;
        if (s->runs[i].text) {
            st = decode_run(out, &o, limit, in, len, &pos, t);
        } else if (s->runs[i].len > len - pos) {
            st = NC_ERR_CORRUPT;
        } else {
            memcpy(out + o, in + pos, s->runs[i].len);
            o = limit;
            pos += s->runs[i].len;
        }
    }
    if (st == NC_OK && pos != len)
        st = NC_ERR_CORRUPT; /* bytes after the last run */
    return st;
}

nc_status xt_decode(uint8_t **dst, uint64_t n, const uint8_t *in, uint64_t len)
{
    *dst = NULL;
    xt_section s;
    uint64_t pos;
    nc_status st = xt_section_read(&s, &pos, in, len, n);
    if (st != NC_OK)
        return st;
    uint8_t *out = n <= SIZE_MAX ? malloc(n ? (size_t)n : 1) : NULL;
    if (!out) {
        xt_section_free(&s);
        return NC_ERR_NOMEM;
    }
    st = decode_runs(out, &s, &s.t, in, len, pos);
    xt_section_free(&s);
    if (st != NC_OK)
        free(out);
    else
        *dst = out;
    return st;
}

nc_status xt_describe(xt_info *info, const uint8_t *in, uint64_t len)
{
    xt_section s;
    uint64_t used;
    nc_status st = xt_section_read(&s, &used, in, len, UINT64_MAX);
    if (st == NC_OK)
        fill_info(info, &s, used);
    xt_section_free(&s);
    return st;
}

uint64_t xt_max_expansion(uint64_t len)
{
    return len > UINT64_MAX / XT_WORD_MAX ? UINT64_MAX : len * XT_WORD_MAX;
}

/* ---- a member's blocks: one dictionary for all of them ------------------------------------ */

struct xt_dict {
    xt_table t;   /* the first transformed block's table; words owned */
    lookup l;
};

void xt_dict_free(xt_dict *d)
{
    if (!d)
        return;
    free(d->t.words);
    free(d->l.slot);
    free(d);
}

/* Keep the table of section s (its words move to the dictionary). */
static nc_status dict_take(xt_dict **d, xt_section *s)
{
    xt_dict *x = calloc(1, sizeof *x);
    if (!x)
        return NC_ERR_NOMEM;
    x->t = s->t;
    s->t.words = NULL;
    nc_status st = lookup_init(&x->l, &x->t);
    if (st != NC_OK) {
        xt_dict_free(x);
        return st;
    }
    xt_dict_free(*d);
    *d = x;
    return NC_OK;
}

/* The runs-only section of a block that uses the member's dictionary. */
static uint64_t runs_write(uint8_t *out, const xt_section *s)
{
    xt_section r = *s;
    r.any_text = 0;
    return xt_section_write(out, &r);
}

nc_status xt_encode_block(xt_dict **d, uint8_t **out, uint64_t *out_len, int *same,
                          const uint8_t *in, uint64_t n, int network)
{
    *out = NULL;
    *out_len = 0;
    *same = 0;
    if (!*d) { /* the member's first transformed block: as xt_encode, and keep its dictionary */
        nc_status st = xt_encode(out, out_len, in, n, network, NULL);
        if (st != NC_OK || !*out)
            return st;
        xt_section s;
        uint64_t used;
        if ((st = xt_section_read(&s, &used, *out, *out_len, n)) == NC_OK)
            st = dict_take(d, &s);
        xt_section_free(&s);
        if (st != NC_OK) {
            free(*out);
            *out = NULL;
            *out_len = 0;
        }
        return st;
    }
    xt_section s = { 0 };
    nc_status st = xt_detect(&s.runs, &s.n_runs, in, n);
    if (st != NC_OK)
        return st;
    uint64_t text = text_bytes(&s);
    uint8_t *buf = text ? malloc(10 + 10 * s.n_runs + n + text) : NULL;
    if (text && !buf)
        st = NC_ERR_NOMEM;
    if (buf) {
        uint64_t len = runs_write(buf, &s);
        len += encode_runs(buf + len, &s, in, &(*d)->l);
        if (len + n / XT_GAIN < n) { /* the dictionary is paid for: any gain will do */
            *out = buf;
            *out_len = len;
            *same = 1;
            buf = NULL;
        }
    }
    free(buf);
    free(s.runs);
    return st;
}

nc_status xt_decode_block(xt_dict **d, int same, uint8_t **dst, uint64_t n, const uint8_t *in,
                          uint64_t len)
{
    if (!same) {
        nc_status st = xt_decode(dst, n, in, len);
        if (st != NC_OK)
            return st;
        xt_section s;
        uint64_t used;
        if ((st = xt_section_read(&s, &used, in, len, n)) == NC_OK)
            st = s.any_text ? dict_take(d, &s) : NC_ERR_CORRUPT;
        xt_section_free(&s);
        if (st != NC_OK) {
            free(*dst);
            *dst = NULL;
        }
        return st;
    }
    *dst = NULL;
    if (!*d)
        return NC_ERR_CORRUPT; /* no earlier block of the member gave a dictionary */
    xt_section s;
    uint64_t pos;
    nc_status st = xt_section_read_as(&s, &pos, in, len, n, 0); /* runs only */
    if (st != NC_OK)
        return st;
    uint8_t *out = st == NC_OK && n <= SIZE_MAX ? malloc(n ? (size_t)n : 1) : NULL;
    if (!out) {
        xt_section_free(&s);
        return NC_ERR_NOMEM;
    }
    st = decode_runs(out, &s, &(*d)->t, in, len, pos);
    xt_section_free(&s);
    if (st != NC_OK)
        free(out);
    else
        *dst = out;
    return st;
}
