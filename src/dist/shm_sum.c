/* shm_sum.c — the gradient block summed through memory that the ranks of a
 * node share (an MPI-3 shared window, MPI_Win_allocate_shared), and across
 * nodes by one MPI_Allreduce per slice: the default way the gradient is
 * summed when every node runs the same number of ranks (dist.h,
 * docs/distributed.md).
 *
 * Each rank's network keeps its gradient block in the rank's own segment of
 * the window (dist_shm_bind, bd__net_use_grads), followed by a short tail
 * for the step's nv values v (its loss share and stop vote, so that one sum
 * decides them too): backward writes straight into memory the node's other
 * ranks can read, and nothing is copied in. Rank l of the L ranks of a node
 * owns the slice [lo_l, hi_l) of the n + nv values (cut at cache lines):
 *   1. v is put in the tail; barrier: every block and tail is final;
 *   2. rank l adds the other ranks' slice l to its own, in place, in rank
 *      order; with M > 1 nodes, one MPI_Allreduce of that slice among the
 *      M ranks that own it (the same local rank on every node);
 *      barrier: every slice is summed;
 *   3. it copies the other slices from their owners' blocks into its own;
 *      barrier: nobody reads my block any more, backward may write it.
 * Each slice is added by one rank per node and by one MPI call across
 * nodes, then copied by the others, so every rank ends with the same bits,
 * and the same on every run. Against one MPI_Allreduce of the whole block
 * over Open MPI's shared-memory transport (each rank copies the other's
 * whole block out of shared memory and adds all of it), a rank here reads
 * (L-1)/L of the block from the others twice and adds 1/L of it.
 *
 * In step 2 a rank writes only its own slice of its own block, which no
 * other rank reads then (they read their slices); in step 3 it reads the
 * others' slices after they were written (barrier 2) and writes its own
 * block outside its slice, which nobody reads; the next backward waits for
 * barrier 3. The window is locked once (MPI_Win_lock_all) and every barrier
 * is wrapped in MPI_Win_sync, MPI-3's rule for load/store access to a
 * shared window. */
#include "dist.h"
#include "internal.h" /* BD_TRY */

#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#define LINE 16 /* floats in a 64-byte cache line: slices start on one */
#define NV LINE  /* room for the values after the gradient (2 used) */
#define MAX_COUNT ((size_t)1 << 30)

static struct {
    int ready;           /* dist_shm_init found a layout it can sum with */
    MPI_Comm node;       /* the ranks sharing memory (or BADAK_MPI_NODE_RANKS) */
    MPI_Comm across;     /* the ranks of my local rank on every node */
    int l, L, M;         /* local rank, ranks per node, nodes */
    MPI_Win win;
    int win_open;
    size_t np;           /* floats of a gradient block (params.size) */
    float **blk, **tail; /* every local rank's gradient block and its tail, [L] */
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

static void close_window(void)
{
    if (S.win_open) {
        MPI_Win_unlock_all(S.win);
        MPI_Win_free(&S.win);
    }
    S.win_open = 0;
    free(S.blk);
    S.blk = S.tail = NULL;
}

/* Where Open MPI puts a shared window's backing file (its MCA parameter
 * osc_sm_backing_directory, which mpirun --mca passes in the environment) */
static const char *backing_dir(void)
{
    const char *d = getenv("OMPI_MCA_osc_sm_backing_directory");
    return d && *d ? d : "/dev/shm";
}

/* Floats of one rank's segment for a block of np */
static size_t segment(size_t np) { return (np + LINE - 1) / LINE * LINE + NV; }

int dist_shm_room(const bd_net *net, double *need_mb, double *free_mb, const char **dir)
{
    size_t np = 0;
    bd_net_params(net, &np);
    const double need = (double)segment(np) * sizeof(float) * S.L + (64 << 10);
    struct statvfs st;
    /* a tmpfs too small for the window gives SIGBUS on first touch, not an
     * error: check first (unknown: assume room) */
    double avail = statvfs(backing_dir(), &st) == 0 ? (double)st.f_bavail * st.f_frsize : need;
    int ok = avail >= need, all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    *need_mb = need / (1 << 20);
    *free_mb = avail / (1 << 20);
    *dir = backing_dir();
    return all;
}

bd_status dist_shm_bind(bd_net *net)
{
    if (!S.ready)
        return bd_error(BD_ERR_ARG, "the shared-memory gradient sums are not available");
    size_t np = 0;
    bd_net_params(net, &np);
    close_window();
    S.blk = calloc((size_t)S.L * 2, sizeof *S.blk);
    if (!S.blk)
        return bd_error(BD_ERR_NOMEM, "out of memory for the shared gradient window");
    S.tail = S.blk + S.L;
    const size_t stride = segment(np) - NV;
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true"); /* my segment on my pages */
    float *base = NULL;
    int rc = MPI_Win_allocate_shared((MPI_Aint)((stride + NV) * sizeof(float)), sizeof(float),
                                     info, S.node, &base, &S.win);
    MPI_Info_free(&info);
    if (rc != MPI_SUCCESS)
        return bd_error(BD_ERR_NOMEM, "MPI_Win_allocate_shared of %zu gradient values failed",
                        stride + NV);
    S.win_open = 1;
    for (int k = 0; k < S.L; k++) {
        MPI_Aint size;
        int unit;
        float *p;
        MPI_Win_shared_query(S.win, k, &size, &unit, &p);
        S.blk[k] = p;
        S.tail[k] = p + stride;
    }
    MPI_Win_lock_all(MPI_MODE_NOCHECK, S.win);
    S.np = np;
    return bd__net_use_grads(net, S.blk[S.l]);
}

static bd_status barrier(void)
{
    MPI_Win_sync(S.win);
    if (MPI_Barrier(S.node) != MPI_SUCCESS)
        return bd_error(BD_ERR_IO, "MPI_Barrier among the ranks of a node failed");
    MPI_Win_sync(S.win);
    return BD_OK;
}

/* r[0..m) += b[0..m) */
static void add_into(float *restrict r, const float *restrict b, size_t m)
{
    for (size_t i = 0; i < m; i++)
        r[i] += b[i];
}

/* Local rank k's values [lo, hi) (of the gradient at off, then the tail)
 * into mine: added (step 2: my slice, in rank order of the others: with 2
 * ranks one a + b) or copied (step 3). */
static void merge(int k, size_t off, size_t n, size_t lo, size_t hi, int add)
{
    const size_t gh = hi < n ? hi : n, vl = lo > n ? lo : n;
    float *dst[2] = {S.blk[S.l] + off + lo, S.tail[S.l] + (vl - n)};
    const float *src[2] = {S.blk[k] + off + lo, S.tail[k] + (vl - n)};
    const size_t m[2] = {lo < gh ? gh - lo : 0, vl < hi ? hi - vl : 0};
    for (int j = 0; j < 2; j++)
        if (m[j] && add)
            add_into(dst[j], src[j], m[j]);
        else if (m[j])
            memcpy(dst[j], src[j], m[j] * sizeof(float));
}

/* With M > 1 nodes: my slice [lo, hi) summed with the other nodes' */
static bd_status across(size_t off, size_t n, size_t lo, size_t hi)
{
    const size_t gh = hi < n ? hi : n, vl = lo > n ? lo : n;
    float *p[2] = {S.blk[S.l] + off + lo, S.tail[S.l] + (vl - n)};
    const size_t m[2] = {lo < gh ? gh - lo : 0, vl < hi ? hi - vl : 0};
    for (int j = 0; j < 2; j++)
        for (size_t done = 0; done < m[j];) {
            size_t k = m[j] - done < MAX_COUNT ? m[j] - done : MAX_COUNT;
            if (MPI_Allreduce(MPI_IN_PLACE, p[j] + done, (int)k, MPI_FLOAT, MPI_SUM,
                              S.across) != MPI_SUCCESS)
                return bd_error(BD_ERR_IO, "MPI_Allreduce of %zu gradient values across "
                                "nodes failed", k);
            done += k;
        }
    return BD_OK;
}

bd_status dist_shm_sum(float *g, size_t n, float *v, int nv, int count)
{
    const double t0 = MPI_Wtime();
    float *mine = S.win_open ? S.blk[S.l] : NULL;
    if (!mine || g < mine || g + n != mine + S.np || nv < 0 || nv > NV)
        return bd_error(BD_ERR_ARG, "the gradient block (%zu values) is not the one bound to "
                        "the shared window (dist_shm_bind)", n);
    const size_t off = (size_t)(g - mine), nt = n + (size_t)nv;
    memcpy(S.tail[S.l], v, (size_t)nv * sizeof *v);
    BD_TRY(barrier());
    if (count)
        S.wait_s += MPI_Wtime() - t0;
    size_t lo, hi;
    slice(S.l, nt, &lo, &hi);
    for (int k = 0; k < S.L; k++)
        if (k != S.l)
            merge(k, off, n, lo, hi, 1);
    if (S.M > 1)
        BD_TRY(across(off, n, lo, hi));
    BD_TRY(barrier());
    for (int k = 0; k < S.L; k++) {
        size_t a, b;
        slice(k, nt, &a, &b);
        if (k != S.l)
            merge(k, off, n, a, b, 0);
    }
    memcpy(v, S.tail[S.l], (size_t)nv * sizeof *v);
    BD_TRY(barrier());
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
    close_window();
    if (S.across != MPI_COMM_NULL)
        MPI_Comm_free(&S.across);
    if (S.node != MPI_COMM_NULL)
        MPI_Comm_free(&S.node);
    memset(&S, 0, sizeof S);
    S.node = S.across = MPI_COMM_NULL;
}
