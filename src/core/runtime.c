/* runtime.c — threads, denormals, clocks and memory figures. */
#include "internal.h"

#include <cblas.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define BD_HAVE_MXCSR 1
#endif

static int g_threads = 0;

/* OpenBLAS's (pthreads build) stop for its server threads: exported, but in
 * no header (its fork handler calls it). Weak: NULL with a BLAS that has
 * none (the serial build, another CBLAS). */
extern int blas_thread_shutdown_(void) __attribute__((weak));

/* badak's pool (parallel.c) is the only pool: it splits every layer's batch
 * over the threads, and each part calls OpenBLAS single-threaded, so no two
 * pools ever fight over the cores. OpenBLAS starts its own threads when it
 * is loaded, and each spins in sched_yield for about 2^28 cycles (~0.1 s)
 * before it sleeps: on 2 cores one of them competes with the pool for the
 * first tenth of every command (12% of `badak eval`'s samples in perf; no
 * wall-clock gain was measurable on a noisy machine, docs/speed.md). With
 * one BLAS thread they have nothing to do, so they are stopped here;
 * OpenBLAS starts them again if it is ever given more threads (hpsearch
 * restores its count). */
int bd_set_threads(int n)
{
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_)
        blas_thread_shutdown_();
    n = bd__pool_resize(n);
    g_threads = n;
    return n;
}

int bd_get_threads(void)
{
    if (g_threads == 0) /* never set: OpenBLAS's own pool, at its default */
        return openblas_get_num_threads();
    return g_threads;
}

unsigned bd_flush_denormals(void)
{
#ifdef BD_HAVE_MXCSR
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040); /* FTZ (bit 15) | DAZ (bit 6) */
    return old;
#else
    return 0;
#endif
}

void bd_restore_denormals(unsigned saved)
{
#ifdef BD_HAVE_MXCSR
    _mm_setcsr(saved);
#else
    (void)saved;
#endif
}

size_t bd_peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (size_t)ru.ru_maxrss * 1024; /* Linux reports KiB */
}

double bd_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
