/* summary.c — bd_net_print: a layer table like Keras's model.summary()
 * (the seed's "DNN Training Tip": read the summary when shapes do not
 * match). One row per layer: name, kind, output shape, parameters, and
 * what the layer's description-file section would say (filters, kernel,
 * stride, pad, units, hyperparameters); then the totals. */
#include "internal.h"

#include <stdio.h>

/* "30x24x24" for maps, "100" for vectors */
static const char *shape_str(int c, int h, int w, char *buf, size_t len)
{
    if (h == 1 && w == 1)
        snprintf(buf, len, "%d", c);
    else
        snprintf(buf, len, "%dx%dx%d", c, h, w);
    return buf;
}

/* "filters 30, kernel 5x5, stride 1, pad 0" ... from the kind's
 * description keys (its op row) */
static const char *details(const bd_net *net, int i, char *buf, size_t len)
{
    const bd_layer *l = &net->layers[i];
    const bd_layer_op *op = bd__layer_op(l->kind);
    size_t n = 0;
    buf[0] = 0;
#define ADD(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__))
    for (int k = 0; op && k < BD__INI_KEYS && op->keys[k].key; k++) {
        const char *sep = n ? ", " : "", *key = op->keys[k].key;
        switch (op->keys[k].field) {
        case BD__CONF_UNITS: ADD("%s%s %d", sep, key, l->units); break;
        case BD__CONF_K: ADD("%s%s %dx%d", sep, key, l->k, l->k); break;
        case BD__CONF_STRIDE: ADD("%s%s %d", sep, key, l->stride); break;
        case BD__CONF_PAD: ADD("%s%s %d", sep, key, l->pad); break;
        case BD__CONF_P0: ADD("%s%s %g", sep, key, (double)l->p0); break;
        case BD__CONF_P1: ADD("%s%s %g", sep, key, (double)l->p1); break;
        }
    }
    if (l->relu_after && i + 1 < net->nlayers)
        ADD("%s+ %s fused", n ? ", " : "", net->layers[i + 1].name);
    if (l->fused)
        ADD("done by %s", net->layers[i - 1].name);
    if (i < net->frozen)
        ADD("%sfrozen", n ? ", " : "");
#undef ADD
    return buf;
}

void bd_net_print(const bd_net *net, FILE *f)
{
    if (!net || !f)
        return;
    char shp[48], det[160];
    const char *rule = "------------------------------------------------------------------------"
                       "--------";
    fprintf(f, "%-16s %-12s %-14s %10s  %s\n", "layer", "kind", "output shape", "parameters",
            "details");
    fprintf(f, "%s\n", rule);
    fprintf(f, "%-16s %-12s %-14s %10d\n", "input", "-",
            shape_str(net->in_c, net->in_h, net->in_w, shp, sizeof shp), 0);
    size_t trainable = 0, state = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer *l = &net->layers[i];
        const bd_layer_op *op = bd__layer_op(l->kind);
        fprintf(f, "%-16s %-12s %-14s %10zu  %s\n", l->name, op ? op->token : "?",
                shape_str(l->out_c, l->out_h, l->out_w, shp, sizeof shp), l->param_count,
                details(net, i, det, sizeof det));
        if (i >= net->frozen)
            trainable += l->param_count;
        state += l->state_count;
    }
    fprintf(f, "%-16s %-12s %-14d\n", bd_loss_kind_name(net->loss), "loss", net->out_size);
    fprintf(f, "%s\n", rule);
    fprintf(f, "parameters %zu (trainable %zu, frozen %zu), non-trainable state %zu values\n",
            bd_net_param_count(net), trainable, bd_net_param_count(net) - trainable, state);
    fprintf(f, "weights %.2f MB in float32\n",
            (double)(bd_net_param_count(net) + state) * sizeof(float) / 1e6);
}
