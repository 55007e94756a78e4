/* csv_train.c — an MLP on your own table of numbers: load a CSV (one sample
 * a row, the class index in the last column), hold out a test set and a
 * validation set, train with Adam and early stopping (the weights of the
 * best validation epoch are kept, book 6.5.1), report the test accuracy and
 * save the model, which `badak eval`, `badak predict` and bd_model_open read.
 *
 *   cc csv_train.c $(pkg-config --cflags --libs badak)
 *   ./csv_train DATA.csv MODEL.safetensors [EPOCHS]     (default 100)
 */
#include <badak.h>

#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what)
{
    fprintf(stderr, "csv_train: %s: %s\n", what, bd_errmsg());
    return 1;
}

/* the largest label + 1 */
static int class_count(const bd_dataset *ds)
{
    const int32_t *y = bd_i32(&ds->y);
    int k = 0;
    for (int i = 0; i < ds->n; i++)
        if (y[i] >= k)
            k = y[i] + 1;
    return k;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: csv_train DATA.csv MODEL.safetensors [EPOCHS]\n");
        return 2;
    }
    bd_dataset train, test, val;
    if (bd_csv_load(argv[1], -1, &train) != BD_OK)
        return fail(argv[1]);
    bd_rng rng;
    bd_rng_seed(&rng, 1);
    /* 20% of the rows for the test set, then 20% of the rest for validation */
    if (bd_dataset_split(&train, 0.2f, &rng, &test) != BD_OK ||
        bd_dataset_split(&train, 0.2f, &rng, &val) != BD_OK)
        return fail("split");
    const int D = train.c * train.h * train.w, classes = class_count(&train);

    /* Affine 32 - ReLU - Affine 32 - ReLU - Affine classes, He init */
    int hidden[2] = {32, 32};
    bd_net *net = NULL;
    bd_optim *adam = NULL;
    if (bd_net_mlp(&net, D, hidden, 2, classes, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0}, &rng) !=
            BD_OK ||
        bd_optim_create(&adam, "adam", &(bd_optim_config){.lr = 0.01f}, net) != BD_OK)
        return fail("network");

    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.epochs = argc > 3 ? atoi(argv[3]) : 100;
    cfg.batch = 32;
    cfg.val = &val;
    cfg.patience = 10; /* stop when the validation loss has not improved for 10 epochs */
    bd_train_result res;
    if (bd_train(net, adam, &train, &test, &cfg, &res) != BD_OK)
        return fail("training");
    printf("%d features, %d classes, %d / %d / %d train / validation / test rows\n", D, classes,
           train.n, val.n, test.n);
    printf("%d epochs%s, kept epoch %d: validation accuracy %.4f, test accuracy %.4f\n",
           res.epochs, res.stopped_early ? " (stopped early)" : "", res.best_epoch,
           (double)res.val_acc, (double)res.test_acc);

    bd_model_meta meta;
    bd_model_meta_init(&meta);
    snprintf(meta.data, sizeof meta.data, "%s", argv[1]);
    snprintf(meta.optimizer, sizeof meta.optimizer, "adam");
    meta.epochs = res.epochs;
    meta.iters = res.iters;
    meta.batch = cfg.batch;
    meta.lr = 0.01f;
    meta.test_acc = res.test_acc;
    meta.seed = cfg.seed;
    if (bd_model_save(net, argv[2], &meta) != BD_OK)
        return fail(argv[2]);
    printf("saved %s\n", argv[2]);

    bd_optim_free(adam);
    bd_net_free(net);
    bd_dataset_free(&train);
    bd_dataset_free(&val);
    bd_dataset_free(&test);
    return 0;
}
