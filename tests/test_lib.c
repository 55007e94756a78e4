/* test_lib.c — the library as a C programmer meets it, through badak.h
 * alone: bd_train without an optimizer of the caller's (it makes the one
 * the config names and frees it), and library messages that speak of API
 * arguments, never of the command's flags. */
#include "testutil.h"

#include <sys/stat.h>

/* Three noisy clusters in 6 features, as a data set from arrays. */
static void blobs(bd_dataset *ds, int n, uint64_t seed)
{
    float *x = malloc((size_t)n * 6 * sizeof(float));
    int32_t *y = malloc((size_t)n * sizeof(int32_t));
    assert_non_null(x);
    assert_non_null(y);
    bd_rng r;
    bd_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        y[i] = i % 3;
        for (int j = 0; j < 6; j++)
            x[i * 6 + j] = (float)(j % 3 == y[i]) + 0.7f * bd_rng_normal(&r);
    }
    assert_ok(bd_dataset_from_arrays(x, y, n, (const int[3]){1, 1, 6}, 3, ds));
    free(x);
    free(y);
}

static bd_net *mlp(uint64_t seed)
{
    bd_rng r;
    bd_rng_seed(&r, seed);
    bd_net *net = NULL;
    const int hidden[1] = {12};
    assert_ok(bd_net_mlp(&net, 6, hidden, 1, 3, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0}, &r));
    return net;
}

/* Train a fresh network of seed 5 for 3 epochs: with opt NULL (bd_train
 * creates cfg's optimizer) or with `name`/`oc` created here. Returns the
 * trained parameters (malloc'd) and their count. */
static float *train_with(int own, const char *name, const bd_optim_config *oc,
                         const bd_train_config *cfg, const bd_dataset *train, size_t *np,
                         bd_train_result *res)
{
    bd_net *net = mlp(5);
    bd_optim *opt = NULL;
    if (own)
        assert_ok(bd_optim_create(&opt, name, oc, net));
    assert_ok(bd_train(net, opt, train, NULL, cfg, res));
    if (own)
        assert_int_equal(bd_optim_steps(opt), res->iters);
    bd_optim_free(opt);
    const float *p = bd_net_params(net, np);
    float *copy = malloc(*np * sizeof(float));
    assert_non_null(copy);
    memcpy(copy, p, *np * sizeof(float));
    bd_net_free(net);
    return copy;
}

/* opt NULL: the same bits as the explicitly created optimizer of the same
 * name and hyperparameters (Adam at lr 0.01 with beta1 0.8; SGD's
 * defaults when the config names none), and training really happened. */
static void train_without_optimizer(void **st)
{
    bd_dataset train;
    blobs(&train, 240, 11);
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    assert_string_equal(cfg.optimizer, "sgd");
    cfg.epochs = 3;
    cfg.batch = 20;
    cfg.optimizer = "adam";
    cfg.optim.lr = 0.01f;
    cfg.optim.beta1 = 0.8f;
    size_t na, nb;
    bd_train_result ra, rb;
    float *a = train_with(0, NULL, NULL, &cfg, &train, &na, &ra);
    float *b = train_with(1, "adam", &cfg.optim, &cfg, &train, &nb, &rb);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na * sizeof(float));
    assert_int_equal(ra.iters, 36);
    assert_true(ra.train_acc == rb.train_acc && ra.final_loss == rb.final_loss);
    /* the weights moved: the untrained network's differ */
    bd_net *fresh = mlp(5);
    assert_memory_not_equal(a, bd_net_params(fresh, NULL), na * sizeof(float));
    bd_net_free(fresh);
    assert_true(ra.train_acc > 0.6f); /* measured 0.854; chance is 1/3 */
    free(b);
    /* a different optimizer gives different weights (the name is used) */
    cfg.optimizer = "momentum";
    cfg.optim = (bd_optim_config){0};
    b = train_with(0, NULL, NULL, &cfg, &train, &nb, &rb);
    assert_memory_not_equal(a, b, na * sizeof(float));
    free(a);
    free(b);
    /* cfg NULL and opt NULL: bd_train_config_default's SGD with its
     * defaults, the same as bd_optim_create("sgd", NULL) */
    bd_train_config def;
    bd_train_config_default(&def);
    def.optimizer = NULL; /* NULL names "sgd" too */
    a = train_with(0, NULL, NULL, NULL, &train, &na, &ra);
    b = train_with(1, "sgd", NULL, NULL, &train, &nb, &rb);
    float *c = train_with(0, NULL, NULL, &def, &train, &nb, &rb);
    assert_memory_equal(a, b, na * sizeof(float));
    assert_memory_equal(a, c, na * sizeof(float));
    free(a);
    free(b);
    free(c);
    bd_dataset_free(&train);
}

/* What bd_train refuses without an optimizer: an unknown name or a bad
 * hyperparameter (bd_optim_create's errors), a resumed run (its optimizer
 * is the checkpoint's); *res is filled and the weights are untouched. */
static void train_without_optimizer_errors(void **st)
{
    bd_dataset train;
    blobs(&train, 60, 12);
    bd_net *net = mlp(6);
    size_t n;
    const float *p = bd_net_params(net, &n);
    float *before = malloc(n * sizeof(float));
    assert_non_null(before);
    memcpy(before, p, n * sizeof(float));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    bd_train_result res;
    memset(&res, 0x7f, sizeof res);
    cfg.optimizer = "adamw";
    assert_fails(bd_train(net, NULL, &train, NULL, &cfg, &res), BD_ERR_ARG, "adamw");
    assert_true(res.iters == 0 && res.test_acc == -1.0f);
    cfg.optimizer = "adam";
    cfg.optim.beta1 = 1.5f;
    assert_fails(bd_train(net, NULL, &train, NULL, &cfg, &res), BD_ERR_ARG, "config.beta1 = 1.5");
    cfg.optim.beta1 = 0;
    bd_train_pos pos;
    memset(&pos, 0, sizeof pos);
    cfg.resume = &pos;
    assert_fails(bd_train(net, NULL, &train, NULL, &cfg, &res), BD_ERR_ARG,
                 "opt is NULL with cfg->resume set");
    cfg.resume = NULL;
    assert_memory_equal(before, bd_net_params(net, NULL), n * sizeof(float));
    /* no network: the network is named, not the optimizer */
    assert_fails(bd_train(NULL, NULL, &train, NULL, &cfg, &res), BD_ERR_ARG, "network is NULL");
    free(before);
    bd_net_free(net);
    bd_dataset_free(&train);
}

/* No "--flag" in the library's messages about data folders: they name
 * bd_data_dir's name and bd_mnist_load's dir (the command maps those
 * phrases to --data: tests/cli_lib.sh). */
static void data_messages_name_arguments(void **st)
{
    char dir[] = "/tmp/badak_lib_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], out[512], file[300];
    snprintf(path, sizeof path, "%s/none", dir);
    snprintf(file, sizeof file, "%s/f.csv", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("1,2\n", f);
    fclose(f);
    bd_dataset a, b;
#define NO_FLAGS(call, st_, sub)                                                   \
    do {                                                                           \
        assert_fails(call, st_, sub);                                              \
        if (strstr(bd_errmsg(), "--"))                                             \
            fail_msg("library message gives command-line advice: \"%s\"", bd_errmsg()); \
    } while (0)
    NO_FLAGS(bd_data_dir("", out, sizeof out), BD_ERR_ARG, "bd_data_dir: name is empty");
    NO_FLAGS(bd_data_dir(path, out, sizeof out), BD_ERR_IO, "bd_data_dir: name ");
    NO_FLAGS(bd_data_dir(path, out, sizeof out), BD_ERR_IO, "no such folder");
    NO_FLAGS(bd_data_dir(file, out, sizeof out), BD_ERR_IO, "a file, not a folder");
    NO_FLAGS(bd_data_dir(path, out, 4), BD_ERR_ARG, "longer than len 4");
    NO_FLAGS(bd_mnist_load(path, &a, &b), BD_ERR_IO, "bd_mnist_load: dir ");
    NO_FLAGS(bd_mnist_load(file, &a, &b), BD_ERR_IO, "(a CSV file is for bd_csv_load)");
    NO_FLAGS(bd_mnist_load("", &a, &b), BD_ERR_ARG, "bd_mnist_load: dir is empty");
    /* a named set that is not installed: where it was looked for */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    setenv("BADAK_DATA", path, 1);
    NO_FLAGS(bd_data_dir("fashion", out, sizeof out), BD_ERR_IO,
             "bd_data_dir: name fashion: no folder data/fashion nor ");
    unsetenv("BADAK_DATA");
    assert_int_equal(chdir(cwd), 0);
    remove(file);
    rmdir(dir);
#undef NO_FLAGS
}

/* The string helpers follow the NULL rule of badak.h as the header now
 * documents them: a NULL object or buffer is no crash (each crashed
 * before). */
static void helpers_take_null(void **st)
{
    char buf[64] = "x";
    assert_ptr_equal(bd_shape_str(NULL, buf, sizeof buf), buf);
    assert_string_equal(buf, "");
    assert_null(bd_shape_str(NULL, NULL, 8));
    strcpy(buf, "x");
    assert_ptr_equal(bd_class_name("a\nb", 1, buf, sizeof buf), buf);
    assert_string_equal(buf, "b");
    assert_null(bd_class_name("a\nb", 1, NULL, 8));
    assert_ptr_equal(bd_class_name("a", 0, buf, 0), buf); /* len 0: untouched */
    assert_string_equal(buf, "b");
    assert_null(bd_augment_str(NULL, NULL, 8));
    assert_string_equal(bd_augment_str(NULL, buf, sizeof buf), "none");
    assert_null(bd_checkpoint_path("d", NULL, 8));
    assert_string_equal(bd_checkpoint_path(NULL, buf, sizeof buf), "");
    assert_string_equal(bd_checkpoint_path("d", buf, sizeof buf), "d/checkpoint.safetensors");
    bd_error(BD_ERR_IO, "%s", "before");
    assert_int_equal(bd_error(BD_ERR_ARG, NULL), BD_ERR_ARG);
    assert_string_equal(bd_errmsg(), "");
    float v[2] = {1, 2};
    bd_tensor t = bd_tensor_view(v, 1, NULL);
    assert_true(t.data == NULL && t.size == 0 && t.ndim == 0);
    t = bd_tensor_view(v, 1, (const int[1]){2});
    assert_true(t.data == v && t.size == 2 && !t.owner);
    const char *const *names = bd_optim_names();
    assert_string_equal(names[0], "sgd");
    assert_ptr_equal(bd_optim_names(), names); /* one static list */
}

/* bd_csv_load_targets follows the rules of every reader: NULL arguments are
 * BD_ERR_ARG (out NULL crashed), a FIFO is refused at once (it blocked in
 * fopen, waiting for a writer), a good file loads; bd_shard takes NULL. */
static void csv_targets_rules(void **st)
{
    char dir[] = "/tmp/badak_lib_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[256], csv[256];
    snprintf(fifo, sizeof fifo, "%s/fifo.csv", dir);
    snprintf(csv, sizeof csv, "%s/t.csv", dir);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fputs("x,y,t\n1,2,0.5\n3,4,1.5\n", f);
    fclose(f);
    const int cols[1] = {-1};
    bd_dataset ds;
    assert_fails(bd_csv_load_targets(NULL, cols, 1, BD_TASK_REGRESS, &ds), BD_ERR_ARG,
                 "path is NULL");
    assert_fails(bd_csv_load_targets(csv, NULL, 1, BD_TASK_REGRESS, &ds), BD_ERR_ARG,
                 "cols is NULL");
    assert_fails(bd_csv_load_targets(csv, cols, 1, BD_TASK_REGRESS, NULL), BD_ERR_ARG,
                 "out is NULL");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(20); /* a regression would block here forever */
    assert_fails(bd_csv_load_targets(fifo, cols, 1, BD_TASK_REGRESS, &ds), BD_ERR_IO, "FIFO");
    alarm(0);
    assert_ok(bd_csv_load_targets(csv, cols, 1, BD_TASK_REGRESS, &ds));
    assert_int_equal(ds.n, 2);
    assert_true(bd_f32(&ds.t)[1] == 1.5f);
    bd_dataset_free(&ds);
    int lo = -1, hi = -1;
    bd_shard(100, 1, 3, NULL, &hi);
    bd_shard(100, 1, 3, &lo, NULL);
    assert_true(lo == 33 && hi == 66);
    bd_shard(100, 3, 3, &lo, &hi);
    assert_true(lo == 0 && hi == 0);
    remove(fifo);
    remove(csv);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(train_without_optimizer),
        cmocka_unit_test(train_without_optimizer_errors),
        cmocka_unit_test(data_messages_name_arguments),
        cmocka_unit_test(helpers_take_null),
        cmocka_unit_test(csv_targets_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
