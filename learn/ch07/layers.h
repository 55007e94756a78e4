/* layers.h — mirrors the Convolution and Pooling classes of the book's
 * common/layers.py (7.4.3, 7.4.4): im2col, then one matrix product
 * (convolution) or a row maximum (pooling), in plain loops over doubles.
 *
 *   Convolution  x [N,C,H,W], W [FN,C,FH,FW], b [FN] -> out [N,FN,OH,OW]
 *   Pooling      x [N,C,H,W] -> out [N,C,OH,OW], the maximum of each window
 *
 * The fast versions: src/layers/conv.c and src/layers/pool.c. */
#ifndef CH07_LAYERS_H
#define CH07_LAYERS_H

#include "util.h"

typedef struct Convolution {
    const double *W, *b;
    int FN, C, FH, FW, stride, pad;
    int N, H, Wd, OH, OW;  /* the shape of the last forward */
    double *col;           /* [N*OH*OW, C*FH*FW], kept for backward */
    double *dW, *db;       /* [FN, C*FH*FW], [FN] */
} Convolution;

/* out[n][f][oy][ox] = sum_k col[row][k] W[f][k] + b[f], row = (n*OH + oy)*OW + ox:
 * the book's np.dot(col, col_W) + b, then reshape and transpose(0, 3, 1, 2) */
static inline void conv_forward(Convolution *l, double *out, const double *x, int N, int H, int W)
{
    l->N = N, l->H = H, l->Wd = W;
    l->OH = out_size(H, l->FH, l->stride, l->pad), l->OW = out_size(W, l->FW, l->stride, l->pad);
    int K = l->C * l->FH * l->FW, rows = N * l->OH * l->OW, OHW = l->OH * l->OW;
    l->col = xmalloc(sizeof(double) * rows * K);
    im2col(l->col, x, N, l->C, H, W, l->FH, l->FW, l->stride, l->pad);
    for (int r = 0; r < rows; r++)
        for (int f = 0; f < l->FN; f++) {
            double s = l->b[f];
            for (int k = 0; k < K; k++)
                s += l->col[(size_t)r * K + k] * l->W[f * K + k];
            int n = r / OHW, p = r % OHW;
            out[((size_t)n * l->FN + f) * OHW + p] = s;
        }
}

/* dout [N,FN,OH,OW] -> dx [N,C,H,W]; fills dW and db. The book:
 * dout = dout.transpose(0,2,3,1).reshape(-1, FN); db = np.sum(dout, axis=0);
 * dW = np.dot(col.T, dout); dcol = np.dot(dout, col_W.T); dx = col2im(dcol) */
static inline void conv_backward(Convolution *l, double *dx, const double *dout)
{
    int K = l->C * l->FH * l->FW, rows = l->N * l->OH * l->OW, OHW = l->OH * l->OW;
    double *dcol = xmalloc(sizeof(double) * rows * K);
    l->dW = xmalloc(sizeof(double) * l->FN * K);
    l->db = xmalloc(sizeof(double) * l->FN);
    memset(l->dW, 0, sizeof(double) * l->FN * K);
    memset(l->db, 0, sizeof(double) * l->FN);
    memset(dcol, 0, sizeof(double) * rows * K);
    for (int r = 0; r < rows; r++)
        for (int f = 0; f < l->FN; f++) {
            double d = dout[((size_t)(r / OHW) * l->FN + f) * OHW + r % OHW];
            l->db[f] += d;
            for (int k = 0; k < K; k++) {
                l->dW[f * K + k] += l->col[(size_t)r * K + k] * d;
                dcol[(size_t)r * K + k] += d * l->W[f * K + k];
            }
        }
    col2im(dx, dcol, l->N, l->C, l->H, l->Wd, l->FH, l->FW, l->stride, l->pad);
    free(dcol);
}

static inline void conv_free(Convolution *l) { free(l->col), free(l->dW), free(l->db); }

typedef struct Pooling {
    int pool_h, pool_w, stride, pad;
    int N, C, H, W, OH, OW;
    int *arg_max; /* [N*OH*OW*C]: which element of its window was the maximum */
} Pooling;

/* The book: col = im2col(x, pool_h, pool_w, stride, pad).reshape(-1, pool_h*pool_w),
 * one row per (n, oy, ox, c); out = np.max(col, axis=1), reshaped and
 * transposed to [N, C, OH, OW]. The first maximum wins a tie (np.argmax). */
static inline void pool_forward(Pooling *l, double *out, const double *x, int N, int C, int H, int W)
{
    l->N = N, l->C = C, l->H = H, l->W = W;
    l->OH = out_size(H, l->pool_h, l->stride, l->pad);
    l->OW = out_size(W, l->pool_w, l->stride, l->pad);
    int P = l->pool_h * l->pool_w, rows = N * l->OH * l->OW * C;
    double *col = xmalloc(sizeof(double) * rows * P);
    im2col(col, x, N, C, H, W, l->pool_h, l->pool_w, l->stride, l->pad);
    l->arg_max = xmalloc(sizeof(int) * rows);
    for (int r = 0; r < rows; r++) { /* r = ((n*OH + oy)*OW + ox)*C + c */
        const double *w = col + (size_t)r * P;
        int best = 0;
        for (int k = 1; k < P; k++)
            best = w[k] > w[best] ? k : best;
        l->arg_max[r] = best;
        int c = r % C, pos = r / C, n = pos / (l->OH * l->OW), p = pos % (l->OH * l->OW);
        out[((size_t)n * C + c) * l->OH * l->OW + p] = w[best];
    }
    free(col);
}

/* dmax[r][arg_max[r]] = dout (transposed to (n, oy, ox, c) order), the rest
 * 0; then col2im sums the windows back into dx [N, C, H, W] */
static inline void pool_backward(Pooling *l, double *dx, const double *dout)
{
    int P = l->pool_h * l->pool_w, C = l->C, OHW = l->OH * l->OW, rows = l->N * OHW * C;
    double *dmax = xmalloc(sizeof(double) * rows * P);
    memset(dmax, 0, sizeof(double) * rows * P);
    for (int r = 0; r < rows; r++) {
        int c = r % C, pos = r / C, n = pos / OHW, p = pos % OHW;
        dmax[(size_t)r * P + l->arg_max[r]] = dout[((size_t)n * C + c) * OHW + p];
    }
    col2im(dx, dmax, l->N, C, l->H, l->W, l->pool_h, l->pool_w, l->stride, l->pad);
    free(dmax);
}

static inline void pool_free(Pooling *l) { free(l->arg_max); }

#endif
