/* Optimiser: Adam over one parameter allocation, and the learning-rate schedule.
 *
 * The encoder and the decoder train the same model online, so an optimiser step must give the
 * same bits everywhere. The per-element work is the dispatched kernel nc_adam_update, whose
 * _ref/_avx2/_avx512 variants are bit-identical (kernels_internal.h holds the one scalar formula,
 * kernels_simd.h its vector copy). What is left here is scalar and done once per step on the
 * calling thread: the bias corrections, from float running products beta^k (one multiply per
 * step, no powf, so no libm transcendental), and the split of the n elements over the pool into
 * fixed chunks. Each element is updated by exactly one chunk with its own operands only, so the
 * split changes nothing but speed.
 *
 * State in one allocation: the struct and its moment arrays (v, then m when beta1 > 0) are one
 * zeroed block. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "nc/nc.h"

/* Elements per pool chunk: a multiple of 16 so only the last chunk has a scalar tail. Splitting
 * never changes a bit (the update is element-wise); below two chunks the pool is not used. */
#define ADAM_CHUNK ((size_t)16384)

struct nc_adam {
    size_t n;
    nc_adam_config cfg;
    uint64_t step; /* calls made so far */
    float b1k, b2k; /* beta1^step, beta2^step as float running products */
    float *m;       /* (n), or NULL when beta1 = 0 */
    float *v;       /* (n) */
};

/* The header is padded to 64 bytes so the arrays after it start on a cache line of the block. */
#define ADAM_HEADER ((sizeof(struct nc_adam) + 63) / 64 * 64)

static int is_finite(float x)
{
    return x == x && x - x == 0.0f;
}

nc_adam *nc_adam_new(size_t n, const nc_adam_config *cfg)
{
    /* written so that NaN fails every test */
    if (!cfg || !(cfg->beta1 >= 0.0f && cfg->beta1 < 1.0f) ||
        !(cfg->beta2 >= 0.0f && cfg->beta2 < 1.0f) || !(cfg->eps > 0.0f) ||
        !is_finite(cfg->eps) || !(cfg->clip >= 0.0f))
        return NULL;
    size_t arrays = cfg->beta1 > 0.0f ? 2 : 1;
    if (n > (SIZE_MAX - ADAM_HEADER) / (arrays * sizeof(float)))
        return NULL;
    unsigned char *block = calloc(1, ADAM_HEADER + arrays * n * sizeof(float));
    if (!block)
        return NULL;
    nc_adam *a = (nc_adam *)block;
    a->n = n;
    a->cfg = *cfg;
    a->step = 0;
    a->b1k = 1.0f;
    a->b2k = 1.0f;
    a->v = (float *)(block + ADAM_HEADER);
    a->m = arrays == 2 ? a->v + n : NULL;
    return a;
}

void nc_adam_free(nc_adam *a)
{
    free(a);
}

size_t nc_adam_state_bytes(const nc_adam *a)
{
    if (!a)
        return 0;
    return (a->m ? 2 : 1) * a->n * sizeof(float);
}

struct adam_job {
    nc_adam *a;
    float *params;
    const float *grads;
    float lr, c1, c2;
    void (*update)(float *p, float *m, float *v, const float *grad, float lr, float beta1,
                   float beta2, float c1, float c2, float eps, float clip, size_t n);
};

static void adam_chunk(void *arg, size_t chunk)
{
    const struct adam_job *j = arg;
    const nc_adam *a = j->a;
    size_t lo = chunk * ADAM_CHUNK, hi = lo + ADAM_CHUNK < a->n ? lo + ADAM_CHUNK : a->n;
    j->update(j->params + lo, a->m ? a->m + lo : NULL, a->v + lo, j->grads + lo, j->lr,
              a->cfg.beta1, a->cfg.beta2, j->c1, j->c2, a->cfg.eps, a->cfg.clip, hi - lo);
}

nc_status nc_adam_step(nc_adam *a, nc_pool *pool, float *params, const float *grads, size_t n,
                       float lr)
{
    if (!a || n != a->n || (n && (!params || !grads)) || lr != lr)
        return NC_ERR_ARG;
    /* bias corrections of step k = step + 1, in this order */
    a->step++;
    a->b1k = a->b1k * a->cfg.beta1;
    a->b2k = a->b2k * a->cfg.beta2;
    struct adam_job j = {a, params, grads, lr, 1.0f - a->b1k, 1.0f - a->b2k,
                         nc_kernels()->nc_adam_update};
    size_t nchunks = (n + ADAM_CHUNK - 1) / ADAM_CHUNK;
    if (nchunks >= 2 && nc_pool_threads(pool) > 1) {
        nc_pool_for(pool, nchunks, adam_chunk, &j);
    } else if (n) {
        j.update(params, a->m, a->v, grads, lr, a->cfg.beta1, a->cfg.beta2, j.c1, j.c2,
                 a->cfg.eps, a->cfg.clip, n);
    }
    return NC_OK;
}

/* ---- learning-rate schedule ---------------------------------------------------------------- */

nc_status nc_lr_sched_check(const nc_lr_sched *s)
{
    if (!s || s->npoints < 1 || s->npoints > NC_LR_SCHED_MAX_POINTS || s->decay > 1)
        return NC_ERR_ARG;
    for (uint32_t i = 0; i < s->npoints; i++) {
        if (!is_finite(s->pt[i].lr) || !(s->pt[i].lr >= 0.0f))
            return NC_ERR_ARG;
        if (i && s->pt[i].step <= s->pt[i - 1].step)
            return NC_ERR_ARG;
    }
    if (s->decay && s->pt[s->npoints - 1].step == 0)
        return NC_ERR_ARG;
    return NC_OK;
}

/* The order of operations is part of the format (docs/determinism.md, "Optimiser"). Integer to
 * float conversions round to nearest (IEEE 754, C11 Annex F), as do / * + - and sqrtf. */
float nc_lr_schedule(const nc_lr_sched *s, uint64_t step)
{
    if (nc_lr_sched_check(s) != NC_OK)
        return 0.0f;
    const nc_lr_point *pt = s->pt;
    uint32_t last = s->npoints - 1;
    if (step <= pt[0].step)
        return pt[0].lr;
    for (uint32_t i = 0; i < last; i++) {
        if (step >= pt[i + 1].step)
            continue;
        /* pt[i].step < step < pt[i+1].step: t in (0, 1) */
        float a = pt[i].lr, b = pt[i + 1].lr;
        float t = (float)(step - pt[i].step) / (float)(pt[i + 1].step - pt[i].step);
        float y = a + (b - a) * t;
        float lo = a < b ? a : b, hi = a < b ? b : a;
        /* rounding could step past an end point near t = 1; the clamp keeps y between them */
        return y < lo ? lo : y > hi ? hi : y;
    }
    if (step == pt[last].step || !s->decay)
        return pt[last].lr;
    return pt[last].lr * sqrtf((float)pt[last].step / (float)step);
}
