/* TEMPORARY stand-in for nc's Adam (being written on branch adam); removed when it lands. */
#include <math.h>
#include <stdlib.h>

#include "lstm.h"

struct nc_adam { size_t n; float b2, eps, p2; float *v; };

nc_adam *nc_adam_new(size_t n, const nc_adam_config *c)
{
    nc_adam *a = calloc(1, sizeof *a);
    if (!a || !(a->v = calloc(n ? n : 1, sizeof *a->v))) { free(a); return NULL; }
    a->n = n, a->b2 = c->beta2, a->eps = c->eps, a->p2 = 1.0f;
    return a;
}
void nc_adam_free(nc_adam *a) { if (a) free(a->v); free(a); }
nc_status nc_adam_step(nc_adam *a, nc_pool *pool, float *p, const float *g, size_t n, float lr)
{
    (void)pool;
    a->p2 *= a->b2;
    float c2 = 1.0f - a->p2;
    for (size_t i = 0; i < n; i++) {
        a->v[i] = a->b2 * a->v[i] + (1.0f - a->b2) * (g[i] * g[i]);
        p[i] -= lr * (g[i] / (sqrtf(a->v[i] / c2) + a->eps));
    }
    return NC_OK;
}
