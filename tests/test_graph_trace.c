/* The trace hook (nc_program_set_trace): a small LSTM-style training program calls the hook before
 * and after every instruction exactly once, in order (forward, then backward), and the outputs,
 * loss and gradients are memcmp-equal with and without the hook. */
#include <string.h>

#include "harness.h"
#include "nc/nc.h"

typedef struct trace_log {
    int *seq; /* instr * 2 + phase, in call order */
    int n, cap;
} trace_log;

static void record(void *ctx, int instr, int phase)
{
    trace_log *t = ctx;
    if (t->n < t->cap)
        t->seq[t->n] = instr * 2 + phase;
    t->n++;
}

static void count_only(void *ctx, int instr, int phase)
{
    (void)instr;
    if (phase == 0)
        ++*(int *)ctx;
}

int main(void)
{
    const size_t S = 3, T = 4, E = 8, H = 8, V = 20;
    uint64_t rng = 0x7ACE;
    nc_graph *g = nc_graph_new(5);
    REQUIRE(g);
    int emb = nc_g_param(g, V, E, NC_INIT_UNIFORM, 1.0f);
    int W = nc_g_param(g, E + H, 4 * H, NC_INIT_UNIFORM, 0.3f);
    int b = nc_g_param(g, 1, 4 * H, NC_INIT_CONST, 0.1f);
    int gain = nc_g_param(g, 1, E + H, NC_INIT_CONST, 1.0f);
    int Wout = nc_g_param(g, H, V, NC_INIT_UNIFORM, 0.3f);
    int sym = nc_g_index(g, T * S), tgt = nc_g_index(g, T * S);
    int h0 = nc_g_input(g, S, H), c0 = nc_g_input(g, S, H);
    int x = nc_g_gather(g, emb, sym), h = h0, c = c0, outs[4];
    for (size_t t = 0; t < T; t++) {
        nc_g_step(g, (int)t);
        int xt = nc_g_slice_rows(g, x, t * S, S);
        int xin = nc_g_rmsnorm(g, nc_g_concat_cols(g, xt, h), gain, 1e-5f);
        int z = nc_g_add_bias(g, nc_g_matmul(g, xin, W), b);
        int f = nc_g_sigmoid(g, nc_g_slice_cols(g, z, 0, H));
        int i = nc_g_sigmoid(g, nc_g_slice_cols(g, z, H, H));
        int gg = nc_g_tanh(g, nc_g_slice_cols(g, z, 2 * H, H));
        int o = nc_g_sigmoid(g, nc_g_slice_cols(g, z, 3 * H, H));
        int cf = nc_g_mul(g, c, f);
        int ig = nc_g_mul(g, nc_g_min(g, nc_g_one_minus(g, f), i), gg);
        c = nc_g_add(g, cf, ig);
        h = outs[t] = nc_g_mul(g, o, c);
    }
    nc_g_step(g, -1);
    int hs = nc_g_concat_rows_n(g, outs, T);
    int logp = nc_g_log_softmax(g, nc_g_matmul(g, hs, Wout));
    int loss = nc_g_sum_all(g, nc_g_cross_entropy(g, logp, tgt));
    nc_g_output(g, logp);
    nc_g_loss(g, loss);
    nc_g_state(g, h0, h);
    nc_g_state(g, c0, c);
    REQUIRE(nc_graph_status(g) == NC_OK);
    nc_program *p = NULL;
    REQUIRE(nc_graph_compile(g, NC_COMPILE_GRAD, &p) == NC_OK);

    uint32_t syms[12], tgts[12];
    float st[2][3 * 8];
    for (size_t r = 0; r < T * S; r++) {
        syms[r] = test_rand_below(&rng, (uint32_t)V);
        tgts[r] = test_rand_below(&rng, (uint32_t)V);
    }
    for (size_t k = 0; k < S * H; k++) {
        st[0][k] = (float)test_rand_below(&rng, 1000) * 1e-3f - 0.5f;
        st[1][k] = (float)test_rand_below(&rng, 1000) * 1e-3f - 0.5f;
    }
    REQUIRE(nc_program_bind(p, sym, syms) == NC_OK);
    REQUIRE(nc_program_bind(p, tgt, tgts) == NC_OK);
    REQUIRE(nc_program_bind(p, h0, st[0]) == NC_OK);
    REQUIRE(nc_program_bind(p, c0, st[1]) == NC_OK);

    /* without the hook: reference bits */
    size_t np, ng;
    REQUIRE(nc_program_run(p, NULL) == NC_OK);
    const float *gr = nc_program_grads(p, &ng);
    nc_program_params(p, &np);
    float *ref_grads = malloc(ng * sizeof *ref_grads), *ref_logp = malloc(T * S * V * 4);
    REQUIRE(ref_grads && ref_logp);
    memcpy(ref_grads, gr, ng * sizeof *ref_grads);
    memcpy(ref_logp, nc_program_value(p, logp), T * S * V * sizeof *ref_logp);
    float ref_loss = nc_program_value(p, loss)[0];

    /* count the instructions, forward alone then the whole run */
    int nfwd = 0, nall = 0;
    nc_program_set_trace(p, count_only, &nfwd);
    REQUIRE(nc_program_forward(p, NULL) == NC_OK);
    nc_program_set_trace(p, count_only, &nall);
    REQUIRE(nc_program_backward(p, NULL) == NC_OK);
    nall += nfwd;
    CHECK(nfwd > 0 && nall > nfwd);

    /* with the hook: every instruction once, in order, before then after */
    trace_log tl = {malloc((size_t)nall * 2 * sizeof(int)), 0, nall * 2};
    REQUIRE(tl.seq);
    nc_program_set_trace(p, record, &tl);
    REQUIRE(nc_program_run(p, NULL) == NC_OK);
    CHECK(tl.n == 2 * nall);
    for (int k = 0; k < tl.n && k < tl.cap; k++)
        CHECK_MSG(tl.seq[k] == k, "call %d: %d", k, tl.seq[k]);
    CHECK(memcmp(nc_program_grads(p, &ng), ref_grads, ng * sizeof *ref_grads) == 0);
    CHECK(memcmp(nc_program_value(p, logp), ref_logp, T * S * V * sizeof *ref_logp) == 0);
    CHECK(memcmp(nc_program_value(p, loss), &ref_loss, sizeof ref_loss) == 0);

    /* off again: no more calls */
    nc_program_set_trace(p, NULL, NULL);
    tl.n = 0;
    REQUIRE(nc_program_run(p, NULL) == NC_OK);
    CHECK(tl.n == 0);
    CHECK(memcmp(nc_program_grads(p, &ng), ref_grads, ng * sizeof *ref_grads) == 0);
    nc_program_set_trace(NULL, record, &tl); /* NULL program: ignored */

    free(tl.seq);
    free(ref_grads);
    free(ref_logp);
    nc_program_free(p);
    nc_graph_free(g);
    return test_finish("test_graph_trace");
}
