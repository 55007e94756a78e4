/* train_classes.c — the classes of a classification run: how the training
 * samples are spread over them (printed with every run, as seed 002's tip
 * asks: an imbalance explains accuracy that rises, then stalls), the
 * inverse-frequency weights of --class-weights auto, --thin-classes to make
 * an imbalanced set, and the confusion matrix and per-class accuracy of
 * --confusion (seed 002's code prints accuracy per class with classes[i]). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BD_MAX(a, b) ((a) > (b) ? (a) : (b))

bd_status cli_thin_classes(bd_dataset *ds, const char *spec, uint64_t seed)
{
    const char *colon = strrchr(spec, ':');
    char *end;
    errno = 0;
    double f = colon ? strtod(colon + 1, &end) : 0.0;
    if (!colon || end == colon + 1 || *end || errno || !(f > 0.0 && f <= 1.0))
        return bd_error(BD_ERR_ARG, "--thin-classes '%s': expected CLASSES:FRACTION, e.g. "
                        "0..4:0.05 (a fraction in (0, 1])", spec);
    char list[256];
    snprintf(list, sizeof list, "%.*s", (int)(colon - spec), spec);
    int cls[BD_BALANCED_MAXC], n = 0;
    CLI_TRY(bd_parse_columns(list, cls, BD_BALANCED_MAXC, &n));
    uint8_t *keep = calloc((size_t)BD_MAX(ds->nclasses, 1), 1);
    if (!keep)
        return bd_error(BD_ERR_NOMEM, "out of memory");
    bd_status s = BD_OK;
    for (int i = 0; i < n && s == BD_OK; i++) {
        if (cls[i] < 0 || cls[i] >= ds->nclasses)
            s = bd_error(BD_ERR_ARG, "--thin-classes: class %d not in 0..%d", cls[i],
                         ds->nclasses - 1);
        else
            keep[cls[i]] = 1;
    }
    bd_rng rng;
    bd_rng_seed(&rng, seed ^ 0x7417ULL);
    if (s == BD_OK)
        s = bd_dataset_thin_classes(ds, keep, (float)f, &rng);
    free(keep);
    return s;
}

bd_status cli_class_report(const bd_dataset *train, class_report *c)
{
    memset(c, 0, sizeof *c);
    int n = train->nclasses;
    c->count = calloc((size_t)BD_MAX(n, 1), sizeof *c->count);
    c->weight = calloc((size_t)BD_MAX(n, 1), sizeof *c->weight);
    if (!c->count || !c->weight)
        return bd_error(BD_ERR_NOMEM, "out of memory");
    c->n = n;
    c->total = train->n;
    c->names = train->classes;
    CLI_TRY(bd_class_counts(train, c->count));
    return bd_class_weights(train, c->weight);
}

/* "3" or "cat" */
static const char *label(const class_report *c, int k, char *buf, size_t len)
{
    if (!bd_class_name(c->names, k, buf, len)[0])
        snprintf(buf, len, "%d", k);
    return buf;
}

void cli_print_classes(const class_report *c, int weighted)
{
    char nm[64];
    int big = 0, small = 0;
    for (int k = 1; k < c->n; k++) {
        big = c->count[k] > c->count[big] ? k : big;
        small = c->count[k] < c->count[small] ? k : small;
    }
    printf("classes (%d):", c->n);
    if (c->n <= 20) {
        for (int k = 0; k < c->n; k++)
            printf("%s %s %ld", k ? "," : "", label(c, k, nm, sizeof nm), c->count[k]);
    } else {
        printf(" largest %s %ld,", label(c, big, nm, sizeof nm), c->count[big]);
        printf(" smallest %s %ld", label(c, small, nm, sizeof nm), c->count[small]);
    }
    double pb = 100.0 * c->count[big] / (double)BD_MAX(c->total, 1);
    double ps = 100.0 * c->count[small] / (double)BD_MAX(c->total, 1);
    printf(" (%.1f%% .. %.1f%%)%s\n", ps, pb, weighted ? "; weighted by N / (K n)" : "");
    if (pb > 80.0 && c->n > 1)
        printf("warning: class %s is %.1f%% of the training data: accuracy can reach %.1f%% "
               "by always predicting it, then stall; try --class-weights auto or "
               "--balanced-sampling (seed 002: change 95/5 to 65/35)\n",
               label(c, big, nm, sizeof nm), pb, pb);
}

int cli_class_dominant(const class_report *c, double *share)
{
    int big = 0;
    for (int k = 1; k < c->n; k++)
        big = c->count[k] > c->count[big] ? k : big;
    *share = c->n ? (double)c->count[big] / (double)BD_MAX(c->total, 1) : 0.0;
    return c->n > 1 && *share > 0.8 ? big : -1;
}

bd_status cli_confusion(bd_net *net, const bd_dataset *ds, class_report *c)
{
    int C = net->out_size == 1 ? 2 : net->out_size;
    free(c->confusion);
    c->confusion = calloc((size_t)C * C, sizeof *c->confusion);
    if (!c->confusion)
        return bd_error(BD_ERR_NOMEM, "out of memory");
    if (C != c->n) { /* the network has more outputs than the data has classes */
        long *cnt = realloc(c->count, (size_t)C * sizeof *cnt);
        float *w = cnt ? realloc(c->weight, (size_t)C * sizeof *w) : NULL;
        if (cnt)
            c->count = cnt;
        if (w)
            c->weight = w;
        if (!cnt || !w)
            return bd_error(BD_ERR_NOMEM, "out of memory");
        for (int k = c->n; k < C; k++)
            c->count[k] = 0, c->weight[k] = 0.0f;
        c->n = C;
    }
    CLI_TRY(bd_confusion(net, ds, c->confusion, C));
    c->set = ds == NULL ? "" : strstr(ds->name, "test") ? "test" : "train";
    c->have_confusion = 1;
    return BD_OK;
}

/* per-class accuracy (recall) of class k; -1 if it has no samples */
static double class_acc(const class_report *c, int k)
{
    long row = 0;
    for (int j = 0; j < c->n; j++)
        row += c->confusion[(size_t)k * c->n + j];
    return row ? (double)c->confusion[(size_t)k * c->n + k] / row : -1.0;
}

static int worst_class(const class_report *c)
{
    int w = -1;
    for (int k = 0; k < c->n; k++)
        if (class_acc(c, k) >= 0 && (w < 0 || class_acc(c, k) < class_acc(c, w)))
            w = k;
    return w;
}

void cli_print_confusion(const class_report *c)
{
    char nm[64];
    printf("confusion matrix (%s set; rows: true class, columns: predicted):\n", c->set);
    if (c->n <= 20) {
        printf("%12s", "");
        for (int j = 0; j < c->n; j++)
            printf(" %6d", j);
        printf("   accuracy\n");
        for (int k = 0; k < c->n; k++) {
            printf("%12.12s", label(c, k, nm, sizeof nm));
            for (int j = 0; j < c->n; j++)
                printf(" %6ld", c->confusion[(size_t)k * c->n + j]);
            double a = class_acc(c, k);
            if (a >= 0)
                printf("   %.4f\n", a);
            else
                printf("   -\n");
        }
    } else {
        printf("  (%d classes: the matrix is in --json)\n", c->n);
    }
    int w = worst_class(c);
    if (w >= 0)
        printf("worst class: %s, accuracy %.4f\n", label(c, w, nm, sizeof nm), class_acc(c, w));
}

void cli_json_classes(cJSON *o, const class_report *c)
{
    if (!c->n)
        return;
    cJSON *a = cJSON_AddArrayToObject(o, "class_counts");
    for (int k = 0; a && k < c->n; k++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)c->count[k]));
    if (!c->have_confusion)
        return;
    a = cJSON_AddArrayToObject(o, "per_class_accuracy");
    for (int k = 0; a && k < c->n; k++)
        cJSON_AddItemToArray(a, cli_json_value(class_acc(c, k), "%.6f"));
    a = cJSON_AddArrayToObject(o, "confusion");
    for (int k = 0; a && k < c->n; k++) {
        cJSON *row = cJSON_CreateArray();
        for (int j = 0; row && j < c->n; j++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)c->confusion[(size_t)k * c->n + j]));
        cJSON_AddItemToArray(a, row);
    }
    int w = worst_class(c);
    cJSON_AddNumberToObject(o, "worst_class", w);
    cli_json_num(o, "worst_class_accuracy", w >= 0 ? class_acc(c, w) : -1.0, "%.6f");
}

void cli_class_report_free(class_report *c)
{
    free(c->count);
    free(c->weight);
    free(c->confusion);
    memset(c, 0, sizeof *c);
}
