/* transfer_mnist.c — transfer learning (seed 002, unit 4) through the public
 * API: a network learns digits 0-4 on all their MNIST images, is saved and
 * loaded again as a model file, gets a fresh 5-way head, has its feature
 * layers frozen, and is fine-tuned on digits 5-9 with only 100 labelled
 * images per class. The same network trained from scratch on those 500
 * images is the baseline. `badak train --init-from FILE --replace-head 5
 * --freeze N` does the fine-tuning step from the command line.
 *
 *   ./transfer_mnist [DATA_DIR [MODEL]]     (default data/mnist, simple_convnet)
 *
 * MODEL is simple_convnet or mlp. Prints both accuracies on every 5-9 digit
 * of the MNIST test set. */
#include <badak.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEW 100 /* labelled images per class for fine-tuning */

static void die(const char *what)
{
    fprintf(stderr, "transfer_mnist: %s: %s\n", what, bd_errmsg());
    exit(1);
}

/* The samples of src whose label is in [lo, lo+5), at most `per` of each
 * (0: all), relabelled 0..4, into a fresh data set. */
static void subset(const bd_dataset *src, int lo, int per, const char *name, bd_dataset *out)
{
    const int32_t *y = bd_i32(&src->y);
    int count[10] = {0}, n = 0;
    for (int i = 0; i < src->n; i++)
        if (y[i] >= lo && y[i] < lo + 5 && (!per || count[y[i]] < per))
            count[y[i]]++, n++;
    memset(out, 0, sizeof *out);
    int xs[4] = {n, src->c, src->h, src->w}, ys[1] = {n};
    if (bd_tensor_alloc(&out->x, BD_U8, 4, xs) != BD_OK ||
        bd_tensor_alloc(&out->y, BD_I32, 1, ys) != BD_OK)
        die("subset");
    const size_t D = (size_t)src->c * src->h * src->w;
    memset(count, 0, sizeof count);
    int k = 0;
    for (int i = 0; i < src->n; i++)
        if (y[i] >= lo && y[i] < lo + 5 && (!per || count[y[i]] < per)) {
            count[y[i]]++;
            memcpy(bd_u8(&out->x) + (size_t)k * D, bd_u8(&src->x) + (size_t)i * D, D);
            bd_i32(&out->y)[k++] = y[i] - lo;
        }
    out->n = n;
    out->c = src->c, out->h = src->h, out->w = src->w;
    out->nclasses = 5;
    out->scale = src->scale;
    snprintf(out->name, sizeof out->name, "%s", name);
}

static bd_net *build(const char *model, uint64_t seed)
{
    bd_net *net = NULL;
    bd_rng rng;
    bd_rng_seed(&rng, seed);
    bd_status s;
    if (strcmp(model, "mlp") == 0) {
        int hidden[2] = {256, 128};
        s = bd_net_mlp(&net, 784, hidden, 2, 5, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0}, &rng);
    } else {
        s = bd_net_simple_convnet(&net, 1, 28, 28, 5, &rng);
    }
    if (s != BD_OK)
        die(model);
    return net;
}

/* train net on ds (all layers after the frozen ones) and return the accuracy on test */
static float fit(bd_net *net, const bd_dataset *ds, const bd_dataset *test, int epochs,
                   float lr, int batch)
{
    bd_optim *opt = NULL;
    if (bd_optim_create(&opt, "adam", &(bd_optim_config){.lr = lr}, net) != BD_OK)
        die("optimizer");
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.epochs = epochs;
    cfg.batch = batch;
    cfg.eval_train = 0;
    cfg.seed = 7;
    bd_train_result r;
    if (bd_train(net, opt, ds, test, &cfg, &r) != BD_OK)
        die("training");
    bd_optim_free(opt);
    return r.test_acc;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "data/mnist";
    const char *model = argc > 2 ? argv[2] : "simple_convnet";
    const int freeze = strcmp(model, "mlp") == 0 ? 2 : 3; /* Affine1+Relu1 / Conv+Relu+Pool */
    bd_dataset train, test, a_train, a_test, b_few, b_test;
    if (bd_mnist_load(dir, &train, &test) != BD_OK)
        die(dir);
    subset(&train, 0, 0, "digits 0-4", &a_train);
    subset(&test, 0, 0, "test 0-4", &a_test);
    subset(&train, 5, FEW, "100 x digits 5-9", &b_few);
    subset(&test, 5, 0, "test 5-9", &b_test);
    printf("pretraining set: %d images of 0-4; fine-tuning set: %d images of 5-9; test: %d "
           "images of 5-9\n", a_train.n, b_few.n, b_test.n);
    double t0 = bd_seconds();

    /* 1. pretrain on 0-4 and save the model */
    bd_net *pre = build(model, 1);
    float acc_a = fit(pre, &a_train, &a_test, 1, 0.001f, 100);
    printf("%s pretrained on 0-4: test accuracy on 0-4 %.4f (%.1fs)\n", model, (double)acc_a,
           bd_seconds() - t0);
    const char *path = "transfer_pretrained.safetensors";
    if (bd_model_save(pre, path, NULL) != BD_OK)
        die(path);
    bd_net_free(pre);

    /* 2. transfer: load, new head, freeze the feature layers, fine-tune */
    bd_net *tl = NULL;
    if (bd_model_load(&tl, path, NULL) != BD_OK)
        die(path);
    remove(path);
    bd_rng rng;
    bd_rng_seed(&rng, 2);
    if (bd_net_replace_head(tl, 5, &rng) != BD_OK || bd_net_freeze(tl, freeze) != BD_OK)
        die("transfer");
    float acc_tl = fit(tl, &b_few, &b_test, 20, 0.001f, 50);
    printf("transfer (first %d layers frozen, %zu of %zu parameters trained): test accuracy "
           "on 5-9 %.4f\n", freeze, bd_net_trainable_count(tl), bd_net_param_count(tl),
           (double)acc_tl);

    /* 3. the same network from scratch on the same 500 images */
    bd_net *sc = build(model, 3);
    float acc_sc = fit(sc, &b_few, &b_test, 20, 0.001f, 50);
    printf("from scratch (all %zu parameters trained): test accuracy on 5-9 %.4f\n",
           bd_net_param_count(sc), (double)acc_sc);
    printf("transfer - scratch: %+.4f (%.1fs in all)\n", (double)(acc_tl - acc_sc),
           bd_seconds() - t0);

    bd_net_free(tl);
    bd_net_free(sc);
    bd_dataset_free(&train);
    bd_dataset_free(&test);
    bd_dataset_free(&a_train);
    bd_dataset_free(&a_test);
    bd_dataset_free(&b_few);
    bd_dataset_free(&b_test);
    return 0;
}
