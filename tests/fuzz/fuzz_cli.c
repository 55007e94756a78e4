/* fuzz_cli.c — fuzz target: `badak train`'s option parser and checks
 * (parse_options, check_options of src/cli/cmd_train.c) on an argv made
 * from the bytes: arguments separated by NUL or newline, at most 64. The
 * CLI's sources are included, so their static functions are reachable. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/common.c"
#include "../../src/cli/progress.c"
#include "../../src/cli/data_inputs.c"
#include "../../src/cli/train_classes.c"
#include "../../src/cli/train_diag.c"
#include "../../src/cli/json.c"
#include "../../src/cli/cmd_train.c"
#include "../../src/cli/dist_cli.c"

/* src/dist/ for a process no MPI launcher started, as dist.c behaves then
 * (the fuzz programs do not link Open MPI): alone, rank 0, nothing to
 * reduce or check. */
int dist_launched(void) { return 0; }
int dist_active(void) { return 0; }
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
int dist_is_root(void) { return 1; }
const bd_comm *dist_comm(int sync_bn) { return NULL; }
bd_status dist_train_hooks(bd_train_config *cfg, int sync_bn, dist_sums sums, int overlap,
                           int bucket_kb, int shard)
{
    return BD_OK;
}
int dist_shm_ready(void) { return 0; }
bd_status dist_train_bind(bd_train_config *cfg, bd_net *net, dist_sums sums, int bucket_kb)
{
    return BD_OK;
}
int dist_grad_shared(void) { return 0; }
int dist_grad_sharded(void) { return 0; }
void dist_shm_stats(double *seconds, double *wait, long *steps, int *local, int *nodes)
{
    *seconds = *wait = 0, *steps = 0, *local = 1, *nodes = 1;
}
int dist_default_threads(void) { return 0; }
bd_status dist_check_same(const char *what, uint64_t count, uint64_t sum) { return BD_OK; }
int dist_any(int failed) { return failed != 0; }
void dist_abort(int code) { exit(code); }
void dist_minmax(double v, double *lo, int *lo_rank, double *hi, int *hi_rank)
{
    *lo = *hi = v, *lo_rank = *hi_rank = 0;
}
void dist_grad_stats(double *seconds, double *wait, long *steps, int *buckets, int *overlap)
{
    *seconds = *wait = 0, *steps = 0, *buckets = 0, *overlap = 0;
}
uint64_t dist_crc(uint64_t crc, const void *data, size_t len) { return crc; }
uint64_t dist_dataset_crc(const bd_dataset *ds) { return 0; }
bd_status dist_net_crc(const bd_net *net, uint64_t *crc) { return *crc = 0, BD_OK; }

static int fuzz_cli(const uint8_t *data, size_t size)
{
    enum { MAXARG = 64 };
    char *buf = malloc(size + 1), *av[MAXARG + 2];
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    int ac = 0;
    av[ac++] = "train";
    char *p = buf, *end = buf + size;
    while (p < end && ac < MAXARG + 1) {
        av[ac++] = p;
        while (p < end && *p && *p != '\n')
            p++;
        *p++ = 0;
    }
    av[ac] = NULL;
    train_opts o;
    int rc = parse_options(ac, av, &o);
    if (rc < 0)
        rc = check_options(&o, 0);
    if (rc < 0 && (o.batch < 1 || o.threads < 0 || (o.epochs && o.iters)))
        abort(); /* accepted options are in their ranges */
    free(buf);
    return 0;
}

#ifdef BD_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_cli(data, size); }
#endif
