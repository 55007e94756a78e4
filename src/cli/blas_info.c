/* blas_info.c — which OpenBLAS kernels this process runs, for `badak
 * version` and the benchmark's header.
 *
 * OpenBLAS (DYNAMIC_ARCH) picks its kernels when it is loaded, from the
 * CPU, unless OPENBLAS_CORETYPE names them. The choice halves or doubles
 * every product: on a 2-core AMD EPYC (Zen 5) whose environment set
 * OPENBLAS_CORETYPE=Haswell, cblas_sgemm 2048^3 ran at 180-194 GFLOP/s;
 * without the variable OpenBLAS picked Cooperlake (AVX-512) and ran at
 * 372-389. badak keeps whatever the environment says (it may be set on
 * purpose, to get the same numbers on different machines) and says it. */
#include "cli.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

void cli_blas_describe(FILE *f)
{
    /* "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ... Haswell MAX_THREADS=64" */
    const char *cfg = openblas_get_config(), *core = openblas_get_corename();
    int vlen = 0;
    if (cfg && !strncmp(cfg, "OpenBLAS ", 9))
        vlen = 9 + (int)strcspn(cfg + 9, " ");
    const char *forced = getenv("OPENBLAS_CORETYPE");
    fprintf(f, "BLAS: %.*s, %s kernels", vlen ? vlen : 8, vlen ? cfg : "OpenBLAS",
            core ? core : "unknown");
    if (forced && *forced)
        fprintf(f, " (OPENBLAS_CORETYPE=%s in the environment; unset it for OpenBLAS's own "
                "pick for this CPU)\n", forced);
    else
        fputs(" (OpenBLAS's pick for this CPU)\n", f);
}
