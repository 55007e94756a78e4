/* evaluate.c — accuracy (book 4.5, TwoLayerNet.accuracy) over a whole data
 * set, in chunks of the rows the network has reserved. */
#include "internal.h"

#include <math.h>

/* argmax over C classes of each row of y [B,C]; counts matches with labels.
 * One output unit (sigmoid + BCE) predicts class 1 when its logit is > 0. */
static int count_correct(const float *y, const int32_t *t, int B, int C)
{
    int ok = 0;
    if (C == 1) {
        for (int r = 0; r < B; r++)
            ok += (y[r] > 0.0f) == (t[r] == 1);
        return ok;
    }
    for (int r = 0; r < B; r++) {
        const float *row = y + (size_t)r * C;
        int best = 0;
        for (int k = 1; k < C; k++)
            if (row[k] > row[best])
                best = k;
        ok += best == t[r];
    }
    return ok;
}

/* every label of samples [start, start + n) a class of a C-output network */
static bd_status check_labels(const bd_dataset *ds, int start, int n, int C)
{
    const int32_t *t = bd_i32(&ds->y) + start;
    const int top = C == 1 ? 1 : C - 1;
    for (int r = 0; r < n; r++)
        if (t[r] < 0 || t[r] > top)
            return bd_error(BD_ERR_SHAPE, "%s: label %d of sample %d outside 0..%d", ds->name,
                            t[r], start + r, top);
    return BD_OK;
}

/* The count on the parts (bd__net_eval_rows): part p converts its rows of
 * the set and counts its right answers into correct[p]. */
typedef struct part_count {
    const bd_dataset *ds;
    int lo; /* the pass's first sample */
    int C;
    long correct[BD__MAX_PARTS];
} part_count;

static bd_status fill_part(void *ctx, int p, int start, int k, float *x)
{
    (void)p;
    const part_count *c = ctx;
    bd__dataset_rows(c->ds, c->lo + start, k, x);
    return BD_OK;
}

static bd_status take_part(void *ctx, int p, int start, int k, const float *y)
{
    part_count *c = ctx;
    c->correct[p] += count_correct(y, bd_i32(&c->ds->y) + c->lo + start, k, c->C);
    return BD_OK;
}

/* samples [lo, hi) of ds through the parts: the number right */
static bd_status count_rows(bd_net *net, const bd_dataset *ds, int lo, int hi, long *correct)
{
    part_count c = {.ds = ds, .lo = lo, .C = net->out_size};
    const bd__rows_feed f = {fill_part, take_part, &c};
    BD_TRY(bd__net_eval_rows(net, hi - lo, &f));
    for (int p = 0; p < BD__MAX_PARTS; p++)
        *correct += c.correct[p];
    return BD_OK;
}

/* Regression and multi-label sets: the loss against the float targets, and
 * as "accuracy" R² (regression: 1 - SSE / SST over every target, in the
 * standardised units the network is trained in) or the exact-match rate
 * (multi-label: every output's logit > 0 agrees with its 0/1 flag). */
static bd_status eval_targets(bd_net *net, const bd_dataset *ds, float *accuracy, float *loss)
{
    const int K = ds->t.shape[1];
    if (K != net->out_size)
        return bd_error(BD_ERR_SHAPE, "%s: %d targets, network output is %d", ds->name, K,
                        net->out_size);
    float *tb = malloc((size_t)net->max_batch * K * sizeof *tb);
    if (!tb)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory evaluating", ds->name);
    double sse = 0.0, total_loss = 0.0, s1 = 0.0, s2 = 0.0;
    long exact = 0;
    bd_status s = BD_OK;
    for (int start = 0; s == BD_OK && start < ds->n; start += net->max_batch) {
        int n = BD_MIN(net->max_batch, ds->n - start);
        s = bd_dataset_slice(ds, start, n, &net->xbatch, NULL);
        if (s == BD_OK)
            s = bd__dataset_targets(ds, NULL, start, n, tb);
        float l = 0.0f;
        if (s == BD_OK)
            s = bd_net_loss(net, &net->xbatch, (bd_labels){NULL, tb}, &l);
        if (s != BD_OK)
            break;
        total_loss += (double)l * n;
        const float *y = bd_f32(&net->layers[net->nlayers - 1].out);
        for (int r = 0; r < n; r++) {
            int all = 1;
            for (int k = 0; k < K; k++) {
                double t = tb[(size_t)r * K + k], d = y[(size_t)r * K + k] - t;
                sse += d * d;
                s1 += t;
                s2 += t * t;
                all &= (y[(size_t)r * K + k] > 0.0f) == (t > 0.5);
            }
            exact += all;
        }
    }
    free(tb);
    if (s != BD_OK)
        return s;
    double cnt = (double)ds->n * K, sst = s2 - s1 * s1 / cnt;
    if (accuracy)
        *accuracy = ds->task == BD_TASK_MULTILABEL ? (float)((double)exact / ds->n)
                                                   : (float)(sst > 0 ? 1.0 - sse / sst : 0.0);
    if (loss)
        *loss = (float)(total_loss / ds->n);
    return BD_OK;
}

/* samples [lo, hi) of ds in chunks of the reserved rows on the per-layer
 * split: the number right and, with with_loss, the sum of the per-row
 * losses (each chunk's mean loss times its rows) */
static bd_status count_chunks(bd_net *net, const bd_dataset *ds, int lo, int hi, int with_loss,
                              long *correct, double *total_loss)
{
    for (int start = lo; start < hi; start += net->max_batch) {
        int n = BD_MIN(net->max_batch, hi - start);
        BD_TRY(bd_dataset_slice(ds, start, n, &net->xbatch, &net->ybatch));
        bd_labels t = {bd_i32(&net->ybatch), NULL};
        if (with_loss) {
            float l;
            BD_TRY(bd_net_loss(net, &net->xbatch, t, &l));
            *total_loss += (double)l * n;
            *correct += count_correct(bd_f32(&net->layers[net->nlayers - 1].out), t.idx, n,
                                     net->out_size);
        } else {
            const bd_tensor *y;
            BD_TRY(bd_net_forward(net, &net->xbatch, &y));
            BD_TRY(check_labels(ds, start, n, net->out_size));
            *correct += count_correct(bd_f32(y), t.idx, n, net->out_size);
        }
    }
    return BD_OK;
}

/* Rows [lo, hi) of ds through the network: the number right and, with
 * with_loss, the sum of the per-row losses. A network whose every layer has
 * `rows` counts on the parts (one pool loop per round of chunks), others
 * in chunks of its reserved rows. */
static bd_status eval_loop(bd_net *net, const bd_dataset *ds, int lo, int hi, int with_loss,
                           bd_eval_sums *out)
{
    memset(out, 0, sizeof *out);
    if (ds->n < 1)
        return bd_error(BD_ERR_ARG, "%s: empty data set", ds->name);
    if (lo < 0 || hi > ds->n || lo > hi)
        return bd_error(BD_ERR_ARG, "%s: rows [%d, %d) outside the %d samples", ds->name, lo,
                        hi, ds->n);
    if ((size_t)ds->x.size / (size_t)ds->n != (size_t)net->in_size)
        return bd_error(BD_ERR_SHAPE, "%s: samples of %zu features, network takes %d",
                        ds->name, ds->x.size / (size_t)ds->n, net->in_size);
    if (net->max_batch < 1)
        BD_TRY(bd_net_reserve(net, 100));
    if (ds->task != BD_TASK_CLASSIFY)
        return bd_error(BD_ERR_ARG, "%s: counting right answers is for class labels; "
                        "regression and multi-label sets are evaluated whole (bd_evaluate)",
                        ds->name);
    long correct = 0;
    double total_loss = 0.0;
    if (!with_loss && bd__net_rows_applies(net, net->max_batch)) {
        BD_TRY(check_labels(ds, lo, hi - lo, net->out_size));
        BD_TRY(count_rows(net, ds, lo, hi, &correct));
    } else
        BD_TRY(count_chunks(net, ds, lo, hi, with_loss, &correct, &total_loss));
    out->n = hi - lo;
    out->correct = correct;
    out->loss_sum = total_loss;
    return BD_OK;
}

/* Evaluation mode for the duration (Dropout off, BatchNorm running stats),
 * then back to the mode the caller had. */
bd_status bd_evaluate_range(bd_net *net, const bd_dataset *ds, int lo, int hi, int with_loss,
                            bd_eval_sums *out)
{
    if (!net || !ds || !out)
        return bd_error(BD_ERR_ARG, "bd_evaluate_range: %s is NULL",
                        !net ? "the network" : !ds ? "the data set" : "the result");
    int mode = net->training;
    net->training = 0;
    const int unread = bd__net_unread_begin(net); /* the logits are all it reads */
    bd_status s = eval_loop(net, ds, lo, hi, with_loss, out);
    bd__net_unread_end(net, unread);
    net->training = mode;
    return s;
}

bd_status bd_evaluate(bd_net *net, const bd_dataset *ds, float *accuracy, float *loss)
{
    if (!net || !ds)
        return bd_error(BD_ERR_ARG, "bd_evaluate: %s is NULL",
                        !net ? "the network" : "the data set");
    if (ds->task != BD_TASK_CLASSIFY) {
        int mode = net->training;
        net->training = 0;
        bd_status s = BD_OK;
        if (ds->n < 1)
            s = bd_error(BD_ERR_ARG, "%s: empty data set", ds->name);
        else if ((size_t)ds->x.size / (size_t)ds->n != (size_t)net->in_size)
            s = bd_error(BD_ERR_SHAPE, "%s: samples of %zu features, network takes %d",
                         ds->name, ds->x.size / (size_t)ds->n, net->in_size);
        else if (net->max_batch < 1)
            s = bd_net_reserve(net, 100);
        if (s == BD_OK)
            s = eval_targets(net, ds, accuracy, loss);
        net->training = mode;
        return s;
    }
    bd_eval_sums e;
    BD_TRY(bd_evaluate_range(net, ds, 0, ds->n, loss != NULL, &e));
    if (accuracy)
        *accuracy = (float)((double)e.correct / ds->n);
    if (loss)
        *loss = (float)(e.loss_sum / ds->n);
    return BD_OK;
}
