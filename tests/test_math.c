/* nc elementary functions: accuracy against double-precision libm, exact special values, and
 * memcmp bit identity of the _avx2 and _avx512 array paths against the scalar reference.
 *
 * Usage: test_math [samples-per-function]   default 10^7; the seed is fixed and printed
 *        test_math exhaustive [function]    accuracy on all 2^32 inputs (ctest label "slow")
 *        test_math exhaustive-identity [function]   SIMD == _ref on all 2^32 inputs ("slow") */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "nc/nc.h"

#define PI_D 3.14159265358979323846
#define LN2_D 0.69314718055994530942

typedef void (*varray_fn)(float *y, const float *x, size_t n);

/* ---- Helpers --------------------------------------------------------------------------------- */

static float f_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t u_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Error of y in units of the last place of the float format at the reference value. Overflow to
 * infinity counts as the value 2^128, so a correctly rounded overflow scores <= 0.5. NaN must
 * match NaN; any other mismatch with a NaN or infinite reference is an infinite error. */
static double ulp_err(float y, double ref)
{
    if (isnan(ref) || isnan(y))
        return isnan(ref) && isnan(y) ? 0.0 : INFINITY;
    if (isinf(ref))
        return (double)y == ref ? 0.0 : INFINITY;
    double yd = isinf(y) ? copysign(0x1p128, (double)y) : (double)y;
    if (fabs(ref) > 0x1p128)
        ref = copysign(0x1p128, ref); /* beyond the float range: as good as 2^128 */
    double a = fabs(ref);
    int e = 0;
    if (a > 0.0)
        frexp(a, &e);
    int binade = e - 1; /* a in [2^binade, 2^(binade+1)) */
    if (binade < -126)
        binade = -126; /* subnormals: fixed spacing 2^-149 */
    if (binade > 127)
        binade = 127;
    return fabs(yd - ref) / ldexp(1.0, binade - 23);
}

/* ---- Double-precision references of the same mathematical functions -------------------------- */

static double ref_exp(double x) { return exp(x); }
static double ref_log(double x) { return log(x); }
static double ref_tanh(double x) { return tanh(x); }
static double ref_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* 0.5 x (1 + tanh(u)) written as x / (1 + e^(-2u)): the same function, without the cancellation
 * that 1 + tanh(u) would suffer in double for very negative x. */
static double gelu_u(double x)
{
    return sqrt(2.0 / PI_D) * (x + 0.044715 * x * x * x);
}

static double ref_gelu(double x)
{
    if (isinf(x))
        return x > 0 ? x : 0.0;
    return x / (1.0 + exp(-2.0 * gelu_u(x)));
}

static double ref_gelu_grad(double x)
{
    if (isinf(x))
        return x > 0 ? 1.0 : 0.0;
    double v = 2.0 * gelu_u(x);
    double s = 1.0 / (1.0 + exp(-v)), sm = 1.0 / (1.0 + exp(v));
    double dv = 2.0 * sqrt(2.0 / PI_D) * (1.0 + 3.0 * 0.044715 * x * x);
    double t = x * s * sm * dv;
    return s + (isnan(t) ? 0.0 : t); /* huge |x|: s * sm is 0, x * dv may be inf */
}

/* ---- The functions under test ---------------------------------------------------------------- */

/* What the accuracy checks measured for one function (per thread in exhaustive mode). */
struct stats {
    double worst_ulp;       /* over every input */
    double worst_ulp_bound; /* over inputs judged by the ulp bound (abs error > abs_ok) */
    double worst_abs;       /* max absolute error over inputs with |ref| < 1 */
    float worst_x;          /* where worst_ulp_bound was reached */
    long long tested, failed;
};

struct fn {
    const char *name;
    float (*scalar)(float);
    varray_fn ref, avx2, avx512;
    double (*reference)(double);
    float lo1, hi1, lo2, hi2; /* two dense sampling ranges */
    double max_ulp;           /* accuracy bound in ulp ... */
    double abs_ok;            /* ... or this absolute error (0: ulp bound only) */
    struct stats st;
};

/* The _avx2 and _avx512 variants exist only on x86; elsewhere have_avx2() and have_avx512() are
 * 0, so the slots are never compared and hold _ref. */
#if defined(__x86_64__) || defined(__i386__)
#define HAVE_X86 1
#define SIMD(f) f##_avx2, f##_avx512
#else
#define HAVE_X86 0
#define SIMD(f) f##_ref, f##_ref
#endif

static struct fn fns[] = {
    {"exp", nc_expf, nc_vexp_ref, SIMD(nc_vexp), ref_exp,
     -104.0f, 89.0f, -2.0f, 2.0f, 2.0, 0.0, {0, 0, 0, 0, 0, 0}},
    {"log", nc_logf, nc_vlog_ref, SIMD(nc_vlog), ref_log,
     0.0f, 4.0f, 0.5f, 2.0f, 2.0, 0.0, {0, 0, 0, 0, 0, 0}},
    {"tanh", nc_tanhf, nc_vtanh_ref, SIMD(nc_vtanh), ref_tanh,
     -10.0f, 10.0f, -1.0f, 1.0f, 2.0, 0.0, {0, 0, 0, 0, 0, 0}},
    {"sigmoid", nc_sigmoidf, nc_vsigmoid_ref, SIMD(nc_vsigmoid), ref_sigmoid,
     -110.0f, 30.0f, -10.0f, 10.0f, 2.0, 0.0, {0, 0, 0, 0, 0, 0}},
    {"gelu", nc_geluf, nc_vgelu_ref, SIMD(nc_vgelu), ref_gelu,
     -12.0f, 12.0f, -5.0f, 3.0f, 2.0, 0x1p-126, {0, 0, 0, 0, 0, 0}},
    {"gelu_grad", nc_gelu_gradf, nc_vgelu_grad_ref, SIMD(nc_vgelu_grad),
     ref_gelu_grad, -12.0f, 12.0f, -5.0f, 3.0f, 4.0, 0x1p-23, {0, 0, 0, 0, 0, 0}},
};
#define NFNS (sizeof fns / sizeof fns[0])

/* ---- Inputs ---------------------------------------------------------------------------------- */

/* Values every path must get right: zeros, subnormals, infinities, NaNs of both signs with
 * payloads (quiet and signalling), the largest finite floats, and thresholds of each function. */
static const uint32_t special_bits[] = {
    0x00000000u, 0x80000000u, 0x00000001u, 0x80000001u, 0x007FFFFFu, 0x807FFFFFu,
    0x00800000u, 0x80800000u, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x7F800000u, 0xFF800000u,
    0x7FC00000u, 0xFFC00000u, 0x7FC12345u, 0xFFD00001u, 0x7F800001u, 0xFF812345u,
    0x3F800000u, 0xBF800000u, 0x3F7FFFFFu, 0x3F800001u,
};

static const float special_vals[] = {
    0x1.62e430p+6f, 89.0f, 89.1f, 100.0f, 128.0f, -0x1.5d58a0p+6f, -0x1.9fe368p+6f, -104.0f,
    -104.5f,
    -150.0f, 0.625f, -0.625f, 0.62499994f, 9.0f, 9.1f, -9.1f, 17.0f, 17.5f, -17.5f, 20.0f,
    -20.0f, 20.000002f, -20.000002f, 44.0f, 45.0f, -45.0f, 0.5f, 2.0f, 1e-8f, -1e-8f, 1e30f,
    -1e30f, -3.0f, -2.0f, -0.75f, 0.7071067f, 1.4142135f,
};

static float special_input(uint64_t *rng)
{
    size_t nb = sizeof special_bits / sizeof special_bits[0];
    size_t nv = sizeof special_vals / sizeof special_vals[0];
    uint32_t i = test_rand_below(rng, (uint32_t)(nb + nv));
    return i < nb ? f_of(special_bits[i]) : special_vals[i - nb];
}

static float uniform(uint64_t *rng, float lo, float hi)
{
    double u = (double)(test_rand64(rng) >> 11) * 0x1p-53;
    return (float)(lo + (hi - lo) * u);
}

/* Mixed inputs: 20% random bit patterns (the whole float range, NaNs included), 38% each of the
 * two dense ranges, 4% special values and their neighbours. */
static float mixed_input(uint64_t *rng, const struct fn *f)
{
    uint32_t c = test_rand_below(rng, 100);
    if (c < 20)
        return f_of((uint32_t)test_rand64(rng));
    if (c < 58)
        return uniform(rng, f->lo1, f->hi1);
    if (c < 96)
        return uniform(rng, f->lo2, f->hi2);
    float s = special_input(rng);
    if (isnan(s) || c < 98)
        return s;
    return f_of(u_of(s) + test_rand_below(rng, 64) - 32); /* a neighbour */
}

/* ---- Accuracy -------------------------------------------------------------------------------- */

static void judge(const struct fn *f, struct stats *st, float x, float y)
{
    double ref = f->reference((double)x);
    double e = ulp_err(y, ref);
    double abs_e = isnan(ref) || isinf(ref) ? 0.0 : fabs((double)y - ref);
    if (isinf(y) && !isinf(ref))
        abs_e = INFINITY;
    int by_abs = f->abs_ok > 0.0 && abs_e <= f->abs_ok;
    st->tested++;
    if (e > st->worst_ulp)
        st->worst_ulp = e;
    if (!by_abs && e > st->worst_ulp_bound) {
        st->worst_ulp_bound = e;
        st->worst_x = x;
    }
    if (fabs(ref) < 1.0 && abs_e > st->worst_abs)
        st->worst_abs = abs_e;
    if (!by_abs && !(e <= f->max_ulp)) {
        if (st->failed++ < 10)
            fprintf(stderr, "%s(%a) = %a, reference %a: %.3f ulp, abs err %g\n", f->name,
                    (double)x, (double)y, ref, e, abs_e);
    }
}

static void merge_stats(struct stats *to, const struct stats *from)
{
    if (from->worst_ulp > to->worst_ulp)
        to->worst_ulp = from->worst_ulp;
    if (from->worst_ulp_bound > to->worst_ulp_bound) {
        to->worst_ulp_bound = from->worst_ulp_bound;
        to->worst_x = from->worst_x;
    }
    if (from->worst_abs > to->worst_abs)
        to->worst_abs = from->worst_abs;
    to->tested += from->tested;
    to->failed += from->failed;
}

static void report_accuracy(const struct fn *f)
{
    const struct stats *st = &f->st;
    printf("  %-9s max %.3f ulp over %lld inputs", f->name, st->worst_ulp, st->tested);
    if (f->abs_ok > 0.0)
        printf(" (%.3f ulp where abs err > 2^%d; max abs err %.3g where |f| < 1)",
               st->worst_ulp_bound, ilogb(f->abs_ok), st->worst_abs);
    printf(", worst at x = %a; bound %.0f ulp\n", (double)st->worst_x, f->max_ulp);
    CHECK_MSG(st->failed == 0, "%s: %lld input(s) outside the bound", f->name, st->failed);
}

enum { BLOCK = 4096 };

static void test_accuracy(struct fn *f, long samples, uint64_t seed)
{
    static float x[BLOCK], y[BLOCK];
    uint64_t rng = seed;
    for (long done = 0; done < samples; done += BLOCK) {
        size_t n = (size_t)(samples - done < BLOCK ? samples - done : BLOCK);
        for (size_t i = 0; i < n; i++)
            x[i] = mixed_input(&rng, f);
        f->ref(y, x, n);
        for (size_t i = 0; i < n; i++)
            judge(f, &f->st, x[i], y[i]);
    }
    /* Every float within 2^14 ulp of the thresholds and of the small/large switch points. */
    for (size_t s = 0; s < sizeof special_vals / sizeof special_vals[0]; s++) {
        for (int32_t d = -(1 << 14); d < (1 << 14); d += BLOCK) {
            for (int32_t i = 0; i < BLOCK; i++)
                x[i] = f_of(u_of(special_vals[s]) + (uint32_t)(d + i));
            f->ref(y, x, BLOCK);
            for (size_t i = 0; i < BLOCK; i++)
                judge(f, &f->st, x[i], y[i]);
        }
    }
    /* Subnormal inputs: every 97th of them, both signs. */
    for (uint32_t b = 1; b < 0x00800000u; b += 97) {
        judge(f, &f->st, f_of(b), f->scalar(f_of(b)));
        judge(f, &f->st, f_of(b | 0x80000000u), f->scalar(f_of(b | 0x80000000u)));
    }
}

/* ---- Exact special values -------------------------------------------------------------------- */

static int same_bits(float a, float b)
{
    return u_of(a) == u_of(b);
}

#define CHECK_BITS(got, want)                                                                \
    CHECK_MSG(same_bits((got), (want)), "%s = %a (0x%08x), want %a (0x%08x)", #got,          \
              (double)(got), u_of(got), (double)(want), u_of(want))

static void test_specials(void)
{
    const float inf = INFINITY;
    const float sub = f_of(0x00000001u), sub_big = f_of(0x007FFFFFu);

    /* NaN in, NaN out, for every function and NaN flavour (payload kept, quieted). */
    const uint32_t nans[] = {0x7FC00000u, 0xFFC00000u, 0x7FC12345u, 0x7F800001u, 0xFF812345u};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        float q = f_of(nans[i]);
        for (size_t j = 0; j < NFNS; j++) {
            float y = fns[j].scalar(q);
            CHECK_MSG(isnan(y), "%s(NaN 0x%08x) is not NaN", fns[j].name, nans[i]);
            CHECK_MSG(u_of(y) == (nans[i] | 0x00400000u), "%s(0x%08x) = 0x%08x, want 0x%08x",
                      fns[j].name, nans[i], u_of(y), nans[i] | 0x00400000u);
        }
    }

    /* exp */
    CHECK_BITS(nc_expf(0.0f), 1.0f);
    CHECK_BITS(nc_expf(-0.0f), 1.0f);
    CHECK_BITS(nc_expf(sub), 1.0f);
    CHECK_BITS(nc_expf(-sub), 1.0f);
    CHECK_BITS(nc_expf(inf), inf);
    CHECK_BITS(nc_expf(-inf), 0.0f);
    CHECK_BITS(nc_expf(FLT_MAX), inf);
    CHECK_BITS(nc_expf(-FLT_MAX), 0.0f);
    /* Overflow: 88.7228317 is the largest x with finite e^x, 88.7228394 the smallest with inf. */
    CHECK(ulp_err(nc_expf(0x1.62e42ep+6f), exp(0x1.62e42ep+6)) <= 1.0);
    CHECK(nc_expf(0x1.62e42ep+6f) < inf);
    CHECK_BITS(nc_expf(0x1.62e430p+6f), inf);
    /* Gradual underflow starts between -87.3365402 (normal result) and -87.3365479. */
    CHECK(nc_expf(-0x1.5d589ep+6f) >= FLT_MIN);
    CHECK(nc_expf(-0x1.5d58a0p+6f) < FLT_MIN && nc_expf(-0x1.5d58a0p+6f) > 0.0f);
    CHECK_BITS(nc_expf(-0x1.9fe368p+6f), f_of(1));  /* -103.972076: rounds up to 2^-149 */
    CHECK_BITS(nc_expf(-0x1.9fe36ap+6f), 0.0f);     /* -103.97209: rounds down to 0 */
    CHECK_BITS(nc_expf(1.0f), 0x1.5bf0a8p+1f);      /* e, correctly rounded */

    /* log */
    CHECK_BITS(nc_logf(1.0f), 0.0f);
    CHECK_BITS(nc_logf(0.0f), -inf);
    CHECK_BITS(nc_logf(-0.0f), -inf);
    CHECK_BITS(nc_logf(inf), inf);
    CHECK(isnan(nc_logf(-1.0f)) && isnan(nc_logf(-inf)) && isnan(nc_logf(-sub)));
    CHECK(isnan(nc_logf(-FLT_MIN)));
    CHECK(ulp_err(nc_logf(sub), log(0x1p-149)) <= 1.0);
    CHECK(ulp_err(nc_logf(sub_big), log((double)sub_big)) <= 1.0);
    CHECK(ulp_err(nc_logf(FLT_MAX), log((double)FLT_MAX)) <= 1.0);
    CHECK(ulp_err(nc_logf(2.0f), LN2_D) <= 0.5);
    for (int k = -149; k <= 127; k++)
        CHECK_MSG(ulp_err(nc_logf(ldexpf(1.0f, k)), k * LN2_D) <= 1.0, "log(2^%d)", k);

    /* tanh: odd, exact near 0, saturated to exactly +-1 */
    CHECK_BITS(nc_tanhf(0.0f), 0.0f);
    CHECK_BITS(nc_tanhf(-0.0f), -0.0f);
    CHECK_BITS(nc_tanhf(sub), sub);
    CHECK_BITS(nc_tanhf(-sub), -sub);
    CHECK_BITS(nc_tanhf(1e-20f), 1e-20f);
    CHECK_BITS(nc_tanhf(inf), 1.0f);
    CHECK_BITS(nc_tanhf(-inf), -1.0f);
    CHECK_BITS(nc_tanhf(10.0f), 1.0f);
    CHECK_BITS(nc_tanhf(-10.0f), -1.0f);
    CHECK_BITS(nc_tanhf(FLT_MAX), 1.0f);
    CHECK_BITS(nc_tanhf(-FLT_MAX), -1.0f);
    for (uint64_t rng = 7, i = 0; i < 100000; i++) {
        float x = uniform(&rng, -20.0f, 20.0f);
        CHECK_MSG(same_bits(nc_tanhf(-x), -nc_tanhf(x)), "tanh not odd at %a", (double)x);
    }

    /* sigmoid */
    CHECK_BITS(nc_sigmoidf(0.0f), 0.5f);
    CHECK_BITS(nc_sigmoidf(-0.0f), 0.5f);
    CHECK_BITS(nc_sigmoidf(inf), 1.0f);
    CHECK_BITS(nc_sigmoidf(-inf), 0.0f);
    CHECK_BITS(nc_sigmoidf(20.0f), 1.0f);
    CHECK_BITS(nc_sigmoidf(FLT_MAX), 1.0f);
    CHECK_BITS(nc_sigmoidf(-FLT_MAX), 0.0f);
    CHECK_BITS(nc_sigmoidf(-200.0f), 0.0f);
    CHECK(nc_sigmoidf(-100.0f) > 0.0f); /* e^-100 = 3.7e-44 is a subnormal, not 0 */
    CHECK(ulp_err(nc_sigmoidf(-100.0f), ref_sigmoid(-100.0)) <= 1.0);
    CHECK(ulp_err(nc_sigmoidf(-30.0f), ref_sigmoid(-30.0)) <= 2.0);
    CHECK(nc_sigmoidf(16.0f) < 1.0f);

    /* gelu */
    CHECK_BITS(nc_geluf(0.0f), 0.0f);
    CHECK_BITS(nc_geluf(-0.0f), -0.0f);
    CHECK_BITS(nc_geluf(inf), inf);
    CHECK_BITS(nc_geluf(-inf), -0.0f);
    CHECK_BITS(nc_geluf(25.0f), 25.0f);
    CHECK_BITS(nc_geluf(FLT_MAX), FLT_MAX);
    CHECK_BITS(nc_geluf(-25.0f), -0.0f);
    CHECK_BITS(nc_geluf(-FLT_MAX), -0.0f);
    CHECK(ulp_err(nc_geluf(1.0f), ref_gelu(1.0)) <= 1.0);
    CHECK(ulp_err(nc_geluf(-1.0f), ref_gelu(-1.0)) <= 2.0);

    /* gelu_grad */
    CHECK_BITS(nc_gelu_gradf(0.0f), 0.5f);
    CHECK_BITS(nc_gelu_gradf(inf), 1.0f);
    CHECK_BITS(nc_gelu_gradf(-inf), 0.0f);
    CHECK_BITS(nc_gelu_gradf(25.0f), 1.0f);
    CHECK_BITS(nc_gelu_gradf(-25.0f), 0.0f);
    CHECK_BITS(nc_gelu_gradf(FLT_MAX), 1.0f);
    /* It is the derivative of nc_geluf's formula: central difference in double. */
    for (double x = -6.0; x <= 6.0; x += 0.37) {
        double h = 1e-6, fd = (ref_gelu(x + h) - ref_gelu(x - h)) / (2 * h);
        CHECK_MSG(fabs(fd - nc_gelu_gradf((float)x)) < 1e-6, "gelu_grad(%g) = %g, diff %g", x,
                  (double)nc_gelu_gradf((float)x), fd);
    }
}

/* ---- Bit identity of the SIMD paths ---------------------------------------------------------- */

static int have_avx2(void)
{
#if HAVE_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static int have_avx512(void)
{
#if HAVE_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

/* Compare path `fast` with `ref` on x[0..n) at the given offset into the buffers, out of place
 * and in place. Returns the number of mismatching elements. */
static long compare_paths(const struct fn *f, varray_fn fast, const char *isa, const float *x,
                          size_t n, size_t off, float *yr, float *yf)
{
    long bad = 0;
    f->ref(yr + off, x + off, n);
    fast(yf + off, x + off, n);
    if (memcmp(yr + off, yf + off, n * sizeof(float)) != 0) {
        for (size_t i = 0; i < n; i++) {
            if (u_of(yr[off + i]) != u_of(yf[off + i])) {
                if (bad < 5)
                    fprintf(stderr, "%s_%s(%a) = 0x%08x, ref 0x%08x (n=%zu i=%zu off=%zu)\n",
                            f->name, isa, (double)x[off + i], u_of(yf[off + i]),
                            u_of(yr[off + i]), n, i, off);
                bad++;
            }
        }
    }
    /* In place: y == x. */
    memcpy(yf + off, x + off, n * sizeof(float));
    fast(yf + off, yf + off, n);
    if (memcmp(yr + off, yf + off, n * sizeof(float)) != 0) {
        if (bad < 5)
            fprintf(stderr, "%s_%s in place differs (n=%zu off=%zu)\n", f->name, isa, n, off);
        bad++;
    }
    return bad;
}

static void test_identity(long samples, uint64_t seed)
{
    int avx2 = have_avx2(), avx512 = have_avx512();
    if (!avx2)
        printf("  AVX2+FMA not supported by this CPU: skipping the _avx2 comparison\n");
    if (!avx512)
        printf("  AVX-512F not supported by this CPU: skipping the _avx512 comparison\n");
    if (!avx2 && !avx512)
        return;

    size_t cap = (size_t)samples + 16;
    float *x = malloc(cap * sizeof *x), *yr = malloc(cap * sizeof *yr);
    float *yf = malloc(cap * sizeof *yf);
    REQUIRE(x && yr && yf);
    static const size_t sizes[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 1000};

    for (size_t j = 0; j < NFNS; j++) {
        const struct fn *f = &fns[j];
        uint64_t rng = seed + j;
        for (size_t i = 0; i < cap; i++)
            x[i] = test_rand_below(&rng, 8) == 0 ? special_input(&rng) : mixed_input(&rng, f);
        for (int isa = 0; isa < 2; isa++) {
            if (isa == 0 ? !avx2 : !avx512)
                continue;
            varray_fn fast = isa == 0 ? f->avx2 : f->avx512;
            const char *name = isa == 0 ? "avx2" : "avx512";
            long bad = compare_paths(f, fast, name, x, (size_t)samples, 0, yr, yf);
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
                for (size_t off = 0; off <= 1; off++) /* off = 1: not 32-byte aligned */
                    bad += compare_paths(f, fast, name, x, sizes[s], 3 * s + off, yr, yf);
            CHECK_MSG(bad == 0, "%s_%s: %ld element(s) differ from %s_ref", f->name, name, bad,
                      f->name);
            printf("  %-9s _%s == _ref on %ld inputs + sizes 0..1000 x 2 offsets: %s\n",
                   f->name, name, samples, bad ? "DIFFERENT" : "identical");
        }
    }
    free(x);
    free(yr);
    free(yf);
}

/* ---- Golden hashes: the exact bits are part of the format ------------------------------------
 * Encoder and decoder must agree across builds, compilers and machines, and a file compressed
 * today must decode tomorrow, so the output bits of each function on a fixed input set are
 * pinned here. If a hash changes, every existing .nnz file stops decoding: change it only with a
 * format version bump. */
static const uint64_t golden[] = {
    0x1dddf879e40206b0ull, /* exp */
    0xa2413c2914e78530ull, /* log */
    0xd3b98347619a2611ull, /* tanh */
    0xd411a1e538956ec2ull, /* sigmoid */
    0x60984a126408f236ull, /* gelu */
    0xfd40a7f5e298c382ull, /* gelu_grad */
};

static uint64_t fnv1a(uint64_t h, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        h ^= (v >> (8 * i)) & 0xFFu;
        h *= 0x100000001B3ull;
    }
    return h;
}

static void test_golden(void)
{
    enum { N = 1 << 16 };
    static float x[N], y[N];
    uint64_t rng = 0x60D3Eull;
    for (size_t i = 0; i < N; i++) {
        uint32_t c = test_rand_below(&rng, 8);
        x[i] = c == 0 ? f_of((uint32_t)test_rand64(&rng))
             : c == 1 ? special_input(&rng)
             : c == 2 ? uniform(&rng, -110.0f, 90.0f)
                      : uniform(&rng, -8.0f, 8.0f);
    }
    for (size_t j = 0; j < NFNS; j++) {
        fns[j].ref(y, x, N);
        uint64_t h = 0xCBF29CE484222325ull;
        for (size_t i = 0; i < N; i++)
            h = fnv1a(h, u_of(y[i]));
        CHECK_MSG(h == golden[j], "%s: output hash 0x%016llx, golden 0x%016llx", fns[j].name,
                  (unsigned long long)h, (unsigned long long)golden[j]);
    }
}

/* ---- Exhaustive runs: every one of the 2^32 inputs --------------------------------------------
 * "exhaustive": accuracy, through the fastest path this CPU has (the default test and
 * "exhaustive-identity" show it gives the reference's bits). "exhaustive-identity": memcmp of
 * each SIMD path against _ref. Both split the inputs over two threads. */
struct exhaustive_job {
    const struct fn *f;
    varray_fn path;  /* accuracy: the path measured; identity: the SIMD path */
    int identity;
    uint64_t begin, end;
    struct stats st;
    long long differ;
};

static void *exhaustive_worker(void *arg)
{
    struct exhaustive_job *job = arg;
    float x[BLOCK], y[BLOCK], yr[BLOCK];
    for (uint64_t b = job->begin; b < job->end; b += BLOCK) {
        for (uint32_t i = 0; i < BLOCK; i++)
            x[i] = f_of((uint32_t)(b + i));
        job->path(y, x, BLOCK);
        if (job->identity) {
            job->f->ref(yr, x, BLOCK);
            if (memcmp(y, yr, sizeof y) != 0)
                for (uint32_t i = 0; i < BLOCK; i++)
                    if (u_of(y[i]) != u_of(yr[i]) && job->differ++ < 5)
                        fprintf(stderr, "%s(0x%08x): 0x%08x, ref 0x%08x\n", job->f->name,
                                u_of(x[i]), u_of(y[i]), u_of(yr[i]));
            continue;
        }
        for (uint32_t i = 0; i < BLOCK; i++)
            judge(job->f, &job->st, x[i], y[i]);
    }
    return NULL;
}

static int have_avx2(void);
static int have_avx512(void);

/* Runs the jobs for one function and path over all inputs; returns the number of differences. */
static long long run_exhaustive(struct fn *f, varray_fn path, int identity)
{
    enum { THREADS = 2 };
    struct exhaustive_job jobs[THREADS];
    pthread_t tid[THREADS];
    long long differ = 0;
    for (int t = 0; t < THREADS; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].f = f;
        jobs[t].path = path;
        jobs[t].identity = identity;
        jobs[t].begin = (1ull << 32) / THREADS * (uint64_t)t;
        jobs[t].end = (1ull << 32) / THREADS * (uint64_t)(t + 1);
        REQUIRE(pthread_create(&tid[t], NULL, exhaustive_worker, &jobs[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        REQUIRE(pthread_join(tid[t], NULL) == 0);
        merge_stats(&f->st, &jobs[t].st);
        differ += jobs[t].differ;
    }
    return differ;
}

static void test_exhaustive(const char *only, int identity)
{
    int found = 0, avx2 = have_avx2(), avx512 = have_avx512();
    if (identity && !avx512)
        printf("  AVX-512F not supported by this CPU: skipping the _avx512 comparison\n");
    if (identity && !avx2)
        printf("  AVX2+FMA not supported by this CPU: skipping the _avx2 comparison\n");
    for (size_t j = 0; j < NFNS; j++) {
        struct fn *f = &fns[j];
        if (only && strcmp(only, f->name) != 0)
            continue;
        found = 1;
        if (!identity) {
            run_exhaustive(f, avx512 ? f->avx512 : avx2 ? f->avx2 : f->ref, 0);
            report_accuracy(f);
        }
        for (int isa = 0; identity && isa < 2; isa++) {
            if (isa == 0 ? !avx2 : !avx512)
                continue;
            const char *name = isa == 0 ? "avx2" : "avx512";
            long long differ = run_exhaustive(f, isa == 0 ? f->avx2 : f->avx512, 1);
            CHECK_MSG(differ == 0, "%s_%s: %lld input(s) give other bits than %s_ref", f->name,
                      name, differ, f->name);
            printf("  %-9s _%s == _ref on all 2^32 inputs: %s\n", f->name, name,
                   differ ? "DIFFERENT" : "identical");
        }
        fflush(stdout);
    }
    CHECK_MSG(found, "no function named %s", only);
}

/* ---- Self-test of the measuring code: the checks above can fail ------------------------------ */

static void test_harness(void)
{
    CHECK(ulp_err(1.0f, 1.0) == 0.0);
    CHECK(ulp_err(nextafterf(1.0f, 2.0f), 1.0) == 1.0);
    CHECK(ulp_err(nextafterf(1.0f, 0.0f), 1.0) == 0.5); /* ulp is that of the reference's binade */
    CHECK(ulp_err(f_of(2), 0x1p-149) == 1.0);
    CHECK(ulp_err(INFINITY, 0x1p128) == 0.0 && ulp_err(INFINITY, 1e300) == 0.0);
    CHECK(ulp_err(FLT_MAX, 1e300) == 1.0);
    CHECK(ulp_err(FLT_MAX, 0x1.ffffffp127) == 0.5);
    CHECK(isinf(ulp_err(NAN, 1.0)) && isinf(ulp_err(1.0f, NAN)) && ulp_err(NAN, NAN) == 0.0);
    /* A one-bit difference in one lane must be caught by the identity comparison. */
    float a[9] = {0}, b[9] = {0};
    b[8] = f_of(1);
    CHECK(memcmp(a, b, sizeof a) != 0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strncmp(argv[1], "exhaustive", 10) == 0) {
        int identity = strcmp(argv[1], "exhaustive-identity") == 0;
        REQUIRE(identity || strcmp(argv[1], "exhaustive") == 0);
        printf("test_math %s: all 2^32 inputs per function\n", argv[1]);
        test_harness();
        test_exhaustive(argc > 2 ? argv[2] : NULL, identity);
        return test_finish(identity ? "test_math exhaustive-identity" : "test_math exhaustive");
    }
    long samples = argc > 1 ? atol(argv[1]) : 10000000L;
    long id_samples = samples / 10 > 1000000L ? samples / 10 : 1000000L;
    uint64_t seed = 0x6E6E7A6970ull; /* "nnzip" */
    printf("test_math: seed 0x%llx, %ld accuracy samples per function\n",
           (unsigned long long)seed, samples);

    test_harness();

    clock_t t0 = clock();
    test_golden();
    test_specials();

    for (size_t j = 0; j < NFNS; j++) {
        struct fn *f = &fns[j];
        test_accuracy(f, samples, seed ^ (0x1000u * (j + 1)));
        report_accuracy(f);
    }
    double t1 = (double)(clock() - t0) / CLOCKS_PER_SEC;

    test_identity(id_samples, seed);
    double t2 = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("  time: accuracy %.1f s, identity %.1f s\n", t1, t2 - t1);
    return test_finish("test_math");
}
