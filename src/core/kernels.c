/* kernels.c — which kernels the layers run. "fast" (the default) lets a
 * layer take a faster path where it has one (conv_wide.c: stride-1
 * unpadded convolutions); "reference" runs the book's im2col + GEMM
 * everywhere — the readable kernels, and what tests/test_kernels.c compares
 * the fast ones with. BADAK_KERNELS=reference in the environment selects it
 * at the first use; bd_set_kernels at any time between steps. Both give
 * the same numbers run after run (for a thread count); they differ from
 * each other by rounding. */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>

static atomic_int g_reference = -1; /* -1: not decided yet */

int bd__kernels_reference(void)
{
    int r = atomic_load_explicit(&g_reference, memory_order_relaxed);
    if (r < 0) {
        const char *e = getenv("BADAK_KERNELS");
        r = e && !strcasecmp(e, "reference");
        atomic_store(&g_reference, r);
    }
    return r;
}

bd_status bd_set_kernels(const char *name)
{
    if (!name)
        return bd_error(BD_ERR_ARG, "bd_set_kernels: name is NULL");
    if (!name || (strcasecmp(name, "fast") && strcasecmp(name, "reference")))
        return bd_error(BD_ERR_ARG, "unknown kernels '%s' (expected fast or reference)",
                        name ? name : "(null)");
    atomic_store(&g_reference, !strcasecmp(name, "reference"));
    return BD_OK;
}

const char *bd_kernels(void)
{
    return bd__kernels_reference() ? "reference" : "fast";
}
