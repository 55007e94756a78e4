/* internal.h — helpers shared by the library's source files; not installed. */
#ifndef BADAK_INTERNAL_H
#define BADAK_INTERNAL_H

#include "badak.h"

#include <stdlib.h>
#include <string.h>

/* Return early with the status of a call that failed (errors travel up). */
#define BD_TRY(expr)                      \
    do {                                  \
        bd_status bd_try_s_ = (expr);     \
        if (bd_try_s_ != BD_OK)           \
            return bd_try_s_;             \
    } while (0)

#define BD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define BD_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Is the named layer kind's backward deliberately broken (tests only)? */
int bd__backward_broken(bd_layer_kind kind);

#endif
