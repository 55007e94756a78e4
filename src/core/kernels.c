/* kernels.c — which kernels the layers run. "fast" (the default) lets a
 * layer take a faster path where it has one (conv_wide.c: stride-1
 * unpadded convolutions; conv_pool.c: a max-pool fused into them;
 * affine_sparse.c: the Affine products of inputs that are mostly zeros),
 * with AVX-512 intrinsics where the CPU has them; "portable" takes the same
 * paths in plain C (the same bits: what the tests compare the intrinsics
 * with); "reference" runs the book's im2col + GEMM everywhere — the
 * readable kernels, and what tests/test_kernels.c compares the fast ones
 * with. BADAK_KERNELS=NAME in the environment selects one at the first
 * use; bd_set_kernels at any time between steps. All give the same numbers
 * run after run (for a thread count); fast and reference differ by
 * rounding. */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>

enum { FAST, REFERENCE, PORTABLE };
static const char *const names[] = {"fast", "reference", "portable"};
static atomic_int g_mode = -1; /* -1: not decided yet */

static int mode_of(const char *name)
{
    for (int m = 0; name && m < 3; m++)
        if (!strcasecmp(name, names[m]))
            return m;
    return -1;
}

static int mode(void)
{
    int m = atomic_load_explicit(&g_mode, memory_order_relaxed);
    if (m < 0) {
        m = mode_of(getenv("BADAK_KERNELS"));
        if (m < 0)
            m = FAST;
        atomic_store(&g_mode, m);
    }
    return m;
}

int bd__kernels_reference(void) { return mode() == REFERENCE; }

int bd__kernels_portable(void) { return mode() == PORTABLE; }

bd_status bd_set_kernels(const char *name)
{
    if (!name)
        return bd_error(BD_ERR_ARG, "bd_set_kernels: name is NULL");
    const int m = mode_of(name);
    if (m < 0)
        return bd_error(BD_ERR_ARG, "unknown kernels '%s' (expected fast, portable or reference)",
                        name ? name : "(null)");
    atomic_store(&g_mode, m);
    return BD_OK;
}

const char *bd_kernels(void) { return names[mode()]; }
