/* fig.h — the experiments behind `badak figure`: plain computations over
 * libbadak's public API, with no drawing, so tests can check the numbers
 * each figure shows. The drawing is in src/plot/, the figures in fig_*.c. */
#ifndef BADAK_FIG_H
#define BADAK_FIG_H

#include "badak.h"

/* ------------------------------------------------ 1-D gradient descent */

/* Gradient descent on a function of one variable (seed 004):
 * x_{k+1} = x_k − lr f'(x_k), from x0.   -> xs [steps + 1] (xs[0] = x0) */
void fig_gd1d(double (*df)(double), double x0, double lr, int steps, double *xs);

/* Central difference (f(x+h) − f(x−h)) / 2h of f at x through the library's
 * bd_numerical_gradient (book 4.3.1, numerical_diff). */
double fig_numdiff(double (*f)(double), double x, float h);

/* ------------------------------------------------ 2-D optimizer paths */

/* The gradient of a function of (x, y): p [2] -> g [2]. */
typedef void (*fig_grad2)(const float *p, float *g);
double fig_bowl(double x, double y);            /* x² + y² (book eq. 4.6) */
void fig_bowl_grad(const float *p, float *g);   /* (2x, 2y) */
double fig_ellipse(double x, double y);         /* x²/20 + y² (book 6.1.3) */
void fig_ellipse_grad(const float *p, float *g);/* (x/10, 2y) */

/* The path of the library's optimizer `name` (bd_optim_create, its step
 * function on the 2 parameters (x, y)) from (x0, y0) for `steps` steps.
 * -> xy [(steps + 1) * 2]: (x_k, y_k) for k = 0..steps */
bd_status fig_path2d(const char *name, const bd_optim_config *cfg, fig_grad2 grad, float x0,
                     float y0, int steps, float *xy);

/* Numerical gradient of x0² + x1² at (x0, x1) (bd_numerical_gradient, step h). */
void fig_bowl_numgrad(float x0, float x1, float h, float *g);

/* ------------------------------------------- activation histograms (6.2) */

/* The book's weight_init_activation_histogram: a [N, D] standard-normal
 * input through `layers` layers of D units (x W, no bias, then act), the
 * weights drawn with init. For each layer, counts of its N·D outputs in
 * `bins` equal bins over [lo, hi] (hi included in the last bin), plus the
 * values below lo and above hi:
 *   counts [layers][bins + 2]: [0] below lo, [1..bins] the bins, [bins+1] above hi
 * so every layer's row sums to N·D. */
bd_status fig_act_hist(bd_layer_kind act, bd_init init, int N, int D, int layers, int bins,
                       double lo, double hi, uint64_t seed, long *counts);

/* ---------------------------------------------- activation functions */

/* y = act(x) and its derivative dy/dx from the library's forward and
 * backward kernels (backward of a gradient of 1), at n points x.
 * kind: BD_LAYER_SIGMOID, TANH, RELU, LEAKY_RELU (p0 slope), ELU (p0 alpha) */
bd_status fig_act_curve(bd_layer_kind kind, float p0, const float *x, int n, float *y,
                        float *dy);

/* ------------------------------------------------------------ curves */

/* The book's smooth_curve (common/util.py): the series mirrored at both
 * ends, convolved with an 11-point Kaiser window (beta 2), same length. */
void fig_smooth(const float *x, int n, float *y);

/* One training run's curves. */
typedef struct fig_run {
    long iters;           /* iterations run */
    float *loss;          /* [iters] training loss per iteration */
    int epochs;           /* epochs finished */
    float *train_acc;     /* [epochs] (-1 where not measured) */
    float *test_acc;      /* [epochs] (-1 where not measured) */
    long *epoch_iter;     /* [epochs] iterations done at each epoch's end */
    long cap_iters;
    int cap_epochs;
} fig_run;

/* Train a fresh network of `spec` (its weights drawn from init_seed) with
 * optimizer `optim` on train, with tc's batch, epochs or iterations,
 * sampling and seed, recording the loss of every iteration and the
 * accuracies of every epoch. A run whose loss stops being finite keeps what
 * it recorded (out->iters tells how far it got) and returns BD_OK. */
bd_status fig_train_run(const bd_net_spec *spec, const char *optim, const bd_optim_config *oc,
                        const bd_dataset *train, const bd_dataset *test,
                        const bd_train_config *tc, uint64_t init_seed, fig_run *out);
void fig_run_free(fig_run *r);

/* Read a `badak train --log` CSV (kind,epoch,iter,loss,train_acc,test_acc,...)
 * into a run: iter rows give the losses, epoch rows the accuracies. */
bd_status fig_read_log(const char *path, fig_run *out);

/* Read a `badak train --log-layers` CSV: its layers in order of first
 * appearance and every row. Empty fields (no gradient, no output) are NAN.
 * A file that is not one, or a malformed row, gives BD_ERR_FORMAT naming
 * the file and line. */
#define FIG_LAYERS_MAX 4096
typedef struct fig_layer_log {
    int nlayers;
    char (*name)[32];     /* [FIG_LAYERS_MAX] */
    char (*kind)[24];
    long *params;         /* parameters of each layer */
    long n, cap;          /* rows */
    int *layer;           /* [n] the row's layer */
    long *iter;           /* [n] */
    double *grad, *std, *zero; /* [n] grad_norm, act_std, act_zero_frac */
} fig_layer_log;
bd_status fig_read_layer_log(const char *path, fig_layer_log *out);
void fig_layer_log_free(fig_layer_log *l);
/* layer k's gradient norm at iteration `at` (NAN: not logged) */
double fig_layer_grad_at(const fig_layer_log *l, int k, long at);

/* ------------------------------------------------------------- CSV */

/* A CSV written to PATH's folder under a temporary name and renamed when
 * closed, so a figure's data appears whole or not at all. */
typedef struct fig_csv {
    FILE *f;
    char path[4096];
    char tmp[4200];
} fig_csv;

bd_status fig_csv_open(fig_csv *c, const char *path, const char *header);
void fig_csv_row(fig_csv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Close and rename; on any write error the file is removed and reported. */
bd_status fig_csv_close(fig_csv *c);

#endif
