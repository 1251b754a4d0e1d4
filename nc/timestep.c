/* The per-timestep conversion: a per-segment forward graph (T steps of S streams) rewritten into
 * a graph that runs one step, with the same bits at every step.
 *
 * The encoder evaluates a segment with one program over T*S time-major rows; the decoder knows
 * one symbol per stream at a time. Model code builds the segment as time-parallel instructions on
 * (T*S, .) values (embedding, output head, loss) and, tagged with nc_g_step(t), one copy of the
 * recurrent cell per step reading slice_rows(x, t*S, S) of time-parallel values and the previous
 * step's state; the step outputs are joined with concat_rows back into (T*S, .) values.
 *
 * The rewrite keeps the time-parallel instructions with S rows instead of T*S, keeps step 0 and
 * drops steps 1.., after proving, step by step, that step t is step t-1 again: same ops, shapes
 * and constants, and each operand the same time-parallel value or parameter, or the value at the
 * same place of its own step where step t-1 read one of its own, or the value at the same place
 * of step t-1 where step t-1 read one of step t-2's (step 0: a state input, whose value at step 1
 * must be the one the state output holds at step 0). By induction, the one kept step applied to
 * the state after step t-1 and the rows of step t computes what step t of the segment computes.
 *
 * Why the bits match: every kernel computes each output row by an order that depends neither on
 * the row count nor on where the row sits in the batch (docs/determinism.md); the time-parallel
 * ops kept are row-wise (row r of the result reads row r of the row-aligned operands and all of
 * the time-invariant ones: parameters and what is computed from them alone), so S rows give the
 * bits those rows have inside T*S. What is not row-wise (a sum over all rows, a time-parallel
 * slice or concat of rows) is dropped when nothing needed reads it (the loss), else refused.
 *
 * Attention reads a window of earlier steps, which no one-step recurrence carries: its keys and
 * values come from kall = concat_rows(kin, kcur) with kin a memory state of mem*S rows, and the
 * state output slice_rows(kall, T*S, mem*S) keeps the last mem positions (memory_op below). The
 * one-step graph runs the same concat on S current rows, so kall holds exactly the W = mem + 1
 * positions the segment's query row of that step reads, in the same order; the attention kernel
 * computes each query row from those W rows alone, so the bits match. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

/* What a value of the segment graph is, as far as the rewrite is concerned. */
enum {
    M_NONE,   /* not yet written */
    M_INV,    /* time-invariant: parameters, inputs of other than T*S rows, what they compute */
    M_TP,     /* time-parallel, T*S time-major rows: S rows after the rewrite */
    M_STATE,  /* a state input */
    M_STEP,   /* written by an instruction of step vstep, place vpos within its step */
    M_PART,   /* rows of steps [t0, t1] of the step value at place vpos (a partial concat) */
    M_OPAQUE, /* meaning changes with the row count (a sum over rows, scratch): never read */
    M_KALL,   /* concat_rows(memory state input memst, time-parallel): mem*S + T*S rows */
    M_MEMOUT  /* slice_rows(that concat, T*S, mem*S): the next value of memory state memst */
};

typedef struct conv {
    const nc_graph *g;
    nc_graph *ng;
    size_t S, T;
    int n;          /* instructions per step */
    int *sidx;      /* sidx[t*n + k]: the k-th instruction of step t */
    uint8_t *mode;
    int *vstep, *vpos, *t0, *t1, *map;
    int *memst;     /* M_KALL, M_MEMOUT: the state index; state inputs: index if a memory state */
    uint8_t *ismem; /* per state: 1 for a key/value memory state (read by a time-parallel concat) */
    uint8_t *memuse; /* per state: memory concats reading its input so far */
} conv;

/* The value at place pos of step t. */
static int at(const conv *c, int t, int pos)
{
    size_t j = (size_t)t * (size_t)c->n + (size_t)(pos / NC_MAX_OUT);
    return c->g->ins[c->sidx[j]].out[pos % NC_MAX_OUT];
}

static int same_bits(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static int is_state_out(const conv *c, int v)
{
    for (int i = 0; i < c->g->nstate; i++)
        if (c->g->state_out[i] == v)
            return 1;
    return 0;
}

/* Operand positions that must be time-parallel when an instruction is (the others must be
 * time-invariant), or -1 for an op that is not row-wise. */
static int tp_mask(nc_opcode op)
{
    switch (op) {
    case NC_OP_MATMUL: case NC_OP_MATMUL_NT: case NC_OP_ADD_BIAS: case NC_OP_RMSNORM:
    case NC_OP_LAYERNORM: case NC_OP_SCALE: case NC_OP_ONE_MINUS: case NC_OP_SIGMOID:
    case NC_OP_TANH: case NC_OP_EXP: case NC_OP_GELU: case NC_OP_SOFTMAX: case NC_OP_LOG_SOFTMAX:
    case NC_OP_SLICE_COLS: case NC_OP_SUM_ALL:
        return 1;
    case NC_OP_GATHER:
        return 2;
    case NC_OP_ADD: case NC_OP_SUB: case NC_OP_MUL: case NC_OP_MIN: case NC_OP_CONCAT_COLS:
    case NC_OP_CROSS_ENTROPY:
        return 3;
    default:
        return -1;
    }
}

static nc_status emit_kept(conv *c, const nc_ginstr *src, const int *in)
{
    nc_ginstr k = *src;
    for (int j = 0; j < nc_op_table[src->op].n_in; j++) k.in[j] = in[j];
    return nc_graph_add_instr(c->ng, &k) < 0 ? c->ng->err : NC_OK;
}

/* A value whose rows are the T*S time-major rows (with T = 1, a step-0 value is one). */
static int tp_like(const conv *c, int v)
{
    return c->mode[v] == M_TP || (c->mode[v] == M_STEP && c->T == 1 && c->vstep[v] == 0);
}

/* The key/value memory pattern, all time-parallel:
 *   kall = concat_rows(kin, kcur)          kin a memory state input (mem*S rows), kcur (T*S rows)
 *   out  = attention(q, kall, vall, bias)  q (T*S rows), k and v both such concats, or both
 *                                          time-parallel when mem = 0; bias time-invariant
 *   kout = slice_rows(kall, T*S, mem*S)    the state output paired with kin
 * becomes kall = concat_rows(kin, kcur) of (mem+1)*S rows, attention on S query rows, and
 * kout = slice_rows(kall, S, mem*S). If the state after step t-1 holds positions [t, t+mem) of
 * the segment's kall, then the one-step kall holds positions [t, t+mem] -- exactly the window
 * query row t reads in the segment, in the same order -- and the new state positions
 * [t+1, t+mem+1). At t = 0 both start from kin, so by induction every step reads the same rows
 * and the kernel (whose per-row order depends only on those W rows) gives the same bits. */
static nc_status memory_op(conv *c, const nc_ginstr *I)
{
    const nc_graph *g = c->g;
    nc_graph *ng = c->ng;
    int id[NC_MAX_IN];
    for (int j = 0; j < nc_op_table[I->op].n_in; j++) id[j] = c->map[I->in[j]];
    if (I->op == NC_OP_CONCAT_ROWS) {
        int u = I->in[0], st = c->memst[u], o = I->out[0];
        if (st < 0 || !c->ismem[st] || c->memuse[st]++ || !tp_like(c, I->in[1]) || id[1] < 0)
            return NC_ERR_ARG; /* one reader per memory state: the concat its output slices */
        c->mode[o] = M_KALL;
        c->memst[o] = st;
        c->map[o] = o;
        ng->val[o].rows = g->val[u].rows + c->S;
        return emit_kept(c, I, id);
    }
    if (I->op == NC_OP_SLICE_ROWS) {
        int u = I->in[0], o = I->out[0];
        size_t mem_rows = g->val[g->state_in[c->memst[u]]].rows;
        if (I->a != c->T * c->S || I->b != mem_rows)
            return NC_ERR_ARG; /* only the last mem positions: the next memory */
        c->mode[o] = M_MEMOUT;
        c->memst[o] = c->memst[u];
        c->map[o] = o;
        nc_ginstr k = *I;
        k.in[0] = id[0];
        k.a = c->S;
        return nc_graph_add_instr(ng, &k) < 0 ? ng->err : NC_OK;
    }
    /* ATTENTION */
    int q = I->in[0], k = I->in[1], v = I->in[2], b = I->in[3];
    if (I->a != c->S || !tp_like(c, q) || c->mode[b] != M_INV)
        return NC_ERR_ARG;
    size_t mem = (g->val[k].rows - g->val[q].rows) / c->S;
    if (mem == 0 ? !(tp_like(c, k) && tp_like(c, v))
                 : !(c->mode[k] == M_KALL && c->mode[v] == M_KALL))
        return NC_ERR_ARG;
    for (int j = 0; j < 4; j++)
        if (id[j] < 0)
            return NC_ERR_ARG;
    for (int kk = 0; kk < 3; kk++) {
        int o = I->out[kk];
        c->map[o] = o;
        c->mode[o] = kk < 2 ? M_TP : M_OPAQUE; /* out, p row-aligned; then the keys' scratch */
        ng->val[o].rows = kk < 2 ? c->S : (mem + 1) * c->S;
    }
    return emit_kept(c, I, id);
}

/* A time-parallel instruction. */
static nc_status time_parallel(conv *c, const nc_ginstr *I)
{
    const nc_graph *g = c->g;
    const nc_op_info *oi = &nc_op_table[I->op];
    int cat[NC_MAX_IN], id[NC_MAX_IN], any_tp = 0, any_seq = 0, opaque = 0;
    if (I->op == NC_OP_ATTENTION || (I->op == NC_OP_CONCAT_ROWS && c->mode[I->in[0]] == M_STATE) ||
        (I->op == NC_OP_SLICE_ROWS && c->mode[I->in[0]] == M_KALL))
        return memory_op(c, I);
    int spos[NC_MAX_IN] = {0}, st0[NC_MAX_IN] = {0}, st1[NC_MAX_IN] = {0};
    for (int j = 0; j < oi->n_in; j++) {
        int u = I->in[j];
        cat[j] = c->mode[u];
        id[j] = c->map[u];
        switch (c->mode[u]) {
        case M_INV: case M_TP: break;
        case M_STEP:
            if (c->T == 1) {
                cat[j] = M_TP;
            } else {
                cat[j] = M_PART;
                spos[j] = c->vpos[u], st0[j] = st1[j] = c->vstep[u];
            }
            break;
        case M_PART: spos[j] = c->vpos[u], st0[j] = c->t0[u], st1[j] = c->t1[u]; break;
        case M_OPAQUE: opaque = 1; break;
        default: return NC_ERR_ARG; /* a state input read outside step 0 */
        }
        any_tp |= cat[j] == M_TP;
        any_seq |= cat[j] == M_PART;
    }
    if (opaque) {
        for (int k = 0; k < oi->n_out; k++) c->mode[I->out[k]] = M_OPAQUE;
        return NC_OK;
    }
    if (I->op == NC_OP_CONCAT_ROWS && any_seq) { /* joining the step outputs */
        if (cat[0] != M_PART || cat[1] != M_PART || spos[0] != spos[1] || st1[0] + 1 != st0[1])
            return NC_ERR_ARG;
        int v = I->out[0];
        if (st0[0] == 0 && (size_t)st1[1] == c->T - 1) {
            c->mode[v] = M_TP;
            c->map[v] = c->map[at(c, 0, spos[0])];
        } else {
            c->mode[v] = M_PART;
            c->vpos[v] = spos[0], c->t0[v] = st0[0], c->t1[v] = st1[1];
        }
        return NC_OK;
    }
    if (any_seq)
        return NC_ERR_ARG; /* rows of single steps mixed into a time-parallel op */
    if (!any_tp) { /* time-invariant: kept as it is */
        for (int k = 0; k < oi->n_out; k++) {
            c->mode[I->out[k]] = M_INV;
            c->map[I->out[k]] = I->out[k];
        }
        return emit_kept(c, I, id);
    }
    int mask = tp_mask((nc_opcode)I->op);
    if (mask < 0)
        return NC_ERR_ARG;
    for (int j = 0; j < oi->n_in; j++)
        if ((cat[j] == M_TP) != ((mask >> j) & 1))
            return NC_ERR_ARG;
    if (I->op == NC_OP_SUM_ALL) { /* sums every row: means something else on S rows */
        for (int k = 0; k < oi->n_out; k++) c->mode[I->out[k]] = M_OPAQUE;
        return NC_OK;
    }
    for (int k = 0; k < oi->n_out; k++) {
        int v = I->out[k];
        c->map[v] = v;
        if (I->op == NC_OP_LOG_SOFTMAX && k == 1) {
            c->mode[v] = M_OPAQUE; /* scratch: holds the last row's buffer */
            continue;
        }
        if (g->val[v].rows != c->T * c->S)
            return NC_ERR_ARG;
        c->mode[v] = M_TP;
        c->ng->val[v].rows = c->S;
    }
    return emit_kept(c, I, id);
}

/* Instruction k of step t. */
static nc_status step_instr(conv *c, const nc_ginstr *I, int t, int k)
{
    const nc_graph *g = c->g;
    const nc_op_info *oi = &nc_op_table[I->op];
    int id[NC_MAX_IN];
    int tp_slice = I->op == NC_OP_SLICE_ROWS && c->mode[I->in[0]] == M_TP;
    if (tp_slice && (I->a != (size_t)t * c->S || I->b != c->S))
        return NC_ERR_ARG; /* a step reads its own rows of a time-parallel value */
    for (int kk = 0; kk < oi->n_out; kk++) {
        int v = I->out[kk];
        c->mode[v] = M_STEP;
        c->vstep[v] = t;
        c->vpos[v] = k * NC_MAX_OUT + kk;
    }
    if (t == 0) {
        for (int j = 0; j < oi->n_in; j++) {
            int u = I->in[j];
            id[j] = c->map[u];
            int m = c->mode[u];
            /* with T = 1 the rows of step 0 are all the rows: a converted graph converts
             * to itself */
            if (!(m == M_INV || m == M_STATE || (m == M_STEP && c->vstep[u] == 0) ||
                  (m == M_TP && (tp_slice || c->T == 1))))
                return NC_ERR_ARG;
            if (m == M_STATE && c->memst[u] >= 0 && c->ismem[c->memst[u]])
                return NC_ERR_ARG; /* a memory state is read by its concat only */
        }
        if (tp_slice) { /* all of the S rows: the value itself */
            c->map[I->out[0]] = id[0];
            return NC_OK;
        }
        for (int kk = 0; kk < oi->n_out; kk++) c->map[I->out[kk]] = I->out[kk];
        return emit_kept(c, I, id);
    }
    /* step t >= 1 against step t-1 */
    const nc_ginstr *J = &g->ins[c->sidx[(size_t)(t - 1) * (size_t)c->n + (size_t)k]];
    if (I->op != J->op || I->acc != J->acc || !same_bits(I->f, J->f) ||
        (!tp_slice && (I->a != J->a || I->b != J->b)))
        return NC_ERR_ARG;
    for (int kk = 0; kk < oi->n_out; kk++) {
        const nc_gvalue *a = &g->val[I->out[kk]], *b = &g->val[J->out[kk]];
        if (a->rows != b->rows || a->cols != b->cols)
            return NC_ERR_ARG;
        c->map[I->out[kk]] = c->map[at(c, 0, c->vpos[I->out[kk]])];
    }
    for (int j = 0; j < oi->n_in; j++) {
        int u = I->in[j], w = J->in[j], want = -1;
        switch (c->mode[w]) {
        case M_INV: case M_TP: want = w; break;
        case M_STEP:
            if (c->vstep[w] == t - 1) /* its own step */
                want = at(c, t, c->vpos[w]);
            else if (c->vstep[w] == t - 2) /* the previous step */
                want = at(c, t - 1, c->vpos[w]);
            break;
        case M_STATE: /* t == 1: the value the state holds after step 0 */
            for (int i = 0; i < g->nstate; i++)
                if (g->state_in[i] == w) {
                    int o = g->state_out[i]; /* vstep, vpos: known before its step runs */
                    if (c->vstep[o] >= 0 && (size_t)c->vstep[o] == c->T - 1)
                        want = at(c, 0, c->vpos[o]);
                }
            break;
        default: break;
        }
        if (want < 0 || u != want)
            return NC_ERR_ARG;
    }
    return NC_OK;
}

static nc_status convert(conv *c)
{
    const nc_graph *g = c->g;
    nc_graph *ng = c->ng;
    /* Steps: every step present with the same count; the k-th instruction of step t comes
     * after the k-th of step t-1 (checked below). Steps may come in several runs (a layer-major
     * model runs all steps of layer 0, time-parallel products, then all steps of layer 1). */
    int maxstep = -1;
    for (int i = 0; i < g->nins; i++) {
        int s = g->ins[i].step;
        if (nc_op_table[g->ins[i].op].flags & NC_OPF_BWD)
            return NC_ERR_ARG;
        if (s > maxstep)
            maxstep = s;
    }
    /* Attention (time-parallel only) gives S and, without step tags, T; memory states are the
     * state inputs a time-parallel concat_rows reads first. */
    int attn = -1;
    for (int i = 0; i < g->nins; i++) {
        const nc_ginstr *I = &g->ins[i];
        if (I->op == NC_OP_ATTENTION) {
            if (I->step >= 0 || (attn >= 0 && I->a != g->ins[attn].a))
                return NC_ERR_ARG;
            if (attn < 0)
                attn = i;
        }
        if (I->op == NC_OP_CONCAT_ROWS && I->step < 0)
            for (int k = 0; k < g->nstate; k++)
                if (g->state_in[k] == I->in[0])
                    c->ismem[k] = 1;
    }
    if (attn < 0 && (maxstep < 0 || g->nstate < 1))
        return NC_ERR_ARG;
    if (attn >= 0) {
        c->S = g->ins[attn].a;
        c->T = maxstep >= 0 ? (size_t)maxstep + 1 : g->val[g->ins[attn].in[0]].rows / c->S;
    } else {
        c->T = (size_t)maxstep + 1;
        c->S = g->val[g->state_in[0]].rows;
    }
    for (int i = 0; i < g->nstate; i++) {
        size_t r = g->val[g->state_in[i]].rows;
        if (c->ismem[i] ? r % c->S != 0 : r != c->S)
            return NC_ERR_ARG;
    }
    if (maxstep >= 0) {
        int *count = calloc(c->T, sizeof *count);
        if (!count)
            return NC_ERR_NOMEM;
        for (int i = 0; i < g->nins; i++)
            if (g->ins[i].step >= 0)
                count[g->ins[i].step]++;
        c->n = count[0];
        int uneven = 0;
        for (size_t t = 0; t < c->T; t++) uneven |= count[t] != c->n;
        free(count);
        if (uneven || c->n == 0)
            return NC_ERR_ARG;
        c->sidx = malloc(c->T * (size_t)c->n * sizeof *c->sidx);
        int *fill = calloc(c->T, sizeof *fill);
        if (!c->sidx || !fill) {
            free(fill);
            return NC_ERR_NOMEM;
        }
        for (int i = 0; i < g->nins; i++) {
            int s = g->ins[i].step;
            if (s >= 0)
                c->sidx[(size_t)s * (size_t)c->n + (size_t)fill[s]++] = i;
        }
        free(fill);
        for (size_t j = (size_t)c->n; j < c->T * (size_t)c->n; j++)
            if (c->sidx[j] < c->sidx[j - (size_t)c->n])
                return NC_ERR_ARG; /* steps out of order */
    }

    /* The new graph: the same values (ids, parameter layout), no marks yet. */
    ng->seed = g->seed;
    ng->nparam = g->nparam;
    ng->nparams_declared = g->nparams_declared;
    for (int v = 0; v < g->nval; v++) {
        const nc_gvalue *x = &g->val[v];
        if (nc_graph_add_value(ng, (nc_vkind)x->kind, (nc_vtype)x->type, x->rows, x->cols) != v)
            return ng->err ? ng->err : NC_ERR_ARG;
        ng->val[v] = *x;
        ng->val[v].flags = 0;
        c->map[v] = -1;
        c->memst[v] = -1;
        if (x->kind == NC_V_PARAM) {
            c->mode[v] = M_INV, c->map[v] = v;
        } else if (x->kind == NC_V_INPUT) {
            c->mode[v] = x->rows == c->T * c->S ? M_TP : M_INV;
            c->map[v] = v;
            if (c->mode[v] == M_TP)
                ng->val[v].rows = c->S;
        }
    }
    for (int i = 0; i < g->nstate; i++) {
        int u = g->state_in[i];
        c->mode[u] = M_STATE;
        c->memst[u] = i;
        ng->val[u].rows = g->val[u].rows; /* S for a carried state, mem*S for a memory */
    }

    /* Where each step value sits (step, place), known ahead: step 1 compares against the place
     * of the state outputs, which the last step writes. */
    for (int v = 0; v < g->nval; v++) c->vstep[v] = -1;
    for (size_t j = 0; j < c->T * (size_t)c->n; j++) {
        const nc_ginstr *I = &g->ins[c->sidx[j]];
        for (int kk = 0; kk < nc_op_table[I->op].n_out; kk++) {
            c->vstep[I->out[kk]] = I->step;
            c->vpos[I->out[kk]] = (int)(j % (size_t)c->n) * NC_MAX_OUT + kk;
        }
    }
    int *k_in_step = calloc(c->T, sizeof *k_in_step);
    if (!k_in_step)
        return NC_ERR_NOMEM;
    nc_status st = NC_OK;
    for (int i = 0; i < g->nins && !st; i++) {
        const nc_ginstr *I = &g->ins[i];
        if (I->step < 0)
            st = time_parallel(c, I);
        else
            st = step_instr(c, I, I->step, k_in_step[I->step]++);
    }
    free(k_in_step);
    if (st)
        return st;

    /* States: the value of the last step in the place of the state output, kept in step 0. */
    for (int i = 0; i < g->nstate; i++) {
        int o = g->state_out[i];
        if (c->ismem[i] ? c->mode[o] != M_MEMOUT || c->memst[o] != i
                        : c->mode[o] != M_STEP || (size_t)c->vstep[o] != c->T - 1 ||
                              c->map[o] < 0)
            return NC_ERR_ARG;
        if (nc_g_state(ng, g->state_in[i], c->map[o]) != NC_OK)
            return NC_ERR_ARG;
    }
    /* Outputs keep their meaning or the conversion fails; the loss is dropped. */
    for (int v = 0; v < g->nval; v++) {
        if (!(g->val[v].flags & NC_VF_OUTPUT) || v == g->loss || is_state_out(c, v))
            continue;
        int m = c->mode[v];
        if (!(m == M_INV || m == M_TP || m == M_STATE || (m == M_STEP && c->T == 1)) ||
            c->map[v] < 0)
            return NC_ERR_ARG;
        ng->val[c->map[v]].flags |= NC_VF_OUTPUT;
    }
    for (int v = 0; v < g->nval; v++)
        if (c->mode[v] == M_OPAQUE || c->mode[v] == M_PART || v == g->loss ||
            (c->mode[v] == M_STEP && c->vstep[v] > 0 && !is_state_out(c, v)))
            c->map[v] = -1;
    return ng->err;
}

/* Where the one-step program holds each value of the segment (nc_timestep_origins). */
static void origins(const conv *c, int *origin, int *src)
{
    for (int v = 0; v < c->g->nval; v++) {
        origin[v] = NC_ORIGIN_NONE;
        src[v] = -1;
        switch (c->mode[v]) {
        case M_INV: origin[v] = NC_ORIGIN_INV; src[v] = c->map[v]; break;
        case M_TP: origin[v] = NC_ORIGIN_TP; src[v] = c->map[v]; break;
        case M_STEP:
            origin[v] = c->vstep[v];
            src[v] = c->map[at(c, 0, c->vpos[v])];
            break;
        case M_KALL: origin[v] = NC_ORIGIN_WINDOW; src[v] = c->map[v]; break;
        /* the memory after the last step is the segment's next memory (memory_op) */
        case M_MEMOUT: origin[v] = (int)c->T - 1; src[v] = c->map[v]; break;
        default: break;
        }
        if (src[v] < 0)
            origin[v] = NC_ORIGIN_NONE;
    }
}

static nc_status timestep(const nc_graph *g, nc_graph **out, int *map, int *origin, int *src,
                          size_t *T)
{
    if (!out)
        return NC_ERR_ARG;
    *out = NULL;
    if (!g || g->err)
        return NC_ERR_ARG;
    conv c;
    memset(&c, 0, sizeof c);
    c.g = g;
    size_t nv = (size_t)g->nval + 1;
    c.ng = nc_graph_new(g->seed);
    c.mode = calloc(nv, 1);
    c.vstep = calloc(nv, sizeof *c.vstep);
    c.vpos = calloc(nv, sizeof *c.vpos);
    c.t0 = calloc(nv, sizeof *c.t0);
    c.t1 = calloc(nv, sizeof *c.t1);
    c.map = calloc(nv, sizeof *c.map);
    c.memst = calloc(nv, sizeof *c.memst);
    c.ismem = calloc((size_t)g->nstate + 1, 1);
    c.memuse = calloc((size_t)g->nstate + 1, 1);
    nc_status st = NC_ERR_NOMEM;
    if (c.ng && c.mode && c.vstep && c.vpos && c.t0 && c.t1 && c.map && c.memst && c.ismem &&
        c.memuse)
        st = convert(&c);
    if (st == NC_OK && map)
        memcpy(map, c.map, (size_t)g->nval * sizeof *map);
    if (st == NC_OK && origin)
        origins(&c, origin, src);
    if (st == NC_OK && T)
        *T = c.T;
    if (st == NC_OK)
        *out = c.ng;
    else
        nc_graph_free(c.ng);
    free(c.sidx);
    free(c.mode);
    free(c.vstep);
    free(c.vpos);
    free(c.t0);
    free(c.t1);
    free(c.map);
    free(c.memst);
    free(c.ismem);
    free(c.memuse);
    return st;
}

nc_status nc_graph_timestep(const nc_graph *g, nc_graph **out, int *map)
{
    return timestep(g, out, map, NULL, NULL, NULL);
}

nc_status nc_timestep_origins(const nc_graph *g, nc_graph **out, int *map, int *origin, int *src,
                              size_t *T)
{
    return timestep(g, out, map, origin, src, T);
}
