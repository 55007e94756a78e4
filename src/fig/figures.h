/* figures.h — the table of `badak figure` figures and what they share: the
 * output folder and options, the MNIST data loaded once, and drawing a page
 * to PNG (and SVG with --svg) next to the figure's CSV. */
#ifndef BADAK_FIGURES_H
#define BADAK_FIGURES_H

#include "fig/fig.h"
#include "plot/plot.h"

typedef struct fig_ctx {
    const char *outdir;   /* where NAME.png and NAME.csv go */
    int quick;            /* fewer iterations: seconds, for tests */
    int svg;              /* also NAME.svg */
    uint64_t seed;        /* seed of every random draw (default 1) */
    const char *log;      /* learning-curve: a `badak train --log` CSV (NULL: train one) */
    const char *data;     /* MNIST-style data set for figures 7-12 */
    int data_given;       /* 1: --data was given (else a model's own data set) */
    char data_buf[256];   /* that data set's name, kept here */
    const char *model;    /* --model: a trained model (filters, feature-maps, ...) */
    const char *before;   /* filters: the model before training (NULL: re-drawn) */
    const char *image;    /* feature-maps: the image (NULL: the first test digit) */
    const char *augment;  /* augment: the --augment spec (NULL: shift,rotate) */
    const char *layer_log;/* layers: a `badak train --log-layers` CSV (NULL: train one) */
    /* confusion: loads --data (or the model's data set) as badak train does,
     * images at net's input size, a CSV's test split from seed; set by the
     * command (NULL: an MNIST-style folder) */
    bd_status (*load_data)(const char *data, const bd_net *net, uint64_t seed, bd_dataset *train,
                           bd_dataset *test);
    int mnist_loaded;
    bd_dataset train, test;
    /* what the last figure wrote and did, for the command to print */
    char files[4][4200];
    int nfiles;
    char note[512];
} fig_ctx;

/* what a figure needs besides its options */
enum { FIG_MNIST = 1, FIG_MODEL = 2 };

typedef struct fig_def {
    const char *name;
    const char *desc;
    int needs;            /* FIG_MNIST: the MNIST data; FIG_MODEL: --model */
    bd_status (*make)(fig_ctx *ctx);
} fig_def;

/* 1: titles, axes and legends in Korean (--lang ko). PLplot is one global
 * state anyway; the figures are drawn one at a time. */
extern int fig_ko;
/* the text of a label in the figure's language */
#define TR(en, ko) (fig_ko ? (ko) : (en))

/* every figure, in the notes' order; *n gets the count */
const fig_def *fig_table(int *n);
const fig_def *fig_find(const char *name);

/* Load ctx->data (once) into ctx->train / ctx->test. */
bd_status fig_mnist(fig_ctx *ctx);
void fig_ctx_free(fig_ctx *ctx);

/* OUTDIR/NAME.EXT into path, recorded in ctx->files. */
bd_status fig_file(fig_ctx *ctx, const char *name, const char *ext, char *path, size_t len);
/* Draw a page of w x h pixels titled `title` with draw(data), to NAME.png
 * and, with --svg, NAME.svg. */
typedef void (*fig_draw_fn)(const void *data);
bd_status fig_draw(fig_ctx *ctx, const char *name, int w, int h, const char *title,
                   fig_draw_fn draw, const void *data);
/* Open OUTDIR/NAME.csv with its header. */
bd_status fig_csv_for(fig_ctx *ctx, fig_csv *c, const char *name, const char *header);

/* the figures (fig_toy.c, fig_act.c, fig_mnist.c, fig_curve.c) */
bd_status fig_make_gd1d(fig_ctx *ctx);
bd_status fig_make_numdiff(fig_ctx *ctx);
bd_status fig_make_gd2d(fig_ctx *ctx);
bd_status fig_make_sgd_surface(fig_ctx *ctx);
bd_status fig_make_optim2d(fig_ctx *ctx);
bd_status fig_make_act_hist(fig_ctx *ctx);
bd_status fig_make_optim_mnist(fig_ctx *ctx);
bd_status fig_make_init_mnist(fig_ctx *ctx);
bd_status fig_make_bn_mnist(fig_ctx *ctx);
bd_status fig_make_overfit(fig_ctx *ctx);
bd_status fig_make_hpsearch(fig_ctx *ctx);
bd_status fig_make_curve(fig_ctx *ctx);
bd_status fig_make_activations(fig_ctx *ctx);
bd_status fig_make_surface3d(fig_ctx *ctx);
/* fig_cnn.c */
bd_status fig_make_filters(fig_ctx *ctx);
bd_status fig_make_misclassified(fig_ctx *ctx);
bd_status fig_make_feature_maps(fig_ctx *ctx);
bd_status fig_make_augment(fig_ctx *ctx);
/* fig_layers.c, fig_confusion.c */
bd_status fig_make_layers(fig_ctx *ctx);
bd_status fig_make_confusion(fig_ctx *ctx);

#endif
