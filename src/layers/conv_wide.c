/* conv_wide.c — the fast kernels of stride-1 convolutions (the first
 * layers of simple_convnet, lenet5, mnist99; padded: every conv of
 * tobigs_cnn, deep_convnet, and resnet's stride-1 ones). The reference path
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
 * tests/test_kernels.c compares the two on odd shapes.
 *
 * A padded convolution (pad P) is the unpadded one of the input copied into
 * a border of P zeros, xp_b [C, H+2P, W+2P]: its wide rows are W+2P long
 * (K-1 garbage columns each: 1.07x the FLOPs for 3x3 pad 1 on 28x28, 1.125x
 * for 5x5 pad 2 on 32x32), and backward col2im fills the widened dxp_b,
 * whose inside is dx_b (the border's gradient belongs to the zeros). */
#include "internal.h"

#include <cblas.h>

int bd__conv_wide_applies(const bd_conv_geom *g)
{
    /* stride 1, and either padded or with garbage columns: an unpadded 1x1
     * conv's columns are its input, which the reference copies as fast */
    return g->S == 1 && (g->P > 0 || g->OW < g->W);
}

size_t bd__conv_wide_pad_floats(const bd_conv_geom *g, int dx)
{
    /* the bordered input [C, H+2P, W+2P] (none if P = 0), later the direct
     * input gradient's bordered dy [F, OH+2Q, OW+2Q], Q = K-1-P: OH+2Q =
     * H+K-1 (none without dx, or where the CPU cannot run the direct
     * kernels; sized by the CPU, not by the kernels chosen now, which may
     * change later) */
    const size_t xp = g->P ? (size_t)g->C * (g->H + 2 * g->P) * (g->W + 2 * g->P) : 0;
    if (!dx || !bd__conv_direct_isa())
        return xp;
    const size_t dyp = (size_t)g->F * (g->H + g->K - 1) * (g->W + g->K - 1);
    return BD_MAX(xp, dyp);
}

/* The unpadded geometry of a padded one: the image is the zero-bordered
 * copy [C, H+2P, W+2P] and the output the same OH x OW. */
static bd_conv_geom padded_geom(const bd_conv_geom *g1)
{
    bd_conv_geom gp = *g1;
    gp.H += 2 * g1->P;
    gp.W += 2 * g1->P;
    gp.P = 0;
    return gp;
}

/* src [C, H, W] (rows ld apart, channels cs apart) -> dst [C, H+2P, W+2P]:
 * src inside a border of P zeros. Each run of zeros between two rows (the
 * right border of one, the left of the next) is one memset. */
static void pad_copy_c(float *dst, const float *src, int C, int H, int W, size_t ld, size_t cs,
                       int P)
{
    const int Wp = W + 2 * P;
    const size_t HWp = (size_t)(H + 2 * P) * Wp;
    for (int c = 0; c < C; c++) {
        float *d = dst + (size_t)c * HWp;
        const float *s = src + (size_t)c * cs;
        memset(d, 0, ((size_t)P * Wp + P) * sizeof(float));
        for (int i = 0; i < H; i++) {
            float *r = d + (size_t)(i + P) * Wp + P;
            memcpy(r, s + (size_t)i * ld, (size_t)W * sizeof(float));
            const size_t z = i + 1 < H ? 2 * (size_t)P : (size_t)(d + HWp - (r + W));
            memset(r + W, 0, z * sizeof(float));
        }
    }
}

/* dx_b [C,H,W] = the inside of dxp [C, H+2P, W+2P] (what fell on the
 * border belonged to the padding's zeros) */
static void crop_dx(float *dx, const float *dxp, const bd_conv_geom *g1)
{
    const int P = g1->P, H = g1->H, W = g1->W, Wp = W + 2 * P;
    const size_t HWp = (size_t)(H + 2 * P) * Wp;
    for (int c = 0; c < g1->C; c++)
        for (int i = 0; i < H; i++)
            memcpy(dx + ((size_t)c * H + i) * W, dxp + c * HWp + (size_t)(i + P) * Wp + P,
                   (size_t)W * sizeof(float));
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(BD_NO_AVX512)
/* pad_copy with AVX-512 masked loads and stores, 16 floats at a time: the
 * rows are short (7 to 32 floats), and a memcpy and a memset call per row
 * of every channel were 5-9% of a deep_convnet run (its 14x14 and 7x7
 * maps, and the 10,000-image test pass). A copy: the same bits. (crop_dx
 * has no such twin: it runs only where the direct kernels do not, so
 * never where AVX-512 is.) */
#include <immintrin.h>

#define AVX512F_ __attribute__((target("avx512f")))

static inline AVX512F_ __mmask16 first_lanes(int n) /* lanes [0, n), n clamped to [0, 16] */
{
    return (__mmask16)(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1u);
}

static AVX512F_ void zero_floats(float *d, size_t n)
{
    const __m512 z = _mm512_setzero_ps();
    for (size_t j = 0; j < n; j += 16)
        _mm512_mask_storeu_ps(d + j, first_lanes((int)BD_MIN(n - j, (size_t)16)), z);
}

/* A store of a bordered row writes all 16 lanes where the channel has room
 * for them: what lies past the row is the next row's, or the bottom
 * border's, and is written after it (masked stores that end inside a
 * cache line were the copy's slowest part) */
static inline AVX512F_ __mmask16 room(ptrdiff_t left)
{
    return first_lanes((int)BD_MIN(left, 16));
}

static AVX512F_ void pad_copy_avx512(float *dst, const float *src, int C, int H, int W,
                                     size_t ld, size_t cs, int P)
{
    const int Wp = W + 2 * P;
    const size_t HWp = (size_t)(H + 2 * P) * Wp, edge = (size_t)P * Wp;
    /* the chunk where the source starts, j0 = P - sh: its lane j takes lane
     * j - sh of the floats loaded from the row's start */
    const int sh = P % 16;
    const __m512i shift = _mm512_sub_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(sh));
    for (int c = 0; c < C; c++) {
        float *d = dst + (size_t)c * HWp;
        const float *s = src + (size_t)c * cs;
        zero_floats(d, edge);
        for (int i = 0; i < H; i++) {
            float *r = d + edge + (size_t)i * Wp;
            const float *q = s + (size_t)i * ld;
            /* a whole bordered row; the lanes of columns [P, P+W) are the
             * source's. The chunk where they start loads q's first 16 - sh
             * floats and moves them sh lanes up (nothing before q is
             * addressed; an expanding load did the same, 3x slower) */
            for (int j0 = 0; j0 < Wp; j0 += 16) {
                __m512 v = _mm512_setzero_ps(); /* the left border */
                if (j0 == P - sh) {
                    v = _mm512_maskz_loadu_ps(first_lanes(BD_MIN(W, 16 - sh)), q);
                    v = _mm512_maskz_permutexvar_ps((__mmask16)~first_lanes(sh), shift, v);
                } else if (j0 > P) {
                    v = _mm512_maskz_loadu_ps(first_lanes(P + W - j0), q + (j0 - P));
                }
                _mm512_mask_storeu_ps(r + j0, room(d + HWp - (r + j0)), v);
            }
        }
        zero_floats(d + HWp - edge, edge);
    }
}

static int copies_avx512(void) { return !bd__kernels_portable() && bd__conv_direct_isa(); }
#else
static int copies_avx512(void) { return 0; }
#define pad_copy_avx512 pad_copy_c
#endif

static void pad_copy(float *dst, const float *src, int C, int H, int W, size_t ld, size_t cs,
                     int P)
{
    if (copies_avx512())
        pad_copy_avx512(dst, src, C, H, W, ld, cs, P);
    else
        pad_copy_c(dst, src, C, H, W, ld, cs, P);
}

/* x_b [C,H,W] -> xp [C, H+2P, W+2P] */
void bd__conv_pad_input(float *xp, const float *x, const bd_conv_geom *g1)
{
    pad_copy(xp, x, g1->C, g1->H, g1->W, (size_t)g1->W, (size_t)g1->H * g1->W, g1->P);
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

const float *bd__conv_wino_U(const float *Wdir, const bd_conv_geom *g, int dx)
{
    const size_t w = (size_t)g->F * g->C * g->K * g->K;
    return dx ? Wdir + w + bd__conv_wino_weight_floats(g->C, g->F)
              : Wdir + 2 * w;
}

/* Whether Winograd takes a K x K conv of C -> F channels on a bordered
 * Hp x Wp image, with tmp (tmpn floats) as its scratch; it reads its input
 * inside the border (bd__bordered), where the direct kernel reads a
 * bordered copy */
static int wino_fits(int C, int F, int K, int Hp, int Wp, const float *tmp, size_t tmpn)
{
    return K == 3 && bd__conv_wino_applies(C, F, K, 1) && tmp &&
           bd__conv_wino_scratch(C, F, Hp, Wp) <= tmpn;
}

/* One sample (g1->B == 1): y [F, OH*OW] (NULL with pool: not written)
 * from x [C,H,W]; col: C*K*K*OH*Wp floats, yw: F*OH*Wp floats of scratch
 * (Wp = W + 2P), xpad: bd__conv_wide_pad_floats floats (the forward uses
 * none when P = 0, or where Winograd takes the conv). pool (not NULL, with
 * relu): also the 2x2 max-pool of y into pool->p, pool->am (conv_pool.c).
 * A padded conv is the unpadded one of the zero-bordered input; Wt (not
 * NULL: bd__conv_direct_applies) is the transposed weights of the direct
 * kernel (conv_direct.c), which then computes yw instead of the columns
 * and their product. Winograd (conv_winograd.c) reads x inside its border
 * and, without a pool, writes y itself with the bias and the ReLU. */
void bd__conv_wide_forward(float *y, const float *x, const float *Wt, const float *b, float *col,
                           float *yw, float *xpad, const float *Wdir, const bd_conv_geom *g1,
                           int relu, const bd__fused_pool *pool)
{
    const bd_conv_geom gp = padded_geom(g1);
    const int F = g1->F, CKK = g1->C * g1->K * g1->K, L = gp.OH * gp.W;
    /* col: the sample's columns block (C*K*K*L floats), which the direct
     * kernels leave unused: their scratch */
    if (Wdir && wino_fits(g1->C, F, g1->K, gp.H, gp.W, col, (size_t)CKK * L)) {
        const bd__bordered xb = {x, (size_t)g1->W, (size_t)g1->H * g1->W, g1->H, g1->W, g1->P};
        const float *U = bd__conv_wino_U(Wdir, g1, 0);
        if (!pool) { /* straight into y, with narrow_y's bias and ReLU */
            const bd__wino_epilogue epi = {b, relu};
            bd__conv_wino(y, g1->OW, &xb, g1->C, U, F, col, &epi);
            return;
        }
        bd__conv_wino(yw, gp.W, &xb, g1->C, U, F, col, NULL);
    } else {
        if (g1->P > 0) {
            bd__conv_pad_input(xpad, x, g1);
            x = xpad;
        }
        if (Wdir) {
            bd__conv_direct(yw, gp.W, x, gp.C, gp.H, gp.W, Wdir, F, gp.K, col);
        } else {
            im2col_wide(col, x, &gp);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, F, L, CKK, 1.0f, Wt, CKK, col,
                        L, 0.0f, yw, L);
        }
    }
    if (pool)
        bd__conv_pool_narrow(y, pool->p, pool->am, yw, b, &gp);
    else
        narrow_y(y, yw, b, &gp, relu);
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
 * dyw). col, dyw and xpad: scratch as in the forward. pool (not NULL): dy
 * is unused, the gradient comes through the fused max-pool from pool->dp.
 * Padded: the unpadded backward of the zero-bordered input, whose widened
 * dx (in xpad, the bordered x being no longer needed then) is cropped, or
 * with Wdir (the direct kernel's flipped weights, conv_direct.c) dx is the
 * convolution of dy in a border of K-1-P zeros (bordered in xpad for the
 * direct kernel; Winograd reads dy inside the border, and its dW reads x
 * so, which then is not bordered at all).
 * n > 1 samples (the direct dW only, bd__conv_direct_dw_group): each
 * sample's bordered x and widened dy in its own scratch (dyws, xpads
 * floats apart), then one direct dW over all of them, then each one's dx. */
void bd__conv_wide_backward(float *dx, float *pdW, float *pdb, int accumulate, const float *dy,
                            const float *yrelu, const float *x, const float *Wt, float *col,
                            float *dyw, float *xpad, const float *Wdir, const bd_conv_geom *g1,
                            const bd__fused_pool *pool, int n, size_t dyws, size_t xpads)
{
    const bd_conv_geom gp = padded_geom(g1);
    const int F = g1->F, CKK = g1->C * g1->K * g1->K, L = gp.OH * gp.W;
    const size_t in = (size_t)g1->C * g1->H * g1->W, out = (size_t)F * g1->OH * g1->OW;
    const size_t pout = (size_t)F * (g1->OH / 2) * (g1->OW / 2);
    const float *xb = x; /* the bordered input of sample 0 (x itself if P = 0) */
    /* col (n samples' columns blocks, unused by the direct kernels) takes
     * the transposed dy of the filters-in-the-vector dW, or Winograd's
     * scratch, which reads x inside its border */
    const size_t tmpn = (size_t)n * CKK * L;
    const int ddw = Wdir && bd__conv_direct_dw_applies(g1);
    const int wdw = ddw && gp.K == 3 && bd__conv_wino_applies(gp.C, F, 3, 1) &&
                    bd__conv_wino_dw_scratch(gp.C, F, gp.H, gp.W) <= tmpn;
    for (int s = 0; s < n; s++) {
        float *xs = xpad + (size_t)s * xpads, *dys = dyw + (size_t)s * dyws;
        if (g1->P > 0 && !wdw)
            bd__conv_pad_input(xs, x + (size_t)s * in, g1);
        if (pool)
            bd__conv_pool_widen(dys, pdb, pool->dp + s * pout, pool->p + s * pout,
                                pool->am + s * pout, &gp);
        else
            widen_dy(dys, pdb, dy + (size_t)s * out, yrelu ? yrelu + (size_t)s * out : NULL, &gp);
    }
    if (g1->P > 0)
        xb = xpad;
    if (wdw) {
        const bd__bordered x0 = {x, (size_t)g1->W, (size_t)g1->H * g1->W, g1->H, g1->W, g1->P};
        bd__conv_wino_dw(pdW, accumulate, dyw, gp.W, &x0, gp.C, F, n, dyws, in, col);
    } else if (ddw) {
        /* unpadded (P = 0) samples are x's, in apart */
        const size_t xs = g1->P > 0 ? xpads : in;
        bd__conv_direct_dw(pdW, accumulate, dyw, gp.W, xb, gp.C, gp.H, gp.W, F, gp.K, n, dyws,
                           xs, col, tmpn);
    } else {
        im2col_wide(col, xb, &gp);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, F, CKK, L, 1.0f, dyw, L, col, L,
                    accumulate ? 1.0f : 0.0f, pdW, CKK);
    }
    if (!dx)
        return;
    for (int s = 0; s < n; s++) {
        float *xs = xpad + (size_t)s * xpads, *dys = dyw + (size_t)s * dyws;
        float *dxs = dx + (size_t)s * in;
        if (Wdir) {
            /* dx: the conv of dy in a border of Q zeros; col (free now) is
             * Winograd's scratch or holds a flat kernel's wide dx */
            const int Q = g1->K - 1 - g1->P, Hq = gp.OH + 2 * Q, Wq = gp.OW + 2 * Q;
            if (wino_fits(F, g1->C, g1->K, Hq, Wq, col, tmpn)) {
                const bd__bordered dyb = {dys, (size_t)gp.W, (size_t)L, gp.OH, gp.OW, Q};
                bd__conv_wino(dxs, g1->W, &dyb, F, bd__conv_wino_U(Wdir, g1, 1), g1->C, col,
                              NULL);
            } else {
                pad_copy(xs, dys, F, gp.OH, gp.OW, (size_t)gp.W, (size_t)L, Q);
                bd__conv_direct(dxs, g1->W, xs, F, Hq, Wq, Wdir, g1->C, g1->K, col);
            }
            continue;
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, L, F, 1.0f, Wt, CKK, dys, L,
                    0.0f, col, L);
        if (g1->P > 0) {
            col2im_wide(xs, col, &gp);
            crop_dx(dxs, xs, g1);
        } else {
            col2im_wide(dxs, col, &gp);
        }
    }
}
