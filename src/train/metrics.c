/* metrics.c — what a finished run is judged by, beyond accuracy:
 * regression (RMSE, MAE, R² in the targets' own units), multi-label
 * (precision, recall, F1 per label, exact match) and classification's
 * confusion matrix (per-class accuracy). Each runs the network in
 * evaluation mode over the whole set in batches of its reserved rows. */
#include "internal.h"

#include <math.h>

/* fn(ud, y [n, K] outputs, start, n) for every batch of ds. */
typedef void (*batch_fn)(void *ud, const bd_dataset *ds, const float *y, int start, int n);

static bd_status for_batches(bd_net *net, const bd_dataset *ds, batch_fn fn, void *ud)
{
    if (ds->n < 1)
        return bd_error(BD_ERR_ARG, "%s: empty data set", ds->name);
    if ((size_t)ds->x.size / (size_t)ds->n != (size_t)net->in_size)
        return bd_error(BD_ERR_SHAPE, "%s: samples of %zu features, network takes %d",
                        ds->name, ds->x.size / (size_t)ds->n, net->in_size);
    if (net->max_batch < 1)
        BD_TRY(bd_net_reserve(net, 100));
    int mode = net->training;
    net->training = 0;
    const int unread = bd__net_unread_begin(net); /* fn reads the logits alone */
    bd_status s = BD_OK;
    for (int start = 0; s == BD_OK && start < ds->n; start += net->max_batch) {
        int n = BD_MIN(net->max_batch, ds->n - start);
        const bd_tensor *y;
        s = bd_dataset_slice(ds, start, n, &net->xbatch, NULL);
        if (s == BD_OK)
            s = bd_net_forward(net, &net->xbatch, &y);
        if (s == BD_OK)
            fn(ud, ds, bd_f32(y), start, n);
    }
    bd__net_unread_end(net, unread);
    net->training = mode;
    return s;
}

/* ---- regression */

typedef struct reg_acc {
    int K;
    double sse[BD_MAX_TARGETS], sae[BD_MAX_TARGETS], s1[BD_MAX_TARGETS], s2[BD_MAX_TARGETS];
} reg_acc;

static void reg_batch(void *ud, const bd_dataset *ds, const float *y, int start, int n)
{
    reg_acc *a = ud;
    const float *t = bd_f32(&ds->t) + (size_t)start * a->K;
    for (int r = 0; r < n; r++)
        for (int k = 0; k < a->K; k++) {
            /* back to the target's units: value = standardised * std + mean */
            double m = ds->t_standardized ? ds->t_mean[k] : 0.0;
            double sd = ds->t_standardized ? ds->t_std[k] : 1.0;
            double p = y[(size_t)r * a->K + k] * sd + m, v = t[(size_t)r * a->K + k] * sd + m;
            a->sse[k] += (p - v) * (p - v);
            a->sae[k] += fabs(p - v);
            a->s1[k] += v;
            a->s2[k] += v * v;
        }
}

bd_status bd_regress_metrics(bd_net *net, const bd_dataset *ds, bd_regress_metrics_t *m)
{
    if (!net || !ds || !m)
        return bd_error(BD_ERR_ARG, "bd_regress_metrics: %s is NULL",
                        !net ? "net" : !ds ? "ds" : "m");
    memset(m, 0, sizeof *m);
    if (ds->task != BD_TASK_REGRESS || !ds->t.data)
        return bd_error(BD_ERR_ARG, "%s: not a regression data set", ds->name);
    reg_acc a;
    memset(&a, 0, sizeof a);
    a.K = ds->t.shape[1];
    if (a.K > BD_MAX_TARGETS || a.K != net->out_size)
        return bd_error(BD_ERR_SHAPE, "%s: %d targets, network output is %d", ds->name, a.K,
                        net->out_size);
    BD_TRY(for_batches(net, ds, reg_batch, &a));
    double sse = 0.0, sae = 0.0, r2 = 0.0;
    for (int k = 0; k < a.K; k++) {
        double sst = a.s2[k] - a.s1[k] * a.s1[k] / ds->n;
        m->rmse_k[k] = (float)sqrt(a.sse[k] / ds->n);
        m->mae_k[k] = (float)(a.sae[k] / ds->n);
        m->r2_k[k] = (float)(sst > 0 ? 1.0 - a.sse[k] / sst : 0.0);
        sse += a.sse[k];
        sae += a.sae[k];
        r2 += m->r2_k[k];
    }
    m->k = a.K;
    m->rmse = (float)sqrt(sse / ((double)ds->n * a.K));
    m->mae = (float)(sae / ((double)ds->n * a.K));
    m->r2 = (float)(r2 / a.K);
    return BD_OK;
}

/* ---- multi-label */

typedef struct ml_acc {
    int K;
    float logit_thr;  /* threshold on the logit: log(p / (1 - p)) */
    long tp[BD_MAX_TARGETS], fp[BD_MAX_TARGETS], fn[BD_MAX_TARGETS];
    long exact;
} ml_acc;

static void ml_batch(void *ud, const bd_dataset *ds, const float *y, int start, int n)
{
    ml_acc *a = ud;
    const float *t = bd_f32(&ds->t) + (size_t)start * a->K;
    for (int r = 0; r < n; r++) {
        int all = 1;
        for (int k = 0; k < a->K; k++) {
            int p = y[(size_t)r * a->K + k] > a->logit_thr, v = t[(size_t)r * a->K + k] > 0.5f;
            a->tp[k] += p && v;
            a->fp[k] += p && !v;
            a->fn[k] += !p && v;
            all &= p == v;
        }
        a->exact += all;
    }
}

bd_status bd_multilabel_metrics(bd_net *net, const bd_dataset *ds, float threshold,
                                bd_multilabel_metrics_t *m)
{
    if (!net || !ds || !m)
        return bd_error(BD_ERR_ARG, "bd_multilabel_metrics: %s is NULL",
                        !net ? "net" : !ds ? "ds" : "m");
    memset(m, 0, sizeof *m);
    if (ds->task != BD_TASK_MULTILABEL || !ds->t.data)
        return bd_error(BD_ERR_ARG, "%s: not a multi-label data set", ds->name);
    if (!(threshold > 0.0f && threshold < 1.0f))
        return bd_error(BD_ERR_ARG, "threshold %g not in (0, 1)", (double)threshold);
    ml_acc a;
    memset(&a, 0, sizeof a);
    a.K = ds->t.shape[1];
    if (a.K > BD_MAX_TARGETS || a.K != net->out_size)
        return bd_error(BD_ERR_SHAPE, "%s: %d labels, network output is %d", ds->name, a.K,
                        net->out_size);
    a.logit_thr = logf(threshold / (1.0f - threshold));
    BD_TRY(for_batches(net, ds, ml_batch, &a));
    double f1 = 0.0;
    for (int k = 0; k < a.K; k++) {
        /* no positive prediction (or none to find): precision (recall) is 1 */
        double p = a.tp[k] + a.fp[k] ? (double)a.tp[k] / (a.tp[k] + a.fp[k]) : 1.0;
        double rc = a.tp[k] + a.fn[k] ? (double)a.tp[k] / (a.tp[k] + a.fn[k]) : 1.0;
        m->precision[k] = (float)p;
        m->recall[k] = (float)rc;
        m->f1[k] = (float)(p + rc > 0 ? 2 * p * rc / (p + rc) : 0.0);
        f1 += m->f1[k];
    }
    m->k = a.K;
    m->exact_match = (float)((double)a.exact / ds->n);
    m->f1_macro = (float)(f1 / a.K);
    return BD_OK;
}

/* ---- classification: confusion matrix */

typedef struct conf_acc {
    int C;
    long *m;
} conf_acc;

static void conf_batch(void *ud, const bd_dataset *ds, const float *y, int start, int n)
{
    conf_acc *a = ud;
    const int32_t *t = bd_i32(&ds->y) + start;
    for (int r = 0; r < n; r++) {
        int best = 0;
        for (int k = 1; k < a->C; k++)
            if (y[(size_t)r * a->C + k] > y[(size_t)r * a->C + best])
                best = k;
        if (t[r] >= 0 && t[r] < a->C)
            a->m[(size_t)t[r] * a->C + best]++;
    }
}

typedef struct conf1_acc {
    long *m;
} conf1_acc;

/* one output unit (sigmoid + BCE): class 1 when the logit is > 0 */
static void conf1_batch(void *ud, const bd_dataset *ds, const float *y, int start, int n)
{
    conf1_acc *a = ud;
    const int32_t *t = bd_i32(&ds->y) + start;
    for (int r = 0; r < n; r++)
        if (t[r] == 0 || t[r] == 1)
            a->m[t[r] * 2 + (y[r] > 0.0f)]++;
}

bd_status bd_confusion(bd_net *net, const bd_dataset *ds, long *matrix, int classes)
{
    if (!net || !ds || !matrix)
        return bd_error(BD_ERR_ARG, "bd_confusion: %s is NULL",
                        !net ? "net" : !ds ? "ds" : "matrix");
    if (ds->task != BD_TASK_CLASSIFY)
        return bd_error(BD_ERR_ARG, "%s: a confusion matrix is for classification", ds->name);
    int C = net->out_size == 1 ? 2 : net->out_size;
    if (classes != C)
        return bd_error(BD_ERR_SHAPE, "confusion matrix of %d classes for a network of %d",
                        classes, C);
    memset(matrix, 0, (size_t)C * C * sizeof *matrix);
    if (net->out_size == 1) {
        conf1_acc a = {matrix};
        return for_batches(net, ds, conf1_batch, &a);
    }
    conf_acc a = {C, matrix};
    return for_batches(net, ds, conf_batch, &a);
}
