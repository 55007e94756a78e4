/* predict_csv.c — `badak predict --csv FILE`: one prediction per CSV row,
 * printed one a line: a regression model's values in the targets' own
 * units (the standardisation it was trained with undone), a multi-label
 * model's 0/1 labels and their probabilities, a classifier's class (its
 * name when the model keeps names) and probability. A first row that is
 * not all numbers is a header; the columns listed in --label-cols (or
 * --label-col) are dropped, so the training CSV itself can be given. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 4096

/* Parse one line into x (the kept columns); returns the number of columns,
 * or -1 (with a message) if a kept field is no number, -2 if the line is
 * not all numbers (a header). */
static int parse_row(char *line, const int *drop, int ndrop, float *x, int D, int *kept)
{
    int col = 0, o = 0, numeric = 1;
    for (char *p = line;; col++) {
        char *c = strchr(p, ',');
        if (c)
            *c = 0;
        int dropped = 0;
        for (int i = 0; i < ndrop; i++)
            dropped |= drop[i] == col;
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (end == p || *end || errno || !isfinite(v))
            numeric = 0;
        else if (!dropped && o < D)
            x[o] = (float)v;
        if (!dropped)
            o++;
        if (!c)
            break;
        p = c + 1;
    }
    *kept = o;
    return numeric ? col + 1 : -2;
}

static void print_row(const bd_net *net, const bd_model_meta *meta, const float *z)
{
    const int K = bd_net_output_size(net);
    if (meta->task == BD_TASK_REGRESS) {
        for (int k = 0; k < K; k++) {
            double v = z[k];
            if (k < meta->target_n)
                v = v * meta->target_std[k] + meta->target_mean[k];
            printf("%s%.6g", k ? "," : "", v);
        }
    } else if (meta->task == BD_TASK_MULTILABEL || bd_net_loss_kind(net) == BD_LOSS_MULTI_BCE) {
        float lt = logf(meta->threshold / (1.0f - meta->threshold));
        for (int k = 0; k < K; k++)
            printf("%s%d", k ? "," : "", z[k] > lt);
        printf("  (");
        for (int k = 0; k < K; k++)
            printf("%s%.4f", k ? "," : "", 1.0 / (1.0 + exp(-(double)z[k])));
        printf(")");
    } else if (K == 1) { /* sigmoid + BCE: P(class 1) */
        double p = 1.0 / (1.0 + exp(-(double)z[0]));
        printf("%d (%.4f)", p >= 0.5, p >= 0.5 ? p : 1.0 - p);
    } else {
        int best = 0;
        double m = z[0], sum = 0.0;
        for (int k = 1; k < K; k++)
            if (z[k] > z[best])
                best = k;
        m = z[best];
        for (int k = 0; k < K; k++)
            sum += exp(z[k] - m);
        char name[128];
        if (bd_class_name(meta->classes, best, name, sizeof name)[0])
            printf("%s (%.4f)", name, 1.0 / sum);
        else
            printf("%d (%.4f)", best, 1.0 / sum);
    }
    printf("\n");
}

int cli_predict_csv(bd_net *net, const bd_model_meta *meta, const char *path,
                    const char *drop_cols)
{
    int drop[BD_MAX_TARGETS], ndrop = 0;
    if (drop_cols && bd_parse_columns(drop_cols, drop, BD_MAX_TARGETS, &ndrop) != BD_OK)
        return cli_usage_error("predict", "--label-cols: %s", cli_errmsg());
    FILE *f = fopen(path, "r");
    if (!f) {
        bd_error(BD_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return cli_fail(BD_ERR_IO);
    }
    bd_tensor x = {0};
    int xs[2] = {1, bd_net_input_size(net)};
    bd_status s = bd_net_reserve(net, 1);
    if (s == BD_OK)
        s = bd_tensor_alloc(&x, BD_F32, 2, xs);
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int ncol = 0;
    while (s == BD_OK && getline(&line, &cap, f) != -1) {
        lineno++;
        if (strspn(line, " \t\r\n") == strlen(line))
            continue;
        int kept, n;
        if (ncol == 0) { /* negative columns count from the end of the first row */
            int commas = 0;
            for (const char *p = line; *p; p++)
                commas += *p == ',';
            for (int i = 0; i < ndrop; i++)
                if (drop[i] < 0)
                    drop[i] += commas + 1;
        }
        n = parse_row(line, drop, ndrop, bd_f32(&x), bd_net_input_size(net), &kept);
        if (n == -2 && ncol == 0) { /* a header */
            ncol = -1;
            continue;
        }
        if (n < 0)
            s = bd_error(BD_ERR_FORMAT, "%s:%ld: not a row of numbers", path, lineno);
        else if (kept != bd_net_input_size(net))
            s = bd_error(BD_ERR_SHAPE, "%s:%ld: %d feature columns, the model takes %d%s", path,
                         lineno, kept, bd_net_input_size(net),
                         ndrop ? "" : " (drop target columns with --label-cols)");
        ncol = n;
        const bd_tensor *y;
        if (s == BD_OK)
            s = bd_net_forward(net, &x, &y);
        if (s == BD_OK)
            print_row(net, meta, bd_f32(y));
    }
    free(line);
    fclose(f);
    bd_tensor_free(&x);
    return s == BD_OK ? 0 : cli_fail(s);
}
