/* custom_loop.c — your own training loop on the step-level trainer: the
 * same steps bd_train takes, with a gradient hook between backward and the
 * update (here: clip every gradient entry to [-max, max]) and a stop of
 * your own (here: when the test accuracy reaches a target).
 *
 *   cc custom_loop.c $(pkg-config --cflags --libs badak)
 *   ./custom_loop [DATA_DIR [TARGET]]        (default data/mnist, 0.95)
 */
#include <badak.h>

#include <stdio.h>
#include <stdlib.h>

/* clip every entry of the gradient block to [-*max, *max] */
static bd_status clip(void *ud, float *g, size_t n)
{
    const float max = *(const float *)ud;
    for (size_t i = 0; i < n; i++)
        g[i] = g[i] > max ? max : g[i] < -max ? -max : g[i];
    return BD_OK;
}

static int fail(void)
{
    fprintf(stderr, "custom_loop: %s\n", bd_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "data/mnist";
    const float target = argc > 2 ? (float)atof(argv[2]) : 0.95f;
    bd_dataset train, test;
    if (bd_mnist_load(dir, &train, &test) != BD_OK)
        return fail();
    bd_dataset_truncate(&train, 10000);
    bd_rng rng;
    bd_rng_seed(&rng, 1);
    bd_net *net = NULL;
    bd_optim *opt = NULL;
    int hidden[2] = {100, 100};
    if (bd_net_mlp(&net, 784, hidden, 2, 10, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0}, &rng) ||
        bd_optim_create(&opt, "adam", NULL, net))
        return fail();

    float max_grad = 0.5f;
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.epochs = 20;
    cfg.eval_train = 0;
    cfg.on_grad = clip;        /* called on every step's gradient block */
    cfg.dist_ud = &max_grad;
    bd_trainer *t;
    if (bd_trainer_create(&t, net, opt, &train, &test, &cfg) != BD_OK)
        return fail();
    bd_status s = BD_OK;
    while (s == BD_OK && !bd_trainer_done(t)) {
        float loss;
        s = bd_trainer_step(t, &loss);
        if (s != BD_OK || !bd_trainer_epoch_end(t))
            continue;
        bd_epoch_stats st;
        s = bd_trainer_end_epoch(t, &st);
        if (s != BD_OK)
            break;
        printf("epoch %2d  loss %.4f  test acc %.4f\n", st.epoch, (double)st.loss,
               (double)st.test_acc);
        if (st.test_acc >= target) { /* our own rule: stop at the target */
            printf("reached %.2f after %d epochs\n", (double)target, st.epoch);
            break;
        }
    }
    bd_train_result res;
    bd_status fs = bd_trainer_finish(t, &res);
    bd_trainer_free(t);
    if (s == BD_OK)
        s = fs;
    bd_optim_free(opt);
    bd_net_free(net);
    bd_dataset_free(&train);
    bd_dataset_free(&test);
    if (s != BD_OK)
        return fail();
    printf("%ld iterations, test accuracy %.4f\n", res.iters, (double)res.test_acc);
    return 0;
}
