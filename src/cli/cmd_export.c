/* cmd_export.c — `badak export`: a saved model as a C header. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char *HELP =
    "Usage: badak export --c-header OUT.h [--prefix NAME] MODEL\n"
    "\n"
    "Write the model's weights as static const float arrays plus a dependency-free\n"
    "inference function, int NAME_predict(const float *x, float *out), in one C\n"
    "header (for microcontrollers: no allocation, only <math.h>). Dense and conv\n"
    "layers, pools, BatchNorm (evaluation form), activations and Dropout (identity)\n"
    "are exported; residual blocks are not.\n"
    "\n"
    "  --c-header FILE       the header to write (atomically)\n"
    "  --prefix NAME         prefix of every symbol (default: badak_model)\n"
    "  -h, --help            this help\n";

enum { X_HEADER = 256, X_PREFIX };

static const struct option OPTS[] = {
    {"c-header", required_argument, 0, X_HEADER},
    {"prefix", required_argument, 0, X_PREFIX},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

int cmd_export(int argc, char **argv)
{
    const char *out = NULL, *prefix = "badak_model";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", OPTS, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(HELP, stdout); return 0;
        case X_HEADER: out = optarg; break;
        case X_PREFIX: prefix = optarg; break;
        default: return cli_usage_error("export", "unknown or incomplete option");
        }
    }
    if (!out)
        return cli_usage_error("export", "--c-header FILE is required");
    if (optind != argc - 1)
        return cli_usage_error("export", "expected one model file");
    bd_net *net = NULL;
    bd_status s = bd_model_load(&net, argv[optind], NULL);
    if (s != BD_OK)
        return cli_fail(s);
    s = bd_model_export_c(net, out, prefix);
    bd_net_free(net);
    if (s != BD_OK)
        return cli_fail(s);
    printf("wrote %s (%s_predict)\n", out, prefix);
    return 0;
}
