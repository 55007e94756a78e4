/* cnn.c — a convolutional network built layer by layer through the API (no
 * preset, no .ini): Conv 8 3x3 pad 1 - BatchNorm2d - ReLU - MaxPool 2 -
 * Conv 16 3x3 pad 1 - ReLU - MaxPool 2 - Affine 64 - ReLU - Affine 10, He
 * init, trained with Adam on the first N MNIST training images (book ch. 7).
 * A layer that does not fit the one before is refused with a message
 * naming it and the shapes.
 *
 *   cc cnn.c $(pkg-config --cflags --libs badak)
 *   ./cnn [DATA_DIR [N [EPOCHS]]]       (default data/mnist, 5000, 2)
 */
#include <badak.h>

#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what)
{
    fprintf(stderr, "cnn: %s: %s\n", what, bd_errmsg());
    return 1;
}

/* the layers, in order, for 1x28x28 images and 10 classes; *out is the
 * network (NULL on failure) */
static bd_status build(bd_net **out, bd_rng *rng)
{
    bd_net *net = NULL;
    static const bd_layer_conf layers[] = {
        {.kind = BD_LAYER_CONV2D, .units = 8, .k = 3, .stride = 1, .pad = 1},
        {.kind = BD_LAYER_BATCHNORM2D},
        {.kind = BD_LAYER_RELU},
        {.kind = BD_LAYER_MAXPOOL, .k = 2, .stride = 2}, /* 28x28 -> 14x14 */
        {.kind = BD_LAYER_CONV2D, .units = 16, .k = 3, .stride = 1, .pad = 1},
        {.kind = BD_LAYER_RELU},
        {.kind = BD_LAYER_MAXPOOL, .k = 2, .stride = 2}, /* -> 16 x 7 x 7 */
        {.kind = BD_LAYER_AFFINE, .units = 64},
        {.kind = BD_LAYER_RELU},
        {.kind = BD_LAYER_AFFINE, .units = 10},
    };
    bd_status s = bd_net_create(&net, 1, 28, 28);
    for (size_t i = 0; s == BD_OK && i < sizeof layers / sizeof layers[0]; i++)
        s = bd_net_add_layer(net, &layers[i]);
    if (s == BD_OK)
        s = bd_net_build(net, (bd_init){BD_INIT_HE, 0}, rng);
    if (s != BD_OK) {
        bd_net_free(net); /* NULL (create failed) is a no-op */
        net = NULL;
    }
    *out = net;
    return s;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "data/mnist";
    const int n = argc > 2 ? atoi(argv[2]) : 5000;
    bd_dataset train, test;
    if (bd_mnist_load(dir, &train, &test) != BD_OK)
        return fail(dir);
    if (bd_dataset_truncate(&train, n) != BD_OK || bd_dataset_truncate(&test, 2000) != BD_OK)
        return fail("truncate");

    bd_rng rng;
    bd_rng_seed(&rng, 1);
    bd_net *net = NULL;
    if (build(&net, &rng) != BD_OK)
        return fail("network");
    bd_net_print(net, stdout);
    printf("%zu parameters\n", bd_net_param_count(net));

    bd_optim *adam = NULL;
    if (bd_optim_create(&adam, "adam", NULL, net) != BD_OK)
        return fail("optimizer");
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.epochs = argc > 3 ? atoi(argv[3]) : 2;
    cfg.eval_train = 0;
    bd_train_result res;
    if (bd_train(net, adam, &train, &test, &cfg, &res) != BD_OK)
        return fail("training");
    printf("%d epochs on %d images: test accuracy %.4f on %d (%.1f s)\n", res.epochs, train.n,
           (double)res.test_acc, test.n, res.seconds);

    bd_optim_free(adam);
    bd_net_free(net);
    bd_dataset_free(&train);
    bd_dataset_free(&test);
    return 0;
}
