/* fig_mnist.c — the figures that train on MNIST (book 6.1.8, 6.2.4, 6.3.2,
 * 6.4, 6.5.3) and the learning curve of any `badak train --log` run. Each
 * run goes through fig_train_run, i.e. the library's bd_train. */
#include "fig/figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -------------------------------------------------- shared pieces */

/* the book's MultiLayerNet: mlp with n hidden layers of 100 */
static void mlp_spec(bd_net_spec *s, int n, bd_init init)
{
    bd_net_spec_default(s);
    snprintf(s->model, sizeof s->model, "mlp");
    s->nhidden = n;
    for (int i = 0; i < n; i++)
        s->hidden[i] = 100;
    s->act = BD_LAYER_RELU;
    s->init = init;
    s->init_set = 1;
}

/* the first n samples of a data set, as a view (no copy; not freed) */
static bd_dataset head(const bd_dataset *ds, int n)
{
    bd_dataset h = *ds;
    if (n < ds->n) {
        h.n = n;
        h.x.shape[0] = n;
        h.x.size = (size_t)n * (ds->x.size / (size_t)ds->n);
        h.y.shape[0] = n;
        h.y.size = (size_t)n;
    }
    h.x.owner = h.y.owner = 0;
    return h;
}

#define MAXRUNS 6
typedef struct loss_data {
    int n;
    const char *label[MAXRUNS];
    float *smooth[MAXRUNS];
    long iters[MAXRUNS];
    double ymax;
    const char *title;
} loss_data;

static const char *const MARKS[6] = {"o", "s", "^", "x", "*", "+"};

static void draw_losses(const void *data)
{
    const loss_data *d = data;
    long n = 1;
    for (int r = 0; r < d->n; r++)
        n = d->iters[r] > n ? d->iters[r] : n;
    plot_axes a = {.nx = 1, .ny = 1, .i = 0, .xmin = 0, .xmax = (double)n, .ymin = 0,
                   .ymax = d->ymax, .title = d->title, .xlabel = TR("iterations", "반복 횟수"),
                   .ylabel = TR("training loss (smoothed)", "훈련 손실 (평활화)")};
    plot_panel(&a);
    int colors[MAXRUNS], styles[MAXRUNS];
    for (int r = 0; r < d->n; r++) {
        colors[r] = plot_cycle(r);
        styles[r] = PLOT_SOLID;
        double *x = malloc(sizeof(double) * (size_t)d->iters[r] * 2);
        if (!x)
            continue;
        double *y = x + d->iters[r];
        for (long i = 0; i < d->iters[r]; i++) {
            x[i] = (double)i;
            y[i] = fmin(d->smooth[r][i], d->ymax); /* diverged runs stay in the frame */
        }
        plot_line((int)d->iters[r], x, y, colors[r], styles[r], 2);
        /* a marker every n/10 iterations, shifted per curve, so curves that
         * overlap can be told apart without their colours */
        long step = n / 10 > 1 ? n / 10 : 1;
        int m = 0;
        for (long i = step * (r + 1) / (d->n + 1); i < d->iters[r]; i += step, m++) {
            x[m] = x[i];
            y[m] = y[i];
        }
        plot_points(m, x, y, colors[r], MARKS[r % 6], 0.75);
        free(x);
    }
    plot_legend(d->n, d->label, colors, styles, MARKS, "tr");
}

/* Train one mlp per (optimizer, init) pair on the same mini-batches and
 * write name,iter,loss,smoothed rows and the loss plot. */
static bd_status loss_figure(fig_ctx *ctx, const char *name, const char *col, int n,
                             const char *const *optims, const bd_optim_config *ocs,
                             const bd_init *inits, const char *const *labels,
                             const char *const *keys, double ymax, const char *title,
                             const char *page_title)
{
    bd_status s = fig_mnist(ctx);
    if (s != BD_OK)
        return s;
    bd_train_config tc;
    bd_train_config_default(&tc);
    tc.batch = 128;
    tc.iters = ctx->quick ? 150 : 2000;
    tc.sampling = BD_SAMPLE_REPLACE; /* the book's np.random.choice */
    tc.seed = ctx->seed;             /* the same batches for every run */
    tc.eval_train = 0;
    fig_run runs[MAXRUNS];
    loss_data d = {.n = n, .ymax = ymax, .title = title};
    int done = 0;
    for (int r = 0; r < n && s == BD_OK; r++) {
        bd_net_spec spec;
        mlp_spec(&spec, 4, inits[r]);
        s = fig_train_run(&spec, optims[r], &ocs[r], &ctx->train, NULL, &tc, ctx->seed,
                          &runs[r]);
        if (s != BD_OK)
            break;
        done++;
        d.label[r] = labels[r];
        d.iters[r] = runs[r].iters;
        d.smooth[r] = malloc(sizeof(float) * (size_t)(runs[r].iters > 0 ? runs[r].iters : 1));
        if (!d.smooth[r]) {
            s = bd_error(BD_ERR_NOMEM, "%s: smoothing", name);
            break;
        }
        fig_smooth(runs[r].loss, (int)runs[r].iters, d.smooth[r]);
    }
    fig_csv c;
    char header[64];
    snprintf(header, sizeof header, "%s,iter,loss,smoothed", col);
    if (s == BD_OK)
        s = fig_csv_for(ctx, &c, name, header);
    if (s == BD_OK) {
        for (int r = 0; r < n; r++)
            for (long i = 0; i < runs[r].iters; i++)
                fig_csv_row(&c, "%s,%ld,%.6g,%.6g", keys[r], i + 1, (double)runs[r].loss[i],
                            (double)d.smooth[r][i]);
        s = fig_csv_close(&c);
    }
    if (s == BD_OK) {
        snprintf(ctx->note, sizeof ctx->note,
                 "mlp 784-100x4-10 ReLU, batch 128, %ld iterations, same mini-batches, seed %llu",
                 tc.iters, (unsigned long long)ctx->seed);
        s = fig_draw(ctx, name, 1000, 680, page_title, draw_losses, &d);
    }
    for (int r = 0; r < done; r++) {
        fig_run_free(&runs[r]);
        free(d.smooth[r]);
    }
    return s;
}

/* -------------------------------------------------- optimizers-mnist */

bd_status fig_make_optim_mnist(fig_ctx *ctx)
{
    /* every optimizer at its default rate (the book's optimizer_compare_mnist:
     * SGD 0.01, Momentum 0.01, AdaGrad 0.01, Adam 0.001; plus RMSProp 0.01
     * and Nesterov 0.01); He init as the book's MultiLayerNet with ReLU */
    static const char *const names[6] = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                         "adam"};
    static const char *const labels[6] = {"SGD (lr 0.01)", "Momentum (0.01)", "Nesterov (0.01)",
                                          "AdaGrad (0.01)", "RMSProp (0.01)", "Adam (0.001)"};
    bd_optim_config oc[6];
    memset(oc, 0, sizeof oc);
    oc[0].lr = 0.01f; /* badak train's SGD default is the chapter-5 0.1; the book's SGD() is 0.01 */
    bd_init he[6];
    for (int i = 0; i < 6; i++)
        he[i] = (bd_init){BD_INIT_HE, 0};
    return loss_figure(ctx, "optimizers-mnist", "optimizer", 6, names, oc, he, labels, names,
                       1.0, TR("mlp 100x4, ReLU, He init, batch 128",
                               "mlp 100x4, ReLU, He 초깃값, 배치 128"),
                       TR("Optimizers on MNIST: training loss on the same mini-batches",
                          "MNIST에서 매개변수 갱신 기법 비교: 같은 미니배치의 훈련 손실"));
}

/* ------------------------------------------------- weight-init-mnist */

bd_status fig_make_init_mnist(fig_ctx *ctx)
{
    static const char *const sgd[3] = {"sgd", "sgd", "sgd"};
    const char *const labels[3] = {TR("std = 0.01", "표준편차 0.01"), "Xavier", "He"};
    static const char *const keys[3] = {"std=0.01", "xavier", "he"};
    bd_optim_config oc[3];
    memset(oc, 0, sizeof oc);
    for (int i = 0; i < 3; i++)
        oc[i].lr = 0.01f;
    const bd_init inits[3] = {{BD_INIT_STD, 0.01f}, {BD_INIT_XAVIER, 0}, {BD_INIT_HE, 0}};
    return loss_figure(ctx, "weight-init-mnist", "init", 3, sgd, oc, inits, labels, keys, 2.5,
                       TR("mlp 100x4, ReLU, SGD lr 0.01, batch 128",
                          "mlp 100x4, ReLU, SGD 학습률 0.01, 배치 128"),
                       TR("Weight initialisation on MNIST: training loss",
                          "MNIST에서 가중치 초깃값 비교: 훈련 손실"));
}

/* --------------------------------------------------- batchnorm-mnist */

#define BN_N 16
typedef struct bn_data {
    float std[BN_N];
    int epochs;
    float *acc[BN_N][2]; /* [std][0 without, 1 with BatchNorm] -> [epochs] */
    int ran[BN_N][2];    /* epochs finished (fewer when the loss stopped being finite) */
} bn_data;

static void draw_bn(const void *data)
{
    const bn_data *d = data;
    double x[1024], y[1024];
    for (int k = 0; k < BN_N; k++) {
        char title[48];
        snprintf(title, sizeof title, "W: %.3g", (double)d->std[k]);
        plot_axes a = {.nx = 4, .ny = 4, .i = k, .xmin = 0, .xmax = d->epochs, .ymin = 0,
                       .ymax = 1, .ytick = 0.2, .title = title,
                       .xlabel = k >= 12 ? TR("epochs", "에폭") : "",
                       .ylabel = k % 4 == 0 ? TR("accuracy", "정확도") : "",
                       .no_yticks = k % 4 != 0,
                       .no_xticks = k < 12};
        plot_panel(&a);
        for (int b = 0; b < 2; b++) {
            /* the book plots from epoch 0; the accuracy before training is not
             * measured here, so the curves start at epoch 1 */
            int n = d->ran[k][b] < 1023 ? d->ran[k][b] : 1023;
            if (n < d->epochs) { /* short: it must fit a small panel */
                char msg[64];
                snprintf(msg, sizeof msg, TR("%s: diverged (epoch %d)", "%s: 발산 (에폭 %d)"),
                         b ? "BN" : TR("no BN", "BN 없음"), n + 1);
                plot_text(0.03 * d->epochs, b ? 0.66 : 0.56, msg, b ? PC_BLUE : PC_ORANGE, 0,
                          0.72);
            }
            for (int e = 0; e < n; e++) {
                x[e] = e + 1;
                y[e] = d->acc[k][b][e];
            }
            plot_line(n, x, y, b ? PC_BLUE : PC_ORANGE, b ? PLOT_SOLID : PLOT_DASHED, 2);
        }
        if (k == 0) { /* top right: the first panel's curves stay below it */
            const char *labs[2] = {TR("BatchNorm", "배치 정규화"), TR("without", "쓰지 않음")};
            const int lc[2] = {PC_BLUE, PC_ORANGE}, ls[2] = {PLOT_SOLID, PLOT_DASHED};
            plot_legend(2, labs, lc, ls, NULL, "tr");
        }
    }
}

bd_status fig_make_bn_mnist(fig_ctx *ctx)
{
    bd_status s = fig_mnist(ctx);
    if (s != BD_OK)
        return s;
    bn_data d;
    memset(&d, 0, sizeof d);
    d.epochs = ctx->quick ? 3 : 20;
    bd_dataset train = head(&ctx->train, 1000);
    bd_train_config tc;
    bd_train_config_default(&tc);
    tc.batch = 100;
    tc.epochs = d.epochs;
    tc.seed = ctx->seed;
    tc.eval_train = 1;
    for (int k = 0; k < BN_N && s == BD_OK; k++) {
        d.std[k] = (float)pow(10.0, -4.0 * k / (BN_N - 1)); /* np.logspace(0, -4, 16) */
        for (int b = 0; b < 2 && s == BD_OK; b++) {
            bd_net_spec spec;
            mlp_spec(&spec, 5, (bd_init){BD_INIT_STD, d.std[k]});
            spec.batchnorm = b;
            fig_run run;
            s = fig_train_run(&spec, "sgd", &(bd_optim_config){.lr = 0.01f}, &train, NULL, &tc,
                              ctx->seed, &run);
            if (s != BD_OK)
                break;
            d.acc[k][b] = calloc((size_t)d.epochs, sizeof(float));
            d.ran[k][b] = run.epochs < d.epochs ? run.epochs : d.epochs;
            if (d.acc[k][b])
                for (int e = 0; e < run.epochs && e < d.epochs; e++)
                    d.acc[k][b][e] = run.train_acc[e];
            fig_run_free(&run);
            if (!d.acc[k][b])
                s = bd_error(BD_ERR_NOMEM, "batchnorm-mnist");
        }
    }
    fig_csv c;
    if (s == BD_OK)
        s = fig_csv_for(ctx, &c, "batchnorm-mnist", "std,batchnorm,epoch,train_acc");
    if (s == BD_OK) {
        for (int k = 0; k < BN_N; k++)
            for (int b = 0; b < 2; b++)
                for (int e = 0; e < d.ran[k][b]; e++) /* a diverged run stops early */
                    fig_csv_row(&c, "%.6g,%d,%d,%.6g", (double)d.std[k], b, e + 1,
                                (double)d.acc[k][b][e]);
        s = fig_csv_close(&c);
    }
    if (s == BD_OK) {
        snprintf(ctx->note, sizeof ctx->note,
                 "first 1000 training samples, mlp 100x5 ReLU, SGD lr 0.01, batch 100, %d "
                 "epochs, 16 weight stds", d.epochs);
        s = fig_draw(ctx, "batchnorm-mnist", 1200, 1050,
                     TR("Training accuracy with (solid) and without (dashed) BatchNorm for "
                        "weight stds from 1 to 1e-4",
                        "배치 정규화를 쓸 때(실선)와 쓰지 않을 때(점선)의 훈련 정확도, 가중치 "
                        "표준편차 1~1e-4"),
                     draw_bn, &d);
    }
    for (int k = 0; k < BN_N; k++)
        for (int b = 0; b < 2; b++)
            free(d.acc[k][b]);
    return s;
}

/* ------------------------------------------------------- overfitting */

typedef struct of_data {
    int epochs;
    float *train[3], *test[3];
} of_data;

static const char *OF_LABEL[2][3] = {
    {"no regularisation", "weight decay #gl = 0.1", "dropout 0.2"},
    {"정규화 없음", "가중치 감소 #gl = 0.1", "드롭아웃 0.2"}};
static const char *OF_KEY[3] = {"none", "weight_decay=0.1", "dropout=0.2"};

static void draw_overfit(const void *data)
{
    const of_data *d = data;
    double *x = malloc(sizeof(double) * (size_t)d->epochs * 2);
    if (!x)
        return;
    double *y = x + d->epochs;
    for (int p = 0; p < 3; p++) {
        plot_axes a = {.nx = 3, .ny = 1, .i = p, .xmin = 0, .xmax = d->epochs, .ymin = 0,
                       .ymax = 1, .title = OF_LABEL[fig_ko][p], .xlabel = TR("epochs", "에폭"),
                       .ylabel = p == 0 ? TR("accuracy", "정확도") : "", .no_yticks = p != 0};
        plot_panel(&a);
        for (int e = 0; e < d->epochs; e++) {
            x[e] = e + 1;
            y[e] = d->train[p][e];
        }
        plot_line(d->epochs, x, y, PC_BLUE, PLOT_SOLID, 2);
        for (int e = 0; e < d->epochs; e++)
            y[e] = d->test[p][e];
        plot_line(d->epochs, x, y, PC_ORANGE, PLOT_DASHED, 2);
        const char *labs[2] = {TR("train", "훈련"), TR("test", "시험")};
        const int lc[2] = {PC_BLUE, PC_ORANGE}, ls[2] = {PLOT_SOLID, PLOT_DASHED};
        plot_legend(2, labs, lc, ls, NULL, "br");
    }
    free(x);
}

bd_status fig_make_overfit(fig_ctx *ctx)
{
    bd_status s = fig_mnist(ctx);
    if (s != BD_OK)
        return s;
    of_data d;
    memset(&d, 0, sizeof d);
    d.epochs = ctx->quick ? 5 : 200;
    bd_dataset train = head(&ctx->train, 300);
    /* quick: the first 1000 test samples; full: all 10000 */
    bd_dataset test = head(&ctx->test, ctx->quick ? 1000 : ctx->test.n);
    bd_train_config tc;
    bd_train_config_default(&tc);
    tc.batch = 100;
    tc.epochs = d.epochs;
    tc.seed = ctx->seed;
    tc.eval_train = 1;
    for (int p = 0; p < 3 && s == BD_OK; p++) {
        bd_net_spec spec;
        mlp_spec(&spec, 6, (bd_init){BD_INIT_HE, 0});
        if (p == 1)
            spec.weight_decay = 0.1f;
        if (p == 2)
            spec.dropout = 0.2f;
        fig_run run;
        s = fig_train_run(&spec, "sgd", &(bd_optim_config){.lr = 0.01f}, &train, &test, &tc,
                          ctx->seed, &run);
        if (s != BD_OK)
            break;
        d.train[p] = calloc((size_t)d.epochs * 2, sizeof(float));
        if (d.train[p]) {
            d.test[p] = d.train[p] + d.epochs;
            for (int e = 0; e < run.epochs && e < d.epochs; e++) {
                d.train[p][e] = run.train_acc[e];
                d.test[p][e] = run.test_acc[e];
            }
        } else {
            s = bd_error(BD_ERR_NOMEM, "overfitting");
        }
        fig_run_free(&run);
    }
    fig_csv c;
    if (s == BD_OK)
        s = fig_csv_for(ctx, &c, "overfitting", "setting,epoch,train_acc,test_acc");
    if (s == BD_OK) {
        for (int p = 0; p < 3; p++)
            for (int e = 0; e < d.epochs; e++)
                fig_csv_row(&c, "%s,%d,%.6g,%.6g", OF_KEY[p], e + 1, (double)d.train[p][e],
                            (double)d.test[p][e]);
        s = fig_csv_close(&c);
    }
    if (s == BD_OK) {
        snprintf(ctx->note, sizeof ctx->note,
                 "first 300 training samples, mlp 100x6 ReLU He, SGD lr 0.01, batch 100, %d "
                 "epochs, test on %d samples", d.epochs, test.n);
        s = fig_draw(ctx, "overfitting", 1400, 520,
                     TR("Overfitting on 300 samples and two cures: train vs test accuracy",
                        "훈련 데이터 300개의 오버피팅과 두 가지 대책: 훈련 정확도와 시험 정확도"),
                     draw_overfit, &d);
    }
    for (int p = 0; p < 3; p++)
        free(d.train[p]);
    return s;
}

/* ---------------------------------------------------------- hpsearch */

/* 0.0043 or 1.7e-5: short enough for a panel title */
static const char *sci(float v, char *buf)
{
    if (v >= 1e-3f || v == 0) {
        snprintf(buf, 24, "%.2g", (double)v);
        return buf;
    }
    int e = (int)floor(log10((double)v));
    snprintf(buf, 24, "%.1fe%d", v / pow(10.0, e), e);
    return buf;
}

static void draw_hp(const void *data)
{
    const bd_hpsearch_result *r = data;
    int n = r->ntrials < 20 ? r->ntrials : 20;
    double x[1024], y[1024];
    for (int k = 0; k < n; k++) {
        const bd_hp_trial *t = &r->trials[k];
        char title[96], lr[24], wd[24];
        snprintf(title, sizeof title, "%d: lr %s, wd %s", k + 1, sci(t->lr, lr), /* both languages */
                 sci(t->weight_decay, wd));
        plot_axes a = {.nx = 5, .ny = 4, .i = k, .xmin = 0, .xmax = r->epochs, .ymin = 0,
                       .ymax = 1, .ytick = 0.2, .title = title,
                       .xlabel = k >= 15 ? TR("epochs", "에폭") : "",
                       .ylabel = k % 5 == 0 ? TR("accuracy", "정확도") : "",
                       .no_yticks = k % 5 != 0, .no_xticks = k < 15, .title_size = 0.85};
        plot_panel(&a);
        int m = t->epochs < 1024 ? t->epochs : 1024;
        for (int e = 0; e < m; e++) {
            x[e] = e + 1;
            y[e] = t->val_curve[e];
        }
        plot_line(m, x, y, PC_BLUE, PLOT_SOLID, 2);
        for (int e = 0; e < m; e++)
            y[e] = t->train_curve[e];
        plot_line(m, x, y, PC_ORANGE, PLOT_DASHED, 2);
        if (k == 0) {
            const char *labs[2] = {TR("validation", "검증"), TR("train", "훈련")};
            const int lc[2] = {PC_BLUE, PC_ORANGE}, ls[2] = {PLOT_SOLID, PLOT_DASHED};
            plot_legend(2, labs, lc, ls, NULL, "br");
        }
    }
}

bd_status fig_make_hpsearch(fig_ctx *ctx)
{
    bd_status s = fig_mnist(ctx);
    if (s != BD_OK)
        return s;
    bd_dataset data = head(&ctx->train, 500); /* the book's 500 samples */
    bd_net_spec spec;
    mlp_spec(&spec, 6, (bd_init){BD_INIT_HE, 0});
    bd_hpsearch_config hc;
    bd_hpsearch_config_default(&hc);
    hc.seed = ctx->seed;
    if (ctx->quick) {
        hc.trials = 20;
        hc.epochs = 3;
    }
    bd_hpsearch_result r;
    s = bd_hpsearch(&spec, &data, &hc, &r);
    if (s != BD_OK)
        return s;
    fig_csv c;
    s = fig_csv_for(ctx, &c, "hpsearch", "rank,trial,lr,weight_decay,epoch,train_acc,val_acc");
    if (s == BD_OK) {
        for (int k = 0; k < r.ntrials; k++) {
            const bd_hp_trial *t = &r.trials[k];
            for (int e = 0; e < t->epochs; e++)
                fig_csv_row(&c, "%d,%d,%.6g,%.6g,%d,%.6g,%.6g", k + 1, t->index,
                            (double)t->lr, (double)t->weight_decay, e + 1,
                            (double)t->train_curve[e], (double)t->val_curve[e]);
        }
        s = fig_csv_close(&c);
    }
    if (s == BD_OK) {
        snprintf(ctx->note, sizeof ctx->note,
                 "%d trials x %d epochs, mlp 100x6, %d training / %d validation samples; "
                 "best: val acc %.2f, lr %.3g, weight decay %.3g", r.ntrials, r.epochs, r.ntrain,
                 r.nval, (double)r.trials[0].val_acc, (double)r.trials[0].lr,
                 (double)r.trials[0].weight_decay);
        s = fig_draw(ctx, "hpsearch", 1500, 1000,
                     TR("Random search of the learning rate (lr) and weight decay (wd): the best "
                        "20 trials (validation solid, training dashed)",
                        "학습률(lr)과 가중치 감소 계수(wd)의 무작위 탐색: 상위 20개 시행 "
                        "(검증 실선, 훈련 점선)"),
                     draw_hp, &r);
    }
    bd_hpsearch_free(&r);
    return s;
}

/* ---------------------------------------------------- learning-curve */

typedef struct lc_data {
    const fig_run *run;
    float *smooth;
    char title[160];
} lc_data;

static void draw_curve(const void *data)
{
    const lc_data *d = data;
    const fig_run *r = d->run;
    double lmax = 0;
    for (long i = 0; i < r->iters; i++)
        lmax = fmax(lmax, r->loss[i]);
    plot_axes a = {.nx = 2, .ny = 1, .i = 0, .xmin = 0, .xmax = r->iters > 1 ? r->iters : 1,
                   .ymin = 0, .ymax = lmax > 0 ? 1.05 * lmax : 1, .title = TR("loss per iteration", "반복마다의 손실"),
                   .xlabel = TR("iterations", "반복 횟수"), .ylabel = TR("loss", "손실")};
    plot_panel(&a);
    double *x = malloc(sizeof(double) * (size_t)(r->iters + r->epochs + 2) * 2);
    if (!x)
        return;
    double *y = x + r->iters + r->epochs + 2;
    for (long i = 0; i < r->iters; i++) {
        x[i] = i + 1;
        y[i] = r->loss[i];
    }
    plot_line((int)r->iters, x, y, PC_GRID, PLOT_SOLID, 1);
    for (long i = 0; i < r->iters; i++)
        y[i] = d->smooth[i];
    plot_line((int)r->iters, x, y, PC_BLUE, PLOT_SOLID, 2);
    const char *ll[2] = {TR("loss", "손실"), TR("smoothed", "평활화")};
    const int lc[2] = {PC_GRID, PC_BLUE}, ls[2] = {PLOT_SOLID, PLOT_SOLID};
    plot_legend(2, ll, lc, ls, NULL, "tr");

    double lo = 1;
    for (int e = 0; e < r->epochs; e++) {
        if (r->train_acc[e] >= 0)
            lo = fmin(lo, r->train_acc[e]);
        if (r->test_acc[e] >= 0)
            lo = fmin(lo, r->test_acc[e]);
    }
    lo = floor(lo * 10 - 0.5) / 10;
    plot_axes b = {.nx = 2, .ny = 1, .i = 1, .xmin = 0, .xmax = r->epochs + 1,
                   .ymin = lo < 0 ? 0 : lo, .ymax = 1.0, .title = TR("accuracy per epoch", "에폭마다의 정확도"),
                   .xlabel = TR("epochs", "에폭"), .ylabel = TR("accuracy", "정확도")};
    plot_panel(&b);
    const char *names[2] = {TR("train", "훈련"), TR("test", "시험")};
    const int cols[2] = {PC_BLUE, PC_ORANGE}, sty[2] = {PLOT_SOLID, PLOT_DASHED};
    const char *mk[2] = {"o", "s"};
    int shown = 0, col[2], st[2];
    const char *lab[2], *mks[2];
    for (int k = 0; k < 2; k++) {
        const float *acc = k ? r->test_acc : r->train_acc;
        int n = 0;
        for (int e = 0; e < r->epochs; e++)
            if (acc[e] >= 0) {
                x[n] = e + 1;
                y[n++] = acc[e];
            }
        if (!n)
            continue;
        plot_line(n, x, y, cols[k], sty[k], 2);
        plot_points(n, x, y, cols[k], mk[k], 0.6);
        lab[shown] = names[k];
        col[shown] = cols[k];
        st[shown] = sty[k];
        mks[shown] = mk[k];
        shown++;
    }
    if (shown)
        plot_legend(shown, lab, col, st, mks, "br");
    free(x);
}

bd_status fig_make_curve(fig_ctx *ctx)
{
    fig_run run;
    bd_status s;
    lc_data d;
    memset(&d, 0, sizeof d);
    if (ctx->log) {
        s = fig_read_log(ctx->log, &run);
        snprintf(d.title, sizeof d.title, TR("Learning curve of %s", "%s의 학습 곡선"), ctx->log);
    } else {
        /* no log given: the book's chapter-5 run (badak train's default) */
        s = fig_mnist(ctx);
        if (s != BD_OK)
            return s;
        bd_net_spec spec;
        bd_net_spec_default(&spec);
        snprintf(spec.model, sizeof spec.model, "two_layer");
        spec.nhidden = 1;
        spec.hidden[0] = 50;
        bd_train_config tc;
        bd_train_config_default(&tc);
        tc.batch = 100;
        tc.iters = ctx->quick ? 1200 : 10000;
        tc.seed = ctx->seed;
        /* quick: a 10000-sample subset so each epoch's evaluation is short */
        bd_dataset train = head(&ctx->train, ctx->quick ? 10000 : ctx->train.n);
        bd_dataset test = head(&ctx->test, ctx->quick ? 2000 : ctx->test.n);
        s = fig_train_run(&spec, "sgd", &(bd_optim_config){.lr = 0.1f}, &train, &test, &tc,
                          ctx->seed, &run);
        snprintf(d.title, sizeof d.title,
                 TR("Learning curve: two_layer 784-50-10, SGD lr 0.1, batch 100, %ld iterations",
                    "학습 곡선: two_layer 784-50-10, SGD 학습률 0.1, 배치 100, %ld번 반복"),
                 tc.iters);
        if (s == BD_OK)
            snprintf(ctx->note, sizeof ctx->note,
                     "no --log given: trained two_layer 784-50-10 (%d training samples), final "
                     "test accuracy %.4f", train.n, (double)run.test_acc[run.epochs - 1]);
    }
    if (s != BD_OK)
        return s;
    d.run = &run;
    d.smooth = malloc(sizeof(float) * (size_t)(run.iters > 0 ? run.iters : 1));
    if (!d.smooth) {
        fig_run_free(&run);
        return bd_error(BD_ERR_NOMEM, "learning-curve");
    }
    fig_smooth(run.loss, (int)run.iters, d.smooth);
    fig_csv c;
    s = fig_csv_for(ctx, &c, "learning-curve", "kind,index,loss,train_acc,test_acc");
    if (s == BD_OK) {
        for (long i = 0; i < run.iters; i++)
            fig_csv_row(&c, "iter,%ld,%.6g,,", i + 1, (double)run.loss[i]);
        for (int e = 0; e < run.epochs; e++)
            fig_csv_row(&c, "epoch,%d,,%.6g,%.6g", e + 1, (double)run.train_acc[e],
                        (double)run.test_acc[e]);
        s = fig_csv_close(&c);
    }
    if (s == BD_OK)
        s = fig_draw(ctx, "learning-curve", 1300, 560, d.title, draw_curve, &d);
    free(d.smooth);
    fig_run_free(&run);
    return s;
}
