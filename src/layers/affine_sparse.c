/* affine_sparse.c — the Affine forward, y = x·W + b (book eq. 5.13), of
 * rows that are mostly zeros, summed over their nonzero inputs only; and
 * dW = xᵀ·dy (eq. 5.13) of a batch that is mostly zeros, the same way.
 *
 * Why: an MNIST image is mostly zeros (19.1% of its 784 pixels are not 0,
 * the mean over the training set), and a zero input adds nothing to x·W.
 * cblas_sgemm multiplies every zero. A row of y is the sum of the rows of
 * W of its nonzero inputs: ~150 rows of W instead of 784.
 *
 * Those rows of W come from L2 (W is 157 KB at 784x50), four vector loads
 * for 50 outputs: one image at a time took ~13 cycles per nonzero input.
 * So G <= 4 rows are summed together over the union of their nonzero
 * inputs (39% of the pixels for 4 MNIST images, against 19% for one): each
 * row of W loaded serves the G rows, and a row whose input is 0 there adds
 * an exact 0. Measured here (one thread, batches of 100 MNIST rows, the
 * count and the scans included): W 784x50, sgemm 92-101 µs, one row at a
 * time 61, 4 rows 57-72; W 784x100, sgemm 166-182, one row 114-120, 4 rows
 * 99-103. A row takes this path when at most 30% of its inputs are nonzero
 * (bd__affine_row_sparse); a denser row goes to the GEMM (affine.c, which
 * also orders the rows by their nonzero counts: like rows, smaller unions).
 *
 * The sum, for every output j of a row:
 *   y[j] = (((0 + x[k1]·W[k1,j]) + x[k2]·W[k2,j]) + ...) + b[j]
 * over the k of the union in increasing order, each product rounded before
 * its add (no FMA), so the plain C twin (the portable kernels) and the
 * AVX-512 kernel give the same bits. The zero terms change nothing (p + 0
 * = p, and 0 + 0 = +0), so a row's bits are those of its own nonzero terms
 * in order whatever rows it is grouped with: they depend on the row and W
 * only, the same for any thread count and any split of the batch. They
 * differ from the GEMM's by rounding. (An infinite or NaN weight or
 * gradient against a zero input gives NaN here as in the GEMM, or not, as
 * the grouping falls: the NaN guard stops such a run either way.)
 *
 * dW's row k is Σ x[n,k]·dy[n,:] over the rows n with x[n,k] != 0, in
 * increasing n, from 0, each product rounded before its add: the same bits
 * for any split of its rows over the threads. Four rows of dW are summed
 * together over the rows n where any of their four inputs is nonzero (28%
 * of the rows for 4 adjacent MNIST pixels, against 19% for one; 58% for
 * 16), so each row of dy loaded serves four rows of dW; the zero terms are
 * exact again. Measured (one thread, batches of 100 MNIST rows): 784x50,
 * sgemm 93 µs, this 61-65; 784x100, 166-175 against 91-110. (Lists of
 * each input's own rows, dealt from codes, took 82-113 and 134-139: one
 * row of dW at a time.) affine.c takes it where the batch's columns that a
 * thread computes are at most 30% nonzero.
 *
 * Shapes: x rows [In], W [In, Out] row-major, b [Out], y rows [Out]; dW
 * [In, Out], dy [B, Out]. The inputs are scanned CHUNK at a time, the rows
 * of dW's lists NB at a time, into lists on the stack: no allocation, any
 * In and B. */
#include "internal.h"

/* inputs per scan; outputs per pass of the sums; rows at once; rows per
 * list of dW */
enum { CHUNK = 256, COLS = 64, G = 4, NB = 256 };

/* The number of x[k] != 0 in x[0..n) (a NaN counts: it is not 0). */
BD_HOT static int count_nonzeros(const float *x, int n)
{
    int c = 0;
    for (int k = 0; k < n; k++)
        c += x[k] != 0.0f;
    return c;
}

int bd__affine_nonzeros(const float *x, int n) { return count_nonzeros(x, n); }

int bd__affine_row_sparse(const float *x, int In)
{
    return (long long)count_nonzeros(x, In) * 10 <= (long long)In * 3;
}

/* The union of the nonzero inputs of the g rows x[0..g) in [k0, k1), in
 * increasing k: idx, and each row's inputs there, val[i] (room for k1 - k0
 * + 16 each); returns its size. */
static int union_c(const float *const *x, int g, int k0, int k1, int32_t *idx,
                   float (*val)[CHUNK + 16])
{
    int c = 0;
    for (int k = k0; k < k1; k++) {
        int any = 0;
        idx[c] = k;
        for (int i = 0; i < g; i++) {
            val[i][c] = x[i][k];
            any |= x[i][k] != 0.0f;
        }
        c += any;
    }
    return c;
}

/* y[i][j0 .. j0 + cols) += val[i][e] · W[idx[e], j0 .. j0 + cols) for
 * e = 0..c-1 in order, i < g; cols <= COLS */
static void add_rows_c(float *const *y, int g, const int32_t *idx, float (*val)[CHUNK + 16], int c,
                       const float *W, int Out, int j0, int cols)
{
    for (int e = 0; e < c; e++) {
        const float *w = W + (size_t)idx[e] * Out + j0;
        for (int i = 0; i < g; i++) {
            const float v = val[i][e];
            float *yi = y[i] + j0;
            for (int j = 0; j < cols; j++)
                yi[j] += v * w[j];
        }
    }
}

/* dW's lists: for each of the groups q of 4 columns k0 + 4q .. (of the nk
 * <= 16 columns from k0), the rows n in [n0, n1) where any of them is
 * nonzero, in increasing n: rows[q][0 .. cnt[q]) (room for n1 - n0 each). */
static void dW_lists_c(const float *x, int In, int n0, int n1, int k0, int nk,
                       int32_t (*rows)[NB], int *cnt)
{
    for (int q = 0; q < 4; q++)
        cnt[q] = 0;
    for (int n = n0; n < n1; n++) {
        const float *xr = x + (size_t)n * In + k0;
        for (int q = 0; 4 * q < nk; q++) {
            int any = 0;
            for (int i = 4 * q; i < BD_MIN(nk, 4 * q + 4); i++)
                any |= xr[i] != 0.0f;
            rows[q][cnt[q]] = n;
            cnt[q] += any;
        }
    }
}

/* dW[k + i, j0 .. j0 + cols) += x[n, k + i] · dy[n, j0 .. j0 + cols) for the
 * rows n of the list in order, i < g */
static void dW_sums_c(float *dW, int Out, const int32_t *rows, int c, const float *x, int In,
                      int k, int g, const float *dy, int j0, int cols)
{
    for (int e = 0; e < c; e++) {
        const float *xr = x + (size_t)rows[e] * In + k, *d = dy + (size_t)rows[e] * Out + j0;
        for (int i = 0; i < g; i++) {
            float *w = dW + (size_t)(k + i) * Out + j0;
            const float xv = xr[i];
            for (int j = 0; j < cols; j++)
                w[j] += xv * d[j];
        }
    }
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(BD_NO_AVX512)
#include <immintrin.h>

#define AVX512F_ __attribute__((target("avx512f")))
#define AVX512_INLINE_ __attribute__((target("avx512f"), always_inline)) inline

static AVX512_INLINE_ __mmask16 lanes(int n) /* lanes [0, n), n clamped to [0, 16] */
{
    return (__mmask16)(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1u);
}

/* union_c, 16 inputs per compare: the lanes of the union are compressed in
 * a register and stored whole (a compressing store to memory is microcoded
 * on Zen 4: a batch's scan took 195 µs that way, 13 this way), hence the
 * 16 floats of room. */
static AVX512F_ int union_avx512(const float *const *x, int g, int k0, int k1, int32_t *idx,
                                 float (*val)[CHUNK + 16])
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    int c = 0;
    for (int k = k0; k < k1; k += 16) {
        const __mmask16 m = lanes(k1 - k);
        __m512 v[G];
        __mmask16 any = 0;
        for (int i = 0; i < g; i++) {
            v[i] = _mm512_maskz_loadu_ps(m, x[i] + k);
            any |= _mm512_mask_cmp_ps_mask(m, v[i], _mm512_setzero_ps(), _CMP_NEQ_UQ);
        }
        const __m512i ks = _mm512_add_epi32(_mm512_set1_epi32(k), iota);
        _mm512_storeu_si512(idx + c, _mm512_maskz_compress_epi32(any, ks));
        for (int i = 0; i < g; i++)
            _mm512_storeu_ps(val[i] + c, _mm512_maskz_compress_ps(any, v[i]));
        c += __builtin_popcount(any);
    }
    return c;
}

/* add_rows_c with the g x nv accumulators in registers (g and nv =
 * ceil(cols / 16) constants where it is inlined: the ifs fold away). They
 * are 16 named variables: kept in an array, gcc also stored the array to
 * the stack on every input (100 µs a batch at 784x50 instead of 60). */
#define FOR_ACC(X) X(0, 0) X(0, 1) X(0, 2) X(0, 3) X(1, 0) X(1, 1) X(1, 2) X(1, 3) \
                   X(2, 0) X(2, 1) X(2, 2) X(2, 3) X(3, 0) X(3, 1) X(3, 2) X(3, 3)
#define ON(i, v) ((i) < g && (v) < nv)
#define DECLARE(i, v) __m512 a##i##v = _mm512_setzero_ps();
#define LOAD(i, v) if (ON(i, v)) a##i##v = _mm512_maskz_loadu_ps(m##v, y[i] + j0 + 16 * (v));
#define ADD(i, v) if (ON(i, v)) a##i##v = _mm512_add_ps(a##i##v, _mm512_mul_ps(x##i, w##v));
#define STORE(i, v) if (ON(i, v)) _mm512_mask_storeu_ps(y[i] + j0 + 16 * (v), m##v, a##i##v);

static AVX512_INLINE_ void add_rows_gn(float *const *y, const int32_t *idx,
                                       float (*val)[CHUNK + 16], int c, const float *W, int Out,
                                       int j0, int cols, int g, int nv)
{
    const __mmask16 m0 = lanes(cols), m1 = lanes(cols - 16), m2 = lanes(cols - 32),
                    m3 = lanes(cols - 48);
    FOR_ACC(DECLARE)
    FOR_ACC(LOAD)
    for (int e = 0; e < c; e++) {
        const float *w = W + (size_t)idx[e] * Out + j0;
        const __m512 w0 = _mm512_maskz_loadu_ps(m0, w);
        const __m512 w1 = nv > 1 ? _mm512_maskz_loadu_ps(m1, w + 16) : w0;
        const __m512 w2 = nv > 2 ? _mm512_maskz_loadu_ps(m2, w + 32) : w0;
        const __m512 w3 = nv > 3 ? _mm512_maskz_loadu_ps(m3, w + 48) : w0;
        const __m512 x0 = _mm512_set1_ps(val[0][e]);
        const __m512 x1 = g > 1 ? _mm512_set1_ps(val[1][e]) : x0;
        const __m512 x2 = g > 2 ? _mm512_set1_ps(val[2][e]) : x0;
        const __m512 x3 = g > 3 ? _mm512_set1_ps(val[3][e]) : x0;
        FOR_ACC(ADD)
    }
    FOR_ACC(STORE)
}

/* CALL(g, nv) with g and nv as constants: 16 inlined copies of a kernel */
#define NV_CASES(CALL, g)                    \
    switch ((cols + 15) / 16) {              \
    case 1: CALL(g, 1); break;               \
    case 2: CALL(g, 2); break;               \
    case 3: CALL(g, 3); break;               \
    default: CALL(g, 4); break;              \
    }
#define GN_CASES(CALL)                       \
    switch (g) {                             \
    case 1: NV_CASES(CALL, 1) break;         \
    case 2: NV_CASES(CALL, 2) break;         \
    case 3: NV_CASES(CALL, 3) break;         \
    default: NV_CASES(CALL, 4) break;        \
    }
#define ADD_ROWS(g_, nv_) add_rows_gn(y, idx, val, c, W, Out, j0, cols, g_, nv_)

static AVX512F_ void add_rows_avx512(float *const *y, int g, const int32_t *idx,
                                     float (*val)[CHUNK + 16], int c, const float *W, int Out,
                                     int j0, int cols)
{
    GN_CASES(ADD_ROWS)
}

/* dW_lists_c, one 16-column compare per row */
static AVX512F_ void dW_lists_avx512(const float *x, int In, int n0, int n1, int k0, int nk,
                                     int32_t (*rows)[NB], int *cnt)
{
    const __mmask16 m = lanes(nk);
    int c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    for (int n = n0; n < n1; n++) {
        const __m512 v = _mm512_maskz_loadu_ps(m, x + (size_t)n * In + k0);
        const unsigned nz = _mm512_mask_cmp_ps_mask(m, v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
        rows[0][c0] = rows[1][c1] = rows[2][c2] = rows[3][c3] = n;
        c0 += (nz & 0xf) != 0;
        c1 += (nz & 0xf0) != 0;
        c2 += (nz & 0xf00) != 0;
        c3 += (nz & 0xf000) != 0;
    }
    cnt[0] = c0;
    cnt[1] = c1;
    cnt[2] = c2;
    cnt[3] = c3;
}

/* dW_sums_c with the g x nv accumulators in registers, as add_rows_gn:
 * y[i] is dW's row k + i, and the rows of dy play W's part */
static AVX512_INLINE_ void dW_sums_gn(float *dW, int Out, const int32_t *rows, int c,
                                      const float *x, int In, int k, const float *dy, int j0,
                                      int cols, int g, int nv)
{
    /* rows past g point at row k + g - 1: never used (ON folds them away) */
    float *const y[4] = {dW + (size_t)k * Out, dW + (size_t)(k + BD_MIN(1, g - 1)) * Out,
                         dW + (size_t)(k + BD_MIN(2, g - 1)) * Out,
                         dW + (size_t)(k + BD_MIN(3, g - 1)) * Out};
    const __mmask16 m0 = lanes(cols), m1 = lanes(cols - 16), m2 = lanes(cols - 32),
                    m3 = lanes(cols - 48);
    FOR_ACC(DECLARE)
    FOR_ACC(LOAD)
    for (int e = 0; e < c; e++) {
        const float *xr = x + (size_t)rows[e] * In + k, *w = dy + (size_t)rows[e] * Out + j0;
        const __m512 w0 = _mm512_maskz_loadu_ps(m0, w);
        const __m512 w1 = nv > 1 ? _mm512_maskz_loadu_ps(m1, w + 16) : w0;
        const __m512 w2 = nv > 2 ? _mm512_maskz_loadu_ps(m2, w + 32) : w0;
        const __m512 w3 = nv > 3 ? _mm512_maskz_loadu_ps(m3, w + 48) : w0;
        const __m512 x0 = _mm512_set1_ps(xr[0]);
        const __m512 x1 = g > 1 ? _mm512_set1_ps(xr[1]) : x0;
        const __m512 x2 = g > 2 ? _mm512_set1_ps(xr[2]) : x0;
        const __m512 x3 = g > 3 ? _mm512_set1_ps(xr[3]) : x0;
        FOR_ACC(ADD)
    }
    FOR_ACC(STORE)
}

#define DW_SUMS(g_, nv_) dW_sums_gn(dW, Out, rows, c, x, In, k, dy, j0, cols, g_, nv_)

static AVX512F_ void dW_sums_avx512(float *dW, int Out, const int32_t *rows, int c,
                                    const float *x, int In, int k, int g, const float *dy,
                                    int j0, int cols)
{
    GN_CASES(DW_SUMS)
}

static int sparse_avx512(void) { return !bd__kernels_portable() && bd__conv_direct_isa(); }
#else
static int sparse_avx512(void) { return 0; }
#define union_avx512 union_c
#define dW_lists_avx512 dW_lists_c
#define dW_sums_avx512 dW_sums_c
#define add_rows_avx512 add_rows_c
#endif

/* the rows y[0..g) = x[0..g) W + b, g <= G */
static void sparse_group(float *const *y, const float *const *x, int g, const float *W,
                         const float *b, int In, int Out, int avx)
{
    int32_t idx[CHUNK + 16];
    float val[G][CHUNK + 16];
    for (int i = 0; i < g; i++)
        memset(y[i], 0, (size_t)Out * sizeof(float));
    for (int k0 = 0; k0 < In; k0 += CHUNK) {
        const int k1 = BD_MIN(In, k0 + CHUNK);
        const int c = avx ? union_avx512(x, g, k0, k1, idx, val) : union_c(x, g, k0, k1, idx, val);
        for (int j0 = 0; c > 0 && j0 < Out; j0 += COLS) {
            const int cols = BD_MIN(COLS, Out - j0);
            if (avx)
                add_rows_avx512(y, g, idx, val, c, W, Out, j0, cols);
            else
                add_rows_c(y, g, idx, val, c, W, Out, j0, cols);
        }
    }
    for (int i = 0; i < g; i++)
        for (int j = 0; j < Out; j++)
            y[i][j] += b[j];
}

void bd__affine_rows_sparse(float *y, const float *x, const int *rows, int n, const float *W,
                            const float *b, int In, int Out)
{
    const int avx = sparse_avx512();
    for (int r = 0; r < n; r += G) {
        const int g = BD_MIN(G, n - r);
        float *yr[G];
        const float *xr[G];
        for (int i = 0; i < g; i++) {
            yr[i] = y + (size_t)rows[r + i] * Out;
            xr[i] = x + (size_t)rows[r + i] * In;
        }
        sparse_group(yr, xr, g, W, b, In, Out, avx);
    }
}

int bd__affine_batch_sparse(const float *x, int B, int In, int lo, int hi)
{
    size_t c = 0; /* row by row: count_nonzeros counts in an int */
    for (int n = 0; n < B; n++)
        c += (size_t)count_nonzeros(x + (size_t)n * In + lo, hi - lo);
    return c * 10 <= (size_t)B * (size_t)(hi - lo) * 3;
}

void bd__affine_dW_sparse(float *dW, const float *x, const float *dy, int B, int In, int Out,
                          int lo, int hi)
{
    const int avx = sparse_avx512();
    int32_t rows[4][NB];
    int cnt[4];
    memset(dW + (size_t)lo * Out, 0, (size_t)(hi - lo) * Out * sizeof(float));
    for (int k0 = lo; k0 < hi; k0 += 16) {
        const int nk = BD_MIN(16, hi - k0);
        for (int n0 = 0; n0 < B; n0 += NB) {
            const int n1 = BD_MIN(B, n0 + NB);
            if (avx)
                dW_lists_avx512(x, In, n0, n1, k0, nk, rows, cnt);
            else
                dW_lists_c(x, In, n0, n1, k0, nk, rows, cnt);
            for (int q = 0; 4 * q < nk; q++) {
                const int k = k0 + 4 * q, g = BD_MIN(4, nk - 4 * q);
                for (int j0 = 0; cnt[q] > 0 && j0 < Out; j0 += COLS) {
                    const int cols = BD_MIN(COLS, Out - j0);
                    if (avx)
                        dW_sums_avx512(dW, Out, rows[q], cnt[q], x, In, k, g, dy, j0, cols);
                    else
                        dW_sums_c(dW, Out, rows[q], cnt[q], x, In, k, g, dy, j0, cols);
                }
            }
        }
    }
}
