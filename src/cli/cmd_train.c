/* cmd_train.c — `badak train`: parse options, load data, build the network,
 * hand everything to bd_train, print per-epoch lines and a summary. */
#include "cli.h"

#include <cJSON.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
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
    "                        MNIST-style IDX files (plain or .gz);\n"
    "                        cifar10:DIR  the CIFAR-10 binary version (data_batch_1..5.bin,\n"
    "                        test_batch.bin, batches.meta.txt: 3x32x32 colour);\n"
    "                        cifar100:DIR  CIFAR-100's (train.bin, test.bin; the 100\n"
    "                        fine labels), cifar100-coarse:DIR  its 20 coarse labels.\n"
    "                        From https://www.cs.toronto.edu/~kriz/cifar.html\n"
    "                        images:DIR  a folder of images, one subfolder per class\n"
    "                        (PNG, PGM/PPM, JPEG; torchvision's ImageFolder), split\n"
    "                        by --test-split, or DIR/train/ and DIR/test/ as given;\n"
    "                        class names from the folder names\n"
    "  --image-size N|HxW    images:DIR: resize every image to this (default 32)\n"
    "  --image-channels C    images:DIR: 3 (default: R, G, B) or 1 (gray)\n"
    "  --normalize           normalise every channel by the training set's mean and\n"
    "                        standard deviation (kept in --save's model, so predict\n"
    "                        does the same)\n"
    "  --csv FILE            train on a CSV of numbers instead, one sample a row\n"
    "  --classes N           CSV: the classes are 0..N-1 (default: 0..the largest\n"
    "                        label; one far beyond the others is refused)\n"
    "  --label-col N         CSV column of the class index (default -1: the last;\n"
    "                        negative counts from the end; 0 is the first)\n"
    "  --task TASK           classify (default: one class index per row), regress\n"
    "                        (real-valued targets: linear outputs, MSE; targets are\n"
    "                        standardised and the model undoes it when predicting;\n"
    "                        RMSE, MAE and R^2 reported) or multilabel (several 0/1\n"
    "                        label columns: a sigmoid + binary cross-entropy per\n"
    "                        output; per-label precision/recall/F1, exact match)\n"
    "  --label-cols LIST     the target columns of regress / multilabel, e.g. 3,4 or\n"
    "                        -2..-1 (default: --label-col's one column)\n"
    "  --threshold P         multilabel: predict a label when its sigmoid > P (0.5)\n"
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
    "                        deep_convnet (book 8.1), resnet (a small ResNet),\n"
    "                        tobigs_cnn (seed 002's CNN: 5x5 conv 16,16 / 32,32 with\n"
    "                        BatchNorm and LeakyReLU, two max pools, Linear),\n"
    "                        resnet18 (seed 002's ResNet-18 for 32x32 colour), or\n"
    "                        FILE.ini, a network description (examples/*.ini,\n"
    "                        docs/architecture.md), whose [train] section may hold\n"
    "                        training options (keys: the long options below without\n"
    "                        dashes; the command line overrides them); the\n"
    "                        hidden-layer options below\n"
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
    "  --loss NAME           softmax_ce (default), mse, mae, huber, bce_multi (the\n"
    "                        multilabel default), or bce (sigmoid + binary\n"
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
    "                        (lr * gamma^epoch), cosine, adaptive (keep the rate\n"
    "                        while the epoch loss improves, halve it when it worsens),\n"
    "                        or onecycle (per step: warm up linearly from lr/25 to lr,\n"
    "                        then a half cosine down to 0)\n"
    "  --warmup F            onecycle: the fraction of the run spent warming up\n"
    "                        (default 0.15)\n"
    "  --lr-step N           epochs per step of the step schedule (default 10)\n"
    "  --lr-gamma G          factor of step (default 0.1) and exp (0.95)\n"
    "  --batch N             mini-batch size (default 100)\n"
    "  --epochs N            train for N epochs ...\n"
    "  --iters N             ... or N iterations (default 10000); one epoch is\n"
    "                        max(train size / batch, 1) iterations, as in the book;\n"
    "                        0: no step, the initialised network is measured and\n"
    "                        saved (the weights before training)\n"
    "  --patience N          early stopping (needs --val-split): stop when the\n"
    "                        validation loss has not improved for N epochs and keep\n"
    "                        the best epoch's weights\n"
    "  --sampling MODE       shuffle (default: each sample once per epoch),\n"
    "                        replace (the book's np.random.choice, with replacement)\n"
    "                        or balanced (with replacement, every class equally likely)\n"
    "  --balanced-sampling   --sampling balanced: for imbalanced classes\n"
    "  --class-weights auto  weigh each sample's loss by N / (K n_class): rare classes\n"
    "                        count as much as common ones (SoftmaxWithLoss)\n"
    "  --thin-classes L:F    keep only a seeded fraction F of the training samples of\n"
    "                        the classes L (e.g. 0..4:0.05): an imbalanced set to study\n"
    "  --clip-grad-norm G    scale each step's gradient down to norm G when it is\n"
    "                        larger (exploding gradients)\n"
    "  --confusion           print the confusion matrix and per-class accuracy of the\n"
    "                        test set (the training set if none) at the end\n"
    "  --seed N              seed of badak's PRNG (default 1); same seed and thread\n"
    "                        count give the same numbers, bit for bit\n"
    "  --threads N           threads of badak's pool (layers split each batch over\n"
    "                        them; OpenBLAS runs one thread per part); default all cores\n"
    "  --no-train-acc        skip the full training-set accuracy each epoch\n"
    "  --sync-bn             under mpirun: BatchNorm statistics over every rank's\n"
    "                        rows of the global batch (default: each rank's own)\n"
    "  --sums MODE           under mpirun: how the gradient is summed over the ranks:\n"
    "                        shared     through memory the ranks of a node share, then\n"
    "                                   one MPI_Allreduce per slice across nodes (the\n"
    "                                   default where every node runs as many ranks)\n"
    "                        allreduce  MPI_Iallreduce of the block in buckets\n"
    "  --update MODE         under mpirun: who steps the optimizer:\n"
    "                        shard  each rank its slice of the weights, then the\n"
    "                               ranks trade them (the default with the shared\n"
    "                               sums, without --clip-grad-norm or --log-layers)\n"
    "                        all    every rank all of them\n"
    "  --overlap             under mpirun, --sums allreduce (implied): sum the gradient\n"
    "                        while backward runs instead of after it (the same bits)\n"
    "  --no-overlap          under mpirun: sum the gradient after backward (the default)\n"
    "  --bucket-kb N         under mpirun, --sums allreduce: start a sum when N KB\n"
    "                        (default 256) of gradient are final (the first: the last\n"
    "                        layer's)\n"
    "  --probe-sums N        under mpirun: after training, time the last step's\n"
    "                        gradient sums N times right after a barrier (the transfer\n"
    "                        alone, no rank waiting for a slower one) and report it\n"
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
    "                        needs image data (MNIST-style or colour), not CSV rows;\n"
    "                        the CIFAR recipe is --augment shift:4,flip (random crop\n"
    "                        with 4 pixels of padding, horizontal flip)\n"
    "\n"
    "At the end it prints what seed 002's training tips check, when it applies (also\n"
    "in --json \"diagnostics\"): the loss did not fall (with the lr tried and what to\n"
    "try), accuracy stalled while the loss fell, train accuracy far above test\n"
    "(overfitting, with the gap), a non-finite loss (with the gradient norms before\n"
    "it), a loss that does not fit the last layer, one class over 80% of the data.\n"
    "\n"
    "If the loss stops being finite, training stops with a message naming the epoch\n"
    "and iteration, keeps the weights of the last finished epoch and exits 1.\n"
    "\n"
    "Output:\n"
    "  --log FILE.csv        per-iteration loss and per-epoch accuracies as CSV\n"
    "  --log-layers FILE.csv per layer, at step 1, every --log-layers-every steps\n"
    "                        and at each epoch's end: the norm of its parameters'\n"
    "                        gradient and its output's mean, std, fraction of\n"
    "                        zeros, min and max (vanishing gradients, saturated or\n"
    "                        dead units; 'badak figure layers' draws it). It only\n"
    "                        reads: the run is the same, bit for bit. Under mpirun\n"
    "                        rank 0 writes it (the gradients summed over the ranks,\n"
    "                        the activations of rank 0's rows)\n"
    "  --log-layers-every K  steps between two --log-layers records (default 50)\n"
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
    "                        only --threads, --quiet, --json, --save, --log,\n"
    "                        --checkpoint, --no-train-acc, or a new length); it ends\n"
    "                        with the same weights, bit for bit, as a run never stopped\n"
    "                        (same thread count). --epochs N or --iters N extend a\n"
    "                        finished run; a cosine or step schedule is recomputed for\n"
    "                        the new total from the resumed epoch on\n"
    "  --init-from FILE      start from a saved model's architecture and weights\n"
    "                        (the network options do not apply)\n"
    "  --replace-head K      with --init-from: a fresh last Affine layer with K outputs\n"
    "                        (K = the data's classes)\n"
    "  --freeze N            train only the layers after the first N (no gradient, no\n"
    "                        optimizer state for them)\n"
    "  -h, --help            this help\n"
    "\n"
    "Data parallel: 'mpirun -np N badak train ...' (or srun) splits every batch\n"
    "of --batch rows over N ranks and sums their gradients; the run is the same\n"
    "for any N. Rank 0 prints and writes the files; --threads defaults to the\n"
    "cores per rank; Ctrl-C to mpirun stops every rank at the same step\n"
    "(docs/distributed.md).\n"
    "\n"
    "Exit status: 0 done, 1 failed (data, numerics), 2 bad option, 130 interrupted by\n"
    "SIGINT (the checkpoint of --checkpoint saved).\n";

/* ------------------------------------------------------------ the options */

/* Every option of `badak train`, as parse_options leaves it. To add a flag:
 * a field here (with its default in opts_default), a row in FLAGS below (its
 * parser, and whether --resume may change it), its line in HELP, and its use
 * in the phase that needs it (load_data, build_model, train_config, report). */
typedef struct train_opts {
    /* data */
    const char *data, *csv, *test_csv, *label_cols;
    bd_task task;
    float threshold;
    long label_col, train_size, classes;
    float test_split, val_split;
    /* network */
    net_opts net;
    const char *init_from;
    long freeze, replace_head;
    /* training */
    const char *optimizer, *schedule;
    bd_optim_config oc;
    int lr_given;
    long lr_step, batch, epochs, iters, patience, threads;
    float lr_gamma, warmup;
    bd_sampling sampling;
    uint64_t seed;
    int eval_train, normalize;
    int class_weights, confusion, balanced; /* --class-weights auto, --confusion,
                                             * --balanced-sampling */
    const char *thin;             /* --thin-classes LIST:F */
    float clip;                   /* --clip-grad-norm G (0: off) */
    const char *image_size;       /* --image-size N or HxW (images:DIR) */
    long image_channels;          /* --image-channels 1 or 3 */
    bd_augment aug;
    /* output, checkpoints */
    const char *log_path, *save_path, *ckpt_dir, *resume_dir;
    const char *layer_log;        /* --log-layers FILE.csv */
    long layer_every;             /* --log-layers-every K (0: 50) */
    int json, quiet;
    int sync_bn;          /* under mpirun: BatchNorm statistics over all ranks */
    int sums;             /* under mpirun: dist_sums (0: auto) */
    int update;           /* under mpirun: CLI_UPDATE_* (0: auto) */
    int overlap;          /* under mpirun: gradient sums during backward */
    int no_overlap;       /* under mpirun: after backward (the default, explicit) */
    long bucket_kb;       /* under mpirun: gradient bucket size (0: default) */
    long probe_sums;      /* under mpirun: time this many sums alone after training */
} train_opts;

static void opts_default(train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->data = "mnist";
    o->label_col = -1;
    o->test_split = 0.2f;
    o->threshold = 0.5f;
    o->image_channels = 3;
    o->net = (net_opts){.model = "two_layer", .activation = "relu"};
    o->freeze = -1;
    o->optimizer = "sgd";
    o->schedule = "constant";
    o->lr_step = 10;
    o->batch = 100;
    o->epochs = o->iters = -1; /* not given */
    o->sampling = BD_SAMPLE_SHUFFLE;
    o->seed = 1;
    o->eval_train = 1;
    bd_augment_default(&o->aug);
}

/* How a flag's argument is read into its field. */
typedef enum flag_type {
    F_STR,   /* const char * */
    F_INT,   /* long in [lo, hi] */
    F_FLOAT, /* float in [lo, hi] */
    F_U64,   /* uint64_t */
    F_SET,   /* no argument: int field = 1 */
    F_CLEAR, /* no argument: int field = 0 */
    F_FN     /* parsed by fn */
} flag_type;

typedef struct train_flag {
    const char *name;
    flag_type type;
    size_t off;                  /* of the field in train_opts */
    double lo, hi;               /* F_INT, F_FLOAT */
    int on_resume;               /* may be given with --resume */
    int (*fn)(train_opts *o, const char *arg); /* F_FN: 0 or EXIT_USAGE */
} train_flag;

static int parse_lr(train_opts *o, const char *arg)
{
    o->lr_given = 1;
    return cli_float("train", "--lr", arg, 1e-12, 1e6, &o->oc.lr) ? EXIT_USAGE : 0;
}

static int parse_sampling(train_opts *o, const char *arg)
{
    if (strcmp(arg, "shuffle") == 0)
        o->sampling = BD_SAMPLE_SHUFFLE;
    else if (strcmp(arg, "replace") == 0)
        o->sampling = BD_SAMPLE_REPLACE;
    else if (strcmp(arg, "balanced") == 0)
        o->sampling = BD_SAMPLE_BALANCED;
    else
        return cli_usage_error("train", "--sampling: '%s' (expected shuffle, replace or balanced)",
                               arg);
    return 0;
}

static int parse_sums(train_opts *o, const char *arg)
{
    if (strcmp(arg, "shared") == 0)
        o->sums = CLI_SUMS_SHARED;
    else if (strcmp(arg, "allreduce") == 0)
        o->sums = CLI_SUMS_ALLREDUCE;
    else
        return cli_usage_error("train", "--sums: '%s' (expected shared or allreduce)", arg);
    return 0;
}

static int parse_update(train_opts *o, const char *arg)
{
    if (strcmp(arg, "shard") == 0)
        o->update = CLI_UPDATE_SHARD;
    else if (strcmp(arg, "all") == 0)
        o->update = CLI_UPDATE_ALL;
    else
        return cli_usage_error("train", "--update: '%s' (expected shard or all)", arg);
    return 0;
}

static int parse_class_weights(train_opts *o, const char *arg)
{
    if (strcmp(arg, "auto") != 0)
        return cli_usage_error("train", "--class-weights: '%s' (expected auto: inverse class "
                               "frequency)", arg);
    o->class_weights = 1;
    return 0;
}

static int parse_task(train_opts *o, const char *arg)
{
    if (strcmp(arg, "classify") == 0)
        o->task = BD_TASK_CLASSIFY;
    else if (strcmp(arg, "regress") == 0)
        o->task = BD_TASK_REGRESS;
    else if (strcmp(arg, "multilabel") == 0)
        o->task = BD_TASK_MULTILABEL;
    else
        return cli_usage_error("train", "--task: '%s' (expected classify, regress or multilabel)",
                               arg);
    return 0;
}

static int parse_augment(train_opts *o, const char *arg)
{
    if (bd_parse_augment(arg, &o->aug) != BD_OK)
        return cli_usage_error("train", "--augment: %s", cli_errmsg());
    return 0;
}

#define OFF(f) offsetof(train_opts, f)
#define STR(n, f, r) {n, F_STR, OFF(f), 0, 0, r, NULL}
#define INT(n, f, lo, hi, r) {n, F_INT, OFF(f), lo, hi, r, NULL}
#define FLT(n, f, lo, hi, r) {n, F_FLOAT, OFF(f), lo, hi, r, NULL}
#define FN(n, fn, r) {n, F_FN, 0, 0, 0, r, fn}

/* One row per flag (the network options come from cli.h). */
static const train_flag FLAGS[] = {
    STR("data", data, 0),
    STR("csv", csv, 0),
    INT("label-col", label_col, -100000, 100000, 0),
    INT("classes", classes, 1, 1 << 20, 0),
    STR("test-csv", test_csv, 0),
    FN("task", parse_task, 0),
    STR("label-cols", label_cols, 0),
    FLT("threshold", threshold, 1e-6, 0.999999, 0),
    FLT("test-split", test_split, 0.001, 0.999, 0),
    INT("train-size", train_size, 1, 1L << 30, 0),
    FLT("val-split", val_split, 0.001, 0.999, 0),
    STR("optimizer", optimizer, 0),
    FN("lr", parse_lr, 0),
    FLT("momentum", oc.momentum, 1e-9, 0.999999, 0),
    FLT("beta1", oc.beta1, 1e-9, 0.999999, 0),
    FLT("beta2", oc.beta2, 1e-9, 0.999999, 0),
    FLT("decay", oc.decay, 1e-9, 0.999999, 0),
    FLT("eps", oc.eps, 1e-30, 1, 0),
    STR("lr-schedule", schedule, 0),
    INT("lr-step", lr_step, 1, 1000000, 0),
    FLT("lr-gamma", lr_gamma, 1e-6, 1, 0),
    FLT("warmup", warmup, 0.001, 0.999, 0),
    INT("batch", batch, 1, 1 << 20, 0),
    INT("epochs", epochs, 0, 1000000, 1), /* --resume: extend the run */
    INT("iters", iters, 0, 1L << 40, 1),
    INT("patience", patience, 1, 1000000, 0),
    FN("sampling", parse_sampling, 0),
    {"balanced-sampling", F_SET, OFF(balanced), 0, 0, 0, NULL},
    FN("class-weights", parse_class_weights, 0),
    STR("thin-classes", thin, 0),
    FLT("clip-grad-norm", clip, 1e-6, 1e12, 0),
    STR("image-size", image_size, 0),
    INT("image-channels", image_channels, 1, 3, 0),
    {"confusion", F_SET, OFF(confusion), 0, 0, 1, NULL},
    {"seed", F_U64, OFF(seed), 0, 0, 0, NULL},
    INT("threads", threads, 1, 1024, 1),
    {"no-train-acc", F_CLEAR, OFF(eval_train), 0, 0, 1, NULL},
    FN("augment", parse_augment, 0),
    {"normalize", F_SET, OFF(normalize), 0, 0, 0, NULL},
    STR("log", log_path, 1),
    STR("log-layers", layer_log, 1),
    INT("log-layers-every", layer_every, 1, 1L << 40, 1),
    {"json", F_SET, OFF(json), 0, 0, 1, NULL},
    {"quiet", F_SET, OFF(quiet), 0, 0, 1, NULL},
    STR("save", save_path, 1),
    STR("checkpoint", ckpt_dir, 1),
    STR("resume", resume_dir, 1), /* acted on by cmd_train */
    STR("init-from", init_from, 0),
    INT("freeze", freeze, 0, 100000, 0),
    INT("replace-head", replace_head, 1, 1000000, 0),
    {"sync-bn", F_SET, OFF(sync_bn), 0, 0, 0, NULL},
    FN("sums", parse_sums, 1),
    FN("update", parse_update, 1),
    {"overlap", F_SET, OFF(overlap), 0, 0, 1, NULL},
    {"no-overlap", F_SET, OFF(no_overlap), 0, 0, 1, NULL},
    INT("bucket-kb", bucket_kb, 1, 1 << 22, 1),
    INT("probe-sums", probe_sums, 1, 100000, 1),
};
#define NFLAGS (sizeof FLAGS / sizeof *FLAGS)
#define FLAG_CODE 256 /* getopt code of FLAGS[i]: FLAG_CODE + i */

/* Read arg into the field of flag f: 0, or EXIT_USAGE after a message. */
static int apply_flag(const train_flag *f, const char *arg, train_opts *o)
{
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", f->name);
    char *field = (char *)o + f->off;
    switch (f->type) {
    case F_STR: *(const char **)field = arg; return 0;
    case F_INT: return cli_int("train", opt, arg, (long)f->lo, (long)f->hi, (long *)field) ? EXIT_USAGE : 0;
    case F_FLOAT: return cli_float("train", opt, arg, f->lo, f->hi, (float *)field) ? EXIT_USAGE : 0;
    case F_U64: return cli_u64("train", opt, arg, (uint64_t *)field) ? EXIT_USAGE : 0;
    case F_SET: *(int *)field = 1; return 0;
    case F_CLEAR: *(int *)field = 0; return 0;
    case F_FN: return f->fn(o, arg);
    }
    return 0;
}

/* The getopt table: FLAGS, the network options, --help. */
static void long_options(struct option *lo)
{
    static const struct option net[] = {CLI_NET_LONGOPTS};
    size_t n = 0;
    for (size_t i = 0; i < NFLAGS; i++) {
        int noarg = FLAGS[i].type == F_SET || FLAGS[i].type == F_CLEAR;
        lo[n++] = (struct option){FLAGS[i].name, noarg ? no_argument : required_argument, 0,
                                  FLAG_CODE + (int)i};
    }
    for (size_t i = 0; i < sizeof net / sizeof *net; i++)
        lo[n++] = net[i];
    lo[n++] = (struct option){"help", no_argument, 0, 'h'};
    lo[n] = (struct option){0, 0, 0, 0};
}

#define NLONGOPTS (NFLAGS + 16)

/* One getopt pass of argv over o. Returns -1 to go on, else the exit code
 * (0 after --help). */
static int parse_argv(int argc, char **argv, train_opts *o)
{
    struct option lo[NLONGOPTS];
    long_options(lo);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        int bad;
        if (c == 'h') {
            fputs(HELP, stdout);
            return 0;
        } else if (c >= FLAG_CODE && c < FLAG_CODE + (int)NFLAGS) {
            bad = apply_flag(&FLAGS[c - FLAG_CODE], optarg, o);
        } else {
            bad = cli_net_option("train", c, optarg, &o->net);
            if (bad == 0)
                return cli_usage_error("train", "unknown or incomplete option");
            bad = bad < 0;
        }
        if (bad)
            return EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    /* under mpirun only rank 0 prints and writes files */
    cli_dist_outputs(&o->quiet, &o->json, &o->log_path, &o->ckpt_dir, &o->save_path);
    return -1;
}

/* The [train] section of a --model FILE.ini, applied to o as if its keys
 * were flags (the same parsers, so the same values are accepted). Returns
 * -1 to go on, else the exit code. */
static int apply_train_section(const char *path, train_opts *o)
{
    static bd_train_option kv[BD_TRAIN_OPTIONS_MAX]; /* o keeps pointers into it */
    int n;
    if (bd_net_load_train_options(path, kv, BD_TRAIN_OPTIONS_MAX, &n) != BD_OK)
        return cli_usage_error("train", "%s", cli_errmsg());
    for (int i = 0; i < n; i++) {
        const train_flag *f = NULL;
        for (size_t j = 0; j < NFLAGS && !f; j++)
            if (!strcmp(FLAGS[j].name, kv[i].key))
                f = &FLAGS[j];
        if (!f) /* a key bd_net_train_options knows but this command does not */
            return cli_usage_error("train", "%s:%d: [train]: '%s' is not an option of badak train",
                                   path, kv[i].line, kv[i].key);
        int noarg = f->type == F_SET || f->type == F_CLEAR;
        if (noarg && strcasecmp(kv[i].val, "true") && strcmp(kv[i].val, "1"))
            return cli_usage_error("train", "%s:%d: [train]: %s takes 'true' (or leave it out)",
                                   path, kv[i].line, kv[i].key);
        if (apply_flag(f, kv[i].val, o)) {
            fprintf(stderr, "badak train: (in %s:%d, [train] %s = %s)\n", path, kv[i].line,
                    kv[i].key, kv[i].val);
            return EXIT_USAGE;
        }
    }
    return -1;
}

/* Fill o: the defaults, then a network description's [train] section, then
 * argv (so the command line overrides the file). Returns -1 to go on, else
 * the exit code (0 after --help). */
static int parse_options(int argc, char **argv, train_opts *o)
{
    opts_default(o);
    int rc = parse_argv(argc, argv, o);
    const size_t n = strlen(o->net.model);
    if (rc >= 0 || n <= 4 || strcasecmp(o->net.model + n - 4, ".ini"))
        return rc;
    const char *model = o->net.model;
    const long argv_epochs = o->epochs, argv_iters = o->iters;
    opts_default(o);
    rc = apply_train_section(model, o);
    if (rc < 0)
        rc = parse_argv(argc, argv, o);
    /* --epochs and --iters are one choice: the command line's wins */
    if (argv_iters >= 0 && argv_epochs < 0) /* (-1: not given) */
        o->epochs = -1;
    if (argv_epochs >= 0 && argv_iters < 0)
        o->iters = -1;
    return rc;
}

/* Combinations of options, and the cheap things (network, optimizer,
 * schedule) checked before loading the data by building them once on a
 * 1-feature, 2-class problem. Returns -1 to go on, else the exit code. */
static int check_options(train_opts *o, int resuming)
{
    if (o->epochs >= 0 && o->iters >= 0)
        return cli_usage_error("train", "give --epochs or --iters, not both");
    if (o->epochs < 0 && o->iters < 0)
        o->iters = 10000;
    /* the one not given is 0; both 0 (--epochs 0 or --iters 0): no step at
     * all, the initialised network is measured and saved */
    o->epochs = o->epochs < 0 ? 0 : o->epochs;
    o->iters = o->iters < 0 ? 0 : o->iters;
    if (o->overlap && o->sums == CLI_SUMS_SHARED)
        return cli_usage_error("train", "--overlap sums in MPI_Iallreduce buckets: it goes "
                               "with --sums allreduce, not --sums shared");
    if (o->update == CLI_UPDATE_SHARD && (o->sums == CLI_SUMS_ALLREDUCE || o->overlap))
        return cli_usage_error("train", "--update shard goes with the shared sums, not with "
                               "--sums allreduce or --overlap");
    if (o->update == CLI_UPDATE_SHARD && (o->clip > 0.0f || o->layer_log))
        return cli_usage_error("train", "--update shard sums a slice of the gradient on each "
                               "rank, and %s needs all of it (use --update all)",
                               o->layer_log ? "--log-layers" : "--clip-grad-norm");
    if (cli_dist_sums_refused(o->sums))
        return cli_usage_error("train", "--sums shared needs the same number of ranks on "
                               "every node (mpirun's hostfile slots); use --sums allreduce");
    if ((o->test_csv || o->label_col != -1 || o->label_cols) && !o->csv)
        return cli_usage_error("train", "--test-csv, --label-col and --label-cols need --csv");
    if (o->balanced)
        o->sampling = BD_SAMPLE_BALANCED;
    if ((o->class_weights || o->sampling == BD_SAMPLE_BALANCED || o->thin || o->confusion) &&
        o->task != BD_TASK_CLASSIFY)
        return cli_usage_error("train", "--class-weights, --balanced-sampling, --thin-classes "
                               "and --confusion are for class labels (--task classify)");
    if (o->task != BD_TASK_CLASSIFY && !o->csv)
        return cli_usage_error("train", "--task %s needs --csv (its target columns)",
                               o->task == BD_TASK_REGRESS ? "regress" : "multilabel");
    if (o->label_cols && o->task == BD_TASK_CLASSIFY)
        return cli_usage_error("train", "--label-cols is for --task regress or multilabel "
                               "(one class column: --label-col)");
    if (cli_task_loss(o->task, &o->net) != 0)
        return EXIT_USAGE;
    if (o->patience && o->val_split <= 0)
        return cli_usage_error("train", "--patience needs --val-split (early stopping watches the validation loss)");
    if (o->layer_every && !o->layer_log)
        return cli_usage_error("train", "--log-layers-every needs --log-layers FILE.csv");
    if (o->replace_head && !o->init_from)
        return cli_usage_error("train", "--replace-head needs --init-from");
    /* the book's chapter-5 rate for SGD; the other optimizers' own defaults */
    if (!o->lr_given && strcmp(o->optimizer, "sgd") == 0)
        o->oc.lr = 0.1f;

    bd_lr_schedule sched;
    bd_status s = bd_parse_schedule(o->schedule, &sched);
    if (s == BD_OK) {
        bd_net_spec spec;
        s = cli_net_spec(&o->net, &spec);
        if (s == BD_OK && cli_is_dense(&o->net) && !o->init_from && !resuming) {
            bd_net *net;
            bd_rng rng;
            bd_rng_seed(&rng, o->seed);
            s = cli_build_net(&o->net, 1, 1, 1, 2, &rng, &net);
            if (s == BD_OK)
                bd_net_free(net);
        }
    }
    if (s == BD_OK)
        s = bd_optim_check(o->optimizer, &o->oc);
    if (s != BD_OK)
        return cli_usage_error("train", "%s", cli_errmsg());
    /* outputs that cannot be written (a device node, a FIFO, an empty name)
     * are refused before anything is loaded, trained or written */
    if ((o->save_path && (s = bd_output_check(o->save_path, "model")) != BD_OK) ||
        (o->log_path && (s = bd_output_check(o->log_path, "log")) != BD_OK) ||
        (o->layer_log && (s = bd_output_check(o->layer_log, "layer log")) != BD_OK))
        return cli_fail(s);
    return -1;
}

/* ------------------------------------------------------------- the phases */

/* A run to continue (--resume): what the checkpoint holds. */
typedef struct resume_ctx {
    const char *dir;
    bd_net *net;
    bd_optim *opt;
    bd_train_pos pos;
} resume_ctx;

/* Everything one `badak train` builds, phase by phase: load_data, then
 * build_model, then run_training, then report. run_free releases it all
 * whichever phase failed. */
typedef struct train_run {
    const train_opts *o;
    const char *run;          /* the options as JSON text, kept in checkpoints */
    resume_ctx *ck;           /* --resume: the checkpoint's network, optimizer and
                               * position (NULL: a fresh run) */
    bd_lr_schedule sched;
    int nthreads;
    double t0, t_load;        /* start; seconds spent loading the data */
    bd_dataset train, test, val;
    bd_net *net;              /* built by build_model (or the checkpoint's) */
    bd_optim *opt;
    bd_model_meta meta;       /* recorded in checkpoints and the saved model */
    bd_train_result res;
    task_metrics tm;          /* regress / multilabel: the final metrics */
    diag_state diag;          /* the epochs and gradient norms, diagnosed at the end */
    class_report classes;     /* classification: the training set's classes,
                               * weights (--class-weights), final per-class figures */
    double total_s;           /* with data loading */
    int distinct;             /* CSV: labels that appear */
} train_run;

static void run_free(train_run *r)
{
    cli_diag_free(&r->diag);
    cli_class_report_free(&r->classes);
    bd_optim_free(r->opt);
    bd_net_free(r->net);
    bd_dataset_free(&r->train);
    bd_dataset_free(&r->test);
    bd_dataset_free(&r->val);
}

/* The training, test and validation sets. */
static bd_status load_data(train_run *r)
{
    const train_opts *o = r->o;
    r->nthreads = bd_set_threads(cli_dist_threads(o->threads)); /* per rank's cores */
    r->t0 = bd_seconds();
    if (o->task == BD_TASK_CLASSIFY && !o->csv && !strncmp(o->data, "images:", 7))
        CLI_TRY(cli_load_images(o->data + 7, o->image_size, (int)o->image_channels,
                                o->test_split, o->seed, &r->train, &r->test));
    else if (o->task == BD_TASK_CLASSIFY)
        CLI_TRY(cli_load_data(o->data, o->csv, (int)o->label_col, o->test_csv, o->test_split,
                              o->seed, &r->train, &r->test));
    else
        CLI_TRY(cli_load_targets(o->csv, o->label_cols, (int)o->label_col, o->task, o->test_csv,
                                 o->test_split, o->seed, &r->train, &r->test));
    if (o->csv && o->task == BD_TASK_CLASSIFY)
        CLI_TRY(cli_classes(&r->train, &r->test, (int)o->classes, &r->distinct));
    else if (o->classes)
        return bd_error(BD_ERR_ARG, "--classes is for --csv class labels");
    if (o->train_size)
        CLI_TRY(bd_dataset_truncate(&r->train, (int)o->train_size));
    if (o->thin)
        CLI_TRY(cli_thin_classes(&r->train, o->thin, o->seed));
    if (o->task == BD_TASK_CLASSIFY)
        CLI_TRY(cli_class_report(&r->train, &r->classes));
    if (o->task == BD_TASK_REGRESS) { /* the training set's mean and std, for both */
        CLI_TRY(bd_dataset_standardize_targets(&r->train, NULL, NULL));
        if (r->test.n)
            CLI_TRY(bd_dataset_standardize_targets(&r->test, r->train.t_mean, r->train.t_std));
    }
    if (o->val_split > 0) {
        bd_rng vr;
        bd_rng_seed(&vr, o->seed ^ 0x7a1ULL);
        CLI_TRY(bd_dataset_split(&r->train, o->val_split, &vr, &r->val));
    }
    if (o->normalize)
        CLI_TRY(cli_normalize(&r->train, &r->test, &r->val));
    if (o->aug.flags && bd_augment_check(&o->aug, r->train.c, r->train.h, r->train.w) != BD_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", bd_errmsg());
        return bd_error(BD_ERR_ARG, "%s: %s", r->train.name, msg);
    }
    r->t_load = bd_seconds() - r->t0;
    return BD_OK;
}

/* The network (fresh, from --init-from, or the checkpoint's) and its
 * optimizer. */
static bd_status build_model(train_run *r)
{
    const train_opts *o = r->o;
    const net_opts *no = &o->net;
    CLI_TRY(bd_parse_schedule(o->schedule, &r->sched));
    if (r->ck) { /* the network and optimizer as the checkpoint left them */
        r->net = r->ck->net;
        r->opt = r->ck->opt;
        r->ck->net = NULL;
        r->ck->opt = NULL;
        return BD_OK;
    }
    bd_rng rng;
    bd_rng_seed(&rng, o->seed);
    int classes = r->train.nclasses > r->test.nclasses ? r->train.nclasses : r->test.nclasses;
    if (o->init_from) {
        /* transfer learning: a trained model, maybe with a new head */
        CLI_TRY(bd_model_load(&r->net, o->init_from, NULL));
        if (o->replace_head)
            CLI_TRY(bd_net_replace_head(r->net, (int)o->replace_head, &rng));
        if (no->weight_decay > 0 || no->l1 > 0)
            CLI_TRY(bd_net_set_regularization(r->net, no->weight_decay, no->l1));
    } else {
        CLI_TRY(cli_build_net(no, r->train.c, r->train.h, r->train.w, classes, &rng, &r->net));
    }
    if (o->freeze >= 0)
        CLI_TRY(bd_net_freeze(r->net, (int)o->freeze));
    return bd_optim_create(&r->opt, o->optimizer, &o->oc, r->net);
}

static void print_header(const train_run *r)
{
    const train_opts *o = r->o;
    if (o->quiet)
        return;
    const bd_net *net = r->net;
    printf("badak %s: %s on %s (%d train, %d test", BD_VERSION, bd_net_desc(net), r->train.name,
           r->train.n, r->test.n);
    if (o->csv) /* how many classes the labels make: say it, a typo shows */
        printf(", %d classes, %d of them in the labels", r->train.nclasses, r->distinct);
    if (r->val.n)
        printf(", %d validation", r->val.n);
    printf("), %zu parameters", bd_net_param_count(net));
    if (bd_net_loss_kind(net) != BD_LOSS_SOFTMAX_CE)
        printf(", loss %s", bd_loss_kind_name(bd_net_loss_kind(net)));
    if (bd_net_frozen(net))
        printf(" (first %d layers frozen: %zu trainable)", bd_net_frozen(net),
               bd_net_trainable_count(net));
    printf("\n");
    if (r->ck)
        printf("resuming %s at iteration %ld (epoch %d)\n", r->ck->dir, r->ck->pos.iter,
               r->ck->pos.epoch);
    printf("optimizer %s lr %g", bd_optim_name(r->opt), (double)bd_optim_get_config(r->opt)->lr);
    if (r->sched != BD_LR_CONSTANT)
        printf(" (%s schedule)", bd_schedule_name(r->sched));
    if (o->net.weight_decay > 0)
        printf(", weight decay %g", (double)o->net.weight_decay);
    if (o->net.l1 > 0)
        printf(", L1 %g", (double)o->net.l1);
    if (o->aug.flags) {
        char abuf[96];
        printf(", augment %s", bd_augment_str(&o->aug, abuf, sizeof abuf));
    }
    printf(", batch %ld, %s %ld, seed %llu, %d threads; data loaded in %.2fs\n", o->batch,
           o->epochs ? "epochs" : "iterations", o->epochs ? o->epochs : o->iters,
           (unsigned long long)o->seed, r->nthreads, r->t_load);
    if (r->classes.n)
        cli_print_classes(&r->classes, o->class_weights);
    fflush(stdout);
}

/* set by SIGINT; bd_train checks it between steps */
static volatile sig_atomic_t g_stop;

static void on_sigint(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* What the per-iteration and per-epoch hooks print with. */
typedef struct run_ctx {
    progress bar;
    const char *acc;          /* what the "accuracy" is: acc, r2 (regress), exact */
    diag_state *diag;         /* what the diagnostics need */
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

static void on_grad_norm(void *ud, long iter, double norm)
{
    cli_diag_norm(((run_ctx *)ud)->diag, iter, norm);
}

static void on_epoch(void *ud, const bd_epoch_stats *s)
{
    run_ctx *c = ud;
    cli_diag_epoch(c->diag, s);
    if (c->quiet)
        return;
    progress_clear(&c->bar);
    printf("epoch %3d  iter %6ld  loss %.4f", s->epoch, s->iter, (double)s->loss);
    if (s->train_acc != -1.0f) /* -1: not measured (R² may be negative) */
        printf("  train %s %.4f", c->acc, (double)s->train_acc);
    if (s->test_acc != -1.0f)
        printf("  test %s %.4f", c->acc, (double)s->test_acc);
    if (s->val_acc != -1.0f)
        printf("  val %s %.4f  val loss %.4f", c->acc, (double)s->val_acc, (double)s->val_loss);
    if (c->show_lr)
        printf("  lr %.3g", (double)s->lr);
    printf("  %.2fs\n", s->seconds);
    fflush(stdout);
}

/* The library's training configuration from the options. */
static void train_config(train_run *r, run_ctx *ctx, bd_train_config *cfg)
{
    const train_opts *o = r->o;
    bd_train_config_default(cfg);
    cfg->batch = (int)o->batch;
    cfg->epochs = (int)o->epochs;
    cfg->iters = o->iters;
    cfg->sampling = o->sampling;
    cfg->seed = o->seed;
    cfg->eval_train = o->eval_train;
    cfg->val = r->val.n ? &r->val : NULL;
    cfg->patience = (int)o->patience;
    cfg->schedule = r->sched;
    cfg->lr_step = (int)o->lr_step;
    cfg->lr_gamma = o->lr_gamma;
    cfg->warmup = o->warmup;
    cfg->log_path = o->log_path;
    cfg->layer_log = cli_dist_root() ? o->layer_log : NULL; /* rank 0 writes it */
    cfg->layer_log_every = o->layer_every;
    cfg->augment = o->aug.flags ? &o->aug : NULL;
    cfg->on_iter = on_iter;
    cfg->on_epoch = on_epoch;
    cfg->ud = ctx;
    bd_model_meta_init(&r->meta);
    snprintf(r->meta.data, sizeof r->meta.data, "%s", o->csv ? o->csv : o->data);
    snprintf(r->meta.optimizer, sizeof r->meta.optimizer, "%s", bd_optim_name(r->opt));
    r->meta.seed = o->seed;
    r->meta.batch = (int)o->batch;
    r->meta.lr = bd_optim_get_config(r->opt)->lr;
    cli_meta_inputs(&r->train, &r->meta);
    r->meta.threshold = o->threshold;
    cfg->checkpoint = o->ckpt_dir;
    cfg->ckpt_meta = &r->meta;
    cfg->ckpt_run = r->run;
    cfg->resume = r->ck ? &r->ck->pos : NULL;
    /* nothing unless under mpirun */
    /* the sharded update where nothing needs the whole gradient */
    const int shard = o->update == CLI_UPDATE_SHARD ||
                      (o->update == CLI_UPDATE_AUTO && !(o->clip > 0.0f) && !o->layer_log);
    cli_dist_train_config(cfg, o->sync_bn, o->sums, o->overlap && !o->no_overlap,
                          (int)o->bucket_kb, shard);
}

/* --epochs 0 / --iters 0: no training step; the untrained network's loss
 * and accuracy on the test set (the training set when there is none), and
 * it is saved as initialised (e.g. for `badak figure filters --before`).
 * The training set is not measured: a zero-step run should be quick. */
static bd_status run_zero_steps(train_run *r)
{
    bd_train_result *res = &r->res;
    memset(res, 0, sizeof *res);
    res->train_acc = res->test_acc = res->val_acc = -1;
    res->final_lr = bd_optim_get_config(r->opt)->lr;
    float loss = 0;
    bd_status s = r->test.n ? bd_evaluate(r->net, &r->test, &res->test_acc, &loss)
                            : bd_evaluate(r->net, &r->train, &res->train_acc, &loss);
    res->final_loss = loss;
    if (s == BD_OK && r->val.n)
        s = bd_evaluate(r->net, &r->val, &res->val_acc, &loss);
    r->total_s = bd_seconds() - r->t0;
    return s;
}

/* bd_train with Ctrl-C caught: the first SIGINT finishes the step,
 * checkpoints and stops; a second one kills. */
static bd_status run_training(train_run *r)
{
    run_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.quiet = r->o->quiet;
    ctx.acc = r->o->task == BD_TASK_REGRESS ? "r2" : r->o->task == BD_TASK_MULTILABEL ? "exact" : "acc";
    ctx.show_lr = r->sched != BD_LR_CONSTANT;
    progress_init(&ctx.bar, r->o->quiet);
    ctx.diag = &r->diag;
    bd_train_config cfg;
    train_config(r, &ctx, &cfg); /* also the model's metadata */
    /* under mpirun with the shared sums: the gradient block into the
     * window the node's ranks read (collective) */
    bd_status bs = cli_dist_bind(&cfg, r->net, r->o->sums, (int)r->o->bucket_kb);
    if (bs != BD_OK)
        return bs;
    cfg.on_grad_norm = on_grad_norm;
    cfg.clip_grad_norm = r->o->clip;
    {   /* room for every epoch's figures, before the loop */
        long B = r->o->batch < r->train.n ? r->o->batch : r->train.n;
        long per = B > 0 && r->train.n / B > 0 ? r->train.n / B : 1;
        long ne = r->o->epochs ? r->o->epochs : (r->o->iters + per - 1) / per;
        CLI_TRY(cli_diag_reserve(&r->diag, (int)(ne < 1000000 ? ne + 1 : 1000000)));
    }
    if (r->o->epochs == 0 && r->o->iters == 0)
        return run_zero_steps(r);
    g_stop = 0;
    cfg.stop = &g_stop;
    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_sa);
    if (r->o->class_weights)
        bd_net_set_class_weights(r->net, r->classes.weight);
    /* under mpirun, Ctrl-C reaches the ranks as SIGTERM (and SIGKILL a second
     * later: odls_base_sigkill_timeout); SIGUSR1 is forwarded as it is */
    struct sigaction old_term, old_usr1;
    if (cfg.nranks > 1) {
        sigaction(SIGTERM, &sa, &old_term);
        sigaction(SIGUSR1, &sa, &old_usr1);
    }
    bd_status s = bd_train(r->net, r->opt, &r->train, r->test.n ? &r->test : NULL, &cfg,
                           &r->res);
    bd_net_set_class_weights(r->net, NULL);
    sigaction(SIGINT, &old_sa, NULL);
    if (cfg.nranks > 1) {
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGUSR1, &old_usr1, NULL);
    }
    progress_clear(&ctx.bar);
    r->total_s = bd_seconds() - r->t0;
    return s;
}

static void print_summary(const train_run *r)
{
    const bd_train_result *res = &r->res;
    if (res->stopped_early)
        printf("early stop: validation loss did not improve for %ld epochs; keeping the "
               "weights of epoch %d\n", r->o->patience, res->best_epoch);
    if (r->ck && res->iters == r->ck->pos.iter) { /* resumed, and not a step to take */
        printf("the checkpoint in %s was already complete: %d epochs, %ld iterations; "
               "nothing trained (give --epochs N to extend it)\n", r->ck->dir, res->epochs,
               res->iters);
        return;
    }
    printf("done: %d epochs, %ld iterations in %.2fs (%.0f it/s), %.2fs with data loading\n",
           res->epochs, res->iters, res->seconds,
           res->seconds > 0 ? res->iters / res->seconds : 0.0, r->total_s);
    if (r->classes.have_confusion)
        cli_print_confusion(&r->classes);
    if (r->o->task != BD_TASK_CLASSIFY) {
        cli_print_task_metrics(&r->tm);
    } else {
        if (res->train_acc >= 0)
            printf("train accuracy %.4f\n", (double)res->train_acc);
        if (res->val_acc >= 0)
            printf("validation accuracy %.4f\n", (double)res->val_acc);
        if (res->test_acc >= 0)
            printf("test accuracy %.4f\n", (double)res->test_acc);
    }
    printf("peak memory %.1f MB\n", (double)bd_peak_rss() / 1e6);
    long loops, alone;
    bd_pool_stats(&loops, &alone);
    if (alone > 0) /* the busy-machine rule: say why the threads did not help */
        printf("busy machine: %ld of %ld parallel loops ran on one thread (other processes "
               "held the cores)\n", alone, loops);
}

/* The --json line: the run's options and results (json.c escapes the
 * strings: a model path or data name may hold quotes and backslashes). */
static void print_json(const train_run *r, bd_status s)
{
    const train_opts *o = r->o;
    const bd_train_result *res = &r->res;
    char jaug[96];
    cJSON *j = cJSON_CreateObject();
    if (!j) {
        cli_json_print(NULL);
        return;
    }
    cJSON_AddStringToObject(j, "status", s == BD_OK ? "ok" : bd_status_name(s));
    cJSON_AddStringToObject(j, "model", o->net.model);
    cJSON_AddStringToObject(j, "data", r->train.name);
    cJSON_AddStringToObject(j, "optimizer", bd_optim_name(r->opt));
    cli_json_num(j, "lr", (double)bd_optim_get_config(r->opt)->lr, "%g");
    cJSON_AddNumberToObject(j, "batch", (double)o->batch);
    cli_json_num(j, "test_accuracy", (double)res->test_acc, "%.6f");
    cli_json_num(j, "train_accuracy", (double)res->train_acc, "%.6f");
    cli_json_num(j, "val_accuracy", (double)res->val_acc, "%.6f");
    cli_json_num(j, "final_loss", (double)res->final_loss, "%.6f");
    cJSON_AddNumberToObject(j, "epochs", res->epochs);
    cJSON_AddNumberToObject(j, "iterations", (double)res->iters);
    cJSON_AddNumberToObject(j, "best_epoch", res->best_epoch);
    cJSON_AddBoolToObject(j, "stopped_early", res->stopped_early);
    cli_json_num(j, "seconds", res->seconds, "%.4f");
    cli_json_num(j, "total_seconds", r->total_s, "%.4f");
    cli_json_u64(j, "seed", o->seed);
    cJSON_AddNumberToObject(j, "threads", r->nthreads);
    cli_json_num(j, "peak_rss_mb", (double)bd_peak_rss() / 1e6, "%.1f");
    long loops, alone;
    bd_pool_stats(&loops, &alone);
    cJSON_AddNumberToObject(j, "pool_loops", (double)loops);
    cJSON_AddNumberToObject(j, "pool_loops_alone", (double)alone);
    cJSON_AddStringToObject(j, "augment", bd_augment_str(&o->aug, jaug, sizeof jaug));
    cJSON_AddBoolToObject(j, "interrupted", res->interrupted);
    if (o->task != BD_TASK_CLASSIFY)
        cli_json_task_metrics(j, &r->tm);
    else
        cli_json_classes(j, &r->classes);
    cli_json_diag(j, &r->diag);
    cli_json_print(j);
}

/* The summary, the saved model (--save), the JSON line; the exit code. */
static int report(train_run *r, bd_status s)
{
    const train_opts *o = r->o;
    int rc = 0;
    if (s == BD_OK && o->task != BD_TASK_CLASSIFY && !r->res.interrupted)
        s = cli_task_metrics(r->net, &r->train, &r->test, o->threshold, &r->tm);
    if (s == BD_OK && o->confusion && !r->res.interrupted)
        s = cli_confusion(r->net, r->test.n ? &r->test : &r->train, &r->classes);
    /* under mpirun the NaN guard and argument checks end every rank alike;
     * another failure (a checkpoint write) may be one rank's alone */
    if (s != BD_OK)
        rc = cli_dist_fail(s, s == BD_ERR_NUMERIC || s == BD_ERR_ARG);
    else if ((s = cli_dist_agree_net("the trained network", r->net)) != BD_OK)
        rc = cli_dist_fail(s, 1);
    else if ((s = cli_dist_probe((int)o->probe_sums)) != BD_OK)
        rc = cli_dist_fail(s, 1);
    if (s == BD_ERR_NUMERIC && cli_dist_root())
        fprintf(stderr, "badak: hint: try a lower --lr (it was %g)\n", (double)bd_optim_get_config(r->opt)->lr);
    if (s == BD_OK) {
        if (!o->quiet)
            print_summary(r);
        cli_dist_report(o->quiet); /* collective: every rank, quiet or not */
    }
    if ((s == BD_OK || s == BD_ERR_NUMERIC) && bd_net_param_count(r->net) &&
        cli_dist_root()) {
        double share = 0.0;
        int major = r->classes.n ? cli_class_dominant(&r->classes, &share) : -1;
        cli_diag_run(&r->diag, r->net, o->task, bd_optim_get_config(r->opt)->lr, s == BD_ERR_NUMERIC, major,
                     share, o->quiet);
    }
    if (s == BD_OK && r->res.interrupted && !cli_dist_root()) {
        rc = EXIT_INTERRUPTED;
    } else if (s == BD_OK && r->res.interrupted) {
        fflush(stdout);
        fprintf(stderr, "badak: interrupted after iteration %ld: %s\n", r->res.iters,
                o->ckpt_dir ? "checkpoint saved; continue with --resume"
                            : "nothing saved (no --checkpoint)");
        if (o->ckpt_dir)
            fprintf(stderr, "badak: resume with: badak train --resume %s\n", o->ckpt_dir);
        rc = EXIT_INTERRUPTED;
    } else if (s == BD_OK && o->save_path) {
        r->meta.epochs = r->res.epochs;
        r->meta.iters = r->res.iters;
        r->meta.test_acc = r->res.test_acc;
        r->meta.train_acc = r->res.train_acc;
        s = bd_model_save(r->net, o->save_path, &r->meta);
        if (s != BD_OK)
            rc = cli_dist_fail(s, 0);
        else if (!o->quiet)
            printf("model saved to %s\n", o->save_path);
    }
    if (o->json)
        print_json(r, s);
    return rc;
}

/* One `badak train` run: parse, check, load, build, train, report. */
static int train_main(int argc, char **argv, const char *run, resume_ctx *ck)
{
    train_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc < 0)
        rc = check_options(&o, ck != NULL);
    if (rc >= 0)
        return rc;
    train_run r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    r.run = run;
    r.ck = ck;
    bd_status s = load_data(&r);
    if (s == BD_OK)
        s = build_model(&r);
    /* under mpirun: every rank loaded and built, the same things */
    rc = cli_dist_any_failed(s);
    if (!rc && (s = cli_dist_agree(&r.train, &r.test, &r.val, r.net, run)) != BD_OK)
        rc = cli_dist_fail(s, 1);
    if (rc) {
        run_free(&r);
        return rc;
    }
    print_header(&r);
    s = run_training(&r);
    rc = report(&r, s);
    run_free(&r);
    return rc;
}

/* ------------------------------------------------------------ --resume */

/* May --NAME be given with --resume (the rest come from the checkpoint)? */
static int resume_allowed(const char *name, int *takes_arg)
{
    if (!strcmp(name, "help"))
        return *takes_arg = 0, 1;
    for (size_t i = 0; i < NFLAGS; i++)
        if (!strcmp(name, FLAGS[i].name)) {
            *takes_arg = FLAGS[i].type != F_SET && FLAGS[i].type != F_CLEAR;
            return FLAGS[i].on_resume;
        }
    return 0;
}

/* "--threads, --log, ...": the options resume_allowed lets through. */
static const char *resume_list(char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < NFLAGS; i++)
        if (FLAGS[i].on_resume && strcmp(FLAGS[i].name, "resume") && n < len)
            n += (size_t)snprintf(buf + n, len - n, "%s--%s", n ? ", " : "", FLAGS[i].name);
    return buf;
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

/* --resume DIR: only the options resume_allowed accepts may come with it;
 * returns -1 if they are all fine, else the exit code. */
static int check_resume_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0)
            return cli_usage_error("train", "unexpected argument '%s'", argv[i]);
        char name[64], list[512];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(argv[i] + 2, "="), argv[i] + 2);
        int takes = 0;
        if (!resume_allowed(name, &takes))
            return cli_usage_error("train", "--resume continues the run with the options saved in "
                                   "its checkpoint; --%s cannot be changed (allowed: %s)", name,
                                   resume_list(list, sizeof list));
        if (takes && !strchr(argv[i], '='))
            i++;
    }
    return -1;
}

/* Is argv[i] --epochs or --iters (the run's length)? Sets *skip to the
 * number of arguments it takes up. */
static int is_length_opt(char **argv, int argc, int i, int *skip)
{
    static const char *const names[] = {"--epochs", "--iters"};
    for (int k = 0; k < 2; k++) {
        size_t n = strlen(names[k]);
        if (!strncmp(argv[i], names[k], n) && (argv[i][n] == '=' || !argv[i][n])) {
            *skip = argv[i][n] == '=' || i + 1 >= argc ? 1 : 2;
            return 1;
        }
    }
    return 0;
}

/* The saved options, then the ones given now (later ones win). A length
 * given now (--epochs or --iters) replaces the saved one, whichever it was:
 * that is how a finished run is extended. */
static int merge_args(const cJSON *saved, int argc, char **argv, char **av, const char *dir)
{
    int ac = 0, skip, new_length = 0;
    av[ac++] = argv[0];
    for (int i = 1; i < argc; i++)
        new_length |= is_length_opt(argv, argc, i, &skip);
    int n = cJSON_GetArraySize(saved);
    char **sv = calloc((size_t)n + 1, sizeof *sv);
    if (!sv)
        return -1;
    const cJSON *v;
    int k = 0;
    cJSON_ArrayForEach(v, saved) sv[k++] = cJSON_IsString(v) ? v->valuestring : "";
    for (int i = 0; i < n; i++) {
        if (new_length && is_length_opt(sv, n, i, &skip)) {
            i += skip - 1;
            continue;
        }
        av[ac++] = sv[i];
    }
    free(sv);
    /* a resumed run goes on checkpointing where it was resumed from (a copied
     * folder too, not the original the saved options name), unless told
     * otherwise now: the options given now come after and win */
    av[ac++] = "--checkpoint";
    av[ac++] = (char *)dir;
    for (int i = 1; i < argc; i++)
        av[ac++] = argv[i];
    return ac;
}

/* The options a checkpoint keeps are untrusted: each must be a non-empty
 * string, and they must pass the checks typed options pass; errors name the
 * checkpoint, not the command line. -1 if good, else the exit code. */
static int check_saved_args(const char *dir, const cJSON *args)
{
    if (!cJSON_IsArray(args))
        return -1; /* said by the caller */
    int n = cJSON_GetArraySize(args), k = 0;
    char **av = calloc((size_t)n + 2, sizeof *av);
    if (!av)
        return cli_fail(bd_error(BD_ERR_NOMEM, "out of memory"));
    av[k++] = "train";
    const cJSON *v;
    int rc = -1;
    cJSON_ArrayForEach(v, args) {
        if (!cJSON_IsString(v) || !v->valuestring[0]) {
            fprintf(stderr, "badak: error: %s/checkpoint.safetensors: saved option %d is %s: "
                    "the checkpoint's options (badak.run) are damaged\n", dir, k,
                    cJSON_IsString(v) ? "an empty string" : "not a string");
            rc = EXIT_FAIL;
            break;
        }
        av[k++] = v->valuestring;
    }
    if (rc < 0) {
        char origin[4200];
        snprintf(origin, sizeof origin, "the options saved in %s/checkpoint.safetensors", dir);
        cli_origin = origin; /* usage errors now name the checkpoint, exit 1 */
        train_opts o;
        rc = parse_options(k, av, &o);
        if (rc < 0)
            rc = check_options(&o, 1);
        cli_origin = NULL;
        if (rc == EXIT_USAGE) /* the file's fault, not the command line's */
            rc = EXIT_FAIL;
    }
    free(av);
    return rc;
}

/* Continue the run saved in dir: its options first, then the ones given now
 * (later ones win), with the checkpoint's network, optimizer and position. */
static int resume_main(const char *dir, int argc, char **argv)
{
    int rc = check_resume_args(argc, argv);
    if (rc >= 0)
        return rc;
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
    rc = check_saved_args(dir, args);
    char **av = rc < 0 && n >= 0 ? calloc((size_t)(n + argc + 3), sizeof *av) : NULL;
    if (rc >= 0) {
        /* the saved options are bad: said so, naming the checkpoint */
    } else if (!av) {
        fprintf(stderr, "badak: error: %s: the checkpoint does not keep the run's options "
                "(badak.run); it was not written by 'badak train'\n", dir);
        rc = EXIT_FAIL;
    } else {
        int ac = merge_args(args, argc, argv, av, dir);
        char *run = ac > 0 ? run_text(ac, av) : NULL;
        rc = run ? train_main(ac, av, run, &ck) : cli_fail(bd_error(BD_ERR_NOMEM, "out of memory"));
        cJSON_free(run);
    }
    free(av);
    cJSON_Delete(args);
    bd_net_free(ck.net);
    bd_optim_free(ck.opt);
    bd_train_pos_free(&ck.pos);
    return rc;
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
    if (dir)
        return resume_main(dir, argc, argv);
    char *run = run_text(argc, argv);
    int rc = train_main(argc, argv, run, NULL);
    cJSON_free(run);
    return rc;
}
