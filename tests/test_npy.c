/* The float-array mode's input parsers: .npy headers (coder/float/npy.c) and the JSON tensor
 * list (coder/float/shapes.c). Good headers of every version and shape, each kind of bad one
 * with its status and message, every truncation, random damage; JSON tensor lists good and bad,
 * syntax errors at known bytes, nesting, every truncation, and the real lists in
 * $NNZIP_FLOATS_DIR (default /work/shared/floats) when they are there. Every input is parsed
 * from an allocation of exactly its size, so under the sanitizers any read past the end fails. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "float/npy.h"
#include "float/shapes.h"
#include "harness.h"

/* ------------------------------------------------------------------------------------------ */
/* .npy */

/* A .npy file: version major.0, the dict text, then spaces and '\n' so the header ends at a
 * multiple of align as numpy writes it (align 0: no spaces, just the '\n'), then data_bytes of
 * data. Exactly *len bytes are allocated. */
static uint8_t *make_npy(size_t *len, unsigned major, const char *dict, size_t align,
                         size_t data_bytes)
{
    size_t prefix = major == 1 ? 10 : 12, text = strlen(dict) + 1;
    if (align) /* numpy's padlen: align - (prefix + hlen) % align, so 1..align spaces */
        text += align - (prefix + text) % align;
    *len = prefix + text + data_bytes;
    uint8_t *p = malloc(*len ? *len : 1);
    REQUIRE(p);
    memcpy(p, NPY_MAGIC, 6);
    p[6] = (uint8_t)major;
    p[7] = 0;
    p[8] = (uint8_t)text;
    p[9] = (uint8_t)(text >> 8);
    if (major != 1) {
        p[10] = (uint8_t)(text >> 16);
        p[11] = (uint8_t)(text >> 24);
    }
    memcpy(p + prefix, dict, strlen(dict));
    memset(p + prefix + strlen(dict), ' ', text - 1 - strlen(dict));
    p[prefix + text - 1] = '\n';
    for (size_t i = 0; i < data_bytes; i++)
        p[prefix + text + i] = (uint8_t)(i * 37 + 11);
    return p;
}

/* A copy of the first n bytes of p in an allocation of exactly n bytes. */
static uint8_t *exact_copy(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    REQUIRE(q);
    if (n)
        memcpy(q, p, n);
    return q;
}

static nc_status parse_cut(npy_info *info, const uint8_t *p, size_t n, const char **why)
{
    uint8_t *q = exact_copy(p, n);
    nc_status st = npy_parse(info, q, n, why);
    free(q);
    return st;
}

#define GOOD_DICT "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }"

/* dict with data for its shape: expect st, and (if want_why) exactly that message. */
static void expect_npy(unsigned major, const char *dict, size_t data_bytes, nc_status want,
                       const char *want_why)
{
    size_t len;
    uint8_t *p = make_npy(&len, major, dict, 64, data_bytes);
    npy_info info;
    const char *why = "unset";
    nc_status st = npy_parse(&info, p, len, &why);
    CHECK_MSG(st == want, "v%u %s: status %d, want %d (%s)", major, dict, st, want,
              why ? why : "no reason");
    if (st == NC_OK)
        CHECK(why == NULL);
    else
        CHECK_MSG(why && *why && strlen(why) < 192, "v%u %s: no reason given", major, dict);
    if (want_why)
        CHECK_MSG(why && strcmp(why, want_why) == 0, "v%u %s: reason \"%s\", want \"%s\"", major,
                  dict, why ? why : "(null)", want_why);
    free(p);
}

static void expect_shape(unsigned major, const char *dict, uint32_t ndim, const uint64_t *dims,
                         uint64_t count)
{
    size_t len;
    uint8_t *p = make_npy(&len, major, dict, 64, 4 * count);
    npy_info info;
    const char *why = NULL;
    nc_status st = npy_parse(&info, p, len, &why);
    CHECK_MSG(st == NC_OK, "v%u %s: status %d (%s)", major, dict, st, why ? why : "");
    if (st == NC_OK) {
        CHECK(info.header_len == len - 4 * count);
        CHECK(info.header_len % 64 == 0);
        CHECK_MSG(info.count == count, "%s: count %llu", dict, (unsigned long long)info.count);
        CHECK_MSG(info.ndim == ndim, "%s: ndim %u", dict, info.ndim);
        for (uint32_t i = 0; i < NPY_MAX_DIMS; i++)
            CHECK_MSG(info.shape[i] == (i < ndim ? dims[i] : 0), "%s: shape[%u] = %llu", dict, i,
                      (unsigned long long)info.shape[i]);
    }
    free(p);
}

static void test_npy_good(void)
{
    /* The bytes numpy writes for np.save(f, np.zeros((2, 3, 4), np.float32)): version 1.0,
     * header length 118, the data at byte 128. */
    uint8_t golden[128 + 96];
    memcpy(golden, "\x93NUMPY\x01\x00\x76\x00", 10);
    memcpy(golden + 10, GOOD_DICT, strlen(GOOD_DICT));
    memset(golden + 10 + strlen(GOOD_DICT), ' ', 128 - 10 - strlen(GOOD_DICT) - 1);
    golden[127] = '\n';
    memset(golden + 128, 0, 96);
    npy_info info;
    const char *why = "unset";
    CHECK(npy_is_npy(golden, sizeof golden));
    CHECK(npy_is_npy(golden, 6));
    CHECK(!npy_is_npy(golden, 5));
    REQUIRE(npy_parse(&info, golden, sizeof golden, &why) == NC_OK);
    CHECK(why == NULL);
    CHECK(info.header_len == 128 && info.count == 24 && info.ndim == 3);
    CHECK(info.shape[0] == 2 && info.shape[1] == 3 && info.shape[2] == 4 && info.shape[3] == 0);
    CHECK(npy_parse(&info, golden, sizeof golden, NULL) == NC_OK); /* why may be NULL */
    size_t len;
    uint8_t *p = make_npy(&len, 1, GOOD_DICT, 64, 96);
    CHECK(len == sizeof golden && memcmp(p, golden, 128) == 0); /* the test's builder is numpy's */
    free(p);

    static const uint64_t d234[] = {2, 3, 4}, d0[] = {0}, d7[] = {7}, d23[] = {2, 3};
    for (unsigned v = 1; v <= 3; v++) {
        expect_shape(v, GOOD_DICT, 3, d234, 24);
        expect_shape(v, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 0, NULL, 1);
        expect_shape(v, "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", 1, d0, 0);
        expect_shape(v, "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }", 1, d7, 7);
    }
    /* What a Python literal may vary: key order, quotes, spaces, line breaks, commas. */
    expect_shape(2, "{\"shape\": (2, 3), \"descr\": \"<f4\", \"fortran_order\": False}", 2, d23, 6);
    expect_shape(3, "{ 'fortran_order' :False,'shape':(2,3,),'descr':'<f4'}", 2, d23, 6);
    expect_shape(1, " \t{'descr':\t'<f4',\n 'fortran_order': False,\r\n 'shape': ( 2 ,\f3 ) ,\n}",
                 2, d23, 6);
    expect_shape(1, "{'descr': \"<f4\", 'fortran_order': False, 'shape': (+2, 3), }", 2, d23, 6);
    expect_shape(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (000, 7), }", 2,
                 (const uint64_t[]){0, 7}, 0);
    /* Python 2 numpy wrote (3L, 4L); numpy drops the L in versions 1.0 and 2.0 only. */
    expect_shape(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", 2, d23, 6);
    expect_shape(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (7L,), }", 1, d7, 7);
    expect_npy(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (7L,), }", 28, NC_ERR_FORMAT,
               NULL);
    /* A zero dimension makes the product 0 even when the others would overflow it. */
    expect_shape(1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 0), }",
                 3, (const uint64_t[]){4294967296u, 4294967296u, 0}, 0);
    /* 32 dimensions of 1. */
    char dict[512];
    int k = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < 32; i++)
        k += snprintf(dict + k, sizeof dict - (size_t)k, "1, ");
    snprintf(dict + k, sizeof dict - (size_t)k, "), }");
    uint64_t ones[32];
    for (int i = 0; i < 32; i++)
        ones[i] = 1;
    expect_shape(1, dict, 32, ones, 1);

    /* Any padding: none at all, and far more than numpy's. */
    p = make_npy(&len, 1, GOOD_DICT, 0, 96);
    CHECK(npy_parse(&info, p, len, &why) == NC_OK && info.header_len == 10 + strlen(GOOD_DICT) + 1);
    free(p);
    p = make_npy(&len, 2, GOOD_DICT, 4096, 96);
    CHECK(npy_parse(&info, p, len, &why) == NC_OK && info.header_len == 4096 && info.count == 24);
    free(p);
    /* A header of exactly NPY_HEADER_MAX bytes is taken, one more is not. */
    p = make_npy(&len, 2, GOOD_DICT, NPY_HEADER_MAX, 96);
    CHECK(npy_parse(&info, p, len, &why) == NC_OK && info.header_len == NPY_HEADER_MAX);
    p[8] = (uint8_t)(p[8] + 1); /* text length + 1 */
    CHECK(npy_parse(&info, p, len, &why) == NC_ERR_LIMIT);
    free(p);
    uint8_t huge[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 3, 0, 0xFF, 0xFF, 0xFF, 0xFF};
    CHECK(npy_parse(&info, huge, sizeof huge, &why) == NC_ERR_LIMIT);
    CHECK_MSG(why && strcmp(why, "header is 4294967307 bytes; at most 1048576 are accepted") == 0,
              "%s", why);
}

/* Cut a good file at every length: each is refused, with the status for where it was cut. */
static void test_npy_truncations(void)
{
    for (unsigned v = 1; v <= 3; v++) {
        size_t len;
        uint8_t *p = make_npy(&len, v, GOOD_DICT, 64, 96);
        npy_info info;
        memset(&info, 0xA5, sizeof info);
        npy_info before = info;
        for (size_t n = 0; n < len; n++) {
            const char *why = NULL;
            nc_status st = parse_cut(&info, p, n, &why);
            nc_status want = n == 0 ? NC_ERR_FORMAT : NC_ERR_TRUNCATED;
            CHECK_MSG(st == want, "v%u cut at %zu: status %d, want %d", v, n, st, want);
            CHECK(why && *why);
            CHECK(memcmp(&info, &before, sizeof info) == 0); /* untouched on failure */
        }
        const char *why = NULL;
        CHECK(parse_cut(&info, p, 128 + 8, &why) == NC_ERR_TRUNCATED);
        CHECK_MSG(why && strcmp(why, "data is 8 bytes, the shape needs 96") == 0, "%s", why);
        CHECK(parse_cut(&info, p, 100, &why) == NC_ERR_TRUNCATED);
        CHECK_MSG(why && strcmp(why, "file ends inside the header: 100 bytes, the header needs "
                                     "128") == 0,
                  "%s", why);
        CHECK(parse_cut(&info, p, len, &why) == NC_OK && info.count == 24);
        /* One byte more than the shape needs. */
        uint8_t *q = malloc(len + 1);
        REQUIRE(q);
        memcpy(q, p, len);
        q[len] = 0;
        CHECK(npy_parse(&info, q, len + 1, &why) == NC_ERR_FORMAT);
        CHECK_MSG(why && strcmp(why, "data is 97 bytes, the shape needs 96") == 0, "%s", why);
        free(q);
        free(p);
    }
}

static void test_npy_bad(void)
{
    size_t len;
    npy_info info;
    const char *why = NULL;
    uint8_t *p = make_npy(&len, 1, GOOD_DICT, 64, 96);
    /* Magic and version. */
    p[1] = 'n';
    CHECK(!npy_is_npy(p, len));
    CHECK(npy_parse(&info, p, len, &why) == NC_ERR_FORMAT);
    CHECK_MSG(why && strcmp(why, "not a .npy file (no \\x93NUMPY magic)") == 0, "%s", why);
    p[1] = 'N';
    p[0] = 0x94;
    CHECK(npy_parse(&info, p, len, &why) == NC_ERR_FORMAT);
    p[0] = 0x93;
    CHECK(npy_parse(&info, NULL, 0, &why) == NC_ERR_FORMAT);
    CHECK(npy_parse(NULL, p, len, &why) == NC_ERR_ARG);
    static const uint8_t versions[][2] = {{4, 0}, {1, 1}, {0, 0}, {2, 1}, {255, 0}};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        p[6] = versions[i][0];
        p[7] = versions[i][1];
        CHECK_MSG(npy_parse(&info, p, len, &why) == NC_ERR_VERSION, "version %u.%u",
                  versions[i][0], versions[i][1]);
    }
    p[6] = 4;
    p[7] = 0;
    npy_parse(&info, p, len, &why);
    CHECK_MSG(why && strcmp(why, ".npy format version 4.0 is unknown; 1.0, 2.0 and 3.0 are "
                                 "known") == 0,
              "%s", why);
    p[6] = 1;
    p[7] = 0;
    /* The header must end with '\n'. */
    p[127] = ' ';
    CHECK(npy_parse(&info, p, len, &why) == NC_ERR_FORMAT);
    free(p);

    /* Well-formed, but not what the mode takes: NC_ERR_ARG with the reason. */
    const char *only = "; only '<f4' (little-endian float32) is supported";
    char want[128];
    static const char *const dtypes[] = {"<f8", ">f4", "|u1", "<i4", "=f4", "f4", "float32",
                                         "<f4 ", "", "<f\\x34"};
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++) {
        char dict[160];
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (2, 3, 4), }",
                 dtypes[i]);
        snprintf(want, sizeof want, "dtype is '%s'%s", dtypes[i], only);
        expect_npy(1, dict, 96, NC_ERR_ARG, want);
        expect_npy(3, dict, 96, NC_ERR_ARG, want);
    }
    expect_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 4), }", 192, NC_ERR_ARG,
               "dtype is '<f8'; only '<f4' (little-endian float32) is supported");
    expect_npy(1, "{'descr': [('x', '<f4'), ('y', '<i8', (2, 3))], 'fortran_order': False, "
                  "'shape': (2, 3, 4), }",
               96, NC_ERR_ARG, NULL);
    expect_npy(1, "{'descr': ('<f4', (2,)), 'fortran_order': False, 'shape': (3,), }", 24,
               NC_ERR_ARG, NULL);
    expect_npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 4), }", 96, NC_ERR_ARG,
               "fortran_order is True; only C order is supported");
    char dict[512];
    int k = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < 33; i++)
        k += snprintf(dict + k, sizeof dict - (size_t)k, "1,");
    snprintf(dict + k, sizeof dict - (size_t)k, "), }");
    expect_npy(1, dict, 4, NC_ERR_ARG, "shape has 33 dimensions; at most 32 are supported");

    /* Malformed: NC_ERR_FORMAT. */
    static const char *const bad[] = {
        "{'descr': '<f4', 'fortran_order': False, }",                         /* no shape */
        "{'fortran_order': False, 'shape': (2, 3, 4), }",                     /* no descr */
        "{'descr': '<f4', 'shape': (2, 3, 4), }",                             /* no order */
        "{}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), 'shape': (2, 3, 4)}",
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), 'extra': 1}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), 'Shape': 1}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3, 4), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (- 3,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551616,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (24), }",          /* an int */
        "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3, 4], }",     /* a list */
        "{'descr': '<f4', 'fortran_order': False, 'shape': 24, }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3, 4), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (024,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (0x18,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3 4), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,, 3), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4)",        /* no } */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), } x",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4),, }",
        "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3, 4), }",
        "{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }",
        "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3, 4), }",
        "{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3, 4), }",
        "{'descr': '<f4', 'fortran_order': None, 'shape': (2, 3, 4), }",
        "{'descr': 4, 'fortran_order': False, 'shape': (2, 3, 4), }",
        "{'descr': '<f4\", 'fortran_order': False, 'shape': (2, 3, 4), }",   /* quotes differ */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }'",
        "{descr: '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }",
        "{1: '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), # c\n}",
        "['descr', '<f4']",
        "x{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }",
        "{'descr': '<\n4', 'fortran_order': False, 'shape': (2, 3, 4), }",
        ("{'descr': [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]], 'fortran_order': False, "
         "'shape': (), }"), /* one string (parenthesised: clang's -Wstring-concatenation) */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_npy(1, bad[i], 96, NC_ERR_FORMAT, NULL);
        expect_npy(3, bad[i], 96, NC_ERR_FORMAT, NULL);
    }
    /* Some reasons exactly. */
    expect_npy(1, bad[0], 96, NC_ERR_FORMAT, "header: key 'shape' is missing");
    expect_npy(1, bad[4], 96, NC_ERR_FORMAT, "header: key 'shape' appears twice");
    expect_npy(1, bad[6], 96, NC_ERR_FORMAT,
               "header: unknown key 'extra'; a .npy header holds descr, fortran_order and shape");
    expect_npy(1, bad[8], 96, NC_ERR_FORMAT, "header: shape has a negative dimension (byte 61)");
    expect_npy(1, bad[13], 96, NC_ERR_FORMAT, "header: the shape's product does not fit 64 bits");
    expect_npy(1, bad[19], 96, NC_ERR_FORMAT, "header: shape is not a tuple of integers (byte 62)");
    expect_npy(1, bad[20], 96, NC_ERR_FORMAT, "header: syntax error at byte 63");
    /* The 4-byte elements must fit: 2^62 of them need 2^64 bytes, 2^62 - 1 need 2^64 - 4. */
    expect_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", 4,
               NC_ERR_TRUNCATED, "data is 4 bytes, the shape needs more than 2^64");
    expect_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387903,), }", 4,
               NC_ERR_TRUNCATED, "data is 4 bytes, the shape needs 18446744073709551612");
    expect_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }", 95,
               NC_ERR_TRUNCATED, "data is 95 bytes, the shape needs 96");
}

/* Random damage to a good header: never a crash or a read outside the buffer; the same answer
 * twice; and whatever is accepted is self-consistent. */
static void test_npy_damage(uint64_t *rng)
{
    static const char tokens[] = "{}()[],:'\" \t\n0123456789-+LTFNx<f4";
    int iters = 10000, ok = 0, statuses[16] = {0};
    for (int it = 0; it < iters; it++) {
        unsigned v = 1 + (unsigned)(it % 3);
        size_t len;
        uint8_t *p = make_npy(&len, v, GOOD_DICT, 64, 96);
        size_t flips = 1 + test_rand_below(rng, 4);
        for (size_t f = 0; f < flips; f++) {
            size_t at = test_rand_below(rng, 128); /* the header */
            if (test_rand_below(rng, 2))
                p[at] = (uint8_t)tokens[test_rand_below(rng, sizeof tokens - 1)];
            else
                p[at] = (uint8_t)test_rand64(rng);
        }
        size_t n = test_rand_below(rng, 8) == 0 ? test_rand_below(rng, (uint32_t)len + 1) : len;
        uint8_t *q = exact_copy(p, n);
        npy_info a, b;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        const char *why = NULL;
        nc_status st = npy_parse(&a, q, n, &why);
        char why1[192] = "";
        if (why)
            snprintf(why1, sizeof why1, "%s", why);
        nc_status st2 = npy_parse(&b, q, n, &why);
        CHECK(st == st2);
        CHECK(memcmp(&a, &b, sizeof a) == 0);
        CHECK(st == NC_OK ? why == NULL : (why && *why && strcmp(why, why1) == 0));
        statuses[st & 15]++;
        if (st == NC_OK) {
            ok++;
            uint64_t prod = 1;
            for (uint32_t i = 0; i < a.ndim; i++)
                prod *= a.shape[i];
            CHECK(a.ndim <= NPY_MAX_DIMS && prod == a.count);
            for (uint32_t i = a.ndim; i < NPY_MAX_DIMS; i++)
                CHECK(a.shape[i] == 0);
            CHECK(a.header_len <= n && a.header_len + 4 * a.count == n);
            CHECK(q[a.header_len - 1] == '\n');
        }
        free(q);
        free(p);
    }
    printf("npy damage: %d of %d accepted; format %d version %d limit %d truncated %d arg %d\n", ok,
           iters, statuses[NC_ERR_FORMAT], statuses[NC_ERR_VERSION], statuses[NC_ERR_LIMIT],
           statuses[NC_ERR_TRUNCATED], statuses[NC_ERR_ARG]);
    CHECK(ok > 0 && statuses[NC_ERR_FORMAT] > 0 && statuses[NC_ERR_ARG] > 0 &&
          statuses[NC_ERR_TRUNCATED] > 0 && statuses[NC_ERR_VERSION] > 0);
}

/* ------------------------------------------------------------------------------------------ */
/* JSON tensor lists */

static nc_status shapes(fl_tensor **t, uint32_t *n, const char *json, size_t len, uint64_t total,
                        const char **why)
{
    char *q = (char *)exact_copy((const uint8_t *)json, len);
    nc_status st = fl_shapes_parse(t, n, q, len, total, why);
    free(q);
    if (st != NC_OK)
        CHECK_MSG(*t == NULL && *n == 0, "outputs set on failure");
    return st;
}

static void expect_shapes(const char *json, uint64_t total, nc_status want, const char *want_why)
{
    fl_tensor *t = (fl_tensor *)1;
    uint32_t n = 7;
    const char *why = NULL;
    nc_status st = shapes(&t, &n, json, strlen(json), total, &why);
    CHECK_MSG(st == want, "%.60s: status %d, want %d (%s)", json, st, want, why ? why : "");
    CHECK(st == NC_OK ? why == NULL : why && *why);
    if (want_why)
        CHECK_MSG(why && strcmp(why, want_why) == 0, "%.60s: reason \"%s\", want \"%s\"", json,
                  why ? why : "(null)", want_why);
    free(st == NC_OK ? t : NULL);
}

/* 1004 floats: two tensors, an empty one, a scalar, and one whose keys are in another order,
 * with escapes and nested values to ignore. It ends at its '}', so every shorter prefix is cut
 * inside the text. */
static const char good_json[] =
    "{\"source\": \"x/model.json\", \"n_float32\": 1004, \"tensors\": [\n"
    " {\"name\": \"a/kernel\", \"shape\": [3, 3, 4, 8], \"offset\": 0, \"count\": 288},\n"
    " {\"name\": \"a/bias\", \"shape\": [8], \"offset\": 288, \"count\": 8},\n"
    " {\"name\": \"empty\", \"shape\": [0, 5], \"offset\": 296, \"count\": 0},\n"
    " {\"name\": \"scalar\", \"shape\": [], \"offset\": 296, \"count\": 1},\n"
    " {\"shape\": [7, 101], \"name\": \"b\\u00e9\\\"\\\\\\/\\n\\ud83d\\ude00\", \"offset\": 297,"
    " \"count\": 707, \"extra\": {\"a\": [1, -2.5e-3, 0.0, 1E+2, true, false, null, {}, []]}}\n"
    "], \"non_float32_elements_skipped\": 0}";

static void test_shapes_good(void)
{
    fl_tensor *t = NULL;
    uint32_t n = 0;
    const char *why = "unset";
    REQUIRE(shapes(&t, &n, good_json, strlen(good_json), 1004, &why) == NC_OK);
    CHECK(why == NULL);
    CHECK_MSG(n == 4, "n = %u", n);
    static const fl_tensor want[4] = {{288, 8}, {8, 8}, {1, 1}, {707, 101}};
    for (uint32_t i = 0; i < n && i < 4; i++)
        CHECK_MSG(t[i].count == want[i].count && t[i].row == want[i].row,
                  "tensor %u: count %llu row %llu", i, (unsigned long long)t[i].count,
                  (unsigned long long)t[i].row);
    free(t);
    CHECK(fl_shapes_parse(&t, &n, good_json, strlen(good_json), 1004, NULL) == NC_OK);
    free(t);

    /* Whitespace around the text; "tensors" spelt with an escape; the key anywhere. */
    expect_shapes(" \r\n\t{\"tensors\": [{\"shape\": [5], \"offset\": 0, \"count\": 5}]} \n", 5,
                  NC_OK, NULL);
    expect_shapes("{\"t\\u0065nsors\": [{\"shape\": [5], \"offset\": 0, \"count\": 5}]}", 5, NC_OK,
                  NULL);
    expect_shapes("{\"tensors\": [{\"count\": 5, \"offset\": 0, \"shape\": [5]}], \"x\": "
                  "{\"tensors\": 1}}",
                  5, NC_OK, NULL);

    /* The counts must add up to the array's length. */
    expect_shapes(good_json, 1000, NC_ERR_ARG,
                  "shapes: tensors cover 1004 floats, the array has 1000");
    expect_shapes(good_json, 1005, NC_ERR_ARG,
                  "shapes: tensors cover 1004 floats, the array has 1005");
    expect_shapes("{\"tensors\": []}", 3, NC_ERR_ARG,
                  "shapes: tensors cover 0 floats, the array has 3");
    expect_shapes(good_json, 1004, NC_OK, NULL);
    CHECK(fl_shapes_parse(NULL, &n, good_json, 10, 1, &why) == NC_ERR_ARG);
}

static void test_shapes_bad(void)
{
#define T0 "{\"shape\": [2, 3], \"offset\": 0, \"count\": 6}"
    /* Offsets that do not tile, counts that are not the product, wrong types, missing keys. */
    expect_shapes("{\"tensors\": [" T0 ", {\"shape\": [4], \"offset\": 7, \"count\": 4}]}", 10,
                  NC_ERR_FORMAT,
                  "shapes: tensor 1 (byte 57): offset is 7, expected 6 (tensors must lie end to "
                  "end from 0, in order)");
    expect_shapes("{\"tensors\": [{\"shape\": [4], \"offset\": 6, \"count\": 4}, " T0 "]}", 10,
                  NC_ERR_FORMAT, NULL); /* out of order */
    expect_shapes("{\"tensors\": [" T0 ", {\"shape\": [4], \"offset\": 5, \"count\": 4}]}", 10,
                  NC_ERR_FORMAT,
                  "shapes: tensor 1 (byte 57): offset is 5, expected 6 (tensors must lie end to "
                  "end from 0, in order)"); /* overlapping */
    /* Keys that only start like the ones read are other keys, ignored. */
    expect_shapes("{\"tensors2\": 1, \"tensor\": 2, \"tensors\": [{\"shapes\": \"x\", "
                  "\"shape\": [6], \"offsets\": -1, \"offset\": 0, \"count\": 6, \"counts\": null, "
                  "\"coun\": 0}]}",
                  6, NC_OK, NULL);
    expect_shapes("{\"tensors\": [{\"shape\": [2, 3], \"offset\": 0, \"count\": 5}]}", 5,
                  NC_ERR_FORMAT,
                  "shapes: tensor 0 (byte 13): count is 5, the shape's product is 6");
    expect_shapes("{\"tensors\": [{\"shape\": [], \"offset\": 0, \"count\": 0}]}", 0,
                  NC_ERR_FORMAT, NULL);
    expect_shapes("{\"tensors\": [{\"shape\": [0], \"offset\": 0, \"count\": 0}]}", 0,
                  NC_ERR_FORMAT, "shapes: no tensor holds any floats");
    expect_shapes("{\"tensors\": []}", 0, NC_ERR_FORMAT, "shapes: no tensor holds any floats");
    static const char *const bad[] = {
        "{\"tensors\": [{\"shape\": [2, 3], \"offset\": 0}]}",
        "{\"tensors\": [{\"shape\": [2, 3], \"count\": 6}]}",
        "{\"tensors\": [{\"offset\": 0, \"count\": 6}]}",
        "{\"tensors\": [{\"shape\": [2, -3], \"offset\": 0, \"count\": 6}]}",
        "{\"tensors\": [{\"shape\": [2, 3.0], \"offset\": 0, \"count\": 6}]}",
        "{\"tensors\": [{\"shape\": [2, \"3\"], \"offset\": 0, \"count\": 6}]}",
        "{\"tensors\": [{\"shape\": [2, [3]], \"offset\": 0, \"count\": 6}]}",
        "{\"tensors\": [{\"shape\": 6, \"offset\": 0, \"count\": 6}]}",
        "{\"tensors\": [{\"shape\": [2, 3], \"offset\": 0, \"count\": 6e0}]}",
        "{\"tensors\": [{\"shape\": [2, 3], \"offset\": -0, \"count\": 6}]}",
        "{\"tensors\": [{\"shape\": [2, 3], \"offset\": null, \"count\": 6}]}",
        "{\"tensors\": [{\"shape\": [2, 3], \"offset\": 0, \"count\": 6, \"count\": 6}]}",
        "{\"tensors\": [{\"shape\": [2, 3], \"shape\": [6], \"offset\": 0, \"count\": 6}]}",
        "{\"tensors\": [[2, 3]]}",
        "{\"tensors\": [" T0 "], \"tensors\": [" T0 "]}",
        "{\"tensors\": {}}",
        "{\"Tensors\": [" T0 "]}",
        "{}",
        "[" T0 "]",
        "6",
        "{\"tensors\": [{\"shape\": [18446744073709551616], \"offset\": 0, \"count\": 6}]}",
        "{\"tensors\": [{\"shape\": [4294967296, 4294967296], \"offset\": 0, \"count\": 0}]}",
        ("{\"tensors\": [{\"shape\": [2, 3], \"offset\": 0, \"count\": 6}, "
         "{\"shape\": [18446744073709551615], \"offset\": 6, \"count\": 18446744073709551615}]}"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_shapes(bad[i], 6, NC_ERR_FORMAT, NULL);
    expect_shapes(bad[0], 6, NC_ERR_FORMAT, "shapes: tensor 0 (byte 13) has no \"count\"");
    expect_shapes(bad[3], 6, NC_ERR_FORMAT,
                  "shapes: tensor 0 (byte 13): \"shape\" is not an array of non-negative integers");
    expect_shapes(bad[11], 6, NC_ERR_FORMAT,
                  "shapes: tensor 0 (byte 13): key \"count\" appears twice");
    expect_shapes(bad[14], 6, NC_ERR_FORMAT, "shapes: key \"tensors\" appears twice");
    expect_shapes(bad[18], 6, NC_ERR_FORMAT, "shapes: the top level is not an object");
    expect_shapes(bad[20], 6, NC_ERR_FORMAT,
                  "shapes: tensor 0 (byte 13): \"shape\" is not an array of non-negative integers");
    expect_shapes(bad[21], 0, NC_ERR_FORMAT,
                  "shapes: tensor 0 (byte 13): the shape's product does not fit 64 bits");
    /* A zero dimension: the product is 0, whatever the others. */
    expect_shapes("{\"tensors\": [" T0 ", {\"shape\": [4294967296, 4294967296, 0], \"offset\": 6, "
                  "\"count\": 0}]}",
                  6, NC_OK, NULL);
    expect_shapes(bad[22], 6, NC_ERR_FORMAT,
                  "shapes: tensor 1 (byte 57): the counts overflow 64 bits");

    /* Syntax errors, each at a known byte: the first one that cannot continue a JSON text. */
    static const struct {
        const char *json;
        size_t at;
    } syn[] = {
        {"", 0},
        {"   ", 3},
        {"{\"tensors\": [}", 13},
        {"{\"tensors\" [", 11},
        {"{\"a\": 01}", 7},
        {"{\"a\": \"x\\qy\"}", 9},
        {"{\"a\": [1,]}", 9},
        {"{\"a\": tru}", 9},
        {"{\"a\": nul", 9},
        {"{\"a\": \"\\u12G4\"}", 11},
        {"{\"a\": \"\\u12\"}", 11},
        {"{\"a\": 1} x", 9},
        {"{\"a\": 1}}", 8},
        {"{\"a\": \"x\ty\"}", 8},
        {"{\"a\": -}", 7},
        {"{\"a\": 1.}", 8},
        {"{\"a\": .5}", 6},
        {"{\"a\": 1e}", 8},
        {"{\"a\": 1e+}", 9},
        {"{\"a\": +1}", 6},
        {"{\"a\": 1,}", 8},
        {"{'a': 1}", 1},
        {"{\"a\" 1}", 5},
        {"{\"a\": 1 \"b\": 2}", 8},
        {"{\"a\": [1 2]}", 9},
        {"{\"a\": NaN}", 6},
        {"{\"a\": True}", 6},
        {"{\"a\": 1} /* c */", 9},
        {"{\"tensors\": [" T0 "]", 56},
        {"\xEF\xBB\xBF{}", 0}, /* a byte-order mark is not JSON */
    };
    char want[96];
    for (size_t i = 0; i < sizeof syn / sizeof syn[0]; i++) {
        snprintf(want, sizeof want, "shapes: JSON syntax error at byte %zu", syn[i].at);
        expect_shapes(syn[i].json, 6, NC_ERR_FORMAT, want);
    }
    /* A NUL inside the buffer is just a byte (the length is what counts). */
    fl_tensor *t = NULL;
    uint32_t n = 0;
    const char *why = NULL;
    CHECK(shapes(&t, &n, "{\"a\": \"x\0y\"}", 12, 6, &why) == NC_ERR_FORMAT);
    CHECK_MSG(why && strcmp(why, "shapes: JSON syntax error at byte 8") == 0, "%s", why);
    CHECK(shapes(&t, &n, "{\"tensors\": [" T0 "]}\0", 58, 6, &why) == NC_ERR_FORMAT);
    CHECK_MSG(why && strcmp(why, "shapes: JSON syntax error at byte 57") == 0, "%s", why);
    CHECK(shapes(&t, &n, "{\"tensors\": [" T0 "]}\0", 57, 6, &why) == NC_OK && n == 1 &&
          t[0].count == 6 && t[0].row == 3);
    free(t);
#undef T0
}

/* depth containers nested inside an ignored key of an otherwise good list: depth + 1 in all. */
static nc_status nested(int depth, const char **why)
{
    const char *head = "{\"x\": ", *tail = ", \"tensors\": [{\"shape\": [1], \"offset\": 0, "
                                             "\"count\": 1}]}";
    size_t len = strlen(head) + 2 * (size_t)depth + strlen(tail);
    char *s = malloc(len);
    REQUIRE(s);
    memcpy(s, head, strlen(head));
    memset(s + strlen(head), '[', (size_t)depth);
    memset(s + strlen(head) + depth, ']', (size_t)depth);
    memcpy(s + strlen(head) + 2 * (size_t)depth, tail, strlen(tail));
    fl_tensor *t = NULL;
    uint32_t n = 0;
    nc_status st = fl_shapes_parse(&t, &n, s, len, 1, why);
    free(t);
    free(s);
    return st;
}

static void test_shapes_limits(void)
{
    const char *why = NULL;
    CHECK(nested(FL_JSON_MAX_DEPTH - 1, &why) == NC_OK);
    CHECK(nested(FL_JSON_MAX_DEPTH, &why) == NC_ERR_FORMAT);
    CHECK_MSG(why && strcmp(why, "shapes: JSON nested deeper than 64 at byte 69") == 0, "%s", why);
    CHECK(nested(1000000, &why) == NC_ERR_FORMAT); /* no stack overflow */
    /* A text of nothing but '[': refused at the first bracket too deep. */
    size_t len = 2000000;
    char *s = malloc(len);
    REQUIRE(s);
    memset(s, '[', len);
    fl_tensor *t = NULL;
    uint32_t n = 0;
    CHECK(fl_shapes_parse(&t, &n, s, len, 1, &why) == NC_ERR_FORMAT);
    CHECK_MSG(why && strcmp(why, "shapes: JSON nested deeper than 64 at byte 64") == 0, "%s", why);
    free(s);

    /* More than FL_MAX_TENSORS entries: refused before anything is allocated for them. */
    const char *head = "{\"tensors\": [";
    size_t entries = (size_t)FL_MAX_TENSORS + 1;
    len = strlen(head) + 2 * entries + 1;
    s = malloc(len);
    REQUIRE(s);
    memcpy(s, head, strlen(head));
    for (size_t i = 0; i < entries; i++)
        memcpy(s + strlen(head) + 2 * i, "0,", 2);
    memcpy(s + len - 2, "]}", 2);
    CHECK(fl_shapes_parse(&t, &n, s, len, 1, &why) == NC_ERR_LIMIT);
    CHECK_MSG(why && strcmp(why, "shapes: 16777217 tensors; at most 16777216 are accepted") == 0,
              "%s", why);
    free(s);
}

static void test_shapes_truncations(void)
{
    size_t len = strlen(good_json);
    char want[96];
    for (size_t n = 0; n < len; n++) {
        fl_tensor *t = (fl_tensor *)1;
        uint32_t k = 7;
        const char *why = NULL;
        nc_status st = shapes(&t, &k, good_json, n, 1004, &why);
        snprintf(want, sizeof want, "shapes: JSON syntax error at byte %zu", n);
        CHECK_MSG(st == NC_ERR_FORMAT && why && strcmp(why, want) == 0, "cut at %zu: %d %s", n, st,
                  why ? why : "");
    }
}

static void test_shapes_damage(uint64_t *rng)
{
    static const char tokens[] = "{}[],:\"\\ 0123456789-.eEu";
    size_t len = strlen(good_json);
    int ok = 0, iters = 5000;
    char *s = malloc(len);
    REQUIRE(s);
    for (int it = 0; it < iters; it++) {
        memcpy(s, good_json, len);
        size_t flips = 1 + test_rand_below(rng, 3);
        for (size_t f = 0; f < flips; f++) {
            size_t at = test_rand_below(rng, (uint32_t)len);
            s[at] = test_rand_below(rng, 2) ? tokens[test_rand_below(rng, sizeof tokens - 1)]
                                            : (char)test_rand64(rng);
        }
        fl_tensor *a = NULL, *b = NULL;
        uint32_t na = 0, nb = 0;
        const char *why = NULL;
        nc_status st = shapes(&a, &na, s, len, 1004, &why);
        char why1[192] = "";
        if (why)
            snprintf(why1, sizeof why1, "%s", why);
        nc_status st2 = shapes(&b, &nb, s, len, 1004, &why);
        CHECK(st == st2 && na == nb);
        CHECK(st == NC_OK ? why == NULL : (why && strcmp(why, why1) == 0));
        if (st == NC_OK) {
            ok++;
            uint64_t sum = 0;
            for (uint32_t i = 0; i < na; i++) {
                CHECK(a[i].count == b[i].count && a[i].row == b[i].row);
                CHECK(a[i].count >= 1 && a[i].row >= 1 && a[i].count % a[i].row == 0);
                sum += a[i].count;
            }
            CHECK(na >= 1 && sum == 1004);
        }
        free(a);
        free(b);
    }
    free(s);
    printf("shapes damage: %d of %d accepted\n", ok, iters);
    CHECK(ok > 0 && ok < iters);
}

/* The tensor lists shipped with the float test data, when present. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *p = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            p = realloc(p, cap);
            REQUIRE(p);
        }
        size_t got = fread(p + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return p;
}

static void test_shapes_files(void)
{
    const char *dir = getenv("NNZIP_FLOATS_DIR");
    if (!dir || !*dir)
        dir = "/work/shared/floats";
    static const struct {
        const char *name;
        uint64_t floats;
        uint32_t tensors;
    } files[] = {
        {"esrgan_medium_x4", 704611, 56},
        {"ppocr_cls", 133630, 0},
        {"ppocrv4_rec", 2690228, 0},
        {"silero_vad_v5", 545284, 0},
    };
    int found = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.json", dir, files[i].name);
        size_t len = 0;
        char *json = read_file(path, &len);
        if (!json)
            continue;
        found++;
        uint64_t total = files[i].floats;
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s.f32", dir, files[i].name);
        if (stat(path, &sb) == 0)
            CHECK_MSG((uint64_t)sb.st_size == 4 * total, "%s: %lld bytes", path,
                      (long long)sb.st_size);
        fl_tensor *t = NULL;
        uint32_t n = 0;
        const char *why = NULL;
        nc_status st = fl_shapes_parse(&t, &n, json, len, total, &why);
        CHECK_MSG(st == NC_OK, "%s: %s", files[i].name, why ? why : "");
        uint64_t sum = 0;
        for (uint32_t k = 0; st == NC_OK && k < n; k++) {
            CHECK(t[k].count >= 1 && t[k].row >= 1 && t[k].count % t[k].row == 0);
            sum += t[k].count;
        }
        CHECK(st != NC_OK || sum == total);
        if (files[i].tensors)
            CHECK_MSG(n == files[i].tensors, "%s: %u tensors", files[i].name, n);
        if (st == NC_OK && i == 0 && n == 56) {
            /* F_0/kernel [3, 3, 64, 64], F_0/bias [64], ..., UPN3/bias [48] */
            CHECK(t[0].count == 36864 && t[0].row == 64);
            CHECK(t[1].count == 64 && t[1].row == 64);
            CHECK(t[54].count == 13824 && t[54].row == 48);
            CHECK(t[55].count == 48 && t[55].row == 48);
        }
        free(t);
        CHECK(fl_shapes_parse(&t, &n, json, len, total + 1, &why) == NC_ERR_ARG && t == NULL);
        free(json);
    }
    printf("shapes: %d of 4 real tensor lists found in %s\n", found, dir);
}

int main(void)
{
    uint64_t seed = 0x4E5059, rng = seed;
    printf("test_npy: seed %llu\n", (unsigned long long)seed);
    test_npy_good();
    test_npy_truncations();
    test_npy_bad();
    test_npy_damage(&rng);
    test_shapes_good();
    test_shapes_bad();
    test_shapes_limits();
    test_shapes_truncations();
    test_shapes_damage(&rng);
    test_shapes_files();
    return test_finish("test_npy");
}
