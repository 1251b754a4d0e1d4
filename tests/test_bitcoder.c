/* Binary arithmetic coder (coder/bitcoder.c): round trips with every probability including the
 * extremes, the coding overhead against the ideal code length, garbage and truncated input. */
#include <math.h>
#include <string.h>

#include "bitcoder.h"
#include "harness.h"

/* n random bits, each with its own probability from shape; every one decodes back. */
static void test_roundtrip(void)
{
    enum { N = 200000 };
    static uint8_t bits[N];
    static uint16_t ps[N];
    for (int shape = 0; shape < 4; shape++) {
        uint64_t rng = 7 + (uint64_t)shape;
        bit_encoder e;
        bit_enc_init(&e);
        for (size_t i = 0; i < N; i++) {
            uint32_t p = shape == 0   ? 1 + (uint32_t)test_rand_below(&rng, 65535)
                         : shape == 1 ? (test_rand_below(&rng, 2) ? BIT_P_MIN : BIT_P_MAX)
                         : shape == 2 ? 65535 - (uint32_t)test_rand_below(&rng, 16)
                                      : 32768;
            /* bits that mostly follow p, sometimes against it (the extremes get coded both ways) */
            int bit = test_rand_below(&rng, 65536) < p;
            if (test_rand_below(&rng, 50) == 0)
                bit = !bit;
            bits[i] = (uint8_t)bit;
            ps[i] = (uint16_t)p;
            bit_enc_encode(&e, bit, p);
        }
        REQUIRE(bit_enc_finish(&e) == NC_OK);
        bit_decoder d;
        bit_dec_init(&d, e.buf, e.len);
        size_t wrong = 0;
        for (size_t i = 0; i < N; i++)
            wrong += bit_dec_decode(&d, ps[i]) != bits[i];
        CHECK_MSG(wrong == 0, "shape %d: %zu bits decoded wrong", shape, wrong);
        CHECK_MSG(bit_dec_finish(&d) == NC_OK, "shape %d: payload not consumed exactly", shape);
        CHECK(e.len <= bit_max_bytes(e.len) / 8 * 8 + 8); /* the bound is not below what we coded */
        CHECK((uint64_t)N / 8 <= bit_max_bytes(e.len));
        /* every truncation is reported */
        bit_dec_init(&d, e.buf, e.len - 1);
        for (size_t i = 0; i < N; i++)
            bit_dec_decode(&d, ps[i]);
        CHECK(bit_dec_finish(&d) == NC_ERR_TRUNCATED);
        bit_enc_free(&e);
    }
}

/* Bits drawn with exactly the probability they are coded with: the payload exceeds the ideal
 * code length -sum log2 P(bit) by at most 0.05 % of it plus the 32 bits of the final flush. */
static void test_overhead(void)
{
    static const uint32_t fixed[] = { 32768, 45000, 60000, 65000, 65500 };
    for (int shape = 0; shape < 7; shape++) {
        uint64_t rng = 99 + (uint64_t)shape;
        const size_t count = 4000000;
        double ideal = 0;
        bit_encoder e;
        bit_enc_init(&e);
        for (size_t k = 0; k < count; k++) {
            uint32_t p = shape < 5 ? fixed[shape]
                         : shape == 5 ? 1 + (uint32_t)test_rand_below(&rng, 65535)
                                      : 65535 - (uint32_t)test_rand_below(&rng, 4096);
            int bit = test_rand_below(&rng, 65536) < p;
            ideal -= log2(bit ? p / 65536.0 : 1 - p / 65536.0);
            bit_enc_encode(&e, bit, p);
        }
        REQUIRE(bit_enc_finish(&e) == NC_OK);
        double actual = 8.0 * e.len, overhead = (actual - 32) / ideal - 1;
        printf("overhead, distribution %d: ideal %.0f bits, coded %.0f bits (32 of them the flush), "
               "%+.4f%% besides the flush\n", shape, ideal, actual, 100 * overhead);
        CHECK_MSG(overhead < 0.0005 && actual > ideal - 1, "overhead %.5f%%", 100 * overhead);
        bit_enc_free(&e);
    }
}

/* Garbage decodes to garbage without reading out of bounds, and a short payload is truncated. */
static void test_garbage(void)
{
    static uint8_t junk[256];
    uint64_t rng = 5;
    for (int t = 0; t < 200; t++) {
        size_t n = test_rand_below(&rng, sizeof junk);
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)test_rand64(&rng);
        bit_decoder d;
        bit_dec_init(&d, junk, n);
        for (int i = 0; i < 20000; i++)
            bit_dec_decode(&d, 1 + (uint32_t)test_rand_below(&rng, 65535));
        CHECK(bit_dec_finish(&d) != NC_OK || n == 0 || d.pos == n);
        CHECK(d.pos <= n);
    }
    CHECK(bit_max_bytes(3) == 0 && bit_max_bytes(10) == 10u << 17);
}

int main(void)
{
    test_roundtrip();
    test_overhead();
    test_garbage();
    return test_finish("test_bitcoder");
}
