/* Contexts for binary data: sparse (skipping) contexts and records (see context.h).
 *
 * Record length: when a byte value recurs at the same distance as its previous recurrence,
 * that distance is evidence of a record (a table row, an image line); a candidate seen 4 times
 * in a row (among such events) becomes the record length. */
#include "context.h"
#include "hash.h"

static void find_record(cm_record *r, const cm_history *h)
{
    unsigned c = h->c4 & 0xFF;
    uint32_t now = (uint32_t)h->pos; /* positions mod 2^32 suffice for distances */
    uint32_t d = r->last[c] ? now - r->last[c] : 0;
    if (d >= 2 && d <= 65536 && d == r->dist[c]) {
        if (d == r->cand) {
            if (++r->hits >= 4)
                r->len = d;
        } else {
            r->cand = d;
            r->hits = 1;
        }
    }
    r->dist[c] = d;
    r->last[c] = now ? now : 1;
}

unsigned cm_binary_contexts(cm_record *r, const cm_history *h, unsigned mask, uint64_t *out)
{
    unsigned n = 0;
    uint32_t c4 = h->c4;
    if (mask & CM_G_SPARSE) {
        out[n++] = cm_hash(400, c4 & 0x0000FF00u);
        out[n++] = cm_hash(401, c4 & 0x00FF0000u);
        out[n++] = cm_hash(402, c4 & 0xFFFF0000u);
        out[n++] = cm_hash(403, c4 & 0xFF00FF00u);
    }
    if (mask & CM_G_RECORD) {
        find_record(r, h);
        uint64_t len = r->len;
        uint64_t above = len ? cm_back(h, len) : 0, above2 = len ? cm_back(h, 2 * len) : 0;
        out[n++] = cm_hash(410, len << 16 | above << 8 | above2);
        out[n++] = cm_hash(411, len << 16 | above << 8 | (c4 & 0xFF));
    }
    return n;
}
