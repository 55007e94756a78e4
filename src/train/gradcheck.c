/* gradcheck.c — the numerical gradient (book 4.4, eq. 4.4 central
 * difference) and the gradient check built on it (book 5.7.3): backprop is
 * fast but easy to get wrong; the numerical gradient is slow but simple.
 * The book's plain version: learn/ch04/gradient_2d.c (numerical_gradient) and
 * learn/ch05/gradient_check.c. */
#include "internal.h"

#include <math.h>
#include <stdio.h>

void bd_numerical_gradient(bd_scalar_fn f, void *ud, float *x, float *grad, size_t n,
                           float h, const size_t *which, size_t count)
{
    size_t m = which ? count : n;
    for (size_t k = 0; k < m; k++) {
        size_t i = which ? which[k] : k;
        if (i >= n)
            continue;
        float keep = x[i];
        x[i] = keep + h;
        double fp = f(ud);
        x[i] = keep - h;
        double fm = f(ud);
        x[i] = keep;
        /* divide by the step actually taken, which float rounding may change */
        double step = (double)(keep + h) - (double)(keep - h);
        grad[i] = (float)((fp - fm) / step);
    }
}

void bd_gradcheck_config_default(bd_gradcheck_config *c)
{
    if (!c)
        return;
    c->h = 1e-2f;
    c->max_entries = 0;
    c->tol_abs = 1e-4f;
    c->tol_rel = 1e-2f;
    c->seed = 1;
}

typedef struct loss_ctx {
    bd_net *net;
    const bd_tensor *x;
    bd_labels t;
    bd_rng rng; /* the layers' PRNG as it was before the check */
} loss_ctx;

/* The relative difference |a − n| / max(|a|, |n|, floor): the floor keeps
 * entries whose true gradient is ~0 from dominating with noise. In float32 a
 * central difference with h = 1e-2 carries about 1e-5 of rounding noise
 * (measured on these networks); a floor of 2e-3 keeps that at half the 1e-2
 * relative tolerance, while a wrong backward still shows by orders of
 * magnitude. */
#define REL_FLOOR 2e-3

/* Every evaluation replays the same random draws (Dropout masks, RReLU
 * slopes), so in training mode the loss is one fixed function of the
 * parameters and its numerical gradient means something. */
static double loss_of(void *ud)
{
    loss_ctx *c = ud;
    c->net->rng = c->rng;
    if (bd_net_loss(c->net, c->x, c->t, NULL) != BD_OK)
        return NAN;
    return c->net->last_loss;
}

/* A fingerprint of which side of 0 the input of every kinked layer (the ReLU
 * family: op->kink) is on after the last forward: if it changes between x-h
 * and x+h, the loss has a kink in between. */
static uint64_t relu_pattern(const bd_net *net)
{
    uint64_t hsh = 1469598103934665603ULL; /* FNV-1a over the on/off bits */
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer *l = &net->layers[i];
        const bd_layer_op *op = bd__layer_op(l->kind);
        if (!op->kink)
            continue;
        if (op->kink_hash) {
            hsh = op->kink_hash(l, l->out.shape[0], hsh);
            continue;
        }
        /* the input's sign: the output's is the same only for slopes > 0 */
        const float *y = bd_f32(l->in);
        for (size_t k = 0; k < l->out.size; k++) {
            hsh ^= (uint64_t)(y[k] > 0.0f) + 2 * (k & 0xff);
            hsh *= 1099511628211ULL;
        }
    }
    return hsh;
}

/* Central difference at element i of p. Returns 1 (and no value) if the
 * step switches any ReLU on or off, or, for a weight under an L1 penalty
 * (|W| has its kink at 0), moves it across 0: across a kink the loss has no
 * derivative and the difference means nothing. Retrying with a smaller step
 * does not help in float32: at h/100 the rounding noise is as large as the
 * error. */
static int kink_free_diff(loss_ctx *c, float *p, size_t i, float h, uint64_t base, int l1,
                          double *g)
{
    float keep = p[i];
    if (l1 && (keep - h < 0.0f) != (keep + h < 0.0f))
        return 1;
    p[i] = keep + h;
    double fp = loss_of(c);
    uint64_t pp = relu_pattern(c->net);
    p[i] = keep - h;
    double fm = loss_of(c);
    uint64_t pm = relu_pattern(c->net);
    p[i] = keep;
    if (pp != base || pm != base)
        return 1;
    *g = (fp - fm) / ((double)(keep + h) - (double)(keep - h));
    return 0;
}

/* A seeded random sample of `count` of the n entries, without repeats, into
 * *which (malloc'd; NULL when every entry is checked). */
static bd_status pick_entries(bd_rng *rng, size_t n, size_t max_entries, size_t **which,
                              size_t *count)
{
    *which = NULL;
    *count = n;
    if (!max_entries || n <= max_entries)
        return BD_OK;
    size_t *w = malloc(n * sizeof *w);
    if (!w)
        return bd_error(BD_ERR_NOMEM, "gradcheck: out of memory");
    for (size_t i = 0; i < n; i++)
        w[i] = i;
    for (size_t i = 0; i < max_entries; i++) {
        size_t j = i + bd_rng_below(rng, (uint32_t)(n - i));
        size_t tmp = w[i];
        w[i] = w[j];
        w[j] = tmp;
    }
    *which = w;
    *count = max_entries;
    return BD_OK;
}

/* Compare backprop's gradient bg with the numerical one on `count` entries
 * (which[k], or k) of the parameter tensor p, into row. */
static void compare_tensor(loss_ctx *c, float *p, const float *bg, const size_t *which,
                           size_t count, float h, uint64_t base, int l1_kink,
                           bd_gradcheck_row *row)
{
    size_t used = 0;
    for (size_t k = 0; k < count; k++) {
        size_t i = which ? which[k] : k;
        double nv;
        if (kink_free_diff(c, p, i, h, base, l1_kink, &nv)) {
            row->kinks++;
            continue;
        }
        used++;
        double a = bg[i];
        double d = fabs(a - nv);
        if (!isfinite(nv))
            d = INFINITY;
        double den = fmax(fmax(fabs(a), fabs(nv)), REL_FLOOR);
        double rel = d / den;
        row->mean_abs += d;
        row->mean_rel += rel;
        row->max_abs = fmax(row->max_abs, d);
        row->max_rel = fmax(row->max_rel, rel);
    }
    row->checked = used;
    row->mean_abs /= (double)(used ? used : 1);
    row->mean_rel /= (double)(used ? used : 1);
}

/* What the check found over all tensors so far. */
typedef struct check_tally {
    int failed;
    double worst;          /* the worst row's excess over the tolerances */
    char worst_name[40];
    size_t used, count;    /* entries compared, entries picked */
} check_tally;

static void tally_row(check_tally *t, const bd_gradcheck_row *row, size_t count,
                      const bd_gradcheck_config *cfg)
{
    t->used += row->checked;
    t->count += count;
    if (row->mean_abs > cfg->tol_abs || row->max_rel > cfg->tol_rel ||
        !isfinite(row->mean_abs)) {
        t->failed = 1;
        double score = fmax(row->mean_abs / cfg->tol_abs, row->max_rel / cfg->tol_rel);
        if (!(score <= t->worst)) {
            t->worst = score;
            snprintf(t->worst_name, sizeof t->worst_name, "%s", row->name);
        }
    }
}

/* Check every parameter tensor of the net (W then b of each layer with
 * parameters) against back, the saved backprop gradient block. */
static bd_status check_all(loss_ctx *ctx, const bd_tensor *back, const bd_gradcheck_config *cfg,
                           uint64_t base, bd_gradcheck_row *rows, int *nr, check_tally *t)
{
    bd_net *net = ctx->net;
    bd_rng rng;
    bd_rng_seed(&rng, cfg->seed);
    int naff = 0; /* layers with parameters so far */
    for (int li = 0; li < net->nlayers; li++) {
        bd_layer *l = &net->layers[li];
        if (l->param_count == 0)
            continue;
        naff++;
        bd_tensor *pt[2] = {&l->W, &l->b};
        const char *const *pn = bd__layer_op(l->kind)->pname;
        for (int q = 0; q < 2; q++) {
            if (!pt[q]->data || pt[q]->size == 0 || !pn[q])
                continue;
            size_t n = pt[q]->size, off = (size_t)(bd_f32(pt[q]) - bd_f32(&net->params));
            size_t *which, count;
            BD_TRY(pick_entries(&rng, n, cfg->max_entries, &which, &count));
            /* the L1 term's kink applies to decayed weights (W, not b) */
            const int l1_kink = q == 0 && net->l1 != 0.0f && bd__layer_op(l->kind)->decay;
            bd_gradcheck_row row;
            memset(&row, 0, sizeof row);
            snprintf(row.name, sizeof row.name, "%s%d", pn[q], naff);
            compare_tensor(ctx, bd_f32(pt[q]), bd_f32(back) + off, which, count, cfg->h, base,
                           l1_kink, &row);
            free(which);
            tally_row(t, &row, count, cfg);
            if (rows)
                rows[*nr] = row;
            (*nr)++;
        }
    }
    return BD_OK;
}

bd_status bd_gradcheck(bd_net *net, const bd_tensor *x, bd_labels t,
                       const bd_gradcheck_config *cfg, bd_gradcheck_row *rows, int *nrows)
{
    if (!net || !x)
        return bd_error(BD_ERR_ARG, "bd_gradcheck: %s is NULL", !net ? "net" : "x");
    bd_gradcheck_config dc;
    if (!cfg) {
        bd_gradcheck_config_default(&dc);
        cfg = &dc;
    }
    int B = x->ndim ? x->shape[0] : 0;
    if (B > net->max_batch)
        BD_TRY(bd_net_reserve(net, B));
    const bd_rng saved = net->rng;
    BD_TRY(bd_net_gradient(net, x, t, NULL));

    /* Copy backprop's answer: the numerical passes run forwards only, but a
     * copy keeps the comparison honest whatever the layers do. */
    size_t P = net->params.size;
    bd_tensor back;
    int shape[1] = {(int)P};
    BD_TRY(bd_tensor_alloc(&back, BD_F32, 1, shape));
    memcpy(back.data, net->grads.data, P * sizeof(float));

    loss_ctx ctx = {net, x, t, saved};
    loss_of(&ctx);
    const uint64_t base = relu_pattern(net);
    int nr = 0;
    check_tally tally;
    memset(&tally, 0, sizeof tally);
    bd_status s = check_all(&ctx, &back, cfg, base, rows, &nr, &tally);
    net->rng = saved;
    /* leave the gradient block as backprop computed it */
    memcpy(net->grads.data, back.data, P * sizeof(float));
    bd_tensor_free(&back);
    if (nrows)
        *nrows = nr;
    if (s != BD_OK)
        return s;
    /* a tensor whose every step crossed a kink is reported with 0 checked;
     * a check that compared nothing at all is not a pass */
    if (!tally.failed && tally.used == 0 && tally.count > 0)
        return bd_error(BD_ERR_CHECK,
                        "gradient check failed: every step crossed a kink (a ReLU switching, "
                        "a max pool changing its pick), so nothing was compared; use fewer "
                        "samples or a smaller network");
    if (tally.failed)
        return bd_error(BD_ERR_CHECK,
                        "gradient check failed: %s differs from the numerical gradient "
                        "(limits: mean abs %g, max rel %g)",
                        tally.worst_name, (double)cfg->tol_abs, (double)cfg->tol_rel);
    return BD_OK;
}
