/* layer_check.c — the one validation of each layer kind's hyperparameters
 * (p0, p1 after the kind's defaults are filled in). Each op row points at
 * its check (`bd_layer_op.check`), and every path that makes a layer goes
 * through it: bd_net_add_layer (the API, presets, network files, model
 * files) and the CLI's --activation (bd_parse_act). */
#include "internal.h"

#include <math.h>

bd_status bd__check_dropout(const char *who, float p, float unused)
{
    if (!(p >= 0.0f && p < 1.0f)) /* p = 1 drops everything: 1 / (1 - p) is inf */
        return bd_error(BD_ERR_ARG, "%s: dropout p %g must be in [0, 1)", who, (double)p);
    return BD_OK;
}

bd_status bd__check_rrelu(const char *who, float lo, float hi)
{
    if (!(lo >= 0.0f && hi > lo && hi <= 1.0f))
        return bd_error(BD_ERR_ARG, "%s: rrelu lower %g, upper %g: need 0 <= lower < upper <= 1",
                        who, (double)lo, (double)hi);
    return BD_OK;
}

bd_status bd__check_slope(const char *who, float s, float unused)
{
    if (!(s >= 0.0f && s <= 1.0f))
        return bd_error(BD_ERR_ARG, "%s: slope %g must be in [0, 1]", who, (double)s);
    return BD_OK;
}

bd_status bd__check_elu(const char *who, float alpha, float unused)
{
    if (!(alpha > 0.0f && alpha <= 100.0f))
        return bd_error(BD_ERR_ARG, "%s: elu alpha %g must be in (0, 100]", who, (double)alpha);
    return BD_OK;
}

bd_status bd__check_batchnorm(const char *who, float momentum, float eps)
{
    if (!(momentum > 0.0f && momentum < 1.0f))
        return bd_error(BD_ERR_ARG, "%s: batchnorm momentum %g must be in (0, 1)", who,
                        (double)momentum);
    if (!(eps > 0.0f && eps <= 1.0f))
        return bd_error(BD_ERR_ARG, "%s: batchnorm eps %g must be in (0, 1]", who, (double)eps);
    return BD_OK;
}

bd_status bd__layer_check(const bd_layer_op *op, const char *who, float p0, float p1)
{
    if (!isfinite(p0) || !isfinite(p1))
        return bd_error(BD_ERR_ARG, "%s: hyperparameters must be finite", who);
    return op->check ? op->check(who, p0 != 0.0f ? p0 : op->def_p0, p1 != 0.0f ? p1 : op->def_p1)
                     : BD_OK;
}
