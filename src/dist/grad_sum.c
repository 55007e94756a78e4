/* grad_sum.c — the gradient block summed over the ranks in buckets, started
 * while backward still runs (as PyTorch DDP does), with the step's loss and
 * stop vote folded into the first bucket (dist.h, docs/distributed.md).
 *
 * Backward finishes the layers' gradients from the last layer to the first,
 * and they lie in the block in layer order, so what is final is always a
 * suffix g[from, n): a bucket is a slice [from, end) of it. The trainer
 * reports every layer (bd_train_config.on_grad_part); the buckets are cut
 * from those reports alone:
 *   bucket 1: the last layer with parameters, g[from, n), and the two
 *             values v = {loss share, stop vote} (copied to a scratch
 *             buffer of n - from + 2 floats: one MPI_Iallreduce for all);
 *   then:     a slice as soon as it holds G.bucket floats or more, and what is
 *             left when backward reaches the first layer (from == 0).
 * Each bucket is one MPI_Iallreduce(MPI_IN_PLACE, MPI_SUM). Overlapped, it
 * starts when its slice is final, and MPI_Testall between layers lets Open
 * MPI progress it (without a call into MPI nothing moves); on_grad waits
 * for all before the update. Not overlapped (--no-overlap), the same
 * buckets are started in the same order after backward and waited for: the
 * same calls on the same values, so both give the same bits for any N. */
#include "dist.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 256 KB by default (--bucket-kb): the 433,890-value block of
 * simple_convnet goes in 3 buckets (Affine2 with v; Affine1 as soon as its
 * backward is done; Conv1), the MLP 784-100x5-10's in 2 */
#define BUCKET_KB 256
/* MPI counts are int: a longer bucket is several requests */
#define MAX_COUNT ((size_t)1 << 30)

static struct {
    int shared;           /* summed by shm_sum.c, not in buckets */
    int shard;            /* and the update sharded (on_grad_shard) */
    size_t chunk;         /* its cut (on_grad_shard's chunk) */
    float *p;             /* its parameter block (on_params) */
    int overlap;
    size_t bucket;        /* floats: cut a bucket when this many are final */
    float *g;             /* this step's block, n floats */
    size_t n, pend;       /* g[from, pend) is final, not yet in a bucket */
    float *v;             /* the trainer's {loss, stop} (first bucket) */
    int first_done;       /* bucket 1 has been cut */
    size_t first_from;    /* bucket 1 is g[first_from, n) */
    float *scratch;       /* bucket 1 and v: n - first_from + 2 floats */
    size_t scratch_cap;
    size_t *cut;          /* not overlapped: bucket i is [cut[2i], cut[2i+1]) */
    int ncut, cut_cap;
    MPI_Request *rq;
    int nrq, rq_cap;
    int buckets;          /* of the last step */
    double seconds;       /* in MPI on these sums (starting, testing, waiting) */
    double wait_s;        /* of which in on_done (after backward) */
    long steps;
    size_t *last;         /* the last step's buckets, [last[2i], last[2i+1]) */
    int nlast, last_cap;
    double probe_s;       /* dist_grad_probe: mean seconds of one step's sums alone */
    int probe_reps;
} G;

/* Grow *p (of *cap elements of size `size`) to hold `need`: 0, or -1. */
static int grow(void **p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return 0;
    int c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, (size_t)c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* One MPI_Iallreduce per MAX_COUNT floats of x[0..n) (n >= 1). */
static bd_status start_sum(float *x, size_t n)
{
    for (size_t done = 0; done < n;) {
        size_t k = n - done < MAX_COUNT ? n - done : MAX_COUNT;
        if (grow((void **)&G.rq, &G.rq_cap, G.nrq + 1, sizeof *G.rq))
            return bd_error(BD_ERR_NOMEM, "out of memory for the gradient sums' requests");
        if (MPI_Iallreduce(MPI_IN_PLACE, x + done, (int)k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                           &G.rq[G.nrq]) != MPI_SUCCESS)
            return bd_error(BD_ERR_IO, "MPI_Iallreduce of %zu gradient values failed", k);
        G.nrq++;
        done += k;
    }
    return BD_OK;
}

/* Bucket 1: the slice g[from, n) and v in the scratch buffer, summed as one. */
static bd_status start_first(void)
{
    const size_t k = G.n - G.first_from;
    if (k + 2 > G.scratch_cap) {
        float *s = realloc(G.scratch, (k + 2) * sizeof *s);
        if (!s)
            return bd_error(BD_ERR_NOMEM, "out of memory for the first gradient bucket (%zu "
                            "values)", k + 2);
        G.scratch = s;
        G.scratch_cap = k + 2;
    }
    memcpy(G.scratch, G.g + G.first_from, k * sizeof(float));
    G.scratch[k] = G.v[0];
    G.scratch[k + 1] = G.v[1];
    return start_sum(G.scratch, k + 2);
}

/* A bucket [lo, hi) is cut: started now (overlapped) or noted for later. */
static bd_status cut(size_t lo, size_t hi)
{
    G.buckets++;
    if (grow((void **)&G.last, &G.last_cap, 2 * G.nlast + 2, sizeof *G.last))
        return bd_error(BD_ERR_NOMEM, "out of memory for the gradient buckets");
    G.last[2 * G.nlast] = lo;
    G.last[2 * G.nlast + 1] = hi;
    G.nlast++;
    if (G.overlap)
        return G.first_done ? start_sum(G.g + lo, hi - lo) : start_first();
    if (grow((void **)&G.cut, &G.cut_cap, 2 * G.ncut + 2, sizeof *G.cut))
        return bd_error(BD_ERR_NOMEM, "out of memory for the gradient buckets");
    G.cut[2 * G.ncut] = lo;
    G.cut[2 * G.ncut + 1] = hi;
    G.ncut++;
    return BD_OK;
}

/* bd_train_config.on_grad_part: g[from, n) is final. */
static bd_status on_part(void *ud, float *g, size_t n, size_t from, float *v)
{
    double t0 = MPI_Wtime();
    bd_status s = BD_OK;
    if (v) { /* a step begins: nothing final yet */
        G.g = g;
        G.n = G.pend = n;
        G.v = v;
        G.first_done = 0;
        G.ncut = G.nrq = G.buckets = G.nlast = 0;
    } else if (!G.first_done && (from < G.n || from == 0)) {
        G.first_from = from;
        s = cut(from, G.n);
        G.first_done = 1;
        G.pend = from;
    } else if (G.first_done && G.pend > from && (G.pend - from >= G.bucket || from == 0)) {
        s = cut(from, G.pend);
        G.pend = from;
    }
    if (s == BD_OK && G.overlap && G.nrq > 0) {
        int flag; /* Open MPI moves the bytes only inside MPI calls */
        if (MPI_Testall(G.nrq, G.rq, &flag, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
            s = bd_error(BD_ERR_IO, "MPI_Testall on the gradient sums failed");
    }
    G.seconds += MPI_Wtime() - t0;
    return s;
}

/* bd_train_config.on_grad: every bucket started (not overlapped: now, in
 * the order they were cut), all waited for, bucket 1 and v copied back. */
static bd_status on_done(void *ud, float *g, size_t n)
{
    dist_work_begin();
    double t0 = MPI_Wtime();
    bd_status s = BD_OK;
    if (!G.overlap) {
        G.overlap = 1; /* start them as the overlapped run would have */
        G.first_done = 0;
        for (int i = 0; i < G.ncut && s == BD_OK; i++) {
            s = cut(G.cut[2 * i], G.cut[2 * i + 1]);
            G.first_done = 1;
        }
        G.buckets = G.ncut;
        G.nlast = G.ncut;
        G.overlap = 0;
    }
    if (s == BD_OK && MPI_Waitall(G.nrq, G.rq, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        s = bd_error(BD_ERR_IO, "MPI_Waitall on the gradient sums failed");
    if (s == BD_OK) {
        const size_t k = G.n - G.first_from;
        memcpy(G.g + G.first_from, G.scratch, k * sizeof(float));
        G.v[0] = G.scratch[k];
        G.v[1] = G.scratch[k + 1];
    }
    G.nrq = 0;
    G.steps++;
    G.seconds += MPI_Wtime() - t0;
    G.wait_s += MPI_Wtime() - t0;
    dist_work_end();
    return s;
}

void dist_grad_hooks(bd_train_config *cfg, int overlap, int bucket_kb)
{
    G.overlap = overlap != 0;
    G.bucket = (size_t)(bucket_kb > 0 ? bucket_kb : BUCKET_KB) * 1024 / sizeof(float);
    cfg->on_grad_part = on_part;
    cfg->on_grad = on_done;
}

/* The shared sums: on_grad_part only keeps the step's {loss, stop vote}
 * (its first call), on_grad sums the whole block with them after backward */
static bd_status on_shared_part(void *ud, float *g, size_t n, size_t from, float *v)
{
    if (v) {
        G.v = v;
        G.g = g;
        G.n = n;
    }
    return BD_OK;
}

static bd_status on_shared(void *ud, float *g, size_t n)
{
    G.g = g;
    G.n = n;
    dist_work_begin();
    const bd_status s = dist_shm_sum(g, n, G.v, 2, 1);
    dist_work_end();
    return s;
}

/* The sharded update: the rank's slice summed (the clock of the work
 * between the sums stops here), stepped by the trainer, then the stepped
 * slices traded (it starts again) */
static bd_status on_shared_shard(void *ud, float *g, size_t n, size_t chunk, size_t *lo,
                                 size_t *hi)
{
    G.g = g;
    G.n = n;
    G.chunk = chunk;
    dist_work_begin();
    return dist_shm_reduce(g, n, G.v, 2, chunk, lo, hi, 1);
}

static bd_status on_shared_params(void *ud, float *p, size_t n, double *sq, int *finite)
{
    G.p = p;
    const bd_status s = dist_shm_params(p, n, sq, finite, 1);
    dist_work_end();
    return s;
}

static bd_status on_shared_opt_state(void *ud, float *state, size_t n)
{
    return dist_shm_opt_state(state, n);
}

void dist_grad_shared_hooks(bd_train_config *cfg, int shard)
{
    G.shared = 1;
    G.overlap = 0;
    G.shard = shard;
    cfg->on_grad_part = on_shared_part;
    cfg->on_grad = on_shared;
    cfg->on_grad_shard = shard ? on_shared_shard : NULL;
    cfg->on_params = shard ? on_shared_params : NULL;
    cfg->on_opt_state = shard ? on_shared_opt_state : NULL;
}

int dist_grad_sharded(void) { return G.shared && G.shard; }

int dist_grad_shared(void) { return G.shared; }

/* the shared sums of the last block, `reps` times, each after a barrier of
 * every rank; they sum the bound block in place, so it is put back before
 * each and at the end */
static bd_status probe_shared(int reps)
{
    float *buf = malloc((G.n + 1) * sizeof *buf), v[2] = {0.0f, 0.0f};
    /* sharded: the two halves around the update (its squares as traded) */
    const size_t nsq = G.shard && G.chunk && G.p ? (G.n + G.chunk - 1) / G.chunk : 0;
    double *sq = nsq ? calloc(nsq, sizeof *sq) : NULL;
    if (!buf || (nsq && !sq)) {
        free(buf);
        free(sq);
        return bd_error(BD_ERR_NOMEM, "out of memory for the gradient sum probe");
    }
    memcpy(buf, G.g, G.n * sizeof *buf);
    bd_status s = BD_OK;
    double total = 0.0;
    for (int r = 0; r < reps && s == BD_OK; r++) {
        memcpy(G.g, buf, G.n * sizeof *buf);
        if (MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) {
            s = bd_error(BD_ERR_IO, "MPI_Barrier failed");
            break;
        }
        const double t0 = MPI_Wtime();
        if (nsq) {
            size_t lo, hi;
            int finite = 1;
            s = dist_shm_reduce(G.g, G.n, v, 2, G.chunk, &lo, &hi, 0);
            if (s == BD_OK)
                s = dist_shm_params(G.p, G.n, sq, &finite, 0);
        } else {
            s = dist_shm_sum(G.g, G.n, v, 2, 0);
        }
        total += MPI_Wtime() - t0;
    }
    memcpy(G.g, buf, G.n * sizeof *buf);
    free(buf);
    free(sq);
    if (s == BD_OK) {
        G.probe_s = total / reps;
        G.probe_reps = reps;
    }
    return s;
}

bd_status dist_train_bind(bd_train_config *cfg, bd_net *net, dist_sums sums, int bucket_kb)
{
    if (!G.shared)
        return BD_OK;
    double need, avail;
    const char *dir;
    const int shard = cfg->on_grad_shard != NULL;
    if (dist_shm_room(net, shard, &need, &avail, &dir))
        return dist_shm_bind(net, shard);
    if (sums == DIST_SUMS_SHARED)
        return bd_error(BD_ERR_NOMEM, "the shared-memory gradient sums need %.1f MB in %s on "
                        "every node, and a node has %.1f MB free there; give Open MPI more "
                        "room (--mca osc_sm_backing_directory DIR) or use --sums allreduce",
                        need, dir, avail);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
        fprintf(stderr, "badak: note: %s has %.1f MB free on a node, the shared gradient sums "
                "need %.1f MB: summing with MPI_Iallreduce buckets instead\n", dir, avail,
                need);
    G.shared = G.shard = 0;
    cfg->on_grad_shard = NULL; /* the buckets sum the whole block */
    cfg->on_params = NULL;
    cfg->on_opt_state = NULL;
    dist_grad_hooks(cfg, 0, bucket_kb);
    return BD_OK;
}

void dist_grad_stats(double *seconds, double *wait, long *steps, int *buckets, int *overlap)
{
    *seconds = G.seconds;
    *wait = G.wait_s;
    *steps = G.steps;
    *buckets = G.buckets;
    *overlap = G.overlap;
}

/* The sums of one step with no rank waiting for another: `reps` times,
 * every rank leaves an MPI_Barrier together, then sums the last step's
 * buckets (the same slices, the first with its 2 values, the same
 * nonblocking calls and MPI_Waitall) on a copy of the last gradient block
 * (copied before the clock starts, so it is in cache as after backward).
 * Collective. What training spends in the sums beyond this is waiting for
 * the slower rank to arrive. */
bd_status dist_grad_probe(int reps)
{
    G.probe_s = 0.0;
    G.probe_reps = 0;
    if (reps > 0 && G.shared && G.g)
        return probe_shared(reps);
    if (reps <= 0 || G.nlast == 0)
        return BD_OK;
    float *buf = malloc((G.n + 2) * sizeof *buf), *saved_g = G.g, *saved_v = G.v;
    float v[2] = {0.0f, 0.0f};
    if (!buf)
        return bd_error(BD_ERR_NOMEM, "out of memory for the gradient sum probe");
    bd_status s = BD_OK;
    const int overlap = G.overlap, buckets = G.buckets;
    double total = 0.0;
    G.overlap = 1; /* cut() starts each bucket at once */
    G.g = buf;
    G.v = v;
    for (int r = 0; r < reps && s == BD_OK; r++) {
        memcpy(buf, saved_g, G.n * sizeof *buf);
        const int nb = G.nlast;
        if (MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) {
            s = bd_error(BD_ERR_IO, "MPI_Barrier failed");
            break;
        }
        const double t0 = MPI_Wtime();
        G.first_done = 0;
        G.nrq = G.nlast = 0; /* cut() writes bucket i back where it is read */
        for (int i = 0; i < nb && s == BD_OK; i++) {
            s = cut(G.last[2 * i], G.last[2 * i + 1]);
            G.first_done = 1;
        }
        if (s == BD_OK && MPI_Waitall(G.nrq, G.rq, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
            s = bd_error(BD_ERR_IO, "MPI_Waitall on the probe's sums failed");
        total += MPI_Wtime() - t0;
        G.nrq = 0;
    }
    G.overlap = overlap;
    G.buckets = buckets;
    G.g = saved_g;
    G.v = saved_v;
    free(buf);
    if (s == BD_OK) {
        G.probe_s = total / reps;
        G.probe_reps = reps;
    }
    return s;
}

void dist_grad_probe_stats(double *seconds, int *reps)
{
    *seconds = G.probe_s;
    *reps = G.probe_reps;
}

void dist_grad_free(void)
{
    free(G.last);
    free(G.scratch);
    free(G.cut);
    free(G.rq);
    memset(&G, 0, sizeof G);
}
