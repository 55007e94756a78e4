/* transfer.c — transfer learning: freeze the first layers of a trained
 * network, replace its classifier head. Parameters are laid out in layer
 * order, so the trainable ones after N frozen layers are one suffix of the
 * parameter block: backward stops before the frozen layers and an optimizer
 * of bd_net_trainable_count parameters steps over that suffix only (no state
 * for the frozen ones). */
#include "internal.h"

#include <stdio.h>

bd_status bd_net_freeze(bd_net *net, int n)
{
    if (!net)
        return bd_error(BD_ERR_ARG, "bd_net_freeze: net is NULL");
    if (n < 0 || n >= net->nlayers)
        return bd_error(BD_ERR_ARG, "cannot freeze %d layers of a network of %d: at least "
                        "the last must train", n, net->nlayers);
    net->frozen = n;
    return BD_OK;
}

size_t bd_net_trainable_offset(const bd_net *net)
{
    if (!net || !net->built)
        return 0;
    if (net->frozen <= 0)
        return 0;
    if (net->frozen >= net->nlayers)
        return net->params.size;
    return net->layers[net->frozen].param_offset;
}

size_t bd_net_trainable_count(const bd_net *net)
{
    return bd_net_param_count(net) - bd_net_trainable_offset(net);
}

bd_status bd_net_replace_head(bd_net *net, int outputs, bd_rng *rng)
{
    if (!net || !rng)
        return bd_error(BD_ERR_ARG, "bd_net_replace_head: %s is NULL", !net ? "net" : "rng");
    if (!net->built)
        return bd_error(BD_ERR_ARG, "replace head: the network is not built");
    if (outputs < 1)
        return bd_error(BD_ERR_ARG, "replace head: %d outputs (must be >= 1)", outputs);
    int head = -1;
    for (int i = net->nlayers - 1; i >= 0 && head < 0; i--)
        if (net->layers[i].kind == BD_LAYER_AFFINE)
            head = i;
    if (head < 0)
        return bd_error(BD_ERR_ARG, "replace head: the network has no Affine layer");
    if (net->frozen > head)
        return bd_error(BD_ERR_ARG, "replace head: %s is among the %d frozen layers",
                        net->layers[head].name, net->frozen);
    /* the same layers, the head with its new size, built afresh */
    bd_net nn;
    bd_status s = bd__net_init(&nn, net->in_c, net->in_h, net->in_w);
    for (int i = 0; s == BD_OK && i < net->nlayers; i++) {
        const bd_layer *l = &net->layers[i];
        bd_layer_conf c = {.kind = l->kind, .units = i == head ? outputs : l->units,
                           .k = l->k, .stride = l->stride, .pad = l->pad, .p0 = l->p0,
                           .p1 = l->p1, .name = l->name};
        s = bd_net_add_layer(&nn, &c);
    }
    if (s == BD_OK) {
        nn.loss = net->loss;
        s = bd_net_build(&nn, net->init, rng);
    }
    if (s != BD_OK) {
        bd__net_release(&nn);
        return s;
    }
    /* copy what the layers before the head learned; keep the new draws for
     * the head and whatever follows it */
    for (int i = 0; i < head; i++) {
        const bd_layer *a = &net->layers[i];
        bd_layer *b = &nn.layers[i];
        memcpy(bd_f32(&nn.params) + b->param_offset, bd_f32(&net->params) + a->param_offset,
               a->param_count * sizeof(float));
        memcpy(bd_f32(&nn.state) + b->state_offset, bd_f32(&net->state) + a->state_offset,
               a->state_count * sizeof(float));
    }
    nn.weight_decay = net->weight_decay;
    nn.l1 = net->l1;
    nn.frozen = net->frozen;
    nn.rng = net->rng;
    nn.training = net->training;
    snprintf(nn.desc, sizeof nn.desc, "%.100s, head %d", net->desc, outputs);
    bd__net_release(net);
    *net = nn;
    /* the layers point at their network (mode, PRNG): now this one */
    for (int i = 0; i < net->nlayers; i++)
        net->layers[i].net = net;
    return BD_OK;
}
