/* test_rows.c — whole-network row parallelism (src/net/rows.c): each thread
 * takes its rows of the batch through every layer with its own gradient
 * block, and the blocks are added in part order by the update. Checked:
 * the gradient and the weights after training equal the per-layer path's
 * to rounding (the bound is a measured maximum with a margin), a seed and a
 * thread count give the same bits run after run (and when the pool's
 * caller runs every part alone, as on a busy machine), BatchNorm networks
 * keep the per-layer path, odd batches (1, 7 rows on 2 and 3 threads) and
 * Dropout/RReLU (drawn per global row: the same masks) work, and the
 * evaluation's pass (each part filling and reading its own rows) gives the
 * per-layer path's logits. */
#include "testutil.h"
#include "internal.h"

#define D 16 /* features (make_blobs: at most 16) */
#define K 5  /* classes */

/* D -> 40 ReLU -> Dropout -> 40 PReLU -> 30 RReLU -> 20 Tanh -> K: every
 * kind that has `rows`, parameters in Affine and PReLU, draws in Dropout
 * and RReLU; bn: a BatchNorm after the first Affine (no `rows`) */
static bd_net *make_net(int bn, uint64_t seed)
{
    bd_net *net = NULL;
    assert_ok(bd_net_create(&net, 1, 1, D));
    assert_ok(bd_net_add_affine(net, 40));
    if (bn)
        assert_ok(bd_net_add(net, BD_LAYER_BATCHNORM, 0));
    assert_ok(bd_net_add_relu(net));
    assert_ok(bd_net_add_with(net, BD_LAYER_DROPOUT, 0, 0.3f, 0.0f));
    assert_ok(bd_net_add_affine(net, 40));
    assert_ok(bd_net_add(net, BD_LAYER_PRELU, 0));
    assert_ok(bd_net_add_affine(net, 30));
    assert_ok(bd_net_add(net, BD_LAYER_RRELU, 0));
    assert_ok(bd_net_add_affine(net, 20));
    assert_ok(bd_net_add(net, BD_LAYER_TANH, 0));
    assert_ok(bd_net_add_affine(net, K));
    bd_rng r;
    bd_rng_seed(&r, seed);
    assert_ok(bd_net_build(net, (bd_init){.kind = BD_INIT_HE}, &r));
    return net;
}

static float max_abs_diff(const float *a, const float *b, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(a[i] - b[i]));
    return m;
}

static float max_abs(const float *a, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(a[i]));
    return m;
}

/* One gradient of a batch of B on T threads: the row-parallel one against
 * the per-layer one of a twin network (the same weights, the same step key:
 * the same Dropout and RReLU draws). Loss within 1e-6 relative, every
 * gradient within 1e-5 of the largest (measured: at most 1.5e-7 of it,
 * 4.5e-8 absolute). */
static void gradient_matches(int B, int T)
{
    bd_set_threads(T);
    bd_net *a = make_net(0, 3), *b = make_net(0, 3);
    bd__debug_rows(b, 1);
    assert_ok(bd_net_reserve(a, B));
    assert_ok(bd_net_reserve(b, B));
    bd_tensor x, y;
    random_batch_range(&x, &y, B, D, K, -1.0f, 1.0f, 11 + (uint64_t)B);
    bd_labels t = {bd_i32(&y), NULL};
    a->weight_decay = b->weight_decay = 0.01f; /* the penalty counted once */
    for (int step = 0; step < 3; step++) { /* a new step key each time */
        float la = 0.0f, lb = 0.0f;
        assert_int_equal(bd__net_rows_applies(a, B), B > 1 && T > 1);
        assert_int_equal(bd__net_rows_applies(b, B), 0);
        if (bd__net_rows_applies(a, B)) {
            assert_ok(bd__net_gradient_rows(a, &x, t, &la));
            bd__net_rows_sum(a);
        } else {
            assert_ok(bd_net_gradient(a, &x, t, &la));
        }
        assert_ok(bd_net_gradient(b, &x, t, &lb));
        assert_close(la, lb, 1e-6 * fabs(lb));
        const size_t n = a->grads.size;
        const float big = max_abs(bd_f32(&b->grads), n);
        const float diff = max_abs_diff(bd_f32(&a->grads), bd_f32(&b->grads), n);
        print_message("batch %d, %d threads, step %d: gradient max |diff| %.3g of max %.3g\n", B,
                      T, step, (double)diff, (double)big);
        if (!(diff <= 1e-5f * big))
            fail_msg("batch %d, %d threads: gradient differs by %g (max %g)", B, T,
                     (double)diff, (double)big);
        /* the network's buffers hold the whole batch, as after a plain pass */
        const bd_layer *last = &a->layers[a->nlayers - 1];
        assert_int_equal(last->out.shape[0], B);
        assert_true(max_abs_diff(bd_f32(&last->out), bd_f32(&b->layers[b->nlayers - 1].out),
                                 (size_t)B * K) <= 1e-5f);
        /* the Dropout masks are the same (drawn by global row) */
        const bd_layer *da = &a->layers[2], *db = &b->layers[2];
        assert_int_equal(da->kind, BD_LAYER_DROPOUT);
        assert_memory_equal(da->aux.data, db->aux.data, (size_t)B * da->in_size * sizeof(float));
        /* the next step: both from the same weights */
        memcpy(a->params.data, b->params.data, a->params.size * sizeof(float));
        for (size_t i = 0; i < a->params.size; i++)
            bd_f32(&a->params)[i] = bd_f32(&b->params)[i] -= 0.05f * bd_f32(&b->grads)[i];
    }
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(a);
    bd_net_free(b);
    bd_set_threads(1);
}

static void gradient_equals_serial(void **st) { gradient_matches(100, 2); }
static void gradient_odd_batches(void **st)
{
    gradient_matches(7, 2); /* parts of 3 and 4 rows */
    gradient_matches(7, 3); /* 2, 2, 3 */
    gradient_matches(1, 2); /* one part: the per-layer path */
}

/* training through bd_train: opt, batch, epochs on T threads; rows_off 1:
 * the per-layer path. Returns the network (the caller frees it). */
static bd_net *train(const bd_dataset *ds, int T, int bn, int rows_off, const char *opt,
                     int batch, int epochs)
{
    bd_set_threads(T);
    bd_net *net = make_net(bn, 5);
    bd__debug_rows(net, rows_off);
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, opt, &(bd_optim_config){.lr = 0.02f}, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = batch;
    cfg.epochs = epochs;
    cfg.seed = 9;
    cfg.eval_train = 0;
    bd_train_result res;
    assert_ok(bd_train(net, o, ds, NULL, &cfg, &res));
    bd_optim_free(o);
    bd_set_threads(1);
    return net;
}

/* 4 epochs of SGD (48 steps of 25, Dropout and RReLU drawing): the weights
 * of the row-parallel run within 1e-5 of the per-layer run's, relative to
 * the largest weight (measured 1.2e-7 absolute on weights up to 1.14, on
 * 2 and 3 threads) */
static void weights_after_training_equal_serial(void **st)
{
    bd_dataset ds;
    make_blobs(&ds, 300, D, K, 1.0f, 1, 2);
    for (int T = 2; T <= 3; T++) {
        bd_net *a = train(&ds, T, 0, 0, "sgd", 25, 4), *b = train(&ds, T, 0, 1, "sgd", 25, 4);
        assert_int_equal(bd__net_rows_steps(a), 48);
        assert_int_equal(bd__net_rows_steps(b), 0);
        const size_t n = a->params.size;
        const float big = max_abs(bd_f32(&b->params), n);
        const float diff = max_abs_diff(bd_f32(&a->params), bd_f32(&b->params), n);
        print_message("%d threads, 48 SGD steps: weights max |diff| %.3g of max %.3g\n", T,
                      (double)diff, (double)big);
        if (!(diff <= 1e-5f * big))
            fail_msg("%d threads: weights differ by %g (max %g)", T, (double)diff, (double)big);
        bd_net_free(a);
        bd_net_free(b);
    }
    bd_dataset_free(&ds);
}

/* the same seed and thread count: the same bits, with Adam, batches the
 * threads do not divide (25 and 7 rows on 2 and 3 threads), and when the
 * caller runs every part alone (the pool's busy-machine rule, forced) */
static void same_bits_run_to_run(void **st)
{
    bd_dataset ds;
    make_blobs(&ds, 300, D, K, 1.0f, 1, 2);
    const int batches[] = {25, 7};
    for (int T = 2; T <= 3; T++)
        for (int k = 0; k < 2; k++) {
            bd_net *a = train(&ds, T, 0, 0, "adam", batches[k], 2);
            bd_net *b = train(&ds, T, 0, 0, "adam", batches[k], 2);
            assert_true(bd__net_rows_steps(a) > 0);
            assert_memory_equal(a->params.data, b->params.data,
                                a->params.size * sizeof(float));
            /* alone: a window of stolen loops on taken cores starts a
             * stretch of 256 */
            char busy[32];
            runq_file(busy, 1000);
            bd__pool_set_runq(busy);
            bd_set_threads(T);
            for (int i = 0; i < 256; i++)
                bd__pool_note_loop(1);
            bd__pool_set_runq(NULL);
            unlink(busy);
            assert_true(bd__pool_solo_left() > 0);
            const long solo = bd__pool_solo_loops();
            bd_net *c = make_net(0, 5);
            bd_optim *o = NULL;
            assert_ok(bd_optim_create(&o, "adam", &(bd_optim_config){.lr = 0.02f}, c));
            bd_train_config cfg;
            bd_train_config_default(&cfg);
            cfg.batch = batches[k];
            cfg.epochs = 2;
            cfg.seed = 9;
            cfg.eval_train = 0;
            bd_train_result res;
            assert_ok(bd_train(c, o, &ds, NULL, &cfg, &res));
            assert_true(bd__pool_solo_loops() > solo);
            assert_memory_equal(a->params.data, c->params.data,
                                a->params.size * sizeof(float));
            bd_optim_free(o);
            bd_set_threads(1);
            bd_net_free(a);
            bd_net_free(b);
            bd_net_free(c);
        }
    bd_dataset_free(&ds);
}

/* BatchNorm couples the rows: such a network keeps the per-layer path
 * (the same bits as with the row path switched off) */
static void batchnorm_falls_back(void **st)
{
    bd_dataset ds;
    make_blobs(&ds, 300, D, K, 1.0f, 1, 2);
    bd_net *a = train(&ds, 2, 1, 0, "adam", 25, 2), *b = train(&ds, 2, 1, 1, "adam", 25, 2);
    assert_int_equal(bd__net_rows_applies(a, 25), 0);
    assert_int_equal(bd__net_rows_steps(a), 0);
    assert_memory_equal(a->params.data, b->params.data, a->params.size * sizeof(float));
    assert_memory_equal(a->state.data, b->state.data, a->state.size * sizeof(float));
    bd_net_free(a);
    bd_net_free(b);
    bd_dataset_free(&ds);
}

/* the gradient norm the hook sees (now summed in the update's pass) is
 * √Σg² of the completed gradient, 1e-12 relative (measured 1e-16) */
typedef struct norm_rec {
    const bd_net *net;
    int n, bad;
} norm_rec;

static void check_norm(void *ud, long iter, double norm)
{
    norm_rec *r = ud;
    long double s = 0.0L;
    for (size_t i = 0; i < r->net->grads.size; i++)
        s += (long double)bd_f32(&r->net->grads)[i] * bd_f32(&r->net->grads)[i];
    const double want = sqrt((double)s);
    r->bad += !(fabs(norm - want) <= 1e-12 * want);
    r->n++;
}

static void norm_of_summed_gradient(void **st)
{
    bd_dataset ds;
    make_blobs(&ds, 300, D, K, 1.0f, 1, 2);
    bd_set_threads(2);
    bd_net *net = make_net(0, 5);
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "adam", &(bd_optim_config){.lr = 0.02f}, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 25;
    cfg.epochs = 1;
    cfg.eval_train = 0;
    norm_rec r = {.net = net};
    cfg.on_grad_norm = check_norm;
    cfg.ud = &r;
    bd_train_result res;
    assert_ok(bd_train(net, o, &ds, NULL, &cfg, &res));
    assert_int_equal(r.n, 12);
    assert_int_equal(r.bad, 0);
    assert_int_equal(bd__net_rows_steps(net), 12);
    bd_optim_free(o);
    bd_net_free(net);
    bd_set_threads(1);
    bd_dataset_free(&ds);
}

/* The evaluation's pass (bd__net_eval_rows): each part fills and reads
 * its rows; here fill copies rows of a set x [N, D] and take keeps their
 * logits, both recording which rows they saw. */
typedef struct feed {
    const float *x;
    float *y;
    int *seen;    /* [N]: times fill saw the row, plus 100 x times take did */
    int fail_at;  /* fill fails on the chunk holding this row (-1: never) */
} feed;

static bd_status fill_rows(void *ctx, int p, int start, int k, float *x)
{
    feed *f = ctx;
    assert_true(p >= 0 && p < BD__MAX_PARTS);
    if (f->fail_at >= start && f->fail_at < start + k)
        return BD_ERR_IO;
    memcpy(x, f->x + (size_t)start * D, (size_t)k * D * sizeof *x);
    for (int r = start; r < start + k; r++)
        f->seen[r] += 1;
    return BD_OK;
}

static bd_status take_rows(void *ctx, int p, int start, int k, const float *y)
{
    feed *f = ctx;
    (void)p;
    memcpy(f->y + (size_t)start * K, y, (size_t)k * K * sizeof *y);
    for (int r = start; r < start + k; r++)
        f->seen[r] += 100;
    return BD_OK;
}

/* evaluation on 2 and 3 threads with 7 rows reserved (parts of 3-4 and 2-3
 * rows; rounds of 16 x 7 = 112 rows, and 1234 rows end in a round of 2):
 * every row filled and read once, its logits the per-layer path's to
 * rounding (1e-5 of the largest; measured: the same bits, each part's
 * products being those of the per-layer split), the same accuracy over a
 * set, and a failing fill ends the pass with its status */
static void evaluation_equals_serial(void **st)
{
    (void)st;
    const int N = 1234, B = 7;
    for (int T = 2; T <= 3; T++) {
        bd_set_threads(T);
        bd_net *a = make_net(0, 3), *b = make_net(0, 3);
        bd__debug_rows(b, 1);
        assert_ok(bd_net_reserve(a, B));
        assert_ok(bd_net_reserve(b, B));
        a->training = b->training = 0;
        bd_tensor x, lab;
        random_batch_range(&x, &lab, N, D, K, -1.0f, 1.0f, 4);
        float *ya = calloc((size_t)N * K, sizeof *ya);
        int *seen = calloc((size_t)N, sizeof *seen);
        feed f = {bd_f32(&x), ya, seen, -1};
        const bd__rows_feed rf = {fill_rows, take_rows, &f};
        assert_true(bd__net_rows_applies(a, B));
        assert_ok(bd__net_eval_rows(a, N, &rf));
        float big = 0.0f, diff = 0.0f;
        for (int r0 = 0; r0 < N; r0 += B) {
            const int n = N - r0 < B ? N - r0 : B;
            int shape[2] = {n, D};
            bd_tensor xc = bd_tensor_view(bd_f32(&x) + (size_t)r0 * D, 2, shape);
            const bd_tensor *yb;
            assert_ok(bd_net_forward(b, &xc, &yb));
            big = fmaxf(big, max_abs(bd_f32(yb), (size_t)n * K));
            diff = fmaxf(diff, max_abs_diff(ya + (size_t)r0 * K, bd_f32(yb), (size_t)n * K));
        }
        for (int r = 0; r < N; r++)
            if (seen[r] != 101)
                fail_msg("%d threads: row %d filled/read %d times (want 101)", T, r, seen[r]);
        print_message("evaluation, %d threads: logits max |diff| %.3g of max %.3g\n", T,
                      (double)diff, (double)big);
        if (!(diff <= 1e-5f * big))
            fail_msg("logits differ by %g (max %g)", (double)diff, (double)big);
        f.fail_at = 500;
        assert_int_equal(bd__net_eval_rows(a, N, &rf), BD_ERR_IO);
        bd_dataset ds;
        make_blobs(&ds, 1234, D, K, 1.0f, 1, 2);
        float acc_a, acc_b;
        assert_ok(bd_evaluate(a, &ds, &acc_a, NULL));
        assert_ok(bd_evaluate(b, &ds, &acc_b, NULL));
        assert_true(acc_a == acc_b);
        assert_true(acc_a > 0.0f && acc_a < 1.0f); /* an untrained net: some right */
        bd_dataset_free(&ds);
        free(ya);
        free(seen);
        bd_tensor_free(&x);
        bd_tensor_free(&lab);
        bd_net_free(a);
        bd_net_free(b);
    }
    bd_set_threads(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gradient_equals_serial),
        cmocka_unit_test(gradient_odd_batches),
        cmocka_unit_test(weights_after_training_equal_serial),
        cmocka_unit_test(same_bits_run_to_run),
        cmocka_unit_test(batchnorm_falls_back),
        cmocka_unit_test(norm_of_summed_gradient),
        cmocka_unit_test(evaluation_equals_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
