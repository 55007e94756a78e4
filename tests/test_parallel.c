/* test_parallel.c — the thread pool (src/core/parallel.c): every part of a
 * loop runs exactly once on the fixed split of its thread count, whichever
 * thread claims it, also when there are more threads than cores (the case
 * of a busy machine) and across resizes. */
#define _GNU_SOURCE
#include "testutil.h"
#include "internal.h"

#include <cblas.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#define MAXN 64

typedef struct rec {
    int T;
    atomic_int runs[MAXN];     /* parts run, by part */
    atomic_int lo[MAXN], hi[MAXN];
    atomic_int bad;            /* a part with the wrong range */
    atomic_int elems[4096];    /* times each element was covered */
} rec;

static void record(void *ctx, int lo, int hi, int part)
{
    rec *r = ctx;
    if (part < 0 || part >= r->T) {
        atomic_fetch_add(&r->bad, 1);
        return;
    }
    atomic_fetch_add(&r->runs[part], 1);
    atomic_store(&r->lo[part], lo);
    atomic_store(&r->hi[part], hi);
    for (int i = lo; i < hi; i++)
        atomic_fetch_add(&r->elems[i], 1);
}

/* one loop of n elements on a pool of T threads, checked against the split:
 * min(n, T) parts (1 when serial), none empty, contiguous, in order, each
 * [n p / P, n (p + 1) / P) and run once, as bd__split_range says */
static void check_loop(rec *r, int n, int T)
{
    memset(r, 0, sizeof *r);
    r->T = T;
    bd__parallel_for(n, record, r);
    assert_int_equal(atomic_load(&r->bad), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(atomic_load(&r->elems[i]), 1);
    const int P = bd__split_parts(n);
    assert_int_equal(P, n == 1 ? 1 : (T < n ? T : n));
    int next = 0;
    for (int p = 0; p < P; p++) {
        int lo, hi;
        bd__split_range(n, P, p, &lo, &hi);
        assert_int_equal(lo, (int)((long)n * p / P));
        assert_int_equal(hi, (int)((long)n * (p + 1) / P));
        assert_int_equal(lo, next);
        assert_true(lo < hi);
        next = hi;
        assert_int_equal(atomic_load(&r->runs[p]), 1);
        assert_int_equal(atomic_load(&r->lo[p]), lo);
        assert_int_equal(atomic_load(&r->hi[p]), hi);
    }
    assert_int_equal(next, n);
    for (int p = P; p < T; p++)
        assert_int_equal(atomic_load(&r->runs[p]), 0);
}

static void loops_cover_each_part_once(void **st)
{
    rec *r = malloc(sizeof *r);
    const int counts[] = {2, 3, 4, 1, 7};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        const int T = bd_set_threads(counts[c]);
        assert_int_equal(T, counts[c]);
        assert_int_equal(bd__parts(), T);
        for (int round = 0; round < 3000; round++)
            check_loop(r, 1 + round % 300, T);
        check_loop(r, T > 1 ? T - 1 : 1, T); /* fewer elements than parts */
    }
    bd_set_threads(1);
    free(r);
}

/* Four threads pinned to one CPU: the workers are preempted all the time
 * (what one competing process does to a 2-core pool), and every loop must
 * still complete with the same split. */
static void oversubscribed_one_cpu(void **st)
{
    cpu_set_t old, one;
    assert_int_equal(sched_getaffinity(0, sizeof old, &old), 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &old))
        cpu++;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    bd_set_threads(1);
    const int T = bd_set_threads(4); /* the new workers inherit the mask */
    rec *r = malloc(sizeof *r);
    for (int round = 0; round < 2000; round++)
        check_loop(r, 5 + round % 200, T);
    bd_set_threads(1);
    assert_int_equal(sched_setaffinity(0, sizeof old, &old), 0);
    free(r);
}

/* Owner first: part i runs on thread i (the caller is 0) whenever every
 * thread is there to take its own. Each part here waits until all parts
 * have started (so nobody has finished its own part and could take another
 * one): then every part must be on its owner. With parts handed to
 * whichever thread came first they were on random threads. */
typedef struct owners {
    int T;
    atomic_int started, late;
    atomic_int on[MAXN];
} owners;

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void wait_all(void *ctx, int lo, int hi, int part)
{
    owners *o = ctx;
    atomic_store(&o->on[part], bd__pool_self());
    atomic_fetch_add(&o->started, 1);
    /* a worker asleep takes a wake-up to come: no deadline but a hang guard */
    const double t0 = wall_s();
    while (atomic_load(&o->started) < o->T)
        if (wall_s() - t0 > 60.0) {
            atomic_store(&o->late, 1);
            return;
        }
}

static void parts_run_on_their_owners(void **st)
{
    owners o;
    for (int T = 2; T <= 4; T++) {
        assert_int_equal(bd_set_threads(T), T);
        for (int round = 0; round < 200; round++) {
            memset(&o, 0, sizeof o);
            o.T = T;
            bd__parallel_for(T + round % 50, wait_all, &o);
            assert_int_equal(atomic_load(&o.late), 0);
            for (int p = 0; p < T; p++)
                assert_int_equal(atomic_load(&o.on[p]), p);
        }
    }
    assert_int_equal(bd__pool_self(), 0);
    bd_set_threads(1);
}

/* Loops from a thread that is not the pool's owner run serially. */
static void *other_thread(void *arg)
{
    rec *r = arg;
    memset(r, 0, sizeof *r);
    r->T = 1;
    bd__parallel_for(100, record, r);
    return NULL;
}

static void other_threads_run_serially(void **st)
{
    bd_set_threads(2);
    rec *r = malloc(sizeof *r);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, r), 0);
    pthread_join(t, NULL);
    assert_int_equal(atomic_load(&r->runs[0]), 1);
    assert_int_equal(atomic_load(&r->hi[0]), 100);
    assert_int_equal(atomic_load(&r->bad), 0);
    bd_set_threads(1);
    free(r);
}

/* The busy-machine rule (parallel.c): a window of 256 pool loops in which
 * at least half had a part stolen starts a stretch the caller runs alone,
 * 256 loops first, doubling while windows stay bad, back to 256 after a
 * window without a steal; a loop run alone runs every part, with the
 * pool's split, on the caller. */
static void note_window(int stolen)
{
    for (int i = 0; i < 256; i++)
        bd__pool_note_loop(i < stolen);
}

static void on_thread(void *ctx, int lo, int hi, int part)
{
    owners *o = ctx;
    (void)lo, (void)hi;
    atomic_store(&o->on[part], bd__pool_self() + 1);
}

static void busy_machine_runs_alone(void **st)
{
    char busy[32];
    runq_file(busy, 1000); /* the run queue: more runnable threads than any CPU count */
    bd__pool_set_runq(busy);
    assert_int_equal(bd_set_threads(2), 2);
    assert_int_equal(bd__pool_solo_left(), 0);
    note_window(127); /* under half: the pool stays */
    assert_int_equal(bd__pool_solo_left(), 0);
    note_window(128);
    assert_int_equal(bd__pool_solo_left(), 256);
    /* alone: the same split, each part once, all on the caller */
    rec *r = malloc(sizeof *r);
    const long before = bd__pool_solo_loops();
    check_loop(r, 100, 2);
    free(r);
    owners o;
    memset(&o, 0, sizeof o);
    bd__parallel_for(10, on_thread, &o);
    assert_int_equal(atomic_load(&o.on[0]), 1);
    assert_int_equal(atomic_load(&o.on[1]), 1);
    assert_int_equal(bd__pool_solo_loops() - before, 2);
    assert_int_equal(bd__pool_solo_left(), 254);
    note_window(256); /* still busy: the next stretch is twice as long */
    assert_int_equal(bd__pool_solo_left(), 512);
    note_window(1); /* some stealing: no stretch, the length is kept */
    note_window(200);
    assert_int_equal(bd__pool_solo_left(), 1024);
    note_window(0); /* a clean window: back to the shortest */
    note_window(128);
    assert_int_equal(bd__pool_solo_left(), 256);
    for (int i = 0; i < 5; i++)
        note_window(256);
    assert_int_equal(bd__pool_solo_left(), 4096); /* the longest */
    note_window(256);
    assert_int_equal(bd__pool_solo_left(), 4096);
    /* a resize (bd_set_threads) forgets the rule's state */
    assert_int_equal(bd_set_threads(2), 2);
    assert_int_equal(bd__pool_solo_left(), 0);
    note_window(128);
    assert_int_equal(bd__pool_solo_left(), 256);
    /* the stretch ends: its 256 loops run alone, the next on the pool */
    r = malloc(sizeof *r);
    const long start = bd__pool_solo_loops();
    long loops0, alone0, loops1, alone1;
    bd_pool_stats(&loops0, &alone0);
    for (int i = 0; i < 256; i++)
        check_loop(r, 7, 2);
    assert_int_equal(bd__pool_solo_loops() - start, 256);
    assert_int_equal(bd__pool_solo_left(), 0);
    bd_pool_stats(&loops1, &alone1); /* the public counters say the same */
    assert_int_equal(loops1 - loops0, 256);
    assert_int_equal(alone1 - alone0, 256);
    check_loop(r, 7, 2);
    assert_int_equal(bd__pool_solo_loops() - start, 256);
    bd_pool_stats(&loops1, &alone1); /* a loop on the pool: counted, not alone */
    assert_int_equal(loops1 - loops0, 257);
    assert_int_equal(alone1 - alone0, 256);
    owners one;
    memset(&one, 0, sizeof one);
    bd__parallel_for(1, on_thread, &one); /* one part: no pool loop */
    bd_pool_stats(&loops1, NULL);
    assert_int_equal(loops1 - loops0, 257);
    free(r);
    bd_set_threads(1);
    bd__pool_set_runq(NULL);
    unlink(busy);
}

/* Stolen parts on a free machine (a virtual machine's slow wake-ups) start
 * no stretch: the run queue must say the cores are taken too; where it
 * cannot be read, the stolen loops decide alone. */
static void stolen_on_free_cores_stays_on_pool(void **st)
{
    char free_q[32], busy[32];
    runq_file(free_q, 1); /* this thread alone is runnable */
    runq_file(busy, 1000);
    bd__pool_set_runq(free_q);
    assert_int_equal(bd_set_threads(2), 2);
    note_window(256);
    assert_int_equal(bd__pool_solo_left(), 0);
    note_window(128);
    assert_int_equal(bd__pool_solo_left(), 0);
    /* the loops still run on the pool, on their owners' split */
    rec *r = malloc(sizeof *r);
    const long before = bd__pool_solo_loops();
    check_loop(r, 100, 2);
    assert_int_equal(bd__pool_solo_loops(), before);
    /* the same windows with the cores taken: a stretch of the shortest
     * length (free windows neither lengthened nor reset it) */
    bd__pool_set_runq(busy);
    note_window(128);
    assert_int_equal(bd__pool_solo_left(), 256);
    /* a run queue that cannot be read: stealing decides, as before */
    assert_int_equal(bd_set_threads(2), 2);
    bd__pool_set_runq("/nonexistent/badak/loadavg");
    note_window(128);
    assert_int_equal(bd__pool_solo_left(), 256);
    /* an empty one (no "R/T" field): the same */
    assert_int_equal(bd_set_threads(2), 2);
    bd__pool_set_runq("/dev/null");
    note_window(200);
    assert_int_equal(bd__pool_solo_left(), 256);
    free(r);
    bd_set_threads(1);
    bd__pool_set_runq(NULL);
    unlink(free_q);
    unlink(busy);
}

/* The kernel's own file parses: on whatever machine runs the tests, the
 * rule either starts the stretch or not, and never breaks the loops. */
static void kernel_run_queue_is_read(void **st)
{
    bd__pool_set_runq(NULL);
    assert_int_equal(bd_set_threads(2), 2);
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        double a, b, c;
        long running;
        assert_int_equal(fscanf(f, "%lf %lf %lf %ld/", &a, &b, &c, &running), 4);
        assert_true(running >= 1); /* this thread */
        fclose(f);
    }
    note_window(256);
    assert_true(bd__pool_solo_left() == 0 || bd__pool_solo_left() == 256);
    rec *r = malloc(sizeof *r);
    check_loop(r, 100, 2);
    free(r);
    bd_set_threads(1);
}

/* threads of this process (/proc/self/status), 0 if unknown */
static int process_threads(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

/* The pool is the only pool: after bd_set_threads(2) the process runs the
 * caller and one worker, not OpenBLAS's server threads too (they spin at
 * start-up); a BLAS given threads again afterwards still multiplies right. */
static void blas_threads_stopped(void **st)
{
    assert_int_equal(bd_set_threads(2), 2);
    const int n = process_threads();
#ifndef __SANITIZE_THREAD__ /* ThreadSanitizer runs a thread of its own */
    if (n)
        assert_int_equal(n, 2);
#else
    (void)n;
#endif
    enum { S = 256 };
    float *a = malloc(sizeof(float) * 4 * S * S), *b = a + S * S, *c1 = b + S * S,
          *c2 = c1 + S * S;
    bd_rng r;
    bd_rng_seed(&r, 2);
    for (int i = 0; i < 2 * S * S; i++)
        a[i] = bd_rng_uniform(&r) - 0.5f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, S, S, S, 1.0f, a, S, b, S, 0.0f, c1, S);
    openblas_set_num_threads(2); /* as hpsearch restores it */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, S, S, S, 1.0f, a, S, b, S, 0.0f, c2, S);
    for (int i = 0; i < S * S; i++)
        assert_close(c2[i], c1[i], 1e-4);
    openblas_set_num_threads(1);
    free(a);
    bd_set_threads(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loops_cover_each_part_once),
        cmocka_unit_test(oversubscribed_one_cpu),
        cmocka_unit_test(parts_run_on_their_owners),
        cmocka_unit_test(other_threads_run_serially),
        cmocka_unit_test(busy_machine_runs_alone),
        cmocka_unit_test(stolen_on_free_cores_stays_on_pool),
        cmocka_unit_test(kernel_run_queue_is_read),
        cmocka_unit_test(blas_threads_stopped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
