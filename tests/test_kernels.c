/* test_kernels.c — the fast kernels against the reference ones (the
 * book's im2col + GEMM): forward and backward of Conv2d, with and without
 * the fused ReLU, on odd shapes (batch 1 and 7, channels 1/3/17, kernels
 * 1/3/5, stride 2, padding), on 1 and 2 threads; the max-pool fused into a
 * conv + ReLU (conv_pool.c) against the unfused layers, bit for bit, its
 * AVX-512 and portable copies against each other, bit for bit, and both
 * against the reference kernels; gradient checks of networks whose
 * convolutions take the fast paths; Adam's update split over the threads
 * against the serial one, bit for bit; the AVX-512 bordered copy against
 * the portable one; the Affine forward's sparse rows and sparse dW against
 * a plain sum and the GEMM. */
#include "testutil.h"
#include "internal.h"

#include <cblas.h>

static void fill(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    bd_rng r;
    bd_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * bd_rng_uniform(&r);
}

static void assert_near(const float *a, const float *b, size_t n, double tol, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)a[i] - b[i]) <= tol * (1.0 + fabs((double)b[i]))))
            fail_msg("%s[%zu] = %.9g, reference %.9g", what, i, a[i], b[i]);
}

typedef struct run {
    float *y, *dx, *dW, *db;
} run;

/* forward + backward of one conv under the current kernels */
static void conv_run(run *r, const bd_conv_geom *g, const float *x, const float *W,
                     const float *b, const float *dy, int relu, int need_dx)
{
    const size_t ny = (size_t)g->B * g->F * g->OH * g->OW, nx = (size_t)g->B * g->C * g->H * g->W;
    const size_t nw = (size_t)g->F * g->C * g->K * g->K;
    float *scr = malloc(bd_conv2d_scratch(g) * sizeof(float));
    r->y = malloc(ny * sizeof(float));
    r->dx = need_dx ? malloc(nx * sizeof(float)) : NULL;
    r->dW = malloc(nw * sizeof(float));
    r->db = malloc((size_t)g->F * sizeof(float));
    bd__conv2d_forward(r->y, x, W, b, scr, g, relu, NULL, 1);
    bd__conv2d_backward(r->dx, r->dW, r->db, dy, x, W, relu ? r->y : NULL, scr, g, NULL, 1);
    free(scr);
}

static void run_free(run *r)
{
    free(r->y);
    free(r->dx);
    free(r->dW);
    free(r->db);
}

/* one shape: fast == reference to rounding, fast reproducible bit for bit */
static void compare(int B, int C, int H, int W, int F, int K, int S, int P, int relu)
{
    bd_conv_geom g = {.B = B, .C = C, .H = H, .W = W, .F = F, .K = K, .S = S, .P = P};
    assert_ok(bd_conv_geom_init(&g, "test"));
    const size_t ny = (size_t)B * F * g.OH * g.OW, nx = (size_t)B * C * H * W;
    const size_t nw = (size_t)F * C * K * K;
    float *x = malloc(nx * sizeof(float)), *Wt = malloc(nw * sizeof(float));
    float *b = malloc((size_t)F * sizeof(float)), *dy = malloc(ny * sizeof(float));
    fill(x, nx, 1, -1, 1);
    fill(Wt, nw, 2, -0.5f, 0.5f);
    fill(b, (size_t)F, 3, -0.2f, 0.2f);
    fill(dy, ny, 4, -1, 1);
    for (int threads = 1; threads <= 2; threads++) {
        bd_set_threads(threads);
        run ref, fast, again, port;
        assert_ok(bd_set_kernels("reference"));
        conv_run(&ref, &g, x, Wt, b, dy, relu, 1);
        assert_ok(bd_set_kernels("portable")); /* the wide kernels, no intrinsics */
        conv_run(&port, &g, x, Wt, b, dy, relu, 1);
        assert_ok(bd_set_kernels("fast")); /* padded: the direct kernels with AVX-512 */
        conv_run(&fast, &g, x, Wt, b, dy, relu, 1);
        conv_run(&again, &g, x, Wt, b, dy, relu, 0); /* the first layer: no dx */
        assert_near(fast.y, ref.y, ny, 1e-5, "y");
        assert_near(fast.dx, ref.dx, nx, 1e-5, "dx");
        assert_near(fast.dW, ref.dW, nw, 1e-4, "dW");
        assert_near(fast.db, ref.db, (size_t)F, 1e-4, "db");
        assert_near(port.y, ref.y, ny, 1e-5, "portable y");
        assert_near(port.dx, ref.dx, nx, 1e-5, "portable dx");
        assert_near(port.dW, ref.dW, nw, 1e-4, "portable dW");
        assert_near(port.db, ref.db, (size_t)F, 1e-4, "portable db");
        run_free(&port);
        assert_memory_equal(fast.y, again.y, ny * sizeof(float));
        assert_memory_equal(fast.dW, again.dW, nw * sizeof(float));
        assert_memory_equal(fast.db, again.db, (size_t)F * sizeof(float));
        run_free(&ref);
        run_free(&fast);
        run_free(&again);
    }
    bd_set_threads(1);
    free(x);
    free(Wt);
    free(b);
    free(dy);
}

static void conv_fast_equals_reference(void **st)
{
    static const int shapes[][8] = {
        /* B  C   H   W  F  K  S  P   (the fast path: S 1, K > 1 or P > 0) */
        {1, 1, 28, 28, 16, 5, 1, 0},
        {7, 1, 28, 28, 6, 5, 1, 0},
        {7, 3, 9, 11, 5, 3, 1, 0},
        {1, 17, 7, 6, 4, 3, 1, 0},
        {7, 17, 8, 8, 3, 5, 1, 0},
        {2, 3, 5, 5, 2, 5, 1, 0},   /* a 1x1 output */
        /* padded, stride 1: the wide kernels on a zero-bordered copy */
        {7, 3, 8, 8, 4, 3, 1, 1},
        {1, 1, 28, 28, 16, 5, 1, 2},
        {7, 3, 9, 11, 5, 3, 1, 1},
        {1, 17, 7, 6, 4, 3, 1, 2},  /* pad 2 on a 3x3 kernel: 9x8 out */
        {7, 17, 8, 8, 3, 5, 1, 2},
        {7, 3, 6, 6, 4, 5, 1, 1},   /* 4x4 out, smaller than the input */
        {2, 3, 5, 5, 2, 5, 1, 4},   /* 9x9 out, mostly border */
        {7, 1, 32, 32, 17, 5, 1, 2},
        {7, 3, 9, 9, 4, 2, 1, 1},   /* kernels 2 and 7: the dW stays a product */
        {1, 3, 12, 12, 5, 7, 1, 3},
        /* 32 and more channels out (the forward's F, dx's C): the filters
         * in the vector, rows in tiles of 7, 4, 2 and 1 positions, 32
         * filters a tile and the last 16 alone (48) */
        {3, 16, 7, 15, 48, 3, 1, 1}, /* rows of 15: 7 + 7 + 1 */
        {2, 48, 6, 13, 32, 3, 1, 1}, /* dx 48 channels; rows of 13: 7 + 4 + 2 */
        {1, 64, 7, 7, 64, 3, 1, 1},  /* resnet's last blocks */
        {2, 32, 9, 10, 32, 3, 1, 0}, /* unpadded, rows of 8 */
        {1, 32, 8, 8, 32, 5, 1, 2},
        {3, 8, 28, 28, 32, 3, 1, 1}, /* dW in groups of 2 samples: 2 + 1, added */
        {33, 16, 7, 7, 16, 3, 1, 1}, /* Winograd's dW in groups of 16: 16 + 16 (+ 1 direct), added */
        /* stride 2 with 32 or more filters: the forward with the filters
         * in the vector (resnet's stride-2 3x3), the backward the
         * reference's; 1x1 ones stay products */
        {3, 16, 14, 14, 32, 3, 2, 1},
        {2, 16, 13, 13, 32, 1, 2, 0},
        {1, 32, 9, 11, 48, 3, 2, 1},
        {2, 17, 6, 7, 32, 1, 1, 0},
        {1, 3, 11, 11, 64, 5, 3, 2},
        {2, 64, 8, 8, 128, 3, 2, 1}, /* resnet18's at 8x8: 4x4 and 2x2 out */
        {1, 128, 4, 4, 256, 3, 2, 1},
        /* the reference path under both (stride 2, kernel 1) */
        {7, 3, 9, 9, 4, 3, 2, 1},
        {1, 17, 6, 7, 5, 1, 1, 0},
        {7, 1, 10, 10, 3, 5, 2, 2},
        {1, 3, 9, 8, 4, 1, 2, 0},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int relu = 0; relu <= 1; relu++) {
            const int *s = shapes[i];
            compare(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], relu);
        }
}

static void kernels_named(void **st)
{
    assert_ok(bd_set_kernels("reference"));
    assert_string_equal(bd_kernels(), "reference");
    assert_ok(bd_set_kernels("FAST"));
    assert_string_equal(bd_kernels(), "fast");
    assert_ok(bd_set_kernels("Portable"));
    assert_string_equal(bd_kernels(), "portable");
    assert_int_equal(bd_set_kernels("quick"), BD_ERR_ARG);
    assert_non_null(strstr(bd_errmsg(), "unknown kernels 'quick'"));
    assert_string_equal(bd_kernels(), "portable");
    assert_ok(bd_set_kernels("fast"));
}

/* conv(3, K1, pad P1) - tanh - conv(2, K2, pad P2) - sigmoid - affine 3
 * through the gradient check, the convs' backward broken if `broken` */
static bd_status two_convs_check(int K1, int P1, int K2, int P2, int broken)
{
    assert_ok(bd_set_kernels("fast"));
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 5);
    assert_ok(bd_net_create(&net, 2, 7, 8));
    assert_ok(bd_net_add_conv(net, 3, K1, 1, P1));
    assert_ok(bd_net_add(net, BD_LAYER_TANH, 0));
    assert_ok(bd_net_add_conv(net, 2, K2, 1, P2));
    assert_ok(bd_net_add(net, BD_LAYER_SIGMOID, 0));
    assert_ok(bd_net_add_affine(net, 3));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    const int B = 3, D = 2 * 7 * 8;
    int xs[2] = {B, D}, ys[1] = {B};
    bd_tensor x, y;
    assert_ok(bd_tensor_alloc(&x, BD_F32, 2, xs));
    assert_ok(bd_tensor_alloc(&y, BD_I32, 1, ys));
    fill(bd_f32(&x), (size_t)B * D, 9, -1, 1);
    for (int i = 0; i < B; i++)
        bd_i32(&y)[i] = i % 3;
    bd_gradcheck_config gc;
    bd_gradcheck_config_default(&gc);
    gc.max_entries = 60;
    bd_gradcheck_row rows[8];
    int nr = 0;
    if (broken)
        bd__debug_break_backward(net, BD_LAYER_CONV2D, 1);
    bd_status s = bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, &gc, rows, &nr);
    size_t checked = 0;
    for (int i = 0; i < nr; i++)
        checked += rows[i].checked;
    assert_true(checked > 20);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
    return s;
}

/* A net of two fast-path convolutions (the second needs its dx) passes the
 * gradient check under the fast kernels: unpadded, padded ("same" 3x3 pad
 * 1, then 5x5 pad 2), and padded more than "same" (3x3 pad 2). */
static void gradcheck_fast_convs(void **st)
{
    static const int conf[][4] = {{3, 0, 3, 0}, {3, 1, 5, 2}, {3, 2, 3, 2}}; /* K1 P1 K2 P2 */
    for (size_t i = 0; i < sizeof conf / sizeof conf[0]; i++) {
        const int *c = conf[i];
        bd_status s = two_convs_check(c[0], c[1], c[2], c[3], 0);
        if (s != BD_OK)
            fail_msg("K %d P %d, K %d P %d: %s", c[0], c[1], c[2], c[3], bd_errmsg());
        s = two_convs_check(c[0], c[1], c[2], c[3], 1); /* the check can fail */
        if (s != BD_ERR_CHECK || !strstr(bd_errmsg(), "differs"))
            fail_msg("K %d P %d, K %d P %d: broken conv not caught (%d): %s", c[0], c[1], c[2],
                     c[3], (int)s, bd_errmsg());
    }
}

/* conv(F, K, pad P) - ReLU - maxpool 2x2 - affine 3 on C x H x W inputs */
static void pooled_net(bd_net **out, int C, int H, int W, int F, int K, int P)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 11);
    assert_ok(bd_net_create(&net, C, H, W));
    assert_ok(bd_net_add_conv(net, F, K, 1, P));
    assert_ok(bd_net_add_relu(net));
    assert_ok(bd_net_add_pool(net, BD_LAYER_MAXPOOL, 2, 2));
    assert_ok(bd_net_add_affine(net, 3));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    *out = net;
}

typedef struct pooled_run {
    float *logits, *grads, *pooled;
    int32_t *am;
    size_t nl, ng, np;
} pooled_run;

/* one forward + backward of a fresh pooled_net (the same weights every
 * time) under the current kernels, the pool fused into the conv unless
 * `unfused` (bd__debug_unfuse_pool) */
static void pooled_gradient(pooled_run *o, int unfused, int B, int C, int H, int W, int F, int K,
                            int P)
{
    bd_net *net = NULL;
    pooled_net(&net, C, H, W, F, K, P);
    bd__debug_unfuse_pool(net, unfused);
    const int D = C * H * W;
    assert_ok(bd_net_reserve(net, B));
    int xs[2] = {B, D}, ys[1] = {B};
    bd_tensor x, y;
    assert_ok(bd_tensor_alloc(&x, BD_F32, 2, xs));
    assert_ok(bd_tensor_alloc(&y, BD_I32, 1, ys));
    fill(bd_f32(&x), (size_t)B * D, 21, -1, 1);
    for (int i = 0; i < B; i++)
        bd_i32(&y)[i] = i % 3;
    float loss;
    assert_ok(bd_net_gradient(net, &x, (bd_labels){bd_i32(&y), NULL}, &loss));
    const bd_layer *pl = &net->layers[2];
    o->nl = (size_t)B * 3;
    o->ng = net->grads.size;
    o->np = (size_t)B * pl->out_size;
    o->logits = malloc(o->nl * sizeof(float));
    o->grads = malloc(o->ng * sizeof(float));
    o->pooled = malloc(o->np * sizeof(float));
    o->am = malloc(o->np * sizeof(int32_t));
    memcpy(o->logits, bd_f32(&net->layers[3].out), o->nl * sizeof(float));
    memcpy(o->grads, bd_f32(&net->grads), o->ng * sizeof(float));
    memcpy(o->pooled, bd_f32(&pl->out), o->np * sizeof(float));
    memcpy(o->am, pl->aux.data, o->np * sizeof(int32_t));
    /* whether the conv did the pool is what the test is about */
    assert_int_equal(bd__conv_pooled(&net->layers[0]) != NULL,
                     !unfused && !bd__kernels_reference() && (K > 1 || P > 0));
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
}

static void pooled_free(pooled_run *o)
{
    free(o->logits);
    free(o->grads);
    free(o->pooled);
    free(o->am);
}

static void pooled_equal(const pooled_run *a, const pooled_run *b)
{
    assert_memory_equal(a->logits, b->logits, a->nl * sizeof(float));
    assert_memory_equal(a->grads, b->grads, a->ng * sizeof(float));
    assert_memory_equal(a->pooled, b->pooled, a->np * sizeof(float));
    assert_memory_equal(a->am, b->am, a->np * sizeof(int32_t));
}

/* The fused conv + ReLU + max-pool gives the unfused layers' numbers bit
 * for bit (fast kernels, 1 and 2 threads), its AVX-512 copy the portable
 * one's where the CPU has no AVX-512 or the kernel is 1x1 (else the convs
 * run the direct kernels under "fast", whose sums differ from the
 * products' in rounding), and both the
 * reference kernels' to rounding (measured: every
 * |fused - ref| under 3e-7 (1 + |ref|), one above 1e-7; the limit is 1e-4). Odd shapes: odd conv outputs (a row and
 * a column in no window), more than 32 columns (two chunks of the AVX-512
 * loop), kernel 1 (not fused: the wide kernels do not apply), padded
 * convolutions (the wide kernels on a zero-bordered copy). */
static void pool_fused_equals_unfused(void **st)
{
    static const int shapes[][7] = {
        /* B  C   H   W   F  K  P */
        {1, 1, 28, 28, 16, 5, 0},
        {7, 1, 28, 28, 6, 5, 0},
        {7, 3, 9, 11, 5, 3, 0},  /* 7x9: odd rows and columns */
        {1, 17, 8, 7, 4, 3, 0},
        {7, 17, 9, 9, 3, 5, 0},  /* 5x5 */
        {2, 3, 40, 70, 2, 3, 0}, /* 38x68: 34 windows a row */
        {7, 3, 6, 6, 4, 1, 0},   /* kernel 1: unfused */
        {7, 3, 9, 11, 5, 3, 1},  /* 9x11 */
        {1, 17, 14, 14, 4, 3, 2}, /* 16x16 (deep_convnet's conv4) */
        {7, 1, 12, 9, 3, 5, 2},  /* 12x9 */
        {2, 3, 40, 70, 2, 3, 1}, /* 40x70 */
        {2, 3, 6, 34, 2, 3, 0},  /* 4x32: 16 windows a row, one whole chunk */
        {1, 2, 5, 35, 3, 3, 0},  /* 3x33: 16 windows and an odd column */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *s = shapes[i];
        for (int threads = 1; threads <= 2; threads++) {
            bd_set_threads(threads);
            pooled_run fused, unfused, portable, ref;
            assert_ok(bd_set_kernels("fast"));
            pooled_gradient(&fused, 0, s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
            pooled_gradient(&unfused, 1, s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
            assert_ok(bd_set_kernels("portable"));
            pooled_gradient(&portable, 0, s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
            assert_ok(bd_set_kernels("reference"));
            pooled_gradient(&ref, 0, s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
            assert_ok(bd_set_kernels("fast"));
            pooled_equal(&fused, &unfused);
            if (!bd__conv_direct_isa() || s[5] == 1) {
                pooled_equal(&fused, &portable);
            } else { /* with AVX-512 the direct kernels' sums (conv_direct.c) */
                assert_near(fused.logits, portable.logits, fused.nl, 1e-4, "portable logits");
                assert_near(fused.grads, portable.grads, fused.ng, 1e-4, "portable grads");
                assert_near(fused.pooled, portable.pooled, fused.np, 1e-4, "portable pooled");
            }
            assert_near(fused.logits, ref.logits, fused.nl, 1e-4, "logits");
            assert_near(fused.grads, ref.grads, fused.ng, 1e-4, "grads");
            assert_near(fused.pooled, ref.pooled, fused.np, 1e-4, "pooled");
            pooled_free(&fused);
            pooled_free(&unfused);
            pooled_free(&portable);
            pooled_free(&ref);
        }
    }
    bd_set_threads(1);
}

/* conv - ReLU - pool - conv - ReLU - pool - affine, both pools fused into
 * their convs (the second needs its dx), the convs padded by P, through
 * the gradient check with kind `broken`'s backward deliberately broken
 * (-1: none) */
static bd_status fused_pools_check(int broken, int P)
{
    assert_ok(bd_set_kernels("fast"));
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, 7);
    assert_ok(bd_net_create(&net, 2, 14, 13));
    assert_ok(bd_net_add_conv(net, 3, 3, 1, P));
    assert_ok(bd_net_add_relu(net));
    assert_ok(bd_net_add_pool(net, BD_LAYER_MAXPOOL, 2, 2));
    assert_ok(bd_net_add_conv(net, 4, 3, 1, P));
    assert_ok(bd_net_add_relu(net));
    assert_ok(bd_net_add_pool(net, BD_LAYER_MAXPOOL, 2, 2));
    assert_ok(bd_net_add_affine(net, 3));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    const int B = 3, D = 2 * 14 * 13;
    int xs[2] = {B, D}, ys[1] = {B};
    bd_tensor x, y;
    assert_ok(bd_tensor_alloc(&x, BD_F32, 2, xs));
    assert_ok(bd_tensor_alloc(&y, BD_I32, 1, ys));
    fill(bd_f32(&x), (size_t)B * D, 9, -1, 1);
    for (int i = 0; i < B; i++)
        bd_i32(&y)[i] = i % 3;
    bd_gradcheck_config gc;
    bd_gradcheck_config_default(&gc);
    gc.max_entries = 60;
    bd_gradcheck_row rows[8];
    int nr = 0;
    if (broken >= 0)
        bd__debug_break_backward(net, (bd_layer_kind)broken, 1);
    bd_status s = bd_gradcheck(net, &x, (bd_labels){bd_i32(&y), NULL}, &gc, rows, &nr);
    /* both pools were fused (the check ran the fused kernels) */
    assert_ptr_equal(bd__conv_pooled(&net->layers[0]), &net->layers[2]);
    assert_ptr_equal(bd__conv_pooled(&net->layers[3]), &net->layers[5]);
    size_t checked = 0;
    for (int i = 0; i < nr; i++)
        checked += rows[i].checked;
    assert_true(checked > 20);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(net);
    return s;
}

static void gradcheck_fused_pools(void **st)
{
    for (int P = 0; P <= 2; P++) {
        bd_status s = fused_pools_check(-1, P);
        if (s != BD_OK)
            fail_msg("pad %d: %s", P, bd_errmsg());
    }
}

/* a deliberately broken backward of the conv, the fused ReLU or the fused
 * max-pool is caught: the breaks reach the gradient the fused kernels use */
static void fused_breaks_caught(void **st)
{
    static const bd_layer_kind kinds[] = {BD_LAYER_CONV2D, BD_LAYER_RELU, BD_LAYER_MAXPOOL};
    for (int P = 0; P <= 1; P++)
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            bd_status s = fused_pools_check(kinds[i], P);
            if (s != BD_ERR_CHECK || !strstr(bd_errmsg(), "differs"))
                fail_msg("pad %d: broken %d not caught (%d): %s", P, (int)kinds[i], (int)s,
                         bd_errmsg());
        }
}

/* Adam's update split over the threads (optim.c: chunks of 8192
 * parameters) gives the serial update's bits: 3 steps of a net with
 * 5 chunks and a partial one, on 1 and 2 threads */
static void adam_split_same_bits(void **st)
{
    float *after[2];
    size_t n = 0;
    for (int threads = 1; threads <= 2; threads++) {
        bd_set_threads(threads);
        bd_net *net = NULL;
        bd_rng r;
        bd_rng_seed(&r, 3);
        assert_ok(bd_net_create(&net, 1, 1, 300));
        assert_ok(bd_net_add_affine(net, 150));
        assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
        n = net->params.size; /* 300 * 150 + 150 = 45150 */
        assert_true(n > 5 * 8192 && n % 8192 != 0);
        bd_optim *o = NULL;
        assert_ok(bd_optim_create(&o, "adam", NULL, net));
        for (int step = 0; step < 3; step++) {
            fill(bd_f32(&net->grads), n, 40 + (uint64_t)step, -1, 1);
            assert_ok(bd_optim_step(o, net));
        }
        after[threads - 1] = malloc(n * sizeof(float));
        memcpy(after[threads - 1], bd_f32(&net->params), n * sizeof(float));
        bd_optim_free(o);
        bd_net_free(net);
    }
    assert_memory_equal(after[0], after[1], n * sizeof(float));
    free(after[0]);
    free(after[1]);
    bd_set_threads(1);
}

/* The bordered copy (conv_wide.c pad_copy) under the fast kernels (AVX-512
 * where the CPU has it) against the portable one, bit for bit: borders of
 * 1 to 20 (past one vector: the chunk where the row starts is not the
 * first), rows of 1 to 33 floats, 1 and 5 channels */
static void pad_copy_fast_equals_portable(void **st)
{
    (void)st;
    static const int shapes[][4] = {
        /* C  H   W   P */
        {1, 1, 1, 1}, {5, 7, 7, 1}, {3, 28, 28, 2}, {2, 4, 13, 3},  {1, 3, 33, 15},
        {2, 5, 16, 16}, {1, 2, 3, 17}, {2, 3, 30, 20}, {5, 14, 14, 1}, {1, 6, 17, 4},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int C = shapes[i][0], H = shapes[i][1], W = shapes[i][2], P = shapes[i][3];
        const bd_conv_geom g = {1, C, H, W, 1, P + 1, 1, P, H + P, W + P}; /* K = P + 1 */
        const size_t in = (size_t)C * H * W, out = (size_t)C * (H + 2 * P) * (W + 2 * P);
        float *x = malloc(in * sizeof *x), *a = malloc(out * sizeof *a);
        float *b = malloc(out * sizeof *b);
        assert_non_null(x);
        assert_non_null(a);
        assert_non_null(b);
        fill(x, in, 31 + i, -1.0f, 1.0f);
        for (size_t k = 0; k < out; k++)
            a[k] = b[k] = 7.0f; /* every value must be written */
        assert_ok(bd_set_kernels("fast"));
        bd__conv_pad_input(a, x, &g);
        assert_ok(bd_set_kernels("portable"));
        bd__conv_pad_input(b, x, &g);
        assert_ok(bd_set_kernels("fast"));
        assert_memory_equal(a, b, out * sizeof *a);
        for (int c = 0; c < C; c++) /* and it is x in a border of zeros */
            for (int r = 0; r < H + 2 * P; r++)
                for (int q = 0; q < W + 2 * P; q++) {
                    const int h = r - P, w = q - P;
                    const float want = h >= 0 && h < H && w >= 0 && w < W
                                           ? x[((size_t)c * H + h) * W + w]
                                           : 0.0f;
                    assert_true(a[((size_t)c * (H + 2 * P) + r) * (W + 2 * P) + q] == want);
                }
        free(x);
        free(a);
        free(b);
    }
}

/* The Affine forward's sparse rows (affine_sparse.c): a row at most 30%
 * nonzero is the sum of its nonzero terms in increasing k, each product
 * rounded, then + b (computed here in plain C, bit for bit), in the AVX-512
 * and the portable kernels alike and on 1 and 2 threads; a denser row goes
 * to the GEMM, near the reference kernels'; a NaN input is kept. */
/* C [M, N] = c0 + Σ_t a(m, t)·B[t, :] with one fmaf a term in increasing
 * t, a(m, t) = A[m·ars + t·ats]; c0 the row vector b (NULL: 0) — what
 * affine_gemm.c's kernel computes, element by element */
static void fma_rows(float *C, const float *A, long ars, long ats, const float *B, int ldb,
                     const float *c0, int M, int N, int K)
{
    for (int m = 0; m < M; m++)
        for (int j = 0; j < N; j++) {
            float acc = c0 ? c0[j] : 0.0f;
            for (int t = 0; t < K; t++)
                acc = fmaf(A[m * ars + t * ats], B[(size_t)t * ldb + j], acc);
            C[(size_t)m * N + j] = acc;
        }
}

/* affine_gemm.c's kernels (where the CPU has AVX-512, whatever OpenBLAS
 * runs): the fmaf sums above bit for bit, over shapes that take every tile
 * (1-4 vectors of columns, full and masked; full tiles of R rows and the
 * tile of the rows left after them) and B in one or more blocks of 256 rows; x's rows (the
 * forward), x's columns (dW) and B transposed (dx); C's start kept; any
 * split of the rows the same bits */
static void affine_gemm_equals_fma_sums(void **st)
{
    (void)st;
    if (!__builtin_cpu_supports("avx512f")) {
        print_message("no AVX-512 here: the kernel is not built to run\n");
        return;
    }
    static const int shapes[][3] = {
        /* M  N    K */
        {1, 1, 1},    {7, 10, 3},  {8, 16, 255}, {9, 17, 256}, {13, 36, 257}, {6, 48, 100},
        {5, 64, 600}, {11, 65, 40}, {16, 100, 784}, {3, 130, 7}, {25, 100, 100}, {2, 200, 513},
    };
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const int M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
        float *A = malloc((size_t)M * K * sizeof *A), *B = malloc((size_t)K * N * sizeof *B);
        float *c0 = malloc((size_t)N * sizeof *c0), *want = malloc((size_t)M * N * sizeof *want);
        float *got = malloc((size_t)M * N * sizeof *got);
        fill(A, (size_t)M * K, 200 + si, -1.0f, 1.0f);
        fill(B, (size_t)K * N, 210 + si, -1.0f, 1.0f);
        fill(c0, (size_t)N, 220 + si, -1.0f, 1.0f);
        for (int layout = 0; layout < 2; layout++) {
            /* 0: a(m, t) = A[m K + t] (x's rows); 1: A[t M + m] (x's columns) */
            const long ars = layout ? 1 : K, ats = layout ? M : 1;
            fma_rows(want, A, ars, ats, B, N, c0, M, N, K);
            for (int split = 0; split <= 1; split++) {
                const int cut = split ? M / 2 + 1 : M;
                for (int m = 0; m < M; m++)
                    memcpy(got + (size_t)m * N, c0, (size_t)N * sizeof *got);
                bd__affine_gemm(got, N, A, ars, ats, B, N, BD_MIN(cut, M), N, K);
                if (cut < M)
                    bd__affine_gemm(got + (size_t)cut * N, N, A + cut * ars, ars, ats, B, N,
                                    M - cut, N, K);
                assert_memory_equal(got, want, (size_t)M * N * sizeof *got);
            }
        }
        /* dx's product, C += A·Bᵀ with Bᵀ's rows B's columns: B [N, K] here */
        float *Bt = malloc((size_t)K * N * sizeof *Bt);
        for (int t = 0; t < K; t++)
            for (int j = 0; j < N; j++)
                Bt[(size_t)t * N + j] = B[(size_t)j * K + t];
        fma_rows(want, A, K, 1, Bt, N, c0, M, N, K);
        for (int split = 0; split <= 1; split++) {
            const int cut = split ? M / 2 + 1 : M;
            for (int m = 0; m < M; m++)
                memcpy(got + (size_t)m * N, c0, (size_t)N * sizeof *got);
            bd__affine_gemm_nt(got, N, A, K, B, K, BD_MIN(cut, M), N, K);
            if (cut < M)
                bd__affine_gemm_nt(got + (size_t)cut * N, N, A + (size_t)cut * K, K, B, K, M - cut,
                                   N, K);
            assert_memory_equal(got, want, (size_t)M * N * sizeof *got);
        }
        free(Bt);
        free(A);
        free(B);
        free(c0);
        free(want);
        free(got);
    }
}

static void affine_sparse_rows(void **st)
{
    (void)st;
    static const int shapes[][3] = {
        /* B  In   Out */
        {1, 1, 1},   {7, 784, 50}, {5, 257, 17}, {9, 300, 65}, {4, 40, 130},
        {3, 16, 64}, {6, 255, 100}, {13, 100, 3}, {8, 513, 48}, {2, 10, 33},
    };
    static const float density[] = {0.0f, 0.05f, 0.2f, 0.3f, 0.31f, 0.5f, 1.0f, 0.1f};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const int B = shapes[si][0], In = shapes[si][1], Out = shapes[si][2];
        float *x = malloc((size_t)B * In * sizeof *x), *W = malloc((size_t)In * Out * sizeof *W);
        float *b = malloc((size_t)Out * sizeof *b), *want = malloc((size_t)B * Out * sizeof *want);
        float *y[4];
        for (int v = 0; v < 4; v++)
            y[v] = malloc((size_t)B * Out * sizeof *y[v]);
        fill(W, (size_t)In * Out, 70 + si, -1.0f, 1.0f);
        fill(b, (size_t)Out, 80 + si, -1.0f, 1.0f);
        fill(x, (size_t)B * In, 90 + si, 0.0f, 1.0f);
        int sparse[16];
        for (int r = 0; r < B; r++) { /* row r: exactly round(d In) nonzeros, spread */
            const float d = density[(r + si) % 8];
            const int nz = (int)(d * In + 0.5f);
            for (int k = 0; k < In; k++)
                if ((long)k * nz / In == (long)(k + 1) * nz / In)
                    x[(size_t)r * In + k] = 0.0f;
            sparse[r] = (long long)nz * 10 <= (long long)In * 3;
            assert_int_equal(bd__affine_row_sparse(x + (size_t)r * In, In), sparse[r]);
        }
        for (int r = 0; r < B; r++) { /* the sum the sparse rows must be */
            float *wr = want + (size_t)r * Out;
            for (int j = 0; j < Out; j++) {
                float acc = 0.0f;
                for (int k = 0; k < In; k++) {
                    const float xk = x[(size_t)r * In + k];
                    if (xk != 0.0f) {
                        const float p = xk * W[(size_t)k * Out + j];
                        acc += p;
                    }
                }
                wr[j] = acc + b[j];
            }
        }
        const char *kern[4] = {"fast", "portable", "fast", "reference"};
        for (int v = 0; v < 4; v++) {
            assert_ok(bd_set_kernels(kern[v]));
            bd_set_threads(v == 2 ? 2 : 1);
            bd_affine_forward(y[v], x, W, b, B, In, Out);
        }
        bd_set_threads(1);
        assert_ok(bd_set_kernels("fast"));
        const int own = bd__affine_gemm_used(); /* dense rows: affine_gemm.c's sums */
        for (int r = 0; r < B; r++) {
            /* a dense row's GEMM bits may depend on the run of rows it is
             * in (OpenBLAS's blocking): only near the whole batch's; on
             * affine_gemm.c's kernel, b + Σ_k x[k]·W[k,:] by FMAs in order */
            const size_t o = (size_t)r * Out;
            if (sparse[r]) {
                assert_memory_equal(y[0] + o, want + o, (size_t)Out * sizeof(float));
                assert_memory_equal(y[2] + o, want + o, (size_t)Out * sizeof(float));
                assert_memory_equal(y[1] + o, want + o, (size_t)Out * sizeof(float));
            } else if (own) {
                fma_rows(want + o, x + (size_t)r * In, In, 1, W, Out, b, 1, Out, In);
                assert_memory_equal(y[0] + o, want + o, (size_t)Out * sizeof(float));
                assert_memory_equal(y[2] + o, want + o, (size_t)Out * sizeof(float));
            } else {
                assert_memory_equal(y[0] + o, y[1] + o, (size_t)Out * sizeof(float));
            }
            assert_near(y[0] + o, y[3] + o, (size_t)Out, 1e-5, "sparse vs GEMM");
            assert_near(y[2] + o, y[3] + o, (size_t)Out, 1e-5, "2 threads vs GEMM");
        }
        x[0] = NAN; /* a NaN input is not a zero: row 0 is all NaN */
        bd_affine_forward(y[0], x, W, b, B, In, Out);
        for (int j = 0; j < Out; j++)
            assert_true(isnan(y[0][j]));
        for (int v = 0; v < 4; v++)
            free(y[v]);
        free(x);
        free(W);
        free(b);
        free(want);
    }
}

/* x [B, In] with exactly round(d·n) nonzeros spread evenly over the n =
 * B·w values of each half of its columns (d1 in columns [0, In/2), d2 in
 * the rest) */
static void sparse_halves(float *x, int B, int In, float d1, float d2, unsigned seed)
{
    fill(x, (size_t)B * In, seed, 0.0f, 1.0f);
    for (int half = 0; half < 2; half++) {
        const int c0 = half ? In / 2 : 0, w = half ? In - In / 2 : In / 2;
        const size_t n = (size_t)B * w, nz = (size_t)((half ? d2 : d1) * n + 0.5f);
        for (size_t i = 0; i < n; i++)
            if (i * nz / n == (i + 1) * nz / n)
                x[(i / w) * In + c0 + i % w] = 0.0f;
    }
}

/* Does affine.c split dW's B x In x Out product over the threads (its
 * SPLIT_MACS)? */
static int dW_splits(int B, int In, int Out) { return (size_t)B * In * Out >= ((size_t)1 << 18); }

/* dW = xᵀ·dy where the batch's columns are at most 30% nonzero
 * (affine_sparse.c): row k is the sum over the rows with x[n,k] != 0 of
 * x[n,k]·dy[n,:] in increasing n (computed here in plain C, bit for bit),
 * in the AVX-512 and portable kernels and on 1 and 2 threads; denser
 * columns are the GEMM's, bit for bit the reference kernels' on 1 thread.
 * On 2 threads each thread's columns are looked at alone: the two last
 * shapes have dense first columns (40%) and sparse last ones (5%, 15%),
 * 22.5% and 27.5% over the batch. Batches of more than 256 rows take two
 * lists. */
static void affine_sparse_dW(void **st)
{
    (void)st;
    static const int shapes[][5] = {
        /* B  In   Out  density% (first half, second half) */
        {7, 784, 100, 19, 19}, {130, 257, 65, 10, 10}, {5, 40, 130, 25, 25},
        {3, 17, 64, 30, 30},   {2, 10, 200, 20, 20},   {600, 33, 64, 5, 5},
        {1, 1, 64, 0, 0},      {9, 50, 100, 31, 31},   {6, 784, 50, 19, 19},
        {4, 100, 63, 10, 10},  {100, 784, 50, 40, 5},  {50, 300, 64, 40, 15},
    };
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const int B = shapes[si][0], In = shapes[si][1], Out = shapes[si][2];
        const float d1 = shapes[si][3] / 100.0f, d2 = shapes[si][4] / 100.0f;
        const size_t nx = (size_t)B * In, nw = (size_t)In * Out;
        float *x = malloc(nx * sizeof *x), *dy = malloc((size_t)B * Out * sizeof *dy);
        float *want = malloc(nw * sizeof *want), *db = malloc((size_t)Out * sizeof *db);
        float *dW[4];
        for (int v = 0; v < 4; v++)
            dW[v] = malloc(nw * sizeof *dW[v]);
        fill(dy, (size_t)B * Out, 110 + si, -1.0f, 1.0f);
        sparse_halves(x, B, In, d1, d2, 120 + si);
        size_t nz = 0;
        for (size_t i = 0; i < nx; i++)
            nz += x[i] != 0.0f;
        const int sparse = nz * 10 <= nx * 3;
        assert_int_equal(bd__affine_batch_sparse(x, B, In, 0, In), sparse);
        for (int k = 0; k < In; k++)
            for (int j = 0; j < Out; j++) {
                float acc = 0.0f;
                for (int n = 0; n < B; n++) {
                    const float xv = x[(size_t)n * In + k];
                    if (xv != 0.0f) {
                        const float p = xv * dy[(size_t)n * Out + j];
                        acc += p;
                    }
                }
                want[(size_t)k * Out + j] = acc;
            }
        const char *kern[4] = {"fast", "portable", "fast", "reference"};
        for (int v = 0; v < 4; v++) {
            assert_ok(bd_set_kernels(kern[v]));
            bd_set_threads(v == 2 ? 2 : 1);
            bd_affine_backward(NULL, dW[v], db, dy, x, NULL, B, In, Out);
        }
        bd_set_threads(1);
        assert_ok(bd_set_kernels("fast"));
        const int own = bd__affine_gemm_used(); /* dense dW: affine_gemm.c's sums */
        float *fsum = malloc(nw * sizeof *fsum); /* row k: Σ_n x[n,k]·dy[n,:] by FMAs */
        fma_rows(fsum, x, 1, In, dy, Out, NULL, In, Out, B);
        if (sparse) {
            assert_memory_equal(dW[0], dW[1], nw * sizeof(float));
            assert_memory_equal(dW[0], want, nw * sizeof(float));
        } else {
            assert_memory_equal(dW[0], own ? fsum : dW[3], nw * sizeof(float));
            if (!own)
                assert_memory_equal(dW[0], dW[1], nw * sizeof(float));
        }
        const int parts = dW_splits(B, In, Out) && In > 1 ? 2 : 1;
        int split_sparse = 0;
        for (int p = 0; p < parts; p++) { /* 2 threads: each part its own choice */
            int lo, hi;
            bd__split_range(In, parts, p, &lo, &hi);
            const int sp = bd__affine_batch_sparse(x, B, In, lo, hi);
            split_sparse |= sp << p;
            const size_t a = (size_t)lo * Out, n = (size_t)(hi - lo) * Out;
            /* a dense part is the GEMM of its rows of dW: that product's bits
             * (with a BLAS whose bits depend on the split, as OpenBLAS's
             * Haswell kernels, not the whole product's) */
            float *part = malloc(n * sizeof *part);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, hi - lo, Out, B, 1.0f, x + lo,
                        In, dy, Out, 0.0f, part, Out);
            assert_memory_equal(dW[2] + a, sp ? want + a : own ? fsum + a : part,
                                n * sizeof(float));
            free(part);
        }
        free(fsum);
        if (si + 2 >= sizeof shapes / sizeof shapes[0]) /* the mixed shapes: mixed parts */
            assert_int_equal(split_sparse, 2);
        assert_near(dW[0], dW[3], nw, 1e-5, "sparse dW vs GEMM");
        assert_near(dW[2], dW[3], nw, 1e-5, "2 threads vs GEMM");
        for (int v = 0; v < 4; v++)
            free(dW[v]);
        free(x);
        free(dy);
        free(want);
        free(db);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_fast_equals_reference),
        cmocka_unit_test(kernels_named),
        cmocka_unit_test(gradcheck_fast_convs),
        cmocka_unit_test(pool_fused_equals_unfused),
        cmocka_unit_test(gradcheck_fused_pools),
        cmocka_unit_test(fused_breaks_caught),
        cmocka_unit_test(adam_split_same_bits),
        cmocka_unit_test(pad_copy_fast_equals_portable),
        cmocka_unit_test(affine_gemm_equals_fma_sums),
        cmocka_unit_test(affine_sparse_rows),
        cmocka_unit_test(affine_sparse_dW),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
