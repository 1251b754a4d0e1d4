/* Model bytecode on random programs: random chains of ops (attention, transpose and reshape
 * included) over a pool of values, each value used
 * any number of times (so gradients accumulate through every path: native acc, temporary +
 * COPY, pass-through of dy), checked against central finite differences, and run with and without
 * workspace reuse and under every supported ISA with 1, 2, 3 threads, which must all give the
 * same bits. A second set of programs uses values of 33,280 and 33,792 floats, above the size from
 * which the interpreter splits element-wise and row-wise instructions over the pool, so the split
 * paths are compared with the sequential ones (bits only: no finite differences there). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nc/nc.h"

static uint64_t rng;

static float frand(void)
{
    return (float)((int32_t)(test_rand64(&rng) >> 40) - (1 << 23)) * 0x1p-23f;
}

/* the shape of every non-weight value: 3 x 4 for the gradient checks, larger for the splits */
static size_t R = 3, C = 4;
enum { NPARAM = 4, MAXV = 64 };

/* Build a random program; returns the value y whose weighted sum is the loss. */
static int build(nc_graph *g, int *params, int *wts, int steps)
{
    int pool[MAXV], n = 0;
    params[0] = pool[n++] = nc_g_param(g, R, C, NC_INIT_UNIFORM, 1.0f);
    params[1] = pool[n++] = nc_g_param(g, R, C, NC_INIT_UNIFORM, 1.0f);
    params[2] = nc_g_param(g, C, C, NC_INIT_UNIFORM, 0.7f); /* a square weight */
    params[3] = nc_g_param(g, 1, C, NC_INIT_UNIFORM, 1.0f); /* a bias / gain */
    int W = params[2], b = params[3];
    for (int s = 0; s < steps && n < MAXV; s++) {
        /* operands favour recent values, but any value may be reused */
        int x = pool[n - 1 - (int)test_rand_below(&rng, (uint32_t)(n < 3 ? n : 3))];
        int y = pool[test_rand_below(&rng, (uint32_t)n)];
        int v = -1, t1, t2;
        switch (test_rand_below(&rng, 19)) {
        case 0: v = nc_g_add(g, x, y); break;
        case 1: v = nc_g_sub(g, x, y); break;
        case 2: v = nc_g_mul(g, x, y); break;
        case 3: v = nc_g_tanh(g, x); break;
        case 4: v = nc_g_sigmoid(g, x); break;
        case 5: v = nc_g_scale(g, x, 0.5f); break;
        case 6: v = nc_g_one_minus(g, x); break;
        case 7: v = nc_g_matmul(g, x, W); break;
        case 8: v = nc_g_matmul_nt(g, x, W); break;
        case 9: v = nc_g_add_bias(g, x, b); break;
        case 10: v = nc_g_rmsnorm(g, x, b, 1e-5f); break;
        case 11: v = nc_g_softmax(g, x); break;
        case 12: v = nc_g_gelu(g, x); break;
        case 13:
            t1 = nc_g_slice_cols(g, x, 0, 1);
            t2 = nc_g_slice_cols(g, y, 1, C - 1);
            v = nc_g_concat_cols(g, t2, t1);
            break;
        case 14:
            t1 = nc_g_slice_rows(g, x, 0, 2);
            t2 = nc_g_slice_rows(g, y, 1, R - 2);
            v = nc_g_concat_rows(g, t1, t2);
            break;
        case 15: v = nc_g_layernorm(g, x, b, b, 1e-5f); break;
        case 16: v = nc_g_mul(g, x, x); break;
        case 17: v = nc_g_reshape(g, nc_g_transpose(g, x), R, C); break; /* a permutation */
        case 18: /* 3 streams, 1 step, a memory of 1 position, 2 heads of 2 */
            if (C != 4) { /* the bias (1, C) fits 2 heads x 2 positions only at C = 4 */
                v = nc_g_tanh(g, x);
                break;
            }
            t1 = nc_g_concat_rows(g, y, x);
            v = nc_g_attention(g, x, t1, t1, b, R, 2, 0.5f);
            break;
        }
        pool[n++] = v;
    }
    int last = pool[n - 1], other = pool[test_rand_below(&rng, (uint32_t)(n - 1))];
    int y = nc_g_add(g, last, other);
    *wts = nc_g_input(g, R, C);
    int wy = nc_g_mul(g, *wts, y);
    nc_g_output(g, y);
    nc_g_loss(g, nc_g_sum_all(g, wy));
    return y;
}

static double eval(nc_program *p, int y, const float *w)
{
    REQUIRE(nc_program_run(p, NULL) == NC_OK);
    const float *o = nc_program_value(p, y);
    double s = 0;
    for (size_t i = 0; i < R * C; i++) s += (double)w[i] * (double)o[i];
    return s;
}

/* Run p under every supported ISA and 1..3 threads; outputs and gradients must equal the ref run. */
static int isa_thread_runs(nc_program *p, int y, nc_pool **pools)
{
    size_t n;
    nc_isa saved = nc_isa_active();
    REQUIRE(nc_isa_select(NC_ISA_REF) == NC_OK && nc_program_run(p, NULL) == NC_OK);
    const float *gr = nc_program_grads(p, &n);
    float *base = malloc((n + R * C) * sizeof *base);
    REQUIRE(base);
    memcpy(base, gr, n * sizeof *base);
    memcpy(base + n, nc_program_value(p, y), R * C * sizeof *base);
    int same = 1;
    for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
        if (!nc_isa_supported((nc_isa)isa))
            continue;
        REQUIRE(nc_isa_select((nc_isa)isa) == NC_OK);
        for (int t = 0; t < 3; t++) {
            REQUIRE(nc_program_run(p, pools[t]) == NC_OK);
            same &= memcmp(base, gr, n * sizeof *base) == 0 &&
                    memcmp(base + n, nc_program_value(p, y), R * C * sizeof *base) == 0;
        }
    }
    REQUIRE(nc_isa_select(saved) == NC_OK);
    free(base);
    return same;
}

/* Like isa_thread_runs, but every run gets a freshly compiled program, so a chunk of a split
 * that is skipped cannot hide behind values an earlier run left in the workspace. */
static int fresh_runs(const nc_graph *g, int wv, const float *w, int y, nc_pool **pools)
{
    nc_isa saved = nc_isa_active();
    float *base = NULL;
    size_t nbase = 0;
    int same = 1;
    for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
        if (!nc_isa_supported((nc_isa)isa))
            continue;
        REQUIRE(nc_isa_select((nc_isa)isa) == NC_OK);
        for (int t = base ? 0 : -1; t < 3; t++) { /* t = -1: the NULL-pool reference run */
            nc_program *p = NULL;
            REQUIRE(nc_graph_compile(g, NC_COMPILE_GRAD, &p) == NC_OK);
            nc_program_bind(p, wv, w);
            REQUIRE(nc_program_run(p, t < 0 ? NULL : pools[t]) == NC_OK);
            size_t n;
            const float *gr = nc_program_grads(p, &n);
            if (!base) {
                nbase = n;
                base = malloc((n + R * C) * sizeof *base);
                REQUIRE(base);
                memcpy(base, gr, n * sizeof *base);
                memcpy(base + n, nc_program_value(p, y), R * C * sizeof *base);
            } else {
                same &= n == nbase && memcmp(base, gr, n * sizeof *base) == 0 &&
                        memcmp(base + n, nc_program_value(p, y), R * C * sizeof *base) == 0;
            }
            nc_program_free(p);
        }
    }
    REQUIRE(nc_isa_select(saved) == NC_OK);
    free(base);
    return same;
}

int main(void)
{
    /* split element-wise instructions from 32768 floats (the default is far higher): the large
     * programs below must take the split paths */
    setenv("NNZIP_SPLIT_MIN", "32768", 1);
    nc_pool *pools[3];
    for (int t = 0; t < 3; t++) REQUIRE((pools[t] = nc_pool_new(t + 1)) != NULL);
    int graphs = 0, checked = 0;
    double worst = 0;
    /* 300 random graphs; 80 under the sanitizers, where each costs ten times as much */
    for (uint64_t seed = 1; seed <= (TEST_SANITIZED ? 80u : 300u); seed++) {
        rng = seed * 0x9E3779B97F4A7C15ull;
        nc_graph *g = nc_graph_new(seed);
        int params[NPARAM], wv;
        int y = build(g, params, &wv, 4 + (int)test_rand_below(&rng, 24));
        REQUIRE(nc_graph_status(g) == NC_OK);
        float w[3 * 4];
        for (size_t i = 0; i < R * C; i++) w[i] = frand();
        nc_program *p = NULL, *q = NULL;
        REQUIRE(nc_graph_compile(g, NC_COMPILE_GRAD, &p) == NC_OK);
        REQUIRE(nc_graph_compile(g, NC_COMPILE_GRAD | NC_COMPILE_NO_REUSE, &q) == NC_OK);
        nc_program_bind(p, wv, w);
        nc_program_bind(q, wv, w);
        REQUIRE(nc_program_run(p, NULL) == NC_OK && nc_program_run(q, NULL) == NC_OK);
        size_t np, nq;
        const float *gp = nc_program_grads(p, &np), *gq = nc_program_grads(q, &nq);
        CHECK_MSG(np == nq && memcmp(gp, gq, np * sizeof *gp) == 0 &&
                      memcmp(nc_program_value(p, y), nc_program_value(q, y), sizeof w) == 0,
                  "seed %llu: reuse changed a result", (unsigned long long)seed);
        CHECK_MSG(isa_thread_runs(q, y, pools), "seed %llu: ISA or thread count changed a result",
                  (unsigned long long)seed);
        float *grad = malloc(np * sizeof *grad);
        REQUIRE(grad);
        memcpy(grad, gp, np * sizeof *grad);
        float *x = nc_program_params(p, NULL);
        int bad = 0;
        for (size_t j = 0; j < np; j++) {
            /* deep random chains have more curvature than single ops: a smaller step */
            float x0 = x[j], xp = (float)(x0 + 3e-3), xm = (float)(x0 - 3e-3);
            x[j] = xp;
            double lp = eval(p, y, w);
            x[j] = xm;
            double lm = eval(p, y, w);
            x[j] = x0;
            double fd = (lp - lm) / ((double)xp - (double)xm);
            double err = fabs(fd - grad[j]) / (3e-3 + fabs(fd));
            if (err > worst)
                worst = err;
            if (fabs(fd - grad[j]) > 3e-3 + 2e-2 * fabs(fd) && bad++ < 2)
                CHECK_MSG(0, "seed %llu: parameter float %zu: autodiff %.7g, finite difference %.7g",
                          (unsigned long long)seed, j, (double)grad[j], fd);
            checked++;
        }
        if (bad) {
            char buf[1 << 14];
            nc_graph_dump(g, buf, sizeof buf);
            fputs(buf, stderr);
        }
        free(grad);
        nc_program_free(p);
        nc_program_free(q);
        nc_graph_free(g);
        graphs++;
    }
    printf("%d random programs, %d parameter gradients checked, largest relative error %.3g\n",
           graphs, checked, worst);

    /* Large values: the interpreter splits them over the pool (from 32768 floats of work). Tall
     * (1040 x 32) and wide (64 x 528) shapes, so row splits, element splits at multiples of 16
     * with a tail, and the column split of the norm gains all run. */
    static const size_t shapes[][2] = {{1040, 32}, {64, 528}};
    int big = 0;
    for (uint64_t seed = 1001; seed <= 1024; seed++) {
        int wide = seed % 6 == 0; /* fewer wide ones: their C x C products are slow on _ref */
        R = shapes[wide][0], C = shapes[wide][1];
        rng = seed * 0x9E3779B97F4A7C15ull;
        nc_graph *g = nc_graph_new(seed);
        int params[NPARAM], wv;
        int y = build(g, params, &wv, 8 + (int)test_rand_below(&rng, 16));
        REQUIRE(nc_graph_status(g) == NC_OK);
        float *w = malloc(R * C * sizeof *w);
        REQUIRE(w);
        for (size_t i = 0; i < R * C; i++) w[i] = frand();
        CHECK_MSG(fresh_runs(g, wv, w, y, pools),
                  "seed %llu (%zu x %zu): ISA or thread count changed a result",
                  (unsigned long long)seed, R, C);
        nc_graph_free(g);
        free(w);
        big++;
    }
    printf("%d large random programs (split over the pool) identical on every path\n", big);
    for (int t = 0; t < 3; t++) nc_pool_free(pools[t]);
    return test_finish("test_graph_random");
}
