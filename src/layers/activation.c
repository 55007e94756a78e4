/* activation.c — element-wise activation layers (book 5.5) and the ReLU
 * variants of seed 002. ReLU, sigmoid and tanh backward use the saved output
 * y, so they keep no extra mask buffer.
 * The book's plain version: learn/ch05/layers.h (Relu, Sigmoid). */
#include "internal.h"

#include <math.h>

/* x [n] -> y [n] */
/* Element-wise loops are split over the threads in blocks of CHUNK (below
 * that the wake-up costs more than the loop). */
#define CHUNK 16384

typedef struct ew_args {
    float *out;
    const float *a, *b;
    size_t n;
} ew_args;

BD_HOT static void relu_fwd_part(void *ctx, int lo, int hi, int part)
{
    const ew_args *e = ctx;
    /* locals: through e the stores could alias e's own fields, and gcc
     * would then neither hoist the loads nor vectorise. No restrict: the
     * residual block calls these in place (y == x), and gcc's run-time
     * overlap check lets that case vectorise too. */
    float *y = e->out;
    const float *x = e->a;
    const size_t i1 = BD_MIN(e->n, (size_t)hi * CHUNK);
    for (size_t i = (size_t)lo * CHUNK; i < i1; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void bd_relu_forward(float *y, const float *x, size_t n)
{
    ew_args e = {y, x, NULL, n};
    bd__parallel_for((int)((n + CHUNK - 1) / CHUNK), relu_fwd_part, &e);
}

BD_HOT static void relu_bwd_part(void *ctx, int lo, int hi, int part)
{
    const ew_args *e = ctx;
    float *dx = e->out;
    const float *dy = e->a, *y = e->b;
    const size_t i1 = BD_MIN(e->n, (size_t)hi * CHUNK);
    for (size_t i = (size_t)lo * CHUNK; i < i1; i++) {
        float g = dy[i]; /* loaded unconditionally: a select, not a branch */
        dx[i] = y[i] > 0.0f ? g : 0.0f;
    }
}

/* dy, y [n] -> dx [n]: the gradient passes where the unit was on (book 5.5.1) */
void bd_relu_backward(float *dx, const float *dy, const float *y, size_t n)
{
    ew_args e = {dx, dy, y, n};
    bd__parallel_for((int)((n + CHUNK - 1) / CHUNK), relu_bwd_part, &e);
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
BD_HOT static void sigmoid_backward_k(float *dx, const float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

void bd_sigmoid_backward(float *dx, const float *dy, const float *y, size_t n)
{
    sigmoid_backward_k(dx, dy, y, n);
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
}

const bd_layer_op bd__op_relu = {
    .name = "Relu",
    .rows = 1,
    .token = "relu",
    .act = 1,
    .relu_like = 1,
    .emit_c = bd__emit_relu,
    .kink = 1,
    .forward = relu_fwd,
    .backward = relu_bwd,
};

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
}

const bd_layer_op bd__op_sigmoid = {
    .name = "Sigmoid",
    .rows = 1,
    .token = "sigmoid",
    .act = 1,
    .emit_c = bd__emit_sigmoid,
    .forward = sigmoid_fwd,
    .backward = sigmoid_bwd,
};

/* ---- the variants of seed 002 ("ReLU를 보완하기 위한 변형들"): tanh, Leaky
 * ReLU, PReLU, RReLU, ELU. The kinked ones decide the branch from the input
 * x (l->in), not the output, so a slope of any sign works; x == 0 takes the
 * x <= 0 branch in forward and backward alike. */

/* x [n] -> y [n] */
void bd_tanh_forward(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = tanhf(x[i]);
}

/* dy, y [n] -> dx [n]: tanh'(x) = 1 − tanh²(x) */
BD_HOT static void tanh_backward_k(float *dx, const float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void bd_tanh_backward(float *dx, const float *dy, const float *y, size_t n)
{
    tanh_backward_k(dx, dy, y, n);
}

/* x [n] -> y [n]: f(x) = max(s x, x) for 0 < s < 1 (Maas et al. 2013) */
BD_HOT static void leaky_relu_forward_k(float *y, const float *x, float s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : s * x[i];
}

void bd_leaky_relu_forward(float *y, const float *x, float s, size_t n)
{
    leaky_relu_forward_k(y, x, s, n);
}

/* dy, x [n] -> dx [n] */
BD_HOT
static void leaky_relu_backward_k(float *dx, const float *dy, const float *x, float s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : s * dy[i];
}

void bd_leaky_relu_backward(float *dx, const float *dy, const float *x, float s, size_t n)
{
    leaky_relu_backward_k(dx, dy, x, s, n);
}

/* x [B,D], a [D] -> y [B,D]: one learned slope per feature (He et al. 2015) */
BD_HOT static void prelu_forward_k(float *y, const float *x, const float *a, int B, int D)
{
    for (int r = 0; r < B; r++) {
        const float *xr = x + (size_t)r * D;
        float *yr = y + (size_t)r * D;
        for (int j = 0; j < D; j++)
            yr[j] = xr[j] > 0.0f ? xr[j] : a[j] * xr[j];
    }
}

void bd_prelu_forward(float *y, const float *x, const float *a, int B, int D)
{
    prelu_forward_k(y, x, a, B, D);
}

/* dy, x [B,D], a [D] -> dx [B,D] (may be NULL), da [D]
 * dL/dx = dy (x > 0 ? 1 : a_j),  dL/da_j = Σ_B dy (x > 0 ? 0 : x)  (He et al. eq. 2-4) */
BD_HOT
static void prelu_backward_k(float *dx, float *da, const float *dy, const float *x,
                             const float *a, int B, int D)
{
    for (int j = 0; j < D; j++)
        da[j] = 0.0f;
    for (int r = 0; r < B; r++) {
        const float *xr = x + (size_t)r * D, *dyr = dy + (size_t)r * D;
        for (int j = 0; j < D; j++)
            da[j] += xr[j] > 0.0f ? 0.0f : dyr[j] * xr[j];
        if (dx) {
            float *dxr = dx + (size_t)r * D;
            for (int j = 0; j < D; j++)
                dxr[j] = xr[j] > 0.0f ? dyr[j] : a[j] * dyr[j];
        }
    }
}

void bd_prelu_backward(float *dx, float *da, const float *dy, const float *x, const float *a,
                       int B, int D)
{
    prelu_backward_k(dx, da, dy, x, a, B, D);
}

/* x [n] -> y [n], slope [n]. Training (rng given): s_i ~ U[lo, hi) per
 * element (Xu et al. 2015); evaluation (rng NULL): s_i = (lo + hi) / 2. The
 * slopes are kept in slope for backward. */
void bd_rrelu_forward(float *y, float *slope, const float *x, float lo, float hi, bd_rng *rng,
                      size_t n)
{
    if (rng) {
        float w = hi - lo;
        for (size_t i = 0; i < n; i++)
            slope[i] = lo + w * bd_rng_uniform(rng);
    } else {
        float m = 0.5f * (lo + hi);
        for (size_t i = 0; i < n; i++)
            slope[i] = m;
    }
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : slope[i] * x[i];
}

/* dy, x, slope [n] -> dx [n] */
BD_HOT
static void rrelu_backward_k(float *dx, const float *dy, const float *x, const float *slope,
                             size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : slope[i] * dy[i];
}

void bd_rrelu_backward(float *dx, const float *dy, const float *x, const float *slope, size_t n)
{
    rrelu_backward_k(dx, dy, x, slope, n);
}

/* x [n] -> y [n]: α (e^x − 1) for x <= 0 (Clevert et al. 2016); expm1 keeps
 * the precision near 0 */
void bd_elu_forward(float *y, const float *x, float alpha, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : alpha * expm1f(x[i]);
}

/* dy, x, y [n] -> dx [n]: for x <= 0, d/dx α(e^x − 1) = α e^x = y + α */
BD_HOT
static void elu_backward_k(float *dx, const float *dy, const float *x, const float *y,
                           float alpha, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * (y[i] + alpha);
}

void bd_elu_backward(float *dx, const float *dy, const float *x, const float *y, float alpha,
                     size_t n)
{
    elu_backward_k(dx, dy, x, y, alpha, n);
}

/* ---- their op rows (p0, p1: see bd_layer_kind) */

static void tanh_fwd(bd_layer *l, int B)
{
    bd_tanh_forward(bd_f32(&l->out), bd_f32(l->in), (size_t)B * l->out_size);
}

static void tanh_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    size_t n = (size_t)B * l->out_size;
    bd_tanh_backward(bd_f32(&l->dx), dy, bd_f32(&l->out), n);
}

const bd_layer_op bd__op_tanh = {
    .name = "Tanh",
    .rows = 1,
    .token = "tanh",
    .act = 1,
    .emit_c = bd__emit_tanh,
    .forward = tanh_fwd,
    .backward = tanh_bwd,
};

static void leaky_fwd(bd_layer *l, int B)
{
    bd_leaky_relu_forward(bd_f32(&l->out), bd_f32(l->in), l->p0, (size_t)B * l->out_size);
}

static void leaky_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    size_t n = (size_t)B * l->out_size;
    bd_leaky_relu_backward(bd_f32(&l->dx), dy, bd_f32(l->in), l->p0, n);
}

const bd_layer_op bd__op_leaky_relu = {
    .name = "LeakyRelu",
    .rows = 1,
    .token = "leaky_relu",
    .alias = "leakyrelu",
    .keys = {{"slope", BD__CONF_P0}},
    .act = 1,
    .relu_like = 1,
    .emit_c = bd__emit_leaky_relu,
    .kink = 1,
    .def_p0 = 0.01f,
    .check = bd__check_slope,
    .forward = leaky_fwd,
    .backward = leaky_bwd,
};

/* PReLU: slopes a [D] are the layer's parameter, in W (no b, no decay) */
static size_t prelu_params(const bd_layer *l) { return (size_t)l->in_size; }

static void prelu_bind(bd_layer *l, float *p, float *g, float *s)
{
    int shape[1] = {l->in_size};
    l->W = bd_tensor_view(p, 1, shape);
    l->dW = bd_tensor_view(g, 1, shape);
}

/* every a_j = p0 (0.25 in He et al. 2015), whatever the weight init */
static void prelu_init(bd_layer *l, bd_init init, bd_rng *rng)
{
    float *a = bd_f32(&l->W);
    for (size_t j = 0; j < l->W.size; j++)
        a[j] = l->p0;
}

static void prelu_fwd(bd_layer *l, int B)
{
    bd_prelu_forward(bd_f32(&l->out), bd_f32(l->in), bd_f32(&l->W), B, l->in_size);
}

static void prelu_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    float *dx = need_dx ? bd_f32(&l->dx) : NULL;
    bd_prelu_backward(dx, bd_f32(&l->dW), dy, bd_f32(l->in), bd_f32(&l->W), B, l->in_size);
}

const bd_layer_op bd__op_prelu = {
    .name = "Prelu",
    .rows = 1,
    .token = "prelu",
    .keys = {{"slope", BD__CONF_P0}},
    .act = 1,
    .relu_like = 1,
    .emit_c = bd__emit_prelu,
    .kink = 1,
    .pname = {"a", NULL},
    .def_p0 = 0.25f,
    .param_count = prelu_params,
    .bind = prelu_bind,
    .init = prelu_init,
    .forward = prelu_fwd,
    .backward = prelu_bwd,
};

/* RReLU: the slopes of the last forward live in aux [B, D] */
static size_t rrelu_aux_cols(const bd_layer *l) { return (size_t)l->in_size; }

/* training: row r's slopes come from the stream of its global row, as
 * Dropout's masks do (the same for any split of the batch) */
static void rrelu_fwd(bd_layer *l, int B)
{
    const size_t D = (size_t)l->out_size;
    float *y = bd_f32(&l->out), *slope = bd_f32(&l->aux);
    const float *x = bd_f32(l->in);
    if (!l->net->training) {
        bd_rrelu_forward(y, slope, x, l->p0, l->p1, NULL, (size_t)B * D);
        return;
    }
    const uint64_t stream = bd__layer_stream(l);
    for (int r = 0; r < B; r++) {
        bd_rng rng;
        bd__row_rng(&rng, l->net->step_key, stream, (long)l->net->row0 + r);
        const size_t o = (size_t)r * D;
        bd_rrelu_forward(y + o, slope + o, x + o, l->p0, l->p1, &rng, D);
    }
}

static void rrelu_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    size_t n = (size_t)B * l->out_size;
    bd_rrelu_backward(bd_f32(&l->dx), dy, bd_f32(l->in), bd_f32(&l->aux), n);
}

const bd_layer_op bd__op_rrelu = {
    .name = "Rrelu",
    .rows = 1,
    .token = "rrelu",
    .keys = {{"lower", BD__CONF_P0}, {"upper", BD__CONF_P1}},
    .act = 1,
    .relu_like = 1,
    .emit_c = bd__emit_rrelu,
    .kink = 1,
    .def_p0 = 1.0f / 8.0f,
    .def_p1 = 1.0f / 3.0f,
    .check = bd__check_rrelu,
    .aux_cols = rrelu_aux_cols,
    .forward = rrelu_fwd,
    .backward = rrelu_bwd,
};

static void elu_fwd(bd_layer *l, int B)
{
    bd_elu_forward(bd_f32(&l->out), bd_f32(l->in), l->p0, (size_t)B * l->out_size);
}

static void elu_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    size_t n = (size_t)B * l->out_size;
    bd_elu_backward(bd_f32(&l->dx), dy, bd_f32(l->in), bd_f32(&l->out), l->p0, n);
}

const bd_layer_op bd__op_elu = {
    .name = "Elu",
    .rows = 1,
    .token = "elu",
    .keys = {{"alpha", BD__CONF_P0}},
    .act = 1,
    .relu_like = 1,
    .emit_c = bd__emit_elu,
    .kink = 1,
    .def_p0 = 1.0f,
    .check = bd__check_elu,
    .forward = elu_fwd,
    .backward = elu_bwd,
};
