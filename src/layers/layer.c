/* layer.c — the op table: every layer kind's row, by kind. Adding a layer
 * kind means its kernels and op row in a file of its own, an enum value in
 * badak.h and one line here. */
#include "internal.h"

static const bd_layer_op *const OPS[BD_LAYER_KIND_COUNT] = {
    [BD_LAYER_AFFINE] = &bd__op_affine,
    [BD_LAYER_RELU] = &bd__op_relu,
    [BD_LAYER_SIGMOID] = &bd__op_sigmoid,
    [BD_LAYER_TANH] = &bd__op_tanh,
    [BD_LAYER_LEAKY_RELU] = &bd__op_leaky_relu,
    [BD_LAYER_PRELU] = &bd__op_prelu,
    [BD_LAYER_RRELU] = &bd__op_rrelu,
    [BD_LAYER_ELU] = &bd__op_elu,
    [BD_LAYER_BATCHNORM] = &bd__op_batchnorm,
    [BD_LAYER_DROPOUT] = &bd__op_dropout,
    [BD_LAYER_CONV2D] = &bd__op_conv2d,
    [BD_LAYER_MAXPOOL] = &bd__op_maxpool,
    [BD_LAYER_AVGPOOL] = &bd__op_avgpool,
    [BD_LAYER_GAP] = &bd__op_gap,
    [BD_LAYER_FLATTEN] = &bd__op_flatten,
    [BD_LAYER_BATCHNORM2D] = &bd__op_batchnorm2d,
    [BD_LAYER_RESBLOCK] = &bd__op_resblock,
};

const bd_layer_op *bd__layer_op(bd_layer_kind kind)
{
    if ((int)kind < 0 || kind >= BD_LAYER_KIND_COUNT)
        return NULL;
    return OPS[kind];
}

const char *bd_layer_kind_name(bd_layer_kind k)
{
    const bd_layer_op *op = bd__layer_op(k);
    return op ? op->name : "?";
}

/* ---- the deliberate bug of the gradient-check tests */

static int g_broken[BD_LAYER_KIND_COUNT];

void bd_debug_break_backward(bd_layer_kind kind, int broken)
{
    if ((int)kind >= 0 && kind < BD_LAYER_KIND_COUNT)
        g_broken[kind] = broken;
}

int bd__backward_broken(bd_layer_kind kind) { return g_broken[kind]; }

int bd__fuse = 1;

void bd__maybe_break(bd_layer_kind kind, float *g, size_t n)
{
    if (!g_broken[kind] || !g)
        return;
    for (size_t i = 0; i < n; i++)
        g[i] *= 1.5f;
}
