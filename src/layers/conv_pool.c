/* conv_pool.c — Conv2d + ReLU + 2x2 max-pooling in one pass (the fast
 * kernels' case: a stride-1 unpadded convolution, the ReLU fused into it,
 * then a 2x2, stride-2 max-pool: the first layers of mnist99, lenet5).
 *
 * Unfused, a sample's feature map makes five passes over memory: the conv
 * narrows its wide product to y = ReLU(yw + b) (conv_wide.c), the pool reads
 * y back and writes its maxima and their argmax; backward, the pool writes
 * dx (one gradient in every 2x2 window, zeros elsewhere) and the conv reads
 * it with y again to mask it. With 16x24x24 maps, those passes were 37% of
 * an mnist99 epoch, for 2% of its FLOPs. Fused, per sample while it is in
 * cache:
 *
 *   forward:  yw_b [F, OH*W] (the wide product) -> y_b = ReLU(yw_b + b)
 *             [F, OH, OW], and in the same loop its 2x2 maxima p_b
 *             [F, OH/2, OW/2] and their argmax (the pool layer's out and aux)
 *   backward: dp_b (the pool's incoming gradient) -> dyw_b [F, OH*W]: dp at
 *             each window's argmax where p > 0, 0 elsewhere — what the pool
 *             backward, the ReLU mask and the widening made, in one write
 *
 * The numbers are the unfused ones bit for bit: the same additions
 * (s + b once per element), the same comparisons in the same order (the
 * first of equal maxima wins, as in pool.c), and the mask y > 0 taken at
 * the argmax, where y equals p. tests/test_kernels.c compares the two. */
#include "internal.h"

static inline float relu_at(const float *s, int j, float bias)
{
    const float v = s[j] + bias;
    return v > 0.0f ? v : 0.0f;
}

/* One sample (g1: the conv's geometry, B = 1). y [F, OH, OW] (NULL: not
 * written; the pool reads the same values from yw); p, am [F, OH/2, OW/2]:
 * am holds each maximum's index in y_b (f*OH*OW + i*OW + j), as pool.c's
 * argmax. */
BD_HOT static void narrow_pool(float *restrict y, float *restrict p, int32_t *restrict am,
                               const float *restrict yw, const float *b, const bd_conv_geom *g1)
{
    const int F = g1->F, OH = g1->OH, OW = g1->OW, W = g1->W, L = OH * W;
    const int PH = OH / 2, PW = OW / 2;
    for (int f = 0; f < F; f++) {
        const float bias = b ? b[f] : 0.0f;
        const float *sf = yw + (size_t)f * L;
        float *yf = y ? y + (size_t)f * OH * OW : NULL;
        const int32_t base = f * OH * OW;
        for (int ph = 0; ph < PH; ph++) {
            const float *s0 = sf + (size_t)(2 * ph) * W, *s1 = s0 + W;
            float *pp = p + ((size_t)f * PH + ph) * PW;
            int32_t *ap = am + ((size_t)f * PH + ph) * PW;
            const int32_t i0 = base + 2 * ph * OW, i1 = i0 + OW;
            if (yf) {
                float *y0 = yf + (size_t)(2 * ph) * OW, *y1 = y0 + OW;
                for (int ow = 0; ow < OW; ow++) {
                    y0[ow] = relu_at(s0, ow, bias);
                    y1[ow] = relu_at(s1, ow, bias);
                }
            }
            for (int pw = 0; pw < PW; pw++) {
                const int j = 2 * pw;
                const float a = relu_at(s0, j, bias), c = relu_at(s0, j + 1, bias);
                const float d = relu_at(s1, j, bias), e = relu_at(s1, j + 1, bias);
                const float m0 = a >= c ? a : c, m1 = d >= e ? d : e;
                const int32_t k0 = a >= c ? i0 + j : i0 + j + 1;
                const int32_t k1 = d >= e ? i1 + j : i1 + j + 1;
                pp[pw] = m0 >= m1 ? m0 : m1;
                ap[pw] = m0 >= m1 ? k0 : k1;
            }
        }
        if ((OH & 1) && yf) { /* the last row, in no window */
            const float *s = sf + (size_t)(OH - 1) * W;
            float *yr = yf + (size_t)(OH - 1) * OW;
            for (int ow = 0; ow < OW; ow++)
                yr[ow] = relu_at(s, ow, bias);
        }
    }
}

/* One sample: dyw [F, OH*W] from dp, p, am [F, OH/2, OW/2] (above); db[f] +=
 * the sum of row f of dyw, row by row as conv_wide.c sums them. */
BD_HOT static void widen_pool(float *restrict dyw, float *db, const float *restrict dp,
                              const float *restrict p, const int32_t *restrict am,
                              const bd_conv_geom *g1)
{
    const int F = g1->F, OH = g1->OH, OW = g1->OW, W = g1->W, L = OH * W;
    const int PH = OH / 2, PW = OW / 2;
    for (int f = 0; f < F; f++) {
        float *df = dyw + (size_t)f * L;
        const int32_t base = f * OH * OW;
        for (int ph = 0; ph < PH; ph++) {
            float *d0 = df + (size_t)(2 * ph) * W, *d1 = d0 + W;
            const size_t o = ((size_t)f * PH + ph) * PW;
            const int32_t i0 = base + 2 * ph * OW;
            for (int pw = 0; pw < PW; pw++) {
                const int j = 2 * pw;
                const float v = p[o + pw] > 0.0f ? dp[o + pw] : 0.0f;
                const int32_t k = am[o + pw] - i0 - j; /* 0, 1, OW or OW + 1 */
                d0[j] = k == 0 ? v : 0.0f;
                d0[j + 1] = k == 1 ? v : 0.0f;
                d1[j] = k == OW ? v : 0.0f;
                d1[j + 1] = k == OW + 1 ? v : 0.0f;
            }
            /* an odd last column and the garbage columns */
            for (int ow = 2 * PW; ow < W; ow++)
                d0[ow] = d1[ow] = 0.0f;
        }
        if (OH & 1)
            memset(df + (size_t)(OH - 1) * W, 0, (size_t)W * sizeof(float));
        float acc = 0.0f;
        for (int oh = 0; oh < OH; oh++)
            acc += bd__sum(df + (size_t)oh * W, (size_t)OW);
        db[f] += acc;
    }
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(BD_NO_AVX512)
/* The same two loops with AVX-512 intrinsics: gcc compiles the portable
 * ones to scalar code with a branch per window element, and the argmax is
 * data, so a third of those branches mispredicted (narrow_pool and
 * widen_pool took 10% and 26% of an mnist99 epoch). Here a row pair is done
 * 16 windows at a time: 32 columns of each row, split into their even and
 * odd columns by one permute, compared and selected by masks. Same
 * additions, same comparisons (>=, ordered), so the same bits. */
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))

static inline AVX512 __mmask16 lanes(int n) /* the first n of 16 lanes, n in [0, 16] */
{
    return (__mmask16)(n >= 16 ? 0xffff : (1u << (n < 0 ? 0 : n)) - 1u);
}

/* one row pair of narrow_pool: s0, s1 -> y0, y1 (OW floats; NULL: not
 * written), pp, ap (PW) */
static AVX512 void narrow_rows(float *y0, float *y1, float *pp, int32_t *ap, const float *s0,
                               const float *s1, float bias, int OW, int PW, int32_t i0)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                           30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512 vb = _mm512_set1_ps(bias), zero = _mm512_setzero_ps();
    for (int j0 = 0; j0 < OW; j0 += 32) {
        const __mmask16 ml = lanes(OW - j0), mh = lanes(OW - j0 - 16);
        __m512 a0 = _mm512_maskz_loadu_ps(ml, s0 + j0), a1 = _mm512_maskz_loadu_ps(mh, s0 + j0 + 16);
        __m512 b0 = _mm512_maskz_loadu_ps(ml, s1 + j0), b1 = _mm512_maskz_loadu_ps(mh, s1 + j0 + 16);
        /* ReLU(s + b): max(v, 0) is v > 0 ? v : 0, -0 and NaN giving 0 */
        a0 = _mm512_max_ps(_mm512_add_ps(a0, vb), zero);
        a1 = _mm512_max_ps(_mm512_add_ps(a1, vb), zero);
        b0 = _mm512_max_ps(_mm512_add_ps(b0, vb), zero);
        b1 = _mm512_max_ps(_mm512_add_ps(b1, vb), zero);
        if (y0) {
            _mm512_mask_storeu_ps(y0 + j0, ml, a0);
            _mm512_mask_storeu_ps(y0 + j0 + 16, mh, a1);
            _mm512_mask_storeu_ps(y1 + j0, ml, b0);
            _mm512_mask_storeu_ps(y1 + j0 + 16, mh, b1);
        }
        const int pw0 = j0 / 2;
        if (pw0 >= PW)
            continue;
        const __m512 a = _mm512_permutex2var_ps(a0, even, a1), c = _mm512_permutex2var_ps(a0, odd, a1);
        const __m512 d = _mm512_permutex2var_ps(b0, even, b1), e = _mm512_permutex2var_ps(b0, odd, b1);
        const __mmask16 g0 = _mm512_cmp_ps_mask(a, c, _CMP_GE_OQ), g1 = _mm512_cmp_ps_mask(d, e, _CMP_GE_OQ);
        const __m512 m0 = _mm512_mask_blend_ps(g0, c, a), m1 = _mm512_mask_blend_ps(g1, e, d);
        const __m512i j = _mm512_add_epi32(_mm512_set1_epi32(i0 + j0), even), one = _mm512_set1_epi32(1);
        const __m512i k0 = _mm512_mask_blend_epi32(g0, _mm512_add_epi32(j, one), j);
        const __m512i j1 = _mm512_add_epi32(j, _mm512_set1_epi32(OW));
        const __m512i k1 = _mm512_mask_blend_epi32(g1, _mm512_add_epi32(j1, one), j1);
        const __mmask16 g = _mm512_cmp_ps_mask(m0, m1, _CMP_GE_OQ), mp = lanes(PW - pw0);
        _mm512_mask_storeu_ps(pp + pw0, mp, _mm512_mask_blend_ps(g, m1, m0));
        _mm512_mask_storeu_epi32(ap + pw0, mp, _mm512_mask_blend_epi32(g, k1, k0));
    }
}

static AVX512 void narrow_pool_avx512(float *y, float *p, int32_t *am, const float *yw,
                                      const float *b, const bd_conv_geom *g1)
{
    const int F = g1->F, OH = g1->OH, OW = g1->OW, W = g1->W, L = OH * W;
    const int PH = OH / 2, PW = OW / 2;
    for (int f = 0; f < F; f++) {
        const float bias = b ? b[f] : 0.0f;
        const float *sf = yw + (size_t)f * L;
        float *yf = y ? y + (size_t)f * OH * OW : NULL;
        for (int ph = 0; ph < PH; ph++) {
            const size_t o = ((size_t)f * PH + ph) * PW;
            narrow_rows(yf ? yf + (size_t)(2 * ph) * OW : NULL,
                        yf ? yf + (size_t)(2 * ph + 1) * OW : NULL, p + o, am + o,
                        sf + (size_t)(2 * ph) * W, sf + (size_t)(2 * ph + 1) * W, bias, OW, PW,
                        f * OH * OW + 2 * ph * OW);
        }
        if ((OH & 1) && yf) { /* the last row, in no window */
            const float *s = sf + (size_t)(OH - 1) * W;
            float *yr = yf + (size_t)(OH - 1) * OW;
            for (int ow = 0; ow < OW; ow++)
                yr[ow] = relu_at(s, ow, bias);
        }
    }
}

/* bd__sum's 8 partial sums of a row, kept in a vector: acc += the 8
 * columns at half h (0: lanes 0-7, 1: lanes 8-15) of v */
static inline AVX512 __m256 add_half(__m256 acc, __m512 v, int h)
{
    return _mm256_add_ps(acc, h ? _mm512_extractf32x8_ps(v, 1) : _mm512_castps512_ps256(v));
}

/* bd__sum's last step on its 8 partial sums a:
 * ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7)) */
static inline AVX512 float sum_partials(__m256 a)
{
    const __m128 t = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    const __m128 u = _mm_add_ps(t, _mm_shuffle_ps(t, t, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtss_f32(_mm_add_ss(u, _mm_movehl_ps(u, u)));
}

/* One row pair of widen_pool: d0, d1 (W floats) from PW windows, the
 * garbage columns zeroed in the same stores (the lanes past the windows
 * hold zeros). The rows' sums (for db) are taken from the registers too,
 * in bd__sum's order (its 8 partial sums over the row's 8-column blocks,
 * the columns past the last block into the first, then its tree), into
 * *r0, *r1: the same bits without loading back what the masked stores
 * just wrote (a masked store does not forward to a later load, which then
 * waits for it; those sums were a third of this kernel). */
static AVX512 void widen_rows(float *d0, float *d1, float *r0, float *r1, const float *dp,
                              const float *p, const int32_t *am, int OW, int PW, int W,
                              int32_t i0)
{
    const __m512i iota2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                            30);
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
    const __m512i one = _mm512_set1_epi32(1), vOW = _mm512_set1_epi32(OW);
    const __m512i vOW1 = _mm512_set1_epi32(OW + 1);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int pw0 = 0;
    for (; pw0 < PW; pw0 += 16) {
        const __mmask16 mp = lanes(PW - pw0);
        const __mmask16 pos = _mm512_mask_cmp_ps_mask(
            mp, _mm512_maskz_loadu_ps(mp, p + pw0), _mm512_setzero_ps(), _CMP_GT_OQ);
        const __m512 v = _mm512_maskz_loadu_ps(pos, dp + pw0); /* p > 0 ? dp : 0 */
        /* k: where in its window the maximum was, 0, 1, OW or OW + 1 */
        const __m512i k = _mm512_sub_epi32(
            _mm512_maskz_loadu_epi32(mp, am + pw0),
            _mm512_add_epi32(_mm512_set1_epi32(i0 + 2 * pw0), iota2));
        const __m512 e0 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(k, _mm512_setzero_si512()), v);
        const __m512 o0 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(k, one), v);
        const __m512 e1 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(k, vOW), v);
        const __m512 o1 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(k, vOW1), v);
        const int n = W - 2 * pw0; /* columns left in the row, garbage ones included */
        const __mmask16 ml = lanes(n), mh = lanes(n - 16);
        const __m512 x0 = _mm512_permutex2var_ps(e0, lo, o0);
        const __m512 y0 = _mm512_permutex2var_ps(e0, hi, o0);
        const __m512 x1 = _mm512_permutex2var_ps(e1, lo, o1);
        const __m512 y1 = _mm512_permutex2var_ps(e1, hi, o1);
        _mm512_mask_storeu_ps(d0 + 2 * pw0, ml, x0);
        _mm512_mask_storeu_ps(d0 + 2 * pw0 + 16, mh, y0);
        _mm512_mask_storeu_ps(d1 + 2 * pw0, ml, x1);
        _mm512_mask_storeu_ps(d1 + 2 * pw0 + 16, mh, y1);
        /* the row sums: the 8-column blocks of this chunk inside OW, then
         * the columns past the last whole block, one by one into lane 0 */
        const int c = OW - 2 * pw0;
        if (c >= 8)
            a0 = add_half(a0, x0, 0), a1 = add_half(a1, x1, 0);
        if (c >= 16)
            a0 = add_half(a0, x0, 1), a1 = add_half(a1, x1, 1);
        if (c >= 24)
            a0 = add_half(a0, y0, 0), a1 = add_half(a1, y1, 0);
        if (c >= 32)
            a0 = add_half(a0, y0, 1), a1 = add_half(a1, y1, 1);
        if (c < 32 && c % 8) {
            __m128 s0 = _mm256_castps256_ps128(a0), s1 = _mm256_castps256_ps128(a1);
            for (int j = c / 8 * 8; j < c; j++) {
                const __m512i at = _mm512_set1_epi32(j & 15);
                const __m512 v0 = _mm512_permutexvar_ps(at, j < 16 ? x0 : y0);
                const __m512 v1 = _mm512_permutexvar_ps(at, j < 16 ? x1 : y1);
                s0 = _mm_add_ss(s0, _mm512_castps512_ps128(v0));
                s1 = _mm_add_ss(s1, _mm512_castps512_ps128(v1));
            }
            a0 = _mm256_blend_ps(a0, _mm256_castps128_ps256(s0), 1);
            a1 = _mm256_blend_ps(a1, _mm256_castps128_ps256(s1), 1);
        }
    }
    /* the chunks stored columns [0, 2*pw0) (those past W masked off);
     * the rest is the odd last column (inside OW: bd__sum adds its zero to
     * its first partial sum) and garbage */
    for (int ow = 2 * pw0; ow < W; ow++)
        d0[ow] = d1[ow] = 0.0f;
    if (OW > 2 * pw0) {
        a0 = _mm256_blend_ps(a0, _mm256_add_ps(a0, _mm256_setzero_ps()), 1);
        a1 = _mm256_blend_ps(a1, _mm256_add_ps(a1, _mm256_setzero_ps()), 1);
    }
    *r0 = sum_partials(a0);
    *r1 = sum_partials(a1);
}

static AVX512 void widen_pool_avx512(float *dyw, float *db, const float *dp, const float *p,
                                     const int32_t *am, const bd_conv_geom *g1)
{
    const int F = g1->F, OH = g1->OH, OW = g1->OW, W = g1->W, L = OH * W;
    const int PH = OH / 2, PW = OW / 2;
    for (int f = 0; f < F; f++) {
        float *df = dyw + (size_t)f * L;
        float acc = 0.0f;
        for (int ph = 0; ph < PH; ph++) {
            const size_t o = ((size_t)f * PH + ph) * PW;
            float *d0 = df + (size_t)(2 * ph) * W, s0, s1;
            widen_rows(d0, d0 + W, &s0, &s1, dp + o, p + o, am + o, OW, PW, W,
                       f * OH * OW + 2 * ph * OW);
            acc += s0;
            acc += s1;
        }
        if (OH & 1) {
            memset(df + (size_t)(OH - 1) * W, 0, (size_t)W * sizeof(float));
            acc += 0.0f; /* bd__sum of the zeroed row */
        }
        db[f] += acc;
    }
}

static int use_avx512(void)
{
    return !bd__kernels_portable() && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
}
#else
static int use_avx512(void) { return 0; }
#define narrow_pool_avx512 narrow_pool
#define widen_pool_avx512 widen_pool
#endif

/* the portable kernels above are static so that they can be cloned (BD_HOT) */
void bd__conv_pool_narrow(float *y, float *p, int32_t *am, const float *yw, const float *b,
                          const bd_conv_geom *g1)
{
    if (use_avx512())
        narrow_pool_avx512(y, p, am, yw, b, g1);
    else
        narrow_pool(y, p, am, yw, b, g1);
}

void bd__conv_pool_widen(float *dyw, float *db, const float *dp, const float *p,
                         const int32_t *am, const bd_conv_geom *g1)
{
    if (use_avx512())
        widen_pool_avx512(dyw, db, dp, p, am, g1);
    else
        widen_pool(dyw, db, dp, p, am, g1);
}
