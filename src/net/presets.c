/* presets.c — the book's networks, and parsing of the names users type. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <strings.h>

/* TwoLayerNet (book 5.7.2): Affine1 - Relu1 - Affine2 - SoftmaxWithLoss */
bd_status bd_net_two_layer(bd_net *net, int in, int hidden, int out, bd_init init,
                           bd_rng *rng)
{
    return bd_net_mlp(net, in, &hidden, 1, out, BD_LAYER_RELU, init, rng);
}

/* MultiLayerNet (book 6.1.7 / common/multi_layer_net.py):
 * (Affine - activation) x nhidden, Affine, SoftmaxWithLoss */
bd_status bd_net_mlp(bd_net *net, int in, const int *hidden, int nhidden, int out,
                     bd_layer_kind act, bd_init init, bd_rng *rng)
{
    if (act != BD_LAYER_RELU && act != BD_LAYER_SIGMOID)
        return bd_error(BD_ERR_ARG, "mlp: activation must be relu or sigmoid");
    if (nhidden < 0)
        return bd_error(BD_ERR_ARG, "mlp: %d hidden layers", nhidden);
    bd_status s = bd_net_create(net, 1, 1, in);
    for (int i = 0; s == BD_OK && i < nhidden; i++) {
        s = bd_net_add_affine(net, hidden[i]);
        if (s == BD_OK)
            s = bd_net_add(net, act, 0);
    }
    if (s == BD_OK)
        s = bd_net_add_affine(net, out);
    if (s == BD_OK)
        s = bd_net_build(net, init, rng);
    if (s != BD_OK) {
        bd_net_free(net);
        return s;
    }
    int o = snprintf(net->desc, sizeof net->desc, "%s %d", nhidden == 1 && act == BD_LAYER_RELU
                                                               ? "two_layer" : "mlp", in);
    for (int i = 0; i < nhidden && o < (int)sizeof net->desc; i++)
        o += snprintf(net->desc + o, sizeof net->desc - (size_t)o, "-%d", hidden[i]);
    if (o < (int)sizeof net->desc)
        snprintf(net->desc + o, sizeof net->desc - (size_t)o, "-%d", out);
    return BD_OK;
}

bd_status bd_parse_activation(const char *s, bd_layer_kind *kind)
{
    if (strcasecmp(s, "relu") == 0)
        *kind = BD_LAYER_RELU;
    else if (strcasecmp(s, "sigmoid") == 0)
        *kind = BD_LAYER_SIGMOID;
    else
        return bd_error(BD_ERR_ARG, "unknown activation '%s' (expected relu or sigmoid)", s);
    return BD_OK;
}

bd_status bd_parse_init(const char *s, bd_init *init)
{
    init->std = 0.01f;
    if (strcasecmp(s, "xavier") == 0 || strcasecmp(s, "sigmoid") == 0) {
        init->kind = BD_INIT_XAVIER;
        return BD_OK;
    }
    if (strcasecmp(s, "he") == 0 || strcasecmp(s, "relu") == 0) {
        init->kind = BD_INIT_HE;
        return BD_OK;
    }
    const char *num = s;
    if (strncasecmp(s, "std=", 4) == 0)
        num = s + 4;
    else if (strcasecmp(s, "std") == 0) {
        init->kind = BD_INIT_STD;
        return BD_OK;
    }
    char *end;
    errno = 0;
    float v = strtof(num, &end);
    if (end == num || *end || errno || !(v > 0.0f) || !isfinite(v))
        return bd_error(BD_ERR_ARG,
                        "bad weight init '%s' (expected std=0.01, a positive number, xavier or he)",
                        s);
    init->kind = BD_INIT_STD;
    init->std = v;
    return BD_OK;
}
