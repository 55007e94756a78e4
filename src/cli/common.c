/* common.c — option parsing helpers, errors and the network options. */
#include "cli.h"

#include <errno.h>
#include <strings.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The library's messages speak of API values ("adam: config.lr = 50",
 * "try lr = 0.01", "class weights"); the command's user gives flags: each
 * phrase becomes its flag. */
static const struct {
    const char *api, *flag;
} API_FLAGS[] = {
    {"config.lr = ", "--lr "},
    {"config.momentum = ", "--momentum "},
    {"config.beta1 = ", "--beta1 "},
    {"config.beta2 = ", "--beta2 "},
    {"config.eps = ", "--eps "},
    {"config.decay = ", "--decay "},
    {"try lr = ", "try --lr "},
    {"clip_grad_norm = ", "--clip-grad-norm "},
    {"weight_decay = ", "--weight-decay "},
    {"dropout = ", "--dropout "},
    {"val_split = 0.1, patience = ", "--val-split 0.1 --patience "},
    {"augment = shift", "--augment shift"},
    {"BatchNorm layers", "BatchNorm (--batchnorm)"},
    {"use loss = ", "use --loss "},
    {"(loss = ", "(--loss "},
    {"the confusion matrix, class weights, balanced sampling",
     "--confusion, --class-weights auto, --balanced-sampling"},
    {"class weights or balanced sampling", "--class-weights auto or --balanced-sampling"},
    {"classes = ", "--classes "},
    {"use model mlp", "use --model mlp"},
    /* bd_data_dir / bd_mnist_load (src/data/mnist.c) */
    {"bd_data_dir: name is empty", "--data: empty name"},
    {"bd_data_dir: name ", "--data "},
    {"bd_mnist_load: dir ", "--data "},
    {"the name is mnist, fashion", "--data takes mnist, fashion"},
    {"(a CSV file is for bd_csv_load)", "(for a CSV file use --csv)"},
    {"install the data sets or name their folder",
     "run `bash scripts/setup.sh --data-only` to install MNIST and Fashion-MNIST, or pass --data "
     "DIR"},
    {"(the range of bd_optim_config.", "(the range of --"},
};

void cli_flags(char *msg, size_t len)
{
    char out[2048];
    size_t o = 0;
    const size_t nf = sizeof API_FLAGS / sizeof *API_FLAGS;
    for (const char *p = msg; *p && o + 1 < sizeof out;) {
        size_t k = 0;
        while (k < nf && strncmp(p, API_FLAGS[k].api, strlen(API_FLAGS[k].api)) != 0)
            k++;
        if (k < nf) {
            int w = snprintf(out + o, sizeof out - o, "%s", API_FLAGS[k].flag);
            o = w > 0 && o + (size_t)w < sizeof out ? o + (size_t)w : sizeof out - 1;
            p += strlen(API_FLAGS[k].api);
        } else
            out[o++] = *p++;
    }
    out[o] = 0;
    snprintf(msg, len, "%s", out);
}

const char *cli_errmsg(void)
{
    static _Thread_local char msg[2048];
    snprintf(msg, sizeof msg, "%s", bd_errmsg());
    cli_flags(msg, sizeof msg);
    return msg;
}

int cli_fail(bd_status s)
{
    fflush(stdout); /* what was printed so far comes before the error */
    fprintf(stderr, "badak: error: %s\n", cli_errmsg());
    return s == BD_ERR_ARG ? EXIT_USAGE : EXIT_FAIL;
}

const char *cli_origin;

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    if (cli_origin) /* not typed by the user: a file's options */
        fprintf(stderr, "badak %s: error in %s: ", cmd, cli_origin);
    else
        fprintf(stderr, "badak %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cli_origin) {
        fprintf(stderr, "\n");
        return EXIT_FAIL;
    }
    fprintf(stderr, "\nTry 'badak %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int cli_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    /* digits (and a minus) only: "+5", " 5" and "0x10" are refused */
    int plain = (*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9');
    if (!plain || end == s || *end || errno || v < lo || v > hi) {
        cli_usage_error(cmd, "%s: '%s' is not an integer in %ld..%ld", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno || s[0] == '-') {
        cli_usage_error(cmd, "%s: '%s' is not a non-negative integer", opt, s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int cli_float(const char *cmd, const char *opt, const char *s, double lo, double hi, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi) {
        cli_usage_error(cmd, "%s: '%s' is not a number in %g..%g", opt, s, lo, hi);
        return -1;
    }
    *out = (float)v;
    return 0;
}

int cli_int_list(const char *cmd, const char *opt, const char *s, int *out, int max)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (!(*p >= '0' && *p <= '9') || end == p || errno || v < 1 || v > 1000000 || (*end && *end != ',') || n == max) {
            cli_usage_error(cmd, "%s: '%s' is not a list of up to %d sizes like 100,100", opt,
                            s, max);
            return -1;
        }
        out[n++] = (int)v;
        p = *end ? end + 1 : end;
        if (*end == ',' && !*p) {
            cli_usage_error(cmd, "%s: '%s' ends with a comma", opt, s);
            return -1;
        }
    }
    if (n == 0) {
        cli_usage_error(cmd, "%s: empty list", opt);
        return -1;
    }
    return n;
}

int cli_net_option(const char *cmd, int c, const char *arg, net_opts *no)
{
    switch (c) {
    case NET_O_MODEL: no->model = arg; return 1;
    case NET_O_HIDDEN:
        no->nhidden = cli_int_list(cmd, "--hidden", arg, no->hidden, 32);
        return no->nhidden < 0 ? -1 : 1;
    case NET_O_ACT: no->activation = arg; return 1;
    case NET_O_INIT: no->init = arg; return 1;
    case NET_O_BN: no->batchnorm = 1; return 1;
    case NET_O_DROPOUT: return cli_float(cmd, "--dropout", arg, 0, 0.99, &no->dropout) ? -1 : 1;
    case NET_O_LOSS: no->loss = arg; return 1;
    case NET_O_WD: return cli_float(cmd, "--weight-decay", arg, 0, 1e6, &no->weight_decay) ? -1 : 1;
    case NET_O_L1: return cli_float(cmd, "--l1", arg, 0, 1e6, &no->l1) ? -1 : 1;
    }
    return 0;
}

bd_status cli_net_spec(const net_opts *o, bd_net_spec *s)
{
    bd_net_spec_default(s);
    if (snprintf(s->model, sizeof s->model, "%s", o->model) >= (int)sizeof s->model)
        return bd_error(BD_ERR_ARG, "model path '%.40s...' is too long", o->model);
    memcpy(s->hidden, o->hidden, sizeof s->hidden);
    s->nhidden = o->nhidden;
    bd_status st = bd_parse_act(o->activation, &s->act, &s->act_p0, &s->act_p1);
    if (st == BD_OK && o->init) {
        st = bd_parse_init(o->init, &s->init);
        s->init_set = 1;
    }
    if (st == BD_OK && o->loss)
        st = bd_parse_loss(o->loss, &s->loss);
    s->batchnorm = o->batchnorm;
    s->dropout = o->dropout;
    s->weight_decay = o->weight_decay;
    s->l1 = o->l1;
    return st;
}

bd_status cli_build_net(const net_opts *o, int c, int h, int w, int classes, bd_rng *rng,
                        bd_net **net)
{
    bd_net_spec s;
    bd_status st = cli_net_spec(o, &s);
    if (st != BD_OK)
        return st;
    return bd_net_from_spec(net, &s, c, h, w, classes, rng);
}

int cli_is_dense(const net_opts *o)
{
    /* not a convolutional preset, not a description file: two_layer, mlp,
     * or a name bd_net_from_spec will reject */
    size_t n = strlen(o->model);
    return strcmp(o->model, "simple_convnet") && strcmp(o->model, "deep_convnet") &&
           strcmp(o->model, "resnet") && strcmp(o->model, "tobigs_cnn") &&
           strcmp(o->model, "resnet18") && !strchr(o->model, '/') &&
           !(n > 4 && !strcasecmp(o->model + n - 4, ".ini"));
}

int cli_shape(const char *cmd, const char *opt, const char *s, int *c, int *h, int *w)
{
    bd_status st = bd_parse_shape(s, c, h, w);
    if (st == BD_OK)
        return 0;
    if (st == BD_ERR_SHAPE) { /* a shape, but too large: say by how much */
        cli_usage_error(cmd, "%s: %s", opt, cli_errmsg());
        return -1;
    }
    cli_usage_error(cmd, "%s '%s': expected N or CxHxW (e.g. 784 or 1x28x28)", opt, s);
    return -1;
}

bd_status cli_load_named(const char *data, bd_dataset *train, bd_dataset *test)
{
    /* KIND:DIR for the CIFAR binary version */
    static const char *const cifar[] = {"cifar10", "cifar100", "cifar100-coarse"};
    const char *colon = strchr(data, ':');
    for (size_t i = 0; colon && i < sizeof cifar / sizeof *cifar; i++)
        if ((size_t)(colon - data) == strlen(cifar[i]) &&
            !strncmp(data, cifar[i], (size_t)(colon - data)))
            return bd_cifar_load(cifar[i], colon + 1, train, test);
    if (!strncmp(data, "cifar", 5) && !colon)
        return bd_error(BD_ERR_ARG, "--data %s: give the folder of the binary version, e.g. "
                        "--data %s:data/cifar-10-batches-bin (from "
                        "https://www.cs.toronto.edu/~kriz/cifar.html)", data, data);
    char dir[4096];
    bd_status s = bd_data_dir(data, dir, sizeof dir);
    if (s != BD_OK)
        return s;
    return bd_mnist_load(dir, train, test);
}

/* Load the training and test sets named by the options. */
bd_status cli_load_data(const char *data, const char *csv, int label_col,
                           const char *test_csv, float test_split, uint64_t seed,
                           bd_dataset *train, bd_dataset *test)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!csv)
        return cli_load_named(data, train, test);
    bd_status s = bd_csv_load(csv, label_col, train);
    if (s != BD_OK)
        return s;
    if (test_csv) {
        s = bd_csv_load(test_csv, label_col, test);
        if (s == BD_OK && test->c * test->h * test->w != train->c * train->h * train->w)
            s = bd_error(BD_ERR_SHAPE, "%s has %d features, %s has %d", test_csv,
                         test->c * test->h * test->w, csv, train->c * train->h * train->w);
    } else {
        bd_rng rng;
        bd_rng_seed(&rng, seed ^ 0x7e57ULL);
        s = bd_dataset_split(train, test_split, &rng, test);
    }
    if (s != BD_OK) {
        bd_dataset_free(train);
        bd_dataset_free(test);
    }
    return s;
}

bd_status cli_classes(bd_dataset *train, bd_dataset *test, int classes, int *distinct)
{
    /* the labels of both sets together: a split may put the stray one in
     * either */
    bd_dataset all;
    memset(&all, 0, sizeof all);
    int ys[1] = {train->n + test->n};
    bd_status s = bd_tensor_alloc(&all.y, BD_I32, 1, ys);
    if (s != BD_OK)
        return s;
    memcpy(all.y.data, train->y.data, (size_t)train->n * sizeof(int32_t));
    if (test->n)
        memcpy(bd_i32(&all.y) + train->n, test->y.data, (size_t)test->n * sizeof(int32_t));
    all.n = ys[0];
    all.nclasses = classes;
    snprintf(all.name, sizeof all.name, "%s", train->name);
    s = bd_dataset_classes(&all, classes, distinct);
    if (s == BD_OK)
        train->nclasses = test->nclasses = all.nclasses > 0 ? all.nclasses : 1;
    bd_tensor_free(&all.y);
    return s;
}
