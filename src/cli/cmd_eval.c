/* cmd_eval.c — `badak eval`: the test accuracy of a saved model, and
 * `badak info`: what a model file holds. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *EVAL_HELP =
    "Usage: badak eval --model FILE [options]\n"
    "\n"
    "Load a model file (safetensors, as 'badak train --save' writes it) and print\n"
    "its accuracy on a test set: the same figure the training run reported.\n"
    "\n"
    "  --model FILE          the model (or a checkpoint's checkpoint.safetensors)\n"
    "  --data NAME|DIR       mnist (default), fashion, or an MNIST-style folder\n"
    "  --csv FILE            a CSV instead; its test set is drawn as 'badak train'\n"
    "                        draws it: --test-csv FILE, or a --test-split F (0.2)\n"
    "                        shuffled with --seed (default: the model's seed)\n"
    "  --label-col N         CSV column of the class index (default -1)\n"
    "  --test-size N         only the first N test samples\n"
    "  --predictions FILE    write the predicted class of every test sample, one a\n"
    "                        line\n"
    "  --threads N           threads of badak's pool (default all cores)\n"
    "  --json                one JSON line: test_accuracy, samples, seconds\n"
    "  -h, --help            this help\n"
    "\n"
    "Exit status: 0 done, 1 failed (bad model file, data), 2 bad option.\n";

enum {
    E_MODEL = 256, E_DATA, E_CSV, E_LABELCOL, E_TESTCSV, E_TESTSPLIT, E_SEED, E_THREADS, E_JSON,
    E_TESTSIZE, E_PRED
};

static const struct option EVAL_OPTS[] = {
    {"model", required_argument, 0, E_MODEL},
    {"data", required_argument, 0, E_DATA},
    {"csv", required_argument, 0, E_CSV},
    {"label-col", required_argument, 0, E_LABELCOL},
    {"test-csv", required_argument, 0, E_TESTCSV},
    {"test-split", required_argument, 0, E_TESTSPLIT},
    {"seed", required_argument, 0, E_SEED},
    {"threads", required_argument, 0, E_THREADS},
    {"json", no_argument, 0, E_JSON},
    {"test-size", required_argument, 0, E_TESTSIZE},
    {"predictions", required_argument, 0, E_PRED},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};


/* the predicted class of every sample, one a line, into path */
static bd_status write_predictions(const int32_t *pred, int n, const char *path)
{
    bd_atomic_file *af; /* atomic: a full disk never leaves a short file */
    bd_status os = bd_atomic_open(&af, path, "predictions");
    if (os != BD_OK)
        return os;
    FILE *f = bd_atomic_stream(af);
    for (int i = 0; i < n; i++)
        fprintf(f, "%d\n", pred[i]);
    return bd_atomic_commit(af);
}

/* the --json line (the model path escaped by cJSON) */
static int print_json(const char *model, float acc, int n, double secs)
{
    cJSON *j = cJSON_CreateObject();
    if (j) {
        cJSON_AddStringToObject(j, "status", "ok");
        cJSON_AddStringToObject(j, "model", model);
        cli_json_num(j, "test_accuracy", (double)acc, "%.6f");
        cJSON_AddNumberToObject(j, "samples", n);
        cli_json_num(j, "seconds", secs, "%.4f");
    }
    return cli_json_print(j);
}

int cmd_eval(int argc, char **argv)
{
    const char *model = NULL, *data = "mnist", *csv = NULL, *test_csv = NULL;
    long label_col = -1, threads = 0, test_size = 0;
    const char *pred = NULL;
    float test_split = 0.2f;
    uint64_t seed = 0;
    int seed_given = 0, json = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", EVAL_OPTS, NULL)) != -1) {
        const char *o = optarg;
        int bad = 0;
        switch (c) {
        case 'h': fputs(EVAL_HELP, stdout); return 0;
        case E_MODEL: model = o; break;
        case E_DATA: data = o; break;
        case E_CSV: csv = o; break;
        case E_LABELCOL: bad = cli_int("eval", "--label-col", o, -100000, 100000, &label_col); break;
        case E_TESTCSV: test_csv = o; break;
        case E_TESTSPLIT: bad = cli_float("eval", "--test-split", o, 0.001, 0.999, &test_split); break;
        case E_SEED: bad = cli_u64("eval", "--seed", o, &seed); seed_given = 1; break;
        case E_THREADS: bad = cli_int("eval", "--threads", o, 1, 1024, &threads); break;
        case E_JSON: json = 1; break;
        case E_TESTSIZE: bad = cli_int("eval", "--test-size", o, 1, 1L << 30, &test_size); break;
        case E_PRED: pred = o; break;
        default: return cli_usage_error("eval", "unknown or incomplete option");
        }
        if (bad)
            return EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    if (!model)
        return cli_usage_error("eval", "--model FILE is required");
    bd_status s = BD_OK;
    if (pred && (s = bd_output_check(pred, "predictions")) != BD_OK)
        return cli_fail(s); /* before the work, not after it */
    bd_set_threads((int)threads);
    bd_model *m = bd_model_open(model, &s);
    if (!m)
        return cli_fail(s);
    const bd_model_meta meta = *bd_model_info(m);
    bd_dataset train, test;
    s = cli_load_data(data, csv, (int)label_col, test_csv, test_split,
                      seed_given ? seed : meta.seed, &train, &test);
    if (s != BD_OK) {
        bd_model_close(m);
        return cli_fail(s);
    }
    double t0 = bd_seconds();
    float acc = 0;
    if (test_size && test_size < test.n)
        s = bd_dataset_truncate(&test, (int)test_size);
    /* the rows the training run evaluated in: B = min(batch, training set) */
    int B = meta.batch > 0 ? meta.batch : 100;
    if (train.n > 0 && train.n < B)
        B = train.n;
    if (s == BD_OK)
        s = bd_model_set_rows(m, bd_train_eval_rows(bd_model_net(m), B));
    int32_t *classes = NULL;
    if (s == BD_OK && pred && !(classes = malloc((size_t)test.n * sizeof *classes)))
        s = bd_error(BD_ERR_NOMEM, "out of memory");
    if (s == BD_OK)
        s = bd_model_evaluate(m, &test, &acc, classes);
    if (s == BD_OK && pred)
        s = write_predictions(classes, test.n, pred);
    free(classes);
    double secs = bd_seconds() - t0;
    int rc = 0;
    const bd_net *net = bd_model_net(m);
    if (s != BD_OK)
        rc = cli_fail(s);
    else if (json)
        rc = print_json(model, acc, test.n, secs);
    else
        printf("%s: %s, %zu parameters\ntest accuracy %.4f (%d samples of %s, %.2fs)\n", model,
               net->desc, bd_net_param_count(net), (double)acc, test.n, test.name, secs);
    bd_dataset_free(&train);
    bd_dataset_free(&test);
    bd_model_close(m);
    return rc;
}

static const char *INFO_HELP =
    "Usage: badak info FILE\n"
    "\n"
    "Print what a model file holds: the architecture (layer by layer), the\n"
    "parameter count and the training metadata. The file is fully validated.\n";

int cmd_info(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(INFO_HELP, stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage_error("info", "expected one model file");
    bd_net net;
    bd_model_meta m;
    bd_status s = bd_model_load(&net, argv[1], &m);
    if (s != BD_OK)
        return cli_fail(s);
    printf("model      %s\n", argv[1]);
    printf("network    %s\n", net.desc);
    printf("written by badak %s\n", m.version[0] ? m.version : "?");
    bd_net_print(&net, stdout);
    if (net.frozen)
        printf("frozen     first %d layers (%zu trainable parameters)\n", net.frozen,
               bd_net_trainable_count(&net));
    if (net.weight_decay > 0 || net.l1 > 0)
        printf("weight decay %g, L1 %g\n", (double)net.weight_decay, (double)net.l1);
    if (m.data[0])
        printf("data       %s\n", m.data);
    if (m.optimizer[0])
        printf("optimizer  %s lr %g\n", m.optimizer, (double)m.lr);
    if (m.epochs >= 0)
        printf("epochs     %d (%ld iterations, batch %d)\n", m.epochs, m.iters, m.batch);
    printf("seed       %llu\n", (unsigned long long)m.seed);
    if (m.train_acc >= 0)
        printf("train accuracy %.4f\n", (double)m.train_acc);
    if (m.test_acc >= 0)
        printf("test accuracy %.4f\n", (double)m.test_acc);
    bd_net_free(&net);
    return 0;
}
