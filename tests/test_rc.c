/* Range coder and symbol mapping: round trips over every alphabet size, extreme and invalid
 * weights, robustness on garbage input, and the coding overhead against the ideal code length. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "rc.h"
#include "symbol.h"

static rc_scratch scratch;

/* Random weights of a few shapes: flat, peaked, with zeros, with huge ranges. */
static void random_weights(float *w, uint32_t n, uint64_t *rng)
{
    unsigned shape = test_rand_below(rng, 4);
    for (uint32_t i = 0; i < n; i++) {
        float u = (float)(test_rand64(rng) >> 40) / (float)(1 << 24);
        switch (shape) {
        case 0: w[i] = u; break;
        case 1: w[i] = u * u * u * u; break;
        case 2: w[i] = test_rand_below(rng, 3) == 0 ? 0.0f : u; break;
        default: w[i] = ldexpf(u, -(int)test_rand_below(rng, 100)); break;
        }
    }
    if (shape == 1)
        w[test_rand_below(rng, n)] = 1e6f; /* one dominant symbol */
}

static void check_table(const uint32_t *f, uint32_t n, const char *what)
{
    uint32_t sum = 0, zero = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += f[i], zero += f[i] == 0;
    CHECK_MSG(sum == RC_TOTAL && zero == 0, "%s: n=%u sum=%u zeros=%u", what, n, sum, zero);
}

/* Tables always total RC_TOTAL with every entry >= 1, whatever the weights. */
static void test_quantize(void)
{
    static float w[RC_DIRECT_MAX];
    static uint32_t f[RC_DIRECT_MAX];
    uint64_t rng = 1;
    for (uint32_t n = 1; n <= RC_DIRECT_MAX; n += (n < 300 ? 1 : 97)) {
        random_weights(w, n, &rng);
        rc_quantize(f, w, n);
        check_table(f, n, "random");
        /* A larger weight never gets a smaller frequency. */
        for (uint32_t i = 1; i < n; i++)
            if (w[i] > w[i - 1] && f[i] < f[i - 1]) {
                CHECK_MSG(0, "not monotonic at n=%u i=%u", n, i);
                break;
            }
    }
    const float specials[] = { 0.0f, -1.0f, NAN, INFINITY, -INFINITY, 1e-45f, 3e38f, 1.0f };
    for (size_t a = 0; a < 8; a++)
        for (size_t b = 0; b < 8; b++) {
            for (uint32_t i = 0; i < 256; i++)
                w[i] = i % 2 ? specials[a] : specials[b];
            rc_quantize(f, w, 256);
            check_table(f, 256, "specials");
        }
    /* All mass on one symbol: it gets everything but the floor of the others. */
    memset(w, 0, sizeof w);
    w[7] = 1.0f;
    rc_quantize(f, w, 256);
    CHECK(f[7] == RC_TOTAL - 255 && f[0] == 1);
}

/* Encode syms with per-position weights from a seed, decode, compare. */
static void roundtrip(uint32_t n, size_t count, uint64_t seed, int extreme)
{
    static float w[RC_MAX_SYMBOLS];
    static uint16_t syms[4096];
    REQUIRE(count <= 4096);
    uint64_t rng = seed;
    rc_encoder e;
    rc_enc_init(&e);
    for (size_t i = 0; i < count; i++) {
        random_weights(w, n, &rng);
        syms[i] = (uint16_t)test_rand_below(&rng, n);
        if (extreme) { /* the model is sure of another symbol: the worst case must still code */
            memset(w, 0, n * sizeof *w);
            w[(syms[i] + 1) % n] = 1.0f;
        }
        rc_encode_symbol(&e, w, n, syms[i], &scratch);
    }
    REQUIRE(rc_enc_finish(&e) == NC_OK);
    rc_decoder d;
    rc_dec_init(&d, e.buf, e.len);
    rng = seed;
    size_t bad = 0;
    for (size_t i = 0; i < count; i++) {
        random_weights(w, n, &rng);
        uint32_t want = test_rand_below(&rng, n);
        if (extreme) {
            memset(w, 0, n * sizeof *w);
            w[(want + 1) % n] = 1.0f;
        }
        bad += rc_decode_symbol(&d, w, n, &scratch) != want;
    }
    CHECK_MSG(bad == 0, "n=%u count=%zu extreme=%d: %zu symbols differ", n, count, extreme, bad);
    CHECK_MSG(rc_dec_finish(&d) == NC_OK, "n=%u: stream not consumed exactly", n);
    rc_enc_free(&e);
}

static void test_alphabets(void)
{
    for (uint32_t n = 2; n <= 300; n++)
        roundtrip(n, 64, n, n % 2);
    const uint32_t big[] = { 511, 512, 1000, 4095, 4096, 4097, 4352, 4353, 30000, 65535, 65536 };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        roundtrip(big[i], 40, big[i], 0);
        roundtrip(big[i], 40, big[i] + 1, 1);
    }
    /* Every symbol of a large two-stage alphabet is codable, including group edges. */
    static float w[RC_MAX_SYMBOLS];
    const uint32_t n = 65536;
    for (uint32_t i = 0; i < n; i++)
        w[i] = 1.0f;
    const uint32_t syms[] = { 0, 1, 255, 256, 257, 4095, 4096, 65279, 65280, 65535 };
    rc_encoder e;
    rc_enc_init(&e);
    for (size_t i = 0; i < 10; i++)
        rc_encode_symbol(&e, w, n, syms[i], &scratch);
    REQUIRE(rc_enc_finish(&e) == NC_OK);
    rc_decoder d;
    rc_dec_init(&d, e.buf, e.len);
    for (size_t i = 0; i < 10; i++)
        CHECK(rc_decode_symbol(&d, w, n, &scratch) == syms[i]);
    CHECK(rc_dec_finish(&d) == NC_OK);
    rc_enc_free(&e);
}

/* 10^6 symbols from a fixed known model: output within 0.1% of the ideal code length of the
 * quantized table, for a flat-ish, a text-like and a very skewed distribution. */
static void test_overhead(void)
{
    static float w[256];
    static uint32_t f[256], cum[257];
    const size_t count = 1000000;
    for (int shape = 0; shape < 3; shape++) {
        for (int i = 0; i < 256; i++)
            w[i] = shape == 0 ? 1.0f + (float)(i % 7) : shape == 1 ? 1.0f / (float)((i + 1) * (i + 1)) : (i == 0 ? 1.0f : 1e-5f);
        rc_quantize(f, w, 256);
        cum[0] = 0;
        for (int i = 0; i < 256; i++)
            cum[i + 1] = cum[i] + f[i];
        uint64_t rng = 42 + (uint64_t)shape;
        double ideal = 0;
        rc_encoder e;
        rc_enc_init(&e);
        for (size_t k = 0; k < count; k++) {
            uint32_t t = test_rand_below(&rng, RC_TOTAL), s = 0;
            while (cum[s + 1] <= t)
                s++;
            ideal -= log2((double)f[s] / RC_TOTAL);
            rc_encode_symbol(&e, w, 256, s, &scratch);
        }
        REQUIRE(rc_enc_finish(&e) == NC_OK);
        double actual = 8.0 * e.len, overhead = actual / ideal - 1;
        printf("overhead, distribution %d: ideal %.0f bits, coded %.0f bits, %+.4f%%\n", shape, ideal,
               actual, 100 * overhead);
        CHECK_MSG(overhead < 0.001 && overhead > -0.0001, "overhead %.5f%%", 100 * overhead);
        rc_enc_free(&e);
    }
}

/* Garbage in: decoding random bytes never crashes, always ends, and truncation is reported. */
static void test_garbage(void)
{
    static uint8_t junk[512];
    static float w[256];
    for (int i = 0; i < 256; i++)
        w[i] = (float)(i + 1);
    uint64_t rng = 7;
    for (int round = 0; round < 200; round++) {
        size_t len = test_rand_below(&rng, sizeof junk);
        for (size_t i = 0; i < len; i++)
            junk[i] = (uint8_t)test_rand64(&rng);
        rc_decoder d;
        rc_dec_init(&d, junk, len);
        for (int k = 0; k < 2000; k++)
            CHECK(rc_decode_symbol(&d, w, 256, &scratch) < 256);
        if (len < 16)
            CHECK(rc_dec_finish(&d) == NC_ERR_TRUNCATED);
    }
}

int main(void)
{
    test_quantize();
    test_alphabets();
    test_overhead();
    test_garbage();
    return test_finish("test_rc");
}
