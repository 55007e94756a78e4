/* schedule.c — learning-rate schedules, applied at each epoch's start. */
#include "internal.h"

#include <math.h>
#include <strings.h>

static const char *const NAMES[] = {"constant", "step", "exp", "cosine", "adaptive"};

bd_status bd_parse_schedule(const char *s, bd_lr_schedule *out)
{
    for (int i = 0; i < (int)(sizeof NAMES / sizeof NAMES[0]); i++)
        if (strcasecmp(s, NAMES[i]) == 0) {
            *out = (bd_lr_schedule)i;
            return BD_OK;
        }
    return bd_error(BD_ERR_ARG,
                    "unknown learning-rate schedule '%s' (expected constant, step, exp, "
                    "cosine or adaptive)", s);
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
    case BD_LR_CONSTANT:
    case BD_LR_ADAPTIVE: /* decided by the trainer from the losses */
        break;
    }
    return lr0;
}
