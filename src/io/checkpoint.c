/* checkpoint.c — a training run saved so it can go on: DIR/checkpoint.safetensors
 * is a model file (src/io/model.c) with, in addition,
 *
 *   tensors   optim.state0, optim.state1   the optimizer's moments [n] (n: the
 *                                          trainable parameters)
 *             train.perm                   I32 [N]: the shuffled sample order
 *             train.best_params/_state     with early stopping: the best epoch
 *   metadata  badak.checkpoint "1", badak.optim.* (name, hyperparameters, step
 *             count t), badak.train.* (iteration, epoch, partial epoch loss,
 *             learning rate, PRNG states, results so far), badak.net.rng,
 *             badak.run (the caller's text: the CLI keeps its options there).
 *
 * Floats are written with 9 significant digits and doubles with 17, which
 * read back to the same bits; PRNG states in hex. So a resumed run computes
 * exactly what the uninterrupted one would have. */
#include "io/st.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#define CKPT_FILE "checkpoint.safetensors"

const char *bd_checkpoint_path(const char *dir, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    if (!dir) {
        buf[0] = 0;
        return buf;
    }
    snprintf(buf, len, "%s/%s", dir, CKPT_FILE);
    return buf;
}

void bd_train_pos_free(bd_train_pos *pos)
{
    if (!pos)
        return;
    bd_tensor_free(&pos->perm);
    bd_tensor_free(&pos->best_p);
    bd_tensor_free(&pos->best_s);
    memset(pos, 0, sizeof *pos);
}

static bd_status put_rng(cJSON *m, const char *key, const bd_rng *r)
{
    uint32_t spare;
    memcpy(&spare, &r->spare, sizeof spare);
    return bd__meta_fmt(m, key, "%016llx %016llx %016llx %016llx %d %08x",
                        (unsigned long long)r->s[0], (unsigned long long)r->s[1],
                        (unsigned long long)r->s[2], (unsigned long long)r->s[3],
                        r->has_spare != 0, (unsigned)spare);
}

static bd_status get_rng(const bd__st *st, const char *key, bd_rng *r)
{
    const char *v = bd__st_meta(st, key);
    unsigned long long s[4];
    int spare_on, used = 0;
    unsigned spare;
    if (!v || sscanf(v, "%16llx %16llx %16llx %16llx %d %8x%n", &s[0], &s[1], &s[2], &s[3],
                     &spare_on, &spare, &used) != 6 || v[used] || (spare_on != 0 && spare_on != 1) ||
        (s[0] | s[1] | s[2] | s[3]) == 0)
        return bd_error(BD_ERR_FORMAT, "%s: __metadata__ '%s' is missing or not a PRNG state",
                        st->origin, key);
    for (int i = 0; i < 4; i++)
        r->s[i] = (uint64_t)s[i];
    r->has_spare = spare_on;
    uint32_t u = spare;
    memcpy(&r->spare, &u, sizeof r->spare);
    return BD_OK;
}

static void tensor_out(bd__st_out *o, const char *name, const bd_tensor *t, size_t n, int i32)
{
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", name);
    o->is_i32 = i32;
    o->ndim = 1;
    o->shape[0] = (int)n;
    o->data = t->data;
}

bd_status bd_checkpoint_save(const char *dir, const bd_net *net, const bd_optim *opt,
                             const bd_train_pos *pos, const bd_model_meta *meta,
                             const char *run)
{
    if (!dir || !net || !opt || !pos)
        return bd_error(BD_ERR_ARG, "bd_checkpoint_save: %s is NULL",
                        !dir ? "dir" : !net ? "net" : !opt ? "opt" : "pos");
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, CKPT_FILE) >= sizeof path)
        return bd_error(BD_ERR_ARG, "checkpoint folder name too long: %.60s...", dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return bd_error(BD_ERR_IO, "%s: cannot create the checkpoint folder: %s", dir,
                        strerror(errno));
    if (!net->built || !opt->ops)
        return bd_error(BD_ERR_ARG, "%s: network or optimizer not set up", path);
    int nm = bd__model_tensors(net, NULL, 0);
    bd__st_out *t = calloc((size_t)nm + 6, sizeof *t);
    cJSON *m = cJSON_CreateObject();
    if (!t || !m) {
        free(t);
        cJSON_Delete(m);
        return bd_error(BD_ERR_NOMEM, "%s: out of memory", path);
    }
    int n = bd__model_tensors(net, t, nm);
    size_t ntrain = bd_net_trainable_count(net);
    for (int i = 0; i < 2; i++)
        if (opt->state[i].data)
            tensor_out(&t[n++], i ? "optim.state1" : "optim.state0", &opt->state[i], ntrain, 0);
    if (pos->perm.data && pos->perm.size)
        tensor_out(&t[n++], "train.perm", &pos->perm, pos->perm.size, 1);
    if (pos->best_p.data) {
        tensor_out(&t[n++], "train.best_params", &pos->best_p, net->params.size, 0);
        tensor_out(&t[n++], "train.best_state", &pos->best_s, net->state.size, 0);
    }
    const bd_optim_config *c = &opt->cfg;
    const bd_train_result *r = &pos->res;
    bd_status s = bd__model_meta_put(m, net, meta);
#define PUT(...)                                  \
    do {                                          \
        if (s == BD_OK)                           \
            s = bd__meta_fmt(m, __VA_ARGS__);     \
    } while (0)
    PUT("badak.checkpoint", "1");
    PUT("badak.optim.name", "%s", opt->ops->name);
    PUT("badak.optim.lr", "%.9g", (double)c->lr);
    PUT("badak.optim.momentum", "%.9g", (double)c->momentum);
    PUT("badak.optim.beta1", "%.9g", (double)c->beta1);
    PUT("badak.optim.beta2", "%.9g", (double)c->beta2);
    PUT("badak.optim.eps", "%.9g", (double)c->eps);
    PUT("badak.optim.decay", "%.9g", (double)c->decay);
    PUT("badak.optim.t", "%ld", opt->t);
    PUT("badak.train.iter", "%ld", pos->iter);
    PUT("badak.train.epoch", "%d", pos->epoch);
    PUT("badak.train.epoch_loss", "%.17g", pos->epoch_loss);
    PUT("badak.train.epoch_iters", "%ld", pos->epoch_iters);
    PUT("badak.train.lr", "%.9g", (double)pos->lr);
    PUT("badak.train.prev_loss", "%.17g", pos->prev_loss);
    PUT("badak.train.best_val", "%.17g", pos->best_val);
    PUT("badak.train.since_best", "%d", pos->since_best);
    PUT("badak.train.res", "%d %ld %d %d %.9g %.9g %.9g %.9g %.9g", r->epochs, r->iters,
        r->best_epoch, r->stopped_early, (double)r->final_loss, (double)r->train_acc,
        (double)r->test_acc, (double)r->val_acc, (double)r->final_lr);
#undef PUT
    if (s == BD_OK)
        s = put_rng(m, "badak.train.rng", &pos->rng);
    if (s == BD_OK)
        s = put_rng(m, "badak.train.aug_rng", &pos->aug_rng);
    if (s == BD_OK)
        s = put_rng(m, "badak.net.rng", &net->rng);
    if (s == BD_OK && run)
        s = bd__meta_str(m, "badak.run", run);
    if (s == BD_OK)
        s = bd__st_write(path, t, n, m);
    free(t);
    cJSON_Delete(m);
    return s;
}

/* a 1-d F32/I32 tensor of exactly n elements, or absent */
static bd_status take(const bd__st *st, const char *name, size_t n, int i32, int required,
                      bd_tensor *out)
{
    const bd__st_entry *e = bd__st_find(st, name);
    if (!e) {
        if (required)
            return bd_error(BD_ERR_FORMAT, "%s: tensor '%s' is missing", st->origin, name);
        return BD_OK;
    }
    if (e->is_i32 != i32 || e->ndim != 1 || e->count != n)
        return bd_error(BD_ERR_FORMAT, "%s: tensor '%s' must be %s [%zu]", st->origin, name,
                        i32 ? "I32" : "F32", n);
    if (!out->data) {
        int shape[1] = {(int)(n ? n : 1)};
        BD_TRY(bd_tensor_alloc(out, i32 ? BD_I32 : BD_F32, 1, shape));
        out->size = n;
    }
    bd__st_copy(st, e, out->data);
    return BD_OK;
}

static bd_status meta_float(const bd__st *st, const char *key, float *out)
{
    double d;
    BD_TRY(bd__meta_get_double(st, key, &d));
    *out = (float)d;
    return BD_OK;
}

/* the optimizer, created as it was, then its state and step count */
static bd_status load_optim(const bd__st *st, const bd_net *net, bd_optim *opt)
{
    const char *f = st->origin;
    const char *name = bd__st_meta(st, "badak.optim.name");
    if (!name)
        return bd_error(BD_ERR_FORMAT, "%s: __metadata__ lacks 'badak.optim.name'", f);
    bd_optim_config c;
    memset(&c, 0, sizeof c);
    BD_TRY(meta_float(st, "badak.optim.lr", &c.lr));
    BD_TRY(meta_float(st, "badak.optim.momentum", &c.momentum));
    BD_TRY(meta_float(st, "badak.optim.beta1", &c.beta1));
    BD_TRY(meta_float(st, "badak.optim.beta2", &c.beta2));
    BD_TRY(meta_float(st, "badak.optim.eps", &c.eps));
    BD_TRY(meta_float(st, "badak.optim.decay", &c.decay));
    size_t ntrain = bd_net_trainable_count(net);
    bd_status s = bd__optim_init(opt, name, &c, ntrain);
    if (s != BD_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", bd_errmsg());
        return bd_error(BD_ERR_FORMAT, "%s: optimizer: %s", f, msg);
    }
    long x;
    s = bd__meta_get_long(st, "badak.optim.t", 0, INT64_MAX, &x);
    if (s == BD_OK)
        opt->t = x;
    for (int i = 0; s == BD_OK && i < 2; i++) {
        const char *nm = i ? "optim.state1" : "optim.state0";
        if (opt->state[i].data)
            s = take(st, nm, ntrain, 0, 1, &opt->state[i]);
        else if (bd__st_find(st, nm))
            s = bd_error(BD_ERR_FORMAT, "%s: tensor '%s' but %s keeps no such state", f, nm,
                         opt->ops->name);
    }
    return s;
}

/* the trainer's position: counters, rate, early-stopping state, results so
 * far, both PRNG streams and the network's */
static bd_status load_position(const bd__st *st, bd_net *net, bd_train_pos *pos)
{
    const char *f = st->origin;
    long x;
    BD_TRY(bd__meta_get_long(st, "badak.train.iter", 0, INT64_MAX, &pos->iter));
    BD_TRY(bd__meta_get_long(st, "badak.train.epoch", 1, INT32_MAX, &x));
    pos->epoch = (int)x;
    BD_TRY(bd__meta_get_double(st, "badak.train.epoch_loss", &pos->epoch_loss));
    BD_TRY(bd__meta_get_long(st, "badak.train.epoch_iters", 0, INT64_MAX, &pos->epoch_iters));
    BD_TRY(meta_float(st, "badak.train.lr", &pos->lr));
    BD_TRY(bd__meta_get_double(st, "badak.train.prev_loss", &pos->prev_loss));
    BD_TRY(bd__meta_get_double(st, "badak.train.best_val", &pos->best_val));
    BD_TRY(bd__meta_get_long(st, "badak.train.since_best", 0, INT32_MAX, &x));
    pos->since_best = (int)x;
    if (!(pos->lr > 0 && isfinite(pos->lr)))
        return bd_error(BD_ERR_FORMAT, "%s: badak.train.lr %g must be > 0", f, (double)pos->lr);
    const char *v = bd__st_meta(st, "badak.train.res");
    bd_train_result *r = &pos->res;
    int used = 0;
    if (!v || sscanf(v, "%d %ld %d %d %f %f %f %f %f%n", &r->epochs, &r->iters, &r->best_epoch,
                     &r->stopped_early, &r->final_loss, &r->train_acc, &r->test_acc,
                     &r->val_acc, &r->final_lr, &used) != 9 || v[used])
        return bd_error(BD_ERR_FORMAT, "%s: __metadata__ 'badak.train.res' is missing or "
                        "malformed", f);
    BD_TRY(get_rng(st, "badak.train.rng", &pos->rng));
    BD_TRY(get_rng(st, "badak.train.aug_rng", &pos->aug_rng));
    return get_rng(st, "badak.net.rng", &net->rng);
}

/* the sample order, if any, must be a permutation of 0..N-1: the trainer
 * indexes the data set with it */
static bd_status load_perm(const bd__st *st, bd_train_pos *pos)
{
    const char *f = st->origin;
    const bd__st_entry *pe = bd__st_find(st, "train.perm");
    if (!pe)
        return BD_OK;
    if (pe->count < 1 || pe->count > (size_t)INT32_MAX)
        return bd_error(BD_ERR_FORMAT, "%s: train.perm is empty", f);
    BD_TRY(take(st, "train.perm", pe->count, 1, 1, &pos->perm));
    unsigned char *seen = calloc(pe->count, 1);
    if (!seen)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory", f);
    bd_status s = BD_OK;
    for (size_t i = 0; s == BD_OK && i < pe->count; i++) {
        int32_t v = bd_i32(&pos->perm)[i];
        if (v < 0 || (size_t)v >= pe->count || seen[v])
            s = bd_error(BD_ERR_FORMAT, "%s: train.perm is not a permutation of 0..%zu "
                         "(element %zu is %d)", f, pe->count - 1, i, (int)v);
        else
            seen[v] = 1;
    }
    free(seen);
    return s;
}

/* the best epoch's weights (early stopping), then nothing else under
 * optim. or train. */
static bd_status load_extras(const bd__st *st, const bd_net *net, bd_train_pos *pos)
{
    if (bd__st_find(st, "train.best_params")) {
        BD_TRY(take(st, "train.best_params", net->params.size, 0, 1, &pos->best_p));
        BD_TRY(take(st, "train.best_state", net->state.size, 0, 1, &pos->best_s));
    }
    for (int j = 0; j < st->n; j++) {
        const char *nm = st->e[j].name;
        if ((!strncmp(nm, "optim.", 6) || !strncmp(nm, "train.", 6)) &&
            strcmp(nm, "optim.state0") && strcmp(nm, "optim.state1") &&
            strcmp(nm, "train.perm") && strcmp(nm, "train.best_params") &&
            strcmp(nm, "train.best_state"))
            return bd_error(BD_ERR_FORMAT, "%s: unknown tensor '%.60s'", st->origin, nm);
    }
    return BD_OK;
}

static bd_status load_rest(const bd__st *st, bd_net *net, bd_optim *opt, bd_train_pos *pos,
                           char **run)
{
    BD_TRY(load_optim(st, net, opt));
    BD_TRY(load_position(st, net, pos));
    BD_TRY(load_perm(st, pos));
    BD_TRY(load_extras(st, net, pos));
    BD_TRY(bd__checkpoint_check(st->origin, net, opt, pos));
    if (run) {
        const char *v = bd__st_meta(st, "badak.run");
        *run = v ? strdup(v) : NULL;
        if (v && !*run)
            return bd_error(BD_ERR_NOMEM, "%s: out of memory", st->origin);
    }
    return BD_OK;
}

static bd_status load_in(const char *dir, bd_net *net, bd_optim *opt, bd_train_pos *pos,
                        bd_model_meta *meta, char **run);

bd_status bd_checkpoint_load(const char *dir, bd_net **net, bd_optim **opt, bd_train_pos *pos,
                             bd_model_meta *meta, char **run)
{
    if (!net || !opt || !pos)
        return bd_error(BD_ERR_ARG, "bd_checkpoint_load: %s is NULL",
                        !net ? "net" : !opt ? "opt" : "pos");
    *net = NULL;
    *opt = NULL;
    bd_net *n = calloc(1, sizeof *n);
    bd_optim *o = calloc(1, sizeof *o);
    bd_status s = n && o ? load_in(dir, n, o, pos, meta, run)
                         : bd_error(BD_ERR_NOMEM, "bd_checkpoint_load: out of memory");
    if (s != BD_OK) {
        free(n); /* load_in released what they held */
        free(o);
        return s;
    }
    n->training = 0; /* a loaded network starts in evaluation mode */
    *net = n;
    *opt = o;
    return BD_OK;
}

static bd_status load_in(const char *dir, bd_net *net, bd_optim *opt, bd_train_pos *pos,
                        bd_model_meta *meta, char **run)
{
    memset(net, 0, sizeof *net);
    memset(opt, 0, sizeof *opt);
    memset(pos, 0, sizeof *pos);
    if (run)
        *run = NULL;
    if (!dir || !*dir)
        return bd_error(BD_ERR_ARG, "empty checkpoint folder name");
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, CKPT_FILE) >= sizeof path)
        return bd_error(BD_ERR_ARG, "checkpoint folder name too long: %.60s...", dir);
    bd__st st;
    BD_TRY(bd__st_read_file(&st, path));
    const char *ck = bd__st_meta(&st, "badak.checkpoint");
    bd_status s = BD_OK;
    if (!ck || strcmp(ck, "1") != 0)
        s = bd_error(BD_ERR_FORMAT, "%s: not a checkpoint (no badak.checkpoint in "
                     "__metadata__)", path);
    if (s == BD_OK)
        s = bd__model_from_st(net, &st, meta, 1);
    if (s == BD_OK) {
        s = load_rest(&st, net, opt, pos, run);
        if (s != BD_OK) {
            bd__optim_release(opt);
            bd_train_pos_free(pos);
            bd__net_release(net);
            if (run) {
                free(*run);
                *run = NULL;
            }
        }
    }
    bd__st_free(&st);
    return s;
}
