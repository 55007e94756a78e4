/* conv.c — Conv2d (book 7.2, 7.4 Convolution): im2col turns every output
 * position's input window into a column, so the convolution of the whole
 * batch is one matrix product through cblas_sgemm:
 *
 *   col [C*K*K, B*OH*OW] = im2col(x)
 *   Y   [F, B*OH*OW]     = W [F, C*K*K] · col
 *   y   [B, F, OH, OW]   = Y reordered to NCHW, + b
 *
 * The book builds col as [B*OH*OW, C*K*K] (one row per window); this is its
 * transpose, which makes the reorder to NCHW a copy of whole OH*OW runs.
 * Backward (book 7.4.3): dW = dY · colᵀ, dcol = Wᵀ · dY, dx = col2im(dcol).
 * The columns live in the network's shared scratch and are built again in
 * backward, so no layer keeps a copy between the passes. */
#include "internal.h"

#include <cblas.h>
#include <math.h>

bd_status bd_conv_geom_init(bd_conv_geom *g, const char *who)
{
    if (g->K < 1 || g->S < 1 || g->P < 0)
        return bd_error(BD_ERR_ARG, "%s: kernel %d, stride %d, pad %d (kernel and stride must be "
                        ">= 1, pad >= 0)", who, g->K, g->S, g->P);
    if (g->P >= g->K)
        return bd_error(BD_ERR_ARG, "%s: padding %d must be smaller than the kernel %d", who,
                        g->P, g->K);
    if (g->K > g->H + 2 * g->P || g->K > g->W + 2 * g->P)
        return bd_error(BD_ERR_SHAPE, "%s: kernel %d larger than input %dx%d + padding %d", who,
                        g->K, g->H, g->W, g->P);
    g->OH = (g->H + 2 * g->P - g->K) / g->S + 1; /* book eq. 7.1 */
    g->OW = (g->W + 2 * g->P - g->K) / g->S + 1;
    return BD_OK;
}

size_t bd_conv2d_scratch(const bd_conv_geom *g)
{
    size_t n = (size_t)g->B * g->OH * g->OW;
    return ((size_t)g->C * g->K * g->K + (size_t)g->F) * n;
}

/* The output columns ow whose input column ow*S - P + kw lies inside [0, W). */
static void valid_cols(const bd_conv_geom *g, int kw, int *lo, int *hi)
{
    int a = g->P - kw; /* need ow*S >= P - kw */
    *lo = a <= 0 ? 0 : (a + g->S - 1) / g->S;
    int b = g->W - 1 + g->P - kw; /* need ow*S <= W - 1 + P - kw */
    *hi = b < 0 ? 0 : BD_MIN(g->OW, b / g->S + 1);
    if (*lo > *hi)
        *lo = *hi;
}

/* x [B,C,H,W] -> col [C*K*K, B*OH*OW]; row (c,kh,kw), column (b,oh,ow) */
void bd_im2col(float *col, const float *x, const bd_conv_geom *g)
{
    const int K = g->K, S = g->S, OW = g->OW, OHW = g->OH * g->OW;
    const size_t N = (size_t)g->B * OHW, HW = (size_t)g->H * g->W;
    for (int c = 0; c < g->C; c++)
        for (int kh = 0; kh < K; kh++)
            for (int kw = 0; kw < K; kw++) {
                float *row = col + ((size_t)(c * K + kh) * K + kw) * N;
                int lo, hi;
                valid_cols(g, kw, &lo, &hi);
                for (int b = 0; b < g->B; b++) {
                    const float *xp = x + ((size_t)b * g->C + c) * HW;
                    float *dst = row + (size_t)b * OHW;
                    for (int oh = 0; oh < g->OH; oh++) {
                        float *d = dst + (size_t)oh * OW;
                        int ih = oh * S - g->P + kh;
                        if (ih < 0 || ih >= g->H) {
                            memset(d, 0, (size_t)OW * sizeof(float));
                            continue;
                        }
                        const float *xr = xp + (size_t)ih * g->W + kw - g->P;
                        for (int ow = 0; ow < lo; ow++)
                            d[ow] = 0.0f;
                        if (S == 1)
                            memcpy(d + lo, xr + lo, (size_t)(hi - lo) * sizeof(float));
                        else
                            for (int ow = lo; ow < hi; ow++)
                                d[ow] = xr[ow * S];
                        for (int ow = hi; ow < OW; ow++)
                            d[ow] = 0.0f;
                    }
                }
            }
}

/* col [C*K*K, B*OH*OW] -> dx [B,C,H,W], overlapping windows summed */
void bd_col2im(float *dx, const float *col, const bd_conv_geom *g)
{
    const int K = g->K, S = g->S, OW = g->OW, OHW = g->OH * g->OW;
    const size_t N = (size_t)g->B * OHW, HW = (size_t)g->H * g->W;
    memset(dx, 0, (size_t)g->B * g->C * HW * sizeof(float));
    for (int c = 0; c < g->C; c++)
        for (int kh = 0; kh < K; kh++)
            for (int kw = 0; kw < K; kw++) {
                const float *row = col + ((size_t)(c * K + kh) * K + kw) * N;
                int lo, hi;
                valid_cols(g, kw, &lo, &hi);
                for (int b = 0; b < g->B; b++) {
                    float *xp = dx + ((size_t)b * g->C + c) * HW;
                    const float *src = row + (size_t)b * OHW;
                    for (int oh = 0; oh < g->OH; oh++) {
                        int ih = oh * S - g->P + kh;
                        if (ih < 0 || ih >= g->H)
                            continue;
                        const float *s = src + (size_t)oh * OW;
                        float *xr = xp + (size_t)ih * g->W + kw - g->P;
                        if (S == 1)
                            for (int ow = lo; ow < hi; ow++)
                                xr[ow] += s[ow];
                        else
                            for (int ow = lo; ow < hi; ow++)
                                xr[ow * S] += s[ow];
                    }
                }
            }
}

/* x [B,C,H,W], W [F,C,K,K], b [F] -> y [B,F,OH,OW] */
void bd_conv2d_forward(float *y, const float *x, const float *W, const float *b,
                       float *scratch, const bd_conv_geom *g)
{
    const int CKK = g->C * g->K * g->K, OHW = g->OH * g->OW;
    const int N = g->B * OHW;
    float *col = scratch, *Y = scratch + (size_t)CKK * N;
    bd_im2col(col, x, g);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->F, N, CKK, 1.0f, W, CKK, col, N,
                0.0f, Y, N);
    /* Y [F, B, OH*OW] -> y [B, F, OH*OW], adding the bias */
    for (int bi = 0; bi < g->B; bi++)
        for (int f = 0; f < g->F; f++) {
            const float *src = Y + (size_t)f * N + (size_t)bi * OHW;
            float *dst = y + ((size_t)bi * g->F + f) * OHW;
            const float bias = b ? b[f] : 0.0f;
            for (int p = 0; p < OHW; p++)
                dst[p] = src[p] + bias;
        }
}

/* dy [B,F,OH,OW] -> dx [B,C,H,W] (optional), dW [F,C*K*K], db [F] (optional) */
void bd_conv2d_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                        const float *W, float *scratch, const bd_conv_geom *g)
{
    const int CKK = g->C * g->K * g->K, OHW = g->OH * g->OW;
    const int N = g->B * OHW;
    float *col = scratch, *dY = scratch + (size_t)CKK * N;
    /* dy [B, F, OH*OW] -> dY [F, B, OH*OW]; db = Σ over batch and positions */
    if (db)
        memset(db, 0, (size_t)g->F * sizeof(float));
    for (int bi = 0; bi < g->B; bi++)
        for (int f = 0; f < g->F; f++) {
            const float *src = dy + ((size_t)bi * g->F + f) * OHW;
            float *dst = dY + (size_t)f * N + (size_t)bi * OHW;
            memcpy(dst, src, (size_t)OHW * sizeof(float));
            if (db)
                db[f] += bd__sum(src, (size_t)OHW);
        }
    bd_im2col(col, x, g);
    /* dW [F, CKK] = dY [F, N] · colᵀ [N, CKK] */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->F, CKK, N, 1.0f, dY, N, col, N,
                0.0f, dW, CKK);
    if (!dx)
        return;
    /* dcol [CKK, N] = Wᵀ [CKK, F] · dY [F, N], written over col */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, N, g->F, 1.0f, W, CKK, dY, N,
                0.0f, col, N);
    bd_col2im(dx, col, g);
}

/* ---- the Conv2d row of the op table */

static bd_status conv_shape(bd_layer *l)
{
    if (l->units < 1)
        return bd_error(BD_ERR_ARG, "%s: %d filters (must be >= 1)", l->name, l->units);
    if (l->k < 1)
        return bd_error(BD_ERR_ARG, "%s: kernel size %d (must be >= 1)", l->name, l->k);
    if (l->stride == 0)
        l->stride = 1;
    bd_conv_geom g = bd__geom(l, 1);
    g.F = l->units;
    BD_TRY(bd_conv_geom_init(&g, l->name));
    l->out_c = l->units;
    l->out_h = g.OH;
    l->out_w = g.OW;
    return BD_OK;
}

static size_t conv_params(const bd_layer *l)
{
    return (size_t)l->units * l->in_c * l->k * l->k + (size_t)l->units;
}

static size_t conv_scratch(const bd_layer *l, int B)
{
    bd_conv_geom g = bd__geom(l, B);
    return bd_conv2d_scratch(&g);
}

static void conv_bind(bd_layer *l, float *p, float *g, float *s)
{
    int ws[4] = {l->units, l->in_c, l->k, l->k};
    int bs[1] = {l->units};
    size_t nw = (size_t)l->units * l->in_c * l->k * l->k;
    l->W = bd_tensor_view(p, 4, ws);
    l->b = bd_tensor_view(p + nw, 1, bs);
    l->dW = bd_tensor_view(g, 4, ws);
    l->db = bd_tensor_view(g + nw, 1, bs);
}

/* The fan-in of a filter is C*K*K (book 7.5: weight_init_std; He √(2/n)). */
static void conv_init(bd_layer *l, bd_init init, bd_rng *rng)
{
    float n = (float)(l->in_c * l->k * l->k);
    float std = init.kind == BD_INIT_XAVIER ? sqrtf(1.0f / n)
              : init.kind == BD_INIT_HE     ? sqrtf(2.0f / n)
                                            : init.std;
    float *W = bd_f32(&l->W);
    for (size_t k = 0; k < l->W.size; k++)
        W[k] = std * bd_rng_normal(rng);
    memset(l->b.data, 0, l->b.size * sizeof(float));
}

static void conv_fwd(bd_layer *l, int B)
{
    bd_conv_geom g = bd__geom(l, B);
    bd_conv2d_forward(bd_f32(&l->out), bd_f32(l->in), bd_f32(&l->W), bd_f32(&l->b),
                      bd__scratch(l), &g);
}

static void conv_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    bd_conv_geom g = bd__geom(l, B);
    float *dx = need_dx ? bd_f32(&l->dx) : NULL;
    bd_conv2d_backward(dx, bd_f32(&l->dW), bd_f32(&l->db), dy, bd_f32(l->in), bd_f32(&l->W),
                       bd__scratch(l), &g);
    bd__maybe_break(BD_LAYER_CONV2D, bd_f32(&l->dW), l->dW.size);
}

const bd_layer_op bd__op_conv2d = {
    .name = "Conv",
    .pname = {"W", "b"},
    .decay = 1,
    .shape = conv_shape,
    .param_count = conv_params,
    .scratch = conv_scratch,
    .bind = conv_bind,
    .init = conv_init,
    .forward = conv_fwd,
    .backward = conv_bwd,
};
