/* hpsearch.c — random hyperparameter search (book 6.5.3): sample the
 * learning rate and weight decay on a log scale, train each trial briefly,
 * rank the trials by validation accuracy. */
#include "internal.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>

void bd_hpsearch_config_default(bd_hpsearch_config *c)
{
    memset(c, 0, sizeof *c);
    c->trials = 100;
    c->epochs = 50;
    c->batch = 100;
    c->val_split = 0.2f;
    c->lr_min = 1e-6f;
    c->lr_max = 1e-2f;
    c->wd_min = 1e-8f;
    c->wd_max = 1e-4f;
    c->optimizer = "sgd";
    c->seed = 1;
}

/* 10^uniform(log10 lo, log10 hi), as the book's 10 ** np.random.uniform(-6, -2) */
static float log_uniform(bd_rng *r, float lo, float hi)
{
    double a = log10((double)lo), b = log10((double)hi);
    return (float)pow(10.0, a + (b - a) * bd_rng_uniform(r));
}

typedef struct curve_ctx {
    float *val, *train;
} curve_ctx;

static void record(void *ud, const bd_epoch_stats *s)
{
    curve_ctx *c = ud;
    c->val[s->epoch - 1] = s->val_acc;
    c->train[s->epoch - 1] = s->train_acc;
}

static int by_val_desc(const void *a, const void *b)
{
    const bd_hp_trial *x = a, *y = b;
    if (x->val_acc != y->val_acc)
        return x->val_acc < y->val_acc ? 1 : -1;
    return x->index - y->index;
}

/* Trials are independent and their networks small (100x100 GEMMs gain
 * little from a second BLAS thread), so the search runs one trial per
 * thread, each with single-threaded BLAS: the --threads cores are used by
 * trials instead. A trial's numbers do not depend on which thread runs it. */
typedef struct search {
    const bd_net_spec *spec;
    const bd_dataset *train, *val;
    const bd_hpsearch_config *cfg;
    bd_hp_trial *trials;
    int classes;
    pthread_mutex_t lock;
    int next, done;            /* under lock */
    int stride;                /* this process runs trials rank, rank + stride, ... */
    int mine;                  /* how many that is */
    bd_status status;          /* first failure, under lock */
    char msg[512];
} search;

static bd_status run_trial(search *S, bd_hp_trial *t)
{
    const bd_hpsearch_config *cfg = S->cfg;
    bd_net_spec sp = *S->spec;
    sp.weight_decay = t->weight_decay;
    bd_rng init;
    bd_rng_seed(&init, cfg->seed * 1000003ULL + (uint64_t)t->index);
    bd_net net;
    BD_TRY(bd_net_from_spec(&net, &sp, S->train->c, S->train->h, S->train->w, S->classes,
                            &init));
    bd_optim opt;
    bd_status s = bd_optim_create(&opt, cfg->optimizer, &(bd_optim_config){.lr = t->lr},
                                  bd_net_param_count(&net));
    if (s == BD_OK) {
        curve_ctx cc = {t->val_curve, t->train_curve};
        bd_train_config tc;
        bd_train_config_default(&tc);
        tc.batch = cfg->batch;
        tc.epochs = cfg->epochs;
        tc.seed = cfg->seed + (uint64_t)t->index;
        tc.val = S->val;
        tc.on_epoch = record;
        tc.ud = &cc;
        bd_train_result res;
        s = bd_train(&net, &opt, S->train, NULL, &tc, &res);
        t->epochs = res.epochs;
        if (s == BD_ERR_NUMERIC) { /* a diverging trial is a result, not an error */
            t->diverged = 1;
            s = BD_OK;
        }
        t->val_acc = t->epochs ? t->val_curve[t->epochs - 1] : 0.0f;
        t->train_acc = t->epochs ? t->train_curve[t->epochs - 1] : 0.0f;
        bd_optim_free(&opt);
    }
    bd_net_free(&net);
    return s;
}

static void *worker(void *arg)
{
    search *S = arg;
    for (;;) {
        pthread_mutex_lock(&S->lock);
        int i = -1;
        if (S->status == BD_OK && S->next < S->cfg->trials) {
            i = S->next;
            S->next += S->stride;
        }
        pthread_mutex_unlock(&S->lock);
        if (i < 0)
            return NULL;
        bd_status s = run_trial(S, &S->trials[i]);
        pthread_mutex_lock(&S->lock);
        if (s != BD_OK && S->status == BD_OK) {
            S->status = s;
            snprintf(S->msg, sizeof S->msg, "%s", bd_errmsg()); /* messages are per thread */
        }
        if (s == BD_OK && S->cfg->on_trial)
            S->cfg->on_trial(S->cfg->ud, &S->trials[i], ++S->done, S->mine);
        pthread_mutex_unlock(&S->lock);
    }
}

/* Data parallel (cfg->comm): each process ran its own trials, the others'
 * are zero here (curves included: they start at 0, not -1), so one sum over
 * the processes gives everyone the whole table, bit for bit. */
static bd_status gather_trials(const bd_comm *cm, bd_hpsearch_result *out)
{
    const int T = out->ntrials;
    int shape[1] = {4 * T};
    bd_tensor v;
    BD_TRY(bd_tensor_alloc(&v, BD_F32, 1, shape));
    float *f = bd_f32(&v);
    for (int i = 0; i < T; i++) {
        const bd_hp_trial *t = &out->trials[i];
        f[4 * i] = (float)t->epochs;
        f[4 * i + 1] = (float)t->diverged;
        f[4 * i + 2] = t->val_acc;
        f[4 * i + 3] = t->train_acc;
    }
    bd_status s = cm->sum_f32(cm->ud, f, v.size);
    if (s == BD_OK)
        s = cm->sum_f32(cm->ud, bd_f32(&out->curves), out->curves.size);
    for (int i = 0; s == BD_OK && i < T; i++) {
        bd_hp_trial *t = &out->trials[i];
        t->epochs = (int)f[4 * i];
        t->diverged = (int)f[4 * i + 1];
        t->val_acc = f[4 * i + 2];
        t->train_acc = f[4 * i + 3];
    }
    bd_tensor_free(&v);
    return s;
}

static bd_status check_config(const bd_hpsearch_config *cfg)
{
    if (cfg->trials < 1 || cfg->epochs < 1 || cfg->batch < 1)
        return bd_error(BD_ERR_ARG, "hpsearch: trials, epochs and batch must be >= 1");
    if (!(cfg->lr_min > 0 && cfg->lr_max >= cfg->lr_min && cfg->wd_min > 0 &&
          cfg->wd_max >= cfg->wd_min))
        return bd_error(BD_ERR_ARG,
                        "hpsearch: ranges must be positive and ordered (lr %g..%g, weight "
                        "decay %g..%g)", (double)cfg->lr_min, (double)cfg->lr_max,
                        (double)cfg->wd_min, (double)cfg->wd_max);
    if ((long)cfg->trials * cfg->epochs * 2 > INT32_MAX)
        return bd_error(BD_ERR_ARG, "hpsearch: too many trials x epochs");
    return BD_OK;
}

/* one shuffled split of a copy of data (bd_dataset_split rebuilds its
 * argument) into train and val, for every trial, as the book does */
static bd_status split_copy(const bd_dataset *data, float frac, bd_rng *rng, bd_dataset *train,
                            bd_dataset *val)
{
    *train = *data;
    int shape[BD_MAXDIM];
    memcpy(shape, data->x.shape, sizeof shape);
    BD_TRY(bd_tensor_alloc(&train->x, data->x.dtype, data->x.ndim, shape));
    bd_status s = bd_tensor_alloc(&train->y, BD_I32, 1, data->y.shape);
    if (s != BD_OK) {
        bd_tensor_free(&train->x);
        return s;
    }
    memcpy(train->x.data, data->x.data, data->x.size * bd_dtype_size(data->x.dtype));
    memcpy(train->y.data, data->y.data, data->y.size * sizeof(int32_t));
    s = bd_dataset_split(train, frac, rng, val);
    if (s != BD_OK)
        bd_dataset_free(train);
    return s;
}

/* Every trial's hyperparameters first, in order: reproducible whatever the
 * threads do (the book samples weight decay, then the rate); curves of
 * trials another process runs start at 0 (they are summed in), ours at -1. */
static bd_status sample_trials(bd_hpsearch_result *out, const bd_hpsearch_config *cfg,
                               bd_rng *rng, int first, int stride)
{
    out->trials = calloc((size_t)cfg->trials, sizeof *out->trials);
    int cs[1] = {cfg->trials * cfg->epochs * 2};
    if (!out->trials)
        return bd_error(BD_ERR_NOMEM, "hpsearch: out of memory");
    BD_TRY(bd_tensor_alloc(&out->curves, BD_F32, 1, cs));
    for (int i = 0; i < cfg->trials; i++) {
        bd_hp_trial *t = &out->trials[i];
        t->index = i;
        t->weight_decay = log_uniform(rng, cfg->wd_min, cfg->wd_max);
        t->lr = log_uniform(rng, cfg->lr_min, cfg->lr_max);
        t->val_curve = bd_f32(&out->curves) + (size_t)i * cfg->epochs * 2;
        t->train_curve = t->val_curve + cfg->epochs;
        const float none = (i - first) % stride == 0 ? -1.0f : 0.0f; /* 0: another's */
        for (int e = 0; e < cfg->epochs; e++)
            t->val_curve[e] = t->train_curve[e] = none;
    }
    return BD_OK;
}

/* This process's trials on every thread, each serial with single-threaded
 * BLAS, so a trial's numbers do not depend on which thread ran it. */
static bd_status run_trials(search *S)
{
    pthread_mutex_init(&S->lock, NULL);
    int nthreads = BD_MAX(1, BD_MIN(bd_get_threads(), S->mine));
    int blas = openblas_get_num_threads();
    openblas_set_num_threads(1);
    pthread_t th[64];
    int started = 0;
    for (int k = 1; k < BD_MIN(nthreads, 64); k++)
        if (pthread_create(&th[started], NULL, worker, S) == 0)
            started++;
    /* this thread works too, serially like the others */
    bd__set_serial(1);
    worker(S);
    bd__set_serial(0);
    for (int k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    openblas_set_num_threads(blas);
    pthread_mutex_destroy(&S->lock);
    if (S->status != BD_OK)
        bd_error(S->status, "%s", S->msg);
    return S->status;
}

bd_status bd_hpsearch(const bd_net_spec *spec, const bd_dataset *data,
                      const bd_hpsearch_config *cfg, bd_hpsearch_result *out)
{
    bd_hpsearch_config dc;
    if (!cfg) {
        bd_hpsearch_config_default(&dc);
        cfg = &dc;
    }
    memset(out, 0, sizeof *out);
    BD_TRY(check_config(cfg));
    bd_dataset train, val;
    bd_rng rng;
    bd_rng_seed(&rng, cfg->seed);
    BD_TRY(split_copy(data, cfg->val_split, &rng, &train, &val));
    out->ntrials = cfg->trials;
    out->epochs = cfg->epochs;
    out->ntrain = train.n;
    out->nval = val.n;
    const bd_comm *cm = cfg->comm && cfg->comm->size > 1 ? cfg->comm : NULL;
    const int first = cm ? cm->rank : 0, stride = cm ? cm->size : 1;
    bd_status s = sample_trials(out, cfg, &rng, first, stride);
    if (s == BD_OK) {
        search S = {.spec = spec, .train = &train, .val = &val, .cfg = cfg,
                    .trials = out->trials,
                    .classes = BD_MAX(train.nclasses, val.nclasses), .status = BD_OK,
                    .next = first, .stride = stride,
                    .mine = first < cfg->trials ? (cfg->trials - first + stride - 1) / stride
                                                : 0};
        s = run_trials(&S);
        if (s == BD_OK && cm)
            s = gather_trials(cm, out);
    }
    bd_dataset_free(&train);
    bd_dataset_free(&val);
    if (s != BD_OK) {
        bd_hpsearch_free(out);
        return s;
    }
    qsort(out->trials, (size_t)out->ntrials, sizeof *out->trials, by_val_desc);
    return BD_OK;
}

bd_status bd_hpsearch_write_csv(const bd_hpsearch_result *r, const char *path)
{
    bd__afile af;
    BD_TRY(bd__afile_open(&af, path, "search results"));
    FILE *f = af.f;
    fprintf(f, "trial,rank,lr,weight_decay,epoch,train_acc,val_acc\n");
    for (int k = 0; k < r->ntrials; k++) {
        const bd_hp_trial *t = &r->trials[k];
        for (int e = 0; e < t->epochs; e++)
            fprintf(f, "%d,%d,%.6g,%.6g,%d,%.6g,%.6g\n", t->index + 1, k + 1, (double)t->lr,
                    (double)t->weight_decay, e + 1, (double)t->train_curve[e],
                    (double)t->val_curve[e]);
    }
    return bd__afile_commit(&af);
}

void bd_hpsearch_free(bd_hpsearch_result *r)
{
    free(r->trials);
    bd_tensor_free(&r->curves);
    memset(r, 0, sizeof *r);
}
