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



/* The op table (KANN style): every layer kind's behaviour in one place. */
typedef struct bd_layer_op {
    const char *name;                      /* "Affine", "Relu", ... */
    /* parameters this layer needs given in_size (and units) */
    size_t (*param_count)(const bd_layer *l);
    /* make W/b/dW/db views into the blocks at p, g */
    void (*bind)(bd_layer *l, float *p, float *g);
    /* l->in [B, in_size] -> l->out [B, out_size] */
    void (*forward)(bd_layer *l, int B);
    /* dy [B, out_size] -> l->dx [B, in_size] (if need_dx) and the parameter
     * gradients */
    void (*backward)(bd_layer *l, const float *dy, int B, int need_dx);
} bd_layer_op;

const bd_layer_op *bd__layer_op(bd_layer_kind kind);
#endif
