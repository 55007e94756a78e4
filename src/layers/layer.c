/* layer.c — the op table: every layer kind's row, by kind. Adding a layer
 * kind means its kernels and op row in a file of its own, an enum value in
 * badak.h and one line here: the row carries everything else the library
 * knows of the kind (its description token and keys, model-file names, C
 * export, init family), so no other table lists kinds. */
#include "internal.h"

#include <strings.h>

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

int bd__kind_by_token(const char *s, int names, bd_layer_kind *kind)
{
    for (int k = 0; s && k < BD_LAYER_KIND_COUNT; k++) {
        const bd_layer_op *op = OPS[k];
        if (!op)
            continue;
        if (!strcasecmp(s, op->token) || (op->alias && !strcasecmp(s, op->alias)) ||
            (names && !strcasecmp(s, op->name))) {
            *kind = (bd_layer_kind)k;
            return 1;
        }
    }
    return 0;
}

bd_status bd_parse_layer_kind(const char *s, bd_layer_kind *kind)
{
    if (!s || !kind)
        return bd_error(BD_ERR_ARG, "bd_parse_layer_kind: %s is NULL", !s ? "the name" : "kind");
    if (bd__kind_by_token(s, 1, kind))
        return BD_OK;
    return bd_error(BD_ERR_ARG, "unknown layer kind '%s'", s);
}
