/* test_par.c — the batch conversion on the thread pool (src/data/dataset.c):
 * a gathered or sliced batch is converted by parts of rows (the split every
 * layer uses), and must hold exactly the bits of a plain one-row-at-a-time
 * conversion for every thread count, for byte, normalised byte and float
 * data sets. */
#include "testutil.h"
#include "internal.h"

#define N 300
#define C 3
#define H 16
#define W 16
#define D (C * H * W) /* 768: a batch of 97 rows is 74,496 values, split */

static void u8_set(bd_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    int shape[4] = {N, C, H, W}, ys[1] = {N};
    assert_ok(bd_tensor_alloc(&ds->x, BD_U8, 4, shape));
    assert_ok(bd_tensor_alloc(&ds->y, BD_I32, 1, ys));
    bd_rng r;
    bd_rng_seed(&r, 7);
    for (size_t i = 0; i < ds->x.size; i++)
        bd_u8(&ds->x)[i] = (uint8_t)bd_rng_below(&r, 256);
    for (int i = 0; i < N; i++)
        bd_i32(&ds->y)[i] = i % 10;
    ds->n = N;
    ds->c = C, ds->h = H, ds->w = W;
    ds->nclasses = 10;
    ds->scale = 1.0f / 255.0f;
    snprintf(ds->name, sizeof ds->name, "u8");
}

/* what sample i's value j must become, computed as the loaders define it */
static float want_value(const bd_dataset *ds, int i, int j)
{
    const size_t at = (size_t)i * D + (size_t)j;
    const float v = ds->x.dtype == BD_U8 ? (float)bd_u8(&ds->x)[at] : bd_f32(&ds->x)[at];
    if (!ds->norm)
        return ds->x.dtype == BD_U8 ? v * ds->scale : v;
    const int c = j / (H * W);
    const float a = ds->scale / ds->norm_std[c], b = -ds->norm_mean[c] / ds->norm_std[c];
    return v * a + b;
}

static void check_batch(const bd_dataset *ds, const bd_tensor *xb, const bd_tensor *yb,
                        const int32_t *idx, int start, int n)
{
    for (int r = 0; r < n; r++) {
        const int i = idx ? idx[r] : start + r;
        for (int j = 0; j < D; j++) {
            const float got = bd_f32(xb)[(size_t)r * D + j], want = want_value(ds, i, j);
            if (memcmp(&got, &want, sizeof got) != 0)
                fail_msg("%s, %d threads: row %d (sample %d) value %d is %.9g, not %.9g",
                         ds->name, bd__parts(), r, i, j, got, want);
        }
        assert_int_equal(bd_i32(yb)[r], bd_i32(&ds->y)[i]);
    }
}

static void batches_on_threads(const bd_dataset *ds)
{
    bd_tensor xb, yb;
    int xs[2] = {N, D}, ys[1] = {N};
    assert_ok(bd_tensor_alloc(&xb, BD_F32, 2, xs));
    assert_ok(bd_tensor_alloc(&yb, BD_I32, 1, ys));
    int32_t idx[N];
    bd_rng r;
    bd_rng_seed(&r, 11);
    for (int i = 0; i < N; i++)
        idx[i] = (int32_t)bd_rng_below(&r, N);
    const int counts[] = {1, 2, 3, 4};
    const int sizes[] = {97, 1, 20, 100, N};
    for (size_t t = 0; t < sizeof counts / sizeof *counts; t++) {
        bd_set_threads(counts[t]);
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            const int n = sizes[k];
            memset(xb.data, 0xff, xb.size * sizeof(float)); /* NaN where nothing is written */
            assert_ok(bd_dataset_gather(ds, idx, n, &xb, &yb));
            check_batch(ds, &xb, &yb, idx, 0, n);
            memset(xb.data, 0xff, xb.size * sizeof(float));
            const int start = (N - n) / 2;
            assert_ok(bd_dataset_slice(ds, start, n, &xb, &yb));
            check_batch(ds, &xb, &yb, NULL, start, n);
        }
    }
    bd_set_threads(1);
    bd_tensor_free(&xb);
    bd_tensor_free(&yb);
}

static void bytes_split_over_threads(void **st)
{
    bd_dataset ds;
    u8_set(&ds);
    batches_on_threads(&ds);
    bd_dataset_free(&ds);
}

static void normalised_bytes_split_over_threads(void **st)
{
    bd_dataset ds;
    u8_set(&ds);
    const float mean[C] = {0.4f, 0.5f, 0.6f}, std[C] = {0.2f, 0.25f, 0.3f};
    assert_ok(bd_dataset_set_norm(&ds, mean, std));
    snprintf(ds.name, sizeof ds.name, "normalised u8");
    batches_on_threads(&ds);
    bd_dataset_free(&ds);
}

static void floats_split_over_threads(void **st)
{
    float *x = malloc((size_t)N * D * sizeof *x);
    int32_t y[N];
    bd_rng r;
    bd_rng_seed(&r, 5);
    for (size_t i = 0; i < (size_t)N * D; i++)
        x[i] = bd_rng_uniform(&r) - 0.5f;
    for (int i = 0; i < N; i++)
        y[i] = i % 7;
    bd_dataset ds;
    const int shape[3] = {C, H, W};
    assert_ok(bd_dataset_from_arrays(x, y, N, shape, 0, &ds));
    free(x);
    batches_on_threads(&ds);
    bd_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bytes_split_over_threads),
        cmocka_unit_test(normalised_bytes_split_over_threads),
        cmocka_unit_test(floats_split_over_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
