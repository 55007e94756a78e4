/* conv.c — Conv2d (book 7.2, 7.4 Convolution): im2col turns every output
 * position's input window into a column, so the convolution of a sample is
 * one matrix product through cblas_sgemm:
 *
 *   col_b [C*K*K, OH*OW] = im2col(x_b)
 *   y_b   [F, OH*OW]     = W [F, C*K*K] · col_b + b     (already NCHW)
 *
 * The book builds col as [OH*OW, C*K*K] (one row per window); this is its
 * transpose, which makes the product land in NCHW order.
 * Backward (book 7.4.3): dW = Σ_b dy_b · col_bᵀ, dcol_b = Wᵀ · dy_b,
 * dx_b = col2im(dcol_b). The columns live in the network's shared scratch
 * and are built again in backward, so no layer keeps a copy between the
 * passes.
 * The book's plain version: learn/ch07/util.h (im2col in the book's [N*OH*OW,
 * C*K*K] layout) and learn/ch07/layers.h (Convolution). */
#include "internal.h"

#include <cblas.h>
#include <math.h>

bd_status bd_conv_geom_init(bd_conv_geom *g, const char *who)
{
    if (!g)
        return bd_error(BD_ERR_ARG, "bd_conv_geom_init: g is NULL");
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

/* output positions per sample of the columns: OH*(W+2P) where the wide
 * kernels (conv_wide.c) may run, whichever kernels are chosen now */
static size_t col_positions(const bd_conv_geom *g)
{
    return (size_t)g->OH * (bd__conv_wide_applies(g) ? g->W + 2 * g->P : g->OW);
}

/* floats of a sample's zero-bordered input (the padded wide kernels) or
 * dy (the direct input gradient, if dx may be wanted) */
static size_t pad_positions(const bd_conv_geom *g, int dx)
{
    return bd__conv_wide_applies(g) ? bd__conv_wide_pad_floats(g, dx) : 0;
}

/* floats of the direct kernels' transposed weights (conv_direct.c), the
 * forward's and the input gradient's, where they may run, then for 3x3
 * kernels Winograd's U of both (conv_wide.c bd__conv_wino_U) */
static size_t direct_weights(const bd_conv_geom *g)
{
    if (!bd__conv_wide_applies(g))
        return 0;
    const size_t w = 2 * (size_t)g->F * g->C * g->K * g->K;
    return g->K == 3 ? w + 2 * bd__conv_wino_weight_floats(g->C, g->F) : w;
}

/* parts the backward's batch can be split into, whatever the thread count
 * later: the partial sums are sized for this many */
static int max_parts(const bd_conv_geom *g) { return BD_MIN(g->B, BD__MAX_PARTS); }

size_t bd_conv2d_scratch(const bd_conv_geom *g) { return bd__conv2d_scratch(g, 1); }

/* dx: whether a backward may want dx (a network's first layer never: no
 * bordered dy for it) */
size_t bd__conv2d_scratch(const bd_conv_geom *g, int dx)
{
    const size_t CKK = (size_t)g->C * g->K * g->K, L = col_positions(g);
    /* columns and the masked gradient of a fused ReLU (the wide kernels'
     * widened output and gradient) per sample, partial dW and db per part
     * of the backward (at most one per sample, at most BD__MAX_PARTS), and
     * for a padded wide conv the zero-bordered input per sample (as the
     * columns, a part uses its first sample's) */
    return (size_t)g->B * (CKK * L + (size_t)g->F * L + pad_positions(g, dx)) +
           (size_t)max_parts(g) * ((size_t)g->F * CKK + g->F) + direct_weights(g);
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

/* A "same" convolution (stride 1, output as large as the input: 3x3 pad 1,
 * 5x5 pad 2): row (c,kh,kw) of a sample's columns is channel c shifted by
 * (kh-P)*W + (kw-P) in the flat image, so it is one long copy, then the
 * rows that fall off the top or bottom and the |kw-P| columns per row that
 * wrapped around an edge are zeroed. (The general loop copies OW floats at a
 * time, and its per-row overhead was a quarter of resnet's time.) */
static void im2col_same_row(float *dst, const float *xc, int kh, int kw, const bd_conv_geom *g)
{
    const int W = g->W, H = g->H, dh = kh - g->P, dw = kw - g->P;
    const long HW = (long)H * W, shift = (long)dh * W + dw;
    const int oh_lo = BD_MAX(0, -dh), oh_hi = BD_MIN(H, H - dh);
    if (oh_lo >= oh_hi) {
        memset(dst, 0, (size_t)HW * sizeof(float));
        return;
    }
    memset(dst, 0, (size_t)oh_lo * W * sizeof(float));
    memset(dst + (long)oh_hi * W, 0, (size_t)(H - oh_hi) * W * sizeof(float));
    /* q: output position; the source q + shift must stay inside the channel
     * (what the clipping leaves out is an edge column, zeroed below) */
    const long q0 = BD_MAX((long)oh_lo * W, -shift), q1 = BD_MIN((long)oh_hi * W, HW - shift);
    memcpy(dst + q0, xc + q0 + shift, (size_t)(q1 - q0) * sizeof(float));
    const int lo = BD_MAX(0, -dw), hi = BD_MIN(W, W - dw);
    for (int oh = oh_lo; oh < oh_hi; oh++) {
        float *d = dst + (long)oh * W;
        for (int ow = 0; ow < lo; ow++)
            d[ow] = 0.0f;
        for (int ow = hi; ow < W; ow++)
            d[ow] = 0.0f;
    }
}

/* x [B,C,H,W] -> col [C*K*K, N]: row (c,kh,kw), column (b,oh,ow); rows are
 * N apart, so a part of the batch can fill its columns of a larger matrix */
BD_HOT static void im2col_ld(float *col, size_t N, const float *x, const bd_conv_geom *g)
{
    const int K = g->K, S = g->S, OW = g->OW, OHW = g->OH * g->OW;
    const size_t HW = (size_t)g->H * g->W;
    const int same = S == 1 && g->OH == g->H && g->OW == g->W;
    for (int c = 0; c < g->C; c++)
        for (int kh = 0; kh < K; kh++)
            for (int kw = 0; kw < K; kw++) {
                float *row = col + ((size_t)(c * K + kh) * K + kw) * N;
                int lo, hi;
                valid_cols(g, kw, &lo, &hi);
                for (int b = 0; b < g->B; b++) {
                    const float *xp = x + ((size_t)b * g->C + c) * HW;
                    float *dst = row + (size_t)b * OHW;
                    if (same) {
                        im2col_same_row(dst, xp, kh, kw, g);
                        continue;
                    }
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
                            /* rows are short (28 floats): a plain loop
                             * beats a memcpy call per row */
                            for (int ow = lo; ow < hi; ow++)
                                d[ow] = xr[ow];
                        else
                            for (int ow = lo; ow < hi; ow++)
                                d[ow] = xr[ow * S];
                        for (int ow = hi; ow < OW; ow++)
                            d[ow] = 0.0f;
                    }
                }
            }
}

void bd_im2col(float *col, const float *x, const bd_conv_geom *g)
{
    im2col_ld(col, (size_t)g->B * g->OH * g->OW, x, g);
}

/* col [C*K*K, N] -> dx [B,C,H,W], overlapping windows summed */
BD_HOT static void col2im_ld(float *dx, const float *col, size_t N, const bd_conv_geom *g)
{
    const int K = g->K, S = g->S, OW = g->OW, OHW = g->OH * g->OW;
    const size_t HW = (size_t)g->H * g->W;
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

void bd_col2im(float *dx, const float *col, const bd_conv_geom *g)
{
    col2im_ld(dx, col, (size_t)g->B * g->OH * g->OW, g);
}

/* The kernels work one sample at a time: col_b [C*K*K, OH*OW] = im2col(x_b)
 * and y_b [F, OH*OW] = W · col_b is already the sample's NCHW output, so no
 * reorder pass is needed, and the bias is loaded into y_b before the product
 * (beta = 1), so BLAS does not zero it first. A sample's columns and output
 * (tens of KB) stay in the core's cache between the steps, where a
 * batch-wide product would stream megabytes through memory three times.
 *
 * The batch is split over the threads by samples; a part [lo, hi) reuses
 * the columns block of its first sample, so every part writes only its own
 * outputs. */
typedef struct conv_args {
    const bd_conv_geom *g;
    float *y, *dx, *col, *part, *mask, *xpad;
    float *wdir; /* the direct kernels' weights (conv_direct.c), NULL: none */
    float *sdir; /* the strided direct forward's weights (in the backward's partial sums) */
    const float *x, *W, *b, *dy, *yrelu;
    int relu, wide;        /* wide: conv_wide.c's kernels */
    int CKK, OHW;
    size_t in, out, colsz; /* floats of a sample's x, y and columns */
    size_t maskz;          /* floats of a sample's mask (widened y or dy) */
    size_t padz;           /* floats of a sample's zero-bordered input */
    bd__fused_pool pool;   /* a fused 2x2 max-pool (pool.p NULL: none) */
    size_t pout;           /* floats of a sample's pooled output */
} conv_args;

static conv_args conv_setup(const bd_conv_geom *g, float *scratch, const bd__fused_pool *pool,
                            int dxroom)
{
    conv_args a = {.g = g, .col = scratch};
    a.CKK = g->C * g->K * g->K;
    a.OHW = g->OH * g->OW;
    a.in = (size_t)g->C * g->H * g->W;
    a.out = (size_t)g->F * a.OHW;
    a.wide = bd__conv_wide_applies(g) && !bd__kernels_reference();
    const size_t L = col_positions(g);
    a.colsz = (size_t)a.CKK * (a.wide ? L : (size_t)a.OHW);
    a.maskz = (size_t)g->F * (a.wide ? L : (size_t)a.OHW);
    /* the partial sums and the masks come after every sample's columns
     * block, at the offsets bd_conv2d_scratch sized */
    a.part = scratch + (size_t)g->B * a.CKK * L;
    a.mask = a.part + (size_t)max_parts(g) * ((size_t)g->F * a.CKK + g->F);
    a.padz = a.wide ? pad_positions(g, dxroom) : 0;
    a.xpad = a.mask + (size_t)g->B * a.maskz;
    a.wdir = a.wide && bd__conv_direct_applies(g) ? a.xpad + (size_t)g->B * a.padz : NULL;
    /* the forward does not use the backward's partial sums: the strided
     * direct forward's weights go there */
    a.sdir = bd__conv_direct_strided_applies(g) ? a.part : NULL;
    if (pool && a.wide) {
        a.pool = *pool;
        a.pout = (size_t)g->F * (g->OH / 2) * (g->OW / 2);
    }
    return a;
}

static bd_conv_geom one_sample(const bd_conv_geom *g)
{
    bd_conv_geom p = *g;
    p.B = 1;
    return p;
}

/* sample bi's part of the fused pool in *s, or NULL if there is none */
static const bd__fused_pool *pool_of(const conv_args *a, int bi, bd__fused_pool *s)
{
    if (!a->pool.p)
        return NULL;
    const size_t o = (size_t)bi * a->pout;
    s->p = a->pool.p + o;
    s->am = a->pool.am + o;
    s->dp = a->pool.dp ? a->pool.dp + o : NULL;
    return s;
}

/* y [F, OHW] += b per channel (b may be NULL), then ReLU if relu */
BD_HOT static void bias_relu(float *y, const float *b, int F, int OHW, int relu)
{
    for (int f = 0; f < F; f++) {
        float *restrict yf = y + (size_t)f * OHW;
        const float bias = b ? b[f] : 0.0f;
        if (relu)
            for (int p = 0; p < OHW; p++) {
                const float v = yf[p] + bias;
                yf[p] = v > 0.0f ? v : 0.0f;
            }
        else if (b)
            for (int p = 0; p < OHW; p++)
                yf[p] += bias;
    }
}

BD_HOT static void fwd_part(void *ctx, int lo, int hi, int part)
{
    const conv_args *a = ctx;
    const bd_conv_geom *g = a->g, g1 = one_sample(g);
    float *col = a->col + (size_t)lo * a->colsz;
    /* sizes in locals: the loops store floats, which gcc must otherwise
     * assume could change a's fields */
    const int OHW = a->OHW;
    const size_t out = a->out;
    if (a->wide) {
        float *yw = a->mask + (size_t)lo * a->maskz, *xpad = a->xpad + (size_t)lo * a->padz;
        bd__fused_pool ps;
        for (int bi = lo; bi < hi; bi++)
            bd__conv_wide_forward(a->y ? a->y + (size_t)bi * out : NULL, a->x + (size_t)bi * a->in,
                                  a->W, a->b, col, yw, xpad, a->wdir, &g1, a->relu,
                                  pool_of(a, bi, &ps));
        return;
    }
    for (int bi = lo; bi < hi; bi++) {
        float *y = a->y + (size_t)bi * out;
        if (a->sdir) { /* the bordered input in the columns' place */
            bd__conv_direct_strided(y, a->x + (size_t)bi * a->in, a->sdir, col, &g1);
            bias_relu(y, a->b, g->F, OHW, a->relu);
            continue;
        }
        im2col_ld(col, (size_t)OHW, a->x + (size_t)bi * a->in, &g1);
        if (a->b)
            for (int f = 0; f < g->F; f++) {
                float *yf = y + (size_t)f * OHW;
                const float bias = a->b[f];
                for (int p = 0; p < OHW; p++)
                    yf[p] = bias;
            }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->F, OHW, a->CKK, 1.0f, a->W,
                    a->CKK, col, OHW, a->b ? 1.0f : 0.0f, y, OHW);
        if (a->relu) /* the fused ReLU (book 5.5.1), while y_b is in cache */
            for (size_t k = 0; k < out; k++)
                y[k] = y[k] > 0.0f ? y[k] : 0.0f;
    }
}

/* x [B,C,H,W], W [F,C,K,K], b [F] (may be NULL) -> y [B,F,OH,OW] (NULL
 * with a fused pool: only the pool's output) */
void bd__conv2d_forward(float *y, const float *x, const float *W, const float *b, float *scratch,
                        const bd_conv_geom *g, int relu, const bd__fused_pool *pool, int dxroom)
{
    conv_args a = conv_setup(g, scratch, relu ? pool : NULL, dxroom);
    a.y = y;
    a.x = x;
    a.W = W;
    a.b = b;
    a.relu = relu;
    if (a.wdir) {
        bd__conv_direct_weights(a.wdir, NULL, W, g->F, g->C, g->K);
        if (bd__conv_wino_applies(g->C, g->F, g->K, 1))
            bd__conv_wino_weights((float *)bd__conv_wino_U(a.wdir, g, 0), a.wdir, g->C, g->F);
    }
    if (a.sdir)
        bd__conv_direct_weights(a.sdir, NULL, W, g->F, g->C, g->K);
    bd__parallel_for(g->B, fwd_part, &a);
}

void bd_conv2d_forward(float *y, const float *x, const float *W, const float *b,
                       float *scratch, const bd_conv_geom *g)
{
    bd__conv2d_forward(y, x, W, b, scratch, g, 0, NULL, 1);
}

/* backward, one pass by samples. For each sample of the part: its columns,
 * the part's partial dW += dy_b · col_bᵀ and db += Σ_p dy_b, then (if dx is
 * wanted) dcol_b = Wᵀ · dy_b over the same columns block and col2im into
 * dx_b. Part p's partial sums live at part + p * (F*C*K*K + F), so parts
 * never share a buffer. */
BD_HOT static void bwd_part(void *ctx, int lo, int hi, int part)
{
    const conv_args *a = ctx;
    const bd_conv_geom *g = a->g, g1 = one_sample(g);
    const int F = g->F;
    float *col = a->col + (size_t)lo * a->colsz;
    float *pdW = a->part + (size_t)part * ((size_t)F * a->CKK + F);
    float *pdb = pdW + (size_t)F * a->CKK;
    memset(pdb, 0, (size_t)F * sizeof(float));
    if (a->wide) {
        /* groups of G samples, each in its own scratch (the direct dW sums
         * a group's gradients lane-wise before reducing them): the part's
         * first G slots, used again by every group, so they stay in cache
         * (slot bi for sample bi walked the whole batch's scratch: 5% of
         * simple_convnet's epoch on 1 thread) */
        const int G = a->wdir ? bd__conv_direct_dw_group(&g1) : 1;
        bd__fused_pool ps;
        for (int bi = lo; bi < hi; bi += G) {
            const int n = BD_MIN(G, hi - bi);
            bd__conv_wide_backward(a->dx ? a->dx + (size_t)bi * a->in : NULL, pdW, pdb, bi > lo,
                                   a->dy + (size_t)bi * a->out,
                                   a->yrelu ? a->yrelu + (size_t)bi * a->out : NULL,
                                   a->x + (size_t)bi * a->in, a->W, col,
                                   a->mask + (size_t)lo * a->maskz,
                                   a->xpad + (size_t)lo * a->padz,
                                   a->wdir ? a->wdir + (size_t)g->F * a->CKK : NULL, &g1,
                                   pool_of(a, bi, &ps), n, a->maskz, a->padz);
        }
        return;
    }
    for (int bi = lo; bi < hi; bi++) {
        const float *dy = a->dy + (size_t)bi * a->out;
        if (a->yrelu) { /* the fused ReLU's backward: dy where y > 0 */
            /* the mask is scratch, never dy or y: restrict holds */
            float *restrict m = a->mask + (size_t)lo * a->maskz;
            const float *restrict yb = a->yrelu + (size_t)bi * a->out, *restrict d = dy;
            const size_t n = a->out;
            for (size_t k = 0; k < n; k++) {
                float v = d[k];
                m[k] = yb[k] > 0.0f ? v : 0.0f;
            }
            dy = m;
        }
        im2col_ld(col, (size_t)a->OHW, a->x + (size_t)bi * a->in, &g1);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, F, a->CKK, a->OHW, 1.0f, dy, a->OHW,
                    col, a->OHW, bi > lo ? 1.0f : 0.0f, pdW, a->CKK);
        for (int f = 0; f < F; f++)
            pdb[f] += bd__sum(dy + (size_t)f * a->OHW, (size_t)a->OHW);
        if (a->dx) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, a->CKK, a->OHW, F, 1.0f, a->W,
                        a->CKK, dy, a->OHW, 0.0f, col, a->OHW);
            col2im_ld(a->dx + (size_t)bi * a->in, col, (size_t)a->OHW, &g1);
        }
    }
}

/* dy [B,F,OH,OW] -> dx [B,C,H,W] (optional), dW [F,C*K*K], db [F] (optional):
 * dW = Σ_b dY_b · col_bᵀ, db = Σ dY, dcol = Wᵀ · dY, dx = col2im(dcol)
 * (book 7.4.3) */
void bd_conv2d_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                        const float *W, float *scratch, const bd_conv_geom *g)
{
    bd__conv2d_backward(dx, dW, db, dy, x, W, NULL, scratch, g, NULL, 1);
}

/* y: the output of the forward with a fused ReLU (NULL: none) */
void bd__conv2d_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                         const float *W, const float *y, float *scratch, const bd_conv_geom *g,
                         const bd__fused_pool *pool, int dxroom)
{
    conv_args a = conv_setup(g, scratch, y ? pool : NULL, dxroom);
    a.dx = dx;
    a.x = x;
    a.W = W;
    a.dy = dy;
    a.yrelu = y;
    if (a.wdir && dx) {
        float *Wtd = a.wdir + (size_t)g->F * a.CKK;
        bd__conv_direct_weights(NULL, Wtd, W, g->F, g->C, g->K);
        if (bd__conv_wino_applies(g->F, g->C, g->K, 1)) /* dx: F channels in, C out */
            bd__conv_wino_weights((float *)bd__conv_wino_U(Wtd, g, 1), Wtd, g->F, g->C);
    }
    bd__parallel_for(g->B, bwd_part, &a);
    /* the parts' sums, added in part order: the same numbers for a given
     * thread count */
    const int T = bd__split_parts(g->B); /* bd__parallel_for's parts, none empty */
    const size_t nw = (size_t)g->F * a.CKK, stride = nw + (size_t)g->F;
    for (int p = 0; p < T; p++) {
        const float *pdW = a.part + (size_t)p * stride, *pdb = pdW + nw;
        if (p == 0) {
            memcpy(dW, pdW, nw * sizeof(float));
            if (db)
                memcpy(db, pdb, (size_t)g->F * sizeof(float));
        } else {
            for (size_t k = 0; k < nw; k++)
                dW[k] += pdW[k];
            if (db)
                for (int f = 0; f < g->F; f++)
                    db[f] += pdb[f];
        }
    }
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

/* whether the layer has an input gradient: not the first layer, nor any
 * layer of an inference net (net.c allocates dx with the scratch) */
static int has_dx(const bd_layer *l) { return l->dx.data != NULL; }

static size_t conv_scratch(const bd_layer *l, int B)
{
    bd_conv_geom g = bd__geom(l, B);
    return bd__conv2d_scratch(&g, has_dx(l));
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

bd_layer *bd__conv_pooled(const bd_layer *conv)
{
    const bd_net *net = conv->net;
    if (!net || net->pool_unfused || conv->kind != BD_LAYER_CONV2D || !conv->relu_after ||
        conv - net->layers + 2 >= net->nlayers || bd__kernels_reference())
        return NULL;
    bd_layer *pl = (bd_layer *)conv + 2;
    bd_conv_geom g = bd__geom(conv, 1);
    if (pl->kind != BD_LAYER_MAXPOOL || pl->k != 2 || pl->stride != 2 || pl->pad != 0 ||
        !conv[1].fused || !bd__conv_wide_applies(&g))
        return NULL;
    return pl;
}

static void conv_fwd(bd_layer *l, int B)
{
    bd_conv_geom g = bd__geom(l, B);
    bd_layer *pl = bd__conv_pooled(l);
    bd__fused_pool pool = {pl ? bd_f32(&pl->out) : NULL, pl ? (int32_t *)pl->aux.data : NULL,
                           NULL};
    /* the pool's output is all that the next layers read */
    l->out_stale = pl && l->net->pooled_y_unread;
    bd__conv2d_forward(l->out_stale ? NULL : bd_f32(&l->out), bd_f32(l->in), bd_f32(&l->W),
                       bd_f32(&l->b), bd__scratch(l), &g, l->relu_after, pl ? &pool : NULL,
                       has_dx(l));
}

static void conv_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    bd_conv_geom g = bd__geom(l, B);
    float *dx = need_dx ? bd_f32(&l->dx) : NULL;
    bd_layer *pl = bd__conv_pooled(l);
    bd__fused_pool pool = {pl ? bd_f32(&pl->out) : NULL, pl ? (int32_t *)pl->aux.data : NULL,
                           pl ? pl->pool_dy : NULL};
    bd__conv2d_backward(dx, bd_f32(&l->dW), bd_f32(&l->db), dy, bd_f32(l->in), bd_f32(&l->W),
                        l->relu_after ? bd_f32(&l->out) : NULL, bd__scratch(l), &g,
                        pl ? &pool : NULL, has_dx(l));
}

const bd_layer_op bd__op_conv2d = {
    .name = "Conv",
    .token = "conv",
    .keys = {{"filters", BD__CONF_UNITS}, {"kernel", BD__CONF_K}, {"stride", BD__CONF_STRIDE},
             {"pad", BD__CONF_PAD}},
    .emit_c = bd__emit_conv,
    .pname = {"W", "b"},
    .decay = 1,
    .fuse_relu = 1,
    .shape = conv_shape,
    .param_count = conv_params,
    .scratch = conv_scratch,
    .bind = conv_bind,
    .init = conv_init,
    .forward = conv_fwd,
    .backward = conv_bwd,
};
