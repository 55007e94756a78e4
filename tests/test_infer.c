/* test_infer.c — inference in three calls (bd_model_open / predict /
 * close): the probabilities are the network's softmax in evaluation mode
 * (a BatchNorm model with a batch of 1 does not give the same answer for
 * every input, and its running averages do not move); an opened model holds
 * no gradients and less memory than one loaded for training (simple_convnet
 * measured); bd_model_evaluate repeats bd_evaluate; threads predicting on
 * one model get the single-thread results (tsan_predict.c runs the same
 * under ThreadSanitizer). */
#include "testutil.h"

#include <pthread.h>

#include "internal.h"

static char g_dir[64];

static int setup(void **st)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/badak_infer_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **st)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* An MLP with BatchNorm and Dropout, its BatchNorm running averages moved
 * away from (0, 1) by a few training-mode passes, saved to g_dir/name. */
static void make_bn_model(const char *name, char *path, size_t len)
{
    bd_net_spec s;
    bd_net_spec_default(&s);
    snprintf(s.model, sizeof s.model, "mlp");
    s.hidden[0] = 16, s.nhidden = 1;
    s.batchnorm = 1;
    s.dropout = 0.3f;
    bd_rng r;
    bd_rng_seed(&r, 4);
    bd_net *net = NULL;
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 6, 3, &r));
    assert_ok(bd_net_reserve(net, 32));
    bd_tensor x, y;
    random_batch_range(&x, &y, 32, 6, 3, -2.0f, 3.0f, 9);
    for (int i = 0; i < 5; i++)
        assert_ok(bd_net_loss(net, &x, (bd_labels){bd_i32(&y), NULL}, NULL));
    snprintf(path, len, "%s/%s", g_dir, name);
    assert_ok(bd_model_save(net, path, NULL));
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

/* softmax of the evaluation-mode forward of a loaded copy */
static void reference_probs(const char *path, const float *x, int n, float *p)
{
    bd_net *net = NULL;
    assert_ok(bd_model_load(&net, path, NULL));
    assert_int_equal(net->training, 0); /* a loaded model starts in evaluation mode */
    assert_ok(bd_net_reserve(net, n));
    int shape[2] = {n, net->in_size};
    bd_tensor xt = bd_tensor_view((float *)x, 2, shape);
    const bd_tensor *y;
    assert_ok(bd_net_forward(net, &xt, &y));
    const int C = net->out_size;
    for (int r = 0; r < n; r++) {
        const float *z = bd_f32(y) + (size_t)r * C;
        double m = z[0], sum = 0;
        for (int k = 1; k < C; k++)
            m = fmax(m, z[k]);
        for (int k = 0; k < C; k++)
            sum += exp(z[k] - m);
        for (int k = 0; k < C; k++)
            p[(size_t)r * C + k] = (float)(exp(z[k] - m) / sum);
    }
    bd_net_free(net);
}

static void three_calls(void **st)
{
    char path[128];
    make_bn_model("bn.safetensors", path, sizeof path);
    bd_status s = BD_ERR_IO;
    bd_model *m = bd_model_open(path, &s);
    assert_non_null(m);
    assert_int_equal(s, BD_OK);
    assert_int_equal(bd_model_inputs(m), 6);
    assert_int_equal(bd_model_outputs(m), 3);
    /* no gradients, no backward buffers, evaluation mode */
    const bd_net *net = bd_model_net(m);
    assert_null(net->grads.data);
    assert_int_equal(net->training, 0);
    float state0[64];
    assert_true(net->state.size <= 64);
    memcpy(state0, net->state.data, net->state.size * sizeof(float));

    bd_tensor x, y;
    random_batch_range(&x, &y, 7, 6, 3, -2.0f, 3.0f, 11);
    float p[7 * 3], q[7 * 3], one[3];
    assert_ok(bd_model_predict(m, bd_f32(&x), 7, p));
    reference_probs(path, bd_f32(&x), 7, q);
    assert_memory_equal(p, q, sizeof p);
    for (int r = 0; r < 7; r++)
        assert_close(p[r * 3] + p[r * 3 + 1] + p[r * 3 + 2], 1.0, 1e-6);
    /* the trap of training mode: BatchNorm over a batch of 1 gives every
     * input the same logits; in evaluation mode each row is its own */
    for (int r = 0; r < 7; r++) {
        assert_ok(bd_model_predict(m, bd_f32(&x) + r * 6, 1, one));
        assert_memory_equal(one, p + r * 3, sizeof one);
    }
    assert_true(p[0] != p[3] || p[1] != p[4]);
    /* nothing moved the running averages */
    assert_memory_equal(state0, net->state.data, net->state.size * sizeof(float));
    assert_ok(bd_model_predict(m, NULL, 0, NULL));
    assert_fails(bd_model_predict(m, NULL, 2, p), BD_ERR_ARG, "x is NULL");
    assert_fails(bd_model_predict(NULL, bd_f32(&x), 1, p), BD_ERR_ARG, "the model is NULL");
    /* an inference-only network cannot be trained by accident */
    assert_fails(bd_net_loss((bd_net *)net, &x, (bd_labels){bd_i32(&y), NULL}, NULL),
                 BD_ERR_ARG, "inference only");
    bd_model_close(m);
    bd_model_close(NULL);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
}

static void open_failures(void **st)
{
    bd_status s = BD_OK;
    char path[128];
    snprintf(path, sizeof path, "%s/missing.safetensors", g_dir);
    assert_null(bd_model_open(path, &s));
    assert_int_equal(s, BD_ERR_IO);
    assert_non_null(strstr(bd_errmsg(), "missing.safetensors"));
    assert_null(bd_model_open(path, NULL)); /* st may be NULL */
    assert_null(bd_model_open(NULL, &s));
    assert_int_equal(s, BD_ERR_ARG);
    snprintf(path, sizeof path, "%s/junk.safetensors", g_dir);
    FILE *f = fopen(path, "w");
    fputs("not a model", f);
    fclose(f);
    assert_null(bd_model_open(path, &s));
    assert_int_equal(s, BD_ERR_FORMAT);
}

/* simple_convnet on 1x28x28: the bytes an opened model holds (weights,
 * state, one workspace of the rows it predicts in) against the same model
 * loaded for training (weights, gradients, Adam's two moments, every
 * buffer reserved for a batch of 100). */
static void inference_memory(void **st)
{
    bd_rng r;
    bd_rng_seed(&r, 1);
    bd_net *net = NULL;
    assert_ok(bd_net_simple_convnet(&net, 1, 28, 28, 10, &r));
    char path[128];
    snprintf(path, sizeof path, "%s/cnn.safetensors", g_dir);
    bd_model_meta meta;
    bd_model_meta_init(&meta);
    meta.batch = 100;
    assert_ok(bd_model_save(net, path, &meta));
    bd_net_free(net);

    bd_net *tr = NULL;
    assert_ok(bd_model_load(&tr, path, NULL));
    assert_ok(bd_net_reserve(tr, 100));
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "adam", NULL, tr));
    size_t train_bytes = bd__net_bytes(tr) + 2 * bd_net_trainable_count(tr) * sizeof(float);

    bd_model *m = bd_model_open(path, NULL);
    assert_non_null(m);
    size_t idle = bd_model_bytes(m);
    float x[784] = {0}, p[10];
    assert_ok(bd_model_predict(m, x, 1, p));
    size_t one_ws = bd_model_bytes(m);
    assert_ok(bd_model_set_rows(m, 1));
    assert_ok(bd_model_predict(m, x, 1, p));
    size_t one_row = bd_model_bytes(m);
    print_message("simple_convnet: training %.2f MB (batch 100, Adam); opened %.2f MB, "
                  "%.2f MB with a 100-row workspace, %.2f MB with a 1-row one\n",
                  train_bytes / 1e6, idle / 1e6, one_ws / 1e6, one_row / 1e6);
    /* weights alone: 4 bytes a parameter plus the layer list */
    assert_true(idle < bd_net_param_count(tr) * sizeof(float) + 16384);
    assert_true(one_ws < train_bytes * 3 / 4); /* same rows, no backward side */
    assert_true(one_row < idle + idle / 4);
    bd_model_close(m);
    bd_optim_free(o);
    bd_net_free(tr);
}

/* bd_model_evaluate == bd_evaluate in the training run's rows, predictions too */
static void evaluate_like_training(void **st)
{
    char path[128];
    make_bn_model("bn2.safetensors", path, sizeof path);
    bd_dataset te;
    make_blobs(&te, 1234, 6, 3, 1.0f, 2, 5);
    bd_net *net = NULL;
    assert_ok(bd_model_load(&net, path, NULL));
    assert_ok(bd_net_reserve(net, bd_train_eval_rows(net, 100)));
    float a, b;
    assert_ok(bd_evaluate(net, &te, &a, NULL));
    bd_model *m = bd_model_open(path, NULL);
    int32_t *pred = malloc((size_t)te.n * sizeof *pred);
    assert_ok(bd_model_evaluate(m, &te, &b, pred));
    assert_true(a == b);
    long ok = 0;
    for (int i = 0; i < te.n; i++)
        ok += pred[i] == bd_i32(&te.y)[i];
    assert_true((float)((double)ok / te.n) == b);
    free(pred);
    bd_model_close(m);
    bd_net_free(net);
    bd_dataset_free(&te);
}

/* ------------------------------------------------------------- threads */

/* want[n-1]: the one-thread probabilities of the first n inputs (a row's
 * last bits may depend on n: BLAS picks its kernels by size) */
typedef struct job {
    bd_model *m;
    const float *x;
    float (*want)[40 * 3];
    int n, rounds, bad;
} job;

static void *predict_loop(void *arg)
{
    job *j = arg;
    float *p = malloc((size_t)j->n * 3 * sizeof *p);
    for (int k = 0; k < j->rounds; k++) {
        int n = 1 + (k * 7) % j->n; /* different sizes: different chunks */
        if (bd_model_predict(j->m, j->x, n, p) != BD_OK ||
            memcmp(p, j->want[n - 1], (size_t)n * 3 * sizeof *p) != 0)
            j->bad++;
    }
    free(p);
    return NULL;
}

static void threads_share_a_model(void **st)
{
    char path[128];
    make_bn_model("bn3.safetensors", path, sizeof path);
    bd_model *m = bd_model_open(path, NULL);
    assert_ok(bd_model_set_rows(m, 8));
    bd_tensor x, y;
    random_batch_range(&x, &y, 40, 6, 3, -2.0f, 3.0f, 13);
    static float want[40][40 * 3];
    size_t idle = bd_model_bytes(m);
    for (int n = 1; n <= 40; n++)
        assert_ok(bd_model_predict(m, bd_f32(&x), n, want[n - 1]));
    size_t ws = bd_model_bytes(m) - idle; /* one workspace */
    assert_true(ws > 0);
    job jobs[4];
    pthread_t tid[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){m, bd_f32(&x), want, 40, 30, 0};
        assert_int_equal(pthread_create(&tid[i], NULL, predict_loop, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(tid[i], NULL);
        assert_int_equal(jobs[i].bad, 0);
    }
    /* 120 calls made at most one workspace per thread (4) besides the
     * first, not one per call */
    assert_true(bd_model_bytes(m) <= idle + 5 * ws);
    bd_model_close(m);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
}

int main(void)
{
    bd_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_calls),
        cmocka_unit_test(open_failures),
        cmocka_unit_test(inference_memory),
        cmocka_unit_test(evaluate_like_training),
        cmocka_unit_test(threads_share_a_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
