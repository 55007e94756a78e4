/* dist.c — the MPI side of data-parallel training (dist.h). Every sum is
 * one MPI_Allreduce in place; Open MPI gives every rank the same bits. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "dist.h"

#include <math.h>
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static struct {
    int started;          /* MPI_Init was called here */
    int rank, size;
    int local_size;       /* ranks on this node */
    bd_comm comm;
} D = {.size = 1, .local_size = 1};

int dist_launched(void)
{
    /* Open MPI's mpirun, PMIx (srun --mpi=pmix, prterun), PMI-1/2 (srun,
     * MPICH's hydra) */
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

int dist_init(int *argc, char ***argv)
{
    if (!dist_launched())
        return 0;
    /* Two ranks: the gradient buckets' MPI_Iallreduce by recursive doubling
     * (one exchange, both ranks add) instead of Open MPI's default for fewer
     * than 4 ranks, a reduce to rank 0 then a broadcast (two transfers one
     * after the other, rank 1 idle while rank 0 adds). With two ranks both
     * send the whole block either way; with more, the default (ring) sends
     * less. A user's own setting (mpirun --mca ..., -x) is kept. */
    const char *np = getenv("OMPI_COMM_WORLD_SIZE");
    if (np && !strcmp(np, "2"))
        setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "4", 0);
    int provided = 0;
    /* only the main thread calls MPI (the thread pool never does) */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "badak: error: MPI_Init failed (started by an MPI launcher)\n");
        return 1;
    }
    D.started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &D.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &D.size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, D.rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &D.local_size);
    MPI_Comm_free(&node);
    if (D.size > 1)
        dist_shm_init(D.rank, D.size);
    return 0;
}

void dist_finalize(void)
{
    if (D.started) {
        dist_shm_free();
        MPI_Finalize();
    }
    D.started = 0;
    dist_grad_free();
}

int dist_active(void) { return D.started && D.size > 1; }
int dist_rank(void) { return D.rank; }
int dist_size(void) { return D.size; }
int dist_is_root(void) { return D.rank == 0; }

/* MPI counts are int: sum in pieces of at most 2^30 values */
static bd_status allreduce(void *x, size_t n, MPI_Datatype t, size_t esize)
{
    char *p = x;
    for (size_t done = 0; done < n;) {
        int k = (int)(n - done < (1u << 30) ? n - done : (1u << 30));
        if (MPI_Allreduce(MPI_IN_PLACE, p + done * esize, k, t, MPI_SUM, MPI_COMM_WORLD) !=
            MPI_SUCCESS)
            return bd_error(BD_ERR_IO, "MPI_Allreduce of %d values failed", k);
        done += (size_t)k;
    }
    return BD_OK;
}

static bd_status sum_f32(void *ud, float *x, size_t n)
{
    return allreduce(x, n, MPI_FLOAT, sizeof(float));
}

static bd_status sum_f64(void *ud, double *x, size_t n)
{
    return allreduce(x, n, MPI_DOUBLE, sizeof(double));
}

/* The trainer's hooks: the gradient block in buckets with the step's loss
 * and stop vote (grad_sum.c), the evaluations' doubles, the BatchNorm
 * running averages (averaged: each rank's came from its own rows). */
static bd_status on_sum(void *ud, double *v, int n)
{
    dist_work_break(); /* an evaluation or the epoch's votes: not a step's work */
    return sum_f64(ud, v, (size_t)n);
}

static bd_status on_state(void *ud, float *st, size_t n)
{
    dist_work_break(); /* before an evaluation or a save: not a step's work */
    bd_status s = sum_f32(ud, st, n);
    const float inv = 1.0f / (float)D.size;
    for (size_t k = 0; s == BD_OK && k < n; k++)
        st[k] *= inv;
    return s;
}

bd_status dist_train_hooks(bd_train_config *cfg, int sync_bn, dist_sums sums, int overlap,
                           int bucket_kb, int shard)
{
    if (!dist_active())
        return BD_OK;
    if (sums == DIST_SUMS_SHARED && overlap)
        return bd_error(BD_ERR_ARG, "the shared-memory gradient sums run after backward: "
                        "overlap needs the MPI_Iallreduce buckets");
    if (sums == DIST_SUMS_SHARED && !dist_shm_ready())
        return bd_error(BD_ERR_ARG, "the shared-memory gradient sums need the same number of "
                        "ranks on every node");
    cfg->rank = D.rank;
    cfg->nranks = D.size;
    if (sums == DIST_SUMS_SHARED || (sums == DIST_SUMS_AUTO && !overlap && dist_shm_ready()))
        dist_grad_shared_hooks(cfg, shard);
    else
        dist_grad_hooks(cfg, overlap, bucket_kb);
    cfg->on_sum = on_sum;
    /* with --sync-bn the running averages are equal on every rank already */
    cfg->on_state = sync_bn ? NULL : on_state;
    cfg->dist_ud = NULL;
    cfg->sync_bn = sync_bn ? dist_comm(1) : NULL;
    return BD_OK;
}

const bd_comm *dist_comm(int sync_bn)
{
    if (!dist_active())
        return NULL;
    D.comm = (bd_comm){.rank = D.rank, .size = D.size, .sync_bn = sync_bn, .ud = NULL,
                       .sum_f32 = sum_f32, .sum_f64 = sum_f64};
    return &D.comm;
}

int dist_default_threads(void)
{
    if (!dist_active())
        return 0;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int mine = (int)(online > 0 ? online : 1);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        mine = CPU_COUNT(&set); /* mpirun may have bound this rank to a core */
    int share = (int)(online > 0 ? online : 1) / (D.local_size > 0 ? D.local_size : 1);
    int n = mine < share ? mine : share;
    return n > 0 ? n : 1;
}

bd_status dist_check_same(const char *what, uint64_t count, uint64_t sum)
{
    if (!dist_active())
        return BD_OK;
    uint64_t mine[2] = {count, sum};
    uint64_t *all = malloc(sizeof mine * (size_t)D.size);
    if (!all)
        return bd_error(BD_ERR_NOMEM, "out of memory checking %s across ranks", what);
    MPI_Allgather(mine, 2, MPI_UINT64_T, all, 2, MPI_UINT64_T, MPI_COMM_WORLD);
    bd_status s = BD_OK;
    for (int r = 1; r < D.size && s == BD_OK; r++)
        if (all[2 * r] != all[0] || all[2 * r + 1] != all[1])
            s = bd_error(BD_ERR_ARG,
                         "ranks disagree on %s: rank %d has %llu (checksum %016llx), rank 0 "
                         "has %llu (checksum %016llx); every rank must run the same command "
                         "on the same data", what, r, (unsigned long long)all[2 * r],
                         (unsigned long long)all[2 * r + 1], (unsigned long long)all[0],
                         (unsigned long long)all[1]);
    free(all);
    return s;
}

int dist_any(int failed)
{
    if (!dist_active())
        return failed != 0;
    int f = failed != 0, any = 0;
    MPI_Allreduce(&f, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return any;
}

void dist_minmax(double v, double *lo, int *lo_rank, double *hi, int *hi_rank)
{
    struct {
        double v;
        int rank;
    } in = {v, dist_rank()}, mn = in, mx = in;
    if (dist_active()) {
        MPI_Allreduce(&in, &mn, 1, MPI_DOUBLE_INT, MPI_MINLOC, MPI_COMM_WORLD);
        MPI_Allreduce(&in, &mx, 1, MPI_DOUBLE_INT, MPI_MAXLOC, MPI_COMM_WORLD);
    }
    *lo = mn.v, *lo_rank = mn.rank, *hi = mx.v, *hi_rank = mx.rank;
}

/* the work between the sums: the end of the last sum (0: none to count
 * from), and the count, sum and sum of squares of the intervals */
static struct {
    double last, sum, sq;
    long n;
} W;

void dist_work_begin(void)
{
    if (W.last > 0.0) {
        const double d = MPI_Wtime() - W.last;
        W.n++;
        W.sum += d;
        W.sq += d * d;
    }
}

void dist_work_end(void) { W.last = MPI_Wtime(); }

void dist_work_break(void) { W.last = 0.0; }

void dist_work_stats(double *mean, double *sd, long *n)
{
    *n = W.n;
    *mean = W.n ? W.sum / (double)W.n : 0.0;
    const double var = W.n > 1 ? (W.sq - W.sum * *mean) / (double)(W.n - 1) : 0.0;
    *sd = var > 0.0 ? sqrt(var) : 0.0;
}

void dist_abort(int code)
{
    fflush(stdout);
    fflush(stderr);
    if (D.started)
        MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

uint64_t dist_crc(uint64_t crc, const void *data, size_t len)
{
    /* two CRC-32s (of the bytes, and seeded differently) make 64 bits */
    const Bytef *p = data;
    uLong lo = (uLong)(crc & 0xffffffffu), hi = (uLong)(crc >> 32) ^ 0x5bd1e995u;
    while (len > 0) {
        uInt k = (uInt)(len > (1u << 30) ? (1u << 30) : len);
        lo = crc32(lo, p, k);
        hi = crc32(hi, p, k);
        p += k;
        len -= k;
    }
    return ((uint64_t)(hi & 0xffffffffu) << 32) | (lo & 0xffffffffu);
}

uint64_t dist_dataset_crc(const bd_dataset *ds)
{
    uint64_t c = dist_crc(0, ds->x.data, ds->x.size * bd_dtype_size(ds->x.dtype));
    c = dist_crc(c, ds->y.data, ds->y.size * sizeof(int32_t));
    int shape[4] = {ds->c, ds->h, ds->w, ds->nclasses};
    return dist_crc(c, shape, sizeof shape);
}

bd_status dist_net_crc(const bd_net *net, uint64_t *crc)
{
    char *ini = NULL;
    bd_status s = bd_net_to_ini(net, &ini);
    if (s != BD_OK)
        return s;
    uint64_t c = dist_crc(0, ini, strlen(ini));
    free(ini);
    size_t np, ns;
    const float *p = bd_net_params(net, &np), *st = bd_net_state(net, &ns);
    c = dist_crc(c, p, np * sizeof(float));
    *crc = dist_crc(c, st, ns * sizeof(float));
    return BD_OK;
}
