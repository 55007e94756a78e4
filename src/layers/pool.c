/* pool.c — pooling (book 7.3, 7.4.4 Pooling), global average pooling and
 * Flatten. Pooling works per channel, so it needs no im2col: each output
 * is the max (or mean) of its K x K window of one channel.
 * The book's plain version: learn/ch07/layers.h (Pooling, through im2col as
 * the book does). */
#include "internal.h"

#include <float.h>

/* The common 2x2, stride 2, no padding case: every window lies inside the
 * input, so no bounds are checked (4x faster than the general loop). */
BD_HOT static void maxpool_2x2(float *y, int32_t *argmax, const float *x, const bd_conv_geom *g)
{
    const size_t HW = (size_t)g->H * g->W, OHW = (size_t)g->OH * g->OW;
    /* sizes in locals: the int32 argmax stores could otherwise change g's
     * int fields, for all gcc knows, and it would reload them every step */
    const int W = g->W, C = g->C, BC = g->B * g->C, OH = g->OH, OW = g->OW;
    for (int bc = 0; bc < BC; bc++) {
        const float *xp = x + (size_t)bc * HW;
        const int32_t base = (int32_t)((bc % C) * HW);
        float *yp = y + (size_t)bc * OHW;
        int32_t *ap = argmax + (size_t)bc * OHW;
        for (int oh = 0; oh < OH; oh++) {
            const float *r0 = xp + (size_t)(2 * oh) * W, *r1 = r0 + W;
            const int32_t i0 = base + 2 * oh * W, i1 = i0 + W;
            /* branch-free: the first of equal maxima wins, as in the
             * general loop's scan order */
            for (int ow = 0; ow < OW; ow++) {
                const int j = 2 * ow;
                const float a = r0[j], b = r0[j + 1], c = r1[j], d = r1[j + 1];
                const float m0 = a >= b ? a : b, m1 = c >= d ? c : d;
                const int32_t k0 = a >= b ? i0 + j : i0 + j + 1;
                const int32_t k1 = c >= d ? i1 + j : i1 + j + 1;
                yp[oh * OW + ow] = m0 >= m1 ? m0 : m1;
                ap[oh * OW + ow] = m0 >= m1 ? k0 : k1;
            }
        }
    }
}

BD_HOT
static void maxpool_general(float *y, int32_t *argmax, const float *x, const bd_conv_geom *g);

typedef struct pool_args {
    float *y;
    int32_t *argmax;
    const float *x, *dy;
    float *dx;
    const int32_t *am;
    const bd_conv_geom *g;
} pool_args;

/* samples [lo, hi) */
BD_HOT static void maxpool_part(void *ctx, int lo, int hi, int part)
{
    const pool_args *a = ctx;
    bd_conv_geom pg = *a->g;
    pg.B = hi - lo;
    const size_t in = (size_t)pg.C * pg.H * pg.W, out = (size_t)pg.C * pg.OH * pg.OW;
    if (pg.K == 2 && pg.S == 2 && pg.P == 0)
        maxpool_2x2(a->y + lo * out, a->argmax + lo * out, a->x + lo * in, &pg);
    else
        maxpool_general(a->y + lo * out, a->argmax + lo * out, a->x + lo * in, &pg);
}

/* x [B,C,H,W] -> y [B,C,OH,OW], argmax: index in the sample of each max;
 * the samples split over the threads */
void bd_maxpool_forward(float *y, int32_t *argmax, const float *x, const bd_conv_geom *g)
{
    pool_args a = {.y = y, .argmax = argmax, .x = x, .g = g};
    bd__parallel_for(g->B, maxpool_part, &a);
}

BD_HOT static void maxpool_general(float *y, int32_t *argmax, const float *x, const bd_conv_geom *g)
{
    const size_t HW = (size_t)g->H * g->W, OHW = (size_t)g->OH * g->OW;
    for (int bc = 0; bc < g->B * g->C; bc++) {
        const float *xp = x + (size_t)bc * HW;
        const int32_t base = (int32_t)((bc % g->C) * HW); /* channel offset in the sample */
        float *yp = y + (size_t)bc * OHW;
        int32_t *ap = argmax + (size_t)bc * OHW;
        for (int oh = 0; oh < g->OH; oh++)
            for (int ow = 0; ow < g->OW; ow++) {
                int h0 = oh * g->S - g->P, w0 = ow * g->S - g->P;
                float m = -FLT_MAX;
                int32_t at = -1;
                for (int i = BD_MAX(h0, 0); i < BD_MIN(h0 + g->K, g->H); i++)
                    for (int j = BD_MAX(w0, 0); j < BD_MIN(w0 + g->K, g->W); j++) {
                        float v = xp[(size_t)i * g->W + j];
                        if (at < 0 || v > m) {
                            m = v;
                            at = i * g->W + j;
                        }
                    }
                yp[oh * g->OW + ow] = m;
                ap[oh * g->OW + ow] = base + at;
            }
    }
}

/* 2x2, stride 2, even H and W: the windows tile the input, so each input
 * element is written once (its window's gradient or 0) with no memset and
 * no scatter pass. */
BD_HOT
static void maxpool_2x2_bwd(float *dx, const float *dy, const int32_t *am, const bd_conv_geom *g)
{
    const size_t HW = (size_t)g->H * g->W, OHW = (size_t)g->OH * g->OW;
    const int W = g->W, C = g->C, BC = g->B * g->C, OH = g->OH, OW = g->OW;
    for (int bc = 0; bc < BC; bc++) {
        float *xp = dx + (size_t)bc * HW;
        const int32_t base = (int32_t)((bc % C) * HW);
        const float *s = dy + (size_t)bc * OHW;
        const int32_t *m = am + (size_t)bc * OHW;
        for (int oh = 0; oh < OH; oh++) {
            float *r0 = xp + (size_t)(2 * oh) * W, *r1 = r0 + W;
            const int32_t i0 = base + 2 * oh * W, i1 = i0 + W;
            for (int ow = 0; ow < OW; ow++) {
                const int j = 2 * ow;
                const float v = s[oh * OW + ow];
                const int32_t k = m[oh * OW + ow];
                r0[j] = k == i0 + j ? v : 0.0f;
                r0[j + 1] = k == i0 + j + 1 ? v : 0.0f;
                r1[j] = k == i1 + j ? v : 0.0f;
                r1[j + 1] = k == i1 + j + 1 ? v : 0.0f;
            }
        }
    }
}

BD_HOT static void maxpool_bwd_part(void *ctx, int lo, int hi, int part)
{
    const pool_args *a = ctx;
    const bd_conv_geom *g = a->g;
    const size_t in = (size_t)g->C * g->H * g->W, out = (size_t)g->C * g->OH * g->OW;
    if (g->K == 2 && g->S == 2 && g->P == 0 && g->H % 2 == 0 && g->W % 2 == 0) {
        bd_conv_geom pg = *g;
        pg.B = hi - lo;
        maxpool_2x2_bwd(a->dx + lo * in, a->dy + lo * out, a->am + lo * out, &pg);
        return;
    }
    memset(a->dx + lo * in, 0, (size_t)(hi - lo) * in * sizeof(float));
    for (int b = lo; b < hi; b++) {
        float *d = a->dx + (size_t)b * in;
        const float *s = a->dy + (size_t)b * out;
        const int32_t *m = a->am + (size_t)b * out;
        for (size_t i = 0; i < out; i++)
            d[m[i]] += s[i];
    }
}

/* dy [B,C,OH,OW] -> dx [B,C,H,W]: each gradient goes to its window's max */
void bd_maxpool_backward(float *dx, const float *dy, const int32_t *argmax,
                         const bd_conv_geom *g)
{
    pool_args a = {.dx = dx, .dy = dy, .am = argmax, .g = g};
    bd__parallel_for(g->B, maxpool_bwd_part, &a);
}

/* x [B,C,H,W] -> y [B,C,OH,OW]: window means (padding counts as zeros) */
BD_HOT static void avgpool_forward_k(float *y, const float *x, const bd_conv_geom *g)
{
    const size_t HW = (size_t)g->H * g->W, OHW = (size_t)g->OH * g->OW;
    const float inv = 1.0f / (float)(g->K * g->K);
    for (int bc = 0; bc < g->B * g->C; bc++) {
        const float *xp = x + (size_t)bc * HW;
        float *yp = y + (size_t)bc * OHW;
        for (int oh = 0; oh < g->OH; oh++)
            for (int ow = 0; ow < g->OW; ow++) {
                int h0 = oh * g->S - g->P, w0 = ow * g->S - g->P;
                float s = 0.0f;
                for (int i = BD_MAX(h0, 0); i < BD_MIN(h0 + g->K, g->H); i++)
                    for (int j = BD_MAX(w0, 0); j < BD_MIN(w0 + g->K, g->W); j++)
                        s += xp[(size_t)i * g->W + j];
                yp[oh * g->OW + ow] = s * inv;
            }
    }
}

void bd_avgpool_forward(float *y, const float *x, const bd_conv_geom *g)
{
    avgpool_forward_k(y, x, g);
}

/* dy [B,C,OH,OW] -> dx [B,C,H,W]: each window gets dy / K² */
BD_HOT static void avgpool_backward_k(float *dx, const float *dy, const bd_conv_geom *g)
{
    const size_t HW = (size_t)g->H * g->W, OHW = (size_t)g->OH * g->OW;
    const float inv = 1.0f / (float)(g->K * g->K);
    memset(dx, 0, (size_t)g->B * g->C * HW * sizeof(float));
    for (int bc = 0; bc < g->B * g->C; bc++) {
        float *xp = dx + (size_t)bc * HW;
        const float *yp = dy + (size_t)bc * OHW;
        for (int oh = 0; oh < g->OH; oh++)
            for (int ow = 0; ow < g->OW; ow++) {
                int h0 = oh * g->S - g->P, w0 = ow * g->S - g->P;
                float v = yp[oh * g->OW + ow] * inv;
                for (int i = BD_MAX(h0, 0); i < BD_MIN(h0 + g->K, g->H); i++)
                    for (int j = BD_MAX(w0, 0); j < BD_MIN(w0 + g->K, g->W); j++)
                        xp[(size_t)i * g->W + j] += v;
            }
    }
}

void bd_avgpool_backward(float *dx, const float *dy, const bd_conv_geom *g)
{
    avgpool_backward_k(dx, dy, g);
}

/* ---- the pooling rows of the op table */

static bd_status pool_shape(bd_layer *l)
{
    if (l->k < 1)
        return bd_error(BD_ERR_ARG, "%s: window size %d (must be >= 1)", l->name, l->k);
    if (l->stride == 0)
        l->stride = l->k;
    bd_conv_geom g = bd__geom(l, 1);
    g.F = l->in_c;
    BD_TRY(bd_conv_geom_init(&g, l->name));
    l->out_c = l->in_c;
    l->out_h = g.OH;
    l->out_w = g.OW;
    return BD_OK;
}

/* aux [B, out_size]: the argmax of every output, as int32 */
static size_t maxpool_aux(const bd_layer *l) { return (size_t)l->out_size; }

int bd__pooled_by_conv(const bd_layer *l)
{
    return l->kind == BD_LAYER_MAXPOOL && l - l->net->layers >= 2 && bd__conv_pooled(l - 2) == l;
}

static void maxpool_fwd(bd_layer *l, int B)
{
    if (bd__pooled_by_conv(l)) /* out and aux already written */
        return;
    bd_conv_geom g = bd__geom(l, B);
    bd_maxpool_forward(bd_f32(&l->out), (int32_t *)l->aux.data, bd_f32(l->in), &g);
}

static void maxpool_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    if (bd__pooled_by_conv(l)) { /* the conv's backward takes dy from here */
        l->pool_dy = dy;
        return;
    }
    bd_conv_geom g = bd__geom(l, B);
    bd_maxpool_backward(bd_f32(&l->dx), dy, (const int32_t *)l->aux.data, &g);
}

/* Which input each window picked: a step that changes it crosses a kink. */
static uint64_t maxpool_kinks(const bd_layer *l, int B, uint64_t h)
{
    const int32_t *a = (const int32_t *)l->aux.data;
    for (size_t i = 0; i < (size_t)B * l->out_size; i++) {
        h ^= (uint64_t)(uint32_t)a[i];
        h *= 1099511628211ULL;
    }
    return h;
}

const bd_layer_op bd__op_maxpool = {
    .name = "MaxPool",
    .token = "maxpool",
    .keys = {{"kernel", BD__CONF_K}, {"stride", BD__CONF_STRIDE}},
    .emit_c = bd__emit_maxpool,
    .kink = 1,
    .shape = pool_shape,
    .aux_cols = maxpool_aux,
    .forward = maxpool_fwd,
    .backward = maxpool_bwd,
    .kink_hash = maxpool_kinks,
};

static void avgpool_fwd(bd_layer *l, int B)
{
    bd_conv_geom g = bd__geom(l, B);
    bd_avgpool_forward(bd_f32(&l->out), bd_f32(l->in), &g);
}

static void avgpool_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    bd_conv_geom g = bd__geom(l, B);
    bd_avgpool_backward(bd_f32(&l->dx), dy, &g);
}

const bd_layer_op bd__op_avgpool = {
    .name = "AvgPool",
    .token = "avgpool",
    .keys = {{"kernel", BD__CONF_K}, {"stride", BD__CONF_STRIDE}},
    .emit_c = bd__emit_avgpool,
    .shape = pool_shape,
    .forward = avgpool_fwd,
    .backward = avgpool_bwd,
};

/* ---- global average pooling: [C, H, W] -> [C] */

static bd_status gap_shape(bd_layer *l)
{
    l->out_c = l->in_c;
    l->out_h = l->out_w = 1;
    return BD_OK;
}

/* x [B,C,HW] -> y [B,C] */
BD_HOT static void gap_fwd(bd_layer *l, int B)
{
    const int HW = l->in_h * l->in_w;
    const float inv = 1.0f / (float)HW, *x = bd_f32(l->in);
    float *y = bd_f32(&l->out);
    for (size_t bc = 0; bc < (size_t)B * l->in_c; bc++) {
        float s = 0.0f;
        for (int p = 0; p < HW; p++)
            s += x[bc * HW + p];
        y[bc] = s * inv;
    }
}

/* dy [B,C] -> dx [B,C,HW] = dy / HW */
BD_HOT static void gap_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    const int HW = l->in_h * l->in_w;
    const float inv = 1.0f / (float)HW;
    float *dx = bd_f32(&l->dx);
    for (size_t bc = 0; bc < (size_t)B * l->in_c; bc++)
        for (int p = 0; p < HW; p++)
            dx[bc * HW + p] = dy[bc] * inv;
}

const bd_layer_op bd__op_gap = {
    .name = "GlobalAvgPool",
    .token = "gap",
    .emit_c = bd__emit_gap,
    .shape = gap_shape,
    .forward = gap_fwd,
    .backward = gap_bwd,
};

/* ---- Flatten: the same values, seen as a vector [C*H*W] */

static bd_status flatten_shape(bd_layer *l)
{
    l->out_c = l->in_size;
    l->out_h = l->out_w = 1;
    return BD_OK;
}

static void flatten_fwd(bd_layer *l, int B)
{
    memcpy(l->out.data, l->in->data, (size_t)B * l->in_size * sizeof(float));
}

static void flatten_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    if (!need_dx)
        return;
    memcpy(l->dx.data, dy, (size_t)B * l->in_size * sizeof(float));
}

const bd_layer_op bd__op_flatten = {
    .name = "Flatten",
    .rows = 1,
    .token = "flatten",
    .emit_c = bd__emit_copy,
    .shape = flatten_shape,
    .forward = flatten_fwd,
    .backward = flatten_bwd,
};
