/* parallel.c — badak's one thread pool. The batch of a layer is split into
 * as many contiguous parts as there are threads, and each part runs with
 * single-threaded BLAS. For the shapes of these networks that beats letting
 * OpenBLAS split each product (its threads split small matrices poorly and
 * spin between calls), and it also spreads the memory-bound loops (im2col,
 * ReLU, pooling) over the cores.
 *
 * Determinism: the split into parts depends only on the thread count (a
 * loop of n gets min(n, threads) parts: bd__split_parts, bd__split_range), and
 * every part writes its own outputs (a part's sums are added in part order
 * by the caller), so a seed and a thread count give the same numbers —
 * whichever thread happens to run a part.
 *
 * Owner first: part i of a loop belongs to thread i (the caller is thread
 * 0), so on an idle machine a layer's part i runs on the core that ran part
 * i of the layer before, where that part's rows are still in L2 (with the
 * first free thread taking the next part, which part ran where changed
 * from loop to loop and a sample's feature maps moved between the cores'
 * caches between layers). A busy machine: a thread that has run its own
 * part takes (steals) any part whose owner has not claimed it yet, the
 * caller included; so when a worker has been preempted by another process
 * the caller runs that worker's part too, instead of waiting a scheduler
 * time slice for it (the static split cost 7x with one competing process).
 * Waiting is adaptive: spin a short, self-tuning while (a layer's loops come
 * microseconds apart, and waking a sleeper costs tens of microseconds), then
 * sleep on a futex, so idle threads give their core back.
 *
 * Alone when the cores are taken: stealing keeps a preempted worker from
 * stalling a loop, but each loop still wakes the workers, waits for them
 * and moves rows between caches, and a waking worker takes CPU time from
 * the caller's share of a busy machine; beside one CPU-bound process the
 * default two threads were 1.23x slower than --threads 1. So the caller
 * watches windows of SOLO_WINDOW loops: when other threads' parts were
 * stolen (run by a thread that does not own them) in at least half the
 * loops of a window, the owners were not getting a core, and the caller
 * runs the next solo_len loops alone — every part, in part order, without
 * waking anyone — then tries the pool again for a window. solo_len doubles
 * while the machine stays busy (SOLO_MIN .. SOLO_MAX loops) and falls back
 * to SOLO_MIN after a window without stealing. Idle, parts are stolen in
 * under 1% of the loops (measured: chapter-5 38 of 57,140, simple_convnet
 * 1 of 5,100), beside a busy process in 58-82%. Idle steals come in
 * clusters (a worker asleep after a serial stretch misses the next loops
 * while it wakes): with 32-loop windows a network whose steps had longer
 * serial stretches ran 24,512 of 49,288 loops alone on a free machine, so
 * the window is 256 loops. The parts and their order of summation do not
 * change, so the numbers are the same bits.
 *
 * Stealing alone is not proof: on a virtual machine whose idle vCPUs wake
 * slowly (a 2-vCPU AMD EPYC guest with 10-15% host steal), a free machine
 * had stolen parts in 30-60% of the loops of deep_convnet, and whole
 * windows of them sent 2-thread runs alone for 1,052 loops: one core for
 * runs that then took as long as --threads 1 (simple_convnet 4.6 s against
 * 2.4-2.9 s on the pool). So a bad window starts a stretch only when the
 * kernel's run queue also says the cores are taken: more runnable threads
 * (the fourth field of /proc/loadavg, ours counted as all runnable) than
 * online CPUs. Beside a CPU-bound process that is 3 of 2 while our worker
 * is preempted or spinning; on a free machine at most 2. Where the file
 * cannot be read, stealing decides alone, as before.
 *
 * The pool belongs to the thread that calls bd_set_threads (the main
 * thread); any other thread (hpsearch trials) runs its loops serially. */
#include "internal.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#ifdef __linux__
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#include <sched.h>
#endif

#define MAX_THREADS BD__MAX_PARTS
#define FULL (~(uint64_t)0) /* every part claimed: no loop to join */

typedef struct pool {
    int nthreads;             /* threads, the caller included */
    pthread_t tid[MAX_THREADS];
    atomic_uint word;         /* futex: a generation, bumped per loop; the workers sleep on it */
    _Atomic uint64_t claimed; /* bit i: part i of the current loop is taken (FULL when idle) */
    atomic_uint remaining;    /* futex: parts of the current loop not yet done */
    atomic_int sleepers;      /* workers asleep (or about to be) on word */
    atomic_int caller_asleep; /* the caller sleeps on remaining */
    atomic_int stop;
    /* the current loop, written before claimed is reset */
    bd__range_fn fn;
    void *ctx;
    int n;
    atomic_int parts; /* also read before a claim, to know if a thread has a part */
    atomic_int stolen; /* a part of the current loop ran on a thread that does not own it */
} pool;

static pool g_pool = {.nthreads = 1, .claimed = FULL};
static pthread_t g_owner;
static int g_has_owner;
static _Thread_local int t_serial; /* this thread runs loops serially */
static _Thread_local int t_self;   /* this thread's index in the pool: 0 the caller */
/* the spin budget of this thread's waits, in ns: doubled when a wait ends
 * while spinning, halved when it had to sleep */
static _Thread_local long t_spin_ns;

#define SPIN_MIN_NS 2000L
#define SPIN_MAX_NS 200000L

/* running alone on a busy machine (the head comment): the caller's state,
 * touched only by the pool's owner thread */
#define SOLO_WINDOW 256
#define SOLO_MIN 256
#define SOLO_MAX 4096
/* the run queue's file (bd__pool_set_runq): NULL, the kernel's */
static const char *g_runq_path;

static struct {
    int solo_left;   /* loops still to run alone */
    int solo_len;    /* the next solo stretch */
    int win_loops;   /* loops of the current pool window */
    int win_stolen;  /* of them, loops where a part was stolen */
    long solo_loops; /* loops run alone so far (bd__pool_solo_loops) */
    long loops;      /* loops of more than one part so far, alone or not */
} g_solo = {.solo_len = SOLO_MIN};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void futex_wait(atomic_uint *addr, unsigned val)
{
#ifdef __linux__
    syscall(SYS_futex, (unsigned *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
#else
    (void)addr, (void)val;
    sched_yield();
#endif
}

static void futex_wake(atomic_uint *addr, int count)
{
#ifdef __linux__
    syscall(SYS_futex, (unsigned *)addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
#else
    (void)addr, (void)count;
#endif
}

/* Spin while *addr == val, for at most this thread's budget; 1 if it
 * changed meanwhile. The budget adapts to how long waits have been. */
static int spin_while(atomic_uint *addr, unsigned val)
{
    if (t_spin_ns == 0)
        t_spin_ns = SPIN_MAX_NS / 4;
    const long t0 = now_ns();
    for (;;) {
        for (int i = 0; i < 64; i++) {
            if (atomic_load_explicit(addr, memory_order_acquire) != val) {
                if (t_spin_ns < SPIN_MAX_NS)
                    t_spin_ns *= 2;
                return 1;
            }
            cpu_relax();
        }
        if (now_ns() - t0 > t_spin_ns)
            break;
    }
    if (t_spin_ns > SPIN_MIN_NS)
        t_spin_ns /= 2;
    return 0;
}

/* the one formula of the split: part p of T gets [n p / T, n (p + 1) / T) */
void bd__split_range(int n, int T, int p, int *lo, int *hi)
{
    *lo = (int)((long)n * p / T);
    *hi = (int)((long)n * (p + 1) / T);
}

static void run_part(const pool *p, int part)
{
    int lo, hi;
    bd__split_range(p->n, atomic_load_explicit(&p->parts, memory_order_relaxed), part, &lo, &hi);
    p->fn(p->ctx, lo, hi, part);
}

/* Take part k of the current loop: 1 if this thread got it. A thread still
 * in an older loop may try too: every bit of a finished loop is set, and a
 * reset mask has bits set for the parts a loop does not have, so a claim
 * only ever succeeds on a part of the current loop (whose fn, ctx, n the
 * acquire makes visible). */
static int claim(pool *p, int k)
{
    const uint64_t bit = (uint64_t)1 << k;
    return !(atomic_fetch_or_explicit(&p->claimed, bit, memory_order_acq_rel) & bit);
}

static void part_done(pool *p)
{
    if (atomic_fetch_sub(&p->remaining, 1) == 1 && atomic_load(&p->caller_asleep))
        futex_wake(&p->remaining, 1);
}

/* Run this thread's own part, then any part nobody has claimed yet (its
 * owner is late: preempted, or still waking up), until none is left. The
 * own part is looked for first at every turn: a thread still stealing when
 * the next loop opens takes its own part of that loop before another's.
 * A thread without a part of its own (a loop of fewer parts than threads)
 * stays out, so part 0 is always the caller's. */
static void run_claimed(pool *p)
{
    const int self = t_self;
    uint64_t c;
    while ((c = atomic_load_explicit(&p->claimed, memory_order_acquire)) != FULL) {
        if (self >= atomic_load_explicit(&p->parts, memory_order_relaxed))
            return;
        const int k = !(c >> self & 1) ? self : __builtin_ctzll(~c);
        if (claim(p, k)) {
            if (k != self)
                atomic_store_explicit(&p->stolen, 1, memory_order_relaxed);
            run_part(p, k);
            part_done(p);
        }
    }
}

static void *worker(void *arg)
{
    pool *p = &g_pool;
    t_serial = 1;
    t_self = (int)(intptr_t)arg;
    for (;;) {
        run_claimed(p);
        if (atomic_load(&p->stop))
            break;
        /* the generation first, then the mask: a loop published after
         * this load moves word, so the wait below returns at once */
        const unsigned w = atomic_load(&p->word);
        const uint64_t c = atomic_load(&p->claimed);
        if (c != FULL && t_self < atomic_load_explicit(&p->parts, memory_order_relaxed))
            continue; /* a new loop came meanwhile, with a part for this thread */
        if (spin_while(&p->word, w))
            continue;
        atomic_fetch_add(&p->sleepers, 1);
        if (!atomic_load(&p->stop))
            futex_wait(&p->word, w); /* returns at once if word moved */
        atomic_fetch_sub(&p->sleepers, 1);
    }
    return NULL;
}

/* Publish a new generation (a loop, or the stop request) and wake the
 * sleepers. */
static void publish(pool *p)
{
    atomic_fetch_add(&p->word, 1);
    if (atomic_load(&p->sleepers) > 0)
        futex_wake(&p->word, INT_MAX);
}

static void stop_workers(void)
{
    pool *p = &g_pool;
    atomic_store(&p->stop, 1);
    publish(p);
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
    g_solo.solo_left = g_solo.win_loops = g_solo.win_stolen = 0;
    g_solo.solo_len = SOLO_MIN;
    if (n == g_pool.nthreads)
        return n;
    stop_workers();
    /* nthreads is read by the workers: set it before they start; if
     * fewer start, fewer parts (no loop is running, so it may change) */
    g_pool.nthreads = n;
    for (int i = 1; i < n; i++)
        if (pthread_create(&g_pool.tid[i], NULL, worker, (void *)(intptr_t)i) != 0) {
            g_pool.nthreads = i;
            break;
        }
    return g_pool.nthreads;
}

void bd__set_serial(int serial) { t_serial = serial; }

int bd__pool_self(void) { return t_self; }

int bd__parts(void)
{
    if (t_serial || !g_has_owner || g_pool.nthreads == 1 ||
        !pthread_equal(pthread_self(), g_owner))
        return 1;
    return g_pool.nthreads;
}

/* Wait until every part of the current loop is done (some may still run
 * on workers that claimed them). */
static void wait_done(pool *p)
{
    unsigned r;
    while ((r = atomic_load(&p->remaining)) != 0) {
        if (spin_while(&p->remaining, r))
            continue;
        atomic_store(&p->caller_asleep, 1);
        if (atomic_load(&p->remaining) == r)
            futex_wait(&p->remaining, r);
        atomic_store(&p->caller_asleep, 0);
    }
}

int bd__split_parts(int n) { return n <= 1 ? 1 : BD_MIN(bd__parts(), n); }

void bd__pool_set_runq(const char *path) { g_runq_path = path; }

/* Are the cores taken? More runnable threads than online CPUs in the run
 * queue (loadavg's "R/T" field: R counts this thread, and the pool's other
 * threads when they spin or were preempted); 1 when it cannot be read (the
 * stolen loops decide alone). Read once per bad window, not per loop. */
static int cores_taken(void)
{
#ifdef __linux__
    const int fd = open(g_runq_path ? g_runq_path : "/proc/loadavg", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    char buf[128];
    const ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0)
        return 1;
    buf[len] = '\0';
    double a1, a5, a15;
    long running;
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (sscanf(buf, "%lf %lf %lf %ld/", &a1, &a5, &a15, &running) != 4 || cpus <= 0)
        return 1;
    return running > cpus;
#else
    return 1;
#endif
}

/* One loop of the window done; stolen: a part of it was. At a window's end,
 * decide whether the next loops run alone: a window with stolen parts in
 * half its loops, on cores that other threads want too. */
void bd__pool_note_loop(int stolen)
{
    g_solo.win_stolen += stolen != 0;
    if (++g_solo.win_loops < SOLO_WINDOW)
        return;
    if (2 * g_solo.win_stolen >= SOLO_WINDOW && cores_taken()) {
        g_solo.solo_left = g_solo.solo_len;
        if (g_solo.solo_len < SOLO_MAX)
            g_solo.solo_len *= 2;
    } else if (g_solo.win_stolen == 0) {
        g_solo.solo_len = SOLO_MIN;
    }
    g_solo.win_loops = g_solo.win_stolen = 0;
}

int bd__pool_solo_left(void) { return g_solo.solo_left; }

long bd__pool_solo_loops(void) { return g_solo.solo_loops; }

void bd_pool_stats(long *loops, long *alone)
{
    if (loops)
        *loops = g_solo.loops;
    if (alone)
        *alone = g_solo.solo_loops;
}

/* every part of the loop on the caller, in part order: what the pool would
 * compute, the same bits */
static void run_alone(int n, int T, bd__range_fn fn, void *ctx)
{
    g_solo.solo_left--;
    g_solo.solo_loops++;
    for (int k = 0; k < T; k++) {
        int lo, hi;
        bd__split_range(n, T, k, &lo, &hi);
        fn(ctx, lo, hi, k);
    }
}

void bd__parallel_for(int n, bd__range_fn fn, void *ctx)
{
    if (n <= 0)
        return;
    if (bd__split_parts(n) == 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    pool *p = &g_pool;
    const int T = bd__split_parts(n);
    /* a loop inside a part runs serially on the part's thread (workers
     * always do): the pool runs one loop at a time */
    t_serial = 1;
    g_solo.loops++;
    if (g_solo.solo_left > 0) {
        run_alone(n, T, fn, ctx);
        t_serial = 0;
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    atomic_store_explicit(&p->parts, T, memory_order_relaxed);
    atomic_store(&p->remaining, (unsigned)T);
    /* parts 0..T-1 open: the release makes fn, ctx, n, parts visible to
     * whoever claims one; then the new generation wakes the workers */
    atomic_store_explicit(&p->claimed, T == 64 ? 0 : FULL << T, memory_order_release);
    publish(p);
    run_claimed(p);
    t_serial = 0;
    wait_done(p);
    bd__pool_note_loop(atomic_exchange_explicit(&p->stolen, 0, memory_order_relaxed));
}
