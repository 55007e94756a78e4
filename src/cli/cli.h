/* cli.h — shared by the badak command's source files. The CLI only parses
 * options, calls the library and prints; training logic lives in libbadak. */
#ifndef BADAK_CLI_H
#define BADAK_CLI_H

#include "badak.h"

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

int cmd_train(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_hpsearch(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_figure(int argc, char **argv);

/* Print "badak: error: <bd_errmsg()>" and return the exit code for s. */
int cli_fail(bd_status s);
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
                        bd_net *net);
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
void cli_meta_inputs(const bd_dataset *train, bd_model_meta *meta);

/* Progress bar on stderr, drawn only when stderr is a terminal. */
typedef struct progress {
    int enabled;
    long last_drawn;
    double t0;
} progress;
void progress_init(progress *p, int quiet);
void progress_update(progress *p, long iter, long total, float loss);
void progress_clear(progress *p);

#endif
