/* arrays.c — a data set from the caller's own arrays (bd_dataset_from_arrays).
 * The samples and labels are copied into tensors the set owns, with
 * scale 1, so a set made here cannot hit the "scale left at 0: every input
 * is 0, trains to chance with BD_OK" trap of a hand-filled bd_dataset. */
#include "internal.h"

#include <math.h>
#include <stdio.h>

/* the arguments, before anything is allocated: BD_ERR_ARG naming the one at
 * fault; *D gets the floats per sample */
static bd_status check_args(const float *x, const int32_t *y, int n, const int *shape,
                            int classes, size_t *D)
{
    if (!x || !y || !shape)
        return bd_error(BD_ERR_ARG, "bd_dataset_from_arrays: %s is NULL",
                        !x ? "x" : !y ? "y" : "shape");
    if (n < 1)
        return bd_error(BD_ERR_ARG, "bd_dataset_from_arrays: n = %d samples (must be >= 1)", n);
    if (classes < 0)
        return bd_error(BD_ERR_ARG, "bd_dataset_from_arrays: classes = %d (must be >= 0; 0: "
                        "the labels' count)", classes);
    int64_t d[4] = {n, shape[0], shape[1], shape[2]}, all;
    if (shape[0] < 1 || shape[1] < 1 || shape[2] < 1)
        return bd_error(BD_ERR_SHAPE, "bd_dataset_from_arrays: shape %dx%dx%d: every side must "
                        "be >= 1", shape[0], shape[1], shape[2]);
    BD_TRY(bd__dims_product("bd_dataset_from_arrays: x", 4, d, &all));
    *D = (size_t)shape[0] * (size_t)shape[1] * (size_t)shape[2];
    for (int i = 0; i < n; i++)
        if (y[i] < 0 || (classes > 0 && y[i] >= classes))
            return bd_error(BD_ERR_ARG, "bd_dataset_from_arrays: y[%d] = %d is not a class in "
                            "0..%d", i, (int)y[i], classes > 0 ? classes - 1 : INT32_MAX);
    for (size_t i = 0; i < (size_t)n * *D; i++)
        if (!isfinite(x[i]))
            return bd_error(BD_ERR_ARG, "bd_dataset_from_arrays: x[%zu] (sample %zu) is %g: "
                            "inputs must be finite", i, i / *D, (double)x[i]);
    return BD_OK;
}

bd_status bd_dataset_from_arrays(const float *x, const int32_t *y, int n, const int shape[3],
                                 int classes, bd_dataset *out)
{
    if (!out)
        return bd_error(BD_ERR_ARG, "bd_dataset_from_arrays: out is NULL");
    memset(out, 0, sizeof *out);
    size_t D = 0;
    BD_TRY(check_args(x, y, n, shape, classes, &D));
    BD_TRY(bd__check_mem("bd_dataset_from_arrays", "the copy of the samples",
                         (uint64_t)n * D * sizeof(float)));
    /* vectors [N, D]; images (more than one row or channel) [N, C, H, W] */
    int vec = shape[0] == 1 && shape[1] == 1;
    int xs[4] = {n, vec ? (int)D : shape[0], shape[1], shape[2]}, ys[1] = {n};
    bd_status s = bd_tensor_alloc(&out->x, BD_F32, vec ? 2 : 4, xs);
    if (s == BD_OK)
        s = bd_tensor_alloc(&out->y, BD_I32, 1, ys);
    if (s != BD_OK) {
        bd_dataset_free(out);
        return s;
    }
    memcpy(out->x.data, x, (size_t)n * D * sizeof(float));
    memcpy(out->y.data, y, (size_t)n * sizeof(int32_t));
    out->n = n;
    out->c = shape[0];
    out->h = shape[1];
    out->w = shape[2];
    out->scale = 1.0f;
    out->task = BD_TASK_CLASSIFY;
    snprintf(out->name, sizeof out->name, "arrays");
    int maxl = 0;
    for (int i = 0; i < n; i++)
        maxl = BD_MAX(maxl, (int)y[i]);
    out->nclasses = classes > 0 ? classes : maxl + 1;
    return BD_OK;
}
