/* mnist_min.c — the shortest whole MNIST training program: eight library
 * calls, frees included, train a two-layer network (book 5.7, 784-100-10,
 * He init, Adam), measure it on the 10000 test images and free what they
 * made (bd_errmsg on the failure path is a ninth). bd_train is given no
 * optimizer: it creates the one the config names (cfg.optimizer, cfg.optim),
 * sized from the network, and frees it before it returns. The handles are
 * opaque: the program never sees a struct's fields.
 *
 *   cc mnist_min.c $(pkg-config --cflags --libs badak)
 *   ./mnist_min [DATA_DIR [EPOCHS]]        (default data/mnist, 5)
 *
 * The same program is the README's "From C" section. */
#include <badak.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    bd_dataset train, test;           /* filled by bd_mnist_load, freed below */
    bd_net *net = NULL;               /* an opaque handle: NULL until created */
    bd_rng rng;
    bd_train_config cfg;
    bd_train_result res;

    bd_rng_seed(&rng, 1);                                                         /* 1 */
    bd_status s = bd_mnist_load(argc > 1 ? argv[1] : "data/mnist", &train, &test); /* 2 */
    if (s == BD_OK)
        s = bd_net_two_layer(&net, 784, 100, 10, (bd_init){BD_INIT_HE, 0}, &rng); /* 3 */
    if (s == BD_OK) {
        bd_train_config_default(&cfg);                                            /* 4 */
        cfg.optimizer = "adam"; /* opt NULL below: bd_train makes it, sized from the net, */
        cfg.epochs = argc > 2 ? atoi(argv[2]) : 5; /* and frees it */
        cfg.eval_train = 0;
        s = bd_train(net, NULL, &train, &test, &cfg, &res);                       /* 5 */
    }
    if (s == BD_OK)
        printf("test accuracy %.4f after %d epochs (%.1f s)\n", (double)res.test_acc, res.epochs,
               res.seconds);
    else
        fprintf(stderr, "mnist_min: %s\n", bd_errmsg()); /* the failure path's one more call */
    bd_net_free(net);        /* 6: each is safe after a failure too: a NULL handle, */
    bd_dataset_free(&train); /* 7: data sets zeroed by bd_mnist_load before it reads */
    bd_dataset_free(&test);  /* 8 */
    return s == BD_OK ? 0 : 1;
}
