/* resblock.c — a residual block (He et al. 2016, "Deep Residual Learning",
 * fig. 2; the ResNet of seed 002's PyTorch code):
 *
 *   a1  = BN1(conv3x3_s(x))        r1 = relu(a1)
 *   a2  = BN2(conv3x3_1(r1))
 *   sc  = x                        (same shape: identity shortcut)
 *       | BNp(conv1x1_s(x))        (channels or size change: projection)
 *   out = relu(a2 + sc)
 *
 * It is one layer built from the Conv2d and BatchNorm2d kernels, so a
 * network stays a plain sequence. The convolutions have no bias (BatchNorm's
 * β is one). Parameters: every conv weight in W (W1 [C,Cin,3,3], W2 [C,C,3,3],
 * Wp [C,Cin]) so weight decay reaches them only, every γ/β in b
 * (γ1 β1 γ2 β2 [γp βp], each [C]); state: the running means and variances
 * (rm1 rv1 rm2 rv2 [rmp rvp]) in s0. */
#include "internal.h"

#include <math.h>

static int has_proj(const bd_layer *l)
{
    return l->stride != 1 || l->in_c != l->units;
}

static bd_status res_shape(bd_layer *l)
{
    if (l->units < 1)
        return bd_error(BD_ERR_ARG, "%s: %d channels (must be >= 1)", l->name, l->units);
    if (l->stride == 0)
        l->stride = 1;
    l->k = 3;
    l->pad = 1;
    bd_conv_geom g = bd__geom(l, 1);
    g.F = l->units;
    BD_TRY(bd_conv_geom_init(&g, l->name));
    l->out_c = l->units;
    l->out_h = g.OH;
    l->out_w = g.OW;
    return BD_OK;
}

/* the geometries of conv1 (3x3, stride s), conv2 (3x3, 1) and the projection
 * (1x1, stride s) for a batch of B */
static void geoms(const bd_layer *l, int B, bd_conv_geom *g1, bd_conv_geom *g2,
                  bd_conv_geom *gp)
{
    const int C = l->units, OH = l->out_h, OW = l->out_w;
    *g1 = (bd_conv_geom){B, l->in_c, l->in_h, l->in_w, C, 3, l->stride, 1, OH, OW};
    *g2 = (bd_conv_geom){B, C, OH, OW, C, 3, 1, 1, OH, OW};
    *gp = (bd_conv_geom){B, l->in_c, l->in_h, l->in_w, C, 1, l->stride, 0, OH, OW};
}

static size_t n_weights(const bd_layer *l)
{
    const size_t C = (size_t)l->units, Ci = (size_t)l->in_c;
    return C * Ci * 9 + C * C * 9 + (has_proj(l) ? C * Ci : 0);
}

static size_t n_bn(const bd_layer *l) { return (size_t)l->units * (has_proj(l) ? 6 : 4); }

static size_t res_params(const bd_layer *l) { return n_weights(l) + n_bn(l); }
static size_t res_state(const bd_layer *l) { return n_bn(l); }

/* aux per sample: c1, r1, c2, t2 (each C*OH*OW) and, with a projection,
 * cp (C*OH*OW) and tin (Cin*H*W, its input gradient). c1, c2, cp are the
 * convolutions' outputs, which the fused BatchNorm2d keeps instead of x̂. */
static size_t res_aux_cols(const bd_layer *l)
{
    size_t o = (size_t)l->out_size;
    return has_proj(l) ? 5 * o + (size_t)l->in_size : 4 * o;
}

/* aux2: mean and 1/std of each BatchNorm, [4C] each (the last 2C for
 * --sync-bn's backward sums) */
static size_t res_aux2(const bd_layer *l) { return (size_t)l->units * (has_proj(l) ? 12 : 8); }

static size_t res_scratch(const bd_layer *l, int B)
{
    bd_conv_geom g1, g2, gp;
    geoms(l, B, &g1, &g2, &gp);
    return BD_MAX(bd_conv2d_scratch(&g1), bd_conv2d_scratch(&g2));
}

static void res_bind(bd_layer *l, float *p, float *g, float *s)
{
    int ws[1] = {(int)n_weights(l)}, bs[1] = {(int)n_bn(l)};
    l->W = bd_tensor_view(p, 1, ws);
    l->b = bd_tensor_view(p + ws[0], 1, bs);
    l->dW = bd_tensor_view(g, 1, ws);
    l->db = bd_tensor_view(g + ws[0], 1, bs);
    l->s0 = bd_tensor_view(s, 1, bs);
}

/* He init of each conv by its own fan-in; γ = 1, β = 0, running var 1 */
static void res_init(bd_layer *l, bd_init init, bd_rng *rng)
{
    const size_t C = (size_t)l->units, Ci = (size_t)l->in_c;
    const size_t n[3] = {C * Ci * 9, C * C * 9, has_proj(l) ? C * Ci : 0};
    const float fan[3] = {(float)(Ci * 9), (float)(C * 9), (float)Ci};
    float *W = bd_f32(&l->W);
    for (int k = 0; k < 3; k++) {
        float std = init.kind == BD_INIT_XAVIER ? sqrtf(1.0f / fan[k])
                  : init.kind == BD_INIT_HE     ? sqrtf(2.0f / fan[k])
                                                : init.std;
        for (size_t i = 0; i < n[k]; i++)
            *W++ = std * bd_rng_normal(rng);
    }
    float *bn = bd_f32(&l->b), *st = bd_f32(&l->s0);
    for (size_t j = 0; j < n_bn(l); j += 2 * C)
        for (size_t c = 0; c < C; c++) {
            bn[j + c] = 1.0f;     /* γ */
            bn[j + C + c] = 0.0f; /* β */
            st[j + c] = 0.0f;     /* running mean */
            st[j + C + c] = 1.0f; /* running variance */
        }
}

/* Views of the block's pieces. */
typedef struct res_parts {
    float *W1, *W2, *Wp, *dW1, *dW2, *dWp;
    float *bn[3], *dbn[3], *st[3], *mi[3]; /* γ (β follows at +C), running, mean/istd */
    float *c1, *r1, *c2, *t2, *cp, *tin;
} res_parts;

static res_parts parts(bd_layer *l, int B)
{
    const size_t C = (size_t)l->units, Ci = (size_t)l->in_c, o = (size_t)B * l->out_size;
    res_parts q;
    q.W1 = bd_f32(&l->W);
    q.W2 = q.W1 + C * Ci * 9;
    q.Wp = q.W2 + C * C * 9;
    q.dW1 = bd_f32(&l->dW);
    q.dW2 = q.dW1 + C * Ci * 9;
    q.dWp = q.dW2 + C * C * 9;
    for (int k = 0; k < 3; k++) {
        q.bn[k] = bd_f32(&l->b) + 2 * C * k;
        q.dbn[k] = bd_f32(&l->db) + 2 * C * k;
        q.st[k] = bd_f32(&l->s0) + 2 * C * k;
        q.mi[k] = bd_f32(&l->aux2) + 4 * C * k;
    }
    float *a = bd_f32(&l->aux);
    q.c1 = a;
    q.r1 = a + o; /* res_kinks reads it there */
    q.c2 = a + 2 * o;
    q.t2 = a + 3 * o;
    q.cp = a + 4 * o;
    q.tin = a + 5 * o;
    return q;
}

/* Element-wise passes of the block on the pool, in chunks (each chunk
 * writes only its own elements, so any split gives the same bits). */
#define RES_CHUNK 16384

typedef struct res_ew {
    float *dx;
    const float *a, *mask;
    size_t n;
} res_ew;

/* dx += a, or with a mask dx += a where mask > 0 */
BD_HOT static void add_part(void *ctx, int lo, int hi, int part)
{
    const res_ew *e = ctx;
    float *dx = e->dx;
    const float *a = e->a, *mk = e->mask;
    const size_t i0 = (size_t)lo * RES_CHUNK, i1 = BD_MIN(e->n, (size_t)hi * RES_CHUNK);
    if (mk)
        for (size_t i = i0; i < i1; i++) {
            const float g = a[i]; /* loaded unconditionally: a select, not a branch */
            dx[i] += mk[i] > 0.0f ? g : 0.0f;
        }
    else
        for (size_t i = i0; i < i1; i++)
            dx[i] += a[i];
}

static void add_into(float *dx, const float *a, const float *mask, size_t n)
{
    res_ew e = {dx, a, mask, n};
    bd__parallel_for((int)((n + RES_CHUNK - 1) / RES_CHUNK), add_part, &e);
}

/* Forward: each BatchNorm pass also applies what follows it (the ReLU
 * after BN1; the shortcut's sum and the output ReLU after the last BN)
 * and stores no x̂, so a feature map is written once per BN instead of
 * three times (x̂, y, the ReLU's or the sum's pass). */
static void res_fwd(bd_layer *l, int B)
{
    bd_conv_geom g1, g2, gp;
    geoms(l, B, &g1, &g2, &gp);
    res_parts q = parts(l, B);
    const int C = l->units, HW = l->out_h * l->out_w, tr = l->net->training;
    const float mom = l->p0, eps = l->p1, *x = bd_f32(l->in);
    float *scr = bd__scratch(l), *out = bd_f32(&l->out);

    bd_conv2d_forward(q.c1, x, q.W1, NULL, scr, &g1);
    bd__bn2d_fwd_fused(q.r1, q.mi[0], q.c1, NULL, 1, q.bn[0], q.bn[0] + C, q.st[0],
                       q.st[0] + C, mom, eps, tr, B, C, HW, l->net);
    bd_conv2d_forward(q.c2, q.r1, q.W2, NULL, scr, &g2);
    if (has_proj(l)) {
        bd__bn2d_fwd_fused(q.t2, q.mi[1], q.c2, NULL, 0, q.bn[1], q.bn[1] + C, q.st[1],
                           q.st[1] + C, mom, eps, tr, B, C, HW, l->net);
        bd_conv2d_forward(q.cp, x, q.Wp, NULL, scr, &gp);
        bd__bn2d_fwd_fused(out, q.mi[2], q.cp, q.t2, 1, q.bn[2], q.bn[2] + C, q.st[2],
                           q.st[2] + C, mom, eps, tr, B, C, HW, l->net);
    } else {
        bd__bn2d_fwd_fused(out, q.mi[1], q.c2, x, 1, q.bn[1], q.bn[1] + C, q.st[1],
                           q.st[1] + C, mom, eps, tr, B, C, HW, l->net);
    }
}

/* Backward: the ReLUs' masks (the output's, r1's) are applied inside the
 * BatchNorm passes that read dy, and x̂ is recomputed there from c1, c2,
 * cp. */
static void res_bwd(bd_layer *l, const float *dy, int B, int need_dx)
{
    bd_conv_geom g1, g2, gp;
    geoms(l, B, &g1, &g2, &gp);
    res_parts q = parts(l, B);
    const int C = l->units, HW = l->out_h * l->out_w, tr = l->net->training;
    const float *x = bd_f32(l->in), *out = bd_f32(&l->out);
    float *scr = bd__scratch(l), *dx = need_dx ? bd_f32(&l->dx) : NULL;

    /* dz = dy·[out > 0] is the gradient of both branches' sum; main branch:
     * BN2 (into t2), conv2 (its input gradient into c2, no longer needed),
     * BN1 with r1's ReLU (in place), conv1 */
    bd__bn2d_bwd_fused(q.t2, q.dbn[1], q.dbn[1] + C, dy, out, q.c2, q.mi[1], q.bn[1], tr, B, C,
                       HW, l->net);
    bd_conv2d_backward(q.c2, q.dW2, NULL, q.t2, q.r1, q.W2, scr, &g2);
    bd__bn2d_bwd_fused(q.c2, q.dbn[0], q.dbn[0] + C, q.c2, q.r1, q.c1, q.mi[0], q.bn[0], tr, B,
                       C, HW, l->net);
    bd_conv2d_backward(dx, q.dW1, NULL, q.c2, x, q.W1, scr, &g1);
    /* shortcut: the projection's gradient, or dz itself, joins dx */
    const size_t nin = (size_t)B * l->in_size;
    if (has_proj(l)) {
        bd__bn2d_bwd_fused(q.t2, q.dbn[2], q.dbn[2] + C, dy, out, q.cp, q.mi[2], q.bn[2], tr, B,
                           C, HW, l->net);
        bd_conv2d_backward(dx ? q.tin : NULL, q.dWp, NULL, q.t2, x, q.Wp, scr, &gp);
        if (dx)
            add_into(dx, q.tin, NULL, nin);
    } else if (dx) {
        add_into(dx, dy, out, nin);
    }
}

/* Both ReLUs: the sign of r1 (before it, a1) and of the output (a2 + sc). */
static uint64_t res_kinks(const bd_layer *l, int B, uint64_t h)
{
    const size_t n = (size_t)B * l->out_size;
    const float *r1 = bd_f32(&l->aux) + n, *out = bd_f32(&l->out);
    for (size_t i = 0; i < n; i++) {
        h ^= (uint64_t)(r1[i] > 0.0f) + 2 * (uint64_t)(out[i] > 0.0f) + 4 * (i & 0xff);
        h *= 1099511628211ULL;
    }
    return h;
}

const bd_layer_op bd__op_resblock = {
    .name = "ResBlock",
    .token = "resblock",
    .keys = {{"channels", BD__CONF_UNITS}, {"stride", BD__CONF_STRIDE},
             {"momentum", BD__CONF_P0}, {"eps", BD__CONF_P1}},
    .pname = {"W", "bn"},
    .sname = {"running", NULL},
    .decay = 1,
    .kink = 1,
    .def_p0 = 0.9f,
    .def_p1 = 1e-5f,
    .shape = res_shape,
    .param_count = res_params,
    .state_count = res_state,
    .aux_cols = res_aux_cols,
    .aux2_size = res_aux2,
    .scratch = res_scratch,
    .bind = res_bind,
    .init = res_init,
    .forward = res_fwd,
    .backward = res_bwd,
    .kink_hash = res_kinks,
};
