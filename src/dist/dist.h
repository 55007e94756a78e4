/* dist.h — data-parallel runs of the badak command over MPI (Open MPI).
 * Only the command links this module; libbadak knows nothing of MPI and
 * sees a bd_comm (two sums and a rank) filled from here. Without mpirun or
 * srun nothing here calls MPI, so a plain run pays nothing. */
#ifndef BADAK_DIST_H
#define BADAK_DIST_H

#include "badak.h"

/* Was this process started by an MPI launcher (mpirun, mpiexec, srun)? */
int dist_launched(void);
/* MPI_Init when launched (once, from main); 0, or an exit code after a
 * printed message. */
int dist_init(int *argc, char ***argv);
/* MPI_Finalize if dist_init started MPI. */
void dist_finalize(void);
/* 1 when more than one process takes part. */
int dist_active(void);
int dist_rank(void);
int dist_size(void);
/* Rank 0 (or alone): the process that prints and writes files. */
int dist_is_root(void);
/* The library's view of the group: rank, size and MPI_Allreduce sums;
 * NULL when not active. sync_bn is copied into it. */
const bd_comm *dist_comm(int sync_bn);
/* How the gradient block is summed (dist_train_hooks): */
typedef enum {
    DIST_SUMS_AUTO,      /* shared memory where dist_shm_ready, else buckets */
    DIST_SUMS_SHARED,    /* shm_sum.c (refused where not ready) */
    DIST_SUMS_ALLREDUCE, /* grad_sum.c's MPI_Iallreduce buckets */
} dist_sums;
/* Fill the trainer's data-parallel fields (rank, nranks; on_grad (and
 * on_grad_part for buckets): the gradient block's sum, through shared
 * memory (shm_sum.c) or in MPI_Iallreduce buckets of bucket_kb KB (0: 256),
 * overlapped with backward unless overlap is 0 (grad_sum.c); on_sum;
 * on_state: BatchNorm running averages averaged; sync_bn); nothing when not
 * active; with shard 1 and the shared sums, the sharded update's hooks
 * too (bd_train_config.on_grad_shard). BD_ERR_ARG when `sums` asks for
 * shared memory that cannot be used or overlap is asked with it. */
bd_status dist_train_hooks(bd_train_config *cfg, int sync_bn, dist_sums sums, int overlap,
                           int bucket_kb, int shard);
/* Threads per process when --threads is not given: the cores this process
 * may run on, shared with the other ranks on its node (MPI_COMM_TYPE_SHARED),
 * at least 1; 0 (all cores) when not active. */
int dist_default_threads(void);
/* Do all ranks hold the same `what` (a count and a checksum)? BD_OK if so;
 * else BD_ERR_ARG on every rank with a message naming the first rank that
 * differs from rank 0 (collective: every rank must call it). */
bd_status dist_check_same(const char *what, uint64_t count, uint64_t sum);
/* Did any rank fail? (collective): returns 1 on every rank if `failed` was
 * non-zero on one of them. */
int dist_any(int failed);
/* The least and the largest v over the ranks, and the ranks that hold them
 * (collective; every rank gets them; alone: v and rank 0). */
void dist_minmax(double v, double *lo, int *lo_rank, double *hi, int *hi_rank);
/* The work of a rank between two gradient sums (the step's gather, forward,
 * backward and the update before it), timed by the sum hooks of grad_sum.c:
 * dist_work_begin when a step's gradient is complete and the rank enters
 * the sum's completion (with --overlap its buckets started during
 * backward, which is the rank's work too), dist_work_end when the sum is
 * done. An interval that holds anything else
 * collective (an evaluation, the epoch's votes, the averaged BatchNorm
 * state: dist_work_break) is left out, and so is the first. The spread of
 * these times is what one rank waits for in the next sum: two ranks with
 * equal means still wait in turn if their steps vary.
 * dist_work_stats: this rank's mean and standard deviation in seconds, and
 * how many intervals they are over. */
void dist_work_begin(void);
void dist_work_end(void);
void dist_work_break(void);
void dist_work_stats(double *mean, double *sd, long *n);
/* End the whole job now with `code` (a rank failing alone while the others
 * may wait for it in a sum: MPI_Abort, never a hang). */
void dist_abort(int code) __attribute__((noreturn));
/* grad_sum.c: set cfg's on_grad_part and on_grad; the seconds spent in
 * MPI on the gradient sums (starting, testing, waiting) and of them waiting
 * after backward, the steps, the buckets of the last step, and whether they
 * were overlapped (for the report and the benchmark); the buffers freed
 * (at MPI_Finalize). */
void dist_grad_hooks(bd_train_config *cfg, int overlap, int bucket_kb);
void dist_grad_stats(double *seconds, double *wait, long *steps, int *buckets, int *overlap);
/* shm_sum.c: dist_shm_init (from dist_init, collective) finds the ranks
 * that share memory (MPI_COMM_TYPE_SHARED; BADAK_MPI_NODE_RANKS=k cuts them
 * into nodes of k, to run the multi-node path on one machine) and, when
 * every node has the same number, makes the shared sums ready;
 * dist_shm_bind makes the window and moves net's gradient block into this
 * rank's segment (collective: every rank's net has as many parameters);
 * dist_shm_sum sums the bound block's suffix g[0..n) and v[0..nv) (nv <= 16)
 * over every rank in place (collective; BD_ERR_ARG if g is not the bound
 * block's end), counted in the statistics when count is 1 (0:
 * dist_grad_probe's reruns); the seconds in it, of them waiting for the
 * node's other ranks, the steps, the ranks per node and the nodes; the
 * window and communicators freed (collective, before MPI_Finalize). */
void dist_shm_init(int world_rank, int world_size);
int dist_shm_ready(void);
bd_status dist_shm_bind(bd_net *net, int shard);
/* Is there room on every node for net's window in Open MPI's backing
 * directory (collective)? 1 or 0 on every rank; this node's need and free
 * space in MB, and the directory (osc_sm_backing_directory, /dev/shm). */
int dist_shm_room(const bd_net *net, int shard, double *need_mb, double *free_mb,
                  const char **dir);
bd_status dist_shm_sum(float *g, size_t n, float *v, int nv, int count);
/* The sharded update (bd_train_config.on_grad_shard; dist_shm_bind with
 * shard 1 also moves net's parameter block into the window):
 * dist_shm_reduce sums this local rank's slice [*lo, *hi) of the bound
 * block's suffix g[0..n) (cut at multiples of chunk, BD__OPT_CHUNK at most
 * as fine) over every rank, and v[0..nv) (every rank sums the tails in rank
 * order, then across nodes); dist_shm_params, after the rank stepped its
 * slice of p[0..n) (the bound parameters' suffix), copies the others'
 * slices of p and of sq (Σ g² by chunk; NULL: none) from them and ANDs
 * their *finite; dist_shm_opt_state makes an optimizer state array (n
 * floats, current in this rank's slice) whole with one MPI_Allgatherv
 * among the node's ranks. All collective; BD_ERR_ARG for blocks that are
 * not the bound ones; count as for dist_shm_sum. */
bd_status dist_shm_reduce(float *g, size_t n, float *v, int nv, size_t chunk, size_t *lo,
                          size_t *hi, int count);
bd_status dist_shm_params(float *p, size_t n, double *sq, int *finite, int count);
bd_status dist_shm_opt_state(float *state, size_t n);
void dist_shm_stats(double *seconds, double *wait, long *steps, int *local, int *nodes);
void dist_shm_free(void);
/* the trainer's on_grad for the shared sums (grad_sum.c: also kept for
 * dist_grad_probe), and with shard 1 the sharded update's hooks
 * (on_grad_shard, on_params, on_opt_state) */
void dist_grad_shared_hooks(bd_train_config *cfg, int shard);
/* 1 when the run sums through shared memory; dist_grad_sharded: and
 * each rank steps only its slice (the sharded update) */
int dist_grad_shared(void);
int dist_grad_sharded(void);
/* Before training with the hooks of dist_train_hooks (collective): with the
 * shared sums, net's gradient block moved into the shared window
 * (dist_shm_bind); where a node's backing directory has no room for it, the
 * buckets of bucket_kb instead (a note on rank 0), or BD_ERR_NOMEM when
 * `sums` asked for shared memory; else nothing. */
bd_status dist_train_bind(bd_train_config *cfg, bd_net *net, dist_sums sums, int bucket_kb);
void dist_grad_free(void);
/* The last step's gradient sums timed `reps` times right after an
 * MPI_Barrier, on a copy of the block: the transfer alone, without the
 * time a rank waits for the slower one (collective; reps <= 0: nothing).
 * dist_grad_probe_stats: the mean seconds of one step's sums, and reps (0:
 * not probed). */
bd_status dist_grad_probe(int reps);
void dist_grad_probe_stats(double *seconds, int *reps);

/* Checksums for dist_check_same (zlib's CRC-32, 64-bit by chaining). */
uint64_t dist_crc(uint64_t crc, const void *data, size_t len);
uint64_t dist_dataset_crc(const bd_dataset *ds);
/* The architecture (as INI text) and every parameter and state value. */
bd_status dist_net_crc(const bd_net *net, uint64_t *crc);

#endif
