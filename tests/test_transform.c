/* The text transform (coder/transform): exact round trips of every kind of input, the escape and
 * case cases, dictionary limits, detection of text and binary chunks, damaged sections rejected,
 * and the container keys through codec_compress/codec_decompress. */
#include <string.h>

#include "codec.h"
#include "stream_int.h"
#include "harness.h"
#include "transform/text_int.h"

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *s, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        REQUIRE(b->p);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static const char *const vocab[] = {
    "the", "of", "and", "in", "to", "was", "is", "for", "that", "with", "as", "by", "on",
    "from", "his", "which", "at", "were", "city", "world", "history", "government", "people",
    "between", "because", "language", "century", "national", "university", "population",
};
#define N_VOCAB (sizeof vocab / sizeof vocab[0])

/* English-like text of n bytes: words of the vocabulary in every case, punctuation, lines. */
static void make_text(buf *b, size_t n, uint64_t *rng)
{
    while (b->len < n) {
        const char *w = vocab[test_rand_below(rng, N_VOCAB)];
        char s[64];
        size_t k = strlen(w);
        memcpy(s, w, k + 1);
        unsigned c = test_rand_below(rng, 10);
        if (c == 0)
            s[0] = (char)(s[0] - 32); /* Capitalised */
        else if (c == 1)
            for (size_t i = 0; i < k; i++)
                s[i] = (char)(s[i] - 32); /* UPPER */
        else if (c == 2 && k > 2)
            s[1] = (char)(s[1] - 32); /* mIxed */
        put(b, s, k);
        unsigned p = test_rand_below(rng, 16);
        puts_(b, p == 0 ? ".\n" : p == 1 ? ", " : p == 2 ? "\r\n" : " ");
    }
    b->len = n;
}

/* Forward then inverse: the original comes back exactly. Returns the transformed length (0:
 * the transform declined). */
static uint64_t round_trip(const uint8_t *in, uint64_t n, const char *what)
{
    uint8_t *x = NULL, *back = NULL;
    uint64_t xl = 0;
    xt_info info;
    nc_status st = xt_encode_with(&x, &xl, in, n, &info, 0, XT_MIN_COUNT_NET);
    CHECK_MSG(st == NC_OK, "%s: encode %d", what, st);
    if (!x)
        return 0;
    st = xt_decode(&back, n, x, xl);
    CHECK_MSG(st == NC_OK, "%s: decode %d", what, st);
    CHECK_MSG(st != NC_OK || (n == 0 || memcmp(back, in, n) == 0), "%s: different bytes back", what);
    xt_info d;
    CHECK(xt_describe(&d, x, xl) == NC_OK);
    CHECK(d.words1 == info.words1 && d.words2 == info.words2 && d.runs == info.runs);
    CHECK(d.section_bytes == info.section_bytes);
    free(x);
    free(back);
    return xl;
}

static void test_text_round_trips(uint64_t *rng)
{
    buf b = { 0 };
    make_text(&b, 200000, rng);
    uint64_t xl = round_trip(b.p, b.len, "text");
    CHECK_MSG(xl > 0 && xl < b.len * 3 / 4, "text: transformed %llu of %zu bytes",
              (unsigned long long)xl, b.len);
    /* Rare high bytes (UTF-8 letters) become codes: each use is escaped. */
    for (size_t i = 1000; i + 2 < b.len; i += 9000)
        memcpy(b.p + i, "\xC3\xA9", 2);
    xt_info info;
    uint8_t *x = NULL;
    uint64_t xl2 = 0;
    CHECK(xt_encode_with(&x, &xl2, b.p, b.len, &info, 0, XT_MIN_COUNT_NET) == NC_OK && x);
    int c3_code = 0;
    if (x) {
        xt_section s;
        uint64_t used;
        REQUIRE(xt_section_read(&s, &used, x, xl2, b.len) == NC_OK);
        c3_code = s.t.role[0xC3] != XR_LITERAL;
        xt_section_free(&s);
    }
    CHECK_MSG(c3_code, "a byte used once in 9000 should be taken as a code and escaped");
    free(x);
    round_trip(b.p, b.len, "text with escapes");
    /* Every other high byte value too, rarely, so that each code byte appears escaped. */
    for (unsigned v = 128; v < 256; v++)
        b.p[(v * 1237) % b.len] = (uint8_t)v;
    round_trip(b.p, b.len, "text with every high byte");
    free(b.p);
}

static void test_cases(void)
{
    /* Every case of a dictionary word, words at the edges, one-letter words, runs of capitals,
     * mixed case, words longer than the dictionary's, CRLF and UTF-8. */
    buf b = { 0 };
    for (int i = 0; i < 400; i++)
        puts_(&b, "The the THE tHe thE Th T t the-the The\r\nTHEORY theory Theory "
                  "\xE2\x80\x94 caf\xC3\xA9 na\xC3\xAFve \xD0\x9C\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0 "
                  "Supercalifragilisticexpialidociouslyxx supercalifragilisticexpialidociouslyxx "
                  "AB ab Ab aB I a A\n");
    uint64_t xl = round_trip(b.p, b.len, "cases");
    CHECK(xl > 0 && xl < b.len);
    /* A word at the very end, and no separator after it. */
    puts_(&b, "The");
    CHECK(round_trip(b.p, b.len, "ends in a word") > 0);
    b.len = 0;
    /* One very long word (beyond XT_WORD_MAX and beyond a chunk), and no words at all. */
    for (int i = 0; i < 100000; i++)
        put(&b, &"abcdefghij"[i % 10], 1);
    round_trip(b.p, b.len, "one long word");
    b.len = 0;
    for (int i = 0; i < 50000; i++)
        put(&b, &"0123456789 .,\n"[i % 14], 1);
    CHECK_MSG(round_trip(b.p, b.len, "no words") == 0, "a text without letters is not rewritten");
    CHECK(round_trip(b.p, 0, "empty") == 0);
    uint8_t *x = NULL;
    /* Words that never repeat: nothing for a dictionary, so the text stays as it is. */
    b.len = 0;
    uint64_t r = 99;
    while (b.len < 50000) {
        char w[9];
        for (int i = 0; i < 8; i++)
            w[i] = (char)('a' + test_rand_below(&r, 26));
        w[8] = ' ';
        put(&b, w, 9);
    }
    round_trip(b.p, b.len, "unique words");
    CHECK(xt_encode_with(&x, &xl, b.p, b.len, NULL, 1, XT_MIN_COUNT_NET) == NC_OK);
    CHECK_MSG(x == NULL, "nothing to gain: not rewritten");
    free(x);
    free(b.p);
}

static void test_binary_and_mixed(uint64_t *rng)
{
    size_t n = 5 * XT_CHUNK + 1234;
    uint8_t *p = malloc(n);
    REQUIRE(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)test_rand64(rng);
    CHECK_MSG(round_trip(p, n, "random") == 0, "random bytes are not text");
    /* text, binary, text: three runs, only the text ones rewritten */
    buf t = { 0 };
    make_text(&t, 2 * XT_CHUNK, rng);
    memcpy(p, t.p, 2 * XT_CHUNK);
    t.len = 0;
    make_text(&t, n - 4 * XT_CHUNK, rng);
    memcpy(p + 4 * XT_CHUNK, t.p, n - 4 * XT_CHUNK);
    uint8_t *x = NULL;
    uint64_t xl = 0;
    xt_info info;
    CHECK(xt_encode_with(&x, &xl, p, n, &info, 0, XT_MIN_COUNT_NET) == NC_OK && x);
    CHECK_MSG(info.runs == 3 && info.text_bytes == n - 2 * XT_CHUNK, "runs %llu text %llu",
              (unsigned long long)info.runs, (unsigned long long)info.text_bytes);
    free(x);
    round_trip(p, n, "mixed");
    free(t.p);
    free(p);
}

/* More frequent words than codes: the dictionary stays within its limits. */
static void test_dictionary_limits(uint64_t *rng)
{
    buf b = { 0 };
    char w[24];
    for (int rep = 0; rep < 14; rep++) {
        for (int i = 0; i < 20000; i++) {
            int k = 0; /* "lexicon" and a different suffix for each: long words worth a code */
            for (const char *pre = "lexicon"; *pre; pre++)
                w[k++] = *pre;
            for (int v = i + 1; v; v /= 26)
                w[k++] = (char)('a' + v % 26);
            w[k++] = ' ';
            put(&b, w, (size_t)k);
        }
    }
    uint8_t *x = NULL;
    uint64_t xl = 0;
    xt_info info;
    CHECK(xt_encode_with(&x, &xl, b.p, b.len, &info, 0, XT_MIN_COUNT_NET) == NC_OK && x);
    CHECK(info.words1 <= info.codes - 3 - info.leads);
    CHECK(info.words2 <= info.leads * XT_PER_LEAD);
    CHECK_MSG(info.words1 + info.words2 > 1000, "words %u + %u", info.words1, info.words2);
    free(x);
    round_trip(b.p, b.len, "many words");
    (void)rng;
    free(b.p);
}

/* A damaged section or body is refused, never read or written out of bounds (ASan run). */
static void test_damage(uint64_t *rng)
{
    buf b = { 0 };
    make_text(&b, 30000, rng);
    uint8_t *x = NULL, *back = NULL;
    uint64_t xl = 0;
    xt_info info;
    REQUIRE(xt_encode_with(&x, &xl, b.p, b.len, &info, 0, XT_MIN_COUNT_NET) == NC_OK && x);
    /* Every truncation: the runs no longer add up. */
    for (uint64_t cut = 0; cut < xl; cut += cut < info.section_bytes + 64 ? 1 : 997) {
        CHECK_MSG(xt_decode(&back, b.len, x, cut) == NC_ERR_CORRUPT, "cut at %llu",
                  (unsigned long long)cut);
        CHECK(back == NULL);
    }
    /* A wrong original size, and a byte after the end. */
    CHECK(xt_decode(&back, b.len - 1, x, xl) == NC_ERR_CORRUPT);
    CHECK(xt_decode(&back, b.len + 1, x, xl) == NC_ERR_CORRUPT);
    uint8_t *longer = malloc(xl + 1);
    REQUIRE(longer);
    memcpy(longer, x, xl);
    longer[xl] = ' ';
    CHECK(xt_decode(&back, b.len, longer, xl + 1) == NC_ERR_CORRUPT);
    free(longer);
    /* Specific damage to the dictionary: locate the first word (after runs, map, leads and
     * the two counts) and break it in each way the reader checks. */
    uint64_t w0 = 1 + 3 /* one run of 30000 bytes: 3-byte varint */ + 32 + 1;
    w0 += x[w0] < 128 ? 1 : 2;
    w0 += x[w0] < 128 ? 1 : 2;
    CHECK(x[w0] == 0); /* the first word shares nothing */
    uint8_t save = x[w0];
    x[w0] = 5; /* shares letters with no previous word */
    CHECK(xt_decode(&back, b.len, x, xl) == NC_ERR_CORRUPT);
    x[w0] = save;
    save = x[w0 + 1];
    x[w0 + 1] = 'Q'; /* not a lower-case letter */
    CHECK(xt_decode(&back, b.len, x, xl) == NC_ERR_CORRUPT);
    x[w0 + 1] = save;
    save = x[1 + 3 + 32];
    x[1 + 3 + 32] = 250; /* more leads than codes */
    CHECK(xt_decode(&back, b.len, x, xl) == NC_ERR_CORRUPT);
    x[1 + 3 + 32] = save;
    CHECK(xt_decode(&back, b.len, x, xl) == NC_OK && back && memcmp(back, b.p, b.len) == 0);
    free(back);
    back = NULL;
    /* Random flips anywhere: an error or some output, never a crash. */
    int refused = 0;
    for (int i = 0; i < 300; i++) {
        uint64_t at = test_rand64(rng) % xl;
        uint8_t old = x[at];
        x[at] ^= (uint8_t)(1 + test_rand_below(rng, 255));
        nc_status st = xt_decode(&back, b.len, x, xl);
        refused += st != NC_OK;
        CHECK(st == NC_OK || back == NULL);
        free(back);
        back = NULL;
        x[at] = old;
    }
    CHECK_MSG(refused > 0, "no random flip was noticed");
    free(x);
    free(b.p);
}

static void keep_member(void *ctx, const member_info *mi)
{
    *(member_info *)ctx = *mi;
}

/* The one member of f (len bytes) as the scanner reads it. */
static nc_status scan(member_info *mi, const uint8_t *f, size_t len)
{
    memset(mi, 0, sizeof *mi);
    nnz_stream *s;
    nc_status st = stream_scanner_new(&s, keep_member, mi);
    size_t used = 0;
    if (st == NC_OK)
        st = (nc_status)nnz_stream_push(s, f, len, &used);
    if (st == NC_OK)
        st = (nc_status)nnz_stream_finish(s);
    if (st == NC_OK && (used != len || !nnz_stream_done(s)))
        st = NC_ERR_ARG;
    nnz_stream_free(s);
    return st;
}

/* Through the codec: the block says it holds transformed text, both directions agree,
 * --no-transform leaves it out, and a block whose modelled size is wrong is refused (the block
 * head's other forgeries: tests/test_stream.c). */
static void test_codec(uint64_t *rng)
{
    buf b = { 0 };
    make_text(&b, 600000, rng); /* above the least text xt_encode rewrites */
    model_config cfg = { .id = MODEL_ORDER2 };
    REQUIRE(model_find_id(MODEL_ORDER2)->preset(&cfg, 1) == NC_OK);
    codec_opts on = { .env = { .threads = 1 } }, off = on;
    off.no_transform = 1;
    uint8_t *f1, *f2, *back;
    size_t l1, l2;
    uint64_t bl;
    REQUIRE(codec_compress(&f1, &l1, b.p, b.len, &cfg, &on) == NC_OK);
    REQUIRE(codec_compress(&f2, &l2, b.p, b.len, &cfg, &off) == NC_OK);
    member_info mi;
    REQUIRE(scan(&mi, f1, l1) == NC_OK);
    CHECK(mi.blocks == 1 && mi.text_blocks == 1 && mi.orig == b.len);
    uint64_t m = mi.modelled;
    CHECK(m > 0 && m < b.len);
    REQUIRE(scan(&mi, f2, l2) == NC_OK);
    CHECK(mi.blocks == 1 && mi.text_blocks == 0 && mi.modelled == b.len);
    CHECK_MSG(l1 < l2, "order2 on text: %zu with the transform, %zu without", l1, l2);
    CHECK(codec_decompress(&back, &bl, f1, l1, &on) == NC_OK && bl == b.len
          && memcmp(back, b.p, bl) == 0);
    free(back);
    CHECK(codec_decompress(&back, &bl, f2, l2, &on) == NC_OK && bl == b.len);
    free(back);
    /* The block head follows the header: find the modelled length's varint after
     * raw_len's and the kind byte, and make it one less: the model then decodes a stream that
     * rebuilds no original of this size (or fails its CRC). */
    size_t hl = 30 + 6 * (size_t)mi.h.n_params + 4, at = hl;
    while (f1[at] & 0x80)
        at++;
    at++;
    CHECK(f1[at] == 2); /* BLK_TEXT */
    uint8_t *g = malloc(l1);
    memcpy(g, f1, l1);
    g[at + 1] = (uint8_t)(g[at + 1] == 0x80 ? 0x81 : g[at + 1] - 1);
    CHECK(codec_decompress(&back, &bl, g, l1, &on) != NC_OK && back == NULL);
    free(g);
    free(f1);
    free(f2);
    free(b.p);
}

/* The encoder's own threshold: less text than XT_MIN_TEXT is left alone. */
static void test_minimum(uint64_t *rng)
{
    buf b = { 0 };
    make_text(&b, 100000, rng);
    uint8_t *x = NULL;
    uint64_t xl = 0;
    CHECK(xt_encode(&x, &xl, b.p, b.len, 1, NULL) == NC_OK && x == NULL);
    CHECK(xt_encode_with(&x, &xl, b.p, b.len, NULL, 0, XT_MIN_COUNT_NET) == NC_OK && x != NULL);
    free(x);
    free(b.p);
}

int main(void)
{
    uint64_t seed = 0x7E47, rng = seed;
    printf("test_transform: seed %llu\n", (unsigned long long)seed);
    test_text_round_trips(&rng);
    test_cases();
    test_binary_and_mixed(&rng);
    test_dictionary_limits(&rng);
    test_damage(&rng);
    test_codec(&rng);
    test_minimum(&rng);
    return test_finish("test_transform");
}
