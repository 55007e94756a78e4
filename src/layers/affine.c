/* affine.c — the Affine layer (book 5.6.2): y = x·W + b, and its backward.
 * Both matrix products go through OpenBLAS cblas_sgemm, row-major. */
#include "internal.h"

#include <cblas.h>

/* x [B,I], W [I,O], b [O] -> y [B,O] */
void bd_affine_forward(float *y, const float *x, const float *W, const float *b,
                       int B, int In, int Out)
{
    /* Broadcast the bias into y first, then y = 1·x·W + 1·y: one GEMM pass. */
    for (int r = 0; r < B; r++)
        memcpy(y + (size_t)r * Out, b, (size_t)Out * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, Out, In, 1.0f, x, In, W, Out,
                1.0f, y, Out);
}

/* dy [B,O], x [B,I], W [I,O] -> dx [B,I] (optional), dW [I,O], db [O]
 * Book eq. 5.13: dL/dX = dL/dY · W^T,  dL/dW = X^T · dL/dY,  dL/db = Σ_B dL/dY */
void bd_affine_backward(float *dx, float *dW, float *db, const float *dy,
                        const float *x, const float *W, int B, int In, int Out)
{
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, In, Out, 1.0f, dy, Out, W, Out,
                    0.0f, dx, In);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, In, Out, B, 1.0f, x, In, dy, Out, 0.0f,
                dW, Out);
    for (int j = 0; j < Out; j++)
        db[j] = 0.0f;
    for (int r = 0; r < B; r++) {
        const float *row = dy + (size_t)r * Out;
        for (int j = 0; j < Out; j++)
            db[j] += row[j];
    }
}
