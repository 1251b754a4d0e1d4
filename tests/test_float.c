/* The float-array mode (coder/float): the quantiser's bound on every kind of value and the exact
 * comparison it rests on (checked against integer arithmetic, not against itself), parsing of
 * bounds, round trips of raw and .npy arrays of every size and kind through fl_compress and
 * codec_decompress (lossless bit for bit; lossy every value within E, the specials bit for
 * bit), tensor lists, determinism across runs, ISA paths and threads, and cut, damaged and
 * forged files refused.
 *
 * Nothing here depends on the compressed bytes or sizes: the model is still changing. The checks
 * are the contract -- what the decoder gives back, and that damage is an error.
 *
 * `test_float shared` (ctest test_float_shared, a slow test) instead codes the real weight files
 * in $NNZIP_FLOATS_DIR (default /work/shared/floats), lossy with their tensor lists and
 * lossless, and checks every value. */
#include <dirent.h>
#include <fenv.h>
#include <float.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <time.h>

#include "codec.h"
#include "float/fcodec.h"
#include "float/npy.h"
#include "float/quant.h"
#include "float/shapes.h"
#include "harness.h"

static uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint64_t d2u(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double u2d(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* The next double towards +inf (d >= 0 finite), and towards 0 (d > 0): no libm. */
static double d_up(double d)
{
    return d == 0 ? u2d(1) : u2d(d2u(d) + 1);
}

static double d_down(double d)
{
    return u2d(d2u(d) - 1);
}

/* 2^k exactly, by halving or doubling (exact down to the smallest subnormal). */
static double pow2(int k)
{
    double v = 1;
    for (; k > 0; k--)
        v *= 2;
    for (; k < 0; k++)
        v /= 2;
    return v;
}

/* NaN, +-inf, -0: the values that must come back bit for bit in every mode. */
static int is_special(uint32_t bits)
{
    return (bits & 0x7F800000u) == 0x7F800000u || bits == 0x80000000u;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Report the first few of many similar failures in full, then only count them. */
static int bad_shown;
#define CHECK_QUIET(cond, ...)                                                               \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            test_failures++;                                                                 \
            if (bad_shown++ < 20) {                                                          \
                fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);     \
                fprintf(stderr, __VA_ARGS__);                                                \
                fputc('\n', stderr);                                                         \
            }                                                                                \
        }                                                                                    \
    } while (0)

/* ------------------------------------------------------------------------------------------ */
/* Exact arithmetic: a non-negative number as an integer times 2^-BIG_BIAS, in BIG_WORDS words
 * (2560 bits: every double from 2^-1074 to beyond 10^300 times a small integer). It decides
 * |x - y| <= E and v <= a * 10^k with no rounding anywhere, independently of the TwoSum in
 * quant.c and of strtod. */

#define BIG_WORDS 40
#define BIG_BIAS 1100

typedef struct big {
    uint64_t w[BIG_WORDS];
} big;

/* b = |d|, d finite. */
static void big_of(big *b, double d)
{
    memset(b, 0, sizeof *b);
    uint64_t u = d2u(d), m = u & ((1ull << 52) - 1);
    int ex = (int)(u >> 52 & 0x7FF);
    REQUIRE(ex != 0x7FF);
    if (ex)
        m |= 1ull << 52;
    else
        ex = 1;
    int at = ex - 1075 + BIG_BIAS; /* the bit of m's lowest bit */
    REQUIRE(at >= 0 && at / 64 + 1 < BIG_WORDS);
    b->w[at / 64] = m << (at % 64);
    if (at % 64)
        b->w[at / 64 + 1] = m >> (64 - at % 64);
}

static int big_cmp(const big *a, const big *b)
{
    for (int i = BIG_WORDS - 1; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static void big_add(big *r, const big *a, const big *b)
{
    uint64_t carry = 0;
    for (int i = 0; i < BIG_WORDS; i++) {
        uint64_t s = a->w[i] + carry;
        carry = s < carry;
        r->w[i] = s + b->w[i];
        carry += r->w[i] < s;
    }
    REQUIRE(carry == 0);
}

/* r = a - b, a >= b. */
static void big_sub(big *r, const big *a, const big *b)
{
    uint64_t borrow = 0;
    for (int i = 0; i < BIG_WORDS; i++) {
        uint64_t d = a->w[i] - b->w[i];
        uint64_t nb = a->w[i] < b->w[i];
        r->w[i] = d - borrow;
        nb += d < borrow;
        borrow = nb;
    }
    REQUIRE(borrow == 0);
}

static void big_mul_small(big *b, uint32_t k)
{
    uint64_t carry = 0;
    for (int i = 0; i < BIG_WORDS; i++) {
        uint64_t lo = (b->w[i] & 0xFFFFFFFFu) * k + carry;
        uint64_t hi = (b->w[i] >> 32) * k + (lo >> 32);
        b->w[i] = (lo & 0xFFFFFFFFu) | hi << 32;
        carry = hi >> 32;
    }
    REQUIRE(carry == 0);
}

/* |x - y| <= e exactly (x, y finite floats, e >= 0 a double). */
static int exact_within(float x, float y, double e)
{
    big bx, by, be, d;
    big_of(&bx, x);
    big_of(&by, y);
    big_of(&be, e);
    if ((f2u(x) >> 31) == (f2u(y) >> 31)) {
        if (big_cmp(&bx, &by) >= 0)
            big_sub(&d, &bx, &by);
        else
            big_sub(&d, &by, &bx);
    } else {
        big_add(&d, &bx, &by);
    }
    return big_cmp(&d, &be) <= 0;
}

/* v <= a * 10^p exactly (v >= 0 finite, a < 2^53). */
static int exact_le_decimal(double v, uint64_t a, int p)
{
    big l, r;
    big_of(&l, v);
    big_of(&r, (double)a);
    for (; p < 0; p++)
        big_mul_small(&l, 10);
    for (; p > 0; p--)
        big_mul_small(&r, 10);
    return big_cmp(&l, &r) <= 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The quantiser */

typedef struct fvec {
    float *v;
    size_t n, cap;
} fvec;

static void fv_push(fvec *a, float x)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 1024;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        REQUIRE(a->v);
    }
    a->v[a->n++] = x;
}

/* f and its neighbours 1, 2 and 3 ulps away on either side, all finite and of f's sign. */
static void fv_push_near(fvec *a, float f)
{
    uint32_t b = f2u(f) & 0x7FFFFFFFu, s = f2u(f) & 0x80000000u;
    if (b >= 0x7F800000u)
        return;
    for (int d = -3; d <= 3; d++)
        if ((int64_t)b + d >= 0 && (int64_t)b + d < 0x7F800000)
            fv_push(a, u2f(s | (uint32_t)((int64_t)b + d)));
}

/* Every kind of finite value for bound e: zero, subnormals, grid points k * 2e and the
 * midpoints between them with their neighbours for small, large and huge k (up to and beyond
 * 2^52, the grid's end), the largest floats, random floats of every exponent; each also
 * negated (except 0, whose negation is the special -0). */
static void quant_inputs(fvec *xs, double e, uint64_t *rng)
{
    fv_push(xs, 0.0f);
    fv_push(xs, u2f(1));
    fv_push(xs, u2f(2));
    fv_push(xs, u2f(0x7FFFFF));
    fv_push(xs, u2f(0x400000));
    fv_push(xs, u2f(0x800000)); /* the smallest normal */
    for (int i = 0; i < 40; i++)
        fv_push(xs, u2f(1 + test_rand_below(rng, 0x7FFFFF)));
    uint64_t ks[600];
    size_t nk = 0;
    for (uint64_t k = 0; k <= 64; k++)
        ks[nk++] = k;
    for (int b = 7; b <= 63; b++) {
        uint64_t p = 1ull << b;
        ks[nk++] = p;
        ks[nk++] = p - 1;
        ks[nk++] = p + 1;
        for (int j = 0; j < 4; j++)
            ks[nk++] = p | (test_rand64(rng) & (p - 1));
    }
    const uint64_t edge[] = { (1ull << 52) - 3, (1ull << 52) - 2, (1ull << 52) - 1, 1ull << 52,
                              (1ull << 52) + 1, (1ull << 53) + 5, 3ull << 52 };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        ks[nk++] = edge[i];
    REQUIRE(nk <= sizeof ks / sizeof ks[0]);
    for (size_t i = 0; i < nk; i++) {
        for (int half = 0; half < 2; half++) {
            double g = ((double)ks[i] + 0.5 * half) * 2 * e;
            if (g < (double)FLT_MAX)
                fv_push_near(xs, (float)g);
        }
    }
    fv_push_near(xs, FLT_MAX);
    for (uint32_t ex = 0; ex < 255; ex++)
        for (int j = 0; j < 8; j++)
            fv_push(xs, u2f(ex << 23 | test_rand_below(rng, 1u << 23)));
    size_t n = xs->n;
    for (size_t i = 0; i < n; i++)
        if (f2u(xs->v[i]) != 0)
            fv_push(xs, u2f(f2u(xs->v[i]) ^ 0x80000000u));
}

static void test_quantiser_bound(double e, const char *name, int power_of_two, uint64_t *rng)
{
    fvec xs = { 0 };
    quant_inputs(&xs, e, rng);
    size_t exceptions = 0, small_exceptions = 0, small = 0;
    for (size_t i = 0; i < xs.n; i++) {
        float x = xs.v[i];
        double ax = x < 0 ? -(double)x : x;
        int64_t q = 0x5A5A;
        int ok = fq_quantise(&q, x, e);
        if (ok) {
            float y = fq_value(q, 2 * e);
            CHECK_QUIET(q < FQ_Q_MAX && q > -FQ_Q_MAX, "E %s, x %a: q %lld", name, x, (long long)q);
            CHECK_QUIET(y - y == 0 && f2u(y) != 0x80000000u,
                        "E %s, x %a: decoded %a is not finite or is -0", name, x, y);
            CHECK_QUIET(fq_within(x, y, e) && exact_within(x, y, e),
                        "E %s, x %a: q %lld decodes to %a, not within E", name, x, (long long)q, y);
        } else {
            exceptions++;
        }
        /* Below 2^20 E every grid point near x is a float: a power-of-two step never needs
         * an exception there. */
        if (ax < pow2(20) * e) {
            small++;
            small_exceptions += !ok;
            if (power_of_two)
                CHECK_QUIET(ok, "E %s, x %a (%a E): an exception", name, x, ax / e);
        }
    }
    /* A decimal step can put a float just past E from both grid points near the midpoint
     * between them: an exception, but a rare one -- count them on random values below 2^10 E. */
    size_t rand_exc = 0, n_rand = TEST_SANITIZED ? 5000 : 20000;
    for (size_t i = 0; i < n_rand; i++) {
        float x = (float)((double)test_unit(rng) * pow2(10) * e);
        int64_t q;
        rand_exc += !fq_quantise(&q, x, e);
    }
    CHECK_MSG(rand_exc * 100 <= n_rand, "E %s: %zu exceptions among %zu random values below "
              "2^10 E", name, rand_exc, n_rand);
    printf("  E %-7s %zu values, %zu exceptions (%zu of %zu below 2^20 E; %zu of %zu random "
           "below 2^10 E)\n", name, xs.n, exceptions, small_exceptions, small, rand_exc, n_rand);
    /* the specials are always exceptions */
    const uint32_t specials[] = { 0x7FC00000u, 0xFFC00000u, 0x7FC00001u, 0x7F800001u,
                                  0x7FBFFFFFu, 0xFFFFFFFFu, 0x7F800000u, 0xFF800000u,
                                  0x80000000u };
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
        int64_t q;
        CHECK_MSG(!fq_quantise(&q, u2f(specials[i]), e), "E %s: special %08x quantised", name,
                  specials[i]);
    }
    free(xs.v);
}

/* fq_within against exact integer arithmetic: differences exactly E, one double either side,
 * differences no double holds (operands 2^30 .. 2^70 apart), and random pairs of every
 * magnitude with bounds around their rounded difference. */
static void test_within(uint64_t *rng)
{
    /* hand-made: (x, y, E, want) */
    const struct {
        float x, y;
        double e;
        int want;
    } cases[] = {
        { 1.0f + 0x1p-17f, 1.0f, 0x1p-17, 1 },
        { 1.0f + 0x1p-17f, 1.0f, 0x1p-17 - 0x1p-70, 0 },
        { 1.0f + 0x1p-17f + 0x1p-23f, 1.0f, 0x1p-17, 0 },
        { 0x1p30f, 0x1p-30f, 0x1p30, 1 },            /* 2^30 - 2^-30: rounds up to E */
        { 0x1p30f, 0x1p-30f, 0x1p30 - 0x1p-22, 0 },  /* and E one ulp below */
        { 0x1p30f, -0x1p-30f, 0x1p30, 0 },           /* 2^30 + 2^-30 rounds down to E */
        { 0x1p30f, -0x1p-30f, 0x1p30 + 0x1p-22, 1 },
        { -0x1p30f, 0x1p-30f, 0x1p30, 0 },
        { 0x1p-30f, 0x1p30f, 0x1p30, 1 },
        { FLT_MAX, -FLT_MAX, 2.0 * FLT_MAX, 1 },
        { FLT_MAX, -FLT_MAX, d_down(2.0 * FLT_MAX), 0 },
        { 0x1p-149f, -0x1p-149f, 0x1p-148, 1 },
        { 0x1p-149f, -0x1p-149f, 0x1p-149, 0 },
        { 0.0f, 0.0f, 0x1p-1074, 1 },
        { 3.0f, 3.0f, 0x1p-1074, 1 },
        { 0x1p100f, 0x1p-100f, 0x1p100, 1 },          /* 2^100 - 2^-100 */
        { 0x1p100f, 0x1p-100f, d_down(0x1p100), 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_MSG(exact_within(cases[i].x, cases[i].y, cases[i].e) == cases[i].want,
                  "the test's own arithmetic, case %zu", i);
        CHECK_MSG(fq_within(cases[i].x, cases[i].y, cases[i].e) == cases[i].want,
                  "fq_within(%a, %a, %a) != %d", cases[i].x, cases[i].y, cases[i].e,
                  cases[i].want);
    }
    long n = TEST_SANITIZED ? 20000 : 100000, disagree = 0;
    for (long i = 0; i < n; i++) {
        /* x of any exponent; y near it, or 0 .. 70 binades away, either sign */
        uint32_t xb = test_rand_below(rng, 0x7F800000u) | (test_rand64(rng) & 1) << 31, yb;
        unsigned how = test_rand_below(rng, 4);
        if (how == 0) {
            yb = xb + test_rand_below(rng, 64) - 32;
        } else {
            int ex = (int)(xb >> 23 & 0xFF) - (int)test_rand_below(rng, 71);
            yb = (uint32_t)(ex < 0 ? 0 : ex) << 23 | test_rand_below(rng, 1u << 23);
        }
        yb = (yb & 0x7FFFFFFFu) | (uint32_t)(test_rand64(rng) & 1) << 31;
        if ((yb & 0x7F800000u) == 0x7F800000u)
            continue;
        float x = u2f(xb), y = u2f(yb);
        if (test_rand64(rng) & 1) {
            float t = x;
            x = y;
            y = t;
        }
        double s = (double)x - (double)y;
        s = s < 0 ? -s : s;
        double es[6] = { s, d_up(s), s > 0 ? d_down(s) : 0, s / 2, 2 * s, u2d(d2u(s) + 3) };
        for (int j = 0; j < 6; j++) {
            if (!(es[j] - es[j] == 0))
                continue;
            int got = fq_within(x, y, es[j]), want = exact_within(x, y, es[j]);
            disagree += got != want;
            CHECK_QUIET(got == want, "fq_within(%a, %a, %a) = %d, exactly %d", x, y, es[j], got,
                        want);
        }
    }
    printf("  fq_within: %ld random pairs, %ld disagreements with exact arithmetic\n", n,
           disagree);
}

static void test_bound_parsing(void)
{
    double e = -1;
    const struct {
        const char *s;
        int k;
    } pows[] = { { "2^-17", -17 }, { "2^0", 0 }, { "2^-1", -1 }, { "2^10", 10 },
                 { "2^-140", -140 }, { "2^-1074", -1074 }, { "2^996", 996 }, { "2^+3", 3 } };
    for (size_t i = 0; i < sizeof pows / sizeof pows[0]; i++) {
        e = -1;
        CHECK_MSG(fq_parse_bound(&e, pows[i].s) == 0 && e == pow2(pows[i].k), "%s gives %a",
                  pows[i].s, e);
        CHECK(fq_bound_ok(e));
    }
    /* decimals: the largest double not above the number written (so next(e) is above it), and
     * the round-to-nearest result is e or next(e) */
    const struct {
        const char *s;
        uint64_t a;
        int p;
    } decs[] = { { "1e-5", 1, -5 },
                 { "0.00001", 1, -5 },
                 { "1E-5", 1, -5 },
                 { "0.1", 1, -1 },
                 { "0.3", 3, -1 },
                 { "3", 3, 0 },
                 { "3.0", 3, 0 },
                 { "2.5e-7", 25, -8 },
                 { "1e30", 1, 30 },
                 { "1e300", 1, 300 },
                 { "123456.7890123", 1234567890123ull, -7 },
                 { "7.62939453125e-06", 762939453125ull, -17 }, /* 2^-17 exactly */
                 { "0x1p-17", 762939453125ull, -17 } };
    for (size_t i = 0; i < sizeof decs / sizeof decs[0]; i++) {
        e = -1;
        int r = fq_parse_bound(&e, decs[i].s);
        CHECK_MSG(r == 0, "%s refused", decs[i].s);
        if (r != 0)
            continue;
        CHECK_MSG(fegetround() == FE_TONEAREST, "%s: rounding mode left changed", decs[i].s);
        CHECK_MSG(exact_le_decimal(e, decs[i].a, decs[i].p), "%s gives %a, above it", decs[i].s, e);
        CHECK_MSG(!exact_le_decimal(d_up(e), decs[i].a, decs[i].p),
                  "%s gives %a, but the next double is not above it either", decs[i].s, e);
        double rn = strtod(decs[i].s, NULL);
        CHECK_MSG(rn == e || rn == d_up(e), "%s: strtod %a, parsed %a", decs[i].s, rn, e);
    }
    CHECK(fq_parse_bound(&e, "0") == 0 && e == 0); /* lossless */
    const char *bad[] = { "", "2^", "2^x", "2^1.5", "2^-1075", "2^997", "-1", "-1e-5",
                          "nan", "NaN", "inf", "-inf", "1e400", "2e300", "1e-5x", "x", "0x",
                          "1e-5 ", "-0", " 1e-3", "+1", "2^ 3", "2^- 3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e = 12345;
        int r = fq_parse_bound(&e, bad[i]);
        /* "2e300" parses but is out of the range fq_bound_ok takes: refused either way */
        CHECK_MSG(r != 0 || !fq_bound_ok(e), "'%s' accepted as %a", bad[i], e);
        CHECK_MSG(fegetround() == FE_TONEAREST, "'%s': rounding mode left changed", bad[i]);
    }
    CHECK(!fq_bound_ok(0) && !fq_bound_ok(-1) && !fq_bound_ok(u2d(0x7FF8000000000000ull)));
    CHECK(!fq_bound_ok(u2d(0x7FF0000000000000ull)) && !fq_bound_ok(2e300));
    CHECK(fq_bound_ok(1e300) && fq_bound_ok(pow2(-1074)));
}

static void test_quantiser(uint64_t *rng)
{
    double dec = 0;
    REQUIRE(fq_parse_bound(&dec, "1e-5") == 0);
    test_quantiser_bound(pow2(-17), "2^-17", 1, rng);
    test_quantiser_bound(pow2(-1), "2^-1", 1, rng);
    test_quantiser_bound(dec, "1e-5", 0, rng);
    test_quantiser_bound(3.0, "3", 0, rng);
    test_quantiser_bound(pow2(-140), "2^-140", 1, rng);
    test_quantiser_bound(1e30, "1e30", 0, rng);
    test_quantiser_bound(pow2(-149), "2^-149", 1, rng);
    test_quantiser_bound(pow2(100), "2^100", 1, rng);
    /* -0 is a special, +0 is the grid's zero */
    int64_t q = 7;
    CHECK(fq_quantise(&q, 0.0f, pow2(-17)) && q == 0 && f2u(fq_value(q, pow2(-16))) == 0);
    test_within(rng);
    test_bound_parsing();
}

/* ------------------------------------------------------------------------------------------ */
/* Arrays and round trips */

static const codec_opts copts = { .env = { .threads = 1 } };

static const uint32_t special_bits[] = {
    0x7FC00000u, 0x7FC12345u, 0xFFC00001u, 0x7F800001u, 0xFFBFFFFFu, /* NaNs with payloads */
    0x7F800000u, 0xFF800000u, 0x80000000u,                          /* +inf, -inf, -0 */
    0x00000001u, 0x007FFFFFu, 0x80400000u, 0x00000003u,              /* subnormals */
    0x4CBEBC20u, /* 1e8 */ 0xFF61B1E6u, /* -3e38 */ 0x7F7FFFFFu, 0xFF7FFFFFu,
};
#define N_SPECIAL (sizeof special_bits / sizeof special_bits[0])

/* About normal, sd ~0.02: weights as trained networks hold them. Integer PRNG, so the same
 * everywhere. */
static float gauss(uint64_t *rng)
{
    int64_t s = 0;
    for (int i = 0; i < 4; i++)
        s += (int64_t)(test_rand64(rng) >> 40) - (1 << 23);
    return (float)((double)s * (0.02 / 9686330.0)); /* 9686330 ~ sd of the sum */
}

enum kind { K_WEIGHTS, K_SPECIALS, K_CONSTANT, K_ZEROS, K_REPEATED, K_RANDOM, K_COUNT };
static const char *const kind_name[K_COUNT] = { "weights", "weights+specials", "constant",
                                                "zeros", "repeated tensors", "random bits" };

static void put_f(uint8_t *p, float f)
{
    uint32_t u = f2u(f);
    for (int b = 0; b < 4; b++)
        p[b] = (uint8_t)(u >> 8 * b);
}

static uint32_t get_u(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* n floats of kind k, little-endian, at p. */
static void make_floats(uint8_t *p, size_t n, enum kind k, uint64_t *rng)
{
    const size_t block = 300;
    for (size_t i = 0; i < n; i++) {
        float f;
        switch (k) {
        case K_CONSTANT: f = 0.0625f; break;
        case K_ZEROS: f = 0; break;
        case K_RANDOM: f = u2f((uint32_t)test_rand64(rng)); break;
        case K_REPEATED: /* one block again and again, some copies with signs flipped */
            if (i < block) {
                f = gauss(rng);
            } else {
                uint32_t u = get_u(p + 4 * (i % block));
                f = u2f((i / block) % 3 == 2 ? u ^ 0x80000000u : u);
            }
            break;
        default: f = gauss(rng); break;
        }
        put_f(p + 4 * i, f);
    }
    if (k == K_SPECIALS) /* every special, spread out; a short array is all specials */
        for (size_t j = 0; j < N_SPECIAL && j < n; j++)
            put_f(p + 4 * (n <= N_SPECIAL ? j : j * (n / N_SPECIAL) + 5), u2f(special_bits[j]));
}

/* The decoded file dec against the original in (n bytes each, the first head of them a .npy
 * header): the header byte for byte; then every float bit for bit (e == 0), or every special
 * bit for bit and every finite value within e exactly. Returns the mismatches. */
static size_t count_mismatches(const uint8_t *in, const uint8_t *dec, size_t n, size_t head,
                               double e, const char *what)
{
    size_t bad = 0;
    if (head && memcmp(in, dec, head) != 0) {
        CHECK_MSG(0, "%s: the .npy header differs", what);
        bad++;
    }
    for (size_t i = head; i + 4 <= n; i += 4) {
        uint32_t a = get_u(in + i), b = get_u(dec + i);
        int ok = a == b;
        if (!ok && e != 0 && !is_special(a))
            ok = fq_within(u2f(a), u2f(b), e) && (b & 0x7F800000u) != 0x7F800000u
                 && exact_within(u2f(a), u2f(b), e);
        if (!ok) {
            bad++;
            CHECK_QUIET(ok, "%s: float %zu is %08x, decoded %08x (E %a)", what, (i - head) / 4,
                        a, b, e);
        }
    }
    return bad;
}

/* Compress in (n bytes: raw, or a .npy file of head header bytes) with bound e and the tensor
 * list t (NULL: none), decode it, and check what comes back. Returns the .nnz file (*flen
 * bytes; caller frees) or NULL when a step failed. */
static uint8_t *round_trip(size_t *flen, const uint8_t *in, size_t n, size_t head, double e,
                           const fl_tensor *t, uint32_t nt, const char *what)
{
    fl_opts fo = { .max_error = e, .tensors = t, .n_tensors = nt };
    uint8_t *f = NULL, *dec = NULL;
    const char *why = NULL;
    nc_status st = fl_compress(&f, flen, in, n, &fo, &copts, &why);
    CHECK_MSG(st == NC_OK && f, "%s: fl_compress %s (%s)", what, codec_status_str(st),
              why ? why : "");
    if (st != NC_OK)
        return NULL;
    uint64_t dl = 0;
    st = codec_decompress(&dec, &dl, f, *flen, &copts);
    CHECK_MSG(st == NC_OK && dl == n, "%s: decoding gives %s, %llu of %zu bytes", what,
              codec_status_str(st), (unsigned long long)dl, n);
    if (st == NC_OK && dl == n) {
        fmt_header h;
        model_config c;
        REQUIRE(codec_inspect(&h, &c, f, *flen) == NC_OK);
        int lossless = e == 0 || h.model_id == MODEL_STORED;
        CHECK_MSG(h.model_id == MODEL_FLOAT || h.model_id == MODEL_STORED, "%s: model %u", what,
                  h.model_id);
        count_mismatches(in, dec, n, head, lossless ? 0 : e, what);
        if (lossless)
            CHECK_MSG(n == 0 || memcmp(in, dec, n) == 0, "%s: not byte for byte", what);
        if (h.model_id == MODEL_FLOAT) { /* what nnzip -l shows */
            fl_info fi;
            CHECK(fl_describe(&fi, &h, &c, f + (*flen - h.payload_size), (size_t)h.payload_size)
                  == NC_OK);
            CHECK_MSG(fi.floats == (n - head) / 4 && fi.header_bytes == head
                          && fi.kind == (head ? FL_KIND_NPY : FL_KIND_RAW)
                          && d2u(fi.max_error) == d2u(e) && fi.n_tensors == (t ? nt : 1),
                      "%s: described as %llu floats, %llu header bytes, kind %u, E %a, %u tensors",
                      what, (unsigned long long)fi.floats, (unsigned long long)fi.header_bytes,
                      fi.kind, fi.max_error, fi.n_tensors);
        }
    }
    free(dec);
    if (st != NC_OK) {
        free(f);
        return NULL;
    }
    return f;
}

/* round_trip, for callers that only want the checks. */
static void round_trip_only(const uint8_t *in, size_t n, size_t head, double e, const fl_tensor *t,
                            uint32_t nt, const char *what)
{
    size_t fl;
    free(round_trip(&fl, in, n, head, e, t, nt, what));
}

/* A random tensor list for n floats: 1 .. 12 tensors, each row 0, 1, 3, 64, its whole count or
 * more than 65536 (the model's "row above" then stops). *nt tensors; caller frees. */
static fl_tensor *random_tensors(uint32_t *nt, uint64_t n, uint64_t *rng)
{
    uint32_t k = 1 + test_rand_below(rng, n < 12 ? (uint32_t)n : 12);
    fl_tensor *t = calloc(k, sizeof *t);
    REQUIRE(t);
    uint64_t left = n;
    for (uint32_t i = 0; i < k; i++) {
        uint64_t c = i + 1 == k ? left : 1 + test_rand64(rng) % (left - (k - 1 - i));
        left -= c;
        const uint64_t rows[] = { 0, 1, 3, 64, c, 70000 };
        t[i] = (fl_tensor){ c, rows[test_rand_below(rng, 6)] };
    }
    *nt = k;
    return t;
}

static void test_round_trips(uint64_t *rng)
{
    double dec = 0;
    REQUIRE(fq_parse_bound(&dec, "1e-5") == 0);
    const size_t sizes[] = { 0, 1, 2, 3, 7, 1000, 65537 };
    const double bounds[] = { 0, pow2(-17), dec };
    const char *bname[] = { "lossless", "2^-17", "1e-5" };
    uint8_t *buf = malloc(4 * 65537);
    REQUIRE(buf);
    char what[160];
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        for (int k = 0; k < K_COUNT; k++) {
            /* Each run sets up a model of ~46 MiB, which takes longer than coding a short
             * array: below 1000 floats only the kinds that differ there (the specials alone
             * fill a short array, so no weights). Under the sanitizers (~10x slower, and each
             * model's pages faulted in afresh) the specials in every mode, the other kinds
             * lossless and at 2^-17, and the largest size only at 2^-17. */
            if (n < 1000 && k != K_SPECIALS && k != K_RANDOM
                && (TEST_SANITIZED || k != K_CONSTANT))
                continue;
            make_floats(buf, n, (enum kind)k, rng);
            for (size_t b = 0; b < 3; b++) {
                if (TEST_SANITIZED && b != 1 && k != K_SPECIALS && (n > 1000 || b == 2))
                    continue;
                snprintf(what, sizeof what, "%zu floats, %s, %s", n, kind_name[k], bname[b]);
                round_trip_only(buf, 4 * n, 0, bounds[b], NULL, 0, what);
            }
        }
    }
    /* Bounds of every scale: 2^-1074 makes every nonzero value an exception, 1e300 every value
     * 0; a step that is not a power of two at 3 and 1e30. */
    const double more[] = { pow2(-1), 3.0, pow2(-140), 1e30, pow2(-1074), 1e300, pow2(-149) };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        for (size_t n = TEST_SANITIZED ? 1000 : 7; n <= 1000; n += 993) {
            make_floats(buf, n, K_SPECIALS, rng);
            snprintf(what, sizeof what, "%zu floats with specials, E %a", n, more[i]);
            round_trip_only(buf, 4 * n, 0, more[i], NULL, 0, what);
            if (n < 1000)
                continue;
            make_floats(buf, n, K_RANDOM, rng);
            snprintf(what, sizeof what, "%zu random floats, E %a", n, more[i]);
            round_trip_only(buf, 4 * n, 0, more[i], NULL, 0, what);
        }
    }
    /* Tensor lists: random cuts and rows, on arrays of every length from 1 float. */
    for (int r = 0; r < (TEST_SANITIZED ? 8 : 30); r++) {
        size_t n = r < 15 ? 1 + test_rand_below(rng, 2000) : 1 + test_rand_below(rng, 65537);
        enum kind k = r % 3 == 0 ? K_REPEATED : K_SPECIALS;
        make_floats(buf, n, k, rng);
        uint32_t nt;
        fl_tensor *t = random_tensors(&nt, n, rng);
        double e = r % 2 ? pow2(-17) : 0;
        snprintf(what, sizeof what, "%zu floats (%s) in %u tensors, E %a", n, kind_name[k], nt, e);
        round_trip_only(buf, 4 * n, 0, e, t, nt, what);
        free(t);
    }
    /* One tensor whose row is longer than 65536, and the array as one-float tensors. */
    make_floats(buf, 65537, K_SPECIALS, rng);
    fl_tensor wide = { 65537, 65537 };
    round_trip_only(buf, 4 * 65537, 0, pow2(-17), &wide, 1, "a row of 65537 floats");
    fl_tensor ones[7] = { { 1, 0 }, { 1, 1 }, { 1, 3 }, { 1, 64 },
                          { 1, 1 }, { 1, 0 }, { 1, 70000 } };
    make_floats(buf, 7, K_SPECIALS, rng);
    round_trip_only(buf, 28, 0, pow2(-17), ones, 7, "seven one-float tensors, lossy");
    round_trip_only(buf, 28, 0, 0, ones, 7, "seven one-float tensors, lossless");
    free(buf);
}

/* A long constant array: values the match model predicts for almost nothing. The decoder's
 * size check must still take the file the encoder wrote. */
static void test_long_constant(uint64_t *rng)
{
    size_t n = TEST_SANITIZED ? 300000 : 2500000;
    uint8_t *buf = malloc(4 * n);
    REQUIRE(buf);
    const enum kind kinds[] = { K_ZEROS, K_CONSTANT };
    for (int k = 0; k < 2; k++) {
        make_floats(buf, n, kinds[k], rng);
        for (int lossy = 0; lossy < 2; lossy++) {
            char what[96];
            snprintf(what, sizeof what, "%zu floats, %s, %s", n, kind_name[kinds[k]],
                     lossy ? "E 2^-10" : "lossless");
            size_t fl = 0;
            uint8_t *f = round_trip(&fl, buf, 4 * n, 0, lossy ? pow2(-10) : 0, NULL, 0, what);
            if (f) { /* not a size test: a constant array must simply not be stored */
                fmt_header h;
                model_config c;
                REQUIRE(codec_inspect(&h, &c, f, fl) == NC_OK);
                CHECK_MSG(h.model_id == MODEL_FLOAT && fl < n, "%s: %zu bytes, model %u", what,
                          fl, h.model_id);
            }
            free(f);
        }
    }
    free(buf);
}

/* A .npy file: version 1.0, header padded to 64 bytes as numpy writes it, then the data of
 * kind k; shape is the tuple's text ("7,", "2, 3, 4", ""). *len and *head_len are set. */
static uint8_t *make_npy(size_t *len, size_t *head_len, const char *shape, const char *descr,
                         size_t n, enum kind k, uint64_t *rng)
{
    char dict[256];
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr,
             shape);
    size_t text = strlen(dict) + 1;
    text += 64 - (10 + text) % 64;
    *head_len = 10 + text;
    *len = *head_len + 4 * n;
    uint8_t *p = malloc(*len);
    REQUIRE(p);
    memcpy(p, NPY_MAGIC "\x01\x00", 8);
    p[8] = (uint8_t)text;
    p[9] = (uint8_t)(text >> 8);
    memset(p + 10, ' ', text - 1);
    memcpy(p + 10, dict, strlen(dict));
    p[*head_len - 1] = '\n';
    make_floats(p + *head_len, n, k, rng);
    return p;
}

static void test_npy_round_trips(uint64_t *rng)
{
    const struct {
        const char *shape;
        size_t n;
    } shapes[] = { { "0,", 0 }, { "", 1 }, { "1,", 1 }, { "7,", 7 }, { "1000,", 1000 },
                   { "10, 100", 1000 }, { "2, 3, 4", 24 }, { "3, 21846", 65538 } };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        for (int k = K_WEIGHTS; k <= K_SPECIALS; k++) {
            if (TEST_SANITIZED && k == K_WEIGHTS)
                continue;
            size_t len, head;
            uint8_t *p = make_npy(&len, &head, shapes[i].shape, "<f4", shapes[i].n,
                                  (enum kind)k, rng);
            npy_info ni;
            REQUIRE(npy_parse(&ni, p, len, NULL) == NC_OK && ni.header_len == head);
            for (int lossy = 0; lossy < 2; lossy++) {
                if (TEST_SANITIZED && shapes[i].n > 1000 && !lossy)
                    continue;
                char what[128];
                snprintf(what, sizeof what, ".npy (%s), %s, %s", shapes[i].shape, kind_name[k],
                         lossy ? "2^-17" : "lossless");
                round_trip_only(p, len, head, lossy ? pow2(-17) : 0, NULL, 0, what);
            }
            free(p);
        }
    }
    /* a .npy with a tensor list (counted in floats, the header apart) */
    size_t len, head;
    uint8_t *p = make_npy(&len, &head, "10, 100", "<f4", 1000, K_REPEATED, rng);
    const fl_tensor t[3] = { { 300, 100 }, { 200, 100 }, { 500, 10 } };
    round_trip_only(p, len, head, pow2(-17), t, 3, ".npy with 3 tensors, lossy");
    round_trip_only(p, len, head, 0, t, 3, ".npy with 3 tensors, lossless");
    free(p);
}

/* ------------------------------------------------------------------------------------------ */
/* Determinism */

static void test_determinism(uint64_t *rng)
{
    size_t n = TEST_SANITIZED ? 20000 : 65537;
    uint8_t *buf = malloc(4 * n);
    REQUIRE(buf);
    make_floats(buf, n, K_SPECIALS, rng);
    memcpy(buf + 4 * (n / 2), buf, 4 * 300); /* a repeat for the match model */
    uint32_t nt;
    fl_tensor *t = random_tensors(&nt, n, rng);
    for (int lossy = 0; lossy < 2; lossy++) {
        fl_opts fo = { .max_error = lossy ? pow2(-17) : 0, .tensors = t, .n_tensors = nt };
        uint8_t *first = NULL, *again = NULL;
        size_t l1, l2;
        const char *why;
        REQUIRE(nc_isa_select(nc_isa_best()) == NC_OK);
        REQUIRE(fl_compress(&first, &l1, buf, 4 * n, &fo, &copts, &why) == NC_OK);
        REQUIRE(fl_compress(&again, &l2, buf, 4 * n, &fo, &copts, &why) == NC_OK);
        CHECK_MSG(l1 == l2 && memcmp(first, again, l1) == 0, "compressing twice differs (%s)",
                  lossy ? "lossy" : "lossless");
        free(again);
        /* every ISA path this machine has, and more threads: the same bytes */
        for (int isa = 0; isa <= (int)nc_isa_best(); isa++) {
            if (!nc_isa_supported((nc_isa)isa)
                || (TEST_SANITIZED && isa != 0 && isa != (int)nc_isa_best()))
                continue; /* ~10x slower: the reference and the best path */
            REQUIRE(nc_isa_select((nc_isa)isa) == NC_OK);
            for (int threads = 1; threads <= (TEST_SANITIZED ? 1 : 2); threads++) {
                codec_opts o = { .env = { .threads = threads } };
                REQUIRE(fl_compress(&again, &l2, buf, 4 * n, &fo, &o, &why) == NC_OK);
                CHECK_MSG(l1 == l2 && memcmp(first, again, l1) == 0,
                          "ISA %s, %d threads: other bytes (%s)", nc_isa_name((nc_isa)isa),
                          threads, lossy ? "lossy" : "lossless");
                free(again);
                uint8_t *dec = NULL;
                uint64_t dl;
                CHECK(codec_decompress(&dec, &dl, first, l1, &o) == NC_OK && dl == 4 * n);
                free(dec);
            }
        }
        REQUIRE(nc_isa_select(nc_isa_best()) == NC_OK);
        free(first);
    }
    free(t);
    free(buf);
}

/* ------------------------------------------------------------------------------------------ */
/* Damaged and forged files */

/* The decoder must refuse f (len bytes, copied into an allocation of exactly that size so any
 * read past the end is caught under the sanitizers): an error and no output. */
static void expect_refused(const uint8_t *f, size_t len, const char *what)
{
    uint8_t *copy = malloc(len ? len : 1), *out = (uint8_t *)&out;
    REQUIRE(copy);
    if (len)
        memcpy(copy, f, len);
    uint64_t ol = 99;
    nc_status st = codec_decompress(&out, &ol, copy, len, &copts);
    CHECK_QUIET(st != NC_OK && out == NULL, "%s: decoded with %s", what, codec_status_str(st));
    if (st == NC_OK)
        free(out);
    free(copy);
}

/* Damage the decoder may not notice is fine only if the output is still the right one. */
static int decodes_right_or_refused(const uint8_t *f, size_t len, const uint8_t *want,
                                    size_t want_len, const char *what)
{
    uint8_t *copy = malloc(len ? len : 1), *out = NULL;
    REQUIRE(copy);
    memcpy(copy, f, len);
    uint64_t ol = 0;
    nc_status st = codec_decompress(&out, &ol, copy, len, &copts);
    CHECK_QUIET(st != NC_OK ? out == NULL : ol == want_len && memcmp(out, want, want_len) == 0,
                "%s: %s with wrong output", what, codec_status_str(st));
    free(out);
    free(copy);
    return st != NC_OK;
}

static int get_varint(uint64_t *v, const uint8_t *p, size_t len, size_t *pos)
{
    *v = 0;
    for (unsigned shift = 0; shift < 64 && *pos < len; shift += 7) {
        uint8_t b = p[(*pos)++];
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return 1;
    }
    return 0;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80; v >>= 7)
        p[n++] = (uint8_t)(v | 0x80);
    p[n++] = (uint8_t)v;
    return n;
}

/* A float file taken apart by the test's own reader of the format (coder/float/fcodec.c): the
 * header, then the payload's section -- varint head_len, that many bytes of .npy header, varint
 * n_tensors, per tensor varint count and varint row -- and the coder's bytes. A forgery edits the
 * fields and writes it back with parts_write, which reseals the header (a valid header CRC, so
 * the fields behind it are what the decoder must check). */
#define PARTS_MAX 16
typedef struct parts {
    fmt_header h;
    uint64_t head_len;  /* as written */
    size_t head_bytes;  /* bytes of .npy header present */
    const uint8_t *head;
    uint64_t n_tensors; /* as written */
    uint32_t listed;    /* tensors present */
    uint64_t count[PARTS_MAX], row[PARTS_MAX];
    const uint8_t *coded;
    size_t coded_len;
} parts;

static void parts_read(parts *p, const uint8_t *f, size_t len)
{
    memset(p, 0, sizeof *p);
    size_t hl, pos = 0;
    REQUIRE(fmt_header_read(&p->h, &hl, f, len) == NC_OK && p->h.model_id == MODEL_FLOAT);
    const uint8_t *pl = f + hl;
    size_t pn = len - hl;
    REQUIRE(get_varint(&p->head_len, pl, pn, &pos) && p->head_len <= pn - pos);
    p->head = pl + pos;
    p->head_bytes = (size_t)p->head_len;
    pos += p->head_bytes;
    REQUIRE(get_varint(&p->n_tensors, pl, pn, &pos) && p->n_tensors <= PARTS_MAX);
    p->listed = (uint32_t)p->n_tensors;
    for (uint32_t i = 0; i < p->listed; i++)
        REQUIRE(get_varint(&p->count[i], pl, pn, &pos) && get_varint(&p->row[i], pl, pn, &pos));
    p->coded = pl + pos;
    p->coded_len = pn - pos;
}

static uint8_t *parts_write(size_t *len, parts *p)
{
    uint8_t *sec = malloc(40 + p->head_bytes + 20 * PARTS_MAX);
    REQUIRE(sec);
    size_t sl = put_varint(sec, p->head_len);
    memcpy(sec + sl, p->head, p->head_bytes);
    sl += p->head_bytes;
    sl += put_varint(sec + sl, p->n_tensors);
    for (uint32_t i = 0; i < p->listed; i++) {
        sl += put_varint(sec + sl, p->count[i]);
        sl += put_varint(sec + sl, p->row[i]);
    }
    p->h.payload_size = sl + p->coded_len;
    uint8_t *f = malloc(FMT_HEADER_MAX + sl + p->coded_len);
    REQUIRE(f);
    size_t hl = fmt_header_write(f, &p->h);
    memcpy(f + hl, sec, sl);
    memcpy(f + hl + sl, p->coded, p->coded_len);
    *len = hl + sl + p->coded_len;
    free(sec);
    return f;
}

/* Set (or add, keeping the keys in order) a header key; del removes it. */
static void key_set(fmt_header *h, unsigned key, uint32_t v)
{
    unsigned i = 0;
    while (i < h->n_params && h->params[i].key < key)
        i++;
    if (i < h->n_params && h->params[i].key == key) {
        h->params[i].value = v;
        return;
    }
    REQUIRE(h->n_params < FMT_MAX_PARAMS);
    memmove(&h->params[i + 1], &h->params[i], (h->n_params - i) * sizeof h->params[0]);
    h->params[i] = (fmt_param){ (uint16_t)key, v };
    h->n_params++;
}

static void key_del(fmt_header *h, unsigned key)
{
    for (unsigned i = 0; i < h->n_params; i++)
        if (h->params[i].key == key) {
            memmove(&h->params[i], &h->params[i + 1], (h->n_params - i - 1) * sizeof h->params[0]);
            h->n_params--;
            return;
        }
}

static void set_bound(fmt_header *h, double e)
{
    key_set(h, MP_FL_ERR_LO, (uint32_t)d2u(e));
    key_set(h, MP_FL_ERR_HI, (uint32_t)(d2u(e) >> 32));
}

/* A small modelled float file (raw or .npy, lossy or lossless) and its decoded bytes. */
typedef struct sample {
    uint8_t *in, *file, *dec;
    size_t n, head, flen;
    double e;
} sample;

static void sample_make(sample *s, int npy, double e, size_t floats, uint64_t *rng)
{
    memset(s, 0, sizeof *s);
    if (npy) {
        s->in = make_npy(&s->n, &s->head, "3, 40", "<f4", floats, K_SPECIALS, rng);
    } else {
        s->n = 4 * floats;
        s->in = malloc(s->n);
        REQUIRE(s->in);
        make_floats(s->in, floats, K_SPECIALS, rng);
    }
    if (e == 0) /* few mantissa bits, so that even a short array is modelled, not stored */
        for (size_t i = s->head; i < s->n; i += 4)
            if (!is_special(get_u(s->in + i)))
                put_f(s->in + i, (float)((double)(int)(u2f(get_u(s->in + i)) * 64) / 64));
    s->e = e;
    fl_opts fo = { .max_error = e };
    const char *why;
    REQUIRE(fl_compress(&s->file, &s->flen, s->in, s->n, &fo, &copts, &why) == NC_OK);
    fmt_header h;
    model_config c;
    nc_status st = codec_inspect(&h, &c, s->file, s->flen);
    CHECK_MSG(st == NC_OK && h.model_id == MODEL_FLOAT, "sample: %s, model %u, %zu -> %zu bytes",
              codec_status_str(st), h.model_id, s->n, s->flen);
    REQUIRE(st == NC_OK && h.model_id == MODEL_FLOAT);
    uint64_t dl;
    REQUIRE(codec_decompress(&s->dec, &dl, s->file, s->flen, &copts) == NC_OK && dl == s->n);
}

static void sample_free(sample *s)
{
    free(s->in);
    free(s->file);
    free(s->dec);
}

/* Every cut of the file; then every cut of the payload with the header resealed to claim it, so
 * the section reader and the coder meet the short payload. */
static void test_truncations(const sample *s, const char *name)
{
    char what[96];
    for (size_t cut = 0; cut < s->flen; cut++) {
        snprintf(what, sizeof what, "%s cut to %zu of %zu bytes", name, cut, s->flen);
        expect_refused(s->file, cut, what);
    }
    parts p;
    parts_read(&p, s->file, s->flen);
    size_t sec_len = s->flen - p.coded_len - fmt_header_size(&p.h);
    size_t payload = sec_len + p.coded_len;
    uint8_t *pl = malloc(payload);
    REQUIRE(pl);
    memcpy(pl, s->file + (s->flen - payload), payload);
    /* each cut that parses sets up a model: under the sanitizers every cut of the section, then
     * every third of the coder's bytes and the last eight */
    for (size_t cut = 0; cut < payload;
         cut += TEST_SANITIZED && cut > sec_len && cut + 8 < payload ? 3 : 1) {
        fmt_header h = p.h;
        h.payload_size = cut;
        uint8_t *f = malloc(FMT_HEADER_MAX + payload);
        REQUIRE(f);
        size_t hl = fmt_header_write(f, &h);
        memcpy(f + hl, pl, cut);
        snprintf(what, sizeof what, "%s with its payload cut to %zu of %zu bytes", name, cut,
                 payload);
        expect_refused(f, hl + cut, what);
        free(f);
    }
    free(pl);
}

/* Random damage anywhere: refused, or (where the decoder cannot tell) the right output. */
static void test_flips(const sample *s, const char *name, int flips, uint64_t *rng)
{
    uint8_t *f = malloc(s->flen);
    REQUIRE(f);
    memcpy(f, s->file, s->flen);
    int refused = 0;
    char what[96];
    for (int i = 0; i < flips; i++) {
        size_t at = test_rand64(rng) % s->flen;
        uint8_t old = f[at];
        f[at] ^= (uint8_t)(1 + test_rand_below(rng, 255));
        snprintf(what, sizeof what, "%s, byte %zu of %zu changed", name, at, s->flen);
        refused += decodes_right_or_refused(f, s->flen, s->dec, s->n, what);
        f[at] = old;
    }
    CHECK_MSG(refused > flips / 2, "%s: only %d of %d random changes refused", name, refused,
              flips);
    free(f);
}

/* Header keys and payload sections no encoder writes, each under a valid header CRC. */
static void test_forgeries(const sample *s, const char *name)
{
    parts p0, p;
    parts_read(&p0, s->file, s->flen);
    size_t fl;
    uint8_t *f;
    char what[128];
#define FORGE(desc, edit)                                                                    \
    do {                                                                                     \
        p = p0;                                                                              \
        edit;                                                                                \
        f = parts_write(&fl, &p);                                                            \
        snprintf(what, sizeof what, "%s: %s", name, desc);                                   \
        expect_refused(f, fl, what);                                                         \
        free(f);                                                                             \
    } while (0)
/* a forgery the decoder may take, if what it then gives back is still the original */
#define FORGE_SOFT(desc, edit)                                                               \
    do {                                                                                     \
        p = p0;                                                                              \
        edit;                                                                                \
        f = parts_write(&fl, &p);                                                            \
        snprintf(what, sizeof what, "%s: %s", name, desc);                                   \
        decodes_right_or_refused(f, fl, s->dec, s->n, what);                                 \
        free(f);                                                                             \
    } while (0)

    /* the rewriter itself: an unchanged file decodes */
    p = p0;
    f = parts_write(&fl, &p);
    CHECK_MSG(fl == s->flen && memcmp(f, s->file, fl) == 0, "%s: the test's rewriter", name);
    free(f);

    const unsigned kinds[] = { 0, 3, 255, 1u << 31 };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        FORGE("an unknown kind", key_set(&p.h, MP_FL_KIND, kinds[i]));
    /* the other kind: a raw file claiming a .npy header, or the reverse */
    FORGE("the other kind", key_set(&p.h, MP_FL_KIND, s->head ? FL_KIND_RAW : FL_KIND_NPY));
    /* bounds no encoder writes; then valid ones other than the file's, which decode other
     * values (caught by the checksum) -- or the same values: one ulp above E changes no fl(q 2E) */
    const double bad_bounds[] = { u2d(0x7FF8000000000000ull), u2d(0xFFF8000000000001ull),
                                  -pow2(-17), u2d(0x7FF0000000000000ull),
                                  u2d(0xFFF0000000000000ull), 2e300, -1e300 };
    const double other_bounds[] = { -0.0, pow2(-1074), 1e300, s->e ? 2 * s->e : pow2(-17),
                                    s->e ? 0 : pow2(-30), s->e ? d_up(s->e) : pow2(-1) };
    char desc[64];
    for (size_t i = 0; i < sizeof bad_bounds / sizeof bad_bounds[0]; i++) {
        snprintf(desc, sizeof desc, "the bound forged to %a", bad_bounds[i]);
        FORGE(desc, set_bound(&p.h, bad_bounds[i]));
    }
    for (size_t i = 0; i < sizeof other_bounds / sizeof other_bounds[0]; i++) {
        snprintf(desc, sizeof desc, "the bound changed to %a", other_bounds[i]);
        FORGE_SOFT(desc, set_bound(&p.h, other_bounds[i]));
    }
    FORGE("no kind key", key_del(&p.h, MP_FL_KIND));
    FORGE("no bound key (low)", key_del(&p.h, MP_FL_ERR_LO));
    FORGE("no bound key (high)", key_del(&p.h, MP_FL_ERR_HI));
    const unsigned extra[] = { MP_SYMBOLS, MP_STREAMS, MP_CM_HASH, MP_TRANSFORM, MP_MODELLED_LO,
                               72, 100, 127, 128, 300, 65535 };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        snprintf(desc, sizeof desc, "an extra key %u", extra[i]);
        FORGE(desc, key_set(&p.h, extra[i], 1));
    }
    FORGE("another model id (cm)", p.h.model_id = MODEL_CM);
    FORGE("an unknown model id", p.h.model_id = 6);
    FORGE_SOFT("a level", p.h.level = 5); /* no encoder writes one; the decoder ignores it */
    FORGE("another checksum", p.h.orig_crc ^= 1);
    /* sizes: one float more or fewer (the tensors no longer add up), not whole floats, and
     * far more than any payload this long could hold, with the tensor list made to agree */
    FORGE("a float more", p.h.orig_size += 4);
    FORGE("a float fewer", p.h.orig_size -= 4);
    FORGE("a size not of whole floats", p.h.orig_size += 2);
    FORGE("a float more, tensors agreeing", (p.h.orig_size += 4, p.count[0] += 1));
    FORGE("a float fewer, tensors agreeing", (p.h.orig_size -= 4, p.count[0] -= 1));
    /* 2^22 values a byte is beyond any bound a correct decoder can use: a decision costs the
     * bit coder at least -log2(65535 / 65536) bits, so a byte holds under 2^19 of them */
    const uint64_t huge[] = { (uint64_t)p0.coded_len << 22, 1000000000000ull, 1ull << 61 };
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        p = p0;
        p.h.orig_size = p.head_len + 4 * huge[i];
        p.count[0] = huge[i];
        for (uint32_t t = 1; t < p.listed; t++)
            p.count[0] -= p.count[t];
        f = parts_write(&fl, &p);
        fmt_header h;
        model_config c;
        nc_status st = codec_inspect(&h, &c, f, fl);
        CHECK_MSG(st != NC_OK, "%s: %llu floats in a payload of %zu coded bytes accepted by "
                  "codec_inspect", name, (unsigned long long)huge[i], p.coded_len);
        snprintf(what, sizeof what, "%s: %llu floats claimed", name, (unsigned long long)huge[i]);
        expect_refused(f, fl, what); /* never reaching a malloc of that size */
        free(f);
    }
    /* the section */
    FORGE("head_len 2^40", p.head_len = 1ull << 40);
    FORGE("head_len 2^64 - 1", p.head_len = UINT64_MAX);
    FORGE("head_len one more", p.head_len += 1);
    if (s->head)
        FORGE("head_len one less", (p.head_len--, p.head_bytes--));
    FORGE("n_tensors 0", (p.n_tensors = 0, p.listed = 0));
    FORGE("n_tensors 2^24 with one listed", p.n_tensors = 1u << 24);
    FORGE("n_tensors 2^40 with one listed", p.n_tensors = 1ull << 40);
    FORGE("n_tensors one more than listed", p.n_tensors += 1);
    FORGE("a tensor count 0", (p.count[p.listed] = 0, p.row[p.listed] = 1, p.listed++,
                               p.n_tensors++));
    FORGE("a tensor count 2^64 - 1", p.count[0] = UINT64_MAX);
    FORGE("counts not adding up (over)", p.count[0] += 1);
    FORGE("counts not adding up (under)", p.count[0] -= 1);
    FORGE("counts wrapping around 2^64", (p.count[p.listed] = UINT64_MAX - p.count[0] + 2,
                                          p.row[p.listed] = 0, p.listed++, p.n_tensors++));
    /* other contexts for the model: other values come out, which the checksum catches */
    FORGE_SOFT("another row", p.row[0] = p.row[0] == 3 ? 7 : 3);
    FORGE_SOFT("row 2^63", p.row[0] = 1ull << 63);
    FORGE_SOFT("the tensor split in two", (p.count[1] = p.count[0] / 2, p.count[0] -= p.count[1],
                                           p.row[1] = p.row[0], p.listed = 2, p.n_tensors = 2));
    uint8_t *coded = malloc(p0.coded_len);
    REQUIRE(coded && p0.coded_len > 6);
    memcpy(coded, p0.coded, p0.coded_len);
    coded[5] ^= 0x10;
    FORGE("a changed coded byte", p.coded = coded);
    free(coded);
    FORGE("the coded bytes one shorter", p.coded_len--);
    if (s->head) {
        FORGE("a .npy header without its magic", (p.head = (const uint8_t *)"\x93NUMPX\x01\x00",
                                                   p.head_len = p.head_bytes = 8,
                                                   p.h.orig_size -= p0.head_len - 8));
        FORGE("no .npy header", (p.head_len = p.head_bytes = 0, p.h.orig_size -= p0.head_len));
    } else {
        FORGE("a raw file with a header", (p.head = (const uint8_t *)"\x93NUMPY\x01\x00",
                                            p.head_len = p.head_bytes = 8, p.h.orig_size += 8));
    }
#undef FORGE
#undef FORGE_SOFT
    /* overlong and unterminated varints where head_len goes */
    size_t hl = fmt_header_size(&p0.h);
    const uint8_t vars[][12] = {
        { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0 }, /* 12 bytes */
        { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0 },    /* > 2^64 */
        { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 } /* no end */
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        fmt_header h = p0.h;
        h.payload_size = 12;
        uint8_t *g = malloc(FMT_HEADER_MAX + 12);
        REQUIRE(g);
        REQUIRE(fmt_header_write(g, &h) == hl);
        memcpy(g + hl, vars[i], 12);
        snprintf(what, sizeof what, "%s: a bad varint (%zu)", name, i);
        expect_refused(g, hl + 12, what);
        free(g);
    }
}

static void test_bad_input(uint64_t *rng)
{
    /* what the encoder refuses, with a reason */
    uint8_t raw[64] = { 0 };
    fl_opts fo = { 0 };
    uint8_t *f = (uint8_t *)raw;
    size_t fl = 1;
    const char *why = NULL;
    for (size_t n = 1; n < 16; n += (n % 4 == 3) ? 2 : 1) {
        why = NULL;
        CHECK_MSG(fl_compress(&f, &fl, raw, n, &fo, &copts, &why) == NC_ERR_ARG && why && *why
                      && f == NULL,
                  "raw input of %zu bytes", n);
    }
    size_t len, head;
    uint8_t *npy = make_npy(&len, &head, "4,", "<f8", 8, K_WEIGHTS, rng);
    why = NULL;
    CHECK_MSG(fl_compress(&f, &fl, npy, len, &fo, &copts, &why) == NC_ERR_ARG && why && *why
                  && f == NULL,
              ".npy of '<f8'");
    if (why)
        CHECK_MSG(strstr(why, "<f8") != NULL, "the reason names the dtype: %s", why);
    free(npy);
    npy = make_npy(&len, &head, "4,", ">f4", 4, K_WEIGHTS, rng);
    CHECK(fl_compress(&f, &fl, npy, len, &fo, &copts, &why) == NC_ERR_ARG && why && f == NULL);
    free(npy);
    npy = make_npy(&len, &head, "4,", "<f4", 4, K_WEIGHTS, rng);
    CHECK(fl_compress(&f, &fl, npy, len - 1, &fo, &copts, &why) == NC_ERR_ARG && why && f == NULL);
    const double bad_e[] = { -1, -0x1p-17, u2d(0x7FF8000000000000ull), u2d(0x7FF0000000000000ull),
                             2e300 };
    for (size_t i = 0; i < sizeof bad_e / sizeof bad_e[0]; i++) {
        fl_opts b = { .max_error = bad_e[i] };
        why = NULL;
        CHECK_MSG(fl_compress(&f, &fl, raw, 16, &b, &copts, &why) == NC_ERR_ARG && why && f == NULL,
                  "bound %a accepted", bad_e[i]);
    }
    const fl_tensor t[2] = { { 3, 1 }, { 2, 1 } };
    fl_opts bt = { .tensors = t, .n_tensors = 2 };
    CHECK_MSG(fl_compress(&f, &fl, raw, 16, &bt, &copts, &why) == NC_ERR_ARG && why && f == NULL,
              "tensors of 5 floats for 4");
    bt.n_tensors = 0;
    CHECK_MSG(fl_compress(&f, &fl, raw, 16, &bt, &copts, &why) == NC_ERR_ARG && f == NULL,
              "an empty tensor list");
    bt.n_tensors = 1;
    CHECK_MSG(fl_compress(&f, &fl, npy, len, &bt, &copts, &why) == NC_ERR_ARG && f == NULL,
              ".npy: tensors of 3 floats for 4");
    free(npy);

    /* A tensor of no floats in the list: refused, or coded into a file that decodes (the JSON
     * reader drops them, but fl_compress is called with lists from elsewhere too). */
    {
        size_t n = 1000;
        uint8_t *buf = malloc(4 * n);
        REQUIRE(buf);
        make_floats(buf, n, K_WEIGHTS, rng);
        const fl_tensor z[3] = { { 400, 10 }, { 0, 1 }, { 600, 10 } };
        fl_opts zo = { .max_error = pow2(-17), .tensors = z, .n_tensors = 3 };
        nc_status st = fl_compress(&f, &fl, buf, 4 * n, &zo, &copts, &why);
        CHECK_MSG(st == NC_ERR_ARG || st == NC_OK, "a tensor of 0 floats: %s", codec_status_str(st));
        if (st == NC_OK) {
            uint8_t *dec = NULL;
            uint64_t dl;
            st = codec_decompress(&dec, &dl, f, fl, &copts);
            CHECK_MSG(st == NC_OK, "a tensor of 0 floats: fl_compress wrote a file the decoder "
                      "refuses (%s)", codec_status_str(st));
            free(dec);
            free(f);
        }
        free(buf);
    }

    /* damaged files: raw lossy and lossless, .npy lossy */
    sample s;
    const struct {
        int npy;
        double e;
        const char *name;
    } kinds[] = { { 0, 0x1p-17, "raw lossy" },
                  { 0, 0, "raw lossless" },
                  { 1, 0x1p-10, ".npy lossy" } };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        sample_make(&s, kinds[k].npy, kinds[k].e, kinds[k].npy ? 120 : 40, rng);
        double t0 = seconds();
        test_truncations(&s, kinds[k].name);
        double t1 = seconds();
        test_forgeries(&s, kinds[k].name);
        double t2 = seconds();
        test_flips(&s, kinds[k].name, k == 2 ? (TEST_SANITIZED ? 40 : 400)
                                             : (TEST_SANITIZED ? 80 : 800), rng);
        printf("  %s: %zu bytes, cuts %.1f s, forgeries %.1f s, flips %.1f s\n", kinds[k].name,
               s.flen, t1 - t0, t2 - t1, seconds() - t2);
        sample_free(&s);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The real weight files: every value checked, lossy with the tensor lists and lossless. */

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    REQUIRE(p);
    *len = fread(p, 1, (size_t)n, fp);
    fclose(fp);
    REQUIRE(*len == (size_t)n);
    return p;
}

static int test_shared(void)
{
    const char *dir = getenv("NNZIP_FLOATS_DIR");
    if (!dir || !*dir)
        dir = "/work/shared/floats";
    DIR *d = opendir(dir);
    if (!d) {
        printf("test_float shared: no %s, skipped\n", dir);
        return TEST_SKIP;
    }
    int found = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".f32") != 0)
            continue;
        char path[4096], jpath[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        snprintf(jpath, sizeof jpath, "%s/%.*s.json", dir, (int)(nl - 4), de->d_name);
        size_t n, jl;
        uint8_t *in = read_file(path, &n), *json = read_file(jpath, &jl);
        if (!in || !json) {
            free(in);
            free(json);
            continue;
        }
        found++;
        fl_tensor *t = NULL;
        uint32_t nt = 0;
        const char *why = NULL;
        nc_status st = fl_shapes_parse(&t, &nt, (const char *)json, jl, n / 4, &why);
        CHECK_MSG(st == NC_OK, "%s: %s", jpath, why ? why : codec_status_str(st));
        for (int lossy = 1; lossy >= 0 && st == NC_OK; lossy--) {
            double t0 = seconds();
            size_t fl = 0;
            char what[4200];
            snprintf(what, sizeof what, "%s, %s", path, lossy ? "2^-17 with shapes" : "lossless");
            uint8_t *f = round_trip(&fl, in, n, 0, lossy ? pow2(-17) : 0, lossy ? t : NULL,
                                    lossy ? nt : 0, what);
            printf("  %s: %zu floats, %.3f bits per float, %.1f s both ways\n", what, n / 4,
                   f ? 8.0 * (double)fl / (double)(n / 4) : 0.0, seconds() - t0);
            free(f);
        }
        free(t);
        free(in);
        free(json);
    }
    closedir(d);
    if (!found) {
        printf("test_float shared: no .f32 with a .json in %s, skipped\n", dir);
        return TEST_SKIP;
    }
    return test_finish("test_float shared");
}

int main(int argc, char **argv)
{
#if defined(__GLIBC__) && !TEST_SANITIZED
    /* Every coder and decoder allocates the model's ~46 MiB afresh. Served by mmap, each one
     * faults its pages in again; reused from a heap that keeps freed memory, it costs a memset
     * at most (the test runs in 11 s instead of 16). */
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
    if (argc > 1 && strcmp(argv[1], "shared") == 0)
        return test_shared();
    uint64_t seed = 0xF10A7, rng = seed;
    printf("test_float: seed %llu\n", (unsigned long long)seed);
    double t0 = seconds();
    test_quantiser(&rng);
    printf("  quantiser: %.1f s\n", seconds() - t0);
    t0 = seconds();
    test_round_trips(&rng);
    test_npy_round_trips(&rng);
    printf("  round trips: %.1f s\n", seconds() - t0);
    t0 = seconds();
    test_long_constant(&rng);
    printf("  long constant arrays: %.1f s\n", seconds() - t0);
    t0 = seconds();
    test_determinism(&rng);
    printf("  determinism: %.1f s\n", seconds() - t0);
    t0 = seconds();
    test_bad_input(&rng);
    printf("  bad input: %.1f s\n", seconds() - t0);
    return test_finish("test_float");
}
