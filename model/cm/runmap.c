/* Per-context runs of the same byte (see runmap.h). */
#include "runmap.h"

void cm_runmap_init(cm_runmap *r, uint32_t *t, unsigned bits)
{
    r->t = t;
    r->mask = ((uint64_t)1 << bits) - 1;
}

uint32_t *cm_runmap_find(cm_runmap *r, uint64_t x)
{
    uint32_t *e = &r->t[(x >> 20) & r->mask];
    uint32_t check = (uint32_t)(x >> 48) & 0xFFFF;
    if (*e >> 16 != check)
        *e = check << 16;
    return e;
}

void cm_runmap_update(uint32_t *e, uint8_t c)
{
    uint32_t count = *e & 0xFF, b = *e >> 8 & 0xFF;
    if (count && b == c)
        *e = count < 255 ? *e + 1 : *e;
    else
        *e = (*e & 0xFFFF0000u) | (uint32_t)c << 8 | 1;
}
