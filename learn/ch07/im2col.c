/* im2col.c — mirrors the book's 7.4.3 (im2col, common/util.py) and the
 * shapes it prints:
 *
 *   x1 = np.random.rand(1, 3, 7, 7);  col1 = im2col(x1, 5, 5, stride=1, pad=0)
 *   print(col1.shape)   # (9, 75)
 *   x2 = np.random.rand(10, 3, 7, 7); col2 = im2col(x2, 5, 5, stride=1, pad=0)
 *   print(col2.shape)   # (90, 75)
 *
 * then a small im2col written out, col2im back, and the library's
 * bd_im2col, which holds the same numbers transposed. */
#include "util.h"

static void shape(const char *name, int N, int C, int H, int W, int F, bd_rng *rng)
{
    int OH = out_size(H, F, 1, 0), OW = out_size(W, F, 1, 0);
    size_t n = (size_t)N * C * H * W, rows = (size_t)N * OH * OW, cols = (size_t)C * F * F;
    double *x = xmalloc(sizeof(double) * n), *col = xmalloc(sizeof(double) * rows * cols);
    for (size_t i = 0; i < n; i++)
        x[i] = bd_rng_uniform(rng); /* np.random.rand */
    im2col(col, x, N, C, H, W, F, F, 1, 0);
    printf("%s = rand(%d, %d, %d, %d); im2col(%s, %d, %d, stride=1, pad=0).shape = (%zu, %zu)\n",
           name, N, C, H, W, name, F, F, rows, cols);
    free(x), free(col);
}

int main(void)
{
    bd_rng rng;
    bd_rng_seed(&rng, 1);
    shape("x1", 1, 3, 7, 7, 5, &rng);
    shape("x2", 10, 3, 7, 7, 5, &rng);

    /* a 1x1x3x3 image, 2x2 filter: 4 windows, 4 values each */
    double x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, col[16], back[9];
    im2col(col, x, 1, 1, 3, 3, 2, 2, 1, 0);
    printf("x = [[1 2 3] [4 5 6] [7 8 9]], im2col(x, 2, 2) (a row per window):\n");
    for (int r = 0; r < 4; r++)
        printf("  [%g %g %g %g]\n", col[r * 4], col[r * 4 + 1], col[r * 4 + 2], col[r * 4 + 3]);
    col2im(back, col, 1, 1, 3, 3, 2, 2, 1, 0);
    printf("col2im(col) (each pixel times the windows it is in):\n");
    for (int r = 0; r < 3; r++)
        printf("  [%g %g %g]\n", back[r * 3], back[r * 3 + 1], back[r * 3 + 2]);

    /* the library's columns: [C*K*K, N*OH*OW], the transpose of the book's */
    bd_conv_geom g = {.B = 1, .C = 1, .H = 3, .W = 3, .F = 1, .K = 2, .S = 1, .P = 0};
    if (bd_conv_geom_init(&g, "im2col") != BD_OK)
        return 1;
    float xf[9], colf[16];
    for (int i = 0; i < 9; i++)
        xf[i] = (float)x[i];
    bd_im2col(colf, xf, &g);
    int same = 1;
    for (int r = 0; r < 4; r++)
        for (int k = 0; k < 4; k++)
            same &= colf[k * 4 + r] == (float)col[r * 4 + k];
    printf("bd_im2col: the same numbers transposed: %s\n", same ? "yes" : "NO");
    return !same;
}
