/* affine_gemm.c — the Affine layer's dense products (y = x·W + b,
 * dW = xᵀ·dy and dx = dy·Wᵀ) on AVX-512, for machines where OpenBLAS runs narrower
 * kernels on an AVX-512 core.
 *
 * Why: OpenBLAS picks its kernels when it is loaded, and an environment
 * may name older ones (OPENBLAS_CORETYPE=Haswell, as on the machines this
 * project is measured on: docs/speed.md). There its AVX2 kernels made
 * 104-114 GFLOP/s on one core of a Zen 5 for the products of a 100-unit
 * layer (50-128 rows), where the core does 270 with 512-bit FMAs and
 * OpenBLAS's own AVX-512 kernels 190-245. So where the CPU has AVX-512 and
 * OpenBLAS's kernels are not AVX-512 ones, these products are summed here.
 *
 * C[M, N] += Σ_t a(m, t) · B[t, :], t = 0..K-1 in increasing order, one FMA
 * per term, C's starting value kept (the bias for y, 0 for dW): every
 * element's bits depend on its own row of a and column of B only, not on
 * how the rows are tiled or split over threads (OpenBLAS's Haswell kernels
 * give split-dependent bits). a(m, t) = A[m·ars + t·ats]: for y, x's rows
 * (ars = In, ats = 1); for dW, x's columns (ars = 1, ats = In). For dx
 * the other operand is W's rows, transposed a block at a time on the stack
 * (gemm_nt_avx512).
 *
 * A tile is R rows × NV vectors of 16 columns (NV ≤ 4, R·NV ≤ 24
 * accumulators): a step loads NV vectors of B's row t and broadcasts R
 * values of a. B is taken in blocks of KB rows (KB·16·NV floats, ≤ 64 KB:
 * in L2), C's tile stored and loaded again between blocks (exact: the same
 * sums). The reference and portable kernels keep the GEMM. */
#include "internal.h"

#include <string.h>

/* OpenBLAS's kernel name (weak: another BLAS has none) */
extern char *openblas_get_corename(void) __attribute__((weak));

#if defined(__GNUC__) && defined(__x86_64__) && !defined(BD_NO_AVX512)
#include <immintrin.h>

#define AVX512F_ __attribute__((target("avx512f")))
#define KB 256 /* rows of B a block */
/* vectors of columns a tile at most: with 7 (a 100-column row in one
 * tile, 3 rows) gcc folded B's loads into the FMAs (21 loads a step, not
 * 7) and the tile made 130 GFLOP/s; with 4 (100 = 64 + 36 columns, 5 and 6
 * rows) 200-212 (one thread, a Zen 5 at 270 peak; OpenBLAS's Haswell
 * kernels 103-115) */
#define NVMAX 4

static AVX512F_ inline __mmask16 lanes16(int n)
{
    return (__mmask16)(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1u);
}

/* The tiles' code, spelled out by the preprocessor: an accumulator array
 * indexed in loops was kept on the stack by gcc (a store and a load per
 * FMA: 75 GFLOP/s), named registers are not. L_n(X, a) is X(0, a) X(1, a)
 * ... X(n-1, a). */
#define L_1(X, a) X(0, a)
#define L_2(X, a) L_1(X, a) X(1, a)
#define L_3(X, a) L_2(X, a) X(2, a)
#define L_4(X, a) L_3(X, a) X(3, a)
#define L_5(X, a) L_4(X, a) X(4, a)
#define L_6(X, a) L_5(X, a) X(5, a)
#define L_7(X, a) L_6(X, a) X(6, a)
#define L_8(X, a) L_7(X, a) X(7, a)
/* the same for the vectors of a row (a second name: no macro expands itself) */
#define V_1(X, r) X(r, 0)
#define V_2(X, r) V_1(X, r) X(r, 1)
#define V_3(X, r) V_2(X, r) X(r, 2)
#define V_4(X, r) V_3(X, r) X(r, 3)

#define MASK_(v) ((v) == nv1 ? last : (__mmask16)0xffff)
#define ACC_LOAD(r, v) __m512 a##r##_##v = _mm512_maskz_loadu_ps(MASK_(v), c##r + 16 * (v));
#define ACC_STORE(r, v) _mm512_mask_storeu_ps(c##r + 16 * (v), MASK_(v), a##r##_##v);
#define B_LOAD(r, v) const __m512 b##v = _mm512_maskz_loadu_ps(MASK_(v), bp + 16 * (v));
#define FMA_(r, v) a##r##_##v = _mm512_fmadd_ps(s##r, b##v, a##r##_##v);
#define ROW_PTRS(r, NV)                                                                         \
    float *c##r = C + (size_t)(m0 + (r)) * ldc + j0;                                            \
    const float *ap##r = A + (m0 + (r)) * ars + t0 * ats;
#define ROW_LOAD(r, NV) V_##NV(ACC_LOAD, r)
#define ROW_STEP(r, NV)                                                                         \
    const __m512 s##r = _mm512_set1_ps(*ap##r);                                                 \
    ap##r += ats;                                                                               \
    V_##NV(FMA_, r)
#define ROW_STORE(r, NV) V_##NV(ACC_STORE, r)

/* One tile: rows m0..m0+R of C, columns [j0, j0 + 16 NV) (the last vector
 * masked by `last`), terms t in [t0, t1): per t, NV loads of B's row, R
 * broadcasts, R·NV FMAs. */
#define DEFINE_TILE(NV, R)                                                                      \
    static AVX512F_ void tile_##NV##_##R(float *C, int ldc, const float *A, long ars, long ats, \
                                         const float *B, int ldb, int m0, int j0, int t0,       \
                                         int t1, __mmask16 last)                                \
    {                                                                                           \
        const int nv1 = NV - 1;                                                                 \
        L_##R(ROW_PTRS, NV)                                                                     \
        L_##R(ROW_LOAD, NV)                                                                     \
        const float *bp = B + (size_t)t0 * ldb + j0;                                            \
        for (int t = t0; t < t1; t++) {                                                         \
            V_##NV(B_LOAD, 0)                                                                   \
            L_##R(ROW_STEP, NV)                                                                 \
            bp += ldb;                                                                          \
        }                                                                                       \
        L_##R(ROW_STORE, NV)                                                                    \
    }

/* rows per tile for NV vectors: R·NV <= 24 accumulators, NV + 1 more
 * registers for B's row and the broadcast; and a tile for each smaller
 * count of rows, for what is left of M (64 rows in tiles of 5 left 4
 * single rows, each a load of B per 4 FMAs) */
#define TILES_8(NV)                                                                             \
    DEFINE_TILE(NV, 1)                                                                          \
    DEFINE_TILE(NV, 2) DEFINE_TILE(NV, 3) DEFINE_TILE(NV, 4) DEFINE_TILE(NV, 5)                 \
        DEFINE_TILE(NV, 6) DEFINE_TILE(NV, 7) DEFINE_TILE(NV, 8)
TILES_8(1)
TILES_8(2)
DEFINE_TILE(3, 1)
DEFINE_TILE(3, 2)
DEFINE_TILE(3, 3)
DEFINE_TILE(3, 4)
DEFINE_TILE(3, 5)
DEFINE_TILE(3, 6)
DEFINE_TILE(4, 1)
DEFINE_TILE(4, 2)
DEFINE_TILE(4, 3)
DEFINE_TILE(4, 4)
DEFINE_TILE(4, 5)

typedef void (*tile_fn)(float *, int, const float *, long, long, const float *, int, int, int,
                        int, int, __mmask16);
#define ROWS_8(NV)                                                                              \
    {NULL, tile_##NV##_1, tile_##NV##_2, tile_##NV##_3, tile_##NV##_4, tile_##NV##_5,            \
     tile_##NV##_6, tile_##NV##_7, tile_##NV##_8}
/* TILE[nv][r]: r rows of nv vectors; R[nv] the most */
static const tile_fn TILE[NVMAX + 1][9] = {
    {NULL},
    ROWS_8(1),
    ROWS_8(2),
    {NULL, tile_3_1, tile_3_2, tile_3_3, tile_3_4, tile_3_5, tile_3_6, NULL, NULL},
    {NULL, tile_4_1, tile_4_2, tile_4_3, tile_4_4, tile_4_5, NULL, NULL, NULL},
};
static const int RMAX[NVMAX + 1] = {0, 8, 8, 6, 5};

/* rows [0, M) in tiles of the most rows, then one tile of what is left */
static AVX512F_ void tile_rows(int nv, float *C, int ldc, const float *A, long ars, long ats,
                               const float *B, int ldb, int M, int j0, int t0, int t1,
                               __mmask16 last)
{
    const int R = RMAX[nv];
    int m = 0;
    for (; m + R <= M; m += R)
        TILE[nv][R](C, ldc, A, ars, ats, B, ldb, m, j0, t0, t1, last);
    if (m < M)
        TILE[nv][M - m](C, ldc, A, ars, ats, B, ldb, m, j0, t0, t1, last);
}

static void gemm_avx512(float *C, int ldc, const float *A, long ars, long ats, const float *B,
                        int ldb, int M, int N, int K)
{
    for (int j0 = 0; j0 < N; j0 += 16 * NVMAX) {
        const int w = N - j0 < 16 * NVMAX ? N - j0 : 16 * NVMAX, nv = (w + 15) / 16;
        const __mmask16 last = lanes16(w - 16 * (nv - 1));
        for (int t0 = 0; t0 < K; t0 += KB) {
            const int t1 = K - t0 < KB ? K : t0 + KB;
            tile_rows(nv, C, ldc, A, ars, ats, B, ldb, M, j0, t0, t1, last);
        }
    }
}

/* C [M, N] += A [M, K] · Bᵀ, B [N, K] (ldb): for dx = dy·Wᵀ. Each block of
 * 64 of B's rows and KBT of its columns is transposed into a buffer on the
 * stack (32 KB: the tiles then read it as B's rows), so every element is
 * still its terms by FMAs in increasing t. */
#define KBT 128
static AVX512F_ void gemm_nt_avx512(float *C, int ldc, const float *A, int lda, const float *B,
                                    int ldb, int M, int N, int K)
{
    float bt[KBT * 16 * NVMAX];
    for (int j0 = 0; j0 < N; j0 += 16 * NVMAX) {
        const int w = N - j0 < 16 * NVMAX ? N - j0 : 16 * NVMAX, nv = (w + 15) / 16;
        const __mmask16 last = lanes16(w - 16 * (nv - 1));
        for (int t0 = 0; t0 < K; t0 += KBT) {
            const int kt = K - t0 < KBT ? K - t0 : KBT;
            /* bt[t][j] = B[j0 + j, t0 + t], 16 j's a gather (rows past w:
             * lanes masked off, never read by the tiles' masked loads) */
            for (int v = 0; v < nv; v++) {
                const __mmask16 m = v == nv - 1 ? last : (__mmask16)0xffff;
                const __m512i idx = _mm512_mullo_epi32(
                    _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                    _mm512_set1_epi32(ldb));
                const float *col = B + (size_t)(j0 + 16 * v) * ldb + t0;
                for (int t = 0; t < kt; t++)
                    _mm512_mask_storeu_ps(bt + t * 16 * NVMAX + 16 * v, m,
                                          _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx,
                                                                   col + t, 4));
            }
            tile_rows(nv, C + j0, ldc, A + t0, lda, 1, bt, 16 * NVMAX, M, 0, 0, kt, last);
        }
    }
}
#endif

/* A name among OpenBLAS's AVX-512 kernel sets (SkylakeX, Cooperlake,
 * Sapphire Rapids: "skylakex", "cooperlake", "sapphirerapids")? */
static int blas_avx512(void)
{
    const char *c = openblas_get_corename ? openblas_get_corename() : NULL;
    if (!c)
        return 1; /* not OpenBLAS: leave the products to it */
    char low[32];
    size_t i = 0;
    for (; c[i] && i + 1 < sizeof low; i++)
        low[i] = (char)(c[i] >= 'A' && c[i] <= 'Z' ? c[i] - 'A' + 'a' : c[i]);
    low[i] = 0;
    return strstr(low, "skylakex") || strstr(low, "cooperlake") || strstr(low, "sapphire");
}

int bd__affine_gemm_isa(void)
{
#if defined(__GNUC__) && defined(__x86_64__) && !defined(BD_NO_AVX512)
    static int ok = -1;
    if (ok < 0)
        ok = __builtin_cpu_supports("avx512f") && !blas_avx512();
    return ok;
#else
    return 0;
#endif
}

int bd__affine_gemm_used(void)
{
    return !bd__kernels_reference() && !bd__kernels_portable() && bd__affine_gemm_isa();
}

void bd__affine_gemm(float *C, int ldc, const float *A, long ars, long ats, const float *B,
                     int ldb, int M, int N, int K)
{
#if defined(__GNUC__) && defined(__x86_64__) && !defined(BD_NO_AVX512)
    if (M > 0 && N > 0 && K > 0)
        gemm_avx512(C, ldc, A, ars, ats, B, ldb, M, N, K);
#else
    (void)C, (void)ldc, (void)A, (void)ars, (void)ats, (void)B, (void)ldb, (void)M, (void)N,
        (void)K;
#endif
}

void bd__affine_gemm_nt(float *C, int ldc, const float *A, int lda, const float *B, int ldb,
                        int M, int N, int K)
{
#if defined(__GNUC__) && defined(__x86_64__) && !defined(BD_NO_AVX512)
    if (M > 0 && N > 0 && K > 0)
        gemm_nt_avx512(C, ldc, A, lda, B, ldb, M, N, K);
#else
    (void)C, (void)ldc, (void)A, (void)lda, (void)B, (void)ldb, (void)M, (void)N, (void)K;
#endif
}
