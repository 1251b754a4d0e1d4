/* Attention in the per-timestep conversion (nc_graph_timestep with key/value memory states): a
 * 2-layer transformer segment graph (tests/transformer_graph.h) over T steps of S streams and the
 * one-step graph derived from it, run T times with the memories carried, give memcmp-equal
 * log-probabilities at every step and the same final memories, for T = 1, 5, 8, S = 1, 3,
 * mem = 0, 2, 7 (mem > T included), on every supported ISA with 1, 2 and 3 threads, with and
 * without workspace reuse, over two consecutive segments, and mixed with an LSTM-style state.
 * Graphs the rewrite cannot prove equivalent are refused; attention builder errors are sticky.
 * Prints a hash of the segment outputs so gcc and clang builds can be compared. */
#include <string.h>

#include "harness.h"
#include "timestep_check.h"
#include "nc/nc.h"
#include "transformer_graph.h"

static uint64_t rng = 0xA77E2002;

static float frand(void)
{
    return (float)((int32_t)(test_rand64(&rng) >> 40) - (1 << 23)) * 0x1p-23f;
}

static uint64_t hash = 0xCBF29CE484222325ull;

static void hash_floats(const float *x, size_t n)
{
    const unsigned char *b = (const unsigned char *)x;
    for (size_t i = 0; i < n * sizeof *x; i++) hash = (hash ^ b[i]) * 0x100000001B3ull;
}

/* The carried states of a model: memories of each layer (k, v), then the recurrence's h. */
#define MAXST (2 * TRF_MAX_LAYERS + 1)
typedef struct states {
    int n;
    int in[MAXST], seg_out[MAXST], step_out[MAXST];
    size_t len[MAXST];
} states;

typedef struct pair {
    trf m;
    nc_program *seg, *step;
    int logp1;
    states st;
} pair;

static void pair_make(pair *p, const trf_cfg *cfg, unsigned flags)
{
    trf_build(&p->m, cfg);
    trf *m = &p->m;
    REQUIRE(nc_graph_status(m->g) == NC_OK);
    nc_graph *ng = NULL;
    int *map = malloc((size_t)nc_graph_value_count(m->g) * sizeof *map);
    REQUIRE(map);
    nc_status cst = nc_graph_timestep(m->g, &ng, map);
    CHECK_MSG(cst == NC_OK, "T=%zu S=%zu mem=%zu: conversion refused", cfg->T, cfg->S, cfg->mem);
    REQUIRE(cst == NC_OK);
    p->logp1 = map[m->logp];
    CHECK(map[m->loss] == -1 && p->logp1 >= 0 && map[m->sym] == m->sym);
    states *s = &p->st;
    s->n = 0;
    if (cfg->mem > 0)
        for (int l = 0; l < cfg->layers; l++) {
            int ins[2] = {m->kin[l], m->vin[l]}, outs[2] = {m->kout[l], m->vout[l]};
            for (int k = 0; k < 2; k++) {
                s->in[s->n] = ins[k];
                s->seg_out[s->n] = outs[k];
                s->step_out[s->n] = map[outs[k]];
                s->len[s->n] = cfg->mem * cfg->S * cfg->H * cfg->dk;
                CHECK(map[ins[k]] == ins[k] && map[outs[k]] >= 0);
                size_t r, c;
                REQUIRE(nc_graph_shape(ng, map[outs[k]], &r, &c) == NC_OK);
                CHECK(r == cfg->mem * cfg->S && c == cfg->H * cfg->dk);
                s->n++;
            }
        }
    if (cfg->recur) {
        s->in[s->n] = m->h0;
        s->seg_out[s->n] = m->h;
        s->step_out[s->n] = map[m->h];
        s->len[s->n] = cfg->S * cfg->C;
        s->n++;
    }
    REQUIRE(nc_graph_compile(m->g, NC_COMPILE_GRAD | flags, &p->seg) == NC_OK);
    REQUIRE(nc_graph_compile(ng, flags, &p->step) == NC_OK);
    size_t n, n1;
    float *w = nc_program_params(p->seg, &n);
    nc_program_params(p->step, &n1);
    REQUIRE(n == n1);
    for (size_t k = 0; k < n; k++) w[k] = 0.6f * frand();
    REQUIRE(nc_program_set_params(p->step, w, n) == NC_OK);
    free(map);
    nc_graph_free(ng);
}

static void pair_free(pair *p)
{
    nc_program_free(p->seg);
    nc_program_free(p->step);
    nc_graph_free(p->m.g);
}

typedef struct data {
    uint32_t *sym, *tgt; /* nseg segments of T*S rows */
    float *state[MAXST]; /* states before the first segment */
} data;

static void data_make(data *d, const pair *p, int nseg)
{
    const trf_cfg *c = &p->m.cfg;
    size_t R = c->T * c->S * (size_t)nseg;
    d->sym = malloc(R * sizeof *d->sym);
    d->tgt = malloc(R * sizeof *d->tgt);
    REQUIRE(d->sym && d->tgt);
    for (size_t r = 0; r < R; r++) {
        d->sym[r] = test_rand_below(&rng, (uint32_t)c->V);
        d->tgt[r] = test_rand_below(&rng, (uint32_t)c->V);
    }
    for (int k = 0; k < p->st.n; k++) {
        d->state[k] = malloc(p->st.len[k] * sizeof(float));
        REQUIRE(d->state[k]);
        for (size_t i = 0; i < p->st.len[k]; i++) d->state[k][i] = frand();
    }
}

static void data_free(data *d, const pair *p)
{
    free(d->sym);
    free(d->tgt);
    for (int k = 0; k < p->st.n; k++) free(d->state[k]);
}

/* nseg segments with the states carried segment to segment (segment program) and step to step
 * (per-timestep program); 1 if every step's log-probabilities and the final states are
 * memcmp-equal. If seg_hash, the segment outputs go into the hash. */
static int run_compare(const pair *p, const pair *q, const data *d, int nseg, nc_pool *pool,
                       int seg_hash)
{
    const trf_cfg *c = &p->m.cfg;
    const states *s = &p->st;
    size_t S = c->S, T = c->T, V = c->V;
    float *segst[MAXST], *stepst[MAXST];
    for (int k = 0; k < s->n; k++) {
        segst[k] = malloc(s->len[k] * sizeof(float));
        stepst[k] = malloc(s->len[k] * sizeof(float));
        REQUIRE(segst[k] && stepst[k]);
        memcpy(segst[k], d->state[k], s->len[k] * sizeof(float));
        memcpy(stepst[k], d->state[k], s->len[k] * sizeof(float));
        REQUIRE(nc_program_bind(p->seg, s->in[k], segst[k]) == NC_OK);
        REQUIRE(nc_program_bind(q->step, s->in[k], stepst[k]) == NC_OK);
    }
    int same = 1;
    for (int g = 0; g < nseg; g++) {
        size_t r0 = (size_t)g * T * S;
        REQUIRE(nc_program_bind(p->seg, p->m.sym, d->sym + r0) == NC_OK);
        REQUIRE(nc_program_bind(p->seg, p->m.tgt, d->tgt + r0) == NC_OK);
        REQUIRE(nc_program_run(p->seg, pool) == NC_OK);
        const float *logp = nc_program_value(p->seg, p->m.logp);
        REQUIRE(logp);
        if (seg_hash) {
            hash_floats(logp, T * S * V);
            hash_floats(nc_program_value(p->seg, p->m.loss), 1);
        }
        for (size_t t = 0; t < T; t++) {
            REQUIRE(nc_program_bind(q->step, q->m.sym, d->sym + r0 + t * S) == NC_OK);
            /* the cross-entropy is marked as an output (for the gradient test), so it is kept */
            REQUIRE(nc_program_bind(q->step, q->m.tgt, d->tgt + r0 + t * S) == NC_OK);
            REQUIRE(nc_program_run(q->step, pool) == NC_OK);
            const float *lp = nc_program_value(q->step, q->logp1);
            REQUIRE(lp);
            same &= memcmp(lp, logp + t * S * V, S * V * sizeof *lp) == 0;
            for (int k = 0; k < s->n; k++)
                memcpy(stepst[k], nc_program_value(q->step, q->st.step_out[k]),
                       s->len[k] * sizeof(float));
        }
        for (int k = 0; k < s->n; k++) { /* carry the segment's states */
            const float *o = nc_program_value(p->seg, s->seg_out[k]);
            same &= memcmp(stepst[k], o, s->len[k] * sizeof(float)) == 0;
            if (seg_hash)
                hash_floats(o, s->len[k]);
            memcpy(segst[k], o, s->len[k] * sizeof(float));
        }
    }
    if (seg_hash) { /* and the gradients of the last segment */
        size_t n;
        const float *gr = nc_program_grads(p->seg, &n);
        hash_floats(gr, n);
    }
    for (int k = 0; k < s->n; k++) {
        free(segst[k]);
        free(stepst[k]);
    }
    return same;
}

static trf_cfg cfg_of(size_t S, size_t T, size_t mem, int recur, int bad)
{
    trf_cfg c = {.S = S, .T = T, .mem = mem, .C = 16, .H = 2, .dk = 8, .F = 24, .V = 20,
                 .layers = 2, .recur = recur, .bad = bad};
    return c;
}

static void test_bit_identity(void)
{
    static const size_t Ts[] = {1, 5, 8}, Ss[] = {1, 3}, Mems[] = {0, 2, 7};
    nc_isa saved = nc_isa_active();
    int runs = 0;
    for (size_t ti = 0; ti < 3; ti++)
        for (size_t si = 0; si < 2; si++)
            for (size_t mi = 0; mi < 3; mi++) {
                trf_cfg cfg = cfg_of(Ss[si], Ts[ti], Mems[mi], 0, TRF_OK);
                pair p;
                data d;
                pair_make(&p, &cfg, 0);
                data_make(&d, &p, 2);
                /* reference bits into the hash once (default ISA, no pool) */
                CHECK(run_compare(&p, &p, &d, 2, NULL, 1));
                for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
                    if (!nc_isa_supported((nc_isa)isa))
                        continue;
                    REQUIRE(nc_isa_select((nc_isa)isa) == NC_OK);
                    for (int threads = 1; threads <= 3; threads++) {
                        nc_pool *pool = nc_pool_new(threads);
                        REQUIRE(pool);
                        CHECK_MSG(run_compare(&p, &p, &d, 2, pool, 0),
                                  "T=%zu S=%zu mem=%zu isa %s, %d threads: per-timestep bits "
                                  "differ", cfg.T, cfg.S, cfg.mem, nc_isa_name((nc_isa)isa),
                                  threads);
                        nc_pool_free(pool);
                        runs++;
                    }
                }
                REQUIRE(nc_isa_select(saved) == NC_OK);

                /* without workspace reuse, both programs; and against the reuse programs */
                pair pn;
                pair_make(&pn, &cfg, NC_COMPILE_NO_REUSE);
                size_t n;
                const float *w = nc_program_params(p.seg, &n);
                REQUIRE(nc_program_set_params(pn.seg, w, n) == NC_OK);
                REQUIRE(nc_program_set_params(pn.step, w, n) == NC_OK);
                CHECK_MSG(run_compare(&pn, &pn, &d, 2, NULL, 0), "T=%zu S=%zu mem=%zu no reuse",
                          cfg.T, cfg.S, cfg.mem);
                CHECK(run_compare(&p, &pn, &d, 1, NULL, 0));
                pair_free(&pn);

                /* the comparison can fail: another epsilon, same parameters */
                trf_cfg cfg2 = cfg_of(Ss[si], Ts[ti], Mems[mi], 0, TRF_EPS2);
                pair p2;
                pair_make(&p2, &cfg2, 0);
                REQUIRE(nc_program_set_params(p2.step, w, n) == NC_OK);
                CHECK_MSG(!run_compare(&p, &p2, &d, 1, NULL, 0),
                          "T=%zu S=%zu mem=%zu: a changed op went unnoticed", cfg.T, cfg.S,
                          cfg.mem);
                pair_free(&p2);
                data_free(&d, &p);
                pair_free(&p);
            }
    printf("%d runs compared (T x S x mem x ISA x threads), 2 segments each\n", runs);
}

/* Memory states mixed with an LSTM-style step-tagged state of S rows; mem = 1 (a memory of S
 * rows, the shape of a step-carried state) and mem = T (a memory of T*S rows, the shape of a
 * time-parallel input) are told apart by their readers. */
static void test_mixed(void)
{
    static const size_t Ts[] = {1, 5}, Mems[] = {0, 1, 5, 7};
    for (size_t ti = 0; ti < 2; ti++)
        for (size_t mi = 0; mi < 4; mi++) {
            trf_cfg cfg = cfg_of(3, Ts[ti], Mems[mi], 1, TRF_OK);
            pair p;
            data d;
            pair_make(&p, &cfg, 0);
            data_make(&d, &p, 2);
            CHECK_MSG(run_compare(&p, &p, &d, 2, NULL, 1), "mixed T=%zu mem=%zu", cfg.T, cfg.mem);
            nc_pool *pool = nc_pool_new(3);
            REQUIRE(pool);
            CHECK(run_compare(&p, &p, &d, 2, pool, 0));
            nc_pool_free(pool);
            data_free(&d, &p);
            pair_free(&p);
        }
}

/* Converting twice gives the same graph; the converted graph converts to itself. */
static void test_stable(void)
{
    for (int recur = 0; recur < 2; recur++) {
        trf m;
        trf_cfg cfg = cfg_of(3, 5, 4, recur, TRF_OK);
        trf_build(&m, &cfg);
        check_timestep_stable(m.g);
        nc_graph_free(m.g);
    }
}

static void test_refused(void)
{
    static const struct {
        int bad, recur;
        const char *what;
    } cases[] = {
        {TRF_BAD_SLICE, 0, "memory state output slicing other rows"},
        {TRF_BAD_KALL_READ, 0, "memory concat read by another op"},
        {TRF_BAD_SHARED_MEM, 0, "one memory input concatenated twice"},
        {TRF_BAD_NO_STATE, 0, "memory concat without a state"},
        {TRF_BAD_STEP_READ, 1, "a step reads a memory input"},
        {TRF_BAD_ATTN_STEP, 0, "attention tagged as a step"},
        {TRF_BAD_OUT_KALL, 0, "memory concat marked as an output"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        trf m;
        trf_cfg cfg = cfg_of(2, 3, 2, cases[k].recur, cases[k].bad);
        trf_build(&m, &cfg);
        REQUIRE(nc_graph_status(m.g) == NC_OK);
        nc_graph *ng = (nc_graph *)1;
        CHECK_MSG(nc_graph_timestep(m.g, &ng, NULL) == NC_ERR_ARG && ng == NULL, "%s accepted",
                  cases[k].what);
        nc_graph_free(m.g);
    }
    /* transpose / reshape of time-parallel values: refused; of time-invariant ones: kept */
    for (int op = 0; op < 3; op++) {
        trf m;
        trf_cfg cfg = cfg_of(2, 3, 2, 0, TRF_OK);
        trf_build(&m, &cfg);
        nc_graph *g = m.g;
        int e = m.param[0]; /* the embedding (V, C): time-invariant */
        if (op == 0)
            nc_g_output(g, nc_g_transpose(g, m.logp));
        else if (op == 1)
            nc_g_output(g, nc_g_reshape(g, m.logp, 2 * 3 * 20, 1));
        else
            nc_g_output(g, nc_g_reshape(g, nc_g_transpose(g, e), 1, 20 * 16));
        REQUIRE(nc_graph_status(g) == NC_OK);
        nc_graph *ng = NULL;
        nc_status want = op < 2 ? NC_ERR_ARG : NC_OK;
        CHECK_MSG(nc_graph_timestep(g, &ng, NULL) == want, "transpose/reshape case %d", op);
        nc_graph_free(ng);
        nc_graph_free(g);
    }
}

/* Attention builder errors are sticky. */
static void test_builder(void)
{
    for (int k = 0; k < 9; k++) {
        nc_graph *g = nc_graph_new(1);
        size_t S = 2, T = 3, mem = 2, H = 2;
        int q = nc_g_input(g, T * S, H * 4);
        int kk = nc_g_input(g, (mem + T) * S, H * 4);
        int v = nc_g_input(g, (mem + T) * S, H * 3);
        int b = nc_g_param(g, 1, H * (mem + 1), NC_INIT_CONST, 0.0f);
        int b_bad = nc_g_param(g, 1, H * mem, NC_INIT_CONST, 0.0f);
        int k_odd = nc_g_input(g, (mem + T) * S + 1, H * 4);
        int v_short = nc_g_input(g, (mem + T) * S - S, H * 3);
        int q_cols = nc_g_input(g, T * S, H * 4 + 1);
        int r;
        switch (k) {
        case 0: r = nc_g_attention(g, q, kk, v, b, S, H, 0.5f); break; /* fine */
        case 1: r = nc_g_attention(g, q, kk, v, b_bad, S, H, 0.5f); break;
        case 2: r = nc_g_attention(g, q, k_odd, v, b, S, H, 0.5f); break;
        case 3: r = nc_g_attention(g, q, kk, v_short, b, S, H, 0.5f); break;
        case 4: r = nc_g_attention(g, q_cols, kk, v, b, S, H, 0.5f); break;
        case 5: r = nc_g_attention(g, q, kk, v, b, 4, H, 0.5f); break;  /* rows(q) % S */
        case 6: r = nc_g_attention(g, q, kk, v, b, S, 0, 0.5f); break;  /* no head */
        case 7: r = nc_g_attention(g, kk, q, v, b, S, H, 0.5f); break;  /* k shorter than q */
        default: r = nc_g_attention(g, q, kk, v, 99, S, H, 0.5f); break; /* unknown id */
        }
        if (k == 0) {
            size_t rows, cols;
            CHECK(r >= 0 && nc_graph_status(g) == NC_OK);
            REQUIRE(nc_graph_shape(g, r, &rows, &cols) == NC_OK);
            CHECK(rows == T * S && cols == H * 3);
        } else {
            CHECK_MSG(r == -1 && nc_graph_status(g) == NC_ERR_ARG, "attention case %d built", k);
            CHECK(nc_g_attention(g, q, kk, v, b, S, H, 0.5f) == -1); /* sticky */
        }
        nc_graph_free(g);
    }
    /* the fingerprint sees the attention's scale and streams */
    uint64_t fp[3];
    for (int k = 0; k < 3; k++) {
        nc_graph *g = nc_graph_new(1);
        int q = nc_g_input(g, 12, 4), kv = nc_g_input(g, 12, 4);
        int b = nc_g_param(g, 1, 2, NC_INIT_CONST, 0.0f);
        nc_g_output(g, nc_g_attention(g, q, kv, kv, b, k == 2 ? 6 : 12, 2, k == 1 ? 0.5f : 0.25f));
        REQUIRE(nc_graph_status(g) == NC_OK);
        fp[k] = nc_graph_fingerprint(g);
        nc_graph_free(g);
    }
    CHECK(fp[0] != fp[1] && fp[0] != fp[2] && fp[1] != fp[2]);
    nc_graph *g = nc_graph_new(1);
    int x = nc_g_input(g, 3, 4);
    CHECK(nc_g_reshape(g, x, 5, 2) == -1 && nc_graph_status(g) == NC_ERR_ARG);
    CHECK(nc_g_transpose(g, x) == -1);
    nc_graph_free(g);
}

/* The ops in a program against direct computations: ATTENTION against the reference kernel
 * called per unit (so exec derives the dimensions right), TRANSPOSE and RESHAPE against the
 * definition; and the dump names the op with its attributes. */
static void test_forward(void)
{
    size_t S = 3, T = 4, mem = 2, H = 2, dk = 5, dv = 3, W = mem + 1, P = mem + T;
    nc_graph *g = nc_graph_new(5);
    int q = nc_g_input(g, T * S, H * dk);
    int k = nc_g_input(g, P * S, H * dk);
    int v = nc_g_input(g, P * S, H * dv);
    int b = nc_g_input(g, 1, H * W);
    int a = nc_g_attention(g, q, k, v, b, S, H, 0.375f);
    int tr = nc_g_transpose(g, q);
    int rs = nc_g_reshape(g, v, 2, P * S * H * dv / 2);
    nc_g_output(g, a);
    nc_g_output(g, tr);
    nc_g_output(g, rs);
    REQUIRE(nc_graph_status(g) == NC_OK);
    char buf[4096];
    nc_graph_dump(g, buf, sizeof buf);
    CHECK(strstr(buf, "ATTENTION") && strstr(buf, "S=3 H=2 f=0.375") && strstr(buf, "TRANSPOSE") &&
          strstr(buf, "RESHAPE"));
    nc_program *p = NULL;
    REQUIRE(nc_graph_compile(g, 0, &p) == NC_OK);
    size_t nq = T * S * H * dk, nk = P * S * H * dk, nv = P * S * H * dv;
    float *x = malloc((nq + nk + nv + H * W) * sizeof *x);
    REQUIRE(x);
    for (size_t i = 0; i < nq + nk + nv + H * W; i++) x[i] = frand();
    float *xq = x, *xk = x + nq, *xv = xk + nk, *xb = xv + nv;
    nc_program_bind(p, q, xq);
    nc_program_bind(p, k, xk);
    nc_program_bind(p, v, xv);
    nc_program_bind(p, b, xb);
    nc_pool *pool = nc_pool_new(2);
    REQUIRE(pool && nc_program_run(p, pool) == NC_OK);
    nc_pool_free(pool);
    float *out = malloc(T * S * H * dv * sizeof *out), *pr = malloc(T * S * H * W * sizeof *pr);
    float *kt = malloc(P * S * H * dk * sizeof *kt);
    REQUIRE(out && pr && kt);
    nc_attn_dims d = {T, S, mem, H, dk, dv};
    for (size_t s = 0; s < S; s++)
        for (size_t h = 0; h < H; h++)
            nc_attn_fwd_ref(out, pr, kt, xq, xk, xv, xb, 0.375f, &d, s, h);
    CHECK(memcmp(out, nc_program_value(p, a), T * S * H * dv * sizeof *out) == 0);
    const float *t = nc_program_value(p, tr);
    int ok = 1;
    for (size_t r = 0; r < T * S; r++)
        for (size_t c = 0; c < H * dk; c++) ok &= memcmp(&t[c * T * S + r], &xq[r * H * dk + c], 4) == 0;
    CHECK(ok);
    CHECK(memcmp(nc_program_value(p, rs), xv, nv * sizeof *xv) == 0);
    free(out);
    free(pr);
    free(kt);
    free(x);
    nc_program_free(p);
    nc_graph_free(g);
}

int main(void)
{
    test_forward();
    test_bit_identity();
    test_mixed();
    test_stable();
    test_refused();
    test_builder();
    printf("hash of segment outputs, states and gradients: %016llx\n", (unsigned long long)hash);
    return test_finish("test_graph_attention");
}
