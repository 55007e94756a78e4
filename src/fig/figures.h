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
    int mnist_loaded;
    bd_dataset train, test;
    /* what the last figure wrote and did, for the command to print */
    char files[4][4200];
    int nfiles;
    char note[512];
} fig_ctx;

typedef struct fig_def {
    const char *name;
    const char *desc;
    int mnist;            /* 1: needs the MNIST data */
    bd_status (*make)(fig_ctx *ctx);
} fig_def;

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

#endif
