/* test_api.c — the public handles through badak.h alone (no internal.h):
 * networks made by constructors and read through accessors, data sets from
 * the caller's arrays, a loaded model in evaluation mode. */
#include "testutil.h"

#include <unistd.h>

/* the accessors say what the network is: counts, shapes, layers, blocks */
static void accessors(void **st)
{
    bd_net *net = NULL;
    assert_ok(bd_net_create(&net, 1, 6, 6));
    assert_int_equal(bd_net_param_count(net), 0); /* not built */
    assert_null(bd_net_params(net, NULL));
    assert_ok(bd_net_add_conv(net, 2, 3, 1, 0));      /* -> 2x4x4 */
    assert_ok(bd_net_add_relu(net));
    assert_ok(bd_net_add_pool(net, BD_LAYER_MAXPOOL, 2, 2)); /* -> 2x2x2 */
    assert_ok(bd_net_add_affine(net, 3));
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    assert_int_equal(bd_net_layer_count(net), 4);
    assert_int_equal(bd_net_input_size(net), 36);
    assert_int_equal(bd_net_output_size(net), 3);
    int c, h, w;
    bd_net_input_shape(net, &c, &h, &w);
    assert_true(c == 1 && h == 6 && w == 6);
    size_t np, ng;
    float *p = bd_net_params(net, &np), *g = bd_net_grads(net, &ng);
    assert_non_null(p);
    assert_non_null(g);
    assert_int_equal(np, 2 * 9 + 2 + 8 * 3 + 3);
    assert_int_equal(np, ng);
    assert_int_equal(np, bd_net_param_count(net));
    assert_int_equal(bd_net_trainable_count(net), np);
    const bd_layer *pool = bd_net_layer_at(net, 2);
    assert_string_equal(bd_layer_name(pool), "MaxPool1");
    assert_int_equal(bd_layer_kind_of(pool), BD_LAYER_MAXPOOL);
    bd_layer_output_shape(pool, &c, &h, &w);
    assert_true(c == 2 && h == 2 && w == 2);
    assert_int_equal(bd_layer_param_count(pool), 0);
    const bd_layer *aff = bd_net_layer(net, "Affine1");
    assert_ptr_equal(aff, bd_net_layer_at(net, 3));
    assert_int_equal(bd_layer_param_count(aff), 8 * 3 + 3);
    assert_int_equal(bd_layer_param_offset(aff), 2 * 9 + 2);
    assert_null(bd_net_layer_at(net, 4));
    assert_null(bd_net_layer_at(net, -1));
    assert_null(bd_net_layer(net, "Affine9"));
    /* the mode: a built network trains, evaluation on request */
    assert_int_equal(bd_net_is_training(net), 1);
    assert_ok(bd_net_set_training(net, 0));
    assert_int_equal(bd_net_is_training(net), 0);
    assert_ok(bd_net_set_regularization(net, 1e-3f, 0));
    float l2, l1;
    bd_net_get_regularization(net, &l2, &l1);
    assert_true(l2 == 1e-3f && l1 == 0);
    assert_fails(bd_net_set_regularization(net, -1, 0), BD_ERR_ARG, "l2 = -1 must be >= 0");
    assert_int_equal(bd_net_loss_kind(net), BD_LOSS_SOFTMAX_CE);
    bd_net_free(net);
}

/* A network never moves, so a forward after more layers were looked up, or
 * after reserving more rows, runs on the same handle; and the layers'
 * parameters are the slices of the one block the accessors give. */
static void params_block_is_the_weights(void **st)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 2);
    assert_ok(bd_net_two_layer(&net, 4, 5, 3, (bd_init){BD_INIT_HE, 0}, &r));
    assert_ok(bd_net_reserve(net, 2));
    size_t n;
    float *p = bd_net_params(net, &n);
    memset(p, 0, n * sizeof *p); /* every weight and bias 0: logits all 0 */
    float xv[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int xs[2] = {2, 4};
    bd_tensor x = bd_tensor_view(xv, 2, xs);
    const bd_tensor *z;
    assert_ok(bd_net_reserve(net, 64)); /* new activation buffers, same net */
    assert_ok(bd_net_forward(net, &x, &z));
    for (int i = 0; i < 6; i++)
        assert_true(bd_f32(z)[i] == 0.0f);
    /* the last bias is the block's last 3 values */
    p[n - 3] = 1.0f;
    assert_ok(bd_net_forward(net, &x, &z));
    assert_true(bd_f32(z)[0] == 1.0f && bd_f32(z)[3] == 1.0f && bd_f32(z)[1] == 0.0f);
    bd_net_free(net);
    bd_net_free(NULL); /* a no-op */
}

/* bd_dataset_from_arrays copies, sets scale 1, and trains like a loaded set */
static void dataset_from_arrays(void **st)
{
    enum { N = 300, D = 4 };
    float *x = malloc(sizeof(float) * N * D);
    int32_t *y = malloc(sizeof(int32_t) * N);
    assert_non_null(x);
    assert_non_null(y);
    bd_rng r;
    bd_rng_seed(&r, 3);
    for (int i = 0; i < N; i++) { /* three separated blobs */
        y[i] = i % 3;
        for (int j = 0; j < D; j++)
            x[i * D + j] = (j == y[i] ? 3.0f : 0.0f) + 0.5f * bd_rng_normal(&r);
    }
    bd_dataset ds;
    assert_ok(bd_dataset_from_arrays(x, y, N, (const int[3]){1, 1, D}, 0, &ds));
    assert_int_equal(ds.n, N);
    assert_int_equal(ds.nclasses, 3);
    assert_true(ds.scale == 1.0f);
    assert_int_equal(ds.x.ndim, 2);
    assert_true(ds.x.data != x); /* a copy: the caller's arrays may go */
    float x0 = x[0];
    x[0] = 1e6f;
    y[0] = 2;
    assert_true(bd_f32(&ds.x)[0] == x0 && bd_i32(&ds.y)[0] == 0);
    free(x);
    free(y);
    bd_net *net = NULL;
    assert_ok(bd_net_two_layer(&net, D, 16, 3, (bd_init){BD_INIT_HE, 0}, &r));
    bd_optim *opt = NULL;
    assert_ok(bd_optim_create(&opt, "adam", &(bd_optim_config){.lr = 0.01f}, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.epochs = 20;
    cfg.batch = 30;
    bd_train_result res;
    assert_ok(bd_train(net, opt, &ds, NULL, &cfg, &res));
    /* 0.99-1.0 measured; a scale of 0 would leave it near 1/3 */
    if (!(res.train_acc >= 0.9f))
        fail_msg("training accuracy %g on three separated blobs", (double)res.train_acc);
    /* the same set with its scale zeroed by hand is refused, not trained */
    ds.scale = 0;
    assert_fails(bd_train(net, opt, &ds, NULL, &cfg, &res), BD_ERR_ARG,
                 "bd_dataset.scale = 0: every input would be 0");
    bd_optim_free(opt);
    bd_net_free(net);
    bd_dataset_free(&ds);
}

static void dataset_from_arrays_errors(void **st)
{
    float x[6] = {0, 1, 2, 3, 4, 5};
    int32_t y[2] = {0, 3};
    const int shape[3] = {1, 1, 3};
    bd_dataset ds;
    assert_fails(bd_dataset_from_arrays(x, y, 2, shape, 3, &ds), BD_ERR_ARG,
                 "y[1] = 3 is not a class in 0..2");
    assert_null(ds.x.data);
    y[1] = -1;
    assert_fails(bd_dataset_from_arrays(x, y, 2, shape, 0, &ds), BD_ERR_ARG, "y[1] = -1");
    y[1] = 1;
    x[4] = NAN;
    assert_fails(bd_dataset_from_arrays(x, y, 2, shape, 0, &ds), BD_ERR_ARG,
                 "x[4] (sample 1) is nan");
    x[4] = 4;
    assert_fails(bd_dataset_from_arrays(x, y, 0, shape, 0, &ds), BD_ERR_ARG, "n = 0");
    assert_fails(bd_dataset_from_arrays(x, y, 2, (const int[3]){1, 0, 3}, 0, &ds), BD_ERR_SHAPE,
                 "every side must be >= 1");
    assert_fails(bd_dataset_from_arrays(x, y, 2, (const int[3]){65536, 65536, 1}, 0, &ds),
                 BD_ERR_SHAPE, "");
    /* images keep their shape: [n, c, h, w] */
    assert_ok(bd_dataset_from_arrays(x, y, 2, (const int[3]){1, 1, 3}, 0, &ds));
    bd_dataset_free(&ds);
    assert_ok(bd_dataset_from_arrays(x, y, 1, (const int[3]){1, 2, 3}, 0, &ds));
    assert_int_equal(ds.x.ndim, 4);
    assert_true(ds.c == 1 && ds.h == 2 && ds.w == 3 && ds.nclasses == 1);
    bd_dataset_free(&ds);
}

/* A loaded model starts in evaluation mode: with BatchNorm and Dropout a
 * forward of one image gives the same logits twice and leaves the running
 * statistics alone (in training mode it would do neither). */
static void loaded_model_in_eval_mode(void **st)
{
    char dir[] = "/tmp/badak_api_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    bd_net_spec s;
    bd_net_spec_default(&s);
    snprintf(s.model, sizeof s.model, "mlp");
    s.hidden[0] = 8, s.nhidden = 1;
    s.batchnorm = 1;
    s.dropout = 0.5f;
    bd_rng r;
    bd_rng_seed(&r, 4);
    bd_net *net = NULL;
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 5, 3, &r));
    assert_int_equal(bd_net_is_training(net), 1);
    assert_ok(bd_model_save(net, path, NULL));
    bd_net_free(net);
    assert_ok(bd_model_load(&net, path, NULL));
    assert_int_equal(bd_net_is_training(net), 0);
    assert_ok(bd_net_reserve(net, 1));
    size_t ns;
    const float *state = bd_net_state(net, &ns);
    assert_true(ns > 0);
    float *before = malloc(ns * sizeof(float));
    assert_non_null(before);
    memcpy(before, state, ns * sizeof(float));
    float xv[5] = {0.3f, -1, 2, 0.5f, 1};
    int xs[2] = {1, 5};
    bd_tensor x = bd_tensor_view(xv, 2, xs);
    const bd_tensor *z;
    float z1[3];
    assert_ok(bd_net_forward(net, &x, &z));
    memcpy(z1, z->data, sizeof z1);
    assert_ok(bd_net_forward(net, &x, &z));
    assert_memory_equal(z1, z->data, sizeof z1);
    assert_memory_equal(before, state, ns * sizeof(float));
    free(before);
    bd_net_free(net);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accessors),
        cmocka_unit_test(params_block_is_the_weights),
        cmocka_unit_test(dataset_from_arrays),
        cmocka_unit_test(dataset_from_arrays_errors),
        cmocka_unit_test(loaded_model_in_eval_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
