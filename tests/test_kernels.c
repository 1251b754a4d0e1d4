/* Element-wise, reduction, normalisation and gather/scatter kernels: every SIMD variant gives the
 * bits of the reference (memcmp) over random shapes, odd tails, unaligned pointers, signed zeros
 * and wide magnitudes; the canonical reduction order is pinned by a naive copy of its definition;
 * a row's result does not depend on the batch around it; backward kernels match central finite
 * differences in double (the only tolerances here). */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "harness.h"
#include "nc/nc.h"

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

/* One function table per variant, generated from the same list as the declarations. */
typedef struct kset {
    const char *name;
#define X(ret, name, params) ret(*name) params;
    NC_KERNELS(X)
#undef X
} kset;

static const kset k_ref = {"ref",
#define X(ret, name, params) name##_ref,
                           NC_KERNELS(X)
#undef X
};
#if HAVE_X86
static const kset k_avx2 = {"avx2",
#define X(ret, name, params) name##_avx2,
                            NC_KERNELS(X)
#undef X
};
static const kset k_avx512 = {"avx512",
#define X(ret, name, params) name##_avx512,
                              NC_KERNELS(X)
#undef X
};
#endif

static const size_t Ns[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 257, 1408};
static const size_t Ms[] = {1, 2, 3, 32};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- buffers and values ------------------------------------------------------------------ */


/* Mostly moderate values, some +-0, some tiny (subnormal) or large: exponents -140 .. +15. */
static float wild(uint64_t *st)
{
    uint32_t k = test_rand_below(st, 32);
    if (k == 0) return -0.0f;
    if (k == 1) return 0.0f;
    if (k < 6) { /* two statements: C leaves the order of argument evaluation open */
        float u = test_unit(st);
        return ldexpf(u, (int)test_rand_below(st, 156) - 140);
    }
    return test_unit(st) * 4.0f;
}

static void fill(float *p, size_t n, uint64_t *st)
{
    for (size_t k = 0; k < n; k++) p[k] = wild(st);
}

/* bits-equal, with the first difference printed */
static bool same(const float *want, const float *got, size_t n, const char *what, const kset *k,
                 size_t M, size_t N)
{
    if (n == 0 || memcmp(want, got, n * sizeof(float)) == 0) return true;
    for (size_t j = 0; j < n; j++) {
        if (memcmp(&want[j], &got[j], sizeof(float)) != 0) {
            CHECK_MSG(0, "%s %s M=%zu N=%zu: element %zu: ref %a, got %a", what, k->name, M, N, j,
                      (double)want[j], (double)got[j]);
            break;
        }
    }
    return false;
}

/* ---- SIMD against reference ------------------------------------------------------------------ */

static void check_elementwise(const kset *k, uint64_t *st, size_t n)
{
    float *a = test_fbuf(n), *b = test_fbuf(n), *c = test_fbuf(n), *y0 = test_fbuf(n), *y1 = test_fbuf(n);
    fill(a, n, st);
    fill(b, n, st);
    fill(c, n, st);
    for (size_t j = 0; j < n; j++) { /* ties, including +0 against -0, for min/max */
        uint32_t t = test_rand_below(st, 16);
        if (t == 0) b[j] = a[j];
        if (t == 1) { a[j] = 0.0f; b[j] = -0.0f; }
        if (t == 2) { a[j] = -0.0f; b[j] = 0.0f; }
    }
    float s = wild(st);

#define BINARY(op)                                                                               \
    do {                                                                                         \
        k_ref.op(y0, a, b, n);                                                                   \
        k->op(y1, a, b, n);                                                                      \
        same(y0, y1, n, #op, k, 1, n);                                                           \
        memcpy(y1, a, n * sizeof(float)); /* y == a */                                           \
        k->op(y1, y1, b, n);                                                                     \
        same(y0, y1, n, #op " in place", k, 1, n);                                               \
    } while (0)
    BINARY(nc_add);
    BINARY(nc_sub);
    BINARY(nc_mul);
    BINARY(nc_min);
    BINARY(nc_max);
#undef BINARY

    k_ref.nc_scale(y0, a, s, n);
    k->nc_scale(y1, a, s, n);
    same(y0, y1, n, "nc_scale", k, 1, n);

    memcpy(y0, c, n * sizeof(float));
    memcpy(y1, c, n * sizeof(float));
    k_ref.nc_axpy(y0, a, s, n);
    k->nc_axpy(y1, a, s, n);
    same(y0, y1, n, "nc_axpy", k, 1, n);

    k_ref.nc_muladd(y0, a, b, c, n);
    k->nc_muladd(y1, a, b, c, n);
    same(y0, y1, n, "nc_muladd", k, 1, n);
    memcpy(y1, c, n * sizeof(float)); /* y == c: y += a*b */
    k->nc_muladd(y1, a, b, y1, n);
    same(y0, y1, n, "nc_muladd y==c", k, 1, n);

    float lo = -fabsf(test_unit(st)) * 2.0f, hi = fabsf(test_unit(st)) * 2.0f;
    k_ref.nc_clamp(y0, a, lo, hi, n);
    k->nc_clamp(y1, a, lo, hi, n);
    same(y0, y1, n, "nc_clamp", k, 1, n);
    k_ref.nc_clamp(y0, a, -0.0f, 0.0f, n); /* signed-zero bounds */
    k->nc_clamp(y1, a, -0.0f, 0.0f, n);
    same(y0, y1, n, "nc_clamp zero", k, 1, n);

    test_ffree(a), test_ffree(b), test_ffree(c), test_ffree(y0), test_ffree(y1);
}

static void check_lstm(const kset *k, uint64_t *st, size_t n)
{
    float *cp = test_fbuf(n), *f = test_fbuf(n), *i = test_fbuf(n), *g = test_fbuf(n), *o = test_fbuf(n);
    float *dh = test_fbuf(n), *dc = test_fbuf(n);
    float *c0 = test_fbuf(n), *h0 = test_fbuf(n), *c1 = test_fbuf(n), *h1 = test_fbuf(n);
    fill(cp, n, st);
    fill(dh, n, st);
    fill(dc, n, st);
    for (size_t j = 0; j < n; j++) {
        f[j] = fabsf(test_unit(st)), i[j] = fabsf(test_unit(st)), o[j] = fabsf(test_unit(st)), g[j] = test_unit(st);
        uint32_t t = test_rand_below(st, 16);
        if (t == 0) i[j] = 1.0f - f[j]; /* min() tie between equal values */
        if (t == 1) { /* min(+0, -0) tie: visible in the sign of a zero product */
            f[j] = 1.0f;
            i[j] = test_rand_below(st, 2) ? -0.0f : 0.0f;
            cp[j] = test_rand_below(st, 2) ? -0.0f : 0.0f;
        }
    }
    k_ref.nc_lstm_cell_forward(c0, h0, cp, f, i, g, o, n);
    k->nc_lstm_cell_forward(c1, h1, cp, f, i, g, o, n);
    same(c0, c1, n, "lstm fwd c", k, 1, n);
    same(h0, h1, n, "lstm fwd h", k, 1, n);
    memcpy(c1, cp, n * sizeof(float)); /* c == c_prev */
    k->nc_lstm_cell_forward(c1, h1, c1, f, i, g, o, n);
    same(c0, c1, n, "lstm fwd in place", k, 1, n);

    float *r[5], *q[5];
    for (int t = 0; t < 5; t++) r[t] = test_fbuf(n), q[t] = test_fbuf(n);
    for (int with_dc = 0; with_dc < 2; with_dc++) {
        const float *dcp = with_dc ? dc : NULL;
        k_ref.nc_lstm_cell_backward(r[0], r[1], r[2], r[3], r[4], dh, dcp, cp, f, i, g, o, c0, n);
        k->nc_lstm_cell_backward(q[0], q[1], q[2], q[3], q[4], dh, dcp, cp, f, i, g, o, c0, n);
        for (int t = 0; t < 5; t++)
            same(r[t], q[t], n, with_dc ? "lstm bwd" : "lstm bwd dc=NULL", k, 1, n);
    }
    memcpy(q[0], dc, n * sizeof(float)); /* d_c_prev == dc */
    k->nc_lstm_cell_backward(q[0], q[1], q[2], q[3], q[4], dh, q[0], cp, f, i, g, o, c0, n);
    same(r[0], q[0], n, "lstm bwd in place", k, 1, n);
    for (int t = 0; t < 5; t++) test_ffree(r[t]), test_ffree(q[t]);
    test_ffree(cp), test_ffree(f), test_ffree(i), test_ffree(g), test_ffree(o), test_ffree(dh), test_ffree(dc);
    test_ffree(c0), test_ffree(h0), test_ffree(c1), test_ffree(h1);
}

static void check_rows(const kset *k, uint64_t *st, size_t M, size_t N)
{
    size_t n = M * N;
    float *x = test_fbuf(n), *x2 = test_fbuf(n), *y0 = test_fbuf(n), *y1 = test_fbuf(n);
    float *v = test_fbuf(N), *v2 = test_fbuf(N), *w0 = test_fbuf(N), *w1 = test_fbuf(N), *u0 = test_fbuf(N), *u1 = test_fbuf(N);
    float *s = test_fbuf(M), *m0 = test_fbuf(M), *m1 = test_fbuf(M), *r0 = test_fbuf(M), *r1 = test_fbuf(M);
    fill(x, n, st);
    fill(x2, n, st);
    fill(v, N, st);
    fill(v2, N, st);
    for (size_t r = 0; r < M; r++) {
        do s[r] = wild(st);
        while (s[r] == 0.0f);
    }

    k_ref.nc_add_bias(y0, x, v, M, N);
    k->nc_add_bias(y1, x, v, M, N);
    same(y0, y1, n, "nc_add_bias", k, M, N);
    k_ref.nc_row_sub(y0, x, s, M, N);
    k->nc_row_sub(y1, x, s, M, N);
    same(y0, y1, n, "nc_row_sub", k, M, N);
    k_ref.nc_row_scale(y0, x, s, M, N);
    k->nc_row_scale(y1, x, s, M, N);
    same(y0, y1, n, "nc_row_scale", k, M, N);
    k_ref.nc_row_div(y0, x, s, M, N);
    k->nc_row_div(y1, x, s, M, N);
    same(y0, y1, n, "nc_row_div", k, M, N);

    k_ref.nc_row_sum(m0, x, M, N);
    k->nc_row_sum(m1, x, M, N);
    same(m0, m1, M, "nc_row_sum", k, M, N);
    k_ref.nc_row_sumsq(m0, x, M, N);
    k->nc_row_sumsq(m1, x, M, N);
    same(m0, m1, M, "nc_row_sumsq", k, M, N);
    k_ref.nc_row_max(m0, x, M, N);
    k->nc_row_max(m1, x, M, N);
    same(m0, m1, M, "nc_row_max", k, M, N);
    k_ref.nc_row_dot(m0, x, x2, M, N);
    k->nc_row_dot(m1, x, x2, M, N);
    same(m0, m1, M, "nc_row_dot", k, M, N);

    memcpy(w0, v, N * sizeof(float));
    memcpy(w1, v, N * sizeof(float));
    k_ref.nc_col_sum_acc(w0, x, M, N);
    k->nc_col_sum_acc(w1, x, M, N);
    same(w0, w1, N, "nc_col_sum_acc", k, M, N);

    /* RMSNorm */
    float eps = 1e-5f;
    k_ref.nc_rmsnorm_forward(y0, r0, x, v, eps, M, N);
    k->nc_rmsnorm_forward(y1, r1, x, v, eps, M, N);
    same(y0, y1, n, "rmsnorm fwd y", k, M, N);
    same(r0, r1, M, "rmsnorm fwd rstd", k, M, N);
    memcpy(w0, v2, N * sizeof(float));
    memcpy(w1, v2, N * sizeof(float));
    k_ref.nc_rmsnorm_backward(y0, w0, x2, x, v, r0, M, N);
    k->nc_rmsnorm_backward(y1, w1, x2, x, v, r0, M, N);
    same(y0, y1, n, "rmsnorm bwd dx", k, M, N);
    same(w0, w1, N, "rmsnorm bwd dg", k, M, N);

    /* LayerNorm */
    k_ref.nc_layernorm_forward(y0, m0, r0, x, v, v2, eps, M, N);
    k->nc_layernorm_forward(y1, m1, r1, x, v, v2, eps, M, N);
    same(y0, y1, n, "layernorm fwd y", k, M, N);
    same(m0, m1, M, "layernorm fwd mean", k, M, N);
    same(r0, r1, M, "layernorm fwd rstd", k, M, N);
    memcpy(w0, v2, N * sizeof(float));
    memcpy(w1, v2, N * sizeof(float));
    memcpy(u0, v, N * sizeof(float));
    memcpy(u1, v, N * sizeof(float));
    k_ref.nc_layernorm_backward(y0, w0, u0, x2, x, v, m0, r0, M, N);
    k->nc_layernorm_backward(y1, w1, u1, x2, x, v, m0, r0, M, N);
    same(y0, y1, n, "layernorm bwd dx", k, M, N);
    same(w0, w1, N, "layernorm bwd dg", k, M, N);
    same(u0, u1, N, "layernorm bwd db", k, M, N);

    /* gather / scatter-add with a small table, so indices repeat */
    size_t V = 1 + test_rand_below(st, 5);
    uint32_t *idx = malloc((M + 1) * sizeof(uint32_t));
    REQUIRE(idx != NULL);
    for (size_t r = 0; r < M; r++) idx[r] = test_rand_below(st, (uint32_t)V);
    float *tab = test_fbuf(V * N), *t0 = test_fbuf(V * N), *t1 = test_fbuf(V * N);
    fill(tab, V * N, st);
    CHECK(k_ref.nc_gather_rows(y0, tab, idx, M, N, V) == NC_OK);
    CHECK(k->nc_gather_rows(y1, tab, idx, M, N, V) == NC_OK);
    same(y0, y1, n, "nc_gather_rows", k, M, N);
    for (size_t r = 0; r < M && N; r++)
        CHECK(memcmp(y1 + r * N, tab + idx[r] * N, N * sizeof(float)) == 0);
    memcpy(t0, tab, V * N * sizeof(float));
    memcpy(t1, tab, V * N * sizeof(float));
    CHECK(k_ref.nc_scatter_add_rows(t0, x, idx, M, N, V) == NC_OK);
    CHECK(k->nc_scatter_add_rows(t1, x, idx, M, N, V) == NC_OK);
    same(t0, t1, V * N, "nc_scatter_add_rows", k, M, N);
    /* naive definition: rows in increasing r */
    memcpy(t1, tab, V * N * sizeof(float));
    for (size_t r = 0; r < M; r++)
        for (size_t j = 0; j < N; j++) t1[idx[r] * N + j] = t1[idx[r] * N + j] + x[r * N + j];
    same(t0, t1, V * N, "nc_scatter_add_rows vs naive", k, M, N);
    /* an index out of range is refused before anything is written */
    idx[M - 1] = (uint32_t)V;
    memcpy(t1, tab, V * N * sizeof(float));
    memset(y1, 0, n * sizeof(float));
    CHECK(k->nc_gather_rows(y1, tab, idx, M, N, V) == NC_ERR_ARG);
    CHECK(k->nc_scatter_add_rows(t1, x, idx, M, N, V) == NC_ERR_ARG);
    same(tab, t1, V * N, "scatter refused", k, M, N);
    for (size_t j = 0; j < n; j++) CHECK(y1[j] == 0.0f);

    free(idx);
    test_ffree(tab), test_ffree(t0), test_ffree(t1);
    test_ffree(x), test_ffree(x2), test_ffree(y0), test_ffree(y1), test_ffree(v), test_ffree(v2), test_ffree(w0), test_ffree(w1);
    test_ffree(u0), test_ffree(u1), test_ffree(s), test_ffree(m0), test_ffree(m1), test_ffree(r0), test_ffree(r1);
}

static void check_variant(const kset *k, uint64_t seed)
{
    uint64_t st = seed;
    for (int rep = 0; rep < 2; rep++)
        for (size_t a = 0; a < COUNT(Ns); a++)
            for (size_t b = 0; b < COUNT(Ms); b++) {
                check_elementwise(k, &st, Ns[a] * Ms[b]);
                check_lstm(k, &st, Ns[a] * Ms[b]);
                check_rows(k, &st, Ms[b], Ns[a]);
            }
}

/* ---- the canonical order, written out naively from docs/determinism.md ------------- */

static float documented_sum(const float *x, size_t n)
{
    float p[16];
    for (int l = 0; l < 16; l++) p[l] = 0.0f;
    size_t body = 16 * (n / 16);
    for (size_t j = 0; j < body; j++) p[j % 16] += x[j];
    for (int l = 0; l < 8; l++) p[l] += p[l + 8];
    for (int l = 0; l < 4; l++) p[l] += p[l + 4];
    for (int l = 0; l < 2; l++) p[l] += p[l + 2];
    float s = p[0] + p[1];
    for (size_t j = body; j < n; j++) s += x[j];
    return s;
}

static float documented_dot(const float *a, const float *b, size_t n)
{
    float p[16];
    for (int l = 0; l < 16; l++) p[l] = 0.0f;
    size_t body = 16 * (n / 16);
    for (size_t j = 0; j < body; j++) p[j % 16] = fmaf(a[j], b[j], p[j % 16]);
    for (int l = 0; l < 8; l++) p[l] += p[l + 8];
    for (int l = 0; l < 4; l++) p[l] += p[l + 4];
    for (int l = 0; l < 2; l++) p[l] += p[l + 2];
    float s = p[0] + p[1];
    for (size_t j = body; j < n; j++) s = fmaf(a[j], b[j], s);
    return s;
}

static void check_canonical_order(uint64_t seed)
{
    uint64_t st = seed;
    int seq_differs = 0, nofma_differs = 0;
    for (int rep = 0; rep < 20; rep++)
        for (size_t a = 0; a < COUNT(Ns); a++) {
            size_t N = Ns[a];
            float *x = test_fbuf(N), *z = test_fbuf(N), got;
            fill(x, N, &st);
            fill(z, N, &st);
            float want = documented_sum(x, N);
            nc_row_sum_ref(&got, x, 1, N);
            CHECK_MSG(memcmp(&want, &got, 4) == 0, "row_sum N=%zu: documented %a, ref %a", N,
                      (double)want, (double)got);
            float seq = 0.0f;
            for (size_t j = 0; j < N; j++) seq += x[j];
            seq_differs += memcmp(&seq, &got, 4) != 0;

            want = documented_dot(x, z, N);
            nc_row_dot_ref(&got, x, z, 1, N);
            CHECK_MSG(memcmp(&want, &got, 4) == 0, "row_dot N=%zu: documented %a, ref %a", N,
                      (double)want, (double)got);
            float p[16] = {0}, nofma; /* the same order with a separately rounded product */
            size_t body = 16 * (N / 16);
            for (size_t j = 0; j < body; j++) p[j % 16] += x[j] * z[j];
            for (int l = 0; l < 8; l++) p[l] += p[l + 8];
            for (int l = 0; l < 4; l++) p[l] += p[l + 4];
            for (int l = 0; l < 2; l++) p[l] += p[l + 2];
            nofma = p[0] + p[1];
            for (size_t j = body; j < N; j++) nofma += x[j] * z[j];
            nofma_differs += memcmp(&nofma, &got, 4) != 0;

            want = documented_dot(x, x, N);
            nc_row_sumsq_ref(&got, x, 1, N);
            CHECK(memcmp(&want, &got, 4) == 0);
            test_ffree(x), test_ffree(z);
        }
    /* so these checks can fail: the order and the fma are visible in the bits */
    CHECK_MSG(seq_differs > 0, "a plain sequential sum never differed: the test cannot see order");
    CHECK_MSG(nofma_differs > 0, "dot without fma never differed: the test cannot see fma");
    printf("canonical order: sequential sum differed in %d rows, unfused dot in %d rows\n",
           seq_differs, nofma_differs);
}

/* ---- a row's result does not depend on the rows batched with it ---------------------------- */

/* op 0..3: nc_row_sum, nc_row_sumsq, nc_row_max, nc_row_dot (with b) */
static void row_reduce(const kset *k, int op, float *y, const float *a, const float *b, size_t M,
                       size_t N)
{
    switch (op) {
    case 0: k->nc_row_sum(y, a, M, N); break;
    case 1: k->nc_row_sumsq(y, a, M, N); break;
    case 2: k->nc_row_max(y, a, M, N); break;
    default: k->nc_row_dot(y, a, b, M, N); break;
    }
}

static void check_batch_independence(const kset *k, uint64_t seed)
{
    uint64_t st = seed;
    const size_t M = 32;
    for (size_t a = 0; a < COUNT(Ns); a++) {
        size_t N = Ns[a], n = M * N;
        float *x = test_fbuf(n), *x2 = test_fbuf(n), *yb = test_fbuf(n);
        float *y1 = test_fbuf(N), *g = test_fbuf(N), *bb = test_fbuf(N);
        float *mb = test_fbuf(M), *rb = test_fbuf(M), one[2], one2[2];
        fill(x, n, &st), fill(x2, n, &st), fill(g, N, &st), fill(bb, N, &st);

        static const char *names[4] = {"row_sum alone", "row_sumsq alone", "row_max alone",
                                       "row_dot alone"};
        for (int op = 0; op < 4; op++) {
            row_reduce(k, op, mb, x, x2, M, N);
            for (size_t r = 0; r < M; r++) row_reduce(k, op, &rb[r], x + r * N, x2 + r * N, 1, N);
            same(mb, rb, M, names[op], k, M, N);
        }

        k->nc_rmsnorm_forward(yb, rb, x, g, 1e-5f, M, N);
        for (size_t r = 0; r < M; r++) {
            k->nc_rmsnorm_forward(y1, one, x + r * N, g, 1e-5f, 1, N);
            same(yb + r * N, y1, N, "rmsnorm row alone", k, 1, N);
            same(&rb[r], one, 1, "rmsnorm rstd alone", k, 1, N);
        }
        k->nc_layernorm_forward(yb, mb, rb, x, g, bb, 1e-5f, M, N);
        for (size_t r = 0; r < M; r++) {
            k->nc_layernorm_forward(y1, one, one2, x + r * N, g, bb, 1e-5f, 1, N);
            same(yb + r * N, y1, N, "layernorm row alone", k, 1, N);
            same(&mb[r], one, 1, "layernorm mean alone", k, 1, N);
            same(&rb[r], one2, 1, "layernorm rstd alone", k, 1, N);
        }

        /* Sums over rows: one call over 32 rows == 32 calls of one row == 13 + 19 rows. */
        float *dgb = test_fbuf(N), *dgs = test_fbuf(N), *dbb = test_fbuf(N), *dbs = test_fbuf(N), *dx1 = test_fbuf(N);
        fill(dgb, N, &st);
        memcpy(dgs, dgb, N * sizeof(float));
        k->nc_col_sum_acc(dgb, x, M, N);
        k->nc_col_sum_acc(dgs, x, 13, N);
        k->nc_col_sum_acc(dgs, x + 13 * N, M - 13, N);
        same(dgb, dgs, N, "col_sum_acc split", k, M, N);

        k->nc_rmsnorm_forward(yb, rb, x, g, 1e-5f, M, N);
        memset(dgb, 0, N * sizeof(float));
        memset(dgs, 0, N * sizeof(float));
        k->nc_rmsnorm_backward(yb, dgb, x2, x, g, rb, M, N);
        for (size_t r = 0; r < M; r++) {
            k->nc_rmsnorm_backward(dx1, dgs, x2 + r * N, x + r * N, g, rb + r, 1, N);
            same(yb + r * N, dx1, N, "rmsnorm bwd dx alone", k, 1, N);
        }
        same(dgb, dgs, N, "rmsnorm bwd dg one row at a time", k, M, N);

        k->nc_layernorm_forward(yb, mb, rb, x, g, bb, 1e-5f, M, N);
        memset(dgb, 0, N * sizeof(float)), memset(dgs, 0, N * sizeof(float));
        memset(dbb, 0, N * sizeof(float)), memset(dbs, 0, N * sizeof(float));
        k->nc_layernorm_backward(yb, dgb, dbb, x2, x, g, mb, rb, M, N);
        for (size_t r = 0; r < M; r++) {
            k->nc_layernorm_backward(dx1, dgs, dbs, x2 + r * N, x + r * N, g, mb + r, rb + r, 1, N);
            same(yb + r * N, dx1, N, "layernorm bwd dx alone", k, 1, N);
        }
        same(dgb, dgs, N, "layernorm bwd dg one row at a time", k, M, N);
        same(dbb, dbs, N, "layernorm bwd db one row at a time", k, M, N);

        /* scatter-add: all rows at once == in two batches, with many duplicate indices */
        uint32_t idx[32];
        for (size_t r = 0; r < M; r++) idx[r] = test_rand_below(&st, 3);
        float *ta = test_fbuf(3 * N), *tb = test_fbuf(3 * N);
        fill(ta, 3 * N, &st);
        memcpy(tb, ta, 3 * N * sizeof(float));
        CHECK(k->nc_scatter_add_rows(ta, x, idx, M, N, 3) == NC_OK);
        CHECK(k->nc_scatter_add_rows(tb, x, idx, 20, N, 3) == NC_OK);
        CHECK(k->nc_scatter_add_rows(tb, x + 20 * N, idx + 20, M - 20, N, 3) == NC_OK);
        same(ta, tb, 3 * N, "scatter_add split", k, M, N);

        test_ffree(ta), test_ffree(tb), test_ffree(dgb), test_ffree(dgs), test_ffree(dbb), test_ffree(dbs), test_ffree(dx1);
        test_ffree(x), test_ffree(x2), test_ffree(yb), test_ffree(y1), test_ffree(g), test_ffree(bb), test_ffree(mb), test_ffree(rb);
    }
}

/* ---- gradients against central differences in double -------------------------------------- */

static bool close_enough(double want, double got, double tol)
{
    return fabs(want - got) <= tol * (1.0 + fabs(want));
}

/* loss = sum w * rmsnorm(x; g) for one row, in double */
static double rms_loss(const double *x, const double *g, const double *w, size_t N, double eps)
{
    double ss = 0.0, L = 0.0;
    for (size_t j = 0; j < N; j++) ss += x[j] * x[j];
    double r = 1.0 / sqrt(ss / (double)N + eps);
    for (size_t j = 0; j < N; j++) L += w[j] * x[j] * r * g[j];
    return L;
}

static double ln_loss(const double *x, const double *g, const double *b, const double *w, size_t N,
                      double eps)
{
    double mu = 0.0, var = 0.0, L = 0.0;
    for (size_t j = 0; j < N; j++) mu += x[j];
    mu /= (double)N;
    for (size_t j = 0; j < N; j++) var += (x[j] - mu) * (x[j] - mu);
    double r = 1.0 / sqrt(var / (double)N + eps);
    for (size_t j = 0; j < N; j++) L += w[j] * ((x[j] - mu) * r * g[j] + b[j]);
    return L;
}

/* the partial derivative of loss() in its argument p[j], by central differences */
#define CENTRAL(loss_expr, p, j, h, out)                                                         \
    do {                                                                                         \
        double keep_ = (p)[j];                                                                   \
        (p)[j] = keep_ + (h);                                                                    \
        double up_ = (loss_expr);                                                                \
        (p)[j] = keep_ - (h);                                                                    \
        double dn_ = (loss_expr);                                                                \
        (p)[j] = keep_;                                                                          \
        (out) = (up_ - dn_) / (2.0 * (h));                                                       \
    } while (0)

static void check_gradients(const kset *k, uint64_t seed)
{
    uint64_t st = seed;
    const double h = 1e-4, tol = 2e-4;
    const float eps = 1e-5f;
    static const size_t sizes[] = {1, 5, 17, 40};
    for (size_t a = 0; a < COUNT(sizes); a++) {
        size_t N = sizes[a], M = 3, n = M * N;
        float *x = test_fbuf(n), *dy = test_fbuf(n), *dx = test_fbuf(n), *y = test_fbuf(n), *g = test_fbuf(N), *b = test_fbuf(N);
        float *dg = test_fbuf(N), *db = test_fbuf(N), *mean = test_fbuf(M), *rstd = test_fbuf(M);
        double xd[40], gd[40], bd[40], wd[40], sumdg[40], sumdb[40];
        for (size_t j = 0; j < n; j++) x[j] = test_unit(&st), dy[j] = test_unit(&st);
        for (size_t j = 0; j < N; j++) g[j] = 0.5f + fabsf(test_unit(&st)), b[j] = test_unit(&st);

        /* RMSNorm: dx per row, dg summed over rows */
        k->nc_rmsnorm_forward(y, rstd, x, g, eps, M, N);
        k->nc_rmsnorm_backward(dx, dg, dy, x, g, rstd, M, N); /* dg starts at 0 */
        for (size_t j = 0; j < N; j++) sumdg[j] = 0.0;
        for (size_t r = 0; r < M; r++) {
            for (size_t j = 0; j < N; j++)
                xd[j] = x[r * N + j], gd[j] = g[j], wd[j] = dy[r * N + j];
            for (size_t j = 0; j < N; j++) {
                double num, numg;
                CENTRAL(rms_loss(xd, gd, wd, N, eps), xd, j, h, num);
                CENTRAL(rms_loss(xd, gd, wd, N, eps), gd, j, h, numg);
                sumdg[j] += numg;
                CHECK_MSG(close_enough(num, dx[r * N + j], tol),
                          "%s rmsnorm dx N=%zu r=%zu j=%zu: %g vs %g", k->name, N, r, j, num,
                          (double)dx[r * N + j]);
            }
        }
        for (size_t j = 0; j < N; j++)
            CHECK_MSG(close_enough(sumdg[j], dg[j], tol), "%s rmsnorm dg N=%zu j=%zu: %g vs %g",
                      k->name, N, j, sumdg[j], (double)dg[j]);

        /* LayerNorm (N = 1 is degenerate: the output does not depend on x) */
        memset(dg, 0, N * sizeof(float));
        memset(db, 0, N * sizeof(float));
        k->nc_layernorm_forward(y, mean, rstd, x, g, b, eps, M, N);
        k->nc_layernorm_backward(dx, dg, db, dy, x, g, mean, rstd, M, N);
        for (size_t j = 0; j < N; j++) sumdg[j] = sumdb[j] = 0.0;
        for (size_t r = 0; r < M; r++) {
            for (size_t j = 0; j < N; j++)
                xd[j] = x[r * N + j], gd[j] = g[j], bd[j] = b[j], wd[j] = dy[r * N + j];
            for (size_t j = 0; j < N; j++) {
                double num, numg, numb;
                CENTRAL(ln_loss(xd, gd, bd, wd, N, eps), xd, j, h, num);
                CENTRAL(ln_loss(xd, gd, bd, wd, N, eps), gd, j, h, numg);
                CENTRAL(ln_loss(xd, gd, bd, wd, N, eps), bd, j, h, numb);
                sumdg[j] += numg, sumdb[j] += numb;
                CHECK_MSG(close_enough(num, dx[r * N + j], tol),
                          "%s layernorm dx N=%zu r=%zu j=%zu: %g vs %g", k->name, N, r, j, num,
                          (double)dx[r * N + j]);
            }
        }
        for (size_t j = 0; j < N; j++) {
            CHECK_MSG(close_enough(sumdg[j], dg[j], tol), "%s layernorm dg j=%zu: %g vs %g",
                      k->name, j, sumdg[j], (double)dg[j]);
            CHECK_MSG(close_enough(sumdb[j], db[j], tol), "%s layernorm db j=%zu: %g vs %g",
                      k->name, j, sumdb[j], (double)db[j]);
        }
        test_ffree(x), test_ffree(dy), test_ffree(dx), test_ffree(y), test_ffree(g), test_ffree(b), test_ffree(dg), test_ffree(db);
        test_ffree(mean), test_ffree(rstd);
    }

    /* LSTM cell: loss = wh*h + wc*c per element, away from the kink 1 - f == i */
    enum { NL = 37 };
    float cp[NL], f[NL], i[NL], g[NL], o[NL], dh[NL], dc[NL], c[NL], hh[NL];
    float dcp[NL], df[NL], di[NL], dg[NL], d_o[NL];
    for (size_t j = 0; j < NL; j++) {
        cp[j] = test_unit(&st), g[j] = test_unit(&st), dh[j] = test_unit(&st), dc[j] = test_unit(&st);
        f[j] = fabsf(test_unit(&st)), o[j] = fabsf(test_unit(&st));
        do i[j] = fabsf(test_unit(&st));
        while (fabsf(1.0f - f[j] - i[j]) < 0.01f);
    }
    k->nc_lstm_cell_forward(c, hh, cp, f, i, g, o, NL);
    k->nc_lstm_cell_backward(dcp, df, di, dg, d_o, dh, dc, cp, f, i, g, o, c, NL);
    for (size_t j = 0; j < NL; j++) {
        double v[5] = {cp[j], f[j], i[j], g[j], o[j]};
        const float got[5] = {dcp[j], df[j], di[j], dg[j], d_o[j]};
#define LSTM_LOSS                                                                                \
    (dh[j] * v[4] * (v[0] * v[1] + fmin(1.0 - v[1], v[2]) * v[3]) +                              \
     dc[j] * (v[0] * v[1] + fmin(1.0 - v[1], v[2]) * v[3]))
        for (int t = 0; t < 5; t++) {
            double num;
            CENTRAL(LSTM_LOSS, v, t, 1e-5, num);
            CHECK_MSG(close_enough(num, got[t], tol), "%s lstm grad %d element %zu: %g vs %g",
                      k->name, t, j, num, (double)got[t]);
        }
#undef LSTM_LOSS
    }
}

/* ---- golden hash: the kernels' bits are part of the compressed format ----------------------
 * Every kernel runs once on fixed inputs (made from integers only, so the same on every machine)
 * and all outputs are hashed. A change of order, of an fma or of a formula changes the hash: that
 * breaks every existing .nnz file, so it must be deliberate, and then the constant is updated. */

static uint64_t fnv1a(uint64_t h, const float *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    for (size_t k = 0; k < n * sizeof(float); k++) h = (h ^ b[k]) * 0x100000001b3ull;
    return h;
}

static uint64_t golden_hash(const kset *k)
{
    uint64_t st = 12345, h = 0xcbf29ce484222325ull;
    static const size_t sizes[] = {1, 17, 100};
    for (size_t a = 0; a < COUNT(sizes); a++) {
        size_t M = 3, N = sizes[a], n = M * N;
        float *x = test_fbuf(n), *z = test_fbuf(n), *c = test_fbuf(n), *y = test_fbuf(n), *y2 = test_fbuf(n);
        float *v = test_fbuf(N), *v2 = test_fbuf(N), *w = test_fbuf(N), *u = test_fbuf(N), *m = test_fbuf(M), *r = test_fbuf(M);
        float *gt[5];
        fill(x, n, &st), fill(z, n, &st), fill(c, n, &st), fill(v, N, &st), fill(v2, N, &st);
        for (size_t j = 0; j < M; j++) m[j] = 1.0f + fabsf(test_unit(&st));
        k->nc_add(y, x, z, n), h = fnv1a(h, y, n);
        k->nc_sub(y, x, z, n), h = fnv1a(h, y, n);
        k->nc_mul(y, x, z, n), h = fnv1a(h, y, n);
        k->nc_scale(y, x, 0.3f, n), h = fnv1a(h, y, n);
        memcpy(y, c, n * sizeof(float)), k->nc_axpy(y, x, 0.3f, n), h = fnv1a(h, y, n);
        k->nc_muladd(y, x, z, c, n), h = fnv1a(h, y, n);
        k->nc_min(y, x, z, n), h = fnv1a(h, y, n);
        k->nc_max(y, x, z, n), h = fnv1a(h, y, n);
        k->nc_clamp(y, x, -0.5f, 0.5f, n), h = fnv1a(h, y, n);
        k->nc_lstm_cell_forward(y, y2, c, z, x, c, z, n), h = fnv1a(fnv1a(h, y, n), y2, n);
        for (int t = 0; t < 5; t++) gt[t] = test_fbuf(n);
        k->nc_lstm_cell_backward(gt[0], gt[1], gt[2], gt[3], gt[4], x, z, c, z, x, c, z, y, n);
        for (int t = 0; t < 5; t++) h = fnv1a(h, gt[t], n), test_ffree(gt[t]);
        k->nc_add_bias(y, x, v, M, N), h = fnv1a(h, y, n);
        k->nc_row_sub(y, x, m, M, N), h = fnv1a(h, y, n);
        k->nc_row_scale(y, x, m, M, N), h = fnv1a(h, y, n);
        k->nc_row_div(y, x, m, M, N), h = fnv1a(h, y, n);
        k->nc_row_sum(r, x, M, N), h = fnv1a(h, r, M);
        k->nc_row_sumsq(r, x, M, N), h = fnv1a(h, r, M);
        k->nc_row_max(r, x, M, N), h = fnv1a(h, r, M);
        k->nc_row_dot(r, x, z, M, N), h = fnv1a(h, r, M);
        memcpy(w, v2, N * sizeof(float)), k->nc_col_sum_acc(w, x, M, N), h = fnv1a(h, w, N);
        k->nc_rmsnorm_forward(y, r, x, v, 1e-5f, M, N), h = fnv1a(fnv1a(h, y, n), r, M);
        memcpy(w, v2, N * sizeof(float));
        k->nc_rmsnorm_backward(y2, w, z, x, v, r, M, N), h = fnv1a(fnv1a(h, y2, n), w, N);
        float *mu = test_fbuf(M);
        k->nc_layernorm_forward(y, mu, r, x, v, v2, 1e-5f, M, N);
        h = fnv1a(fnv1a(fnv1a(h, y, n), mu, M), r, M);
        memcpy(w, v2, N * sizeof(float)), memcpy(u, v, N * sizeof(float));
        k->nc_layernorm_backward(y2, w, u, z, x, v, mu, r, M, N);
        h = fnv1a(fnv1a(fnv1a(h, y2, n), w, N), u, N);
        uint32_t idx[3] = {1, 0, 1};
        CHECK(k->nc_gather_rows(y, x, idx, M, N, M) == NC_OK);
        h = fnv1a(h, y, n);
        memcpy(y, c, n * sizeof(float));
        CHECK(k->nc_scatter_add_rows(y, x, idx, M, N, M) == NC_OK);
        h = fnv1a(h, y, n);
        test_ffree(mu), test_ffree(x), test_ffree(z), test_ffree(c), test_ffree(y), test_ffree(y2), test_ffree(v), test_ffree(v2);
        test_ffree(w), test_ffree(u), test_ffree(m), test_ffree(r);
    }
    return h;
}

#define GOLDEN_HASH 0xc705d2f594274946ull

static void check_golden(const kset *k)
{
    uint64_t h = golden_hash(k);
    CHECK_MSG(h == GOLDEN_HASH, "%s: golden hash %#llx, expected %#llx", k->name,
              (unsigned long long)h, (unsigned long long)GOLDEN_HASH);
}

int main(void)
{
    const uint64_t seed = 0x6e6e7a6970ull; /* "nnzip" */
    printf("test_kernels: seed %#llx\n", (unsigned long long)seed);
    check_canonical_order(seed);
    check_golden(&k_ref);
    check_variant(&k_ref, seed + 3); /* ref against itself: in-place use, naive scatter, errors */
    check_gradients(&k_ref, seed + 1);
    check_batch_independence(&k_ref, seed + 2);

    int variants = 0;
#if HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        check_variant(&k_avx2, seed + 3);
        check_gradients(&k_avx2, seed + 1);
        check_batch_independence(&k_avx2, seed + 2);
        check_golden(&k_avx2);
        printf("avx2: compared with ref\n");
        variants++;
    } else {
        printf("avx2: SKIPPED, this CPU lacks AVX2+FMA\n");
    }
    if (__builtin_cpu_supports("avx512f")) {
        check_variant(&k_avx512, seed + 3);
        check_gradients(&k_avx512, seed + 1);
        check_batch_independence(&k_avx512, seed + 2);
        check_golden(&k_avx512);
        printf("avx512: compared with ref\n");
        variants++;
    } else {
        printf("avx512: SKIPPED, this CPU lacks AVX-512F\n");
    }
#else
    printf("not x86: only the reference kernels exist\n");
#endif
    if (variants == 0) printf("no SIMD variant could run here: only reference checks ran\n");
    return test_finish("test_kernels");
}
