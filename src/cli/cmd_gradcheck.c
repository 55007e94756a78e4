/* cmd_gradcheck.c — `badak gradcheck`: backprop vs. the numerical gradient
 * (book 5.7.3, gradient_check.py), per parameter. */
#include "cli.h"
#include "internal.h" /* bd__debug_break_backward: --break-backward (a test hook) */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *HELP =
    "Usage: badak gradcheck [options]\n"
    "\n"
    "Compare the gradient from backpropagation with the numerical gradient\n"
    "(central difference (f(x+h) - f(x-h)) / 2h, book eq. 4.4) for every\n"
    "parameter (W1, b1, W2, b2, ...) on a few samples, and print the mean and max\n"
    "absolute and relative difference of each. The relative difference is\n"
    "|a - n| / max(|a|, |n|, 2e-3). Exits 1 when a parameter's mean absolute\n"
    "difference exceeds --tol-abs or its worst relative difference --tol-rel.\n"
    "Entries whose step would cross the kink at 0 of a ReLU-family activation\n"
    "(where the loss has no derivative) are skipped and counted in the 'kinks'\n"
    "column. The check runs in training mode (BatchNorm on batch statistics,\n"
    "Dropout dropping) unless --eval; the random draws are replayed at every\n"
    "evaluation so the loss is one fixed function.\n"
    "\n"
    "  --model NAME          two_layer (default) or mlp\n"
    "  --hidden LIST         hidden sizes (defaults as in train)\n"
    "  --activation NAME     relu (default), sigmoid, tanh, leaky_relu[:S], prelu[:A0],\n"
    "                        rrelu[:LO,HI], elu[:ALPHA]\n"
    "  --batchnorm           BatchNorm after each hidden Affine\n"
    "  --dropout P           Dropout after each hidden activation\n"
    "  --loss NAME           softmax_ce (default), mse, mae, bce\n"
    "  --weight-decay L      L2 term in the loss (checked too)\n"
    "  --l1 L                L1 term in the loss (checked too)\n"
    "  --eval                check in evaluation mode\n"
    "  --init INIT           std=0.01, a std, xavier or he (defaults as in train)\n"
    "  --data NAME|DIR       take the samples from this data set's training images;\n"
    "                        default: random inputs in [0,1) with random labels\n"
    "  --inputs N|CxHxW      sample shape without --data (default 784; e.g. 1x8x8\n"
    "                        for convolutional models)\n"
    "  --classes N           classes without --data (default 10)\n"
    "  --samples N           samples in the batch (default 3, as in the book; 32\n"
    "                        with --batchnorm: statistics of 3 samples are degenerate)\n"
    "  --h STEP              difference step (default 1e-2: float32 needs a larger\n"
    "                        step than the book's 1e-4 in float64)\n"
    "  --max-entries N       check at most N random entries per parameter\n"
    "                        (default 0: all)\n"
    "  --tol-abs X           mean absolute difference allowed (default 1e-4)\n"
    "  --tol-rel X           worst relative difference allowed (default 1e-2)\n"
    "  --seed N              seed for weights, inputs and sampled entries (default 1)\n"
    "  --break-backward K    deliberately break a layer kind's backward to see the check\n"
    "                        catch it: K is a layer type of network descriptions\n"
    "                        (affine, relu, sigmoid, leaky_relu, batchnorm, dropout,\n"
    "                        conv, maxpool, ...) or a layer name's kind (LeakyRelu)\n"
    "  --threads N           threads (default all cores)\n"
    "  -h, --help            this help\n";

enum {
    O_DATA = 256, O_INPUTS, O_CLASSES, O_SAMPLES, O_H,
    O_MAXE, O_TABS, O_TREL, O_SEED, O_BREAK, O_THREADS, O_EVAL
};

static const struct option LONGOPTS[] = {
    CLI_NET_LONGOPTS,
    {"data", required_argument, 0, O_DATA},
    {"inputs", required_argument, 0, O_INPUTS},
    {"classes", required_argument, 0, O_CLASSES},
    {"samples", required_argument, 0, O_SAMPLES},
    {"h", required_argument, 0, O_H},
    {"max-entries", required_argument, 0, O_MAXE},
    {"tol-abs", required_argument, 0, O_TABS},
    {"tol-rel", required_argument, 0, O_TREL},
    {"seed", required_argument, 0, O_SEED},
    {"break-backward", required_argument, 0, O_BREAK},
    {"threads", required_argument, 0, O_THREADS},
    {"eval", no_argument, 0, O_EVAL},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* Every option of `badak gradcheck`, as parse_options leaves it. */
typedef struct gc_opts {
    net_opts net;
    const char *data;
    int in_c, in_h, in_w;
    long classes, samples, max_entries, threads;
    bd_gradcheck_config gc;
    uint64_t seed;
    int broken, eval;
} gc_opts;

/* Fill o from argv. Returns -1 to go on, else the exit code. */
static int parse_options(int argc, char **argv, gc_opts *o)
{
    memset(o, 0, sizeof *o);
    o->net = (net_opts){.model = "two_layer", .activation = "relu"};
    o->in_c = o->in_h = 1;
    o->in_w = 784;
    o->classes = 10;
    bd_gradcheck_config_default(&o->gc);
    o->seed = 1;
    o->broken = -1;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", LONGOPTS, NULL)) != -1) {
        const char *a = optarg;
        int bad = 0;
        switch (c) {
        case 'h': fputs(HELP, stdout); return 0;
        case O_DATA: o->data = a; break;
        case O_INPUTS: bad = cli_shape("gradcheck", "--inputs", a, &o->in_c, &o->in_h, &o->in_w) != 0; break;
        case O_CLASSES: bad = cli_int("gradcheck", "--classes", a, 2, 1 << 16, &o->classes); break;
        case O_SAMPLES: bad = cli_int("gradcheck", "--samples", a, 1, 10000, &o->samples); break;
        case O_H: bad = cli_float("gradcheck", "--h", a, 1e-8, 1.0, &o->gc.h); break;
        case O_MAXE: bad = cli_int("gradcheck", "--max-entries", a, 0, 1L << 40, &o->max_entries); break;
        case O_TABS: bad = cli_float("gradcheck", "--tol-abs", a, 0, 1e9, &o->gc.tol_abs); break;
        case O_TREL: bad = cli_float("gradcheck", "--tol-rel", a, 0, 1e9, &o->gc.tol_rel); break;
        case O_SEED: bad = cli_u64("gradcheck", "--seed", a, &o->seed); break;
        case O_THREADS: bad = cli_int("gradcheck", "--threads", a, 1, 1024, &o->threads); break;
        case O_BREAK: {
            bd_layer_kind k;
            if (bd_parse_layer_kind(a, &k) != BD_OK)
                return cli_usage_error("gradcheck", "--break-backward: unknown layer kind '%s'", a);
            o->broken = (int)k;
            break;
        }
        case O_EVAL: o->eval = 1; break;
        default:
            bad = cli_net_option("gradcheck", c, a, &o->net);
            if (bad == 0)
                return cli_usage_error("gradcheck", "unknown or incomplete option");
            bad = bad < 0;
        }
        if (bad)
            return EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("gradcheck", "unexpected argument '%s'", argv[optind]);
    if (!o->samples)
        o->samples = o->net.batchnorm ? 32 : 3;
    o->gc.max_entries = (size_t)o->max_entries;
    o->gc.seed = o->seed;
    return -1;
}

/* The batch to check on: the first samples of --data's training set, or
 * random inputs in [0, 1) with random labels. Sets o's input shape and
 * classes (and samples, if the set is smaller) from the data. */
static bd_status make_batch(gc_opts *o, bd_tensor *x, bd_tensor *y)
{
    memset(x, 0, sizeof *x);
    memset(y, 0, sizeof *y);
    bd_dataset tr, te;
    if (o->data) {
        bd_status s = cli_load_named(o->data, &tr, &te);
        if (s != BD_OK)
            return s;
        bd_dataset_free(&te);
        o->in_c = tr.c, o->in_h = tr.h, o->in_w = tr.w;
        o->classes = tr.nclasses;
        if (o->samples > tr.n)
            o->samples = tr.n;
    }
    int xs[2] = {(int)o->samples, o->in_c * o->in_h * o->in_w}, ys[1] = {(int)o->samples};
    bd_status s = bd_tensor_alloc(x, BD_F32, 2, xs);
    if (s == BD_OK)
        s = bd_tensor_alloc(y, BD_I32, 1, ys);
    if (s == BD_OK && o->data) {
        s = bd_dataset_slice(&tr, 0, (int)o->samples, x, y);
    } else if (s == BD_OK) {
        bd_rng r;
        bd_rng_seed(&r, o->seed ^ 0xda7aULL);
        for (size_t i = 0; i < x->size; i++)
            bd_f32(x)[i] = bd_rng_uniform(&r);
        for (int i = 0; i < (int)o->samples; i++)
            bd_i32(y)[i] = (int32_t)bd_rng_below(&r, (uint32_t)o->classes);
    }
    if (o->data)
        bd_dataset_free(&tr);
    return s;
}

/* Check, then print one row per parameter tensor; the exit code. */
static int run_check(const gc_opts *o, bd_net *net, const bd_tensor *x, const bd_tensor *y)
{
    printf("gradient check: %s, %ld samples, %s inputs, %s mode, h = %g\n", bd_net_desc(net),
           o->samples, o->data ? o->data : "random", o->eval ? "evaluation" : "training",
           (double)o->gc.h);
    int nrows = 0;
    bd_gradcheck_row *rows = calloc((size_t)bd_net_layer_count(net) * 2 + 2, sizeof *rows);
    double t0 = bd_seconds();
    bd_status s;
    if (!rows)
        s = bd_error(BD_ERR_NOMEM, "out of memory");
    else
        s = bd_gradcheck(net, x, (bd_labels){bd_i32(y), NULL}, &o->gc, rows, &nrows);
    double dt = bd_seconds() - t0;
    printf("%-6s %9s %6s %12s %12s %12s %12s\n", "param", "entries", "kinks", "mean |diff|",
           "max |diff|", "mean rel", "max rel");
    for (int i = 0; i < nrows; i++)
        printf("%-6s %9zu %6zu %12.3e %12.3e %12.3e %12.3e\n", rows[i].name, rows[i].checked,
               rows[i].kinks, rows[i].mean_abs, rows[i].max_abs, rows[i].mean_rel,
               rows[i].max_rel);
    free(rows);
    if (s != BD_OK)
        return cli_fail(s);
    printf("gradient check passed in %.2fs (mean |diff| <= %g, max rel <= %g)\n", dt,
           (double)o->gc.tol_abs, (double)o->gc.tol_rel);
    return 0;
}

int cmd_gradcheck(int argc, char **argv)
{
    gc_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    bd_set_threads((int)o.threads);
    bd_tensor x, y;
    bd_status s = make_batch(&o, &x, &y);
    bd_net *net = NULL;
    bd_rng rng;
    bd_rng_seed(&rng, o.seed);
    if (s == BD_OK)
        s = cli_build_net(&o.net, o.in_c, o.in_h, o.in_w, (int)o.classes, &rng, &net);
    if (s == BD_OK)
        s = bd_net_reserve(net, (int)o.samples);
    if (s == BD_OK) {
        bd_net_set_training(net, !o.eval);
        if (o.broken >= 0) {
            bd__debug_break_backward(net, (bd_layer_kind)o.broken, 1);
            printf("note: %s backward deliberately broken (--break-backward)\n",
                   bd_layer_kind_name((bd_layer_kind)o.broken));
        }
        rc = run_check(&o, net, &x, &y);
    } else {
        rc = cli_fail(s);
    }
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
    return rc;
}
