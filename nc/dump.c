/* Text listings of graphs and programs (nc_graph_dump, nc_program_dump), for debugging and docs.
 * Written into the caller's buffer as snprintf does: the library never prints. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "graph_internal.h"

typedef struct sbuf {
    char *buf;
    size_t cap, len;
} sbuf;

static void put(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *dst = s->len < s->cap ? s->buf + s->len : NULL;
    size_t room = s->len < s->cap ? s->cap - s->len : 0;
    int n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        s->len += (size_t)n;
}

static const char *kind_name(const nc_gvalue *v)
{
    static const char *const names[] = {"param", "grad", "input", "act"};
    if (v->type == NC_T_U32)
        return "index";
    return names[v->kind];
}

/* Values (with their offsets where planned), then one line per instruction. */
static void dump_body(sbuf *s, const nc_gvalue *val, int nval, const nc_ginstr *ins, int nins,
                      int planned)
{
    for (int v = 0; v < nval; v++) {
        const nc_gvalue *x = &val[v];
        if (planned && x->kind == NC_V_ACT && x->off == SIZE_MAX)
            continue; /* dropped */
        put(s, "  v%-3d %-5s (%zu,%zu)", v, kind_name(x), x->rows, x->cols);
        if (x->kind == NC_V_PARAM || x->kind == NC_V_GRAD || (planned && x->kind == NC_V_ACT))
            put(s, " @%zu", x->off);
        if (x->grad_of >= 0)
            put(s, " d/dv%d", x->grad_of);
        if (x->flags & NC_VF_LOSS)
            put(s, " loss");
        else if (x->flags & NC_VF_OUTPUT)
            put(s, " output");
        put(s, "\n");
    }
    for (int i = 0; i < nins; i++) {
        const nc_ginstr *in = &ins[i];
        const nc_op_info *oi = &nc_op_table[in->op];
        put(s, "%4d %-15s", i, oi->name);
        for (int k = 0; k < oi->n_out; k++)
            put(s, " v%d%s(%zu,%zu)", in->out[k], (in->acc >> k) & 1 ? "+=" : "",
                val[in->out[k]].rows, val[in->out[k]].cols);
        put(s, " <-");
        for (int k = 0; k < oi->n_in; k++)
            put(s, " v%d(%zu,%zu)", in->in[k], val[in->in[k]].rows, val[in->in[k]].cols);
        switch (in->op) {
        case NC_OP_SCALE: case NC_OP_FILL: case NC_OP_RMSNORM: case NC_OP_LAYERNORM:
            put(s, " f=%g", (double)in->f);
            break;
        case NC_OP_SLICE_COLS: case NC_OP_SLICE_ROWS:
            put(s, " [%zu,+%zu)", in->a, in->b);
            break;
        case NC_OP_ATTENTION: case NC_OP_ATTN_BWD_QKV:
            put(s, " S=%zu H=%zu f=%g", in->a, in->b, (double)in->f);
            break;
        case NC_OP_ATTN_BWD_P:
            put(s, " S=%zu H=%zu", in->a, in->b);
            break;
        case NC_OP_MIN_BWD: case NC_OP_PAD_COLS: case NC_OP_PAD_ROWS:
            put(s, " a=%zu", in->a);
            break;
        default:
            break;
        }
        if (in->step >= 0)
            put(s, " step=%d", in->step);
        put(s, "\n");
    }
}

size_t nc_program_dump(const nc_program *p, char *buf, size_t cap)
{
    sbuf s = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    if (!p)
        return 0;
    size_t planned, naive;
    nc_program_workspace(p, &planned, &naive);
    put(&s, "program: %d values, %d instructions (%d forward), %zu params, workspace %zu bytes"
            " (%zu without reuse)\n",
        p->nval, p->nins, p->nfwd, p->nparam, planned, naive);
    dump_body(&s, p->val, p->nval, p->ins, p->nins, 1);
    return s.len;
}

size_t nc_graph_dump(const nc_graph *g, char *buf, size_t cap)
{
    sbuf s = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    if (!g)
        return 0;
    put(&s, "graph: %d values, %d instructions, %zu params", g->nval, g->nins, g->nparam);
    if (g->err)
        put(&s, ", error: %s", nc_status_str(g->err));
    put(&s, "\n");
    dump_body(&s, g->val, g->nval, g->ins, g->nins, 0);
    return s.len;
}
