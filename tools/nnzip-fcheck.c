/* nnzip-fcheck: does a decoded float32 file keep every value of the original within a bound E?
 *
 * Usage: nnzip-fcheck ORIG.f32 DECODED.f32 E     (E: decimal, or 2^K for an exact power of two)
 *        nnzip-fcheck --lossless ORIG.f32 DECODED.f32
 *
 * Both files are raw little-endian float32. One line goes to stdout: the number of values, the
 * largest |x - y| (%a and %g), how many values are over E, and how many of the original's
 * specials (NaN, +-inf, -0) come back with other bits. Exit 0 only when the sizes match, every
 * finite value is within E exactly, and every special is bit-identical (--lossless: every value
 * bit-identical); 1 when the check fails; 2 on a usage or read error.
 *
 * Exactness. Both floats are promoted to double and s = a - b is rounded; its rounding error
 * err comes from Knuth's TwoSum (s = a + (-b); bb = s - a; err = (a - (s - bb)) + ((-b) - bb)),
 * so that a - b = s + err exactly (no overflow is possible from float32 inputs). Rounding is
 * monotonic and E is a double, so |s| < E implies |a - b| < E and |s| > E implies |a - b| > E;
 * when |s| == E the value is within exactly when err is 0 or has the opposite sign of s. The
 * build has -ffp-contract=off, so no a*b+c is fused behind our back; TwoSum needs exactly the
 * IEEE double operations written here (never -ffast-math). A NaN anywhere in s fails every
 * comparison, so a finite value decoded as NaN or inf counts as over E. No libm is used. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 65536 /* floats read per step from each file */

static double abs_d(double v)
{
    return v < 0 ? -v : v;
}

/* E from "2^K" (K an integer, the exact power of two) or a decimal for strtod. 0 or -1. */
static int parse_bound(const char *s, double *e)
{
    char *end;
    if (s[0] == '2' && s[1] == '^') {
        errno = 0;
        long k = strtol(s + 2, &end, 10);
        if (end == s + 2 || *end || errno || k < -1074 || k > 1023)
            return -1;
        double p = 1.0; /* multiplying by 2 or 0.5 is exact down to the smallest subnormal */
        for (; k > 0; k--)
            p *= 2.0;
        for (; k < 0; k++)
            p *= 0.5;
        *e = p;
        return 0;
    }
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !(v >= 0) || v - v != 0) /* NaN, <0, inf */
        return -1;
    *e = v;
    return 0;
}

static float load_f32le(const unsigned char *p, uint32_t *bits)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof f);
    *bits = u;
    return f;
}

/* NaN, +-inf or -0: values whose bits must come back unchanged. */
static int is_special(uint32_t bits)
{
    return (bits & 0x7f800000u) == 0x7f800000u || bits == 0x80000000u;
}

/* Whether |a - b| <= e exactly (see the opening comment). */
static int within(double a, double b, double e, double *diff)
{
    double nb = -b;
    double s = a + nb;
    double bb = s - a;
    double err = (a - (s - bb)) + (nb - bb);
    double as = abs_d(s);
    *diff = as;
    if (as < e)
        return 1;
    return as == e && (err == 0 || (err < 0) != (s < 0));
}

typedef struct tally {
    uint64_t values, over, specials, specials_differ, bits_differ;
    double max_diff;   /* largest rounded |a - b| over pairs where the decoded value is finite */
    int max_is_nan;    /* some finite value came back as NaN */
} tally;

static void check_chunk(tally *t, const unsigned char *x, const unsigned char *y, size_t n,
                        double e)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t xb, yb;
        float a = load_f32le(x + 4 * i, &xb), b = load_f32le(y + 4 * i, &yb);
        t->values++;
        if (xb != yb)
            t->bits_differ++;
        if (is_special(xb)) {
            t->specials++;
            if (xb != yb)
                t->specials_differ++;
            continue;
        }
        double d;
        if (!within(a, b, e, &d))
            t->over++;
        if (d != d)
            t->max_is_nan = 1;
        else if (d > t->max_diff)
            t->max_diff = d;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: nnzip-fcheck ORIG.f32 DECODED.f32 E   (E decimal or 2^K)\n"
               "       nnzip-fcheck --lossless ORIG.f32 DECODED.f32\n");
}

int main(int argc, char **argv)
{
    int lossless = 0, ai = 1;
    if (argc > 1 && strcmp(argv[1], "--lossless") == 0) {
        lossless = 1;
        ai = 2;
    }
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc - ai != (lossless ? 2 : 3)) {
        usage(stderr);
        return 2;
    }
    double e = 0;
    if (!lossless && parse_bound(argv[ai + 2], &e) != 0) {
        fprintf(stderr, "nnzip-fcheck: bad bound '%s' (a decimal >= 0, or 2^K)\n", argv[ai + 2]);
        return 2;
    }
    FILE *fx = fopen(argv[ai], "rb"), *fy = fopen(argv[ai + 1], "rb");
    unsigned char *bx = malloc(4 * CHUNK), *by = malloc(4 * CHUNK);
    int rc = 2;
    if (!fx || !fy) {
        fprintf(stderr, "nnzip-fcheck: %s: %s\n", argv[!fx ? ai : ai + 1], strerror(errno));
        goto done;
    }
    if (!bx || !by) {
        fprintf(stderr, "nnzip-fcheck: out of memory\n");
        goto done;
    }
    tally t = { 0 };
    uint64_t nx = 0, ny = 0; /* bytes read from each */
    for (;;) {
        size_t rx = fread(bx, 1, 4 * CHUNK, fx), ry = fread(by, 1, 4 * CHUNK, fy);
        nx += rx;
        ny += ry;
        size_t common = (rx < ry ? rx : ry) / 4;
        check_chunk(&t, bx, by, common, e);
        if (rx != ry || rx % 4 != 0 || rx < 4 * CHUNK)
            break; /* the end of one file, or sizes that differ: counted below */
    }
    if (ferror(fx) || ferror(fy)) {
        fprintf(stderr, "nnzip-fcheck: read error on %s\n", argv[ferror(fx) ? ai : ai + 1]);
        goto done;
    }
    /* Read the rest, only to report both sizes. */
    for (size_t r; (r = fread(bx, 1, 4 * CHUNK, fx)) > 0;)
        nx += r;
    for (size_t r; (r = fread(by, 1, 4 * CHUNK, fy)) > 0;)
        ny += r;
    int size_ok = nx == ny && nx % 4 == 0;
    if (lossless) {
        printf("%llu values, %llu differ in bits, max |x-y| %a (%g)%s, %llu of %llu specials "
               "differ",
               (unsigned long long)t.values, (unsigned long long)t.bits_differ, t.max_diff,
               t.max_diff, t.max_is_nan ? " and NaN" : "", (unsigned long long)t.specials_differ,
               (unsigned long long)t.specials);
        rc = size_ok && t.bits_differ == 0 ? 0 : 1;
    } else {
        printf("%llu values, max |x-y| %a (%g)%s, %llu over %a (%g), %llu of %llu specials differ",
               (unsigned long long)t.values, t.max_diff, t.max_diff,
               t.max_is_nan ? " and NaN" : "", (unsigned long long)t.over, e, e,
               (unsigned long long)t.specials_differ, (unsigned long long)t.specials);
        rc = size_ok && t.over == 0 && t.specials_differ == 0 ? 0 : 1;
    }
    if (!size_ok)
        printf(", SIZES DIFFER (%llu and %llu bytes)", (unsigned long long)nx,
               (unsigned long long)ny);
    printf(": %s\n", rc == 0 ? "ok" : "FAILED");
done:
    if (fx)
        fclose(fx);
    if (fy)
        fclose(fy);
    free(bx);
    free(by);
    return rc;
}
