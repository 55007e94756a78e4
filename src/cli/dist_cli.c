/* dist_cli.c — what `badak train` and `badak hpsearch` do differently when
 * started by mpirun or srun (src/dist/): only rank 0 prints and writes
 * files, every rank checks that it trains what the others train, and a
 * rank that fails alone ends the whole job rather than leave the others
 * waiting in a sum. */
#include "cli.h"
#include "internal.h" /* BD_TRY */

#include "dist/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_dist_threads(long threads)
{
    return threads > 0 ? (int)threads : dist_default_threads();
}

void cli_dist_outputs(int *quiet, int *json, const char **log_path, const char **ckpt,
                      const char **save)
{
    if (!dist_active() || dist_is_root())
        return;
    *quiet = 1;
    *json = 0;
    *log_path = *ckpt = *save = NULL;
}

int cli_dist_fail(bd_status s, int collective)
{
    if (!dist_active())
        return cli_fail(s);
    int code = s == BD_ERR_ARG ? EXIT_USAGE : EXIT_FAIL;
    if (collective) { /* every rank has this error: say it once */
        if (dist_is_root())
            cli_fail(s);
        return code;
    }
    fflush(stdout);
    fprintf(stderr, "badak: error (rank %d of %d): %s\n", dist_rank(), dist_size(),
            bd_errmsg());
    dist_abort(code);
}

int cli_dist_any_failed(bd_status s)
{
    if (!dist_active())
        return s != BD_OK ? cli_fail(s) : 0;
    if (!dist_any(s != BD_OK))
        return 0;
    if (s != BD_OK) {
        fflush(stdout);
        fprintf(stderr, "badak: error (rank %d of %d): %s\n", dist_rank(), dist_size(),
                bd_errmsg());
    }
    return s == BD_ERR_ARG ? EXIT_USAGE : EXIT_FAIL;
}

bd_status cli_dist_agree(const bd_dataset *train, const bd_dataset *test,
                         const bd_dataset *val, const bd_net *net, const char *run)
{
    if (!dist_active())
        return BD_OK;
    uint64_t ncrc = 0;
    bd_status s = net ? dist_net_crc(net, &ncrc) : BD_OK;
    /* a failure here is local; checking it collectively keeps the ranks in
     * step (dist_any), then every check below is made by every rank */
    if (dist_any(s != BD_OK))
        return s != BD_OK ? s : bd_error(BD_ERR_ARG, "another rank could not checksum its "
                                         "network");
    /* the first disagreement is the one reported (each check's outcome is
     * the same on every rank, so all stop at the same one) */
    BD_TRY(dist_check_same("the options", strlen(run ? run : ""),
                           dist_crc(0, run ? run : "", strlen(run ? run : ""))));
    const bd_dataset *sets[3] = {train, test, val};
    const char *names[3] = {"the training set (samples)", "the test set (samples)",
                            "the validation set (samples)"};
    for (int i = 0; i < 3; i++) {
        const bd_dataset *d = sets[i];
        BD_TRY(dist_check_same(names[i], d ? (uint64_t)d->n : 0,
                               d && d->n ? dist_dataset_crc(d) : 0));
    }
    return dist_check_same("the network (parameters)", net ? bd_net_param_count(net) : 0,
                           ncrc);
}

bd_status cli_dist_agree_net(const char *what, const bd_net *net)
{
    if (!dist_active())
        return BD_OK;
    uint64_t c = 0;
    bd_status s = dist_net_crc(net, &c);
    if (dist_any(s != BD_OK))
        return s != BD_OK ? s : bd_error(BD_ERR_ARG, "another rank could not checksum %s", what);
    return dist_check_same(what, bd_net_param_count(net), c);
}

void cli_dist_report(int quiet)
{
    if (!dist_active())
        return;
    double sec, wait;
    long steps;
    int buckets, overlap, local, nodes;
    const int shared = dist_grad_shared();
    if (shared)
        dist_shm_stats(&sec, &wait, &steps, &local, &nodes);
    else
        dist_grad_stats(&sec, &wait, &steps, &buckets, &overlap);
    /* the ranks that waited least and most: one slow rank, or jitter that
     * makes each wait in turn (collective) */
    double wlo, whi;
    int rlo, rhi;
    dist_minmax(wait, &wlo, &rlo, &whi, &rhi);
    /* the work between the sums: uneven ranks (the means differ) or
     * steps that vary (the spreads) make the waits */
    double wm, wsd, mlo, mhi, slo, shi;
    long wn;
    int rmlo, rmhi, rslo, rshi;
    dist_work_stats(&wm, &wsd, &wn);
    dist_minmax(wm, &mlo, &rmlo, &mhi, &rmhi);
    dist_minmax(wsd, &slo, &rslo, &shi, &rshi);
    if (!dist_is_root() || quiet)
        return;
    if (shared) {
        printf("data parallel: %d ranks; %ld gradient sums (shared memory, %d rank%s a node, "
               "%d node%s), %.3f s in all (%.3f ms each on rank 0; %.3f ms of it waiting "
               "for the node's other ranks)\n", dist_size(), steps, local, local == 1 ? "" : "s",
               nodes, nodes == 1 ? "" : "s", sec, steps ? 1e3 * sec / (double)steps : 0.0,
               steps ? 1e3 * wait / (double)steps : 0.0);
    } else {
        printf("data parallel: %d ranks; %ld gradient allreduces (%d buckets each, %s), %.3f "
               "s in all (%.3f ms each on rank 0; %.3f ms of it waiting after backward)\n",
               dist_size(), steps, buckets,
               overlap ? "overlapped with backward" : "after backward", sec,
               steps ? 1e3 * sec / (double)steps : 0.0, steps ? 1e3 * wait / (double)steps : 0.0);
    }
    if (dist_grad_sharded())
        printf("optimizer step: sharded, each rank steps 1/%d of the weights and the ranks "
               "trade them\n", local);
    else
        printf("optimizer step: every rank steps all the weights\n");
    if (steps)
        printf("waiting for the other ranks, ms a step: least %.3f (rank %d), most %.3f "
               "(rank %d)\n", 1e3 * wlo / (double)steps, rlo, 1e3 * whi / (double)steps, rhi);
    if (wn > 1)
        printf("work between the sums, ms a step (%ld steps): mean least %.3f (rank %d), most "
               "%.3f (rank %d); standard deviation least %.3f (rank %d), most %.3f (rank %d)\n",
               wn, 1e3 * mlo, rmlo, 1e3 * mhi, rmhi, 1e3 * slo, rslo, 1e3 * shi, rshi);
    double alone;
    int reps;
    dist_grad_probe_stats(&alone, &reps);
    if (reps > 0)
        printf("gradient sums alone: %.3f ms a step (mean of %d, each right after a barrier); "
               "so %.3f ms a step waiting for the slower rank\n", 1e3 * alone, reps,
               steps ? 1e3 * sec / (double)steps - 1e3 * alone : 0.0);
}

bd_status cli_dist_probe(int reps)
{
    return dist_active() && reps > 0 ? dist_grad_probe(reps) : BD_OK;
}

const bd_comm *cli_dist_comm(int sync_bn) { return dist_comm(sync_bn); }

int cli_dist_sums_refused(int sums)
{
    return dist_active() && sums == CLI_SUMS_SHARED && !dist_shm_ready();
}

void cli_dist_train_config(bd_train_config *cfg, int sync_bn, int sums, int overlap,
                           int bucket_kb, int shard)
{
    const dist_sums m = sums == CLI_SUMS_SHARED      ? DIST_SUMS_SHARED
                        : sums == CLI_SUMS_ALLREDUCE ? DIST_SUMS_ALLREDUCE
                                                     : DIST_SUMS_AUTO;
    /* refused cases were refused by check_options: BD_OK here */
    (void)dist_train_hooks(cfg, sync_bn, m, overlap, bucket_kb, shard);
}

bd_status cli_dist_bind(bd_train_config *cfg, bd_net *net, int sums, int bucket_kb)
{
    if (!dist_active())
        return BD_OK;
    return dist_train_bind(cfg, net, sums == CLI_SUMS_SHARED ? DIST_SUMS_SHARED : DIST_SUMS_AUTO,
                           bucket_kb);
}

int cli_dist_root(void) { return !dist_active() || dist_is_root(); }

char *cli_dist_argv_text(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    char *t = malloc(n), *p = t;
    for (int i = 0; t && i < argc; i++)
        p += sprintf(p, "%s\x1f", argv[i]);
    if (t)
        *p = 0;
    return t;
}
