/* layers.h — mirrors the book's common/layers.py (5.5-5.6): Relu, Sigmoid,
 * Affine and SoftmaxWithLoss as the book writes them, in loops over plain
 * double arrays (numpy's float64) instead of numpy calls. Shapes are
 * [B, D]: B rows (the batch), D features. Each layer keeps what its
 * backward needs, as the book's classes keep self.mask, self.out, self.x.
 *
 * The fast versions of the same layers: src/layers/activation.c,
 * affine.c, loss.c (float, BLAS, threads). */
#ifndef LAYERS_H
#define LAYERS_H

#include "learn.h"

/* Relu (5.5.1): out = max(0, x); mask = (x <= 0) routes no gradient */
typedef struct Relu {
    size_t n;
    char *mask; /* [n] */
    double *out, *dx;
} Relu;

static inline void relu_init(Relu *l, size_t n)
{
    l->n = n;
    l->mask = xmalloc(n);
    l->out = xmalloc(sizeof(double) * n);
    l->dx = xmalloc(sizeof(double) * n);
}

static inline double *relu_forward(Relu *l, const double *x)
{
    for (size_t i = 0; i < l->n; i++) {
        l->mask[i] = x[i] <= 0;
        l->out[i] = l->mask[i] ? 0 : x[i]; /* out[self.mask] = 0 */
    }
    return l->out;
}

static inline double *relu_backward(Relu *l, const double *dout)
{
    for (size_t i = 0; i < l->n; i++)
        l->dx[i] = l->mask[i] ? 0 : dout[i]; /* dout[self.mask] = 0 */
    return l->dx;
}

/* Sigmoid (5.5.2): out = 1 / (1 + exp(-x)); dx = dout (1 - out) out (eq. 5.12) */
typedef struct Sigmoid {
    size_t n;
    double *out, *dx;
} Sigmoid;

static inline void sigmoid_init(Sigmoid *l, size_t n)
{
    l->n = n;
    l->out = xmalloc(sizeof(double) * n);
    l->dx = xmalloc(sizeof(double) * n);
}

static inline double *sigmoid_forward(Sigmoid *l, const double *x)
{
    for (size_t i = 0; i < l->n; i++)
        l->out[i] = 1 / (1 + exp(-x[i]));
    return l->out;
}

static inline double *sigmoid_backward(Sigmoid *l, const double *dout)
{
    for (size_t i = 0; i < l->n; i++)
        l->dx[i] = dout[i] * (1.0 - l->out[i]) * l->out[i];
    return l->dx;
}

/* Affine (5.6.2): out = x W + b.  x [B,I], W [I,O], b [O] -> out [B,O];
 * backward (eq. 5.13): dx = dout W^T, dW = x^T dout, db = sum over B of dout */
typedef struct Affine {
    int B, I, O;
    double *W, *b;     /* the network's params (not owned) */
    const double *x;   /* the input of the last forward */
    double *out, *dx, *dW, *db;
} Affine;

static inline void affine_init(Affine *l, double *W, double *b, int B, int I, int O)
{
    *l = (Affine){.B = B, .I = I, .O = O, .W = W, .b = b};
    l->out = xmalloc(sizeof(double) * B * O);
    l->dx = xmalloc(sizeof(double) * B * I);
    l->dW = xmalloc(sizeof(double) * I * O);
    l->db = xmalloc(sizeof(double) * O);
}

static inline double *affine_forward(Affine *l, const double *x)
{
    l->x = x;
    for (int r = 0; r < l->B; r++) { /* np.dot(x, W) + b, a row of W at a time */
        double *out = l->out + r * l->O;
        for (int j = 0; j < l->O; j++)
            out[j] = l->b[j];
        for (int i = 0; i < l->I; i++)
            for (int j = 0; j < l->O; j++)
                out[j] += x[r * l->I + i] * l->W[i * l->O + j];
    }
    return l->out;
}

static inline double *affine_backward(Affine *l, const double *dout)
{
    int B = l->B, I = l->I, O = l->O;
    for (int r = 0; r < B; r++) /* dx = np.dot(dout, self.W.T) */
        for (int i = 0; i < I; i++) {
            double s = 0;
            for (int j = 0; j < O; j++)
                s += dout[r * O + j] * l->W[i * O + j];
            l->dx[r * I + i] = s;
        }
    for (int i = 0; i < I; i++) /* self.dW = np.dot(self.x.T, dout) */
        for (int j = 0; j < O; j++) {
            double s = 0;
            for (int r = 0; r < B; r++)
                s += l->x[r * I + i] * dout[r * O + j];
            l->dW[i * O + j] = s;
        }
    for (int j = 0; j < O; j++) { /* self.db = np.sum(dout, axis=0) */
        l->db[j] = 0;
        for (int r = 0; r < B; r++)
            l->db[j] += dout[r * O + j];
    }
    return l->dx;
}

/* SoftmaxWithLoss (5.6.3): y = softmax(x), loss = mean cross-entropy with the
 * labels t [B] (class indices); backward: dx = (y - t) / B */
typedef struct SoftmaxWithLoss {
    int B, C;
    double delta;   /* cross_entropy_error's log(y + 1e-7), against log 0 */
    const int *t;
    double *y, *dx; /* [B, C] */
} SoftmaxWithLoss;

static inline void softmax_loss_init(SoftmaxWithLoss *l, int B, int C)
{
    *l = (SoftmaxWithLoss){.B = B, .C = C, .delta = 1e-7};
    l->y = xmalloc(sizeof(double) * B * C);
    l->dx = xmalloc(sizeof(double) * B * C);
}

static inline double softmax_loss_forward(SoftmaxWithLoss *l, const double *x, const int *t)
{
    double loss = 0;
    l->t = t;
    for (int r = 0; r < l->B; r++) {
        const double *a = x + r * l->C;
        double *y = l->y + r * l->C, c = a[0], sum = 0;
        for (int k = 1; k < l->C; k++) /* softmax: subtract the max (3.5.2) */
            c = a[k] > c ? a[k] : c;
        for (int k = 0; k < l->C; k++)
            sum += y[k] = exp(a[k] - c);
        for (int k = 0; k < l->C; k++)
            y[k] /= sum;
        loss -= log(y[t[r]] + l->delta); /* cross_entropy_error (4.2.4) */
    }
    return loss / l->B;
}

static inline double *softmax_loss_backward(SoftmaxWithLoss *l, double dout)
{
    for (int r = 0; r < l->B; r++) /* dx[np.arange(batch_size), self.t] -= 1 */
        for (int k = 0; k < l->C; k++)
            l->dx[r * l->C + k] = dout * (l->y[r * l->C + k] - (k == l->t[r])) / l->B;
    return l->dx;
}

static inline void relu_free(Relu *l) { free(l->mask), free(l->out), free(l->dx); }
static inline void sigmoid_free(Sigmoid *l) { free(l->out), free(l->dx); }
static inline void affine_free(Affine *l) { free(l->out), free(l->dx), free(l->dW), free(l->db); }
static inline void softmax_loss_free(SoftmaxWithLoss *l) { free(l->y), free(l->dx); }

#endif
