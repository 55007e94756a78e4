/* class_balance.c — how the samples of a classification set are spread over its
 * classes, and the two remedies for imbalance that need it: inverse-
 * frequency class weights, and thinning classes out (to make an imbalanced
 * set for experiments). Seed 002's training tip: "if 95% are dogs and 5%
 * cats, change it to 65/35". */
#include "internal.h"

#include <stdio.h>

static bd_status check_labels(const bd_dataset *ds)
{
    if (ds->task != BD_TASK_CLASSIFY)
        return bd_error(BD_ERR_ARG, "%s: class counts are for class labels", ds->name);
    if (ds->nclasses < 1)
        return bd_error(BD_ERR_ARG, "%s: no classes", ds->name);
    const int32_t *y = bd_i32(&ds->y);
    for (int i = 0; i < ds->n; i++)
        if (y[i] < 0 || y[i] >= ds->nclasses)
            return bd_error(BD_ERR_ARG, "%s: label %d of sample %d not in 0..%d", ds->name,
                            (int)y[i], i, ds->nclasses - 1);
    return BD_OK;
}

bd_status bd_class_counts(const bd_dataset *ds, long *counts)
{
    if (!ds || !counts)
        return bd_error(BD_ERR_ARG, "bd_class_counts: %s is NULL", !ds ? "ds" : "counts");
    BD_TRY(check_labels(ds));
    memset(counts, 0, (size_t)ds->nclasses * sizeof *counts);
    const int32_t *y = bd_i32(&ds->y);
    for (int i = 0; i < ds->n; i++)
        counts[y[i]]++;
    return BD_OK;
}

bd_status bd_class_weights(const bd_dataset *ds, float *w)
{
    if (!ds || !w)
        return bd_error(BD_ERR_ARG, "bd_class_weights: %s is NULL", !ds ? "ds" : "w");
    long *n = malloc((size_t)BD_MAX(ds->nclasses, 1) * sizeof *n);
    if (!n)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory", ds->name);
    bd_status s = bd_class_counts(ds, n);
    int present = 0;
    for (int c = 0; s == BD_OK && c < ds->nclasses; c++)
        present += n[c] > 0;
    /* w_c = N / (K n_c): the weighted count of every class is N / K, so the
     * total weight stays N (the loss keeps its scale) */
    for (int c = 0; s == BD_OK && c < ds->nclasses; c++)
        w[c] = n[c] ? (float)((double)ds->n / ((double)present * (double)n[c])) : 0.0f;
    free(n);
    return s;
}

bd_status bd_dataset_thin_classes(bd_dataset *ds, const uint8_t *keep, float frac, bd_rng *rng)
{
    if (!ds || !keep || !rng)
        return bd_error(BD_ERR_ARG, "bd_dataset_thin_classes: %s is NULL",
                        !ds ? "ds" : !keep ? "keep" : "rng");
    BD_TRY(check_labels(ds));
    if (!(frac > 0.0f && frac <= 1.0f))
        return bd_error(BD_ERR_ARG, "%s: keeping a fraction %g of a class (0 < f <= 1)",
                        ds->name, (double)frac);
    if (ds->t.data)
        return bd_error(BD_ERR_ARG, "%s: thinning is for class labels", ds->name);
    /* a seeded draw per sample of the thinned classes; rows move down in
     * place, keeping their order */
    size_t D = (size_t)ds->c * ds->h * ds->w * bd_dtype_size(ds->x.dtype);
    char *x = ds->x.data;
    int32_t *y = bd_i32(&ds->y);
    int k = 0;
    for (int i = 0; i < ds->n; i++) {
        int take = !keep[y[i]] || bd_rng_uniform(rng) < frac;
        if (!take)
            continue;
        if (k != i) {
            memmove(x + (size_t)k * D, x + (size_t)i * D, D);
            y[k] = y[i];
        }
        k++;
    }
    if (k == 0)
        return bd_error(BD_ERR_ARG, "%s: thinning left no sample", ds->name);
    return bd_dataset_truncate(ds, k);
}
