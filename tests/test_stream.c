/* Streams and members (lib/stream.c, lib/member.h): round trips through tiny blocks for every
 * kind of model (a network's segments cut by block ends included), output independent of how
 * the input is pushed or the output pulled, members concatenated and split, bounded buffers,
 * stored blocks the decoder's model relearns, every truncation, forged framing, and the
 * one-shot calls of nnzip.h. */
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "harness.h"
#include "member.h"
#include "nnzip.h"
#include "stream_int.h"

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

static void put(bytes *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

/* Text-like bytes with a stretch of noise in the middle (a block there is stored). */
static void make_input(bytes *b, size_t n, uint64_t *rng, int noise)
{
    static const char *words[] = { "the ", "model ", "carries ", "on ", "across ", "blocks ",
                                   "and ", "streams ", "within ", "a ", "member.\n", "Zstd " };
    while (b->len < n) {
        if (noise && b->len > n / 3 && b->len < n / 3 + 5000) {
            uint8_t c = (uint8_t)test_rand64(rng);
            put(b, &c, 1);
            continue;
        }
        const char *w = words[test_rand_below(rng, 12)];
        put(b, w, strlen(w) < n - b->len ? strlen(w) : n - b->len);
    }
}

/* Everything s gives for in, pushing `step` bytes at a time and pulling `pull` at a time.
 * Returns the status; *out gets the output so far (also after an error). */
static nnz_status pump(nnz_stream *s, const uint8_t *in, size_t n, size_t step, size_t pull,
                       bytes *out)
{
    uint8_t *tmp = malloc(pull);
    size_t done = 0;
    nnz_status st = NNZ_OK;
    int finished = 0;
    while (st == NNZ_OK && !nnz_stream_done(s)) {
        size_t used = 0, got = 0;
        if (done < n)
            st = nnz_stream_push(s, in + done, n - done < step ? n - done : step, &used);
        else if (!finished && (finished = 1))
            st = nnz_stream_finish(s);
        done += used;
        while (st == NNZ_OK && (st = nnz_stream_pull(s, tmp, pull, &got)) == NNZ_OK && got)
            put(out, tmp, got);
        if (st == NNZ_OK && finished && !nnz_stream_done(s) && !got && used == 0) {
            st = NNZ_ERR_ARG; /* neither output nor the end: a stuck stream */
            CHECK_MSG(0, "stream stuck");
        }
    }
    free(tmp);
    return st;
}

static nnz_status encode(const char *name, int level, uint64_t block, uint64_t member,
                         const uint8_t *in, size_t n, size_t step, size_t pull, bytes *out)
{
    nnz_options o;
    nnz_options_init(&o);
    o.model = name;
    o.level = level;
    o.block_size = block;
    o.member_size = member;
    nnz_stream *s;
    nnz_status st = nnz_encoder_new(&s, &o);
    if (st == NNZ_OK)
        st = pump(s, in, n, step, pull, out);
    nnz_stream_free(s);
    return st;
}

static nnz_status decode(const uint8_t *in, size_t n, size_t step, size_t pull, bytes *out)
{
    nnz_stream *s;
    nnz_status st = nnz_decoder_new(&s, NULL);
    if (st == NNZ_OK)
        st = pump(s, in, n, step, pull, out);
    nnz_stream_free(s);
    return st;
}

static int same(const bytes *a, const uint8_t *p, size_t n)
{
    return a->len == n && (n == 0 || memcmp(a->p, p, n) == 0);
}

/* Every model through blocks far smaller than the input, with odd sizes, so block ends cut
 * segments, stripes and words; the encoder's output must not depend on the push size, and
 * the decoder must rebuild the input however it is fed. */
static void test_models(uint64_t *rng)
{
    static const struct { const char *model; int level; size_t n; uint64_t block; } runs[] = {
        { "stored", 1, 30000, 4096 },  { "order2", 1, 60000, 7777 }, { "cm", 1, 60000, 9999 },
        { "cm", 1, 60000, 60000 },     { "lstm", 1, 12000, 3001 },   { "transformer", 1, 8000, 1999 },
        { "hybrid", 1, 12000, 3001 },
    };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        bytes in = { 0 }, a = { 0 }, b = { 0 }, back = { 0 }, back2 = { 0 };
        /* under the sanitizers (ten times slower) a third of each input: blocks still cut it */
        make_input(&in, TEST_SANITIZED ? runs[r].n / 3 : runs[r].n, rng, 1);
        nnz_status st = encode(runs[r].model, runs[r].level, runs[r].block, 0, in.p, in.len,
                               in.len, 1 << 16, &a);
        CHECK_MSG(st == NNZ_OK, "%s: %s", runs[r].model, nnz_status_str(st));
        st = encode(runs[r].model, runs[r].level, runs[r].block, 0, in.p, in.len, 1000, 333, &b);
        CHECK_MSG(st == NNZ_OK && a.len == b.len && memcmp(a.p, b.p, a.len) == 0,
                  "%s: the output depends on how the input was pushed", runs[r].model);
        st = decode(a.p, a.len, a.len, 1 << 16, &back);
        CHECK_MSG(st == NNZ_OK && same(&back, in.p, in.len), "%s -%d block %llu: %s",
                  runs[r].model, runs[r].level, (unsigned long long)runs[r].block,
                  nnz_status_str(st));
        st = decode(a.p, a.len, 7, 100, &back2);
        CHECK_MSG(st == NNZ_OK && same(&back2, in.p, in.len), "%s: fed 7 bytes at a time: %s",
                  runs[r].model, nnz_status_str(st));
        uint64_t size = 0;
        CHECK(nnz_decoded_size(&size, a.p, a.len) == NNZ_OK && size == in.len);
        printf("%-12s -%d %6zu bytes, blocks of %5llu: %6zu bytes\n", runs[r].model,
               runs[r].level, in.len, (unsigned long long)runs[r].block, a.len);
        free(in.p), free(a.p), free(b.p), free(back.p), free(back2.p);
    }
}

static void keep_info(void *ctx, const member_info *mi)
{
    bytes *b = ctx;
    put(b, mi, sizeof *mi);
}

/* The members of f, as the scanner finds them; their count, or -1 on an error. */
static long members_of(const uint8_t *f, size_t n, bytes *infos)
{
    nnz_stream *s;
    if (stream_scanner_new(&s, keep_info, infos) != NC_OK)
        return -1;
    bytes none = { 0 };
    nnz_status st = pump(s, f, n, n, 64, &none);
    nnz_stream_free(s);
    free(none.p);
    return st == NNZ_OK ? (long)(infos->len / sizeof(member_info)) : -1;
}

/* Concatenated members decode to the concatenation; --member-size pieces are members that
 * decode on their own, and together; a member of nothing decodes to nothing. */
static void test_members(uint64_t *rng)
{
    bytes in = { 0 }, a = { 0 }, b = { 0 }, both = { 0 }, back = { 0 };
    make_input(&in, 50000, rng, 0);
    REQUIRE(encode("cm", 1, 0, 0, in.p, 20000, 20000, 4096, &a) == NNZ_OK);
    REQUIRE(encode("order2", 2, 0, 0, in.p + 20000, 30000, 30000, 4096, &b) == NNZ_OK);
    put(&both, a.p, a.len);
    put(&both, b.p, b.len);
    CHECK(decode(both.p, both.len, 1000, 4096, &back) == NNZ_OK && same(&back, in.p, in.len));
    back.len = 0;
    bytes empty = { 0 };
    REQUIRE(encode("cm", 1, 0, 0, in.p, 0, 1, 4096, &empty) == NNZ_OK);
    CHECK_MSG(empty.len == stream_stored_size(0), "an empty member is %zu bytes", empty.len);
    put(&both, empty.p, empty.len); /* an empty member at the end changes nothing */
    CHECK(decode(both.p, both.len, 1000, 4096, &back) == NNZ_OK && same(&back, in.p, in.len));
    back.len = 0;
    CHECK(decode(empty.p, empty.len, 1, 1, &back) == NNZ_OK && back.len == 0);
    CHECK(decode(empty.p, 0, 1, 1, &back) == NNZ_ERR_TRUNCATED); /* no member at all */
    uint8_t junk[3] = { 'a', 'b', 'c' }; /* bytes after a member that are not one */
    put(&empty, junk, 3);
    CHECK(decode(empty.p, empty.len, 1, 1, &back) == NNZ_ERR_CORRUPT);

    bytes pieces = { 0 }, infos = { 0 };
    REQUIRE(encode("cm", 1, 3000, 12000, in.p, in.len, 5000, 4096, &pieces) == NNZ_OK);
    long m = members_of(pieces.p, pieces.len, &infos);
    CHECK_MSG(m == 5, "member size 12000 of 50000 bytes: %ld members", m);
    const member_info *mi = (const member_info *)infos.p;
    size_t at = 0, orig = 0;
    for (long i = 0; i < m; i++) {
        bytes one = { 0 };
        CHECK(mi[i].orig == (i < 4 ? 12000u : 2000u) && mi[i].blocks == (i < 4 ? 4u : 1u));
        CHECK(decode(pieces.p + at, (size_t)mi[i].packed, 999, 4096, &one) == NNZ_OK
              && same(&one, in.p + orig, (size_t)mi[i].orig));
        at += (size_t)mi[i].packed;
        orig += (size_t)mi[i].orig;
        free(one.p);
    }
    CHECK(at == pieces.len && orig == in.len);
    back.len = 0;
    CHECK(decode(pieces.p, pieces.len, pieces.len, 4096, &back) == NNZ_OK
          && same(&back, in.p, in.len));
    free(in.p), free(a.p), free(b.p), free(both.p), free(back.p), free(empty.p);
    free(pieces.p), free(infos.p);
}

/* Damage: every truncation fails (never NNZ_OK), and whatever was given out before the error
 * is a prefix of the original; forged framing gets its documented code. */
static void test_damage(uint64_t *rng)
{
    bytes in = { 0 }, f = { 0 }, out = { 0 };
    make_input(&in, 20000, rng, 1);
    REQUIRE(encode("order2", 1, 4000, 0, in.p, in.len, in.len, 4096, &f) == NNZ_OK);
    int bad = 0;
    for (size_t cut = 0; cut < f.len; cut += 1 + cut / 97) {
        out.len = 0;
        nnz_status st = decode(f.p, cut, 100, 512, &out);
        bad += st == NNZ_OK || out.len > in.len || (out.len && memcmp(out.p, in.p, out.len) != 0);
    }
    CHECK_MSG(bad == 0, "%d truncations decoded or gave wrong bytes", bad);

    /* Forgeries, at the first block head: raw length 4000 (varint a0 1f), kind, payload
     * length, crc. */
    bytes infos = { 0 };
    REQUIRE(members_of(f.p, f.len, &infos) == 1);
    const member_info *mi = (const member_info *)infos.p;
    size_t hl = 30 + 6 * (size_t)mi->h.n_params + 4;
    REQUIRE(f.p[hl] == 0xa0 && f.p[hl + 1] == 0x1f && f.p[hl + 2] == BLK_MODELLED);
    static const struct { size_t off; uint8_t v; nnz_status want; const char *what; } forged[] = {
        { 0, 0xa1, NNZ_ERR_CORRUPT, "a block larger than the member's block size" },
        { 2, 9, NNZ_ERR_CORRUPT, "an unknown kind" },
        { 2, BLK_STORED, NNZ_ERR_CORRUPT, "a stored block whose payload is not its size" },
        { 3, 0xff, NNZ_ERR_CORRUPT, "a payload as long as the block" },
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        bytes g = { 0 };
        put(&g, f.p, f.len);
        g.p[hl + forged[i].off] = forged[i].v;
        if (forged[i].off == 3) /* payload length varint: make it 2 bytes >= 4000 */
            g.p[hl + 4] = 0x7f;
        out.len = 0;
        nnz_status st = decode(g.p, g.len, g.len, 4096, &out);
        CHECK_MSG(st == forged[i].want, "%s: %s", forged[i].what, nnz_status_str(st));
        CHECK(out.len == 0);
        free(g.p);
    }
    /* a flipped payload byte: the block's CRC or the model's consistency catches it */
    bytes g = { 0 };
    put(&g, f.p, f.len);
    g.p[hl + 20] ^= 0x10;
    out.len = 0;
    CHECK(decode(g.p, g.len, g.len, 4096, &out) != NNZ_OK && out.len == 0);
    /* the end: its total and its crc */
    memcpy(g.p, f.p, f.len);
    g.p[g.len - 12] ^= 1; /* the total's low byte */
    CHECK(decode(g.p, g.len, g.len, 1 << 16, &out) == NNZ_ERR_CORRUPT);
    memcpy(g.p, f.p, f.len);
    g.p[g.len - 1] ^= 1; /* the crc */
    CHECK(decode(g.p, g.len, g.len, 1 << 16, &out) == NNZ_ERR_CHECKSUM);
    free(g.p), free(in.p), free(f.p), free(out.p), free(infos.p);
}

/* The buffers of a stream stay within a few blocks whatever the input's length. */
static void test_bounded(uint64_t *rng)
{
    bytes in = { 0 }, f = { 0 };
    make_input(&in, TEST_SANITIZED ? 1 << 19 : 1 << 21, rng, 0);
    nnz_options o;
    nnz_options_init(&o);
    o.model = "order2";
    o.level = 1;
    o.block_size = 1 << 16;
    nnz_stream *s;
    REQUIRE(nnz_encoder_new(&s, &o) == NNZ_OK);
    size_t most = 0;
    uint8_t tmp[4096];
    for (size_t done = 0; done < in.len;) {
        size_t used, got;
        REQUIRE(nnz_stream_push(s, in.p + done, in.len - done, &used) == NNZ_OK);
        done += used;
        most = stream_buffered(s) > most ? stream_buffered(s) : most;
        while (nnz_stream_pull(s, tmp, sizeof tmp, &got) == NNZ_OK && got)
            put(&f, tmp, got);
    }
    REQUIRE(nnz_stream_finish(s) == NNZ_OK);
    size_t got;
    while (nnz_stream_pull(s, tmp, sizeof tmp, &got) == NNZ_OK && got)
        put(&f, tmp, got);
    CHECK(nnz_stream_done(s));
    nnz_stream_free(s);
    CHECK_MSG(most <= 4 * (size_t)o.block_size, "the encoder held %zu bytes", most);
    REQUIRE(nnz_decoder_new(&s, NULL) == NNZ_OK);
    most = 0;
    bytes back = { 0 };
    for (size_t done = 0; done < f.len || !nnz_stream_done(s);) {
        size_t used = 0;
        if (done < f.len)
            REQUIRE(nnz_stream_push(s, f.p + done, f.len - done, &used) == NNZ_OK);
        else
            REQUIRE(nnz_stream_finish(s) == NNZ_OK || nnz_stream_done(s));
        done += used;
        most = stream_buffered(s) > most ? stream_buffered(s) : most;
        while (nnz_stream_pull(s, tmp, sizeof tmp, &got) == NNZ_OK && got)
            put(&back, tmp, got);
        if (done == f.len && !nnz_stream_done(s))
            nnz_stream_finish(s);
    }
    nnz_stream_free(s);
    CHECK_MSG(most <= 4 * (size_t)o.block_size, "the decoder held %zu bytes", most);
    CHECK(same(&back, in.p, in.len));
    free(in.p), free(f.p), free(back.p);
}

/* Stored blocks, both kinds, forced by the test switch: the decoder's model must relearn
 * them exactly as the encoder's model learned them, or the next block fails. */
static void test_stored_blocks(uint64_t *rng)
{
    bytes in = { 0 };
    make_input(&in, 1200000, rng, 0); /* blocks with enough text for the transform (512 KiB) */
    for (int pass = 0; pass < (TEST_SANITIZED ? 1 : 2); pass++) { /* the transform's pass first */
        nnz_options o;
        nnz_options_init(&o);
        o.model = "cm";
        o.level = 1;
        o.block_size = 600000;
        o.no_transform = pass;
        nnz_stream *s;
        REQUIRE(nnz_encoder_new(&s, &o) == NNZ_OK);
        stream_test_store_first(s);
        bytes f = { 0 }, back = { 0 }, infos = { 0 };
        REQUIRE(pump(s, in.p, in.len, 1 << 16, 1 << 16, &f) == NNZ_OK);
        nnz_stream_free(s);
        REQUIRE(members_of(f.p, f.len, &infos) == 1);
        const member_info *mi = (const member_info *)infos.p;
        CHECK_MSG(mi->blocks == 2 && mi->stored_blocks == 1 && mi->text_blocks == (pass ? 0u : 2u),
                  "blocks %llu stored %llu text %llu", (unsigned long long)mi->blocks,
                  (unsigned long long)mi->stored_blocks, (unsigned long long)mi->text_blocks);
        CHECK(decode(f.p, f.len, 5000, 4096, &back) == NNZ_OK && same(&back, in.p, in.len));
        free(f.p), free(back.p), free(infos.p);
    }
    free(in.p);
}

/* The one-shot calls: round trip, the bound, a buffer too small, options of an older
 * program (a smaller struct), bad options. */
static void test_oneshot(uint64_t *rng)
{
    bytes in = { 0 };
    make_input(&in, 30000, rng, 1);
    size_t cap = (size_t)nnz_compress_bound(in.len), len = 0, back_len = 0;
    uint8_t *z = malloc(cap), *back = malloc(in.len);
    nnz_options o;
    nnz_options_init(&o);
    o.model = "cm";
    o.level = 1;
    CHECK(nnz_compress(z, cap, &len, in.p, in.len, &o) == NNZ_OK && len < in.len);
    uint64_t size = 0;
    CHECK(nnz_decoded_size(&size, z, len) == NNZ_OK && size == in.len);
    CHECK(nnz_decompress(back, in.len, &back_len, z, len, NULL) == NNZ_OK && back_len == in.len
          && memcmp(back, in.p, in.len) == 0);
    CHECK(nnz_decompress(back, in.len - 1, &back_len, z, len, NULL) == NNZ_ERR_SPACE);
    size_t small = 0;
    CHECK(nnz_compress(z, len - 1, &small, in.p, in.len, &o) == NNZ_ERR_SPACE);
    o.struct_size = 8; /* a program that knew only the first fields: the rest are defaults */
    CHECK(nnz_compress(z, cap, &small, in.p, in.len, &o) == NNZ_OK && small != len);
    nnz_options_init(&o);
    o.level = 10;
    CHECK(nnz_compress(z, cap, &small, in.p, in.len, &o) == NNZ_ERR_ARG);
    nnz_options_init(&o);
    o.model = "nonesuch";
    CHECK(nnz_compress(z, cap, &small, in.p, in.len, &o) == NNZ_ERR_ARG);
    static const char *const sets[] = { "cm_rate=4" };
    nnz_options_init(&o);
    o.model = "cm";
    o.level = 1;
    o.set = sets;
    o.n_set = 1;
    CHECK(nnz_compress(z, cap, &small, in.p, in.len, &o) == NNZ_OK);
    /* noise grows by the stored framing at most */
    for (size_t i = 0; i < in.len; i++)
        in.p[i] = (uint8_t)test_rand64(rng);
    CHECK(nnz_compress(z, cap, &len, in.p, in.len, NULL) == NNZ_OK
          && len == stream_stored_size(in.len) && len <= cap);
    CHECK(nnz_decompress(back, in.len, &back_len, z, len, NULL) == NNZ_OK
          && memcmp(back, in.p, in.len) == 0);
    CHECK(strcmp(nnz_version(), NNZ_VERSION_STRING) == 0);
    CHECK(strcmp(nnz_status_str(NNZ_ERR_SPACE), "output buffer too small") == 0);
    free(z), free(back), free(in.p);
}

int main(void)
{
    uint64_t rng = 20261201;
    test_models(&rng);
    test_members(&rng);
    test_damage(&rng);
    test_bounded(&rng);
    test_stored_blocks(&rng);
    test_oneshot(&rng);
    return test_finish("test_stream");
}
