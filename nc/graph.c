/* Model bytecode: the op table, the graph builder with its sticky error, and the fingerprint.
 *
 * A graph is a list of values (2-D tensors identified by small integer ids) and a linear list of
 * instructions over them, in the order the model code called the builders. Every builder checks
 * its operands' ids, kinds and shapes and records the first error in the graph; after that every
 * builder returns -1 at once, so model code needs no error checks between calls. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

const nc_op_info nc_op_table[NC_OP_COUNT] = {
#define OP(name, nin, nout, flags) {#name, nin, nout, flags},
#include "ops.def"
#undef OP
};

nc_graph *nc_graph_new(uint64_t seed)
{
    nc_graph *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->seed = seed;
    g->loss = -1;
    g->step = -1;
    return g;
}

void nc_graph_free(nc_graph *g)
{
    if (!g)
        return;
    free(g->val);
    free(g->ins);
    free(g->state_in);
    free(g->state_out);
    free(g);
}

nc_status nc_graph_status(const nc_graph *g)
{
    return g ? g->err : NC_ERR_ARG;
}

int nc_graph_value_count(const nc_graph *g)
{
    return g ? g->nval : 0;
}

nc_status nc_graph_shape(const nc_graph *g, int v, size_t *rows, size_t *cols)
{
    if (!g || v < 0 || v >= g->nval)
        return NC_ERR_ARG;
    if (rows)
        *rows = g->val[v].rows;
    if (cols)
        *cols = g->val[v].cols;
    return NC_OK;
}

static int fail(nc_graph *g, nc_status s)
{
    if (g->err == NC_OK)
        g->err = s;
    return -1;
}

int nc_graph_add_value(nc_graph *g, nc_vkind kind, nc_vtype type, size_t rows, size_t cols)
{
    if (g->err)
        return -1;
    if (rows < 1 || cols < 1 || rows > NC_GRAPH_MAX_ELEMS || cols > NC_GRAPH_MAX_ELEMS ||
        rows * cols > NC_GRAPH_MAX_ELEMS)
        return fail(g, NC_ERR_ARG);
    if (g->nval == g->capval) {
        int cap = g->capval ? 2 * g->capval : 32;
        if (cap > (1 << 24))
            return fail(g, NC_ERR_LIMIT);
        nc_gvalue *v = realloc(g->val, (size_t)cap * sizeof *v);
        if (!v)
            return fail(g, NC_ERR_NOMEM);
        g->val = v;
        g->capval = cap;
    }
    nc_gvalue *v = &g->val[g->nval];
    memset(v, 0, sizeof *v);
    v->kind = (uint8_t)kind;
    v->type = (uint8_t)type;
    v->rows = rows;
    v->cols = cols;
    v->grad = -1;
    v->grad_of = -1;
    return g->nval++;
}

int nc_graph_add_instr(nc_graph *g, const nc_ginstr *in)
{
    if (g->err)
        return -1;
    if (g->nins == g->capins) {
        int cap = g->capins ? 2 * g->capins : 32;
        if (cap > (1 << 24))
            return fail(g, NC_ERR_LIMIT);
        nc_ginstr *p = realloc(g->ins, (size_t)cap * sizeof *p);
        if (!p)
            return fail(g, NC_ERR_NOMEM);
        g->ins = p;
        g->capins = cap;
    }
    g->ins[g->nins] = *in;
    return g->nins++;
}

/* ---- builders ---------------------------------------------------------------------------------- */

int nc_g_param(nc_graph *g, size_t rows, size_t cols, nc_init init, float a)
{
    if (!g || g->err)
        return -1;
    if (init != NC_INIT_UNIFORM && init != NC_INIT_CONST)
        return fail(g, NC_ERR_ARG);
    int v = nc_graph_add_value(g, NC_V_PARAM, NC_T_F32, rows, cols);
    if (v < 0)
        return -1;
    if (g->nparam > ((size_t)1 << 40)) /* keeps every offset far from overflow */
        return fail(g, NC_ERR_LIMIT);
    g->val[v].off = g->nparam;
    g->val[v].init = (uint8_t)init;
    g->val[v].init_a = a;
    g->nparam += rows * cols;
    return v;
}

int nc_g_input(nc_graph *g, size_t rows, size_t cols)
{
    if (!g || g->err)
        return -1;
    return nc_graph_add_value(g, NC_V_INPUT, NC_T_F32, rows, cols);
}

int nc_g_index(nc_graph *g, size_t n)
{
    if (!g || g->err)
        return -1;
    return nc_graph_add_value(g, NC_V_INPUT, NC_T_U32, n, 1);
}

/* The operand check shared by all builders: a float value of this graph. */
static int fval(const nc_graph *g, int v)
{
    return v >= 0 && v < g->nval && g->val[v].type == NC_T_F32;
}

/* Append instruction op with inputs in[] and new outputs of the given shapes; returns output 0. */
static int emit(nc_graph *g, nc_opcode op, const int *in, const size_t (*shape)[2], float f,
                size_t a, size_t b)
{
    const nc_op_info *oi = &nc_op_table[op];
    nc_ginstr ins;
    memset(&ins, 0, sizeof ins);
    ins.op = (uint16_t)op;
    ins.step = (int16_t)g->step;
    ins.f = f;
    ins.a = a;
    ins.b = b;
    for (int k = 0; k < NC_MAX_IN; k++) ins.in[k] = k < oi->n_in ? in[k] : -1;
    for (int k = 0; k < NC_MAX_OUT; k++) {
        ins.out[k] = -1;
        if (k < oi->n_out) {
            ins.out[k] = nc_graph_add_value(g, NC_V_ACT, NC_T_F32, shape[k][0], shape[k][1]);
            if (ins.out[k] < 0)
                return -1;
        }
    }
    if (nc_graph_add_instr(g, &ins) < 0)
        return -1;
    return ins.out[0];
}

#define ROWS(v) (g->val[v].rows)
#define COLS(v) (g->val[v].cols)
#define GUARD(cond)                                                                            \
    do {                                                                                       \
        if (!g || g->err)                                                                      \
            return -1;                                                                         \
        if (!(cond))                                                                           \
            return fail(g, NC_ERR_ARG);                                                        \
    } while (0)

static int unary(nc_graph *g, nc_opcode op, int x, float f)
{
    GUARD(fval(g, x));
    size_t sh[1][2] = {{ROWS(x), COLS(x)}};
    return emit(g, op, &x, sh, f, 0, 0);
}

static int binary(nc_graph *g, nc_opcode op, int a, int b)
{
    GUARD(fval(g, a) && fval(g, b) && ROWS(a) == ROWS(b) && COLS(a) == COLS(b));
    int in[2] = {a, b};
    size_t sh[1][2] = {{ROWS(a), COLS(a)}};
    return emit(g, op, in, sh, 0, 0, 0);
}

int nc_g_add(nc_graph *g, int a, int b) { return binary(g, NC_OP_ADD, a, b); }
int nc_g_sub(nc_graph *g, int a, int b) { return binary(g, NC_OP_SUB, a, b); }
int nc_g_mul(nc_graph *g, int a, int b) { return binary(g, NC_OP_MUL, a, b); }
int nc_g_min(nc_graph *g, int a, int b) { return binary(g, NC_OP_MIN, a, b); }
int nc_g_scale(nc_graph *g, int x, float s) { return unary(g, NC_OP_SCALE, x, s); }
int nc_g_one_minus(nc_graph *g, int x) { return unary(g, NC_OP_ONE_MINUS, x, 0); }
int nc_g_sigmoid(nc_graph *g, int x) { return unary(g, NC_OP_SIGMOID, x, 0); }
int nc_g_tanh(nc_graph *g, int x) { return unary(g, NC_OP_TANH, x, 0); }
int nc_g_exp(nc_graph *g, int x) { return unary(g, NC_OP_EXP, x, 0); }
int nc_g_gelu(nc_graph *g, int x) { return unary(g, NC_OP_GELU, x, 0); }
int nc_g_softmax(nc_graph *g, int x) { return unary(g, NC_OP_SOFTMAX, x, 0); }

int nc_g_log_softmax(nc_graph *g, int x)
{
    GUARD(fval(g, x));
    size_t sh[2][2] = {{ROWS(x), COLS(x)}, {1, COLS(x)}};
    return emit(g, NC_OP_LOG_SOFTMAX, &x, sh, 0, 0, 0);
}

int nc_g_matmul(nc_graph *g, int x, int w)
{
    GUARD(fval(g, x) && fval(g, w) && COLS(x) == ROWS(w));
    int in[2] = {x, w};
    size_t sh[1][2] = {{ROWS(x), COLS(w)}};
    return emit(g, NC_OP_MATMUL, in, sh, 0, 0, 0);
}

int nc_g_matmul_nt(nc_graph *g, int x, int w)
{
    GUARD(fval(g, x) && fval(g, w) && COLS(x) == COLS(w));
    int in[2] = {x, w};
    size_t sh[1][2] = {{ROWS(x), ROWS(w)}};
    return emit(g, NC_OP_MATMUL_NT, in, sh, 0, 0, 0);
}

int nc_g_add_bias(nc_graph *g, int x, int b)
{
    GUARD(fval(g, x) && fval(g, b) && ROWS(b) == 1 && COLS(b) == COLS(x));
    int in[2] = {x, b};
    size_t sh[1][2] = {{ROWS(x), COLS(x)}};
    return emit(g, NC_OP_ADD_BIAS, in, sh, 0, 0, 0);
}

static int idx_of_len(const nc_graph *g, int v, size_t n)
{
    return v >= 0 && v < g->nval && g->val[v].type == NC_T_U32 && g->val[v].rows == n;
}

int nc_g_cross_entropy(nc_graph *g, int logp, int target)
{
    GUARD(fval(g, logp) && idx_of_len(g, target, ROWS(logp)));
    int in[2] = {logp, target};
    size_t sh[1][2] = {{ROWS(logp), 1}};
    return emit(g, NC_OP_CROSS_ENTROPY, in, sh, 0, 0, 0);
}

int nc_g_rmsnorm(nc_graph *g, int x, int gain, float eps)
{
    GUARD(fval(g, x) && fval(g, gain) && ROWS(gain) == 1 && COLS(gain) == COLS(x));
    int in[2] = {x, gain};
    size_t sh[2][2] = {{ROWS(x), COLS(x)}, {ROWS(x), 1}};
    return emit(g, NC_OP_RMSNORM, in, sh, eps, 0, 0);
}

int nc_g_layernorm(nc_graph *g, int x, int gain, int bias, float eps)
{
    GUARD(fval(g, x) && fval(g, gain) && fval(g, bias) && ROWS(gain) == 1 &&
          COLS(gain) == COLS(x) && ROWS(bias) == 1 && COLS(bias) == COLS(x));
    int in[3] = {x, gain, bias};
    size_t sh[3][2] = {{ROWS(x), COLS(x)}, {ROWS(x), 1}, {ROWS(x), 1}};
    return emit(g, NC_OP_LAYERNORM, in, sh, eps, 0, 0);
}

int nc_g_gather(nc_graph *g, int table, int idx)
{
    GUARD(fval(g, table) && idx >= 0 && idx < g->nval && g->val[idx].type == NC_T_U32);
    int in[2] = {table, idx};
    size_t sh[1][2] = {{ROWS(idx), COLS(table)}};
    return emit(g, NC_OP_GATHER, in, sh, 0, 0, 0);
}

int nc_g_concat_cols(nc_graph *g, int a, int b)
{
    GUARD(fval(g, a) && fval(g, b) && ROWS(a) == ROWS(b));
    int in[2] = {a, b};
    size_t sh[1][2] = {{ROWS(a), COLS(a) + COLS(b)}};
    return emit(g, NC_OP_CONCAT_COLS, in, sh, 0, 0, 0);
}

int nc_g_slice_cols(nc_graph *g, int x, size_t c0, size_t n)
{
    GUARD(fval(g, x) && n >= 1 && c0 < COLS(x) && n <= COLS(x) - c0);
    size_t sh[1][2] = {{ROWS(x), n}};
    return emit(g, NC_OP_SLICE_COLS, &x, sh, 0, c0, n);
}

int nc_g_concat_rows(nc_graph *g, int a, int b)
{
    GUARD(fval(g, a) && fval(g, b) && COLS(a) == COLS(b));
    int in[2] = {a, b};
    size_t sh[1][2] = {{ROWS(a) + ROWS(b), COLS(a)}};
    return emit(g, NC_OP_CONCAT_ROWS, in, sh, 0, 0, 0);
}

int nc_g_slice_rows(nc_graph *g, int x, size_t r0, size_t n)
{
    GUARD(fval(g, x) && n >= 1 && r0 < ROWS(x) && n <= ROWS(x) - r0);
    size_t sh[1][2] = {{n, COLS(x)}};
    return emit(g, NC_OP_SLICE_ROWS, &x, sh, 0, r0, n);
}

/* n values joined as a balanced tree of binary concats: O(n log n) copies instead of the O(n^2)
 * of a chain; the recursion fixes the instruction order. */
static int concat_n(nc_graph *g, int (*cat)(nc_graph *, int, int), const int *v, size_t n)
{
    if (n == 1) {
        GUARD(fval(g, v[0]));
        return v[0];
    }
    int a = concat_n(g, cat, v, n / 2);
    int b = concat_n(g, cat, v + n / 2, n - n / 2);
    return cat(g, a, b);
}

int nc_g_concat_rows_n(nc_graph *g, const int *v, size_t n)
{
    GUARD(v && n >= 1);
    return concat_n(g, nc_g_concat_rows, v, n);
}

int nc_g_concat_cols_n(nc_graph *g, const int *v, size_t n)
{
    GUARD(v && n >= 1);
    return concat_n(g, nc_g_concat_cols, v, n);
}

int nc_g_transpose(nc_graph *g, int x)
{
    GUARD(fval(g, x));
    size_t sh[1][2] = {{COLS(x), ROWS(x)}};
    return emit(g, NC_OP_TRANSPOSE, &x, sh, 0, 0, 0);
}

int nc_g_reshape(nc_graph *g, int x, size_t rows, size_t cols)
{
    GUARD(fval(g, x) && rows >= 1 && cols >= 1 && rows <= NC_GRAPH_MAX_ELEMS &&
          cols <= NC_GRAPH_MAX_ELEMS && rows * cols == ROWS(x) * COLS(x));
    size_t sh[1][2] = {{rows, cols}};
    return emit(g, NC_OP_RESHAPE, &x, sh, 0, rows, cols);
}

int nc_g_attention(nc_graph *g, int q, int k, int v, int bias, size_t streams, size_t heads,
                   float scale)
{
    GUARD(fval(g, q) && fval(g, k) && fval(g, v) && fval(g, bias) && streams >= 1 &&
          heads >= 1 && streams <= NC_GRAPH_MAX_ELEMS && heads <= NC_GRAPH_MAX_ELEMS);
    size_t S = streams, H = heads;
    GUARD(ROWS(q) % S == 0 && ROWS(k) >= ROWS(q) && (ROWS(k) - ROWS(q)) % S == 0 &&
          ROWS(v) == ROWS(k) && COLS(q) == COLS(k) && COLS(q) % H == 0 && COLS(v) % H == 0);
    size_t W = (ROWS(k) - ROWS(q)) / S + 1, dk = COLS(q) / H, dv = COLS(v) / H;
    (void)dv;
    GUARD(W <= NC_GRAPH_MAX_ELEMS / H && ROWS(bias) == 1 && COLS(bias) == H * W);
    int in[4] = {q, k, v, bias};
    size_t sh[3][2] = {{ROWS(q), COLS(v)}, {ROWS(q), H * W}, {ROWS(k), H * dk}};
    return emit(g, NC_OP_ATTENTION, in, sh, scale, S, H);
}

int nc_g_sum_all(nc_graph *g, int x)
{
    GUARD(fval(g, x));
    size_t sh[2][2] = {{1, 1}, {ROWS(x), 1}};
    return emit(g, NC_OP_SUM_ALL, &x, sh, 0, 0, 0);
}

nc_status nc_g_output(nc_graph *g, int v)
{
    if (!g)
        return NC_ERR_ARG;
    if (g->err)
        return g->err;
    if (!fval(g, v))
        return fail(g, NC_ERR_ARG), g->err;
    g->val[v].flags |= NC_VF_OUTPUT;
    return NC_OK;
}

nc_status nc_g_loss(nc_graph *g, int v)
{
    if (!g)
        return NC_ERR_ARG;
    if (g->err)
        return g->err;
    if (!fval(g, v) || g->val[v].kind != NC_V_ACT || ROWS(v) != 1 || COLS(v) != 1 ||
        g->loss >= 0)
        return fail(g, NC_ERR_ARG), g->err;
    g->val[v].flags |= NC_VF_OUTPUT | NC_VF_LOSS;
    g->loss = v;
    return NC_OK;
}

nc_status nc_g_step(nc_graph *g, int t)
{
    if (!g)
        return NC_ERR_ARG;
    if (g->err)
        return g->err;
    if (t < -1 || t > INT16_MAX)
        return fail(g, NC_ERR_ARG), g->err;
    g->step = t;
    return NC_OK;
}

nc_status nc_g_state(nc_graph *g, int in, int out)
{
    if (!g)
        return NC_ERR_ARG;
    if (g->err)
        return g->err;
    if (!fval(g, in) || !fval(g, out) || g->val[in].kind != NC_V_INPUT || in == out ||
        ROWS(in) != ROWS(out) || COLS(in) != COLS(out))
        return fail(g, NC_ERR_ARG), g->err;
    for (int i = 0; i < g->nstate; i++)
        if (g->state_in[i] == in)
            return fail(g, NC_ERR_ARG), g->err;
    if (g->nstate == g->capstate) {
        int cap = g->capstate ? 2 * g->capstate : 8;
        int *a = realloc(g->state_in, (size_t)cap * sizeof *a);
        if (!a)
            return fail(g, NC_ERR_NOMEM), g->err;
        g->state_in = a;
        int *b = realloc(g->state_out, (size_t)cap * sizeof *b);
        if (!b)
            return fail(g, NC_ERR_NOMEM), g->err;
        g->state_out = b;
        g->capstate = cap;
    }
    g->state_in[g->nstate] = in;
    g->state_out[g->nstate] = out;
    g->nstate++;
    g->val[out].flags |= NC_VF_OUTPUT; /* read after each run to carry the state */
    return NC_OK;
}

/* ---- fingerprint ------------------------------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t x)
{
    for (int i = 0; i < 8; i++) h = (h ^ ((x >> (8 * i)) & 0xFF)) * 0x100000001B3ull; /* FNV-1a */
    return h;
}

static uint64_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

uint64_t nc_graph_fingerprint(const nc_graph *g)
{
    if (!g)
        return 0;
    uint64_t h = 0xCBF29CE484222325ull;
    h = mix(h, g->seed);
    h = mix(h, (uint64_t)g->err);
    h = mix(h, (uint64_t)g->nval);
    h = mix(h, (uint64_t)g->nins);
    for (int v = 0; v < g->nval; v++) {
        const nc_gvalue *x = &g->val[v];
        h = mix(h, (uint64_t)x->kind | (uint64_t)x->type << 8 | (uint64_t)x->flags << 16 |
                       (uint64_t)x->init << 24);
        h = mix(h, fbits(x->init_a));
        h = mix(h, x->rows);
        h = mix(h, x->cols);
    }
    for (int i = 0; i < g->nins; i++) {
        const nc_ginstr *in = &g->ins[i];
        h = mix(h, (uint64_t)in->op | (uint64_t)in->acc << 16 | (uint64_t)(uint16_t)in->step << 32);
        for (int k = 0; k < NC_MAX_IN; k++) h = mix(h, (uint64_t)(int64_t)in->in[k]);
        for (int k = 0; k < NC_MAX_OUT; k++) h = mix(h, (uint64_t)(int64_t)in->out[k]);
        h = mix(h, fbits(in->f));
        h = mix(h, in->a);
        h = mix(h, in->b);
    }
    for (int i = 0; i < g->nstate; i++) /* graphs without states keep their old fingerprints */
        h = mix(h, (uint64_t)(uint32_t)g->state_in[i] | (uint64_t)(uint32_t)g->state_out[i] << 32);
    return h;
}
