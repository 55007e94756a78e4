/* test_conv.c — convolution, pooling, BatchNorm2d, residual blocks and the
 * convolutional presets: kernels against direct loops and hand-worked
 * values, backward against numerical gradients, networks against
 * bd_gradcheck (and a broken backward against it). */
#include "testutil.h"

#include "internal.h" /* bd__net_unfuse */

/* ---- helpers */

static void fill(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    bd_rng r;
    bd_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * bd_rng_uniform(&r);
}

/* the definition of a convolution (book 7.2.2), one output at a time */
static void conv_direct(float *y, const float *x, const float *W, const float *b,
                        const bd_conv_geom *g)
{
    for (int n = 0; n < g->B; n++)
        for (int f = 0; f < g->F; f++)
            for (int oh = 0; oh < g->OH; oh++)
                for (int ow = 0; ow < g->OW; ow++) {
                    double s = b ? b[f] : 0.0;
                    for (int c = 0; c < g->C; c++)
                        for (int i = 0; i < g->K; i++)
                            for (int j = 0; j < g->K; j++) {
                                int h = oh * g->S - g->P + i, w = ow * g->S - g->P + j;
                                if (h < 0 || h >= g->H || w < 0 || w >= g->W)
                                    continue;
                                s += (double)x[((n * g->C + c) * g->H + h) * g->W + w] *
                                     W[((f * g->C + c) * g->K + i) * g->K + j];
                            }
                    y[((n * g->F + f) * g->OH + oh) * g->OW + ow] = (float)s;
                }
}

static bd_conv_geom geom(int B, int C, int H, int W, int F, int K, int S, int P)
{
    bd_conv_geom g = {B, C, H, W, F, K, S, P, 0, 0};
    assert_ok(bd_conv_geom_init(&g, "test"));
    return g;
}

static size_t in_n(const bd_conv_geom *g) { return (size_t)g->B * g->C * g->H * g->W; }
static size_t out_n(const bd_conv_geom *g) { return (size_t)g->B * g->F * g->OH * g->OW; }

/* ---- im2col / col2im */

/* Book fig. 7-18's idea on a 3x3 image, 2x2 kernel: each column one window. */
static void im2col_known(void **st)
{
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    bd_conv_geom g = geom(1, 1, 3, 3, 1, 2, 1, 0);
    assert_int_equal(g.OH, 2);
    assert_int_equal(g.OW, 2);
    float col[16];
    bd_im2col(col, x, &g);
    const float want[16] = {1, 2, 4, 5, /* kernel (0,0) at the 4 positions */
                            2, 3, 5, 6, /* (0,1) */
                            4, 5, 7, 8, /* (1,0) */
                            5, 6, 8, 9};
    for (int i = 0; i < 16; i++)
        assert_close(col[i], want[i], 0);
    /* padding 1, stride 2: OH = (3 + 2 - 2) / 2 + 1 = 2; corners read zeros */
    g = geom(1, 1, 3, 3, 1, 2, 2, 1);
    assert_int_equal(g.OH, 2);
    bd_im2col(col, x, &g);
    const float want2[16] = {0, 0, 0, 5, /* (0,0): windows start at (-1,-1),(-1,1),(1,-1),(1,1) */
                             0, 0, 4, 6, 0, 2, 0, 8, 1, 3, 7, 9};
    for (int i = 0; i < 16; i++)
        assert_close(col[i], want2[i], 0);
}

/* col2im is im2col's adjoint: <im2col(x), c> = <x, col2im(c)>. */
static void col2im_adjoint(void **st)
{
    const int cfg[][4] = {{3, 1, 0, 0}, {3, 2, 1, 0}, {2, 2, 0, 0}, {5, 1, 2, 0}, {3, 3, 2, 0}};
    for (size_t t = 0; t < sizeof cfg / sizeof cfg[0]; t++) {
        bd_conv_geom g = geom(2, 3, 7, 6, 1, cfg[t][0], cfg[t][1], cfg[t][2]);
        size_t nc = (size_t)g.C * g.K * g.K * g.B * g.OH * g.OW, nx = in_n(&g);
        float *x = malloc(nx * sizeof(float)), *dx = malloc(nx * sizeof(float));
        float *c = malloc(nc * sizeof(float)), *col = malloc(nc * sizeof(float));
        fill(x, nx, 1 + t, -1, 1);
        fill(c, nc, 100 + t, -1, 1);
        bd_im2col(col, x, &g);
        bd_col2im(dx, c, &g);
        double a = 0, b = 0;
        for (size_t i = 0; i < nc; i++)
            a += (double)col[i] * c[i];
        for (size_t i = 0; i < nx; i++)
            b += (double)x[i] * dx[i];
        assert_close(a, b, 1e-4 * (fabs(a) + 1));
        free(x), free(dx), free(c), free(col);
    }
}

/* ---- convolution */

static void conv_matches_direct(void **st)
{
    const int cfg[][5] = {/* C, F, K, S, P */
                          {1, 4, 5, 1, 0}, {3, 2, 3, 1, 1}, {3, 5, 3, 2, 1},
                          {2, 3, 1, 2, 0}, {2, 2, 4, 3, 2}, {4, 1, 3, 1, 2},
                          {2, 3, 5, 1, 2}, {1, 2, 1, 1, 0}}; /* "same" convs: 5x5 pad 2, 1x1 */
    for (size_t t = 0; t < sizeof cfg / sizeof cfg[0]; t++) {
        bd_conv_geom g = geom(3, cfg[t][0], 8, 7, cfg[t][1], cfg[t][2], cfg[t][3], cfg[t][4]);
        size_t nw = (size_t)g.F * g.C * g.K * g.K;
        float *x = malloc(in_n(&g) * 4), *W = malloc(nw * 4), *b = malloc((size_t)g.F * 4);
        float *y = malloc(out_n(&g) * 4), *yr = malloc(out_n(&g) * 4);
        float *scr = malloc(bd_conv2d_scratch(&g) * 4);
        fill(x, in_n(&g), 3 + t, -1, 1);
        fill(W, nw, 30 + t, -1, 1);
        fill(b, (size_t)g.F, 60 + t, -1, 1);
        bd_conv2d_forward(y, x, W, b, scr, &g);
        conv_direct(yr, x, W, b, &g);
        for (size_t i = 0; i < out_n(&g); i++)
            assert_close(y[i], yr[i], 1e-5);
        bd_conv2d_forward(y, x, W, NULL, scr, &g); /* no bias */
        conv_direct(yr, x, W, NULL, &g);
        for (size_t i = 0; i < out_n(&g); i++)
            assert_close(y[i], yr[i], 1e-5);
        free(x), free(W), free(b), free(y), free(yr), free(scr);
    }
}

/* L = Σ y·R is linear in x, W and b, so the central difference is exact up
 * to rounding and the backward must match it closely. */
typedef struct conv_ctx {
    bd_conv_geom g;
    float *x, *W, *b, *y, *R, *scr;
} conv_ctx;

static double conv_loss(void *ud)
{
    conv_ctx *c = ud;
    bd_conv2d_forward(c->y, c->x, c->W, c->b, c->scr, &c->g);
    double L = 0;
    for (size_t i = 0; i < out_n(&c->g); i++)
        L += (double)c->y[i] * c->R[i];
    return L;
}

static void expect_grad(const float *analytic, const float *numeric, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        if (fabs(analytic[i] - numeric[i]) > tol * (1 + fabs(numeric[i])))
            fail_msg("element %zu: backward %.7g vs numerical %.7g", i, (double)analytic[i],
                     (double)numeric[i]);
}

static void conv_backward_numerical(void **st)
{
    const int cfg[][5] = {{2, 3, 3, 1, 1}, {3, 2, 3, 2, 1}, {1, 2, 5, 1, 2}, {2, 2, 1, 2, 0}};
    for (size_t t = 0; t < sizeof cfg / sizeof cfg[0]; t++) {
        conv_ctx c;
        c.g = geom(2, cfg[t][0], 6, 5, cfg[t][1], cfg[t][2], cfg[t][3], cfg[t][4]);
        size_t nx = in_n(&c.g), ny = out_n(&c.g), nw = (size_t)c.g.F * c.g.C * c.g.K * c.g.K;
        c.x = malloc(nx * 4), c.W = malloc(nw * 4), c.b = malloc((size_t)c.g.F * 4);
        c.y = malloc(ny * 4), c.R = malloc(ny * 4);
        c.scr = malloc(bd_conv2d_scratch(&c.g) * 4);
        fill(c.x, nx, 1, -1, 1), fill(c.W, nw, 2, -1, 1), fill(c.b, (size_t)c.g.F, 3, -1, 1);
        fill(c.R, ny, 4, -1, 1);
        float *dx = malloc(nx * 4), *dW = malloc(nw * 4), *db = malloc((size_t)c.g.F * 4);
        float *num = malloc((nx > nw ? nx : nw) * 4);
        bd_conv2d_backward(dx, dW, db, c.R, c.x, c.W, c.scr, &c.g); /* dy = R */
        bd_numerical_gradient(conv_loss, &c, c.x, num, nx, 1e-2f, NULL, 0);
        expect_grad(dx, num, nx, 2e-3);
        bd_numerical_gradient(conv_loss, &c, c.W, num, nw, 1e-2f, NULL, 0);
        expect_grad(dW, num, nw, 2e-3);
        bd_numerical_gradient(conv_loss, &c, c.b, num, (size_t)c.g.F, 1e-2f, NULL, 0);
        expect_grad(db, num, (size_t)c.g.F, 2e-3);
        /* dx and db are optional */
        float *dW2 = malloc(nw * 4);
        bd_conv2d_backward(NULL, dW2, NULL, c.R, c.x, c.W, c.scr, &c.g);
        for (size_t i = 0; i < nw; i++)
            assert_close(dW2[i], dW[i], 0);
        free(dW2), free(c.x), free(c.W), free(c.b), free(c.y), free(c.R), free(c.scr);
        free(dx), free(dW), free(db), free(num);
    }
}

/* The backward sums per-thread partial dW/db and adds them in part order:
 * every batch size against every thread count (more threads than samples
 * included) must give the serial result up to rounding. */
static void conv_backward_any_split(void **st)
{
    /* partial sums are kept per part of the split (bd__split_parts: at most
     * one per sample and BD__MAX_PARTS), not per sample: a 70th sample adds
     * its columns and mask only, a second one a partial dW/db too */
    bd_conv_geom g1 = geom(1, 2, 6, 5, 3, 3, 1, 1), g2 = g1, g69 = g1, g70 = g1;
    g2.B = 2, g69.B = 69, g70.B = 70;
    const size_t partial = (size_t)g1.F * g1.C * g1.K * g1.K + g1.F;
    assert_int_equal((bd_conv2d_scratch(&g2) - bd_conv2d_scratch(&g1)) -
                         (bd_conv2d_scratch(&g70) - bd_conv2d_scratch(&g69)),
                     partial);
    const int sizes[] = {1, 2, 3, 4, 5, 70};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const int B = sizes[si];
        bd_conv_geom g = geom(B, 2, 6, 5, 3, 3, 1, 1);
        size_t nx = in_n(&g), ny = out_n(&g), nw = (size_t)g.F * g.C * g.K * g.K;
        float *x = malloc(nx * 4), *W = malloc(nw * 4), *dy = malloc(ny * 4);
        float *scr = malloc(bd_conv2d_scratch(&g) * 4);
        float *dx0 = malloc(nx * 4), *dW0 = malloc(nw * 4), *db0 = malloc((size_t)g.F * 4);
        float *dx = malloc(nx * 4), *dW = malloc(nw * 4), *db = malloc((size_t)g.F * 4);
        fill(x, nx, 11, -1, 1), fill(W, nw, 12, -1, 1), fill(dy, ny, 13, -1, 1);
        bd_set_threads(1);
        bd_conv2d_backward(dx0, dW0, db0, dy, x, W, scr, &g);
        for (int t = 2; t <= 7; t++) {
            bd_set_threads(t);
            memset(dW, 0xff, nw * 4); /* NaN: every element must be written */
            memset(db, 0xff, (size_t)g.F * 4);
            bd_conv2d_backward(dx, dW, db, dy, x, W, scr, &g);
            for (size_t i = 0; i < nw; i++)
                assert_close(dW[i], dW0[i], 1e-4);
            for (int f = 0; f < g.F; f++)
                assert_close(db[f], db0[f], 1e-4);
            for (size_t i = 0; i < nx; i++)
                assert_close(dx[i], dx0[i], 1e-5);
        }
        bd_set_threads(1);
        free(x), free(W), free(dy), free(scr), free(dx0), free(dW0), free(db0);
        free(dx), free(dW), free(db);
    }
}

static void conv_geom_errors(void **st)
{
    bd_conv_geom g = {1, 1, 3, 3, 1, 5, 1, 0, 0, 0};
    assert_fails(bd_conv_geom_init(&g, "Conv9"), BD_ERR_SHAPE,
                 "Conv9: kernel 5 larger than input 3x3 + padding 0");
    g = (bd_conv_geom){1, 1, 3, 3, 1, 3, 0, 0, 0, 0};
    assert_fails(bd_conv_geom_init(&g, "Conv9"), BD_ERR_ARG, "stride 0");
    g = (bd_conv_geom){1, 1, 3, 3, 1, 2, 1, 2, 0, 0};
    assert_fails(bd_conv_geom_init(&g, "Conv9"), BD_ERR_ARG, "padding 2 must be smaller");
    /* through a network: the layer's name and its input */
    bd_net *net = NULL;
    assert_ok(bd_net_create(&net, 1, 8, 8));
    assert_ok(bd_net_add_conv(net, 4, 3, 1, 0)); /* 6x6 */
    assert_ok(bd_net_add_pool(net, BD_LAYER_MAXPOOL, 2, 0)); /* 3x3 */
    assert_fails(bd_net_add_conv(net, 4, 5, 1, 0), BD_ERR_SHAPE,
                 "Conv2: kernel 5 larger than input 3x3 + padding 0");
    assert_fails(bd_net_add_pool(net, BD_LAYER_MAXPOOL, 4, 0), BD_ERR_SHAPE, "MaxPool2: kernel 4");
    assert_fails(bd_net_add_conv(net, 0, 3, 1, 0), BD_ERR_ARG, "Conv2: 0 filters");
    assert_fails(bd_net_add_pool(net, BD_LAYER_RELU, 2, 2), BD_ERR_ARG, "not a pooling layer");
    bd_net_free(net);
}

/* ---- pooling */

static void maxpool_known(void **st)
{
    /* 1 sample, 2 channels of 4x4 */
    float x[32];
    for (int i = 0; i < 16; i++)
        x[i] = (float)((i * 7) % 16), x[16 + i] = (float)-i;
    bd_conv_geom g = geom(1, 2, 4, 4, 2, 2, 2, 0);
    float y[8];
    int32_t am[8];
    bd_maxpool_forward(y, am, x, &g);
    /* channel 0: rows 0 7 14 5 / 12 3 10 1 / 8 15 6 13 / 4 11 2 9 */
    const float want[8] = {12, 14, 15, 13, 0, -2, -8, -10};
    const int32_t want_at[8] = {4, 2, 9, 11, 16, 18, 24, 26};
    for (int i = 0; i < 8; i++) {
        assert_close(y[i], want[i], 0);
        assert_int_equal(am[i], want_at[i]);
    }
    float dy[8] = {1, 2, 3, 4, 5, 6, 7, 8}, dx[32];
    bd_maxpool_backward(dx, dy, am, &g);
    float sum = 0;
    for (int i = 0; i < 32; i++)
        sum += dx[i];
    assert_close(sum, 36, 0);
    assert_close(dx[4], 1, 0);
    assert_close(dx[26], 8, 0);
    assert_close(dx[0], 0, 0);
}

/* The general loop (3x3 windows, stride 2, padding 1) against the definition;
 * and the 2x2 fast path against the general loop's tie rule (first wins). */
static void maxpool_general(void **st)
{
    bd_conv_geom g = geom(2, 3, 7, 6, 3, 3, 2, 1);
    float x[2 * 3 * 7 * 6], y[2 * 3 * 4 * 3];
    int32_t am[2 * 3 * 4 * 3];
    fill(x, sizeof x / 4, 9, -1, 1);
    bd_maxpool_forward(y, am, x, &g);
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 3; c++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++) {
                    float m = -INFINITY;
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) {
                            int h = oh * 2 - 1 + i, w = ow * 2 - 1 + j;
                            if (h >= 0 && h < 7 && w >= 0 && w < 6)
                                m = fmaxf(m, x[((n * 3 + c) * 7 + h) * 6 + w]);
                        }
                    int o = ((n * 3 + c) * g.OH + oh) * g.OW + ow;
                    assert_close(y[o], m, 0);
                    assert_close(x[n * 3 * 42 + am[o]], m, 0);
                }
    float t[16] = {5, 5, 1, 2, 5, 5, 3, 3, 0, 1, 9, 9, 1, 0, 9, 9};
    bd_conv_geom g2 = geom(1, 1, 4, 4, 1, 2, 2, 0);
    float y2[4];
    int32_t a2[4];
    bd_maxpool_forward(y2, a2, t, &g2);
    assert_int_equal(a2[0], 0);
    assert_int_equal(a2[1], 6);
    assert_int_equal(a2[2], 9);
    assert_int_equal(a2[3], 10);
}

typedef struct pool_ctx {
    bd_conv_geom g;
    float *x, *y, *R;
} pool_ctx;

static double avgpool_loss(void *ud)
{
    pool_ctx *c = ud;
    bd_avgpool_forward(c->y, c->x, &c->g);
    double L = 0;
    for (size_t i = 0; i < out_n(&c->g); i++)
        L += (double)c->y[i] * c->R[i];
    return L;
}

static void avgpool_values_and_backward(void **st)
{
    const float x[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    bd_conv_geom g = geom(1, 1, 4, 4, 1, 2, 2, 0);
    float y[4];
    bd_avgpool_forward(y, x, &g);
    assert_close(y[0], 3.5, 1e-6);
    assert_close(y[3], 13.5, 1e-6);
    pool_ctx c;
    c.g = geom(2, 2, 5, 6, 2, 3, 2, 1);
    float xs[120], ys[2 * 2 * 3 * 3], R[36], dx[120], num[120];
    c.x = xs, c.y = ys, c.R = R;
    fill(xs, 120, 1, -1, 1);
    fill(R, out_n(&c.g), 2, -1, 1);
    bd_avgpool_backward(dx, R, &c.g);
    bd_numerical_gradient(avgpool_loss, &c, xs, num, 120, 1e-2f, NULL, 0);
    expect_grad(dx, num, 120, 1e-3);
}

/* ---- BatchNorm2d */

static void bn2d_forward_stats(void **st)
{
    const int B = 4, C = 3, HW = 10;
    float x[120], y[120], xh[120], mi[6], g[3] = {1, 2, 1}, be[3] = {0, 0, 5};
    float rm[3] = {0, 0, 0}, rv[3] = {1, 1, 1};
    for (int i = 0; i < 120; i++)
        x[i] = (float)((i * 37) % 11) + (float)((i / HW) % C) * 10; /* channel offsets */
    bd_bn2d_forward(y, xh, mi, x, g, be, rm, rv, 0.9f, 1e-5f, 1, B, C, HW);
    for (int c = 0; c < C; c++) {
        double s = 0, s2 = 0;
        for (int b = 0; b < B; b++)
            for (int p = 0; p < HW; p++) {
                double v = y[(b * C + c) * HW + p];
                s += v, s2 += v * v;
            }
        double m = s / (B * HW), var = s2 / (B * HW) - m * m;
        assert_close(m, be[c], 1e-4);
        assert_close(var, (double)g[c] * g[c], 1e-3);
        /* running averages moved 10% toward the batch's */
        assert_close(rm[c], 0.1 * mi[c], 1e-5);
    }
    /* evaluation uses the running statistics */
    bd_bn2d_forward(y, xh, mi, x, g, be, rm, rv, 0.9f, 1e-5f, 0, B, C, HW);
    assert_close(y[0], g[0] * (x[0] - rm[0]) / sqrtf(rv[0] + 1e-5f) + be[0], 1e-4);
}

typedef struct bn_ctx {
    int B, C, HW, training;
    float *x, *y, *xh, *mi, *g, *be, *rm, *rv, *R;
} bn_ctx;

static double bn2d_loss(void *ud)
{
    bn_ctx *c = ud;
    float rm[8], rv[8];
    memcpy(rm, c->rm, sizeof(float) * c->C);
    memcpy(rv, c->rv, sizeof(float) * c->C);
    bd_bn2d_forward(c->y, c->xh, c->mi, c->x, c->g, c->be, rm, rv, 0.9f, 1e-5f, c->training,
                    c->B, c->C, c->HW);
    double L = 0;
    for (int i = 0; i < c->B * c->C * c->HW; i++)
        L += (double)c->y[i] * c->R[i];
    return L;
}

static void bn2d_backward_numerical(void **st)
{
    for (int training = 0; training <= 1; training++) {
        bn_ctx c = {.B = 3, .C = 2, .HW = 6, .training = training};
        const size_t n = 36;
        float x[36], y[36], xh[36], mi[4], g[2] = {1.5f, 0.7f}, be[2] = {0.1f, -0.2f};
        float rm[2] = {0.3f, -0.1f}, rv[2] = {0.8f, 1.3f}, R[36], dx[36], num[36], dg[2], db[2];
        c.x = x, c.y = y, c.xh = xh, c.mi = mi, c.g = g, c.be = be, c.rm = rm, c.rv = rv, c.R = R;
        fill(x, n, 5, -2, 2);
        fill(R, n, 6, -1, 1);
        bn2d_loss(&c);
        bd_bn2d_backward(dx, dg, db, R, xh, mi, g, training, c.B, c.C, c.HW);
        bd_numerical_gradient(bn2d_loss, &c, x, num, n, 1e-2f, NULL, 0);
        expect_grad(dx, num, n, 5e-3);
        bd_numerical_gradient(bn2d_loss, &c, g, num, 2, 1e-2f, NULL, 0);
        expect_grad(dg, num, 2, 5e-3);
        bd_numerical_gradient(bn2d_loss, &c, be, num, 2, 1e-2f, NULL, 0);
        expect_grad(db, num, 2, 5e-3);
    }
}

/* ---- networks through bd_gradcheck */

typedef enum { NET_CONV_POOL, NET_CONV_BN_AVG, NET_RES_ID, NET_RES_PROJ, NET_GAP } small_net;

static void build_small(bd_net **out, small_net which, int c, int hw, uint64_t seed)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, seed);
    assert_ok(bd_net_create(&net, c, hw, hw));
    switch (which) {
    case NET_CONV_POOL:
        assert_ok(bd_net_add_conv(net, 3, 3, 1, 1));
        assert_ok(bd_net_add_relu(net));
        assert_ok(bd_net_add_pool(net, BD_LAYER_MAXPOOL, 2, 2));
        break;
    case NET_CONV_BN_AVG:
        assert_ok(bd_net_add_conv(net, 3, 3, 2, 1));
        assert_ok(bd_net_add(net, BD_LAYER_BATCHNORM2D, 0));
        assert_ok(bd_net_add(net, BD_LAYER_TANH, 0));
        assert_ok(bd_net_add_pool(net, BD_LAYER_AVGPOOL, 2, 1));
        assert_ok(bd_net_add(net, BD_LAYER_FLATTEN, 0));
        break;
    case NET_RES_ID:
        assert_ok(bd_net_add_conv(net, 2, 3, 1, 1));
        assert_ok(bd_net_add_resblock(net, 2, 1));
        assert_ok(bd_net_add(net, BD_LAYER_GAP, 0));
        break;
    case NET_RES_PROJ:
        assert_ok(bd_net_add_conv(net, 2, 3, 1, 1));
        assert_ok(bd_net_add_resblock(net, 3, 2));
        assert_ok(bd_net_add(net, BD_LAYER_GAP, 0));
        break;
    case NET_GAP:
        assert_ok(bd_net_add_conv(net, 4, 3, 1, 0));
        assert_ok(bd_net_add(net, BD_LAYER_SIGMOID, 0));
        assert_ok(bd_net_add(net, BD_LAYER_GAP, 0));
        break;
    }
    assert_ok(bd_net_add_affine(net, 4));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    *out = net;
}

/* Returns the check's status; worst relative difference in *worst. */
static bd_status check_small(small_net which, int training, bd_layer_kind broken, double *worst)
{
    /* few activations: with many, almost every step switches some ReLU
     * (or a pool's pick), and such steps are skipped */
    bd_net *net = NULL;
    const int res = which == NET_RES_ID || which == NET_RES_PROJ;
    int c = which == NET_CONV_BN_AVG ? 2 : 1, hw = res ? 4 : 5, B = res ? 2 : 4;
    build_small(&net, which, c, hw, 7);
    bd_tensor x, y;
    random_batch_range(&x, &y, B, c * hw * hw, 4, -1, 1, 3);
    bd_net_set_training(net, training);
    bd_gradcheck_config gc;
    bd_gradcheck_config_default(&gc);
    gc.max_entries = 80;
    bd_gradcheck_row rows[16];
    int nr = 0;
    if ((int)broken >= 0)
        bd__debug_break_backward(net, broken, 1);
    bd_status s = bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, &gc, rows, &nr);
    if ((int)broken >= 0)
        bd__debug_break_backward(net, broken, 0);
    *worst = 0;
    size_t checked = 0;
    for (int i = 0; i < nr; i++) {
        *worst = fmax(*worst, rows[i].max_rel);
        checked += rows[i].checked;
    }
    assert_true(checked > 20); /* the check looked at something */
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
    return s;
}

static void expect_pass(small_net which, int training)
{
    double worst;
    bd_status s = check_small(which, training, (bd_layer_kind)-1, &worst);
    if (s != BD_OK)
        fail_msg("net %d (training %d): %s", which, training, bd_errmsg());
}

static void expect_caught(small_net which, bd_layer_kind broken)
{
    double worst;
    bd_status s = check_small(which, 1, broken, &worst);
    assert_int_equal(s, BD_ERR_CHECK);
    assert_true(worst >= 0.05);
}

static void gradcheck_conv_pool(void **st) { expect_pass(NET_CONV_POOL, 1); }
static void gradcheck_conv_bn_avg(void **st)
{
    expect_pass(NET_CONV_BN_AVG, 1);
    expect_pass(NET_CONV_BN_AVG, 0);
}
static void gradcheck_resblock_identity(void **st)
{
    expect_pass(NET_RES_ID, 1);
    expect_pass(NET_RES_ID, 0);
}
static void gradcheck_resblock_projection(void **st)
{
    expect_pass(NET_RES_PROJ, 1);
    expect_pass(NET_RES_PROJ, 0);
}
static void gradcheck_gap(void **st) { expect_pass(NET_GAP, 1); }

static void broken_backwards_caught(void **st)
{
    expect_caught(NET_CONV_POOL, BD_LAYER_CONV2D);
    /* the ReLU after the conv is fused into it (its own backward never
     * runs): the break still reaches the gradient it passes on */
    expect_caught(NET_CONV_POOL, BD_LAYER_RELU);
    expect_caught(NET_CONV_POOL, BD_LAYER_MAXPOOL);
    expect_caught(NET_CONV_BN_AVG, BD_LAYER_BATCHNORM2D);
    expect_caught(NET_CONV_BN_AVG, BD_LAYER_AVGPOOL);
    expect_caught(NET_CONV_BN_AVG, BD_LAYER_FLATTEN);
    expect_caught(NET_RES_ID, BD_LAYER_RESBLOCK);
    expect_caught(NET_RES_PROJ, BD_LAYER_RESBLOCK);
    expect_caught(NET_GAP, BD_LAYER_GAP);
}

/* ---- the presets */

static void presets_shapes(void **st)
{
    bd_rng r;
    bd_rng_seed(&r, 1);
    bd_net *net = NULL;
    /* SimpleConvNet: conv 30x(1*5*5)+30, Affine 4320x100+100, Affine 100x10+10 */
    assert_ok(bd_net_simple_convnet(&net, 1, 28, 28, 10, &r));
    assert_int_equal(bd_net_param_count(net), 780 + 432100 + 1010);
    assert_int_equal(net->layers[0].out_h, 24);
    assert_int_equal(net->layers[2].out_size, 30 * 12 * 12);
    bd_net_free(net);
    /* DeepConvNet: 28 -> pool 14 -> (pad 2) 16 -> pool 8 -> pool 4: 64*4*4 */
    assert_ok(bd_net_deep_convnet(&net, 1, 28, 28, 10, &r));
    assert_int_equal(bd_net_param_count(net),
                     160 + 2320 + 4640 + 9248 + 18496 + 36928 + 51250 + 510);
    bd_layer *a = bd_net_layer(net, "Affine1");
    assert_non_null(a);
    assert_int_equal(a->in_size, 64 * 4 * 4);
    assert_non_null(bd_net_layer(net, "Dropout1"));
    bd_net_free(net);
    /* the ResNet ends 64 channels at 7x7 -> global average -> 10 */
    assert_ok(bd_net_resnet(&net, 1, 28, 28, 10, &r));
    a = bd_net_layer(net, "Affine1");
    assert_non_null(a);
    assert_int_equal(a->in_size, 64);
    bd_layer *last_res = bd_net_layer(net, "ResBlock6");
    assert_non_null(last_res);
    assert_int_equal(last_res->out_h, 7);
    bd_net_free(net);
    /* too small an input is an error naming the layer */
    assert_fails(bd_net_simple_convnet(&net, 1, 4, 4, 10, &r), BD_ERR_SHAPE,
                 "simple_convnet for 1x4x4 input: Conv1: kernel 5 larger than input 4x4");
}

/* A tiny conv net learns a task only a spatial model gets right quickly:
 * is the bright bar horizontal or vertical? */
static void conv_learns_bars(void **st)
{
    const int N = 400, S = 8;
    bd_dataset ds;
    memset(&ds, 0, sizeof ds);
    int xs[4] = {N, 1, S, S}, ys[1] = {N};
    assert_ok(bd_tensor_alloc(&ds.x, BD_F32, 4, xs));
    assert_ok(bd_tensor_alloc(&ds.y, BD_I32, 1, ys));
    ds.n = N, ds.c = 1, ds.h = S, ds.w = S, ds.nclasses = 2, ds.scale = 1;
    bd_rng r;
    bd_rng_seed(&r, 5);
    for (int i = 0; i < N; i++) {
        float *img = bd_f32(&ds.x) + (size_t)i * S * S;
        int label = (int)bd_rng_below(&r, 2), pos = (int)bd_rng_below(&r, S);
        for (int p = 0; p < S * S; p++)
            img[p] = 0.3f * bd_rng_uniform(&r);
        for (int k = 0; k < S; k++)
            img[label ? k * S + pos : pos * S + k] += 1.0f;
        bd_i32(&ds.y)[i] = label;
    }
    bd_net *net = NULL;
    bd_rng_seed(&r, 6);
    assert_ok(bd_net_create(&net, 1, S, S));
    assert_ok(bd_net_add_conv(net, 4, 3, 1, 1));
    assert_ok(bd_net_add_relu(net));
    assert_ok(bd_net_add_pool(net, BD_LAYER_MAXPOOL, 2, 2));
    assert_ok(bd_net_add_affine(net, 2));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    bd_optim *opt = NULL;
    assert_ok(bd_optim_create(&opt, "adam", &(bd_optim_config){.lr = 0.01f}, net));
    bd_train_config tc;
    bd_train_config_default(&tc);
    tc.batch = 20;
    tc.epochs = 10;
    bd_train_result res;
    assert_ok(bd_train(net, opt, &ds, &ds, &tc, &res));
    assert_true(res.test_acc >= 0.97f);
    bd_optim_free(opt);
    bd_net_free(net);
    bd_dataset_free(&ds);
}

/* Training is reproducible for a thread count (two runs give the same
 * weights, bit for bit), and with 1 and 2 threads the weights agree closely
 * (the pool splits the products differently, so the last bits may differ). */
static void train_small_as(int threads, int fuse, float **w, size_t *n)
{
    bd_set_threads(threads);
    bd_net *net = NULL;
    build_small(&net, NET_CONV_POOL, 1, 8, 3);
    assert_int_equal(net->layers[1].fused, 1); /* Conv-ReLU: fused by bd_net_build */
    assert_int_equal(net->layers[0].relu_after, 1);
    if (!fuse) {
        bd__net_unfuse(net);
        assert_int_equal(net->layers[1].fused, 0);
        assert_int_equal(net->layers[0].relu_after, 0);
    }
    bd_tensor x, y;
    random_batch_range(&x, &y, 40, 64, 4, -1, 1, 9);
    bd_optim *opt = NULL;
    assert_ok(bd_optim_create(&opt, "adam", NULL, net));
    assert_ok(bd_net_reserve(net, 40));
    for (int it = 0; it < 5; it++) {
        assert_ok(bd_net_gradient(net, &x, (bd_labels){bd_i32(&y), NULL}, NULL));
        bd_optim_step(opt, net);
    }
    *n = net->params.size;
    *w = malloc(*n * sizeof(float));
    memcpy(*w, net->params.data, *n * sizeof(float));
    bd_optim_free(opt);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

static void train_small(int threads, float **w, size_t *n) { train_small_as(threads, 1, w, n); }

/* Work posted right after the pool is resized must run on the new workers
 * (a worker that started late once missed it and the call never returned). */
static void pool_resize_then_work(void **st)
{
    bd_conv_geom g = geom(4, 2, 6, 6, 3, 3, 1, 1);
    float x[4 * 2 * 36], W[3 * 2 * 9], y[4 * 3 * 36], yr[4 * 3 * 36];
    float *scr = malloc(bd_conv2d_scratch(&g) * sizeof(float));
    fill(x, sizeof x / 4, 1, -1, 1);
    fill(W, sizeof W / 4, 2, -1, 1);
    conv_direct(yr, x, W, NULL, &g);
    for (int round = 0; round < 200; round++) {
        bd_set_threads(1 + round % 2);
        bd_conv2d_forward(y, x, W, NULL, scr, &g);
        for (size_t i = 0; i < sizeof y / 4; i++)
            assert_close(y[i], yr[i], 1e-5);
    }
    bd_set_threads(1);
    free(scr);
}

static void threads_reproducible(void **st)
{
    float *a, *b, *c;
    size_t n;
    train_small(2, &a, &n);
    train_small(2, &b, &n);
    train_small(1, &c, &n);
    bd_set_threads(1);
    assert_memory_equal(a, b, n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        assert_close(a[i], c[i], 1e-4);
    free(a);
    free(b);
    free(c);
}

/* A ReLU fused into the Conv2d before it computes exactly what the two
 * layers compute apart: the same weights after training, bit for bit, with
 * one thread and with two. */
static void relu_fusion_same_numbers(void **st)
{
    for (int threads = 1; threads <= 2; threads++) {
        float *fused, *apart;
        size_t n;
        train_small_as(threads, 1, &fused, &n);
        train_small_as(threads, 0, &apart, &n);
        assert_memory_equal(fused, apart, n * sizeof(float));
        free(fused);
        free(apart);
    }
    bd_set_threads(1);
}

int main(void)
{
    bd_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(im2col_known),
        cmocka_unit_test(col2im_adjoint),
        cmocka_unit_test(conv_matches_direct),
        cmocka_unit_test(conv_backward_numerical),
        cmocka_unit_test(conv_backward_any_split),
        cmocka_unit_test(conv_geom_errors),
        cmocka_unit_test(maxpool_known),
        cmocka_unit_test(maxpool_general),
        cmocka_unit_test(avgpool_values_and_backward),
        cmocka_unit_test(bn2d_forward_stats),
        cmocka_unit_test(bn2d_backward_numerical),
        cmocka_unit_test(gradcheck_conv_pool),
        cmocka_unit_test(gradcheck_conv_bn_avg),
        cmocka_unit_test(gradcheck_resblock_identity),
        cmocka_unit_test(gradcheck_resblock_projection),
        cmocka_unit_test(gradcheck_gap),
        cmocka_unit_test(broken_backwards_caught),
        cmocka_unit_test(presets_shapes),
        cmocka_unit_test(conv_learns_bars),
        cmocka_unit_test(threads_reproducible),
        cmocka_unit_test(relu_fusion_same_numbers),
        cmocka_unit_test(pool_resize_then_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
