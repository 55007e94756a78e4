/* test_layers.c — each layer's forward against hand-computed values, and
 * its backward against the numerical gradient. */
#include "testutil.h"

/* ---- forward values */

static void affine_forward_values(void **st)
{
    const float x[] = {1, 2, 3, 4};                 /* [2,2] */
    const float W[] = {1, 0, -1, 0.5f, 2, 1};       /* [2,3] */
    const float b[] = {0.1f, 0.2f, 0.3f};
    float y[6];
    bd_affine_forward(y, x, W, b, 2, 2, 3);
    const float want[] = {2.1f, 4.2f, 1.3f, 5.1f, 8.2f, 1.3f};
    for (int i = 0; i < 6; i++)
        assert_close(y[i], want[i], 1e-6);
}

static void affine_backward_values(void **st)
{
    const float x[] = {1, 2, 3, 4};
    const float W[] = {1, 0, -1, 0.5f, 2, 1};
    const float dy[] = {1, 0, 0, 0, 1, 1};
    float dx[4], dW[6], db[3];
    bd_affine_backward(dx, dW, db, dy, x, W, 2, 2, 3);
    const float wdx[] = {1, 0.5f, -1, 3};
    const float wdW[] = {1, 3, 3, 2, 4, 4};
    for (int i = 0; i < 4; i++)
        assert_close(dx[i], wdx[i], 1e-6);
    for (int i = 0; i < 6; i++)
        assert_close(dW[i], wdW[i], 1e-6);
    for (int i = 0; i < 3; i++)
        assert_close(db[i], 1.0, 1e-6);
}

static void relu_values(void **st)
{
    const float x[] = {-2, -0.0f, 0.5f, 3};
    float y[4], dx[4];
    const float dy[] = {10, 20, 30, 40};
    bd_relu_forward(y, x, 4);
    assert_close(y[0], 0, 0);
    assert_close(y[1], 0, 0);
    assert_close(y[2], 0.5, 0);
    assert_close(y[3], 3, 0);
    bd_relu_backward(dx, dy, y, 4);
    assert_close(dx[0], 0, 0);
    assert_close(dx[1], 0, 0);
    assert_close(dx[2], 30, 0);
    assert_close(dx[3], 40, 0);
}

static void sigmoid_values(void **st)
{
    const float x[] = {0, 2, -2, 100, -100};
    float y[5], dx[5];
    const float dy[] = {1, 1, 1, 1, 1};
    bd_sigmoid_forward(y, x, 5);
    assert_close(y[0], 0.5, 1e-7);
    assert_close(y[1], 0.880797, 1e-6);
    assert_close(y[2], 0.119203, 1e-6);
    assert_close(y[3], 1.0, 1e-7);
    assert_close(y[4], 0.0, 1e-7);
    for (int i = 0; i < 5; i++)
        assert_true(isfinite(y[i]));
    bd_sigmoid_backward(dx, dy, y, 5);
    assert_close(dx[0], 0.25, 1e-7); /* y(1-y) at 0 */
    assert_close(dx[1], 0.880797 * 0.119203, 1e-6);
}

static void softmax_ce_values(void **st)
{
    const float logits[] = {1, 2, 3, 0, 0, 0};
    const int32_t t[] = {2, 0};
    float p[6];
    float L = bd_softmax_ce_forward(p, logits, (bd_labels){t, NULL}, 2, 3);
    assert_close(p[0], 0.0900306, 1e-6);
    assert_close(p[1], 0.2447285, 1e-6);
    assert_close(p[2], 0.6652410, 1e-6);
    assert_close(p[3], 1.0 / 3, 1e-6);
    /* row losses: log(1 + e^-1 + e^-2) = 0.4076060 and log 3 = 1.0986123 */
    assert_close(L, (0.4076060 + 1.0986123) / 2, 1e-6);
    float d[6];
    bd_softmax_ce_backward(d, p, (bd_labels){t, NULL}, 2, 3);
    assert_close(d[2], (0.6652410 - 1) / 2, 1e-6);
    assert_close(d[3], (1.0 / 3 - 1) / 2, 1e-6);
    assert_close(d[4], (1.0 / 3) / 2, 1e-6);
}

static void softmax_ce_onehot_equals_index(void **st)
{
    const float logits[] = {0.3f, -1.2f, 2.5f, 0.1f, 4.0f, -3.0f, 1.0f, 1.0f};
    const int32_t t[] = {1, 3};
    const float oh[] = {0, 1, 0, 0, 0, 0, 0, 1};
    float p1[8], p2[8], d1[8], d2[8];
    float L1 = bd_softmax_ce_forward(p1, logits, (bd_labels){t, NULL}, 2, 4);
    float L2 = bd_softmax_ce_forward(p2, logits, (bd_labels){NULL, oh}, 2, 4);
    assert_close(L1, L2, 1e-6);
    bd_softmax_ce_backward(d1, p1, (bd_labels){t, NULL}, 2, 4);
    bd_softmax_ce_backward(d2, p2, (bd_labels){NULL, oh}, 2, 4);
    for (int i = 0; i < 8; i++)
        assert_close(d1[i], d2[i], 1e-7);
}

static void softmax_ce_large_logits_finite(void **st)
{
    /* naive exp(1000) overflows and log(0) is -inf: both must be avoided */
    const float logits[] = {1000, 0, -1000, -1000, 0, 1000};
    const int32_t t[] = {2, 2};
    float p[6];
    float L = bd_softmax_ce_forward(p, logits, (bd_labels){t, NULL}, 2, 3);
    assert_true(isfinite(L));
    assert_close(L, (2000.0 + 0.0) / 2, 1e-3);
    for (int i = 0; i < 6; i++)
        assert_true(isfinite(p[i]));
    assert_close(p[0], 1.0, 1e-7);
    assert_close(p[5], 1.0, 1e-7);
}

static void mse_book_example(void **st)
{
    /* book 4.2.1: y = softmax output, t = 2 -> 0.0975 */
    const float y[] = {0.1f, 0.05f, 0.6f, 0.0f, 0.05f, 0.1f, 0.0f, 0.1f, 0.0f, 0.0f};
    const int32_t t[] = {2};
    assert_close(bd_mse_forward(y, (bd_labels){t, NULL}, 1, 10), 0.0975, 1e-6);
    /* the book's second example: t = 2 but the net says 7 -> 0.5975 */
    const float y2[] = {0.1f, 0.05f, 0.1f, 0.0f, 0.05f, 0.1f, 0.0f, 0.6f, 0.0f, 0.0f};
    assert_close(bd_mse_forward(y2, (bd_labels){t, NULL}, 1, 10), 0.5975, 1e-6);
    float d[10];
    bd_mse_backward(d, y, (bd_labels){t, NULL}, 1, 10);
    assert_close(d[2], -0.4, 1e-6);
    assert_close(d[0], 0.1, 1e-6);
}

/* ---- backward against the numerical gradient, per kernel */

typedef struct kctx {
    int which; /* 0 affine(x), 1 affine(W), 2 relu, 3 sigmoid, 4 softmax-ce, 5 mse */
    float *x, *W, *b, *dy, *y;
    const int32_t *t;
    int B, I, O;
} kctx;

/* scalar: Σ dy ⊙ layer(x), whose gradient w.r.t. x is the layer's backward of dy */
static double kfun(void *ud)
{
    kctx *c = ud;
    size_t ny = (size_t)c->B * c->O;
    switch (c->which) {
    case 0:
    case 1: bd_affine_forward(c->y, c->x, c->W, c->b, c->B, c->I, c->O); break;
    case 2: bd_relu_forward(c->y, c->x, ny); break;
    case 3: bd_sigmoid_forward(c->y, c->x, ny); break;
    case 4: return bd_softmax_ce_forward(c->y, c->x, (bd_labels){c->t, NULL}, c->B, c->O);
    case 5: return bd_mse_forward(c->x, (bd_labels){c->t, NULL}, c->B, c->O);
    }
    double s = 0;
    for (size_t i = 0; i < ny; i++)
        s += (double)c->dy[i] * c->y[i];
    return s;
}

static void check_kernel(int which)
{
    enum { B = 4, I = 5, O = 3 };
    float x[B * I], W[I * O], b[O], dy[B * O], y[B * I], num[B * I], ana[B * I];
    float dW[I * O], db[O];
    int32_t t[B] = {0, 2, 1, 2};
    bd_rng r;
    bd_rng_seed(&r, 42 + which);
    for (int i = 0; i < B * I; i++) {
        x[i] = bd_rng_normal(&r);
        /* keep ReLU inputs away from the kink, where no gradient exists */
        if (which == 2 && fabsf(x[i]) < 0.1f)
            x[i] = 0.5f;
    }
    for (int i = 0; i < I * O; i++)
        W[i] = bd_rng_normal(&r);
    for (int i = 0; i < O; i++)
        b[i] = bd_rng_normal(&r);
    for (int i = 0; i < B * O; i++)
        dy[i] = bd_rng_normal(&r);
    int O_eff = (which == 2 || which == 3) ? I : O;
    kctx c = {which, x, W, b, dy, y, t, B, I, O_eff};
    size_t n;
    float *target;
    if (which == 1) {
        target = W;
        n = I * O;
        bd_affine_forward(y, x, W, b, B, I, O);
        bd_affine_backward(NULL, dW, db, dy, x, W, B, I, O);
        memcpy(ana, dW, sizeof dW);
    } else if (which == 0) {
        target = x;
        n = B * I;
        bd_affine_forward(y, x, W, b, B, I, O);
        bd_affine_backward(ana, dW, db, dy, x, W, B, I, O);
    } else if (which == 2 || which == 3) {
        /* dy must be [B, I] here */
        float dy2[B * I];
        for (int i = 0; i < B * I; i++)
            dy2[i] = bd_rng_normal(&r);
        memcpy(c.dy = alloca(sizeof dy2), dy2, sizeof dy2);
        target = x;
        n = B * I;
        if (which == 2) {
            bd_relu_forward(y, x, n);
            bd_relu_backward(ana, c.dy, y, n);
        } else {
            bd_sigmoid_forward(y, x, n);
            bd_sigmoid_backward(ana, c.dy, y, n);
        }
    } else {
        /* losses: x plays the logits [B, O] */
        target = x;
        n = B * O;
        if (which == 4) {
            bd_softmax_ce_forward(y, x, (bd_labels){t, NULL}, B, O);
            bd_softmax_ce_backward(ana, y, (bd_labels){t, NULL}, B, O);
        } else {
            bd_mse_backward(ana, x, (bd_labels){t, NULL}, B, O);
        }
    }
    bd_numerical_gradient(kfun, &c, target, num, n, 1e-2f, NULL, 0);
    for (size_t i = 0; i < n; i++)
        if (fabsf(num[i] - ana[i]) > 2e-3f * fmaxf(1.0f, fabsf(ana[i])))
            fail_msg("kernel %d element %zu: backprop %g vs numerical %g", which, i,
                     (double)ana[i], (double)num[i]);
}

static void grad_affine_x(void **st) { check_kernel(0); }
static void grad_affine_W(void **st) { check_kernel(1); }
static void grad_relu(void **st) { check_kernel(2); }
static void grad_sigmoid(void **st) { check_kernel(3); }
static void grad_softmax_ce(void **st) { check_kernel(4); }
static void grad_mse(void **st) { check_kernel(5); }

/* The numerical gradient itself, on the book's f(x0, x1) = x0² + x1²
 * (4.4: at (3,4) the gradient is (6, 8)). */
static double square_sum(void *ud)
{
    float *p = ud;
    return p[0] * p[0] + p[1] * p[1];
}

static void numerical_gradient_book(void **st)
{
    float p[2] = {3, 4}, g[2];
    bd_numerical_gradient(square_sum, p, p, g, 2, 1e-2f, NULL, 0);
    assert_close(g[0], 6, 1e-3);
    assert_close(g[1], 8, 1e-3);
    assert_close(p[0], 3, 0); /* restored */
    p[0] = 0;
    p[1] = 2;
    bd_numerical_gradient(square_sum, p, p, g, 2, 1e-2f, NULL, 0);
    assert_close(g[0], 0, 1e-3);
    assert_close(g[1], 4, 1e-3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(affine_forward_values),
        cmocka_unit_test(affine_backward_values),
        cmocka_unit_test(relu_values),
        cmocka_unit_test(sigmoid_values),
        cmocka_unit_test(softmax_ce_values),
        cmocka_unit_test(softmax_ce_onehot_equals_index),
        cmocka_unit_test(softmax_ce_large_logits_finite),
        cmocka_unit_test(mse_book_example),
        cmocka_unit_test(grad_affine_x),
        cmocka_unit_test(grad_affine_W),
        cmocka_unit_test(grad_relu),
        cmocka_unit_test(grad_sigmoid),
        cmocka_unit_test(grad_softmax_ce),
        cmocka_unit_test(grad_mse),
        cmocka_unit_test(numerical_gradient_book),
    };
    return cmocka_run_group_tests_name("layers", tests, NULL, NULL);
}
