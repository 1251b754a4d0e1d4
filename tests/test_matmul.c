/* Matrix products: every path (the _ref, _avx2, _avx512 variants and the pooled entry points
 * under every supported ISA and 1, 2, 3 threads) is compared with memcmp against _ref over random
 * shapes, odd edges, unaligned pointers, padded leading dimensions and accumulate mode; whole
 * buffers are compared, so writes into the ldc padding are caught too. _ref itself is pinned to a
 * naive fmaf loop written here and to hand-computed values that only the canonical order gives. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "nc/nc.h"

#if defined(__x86_64__) || defined(__i386__)
#include "matmul_avx512_emul.h"
#define HAVE_EMUL 1
#else
#define HAVE_EMUL 0
#endif

typedef void (*mm_single)(float *C, size_t ldc, const float *A, size_t lda, const float *B,
                          size_t ldb, size_t M, size_t N, size_t K, int accumulate);
typedef void (*mm_pooled)(nc_pool *pool, float *C, size_t ldc, const float *A, size_t lda,
                          const float *B, size_t ldb, size_t M, size_t N, size_t K,
                          int accumulate);

enum { NN, NT, TN };
static const struct variant {
    const char *name;
    int kind;
    mm_single path[NC_ISA_COUNT];
    mm_pooled entry;
    mm_single emul; /* the AVX-512 template instance on AVX2 halves; NULL if not built */
} variants[] = {
#if HAVE_EMUL
    {"A.B", NN, {nc_matmul_ref, nc_matmul_avx2, nc_matmul_avx512}, nc_matmul, nc_matmul_avx512emu},
    {"A.Bt", NT, {nc_matmul_nt_ref, nc_matmul_nt_avx2, nc_matmul_nt_avx512}, nc_matmul_nt,
     nc_matmul_nt_avx512emu},
    {"At.B", TN, {nc_matmul_tn_ref, nc_matmul_tn_avx2, nc_matmul_tn_avx512}, nc_matmul_tn,
     nc_matmul_tn_avx512emu},
#else
    {"A.B", NN, {nc_matmul_ref, nc_matmul_avx2, nc_matmul_avx512}, nc_matmul, NULL},
    {"A.Bt", NT, {nc_matmul_nt_ref, nc_matmul_nt_avx2, nc_matmul_nt_avx512}, nc_matmul_nt, NULL},
    {"At.B", TN, {nc_matmul_tn_ref, nc_matmul_tn_avx2, nc_matmul_tn_avx512}, nc_matmul_tn, NULL},
#endif
};
#define NVARIANTS (sizeof variants / sizeof *variants)

static nc_pool *pools[4]; /* NULL, 1, 2, 3 threads */
static uint64_t rng = 0x6d61746d756c2121ull;
static long compared;

/* Varied magnitudes, signs, exact zeros and subnormals: enough to make any change of operation
 * order or rounding visible, without infinities or NaNs (their payloads are not portable). */
static float rand_float(void)
{
    uint32_t r = test_rand_below(&rng, 64);
    if (r == 0)
        return 0.0f;
    if (r == 1)
        return -0.0f;
    if (r == 2)
        return (float)((int)test_rand_below(&rng, 2000) - 1000) * 1e-42f; /* subnormal */
    float x = (float)(int32_t)(test_rand64(&rng) >> 40) / (float)(1 << 23); /* [-1, 1) */
    return ldexpf(x, (int)test_rand_below(&rng, 13) - 6);
}

static float *rand_buf(size_t n)
{
    float *p = malloc(n ? n * sizeof *p : 1);
    REQUIRE(p != NULL);
    for (size_t i = 0; i < n; i++)
        p[i] = rand_float();
    return p;
}

/* Exact size of a (rows x cols) matrix with row stride ld after an offset: ASan sees overreads. */
static size_t span(size_t off, size_t rows, size_t cols, size_t ld)
{
    return rows && cols ? off + (rows - 1) * ld + cols : off;
}

struct layout {
    size_t M, N, K;
    size_t arows, acols, brows, bcols;
    size_t offa, offb, offc, lda, ldb, ldc;
};

static struct layout make_layout(int kind, size_t M, size_t N, size_t K, int ragged)
{
    struct layout l = {M, N, K, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    l.arows = kind == TN ? K : M;
    l.acols = kind == TN ? M : K;
    l.brows = kind == NT ? N : K;
    l.bcols = kind == NT ? K : N;
    if (ragged) {
        l.offa = test_rand_below(&rng, 2);
        l.offb = test_rand_below(&rng, 2);
        l.offc = test_rand_below(&rng, 2);
        l.lda = l.acols + test_rand_below(&rng, 2) * test_rand_below(&rng, 20);
        l.ldb = l.bcols + test_rand_below(&rng, 2) * test_rand_below(&rng, 20);
        l.ldc = l.N + test_rand_below(&rng, 2) * test_rand_below(&rng, 20);
    } else {
        l.lda = l.acols;
        l.ldb = l.bcols;
        l.ldc = l.N;
    }
    return l;
}

/* One case: every path against the reference, whole C buffers compared. */
static void run_case(const struct variant *v, size_t M, size_t N, size_t K, int accumulate,
                     int ragged)
{
    struct layout l = make_layout(v->kind, M, N, K, ragged);
    size_t na = span(l.offa, l.arows, l.acols, l.lda), nb = span(l.offb, l.brows, l.bcols, l.ldb);
    size_t ncb = span(l.offc, M, N, l.ldc);
    float *A = rand_buf(na), *B = rand_buf(nb), *C0 = rand_buf(ncb);
    float *want = malloc(ncb * sizeof *want + 1), *got = malloc(ncb * sizeof *got + 1);
    REQUIRE(want && got);
    memcpy(want, C0, ncb * sizeof *want);
    v->path[NC_ISA_REF](want + l.offc, l.ldc, A + l.offa, l.lda, B + l.offb, l.ldb, M, N, K,
                        accumulate);

    if (v->emul && nc_isa_supported(NC_ISA_AVX2)) {
        memcpy(got, C0, ncb * sizeof *got);
        v->emul(got + l.offc, l.ldc, A + l.offa, l.lda, B + l.offb, l.ldb, M, N, K, accumulate);
        CHECK_MSG(memcmp(got, want, ncb * sizeof *got) == 0,
                  "%s_avx512 (emulated on AVX2) M=%zu N=%zu K=%zu acc=%d offs=%zu,%zu,%zu "
                  "ld=%zu,%zu,%zu",
                  v->name, M, N, K, accumulate, l.offa, l.offb, l.offc, l.lda, l.ldb, l.ldc);
        compared++;
    }
    for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
        if (!nc_isa_supported((nc_isa)isa))
            continue;
        memcpy(got, C0, ncb * sizeof *got);
        v->path[isa](got + l.offc, l.ldc, A + l.offa, l.lda, B + l.offb, l.ldb, M, N, K,
                     accumulate);
        CHECK_MSG(memcmp(got, want, ncb * sizeof *got) == 0,
                  "%s_%s M=%zu N=%zu K=%zu acc=%d offs=%zu,%zu,%zu ld=%zu,%zu,%zu", v->name,
                  nc_isa_name((nc_isa)isa), M, N, K, accumulate, l.offa, l.offb, l.offc, l.lda,
                  l.ldb, l.ldc);
        compared++;
        REQUIRE(nc_isa_select((nc_isa)isa) == NC_OK);
        for (int p = 0; p < 4; p++) {
            memcpy(got, C0, ncb * sizeof *got);
            v->entry(pools[p], got + l.offc, l.ldc, A + l.offa, l.lda, B + l.offb, l.ldb, M, N,
                     K, accumulate);
            CHECK_MSG(memcmp(got, want, ncb * sizeof *got) == 0,
                      "%s pooled isa=%s threads=%d M=%zu N=%zu K=%zu acc=%d offs=%zu,%zu,%zu "
                      "ld=%zu,%zu,%zu",
                      v->name, nc_isa_name((nc_isa)isa), nc_pool_threads(pools[p]), M, N, K,
                      accumulate, l.offa, l.offb, l.offc, l.lda, l.ldb, l.ldc);
            compared++;
        }
    }
    free(A);
    free(B);
    free(C0);
    free(want);
    free(got);
}

/* The reference equals a naive fmaf loop written independently here: the order is pinned. */
static void test_ref_is_naive(void)
{
    for (int t = 0; t < 60; t++) {
        size_t M = 1 + test_rand_below(&rng, 20), N = 1 + test_rand_below(&rng, 20);
        size_t K = test_rand_below(&rng, 40);
        int acc = (int)test_rand_below(&rng, 2);
        float *A = rand_buf(M * K + 1), *At = malloc((M * K + 1) * sizeof(float));
        float *B = rand_buf(K * N + 1), *Bt = malloc((K * N + 1) * sizeof(float));
        float *C0 = rand_buf(M * N), *want = malloc(M * N * sizeof(float));
        float *got = malloc(M * N * sizeof(float));
        REQUIRE(At && Bt && want && got);
        for (size_t i = 0; i < M; i++)
            for (size_t k = 0; k < K; k++)
                At[k * M + i] = A[i * K + k];
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < N; j++)
                Bt[j * K + k] = B[k * N + j];
        for (size_t i = 0; i < M; i++) {
            for (size_t j = 0; j < N; j++) {
                float s = acc ? C0[i * N + j] : 0.0f;
                for (size_t k = 0; k < K; k++)
                    s = fmaf(A[i * K + k], B[k * N + j], s);
                want[i * N + j] = s;
            }
        }
        memcpy(got, C0, M * N * sizeof(float));
        nc_matmul_ref(got, N, A, K, B, N, M, N, K, acc);
        CHECK_MSG(memcmp(got, want, M * N * sizeof(float)) == 0, "A.B ref M=%zu N=%zu K=%zu", M, N, K);
        memcpy(got, C0, M * N * sizeof(float));
        nc_matmul_nt_ref(got, N, A, K, Bt, K, M, N, K, acc);
        CHECK_MSG(memcmp(got, want, M * N * sizeof(float)) == 0, "A.Bt ref M=%zu N=%zu K=%zu", M, N, K);
        memcpy(got, C0, M * N * sizeof(float));
        nc_matmul_tn_ref(got, N, At, M, B, N, M, N, K, acc);
        CHECK_MSG(memcmp(got, want, M * N * sizeof(float)) == 0, "At.B ref M=%zu N=%zu K=%zu", M, N, K);
        free(A), free(At), free(B), free(Bt), free(C0), free(want), free(got);
    }
}

/* Values only the canonical order can give, on every path: (1) a chain 2^27, +1 (298 times),
 * -2^27 over k = 0..299 ends at exactly 0 (each +1 is below half an ulp of 2^27), whereas any
 * split or tree of partial sums keeps some of the ones; from old C = 5 it is 0 too, since the
 * chain starts at C (5 is absorbed by 2^27), whereas "product, then + C" would give 5. (2) the
 * step is fused: fma(1+2^-12, 1+2^-12, -1) = 2^-11 + 2^-24, while a rounded product gives 2^-11. */
static void test_pinned_values(void)
{
    enum { M = 7, N = 40, K = 300 };
    static float A[M * K], At[K * M], B[K * N], Bt[N * K], C[M * N];
    for (size_t i = 0; i < M; i++)
        for (size_t k = 0; k < K; k++) {
            float a = k == 0 ? 0x1p27f : k == K - 1 ? -0x1p27f : 1.0f;
            A[i * K + k] = a;
            At[k * M + i] = a;
        }
    for (size_t i = 0; i < K * N; i++)
        B[i] = Bt[i] = 1.0f;
    for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
        if (nc_isa_select((nc_isa)isa) != NC_OK)
            continue;
        for (size_t v = 0; v < NVARIANTS; v++) {
            for (int acc = 0; acc < 2; acc++) {
                for (int p = 0; p < 4; p++) {
                    for (size_t i = 0; i < M * N; i++)
                        C[i] = 5.0f;
                    const float *a = variants[v].kind == TN ? At : A;
                    size_t lda = variants[v].kind == TN ? M : K;
                    const float *b = variants[v].kind == NT ? Bt : B;
                    size_t ldb = variants[v].kind == NT ? K : N;
                    variants[v].entry(pools[p], C, N, a, lda, b, ldb, M, N, K, acc);
                    int ok = 1;
                    for (size_t i = 0; i < M * N; i++)
                        ok &= C[i] == 0.0f && !signbit(C[i]);
                    CHECK_MSG(ok, "%s isa=%s acc=%d threads=%d: got %g, want 0", variants[v].name,
                              nc_isa_name((nc_isa)isa), acc, nc_pool_threads(pools[p]), C[0]);
                }
            }
            /* Fused step, on a full-width and an edge tile. */
            float a1[20], b1[20 * 20], c1[20 * 20];
            for (int i = 0; i < 20; i++)
                a1[i] = 1.0f + 0x1p-12f;
            for (int i = 0; i < 400; i++) {
                b1[i] = 1.0f + 0x1p-12f;
                c1[i] = -1.0f;
            }
            /* M=20, K=1, N=20: every a, b layout of a 1-deep product reads the same values. */
            variants[v].entry(pools[2], c1, 20, a1, variants[v].kind == TN ? 20 : 1, b1,
                              variants[v].kind == NT ? 1 : 20, 20, 20, 1, 1);
            int ok = 1;
            for (int i = 0; i < 400; i++)
                ok &= c1[i] == 0x1p-11f + 0x1p-24f;
            CHECK_MSG(ok, "%s isa=%s: step not fused: %a", variants[v].name,
                      nc_isa_name((nc_isa)isa), c1[0]);
        }
    }
    REQUIRE(nc_isa_select(nc_isa_best()) == NC_OK);
}

/* A row computed alone (M = 1) has the same bits as that row inside a batch of 32. */
static void test_row_alone(void)
{
    const size_t M = 32, N = 100, K = 333;
    for (size_t v = 0; v < NVARIANTS; v++) {
        const struct variant *var = &variants[v];
        struct layout l = make_layout(var->kind, M, N, K, 0);
        float *A = rand_buf(l.arows * l.lda), *B = rand_buf(l.brows * l.ldb);
        float *Cb = malloc(M * N * sizeof(float)), *Cr = malloc(N * sizeof(float));
        REQUIRE(Cb && Cr);
        for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
            if (nc_isa_select((nc_isa)isa) != NC_OK)
                continue;
            var->entry(pools[2], Cb, N, A, l.lda, B, l.ldb, M, N, K, 0);
            for (size_t i = 0; i < M; i++) {
                const float *arow = var->kind == TN ? A + i : A + i * l.lda;
                var->entry(pools[(i % 3) + 1], Cr, N, arow, l.lda, B, l.ldb, 1, N, K, 0);
                CHECK_MSG(memcmp(Cr, Cb + i * N, N * sizeof(float)) == 0,
                          "%s isa=%s: row %zu alone differs from the batch", var->name,
                          nc_isa_name((nc_isa)isa), i);
                compared++;
            }
        }
        free(A), free(B), free(Cb), free(Cr);
    }
    REQUIRE(nc_isa_select(nc_isa_best()) == NC_OK);
}

int main(void)
{
    printf("test_matmul: seed %#llx; paths:", (unsigned long long)rng);
    for (int i = 0; i < NC_ISA_COUNT; i++)
        if (nc_isa_supported((nc_isa)i))
            printf(" %s", nc_isa_name((nc_isa)i));
    printf("\n");
    if (!nc_isa_supported(NC_ISA_AVX512))
        printf("note: no usable AVX-512F on this machine: the avx512 path is NOT run here; its "
               "template instance is tested with emulated 16-lane vectors (AVX2 pairs)%s\n",
               HAVE_EMUL && nc_isa_supported(NC_ISA_AVX2) ? "" : " -- not even that: no AVX2");
    pools[0] = NULL;
    for (int t = 1; t <= 3; t++)
        REQUIRE((pools[t] = nc_pool_new(t)) != NULL);

    test_ref_is_naive();
    test_pinned_values();
    test_row_alone();

    /* Edge sizes around the register blocks (6, 8 rows; 16, 32 columns) and slices (KC). */
    static const size_t sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100};
    const size_t ns = sizeof sizes / sizeof *sizes;
    /* 500 random shapes; 120 under the sanitizers, where each costs ten times as much (the
     * sized sweeps below still cover every edge). */
    for (int t = 0; t < (TEST_SANITIZED ? 120 : 500); t++) {
        const struct variant *v = &variants[t % NVARIANTS];
        size_t M = sizes[test_rand_below(&rng, (uint32_t)ns)];
        size_t N = sizes[test_rand_below(&rng, (uint32_t)ns)];
        size_t K = sizes[test_rand_below(&rng, (uint32_t)ns)];
        run_case(v, M, N, K, (int)test_rand_below(&rng, 2), t % 4 != 0);
    }
    /* Every size on each axis at least once, with the other two random. */
    for (size_t s = 0; s < ns; s++)
        for (size_t v = 0; v < NVARIANTS; v++)
            for (int axis = 0; axis < 3; axis++) {
                size_t d[3] = {sizes[test_rand_below(&rng, (uint32_t)ns)],
                               sizes[test_rand_below(&rng, (uint32_t)ns)],
                               sizes[test_rand_below(&rng, (uint32_t)ns)]};
                d[axis] = sizes[s];
                run_case(&variants[v], d[0], d[1], d[2], (int)(s & 1), 1);
            }
    /* Empty products: K = 0 stores +0 (or leaves C when accumulating); M or N = 0 touch nothing. */
    for (size_t v = 0; v < NVARIANTS; v++)
        for (int acc = 0; acc < 2; acc++) {
            run_case(&variants[v], 5, 17, 0, acc, 1);
            run_case(&variants[v], 0, 17, 9, acc, 1);
            run_case(&variants[v], 5, 0, 9, acc, 1);
        }
    /* K slices: just below, at and above multiples of the AVX2 / AVX-512 slice depths. */
    static const size_t ks[] = {127, 128, 129, 255, 256, 257, 385, 513};
    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++)
        run_case(&variants[i % NVARIANTS], 13, 37, ks[i], (int)(i & 1), 1);
    /* Model-sized: per-timestep (M = 16..64) and per-segment (M = 320) shapes, K, N up to 1408. */
    static const size_t model[][3] = {{16, 256, 352},  {32, 1408, 256}, {64, 352, 1024},
                                      {17, 512, 1408}, {320, 256, 256}, {321, 353, 257}};
    for (size_t i = 0; i < sizeof model / sizeof *model; i++)
        for (size_t v = 0; v < NVARIANTS; v++)
            run_case(&variants[v], model[i][0], model[i][1], model[i][2], (int)((i + v) & 1), 1);

    for (int t = 1; t <= 3; t++)
        nc_pool_free(pools[t]);
    printf("test_matmul: %ld comparisons\n", compared);
    return test_finish("test_matmul");
}
