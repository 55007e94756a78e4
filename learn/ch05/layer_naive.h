/* layer_naive.h — mirrors the book's ch05/layer_naive.py (5.4, simple
 * layers): MulLayer and AddLayer, each with forward and backward, for the
 * apple-shopping graphs of buy_apple.c and buy_apple_orange.c.
 *
 * A layer keeps what its backward needs: the multiplication its two inputs
 * (it sends each input's gradient as dout times the *other* input, book
 * 5.3.2), the addition nothing (it passes dout through to both, 5.3.1). */
#ifndef LAYER_NAIVE_H
#define LAYER_NAIVE_H

typedef struct MulLayer {
    double x, y;
} MulLayer;

static inline double mul_forward(MulLayer *l, double x, double y)
{
    l->x = x;
    l->y = y;
    return x * y;
}

/* dx = dout * y, dy = dout * x */
static inline void mul_backward(const MulLayer *l, double dout, double *dx, double *dy)
{
    *dx = dout * l->y;
    *dy = dout * l->x;
}

typedef struct AddLayer {
    int unused; /* nothing to keep */
} AddLayer;

static inline double add_forward(AddLayer *l, double x, double y)
{
    (void)l;
    return x + y;
}

/* dx = dout * 1, dy = dout * 1 */
static inline void add_backward(const AddLayer *l, double dout, double *dx, double *dy)
{
    (void)l;
    *dx = dout * 1;
    *dy = dout * 1;
}

#endif
