/* test_augment.c — data augmentation: the shift, flip and rotation kernels on
 * tiny images of known pixels, the seeded batch function, the option parser,
 * and the trainer (augmentation has its own PRNG stream: a run without it is
 * unchanged, a run with it is reproducible to the bit). */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

/* x[k] = k + 1: every pixel different and non-zero, so a moved pixel is
 * recognised by its value. */
static void iota(float *x, int n)
{
    for (int k = 0; k < n; k++)
        x[k] = (float)(k + 1);
}

static float sum(const float *x, int n)
{
    double s = 0;
    for (int k = 0; k < n; k++)
        s += x[k];
    return (float)s;
}

/* ------------------------------------------------------------- kernels */

static void shift_moves_pixels_and_pads_zeros(void **st)
{
    (void)st;
    /* 1x4x4, shifted down 1 and left 2 */
    float x[16], y[16];
    iota(x, 16);
    bd_augment_shift(y, x, 1, 4, 4, 1, -2);
    const float want[16] = {0, 0, 0, 0,   /* row 0: nothing comes from row -1 */
                            3, 4, 0, 0,   /* row 1 = row 0 (1 2 3 4) moved left 2 */
                            7, 8, 0, 0,
                            11, 12, 0, 0};
    for (int k = 0; k < 16; k++)
        assert_close(y[k], want[k], 0);

    /* 2x5x5, every offset in [-2, 2]^2: y[c][i][j] = x[c][i-dy][j-dx] or 0 */
    float a[50], b[50];
    iota(a, 50);
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++) {
            bd_augment_shift(b, a, 2, 5, 5, dy, dx);
            float kept = 0;
            for (int c = 0; c < 2; c++)
                for (int i = 0; i < 5; i++)
                    for (int j = 0; j < 5; j++) {
                        int si = i - dy, sj = j - dx;
                        float w = (si >= 0 && si < 5 && sj >= 0 && sj < 5)
                                      ? a[c * 25 + si * 5 + sj] : 0.0f;
                        assert_close(b[c * 25 + i * 5 + j], w, 0);
                        kept += w;
                    }
            /* the sum drops by exactly the pixels pushed out */
            assert_close(sum(b, 50), kept, 1e-3);
            if (dy == 0 && dx == 0)
                assert_memory_equal(a, b, sizeof a);
        }
    /* a shift by the whole width leaves nothing */
    bd_augment_shift(b, a, 2, 5, 5, 0, 5);
    assert_close(sum(b, 50), 0, 0);
}

static void flip_mirrors_each_channel(void **st)
{
    (void)st;
    float x[50], y[50];
    iota(x, 50);
    memcpy(y, x, sizeof x);
    bd_augment_flip(y, 2, 5, 5);
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++)
                assert_close(y[c * 25 + i * 5 + j], x[c * 25 + i * 5 + (4 - j)], 0);
    assert_close(sum(y, 50), sum(x, 50), 0);
    bd_augment_flip(y, 2, 5, 5); /* twice: back where it was */
    assert_memory_equal(x, y, sizeof x);
    /* even width: 1x4x4, row 0 becomes 4 3 2 1 */
    float e[16];
    iota(e, 16);
    bd_augment_flip(e, 1, 4, 4);
    assert_close(e[0], 4, 0);
    assert_close(e[3], 1, 0);
    assert_close(e[12], 16, 0);
}

static void rotation_by_zero_is_identity(void **st)
{
    (void)st;
    float x[50], y[50];
    bd_rng r;
    bd_rng_seed(&r, 5);
    for (int k = 0; k < 50; k++)
        x[k] = bd_rng_uniform(&r);
    bd_augment_rotate(y, x, 2, 5, 5, 0.0f);
    assert_memory_equal(x, y, sizeof x);
    bd_augment_rotate(y, x, 2, 5, 5, -0.0f);
    assert_memory_equal(x, y, sizeof x);
}

static void rotation_by_90_and_180(void **st)
{
    (void)st;
    /* 1x4x4, counterclockwise by 90: the top-right pixel goes to the top
     * left, i.e. y[i][j] = x[j][W-1-i] */
    float x[16], y[16];
    iota(x, 16);
    bd_augment_rotate(y, x, 1, 4, 4, 90.0f);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            assert_close(y[i * 4 + j], x[j * 4 + (3 - i)], 1e-5);
    assert_close(y[0], 4, 1e-5);
    assert_close(sum(y, 16), sum(x, 16), 1e-4);
    /* clockwise (-90): y[i][j] = x[H-1-j][i] */
    bd_augment_rotate(y, x, 1, 4, 4, -90.0f);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            assert_close(y[i * 4 + j], x[(3 - j) * 4 + i], 1e-5);
    /* 2x5x5 by 90, both channels the same way */
    float a[50], b[50];
    iota(a, 50);
    bd_augment_rotate(b, a, 2, 5, 5, 90.0f);
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++)
                assert_close(b[c * 25 + i * 5 + j], a[c * 25 + j * 5 + (4 - i)], 1e-4);
    /* non-square 1x4x6 by 180: y[i][j] = x[H-1-i][W-1-j] */
    float n[24], m[24];
    iota(n, 24);
    bd_augment_rotate(m, n, 1, 4, 6, 180.0f);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++)
            assert_close(m[i * 6 + j], n[(3 - i) * 6 + (5 - j)], 1e-4);
}

static void small_rotation_stays_in_range(void **st)
{
    (void)st;
    /* bilinear with zero fill mixes pixels and zeros: every output lies in
     * [0, max]; the centre pixel of an odd image does not move */
    float x[2 * 7 * 7], y[2 * 7 * 7];
    bd_rng r;
    bd_rng_seed(&r, 9);
    for (int k = 0; k < 98; k++)
        x[k] = 0.2f + 0.8f * bd_rng_uniform(&r);
    for (float deg = -15; deg <= 15; deg += 2.5f) {
        bd_augment_rotate(y, x, 2, 7, 7, deg);
        for (int k = 0; k < 98; k++)
            assert_true(y[k] >= 0.0f && y[k] <= 1.0f);
        assert_close(y[24], x[24], 1e-6);
        assert_close(y[49 + 24], x[49 + 24], 1e-6);
        if (deg != 0) /* the corners take in zeros from outside */
            assert_true(y[0] < x[0] || y[6] < x[6] || y[42] < x[42] || y[48] < x[48]);
    }
    /* a small turn of a centred blob keeps most of its mass */
    float blob[81] = {0}, out[81];
    for (int i = 3; i <= 5; i++)
        for (int j = 3; j <= 5; j++)
            blob[i * 9 + j] = 1.0f;
    bd_augment_rotate(out, blob, 1, 9, 9, 10.0f);
    assert_close(sum(out, 81), 9.0f, 0.5);
}

/* ----------------------------------------------------------- batches */

static void batch_shift_draws_offsets_in_range(void **st)
{
    (void)st;
    enum { B = 60, C = 2, H = 5, W = 5, D = C * H * W };
    static float x[B * D], orig[B * D];
    float scratch[D], cand[D];
    bd_rng r;
    bd_rng_seed(&r, 3);
    for (int k = 0; k < B * D; k++)
        orig[k] = x[k] = 1.0f + bd_rng_uniform(&r);
    bd_augment a;
    assert_ok(bd_parse_augment("shift", &a));
    assert_int_equal(a.max_shift, 2);
    bd_rng ar;
    bd_rng_seed(&ar, 42);
    assert_ok(bd_augment_batch(&a, x, B, C, H, W, scratch, &ar));
    int seen[5][5] = {{0}}, distinct = 0;
    for (int b = 0; b < B; b++) {
        int found = 0;
        for (int dy = -2; dy <= 2 && !found; dy++)
            for (int dx = -2; dx <= 2 && !found; dx++) {
                bd_augment_shift(cand, orig + b * D, C, H, W, dy, dx);
                if (!memcmp(cand, x + b * D, sizeof cand)) {
                    found = 1;
                    distinct += !seen[dy + 2][dx + 2]++;
                }
            }
        if (!found)
            fail_msg("sample %d is no shift of its input by at most 2 pixels", b);
    }
    assert_true(distinct >= 15); /* 25 offsets, 60 draws */
}

static void batch_flip_about_half(void **st)
{
    (void)st;
    enum { B = 400, D = 16 };
    static float x[B * D];
    float scratch[D], mir[D];
    for (int b = 0; b < B; b++)
        iota(x + b * D, D);
    bd_augment a;
    assert_ok(bd_parse_augment("flip", &a));
    bd_rng ar;
    bd_rng_seed(&ar, 8);
    assert_ok(bd_augment_batch(&a, x, B, 1, 4, 4, scratch, &ar));
    iota(mir, D);
    bd_augment_flip(mir, 1, 4, 4);
    int flipped = 0;
    for (int b = 0; b < B; b++) {
        float id[D];
        iota(id, D);
        if (!memcmp(x + b * D, mir, sizeof mir))
            flipped++;
        else if (memcmp(x + b * D, id, sizeof id))
            fail_msg("sample %d is neither the image nor its mirror", b);
    }
    assert_in_range(flipped, 160, 240); /* p = 0.5 of 400 */
    /* p = 0: nothing flips, p = 1: everything does */
    a.flip_p = 0.0f;
    for (int b = 0; b < B; b++)
        iota(x + b * D, D);
    assert_ok(bd_augment_batch(&a, x, B, 1, 4, 4, scratch, &ar));
    assert_close(x[0], 1, 0);
    assert_close(x[(B - 1) * D], 1, 0);
    a.flip_p = 1.0f;
    assert_ok(bd_augment_batch(&a, x, B, 1, 4, 4, scratch, &ar));
    assert_memory_equal(x + (B - 1) * D, mir, sizeof mir);
}

static void batch_is_seeded(void **st)
{
    (void)st;
    enum { B = 20, C = 2, H = 6, W = 7, D = C * H * W };
    static float x1[B * D], x2[B * D], x3[B * D];
    float scratch[D];
    bd_rng r;
    bd_rng_seed(&r, 11);
    for (int k = 0; k < B * D; k++)
        x1[k] = bd_rng_uniform(&r);
    memcpy(x2, x1, sizeof x1);
    memcpy(x3, x1, sizeof x1);
    const float mx = 1.0f;
    bd_augment a;
    assert_ok(bd_parse_augment("shift:2,flip,rotate:12", &a));
    bd_rng r1, r2, r3;
    bd_rng_seed(&r1, 77);
    bd_rng_seed(&r2, 77);
    bd_rng_seed(&r3, 78);
    assert_ok(bd_augment_batch(&a, x1, B, C, H, W, scratch, &r1));
    assert_ok(bd_augment_batch(&a, x2, B, C, H, W, scratch, &r2));
    assert_ok(bd_augment_batch(&a, x3, B, C, H, W, scratch, &r3));
    assert_memory_equal(x1, x2, sizeof x1);  /* same seed: same bits */
    assert_memory_not_equal(x1, x3, sizeof x1);
    assert_memory_equal(r1.s, r2.s, sizeof r1.s);
    for (int k = 0; k < B * D; k++)
        assert_true(x1[k] >= 0.0f && x1[k] <= mx);
    /* no augmentation: no draw, nothing changed */
    bd_augment none;
    bd_augment_default(&none);
    bd_rng before = r1;
    assert_ok(bd_augment_batch(&none, x1, B, C, H, W, scratch, &r1));
    assert_memory_equal(x1, x2, sizeof x1);
    assert_memory_equal(before.s, r1.s, sizeof r1.s);
}

/* ------------------------------------------------------------- parsing */

static void parse_and_print(void **st)
{
    (void)st;
    bd_augment a;
    char buf[96];
    assert_ok(bd_parse_augment("shift,flip,rotate", &a));
    assert_int_equal(a.flags, BD_AUG_SHIFT | BD_AUG_FLIP | BD_AUG_ROTATE);
    assert_int_equal(a.max_shift, 2);
    assert_close(a.max_degrees, 10, 0);
    assert_close(a.flip_p, 0.5, 0);
    assert_string_equal(bd_augment_str(&a, buf, sizeof buf), "shift:2,flip:0.5,rotate:10");
    assert_ok(bd_parse_augment("rotate:15,shift:3", &a));
    assert_int_equal(a.flags, BD_AUG_SHIFT | BD_AUG_ROTATE);
    assert_int_equal(a.max_shift, 3);
    assert_close(a.max_degrees, 15, 0);
    assert_string_equal(bd_augment_str(&a, buf, sizeof buf), "shift:3,rotate:15");
    assert_ok(bd_parse_augment("flip:0.25", &a));
    assert_close(a.flip_p, 0.25, 0);
    assert_ok(bd_parse_augment("none", &a));
    assert_int_equal(a.flags, 0);
    assert_string_equal(bd_augment_str(&a, buf, sizeof buf), "none");

    assert_fails(bd_parse_augment("shift,foo", &a), BD_ERR_ARG, "unknown augmentation 'foo'");
    assert_fails(bd_parse_augment("shift:x", &a), BD_ERR_ARG, "'shift:x'");
    assert_fails(bd_parse_augment("shift:1.5", &a), BD_ERR_ARG, "not an integer");
    assert_fails(bd_parse_augment("rotate:200", &a), BD_ERR_ARG, "'rotate:200'");
    assert_fails(bd_parse_augment("flip:2", &a), BD_ERR_ARG, "'flip:2'");
    assert_fails(bd_parse_augment("shift,shift:3", &a), BD_ERR_ARG, "'shift' given twice");
    assert_fails(bd_parse_augment("shift,,flip", &a), BD_ERR_ARG, "empty augmentation");
    assert_fails(bd_parse_augment("", &a), BD_ERR_ARG, "empty augmentation");
    assert_fails(bd_parse_augment("none,flip", &a), BD_ERR_ARG, "'none'");
    assert_fails(bd_parse_augment("averyveryverylongname", &a), BD_ERR_ARG,
                 "'averyveryverylongname'");

    assert_ok(bd_parse_augment("shift:4", &a));
    assert_fails(bd_augment_check(&a, 1, 4, 4), BD_ERR_ARG, "shift 4 must be in 0..3");
    assert_ok(bd_augment_check(&a, 1, 5, 5));
    assert_fails(bd_augment_check(&a, 1, 1, 30), BD_ERR_ARG, "needs images");
    float dummy[30], scratch[30];
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_fails(bd_augment_batch(&a, dummy, 1, 1, 1, 30, scratch, &r), BD_ERR_ARG, "needs images");
}

/* ------------------------------------------------------------- trainer */

/* 80 images of 1x6x6: class 0 a bar in the left half, class 1 in the right
 * half, at a random row, with noise. */
static void make_images(bd_dataset *ds, uint64_t seed)
{
    enum { N = 80, H = 6, W = 6 };
    memset(ds, 0, sizeof *ds);
    int xs[4] = {N, 1, H, W}, ys[1] = {N};
    assert_ok(bd_tensor_alloc(&ds->x, BD_F32, 4, xs));
    assert_ok(bd_tensor_alloc(&ds->y, BD_I32, 1, ys));
    bd_rng r;
    bd_rng_seed(&r, seed);
    for (int n = 0; n < N; n++) {
        int k = (int)bd_rng_below(&r, 2), row = (int)bd_rng_below(&r, H);
        float *x = bd_f32(&ds->x) + n * H * W;
        for (int p = 0; p < H * W; p++)
            x[p] = 0.1f * bd_rng_uniform(&r);
        for (int j = 0; j < 3; j++)
            x[row * W + (k ? 3 + j : j)] = 1.0f;
        bd_i32(&ds->y)[n] = k;
    }
    ds->n = N;
    ds->c = 1;
    ds->h = H;
    ds->w = W;
    ds->nclasses = 2;
    ds->scale = 1.0f;
    snprintf(ds->name, sizeof ds->name, "bars");
}

/* Train a fresh 36-16-2 net for 4 epochs; its weights into w (caller frees). */
static bd_train_result train_with(const bd_dataset *tr, const bd_dataset *te,
                                  const bd_augment *aug, float **w, size_t *nw)
{
    bd_net *net = NULL;
    bd_optim *opt = NULL;
    bd_rng r;
    bd_rng_seed(&r, 21);
    assert_ok(bd_net_two_layer(&net, 36, 16, 2, (bd_init){BD_INIT_HE, 0}, &r));
    bd_optim_config oc = {.lr = 0.1f};
    assert_ok(bd_optim_create(&opt, "sgd", &oc, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 10;
    cfg.epochs = 4;
    cfg.seed = 5;
    cfg.augment = aug;
    bd_train_result res;
    assert_ok(bd_train(net, opt, tr, te, &cfg, &res));
    *nw = net->params.size;
    *w = malloc(*nw * sizeof **w);
    memcpy(*w, net->params.data, *nw * sizeof **w);
    bd_optim_free(opt);
    bd_net_free(net);
    return res;
}

static void trainer_augment_stream(void **st)
{
    (void)st;
    bd_dataset tr, te;
    make_images(&tr, 1);
    make_images(&te, 2);
    float *w0, *w1, *w2, *w3, *w4;
    size_t n0, n1, n2, n3, n4;
    bd_train_result r0 = train_with(&tr, &te, NULL, &w0, &n0);

    /* present but empty, and enabled but the identity (shift 0, rotate 0):
     * the shuffling stream is untouched, so the numbers are those of NULL */
    bd_augment off, ident, on;
    bd_augment_default(&off);
    bd_augment_default(&ident);
    ident.flags = BD_AUG_SHIFT | BD_AUG_ROTATE;
    ident.max_shift = 0;
    ident.max_degrees = 0.0f;
    bd_train_result r1 = train_with(&tr, &te, &off, &w1, &n1);
    bd_train_result r2 = train_with(&tr, &te, &ident, &w2, &n2);
    assert_memory_equal(&r0.final_loss, &r1.final_loss, sizeof(float));
    assert_memory_equal(&r0.final_loss, &r2.final_loss, sizeof(float));
    assert_memory_equal(&r0.test_acc, &r2.test_acc, sizeof(float));
    assert_memory_equal(w0, w1, n0 * sizeof *w0);
    assert_memory_equal(w0, w2, n0 * sizeof *w0);

    /* real augmentation changes the run, and is reproducible to the bit */
    assert_ok(bd_parse_augment("shift:1,rotate:10", &on));
    bd_train_result r3 = train_with(&tr, &te, &on, &w3, &n3);
    bd_train_result r4 = train_with(&tr, &te, &on, &w4, &n4);
    assert_memory_not_equal(w0, w3, n0 * sizeof *w0);
    assert_memory_equal(w3, w4, n3 * sizeof *w3);
    assert_memory_equal(&r3.final_loss, &r4.final_loss, sizeof(float));
    assert_true(r3.final_loss != r0.final_loss);
    /* the test set is never augmented: evaluating the final weights again
     * gives the accuracy the run reported */
    assert_true(r3.test_acc >= 0.0f);
    free(w0), free(w1), free(w2), free(w3), free(w4);

    /* vectors (1x1xD) cannot be augmented: the trainer says so */
    bd_dataset blobs;
    make_blobs(&blobs, 40, 4, 2, 0.5f, 1, 2);
    bd_net *net = NULL;
    bd_optim *opt = NULL;
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_two_layer(&net, 4, 8, 2, (bd_init){BD_INIT_HE, 0}, &r));
    bd_optim_config oc = {.lr = 0.1f};
    assert_ok(bd_optim_create(&opt, "sgd", &oc, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.epochs = 1;
    cfg.augment = &on;
    bd_train_result res;
    assert_fails(bd_train(net, opt, &blobs, NULL, &cfg, &res), BD_ERR_ARG,
                 "blobs: augmentation needs images");
    bd_optim_free(opt);
    bd_net_free(net);
    bd_dataset_free(&blobs);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

/* The test accuracy bd_train reports for an augmented run is that of the
 * plain (not augmented) test set: bd_evaluate on the final weights agrees. */
static void trainer_evaluates_without_augmentation(void **st)
{
    (void)st;
    bd_dataset tr, te;
    make_images(&tr, 3);
    make_images(&te, 4);
    bd_net *net = NULL;
    bd_optim *opt = NULL;
    bd_rng r;
    bd_rng_seed(&r, 2);
    assert_ok(bd_net_two_layer(&net, 36, 16, 2, (bd_init){BD_INIT_HE, 0}, &r));
    bd_optim_config oc = {.lr = 0.1f};
    assert_ok(bd_optim_create(&opt, "sgd", &oc, net));
    bd_augment on;
    assert_ok(bd_parse_augment("shift:2,flip,rotate:20", &on));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 10;
    cfg.epochs = 3;
    cfg.augment = &on;
    bd_train_result res;
    assert_ok(bd_train(net, opt, &tr, &te, &cfg, &res));
    float acc, tacc;
    assert_ok(bd_evaluate(net, &te, &acc, NULL));
    assert_ok(bd_evaluate(net, &tr, &tacc, NULL));
    assert_memory_equal(&acc, &res.test_acc, sizeof acc);
    assert_memory_equal(&tacc, &res.train_acc, sizeof tacc);
    /* and the training set itself is left as it was */
    bd_dataset again;
    make_images(&again, 3);
    assert_memory_equal(tr.x.data, again.x.data, tr.x.size * sizeof(float));
    bd_dataset_free(&again);
    bd_optim_free(opt);
    bd_net_free(net);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shift_moves_pixels_and_pads_zeros),
        cmocka_unit_test(flip_mirrors_each_channel),
        cmocka_unit_test(rotation_by_zero_is_identity),
        cmocka_unit_test(rotation_by_90_and_180),
        cmocka_unit_test(small_rotation_stays_in_range),
        cmocka_unit_test(batch_shift_draws_offsets_in_range),
        cmocka_unit_test(batch_flip_about_half),
        cmocka_unit_test(batch_is_seeded),
        cmocka_unit_test(parse_and_print),
        cmocka_unit_test(trainer_augment_stream),
        cmocka_unit_test(trainer_evaluates_without_augmentation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
