/* The section at the start of a transformed stream: runs, code bytes and dictionary
 * (docs/format.md, "Text transform"). The reader trusts nothing: every count is checked
 * against the bytes present and the original size before anything is allocated. */
#include <stdlib.h>
#include <string.h>

#include "text_int.h"

nc_status xt_table_layout(xt_table *t, const uint8_t map[32], uint32_t leads)
{
    memset(t->role, XR_LITERAL, sizeof t->role);
    uint32_t codes = 0;
    for (unsigned b = 0; b < 256; b++)
        codes += map[b >> 3] >> (b & 7) & 1;
    if (codes < 3 || leads > codes - 3)
        return NC_ERR_CORRUPT;
    uint32_t n1 = codes - 3 - leads, k = 0;
    for (unsigned b = 0; b < 256; b++) {
        if (!(map[b >> 3] >> (b & 7) & 1))
            continue;
        if (k < 3) {
            t->role[b] = (uint8_t)(XR_ESCAPE + k);
        } else if (k < 3 + n1) {
            t->role[b] = XR_WORD1;
            t->index[b] = (uint8_t)(k - 3);
            t->word1_byte[k - 3] = (uint8_t)b;
        } else {
            t->role[b] = XR_LEAD;
            t->index[b] = (uint8_t)(k - 3 - n1);
            t->lead_byte[k - 3 - n1] = (uint8_t)b;
        }
        k++;
    }
    t->codes = codes;
    t->leads = leads;
    return NC_OK;
}

static uint64_t put_varint(uint8_t *out, uint64_t v)
{
    uint64_t n = 0;
    while (v >= 128) {
        out[n++] = (uint8_t)(v | 128);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/* A LEB128 varint of at most 10 bytes whose value fits 64 bits; 0 when damaged. */
static uint64_t get_varint(const uint8_t *in, uint64_t len, uint64_t *pos, int *bad)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len) {
            *bad = 1;
            return 0;
        }
        uint8_t b = in[(*pos)++];
        if (shift == 63 && b > 1) {
            *bad = 1;
            return 0;
        }
        v |= (uint64_t)(b & 127) << shift;
        if (!(b & 128))
            return v;
    }
    *bad = 1;
    return 0;
}

uint64_t xt_section_bound(const xt_section *s)
{
    uint64_t words = (uint64_t)s->t.words1 + s->t.words2;
    return 10 + 10 * s->n_runs + 32 + 1 + 10 + 10 + words * (XT_WORD_MAX + 2);
}

uint64_t xt_section_write(uint8_t *out, const xt_section *s)
{
    uint64_t n = put_varint(out, s->n_runs);
    for (uint64_t i = 0; i < s->n_runs; i++)
        n += put_varint(out + n, s->runs[i].len << 1 | (uint64_t)(s->runs[i].text != 0));
    if (!s->any_text)
        return n;
    const xt_table *t = &s->t;
    uint8_t *map = out + n;
    memset(map, 0, 32);
    for (unsigned b = 0; b < 256; b++)
        if (t->role[b] != XR_LITERAL)
            map[b >> 3] |= (uint8_t)(1u << (b & 7));
    n += 32;
    out[n++] = (uint8_t)t->leads;
    n += put_varint(out + n, t->words1);
    n += put_varint(out + n, t->words2);
    /* Each word: the letters it shares with the previous word of its group, its other letters,
     * then a line feed. */
    for (uint32_t i = 0; i < t->words1 + t->words2; i++) {
        const xt_word *w = &t->words[i], *prev = i == 0 || i == t->words1 ? NULL : w - 1;
        unsigned p = 0;
        while (prev && p < prev->len && p + 1 < w->len && prev->s[p] == w->s[p])
            p++;
        out[n++] = (uint8_t)p;
        memcpy(out + n, w->s + p, w->len - p);
        n += w->len - p;
        out[n++] = '\n';
    }
    return n;
}

void xt_section_free(xt_section *s)
{
    free(s->runs);
    free(s->t.words);
    s->runs = NULL;
    s->t.words = NULL;
}

static nc_status read_words(xt_table *t, const uint8_t *in, uint64_t len, uint64_t *pos)
{
    uint64_t words = (uint64_t)t->words1 + t->words2;
    /* every word takes at least 3 bytes (prefix count, a letter, line feed) */
    if (words > (len - *pos) / 3)
        return NC_ERR_CORRUPT;
    t->words = malloc((words ? words : 1) * sizeof *t->words);
    if (!t->words)
        return NC_ERR_NOMEM;
    for (uint64_t i = 0; i < words; i++) {
        xt_word *w = &t->words[i];
        const xt_word *prev = i == 0 || i == t->words1 ? NULL : w - 1;
        if (*pos >= len)
            return NC_ERR_CORRUPT;
        unsigned p = in[(*pos)++];
        if (p > (prev ? prev->len : 0) || p >= XT_WORD_MAX)
            return NC_ERR_CORRUPT;
        if (p)
            memcpy(w->s, prev->s, p);
        w->len = (uint8_t)p;
        while (*pos < len && xt_lower(in[*pos])) {
            if (w->len == XT_WORD_MAX)
                return NC_ERR_CORRUPT;
            w->s[w->len++] = (char)in[(*pos)++];
        }
        if (*pos >= len || in[(*pos)++] != '\n' || w->len == p || w->len < 2)
            return NC_ERR_CORRUPT;
    }
    return NC_OK;
}

nc_status xt_section_read(xt_section *s, uint64_t *used, const uint8_t *in, uint64_t len,
                          uint64_t n)
{
    return xt_section_read_as(s, used, in, len, n, 1);
}

nc_status xt_section_read_as(xt_section *s, uint64_t *used, const uint8_t *in, uint64_t len,
                             uint64_t n, int table)
{
    memset(s, 0, sizeof *s);
    uint64_t pos = 0, total = 0;
    int bad = 0;
    uint64_t runs = get_varint(in, len, &pos, &bad);
    /* a run takes at least one byte of the list and holds at least one byte */
    if (bad || runs == 0 || runs > len - pos || runs > n)
        return NC_ERR_CORRUPT;
    s->runs = malloc(runs * sizeof *s->runs);
    if (!s->runs)
        return NC_ERR_NOMEM;
    s->n_runs = runs;
    for (uint64_t i = 0; i < runs; i++) {
        uint64_t v = get_varint(in, len, &pos, &bad);
        s->runs[i] = (xt_run){ v >> 1, (int)(v & 1) };
        s->any_text |= s->runs[i].text;
        if (bad || s->runs[i].len == 0 || s->runs[i].len > n - total) {
            xt_section_free(s);
            return NC_ERR_CORRUPT;
        }
        total += s->runs[i].len;
    }
    nc_status st = total == n || n == UINT64_MAX ? NC_OK : NC_ERR_CORRUPT;
    if (st == NC_OK && s->any_text && table) {
        xt_table *t = &s->t;
        if (len - pos < 33) {
            st = NC_ERR_CORRUPT;
        } else {
            const uint8_t *map = in + pos;
            pos += 32;
            st = xt_table_layout(t, map, in[pos++]);
        }
        if (st == NC_OK) {
            uint64_t w1 = get_varint(in, len, &pos, &bad), w2 = get_varint(in, len, &pos, &bad);
            if (bad || w1 > t->codes - 3 - t->leads || w2 > (uint64_t)t->leads * XT_PER_LEAD)
                st = NC_ERR_CORRUPT;
            t->words1 = (uint32_t)w1;
            t->words2 = (uint32_t)w2;
        }
        if (st == NC_OK)
            st = read_words(t, in, len, &pos);
    }
    if (st != NC_OK) {
        xt_section_free(s);
        return st;
    }
    *used = pos;
    return NC_OK;
}
