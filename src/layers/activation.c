/* activation.c — element-wise activation layers (book 5.5). Backward uses the
 * saved output y, so the layer keeps no extra mask buffer. */
#include "internal.h"

#include <math.h>

/* x [n] -> y [n] */
void bd_relu_forward(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* dy, y [n] -> dx [n]: the gradient passes where the unit was on (book 5.5.1) */
void bd_relu_backward(float *dx, const float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* x [n] -> y [n]; written so exp never overflows for large |x| */
void bd_sigmoid_forward(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        if (v >= 0.0f) {
            y[i] = 1.0f / (1.0f + expf(-v));
        } else {
            float e = expf(v);
            y[i] = e / (1.0f + e);
        }
    }
}

/* dy, y [n] -> dx [n]: dL/dx = dL/dy · y(1 − y)  (book eq. 5.12) */
void bd_sigmoid_backward(float *dx, const float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

/* ---- op table rows: element-wise, no parameters, out_size = in_size */

static void relu_fwd(bd_layer *l, int B)
{
    bd_relu_forward(bd_f32(&l->out), bd_f32(l->in), (size_t)B * l->out_size);
}

static void relu_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    size_t n = (size_t)B * l->out_size;
    bd_relu_backward(bd_f32(&l->dx), dy, bd_f32(&l->out), n);
    bd__maybe_break(BD_LAYER_RELU, bd_f32(&l->dx), n);
}

const bd_layer_op bd__op_relu = {.name = "Relu", .forward = relu_fwd, .backward = relu_bwd};

static void sigmoid_fwd(bd_layer *l, int B)
{
    bd_sigmoid_forward(bd_f32(&l->out), bd_f32(l->in), (size_t)B * l->out_size);
}

static void sigmoid_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    size_t n = (size_t)B * l->out_size;
    bd_sigmoid_backward(bd_f32(&l->dx), dy, bd_f32(&l->out), n);
    bd__maybe_break(BD_LAYER_SIGMOID, bd_f32(&l->dx), n);
}

const bd_layer_op bd__op_sigmoid = {
    .name = "Sigmoid", .forward = sigmoid_fwd, .backward = sigmoid_bwd};
