/* Order-n and indirect contexts (see context.h). */
#include "context.h"
#include "hash.h"

unsigned cm_context_count(unsigned mask)
{
    static const uint8_t per_group[8] = { 5, 2, 2, 5, 2, 4, 2, 2 };
    unsigned n = 0;
    for (unsigned g = 0; g < 8; g++)
        if (mask >> g & 1)
            n += per_group[g];
    return n;
}

/* Orders 0-4, 5-6 and 8, 12: one fold over the last 12 bytes gives every order's hash. */
unsigned cm_orders_contexts(const cm_history *h, unsigned mask, uint64_t *out)
{
    unsigned n = 0;
    uint64_t acc = 0;
    if (mask & CM_G_ORDERS)
        out[n++] = cm_hash(100, 0);
    for (unsigned k = 1; k <= 12; k++) {
        acc = (acc + cm_back(h, k) + 1) * 0x100000001B3ull;
        int want = (k <= 4 && (mask & CM_G_ORDERS)) || ((k == 5 || k == 6) && (mask & CM_G_HIGH))
                   || ((k == 8 || k == 12) && (mask & CM_G_LONG));
        if (want)
            out[n++] = cm_hash(100 + k, acc);
    }
    return n;
}

/* What followed the order-1 (order-2) context last time, updated with the byte just seen. */
unsigned cm_indirect_contexts(cm_indirect *in, const cm_history *h, uint64_t *out)
{
    uint32_t c = h->c4 & 0xFF, p1 = h->c4 >> 8 & 0xFF, p2 = h->c4 >> 8 & 0xFFFF;
    in->o1[p1] = (uint16_t)(in->o1[p1] << 8 | c);
    in->o2[p2] = (uint16_t)(in->o2[p2] << 8 | c);
    out[0] = cm_hash(200, (uint64_t)c << 16 | in->o1[c]);
    out[1] = cm_hash(201, (uint64_t)(h->c4 & 0xFFFF) << 16 | in->o2[h->c4 & 0xFFFF]);
    return 2;
}
