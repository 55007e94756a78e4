/* batchnorm2d.c — Batch Normalization for convolutional layers: the dense
 * BatchNorm of book 6.3 with one mean and variance per channel, taken over
 * the batch and every position (B·H·W values), as in Ioffe & Szegedy 2015
 * §3.2 ("so that different elements of the same feature map, at different
 * locations, are normalized in the same way"). */
#include "internal.h"

#include <math.h>

/* Channels are independent, so both passes split the channels over the
 * threads; each part writes only its channels. */
typedef struct bn2d_args {
    float *y, *xhat, *mean_istd, *rmean, *rvar, *dx, *dgamma, *dbeta;
    const float *x, *gamma, *beta, *dy;
    const float *res;     /* bd__bn2d_fwd_fused: the residual added before the ReLU */
    const float *mask;    /* bd__bn2d_bwd_fused: dy counts where mask > 0 */
    int relu;             /* bd__bn2d_fwd_fused: a ReLU after */
    float mom, eps;
    float inv_m;          /* --sync-bn backward: 1 / (global rows · HW) */
    int training, B, C, HW;
} bn2d_args;

/* Σ (x[p] − m)² over n values, with 8 partial sums so it vectorises */
static float sq_dev_sum(const float *x, float m, int n)
{
    float acc[8] = {0};
    int p = 0;
    for (; p + 8 <= n; p += 8)
        for (int k = 0; k < 8; k++) {
            float d = x[p + k] - m;
            acc[k] += d * d;
        }
    for (; p < n; p++) {
        float d = x[p] - m;
        acc[0] += d * d;
    }
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* inlined into their BD_HOT callers, so that they are compiled for each of
 * those's targets */
#define BN_INLINE static inline __attribute__((always_inline))

/* Channel c of the normalisation: y = γ·x̂ + β with x̂ = (x − μ)·istd, x̂
 * stored in xhat, or (xhat NULL: the fused forward, which recomputes x̂
 * from x in the backward, the same operations giving the same bits) not
 * stored; then, fused, the residual added and the ReLU, as the residual
 * block's separate passes did them: relu(res + y). One loop per variant so
 * each vectorises. */
BN_INLINE void norm_channel(const bn2d_args *a, int c, float m, float is)
{
    const int B = a->B, C = a->C, HW = a->HW;
    const float g = a->gamma[c], be = a->beta[c];
    for (int b = 0; b < B; b++) {
        const size_t o = ((size_t)b * C + c) * HW;
        /* local pointers: through a, gcc must assume the stores change
         * a's fields and reloads them every element (no vectorising) */
        const float *x = a->x + o;
        float *y = a->y + o;
        if (a->xhat) {
            float *xh = a->xhat + o;
            for (int p = 0; p < HW; p++) {
                float h = (x[p] - m) * is;
                xh[p] = h;
                y[p] = g * h + be;
            }
        } else if (a->res) {
            const float *r = a->res + o;
            for (int p = 0; p < HW; p++) {
                const float v = r[p] + (g * ((x[p] - m) * is) + be);
                y[p] = v > 0.0f ? v : 0.0f;
            }
        } else if (a->relu) {
            for (int p = 0; p < HW; p++) {
                const float v = g * ((x[p] - m) * is) + be;
                y[p] = v > 0.0f ? v : 0.0f;
            }
        } else {
            for (int p = 0; p < HW; p++)
                y[p] = g * ((x[p] - m) * is) + be;
        }
    }
}

/* Σ dy and Σ dy·x̂ over n values, with bd__sum's and bd__dot's 8 partial
 * sums in their order: the same bits as those over a masked dy (mk not
 * NULL: dy where mk > 0) and a stored x̂ (xh, or NULL: recomputed from x as
 * the forward computed it). The fused backward has no xh, the plain one no
 * mask. Every value is loaded unconditionally, so the selects vectorise. */
BN_INLINE void dy_sums(const float *d, const float *mk, const float *xh, const float *x, float m,
                       float is, int n, float *sum, float *dot)
{
    if (xh) {
        *sum = bd__sum(d, (size_t)n);
        *dot = bd__dot(d, xh, (size_t)n);
        return;
    }
    /* lane k of as, ad is bd__sum's and bd__dot's acc[k]; gcc's vector
     * extension, as the select in an 8-accumulator loop stays scalar */
    typedef float v8f __attribute__((vector_size(32)));
    typedef int v8i __attribute__((vector_size(32)));
    v8f as = {0}, ad = {0}, g, h;
    const v8f zero = {0}, vm = zero + m, vis = zero + is;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&g, d + i, sizeof g);
        memcpy(&h, x + i, sizeof h);
        if (mk) {
            v8f mv;
            memcpy(&mv, mk + i, sizeof mv);
            g = (v8f)((v8i)g & (mv > zero)); /* dy where mk > 0, else +0 */
        }
        as += g;
        ad += g * ((h - vm) * vis);
    }
    float s0 = as[0], d0 = ad[0];
    for (; i < n; i++) {
        const float gi = d[i], v = mk && !(mk[i] > 0.0f) ? 0.0f : gi;
        s0 += v;
        d0 += v * ((x[i] - m) * is);
    }
    *sum = ((s0 + as[4]) + (as[1] + as[5])) + ((as[2] + as[6]) + (as[3] + as[7]));
    *dot = ((d0 + ad[4]) + (ad[1] + ad[5])) + ((ad[2] + ad[6]) + (ad[3] + ad[7]));
}

/* dx of channel c: k·(dy − db − x̂·dg), dy masked and x̂ recomputed as in
 * dy_sums (dx may be dy itself: the residual block) */
BN_INLINE void dx_channel(const bn2d_args *a, int c, float k, float db, float dg, float m,
                          float is)
{
    const int C = a->C, HW = a->HW;
    for (int b = 0; b < a->B; b++) {
        const size_t o = ((size_t)b * C + c) * HW;
        const float *dy = a->dy + o;
        float *dx = a->dx + o;
        if (a->xhat) {
            const float *xh = a->xhat + o;
            for (int p = 0; p < HW; p++)
                dx[p] = k * (dy[p] - db - xh[p] * dg);
        } else if (!a->mask) {
            const float *x = a->x + o;
            for (int p = 0; p < HW; p++)
                dx[p] = k * (dy[p] - db - ((x[p] - m) * is) * dg);
        } else {
            const float *x = a->x + o, *mk = a->mask + o;
            for (int p = 0; p < HW; p++) {
                const float g = dy[p], v = mk[p] > 0.0f ? g : 0.0f;
                dx[p] = k * (v - db - ((x[p] - m) * is) * dg);
            }
        }
    }
}

/* channels [lo, hi) of the forward */
BD_HOT static void fwd_channels(void *ctx, int lo, int hi, int part)
{
    const bn2d_args *a = ctx;
    const int B = a->B, C = a->C, HW = a->HW;
    float *mu = a->mean_istd, *istd = a->mean_istd + C;
    for (int c = lo; c < hi; c++) {
        if (a->training) {
            /* two passes per channel, sums in double: B·H·W values can be many */
            const double inv = 1.0 / ((double)B * HW);
            double s = 0.0;
            for (int b = 0; b < B; b++)
                s += bd__sum(a->x + ((size_t)b * C + c) * HW, (size_t)HW);
            const float m = (float)(s * inv);
            double v = 0.0;
            for (int b = 0; b < B; b++)
                v += sq_dev_sum(a->x + ((size_t)b * C + c) * HW, m, HW);
            const float var = (float)(v * inv);
            mu[c] = m;
            istd[c] = 1.0f / sqrtf(var + a->eps);
            /* running = momentum·running + (1 − momentum)·batch (book 6.3) */
            a->rmean[c] = a->mom * a->rmean[c] + (1.0f - a->mom) * m;
            a->rvar[c] = a->mom * a->rvar[c] + (1.0f - a->mom) * var;
        } else {
            mu[c] = a->rmean[c];
            istd[c] = 1.0f / sqrtf(a->rvar[c] + a->eps);
        }
        norm_channel(a, c, mu[c], istd[c]);
    }
}

/* x [B,C,HW] -> y, xhat [B,C,HW]; mean_istd [2C] = μ_c, 1/√(σ²_c + ε) */
void bd_bn2d_forward(float *y, float *xhat, float *mean_istd, const float *x,
                     const float *gamma, const float *beta, float *rmean, float *rvar,
                     float mom, float eps, int training, int B, int C, int HW)
{
    bd__bn2d_forward(y, xhat, mean_istd, x, gamma, beta, rmean, rvar, mom, eps, training, B, C,
                     HW, NULL);
}

/* --sync-bn, in three passes over the channels with a sum over the
 * processes between them: Σx, then Σ(x − μ)² around the global μ, then the
 * normalisation (the one-process pass does all three per channel). */
static void sum_channels(void *ctx, int lo, int hi, int part)
{
    const bn2d_args *a = ctx;
    for (int c = lo; c < hi; c++) {
        double s = 0.0;
        for (int b = 0; b < a->B; b++)
            s += bd__sum(a->x + ((size_t)b * a->C + c) * a->HW, (size_t)a->HW);
        a->mean_istd[c] = (float)s;
    }
}

static void sqdev_channels(void *ctx, int lo, int hi, int part)
{
    const bn2d_args *a = ctx;
    for (int c = lo; c < hi; c++) {
        double v = 0.0;
        for (int b = 0; b < a->B; b++)
            v += sq_dev_sum(a->x + ((size_t)b * a->C + c) * a->HW, a->mean_istd[c], a->HW);
        a->mean_istd[a->C + c] = (float)v;
    }
}

static void norm_channels(void *ctx, int lo, int hi, int part)
{
    const bn2d_args *a = ctx;
    for (int c = lo; c < hi; c++)
        norm_channel(a, c, a->mean_istd[c], a->mean_istd[a->C + c]);
}

static void fwd_sync(bn2d_args *a, const bd_net *net)
{
    const int C = a->C;
    float *mu = a->mean_istd, *istd = mu + C;
    const double inv = 1.0 / ((double)net->grows * a->HW);
    bd__parallel_for(C, sum_channels, a);
    bd__bn_sync(net, mu, (size_t)C);
    for (int c = 0; c < C; c++)
        mu[c] = (float)(mu[c] * inv);
    bd__parallel_for(C, sqdev_channels, a);
    bd__bn_sync(net, istd, (size_t)C);
    for (int c = 0; c < C; c++) {
        const float var = (float)(istd[c] * inv);
        istd[c] = 1.0f / sqrtf(var + a->eps);
        a->rmean[c] = a->mom * a->rmean[c] + (1.0f - a->mom) * mu[c];
        a->rvar[c] = a->mom * a->rvar[c] + (1.0f - a->mom) * var;
    }
    bd__parallel_for(C, norm_channels, a);
}

static void fwd_run(bn2d_args *a, const bd_net *net)
{
    if (net && a->training && net->sync && net->sync->size > 1)
        fwd_sync(a, net);
    else
        bd__parallel_for(a->C, fwd_channels, a);
}

void bd__bn2d_forward(float *y, float *xhat, float *mean_istd, const float *x,
                      const float *gamma, const float *beta, float *rmean, float *rvar,
                      float mom, float eps, int training, int B, int C, int HW,
                      const bd_net *net)
{
    bn2d_args a = {.y = y, .xhat = xhat, .mean_istd = mean_istd, .rmean = rmean, .rvar = rvar,
                   .x = x, .gamma = gamma, .beta = beta, .mom = mom, .eps = eps,
                   .training = training, .B = B, .C = C, .HW = HW};
    fwd_run(&a, net);
}

void bd__bn2d_fwd_fused(float *y, float *mean_istd, const float *x, const float *res, int relu,
                        const float *gamma, const float *beta, float *rmean, float *rvar,
                        float mom, float eps, int training, int B, int C, int HW,
                        const bd_net *net)
{
    bn2d_args a = {.y = y, .mean_istd = mean_istd, .rmean = rmean, .rvar = rvar, .x = x,
                   .res = res, .relu = relu || res, .gamma = gamma, .beta = beta, .mom = mom,
                   .eps = eps, .training = training, .B = B, .C = C, .HW = HW};
    fwd_run(&a, net);
}

/* channels [lo, hi) of the backward */
BD_HOT static void bwd_channels(void *ctx, int lo, int hi, int part)
{
    const bn2d_args *a = ctx;
    const int B = a->B, C = a->C, HW = a->HW;
    const float *mu = a->mean_istd, *istd = a->mean_istd + C;
    const float invM = a->training ? 1.0f / ((float)B * HW) : 0.0f;
    for (int c = lo; c < hi; c++) {
        double sb = 0.0, sg = 0.0;
        for (int b = 0; b < B; b++) {
            const size_t o = ((size_t)b * C + c) * HW;
            float s1, s2;
            dy_sums(a->dy + o, a->mask ? a->mask + o : NULL, a->xhat ? a->xhat + o : NULL,
                    a->x ? a->x + o : NULL, mu[c], istd[c], HW, &s1, &s2);
            sb += s1;
            sg += s2;
        }
        a->dbeta[c] = (float)sb;
        a->dgamma[c] = (float)sg;
        if (!a->dx)
            continue;
        const float k = a->gamma[c] * istd[c], db = a->dbeta[c] * invM, dg = a->dgamma[c] * invM;
        dx_channel(a, c, k, db, dg, mu[c], istd[c]);
    }
}

/* dy [B,C,HW] -> dγ, dβ [C]; dx = γ·istd·(dy − (dβ + x̂·dγ)/M) with M = B·HW
 * (training) or γ·istd·dy (evaluation). dx may alias dy. */
void bd_bn2d_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                      const float *xhat, const float *mean_istd, const float *gamma,
                      int training, int B, int C, int HW)
{
    bd__bn2d_backward(dx, dgamma, dbeta, dy, xhat, (float *)mean_istd, gamma, training, B, C, HW,
                      NULL);
}

/* --sync-bn's backward: this process's dβ, dγ (its part of the gradient
 * block) first, then dx from their sums over every process (in
 * mean_istd[2C..4C)) and the global row count. dgamma/dbeta are the `db`
 * and `dg` of the formula only in the one-process pass. */
static void dx_channels(void *ctx, int lo, int hi, int part)
{
    const bn2d_args *a = ctx;
    const int C = a->C;
    const float *mu = a->mean_istd, *istd = a->mean_istd + C, *gs = a->mean_istd + 2 * C;
    for (int c = lo; c < hi; c++) {
        const float k = a->gamma[c] * istd[c], db = gs[c] * a->inv_m, dg = gs[C + c] * a->inv_m;
        dx_channel(a, c, k, db, dg, mu[c], istd[c]);
    }
}

static void bwd_run(bn2d_args *a, const bd_net *net)
{
    const int C = a->C;
    float *dx = a->dx;
    if (!(net && a->training && net->sync && net->sync->size > 1)) {
        bd__parallel_for(C, bwd_channels, a);
        return;
    }
    a->dx = NULL; /* the sums only */
    bd__parallel_for(C, bwd_channels, a);
    if (!dx)
        return;
    float *gs = a->mean_istd + 2 * C;
    memcpy(gs, a->dbeta, (size_t)C * sizeof(float));
    memcpy(gs + C, a->dgamma, (size_t)C * sizeof(float));
    bd__bn_sync(net, gs, 2 * (size_t)C);
    a->dx = dx;
    a->inv_m = (float)(1.0 / ((double)net->grows * a->HW));
    bd__parallel_for(C, dx_channels, a);
}

void bd__bn2d_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                       const float *xhat, float *mean_istd, const float *gamma, int training,
                       int B, int C, int HW, const bd_net *net)
{
    bn2d_args a = {.dx = dx, .dgamma = dgamma, .dbeta = dbeta, .dy = dy, .xhat = (float *)xhat,
                   .mean_istd = mean_istd, .gamma = gamma, .training = training,
                   .B = B, .C = C, .HW = HW};
    bwd_run(&a, net);
}

void bd__bn2d_bwd_fused(float *dx, float *dgamma, float *dbeta, const float *dy,
                        const float *mask, const float *x, float *mean_istd, const float *gamma,
                        int training, int B, int C, int HW, const bd_net *net)
{
    bn2d_args a = {.dx = dx, .dgamma = dgamma, .dbeta = dbeta, .dy = dy, .mask = mask, .x = x,
                   .mean_istd = mean_istd, .gamma = gamma, .training = training,
                   .B = B, .C = C, .HW = HW};
    bwd_run(&a, net);
}

/* ---- the BatchNorm2d row of the op table: gamma in W, beta in b (each
 * [C]); running mean s0, running variance s1 (each [C]) */

static size_t bn2d_params(const bd_layer *l) { return 2 * (size_t)l->in_c; }
static size_t bn2d_state(const bd_layer *l) { return 2 * (size_t)l->in_c; }
/* aux [B, C*H*W]: x̂; aux2 [4C]: the mean used and 1/std, then room for
 * --sync-bn's summed Σdy, Σdy·x̂ */
static size_t bn2d_aux_cols(const bd_layer *l) { return (size_t)l->in_size; }
static size_t bn2d_aux2(const bd_layer *l) { return 4 * (size_t)l->in_c; }

static void bn2d_bind(bd_layer *l, float *p, float *g, float *s)
{
    const size_t C = (size_t)l->in_c;
    int shape[1] = {l->in_c};
    l->W = bd_tensor_view(p, 1, shape);
    l->b = bd_tensor_view(p + C, 1, shape);
    l->dW = bd_tensor_view(g, 1, shape);
    l->db = bd_tensor_view(g + C, 1, shape);
    l->s0 = bd_tensor_view(s, 1, shape);
    l->s1 = bd_tensor_view(s + C, 1, shape);
}

/* γ = 1, β = 0; running mean 0, running variance 1 */
static void bn2d_init(bd_layer *l, bd_init init, bd_rng *rng)
{
    for (int c = 0; c < l->in_c; c++) {
        bd_f32(&l->W)[c] = 1.0f;
        bd_f32(&l->b)[c] = 0.0f;
        bd_f32(&l->s0)[c] = 0.0f;
        bd_f32(&l->s1)[c] = 1.0f;
    }
}

static void bn2d_fwd(bd_layer *l, int B)
{
    bd__bn2d_forward(bd_f32(&l->out), bd_f32(&l->aux), bd_f32(&l->aux2), bd_f32(l->in),
                     bd_f32(&l->W), bd_f32(&l->b), bd_f32(&l->s0), bd_f32(&l->s1), l->p0, l->p1,
                     l->net->training, B, l->in_c, l->in_h * l->in_w, l->net);
}

static void bn2d_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    float *dx = need_dx ? bd_f32(&l->dx) : NULL;
    bd__bn2d_backward(dx, bd_f32(&l->dW), bd_f32(&l->db), dy, bd_f32(&l->aux),
                      bd_f32(&l->aux2), bd_f32(&l->W), l->net->training, B, l->in_c,
                      l->in_h * l->in_w, l->net);
}

const bd_layer_op bd__op_batchnorm2d = {
    .name = "BatchNorm2d",
    .token = "batchnorm2d",
    .keys = {{"momentum", BD__CONF_P0}, {"eps", BD__CONF_P1}},
    .emit_c = bd__emit_bn2d,
    .pname = {"gamma", "beta"},
    .sname = {"running_mean", "running_var"},
    .def_p0 = 0.9f,
    .def_p1 = 1e-5f,
    .check = bd__check_batchnorm,
    .param_count = bn2d_params,
    .state_count = bn2d_state,
    .aux_cols = bn2d_aux_cols,
    .aux2_size = bn2d_aux2,
    .bind = bn2d_bind,
    .init = bn2d_init,
    .forward = bn2d_fwd,
    .backward = bn2d_bwd,
};
