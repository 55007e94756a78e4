/* main.c — the badak command: dispatch to a subcommand. */
#include "cli.h"
#include "dist/dist.h"

#include <stdio.h>
#include <string.h>

static const char *HELP =
    "badak " BD_VERSION " — neural networks from the floor up (Deep Learning from Scratch, in C)\n"
    "\n"
    "Usage: badak <command> [options]\n"
    "\n"
    "Commands:\n"
    "  train       train a network (default: the book's chapter-5 TwoLayerNet on MNIST)\n"
    "  gradcheck   compare backprop with the numerical gradient, per parameter\n"
    "  hpsearch    random search of the learning rate and weight decay\n"
    "  eval        test accuracy of a saved model\n"
    "  info        architecture, parameter count and metadata of a model file\n"
    "  export      a saved model as a C header (weights + inference function)\n"
    "  predict     classify images (PNG, PGM) with a saved model\n"
    "  figure      draw one of the notes' figures (PNG + CSV); --list names them\n"
    "  version     print the version\n"
    "  help        this help\n"
    "\n"
    "'badak <command> --help' describes every option of a command.\n"
    "Data sets are read from ./data (or $BADAK_DATA); 'bash scripts/setup.sh' installs them.\n";

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        fputs(HELP, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(HELP, stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("badak %s\n", bd_version());
        cli_blas_describe(stdout);
        return 0;
    }
    if (!strcmp(cmd, "train"))
        return cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "gradcheck"))
        return cmd_gradcheck(argc - 1, argv + 1);
    if (!strcmp(cmd, "hpsearch"))
        return cmd_hpsearch(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval"))
        return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "info"))
        return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "export"))
        return cmd_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "predict"))
        return cmd_predict(argc - 1, argv + 1);
    if (!strcmp(cmd, "figure"))
        return cmd_figure(argc - 1, argv + 1);
    fprintf(stderr, "badak: unknown command '%s'\n\n%s", cmd, HELP);
    return EXIT_USAGE;
}

/* Under mpirun or srun MPI starts first (and ends last); a plain run never
 * touches MPI. */
int main(int argc, char **argv)
{
    int rc = dist_init(&argc, &argv);
    if (rc != 0)
        return rc;
    rc = dispatch(argc, argv);
    dist_finalize();
    return rc;
}
