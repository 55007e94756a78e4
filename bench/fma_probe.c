/* fma_probe.c — `make bench`'s measure of one core: the GFLOP/s of
 * independent fused multiply-adds in registers on one thread (no memory),
 * for 512-bit (AVX-512) and 256-bit (AVX2) vectors, and the FMA latency.
 * Prints one line, for example
 *   fma: one core 116.5 GFLOP/s with 512-bit vectors, 116.4 with 256-bit; latency 1.09 ns
 * Why: machines of the same name differ. Two 2-vCPU "AMD EPYC" guests of
 * this project did 236 and 117 GFLOP/s on one core (two 512-bit FMAs a
 * cycle, or one: Zen 5's full-width units or Zen 4's double-pumped ones),
 * and every conv kernel's speed follows that, not the name. The direct
 * conv kernels (src/layers/conv_direct.c) are measured against this peak.
 * Without AVX-512 (or gcc on another CPU) only what applies is printed.
 * Not a test. */
#include <stdio.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

/* NA accumulators, each a chain of n FMAs: with NA larger than latency x
 * units the units are never idle, so the time is n * NA / throughput; 12
 * for AVX2's 16 registers (16 would spill), 16 of AVX-512's 32 */
#define DEFINE_CHAINS(name, TGT, vec, set1, fmadd, add, W, NA)                                   \
    __attribute__((target(TGT), noinline)) static float name(long n)                           \
    {                                                                                           \
        vec a[NA];                                                                              \
        const vec b = set1(0.999f), c = set1(0.001f);                                           \
        for (int i = 0; i < NA; i++)                                                            \
            a[i] = set1((float)i);                                                              \
        for (long k = 0; k < n; k++) {                                                          \
            _Pragma("GCC unroll 16") for (int i = 0; i < NA; i++) a[i] = fmadd(a[i], b, c);     \
        }                                                                                       \
        vec s = a[0];                                                                           \
        for (int i = 1; i < NA; i++)                                                            \
            s = add(s, a[i]);                                                                   \
        float t[W];                                                                             \
        __builtin_memcpy(t, &s, sizeof t);                                                      \
        return t[0];                                                                            \
    }
DEFINE_CHAINS(chains512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16, 16)
DEFINE_CHAINS(chains256, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8, 12)

/* one chain: n dependent FMAs, seconds per FMA = the latency */
__attribute__((target("avx2,fma"), noinline)) static float chain1(long n)
{
    __m256 a = _mm256_set1_ps(1.0f);
    const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.001f);
    for (long k = 0; k < n; k++)
        a = _mm256_fmadd_ps(a, b, c);
    float t[8];
    __builtin_memcpy(t, &a, sizeof t);
    return t[0];
}

/* the best of 3 runs of n steps: GFLOP/s (flops: per step) */
static double best(float (*f)(long), long n, double flops, float *sink)
{
    double b = 0;
    for (int r = 0; r < 3; r++) {
        const double t0 = now();
        *sink += f(n);
        const double g = flops * (double)n / (now() - t0) / 1e9;
        if (g > b)
            b = g;
    }
    return b;
}

int main(void)
{
    float sink = 0;
    const long n = 20000000;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        puts("fma: this CPU has no AVX2 FMA");
        return 0;
    }
    const double g256 = best(chains256, n, 12 * 16.0, &sink);
    const double lat = 2.0 / best(chain1, n, 2.0, &sink); /* ns per FMA */
    if (__builtin_cpu_supports("avx512f"))
        printf("fma: one core %.1f GFLOP/s with 512-bit vectors, %.1f with 256-bit; latency %.2f "
               "ns\n", best(chains512, n, 16 * 32.0, &sink), g256, lat);
    else
        printf("fma: one core %.1f GFLOP/s with 256-bit vectors (no AVX-512); latency %.2f ns\n",
               g256, lat);
    return sink == 12345.0f; /* keeps the sums */
}
#else
int main(void)
{
    (void)now;
    puts("fma: not measured (x86-64 with gcc only)");
    return 0;
}
#endif
