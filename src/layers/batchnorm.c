/* batchnorm.c — Batch Normalization for dense layers (book 6.3, common/
 * layers.py BatchNormalization): per feature over the batch,
 *   x̂ = (x − μ) / √(σ² + ε),  y = γ x̂ + β,
 * with the batch's μ, σ² (biased) while training and the running averages
 * at evaluation. All loops run over rows [B, D] row-major with D-long
 * per-feature accumulators, so the inner loops vectorise along D. */
#include "internal.h"

#include <math.h>

/* D = in_size = out_size; gamma in W, beta in b (each [D]) */
static size_t bn_params(const bd_layer *l) { return 2 * (size_t)l->in_size; }
/* running mean s0 [D], running variance s1 [D] */
static size_t bn_state(const bd_layer *l) { return 2 * (size_t)l->in_size; }
/* aux [B, D]: x̂ of the last forward, for backward */
static size_t bn_aux_cols(const bd_layer *l) { return (size_t)l->in_size; }
/* aux2 [4D]: the mean used and 1/√(var + ε) per feature, then room for
 * the summed Σdy, Σdy·x̂ of --sync-bn's backward */
static size_t bn_aux2(const bd_layer *l) { return 4 * (size_t)l->in_size; }

static void bn_bind(bd_layer *l, float *p, float *g, float *s)
{
    const size_t D = (size_t)l->in_size;
    int shape[1] = {l->in_size};
    l->W = bd_tensor_view(p, 1, shape);
    l->b = bd_tensor_view(p + D, 1, shape);
    l->dW = bd_tensor_view(g, 1, shape);
    l->db = bd_tensor_view(g + D, 1, shape);
    l->s0 = bd_tensor_view(s, 1, shape);
    l->s1 = bd_tensor_view(s + D, 1, shape);
}

/* γ = 1, β = 0; running mean 0, running variance 1 */
static void bn_init(bd_layer *l, bd_init init, bd_rng *rng)
{
    const int D = l->in_size;
    float *gamma = bd_f32(&l->W), *beta = bd_f32(&l->b);
    float *rmean = bd_f32(&l->s0), *rvar = bd_f32(&l->s1);
    for (int j = 0; j < D; j++) {
        gamma[j] = 1.0f;
        beta[j] = 0.0f;
        rmean[j] = 0.0f;
        rvar[j] = 1.0f;
    }
}

/* Row kernels over one sample's D features; restrict lets them vectorise. */

/* acc [D] += x [D] */
static void add_row(float *restrict acc, const float *restrict x, int D)
{
    for (int j = 0; j < D; j++)
        acc[j] += x[j];
}

/* acc [D] += (x − μ)² */
static void add_sq_dev_row(float *restrict acc, const float *restrict x,
                           const float *restrict mu, int D)
{
    for (int j = 0; j < D; j++) {
        float c = x[j] - mu[j];
        acc[j] += c * c;
    }
}

/* x̂ = (x − μ)·istd, y = γ x̂ + β   (all [D]) */
static void norm_row(float *restrict y, float *restrict xh, const float *restrict x,
                     const float *restrict mu, const float *restrict istd,
                     const float *restrict gamma, const float *restrict beta, int D)
{
    for (int j = 0; j < D; j++) {
        float h = (x[j] - mu[j]) * istd[j];
        xh[j] = h;
        y[j] = gamma[j] * h + beta[j];
    }
}

/* x [B,D] -> y [B,D], x̂ in aux [B,D]; aux2 = mean [D], 1/std [D] */
BD_HOT static void bn_fwd(bd_layer *l, int B)
{
    const int D = l->in_size;
    const float eps = l->p1, mom = l->p0;
    const float *x = bd_f32(l->in);
    float *y = bd_f32(&l->out), *xh = bd_f32(&l->aux);
    float *mu = bd_f32(&l->aux2), *istd = mu + D;
    float *rmean = bd_f32(&l->s0), *rvar = bd_f32(&l->s1);

    if (l->net->training) {
        /* μ = mean over the batch, then σ² = mean (x − μ)² (two passes, so
         * a large mean does not cancel the variance away). With --sync-bn
         * the batch is every process's rows: both sums are summed over the
         * processes and divided by the global row count. */
        memset(mu, 0, 2 * (size_t)D * sizeof(float));
        for (int r = 0; r < B; r++)
            add_row(mu, x + (size_t)r * D, D);
        const int sync = bd__bn_sync(l->net, mu, (size_t)D);
        const float invB = 1.0f / (float)(sync ? l->net->grows : B);
        for (int j = 0; j < D; j++)
            mu[j] *= invB;
        for (int r = 0; r < B; r++)
            add_sq_dev_row(istd, x + (size_t)r * D, mu, D);
        if (sync)
            bd__bn_sync(l->net, istd, (size_t)D);
        /* running = momentum·running + (1 − momentum)·batch (book 6.3) */
        for (int j = 0; j < D; j++) {
            float var = istd[j] * invB;
            rmean[j] = mom * rmean[j] + (1.0f - mom) * mu[j];
            rvar[j] = mom * rvar[j] + (1.0f - mom) * var;
            istd[j] = 1.0f / sqrtf(var + eps);
        }
    } else {
        /* evaluation: the running averages */
        for (int j = 0; j < D; j++) {
            mu[j] = rmean[j];
            istd[j] = 1.0f / sqrtf(rvar[j] + eps);
        }
    }
    const float *gamma = bd_f32(&l->W), *beta = bd_f32(&l->b);
    for (int r = 0; r < B; r++) {
        size_t o = (size_t)r * D;
        norm_row(y + o, xh + o, x + o, mu, istd, gamma, beta, D);
    }
}

/* dβ [D] += dy, dγ [D] += dy·x̂ */
static void param_grad_row(float *restrict db, float *restrict dg, const float *restrict dy,
                           const float *restrict xh, int D)
{
    for (int j = 0; j < D; j++) {
        db[j] += dy[j];
        dg[j] += dy[j] * xh[j];
    }
}

/* dx = γ·istd·(dy − invB·(dβ + x̂·dγ))   (all [D]) */
static void dx_row(float *restrict dx, const float *restrict dy, const float *restrict xh,
                   const float *restrict gamma, const float *restrict istd,
                   const float *restrict db, const float *restrict dg, float invB, int D)
{
    for (int j = 0; j < D; j++)
        dx[j] = gamma[j] * istd[j] * (dy[j] - invB * (db[j] + xh[j] * dg[j]));
}

/* dy [B,D] -> dx [B,D], dγ = Σ dy x̂, dβ = Σ dy. Training (book 6.3, the
 * computational graph of BatchNormalization.backward, simplified):
 *   dx = γ/σ · (dy − (dβ + x̂ dγ) / B)
 * Evaluation (μ, σ fixed): dx = γ/σ · dy. */
BD_HOT static void bn_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    const int D = l->in_size;
    const float *xh = bd_f32(&l->aux), *istd = bd_f32(&l->aux2) + D;
    float *dg = bd_f32(&l->dW), *db = bd_f32(&l->db);
    memset(dg, 0, (size_t)D * sizeof(float));
    memset(db, 0, (size_t)D * sizeof(float));
    for (int r = 0; r < B; r++)
        param_grad_row(db, dg, dy + (size_t)r * D, xh + (size_t)r * D, D);
    if (!need_dx)
        return;
    float *dx = bd_f32(&l->dx);
    const float *gamma = bd_f32(&l->W);
    float invB = l->net->training ? 1.0f / (float)B : 0.0f;
    /* --sync-bn: dx needs Σdy and Σdy·x̂ over every process's rows; dβ, dγ
     * stay this process's part (the gradient block is summed later) */
    const float *sb = db, *sg = dg;
    float *gs = bd_f32(&l->aux2) + 2 * (size_t)D;
    memcpy(gs, db, (size_t)D * sizeof(float));
    memcpy(gs + D, dg, (size_t)D * sizeof(float));
    if (bd__bn_sync(l->net, gs, 2 * (size_t)D)) {
        sb = gs;
        sg = gs + D;
        invB = 1.0f / (float)l->net->grows;
    }
    for (int r = 0; r < B; r++) {
        size_t o = (size_t)r * D;
        dx_row(dx + o, dy + o, xh + o, gamma, istd, sb, sg, invB, D);
    }
}

const bd_layer_op bd__op_batchnorm = {
    .name = "BatchNorm",
    .token = "batchnorm",
    .keys = {{"momentum", BD__CONF_P0}, {"eps", BD__CONF_P1}},
    .emit_c = bd__emit_bn,
    .pname = {"gamma", "beta"},
    .sname = {"running_mean", "running_var"},
    .decay = 0,
    .def_p0 = 0.9f,
    .def_p1 = 1e-7f,
    .check = bd__check_batchnorm,
    .param_count = bn_params,
    .state_count = bn_state,
    .aux_cols = bn_aux_cols,
    .aux2_size = bn_aux2,
    .bind = bn_bind,
    .init = bn_init,
    .forward = bn_fwd,
    .backward = bn_bwd,
};
