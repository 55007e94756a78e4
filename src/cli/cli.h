/* cli.h — shared by the badak command's source files. The CLI only parses
 * options, calls the library and prints; training logic lives in libbadak. */
#ifndef BADAK_CLI_H
#define BADAK_CLI_H

#include "badak.h"

/* exit codes */
#define EXIT_USAGE 2 /* bad option or value */
#define EXIT_FAIL 1  /* the work itself failed (data, numerics, check) */

int cmd_train(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_hpsearch(int argc, char **argv);

/* Print "badak: error: <bd_errmsg()>" and return the exit code for s. */
int cli_fail(bd_status s);
/* Print "badak <cmd>: <msg>" plus a pointer to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int cli_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int cli_float(const char *cmd, const char *opt, const char *s, double lo, double hi, float *out);
int cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
/* "100,100,50" -> sizes; returns count or -1 (message printed) */
int cli_int_list(const char *cmd, const char *opt, const char *s, int *out, int max);

/* The network options shared by train and gradcheck. */
typedef struct net_opts {
    const char *model;       /* two_layer | mlp */
    int hidden[32];
    int nhidden;             /* 0: the model's default */
    const char *activation;  /* relu | sigmoid | tanh | leaky_relu[:s] | ... */
    const char *init;        /* NULL: the model's default */
    const char *loss;        /* NULL: softmax_ce */
    int batchnorm;
    float dropout;
    float weight_decay, l1;
} net_opts;

/* Build the network described by o for in -> classes; prints nothing. */
bd_status cli_build_net(const net_opts *o, int in, int classes, bd_rng *rng, bd_net *net);

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
