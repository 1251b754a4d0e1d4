/* The decoder's feed: the one-step program's values copied into the training program's
 * workspace step by step, so that the decoder trains on a segment without running its forward a
 * second time.
 *
 * The backward pass reads a set of forward values (and the caller reads the outputs). Each of
 * them is, in the one-step program, either a time-invariant value (the same at every step), the
 * S rows of a time-parallel value for the step just run, a value of one particular step t, or a
 * key/value window of attention (its memory rows come with step 0, then one step's rows with each
 * step; nc_timestep_origins). All of them are live together when the backward starts, so the
 * planner gave them disjoint workspace slots, and writing only them cannot clobber one another. The
 * one-step program computes them with the same bits as the segment forward (that is what
 * nc_graph_timestep proves), so forward + backward and feed + backward give the same bits. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

typedef struct copy {
    int src;          /* value id in the one-step program */
    int origin;       /* NC_ORIGIN_INV, _TP, _WINDOW or the step that writes it */
    size_t dst;       /* float offset in the training workspace */
    size_t n;         /* floats per copy (one step's rows, or the whole value) */
    size_t head;      /* NC_ORIGIN_WINDOW: floats of the memory rows before the step's */
} copy;

struct nc_feed {
    copy *c;
    int n;
    size_t T;         /* steps per segment */
};

void nc_feed_free(nc_feed *f)
{
    if (f)
        free(f->c);
    free(f);
}

/* Forward values the backward reads, and the outputs: 1 per needed value id. */
static uint8_t *needed(const nc_program *p)
{
    uint8_t *need = calloc((size_t)p->nval + 1, 1);
    if (!need)
        return NULL;
    for (int i = p->nfwd; i < p->nins; i++)
        for (int j = 0; j < nc_op_table[p->ins[i].op].n_in; j++) {
            int u = p->ins[i].in[j];
            if (u >= 0 && p->val[u].kind == NC_V_ACT && p->val[u].grad_of < 0)
                need[u] = 1;
        }
    for (int v = 0; v < p->nval; v++)
        if (p->val[v].kind == NC_V_ACT && (p->val[v].flags & NC_VF_OUTPUT) && v != p->loss)
            need[v] = 1;
    return need;
}

nc_status nc_feed_new(const nc_graph *g, const nc_program *train, nc_graph **one, int *map,
                      nc_feed **out)
{
    if (!one || !out)
        return NC_ERR_ARG;
    *one = NULL;
    *out = NULL;
    if (!g || !train || train->nval < g->nval)
        return NC_ERR_ARG;
    size_t nv = (size_t)g->nval + 1;
    int *origin = malloc(nv * sizeof *origin), *src = malloc(nv * sizeof *src);
    uint8_t *need = needed(train);
    nc_feed *f = calloc(1, sizeof *f);
    nc_graph *ng = NULL;
    nc_status st = NC_ERR_NOMEM;
    if (!origin || !src || !need || !f || !(f->c = malloc(nv * sizeof *f->c)))
        goto done;
    if ((st = nc_timestep_origins(g, &ng, map, origin, src, &f->T)) != NC_OK)
        goto done;
    st = NC_ERR_UNSUPPORTED;
    for (int v = 0; v < g->nval; v++) {
        if (!need[v])
            continue;
        const nc_gvalue *d = &train->val[v];
        if (origin[v] == NC_ORIGIN_NONE)
            goto done; /* the backward reads something the one-step program never holds */
        const nc_gvalue *s = &ng->val[src[v]];
        int tp = origin[v] == NC_ORIGIN_TP, win = origin[v] == NC_ORIGIN_WINDOW;
        size_t rows = s->rows, head = 0;
        if (win && f->T > 1) { /* (mem+T)*S rows fed from (mem+1)*S: S = the difference / (T-1) */
            size_t S = (d->rows - rows) / (f->T - 1);
            if (d->rows < rows || S == 0 || S * (f->T - 1) != d->rows - rows || rows < S)
                goto done;
            head = (rows - S) * d->cols;
            rows = S;
        }
        if (s->cols != d->cols || s->type != NC_T_F32 ||
            (tp ? d->rows != f->T * s->rows : (!win || f->T == 1) && d->rows != s->rows))
            goto done;
        if (s->kind == NC_V_ACT && nc_g_output(ng, src[v]) != NC_OK)
            goto done;
        f->c[f->n++] = (copy){ src[v], origin[v], d->off, rows * d->cols, head };
    }
    st = NC_OK;
done:
    free(origin);
    free(src);
    free(need);
    if (st != NC_OK) {
        nc_graph_free(ng);
        nc_feed_free(f);
        return st;
    }
    *one = ng;
    *out = f;
    return NC_OK;
}

/* Where the one-step program holds value v after a run. */
static const float *held(const nc_program *p, int v)
{
    const nc_gvalue *x = &p->val[v];
    switch (x->kind) {
    case NC_V_PARAM: return p->params + x->off;
    case NC_V_INPUT: return p->bound[v];
    case NC_V_ACT: return x->flags & NC_VF_OUTPUT ? p->ws + x->off : NULL;
    default: return NULL;
    }
}

nc_status nc_feed_step(nc_feed *f, nc_program *train, const nc_program *step, int t)
{
    if (!f || !train || !step || t < 0 || (size_t)t >= f->T)
        return NC_ERR_ARG;
    for (int i = 0; i < f->n; i++) {
        const copy *c = &f->c[i];
        if (c->src >= step->nval)
            return NC_ERR_ARG;
        size_t at = c->dst, n = c->n, from = 0;
        if (c->origin == NC_ORIGIN_TP)
            at += (size_t)t * c->n;
        else if (c->origin == NC_ORIGIN_WINDOW && t == 0)
            n += c->head; /* the memory rows and step 0's */
        else if (c->origin == NC_ORIGIN_WINDOW)
            at += c->head + (size_t)t * c->n, from = c->head; /* step t's rows, after the memory */
        else if (c->origin == NC_ORIGIN_INV ? t != 0 : c->origin != t)
            continue;
        const float *s = held(step, c->src);
        if (!s)
            return NC_ERR_ARG;
        memcpy(train->ws + at, s + from, n * sizeof *s);
    }
    train->forward_done = t == (int)f->T - 1;
    return NC_OK;
}
