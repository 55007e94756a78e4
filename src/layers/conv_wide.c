/* conv_wide.c — the fast kernels of stride-1, unpadded convolutions (the
 * first layers of simple_convnet, lenet5, mnist99). The reference path
 * (conv.c) builds a sample's columns [C*K*K, OH*OW] one output row at a
 * time: C*K*K*OH copies of OW floats (24 for a 5x5 kernel on 28x28), and
 * the per-row overhead made im2col + col2im a third of simple_convnet's
 * time. Here the columns are "wide", [C*K*K, OH*W]: output position
 * (oh, ow) for every ow < W, of which the last W - OW of each row are
 * garbage. Then row (c,kh,kw) is one contiguous copy of channel c from
 * offset kh*W + kw, and col2im one contiguous add per row:
 *
 *   colw_b [C*K*K, OH*W] = wide im2col(x_b)      (C*K*K memcpy)
 *   yw_b   [F, OH*W]     = W · colw_b            (OW/W more FLOPs, 1.17x for 5x5 on 28)
 *   y_b                  = yw_b without its garbage columns, + b, ReLU if fused
 *
 * Backward: dyw_b is dy_b with zeros in the garbage columns (and the fused
 * ReLU's mask), so dW = Σ dyw_b · colw_bᵀ gets nothing from them and
 * dcolw = Wᵀ · dyw_b is exactly 0 there: the contiguous col2im adds 0 to
 * the inputs those columns would wrap onto. The numbers equal the
 * reference's to rounding (the products' sums run over different lengths);
 * tests/test_kernels.c compares the two on odd shapes. */
#include "internal.h"

#include <cblas.h>

int bd__conv_wide_applies(const bd_conv_geom *g)
{
    return g->S == 1 && g->P == 0 && g->OW < g->W;
}

/* x_b [C,H,W] -> colw [C*K*K, OH*W]. Row (c,kh,kw) is channel c from kh*W +
 * kw on; its tail past the channel's end (garbage columns of the last
 * output row only) is zeroed, so nothing is read out of bounds. */
static void im2col_wide(float *col, const float *x, const bd_conv_geom *g)
{
    const int K = g->K, W = g->W;
    const size_t HW = (size_t)g->H * W, L = (size_t)g->OH * W;
    for (int c = 0; c < g->C; c++)
        for (int kh = 0; kh < K; kh++)
            for (int kw = 0; kw < K; kw++) {
                float *row = col + ((size_t)(c * K + kh) * K + kw) * L;
                const size_t off = (size_t)kh * W + kw, n = BD_MIN(L, HW - off);
                memcpy(row, x + c * HW + off, n * sizeof(float));
                if (n < L)
                    memset(row + n, 0, (L - n) * sizeof(float));
            }
}

/* dx_b [C,H,W] = Σ over rows of colw, each added at its offset */
BD_HOT static void col2im_wide(float *dx, const float *col, const bd_conv_geom *g)
{
    const int K = g->K, W = g->W;
    const size_t HW = (size_t)g->H * W, L = (size_t)g->OH * W;
    memset(dx, 0, (size_t)g->C * HW * sizeof(float));
    for (int c = 0; c < g->C; c++)
        for (int kh = 0; kh < K; kh++)
            for (int kw = 0; kw < K; kw++) {
                const float *restrict row = col + ((size_t)(c * K + kh) * K + kw) * L;
                const size_t off = (size_t)kh * W + kw, n = BD_MIN(L, HW - off);
                float *restrict d = dx + c * HW + off;
                for (size_t q = 0; q < n; q++)
                    d[q] += row[q];
            }
}

/* y [F, OH*OW] = yw [F, OH*W] without its garbage columns, + b, ReLU if
 * fused */
BD_HOT static void narrow_y(float *y, const float *yw, const float *b, const bd_conv_geom *g1,
                            int relu)
{
    const int F = g1->F, OH = g1->OH, OW = g1->OW, W = g1->W, L = OH * W;
    for (int f = 0; f < F; f++) {
        const float bias = b ? b[f] : 0.0f;
        for (int oh = 0; oh < OH; oh++) {
            const float *restrict s = yw + (size_t)f * L + (size_t)oh * W;
            float *restrict d = y + ((size_t)f * OH + oh) * OW;
            if (relu)
                for (int ow = 0; ow < OW; ow++) {
                    const float v = s[ow] + bias;
                    d[ow] = v > 0.0f ? v : 0.0f;
                }
            else
                for (int ow = 0; ow < OW; ow++)
                    d[ow] = s[ow] + bias;
        }
    }
}

/* One sample (g1->B == 1): y [F, OH*OW] from x [C,H,W]; col: C*K*K*OH*W
 * floats, yw: F*OH*W floats of scratch. pool (not NULL, with relu): also
 * the 2x2 max-pool of y into pool->p, pool->am (conv_pool.c). */
void bd__conv_wide_forward(float *y, const float *x, const float *Wt, const float *b, float *col,
                           float *yw, const bd_conv_geom *g1, int relu, const bd__fused_pool *pool)
{
    const int F = g1->F, CKK = g1->C * g1->K * g1->K, L = g1->OH * g1->W;
    im2col_wide(col, x, g1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, F, L, CKK, 1.0f, Wt, CKK, col, L,
                0.0f, yw, L);
    if (pool)
        bd__conv_pool_narrow(y, pool->p, pool->am, yw, b, g1);
    else
        narrow_y(y, yw, b, g1, relu);
}

/* One sample: dyw = dy with zeroed garbage columns (and, with yrelu, the
 * fused ReLU's mask: dy where y > 0); db += its row sums. */
BD_HOT static void widen_dy(float *dyw, float *db, const float *dy, const float *yrelu,
                     const bd_conv_geom *g1)
{
    const int F = g1->F, OH = g1->OH, OW = g1->OW, W = g1->W;
    for (int f = 0; f < F; f++) {
        float acc = 0.0f;
        for (int oh = 0; oh < OH; oh++) {
            const size_t o = ((size_t)f * OH + oh) * OW;
            const float *restrict s = dy + o;
            float *restrict d = dyw + ((size_t)f * OH + oh) * W;
            if (yrelu) {
                const float *restrict yr = yrelu + o;
                for (int ow = 0; ow < OW; ow++)
                    d[ow] = yr[ow] > 0.0f ? s[ow] : 0.0f;
            } else {
                for (int ow = 0; ow < OW; ow++)
                    d[ow] = s[ow];
            }
            for (int ow = OW; ow < W; ow++)
                d[ow] = 0.0f;
            acc += bd__sum(d, (size_t)OW);
        }
        db[f] += acc;
    }
}

/* One sample's backward: pdW [F, C*K*K] = (accumulate ? pdW : 0) +
 * dyw · colwᵀ, pdb += Σ dyw, and dx [C,H,W] (if not NULL) = col2im(Wᵀ ·
 * dyw). col and dyw: scratch as in the forward. pool (not NULL): dy is
 * unused, the gradient comes through the fused max-pool from pool->dp. */
void bd__conv_wide_backward(float *dx, float *pdW, float *pdb, int accumulate, const float *dy,
                            const float *yrelu, const float *x, const float *Wt, float *col,
                            float *dyw, const bd_conv_geom *g1, const bd__fused_pool *pool)
{
    const int F = g1->F, CKK = g1->C * g1->K * g1->K, L = g1->OH * g1->W;
    if (pool)
        bd__conv_pool_widen(dyw, pdb, pool->dp, pool->p, pool->am, g1);
    else
        widen_dy(dyw, pdb, dy, yrelu, g1);
    im2col_wide(col, x, g1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, F, CKK, L, 1.0f, dyw, L, col, L,
                accumulate ? 1.0f : 0.0f, pdW, CKK);
    if (dx) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, L, F, 1.0f, Wt, CKK, dyw, L,
                    0.0f, col, L);
        col2im_wide(dx, col, g1);
    }
}
