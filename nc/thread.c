/* A small fixed thread pool with a dynamic parallel-for.
 *
 * Determinism does not come from the pool: nc kernels make every output element the business of
 * exactly one chunk and fix the element's operation order without reference to the split. The pool
 * only has to run every chunk exactly once and return after all have finished, with their writes
 * visible to the caller. So it is free to hand out chunks to whoever is running, and it does:
 *
 * Why dynamic. A static split (thread t runs chunks [t*n/T, (t+1)*n/T)) makes every product wait
 * for its slowest thread. When other jobs share the cores, or there are more threads than cores,
 * some worker is descheduled at any moment, and the caller then waits a whole time slice on every
 * one of the thousands of small per-timestep products: a decode took 136 s at -T3 against 7.9 s at
 * -T1 on a loaded 2-core machine. Here the caller and whichever workers are awake claim chunks one
 * by one from a shared counter; a worker that wakes late finds nothing left and goes back to
 * waiting, and the caller only ever waits for chunks that someone is actually running.
 *
 * The job word. `work` packs the job's generation (high 32 bits) and the number of chunks not yet
 * claimed (low 32 bits). The caller writes fn, arg, nchunks and base, then stores (g, nchunks)
 * with release, so a thread that reads generation g with acquire also reads at least job g's
 * fields. A chunk is claimed by compare-exchange of (g, r) -> (g, r - 1), r > 0, against the word
 * the thread read; the claim of r is chunk nchunks - r, so chunks start in increasing order. A
 * thread that read job g and then stalled cannot claim a chunk of job g + 1 (its exchange fails on
 * the generation) nor, once g is all claimed, one of g (r is 0). That "all claimed" is read from
 * the word and never from nchunks matters: the caller writes job g + 1's fields while the word
 * still says g, so a stale thread may pair g's word with g + 1's nchunks; with a next-index
 * counter checked against nchunks it could then claim a chunk past g's end (a test that stalls
 * the caller in that window caught exactly this). Why the fields a successful claim uses are job
 * g's: its claim saw r > 0, so a later claim of g took the last chunk; claims are acq_rel, so the
 * thread's reads of the fields happen before that claim, hence before g's completion and the
 * caller's writing of g + 1's fields. The fields are relaxed atomics only because a stale thread
 * may read them while the caller writes the next job's (it then fails its exchange and drops what
 * it read). Generations wrap after 2^32 jobs; a thread would have to stall between two of its own
 * steps for that long.
 *
 * Completion. `done` counts finished chunks of the current job; every thread that ran chunks adds
 * its count once (release), the caller included, and the one whose addition reaches nchunks knows
 * the job is finished. The caller returns when done == nchunks (acquire), i.e. when every chunk
 * has run and its writes are visible, not when every worker has checked in: a worker that never
 * woke for this job is not waited for. Only threads that claimed a chunk touch `done`, and all
 * claims of job g precede its completion, so the reset for job g + 1 cannot race with job g.
 *
 * Waiting. A waiting thread (a worker between jobs, the caller for chunks others still run) spins
 * with pause for some microseconds, then goes on spinning with a sched_yield every few dozen pauses
 * for some tens of microseconds, then sleeps on a condition variable. On an idle core sched_yield
 * returns at once, so the thread still sees the next job within about a microsecond and an unloaded
 * hand-off costs no wake-up; when another thread wants the core it gets it (it may be the very
 * thread we wait for, or the caller). The budget is sized on the transformer decode: 3/4 of its
 * 853125 parallel-fors at -T2 follow the previous one within 2 µs and 98 % within 50 µs; with a
 * shorter one (15 µs of pauses and 64 yields) workers slept and missed jobs, and the idle -T2
 * decode was ~9 % slower than with the old pool's 60 µs spin (docs/benchmarks.md).
 *
 * Sleeping without lost wake-ups: the sleeper, holding the mutex, announces itself (`sleepers`,
 * `caller_sleeping`) and then rereads what it waits for; the other side changes that word and then
 * reads the announcement, and locks the mutex to signal only if someone announced. All four
 * accesses are sequentially consistent, so at least one side sees the other's write: either the
 * sleeper sees the change and does not sleep, or the changer sees the sleeper and signals it under
 * the mutex, which it cannot take before the sleeper is inside pthread_cond_wait. The fast path
 * thus costs the caller one load (`sleepers`) and the finishing worker one load
 * (`caller_sleeping`). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nc/nc.h"

/* Waiting, in iterations (see the header): SPIN_PAUSES pauses (13-18 ns each on the machine of
 * docs/benchmarks.md: ~8 µs), then YIELD_ROUNDS rounds of one sched_yield (~0.3 µs when nothing
 * else wants the core, a time slice when something does) and YIELD_PAUSES - 1 pauses (~60 µs in
 * all when idle), then the condition variable. */
#define SPIN_PAUSES 512
#define YIELD_ROUNDS 48
#define YIELD_PAUSES 64

/* The job word: generation << 32 | chunks not yet claimed. A job has at most UINT32_MAX chunks;
 * nc_pool_for cuts bigger ones into several jobs. */
#define CHUNK_BITS 32
#define CHUNK_MASK ((UINT64_C(1) << CHUNK_BITS) - 1)
#ifdef NC_POOL_TEST_JOB_MAX_CHUNKS /* tests/test_thread_stalls: run the cutting with small loops */
#define JOB_MAX_CHUNKS ((uint64_t)NC_POOL_TEST_JOB_MAX_CHUNKS)
#else
#define JOB_MAX_CHUNKS CHUNK_MASK
#endif

#define CACHE_LINE 64

#ifdef NC_POOL_TEST_STALLS
/* tests/test_thread_stalls: now and then a thread sleeps where being descheduled matters most (a
 * worker after reading a job's word, any thread after claiming its first chunk of a job, the
 * caller between writing a job's fields and publishing it), so that late workers are common. */
#include <time.h>
static void stall(void)
{
    static _Thread_local unsigned count;
    if (++count % 8 == 0)
        nanosleep(&(struct timespec){0, 20000}, NULL);
}
#else
static void stall(void) {}
#endif

struct nc_pool {
    /* The current job, one cache line: written by the caller per job, read by each worker once per
     * job and claimed from by everyone. */
    _Alignas(CACHE_LINE) _Atomic uint64_t work;
    _Atomic(nc_pool_fn) fn;
    _Atomic(void *) arg;
    _Atomic uint64_t nchunks; /* of this job, <= JOB_MAX_CHUNKS */
    atomic_size_t base;       /* chunk index of the job's chunk 0 (nonzero only for huge loops) */
    atomic_int sleepers;      /* workers asleep, or about to be, on start_cv */
    atomic_int stop;
    /* Completion: written once per job by each thread that ran chunks. */
    _Alignas(CACHE_LINE) _Atomic uint64_t done;
    atomic_int caller_sleeping; /* the caller waits on done_cv */
    /* Cold. */
    _Alignas(CACHE_LINE) int nthreads; /* including the caller */
    pthread_t *workers;                /* nthreads - 1 */
    pthread_mutex_t mu;
    pthread_cond_t start_cv, done_cv;
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Step `i` of a wait: spin, then yield; 0 once it is time to sleep. */
static int wait_step(int i)
{
    if (i >= SPIN_PAUSES + YIELD_ROUNDS * YIELD_PAUSES)
        return 0;
    if (i >= SPIN_PAUSES && (i - SPIN_PAUSES) % YIELD_PAUSES == 0)
        sched_yield();
    else
        cpu_relax();
    return 1;
}

/* The fields of the job whose word a thread read, as it read them. */
struct job {
    nc_pool_fn fn;
    void *arg;
    uint64_t n;
    size_t base;
};

/* Claim and run chunks of job `j`, whose word was read as `w`, until none is left or the job is no
 * longer current; returns how many this thread ran. Whether a chunk is left is read from the word
 * alone, never from j->n: a stale thread may hold the next job's n (see the header). */
static uint64_t run_chunks(nc_pool *pool, uint64_t w, const struct job *j)
{
    const uint64_t gen = w & ~CHUNK_MASK;
    uint64_t ran = 0;
    while ((w & ~CHUNK_MASK) == gen && (w & CHUNK_MASK) != 0) {
        if (atomic_compare_exchange_weak_explicit(&pool->work, &w, w - 1, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            if (ran == 0)
                stall();
            /* chunks in increasing order: the first claim takes chunk 0 */
            j->fn(j->arg, j->base + (size_t)(j->n - (w & CHUNK_MASK)));
            ran++;
            w--;
        }
    }
    return ran;
}

/* Add `ran` finished chunks of a job of `n`; true if that finished the job. */
static int add_done(nc_pool *pool, uint64_t ran, uint64_t n)
{
    return atomic_fetch_add(&pool->done, ran) + ran == n;
}

static void *worker_main(void *p)
{
    nc_pool *pool = p;
    uint64_t seen = 0; /* generation bits of the last job looked at; job 0 is the empty start */
    for (;;) {
        uint64_t w = atomic_load_explicit(&pool->work, memory_order_acquire);
        for (int i = 0; (w & ~CHUNK_MASK) == seen && wait_step(i); i++) {
            if (atomic_load_explicit(&pool->stop, memory_order_relaxed))
                return NULL;
            w = atomic_load_explicit(&pool->work, memory_order_acquire);
        }
        if ((w & ~CHUNK_MASK) == seen) {
            pthread_mutex_lock(&pool->mu);
            atomic_fetch_add(&pool->sleepers, 1);
            while (((w = atomic_load(&pool->work)) & ~CHUNK_MASK) == seen &&
                   !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->start_cv, &pool->mu);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load(&pool->stop))
            return NULL;
        seen = w & ~CHUNK_MASK;
        stall();
        /* Possibly the next job's fields already; then no claim succeeds and they go unused. */
        struct job j = {atomic_load_explicit(&pool->fn, memory_order_relaxed),
                        atomic_load_explicit(&pool->arg, memory_order_relaxed),
                        atomic_load_explicit(&pool->nchunks, memory_order_relaxed),
                        atomic_load_explicit(&pool->base, memory_order_relaxed)};
        uint64_t ran = run_chunks(pool, w, &j);
        if (ran && add_done(pool, ran, j.n) && atomic_load(&pool->caller_sleeping)) {
            pthread_mutex_lock(&pool->mu);
            pthread_cond_signal(&pool->done_cv);
            pthread_mutex_unlock(&pool->mu);
        }
    }
}

nc_pool *nc_pool_new(int nthreads)
{
    if (nthreads < 1 || nthreads > NC_POOL_MAX_THREADS)
        return NULL;
    /* aligned_alloc: the struct is cache-line aligned; its size is a multiple of its alignment */
    nc_pool *pool = aligned_alloc(_Alignof(nc_pool), sizeof *pool);
    if (!pool)
        return NULL;
    memset(pool, 0, sizeof *pool);
    pool->nthreads = 1; /* raised as workers start, so nc_pool_free can undo a partial start */
    atomic_init(&pool->work, 0);
    atomic_init(&pool->fn, NULL);
    atomic_init(&pool->arg, NULL);
    atomic_init(&pool->nchunks, 0);
    atomic_init(&pool->base, 0);
    atomic_init(&pool->sleepers, 0);
    atomic_init(&pool->stop, 0);
    atomic_init(&pool->done, 0);
    atomic_init(&pool->caller_sleeping, 0);
    if (pthread_mutex_init(&pool->mu, NULL) != 0)
        goto fail_mutex;
    if (pthread_cond_init(&pool->start_cv, NULL) != 0)
        goto fail_start;
    if (pthread_cond_init(&pool->done_cv, NULL) != 0)
        goto fail_done;
    if (nthreads > 1) {
        pool->workers = calloc((size_t)nthreads - 1, sizeof *pool->workers);
        if (!pool->workers)
            goto fail_threads;
    }
    for (int t = 1; t < nthreads; t++) {
        if (pthread_create(&pool->workers[t - 1], NULL, worker_main, pool) != 0)
            goto fail_threads;
        pool->nthreads = t + 1;
    }
    return pool;

fail_threads:
    nc_pool_free(pool); /* joins the workers that did start, destroys the sync objects */
    return NULL;
fail_done:
    pthread_cond_destroy(&pool->start_cv);
fail_start:
    pthread_mutex_destroy(&pool->mu);
fail_mutex:
    free(pool);
    return NULL;
}

void nc_pool_free(nc_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->mu);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->start_cv);
    pthread_mutex_unlock(&pool->mu);
    for (int t = 1; t < pool->nthreads; t++)
        pthread_join(pool->workers[t - 1], NULL);
    pthread_cond_destroy(&pool->done_cv);
    pthread_cond_destroy(&pool->start_cv);
    pthread_mutex_destroy(&pool->mu);
    free(pool->workers);
    free(pool);
}

int nc_pool_threads(const nc_pool *pool)
{
    return pool ? pool->nthreads : 1;
}

/* One job of n chunks (1 < n <= JOB_MAX_CHUNKS): chunk c runs fn(arg, base + c). */
static void run_job(nc_pool *pool, uint64_t n, size_t base, nc_pool_fn fn, void *arg)
{
    atomic_store_explicit(&pool->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&pool->arg, arg, memory_order_relaxed);
    atomic_store_explicit(&pool->nchunks, n, memory_order_relaxed);
    atomic_store_explicit(&pool->base, base, memory_order_relaxed);
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    /* Only the caller changes the generation, so a relaxed read of its own last value is exact. */
    uint64_t old = atomic_load_explicit(&pool->work, memory_order_relaxed);
    uint64_t w = ((old >> CHUNK_BITS) + 1) << CHUNK_BITS | n; /* generation wraps to 0 at 2^32 */
    stall(); /* tests: widen the window in which the fields are new and the word is old */
    atomic_store(&pool->work, w); /* release for the fields; seq_cst against `sleepers` */
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->mu);
        pthread_cond_broadcast(&pool->start_cv);
        pthread_mutex_unlock(&pool->mu);
    }

    struct job j = {fn, arg, n, base};
    uint64_t ran = run_chunks(pool, w, &j);
    if (add_done(pool, ran, n))
        return; /* the last chunk was ours: the others' writes came with the acq_rel addition */

    int i = 0;
    while (atomic_load_explicit(&pool->done, memory_order_acquire) != n && wait_step(i))
        i++;
    if (atomic_load_explicit(&pool->done, memory_order_acquire) != n) {
        pthread_mutex_lock(&pool->mu);
        atomic_store(&pool->caller_sleeping, 1);
        while (atomic_load(&pool->done) != n)
            pthread_cond_wait(&pool->done_cv, &pool->mu);
        atomic_store(&pool->caller_sleeping, 0);
        pthread_mutex_unlock(&pool->mu);
    }
}

void nc_pool_for(nc_pool *pool, size_t nchunks, nc_pool_fn fn, void *arg)
{
    if (!pool || pool->nthreads == 1 || nchunks <= 1) {
        for (size_t c = 0; c < nchunks; c++)
            fn(arg, c);
        return;
    }
    /* More than 2^32 - 1 chunks (not seen in nc) go as several jobs, one after the other. */
    for (size_t base = 0; base < nchunks;) {
        size_t left = nchunks - base;
        uint64_t n = left > JOB_MAX_CHUNKS ? JOB_MAX_CHUNKS : (uint64_t)left;
        run_job(pool, n, base, fn, arg);
        base += (size_t)n;
    }
}
