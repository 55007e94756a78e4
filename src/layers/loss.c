/* loss.c — the loss layers: SoftmaxWithLoss (book 5.6.3, appendix A), mean
 * squared error (book 4.2.1), mean absolute error, and sigmoid + binary
 * cross-entropy (seed 002's logistic regression). Labels are class indices
 * or one-hot rows.
 * The book's plain version: learn/ch05/layers.h (SoftmaxWithLoss). */
#include "internal.h"

#include <math.h>

/* logits [B,C] -> prob [B,C]; returns mean cross-entropy over the batch.
 * log p_k = (a_k − max) − log Σ exp(a_j − max): the max is subtracted so exp
 * cannot overflow (book 3.5.2), and the log is taken of the sum, which is ≥ 1,
 * so the loss is finite for any finite logits — no 1e-7 fudge needed. */
double bd_softmax_ce_forward(float *prob, const float *logits, bd_labels t, int B, int C)
{
    double total = 0.0;
    for (int r = 0; r < B; r++) {
        const float *a = logits + (size_t)r * C;
        float *p = prob + (size_t)r * C;
        float m = a[0];
        for (int k = 1; k < C; k++)
            m = a[k] > m ? a[k] : m;
        double sum = 0.0;
        for (int k = 0; k < C; k++) {
            float e = expf(a[k] - m);
            p[k] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        for (int k = 0; k < C; k++)
            p[k] *= inv;
        double logsum = log(sum);
        if (t.idx) {
            total -= (double)(a[t.idx[r]] - m) - logsum;
        } else {
            const float *tr = t.onehot + (size_t)r * C;
            for (int k = 0; k < C; k++)
                if (tr[k] != 0.0f)
                    total -= (double)tr[k] * ((double)(a[k] - m) - logsum);
        }
    }
    return total / B;
}

/* prob [B,C] -> dlogits [B,C] = (y − t) / B */
void bd_softmax_ce_backward(float *dlogits, const float *prob, bd_labels t, int B, int C)
{
    float inv = 1.0f / (float)B;
    size_t n = (size_t)B * C;
    if (t.idx) {
        for (size_t i = 0; i < n; i++)
            dlogits[i] = prob[i] * inv;
        for (int r = 0; r < B; r++)
            dlogits[(size_t)r * C + t.idx[r]] -= inv;
    } else {
        for (size_t i = 0; i < n; i++)
            dlogits[i] = (prob[i] - t.onehot[i]) * inv;
    }
}

static inline float target(bd_labels t, int r, int k, int C)
{
    if (t.idx)
        return t.idx[r] == k ? 1.0f : 0.0f;
    return t.onehot[(size_t)r * C + k];
}

/* y [B,C] -> mean over the batch of 0.5 Σ_k (y_k − t_k)² */
double bd_mse_forward(const float *y, bd_labels t, int B, int C)
{
    double total = 0.0;
    for (int r = 0; r < B; r++)
        for (int k = 0; k < C; k++) {
            double d = (double)y[(size_t)r * C + k] - target(t, r, k, C);
            total += 0.5 * d * d;
        }
    return total / B;
}

/* y [B,C] -> dy [B,C] = (y − t) / B */
void bd_mse_backward(float *dy, const float *y, bd_labels t, int B, int C)
{
    float inv = 1.0f / (float)B;
    for (int r = 0; r < B; r++)
        for (int k = 0; k < C; k++)
            dy[(size_t)r * C + k] = (y[(size_t)r * C + k] - target(t, r, k, C)) * inv;
}

/* y [B,C] -> mean over the batch of Σ_k |y_k − t_k| (same convention as MSE) */
double bd_mae_forward(const float *y, bd_labels t, int B, int C)
{
    double total = 0.0;
    for (int r = 0; r < B; r++)
        for (int k = 0; k < C; k++)
            total += fabs((double)y[(size_t)r * C + k] - target(t, r, k, C));
    return total / B;
}

/* y [B,C] -> dy [B,C] = sign(y − t) / B, 0 where y == t (a subgradient) */
void bd_mae_backward(float *dy, const float *y, bd_labels t, int B, int C)
{
    float inv = 1.0f / (float)B;
    for (int r = 0; r < B; r++)
        for (int k = 0; k < C; k++) {
            float d = y[(size_t)r * C + k] - target(t, r, k, C);
            dy[(size_t)r * C + k] = (float)((d > 0.0f) - (d < 0.0f)) * inv;
        }
}

/* BCE target of unit k of row r: with one unit (C == 1) a class index is the
 * target itself (0 or 1); otherwise one-hot, or the given probabilities */
static inline float bce_target(bd_labels t, int r, int k, int C)
{
    if (t.idx && C == 1)
        return (float)t.idx[r];
    return target(t, r, k, C);
}

/* z [B,C] -> prob = σ(z) [B,C]; returns the mean over the batch of
 * Σ_k −t log σ(z) − (1 − t) log(1 − σ(z)) = max(z, 0) − z t + log(1 + e^−|z|),
 * the logistic regression loss of seed 002 in the form that cannot overflow
 * and never takes log 0: finite for any finite z. */
double bd_bce_forward(float *prob, const float *z, bd_labels t, int B, int C)
{
    bd_sigmoid_forward(prob, z, (size_t)B * C);
    double total = 0.0;
    for (int r = 0; r < B; r++)
        for (int k = 0; k < C; k++) {
            double v = z[(size_t)r * C + k], tt = bce_target(t, r, k, C);
            total += fmax(v, 0.0) - v * tt + log1p(exp(-fabs(v)));
        }
    return total / B;
}

/* prob = σ(z) [B,C] -> dz [B,C] = (σ(z) − t) / B */
void bd_bce_backward(float *dz, const float *prob, bd_labels t, int B, int C)
{
    float inv = 1.0f / (float)B;
    for (int r = 0; r < B; r++)
        for (int k = 0; k < C; k++)
            dz[(size_t)r * C + k] = (prob[(size_t)r * C + k] - bce_target(t, r, k, C)) * inv;
}

/* ---- the loss table */

static double ce_fwd(float *prob, const float *y, bd_labels t, int B, int C)
{
    return bd_softmax_ce_forward(prob, y, t, B, C);
}

static void ce_bwd(float *dy, const float *prob, const float *y, bd_labels t, int B, int C)
{
    bd_softmax_ce_backward(dy, prob, t, B, C);
}

static double mse_fwd(float *prob, const float *y, bd_labels t, int B, int C)
{
    return bd_mse_forward(y, t, B, C);
}

static void mse_bwd(float *dy, const float *prob, const float *y, bd_labels t, int B, int C)
{
    bd_mse_backward(dy, y, t, B, C);
}

static double mae_fwd(float *prob, const float *y, bd_labels t, int B, int C)
{
    return bd_mae_forward(y, t, B, C);
}

static void mae_bwd(float *dy, const float *prob, const float *y, bd_labels t, int B, int C)
{
    bd_mae_backward(dy, y, t, B, C);
}

static double bce_fwd(float *prob, const float *y, bd_labels t, int B, int C)
{
    return bd_bce_forward(prob, y, t, B, C);
}

static void bce_bwd(float *dy, const float *prob, const float *y, bd_labels t, int B, int C)
{
    bd_bce_backward(dy, prob, t, B, C);
}

static const bd_loss_op LOSSES[BD_LOSS_KIND_COUNT] = {
    [BD_LOSS_SOFTMAX_CE] = {"SoftmaxWithLoss", ce_fwd, ce_bwd},
    [BD_LOSS_MSE] = {"MeanSquaredError", mse_fwd, mse_bwd},
    [BD_LOSS_MAE] = {"MeanAbsoluteError", mae_fwd, mae_bwd},
    [BD_LOSS_SIGMOID_BCE] = {"SigmoidWithLoss", bce_fwd, bce_bwd},
};

const bd_loss_op *bd__loss_op(bd_loss_kind kind)
{
    if ((int)kind < 0 || kind >= BD_LOSS_KIND_COUNT || !LOSSES[kind].name)
        return NULL;
    return &LOSSES[kind];
}

const char *bd_loss_kind_name(bd_loss_kind k)
{
    const bd_loss_op *op = bd__loss_op(k);
    return op ? op->name : "?";
}
