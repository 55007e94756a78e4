/* optim.c — the optimizer interface and its table (book chapter 6.1). An
 * optimizer sees only the network's flat parameter and gradient blocks, so one
 * step is one loop over p [n] and g [n], and a new optimizer plugs in with a
 * row in OPTIMS without touching networks or the trainer.
 *
 * `init` fills in the optimizer's defaults for the config fields left at 0,
 * validates them and allocates the per-parameter state (state[0], state[1],
 * each [n]) once; `step` never allocates. bd_optim_step counts the step
 * before calling `step`, so inside it o->t is the 1-based step number.
 *
 * Every formula follows the book's common/optimizer.py exactly, in float.
 * The book's plain version: learn/ch06/optimizer.h (in double, run by
 * learn/ch06/optimizer_compare_naive.c). */
#include "internal.h"

#include <pthread.h>

#include <limits.h>
#include <math.h>
#include <strings.h>

#define BD_OPTIM_EPS 1e-7f  /* the book's 1e-7 in AdaGrad, RMSprop, Adam */

/* Note: gcc vectorises the AdaGrad/RMSprop/Adam loops only when built with
 * -fno-math-errno (sqrtf could otherwise set errno, a call inside the loop);
 * their sqrtf arguments are sums of squares, never negative. */

/* ------------------------------------------------------------- helpers */

/* A rate in [0, 1): 0 becomes `def`. */
static bd_status rate_field(const bd_optim *o, const char *field, float *v, float def)
{
    if (*v == 0.0f)
        *v = def;
    if (!(*v >= 0.0f && *v < 1.0f))
        return bd_error(BD_ERR_ARG, "%s: config.%s = %g must be in [0, 1)", o->ops->name,
                        field, (double)*v);
    return BD_OK;
}

/* eps > 0 (finite): 0 becomes the book's 1e-7. */
static bd_status eps_field(bd_optim *o)
{
    if (o->cfg.eps == 0.0f)
        o->cfg.eps = BD_OPTIM_EPS;
    if (!(o->cfg.eps > 0.0f && isfinite(o->cfg.eps)))
        return bd_error(BD_ERR_ARG, "%s: config.eps = %g must be > 0", o->ops->name,
                        (double)o->cfg.eps);
    return BD_OK;
}

/* Allocate `count` zeroed state vectors of n floats (the book's
 * np.zeros_like(param), done once here instead of on the first update). */
static bd_status alloc_state(bd_optim *o, size_t n, int count)
{
    if (n > (size_t)INT_MAX)
        return bd_error(BD_ERR_SHAPE, "%s: %zu parameters are too many for the state",
                        o->ops->name, n);
    int shape[1] = {(int)n};
    for (int i = 0; i < count; i++)
        BD_TRY(bd_tensor_alloc(&o->state[i], BD_F32, 1, shape));
    return BD_OK;
}

/* ----------------------------------------------------------------- SGD */

/* SGD (book eq. 6.1):  W ← W − η ∂L/∂W.  No state. */
static bd_status sgd_init(bd_optim *o, size_t n) { return BD_OK; }

BD_HOT static void sgd_step(bd_optim *o, float *restrict p, const float *restrict g, size_t n)
{
    const float lr = o->cfg.lr;
    for (size_t i = 0; i < n; i++)
        p[i] -= lr * g[i];
}

/* ------------------------------------------------------------ Momentum */

/* Momentum (book eq. 6.3, 6.4), state[0] = v [n], zero at the start:
 *   v ← αv − η ∂L/∂W        (α = cfg.momentum, default 0.9)
 *   W ← W + v                                                       */
static bd_status momentum_init(bd_optim *o, size_t n)
{
    BD_TRY(rate_field(o, "momentum", &o->cfg.momentum, 0.9f));
    return alloc_state(o, n, 1);
}

BD_HOT static void momentum_step(bd_optim *o, float *restrict p, const float *restrict g, size_t n)
{
    const float lr = o->cfg.lr, a = o->cfg.momentum;
    float *restrict v = bd_f32(&o->state[0]);
    for (size_t i = 0; i < n; i++) {
        v[i] = a * v[i] - lr * g[i];
        p[i] += v[i];
    }
}

/* ------------------------------------------------------------ Nesterov */

/* Nesterov's accelerated gradient as in the book's common/optimizer.py
 * (the form of arXiv:1212.0901), state[0] = v [n]:
 *   v ← αv − η g
 *   W ← W + α² v − (1 + α) η g                                      */
BD_HOT static void nesterov_step(bd_optim *o, float *restrict p, const float *restrict g, size_t n)
{
    const float lr = o->cfg.lr, a = o->cfg.momentum;
    const float a2 = a * a, c = (1.0f + a) * lr;
    float *restrict v = bd_f32(&o->state[0]);
    for (size_t i = 0; i < n; i++) {
        v[i] = a * v[i] - lr * g[i];
        p[i] += a2 * v[i] - c * g[i];
    }
}

/* ------------------------------------------------------------- AdaGrad */

/* AdaGrad (book eq. 6.5, 6.6), state[0] = h [n], zero at the start:
 *   h ← h + ∂L/∂W ⊙ ∂L/∂W
 *   W ← W − η ∂L/∂W / (√h + ε)     (ε = cfg.eps, default 1e-7)      */
static bd_status adagrad_init(bd_optim *o, size_t n)
{
    BD_TRY(eps_field(o));
    return alloc_state(o, n, 1);
}

BD_HOT static void adagrad_step(bd_optim *o, float *restrict p, const float *restrict g, size_t n)
{
    const float lr = o->cfg.lr, eps = o->cfg.eps;
    float *restrict h = bd_f32(&o->state[0]);
    for (size_t i = 0; i < n; i++) {
        h[i] += g[i] * g[i];
        p[i] -= lr * g[i] / (sqrtf(h[i]) + eps);
    }
}

/* ------------------------------------------------------------- RMSprop */

/* RMSprop (book 6.1.5, common/optimizer.py), state[0] = h [n]:
 *   h ← ρh + (1 − ρ) g ⊙ g         (ρ = cfg.decay, default 0.99)
 *   W ← W − η g / (√h + ε)                                          */
static bd_status rmsprop_init(bd_optim *o, size_t n)
{
    BD_TRY(rate_field(o, "decay", &o->cfg.decay, 0.99f));
    BD_TRY(eps_field(o));
    return alloc_state(o, n, 1);
}

BD_HOT static void rmsprop_step(bd_optim *o, float *restrict p, const float *restrict g, size_t n)
{
    const float lr = o->cfg.lr, eps = o->cfg.eps, rho = o->cfg.decay, c = 1.0f - rho;
    float *restrict h = bd_f32(&o->state[0]);
    for (size_t i = 0; i < n; i++) {
        h[i] = rho * h[i] + c * g[i] * g[i];
        p[i] -= lr * g[i] / (sqrtf(h[i]) + eps);
    }
}

/* ---------------------------------------------------------------- Adam */

/* Adam (book 6.1.6, common/optimizer.py), state[0] = m [n], state[1] = v [n],
 * t = o->t (1-based). The bias correction is folded into the step size:
 *   η_t = η √(1 − β2^t) / (1 − β1^t)
 *   m ← m + (1 − β1)(g − m)
 *   v ← v + (1 − β2)(g ⊙ g − v)
 *   W ← W − η_t m / (√v + ε)    (β1 0.9, β2 0.999, ε 1e-7 by default) */
static bd_status adam_init(bd_optim *o, size_t n)
{
    BD_TRY(rate_field(o, "beta1", &o->cfg.beta1, 0.9f));
    BD_TRY(rate_field(o, "beta2", &o->cfg.beta2, 0.999f));
    BD_TRY(eps_field(o));
    return alloc_state(o, n, 2);
}

BD_HOT static void adam_step(bd_optim *o, float *restrict p, const float *restrict g, size_t n)
{
    const double t = (double)o->t;
    const float lr_t = (float)((double)o->cfg.lr * sqrt(1.0 - pow((double)o->cfg.beta2, t)) /
                               (1.0 - pow((double)o->cfg.beta1, t)));
    const float c1 = 1.0f - o->cfg.beta1, c2 = 1.0f - o->cfg.beta2, eps = o->cfg.eps;
    float *restrict m = bd_f32(&o->state[0]), *restrict v = bd_f32(&o->state[1]);
    for (size_t i = 0; i < n; i++) {
        m[i] += c1 * (g[i] - m[i]);
        v[i] += c2 * (g[i] * g[i] - v[i]);
        p[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
    }
}

/* --------------------------------------------------------------- table */

static const bd_optim_ops OPTIMS[] = {
    {"sgd", 0.01f, sgd_init, sgd_step},
    {"momentum", 0.01f, momentum_init, momentum_step},
    {"nesterov", 0.01f, momentum_init, nesterov_step},
    {"adagrad", 0.01f, adagrad_init, adagrad_step},
    {"rmsprop", 0.01f, rmsprop_init, rmsprop_step},
    {"adam", 0.001f, adam_init, adam_step},
};
#define NOPTIMS (sizeof OPTIMS / sizeof OPTIMS[0])

/* The list is filled once (pthread_once), so threads may ask for it at the
 * same time: writing it on every call would be a data race. */
static const char *g_names[NOPTIMS + 1];

static void fill_names(void)
{
    for (size_t i = 0; i < NOPTIMS; i++)
        g_names[i] = OPTIMS[i].name;
    g_names[NOPTIMS] = NULL;
}

const char *const *bd_optim_names(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fill_names);
    return g_names;
}

bd_status bd__optim_init(bd_optim *o, const char *name, const bd_optim_config *cfg, size_t n)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; name && i < NOPTIMS; i++) {
        if (strcasecmp(name, OPTIMS[i].name) != 0)
            continue;
        o->ops = &OPTIMS[i];
        o->n = n;
        if (cfg)
            o->cfg = *cfg;
        if (o->cfg.lr == 0.0f)
            o->cfg.lr = OPTIMS[i].default_lr;
        if (!(o->cfg.lr > 0.0f && isfinite(o->cfg.lr)))
            return bd_error(BD_ERR_ARG, "%s: config.lr = %g must be > 0", o->ops->name,
                            (double)o->cfg.lr);
        bd_status s = o->ops->init(o, n);
        if (s != BD_OK) {
            /* leave nothing behind: a failed create needs no free */
            bd_tensor_free(&o->state[0]);
            bd_tensor_free(&o->state[1]);
        }
        return s;
    }
    char list[256] = "";
    for (size_t i = 0; i < NOPTIMS; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, OPTIMS[i].name, sizeof list - strlen(list) - 1);
    }
    return bd_error(BD_ERR_ARG, "unknown optimizer '%s' (known: %s)", name ? name : "(null)",
                    list);
}

void bd__optim_release(bd_optim *o)
{
    bd_tensor_free(&o->state[0]);
    bd_tensor_free(&o->state[1]);
    memset(o, 0, sizeof *o);
}

bd_status bd_optim_check(const char *name, const bd_optim_config *cfg)
{
    if (!name)
        return bd_error(BD_ERR_ARG, "bd_optim_check: name is NULL");
    bd_optim o;
    bd_status s = bd__optim_init(&o, name, cfg, 0);
    bd__optim_release(&o);
    return s;
}

/* Sized from the network, so no count is passed by hand: an optimizer made
 * for the wrong count (the old silent no-op training) cannot be created. */
bd_status bd_optim_create(bd_optim **out, const char *name, const bd_optim_config *cfg,
                          const bd_net *net)
{
    if (!out)
        return bd_error(BD_ERR_ARG, "bd_optim_create: out is NULL");
    *out = NULL;
    if (!name || !net)
        return bd_error(BD_ERR_ARG, "bd_optim_create: %s is NULL", !name ? "name" : "net");
    if (!net->built)
        return bd_error(BD_ERR_ARG, "bd_optim_create: the network is not built "
                        "(call bd_net_build first)");
    size_t n = bd_net_trainable_count(net);
    if (n == 0)
        return bd_error(BD_ERR_ARG, "bd_optim_create: the network has no trainable parameters"
                        "%s", net->frozen ? " (every layer with parameters is frozen)" : "");
    bd_optim *o = calloc(1, sizeof *o);
    if (!o)
        return bd_error(BD_ERR_NOMEM, "bd_optim_create: out of memory");
    bd_status s = bd__optim_init(o, name, cfg, n);
    if (s != BD_OK) {
        free(o);
        return s;
    }
    *out = o;
    return BD_OK;
}

/* The update over the thread pool. Every rule updates each parameter on
 * its own (from its gradient and its own state), so the block is cut into
 * chunks of OPT_CHUNK parameters, each chunk stepped by the op with the
 * state views moved to its start (a copy of the optimizer on the stack):
 * how the block is split changes no bit. With `check`, each chunk's new
 * weights are checked for Inf/NaN while they are still in cache, instead
 * of another pass over the whole block afterwards. */
#define OPT_CHUNK BD__OPT_CHUNK

typedef struct step_job {
    const bd_optim *o;
    float *p;
    float *g;
    size_t n;
    int check;
    /* the row-parallel parts' gradient blocks still to add into g (rows.c):
     * k blocks at extra + q*stride, indexed from the trainable offset off */
    const float *extra;
    size_t stride, off, from;
    int k;
    double *sq; /* NULL, or Σ g² of each chunk (the gradient norm's, trainer.c) */
    int c0;     /* the first chunk stepped (a rank's slice: the sharded update) */
    int bad[BD__MAX_PARTS]; /* by part: a chunk of it is not finite */
} step_job;

BD_HOT static int chunk_finite(const float *x, size_t n) { return bd__all_finite(x, n); }

/* Σ g[0..n)² in doubles, in 8 independent partial sums: one running sum
 * is a chain of dependent adds (4 cycles each), and this runs every step
 * over the whole gradient block (4% of a simple_convnet epoch before) */
BD_HOT static double sum_squares(const float *g, size_t n)
{
    double acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += (double)g[i + k] * g[i + k];
    for (; i < n; i++)
        acc[0] += (double)g[i] * g[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

double bd__sum_squares(const float *g, size_t n) { return sum_squares(g, n); }

static void step_chunks(void *ctx, int lo, int hi, int part)
{
    step_job *j = ctx;
    bd_optim oc = *j->o;
    for (int c = lo + j->c0; c < hi + j->c0; c++) {
        const size_t a = (size_t)c * OPT_CHUNK, len = BD_MIN(j->n - a, (size_t)OPT_CHUNK);
        for (int k = 0; k < 2; k++)
            if (j->o->state[k].data)
                oc.state[k].data = bd_f32(&j->o->state[k]) + a;
        if (j->k) /* the gradient summed over the parts while the chunk is in cache */
            bd__add_blocks(j->g - j->off, j->extra, j->stride, j->k, j->from, j->off + a, len);
        if (j->sq)
            j->sq[c] = sum_squares(j->g + a, len);
        oc.ops->step(&oc, j->p + a, j->g + a, len);
        if (j->check && !chunk_finite(j->p + a, len))
            j->bad[part] = 1;
    }
}

/* The checks of bd_optim_step; the trainable suffix of the block. */
static bd_status step_args(const bd_optim *o, const bd_net *net, size_t *off)
{
    if (!o || !o->ops || !net)
        return bd_error(BD_ERR_ARG, "bd_optim_step: %s is NULL",
                        !net ? "the network" : "the optimizer");
    /* after frozen layers (transfer learning) only a suffix of the block
     * trains; without them the suffix is the whole block */
    *off = bd_net_trainable_offset(net);
    const size_t n = net->params.size - *off;
    /* The state was sized in create; a block of another size would read and
     * write past it, and an optimizer made for 0 parameters (before
     * bd_net_build) would silently train nothing. Refuse both. */
    if (o->n != n)
        return bd_error(BD_ERR_SHAPE, "%s: the network has %zu trainable parameters, but the "
                        "optimizer was created for %zu%s", o->ops->name, n, o->n,
                        o->n == 0 ? " (was it created before bd_net_build?)" : "");
    return BD_OK;
}

bd_status bd__optim_step_checked(bd_optim *o, bd_net *net, int *finite)
{
    return bd__optim_update(o, net, finite, NULL);
}

bd_status bd__optim_update(bd_optim *o, bd_net *net, int *finite, double *sq)
{
    return bd__optim_update_range(o, net, 0, o ? o->n : 0, finite, sq);
}

bd_status bd__optim_update_range(bd_optim *o, bd_net *net, size_t lo, size_t hi, int *finite,
                                 double *sq)
{
    size_t off = 0;
    BD_TRY(step_args(o, net, &off));
    if (lo > hi || hi > o->n || lo % OPT_CHUNK || (hi % OPT_CHUNK && hi != o->n))
        return bd_error(BD_ERR_ARG, "%s: the slice [%zu, %zu) of %zu parameters is not cut at "
                        "multiples of %d", o->ops->name, lo, hi, o->n, OPT_CHUNK);
    o->t++;
    step_job j = {.o = o, .p = bd_f32(&net->params) + off, .g = bd_f32(&net->grads) + off,
                  .n = o->n, .check = finite != NULL, .off = off, .sq = sq,
                  .c0 = (int)(lo / OPT_CHUNK)};
    /* a row-parallel gradient (rows.c) is completed here, chunk by chunk */
    j.k = bd__net_rows_pending(net, &j.extra, &j.stride, &j.from);
    bd__parallel_for((int)((hi - lo + OPT_CHUNK - 1) / OPT_CHUNK), step_chunks, &j);
    bd__net_rows_done(net);
    if (finite) {
        *finite = 1;
        for (int p = 0; p < BD__MAX_PARTS; p++)
            *finite &= !j.bad[p];
    }
    return BD_OK;
}

bd_status bd_optim_step(bd_optim *o, bd_net *net) { return bd__optim_step_checked(o, net, NULL); }

void bd_optim_free(bd_optim *o)
{
    if (!o)
        return;
    bd__optim_release(o);
    free(o);
}

const char *bd_optim_name(const bd_optim *o) { return o && o->ops ? o->ops->name : ""; }
const bd_optim_config *bd_optim_get_config(const bd_optim *o) { return o ? &o->cfg : NULL; }
size_t bd_optim_size(const bd_optim *o) { return o ? o->n : 0; }
long bd_optim_steps(const bd_optim *o) { return o ? o->t : 0; }

bd_status bd_optim_set_lr(bd_optim *o, float lr)
{
    if (!o || !o->ops)
        return bd_error(BD_ERR_ARG, "bd_optim_set_lr: the optimizer is NULL");
    if (!(lr > 0.0f && isfinite(lr)))
        return bd_error(BD_ERR_ARG, "%s: lr = %g must be > 0", o->ops->name, (double)lr);
    o->cfg.lr = lr;
    return BD_OK;
}
