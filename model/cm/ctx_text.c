/* Text contexts: words (case-folded) and position in the line (see context.h). */
#include "context.h"
#include "hash.h"

static int is_letter(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 128;
}

unsigned cm_text_contexts(cm_text *t, const cm_history *h, unsigned mask, uint64_t *out)
{
    unsigned c = h->c4 & 0xFF, n = 0;
    if (is_letter(c)) {
        unsigned lower = c < 128 ? (c | 32) : c;
        t->word0 = (t->word0 + lower + 1) * 0x2F0F3A65E7B1C1D5ull;
    } else if (t->word0) {
        t->before = 0;
        t->word2 = t->word1;
        t->word1 = t->word0;
        t->word0 = 0;
    }
    if (!is_letter(c) && c != ' ')
        t->before = c; /* the last punctuation or digit before the current word */
    if (c == '\n') {
        t->prev_line = t->line;
        t->line = h->pos;
    }
    if (mask & CM_G_WORD) {
        /* between words the current word is empty: the byte just seen stands in for it */
        uint64_t w0 = t->word0 ? t->word0 : c;
        out[n++] = cm_hash(300, w0);
        out[n++] = cm_hash(301, w0 * 31 + t->word1);
        out[n++] = cm_hash(302, (w0 * 31 + t->word1) * 31 + t->word2);
        out[n++] = cm_hash(303, w0 * 31 + t->word2);
        out[n++] = cm_hash(304, w0 * 31 + t->before);
    }
    if (mask & CM_G_COLUMN) {
        uint64_t col = h->pos - t->line;
        uint64_t above_at = t->prev_line + col;
        unsigned above = above_at < t->line ? cm_back(h, h->pos - above_at) : 0;
        out[n++] = cm_hash(310, (uint64_t)above << 8 | c);
        out[n++] = cm_hash(311, (uint64_t)above << 16 | (col < 255 ? col : 255));
    }
    return n;
}
