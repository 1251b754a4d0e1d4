/* The dictionary: the input's own frequent words, counted in a hash table and chosen by the
 * bytes they save. Every choice is a total order on (score, word), so the dictionary does not
 * depend on the table's layout. */
#include <stdlib.h>
#include <string.h>

#include "text_int.h"

typedef struct entry {
    uint64_t hash;
    uint64_t count;
    xt_word w;
} entry;

typedef struct table {
    entry *e;
    uint64_t cap, used;
} table;

static nc_status table_grow(table *t)
{
    uint64_t cap = t->cap ? t->cap * 2 : 1u << 12;
    entry *e = calloc(cap, sizeof *e);
    if (!e)
        return NC_ERR_NOMEM;
    for (uint64_t i = 0; i < t->cap; i++) {
        if (!t->e[i].count)
            continue;
        uint64_t j = t->e[i].hash & (cap - 1);
        while (e[j].count)
            j = (j + 1) & (cap - 1);
        e[j] = t->e[i];
    }
    free(t->e);
    t->e = e;
    t->cap = cap;
    return NC_OK;
}

static nc_status count_word(table *t, const char *s, unsigned len)
{
    if (t->used * 2 >= t->cap && table_grow(t) != NC_OK)
        return NC_ERR_NOMEM;
    uint64_t h = xt_word_hash(s, len), j = h & (t->cap - 1);
    for (; t->e[j].count; j = (j + 1) & (t->cap - 1)) {
        entry *e = &t->e[j];
        if (e->hash == h && e->w.len == len && memcmp(e->w.s, s, len) == 0) {
            e->count++;
            return NC_OK;
        }
    }
    t->e[j] = (entry){ .hash = h, .count = 1, .w = { .len = (uint8_t)len } };
    memcpy(t->e[j].w.s, s, len);
    t->used++;
    return NC_OK;
}

/* Count the lower-case form of every word the transform can code: ASCII letter runs of
 * 2 … XT_WORD_MAX letters, all lower case, capitalised or all upper case. */
static nc_status count_words(table *t, const uint8_t *p, uint64_t len)
{
    uint64_t i = 0;
    while (i < len) {
        if (!xt_letter(p[i])) {
            i++;
            continue;
        }
        enum xt_case c;
        char s[XT_WORD_MAX];
        uint64_t j = xt_scan_word(p, len, i, &c, s), n = j - i;
        if (c != XC_MIXED && n >= 2 && n <= XT_WORD_MAX && count_word(t, s, (unsigned)n) != NC_OK)
            return NC_ERR_NOMEM;
        i = j;
    }
    return NC_OK;
}

static int word_cmp(const xt_word *a, const xt_word *b)
{
    int c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Bytes saved by a code of `code` bytes: descending, then the word, for a total order. */
static uint64_t saving(const entry *e, unsigned code)
{
    return e->w.len > code ? e->count * (e->w.len - code) : 0;
}

static int by_saving1(const void *x, const void *y)
{
    const entry *a = *(entry *const *)x, *b = *(entry *const *)y;
    uint64_t sa = saving(a, 1), sb = saving(b, 1);
    return sa != sb ? (sa < sb) - (sa > sb) : word_cmp(&a->w, &b->w);
}

static int by_saving2(const void *x, const void *y)
{
    const entry *a = *(entry *const *)x, *b = *(entry *const *)y;
    uint64_t sa = saving(a, 2), sb = saving(b, 2);
    return sa != sb ? (sa < sb) - (sa > sb) : word_cmp(&a->w, &b->w);
}

static int by_word(const void *x, const void *y)
{
    return word_cmp(x, y);
}

nc_status xt_build_dict(xt_table *t, uint32_t codes, const uint8_t *in, const xt_run *runs,
                        uint64_t n_runs, uint32_t min_count)
{
    t->words = NULL;
    t->words1 = t->words2 = t->leads = 0;
    if (codes < 4)
        return NC_OK; /* room for the escape and the case flags only */
    table tb = { 0 };
    nc_status st = NC_OK;
    uint64_t at = 0;
    for (uint64_t i = 0; i < n_runs && st == NC_OK; at += runs[i].len, i++)
        if (runs[i].text)
            st = count_words(&tb, in + at, runs[i].len);
    entry **c = st == NC_OK ? malloc((tb.used ? tb.used : 1) * sizeof *c) : NULL;
    if (!c) {
        free(tb.e);
        return NC_ERR_NOMEM;
    }
    uint64_t nc = 0;
    for (uint64_t i = 0; i < tb.cap; i++)
        if (tb.e[i].count >= 2)
            c[nc++] = &tb.e[i];
    /* One-byte codes for the words that save most with them; two-byte codes for the next,
     * as many leads as they fill (at most half the codes, the rest one-byte words). */
    uint32_t avail = codes - 3, leads = avail / 2;
    qsort(c, nc, sizeof *c, by_saving1);
    uint64_t n1 = nc < avail - leads ? nc : avail - leads;
    qsort(c + n1, nc - n1, sizeof *c, by_saving2);
    uint64_t n2 = 0;
    while (n1 + n2 < nc && n2 < (uint64_t)leads * XT_PER_LEAD && c[n1 + n2]->w.len > 2
           && c[n1 + n2]->count >= min_count)
        n2++;
    uint32_t used_leads = (uint32_t)((n2 + XT_PER_LEAD - 1) / XT_PER_LEAD);
    if (used_leads < leads && n1 + n2 < nc) {
        /* Leads left over become one-byte codes for the best of the two-byte words. */
        uint64_t more = avail - used_leads - n1;
        if (more > n2)
            more = n2;
        n1 += more;
        n2 -= more;
        qsort(c, n1, sizeof *c, by_saving1);
        used_leads = (uint32_t)((n2 + XT_PER_LEAD - 1) / XT_PER_LEAD);
    }
    t->words = malloc((n1 + n2 ? n1 + n2 : 1) * sizeof *t->words);
    if (!t->words) {
        free(c);
        free(tb.e);
        return NC_ERR_NOMEM;
    }
    for (uint64_t i = 0; i < n1 + n2; i++)
        t->words[i] = c[i]->w;
    /* Stored in alphabetical order within each group: the model codes a sorted list well. */
    qsort(t->words, n1, sizeof *t->words, by_word);
    qsort(t->words + n1, n2, sizeof *t->words, by_word);
    t->words1 = (uint32_t)n1;
    t->words2 = (uint32_t)n2;
    t->leads = used_leads;
    free(c);
    free(tb.e);
    return NC_OK;
}
