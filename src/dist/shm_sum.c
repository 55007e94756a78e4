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
 *   2. rank l sums every rank's slice l into its own, in rank order
 *      ((g0 + g1) + g2 ...: the same bits whichever rank owns a value);
 *      with M > 1 nodes, one MPI_Allreduce of that slice among the M
 *      ranks that own it (the same local rank on every node);
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
 * shared window.
 *
 * The sharded update (dist_shm_reduce, dist_shm_params; ZeRO stage 1)
 * gives the node's ranks one parameter block, in the window (local rank
 * 0's segment), and cuts the slices at the optimizer's chunks:
 *   1. as above; every rank sums the tails itself (it needs the loss);
 *   2. rank l sums slice l as above; then it steps slice l of the shared
 *      weights (the trainer) and puts its chunks' Σ g² and finite flag in
 *      its segment; barrier: every slice is stepped;
 *   3. it reads the others' squares and flags. No third barrier, and no
 *      copy: after barrier 2 nobody reads a gradient block, and nobody
 *      writes the weights until the next step's first barrier, which every
 *      rank reaches only after its forward and backward have read them.
 * The optimizer's work is divided by the ranks instead of repeated on
 * each; no bytes move for the weights, and the node holds one copy. */
#include "dist.h"
#include "internal.h" /* BD_TRY */

#include <mpi.h>
#include <limits.h>
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
    /* the sharded update (dist_shm_reduce, dist_shm_params): the node's one
     * parameter block (in local rank 0's segment), and every local rank's
     * chunks' Σ g² and finite flag, [L] */
    float *par;
    double **sq;
    int **flag;
    int nsq;             /* chunks the sq areas hold */
    size_t chunk, n;     /* the last dist_shm_reduce's cut and block */
    double seconds, wait_s;
    long steps;
} S;

/* Local rank k's slice of n values: [lo, hi), cut at multiples of `unit`
 * (cache lines for the whole-block sums; the optimizer's chunks for the
 * sharded update, so that a rank steps whole ones). */
static void cut(int k, size_t n, size_t unit, size_t *lo, size_t *hi)
{
    const size_t units = (n + unit - 1) / unit;
    *lo = units * (size_t)k / (size_t)S.L * unit;
    *hi = units * (size_t)(k + 1) / (size_t)S.L * unit;
    if (*lo > n)
        *lo = n;
    if (*hi > n)
        *hi = n;
}

/* the whole-block sums' slice, starting on cache lines */
static void slice(int k, size_t n, size_t *lo, size_t *hi) { cut(k, n, LINE, lo, hi); }

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
    free(S.sq);
    free(S.flag);
    S.blk = S.tail = NULL;
    S.par = NULL;
    S.sq = NULL;
    S.flag = NULL;
    S.nsq = 0;
    S.chunk = S.n = 0;
}

/* Where Open MPI puts a shared window's backing file (its MCA parameter
 * osc_sm_backing_directory, which mpirun --mca passes in the environment) */
static const char *backing_dir(void)
{
    const char *d = getenv("OMPI_MCA_osc_sm_backing_directory");
    return d && *d ? d : "/dev/shm";
}

/* Local rank k's segment: its gradient block (np floats, rounded up to
 * cache lines), the tail of NV values, and with the sharded update its
 * chunks' Σ g² (nsq doubles) and its finite flag (a line), then on rank 0
 * the node's parameter block (np floats). */
static size_t lines(size_t np) { return (np + LINE - 1) / LINE * LINE; }
static int sq_chunks(size_t np) { return (int)((np + BD__OPT_CHUNK - 1) / BD__OPT_CHUNK); }
static size_t segment(size_t np, int shard, int k)
{
    return lines(np) + NV +
           (shard ? lines((size_t)sq_chunks(np) * 2) + LINE + (k == 0 ? lines(np) : 0) : 0);
}

int dist_shm_room(const bd_net *net, int shard, double *need_mb, double *free_mb,
                  const char **dir)
{
    size_t np = 0;
    bd_net_params(net, &np);
    const double need = ((double)segment(np, shard, 1) * (S.L - 1) + (double)segment(np, shard, 0)) *
                            sizeof(float) + (64 << 10);
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

static bd_status barrier(void)
{
    MPI_Win_sync(S.win);
    if (MPI_Barrier(S.node) != MPI_SUCCESS)
        return bd_error(BD_ERR_IO, "MPI_Barrier among the ranks of a node failed");
    MPI_Win_sync(S.win);
    return BD_OK;
}

bd_status dist_shm_bind(bd_net *net, int shard)
{
    if (!S.ready)
        return bd_error(BD_ERR_ARG, "the shared-memory gradient sums are not available");
    size_t np = 0;
    bd_net_params(net, &np);
    close_window();
    S.blk = calloc((size_t)S.L * 2, sizeof *S.blk);
    S.sq = calloc((size_t)S.L, sizeof *S.sq);
    S.flag = calloc((size_t)S.L, sizeof *S.flag);
    if (!S.blk || !S.sq || !S.flag) {
        close_window();
        return bd_error(BD_ERR_NOMEM, "out of memory for the shared gradient window");
    }
    S.tail = S.blk + S.L;
    const size_t stride = lines(np), seg = segment(np, shard, S.l);
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true"); /* my segment on my pages */
    float *base = NULL;
    int rc = MPI_Win_allocate_shared((MPI_Aint)(seg * sizeof(float)), sizeof(float), info,
                                     S.node, &base, &S.win);
    MPI_Info_free(&info);
    if (rc != MPI_SUCCESS)
        return bd_error(BD_ERR_NOMEM, "MPI_Win_allocate_shared of %zu values failed", seg);
    S.win_open = 1;
    for (int k = 0; k < S.L; k++) {
        MPI_Aint size;
        int unit;
        float *p;
        MPI_Win_shared_query(S.win, k, &size, &unit, &p);
        S.blk[k] = p;
        S.tail[k] = p + stride;
        if (shard) { /* the squares (64-byte aligned), the flag, rank 0: the weights */
            S.sq[k] = (double *)(p + stride + NV);
            S.flag[k] = (int *)(p + stride + NV + lines((size_t)sq_chunks(np) * 2));
            if (k == 0)
                S.par = p + stride + NV + lines((size_t)sq_chunks(np) * 2) + LINE;
        }
    }
    MPI_Win_lock_all(MPI_MODE_NOCHECK, S.win);
    S.np = np;
    S.nsq = shard ? sq_chunks(np) : 0;
    BD_TRY(bd__net_use_grads(net, S.blk[S.l]));
    if (!shard)
        return BD_OK;
    /* every rank holds the same weights (dist_net_crc checked it): rank 0
     * puts them in the node's block, the others take it as it is */
    if (S.l == 0)
        BD_TRY(bd__net_use_params(net, S.par, 1));
    BD_TRY(barrier());
    return S.l == 0 ? BD_OK : bd__net_use_params(net, S.par, 0);
}


/* r[0..m) += b[0..m) */
static void add_into(float *restrict r, const float *restrict b, size_t m)
{
    for (size_t i = 0; i < m; i++)
        r[i] += b[i];
}

/* mine[0..m) = Σ over the node's ranks k of their values at the same
 * place (base[k] + at), added in rank order: ((v0 + v1) + v2) ..., so a
 * value's sum has the same bits whichever rank makes it (the sharded and
 * the whole-block sums cut their slices differently). Rank 0 adds in
 * place; with 2 ranks rank 1 does too (v1 + v0 is v0 + v1); else a block
 * at a time in a buffer. */
static void sum_ranks(float *const *base, size_t at, size_t m)
{
    float *mine = base[S.l] + at;
    if (S.l == 0 || S.L == 2) {
        for (int k = 0; k < S.L; k++)
            if (k != S.l)
                add_into(mine, base[k] + at, m);
        return;
    }
    enum { BLK = 512 };
    float acc[BLK];
    for (size_t a = 0; a < m; a += BLK) {
        const size_t w = m - a < BLK ? m - a : BLK;
        memcpy(acc, base[0] + at + a, w * sizeof *acc);
        for (int k = 1; k < S.L; k++)
            add_into(acc, base[k] + at + a, w);
        memcpy(mine + a, acc, w * sizeof *acc);
    }
}

/* My slice [lo, hi) of the n + nv values (the gradient at off, then the
 * tail) summed over the node's ranks (step 2) */
static void sum_slice(size_t off, size_t n, size_t lo, size_t hi)
{
    const size_t gh = hi < n ? hi : n, vl = lo > n ? lo : n;
    if (lo < gh)
        sum_ranks(S.blk, off + lo, gh - lo);
    if (vl < hi)
        sum_ranks(S.tail, vl - n, hi - vl);
}

/* Local rank k's values [lo, hi) (of the gradient at off, then the tail)
 * copied into mine (step 3) */
static void copy_slice(int k, size_t off, size_t n, size_t lo, size_t hi)
{
    const size_t gh = hi < n ? hi : n, vl = lo > n ? lo : n;
    if (lo < gh)
        memcpy(S.blk[S.l] + off + lo, S.blk[k] + off + lo, (gh - lo) * sizeof(float));
    if (vl < hi)
        memcpy(S.tail[S.l] + (vl - n), S.tail[k] + (vl - n), (hi - vl) * sizeof(float));
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
    sum_slice(off, n, lo, hi);
    if (S.M > 1)
        BD_TRY(across(off, n, lo, hi));
    BD_TRY(barrier());
    for (int k = 0; k < S.L; k++) {
        size_t a, b;
        slice(k, nt, &a, &b);
        if (k != S.l)
            copy_slice(k, off, n, a, b);
    }
    memcpy(v, S.tail[S.l], (size_t)nv * sizeof *v);
    BD_TRY(barrier());
    if (count) {
        S.steps++;
        S.seconds += MPI_Wtime() - t0;
    }
    return BD_OK;
}

/* The sharded update, first half: my slice of the block summed over every
 * rank (dist.h). The tails' values are summed by every rank itself, in
 * rank order (every rank needs the loss before it steps). */
bd_status dist_shm_reduce(float *g, size_t n, float *v, int nv, size_t chunk, size_t *lo,
                          size_t *hi, int count)
{
    const double t0 = MPI_Wtime();
    float *mine = S.win_open ? S.blk[S.l] : NULL;
    if (!mine || !S.nsq || g < mine || g + n != mine + S.np || nv < 0 || nv > NV || chunk == 0 ||
        (n + chunk - 1) / chunk > (size_t)S.nsq)
        return bd_error(BD_ERR_ARG, "the gradient block (%zu values, chunks of %zu) is not the "
                        "one bound to the shared window for the sharded update (dist_shm_bind)",
                        n, chunk);
    const size_t off = (size_t)(g - mine);
    memcpy(S.tail[S.l], v, (size_t)nv * sizeof *v);
    BD_TRY(barrier());
    if (count)
        S.wait_s += MPI_Wtime() - t0;
    cut(S.l, n, chunk, lo, hi);
    sum_ranks(S.blk, off + *lo, *hi - *lo);
    for (int j = 0; j < nv; j++) {
        float acc = S.tail[0][j];
        for (int k = 1; k < S.L; k++)
            acc += S.tail[k][j];
        v[j] = acc;
    }
    if (S.M > 1) {
        BD_TRY(across(off, n, *lo, *hi));
        if (nv && MPI_Allreduce(MPI_IN_PLACE, v, nv, MPI_FLOAT, MPI_SUM, S.across) != MPI_SUCCESS)
            return bd_error(BD_ERR_IO, "MPI_Allreduce of the step's values across nodes failed");
    }
    S.chunk = chunk;
    S.n = n;
    if (count)
        S.seconds += MPI_Wtime() - t0;
    return BD_OK;
}

/* The second half, after this rank stepped its slice of the node's one
 * parameter block: the barrier after which every slice is stepped, and the
 * others' squares and flags. No barrier after: nobody reads a gradient
 * block any more, and a slice of the weights is written again only after
 * the next step's first barrier, when every rank is done reading it (its
 * forward and backward come before). */
bd_status dist_shm_params(float *p, size_t n, double *sq, int *finite, int count)
{
    const double t0 = MPI_Wtime();
    float *blk = S.win_open && S.nsq ? S.par : NULL;
    if (!blk || p < blk || p + n != blk + S.np || n != S.n)
        return bd_error(BD_ERR_ARG, "the parameter block (%zu values) is not the one bound to "
                        "the shared window, or no dist_shm_reduce came before", n);
    const size_t ch = S.chunk;
    size_t lo, hi;
    cut(S.l, n, ch, &lo, &hi);
    if (sq)
        for (size_t a = lo; a < hi; a += ch)
            S.sq[S.l][a / ch] = sq[a / ch];
    *S.flag[S.l] = *finite;
    BD_TRY(barrier());
    for (int k = 0; k < S.L; k++) {
        if (k == S.l)
            continue;
        cut(k, n, ch, &lo, &hi);
        if (sq)
            for (size_t a = lo; a < hi; a += ch)
                sq[a / ch] = S.sq[k][a / ch];
        *finite &= *S.flag[k];
    }
    if (count) {
        S.steps++;
        S.seconds += MPI_Wtime() - t0;
    }
    return BD_OK;
}

bd_status dist_shm_opt_state(float *state, size_t n)
{
    if (!S.win_open || !S.nsq || S.chunk == 0) /* no sharded step yet: whole */
        return BD_OK;
    if (n != S.n)
        return bd_error(BD_ERR_ARG, "an optimizer state of %zu values for a sharded update of "
                        "%zu", n, S.n);
    int *cnt = malloc(2 * (size_t)S.L * sizeof *cnt);
    if (!cnt)
        return bd_error(BD_ERR_NOMEM, "out of memory for the optimizer state's gather");
    int *dsp = cnt + S.L;
    for (int k = 0; k < S.L; k++) {
        size_t lo, hi;
        cut(k, n, S.chunk, &lo, &hi);
        if (hi > (size_t)INT_MAX) {
            free(cnt);
            return bd_error(BD_ERR_ARG, "an optimizer state of %zu values is too large for one "
                            "MPI_Allgatherv", n);
        }
        cnt[k] = (int)(hi - lo);
        dsp[k] = (int)lo;
    }
    /* every node's rank k stepped the same slice to the same bits: the
     * node's ranks are enough */
    const int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, state, cnt, dsp, MPI_FLOAT,
                                  S.node);
    free(cnt);
    return rc == MPI_SUCCESS ? BD_OK
                             : bd_error(BD_ERR_IO, "MPI_Allgatherv of the optimizer state failed");
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
