/* fig_confusion.c — `badak figure confusion --model FILE [--data ...]`: the
 * confusion matrix of a saved classifier on a data set's test split, as a
 * heat map with the counts in the cells and each class's accuracy beside
 * its row (seed 002's code prints the accuracy of every class with
 * classes[i]; issue 13's imbalance section). Class names come from the
 * model file (badak.classes), else from the data set. */
#include "fig/figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* The data set's train and test parts: --data, else the one the model
 * was trained on (its metadata), else mnist; through the command's loader
 * (every kind badak train reads) or, without one, as an MNIST folder. */
static bd_status load_data(fig_ctx *ctx, const bd_net *net, const bd_model_meta *meta,
                           const char **name, bd_dataset *train, bd_dataset *test)
{
    *name = ctx->data_given ? ctx->data : meta->data[0] ? meta->data : "mnist";
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (ctx->load_data)
        return ctx->load_data(*name, net, meta->seed, train, test);
    char dir[4096];
    bd_status s = bd_data_dir(*name, dir, sizeof dir);
    return s == BD_OK ? bd_mnist_load(dir, train, test) : s;
}

/* "3x32x32" */
static const char *shape(int c, int h, int w, char *buf, size_t len)
{
    snprintf(buf, len, "%dx%dx%d", c, h, w);
    return buf;
}

/* The set the matrix is made of must fit the model: same input shape,
 * labels among its classes. */
static bd_status check_fit(const fig_ctx *ctx, const bd_net *net, const char *data,
                           const bd_dataset *ds, int K)
{
    char a[48], b[48];
    if (ds->c * ds->h * ds->w != net->in_size)
        return bd_error(BD_ERR_SHAPE, "%s takes inputs of %s (%d values), the samples of %s "
                        "(%s) are %s (%d values): not the data it was trained on?", ctx->model,
                        shape(net->in_c, net->in_h, net->in_w, a, sizeof a), net->in_size, data,
                        ds->name, shape(ds->c, ds->h, ds->w, b, sizeof b),
                        ds->c * ds->h * ds->w);
    if (ds->task != BD_TASK_CLASSIFY)
        return bd_error(BD_ERR_ARG, "%s: a confusion matrix needs class labels (not %s targets)",
                        data, ds->task == BD_TASK_REGRESS ? "regression" : "multi-label");
    if (ds->nclasses > K)
        return bd_error(BD_ERR_SHAPE, "%s has %d classes, %s predicts %d", data, ds->nclasses,
                        ctx->model, K);
    return BD_OK;
}

#define CF_NAME 24
typedef struct cf_data {
    int K;
    double *v;             /* [K, K] counts */
    char (*cell)[16];      /* [K, K] their text */
    const char **text;     /* [K, K] pointers to it (NULL: too many classes) */
    char (*name)[CF_NAME]; /* [K] class names */
    double *acc;           /* [K] per-class accuracy (-1: no samples) */
    double vmax;
} cf_data;

/* the longest class name's characters */
static size_t cf_longest(const cf_data *d)
{
    size_t m = 1;
    for (int k = 0; k < d->K; k++)
        m = strlen(d->name[k]) > m ? strlen(d->name[k]) : m;
    return m;
}

/* room for m characters, in cells (about 0.13 of a 64-pixel cell per
 * character at the text size used; cells are smaller past 10 classes) */
static double cf_chars(const cf_data *d, size_t m)
{
    return 0.13 * (double)m * (d->K <= 10 ? 1.0 : 1.45);
}

/* left of the cells: the row names, and "true class" above them */
static double cf_label_width(const cf_data *d)
{
    size_t m = cf_longest(d);
    return 0.35 + cf_chars(d, m > 10 ? m : 10);
}

/* below the cells: the column names (slanted when long), then the axis name */
static double cf_label_depth(const cf_data *d)
{
    size_t m = cf_longest(d);
    return (m > 3 ? 0.3 + 0.71 * cf_chars(d, m) : 0.5) + 0.8;
}

static void draw_confusion(const void *data)
{
    const cf_data *d = data;
    const int K = d->K;
    /* PLplot clips text to the window: it spans the names left and below
     * and the accuracies right of the K x K cells (a cell is one unit) */
    const double left = K <= 20 ? cf_label_width(d) : 0.1;
    plot_axes a = {.nx = 1, .ny = 1, .i = 0, .xmin = -left, .xmax = K + (K <= 20 ? 1.3 : 0.1),
                   .ymin = K <= 20 ? -cf_label_depth(d) : -0.1,
                   .ymax = K + (K <= 20 ? 0.7 : 0.1), .equal = 1, .no_grid = 1, .no_box = 1};
    plot_panel(&a);
    plot_heatmap(d->v, K, K, d->vmax, d->text, K <= 10 ? 0.9 : 0.7);
    if (K > 20)
        return; /* names and accuracies only fit for a few classes */
    for (int k = 0; k < K; k++) {
        plot_text(-0.12, K - k - 0.62, d->name[k], PC_FG, 1.0, 0.85);      /* rows: true */
        if (cf_longest(d) > 3) /* slanted, ending under the column */
            plot_text_dir(k + 0.6, -0.25, 1, 1, d->name[k], PC_FG, 1.0, 0.85);
        else
            plot_text(k + 0.5, -0.45, d->name[k], PC_FG, 0.5, 0.85);
        char acc[24];
        if (d->acc[k] >= 0)
            snprintf(acc, sizeof acc, "%.1f%%", 100 * d->acc[k]);
        else
            snprintf(acc, sizeof acc, "-");
        plot_text(K + 0.15, K - k - 0.62, acc, PC_MUTED, 0.0, 0.85);
    }
    plot_text(K / 2.0, -cf_label_depth(d) + 0.25, TR("predicted class", "추론한 클래스"), PC_FG,
              0.5, 1.0);
    plot_text(K + 0.15, K + 0.25, TR("accuracy", "정확도"), PC_MUTED, 0.0, 0.85);
    plot_text(-cf_label_width(d) + 0.1, K + 0.25, TR("true class", "정답 클래스"), PC_FG, 0.0,
              1.0);
}

static void cf_free(cf_data *d)
{
    free(d->v);
    free(d->cell);
    free(d->text);
    free(d->name);
    free(d->acc);
}

/* counts m [K, K] -> the figure's numbers, names and per-class accuracy */
static bd_status cf_fill(cf_data *d, const long *m, int K, const char *names)
{
    memset(d, 0, sizeof *d);
    d->K = K;
    d->v = calloc((size_t)K * K, sizeof *d->v);
    d->cell = calloc((size_t)K * K, sizeof *d->cell);
    d->text = calloc((size_t)K * K, sizeof *d->text);
    d->name = calloc((size_t)K, sizeof *d->name);
    d->acc = calloc((size_t)K, sizeof *d->acc);
    if (!d->v || !d->cell || !d->text || !d->name || !d->acc)
        return bd_error(BD_ERR_NOMEM, "confusion");
    for (int i = 0; i < K; i++) {
        long row = 0;
        for (int j = 0; j < K; j++) {
            const long c = m[(size_t)i * K + j];
            row += c;
            d->v[(size_t)i * K + j] = (double)c;
            d->vmax = fmax(d->vmax, (double)c);
            snprintf(d->cell[(size_t)i * K + j], sizeof d->cell[0], "%ld", c);
            d->text[(size_t)i * K + j] = K <= 20 ? d->cell[(size_t)i * K + j] : NULL;
        }
        d->acc[i] = row ? (double)m[(size_t)i * K + i] / row : -1.0;
        if (!bd_class_name(names, i, d->name[i], sizeof d->name[i])[0])
            snprintf(d->name[i], sizeof d->name[i], "%d", i);
    }
    if (K > 20) { /* too many classes for text: the cells alone */
        free(d->text);
        d->text = NULL;
    }
    return BD_OK;
}

static bd_status write_csv(fig_ctx *ctx, const cf_data *d, const long *m)
{
    fig_csv c;
    bd_status s = fig_csv_for(ctx, &c, "confusion",
                              "true,true_name,predicted,predicted_name,count");
    if (s != BD_OK)
        return s;
    for (int i = 0; i < d->K; i++)
        for (int j = 0; j < d->K; j++)
            fig_csv_row(&c, "%d,%s,%d,%s,%ld", i, d->name[i], j, d->name[j],
                        m[(size_t)i * d->K + j]);
    return fig_csv_close(&c);
}

/* the matrix, its figure and CSV, for the model in net on ds */
static bd_status make(fig_ctx *ctx, bd_net *net, const bd_model_meta *meta, const char *data,
                      const bd_dataset *ds, int K)
{
    long *m = calloc((size_t)K * K, sizeof *m);
    if (!m)
        return bd_error(BD_ERR_NOMEM, "confusion");
    cf_data d;
    memset(&d, 0, sizeof d);
    bd_status s = bd_confusion(net, ds, m, K);
    if (s == BD_OK)
        s = cf_fill(&d, m, K, meta->classes[0] ? meta->classes : ds->classes);
    if (s == BD_OK)
        s = write_csv(ctx, &d, m);
    if (s == BD_OK) {
        long right = 0;
        int worst = -1;
        for (int k = 0; k < K; k++) {
            right += m[(size_t)k * K + k];
            if (d.acc[k] >= 0 && (worst < 0 || d.acc[k] < d.acc[worst]))
                worst = k;
        }
        snprintf(ctx->note, sizeof ctx->note, "%s on %d samples of %s (%s): accuracy %.4f, "
                 "worst class %s %.4f", base_name(ctx->model), ds->n, data, ds->name,
                 (double)right / ds->n, worst >= 0 ? d.name[worst] : "-",
                 worst >= 0 ? d.acc[worst] : 0.0);
        char title[512];
        snprintf(title, sizeof title,
                 TR("Confusion matrix: %s on %s (%d), accuracy %.2f%%",
                    "혼동 행렬: %s, %s (%d개), 정확도 %.2f%%"),
                 base_name(ctx->model), ds->name, ds->n, 100.0 * right / ds->n);
        const int cell = K <= 10 ? 64 : K <= 20 ? 44 : (900 / K > 6 ? 900 / K : 6);
        const int lw = K <= 20 ? (int)(cf_label_width(&d) * cell) : 0;
        const int ld = K <= 20 ? (int)(cf_label_depth(&d) * cell) : 0;
        const int w = K * cell + lw + (K <= 20 ? 200 : 120), h = K * cell + ld + 150;
        const int tw = 10 * (int)strlen(title) + 80; /* the title at 1.3 x the text size */
        const int pw = w > tw ? w : tw;
        s = fig_draw(ctx, "confusion", pw > 900 ? pw : 900, h, title, draw_confusion, &d);
    }
    cf_free(&d);
    free(m);
    return s;
}

bd_status fig_make_confusion(fig_ctx *ctx)
{
    if (!ctx->model)
        return bd_error(BD_ERR_ARG, "confusion needs --model FILE, a trained classifier");
    bd_net net;
    bd_model_meta meta;
    bd_status s = bd_model_load(&net, ctx->model, &meta);
    if (s != BD_OK)
        return s;
    bd_dataset train, test;
    const char *data = NULL;
    s = load_data(ctx, &net, &meta, &data, &train, &test);
    const bd_dataset *ds = test.n ? &test : &train; /* the test split, if there is one */
    const int K = net.out_size == 1 ? 2 : net.out_size;
    if (s == BD_OK)
        s = check_fit(ctx, &net, data, ds, K);
    /* inputs made as in training: the model's per-channel normalisation */
    if (s == BD_OK && meta.norm_c > 0 && !ds->norm)
        s = bd_dataset_set_norm((bd_dataset *)ds, meta.norm_mean, meta.norm_std);
    if (s == BD_OK)
        s = bd_net_reserve(&net, 100);
    if (s == BD_OK)
        s = make(ctx, &net, &meta, data, ds, K);
    bd_dataset_free(&train);
    bd_dataset_free(&test);
    bd_net_free(&net);
    return s;
}
