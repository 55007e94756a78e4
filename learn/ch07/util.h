/* util.h — mirrors the book's common/util.py (7.4.3): im2col and col2im
 * in the book's layout. A batch x [N, C, H, W] becomes col with one ROW per
 * output position and one column per filter element:
 *
 *   col [N*OH*OW, C*FH*FW],  col[(n*OH + oy)*OW + ox][(c*FH + y)*FW + x]
 *                              = x[n][c][oy*stride + y - pad][ox*stride + x - pad]
 *
 * (0 where that falls in the padding), OH = (H + 2 pad - FH) / stride + 1
 * (book eq. 7.1). A convolution is then one matrix product col . W^T.
 *
 * The fast bd_im2col (src/layers/conv.c) stores the transpose,
 * [C*FH*FW, N*OH*OW], and builds one sample at a time; the numbers are the
 * same (ch07/im2col.c shows it). */
#ifndef UTIL_H
#define UTIL_H

#include "learn.h"

static inline int out_size(int in, int f, int stride, int pad)
{
    return (in + 2 * pad - f) / stride + 1;
}

static inline void im2col(double *col, const double *x, int N, int C, int H, int W, int FH,
                          int FW, int stride, int pad)
{
    int OH = out_size(H, FH, stride, pad), OW = out_size(W, FW, stride, pad);
    int cols = C * FH * FW;
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                double *row = col + (size_t)((n * OH + oy) * OW + ox) * cols;
                for (int c = 0; c < C; c++)
                    for (int y = 0; y < FH; y++)
                        for (int xx = 0; xx < FW; xx++) {
                            int iy = oy * stride + y - pad, ix = ox * stride + xx - pad;
                            int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
                            row[(c * FH + y) * FW + xx] =
                                inside ? x[((size_t)(n * C + c) * H + iy) * W + ix] : 0;
                        }
            }
}

/* col2im: the way back, each column element added to the pixel it came from
 * (pixels inside several windows get the sum), the padding dropped */
static inline void col2im(double *x, const double *col, int N, int C, int H, int W, int FH,
                          int FW, int stride, int pad)
{
    int OH = out_size(H, FH, stride, pad), OW = out_size(W, FW, stride, pad);
    int cols = C * FH * FW;
    memset(x, 0, sizeof(double) * N * C * H * W);
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                const double *row = col + (size_t)((n * OH + oy) * OW + ox) * cols;
                for (int c = 0; c < C; c++)
                    for (int y = 0; y < FH; y++)
                        for (int xx = 0; xx < FW; xx++) {
                            int iy = oy * stride + y - pad, ix = ox * stride + xx - pad;
                            if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                x[((size_t)(n * C + c) * H + iy) * W + ix] +=
                                    row[(c * FH + y) * FW + xx];
                        }
            }
}

#endif
