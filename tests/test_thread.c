/* The pool runs every chunk of every job exactly once for any thread count (1 to 8 and 32, more
 * than the cores of the machines this runs on), returns only once every chunk has finished and
 * its writes are visible, never lets a late worker run a chunk of a job that has returned or call
 * an earlier job's function, and neither deadlocks nor loses a wake-up when its threads sleep,
 * when chunks are slow, when it is oversubscribed or when busy threads compete for the cores.
 * Nothing is timed: a broken hand-off shows as a wrong count, a stale run, or a hang that ctest's
 * timeout reports. Built twice: as test_thread on nc, and as test_thread_stalls on a thread.c
 * whose workers sleep now and then at the worst moments (after reading a job, after claiming a
 * chunk) and whose jobs have at most 61 chunks (see tests/CMakeLists.txt). */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "nc/nc.h"

#define MAXCHUNKS 1000
#define RING 3 /* job records in turn; odd, so a record's function alternates between uses */

struct job {
    atomic_int tag;  /* which chunk function this job was given */
    atomic_int live; /* 1 from before nc_pool_for until after its checks */
    size_t n;
    int work;        /* loop length in each chunk, so "claimed" and "finished" differ */
    atomic_int hits[MAXCHUNKS];
    int value[MAXCHUNKS]; /* plain: written by the chunk, read by the caller after the job */
};

static struct job ring[RING];
static atomic_int stale_runs, wrong_fn, out_of_range;
static atomic_uint sink; /* keeps the chunks' busy loops */
static pthread_t main_thread;

static void chunk_body(struct job *j, size_t c, int tag)
{
    if (!atomic_load(&j->live))
        atomic_fetch_add(&stale_runs, 1);
    if (atomic_load(&j->tag) != tag)
        atomic_fetch_add(&wrong_fn, 1);
    if (c >= MAXCHUNKS) {
        atomic_fetch_add(&out_of_range, 1);
        return;
    }
    atomic_fetch_add(&j->hits[c], 1);
    unsigned x = (unsigned)c;
    for (int i = 0; i < j->work; i++)
        x = x * 1103515245u + 12345u;
    atomic_store_explicit(&sink, x, memory_order_relaxed);
    j->value[c] = (int)(c * 7 + 1) + tag;
}

static void chunk_a(void *arg, size_t c)
{
    chunk_body(arg, c, 0);
}

static void chunk_b(void *arg, size_t c)
{
    chunk_body(arg, c, 1);
}

/* Checks that job record j holds exactly one run of each of its n chunks (and none beyond). */
static void check_record(const struct job *j, int nt, const char *when)
{
    int tag = atomic_load(&j->tag);
    for (size_t c = 0; c < MAXCHUNKS; c++) {
        int want = c < j->n, got = atomic_load(&j->hits[c]);
        CHECK_MSG(got == want, "%s: threads %d, n %zu, chunk %zu ran %d times", when, nt, j->n, c,
                  got);
        if (got == 1)
            CHECK_MSG(j->value[c] == (int)(c * 7 + 1) + tag,
                      "%s: threads %d, n %zu, chunk %zu: its write is not visible", when, nt, j->n,
                      c);
    }
}

/* Job number k of a run, with n chunks: on a fresh ring record, checked after it returned. */
static void run_one(nc_pool *pool, int nt, unsigned k, size_t n, int work)
{
    struct job *j = &ring[k % RING];
    /* A late run of this record's previous job would have changed its counts since its check. */
    check_record(j, nt, "record reused");
    for (size_t c = 0; c < MAXCHUNKS; c++) {
        atomic_store(&j->hits[c], 0);
        j->value[c] = -1;
    }
    j->n = n;
    j->work = work;
    atomic_store(&j->tag, (int)(k % 2));
    atomic_store(&j->live, 1);
    nc_pool_for(pool, n, k % 2 ? chunk_b : chunk_a, j);
    check_record(j, nt, "after the job");
    atomic_store(&j->live, 0);
}

static void reset_ring(void)
{
    for (int r = 0; r < RING; r++) {
        ring[r].n = 0;
        for (size_t c = 0; c < MAXCHUNKS; c++)
            atomic_store(&ring[r].hits[c], 0);
    }
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Many jobs back to back with varying chunk counts: around the thread count, tiny, big, random. */
static void test_back_to_back(uint64_t *seed)
{
    const int counts[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 32};
    for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
        int nt = counts[ci];
        nc_pool *pool = nt ? nc_pool_new(nt) : NULL; /* 0: the NULL pool */
        REQUIRE(nt == 0 || pool != NULL);
        CHECK(nc_pool_threads(pool) == (nt ? nt : 1));
        reset_ring();
        int jobs = nt > 8 ? 300 : 1500;
        for (int k = 0; k < jobs; k++) {
            size_t n;
            switch (k % 6) {
            case 0: n = (size_t)(nt + (int)(k / 6 % 3)) - (nt > 0); break; /* nt-1 .. nt+1 */
            case 1: n = test_rand_below(seed, 4); break;                     /* 0 .. 3 */
            case 2: n = k % 12 == 2 ? MAXCHUNKS : 999; break;
            default: n = 1 + test_rand_below(seed, MAXCHUNKS); break;
            }
            run_one(pool, nt, (unsigned)k, n, (int)test_rand_below(seed, 200));
        }
        reset_ring();
        nc_pool_free(pool);
    }
}

/* Jobs whose chunk on the caller's thread (if it gets one) waits, without bound, until a worker
 * has started a chunk: only a pool that wakes its workers gets past it (else ctest's timeout
 * reports the hang). The workers' chunks then take worker_us, long enough for the caller to give
 * up spinning and sleep until the last one is done. With pause_us between jobs the workers go to
 * sleep, and each job has to wake them. */
static struct {
    atomic_int hits[16];
    atomic_int worker_started;
    long worker_us;
} handoff;

static void handoff_chunk(void *arg, size_t c)
{
    (void)arg;
    if (pthread_equal(pthread_self(), main_thread)) {
        while (!atomic_load(&handoff.worker_started))
            sleep_us(50);
    } else {
        atomic_store(&handoff.worker_started, 1);
        if (handoff.worker_us)
            sleep_us(handoff.worker_us);
    }
    atomic_fetch_add(&handoff.hits[c], 1);
}

static void test_handoff(long pause_us, long worker_us, int jobs)
{
    handoff.worker_us = worker_us;
    for (int nt = 2; nt <= 8; nt *= 2) {
        nc_pool *pool = nc_pool_new(nt);
        REQUIRE(pool != NULL);
        for (int k = 0; k < jobs; k++) {
            size_t n = k % 2 ? (size_t)nt : (size_t)nt + 1 + (size_t)k % 5;
            for (size_t c = 0; c < 16; c++)
                atomic_store(&handoff.hits[c], 0);
            atomic_store(&handoff.worker_started, 0);
            if (pause_us)
                sleep_us(pause_us);
            nc_pool_for(pool, n, handoff_chunk, NULL);
            for (size_t c = 0; c < 16; c++)
                CHECK_MSG(atomic_load(&handoff.hits[c]) == (c < n),
                          "hand-off (pause %ld us, chunks of %ld us), threads %d: chunk %zu ran %d "
                          "times", pause_us, worker_us, nt, c, atomic_load(&handoff.hits[c]));
        }
        nc_pool_free(pool);
    }
}

/* Busy threads on every core while an oversubscribed pool runs small jobs: it must finish. */
static atomic_int hog_stop;

static void *hog(void *unused)
{
    (void)unused;
    volatile unsigned x = 0;
    while (!atomic_load_explicit(&hog_stop, memory_order_relaxed))
        x = x + 1;
    return NULL;
}

static void test_oversubscribed_under_load(uint64_t *seed)
{
    enum { HOGS = 2 };
    pthread_t hogs[HOGS];
    atomic_store(&hog_stop, 0);
    for (int h = 0; h < HOGS; h++)
        REQUIRE(pthread_create(&hogs[h], NULL, hog, NULL) == 0);
    for (int nt = 3; nt <= 8; nt += 5) {
        nc_pool *pool = nc_pool_new(nt);
        REQUIRE(pool != NULL);
        reset_ring();
        for (int k = 0; k < 200; k++)
            run_one(pool, nt, (unsigned)k, 1 + test_rand_below(seed, 3 * (uint32_t)nt), 50);
        reset_ring();
        nc_pool_free(pool);
    }
    atomic_store(&hog_stop, 1);
    for (int h = 0; h < HOGS; h++)
        pthread_join(hogs[h], NULL);
}

/* Free right after a job, while late workers may still be looking at it; start again. */
static void test_new_free(void)
{
    reset_ring();
    for (int k = 0; k < 200; k++) {
        int nt = 2 + k % 5;
        nc_pool *pool = nc_pool_new(nt);
        REQUIRE(pool != NULL);
        run_one(pool, nt, (unsigned)k, (size_t)(1 + k % 9), 0);
        nc_pool_free(pool);
    }
    reset_ring();
}

int main(void)
{
    main_thread = pthread_self();
    CHECK(nc_pool_new(0) == NULL);
    CHECK(nc_pool_new(-3) == NULL);
    CHECK(nc_pool_new(NC_POOL_MAX_THREADS + 1) == NULL);
    nc_pool_free(NULL);
    CHECK(nc_pool_threads(NULL) == 1);

    uint64_t seed = 0x7468726561640001ull, st = seed;
    printf("seed %#llx\n", (unsigned long long)seed);
    test_back_to_back(&st);
    test_handoff(3000, 0, 12);   /* sleeping workers */
    test_handoff(0, 2000, 6);    /* sleeping caller */
    test_oversubscribed_under_load(&st);
    test_new_free();
    CHECK_MSG(atomic_load(&stale_runs) == 0, "%d chunks ran after their job had returned",
              atomic_load(&stale_runs));
    CHECK_MSG(atomic_load(&wrong_fn) == 0, "%d chunks ran with another job's function",
              atomic_load(&wrong_fn));
    CHECK_MSG(atomic_load(&out_of_range) == 0, "%d chunks ran with an index >= MAXCHUNKS",
              atomic_load(&out_of_range));
    return test_finish("test_thread");
}
