/* cmd_train.c — `badak train`: parse options, load data, build the network,
 * hand everything to bd_train, print per-epoch lines and a summary. */
#include "cli.h"

#include <cJSON.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *HELP =
    "Usage: badak train [options]\n"
    "\n"
    "Train a network and print per-epoch loss, train and test accuracy, then a\n"
    "summary. With no options it runs the book's chapter-5 TwoLayerNet on MNIST:\n"
    "  --model two_layer --hidden 50 --optimizer sgd --lr 0.1 --batch 100 --iters 10000\n"
    "\n"
    "Data:\n"
    "  --data NAME|DIR       mnist (default), fashion, or a folder with the four\n"
    "                        MNIST-style IDX files (plain or .gz)\n"
    "  --csv FILE            train on a CSV of numbers instead, one sample a row\n"
    "  --label-col N         CSV column of the class index (default -1: the last;\n"
    "                        negative counts from the end)\n"
    "  --test-csv FILE       CSV test set (same columns)\n"
    "  --test-split F        without --test-csv: hold out a shuffled fraction F of\n"
    "                        the CSV as the test set (default 0.2)\n"
    "  --train-size N        use only the first N training samples\n"
    "  --val-split F         hold out a shuffled fraction F of the training set\n"
    "                        (never the test set) for validation; its accuracy and\n"
    "                        loss are shown every epoch\n"
    "\n"
    "Network:\n"
    "  --model NAME          two_layer (default; Affine-ReLU-Affine-SoftmaxWithLoss),\n"
    "                        mlp (book's MultiLayerNet), simple_convnet (book 7.5),\n"
    "                        deep_convnet (book 8.1), resnet (a small ResNet), or\n"
    "                        FILE.ini, a network description (examples/*.ini,\n"
    "                        docs/architecture.md); the hidden-layer options below\n"
    "                        are for two_layer and mlp\n"
    "  --hidden LIST         hidden sizes, e.g. 50 or 100,100 (defaults: two_layer 50,\n"
    "                        mlp 100,100,100,100,100)\n"
    "  --activation NAME     relu (default), sigmoid, tanh, leaky_relu[:SLOPE]\n"
    "                        (0.01), prelu[:A0] (learned slopes, from 0.25),\n"
    "                        rrelu[:LO,HI] (random slope in [1/8,1/3] while training),\n"
    "                        elu[:ALPHA] (1.0)\n"
    "  --init INIT           std=0.01 (two_layer default), a std like 0.05, xavier,\n"
    "                        or he (mlp default with ReLU-like activations; xavier\n"
    "                        with sigmoid and tanh)\n"
    "  --batchnorm           BatchNorm after each hidden Affine, before the activation\n"
    "  --dropout P           inverted Dropout with drop probability P after each\n"
    "                        hidden activation\n"
    "  --loss NAME           softmax_ce (default), mse, mae, or bce (sigmoid + binary\n"
    "                        cross-entropy, one output, for two classes)\n"
    "  --weight-decay L      L2: adds L/2 * sum W^2 over the Affine weights (not\n"
    "                        biases) to the loss\n"
    "  --l1 L                L1: adds L * sum |W| over the Affine weights\n"
    "\n"
    "Training:\n"
    "  --optimizer NAME      sgd (default), momentum, nesterov, adagrad, rmsprop, adam\n"
    "  --lr RATE             learning rate (default: sgd 0.1 as in the book's\n"
    "                        chapter 5; momentum, nesterov, adagrad, rmsprop 0.01;\n"
    "                        adam 0.001)\n"
    "  --momentum M          momentum and nesterov (default 0.9)\n"
    "  --beta1 B --beta2 B   adam (defaults 0.9, 0.999)\n"
    "  --decay D             rmsprop's decay (default 0.99)\n"
    "  --eps E               adagrad, rmsprop, adam (default 1e-7, as in the book)\n"
    "  --lr-schedule NAME    constant (default), step (lr * gamma^(epoch/step)), exp\n"
    "                        (lr * gamma^epoch), cosine, or adaptive (keep the rate\n"
    "                        while the epoch loss improves, halve it when it worsens)\n"
    "  --lr-step N           epochs per step of the step schedule (default 10)\n"
    "  --lr-gamma G          factor of step (default 0.1) and exp (0.95)\n"
    "  --batch N             mini-batch size (default 100)\n"
    "  --epochs N            train for N epochs ...\n"
    "  --iters N             ... or N iterations (default 10000); one epoch is\n"
    "                        max(train size / batch, 1) iterations, as in the book\n"
    "  --patience N          early stopping (needs --val-split): stop when the\n"
    "                        validation loss has not improved for N epochs and keep\n"
    "                        the best epoch's weights\n"
    "  --sampling MODE       shuffle (default: each sample once per epoch) or\n"
    "                        replace (the book's np.random.choice, with replacement)\n"
    "  --seed N              seed of badak's PRNG (default 1); same seed and thread\n"
    "                        count give the same numbers, bit for bit\n"
    "  --threads N           threads of badak's pool (layers split each batch over\n"
    "                        them; OpenBLAS runs one thread per part); default all cores\n"
    "  --no-train-acc        skip the full training-set accuracy each epoch\n"
    "  --sync-bn             under mpirun: BatchNorm statistics over every rank's\n"
    "                        rows of the global batch (default: each rank's own)\n"
    "  --augment LIST        augment every training batch (never the test or\n"
    "                        validation sets), from a PRNG stream of its own:\n"
    "                        shift[:PIXELS]  random shift, zero-padded (default 2)\n"
    "                        rotate[:DEG]    random rotation in [-DEG, DEG] (10),\n"
    "                                        bilinear\n"
    "                        flip[:P]        horizontal flip with probability P\n"
    "                                        (0.5); off unless asked: meant for\n"
    "                                        Fashion-MNIST, not digits (a mirrored\n"
    "                                        2 is no 2)\n"
    "                        e.g. --augment shift,rotate or shift:3,flip,rotate:15;\n"
    "                        needs image data (MNIST-style), not CSV rows\n"
    "\n"
    "If the loss stops being finite, training stops with a message naming the epoch\n"
    "and iteration, keeps the weights of the last finished epoch and exits 1.\n"
    "\n"
    "Output:\n"
    "  --log FILE.csv        per-iteration loss and per-epoch accuracies as CSV\n"
    "  --json                end with one JSON line: test_accuracy, train_accuracy,\n"
    "                        epochs, iterations, seconds, seed, ...\n"
    "  --quiet               no progress bar, no per-epoch lines\n"
    "  --save FILE           save the trained model (safetensors: architecture,\n"
    "                        weights, training metadata) when training ends\n"
    "\n"
    "Checkpoints and transfer learning:\n"
    "  --checkpoint DIR      save DIR/checkpoint.safetensors (model, optimizer\n"
    "                        moments and step count, PRNG states, position) after\n"
    "                        every epoch, atomically; Ctrl-C (SIGINT) finishes the\n"
    "                        current step, saves it and exits 130\n"
    "  --resume DIR          continue the run saved in DIR with its own options (give\n"
    "                        only --threads, --quiet, --json, --save, --log or\n"
    "                        --checkpoint); it ends with the same weights, bit for bit,\n"
    "                        as a run never stopped (same thread count)\n"
    "  --init-from FILE      start from a saved model's architecture and weights\n"
    "                        (the network options do not apply)\n"
    "  --replace-head K      with --init-from: a fresh last Affine layer with K outputs\n"
    "                        (K = the data's classes)\n"
    "  --freeze N            train only the layers after the first N (no gradient, no\n"
    "                        optimizer state for them)\n"
    "  -h, --help            this help\n"
    "\n"
    "Data parallel: 'mpirun -np N badak train ...' (or srun) splits every batch\n"
    "of --batch rows over N ranks and averages the gradients; rank 0 prints and\n"
    "writes the files; --threads defaults to the cores per rank (docs/distributed.md).\n"
    "\n"
    "Exit status: 0 done, 1 failed (data, numerics), 2 bad option, 130 interrupted by\n"
    "SIGINT (the checkpoint of --checkpoint saved).\n";

/* set by SIGINT; bd_train checks it between steps */
static volatile sig_atomic_t g_stop;

static void on_sigint(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct run_ctx {
    progress bar;
    int quiet;
    int show_lr;
    long total;
} run_ctx;

static void on_iter(void *ud, long iter, long total, float loss)
{
    run_ctx *c = ud;
    c->total = total;
    progress_update(&c->bar, iter, total, loss);
}

static void on_epoch(void *ud, const bd_epoch_stats *s)
{
    run_ctx *c = ud;
    if (c->quiet)
        return;
    progress_clear(&c->bar);
    printf("epoch %3d  iter %6ld  loss %.4f", s->epoch, s->iter, (double)s->loss);
    if (s->train_acc >= 0)
        printf("  train acc %.4f", (double)s->train_acc);
    if (s->test_acc >= 0)
        printf("  test acc %.4f", (double)s->test_acc);
    if (s->val_acc >= 0)
        printf("  val acc %.4f  val loss %.4f", (double)s->val_acc, (double)s->val_loss);
    if (c->show_lr)
        printf("  lr %.3g", (double)s->lr);
    printf("  %.2fs\n", s->seconds);
    fflush(stdout);
}

/* s as a JSON string body: quotes, backslashes and control bytes escaped */
static const char *json_str(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    for (; *s && o + 7 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            o += (size_t)snprintf(buf + o, len - o, "\\%c", ch);
        else if (ch < 0x20)
            o += (size_t)snprintf(buf + o, len - o, "\\u%04x", ch);
        else
            buf[o++] = (char)ch;
    }
    buf[o] = 0;
    return buf;
}

enum {
    O_DATA = 256, O_CSV, O_LABELCOL, O_TESTCSV, O_TESTSPLIT, O_TRAINSIZE, O_OPT, O_LR, O_BATCH, O_EPOCHS, O_ITERS, O_SAMPLING, O_SEED, O_THREADS,
    O_NOTRAINACC, O_LOG, O_JSON, O_QUIET, O_VALSPLIT,
    O_MOMENTUM, O_BETA1, O_BETA2, O_DECAY, O_EPS, O_SCHED, O_LRSTEP, O_LRGAMMA, O_PATIENCE,
    O_AUGMENT, O_SAVE, O_CHECKPOINT, O_RESUME, O_INITFROM, O_FREEZE, O_REPLACEHEAD,
    O_SYNCBN
};

static const struct option LONGOPTS[] = {
    {"data", required_argument, 0, O_DATA},
    {"csv", required_argument, 0, O_CSV},
    {"label-col", required_argument, 0, O_LABELCOL},
    {"test-csv", required_argument, 0, O_TESTCSV},
    {"test-split", required_argument, 0, O_TESTSPLIT},
    {"train-size", required_argument, 0, O_TRAINSIZE},
    {"val-split", required_argument, 0, O_VALSPLIT},
    CLI_NET_LONGOPTS,
    {"optimizer", required_argument, 0, O_OPT},
    {"lr", required_argument, 0, O_LR},
    {"momentum", required_argument, 0, O_MOMENTUM},
    {"beta1", required_argument, 0, O_BETA1},
    {"beta2", required_argument, 0, O_BETA2},
    {"decay", required_argument, 0, O_DECAY},
    {"eps", required_argument, 0, O_EPS},
    {"lr-schedule", required_argument, 0, O_SCHED},
    {"lr-step", required_argument, 0, O_LRSTEP},
    {"lr-gamma", required_argument, 0, O_LRGAMMA},
    {"batch", required_argument, 0, O_BATCH},
    {"epochs", required_argument, 0, O_EPOCHS},
    {"iters", required_argument, 0, O_ITERS},
    {"patience", required_argument, 0, O_PATIENCE},
    {"sampling", required_argument, 0, O_SAMPLING},
    {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS},
    {"no-train-acc", no_argument, 0, O_NOTRAINACC},
    {"augment", required_argument, 0, O_AUGMENT},
    {"log", required_argument, 0, O_LOG},
    {"json", no_argument, 0, O_JSON},
    {"quiet", no_argument, 0, O_QUIET},
    {"save", required_argument, 0, O_SAVE},
    {"checkpoint", required_argument, 0, O_CHECKPOINT},
    {"resume", required_argument, 0, O_RESUME},
    {"init-from", required_argument, 0, O_INITFROM},
    {"freeze", required_argument, 0, O_FREEZE},
    {"replace-head", required_argument, 0, O_REPLACEHEAD},
    {"sync-bn", no_argument, 0, O_SYNCBN},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* A run to continue (--resume): what the checkpoint holds. */
typedef struct resume_ctx {
    const char *dir;
    bd_net net;
    bd_optim opt;
    bd_train_pos pos;
} resume_ctx;

static int train_main(int argc, char **argv, const char *run, resume_ctx *ck)
{
    const char *save_path = NULL, *ckpt_dir = NULL, *init_from = NULL;
    long freeze = -1, replace_head = 0;
    const char *data = "mnist", *csv = NULL, *test_csv = NULL, *optimizer = "sgd";
    const char *log_path = NULL, *schedule = "constant";
    long label_col = -1, train_size = 0, batch = 100, epochs = 0, iters = 0, threads = 0;
    long lr_step = 10, patience = 0;
    float test_split = 0.2f, val_split = 0.0f, lr_gamma = 0.0f;
    uint64_t seed = 1;
    int json = 0, quiet = 0, eval_train = 1, lr_given = 0, sync_bn = 0;
    bd_optim_config oc = {0};
    bd_sampling sampling = BD_SAMPLE_SHUFFLE;
    bd_augment aug;
    bd_augment_default(&aug);
    net_opts no = {.model = "two_layer", .activation = "relu"};

    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", LONGOPTS, NULL)) != -1) {
        const char *o = optarg;
        int bad = 0;
        switch (c) {
        case 'h': fputs(HELP, stdout); return 0;
        case O_DATA: data = o; break;
        case O_CSV: csv = o; break;
        case O_LABELCOL: bad = cli_int("train", "--label-col", o, -100000, 100000, &label_col); break;
        case O_TESTCSV: test_csv = o; break;
        case O_TESTSPLIT: bad = cli_float("train", "--test-split", o, 0.001, 0.999, &test_split); break;
        case O_TRAINSIZE: bad = cli_int("train", "--train-size", o, 1, 1L << 30, &train_size); break;
        case O_VALSPLIT: bad = cli_float("train", "--val-split", o, 0.001, 0.999, &val_split); break;
        case O_OPT: optimizer = o; break;
        case O_LR: bad = cli_float("train", "--lr", o, 1e-12, 1e6, &oc.lr); lr_given = 1; break;
        case O_MOMENTUM: bad = cli_float("train", "--momentum", o, 1e-9, 0.999999, &oc.momentum); break;
        case O_BETA1: bad = cli_float("train", "--beta1", o, 1e-9, 0.999999, &oc.beta1); break;
        case O_BETA2: bad = cli_float("train", "--beta2", o, 1e-9, 0.999999, &oc.beta2); break;
        case O_DECAY: bad = cli_float("train", "--decay", o, 1e-9, 0.999999, &oc.decay); break;
        case O_EPS: bad = cli_float("train", "--eps", o, 1e-30, 1, &oc.eps); break;
        case O_SCHED: schedule = o; break;
        case O_LRSTEP: bad = cli_int("train", "--lr-step", o, 1, 1000000, &lr_step); break;
        case O_LRGAMMA: bad = cli_float("train", "--lr-gamma", o, 1e-6, 1, &lr_gamma); break;
        case O_BATCH: bad = cli_int("train", "--batch", o, 1, 1 << 20, &batch); break;
        case O_EPOCHS: bad = cli_int("train", "--epochs", o, 1, 1000000, &epochs); break;
        case O_ITERS: bad = cli_int("train", "--iters", o, 1, 1L << 40, &iters); break;
        case O_PATIENCE: bad = cli_int("train", "--patience", o, 1, 1000000, &patience); break;
        case O_SAMPLING:
            if (strcmp(o, "shuffle") == 0)
                sampling = BD_SAMPLE_SHUFFLE;
            else if (strcmp(o, "replace") == 0)
                sampling = BD_SAMPLE_REPLACE;
            else
                return cli_usage_error("train", "--sampling: '%s' (expected shuffle or replace)", o);
            break;
        case O_SEED: bad = cli_u64("train", "--seed", o, &seed); break;
        case O_THREADS: bad = cli_int("train", "--threads", o, 1, 1024, &threads); break;
        case O_NOTRAINACC: eval_train = 0; break;
        case O_AUGMENT:
            if (bd_parse_augment(o, &aug) != BD_OK)
                return cli_usage_error("train", "--augment: %s", bd_errmsg());
            break;
        case O_LOG: log_path = o; break;
        case O_JSON: json = 1; break;
        case O_QUIET: quiet = 1; break;
        case O_SAVE: save_path = o; break;
        case O_CHECKPOINT: ckpt_dir = o; break;
        case O_RESUME: break; /* handled by cmd_train */
        case O_INITFROM: init_from = o; break;
        case O_FREEZE: bad = cli_int("train", "--freeze", o, 0, 100000, &freeze); break;
        case O_REPLACEHEAD: bad = cli_int("train", "--replace-head", o, 1, 1000000, &replace_head); break;
        case O_SYNCBN: sync_bn = 1; break;
        default:
            bad = cli_net_option("train", c, o, &no);
            if (bad == 0)
                return cli_usage_error("train", "unknown or incomplete option");
            bad = bad < 0;
        }
        if (bad)
            return EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    cli_dist_outputs(&quiet, &json, &log_path, &ckpt_dir, &save_path); /* rank 0 writes */
    if (epochs && iters)
        return cli_usage_error("train", "give --epochs or --iters, not both");
    if (!epochs && !iters)
        iters = 10000;
    if ((test_csv || label_col != -1) && !csv)
        return cli_usage_error("train", "--test-csv and --label-col need --csv");
    if (patience && val_split <= 0)
        return cli_usage_error("train", "--patience needs --val-split (early stopping watches the validation loss)");
    if (replace_head && !init_from)
        return cli_usage_error("train", "--replace-head needs --init-from");
    /* the book's chapter-5 rate for SGD; the other optimizers' own defaults */
    if (!lr_given && strcmp(optimizer, "sgd") == 0)
        oc.lr = 0.1f;

    /* Check the cheap things (network, optimizer, schedule) before loading
     * the data, by building them once on a 1-feature, 2-class problem. */
    bd_lr_schedule sched;
    bd_status s = bd_parse_schedule(schedule, &sched);
    bd_net net;
    bd_optim opt;
    bd_rng rng;
    bd_rng_seed(&rng, seed);
    if (s == BD_OK) {
        bd_net_spec spec;
        s = cli_net_spec(&no, &spec);
        if (s == BD_OK && cli_is_dense(&no) && !init_from && !ck) {
            s = cli_build_net(&no, 1, 1, 1, 2, &rng, &net);
            if (s == BD_OK)
                bd_net_free(&net);
        }
    }
    if (s == BD_OK) {
        s = bd_optim_create(&opt, optimizer, &oc, 0);
        bd_optim_free(&opt);
    }
    if (s != BD_OK)
        return cli_usage_error("train", "%s", bd_errmsg());

    int nthreads = bd_set_threads(cli_dist_threads(threads));
    double t0 = bd_seconds();
    bd_dataset train, test, val;
    memset(&val, 0, sizeof val);
    s = cli_load_data(data, csv, (int)label_col, test_csv, test_split, seed, &train, &test);
    if (s != BD_OK) /* under mpirun, with every rank (their next check) */
        return cli_dist_any_failed(s);
    if (train_size)
        s = bd_dataset_truncate(&train, (int)train_size);
    if (s == BD_OK && val_split > 0) {
        bd_rng vr;
        bd_rng_seed(&vr, seed ^ 0x7a1ULL);
        s = bd_dataset_split(&train, val_split, &vr, &val);
    }
    if (s == BD_OK && aug.flags && bd_augment_check(&aug, train.c, train.h, train.w) != BD_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", bd_errmsg());
        s = bd_error(BD_ERR_ARG, "%s: %s", train.name, msg);
    }
    int frc = cli_dist_any_failed(s);
    if (frc) {
        bd_dataset_free(&train);
        bd_dataset_free(&test);
        return frc;
    }
    double t_load = bd_seconds() - t0;

    bd_rng_seed(&rng, seed);
    int classes = train.nclasses > test.nclasses ? train.nclasses : test.nclasses;
    if (ck) { /* the network and optimizer as the checkpoint left them */
        net = ck->net;
        opt = ck->opt;
        memset(&ck->net, 0, sizeof ck->net);
        memset(&ck->opt, 0, sizeof ck->opt);
    } else {
        memset(&net, 0, sizeof net); /* a failed build leaves it empty, so free is safe */
        if (init_from) {
            /* transfer learning: a trained model, maybe with a new head */
            s = bd_model_load(&net, init_from, NULL);
            if (s == BD_OK && replace_head)
                s = bd_net_replace_head(&net, (int)replace_head, &rng);
            if (s == BD_OK && (no.weight_decay > 0 || no.l1 > 0)) {
                net.weight_decay = no.weight_decay;
                net.l1 = no.l1;
            }
        } else {
            s = cli_build_net(&no, train.c, train.h, train.w, classes, &rng, &net);
        }
        if (s == BD_OK && freeze >= 0)
            s = bd_net_freeze(&net, (int)freeze);
        if (s == BD_OK)
            s = bd_optim_create(&opt, optimizer, &oc, bd_net_trainable_count(&net));
        if (s != BD_OK)
            bd_net_free(&net);
    }
    frc = cli_dist_any_failed(s); /* the network built (or loaded) on every rank */
    if (!frc && (s = cli_dist_agree(&train, &test, &val, &net, run)) != BD_OK) {
        frc = cli_dist_fail(s, 1);
        bd_optim_free(&opt);
        bd_net_free(&net);
    }
    if (frc) {
        bd_dataset_free(&train);
        bd_dataset_free(&test);
        bd_dataset_free(&val);
        return frc;
    }
    if (!quiet) {
        printf("badak %s: %s on %s (%d train, %d test", BD_VERSION, net.desc, train.name,
               train.n, test.n);
        if (val.n)
            printf(", %d validation", val.n);
        printf("), %zu parameters", bd_net_param_count(&net));
        if (net.frozen)
            printf(" (first %d layers frozen: %zu trainable)", net.frozen,
                   bd_net_trainable_count(&net));
        printf("\n");
        if (ck)
            printf("resuming %s at iteration %ld (epoch %d)\n", ck->dir, ck->pos.iter,
                   ck->pos.epoch);
        printf("optimizer %s lr %g", opt.ops->name, (double)opt.cfg.lr);
        if (sched != BD_LR_CONSTANT)
            printf(" (%s schedule)", bd_schedule_name(sched));
        if (no.weight_decay > 0)
            printf(", weight decay %g", (double)no.weight_decay);
        if (no.l1 > 0)
            printf(", L1 %g", (double)no.l1);
        if (aug.flags) {
            char abuf[96];
            printf(", augment %s", bd_augment_str(&aug, abuf, sizeof abuf));
        }
        printf(", batch %ld, %s %ld, seed %llu, %d threads; data loaded in %.2fs\n", batch,
               epochs ? "epochs" : "iterations", epochs ? epochs : iters,
               (unsigned long long)seed, nthreads, t_load);
        fflush(stdout);
    }

    run_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.quiet = quiet;
    ctx.show_lr = sched != BD_LR_CONSTANT;
    progress_init(&ctx.bar, quiet);
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = (int)batch;
    cfg.epochs = (int)epochs;
    cfg.iters = iters;
    cfg.sampling = sampling;
    cfg.seed = seed;
    cfg.eval_train = eval_train;
    cfg.val = val.n ? &val : NULL;
    cfg.patience = (int)patience;
    cfg.schedule = sched;
    cfg.lr_step = (int)lr_step;
    cfg.lr_gamma = lr_gamma;
    cfg.log_path = log_path;
    cfg.augment = aug.flags ? &aug : NULL;
    cfg.on_iter = on_iter;
    cfg.on_epoch = on_epoch;
    cfg.ud = &ctx;
    bd_model_meta meta;
    bd_model_meta_init(&meta);
    snprintf(meta.data, sizeof meta.data, "%s", csv ? csv : data);
    snprintf(meta.optimizer, sizeof meta.optimizer, "%s", opt.ops->name);
    meta.seed = seed;
    meta.batch = (int)batch;
    meta.lr = opt.cfg.lr;
    cfg.checkpoint = ckpt_dir;
    cfg.ckpt_meta = &meta;
    cfg.ckpt_run = run;
    cfg.resume = ck ? &ck->pos : NULL;
    cfg.comm = cli_dist_comm(sync_bn);
    /* Ctrl-C: finish the step, checkpoint, stop; a second one kills */
    g_stop = 0;
    cfg.stop = &g_stop;
    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_sa);
    /* under mpirun: Ctrl-C reaches the ranks as SIGTERM (SIGKILL 1 s later,
     * odls_base_sigkill_timeout); SIGUSR1 is forwarded as it is */
    struct sigaction old_term, old_usr1;
    if (cfg.comm) {
        sigaction(SIGTERM, &sa, &old_term);
        sigaction(SIGUSR1, &sa, &old_usr1);
    }
    bd_train_result res;
    s = bd_train(&net, &opt, &train, test.n ? &test : NULL, &cfg, &res);
    sigaction(SIGINT, &old_sa, NULL);
    if (cfg.comm) {
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGUSR1, &old_usr1, NULL);
    }
    progress_clear(&ctx.bar);
    double total_s = bd_seconds() - t0;
    int rc = 0;
    /* the NaN guard and argument checks end every rank alike; any other
     * failure (a rank's checkpoint write) may be one rank's alone */
    if (s != BD_OK)
        rc = cli_dist_fail(s, s == BD_ERR_NUMERIC || s == BD_ERR_ARG);
    else if ((s = cli_dist_agree_net("the trained network", &net)) != BD_OK)
        rc = cli_dist_fail(s, 1);
    cli_dist_report(quiet || s != BD_OK);
    if (!quiet && s == BD_OK) {
        if (res.stopped_early)
            printf("early stop: validation loss did not improve for %ld epochs; keeping the "
                   "weights of epoch %d\n", patience, res.best_epoch);
        printf("done: %d epochs, %ld iterations in %.2fs (%.0f it/s), %.2fs with data loading\n",
               res.epochs, res.iters, res.seconds, res.seconds > 0 ? res.iters / res.seconds : 0.0,
               total_s);
        if (res.train_acc >= 0)
            printf("train accuracy %.4f\n", (double)res.train_acc);
        if (res.val_acc >= 0)
            printf("validation accuracy %.4f\n", (double)res.val_acc);
        if (res.test_acc >= 0)
            printf("test accuracy %.4f\n", (double)res.test_acc);
        printf("peak memory %.1f MB\n", (double)bd_peak_rss() / 1e6);
    }
    if (s == BD_OK && res.interrupted && !cli_dist_root()) {
        rc = EXIT_INTERRUPTED;
    } else if (s == BD_OK && res.interrupted) {
        fflush(stdout);
        fprintf(stderr, "badak: interrupted after iteration %ld: %s\n", res.iters,
                ckpt_dir ? "checkpoint saved; continue with --resume" : "nothing saved (no --checkpoint)");
        if (ckpt_dir)
            fprintf(stderr, "badak: resume with: badak train --resume %s\n", ckpt_dir);
        rc = EXIT_INTERRUPTED;
    } else if (s == BD_OK && save_path) {
        meta.epochs = res.epochs;
        meta.iters = res.iters;
        meta.test_acc = res.test_acc;
        meta.train_acc = res.train_acc;
        s = bd_model_save(&net, save_path, &meta);
        if (s != BD_OK)
            rc = cli_dist_fail(s, 0);
        else if (!quiet)
            printf("model saved to %s\n", save_path);
    }
    char jdata[256], jaug[96];
    if (json)
        printf("{\"status\":\"%s\",\"model\":\"%s\",\"data\":\"%s\",\"optimizer\":\"%s\","
               "\"lr\":%g,\"batch\":%ld,\"test_accuracy\":%.6f,\"train_accuracy\":%.6f,"
               "\"val_accuracy\":%.6f,\"final_loss\":%.6f,\"epochs\":%d,\"iterations\":%ld,"
               "\"best_epoch\":%d,\"stopped_early\":%s,\"seconds\":%.4f,"
               "\"total_seconds\":%.4f,\"seed\":%llu,\"threads\":%d,\"peak_rss_mb\":%.1f,"
               "\"augment\":\"%s\",\"interrupted\":%s}\n",
               s == BD_OK ? "ok" : bd_status_name(s), no.model,
               json_str(train.name, jdata, sizeof jdata), opt.ops->name, (double)opt.cfg.lr,
               batch, (double)res.test_acc, (double)res.train_acc, (double)res.val_acc,
               (double)res.final_loss, res.epochs, res.iters, res.best_epoch,
               res.stopped_early ? "true" : "false", res.seconds, total_s,
               (unsigned long long)seed, nthreads, (double)bd_peak_rss() / 1e6,
               bd_augment_str(&aug, jaug, sizeof jaug), res.interrupted ? "true" : "false");
    bd_optim_free(&opt);
    bd_net_free(&net);
    bd_dataset_free(&train);
    bd_dataset_free(&test);
    bd_dataset_free(&val);
    return rc;
}

/* The options --resume allows next to it: the rest come from the checkpoint. */
static int resume_allowed(const char *name, int *takes_arg)
{
    static const char *const with_arg[] = {"resume", "threads", "save", "log", "checkpoint"};
    static const char *const flags[] = {"quiet", "json", "help", "no-train-acc"};
    for (size_t i = 0; i < sizeof with_arg / sizeof *with_arg; i++)
        if (!strcmp(name, with_arg[i]))
            return *takes_arg = 1, 1;
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        if (!strcmp(name, flags[i]))
            return *takes_arg = 0, 1;
    return 0;
}

/* The run's options as a JSON array of strings, without --resume: what a
 * checkpoint keeps so that --resume can run the same command again. */
static char *run_text(int argc, char **argv)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 1; a && i < argc; i++) {
        if (!strcmp(argv[i], "--resume") && i + 1 < argc) {
            i++;
            continue;
        }
        if (!strncmp(argv[i], "--resume=", 9))
            continue;
        cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
    }
    char *t = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return t;
}

int cmd_train(int argc, char **argv)
{
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            break;
        if (!strcmp(argv[i], "--resume") && i + 1 < argc)
            dir = argv[i + 1];
        else if (!strncmp(argv[i], "--resume=", 9))
            dir = argv[i] + 9;
    }
    if (!dir) {
        char *run = run_text(argc, argv);
        int rc = train_main(argc, argv, run, NULL);
        cJSON_free(run);
        return rc;
    }
    /* --resume DIR: only output options may come with it */
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0)
            return cli_usage_error("train", "unexpected argument '%s'", argv[i]);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(argv[i] + 2, "="), argv[i] + 2);
        int takes = 0;
        if (!resume_allowed(name, &takes))
            return cli_usage_error("train", "--resume continues the run with the options saved in "
                                   "its checkpoint; --%s cannot be changed (allowed: --threads, "
                                   "--quiet, --json, --save, --log, --checkpoint)", name);
        if (takes && !strchr(argv[i], '='))
            i++;
    }
    resume_ctx ck;
    memset(&ck, 0, sizeof ck);
    ck.dir = dir;
    char *saved = NULL;
    bd_status s = bd_checkpoint_load(dir, &ck.net, &ck.opt, &ck.pos, NULL, &saved);
    if (s != BD_OK)
        return cli_fail(s);
    cJSON *args = saved ? cJSON_Parse(saved) : NULL;
    free(saved);
    int n = cJSON_IsArray(args) ? cJSON_GetArraySize(args) : -1;
    char **av = n >= 0 ? calloc((size_t)(n + argc + 1), sizeof *av) : NULL;
    int rc;
    if (!av) {
        fprintf(stderr, "badak: error: %s: the checkpoint does not keep the run's options "
                "(badak.run); it was not written by 'badak train'\n", dir);
        rc = EXIT_FAIL;
    } else {
        /* the saved options first, then the ones given now (later ones win) */
        int ac = 0;
        av[ac++] = argv[0];
        const cJSON *v;
        cJSON_ArrayForEach(v, args) av[ac++] = cJSON_IsString(v) ? v->valuestring : "";
        for (int i = 1; i < argc; i++)
            av[ac++] = argv[i];
        char *run = run_text(ac, av);
        rc = train_main(ac, av, run, &ck);
        cJSON_free(run);
    }
    free(av);
    cJSON_Delete(args);
    bd_net_free(&ck.net);
    bd_optim_free(&ck.opt);
    bd_train_pos_free(&ck.pos);
    return rc;
}
