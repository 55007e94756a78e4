/* mnist_train.c — the book's chapter-5 TwoLayerNet on MNIST, through the
 * public API only: load, build, train, evaluate.
 *
 *   cc -O2 mnist_train.c -lbadak -lopenblas -lz -lm
 *   ./mnist_train [DATA_DIR [EPOCHS]]        (default data/mnist, 5 epochs)
 */
#include <badak.h>

#include <stdio.h>
#include <stdlib.h>

static void on_epoch(void *ud, const bd_epoch_stats *s)
{
    (void)ud;
    printf("epoch %d: loss %.4f, train acc %.4f, test acc %.4f\n", s->epoch, (double)s->loss,
           (double)s->train_acc, (double)s->test_acc);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "data/mnist";
    int epochs = argc > 2 ? atoi(argv[2]) : 5;

    bd_dataset train, test;
    if (bd_mnist_load(dir, &train, &test) != BD_OK) {
        fprintf(stderr, "mnist_train: %s\n", bd_errmsg());
        return 1;
    }

    /* TwoLayerNet(input_size=784, hidden_size=50, output_size=10) */
    bd_rng rng;
    bd_rng_seed(&rng, 1);
    bd_net *net = NULL;
    bd_optim *sgd = NULL;
    bd_status s = bd_net_two_layer(&net, 784, 50, 10, (bd_init){BD_INIT_STD, 0.01f}, &rng);
    if (s == BD_OK)
        s = bd_optim_create(&sgd, "sgd", &(bd_optim_config){.lr = 0.1f}, net);
    if (s != BD_OK) {
        fprintf(stderr, "mnist_train: %s\n", bd_errmsg());
        return 1;
    }

    bd_train_config cfg;
    bd_train_config_default(&cfg); /* batch 100, shuffled epochs, seed 1 */
    cfg.epochs = epochs;
    cfg.on_epoch = on_epoch;
    bd_train_result res;
    s = bd_train(net, sgd, &train, &test, &cfg, &res);
    if (s != BD_OK) {
        fprintf(stderr, "mnist_train: %s\n", bd_errmsg());
        return 1;
    }

    float acc;
    bd_evaluate(net, &test, &acc, NULL);
    printf("test accuracy %.4f after %d epochs (%.2f s)\n", (double)acc, res.epochs, res.seconds);

    bd_optim_free(sgd);
    bd_net_free(net);
    bd_dataset_free(&train);
    bd_dataset_free(&test);
    return 0;
}
