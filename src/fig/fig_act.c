/* fig_act.c — activation functions (seed 002) and the distribution of
 * activations through five layers for each weight init (book 6.2.2). */
#include "fig/figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------- activation-histograms */

#define AH_LAYERS 5
#define AH_BINS 30
#define AH_ACTS 3
#define AH_INITS 4

typedef struct ah_data {
    long counts[AH_ACTS][AH_INITS][AH_LAYERS][AH_BINS + 2];
    double lo[AH_ACTS], hi[AH_ACTS];
    long total;
} ah_data;

static const bd_layer_kind AH_ACT[AH_ACTS] = {BD_LAYER_SIGMOID, BD_LAYER_TANH, BD_LAYER_RELU};
static const char *AH_ACT_NAME[AH_ACTS] = {"sigmoid", "tanh", "relu"};
static const bd_init AH_INIT[AH_INITS] = {
    {BD_INIT_STD, 1.0f}, {BD_INIT_STD, 0.01f}, {BD_INIT_XAVIER, 0}, {BD_INIT_HE, 0}};
static const char *AH_INIT_NAME[AH_INITS] = {"std=1", "std=0.01", "xavier", "he"};
static const char *AH_INIT_LABEL[AH_INITS] = {"std 1", "std 0.01", "Xavier", "He"};
static const char *AH_ACT_LABEL[AH_ACTS] = {"sigmoid", "tanh", "ReLU"};

/* a round tick spacing giving 2-4 ticks up to top */
static double tick_for(double top)
{
    double t = pow(10.0, floor(log10(top / 2)));
    return top / t > 10 ? 5 * t : top / t > 4 ? 2 * t : t;
}

static void draw_act_hist(const void *data)
{
    const ah_data *d = data;
    int row = 0;
    for (int a = 0; a < AH_ACTS; a++)
        for (int w = 0; w < AH_INITS; w++, row++) {
            /* one y scale per row; for ReLU the bin of the exact zeros (half
             * of all values) would flatten the rest: it is cut off and its
             * count written on it */
            int first = AH_ACT[a] == BD_LAYER_RELU ? 2 : 1;
            long ymax = 1;
            for (int l = 0; l < AH_LAYERS; l++)
                for (int k = first; k <= AH_BINS; k++)
                    ymax = d->counts[a][w][l][k] > ymax ? d->counts[a][w][l][k] : ymax;
            double lo = d->lo[a], hi = d->hi[a];
            for (int l = 0; l < AH_LAYERS; l++) {
                /* the row's name in its first title; counts on its first panel
                 * (the row shares one scale) */
                char title[96];
                if (l == 0)
                    snprintf(title, sizeof title, TR("%s, %s: layer 1", "%s, %s: 1층"),
                             AH_ACT_LABEL[a], AH_INIT_LABEL[w]);
                else
                    snprintf(title, sizeof title, TR("layer %d", "%d층"), l + 1);
                plot_axes ax = {.nx = AH_LAYERS, .ny = AH_ACTS * AH_INITS, .i = row * AH_LAYERS + l,
                                .xmin = lo, .xmax = hi, .ymin = 0, .ymax = 1.15 * ymax,
                                .xtick = 0.5, .ytick = tick_for(1.15 * ymax), .title = title,
                                .no_yticks = l != 0};
                plot_panel(&ax);
                double edges[AH_BINS + 1], cnt[AH_BINS];
                for (int k = 0; k <= AH_BINS; k++)
                    edges[k] = lo + (hi - lo) * k / AH_BINS;
                for (int k = 0; k < AH_BINS; k++)
                    cnt[k] = fmin((double)d->counts[a][w][l][k + 1], 1.15 * ymax);
                plot_bars(AH_BINS, edges, cnt, PC_BLUE);
                char note[64];
                if (first == 2 && d->counts[a][w][l][1] > ymax) {
                    snprintf(note, sizeof note, "#[0x2190] %ld", d->counts[a][w][l][1]);
                    plot_text(edges[1] + 0.01 * (hi - lo), 1.02 * ymax, note, PC_FG, 0, 0.8);
                }
                long out = d->counts[a][w][l][0] + d->counts[a][w][l][AH_BINS + 1];
                if (out > d->total / 100) { /* above the range: counted, not drawn */
                    snprintf(note, sizeof note, "%.0f%% > %g", 100.0 * out / d->total, hi);
                    plot_text(hi - 0.02 * (hi - lo), 0.95 * ymax, note, PC_RED, 1, 0.8);
                }
            }
        }
}

bd_status fig_make_act_hist(fig_ctx *ctx)
{
    ah_data *d = calloc(1, sizeof *d);
    if (!d)
        return bd_error(BD_ERR_NOMEM, "activation-histograms");
    int N = 1000, D = 100; /* the book's 1000 x 100 input, 100 units a layer */
    d->total = (long)N * D;
    bd_status s = BD_OK;
    for (int a = 0; a < AH_ACTS && s == BD_OK; a++) {
        d->lo[a] = AH_ACT[a] == BD_LAYER_TANH ? -1.0 : 0.0; /* the book's range (0, 1) */
        d->hi[a] = 1.0;
        for (int w = 0; w < AH_INITS && s == BD_OK; w++)
            s = fig_act_hist(AH_ACT[a], AH_INIT[w], N, D, AH_LAYERS, AH_BINS, d->lo[a], d->hi[a],
                             ctx->seed, &d->counts[a][w][0][0]);
    }
    fig_csv c;
    if (s == BD_OK)
        s = fig_csv_for(ctx, &c, "activation-histograms",
                        "activation,init,layer,bin_lo,bin_hi,count");
    if (s == BD_OK) {
        /* bins, plus the values below the range (-inf..lo) and above (hi..inf):
         * each layer's counts add up to N x D */
        for (int a = 0; a < AH_ACTS; a++)
            for (int w = 0; w < AH_INITS; w++)
                for (int l = 0; l < AH_LAYERS; l++) {
                    double lo = d->lo[a], hi = d->hi[a];
                    const long *cn = d->counts[a][w][l];
                    fig_csv_row(&c, "%s,%s,%d,-inf,%g,%ld", AH_ACT_NAME[a], AH_INIT_NAME[w],
                                l + 1, lo, cn[0]);
                    for (int k = 0; k < AH_BINS; k++)
                        fig_csv_row(&c, "%s,%s,%d,%.6g,%.6g,%ld", AH_ACT_NAME[a],
                                    AH_INIT_NAME[w], l + 1, lo + (hi - lo) * k / AH_BINS,
                                    lo + (hi - lo) * (k + 1) / AH_BINS, cn[k + 1]);
                    fig_csv_row(&c, "%s,%s,%d,%g,inf,%ld", AH_ACT_NAME[a], AH_INIT_NAME[w],
                                l + 1, hi, cn[AH_BINS + 1]);
                }
        s = fig_csv_close(&c);
    }
    if (s == BD_OK)
        s = fig_draw(ctx, "activation-histograms", 1400, 2200,
                     TR("Activations of 5 layers of 100 units, 1000 inputs: count per bin; "
                        "\"> 1\": share above the range, not drawn",
                        "100개 뉴런 5층, 입력 1000 x 100: 층마다 100,000개 값의 구간별 도수 "
                        "(> 1: 범위를 넘어 그리지 않은 값)"),
                     draw_act_hist, d);
    free(d);
    return s;
}

/* ------------------------------------------------------- activations */

#define AC_N 401
#define AC_K 5
typedef struct ac_data {
    float x[AC_N], y[AC_K][AC_N], dy[AC_K][AC_N];
} ac_data;

static const bd_layer_kind AC_KIND[AC_K] = {BD_LAYER_SIGMOID, BD_LAYER_TANH, BD_LAYER_RELU,
                                            BD_LAYER_LEAKY_RELU, BD_LAYER_ELU};
/* Leaky ReLU's slope 0.1 (not the default 0.01) so that it can be told from
 * ReLU in the picture; ELU's alpha 1 */
static const float AC_P0[AC_K] = {0, 0, 0, 0.1f, 1.0f};
static const char *AC_NAME[AC_K] = {"sigmoid", "tanh", "relu", "leaky_relu:0.1", "elu:1"};
static const char *AC_LABEL[AC_K] = {"sigmoid", "tanh", "ReLU", "Leaky ReLU (0.1)",
                                     "ELU (#ga = 1)"};

static void draw_activations(const void *data)
{
    const ac_data *d = data;
    int colors[AC_K], styles[AC_K];
    for (int k = 0; k < AC_K; k++) {
        colors[k] = plot_cycle(k);
        styles[k] = PLOT_SOLID;
    }
    for (int p = 0; p < 2; p++) {
        plot_axes a = {.nx = 2, .ny = 1, .i = p, .xmin = -4, .xmax = 4,
                       .ymin = p ? -0.1 : -1.5, .ymax = p ? 1.2 : 3,
                       .title = p ? TR("derivatives dy/dx (backward of 1)", "도함수 dy/dx (1의 역전파)")
                                 : TR("functions y = h(x)", "함수 y = h(x)"),
                       .xlabel = "x", .ylabel = p ? "dy/dx" : "y"};
        plot_panel(&a);
        plot_segment(-4, 0, 4, 0, PC_MUTED, PLOT_SOLID, 1);
        plot_segment(0, a.ymin, 0, a.ymax, PC_MUTED, PLOT_SOLID, 1);
        for (int k = 0; k < AC_K; k++) {
            double x[AC_N], y[AC_N];
            for (int i = 0; i < AC_N; i++) {
                x[i] = d->x[i];
                y[i] = p ? d->dy[k][i] : d->y[k][i];
            }
            plot_line(AC_N, x, y, colors[k], styles[k], k == 2 ? 3 : 2);
        }
        plot_legend(AC_K, AC_LABEL, colors, styles, NULL, "tl");
    }
}

bd_status fig_make_activations(fig_ctx *ctx)
{
    ac_data *d = calloc(1, sizeof *d);
    if (!d)
        return bd_error(BD_ERR_NOMEM, "activations");
    for (int i = 0; i < AC_N; i++)
        d->x[i] = -4.0f + 8.0f * i / (AC_N - 1);
    bd_status s = BD_OK;
    for (int k = 0; k < AC_K && s == BD_OK; k++)
        s = fig_act_curve(AC_KIND[k], AC_P0[k], d->x, AC_N, d->y[k], d->dy[k]);
    fig_csv c;
    if (s == BD_OK)
        s = fig_csv_for(ctx, &c, "activations", "activation,x,y,dy");
    if (s == BD_OK) {
        for (int k = 0; k < AC_K; k++)
            for (int i = 0; i < AC_N; i++)
                fig_csv_row(&c, "%s,%g,%.9g,%.9g", AC_NAME[k], (double)d->x[i],
                            (double)d->y[k][i], (double)d->dy[k][i]);
        s = fig_csv_close(&c);
    }
    if (s == BD_OK)
        s = fig_draw(ctx, "activations", 1300, 560,
                     TR("Activation functions and their derivatives, from badak's kernels",
                        "활성화 함수와 도함수 (badak의 커널로 계산)"),
                     draw_activations, d);
    free(d);
    return s;
}
