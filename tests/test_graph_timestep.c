/* The per-timestep conversion (nc_graph_timestep): a two-layer LSTM-style segment graph over T
 * steps of S streams, and the one-step graph derived from it, run T times with the state carried,
 * give memcmp-equal log-probabilities at every step and the same final states, for T = 1, 5, 8,
 * S = 1, 4, on every supported ISA with 1, 2 and 3 threads. Graphs the rewrite cannot prove
 * equivalent are refused with NC_ERR_ARG. */
#include <string.h>

#include "harness.h"
#include "timestep_check.h"
#include "nc/nc.h"

static uint64_t rng = 0x7135E9;

static float frand(void)
{
    return (float)((int32_t)(test_rand64(&rng) >> 40) - (1 << 23)) * 0x1p-23f;
}

/* Ways to break the step structure (or the declarations) on purpose. */
enum {
    OK_GRAPH,
    BAD_OP,          /* the last step uses tanh where the others use sigmoid */
    BAD_CONST,       /* the last step scales by another constant */
    BAD_SKIP,        /* step t >= 2 reads the state of step t-2 */
    BAD_ROWS,        /* step t >= 1 reads the rows of step t-1 */
    BAD_STATE_STEP,  /* a state output that is a value of step 0, not of the last step */
    BAD_TP_READ,     /* a time-parallel op reads one step's output directly */
    BAD_OUTPUT,      /* the loss's sum over rows marked as a plain output */
    BAD_NO_STATE,    /* no state declared */
    EPS2,            /* a valid graph with another RMSNorm epsilon (different bits) */
    CHAIN            /* valid: step outputs joined by a chain of concats between the steps */
};

typedef struct model {
    nc_graph *g;
    int sym, tgt, logp, loss;
    int h0[2], c0[2], h[2], c[2];
    size_t S, T, H, V;
} model;

/* One LSTM-style cell (clamped input gate) on x (S,E) and the state (h, c). */
static void cell(nc_graph *g, int x, int *h, int *c, int W, int b, size_t H, int scale_bad)
{
    int z = nc_g_add_bias(g, nc_g_matmul(g, nc_g_concat_cols(g, x, *h), W), b);
    int f = nc_g_sigmoid(g, nc_g_slice_cols(g, z, 0, H));
    int i = nc_g_sigmoid(g, nc_g_slice_cols(g, z, H, H));
    int gg = nc_g_tanh(g, nc_g_slice_cols(g, z, 2 * H, H));
    int o = nc_g_sigmoid(g, nc_g_slice_cols(g, z, 3 * H, H));
    /* one builder call per statement where two operands are built (argument order) */
    int cf = nc_g_mul(g, *c, f);
    int ig = nc_g_mul(g, nc_g_min(g, nc_g_one_minus(g, f), i), gg);
    *c = nc_g_add(g, cf, ig);
    int tc = scale_bad == 1 ? nc_g_sigmoid(g, *c) : nc_g_tanh(g, *c);
    *h = nc_g_mul(g, o, nc_g_scale(g, tc, scale_bad == 2 ? 0.5f : 1.0f));
}

static void model_build(model *m, size_t S, size_t T, int bad)
{
    const size_t E = 12, H = 16, V = 40;
    nc_graph *g = m->g = nc_graph_new(31);
    REQUIRE(g);
    m->S = S, m->T = T, m->H = H, m->V = V;
    int emb = nc_g_param(g, V, E, NC_INIT_UNIFORM, 1.0f);
    int W1 = nc_g_param(g, E + H, 4 * H, NC_INIT_UNIFORM, 0.3f);
    int b1 = nc_g_param(g, 1, 4 * H, NC_INIT_CONST, 0.0f);
    int g1 = nc_g_param(g, 1, H, NC_INIT_CONST, 1.0f);
    int W2 = nc_g_param(g, 2 * H, 4 * H, NC_INIT_UNIFORM, 0.3f);
    int b2 = nc_g_param(g, 1, 4 * H, NC_INIT_CONST, 0.0f);
    int gain = nc_g_param(g, 1, H, NC_INIT_CONST, 1.0f);
    int Wout = nc_g_param(g, H, V, NC_INIT_UNIFORM, 0.3f);
    int bout = nc_g_param(g, 1, V, NC_INIT_CONST, 0.0f);
    m->sym = nc_g_index(g, T * S);
    m->tgt = nc_g_index(g, T * S);
    for (int l = 0; l < 2; l++) {
        m->h0[l] = m->h[l] = nc_g_input(g, S, H);
        m->c0[l] = m->c[l] = nc_g_input(g, S, H);
    }
    int x = nc_g_gather(g, emb, m->sym);
    int *outs = malloc(T * sizeof *outs);
    int hprev2 = m->h0[1], h1_first = -1, chain = -1;
    REQUIRE(outs);
    for (size_t t = 0; t < T; t++) {
        nc_g_step(g, (int)t);
        size_t r0 = bad == BAD_ROWS && t >= 1 ? (t - 1) * S : t * S;
        int xt = nc_g_slice_rows(g, x, r0, S);
        int last = t == T - 1 && T > 1;
        cell(g, xt, &m->h[0], &m->c[0], W1, b1, H,
             last && bad == BAD_OP ? 1 : last && bad == BAD_CONST ? 2 : 0);
        if (t == 0)
            h1_first = m->h[0];
        int x2 = nc_g_rmsnorm(g, m->h[0], g1, bad == EPS2 ? 2e-5f : 1e-5f);
        int hcur = m->h[1];
        if (bad == BAD_SKIP && t >= 2)
            m->h[1] = hprev2; /* h of step t-2 */
        cell(g, x2, &m->h[1], &m->c[1], W2, b2, H, 0);
        hprev2 = hcur;
        outs[t] = m->h[1];
        if (bad == CHAIN) { /* time-parallel instructions between the steps */
            nc_g_step(g, -1);
            chain = t == 0 ? m->h[1] : nc_g_concat_rows(g, chain, m->h[1]);
        }
    }
    nc_g_step(g, -1);
    int hs = bad == CHAIN ? chain : nc_g_concat_rows_n(g, outs, T);
    free(outs);
    if (bad == BAD_TP_READ)
        hs = nc_g_add(g, hs, nc_g_concat_rows_n(g, (int[]){h1_first, h1_first, h1_first}, 3));
    int logits = nc_g_add_bias(g, nc_g_matmul(g, nc_g_rmsnorm(g, hs, gain, 1e-5f), Wout), bout);
    m->logp = nc_g_log_softmax(g, logits);
    m->loss = nc_g_sum_all(g, nc_g_cross_entropy(g, m->logp, m->tgt));
    nc_g_output(g, m->logp);
    nc_g_loss(g, m->loss);
    if (bad == BAD_OUTPUT)
        nc_g_output(g, nc_g_scale(g, m->loss, 2.0f));
    if (bad != BAD_NO_STATE)
        for (int l = 0; l < 2; l++) {
            nc_g_state(g, m->h0[l], bad == BAD_STATE_STEP && l == 1 ? h1_first : m->h[l]);
            nc_g_state(g, m->c0[l], m->c[l]);
        }
}

/* The per-segment program (with backward, as the encoder trains it) and its converted
 * per-timestep program (forward only), given the same random parameters. */
typedef struct pair {
    nc_program *seg, *step;
    int logp1, hout[2], cout[2]; /* ids in the per-timestep program */
} pair;

static void pair_make(pair *p, const model *m)
{
    nc_graph *ng = NULL;
    int *map = malloc((size_t)nc_graph_value_count(m->g) * sizeof *map);
    REQUIRE(map);
    REQUIRE(nc_graph_status(m->g) == NC_OK);
    REQUIRE(nc_graph_timestep(m->g, &ng, map) == NC_OK);
    p->logp1 = map[m->logp];
    for (int l = 0; l < 2; l++) {
        p->hout[l] = map[m->h[l]];
        p->cout[l] = map[m->c[l]];
        CHECK(map[m->h0[l]] == m->h0[l]);
        size_t r, c;
        REQUIRE(nc_graph_shape(ng, p->hout[l], &r, &c) == NC_OK);
        CHECK(r == m->S && c == m->H);
    }
    CHECK(map[m->loss] == -1 && map[m->sym] == m->sym && p->logp1 >= 0);
    size_t r, c;
    REQUIRE(nc_graph_shape(ng, m->sym, &r, &c) == NC_OK);
    CHECK(r == m->S);
    REQUIRE(nc_graph_compile(m->g, NC_COMPILE_GRAD, &p->seg) == NC_OK);
    REQUIRE(nc_graph_compile(ng, 0, &p->step) == NC_OK);
    size_t n, n1;
    float *w = nc_program_params(p->seg, &n);
    nc_program_params(p->step, &n1);
    REQUIRE(n == n1);
    for (size_t k = 0; k < n; k++) w[k] = 0.6f * frand();
    REQUIRE(nc_program_set_params(p->step, w, n) == NC_OK);
    CHECK(nc_program_set_params(p->step, w, n - 1) == NC_ERR_ARG);
    free(map);
    nc_graph_free(ng);
}

typedef struct data {
    uint32_t *sym, *tgt;
    float *state[4]; /* h0[0], c0[0], h0[1], c0[1] */
} data;

static void data_make(data *d, const model *m)
{
    size_t R = m->T * m->S;
    d->sym = malloc(R * sizeof *d->sym);
    d->tgt = malloc(R * sizeof *d->tgt);
    REQUIRE(d->sym && d->tgt);
    for (size_t r = 0; r < R; r++) {
        d->sym[r] = test_rand_below(&rng, (uint32_t)m->V);
        d->tgt[r] = test_rand_below(&rng, (uint32_t)m->V);
    }
    for (int k = 0; k < 4; k++) {
        d->state[k] = malloc(m->S * m->H * sizeof(float));
        REQUIRE(d->state[k]);
        for (size_t i = 0; i < m->S * m->H; i++) d->state[k][i] = 0.5f * frand();
    }
}

static void data_free(data *d)
{
    free(d->sym);
    free(d->tgt);
    for (int k = 0; k < 4; k++) free(d->state[k]);
}

/* Runs the segment (forward + backward) and the T steps; 1 if every step's log-probabilities and
 * the final states are memcmp-equal. */
static int run_compare(const pair *p, const model *m, const data *d, nc_pool *pool)
{
    size_t S = m->S, H = m->H, V = m->V, SH = S * H;
    int ins[4] = {m->h0[0], m->c0[0], m->h0[1], m->c0[1]};
    int seg_out[4] = {m->h[0], m->c[0], m->h[1], m->c[1]};
    int step_out[4] = {p->hout[0], p->cout[0], p->hout[1], p->cout[1]};
    REQUIRE(nc_program_bind(p->seg, m->sym, d->sym) == NC_OK);
    REQUIRE(nc_program_bind(p->seg, m->tgt, d->tgt) == NC_OK);
    for (int k = 0; k < 4; k++) REQUIRE(nc_program_bind(p->seg, ins[k], d->state[k]) == NC_OK);
    REQUIRE(nc_program_run(p->seg, pool) == NC_OK);
    const float *logp = nc_program_value(p->seg, m->logp);
    REQUIRE(logp);

    float *st = malloc(4 * SH * sizeof *st);
    REQUIRE(st);
    for (int k = 0; k < 4; k++) {
        memcpy(st + k * SH, d->state[k], SH * sizeof *st);
        REQUIRE(nc_program_bind(p->step, ins[k], st + k * SH) == NC_OK);
    }
    int same = 1;
    for (size_t t = 0; t < m->T; t++) {
        /* the decoder knows this step's symbols only; no targets are bound */
        REQUIRE(nc_program_bind(p->step, m->sym, d->sym + t * S) == NC_OK);
        REQUIRE(nc_program_run(p->step, pool) == NC_OK);
        const float *lp = nc_program_value(p->step, p->logp1);
        REQUIRE(lp);
        same &= memcmp(lp, logp + t * S * V, S * V * sizeof *lp) == 0;
        for (int k = 0; k < 4; k++) /* carry the state */
            memcpy(st + k * SH, nc_program_value(p->step, step_out[k]), SH * sizeof *st);
    }
    for (int k = 0; k < 4; k++)
        same &= memcmp(st + k * SH, nc_program_value(p->seg, seg_out[k]), SH * sizeof *st) == 0;
    free(st);
    return same;
}

static void test_bit_identity(void)
{
    static const size_t Ts[] = {1, 5, 8}, Ss[] = {1, 4};
    nc_isa saved = nc_isa_active();
    int runs = 0;
    for (size_t ti = 0; ti < 3; ti++)
        for (size_t si = 0; si < 2; si++) {
            model m;
            pair p;
            data d;
            model_build(&m, Ss[si], Ts[ti], OK_GRAPH);
            pair_make(&p, &m);
            data_make(&d, &m);
            for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
                if (!nc_isa_supported((nc_isa)isa))
                    continue;
                REQUIRE(nc_isa_select((nc_isa)isa) == NC_OK);
                for (int threads = 1; threads <= 3; threads++) {
                    nc_pool *pool = nc_pool_new(threads);
                    REQUIRE(pool);
                    CHECK_MSG(run_compare(&p, &m, &d, pool),
                              "T=%zu S=%zu isa %s, %d threads: per-timestep bits differ", m.T,
                              m.S, nc_isa_name((nc_isa)isa), threads);
                    nc_pool_free(pool);
                    runs++;
                }
            }
            REQUIRE(nc_isa_select(saved) == NC_OK);

            /* the comparison can fail: a graph with another epsilon, converted and given the
             * same parameters, gives other bits against this segment program */
            model m2;
            pair p2;
            model_build(&m2, Ss[si], Ts[ti], EPS2);
            pair_make(&p2, &m2);
            size_t n;
            const float *w = nc_program_params(p.seg, &n);
            REQUIRE(nc_program_set_params(p2.step, w, n) == NC_OK);
            nc_program *keep = p2.seg;
            p2.seg = p.seg;
            CHECK_MSG(!run_compare(&p2, &m, &d, NULL), "T=%zu S=%zu: a changed op went unnoticed",
                      m.T, m.S);
            p2.seg = keep;
            nc_program_free(p2.seg);
            nc_program_free(p2.step);
            nc_graph_free(m2.g);

            data_free(&d);
            nc_program_free(p.seg);
            nc_program_free(p.step);
            nc_graph_free(m.g);
        }
    printf("%d runs compared (T x S x ISA x threads)\n", runs);
}

/* A chain of concats (the O(T^2) way) built between the steps converts as well. */
static void test_chain(void)
{
    model m;
    pair p;
    data d;
    model_build(&m, 4, 5, CHAIN);
    pair_make(&p, &m);
    data_make(&d, &m);
    CHECK(run_compare(&p, &m, &d, NULL));
    data_free(&d);
    nc_program_free(p.seg);
    nc_program_free(p.step);
    nc_graph_free(m.g);
}

/* Converting twice gives the same graph; the converted graph converts to itself (T = 1). */
static void test_stable(void)
{
    model m;
    model_build(&m, 4, 5, OK_GRAPH);
    check_timestep_stable(m.g);
    nc_graph_free(m.g);
}

static void test_refused(void)
{
    static const struct {
        int bad;
        const char *what;
    } cases[] = {
        {BAD_OP, "different op in a step"},
        {BAD_CONST, "different constant in a step"},
        {BAD_SKIP, "a step reads two steps back"},
        {BAD_ROWS, "a step reads another step's rows"},
        {BAD_STATE_STEP, "state output not of the last step"},
        {BAD_TP_READ, "time-parallel op reads one step"},
        {BAD_OUTPUT, "output summed over all rows"},
        {BAD_NO_STATE, "no state"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        model m;
        model_build(&m, 2, 3, cases[k].bad);
        REQUIRE(nc_graph_status(m.g) == NC_OK);
        nc_graph *ng = (nc_graph *)1;
        CHECK_MSG(nc_graph_timestep(m.g, &ng, NULL) == NC_ERR_ARG && ng == NULL, "%s accepted",
                  cases[k].what);
        nc_graph_free(m.g);
    }
    /* a state of the wrong shape is a sticky builder error, and such a graph is refused */
    model m;
    model_build(&m, 2, 3, OK_GRAPH);
    int wrong = nc_g_input(m.g, 2, m.H + 1);
    CHECK(nc_g_state(m.g, wrong, m.h[0]) == NC_ERR_ARG);
    nc_graph *ng = NULL;
    CHECK(nc_graph_timestep(m.g, &ng, NULL) == NC_ERR_ARG && !ng);
    nc_graph_free(m.g);
    /* other declaration errors */
    model_build(&m, 2, 3, OK_GRAPH);
    CHECK(nc_g_state(m.g, m.h0[0], m.h[0]) == NC_ERR_ARG); /* declared twice */
    nc_graph_free(m.g);
    model_build(&m, 2, 3, OK_GRAPH);
    CHECK(nc_g_state(m.g, m.h[0], m.h[0]) == NC_ERR_ARG); /* not an input */
    nc_graph_free(m.g);
    model_build(&m, 2, 3, OK_GRAPH);
    CHECK(nc_g_step(m.g, -2) == NC_ERR_ARG && nc_graph_status(m.g) == NC_ERR_ARG);
    nc_graph_free(m.g);
    CHECK(nc_graph_timestep(NULL, &ng, NULL) == NC_ERR_ARG);
    /* steps out of order */
    nc_graph *g = nc_graph_new(1);
    int in = nc_g_input(g, 2, 3), h = in;
    nc_g_step(g, 1);
    h = nc_g_tanh(g, h);
    nc_g_step(g, 0);
    h = nc_g_tanh(g, h);
    nc_g_state(g, in, h);
    REQUIRE(nc_graph_status(g) == NC_OK);
    CHECK(nc_graph_timestep(g, &ng, NULL) == NC_ERR_ARG);
    nc_graph_free(g);
}

int main(void)
{
    test_bit_identity();
    test_chain();
    test_stable();
    test_refused();
    return test_finish("test_graph_timestep");
}
