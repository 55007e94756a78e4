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
 * up to a multiple of 2⁻¹⁶. Row r draws from the stream of its global row
 * (net->row0 + r) under this step's key, so a sample gets the same mask
 * whichever process computes it (data parallel). The draws go through a
 * small block of uint16 so the compare-and-select loop vectorises (a drop
 * is not predictable). */
#define DROP_BLOCK 1024

static void drop_row(float *restrict y, float *restrict m, const float *restrict x, size_t D,
                     uint32_t T, float keep, bd_rng *rng)
{
    uint16_t k[DROP_BLOCK];
    for (size_t i0 = 0; i0 < D; i0 += DROP_BLOCK) {
        size_t len = BD_MIN(D - i0, (size_t)DROP_BLOCK);
        for (size_t i = 0; i < len; i += 4) {
            uint64_t u = bd_rng_u64(rng);
            k[i] = (uint16_t)(u >> 48);
            k[i + 1] = (uint16_t)(u >> 32);
            k[i + 2] = (uint16_t)(u >> 16);
            k[i + 3] = (uint16_t)u;
        }
        for (size_t i = 0; i < len; i++) {
            float mi = k[i] >= T ? keep : 0.0f;
            m[i0 + i] = mi;
            y[i0 + i] = x[i0 + i] * mi;
        }
    }
}

static void dropout_fwd(bd_layer *l, int B)
{
    const size_t D = (size_t)l->in_size;
    const float *x = bd_f32(l->in);
    float *y = bd_f32(&l->out);
    if (!l->net->training) {
        memcpy(y, x, (size_t)B * D * sizeof(float));
        return;
    }
    /* bd_net_from_spec checks p in [0, 1); clamp anyway: p >= 1 drops all */
    float p = l->p0;
    if (!(p > 0.0f))
        p = 0.0f;
    const float keep = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    const uint32_t T = p < 1.0f ? (uint32_t)ceilf(p * 65536.0f) : 1u << 16;
    float *m = bd_f32(&l->aux);
    const uint64_t stream = bd__layer_stream(l);
    for (int r = 0; r < B; r++) {
        bd_rng rng;
        bd__row_rng(&rng, l->net->step_key, stream, (long)l->net->row0 + r);
        const size_t o = (size_t)r * D;
        drop_row(y + o, m + o, x + o, D, T, keep, &rng);
    }
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
}

const bd_layer_op bd__op_dropout = {
    .name = "Dropout",
    .rows = 1,
    .token = "dropout",
    .keys = {{"p", BD__CONF_P0}},
    .emit_c = bd__emit_copy,
    .def_p0 = 0.5f,
    .check = bd__check_dropout,
    .aux_cols = dropout_aux_cols,
    .forward = dropout_fwd,
    .backward = dropout_bwd,
};
