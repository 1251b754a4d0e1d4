/* The hybrid models (cm with a network as a mixer input, model/cm/netin.c): the subtree
 * probabilities, the encoder's batched network forward and the decoder's step-by-step one giving
 * the same probability for every bit on every ISA path and thread count, round trips at every
 * level of the names hybrid, lstm and transformer, the network actually helping, and the limits
 * of the keys. */
#include <math.h>
#include <string.h>

#include "bitcodec.h"
#include "cm/cm.h"
#include "cm/netin.h"
#include "codec.h"
#include "harness.h"

#define SANITIZED TEST_SANITIZED

static void preset(model_config *c, const char *name, int level)
{
    memset(c, 0, sizeof *c);
    REQUIRE(model_find_name(name)->preset(c, level) == NC_OK);
    c->level = (uint8_t)level;
}

/* A small hybrid for the bit-identity checks: small tables and a small network, so many runs
 * stay fast; every part of the real presets is there. */
static void small(model_config *c, const char *net)
{
    preset(c, net, 1);
    model_config_set(c, MP_CM_HASH, 16);
    model_config_set(c, MP_CM_MATCH, 12);
    model_config_set(c, MP_CM_HISTORY, 16);
    if (strcmp(net, "lstm") == 0) {
        model_config_set(c, MP_HIDDEN, 40);
        model_config_set(c, MP_EMBED, 16);
    }
    model_config_set(c, MP_SEGMENT, 16);
}

/* Words of text: the network and the contexts both have something to learn. */
static uint8_t *text(size_t n, uint64_t seed)
{
    static const char *words[] = { "the ", "of ", "Compression ", "neural ", "[[link]] ", "and ",
                                   "model\n", "1984 ", "&lt;ref&gt; ", "predicts ", "is ", "a " };
    uint8_t *t = malloc(n + 1);
    uint64_t rng = seed;
    for (size_t i = 0; i < n;) {
        const char *w = words[test_rand_below(&rng, 12)];
        for (; *w && i < n; w++)
            t[i++] = (uint8_t)*w;
    }
    return t;
}

static const codec_opts one_thread = { .env = { .threads = 1 }, .no_transform = 1 };

/* The tree: the logit of every node matches the one computed in double from the distribution,
 * and a subtree of zeros gives no opinion rather than NaN. */
static void test_tree(void)
{
    uint64_t rng = 5;
    for (int trial = 0; trial < 20; trial++) {
        float p[256], lg[512];
        double sum = 0;
        for (int i = 0; i < 256; i++)
            sum += p[i] = (float)(test_rand_below(&rng, 1000) + (trial == 0 && i < 128 ? 0 : 1));
        for (int i = 0; i < 256; i++)
            p[i] = (float)(p[i] / sum);
        if (trial == 1) /* one byte certain: the other subtrees are all zero */
            for (int i = 0; i < 256; i++)
                p[i] = i == 'e' ? 1.0f : 0.0f;
        cm_netin_tree(lg, p);
        cm_netin n = { 0 };
        memcpy(n.lg, lg, sizeof lg);
        int bad = 0;
        for (uint32_t c0 = 1; c0 < 256; c0++) {
            unsigned depth = 0;
            while (c0 >> (depth + 1))
                depth++;
            unsigned width = 128 >> depth; /* bytes under each child of node c0 */
            unsigned first = (c0 << (8 - depth)) & 255;
            double s0 = 0, s1 = 0;
            for (unsigned b = 0; b < width; b++) {
                s0 += p[first + b];
                s1 += p[first + width + b];
            }
            int32_t got = cm_netin_stretch(&n, c0);
            int32_t want;
            if (s0 == 0 && s1 == 0)
                want = 0;
            else if (s0 == 0 || s1 == 0)
                want = s0 == 0 ? 2047 : -2047;
            else {
                double d = log(s1 / s0) * 256;
                want = d >= 2047 ? 2047 : d <= -2047 ? -2047 : (int32_t)d;
            }
            bad += got - want > 1 || want - got > 1;
        }
        CHECK_MSG(bad == 0, "trial %d: %d nodes' logits off", trial, bad);
    }
}

/* Run the bit loop: the probability of every bit into trace, the payload into *e. */
static void encode(const model_config *c, const uint8_t *in, size_t n, int threads, uint16_t *trace,
                   bit_encoder *e)
{
    model *m;
    model_env env = { .threads = threads };
    REQUIRE(model_open(&m, c, &env) == NC_OK && bitcodec_applies(m));
    bit_enc_init(e);
    CHECK(bitcodec_encode(m, e, in, n, NULL, trace) == NC_OK);
    REQUIRE(bit_enc_finish(e) == NC_OK);
    model_close(m);
}

/* The encoder (best ISA, one thread, batched forward) and the decoder on every ISA path this
 * machine has and at 1, 2 and 3 threads (step-by-step forward) see the same probabilities. */
static void test_same_probabilities(void)
{
    static const char *nets[] = { "lstm", "transformer" };
    const size_t n = SANITIZED ? 400 : 2500; /* not a multiple of the segment: a cut-short end */
    for (int k = 0; k < 2; k++) {
        model_config c;
        small(&c, nets[k]);
        uint8_t *in = text(n, 3 + (uint64_t)k), *out = malloc(n);
        uint16_t *te = calloc(8 * n, sizeof *te), *td = calloc(8 * n, sizeof *td);
        REQUIRE(nc_isa_select(nc_isa_best()) == NC_OK);
        bit_encoder e;
        encode(&c, in, n, 1, te, &e);
        for (int isa = 0; isa <= (int)nc_isa_best(); isa++) {
            if (SANITIZED && isa != 0 && isa != (int)nc_isa_best())
                continue; /* ~10x slower: the reference and the best path */
            REQUIRE(nc_isa_select((nc_isa)isa) == NC_OK);
            for (int threads = 1; threads <= 3; threads++) {
                if (SANITIZED && threads == 2)
                    continue;
                model *m;
                model_env env = { .threads = threads };
                REQUIRE(model_open(&m, &c, &env) == NC_OK);
                bit_decoder d;
                bit_dec_init(&d, e.buf, e.len);
                memset(td, 0, 8 * n * sizeof *td);
                CHECK(bitcodec_decode(m, &d, out, n, NULL, td) == NC_OK);
                CHECK(bit_dec_finish(&d) == NC_OK);
                model_close(m);
                CHECK_MSG(memcmp(te, td, 8 * n * sizeof *te) == 0 && memcmp(in, out, n) == 0,
                          "%s: the decoder on ISA %d with %d threads differs", nets[k], isa, threads);
            }
        }
        REQUIRE(nc_isa_select(nc_isa_best()) == NC_OK);
        /* and the encoder with threads too */
        bit_encoder e3;
        uint16_t *t3 = calloc(8 * n, sizeof *t3);
        encode(&c, in, n, 3, t3, &e3);
        CHECK_MSG(e3.len == e.len && memcmp(e3.buf, e.buf, e.len) == 0
                      && memcmp(t3, te, 8 * n * sizeof *te) == 0,
                  "%s: the encoder with 3 threads differs", nets[k]);
        bit_enc_free(&e3);
        bit_enc_free(&e);
        free(t3);
        free(te);
        free(td);
        free(out);
        free(in);
    }
}

static size_t compressed_size(const model_config *c, const uint8_t *in, size_t n)
{
    uint8_t *z;
    size_t len;
    REQUIRE(codec_compress(&z, &len, in, n, c, &one_thread) == NC_OK);
    uint8_t *back;
    uint64_t back_len;
    nc_status st = codec_decompress(&back, &back_len, z, len, &one_thread);
    CHECK_MSG(st == NC_OK && back_len == n && (n == 0 || memcmp(back, in, n) == 0), "round trip: %s",
              codec_status_str(st));
    free(back);
    free(z);
    return len;
}

/* Every level of the three names decodes, and the files are hybrids where they should be. */
static void test_levels(void)
{
    static const char *names[] = { "hybrid", "lstm", "transformer" };
    const size_t n = 800; /* smaller would be stored: the header alone is ~250 bytes */
    uint8_t *in = text(n, 9);
    for (int k = 0; k < 3; k++)
        for (int level = 1; level <= 9; level++) {
            if (SANITIZED && level != 1 && !(k == 0 && level == 3))
                continue; /* under the sanitizer: each name's smallest network */
            model_config c;
            preset(&c, names[k], level);
            uint32_t net = 0;
            CHECK(c.id == MODEL_CM);
            CHECK(model_find_id(c.id)->check(&c) == NC_OK);
            model_config_get(&c, MP_CM_NET, &net);
            CHECK_MSG(k == 0 ? (level <= 2) == (net == 0) : net == (k == 1 ? MODEL_LSTM : MODEL_TRANSFORMER),
                      "%s -%d: network %u", names[k], level, net);
            size_t len = compressed_size(&c, in, n);
            /* the member's framing (the block key, a block head, the end) is about 27 bytes */
            CHECK_MSG(len < n / 2 + 27, "%s -%d: %zu -> %zu bytes", names[k], level, n, len);
            if (level == 1 || (level == 9 && !SANITIZED))
                compressed_size(&c, in, 1);
        }
    free(in);
}

/* With the network the same context models code text smaller: the input is wired the right way
 * round and the mixers use it. */
static void test_network_helps(void)
{
    const size_t n = 24000;
    if (SANITIZED) { /* minutes under the sanitizer; the Release suite runs it */
        printf("test_network_helps skipped under AddressSanitizer\n");
        return;
    }
    uint8_t *in = text(n, 21);
    model_config with, without;
    small(&with, "lstm");
    without = with;
    model_config_set(&without, MP_CM_NET, 0);
    uint32_t mixers = 0;
    model_config_get(&without, MP_CM_MIXERS, &mixers);
    model_config_set(&without, MP_CM_MIXERS, mixers & ~(uint32_t)CM_MIX_NET);
    size_t a = compressed_size(&with, in, n), b = compressed_size(&without, in, n);
    printf("%zu bytes: with the network %zu, without %zu\n", n, a, b);
    CHECK_MSG(a < b, "with the network %zu bytes, without %zu", a, b);
    free(in);
}

/* check() refuses what a hybrid cannot be. */
static void test_limits(void)
{
    const model_ops *ops = model_find_id(MODEL_CM);
    model_config c;
    static const struct { enum model_param k; uint32_t v; } bad[] = {
        { MP_CM_NET, 1 }, { MP_CM_NET, 4 }, { MP_CM_NET, 9 }, { MP_STREAMS, 2 }, { MP_MIX_ORDER, 3 },
        { MP_HIDDEN, 0 }, { MP_SEGMENT, 0 }, { MP_CM_MIXERS, 64 }, { MP_CM_MIXERS, CM_MIX_NET },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        preset(&c, "lstm", 3);
        model_config_set(&c, bad[i].k, bad[i].v);
        CHECK_MSG(ops->check(&c) == NC_ERR_LIMIT, "key %d = %u accepted", bad[i].k, bad[i].v);
    }
    preset(&c, "cm", 5); /* the network's selector without a network */
    model_config_set(&c, MP_CM_MIXERS, CM_MIX_ALL | CM_MIX_NET);
    CHECK(ops->check(&c) == NC_ERR_LIMIT);
    preset(&c, "lstm", 3); /* a network key missing */
    model_config_unset(&c, MP_HIDDEN);
    CHECK(ops->check(&c) == NC_ERR_CORRUPT);
    /* the size counts both parts */
    uint64_t p_cm, b_cm, p_h, b_h;
    preset(&c, "cm", 5);
    ops->size(&c, &p_cm, &b_cm);
    preset(&c, "lstm", 5);
    ops->size(&c, &p_h, &b_h);
    CHECK(p_h > p_cm + 700000 && b_h > b_cm + (8u << 20));
}

int main(void)
{
    test_tree();
    test_limits();
    test_same_probabilities();
    test_levels();
    test_network_helps();
    return test_finish("test_hybrid");
}
