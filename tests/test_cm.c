/* The cm model (model/cm/): round trips at every level over edge-case and typical inputs, the
 * encoder and the decoder computing the same probability for every bit, damaged payloads and
 * headers rejected, and the integer tables it is built on. */
#include <string.h>

#include "bitcodec.h"
#include "cm/squash.h"
#include "cm/state.h"
#include "codec.h"
#include "format.h"
#include "harness.h"
#include "member.h"

static const codec_opts opts = { .env = { .threads = 1 }, .no_transform = 1 }; /* the models alone */

static void cm_config(model_config *c, int level)
{
    memset(c, 0, sizeof *c);
    REQUIRE(model_find_name("cm")->preset(c, level) == NC_OK);
    c->level = (uint8_t)level;
}

/* Inputs of every kind the tests use; *n gets the size. */
static uint8_t *sample(int kind, size_t *n)
{
    static const char *words[] = { "the ", "of ", "Compression ", "neural ", "[[link]] ", "and ",
                                   "model\n", "1984 ", "&lt;ref&gt; ", "predicts " };
    uint64_t rng = 11 + (uint64_t)kind;
    size_t len = kind == 0 ? 0 : kind == 1 ? 1 : kind == 2 ? 10000 : 16000;
    uint8_t *t = malloc(len + 1);
    for (size_t i = 0; i < len;) {
        switch (kind) {
        case 1: t[i++] = 'x'; break;
        case 2: t[i++] = 0xAA; break;                       /* constant */
        case 3: t[i++] = (uint8_t)test_rand64(&rng); break; /* random */
        case 4: {                                           /* text */
            const char *w = words[test_rand_below(&rng, 10)];
            for (; *w && i < len; w++)
                t[i++] = (uint8_t)*w;
            break;
        }
        default: /* binary: 12-byte records, a counter, a slowly varying field, noise */
            t[i] = (uint8_t)(i / 12 % 12 == 0 ? i / 144 : i % 12 < 4 ? (i / 12) * 7 : test_rand_below(&rng, 4));
            i++;
            break;
        }
    }
    *n = len;
    return t;
}

static const char *const kinds[] = { "empty", "1 byte", "constant", "random", "text", "binary" };

static uint8_t *compress(const uint8_t *in, size_t n, int level, size_t *len)
{
    model_config c;
    cm_config(&c, level);
    uint8_t *out;
    REQUIRE(codec_compress(&out, len, in, n, &c, &opts) == NC_OK);
    return out;
}

/* Every level and kind: the file decodes to the input, and compressing twice gives the same
 * bytes (checked at three levels). Compressible kinds must actually compress (the model is not just storing). */
static void test_roundtrips(void)
{
    for (int level = 1; level <= 9; level++) {
        if (TEST_SANITIZED && level != 1 && level != 3 && level != 5 && level != 9)
            continue; /* -4 and -6 ... -8 differ from these only in table sizes */
        for (int k = 0; k < 6; k++) {
            size_t n, len, len2;
            uint8_t *in = sample(k, &n);
            uint8_t *z = compress(in, n, level, &len), *z2 = NULL;
            if (level % 4 == 1) { /* compressing twice: at -1, -5 and -9 (each costs a model) */
                z2 = compress(in, n, level, &len2);
                CHECK_MSG(len == len2 && memcmp(z, z2, len) == 0,
                          "-%d %s: compressing twice differs", level, kinds[k]);
            }
            uint8_t *back;
            uint64_t back_len;
            nc_status st = codec_decompress(&back, &back_len, z, len, &opts);
            CHECK_MSG(st == NC_OK && back_len == n && (n == 0 || memcmp(back, in, n) == 0),
                      "-%d %s: %s", level, kinds[k], codec_status_str(st));
            if (k == 2 || k == 4 || k == 5)
                CHECK_MSG(len < n / 3, "-%d %s: %zu -> %zu bytes", level, kinds[k], n, len);
            if (k == 2) /* header 94 bytes (with the block size), block head 9, end 13 */
                CHECK_MSG(len < 116 + 16, "-%d constant: %zu bytes", level, len);
            if (level == 1 || level == 5 || level == 9)
                printf("-%d %-8s %6zu -> %6zu bytes\n", level, kinds[k], n, len);
            free(back);
            free(z);
            free(z2);
            free(in);
        }
    }
}

/* The decoder's model must be given exactly the encoder's probability at every bit: record
 * both sequences through the bit loop and compare them. The encoder runs on the best ISA (AVX2
 * mixer loops where available), the decoder on the scalar reference, so this also checks that
 * the two paths give the same bits. */
static void test_same_probabilities(void)
{
    for (int level = 1; level <= 9; level += 4) {
        for (int k = 4; k < 6; k++) {
            REQUIRE(nc_isa_select(nc_isa_best()) == NC_OK);
            size_t n;
            uint8_t *in = sample(k, &n);
            model_config c;
            cm_config(&c, level);
            uint16_t *te = calloc(8 * n, sizeof *te), *td = calloc(8 * n, sizeof *td);
            uint8_t *out = calloc(n, 1);
            model *m;
            REQUIRE(model_open(&m, &c, &opts.env) == NC_OK && bitcodec_applies(m));
            bit_encoder e;
            bit_enc_init(&e);
            CHECK(bitcodec_encode(m, &e, in, n, &opts, te) == NC_OK);
            REQUIRE(bit_enc_finish(&e) == NC_OK);
            model_close(m);
            REQUIRE(nc_isa_select(NC_ISA_REF) == NC_OK);
            REQUIRE(model_open(&m, &c, &opts.env) == NC_OK);
            bit_decoder d;
            bit_dec_init(&d, e.buf, e.len);
            CHECK(bitcodec_decode(m, &d, out, n, &opts, td) == NC_OK);
            CHECK(bit_dec_finish(&d) == NC_OK);
            model_close(m);
            CHECK_MSG(memcmp(te, td, 8 * n * sizeof *te) == 0, "-%d %s: probabilities differ",
                      level, kinds[k]);
            CHECK_MSG(memcmp(in, out, n) == 0, "-%d %s: bytes differ", level, kinds[k]);
            /* and the model does predict: the mean probability of the coded bit is high */
            uint64_t sum = 0;
            for (size_t i = 0; i < 8 * n; i++)
                sum += (in[i / 8] >> (7 - i % 8) & 1) ? te[i] : 65536 - te[i];
            CHECK_MSG(sum / (8 * n) > 52000, "-%d %s: mean P(bit) %llu / 65536", level, kinds[k],
                      (unsigned long long)(sum / (8 * n)));
            REQUIRE(nc_isa_select(nc_isa_best()) == NC_OK);
            bit_enc_free(&e);
            free(te);
            free(td);
            free(out);
            free(in);
        }
    }
}

/* Flipped payload bytes and truncations give an error, never NC_OK with other bytes. */
static void test_damage(void)
{
    size_t n, len;
    uint8_t *in = sample(4, &n);
    uint8_t *z = compress(in, n, 3, &len);
    uint64_t rng = 17;
    int undetected = 0;
    for (int t = 0; t < 40; t++) {
        uint8_t *bad = malloc(len);
        memcpy(bad, z, len);
        size_t at = len - 1 - test_rand_below(&rng, len - 60); /* inside the payload */
        bad[at] ^= (uint8_t)(1 + test_rand_below(&rng, 255));
        uint8_t *back;
        uint64_t back_len;
        nc_status st = codec_decompress(&back, &back_len, bad, len, &opts);
        undetected += st == NC_OK;
        CHECK(st != NC_OK ? back == NULL : back_len == n && memcmp(back, in, n) == 0);
        free(back);
        free(bad);
    }
    CHECK_MSG(undetected == 0, "%d damaged payloads decoded", undetected);
    for (size_t cut = len - 1; cut > len - 200 && cut > 40; cut -= 13) {
        uint8_t *back;
        uint64_t back_len;
        CHECK(codec_decompress(&back, &back_len, z, cut, &opts) != NC_OK && back == NULL);
    }
    free(z);
    free(in);
}

/* A header claiming more bytes than the payload can hold (2^17 per payload byte) is refused
 * before the output is allocated; at the bound it is not refused for its size. A version 1
 * member (one payload) is made from the block of a version 2 one; the same bound holds for a
 * block's raw length (lib/stream.c, tests/test_stream.c). */
static void test_size_bound(void)
{
    size_t n, len, hl, used;
    uint8_t *in = sample(4, &n);
    uint8_t *z = compress(in, n, 1, &len);
    fmt_header h;
    REQUIRE(fmt_header_read(&h, &hl, z, len) == NC_OK && h.model_id == MODEL_CM);
    blk_head b;
    uint64_t total;
    uint32_t crc;
    REQUIRE(blk_read(&b, &used, &total, &crc, z + hl, len - hl, n) == NC_OK
            && b.kind == BLK_MODELLED);
    fmt_header v1 = h;
    v1.version = FMT_VERSION;
    v1.n_params = 0;
    for (unsigned i = 0; i < h.n_params; i++)
        if (h.params[i].key != MP_BLOCK)
            v1.params[v1.n_params++] = h.params[i];
    v1.payload_size = b.payload_len;
    uint8_t *f = malloc(FMT_HEADER_MAX + b.payload_len);
    for (int over = 0; over < 2; over++) {
        v1.orig_size = (v1.payload_size << 17) + (uint64_t)over;
        size_t fl = fmt_header_write(f, &v1);
        memcpy(f + fl, z + hl + used, (size_t)b.payload_len);
        fmt_header hh;
        model_config c;
        nc_status st = codec_inspect(&hh, &c, f, fl + (size_t)b.payload_len);
        CHECK_MSG(over ? st == NC_ERR_CORRUPT : st == NC_OK, "size %llu: %s",
                  (unsigned long long)v1.orig_size, codec_status_str(st));
    }
    free(f);
    free(z);
    free(in);
}

/* check() refuses every parameter out of range before anything is allocated. */
static void test_limits(void)
{
    const model_ops *ops = model_find_name("cm");
    REQUIRE(ops && ops->bit_predict && ops->bit_update && !ops->predict);
    static const struct { enum model_param k; uint32_t v; } bad[] = {
        { MP_CM_HASH, 31 }, { MP_CM_HASH, 11 }, { MP_CM_MATCH, 29 }, { MP_CM_HISTORY, 31 },
        { MP_CM_CONTEXTS, 0 }, { MP_CM_CONTEXTS, 256 }, { MP_CM_MIXERS, 0 }, { MP_CM_MIXERS, 32 },
        { MP_CM_RATE, 0 }, { MP_CM_RATE, 65 }, { MP_CM_APM, 0 }, { MP_CM_APM, 4 }, { MP_STREAMS, 2 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        model_config c;
        cm_config(&c, 5);
        model_config_set(&c, bad[i].k, bad[i].v);
        CHECK_MSG(ops->check(&c) == NC_ERR_LIMIT, "key %d = %u accepted", bad[i].k, bad[i].v);
    }
    model_config c;
    cm_config(&c, 5);
    model_config_unset(&c, MP_CM_APM);
    CHECK(ops->check(&c) == NC_ERR_CORRUPT);
    /* memory: grows with the level, the strongest within 1 GiB */
    uint64_t last = 0;
    for (int level = 1; level <= 9; level++) {
        uint64_t params, bytes;
        cm_config(&c, level);
        ops->size(&c, &params, &bytes);
        CHECK_MSG(bytes >= last && bytes <= (1ull << 30), "-%d: %llu bytes", level, (unsigned long long)bytes);
        last = bytes;
    }
}

/* squash is the logistic function in 16 bits, stretch its inverse; the state machine is closed. */
static void test_tables(void)
{
    static cm_logistic l;
    cm_logistic_init(&l);
    CHECK(cm_squash(&l, 0) == 32768);
    CHECK(cm_squash(&l, 256) == 47911); /* 65536 / (1 + e^-1) = 47910.8 */
    CHECK(cm_squash(&l, -2047) >= 1 && cm_squash(&l, 2047) <= 65535);
    int mono = 1, inverse = 1;
    for (int d = -2046; d <= 2047; d++) {
        mono &= cm_squash(&l, d) >= cm_squash(&l, d - 1);
        mono &= cm_squash(&l, d) + cm_squash(&l, -d) == 65536;
    }
    for (int d = -1000; d <= 1000; d++) { /* 12-bit buckets: finer d would need more bits */
        int back = cm_stretch(&l, cm_squash(&l, d));
        inverse &= back - d <= 8 && d - back <= 8;
    }
    CHECK(mono);
    CHECK(inverse);
    static cm_states st;
    cm_states_init(&st);
    CHECK(st.count > 100 && st.count <= 256);
    int closed = 1;
    for (unsigned s = 0; s < st.count; s++)
        for (int y = 0; y < 2; y++) {
            unsigned t = st.next[s][y];
            closed &= t < st.count && t != 0;
            closed &= y ? st.n1[t] >= st.n1[s] || st.n1[t] == 40 : st.n0[t] >= st.n0[s] || st.n0[t] == 40;
        }
    CHECK(closed);
    unsigned s = 0;
    for (int i = 0; i < 100; i++)
        s = st.next[s][1];
    CHECK(st.n0[s] == 0 && st.n1[s] == 40);
}

int main(void)
{
    test_tables();
    test_limits();
    test_size_bound();
    test_roundtrips();
    test_same_probabilities();
    test_damage();
    return test_finish("test_cm");
}
