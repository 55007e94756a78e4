/* test_layerlog.c — the per-layer log of a training run
 * (bd_train_config.layer_log, `badak train --log-layers`): it leaves the run
 * the same to the bit, it is written at the steps it promises, its numbers
 * are the layers' (statistics checked on known outputs), a deep sigmoid
 * MLP's first layer shows a gradient orders of magnitude below its last's
 * (vanishing gradients, seed 002 unit 2), and the figure's reader refuses
 * what is not such a log, naming the file and line. */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

#include "fig/fig.h"

#include <sys/stat.h>

static char g_dir[] = "/tmp/badak_layerlog_XXXXXX";

static int setup(void **st)
{
    (void)st;
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", g_dir, name);
}

/* a deep MLP of `depth` hidden layers of 30 with act, Xavier */
static void deep_mlp(bd_net **out, int in, int depth, bd_layer_kind act, uint64_t seed)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, seed);
    int hidden[16];
    for (int i = 0; i < depth; i++)
        hidden[i] = 30;
    assert_ok(bd_net_mlp(&net, in, hidden, depth, 4, act, (bd_init){BD_INIT_XAVIER, 0}, &r));    *out = net;
}

static void train_once(bd_net *net, const bd_dataset *tr, const char *layer_log, long every,
                       int epochs)
{
    bd_optim *opt = NULL;
    assert_ok(bd_optim_create(&opt, "adam", &(bd_optim_config){.lr = 0.01f}, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 25;
    cfg.epochs = epochs;
    cfg.seed = 3;
    cfg.eval_train = 0;
    cfg.layer_log = layer_log;
    cfg.layer_log_every = every;
    cfg.clip_grad_norm = 5.0f; /* the log reads the gradient before clipping */
    bd_train_result res;
    assert_ok(bd_train(net, opt, tr, NULL, &cfg, &res));
    bd_optim_free(opt);
}

/* rows of a file minus its header */
static long data_rows(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long n = -1;
    for (int c; (c = fgetc(f)) != EOF;)
        n += c == '\n';
    fclose(f);
    return n;
}

/* With and without the log: the same weights and state, bit for bit. */
static void test_log_changes_nothing(void **st)
{
    (void)st;
    bd_set_threads(2);
    bd_dataset tr;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5);
    bd_net *a = NULL, *b = NULL;
    deep_mlp(&a, 8, 3, BD_LAYER_RELU, 7);
    deep_mlp(&b, 8, 3, BD_LAYER_RELU, 7);
    char path[256];
    path_of(path, sizeof path, "same.csv");
    train_once(a, &tr, NULL, 0, 3);
    train_once(b, &tr, path, 3, 3);
    assert_int_equal(a->params.size, b->params.size);
    assert_memory_equal(a->params.data, b->params.data, a->params.size * sizeof(float));
    /* 8 steps an epoch, 3 epochs: steps 1, 3, 6, 8 (epoch end), 9, 12, 15,
     * 16, 18, 21, 24 -> 11 logged steps, one row per layer (7 layers) */
    assert_int_equal(a->nlayers, 7);
    assert_int_equal(data_rows(path), 11 * 7);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(access(tmp, F_OK), -1); /* committed, nothing left over */
    bd_net_free(a);
    bd_net_free(b);
    bd_dataset_free(&tr);
}

/* a conv 3x3 (6 filters) + ReLU + 2x2 max-pool + Affine 4 net on 1x9x8,
 * the pool computed by the conv (conv_pool.c) */
static void pooled_convnet(bd_net **out, uint64_t seed)
{
    bd_net *net = NULL;
    assert_ok(bd_net_create(&net, 1, 9, 8));
    assert_ok(bd_net_add_conv(net, 6, 3, 1, 0));
    assert_ok(bd_net_add_relu(net));
    assert_ok(bd_net_add_pool(net, BD_LAYER_MAXPOOL, 2, 2));
    assert_ok(bd_net_add_affine(net, 4));
    bd_rng r;
    bd_rng_seed(&r, seed);
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    *out = net;
}

/* bd_train without a layer log and bd_evaluate leave the output of a conv
 * with a fused max-pool unwritten (nothing else reads it): the same
 * weights as a run with the log, which writes it, and the stats say "no
 * rows" for the conv and its ReLU until a plain forward writes them
 * again. */
static void pooled_skip_case(const char *kernels)
{
    assert_ok(bd_set_kernels(kernels));
    bd_set_threads(2);
    bd_dataset tr; /* 200 images 1x9x8: class k brightens rows 2k, 2k+1 */
    make_blobs(&tr, 200, 16, 4, 1.0f, 1, 5); /* the labels and the fields */
    bd_tensor_free(&tr.x);
    int xs0[2] = {200, 72};
    assert_ok(bd_tensor_alloc(&tr.x, BD_F32, 2, xs0));
    bd_rng r;
    bd_rng_seed(&r, 11);
    for (int i = 0; i < 200; i++)
        for (int j = 0; j < 72; j++)
            bd_f32(&tr.x)[i * 72 + j] =
                bd_rng_normal(&r) + (j / 8 / 2 == bd_i32(&tr.y)[i] ? 2.0f : 0.0f);
    tr.h = 9;
    tr.w = 8;
    bd_net *a = NULL, *b = NULL;
    pooled_convnet(&a, 7);
    pooled_convnet(&b, 7);
    assert_non_null(bd__conv_pooled(&a->layers[0])); /* the case at stake */
    char path[256];
    path_of(path, sizeof path, "pooled.csv");
    train_once(a, &tr, NULL, 0, 2);
    train_once(b, &tr, path, 1, 2);
    assert_memory_equal(a->params.data, b->params.data, a->params.size * sizeof(float));
    /* the log had the conv's output: its rows carry act_ fields */
    assert_int_equal(data_rows(path), 16 * 4);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    int conv_rows = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, ",Conv,") || strstr(line, ",conv,")) {
            conv_rows++;
            assert_null(strstr(line, ",,,,,")); /* act_ fields present */
        }
    fclose(f);
    assert_int_equal(conv_rows, 16);
    bd_layer_stats s0, s1, s2;
    float acc;
    assert_ok(bd_evaluate(a, &tr, &acc, NULL));
    assert_ok(bd_net_layer_stats(a, 0, &s0));
    assert_ok(bd_net_layer_stats(a, 1, &s1));
    assert_ok(bd_net_layer_stats(a, 2, &s2));
    assert_int_equal(s0.rows, 0); /* not written */
    assert_int_equal(s1.rows, 0); /* the ReLU's view of it */
    assert_true(s2.rows > 0);     /* the pool's output was */
    assert_true(s0.params > 0 && s0.weight_norm > 0.0);
    /* a plain forward writes it: the pool's maxima are among its values */
    int xs[2] = {3, 72};
    bd_tensor x;
    assert_ok(bd_tensor_alloc(&x, BD_F32, 2, xs));
    memcpy(x.data, tr.x.data, 3 * 72 * sizeof(float));
    const bd_tensor *z;
    assert_ok(bd_net_forward(a, &x, &z));
    assert_ok(bd_net_layer_stats(a, 0, &s0));
    assert_ok(bd_net_layer_stats(a, 1, &s1));
    assert_ok(bd_net_layer_stats(a, 2, &s2));
    assert_int_equal(s0.rows, 3);
    assert_int_equal(s1.rows, 3);
    assert_true(s0.act_min >= 0.0 && s0.act_max > 0.0); /* ReLU'd */
    assert_true(s2.act_max == s0.act_max);               /* the largest is some window's max */
    const float *y = bd_f32(&a->layers[0].out), *p = bd_f32(&a->layers[2].out);
    for (int i = 0; i < 3 * 6 * 3 * 3; i++) { /* each pooled value appears in y */
        int found = 0;
        for (int k = 0; k < 3 * 6 * 7 * 6 && !found; k++)
            found = y[k] == p[i];
        assert_true(found);
    }
    bd_tensor_free(&x);
    bd_net_free(a);
    bd_net_free(b);
    bd_dataset_free(&tr);
    assert_ok(bd_set_kernels("fast"));
}

/* with the AVX-512 pool kernels where the CPU has them, and in plain C */
static void test_pooled_conv_output_skipped(void **st)
{
    (void)st;
    pooled_skip_case("fast");
    pooled_skip_case("portable");
}

/* The statistics of known outputs: a ReLU of a fixed batch. Backward does
 * not change them (the log reads them after backward). */
static void test_layer_stats_values(void **st)
{
    (void)st;
    bd_net *net = NULL;
    assert_ok(bd_net_create(&net, 1, 1, 4));
    assert_ok(bd_net_add_affine(net, 4));
    assert_ok(bd_net_add_relu(net));
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_STD, 0.01f}, &r));
    assert_ok(bd_net_reserve(net, 2));
    /* W = I, b = 0: the ReLU's output is max(x, 0) */
    bd_layer *aff = &net->layers[0];
    memset(bd_f32(&aff->W), 0, aff->W.size * sizeof(float));
    memset(bd_f32(&aff->b), 0, aff->b.size * sizeof(float));
    for (int i = 0; i < 4; i++)
        bd_f32(&aff->W)[i * 4 + i] = 1.0f;
    const float xv[8] = {-1, 2, 0.5f, -3, 4, -2, 1, 0.5f};
    int xs[2] = {2, 4};
    bd_tensor x = bd_tensor_view((float *)xv, 2, xs);
    int32_t yv[2] = {0, 1};
    bd_net_set_training(net, 1);
    float loss;
    assert_ok(bd_net_loss(net, &x, (bd_labels){yv, NULL}, &loss));
    bd_layer_stats s0, s1;
    assert_ok(bd_net_layer_stats(net, 1, &s0));
    /* max(x, 0) = 0 2 .5 0 4 0 1 .5: mean 1, var (1+1+.25+1+9+1+0+.25)/8 = 1.6875 */
    assert_int_equal(s0.rows, 2);
    assert_close(s0.act_mean, 1.0, 1e-9);
    assert_close(s0.act_std, sqrt(1.6875), 1e-7);
    assert_close(s0.act_zero_frac, 3.0 / 8, 1e-12);
    assert_close(s0.act_min, 0.0, 0);
    assert_close(s0.act_max, 4.0, 0);
    assert_true(s0.grad_norm == -1.0 && s0.weight_norm == -1.0); /* no parameters */
    assert_ok(bd_net_backward(net));
    assert_ok(bd_net_layer_stats(net, 1, &s1));
    assert_memory_equal(&s0, &s1, sizeof s0);
    bd_layer_stats sa;
    assert_ok(bd_net_layer_stats(net, 0, &sa));
    assert_int_equal(sa.params, 20);
    assert_close(sa.weight_norm, 2.0, 1e-9); /* ||I|| = 2, b = 0 */
    double g = 0; /* the layer's slice of the gradient block */
    for (size_t i = 0; i < 20; i++)
        g += (double)bd_f32(&net->grads)[i] * bd_f32(&net->grads)[i];
    assert_true(sqrt(g) > 0);
    assert_close(sa.grad_norm, sqrt(g), 1e-12);
    /* bad arguments */
    assert_fails(bd_net_layer_stats(net, 2, &sa), BD_ERR_ARG, "layer 2 not in 0..1");
    assert_fails(bd_net_layer_stats(NULL, 0, &sa), BD_ERR_ARG, "NULL");
    assert_fails(bd_net_layer_stats(net, 0, NULL), BD_ERR_ARG, "NULL");
    bd_net_free(net);
}

/* Vanishing gradients: a 10-hidden-layer sigmoid MLP's first Affine gets a
 * gradient far below its last's (σ' <= 1/4 at every layer). Measured on
 * these blobs: the ratio is about 1e-5 at step 1 and stays below 1e-3; the
 * test asks for 1e-2, and a ReLU net of the same depth (He init) stays
 * within that factor. */
static void test_sigmoid_gradient_vanishes(void **st)
{
    (void)st;
    bd_set_threads(1);
    bd_dataset tr;
    make_blobs(&tr, 200, 8, 4, 1.0f, 1, 5);
    char path[256];
    path_of(path, sizeof path, "sigmoid.csv");
    bd_net *net = NULL;
    deep_mlp(&net, 8, 10, BD_LAYER_SIGMOID, 11);
    train_once(net, &tr, path, 4, 2);
    const int last = net->nlayers - 1; /* Affine11 */
    assert_string_equal(net->layers[last].name, "Affine11");
    bd_net_free(net);
    fig_layer_log l;
    assert_ok(fig_read_layer_log(path, &l));
    assert_int_equal(l.nlayers, 21);
    assert_string_equal(l.name[0], "Affine1");
    assert_string_equal(l.kind[1], "Sigmoid");
    assert_true(isnan(fig_layer_grad_at(&l, 1, 1))); /* no parameters: empty */
    const long steps[3] = {1, 8, 16};
    for (int i = 0; i < 3; i++) {
        double g0 = fig_layer_grad_at(&l, 0, steps[i]), g1 = fig_layer_grad_at(&l, 20, steps[i]);
        print_message("step %ld: first layer %.3g, last %.3g, ratio %.3g\n", steps[i], g0, g1,
                      g0 / g1);
        assert_true(g0 > 0 && g1 > 0);
        assert_true(g0 < 1e-2 * g1);
    }
    fig_layer_log_free(&l);
    /* the same depth with ReLU and He: no such collapse */
    bd_rng r;
    bd_rng_seed(&r, 11);
    int hidden[10] = {30, 30, 30, 30, 30, 30, 30, 30, 30, 30};
    assert_ok(bd_net_mlp(&net, 8, hidden, 10, 4, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0}, &r));
    path_of(path, sizeof path, "relu.csv");
    train_once(net, &tr, path, 4, 1);
    bd_net_free(net);
    assert_ok(fig_read_layer_log(path, &l));
    double g0 = fig_layer_grad_at(&l, 0, 1), g1 = fig_layer_grad_at(&l, 20, 1);
    print_message("relu step 1: first layer %.3g, last %.3g, ratio %.3g\n", g0, g1, g0 / g1);
    assert_true(g0 > 1e-2 * g1);
    fig_layer_log_free(&l);
    bd_dataset_free(&tr);
}

/* A frozen layer logs no gradient; the log says every step of the run it
 * was asked for with every = 1. */
static void test_frozen_and_every(void **st)
{
    (void)st;
    bd_set_threads(1);
    bd_dataset tr;
    make_blobs(&tr, 100, 8, 4, 1.0f, 1, 5);
    bd_net *net = NULL;
    deep_mlp(&net, 8, 2, BD_LAYER_TANH, 3);
    assert_ok(bd_net_freeze(net, 2)); /* Affine1, Tanh1 */
    char path[256];
    path_of(path, sizeof path, "frozen.csv");
    bd_optim *opt = NULL;
    assert_ok(bd_optim_create(&opt, "sgd", &(bd_optim_config){.lr = 0.1f}, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 20;
    cfg.iters = 7;
    cfg.layer_log = path;
    cfg.layer_log_every = 1;
    assert_ok(bd_train(net, opt, &tr, NULL, &cfg, NULL));
    bd_optim_free(opt);
    bd_net_free(net);
    fig_layer_log l;
    assert_ok(fig_read_layer_log(path, &l));
    assert_int_equal(l.n, 7 * 5);
    for (long it = 1; it <= 7; it++) {
        assert_true(isnan(fig_layer_grad_at(&l, 0, it)));  /* frozen */
        assert_true(fig_layer_grad_at(&l, 2, it) > 0);     /* Affine2 trains */
    }
    fig_layer_log_free(&l);
    /* a negative period is refused before anything is trained */
    bd_train_config bad;
    bd_train_config_default(&bad);
    bad.layer_log = path;
    bad.layer_log_every = -2;
    deep_mlp(&net, 8, 1, BD_LAYER_RELU, 3);
    assert_ok(bd_optim_create(&opt, "sgd", &(bd_optim_config){.lr = 0.1f}, net));
    assert_fails(bd_train(net, opt, &tr, NULL, &bad, NULL), BD_ERR_ARG, "every -2 steps");
    bd_optim_free(opt);
    bd_net_free(net);
    bd_dataset_free(&tr);
}

/* Exploding gradients: the step whose loss stopped being finite is in the
 * log (whatever the period), and the log is kept, so the gradients that
 * led there can be read. */
static void test_nonfinite_step_logged(void **st)
{
    (void)st;
    bd_set_threads(1);
    bd_dataset tr;
    make_blobs(&tr, 100, 8, 4, 1.0f, 1, 5);
    bd_net *net = NULL;
    deep_mlp(&net, 8, 2, BD_LAYER_RELU, 3);
    char path[256];
    path_of(path, sizeof path, "nan.csv");
    bd_optim *opt = NULL;
    assert_ok(bd_optim_create(&opt, "sgd", &(bd_optim_config){.lr = 1e6f}, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 20;
    cfg.iters = 100;
    cfg.layer_log = path;
    cfg.layer_log_every = 1000; /* only step 1 and the failing one */
    bd_train_result res;
    assert_int_equal(bd_train(net, opt, &tr, NULL, &cfg, &res), BD_ERR_NUMERIC);
    bd_optim_free(opt);
    bd_net_free(net);
    fig_layer_log l;
    assert_ok(fig_read_layer_log(path, &l));
    const long last = l.iter[l.n - 1];
    print_message("loss stopped being finite at step %ld\n", last);
    assert_true(last > 1 && last < 100);
    assert_int_equal(l.n, 2 * 5); /* step 1 and that step, 5 layers each */
    fig_layer_log_free(&l);
    bd_dataset_free(&tr);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* What is not a layer log is refused, naming the file (and the line). */
static void test_reader_refuses(void **st)
{
    (void)st;
    char path[256];
    fig_layer_log l;
    path_of(path, sizeof path, "notlog.csv");
    write_file(path, "kind,epoch,iter,loss,train_acc,test_acc\niter,1,1,2.3,,\n");
    assert_fails(fig_read_layer_log(path, &l), BD_ERR_FORMAT, "notlog.csv: not a `badak train "
                 "--log-layers` CSV");
    path_of(path, sizeof path, "short.csv");
    write_file(path, "iter,epoch,layer,kind,params,grad_norm,weight_norm,act_mean,act_std,"
                     "act_zero_frac,act_min,act_max\n"
                     "1,1,Affine1,Affine,20,0.5,2,0.1,1,0,-1,1\n"
                     "1,1,Relu1,Relu,0,,,0.1,1,0.5\n");
    assert_fails(fig_read_layer_log(path, &l), BD_ERR_FORMAT, "short.csv:3: expected 12");
    path_of(path, sizeof path, "word.csv");
    write_file(path, "iter,epoch,layer,kind,params,grad_norm,weight_norm,act_mean,act_std,"
                     "act_zero_frac,act_min,act_max\n"
                     "1,1,Affine1,Affine,20,big,2,0.1,1,0,-1,1\n");
    assert_fails(fig_read_layer_log(path, &l), BD_ERR_FORMAT, "word.csv:2: expected numbers");
    path_of(path, sizeof path, "empty.csv");
    write_file(path, "iter,epoch,layer,kind,params,grad_norm,weight_norm,act_mean,act_std,"
                     "act_zero_frac,act_min,act_max\n");
    assert_fails(fig_read_layer_log(path, &l), BD_ERR_FORMAT, "empty.csv: the layer log has no "
                 "rows");
    path_of(path, sizeof path, "absent.csv");
    assert_fails(fig_read_layer_log(path, &l), BD_ERR_IO, "absent.csv: cannot read");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_changes_nothing),
        cmocka_unit_test(test_layer_stats_values),
        cmocka_unit_test(test_pooled_conv_output_skipped),
        cmocka_unit_test(test_sigmoid_gradient_vanishes),
        cmocka_unit_test(test_frozen_and_every),
        cmocka_unit_test(test_nonfinite_step_logged),
        cmocka_unit_test(test_reader_refuses),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
