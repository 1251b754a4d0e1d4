/* The squash and stretch tables from integer arithmetic (see squash.h). */
#include "squash.h"

/* e^(-1/256) in 2^-32 units, from its Taylor series evaluated in 2^-62 units. */
static uint64_t exp_step_q32(void)
{
    uint64_t term = 1ull << 62, sum = term;
    for (uint64_t k = 1; k <= 12; k++) {
        term /= 256 * k;
        sum = (k & 1) ? sum - term : sum + term;
    }
    return (sum + (1ull << 29)) >> 30;
}

void cm_logistic_init(cm_logistic *l)
{
    /* e[d] = e^(-d/256) in 2^-32 units, d >= 0, by repeated multiplication (rounded). */
    uint64_t c = exp_step_q32(), e = 1ull << 32;
    for (int32_t d = 0; d <= CM_ST_MAX; d++) {
        /* p = 2^16 / (1 + e^(-d/256)), rounded, at most 65535 */
        uint64_t den = (1ull << 32) + e;
        uint64_t p = ((1ull << 48) + den / 2) / den;
        if (p > 65535)
            p = 65535;
        l->squash[CM_ST_MAX + d] = (uint16_t)p;
        l->squash[CM_ST_MAX - d] = (uint16_t)(65536 - p);
        e = (e * c + (1ull << 31)) >> 32;
    }
    /* stretch: for each 12-bit probability, the smallest d whose squash reaches it. */
    uint32_t j = 0;
    for (int32_t d = -CM_ST_MAX; d <= CM_ST_MAX; d++) {
        uint32_t v = l->squash[d + CM_ST_MAX] >> 4;
        for (; j <= v && j < 4096; j++)
            l->stretch[j] = (int16_t)d;
    }
    for (; j < 4096; j++)
        l->stretch[j] = CM_ST_MAX;
}
