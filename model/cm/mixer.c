/* Logistic mixer with context-selected weight sets (see mixer.h). */
#include "mixer.h"

#define W_MAX (1 << 23)

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
    const int32_t *w = m->sel = m->w + (uint64_t)s * m->n;
    int64_t sum = 0;
    for (uint32_t i = 0; i < m->n; i++)
        sum += (int64_t)w[i] * x[i];
    sum >>= 16;
    return sum > CM_ST_MAX ? CM_ST_MAX : sum < -CM_ST_MAX ? -CM_ST_MAX : (int32_t)sum;
}

void cm_mixer_learn(cm_mixer *m, const int32_t *x, uint32_t p16, int y)
{
    int32_t err = (((int32_t)y << 12) - (int32_t)(p16 >> 4)) * m->rate;
    int32_t *w = m->sel;
    for (uint32_t i = 0; i < m->n; i++) {
        int32_t v = w[i] + ((x[i] * err + 8192) >> 14); /* |x * err| < 2^31: rate <= 64 */
        w[i] = v > W_MAX ? W_MAX : v < -W_MAX ? -W_MAX : v;
    }
}
