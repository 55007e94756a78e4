/* figures.c — the table of figures and their shared plumbing. */
#include "fig/figures.h"

#include <stdio.h>
#include <string.h>

int fig_ko;

static const fig_def FIGS[] = {
    {"gd-1d", "gradient descent on x^2-4x+6 (lr 0.2, 0.01, 1) and x sin x: start and rate", 0,
     fig_make_gd1d},
    {"numerical-diff", "tangents of 0.01x^2+0.1x from the numerical derivative; -grad field of "
     "x0^2+x1^2", 0, fig_make_numdiff},
    {"gd-2d", "gradient descent on x0^2+x1^2 from (-3, 4), lr 0.1, 20 steps", 0,
     fig_make_gd2d},
    {"sgd-surface", "x^2+y^2 and x^2/20+y^2: surface, contours with -grad and the SGD path, "
     "field", 0, fig_make_sgd_surface},
    {"optimizers-2d", "SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam on x^2/20+y^2 from "
     "(-7, 2)", 0, fig_make_optim2d},
    {"activation-histograms", "5-layer activations: sigmoid/tanh/ReLU x std 1, 0.01, Xavier, "
     "He", 0, fig_make_act_hist},
    {"optimizers-mnist", "MNIST training loss of every optimizer (mlp 100x4, 2000 iterations)",
     FIG_MNIST, fig_make_optim_mnist},
    {"weight-init-mnist", "MNIST training loss with std 0.01, Xavier and He init", FIG_MNIST,
     fig_make_init_mnist},
    {"batchnorm-mnist", "training accuracy with and without BatchNorm for 16 weight stds", FIG_MNIST,
     fig_make_bn_mnist},
    {"overfitting", "300 samples, 200 epochs: plain, weight decay 0.1, dropout 0.2", FIG_MNIST,
     fig_make_overfit},
    {"hpsearch", "random search of lr and weight decay: the best 20 trials' curves", FIG_MNIST,
     fig_make_hpsearch},
    {"learning-curve", "accuracy per epoch and loss per iteration of a `badak train --log` "
     "CSV", FIG_MNIST, fig_make_curve},
    {"activations", "sigmoid, tanh, ReLU, Leaky ReLU, ELU and their derivatives", 0,
     fig_make_activations},
    {"surface-3d", "the 3-D surface of x0^2 + x1^2 (book figure 4-8)", 0, fig_make_surface3d},
    {"augment", "samples of the data augmentation (--augment SPEC, default shift,rotate)",
     FIG_MNIST, fig_make_augment},
    {"layers", "gradient norm and output std of every layer over a run (--log FILE from "
     "badak train --log-layers; default: a deep sigmoid MLP)", FIG_MNIST, fig_make_layers},
    {"filters", "first-layer filters before and after training (--model FILE [--before "
     "FILE]; book 7-24)", FIG_MODEL, fig_make_filters},
    {"feature-maps", "what each convolution makes of an image (--model FILE [IMAGE])",
     FIG_MODEL, fig_make_feature_maps},
    {"confusion", "confusion matrix of a classifier on a data set's test split, with counts "
     "(--model FILE [--data ...])", FIG_MODEL, fig_make_confusion},
    {"misclassified", "the test digits a model gets wrong, true and predicted labels "
     "(--model FILE; book 8-2)", FIG_MODEL | FIG_MNIST, fig_make_misclassified},
};

const fig_def *fig_table(int *n)
{
    *n = (int)(sizeof FIGS / sizeof FIGS[0]);
    return FIGS;
}

const fig_def *fig_find(const char *name)
{
    for (size_t i = 0; i < sizeof FIGS / sizeof FIGS[0]; i++)
        if (!strcmp(FIGS[i].name, name))
            return &FIGS[i];
    return NULL;
}

bd_status fig_mnist(fig_ctx *ctx)
{
    if (ctx->mnist_loaded)
        return BD_OK;
    char dir[4096];
    bd_status s = bd_data_dir(ctx->data ? ctx->data : "mnist", dir, sizeof dir);
    if (s == BD_OK)
        s = bd_mnist_load(dir, &ctx->train, &ctx->test);
    if (s == BD_OK)
        ctx->mnist_loaded = 1;
    return s;
}

void fig_ctx_free(fig_ctx *ctx)
{
    if (ctx->mnist_loaded) {
        bd_dataset_free(&ctx->train);
        bd_dataset_free(&ctx->test);
        ctx->mnist_loaded = 0;
    }
}

bd_status fig_file(fig_ctx *ctx, const char *name, const char *ext, char *path, size_t len)
{
    const char *dir = ctx->outdir && *ctx->outdir ? ctx->outdir : ".";
    if ((size_t)snprintf(path, len, "%s/%s.%s", dir, name, ext) >= len)
        return bd_error(BD_ERR_ARG, "output path too long: %s/%s.%s", dir, name, ext);
    if (ctx->nfiles < 4)
        snprintf(ctx->files[ctx->nfiles++], sizeof ctx->files[0], "%s", path);
    return BD_OK;
}

bd_status fig_draw(fig_ctx *ctx, const char *name, int w, int h, const char *title,
                   fig_draw_fn draw, const void *data)
{
    for (int svg = 0; svg <= (ctx->svg ? 1 : 0); svg++) {
        char path[4200];
        bd_status s = fig_file(ctx, name, svg ? "svg" : "png", path, sizeof path);
        if (s != BD_OK)
            return s;
        plot_page pg;
        s = plot_open(&pg, path, w, h, svg, title);
        if (s != BD_OK)
            return s;
        draw(data);
        s = plot_close(&pg);
        if (s != BD_OK)
            return s;
    }
    return BD_OK;
}

bd_status fig_csv_for(fig_ctx *ctx, fig_csv *c, const char *name, const char *header)
{
    char path[4200];
    bd_status s = fig_file(ctx, name, "csv", path, sizeof path);
    if (s != BD_OK)
        return s;
    return fig_csv_open(c, path, header);
}
