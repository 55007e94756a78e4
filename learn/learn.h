/* learn.h — the few helpers the learn/ programs share.
 *
 * The programs in learn/ are the book's Python (밑바닥부터 시작하는 딥러닝,
 * github.com/WegraLee/deep-learning-from-scratch) written again in plain,
 * single-threaded C: loops where the book calls numpy, double where numpy
 * computes in float64. They are for reading beside the book; the fast
 * engine is src/. Each program's header names the book file it mirrors.
 *
 *   print_repr(x)      a double as Python's print() writes it: the shortest
 *                      digits that read back to the same number (2.2,
 *                      3.3000000000000003, 6.111107928998789e-10)
 *   load_mnist(...)    the book's dataset/mnist.py load_mnist(normalize=True,
 *                      one_hot_label=False): images as doubles in [0, 1]
 */
#ifndef LEARN_H
#define LEARN_H

#include "badak.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Python's repr of a float: the fewest significant digits (1..17) that read
 * back exactly; fixed notation for exponents -4..15, else 1e-05 style. */
static inline void repr(char *buf, size_t len, double x)
{
    if (isnan(x) || isinf(x)) {
        snprintf(buf, len, "%s", isnan(x) ? "nan" : (x > 0 ? "inf" : "-inf"));
        return;
    }
    int p = 1;
    for (; p < 17; p++) {
        snprintf(buf, len, "%.*e", p - 1, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    snprintf(buf, len, "%.*e", p - 1, x); /* the exponent as printed, after rounding */
    int e = atoi(strchr(buf, 'e') + 1);
    if (e < -4 || e >= 16) {
        if (p == 1) { /* Python writes 1e-05, not 1.e-05 */
            char *d = strchr(buf, '.');
            if (d)
                memmove(d, d + 1, strlen(d));
        }
        return;
    }
    snprintf(buf, len, "%.*f", p - 1 - e > 0 ? p - 1 - e : 0, x);
    if (!strchr(buf, '.'))
        strncat(buf, ".0", len - strlen(buf) - 1);
}

static inline void print_repr(double x)
{
    char buf[64];
    repr(buf, sizeof buf, x);
    fputs(buf, stdout);
}

/* print("name", [a, b, ...]) as Python prints a list of floats */
static inline void print_list(const char *name, const double *v, int n)
{
    if (name)
        printf("%s ", name);
    putchar('[');
    for (int i = 0; i < n; i++) {
        if (i)
            fputs(", ", stdout);
        print_repr(v[i]);
    }
    puts("]");
}

/* malloc or exit: these programs are short and have nothing to save */
static inline void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

/* The MNIST folder: $BADAK_MNIST_DIR, else ./data/mnist. */
static inline const char *mnist_dir(void)
{
    const char *d = getenv("BADAK_MNIST_DIR");
    return d && *d ? d : "data/mnist";
}

/* load_mnist(normalize=True): the first n images of the `kind` ("train" or
 * "t10k") set as x [n, 784] doubles in [0, 1] and their labels t [n].
 * Reads DIR/KIND-images-idx3-ubyte (or .gz) with the library's IDX reader.
 * Returns 0 when the files are not there (the caller says so and skips). */
static inline int load_mnist(const char *kind, int n, double **x, int **t)
{
    char path[4096];
    bd_idx img, lab;
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", mnist_dir(), kind);
    if (bd_idx_read(path, &img) != BD_OK) {
        strncat(path, ".gz", sizeof path - strlen(path) - 1);
        if (bd_idx_read(path, &img) != BD_OK)
            return 0;
    }
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", mnist_dir(), kind);
    if (bd_idx_read(path, &lab) != BD_OK) {
        strncat(path, ".gz", sizeof path - strlen(path) - 1);
        if (bd_idx_read(path, &lab) != BD_OK) {
            bd_idx_free(&img);
            return 0;
        }
    }
    if (n > img.dims[0])
        n = img.dims[0];
    *x = xmalloc(sizeof **x * (size_t)n * 784);
    *t = xmalloc(sizeof **t * (size_t)n);
    for (size_t i = 0; i < (size_t)n * 784; i++)
        (*x)[i] = bd_u8(&img.t)[i] / 255.0;
    for (int i = 0; i < n; i++)
        (*t)[i] = bd_u8(&lab.t)[i];
    bd_idx_free(&img);
    bd_idx_free(&lab);
    return n;
}

/* np.random.randn: a standard normal from the library's seeded PRNG */
static inline double randn(bd_rng *r) { return bd_rng_normal(r); }

#endif
