/* Interpolated adaptive probability maps (see apm.h). */
#include "apm.h"

void cm_apm_init(cm_apm *a, uint16_t *t, uint32_t contexts, int rate, const cm_logistic *l)
{
    a->t = t;
    a->idx = 0;
    a->rate = rate;
    for (uint32_t c = 0; c < contexts; c++)
        for (int32_t j = 0; j < 33; j++)
            t[c * 33 + j] = (uint16_t)cm_squash(l, (j - 16) * 128);
}

uint32_t cm_apm_p(cm_apm *a, const cm_logistic *l, uint32_t p16, uint32_t cx)
{
    uint32_t s = (uint32_t)(cm_stretch(l, p16) + 2048); /* 1 .. 4095 */
    uint32_t lo = s >> 7, w = s & 127, i = cx * 33 + lo;
    a->idx = i + (w >> 6);
    return (a->t[i] * (128 - w) + a->t[i + 1] * w) >> 7;
}

void cm_apm_learn(cm_apm *a, int y)
{
    int32_t t = a->t[a->idx], target = y ? 65535 : 0;
    a->t[a->idx] = (uint16_t)(t + ((target - t) >> a->rate));
}
