/* train_numerical.c — mirrors the book's ch04/two_layer_net.py and
 * ch04/train_neuralnet.py (4.5, training with the numerical gradient): the
 * sigmoid TwoLayerNet trained on MNIST mini-batches twice from the same
 * start, once with numerical_gradient (two forward passes per parameter) and
 * once with gradient (the backpropagation the book writes out at the end of
 * two_layer_net.py and explains in chapter 5), printing the time of both.
 *
 *   train_numerical [--hidden 50] [--batch 2] [--iters 2] [--seed 1]
 *
 * The book's run is hidden 50, batch 100, 10000 iterations; with the
 * numerical gradient one iteration of that takes minutes (79520 forward
 * passes of the batch), which is why the book comments it out and chapter 5
 * exists; the default batch of 2 takes seconds. */
#include "learn.h"

enum { I = 784, O = 10 };
typedef struct net {
    int H;
    double *p[4];   /* W1 [I,H], b1 [H], W2 [H,O], b2 [O]: params['W1'] ... */
    size_t n[4];
} net;
static const char *NAMES[4] = {"W1", "b1", "W2", "b2"};

static double sigmoid(double a) { return 1 / (1 + exp(-a)); }

/* forward x [B,I] -> a1, z1 [B,H] and y [B,O] (softmax); the buffers are
 * the caller's so that gradient() can use them for backward */
static void forward(const net *m, const double *x, int B, double *a1, double *z1, double *y)
{
    const double *W1 = m->p[0], *b1 = m->p[1], *W2 = m->p[2], *b2 = m->p[3];
    int H = m->H;
    for (int r = 0; r < B; r++) {
        double *ar = a1 + r * H; /* a1 = np.dot(x, W1) + b1, row by row of W1 */
        for (int j = 0; j < H; j++)
            ar[j] = b1[j];
        for (int i = 0; i < I; i++)
            for (int j = 0; j < H; j++)
                ar[j] += x[r * I + i] * W1[i * H + j];
        for (int j = 0; j < H; j++) /* z1 = sigmoid(a1) */
            z1[r * H + j] = sigmoid(ar[j]);
        double *yr = y + r * O, c = -INFINITY, sum = 0;
        for (int k = 0; k < O; k++) { /* a2 = np.dot(z1, W2) + b2 */
            double s = b2[k];
            for (int j = 0; j < H; j++)
                s += z1[r * H + j] * W2[j * O + k];
            yr[k] = s;
            c = s > c ? s : c;
        }
        for (int k = 0; k < O; k++) /* y = softmax(a2) */
            sum += yr[k] = exp(yr[k] - c);
        for (int k = 0; k < O; k++)
            yr[k] /= sum;
    }
}

/* loss(x, t): cross_entropy_error(predict(x), t), averaged over the batch */
static double loss(const net *m, const double *x, const int *t, int B, double *buf)
{
    double *a1 = buf, *z1 = buf + (size_t)B * m->H, *y = z1 + (size_t)B * m->H, e = 0;
    forward(m, x, B, a1, z1, y);
    for (int r = 0; r < B; r++)
        e -= log(y[r * O + t[r]] + 1e-7);
    return e / B;
}

/* numerical_gradient(x, t): the central difference of the loss for every
 * parameter (common/gradient.py, h = 1e-4) */
static void numerical_gradient(net *m, const double *x, const int *t, int B, double *buf,
                               double **g)
{
    double h = 1e-4;
    for (int q = 0; q < 4; q++)
        for (size_t i = 0; i < m->n[q]; i++) {
            double tmp_val = m->p[q][i];
            m->p[q][i] = tmp_val + h;
            double fxh1 = loss(m, x, t, B, buf);
            m->p[q][i] = tmp_val - h;
            double fxh2 = loss(m, x, t, B, buf);
            g[q][i] = (fxh1 - fxh2) / (2 * h);
            m->p[q][i] = tmp_val;
        }
}

/* gradient(x, t): forward once, then backward (two_layer_net.py's end) */
static void gradient(net *m, const double *x, const int *t, int B, double *buf, double **g)
{
    int H = m->H;
    double *a1 = buf, *z1 = buf + (size_t)B * H, *y = z1 + (size_t)B * H;
    double *dy = y + (size_t)B * O, *da1 = dy + (size_t)B * O;
    forward(m, x, B, a1, z1, y);
    for (int r = 0; r < B; r++) /* dy = (y - t) / batch_num */
        for (int k = 0; k < O; k++)
            dy[r * O + k] = (y[r * O + k] - (k == t[r])) / B;
    for (int j = 0; j < H; j++) /* grads['W2'] = np.dot(z1.T, dy) */
        for (int k = 0; k < O; k++) {
            double s = 0;
            for (int r = 0; r < B; r++)
                s += z1[r * H + j] * dy[r * O + k];
            g[2][j * O + k] = s;
        }
    for (int k = 0; k < O; k++) { /* grads['b2'] = np.sum(dy, axis=0) */
        g[3][k] = 0;
        for (int r = 0; r < B; r++)
            g[3][k] += dy[r * O + k];
    }
    for (int r = 0; r < B; r++) /* da1 = sigmoid_grad(a1) * np.dot(dy, W2.T) */
        for (int j = 0; j < H; j++) {
            double s = 0;
            for (int k = 0; k < O; k++)
                s += dy[r * O + k] * m->p[2][j * O + k];
            double z = sigmoid(a1[r * H + j]);
            da1[r * H + j] = (1 - z) * z * s;
        }
    for (int i = 0; i < I; i++) /* grads['W1'] = np.dot(x.T, da1) */
        for (int j = 0; j < H; j++) {
            double s = 0;
            for (int r = 0; r < B; r++)
                s += x[r * I + i] * da1[r * H + j];
            g[0][i * H + j] = s;
        }
    for (int j = 0; j < H; j++) { /* grads['b1'] = np.sum(da1, axis=0) */
        g[1][j] = 0;
        for (int r = 0; r < B; r++)
            g[1][j] += da1[r * H + j];
    }
}

/* TwoLayerNet(784, H, 10, weight_init_std=0.01) */
static void net_init(net *m, int H, bd_rng *rng)
{
    m->H = H;
    m->n[0] = (size_t)I * H, m->n[1] = H, m->n[2] = (size_t)H * O, m->n[3] = O;
    for (int q = 0; q < 4; q++) {
        m->p[q] = xmalloc(sizeof(double) * m->n[q]);
        for (size_t i = 0; i < m->n[q]; i++)
            m->p[q][i] = q % 2 ? 0 : 0.01 * randn(rng); /* biases: np.zeros */
    }
}

static int arg(int argc, char **argv, const char *name, int def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return atoi(argv[i + 1]);
    return def;
}

int main(int argc, char **argv)
{
    int H = arg(argc, argv, "--hidden", 50), B = arg(argc, argv, "--batch", 2);
    int iters = arg(argc, argv, "--iters", 2), seed = arg(argc, argv, "--seed", 1);
    if (H < 1 || B < 1 || iters < 1) {
        fprintf(stderr, "usage: train_numerical [--hidden N] [--batch N] [--iters N] [--seed N]\n");
        return 2;
    }
    double *xs, lr = 0.1; /* train_neuralnet.py's learning_rate */
    int *ts, N = load_mnist("train", 5000, &xs, &ts); /* batches from the first 5000 */
    if (!N) {
        printf("skipped: no MNIST in %s (set BADAK_MNIST_DIR)\n", mnist_dir());
        return 0;
    }
    bd_rng rng;
    bd_rng_seed(&rng, (uint64_t)seed);
    net num, bp; /* the same start for both */
    net_init(&num, H, &rng);
    net_init(&bp, H, &rng);
    double *gn[4], *gb[4];
    for (int q = 0; q < 4; q++) {
        memcpy(bp.p[q], num.p[q], sizeof(double) * num.n[q]);
        gn[q] = xmalloc(sizeof(double) * num.n[q]);
        gb[q] = xmalloc(sizeof(double) * num.n[q]);
    }
    double *x = xmalloc(sizeof(double) * B * I), *buf = xmalloc(sizeof(double) * B * (3 * H + 2 * O));
    int *t = xmalloc(sizeof(int) * B);
    printf("TwoLayerNet 784-%d-10 (sigmoid), batch %d, lr %g, %d iterations\n", H, B, lr, iters);
    double tn = 0, tb = 0;
    for (int it = 0; it < iters; it++) {
        for (int r = 0; r < B; r++) { /* batch_mask = np.random.choice(train_size, batch_size) */
            int k = (int)bd_rng_below(&rng, (uint32_t)N);
            memcpy(x + r * I, xs + (size_t)k * I, sizeof(double) * I);
            t[r] = ts[k];
        }
        double t0 = bd_seconds();
        numerical_gradient(&num, x, t, B, buf, gn);
        double t1 = bd_seconds();
        gradient(&bp, x, t, B, buf, gb);
        double t2 = bd_seconds();
        tn += t1 - t0, tb += t2 - t1;
        if (it == 0) /* the same weights: the two gradients must agree */
            for (int q = 0; q < 4; q++) {
                double d = 0;
                for (size_t i = 0; i < num.n[q]; i++)
                    d += fabs(gn[q][i] - gb[q][i]);
                printf("  %s: mean |numerical - backprop| = %.3g\n", NAMES[q], d / num.n[q]);
            }
        for (int q = 0; q < 4; q++) /* params[key] -= learning_rate * grad[key] */
            for (size_t i = 0; i < num.n[q]; i++) {
                num.p[q][i] -= lr * gn[q][i];
                bp.p[q][i] -= lr * gb[q][i];
            }
        printf("iter %d: loss numerical %.6f backprop %.6f; seconds numerical %.3f backprop %.6f\n",
               it + 1, loss(&num, x, t, B, buf), loss(&bp, x, t, B, buf), t1 - t0, t2 - t1);
    }
    printf("numerical gradient: %.3f s per iteration\n", tn / iters);
    printf("backpropagation:    %.6f s per iteration (%.0f times faster)\n", tb / iters,
           tb > 0 ? tn / tb : 0.0);
    printf("10000 iterations (train_neuralnet.py's count) of this batch: %.1f hours numerical, %.1f s backprop\n",
           tn / iters * 10000 / 3600, tb / iters * 10000);
    for (int q = 0; q < 4; q++)
        free(num.p[q]), free(bp.p[q]), free(gn[q]), free(gb[q]);
    free(x), free(buf), free(t), free(xs), free(ts);
    return 0;
}
