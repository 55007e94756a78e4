/* model_inputs.c — the metadata that tells `badak predict` how the model's
 * inputs were made: per-channel normalisation (badak.norm_mean and
 * badak.norm_std, "0.4914,0.4822,0.4465", one value per channel) and the
 * class names (badak.classes, one a line, as the data set gave them). */
#include "internal.h"
#include "st.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

/* "v0,v1,..." of n floats */
static bd_status put_list(cJSON *m, const char *key, const float *v, int n)
{
    char buf[BD_MAX_TARGETS * 20];
    size_t o = 0;
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%.9g", i ? "," : "", (double)v[i]);
    return bd__meta_str(m, key, buf);
}

bd_status bd__meta_put_inputs(cJSON *m, const bd_model_meta *meta)
{
    if (meta->norm_c > 0) {
        BD_TRY(put_list(m, "badak.norm_mean", meta->norm_mean, meta->norm_c));
        BD_TRY(put_list(m, "badak.norm_std", meta->norm_std, meta->norm_c));
    }
    if (meta->classes[0])
        BD_TRY(bd__meta_str(m, "badak.classes", meta->classes));
    if (meta->task == BD_TASK_REGRESS)
        BD_TRY(bd__meta_str(m, "badak.task", "regress"));
    if (meta->task == BD_TASK_MULTILABEL) {
        BD_TRY(bd__meta_str(m, "badak.task", "multilabel"));
        BD_TRY(bd__meta_fmt(m, "badak.threshold", "%.9g", (double)meta->threshold));
    }
    if (meta->target_n > 0) {
        BD_TRY(put_list(m, "badak.target_mean", meta->target_mean, meta->target_n));
        BD_TRY(put_list(m, "badak.target_std", meta->target_std, meta->target_n));
    }
    return BD_OK;
}

/* Parse "v0,v1,..." into v; returns the count, or -1 if malformed. */
static int get_list(const char *s, float *v, int max)
{
    int n = 0;
    for (;;) {
        char *end;
        errno = 0;
        double x = strtod(s, &end);
        if (end == s || errno || !isfinite(x) || n == max)
            return -1;
        v[n++] = (float)x;
        if (*end == 0)
            return n;
        if (*end != ',')
            return -1;
        s = end + 1;
    }
}

bd_status bd__meta_get_inputs(const bd__st *st, bd_model_meta *meta)
{
    const char *mean = bd__st_meta(st, "badak.norm_mean");
    const char *sd = bd__st_meta(st, "badak.norm_std");
    if (mean || sd) {
        int a = mean ? get_list(mean, meta->norm_mean, BD_NORM_MAXC) : -1;
        int b = sd ? get_list(sd, meta->norm_std, BD_NORM_MAXC) : -1;
        if (a < 1 || a != b)
            return bd_error(BD_ERR_FORMAT, "%s: badak.norm_mean / badak.norm_std: \"%.60s\" / "
                            "\"%.60s\" are not two lists of as many numbers",
                            st->origin, mean ? mean : "", sd ? sd : "");
        for (int i = 0; i < b; i++)
            if (!(meta->norm_std[i] > 0.0f))
                return bd_error(BD_ERR_FORMAT, "%s: badak.norm_std: channel %d has std %g",
                                st->origin, i, (double)meta->norm_std[i]);
        meta->norm_c = a;
    }
    const char *cl = bd__st_meta(st, "badak.classes");
    if (cl) {
        if (strlen(cl) >= sizeof meta->classes)
            return bd_error(BD_ERR_FORMAT, "%s: badak.classes: longer than %zu bytes",
                            st->origin, sizeof meta->classes - 1);
        snprintf(meta->classes, sizeof meta->classes, "%s", cl);
    }
    const char *task = bd__st_meta(st, "badak.task");
    if (task && strcmp(task, "regress") && strcmp(task, "multilabel"))
        return bd_error(BD_ERR_FORMAT, "%s: badak.task \"%.40s\" (expected regress or "
                        "multilabel)", st->origin, task);
    meta->task = !task ? BD_TASK_CLASSIFY
                       : !strcmp(task, "regress") ? BD_TASK_REGRESS : BD_TASK_MULTILABEL;
    meta->threshold = 0.5f;
    if (bd__st_meta(st, "badak.threshold")) {
        double d;
        BD_TRY(bd__meta_get_double(st, "badak.threshold", &d));
        if (!(d > 0.0 && d < 1.0))
            return bd_error(BD_ERR_FORMAT, "%s: badak.threshold %g not in (0, 1)", st->origin,
                            d);
        meta->threshold = (float)d;
    }
    mean = bd__st_meta(st, "badak.target_mean");
    sd = bd__st_meta(st, "badak.target_std");
    if (mean || sd) {
        int a = mean ? get_list(mean, meta->target_mean, BD_MAX_TARGETS) : -1;
        int b = sd ? get_list(sd, meta->target_std, BD_MAX_TARGETS) : -1;
        if (a < 1 || a != b)
            return bd_error(BD_ERR_FORMAT, "%s: badak.target_mean / badak.target_std are not "
                            "two lists of as many numbers", st->origin);
        meta->target_n = a;
    }
    return BD_OK;
}
