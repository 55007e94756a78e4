/* layerlog.c — what each layer is doing while a network trains: the norm of
 * its parameters' gradient and the statistics of its output, per layer,
 * every few steps (bd_train_config.layer_log; `badak train --log-layers`).
 *
 * Seed 002 (unit 2, "DNN problem & solution"): backpropagation carries the
 * error gradient from the output layer down to the input layer, and in a
 * deep network the gradient can shrink layer by layer (vanishing) or grow
 * (exploding). The per-layer gradient norms make that visible: with a deep
 * sigmoid MLP the first Affine's norm is orders of magnitude below the
 * last's (σ'(x) <= 1/4 at every layer, book 5.5.2). The activation
 * statistics show saturation (a sigmoid's std near 0, its outputs pinned at
 * 0 or 1) and dead ReLUs (the fraction of exact zeros), as the book's
 * weight-initialisation histograms do (6.2.2).
 *
 * The log only reads: the gradient block and the layers' outputs of the
 * step's forward pass, between backward and the update. It allocates
 * nothing after it is opened (a few doubles on the stack per layer, rows
 * written through the stream opened before the loop), so a run with it is
 * the same run, bit for bit, as one without. */
#include "internal.h"

#include <math.h>
#include <stdio.h>

/* ------------------------------------------------------------- statistics */

/* √Σ v² over n floats, summed in double */
static double norm2(const float *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return sqrt(s);
}

/* Mean, population std, min, max and the fraction of exact zeros of y [n]
 * (two passes: the mean first, then Σ (y - mean)², which keeps the std
 * accurate when the mean is large against the spread, as for a saturated
 * sigmoid). */
static void act_stats(const float *y, size_t n, bd_layer_stats *st)
{
    double sum = 0.0, lo = INFINITY, hi = -INFINITY;
    size_t zeros = 0;
    for (size_t i = 0; i < n; i++) {
        const double v = y[i];
        sum += v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        zeros += y[i] == 0.0f;
    }
    const double mean = sum / (double)n;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double d = (double)y[i] - mean;
        ss += d * d;
    }
    st->act_mean = mean;
    st->act_std = sqrt(ss / (double)n);
    st->act_min = lo;
    st->act_max = hi;
    st->act_zero_frac = (double)zeros / (double)n;
}

bd_status bd_net_layer_stats(const bd_net *net, int i, bd_layer_stats *st)
{
    if (!net || !st)
        return bd_error(BD_ERR_ARG, "bd_net_layer_stats: %s is NULL", !net ? "the network" : "st");
    if (!net->built)
        return bd_error(BD_ERR_ARG, "bd_net_layer_stats: the network is not built");
    if (i < 0 || i >= net->nlayers)
        return bd_error(BD_ERR_ARG, "bd_net_layer_stats: layer %d not in 0..%d", i,
                        net->nlayers - 1);
    const bd_layer *l = &net->layers[i];
    memset(st, 0, sizeof *st);
    st->params = l->param_count;
    st->grad_norm = st->weight_norm = -1.0;
    if (l->param_count) {
        st->weight_norm = norm2(bd_f32(&net->params) + l->param_offset, l->param_count);
        /* a frozen layer gets no gradient (backward stops above it); an
         * inference-only network has no gradient block */
        if (i >= net->frozen && net->grads.data)
            st->grad_norm = norm2(bd_f32(&net->grads) + l->param_offset, l->param_count);
    }
    /* out is [B, out_size] of the last forward (a fused ReLU's is a view of
     * its conv's, which then holds the ReLU's output) */
    const int written = l->out.ndim >= 1 && l->out.data && !bd__layer_out_stale(net, i);
    st->rows = written ? l->out.shape[0] : 0;
    if (st->rows > 0 && l->out.size > 0)
        act_stats(bd_f32(&l->out), l->out.size, st);
    return BD_OK;
}

/* -------------------------------------------------------------- the log */

#define LAYER_LOG_HEADER                                                                  \
    "iter,epoch,layer,kind,params,grad_norm,weight_norm,act_mean,act_std,act_zero_frac," \
    "act_min,act_max\n"

bd_status bd__layer_log_open(bd__layer_log *lg, const char *path, long every)
{
    memset(lg, 0, sizeof *lg);
    if (!path)
        return BD_OK;
    if (every < 0)
        return bd_error(BD_ERR_ARG, "layer log: every %ld steps (expected >= 1, 0: the default "
                        "%d)", every, BD_LAYER_LOG_EVERY);
    BD_TRY(bd__afile_open(&lg->af, path, "layer log"));
    lg->open = 1;
    lg->every = every > 0 ? every : BD_LAYER_LOG_EVERY;
    fputs(LAYER_LOG_HEADER, lg->af.f);
    return BD_OK;
}

int bd__layer_log_due(const bd__layer_log *lg, long iter, int epoch_end)
{
    return lg->open && (iter == 1 || iter % lg->every == 0 || epoch_end);
}

/* one number of a row; -1 (none) as an empty field */
static void field(FILE *f, double v)
{
    if (v < 0)
        fputs(",", f);
    else
        fprintf(f, ",%.6g", v);
}

void bd__layer_log_write(bd__layer_log *lg, const bd_net *net, long iter, int epoch)
{
    if (!lg->open)
        return;
    FILE *f = lg->af.f;
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer *l = &net->layers[i];
        bd_layer_stats st;
        if (bd_net_layer_stats(net, i, &st) != BD_OK)
            continue;
        fprintf(f, "%ld,%d,%s,%s,%zu", iter, epoch, l->name, bd_layer_kind_name(l->kind),
                st.params);
        field(f, st.grad_norm);
        field(f, st.weight_norm);
        if (st.rows > 0)
            fprintf(f, ",%.6g,%.6g,%.6g,%.6g,%.6g\n", st.act_mean, st.act_std,
                    st.act_zero_frac, st.act_min, st.act_max);
        else
            fputs(",,,,,\n", f);
    }
}

bd_status bd__layer_log_close(bd__layer_log *lg, bd_status s)
{
    if (!lg->open)
        return s;
    lg->open = 0;
    bd_status c = bd__afile_commit(&lg->af);
    return s == BD_OK ? c : s;
}
