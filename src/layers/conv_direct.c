/* conv_direct.c — direct AVX-512 kernels for the padded stride-1
 * convolutions (tobigs_cnn's 5x5 pad 2, deep_convnet's and resnet's 3x3
 * pad 1), the forward and the input gradient.
 *
 * The wide kernels (conv_wide.c) build a sample's columns, C·K² copies of
 * the bordered input — 1.8 MB for a 16-channel 5x5 conv on 32x32, more than
 * L2 — which OpenBLAS then packs again: the copies and the packing took a
 * third of a tobigs_cnn step, and the input gradient's product (inner
 * dimension F = 16) wrote a column matrix of that size for col2im to read
 * back. Here no columns exist: 16 output columns of one row are one vector,
 * and for each (c, kh, kw) one load of the bordered input row, shifted by
 * kw, is multiplied into the accumulators of up to 16 output channels by
 * broadcast weights:
 *
 *   yw[f, oh, ow..ow+15] = Σ_{c,kh,kw} Wt[(c·K+kh)·K+kw, f] · xp[c, oh+kh, ow+kw..ow+kw+15]
 *
 * with Wt [C·K·K, F] the weights transposed so that a step's F weights are
 * adjacent. The input gradient is the same kernel (book 7.4.3's col2im as a
 * convolution): dx[c, i, j] = Σ_{f,kh,kw} dyp[f, i+kh, j+kw] · W[f, c,
 * K-1-kh, K-1-kw], where dyp is dy inside a border of Q = K-1-P zeros, so
 * the output is exactly C x H x W. Sums run in a different order from the
 * GEMM's (FMA, per output), so the numbers equal the reference's to
 * rounding; tests/test_kernels.c compares them. The weight gradient of a
 * 3x3 or 5x5 kernel is direct too (below); of other kernels it stays a
 * product (conv_wide.c). Only with AVX-512 and the fast kernels; elsewhere
 * (BADAK_KERNELS=portable, other CPUs) the wide kernels run. The 3x3
 * forward and input gradient with 8 or more channels in and a multiple of
 * 16 out go to Winograd's F(2x2, 3x3) instead (conv_winograd.c: these
 * kernels reach about 90% of a core's FMA peak, so only fewer FMAs go
 * faster), and so does their dW where a group's buffers fit; the direct
 * dW takes the other 3x3 and every 5x5. */
#include "internal.h"

int bd__conv_direct_applies(const bd_conv_geom *g)
{
    return bd__conv_wide_applies(g) && bd__conv_direct_cpu();
}

/* Wt [C*K*K, F] (the forward's) and Wtd [F*K*K, C] (the input gradient's,
 * the kernel flipped) from W [F, C, K, K] */
void bd__conv_direct_weights(float *Wt, float *Wtd, const float *W, int F, int C, int K)
{
    const int KK = K * K;
    for (int f = 0; f < F; f++)
        for (int c = 0; c < C; c++)
            for (int k = 0; k < KK; k++) {
                const float w = W[((size_t)f * C + c) * KK + k];
                if (Wt)
                    Wt[((size_t)c * KK + k) * F + f] = w;
                if (Wtd)
                    Wtd[((size_t)f * KK + (KK - 1 - k)) * C + c] = w;
            }
}

/* the filters-in-the-vector kernel's outputs: 32 or more filters, a
 * multiple of 16 (below) */
static int cv_applies(int F) { return F >= 32 && F % 16 == 0; }

#if defined(__GNUC__) && defined(__x86_64__) && !defined(BD_NO_AVX512)
#include <immintrin.h>

#define AVX512F __attribute__((target("avx512f")))
static inline AVX512F __mmask16 lanes16(int n) /* the first n of 16 lanes, n >= 1 */
{
    return (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1u);
}

/* A block of FB output channels of 16 columns of one output row, its
 * accumulators a0..a(FB-1) named one by one (an array of them gcc kept in
 * memory, storing all 16 every step). x: the input at [0, oh, ow0]
 * (channels cs apart, rows Wp apart); w: Wt's column f0 (rows F apart); y:
 * the output at [f0, oh, ow0] (channels fs apart). */
#define ACC1(X) X(0)
#define ACC4(X) X(0) X(1) X(2) X(3)
#define ACC8(X) ACC4(X) X(4) X(5) X(6) X(7)
#define ACC16(X) ACC8(X) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define DECL(j) __m512 a##j = _mm512_setzero_ps();
#define FMA(j) a##j = _mm512_fmadd_ps(v, _mm512_set1_ps(w[j]), a##j);
#define STORE(j) _mm512_mask_storeu_ps(y + (j) * fs, m, a##j);
/* The steps (c, kh, kw) of a block; KK a constant where it can be (3, 5),
 * so that the (kh, kw) loops unroll: on a core that does one 512-bit FMA
 * a cycle (the 2-vCPU Zen 4 guest of 2026-12-03) the loops' own
 * instructions cost a fifth of the time (measured on cv_tile: 72 -> 90
 * GFLOP/s). The same operations in the same order: the same bits. */
#define BLOCK_STEPS(LIST, KK)                                                                   \
    for (int c = 0; c < C; c++)                                                                 \
        for (int kh = 0; kh < (KK); kh++) {                                                     \
            const float *xr = x + c * cs + (size_t)kh * Wp;                                     \
            for (int kw = 0; kw < (KK); kw++) {                                                 \
                const __m512 v = _mm512_maskz_loadu_ps(m, xr + kw);                             \
                LIST(FMA)                                                                       \
                w += F;                                                                         \
            }                                                                                   \
        }
#define DEFINE_BLOCK(name, LIST)                                                                \
    static AVX512F void name(float *y, size_t fs, const float *x, size_t cs, int Wp,          \
                             const float *w, int F, int C, int K, __mmask16 m)                \
    {                                                                                           \
        LIST(DECL)                                                                              \
        if (K == 3)                                                                             \
            BLOCK_STEPS(LIST, 3)                                                                \
        else if (K == 5)                                                                        \
            BLOCK_STEPS(LIST, 5)                                                                \
        else                                                                                    \
            BLOCK_STEPS(LIST, K)                                                                \
        LIST(STORE)                                                                             \
    }
DEFINE_BLOCK(block16, ACC16)
DEFINE_BLOCK(block8, ACC8)
DEFINE_BLOCK(block4, ACC4)
DEFINE_BLOCK(block1, ACC1)

/* the output channels of 16 positions: 16, then 8, 4 and 1 at a time */
static AVX512F void blocks(float *y, size_t fs, const float *x, size_t cs, int Wp,
                           const float *Wt, int F, int C, int K, __mmask16 m)
{
    int f = 0;
    for (; f + 16 <= F; f += 16)
        block16(y + f * fs, fs, x, cs, Wp, Wt + f, F, C, K, m);
    for (; f + 8 <= F; f += 8)
        block8(y + f * fs, fs, x, cs, Wp, Wt + f, F, C, K, m);
    for (; f + 4 <= F; f += 4)
        block4(y + f * fs, fs, x, cs, Wp, Wt + f, F, C, K, m);
    for (; f < F; f++)
        block1(y + f * fs, fs, x, cs, Wp, Wt + f, F, C, K, m);
}

/* ---- filters in the vector: for 32 and more output channels (a multiple
 * of 16), the lanes hold 16 output channels of one position instead of 16
 * positions of one channel, so that no lane is wasted on a map narrower
 * than 16 (a 7x7 map filled 49 of 64 lanes, 14x14 196 of 224) and a
 * weight vector loaded once serves P positions. A tile is FV vectors of
 * filters (FV·16 channels) times P consecutive positions of one output
 * row, FV·P accumulators; a step (c, kh, kw) loads FV weight vectors (a
 * row of Wt [C·K·K, F]) and broadcasts P inputs into FV·P FMAs: 9 loads per
 * 14 FMAs for FV = 2, P = 7, where block16 needs 17 per 16. Every output
 * is still Σ over (c, kh, kw) in that order, one FMA each from 0 — the
 * same operations as block16's, so the same bits. Measured on the 2-vCPU
 * Zen 5 guest, one thread, GFLOP/s of useful work: 64 channels on 7x7
 * 139 -> 199, 32 on 14x14 164 -> 188; 16 channels (FV = 1: a load per FMA)
 * were slower, 178 -> 141, and keep the blocks. */
#define INLINE inline __attribute__((always_inline))
static INLINE AVX512F void cv_tile(float *y, size_t fs, const float *x, size_t cs, int Wp,
                                   const float *w, int F, int C, int K, int S, const int FV,
                                   const int P)
{
    __m512 acc[2][7];
    for (int v = 0; v < FV; v++)
        for (int p = 0; p < P; p++)
            acc[v][p] = _mm512_setzero_ps();
    for (int c = 0; c < C; c++)
        for (int kh = 0; kh < K; kh++) {
            const float *xr = x + c * cs + (size_t)kh * Wp;
            for (int kw = 0; kw < K; kw++) {
                __m512 wv[2];
                for (int v = 0; v < FV; v++)
                    wv[v] = _mm512_loadu_ps(w + 16 * v);
                for (int p = 0; p < P; p++) {
                    const __m512 b = _mm512_set1_ps(xr[p * S + kw]);
                    for (int v = 0; v < FV; v++)
                        acc[v][p] = _mm512_fmadd_ps(wv[v], b, acc[v][p]);
                }
                w += F;
            }
        }
    float t[16];
    for (int v = 0; v < FV; v++)
        for (int p = 0; p < P; p++) {
            _mm512_storeu_ps(t, acc[v][p]);
            for (int l = 0; l < 16; l++)
                y[(size_t)(16 * v + l) * fs + p] = t[l];
        }
}
/* y at [f0, oh, ow0] (channels fs apart), x at [0, oh·S, ow0·S], w Wt's
 * column f0: P positions ow0.. of FV·16 filters */
typedef void (*cv_fn)(float *y, size_t fs, const float *x, size_t cs, int Wp, const float *w,
                      int F, int C, int K, int S);
#define DEFINE_CV(FV, P)                                                                        \
    static AVX512F void cv##FV##_##P(float *y, size_t fs, const float *x, size_t cs, int Wp,   \
                                     const float *w, int F, int C, int K, int S)              \
    {                                                                                           \
        if (K == 3) /* K a constant: the (kh, kw) loops unroll (BLOCK_STEPS) */             \
            cv_tile(y, fs, x, cs, Wp, w, F, C, 3, S, FV, P);                                   \
        else if (K == 5)                                                                        \
            cv_tile(y, fs, x, cs, Wp, w, F, C, 5, S, FV, P);                                   \
        else                                                                                    \
            cv_tile(y, fs, x, cs, Wp, w, F, C, K, S, FV, P);                                   \
    }
DEFINE_CV(2, 7)
DEFINE_CV(2, 4)
DEFINE_CV(2, 2)
DEFINE_CV(2, 1)
DEFINE_CV(1, 7)
DEFINE_CV(1, 4)
DEFINE_CV(1, 2)
DEFINE_CV(1, 1)

/* One sample, filters in the vector: y [F, OH, ldy] from xp [C, Hp, Wp]
 * with stride S (OH = (Hp-K)/S + 1, OW likewise); F a multiple of 16. Each
 * row in tiles of 7, then 4, 2, 1 positions; 32 filters at a time, the
 * last 16 alone. */
static AVX512F void direct_cv(float *y, int ldy, const float *xp, int C, int Hp, int Wp,
                              const float *Wt, int F, int K, int S)
{
    const int OH = (Hp - K) / S + 1, OW = (Wp - K) / S + 1;
    const size_t cs = (size_t)Hp * Wp, fs = (size_t)OH * ldy;
    static const cv_fn tiles[2][4] = {{cv1_7, cv1_4, cv1_2, cv1_1}, {cv2_7, cv2_4, cv2_2, cv2_1}};
    static const int width[4] = {7, 4, 2, 1};
    for (int f = 0; f < F;) {
        const int FV = F - f >= 32 ? 2 : 1;
        for (int oh = 0; oh < OH; oh++) {
            const float *xr = xp + (size_t)oh * S * Wp;
            float *yr = y + (size_t)f * fs + (size_t)oh * ldy;
            int ow = 0;
            for (int t = 0; t < 4; t++)
                for (; ow + width[t] <= OW; ow += width[t])
                    tiles[FV - 1][t](yr + ow, fs, xr + (size_t)ow * S, cs, Wp, Wt + f, F, C, K, S);
        }
        f += 16 * FV;
    }
}

/* Two ways to cut the output into vectors of 16: by rows (16 columns of
 * one row, the last vector of a row masked: 32 columns fill two, 28 use 28
 * of 32 lanes, 7 only 7 of 16), or "flat" over the wide output [OH, Wp]
 * (16 consecutive positions, rows Wp apart, K-1 garbage positions each, as
 * the wide columns: 7 columns use 7 of every 9 lanes). Flat where it
 * wastes fewer lanes. */
static int flat_better(int OW, int Wp)
{
    return Wp < 16 * ((OW + 15) / 16);
}

/* One sample: y [F, OH, ldy] (the first OW of each row written) from xp
 * [C, Hp, Wp] (OH = Hp-K+1, OW = Wp-K+1) and Wt [C*K*K, F]. Flat needs
 * ldy = Wp, or tmp (F*OH*Wp floats) to write the wide output first. The
 * flat positions stop at the last row's OW-th, so no load passes xp's
 * channel end. */
static AVX512F void direct_avx512(float *y, int ldy, const float *xp, int C, int Hp, int Wp,
                                  const float *Wt, int F, int K, float *tmp)
{
    const int OH = Hp - K + 1, OW = Wp - K + 1;
    const size_t cs = (size_t)Hp * Wp;
    if (cv_applies(F)) {
        direct_cv(y, ldy, xp, C, Hp, Wp, Wt, F, K, 1);
        return;
    }
    if (flat_better(OW, Wp) && (ldy == Wp || tmp)) {
        float *yw = ldy == Wp ? y : tmp;
        const size_t fs = (size_t)OH * Wp, Lq = (size_t)(OH - 1) * Wp + OW;
        for (size_t q0 = 0; q0 < Lq; q0 += 16)
            blocks(yw + q0, fs, xp + q0, cs, Wp, Wt, F, C, K, lanes16((int)(Lq - q0)));
        if (yw != y)
            for (int f = 0; f < F; f++)
                for (int oh = 0; oh < OH; oh++)
                    memcpy(y + ((size_t)f * OH + oh) * ldy, yw + f * fs + (size_t)oh * Wp,
                           (size_t)OW * sizeof(float));
        return;
    }
    const size_t fs = (size_t)OH * ldy;
    for (int oh = 0; oh < OH; oh++)
        for (int ow0 = 0; ow0 < OW; ow0 += 16)
            blocks(y + (size_t)oh * ldy + ow0, fs, xp + (size_t)oh * Wp + ow0, cs, Wp, Wt, F, C,
                   K, lanes16(OW - ow0));
}

/* ---- the weight gradient: dW[f, c, kh, kw] = Σ_{oh,ow} dyw[f, oh, ow] ·
 * xp[c, oh+kh, ow+kw], 16 columns at a time into lane-wise sums, added
 * across the lanes at the end. For one (c, kh) a block of FB filters x K
 * kernel columns has FB·K accumulators a<f>_<kw> (8 x 3 for 3x3 kernels,
 * 4 x 5 for 5x5): a step loads K shifted input vectors and, one filter at
 * a time, that filter's dy vector, and does FB·K FMAs. */
#define K3(X, f) X(f, 0) X(f, 1) X(f, 2)
#define K5(X, f) X(f, 0) X(f, 1) X(f, 2) X(f, 3) X(f, 4)
#define KV3(X) X(0) X(1) X(2)
#define KV5(X) X(0) X(1) X(2) X(3) X(4)
#define DW_DECL(f, k) __m512 a##f##_##k = _mm512_setzero_ps();
#define DW_FMA(f, k) a##f##_##k = _mm512_fmadd_ps(d, v##k, a##f##_##k);
#define DW_LOADX(k) const __m512 v##k = _mm512_maskz_loadu_ps(m, xr + ow0 + (k));
#define DW_OUT(f, k)                                                                           \
    {                                                                                           \
        float *o = dW + (size_t)(f) * CKK + (k);                                                \
        const float sum = _mm512_reduce_add_ps(a##f##_##k);                                     \
        *o = accumulate ? *o + sum : sum;                                                       \
    }
#define ROW3(f)                                                                                 \
    {                                                                                           \
        const __m512 d = _mm512_maskz_loadu_ps(m, dr + ow0 + (size_t)(f) * fs);                 \
        K3(DW_FMA, f)                                                                           \
    }
#define ROW5(f)                                                                                 \
    {                                                                                           \
        const __m512 d = _mm512_maskz_loadu_ps(m, dr + ow0 + (size_t)(f) * fs);                 \
        K5(DW_FMA, f)                                                                           \
    }
#define F1(X, KL) KL(X, 0)
#define F4(X, KL) KL(X, 0) KL(X, 1) KL(X, 2) KL(X, 3)
#define F8(X, KL) F4(X, KL) KL(X, 4) KL(X, 5) KL(X, 6) KL(X, 7)
#define R1(R) R(0)
#define R4(R) R(0) R(1) R(2) R(3)
#define R8(R) R4(R) R(4) R(5) R(6) R(7)
/* dW at [f0, c, kh, 0] (filters CKK apart); dy at [f0, 0, 0] (filters fs
 * apart, rows ldy apart); x: the input at [c, kh, 0] (rows Wp apart); G
 * samples, their dy dys and their x xs floats apart, summed lane-wise
 * before the one reduction across the lanes */
#define DEFINE_DW(name, FL, KL, KV, RL, ROW)                                                    \
    static AVX512F void name(float *dW, int CKK, int accumulate, const float *dy0, size_t fs,  \
                             int ldy, const float *x0, int Wp, int OH, int OW, int flat,       \
                             int G, size_t dys, size_t xs)                                     \
    {                                                                                           \
        FL(DW_DECL, KL)                                                                         \
        for (int s = 0; s < G; s++) {                                                           \
            const float *dy = dy0 + s * dys, *x = x0 + s * xs;                                  \
            if (flat) { /* ldy = Wp, the garbage positions of dy 0 */                            \
                const size_t Lq = (size_t)(OH - 1) * Wp + OW;                                   \
                const float *dr = dy, *xr = x;                                                  \
                for (size_t ow0 = 0; ow0 < Lq; ow0 += 16) {                                     \
                    const __mmask16 m = lanes16((int)(Lq - ow0));                               \
                    KV(DW_LOADX)                                                                \
                    RL(ROW)                                                                     \
                }                                                                               \
            } else {                                                                            \
                for (int oh = 0; oh < OH; oh++) {                                               \
                    const float *dr = dy + (size_t)oh * ldy, *xr = x + (size_t)oh * Wp;         \
                    for (int ow0 = 0; ow0 < OW; ow0 += 16) {                                    \
                        const __mmask16 m = lanes16(OW - ow0);                                  \
                        KV(DW_LOADX)                                                            \
                        RL(ROW)                                                                 \
                    }                                                                           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
        FL(DW_OUT, KL)                                                                          \
    }
DEFINE_DW(dw8x3, F8, K3, KV3, R8, ROW3)
DEFINE_DW(dw1x3, F1, K3, KV3, R1, ROW3)
DEFINE_DW(dw4x5, F4, K5, KV5, R4, ROW5)
DEFINE_DW(dw1x5, F1, K5, KV5, R1, ROW5)

/* ---- the weight gradient with the filters in the vector (32 or more, a
 * multiple of 16): dy transposed first, dyT [G, OH*OW, F], so that one
 * position's 16 filters are a vector; a tile is FV filter vectors times J
 * weights (c, kh, kw) of a row of dW, FV·J accumulators summed over every
 * position of every sample — no sums across the lanes at the end (half of
 * dw_avx512's time on 7x7 maps). A step loads FV dy vectors and broadcasts
 * J inputs (x at the position shifted by that weight's offset) into FV·J
 * FMAs. Every dW is summed over (sample, oh, ow) in that order. */
static INLINE AVX512F void dwv_tile(float *dW, int CKK, int accumulate, const float *dyT, int F,
                                    const float *x0, size_t xs, const int *off, int Wp,
                                    int OH, int OW, int G, const int FV, const int J)
{
    __m512 acc[2][7];
    for (int v = 0; v < FV; v++)
        for (int j = 0; j < J; j++)
            acc[v][j] = _mm512_setzero_ps();
    const float *d = dyT;
    for (int s = 0; s < G; s++) {
        const float *x = x0 + s * xs;
        for (int oh = 0; oh < OH; oh++) {
            const float *xr = x + (size_t)oh * Wp;
            for (int ow = 0; ow < OW; ow++, d += F) {
                __m512 dv[2];
                for (int v = 0; v < FV; v++)
                    dv[v] = _mm512_loadu_ps(d + 16 * v);
                for (int j = 0; j < J; j++) {
                    const __m512 b = _mm512_set1_ps(xr[ow + off[j]]);
                    for (int v = 0; v < FV; v++)
                        acc[v][j] = _mm512_fmadd_ps(dv[v], b, acc[v][j]);
                }
            }
        }
    }
    float t[16];
    for (int v = 0; v < FV; v++)
        for (int j = 0; j < J; j++) {
            _mm512_storeu_ps(t, acc[v][j]);
            for (int l = 0; l < 16; l++) {
                float *o = dW + (size_t)(16 * v + l) * CKK + j;
                *o = accumulate ? *o + t[l] : t[l];
            }
        }
}
/* dW at [f0, j0] (filters CKK apart), dyT at filter f0 (positions F
 * apart), off: the J input offsets of weights j0.. */
typedef void (*dwv_fn)(float *dW, int CKK, int accumulate, const float *dyT, int F,
                       const float *x0, size_t xs, const int *off, int Wp, int OH, int OW, int G);
#define DEFINE_DWV(FV, J)                                                                       \
    static AVX512F void dwv##FV##_##J(float *dW, int CKK, int accumulate, const float *dyT,    \
                                      int F, const float *x0, size_t xs, const int *off,       \
                                      int Wp, int OH, int OW, int G)                           \
    {                                                                                           \
        dwv_tile(dW, CKK, accumulate, dyT, F, x0, xs, off, Wp, OH, OW, G, FV, J);              \
    }
DEFINE_DWV(2, 7)
DEFINE_DWV(2, 4)
DEFINE_DWV(2, 2)
DEFINE_DWV(2, 1)
DEFINE_DWV(1, 7)
DEFINE_DWV(1, 4)
DEFINE_DWV(1, 2)
DEFINE_DWV(1, 1)

/* G samples' dyw [F, OH, ldy] (dys apart) -> dyT [G, OH*OW, F] */
static void transpose_dy(float *dyT, const float *dy, int ldy, int F, int OH, int OW, int G,
                         size_t dys)
{
    for (int s = 0; s < G; s++) {
        const float *src = dy + s * dys;
        float *dst = dyT + (size_t)s * OH * OW * F;
        for (int f = 0; f < F; f++)
            for (int oh = 0; oh < OH; oh++) {
                const float *r = src + ((size_t)f * OH + oh) * ldy;
                float *o = dst + (size_t)oh * OW * F + f;
                for (int ow = 0; ow < OW; ow++)
                    o[(size_t)ow * F] = r[ow];
            }
    }
}

static AVX512F void dw_cv(float *dW, int accumulate, const float *dy, int ldy, const float *xp,
                          int C, int Hp, int Wp, int F, int K, int G, size_t dys, size_t xs,
                          float *dyT)
{
    const int OH = Hp - K + 1, OW = Wp - K + 1, CKK = C * K * K;
    const size_t cs = (size_t)Hp * Wp;
    transpose_dy(dyT, dy, ldy, F, OH, OW, G, dys);
    static const dwv_fn tiles[2][4] = {{dwv1_7, dwv1_4, dwv1_2, dwv1_1},
                                       {dwv2_7, dwv2_4, dwv2_2, dwv2_1}};
    static const int width[4] = {7, 4, 2, 1};
    for (int f = 0; f < F;) {
        const int FV = F - f >= 32 ? 2 : 1;
        int j = 0;
        for (int t = 0; t < 4; t++)
            for (; j + width[t] <= CKK; j += width[t]) {
                int off[7];
                for (int q = 0; q < width[t]; q++) {
                    const int c = (j + q) / (K * K), k = (j + q) % (K * K);
                    off[q] = (int)(c * cs) + (k / K) * Wp + k % K;
                }
                tiles[FV - 1][t](dW + (size_t)f * CKK + j, CKK, accumulate, dyT + f, F, xp, xs,
                                 off, Wp, OH, OW, G);
            }
        f += 16 * FV;
    }
}

/* G samples: dW [F, C*K*K] = (accumulate ? dW : 0) + the weight gradient
 * of dyw [F, OH, ldy] (the first OW of each row read) over xp [C, Hp, Wp],
 * the samples' dyw dys and their xp xs floats apart; K is 3 or 5. A block
 * of filters is the outer loop, so its dy (FB x OH x ldy floats: 18 KB for
 * 4 filters of 32x36, times G) stays in L1 for every (c, kh). */
static AVX512F void dw_avx512(float *dW, int accumulate, const float *dy, int ldy,
                              const float *xp, int C, int Hp, int Wp, int F, int K, int G,
                              size_t dys, size_t xs)
{
    const int OH = Hp - K + 1, OW = Wp - K + 1, CKK = C * K * K, FB = K == 3 ? 8 : 4;
    const size_t fs = (size_t)OH * ldy, cs = (size_t)Hp * Wp;
    const int flat = ldy == Wp && flat_better(OW, Wp);
    for (int f = 0; f < F;) {
        const int n = F - f >= FB ? FB : 1;
        for (int c = 0; c < C; c++)
            for (int kh = 0; kh < K; kh++) {
                float *o = dW + (size_t)f * CKK + (size_t)(c * K + kh) * K;
                const float *x = xp + c * cs + (size_t)kh * Wp, *d = dy + f * fs;
                if (K == 3 && n == FB)
                    dw8x3(o, CKK, accumulate, d, fs, ldy, x, Wp, OH, OW, flat, G, dys, xs);
                else if (K == 3)
                    dw1x3(o, CKK, accumulate, d, fs, ldy, x, Wp, OH, OW, flat, G, dys, xs);
                else if (n == FB)
                    dw4x5(o, CKK, accumulate, d, fs, ldy, x, Wp, OH, OW, flat, G, dys, xs);
                else
                    dw1x5(o, CKK, accumulate, d, fs, ldy, x, Wp, OH, OW, flat, G, dys, xs);
            }
        f += n;
    }
}

int bd__conv_direct_isa(void) { return __builtin_cpu_supports("avx512f"); }
#else
int bd__conv_direct_isa(void) { return 0; }
/* never called: bd__conv_direct_applies is 0 without AVX-512 */
static void dw_avx512(float *dW, int accumulate, const float *dy, int ldy, const float *xp,
                      int C, int Hp, int Wp, int F, int K, int G, size_t dys, size_t xs)
{
    abort();
}
/* never called: bd__conv_direct_dw_applies is 0 without AVX-512 */
static void dw_cv(float *dW, int accumulate, const float *dy, int ldy, const float *xp,
                  int C, int Hp, int Wp, int F, int K, int G, size_t dys, size_t xs, float *dyT)
{
    abort();
}
/* never called: bd__conv_direct_strided_applies is 0 without AVX-512 */
static void direct_cv(float *y, int ldy, const float *xp, int C, int Hp, int Wp,
                      const float *Wt, int F, int K, int S)
{
    abort();
}
/* never called: bd__conv_direct_applies is 0 without AVX-512 */
static void direct_avx512(float *y, int ldy, const float *xp, int C, int Hp, int Wp,
                          const float *Wt, int F, int K, float *tmp)
{
    abort();
}
#endif

int bd__conv_direct_cpu(void)
{
    return !bd__kernels_portable() && !bd__kernels_reference() && bd__conv_direct_isa();
}

void bd__conv_direct(float *y, int ldy, const float *xp, int C, int Hp, int Wp, const float *Wt,
                     int F, int K, float *tmp)
{
    direct_avx512(y, ldy, xp, C, Hp, Wp, Wt, F, K, tmp);
}

/* The bordered copy goes where the reference path puts a sample's columns,
 * so it must not be larger: C·Hp·Wp <= C·K²·OH·OW, true whenever K >= S.
 * Not for 1x1 kernels: a tile's C steps are too few for its stores (one
 * thread, batch 50: 16 -> 32 channels stride 2 0.236 -> 0.204 ms, 32 -> 64
 * 0.197 -> 0.225 ms against the product; 3x3 stride 2: 2.14 -> 0.68 and
 * 1.63 -> 0.66 ms). */
int bd__conv_direct_strided_applies(const bd_conv_geom *g)
{
    const size_t xp = (size_t)g->C * (g->H + 2 * g->P) * (g->W + 2 * g->P);
    return g->K > 1 && !bd__conv_wide_applies(g) && bd__conv_direct_cpu() && cv_applies(g->F) &&
           xp <= (size_t)g->C * g->K * g->K * g->OH * g->OW;
}

void bd__conv_direct_strided(float *y, const float *x, const float *Wt, float *xpad,
                             const bd_conv_geom *g1)
{
    if (g1->P > 0) {
        bd__conv_pad_input(xpad, x, g1);
        x = xpad;
    }
    direct_cv(y, g1->OW, x, g1->C, g1->H + 2 * g1->P, g1->W + 2 * g1->P, Wt, g1->F, g1->K,
              g1->S);
}

int bd__conv_direct_dw_applies(const bd_conv_geom *g)
{
    return bd__conv_direct_applies(g) && (g->K == 3 || g->K == 5);
}

void bd__conv_direct_dw(float *dW, int accumulate, const float *dy, int ldy, const float *xp,
                        int C, int Hp, int Wp, int F, int K, int G, size_t dys, size_t xs,
                        float *tmp, size_t tmpn)
{
    const size_t dyT = (size_t)G * F * (Hp - K + 1) * (Wp - K + 1);
    if (cv_applies(F) && tmp && dyT <= tmpn)
        dw_cv(dW, accumulate, dy, ldy, xp, C, Hp, Wp, F, K, G, dys, xs, tmp);
    else
        dw_avx512(dW, accumulate, dy, ldy, xp, C, Hp, Wp, F, K, G, dys, xs);
}

/* Samples whose weight gradients dw_avx512 sums lane-wise before its one
 * reduction across the lanes per weight: enough that a reduction (about 8
 * instructions per weight and filter) follows at least 64 vector steps —
 * a 7x7 map has 4 per sample, 14x14 14, 28x28 56: the reductions were half
 * of the kernel's time on resnet — but at most 16 samples and 1 MB of
 * their bordered inputs and gradients (L2). On the padded geometry g1 of
 * one sample (bd__conv_wide_backward's). */
int bd__conv_direct_dw_group(const bd_conv_geom *g1)
{
    if (!bd__conv_direct_dw_applies(g1))
        return 1;
    const int Hp = g1->H + 2 * g1->P, Wp = g1->W + 2 * g1->P, OH = g1->OH, OW = g1->OW;
    const long steps = flat_better(OW, Wp) ? ((long)(OH - 1) * Wp + OW + 15) / 16
                                           : (long)OH * ((OW + 15) / 16);
    const size_t per = ((size_t)g1->C * Hp * Wp + (size_t)g1->F * OH * Wp) * sizeof(float);
    long G = (64 + steps - 1) / steps;
    G = BD_MIN(G, 16);
    G = BD_MIN(G, (long)((1u << 20) / per));
    return G < 1 ? 1 : (int)G;
}
