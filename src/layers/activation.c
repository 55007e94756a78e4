/* activation.c — element-wise activation layers (book 5.5). Backward uses the
 * saved output y, so the layer keeps no extra mask buffer. */
#include "internal.h"

#include <math.h>

/* x [n] -> y [n] */
void bd_relu_forward(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* dy, y [n] -> dx [n]: the gradient passes where the unit was on (book 5.5.1) */
void bd_relu_backward(float *dx, const float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* x [n] -> y [n]; written so exp never overflows for large |x| */
void bd_sigmoid_forward(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        if (v >= 0.0f) {
            y[i] = 1.0f / (1.0f + expf(-v));
        } else {
            float e = expf(v);
            y[i] = e / (1.0f + e);
        }
    }
}

/* dy, y [n] -> dx [n]: dL/dx = dL/dy · y(1 − y)  (book eq. 5.12) */
void bd_sigmoid_backward(float *dx, const float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}
