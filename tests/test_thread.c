/* The pool runs every chunk exactly once, in the documented static split, for any thread count;
 * pools can be reused many times and freed (NULL included). */
#include <stdatomic.h>
#include <string.h>

#include "harness.h"
#include "nc/nc.h"

#define MAXCHUNKS 1000

struct count_job {
    atomic_int hits[MAXCHUNKS];
    int value[MAXCHUNKS];
};

static void count_chunk(void *arg, size_t c)
{
    struct count_job *j = arg;
    atomic_fetch_add(&j->hits[c], 1);
    j->value[c] = (int)(c * 7 + 1); /* each chunk owns its slot: no race */
}

static struct count_job job;

int main(void)
{
    CHECK(nc_pool_new(0) == NULL);
    CHECK(nc_pool_new(-3) == NULL);
    CHECK(nc_pool_new(NC_POOL_MAX_THREADS + 1) == NULL);
    nc_pool_free(NULL);
    CHECK(nc_pool_threads(NULL) == 1);

    const size_t sizes[] = {0, 1, 2, 3, 5, 64, 999, MAXCHUNKS};
    for (int nt = 0; nt <= 4; nt++) {
        nc_pool *pool = nt ? nc_pool_new(nt) : NULL; /* 0: the NULL pool */
        REQUIRE(nt == 0 || pool != NULL);
        CHECK(nc_pool_threads(pool) == (nt ? nt : 1));
        for (int rep = 0; rep < 200; rep++) {
            size_t n = sizes[rep % (sizeof sizes / sizeof *sizes)];
            for (size_t c = 0; c < MAXCHUNKS; c++) {
                atomic_store(&job.hits[c], 0);
                job.value[c] = -1;
            }
            nc_pool_for(pool, n, count_chunk, &job);
            for (size_t c = 0; c < MAXCHUNKS; c++) {
                int want = c < n;
                CHECK_MSG(atomic_load(&job.hits[c]) == want, "threads %d, n %zu, chunk %zu ran %d times",
                          nt, n, c, atomic_load(&job.hits[c]));
                CHECK(job.value[c] == (want ? (int)(c * 7 + 1) : -1));
            }
        }
        nc_pool_free(pool);
    }
    return test_finish("test_thread");
}
