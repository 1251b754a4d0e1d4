/* float-peers: the transforms of the float-array peers that tools/float-bench measures nnzip's
 * float mode against (/work/shared/floats/README.md defines them), as stdin/file -> stdout
 * filters, so the bench can pipe them into xz/bzip2 and check their bounds with nnzip-fcheck.
 *
 * Usage: float-peers MODE [ARG] [FILE]      (FILE absent or "-": standard input)
 *   planes        raw f32 -> the 4 byte planes: byte 0 (lowest) of every value, then byte 1,
 *                 byte 2, then byte 3 (sign and high exponent bits); a length that is not a
 *                 multiple of 4 leaves its last 1-3 bytes appended unchanged. Lossless.
 *   decode-planes the inverse.
 *   grid E        q = round-half-even(x / 2E) as int64, zigzag, LEB128 varint (7 bits a byte,
 *                 lowest group first, bit 7 = more follow). E = 2^-17 is the README's "round to
 *                 2^-16 grid, zigzag, varint"; for E a power of two every finite float32 whose q
 *                 fits comes back within E exactly. NaN, inf and |x / 2E| >= 2^62 cannot be
 *                 coded: written as q = 0 and counted on stderr.
 *   decode-grid E varint stream -> x = (float)(q * 2E).
 *   user          the README's user pipeline, with its flaws kept: q = int32 truncation of
 *                 x * 2^17 (out of range or NaN gives INT32_MIN, as x86's cvttss2si and numpy's
 *                 astype(int32) there), 32-bit zigzag, then a 7-bit varint of at most 3 bytes:
 *                 the third byte carries bits 14..20 without a continuation flag and higher
 *                 bits are dropped, so any |x| >= 8 decodes silently wrong. How many values
 *                 fall outside its 21 bits goes to stderr.
 *   decode-user   its decoder: up to 3 bytes a value, zigzag, x = (float)q / 2^17.
 *   entropy E     prints the order-0 entropy of the grid integers q of `grid E`, in bits per
 *                 float, from the exact counts (sorted q, runs), and the count of distinct q.
 *
 * E is a decimal (strtod) or 2^K. Floats are read and written little-endian whatever the host. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_SCALE 131072.0 /* 2^17 */
#define USER_BITS 21        /* 3 bytes of 7 bits */

static const char *prog = "float-peers";

static void die(const char *msg)
{
    fprintf(stderr, "%s: %s\n", prog, msg);
    exit(1);
}

/* ---- input and output ------------------------------------------------------------------- */

static unsigned char *read_input(const char *path, size_t *len)
{
    FILE *f = !path || strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        exit(1);
    }
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            die("out of memory");
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        unsigned char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
        if (!nb)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    if (ferror(f))
        die("read error");
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

static void write_out(const void *p, size_t n)
{
    if (fwrite(p, 1, n, stdout) != n)
        die("write error");
}

static float load_f32le(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void store_f32le(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    p[0] = (unsigned char)u;
    p[1] = (unsigned char)(u >> 8);
    p[2] = (unsigned char)(u >> 16);
    p[3] = (unsigned char)(u >> 24);
}

/* Buffered output of float32 values. */
typedef struct f32_out {
    unsigned char buf[4 * 4096];
    size_t n;
} f32_out;

static void f32_put(f32_out *o, float f)
{
    if (o->n == sizeof o->buf) {
        write_out(o->buf, o->n);
        o->n = 0;
    }
    store_f32le(o->buf + o->n, f);
    o->n += 4;
}

static void f32_flush(f32_out *o)
{
    write_out(o->buf, o->n);
    o->n = 0;
    if (fflush(stdout) != 0)
        die("write error");
}

static size_t count_floats(size_t len)
{
    if (len % 4 != 0)
        die("input length is not a multiple of 4 (not raw float32)");
    return len / 4;
}

/* E from "2^K" (exact) or a decimal > 0. */
static double parse_bound(const char *s)
{
    char *end;
    double e;
    if (s[0] == '2' && s[1] == '^') {
        errno = 0;
        long k = strtol(s + 2, &end, 10);
        if (end == s + 2 || *end || errno || k < -1074 || k > 1023)
            die("bad bound (a decimal > 0, or 2^K)");
        e = 1.0;
        for (; k > 0; k--)
            e *= 2.0;
        for (; k < 0; k++)
            e *= 0.5;
        return e;
    }
    errno = 0;
    e = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !(e > 0) || e - e != 0)
        die("bad bound (a decimal > 0, or 2^K)");
    return e;
}

/* ---- planes ----------------------------------------------------------------------------- */

static void planes(const unsigned char *x, size_t len, int decode)
{
    size_t n = len / 4, tail = len % 4;
    unsigned char *y = malloc(len ? len : 1);
    if (!y)
        die("out of memory");
    for (size_t p = 0; p < 4; p++)
        for (size_t i = 0; i < n; i++) {
            if (decode)
                y[4 * i + p] = x[p * n + i];
            else
                y[p * n + i] = x[4 * i + p];
        }
    memcpy(y + 4 * n, x + 4 * n, tail);
    write_out(y, len);
    free(y);
}

/* ---- varints and zigzag ----------------------------------------------------------------- */

static uint64_t zigzag64(int64_t q)
{
    return ((uint64_t)q << 1) ^ (q < 0 ? UINT64_MAX : 0);
}

static int64_t unzigzag64(uint64_t z)
{
    uint64_t m = z >> 1;
    return (z & 1) ? -(int64_t)m - 1 : (int64_t)m;
}

static void put_leb128(uint64_t z)
{
    unsigned char b[10];
    size_t k = 0;
    while (z >= 0x80) {
        b[k++] = (unsigned char)(z | 0x80);
        z >>= 7;
    }
    b[k++] = (unsigned char)z;
    write_out(b, k);
}

/* ---- the grid pipeline ------------------------------------------------------------------ */

/* Round to the nearest integer, ties to even; |v| < 2^62 (checked by the caller). The parts
 * v - t are exact: t is v truncated, and for |v| < 2^52 v - t is a double with no rounding;
 * above 2^52 every double is an integer. */
static int64_t round_half_even(double v)
{
    int64_t t = (int64_t)v;
    double frac = v - (double)t;
    if (frac > 0.5 || (frac == 0.5 && (t & 1)))
        t++;
    else if (frac < -0.5 || (frac == -0.5 && (t & 1)))
        t--;
    return t;
}

/* q of x on the grid of step 2E; 0 (not coded) with *bad set when it cannot be. */
static int64_t grid_q(float x, double step, int *bad)
{
    double v = (double)x / step;
    *bad = !(v > -4611686018427387904.0 && v < 4611686018427387904.0); /* 2^62; NaN too */
    return *bad ? 0 : round_half_even(v);
}

static void grid_encode(const unsigned char *x, size_t len, double e)
{
    size_t n = count_floats(len), bad = 0;
    for (size_t i = 0; i < n; i++) {
        int b;
        int64_t q = grid_q(load_f32le(x + 4 * i), 2 * e, &b);
        bad += (size_t)b;
        put_leb128(zigzag64(q));
    }
    if (bad)
        fprintf(stderr, "%s grid: %zu values not codable (NaN, inf or |x/2E| >= 2^62), "
                        "written as 0\n", prog, bad);
}

static void grid_decode(const unsigned char *s, size_t len, double e)
{
    f32_out o = { .n = 0 };
    double step = 2 * e;
    for (size_t i = 0; i < len;) {
        uint64_t z = 0;
        for (int shift = 0;; shift += 7) {
            if (i == len)
                die("decode-grid: the stream ends inside a varint");
            if (shift > 63)
                die("decode-grid: a varint longer than 64 bits");
            unsigned char b = s[i++];
            z |= (uint64_t)(b & 0x7f) << shift;
            if (!(b & 0x80))
                break;
        }
        f32_put(&o, (float)((double)unzigzag64(z) * step));
    }
    f32_flush(&o);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* H = log2(n) - sum(c log2 c) / n over the counts c of distinct q, summed in ascending q. */
static void grid_entropy(const unsigned char *x, size_t len, double e)
{
    size_t n = count_floats(len), bad = 0;
    if (n == 0)
        die("entropy: no values");
    int64_t *q = malloc(n * sizeof *q);
    if (!q)
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        int b;
        q[i] = grid_q(load_f32le(x + 4 * i), 2 * e, &b);
        bad += (size_t)b;
    }
    qsort(q, n, sizeof *q, cmp_i64);
    double sum = 0;
    size_t distinct = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && q[j] == q[i])
            j++;
        double c = (double)(j - i);
        sum += c * log2(c);
        distinct++;
        i = j;
    }
    double h = log2((double)n) - sum / (double)n;
    printf("%.4f bits/float, %zu distinct of %zu values (order-0 entropy of the 2E-grid "
           "integers, E = %g)%s\n", h, distinct, n, e, bad ? ", some not codable" : "");
    if (bad)
        fprintf(stderr, "%s entropy: %zu values not codable, counted as q = 0\n", prog, bad);
    free(q);
}

/* ---- the user pipeline ------------------------------------------------------------------ */

/* int32(x * 2^17) truncating, INT32_MIN when out of range or NaN (x86 "integer indefinite"). */
static int32_t user_q(float x)
{
    double v = (double)x * USER_SCALE; /* exact: a power-of-two scale of a float32 */
    if (!(v > -2147483649.0 && v < 2147483648.0))
        return INT32_MIN;
    return (int32_t)v;
}

static void user_encode(const unsigned char *x, size_t len)
{
    size_t n = count_floats(len), outside = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t q = user_q(load_f32le(x + 4 * i));
        uint32_t z = ((uint32_t)q << 1) ^ (q < 0 ? UINT32_MAX : 0);
        unsigned char b[3];
        size_t k = 0;
        while (k < 2 && z >= 0x80) {
            b[k++] = (unsigned char)(z | 0x80);
            z >>= 7;
        }
        if (z >= 0x80)
            outside++;
        b[k++] = (unsigned char)(z & 0x7f); /* bits above 20 are lost */
        write_out(b, k);
    }
    fprintf(stderr, "%s user: %zu values outside its range (zigzag >= 2^%d, |x| >= 8), "
                    "silently wrong\n", prog, outside, USER_BITS);
}

static void user_decode(const unsigned char *s, size_t len)
{
    f32_out o = { .n = 0 };
    for (size_t i = 0; i < len;) {
        uint32_t z = 0;
        for (int k = 0; k < 3; k++) {
            if (i == len)
                die("decode-user: the stream ends inside a varint");
            unsigned char b = s[i++];
            z |= (uint32_t)(b & 0x7f) << (7 * k);
            if (!(b & 0x80))
                break;
        }
        uint32_t m = z >> 1;
        int32_t q = (z & 1) ? -(int32_t)m - 1 : (int32_t)m;
        f32_put(&o, (float)((double)q / USER_SCALE));
    }
    f32_flush(&o);
}

/* ---- main ------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: float-peers MODE [E] [FILE]\n"
               "  planes | decode-planes | grid E | decode-grid E | user | decode-user | "
               "entropy E\n"
               "  E: decimal or 2^K; FILE absent or -: standard input; output on stdout\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *mode = argv[1];
    int takes_e = strcmp(mode, "grid") == 0 || strcmp(mode, "decode-grid") == 0 ||
                  strcmp(mode, "entropy") == 0;
    int known = takes_e || strcmp(mode, "planes") == 0 || strcmp(mode, "decode-planes") == 0 ||
                strcmp(mode, "user") == 0 || strcmp(mode, "decode-user") == 0;
    int first_file = takes_e ? 3 : 2;
    if (!known || argc < first_file || argc > first_file + 1) {
        usage(stderr);
        return 2;
    }
    double e = takes_e ? parse_bound(argv[2]) : 0;
    size_t len;
    unsigned char *x = read_input(argc > first_file ? argv[first_file] : NULL, &len);
    if (strcmp(mode, "planes") == 0 || strcmp(mode, "decode-planes") == 0)
        planes(x, len, mode[0] == 'd');
    else if (strcmp(mode, "grid") == 0)
        grid_encode(x, len, e);
    else if (strcmp(mode, "decode-grid") == 0)
        grid_decode(x, len, e);
    else if (strcmp(mode, "entropy") == 0)
        grid_entropy(x, len, e);
    else if (strcmp(mode, "user") == 0)
        user_encode(x, len);
    else
        user_decode(x, len);
    free(x);
    if (fflush(stdout) != 0)
        die("write error");
    return 0;
}
