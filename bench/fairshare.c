/* fairshare.c — `make bench-contended`'s ceiling probe. Not a test.
 *
 *   fairshare [THREADS [SECONDS]]     (default: 2 threads, 2 s)
 *
 * THREADS threads do nothing but arithmetic for SECONDS of wall time — no
 * locks, no waits, no memory traffic — and the probe prints the CPU
 * seconds the process got per wall second: the cores the scheduler gives
 * a THREADS-thread process that never waits. Alone on a free 2-core
 * machine that is 2.0; beside one CPU-bound process the kernel shares the
 * 2 cores among 3 runnable threads, so 2 of them get 4/3 (measured 1.33).
 * No thread pool can use more cores than that, so it bounds how fast a
 * 2-thread training run can be beside a busy process: the work of
 * `--threads 1` divided by these cores (bench_contended.sh prints it).
 *
 * Output: one line, "cores X.XX" (CPU s / wall s). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds_of(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double g_seconds = 2.0;

/* spin on register arithmetic until the wall time is up; the result is
 * returned so that the loop is not optimised away */
static void *spin(void *arg)
{
    const double t0 = seconds_of(CLOCK_MONOTONIC);
    volatile unsigned x = (unsigned)(size_t)arg;
    while (seconds_of(CLOCK_MONOTONIC) - t0 < g_seconds)
        for (int i = 0; i < 4096; i++)
            x = x * 1664525u + 1013904223u;
    return (void *)(size_t)x;
}

int main(int argc, char **argv)
{
    const int n = argc > 1 ? atoi(argv[1]) : 2;
    if (argc > 2)
        g_seconds = atof(argv[2]);
    if (n < 1 || n > 256 || !(g_seconds > 0.0)) {
        fprintf(stderr, "fairshare: usage: fairshare [THREADS 1..256 [SECONDS > 0]]\n");
        return 2;
    }
    pthread_t *t = malloc((size_t)n * sizeof *t);
    if (!t)
        return 1;
    const double w0 = seconds_of(CLOCK_MONOTONIC);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, spin, (void *)(size_t)(i + 1)) != 0) {
            fprintf(stderr, "fairshare: cannot start thread %d\n", i);
            return 1;
        }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    const double wall = seconds_of(CLOCK_MONOTONIC) - w0;
    printf("cores %.2f\n", seconds_of(CLOCK_PROCESS_CPUTIME_ID) / wall);
    free(t);
    return 0;
}
