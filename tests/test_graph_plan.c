/* Model bytecode, planner and interpreter determinism: workspace reuse never changes a bit
 * (NC_COMPILE_NO_REUSE / NNZIP_NO_REUSE=1), the plan is a pure function of the program, dead code
 * is dropped, and the same program gives identical outputs and gradients under every supported
 * ISA and with 1, 2 and 3 threads.
 *
 * `test_graph_plan dump` prints the program of the example in docs/architecture.md (the bytecode section). */
#include <string.h>

#include "harness.h"
#include "nc/nc.h"

static uint64_t rng = 0x91A40003;

#define GOLDEN 0xb129360326734a09ull /* since shared weights get one dW product (autodiff.c) */
#define GOLDEN_FINGERPRINT 0x692bd4d5fc0b87b0ull

static float frand(void)
{
    return (float)((int32_t)(test_rand64(&rng) >> 40) - (1 << 23)) * 0x1p-23f;
}

/* An LSTM-style model over T steps of S streams, rows time-major (row = t*S + s). */
typedef struct lstm {
    nc_graph *g;
    int sym, tgt, h0, c0, ce, loss, dead;
    int params[6];
    size_t S, T, H, V;
} lstm;

static void lstm_build(lstm *m, size_t S, size_t T, size_t E, size_t H, size_t V, int with_dead)
{
    nc_graph *g = m->g = nc_graph_new(77);
    m->S = S, m->T = T, m->H = H, m->V = V;
    int emb = nc_g_param(g, V, E, NC_INIT_UNIFORM, 1.0f);
    int W = nc_g_param(g, E + H, 4 * H, NC_INIT_UNIFORM, 0.3f);
    int bias = nc_g_param(g, 1, 4 * H, NC_INIT_CONST, 0.0f);
    int gain = nc_g_param(g, 1, H, NC_INIT_CONST, 1.0f);
    int Wout = nc_g_param(g, H, V, NC_INIT_UNIFORM, 0.3f);
    int unused = nc_g_param(g, 3, 3, NC_INIT_UNIFORM, 1.0f);
    int pv[6] = {emb, W, bias, gain, Wout, unused};
    memcpy(m->params, pv, sizeof pv);
    m->sym = nc_g_index(g, T * S);
    m->tgt = nc_g_index(g, T * S);
    int h = m->h0 = nc_g_input(g, S, H), c = m->c0 = nc_g_input(g, S, H);
    int x = nc_g_gather(g, emb, m->sym), hs = -1;
    for (size_t t = 0; t < T; t++) {
        int xt = nc_g_slice_rows(g, x, t * S, S);
        int z = nc_g_add_bias(g, nc_g_matmul(g, nc_g_concat_cols(g, xt, h), W), bias);
        int f = nc_g_sigmoid(g, nc_g_slice_cols(g, z, 0, H));
        int i = nc_g_sigmoid(g, nc_g_slice_cols(g, z, H, H));
        int gg = nc_g_tanh(g, nc_g_slice_cols(g, z, 2 * H, H));
        int o = nc_g_sigmoid(g, nc_g_slice_cols(g, z, 3 * H, H));
        /* one builder call per statement where two operands are built: C leaves the order of
         * argument evaluation unspecified, and the instruction order is part of the program */
        int cf = nc_g_mul(g, c, f);
        int ig = nc_g_mul(g, nc_g_min(g, nc_g_one_minus(g, f), i), gg);
        c = nc_g_add(g, cf, ig);
        h = nc_g_mul(g, o, nc_g_tanh(g, c));
        hs = hs < 0 ? h : nc_g_concat_rows(g, hs, h);
    }
    m->dead = with_dead ? nc_g_gelu(g, nc_g_exp(g, hs)) : -1; /* reaches nothing */
    int logits = nc_g_matmul(g, nc_g_rmsnorm(g, hs, gain, 1e-5f), Wout);
    m->ce = nc_g_cross_entropy(g, nc_g_log_softmax(g, logits), m->tgt);
    m->loss = nc_g_sum_all(g, m->ce);
    nc_g_output(g, m->ce);
    nc_g_loss(g, m->loss);
    REQUIRE(nc_graph_status(g) == NC_OK);
}

typedef struct inputs {
    uint32_t *sym, *tgt;
    float *h0, *c0;
} inputs;

static void inputs_make(inputs *in, const lstm *m)
{
    size_t R = m->T * m->S;
    in->sym = malloc(R * sizeof *in->sym);
    in->tgt = malloc(R * sizeof *in->tgt);
    in->h0 = malloc(m->S * m->H * sizeof(float));
    in->c0 = malloc(m->S * m->H * sizeof(float));
    REQUIRE(in->sym && in->tgt && in->h0 && in->c0);
    for (size_t r = 0; r < R; r++) {
        in->sym[r] = test_rand_below(&rng, (uint32_t)m->V);
        in->tgt[r] = test_rand_below(&rng, (uint32_t)m->V);
    }
    for (size_t k = 0; k < m->S * m->H; k++) {
        in->h0[k] = 0.5f * frand();
        in->c0[k] = 0.5f * frand();
    }
}

static void inputs_free(inputs *in)
{
    free(in->sym);
    free(in->tgt);
    free(in->h0);
    free(in->c0);
}

static nc_program *compile_bound(const lstm *m, const inputs *in, unsigned flags)
{
    nc_program *p = NULL;
    REQUIRE(nc_graph_compile(m->g, flags, &p) == NC_OK);
    REQUIRE(nc_program_bind(p, m->sym, in->sym) == NC_OK);
    REQUIRE(nc_program_bind(p, m->tgt, in->tgt) == NC_OK);
    REQUIRE(nc_program_bind(p, m->h0, in->h0) == NC_OK);
    REQUIRE(nc_program_bind(p, m->c0, in->c0) == NC_OK);
    return p;
}

/* Everything a run produces: per-row losses, the loss, every gradient. */
typedef struct result {
    float *ce, loss, *grads;
    size_t nce, ngrad;
} result;

static void result_take(result *r, nc_program *p, const lstm *m)
{
    const float *g = nc_program_grads(p, &r->ngrad);
    r->nce = m->T * m->S;
    r->ce = malloc(r->nce * sizeof(float));
    r->grads = malloc(r->ngrad * sizeof(float));
    REQUIRE(r->ce && r->grads);
    memcpy(r->ce, nc_program_value(p, m->ce), r->nce * sizeof(float));
    memcpy(r->grads, g, r->ngrad * sizeof(float));
    r->loss = nc_program_value(p, m->loss)[0];
}

static int result_same(const result *a, const result *b)
{
    return a->nce == b->nce && a->ngrad == b->ngrad &&
           memcmp(a->ce, b->ce, a->nce * sizeof(float)) == 0 &&
           memcmp(&a->loss, &b->loss, sizeof(float)) == 0 &&
           memcmp(a->grads, b->grads, a->ngrad * sizeof(float)) == 0;
}

static void result_free(result *r)
{
    free(r->ce);
    free(r->grads);
}

static char *dump(const nc_program *p)
{
    size_t n = nc_program_dump(p, NULL, 0);
    char *s = malloc(n + 1);
    REQUIRE(s);
    nc_program_dump(p, s, n + 1);
    return s;
}

static int instr_count(const nc_program *p)
{
    char *s = dump(p);
    int nv = 0, ni = -1;
    sscanf(s, "program: %d values, %d instructions", &nv, &ni);
    free(s);
    return ni;
}

static void test_reuse_identity(void)
{
    lstm m;
    inputs in;
    lstm_build(&m, 4, 8, 16, 32, 64, 0);
    inputs_make(&in, &m);
    nc_program *p = compile_bound(&m, &in, NC_COMPILE_GRAD);
    nc_program *q = compile_bound(&m, &in, NC_COMPILE_GRAD | NC_COMPILE_NO_REUSE);
    size_t pp, pn, qp, qn;
    nc_program_workspace(p, &pp, &pn);
    nc_program_workspace(q, &qp, &qn);
    printf("LSTM S=4 T=8 E=16 H=32 V=64 with backward: workspace %zu bytes planned, %zu without "
           "reuse (%.1f%%)\n", pp, pn, 100.0 * (double)pp / (double)pn);
    CHECK(pn == qn && qp == qn);
    if (getenv("NNZIP_NO_REUSE") && strcmp(getenv("NNZIP_NO_REUSE"), "1") == 0)
        CHECK_MSG(pp == pn, "NNZIP_NO_REUSE=1 must give every value its own slot");
    else
        CHECK(pp < pn / 2);
    result a, b;
    REQUIRE(nc_program_run(p, NULL) == NC_OK && nc_program_run(q, NULL) == NC_OK);
    result_take(&a, p, &m);
    result_take(&b, q, &m);
    CHECK_MSG(result_same(&a, &b), "workspace reuse changed a result");
    /* a second run over the recycled workspace is the same again */
    REQUIRE(nc_program_run(p, NULL) == NC_OK);
    result_free(&b);
    result_take(&b, p, &m);
    CHECK(result_same(&a, &b));
    /* forward, read the outputs, backward: the same bits as one run */
    CHECK(nc_program_backward(p, NULL) == NC_ERR_ARG); /* no forward before it */
    REQUIRE(nc_program_forward(p, NULL) == NC_OK);
    CHECK(memcmp(nc_program_value(p, m.ce), a.ce, a.nce * sizeof(float)) == 0);
    REQUIRE(nc_program_backward(p, NULL) == NC_OK);
    CHECK(nc_program_backward(p, NULL) == NC_ERR_ARG); /* once per forward */
    result_free(&b);
    result_take(&b, p, &m);
    CHECK(result_same(&a, &b));
    /* the unused parameter's gradient is zero; the others are not all zero */
    const float *gu = nc_program_grad(p, m.params[5]), *gw = nc_program_grad(p, m.params[1]);
    int zero = 1, nonzero = 0;
    for (int k = 0; k < 9; k++) zero &= gu[k] == 0.0f;
    for (int k = 0; k < 100; k++) nonzero |= gw[k] != 0.0f;
    CHECK(zero && nonzero);
    result_free(&a);
    result_free(&b);

    /* the plan is a pure function of the program: compiling again gives the same listing */
    nc_program *r = compile_bound(&m, &in, NC_COMPILE_GRAD);
    char *d1 = dump(p), *d2 = dump(r);
    CHECK(strcmp(d1, d2) == 0);
    free(d1);
    free(d2);
    nc_program_free(p);
    nc_program_free(q);
    nc_program_free(r);
    inputs_free(&in);
    nc_graph_free(m.g);
}

/* Equal graphs have equal fingerprints; building the same maths in another order does not. */
static void test_fingerprint(void)
{
    nc_graph *g[3];
    for (int k = 0; k < 3; k++) {
        g[k] = nc_graph_new(5);
        int a = nc_g_param(g[k], 2, 3, NC_INIT_UNIFORM, 1.0f);
        int e, t;
        if (k < 2) {
            e = nc_g_exp(g[k], a);
            t = nc_g_tanh(g[k], a);
        } else { /* what gcc makes of nc_g_add(g, nc_g_exp(g, a), nc_g_tanh(g, a)) */
            t = nc_g_tanh(g[k], a);
            e = nc_g_exp(g[k], a);
        }
        nc_g_loss(g[k], nc_g_sum_all(g[k], nc_g_add(g[k], e, t)));
    }
    CHECK(nc_graph_fingerprint(g[0]) == nc_graph_fingerprint(g[1]));
    CHECK(nc_graph_fingerprint(g[0]) != nc_graph_fingerprint(g[2]));
    nc_g_exp(g[1], 99); /* an error changes it too */
    CHECK(nc_graph_fingerprint(g[0]) != nc_graph_fingerprint(g[1]));
    for (int k = 0; k < 3; k++) nc_graph_free(g[k]);
}

static void test_dead_code(void)
{
    lstm a, b;
    lstm_build(&a, 2, 3, 4, 4, 5, 0);
    lstm_build(&b, 2, 3, 4, 4, 5, 1);
    nc_program *pa = NULL, *pb = NULL;
    REQUIRE(nc_graph_compile(a.g, NC_COMPILE_GRAD, &pa) == NC_OK);
    REQUIRE(nc_graph_compile(b.g, NC_COMPILE_GRAD, &pb) == NC_OK);
    CHECK(instr_count(pa) == instr_count(pb));
    char *d = dump(pb);
    CHECK(!strstr(d, "GELU") && !strstr(d, " EXP"));
    free(d);
    nc_program_free(pb);
    /* marked as an output, the branch is kept */
    nc_g_output(b.g, b.dead);
    REQUIRE(nc_graph_compile(b.g, NC_COMPILE_GRAD, &pb) == NC_OK);
    CHECK(instr_count(pb) == instr_count(pa) + 2);
    nc_program_free(pb);
    /* forward only: no backward instruction survives */
    REQUIRE(nc_graph_compile(b.g, 0, &pb) == NC_OK);
    d = dump(pb);
    CHECK(!strstr(d, "_BWD") && !strstr(d, "MATMUL_TN") && !strstr(d, "FILL"));
    free(d);
    nc_program_free(pa);
    nc_program_free(pb);
    nc_graph_free(a.g);
    nc_graph_free(b.g);
}

/* The same program under every supported ISA and 1, 2, 3 threads: identical bits. */
static void test_isa_threads(void)
{
    lstm m;
    inputs in;
    lstm_build(&m, 4, 8, 24, 40, 96, 0);
    inputs_make(&in, &m);
    nc_isa saved = nc_isa_active();
    REQUIRE(nc_isa_select(NC_ISA_REF) == NC_OK);
    nc_program *p = compile_bound(&m, &in, NC_COMPILE_GRAD);
    REQUIRE(nc_program_run(p, NULL) == NC_OK);
    result base;
    result_take(&base, p, &m);
    int runs = 0;
    for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
        if (!nc_isa_supported((nc_isa)isa)) {
            printf("ISA %s not supported here: skipped\n", nc_isa_name((nc_isa)isa));
            continue;
        }
        REQUIRE(nc_isa_select((nc_isa)isa) == NC_OK);
        for (int threads = 1; threads <= 3; threads++) {
            nc_pool *pool = nc_pool_new(threads);
            REQUIRE(pool);
            for (int reuse = 0; reuse < 2; reuse++) {
                nc_program *q = compile_bound(&m, &in, NC_COMPILE_GRAD |
                                                           (reuse ? 0 : NC_COMPILE_NO_REUSE));
                REQUIRE(nc_program_run(q, pool) == NC_OK);
                result r;
                result_take(&r, q, &m);
                CHECK_MSG(result_same(&base, &r), "isa %s, %d threads, reuse %d differs",
                          nc_isa_name((nc_isa)isa), threads, reuse);
                result_free(&r);
                nc_program_free(q);
                runs++;
            }
            nc_pool_free(pool);
        }
    }
    printf("%d runs (ISA x threads x reuse) bit-identical to ref, 1 thread\n", runs);
    REQUIRE(nc_isa_select(saved) == NC_OK);
    result_free(&base);
    nc_program_free(p);
    inputs_free(&in);
    nc_graph_free(m.g);
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
}

/* Golden: the bits of a small model's losses and gradients are part of the format (a decoder must
 * train exactly as the encoder did), so they must not change when the bytecode is refactored.
 * A deliberate change of an op's formula, the autodiff order or the init updates this constant. */
static void test_golden(void)
{
    lstm m;
    inputs in;
    lstm_build(&m, 2, 3, 4, 4, 5, 0);
    rng = 0x601DE1;
    inputs_make(&in, &m);
    nc_program *p = compile_bound(&m, &in, NC_COMPILE_GRAD);
    REQUIRE(nc_program_run(p, NULL) == NC_OK);
    result r;
    result_take(&r, p, &m);
    uint64_t h = 0xCBF29CE484222325ull;
    h = fnv1a(h, r.ce, r.nce * sizeof(float));
    h = fnv1a(h, &r.loss, sizeof r.loss);
    h = fnv1a(h, r.grads, r.ngrad * sizeof(float));
    CHECK_MSG(h == GOLDEN, "golden hash %016llx (loss %.9g)", (unsigned long long)h, (double)r.loss);
    uint64_t fp = nc_graph_fingerprint(m.g);
    CHECK_MSG(fp == GOLDEN_FINGERPRINT, "golden fingerprint %016llx", (unsigned long long)fp);
    result_free(&r);
    nc_program_free(p);
    inputs_free(&in);
    nc_graph_free(m.g);
}

/* The example of docs/architecture.md (the bytecode section). */
static int docs_example(void)
{
    nc_graph *g = nc_graph_new(1);
    int x = nc_g_input(g, 4, 3);                           /* 4 rows of 3 features */
    int t = nc_g_index(g, 4);                              /* 4 target classes */
    int W = nc_g_param(g, 3, 5, NC_INIT_UNIFORM, 0.5f);
    int b = nc_g_param(g, 1, 5, NC_INIT_CONST, 0.0f);
    int h = nc_g_tanh(g, nc_g_add_bias(g, nc_g_matmul(g, x, W), b));
    int logp = nc_g_log_softmax(g, h);
    int loss = nc_g_sum_all(g, nc_g_cross_entropy(g, logp, t));
    nc_g_loss(g, loss);
    nc_program *p = NULL;
    if (nc_graph_compile(g, NC_COMPILE_GRAD, &p) != NC_OK)
        return 1;
    char *s = dump(p);
    fputs(s, stdout);
    free(s);
    nc_program_free(p);
    nc_graph_free(g);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "dump") == 0)
        return docs_example();
    test_reuse_identity();
    test_dead_code();
    test_fingerprint();
    test_isa_threads();
    test_golden();
    return test_finish("test_graph_plan");
}
