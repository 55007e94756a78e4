/* shm_sum.c — the gradient block summed through memory that the ranks of a
 * node share (an MPI-3 shared window, MPI_Win_allocate_shared), and across
 * nodes by one MPI_Allreduce per slice: the default way the gradient is
 * summed when every node runs the same number of ranks (dist.h,
 * docs/distributed.md).
 *
 * The block is the n gradients g then nv values v (the step's loss share
 * and stop vote, so that one sum decides them too). Rank l of the L ranks
 * of a node owns the slice [lo_l, hi_l) of it (cut at cache lines). Its
 * segment of the window holds `slot`, a copy of its block that the others
 * read, and `res`, the sums of its slice:
 *   1. g and v are copied into the slot, except my own slice of g (I read
 *      that from g);
 *      barrier: every slot is written;
 *   2. res[lo_l, hi_l) = block of rank 0 + ... + block of rank L-1 over my
 *      slice, in rank order; with M > 1 nodes, one MPI_Allreduce of that
 *      slice among the M ranks that own it (the same local rank on every
 *      node); copied into g;
 *      barrier: every slice is summed;
 *   3. the other slices are copied from their owners' res into g.
 * Each slice is added by one rank per node and by one MPI call across
 * nodes, then copied by the others, so every rank ends with the same bits,
 * and the same on every run. Against one MPI_Allreduce of the whole block
 * over Open MPI's shared-memory transport (each rank copies the other's
 * whole block out of shared memory and adds all of it), a rank here reads
 * (L-1)/L of the block from the others and adds 1/L of it.
 *
 * The next step's slot writes cannot overtake a slower rank still reading
 * them: step 2 of every rank ends before the second barrier, and step 3
 * (reading res) before the next step's first barrier, after which res is
 * written again. The window is locked once (MPI_Win_lock_all) and every
 * barrier is wrapped in MPI_Win_sync, MPI-3's rule for load/store access to
 * a shared window. */
#include "dist.h"
#include "internal.h" /* BD_TRY */

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#define LINE 16 /* floats in a 64-byte cache line: slices start on one */
#define MAX_COUNT ((size_t)1 << 30)

static struct {
    int ready;           /* dist_shm_init found a layout it can sum with */
    MPI_Comm node;       /* the ranks sharing memory (or BADAK_MPI_NODE_RANKS) */
    MPI_Comm across;     /* the ranks of my local rank on every node */
    int l, L, M;         /* local rank, ranks per node, nodes */
    MPI_Win win;
    int win_open;
    size_t n;            /* floats the window was made for */
    float **slot, **res; /* of every local rank, [L] */
    double seconds, wait_s;
    long steps;
} S;

/* Slice of local rank k: [lo, hi) of n, starting on cache lines. */
static void slice(int k, size_t n, size_t *lo, size_t *hi)
{
    const size_t lines = (n + LINE - 1) / LINE;
    *lo = lines * (size_t)k / (size_t)S.L * LINE;
    *hi = lines * (size_t)(k + 1) / (size_t)S.L * LINE;
    if (*lo > n)
        *lo = n;
    if (*hi > n)
        *hi = n;
}

void dist_shm_init(int world_rank, int world_size)
{
    memset(&S, 0, sizeof S);
    S.node = S.across = MPI_COMM_NULL;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL,
                        &S.node);
    /* BADAK_MPI_NODE_RANKS=k: nodes of k ranks (consecutive local ranks),
     * to run the multi-node path on one machine (tests, benchmarks) */
    const char *k = getenv("BADAK_MPI_NODE_RANKS");
    int nl;
    MPI_Comm_rank(S.node, &nl);
    if (k && atoi(k) > 0) {
        MPI_Comm sub;
        MPI_Comm_split(S.node, nl / atoi(k), nl, &sub);
        MPI_Comm_free(&S.node);
        S.node = sub;
    }
    MPI_Comm_rank(S.node, &S.l);
    MPI_Comm_size(S.node, &S.L);
    /* every node the same count (else the buckets of grad_sum.c) */
    int mm[2] = {S.L, -S.L}, r[2];
    MPI_Allreduce(mm, r, 2, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (r[0] != -r[1] || world_size % S.L != 0)
        return;
    S.M = world_size / S.L;
    MPI_Comm_split(MPI_COMM_WORLD, S.l, world_rank, &S.across);
    S.ready = 1;
}

int dist_shm_ready(void) { return S.ready; }

/* The window for a block of n floats (collective over the node: every rank
 * has the same n, its network being checked equal). */
static bd_status open_window(size_t n)
{
    if (S.win_open) {
        MPI_Win_unlock_all(S.win);
        MPI_Win_free(&S.win);
        S.win_open = 0;
    }
    free(S.slot);
    S.slot = calloc((size_t)S.L * 2, sizeof *S.slot);
    if (!S.slot)
        return bd_error(BD_ERR_NOMEM, "out of memory for the shared gradient window");
    S.res = S.slot + S.L;
    const size_t stride = (n + LINE - 1) / LINE * LINE;
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true"); /* my segment on my pages */
    float *base = NULL;
    int rc = MPI_Win_allocate_shared((MPI_Aint)(2 * stride * sizeof(float)), sizeof(float),
                                     info, S.node, &base, &S.win);
    MPI_Info_free(&info);
    if (rc != MPI_SUCCESS)
        return bd_error(BD_ERR_NOMEM, "MPI_Win_allocate_shared of %zu gradient values failed",
                        2 * stride);
    for (int k = 0; k < S.L; k++) {
        MPI_Aint size;
        int unit;
        float *p;
        MPI_Win_shared_query(S.win, k, &size, &unit, &p);
        S.slot[k] = p;
        S.res[k] = p + stride;
    }
    MPI_Win_lock_all(MPI_MODE_NOCHECK, S.win);
    S.win_open = 1;
    S.n = n;
    return BD_OK;
}

static bd_status barrier(void)
{
    MPI_Win_sync(S.win);
    if (MPI_Barrier(S.node) != MPI_SUCCESS)
        return bd_error(BD_ERR_IO, "MPI_Barrier among the ranks of a node failed");
    MPI_Win_sync(S.win);
    return BD_OK;
}

/* Where local rank k's value i is: my own gradients in g itself (not
 * copied), the rest in the slots (the values after n: v, in every slot). */
static const float *src(int k, const float *g, size_t n, size_t i)
{
    return k == S.l && i < n ? g + i : S.slot[k] + i;
}

/* r[0..m) = the blocks of local ranks 0..L-1 from value lo on, added in
 * rank order; [lo, lo + m) lies on one side of n */
static void add_range(float *r, const float *g, size_t n, size_t lo, size_t m)
{
    const float *a = src(0, g, n, lo);
    if (S.L == 1) {
        memcpy(r, a, m * sizeof *r);
        return;
    }
    const float *b = src(1, g, n, lo);
    for (size_t i = 0; i < m; i++)
        r[i] = a[i] + b[i];
    for (int k = 2; k < S.L; k++) {
        const float *c = src(k, g, n, lo);
        for (size_t i = 0; i < m; i++)
            r[i] += c[i];
    }
}

/* x[lo, hi) of the n + nv values g then v, from p (p[0] is value lo) */
static void put(float *g, size_t n, float *v, size_t lo, size_t hi, const float *p)
{
    const size_t gh = hi < n ? hi : n;
    if (lo < gh)
        memcpy(g + lo, p, (gh - lo) * sizeof *g);
    const size_t vl = lo > n ? lo : n;
    if (vl < hi)
        memcpy(v + (vl - n), p + (vl - lo), (hi - vl) * sizeof *v);
}

bd_status dist_shm_sum(float *g, size_t n, float *v, int nv, int count)
{
    const double t0 = MPI_Wtime();
    const size_t nt = n + (size_t)nv;
    if (nt == 0)
        return BD_OK;
    if (!S.win_open || S.n != nt)
        BD_TRY(open_window(nt));
    size_t lo, hi;
    slice(S.l, nt, &lo, &hi);
    /* 1. my block, for the others (not my slice of g: they never read it) */
    float *mine = S.slot[S.l];
    const size_t glo = lo < n ? lo : n, ghi = hi < n ? hi : n;
    memcpy(mine, g, glo * sizeof *g);
    memcpy(mine + ghi, g + ghi, (n - ghi) * sizeof *g);
    memcpy(mine + n, v, (size_t)nv * sizeof *v);
    const double t1 = MPI_Wtime();
    BD_TRY(barrier());
    if (count)
        S.wait_s += MPI_Wtime() - t1;
    /* 2. my slice summed over the node, then over the nodes */
    float *r = S.res[S.l] + lo;
    add_range(r, g, n, glo, ghi - glo);
    const size_t vlo = lo > n ? lo : n;
    if (vlo < hi)
        add_range(r + (vlo - lo), g, n, vlo, hi - vlo);
    for (size_t done = 0; S.M > 1 && done < hi - lo;) {
        size_t k = hi - lo - done < MAX_COUNT ? hi - lo - done : MAX_COUNT;
        if (MPI_Allreduce(MPI_IN_PLACE, r + done, (int)k, MPI_FLOAT, MPI_SUM, S.across) !=
            MPI_SUCCESS)
            return bd_error(BD_ERR_IO, "MPI_Allreduce of %zu gradient values across nodes "
                            "failed", k);
        done += k;
    }
    put(g, n, v, lo, hi, r);
    BD_TRY(barrier());
    /* 3. the others' slices */
    for (int k = 0; k < S.L; k++) {
        size_t a, b;
        slice(k, nt, &a, &b);
        if (k != S.l)
            put(g, n, v, a, b, S.res[k] + a);
    }
    if (count) {
        S.steps++;
        S.seconds += MPI_Wtime() - t0;
    }
    return BD_OK;
}

void dist_shm_stats(double *seconds, double *wait, long *steps, int *local, int *nodes)
{
    *seconds = S.seconds;
    *wait = S.wait_s;
    *steps = S.steps;
    *local = S.L;
    *nodes = S.M;
}

void dist_shm_free(void)
{
    if (S.win_open) {
        MPI_Win_unlock_all(S.win);
        MPI_Win_free(&S.win);
    }
    if (S.across != MPI_COMM_NULL)
        MPI_Comm_free(&S.across);
    if (S.node != MPI_COMM_NULL)
        MPI_Comm_free(&S.node);
    free(S.slot);
    memset(&S, 0, sizeof S);
    S.node = S.across = MPI_COMM_NULL;
}
