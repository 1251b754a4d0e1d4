/* The interpreter: runs a compiled program's instructions in order with the dispatched kernels.
 *
 * Every instruction is one or a few calls of the NC_KERNELS table, the softmax family or
 * nc_matmul*, so its bits are those kernels' canonical bits on every ISA. The few element-wise
 * formulas written here (1 - x, the sigmoid/tanh derivatives, the min mask, broadcasts) are plain
 * IEEE operations per element under -ffp-contract=off: each element's result is fixed by its own
 * operands, whatever the vectoriser does. Matrix products split their output over the pool. The
 * element-wise and row-wise instructions (run_part) are split too when they are big enough: by
 * element ranges or by row ranges, each element or row computed by exactly one chunk with its own
 * canonical order; sums over rows (norm gains, column sums, scatter-add) are never split by rows,
 * only by columns, or stay sequential. So the thread count, and whether the pool is used at all,
 * cannot change a bit. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

static float *fptr(nc_program *p, int v)
{
    const nc_gvalue *x = &p->val[v];
    switch ((nc_vkind)x->kind) {
    case NC_V_PARAM: return p->params + x->off;
    case NC_V_GRAD: return p->grads + x->off;
    case NC_V_INPUT: return (float *)(uintptr_t)p->bound[v];
    case NC_V_ACT: break;
    }
    return p->ws + x->off;
}

static const uint32_t *iptr(const nc_program *p, int v)
{
    return p->bound[v];
}

static void zero(float *y, size_t n)
{
    memset(y, 0, n * sizeof *y);
}

/* ATTENTION and its backward split over (stream, head) units: each unit reads and writes rows
 * and columns no other unit writes, and its operation order is fixed inside the kernel, so the
 * thread count never changes a bit. */
typedef struct attn_job {
    const nc_kernel_table *k;
    int op;
    nc_attn_dims d;
    float *o0, *o1, *o2;
    const float *i0, *i1, *i2, *i3, *i4;
    float f;
    unsigned acc;
} attn_job;

static void attn_chunk(void *arg, size_t c)
{
    const attn_job *j = arg;
    size_t s = c / j->d.heads, h = c % j->d.heads;
    if (j->op == NC_OP_ATTENTION)
        j->k->nc_attn_fwd(j->o0, j->o1, j->o2, j->i0, j->i1, j->i2, j->i3, j->f, &j->d, s, h);
    else if (j->op == NC_OP_ATTN_BWD_P)
        j->k->nc_attn_bwd_p(j->o0, j->o1, j->i0, j->i1, j->i2, &j->d, s, h);
    else
        j->k->nc_attn_bwd_qkv(j->o0, j->o1, j->o2, j->i0, j->i1, j->i2, j->i3, j->i4, j->f,
                              &j->d, s, h, j->acc);
}

static void run_attention(nc_program *p, const nc_ginstr *in, nc_pool *pool,
                          const nc_kernel_table *k)
{
    attn_job j;
    memset(&j, 0, sizeof j);
    j.k = k;
    j.op = in->op;
    j.f = in->f;
    j.acc = in->acc;
    j.d.S = in->a;
    j.d.heads = in->b;
    const nc_gvalue *x0 = &p->val[in->in[0]], *x1 = &p->val[in->in[1]];
    float *o[NC_MAX_OUT] = {NULL, NULL, NULL};
    const float *i[NC_MAX_IN] = {NULL, NULL, NULL, NULL, NULL};
    for (int n = 0; n < NC_MAX_OUT; n++)
        if (in->out[n] >= 0)
            o[n] = fptr(p, in->out[n]);
    for (int n = 0; n < NC_MAX_IN; n++)
        if (in->in[n] >= 0)
            i[n] = fptr(p, in->in[n]);
    if (in->op == NC_OP_ATTENTION) { /* q, k, v, bias */
        j.d.T = x0->rows / j.d.S;
        j.d.mem = (x1->rows - x0->rows) / j.d.S;
        j.d.dk = x0->cols / j.d.heads;
        j.d.dv = p->val[in->in[2]].cols / j.d.heads;
    } else if (in->op == NC_OP_ATTN_BWD_P) { /* dout, p, v (dk is not used) */
        j.d.T = x0->rows / j.d.S;
        j.d.mem = x1->cols / j.d.heads - 1;
        j.d.dv = x0->cols / j.d.heads;
    } else { /* ds, p, q, k, dout */
        const nc_gvalue *vq = &p->val[in->in[2]], *vk = &p->val[in->in[3]];
        j.d.T = vq->rows / j.d.S;
        j.d.mem = (vk->rows - vq->rows) / j.d.S;
        j.d.dk = vq->cols / j.d.heads;
        j.d.dv = p->val[in->in[4]].cols / j.d.heads;
    }
    j.o0 = o[0], j.o1 = o[1], j.o2 = o[2];
    j.i0 = i[0], j.i1 = i[1], j.i2 = i[2], j.i3 = i[3], j.i4 = i[4];
    nc_pool_for(pool, j.d.S * j.d.heads, attn_chunk, &j);
}

/* ---- element-wise and row-wise instructions, on a part ------------------------------------------
 * run_part computes instruction `in` on elements [lo, hi) (element-wise ops) or output rows
 * [lo, hi) (row-wise ops); for the norm backward ops, phase 1 accumulates dg (and db) on columns
 * [lo, hi) over all rows in increasing row order. s0, s1: the op's scratch (log-softmax rows),
 * or where phase 0 of a norm backward puts dg and db. run_whole runs the whole instruction,
 * either as one part or split over the pool; every split gives the sequential bits because each
 * element's or row's operation order is fixed by the kernels, not by the range it is in. */

/* Work (output elements) from which an instruction is split over the pool. Only speed depends on
 * it: a split never changes a bit. */
/* Instructions of at least this many floats of work are split over the pool. Measured on this
 * 2-core VM (docs/benchmarks.md): handing an instruction of tens of microseconds to the second
 * thread costs more than it saves (per-timestep steps 2.6-2.9x slower, training 6-24 % slower),
 * so by default only very large instructions split. NNZIP_SPLIT_MIN=n in the environment (read
 * once) sets it, for tests and measurement; it never changes a bit, only who computes. */
#define PAR_MIN_WORK_DEFAULT ((size_t)1 << 20)

static size_t par_min_work(void)
{
    static size_t v;
    if (!v) {
        const char *e = getenv("NNZIP_SPLIT_MIN");
        unsigned long long n = e ? strtoull(e, NULL, 10) : 0;
        v = n ? (size_t)n : PAR_MIN_WORK_DEFAULT;
    }
    return v;
}

static void run_part(nc_program *p, const nc_ginstr *in, const nc_kernel_table *k, int phase,
                     size_t lo, size_t hi, float *s0, float *s1)
{
    const nc_gvalue *vo = &p->val[in->out[0]], *v0 = &p->val[in->in[0] >= 0 ? in->in[0] : 0];
    float *y = fptr(p, in->out[0]);
    const float *a = in->in[0] >= 0 ? fptr(p, in->in[0]) : NULL;
    const float *b = in->in[1] >= 0 ? fptr(p, in->in[1]) : NULL;
    size_t N = vo->cols, m = hi - lo, ro = lo * N; /* m elements or rows; ro: first row's offset */
    int acc = in->acc & 1;

    switch ((nc_opcode)in->op) {
    /* element-wise: elements [lo, hi) */
    case NC_OP_ADD: k->nc_add(y + lo, a + lo, b + lo, m); break;
    case NC_OP_SUB: k->nc_sub(y + lo, a + lo, b + lo, m); break;
    case NC_OP_MUL:
        if (acc)
            k->nc_muladd(y + lo, a + lo, b + lo, y + lo, m);
        else
            k->nc_mul(y + lo, a + lo, b + lo, m);
        break;
    case NC_OP_MIN: k->nc_min(y + lo, a + lo, b + lo, m); break;
    case NC_OP_SCALE:
        if (acc)
            k->nc_axpy(y + lo, a + lo, in->f, m);
        else
            k->nc_scale(y + lo, a + lo, in->f, m);
        break;
    case NC_OP_ONE_MINUS:
        for (size_t i = lo; i < hi; i++) y[i] = 1.0f - a[i];
        break;
    case NC_OP_SIGMOID: k->nc_vsigmoid(y + lo, a + lo, m); break;
    case NC_OP_TANH: k->nc_vtanh(y + lo, a + lo, m); break;
    case NC_OP_EXP: k->nc_vexp(y + lo, a + lo, m); break;
    case NC_OP_GELU: k->nc_vgelu(y + lo, a + lo, m); break;
    case NC_OP_SLICE_ROWS: /* rows [in->a, ...) of a: element i of y is element in->a*N + i */
        if (acc)
            k->nc_add(y + lo, y + lo, a + in->a * N + lo, m);
        else
            memcpy(y + lo, a + in->a * N + lo, m * sizeof *y);
        break;
    case NC_OP_COPY:
        if (acc)
            k->nc_add(y + lo, y + lo, a + lo, m);
        else
            memcpy(y + lo, a + lo, m * sizeof *y);
        break;
    case NC_OP_FILL:
        for (size_t i = lo; i < hi; i++) y[i] = in->f;
        break;
    case NC_OP_SIGMOID_BWD: /* a = dy, b = y */
        for (size_t i = lo; i < hi; i++) y[i] = a[i] * (b[i] * (1.0f - b[i]));
        break;
    case NC_OP_TANH_BWD:
        for (size_t i = lo; i < hi; i++) y[i] = a[i] * (1.0f - b[i] * b[i]);
        break;
    case NC_OP_GELU_BWD: /* a = dy, b = x */
        k->nc_vgelu_grad(y + lo, b + lo, m);
        k->nc_mul(y + lo, y + lo, a + lo, m);
        break;
    case NC_OP_MIN_BWD: { /* a = dy, b = first operand, in[2] = second; min took b when b < c */
        const float *c = fptr(p, in->in[2]);
        for (size_t i = lo; i < hi; i++) {
            int first = b[i] < c[i];
            y[i] = (in->a == 0) == first ? a[i] : 0.0f;
        }
        break;
    }
    case NC_OP_SUM_ALL_BWD:
        for (size_t i = lo; i < hi; i++) y[i] = acc ? y[i] + a[0] : a[0];
        break;
    /* row-wise: output rows [lo, hi) */
    case NC_OP_ADD_BIAS: k->nc_add_bias(y + ro, a + ro, b, m, N); break;
    case NC_OP_SOFTMAX: nc_softmax_forward(y + ro, a + ro, m, N); break;
    case NC_OP_LOG_SOFTMAX: nc_log_softmax_forward(y + ro, s0, a + ro, m, N); break;
    case NC_OP_SOFTMAX_BWD: nc_softmax_backward(y + ro, s0, a + ro, b + ro, m, N); break;
    case NC_OP_LOG_SOFTMAX_BWD: nc_log_softmax_backward(y + ro, s0, a + ro, b + ro, m, N); break;
    case NC_OP_RMSNORM:
        k->nc_rmsnorm_forward(y + ro, fptr(p, in->out[1]) + lo, a + ro, b, in->f, m, N);
        break;
    case NC_OP_LAYERNORM:
        k->nc_layernorm_forward(y + ro, fptr(p, in->out[1]) + lo, fptr(p, in->out[2]) + lo,
                                a + ro, b, fptr(p, in->in[2]), in->f, m, N);
        break;
    case NC_OP_CONCAT_COLS: {
        size_t na = v0->cols, nb = p->val[in->in[1]].cols;
        for (size_t r = lo; r < hi; r++) {
            memcpy(y + r * N, a + r * na, na * sizeof *y);
            memcpy(y + r * N + na, b + r * nb, nb * sizeof *y);
        }
        break;
    }
    case NC_OP_SLICE_COLS: /* columns [in->a, in->a + N) of a */
        for (size_t r = lo; r < hi; r++) {
            const float *src = a + r * v0->cols + in->a;
            if (acc)
                k->nc_add(y + r * N, y + r * N, src, N);
            else
                memcpy(y + r * N, src, N * sizeof *y);
        }
        break;
    case NC_OP_SUM_ALL: /* phase 0: the row sums of rows [lo, hi) of a into out[1] */
        k->nc_row_sum(fptr(p, in->out[1]) + lo, a + lo * v0->cols, m, v0->cols);
        break;
    case NC_OP_RMSNORM_BWD: { /* dy, x, g, rstd -> dx, dg */
        const float *g = fptr(p, in->in[2]), *rstd = fptr(p, in->in[3]);
        if (phase == 0) { /* dx of rows [lo, hi); their dg terms go to s0 */
            k->nc_rmsnorm_backward(y + ro, s0, a + ro, b + ro, g, rstd + lo, m, N);
            break;
        }
        /* phase 1, columns [lo, hi): dg = fma(dy, x*rstd, dg) over rows in increasing order,
         * the kernel's own formula; s0 holds x*rstd */
        float *dg = fptr(p, in->out[1]);
        for (size_t r = 0; r < vo->rows; r++) {
            k->nc_scale(s0, b + r * N + lo, rstd[r], m);
            k->nc_muladd(dg + lo, a + r * N + lo, s0, dg + lo, m);
        }
        break;
    }
    case NC_OP_LAYERNORM_BWD: { /* dy, x, g, mean, rstd -> dx, dg, db */
        const float *g = fptr(p, in->in[2]), *mean = fptr(p, in->in[3]);
        const float *rstd = fptr(p, in->in[4]);
        if (phase == 0) {
            k->nc_layernorm_backward(y + ro, s0, s1, a + ro, b + ro, g, mean + lo, rstd + lo, m,
                                     N);
            break;
        }
        /* phase 1: xhat = (x - mean)*rstd in s0; dg = fma(dy, xhat, dg); db = db + dy */
        float *dg = fptr(p, in->out[1]), *db = fptr(p, in->out[2]);
        for (size_t r = 0; r < vo->rows; r++) {
            k->nc_row_sub(s0, b + r * N + lo, mean + r, 1, m);
            k->nc_scale(s0, s0, rstd[r], m);
            k->nc_muladd(dg + lo, a + r * N + lo, s0, dg + lo, m);
            k->nc_add(db + lo, db + lo, a + r * N + lo, m);
        }
        break;
    }
    default:
        assert(0);
    }
}

/* How an instruction splits: 0 not at all (run_one does it), 1 by elements, 2 by output rows. */
static int split_kind(nc_opcode op)
{
    switch (op) {
    case NC_OP_ADD: case NC_OP_SUB: case NC_OP_MUL: case NC_OP_MIN: case NC_OP_SCALE:
    case NC_OP_ONE_MINUS: case NC_OP_SIGMOID: case NC_OP_TANH: case NC_OP_EXP: case NC_OP_GELU:
    case NC_OP_SLICE_ROWS: case NC_OP_COPY: case NC_OP_FILL: case NC_OP_SIGMOID_BWD:
    case NC_OP_TANH_BWD: case NC_OP_GELU_BWD: case NC_OP_MIN_BWD: case NC_OP_SUM_ALL_BWD:
        return 1;
    case NC_OP_ADD_BIAS: case NC_OP_SOFTMAX: case NC_OP_LOG_SOFTMAX: case NC_OP_SOFTMAX_BWD:
    case NC_OP_LOG_SOFTMAX_BWD: case NC_OP_RMSNORM: case NC_OP_LAYERNORM:
    case NC_OP_CONCAT_COLS: case NC_OP_SLICE_COLS: case NC_OP_SUM_ALL: case NC_OP_RMSNORM_BWD:
    case NC_OP_LAYERNORM_BWD:
        return 2;
    default:
        return 0;
    }
}

typedef struct part_job {
    nc_program *p;
    const nc_ginstr *in;
    const nc_kernel_table *k;
    int phase, elems;  /* elems: split [0, count) at multiples of 16 (whole vectors) */
    size_t count, nchunks;
    float *scratch;    /* nchunks * stride floats */
    size_t stride;     /* 0: no scratch */
    size_t s1_off;     /* s1 = s0 + s1_off (LayerNorm backward's db), 0: no s1 */
    float *last_s0;    /* the last chunk's s0 (the op's own scratch value), or NULL */
} part_job;

static void part_chunk(void *arg, size_t c)
{
    const part_job *j = arg;
    size_t lo = j->count * c / j->nchunks, hi = j->count * (c + 1) / j->nchunks;
    if (j->elems) {
        lo -= lo % 16;
        hi = c + 1 == j->nchunks ? j->count : hi - hi % 16;
    }
    float *s0 = j->stride ? j->scratch + c * j->stride : NULL;
    if (c + 1 == j->nchunks && j->last_s0)
        s0 = j->last_s0;
    float *s1 = j->s1_off ? s0 + j->s1_off : NULL;
    run_part(j->p, j->in, j->k, j->phase, lo, hi, s0, s1);
}

static nc_status run_whole(nc_program *p, const nc_ginstr *in, nc_pool *pool,
                           const nc_kernel_table *k)
{
    const nc_gvalue *vo = &p->val[in->out[0]];
    size_t M = vo->rows, N = vo->cols, work = M * N;
    int kind = split_kind((nc_opcode)in->op);
    size_t count = kind == 1 ? M * N : M, stride = 0;
    float *s0 = NULL, *s1 = NULL; /* what one whole part uses */
    switch ((nc_opcode)in->op) {
    case NC_OP_LOG_SOFTMAX:
    case NC_OP_SOFTMAX_BWD:
    case NC_OP_LOG_SOFTMAX_BWD:
        s0 = fptr(p, in->out[1]);
        stride = N;
        break;
    case NC_OP_SUM_ALL: {
        const nc_gvalue *v0 = &p->val[in->in[0]];
        count = v0->rows;
        work = v0->rows * v0->cols;
        break;
    }
    case NC_OP_RMSNORM_BWD:
        s0 = fptr(p, in->out[1]);
        if (!((in->acc >> 1) & 1))
            zero(s0, N);
        stride = N;
        break;
    case NC_OP_LAYERNORM_BWD:
        s0 = fptr(p, in->out[1]), s1 = fptr(p, in->out[2]);
        if (!((in->acc >> 1) & 1))
            zero(s0, N);
        if (!((in->acc >> 2) & 1))
            zero(s1, N);
        stride = 2 * N;
        break;
    default:
        break;
    }

    size_t T = (size_t)nc_pool_threads(pool);
    int split = T > 1 && work >= par_min_work() && count >= T;
    float *scratch = NULL;
    if (split && stride) {
        scratch = calloc(T * stride, sizeof *scratch);
        split = scratch != NULL; /* without memory: the same bits sequentially */
    }
    if (!split) {
        run_part(p, in, k, 0, 0, count, s0, s1);
    } else {
        int norm_bwd = in->op == NC_OP_RMSNORM_BWD || in->op == NC_OP_LAYERNORM_BWD;
        part_job j = {p, in, k, 0, kind == 1, count, T, scratch, stride,
                      in->op == NC_OP_LAYERNORM_BWD ? N : 0, norm_bwd ? NULL : s0};
        nc_pool_for(pool, T, part_chunk, &j);
        if (norm_bwd) { /* dg (db) summed over rows: split by columns, never by rows */
            j.phase = 1;
            j.count = N;
            nc_pool_for(pool, T, part_chunk, &j);
        }
    }
    free(scratch);
    if (in->op == NC_OP_SUM_ALL) { /* the row sums over rows in increasing order from +0 */
        float *y = fptr(p, in->out[0]);
        y[0] = 0.0f;
        k->nc_col_sum_acc(y, fptr(p, in->out[1]), count, 1);
    }
    return NC_OK;
}

static nc_status run_one(nc_program *p, const nc_ginstr *in, nc_pool *pool,
                         const nc_kernel_table *k)
{
    if (split_kind((nc_opcode)in->op))
        return run_whole(p, in, pool, k);

    const nc_gvalue *vo = &p->val[in->out[0]], *v0 = in->in[0] >= 0 ? &p->val[in->in[0]] : NULL;
    const nc_gvalue *v1 = in->in[1] >= 0 ? &p->val[in->in[1]] : NULL;
    float *y = fptr(p, in->out[0]);
    const float *a = in->in[0] >= 0 ? fptr(p, in->in[0]) : NULL;
    const float *b = NULL;
    if (in->in[1] >= 0 && !(nc_op_table[in->op].flags & NC_OPF_IDX1))
        b = fptr(p, in->in[1]);
    size_t M = vo->rows, N = vo->cols, n = M * N;
    int acc = in->acc & 1;

    switch ((nc_opcode)in->op) {
    case NC_OP_MATMUL: /* a(M,K) . b(K,N) */
        nc_matmul(pool, y, N, a, v0->cols, b, N, M, N, v0->cols, acc);
        break;
    case NC_OP_MATMUL_NT: /* a(M,K) . b(N,K)^T */
        nc_matmul_nt(pool, y, N, a, v0->cols, b, v1->cols, M, N, v0->cols, acc);
        break;
    case NC_OP_MATMUL_TN: /* a(K,M)^T . b(K,N) */
        nc_matmul_tn(pool, y, N, a, v0->cols, b, N, M, N, v0->rows, acc);
        break;
    case NC_OP_CROSS_ENTROPY:
        return nc_cross_entropy(y, a, iptr(p, in->in[1]), M, v0->cols);
    case NC_OP_GATHER:
        return k->nc_gather_rows(y, a, iptr(p, in->in[1]), M, N, v0->rows);
    case NC_OP_CONCAT_ROWS:
        memcpy(y, a, v0->rows * N * sizeof *y);
        memcpy(y + v0->rows * N, b, v1->rows * N * sizeof *y);
        break;
    case NC_OP_TRANSPOSE: /* a (N,M) -> y (M,N), in 32 x 32 tiles (the order never matters:
                           * each element is a copy or one addition) */
        for (size_t r0 = 0; r0 < M; r0 += 32)
            for (size_t c0 = 0; c0 < N; c0 += 32)
                for (size_t r = r0; r < M && r < r0 + 32; r++)
                    for (size_t c = c0; c < N && c < c0 + 32; c++)
                        y[r * N + c] = acc ? y[r * N + c] + a[c * M + r] : a[c * M + r];
        break;
    case NC_OP_RESHAPE:
        if (acc)
            k->nc_add(y, y, a, n);
        else
            memcpy(y, a, n * sizeof *y);
        break;
    case NC_OP_ATTENTION: case NC_OP_ATTN_BWD_P: case NC_OP_ATTN_BWD_QKV:
        run_attention(p, in, pool, k);
        break;
    case NC_OP_CE_BWD: { /* a = dloss (M,1): dlogp[r][t_r] = -dloss[r], zero elsewhere */
        const uint32_t *t = iptr(p, in->in[1]);
        for (size_t r = 0; r < M; r++)
            if (t[r] >= N)
                return NC_ERR_ARG;
        zero(y, n);
        for (size_t r = 0; r < M; r++) y[r * N + t[r]] = -a[r];
        break;
    }
    case NC_OP_GATHER_BWD: { /* dy (R,N), idx (R) -> dtable (M,N) */
        const uint32_t *idx = iptr(p, in->in[1]);
        for (size_t r = 0; r < v0->rows; r++)
            if (idx[r] >= M)
                return NC_ERR_ARG;
        if (!acc)
            zero(y, n);
        return k->nc_scatter_add_rows(y, a, idx, v0->rows, N, M);
    }
    case NC_OP_COL_SUM:
        if (!acc)
            zero(y, n);
        k->nc_col_sum_acc(y, a, v0->rows, N);
        break;
    case NC_OP_PAD_COLS: /* a (M, na) into columns [in->a, in->a + na) */
        if (!acc)
            zero(y, n);
        for (size_t r = 0; r < M; r++) {
            float *dst = y + r * N + in->a;
            if (acc)
                k->nc_add(dst, dst, a + r * v0->cols, v0->cols);
            else
                memcpy(dst, a + r * v0->cols, v0->cols * sizeof *y);
        }
        break;
    case NC_OP_PAD_ROWS: {
        float *dst = y + in->a * N;
        size_t m = v0->rows * N;
        if (acc) {
            k->nc_add(dst, dst, a, m);
        } else {
            zero(y, n);
            memcpy(dst, a, m * sizeof *y);
        }
        break;
    }
    case NC_OP_ADD: case NC_OP_SUB: case NC_OP_MUL: case NC_OP_MIN: case NC_OP_SCALE:
    case NC_OP_ONE_MINUS: case NC_OP_SIGMOID: case NC_OP_TANH: case NC_OP_EXP: case NC_OP_GELU:
    case NC_OP_SLICE_ROWS: case NC_OP_COPY: case NC_OP_FILL: case NC_OP_SIGMOID_BWD:
    case NC_OP_TANH_BWD: case NC_OP_GELU_BWD: case NC_OP_MIN_BWD: case NC_OP_SUM_ALL_BWD:
    case NC_OP_ADD_BIAS: case NC_OP_SOFTMAX: case NC_OP_LOG_SOFTMAX: case NC_OP_SOFTMAX_BWD:
    case NC_OP_LOG_SOFTMAX_BWD: case NC_OP_RMSNORM: case NC_OP_LAYERNORM:
    case NC_OP_CONCAT_COLS: case NC_OP_SLICE_COLS: case NC_OP_SUM_ALL: case NC_OP_RMSNORM_BWD:
    case NC_OP_LAYERNORM_BWD: /* run_whole, above */
    case NC_OP_COUNT:
        assert(0);
        return NC_ERR_ARG;
    }
    return NC_OK;
}

static nc_status run_range(nc_program *p, nc_pool *pool, int lo, int hi)
{
    for (int i = lo; i < hi; i++)
        for (int j = 0; j < NC_MAX_IN; j++) {
            int v = p->ins[i].in[j];
            if (v >= 0 && p->val[v].kind == NC_V_INPUT && !p->bound[v])
                return NC_ERR_ARG;
        }
    const nc_kernel_table *k = nc_kernels();
    for (int i = lo; i < hi; i++) {
        if (p->trace)
            p->trace(p->trace_ctx, i, 0);
        nc_status st = run_one(p, &p->ins[i], pool, k);
        if (p->trace)
            p->trace(p->trace_ctx, i, 1);
        if (st)
            return st;
    }
    return NC_OK;
}

void nc_program_set_trace(nc_program *p, void (*fn)(void *ctx, int instr, int phase), void *ctx)
{
    if (!p)
        return;
    p->trace = fn;
    p->trace_ctx = ctx;
}

nc_status nc_program_forward(nc_program *p, nc_pool *pool)
{
    if (!p)
        return NC_ERR_ARG;
    p->forward_done = 0;
    nc_status st = run_range(p, pool, 0, p->nfwd);
    p->forward_done = st == NC_OK;
    return st;
}

nc_status nc_program_backward(nc_program *p, nc_pool *pool)
{
    if (!p || !p->forward_done)
        return NC_ERR_ARG;
    p->forward_done = 0;
    return run_range(p, pool, p->nfwd, p->nins);
}

nc_status nc_program_run(nc_program *p, nc_pool *pool)
{
    nc_status st = nc_program_forward(p, pool);
    return st ? st : nc_program_backward(p, pool);
}
