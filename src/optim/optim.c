/* optim.c — the optimizer interface and its table. An optimizer sees only the
 * network's flat parameter and gradient blocks, so one step is one loop and
 * new optimizers (Momentum, Adam, ...) plug in with a row in OPTIMS without
 * touching networks or the trainer. State is allocated once, in create. */
#include "internal.h"

#include <strings.h>

/* SGD (book 6.1.2):  W ← W − η ∂L/∂W */
static bd_status sgd_init(bd_optim *o, size_t n) { return BD_OK; }

static void sgd_step(bd_optim *o, float *p, const float *g, size_t n)
{
    const float lr = o->cfg.lr;
    for (size_t i = 0; i < n; i++)
        p[i] -= lr * g[i];
}

static const bd_optim_ops OPTIMS[] = {
    {"sgd", 0.01f, sgd_init, sgd_step},
};
#define NOPTIMS (sizeof OPTIMS / sizeof OPTIMS[0])

const char *const *bd_optim_names(void)
{
    static const char *names[NOPTIMS + 1];
    for (size_t i = 0; i < NOPTIMS; i++)
        names[i] = OPTIMS[i].name;
    names[NOPTIMS] = NULL;
    return names;
}

bd_status bd_optim_create(bd_optim *o, const char *name, const bd_optim_config *cfg, size_t n)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < NOPTIMS; i++) {
        if (strcasecmp(name, OPTIMS[i].name) != 0)
            continue;
        o->ops = &OPTIMS[i];
        if (cfg)
            o->cfg = *cfg;
        if (o->cfg.lr == 0.0f)
            o->cfg.lr = OPTIMS[i].default_lr;
        if (!(o->cfg.lr > 0.0f))
            return bd_error(BD_ERR_ARG, "%s: learning rate %g must be > 0", name,
                            (double)o->cfg.lr);
        return o->ops->init(o, n);
    }
    char list[256] = "";
    for (size_t i = 0; i < NOPTIMS; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, OPTIMS[i].name, sizeof list - strlen(list) - 1);
    }
    return bd_error(BD_ERR_ARG, "unknown optimizer '%s' (known: %s)", name, list);
}

void bd_optim_step(bd_optim *o, bd_net *net)
{
    o->t++;
    o->ops->step(o, bd_f32(&net->params), bd_f32(&net->grads), net->params.size);
}

void bd_optim_free(bd_optim *o)
{
    bd_tensor_free(&o->state[0]);
    bd_tensor_free(&o->state[1]);
    memset(o, 0, sizeof *o);
}
