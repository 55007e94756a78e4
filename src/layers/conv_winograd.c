/* conv_winograd.c — the 3x3 stride-1 convolutions (resnet's and
 * deep_convnet's: forward, input and weight gradient) with Winograd's minimal
 * filtering F(2x2, 3x3) (Lavin & Gray 2016, "Fast Algorithms for
 * Convolutional Neural Networks"): 16 multiplications per 2x2 outputs and
 * input channel instead of 36.
 *
 * Why: the direct kernels (conv_direct.c) run at about 90% of a core's FMA
 * peak, so only fewer FMAs make these convs faster. For one sample of
 * xp [C, Hp, Wp] (the zero-bordered input; OH = Hp-2, OW = Wp-2) the
 * output is cut into TH x TW tiles of 2x2 (TH = ⌈OH/2⌉), each read from a
 * 4x4 patch d of the input, and
 *
 *   Y_tile[f] = A^T ( Σ_c U[f, c] ⊙ V[c] ) A,  U = G g G^T,  V = B^T d B
 *
 * with g the 3x3 kernel and ⊙ elementwise over the 16 positions ξ of a 4x4
 * tile: for each ξ one product M[ξ] (T tiles x F) = V[ξ] (T x C) · U[ξ]
 * (C x F), 16·T·C·F multiply-adds against 9·OH·OW·C·F (2.25x fewer where
 * OH, OW are even; a 7x7 map pays for 8x8: 1.72x).
 *
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 *
 * Layouts: U [16, C, F] (bd__conv_wino_weights, once per step from the
 * direct kernels' Wt [C·9, F]); the input in channels-last order xt [Hq,
 * Wq, C] (Hq = 2·TH+2: a zero row or column more for odd maps), so that a
 * vector holds 16 channels of one pixel and the input transform is vector
 * adds; V [16, T, C]; the product's tile of 16·FV filters x P tiles runs C
 * steps of FV weight loads and P broadcasts (as conv_direct.c's cv_tile),
 * for all 16 ξ of P tiles, whose M [16, P, F] the output transform turns
 * into 2x2 outputs of 16 filters a vector. The sums are in another order
 * than the direct kernels' and the transforms round, so the numbers equal
 * the reference's to rounding (tests/test_kernels.c: 3x3 shapes with 16+
 * filters a multiple of 16); a seed and a thread count still give the same
 * bits (every output computed alone; dW summed over a part's samples in
 * their order). The weight gradient of the same convs is below (wino_dw).
 * AVX-512 and the fast kernels only (bd__conv_wino_applies). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* tiles of a map of OH x OW outputs */
static int tiles_h(int OH) { return (OH + 1) / 2; }

int bd__conv_wino_applies(int C, int F, int K, int S)
{
    /* fewer than 8 input channels: too few product steps per store (the
     * stems' 1-channel convs stay direct) */
    return K == 3 && S == 1 && F % 16 == 0 && F >= 16 && C >= 8 && bd__conv_direct_cpu();
}

size_t bd__conv_wino_weight_floats(int C, int F) { return (size_t)16 * C * F; }

size_t bd__conv_wino_scratch(int C, int F, int Hp, int Wp)
{
    const int TH = tiles_h(Hp - 2), TW = tiles_h(Wp - 2);
    const size_t T = (size_t)TH * TW;
    const size_t xt = (size_t)(2 * TH + 2) * (2 * TW + 2) * C, yt = (size_t)4 * T * F;
    return (xt > yt ? xt : yt) + 16 * T * C + (size_t)16 * 7 * F;
}

/* U [16, C, F] = G g G^T of every (c, f), g [3, 3] from Wt [C·9, F]; the
 * loops over f innermost, where Wt's and U's rows are contiguous */
BD_HOT static void wino_weights(float *U, const float *Wt, int C, int F)
{
    const size_t cf = (size_t)C * F;
    for (int c = 0; c < C; c++) {
        const float *g = Wt + (size_t)c * 9 * F; /* g[(3*kh + kw)*F + f] */
        float *u = U + (size_t)c * F;
        for (int i = 0; i < 4; i++) {
            float *restrict u0 = u + (size_t)(4 * i) * cf, *restrict u1 = u0 + cf;
            float *restrict u2 = u1 + cf, *restrict u3 = u2 + cf;
            for (int f = 0; f < F; f++) {
                float t[3]; /* row i of G g */
                for (int j = 0; j < 3; j++) {
                    const float g0 = g[(size_t)j * F + f], g1 = g[(size_t)(3 + j) * F + f];
                    const float g2 = g[(size_t)(6 + j) * F + f];
                    t[j] = i == 0 ? g0 : i == 3 ? g2 : i == 1 ? 0.5f * (g0 + g1 + g2)
                                                              : 0.5f * (g0 - g1 + g2);
                }
                u0[f] = t[0]; /* (G g) G^T */
                u1[f] = 0.5f * (t[0] + t[1] + t[2]);
                u2[f] = 0.5f * (t[0] - t[1] + t[2]);
                u3[f] = t[2];
            }
        }
    }
}

/* (BD_HOT's clones on a static function: an exported one would export
 * its resolver too) */
void bd__conv_wino_weights(float *U, const float *Wt, int C, int F) { wino_weights(U, Wt, C, F); }

#if defined(__GNUC__) && defined(__x86_64__) && !defined(BD_NO_AVX512)
#include <immintrin.h>

#define AVX512F __attribute__((target("avx512f")))
#define INLINE inline __attribute__((always_inline))

static inline AVX512F __mmask16 lanes(int n) /* the first n of 16 lanes */
{
    return (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1u);
}

/* r[0..16) rows of a 16x16 block -> its columns, in place: 32-bit then
 * 64-bit interleaves within 128-bit blocks, then two 4x4 transposes of the
 * 128-bit blocks */
static INLINE AVX512F void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* r[4i+k], 128-bit block b: column 4b+k of rows 4i.. */
        const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
        const __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    for (int k = 0; k < 4; k++) {
        const __m512 s0 = _mm512_shuffle_f32x4(r[k], r[4 + k], 0x88);
        const __m512 s1 = _mm512_shuffle_f32x4(r[k], r[4 + k], 0xdd);
        const __m512 s2 = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0x88);
        const __m512 s3 = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0xdd);
        t[k] = _mm512_shuffle_f32x4(s0, s2, 0x88);
        t[4 + k] = _mm512_shuffle_f32x4(s1, s3, 0x88);
        t[8 + k] = _mm512_shuffle_f32x4(s0, s2, 0xdd);
        t[12 + k] = _mm512_shuffle_f32x4(s1, s3, 0xdd);
    }
    for (int i = 0; i < 16; i++)
        r[i] = t[i];
}

/* dst[j, c] = src[c, j] for j < n, c < d (rows ldd and lds floats apart):
 * 16 x 16 blocks through transpose16 */
static AVX512F void transpose(float *dst, size_t ldd, const float *src, size_t lds, int n, int d)
{
    for (int j0 = 0; j0 < n; j0 += 16) {
        const __mmask16 mj = lanes(n - j0);
        for (int c0 = 0; c0 < d; c0 += 16) {
            const int nc = d - c0 < 16 ? d - c0 : 16, nj = n - j0 < 16 ? n - j0 : 16;
            __m512 r[16];
            for (int c = 0; c < 16; c++)
                r[c] = c < nc ? _mm512_maskz_loadu_ps(mj, src + (size_t)(c0 + c) * lds + j0)
                              : _mm512_setzero_ps();
            transpose16(r);
            for (int j = 0; j < nj; j++)
                _mm512_mask_storeu_ps(dst + (size_t)(j0 + j) * ldd + c0, lanes(nc), r[j]);
        }
    }
}

/* xt [Hq, Wq, C]: zero outside the image xp puts at rows [P, P+H) and
 * columns [P, P+W) (its border, and past its rows and columns) */
static void zero_border(float *xt, const bd__bordered *xp, int C, int Hq, int Wq)
{
    const int P = xp->P, H = xp->H, W = xp->W;
    const size_t row = (size_t)Wq * C;
    for (int i = 0; i < Hq; i++) {
        float *o = xt + (size_t)i * row;
        if (i < P || i >= P + H) {
            memset(o, 0, row * sizeof(float));
            continue;
        }
        memset(o, 0, (size_t)P * C * sizeof(float));
        memset(o + (size_t)(P + W) * C, 0, (size_t)(Wq - P - W) * C * sizeof(float));
    }
}

/* the bordered image xp [C, Hp, Wp] -> xt [Hq, Wq, C], zero on its border
 * and past its rows and columns: row i of xt is row i - P of x, transposed */
static AVX512F void to_channels_last(float *xt, const bd__bordered *xp, int C, int Hq, int Wq)
{
    zero_border(xt, xp, C, Hq, Wq);
    for (int r = 0; r < xp->H; r++)
        transpose(xt + ((size_t)(r + xp->P) * Wq + xp->P) * C, (size_t)C,
                  xp->x + (size_t)r * xp->ld, xp->cs, xp->W, C);
}

/* The same where x's rows are contiguous (ld = W: a channel's H*W values
 * one run), 16 positions of the map at a time instead of one row: a
 * 16 x 16 block of a 7-wide map's rows was 7 columns and 9 of zeros. Each
 * position's 16 channels are one store. */
static AVX512F void to_channels_last_flat(float *xt, const bd__bordered *xp, int C, int Hq,
                                          int Wq)
{
    const int W = xp->W, P = xp->P, HW = xp->H * W;
    zero_border(xt, xp, C, Hq, Wq);
    for (int p0 = 0; p0 < HW; p0 += 16) {
        const int np = HW - p0 < 16 ? HW - p0 : 16;
        for (int c0 = 0; c0 < C; c0 += 16) {
            const int nc = C - c0 < 16 ? C - c0 : 16;
            __m512 r[16];
            for (int c = 0; c < 16; c++) {
                const float *src = xp->x + (size_t)(c0 + c) * xp->cs + p0;
                r[c] = c < nc ? _mm512_maskz_loadu_ps(lanes(np), src) : _mm512_setzero_ps();
            }
            transpose16(r); /* r[k]: the channels of position p0 + k */
            int i = p0 / W, j = p0 % W;
            for (int k = 0; k < np; k++) {
                float *dst = xt + ((size_t)(i + P) * Wq + j + P) * C + c0;
                _mm512_mask_storeu_ps(dst, lanes(nc), r[k]);
                if (++j == W)
                    j = 0, i++;
            }
        }
    }
}

/* yt [2TH, 2TW, F] -> y [F, OH*OW] where y's rows are contiguous (ldy =
 * OW), 16 positions at a time as to_channels_last_flat */
static AVX512F void from_channels_last_flat(float *y, const float *yt, int F, int OH, int OW,
                                            int TW)
{
    const int L = OH * OW;
    for (int p0 = 0; p0 < L; p0 += 16) {
        const int np = L - p0 < 16 ? L - p0 : 16;
        for (int f0 = 0; f0 < F; f0 += 16) {
            const int nf = F - f0 < 16 ? F - f0 : 16;
            __m512 r[16];
            int i = p0 / OW, j = p0 % OW;
            for (int k = 0; k < 16; k++) {
                r[k] = k < np ? _mm512_maskz_loadu_ps(lanes(nf),
                                                      yt + ((size_t)i * 2 * TW + j) * F + f0)
                              : _mm512_setzero_ps();
                if (++j == OW)
                    j = 0, i++;
            }
            transpose16(r); /* r[f]: filter f0 + f at positions p0.. */
            for (int f = 0; f < nf; f++)
                _mm512_mask_storeu_ps(y + (size_t)(f0 + f) * L + p0, lanes(np), r[f]);
        }
    }
}

/* xp -> xt by the flat copy where it can */
static AVX512F void channels_last(float *xt, const bd__bordered *xp, int C, int Hq, int Wq)
{
    if (xp->ld == (size_t)xp->W)
        to_channels_last_flat(xt, xp, C, Hq, Wq);
    else
        to_channels_last(xt, xp, C, Hq, Wq);
}

/* r[.][j] = B^T of one column of a tile: the 4 rows' values at p, rs
 * floats apart (16 channels, masked by m) */
static INLINE AVX512F void column_transform(__m512 r[4][4], int j, const float *p, size_t rs,
                                            __mmask16 m)
{
    const __m512 d0 = _mm512_maskz_loadu_ps(m, p), d1 = _mm512_maskz_loadu_ps(m, p + rs);
    const __m512 d2 = _mm512_maskz_loadu_ps(m, p + 2 * rs);
    const __m512 d3 = _mm512_maskz_loadu_ps(m, p + 3 * rs);
    r[0][j] = _mm512_sub_ps(d0, d2);
    r[1][j] = _mm512_add_ps(d1, d2);
    r[2][j] = _mm512_sub_ps(d2, d1);
    r[3][j] = _mm512_sub_ps(d1, d3);
}

/* V [16, T, C] = B^T d B of every tile, 16 channels a vector (C a multiple
 * of 16, or the last vector masked). Tiles overlap by two columns, and
 * r = B^T d works column by column, so a row of tiles takes each image
 * column's r once: the last two of tile tw are the first two of tw + 1
 * (the same operations on the same values as per tile, half the loads) */
static AVX512F void input_transform(float *V, const float *xt, int C, int TH, int TW, int Wq)
{
    const size_t T = (size_t)TH * TW, xs = T * C; /* floats from one ξ to the next */
    const size_t rs = (size_t)Wq * C;             /* from one row of xt to the next */
    for (int th = 0; th < TH; th++)
        for (int c = 0; c < C; c += 16) {
            const __mmask16 m = (__mmask16)(C - c >= 16 ? 0xffff : (1u << (C - c)) - 1u);
            const float *x = xt + (size_t)(2 * th) * rs + c;
            __m512 r[4][4];
            column_transform(r, 0, x, rs, m);
            column_transform(r, 1, x + C, rs, m);
            for (int tw = 0; tw < TW; tw++) {
                column_transform(r, 2, x + (size_t)(2 * tw + 2) * C, rs, m);
                column_transform(r, 3, x + (size_t)(2 * tw + 3) * C, rs, m);
                float *v = V + ((size_t)th * TW + tw) * C + c;
                for (int i = 0; i < 4; i++) { /* V = r B */
                    _mm512_mask_storeu_ps(v + (4 * i + 0) * xs, m, _mm512_sub_ps(r[i][0], r[i][2]));
                    _mm512_mask_storeu_ps(v + (4 * i + 1) * xs, m, _mm512_add_ps(r[i][1], r[i][2]));
                    _mm512_mask_storeu_ps(v + (4 * i + 2) * xs, m, _mm512_sub_ps(r[i][2], r[i][1]));
                    _mm512_mask_storeu_ps(v + (4 * i + 3) * xs, m, _mm512_sub_ps(r[i][1], r[i][3]));
                    r[i][0] = r[i][2]; /* the next tile's first two columns */
                    r[i][1] = r[i][3];
                }
            }
        }
}

/* M [16, P, F] at filters f0.. (FV vectors): for every ξ, Σ_c V[ξ, t0+p, c]
 * · U[ξ, c, f0..] — C steps of FV loads, P broadcasts, FV·P FMAs */
static INLINE AVX512F void product_tile(float *M, const float *V, const float *U, int C, int F,
                                        size_t T, const int FV, const int P)
{
    for (int xi = 0; xi < 16; xi++) {
        const float *v = V + (size_t)xi * T * C, *u = U + (size_t)xi * C * F;
        __m512 acc[2][7];
        for (int a = 0; a < FV; a++)
            for (int p = 0; p < P; p++)
                acc[a][p] = _mm512_setzero_ps();
        for (int c = 0; c < C; c++, u += F) {
            __m512 w[2];
            for (int a = 0; a < FV; a++)
                w[a] = _mm512_loadu_ps(u + 16 * a);
            for (int p = 0; p < P; p++) {
                const __m512 b = _mm512_set1_ps(v[(size_t)p * C + c]);
                for (int a = 0; a < FV; a++)
                    acc[a][p] = _mm512_fmadd_ps(w[a], b, acc[a][p]);
            }
        }
        for (int p = 0; p < P; p++)
            for (int a = 0; a < FV; a++)
                _mm512_storeu_ps(M + ((size_t)xi * P + p) * F + 16 * a, acc[a][p]);
    }
}
typedef void (*product_fn)(float *M, const float *V, const float *U, int C, int F, size_t T);
#define DEFINE_PRODUCT(FV, P)                                                                   \
    static AVX512F void product##FV##_##P(float *M, const float *V, const float *U, int C,     \
                                          int F, size_t T)                                    \
    {                                                                                           \
        product_tile(M, V, U, C, F, T, FV, P);                                                 \
    }
DEFINE_PRODUCT(2, 7)
DEFINE_PRODUCT(2, 4)
DEFINE_PRODUCT(2, 2)
DEFINE_PRODUCT(2, 1)
DEFINE_PRODUCT(1, 7)
DEFINE_PRODUCT(1, 4)
DEFINE_PRODUCT(1, 2)
DEFINE_PRODUCT(1, 1)

/* Y = A^T M A for P tiles from t0 and 16·FV filters from f0: 2x2 outputs
 * of 16 filters a vector, into yt [2·TH, 2·TW, F] (channels last); with
 * epi (bd__wino_epilogue), each output + b (0 if b is NULL), then the ReLU
 * if relu: the conv's narrow_y, the same operations in the same order */
static AVX512F void output_transform(float *yt, const float *M, int F, int f0, int FV, int P,
                                     size_t t0, int TW, const bd__wino_epilogue *epi)
{
    for (int p = 0; p < P; p++) {
        const int th = (int)((t0 + p) / TW), tw = (int)((t0 + p) % TW);
        float *yo = yt + ((size_t)(2 * th) * 2 * TW + 2 * tw) * F + f0;
        const size_t row = (size_t)2 * TW * F;
        for (int a = 0; a < FV; a++) {
            __m512 m[4][4], s[2][4];
            for (int xi = 0; xi < 16; xi++)
                m[xi / 4][xi % 4] = _mm512_loadu_ps(M + ((size_t)xi * P + p) * F + f0 + 16 * a);
            for (int j = 0; j < 4; j++) { /* s = A^T m */
                s[0][j] = _mm512_add_ps(_mm512_add_ps(m[0][j], m[1][j]), m[2][j]);
                s[1][j] = _mm512_sub_ps(_mm512_sub_ps(m[1][j], m[2][j]), m[3][j]);
            }
            __m512 bv = _mm512_setzero_ps();
            if (epi && epi->b)
                bv = _mm512_loadu_ps(epi->b + f0 + 16 * a);
            for (int i = 0; i < 2; i++) { /* Y = s A */
                float *o = yo + i * row + 16 * a;
                __m512 y0 = _mm512_add_ps(_mm512_add_ps(s[i][0], s[i][1]), s[i][2]);
                __m512 y1 = _mm512_sub_ps(_mm512_sub_ps(s[i][1], s[i][2]), s[i][3]);
                if (epi) {
                    y0 = _mm512_add_ps(y0, bv), y1 = _mm512_add_ps(y1, bv);
                    if (epi->relu) /* max(v, 0) is v > 0 ? v : 0, -0 and NaN giving 0 */
                        y0 = _mm512_max_ps(y0, _mm512_setzero_ps()),
                        y1 = _mm512_max_ps(y1, _mm512_setzero_ps());
                }
                _mm512_storeu_ps(o, y0);
                _mm512_storeu_ps(o + F, y1);
            }
        }
    }
}

/* One sample, as bd__conv_direct's K = 3: y [F, OH, ldy] from the bordered
 * xp [C, Hp, Wp] and U (bd__conv_wino_weights); tmp: bd__conv_wino_scratch
 * floats */
static AVX512F void wino(float *y, int ldy, const bd__bordered *xp, int C, const float *U, int F,
                         float *tmp, const bd__wino_epilogue *epi)
{
    const int Hp = xp->H + 2 * xp->P, Wp = xp->W + 2 * xp->P;
    const int OH = Hp - 2, OW = Wp - 2, TH = tiles_h(OH), TW = tiles_h(OW);
    const int Hq = 2 * TH + 2, Wq = 2 * TW + 2;
    const size_t T = (size_t)TH * TW;
    const size_t xtn = (size_t)Hq * Wq * C, ytn = 4 * T * F;
    float *xt = tmp, *yt = tmp, *V = xt + (xtn > ytn ? xtn : ytn), *M = V + 16 * T * C;
    channels_last(xt, xp, C, Hq, Wq);
    input_transform(V, xt, C, TH, TW, Wq);
    static const product_fn prod[2][4] = {{product1_7, product1_4, product1_2, product1_1},
                                          {product2_7, product2_4, product2_2, product2_1}};
    /* tiles of 7 (7x7 and 14x14 maps' 49 and 196 tiles), or of 4 (a 7x7
     * map's 16: 7 + 7 + 2 left a tile of 2, at a third of the speed) */
    static const int width7[4] = {7, 4, 2, 1}, width4[4] = {4, 4, 2, 1};
    const int *width = T % 7 && T % 4 == 0 ? width4 : width7;
#define PICK(P) ((P) == 7 ? 0 : (P) == 4 ? 1 : (P) == 2 ? 2 : 3)
    size_t t0 = 0;
    for (int k = 0; k < 4; k++)
        for (; t0 + (size_t)width[k] <= T; t0 += (size_t)width[k])
            for (int f0 = 0; f0 < F;) {
                const int FV = F - f0 >= 32 ? 2 : 1;
                prod[FV - 1][PICK(width[k])](M + f0, V + t0 * C, U + f0, C, F, T);
                output_transform(yt, M, F, f0, FV, width[k], t0, TW, epi);
                f0 += 16 * FV;
            }
    if (ldy == OW) /* yt [2TH, 2TW, F] -> y [F, OH, ldy] */
        from_channels_last_flat(y, yt, F, OH, OW, TW);
    else
        for (int oh = 0; oh < OH; oh++)
            transpose(y + (size_t)oh * ldy, (size_t)OH * ldy, yt + (size_t)oh * 2 * TW * F,
                      (size_t)F, F, OW);
#undef PICK
}

/* ---- the weight gradient: the forward is Y = A^T M A with M[ξ] = Σ_c
 * U[ξ, f, c] V[ξ, c], so dM = A dY A^T per tile, dU[ξ, c, f] = Σ_tiles
 * V[ξ, t, c] · dM[ξ, t, f], and dW = G^T dU G per (f, c): the same 16
 * products as the forward, their sums over the tiles of every sample. */

/* dM [16, T, F] = A dY A^T of every tile, 16 filters a vector, from yt
 * [2TH, 2TW, F] (dy channels-last, zero past the map) */
static AVX512F void dy_transform(float *dM, const float *yt, int F, int TH, int TW)
{
    const size_t T = (size_t)TH * TW, xs = T * F, row = (size_t)2 * TW * F;
    for (size_t t = 0; t < T; t++) {
        const float *y = yt + ((size_t)(2 * (t / TW)) * 2 * TW + 2 * (t % TW)) * F;
        for (int f = 0; f < F; f += 16) {
            const __m512 y00 = _mm512_loadu_ps(y + f), y01 = _mm512_loadu_ps(y + F + f);
            const __m512 y10 = _mm512_loadu_ps(y + row + f), y11 = _mm512_loadu_ps(y + row + F + f);
            /* r = A dY: rows y0, y0 + y1, y0 - y1, -y1 */
            const __m512 z = _mm512_setzero_ps();
            const __m512 r[4][2] = {{y00, y01},
                                    {_mm512_add_ps(y00, y10), _mm512_add_ps(y01, y11)},
                                    {_mm512_sub_ps(y00, y10), _mm512_sub_ps(y01, y11)},
                                    {_mm512_sub_ps(z, y10), _mm512_sub_ps(z, y11)}};
            float *o = dM + t * F + f;
            for (int i = 0; i < 4; i++) { /* dM = r A^T */
                _mm512_storeu_ps(o + (4 * i + 0) * xs, r[i][0]);
                _mm512_storeu_ps(o + (4 * i + 1) * xs, _mm512_add_ps(r[i][0], r[i][1]));
                _mm512_storeu_ps(o + (4 * i + 2) * xs, _mm512_sub_ps(r[i][0], r[i][1]));
                _mm512_storeu_ps(o + (4 * i + 3) * xs, _mm512_sub_ps(z, r[i][1]));
            }
        }
    }
}

/* dU[ξ, c0+p, f0..] += Σ_t V[ξ, t, c0+p] · dM[ξ, t, f0..] for P channels
 * and FV filter vectors: T steps of FV loads, P broadcasts, FV·P FMAs */
static INLINE AVX512F void dprod_tile(float *dU, const float *V, const float *dM, int C, int F,
                                      size_t T, const int FV, const int P)
{
    for (int xi = 0; xi < 16; xi++) {
        const float *v = V + (size_t)xi * T * C, *d = dM + (size_t)xi * T * F;
        __m512 acc[2][7];
        for (int a = 0; a < FV; a++)
            for (int p = 0; p < P; p++)
                acc[a][p] = _mm512_setzero_ps();
        for (size_t t = 0; t < T; t++, v += C, d += F) {
            __m512 w[2];
            for (int a = 0; a < FV; a++)
                w[a] = _mm512_loadu_ps(d + 16 * a);
            for (int p = 0; p < P; p++) {
                const __m512 b = _mm512_set1_ps(v[p]);
                for (int a = 0; a < FV; a++)
                    acc[a][p] = _mm512_fmadd_ps(w[a], b, acc[a][p]);
            }
        }
        float *u = dU + (size_t)xi * C * F;
        for (int p = 0; p < P; p++)
            for (int a = 0; a < FV; a++) {
                float *o = u + (size_t)p * F + 16 * a;
                _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), acc[a][p]));
            }
    }
}
typedef void (*dprod_fn)(float *dU, const float *V, const float *dM, int C, int F, size_t T);
#define DEFINE_DPROD(FV, P)                                                                     \
    static AVX512F void dprod##FV##_##P(float *dU, const float *V, const float *dM, int C,     \
                                        int F, size_t T)                                      \
    {                                                                                           \
        dprod_tile(dU, V, dM, C, F, T, FV, P);                                                 \
    }
DEFINE_DPROD(2, 7)
DEFINE_DPROD(2, 4)
DEFINE_DPROD(2, 2)
DEFINE_DPROD(2, 1)
DEFINE_DPROD(1, 7)
DEFINE_DPROD(1, 4)
DEFINE_DPROD(1, 2)
DEFINE_DPROD(1, 1)

/* dW [F, C*9] (+)= G^T dU G of every (c, f), dU [16, C, F] */
static void dw_from_dU(float *dW, int accumulate, const float *dU, int C, int F)
{
    const size_t cf = (size_t)C * F;
    for (int c = 0; c < C; c++)
        for (int f = 0; f < F; f++) {
            const float *u = dU + (size_t)c * F + f;
            float m[4][4], t[3][4];
            for (int xi = 0; xi < 16; xi++)
                m[xi / 4][xi % 4] = u[(size_t)xi * cf];
            for (int j = 0; j < 4; j++) { /* t = G^T dU */
                t[0][j] = m[0][j] + 0.5f * (m[1][j] + m[2][j]);
                t[1][j] = 0.5f * (m[1][j] - m[2][j]);
                t[2][j] = 0.5f * (m[1][j] + m[2][j]) + m[3][j];
            }
            float *o = dW + (size_t)f * C * 9 + (size_t)c * 9;
            for (int k = 0; k < 3; k++) { /* t G */
                const float g[3] = {t[k][0] + 0.5f * (t[k][1] + t[k][2]),
                                    0.5f * (t[k][1] - t[k][2]),
                                    0.5f * (t[k][1] + t[k][2]) + t[k][3]};
                for (int j = 0; j < 3; j++)
                    o[3 * k + j] = accumulate ? o[3 * k + j] + g[j] : g[j];
            }
        }
}

/* G samples' dW, as bd__conv_direct_dw's K = 3 */
static AVX512F void wino_dw(float *dW, int accumulate, const float *dy, int ldy,
                            const bd__bordered *xp, int C, int F, int G, size_t dys, size_t xs,
                            float *tmp)
{
    const int Hp = xp->H + 2 * xp->P, Wp = xp->W + 2 * xp->P;
    const int OH = Hp - 2, OW = Wp - 2, TH = tiles_h(OH), TW = tiles_h(OW);
    const int Hq = 2 * TH + 2, Wq = 2 * TW + 2;
    const size_t T = (size_t)TH * TW, xtn = (size_t)Hq * Wq * C, ytn = 4 * T * F;
    float *xt = tmp, *yt = tmp, *V = xt + (xtn > ytn ? xtn : ytn), *dM = V + 16 * T * C;
    float *dU = dM + 16 * T * F;
    memset(dU, 0, (size_t)16 * C * F * sizeof(float));
    static const dprod_fn prod[2][4] = {{dprod1_7, dprod1_4, dprod1_2, dprod1_1},
                                        {dprod2_7, dprod2_4, dprod2_2, dprod2_1}};
    static const int width[4] = {7, 4, 2, 1};
    for (int s = 0; s < G; s++) {
        bd__bordered xps = *xp; /* sample s */
        xps.x += s * xs;
        channels_last(xt, &xps, C, Hq, Wq);
        input_transform(V, xt, C, TH, TW, Wq);
        memset(yt, 0, ytn * sizeof(float)); /* the garbage outputs' dy: 0 */
        for (int oh = 0; oh < OH; oh++)
            transpose(yt + (size_t)oh * 2 * TW * F, (size_t)F, dy + s * dys + (size_t)oh * ldy,
                      (size_t)OH * ldy, OW, F);
        dy_transform(dM, yt, F, TH, TW);
        for (int f0 = 0; f0 < F;) {
            const int FV = F - f0 >= 32 ? 2 : 1;
            int c0 = 0;
            for (int k = 0; k < 4; k++)
                for (; c0 + width[k] <= C; c0 += width[k])
                    prod[FV - 1][k](dU + (size_t)c0 * F + f0, V + c0, dM + f0, C, F, T);
            f0 += 16 * FV;
        }
    }
    dw_from_dU(dW, accumulate, dU, C, F);
}
#else
static void wino(float *y, int ldy, const bd__bordered *xp, int C, const float *U, int F,
                 float *tmp, const bd__wino_epilogue *epi)
{
    abort();
}
static void wino_dw(float *dW, int accumulate, const float *dy, int ldy, const bd__bordered *xp,
                    int C, int F, int G, size_t dys, size_t xs, float *tmp)
{
    abort();
}
#endif

void bd__conv_wino(float *y, int ldy, const bd__bordered *xp, int C, const float *U, int F,
                   float *tmp, const bd__wino_epilogue *epi)
{
    wino(y, ldy, xp, C, U, F, tmp, epi);
}

size_t bd__conv_wino_dw_scratch(int C, int F, int Hp, int Wp)
{
    const int TH = tiles_h(Hp - 2), TW = tiles_h(Wp - 2);
    const size_t T = (size_t)TH * TW;
    const size_t xt = (size_t)(2 * TH + 2) * (2 * TW + 2) * C, yt = (size_t)4 * T * F;
    return (xt > yt ? xt : yt) + 16 * T * (size_t)(C + F) + (size_t)16 * C * F;
}

void bd__conv_wino_dw(float *dW, int accumulate, const float *dy, int ldy, const bd__bordered *xp,
                      int C, int F, int G, size_t dys, size_t xs, float *tmp)
{
    wino_dw(dW, accumulate, dy, ldy, xp, C, F, G, dys, xs, tmp);
}
