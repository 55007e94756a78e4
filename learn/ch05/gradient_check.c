/* gradient_check.c — mirrors the book's ch05/gradient_check.py with
 * ch05/two_layer_net.py (5.7.3, gradient check): the TwoLayerNet built from
 * the layers of layers.h (Affine - Relu - Affine - SoftmaxWithLoss), its
 * gradient by backpropagation compared with numerical_gradient on the first
 * 3 training images; prints each parameter's mean absolute difference as
 * the book does ("W1:2.2232446644e-13" there; tiny, so backprop is right).
 *
 *   gradient_check [--hidden 50] [--activation relu|sigmoid] [--delta 1e-7] [--seed 1]
 *
 * b2's difference comes out near 1e-7, not the book's 1e-10: the loss is
 * -log(y + 1e-7) (common/functions.py) while backprop's (y - t) / B is the
 * derivative of -log(y), which differ by about 1e-7 / y. The book's printed
 * numbers came from a cross_entropy_error without the 1e-7; --delta 0 gives
 * them back (1e-13 .. 1e-10).
 *
 * Without MNIST it checks on 3 made-up images (uniform in [0, 1)). */
#include "layers.h"

enum { I = 784, O = 10, B = 3 }; /* x_batch = x_train[:3] */

typedef struct TwoLayerNet {
    int H, sigmoid;
    double *params[4]; /* W1 [I,H], b1 [H], W2 [H,O], b2 [O] */
    size_t n[4];
    Affine affine1, affine2;
    Relu relu1;
    Sigmoid sigmoid1; /* --activation sigmoid: in Relu1's place */
    SoftmaxWithLoss last_layer;
} TwoLayerNet;
static const char *KEYS[4] = {"W1", "b1", "W2", "b2"};

static void net_init(TwoLayerNet *m, int H, int sigmoid, bd_rng *rng)
{
    double weight_init_std = 0.01;
    m->H = H, m->sigmoid = sigmoid;
    m->n[0] = (size_t)I * H, m->n[1] = H, m->n[2] = (size_t)H * O, m->n[3] = O;
    for (int q = 0; q < 4; q++) {
        m->params[q] = xmalloc(sizeof(double) * m->n[q]);
        for (size_t i = 0; i < m->n[q]; i++) /* std * randn for W, zeros for b */
            m->params[q][i] = q % 2 ? 0 : weight_init_std * randn(rng);
    }
    affine_init(&m->affine1, m->params[0], m->params[1], B, I, H);
    relu_init(&m->relu1, (size_t)B * H);
    sigmoid_init(&m->sigmoid1, (size_t)B * H);
    affine_init(&m->affine2, m->params[2], m->params[3], B, H, O);
    softmax_loss_init(&m->last_layer, B, O);
}

static double net_loss(TwoLayerNet *m, const double *x, const int *t)
{
    double *a = affine_forward(&m->affine1, x); /* predict: the layers in order */
    a = m->sigmoid ? sigmoid_forward(&m->sigmoid1, a) : relu_forward(&m->relu1, a);
    a = affine_forward(&m->affine2, a);
    return softmax_loss_forward(&m->last_layer, a, t);
}

/* gradient(x, t): forward, then the layers' backward in reverse order */
static void net_gradient(TwoLayerNet *m, const double *x, const int *t, double **grads)
{
    net_loss(m, x, t);
    double *dout = softmax_loss_backward(&m->last_layer, 1);
    dout = affine_backward(&m->affine2, dout);
    dout = m->sigmoid ? sigmoid_backward(&m->sigmoid1, dout) : relu_backward(&m->relu1, dout);
    affine_backward(&m->affine1, dout);
    grads[0] = m->affine1.dW, grads[1] = m->affine1.db;
    grads[2] = m->affine2.dW, grads[3] = m->affine2.db;
}

/* numerical_gradient(x, t): common/gradient.py's central difference, h = 1e-4 */
static void net_numerical_gradient(TwoLayerNet *m, const double *x, const int *t, double **g)
{
    double h = 1e-4;
    for (int q = 0; q < 4; q++)
        for (size_t i = 0; i < m->n[q]; i++) {
            double tmp_val = m->params[q][i];
            m->params[q][i] = tmp_val + h;
            double fxh1 = net_loss(m, x, t);
            m->params[q][i] = tmp_val - h;
            double fxh2 = net_loss(m, x, t);
            g[q][i] = (fxh1 - fxh2) / (2 * h);
            m->params[q][i] = tmp_val;
        }
}

static void net_free(TwoLayerNet *m)
{
    for (int q = 0; q < 4; q++)
        free(m->params[q]);
    affine_free(&m->affine1), affine_free(&m->affine2);
    relu_free(&m->relu1), sigmoid_free(&m->sigmoid1), softmax_loss_free(&m->last_layer);
}

int main(int argc, char **argv)
{
    int H = 50, sigmoid = 0, seed = 1;
    double delta = 1e-7;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--hidden"))
            H = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--activation"))
            sigmoid = !strcmp(argv[i + 1], "sigmoid");
        else if (!strcmp(argv[i], "--delta"))
            delta = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed"))
            seed = atoi(argv[i + 1]);
    }
    if (H < 1 || !(delta >= 0)) {
        fprintf(stderr, "usage: gradient_check [--hidden N] [--activation relu|sigmoid] "
                        "[--delta D] [--seed N]\n");
        return 2;
    }
    bd_rng rng;
    bd_rng_seed(&rng, (uint64_t)seed);
    double *x;
    int *t;
    if (load_mnist("train", B, &x, &t)) {
        printf("x_batch = x_train[:3] of %s, labels %d %d %d\n", mnist_dir(), t[0], t[1], t[2]);
    } else {
        printf("no MNIST in %s: 3 made-up images\n", mnist_dir());
        x = xmalloc(sizeof(double) * B * I), t = xmalloc(sizeof(int) * B);
        for (int i = 0; i < B * I; i++)
            x[i] = bd_rng_uniform(&rng);
        for (int r = 0; r < B; r++)
            t[r] = r;
    }
    TwoLayerNet net;
    net_init(&net, H, sigmoid, &rng);
    net.last_layer.delta = delta;
    printf("TwoLayerNet 784-%d-10 (Affine - %s - Affine - SoftmaxWithLoss), loss %.10f\n", H,
           sigmoid ? "Sigmoid" : "Relu", net_loss(&net, x, t));
    double *num[4], *bp[4];
    for (int q = 0; q < 4; q++)
        num[q] = xmalloc(sizeof(double) * net.n[q]);
    net_numerical_gradient(&net, x, t, num);
    net_gradient(&net, x, t, bp);
    for (int q = 0; q < 4; q++) { /* diff = np.average(np.abs(grad_backprop - grad_numerical)) */
        double diff = 0;
        for (size_t i = 0; i < net.n[q]; i++)
            diff += fabs(bp[q][i] - num[q][i]);
        printf("%s:", KEYS[q]);
        print_repr(diff / (double)net.n[q]);
        putchar('\n');
        free(num[q]);
    }
    net_free(&net);
    free(x), free(t);
    return 0;
}
