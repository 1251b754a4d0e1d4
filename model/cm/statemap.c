/* Adaptive probability maps (see statemap.h). */
#include "statemap.h"

void cm_recip_init(cm_recip *r)
{
    for (uint32_t n = 0; n <= CM_SM_LIMIT_MAX; n++)
        r->r[n] = (2u << 16) / (2 * n + 3);
}

void cm_statemap_init(cm_statemap *m, uint32_t *p, uint16_t *n, uint32_t size, uint32_t limit)
{
    m->p = p;
    m->n = n;
    m->limit = limit;
    for (uint32_t i = 0; i < size; i++) {
        p[i] = 1u << 31;
        n[i] = 0;
    }
}

void cm_statemap_init_states(cm_statemap *m, const cm_states *st)
{
    for (uint32_t s = 0; s < 256; s++) {
        uint64_t n0 = st->n0[s], n1 = st->n1[s];
        m->p[s] = (uint32_t)(((2 * n1 + 1) << 31) / (n0 + n1 + 1));
    }
}
