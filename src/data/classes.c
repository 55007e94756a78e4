/* classes.c — how many classes a data set's labels make. A CSV's classes
 * are 0..max label; one stray label of 999 would silently make a network of
 * 1000 outputs, 996 of them for classes that never appear. */
#include "internal.h"

#include <stdio.h>

bd_status bd_dataset_classes(bd_dataset *ds, int classes, int *distinct)
{
    if (!ds)
        return bd_error(BD_ERR_ARG, "bd_dataset_classes: ds is NULL");
    const int32_t *y = bd_i32(&ds->y);
    int maxl = -1, at = -1;
    for (int i = 0; i < ds->n; i++)
        if (y[i] > maxl)
            maxl = y[i], at = i;
    if (classes > 0) {
        if (maxl >= classes)
            return bd_error(BD_ERR_FORMAT, "%s: label %d (sample %d) is not below classes = %d",
                            ds->name, maxl, at + 1, classes);
        ds->nclasses = classes;
    }
    int n = BD_MAX(maxl + 1, ds->nclasses);
    unsigned char *seen = calloc((size_t)BD_MAX(n, 1), 1);
    if (!seen)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory", ds->name);
    int d = 0;
    for (int i = 0; i < ds->n; i++)
        if (y[i] >= 0 && !seen[y[i]]++)
            d++;
    int second = -1; /* the largest label below the maximum */
    for (int k = maxl - 1; k >= 0 && second < 0; k--)
        if (seen[k])
            second = k;
    free(seen);
    if (distinct)
        *distinct = d;
    /* more than half the classes never seen: the largest label is far
     * beyond the others (a typo, a wrong column), unless --classes says so */
    if (classes <= 0 && maxl >= 2 && 2 * d < maxl + 1)
        return bd_error(BD_ERR_FORMAT, "%s: label %d (sample %d) is far beyond the others "
                        "(the next largest is %d; %d distinct labels would make %d classes); "
                        "if the classes really are 0..%d, give classes = %d",
                        ds->name, maxl, at + 1, second, d, maxl + 1, maxl, maxl + 1);
    if (classes <= 0)
        ds->nclasses = BD_MAX(ds->nclasses, maxl + 1);
    return BD_OK;
}
