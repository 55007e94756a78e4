/* tensor.c — the one owner of every buffer in badak. Buffers are 64-byte
 * aligned for SIMD and BLAS. A tensor keeps its capacity so a batch can shrink
 * (the last partial batch, an evaluation chunk) without reallocating. */
#include "internal.h"

#include <stdio.h>

size_t bd_dtype_size(bd_dtype dt)
{
    switch (dt) {
    case BD_F32: return 4;
    case BD_I32: return 4;
    case BD_U8: return 1;
    }
    return 4;
}

static bd_status shape_size(int ndim, const int *shape, size_t *out, const char *who)
{
    if (ndim < 1 || ndim > BD_MAXDIM)
        return bd_error(BD_ERR_SHAPE, "%s: %d dimensions (1 to %d allowed)", who, ndim,
                        BD_MAXDIM);
    int64_t d[BD_MAXDIM], n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return bd_error(BD_ERR_SHAPE, "%s: negative dimension %d", who, shape[i]);
        d[i] = shape[i];
    }
    for (int i = 0; i < ndim && n; i++)
        if (!bd__checked_mul(n, d[i], &n)) {
            char dims[160];
            return bd_error(BD_ERR_SHAPE, "%s: %s is more than %lld elements (BD_MAX_ELEMENTS)",
                            who, bd__dims_str(ndim, d, dims, sizeof dims),
                            (long long)BD_MAX_ELEMENTS);
        }
    for (int i = 0; i < ndim; i++) /* a zero side: an empty tensor */
        if (!d[i])
            n = 0;
    *out = (size_t)n;
    return BD_OK;
}

bd_status bd_tensor_alloc(bd_tensor *t, bd_dtype dt, int ndim, const int *shape)
{
    if (!t || !shape)
        return bd_error(BD_ERR_ARG, "bd_tensor_alloc: %s is NULL", !t ? "t" : "shape");
    memset(t, 0, sizeof *t);
    size_t n;
    BD_TRY(shape_size(ndim, shape, &n, "tensor"));
    size_t bytes = n * bd_dtype_size(dt);
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = NULL;
    if (rounded == 0)
        rounded = 64;
    p = aligned_alloc(64, rounded);
    if (!p)
        return bd_error(BD_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    memset(p, 0, rounded);
    t->data = p;
    t->dtype = dt;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof(int));
    t->size = n;
    t->cap = n;
    t->owner = 1;
    return BD_OK;
}

bd_status bd_tensor_zeros(bd_tensor *t, int ndim, int d0, int d1, int d2, int d3)
{
    if (!t)
        return bd_error(BD_ERR_ARG, "bd_tensor_zeros: t is NULL");
    int shape[BD_MAXDIM] = {d0, d1, d2, d3};
    return bd_tensor_alloc(t, BD_F32, ndim, shape);
}

void bd_tensor_free(bd_tensor *t)
{
    if (!t)
        return;
    if (t->owner)
        free(t->data);
    memset(t, 0, sizeof *t);
}

bd_tensor bd_tensor_view(float *data, int ndim, const int *shape)
{
    bd_tensor t;
    memset(&t, 0, sizeof t);
    if (!shape) /* the NULL rule: an empty view, no crash */
        return t;
    t.data = data;
    t.dtype = BD_F32;
    t.ndim = ndim < 1 ? 1 : (ndim > BD_MAXDIM ? BD_MAXDIM : ndim);
    size_t n = 1;
    for (int i = 0; i < t.ndim; i++) {
        t.shape[i] = shape[i];
        n *= (size_t)shape[i];
    }
    t.size = n;
    t.cap = n;
    t.owner = 0;
    return t;
}

bd_status bd_tensor_reshape(bd_tensor *t, int ndim, const int *shape, const char *who)
{
    if (!t || !shape)
        return bd_error(BD_ERR_ARG, "bd_tensor_reshape: %s is NULL", !t ? "t" : "shape");
    size_t n;
    BD_TRY(shape_size(ndim, shape, &n, who));
    if (n > t->cap) {
        char a[64];
        bd_tensor tmp = *t;
        tmp.ndim = ndim;
        memcpy(tmp.shape, shape, (size_t)ndim * sizeof(int));
        return bd_error(BD_ERR_SHAPE, "%s: shape %s needs %zu elements, buffer holds %zu", who,
                        bd_shape_str(&tmp, a, sizeof a), n, t->cap);
    }
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof(int));
    t->size = n;
    return BD_OK;
}

const char *bd_shape_str(const bd_tensor *t, char *buf, size_t len)
{
    size_t o = 0;
    if (!buf || len == 0)
        return buf;
    buf[0] = 0;
    if (!t)
        return buf;
    o += (size_t)snprintf(buf + o, len - o, "[");
    for (int i = 0; i < t->ndim && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, i ? ", %d" : "%d", t->shape[i]);
    if (o < len)
        snprintf(buf + o, len - o, "]");
    return buf;
}
