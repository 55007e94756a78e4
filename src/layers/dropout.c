/* dropout.c — Dropout (book 6.4.3, common/layers.py Dropout), inverted: while
 * training each unit is kept with probability 1 − p and the kept ones are
 * scaled by 1/(1 − p), so evaluation is the identity (the book instead
 * scales by 1 − p at evaluation; the expected outputs are the same). */
#include "internal.h"

#include <math.h>

/* aux [B, D]: the mask of the last training forward, 0 or 1/(1 − p) */
static size_t dropout_aux_cols(const bd_layer *l) { return (size_t)l->in_size; }

/* x [B,D] -> y [B,D]; training: y = x·m, m = (u >= p) / (1 − p), u uniform
 * in [0, 1) on a 16-bit grid: four u per 64-bit draw, compared as integers
 * (k/2¹⁶ >= p  ⇔  k >= ⌈p·2¹⁶⌉), so a unit drops with probability p rounded
 * up to a multiple of 2⁻¹⁶. Branch-free: a drop is not predictable. */
static void dropout_fwd(bd_layer *l, int B)
{
    const size_t n = (size_t)B * l->in_size;
    const float *restrict x = bd_f32(l->in);
    float *restrict y = bd_f32(&l->out);
    if (!l->net->training) {
        memcpy(y, x, n * sizeof(float));
        return;
    }
    /* bd_net_from_spec checks p in [0, 1); clamp anyway: p >= 1 drops all */
    float p = l->p0;
    if (!(p > 0.0f))
        p = 0.0f;
    const float keep = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    const uint32_t T = p < 1.0f ? (uint32_t)ceilf(p * 65536.0f) : 1u << 16;
    float *restrict m = bd_f32(&l->aux);
    bd_rng *rng = &l->net->rng;
    for (size_t i = 0; i < n; i += 4) {
        uint64_t u = bd_rng_u64(rng);
        size_t k = n - i < 4 ? n - i : 4;
        for (size_t q = 0; q < k; q++)
            m[i + q] = keep * (float)((uint32_t)(u >> (48 - 16 * q) & 0xffff) >= T);
    }
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * m[i];
}

/* dy [B,D] -> dx [B,D]: dx = dy·m (training), dy (evaluation) */
static void dropout_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    const size_t n = (size_t)B * l->in_size;
    float *restrict dx = bd_f32(&l->dx);
    if (l->net->training) {
        const float *restrict m = bd_f32(&l->aux);
        for (size_t i = 0; i < n; i++)
            dx[i] = dy[i] * m[i];
    } else {
        memcpy(dx, dy, n * sizeof(float));
    }
    bd__maybe_break(BD_LAYER_DROPOUT, dx, n);
}

const bd_layer_op bd__op_dropout = {
    .name = "Dropout",
    .def_p0 = 0.5f,
    .aux_cols = dropout_aux_cols,
    .forward = dropout_fwd,
    .backward = dropout_bwd,
};
