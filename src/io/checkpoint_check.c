/* checkpoint_check.c — what a checkpoint says about the optimizer and the
 * trainer is untrusted input: a resumed run would otherwise "train" on NaN
 * moments or an eps of 1e20 and report success. Everything read is checked
 * against the ranges `badak train` enforces for the same options
 * (bd__optim_ranges, shared with the CLI), and the state against what the
 * optimizer can have produced. */
#include "internal.h"
#include "io/st.h"

#include <math.h>
#include <stdio.h>

/* The ranges of the optimizer hyperparameters: the CLI's --lr, --momentum,
 * --beta1, --beta2, --decay, --eps. 0 means "the optimizer's default" and is
 * always allowed; a field the optimizer does not use is ignored by it. */
const bd__range bd__optim_ranges[] = {
    {"lr", 1e-12, 1e6},     {"momentum", 1e-9, 0.999999}, {"beta1", 1e-9, 0.999999},
    {"beta2", 1e-9, 0.999999}, {"decay", 1e-9, 0.999999}, {"eps", 1e-30, 1},
    {NULL, 0, 0},
};

static bd_status in_range(const char *f, const char *name, double v)
{
    for (const bd__range *r = bd__optim_ranges; r->name; r++)
        if (!strcmp(r->name, name)) {
            if (!isfinite(v) || v < r->lo || v > r->hi)
                return bd_error(BD_ERR_FORMAT, "%s: optimizer %s %g is outside %g..%g (the "
                                "range of bd_optim_config.%s)", f, name, v, r->lo, r->hi,
                                name);
            return BD_OK;
        }
    return BD_OK;
}

/* The first element of x[0..n) that is not finite (or negative, when
 * nonneg), or n. */
static size_t first_bad(const float *x, size_t n, int nonneg)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]) || (nonneg && x[i] < 0.0f))
            return i;
    return n;
}

bd_status bd__checkpoint_check(const char *f, const bd_net *net, const bd_optim *opt,
                               const bd_train_pos *pos)
{
    const bd_optim_config *c = &opt->cfg;
    BD_TRY(in_range(f, "lr", c->lr));
    /* defaults were filled in by bd_optim_create, so these are the values in use */
    if (c->momentum != 0.0f)
        BD_TRY(in_range(f, "momentum", c->momentum));
    if (c->beta1 != 0.0f)
        BD_TRY(in_range(f, "beta1", c->beta1));
    if (c->beta2 != 0.0f)
        BD_TRY(in_range(f, "beta2", c->beta2));
    if (c->decay != 0.0f)
        BD_TRY(in_range(f, "decay", c->decay));
    if (c->eps != 0.0f)
        BD_TRY(in_range(f, "eps", c->eps));
    BD_TRY(in_range(f, "lr", pos->lr));
    /* one optimizer step per iteration: Adam's bias correction divides by
     * 1 - beta^t, which t = 0 after some steps makes a division by zero */
    if (opt->t < 0 || opt->t > pos->iter || (pos->iter > 0 && opt->t == 0))
        return bd_error(BD_ERR_FORMAT, "%s: optimizer step count t = %ld for a run %ld "
                        "iterations in (must be 1..%ld)", f, opt->t, pos->iter,
                        pos->iter > 0 ? pos->iter : 0);
    const char *name = opt->ops->name;
    for (int i = 0; i < 2; i++) {
        if (!opt->state[i].data)
            continue;
        /* squared-gradient averages: Adam's v (state1), AdaGrad's and
         * RMSprop's h (state0) are never negative */
        int nonneg = (i == 1 && !strcmp(name, "adam")) ||
                     (i == 0 && (!strcmp(name, "adagrad") || !strcmp(name, "rmsprop")));
        size_t n = opt->state[i].size, b = first_bad(bd_f32(&opt->state[i]), n, nonneg);
        if (b < n)
            return bd_error(BD_ERR_FORMAT, "%s: optim.state%d[%zu] is %g: %s state must be "
                            "finite%s", f, i, b, (double)bd_f32(&opt->state[i])[b], name,
                            nonneg ? " and >= 0 (a mean of squares)" : "");
    }
    size_t n = net->params.size, b = first_bad(bd_f32(&net->params), n, 0);
    if (b < n)
        return bd_error(BD_ERR_FORMAT, "%s: weight %zu is %g: weights must be finite", f, b,
                        (double)bd_f32(&net->params)[b]);
    if (!isfinite(pos->epoch_loss) || pos->epoch_loss < 0 || pos->epoch_iters > pos->iter)
        return bd_error(BD_ERR_FORMAT, "%s: the epoch's loss so far (%g over %ld iterations) "
                        "is not one a run can have", f, pos->epoch_loss, pos->epoch_iters);
    return BD_OK;
}

/* A model file's metadata is shown by `badak info` and used by `eval`: it
 * must be possible (accuracies in [0, 1], a rate in --lr's range, the
 * parameter count the network has), or the file is refused, naming the key. */
bd_status bd__model_meta_check(const char *f, const bd__st *st, const bd_net *net,
                               const bd_model_meta *m)
{
    if (m->test_acc != -1.0f && !(m->test_acc >= 0.0f && m->test_acc <= 1.0f))
        return bd_error(BD_ERR_FORMAT, "%s: badak.test_accuracy %g is not an accuracy (0..1)",
                        f, (double)m->test_acc);
    if (m->train_acc != -1.0f && !(m->train_acc >= 0.0f && m->train_acc <= 1.0f))
        return bd_error(BD_ERR_FORMAT, "%s: badak.train_accuracy %g is not an accuracy (0..1)",
                        f, (double)m->train_acc);
    if (bd__st_meta(st, "badak.lr") && in_range(f, "lr", m->lr) != BD_OK)
        return bd_error(BD_ERR_FORMAT, "%s: badak.lr %g is outside the range of lr %g..%g", f,
                        (double)m->lr, bd__optim_ranges[0].lo, bd__optim_ranges[0].hi);
    if (bd__st_meta(st, "badak.parameters")) {
        long n;
        BD_TRY(bd__meta_get_long(st, "badak.parameters", 0, INT64_MAX, &n));
        if ((size_t)n != bd_net_param_count(net))
            return bd_error(BD_ERR_FORMAT, "%s: badak.parameters says %ld but the network has "
                            "%zu", f, n, bd_net_param_count(net));
    }
    return BD_OK;
}
