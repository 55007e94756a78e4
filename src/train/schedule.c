/* schedule.c — learning-rate schedules, applied at each epoch's start. */
#include "internal.h"

#include <math.h>
#include <strings.h>

static const char *const NAMES[] = {"constant", "step", "exp", "cosine", "adaptive",
                                    "onecycle"};

bd_status bd_parse_schedule(const char *s, bd_lr_schedule *out)
{
    if (!s || !out)
        return bd_error(BD_ERR_ARG, "bd_parse_schedule: %s is NULL", !s ? "s" : "out");
    for (int i = 0; i < (int)(sizeof NAMES / sizeof NAMES[0]); i++)
        if (strcasecmp(s, NAMES[i]) == 0) {
            *out = (bd_lr_schedule)i;
            return BD_OK;
        }
    return bd_error(BD_ERR_ARG,
                    "unknown learning-rate schedule '%s' (expected constant, step, exp, "
                    "cosine, adaptive or onecycle)", s);
}

const char *bd_schedule_name(bd_lr_schedule s)
{
    return (int)s >= 0 && (int)s < (int)(sizeof NAMES / sizeof NAMES[0]) ? NAMES[s] : "?";
}

float bd_lr_at(bd_lr_schedule s, float lr0, int e, int E, int step, float gamma)
{
    switch (s) {
    case BD_LR_STEP:
        return lr0 * powf(gamma, (float)(e / (step > 0 ? step : 1)));
    case BD_LR_EXP:
        return lr0 * powf(gamma, (float)e);
    case BD_LR_COSINE:
        return 0.5f * lr0 * (1.0f + cosf(3.14159265f * (float)e / (float)(E > 0 ? E : 1)));
    case BD_LR_ONECYCLE: /* per iteration: bd_lr_onecycle */
    case BD_LR_CONSTANT:
    case BD_LR_ADAPTIVE: /* decided by the trainer from the losses */
        break;
    }
    return lr0;
}

/* Warm up linearly from lr0/25 to lr0 over the first warmup·total
 * iterations, then anneal along half a cosine to 0 (the last step keeps a
 * small positive rate). */
float bd_lr_onecycle(float lr0, long it, long total, float warmup)
{
    if (!(warmup > 0.0f && warmup < 1.0f))
        warmup = 0.15f;
    if (total < 1)
        total = 1;
    const double w = warmup * (double)total;
    if ((double)it < w)
        return (float)(lr0 * (1.0 / 25.0 + (1.0 - 1.0 / 25.0) * (double)it / w));
    const double t = ((double)it - w + 1.0) / ((double)total - w + 1.0);
    return (float)(0.5 * lr0 * (1.0 + cos(3.14159265358979 * t)));
}
