/* Autodiff: append the backward program of a graph's forward instructions.
 *
 * Reverse-mode over the linear program: the loss gradient is seeded with 1 (a FILL), then the
 * forward instructions are visited from last to first, and each one whose result has a gradient
 * emits backward instructions contributing to the gradients of its float operands, in operand
 * order. So the contributions to one value arrive in ONE fixed order -- reverse forward order,
 * then operand order -- and the first one WRITES the gradient and every later one ADDS to it:
 * natively where the backward op can accumulate (matmul chains started from the old value,
 * fma for scaled and multiplied terms, row-ordered adds for column sums and scatters), otherwise
 * through a temporary and a COPY with accumulate (g = g + t). Nothing depends on addresses.
 *
 * Only values that depend on a parameter get gradients; INPUT values and indices do not. A
 * parameter's gradient is a GRAD value at the parameter's own offset of the gradient allocation;
 * gradients of activations and temporaries are activations like any other, planned by liveness. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

/* A weight shared by several MATMUL instructions (an LSTM's recurrent weights, used at every
 * step): its gradient is ONE product X^T . DY over the rows of all of them, instead of one
 * accumulation per instruction, each of which would read and write the whole gradient for a few
 * rows. As the backward visits each such instruction it copies its x and dy into rows [off,
 * off + rows) of X and DY (PAD_ROWS: the first visited zero-fills, the others add into their own
 * rows only); after the last one (the earliest in forward order) it emits the product. Rows are
 * in forward order, so dW is one fma chain per element over the rows in that order. */
typedef struct shared {
    int left;          /* instructions not yet visited */
    size_t rows;       /* rows of X and DY */
    int X, DY;         /* created at the first visit */
    int WT;            /* W transposed, made at the first visit: dx = dy . WT reads it in place,
                          where dy . W^T would transpose W again for every few rows */
    int alias;         /* W is read by these MATMULs only: WT may use dW's storage */
} shared;

typedef struct ad {
    nc_graph *g;
    uint8_t *need; /* per forward value: depends on a parameter */
    int nfv;       /* number of forward values */
    shared *sh;    /* per forward value (a parameter): its shared-weight record */
    size_t *off;   /* per forward instruction: its rows' offset in X and DY, or SIZE_MAX */
} ad;

static int needs(const ad *c, int v)
{
    return v >= 0 && v < c->nfv && c->need[v];
}

static int new_act(nc_graph *g, size_t rows, size_t cols, int grad_of)
{
    int t = nc_graph_add_value(g, NC_V_ACT, NC_T_F32, rows, cols);
    if (t >= 0)
        g->val[t].grad_of = grad_of;
    return t;
}

/* The gradient value of v, created now (no contribution yet). */
static int new_grad(nc_graph *g, int v)
{
    int gv;
    if (g->val[v].kind == NC_V_PARAM) {
        gv = nc_graph_add_value(g, NC_V_GRAD, NC_T_F32, g->val[v].rows, g->val[v].cols);
        if (gv >= 0)
            g->val[gv].off = g->val[v].off;
    } else {
        gv = new_act(g, g->val[v].rows, g->val[v].cols, -1);
    }
    if (gv < 0)
        return -1;
    g->val[gv].grad_of = v;
    g->val[v].grad = gv;
    return gv;
}

/* Emit one backward instruction: inputs in[], output k contributing to the gradient of forward
 * value tgt[k], or (tgt[k] < 0) scratch of shape (sr, sc). An output whose value needs no
 * gradient goes to a scratch of that value's shape (the kernel writes it anyway). Nothing is
 * emitted when no output reaches a needed gradient. */
static void bwd(ad *c, nc_opcode op, const int *in, const int *tgt, float f, size_t a, size_t b,
                size_t sr, size_t sc)
{
    nc_graph *g = c->g;
    const nc_op_info *oi = &nc_op_table[op];
    int any = 0;
    for (int k = 0; k < oi->n_out; k++) any |= needs(c, tgt[k]);
    if (!any || g->err)
        return;
    nc_ginstr ins;
    memset(&ins, 0, sizeof ins);
    ins.op = (uint16_t)op;
    ins.step = -1;
    ins.f = f;
    ins.a = a;
    ins.b = b;
    for (int k = 0; k < NC_MAX_IN; k++) ins.in[k] = k < oi->n_in ? in[k] : -1;
    for (int k = 0; k < NC_MAX_OUT; k++) ins.out[k] = -1;
    int post_dst[NC_MAX_OUT], post_src[NC_MAX_OUT], npost = 0;
    for (int k = 0; k < oi->n_out; k++) {
        int v = tgt[k], o;
        if (v < 0) {
            o = new_act(g, sr, sc, -1);
        } else if (!needs(c, v)) {
            o = new_act(g, g->val[v].rows, g->val[v].cols, -1);
        } else {
            int gv = g->val[v].grad, dup = 0;
            for (int j = 0; j < k; j++) dup |= gv >= 0 && ins.out[j] == gv;
            if (gv < 0) {
                o = new_grad(g, v); /* first contribution: writes */
            } else if ((oi->flags & NC_OPF_ACC(k)) && !dup) {
                o = gv;
                ins.acc |= (uint8_t)(1u << k);
            } else {
                o = new_act(g, g->val[v].rows, g->val[v].cols, -1);
                post_dst[npost] = gv;
                post_src[npost++] = o;
            }
        }
        if (o < 0)
            return;
        ins.out[k] = o;
    }
    if (nc_graph_add_instr(g, &ins) < 0)
        return;
    for (int j = 0; j < npost; j++) {
        nc_ginstr cp;
        memset(&cp, 0, sizeof cp);
        cp.op = NC_OP_COPY;
        cp.step = -1;
        cp.acc = 1;
        for (int k = 0; k < NC_MAX_IN; k++) cp.in[k] = -1;
        for (int k = 0; k < NC_MAX_OUT; k++) cp.out[k] = -1;
        cp.in[0] = post_src[j];
        cp.out[0] = post_dst[j];
        if (nc_graph_add_instr(g, &cp) < 0)
            return;
    }
}

/* Shorthands for one-output rules. */
static void bwd1(ad *c, nc_opcode op, int in0, int in1, int in2, int tgt, float f, size_t a,
                 size_t b)
{
    int in[3] = {in0, in1, in2}, t[1] = {tgt};
    bwd(c, op, in, t, f, a, b, 0, 0);
}

/* The gradient of x is dy itself (add, bias add, the first operand of sub): when this is the
 * first contribution to an activation's gradient, the gradient IS dy, without a copy. Safe
 * because dy = d/dy is complete (every reader of y comes later in the forward program, so its
 * backward ran earlier) and is read only by this instruction's other rules, which run before
 * any later contribution accumulates into the shared value. Done for one operand per
 * instruction (two gradients must not share a buffer) and only when x is not also another
 * operand of the instruction. Otherwise a COPY. */
static void pass_through(ad *c, const nc_ginstr *fi, int dy, int x)
{
    nc_graph *g = c->g;
    int other = 0;
    for (int k = 0; k < nc_op_table[fi->op].n_in; k++) other += fi->in[k] == x;
    if (needs(c, x) && g->val[x].grad < 0 && g->val[x].kind == NC_V_ACT && other == 1) {
        g->val[x].grad = dy;
        return;
    }
    bwd1(c, NC_OP_COPY, dy, -1, -1, x, 0, 0, 0);
}

/* ATTENTION: d scores (T*S, H*W) from dy, p and v (ATTN_BWD_P, with a scratch), then
 * dq, dk, dv from them (ATTN_BWD_QKV, contributing in operand order q, k, v), then the bias
 * gradient as the column sum of d scores over rows in increasing order (COL_SUM). */
static void attention_backward(ad *c, const nc_ginstr *fi, int dy)
{
    nc_graph *g = c->g;
    int q = fi->in[0], k = fi->in[1], v = fi->in[2], bias = fi->in[3];
    int p = fi->out[1];
    int ds = new_act(g, g->val[p].rows, g->val[p].cols, -1);
    int vt = new_act(g, g->val[v].rows, g->val[v].cols, -1);
    if (ds < 0 || vt < 0)
        return;
    nc_ginstr ins;
    memset(&ins, 0, sizeof ins);
    ins.op = NC_OP_ATTN_BWD_P;
    ins.step = -1;
    ins.a = fi->a;
    ins.b = fi->b;
    for (int j = 0; j < NC_MAX_IN; j++) ins.in[j] = -1;
    for (int j = 0; j < NC_MAX_OUT; j++) ins.out[j] = -1;
    ins.in[0] = dy;
    ins.in[1] = p;
    ins.in[2] = v;
    ins.out[0] = ds;
    ins.out[1] = vt;
    if (nc_graph_add_instr(g, &ins) < 0)
        return;
    int in[5] = {ds, p, q, k, dy}, t[3] = {q, k, v};
    bwd(c, NC_OP_ATTN_BWD_QKV, in, t, fi->f, fi->a, fi->b, 0, 0);
    bwd1(c, NC_OP_COL_SUM, ds, -1, -1, bias, 0, 0, 0);
}

/* One backward instruction with one input and one output, written as given. */
static void emit1(nc_graph *g, nc_opcode op, int in0, int out0, int acc, size_t a)
{
    nc_ginstr ins;
    memset(&ins, 0, sizeof ins);
    ins.op = (uint16_t)op;
    ins.step = -1;
    ins.acc = (uint8_t)acc;
    ins.a = a;
    for (int j = 0; j < NC_MAX_IN; j++) ins.in[j] = -1;
    for (int j = 0; j < NC_MAX_OUT; j++) ins.out[j] = -1;
    ins.in[0] = in0;
    ins.out[0] = out0;
    nc_graph_add_instr(g, &ins);
}

/* MATMUL whose weight is shared (see struct shared): dx now, dW after the last visit. */
static void shared_matmul(ad *c, const nc_ginstr *fi, int dy, size_t off)
{
    nc_graph *g = c->g;
    int x = fi->in[0], w = fi->in[1];
    shared *r = &c->sh[w];
    if (r->WT < 0) {
        /* WT lives in dW's own storage when nothing else contributes to dW: the one product
         * after the last visit then writes dW over it, once no product reads WT any more. */
        if (r->alias && g->val[w].grad < 0) {
            r->WT = nc_graph_add_value(g, NC_V_GRAD, NC_T_F32, g->val[w].cols, g->val[w].rows);
            if (r->WT >= 0)
                g->val[r->WT].off = g->val[w].off;
        } else {
            r->WT = new_act(g, g->val[w].cols, g->val[w].rows, -1);
        }
        if (r->WT < 0)
            return;
        emit1(g, NC_OP_TRANSPOSE, w, r->WT, 0, 0);
    }
    /* dx += dy . WT: the same products in the same order as dy . W^T, so the same bits */
    bwd1(c, NC_OP_MATMUL, dy, r->WT, -1, x, 0, 0, 0);
    int first = r->X < 0;
    if (first) {
        r->X = new_act(g, r->rows, g->val[x].cols, -1);
        r->DY = new_act(g, r->rows, g->val[dy].cols, -1);
        if (r->X < 0 || r->DY < 0)
            return;
    }
    emit1(g, NC_OP_PAD_ROWS, x, r->X, !first, off);
    emit1(g, NC_OP_PAD_ROWS, dy, r->DY, !first, off);
    if (--r->left == 0)
        bwd1(c, NC_OP_MATMUL_TN, r->X, r->DY, -1, w, 0, 0, 0); /* dW += X^T . DY */
}

static void backward_of(ad *c, const nc_ginstr *fi, int i)
{
    nc_graph *g = c->g;
    int y = fi->out[0], dy = g->val[y].grad;
    int x = fi->in[0], w = fi->in[1];
    if (dy < 0) { /* no gradient reaches this result */
        if (fi->op == NC_OP_MATMUL && c->off[i] != SIZE_MAX) { /* its rows of DY stay zero */
            shared *r = &c->sh[w];
            if (--r->left == 0 && r->X >= 0)
                bwd1(c, NC_OP_MATMUL_TN, r->X, r->DY, -1, w, 0, 0, 0);
        }
        return;
    }
    switch ((nc_opcode)fi->op) {
    case NC_OP_MATMUL:
        if (c->off[i] != SIZE_MAX) {
            shared_matmul(c, fi, dy, c->off[i]);
            break;
        }
        bwd1(c, NC_OP_MATMUL_NT, dy, w, -1, x, 0, 0, 0); /* dx += dy . W^T */
        bwd1(c, NC_OP_MATMUL_TN, x, dy, -1, w, 0, 0, 0); /* dW += x^T . dy */
        break;
    case NC_OP_MATMUL_NT:
        bwd1(c, NC_OP_MATMUL, dy, w, -1, x, 0, 0, 0);    /* dx += dy . W */
        bwd1(c, NC_OP_MATMUL_TN, dy, x, -1, w, 0, 0, 0); /* dW += dy^T . x */
        break;
    case NC_OP_ADD:
        pass_through(c, fi, dy, x);
        bwd1(c, NC_OP_COPY, dy, -1, -1, w, 0, 0, 0);
        break;
    case NC_OP_SUB:
        pass_through(c, fi, dy, x);
        bwd1(c, NC_OP_SCALE, dy, -1, -1, w, -1.0f, 0, 0);
        break;
    case NC_OP_MUL:
        bwd1(c, NC_OP_MUL, dy, w, -1, x, 0, 0, 0);
        bwd1(c, NC_OP_MUL, dy, x, -1, w, 0, 0, 0);
        break;
    case NC_OP_MIN:
        bwd1(c, NC_OP_MIN_BWD, dy, x, w, x, 0, 0, 0);
        bwd1(c, NC_OP_MIN_BWD, dy, x, w, w, 0, 1, 0);
        break;
    case NC_OP_ADD_BIAS:
        pass_through(c, fi, dy, x);
        bwd1(c, NC_OP_COL_SUM, dy, -1, -1, w, 0, 0, 0);
        break;
    case NC_OP_SCALE:
        bwd1(c, NC_OP_SCALE, dy, -1, -1, x, fi->f, 0, 0);
        break;
    case NC_OP_ONE_MINUS:
        bwd1(c, NC_OP_SCALE, dy, -1, -1, x, -1.0f, 0, 0);
        break;
    case NC_OP_SIGMOID:
        bwd1(c, NC_OP_SIGMOID_BWD, dy, y, -1, x, 0, 0, 0);
        break;
    case NC_OP_TANH:
        bwd1(c, NC_OP_TANH_BWD, dy, y, -1, x, 0, 0, 0);
        break;
    case NC_OP_EXP:
        bwd1(c, NC_OP_MUL, dy, y, -1, x, 0, 0, 0);
        break;
    case NC_OP_GELU:
        bwd1(c, NC_OP_GELU_BWD, dy, x, -1, x, 0, 0, 0);
        break;
    case NC_OP_SOFTMAX:
    case NC_OP_LOG_SOFTMAX: {
        int in[2] = {dy, y}, t[2] = {x, -1};
        bwd(c, fi->op == NC_OP_SOFTMAX ? NC_OP_SOFTMAX_BWD : NC_OP_LOG_SOFTMAX_BWD, in, t, 0, 0,
            0, 1, g->val[y].cols);
        break;
    }
    case NC_OP_CROSS_ENTROPY:
        bwd1(c, NC_OP_CE_BWD, dy, w, -1, x, 0, 0, 0);
        break;
    case NC_OP_RMSNORM: {
        int in[4] = {dy, x, w, fi->out[1]}, t[2] = {x, w};
        bwd(c, NC_OP_RMSNORM_BWD, in, t, 0, 0, 0, 0, 0);
        break;
    }
    case NC_OP_LAYERNORM: {
        int in[5] = {dy, x, w, fi->out[1], fi->out[2]}, t[3] = {x, w, fi->in[2]};
        bwd(c, NC_OP_LAYERNORM_BWD, in, t, 0, 0, 0, 0, 0);
        break;
    }
    case NC_OP_GATHER:
        bwd1(c, NC_OP_GATHER_BWD, dy, w, -1, x, 0, 0, 0);
        break;
    case NC_OP_CONCAT_COLS:
        bwd1(c, NC_OP_SLICE_COLS, dy, -1, -1, x, 0, 0, g->val[x].cols);
        bwd1(c, NC_OP_SLICE_COLS, dy, -1, -1, w, 0, g->val[x].cols, g->val[w].cols);
        break;
    case NC_OP_CONCAT_ROWS:
        bwd1(c, NC_OP_SLICE_ROWS, dy, -1, -1, x, 0, 0, g->val[x].rows);
        bwd1(c, NC_OP_SLICE_ROWS, dy, -1, -1, w, 0, g->val[x].rows, g->val[w].rows);
        break;
    case NC_OP_SLICE_COLS:
        bwd1(c, NC_OP_PAD_COLS, dy, -1, -1, x, 0, fi->a, 0);
        break;
    case NC_OP_SLICE_ROWS:
        bwd1(c, NC_OP_PAD_ROWS, dy, -1, -1, x, 0, fi->a, 0);
        break;
    case NC_OP_SUM_ALL:
        bwd1(c, NC_OP_SUM_ALL_BWD, dy, -1, -1, x, 0, 0, 0);
        break;
    case NC_OP_TRANSPOSE:
        bwd1(c, NC_OP_TRANSPOSE, dy, -1, -1, x, 0, 0, 0);
        break;
    case NC_OP_RESHAPE:
        bwd1(c, NC_OP_RESHAPE, dy, -1, -1, x, 0, g->val[x].rows, g->val[x].cols);
        break;
    case NC_OP_ATTENTION:
        attention_backward(c, fi, dy);
        break;
    default:
        /* backward-only ops never appear in a forward program */
        if (g->err == NC_OK)
            g->err = NC_ERR_ARG;
        break;
    }
}

/* Find the weights used by two or more MATMULs whose results need gradients, and give each such
 * instruction its rows' offset (forward order). */
/* A MATMUL whose weight is a parameter and whose result needs a gradient. */
static int weight_matmul(const ad *c, const nc_ginstr *fi)
{
    return fi->op == NC_OP_MATMUL && c->g->val[fi->in[1]].kind == NC_V_PARAM &&
           c->need[fi->out[0]];
}

static void find_shared(ad *c)
{
    nc_graph *g = c->g;
    for (int v = 0; v < g->nval; v++) c->sh[v] = (shared){0, 0, -1, -1, -1, 1};
    for (int i = 0; i < g->nins; i++) {
        const nc_ginstr *fi = &g->ins[i];
        int mine = weight_matmul(c, fi);
        c->off[i] = SIZE_MAX;
        if (mine)
            c->sh[fi->in[1]].left++;
        for (int k = 0; k < nc_op_table[fi->op].n_in; k++) /* any other read of a weight */
            if (fi->in[k] >= 0 && (!mine || k != 1))
                c->sh[fi->in[k]].alias = 0;
    }
    for (int i = 0; i < g->nins; i++) {
        const nc_ginstr *fi = &g->ins[i];
        shared *r = weight_matmul(c, fi) ? &c->sh[fi->in[1]] : NULL;
        if (!r || r->left < 2)
            continue;
        c->off[i] = r->rows;
        r->rows += g->val[fi->in[0]].rows;
    }
    for (int v = 0; v < g->nval; v++)
        if (c->sh[v].left < 2)
            c->sh[v].left = 0;
}

nc_status nc_autodiff(nc_graph *g)
{
    ad c = {g, calloc((size_t)(g->nval ? g->nval : 1), 1), g->nval,
            malloc((size_t)(g->nval ? g->nval : 1) * sizeof(shared)),
            malloc((size_t)(g->nins ? g->nins : 1) * sizeof(size_t))};
    if (!c.need || !c.sh || !c.off) {
        free(c.need), free(c.sh), free(c.off);
        return NC_ERR_NOMEM;
    }
    g->step = -1; /* backward instructions are time-parallel */
    for (int v = 0; v < g->nval; v++) c.need[v] = g->val[v].kind == NC_V_PARAM;
    for (int i = 0; i < g->nins; i++) {
        const nc_ginstr *fi = &g->ins[i];
        int any = 0;
        for (int k = 0; k < nc_op_table[fi->op].n_in; k++) any |= c.need[fi->in[k]];
        c.need[fi->out[0]] = (uint8_t)any; /* saved statistics and scratch get no gradient */
    }
    int nfwd = g->nins;
    find_shared(&c);
    if (c.need[g->loss]) {
        int seed = new_grad(g, g->loss);
        if (seed >= 0) {
            nc_ginstr fill;
            memset(&fill, 0, sizeof fill);
            fill.op = NC_OP_FILL;
            fill.step = -1;
            fill.f = 1.0f;
            for (int k = 0; k < NC_MAX_IN; k++) fill.in[k] = -1;
            for (int k = 0; k < NC_MAX_OUT; k++) fill.out[k] = -1;
            fill.out[0] = seed;
            nc_graph_add_instr(g, &fill);
        }
        for (int i = nfwd - 1; i >= 0 && g->err == NC_OK; i--) {
            nc_ginstr fi = g->ins[i]; /* a copy: emitting may move g->ins */
            backward_of(&c, &fi, i);
        }
    }
    free(c.need);
    free(c.sh);
    free(c.off);
    return g->err;
}
