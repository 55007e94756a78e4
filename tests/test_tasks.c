/* test_tasks.c — regression and multi-label (issue 13): target columns of a
 * CSV, their standardisation, the Huber and multi-label BCE losses (value
 * and gradient check), training to the targets on generated data, the
 * metrics (RMSE / MAE / R², precision / recall / F1, confusion matrix) and
 * what the model file keeps of them. */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

static char g_dir[64];

static const char *tpath(const char *name)
{
    static char buf[8][256];
    static int k;
    char *p = buf[k++ & 7];
    snprintf(p, sizeof buf[0], "%s/%s", g_dir, name);
    return p;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/badak-test-tasks-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *name, const char *text)
{
    FILE *f = fopen(tpath(name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void column_lists(void **st)
{
    int c[8], n;
    assert_ok(bd_parse_columns("3,4", c, 8, &n));
    assert_int_equal(n, 2);
    assert_int_equal(c[0], 3);
    assert_int_equal(c[1], 4);
    assert_ok(bd_parse_columns("-2..-1", c, 8, &n));
    assert_int_equal(n, 2);
    assert_int_equal(c[0], -2);
    assert_int_equal(c[1], -1);
    assert_ok(bd_parse_columns("0,4..6", c, 8, &n));
    assert_int_equal(n, 4);
    assert_int_equal(c[3], 6);
    assert_fails(bd_parse_columns("3..1", c, 8, &n), BD_ERR_ARG, "first <= last");
    assert_fails(bd_parse_columns("-1..2", c, 8, &n), BD_ERR_ARG, "both from the start");
    assert_fails(bd_parse_columns("a", c, 8, &n), BD_ERR_ARG, "columns 'a'");
    assert_fails(bd_parse_columns("0..9", c, 8, &n), BD_ERR_ARG, "more than 8");
}

static void csv_targets(void **st)
{
    write_text("r.csv", "x1, x2, y1, y2\n1, 2, 0.5, -1.5\n3, 4, 2.5, 7\n\n5,6,1e3,0\n");
    int cols[2] = {-2, -1};
    bd_dataset ds;
    assert_ok(bd_csv_load_targets(tpath("r.csv"), cols, 2, BD_TASK_REGRESS, &ds));
    assert_int_equal(ds.n, 3);
    assert_int_equal(ds.w, 2);
    assert_int_equal(ds.nclasses, 2);
    assert_int_equal(ds.task, BD_TASK_REGRESS);
    assert_close(bd_f32(&ds.x)[2], 3.0, 0);
    assert_close(bd_f32(&ds.t)[1], -1.5, 0);
    assert_close(bd_f32(&ds.t)[4], 1000.0, 0);
    /* standardised column by column, the mean and std kept */
    assert_ok(bd_dataset_standardize_targets(&ds, NULL, NULL));
    double m = (0.5 + 2.5 + 1000) / 3;
    assert_close(ds.t_mean[0], m, 1e-3);
    assert_close(bd_f32(&ds.t)[0] * ds.t_std[0] + ds.t_mean[0], 0.5, 1e-3);
    double s1 = 0, s2 = 0;
    for (int i = 0; i < 3; i++) {
        s1 += bd_f32(&ds.t)[i * 2 + 1];
        s2 += bd_f32(&ds.t)[i * 2 + 1] * bd_f32(&ds.t)[i * 2 + 1];
    }
    assert_close(s1 / 3, 0.0, 1e-6);
    assert_close(s2 / 3, 1.0, 1e-5);
    /* a split keeps the targets with their rows and the statistics */
    bd_rng r;
    bd_rng_seed(&r, 1);
    bd_dataset part;
    assert_ok(bd_dataset_split(&ds, 0.34f, &r, &part));
    assert_int_equal(part.n + ds.n, 3);
    assert_int_equal(part.t.shape[0], part.n);
    assert_true(part.t_standardized);
    float x0 = bd_f32(&part.x)[0], t0 = bd_f32(&part.t)[0] * part.t_std[0] + part.t_mean[0];
    assert_close(t0, x0 == 1 ? 0.5 : x0 == 3 ? 2.5 : 1000, 1e-3);
    bd_dataset_free(&part);
    bd_dataset_free(&ds);
    /* multi-label flags must be 0 or 1; errors name file, line and column */
    write_text("m.csv", "1,0,1\n2,1,0.5\n");
    int mc[2] = {1, 2};
    assert_fails(bd_csv_load_targets(tpath("m.csv"), mc, 2, BD_TASK_MULTILABEL, &ds),
                 BD_ERR_FORMAT, "m.csv:2: column 3: label 0.5 is not 0 or 1");
    assert_null(ds.x.data);
    write_text("b.csv", "1,2\n3,x\n");
    int one[1] = {-1};
    assert_fails(bd_csv_load_targets(tpath("b.csv"), one, 1, BD_TASK_REGRESS, &ds),
                 BD_ERR_FORMAT, "b.csv:2: column 2: \"x\" is not a number");
    int far[1] = {5};
    assert_fails(bd_csv_load_targets(tpath("b.csv"), far, 1, BD_TASK_REGRESS, &ds), BD_ERR_ARG,
                 "target column 5 out of range for 2 columns");
    int both[2] = {0, 1};
    assert_fails(bd_csv_load_targets(tpath("b.csv"), both, 2, BD_TASK_REGRESS, &ds), BD_ERR_ARG,
                 "leave no feature");
    write_text("g.csv", "1,2\n3,4,5\n");
    assert_fails(bd_csv_load_targets(tpath("g.csv"), one, 1, BD_TASK_REGRESS, &ds),
                 BD_ERR_FORMAT, "g.csv:2: 3 columns, expected 2");
}

static void huber_loss(void **st)
{
    float y[4] = {0.0f, 3.0f, -0.5f, 1.0f}, t[4] = {0.5f, 0.0f, 0.0f, 1.0f}, dy[4];
    bd_labels l = {NULL, t};
    /* rows (0, 3) and (-0.5, 1): 0.5*0.25 + (3 - 0.5), 0.5*0.25 + 0; over 2 rows */
    assert_close(bd_huber_forward(y, l, 2, 2), (0.125 + 2.5 + 0.125) / 2, 1e-6);
    bd_huber_backward(dy, y, l, 2, 2);
    assert_close(dy[0], -0.5 / 2, 1e-7);
    assert_close(dy[1], 1.0 / 2, 1e-7); /* clamped at delta */
    assert_close(dy[2], -0.5 / 2, 1e-7);
    assert_close(dy[3], 0.0, 0);
}

/* gradient checks of an mlp under the Huber and multi-label BCE losses */
static void gradcheck_loss(bd_loss_kind loss)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 3);
    int hidden[1] = {6};
    assert_ok(bd_net_create(&net, 1, 1, 5));
    assert_ok(bd_net_add_affine(net, hidden[0]));
    assert_ok(bd_net_add(net, BD_LAYER_TANH, 0));
    assert_ok(bd_net_add_affine(net, 3));
    bd_net_set_loss(net, loss);
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_XAVIER, 0}, &r));
    bd_tensor x, y;
    random_batch_range(&x, &y, 4, 5, 3, -1, 1, 7);
    float t[12];
    for (int i = 0; i < 12; i++)
        t[i] = loss == BD_LOSS_MULTI_BCE ? (float)(bd_rng_below(&r, 2)) : 3.0f * bd_rng_normal(&r);
    bd_gradcheck_row rows[8];
    int nr = 0;
    assert_ok(bd_gradcheck(net, &x, (bd_labels){NULL, t}, NULL, rows, &nr));
    assert_int_equal(nr, 4);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

static void gradcheck_huber(void **st) { gradcheck_loss(BD_LOSS_HUBER); }
static void gradcheck_multi_bce(void **st) { gradcheck_loss(BD_LOSS_MULTI_BCE); }

/* y = sin(x1) + x2^2 + N(0, 0.1^2): a small MLP gets within reach of the
 * noise on held-out rows (the README's example, shorter) */
static void regression_fits(void **st)
{
    FILE *f = fopen(tpath("reg.csv"), "w");
    bd_rng r;
    bd_rng_seed(&r, 11);
    fprintf(f, "x1,x2,y\n");
    for (int i = 0; i < 2000; i++) {
        double a = -3 + 6 * bd_rng_uniform(&r), b = -1.5 + 3 * bd_rng_uniform(&r);
        fprintf(f, "%.5f,%.5f,%.5f\n", a, b, sin(a) + b * b + 0.1 * bd_rng_normal(&r));
    }
    fclose(f);
    int col[1] = {-1};
    bd_dataset tr, te;
    assert_ok(bd_csv_load_targets(tpath("reg.csv"), col, 1, BD_TASK_REGRESS, &tr));
    bd_rng_seed(&r, 2);
    assert_ok(bd_dataset_split(&tr, 0.2f, &r, &te));
    assert_ok(bd_dataset_standardize_targets(&tr, NULL, NULL));
    assert_ok(bd_dataset_standardize_targets(&te, tr.t_mean, tr.t_std));
    bd_net *net = NULL;
    int hidden[2] = {64, 64};
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_mlp(&net, 2, hidden, 2, 1, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0}, &r));
    bd_net_set_loss(net, BD_LOSS_MSE);
    bd_optim *opt = NULL;
    bd_optim_config oc = {.lr = 0.003f};
    assert_ok(bd_optim_create(&opt, "adam", &oc, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 32;
    cfg.epochs = 60;
    cfg.schedule = BD_LR_COSINE;
    bd_train_result res;
    assert_ok(bd_train(net, opt, &tr, &te, &cfg, &res));
    bd_regress_metrics_t m;
    assert_ok(bd_regress_metrics(net, &te, &m));
    print_message("regression: test RMSE %.4f MAE %.4f R2 %.4f (noise 0.1)\n", (double)m.rmse,
                  (double)m.mae, (double)m.r2);
    assert_true(m.rmse < 0.13);      /* the noise is 0.1; a constant guess is ~0.9 */
    assert_true(m.r2 > 0.98);
    assert_close(res.test_acc, m.r2, 2e-3); /* the trainer's "accuracy" is R² */
    /* RMSE is in the target's units: the same as computed by hand */
    double sse = 0;
    const bd_tensor *y;
    bd_net_set_training(net, 0);
    assert_ok(bd_net_reserve(net, te.n));
    assert_ok(bd_dataset_slice(&te, 0, te.n, &net->xbatch, NULL));
    assert_ok(bd_net_forward(net, &net->xbatch, &y));
    for (int i = 0; i < te.n; i++) {
        double d = (bd_f32(y)[i] - bd_f32(&te.t)[i]) * tr.t_std[0];
        sse += d * d;
    }
    assert_close(m.rmse, sqrt(sse / te.n), 1e-4);
    bd_optim_free(opt);
    bd_net_free(net);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

/* three labels that are thresholds of the features: F1 >= 0.9 each */
static void multilabel_fits(void **st)
{
    FILE *f = fopen(tpath("ml.csv"), "w");
    bd_rng r;
    bd_rng_seed(&r, 5);
    for (int i = 0; i < 1200; i++) {
        double a = 2 * bd_rng_uniform(&r) - 1, b = 2 * bd_rng_uniform(&r) - 1,
               c = 2 * bd_rng_uniform(&r) - 1;
        fprintf(f, "%.4f,%.4f,%.4f,%d,%d,%d\n", a, b, c, a > 0, b > 0.2, a + c > 0);
    }
    fclose(f);
    int cols[3] = {3, 4, 5};
    bd_dataset tr, te;
    assert_ok(bd_csv_load_targets(tpath("ml.csv"), cols, 3, BD_TASK_MULTILABEL, &tr));
    bd_rng_seed(&r, 2);
    assert_ok(bd_dataset_split(&tr, 0.25f, &r, &te));
    bd_net *net = NULL;
    int hidden[1] = {32};
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_mlp(&net, 3, hidden, 1, 3, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0}, &r));
    bd_net_set_loss(net, BD_LOSS_MULTI_BCE);
    bd_optim *opt = NULL;
    bd_optim_config oc = {.lr = 0.01f};
    assert_ok(bd_optim_create(&opt, "adam", &oc, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.epochs = 60;
    bd_train_result res;
    assert_ok(bd_train(net, opt, &tr, &te, &cfg, &res));
    bd_multilabel_metrics_t m;
    assert_ok(bd_multilabel_metrics(net, &te, 0.5f, &m));
    print_message("multilabel: exact match %.4f, F1 %.4f %.4f %.4f\n", (double)m.exact_match,
                  (double)m.f1[0], (double)m.f1[1], (double)m.f1[2]);
    for (int k = 0; k < 3; k++)
        assert_true(m.f1[k] >= 0.9f);
    assert_close(res.test_acc, m.exact_match, 1e-6); /* the trainer's "accuracy" */
    /* a threshold near 1 predicts (almost) nothing: recall falls, precision stays */
    bd_multilabel_metrics_t hi;
    assert_ok(bd_multilabel_metrics(net, &te, 0.999999f, &hi));
    assert_true(hi.recall[0] < m.recall[0]);
    assert_fails(bd_multilabel_metrics(net, &te, 1.0f, &hi), BD_ERR_ARG, "threshold 1");
    bd_optim_free(opt);
    bd_net_free(net);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

/* a net that outputs its two inputs: the confusion matrix by construction */
static void confusion_matrix(void **st)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_create(&net, 1, 1, 2));
    assert_ok(bd_net_add_affine(net, 2));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_STD, 0.01f}, &r));
    float *W = bd_f32(&net->layers[0].W);
    W[0] = 1, W[1] = 0, W[2] = 0, W[3] = 1; /* identity */
    bd_dataset ds;
    memset(&ds, 0, sizeof ds);
    int xs[2] = {5, 2}, n = 5;
    assert_ok(bd_tensor_alloc(&ds.x, BD_F32, 2, xs));
    assert_ok(bd_tensor_alloc(&ds.y, BD_I32, 1, &n));
    /* predicted 0,1,1,0,1 for true 0,1,0,0,1 */
    float x[10] = {1, 0, 0, 1, 0, 1, 1, 0, 0, 1};
    int32_t y[5] = {0, 1, 0, 0, 1};
    memcpy(ds.x.data, x, sizeof x);
    memcpy(ds.y.data, y, sizeof y);
    ds.n = 5, ds.c = ds.h = 1, ds.w = 2, ds.nclasses = 2, ds.scale = 1;
    long m[4];
    assert_ok(bd_confusion(net, &ds, m, 2));
    assert_int_equal(m[0], 2); /* true 0, predicted 0 */
    assert_int_equal(m[1], 1); /* true 0, predicted 1 */
    assert_int_equal(m[2], 0);
    assert_int_equal(m[3], 2);
    assert_fails(bd_confusion(net, &ds, m, 3), BD_ERR_SHAPE, "3 classes");
    bd_dataset_free(&ds);
    bd_net_free(net);
}

/* the model file keeps the task, the targets' standardisation, the
 * threshold, the input normalisation and the class names */
static void model_meta_round_trip(void **st)
{
    bd_net *net = NULL, *back = NULL;
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_create(&net, 3, 2, 2));
    assert_ok(bd_net_add_affine(net, 2));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_STD, 0.01f}, &r));
    bd_model_meta m, got;
    bd_model_meta_init(&m);
    m.task = BD_TASK_REGRESS;
    m.target_n = 2;
    m.target_mean[0] = 2.5f, m.target_mean[1] = -1;
    m.target_std[0] = 2.5f, m.target_std[1] = 0.125f;
    m.norm_c = 3;
    for (int c = 0; c < 3; c++)
        m.norm_mean[c] = 0.1f * c, m.norm_std[c] = 0.2f + c;
    snprintf(m.classes, sizeof m.classes, "cat\ndog\n");
    assert_ok(bd_model_save(net, tpath("m.safetensors"), &m));
    assert_ok(bd_model_load(&back, tpath("m.safetensors"), &got));
    assert_int_equal(got.task, BD_TASK_REGRESS);
    assert_int_equal(got.target_n, 2);
    assert_close(got.target_std[1], 0.125, 0);
    assert_close(got.target_mean[0], 2.5, 0);
    assert_int_equal(got.norm_c, 3);
    assert_close(got.norm_std[2], 2.2, 1e-6);
    assert_string_equal(got.classes, "cat\ndog\n");
    bd_net_free(back);
    m.task = BD_TASK_MULTILABEL;
    m.target_n = 0;
    m.threshold = 0.3f;
    assert_ok(bd_model_save(net, tpath("m.safetensors"), &m));
    assert_ok(bd_model_load(&back, tpath("m.safetensors"), &got));
    assert_int_equal(got.task, BD_TASK_MULTILABEL);
    assert_close(got.threshold, 0.3, 1e-7);
    bd_net_free(back);
    bd_net_free(net);
}

/* two overlapping blobs, class 1 only `minor` of the samples */
static void imbalanced_blobs(bd_dataset *ds, int n, double minor, uint64_t seed)
{
    memset(ds, 0, sizeof *ds);
    int xs[2] = {n, 2};
    assert_ok(bd_tensor_alloc(&ds->x, BD_F32, 2, xs));
    assert_ok(bd_tensor_alloc(&ds->y, BD_I32, 1, &n));
    bd_rng r;
    bd_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int k = bd_rng_uniform(&r) < minor;
        bd_i32(&ds->y)[i] = k;
        bd_f32(&ds->x)[2 * i] = (k ? 1.0f : -1.0f) + 1.2f * bd_rng_normal(&r);
        bd_f32(&ds->x)[2 * i + 1] = bd_rng_normal(&r);
    }
    ds->n = n, ds->c = ds->h = 1, ds->w = 2, ds->nclasses = 2, ds->scale = 1;
    snprintf(ds->name, sizeof ds->name, "blobs");
}

static void class_counts_and_weights(void **st)
{
    bd_dataset ds;
    imbalanced_blobs(&ds, 1000, 0.1, 3);
    long n[2];
    assert_ok(bd_class_counts(&ds, n));
    assert_int_equal(n[0] + n[1], 1000);
    float w[2];
    assert_ok(bd_class_weights(&ds, w));
    /* N / (K n_c): each class's total weight is N / K */
    assert_close(w[0] * n[0], 500.0, 1e-3);
    assert_close(w[1] * n[1], 500.0, 1e-3);
    /* thinning class 0 to a tenth keeps class 1 whole, in order */
    uint8_t keep[2] = {1, 0};
    bd_rng r;
    bd_rng_seed(&r, 1);
    long before1 = n[1];
    float x1 = 0;
    for (int i = 0; i < ds.n; i++)
        if (bd_i32(&ds.y)[i] == 1) {
            x1 = bd_f32(&ds.x)[2 * i];
            break;
        }
    assert_ok(bd_dataset_thin_classes(&ds, keep, 0.1f, &r));
    assert_ok(bd_class_counts(&ds, n));
    assert_int_equal(n[1], before1);
    assert_true(n[0] > 50 && n[0] < 130);
    for (int i = 0; i < ds.n; i++)
        if (bd_i32(&ds.y)[i] == 1) {
            assert_close(bd_f32(&ds.x)[2 * i], x1, 0);
            break;
        }
    assert_fails(bd_dataset_thin_classes(&ds, keep, 0.0f, &r), BD_ERR_ARG, "fraction 0");
    bd_dataset_free(&ds);
}

/* the weighted loss is what it says, and its gradient checks */
static void weighted_softmax_ce(void **st)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 2);
    assert_ok(bd_net_create(&net, 1, 1, 3));
    assert_ok(bd_net_add_affine(net, 5));
    assert_ok(bd_net_add(net, BD_LAYER_TANH, 0));
    assert_ok(bd_net_add_affine(net, 3));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_XAVIER, 0}, &r));
    bd_tensor x, y;
    random_batch_range(&x, &y, 6, 3, 3, -1, 1, 4);
    assert_ok(bd_net_reserve(net, 6));
    float plain, weighted;
    assert_ok(bd_net_loss(net, &x, (bd_labels){bd_i32(&y), NULL}, &plain));
    const float w[3] = {0.5f, 2.0f, 4.0f};
    net->class_weight = w;
    assert_ok(bd_net_loss(net, &x, (bd_labels){bd_i32(&y), NULL}, &weighted));
    /* by hand: the rows' cross-entropies from the probabilities, weighted */
    double want = 0;
    for (int i = 0; i < 6; i++) {
        int t = bd_i32(&y)[i];
        want -= w[t] * log(bd_f32(&net->prob)[i * 3 + t]);
    }
    assert_close(weighted, want / 6, 1e-5);
    assert_true(fabs(weighted - plain) > 1e-3);
    bd_gradcheck_row rows[8];
    int nr = 0;
    assert_ok(bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, NULL, rows, &nr));
    net->class_weight = NULL;
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

/* recall of the 5% class: plain training neglects it; class weights and
 * balanced sampling each raise it */
static double minority_recall(int mode)
{
    bd_dataset tr, te;
    imbalanced_blobs(&tr, 2000, 0.05, 5);
    imbalanced_blobs(&te, 2000, 0.5, 6);
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 1);
    int hidden[1] = {8};
    assert_ok(bd_net_mlp(&net, 2, hidden, 1, 2, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0}, &r));
    float w[2];
    assert_ok(bd_class_weights(&tr, w));
    if (mode == 1)
        net->class_weight = w;
    bd_optim *opt = NULL;
    bd_optim_config oc = {.lr = 0.05f};
    assert_ok(bd_optim_create(&opt, "sgd", &oc, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.epochs = 10;
    cfg.batch = 50;
    cfg.eval_train = 0;
    if (mode == 2)
        cfg.sampling = BD_SAMPLE_BALANCED;
    bd_train_result res;
    assert_ok(bd_train(net, opt, &tr, NULL, &cfg, &res));
    net->class_weight = NULL;
    long m[4];
    assert_ok(bd_confusion(net, &te, m, 2));
    bd_optim_free(opt);
    bd_net_free(net);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
    return (double)m[3] / (double)(m[2] + m[3]);
}

static void imbalance_remedies(void **st)
{
    double plain = minority_recall(0), weighted = minority_recall(1),
           balanced = minority_recall(2);
    print_message("minority recall: plain %.3f, class weights %.3f, balanced %.3f\n", plain,
                  weighted, balanced);
    assert_true(weighted > plain + 0.2);
    assert_true(balanced > plain + 0.2);
}

/* bd_diagnose on made-up runs: each finding where it applies, none for a
 * healthy run */
static bd_epoch_stats ep(int e, float loss, float tr, float te)
{
    bd_epoch_stats s;
    memset(&s, 0, sizeof s);
    s.epoch = e, s.loss = loss, s.train_acc = tr, s.test_acc = te, s.val_acc = -1;
    return s;
}

static int has(const bd_diag_result *r, const char *code)
{
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->d[i].code, code))
            return 1;
    return 0;
}

static void diagnoses(void **st)
{
    bd_epoch_stats e[6];
    bd_diag_input in = {.epochs = e, .nepochs = 6, .lr = 0.1f, .loss = BD_LOSS_SOFTMAX_CE,
                        .task = BD_TASK_CLASSIFY, .outputs = 10, .major_class = -1};
    bd_diag_result r;
    float healthy[6][3] = {{1.2f, .80f, .79f}, {.6f, .88f, .87f}, {.4f, .91f, .90f},
                           {.3f, .93f, .92f}, {.25f, .95f, .93f}, {.2f, .96f, .94f}};
    for (int i = 0; i < 6; i++)
        e[i] = ep(i + 1, healthy[i][0], healthy[i][1], healthy[i][2]);
    bd_diagnose(&in, &r);
    assert_int_equal(r.n, 0);
    /* flat loss: the rate tried and ten times it */
    for (int i = 0; i < 6; i++)
        e[i] = ep(i + 1, 2.30f - 0.001f * i, 0.1f, 0.1f);
    bd_diagnose(&in, &r);
    assert_true(has(&r, "loss_not_falling"));
    assert_non_null(strstr(r.d[0].msg, "with lr 0.1"));
    assert_non_null(strstr(r.d[0].msg, "try lr = 1")); /* API values, not flags */
    assert_null(strstr(r.d[0].msg, "--"));
    e[5].loss = 3.0f;
    bd_diagnose(&in, &r);
    assert_true(has(&r, "loss_rising"));
    /* accuracy stalled while the loss fell */
    for (int i = 0; i < 6; i++)
        e[i] = ep(i + 1, 0.5f - 0.05f * i, 0.9f, 0.9f);
    bd_diagnose(&in, &r);
    assert_true(has(&r, "accuracy_stalled"));
    assert_false(has(&r, "loss_not_falling"));
    /* overfitting: the gap named */
    for (int i = 0; i < 6; i++)
        e[i] = ep(i + 1, 1.0f / (i + 1), 0.8f + 0.04f * i, 0.7f);
    bd_diagnose(&in, &r);
    assert_true(has(&r, "overfitting"));
    assert_non_null(strstr(r.d[0].msg, "gap of 0.3000"));
    /* exploding: the gradient norms before it */
    double norms[3] = {10, 1e4, 1e9};
    in.nepochs = 1;
    e[0] = ep(1, 1.0f, -1, -1);
    in.grad_norms = norms, in.ngrad = 3, in.nonfinite = 1, in.nonfinite_iter = 17;
    bd_diagnose(&in, &r);
    assert_true(has(&r, "nonfinite_loss"));
    assert_non_null(strstr(r.d[0].msg, "iteration 17"));
    assert_non_null(strstr(r.d[0].msg, "10, 1e+04, 1e+09"));
    assert_non_null(strstr(r.d[0].msg, "clip_grad_norm = 5"));
    in.nonfinite = 0;
    /* mismatches; a dominant class */
    in.outputs = 1;
    bd_diagnose(&in, &r);
    assert_true(has(&r, "loss_mismatch"));
    in.outputs = 10, in.loss = BD_LOSS_MSE;
    bd_diagnose(&in, &r);
    assert_true(has(&r, "loss_mismatch"));
    in.loss = BD_LOSS_SOFTMAX_CE, in.major_class = 3, in.major_share = 0.85;
    bd_diagnose(&in, &r);
    assert_true(has(&r, "class_imbalance"));
    assert_non_null(strstr(r.d[0].msg, "85.0%"));
}

static void record_norm(void *ud, long iter, double norm)
{
    double *last = ud;
    (void)iter;
    *last = norm;
}

/* --clip-grad-norm: one SGD step with the gradient clipped to norm G moves
 * the weights by exactly lr * G */
static void clip_grad_norm(void **st)
{
    bd_dataset ds;
    imbalanced_blobs(&ds, 50, 0.5, 1);
    double moved[2], norm[2];
    for (int clip = 0; clip < 2; clip++) {
        bd_net *net = NULL;
        bd_rng r;
        bd_rng_seed(&r, 1);
        int hidden[1] = {4};
        assert_ok(bd_net_mlp(&net, 2, hidden, 1, 2, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0},
                             &r));
        float *before = malloc(net->params.size * sizeof *before);
        memcpy(before, net->params.data, net->params.size * sizeof *before);
        bd_optim *opt = NULL;
        bd_optim_config oc = {.lr = 1.0f};
        assert_ok(bd_optim_create(&opt, "sgd", &oc, net));
        bd_train_config cfg;
        bd_train_config_default(&cfg);
        cfg.iters = 1;
        cfg.batch = 50;
        cfg.eval_train = 0;
        cfg.on_grad_norm = record_norm;
        cfg.ud = &norm[clip];
        cfg.clip_grad_norm = clip ? 0.01f : 0.0f;
        bd_train_result res;
        assert_ok(bd_train(net, opt, &ds, NULL, &cfg, &res));
        double d2 = 0;
        for (size_t i = 0; i < net->params.size; i++) {
            double d = bd_f32(&net->params)[i] - before[i];
            d2 += d * d;
        }
        moved[clip] = sqrt(d2);
        free(before);
        bd_optim_free(opt);
        bd_net_free(net);
    }
    assert_close(norm[0], norm[1], 1e-9);   /* the hook sees the norm before clipping */
    assert_close(moved[0], norm[0], 1e-4 * norm[0]); /* lr 1: the step is the gradient */
    assert_true(norm[0] > 0.01);
    assert_close(moved[1], 0.01, 1e-5);
    bd_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(column_lists),
        cmocka_unit_test_setup_teardown(csv_targets, setup, teardown),
        cmocka_unit_test(huber_loss),
        cmocka_unit_test(gradcheck_huber),
        cmocka_unit_test(gradcheck_multi_bce),
        cmocka_unit_test_setup_teardown(regression_fits, setup, teardown),
        cmocka_unit_test_setup_teardown(multilabel_fits, setup, teardown),
        cmocka_unit_test(confusion_matrix),
        cmocka_unit_test(class_counts_and_weights),
        cmocka_unit_test(weighted_softmax_ce),
        cmocka_unit_test(imbalance_remedies),
        cmocka_unit_test(diagnoses),
        cmocka_unit_test(clip_grad_norm),
        cmocka_unit_test_setup_teardown(model_meta_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
