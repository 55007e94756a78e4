/* test_dist.c — the library's side of data-parallel training: the shard
 * rule, and random layers drawing the same numbers for a sample however the
 * batch is split (what makes N ranks train like one process with Dropout).
 * The MPI side is tested by tests/cli_mpi.sh under mpirun. */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

#include <pthread.h>

/* bd_shard: contiguous, covering, sizes B/N or B/N + 1 */
static void shard_rule(void **st)
{
    for (int B = 1; B <= 40; B++)
        for (int N = 1; N <= 7; N++) {
            int next = 0;
            for (int r = 0; r < N; r++) {
                int lo, hi;
                bd_shard(B, r, N, &lo, &hi);
                assert_int_equal(lo, next);
                assert_true(hi - lo == B / N || hi - lo == B / N + 1);
                assert_int_equal(lo, (int)((long)B * r / N));
                next = hi;
            }
            assert_int_equal(next, B);
        }
    int lo, hi;
    bd_shard(100, 2, 3, &lo, &hi);
    assert_int_equal(lo, 66);
    assert_int_equal(hi, 100);
    bd_shard(100, 0, 3, &lo, &hi);
    assert_int_equal(hi, 33);
    bd_shard(10, 3, 3, &lo, &hi); /* not a rank: nothing */
    assert_int_equal(hi - lo, 0);
}

/* Dropout then RReLU over D features */
static void random_net(bd_net **out, int D, int B)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 9);
    assert_ok(bd_net_create(&net, 1, 1, D));
    assert_ok(bd_net_add_with(net, BD_LAYER_DROPOUT, 0, 0.4f, 0));
    assert_ok(bd_net_add(net, BD_LAYER_RRELU, 0));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    assert_ok(bd_net_reserve(net, B));
    *out = net;
}

/* Rows [lo, hi) of x as one forward of a shard starting at row lo; the
 * output into y. The net's PRNG is put back first, as every rank has the
 * same PRNG state at a step. */
static void forward_rows(bd_net *net, const bd_rng *rng, const float *x, int D, int lo, int hi,
                         float *y)
{
    net->rng = *rng;
    net->row0 = lo;
    int shape[2] = {hi - lo, D};
    bd_tensor in = bd_tensor_view((float *)x + (size_t)lo * D, 2, shape);
    const bd_tensor *out;
    assert_ok(bd_net_forward(net, &in, &out));
    memcpy(y + (size_t)lo * D, bd_f32(out), (size_t)(hi - lo) * D * sizeof(float));
}

static void random_layers_any_split(void **st)
{
    enum { D = 37, B = 9 };
    bd_net *net = NULL;
    random_net(&net, D, B);
    float x[B * D], whole[B * D], split[B * D];
    for (int i = 0; i < B * D; i++)
        x[i] = (float)((i * 7919) % 23) / 11.0f - 1.0f; /* both signs: RReLU slopes matter */
    const bd_rng rng = net->rng;
    forward_rows(net, &rng, x, D, 0, B, whole);
    forward_rows(net, &rng, x, D, 0, 4, split); /* "rank 0" */
    forward_rows(net, &rng, x, D, 4, 7, split); /* "rank 1" */
    forward_rows(net, &rng, x, D, 7, B, split); /* "rank 2" */
    assert_memory_equal(whole, split, sizeof whole);
    /* and the masks are masks: some units dropped, some kept, per row */
    int dropped = 0;
    for (int i = 0; i < B * D; i++)
        dropped += whole[i] == 0.0f && x[i] != 0.0f;
    assert_true(dropped > B * D / 5 && dropped < B * D * 3 / 5);
    /* another step (the PRNG moved on) draws other masks */
    forward_rows(net, &net->rng, x, D, 0, B, split);
    assert_true(memcmp(whole, split, sizeof whole) != 0);
    net->row0 = 0;
    bd_net_free(net);
}


/* ---- bd_train over a group of threads standing in for processes: each
 * sum waits for every member, rank 0 adds the buffers in rank order, all
 * copy the result (the same bits everywhere, as MPI_Allreduce gives). */
#define TRY(e)                       \
    do {                             \
        bd_status t_ = (e);          \
        if (t_ != BD_OK)             \
            return t_;               \
    } while (0)
#define GMAX 4
#define GCAP (1 << 16)
typedef struct group {
    pthread_barrier_t bar;
    void *buf[GMAX];
    float f[GCAP];
    double d[64];
} group;

typedef struct member {
    group *g;
    int rank, size;
    bd_comm comm;
    /* the run */
    const bd_dataset *train, *test;
    long stop_at;         /* raise this member's stop flag after this iteration */
    volatile sig_atomic_t flag;
    bd_net *net;
    bd_train_result res;
    bd_status status;
} member;

static bd_status gsum(member *m, void *x, size_t n, int dbl)
{
    group *g = m->g;
    if (n > (dbl ? 64u : (size_t)GCAP))
        return bd_error(BD_ERR_ARG, "test group: %zu values", n);
    g->buf[m->rank] = x;
    pthread_barrier_wait(&g->bar);
    if (m->rank == 0)
        for (size_t k = 0; k < n; k++) {
            double sd = 0.0;
            float sf = 0.0f;
            for (int r = 0; r < m->size; r++) {
                if (dbl)
                    sd += ((double *)g->buf[r])[k];
                else
                    sf += ((float *)g->buf[r])[k];
            }
            if (dbl)
                g->d[k] = sd;
            else
                g->f[k] = sf;
        }
    pthread_barrier_wait(&g->bar);
    memcpy(x, dbl ? (void *)g->d : (void *)g->f, n * (dbl ? sizeof(double) : sizeof(float)));
    pthread_barrier_wait(&g->bar);
    return BD_OK;
}

static bd_status sum_f32(void *ud, float *x, size_t n) { return gsum(ud, x, n, 0); }
static bd_status sum_f64(void *ud, double *x, size_t n) { return gsum(ud, x, n, 1); }
/* the trainer's hooks over the same sums */
static bd_status on_sum(void *ud, double *v, int n) { return gsum(ud, v, (size_t)n, 1); }

static void on_iter_stop(void *ud, long iter, long total, float loss)
{
    member *m = ud;
    if (iter == m->stop_at)
        m->flag = 1;
}

/* mlp 8-16-16-4 with BatchNorm and Dropout, SGD, 3 epochs of batch 30 */
static bd_status run_member(member *m, const bd_comm *comm)
{
    bd_net_spec sp;
    bd_net_spec_default(&sp);
    snprintf(sp.model, sizeof sp.model, "mlp");
    sp.hidden[0] = 16, sp.hidden[1] = 16, sp.nhidden = 2;
    sp.batchnorm = 1;
    sp.dropout = 0.25f;
    bd_rng r;
    bd_rng_seed(&r, 5);
    TRY(bd_net_from_spec(&m->net, &sp, 1, 1, 8, 4, &r));
    bd_optim *opt = NULL;
    TRY(bd_optim_create(&opt, "sgd", &(bd_optim_config){.lr = 0.1f},
                           m->net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 30;
    cfg.epochs = 3;
    cfg.seed = 11;
    if (comm) { /* --sync-bn: the running averages agree without on_state */
        cfg.rank = comm->rank;
        cfg.nranks = comm->size;
        cfg.on_grad = sum_f32;
        cfg.on_sum = on_sum;
        cfg.dist_ud = m;
        cfg.sync_bn = comm;
    }
    cfg.stop = &m->flag;
    cfg.on_iter = on_iter_stop;
    cfg.ud = m;
    bd_status s = bd_train(m->net, opt, m->train, m->test, &cfg, &m->res);
    bd_optim_free(opt);
    return s;
}

static void *member_main(void *arg)
{
    member *m = arg;
    m->status = run_member(m, &m->comm);
    return NULL;
}

/* size members train together; returns them (nets to free) */
static void run_group(member *ms, int size, const bd_dataset *tr, const bd_dataset *te,
                      long stop_rank1_at)
{
    static group g;
    pthread_barrier_init(&g.bar, NULL, (unsigned)size);
    pthread_t th[GMAX];
    for (int r = 0; r < size; r++) {
        member *m = &ms[r];
        memset(m, 0, sizeof *m);
        *m = (member){.g = &g, .rank = r, .size = size, .train = tr, .test = te,
                      .stop_at = r == 1 ? stop_rank1_at : -1};
        m->comm = (bd_comm){.rank = r, .size = size, .sync_bn = 1, .ud = m,
                            .sum_f32 = sum_f32, .sum_f64 = sum_f64};
        assert_int_equal(pthread_create(&th[r], NULL, member_main, m), 0);
    }
    for (int r = 0; r < size; r++)
        pthread_join(th[r], NULL);
    pthread_barrier_destroy(&g.bar);
}

/* 3 members with --sync-bn train the model of one process (Dropout and
 * BatchNorm included), evaluate alike, and agree bit for bit */
static void group_trains_like_one(void **st)
{
    bd_set_threads(1);
    bd_dataset tr, te;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5);
    make_blobs(&te, 100, 8, 4, 1.0f, 2, 5);
    member one;
    memset(&one, 0, sizeof one);
    one.stop_at = -1;
    one.train = &tr;
    one.test = &te;
    assert_ok(run_member(&one, NULL));
    member ms[3];
    run_group(ms, 3, &tr, &te, -1);
    double worst = 0.0;
    for (int r = 0; r < 3; r++) {
        assert_ok(ms[r].status);
        assert_int_equal(ms[r].res.iters, one.res.iters);
        assert_close(ms[r].res.test_acc, one.res.test_acc, 1e-6);
        assert_memory_equal(bd_f32(&ms[r].net->params), bd_f32(&ms[0].net->params),
                            ms[0].net->params.size * sizeof(float));
        assert_memory_equal(bd_f32(&ms[r].net->state), bd_f32(&ms[0].net->state),
                            ms[0].net->state.size * sizeof(float));
        for (size_t k = 0; k < one.net->params.size; k++)
            worst = fmax(worst, fabs(bd_f32(&ms[r].net->params)[k] - bd_f32(&one.net->params)[k]));
        bd_net_free(ms[r].net);
    }
    print_message("3 members vs 1 process: max |weight difference| %.3g\n", worst);
    assert_true(worst <= 1e-5);
    bd_net_free(one.net);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

/* one member's stop flag stops every member after the same step */
static void group_stops_together(void **st)
{
    bd_set_threads(1);
    bd_dataset tr;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5);
    member ms[2];
    run_group(ms, 2, &tr, NULL, 4);
    for (int r = 0; r < 2; r++) {
        assert_ok(ms[r].status);
        assert_int_equal(ms[r].res.interrupted, 1);
        assert_int_equal(ms[r].res.iters, 5); /* raised after step 4, voted in step 5 */
        bd_net_free(ms[r].net);
    }
    bd_dataset_free(&tr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shard_rule),
        cmocka_unit_test(random_layers_any_split),
        cmocka_unit_test(group_trains_like_one),
        cmocka_unit_test(group_stops_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
