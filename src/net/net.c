/* net.c — a sequential network: layers in order, then a loss layer (the
 * book's OrderedDict of layers + lastLayer, 5.7.2). Parameters live in one
 * contiguous block, gradients in another and non-trainable state (BatchNorm
 * running statistics) in a third, so an optimizer step is one loop and a
 * checkpoint one write per block. */
#include "internal.h"

#include <math.h>
#include <stdio.h>

bd_status bd__net_alloc(bd_net **out, const char *who, bd_net **net)
{
    if (!out)
        return bd_error(BD_ERR_ARG, "%s: out is NULL", who);
    *out = NULL;
    if (!(*net = calloc(1, sizeof **net)))
        return bd_error(BD_ERR_NOMEM, "%s: out of memory", who);
    return BD_OK;
}

bd_status bd__net_publish(bd_net **out, bd_net *net, bd_status s)
{
    if (s != BD_OK) {
        bd__net_release(net);
        free(net);
        return s;
    }
    *out = net;
    return BD_OK;
}

bd_status bd_net_create(bd_net **out, int c, int h, int w)
{
    BD__NET_NEW(out, "bd_net_create", bd__net_init(net, c, h, w));
}

bd_status bd__net_init(bd_net *net, int c, int h, int w)
{
    memset(net, 0, sizeof *net);
    if (c < 1 || h < 1 || w < 1)
        return bd_error(BD_ERR_SHAPE, "network input shape %dx%dx%d: every side must be >= 1",
                        c, h, w);
    int64_t d[3] = {c, h, w}, n;
    BD_TRY(bd__dims_product("network input", 3, d, &n));
    net->in_c = net->out_c = c;
    net->in_h = net->out_h = h;
    net->in_w = net->out_w = w;
    net->in_size = (int)n;
    net->out_size = net->in_size;
    net->loss = BD_LOSS_SOFTMAX_CE;
    net->training = 1;
    return BD_OK;
}

/* Refuse, before anything is allocated, a layer whose weights (and their
 * gradients, and the network's so far) cannot fit in this process's memory,
 * or whose parameters are more than BD_MAX_ELEMENTS, naming the layer and
 * the bytes: "Affine1: 1000000 units: ... need 6360000080 bytes". */
static bd_status check_layer_memory(const bd_net *net, const bd_layer *l, const bd_layer_op *op)
{
    /* a conv's F x C x K x K can pass 2^64 (K up to 2^21 with padding), so
     * the op's own size_t count could wrap: bound it in floating point first */
    double est = l->kind == BD_LAYER_CONV2D ? (double)l->units * l->in_c * l->k * l->k : 0.0;
    if (est > (double)BD_MAX_ELEMENTS)
        return bd_error(BD_ERR_SHAPE, "%s (%d filters of %dx%dx%d): about %.3g parameters, "
                        "more than %lld (BD_MAX_ELEMENTS)", l->name, l->units, l->in_c, l->k,
                        l->k, est, (long long)BD_MAX_ELEMENTS);
    uint64_t mine = op->param_count ? op->param_count(l) : 0;
    uint64_t state = op->state_count ? op->state_count(l) : 0;
    char who[96];
    if (l->kind == BD_LAYER_AFFINE)
        snprintf(who, sizeof who, "%s (%d units on %d inputs)", l->name, l->units, l->in_size);
    else if (l->kind == BD_LAYER_CONV2D || l->kind == BD_LAYER_RESBLOCK)
        snprintf(who, sizeof who, "%s (%d %s on %dx%dx%d)", l->name, l->units,
                 l->kind == BD_LAYER_CONV2D ? "filters" : "channels", l->in_c, l->in_h, l->in_w);
    else
        snprintf(who, sizeof who, "%s", l->name);
    if (mine + state > (uint64_t)BD_MAX_ELEMENTS)
        return bd_error(BD_ERR_SHAPE, "%s: %llu parameters, more than %lld (BD_MAX_ELEMENTS); "
                        "they would need %llu bytes", who, (unsigned long long)(mine + state),
                        (long long)BD_MAX_ELEMENTS, (unsigned long long)(mine + state) * 8);
    uint64_t total = mine;
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer_op *o = bd__layer_op(net->layers[i].kind);
        total += o->param_count ? o->param_count(&net->layers[i]) : 0;
    }
    /* weights and gradients, 4 bytes each, and one sample's output */
    return bd__check_mem(who, "the network's weights and gradients",
                         total * 8 + state * 4 + (uint64_t)l->out_size * 4);
}

bd_status bd_net_add_layer(bd_net *net, const bd_layer_conf *c)
{
    if (!net || !c)
        return bd_error(BD_ERR_ARG, "bd_net_add_layer: %s is NULL", !net ? "net" : "conf");
    if (net->built)
        return bd_error(BD_ERR_ARG, "cannot add a layer to a network already built");
    const bd_layer_op *op = bd__layer_op(c->kind);
    if (!op)
        return bd_error(BD_ERR_ARG, "layer kind %d is not available", (int)c->kind);
    /* Names count per kind, as the book does: Affine1, Relu1, Affine2... */
    int same = 1;
    for (int i = 0; i < net->nlayers; i++)
        same += net->layers[i].kind == c->kind;
    char name[32];
    if (c->name && c->name[0])
        snprintf(name, sizeof name, "%s", c->name);
    else
        snprintf(name, sizeof name, "%s%d", op->name, same);
    for (int i = 0; i < net->nlayers; i++)
        if (strcmp(net->layers[i].name, name) == 0)
            return bd_error(BD_ERR_ARG, "%s: two layers with that name", name);
    BD_TRY(bd__layer_check(op, name, c->p0, c->p1));
    if (c->units < 0 || c->k < 0 || c->stride < 0 || c->pad < 0)
        return bd_error(BD_ERR_ARG, "%s: sizes must be >= 0 (units %d, kernel %d, stride %d, "
                        "pad %d)", name, c->units, c->k, c->stride, c->pad);
    bd_layer l;
    memset(&l, 0, sizeof l);
    l.kind = c->kind;
    snprintf(l.name, sizeof l.name, "%s", name);
    l.in_c = net->out_c;
    l.in_h = net->out_h;
    l.in_w = net->out_w;
    l.in_size = net->out_size;
    l.units = c->units;
    l.k = c->k;
    l.stride = c->stride;
    l.pad = c->pad;
    l.p0 = c->p0 != 0.0f ? c->p0 : op->def_p0;
    l.p1 = c->p1 != 0.0f ? c->p1 : op->def_p1;
    l.net = net;
    if (op->shape) {
        BD_TRY(op->shape(&l));
    } else {
        l.out_c = l.in_c;
        l.out_h = l.in_h;
        l.out_w = l.in_w;
    }
    int64_t od[3] = {l.out_c, l.out_h, l.out_w}, out;
    char who[64];
    snprintf(who, sizeof who, "%s: output", name);
    BD_TRY(bd__dims_product(who, 3, od, &out));
    l.out_size = (int)out;
    BD_TRY(check_layer_memory(net, &l, op));
    if (net->nlayers == net->layers_cap) {
        int cap = net->layers_cap ? 2 * net->layers_cap : 8;
        bd_layer *nl = realloc(net->layers, (size_t)cap * sizeof *nl);
        if (!nl)
            return bd_error(BD_ERR_NOMEM, "out of memory adding a layer");
        net->layers = nl;
        net->layers_cap = cap;
    }
    net->layers[net->nlayers++] = l;
    net->out_c = l.out_c;
    net->out_h = l.out_h;
    net->out_w = l.out_w;
    net->out_size = l.out_size;
    return BD_OK;
}

bd_status bd_net_add_with(bd_net *net, bd_layer_kind kind, int units, float p0, float p1)
{
    bd_layer_conf c = {.kind = kind, .units = units, .p0 = p0, .p1 = p1};
    return bd_net_add_layer(net, &c);
}

bd_status bd_net_add_conv(bd_net *net, int filters, int k, int stride, int pad)
{
    bd_layer_conf c = {.kind = BD_LAYER_CONV2D, .units = filters, .k = k, .stride = stride,
                       .pad = pad};
    return bd_net_add_layer(net, &c);
}

bd_status bd_net_add_pool(bd_net *net, bd_layer_kind kind, int k, int stride)
{
    if (kind != BD_LAYER_MAXPOOL && kind != BD_LAYER_AVGPOOL)
        return bd_error(BD_ERR_ARG, "bd_net_add_pool: kind %s is not a pooling layer",
                        bd_layer_kind_name(kind));
    bd_layer_conf c = {.kind = kind, .k = k, .stride = stride};
    return bd_net_add_layer(net, &c);
}

bd_status bd_net_add_resblock(bd_net *net, int channels, int stride)
{
    bd_layer_conf c = {.kind = BD_LAYER_RESBLOCK, .units = channels, .stride = stride};
    return bd_net_add_layer(net, &c);
}

bd_status bd_net_add(bd_net *net, bd_layer_kind kind, int units)
{
    return bd_net_add_with(net, kind, units, 0.0f, 0.0f);
}

bd_status bd_net_add_affine(bd_net *net, int units) { return bd_net_add(net, BD_LAYER_AFFINE, units); }
bd_status bd_net_add_relu(bd_net *net) { return bd_net_add(net, BD_LAYER_RELU, 0); }
bd_status bd_net_add_sigmoid(bd_net *net) { return bd_net_add(net, BD_LAYER_SIGMOID, 0); }

bd_status bd_net_set_loss(bd_net *net, bd_loss_kind loss)
{
    if (!net)
        return bd_error(BD_ERR_ARG, "bd_net_set_loss: net is NULL");
    if (!bd__loss_op(loss))
        return bd_error(BD_ERR_ARG, "bd_net_set_loss: loss kind %d is not known", (int)loss);
    net->loss = loss;
    return BD_OK;
}

bd_status bd_net_set_training(bd_net *net, int training)
{
    if (!net)
        return bd_error(BD_ERR_ARG, "bd_net_set_training: net is NULL");
    net->training = training != 0;
    return BD_OK;
}

bd_status bd_net_init_weights(bd_net *net, bd_init init, bd_rng *rng)
{
    if (!net || !rng)
        return bd_error(BD_ERR_ARG, "bd_net_init_weights: %s is NULL", !net ? "net" : "rng");
    if (!net->built)
        return bd_error(BD_ERR_ARG, "bd_net_init_weights: the network is not built");
    net->init = init;
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        const bd_layer_op *op = bd__layer_op(l->kind);
        if (op->init)
            op->init(l, init, rng);
    }
    return BD_OK;
}

static size_t count_of(size_t (*f)(const bd_layer *), const bd_layer *l)
{
    return f ? f(l) : 0;
}

/* one block of n floats (at least one element so it is never NULL) */
static bd_status alloc_block(bd_tensor *t, size_t n)
{
    int shape[1] = {(int)(n ? n : 1)};
    BD_TRY(bd_tensor_alloc(t, BD_F32, 1, shape));
    t->size = n;
    return BD_OK;
}

/* Move one of the net's blocks (params or grads) into `block`: copied, the
 * old one freed, every layer's views rebound. */
static bd_status use_block(bd_net *net, bd_tensor *t, float *block, int copy, const char *fn)
{
    if (!net || !block || !net->built)
        return bd_error(BD_ERR_ARG, "%s: %s", fn, !net ? "net is NULL"
                        : !block ? "block is NULL" : "the network is not built");
    const size_t n = net->params.size;
    if (copy)
        memcpy(block, bd_f32(t), n * sizeof *block);
    bd_tensor_free(t);
    int shape[1] = {(int)(n ? n : 1)};
    *t = bd_tensor_view(block, 1, shape);
    t->size = n;
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        const bd_layer_op *op = bd__layer_op(l->kind);
        if (op->bind) /* the W/b/state views and dW/db into the blocks */
            op->bind(l, bd_f32(&net->params) + l->param_offset,
                     bd_f32(&net->grads) + l->param_offset,
                     bd_f32(&net->state) + l->state_offset);
    }
    return BD_OK;
}

bd_status bd__net_use_grads(bd_net *net, float *block)
{
    return use_block(net, net ? &net->grads : NULL, block, 1, "bd__net_use_grads");
}

bd_status bd__net_use_params(bd_net *net, float *block, int copy)
{
    return use_block(net, net ? &net->params : NULL, block, copy, "bd__net_use_params");
}

bd_status bd_net_build(bd_net *net, bd_init init, bd_rng *rng)
{
    if (!net || !rng)
        return bd_error(BD_ERR_ARG, "bd_net_build: %s is NULL", !net ? "net" : "rng");
    if (net->built)
        return bd_error(BD_ERR_ARG, "network already built");
    if (net->nlayers == 0)
        return bd_error(BD_ERR_ARG, "network has no layers");
    if (init.kind == BD_INIT_STD && !(init.std > 0.0f))
        return bd_error(BD_ERR_ARG, "weight init std %g must be > 0", (double)init.std);
    if (!bd__loss_op(net->loss))
        return bd_error(BD_ERR_ARG, "loss kind %d is not available", (int)net->loss);
    if (net->loss == BD_LOSS_SIGMOID_BCE && net->out_size != 1)
        return bd_error(BD_ERR_SHAPE, "%s needs one output unit, the network has %d",
                        bd_loss_kind_name(net->loss), net->out_size);
    size_t np = 0, ns = 0;
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        const bd_layer_op *op = bd__layer_op(l->kind);
        l->param_offset = np;
        l->param_count = count_of(op->param_count, l);
        l->state_offset = ns;
        l->state_count = count_of(op->state_count, l);
        np += l->param_count;
        ns += l->state_count;
    }
    if (np > (size_t)INT32_MAX || ns > (size_t)INT32_MAX)
        return bd_error(BD_ERR_SHAPE, "network has %zu parameters (too many)", np);
    bd_status s = alloc_block(&net->params, np);
    if (s == BD_OK)
        s = alloc_block(&net->grads, np);
    if (s == BD_OK)
        s = alloc_block(&net->state, ns);
    for (int i = 0; s == BD_OK && i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        const bd_layer_op *op = bd__layer_op(l->kind);
        size_t a2 = count_of(op->aux2_size, l);
        if (a2) {
            int shape[1] = {(int)a2};
            s = bd_tensor_alloc(&l->aux2, BD_F32, 1, shape);
        }
        if (op->bind)
            op->bind(l, bd_f32(&net->params) + l->param_offset,
                     bd_f32(&net->grads) + l->param_offset,
                     bd_f32(&net->state) + l->state_offset);
    }
    if (s != BD_OK) {
        bd_tensor_free(&net->params);
        bd_tensor_free(&net->grads);
        bd_tensor_free(&net->state);
        return s;
    }
    /* a ReLU right after a layer that can apply it is fused into it */
    for (int i = 1; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i], *prev = l - 1;
        prev->relu_after = l->fused = l->kind == BD_LAYER_RELU &&
                                      bd__layer_op(prev->kind)->fuse_relu && !prev->fused;
    }
    net->built = 1;
    bd_net_init_weights(net, init, rng);
    bd_rng_seed(&net->rng, bd_rng_u64(rng)); /* the layers' own stream */
    return BD_OK;
}

void bd__net_unfuse(bd_net *net)
{
    for (int i = 0; i < net->nlayers; i++)
        net->layers[i].relu_after = net->layers[i].fused = 0;
}

static bd_status alloc_rows(bd_tensor *t, bd_dtype dt, int rows, int cols)
{
    bd_tensor_free(t);
    int shape[2] = {rows, cols};
    return bd_tensor_alloc(t, dt, cols ? 2 : 1, shape);
}

/* Before allocating activations for max_batch rows: every layer's
 * [B, out] must be at most BD_MAX_ELEMENTS and all of them together must fit
 * in memory; errors name the layer ("Conv1: output for a batch of 100: 100 x
 * 3774873600 ..."). */
static bd_status reserve_check(const bd_net *net, int max_batch)
{
    uint64_t total = 0;
    const char *big = NULL;
    uint64_t bigb = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer *l = &net->layers[i];
        const bd_layer_op *op = bd__layer_op(l->kind);
        int64_t d[2] = {max_batch, l->out_size}, e;
        char who[96];
        snprintf(who, sizeof who, "%s: output for a batch of %d", l->name, max_batch);
        BD_TRY(bd__dims_product(who, 2, d, &e));
        size_t ac = op->aux_cols ? op->aux_cols(l) : 0;
        uint64_t mine = (uint64_t)e * 4 * 2 + (uint64_t)max_batch * ac * 4 +
                        (uint64_t)max_batch * (uint64_t)l->in_size * 4;
        if (mine > bigb)
            bigb = mine, big = l->name;
        total += mine;
    }
    char who[96];
    snprintf(who, sizeof who, "batch of %d (largest: %s, %llu bytes)", max_batch,
             big ? big : "-", (unsigned long long)bigb);
    return bd__check_mem(who, "the activations and their gradients", total);
}

bd_status bd_net_reserve(bd_net *net, int max_batch)
{
    if (!net)
        return bd_error(BD_ERR_ARG, "bd_net_reserve: net is NULL");
    if (!net->built)
        return bd_error(BD_ERR_ARG, "network must be built before bd_net_reserve");
    if (max_batch < 1)
        return bd_error(BD_ERR_ARG, "batch size %d must be >= 1", max_batch);
    if (max_batch <= net->max_batch)
        return BD_OK;
    BD_TRY(reserve_check(net, max_batch));
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        const bd_layer_op *op = bd__layer_op(l->kind);
        if (l->fused) /* its out is a view of the layer before's, and no dx */
            continue;
        BD_TRY(alloc_rows(&l->out, BD_F32, max_batch, l->out_size));
        /* the first layer's input gradient is never needed, and no layer's
         * for inference */
        if (i > 0 && !net->inference)
            BD_TRY(alloc_rows(&l->dx, BD_F32, max_batch, l->in_size));
        size_t ac = count_of(op->aux_cols, l);
        if (ac)
            BD_TRY(alloc_rows(&l->aux, BD_F32, max_batch, (int)ac));
    }
    size_t scratch = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer_op *op = bd__layer_op(net->layers[i].kind);
        if (op->scratch)
            scratch = BD_MAX(scratch, op->scratch(&net->layers[i], max_batch));
    }
    if (scratch) {
        bd_tensor_free(&net->scratch);
        int shape[1] = {0};
        if (scratch > (size_t)INT32_MAX)
            return bd_error(BD_ERR_NOMEM, "layer scratch of %zu floats for batch %d is too large",
                            scratch, max_batch);
        shape[0] = (int)scratch;
        BD_TRY(bd_tensor_alloc(&net->scratch, BD_F32, 1, shape));
    }
    if (!net->inference) {
        BD_TRY(alloc_rows(&net->prob, BD_F32, max_batch, net->out_size));
        BD_TRY(alloc_rows(&net->dlogits, BD_F32, max_batch, net->out_size));
    }
    BD_TRY(alloc_rows(&net->xbatch, BD_F32, max_batch, net->in_size));
    BD_TRY(alloc_rows(&net->ybatch, BD_I32, max_batch, 0));
    net->max_batch = max_batch;
    return BD_OK;
}

void bd_net_free(bd_net *net)
{
    if (!net)
        return;
    bd__net_release(net);
    free(net);
}

void bd__net_release(bd_net *net)
{
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        bd_tensor_free(&l->out);
        bd_tensor_free(&l->dx);
        bd_tensor_free(&l->aux);
        bd_tensor_free(&l->aux2);
    }
    free(net->layers);
    bd_tensor_free(&net->params);
    bd_tensor_free(&net->grads);
    bd_tensor_free(&net->state);
    bd_tensor_free(&net->prob);
    bd_tensor_free(&net->scratch);
    bd_tensor_free(&net->dlogits);
    bd_tensor_free(&net->xbatch);
    bd_tensor_free(&net->ybatch);
    bd__net_rows_free(net);
    memset(net, 0, sizeof *net);
}

bd_layer *bd_net_layer(bd_net *net, const char *name)
{
    for (int i = 0; net && name && i < net->nlayers; i++)
        if (strcmp(net->layers[i].name, name) == 0)
            return &net->layers[i];
    return NULL;
}

/* Check a batch tensor against the network's input: the first layer is named
 * in the message, with both shapes ("Affine1: input 785 vs weight 784x50"). */
static bd_status check_input(const bd_net *net, const bd_tensor *x, int *B)
{
    char a[64];
    if (!net || !x)
        return bd_error(BD_ERR_ARG, "bd_net_forward: %s is NULL", !net ? "net" : "x");
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
    /* Dropout and RReLU draw row r from a stream of (step_key, layer,
     * row0 + r): one draw per training forward, however the batch is split */
    if (net->training)
        net->step_key = bd_rng_u64(&net->rng);
    const bd_tensor *y;
    BD_TRY(bd__net_forward_layers(net, x, B, &y));
    if (logits)
        *logits = y;
    return BD_OK;
}

bd_status bd__net_forward_layers(bd_net *net, const bd_tensor *x, int B, const bd_tensor **y)
{
    const bd_tensor *in = x;
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        int shape[2] = {B, l->out_size};
        l->in = in;
        if (l->fused) /* done by the layer before: the same values */
            l->out = bd_tensor_view(bd_f32(in), 2, shape);
        else {
            BD_TRY(bd_tensor_reshape(&l->out, 2, shape, l->name));
            bd__layer_op(l->kind)->forward(l, B);
        }
        in = &l->out;
    }
    *y = in;
    return BD_OK;
}

/* The regularisation term of the loss: ½λ Σ W² (book 6.4.1) + λ₁ Σ |W|, over
 * the weights of layers that decay (Affine W; not biases, not BatchNorm). */
double bd__net_penalty(const bd_net *net)
{
    double l2 = 0.0, l1 = 0.0;
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer *l = &net->layers[i];
        if (!bd__layer_op(l->kind)->decay)
            continue;
        const float *W = bd_f32(&l->W);
        for (size_t k = 0; k < l->W.size; k++) {
            l2 += (double)W[k] * W[k];
            l1 += fabs((double)W[k]);
        }
    }
    return 0.5 * net->weight_decay * l2 + net->l1 * l1;
}

/* Class-weighted cross-entropy, -(1/B) Σ_r w_{t_r} log softmax(a_r)_{t_r},
 * from the logits (log-sum-exp with the row maximum subtracted, as
 * bd_softmax_ce_forward). */
static double weighted_ce(const float *logits, const int32_t *t, const float *w, int B, int C)
{
    double total = 0.0;
    for (int r = 0; r < B; r++) {
        const float *a = logits + (size_t)r * C;
        float m = a[0];
        for (int k = 1; k < C; k++)
            m = a[k] > m ? a[k] : m;
        double sum = 0.0;
        for (int k = 0; k < C; k++)
            sum += exp((double)(a[k] - m));
        total -= (double)w[t[r]] * ((double)(a[t[r]] - m) - log(sum));
    }
    return total / B;
}

bd_status bd_net_loss(bd_net *net, const bd_tensor *x, bd_labels t, float *loss)
{
    if (!net || !x)
        return bd_error(BD_ERR_ARG, "bd_net_loss: %s is NULL", !net ? "net" : "x");
    if (!t.idx && !t.onehot)
        return bd_error(BD_ERR_ARG, "bd_net_loss: the labels have neither idx nor onehot");
    if (net->inference)
        return bd_error(BD_ERR_ARG, "bd_net_loss: the network was opened for inference only "
                        "(bd_model_open); load it with bd_model_load to train it");
    const bd_tensor *y;
    BD_TRY(bd_net_forward(net, x, &y));
    BD_TRY(bd__net_check_labels(net, t, y->shape[0]));
    double L;
    BD_TRY(bd__net_data_loss(net, y, t, &L));
    if (net->weight_decay != 0.0f || net->l1 != 0.0f)
        L += bd__net_penalty(net);
    net->last_loss = L;
    if (loss)
        *loss = (float)L;
    return BD_OK;
}

bd_status bd__net_check_labels(const bd_net *net, bd_labels t, int B)
{
    const bd_loss_op *op = bd__loss_op(net->loss);
    if (!t.idx && !t.onehot)
        return bd_error(BD_ERR_ARG, "%s: no labels given", op->name);
    int top = net->loss == BD_LOSS_SIGMOID_BCE ? 1 : net->out_size - 1;
    if (t.idx)
        for (int r = 0; r < B; r++)
            if (t.idx[r] < 0 || t.idx[r] > top)
                return bd_error(BD_ERR_SHAPE, "%s: label %d at row %d outside 0..%d", op->name,
                                t.idx[r], r, top);
    return BD_OK;
}

bd_status bd__net_data_loss(bd_net *net, const bd_tensor *y, bd_labels t, double *loss)
{
    const bd_loss_op *op = bd__loss_op(net->loss);
    int B = y->shape[0], C = net->out_size;
    int shape[2] = {B, C};
    BD_TRY(bd_tensor_reshape(&net->prob, 2, shape, "loss"));
    BD_TRY(bd_tensor_reshape(&net->dlogits, 2, shape, "loss"));
    double L = op->forward(bd_f32(&net->prob), bd_f32(y), t, B, C);
    if (net->class_weight && t.idx && net->loss == BD_LOSS_SOFTMAX_CE)
        L = weighted_ce(bd_f32(y), t.idx, net->class_weight, B, C);
    net->last_t = t;
    net->last_loss = L;
    *loss = L;
    return BD_OK;
}

/* ---- the deliberate bug of the gradient-check tests (bd__debug_break_backward):
 * applied here, once, after a layer's backward, so no layer carries it. */

_Static_assert(BD_LAYER_KIND_COUNT <= 32, "bd_net.broken has a bit per layer kind");

void bd__debug_break_backward(bd_net *net, bd_layer_kind kind, int broken)
{
    if (!net || (int)kind < 0 || kind >= BD_LAYER_KIND_COUNT)
        return;
    if (broken)
        net->broken |= 1u << kind;
    else
        net->broken &= ~(1u << kind);
}

void bd__debug_unfuse_pool(bd_net *net, int unfused)
{
    if (net)
        net->pool_unfused = unfused != 0;
}

int bd__net_unread_begin(bd_net *net)
{
    const int before = net->pooled_y_unread;
    net->pooled_y_unread = 1;
    return before;
}

void bd__net_unread_end(bd_net *net, int before) { net->pooled_y_unread = before; }

int bd__layer_out_stale(const bd_net *net, int i)
{
    const bd_layer *l = &net->layers[i];
    /* a fused ReLU's out is a view of its conv's */
    return l->out_stale || (l->fused && i > 0 && l[-1].out_stale);
}

/* Scale by 1.5 what layer l's backward gave if its kind is broken: its
 * parameter gradient dW and the input gradient it passes on (l->dx, or for
 * a fused ReLU the dy the layer before will mask; for a max-pool fused into
 * its conv, and for the ReLU between them, the pool's dy, which the conv
 * takes through both). */
static void break_backward(const bd_net *net, bd_layer *l, float *dy, int B, int need_dx)
{
    if (!(net->broken & (1u << l->kind)))
        return;
    float *g[2] = {bd_f32(&l->dW), NULL};
    size_t n[2] = {l->dW.data ? l->dW.size : 0, 0};
    if (need_dx)
        g[1] = l->fused ? dy : bd_f32(&l->dx), n[1] = (size_t)B * l->in_size;
    if (need_dx && bd__pooled_by_conv(l))
        g[1] = dy, n[1] = (size_t)B * l->out_size;
    const bd_layer *pool = need_dx && l->fused ? bd__conv_pooled(l - 1) : NULL;
    if (pool) /* the conv takes the gradient through the ReLU from the
               * pool's dy (the writable dx of the layer after it) */
        g[1] = (float *)pool->pool_dy, n[1] = (size_t)B * pool->out_size;
    for (int k = 0; k < 2; k++)
        for (size_t j = 0; j < n[k]; j++)
            g[k][j] *= 1.5f;
}


/* λW (L2) and λ₁ sign(W) (L1), the regularisation term's gradient, added to
 * one layer's dW (scaled by `part`, as its loss gradient). */
static void decay_grad(const bd_net *net, bd_layer *l, float part)
{
    const float wd = net->weight_decay * part, l1 = net->l1 * part;
    if ((wd == 0.0f && l1 == 0.0f) || !bd__layer_op(l->kind)->decay)
        return;
    const float *W = bd_f32(&l->W);
    float *dW = bd_f32(&l->dW);
    for (size_t k = 0; k < l->W.size; k++)
        dW[k] += wd * W[k] + l1 * (float)((W[k] > 0.0f) - (W[k] < 0.0f));
}

bd_status bd_net_backward(bd_net *net) { return bd__net_backward_each(net, NULL, NULL); }

bd_status bd__net_backward_each(bd_net *net, bd__grads_done_fn done, void *ud)
{
    if (!net)
        return bd_error(BD_ERR_ARG, "bd_net_backward: net is NULL");
    if (net->nlayers == 0 || !(net->last_t.idx || net->last_t.onehot))
        return bd_error(BD_ERR_ARG, "bd_net_backward needs a bd_net_loss first");
    int B = net->prob.shape[0], C = net->out_size;
    const bd_layer *last = &net->layers[net->nlayers - 1];
    bd__loss_op(net->loss)->backward(bd_f32(&net->dlogits), bd_f32(&net->prob),
                                     bd_f32(&last->out), net->last_t, B, C);
    if (net->class_weight && net->last_t.idx && net->loss == BD_LOSS_SOFTMAX_CE)
        for (int r = 0; r < B; r++) { /* d(w_y CE)/dz = w_y (p - t) / B */
            const float w = net->class_weight[net->last_t.idx[r]];
            float *d = bd_f32(&net->dlogits) + (size_t)r * C;
            for (int k = 0; k < C; k++)
                d[k] *= w;
        }
    /* a shard of a global batch (data parallel): the gradient of this
     * process's part of the global mean, B/grows of its own mean; B == grows
     * (one process) skips this, so a lone run keeps its bits */
    const float part = net->grows > 0 && net->grows != B ? (float)B / (float)net->grows : 1.0f;
    if (part != 1.0f) {
        float *d = bd_f32(&net->dlogits);
        for (size_t k = 0; k < (size_t)B * C; k++)
            d[k] *= part;
    }
    float *dy = bd_f32(&net->dlogits);
    /* frozen layers (transfer learning) get no gradient: stop before them;
     * a row-parallel part also before the layers its caller does (rows.c) */
    const int stop = net->frozen > 0 ? net->frozen : 0;
    for (int i = net->nlayers - 1; i >= BD_MAX(stop, net->backward_to); i--) {
        bd_layer *l = &net->layers[i];
        bd__net_backward_layer(net, i, dy, B, i > stop, part);
        if (i > stop && !l->fused)
            dy = bd_f32(&l->dx);
        if (done)
            BD_TRY(done(ud, l->param_offset));
    }
    return BD_OK;
}

void bd__net_backward_layer(bd_net *net, int i, float *dy, int B, int need_dx, float part)
{
    bd_layer *l = &net->layers[i];
    /* a fused layer's dy goes on to the layer before, which masks it */
    if (!l->fused)
        bd__layer_op(l->kind)->backward(l, dy, B, need_dx);
    if (net->broken)
        break_backward(net, l, dy, B, need_dx);
    /* per layer, as soon as its dW is there: the same sums as after the
     * whole pass, and the layer's gradient is final for `done` */
    if (!l->fused)
        decay_grad(net, l, part);
}

bd_status bd_net_gradient(bd_net *net, const bd_tensor *x, bd_labels t, float *loss)
{
    BD_TRY(bd_net_loss(net, x, t, loss));
    return bd_net_backward(net);
}
