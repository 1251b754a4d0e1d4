/* Dispatch: the kernel table and the matmul entry points follow nc_isa_select, and forcing each
 * supported path gives the reference's bits through the public entry points (single and pooled). */
#include <string.h>

#include "harness.h"
#include "nc/nc.h"

#define M 37
#define N 45
#define K 29

static float a[M * K], b[K * N], x[M * N], g[N];

static void fill(float *v, size_t n, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((int64_t)(test_rand64(rng) >> 40) - (1 << 23)) / (float)(1 << 22);
}

/* A small pipeline through dispatched kernels: y = rmsnorm(A.B + x) * g, then row sums. */
static void pipeline(float *out, float *sums, nc_pool *pool)
{
    const nc_kernel_table *k = nc_kernels();
    static float c[M * N], rstd[M];
    nc_matmul(pool, c, N, a, K, b, N, M, N, K, 0);
    k->nc_add(c, c, x, (size_t)M * N);
    k->nc_rmsnorm_forward(out, rstd, c, g, 1e-5f, M, N);
    k->nc_row_sum(sums, out, M, N);
}

int main(void)
{
    uint64_t rng = 11;
    fill(a, sizeof a / 4, &rng);
    fill(b, sizeof b / 4, &rng);
    fill(x, sizeof x / 4, &rng);
    fill(g, sizeof g / 4, &rng);
    static float want[M * N], want_sums[M], got[M * N], got_sums[M];
    REQUIRE(nc_isa_select(NC_ISA_REF) == NC_OK);
    CHECK(nc_kernels() == nc_kernels_for(NC_ISA_REF));
    pipeline(want, want_sums, NULL);
    int paths = 0;
    for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
        if (!nc_isa_supported((nc_isa)isa)) {
            printf("test_dispatch: %s not supported here, skipped\n", nc_isa_name((nc_isa)isa));
            continue;
        }
        REQUIRE(nc_isa_select((nc_isa)isa) == NC_OK);
        CHECK(nc_isa_active() == (nc_isa)isa && nc_kernels() == nc_kernels_for((nc_isa)isa));
        for (int threads = 1; threads <= 3; threads++) {
            nc_pool *pool = threads > 1 ? nc_pool_new(threads) : NULL;
            memset(got, 0, sizeof got);
            pipeline(got, got_sums, pool);
            CHECK_MSG(memcmp(got, want, sizeof got) == 0 && memcmp(got_sums, want_sums, sizeof got_sums) == 0,
                      "%s with %d threads differs from ref", nc_isa_name((nc_isa)isa), threads);
            nc_pool_free(pool);
        }
        paths++;
    }
    CHECK(nc_kernels_for((nc_isa)NC_ISA_COUNT) == NULL);
    printf("test_dispatch: %d paths give the reference bits\n", paths);
    return test_finish("test_dispatch");
}
