/* conv_pool_check.c — the book's Convolution and Pooling classes
 * (common/layers.py, 7.4.3-7.4.4, written plainly in layers.h) beside the
 * library's fast kernels (bd_conv2d_forward / backward, bd_maxpool_forward /
 * backward, src/layers/conv.c and pool.c) on the same random data: forward
 * outputs and every gradient must agree to float rounding.
 *
 * Prints, per case, the largest |naive - fast| of out, dx, dW, db; exits 1
 * if one is above 1e-4 (the fast kernels are float, the book's double). */
#include "layers.h"

static bd_rng rng;

static double *rand_buf(size_t n, float *copy)
{
    double *v = xmalloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++)
        copy[i] = (float)(v[i] = bd_rng_normal(&rng)); /* np.random.randn */
    return v;
}

static double maxdiff(const double *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - (double)b[i]));
    return m;
}

static int report(const char *what, const char *name, double d)
{
    printf("  %-5s %-4s max |naive - fast| = %.2e  %s\n", what, name, d, d < 1e-4 ? "agree" : "DIFFER");
    return d < 1e-4;
}

/* Convolution of x [N,C,H,W] with FN filters of K x K, stride S, pad P */
static int check_conv(int N, int C, int H, int W, int FN, int K, int S, int P)
{
    bd_conv_geom g = {.B = N, .C = C, .H = H, .W = W, .F = FN, .K = K, .S = S, .P = P};
    if (bd_conv_geom_init(&g, "conv") != BD_OK)
        return 0;
    size_t nx = (size_t)N * C * H * W, nw = (size_t)FN * C * K * K, ny = (size_t)N * FN * g.OH * g.OW;
    float *xf = xmalloc(4 * nx), *wf = xmalloc(4 * nw), *bf = xmalloc(4 * FN), *dyf = xmalloc(4 * ny);
    float *yf = xmalloc(4 * ny), *dxf = xmalloc(4 * nx), *dwf = xmalloc(4 * nw), *dbf = xmalloc(4 * FN);
    float *scratch = xmalloc(4 * bd_conv2d_scratch(&g));
    double *x = rand_buf(nx, xf), *w = rand_buf(nw, wf), *b = rand_buf(FN, bf), *dy = rand_buf(ny, dyf);
    double *y = xmalloc(8 * ny), *dx = xmalloc(8 * nx);
    Convolution conv = {.W = w, .b = b, .FN = FN, .C = C, .FH = K, .FW = K, .stride = S, .pad = P};
    conv_forward(&conv, y, x, N, H, W);
    conv_backward(&conv, dx, dy);
    bd_conv2d_forward(yf, xf, wf, bf, scratch, &g);
    bd_conv2d_backward(dxf, dwf, dbf, dyf, xf, wf, scratch, &g);
    printf("Convolution x (%d, %d, %d, %d), W (%d, %d, %d, %d), stride %d, pad %d -> (%d, %d, %d, %d)\n",
           N, C, H, W, FN, C, K, K, S, P, N, FN, g.OH, g.OW);
    int ok = report("conv", "out", maxdiff(y, yf, ny)) & report("conv", "dx", maxdiff(dx, dxf, nx)) &
             report("conv", "dW", maxdiff(conv.dW, dwf, nw)) & report("conv", "db", maxdiff(conv.db, dbf, FN));
    conv_free(&conv);
    free(xf), free(wf), free(bf), free(dyf), free(yf), free(dxf), free(dwf), free(dbf), free(scratch);
    free(x), free(w), free(b), free(dy), free(y), free(dx);
    return ok;
}

/* max pooling of x [N,C,H,W] in K x K windows, stride S */
static int check_pool(int N, int C, int H, int W, int K, int S)
{
    bd_conv_geom g = {.B = N, .C = C, .H = H, .W = W, .F = C, .K = K, .S = S, .P = 0};
    if (bd_conv_geom_init(&g, "pool") != BD_OK)
        return 0;
    size_t nx = (size_t)N * C * H * W, ny = (size_t)N * C * g.OH * g.OW;
    float *xf = xmalloc(4 * nx), *dyf = xmalloc(4 * ny), *yf = xmalloc(4 * ny), *dxf = xmalloc(4 * nx);
    int32_t *am = xmalloc(sizeof(int32_t) * ny);
    double *x = rand_buf(nx, xf), *dy = rand_buf(ny, dyf), *y = xmalloc(8 * ny), *dx = xmalloc(8 * nx);
    Pooling pool = {.pool_h = K, .pool_w = K, .stride = S, .pad = 0};
    pool_forward(&pool, y, x, N, C, H, W);
    pool_backward(&pool, dx, dy);
    bd_maxpool_forward(yf, am, xf, &g);
    bd_maxpool_backward(dxf, dyf, am, &g);
    printf("Pooling x (%d, %d, %d, %d), %dx%d windows, stride %d -> (%d, %d, %d, %d)\n", N, C, H, W,
           K, K, S, N, C, g.OH, g.OW);
    int ok = report("pool", "out", maxdiff(y, yf, ny)) & report("pool", "dx", maxdiff(dx, dxf, nx));
    pool_free(&pool);
    free(xf), free(dyf), free(yf), free(dxf), free(am), free(x), free(dy), free(y), free(dx);
    return ok;
}

int main(void)
{
    bd_set_threads(1);
    bd_rng_seed(&rng, 7);
    int ok = check_conv(2, 3, 7, 7, 4, 3, 1, 1);  /* 3x3, "same" padding */
    ok &= check_conv(2, 3, 7, 7, 2, 5, 1, 0);     /* the book's 5x5 on 7x7 */
    ok &= check_conv(3, 2, 9, 8, 3, 3, 2, 1);     /* stride 2, not square */
    ok &= check_pool(2, 3, 6, 6, 2, 2);           /* the book's 2x2, stride 2 */
    ok &= check_pool(2, 2, 7, 7, 3, 2);           /* overlapping windows */
    printf("%s\n", ok ? "naive and fast layers agree" : "naive and fast layers DIFFER");
    return !ok;
}
