/* test_trainer.c — the step-level trainer: a hand-written loop over it is
 * bd_train to the bit; data-parallel ranks (threads here, with a
 * barrier-based "allreduce" standing in for MPI) that each take a shard of
 * every global batch train the same weights as one process; a stop asked
 * by one rank stops all; a finished run extended to more epochs equals a
 * longer run. */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

#include <pthread.h>
#include <signal.h>

static void build(bd_net **out, uint64_t seed)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, seed);
    int hidden[2] = {24, 16};
    assert_ok(bd_net_mlp(&net, 8, hidden, 2, 4, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0}, &r));
    *out = net;
}

static void config(bd_train_config *cfg)
{
    bd_train_config_default(cfg);
    cfg->batch = 20;
    cfg->epochs = 4;
    cfg->seed = 5;
    cfg->schedule = BD_LR_COSINE;
}

/* bd_trainer_step / end_epoch by hand == bd_train, bit for bit */
static void hand_loop_equals_bd_train(void **st)
{
    bd_set_threads(1);
    bd_dataset tr, te;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5);
    make_blobs(&te, 60, 8, 4, 1.0f, 2, 5);
    bd_optim_config oc = {.lr = 0.01f};
    bd_train_config cfg;
    config(&cfg);

    bd_net *a = NULL, *b = NULL;
    bd_optim *oa = NULL, *ob = NULL;
    build(&a, 3);
    build(&b, 3);
    assert_ok(bd_optim_create(&oa, "adam", &oc, a));
    assert_ok(bd_optim_create(&ob, "adam", &oc, b));
    bd_train_result ra, rb;
    assert_ok(bd_train(a, oa, &tr, &te, &cfg, &ra));

    bd_trainer *t;
    assert_ok(bd_trainer_create(&t, b, ob, &tr, &te, &cfg));
    int steps = 0, epochs = 0;
    float loss = -1;
    while (!bd_trainer_done(t)) {
        assert_ok(bd_trainer_step(t, &loss));
        assert_true(isfinite(loss));
        steps++;
        if (bd_trainer_epoch_end(t)) {
            /* no step before the epoch is closed */
            assert_fails(bd_trainer_step(t, NULL), BD_ERR_ARG, "bd_trainer_end_epoch first");
            bd_epoch_stats es;
            assert_ok(bd_trainer_end_epoch(t, &es));
            epochs++;
            assert_int_equal(es.epoch, epochs);
            assert_true(es.test_acc >= 0);
        }
    }
    assert_fails(bd_trainer_step(t, NULL), BD_ERR_ARG, "the run is over");
    long it, total;
    int ep;
    bd_trainer_progress(t, &it, &total, &ep);
    assert_int_equal(it, total);
    assert_int_equal(ep, 5);
    assert_ok(bd_trainer_finish(t, &rb));
    bd_trainer_free(t);
    assert_int_equal(steps, 40);
    assert_int_equal(epochs, 4);
    assert_int_equal(rb.iters, ra.iters);
    assert_true(rb.final_loss == ra.final_loss);
    assert_true(rb.test_acc == ra.test_acc);
    assert_memory_equal(a->params.data, b->params.data, a->params.size * sizeof(float));
    assert_int_equal(oa->t, ob->t);

    bd_optim_free(oa);
    bd_optim_free(ob);
    bd_net_free(a);
    bd_net_free(b);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

/* ------------------------------------------------ ranks as threads */

#define MAXR 3

/* A stand-in for MPI_Allreduce(SUM) between threads: each rank writes its
 * buffer, waits, sums all (in rank order, so every rank gets the same
 * bits), waits again. */
typedef struct world {
    int n;
    pthread_barrier_t bar;
    const void *buf[MAXR];
    long grad_calls[MAXR];
    size_t grad_n[MAXR];
} world;

typedef struct rank_ctx {
    world *w;
    int r;
    bd_net *net;
    bd_optim *opt;
    const bd_dataset *tr, *te;
    bd_train_config cfg;
    bd_train_result res;
    bd_status status;
    volatile sig_atomic_t stop;
    long stop_after;        /* this rank alone asks to stop after this step */
} rank_ctx;

static bd_status sum_doubles(void *ud, double *v, int n)
{
    rank_ctx *c = ud;
    world *w = c->w;
    w->buf[c->r] = v;
    double tmp[8];
    pthread_barrier_wait(&w->bar);
    for (int i = 0; i < n; i++) {
        tmp[i] = 0;
        for (int q = 0; q < w->n; q++)
            tmp[i] += ((const double *)w->buf[q])[i];
    }
    pthread_barrier_wait(&w->bar);
    memcpy(v, tmp, (size_t)n * sizeof *v);
    return BD_OK;
}

static bd_status sum_grads(void *ud, float *g, size_t n)
{
    rank_ctx *c = ud;
    world *w = c->w;
    w->grad_calls[c->r]++;
    w->grad_n[c->r] = n;
    w->buf[c->r] = g;
    float *tmp = malloc(n * sizeof *tmp);
    pthread_barrier_wait(&w->bar);
    for (size_t i = 0; i < n; i++) {
        tmp[i] = 0;
        for (int q = 0; q < w->n; q++)
            tmp[i] += ((const float *)w->buf[q])[i];
    }
    pthread_barrier_wait(&w->bar);
    memcpy(g, tmp, n * sizeof *g);
    free(tmp);
    return BD_OK;
}

static void rank_on_iter(void *ud, long iter, long total, float loss)
{
    rank_ctx *c = ud;
    if (iter == c->stop_after)
        c->stop = 1;
}

static void *rank_main(void *arg)
{
    rank_ctx *c = arg;
    c->status = bd_train(c->net, c->opt, c->tr, c->te, &c->cfg, &c->res);
    return NULL;
}

/* Train with n ranks (threads) from the same initial weights; rank 0's
 * net and results are left in ranks[0]. */
static void run_ranks(rank_ctx *ranks, world *w, int n, const bd_dataset *tr,
                      const bd_dataset *te, const bd_train_config *cfg, long stop_rank1_after)
{
    memset(w, 0, sizeof *w);
    w->n = n;
    pthread_barrier_init(&w->bar, NULL, (unsigned)n);
    pthread_t tid[MAXR];
    bd_optim_config oc = {.lr = 0.05f};
    for (int r = 0; r < n; r++) {
        rank_ctx *c = &ranks[r];
        memset(c, 0, sizeof *c);
        c->w = w;
        c->r = r;
        c->tr = tr;
        c->te = te;
        build(&c->net, 3);
        assert_ok(bd_optim_create(&c->opt, "momentum", &oc, c->net));
        c->cfg = *cfg;
        c->cfg.rank = r;
        c->cfg.nranks = n;
        c->cfg.on_sum = sum_doubles;
        c->cfg.on_grad = sum_grads;
        c->cfg.dist_ud = c;
        c->cfg.stop = &c->stop;
        c->cfg.on_iter = rank_on_iter;
        c->cfg.ud = c;
        c->stop_after = r == 1 ? stop_rank1_after : -1;
    }
    for (int r = 0; r < n; r++)
        assert_int_equal(pthread_create(&tid[r], NULL, rank_main, &ranks[r]), 0);
    for (int r = 0; r < n; r++)
        pthread_join(tid[r], NULL);
    pthread_barrier_destroy(&w->bar);
}

static void free_ranks(rank_ctx *ranks, int n)
{
    for (int r = 0; r < n; r++) {
        bd_optim_free(ranks[r].opt);
        bd_net_free(ranks[r].net);
    }
}

static float max_abs_diff(const bd_net *a, const bd_net *b)
{
    float m = 0;
    for (size_t i = 0; i < a->params.size; i++)
        m = fmaxf(m, fabsf(bd_f32(&a->params)[i] - bd_f32(&b->params)[i]));
    return m;
}

/* 2 ranks (batch 20 = 10 + 10) and 3 ranks (20 = 6 + 7 + 7): every rank
 * ends with the same weights, within 1e-5 of one process's; the gradient
 * hook ran once per step on the whole trainable block; the evaluation,
 * split over the ranks and summed, gives one process's accuracy. */
static void ranks_equal_one_process(void **st)
{
    bd_dataset tr, te;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5);
    make_blobs(&te, 61, 8, 4, 1.0f, 2, 5);
    bd_train_config cfg;
    config(&cfg);
    cfg.schedule = BD_LR_CONSTANT;

    bd_net *one = NULL;
    bd_optim *o1 = NULL;
    build(&one, 3);
    bd_optim_config oc = {.lr = 0.05f};
    assert_ok(bd_optim_create(&o1, "momentum", &oc, one));
    bd_train_result r1;
    assert_ok(bd_train(one, o1, &tr, &te, &cfg, &r1));

    for (int n = 2; n <= 3; n++) {
        rank_ctx ranks[MAXR];
        world w;
        run_ranks(ranks, &w, n, &tr, &te, &cfg, -1);
        for (int r = 0; r < n; r++) {
            assert_ok(ranks[r].status);
            assert_int_equal(w.grad_calls[r], r1.iters);
            assert_int_equal(w.grad_n[r], bd_net_param_count(one));
            assert_int_equal(ranks[r].res.iters, r1.iters);
            /* every rank takes the identical step */
            assert_memory_equal(ranks[r].net->params.data, ranks[0].net->params.data,
                                one->params.size * sizeof(float));
        }
        float d = max_abs_diff(one, ranks[0].net);
        print_message("%d ranks: max |w - w_1 process| = %.3g\n", n, (double)d);
        assert_true(d <= 1e-5f);
        assert_close(ranks[0].res.final_loss, r1.final_loss, 1e-5);
        assert_close(ranks[0].res.test_acc, r1.test_acc, 1e-6);
        assert_close(ranks[0].res.train_acc, r1.train_acc, 1e-6);
        free_ranks(ranks, n);
    }
    bd_optim_free(o1);
    bd_net_free(one);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

/* Only rank 1 asks to stop (after step 13): both ranks stop after the same
 * step, both interrupted, neither waits forever for the other. */
static void stop_is_collective(void **st)
{
    bd_dataset tr;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5);
    bd_train_config cfg;
    config(&cfg);
    rank_ctx ranks[MAXR];
    world w;
    run_ranks(ranks, &w, 2, &tr, NULL, &cfg, 13);
    for (int r = 0; r < 2; r++) {
        assert_ok(ranks[r].status);
        assert_int_equal(ranks[r].res.interrupted, 1);
    }
    /* rank 1 raised its flag after step 13; the sum is taken in step 14 */
    assert_int_equal(ranks[0].res.iters, ranks[1].res.iters);
    assert_int_equal(ranks[0].res.iters, 14);
    free_ranks(ranks, 2);
    bd_dataset_free(&tr);
}

/* A rank count without its on_sum hook, a rank outside it: refused. */
static void ranks_need_hooks(void **st)
{
    bd_dataset tr;
    make_blobs(&tr, 40, 8, 4, 1.0f, 1, 5);
    bd_net *net = NULL;
    bd_optim *o = NULL;
    build(&net, 3);
    assert_ok(bd_optim_create(&o, "sgd", NULL, net));
    bd_train_config cfg;
    config(&cfg);
    cfg.nranks = 2;
    bd_trainer *t = (bd_trainer *)&cfg;
    assert_fails(bd_trainer_create(&t, net, o, &tr, NULL, &cfg), BD_ERR_ARG, "on_sum");
    assert_null(t);
    cfg.on_sum = sum_doubles;
    cfg.rank = 2;
    assert_fails(bd_trainer_create(&t, net, o, &tr, NULL, &cfg), BD_ERR_ARG, "rank 2 of 2");
    bd_optim_free(o);
    bd_net_free(net);
    bd_dataset_free(&tr);
}

/* ---------------------------------------------------------- bd_train */

/* *res is filled on every path: here the argument errors */
static void result_set_on_errors(void **st)
{
    bd_train_result res;
    memset(&res, 0x7f, sizeof res);
    bd_dataset tr;
    make_blobs(&tr, 40, 8, 4, 1.0f, 1, 5);
    bd_net *net = NULL;
    build(&net, 3);
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "sgd", NULL, net));
    assert_fails(bd_train(NULL, o, &tr, NULL, NULL, &res), BD_ERR_ARG, "network is NULL");
    assert_int_equal(res.iters, 0);
    assert_int_equal(res.epochs, 0);
    assert_true(res.test_acc == -1.0f && res.train_acc == -1.0f);
    memset(&res, 0x7f, sizeof res);
    bd_train_config cfg;
    config(&cfg);
    cfg.batch = 0;
    assert_fails(bd_train(net, o, &tr, NULL, &cfg, &res), BD_ERR_ARG, "batch size 0");
    assert_int_equal(res.iters, 0);
    bd_optim_free(o);
    bd_net_free(net);
    bd_dataset_free(&tr);
}

/* An optimizer sized for another parameter count no longer trains nothing
 * with BD_OK: one made before the network was built cannot be created at
 * all, and one made for another network (here: before freezing) is
 * refused by the first step, changing no weight. */
static void wrong_optimizer_refused(void **st)
{
    bd_dataset tr;
    make_blobs(&tr, 40, 8, 4, 1.0f, 1, 5);
    bd_net *net = NULL, *unbuilt = NULL;
    assert_ok(bd_net_create(&unbuilt, 1, 1, 8));
    assert_ok(bd_net_add_affine(unbuilt, 4));
    bd_optim *o = NULL;
    assert_fails(bd_optim_create(&o, "sgd", NULL, unbuilt), BD_ERR_ARG, "not built");
    bd_net_free(unbuilt);
    build(&net, 3);
    assert_ok(bd_optim_create(&o, "sgd", NULL, net));
    assert_ok(bd_net_freeze(net, 1));
    bd_train_config cfg;
    config(&cfg);
    bd_train_result res;
    size_t n;
    float *p = bd_net_params(net, &n), last = p[n - 1];
    char want[96];
    snprintf(want, sizeof want, "but the optimizer was created for %zu", bd_net_param_count(net));
    assert_fails(bd_train(net, o, &tr, NULL, &cfg, &res), BD_ERR_SHAPE, want);
    assert_int_equal(res.iters, 0);
    assert_true(p[n - 1] == last);
    bd_optim_free(o);
    bd_net_free(net);
    bd_dataset_free(&tr);
}

/* The gradient hook alone (one process): called once per step, before the
 * update; what it does to the gradient is what the optimizer applies. */
static bd_status zero_grads(void *ud, float *g, size_t n)
{
    (*(long *)ud)++;
    memset(g, 0, n * sizeof *g);
    return BD_OK;
}

static void grad_hook_before_update(void **st)
{
    bd_dataset tr;
    make_blobs(&tr, 100, 8, 4, 1.0f, 1, 5);
    bd_net *net = NULL;
    build(&net, 3);
    size_t P = net->params.size;
    float *w0 = malloc(P * sizeof *w0);
    memcpy(w0, net->params.data, P * sizeof *w0);
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "sgd", NULL, net));
    bd_train_config cfg;
    config(&cfg);
    long calls = 0;
    cfg.on_grad = zero_grads;
    cfg.dist_ud = &calls;
    bd_train_result res;
    assert_ok(bd_train(net, o, &tr, NULL, &cfg, &res));
    assert_int_equal(calls, res.iters);
    assert_memory_equal(w0, net->params.data, P * sizeof *w0); /* nothing moved */
    free(w0);
    bd_optim_free(o);
    bd_net_free(net);
    bd_dataset_free(&tr);
}

/* A finished 2-epoch run, resumed with 4 epochs, ends where a 4-epoch run
 * ends (constant rate: the schedule does not depend on the total). */
static void finished_run_extended(void **st)
{
    bd_set_threads(1);
    bd_dataset tr;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5);
    bd_optim_config oc = {.lr = 0.01f};
    bd_train_config cfg;
    config(&cfg);
    cfg.schedule = BD_LR_CONSTANT;

    bd_net *a = NULL;
    bd_optim *oa = NULL;
    build(&a, 3);
    assert_ok(bd_optim_create(&oa, "adam", &oc, a));
    bd_train_result ra;
    assert_ok(bd_train(a, oa, &tr, NULL, &cfg, &ra));

    char dir[] = "/tmp/badak_trainer_XXXXXX";
    assert_non_null(mkdtemp(dir));
    bd_net *b = NULL;
    bd_optim *ob = NULL;
    build(&b, 3);
    assert_ok(bd_optim_create(&ob, "adam", &oc, b));
    cfg.epochs = 2;
    cfg.checkpoint = dir;
    bd_train_result rb;
    assert_ok(bd_train(b, ob, &tr, NULL, &cfg, &rb));
    assert_int_equal(rb.epochs, 2);

    bd_net *c = NULL;
    bd_optim *oc2 = NULL;
    bd_train_pos pos;
    assert_ok(bd_checkpoint_load(dir, &c, &oc2, &pos, NULL, NULL));
    cfg.epochs = 4;
    cfg.resume = &pos;
    bd_train_result rc;
    assert_ok(bd_train(c, oc2, &tr, NULL, &cfg, &rc));
    assert_int_equal(rc.epochs, 4);
    assert_int_equal(rc.iters, ra.iters);
    assert_memory_equal(a->params.data, c->params.data, a->params.size * sizeof(float));
    assert_true(rc.final_loss == ra.final_loss);
    /* fewer epochs than already done do not fit */
    cfg.epochs = 1;
    assert_fails(bd_train(c, oc2, &tr, NULL, &cfg, &rc), BD_ERR_ARG, "does not fit this run");

    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    bd_train_pos_free(&pos);
    bd_optim_free(oa);
    bd_optim_free(ob);
    bd_optim_free(oc2);
    bd_net_free(a);
    bd_net_free(b);
    bd_net_free(c);
    bd_dataset_free(&tr);
}

/* bd_evaluate_range: sums over a range add up to the whole set's figures */
static void evaluate_range_sums(void **st)
{
    bd_dataset te;
    make_blobs(&te, 77, 8, 4, 1.0f, 2, 5);
    bd_net *net = NULL;
    build(&net, 3);
    float acc, loss;
    assert_ok(bd_evaluate(net, &te, &acc, &loss));
    bd_eval_sums a, b, e;
    assert_ok(bd_evaluate_range(net, &te, 0, 30, 1, &a));
    assert_ok(bd_evaluate_range(net, &te, 30, 77, 1, &b));
    assert_ok(bd_evaluate_range(net, &te, 77, 77, 1, &e));
    assert_int_equal(e.n, 0);
    assert_int_equal(a.n + b.n, 77);
    assert_close((double)(a.correct + b.correct) / 77, acc, 1e-6);
    assert_close((a.loss_sum + b.loss_sum) / 77, loss, 1e-5);
    assert_fails(bd_evaluate_range(net, &te, 10, 78, 0, &e), BD_ERR_ARG, "rows [10, 78)");
    bd_net_free(net);
    bd_dataset_free(&te);
}

/* NULL arguments are refused with BD_ERR_ARG, never a crash; a byte data
 * set with scale 0 no longer zeroes every input silently */
static void null_and_scale_refused(void **st)
{
    bd_net *net = NULL;
    assert_fails(bd_net_from_ini(&net, "[a]\ntype = affine\nunits = 2\n", "x.ini", 1, 1, 4, 0,
                                 NULL), BD_ERR_ARG, "rng is NULL");
    assert_fails(bd_model_save(NULL, "/tmp/never.safetensors", NULL), BD_ERR_ARG,
                 "the network is NULL");
    bd_dataset ds;
    memset(&ds, 0, sizeof ds);
    int xs[2] = {4, 3}, ys[1] = {4};
    assert_ok(bd_tensor_alloc(&ds.x, BD_U8, 2, xs));
    assert_ok(bd_tensor_alloc(&ds.y, BD_I32, 1, ys));
    ds.n = 4, ds.c = 1, ds.h = 1, ds.w = 3, ds.nclasses = 2;
    snprintf(ds.name, sizeof ds.name, "mine");
    bd_tensor xb, yb;
    int bs[2] = {2, 3}, bys[1] = {2};
    assert_ok(bd_tensor_alloc(&xb, BD_F32, 2, bs));
    assert_ok(bd_tensor_alloc(&yb, BD_I32, 1, bys));
    assert_fails(bd_dataset_slice(&ds, 0, 2, &xb, &yb), BD_ERR_ARG, "mine: bd_dataset.scale = 0: every input would be 0");
    ds.scale = 1.0f / 255;
    assert_ok(bd_dataset_slice(&ds, 0, 2, &xb, &yb));
    bd_tensor_free(&xb);
    bd_tensor_free(&yb);
    bd_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_loop_equals_bd_train),
        cmocka_unit_test(ranks_equal_one_process),
        cmocka_unit_test(stop_is_collective),
        cmocka_unit_test(ranks_need_hooks),
        cmocka_unit_test(result_set_on_errors),
        cmocka_unit_test(wrong_optimizer_refused),
        cmocka_unit_test(grad_hook_before_update),
        cmocka_unit_test(finished_run_extended),
        cmocka_unit_test(evaluate_range_sums),
        cmocka_unit_test(null_and_scale_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
