/* The match model's byte-level bookkeeping (see match.h). */
#include "match.h"

void cm_match_init(cm_match *m, const uint8_t *buf, unsigned buf_bits, uint32_t *table,
                   unsigned table_bits)
{
    *m = (cm_match){ .buf = buf, .mask = (1u << buf_bits) - 1, .table = table,
                     .tmask = (1u << table_bits) - 1 };
}

static uint32_t hash_last(const cm_match *m, uint64_t pos)
{
    uint32_t h = 0;
    for (uint32_t i = 1; i <= CM_MATCH_MIN; i++)
        h = (h + m->buf[(pos - i) & m->mask] + 1) * 0x2F0F3A65u;
    return h >> 8;
}

void cm_match_byte(cm_match *m, uint64_t pos)
{
    uint8_t c = m->buf[(pos - 1) & m->mask];
    if (m->len && !m->miss && m->buf[m->ptr & m->mask] == c) {
        m->ptr++;
        if (m->len < CM_MATCH_MAX)
            m->len++;
    } else {
        m->len = 0;
    }
    m->miss = 0;
    if (pos < CM_MATCH_MIN)
        return;
    uint32_t h = hash_last(m, pos) & m->tmask;
    if (m->len == 0 && m->table[h]) {
        /* positions are stored mod 2^32 (+1, 0 meaning none): d is the distance back */
        uint32_t d = (uint32_t)pos - (m->table[h] - 1);
        uint32_t len = 0;
        /* every byte compared must exist and still be in the history window */
        if (d > 0 && d <= m->mask)
            while (len < CM_MATCH_MAX && (uint64_t)d + len + 1 <= pos && d + len + 1 <= m->mask
                   && m->buf[(pos - d - len - 1) & m->mask] == m->buf[(pos - len - 1) & m->mask])
                len++;
        if (len >= CM_MATCH_MIN) {
            m->len = len;
            m->ptr = pos - d;
        }
    }
    m->table[h] = (uint32_t)pos + 1;
}
