/* checkpoint_check.c — what a checkpoint says about the optimizer and the
 * trainer is untrusted input: a resumed run would otherwise "train" on NaN
 * moments or an eps of 1e20 and report success. Everything read is checked
 * against the ranges `badak train` enforces for the same options
 * (bd__optim_ranges, shared with the CLI), and the state against what the
 * optimizer can have produced. */
#include "internal.h"

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
                                "range of --%s)", f, name, v, r->lo, r->hi, name);
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
