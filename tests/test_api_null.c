/* test_api_null.c — every public function of badak.h that takes a pointer,
 * called with NULL for it: fallible functions refuse with BD_ERR_ARG (and
 * a message naming what is missing), constructors leave *out NULL, the
 * accessors and _free functions do nothing and return 0 / NULL / "". None
 * crashes (the sanitizer build runs this too). Exempt, as badak.h says:
 * the plain array kernels (layer kernels, bd_augment_shift/flip/rotate,
 * bd_image_resize, bd_numerical_gradient) and bd_rng_*, which check nothing
 * on their hot paths. Only badak.h is used. */
#include "testutil.h"

static int g_n, g_bad; /* rows run, rows that did not refuse as they should */

/* one row of the table: the call must return BD_ERR_ARG, its message
 * containing sub ("" : any); every failing row is reported, then the test
 * fails */
#define ARG(call, sub)                                                      \
    do {                                                                    \
        if (getenv("BADAK_TRACE"))                                          \
            fprintf(stderr, "%s\n", #call);                                 \
        bd_status s_ = (call);                                              \
        g_n++;                                                              \
        if (s_ != BD_ERR_ARG || !strstr(bd_errmsg(), (sub))) {              \
            g_bad++;                                                        \
            print_error("%s -> %s: %s (want BD_ERR_ARG, '%s')\n", #call,    \
                        bd_status_name(s_), bd_errmsg(), (sub));            \
        }                                                                   \
    } while (0)

/* the shared fixtures: one built network, an optimizer for it, a data set */
typedef struct fix {
    bd_net *net;
    bd_optim *opt;
    bd_dataset ds;
    bd_rng rng;
    bd_tensor x;
} fix;

static void make_fix(fix *f)
{
    bd_rng_seed(&f->rng, 1);
    assert_ok(bd_net_two_layer(&f->net, 4, 3, 2, (bd_init){BD_INIT_HE, 0}, &f->rng));
    assert_ok(bd_optim_create(&f->opt, "sgd", NULL, f->net));
    float xv[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    int32_t yv[2] = {0, 1};
    assert_ok(bd_dataset_from_arrays(xv, yv, 2, (const int[3]){1, 1, 4}, 2, &f->ds));
    assert_ok(bd_tensor_zeros(&f->x, 2, 2, 4, 0, 0));
}

static void free_fix(fix *f)
{
    bd_optim_free(f->opt);
    bd_net_free(f->net);
    bd_dataset_free(&f->ds);
    bd_tensor_free(&f->x);
}

/* networks, layers, optimizers */
static void null_net_optim(void **st)
{
    fix f;
    make_fix(&f);
    bd_net *net = (bd_net *)&f; /* not NULL before: constructors must clear it */
    bd_init he = {BD_INIT_HE, 0};
    int hid[1] = {3};
    g_n = g_bad = 0;
    ARG(bd_net_create(NULL, 1, 1, 4), "out is NULL");
    ARG(bd_net_two_layer(NULL, 4, 3, 2, he, &f.rng), "out is NULL");
    ARG(bd_net_two_layer(&net, 4, 3, 2, he, NULL), "rng");
    assert_null(net);
    ARG(bd_net_mlp(&net, 4, NULL, 1, 2, BD_LAYER_RELU, he, &f.rng), "hidden is NULL");
    ARG(bd_net_mlp(&net, 4, hid, 1, 2, BD_LAYER_RELU, he, NULL), "rng");
    ARG(bd_net_simple_convnet(NULL, 1, 8, 8, 2, &f.rng), "out is NULL");
    ARG(bd_net_simple_convnet(&net, 1, 8, 8, 2, NULL), "rng");
    ARG(bd_net_deep_convnet(&net, 1, 16, 16, 2, NULL), "rng");
    ARG(bd_net_resnet(&net, 1, 8, 8, 2, NULL), "rng");
    ARG(bd_net_tobigs_cnn(&net, 3, 32, 32, 2, NULL), "rng");
    ARG(bd_net_resnet18(&net, 3, 32, 32, 2, NULL), "rng");
    ARG(bd_net_from_spec(&net, NULL, 1, 1, 4, 2, &f.rng), "spec is NULL");
    ARG(bd_net_from_ini(&net, NULL, "x", 1, 1, 4, 2, &f.rng), "text");
    ARG(bd_net_from_ini(&net, "[a]\ntype = affine\nunits = 2\n", "x", 1, 1, 4, 2, NULL), "rng");
    ARG(bd_net_load_ini(&net, NULL, 1, 1, 4, 2, &f.rng), "path is NULL");
    ARG(bd_model_load(&net, NULL, NULL), "path is NULL");
    ARG(bd_model_load(NULL, "m.safetensors", NULL), "out is NULL");
    ARG(bd_model_load_mem(&net, NULL, 10, "x", NULL), "buf is NULL");
    assert_null(net);
    ARG(bd_net_add_affine(NULL, 3), "net is NULL");
    ARG(bd_net_add_relu(NULL), "net is NULL");
    ARG(bd_net_add_sigmoid(NULL), "net is NULL");
    ARG(bd_net_add(NULL, BD_LAYER_RELU, 0), "net is NULL");
    ARG(bd_net_add_with(NULL, BD_LAYER_DROPOUT, 0, 0.5f, 0), "net is NULL");
    ARG(bd_net_add_layer(NULL, &(bd_layer_conf){.kind = BD_LAYER_RELU}), "net is NULL");
    ARG(bd_net_add_layer(f.net, NULL), "conf is NULL");
    ARG(bd_net_add_conv(NULL, 2, 3, 1, 0), "net is NULL");
    ARG(bd_net_add_pool(NULL, BD_LAYER_MAXPOOL, 2, 2), "net is NULL");
    ARG(bd_net_add_resblock(NULL, 4, 1), "net is NULL");
    ARG(bd_net_set_loss(NULL, BD_LOSS_MSE), "net is NULL");
    ARG(bd_net_set_regularization(NULL, 0, 0), "net is NULL");
    ARG(bd_net_set_class_weights(NULL, NULL), "net is NULL");
    ARG(bd_net_build(NULL, he, &f.rng), "net is NULL");
    ARG(bd_net_build(f.net, he, NULL), "rng is NULL");
    ARG(bd_net_init_weights(NULL, he, &f.rng), "net is NULL");
    ARG(bd_net_init_weights(f.net, he, NULL), "rng is NULL");
    ARG(bd_net_reserve(NULL, 4), "net is NULL");
    ARG(bd_net_set_training(NULL, 0), "net is NULL");
    ARG(bd_net_freeze(NULL, 1), "net is NULL");
    ARG(bd_net_replace_head(NULL, 3, &f.rng), "net is NULL");
    ARG(bd_net_replace_head(f.net, 3, NULL), "rng is NULL");
    ARG(bd_net_forward(NULL, &f.x, NULL), "net is NULL");
    ARG(bd_net_forward(f.net, NULL, NULL), "x is NULL");
    int32_t y2[2] = {0, 1};
    float loss;
    ARG(bd_net_loss(NULL, &f.x, (bd_labels){y2, NULL}, &loss), "net is NULL");
    ARG(bd_net_loss(f.net, NULL, (bd_labels){y2, NULL}, &loss), "x is NULL");
    ARG(bd_net_loss(f.net, &f.x, (bd_labels){NULL, NULL}, &loss), "neither idx nor onehot");
    ARG(bd_net_backward(NULL), "net is NULL");
    ARG(bd_net_gradient(NULL, &f.x, (bd_labels){y2, NULL}, &loss), "net is NULL");
    ARG(bd_net_to_ini(NULL, &(char *){NULL}), "NULL");
    ARG(bd_net_to_ini(f.net, NULL), "NULL");
    ARG(bd_net_layer_stats(NULL, 0, &(bd_layer_stats){0}), "NULL");
    bd_optim *o = (bd_optim *)&f;
    ARG(bd_optim_create(NULL, "sgd", NULL, f.net), "out is NULL");
    ARG(bd_optim_create(&o, NULL, NULL, f.net), "name is NULL");
    ARG(bd_optim_create(&o, "sgd", NULL, NULL), "net is NULL");
    assert_null(o);
    ARG(bd_optim_check(NULL, NULL), "name is NULL");
    ARG(bd_optim_step(NULL, f.net), "NULL");
    ARG(bd_optim_step(f.opt, NULL), "NULL");
    ARG(bd_optim_set_lr(NULL, 0.1f), "NULL");
    /* accessors and frees: nothing, and 0 / NULL / "" */
    bd_net_free(NULL);
    bd_optim_free(NULL);
    bd_net_print(NULL, stdout);
    bd_net_print(f.net, NULL);
    bd_net_input_shape(NULL, NULL, NULL, NULL);
    bd_net_get_regularization(NULL, NULL, NULL);
    bd_layer_output_shape(NULL, NULL, NULL, NULL);
    assert_true(bd_net_param_count(NULL) == 0 && bd_net_state_count(NULL) == 0);
    assert_true(bd_net_layer_count(NULL) == 0 && bd_net_input_size(NULL) == 0);
    assert_true(bd_net_output_size(NULL) == 0 && bd_net_is_training(NULL) == 0);
    assert_true(bd_net_max_batch(NULL) == 0 && bd_net_frozen(NULL) == 0);
    assert_true(bd_net_trainable_offset(NULL) == 0 && bd_net_trainable_count(NULL) == 0);
    assert_null(bd_net_params(NULL, NULL));
    assert_null(bd_net_grads(NULL, NULL));
    assert_null(bd_net_state(NULL, NULL));
    assert_null(bd_net_layer(NULL, "Affine1"));
    assert_null(bd_net_layer(f.net, NULL));
    assert_null(bd_net_layer_at(NULL, 0));
    assert_string_equal(bd_net_desc(NULL), "");
    assert_string_equal(bd_layer_name(NULL), "");
    assert_int_equal(bd_layer_kind_of(NULL), BD_LAYER_KIND_COUNT);
    assert_true(bd_layer_param_count(NULL) == 0 && bd_layer_param_offset(NULL) == 0);
    assert_string_equal(bd_optim_name(NULL), "");
    assert_null(bd_optim_get_config(NULL));
    assert_true(bd_optim_size(NULL) == 0 && bd_optim_steps(NULL) == 0);
    assert_true(bd_train_eval_rows(NULL, 100) >= 100);
    print_message("%d NULL calls, %d not refused as they should be\n", g_n, g_bad);
    free_fix(&f);
    assert_int_equal(g_bad, 0);
}

/* data sets, training, evaluation, model files, checkpoints, parsing */
static void null_data_train_io(void **st)
{
    fix f;
    make_fix(&f);
    g_n = g_bad = 0;
    bd_dataset d2;
    int32_t y2[2] = {0, 1};
    float xv[8] = {0};
    ARG(bd_dataset_from_arrays(NULL, y2, 2, (const int[3]){1, 1, 4}, 2, &d2), "x is NULL");
    ARG(bd_dataset_from_arrays(xv, NULL, 2, (const int[3]){1, 1, 4}, 2, &d2), "y is NULL");
    ARG(bd_dataset_from_arrays(xv, y2, 2, NULL, 2, &d2), "shape is NULL");
    ARG(bd_dataset_from_arrays(xv, y2, 2, (const int[3]){1, 1, 4}, 2, NULL), "out is NULL");
    ARG(bd_mnist_load(NULL, &d2, &d2), "");
    ARG(bd_mnist_load("data/mnist", NULL, &d2), "NULL");
    ARG(bd_csv_load(NULL, -1, &d2), "NULL");
    ARG(bd_csv_load("x.csv", -1, NULL), "NULL");
    ARG(bd_idx_read(NULL, &(bd_idx){0}), "NULL");
    ARG(bd_cifar_load("cifar10", NULL, &d2, &d2), "NULL");
    ARG(bd_imagefolder_load(NULL, 1, 8, 8, 0.2f, 1, &d2, &d2), "NULL");
    ARG(bd_data_dir(NULL, (char[64]){0}, 64), "NULL");
    ARG(bd_dataset_classes(NULL, 0, NULL), "NULL");
    ARG(bd_dataset_truncate(NULL, 1), "NULL");
    ARG(bd_dataset_split(NULL, 0.5f, &f.rng, &d2), "NULL");
    ARG(bd_dataset_split(&f.ds, 0.5f, NULL, &d2), "NULL");
    ARG(bd_dataset_gather(NULL, y2, 1, &f.x, NULL), "NULL");
    ARG(bd_dataset_gather(&f.ds, NULL, 1, &f.x, NULL), "NULL");
    ARG(bd_dataset_gather(&f.ds, y2, 1, NULL, NULL), "NULL");
    ARG(bd_dataset_slice(NULL, 0, 1, &f.x, NULL), "NULL");
    ARG(bd_dataset_slice(&f.ds, 0, 1, NULL, NULL), "NULL");
    ARG(bd_dataset_channel_stats(NULL, xv, xv), "NULL");
    ARG(bd_dataset_set_norm(NULL, NULL, NULL), "NULL");
    ARG(bd_class_counts(NULL, (long[2]){0}), "NULL");
    ARG(bd_class_weights(&f.ds, NULL), "NULL");
    ARG(bd_dataset_thin_classes(NULL, (uint8_t[2]){1, 0}, 0.5f, &f.rng), "NULL");
    ARG(bd_dataset_standardize_targets(NULL, NULL, NULL), "NULL");
    bd_train_result res;
    ARG(bd_train(NULL, f.opt, &f.ds, NULL, NULL, &res), "NULL");
    /* opt NULL is no error: bd_train makes cfg's optimizer (test_lib.c); a
     * NULL network with it is still refused */
    ARG(bd_train(NULL, NULL, &f.ds, NULL, NULL, &res), "NULL");
    ARG(bd_train(f.net, f.opt, NULL, NULL, NULL, &res), "NULL");
    bd_trainer *t = (bd_trainer *)&f;
    ARG(bd_trainer_create(NULL, f.net, f.opt, &f.ds, NULL, NULL), "out is NULL");
    ARG(bd_trainer_create(&t, NULL, f.opt, &f.ds, NULL, NULL), "NULL");
    assert_null(t);
    ARG(bd_trainer_step(NULL, NULL), "NULL");
    ARG(bd_trainer_end_epoch(NULL, NULL), "NULL");
    ARG(bd_trainer_evaluate(NULL, &f.ds, &(float){0}, NULL), "NULL");
    ARG(bd_trainer_save(NULL, "dir"), "NULL");
    ARG(bd_trainer_finish(NULL, NULL), "NULL");
    float acc;
    ARG(bd_evaluate(NULL, &f.ds, &acc, NULL), "NULL");
    ARG(bd_evaluate(f.net, NULL, &acc, NULL), "NULL");
    ARG(bd_evaluate_range(NULL, &f.ds, 0, 1, 0, &(bd_eval_sums){0}), "NULL");
    ARG(bd_confusion(NULL, &f.ds, (long[4]){0}, 2), "NULL");
    ARG(bd_regress_metrics(NULL, &f.ds, &(bd_regress_metrics_t){0}), "NULL");
    ARG(bd_multilabel_metrics(NULL, &f.ds, 0.5f, &(bd_multilabel_metrics_t){0}), "NULL");
    ARG(bd_gradcheck(NULL, &f.x, (bd_labels){y2, NULL}, NULL, NULL, NULL), "net is NULL");
    ARG(bd_gradcheck(f.net, NULL, (bd_labels){y2, NULL}, NULL, NULL, NULL), "x is NULL");
    ARG(bd_hpsearch(NULL, &f.ds, NULL, &(bd_hpsearch_result){0}), "NULL");
    ARG(bd_hpsearch_write_csv(NULL, "x.csv"), "NULL");
    ARG(bd_model_save(NULL, "m.safetensors", NULL), "NULL");
    ARG(bd_model_save(f.net, NULL, NULL), "NULL");
    ARG(bd_model_export_c(NULL, "m.h", "m"), "NULL");
    ARG(bd_model_export_c(f.net, NULL, "m"), "NULL");
    bd_status ms = BD_OK;
    assert_null(bd_model_open(NULL, &ms));
    assert_int_equal(ms, BD_ERR_ARG);
    ARG(bd_model_predict(NULL, xv, 1, xv), "NULL");
    ARG(bd_model_evaluate(NULL, &f.ds, &acc, NULL), "NULL");
    ARG(bd_model_set_rows(NULL, 10), "NULL");
    assert_null(bd_model_info(NULL));
    assert_null(bd_model_net(NULL));
    assert_true(bd_model_inputs(NULL) == 0 && bd_model_outputs(NULL) == 0);
    assert_true(bd_model_bytes(NULL) == 0);
    bd_model_close(NULL);
    bd_train_pos pos;
    memset(&pos, 0, sizeof pos);
    bd_net *cn = (bd_net *)&f;
    bd_optim *co = (bd_optim *)&f;
    ARG(bd_checkpoint_save(NULL, f.net, f.opt, &pos, NULL, NULL), "NULL");
    ARG(bd_checkpoint_save("dir", NULL, f.opt, &pos, NULL, NULL), "NULL");
    ARG(bd_checkpoint_load(NULL, &cn, &co, &pos, NULL, NULL), "");
    ARG(bd_checkpoint_load("dir", NULL, &co, &pos, NULL, NULL), "net is NULL");
    ARG(bd_output_check(NULL, "model"), "NULL");
    ARG(bd_atomic_open(NULL, "x", "log"), "NULL");
    ARG(bd_image_load(NULL, &(bd_image){0}), "NULL");
    ARG(bd_image_load_color("x.png", NULL), "NULL");
    ARG(bd_image_write_pgm(NULL, "x.pgm"), "NULL");
    ARG(bd_image_to_input(NULL, 28, 28, NULL, xv), "NULL");
    ARG(bd_image_alloc(NULL, 2, 2), "NULL");
    ARG(bd_augment_check(NULL, 1, 8, 8), "NULL");
    ARG(bd_augment_batch(NULL, xv, 1, 1, 2, 2, xv, &f.rng), "NULL");
    ARG(bd_tensor_alloc(NULL, BD_F32, 1, (const int[1]){2}), "NULL");
    ARG(bd_tensor_zeros(NULL, 1, 2, 0, 0, 0), "NULL");
    ARG(bd_tensor_reshape(NULL, 1, (const int[1]){2}, "x"), "NULL");
    ARG(bd_conv_geom_init(NULL, "c"), "NULL");
    /* parsers: NULL text or NULL result */
    bd_layer_kind k;
    float p0, p1;
    int c, h, w, n;
    bd_train_option opts[1];
    ARG(bd_parse_act(NULL, &k, &p0, &p1), "NULL");
    ARG(bd_parse_act("relu", NULL, &p0, &p1), "NULL");
    ARG(bd_parse_loss(NULL, &(bd_loss_kind){0}), "NULL");
    ARG(bd_parse_shape(NULL, &c, &h, &w), "NULL");
    ARG(bd_parse_activation(NULL, &k), "NULL");
    ARG(bd_parse_init(NULL, &(bd_init){0}), "NULL");
    ARG(bd_parse_layer_kind(NULL, &k), "NULL");
    ARG(bd_parse_schedule(NULL, &(bd_lr_schedule){0}), "NULL");
    ARG(bd_parse_augment(NULL, &(bd_augment){0}), "NULL");
    ARG(bd_parse_columns(NULL, (int[4]){0}, 4, &n), "NULL");
    ARG(bd_set_kernels(NULL), "NULL");
    ARG(bd_net_train_options(NULL, "x", opts, 1, &n), "NULL");
    ARG(bd_net_load_train_options(NULL, opts, 1, &n), "NULL");
    /* frees and defaults: nothing for NULL */
    bd_dataset_free(NULL);
    bd_tensor_free(NULL);
    bd_idx_free(NULL);
    bd_image_free(NULL);
    bd_train_pos_free(NULL);
    bd_trainer_free(NULL);
    bd_hpsearch_free(NULL);
    bd_atomic_abort(NULL);
    bd_train_config_default(NULL);
    bd_net_spec_default(NULL);
    bd_hpsearch_config_default(NULL);
    bd_gradcheck_config_default(NULL);
    bd_model_meta_init(NULL);
    bd_augment_default(NULL);
    bd_image_prep_default(NULL);
    bd_diagnose(NULL, NULL);
    bd_trainer_progress(NULL, NULL, NULL, NULL);
    assert_true(bd_trainer_done(NULL) == 1 && bd_trainer_epoch_end(NULL) == 0);
    assert_null(bd_atomic_stream(NULL));
    ARG(bd_atomic_commit(NULL), "NULL");
    print_message("%d NULL calls, %d not refused as they should be\n", g_n, g_bad);
    free_fix(&f);
    assert_int_equal(g_bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_net_optim),
        cmocka_unit_test(null_data_train_io),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
