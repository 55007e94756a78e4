/* parallel.c — badak's one thread pool. The batch of a layer is split into
 * as many contiguous parts as there are threads, and each part runs on its
 * own core with single-threaded BLAS. For the shapes of these networks that
 * beats letting OpenBLAS split each product (its threads split small
 * matrices poorly and spin between calls), and it also spreads the
 * memory-bound loops (im2col, ReLU, pooling) over the cores.
 *
 * Determinism: the split depends only on the thread count, and every part
 * writes its own outputs (no sums cross parts), so a seed and a thread
 * count give the same numbers.
 *
 * The pool belongs to the thread that calls bd_set_threads (the main
 * thread); any other thread (hpsearch trials) runs its loops serially. */
#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>

#define MAX_THREADS 64

typedef struct pool {
    int nthreads;              /* parts per loop, the caller included */
    pthread_t tid[MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    atomic_long generation;    /* bumped for every loop */
    atomic_int pending;        /* workers still running the current loop */
    atomic_int stop;
    long start_gen;            /* the generation new workers have seen */
    /* the current loop, written before generation is bumped */
    bd__range_fn fn;
    void *ctx;
    int n;
} pool;

static pool g_pool = {.nthreads = 1,
                      .mu = PTHREAD_MUTEX_INITIALIZER,
                      .go = PTHREAD_COND_INITIALIZER,
                      .done = PTHREAD_COND_INITIALIZER};
static pthread_t g_owner;
static int g_has_owner;
static _Thread_local int t_serial; /* this thread runs loops serially */

/* A layer's loops come a few microseconds apart, and waking a sleeping
 * thread costs tens of microseconds, so both sides spin this many rounds
 * before they sleep on the condition variable. */
#define SPIN 20000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void run_part(const pool *p, int part)
{
    const int n = p->n, T = p->nthreads;
    const int lo = (int)((long)n * part / T), hi = (int)((long)n * (part + 1) / T);
    if (lo < hi)
        p->fn(p->ctx, lo, hi, part);
}

static void *worker(void *arg)
{
    const int part = (int)(intptr_t)arg;
    pool *p = &g_pool;
    /* not the current generation: a loop posted before this thread got
     * here must still be run by it */
    long seen = p->start_gen;
    t_serial = 1;
    for (;;) {
        for (int i = 0; i < SPIN && atomic_load(&p->generation) == seen && !atomic_load(&p->stop); i++)
            cpu_relax();
        if (atomic_load(&p->generation) == seen && !atomic_load(&p->stop)) {
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->go, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop))
            break;
        seen = atomic_load(&p->generation);
        run_part(p, part);
        if (atomic_fetch_sub(&p->pending, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

static void stop_workers(void)
{
    pool *p = &g_pool;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->nthreads; i++)
        pthread_join(p->tid[i], NULL);
    atomic_store(&p->stop, 0);
    p->nthreads = 1;
}

int bd__pool_resize(int n)
{
    if (n < 1)
        n = 1;
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    g_owner = pthread_self();
    g_has_owner = 1;
    if (n == g_pool.nthreads)
        return n;
    stop_workers();
    g_pool.start_gen = atomic_load(&g_pool.generation); /* read by the new workers */
    int started = 1;
    for (int i = 1; i < n; i++) {
        if (pthread_create(&g_pool.tid[i], NULL, worker, (void *)(intptr_t)i) != 0)
            break;
        started++;
    }
    g_pool.nthreads = started;
    return started;
}

void bd__set_serial(int serial) { t_serial = serial; }

int bd__parts(void)
{
    if (t_serial || !g_has_owner || g_pool.nthreads == 1 ||
        !pthread_equal(pthread_self(), g_owner))
        return 1;
    return g_pool.nthreads;
}

void bd__parallel_for(int n, bd__range_fn fn, void *ctx)
{
    if (n <= 0)
        return;
    if (bd__parts() == 1 || n == 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    pool *p = &g_pool;
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    atomic_store(&p->pending, p->nthreads - 1);
    /* bump under the lock, so a worker about to sleep sees it or is woken */
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    run_part(p, 0);
    for (int i = 0; i < SPIN && atomic_load(&p->pending) > 0; i++)
        cpu_relax();
    if (atomic_load(&p->pending) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->pending) > 0)
            pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}
