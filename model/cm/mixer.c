/* Logistic mixer with context-selected weight sets (see mixer.h). */
#include "mixer.h"

#define W_MAX (1 << 19)
#define ERR_MAX (1 << 19)

_Static_assert((-3 >> 1) == -2, "the mixers need an arithmetic right shift of negative values");

void cm_mixer_init(cm_mixer *m, int32_t *w, uint32_t n, uint32_t sets, int32_t rate, int32_t init)
{
    m->w = w;
    m->n = n;
    m->sets = sets;
    m->rate = rate;
    m->sel = w;
    for (uint64_t i = 0; i < (uint64_t)n * sets; i++)
        w[i] = init;
}

int32_t cm_mixer_dot(cm_mixer *m, const int32_t *x, uint32_t s)
{
    const int32_t *restrict w = m->sel = m->w + (uint64_t)s * m->n;
    const int32_t *restrict in = x;
    uint32_t n = m->n;
    /* |w x| <= 2^19 * 2^11: each product fits in 32 bits, and after >> 8 a sum of up to 2^9 of
     * them does too (exact integer maths: any evaluation order gives the same sum) */
    int32_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += (w[i] * in[i]) >> 8;
    sum >>= 8;
    return sum > CM_ST_MAX ? CM_ST_MAX : sum < -CM_ST_MAX ? -CM_ST_MAX : sum;
}

void cm_mixer_learn(cm_mixer *m, const int32_t *x, uint32_t p16, int y)
{
    int32_t err = (((int32_t)y << 12) - (int32_t)(p16 >> 4)) * m->rate;
    /* |x| <= 2047 and |err| <= 2^19 keep x * err within int32 whatever the rate */
    err = err > ERR_MAX ? ERR_MAX : err < -ERR_MAX ? -ERR_MAX : err;
    int32_t *restrict w = m->sel;
    const int32_t *restrict in = x;
    uint32_t n = m->n;
    for (uint32_t i = 0; i < n; i++) {
        int32_t v = w[i] + ((in[i] * err + 32768) >> 16);
        w[i] = v > W_MAX ? W_MAX : v < -W_MAX ? -W_MAX : v;
    }
}
