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
#include <strings.h>
#include <sys/stat.h>

static const char *HELP =
    "Usage: badak figure NAME [options]\n"
    "       badak figure all [options]\n"
    "       badak figure feature-maps --model FILE [IMAGE]\n"
    "       badak figure confusion --model FILE [--data NAME|DIR|KIND:DIR|FILE.csv]\n"
    "       badak figure layers [--log FILE.csv]\n"
    "       badak figure --list\n"
    "\n"
    "Make one of the notes' figures: OUT/NAME.png, drawn with PLplot, and\n"
    "OUT/NAME.csv, the numbers behind it. 'all' makes every figure (learning-curve\n"
    "and layers train their own runs when no --log is given; filters,\n"
    "feature-maps, confusion and misclassified are made when --model is given).\n"
    "\n"
    "  --list                the figures, one line each\n"
    "  --out DIR             output folder (default: figures; created if missing)\n"
    "  --svg                 also write OUT/NAME.svg\n"
    "  --quick               fewer iterations and epochs: every figure in seconds\n"
    "                        (the same curves, shorter and noisier)\n"
    "  --seed N              seed of every random draw (default 1)\n"
    "  --data NAME|DIR       data set of the MNIST figures (default mnist);\n"
    "                        confusion: any data badak train --data reads\n"
    "                        (cifar10:DIR, images:DIR, ...) or a CSV whose last\n"
    "                        column is the class, its test split (default: the\n"
    "                        data set the model was trained on)\n"
    "  --log FILE            learning-curve: a CSV written by 'badak train --log';\n"
    "                        layers: one written by 'badak train --log-layers'\n"
    "  --model FILE          filters, feature-maps, misclassified, confusion: a\n"
    "                        trained model\n"
    "                        (.safetensors; filters and feature-maps: convolutional)\n"
    "  --before FILE         filters: the same net before training (badak train\n"
    "                        --iters 0 --save FILE); default: its initial weights\n"
    "                        drawn again from the seed the model was trained with\n"
    "  --augment SPEC        augment: what to draw (default shift,rotate; see\n"
    "                        badak train --help)\n"
    "  --lang en|ko          language of titles, axes and legends (default ko when\n"
    "                        LANG starts with ko, else en)\n"
    "  --threads N           threads (default all cores)\n"
    "  -h, --help            this help\n";

enum { O_LIST = 256, O_OUT, O_SVG, O_QUICK, O_SEED, O_DATA, O_LOG, O_MODEL, O_THREADS, O_BEFORE,
       O_AUGMENT, O_LANG };

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
    {"before", required_argument, 0, O_BEFORE},
    {"augment", required_argument, 0, O_AUGMENT},
    {"lang", required_argument, 0, O_LANG},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static void list(void)
{
    int n;
    const fig_def *t = fig_table(&n);
    for (int i = 0; i < n; i++)
        printf("%-22s %s%s\n", t[i].name, t[i].desc, t[i].needs & FIG_MNIST ? " [MNIST]" : "");
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

/* The data of `figure confusion`: what badak train --data reads (mnist,
 * fashion, a folder, cifar10:DIR, ...), images:DIR at the model's input
 * size, or a CSV (the last column the class; its test split drawn from the
 * model's seed as badak train draws it with the default --test-split). */
static bd_status load_for_figure(const char *data, const bd_net *net, uint64_t seed,
                                 bd_dataset *train, bd_dataset *test)
{
    size_t n = strlen(data);
    if (n > 4 && !strcasecmp(data + n - 4, ".csv"))
        return cli_load_data(NULL, data, -1, NULL, 0.2f, seed, train, test);
    if (!strncmp(data, "images:", 7)) {
        char size[32];
        snprintf(size, sizeof size, "%dx%d", net ? cli_in_h(net) : 32, net ? cli_in_w(net) : 32);
        return cli_load_images(data + 7, size, net && cli_in_c(net) == 1 ? 1 : 3, 0.2f, seed, train,
                               test);
    }
    return cli_load_named(data, train, test);
}

/* Make one figure and print what it wrote. */
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

/* --lang's default: Korean when LANG says so */
static int lang_default(void)
{
    const char *l = getenv("LANG");
    return l && !strncmp(l, "ko", 2);
}

/* The options after the figure's name that are not options: IMAGE of
 * feature-maps, nothing else. */
static int check_args(fig_ctx *ctx, const char *name, int all, const fig_def *one)
{
    if (ctx->image && strcmp(name, "feature-maps"))
        return cli_usage_error("figure", "unexpected argument '%s'", ctx->image);
    if (ctx->model && !all && !(one->needs & FIG_MODEL))
        return cli_usage_error("figure", "--model is for filters, feature-maps, confusion and "
                               "misclassified");
    if (!ctx->model && !all && !strcmp(name, "confusion"))
        return cli_usage_error("figure", "confusion needs --model FILE, a trained classifier "
                               "(badak train ... --save FILE)");
    if (!ctx->model && !all && (one->needs & FIG_MODEL))
        return cli_usage_error("figure", "%s needs --model FILE, a trained convolutional model "
                               "(badak train --model simple_convnet --save FILE)", name);
    if (ctx->before && !all && strcmp(name, "filters"))
        return cli_usage_error("figure", "--before is for filters");
    if (ctx->augment && !all && strcmp(name, "augment"))
        return cli_usage_error("figure", "--augment is for augment");
    if (ctx->log && !all && strcmp(name, "learning-curve") && strcmp(name, "layers"))
        return cli_usage_error("figure", "--log is for learning-curve and layers");
    if (!all && !strcmp(name, "layers")) /* its own CSV (figure all: its own run) */
        ctx->layer_log = ctx->log;
    return 0;
}

/* figure all: every figure whose data is there, in the table's order */
static int make_all(fig_ctx *ctx)
{
    int n, rc = 0, made = 0, skipped = 0;
    const fig_def *t = fig_table(&n);
    double t0 = bd_seconds();
    for (int i = 0; i < n && rc == 0; i++) {
        if ((t[i].needs & FIG_MODEL) && !ctx->model)
            continue;
        int needs = (t[i].needs & FIG_MNIST) && !(ctx->log && !strcmp(t[i].name, "learning-curve"));
        if (needs && fig_mnist(ctx) != BD_OK) {
            printf("%s: skipped: %s\n", t[i].name, cli_errmsg());
            skipped++;
            continue;
        }
        bd_status s = make_one(ctx, &t[i]);
        if (s != BD_OK)
            rc = cli_fail(s);
        else
            made++;
    }
    if (rc == 0)
        printf("figure all: %d figures in %s/ in %.1fs (%d skipped%s)\n", made, ctx->outdir,
               bd_seconds() - t0, skipped,
               ctx->model ? ""
                          : "; filters, feature-maps, confusion and misclassified need --model");
    return rc;
}

int cmd_figure(int argc, char **argv)
{
    fig_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.outdir = "figures";
    ctx.seed = 1;
    ctx.data = "mnist";
    ctx.load_data = load_for_figure;
    long threads = 0;
    int do_list = 0;
    fig_ko = lang_default();

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
        case O_DATA: ctx.data = optarg; ctx.data_given = 1; break;
        case O_LOG: ctx.log = optarg; break;
        case O_MODEL: ctx.model = optarg; break;
        case O_BEFORE: ctx.before = optarg; break;
        case O_AUGMENT: ctx.augment = optarg; break;
        case O_LANG:
            if (strcmp(optarg, "en") && strcmp(optarg, "ko"))
                return cli_usage_error("figure", "--lang '%s': expected en or ko", optarg);
            fig_ko = !strcmp(optarg, "ko");
            break;
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
        ctx.image = argv[optind++];
    if (optind < argc)
        return cli_usage_error("figure", "unexpected argument '%s'", argv[optind]);
    int all = !strcmp(name, "all");
    const fig_def *one = NULL;
    if (!all && !(one = fig_find(name)))
        return cli_usage_error("figure", "unknown figure '%s' ('badak figure --list' names them)",
                               name);
    int rc = check_args(&ctx, name, all, one);
    if (rc)
        return rc;
    if (make_dir(ctx.outdir) != 0) {
        bd_error(BD_ERR_IO, "%s: cannot create the output folder: %s", ctx.outdir,
                 strerror(errno));
        return cli_fail(BD_ERR_IO);
    }
    bd_set_threads((int)threads);
    if (all) {
        rc = make_all(&ctx);
    } else {
        bd_status s = make_one(&ctx, one);
        rc = s == BD_OK ? 0 : cli_fail(s);
    }
    fig_ctx_free(&ctx);
    return rc;
}
