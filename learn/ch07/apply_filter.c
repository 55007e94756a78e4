/* apply_filter.c — mirrors the book's ch07/apply_filter.py (7.6.1, figure
 * 7-25): an image through Convolution layers of one filter each. The book
 * uses the learned first-layer filters of SimpleConvNet on lena_gray.png;
 * here two hand-made edge filters, so that what each one answers to can be
 * read off the printed numbers:
 *
 *   vertical edges   [[1 0 -1] [1 0 -1] [1 0 -1]]  (left bright, right dark: +)
 *   horizontal edges [[1 1 1] [0 0 0] [-1 -1 -1]]  (top bright, bottom dark: +)
 *
 *   apply_filter            a white 6x6 square on a black 10x10 image
 *   apply_filter --mnist I  test digit I of MNIST (28x28)
 *
 * Printed as numbers: the image 0..9 (9 = white), each output scaled to
 * -9..9 by its largest magnitude. */
#include "layers.h"

static void show(const char *title, const double *v, int H, int W, int signed_)
{
    double m = 0;
    for (int i = 0; i < H * W; i++)
        m = fmax(m, fabs(v[i]));
    printf("%s (largest |value| %.4g):\n", title, m);
    for (int r = 0; r < H; r++) {
        for (int c = 0; c < W; c++) {
            int q = m > 0 ? (int)lround(9 * v[r * W + c] / m) : 0;
            printf(signed_ ? "%3d" : "%2d", q);
        }
        putchar('\n');
    }
}

int main(int argc, char **argv)
{
    int H = 10, W = 10;
    double *img;
    if (argc == 3 && !strcmp(argv[1], "--mnist")) {
        double *xs;
        int *ts, i = atoi(argv[2]), n = i < 0 ? 0 : load_mnist("t10k", i + 1, &xs, &ts);
        if (n <= i) {
            if (n)
                free(xs), free(ts);
            printf("skipped: no MNIST test digit %d in %s\n", i, mnist_dir());
            return 0;
        }
        H = W = 28;
        img = xmalloc(sizeof(double) * H * W);
        memcpy(img, xs + (size_t)i * H * W, sizeof(double) * H * W);
        printf("MNIST test digit %d, a %d\n", i, ts[i]);
        free(xs), free(ts);
    } else {
        img = xmalloc(sizeof(double) * H * W);
        for (int r = 0; r < H; r++)
            for (int c = 0; c < W; c++)
                img[r * W + c] = r >= 2 && r < 8 && c >= 2 && c < 8;
    }
    show("image", img, H, W, 0);
    static const double filters[2][9] = {{1, 0, -1, 1, 0, -1, 1, 0, -1},
                                         {1, 1, 1, 0, 0, 0, -1, -1, -1}};
    static const char *names[2] = {"vertical-edge filter", "horizontal-edge filter"};
    double b = 0, *out = xmalloc(sizeof(double) * (H - 2) * (W - 2));
    for (int f = 0; f < 2; f++) {
        /* conv_layer = Convolution(w, b): 1 filter, 3x3, stride 1, no padding */
        Convolution conv = {.W = filters[f], .b = &b, .FN = 1, .C = 1, .FH = 3, .FW = 3, .stride = 1};
        conv_forward(&conv, out, img, 1, H, W);
        show(names[f], out, conv.OH, conv.OW, 1);
        conv_free(&conv);
    }
    free(img), free(out);
    return 0;
}
