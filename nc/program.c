/* Compiling a graph into a program (autodiff, dead code, plan, allocations) and access to its
 * parameters, gradients, inputs and outputs. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

/* ---- compile ----------------------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Parameter ordinal k gets its own stream, so adding a parameter never shifts the others. The
 * top 24 bits u give (2u - 2^24) / 2^24 in [-1, 1), exact in float; times a rounds once. */
static void init_param(float *dst, const nc_gvalue *v, uint64_t seed, uint64_t k)
{
    size_t n = v->rows * v->cols;
    if (v->init == NC_INIT_CONST) {
        for (size_t i = 0; i < n; i++) dst[i] = v->init_a;
        return;
    }
    uint64_t s = seed ^ (0xD1B54A32D192ED03ull * (k + 1));
    for (size_t i = 0; i < n; i++) {
        int32_t u = (int32_t)(splitmix64(&s) >> 40);
        float r = (float)(2 * u - (1 << 24)) * 0x1p-24f;
        dst[i] = r * v->init_a;
    }
}

static void *alloc_floats(size_t n)
{
    size_t bytes = (n ? n : 1) * sizeof(float);
    bytes = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void nc_program_free(nc_program *p)
{
    if (!p)
        return;
    free(p->val);
    free(p->ins);
    if (!p->borrowed)
        free(p->params);
    free(p->grads);
    free(p->ws);
    free(p->bound);
    free(p);
}

nc_status nc_graph_compile(const nc_graph *g, unsigned flags, nc_program **out)
{
    if (!out)
        return NC_ERR_ARG;
    *out = NULL;
    if (!g || g->err || (flags & ~(NC_COMPILE_GRAD | NC_COMPILE_NO_REUSE)))
        return NC_ERR_ARG;
    if ((flags & NC_COMPILE_GRAD) && g->loss < 0)
        return NC_ERR_ARG;

    /* Work on a copy: autodiff appends values and instructions. */
    nc_graph w = *g;
    nc_status st = NC_ERR_NOMEM;
    nc_program *p = NULL;
    w.val = malloc((size_t)(g->nval ? g->nval : 1) * sizeof *w.val);
    w.ins = malloc((size_t)(g->nins ? g->nins : 1) * sizeof *w.ins);
    w.capval = g->nval;
    w.capins = g->nins;
    if (!w.val || !w.ins)
        goto fail;
    if (g->nval)
        memcpy(w.val, g->val, (size_t)g->nval * sizeof *w.val);
    if (g->nins)
        memcpy(w.ins, g->ins, (size_t)g->nins * sizeof *w.ins);
    if (flags & NC_COMPILE_GRAD) {
        st = nc_autodiff(&w);
        if (st)
            goto fail;
    }
    st = NC_ERR_NOMEM;
    p = calloc(1, sizeof *p);
    if (!p)
        goto fail;
    p->val = w.val;
    p->nval = w.nval;
    p->ins = w.ins;
    p->nins = w.nins;
    p->nfwd = g->nins;
    p->nparam = w.nparam;
    p->loss = w.loss;
    w.val = NULL;
    w.ins = NULL;
    st = nc_plan(p, (flags & NC_COMPILE_NO_REUSE) || nc_no_reuse_env());
    if (st)
        goto fail;
    st = NC_ERR_NOMEM;
    p->params = alloc_floats(p->nparam);
    p->grads = alloc_floats(p->nparam);
    p->ws = alloc_floats(p->ws_floats);
    p->bound = calloc((size_t)p->nval + 1, sizeof *p->bound);
    if (!p->params || !p->grads || !p->ws || !p->bound)
        goto fail;
    uint64_t k = 0;
    for (int v = 0; v < p->nval; v++)
        if (p->val[v].kind == NC_V_PARAM)
            init_param(p->params + p->val[v].off, &p->val[v], g->seed, k++);
    *out = p;
    return NC_OK;
fail:
    free(w.val);
    free(w.ins);
    nc_program_free(p);
    return st;
}

/* ---- access ------------------------------------------------------------------------------------ */

static int valid(const nc_program *p, int v)
{
    return p && v >= 0 && v < p->nval;
}

nc_status nc_program_bind(nc_program *p, int v, const void *data)
{
    if (!valid(p, v) || p->val[v].kind != NC_V_INPUT || !data)
        return NC_ERR_ARG;
    p->bound[v] = data;
    return NC_OK;
}

const float *nc_program_value(const nc_program *p, int v)
{
    if (!valid(p, v))
        return NULL;
    const nc_gvalue *x = &p->val[v];
    if (x->kind == NC_V_PARAM)
        return p->params + x->off;
    if (x->kind == NC_V_ACT && (x->flags & NC_VF_OUTPUT))
        return p->ws + x->off;
    return NULL;
}

float *nc_program_param(nc_program *p, int v)
{
    return valid(p, v) && p->val[v].kind == NC_V_PARAM ? p->params + p->val[v].off : NULL;
}

const float *nc_program_grad(const nc_program *p, int v)
{
    return valid(p, v) && p->val[v].kind == NC_V_PARAM ? p->grads + p->val[v].off : NULL;
}

float *nc_program_params(nc_program *p, size_t *n)
{
    if (n)
        *n = p ? p->nparam : 0;
    return p ? p->params : NULL;
}

nc_status nc_program_set_params(nc_program *p, const float *params, size_t n)
{
    if (!p || !params || n != p->nparam)
        return NC_ERR_ARG;
    if (n)
        memcpy(p->params, params, n * sizeof *params);
    return NC_OK;
}

nc_status nc_program_share_params(nc_program *p, nc_program *owner)
{
    if (!p || !owner || p == owner || owner->borrowed || p->nparam != owner->nparam)
        return NC_ERR_ARG;
    for (int v = 0, w = 0; v < p->nval || w < owner->nval; v++, w++) {
        /* the same parameters in the same order: same offsets and shapes */
        while (v < p->nval && p->val[v].kind != NC_V_PARAM) v++;
        while (w < owner->nval && owner->val[w].kind != NC_V_PARAM) w++;
        if ((v < p->nval) != (w < owner->nval))
            return NC_ERR_ARG;
        if (v < p->nval && (p->val[v].off != owner->val[w].off || p->val[v].rows != owner->val[w].rows
                            || p->val[v].cols != owner->val[w].cols))
            return NC_ERR_ARG;
    }
    if (!p->borrowed)
        free(p->params);
    p->params = owner->params;
    p->borrowed = 1;
    return NC_OK;
}

const float *nc_program_grads(const nc_program *p, size_t *n)
{
    if (n)
        *n = p ? p->nparam : 0;
    return p ? p->grads : NULL;
}

void nc_program_workspace(const nc_program *p, size_t *planned_bytes, size_t *naive_bytes)
{
    if (planned_bytes)
        *planned_bytes = p ? p->ws_floats * sizeof(float) : 0;
    if (naive_bytes)
        *naive_bytes = p ? p->naive_floats * sizeof(float) : 0;
}
