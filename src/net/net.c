/* net.c — a sequential network: layers in order, then a loss layer (the
 * book's OrderedDict of layers + lastLayer, 5.7.2). Parameters live in one
 * contiguous block and gradients in another, so an optimizer step is one
 * loop and a checkpoint one write. */
#include "internal.h"

#include <math.h>
#include <stdio.h>

bd_status bd_net_create(bd_net *net, int c, int h, int w)
{
    memset(net, 0, sizeof *net);
    if (c < 1 || h < 1 || w < 1)
        return bd_error(BD_ERR_SHAPE, "network input shape %dx%dx%d: every side must be >= 1",
                        c, h, w);
    net->in_c = c;
    net->in_h = h;
    net->in_w = w;
    net->in_size = c * h * w;
    net->out_size = net->in_size;
    net->loss = BD_LOSS_SOFTMAX_CE;
    return BD_OK;
}

bd_status bd_net_add(bd_net *net, bd_layer_kind kind, int units)
{
    if (net->built)
        return bd_error(BD_ERR_ARG, "cannot add a layer to a network already built");
    if ((int)kind < 0 || kind >= BD_LAYER_KIND_COUNT)
        return bd_error(BD_ERR_ARG, "unknown layer kind %d", (int)kind);
    if (kind == BD_LAYER_AFFINE && units < 1)
        return bd_error(BD_ERR_ARG, "Affine%d: %d units (must be >= 1)",
                        net->nlayers + 1, units);
    if (net->nlayers == net->layers_cap) {
        int cap = net->layers_cap ? 2 * net->layers_cap : 8;
        bd_layer *nl = realloc(net->layers, (size_t)cap * sizeof *nl);
        if (!nl)
            return bd_error(BD_ERR_NOMEM, "out of memory adding a layer");
        net->layers = nl;
        net->layers_cap = cap;
    }
    /* Names count per kind, as the book does: Affine1, Relu1, Affine2... */
    int same = 1;
    for (int i = 0; i < net->nlayers; i++)
        same += net->layers[i].kind == kind;
    bd_layer *l = &net->layers[net->nlayers++];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    snprintf(l->name, sizeof l->name, "%s%d", bd__layer_op(kind)->name, same);
    l->in_size = net->out_size;
    l->units = units;
    l->out_size = kind == BD_LAYER_AFFINE ? units : l->in_size;
    net->out_size = l->out_size;
    return BD_OK;
}

bd_status bd_net_add_affine(bd_net *net, int units) { return bd_net_add(net, BD_LAYER_AFFINE, units); }
bd_status bd_net_add_relu(bd_net *net) { return bd_net_add(net, BD_LAYER_RELU, 0); }
bd_status bd_net_add_sigmoid(bd_net *net) { return bd_net_add(net, BD_LAYER_SIGMOID, 0); }

void bd_net_set_loss(bd_net *net, bd_loss_kind loss) { net->loss = loss; }

void bd_net_init_weights(bd_net *net, bd_init init, bd_rng *rng)
{
    net->init = init;
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        if (l->kind != BD_LAYER_AFFINE)
            continue;
        float std = init.std;
        if (init.kind == BD_INIT_XAVIER)
            std = sqrtf(1.0f / (float)l->in_size);      /* book 6.2.2 */
        else if (init.kind == BD_INIT_HE)
            std = sqrtf(2.0f / (float)l->in_size);      /* book 6.2.3 */
        float *W = bd_f32(&l->W);
        for (size_t k = 0; k < l->W.size; k++)
            W[k] = std * bd_rng_normal(rng);
        memset(l->b.data, 0, l->b.size * sizeof(float));
    }
}

bd_status bd_net_build(bd_net *net, bd_init init, bd_rng *rng)
{
    if (net->built)
        return bd_error(BD_ERR_ARG, "network already built");
    if (net->nlayers == 0)
        return bd_error(BD_ERR_ARG, "network has no layers");
    if (init.kind == BD_INIT_STD && !(init.std > 0.0f))
        return bd_error(BD_ERR_ARG, "weight init std %g must be > 0", (double)init.std);
    size_t total = 0;
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        l->param_offset = total;
        l->param_count = bd__layer_op(l->kind)->param_count(l);
        total += l->param_count;
    }
    int shape[1] = {(int)(total ? total : 1)};
    if (total > (size_t)INT32_MAX)
        return bd_error(BD_ERR_SHAPE, "network has %zu parameters (too many)", total);
    BD_TRY(bd_tensor_alloc(&net->params, BD_F32, 1, shape));
    bd_status s = bd_tensor_alloc(&net->grads, BD_F32, 1, shape);
    if (s != BD_OK) {
        bd_tensor_free(&net->params);
        return s;
    }
    net->params.size = net->grads.size = total;
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        bd__layer_op(l->kind)->bind(l, bd_f32(&net->params) + l->param_offset,
                                    bd_f32(&net->grads) + l->param_offset);
    }
    net->built = 1;
    bd_net_init_weights(net, init, rng);
    return BD_OK;
}

static bd_status alloc_rows(bd_tensor *t, bd_dtype dt, int rows, int cols)
{
    bd_tensor_free(t);
    int shape[2] = {rows, cols};
    return bd_tensor_alloc(t, dt, cols ? 2 : 1, shape);
}

bd_status bd_net_reserve(bd_net *net, int max_batch)
{
    if (!net->built)
        return bd_error(BD_ERR_ARG, "network must be built before bd_net_reserve");
    if (max_batch < 1)
        return bd_error(BD_ERR_ARG, "batch size %d must be >= 1", max_batch);
    if (max_batch <= net->max_batch)
        return BD_OK;
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        BD_TRY(alloc_rows(&l->out, BD_F32, max_batch, l->out_size));
        /* the first layer's input gradient is never needed */
        if (i > 0)
            BD_TRY(alloc_rows(&l->dx, BD_F32, max_batch, l->in_size));
    }
    BD_TRY(alloc_rows(&net->prob, BD_F32, max_batch, net->out_size));
    BD_TRY(alloc_rows(&net->dlogits, BD_F32, max_batch, net->out_size));
    BD_TRY(alloc_rows(&net->xbatch, BD_F32, max_batch, net->in_size));
    BD_TRY(alloc_rows(&net->ybatch, BD_I32, max_batch, 0));
    net->max_batch = max_batch;
    return BD_OK;
}

void bd_net_free(bd_net *net)
{
    for (int i = 0; i < net->nlayers; i++) {
        bd_tensor_free(&net->layers[i].out);
        bd_tensor_free(&net->layers[i].dx);
    }
    free(net->layers);
    bd_tensor_free(&net->params);
    bd_tensor_free(&net->grads);
    bd_tensor_free(&net->prob);
    bd_tensor_free(&net->dlogits);
    bd_tensor_free(&net->xbatch);
    bd_tensor_free(&net->ybatch);
    memset(net, 0, sizeof *net);
}

size_t bd_net_param_count(const bd_net *net) { return net->built ? net->params.size : 0; }

bd_layer *bd_net_layer(bd_net *net, const char *name)
{
    for (int i = 0; i < net->nlayers; i++)
        if (strcmp(net->layers[i].name, name) == 0)
            return &net->layers[i];
    return NULL;
}

static const char *loss_name(bd_loss_kind k)
{
    return k == BD_LOSS_MSE ? "MeanSquaredError" : "SoftmaxWithLoss";
}

void bd_net_print(const bd_net *net, FILE *f)
{
    fprintf(f, "input     %d x %d x %d (%d features)\n", net->in_c, net->in_h, net->in_w,
            net->in_size);
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer *l = &net->layers[i];
        if (l->kind == BD_LAYER_AFFINE)
            fprintf(f, "%-9s %d -> %d  (W %dx%d, b %d: %zu parameters)\n", l->name, l->in_size,
                    l->out_size, l->in_size, l->out_size, l->out_size, l->param_count);
        else
            fprintf(f, "%-9s %d\n", l->name, l->out_size);
    }
    fprintf(f, "%-9s %d classes\n", loss_name(net->loss), net->out_size);
    fprintf(f, "parameters %zu\n", bd_net_param_count(net));
}

/* Check a batch tensor against the network's input: the first layer is named
 * in the message, with both shapes ("Affine1: input 785 vs weight 784x50"). */
static bd_status check_input(const bd_net *net, const bd_tensor *x, int *B)
{
    char a[64];
    if (!net->built)
        return bd_error(BD_ERR_ARG, "network is not built");
    if (x->dtype != BD_F32 || x->ndim < 1)
        return bd_error(BD_ERR_ARG, "network input must be a float32 tensor");
    int rows = x->shape[0];
    size_t per = rows ? x->size / (size_t)rows : 0;
    if (rows < 1 || per != (size_t)net->in_size) {
        const bd_layer *l = &net->layers[0];
        if (l->kind == BD_LAYER_AFFINE)
            return bd_error(BD_ERR_SHAPE, "%s: input %zu vs weight %dx%d (x is %s)", l->name,
                            per, l->in_size, l->out_size, bd_shape_str(x, a, sizeof a));
        return bd_error(BD_ERR_SHAPE, "%s: input %zu vs expected %d (x is %s)", l->name, per,
                        l->in_size, bd_shape_str(x, a, sizeof a));
    }
    if (rows > net->max_batch)
        return bd_error(BD_ERR_SHAPE,
                        "batch of %d rows exceeds the %d reserved (call bd_net_reserve)", rows,
                        net->max_batch);
    *B = rows;
    return BD_OK;
}

bd_status bd_net_forward(bd_net *net, const bd_tensor *x, const bd_tensor **logits)
{
    int B = 0;
    BD_TRY(check_input(net, x, &B));
    const bd_tensor *in = x;
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        int shape[2] = {B, l->out_size};
        BD_TRY(bd_tensor_reshape(&l->out, 2, shape, l->name));
        l->in = in;
        bd__layer_op(l->kind)->forward(l, B);
        in = &l->out;
    }
    if (logits)
        *logits = in;
    return BD_OK;
}

bd_status bd_net_loss(bd_net *net, const bd_tensor *x, bd_labels t, float *loss)
{
    const bd_tensor *y;
    BD_TRY(bd_net_forward(net, x, &y));
    int B = y->shape[0], C = net->out_size;
    if (!t.idx && !t.onehot)
        return bd_error(BD_ERR_ARG, "%s: no labels given", loss_name(net->loss));
    if (t.idx)
        for (int r = 0; r < B; r++)
            if (t.idx[r] < 0 || t.idx[r] >= C)
                return bd_error(BD_ERR_SHAPE, "%s: label %d at row %d outside 0..%d",
                                loss_name(net->loss), t.idx[r], r, C - 1);
    int shape[2] = {B, C};
    BD_TRY(bd_tensor_reshape(&net->prob, 2, shape, "loss"));
    BD_TRY(bd_tensor_reshape(&net->dlogits, 2, shape, "loss"));
    double L;
    if (net->loss == BD_LOSS_MSE) {
        memcpy(net->prob.data, y->data, (size_t)B * C * sizeof(float));
        L = bd_mse_forward(bd_f32(y), t, B, C);
    } else {
        L = bd_softmax_ce_forward(bd_f32(&net->prob), bd_f32(y), t, B, C);
    }
    net->last_t = t;
    net->last_loss = L;
    if (loss)
        *loss = (float)L;
    return BD_OK;
}

bd_status bd_net_backward(bd_net *net)
{
    if (net->nlayers == 0 || !(net->last_t.idx || net->last_t.onehot))
        return bd_error(BD_ERR_ARG, "bd_net_backward needs a bd_net_loss first");
    int B = net->prob.shape[0], C = net->out_size;
    if (net->loss == BD_LOSS_MSE)
        bd_mse_backward(bd_f32(&net->dlogits), bd_f32(&net->prob), net->last_t, B, C);
    else
        bd_softmax_ce_backward(bd_f32(&net->dlogits), bd_f32(&net->prob), net->last_t, B, C);
    const float *dy = bd_f32(&net->dlogits);
    for (int i = net->nlayers - 1; i >= 0; i--) {
        bd_layer *l = &net->layers[i];
        bd__layer_op(l->kind)->backward(l, dy, B, i > 0);
        if (i > 0)
            dy = bd_f32(&l->dx);
    }
    return BD_OK;
}

bd_status bd_net_gradient(bd_net *net, const bd_tensor *x, bd_labels t, float *loss)
{
    BD_TRY(bd_net_loss(net, x, t, loss));
    return bd_net_backward(net);
}
