/* test_train.c — training control: validation, early stopping with the best
 * weights, the NaN guard keeping the last good weights, learning-rate
 * schedules, hyperparameter search. */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

static void build(bd_net **out, int d, int classes, uint64_t seed)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, seed);
    int hidden[2] = {64, 64};
    assert_ok(bd_net_mlp(&net, d, hidden, 2, classes, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0}, &r));
    *out = net;
}

/* what each epoch saw, and the weights it ended with */
typedef struct rec {
    int n;
    float val_loss[200], loss[200], lr[200];
    bd_net *net;
    float *weights; /* [200][params] */
    size_t np;
} rec;

static void on_epoch(void *ud, const bd_epoch_stats *s)
{
    rec *r = ud;
    r->val_loss[r->n] = s->val_loss;
    r->loss[r->n] = s->loss;
    r->lr[r->n] = s->lr;
    if (r->weights)
        memcpy(r->weights + (size_t)r->n * r->np, r->net->params.data, r->np * sizeof(float));
    r->n++;
}

static void early_stopping_keeps_best(void **st)
{
    /* few noisy samples, a big network: validation loss turns up early */
    bd_dataset tr, val;
    make_blobs_spread(&tr, 60, 10, 3, 3.0f, 1.5f, 1, 77);
    make_blobs_spread(&val, 300, 10, 3, 3.0f, 1.5f, 2, 77);
    bd_net *net = NULL;
    build(&net, 10, 3, 5);
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "adam", &(bd_optim_config){.lr = 0.01f}, net));
    static float weights[200 * 6000];
    rec r = {.net = net, .weights = weights, .np = bd_net_param_count(net)};
    assert_true(r.np <= 6000);
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 20;
    cfg.epochs = 200;
    cfg.val = &val;
    cfg.patience = 5;
    cfg.on_epoch = on_epoch;
    cfg.ud = &r;
    bd_train_result res;
    assert_ok(bd_train(net, o, &tr, NULL, &cfg, &res));
    assert_int_equal(res.stopped_early, 1);
    assert_true(res.epochs < 200);
    assert_int_equal(res.epochs, res.best_epoch + 5);
    /* the best epoch has the lowest validation loss seen */
    for (int e = 0; e < r.n; e++)
        assert_true(r.val_loss[res.best_epoch - 1] <= r.val_loss[e]);
    /* and the net ends with exactly that epoch's weights */
    assert_memory_equal(net->params.data, weights + (size_t)(res.best_epoch - 1) * r.np,
                        r.np * sizeof(float));
    float acc, loss;
    assert_ok(bd_evaluate(net, &val, &acc, &loss));
    assert_close(loss, r.val_loss[res.best_epoch - 1], 1e-6);
    assert_close(acc, res.val_acc, 1e-6);
    /* patience without a validation set is an error */
    cfg.val = NULL;
    assert_fails(bd_train(net, o, &tr, NULL, &cfg, NULL), BD_ERR_ARG, "validation set");
    bd_optim_free(o);
    bd_net_free(net);
    bd_dataset_free(&tr);
    bd_dataset_free(&val);
}

static void nan_guard_keeps_last_good_weights(void **st)
{
    bd_dataset tr;
    make_blobs_spread(&tr, 200, 6, 3, 1.0f, 1.5f, 3, 77);
    bd_net *net = NULL;
    build(&net, 6, 3, 2);
    bd_optim *o = NULL;
    /* SGD on a rate that makes the weights grow by a factor every step:
     * finite for a few epochs, then inf/NaN */
    assert_ok(bd_optim_create(&o, "sgd", &(bd_optim_config){.lr = 3.0f}, net));
    static float weights[200 * 6000];
    rec r = {.net = net, .weights = weights, .np = bd_net_param_count(net)};
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 50;
    cfg.epochs = 200;
    cfg.eval_train = 0;
    cfg.on_epoch = on_epoch;
    cfg.ud = &r;
    for (size_t i = 0; i < tr.x.size; i++)
        bd_f32(&tr.x)[i] *= 50.0f;
    bd_train_result res;
    bd_status s = bd_train(net, o, &tr, NULL, &cfg, &res);
    assert_int_equal(s, BD_ERR_NUMERIC);
    assert_true(strstr(bd_errmsg(), "at epoch") != NULL);
    const float *p = bd_f32(&net->params);
    for (size_t i = 0; i < r.np; i++)
        assert_true(isfinite(p[i]));
    if (r.n > 0)
        assert_memory_equal(p, weights + (size_t)(r.n - 1) * r.np, r.np * sizeof(float));
    assert_int_equal(res.epochs, r.n);
    bd_optim_free(o);
    bd_net_free(net);
    bd_dataset_free(&tr);
}

static void schedules(void **st)
{
    assert_close(bd_lr_at(BD_LR_CONSTANT, 0.1f, 7, 10, 10, 0.1f), 0.1, 1e-7);
    assert_close(bd_lr_at(BD_LR_STEP, 0.1f, 9, 30, 10, 0.1f), 0.1, 1e-7);
    assert_close(bd_lr_at(BD_LR_STEP, 0.1f, 10, 30, 10, 0.1f), 0.01, 1e-7);
    assert_close(bd_lr_at(BD_LR_STEP, 0.1f, 25, 30, 10, 0.5f), 0.025, 1e-7);
    assert_close(bd_lr_at(BD_LR_EXP, 0.1f, 3, 30, 10, 0.9f), 0.1 * 0.729, 1e-7);
    assert_close(bd_lr_at(BD_LR_COSINE, 0.1f, 0, 10, 10, 0), 0.1, 1e-7);
    assert_close(bd_lr_at(BD_LR_COSINE, 0.1f, 5, 10, 10, 0), 0.05, 1e-7);
    assert_close(bd_lr_at(BD_LR_COSINE, 0.1f, 10, 10, 10, 0), 0.0, 1e-7);
    bd_lr_schedule s;
    assert_ok(bd_parse_schedule("cosine", &s));
    assert_int_equal(s, BD_LR_COSINE);
    assert_fails(bd_parse_schedule("triangle", &s), BD_ERR_ARG, "triangle");

    /* through the trainer: the epoch's rate is the schedule's */
    bd_dataset tr;
    make_blobs_spread(&tr, 100, 4, 2, 1.0f, 1.5f, 4, 77);
    bd_net *net = NULL;
    build(&net, 4, 2, 1);
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "momentum", &(bd_optim_config){.lr = 0.08f}, net));
    rec r = {0};
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 25;
    cfg.epochs = 6;
    cfg.schedule = BD_LR_STEP;
    cfg.lr_step = 2;
    cfg.lr_gamma = 0.5f;
    cfg.on_epoch = on_epoch;
    cfg.ud = &r;
    bd_train_result res;
    assert_ok(bd_train(net, o, &tr, NULL, &cfg, &res));
    const float want[6] = {0.08f, 0.08f, 0.04f, 0.04f, 0.02f, 0.02f};
    for (int e = 0; e < 6; e++)
        assert_close(r.lr[e], want[e], 1e-7);
    assert_close(o->cfg.lr, 0.08, 1e-7); /* the optimizer gets its rate back */
    bd_optim_free(o);

    /* adaptive (seed 004): halve exactly after an epoch whose loss got worse */
    bd_net_free(net);
    build(&net, 4, 2, 1);
    assert_ok(bd_optim_create(&o, "sgd", &(bd_optim_config){.lr = 2.0f}, net));
    memset(&r, 0, sizeof r);
    cfg.schedule = BD_LR_ADAPTIVE;
    cfg.epochs = 30;
    assert_ok(bd_train(net, o, &tr, NULL, &cfg, &res));
    int halvings = 0;
    for (int e = 1; e < r.n; e++) {
        float expect = r.loss[e - 1] > (e >= 2 ? r.loss[e - 2] : INFINITY) ? r.lr[e - 1] * 0.5f
                                                                           : r.lr[e - 1];
        assert_close(r.lr[e], expect, 0);
        halvings += r.lr[e] < r.lr[e - 1];
    }
    assert_true(halvings >= 1); /* lr 2.0 is too high: the loss does get worse */
    bd_optim_free(o);
    bd_net_free(net);
    bd_dataset_free(&tr);
}

static void validation_metrics_reported(void **st)
{
    bd_dataset tr, val;
    make_blobs_spread(&tr, 300, 5, 3, 1.0f, 1.5f, 5, 77);
    make_blobs_spread(&val, 100, 5, 3, 1.0f, 1.5f, 6, 77);
    bd_net *net = NULL;
    build(&net, 5, 3, 1);
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "adam", NULL, net));
    rec r = {0};
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 30;
    cfg.epochs = 5;
    cfg.val = &val;
    cfg.on_epoch = on_epoch;
    cfg.ud = &r;
    bd_train_result res;
    assert_ok(bd_train(net, o, &tr, NULL, &cfg, &res));
    assert_int_equal(r.n, 5);
    for (int e = 0; e < 5; e++)
        assert_true(r.val_loss[e] > 0 && isfinite(r.val_loss[e]));
    float acc;
    assert_ok(bd_evaluate(net, &val, &acc, NULL));
    assert_close(acc, res.val_acc, 0);
    assert_true(res.val_acc > 0.8f);
    bd_optim_free(o);
    bd_net_free(net);
    bd_dataset_free(&tr);
    bd_dataset_free(&val);
}

static void hpsearch_small(void **st)
{
    bd_dataset data;
    make_blobs_spread(&data, 200, 6, 3, 1.5f, 1.5f, 7, 77);
    bd_net_spec sp;
    bd_net_spec_default(&sp);
    snprintf(sp.model, sizeof sp.model, "mlp");
    sp.hidden[0] = sp.hidden[1] = 16;
    sp.nhidden = 2;
    bd_hpsearch_config hc;
    bd_hpsearch_config_default(&hc);
    hc.trials = 12;
    hc.epochs = 8;
    hc.batch = 20;
    hc.lr_min = 1e-4f;
    hc.lr_max = 1.0f;
    hc.seed = 3;
    bd_hpsearch_result a, b, c;
    bd_set_threads(1);
    assert_ok(bd_hpsearch(&sp, &data, &hc, &a));
    bd_set_threads(2); /* trials run two at a time: the same results */
    assert_ok(bd_hpsearch(&sp, &data, &hc, &b));
    hc.seed = 4;
    assert_ok(bd_hpsearch(&sp, &data, &hc, &c));
    assert_int_equal(a.ntrials, 12);
    assert_int_equal(a.ntrain, 160);
    assert_int_equal(a.nval, 40);
    for (int i = 0; i < 12; i++) {
        const bd_hp_trial *t = &a.trials[i];
        if (i)
            assert_true(a.trials[i - 1].val_acc >= t->val_acc);
        assert_true(t->lr >= 1e-4f && t->lr <= 1.0f);
        assert_true(t->weight_decay >= 1e-8f && t->weight_decay <= 1e-4f);
        assert_int_equal(b.trials[i].index, t->index);
        assert_true(b.trials[i].lr == t->lr && b.trials[i].val_acc == t->val_acc);
        assert_memory_equal(b.trials[i].val_curve, t->val_curve, sizeof(float) * 8);
        if (!t->diverged) {
            assert_int_equal(t->epochs, 8);
            assert_close(t->val_acc, t->val_curve[7], 0);
        }
    }
    assert_true(a.trials[0].val_acc >= 0.8f); /* a good rate exists in 1e-4..1 */
    assert_true(c.trials[0].lr != a.trials[0].lr);
    char path[] = "/tmp/badak-hp-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_ok(bd_hpsearch_write_csv(&a, path));
    FILE *f = fopen(path, "r");
    char line[256];
    int rows = 0;
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "trial,rank,lr,weight_decay,epoch,train_acc,val_acc\n");
    while (fgets(line, sizeof line, f))
        rows++;
    fclose(f);
    remove(path);
    int want = 0;
    for (int i = 0; i < 12; i++)
        want += a.trials[i].epochs;
    assert_int_equal(rows, want);
    bd_hpsearch_free(&a);
    bd_hpsearch_free(&b);
    bd_hpsearch_free(&c);
    hc.lr_min = 0; /* the result is only written on success */
    assert_fails(bd_hpsearch(&sp, &data, &hc, &c), BD_ERR_ARG, "ranges");
    bd_dataset_free(&data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(early_stopping_keeps_best),
        cmocka_unit_test(nan_guard_keeps_last_good_weights),
        cmocka_unit_test(schedules),
        cmocka_unit_test(validation_metrics_reported),
        cmocka_unit_test(hpsearch_small),
    };
    return cmocka_run_group_tests_name("train", tests, NULL, NULL);
}
