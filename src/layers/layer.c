/* layer.c — the op table: what each layer kind does, in one place. Adding a
 * layer kind means adding its kernels and one row here. */
#include "internal.h"

#include <math.h>

static int g_broken[BD_LAYER_KIND_COUNT];

void bd_debug_break_backward(bd_layer_kind kind, int broken)
{
    if ((int)kind >= 0 && kind < BD_LAYER_KIND_COUNT)
        g_broken[kind] = broken;
}

int bd__backward_broken(bd_layer_kind kind) { return g_broken[kind]; }

/* Deliberate bug for the tests that prove the gradient check works. */
static void maybe_break(bd_layer_kind kind, float *g, size_t n)
{
    if (!g_broken[kind] || !g)
        return;
    for (size_t i = 0; i < n; i++)
        g[i] *= 1.5f;
}

/* ---- Affine */

static size_t affine_params(const bd_layer *l)
{
    return (size_t)l->in_size * l->units + (size_t)l->units;
}

static void affine_bind(bd_layer *l, float *p, float *g)
{
    int ws[2] = {l->in_size, l->units};
    int bs[1] = {l->units};
    l->W = bd_tensor_view(p, 2, ws);
    l->b = bd_tensor_view(p + (size_t)l->in_size * l->units, 1, bs);
    l->dW = bd_tensor_view(g, 2, ws);
    l->db = bd_tensor_view(g + (size_t)l->in_size * l->units, 1, bs);
}

static void affine_forward(bd_layer *l, int B)
{
    bd_affine_forward(bd_f32(&l->out), bd_f32(l->in), bd_f32(&l->W), bd_f32(&l->b), B,
                      l->in_size, l->out_size);
}

static void affine_backward(bd_layer *l, const float *dy, int B, int need_dx)
{
    bd_affine_backward(need_dx ? bd_f32(&l->dx) : NULL, bd_f32(&l->dW), bd_f32(&l->db), dy,
                       bd_f32(l->in), bd_f32(&l->W), B, l->in_size, l->out_size);
    maybe_break(BD_LAYER_AFFINE, bd_f32(&l->dW), l->dW.size);
}

/* ---- element-wise activations */

static size_t no_params(const bd_layer *l) { return 0; }
static void no_bind(bd_layer *l, float *p, float *g) {}

static void relu_forward(bd_layer *l, int B)
{
    bd_relu_forward(bd_f32(&l->out), bd_f32(l->in), (size_t)B * l->out_size);
}

static void relu_backward(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    size_t n = (size_t)B * l->out_size;
    bd_relu_backward(bd_f32(&l->dx), dy, bd_f32(&l->out), n);
    maybe_break(BD_LAYER_RELU, bd_f32(&l->dx), n);
}

static void sigmoid_forward(bd_layer *l, int B)
{
    bd_sigmoid_forward(bd_f32(&l->out), bd_f32(l->in), (size_t)B * l->out_size);
}

static void sigmoid_backward(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    size_t n = (size_t)B * l->out_size;
    bd_sigmoid_backward(bd_f32(&l->dx), dy, bd_f32(&l->out), n);
    maybe_break(BD_LAYER_SIGMOID, bd_f32(&l->dx), n);
}

static const bd_layer_op OPS[BD_LAYER_KIND_COUNT] = {
    [BD_LAYER_AFFINE] = {"Affine", affine_params, affine_bind, affine_forward, affine_backward},
    [BD_LAYER_RELU] = {"Relu", no_params, no_bind, relu_forward, relu_backward},
    [BD_LAYER_SIGMOID] = {"Sigmoid", no_params, no_bind, sigmoid_forward, sigmoid_backward},
};

const bd_layer_op *bd__layer_op(bd_layer_kind kind) { return &OPS[kind]; }

const char *bd_layer_kind_name(bd_layer_kind k)
{
    if ((int)k < 0 || k >= BD_LAYER_KIND_COUNT)
        return "?";
    return OPS[k].name;
}
