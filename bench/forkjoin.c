/* forkjoin.c — how many cores badak's pool turns into work. Not a test.
 *
 *   forkjoin THREADS [PART_US [SERIAL_US [SECONDS]]]
 *
 * The shape of a training step without its memory traffic: loops of pure
 * arithmetic on the pool (bd__parallel_for, split over THREADS threads;
 * the loop's work is THREADS x PART_US microseconds of one core) with
 * SERIAL_US of work on the caller between two loops, for SECONDS of wall
 * time. The work unit is calibrated on one thread first, so "cores" below
 * is the work done per wall second in cores' worth: 1 thread gives 1.00 on
 * a free core, 2 threads on 2 free cores at most (2 P + S) / (P + S) (the
 * serial stretch runs on one). bench_contended.sh runs it beside its busy
 * loop, against fairshare's ceiling (2 threads that never wait): the gap
 * between the two is what the pool's joins cost when the cores are taken.
 * Measured on a 2-vCPU guest: 1.85 cores alone; beside one busy loop 0.99
 * with 50 us parts and 1.04 with 3 ms parts, where fairshare got 1.31. A
 * loop ends when its slowest part does, and the thread that shares a core
 * with the busy loop runs in half the time slices: the other one waits.
 *
 * Output: one line,
 *   "forkjoin threads T part P us serial S us: cores C (cpu U) loops L alone A"
 * C the work per wall second in cores, U the CPU seconds per wall second,
 * L the loops run, A of them run by the caller alone (bd_pool_stats). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds_of(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* register arithmetic only: n units of it; the result is returned so that
 * the loop is not optimised away */
static unsigned work(long n, unsigned x)
{
    for (long i = 0; i < n; i++)
        for (int k = 0; k < 64; k++)
            x = x * 1664525u + 1013904223u;
    return x;
}

volatile unsigned g_sink;

typedef struct job {
    long units; /* per index of the loop */
    unsigned out[BD__MAX_PARTS];
} job;

static void part(void *ctx, int lo, int hi, int p)
{
    job *j = ctx;
    j->out[p] += work(j->units * (hi - lo), (unsigned)lo);
}

/* units of work() in one microsecond of one core */
static double calibrate(void)
{
    long n = 1000;
    for (;;) {
        const double t0 = seconds_of(CLOCK_THREAD_CPUTIME_ID);
        volatile unsigned x = work(n, 1);
        (void)x;
        const double dt = seconds_of(CLOCK_THREAD_CPUTIME_ID) - t0;
        if (dt > 0.2)
            return (double)n / (dt * 1e6);
        n *= 2;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "forkjoin: usage: forkjoin THREADS [PART_US [SERIAL_US [SECONDS]]]\n");
        return 2;
    }
    const int T = atoi(argv[1]);
    const double part_us = argc > 2 ? atof(argv[2]) : 50.0;
    const double serial_us = argc > 3 ? atof(argv[3]) : 5.0;
    const double secs = argc > 4 ? atof(argv[4]) : 2.0;
    if (T < 1 || T > BD__MAX_PARTS || !(part_us > 0) || serial_us < 0 || !(secs > 0)) {
        fprintf(stderr, "forkjoin: THREADS 1..%d, PART_US > 0, SERIAL_US >= 0, SECONDS > 0\n",
                BD__MAX_PARTS);
        return 2;
    }
    const double per_us = calibrate();
    /* a loop of 16 indices: T parts of 16 / T indices (T divides 16 for
     * 1, 2, 4, 8, 16), each index PART_US x T / 16 of work */
    const int n = 16;
    job j = {.units = (long)(per_us * part_us * T / n + 0.5)};
    const long serial = (long)(per_us * serial_us + 0.5);
    if (bd_set_threads(T) != T) {
        fprintf(stderr, "forkjoin: could not start %d threads\n", T);
        return 1;
    }
    long loops = 0;
    unsigned x = 1;
    const double c0 = seconds_of(CLOCK_PROCESS_CPUTIME_ID), w0 = seconds_of(CLOCK_MONOTONIC);
    double wall;
    while ((wall = seconds_of(CLOCK_MONOTONIC) - w0) < secs) {
        bd__parallel_for(n, part, &j);
        x = work(serial, x);
        loops++;
    }
    const double cpu = seconds_of(CLOCK_PROCESS_CPUTIME_ID) - c0;
    const double done_us = (double)loops * ((double)j.units * n + (double)serial) / per_us;
    long pl = 0, alone = 0;
    bd_pool_stats(&pl, &alone);
    g_sink = x ^ j.out[0]; /* the work's result is used */
    printf("forkjoin threads %d part %.0f us serial %.0f us: cores %.2f (cpu %.2f) loops %ld "
           "alone %ld\n",
           T, part_us, serial_us, done_us / (wall * 1e6), cpu / wall, loops, alone);
    return 0;
}
