/* test_activations.c — the ReLU variants of seed 002 (tanh, Leaky ReLU,
 * PReLU, RReLU, ELU) and the MAE and sigmoid + binary cross-entropy losses:
 * forward values against hand-computed numbers, each backward against the
 * numerical gradient, and gradient checks of networks built with them. */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

/* ---- forward (and simple backward) values */

static void tanh_values(void **st)
{
    const float x[] = {0.5f, 0, -2, 20, -20};
    const float dy[] = {1, 1, 2, 1, 1};
    float y[5], dx[5];
    bd_tanh_forward(y, x, 5);
    assert_close(y[0], 0.4621172, 1e-6);
    assert_close(y[1], 0.0, 0);
    assert_close(y[2], -0.9640276, 1e-6);
    assert_close(y[3], 1.0, 1e-7);
    assert_close(y[4], -1.0, 1e-7);
    bd_tanh_backward(dx, dy, y, 5);
    assert_close(dx[0], 1 - 0.4621172 * 0.4621172, 1e-6); /* 0.7864477 */
    assert_close(dx[1], 1.0, 0);
    assert_close(dx[2], 2 * (1 - 0.9640276 * 0.9640276), 1e-5);
    assert_close(dx[3], 0.0, 1e-6);
}

static void leaky_relu_values(void **st)
{
    const float x[] = {-2, 0, 0.5f, 3};
    const float dy[] = {10, 20, 30, 40};
    float y[4], dx[4];
    bd_leaky_relu_forward(y, x, 0.01f, 4);
    assert_close(y[0], -0.02, 1e-7);
    assert_close(y[1], 0.0, 0);
    assert_close(y[2], 0.5, 0);
    assert_close(y[3], 3, 0);
    bd_leaky_relu_backward(dx, dy, x, 0.01f, 4);
    assert_close(dx[0], 0.1, 1e-6);
    assert_close(dx[1], 0.2, 1e-6); /* x == 0 takes the slope, as forward does */
    assert_close(dx[2], 30, 0);
    assert_close(dx[3], 40, 0);
    bd_leaky_relu_forward(y, x, 0.2f, 4);
    assert_close(y[0], -0.4, 1e-7);
}

static void prelu_values(void **st)
{
    const float x[] = {-2, 1, 3, -4}; /* [2,2] */
    const float a[] = {0.25f, 0.5f};
    const float dy[] = {1, 2, 3, 4};
    float y[4], dx[4], da[2] = {99, 99};
    bd_prelu_forward(y, x, a, 2, 2);
    assert_close(y[0], -0.5, 0);
    assert_close(y[1], 1, 0);
    assert_close(y[2], 3, 0);
    assert_close(y[3], -2, 0);
    bd_prelu_backward(dx, da, dy, x, a, 2, 2);
    assert_close(dx[0], 0.25, 0);
    assert_close(dx[1], 2, 0);
    assert_close(dx[2], 3, 0);
    assert_close(dx[3], 2, 0);
    assert_close(da[0], -2, 0);  /* 1 · (−2) + 0 */
    assert_close(da[1], -16, 0); /* 0 + 4 · (−4) */
    /* no dx asked for: da alone */
    da[0] = da[1] = 99;
    bd_prelu_backward(NULL, da, dy, x, a, 2, 2);
    assert_close(da[1], -16, 0);
}

static void rrelu_values(void **st)
{
    enum { N = 64 };
    float x[N], y[N], s[N], y2[N], s2[N];
    for (int i = 0; i < N; i++)
        x[i] = (i % 2) ? -1.0f - (float)i / N : 0.5f + (float)i / N;
    /* evaluation: the mean slope for every element */
    bd_rrelu_forward(y, s, x, 0.1f, 0.3f, NULL, N);
    for (int i = 0; i < N; i++) {
        assert_close(s[i], 0.2, 1e-7);
        assert_close(y[i], x[i] > 0 ? x[i] : 0.2f * x[i], 1e-7);
    }
    /* training: slopes in [lo, hi), not all the same, y = s x below 0 */
    bd_rng r, r2;
    bd_rng_seed(&r, 7);
    bd_rng_seed(&r2, 7);
    bd_rrelu_forward(y, s, x, 0.1f, 0.3f, &r, N);
    float lo = 1, hi = 0;
    int differ = 0;
    for (int i = 0; i < N; i++) {
        assert_true(s[i] >= 0.1f && s[i] <= 0.3f);
        lo = fminf(lo, s[i]);
        hi = fmaxf(hi, s[i]);
        differ += i > 0 && s[i] != s[i - 1];
        assert_close(y[i], x[i] > 0 ? x[i] : s[i] * x[i], 1e-7);
    }
    assert_true(differ > N / 2);
    assert_true(lo < 0.15f && hi > 0.25f); /* spread over the range */
    /* the same rng state draws the same slopes; the next draw differs */
    bd_rrelu_forward(y2, s2, x, 0.1f, 0.3f, &r2, N);
    assert_memory_equal(s, s2, sizeof s);
    bd_rrelu_forward(y2, s2, x, 0.1f, 0.3f, &r2, N);
    assert_memory_not_equal(s, s2, sizeof s);
    /* backward uses the stored slopes */
    float dy[N], dx[N];
    for (int i = 0; i < N; i++)
        dy[i] = 1.0f + i;
    bd_rrelu_backward(dx, dy, x, s2, N);
    for (int i = 0; i < N; i++)
        assert_close(dx[i], x[i] > 0 ? dy[i] : s2[i] * dy[i], 1e-6);
}

static void elu_values(void **st)
{
    const float x[] = {-1, 2, 0, -100, -1e-4f};
    const float dy[] = {1, 1, 1, 1, 1};
    float y[5], dx[5];
    bd_elu_forward(y, x, 1.0f, 5);
    assert_close(y[0], -0.6321206, 1e-6); /* e^-1 − 1 */
    assert_close(y[1], 2, 0);
    assert_close(y[2], 0, 0);
    assert_close(y[3], -1, 1e-7);          /* saturates at −α */
    assert_close(y[4], -9.9995e-5, 1e-10); /* expm1: precise near 0 */
    bd_elu_backward(dx, dy, x, y, 1.0f, 5);
    assert_close(dx[0], 0.3678794, 1e-6); /* α e^x */
    assert_close(dx[1], 1, 0);
    assert_close(dx[2], 1, 1e-7);
    assert_close(dx[3], 0, 1e-7);
    bd_elu_forward(y, x, 0.5f, 2);
    assert_close(y[0], -0.3160603, 1e-6);
    bd_elu_backward(dx, dy, x, y, 0.5f, 2);
    assert_close(dx[0], 0.1839397, 1e-6);
}

static void mae_values(void **st)
{
    const float y[] = {0.5f, -1, 2, 0}; /* [2,2] */
    const int32_t t[] = {0, 1};         /* one-hot (1,0), (0,1) */
    /* (|0.5−1| + |−1|) + (|2| + |0−1|) = 1.5 + 3, over 2 rows */
    assert_close(bd_mae_forward(y, (bd_labels){t, NULL}, 2, 2), 2.25, 1e-7);
    float d[4];
    bd_mae_backward(d, y, (bd_labels){t, NULL}, 2, 2);
    assert_close(d[0], -0.5, 0);
    assert_close(d[1], -0.5, 0);
    assert_close(d[2], 0.5, 0);
    assert_close(d[3], -0.5, 0);
    /* soft targets; y == t gives 0 */
    const float oh[] = {0.5f, 0, 1, 1};
    assert_close(bd_mae_forward(y, (bd_labels){NULL, oh}, 2, 2), (0 + 1 + 1 + 1) / 2.0, 1e-7);
    bd_mae_backward(d, y, (bd_labels){NULL, oh}, 2, 2);
    assert_close(d[0], 0, 0);
    assert_close(d[1], -0.5, 0);
}

static void bce_values(void **st)
{
    /* z = 0, t = 1: −log σ(0) = ln 2 */
    const float z0[] = {0};
    const int32_t one[] = {1}, zero[] = {0};
    float p[4], d[4];
    assert_close(bd_bce_forward(p, z0, (bd_labels){one, NULL}, 1, 1), log(2.0), 1e-7);
    assert_close(p[0], 0.5, 0);
    bd_bce_backward(d, p, (bd_labels){one, NULL}, 1, 1);
    assert_close(d[0], -0.5, 0);
    /* z = 2: t = 1 -> log(1 + e^-2) = 0.126928; t = 0 -> 2.126928 */
    const float z2[] = {2, 2};
    const int32_t t2[] = {1, 0};
    assert_close(bd_bce_forward(p, z2, (bd_labels){t2, NULL}, 2, 1),
                 (0.1269280 + 2.1269280) / 2, 1e-6);
    bd_bce_backward(d, p, (bd_labels){t2, NULL}, 2, 1);
    assert_close(d[0], (0.8807971 - 1) / 2, 1e-6);
    assert_close(d[1], 0.8807971 / 2, 1e-6);
    /* finite at |z| = 1e4: a confident mistake costs |z|, a confident hit 0 */
    const float big[] = {1e4f}, small[] = {-1e4f};
    assert_close(bd_bce_forward(p, big, (bd_labels){zero, NULL}, 1, 1), 1e4, 1e-3);
    assert_close(bd_bce_forward(p, big, (bd_labels){one, NULL}, 1, 1), 0, 1e-12);
    assert_close(p[0], 1, 0);
    assert_close(bd_bce_forward(p, small, (bd_labels){one, NULL}, 1, 1), 1e4, 1e-3);
    assert_close(bd_bce_forward(p, small, (bd_labels){zero, NULL}, 1, 1), 0, 1e-12);
    assert_close(p[0], 0, 0);
    bd_bce_backward(d, p, (bd_labels){one, NULL}, 1, 1);
    assert_close(d[0], -1, 0);
    /* a probability target: −0.3 log σ(0.5) − 0.7 log(1 − σ(0.5)) */
    const float zh[] = {0.5f}, th[] = {0.3f};
    assert_close(bd_bce_forward(p, zh, (bd_labels){NULL, th}, 1, 1), 0.8240770, 1e-6);
    bd_bce_backward(d, p, (bd_labels){NULL, th}, 1, 1);
    assert_close(d[0], 0.6224593 - 0.3, 1e-6);
}

static void kinds_have_names_and_defaults(void **st)
{
    assert_string_equal(bd_layer_kind_name(BD_LAYER_TANH), "Tanh");
    assert_string_equal(bd_layer_kind_name(BD_LAYER_LEAKY_RELU), "LeakyRelu");
    assert_string_equal(bd_layer_kind_name(BD_LAYER_PRELU), "Prelu");
    assert_string_equal(bd_layer_kind_name(BD_LAYER_RRELU), "Rrelu");
    assert_string_equal(bd_layer_kind_name(BD_LAYER_ELU), "Elu");
    assert_string_equal(bd_loss_kind_name(BD_LOSS_MAE), "MeanAbsoluteError");
    assert_string_equal(bd_loss_kind_name(BD_LOSS_SIGMOID_BCE), "SigmoidWithLoss");
    bd_net *net = NULL;
    assert_ok(bd_net_create(&net, 1, 1, 4));
    assert_ok(bd_net_add(net, BD_LAYER_LEAKY_RELU, 0));
    assert_ok(bd_net_add(net, BD_LAYER_PRELU, 0));
    assert_ok(bd_net_add(net, BD_LAYER_RRELU, 0));
    assert_ok(bd_net_add(net, BD_LAYER_ELU, 0));
    assert_ok(bd_net_add_with(net, BD_LAYER_LEAKY_RELU, 0, 0.2f, 0));
    assert_close(net->layers[0].p0, 0.01, 1e-9);
    assert_close(net->layers[1].p0, 0.25, 0);
    assert_close(net->layers[2].p0, 1.0 / 8, 1e-9);
    assert_close(net->layers[2].p1, 1.0 / 3, 1e-7);
    assert_close(net->layers[3].p0, 1.0, 0);
    assert_close(net->layers[4].p0, 0.2, 1e-7);
    assert_string_equal(net->layers[4].name, "LeakyRelu2");
    bd_rng r;
    bd_rng_seed(&r, 1);
    bd_net_set_loss(net, BD_LOSS_MSE);
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    /* PReLU holds one slope per feature, all 0.25 at start */
    assert_int_equal(bd_net_param_count(net), 4);
    assert_int_equal(net->layers[1].W.size, 4);
    assert_null(net->layers[1].b.data);
    for (int j = 0; j < 4; j++)
        assert_close(bd_f32(&net->layers[1].W)[j], 0.25, 0);
    bd_net_free(net);
}

/* ---- backward against the numerical gradient, per kernel */

enum { K_TANH, K_LEAKY, K_PRELU_X, K_PRELU_A, K_RRELU_TRAIN, K_RRELU_EVAL, K_ELU, K_ELU_HALF,
       K_MAE, K_BCE_IDX, K_BCE_SOFT, K_COUNT };

typedef struct kctx {
    int which;
    float *x, *a, *dy, *y, *slope;
    const int32_t *t;
    const float *soft;
    bd_rng rng0; /* RReLU training: the same draws at every call */
    int B, D;
} kctx;

/* scalar: Σ dy ⊙ layer(x), whose gradient w.r.t. x is the layer's backward
 * of dy; for the losses, the loss itself */
static double kfun(void *ud)
{
    kctx *c = ud;
    size_t n = (size_t)c->B * c->D;
    bd_rng r = c->rng0;
    switch (c->which) {
    case K_TANH: bd_tanh_forward(c->y, c->x, n); break;
    case K_LEAKY: bd_leaky_relu_forward(c->y, c->x, 0.1f, n); break;
    case K_PRELU_X:
    case K_PRELU_A: bd_prelu_forward(c->y, c->x, c->a, c->B, c->D); break;
    case K_RRELU_TRAIN: bd_rrelu_forward(c->y, c->slope, c->x, 0.1f, 0.4f, &r, n); break;
    case K_RRELU_EVAL: bd_rrelu_forward(c->y, c->slope, c->x, 0.1f, 0.4f, NULL, n); break;
    case K_ELU: bd_elu_forward(c->y, c->x, 1.0f, n); break;
    case K_ELU_HALF: bd_elu_forward(c->y, c->x, 0.5f, n); break;
    case K_MAE: return bd_mae_forward(c->x, (bd_labels){c->t, NULL}, c->B, c->D);
    case K_BCE_IDX: return bd_bce_forward(c->y, c->x, (bd_labels){c->t, NULL}, c->B, c->D);
    case K_BCE_SOFT: return bd_bce_forward(c->y, c->x, (bd_labels){NULL, c->soft}, c->B, c->D);
    }
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)c->dy[i] * c->y[i];
    return s;
}

static void check_kernel(int which)
{
    enum { B = 4, D = 5, N = B * D };
    float x[N], a[D], dy[N], y[N], slope[N], num[N], ana[N], soft[N];
    int32_t t[B] = {0, 2, 1, 4};
    bd_rng r;
    bd_rng_seed(&r, 100 + which);
    int D_eff = D;
    if (which == K_BCE_IDX) {
        D_eff = 1; /* one unit, labels 0/1 */
        t[1] = 1;
        t[3] = 0;
    }
    for (int i = 0; i < N; i++) {
        x[i] = 2.0f * bd_rng_normal(&r);
        /* keep the kinked ones (and |y − t|) away from the kink, where no
         * derivative exists */
        if (fabsf(x[i]) < 0.1f)
            x[i] = x[i] < 0 ? -0.3f : 0.3f;
        dy[i] = bd_rng_normal(&r);
        soft[i] = bd_rng_uniform(&r);
    }
    if (which == K_MAE)
        for (int i = 0; i < N; i++)
            if (fabsf(x[i]) < 0.1f || fabsf(x[i] - 1) < 0.1f)
                x[i] = 0.5f;
    for (int j = 0; j < D; j++)
        a[j] = 0.1f + 0.2f * (float)j; /* 0.1 .. 0.9 */
    kctx c = {.which = which, .x = x, .a = a, .dy = dy, .y = y, .slope = slope, .t = t,
              .soft = soft, .B = B, .D = D_eff};
    bd_rng_seed(&c.rng0, 55);
    size_t n = (size_t)B * D_eff;
    float *target = x;
    kfun(&c); /* forward once: y (or prob) and the slopes backward needs */
    switch (which) {
    case K_TANH: bd_tanh_backward(ana, dy, y, n); break;
    case K_LEAKY: bd_leaky_relu_backward(ana, dy, x, 0.1f, n); break;
    case K_PRELU_X: bd_prelu_backward(ana, num, dy, x, a, B, D); break;
    case K_PRELU_A:
        bd_prelu_backward(NULL, ana, dy, x, a, B, D);
        target = a;
        n = D;
        break;
    case K_RRELU_TRAIN:
    case K_RRELU_EVAL: bd_rrelu_backward(ana, dy, x, slope, n); break;
    case K_ELU: bd_elu_backward(ana, dy, x, y, 1.0f, n); break;
    case K_ELU_HALF: bd_elu_backward(ana, dy, x, y, 0.5f, n); break;
    case K_MAE: bd_mae_backward(ana, x, (bd_labels){t, NULL}, B, D); break;
    case K_BCE_IDX: bd_bce_backward(ana, y, (bd_labels){t, NULL}, B, 1); break;
    case K_BCE_SOFT: bd_bce_backward(ana, y, (bd_labels){NULL, soft}, B, D); break;
    }
    if (which == K_RRELU_TRAIN) /* the slopes really were drawn */
        assert_true(slope[0] != slope[1] && slope[0] >= 0.1f && slope[0] <= 0.4f);
    bd_numerical_gradient(kfun, &c, target, num, n, 1e-2f, NULL, 0);
    for (size_t i = 0; i < n; i++)
        if (fabsf(num[i] - ana[i]) > 2e-3f * fmaxf(1.0f, fabsf(ana[i])))
            fail_msg("kernel %d element %zu: backprop %g vs numerical %g", which, i,
                     (double)ana[i], (double)num[i]);
}

static void grad_kernels(void **st)
{
    for (int k = 0; k < K_COUNT; k++)
        check_kernel(k);
}

/* ---- networks */

/* mlp 30-20-16-12-C with activation act (p0, p1: 0 for the defaults) */
static void mlp_net(bd_net **out, bd_layer_kind act, float p0, float p1, bd_loss_kind loss,
                    int C)
{
    bd_net *net = NULL;
    bd_net_spec s;
    bd_net_spec_default(&s);
    snprintf(s.model, sizeof s.model, "mlp");
    s.nhidden = 3;
    s.hidden[0] = 20;
    s.hidden[1] = 16;
    s.hidden[2] = 12;
    s.act = act;
    s.act_p0 = p0;
    s.act_p1 = p1;
    s.loss = loss;
    bd_rng r;
    bd_rng_seed(&r, 11);
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 30, C, &r));
    *out = net;
}

/* bd_gradcheck must pass (every row within the tolerances) */
static void gradcheck_act(bd_layer_kind act, float p0, float p1, int training)
{
    bd_net *net = NULL;
    mlp_net(&net, act, p0, p1, BD_LOSS_SOFTMAX_CE, 10);
    bd_net_set_training(net, training);
    bd_tensor x, y;
    random_batch(&x, &y, 3, 30, 10, 5);
    bd_gradcheck_row rows[16];
    int nr = 0;
    assert_ok(bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, NULL, rows, &nr));
    /* 4 Affine (W, b), and PReLU's slopes a per hidden layer */
    assert_int_equal(nr, act == BD_LAYER_PRELU ? 11 : 8);
    if (act == BD_LAYER_PRELU)
        assert_string_equal(rows[2].name, "a2");
    for (int i = 0; i < nr; i++) {
        assert_true(rows[i].checked > 0);
        assert_true(rows[i].mean_abs <= 1e-4);
        assert_true(rows[i].max_rel <= 1e-2);
    }
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

static void gradcheck_mlp_tanh(void **st) { gradcheck_act(BD_LAYER_TANH, 0, 0, 1); }
static void gradcheck_mlp_leaky(void **st) { gradcheck_act(BD_LAYER_LEAKY_RELU, 0.1f, 0, 1); }
static void gradcheck_mlp_prelu(void **st) { gradcheck_act(BD_LAYER_PRELU, 0, 0, 1); }
static void gradcheck_mlp_elu(void **st) { gradcheck_act(BD_LAYER_ELU, 0, 0, 1); }
static void gradcheck_mlp_elu_half(void **st) { gradcheck_act(BD_LAYER_ELU, 0.5f, 0, 1); }
/* RReLU draws new slopes at every training forward, and bd_gradcheck runs
 * many forwards: it is checked in evaluation mode; the training-mode
 * backward is checked at kernel level with fixed slopes (grad_kernels). */
static void gradcheck_mlp_rrelu_eval(void **st) { gradcheck_act(BD_LAYER_RRELU, 0, 0, 0); }

/* The check catches each new backward broken on purpose. */
static void catches_broken(bd_layer_kind kind)
{
    bd_net *net = NULL;
    mlp_net(&net, kind, 0, 0, BD_LOSS_SOFTMAX_CE, 10);
    if (kind == BD_LAYER_RRELU)
        bd_net_set_training(net, 0);
    bd_tensor x, y;
    random_batch(&x, &y, 3, 30, 10, 5);
    bd_gradcheck_config gc;
    bd_gradcheck_config_default(&gc);
    bd_gradcheck_row rows[16];
    int nr = 0;
    bd__debug_break_backward(net, kind, 1);
    bd_status s = bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, &gc, rows, &nr);
    bd__debug_break_backward(net, kind, 0);
    assert_int_equal(s, BD_ERR_CHECK);
    assert_non_null(strstr(bd_errmsg(), "gradient check failed"));
    double worst = 0;
    for (int i = 0; i < nr; i++)
        worst = fmax(worst, rows[i].max_rel);
    assert_true(worst >= 10 * gc.tol_rel);
    assert_ok(bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, &gc, rows, &nr));
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

static void broken_tanh_caught(void **st) { catches_broken(BD_LAYER_TANH); }
static void broken_leaky_caught(void **st) { catches_broken(BD_LAYER_LEAKY_RELU); }
static void broken_prelu_caught(void **st) { catches_broken(BD_LAYER_PRELU); }
static void broken_rrelu_caught(void **st) { catches_broken(BD_LAYER_RRELU); }
static void broken_elu_caught(void **st) { catches_broken(BD_LAYER_ELU); }

/* PReLU: the slopes get their gradient even as the first layer (no dx). */
static void prelu_broken_slopes_caught(void **st)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 2);
    assert_ok(bd_net_create(&net, 1, 1, 6));
    assert_ok(bd_net_add(net, BD_LAYER_PRELU, 0));
    assert_ok(bd_net_add_affine(net, 3));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_XAVIER, 0}, &r));
    bd_tensor x, y;
    random_batch(&x, &y, 4, 6, 3, 8);
    for (size_t i = 0; i < x.size; i++)
        bd_f32(&x)[i] = 4 * bd_f32(&x)[i] - 2; /* both signs */
    bd_gradcheck_row rows[4];
    int nr = 0;
    bd_labels t = {bd_i32(&y), NULL};
    assert_ok(bd_gradcheck(net, &x, t, NULL, rows, &nr));
    assert_int_equal(nr, 3);
    assert_string_equal(rows[0].name, "a1");
    bd__debug_break_backward(net, BD_LAYER_PRELU, 1);
    bd_status s = bd_gradcheck(net, &x, t, NULL, rows, &nr);
    bd__debug_break_backward(net, BD_LAYER_PRELU, 0);
    assert_int_equal(s, BD_ERR_CHECK);
    assert_non_null(strstr(bd_errmsg(), "a1"));
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

/* MAE on a tanh mlp: targets 0.5..1 away from the outputs, so no step of the
 * check crosses the kink of |y − t| */
static void gradcheck_mae(void **st)
{
    bd_net *net = NULL;
    mlp_net(&net, BD_LAYER_TANH, 0, 0, BD_LOSS_MAE, 4);
    bd_tensor x, y;
    random_batch(&x, &y, 3, 30, 4, 6);
    assert_ok(bd_net_reserve(net, 3));
    const bd_tensor *out;
    assert_ok(bd_net_forward(net, &x, &out));
    float t[12];
    bd_rng r;
    bd_rng_seed(&r, 3);
    for (int i = 0; i < 12; i++) {
        float u = 0.5f + 0.5f * bd_rng_uniform(&r);
        t[i] = bd_f32(out)[i] + (i % 2 ? u : -u);
    }
    bd_gradcheck_row rows[8];
    int nr = 0;
    assert_ok(bd_gradcheck(net, &x, (bd_labels){NULL, t}, NULL, rows, &nr));
    assert_int_equal(nr, 8);
    /* the loss is what it says: Σ|y − t| = Σ u over 3 rows */
    float L;
    assert_ok(bd_net_loss(net, &x, (bd_labels){NULL, t}, &L));
    double want = 0;
    for (int i = 0; i < 12; i++)
        want += fabs((double)t[i] - bd_f32(&net->layers[net->nlayers - 1].out)[i]);
    assert_close(L, want / 3, 1e-5);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

/* sigmoid + BCE: one output unit, labels 0/1 or probabilities */
static void gradcheck_bce(void **st)
{
    bd_net *net = NULL;
    mlp_net(&net, BD_LAYER_TANH, 0, 0, BD_LOSS_SIGMOID_BCE, 2);
    assert_int_equal(net->out_size, 1);
    bd_tensor x, y;
    random_batch(&x, &y, 5, 30, 2, 7);
    bd_gradcheck_row rows[8];
    int nr = 0;
    assert_ok(bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, NULL, rows, &nr));
    assert_int_equal(nr, 8);
    const float soft[5] = {0.1f, 0.9f, 0.5f, 0.0f, 1.0f};
    assert_ok(bd_gradcheck(net, &x, (bd_labels){NULL, soft}, NULL, rows, &nr));
    /* a label of 2 does not exist for one unit */
    bd_i32(&y)[0] = 2;
    assert_fails(bd_net_loss(net, &x, (bd_labels){bd_i32(&y), NULL}, NULL), BD_ERR_SHAPE,
                 "label 2");
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

/* RReLU in a network: training forwards redraw, evaluation is the mean
 * slope, and the draws come from the net's own seeded stream. */
static void rrelu_net_modes(void **st)
{
    bd_net *a = NULL, *b = NULL;
    mlp_net(&a, BD_LAYER_RRELU, 0.1f, 0.3f, BD_LOSS_SOFTMAX_CE, 10);
    mlp_net(&b, BD_LAYER_RRELU, 0.1f, 0.3f, BD_LOSS_SOFTMAX_CE, 10);
    bd_tensor x, y;
    random_batch(&x, &y, 4, 30, 10, 9);
    for (size_t i = 0; i < x.size; i++)
        bd_f32(&x)[i] -= 0.5f;
    assert_ok(bd_net_reserve(a, 4));
    assert_ok(bd_net_reserve(b, 4));
    const bd_tensor *ya, *yb;
    float first[40], second[40];
    assert_ok(bd_net_forward(a, &x, &ya));
    memcpy(first, ya->data, sizeof first);
    assert_ok(bd_net_forward(a, &x, &ya));
    memcpy(second, ya->data, sizeof second);
    assert_memory_not_equal(first, second, sizeof first); /* new draws */
    assert_ok(bd_net_forward(b, &x, &yb));
    assert_memory_equal(first, yb->data, sizeof first); /* same seed, same draws */
    const bd_layer *rl = bd_net_layer(a, "Rrelu1");
    assert_non_null(rl);
    const float *s = bd_f32(&rl->aux);
    for (size_t i = 0; i < (size_t)4 * rl->in_size; i++)
        assert_true(s[i] >= 0.1f && s[i] <= 0.3f);
    /* evaluation: deterministic, slope 0.2 everywhere */
    bd_net_set_training(a, 0);
    assert_ok(bd_net_forward(a, &x, &ya));
    memcpy(first, ya->data, sizeof first);
    assert_ok(bd_net_forward(a, &x, &ya));
    assert_memory_equal(first, ya->data, sizeof first);
    const float *in = bd_f32(rl->in), *out = bd_f32(&rl->out);
    for (size_t i = 0; i < (size_t)4 * rl->in_size; i++)
        assert_close(out[i], in[i] > 0 ? in[i] : 0.2f * in[i], 1e-7);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(a);
    bd_net_free(b);
}

/* PReLU's slope learns: a single PReLU layer fitted by SGD to t = x for
 * x > 0, 0.8 x below; a starts at 0.25 and must move to 0.8. */
static void prelu_slope_learns(void **st)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 4);
    assert_ok(bd_net_create(&net, 1, 1, 1));
    assert_ok(bd_net_add(net, BD_LAYER_PRELU, 0));
    bd_net_set_loss(net, BD_LOSS_MSE);
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    assert_ok(bd_net_reserve(net, 16));
    bd_tensor x;
    assert_ok(bd_tensor_zeros(&x, 2, 16, 1, 0, 0));
    float t[16];
    for (int i = 0; i < 16; i++) {
        float v = (float)i / 4 - 2; /* −2 .. 1.75 */
        bd_f32(&x)[i] = v;
        t[i] = v > 0 ? v : 0.8f * v;
    }
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "sgd", &(bd_optim_config){.lr = 0.1f}, net));
    float L0 = 0, L = 0;
    for (int it = 0; it < 200; it++) {
        assert_ok(bd_net_gradient(net, &x, (bd_labels){NULL, t}, it ? &L : &L0));
        bd_optim_step(o, net);
    }
    assert_close(bd_f32(&net->layers[0].W)[0], 0.8, 1e-3);
    assert_true(L < 1e-5f && L0 > 0.1f);
    bd_optim_free(o);
    bd_tensor_free(&x);
    bd_net_free(net);
}

/* ---- training: two Gaussian blobs in 2-D, logistic-style (seed 002) */

static void make_two_blobs(bd_dataset *ds, int n, uint64_t seed)
{
    memset(ds, 0, sizeof *ds);
    int xs[2] = {n, 2}, ys[1] = {n};
    assert_ok(bd_tensor_alloc(&ds->x, BD_F32, 2, xs));
    assert_ok(bd_tensor_alloc(&ds->y, BD_I32, 1, ys));
    bd_rng r;
    bd_rng_seed(&r, seed);
    const float centre[2][2] = {{-1.5f, -1.0f}, {1.5f, 1.0f}};
    for (int i = 0; i < n; i++) {
        int k = i % 2;
        bd_i32(&ds->y)[i] = k;
        for (int j = 0; j < 2; j++)
            bd_f32(&ds->x)[(size_t)i * 2 + j] = centre[k][j] + bd_rng_normal(&r);
    }
    ds->n = n;
    ds->c = ds->h = 1;
    ds->w = 2;
    ds->nclasses = 2;
    ds->scale = 1.0f;
    snprintf(ds->name, sizeof ds->name, "two_blobs");
}

static void train_two_blobs_bce(void **st)
{
    bd_dataset tr, te;
    make_two_blobs(&tr, 300, 1);
    make_two_blobs(&te, 200, 2);
    bd_net_spec s;
    bd_net_spec_default(&s);
    snprintf(s.model, sizeof s.model, "mlp");
    s.nhidden = 1;
    s.hidden[0] = 8;
    s.act = BD_LAYER_TANH;
    s.loss = BD_LOSS_SIGMOID_BCE;
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 2, 2, &r));
    assert_int_equal(net->out_size, 1);
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "sgd", &(bd_optim_config){.lr = 0.1f}, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 30;
    cfg.epochs = 20;
    bd_train_result res;
    assert_ok(bd_train(net, o, &tr, &te, &cfg, &res));
    assert_true(res.train_acc >= 0.9f);
    assert_true(res.test_acc >= 0.9f);
    float acc, loss;
    assert_ok(bd_evaluate(net, &te, &acc, &loss));
    assert_true(acc >= 0.9f);
    assert_true(loss < 0.3f && loss > 0.0f);
    bd_optim_free(o);
    bd_net_free(net);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tanh_values),
        cmocka_unit_test(leaky_relu_values),
        cmocka_unit_test(prelu_values),
        cmocka_unit_test(rrelu_values),
        cmocka_unit_test(elu_values),
        cmocka_unit_test(mae_values),
        cmocka_unit_test(bce_values),
        cmocka_unit_test(kinds_have_names_and_defaults),
        cmocka_unit_test(grad_kernels),
        cmocka_unit_test(gradcheck_mlp_tanh),
        cmocka_unit_test(gradcheck_mlp_leaky),
        cmocka_unit_test(gradcheck_mlp_prelu),
        cmocka_unit_test(gradcheck_mlp_elu),
        cmocka_unit_test(gradcheck_mlp_elu_half),
        cmocka_unit_test(gradcheck_mlp_rrelu_eval),
        cmocka_unit_test(broken_tanh_caught),
        cmocka_unit_test(broken_leaky_caught),
        cmocka_unit_test(broken_prelu_caught),
        cmocka_unit_test(broken_rrelu_caught),
        cmocka_unit_test(broken_elu_caught),
        cmocka_unit_test(prelu_broken_slopes_caught),
        cmocka_unit_test(gradcheck_mae),
        cmocka_unit_test(gradcheck_bce),
        cmocka_unit_test(rrelu_net_modes),
        cmocka_unit_test(prelu_slope_learns),
        cmocka_unit_test(train_two_blobs_bce),
    };
    return cmocka_run_group_tests_name("activations", tests, NULL, NULL);
}
