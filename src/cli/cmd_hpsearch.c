/* cmd_hpsearch.c — `badak hpsearch`: random search of the learning rate and
 * weight decay (book 6.5.3), printed as the notes print it. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *HELP =
    "Usage: badak hpsearch [options]\n"
    "\n"
    "Random search of the learning rate and the weight decay, as in the book (6.5.3):\n"
    "each trial samples both on a log scale, trains a fresh network for a few\n"
    "epochs on the first --train-size training samples (a shuffled --val-split of\n"
    "them held out for validation), and the trials are printed best first:\n"
    "  Best-1 (val acc: 0.84) | lr: 0.0081, weight decay: 3.2e-07\n"
    "\n"
    "  --data NAME|DIR       mnist (default), fashion or a folder of IDX files\n"
    "  --train-size N        samples used (default 500, as in the book)\n"
    "  --val-split F         fraction held out for validation (default 0.2)\n"
    "  --trials N            trials (default 100)\n"
    "  --epochs N            epochs per trial (default 50)\n"
    "  --lr-range LO,HI      learning-rate range (default 1e-6,1e-2)\n"
    "  --wd-range LO,HI      weight-decay range (default 1e-8,1e-4)\n"
    "  --model NAME          mlp (default) or two_layer\n"
    "  --hidden LIST         hidden sizes (default 100,100,100,100,100,100)\n"
    "  --activation NAME     as in train (default relu)\n"
    "  --init INIT           as in train (default: he for relu)\n"
    "  --batchnorm, --dropout P, --loss NAME, --l1 L   as in train\n"
    "  --optimizer NAME      sgd (default) or another of train's optimizers\n"
    "  --batch N             mini-batch size (default 100)\n"
    "  --top N               print only the N best trials (default: all)\n"
    "  --csv FILE            every trial's per-epoch train and validation accuracy\n"
    "  --seed N              seed (default 1): same seed, same trials\n"
    "  --threads N           threads (default all cores)\n"
    "  --quiet               no progress line\n"
    "  -h, --help            this help\n";

enum {
    O_DATA = 256, O_TRAINSIZE, O_VALSPLIT, O_TRIALS, O_EPOCHS, O_LRR, O_WDR, O_OPT, O_BATCH, O_TOP, O_CSV, O_SEED,
    O_THREADS, O_QUIET
};

static const struct option LONGOPTS[] = {
    {"data", required_argument, 0, O_DATA},
    {"train-size", required_argument, 0, O_TRAINSIZE},
    {"val-split", required_argument, 0, O_VALSPLIT},
    {"trials", required_argument, 0, O_TRIALS},
    {"epochs", required_argument, 0, O_EPOCHS},
    {"lr-range", required_argument, 0, O_LRR},
    {"wd-range", required_argument, 0, O_WDR},
    CLI_NET_LONGOPTS,
    {"optimizer", required_argument, 0, O_OPT},
    {"batch", required_argument, 0, O_BATCH},
    {"top", required_argument, 0, O_TOP},
    {"csv", required_argument, 0, O_CSV},
    {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS},
    {"quiet", no_argument, 0, O_QUIET},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* "LO,HI" with 0 < LO <= HI */
static int parse_range(const char *opt, const char *s, float *lo, float *hi)
{
    char *end;
    errno = 0;
    double a = strtod(s, &end);
    if (end == s || *end != ',' || errno)
        goto bad;
    const char *b = end + 1;
    double v = strtod(b, &end);
    if (end == b || *end || errno || !(a > 0) || !(v >= a) || v > 1e6)
        goto bad;
    *lo = (float)a;
    *hi = (float)v;
    return 0;
bad:
    cli_usage_error("hpsearch", "%s: '%s' is not a range LO,HI with 0 < LO <= HI", opt, s);
    return -1;
}

typedef struct hp_ctx {
    progress bar;
} hp_ctx;

static void on_trial(void *ud, const bd_hp_trial *t, int done, int total)
{
    hp_ctx *c = ud;
    progress_update(&c->bar, done, total, t->val_acc);
}

/* the command's options: parsed, then checked */
typedef struct hp_opts {
    const char *data, *csv;
    long train_size, top, threads, trials, epochs, batch;
    int quiet;
    bd_hpsearch_config hc;
    net_opts no;
} hp_opts;

/* -1: go on; else the exit code (--help: 0, a bad option: EXIT_USAGE) */
static int parse_options(int argc, char **argv, hp_opts *p)
{
    memset(p, 0, sizeof *p);
    p->data = "mnist";
    p->train_size = 500;
    bd_hpsearch_config *hc = &p->hc;
    bd_hpsearch_config_default(hc);
    p->trials = hc->trials;
    p->epochs = hc->epochs;
    p->batch = hc->batch;
    p->no = (net_opts){.model = "mlp", .activation = "relu"};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", LONGOPTS, NULL)) != -1) {
        const char *o = optarg;
        int bad = 0;
        switch (c) {
        case 'h': fputs(HELP, stdout); return 0;
        case O_DATA: p->data = o; break;
        case O_TRAINSIZE: bad = cli_int("hpsearch", "--train-size", o, 2, 1L << 30, &p->train_size); break;
        case O_VALSPLIT: bad = cli_float("hpsearch", "--val-split", o, 0.001, 0.999, &hc->val_split); break;
        case O_TRIALS: bad = cli_int("hpsearch", "--trials", o, 1, 100000, &p->trials); break;
        case O_EPOCHS: bad = cli_int("hpsearch", "--epochs", o, 1, 100000, &p->epochs); break;
        case O_LRR: bad = parse_range("--lr-range", o, &hc->lr_min, &hc->lr_max); break;
        case O_WDR: bad = parse_range("--wd-range", o, &hc->wd_min, &hc->wd_max); break;
        case O_OPT: hc->optimizer = o; break;
        case O_BATCH: bad = cli_int("hpsearch", "--batch", o, 1, 1 << 20, &p->batch); break;
        case O_TOP: bad = cli_int("hpsearch", "--top", o, 1, 1000000, &p->top); break;
        case O_CSV: p->csv = o; break;
        case O_SEED: bad = cli_u64("hpsearch", "--seed", o, &hc->seed); break;
        case O_THREADS: bad = cli_int("hpsearch", "--threads", o, 1, 1024, &p->threads); break;
        case O_QUIET: p->quiet = 1; break;
        default:
            bad = cli_net_option("hpsearch", c, o, &p->no);
            if (bad == 0)
                return cli_usage_error("hpsearch", "unknown or incomplete option");
            bad = bad < 0;
        }
        if (bad)
            return EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("hpsearch", "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* the options together: -1 when they make a search, else EXIT_USAGE */
static int check_options(hp_opts *p)
{
    net_opts *no = &p->no;
    if (no->weight_decay > 0)
        return cli_usage_error("hpsearch", "the search samples the weight decay: give --wd-range, not --weight-decay");
    if (!no->nhidden && strcmp(no->model, "mlp") == 0) { /* the book's 100 x 6 */
        no->nhidden = 6;
        for (int i = 0; i < 6; i++)
            no->hidden[i] = 100;
    }
    p->hc.trials = (int)p->trials;
    p->hc.epochs = (int)p->epochs;
    p->hc.batch = (int)p->batch;
    bd_net net;
    bd_rng rng;
    bd_rng_seed(&rng, p->hc.seed);
    bd_status s = cli_build_net(no, 1, 1, 1, 2, &rng, &net);
    if (s == BD_OK) {
        bd_net_free(&net);
        bd_optim opt;
        s = bd_optim_create(&opt, p->hc.optimizer, NULL, 0);
        bd_optim_free(&opt);
    }
    if (s != BD_OK)
        return cli_usage_error("hpsearch", "%s", bd_errmsg());
    return -1;
}

/* the first --train-size training samples, the same on every rank: 0, or
 * the exit code */
static int load_data(const hp_opts *p, int argc, char **argv, bd_dataset *train)
{
    bd_dataset test;
    bd_status s = cli_load_named(p->data, train, &test);
    if (s != BD_OK)
        return cli_dist_any_failed(s);
    bd_dataset_free(&test); /* the search never looks at the test set */
    if (p->train_size < train->n)
        s = bd_dataset_truncate(train, (int)p->train_size);
    int frc = cli_dist_any_failed(s);
    if (frc) {
        bd_dataset_free(train);
        return frc;
    }
    char *run = cli_dist_argv_text(argc, argv);
    s = cli_dist_agree(train, NULL, NULL, NULL, run);
    free(run);
    if (s != BD_OK) {
        bd_dataset_free(train);
        return cli_dist_fail(s, 1);
    }
    return 0;
}

/* the trials best first, as the notes print them, and the --csv file */
static int report(const hp_opts *p, const bd_hpsearch_result *r, double dt)
{
    const bd_hpsearch_config *hc = &p->hc;
    printf("hpsearch: %d trials x %d epochs, %d training / %d validation samples, %s, "
           "lr %g..%g, weight decay %g..%g, seed %llu: %.1fs\n",
           r->ntrials, r->epochs, r->ntrain, r->nval, hc->optimizer, (double)hc->lr_min,
           (double)hc->lr_max, (double)hc->wd_min, (double)hc->wd_max,
           (unsigned long long)hc->seed, dt);
    int n = p->top ? (int)(p->top < r->ntrials ? p->top : r->ntrials) : r->ntrials;
    for (int k = 0; k < n; k++) {
        const bd_hp_trial *t = &r->trials[k];
        printf("Best-%d (val acc: %.2f) | lr: %.4g, weight decay: %.4g%s\n", k + 1,
               (double)t->val_acc, (double)t->lr, (double)t->weight_decay,
               t->diverged ? " (diverged)" : "");
    }
    if (!p->csv)
        return 0;
    bd_status s = bd_hpsearch_write_csv(r, p->csv);
    if (s != BD_OK)
        return cli_fail(s);
    printf("curves written to %s\n", p->csv);
    return 0;
}

int cmd_hpsearch(int argc, char **argv)
{
    hp_opts p;
    int rc = parse_options(argc, argv, &p);
    if (rc < 0)
        rc = check_options(&p);
    if (rc >= 0)
        return rc;
    /* under mpirun: the trials are spread over the ranks; rank 0 prints */
    if (!cli_dist_root()) {
        p.quiet = 1;
        p.csv = NULL;
    }
    bd_set_threads(cli_dist_threads(p.threads));
    double t0 = bd_seconds();
    bd_dataset train;
    rc = load_data(&p, argc, argv, &train);
    if (rc)
        return rc;
    p.hc.comm = cli_dist_comm(0);
    bd_net_spec spec;
    bd_status s = cli_net_spec(&p.no, &spec);
    hp_ctx ctx;
    progress_init(&ctx.bar, p.quiet);
    p.hc.on_trial = on_trial;
    p.hc.ud = &ctx;
    bd_hpsearch_result r;
    if (s == BD_OK)
        s = bd_hpsearch(&spec, &train, &p.hc, &r);
    progress_clear(&ctx.bar);
    bd_dataset_free(&train);
    if (s != BD_OK) /* maybe one rank's trial alone: end the job */
        return cli_dist_fail(s, 0);
    double dt = bd_seconds() - t0;
    rc = cli_dist_root() ? report(&p, &r, dt) : 0;
    bd_hpsearch_free(&r);
    return rc;
}
