/* A small fixed thread pool with a static parallel-for.
 *
 * Determinism does not come from the pool: nc kernels make every output element the business of
 * exactly one chunk and fix the element's operation order without reference to the split. The pool
 * only has to run every chunk exactly once and return after all have finished. It still splits
 * statically (thread t runs chunks [t*n/T, (t+1)*n/T), the caller being thread 0) so that which
 * thread touched what is reproducible when debugging.
 *
 * Hand-off: the caller publishes the job and bumps `generation`; workers notice it either while
 * spinning for a short while after their previous job (cheap for the many small per-timestep
 * products) or, after that, asleep on a condition variable. Completion is counted down in `pending`
 * the same way. Every change that a sleeper waits for is made under the mutex, so no wake-up can be
 * lost. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "nc/nc.h"

/* Spin iterations before sleeping; a pause is tens of cycles, so this is some tens of microseconds. */
#define SPIN_LIMIT 4096

struct nc_pool {
    int nthreads; /* including the caller */
    pthread_t *workers; /* nthreads - 1 */
    pthread_mutex_t mu;
    pthread_cond_t start_cv, done_cv;
    /* The current job; written by the caller before `generation` is bumped. */
    nc_pool_fn fn;
    void *arg;
    size_t nchunks;
    atomic_uint generation;
    atomic_int pending; /* workers still running the current job */
    atomic_int stop;
};

struct worker_arg {
    nc_pool *pool;
    int index;
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void run_share(nc_pool *pool, int t)
{
    size_t n = pool->nchunks, T = (size_t)pool->nthreads;
    size_t begin = n * (size_t)t / T, end = n * (size_t)(t + 1) / T;
    for (size_t c = begin; c < end; c++)
        pool->fn(pool->arg, c);
}

static void *worker_main(void *p)
{
    struct worker_arg wa = *(struct worker_arg *)p;
    free(p);
    nc_pool *pool = wa.pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g = atomic_load(&pool->generation);
        for (int spin = 0; g == seen && spin < SPIN_LIMIT && !atomic_load(&pool->stop); spin++) {
            cpu_relax();
            g = atomic_load(&pool->generation);
        }
        if (g == seen) {
            pthread_mutex_lock(&pool->mu);
            while ((g = atomic_load(&pool->generation)) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->start_cv, &pool->mu);
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load(&pool->stop))
            return NULL;
        seen = g;
        run_share(pool, wa.index);
        if (atomic_fetch_sub(&pool->pending, 1) == 1) {
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
    nc_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->nthreads = 1; /* raised as workers start, so nc_pool_free can undo a partial start */
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->stop, 0);
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
        struct worker_arg *wa = malloc(sizeof *wa);
        if (!wa)
            goto fail_threads;
        wa->pool = pool;
        wa->index = t;
        if (pthread_create(&pool->workers[t - 1], NULL, worker_main, wa) != 0) {
            free(wa);
            goto fail_threads;
        }
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

void nc_pool_for(nc_pool *pool, size_t nchunks, nc_pool_fn fn, void *arg)
{
    if (!pool || pool->nthreads == 1 || nchunks <= 1) {
        for (size_t c = 0; c < nchunks; c++)
            fn(arg, c);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    pool->nchunks = nchunks;
    atomic_store(&pool->pending, pool->nthreads - 1);
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add(&pool->generation, 1);
    pthread_cond_broadcast(&pool->start_cv);
    pthread_mutex_unlock(&pool->mu);

    run_share(pool, 0);

    for (int spin = 0; atomic_load(&pool->pending) != 0 && spin < SPIN_LIMIT; spin++)
        cpu_relax();
    if (atomic_load(&pool->pending) != 0) {
        pthread_mutex_lock(&pool->mu);
        while (atomic_load(&pool->pending) != 0)
            pthread_cond_wait(&pool->done_cv, &pool->mu);
        pthread_mutex_unlock(&pool->mu);
    }
}
