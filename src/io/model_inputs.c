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
    char buf[BD_NORM_MAXC * 20];
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
    return BD_OK;
}
