/* cmd_figure.c — `badak figure NAME`: the notes' figures, each a PNG drawn
 * with PLplot and the CSV of the numbers behind it. The experiments live in
 * src/fig/, the drawing in src/plot/; this file parses options and prints. */
#include "cli.h"
#include "fig/figures.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *HELP =
    "Usage: badak figure NAME [options]\n"
    "       badak figure all [options]\n"
    "       badak figure --list\n"
    "\n"
    "Make one of the notes' figures: OUT/NAME.png, drawn with PLplot, and\n"
    "OUT/NAME.csv, the numbers behind it. 'all' makes every figure (learning-curve\n"
    "trains its own run when no --log is given; filters needs --model).\n"
    "\n"
    "  --list                the figures, one line each\n"
    "  --out DIR             output folder (default: figures; created if missing)\n"
    "  --svg                 also write OUT/NAME.svg\n"
    "  --quick               fewer iterations and epochs: every figure in seconds\n"
    "                        (the same curves, shorter and noisier)\n"
    "  --seed N              seed of every random draw (default 1)\n"
    "  --data NAME|DIR       data set of the MNIST figures (default mnist)\n"
    "  --log FILE            learning-curve: a CSV written by 'badak train --log'\n"
    "  --model FILE          filters: a trained convolutional model (.safetensors)\n"
    "  --threads N           threads (default all cores)\n"
    "  -h, --help            this help\n";

enum { O_LIST = 256, O_OUT, O_SVG, O_QUICK, O_SEED, O_DATA, O_LOG, O_MODEL, O_THREADS };

static const struct option LONGOPTS[] = {
    {"list", no_argument, 0, O_LIST},
    {"out", required_argument, 0, O_OUT},
    {"svg", no_argument, 0, O_SVG},
    {"quick", no_argument, 0, O_QUICK},
    {"seed", required_argument, 0, O_SEED},
    {"data", required_argument, 0, O_DATA},
    {"log", required_argument, 0, O_LOG},
    {"model", required_argument, 0, O_MODEL},
    {"threads", required_argument, 0, O_THREADS},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static void list(void)
{
    int n;
    const fig_def *t = fig_table(&n);
    for (int i = 0; i < n; i++)
        printf("%-22s %s%s\n", t[i].name, t[i].desc, t[i].mnist ? " [MNIST]" : "");
    printf("%-22s %s\n", "filters",
           "first-layer convolution filters of a trained model (--model FILE)");
}

/* mkdir -p for one level plus its parents */
static int make_dir(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* Make one figure and print what it wrote. */
/* figure filters: the first convolution's filters of a trained model as an
 * image grid (book 7.6.1, visualize_filter), one image per filter and input
 * channel, plus their values as CSV. */
static bd_status make_filters(const fig_ctx *ctx, const char *model)
{
    bd_net net;
    bd_model_meta meta;
    bd_status ls = bd_model_load(&net, model, &meta);
    if (ls != BD_OK)
        return ls;
    const bd_layer *conv = NULL;
    for (int i = 0; i < net.nlayers && !conv; i++)
        if (net.layers[i].kind == BD_LAYER_CONV2D)
            conv = &net.layers[i];
    if (!conv) {
        bd_net_free(&net);
        return bd_error(BD_ERR_ARG, "%s: the model has no convolutional layer (try one trained "
                        "with --model simple_convnet)", model);
    }
    const int F = conv->units, C = conv->in_c, K = conv->k;
    char png[4096], csv[4096], title[256];
    snprintf(png, sizeof png, "%s/filters.png", ctx->outdir);
    snprintf(csv, sizeof csv, "%s/filters.csv", ctx->outdir);
    const char *base = strrchr(model, '/');
    snprintf(title, sizeof title, "%s: %d filters %dx%d of %s", base ? base + 1 : model, F * C, K,
             K, conv->name);
    const float *W = bd_f32(&conv->W); /* [F, C, K, K]: F*C images of K x K */
    bd_status s = BD_OK;
    if (plot_image_grid(png, W, F * C, K, K, title) != 0)
        s = BD_ERR_IO;
    fig_csv out;
    if (s == BD_OK)
        s = fig_csv_open(&out, csv, "filter,channel,row,col,weight");
    if (s == BD_OK) {
        for (int i = 0; i < F; i++)
            for (int c = 0; c < C; c++)
                for (int r = 0; r < K; r++)
                    for (int q = 0; q < K; q++)
                        fig_csv_row(&out, "%d,%d,%d,%d,%.9g", i, c, r, q,
                                    (double)W[((size_t)(i * C + c) * K + r) * K + q]);
        s = fig_csv_close(&out);
    }
    if (s == BD_OK)
        printf("filters: %s, %s\n", png, csv);
    bd_net_free(&net);
    return s;
}

static bd_status make_one(fig_ctx *ctx, const fig_def *f)
{
    ctx->nfiles = 0;
    ctx->note[0] = '\0';
    double t0 = bd_seconds();
    bd_status s = f->make(ctx);
    if (s != BD_OK)
        return s;
    printf("%s:", f->name);
    for (int i = 0; i < ctx->nfiles; i++)
        printf(" %s", ctx->files[i]);
    printf(" (%.1fs)\n", bd_seconds() - t0);
    if (ctx->note[0])
        printf("  %s\n", ctx->note);
    fflush(stdout);
    return BD_OK;
}

int cmd_figure(int argc, char **argv)
{
    fig_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.outdir = "figures";
    ctx.seed = 1;
    ctx.data = "mnist";
    const char *model = NULL;
    long threads = 0;
    int do_list = 0;

    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", LONGOPTS, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'h': fputs(HELP, stdout); return 0;
        case O_LIST: do_list = 1; break;
        case O_OUT: ctx.outdir = optarg; break;
        case O_SVG: ctx.svg = 1; break;
        case O_QUICK: ctx.quick = 1; break;
        case O_SEED: bad = cli_u64("figure", "--seed", optarg, &ctx.seed); break;
        case O_DATA: ctx.data = optarg; break;
        case O_LOG: ctx.log = optarg; break;
        case O_MODEL: model = optarg; break;
        case O_THREADS: bad = cli_int("figure", "--threads", optarg, 1, 1024, &threads); break;
        default: return cli_usage_error("figure", "unknown or incomplete option");
        }
        if (bad)
            return EXIT_USAGE;
    }
    if (do_list) {
        list();
        return 0;
    }
    if (optind >= argc)
        return cli_usage_error("figure", "which figure? 'badak figure --list' names them");
    const char *name = argv[optind++];
    if (optind < argc)
        return cli_usage_error("figure", "unexpected argument '%s'", argv[optind]);
    int all = !strcmp(name, "all");
    const fig_def *one = NULL;
    if (!strcmp(name, "filters")) {
        if (!model)
            return cli_usage_error("figure", "filters needs --model FILE, a trained convolutional "
                                   "model (badak train --model simple_convnet --save FILE)");
        if (make_dir(ctx.outdir) != 0) {
            bd_error(BD_ERR_IO, "%s: cannot create the output folder: %s", ctx.outdir,
                     strerror(errno));
            return cli_fail(BD_ERR_IO);
        }
        bd_status s = make_filters(&ctx, model);
        return s == BD_OK ? 0 : cli_fail(s);
    }
    if (model && !all)
        return cli_usage_error("figure", "--model is for filters");
    if (!all && !(one = fig_find(name)))
        return cli_usage_error("figure", "unknown figure '%s' ('badak figure --list' names them)",
                               name);
    if (ctx.log && !all && strcmp(name, "learning-curve"))
        return cli_usage_error("figure", "--log is for learning-curve");
    if (make_dir(ctx.outdir) != 0) {
        bd_error(BD_ERR_IO, "%s: cannot create the output folder: %s", ctx.outdir,
                 strerror(errno));
        return cli_fail(BD_ERR_IO);
    }
    bd_set_threads((int)threads);

    int rc = 0;
    if (!all) {
        bd_status s = make_one(&ctx, one);
        fig_ctx_free(&ctx);
        return s == BD_OK ? 0 : cli_fail(s);
    }
    int n;
    const fig_def *t = fig_table(&n);
    double t0 = bd_seconds();
    int made = 0, skipped = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        int needs = t[i].mnist && !(ctx.log && !strcmp(t[i].name, "learning-curve"));
        if (needs && fig_mnist(&ctx) != BD_OK) {
            printf("%s: skipped: %s\n", t[i].name, bd_errmsg());
            skipped++;
            continue;
        }
        bd_status s = make_one(&ctx, &t[i]);
        if (s != BD_OK)
            rc = cli_fail(s);
        else
            made++;
    }
    if (rc == 0 && model) {
        bd_status s = make_filters(&ctx, model);
        if (s != BD_OK)
            rc = cli_fail(s);
        else
            made++;
    }
    fig_ctx_free(&ctx);
    if (rc == 0)
        printf("figure all: %d figures in %s/ in %.1fs (%d skipped%s)\n", made, ctx.outdir,
               bd_seconds() - t0, skipped,
               model ? "" : "; filters needs a convolutional --model");
    return rc;
}
