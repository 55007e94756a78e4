/* optimizer.h — mirrors the book's common/optimizer.py (6.1): SGD,
 * Momentum, Nesterov, AdaGrad, RMSprop and Adam, each an update(params,
 * grads) over n plain doubles. As in the book, the state (v, h, m) starts
 * at zero on the first update (the book creates it there with zeros_like).
 *
 * The fast version: src/optim/optim.c (float, the same formulas). */
#ifndef OPTIMIZER_H
#define OPTIMIZER_H

#include "learn.h"

enum { MAXP = 16 }; /* parameters an optimizer here can hold */

typedef struct Optimizer {
    const char *name;
    double lr, momentum, decay_rate, beta1, beta2;
    int iter;
    double v[MAXP], h[MAXP], m[MAXP]; /* velocity, squared-gradient sum, moments */
} Optimizer;

/* the book's defaults: Momentum(lr=0.01, momentum=0.9),
 * RMSprop(lr=0.01, decay_rate=0.99), Adam(lr=0.001, beta1=0.9, beta2=0.999) */
static inline Optimizer optimizer(const char *name, double lr)
{
    return (Optimizer){.name = name, .lr = lr, .momentum = 0.9, .decay_rate = 0.99,
                       .beta1 = 0.9, .beta2 = 0.999};
}

/* SGD: W <- W - lr dW   (book eq. 6.1) */
static inline void sgd_update(Optimizer *o, double *p, const double *g, int n)
{
    for (int i = 0; i < n; i++)
        p[i] -= o->lr * g[i];
}

/* Momentum: v <- momentum v - lr dW;  W <- W + v   (eq. 6.3, 6.4) */
static inline void momentum_update(Optimizer *o, double *p, const double *g, int n)
{
    for (int i = 0; i < n; i++) {
        o->v[i] = o->momentum * o->v[i] - o->lr * g[i];
        p[i] += o->v[i];
    }
}

/* Nesterov's accelerated gradient (arXiv:1212.0901), as the book codes it:
 * v <- momentum v - lr dW;  W <- W + momentum^2 v - (1 + momentum) lr dW */
static inline void nesterov_update(Optimizer *o, double *p, const double *g, int n)
{
    for (int i = 0; i < n; i++) {
        o->v[i] *= o->momentum;
        o->v[i] -= o->lr * g[i];
        p[i] += o->momentum * o->momentum * o->v[i];
        p[i] -= (1 + o->momentum) * o->lr * g[i];
    }
}

/* AdaGrad: h <- h + dW dW;  W <- W - lr dW / (sqrt(h) + 1e-7)  (eq. 6.5, 6.6) */
static inline void adagrad_update(Optimizer *o, double *p, const double *g, int n)
{
    for (int i = 0; i < n; i++) {
        o->h[i] += g[i] * g[i];
        p[i] -= o->lr * g[i] / (sqrt(o->h[i]) + 1e-7);
    }
}

/* RMSprop: h <- decay h + (1 - decay) dW dW;  W <- W - lr dW / (sqrt(h) + 1e-7) */
static inline void rmsprop_update(Optimizer *o, double *p, const double *g, int n)
{
    for (int i = 0; i < n; i++) {
        o->h[i] *= o->decay_rate;
        o->h[i] += (1 - o->decay_rate) * g[i] * g[i];
        p[i] -= o->lr * g[i] / (sqrt(o->h[i]) + 1e-7);
    }
}

/* Adam (arXiv:1412.6980), the bias correction folded into lr_t as the book:
 * lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t);  m += (1 - beta1)(dW - m);
 * v += (1 - beta2)(dW^2 - v);  W <- W - lr_t m / (sqrt(v) + 1e-7) */
static inline void adam_update(Optimizer *o, double *p, const double *g, int n)
{
    o->iter += 1;
    double lr_t = o->lr * sqrt(1.0 - pow(o->beta2, o->iter)) / (1.0 - pow(o->beta1, o->iter));
    for (int i = 0; i < n; i++) {
        o->m[i] += (1 - o->beta1) * (g[i] - o->m[i]);
        o->v[i] += (1 - o->beta2) * (g[i] * g[i] - o->v[i]);
        p[i] -= lr_t * o->m[i] / (sqrt(o->v[i]) + 1e-7);
    }
}

/* update(params, grads) by the optimizer's name */
static inline void update(Optimizer *o, double *p, const double *g, int n)
{
    if (!strcmp(o->name, "SGD"))
        sgd_update(o, p, g, n);
    else if (!strcmp(o->name, "Momentum"))
        momentum_update(o, p, g, n);
    else if (!strcmp(o->name, "Nesterov"))
        nesterov_update(o, p, g, n);
    else if (!strcmp(o->name, "AdaGrad"))
        adagrad_update(o, p, g, n);
    else if (!strcmp(o->name, "RMSprop"))
        rmsprop_update(o, p, g, n);
    else
        adam_update(o, p, g, n);
}

#endif
