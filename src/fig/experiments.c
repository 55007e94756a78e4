/* experiments.c — the small numerical experiments of the notes: gradient
 * descent in 1-D and 2-D, numerical derivatives, activation histograms,
 * activation curves and the book's curve smoothing. Everything goes through
 * libbadak's kernels and optimizers, so the figures show what badak does. */
#include "fig/fig.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void fig_gd1d(double (*df)(double), double x0, double lr, int steps, double *xs)
{
    xs[0] = x0;
    for (int k = 0; k < steps; k++)
        xs[k + 1] = xs[k] - lr * df(xs[k]);
}

/* bd_numerical_gradient wants a scalar function of a float buffer */
typedef struct fn1 {
    double (*f)(double);
    float *x;
} fn1;

static double eval1(void *ud)
{
    fn1 *c = ud;
    return c->f((double)c->x[0]);
}

double fig_numdiff(double (*f)(double), double x, float h)
{
    float xv = (float)x, g = 0.0f;
    fn1 c = {f, &xv};
    bd_numerical_gradient(eval1, &c, &xv, &g, 1, h, NULL, 0);
    return g;
}

double fig_bowl(double x, double y) { return x * x + y * y; }

void fig_bowl_grad(const float *p, float *g)
{
    g[0] = 2.0f * p[0];
    g[1] = 2.0f * p[1];
}

double fig_ellipse(double x, double y) { return x * x / 20.0 + y * y; }

void fig_ellipse_grad(const float *p, float *g)
{
    g[0] = p[0] / 10.0f;
    g[1] = 2.0f * p[1];
}

bd_status fig_path2d(const char *name, const bd_optim_config *cfg, fig_grad2 grad, float x0,
                     float y0, int steps, float *xy)
{
    /* two plain floats, no network: the update rule itself (internal.h) */
    bd_optim opt, *o = &opt;
    bd_status s = bd__optim_init(o, name, cfg, 2);
    if (s != BD_OK)
        return s;
    float p[2] = {x0, y0}, g[2];
    xy[0] = x0;
    xy[1] = y0;
    for (int k = 0; k < steps; k++) {
        grad(p, g);
        /* what bd_optim_step does for a network: count the step, then update */
        o->t++;
        o->ops->step(o, p, g, 2);
        xy[2 * (k + 1)] = p[0];
        xy[2 * (k + 1) + 1] = p[1];
    }
    bd__optim_release(o);
    return BD_OK;
}

typedef struct bowl_fn {
    float *x;
} bowl_fn;

static double eval_bowl(void *ud)
{
    bowl_fn *c = ud;
    return fig_bowl(c->x[0], c->x[1]);
}

void fig_bowl_numgrad(float x0, float x1, float h, float *g)
{
    float x[2] = {x0, x1};
    bowl_fn c = {x};
    bd_numerical_gradient(eval_bowl, &c, x, g, 2, h, NULL, 0);
}

/* act(x) in place through the library's forward kernels */
static void act_forward(bd_layer_kind k, float *x, size_t n)
{
    switch (k) {
    case BD_LAYER_SIGMOID: bd_sigmoid_forward(x, x, n); break;
    case BD_LAYER_TANH: bd_tanh_forward(x, x, n); break;
    default: bd_relu_forward(x, x, n); break;
    }
}

bd_status fig_act_hist(bd_layer_kind act, bd_init init, int N, int D, int layers, int bins,
                       double lo, double hi, uint64_t seed, long *counts)
{
    if (N < 1 || D < 1 || layers < 1 || bins < 1 || !(hi > lo))
        return bd_error(BD_ERR_ARG, "activation histogram: bad sizes N %d D %d layers %d "
                        "bins %d range %g..%g", N, D, layers, bins, lo, hi);
    if (act != BD_LAYER_SIGMOID && act != BD_LAYER_TANH && act != BD_LAYER_RELU)
        return bd_error(BD_ERR_ARG, "activation histogram: %s is not sigmoid, tanh or relu",
                        bd_layer_kind_name(act));
    size_t nx = (size_t)N * D;
    float *x = malloc(sizeof(float) * (nx * 2 + (size_t)D * D + D));
    if (!x)
        return bd_error(BD_ERR_NOMEM, "activation histogram: %d x %d", N, D);
    float *y = x + nx, *W = y + nx, *b = W + (size_t)D * D;
    bd_rng rng;
    bd_rng_seed(&rng, seed);
    for (size_t i = 0; i < nx; i++)
        x[i] = bd_rng_normal(&rng);
    memset(b, 0, sizeof(float) * D);
    /* the book's scales: std, 1/sqrt(n) (Xavier), sqrt(2/n) (He) */
    float scale = init.kind == BD_INIT_XAVIER ? sqrtf(1.0f / D)
                : init.kind == BD_INIT_HE     ? sqrtf(2.0f / D)
                                              : init.std;
    for (int l = 0; l < layers; l++) {
        for (size_t i = 0; i < (size_t)D * D; i++)
            W[i] = scale * bd_rng_normal(&rng);
        bd_affine_forward(y, x, W, b, N, D, D); /* a = x W */
        act_forward(act, y, nx);                /* z = act(a) */
        long *row = counts + (size_t)l * (bins + 2);
        memset(row, 0, sizeof(long) * (bins + 2));
        for (size_t i = 0; i < nx; i++) {
            double v = y[i];
            if (v < lo)
                row[0]++;
            else if (v > hi)
                row[bins + 1]++;
            else {
                int k = (int)((v - lo) / (hi - lo) * bins);
                row[1 + (k >= bins ? bins - 1 : k)]++;
            }
        }
        float *t = x; /* this layer's output is the next one's input */
        x = y;
        y = t;
    }
    free(x < y ? x : y);
    return BD_OK;
}

bd_status fig_act_curve(bd_layer_kind kind, float p0, const float *x, int n, float *y,
                        float *dy)
{
    float *one = malloc(sizeof(float) * (size_t)n);
    if (!one)
        return bd_error(BD_ERR_NOMEM, "activation curve: %d points", n);
    for (int i = 0; i < n; i++)
        one[i] = 1.0f;
    size_t m = (size_t)n;
    bd_status s = BD_OK;
    switch (kind) {
    case BD_LAYER_SIGMOID:
        bd_sigmoid_forward(y, x, m);
        bd_sigmoid_backward(dy, one, y, m);
        break;
    case BD_LAYER_TANH:
        bd_tanh_forward(y, x, m);
        bd_tanh_backward(dy, one, y, m);
        break;
    case BD_LAYER_RELU:
        bd_relu_forward(y, x, m);
        bd_relu_backward(dy, one, y, m);
        break;
    case BD_LAYER_LEAKY_RELU:
        bd_leaky_relu_forward(y, x, p0, m);
        bd_leaky_relu_backward(dy, one, x, p0, m);
        break;
    case BD_LAYER_ELU:
        bd_elu_forward(y, x, p0, m);
        bd_elu_backward(dy, one, x, y, p0, m);
        break;
    default:
        s = bd_error(BD_ERR_ARG, "activation curve: no curve for %s", bd_layer_kind_name(kind));
    }
    free(one);
    return s;
}

/* modified Bessel function of the first kind, order 0 (for the Kaiser
 * window, as numpy.kaiser computes it) */
static double bessel_i0(double x)
{
    double sum = 1.0, term = 1.0, q = x * x / 4.0;
    for (int k = 1; k < 60; k++) {
        term *= q / ((double)k * k);
        sum += term;
        if (term < 1e-17 * sum)
            break;
    }
    return sum;
}

void fig_smooth(const float *x, int n, float *y)
{
    enum { WL = 11, HALF = WL / 2 };
    if (n < WL) { /* too short to smooth: the book would fail; keep it */
        memcpy(y, x, sizeof(float) * (size_t)n);
        return;
    }
    double w[WL], wsum = 0.0;
    for (int k = 0; k < WL; k++) { /* np.kaiser(11, 2) */
        double r = 2.0 * k / (WL - 1) - 1.0;
        w[k] = bessel_i0(2.0 * sqrt(1.0 - r * r)) / bessel_i0(2.0);
        wsum += w[k];
    }
    /* s = r_[x[WL-1:0:-1], x, x[-1:-WL:-1]]; y = convolve(w/sum, s, 'valid')
     * has n + WL - 1 values; the book returns y[5:len(y)-5], i.e. n values,
     * and the window is symmetric, so convolution = correlation */
    for (int i = 0; i < n; i++) {
        double acc = 0.0;
        for (int k = 0; k < WL; k++) {
            int j = i + HALF + k - (WL - 1); /* index into x of s[i + HALF + k] */
            int src;
            if (j < 0)
                src = -j; /* x[WL-1], ..., x[1] mirrored */
            else if (j >= n)
                src = 2 * n - 1 - j; /* x[n-1], x[n-2], ... mirrored */
            else
                src = j;
            acc += w[k] * x[src];
        }
        y[i] = (float)(acc / wsum);
    }
}
