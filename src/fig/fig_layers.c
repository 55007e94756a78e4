/* fig_layers.c — `badak figure layers`: a `badak train --log-layers` CSV
 * drawn so vanishing (or exploding) gradients and saturated units show
 * (seed 002, unit 2: the gradient shrinks as backpropagation goes down to
 * the lower layers). Three panels: the gradient norm of each layer's
 * parameters over the iterations (log scale), the standard deviation of
 * each activation layer's output over the iterations, and the gradient
 * norm against depth at the first and the last logged step. Without --log
 * it trains its own deep sigmoid MLP on MNIST and logs that. */
#include "fig/figures.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- the CSV */

void fig_layer_log_free(fig_layer_log *l)
{
    free(l->name);
    free(l->kind);
    free(l->params);
    free(l->layer);
    free(l->iter);
    free(l->grad);
    free(l->std);
    free(l->zero);
    memset(l, 0, sizeof *l);
}

/* The layer named name (added, in order of first appearance, if new);
 * -1 past FIG_LAYERS_MAX. */
static int layer_index(fig_layer_log *l, const char *name, const char *kind, long params,
                       int hint)
{
    if (hint >= 0 && hint < l->nlayers && !strcmp(l->name[hint], name))
        return hint;
    for (int i = 0; i < l->nlayers; i++)
        if (!strcmp(l->name[i], name))
            return i;
    if (l->nlayers >= FIG_LAYERS_MAX)
        return -1;
    int i = l->nlayers++;
    snprintf(l->name[i], sizeof l->name[i], "%s", name);
    snprintf(l->kind[i], sizeof l->kind[i], "%s", kind);
    l->params[i] = params;
    return i;
}

static bd_status grow(fig_layer_log *l)
{
    long cap = l->cap ? 2 * l->cap : 1024;
    int *layer = realloc(l->layer, (size_t)cap * sizeof *layer);
    if (layer)
        l->layer = layer;
    long *iter = realloc(l->iter, (size_t)cap * sizeof *iter);
    if (iter)
        l->iter = iter;
    double *g = realloc(l->grad, (size_t)cap * sizeof *g);
    if (g)
        l->grad = g;
    double *sd = realloc(l->std, (size_t)cap * sizeof *sd);
    if (sd)
        l->std = sd;
    double *z = realloc(l->zero, (size_t)cap * sizeof *z);
    if (z)
        l->zero = z;
    if (!layer || !iter || !g || !sd || !z)
        return bd_error(BD_ERR_NOMEM, "layer log: out of memory");
    l->cap = cap;
    return BD_OK;
}

/* split line at commas into f[0..max) (in place); the field count */
static int split(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < max;) {
        f[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

/* a number, or NAN for an empty field; 0 or -1 when it is neither */
static int number(const char *s, double *v)
{
    if (!*s) {
        *v = NAN;
        return 0;
    }
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end || errno ? -1 : 0;
}

static const char LAYER_HEAD[] = "iter,epoch,layer,kind,params,grad_norm,weight_norm,act_mean,"
                                 "act_std,act_zero_frac";

/* One data row (fields f[12]) into l. */
static bd_status add_row(fig_layer_log *l, char **f, const char *path, long lineno, int *hint)
{
    double it, ep, par, g, wn, mean, sd, zero;
    if (number(f[0], &it) || number(f[1], &ep) || number(f[4], &par) || number(f[5], &g) ||
        number(f[6], &wn) || number(f[7], &mean) || number(f[8], &sd) || number(f[9], &zero) ||
        !(it >= 1) || isnan(par))
        return bd_error(BD_ERR_FORMAT, "%s:%ld: expected numbers in iter,epoch,params,grad_norm,"
                        "weight_norm,act_mean,act_std,act_zero_frac", path, lineno);
    int k = layer_index(l, f[2], f[3], (long)par, *hint + 1 < l->nlayers ? *hint + 1 : 0);
    if (k < 0)
        return bd_error(BD_ERR_FORMAT, "%s:%ld: more than %d layers", path, lineno,
                        FIG_LAYERS_MAX);
    *hint = k;
    bd_status s = l->n == l->cap ? grow(l) : BD_OK;
    if (s != BD_OK)
        return s;
    l->layer[l->n] = k;
    l->iter[l->n] = (long)it;
    l->grad[l->n] = g;
    l->std[l->n] = sd;
    l->zero[l->n] = zero;
    l->n++;
    return BD_OK;
}

bd_status fig_read_layer_log(const char *path, fig_layer_log *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f)
        return bd_error(BD_ERR_IO, "%s: cannot read the layer log: %s", path, strerror(errno));
    out->name = calloc(FIG_LAYERS_MAX, sizeof *out->name);
    out->kind = calloc(FIG_LAYERS_MAX, sizeof *out->kind);
    out->params = calloc(FIG_LAYERS_MAX, sizeof *out->params);
    bd_status s = out->name && out->kind && out->params ? BD_OK
                                                        : bd_error(BD_ERR_NOMEM, "layer log");
    char *line = NULL;
    size_t cap = 0;
    if (s == BD_OK && (getline(&line, &cap, f) < 0 ||
                       strncmp(line, LAYER_HEAD, sizeof LAYER_HEAD - 1)))
        s = bd_error(BD_ERR_FORMAT, "%s: not a `badak train --log-layers` CSV (the header "
                     "should start with %s)", path, LAYER_HEAD);
    long lineno = 1;
    int hint = -1;
    while (s == BD_OK && getline(&line, &cap, f) >= 0) {
        lineno++;
        char *fld[12];
        if (split(line, fld, 12) != 12)
            s = bd_error(BD_ERR_FORMAT, "%s:%ld: expected 12 comma-separated fields", path,
                         lineno);
        else
            s = add_row(out, fld, path, lineno, &hint);
    }
    free(line);
    fclose(f);
    if (s == BD_OK && out->n == 0)
        s = bd_error(BD_ERR_FORMAT, "%s: the layer log has no rows", path);
    if (s != BD_OK)
        fig_layer_log_free(out);
    return s;
}

/* ---------------------------------------------------------- drawing */

#define LY_LINES 10 /* lines per panel: the colour cycle */

typedef struct ly_data {
    const fig_layer_log *log;
    int gsel[LY_LINES], ng; /* layers with parameters drawn in panel 1 */
    int asel[LY_LINES], na; /* layers whose output std is drawn in panel 2 */
    int *depth;             /* [np] every layer with a gradient, in order */
    int np;
    long first, last;       /* the first and last logged iterations */
    double *x, *y;          /* [log->n] scratch */
} ly_data;

/* up to LY_LINES of the m candidates cand[], evenly spread, the first and
 * the last always among them */
static int spread(const int *cand, int m, int *sel)
{
    if (m <= LY_LINES) {
        memcpy(sel, cand, (size_t)m * sizeof *sel);
        return m;
    }
    for (int k = 0; k < LY_LINES; k++)
        sel[k] = cand[(int)lround((double)k * (m - 1) / (LY_LINES - 1))];
    return LY_LINES;
}

/* the points (iter, log10 or plain value) of layer k; their count */
static int series(const ly_data *d, int k, const double *v, int logy)
{
    const fig_layer_log *l = d->log;
    int n = 0;
    for (long r = 0; r < l->n; r++)
        if (l->layer[r] == k && isfinite(v[r]) && (!logy || v[r] > 0)) {
            d->x[n] = (double)l->iter[r];
            d->y[n++] = logy ? log10(v[r]) : v[r];
        }
    return n;
}

/* log10 range of the positive gradient norms, widened to whole decades */
static void grad_range(const fig_layer_log *l, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (long r = 0; r < l->n; r++)
        if (isfinite(l->grad[r]) && l->grad[r] > 0) {
            *lo = fmin(*lo, log10(l->grad[r]));
            *hi = fmax(*hi, log10(l->grad[r]));
        }
    if (!isfinite(*lo)) {
        *lo = -1;
        *hi = 0;
    }
    *lo = floor(*lo);
    *hi = ceil(*hi) > *lo ? ceil(*hi) : *lo + 1;
}

static void lines(const ly_data *d, const int *sel, int n, const double *v, int logy)
{
    const char *lab[LY_LINES];
    int col[LY_LINES], sty[LY_LINES];
    for (int j = 0; j < n; j++) {
        int m = series(d, sel[j], v, logy);
        col[j] = plot_cycle(j);
        sty[j] = PLOT_SOLID;
        lab[j] = d->log->name[sel[j]];
        plot_line(m, d->x, d->y, col[j], PLOT_SOLID, 2);
    }
    if (n)
        plot_legend(n, lab, col, sty, NULL, "tr");
}

/* panel 3: log10 grad norm against depth at iteration `at` */
static int by_depth(const ly_data *d, long at)
{
    const fig_layer_log *l = d->log;
    int n = 0;
    for (int j = 0; j < d->np; j++)
        for (long r = 0; r < l->n; r++)
            if (l->layer[r] == d->depth[j] && l->iter[r] == at && l->grad[r] > 0) {
                d->x[n] = j + 1;
                d->y[n++] = log10(l->grad[r]);
                break;
            }
    return n;
}

static void draw_layers(const void *data)
{
    const ly_data *d = data;
    const fig_layer_log *l = d->log;
    double lo, hi, smax = 0;
    grad_range(l, &lo, &hi);
    for (long r = 0; r < l->n; r++)
        for (int j = 0; j < d->na; j++)
            if (l->layer[r] == d->asel[j] && isfinite(l->std[r]))
                smax = fmax(smax, l->std[r]);
    /* room on the right for the legend, past the last iteration */
    const double x1 = 1.6 * (double)(d->last > d->first ? d->last : d->first + 1);
    plot_axes a = {.nx = 3, .ny = 1, .i = 0, .xmin = 0, .xmax = x1, .ymin = lo, .ymax = hi,
                   .ylog = 1, .title = TR("gradient norm of each layer's parameters",
                                          "층마다 매개변수 기울기의 노름"),
                   .xlabel = TR("iterations", "반복 횟수"),
                   .ylabel = TR("||dL/dW|| (log scale)", "||dL/dW|| (로그 눈금)")};
    plot_panel(&a);
    lines(d, d->gsel, d->ng, l->grad, 1);
    plot_axes b = {.nx = 3, .ny = 1, .i = 1, .xmin = 0, .xmax = x1, .ymin = 0,
                   .ymax = smax > 0 ? smax * 1.15 : 1,
                   .title = TR("standard deviation of each layer's output",
                               "층마다 출력의 표준편차"),
                   .xlabel = TR("iterations", "반복 횟수"), .ylabel = TR("std", "표준편차")};
    plot_panel(&b);
    lines(d, d->asel, d->na, l->std, 0);
    plot_axes c = {.nx = 3, .ny = 1, .i = 2, .xmin = 0.5, .xmax = d->np + 0.5, .ymin = lo,
                   .ymax = hi, .ylog = 1, .xtick = d->np > 12 ? 0 : 1,
                   .title = TR("gradient norm by depth", "깊이에 따른 기울기 노름"),
                   .xlabel = TR("layer with parameters (input -> output)",
                                "매개변수가 있는 층 (입력 -> 출력)"),
                   .ylabel = TR("||dL/dW|| (log scale)", "||dL/dW|| (로그 눈금)")};
    plot_panel(&c);
    char first[48], last[48];
    snprintf(first, sizeof first, TR("iteration %ld", "%ld번째 반복"), d->first);
    snprintf(last, sizeof last, TR("iteration %ld", "%ld번째 반복"), d->last);
    const char *lab[2] = {first, last}, *mk[2] = {"o", "s"};
    const int col[2] = {PC_BLUE, PC_ORANGE}, sty[2] = {PLOT_DASHED, PLOT_SOLID};
    int n = by_depth(d, d->first);
    plot_line(n, d->x, d->y, col[0], sty[0], 2);
    plot_points(n, d->x, d->y, col[0], mk[0], 0.6);
    n = by_depth(d, d->last);
    plot_line(n, d->x, d->y, col[1], sty[1], 2);
    plot_points(n, d->x, d->y, col[1], mk[1], 0.6);
    plot_legend(2, lab, col, sty, mk, "br");
}

/* Which layers each panel shows. Panel 2: the activation layers (no
 * parameters: their output is what the next layer sees), else every layer. */
static bd_status choose(const fig_layer_log *l, ly_data *d)
{
    memset(d, 0, sizeof *d);
    d->log = l;
    d->depth = malloc(sizeof *d->depth * (size_t)(l->nlayers + 1));
    int *act = malloc(sizeof *act * (size_t)(l->nlayers + 1));
    d->x = malloc(sizeof *d->x * (size_t)l->n);
    d->y = malloc(sizeof *d->y * (size_t)l->n);
    if (!d->depth || !act || !d->x || !d->y) {
        free(act);
        return bd_error(BD_ERR_NOMEM, "layers");
    }
    int na = 0;
    for (int k = 0; k < l->nlayers; k++) {
        int has_grad = 0;
        for (long r = 0; r < l->n && !has_grad; r++)
            has_grad = l->layer[r] == k && isfinite(l->grad[r]);
        if (has_grad)
            d->depth[d->np++] = k;
        if (l->params[k] == 0)
            act[na++] = k;
    }
    if (na == 0)
        for (int k = 0; k < l->nlayers; k++)
            act[na++] = k;
    d->ng = spread(d->depth, d->np, d->gsel);
    d->na = spread(act, na, d->asel);
    free(act);
    d->first = d->last = l->iter[0];
    for (long r = 0; r < l->n; r++) {
        d->first = l->iter[r] < d->first ? l->iter[r] : d->first;
        d->last = l->iter[r] > d->last ? l->iter[r] : d->last;
    }
    return BD_OK;
}

static void ly_free(ly_data *d)
{
    free(d->depth);
    free(d->x);
    free(d->y);
}

/* the gradient norm of layer k at iteration at (NAN: not logged) */
double fig_layer_grad_at(const fig_layer_log *l, int k, long at)
{
    for (long r = 0; r < l->n; r++)
        if (l->layer[r] == k && l->iter[r] == at)
            return l->grad[r];
    return NAN;
}

/* ----------------------------------------------------- the demo run */

/* No --log: a deep sigmoid MLP (784-50x8-10, Xavier, SGD 0.1) trained on
 * MNIST with its layer log written to OUTDIR/layers-log.csv. */
static bd_status demo_run(fig_ctx *ctx, char *path, size_t len)
{
    bd_status s = fig_mnist(ctx);
    if (s == BD_OK)
        s = fig_file(ctx, "layers-log", "csv", path, len);
    if (s != BD_OK)
        return s;
    bd_net_spec spec;
    bd_net_spec_default(&spec);
    snprintf(spec.model, sizeof spec.model, "mlp");
    spec.nhidden = 8;
    for (int i = 0; i < spec.nhidden; i++)
        spec.hidden[i] = 50;
    spec.act = BD_LAYER_SIGMOID;
    bd_train_config tc;
    bd_train_config_default(&tc);
    tc.batch = 100;
    tc.iters = ctx->quick ? 200 : 2000;
    tc.seed = ctx->seed;
    tc.eval_train = 0;
    tc.layer_log = path;
    tc.layer_log_every = ctx->quick ? 20 : 100;
    bd_dataset train = ctx->train, test = ctx->test;
    if (ctx->quick) { /* a 10,000-sample head: short epochs, quick evaluations */
        train.n = 10000 < train.n ? 10000 : train.n;
        test.n = 1000 < test.n ? 1000 : test.n;
        train.x.shape[0] = train.y.shape[0] = train.n;
        test.x.shape[0] = test.y.shape[0] = test.n;
        train.x.size = (size_t)train.n * (ctx->train.x.size / (size_t)ctx->train.n);
        test.x.size = (size_t)test.n * (ctx->test.x.size / (size_t)ctx->test.n);
        train.y.size = (size_t)train.n;
        test.y.size = (size_t)test.n;
    }
    train.x.owner = train.y.owner = test.x.owner = test.y.owner = 0;
    fig_run run;
    s = fig_train_run(&spec, "sgd", &(bd_optim_config){.lr = 0.1f}, &train, &test,
                                &tc, ctx->seed, &run);
    if (s == BD_OK)
        fig_run_free(&run);
    return s;
}

bd_status fig_make_layers(fig_ctx *ctx)
{
    char demo[4200], title[512];
    const char *path = ctx->layer_log;
    if (!path) {
        bd_status ds = demo_run(ctx, demo, sizeof demo);
        if (ds != BD_OK)
            return ds;
        path = demo;
        snprintf(title, sizeof title,
                 TR("Vanishing gradients: mlp 784-50x8-10, sigmoid, Xavier, SGD lr 0.1 on MNIST",
                    "기울기 소실: mlp 784-50x8-10, 시그모이드, Xavier 초기화, SGD 학습률 0.1, MNIST"));
    } else {
        snprintf(title, sizeof title, TR("Layer by layer: %s", "층별 기울기와 활성화: %s"), path);
    }
    fig_layer_log l;
    ly_data d;
    memset(&d, 0, sizeof d);
    bd_status s = fig_read_layer_log(path, &l);
    if (s != BD_OK)
        return s;
    s = choose(&l, &d);
    fig_csv c;
    if (s == BD_OK)
        s = fig_csv_for(ctx, &c, "layers", "layer,kind,iter,grad_norm,act_std,act_zero_frac");
    if (s == BD_OK) {
        for (long r = 0; r < l.n; r++)
            fig_csv_row(&c, "%s,%s,%ld,%.6g,%.6g,%.6g", l.name[l.layer[r]], l.kind[l.layer[r]],
                        l.iter[r], l.grad[r], l.std[r], l.zero[r]);
        s = fig_csv_close(&c);
    }
    if (s == BD_OK && d.np > 0) {
        double g0 = fig_layer_grad_at(&l, d.depth[0], d.last);
        double g1 = fig_layer_grad_at(&l, d.depth[d.np - 1], d.last);
        snprintf(ctx->note, sizeof ctx->note, "%d layers, %ld rows; at iteration %ld the first "
                 "layer's gradient norm is %.3g, the last's %.3g (ratio %.2g)", l.nlayers, l.n,
                 d.last, g0, g1, g1 > 0 ? g0 / g1 : NAN);
    }
    if (s == BD_OK)
        s = fig_draw(ctx, "layers", 1800, 600, title, draw_layers, &d);
    ly_free(&d);
    fig_layer_log_free(&l);
    return s;
}
