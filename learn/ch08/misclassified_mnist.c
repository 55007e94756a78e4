/* misclassified_mnist.c — mirrors the book's ch08/misclassified_mnist.py
 * (8.1.1, figure 8-2): a trained network's test accuracy, batch by batch,
 * and the test images it gets wrong, with their true and predicted labels.
 * The book loads DeepConvNet's deep_convnet_params.pkl; here any badak
 * model file for MNIST, e.g. one made by
 *
 *   badak train --model simple_convnet --epochs 1 --save cnn.safetensors
 *   misclassified_mnist cnn.safetensors [--max 20] [--show 3]
 *
 * prints the first --max misclassified (the book shows 20) and draws the
 * first --show of them in characters. Uses the library's public API. */
#include "learn.h"

/* one 28x28 digit, 2 characters a pixel, darker characters for more ink */
static void draw(const float *px)
{
    static const char ramp[] = " .:-=+*#%@";
    for (int r = 0; r < 28; r++) {
        printf("    ");
        for (int c = 0; c < 28; c++) {
            int k = (int)(px[r * 28 + c] * 9.999f);
            putchar(ramp[k]), putchar(ramp[k]);
        }
        putchar('\n');
    }
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int k = 1; k < n; k++)
        best = v[k] > v[best] ? k : best;
    return best;
}

int main(int argc, char **argv)
{
    int max_view = 20, show = 0, batch_size = 100;
    for (int i = 2; i + 1 < argc; i += 2)
        max_view = !strcmp(argv[i], "--max") ? atoi(argv[i + 1]) : max_view,
        show = !strcmp(argv[i], "--show") ? atoi(argv[i + 1]) : show;
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: misclassified_mnist MODEL [--max N] [--show N]\n");
        return 2;
    }
    bd_set_threads(1);
    bd_net *net = NULL;
    bd_dataset train, test;
    if (bd_model_load(&net, argv[1], NULL) != BD_OK) {
        fprintf(stderr, "misclassified_mnist: %s\n", bd_errmsg());
        return 1;
    }
    if (bd_mnist_load(mnist_dir(), &train, &test) != BD_OK) {
        printf("skipped: %s\n", bd_errmsg());
        bd_net_free(net);
        return 0;
    }
    bd_tensor xb, yb;
    bd_status s = bd_net_reserve(net, batch_size);
    if (s == BD_OK)
        s = bd_tensor_alloc(&xb, BD_F32, 2, (int[]){batch_size, 28 * 28});
    if (s == BD_OK)
        s = bd_tensor_alloc(&yb, BD_I32, 1, &batch_size);
    bd_net_set_training(net, 0); /* predict(tx, train_flg=False) */
    printf("calculating test accuracy ... \n");
    int acc = 0, wrong = 0, shown = 0;
    for (int i = 0; s == BD_OK && i < test.n / batch_size; i++) {
        const bd_tensor *y;
        s = bd_dataset_slice(&test, i * batch_size, batch_size, &xb, &yb);
        if (s == BD_OK)
            s = bd_net_forward(net, &xb, &y);
        for (int r = 0; s == BD_OK && r < batch_size; r++) {
            int pred = argmax(bd_f32(y) + r * 10, 10), label = bd_i32(&yb)[r];
            if (pred == label) {
                acc++;
                continue;
            }
            if (wrong++ < max_view)
                printf("  test image %4d: label %d, predicted %d\n", i * batch_size + r, label, pred);
            if (shown < show && wrong <= max_view)
                draw(bd_f32(&xb) + r * 784), shown++;
        }
    }
    if (s != BD_OK) {
        fprintf(stderr, "misclassified_mnist: %s\n", bd_errmsg());
    } else {
        int n = test.n / batch_size * batch_size;
        printf("test accuracy:%.4f\n", (double)acc / n);
        printf("misclassified: %d of %d\n", wrong, n);
    }
    bd_tensor_free(&xb), bd_tensor_free(&yb);
    bd_dataset_free(&train), bd_dataset_free(&test);
    bd_net_free(net);
    return s != BD_OK;
}
