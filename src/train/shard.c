/* shard.c — what data-parallel training needs from the library besides the
 * trainer: which rows of a global batch a process computes, and the random
 * stream of one row, so that Dropout, RReLU and augmentation draw the same
 * numbers for a sample however the batch is split over processes. */
#include "internal.h"

void bd_shard(int B, int rank, int size, int *lo, int *hi)
{
    const int ok = size >= 1 && rank >= 0 && rank < size && B >= 0;
    if (lo) /* either may be NULL (the API's NULL rule) */
        *lo = ok ? (int)((long)B * rank / size) : 0;
    if (hi)
        *hi = ok ? (int)((long)B * (rank + 1) / size) : 0;
}

/* splitmix64's finaliser: a bijection that mixes every input bit */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void bd__row_rng(bd_rng *r, uint64_t key, uint64_t stream, long row)
{
    bd_rng_seed(r, key ^ mix64((stream << 40) ^ (uint64_t)row ^ 0x7e11a5ce0ddba11ULL));
}

int bd__bn_sync(const bd_net *net, float *x, size_t n)
{
    const bd_comm *c = net->sync;
    if (!c || c->size < 2 || !net->training)
        return 0;
    /* a failed sum ends the whole job (src/dist/ aborts it): a layer's
     * forward has no status to return, and the other processes wait */
    (void)c->sum_f32(c->ud, x, n);
    return 1;
}
