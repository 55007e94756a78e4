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

/* "30 filters 5x5, stride 1, pad 0" ... from the kind's INI keys */
static const char *details(const bd_net *net, int i, char *buf, size_t len)
{
    const bd_layer *l = &net->layers[i];
    const char *type, *units, *p0, *p1;
    int kernel;
    bd__layer_keys(l->kind, &type, &units, &kernel, &p0, &p1);
    size_t n = 0;
    buf[0] = 0;
#define ADD(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__))
    if (units)
        ADD("%s %d", units, l->units);
    if (kernel == 1 || kernel == 2)
        ADD("%skernel %dx%d, stride %d", n ? ", " : "", l->k, l->k, l->stride);
    if (kernel == 2)
        ADD(", pad %d", l->pad);
    if (kernel == 3)
        ADD("%sstride %d", n ? ", " : "", l->stride);
    if (p0)
        ADD("%s%s %g", n ? ", " : "", p0, (double)l->p0);
    if (p1)
        ADD("%s%s %g", n ? ", " : "", p1, (double)l->p1);
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
        const char *type, *units, *p0, *p1;
        int kernel;
        bd__layer_keys(l->kind, &type, &units, &kernel, &p0, &p1);
        fprintf(f, "%-16s %-12s %-14s %10zu  %s\n", l->name, type ? type : "?",
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
