/* Liveness: dead-code elimination and the workspace plan of a compiled program.
 *
 * Dead code: walking the instructions backwards, an instruction is kept when one of its outputs
 * is needed -- an output, the loss, a parameter gradient, or an operand of a kept instruction
 * (an accumulating output counts as an operand too: it reads the earlier contributions).
 *
 * Plan: every activation lives from the instruction that first writes it to the last one that
 * reads or accumulates into it (outputs and the loss to the end). Intervals are inclusive, so an
 * instruction's outputs never share bytes with its inputs (the kernels forbid most overlaps).
 * Values are placed in order of first write (then output slot) at the lowest offset that does
 * not overlap any value still live: a deterministic first-fit, a pure function of the program.
 * Every slot is rounded up to 16 floats (64 bytes) so each value starts cache-line aligned.
 * With no_reuse (NC_COMPILE_NO_REUSE or NNZIP_NO_REUSE=1) every value gets its own slot. */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

static int no_reuse_flag;
static pthread_once_t no_reuse_once = PTHREAD_ONCE_INIT;

static void read_no_reuse(void)
{
    const char *s = getenv("NNZIP_NO_REUSE"); /* the one test switch of the planner */
    no_reuse_flag = s && s[0] == '1' && s[1] == '\0';
}

int nc_no_reuse_env(void)
{
    pthread_once(&no_reuse_once, read_no_reuse);
    return no_reuse_flag;
}

#define SLOT_ALIGN 16 /* floats */

static size_t slot_floats(const nc_gvalue *v)
{
    size_t n = v->rows * v->cols;
    return (n + SLOT_ALIGN - 1) / SLOT_ALIGN * SLOT_ALIGN;
}

static int is_act(const nc_program *p, int v)
{
    return v >= 0 && p->val[v].kind == NC_V_ACT;
}

/* Drop instructions whose results reach nothing needed; compacts p->ins in place. */
static nc_status dead_code(nc_program *p)
{
    uint8_t *needed = calloc((size_t)p->nval + 1, 1);
    uint8_t *keep = calloc((size_t)(p->nins ? p->nins : 1), 1);
    if (!needed || !keep) {
        free(needed);
        free(keep);
        return NC_ERR_NOMEM;
    }
    for (int v = 0; v < p->nval; v++)
        needed[v] = (p->val[v].flags & NC_VF_OUTPUT) || p->val[v].kind == NC_V_GRAD;
    for (int i = p->nins - 1; i >= 0; i--) {
        const nc_ginstr *in = &p->ins[i];
        const nc_op_info *oi = &nc_op_table[in->op];
        for (int k = 0; k < oi->n_out; k++) keep[i] |= needed[in->out[k]];
        if (!keep[i])
            continue;
        for (int k = 0; k < oi->n_in; k++) needed[in->in[k]] = 1;
        for (int k = 0; k < oi->n_out; k++)
            if ((in->acc >> k) & 1)
                needed[in->out[k]] = 1;
    }
    int n = 0, nfwd = 0;
    for (int i = 0; i < p->nins; i++) {
        if (!keep[i])
            continue;
        if (i < p->nfwd)
            nfwd++;
        p->ins[n++] = p->ins[i];
    }
    p->nins = n;
    p->nfwd = nfwd;
    free(needed);
    free(keep);
    return NC_OK;
}

typedef struct span {
    size_t lo, hi; /* [lo, hi) in floats */
    int last;      /* the last instruction using the value */
} span;

nc_status nc_plan(nc_program *p, int no_reuse)
{
    nc_status st = dead_code(p);
    if (st)
        return st;
    int nv = p->nval;
    size_t cnt = (size_t)nv + 1; /* never a zero-size allocation */
    int *first = malloc(cnt * sizeof *first);
    int *last = malloc(cnt * sizeof *last);
    int *order = malloc(cnt * sizeof *order);
    span *live = malloc(cnt * sizeof *live);
    if (!first || !last || !order || !live) {
        st = NC_ERR_NOMEM;
        goto done;
    }
    for (int v = 0; v < nv; v++) {
        first[v] = -1;
        last[v] = -1;
        if (p->val[v].kind == NC_V_ACT)
            p->val[v].off = SIZE_MAX; /* not referenced: dropped */
    }
    /* Intervals, and the placement order: first write, then output slot. */
    int norder = 0;
    for (int i = 0; i < p->nins; i++) {
        const nc_ginstr *in = &p->ins[i];
        const nc_op_info *oi = &nc_op_table[in->op];
        for (int k = 0; k < oi->n_in; k++)
            if (is_act(p, in->in[k])) {
                assert(first[in->in[k]] >= 0 && first[in->in[k]] <= i); /* written before read */
                last[in->in[k]] = i;
            }
        for (int k = 0; k < oi->n_out; k++) {
            int v = in->out[k];
            if (!is_act(p, v))
                continue;
            if (first[v] < 0) {
                assert(!((in->acc >> k) & 1)); /* the first write never accumulates */
                first[v] = i;
                order[norder++] = v;
            }
            last[v] = i;
        }
    }
    for (int j = 0; j < norder; j++)
        if (p->val[order[j]].flags & NC_VF_OUTPUT)
            last[order[j]] = p->nins; /* readable after the run */

    size_t top = 0, naive = 0;
    int nlive = 0;
    for (int j = 0; j < norder; j++) {
        int v = order[j];
        size_t size = slot_floats(&p->val[v]), off = 0;
        naive += size;
        if (no_reuse) {
            off = naive - size;
        } else {
            /* live[0..nlive) holds the placed values still live, sorted by offset; a value
             * that has died stays dead for every later one (first[] only grows). */
            int keep = 0;
            for (int u = 0; u < nlive; u++)
                if (live[u].last >= first[v])
                    live[keep++] = live[u];
            nlive = keep;
            int at = 0;
            for (; at < nlive && live[at].lo < off + size; at++)
                if (live[at].hi > off)
                    off = live[at].hi;
            memmove(live + at + 1, live + at, (size_t)(nlive - at) * sizeof *live);
            live[at] = (span){off, off + size, last[v]};
            nlive++;
        }
        p->val[v].off = off;
        if (off + size > top)
            top = off + size;
    }
#ifndef NDEBUG
    /* The invariant: values live at the same time never share a float (quadratic: debug builds,
     * programs of test size). */
    for (int a = 0; a < (norder <= 4096 ? norder : 0); a++)
        for (int b = a + 1; b < norder; b++) {
            int x = order[a], y = order[b];
            if (first[y] <= last[x] && first[x] <= last[y]) {
                size_t xo = p->val[x].off, yo = p->val[y].off;
                assert(xo + slot_floats(&p->val[x]) <= yo || yo + slot_floats(&p->val[y]) <= xo);
            }
        }
#endif
    p->ws_floats = top;
    p->naive_floats = naive;
done:
    free(first);
    free(last);
    free(order);
    free(live);
    return st;
}
