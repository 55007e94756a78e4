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

int cmd_hpsearch(int argc, char **argv)
{
    const char *data = "mnist", *csv = NULL;
    long train_size = 500, top = 0, threads = 0, trials, epochs, batch;
    int quiet = 0;
    bd_hpsearch_config hc;
    bd_hpsearch_config_default(&hc);
    trials = hc.trials;
    epochs = hc.epochs;
    batch = hc.batch;
    net_opts no = {.model = "mlp", .activation = "relu"};

    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", LONGOPTS, NULL)) != -1) {
        const char *o = optarg;
        int bad = 0;
        switch (c) {
        case 'h': fputs(HELP, stdout); return 0;
        case O_DATA: data = o; break;
        case O_TRAINSIZE: bad = cli_int("hpsearch", "--train-size", o, 2, 1L << 30, &train_size); break;
        case O_VALSPLIT: bad = cli_float("hpsearch", "--val-split", o, 0.001, 0.999, &hc.val_split); break;
        case O_TRIALS: bad = cli_int("hpsearch", "--trials", o, 1, 100000, &trials); break;
        case O_EPOCHS: bad = cli_int("hpsearch", "--epochs", o, 1, 100000, &epochs); break;
        case O_LRR: bad = parse_range("--lr-range", o, &hc.lr_min, &hc.lr_max); break;
        case O_WDR: bad = parse_range("--wd-range", o, &hc.wd_min, &hc.wd_max); break;
        case O_OPT: hc.optimizer = o; break;
        case O_BATCH: bad = cli_int("hpsearch", "--batch", o, 1, 1 << 20, &batch); break;
        case O_TOP: bad = cli_int("hpsearch", "--top", o, 1, 1000000, &top); break;
        case O_CSV: csv = o; break;
        case O_SEED: bad = cli_u64("hpsearch", "--seed", o, &hc.seed); break;
        case O_THREADS: bad = cli_int("hpsearch", "--threads", o, 1, 1024, &threads); break;
        case O_QUIET: quiet = 1; break;
        default:
            bad = cli_net_option("hpsearch", c, o, &no);
            if (bad == 0)
                return cli_usage_error("hpsearch", "unknown or incomplete option");
            bad = bad < 0;
        }
        if (bad)
            return EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("hpsearch", "unexpected argument '%s'", argv[optind]);
    if (no.weight_decay > 0)
        return cli_usage_error("hpsearch", "the search samples the weight decay: give --wd-range, not --weight-decay");
    if (!no.nhidden && strcmp(no.model, "mlp") == 0) { /* the book's 100 x 6 */
        no.nhidden = 6;
        for (int i = 0; i < 6; i++)
            no.hidden[i] = 100;
    }
    hc.trials = (int)trials;
    hc.epochs = (int)epochs;
    hc.batch = (int)batch;
    bd_net *net = NULL;
    bd_rng rng;
    bd_rng_seed(&rng, hc.seed);
    bd_status s = cli_build_net(&no, 1, 1, 1, 2, &rng, &net);
    if (s == BD_OK) {
        bd_net_free(net);
        s = bd_optim_check(hc.optimizer, NULL);
    }
    if (s != BD_OK)
        return cli_usage_error("hpsearch", "%s", cli_errmsg());

    /* under mpirun: the trials are spread over the ranks; rank 0 prints */
    if (!cli_dist_root()) {
        quiet = 1;
        csv = NULL;
    }
    bd_set_threads(cli_dist_threads(threads));
    double t0 = bd_seconds();
    bd_dataset train, test;
    s = cli_load_named(data, &train, &test);
    if (s != BD_OK)
        return cli_dist_any_failed(s);
    bd_dataset_free(&test); /* the search never looks at the test set */
    if (train_size < train.n)
        s = bd_dataset_truncate(&train, (int)train_size);
    int frc = cli_dist_any_failed(s);
    if (frc) {
        bd_dataset_free(&train);
        return frc;
    }
    char *run = cli_dist_argv_text(argc, argv);
    s = cli_dist_agree(&train, NULL, NULL, NULL, run);
    free(run);
    if (s != BD_OK) {
        bd_dataset_free(&train);
        return cli_dist_fail(s, 1);
    }
    hc.comm = cli_dist_comm(0);
    bd_net_spec spec;
    if (s == BD_OK)
        s = cli_net_spec(&no, &spec);
    hp_ctx ctx;
    progress_init(&ctx.bar, quiet);
    hc.on_trial = on_trial;
    hc.ud = &ctx;
    bd_hpsearch_result r;
    if (s == BD_OK)
        s = bd_hpsearch(&spec, &train, &hc, &r);
    progress_clear(&ctx.bar);
    bd_dataset_free(&train);
    if (s != BD_OK) /* maybe one rank's trial alone: end the job */
        return cli_dist_fail(s, 0);
    double dt = bd_seconds() - t0;
    if (!cli_dist_root()) {
        bd_hpsearch_free(&r);
        return 0;
    }
    printf("hpsearch: %d trials x %d epochs, %d training / %d validation samples, %s, "
           "lr %g..%g, weight decay %g..%g, seed %llu: %.1fs\n",
           r.ntrials, r.epochs, r.ntrain, r.nval, hc.optimizer, (double)hc.lr_min,
           (double)hc.lr_max, (double)hc.wd_min, (double)hc.wd_max,
           (unsigned long long)hc.seed, dt);
    int n = top ? (int)(top < r.ntrials ? top : r.ntrials) : r.ntrials;
    for (int k = 0; k < n; k++) {
        const bd_hp_trial *t = &r.trials[k];
        printf("Best-%d (val acc: %.2f) | lr: %.4g, weight decay: %.4g%s\n", k + 1,
               (double)t->val_acc, (double)t->lr, (double)t->weight_decay,
               t->diverged ? " (diverged)" : "");
    }
    int rc = 0;
    if (csv) {
        s = bd_hpsearch_write_csv(&r, csv);
        if (s != BD_OK)
            rc = cli_fail(s);
        else
            printf("curves written to %s\n", csv);
    }
    bd_hpsearch_free(&r);
    return rc;
}
