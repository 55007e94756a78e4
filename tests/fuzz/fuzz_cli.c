/* fuzz_cli.c — fuzz target: `badak train`'s option parser and checks
 * (parse_options, check_options of src/cli/cmd_train.c) on an argv made
 * from the bytes: arguments separated by NUL or newline, at most 64. The
 * CLI's sources are included, so their static functions are reachable. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/common.c"
#include "../../src/cli/progress.c"
#include "../../src/cli/data_inputs.c"
#include "../../src/cli/cmd_train.c"

static int fuzz_cli(const uint8_t *data, size_t size)
{
    enum { MAXARG = 64 };
    char *buf = malloc(size + 1), *av[MAXARG + 2];
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    int ac = 0;
    av[ac++] = "train";
    char *p = buf, *end = buf + size;
    while (p < end && ac < MAXARG + 1) {
        av[ac++] = p;
        while (p < end && *p && *p != '\n')
            p++;
        *p++ = 0;
    }
    av[ac] = NULL;
    train_opts o;
    int rc = parse_options(ac, av, &o);
    if (rc < 0)
        rc = check_options(&o, 0);
    if (rc < 0 && (o.batch < 1 || o.threads < 0 || (o.epochs && o.iters)))
        abort(); /* accepted options are in their ranges */
    free(buf);
    return 0;
}

#ifdef BD_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_cli(data, size); }
#endif
