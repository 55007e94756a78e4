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

/* badak's pool (parallel.c) is the only pool: it splits every layer's batch
 * over the threads, and each part calls OpenBLAS single-threaded, so no two
 * pools ever fight over the cores. */
int bd_set_threads(int n)
{
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    openblas_set_num_threads(1);
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
