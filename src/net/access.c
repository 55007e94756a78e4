/* access.c — what a program may read of an opaque network, layer or its
 * blocks (badak.h: accessors). Each reads only; NULL gives 0 or NULL. */
#include "internal.h"

#include <math.h>

size_t bd_net_param_count(const bd_net *net) { return net && net->built ? net->params.size : 0; }
size_t bd_net_state_count(const bd_net *net) { return net && net->built ? net->state.size : 0; }
int bd_net_layer_count(const bd_net *net) { return net ? net->nlayers : 0; }
int bd_net_input_size(const bd_net *net) { return net ? net->in_size : 0; }
int bd_net_output_size(const bd_net *net) { return net ? net->out_size : 0; }
int bd_net_is_training(const bd_net *net) { return net ? net->training : 0; }
int bd_net_max_batch(const bd_net *net) { return net ? net->max_batch : 0; }
int bd_net_frozen(const bd_net *net) { return net ? net->frozen : 0; }
bd_loss_kind bd_net_loss_kind(const bd_net *net) { return net ? net->loss : BD_LOSS_SOFTMAX_CE; }

void bd_net_input_shape(const bd_net *net, int *c, int *h, int *w)
{
    if (c)
        *c = net ? net->in_c : 0;
    if (h)
        *h = net ? net->in_h : 0;
    if (w)
        *w = net ? net->in_w : 0;
}

/* a block of a built network, its size into *n */
static float *block(const bd_net *net, const bd_tensor *t, size_t *n)
{
    int ok = net && net->built && t->data;
    if (n)
        *n = ok ? t->size : 0;
    return ok ? bd_f32(t) : NULL;
}

float *bd_net_params(const bd_net *net, size_t *n) { return block(net, net ? &net->params : NULL, n); }
float *bd_net_grads(const bd_net *net, size_t *n) { return block(net, net ? &net->grads : NULL, n); }
float *bd_net_state(const bd_net *net, size_t *n) { return block(net, net ? &net->state : NULL, n); }

bd_layer *bd_net_layer_at(bd_net *net, int i)
{
    return net && i >= 0 && i < net->nlayers ? &net->layers[i] : NULL;
}

const char *bd_layer_name(const bd_layer *l) { return l ? l->name : ""; }
bd_layer_kind bd_layer_kind_of(const bd_layer *l) { return l ? l->kind : BD_LAYER_KIND_COUNT; }
size_t bd_layer_param_count(const bd_layer *l) { return l ? l->param_count : 0; }
size_t bd_layer_param_offset(const bd_layer *l) { return l ? l->param_offset : 0; }

void bd_layer_output_shape(const bd_layer *l, int *c, int *h, int *w)
{
    if (c)
        *c = l ? l->out_c : 0;
    if (h)
        *h = l ? l->out_h : 0;
    if (w)
        *w = l ? l->out_w : 0;
}

bd_status bd_net_set_regularization(bd_net *net, float l2, float l1)
{
    if (!net)
        return bd_error(BD_ERR_ARG, "bd_net_set_regularization: net is NULL");
    if (!(l2 >= 0.0f && isfinite(l2)))
        return bd_error(BD_ERR_ARG, "bd_net_set_regularization: l2 = %g must be >= 0",
                        (double)l2);
    if (!(l1 >= 0.0f && isfinite(l1)))
        return bd_error(BD_ERR_ARG, "bd_net_set_regularization: l1 = %g must be >= 0",
                        (double)l1);
    net->weight_decay = l2;
    net->l1 = l1;
    return BD_OK;
}

const char *bd_net_desc(const bd_net *net) { return net ? net->desc : ""; }

void bd_net_get_regularization(const bd_net *net, float *l2, float *l1)
{
    if (l2)
        *l2 = net ? net->weight_decay : 0.0f;
    if (l1)
        *l1 = net ? net->l1 : 0.0f;
}

bd_status bd_net_set_class_weights(bd_net *net, const float *w)
{
    if (!net)
        return bd_error(BD_ERR_ARG, "bd_net_set_class_weights: net is NULL");
    net->class_weight = w;
    return BD_OK;
}
