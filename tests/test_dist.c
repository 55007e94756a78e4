/* test_dist.c — the library's side of data-parallel training: the shard
 * rule, and random layers drawing the same numbers for a sample however the
 * batch is split (what makes N ranks train like one process with Dropout).
 * The MPI side is tested by tests/cli_mpi.sh under mpirun. */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

#include "internal.h" /* bd__net_backward_each */

#include <dirent.h>
#include <pthread.h>
#include <unistd.h>

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
    /* the sharded update's blocks, as each member posts them */
    float *gp[GMAX], *pp[GMAX], *st[GMAX];
    double *sqp[GMAX];
    int fl[GMAX];
} group;

typedef struct member {
    group *g;
    int rank, size;
    bd_comm comm;
    /* the run */
    const bd_dataset *train, *test;
    long stop_at;         /* raise this member's stop flag after this iteration */
    volatile sig_atomic_t flag;
    int overlap;          /* sum the gradient in backward (on_grad_part) */
    size_t pend;          /* overlapped: g[from, pend) final and not yet summed */
    long nsum;            /* on_sum calls */
    int count_state;      /* on_state only counts its calls (no sum) */
    long nstate;          /* on_state calls */
    const char *ckpt;     /* rank 0's checkpoint folder (NULL: none) */
    int shard;            /* the sharded update (on_grad_shard ...) */
    float *pv;            /* its step's {loss share, stop vote} (on_grad_part) */
    size_t chunk;         /* its cut */
    long nparams, nopt;   /* on_params, on_opt_state calls */
    double norms[64];     /* the gradient norms reported, by step */
    int nnorm;
    bd_optim *opt;        /* kept after the run (run_shard_member) */
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
static bd_status on_sum(void *ud, double *v, int n)
{
    ((member *)ud)->nsum++;
    return gsum(ud, v, (size_t)n, 1);
}

/* Overlapped: v (loss share, stop vote) summed when the step begins, each
 * final suffix summed as soon as backward reports it (during backward);
 * on_grad then only checks that the whole block was covered. A slice
 * reported twice would be summed twice, one never reported not at all:
 * either changes the weights. */
static bd_status on_part(void *ud, float *g, size_t n, size_t from, float *v)
{
    member *m = ud;
    if (v) {
        m->pend = n;
        return gsum(m, v, 2, 0);
    }
    if (from > m->pend)
        return bd_error(BD_ERR_ARG, "test group: suffix from %zu after %zu", from, m->pend);
    bd_status s = m->pend > from ? gsum(m, g + from, m->pend - from, 0) : BD_OK;
    m->pend = from;
    return s;
}

/* counts the calls: a collective every member must make equally often */
static bd_status on_state_count(void *ud, float *state, size_t n)
{
    ((member *)ud)->nstate++;
    return BD_OK;
}

static bd_status on_done(void *ud, float *g, size_t n)
{
    member *m = ud;
    if (m->pend != 0)
        return bd_error(BD_ERR_ARG, "test group: g[0, %zu) never reported final", m->pend);
    return BD_OK;
}

static void on_iter_stop(void *ud, long iter, long total, float loss)
{
    member *m = ud;
    if (iter == m->stop_at)
        m->flag = 1;
}

/* mlp 8-h-h-4 with BatchNorm, Dropout 0.25 and weight decay 0.01 (added
 * per layer in backward: summed with it) */
static void mlp_spec(bd_net_spec *sp, int h)
{
    bd_net_spec_default(sp);
    snprintf(sp->model, sizeof sp->model, "mlp");
    sp->hidden[0] = h, sp->hidden[1] = h, sp->nhidden = 2;
    sp->batchnorm = 1;
    sp->dropout = 0.25f;
    sp->weight_decay = 0.01f;
}

/* mlp 8-16-16-4 with BatchNorm and Dropout, SGD, 3 epochs of batch 30 */
static bd_status run_member(member *m, const bd_comm *comm)
{
    bd_net_spec sp;
    mlp_spec(&sp, 16);
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
        cfg.on_grad = m->overlap ? on_done : sum_f32;
        cfg.on_grad_part = m->overlap ? on_part : NULL;
        cfg.on_sum = on_sum;
        cfg.dist_ud = m;
        cfg.sync_bn = m->count_state ? NULL : comm;
        cfg.on_state = m->count_state ? on_state_count : NULL;
        cfg.checkpoint = m->rank == 0 ? m->ckpt : NULL;
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

/* size members, their run fields set, each a thread of main_fn over one
 * group (its barrier, its comm), till all are done */
static void run_members(member *ms, int size, void *(*main_fn)(void *))
{
    static group g;
    pthread_barrier_init(&g.bar, NULL, (unsigned)size);
    pthread_t th[GMAX];
    for (int r = 0; r < size; r++) {
        member *m = &ms[r];
        m->g = &g;
        m->rank = r;
        m->size = size;
        m->comm = (bd_comm){.rank = r, .size = size, .sync_bn = 1, .ud = m,
                            .sum_f32 = sum_f32, .sum_f64 = sum_f64};
        assert_int_equal(pthread_create(&th[r], NULL, main_fn, m), 0);
    }
    for (int r = 0; r < size; r++)
        pthread_join(th[r], NULL);
    pthread_barrier_destroy(&g.bar);
}

/* --- the sharded update: each member steps its slice of the block */

/* member k's slice of n, cut at multiples of chunk (as src/dist's) */
static void test_slice(int k, int size, size_t n, size_t chunk, size_t *lo, size_t *hi)
{
    const size_t chunks = (n + chunk - 1) / chunk;
    *lo = BD_MIN(chunks * (size_t)k / (size_t)size * chunk, n);
    *hi = BD_MIN(chunks * (size_t)(k + 1) / (size_t)size * chunk, n);
}

static bd_status sh_part(void *ud, float *g, size_t n, size_t from, float *v)
{
    if (v)
        ((member *)ud)->pv = v;
    return BD_OK;
}

static bd_status sh_unused(void *ud, float *g, size_t n)
{
    return bd_error(BD_ERR_ARG, "test group: on_grad called in a sharded run");
}

/* only my slice summed, in gsum's order (rank 0 first) */
static bd_status sh_shard(void *ud, float *g, size_t n, size_t chunk, size_t *lo, size_t *hi)
{
    member *m = ud;
    group *G = m->g;
    TRY(gsum(m, m->pv, 2, 0));
    G->gp[m->rank] = g;
    pthread_barrier_wait(&G->bar);
    test_slice(m->rank, m->size, n, chunk, lo, hi);
    for (size_t k = *lo; k < *hi; k++) {
        float sf = 0.0f;
        for (int r = 0; r < m->size; r++)
            sf += G->gp[r][k];
        g[k] = sf;
    }
    pthread_barrier_wait(&G->bar);
    m->chunk = chunk;
    return BD_OK;
}

/* the others' slices of p and sq from them, their flags ANDed */
static bd_status sh_params(void *ud, float *p, size_t n, double *sq, int *finite)
{
    member *m = ud;
    group *G = m->g;
    G->pp[m->rank] = p;
    G->sqp[m->rank] = sq;
    G->fl[m->rank] = *finite;
    pthread_barrier_wait(&G->bar);
    for (int r = 0; r < m->size; r++) {
        size_t lo, hi;
        test_slice(r, m->size, n, m->chunk, &lo, &hi);
        if (r == m->rank || lo == hi)
            continue;
        memcpy(p + lo, G->pp[r] + lo, (hi - lo) * sizeof *p);
        for (size_t a = lo; sq && a < hi; a += m->chunk)
            sq[a / m->chunk] = G->sqp[r][a / m->chunk];
        *finite &= G->fl[r];
    }
    pthread_barrier_wait(&G->bar);
    m->nparams++;
    return BD_OK;
}

static bd_status sh_opt_state(void *ud, float *state, size_t n)
{
    member *m = ud;
    group *G = m->g;
    G->st[m->rank] = state;
    pthread_barrier_wait(&G->bar);
    for (int r = 0; r < m->size; r++) {
        size_t lo, hi;
        test_slice(r, m->size, n, m->chunk ? m->chunk : n, &lo, &hi);
        if (r != m->rank && m->chunk)
            memcpy(state + lo, G->st[r] + lo, (hi - lo) * sizeof *state);
    }
    pthread_barrier_wait(&G->bar);
    m->nopt++;
    return BD_OK;
}

static void note_norm(void *ud, long iter, double norm)
{
    member *m = ud;
    if (m->nnorm < 64)
        m->norms[m->nnorm++] = norm;
}

/* mlp 8-100-100-4 (11,404 parameters: 2 of the update's chunks) with
 * BatchNorm, Dropout and weight decay, Adam, 3 epochs of batch 30;
 * sharded or every member stepping all */
static bd_status run_shard_member(member *m)
{
    bd_net_spec sp;
    mlp_spec(&sp, 100);
    bd_rng r;
    bd_rng_seed(&r, 5);
    TRY(bd_net_from_spec(&m->net, &sp, 1, 1, 8, 4, &r));
    TRY(bd_optim_create(&m->opt, "adam", &(bd_optim_config){.lr = 0.01f}, m->net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 30;
    cfg.epochs = 3;
    cfg.seed = 11;
    cfg.rank = m->rank;
    cfg.nranks = m->size;
    cfg.on_sum = on_sum;
    cfg.dist_ud = m;
    cfg.sync_bn = &m->comm;
    if (m->shard) {
        cfg.on_grad = sh_unused;
        cfg.on_grad_part = sh_part;
        cfg.on_grad_shard = sh_shard;
        cfg.on_params = sh_params;
        cfg.on_opt_state = sh_opt_state;
    } else {
        cfg.on_grad = sum_f32;
    }
    cfg.on_grad_norm = note_norm;
    cfg.ud = m;
    return bd_train(m->net, m->opt, m->train, m->test, &cfg, &m->res);
}

static void *shard_main(void *arg)
{
    member *m = arg;
    m->status = run_shard_member(m);
    return NULL;
}

static void run_shard_group(member *ms, int size, const bd_dataset *tr, const bd_dataset *te,
                            int shard)
{
    for (int r = 0; r < size; r++)
        ms[r] = (member){.train = tr, .test = te, .stop_at = -1, .shard = shard};
    run_members(ms, size, shard_main);
}

/* 2 and 3 members stepping a slice each give the weights, the optimizer
 * state (made whole before every evaluation), the gradient norms and the
 * loss of members that step everything, bit for bit; with 3 members and 2
 * chunks one member steps nothing */
static void group_sharded_same_bits(void **st)
{
    bd_set_threads(1);
    bd_dataset tr, te;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5);
    make_blobs(&te, 100, 8, 4, 1.0f, 2, 5);
    for (int size = 2; size <= 3; size++) {
        member all[3], sh[3];
        run_shard_group(all, size, &tr, &te, 0);
        run_shard_group(sh, size, &tr, &te, 1);
        const size_t n = all[0].opt->n;
        assert_true(n > BD__OPT_CHUNK);
        for (int r = 0; r < size; r++) {
            assert_ok(all[r].status);
            assert_ok(sh[r].status);
            assert_int_equal(sh[r].res.iters, all[r].res.iters);
            assert_int_equal(sh[r].nparams, all[r].res.iters);
            assert_int_equal(sh[r].nopt, 2 * 3); /* m and v, at each of 3 epochs' ends */
            assert_memory_equal(bd_f32(&sh[r].net->params), bd_f32(&all[r].net->params),
                                n * sizeof(float));
            assert_memory_equal(bd_f32(&sh[r].net->state), bd_f32(&all[r].net->state),
                                sh[r].net->state.size * sizeof(float));
            for (int k = 0; k < 2; k++)
                assert_memory_equal(bd_f32(&sh[r].opt->state[k]), bd_f32(&all[r].opt->state[k]),
                                    n * sizeof(float));
            assert_int_equal(sh[r].nnorm, all[r].nnorm);
            assert_memory_equal(sh[r].norms, all[r].norms, (size_t)all[r].nnorm * sizeof(double));
            assert_true(sh[r].res.final_loss == all[r].res.final_loss);
            assert_true(sh[r].res.test_acc == all[r].res.test_acc);
        }
        for (int r = 0; r < size; r++) {
            bd_optim_free(all[r].opt);
            bd_optim_free(sh[r].opt);
            bd_net_free(all[r].net);
            bd_net_free(sh[r].net);
        }
    }
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

/* the sharded update needs the whole gradient on no step */
static void sharded_refuses_clip_and_layer_log(void **st)
{
    bd_dataset tr;
    make_blobs(&tr, 60, 8, 4, 1.0f, 1, 5);
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 5);
    bd_net_spec sp;
    bd_net_spec_default(&sp);
    snprintf(sp.model, sizeof sp.model, "mlp");
    assert_ok(bd_net_from_spec(&net, &sp, 1, 1, 8, 4, &r));
    bd_optim *opt = NULL;
    assert_ok(bd_optim_create(&opt, "sgd", NULL, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.rank = 0;
    cfg.nranks = 2;
    cfg.on_sum = on_sum;
    cfg.on_grad = sh_unused;
    cfg.on_grad_part = sh_part;
    cfg.on_grad_shard = sh_shard;
    bd_trainer *t = NULL;
    assert_int_equal(bd_trainer_create(&t, net, opt, &tr, NULL, &cfg), BD_ERR_ARG);
    assert_non_null(strstr(bd_errmsg(), "on_params and on_opt_state"));
    cfg.on_params = sh_params;
    cfg.on_opt_state = sh_opt_state;
    cfg.clip_grad_norm = 1.0f;
    assert_int_equal(bd_trainer_create(&t, net, opt, &tr, NULL, &cfg), BD_ERR_ARG);
    assert_non_null(strstr(bd_errmsg(), "gradient clipping"));
    cfg.clip_grad_norm = 0.0f;
    cfg.layer_log = "/nonexistent/layers.csv";
    assert_int_equal(bd_trainer_create(&t, net, opt, &tr, NULL, &cfg), BD_ERR_ARG);
    assert_non_null(strstr(bd_errmsg(), "the layer log"));
    assert_null(t);
    bd_optim_free(opt);
    bd_net_free(net);
    bd_dataset_free(&tr);
}

/* size members train together; returns them (nets to free) */
static void run_group_ck(member *ms, int size, const bd_dataset *tr, const bd_dataset *te,
                         long stop_rank1_at, int overlap, const char *ckpt)
{
    for (int r = 0; r < size; r++)
        ms[r] = (member){.train = tr, .test = te, .stop_at = r == 1 ? stop_rank1_at : -1,
                         .overlap = overlap, .count_state = ckpt != NULL, .ckpt = ckpt};
    run_members(ms, size, member_main);
}

static void run_group(member *ms, int size, const bd_dataset *tr, const bd_dataset *te,
                      long stop_rank1_at, int overlap)
{
    run_group_ck(ms, size, tr, te, stop_rank1_at, overlap, NULL);
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
    run_group(ms, 3, &tr, &te, -1, 0);
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
    }
    for (int r = 0; r < 3; r++) /* after the loop: every member is compared with ms[0] */
        bd_net_free(ms[r].net);
    print_message("3 members vs 1 process: max |weight difference| %.3g\n", worst);
    assert_true(worst <= 1e-5);
    bd_net_free(one.net);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

/* one member's stop flag stops every member after the same step: voted
 * with the loss (on_sum), or overlapped, with the gradient (on_grad_part) */
static void group_stops_together(void **st)
{
    bd_set_threads(1);
    bd_dataset tr;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5);
    for (int overlap = 0; overlap <= 1; overlap++) {
        member ms[2];
        run_group(ms, 2, &tr, NULL, 4, overlap);
        for (int r = 0; r < 2; r++) {
            assert_ok(ms[r].status);
            assert_int_equal(ms[r].res.interrupted, 1);
            assert_int_equal(ms[r].res.iters, 5); /* raised after step 4, voted in step 5 */
            bd_net_free(ms[r].net);
        }
    }
    bd_dataset_free(&tr);
}

/* rm -r of a flat folder made by the test */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* Only rank 0 checkpoints, but agreeing on the BatchNorm running averages
 * (on_state) is a sum every rank must join: the trainer makes that call on
 * every rank before each checkpoint, at epoch ends and when a vote stops
 * the run mid-epoch, never inside rank 0's save alone (there it waited
 * forever for the others: mpirun -np 2 badak train --batchnorm
 * --checkpoint DIR hung at the first epoch's end) */
static void group_checkpoint_state_collective(void **st)
{
    bd_set_threads(1);
    bd_dataset tr;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5);
    char dir[] = "/tmp/test_dist_XXXXXX";
    assert_non_null(mkdtemp(dir));
    member ms[2];
    run_group_ck(ms, 2, &tr, NULL, 8, 1, dir); /* epoch 1 ends at 6, stop after 9 */
    for (int r = 0; r < 2; r++) {
        assert_ok(ms[r].status);
        assert_int_equal(ms[r].res.interrupted, 1);
        assert_int_equal(ms[r].res.iters, 9);
        assert_int_equal(ms[r].nstate, ms[0].nstate);
        bd_net_free(ms[r].net);
    }
    assert_int_equal(ms[0].nstate, 2); /* epoch 1's figures, the stop */
    char path[600];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
    assert_int_equal(access(path, R_OK), 0);
    remove_dir(dir);
    bd_dataset_free(&tr);
}

/* Overlapped, the group sums each final suffix of the gradient during
 * backward and the loss with the stop vote in the same hook: the weights
 * are those of the group that sums the block after backward, bit for bit
 * (each value is summed in the same order), with one on_sum call fewer
 * per step (only the epochs' evaluations and stop votes are left). */
static void group_overlapped_same_bits(void **st)
{
    bd_set_threads(1);
    bd_dataset tr, te;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5);
    make_blobs(&te, 100, 8, 4, 1.0f, 2, 5);
    member after[3], during[3];
    run_group(after, 3, &tr, &te, -1, 0);
    run_group(during, 3, &tr, &te, -1, 1);
    for (int r = 0; r < 3; r++) {
        assert_ok(after[r].status);
        assert_ok(during[r].status);
        assert_int_equal(during[r].res.iters, after[r].res.iters);
        assert_memory_equal(bd_f32(&during[r].net->params), bd_f32(&after[r].net->params),
                            after[r].net->params.size * sizeof(float));
        assert_memory_equal(bd_f32(&during[r].net->state), bd_f32(&after[r].net->state),
                            after[r].net->state.size * sizeof(float));
        assert_close(during[r].res.final_loss, after[r].res.final_loss, 1e-6);
        assert_int_equal(after[r].nsum - during[r].nsum, after[r].res.iters);
        bd_net_free(after[r].net);
        bd_net_free(during[r].net);
    }
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

/* what backward_each's callback sees */
typedef struct suffixes {
    const bd_net *net;
    const float *ref;     /* the whole pass's gradient */
    size_t from[16];
    int n, early;         /* calls; those whose suffix was not final yet */
} suffixes;

static bd_status note_suffix(void *ud, size_t from)
{
    suffixes *x = ud;
    const float *g = bd_f32(&x->net->grads);
    x->early += memcmp(g + from, x->ref + from, (x->net->params.size - from) * sizeof(float)) != 0;
    if (x->n < 16)
        x->from[x->n] = from;
    x->n++;
    return BD_OK;
}

/* bd__net_backward_each: after every layer (last to first trainable), the
 * suffix it reports is already the final gradient, weight decay and L1
 * included, and the pass gives bd_net_backward's bits */
static void backward_reports_final_suffixes(void **st)
{
    bd_set_threads(1);
    for (int frozen = 0; frozen <= 2; frozen += 2) {
        bd_net_spec sp;
        bd_net_spec_default(&sp);
        snprintf(sp.model, sizeof sp.model, "mlp");
        sp.hidden[0] = 16, sp.hidden[1] = 12, sp.nhidden = 2;
        bd_rng r;
        bd_rng_seed(&r, 5);
        bd_net *net = NULL;
        assert_ok(bd_net_from_spec(&net, &sp, 1, 1, 8, 4, &r));
        net->weight_decay = 0.1f;
        net->l1 = 0.01f;
        assert_ok(bd_net_freeze(net, frozen));
        assert_ok(bd_net_reserve(net, 10));
        bd_tensor x, y;
        random_batch_range(&x, &y, 10, 8, 4, -1.0f, 1.0f, 3);
        bd_labels t = {bd_i32(&y), NULL};
        assert_ok(bd_net_gradient(net, &x, t, NULL));
        const size_t np = net->params.size;
        float *ref = malloc(np * sizeof *ref);
        memcpy(ref, bd_f32(&net->grads), np * sizeof *ref);
        memset(bd_f32(&net->grads), 0, np * sizeof(float));
        suffixes sx = {.net = net, .ref = ref};
        assert_ok(bd_net_loss(net, &x, t, NULL));
        assert_ok(bd__net_backward_each(net, note_suffix, &sx));
        /* the mlp's layers: Affine ReLU Affine ReLU Affine, the first
         * `frozen` of them get no gradient and no call */
        assert_int_equal(sx.n, net->nlayers - frozen);
        assert_int_equal(sx.early, 0);
        for (int k = 0; k < sx.n; k++)
            assert_int_equal(sx.from[k], net->layers[net->nlayers - 1 - k].param_offset);
        assert_int_equal(sx.from[sx.n - 1], bd_net_trainable_offset(net));
        const size_t off = bd_net_trainable_offset(net);
        assert_memory_equal(bd_f32(&net->grads) + off, ref + off, (np - off) * sizeof(float));
        free(ref);
        bd_tensor_free(&x);
        bd_tensor_free(&y);
        bd_net_free(net);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shard_rule),
        cmocka_unit_test(random_layers_any_split),
        cmocka_unit_test(group_trains_like_one),
        cmocka_unit_test(group_stops_together),
        cmocka_unit_test(group_overlapped_same_bits),
        cmocka_unit_test(backward_reports_final_suffixes),
        cmocka_unit_test(group_checkpoint_state_collective),
        cmocka_unit_test(group_sharded_same_bits),
        cmocka_unit_test(sharded_refuses_clip_and_layer_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
