/* affine.c — the Affine layer (book 5.6.2): y = x·W + b, and its backward.
 * The products go through OpenBLAS cblas_sgemm, row-major, except the
 * forward of rows and dW of batches that are mostly zeros
 * (affine_sparse.c), and the dense products where OpenBLAS runs narrower
 * kernels than the CPU's AVX-512 (affine_gemm.c).
 * The book's plain version: learn/ch05/layers.h (Affine, in loops over
 * doubles). */
#include "internal.h"

#include <cblas.h>
#include <math.h>

/* Below this many multiply-adds a product is not worth splitting: handing
 * half of it to another thread costs more than it saves. */
#define SPLIT_MACS ((size_t)1 << 18)

/* run fn over [0, n) on the pool if the product is big enough, else here */
static void maybe_parallel(size_t macs, int n, bd__range_fn fn, void *ctx)
{
    if (macs < SPLIT_MACS)
        fn(ctx, 0, n, 0);
    else
        bd__parallel_for(n, fn, ctx);
}

typedef struct affine_args {
    float *y, *dx, *dW;
    const float *x, *W, *b, *dy;
    int B, In, Out;
} affine_args;

/* rows [lo, hi) of y = x W + b on the GEMM */
static void fwd_gemm(const affine_args *a, int lo, int hi)
{
    float *y = a->y + (size_t)lo * a->Out;
    /* Broadcast the bias into y first, then y = 1·x·W + 1·y: one GEMM pass. */
    for (int r = lo; r < hi; r++)
        memcpy(a->y + (size_t)r * a->Out, a->b, (size_t)a->Out * sizeof(float));
    if (bd__affine_gemm_used()) /* OpenBLAS on narrower kernels (affine_gemm.c) */
        bd__affine_gemm(y, a->Out, a->x + (size_t)lo * a->In, a->In, 1, a->W, a->Out, hi - lo,
                        a->Out, a->In);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, hi - lo, a->Out, a->In, 1.0f,
                    a->x + (size_t)lo * a->In, a->In, a->W, a->Out, 1.0f, y, a->Out);
}

/* the sparse rows rows[0..n) of y = x W + b (affine_sparse.c), in order of
 * their nonzero counts cnt: summed 4 at a time over the union of their
 * nonzero inputs, rows of like counts have smaller unions (MNIST, groups of
 * 4 in a run of 64 rows: 36% of the pixels sorted, 39% as they come). A
 * row's bits do not depend on the rows it is grouped with. */
static void fwd_sparse(const affine_args *a, int *rows, int *cnt, int n)
{
    for (int i = 1; i < n; i++) { /* insertion sort: stable, n <= 64 */
        const int r = rows[i], c = cnt[i];
        int k = i;
        for (; k > 0 && cnt[k - 1] > c; k--) {
            rows[k] = rows[k - 1];
            cnt[k] = cnt[k - 1];
        }
        rows[k] = r;
        cnt[k] = c;
    }
    bd__affine_rows_sparse(a->y, a->x, rows, n, a->W, a->b, a->In, a->Out);
}

/* rows [lo, hi) of y = x W + b: a row at most 30% nonzero (pixels) is
 * summed over its nonzero inputs (fwd_sparse), the runs of denser rows
 * between them go to the GEMM. The reference kernels take the GEMM only. */
static void fwd_rows(void *ctx, int lo, int hi, int part)
{
    const affine_args *a = ctx;
    (void)part;
    if (bd__kernels_reference()) {
        fwd_gemm(a, lo, hi);
        return;
    }
    int run = lo; /* the dense rows [run, r) wait for one GEMM */
    int sparse[64], cnt[64], n = 0;
    for (int r = lo; r < hi; r++) {
        const int c = bd__affine_nonzeros(a->x + (size_t)r * a->In, a->In);
        if ((long long)c * 10 > (long long)a->In * 3) /* bd__affine_row_sparse */
            continue;
        if (run < r)
            fwd_gemm(a, run, r);
        run = r + 1;
        sparse[n] = r;
        cnt[n++] = c;
        if (n == 64) {
            fwd_sparse(a, sparse, cnt, n);
            n = 0;
        }
    }
    if (run < hi)
        fwd_gemm(a, run, hi);
    if (n > 0)
        fwd_sparse(a, sparse, cnt, n);
}

/* x [B,I], W [I,O], b [O] -> y [B,O]; the batch's rows split over the threads */
void bd_affine_forward(float *y, const float *x, const float *W, const float *b,
                       int B, int In, int Out)
{
    affine_args a = {.y = y, .x = x, .W = W, .b = b, .B = B, .In = In, .Out = Out};
    maybe_parallel((size_t)B * In * Out, B, fwd_rows, &a);
}

/* rows [lo, hi) of dx = dy Wᵀ */
static void dx_rows(void *ctx, int lo, int hi, int part)
{
    const affine_args *a = ctx;
    if (bd__affine_gemm_used()) { /* dx[n, :] = Σ_j dy[n, j]·W[:, j] (affine_gemm.c) */
        float *dx = a->dx + (size_t)lo * a->In;
        memset(dx, 0, (size_t)(hi - lo) * a->In * sizeof *dx);
        bd__affine_gemm_nt(dx, a->In, a->dy + (size_t)lo * a->Out, a->Out, a->W, a->Out, hi - lo,
                           a->In, a->Out);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, a->In, a->Out, 1.0f,
                a->dy + (size_t)lo * a->Out, a->Out, a->W, a->Out, 0.0f,
                a->dx + (size_t)lo * a->In, a->In);
}

/* rows [lo, hi) of dW = xᵀ dy (input features lo..hi): no sums across parts */
static void dW_rows(void *ctx, int lo, int hi, int part)
{
    const affine_args *a = ctx;
    if (bd__affine_gemm_used()) { /* row k of dW: Σ_n x[n, k]·dy[n, :] (affine_gemm.c) */
        float *dW = a->dW + (size_t)lo * a->Out;
        memset(dW, 0, (size_t)(hi - lo) * a->Out * sizeof *dW);
        bd__affine_gemm(dW, a->Out, a->x + lo, 1, a->In, a->dy, a->Out, hi - lo, a->Out, a->B);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, hi - lo, a->Out, a->B, 1.0f, a->x + lo,
                a->In, a->dy, a->Out, 0.0f, a->dW + (size_t)lo * a->Out, a->Out);
}

/* rows [lo, hi) of dW = xᵀ dy (input features lo..hi): where the batch's
 * columns lo..hi are mostly zeros (pixels), summed over their nonzeros only
 * (affine_sparse.c), else on the GEMM. Each part looks at its own columns,
 * in parallel: a count of the whole batch first was a serial pass over x
 * on the caller while the other threads waited (chapter-5: 2% of its CPU). */
static void dW_part(void *ctx, int lo, int hi, int part)
{
    const affine_args *a = ctx;
    if (!bd__kernels_reference() && bd__affine_batch_sparse(a->x, a->B, a->In, lo, hi))
        bd__affine_dW_sparse(a->dW, a->x, a->dy, a->B, a->In, a->Out, lo, hi);
    else
        dW_rows(ctx, lo, hi, part);
}

/* dy [B,O], x [B,I], W [I,O] -> dx [B,I] (optional), dW [I,O], db [O]
 * Book eq. 5.13: dL/dX = dL/dY · W^T,  dL/dW = X^T · dL/dY,  dL/db = Σ_B dL/dY */
void bd_affine_backward(float *dx, float *dW, float *db, const float *dy,
                        const float *x, const float *W, int B, int In, int Out)
{
    affine_args a = {.dx = dx, .dW = dW, .x = x, .W = W, .dy = dy, .B = B, .In = In, .Out = Out};
    const size_t macs = (size_t)B * In * Out;
    if (dx)
        maybe_parallel(macs, B, dx_rows, &a);
    maybe_parallel(macs, In, dW_part, &a);
    for (int j = 0; j < Out; j++)
        db[j] = 0.0f;
    for (int r = 0; r < B; r++) {
        const float *row = dy + (size_t)r * Out;
        for (int j = 0; j < Out; j++)
            db[j] += row[j];
    }
}

/* ---- the Affine row of the op table */

static size_t affine_params(const bd_layer *l)
{
    return (size_t)l->in_size * l->units + (size_t)l->units;
}

/* any input [C,H,W] is taken as a vector of C*H*W (the book's Affine
 * reshapes x the same way) -> [units] */
static bd_status affine_shape(bd_layer *l)
{
    if (l->units < 1)
        return bd_error(BD_ERR_ARG, "%s: %d units (must be >= 1)", l->name, l->units);
    l->out_c = l->units;
    l->out_h = l->out_w = 1;
    return BD_OK;
}

static void affine_bind(bd_layer *l, float *p, float *g, float *s)
{
    int ws[2] = {l->in_size, l->units};
    int bs[1] = {l->units};
    l->W = bd_tensor_view(p, 2, ws);
    l->b = bd_tensor_view(p + (size_t)l->in_size * l->units, 1, bs);
    l->dW = bd_tensor_view(g, 2, ws);
    l->db = bd_tensor_view(g + (size_t)l->in_size * l->units, 1, bs);
}

/* W ~ N(0, std²): std fixed (book's weight_init_std), Xavier 1/√n (6.2.2) or
 * He √(2/n) (6.2.3), n the fan-in; b = 0 */
static void affine_init(bd_layer *l, bd_init init, bd_rng *rng)
{
    float std = init.std;
    if (init.kind == BD_INIT_XAVIER)
        std = sqrtf(1.0f / (float)l->in_size);
    else if (init.kind == BD_INIT_HE)
        std = sqrtf(2.0f / (float)l->in_size);
    float *W = bd_f32(&l->W);
    for (size_t k = 0; k < l->W.size; k++)
        W[k] = std * bd_rng_normal(rng);
    memset(l->b.data, 0, l->b.size * sizeof(float));
}

static void affine_fwd(bd_layer *l, int B)
{
    bd_affine_forward(bd_f32(&l->out), bd_f32(l->in), bd_f32(&l->W), bd_f32(&l->b), B,
                      l->in_size, l->out_size);
}

static void affine_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    bd_affine_backward(need_dx ? bd_f32(&l->dx) : NULL, bd_f32(&l->dW), bd_f32(&l->db), dy,
                       bd_f32(l->in), bd_f32(&l->W), B, l->in_size, l->out_size);
}

const bd_layer_op bd__op_affine = {
    .name = "Affine",
    .rows = 1,
    .token = "affine",
    .keys = {{"units", BD__CONF_UNITS}},
    .emit_c = bd__emit_affine,
    .pname = {"W", "b"},
    .decay = 1,
    .shape = affine_shape,
    .param_count = affine_params,
    .bind = affine_bind,
    .init = affine_init,
    .forward = affine_fwd,
    .backward = affine_bwd,
};
