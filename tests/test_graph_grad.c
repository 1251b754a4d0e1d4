/* Model bytecode, autodiff: the gradient of every op, alone in a tiny graph with the loss
 * sum(w * op(params)), and of a 3-step LSTM-style block sharing its weights, against central
 * finite differences. The one test with a tolerance: the differences are taken in double from the
 * float program's outputs (the loss is re-summed in double), step 3e-3 made exactly representable
 * around each float parameter. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "nc/nc.h"
#include "transformer_graph.h"

static uint64_t rng = 0x6EAD0002;

static float frand(void) /* uniform in [-1, 1) */
{
    return (float)((int32_t)(test_rand64(&rng) >> 40) - (1 << 23)) * 0x1p-23f;
}

/* sum over the output's elements of wts * out, in double */
static double eval(nc_program *p, int out, const float *wts, size_t n)
{
    REQUIRE(nc_program_run(p, NULL) == NC_OK);
    const float *y = nc_program_value(p, out);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)wts[i] * (double)y[i];
    return s;
}

static double max_err;
static int total_kinks;

/* Compare the program's gradients of params[] with central differences of eval(). */
static void fd_check(nc_program *p, int out, const float *wts, size_t n, const int *params,
                     const size_t *sizes, int np, const char *name)
{
    nc_status st = nc_program_run(p, NULL);
    if (st)
        fprintf(stderr, "%s: %s\n", name, nc_status_str(st));
    REQUIRE(st == NC_OK);
    for (int q = 0; q < np; q++) {
        float *x = nc_program_param(p, params[q]);
        size_t m = sizes[q];
        float *grad = malloc(m * sizeof *grad);
        REQUIRE(grad && x);
        REQUIRE(nc_program_run(p, NULL) == NC_OK);
        memcpy(grad, nc_program_grad(p, params[q]), m * sizeof *grad);
        int bad = 0, kinks = 0;
        double l0 = eval(p, out, wts, n);
        for (size_t j = 0; j < m; j++) {
            float x0 = x[j];
            const double h = 3e-3;
            float xp = (float)(x0 + h), xm = (float)(x0 - h);
            x[j] = xp;
            double lp = eval(p, out, wts, n);
            x[j] = xm;
            double lm = eval(p, out, wts, n);
            x[j] = x0;
            double fd = (lp - lm) / ((double)xp - (double)xm);
            /* min(1-f, i) switching sides within the step is a kink, where a central difference
             * means nothing: the one-sided slopes disagree there. Skipped, and counted. */
            double up = (lp - l0) / ((double)xp - x0), down = (l0 - lm) / (x0 - (double)xm);
            if (fabs(up - down) > 0.1 * (fabs(up) + fabs(down)) + 1e-2) {
                kinks++;
                continue;
            }
            double err = fabs(fd - grad[j]) / (2e-3 + fabs(fd));
            if (err > max_err)
                max_err = err;
            if (fabs(fd - grad[j]) > 2e-3 + 1e-2 * fabs(fd) && bad++ < 3)
                CHECK_MSG(0, "%s: param %d elem %zu: autodiff %.7g, finite difference %.7g", name,
                          q, j, (double)grad[j], fd);
        }
        CHECK_MSG(kinks <= (int)(m / 10), "%s: param %d: %d of %zu elements at a kink", name, q,
                  kinks, m);
        total_kinks += kinks;
        free(grad);
    }
}

enum { M = 4, N = 5, K = 3, V = 6 };

static void test_each_op(void)
{
    for (int op = 0; op < 34; op++) {
        nc_graph *g = nc_graph_new(100 + (uint64_t)op);
        int A = nc_g_param(g, M, N, NC_INIT_UNIFORM, 1.0f);
        int B = nc_g_param(g, M, N, NC_INIT_UNIFORM, 1.0f);
        int X = nc_g_param(g, M, K, NC_INIT_UNIFORM, 1.0f);
        int W = nc_g_param(g, K, N, NC_INIT_UNIFORM, 1.0f);
        int WT = nc_g_param(g, N, K, NC_INIT_UNIFORM, 1.0f);
        int G = nc_g_param(g, 1, N, NC_INIT_UNIFORM, 1.0f);
        int BI = nc_g_param(g, 1, N, NC_INIT_UNIFORM, 1.0f);
        int T = nc_g_param(g, V, N, NC_INIT_UNIFORM, 1.0f);
        int I = nc_g_index(g, M);
        int y = -1;
        int ps[4] = {A, -1, -1, -1};
        int np = 1;
        const char *name = "?";
        switch (op) {
        case 0: y = nc_g_matmul(g, X, W); ps[0] = X; ps[1] = W; np = 2; name = "matmul"; break;
        case 1: y = nc_g_matmul_nt(g, X, WT); ps[0] = X; ps[1] = WT; np = 2; name = "matmul_nt"; break;
        case 2: y = nc_g_add(g, A, B); ps[1] = B; np = 2; name = "add"; break;
        case 3: y = nc_g_sub(g, A, B); ps[1] = B; np = 2; name = "sub"; break;
        case 4: y = nc_g_mul(g, A, B); ps[1] = B; np = 2; name = "mul"; break;
        case 5: y = nc_g_min(g, A, B); ps[1] = B; np = 2; name = "min"; break;
        case 6: y = nc_g_add_bias(g, A, BI); ps[1] = BI; np = 2; name = "add_bias"; break;
        case 7: y = nc_g_scale(g, A, -1.75f); name = "scale"; break;
        case 8: y = nc_g_one_minus(g, A); name = "one_minus"; break;
        case 9: y = nc_g_sigmoid(g, nc_g_scale(g, A, 3.0f)); name = "sigmoid"; break;
        case 10: y = nc_g_tanh(g, nc_g_scale(g, A, 2.0f)); name = "tanh"; break;
        case 11: y = nc_g_exp(g, A); name = "exp"; break;
        case 12: y = nc_g_gelu(g, nc_g_scale(g, A, 3.0f)); name = "gelu"; break;
        case 13: y = nc_g_softmax(g, nc_g_scale(g, A, 2.0f)); name = "softmax"; break;
        case 14: y = nc_g_log_softmax(g, nc_g_scale(g, A, 2.0f)); name = "log_softmax"; break;
        case 15: y = nc_g_cross_entropy(g, A, I); name = "cross_entropy"; break;
        case 16: y = nc_g_rmsnorm(g, A, G, 1e-5f); ps[1] = G; np = 2; name = "rmsnorm"; break;
        case 17:
            y = nc_g_layernorm(g, A, G, BI, 1e-5f);
            ps[1] = G;
            ps[2] = BI;
            np = 3;
            name = "layernorm";
            break;
        case 18: y = nc_g_gather(g, T, I); ps[0] = T; name = "gather"; break;
        case 19: y = nc_g_concat_cols(g, A, X); ps[1] = X; np = 2; name = "concat_cols"; break;
        case 20: y = nc_g_slice_cols(g, A, 1, 3); name = "slice_cols"; break;
        case 21: y = nc_g_concat_rows(g, A, B); ps[1] = B; np = 2; name = "concat_rows"; break;
        case 22: y = nc_g_slice_rows(g, A, 1, 2); name = "slice_rows"; break;
        case 23: y = nc_g_sum_all(g, A); name = "sum_all"; break;
        case 24: y = nc_g_mul(g, A, A); name = "mul(a,a)"; break; /* two contributions, native acc */
        case 25: { /* two uses of A whose backward ops cannot accumulate: temp + COPY += */
            int ta = nc_g_tanh(g, A), sa = nc_g_sigmoid(g, A);
            y = nc_g_add(g, ta, sa);
            name = "tanh(a)+sigmoid(a)";
            break;
        }
        case 26: { /* slices of one value: PAD_COLS accumulating into one gradient */
            int s1 = nc_g_slice_cols(g, A, 0, 3), s2 = nc_g_slice_cols(g, A, 2, 3);
            y = nc_g_mul(g, s1, s2);
            name = "slice*slice";
            break;
        }
        case 27: { /* an n-ary row concat with a repeated operand */
            int parts[5] = {A, B, A, nc_g_tanh(g, B), A};
            y = nc_g_concat_rows_n(g, parts, 5);
            ps[1] = B;
            np = 2;
            name = "concat_rows_n";
            break;
        }
        case 28: {
            int parts[3] = {X, A, X};
            y = nc_g_concat_cols_n(g, parts, 3);
            ps[1] = X;
            np = 2;
            name = "concat_cols_n";
            break;
        }
        case 29: y = nc_g_transpose(g, A); name = "transpose"; break;
        case 30: y = nc_g_reshape(g, A, 2, 10); name = "reshape"; break;
        case 31: { /* transpose and reshape of one value: accumulating into one gradient */
            int t1 = nc_g_transpose(g, A);
            int r1 = nc_g_reshape(g, A, N, M);
            y = nc_g_mul(g, t1, r1);
            name = "transpose*reshape";
            break;
        }
        case 32: { /* S = 2 streams, T = 2 steps, mem = 1, H = 2 heads, dk = 2, dv = 3 */
            int Q = nc_g_param(g, 4, 4, NC_INIT_UNIFORM, 1.0f);
            int Kp = nc_g_param(g, 6, 4, NC_INIT_UNIFORM, 1.0f);
            int Vp = nc_g_param(g, 6, 6, NC_INIT_UNIFORM, 1.0f);
            int Bp = nc_g_param(g, 1, 4, NC_INIT_UNIFORM, 1.0f);
            y = nc_g_attention(g, Q, Kp, Vp, Bp, 2, 2, 0.7f);
            ps[0] = Q, ps[1] = Kp, ps[2] = Vp, ps[3] = Bp;
            np = 4;
            name = "attention";
            break;
        }
        case 33: { /* q, k and v from one value: dq, dk, dv meet in one gradient; mem = 3,
                    * 3 streams, 1 step, one head of 5 */
            int KV = nc_g_param(g, 12, 5, NC_INIT_UNIFORM, 1.0f);
            int Bp = nc_g_param(g, 1, 4, NC_INIT_UNIFORM, 1.0f);
            int q = nc_g_slice_rows(g, KV, 9, 3);
            y = nc_g_attention(g, q, KV, KV, Bp, 3, 1, 0.45f);
            ps[0] = KV, ps[1] = Bp;
            np = 2;
            name = "attention(kv, kv, kv)";
            break;
        }
        }
        size_t rows = 0, cols = 0;
        REQUIRE(nc_graph_shape(g, y, &rows, &cols) == NC_OK);
        nc_g_output(g, y);
        int Wt = nc_g_input(g, rows, cols);
        int L = nc_g_sum_all(g, nc_g_mul(g, Wt, y));
        nc_g_loss(g, L);
        REQUIRE(nc_graph_status(g) == NC_OK);
        nc_program *p = NULL;
        REQUIRE(nc_graph_compile(g, NC_COMPILE_GRAD, &p) == NC_OK);

        size_t n = rows * cols;
        float *wts = malloc(n * sizeof *wts);
        for (size_t i = 0; i < n; i++) wts[i] = frand();
        uint32_t idx[M] = {2, 4, 2, 0}; /* a repeated index: scatter-add order */
        nc_program_bind(p, Wt, wts);
        nc_program_bind(p, I, idx);
        /* min: keep the operands apart so the finite difference never crosses the kink */
        if (op == 5) {
            float *a = nc_program_param(p, A), *b = nc_program_param(p, B);
            for (int i = 0; i < M * N; i++) b[i] = a[i] + (i % 2 ? 0.25f : -0.25f) * (1 + (i % 3));
        }
        size_t sizes[4];
        for (int q = 0; q < np; q++) {
            size_t r, cc;
            REQUIRE(nc_graph_shape(g, ps[q], &r, &cc) == NC_OK);
            sizes[q] = r * cc;
        }
        fd_check(p, y, wts, n, ps, sizes, np, name);
        /* parameters that do not reach the loss get a zero gradient */
        const float *gt = nc_program_grad(p, op == 18 ? A : T);
        int zero = 1;
        for (int i = 0; i < 4; i++) zero &= gt[i] == 0.0f;
        CHECK_MSG(zero, "%s: unused parameter has a gradient", name);
        free(wts);
        nc_program_free(p);
        nc_graph_free(g);
    }
}

/* Two steps of an LSTM-style cell sharing W and b, time-major rows (row = t*S + s), with the
 * clamped cell update c = c*f + min(1-f, i)*g, an embedding, RMSNorm and a softmax output. */
enum { S = 2, TS = 3, E = 3, H = 4, VOC = 7 };

static void test_lstm_block(void)
{
    rng = 0x157A0005; /* independent of how many draws the tests before it made */
    nc_graph *g = nc_graph_new(2024);
    int emb = nc_g_param(g, VOC, E, NC_INIT_UNIFORM, 1.0f);
    int W = nc_g_param(g, E + H, 4 * H, NC_INIT_UNIFORM, 0.7f);
    int bias = nc_g_param(g, 1, 4 * H, NC_INIT_UNIFORM, 0.3f);
    int gain = nc_g_param(g, 1, H, NC_INIT_CONST, 1.0f);
    int Wout = nc_g_param(g, H, VOC, NC_INIT_UNIFORM, 1.0f);
    int sym = nc_g_index(g, TS * S), tgt = nc_g_index(g, TS * S);
    int h0v = nc_g_input(g, S, H), c0v = nc_g_input(g, S, H), h = h0v, c = c0v;
    int x = nc_g_gather(g, emb, sym), hs = -1;
    for (int t = 0; t < TS; t++) {
        int xt = nc_g_slice_rows(g, x, (size_t)t * S, S);
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
        hs = t == 0 ? h : nc_g_concat_rows(g, hs, h);
    }
    int logp = nc_g_log_softmax(g, nc_g_matmul(g, nc_g_rmsnorm(g, hs, gain, 1e-5f), Wout));
    int ce = nc_g_cross_entropy(g, logp, tgt);
    nc_g_output(g, ce);
    nc_g_loss(g, nc_g_sum_all(g, ce));
    REQUIRE(nc_graph_status(g) == NC_OK);
    nc_program *p = NULL;
    REQUIRE(nc_graph_compile(g, NC_COMPILE_GRAD, &p) == NC_OK);
    uint32_t symd[TS * S] = {1, 4, 4, 6, 0, 1}, tgtd[TS * S] = {4, 4, 6, 2, 1, 3};
    float h0[S * H], c0[S * H], ones[TS * S];
    for (int k = 0; k < S * H; k++) {
        h0[k] = 0.5f * frand();
        c0[k] = 0.5f * frand();
    }
    for (int k = 0; k < TS * S; k++) ones[k] = 1.0f;
    nc_program_bind(p, sym, symd);
    nc_program_bind(p, tgt, tgtd);
    REQUIRE(nc_program_bind(p, h0v, h0) == NC_OK);
    REQUIRE(nc_program_bind(p, c0v, c0) == NC_OK);
    int ps[5] = {emb, W, bias, gain, Wout};
    size_t sizes[5] = {VOC * E, (E + H) * 4 * H, 4 * H, H, H * VOC};
    fd_check(p, ce, ones, TS * S, ps, sizes, 5, "lstm block");
    nc_program_free(p);
    nc_graph_free(g);
}

/* One transformer block (tests/transformer_graph.h) with a key/value memory of 3 positions
 * bound as inputs: every parameter's gradient against finite differences. */
static void test_transformer_block(void)
{
    rng = 0x7BF0001;
    trf m;
    trf_cfg cfg = {.S = 2, .T = 3, .mem = 3, .C = 8, .H = 2, .dk = 4, .F = 12, .V = 9,
                   .layers = 1};
    trf_build(&m, &cfg);
    REQUIRE(nc_graph_status(m.g) == NC_OK);
    nc_program *p = NULL;
    REQUIRE(nc_graph_compile(m.g, NC_COMPILE_GRAD, &p) == NC_OK);
    size_t R = cfg.T * cfg.S, MR = cfg.mem * cfg.S * cfg.H * cfg.dk;
    uint32_t sym[6], tgt[6];
    float kin[48], vin[48], ones[6];
    REQUIRE(MR <= 48 && R <= 6);
    for (size_t r = 0; r < R; r++) {
        sym[r] = test_rand_below(&rng, (uint32_t)cfg.V);
        tgt[r] = test_rand_below(&rng, (uint32_t)cfg.V);
        ones[r] = 1.0f;
    }
    for (size_t i = 0; i < MR; i++) {
        kin[i] = frand();
        vin[i] = frand();
    }
    nc_program_bind(p, m.sym, sym);
    nc_program_bind(p, m.tgt, tgt);
    REQUIRE(nc_program_bind(p, m.kin[0], kin) == NC_OK);
    REQUIRE(nc_program_bind(p, m.vin[0], vin) == NC_OK);
    fd_check(p, m.ce, ones, R, m.param, m.psize, m.nparam, "transformer block");
    nc_program_free(p);
    nc_graph_free(m.g);
}

int main(void)
{
    test_each_op();
    test_lstm_block();
    test_transformer_block();
    printf("largest relative gradient error: %.3g; %d elements skipped at a kink\n", max_err,
           total_kinks);
    return test_finish("test_graph_grad");
}
