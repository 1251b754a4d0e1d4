/* Optimiser: nc_adam_update's SIMD variants give the reference's bits (memcmp) on odd lengths,
 * unaligned pointers and special values; nc_adam_step equals a naive scalar copy of the formula
 * in docs/determinism.md, bit for bit, on every ISA path and 1, 2, 3 threads; a few Adam steps
 * lower the loss of a small least-squares graph, with identical parameters on every path and
 * thread count; bad configurations and calls are refused; the learning-rate schedule is exact at
 * its points, monotone on its segments and pinned by a golden hash. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "nc/nc.h"

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

typedef void (*adam_fn)(float *p, float *m, float *v, const float *grad, float lr, float beta1,
                        float beta2, float c1, float c2, float eps, float clip, size_t n);


/* Gradients: mostly moderate, some +-0, tiny (subnormal) or large; with inf when clipping. */
static float wild_grad(uint64_t *st, int with_inf)
{
    uint32_t k = test_rand_below(st, 32);
    if (k == 0) return -0.0f;
    if (k == 1) return 0.0f;
    if (k == 2 && with_inf) return test_rand_below(st, 2) ? INFINITY : -INFINITY;
    if (k < 6) {
        float u = test_unit(st);
        return ldexpf(u, (int)test_rand_below(st, 156) - 140);
    }
    if (k < 8) return test_unit(st) * 1e4f;
    return test_unit(st) * 0.1f;
}

static int bits_equal(const float *a, const float *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof(float)) == 0;
}

/* ---- kernel variants against the reference ------------------------------------------------ */

static const size_t Ns[] = {0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 100, 257, 1000, 4099};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void check_kernel(const char *name, adam_fn f, uint64_t seed)
{
    uint64_t st = seed;
    for (size_t ni = 0; ni < COUNT(Ns); ni++)
        for (int mode = 0; mode < 4; mode++) {
            size_t n = Ns[ni];
            int has_m = mode & 1;
            float clip = mode & 2 ? 0.5f : 0.0f;
            float beta1 = has_m ? 0.9f : 0.0f, beta2 = 0.9999f, eps = 1e-5f, lr = 3e-3f;
            float *p0 = test_fbuf(n), *m0 = test_fbuf(n), *v0 = test_fbuf(n), *p1 = test_fbuf(n), *m1 = test_fbuf(n);
            float *v1 = test_fbuf(n), *g = test_fbuf(n);
            for (size_t j = 0; j < n; j++) {
                p0[j] = p1[j] = test_unit(&st);
                m0[j] = m1[j] = has_m ? test_unit(&st) * 0.01f : 0.0f;
                v0[j] = v1[j] = j % 7 == 0 ? 0.0f : test_unit(&st) * test_unit(&st) * 1e-4f + 1e-4f;
            }
            float b1k = 1.0f, b2k = 1.0f;
            for (int step = 1; step <= 3; step++) {
                b1k = b1k * beta1;
                b2k = b2k * beta2;
                for (size_t j = 0; j < n; j++) g[j] = wild_grad(&st, clip > 0.0f);
                nc_adam_update_ref(p0, has_m ? m0 : NULL, v0, g, lr, beta1, beta2, 1.0f - b1k,
                                   1.0f - b2k, eps, clip, n);
                f(p1, has_m ? m1 : NULL, v1, g, lr, beta1, beta2, 1.0f - b1k, 1.0f - b2k, eps,
                  clip, n);
                CHECK_MSG(bits_equal(p0, p1, n) && bits_equal(v0, v1, n) &&
                              (!has_m || bits_equal(m0, m1, n)),
                          "%s: n=%zu beta1=%g clip=%g step %d differs from ref", name, n,
                          (double)beta1, (double)clip, step);
            }
            test_ffree(p0), test_ffree(m0), test_ffree(v0), test_ffree(p1), test_ffree(m1), test_ffree(v1), test_ffree(g);
        }
}

/* Golden hash of the reference kernel's outputs on fixed, integer-derived inputs: the Adam bits
 * are part of the format, so a compiler or flag that changes them (contraction, fast-math) fails
 * here even though every variant would change alike. */
#define ADAM_GOLDEN 0x800fc0e3990583fdull

static uint64_t fnv1a(uint64_t h, const float *x, size_t n)
{
    const unsigned char *b = (const unsigned char *)x;
    for (size_t i = 0; i < n * sizeof(float); i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void check_golden(const char *name, adam_fn f)
{
    enum { GN = 67 };
    float p[GN], m[GN], v[GN], g[GN];
    uint64_t h = 0xcbf29ce484222325ull;
    for (int mode = 0; mode < 4; mode++) {
        for (int j = 0; j < GN; j++) {
            p[j] = (float)(j % 13 - 6) / 8.0f;
            m[j] = (float)(j % 5 - 2) / 64.0f;
            v[j] = (float)(j % 7) / 4096.0f;
        }
        float beta1 = mode & 1 ? 0.875f : 0.0f, clip = mode & 2 ? 0.75f : 0.0f;
        float b1k = 1.0f, b2k = 1.0f;
        for (int step = 1; step <= 5; step++) {
            b1k = b1k * beta1;
            b2k = b2k * 0.9999f;
            for (int j = 0; j < GN; j++) g[j] = (float)((j * 7 + step * 3) % 29 - 14) / 10.0f;
            f(p, mode & 1 ? m : NULL, v, g, 1e-3f, beta1, 0.9999f, 1.0f - b1k, 1.0f - b2k, 1e-5f,
              clip, GN);
            h = fnv1a(fnv1a(fnv1a(h, p, GN), m, GN), v, GN);
        }
    }
    CHECK_MSG(h == ADAM_GOLDEN, "%s: Adam golden hash %#llx, expected %#llx", name,
              (unsigned long long)h, (unsigned long long)ADAM_GOLDEN);
}

/* ---- the documented formula, written out naively ------------------------------------------ */

typedef struct naive_adam {
    float beta1, beta2, eps, clip;
    float b1k, b2k;
    float *m, *v;
} naive_adam;

/* docs/determinism.md, "Optimiser", step k, exactly as written there */
static void naive_step(naive_adam *a, float *p, const float *grad, size_t n, float lr)
{
    a->b1k = a->b1k * a->beta1;
    a->b2k = a->b2k * a->beta2;
    float c1 = 1.0f - a->b1k, c2 = 1.0f - a->b2k;
    float omb1 = 1.0f - a->beta1, omb2 = 1.0f - a->beta2;
    for (size_t j = 0; j < n; j++) {
        float g = grad[j];
        if (a->clip > 0.0f) {
            g = g > -a->clip ? g : -a->clip;
            g = g < a->clip ? g : a->clip;
        }
        float m = g;
        if (a->beta1 > 0.0f) {
            float t = omb1 * g;
            m = fmaf(a->beta1, a->m[j], t);
            a->m[j] = m;
        }
        float gg = g * g;
        float t2 = omb2 * gg;
        float v = fmaf(a->beta2, a->v[j], t2);
        a->v[j] = v;
        float num = m / c1;
        float den = sqrtf(v / c2);
        den = den + a->eps;
        float u = num / den;
        float d = lr * u;
        p[j] = p[j] - d;
    }
}

/* Like naive_step but with v = beta2*v + (1-beta2)*(g*g) unfused: a different order, which the
 * comparison must be able to tell apart from the documented one. */
static void unfused_step(naive_adam *a, float *p, const float *grad, size_t n, float lr)
{
    a->b1k = a->b1k * a->beta1;
    a->b2k = a->b2k * a->beta2;
    float c1 = 1.0f - a->b1k, c2 = 1.0f - a->b2k, omb2 = 1.0f - a->beta2;
    for (size_t j = 0; j < n; j++) {
        float g = grad[j];
        float bv = a->beta2 * a->v[j];
        float v = bv + omb2 * (g * g);
        a->v[j] = v;
        p[j] = p[j] - lr * ((g / c1) / (sqrtf(v / c2) + a->eps));
    }
}

static const nc_adam_config cfg_nncp = {0.0f, 0.9999f, 1e-5f, 0.0f};
static const nc_adam_config cfg_full = {0.9f, 0.999f, 1e-8f, 2.0f};

/* nc_adam_step against naive_step for `steps` steps on every ISA and 1..3 threads; n is large
 * enough for several pool chunks. */
static void check_formula(const nc_adam_config *cfg, size_t n, int steps, nc_pool **pools,
                          uint64_t seed)
{
    uint64_t st = seed;
    float *p_init = test_fbuf(n), *grads = test_fbuf((size_t)steps * n), *p_want = test_fbuf(n), *p = test_fbuf(n);
    for (size_t j = 0; j < n; j++) p_init[j] = test_unit(&st);
    for (size_t j = 0; j < (size_t)steps * n; j++) grads[j] = wild_grad(&st, cfg->clip > 0.0f);
    naive_adam na = {cfg->beta1, cfg->beta2, cfg->eps, cfg->clip, 1.0f, 1.0f, test_fbuf(n), test_fbuf(n)};
    memcpy(p_want, p_init, n * sizeof *p);
    for (int s = 0; s < steps; s++)
        naive_step(&na, p_want, grads + (size_t)s * n, n, 1e-3f * (float)(s + 1));

    nc_isa saved = nc_isa_active();
    for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
        if (!nc_isa_supported((nc_isa)isa)) {
            printf("note: %s not supported here, skipped\n", nc_isa_name((nc_isa)isa));
            continue;
        }
        REQUIRE(nc_isa_select((nc_isa)isa) == NC_OK);
        for (int t = 0; t <= 3; t++) { /* t = 0: NULL pool */
            nc_adam *a = nc_adam_new(n, cfg);
            REQUIRE(a != NULL);
            CHECK(nc_adam_state_bytes(a) == (cfg->beta1 > 0.0f ? 2 : 1) * n * sizeof(float));
            memcpy(p, p_init, n * sizeof *p);
            for (int s = 0; s < steps; s++)
                CHECK(nc_adam_step(a, t ? pools[t - 1] : NULL, p, grads + (size_t)s * n, n,
                                   1e-3f * (float)(s + 1)) == NC_OK);
            CHECK_MSG(bits_equal(p, p_want, n),
                      "nc_adam_step %s, %d threads, beta1=%g: differs from the documented formula",
                      nc_isa_name((nc_isa)isa), t, (double)cfg->beta1);
            nc_adam_free(a);
        }
    }
    REQUIRE(nc_isa_select(saved) == NC_OK);

    /* the pin can fail: another order gives other bits for some element */
    if (cfg->beta1 == 0.0f && cfg->clip == 0.0f) {
        naive_adam nu = {cfg->beta1, cfg->beta2, cfg->eps, cfg->clip, 1.0f, 1.0f, test_fbuf(n), test_fbuf(n)};
        memcpy(p, p_init, n * sizeof *p);
        for (int s = 0; s < steps; s++)
            unfused_step(&nu, p, grads + (size_t)s * n, n, 1e-3f * (float)(s + 1));
        CHECK_MSG(!bits_equal(p, p_want, n), "an unfused v gave the same bits: pin too weak");
        test_ffree(nu.m), test_ffree(nu.v);
    }
    test_ffree(na.m), test_ffree(na.v), test_ffree(p_init), test_ffree(grads), test_ffree(p_want), test_ffree(p);
}

/* Hand-computed first step: v = (1-b2) g^2, c2 = 1-b2, so u = g / (|g| + eps) exactly when the
 * roundings cancel; with g = 1, b2 = 0.5, eps = 1: v = 0.5, c2 = 0.5, u = 1 / (1 + 1) = 0.5. */
static void check_hand_values(void)
{
    nc_adam_config c = {0.0f, 0.5f, 1.0f, 0.0f};
    nc_adam *a = nc_adam_new(3, &c);
    REQUIRE(a != NULL);
    float p[3] = {1.0f, 1.0f, 1.0f}, g[3] = {1.0f, -1.0f, 0.0f};
    CHECK(nc_adam_step(a, NULL, p, g, 3, 0.25f) == NC_OK);
    CHECK(p[0] == 0.875f && p[1] == 1.125f && p[2] == 1.0f);
    /* step 2, g = 1 again: v = 0.5*0.5 + 0.5 = 0.75, c2 = 0.75, u = 1/(1+1) */
    CHECK(nc_adam_step(a, NULL, p, g, 3, 0.25f) == NC_OK);
    CHECK(p[0] == 0.75f && p[1] == 1.25f && p[2] == 1.0f);
    nc_adam_free(a);
    /* clipping: g = 10 clipped to 1 gives the same step as g = 1; -inf gives -1 */
    nc_adam_config cc = {0.0f, 0.5f, 1.0f, 1.0f};
    a = nc_adam_new(2, &cc);
    REQUIRE(a != NULL);
    float q[2] = {1.0f, 1.0f}, h[2] = {10.0f, -INFINITY};
    CHECK(nc_adam_step(a, NULL, q, h, 2, 0.25f) == NC_OK);
    CHECK(q[0] == 0.875f && q[1] == 1.125f);
    nc_adam_free(a);
}

static void check_api(void)
{
    nc_adam_config bad[] = {
        {-0.1f, 0.999f, 1e-5f, 0.0f}, {1.0f, 0.999f, 1e-5f, 0.0f},   {0.0f, 1.0f, 1e-5f, 0.0f},
        {0.0f, -0.5f, 1e-5f, 0.0f},   {0.0f, 0.999f, 0.0f, 0.0f},    {0.0f, 0.999f, -1.0f, 0.0f},
        {0.0f, 0.999f, INFINITY, 0.0f}, {0.0f, 0.999f, NAN, 0.0f},   {NAN, 0.999f, 1e-5f, 0.0f},
        {0.0f, NAN, 1e-5f, 0.0f},     {0.0f, 0.999f, 1e-5f, -1.0f}, {0.0f, 0.999f, 1e-5f, NAN},
    };
    for (size_t i = 0; i < COUNT(bad); i++)
        CHECK_MSG(nc_adam_new(4, &bad[i]) == NULL, "bad config %zu accepted", i);
    CHECK(nc_adam_new(4, NULL) == NULL);
    CHECK(nc_adam_new(SIZE_MAX / 2, &cfg_nncp) == NULL);
    CHECK(nc_adam_state_bytes(NULL) == 0);
    nc_adam_free(NULL);

    nc_adam *a = nc_adam_new(4, &cfg_full);
    REQUIRE(a != NULL);
    CHECK(nc_adam_state_bytes(a) == 32);
    float p[4] = {1, 2, 3, 4}, g[4] = {1, 1, 1, 1}, p0[4];
    memcpy(p0, p, sizeof p);
    CHECK(nc_adam_step(NULL, NULL, p, g, 4, 0.1f) == NC_ERR_ARG);
    CHECK(nc_adam_step(a, NULL, p, g, 3, 0.1f) == NC_ERR_ARG);
    CHECK(nc_adam_step(a, NULL, NULL, g, 4, 0.1f) == NC_ERR_ARG);
    CHECK(nc_adam_step(a, NULL, p, NULL, 4, 0.1f) == NC_ERR_ARG);
    CHECK(nc_adam_step(a, NULL, p, g, 4, NAN) == NC_ERR_ARG);
    CHECK(memcmp(p, p0, sizeof p) == 0);
    /* refused calls do not count as steps: the first real step is step 1 (u = g/(|g|+eps)) */
    CHECK(nc_adam_step(a, NULL, p, g, 4, 0.1f) == NC_OK);
    for (int j = 0; j < 4; j++) CHECK(p[j] < p0[j] && p[j] > p0[j] - 0.1001f);
    nc_adam_free(a);

    a = nc_adam_new(0, &cfg_nncp);
    REQUIRE(a != NULL);
    CHECK(nc_adam_state_bytes(a) == 0);
    CHECK(nc_adam_step(a, NULL, NULL, NULL, 0, 0.1f) == NC_OK);
    nc_adam_free(a);
}

/* ---- training a small graph ------------------------------------------------------------------ */

enum { TM = 64, TK = 24, TN = 40 };

/* least squares: loss = sum((x W + b - y)^2), x (TM,TK), W (TK,TN), b (1,TN), y (TM,TN) */
static void check_training(nc_pool **pools)
{
    nc_graph *g = nc_graph_new(7);
    REQUIRE(g != NULL);
    int W = nc_g_param(g, TK, TN, NC_INIT_UNIFORM, 0.2f);
    int b = nc_g_param(g, 1, TN, NC_INIT_CONST, 0.0f);
    int x = nc_g_input(g, TM, TK), y = nc_g_input(g, TM, TN);
    int d = nc_g_sub(g, nc_g_add_bias(g, nc_g_matmul(g, x, W), b), y);
    int L = nc_g_sum_all(g, nc_g_mul(g, d, d));
    nc_g_loss(g, L);
    REQUIRE(nc_graph_status(g) == NC_OK);

    static float xs[TM * TK], ys[TM * TN], wt[TK * TN];
    uint64_t st = 99;
    for (int i = 0; i < TM * TK; i++) xs[i] = test_unit(&st);
    for (int i = 0; i < TK * TN; i++) wt[i] = test_unit(&st);
    for (int i = 0; i < TM; i++)
        for (int j = 0; j < TN; j++) {
            float s = 0.0f;
            for (int k = 0; k < TK; k++) s += xs[i * TK + k] * wt[k * TN + j];
            ys[i * TN + j] = s + 0.25f;
        }

    const int steps = 40;
    float *want = NULL, first = 0.0f, last = 0.0f;
    size_t np = 0;
    nc_isa saved = nc_isa_active();
    const nc_adam_config cfgs[2] = {cfg_nncp, cfg_full};
    for (int ci = 0; ci < 2; ci++) {
        free(want);
        want = NULL;
        for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
            if (!nc_isa_supported((nc_isa)isa))
                continue;
            REQUIRE(nc_isa_select((nc_isa)isa) == NC_OK);
            for (int t = 0; t < 3; t++) {
                nc_program *p = NULL;
                REQUIRE(nc_graph_compile(g, NC_COMPILE_GRAD, &p) == NC_OK);
                REQUIRE(nc_program_bind(p, x, xs) == NC_OK && nc_program_bind(p, y, ys) == NC_OK);
                float *params = nc_program_params(p, &np);
                size_t ng;
                const float *grads = nc_program_grads(p, &ng);
                REQUIRE(ng == np);
                nc_adam *a = nc_adam_new(np, &cfgs[ci]);
                REQUIRE(a != NULL);
                for (int s = 0; s < steps; s++) {
                    REQUIRE(nc_program_run(p, pools[t]) == NC_OK);
                    float loss = nc_program_value(p, L)[0];
                    if (s == 0) first = loss;
                    last = loss;
                    CHECK(nc_adam_step(a, pools[t], params, grads, np, 0.05f) == NC_OK);
                }
                if (!want) {
                    want = malloc(np * sizeof *want);
                    REQUIRE(want != NULL);
                    memcpy(want, params, np * sizeof *want);
                    CHECK_MSG(last < 0.2f * first, "config %d: loss %g -> %g after %d steps", ci,
                              (double)first, (double)last, steps);
                    printf("config %d: loss %g -> %g after %d Adam steps\n", ci, (double)first,
                           (double)last, steps);
                } else {
                    CHECK_MSG(bits_equal(want, params, np),
                              "config %d: %s with %d threads: other parameters", ci,
                              nc_isa_name((nc_isa)isa), t + 1);
                }
                nc_adam_free(a);
                nc_program_free(p);
            }
        }
    }
    REQUIRE(nc_isa_select(saved) == NC_OK);
    free(want);
    nc_graph_free(g);
}

/* ---- learning-rate schedule ---------------------------------------------------------------- */

#define SCHED_GOLDEN 0xdeca78e9cc78ab87ull

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void check_schedule(void)
{
    /* warm-up 0 -> 1e-3 over 1000 steps, hold, down to 2e-4 at 50000, then 1/sqrt decay */
    nc_lr_sched s = {4, 1, {{0, 0.0f}, {1000, 1e-3f}, {20000, 1e-3f}, {50000, 2e-4f}}};
    CHECK(nc_lr_sched_check(&s) == NC_OK);
    for (uint32_t i = 0; i < s.npoints; i++)
        CHECK_MSG(fbits(nc_lr_schedule(&s, s.pt[i].step)) == fbits(s.pt[i].lr), "point %u", i);
    /* monotone on every segment, within its end points */
    float prev = nc_lr_schedule(&s, 0);
    for (uint64_t k = 1; k <= 60000; k++) {
        float lr = nc_lr_schedule(&s, k);
        int up = k <= 1000, flat = k > 1000 && k <= 20000;
        if (up) CHECK_MSG(lr >= prev && lr <= 1e-3f, "step %llu", (unsigned long long)k);
        else if (flat) CHECK_MSG(lr == 1e-3f, "step %llu", (unsigned long long)k);
        else CHECK_MSG(lr <= prev && lr >= 0.0f, "step %llu", (unsigned long long)k);
        prev = lr;
    }
    /* the documented order, written out: linear part and decay */
    CHECK(fbits(nc_lr_schedule(&s, 250)) == fbits(0.0f + (1e-3f - 0.0f) * (250.0f / 1000.0f)));
    float t = (float)(43210 - 20000) / (float)(50000 - 20000);
    CHECK(fbits(nc_lr_schedule(&s, 43210)) == fbits(1e-3f + (2e-4f - 1e-3f) * t));
    CHECK(fbits(nc_lr_schedule(&s, 200000)) == fbits(2e-4f * sqrtf(50000.0f / 200000.0f)));
    CHECK(nc_lr_schedule(&s, 200000) == 1e-4f); /* sqrt(1/4) = 1/2 exactly */
    CHECK(nc_lr_schedule(&s, UINT64_MAX) > 0.0f);
    /* golden hash over many steps: the schedule's bits are part of the format */
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t k = 0; k < 3000000; k += 37) {
        uint32_t u = fbits(nc_lr_schedule(&s, k));
        for (int byte = 0; byte < 4; byte++)
            h = (h ^ ((u >> (8 * byte)) & 0xff)) * 0x100000001b3ull;
    }
    printf("schedule hash %#llx\n", (unsigned long long)h);
    CHECK_MSG(h == SCHED_GOLDEN, "schedule golden hash %#llx", (unsigned long long)h);

    /* no decay: constant after the last point; one point: constant everywhere */
    nc_lr_sched c = {2, 0, {{10, 1e-3f}, {20, 5e-4f}}};
    CHECK(nc_lr_schedule(&c, 0) == 1e-3f && nc_lr_schedule(&c, 10) == 1e-3f);
    CHECK(nc_lr_schedule(&c, 20) == 5e-4f && nc_lr_schedule(&c, 1u << 30) == 5e-4f);
    nc_lr_sched one = {1, 0, {{0, 3e-4f}}};
    CHECK(nc_lr_schedule(&one, 0) == 3e-4f && nc_lr_schedule(&one, 12345) == 3e-4f);

    /* refused schedules give 0 */
    nc_lr_sched bad[] = {
        {0, 0, {{0, 1e-3f}}},
        {5, 0, {{0, 1e-3f}}},
        {2, 0, {{10, 1e-3f}, {10, 1e-3f}}},
        {2, 0, {{10, 1e-3f}, {5, 1e-3f}}},
        {1, 0, {{0, -1e-3f}}},
        {1, 0, {{0, NAN}}},
        {1, 0, {{0, INFINITY}}},
        {1, 2, {{5, 1e-3f}}},
        {1, 1, {{0, 1e-3f}}},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        CHECK_MSG(nc_lr_sched_check(&bad[i]) == NC_ERR_ARG, "bad schedule %zu", i);
        CHECK(nc_lr_schedule(&bad[i], 7) == 0.0f);
    }
    CHECK(nc_lr_sched_check(NULL) == NC_ERR_ARG && nc_lr_schedule(NULL, 1) == 0.0f);
}

int main(void)
{
    uint64_t seed = 0x0badcafe;
    printf("seed %#llx\n", (unsigned long long)seed);
    check_kernel("ref", nc_adam_update_ref, seed); /* deterministic: ref against itself */
    check_golden("ref", nc_adam_update_ref);
#if HAVE_X86
    if (nc_isa_supported(NC_ISA_AVX2)) {
        check_kernel("avx2", nc_adam_update_avx2, seed);
        check_golden("avx2", nc_adam_update_avx2);
    } else {
        printf("note: avx2 not supported here, skipped\n");
    }
    if (nc_isa_supported(NC_ISA_AVX512)) {
        check_kernel("avx512", nc_adam_update_avx512, seed);
        check_golden("avx512", nc_adam_update_avx512);
    } else
        printf("note: avx512 not supported here, skipped\n");
#endif
    nc_pool *pools[3];
    for (int t = 0; t < 3; t++) REQUIRE((pools[t] = nc_pool_new(t + 1)) != NULL);
    check_formula(&cfg_nncp, 70001, 4, pools, seed + 1);
    check_formula(&cfg_full, 70001, 4, pools, seed + 2);
    check_hand_values();
    check_api();
    check_training(pools);
    check_schedule();
    for (int t = 0; t < 3; t++) nc_pool_free(pools[t]);
    return test_finish("test_optim");
}
