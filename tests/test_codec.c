/* Container and codec: round trips of edge-case inputs, determinism, and every kind of damage
 * (truncation, byte flips, crafted headers) giving a clean error, never wrong output. */
#include <string.h>

#include "codec.h"
#include "crc32.h"
#include "harness.h"

static const codec_opts opts = { .env = { .threads = 1 } };

static void order2_config(model_config *c)
{
    memset(c, 0, sizeof *c);
    REQUIRE(model_find_name("order2")->preset(c, 5) == NC_OK);
    c->level = 5;
}

static uint8_t *compress(const uint8_t *in, size_t n, size_t *len)
{
    model_config c;
    order2_config(&c);
    uint8_t *out;
    REQUIRE(codec_compress(&out, len, in, n, &c, &opts) == NC_OK);
    return out;
}

static void roundtrip(const char *what, const uint8_t *in, size_t n)
{
    size_t len, len2;
    uint8_t *z = compress(in, n, &len), *z2 = compress(in, n, &len2);
    CHECK_MSG(len == len2 && memcmp(z, z2, len) == 0, "%s: compressing twice differs", what);
    uint8_t *back;
    uint64_t back_len;
    nc_status st = codec_decompress(&back, &back_len, z, len, &opts);
    CHECK_MSG(st == NC_OK && back_len == n && (n == 0 || memcmp(back, in, n) == 0), "%s: %s", what,
              codec_status_str(st));
    printf("%-12s %8zu -> %8zu bytes\n", what, n, len);
    free(back);
    free(z);
    free(z2);
}

static uint8_t *text_sample(size_t n)
{
    static const char *words[] = { "the ", "of ", "compression ", "neural ", "[[link]] ", "and ",
                                   "model\n", "1984 ", "&lt;ref&gt; ", "predicts " };
    uint8_t *t = malloc(n);
    uint64_t rng = 3;
    for (size_t i = 0; i < n;) {
        const char *w = words[test_rand_below(&rng, 10)];
        for (; *w && i < n; w++)
            t[i++] = (uint8_t)*w;
    }
    return t;
}

static void test_roundtrips(void)
{
    uint8_t one = 'x', all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    roundtrip("empty", NULL, 0);
    roundtrip("one byte", &one, 1);
    roundtrip("all bytes", all, 256);
    size_t n = 1 << 20;
    uint8_t *buf = calloc(n, 1);
    roundtrip("zeros 1M", buf, n); /* the most compressible input: the size bound must admit it */
    uint64_t rng = 9;
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)test_rand64(&rng);
    size_t len;
    uint8_t *z = compress(buf, n, &len);
    CHECK_MSG(len <= n + 64, "random data expanded to %zu bytes", len); /* stored, not modelled */
    free(z);
    roundtrip("random 1M", buf, n);
    free(buf);
    uint8_t *t = text_sample(200000);
    roundtrip("text 200k", t, 200000);
    free(t);
}

/* Decoding damaged data: an error, or (when the damage hit bytes with no effect) the exact
 * original. Never success with different bytes. */
static int decodes_wrong(const uint8_t *z, size_t len, const uint8_t *orig, size_t n, nc_status *st)
{
    uint8_t *back;
    uint64_t back_len;
    *st = codec_decompress(&back, &back_len, z, len, &opts);
    int wrong = *st == NC_OK && (back_len != n || (n && memcmp(back, orig, n) != 0));
    free(back);
    return wrong;
}

static void test_damage(void)
{
    size_t n = 1500, len;
    uint8_t *t = text_sample(n), *z = compress(t, n, &len);
    nc_status st;
    for (size_t cut = 0; cut < len; cut++) {
        CHECK(!decodes_wrong(z, cut, t, n, &st));
        CHECK_MSG(st != NC_OK, "truncated to %zu of %zu bytes decoded fine", cut, len);
    }
    uint8_t *copy = malloc(len + 1);
    memcpy(copy, z, len);
    copy[len] = 0;
    CHECK(!decodes_wrong(copy, len + 1, t, n, &st) && st == NC_ERR_CORRUPT); /* trailing byte */
    uint64_t rng = 5;
    int errors = 0, flips = 0;
    for (size_t pos = 0; pos < len; pos++) { /* every byte once, then random extra flips */
        memcpy(copy, z, len);
        copy[pos] ^= (uint8_t)(1u << test_rand_below(&rng, 8));
        CHECK_MSG(!decodes_wrong(copy, len, t, n, &st), "flip at %zu decoded to wrong data", pos);
        errors += st != NC_OK;
        flips++;
    }
    for (int k = 0; k < 300; k++) {
        memcpy(copy, z, len);
        for (int j = 0; j < 3; j++)
            copy[test_rand_below(&rng, (uint32_t)len)] = (uint8_t)test_rand64(&rng);
        CHECK(!decodes_wrong(copy, len, t, n, &st));
        errors += st != NC_OK;
        flips++;
    }
    printf("damage: %d of %d damaged files rejected, none decoded wrong\n", errors, flips);
    free(copy);
    free(z);
    free(t);
}

/* A header whose CRC is right but whose fields lie: each must fail with its documented code
 * before anything large is allocated. */
static nc_status try_header(const fmt_header *h, size_t payload)
{
    static uint8_t buf[FMT_HEADER_MAX + 64];
    size_t hl = fmt_header_write(buf, h);
    memset(buf + hl, 0xA5, payload);
    uint8_t *out;
    uint64_t out_len;
    nc_status st = codec_decompress(&out, &out_len, buf, hl + payload, &opts);
    free(out);
    return st;
}

static void test_crafted_headers(void)
{
    model_config c;
    order2_config(&c);
    fmt_header good = { .version = FMT_VERSION, .model_id = MODEL_ORDER2, .level = 5, .orig_size = 10,
                        .payload_size = 16 };
    for (unsigned k = 0; k < MP_COUNT; k++)
        if (model_config_has(&c, k))
            good.params[good.n_params++] = (fmt_param){ (uint16_t)k, c.value[k] };
    fmt_header h = good;
    nc_status st = try_header(&h, 16); /* well-formed header, garbage payload */
    CHECK(st == NC_ERR_CHECKSUM || st == NC_ERR_CORRUPT || st == NC_ERR_TRUNCATED);
    h.orig_size = 1ull << 60;
    CHECK(try_header(&h, 16) == NC_ERR_CORRUPT); /* 2^60 bytes cannot come from 16 */
    h = good;
    h.version = 3;
    CHECK(try_header(&h, 16) == NC_ERR_VERSION);
    h = good;
    h.model_id = 200;
    CHECK(try_header(&h, 16) == NC_ERR_VERSION);
    h = good;
    h.flags = 1;
    CHECK(try_header(&h, 16) == NC_ERR_VERSION);
    h = good;
    h.params[0].value = 1000; /* alphabet the model does not accept */
    CHECK(try_header(&h, 16) == NC_ERR_LIMIT);
    h = good;
    h.n_params = 1; /* missing parameters */
    CHECK(try_header(&h, 16) == NC_ERR_CORRUPT);
    h = good;
    h.params[h.n_params++] = (fmt_param){ MP_COUNT, 1 }; /* a key this build does not know */
    CHECK(try_header(&h, 16) == NC_ERR_VERSION);
    h = good; /* stored: the payload must be the original, byte for byte */
    h.model_id = MODEL_STORED;
    h.n_params = 0;
    h.orig_size = h.payload_size = 16;
    CHECK(try_header(&h, 16) == NC_ERR_CHECKSUM);
    h.orig_size = 15;
    CHECK(try_header(&h, 16) == NC_ERR_CORRUPT);
    h = good;
    h.params[1].key = h.params[0].key; /* duplicate key */
    CHECK(try_header(&h, 16) == NC_ERR_CORRUPT);
    h = good;
    h.payload_size = 17;
    CHECK(try_header(&h, 16) == NC_ERR_TRUNCATED);
    h = good;
    h.orig_size = 0;
    CHECK(try_header(&h, 16) == NC_ERR_CORRUPT); /* empty original with a payload */
    const uint8_t foreign[] = "BZh91AY&SY this is not ours";
    uint8_t *out;
    uint64_t out_len;
    CHECK(codec_decompress(&out, &out_len, foreign, sizeof foreign, &opts) == NC_ERR_FORMAT);
    CHECK(codec_decompress(&out, &out_len, foreign, 0, &opts) == NC_ERR_TRUNCATED);
}

static void test_size_bound(void)
{
    CHECK(codec_max_symbols(0, 256) == 0);
    CHECK(codec_max_symbols(3, 256) == 0);
    /* A byte of payload holds at most ~1423 symbols of a 256-symbol alphabet: the bound must be
     * above that (valid files pass) and of the same order (lies are caught). */
    uint64_t b = codec_max_symbols(1000, 256);
    CHECK(b >= 1423000 && b <= 2100000);
    CHECK(codec_max_symbols(UINT64_MAX / 2, 256) == UINT64_MAX);
}

int main(void)
{
    test_roundtrips();
    test_damage();
    test_crafted_headers();
    test_size_bound();
    return test_finish("test_codec");
}
