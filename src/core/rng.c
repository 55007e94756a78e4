/* rng.c — the project's one PRNG: xoshiro256** (Blackman & Vigna), seeded by
 * splitmix64 so that any 64-bit seed, 0 included, gives a good state. The
 * same seed gives the same stream on every machine. */
#include "internal.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void bd_rng_seed(bd_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
    r->has_spare = 0;
    r->spare = 0.0f;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t bd_rng_u64(bd_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t bd_rng_below(bd_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift with rejection: unbiased for any n. */
    if (n == 0)
        return 0;
    uint64_t m = (uint64_t)(uint32_t)(bd_rng_u64(r) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t thresh = (uint32_t)(-n) % n;
        while (low < thresh) {
            m = (uint64_t)(uint32_t)(bd_rng_u64(r) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

float bd_rng_uniform(bd_rng *r)
{
    /* top 24 bits -> exactly representable floats in [0, 1) */
    return (float)(bd_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

float bd_rng_normal(bd_rng *r)
{
    /* Box-Muller in double, values used in pairs. */
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = ((double)(bd_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0); /* (0,1] */
    double u2 = (double)(bd_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    double rad = sqrt(-2.0 * log(u1));
    double th = 6.283185307179586 * u2;
    r->spare = (float)(rad * sin(th));
    r->has_spare = 1;
    return (float)(rad * cos(th));
}

void bd_rng_shuffle(bd_rng *r, int32_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = bd_rng_below(r, (uint32_t)i);
        int32_t tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
    }
}
