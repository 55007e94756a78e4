/* test_norm.c — BatchNorm (book 6.3) and Dropout (book 6.4.3, inverted):
 * forward values, running averages, train/eval modes, backward against the
 * book's formulas and the numerical gradient, masks, and short trainings. */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

/* A network that is one BatchNorm over D features (MSE loss, unused). */
static void bn_alone(bd_net **out, int D, int max_batch)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_create(&net, 1, 1, D));
    assert_ok(bd_net_add(net, BD_LAYER_BATCHNORM, 0));
    bd_net_set_loss(net, BD_LOSS_MSE);
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    assert_ok(bd_net_reserve(net, max_batch));
    *out = net;
}

static void mlp_spec(bd_net_spec *s, bd_layer_kind act, int bn, float dropout)
{
    bd_net_spec_default(s);
    snprintf(s->model, sizeof s->model, "mlp");
    s->hidden[0] = 16;
    s->hidden[1] = 12;
    s->nhidden = 2;
    s->act = act;
    s->init = (bd_init){act == BD_LAYER_RELU ? BD_INIT_HE : BD_INIT_XAVIER, 0};
    s->init_set = 1;
    s->batchnorm = bn;
    s->dropout = dropout;
}

/* ------------------------------------------------------------ BatchNorm */

static void bn_structure(void **st)
{
    bd_net *net = NULL;
    bd_net_spec s;
    mlp_spec(&s, BD_LAYER_RELU, 1, 0.0f);
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 20, 5, &r));
    /* Affine - BatchNorm - Relu, twice, then Affine (book 6.3) */
    assert_int_equal(net->nlayers, 7);
    assert_string_equal(net->layers[1].name, "BatchNorm1");
    assert_string_equal(net->layers[4].name, "BatchNorm2");
    bd_layer *bn = &net->layers[1];
    assert_int_equal(bn->param_count, 32);
    assert_int_equal(bn->state_count, 32);
    assert_int_equal(net->state.size, 32 + 24);
    assert_int_equal(bd_net_param_count(net), 20 * 16 + 16 + 32 + 16 * 12 + 12 + 24 + 12 * 5 + 5);
    assert_close(bn->p0, 0.9, 1e-7);
    assert_close(bn->p1, 1e-7, 1e-12);
    /* gamma 1, beta 0, running mean 0, running variance 1 */
    for (int j = 0; j < 16; j++) {
        assert_true(bd_f32(&bn->W)[j] == 1.0f);
        assert_true(bd_f32(&bn->b)[j] == 0.0f);
        assert_true(bd_f32(&bn->s0)[j] == 0.0f);
        assert_true(bd_f32(&bn->s1)[j] == 1.0f);
    }
    /* gamma, beta: views into the parameter block; running stats in state */
    assert_ptr_equal(bn->W.data, bd_f32(&net->params) + 20 * 16 + 16);
    assert_ptr_equal(bn->db.data, bd_f32(&net->grads) + 20 * 16 + 16 + 16);
    assert_ptr_equal(bn->s0.data, net->state.data);
    assert_ptr_equal(net->layers[4].s1.data, bd_f32(&net->state) + 32 + 12);
    bd_net_free(net);
    /* the momentum from the spec */
    s.bn_momentum = 0.5f;
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 20, 5, &r));
    assert_close(net->layers[1].p0, 0.5, 0);
    bd_net_free(net);
}

/* Feature 0 is [1,2,3,4]: mean 2.5, variance 1.25, so x̂ = ±1.5/√1.25,
 * ±0.5/√1.25 = ±1.3416, ±0.4472. Feature 1 is [-1,1,-1,1]: x̂ = ±1. */
static void bn_forward_values(void **st)
{
    bd_net *net = NULL;
    bn_alone(&net, 2, 4);
    bd_layer *bn = &net->layers[0];
    bd_f32(&bn->W)[0] = 2.0f;  /* gamma */
    bd_f32(&bn->W)[1] = -1.0f;
    bd_f32(&bn->b)[0] = 0.5f;  /* beta */
    bd_f32(&bn->b)[1] = 3.0f;
    float xv[8] = {1, -1, 2, 1, 3, -1, 4, 1};
    int xs[2] = {4, 2};
    bd_tensor x = bd_tensor_view(xv, 2, xs);
    const bd_tensor *y;
    assert_ok(bd_net_forward(net, &x, &y));
    const double e = 1e-7, s0 = sqrt(1.25 + e), s1 = sqrt(1.0 + e);
    const double h0[4] = {-1.5 / s0, -0.5 / s0, 0.5 / s0, 1.5 / s0};
    const double h1[4] = {-1 / s1, 1 / s1, -1 / s1, 1 / s1};
    assert_close(h0[0], -1.3416408, 1e-6);
    assert_close(h0[1], -0.4472136, 1e-6);
    float train_out[8];
    for (int r = 0; r < 4; r++) {
        assert_close(bd_f32(&bn->aux)[r * 2], h0[r], 1e-6);
        assert_close(bd_f32(y)[r * 2], 2 * h0[r] + 0.5, 2e-6);
        assert_close(bd_f32(y)[r * 2 + 1], -h1[r] + 3, 2e-6);
    }
    memcpy(train_out, bd_f32(y), sizeof train_out);

    /* running = 0.9 running + 0.1 batch (book's momentum convention) */
    const float *rm = bd_f32(&bn->s0), *rv = bd_f32(&bn->s1);
    assert_close(rm[0], 0.25, 1e-7);
    assert_close(rv[0], 0.9 + 0.125, 1e-6);
    assert_close(rm[1], 0.0, 1e-7);
    assert_close(rv[1], 1.0, 1e-6);
    /* a second batch, feature 0 [2,4,6,8]: mean 5, variance 5 */
    float xv2[8] = {2, 0, 4, 0, 6, 0, 8, 0};
    bd_tensor x2 = bd_tensor_view(xv2, 2, xs);
    assert_ok(bd_net_forward(net, &x2, &y));
    assert_close(rm[0], 0.9 * 0.25 + 0.1 * 5, 1e-6);
    assert_close(rv[0], 0.9 * 1.025 + 0.1 * 5, 1e-6);
    assert_close(rm[1], 0.0, 1e-7);
    assert_close(rv[1], 0.9 * 1.0 + 0.1 * 0, 1e-6);
    /* a constant feature: x̂ = 0, y = beta */
    for (int r = 0; r < 4; r++)
        assert_close(bd_f32(y)[r * 2 + 1], 3.0, 1e-6);

    /* evaluation: the running statistics, which leave them alone */
    float m0 = rm[0], v0 = rv[0], m1 = rm[1], v1 = rv[1];
    bd_net_set_training(net, 0);
    assert_ok(bd_net_forward(net, &x, &y));
    assert_true(rm[0] == m0 && rv[0] == v0);
    int differ = 0;
    for (int r = 0; r < 4; r++) {
        double w0 = 2 * (xv[r * 2] - (double)m0) / sqrt((double)v0 + e) + 0.5;
        double w1 = -1 * (xv[r * 2 + 1] - (double)m1) / sqrt((double)v1 + e) + 3;
        assert_close(bd_f32(y)[r * 2], w0, 2e-6);
        assert_close(bd_f32(y)[r * 2 + 1], w1, 2e-6);
        differ += fabsf(bd_f32(y)[r * 2] - train_out[r * 2]) > 0.1f;
    }
    assert_true(differ >= 3);
    bd_net_free(net);
}

/* A batch of one while training: variance 0, so x̂ = 0 and y = beta; the
 * input gradient is 0 (every shift of x moves the mean with it). */
static void bn_batch_of_one(void **st)
{
    bd_rng r;
    bd_rng_seed(&r, 2);
    bd_net *net = NULL;
    assert_ok(bd_net_create(&net, 1, 1, 3));
    assert_ok(bd_net_add_affine(net, 3));
    assert_ok(bd_net_add(net, BD_LAYER_BATCHNORM, 0));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    assert_ok(bd_net_reserve(net, 1));
    bd_f32(&net->layers[1].b)[1] = 0.75f;
    float xv[3] = {0.3f, -2.0f, 5.0f};
    int xs[2] = {1, 3};
    bd_tensor x = bd_tensor_view(xv, 2, xs);
    int32_t lab[1] = {2};
    float loss;
    assert_ok(bd_net_gradient(net, &x, (bd_labels){lab, NULL}, &loss));
    assert_true(isfinite(loss));
    const float *y = bd_f32(&net->layers[1].out);
    assert_close(y[0], 0.0, 0);
    assert_close(y[1], 0.75, 0);
    for (size_t i = 0; i < net->grads.size; i++)
        assert_true(isfinite(bd_f32(&net->grads)[i]));
    for (int j = 0; j < 3; j++)
        assert_close(bd_f32(&net->layers[1].dx)[j], 0.0, 0);
    bd_net_free(net);
}

/* Backward against the book's BatchNormalization.backward, step by step in
 * double: dxn, dxc, dstd, dvar, dmu, dx. */
static void bn_backward_matches_book(void **st)
{
    enum { B = 7, D = 5 };
    bd_rng r;
    bd_rng_seed(&r, 3);
    bd_net *net = NULL;
    assert_ok(bd_net_create(&net, 1, 1, D));
    assert_ok(bd_net_add_affine(net, D));
    assert_ok(bd_net_add(net, BD_LAYER_BATCHNORM, 0));
    bd_net_set_loss(net, BD_LOSS_MSE);
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    assert_ok(bd_net_reserve(net, B));
    bd_layer *bn = &net->layers[1];
    for (int j = 0; j < D; j++) {
        bd_f32(&bn->W)[j] = 0.5f + bd_rng_uniform(&r);
        bd_f32(&bn->b)[j] = bd_rng_uniform(&r) - 0.5f;
    }
    bd_tensor x, y;
    random_batch_range(&x, &y, B, D, D, -2, 3, 4);
    float t[B * D];
    for (int i = 0; i < B * D; i++)
        t[i] = bd_rng_normal(&r);
    assert_ok(bd_net_gradient(net, &x, (bd_labels){NULL, t}, NULL));
    const float *in = bd_f32(&net->layers[0].out), *dout = bd_f32(&net->dlogits);
    const float *gamma = bd_f32(&bn->W);
    const double eps = bn->p1;
    for (int j = 0; j < D; j++) {
        double mu = 0, var = 0;
        for (int i = 0; i < B; i++)
            mu += in[i * D + j];
        mu /= B;
        double xc[B], xn[B], dxc[B];
        for (int i = 0; i < B; i++) {
            xc[i] = in[i * D + j] - mu;
            var += xc[i] * xc[i];
        }
        var /= B;
        double sd = sqrt(var + eps), dbeta = 0, dgamma = 0, dstd = 0, dmu = 0;
        for (int i = 0; i < B; i++) {
            xn[i] = xc[i] / sd;
            dbeta += dout[i * D + j];
            dgamma += xn[i] * dout[i * D + j];
            double dxn = gamma[j] * dout[i * D + j];
            dxc[i] = dxn / sd;
            dstd -= dxn * xc[i] / (sd * sd);
        }
        double dvar = 0.5 * dstd / sd;
        for (int i = 0; i < B; i++) {
            dxc[i] += (2.0 / B) * xc[i] * dvar;
            dmu += dxc[i];
        }
        assert_close(bd_f32(&bn->db)[j], dbeta, 1e-6);
        assert_close(bd_f32(&bn->dW)[j], dgamma, 1e-6);
        for (int i = 0; i < B; i++)
            assert_close(bd_f32(&bn->dx)[i * D + j], dxc[i] - dmu / B, 1e-6);
    }
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

/* Network-level gradient check with BatchNorm while training. Each forward
 * updates the running averages, but the output uses the batch statistics,
 * so the loss is the same function of the parameters every time. A batch of
 * 16: with 4 rows the normalisation bends the loss so sharply that the
 * central difference's own error at h = 1e-2 (O(h²)) reaches 1.7e-2 relative
 * on some W entries; h = 3e-3 then passes for ReLU but float32 noise fails
 * sigmoid. At 16 rows every entry is within 3e-3 at the default h. */
#define GC_BATCH 16
static void bn_gradcheck(bd_layer_kind act, int training, float wd)
{
    bd_net *net = NULL;
    bd_net_spec s;
    mlp_spec(&s, act, 1, 0.0f);
    s.weight_decay = wd;
    bd_rng r;
    bd_rng_seed(&r, 11);
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 20, 5, &r));
    bd_tensor x, y;
    random_batch_range(&x, &y, GC_BATCH, 20, 5, 0, 1, 5);
    if (!training) {
        /* running statistics worth the name: a few training forwards */
        assert_ok(bd_net_reserve(net, GC_BATCH));
        for (int i = 0; i < 20; i++)
            assert_ok(bd_net_forward(net, &x, NULL));
        bd_net_set_training(net, 0);
    }
    bd_gradcheck_config gc;
    bd_gradcheck_config_default(&gc);
    bd_gradcheck_row rows[10];
    int nr = 0;
    assert_ok(bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, &gc, rows, &nr));
    /* numbered per layer with parameters: W1 b1 gamma2 beta2 W3 b3 ... */
    static const char *const names[10] = {"W1",     "b1",    "gamma2", "beta2", "W3",
                                          "b3",     "gamma4", "beta4", "W5",    "b5"};
    assert_int_equal(nr, 10);
    for (int i = 0; i < nr; i++) {
        assert_string_equal(rows[i].name, names[i]);
        assert_true(rows[i].checked > 0);
        assert_true(rows[i].mean_abs <= gc.tol_abs);
        assert_true(rows[i].max_rel <= gc.tol_rel);
    }
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

static void bn_gradcheck_relu(void **st) { bn_gradcheck(BD_LAYER_RELU, 1, 0.0f); }
static void bn_gradcheck_sigmoid(void **st) { bn_gradcheck(BD_LAYER_SIGMOID, 1, 0.0f); }
static void bn_gradcheck_eval(void **st) { bn_gradcheck(BD_LAYER_SIGMOID, 0, 0.0f); }
/* weight decay on Affine W only: gamma and beta are not decayed */
static void bn_gradcheck_decay(void **st) { bn_gradcheck(BD_LAYER_RELU, 1, 0.1f); }

/* Breaking BatchNorm's backward must make the check fail. */
static void bn_broken_caught(void **st)
{
    bd_net *net = NULL;
    bd_net_spec s;
    mlp_spec(&s, BD_LAYER_RELU, 1, 0.0f);
    bd_rng r;
    bd_rng_seed(&r, 11);
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 20, 5, &r));
    bd_tensor x, y;
    random_batch_range(&x, &y, GC_BATCH, 20, 5, 0, 1, 5);
    bd_gradcheck_config gc;
    bd_gradcheck_config_default(&gc);
    bd_gradcheck_row rows[10];
    int nr = 0;
    bd__debug_break_backward(net, BD_LAYER_BATCHNORM, 1);
    bd_status res = bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, &gc, rows, &nr);
    bd__debug_break_backward(net, BD_LAYER_BATCHNORM, 0);
    assert_int_equal(res, BD_ERR_CHECK);
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

/* -------------------------------------------------------------- Dropout */

/* A network that is one Dropout over D features. */
static void dropout_alone(bd_net **out, int D, int B, float p, uint64_t seed)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, seed);
    assert_ok(bd_net_create(&net, 1, 1, D));
    assert_ok(bd_net_add_with(net, BD_LAYER_DROPOUT, 0, p, 0));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    assert_ok(bd_net_reserve(net, B));
    *out = net;
}

static void dropout_statistics(void **st)
{
    enum { B = 100, D = 1000 };
    bd_net *net = NULL;
    dropout_alone(&net, D, B, 0.2f, 1);
    assert_string_equal(net->layers[0].name, "Dropout1");
    bd_tensor x, y;
    random_batch_range(&x, &y, B, D, 2, 0.5f, 1.5f, 7);
    const bd_tensor *out;
    assert_ok(bd_net_forward(net, &x, &out));
    const float *xv = bd_f32(&x), *yv = bd_f32(out), *m = bd_f32(&net->layers[0].aux);
    const float scale = 1.0f / (1.0f - 0.2f);
    size_t zeros = 0, n = (size_t)B * D;
    double sx = 0, sy = 0;
    for (size_t i = 0; i < n; i++) {
        if (yv[i] == 0.0f) {
            zeros++;
            assert_true(m[i] == 0.0f);
        } else {
            assert_true(yv[i] == xv[i] * scale); /* kept: scaled by exactly 1/(1-p) */
            assert_true(m[i] == scale);
        }
        sx += xv[i];
        sy += yv[i];
    }
    assert_close((double)zeros / n, 0.2, 0.01);
    assert_close(sy / sx, 1.0, 0.01); /* inverted: the mean is kept */
    /* evaluation is the identity */
    bd_net_set_training(net, 0);
    assert_ok(bd_net_forward(net, &x, &out));
    assert_memory_equal(bd_f32(out), xv, n * sizeof(float));
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
    /* the default p is 0.5 */
    dropout_alone(&net, 4, 1, 0.0f, 1);
    assert_close(net->layers[0].p0, 0.5, 0);
    bd_net_free(net);
}

/* Successive forwards draw new masks; the same net seed, the same masks. */
static void dropout_masks(void **st)
{
    enum { B = 10, D = 50 };
    bd_net *a = NULL, *b = NULL, *c = NULL;
    dropout_alone(&a, D, B, 0.5f, 3);
    dropout_alone(&b, D, B, 0.5f, 3);
    dropout_alone(&c, D, B, 0.5f, 4);
    bd_tensor x, y;
    random_batch_range(&x, &y, B, D, 2, 0.5f, 1.5f, 8);
    static float m1[B * D], m2[B * D];
    const size_t sz = sizeof m1;
    assert_ok(bd_net_forward(a, &x, NULL));
    memcpy(m1, a->layers[0].aux.data, sz);
    assert_ok(bd_net_forward(a, &x, NULL));
    memcpy(m2, a->layers[0].aux.data, sz);
    assert_memory_not_equal(m1, m2, sz);
    assert_ok(bd_net_forward(b, &x, NULL));
    assert_memory_equal(b->layers[0].aux.data, m1, sz);
    assert_ok(bd_net_forward(b, &x, NULL));
    assert_memory_equal(b->layers[0].aux.data, m2, sz);
    assert_ok(bd_net_forward(c, &x, NULL));
    assert_memory_not_equal(c->layers[0].aux.data, m1, sz);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(a);
    bd_net_free(b);
    bd_net_free(c);
}

/* Backward uses the forward's mask: dx = dy·m (training), dy (evaluation).
 * Affine first, so the Dropout layer's input gradient is computed. */
static void dropout_backward_mask(void **st)
{
    enum { B = 6, D = 8 };
    for (int training = 1; training >= 0; training--) {
        bd_rng r;
        bd_rng_seed(&r, 5);
        bd_net *net = NULL;
        assert_ok(bd_net_create(&net, 1, 1, D));
        assert_ok(bd_net_add_affine(net, D));
        assert_ok(bd_net_add_with(net, BD_LAYER_DROPOUT, 0, 0.3f, 0));
        bd_net_set_loss(net, BD_LOSS_MSE);
        assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
        assert_ok(bd_net_reserve(net, B));
        bd_net_set_training(net, training);
        bd_tensor x, y;
        random_batch_range(&x, &y, B, D, D, -1, 1, 9);
        float t[B * D];
        for (int i = 0; i < B * D; i++)
            t[i] = bd_rng_normal(&r);
        assert_ok(bd_net_gradient(net, &x, (bd_labels){NULL, t}, NULL));
        const bd_layer *dl = &net->layers[1];
        const float *dy = bd_f32(&net->dlogits), *dx = bd_f32(&dl->dx);
        int dropped = 0;
        for (int i = 0; i < B * D; i++) {
            float m = training ? bd_f32(&dl->aux)[i] : 1.0f;
            assert_true(dx[i] == dy[i] * m);
            dropped += m == 0.0f;
        }
        assert_true(training ? dropped > 0 : dropped == 0);
        bd_tensor_free(&x);
        bd_tensor_free(&y);
        bd_net_free(net);
    }
}

/* Gradient check of an mlp with Dropout in evaluation mode (deterministic),
 * and a broken Dropout backward caught there. */
static void dropout_gradcheck_eval(void **st)
{
    bd_net *net = NULL;
    bd_net_spec s;
    mlp_spec(&s, BD_LAYER_RELU, 0, 0.3f);
    bd_rng r;
    bd_rng_seed(&r, 11);
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 20, 5, &r));
    assert_int_equal(net->nlayers, 7); /* Affine Relu Dropout, twice, Affine */
    assert_string_equal(net->layers[5].name, "Dropout2");
    bd_net_set_training(net, 0);
    bd_tensor x, y;
    random_batch_range(&x, &y, 4, 20, 5, 0, 1, 5);
    bd_gradcheck_row rows[6];
    int nr = 0;
    assert_ok(bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, NULL, rows, &nr));
    assert_int_equal(nr, 6);
    assert_string_equal(rows[2].name, "W2");
    bd__debug_break_backward(net, BD_LAYER_DROPOUT, 1);
    bd_status res = bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, NULL, rows, &nr);
    bd__debug_break_backward(net, BD_LAYER_DROPOUT, 0);
    assert_int_equal(res, BD_ERR_CHECK);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

/* bd_gradcheck itself replays the layers' draws at every evaluation, so in
 * training mode each forward reuses the same masks. */
static void dropout_gradcheck_train(void **st)
{
    bd_net *net = NULL;
    bd_net_spec s;
    mlp_spec(&s, BD_LAYER_SIGMOID, 0, 0.3f);
    bd_rng r;
    bd_rng_seed(&r, 11);
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 20, 5, &r));
    bd_tensor x, y;
    random_batch_range(&x, &y, 4, 20, 5, 0, 1, 5);
    bd_gradcheck_row rows[6];
    int nr = 0;
    assert_ok(bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, NULL, rows, &nr));
    assert_int_equal(nr, 6);
    bd__debug_break_backward(net, BD_LAYER_DROPOUT, 1);
    bd_status res = bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, NULL, rows, &nr);
    bd__debug_break_backward(net, BD_LAYER_DROPOUT, 0);
    assert_int_equal(res, BD_ERR_CHECK);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

/* Training mode with the mask held fixed: the layers' PRNG is put back before
 * every forward, so each draws the same masks and the loss is a smooth
 * function of the parameters (sigmoid: no kinks). Backprop must match the
 * central difference of that function. */
typedef struct fixed_mask_ctx {
    bd_net *net;
    const bd_tensor *x;
    bd_labels t;
    bd_rng saved;
} fixed_mask_ctx;

static double fixed_mask_loss(void *ud)
{
    fixed_mask_ctx *c = ud;
    c->net->rng = c->saved;
    if (bd_net_loss(c->net, c->x, c->t, NULL) != BD_OK)
        return NAN;
    return c->net->last_loss;
}

static double redrawn_mask_loss(void *ud)
{
    fixed_mask_ctx *c = ud;
    if (bd_net_loss(c->net, c->x, c->t, NULL) != BD_OK)
        return NAN;
    return c->net->last_loss;
}

static void dropout_gradcheck_fixed_mask(void **st)
{
    bd_net *net = NULL;
    bd_net_spec s;
    mlp_spec(&s, BD_LAYER_SIGMOID, 0, 0.4f);
    bd_rng r;
    bd_rng_seed(&r, 12);
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 20, 5, &r));
    assert_ok(bd_net_reserve(net, 4));
    bd_tensor x, y;
    random_batch_range(&x, &y, 4, 20, 5, 0, 1, 6);
    fixed_mask_ctx c = {net, &x, {bd_i32(&y), NULL}, net->rng};
    fixed_mask_loss(&c);
    assert_ok(bd_net_backward(net));
    int dropped = 0;
    for (size_t i = 0; i < net->layers[2].aux.size; i++)
        dropped += bd_f32(&net->layers[2].aux)[i] == 0.0f;
    assert_true(dropped > 0);
    size_t P = net->params.size;
    float *back = malloc(P * sizeof(float)), *num = malloc(P * sizeof(float));
    assert_non_null(back);
    assert_non_null(num);
    memcpy(back, net->grads.data, P * sizeof(float));
    bd_numerical_gradient(fixed_mask_loss, &c, bd_f32(&net->params), num, P, 1e-2f, NULL, 0);
    double mean_abs = 0, max_rel = 0;
    for (size_t i = 0; i < P; i++) {
        double d = fabs((double)back[i] - num[i]);
        mean_abs += d;
        max_rel = fmax(max_rel, d / fmax(fmax(fabs(back[i]), fabs(num[i])), 1e-3));
    }
    mean_abs /= (double)P;
    assert_true(mean_abs <= 1e-4);
    assert_true(max_rel <= 1e-2);
    /* with the masks redrawn at every forward, the same comparison fails */
    bd_numerical_gradient(redrawn_mask_loss, &c, bd_f32(&net->params), num, P, 1e-2f, NULL, 0);
    max_rel = 0;
    for (size_t i = 0; i < P; i++)
        max_rel = fmax(max_rel, fabs((double)back[i] - num[i]) /
                                    fmax(fmax(fabs(back[i]), fabs(num[i])), 1e-3));
    assert_true(max_rel > 1.0);
    free(back);
    free(num);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

/* ------------------------------------------------------------- training */

static void train_blobs(int bn, float dropout, float min_acc)
{
    bd_dataset tr, te;
    make_blobs(&tr, 2000, 8, 4, 1.0f, 1, 99);
    make_blobs(&te, 500, 8, 4, 1.0f, 2, 99);
    bd_net *net = NULL;
    bd_net_spec s;
    mlp_spec(&s, BD_LAYER_RELU, bn, dropout);
    s.hidden[0] = s.hidden[1] = 32;
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 8, 4, &r));
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "adam", &(bd_optim_config){.lr = 0.01f}, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 50;
    cfg.epochs = 10;
    cfg.seed = 1;
    bd_train_result res;
    assert_ok(bd_train(net, o, &tr, &te, &cfg, &res));
    if (!(res.test_acc >= min_acc && res.train_acc >= min_acc))
        fail_msg("bn %d dropout %g: train %.4f test %.4f, expected >= %.2f", bn,
                 (double)dropout, (double)res.train_acc, (double)res.test_acc, (double)min_acc);
    /* evaluation used the running statistics and left training mode on */
    assert_int_equal(net->training, 1);
    if (bn) {
        float acc;
        assert_ok(bd_evaluate(net, &te, &acc, NULL));
        assert_close(acc, res.test_acc, 1e-6);
    }
    bd_optim_free(o);
    bd_net_free(net);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

static void train_blobs_batchnorm(void **st) { train_blobs(1, 0.0f, 0.95f); }
static void train_blobs_dropout(void **st) { train_blobs(0, 0.2f, 0.95f); }
static void train_blobs_both(void **st) { train_blobs(1, 0.2f, 0.95f); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bn_structure),
        cmocka_unit_test(bn_forward_values),
        cmocka_unit_test(bn_batch_of_one),
        cmocka_unit_test(bn_backward_matches_book),
        cmocka_unit_test(bn_gradcheck_relu),
        cmocka_unit_test(bn_gradcheck_sigmoid),
        cmocka_unit_test(bn_gradcheck_eval),
        cmocka_unit_test(bn_gradcheck_decay),
        cmocka_unit_test(bn_broken_caught),
        cmocka_unit_test(dropout_statistics),
        cmocka_unit_test(dropout_masks),
        cmocka_unit_test(dropout_backward_mask),
        cmocka_unit_test(dropout_gradcheck_eval),
        cmocka_unit_test(dropout_gradcheck_train),
        cmocka_unit_test(dropout_gradcheck_fixed_mask),
        cmocka_unit_test(train_blobs_batchnorm),
        cmocka_unit_test(train_blobs_dropout),
        cmocka_unit_test(train_blobs_both),
    };
    return cmocka_run_group_tests_name("norm", tests, NULL, NULL);
}
