/* cli.h — shared by the badak command's source files. The CLI only parses
 * options, calls the library and prints; training logic lives in libbadak. */
#ifndef BADAK_CLI_H
#define BADAK_CLI_H

#include "badak.h"

#include <cJSON.h>
#include <stdio.h>

/* exit codes */
#define EXIT_USAGE 2 /* bad option or value */
#define EXIT_FAIL 1  /* the work itself failed (data, numerics, check) */
#define EXIT_INTERRUPTED 130 /* train stopped by SIGINT (128 + 2, as shells report
                              * it); the checkpoint, if any, was saved */

/* Return the status of a library call from the calling function if it failed. */
#define CLI_TRY(expr)                 \
    do {                              \
        bd_status cli_s_ = (expr);    \
        if (cli_s_ != BD_OK)          \
            return cli_s_;            \
    } while (0)

/* blas_info.c: one line on f: the OpenBLAS version, the kernels it runs
 * and whether OPENBLAS_CORETYPE chose them (`badak version`). */
void cli_blas_describe(FILE *f);

int cmd_train(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_hpsearch(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_figure(int argc, char **argv);

/* Rewrite a library message's API values as the command's flags, in place
 * ("config.lr = 50" -> "--lr 50", "try lr = 0.01" -> "try --lr 0.01"). */
void cli_flags(char *msg, size_t len);
/* bd_errmsg() so rewritten (this thread's buffer, valid until its next call) */
const char *cli_errmsg(void);
/* The --json line (json.c), a cJSON object: a number at the precision fmt
 * prints it (non-finite: null), as an item (for arrays) or a member; a
 * 64-bit integer exactly; cli_json_print prints o on one line and frees it
 * (0, or EXIT_FAIL when out of memory). */
cJSON *cli_json_value(double v, const char *fmt);
void cli_json_num(cJSON *o, const char *key, double v, const char *fmt);
void cli_json_u64(cJSON *o, const char *key, uint64_t v);
int cli_json_print(cJSON *o);

/* Print "badak: error: <bd_errmsg()>" and return the exit code for s. */
int cli_fail(bd_status s);

/* Data-parallel runs (mpirun / srun; dist_cli.c over src/dist/). Each does
 * nothing special when the command was not started by an MPI launcher. */
/* --threads, or (0) the cores of this rank's share of its node */
int cli_dist_threads(long threads);
/* ranks other than 0: quiet, no JSON, no log, checkpoint or model file */
void cli_dist_outputs(int *quiet, int *json, const char **log_path, const char **ckpt,
                      const char **save);
/* Report s and return the exit code: `collective` (every rank has this very
 * error) rank 0 prints it; else this rank prints it and ends the job. */
int cli_dist_fail(bd_status s, int collective);
/* After a step a rank may fail alone (loading data): 0 if every rank is
 * fine; else the exit code, each failing rank having printed its error. */
int cli_dist_any_failed(bd_status s);
/* Every rank must train the same: options text, data sets (count and
 * checksum; NULL sets count as empty) and network (architecture, parameters,
 * state; NULL: not checked). */
bd_status cli_dist_agree(const bd_dataset *train, const bd_dataset *test,
                         const bd_dataset *val, const bd_net *net, const char *run);
/* The same for a network alone (after training: the ranks still agree). */
bd_status cli_dist_agree_net(const char *what, const bd_net *net);
/* rank 0, unless quiet: ranks, the time spent in the gradient sums and
 * each rank's waiting in them (collective: every rank calls it) */
void cli_dist_report(int quiet);
/* under mpirun: time the last step's gradient sums reps times after a
 * barrier, for cli_dist_report (collective; nothing when reps is 0 or
 * not under mpirun) */
bd_status cli_dist_probe(int reps);
/* the group for bd_hpsearch (NULL: alone) */
const bd_comm *cli_dist_comm(int sync_bn);
/* --sums: how the gradient is summed over the ranks (dist.h's dist_sums) */
enum { CLI_SUMS_AUTO, CLI_SUMS_SHARED, CLI_SUMS_ALLREDUCE };
/* --update: the sharded update where it can run (auto), always, never */
enum { CLI_UPDATE_AUTO, CLI_UPDATE_SHARD, CLI_UPDATE_ALL };
/* 1 under mpirun when --sums shared (CLI_SUMS_SHARED) cannot be used: the
 * nodes run different numbers of ranks */
int cli_dist_sums_refused(int sums);
/* the trainer's data-parallel hooks (nothing when alone); sums is a
 * CLI_SUMS_* checked by cli_dist_sums_refused, overlap only without
 * CLI_SUMS_SHARED; shard 1: the sharded update where the sums are shared */
void cli_dist_train_config(bd_train_config *cfg, int sync_bn, int sums, int overlap,
                           int bucket_kb, int shard);
/* under mpirun with the shared gradient sums: net's gradient block moved
 * into the node's shared window, or cfg's hooks changed to the buckets
 * where a node has no room for it (an error with sums CLI_SUMS_SHARED);
 * collective; else nothing */
bd_status cli_dist_bind(bd_train_config *cfg, bd_net *net, int sums, int bucket_kb);
/* 1 alone or on rank 0 */
int cli_dist_root(void);
/* argv as one malloc'd string (for cli_dist_agree's options check) */
char *cli_dist_argv_text(int argc, char **argv);
/* When set (the options saved in a checkpoint are being checked), usage
 * errors say they come from there and return EXIT_FAIL. */
extern const char *cli_origin;
/* Print "badak <cmd>: <msg>" plus a pointer to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int cli_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int cli_float(const char *cmd, const char *opt, const char *s, double lo, double hi, float *out);
int cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
/* "100,100,50" -> sizes; returns count or -1 (message printed) */
int cli_int_list(const char *cmd, const char *opt, const char *s, int *out, int max);

/* The network options shared by train and gradcheck. */
typedef struct net_opts {
    const char *model;       /* two_layer | mlp | simple_convnet | deep_convnet |
                              * resnet | a .ini file */
    int hidden[32];
    int nhidden;             /* 0: the model's default */
    const char *activation;  /* relu | sigmoid | tanh | leaky_relu[:s] | ... */
    const char *init;        /* NULL: the model's default */
    const char *loss;        /* NULL: softmax_ce */
    int batchnorm;
    float dropout;
    float weight_decay, l1;
} net_opts;

/* The network options every command shares: their getopt codes, their
 * entries for a command's `struct option` table, and their handler. */
enum {
    NET_O_MODEL = 1000, NET_O_HIDDEN, NET_O_ACT, NET_O_INIT, NET_O_BN, NET_O_DROPOUT, NET_O_LOSS,
    NET_O_WD, NET_O_L1
};
#define CLI_NET_LONGOPTS                                          \
    {"model", required_argument, 0, NET_O_MODEL},                 \
    {"hidden", required_argument, 0, NET_O_HIDDEN},               \
    {"activation", required_argument, 0, NET_O_ACT},              \
    {"init", required_argument, 0, NET_O_INIT},                   \
    {"batchnorm", no_argument, 0, NET_O_BN},                      \
    {"dropout", required_argument, 0, NET_O_DROPOUT},             \
    {"loss", required_argument, 0, NET_O_LOSS},                   \
    {"weight-decay", required_argument, 0, NET_O_WD},             \
    {"l1", required_argument, 0, NET_O_L1}
/* Handle getopt code c with argument arg if it is a network option:
 * returns 1 if handled, 0 if c is not one, -1 after a usage message. */
int cli_net_option(const char *cmd, int c, const char *arg, net_opts *no);
/* The library's description of the network o describes. */
bd_status cli_net_spec(const net_opts *o, bd_net_spec *s);
/* Build the network described by o for c x h x w samples and `classes`
 * classes; prints nothing. */
bd_status cli_build_net(const net_opts *o, int c, int h, int w, int classes, bd_rng *rng,
                        bd_net **net);
/* Can o be built for any input (two_layer, mlp; or an unknown name, which
 * fails the same everywhere)? Not for convolutional presets and .ini files. */
int cli_is_dense(const net_opts *o);
/* "784", "28x28" or "1x28x28" -> c, h, w; 0 or -1 after a usage message */
int cli_shape(const char *cmd, const char *opt, const char *s, int *c, int *h, int *w);
/* The classes of a CSV's labels (train and test together): --classes N
 * (classes > 0) or the labels' own, refusing a label far beyond the others;
 * both sets get the count. *distinct: labels that appear. */
bd_status cli_classes(bd_dataset *train, bd_dataset *test, int classes, int *distinct);
/* Load the MNIST-style data set named by --data (mnist, fashion or a folder). */
bd_status cli_load_named(const char *data, bd_dataset *train, bd_dataset *test);
/* The training and test sets of `badak train`'s data options: --data, or
 * --csv with --test-csv or a shuffled --test-split drawn from seed. */
bd_status cli_load_data(const char *data, const char *csv, int label_col, const char *test_csv,
                        float test_split, uint64_t seed, bd_dataset *train, bd_dataset *test);

/* data_inputs.c: --normalize: the training set's per-channel mean and std
 * applied to train, test and val (either may be empty); and what a saved
 * model keeps of how its inputs were made (normalisation, class names). */
bd_status cli_normalize(bd_dataset *train, bd_dataset *test, bd_dataset *val);
/* --data images:DIR with --image-size (NULL: 32) and --image-channels */
bd_status cli_load_images(const char *dir, const char *size, int channels, float test_split,
                          uint64_t seed, bd_dataset *train, bd_dataset *test);
void cli_meta_inputs(const bd_dataset *train, bd_model_meta *meta);
/* --task regress / multilabel: the loss the task takes (mse, mae, huber;
 * bce_multi), set in no->loss when not given; 0, or EXIT_USAGE after a
 * message when the given loss does not fit the last layer the task needs */
int cli_task_loss(bd_task task, net_opts *no);
/* The CSV's target columns (label_cols, else label_col) for train and test
 * (test_csv, or a seeded test_split of the CSV). */
bd_status cli_load_targets(const char *csv, const char *label_cols, int label_col, bd_task task,
                           const char *test_csv, float test_split, uint64_t seed,
                           bd_dataset *train, bd_dataset *test);
/* The final metrics of a regress / multilabel run, on the test set (the
 * training set too), printed and as JSON fields ("test_rmse":...). */
typedef struct task_metrics {
    bd_task task;
    int has_test;
    bd_regress_metrics_t reg_train, reg_test;
    bd_multilabel_metrics_t ml_train, ml_test;
    float threshold;
} task_metrics;
bd_status cli_task_metrics(bd_net *net, const bd_dataset *train, const bd_dataset *test,
                           float threshold, task_metrics *m);
void cli_print_task_metrics(const task_metrics *m);
void cli_json_task_metrics(cJSON *o, const task_metrics *m);
/* train_classes.c: the classes of a classification run — their counts and
 * inverse-frequency weights, thinning (--thin-classes), the confusion
 * matrix and per-class accuracy at the end (--confusion). */
typedef struct class_report {
    int n;                    /* classes */
    long total;
    long *count;              /* [n] training samples per class */
    float *weight;            /* [n] N / (K n_c) (--class-weights auto) */
    const char *names;        /* the data set's class names, one a line ("" none) */
    int have_confusion;
    const char *set;          /* the set the matrix is of: "test" or "train" */
    long *confusion;          /* [n, n] row: true class, column: predicted */
} class_report;
bd_status cli_thin_classes(bd_dataset *ds, const char *spec, uint64_t seed);
bd_status cli_class_report(const bd_dataset *train, class_report *c);
void cli_print_classes(const class_report *c, int weighted);
bd_status cli_confusion(bd_net *net, const bd_dataset *ds, class_report *c);
void cli_print_confusion(const class_report *c);
void cli_json_classes(cJSON *o, const class_report *c);
void cli_class_report_free(class_report *c);
/* the class holding more than 80% of the training samples, or -1 */
int cli_class_dominant(const class_report *c, double *share);

/* train_diag.c: what the run's end diagnoses (seed 002's training tips):
 * the epochs' figures and the last gradient norms, collected by the hooks. */
#define DIAG_NORMS 16
typedef struct diag_state {
    bd_epoch_stats *epochs;   /* [cap], reserved before training */
    int n, cap;
    double norms[DIAG_NORMS]; /* ring of the last gradient norms */
    long norm_count, last_iter;
    bd_diag_result result;
} diag_state;
bd_status cli_diag_reserve(diag_state *d, int epochs);
void cli_diag_epoch(diag_state *d, const bd_epoch_stats *s);
void cli_diag_norm(diag_state *d, long iter, double norm);
/* Diagnose (numeric: the run stopped on a non-finite loss), print to
 * stdout (quiet: not), keep the result for the JSON line. */
void cli_diag_run(diag_state *d, const bd_net *net, bd_task task, float lr, int numeric,
                  int major_class, double major_share, int quiet);
void cli_json_diag(cJSON *o, const diag_state *d);
void cli_diag_free(diag_state *d);

/* predict_csv.c: `badak predict --csv FILE` (drop_cols: --label-cols) */
int cli_predict_csv(bd_net *net, const bd_model_meta *meta, const char *path,
                    const char *drop_cols);

/* Progress bar on stderr, drawn only when stderr is a terminal. */
typedef struct progress {
    int enabled;
    long last_drawn;
    double t0;
} progress;
void progress_init(progress *p, int quiet);
void progress_update(progress *p, long iter, long total, float loss);
void progress_clear(progress *p);

/* one sample's input channels, height, width of a network */
static inline int cli_in_c(const bd_net *n) { int c; bd_net_input_shape(n, &c, NULL, NULL); return c; }
static inline int cli_in_h(const bd_net *n) { int h; bd_net_input_shape(n, NULL, &h, NULL); return h; }
static inline int cli_in_w(const bd_net *n) { int w; bd_net_input_shape(n, NULL, NULL, &w); return w; }

#endif
