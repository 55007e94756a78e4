/* test_checkpoint.c — a run stopped after some iteration and resumed from its
 * checkpoint ends with the same weights, to the bit, as a run never stopped;
 * the NaN guard leaves the last good checkpoint on disk. */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

#include <signal.h>

static char g_dir[256];

static int setup_dir(void **st)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/badak_ckpt_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_dir(void **st)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Dropout (the net's PRNG), BatchNorm (state), a momentum/Adam optimizer
 * (moments, step count) and an adaptive schedule: every piece of a run's
 * position matters. */
static void build(bd_net **out)
{
    bd_net *net = NULL;
    bd_net_spec s;
    bd_net_spec_default(&s);
    snprintf(s.model, sizeof s.model, "mlp");
    s.hidden[0] = 24, s.hidden[1] = 16, s.nhidden = 2;
    s.batchnorm = 1;
    s.dropout = 0.2f;
    s.weight_decay = 1e-3f;
    bd_rng r;
    bd_rng_seed(&r, 21);
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 8, 4, &r));
    *out = net;
}

typedef struct stopper {
    volatile sig_atomic_t flag;
    long at;          /* raise the flag after this iteration */
    long poison_at;   /* after this iteration, make the weights blow up */
    bd_net *net;
} stopper;

static void on_iter(void *ud, long iter, long total, float loss)
{
    stopper *s = ud;
    if (iter == s->at)
        s->flag = 1; /* as the SIGINT handler does */
    if (iter == s->poison_at)
        for (size_t i = 0; i < s->net->params.size; i++)
            bd_f32(&s->net->params)[i] = 1e30f;
}

static void config(bd_train_config *cfg, stopper *sp, bd_lr_schedule sched, bd_sampling smp)
{
    bd_train_config_default(cfg);
    cfg->batch = 16;
    cfg->epochs = 5;
    cfg->seed = 77;
    cfg->schedule = sched;
    cfg->sampling = smp;
    cfg->on_iter = on_iter;
    cfg->ud = sp;
    cfg->stop = &sp->flag;
}

/* train uninterrupted; then stopped after `stop_at` iterations and resumed:
 * the same parameters, state, optimizer moments and results */
static void resume_case(const char *opt_name, long stop_at, bd_lr_schedule sched, bd_sampling smp)
{
    bd_set_threads(1);
    bd_dataset tr, te;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5); /* 12 iterations per epoch */
    make_blobs(&te, 100, 8, 4, 1.0f, 2, 5);
    bd_optim_config oc = {.lr = 0.01f};

    bd_net *a = NULL;
    build(&a);
    bd_optim *oa = NULL;
    assert_ok(bd_optim_create(&oa, opt_name, &oc, a));
    stopper sa = {.at = -1, .poison_at = -1, .net = a};
    bd_train_config cfg;
    config(&cfg, &sa, sched, smp);
    bd_train_result ra;
    assert_ok(bd_train(a, oa, &tr, &te, &cfg, &ra));
    assert_int_equal(ra.interrupted, 0);

    char dir[300];
    snprintf(dir, sizeof dir, "%s/%s_%ld_%d", g_dir, opt_name, stop_at, (int)smp);
    bd_net *b = NULL;
    build(&b);
    bd_optim *ob = NULL;
    assert_ok(bd_optim_create(&ob, opt_name, &oc, b));
    stopper sb = {.at = stop_at, .poison_at = -1, .net = b};
    config(&cfg, &sb, sched, smp);
    cfg.checkpoint = dir;
    cfg.ckpt_run = "run text";
    bd_train_result rb;
    assert_ok(bd_train(b, ob, &tr, &te, &cfg, &rb));
    assert_int_equal(rb.interrupted, 1);
    assert_int_equal(rb.iters, stop_at);
    bd_optim_free(ob);
    bd_net_free(b);

    /* a new process would start here: everything from the folder */
    bd_net *c = NULL;
    bd_optim *oc2 = NULL;
    bd_train_pos pos;
    bd_model_meta meta;
    char *run = NULL;
    assert_ok(bd_checkpoint_load(dir, &c, &oc2, &pos, &meta, &run));
    assert_string_equal(run, "run text");
    free(run);
    assert_int_equal(pos.iter, stop_at);
    stopper sc = {.at = -1, .poison_at = -1, .net = c};
    config(&cfg, &sc, sched, smp);
    cfg.checkpoint = dir;
    cfg.resume = &pos;
    bd_train_result rc;
    assert_ok(bd_train(c, oc2, &tr, &te, &cfg, &rc));
    assert_int_equal(rc.interrupted, 0);
    assert_int_equal(rc.iters, ra.iters);
    assert_int_equal(rc.epochs, ra.epochs);
    assert_memory_equal(a->params.data, c->params.data, a->params.size * sizeof(float));
    assert_memory_equal(a->state.data, c->state.data, a->state.size * sizeof(float));
    for (int i = 0; i < 2; i++)
        if (oa->state[i].data)
            assert_memory_equal(oa->state[i].data, oc2->state[i].data,
                                oa->state[i].size * sizeof(float));
    assert_int_equal(oa->t, oc2->t);
    assert_true(ra.final_loss == rc.final_loss);
    assert_true(ra.test_acc == rc.test_acc);
    assert_true(ra.final_lr == rc.final_lr);
    assert_memory_equal(&a->rng, &c->rng, sizeof a->rng);

    bd_train_pos_free(&pos);
    bd_optim_free(oa);
    bd_optim_free(oc2);
    bd_net_free(a);
    bd_net_free(c);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
    bd_set_threads(0);
}

static void resume_mid_epoch_adam(void **st) { resume_case("adam", 29, BD_LR_ADAPTIVE, BD_SAMPLE_SHUFFLE); }
static void resume_epoch_end_momentum(void **st) { resume_case("momentum", 24, BD_LR_COSINE, BD_SAMPLE_SHUFFLE); }
static void resume_replace_sampling(void **st) { resume_case("rmsprop", 31, BD_LR_STEP, BD_SAMPLE_REPLACE); }

/* The checkpoint without a stop: written after every epoch, the last one
 * after the run's end; resuming it does nothing more. */
static void resume_finished(void **st)
{
    bd_dataset tr;
    make_blobs(&tr, 64, 8, 4, 1.0f, 1, 5);
    bd_net *a = NULL;
    build(&a);
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "sgd", NULL, a));
    stopper sp = {.at = -1, .poison_at = -1, .net = a};
    bd_train_config cfg;
    config(&cfg, &sp, BD_LR_CONSTANT, BD_SAMPLE_SHUFFLE);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/finished", g_dir);
    cfg.checkpoint = dir;
    bd_train_result r;
    assert_ok(bd_train(a, o, &tr, NULL, &cfg, &r));
    bd_net *c = NULL;
    bd_optim *o2 = NULL;
    bd_train_pos pos;
    assert_ok(bd_checkpoint_load(dir, &c, &o2, &pos, NULL, NULL));
    assert_int_equal(pos.iter, r.iters);
    assert_int_equal(pos.epoch, 6);
    cfg.resume = &pos;
    sp.net = c;
    bd_train_result r2;
    assert_ok(bd_train(c, o2, &tr, NULL, &cfg, &r2));
    assert_int_equal(r2.iters, r.iters);
    assert_memory_equal(a->params.data, c->params.data, a->params.size * sizeof(float));
    /* a resume position that does not fit the run is refused */
    pos.epoch = 2;
    assert_fails(bd_train(c, o2, &tr, NULL, &cfg, &r2), BD_ERR_ARG, "does not fit this run");
    bd_train_pos_free(&pos);
    bd_optim_free(o);
    bd_optim_free(o2);
    bd_net_free(a);
    bd_net_free(c);
    bd_dataset_free(&tr);
}

/* The weights blow up in epoch 3: training stops with BD_ERR_NUMERIC and
 * the checkpoint on disk is still epoch 2's, loadable, finite. */
static void nan_guard_keeps_checkpoint(void **st)
{
    bd_dataset tr;
    make_blobs(&tr, 64, 8, 4, 1.0f, 1, 5); /* 4 iterations per epoch */
    bd_net *a = NULL;
    build(&a);
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "sgd", NULL, a));
    stopper sp = {.at = -1, .poison_at = 9, .net = a}; /* first step of epoch 3 */
    bd_train_config cfg;
    config(&cfg, &sp, BD_LR_CONSTANT, BD_SAMPLE_SHUFFLE);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/nan", g_dir);
    cfg.checkpoint = dir;
    bd_train_result r;
    assert_fails(bd_train(a, o, &tr, NULL, &cfg, &r), BD_ERR_NUMERIC, "epoch 3");
    /* the net went back to the weights of epoch 2 ... */
    bd_net *c = NULL;
    bd_optim *o2 = NULL;
    bd_train_pos pos;
    assert_ok(bd_checkpoint_load(dir, &c, &o2, &pos, NULL, NULL));
    /* ... and so is the checkpoint: epoch 2 finished, 8 iterations */
    assert_int_equal(pos.iter, 8);
    assert_int_equal(pos.epoch, 3);
    assert_int_equal(pos.res.epochs, 2);
    assert_memory_equal(a->params.data, c->params.data, a->params.size * sizeof(float));
    bd_train_pos_free(&pos);
    bd_optim_free(o);
    bd_optim_free(o2);
    bd_net_free(a);
    bd_net_free(c);
    bd_dataset_free(&tr);
}

/* checkpoints are model files: bd_model_load reads one; a model file is not
 * a checkpoint */
static void checkpoint_is_a_model(void **st)
{
    bd_dataset tr;
    make_blobs(&tr, 64, 8, 4, 1.0f, 1, 5);
    bd_net *a = NULL;
    build(&a);
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "adam", NULL, a));
    stopper sp = {.at = -1, .poison_at = -1, .net = a};
    bd_train_config cfg;
    config(&cfg, &sp, BD_LR_CONSTANT, BD_SAMPLE_SHUFFLE);
    cfg.epochs = 1;
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/model", g_dir);
    cfg.checkpoint = dir;
    bd_train_result r;
    assert_ok(bd_train(a, o, &tr, NULL, &cfg, &r));
    bd_net *c = NULL;
    assert_ok(bd_model_load(&c, bd_checkpoint_path(dir, path, sizeof path), NULL));
    assert_memory_equal(a->params.data, c->params.data, a->params.size * sizeof(float));
    bd_net_free(c);
    /* a plain model file in a folder: not a checkpoint */
    assert_ok(bd_model_save(a, path, NULL));
    bd_optim *o2 = NULL;
    bd_train_pos pos;
    assert_fails(bd_checkpoint_load(dir, &c, &o2, &pos, NULL, NULL), BD_ERR_FORMAT,
                 "not a checkpoint");
    bd_optim_free(o);
    bd_net_free(a);
    bd_dataset_free(&tr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resume_mid_epoch_adam),
        cmocka_unit_test(resume_epoch_end_momentum),
        cmocka_unit_test(resume_replace_sampling),
        cmocka_unit_test(resume_finished),
        cmocka_unit_test(nan_guard_keeps_checkpoint),
        cmocka_unit_test(checkpoint_is_a_model),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
