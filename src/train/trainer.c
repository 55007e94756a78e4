/* trainer.c — the step-level trainer (book 4.5.2-4.5.3, common/trainer.py):
 * create, step (one mini-batch), end_epoch (evaluation, log, schedule,
 * early stopping, checkpoint), finish. bd_train (train.c) is a loop over
 * it; data-parallel ranks and programs with their own loop drive it too.
 *
 * All loop state lives in one bd_train_pos (t->pos): what a checkpoint
 * saves and a resumed trainer starts from, so nothing is copied field by
 * field and a field added to it is saved with the rest (checkpoint.c).
 * Everything is allocated in create; step and end_epoch only compute. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

/* The CSV log is written to PATH.tmp.PID and renamed when training ends
 * (src/io/files.c), so a crash never leaves a half log under the real name. */
typedef struct train_log {
    bd__afile af;
    int open;
} train_log;

struct bd_trainer {
    bd_net *net;
    bd_optim *opt;
    const bd_dataset *train, *test;
    bd_train_config cfg;      /* the caller's, copied */
    const bd_augment *aug;    /* NULL: no augmentation */
    int B;                    /* global mini-batch (<= training samples) */
    int lo, hi;               /* this rank's rows of every mini-batch */
    long per_epoch, total;    /* iterations per epoch, in the run */
    int nepochs;
    float lr0, gamma;         /* base rate, step/exp schedule factor */
    bd_train_pos pos;         /* THE loop state (see above) */
    bd_tensor good_p, good_s; /* last finished epoch's weights (NaN guard) */
    bd_tensor aug_scratch;
    bd_tensor tbatch;         /* [B, K] the batch's targets (regression, multi-label) */
    bd_tensor by_class;       /* balanced sampling: sample indices grouped by class */
    int class_start[BD_BALANCED_MAXC + 1]; /* class c's are by_class[start[c], start[c+1]) */
    int nclasses;
    train_log log;
    bd__layer_log layer_log;  /* cfg->layer_log: per-layer statistics */
    int lock;                 /* fd holding the checkpoint folder's flock, or -1 */
    int mode;                 /* the network's mode before training */
    double t0;
    int at_epoch_end;         /* the last step ended an epoch */
    float part_v[2];          /* on_grad_part: the step's loss share and stop vote */
    double *sq;               /* Σ g² of each NORM_CHUNK of the trainable gradients */
    int nsq;                  /* chunks sq has room for */
    size_t part_from;         /* on_grad_part: where the block's final suffix starts */
    int done, finished;
    bd_status status;         /* the first error of the run */
};

/* ------------------------------------------------------------- the log */

static bd_status log_open(train_log *lg, const char *path)
{
    memset(lg, 0, sizeof *lg);
    if (!path)
        return BD_OK;
    BD_TRY(bd__afile_open(&lg->af, path, "log"));
    lg->open = 1;
    fprintf(lg->af.f, "kind,epoch,iter,loss,train_acc,test_acc,seconds,val_acc,val_loss,lr\n");
    return BD_OK;
}

static bd_status log_close(train_log *lg, bd_status s)
{
    if (!lg->open)
        return s;
    lg->open = 0;
    bd_status c = bd__afile_commit(&lg->af);
    return s == BD_OK ? c : s;
}

/* -------------------------------------------------------- weight copies */

/* The gradient norm is summed in chunks of NORM_CHUNK gradients over the
 * thread pool, each chunk's sum kept apart and the chunks added in order:
 * the same bits for any thread count. */
#define NORM_CHUNK BD__OPT_CHUNK /* the update's chunks: it may sum them (below) */

static int norm_nchunks(size_t n) { return (int)((n + NORM_CHUNK - 1) / NORM_CHUNK); }

static bd_status copy_alloc(bd_tensor *p, bd_tensor *st, const bd_net *net)
{
    int ps[1] = {(int)BD_MAX(net->params.size, 1)}, ss[1] = {(int)BD_MAX(net->state.size, 1)};
    BD_TRY(bd_tensor_alloc(p, BD_F32, 1, ps));
    return bd_tensor_alloc(st, BD_F32, 1, ss);
}

static void copy_take(bd_tensor *p, bd_tensor *st, const bd_net *net)
{
    memcpy(p->data, net->params.data, net->params.size * sizeof(float));
    memcpy(st->data, net->state.data, net->state.size * sizeof(float));
}

static void copy_put(const bd_tensor *p, const bd_tensor *st, bd_net *net)
{
    memcpy(net->params.data, p->data, net->params.size * sizeof(float));
    memcpy(net->state.data, st->data, net->state.size * sizeof(float));
}

/* ------------------------------------------------------------- create */

static bd_status check_set(const bd_net *net, const bd_dataset *ds)
{
    if (!ds || ds->n == 0)
        return BD_OK;
    size_t per = ds->x.size / (size_t)ds->n;
    if (per != (size_t)net->in_size)
        return bd_error(BD_ERR_SHAPE, "%s: samples of %zu features, network input is %d",
                        ds->name, per, net->in_size);
    return BD_OK;
}

/* Does the run step the optimizer on this rank's slice only (ZeRO-1)? */
static int sharded(const bd_train_config *cfg)
{
    return cfg->nranks > 1 && cfg->on_grad_shard;
}

/* The arguments and the configuration, before anything is allocated. */
static bd_status check_args(const bd_net *net, const bd_optim *opt, const bd_dataset *train,
                            const bd_dataset *test, const bd_train_config *cfg)
{
    if (!net || !opt || !train)
        return bd_error(BD_ERR_ARG, "bd_train: %s is NULL",
                        !net ? "the network" : !opt ? "the optimizer" : "the training set");
    if (!net->built)
        return bd_error(BD_ERR_ARG, "bd_train: network is not built");
    if (!opt->ops)
        return bd_error(BD_ERR_ARG, "bd_train: the optimizer was not created");
    if (cfg->batch < 1)
        return bd_error(BD_ERR_ARG, "batch size %d must be >= 1", cfg->batch);
    if (cfg->iters <= 0 && cfg->epochs < 1)
        return bd_error(BD_ERR_ARG, "need epochs >= 1 or iterations >= 1");
    if (train->n < 1)
        return bd_error(BD_ERR_ARG, "%s: no training samples", train->name);
    if (cfg->patience > 0 && !(cfg->val && cfg->val->n > 0))
        return bd_error(BD_ERR_ARG, "early stopping (patience %d) needs a validation set",
                        cfg->patience);
    if (cfg->nranks > 1 && !(cfg->rank >= 0 && cfg->rank < cfg->nranks && cfg->on_sum))
        return bd_error(BD_ERR_ARG, "data-parallel training: rank %d of %d needs 0 <= rank < "
                        "nranks and an on_sum hook", cfg->rank, cfg->nranks);
    if (cfg->nranks > 1 && cfg->on_grad_part && !cfg->on_grad)
        return bd_error(BD_ERR_ARG, "data-parallel training: on_grad_part needs on_grad to "
                        "complete the sums it starts");
    if (sharded(cfg) && !(cfg->on_grad_part && cfg->on_params && cfg->on_opt_state))
        return bd_error(BD_ERR_ARG, "data-parallel training: on_grad_shard needs on_grad_part, "
                        "on_params and on_opt_state");
    if (sharded(cfg) && (cfg->clip_grad_norm > 0.0f || cfg->layer_log))
        return bd_error(BD_ERR_ARG, "data-parallel training: the sharded update sums only a "
                        "slice of the gradient on each rank, and %s needs all of it (use on_grad)",
                        cfg->layer_log ? "the layer log" : "gradient clipping");
    /* every rank computes rows of every step: its one training forward a
     * step draws the step's key for Dropout (and --sync-bn sums need all) */
    if (cfg->nranks > 1 && BD_MIN(cfg->batch, train->n) < cfg->nranks)
        return bd_error(BD_ERR_ARG, "batch of %d rows is smaller than the %d ranks: every rank "
                        "needs at least one row", BD_MIN(cfg->batch, train->n), cfg->nranks);
    const bd_train_pos *rp = cfg->resume;
    if (rp && rp->perm.data && rp->perm.size != (size_t)train->n)
        return bd_error(BD_ERR_SHAPE, "resume: the checkpoint's sample order has %zu samples, "
                        "%s has %d", rp->perm.size, train->name, train->n);
    if (rp && cfg->patience > 0 && !rp->best_p.data)
        return bd_error(BD_ERR_ARG, "resume: early stopping, but the checkpoint keeps no best "
                        "weights");
    BD_TRY(check_set(net, train));
    BD_TRY(check_set(net, test));
    BD_TRY(check_set(net, cfg->val));
    if (train->task != BD_TASK_CLASSIFY &&
        (!train->t.data || train->t.shape[1] != net->out_size))
        return bd_error(BD_ERR_SHAPE, "%s: %d targets per sample, network output is %d",
                        train->name, train->t.data ? train->t.shape[1] : 0, net->out_size);
    int top = net->out_size == 1 ? 2 : net->out_size;
    if (train->nclasses > top)
        return bd_error(BD_ERR_SHAPE, "%s: %d classes, network output is %d", train->name,
                        train->nclasses, net->out_size);
    const bd_augment *aug = cfg->augment && cfg->augment->flags ? cfg->augment : NULL;
    if (aug) {
        bd_status as = bd_augment_check(aug, train->c, train->h, train->w);
        if (as != BD_OK) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", bd_errmsg());
            return bd_error(as, "%s: %s", train->name, msg);
        }
    }
    return BD_OK;
}

/* The run's geometry: batch, iterations, epochs, this rank's rows; and a
 * resume position that fits it. */
static bd_status plan(bd_trainer *t)
{
    const bd_train_config *cfg = &t->cfg;
    /* A batch larger than the set is the whole set (shuffled). The book's
     * iterations per epoch: max(train_size / batch_size, 1). */
    t->B = BD_MIN(cfg->batch, t->train->n);
    t->per_epoch = BD_MAX(t->train->n / t->B, 1);
    t->total = cfg->iters > 0 ? cfg->iters : (long)cfg->epochs * t->per_epoch;
    t->nepochs = (int)((t->total + t->per_epoch - 1) / t->per_epoch);
    const int N = cfg->nranks > 1 ? cfg->nranks : 1, r = cfg->nranks > 1 ? cfg->rank : 0;
    t->lo = (int)((long)t->B * r / N);
    t->hi = (int)((long)t->B * (r + 1) / N);
    const bd_train_pos *rp = cfg->resume;
    if (rp && (rp->iter > t->total ||
               rp->epoch != (rp->iter == t->total && t->total % t->per_epoch
                                 ? t->nepochs + 1
                                 : (int)(rp->iter / t->per_epoch) + 1)))
        return bd_error(BD_ERR_ARG, "resume: iteration %ld / epoch %d does not fit this run "
                        "(%ld iterations, %ld per epoch)", rp->iter, rp->epoch, t->total,
                        t->per_epoch);
    t->lr0 = t->opt->cfg.lr;
    t->gamma = cfg->lr_gamma > 0 ? cfg->lr_gamma : (cfg->schedule == BD_LR_EXP ? 0.95f : 0.1f);
    return BD_OK;
}

/* Balanced sampling: the training samples' indices grouped by class (a
 * counting sort), so a batch can pick a class uniformly, then one of its
 * samples. */
static bd_status group_by_class(bd_trainer *t)
{
    const bd_dataset *ds = t->train;
    const int C = ds->nclasses;
    if (ds->task != BD_TASK_CLASSIFY || C < 1 || C > BD_BALANCED_MAXC)
        return bd_error(BD_ERR_ARG, "%s: balanced sampling needs class labels (1..%d classes, "
                        "not %d)", ds->name, BD_BALANCED_MAXC, C);
    int shape[1] = {ds->n};
    BD_TRY(bd_tensor_alloc(&t->by_class, BD_I32, 1, shape));
    const int32_t *y = bd_i32(&ds->y);
    int *start = t->class_start;
    memset(start, 0, sizeof t->class_start);
    for (int i = 0; i < ds->n; i++) {
        if (y[i] < 0 || y[i] >= C)
            return bd_error(BD_ERR_ARG, "%s: label %d of sample %d not in 0..%d", ds->name,
                            (int)y[i], i, C - 1);
        start[y[i] + 1]++;
    }
    for (int c = 0; c < C; c++)
        start[c + 1] += start[c];
    int fill[BD_BALANCED_MAXC];
    memcpy(fill, start, (size_t)C * sizeof *fill);
    for (int i = 0; i < ds->n; i++)
        bd_i32(&t->by_class)[fill[y[i]]++] = i;
    t->nclasses = C;
    return BD_OK;
}

/* The loop's buffers: the sample order, the weight copies, augmentation's
 * scratch, the log. */
static bd_status allocate(bd_trainer *t)
{
    const bd_train_config *cfg = &t->cfg;
    /* Dense networks evaluate in chunks of 500 rows (bigger GEMMs); for
     * convolutional ones every reserved row costs whole feature maps (and
     * im2col columns), so they evaluate in training-sized batches. */
    BD_TRY(bd_net_reserve(t->net, bd_train_eval_rows(t->net, t->B)));
    const size_t ntrain = t->net->params.size - bd_net_trainable_offset(t->net);
    t->nsq = norm_nchunks(ntrain);
    t->sq = calloc((size_t)t->nsq + 1, sizeof *t->sq);
    if (!t->sq)
        return bd_error(BD_ERR_NOMEM, "bd_trainer_create: out of memory");
    int pshape[1] = {t->train->n};
    BD_TRY(bd_tensor_alloc(&t->pos.perm, BD_I32, 1, pshape));
    BD_TRY(copy_alloc(&t->good_p, &t->good_s, t->net));
    if (cfg->patience > 0)
        BD_TRY(copy_alloc(&t->pos.best_p, &t->pos.best_s, t->net));
    if (t->aug) {
        int ashape[1] = {(int)bd_augment_scratch_size(t->train->c, t->train->h, t->train->w)};
        BD_TRY(bd_tensor_alloc(&t->aug_scratch, BD_F32, 1, ashape));
    }
    if (t->train->task != BD_TASK_CLASSIFY) {
        int ts[2] = {t->B, t->train->t.shape[1]};
        BD_TRY(bd_tensor_alloc(&t->tbatch, BD_F32, 2, ts));
    }
    if (cfg->sampling == BD_SAMPLE_BALANCED)
        BD_TRY(group_by_class(t));
    BD_TRY(log_open(&t->log, cfg->log_path));
    return bd__layer_log_open(&t->layer_log, cfg->layer_log, cfg->layer_log_every);
}

/* The position a fresh run starts from, or the checkpoint's. */
static void start_position(bd_trainer *t)
{
    bd_train_pos *p = &t->pos;
    const bd_train_pos *rp = t->cfg.resume;
    int32_t *idx = bd_i32(&p->perm);
    for (int i = 0; i < t->train->n; i++)
        idx[i] = rp && rp->perm.data ? bd_i32(&rp->perm)[i] : i;
    if (rp) { /* go on exactly where the checkpoint stopped */
        bd_tensor perm = p->perm, best_p = p->best_p, best_s = p->best_s;
        *p = *rp;
        p->perm = perm;
        p->best_p = best_p;
        p->best_s = best_s;
        p->res.interrupted = 0;
        if (t->cfg.patience > 0) {
            memcpy(best_p.data, rp->best_p.data, t->net->params.size * sizeof(float));
            memcpy(best_s.data, rp->best_s.data, t->net->state.size * sizeof(float));
        }
        return;
    }
    bd_rng_seed(&p->rng, t->cfg.seed ^ 0x5eed5eedULL); /* separate stream from init */
    /* Augmentation draws from a stream of its own, so that shuffling (and so
     * a run without augmentation) is the same whether or not it is on. */
    bd_rng_seed(&p->aug_rng, t->cfg.seed ^ 0xa06e4a7ea06eULL);
    p->iter = 0;
    p->epoch = 1;
    p->epoch_loss = 0.0;
    p->epoch_iters = 0;
    p->lr = t->lr0;
    p->prev_loss = INFINITY;
    p->best_val = INFINITY;
    p->since_best = 0;
    memset(&p->res, 0, sizeof p->res);
    p->res.train_acc = p->res.test_acc = p->res.val_acc = -1.0f;
}

static void release(bd_trainer *t)
{
    /* logs of a trainer that failed to start (finish commits them) */
    if (t->log.open)
        bd__afile_abort(&t->log.af);
    bd__afile_abort(&t->layer_log.af);
    bd_tensor_free(&t->pos.perm);
    bd_tensor_free(&t->pos.best_p);
    bd_tensor_free(&t->pos.best_s);
    bd_tensor_free(&t->good_p);
    bd_tensor_free(&t->good_s);
    bd_tensor_free(&t->aug_scratch);
    bd_tensor_free(&t->tbatch);
    bd_tensor_free(&t->by_class);
    free(t->sq);
    t->sq = NULL;
    bd__dir_unlock(t->lock);
    t->lock = -1;
}

bd_status bd_trainer_create(bd_trainer **out, bd_net *net, bd_optim *opt,
                            const bd_dataset *train, const bd_dataset *test,
                            const bd_train_config *cfg)
{
    if (!out)
        return bd_error(BD_ERR_ARG, "bd_trainer_create: out is NULL");
    *out = NULL;
    bd_train_config dc;
    if (!cfg) {
        bd_train_config_default(&dc);
        cfg = &dc;
    }
    BD_TRY(check_args(net, opt, train, test, cfg));
    bd_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return bd_error(BD_ERR_NOMEM, "bd_trainer_create: out of memory");
    t->net = net;
    t->opt = opt;
    t->train = train;
    t->test = test && test->n > 0 ? test : NULL;
    t->cfg = *cfg;
    t->aug = cfg->augment && cfg->augment->flags ? cfg->augment : NULL;
    t->lock = -1;
    /* one run per checkpoint folder: the first holds it till it ends */
    bd_status s = BD_OK;
    if (cfg->checkpoint && (cfg->nranks <= 1 || cfg->rank == 0))
        s = bd__dir_lock(cfg->checkpoint, &t->lock);
    if (s == BD_OK)
        s = plan(t);
    if (s == BD_OK)
        s = allocate(t);
    if (s != BD_OK) {
        release(t);
        free(t);
        return s;
    }
    copy_take(&t->good_p, &t->good_s, net);
    start_position(t);
    t->mode = net->training;
    t->t0 = bd_seconds();
    t->done = t->pos.iter >= t->total;
    *out = t;
    return BD_OK;
}

/* ---------------------------------------------------------------- step */

static bd_status save_here(bd_trainer *t, const char *dir);

/* The sample indices of the next global mini-batch [B]. */
static const int32_t *next_batch(bd_trainer *t)
{
    bd_train_pos *p = &t->pos;
    int32_t *idx = bd_i32(&p->perm);
    if (t->cfg.sampling == BD_SAMPLE_BALANCED) {
        /* a class uniformly among those with samples, then one of them */
        for (int j = 0; j < t->B; j++) {
            int c, n;
            do {
                c = (int)bd_rng_below(&p->rng, (uint32_t)t->nclasses);
                n = t->class_start[c + 1] - t->class_start[c];
            } while (n == 0);
            idx[j] = bd_i32(&t->by_class)[t->class_start[c] + (int)bd_rng_below(&p->rng,
                                                                             (uint32_t)n)];
        }
        return idx;
    }
    if (t->cfg.sampling == BD_SAMPLE_REPLACE) {
        /* np.random.choice(train_size, batch_size): with replacement */
        for (int j = 0; j < t->B; j++)
            idx[j] = (int32_t)bd_rng_below(&p->rng, (uint32_t)t->train->n);
        return idx;
    }
    long at = p->iter % t->per_epoch;
    if (at == 0)
        bd_rng_shuffle(&p->rng, idx, (size_t)t->train->n);
    return idx + at * t->B;
}

/* Augment rows [lo, hi) of the global batch, gathered in x: row r draws
 * from the stream of its global index under one key per step (the same key
 * on every rank), so a sample is changed the same way whichever rank holds
 * it and the run does not depend on the number of ranks. */
static bd_status augment_rows(bd_trainer *t, float *x)
{
    const bd_dataset *ds = t->train;
    const uint64_t key = bd_rng_u64(&t->pos.aug_rng);
    const size_t D = (size_t)ds->c * ds->h * ds->w;
    for (int r = t->lo; r < t->hi; r++) {
        bd_rng rr;
        bd__row_rng(&rr, key, 0, r);
        BD_TRY(bd_augment_batch(t->aug, x + (size_t)(r - t->lo) * D, 1, ds->c, ds->h, ds->w,
                                bd_f32(&t->aug_scratch), &rr));
    }
    return BD_OK;
}

/* The gradient block is final from absolute offset `from` (a layer's
 * param_offset) on: pass the trainable block's final suffix to on_grad_part,
 * which may start summing it while the layers before are in backward. */
static bd_status part_done(void *ud, size_t from)
{
    bd_trainer *t = ud;
    bd_net *net = t->net;
    const size_t off = bd_net_trainable_offset(net), n = net->params.size - off;
    t->part_from = from > off ? from - off : 0;
    return t->cfg.on_grad_part(t->cfg.dist_ud, bd_f32(&net->grads) + off, n, t->part_from,
                               NULL);
}

/* Overlapped data parallel (cfg.on_grad_part, nranks > 1): the sums start
 * with this rank's loss share and stop vote (known after forward), then
 * backward hands over each final suffix of the block; the last call is at
 * offset 0 (also when no layer is trainable). */
static bd_status backward_parts(bd_trainer *t, float loss)
{
    bd_net *net = t->net;
    const size_t off = bd_net_trainable_offset(net), n = net->params.size - off;
    t->part_v[0] = loss;
    t->part_v[1] = t->cfg.stop && *t->cfg.stop;
    t->part_from = n;
    BD_TRY(t->cfg.on_grad_part(t->cfg.dist_ud, bd_f32(&net->grads) + off, n, n, t->part_v));
    if (t->hi > t->lo)
        BD_TRY(bd__net_backward_each(net, part_done, t));
    else /* no rows (zeros): the same reports, so every rank cuts the same buckets */
        for (int i = net->nlayers - 1; i >= (net->frozen > 0 ? net->frozen : 0); i--)
            BD_TRY(part_done(t, net->layers[i].param_offset));
    return t->part_from == 0 ? BD_OK : part_done(t, off);
}

/* Sum over the ranks as they come: nranks > 1 and an on_grad_part hook. */
static int overlapped(const bd_trainer *t) { return t->cfg.nranks > 1 && t->cfg.on_grad_part; }

/* This rank's rows [lo, hi) of the batch: gather, augment, forward,
 * backward. With a shard of the batch, loss and gradient are scaled by
 * rows / B (the sum over the ranks is then the batch mean): the network
 * scales its loss gradient (net->grows), so that --sync-bn's sums inside
 * backward add gradients of one scale; Dropout draws by global row
 * (net->row0). An empty shard contributes zeros. */
static bd_status shard_gradient(bd_trainer *t, const int32_t *bidx, float *loss)
{
    bd_net *net = t->net;
    const int rows = t->hi - t->lo;
    const size_t off = bd_net_trainable_offset(net), n = net->params.size - off;
    *loss = 0.0f;
    if (rows == 0) {
        memset(bd_f32(&net->grads) + off, 0, n * sizeof(float));
        return overlapped(t) ? backward_parts(t, 0.0f) : BD_OK;
    }
    BD_TRY(bd_dataset_gather(t->train, bidx + t->lo, rows, &net->xbatch, &net->ybatch));
    if (t->aug)
        BD_TRY(augment_rows(t, bd_f32(&net->xbatch)));
    bd_labels bl = {bd_i32(&net->ybatch), NULL};
    if (t->tbatch.data) { /* regression / multi-label: the float targets */
        BD_TRY(bd__dataset_targets(t->train, bidx + t->lo, 0, rows, bd_f32(&t->tbatch)));
        bl = (bd_labels){NULL, bd_f32(&t->tbatch)};
    }
    const int shard = t->cfg.nranks > 1;
    net->row0 = t->lo;
    net->grows = shard ? t->B : 0;
    net->sync = shard ? t->cfg.sync_bn : NULL;
    bd_status s;
    if (!shard && bd__net_rows_applies(net, rows)) {
        /* each thread its rows through the whole network (rows.c); the
         * parts' gradients are added by the update */
        s = bd__net_gradient_rows(net, &net->xbatch, bl, loss);
    } else {
        s = bd_net_loss(net, &net->xbatch, bl, loss);
        if (s == BD_OK && rows != t->B)
            *loss = (float)((double)*loss * rows / t->B);
        if (s == BD_OK)
            s = overlapped(t) ? backward_parts(t, *loss) : bd_net_backward(net);
    }
    net->row0 = net->grows = 0;
    net->sync = NULL;
    return s;
}

/* Is a stop asked for? With nranks > 1 the flag is summed over the ranks
 * with the loss (v[1]), so all stop together; else it is read here. */
static int stop_asked(const bd_trainer *t, const double *v)
{
    if (t->cfg.nranks > 1)
        return v[1] > 0;
    return t->cfg.stop && *t->cfg.stop;
}

typedef struct norm_job {
    const float *g;
    size_t n;
    double *sq;
} norm_job;

static void norm_chunks(void *ctx, int lo, int hi, int part)
{
    const norm_job *j = ctx;
    for (int c = lo; c < hi; c++) {
        const size_t a = (size_t)c * NORM_CHUNK;
        j->sq[c] = bd__sum_squares(j->g + a, BD_MIN(j->n - a, (size_t)NORM_CHUNK));
    }
}

/* √Σ g² over the trainable gradients */
static double grad_norm(const bd_trainer *t)
{
    const bd_net *net = t->net;
    const size_t off = bd_net_trainable_offset(net), n = net->params.size - off;
    const norm_job j = {.g = bd_f32(&net->grads) + off, .n = n, .sq = t->sq};
    const int nc = norm_nchunks(n);
    double s = 0.0;
    if (nc > t->nsq) { /* layers unfrozen since create: the same sums, here */
        for (int c = 0; c < nc; c++)
            s += bd__sum_squares(j.g + (size_t)c * NORM_CHUNK,
                             BD_MIN(n - (size_t)c * NORM_CHUNK, (size_t)NORM_CHUNK));
        return sqrt(s);
    }
    bd__parallel_for(nc, norm_chunks, (void *)&j);
    for (int c = 0; c < nc; c++)
        s += t->sq[c];
    return sqrt(s);
}

/* The NaN guard: the loss of this step is not finite. The last good
 * weights are kept: those of the last finished epoch. */
static bd_status loss_failed(bd_trainer *t, float loss)
{
    const bd_train_pos *p = &t->pos;
    copy_put(&t->good_p, &t->good_s, t->net);
    return bd_error(BD_ERR_NUMERIC,
                    "loss became %s at epoch %d, iteration %ld: the learning rate (%g) is "
                    "probably too high; the weights of epoch %d are kept",
                    isnan(loss) ? "NaN" : "infinite", p->epoch, p->iter + 1, (double)p->lr,
                    p->epoch - 1);
}

/* A finite loss but a broken optimizer state or rate: never go on (or
 * save) with non-finite weights. */
static bd_status weights_failed(bd_trainer *t)
{
    const bd_train_pos *p = &t->pos;
    copy_put(&t->good_p, &t->good_s, t->net);
    return bd_error(BD_ERR_NUMERIC,
                    "the weights became non-finite in the step of epoch %d, iteration %ld "
                    "(learning rate %g; optimizer state broken?); the weights of epoch %d are "
                    "kept", p->epoch, p->iter + 1, (double)p->lr, p->epoch - 1);
}

/* The sharded update (ZeRO-1, bd_train_config.on_grad_shard): the ranks sum
 * the gradient a slice each; this rank steps its slice [lo, hi), summing
 * its chunks' squares on the way, and on_params trades the stepped slices,
 * the squares and the finite flags. Every rank so holds the weights, the
 * norm and the verdict that update() would give; no layer log and no
 * clipping here (bd_trainer_create refuses them). With a non-finite loss
 * nothing is stepped: the chunks' squares are taken for the norm's history
 * and traded the same way. */
static bd_status update_sharded(bd_trainer *t, float *loss, double *v)
{
    bd_net *net = t->net;
    const size_t off = bd_net_trainable_offset(net), n = net->params.size - off;
    const int nc = norm_nchunks(n);
    const long it1 = t->pos.iter + 1;
    if (nc > t->nsq)
        return bd_error(BD_ERR_ARG, "the sharded update: %zu trainable parameters, more than "
                        "when the trainer was created (layers unfrozen?)", n);
    float *g = bd_f32(&net->grads) + off;
    size_t lo = 0, hi = 0;
    BD_TRY(t->cfg.on_grad_shard(t->cfg.dist_ud, g, n, NORM_CHUNK, &lo, &hi));
    *loss = t->part_v[0];
    v[1] = t->part_v[1];
    if (lo > hi || hi > n)
        return bd_error(BD_ERR_ARG, "the sharded update: on_grad_shard gave the slice [%zu, "
                        "%zu) of %zu parameters", lo, hi, n);
    double *sq = t->cfg.on_grad_norm ? t->sq : NULL;
    int finite = 1;
    if (isfinite(*loss))
        BD_TRY(bd__optim_update_range(t->opt, net, lo, hi, &finite, sq));
    else if (sq)
        for (size_t a = lo; a < hi; a += NORM_CHUNK)
            sq[a / NORM_CHUNK] = bd__sum_squares(g + a, BD_MIN(hi - a, (size_t)NORM_CHUNK));
    BD_TRY(t->cfg.on_params(t->cfg.dist_ud, bd_f32(&net->params) + off, n, sq, &finite));
    if (sq) {
        double s = 0.0; /* the chunks' sums in order, as grad_norm adds them */
        for (int c = 0; c < nc; c++)
            s += sq[c];
        t->cfg.on_grad_norm(t->cfg.ud, it1, sqrt(s));
    }
    if (!isfinite(*loss))
        return loss_failed(t, *loss);
    return finite ? BD_OK : weights_failed(t);
}

/* After the gradient: the collective loss (and stop flag), the NaN guard,
 * the gradient hook, the gradient norm (reported, clipped), the update.
 * Overlapped, on_grad completes the sums begun in backward (the block, the
 * loss and the stop vote together) and comes first: there is no separate
 * sum of the loss. */
static bd_status update(bd_trainer *t, float *loss, double *v)
{
    if (sharded(&t->cfg))
        return update_sharded(t, loss, v);
    bd_net *net = t->net;
    bd_train_pos *p = &t->pos;
    const size_t off = bd_net_trainable_offset(net);
    const long it1 = p->iter + 1;
    const int log_due =
        bd__layer_log_due(&t->layer_log, it1, it1 % t->per_epoch == 0 || it1 == t->total);
    /* Without clipping the norm is only reported: the update sums each
     * chunk's squares as it steps it (one pass over the block, not two;
     * the same sums, so the same bits), and the hook comes after it. */
    const int norm_in_step = t->cfg.on_grad_norm && !(t->cfg.clip_grad_norm > 0.0f) &&
                             norm_nchunks(net->params.size - off) <= t->nsq;
    /* a row-parallel gradient (rows.c) is completed by the update, as it
     * steps each chunk; here first if anything reads the block before */
    if (t->cfg.on_grad || log_due || (t->cfg.on_grad_norm && !norm_in_step) ||
        t->cfg.clip_grad_norm > 0.0f || !isfinite(*loss))
        bd__net_rows_sum(net);
    if (overlapped(t)) { /* the sums started in backward: complete them */
        BD_TRY(t->cfg.on_grad(t->cfg.dist_ud, bd_f32(&net->grads) + off, net->params.size - off));
        *loss = t->part_v[0];
        v[1] = t->part_v[1];
    } else if (t->cfg.nranks > 1) {
        v[0] = *loss;
        v[1] = t->cfg.stop && *t->cfg.stop;
        BD_TRY(t->cfg.on_sum(t->cfg.dist_ud, v, 2));
        *loss = (float)v[0];
    }
    if (!isfinite(*loss)) {
        if (t->cfg.on_grad_norm) /* the history ends with this step's */
            t->cfg.on_grad_norm(t->cfg.ud, p->iter + 1, grad_norm(t));
        /* and the layer log with the layers of the step that blew up */
        bd__layer_log_write(&t->layer_log, net, p->iter + 1, p->epoch);
        return loss_failed(t, *loss);
    }
    if (t->cfg.on_grad && !overlapped(t)) {
        BD_TRY(t->cfg.on_grad(t->cfg.dist_ud, bd_f32(&net->grads) + off,
                              net->params.size - off));
    }
    /* the layers' gradients (summed over the ranks, not yet clipped) and
     * the outputs of this step's forward pass: read only */
    if (log_due)
        bd__layer_log_write(&t->layer_log, net, it1, p->epoch);
    if ((t->cfg.on_grad_norm && !norm_in_step) || t->cfg.clip_grad_norm > 0.0f) {
        const double norm = grad_norm(t);
        if (t->cfg.on_grad_norm)
            t->cfg.on_grad_norm(t->cfg.ud, p->iter + 1, norm);
        if (t->cfg.clip_grad_norm > 0.0f && norm > t->cfg.clip_grad_norm) {
            /* g <- g G / ||g||: the direction kept, the step bounded */
            const size_t n = net->params.size - off;
            const float f = (float)(t->cfg.clip_grad_norm / norm);
            float *g = bd_f32(&net->grads) + off;
            for (size_t i = 0; i < n; i++)
                g[i] *= f;
        }
    }
    /* the update checks the weights it writes (the frozen ones never
     * change): no second pass over the block */
    int finite = 1;
    BD_TRY(bd__optim_update(t->opt, net, &finite, norm_in_step ? t->sq : NULL));
    if (norm_in_step) {
        double s = 0.0; /* the chunks' sums in order, as grad_norm adds them */
        for (int c = 0; c < norm_nchunks(net->params.size - off); c++)
            s += t->sq[c];
        t->cfg.on_grad_norm(t->cfg.ud, it1, sqrt(s));
    }
    return finite ? BD_OK : weights_failed(t);
}

/* Before an evaluation or a checkpoint, the ranks agree: on the state
 * (on_state: BatchNorm's running averages) and, after sharded updates, on
 * the optimizer's (each rank's slice of it is current only there). */
static bd_status agree(bd_trainer *t)
{
    if (t->cfg.on_state)
        BD_TRY(t->cfg.on_state(t->cfg.dist_ud, bd_f32(&t->net->state), t->net->state.size));
    if (sharded(&t->cfg))
        for (int k = 0; k < 2; k++)
            if (t->opt->state[k].data)
                BD_TRY(t->cfg.on_opt_state(t->cfg.dist_ud, bd_f32(&t->opt->state[k]),
                                           t->opt->n));
    return BD_OK;
}

/* A failed call ends the run; its status is what finish returns. */
static bd_status fail(bd_trainer *t, bd_status s)
{
    if (s != BD_OK) {
        t->done = 1;
        if (t->status == BD_OK)
            t->status = s;
    }
    return s;
}

/* One step, under bd_trainer_step's denormal flush. */
static bd_status step(bd_trainer *t, float *loss_out)
{
    bd_train_pos *p = &t->pos;
    const long it = p->iter;
    if (t->cfg.schedule == BD_LR_ONECYCLE)
        p->lr = bd_lr_onecycle(t->lr0, it, t->total, t->cfg.warmup);
    else if (it % t->per_epoch == 0 && t->cfg.schedule != BD_LR_ADAPTIVE)
        p->lr = bd_lr_at(t->cfg.schedule, t->lr0, p->epoch - 1, t->nepochs, t->cfg.lr_step,
                         t->gamma);
    t->opt->cfg.lr = p->lr;
    t->net->training = 1;
    const int32_t *bidx = next_batch(t);
    float loss;
    double v[2] = {0, 0};
    BD_TRY(fail(t, shard_gradient(t, bidx, &loss)));
    BD_TRY(fail(t, update(t, &loss, v)));
    p->epoch_loss += loss;
    p->epoch_iters++;
    p->iter = it + 1;
    p->res.iters = it + 1;
    if (t->log.open)
        fprintf(t->log.af.f, "iter,%d,%ld,%.6g,,,,,,\n", p->epoch, it + 1, (double)loss);
    if (t->cfg.on_iter)
        t->cfg.on_iter(t->cfg.ud, it + 1, t->total, loss);
    if (loss_out)
        *loss_out = loss;
    t->at_epoch_end = (it + 1) % t->per_epoch == 0 || it + 1 == t->total;
    if (!t->at_epoch_end && stop_asked(t, v)) {
        /* stopped mid-epoch: save the position after this step. Every rank
         * is here (the stop was voted), but only rank 0 has a checkpoint
         * folder: the running averages are agreed on first, by all */
        t->done = 1;
        BD_TRY(fail(t, agree(t)));
        if (t->cfg.checkpoint)
            BD_TRY(fail(t, save_here(t, t->cfg.checkpoint)));
        p->res.interrupted = 1;
    }
    return BD_OK;
}

bd_status bd_trainer_step(bd_trainer *t, float *loss)
{
    if (!t)
        return bd_error(BD_ERR_ARG, "bd_trainer_step: the trainer is NULL");
    if (t->done || t->at_epoch_end)
        return bd_error(BD_ERR_ARG, "bd_trainer_step: %s", t->done
                        ? "the run is over" : "call bd_trainer_end_epoch first");
    /* flush denormals for the step (the training loop's numbers) */
    unsigned fpu = bd_flush_denormals();
    bd_status s = step(t, loss);
    bd_restore_denormals(fpu);
    return s;
}

int bd_trainer_epoch_end(const bd_trainer *t) { return t && t->at_epoch_end; }

int bd_trainer_done(const bd_trainer *t) { return !t || (t->done && !t->at_epoch_end); }

void bd_trainer_progress(const bd_trainer *t, long *iter, long *total, int *epoch)
{
    if (iter)
        *iter = t ? t->pos.iter : 0;
    if (total)
        *total = t ? t->total : 0;
    if (epoch)
        *epoch = t ? t->pos.epoch : 0;
}

/* ----------------------------------------------------------- evaluation */

bd_status bd_trainer_evaluate(bd_trainer *t, const bd_dataset *ds, float *accuracy,
                              float *loss)
{
    if (!t || !ds)
        return bd_error(BD_ERR_ARG, "bd_trainer_evaluate: %s is NULL",
                        !t ? "the trainer" : "the data set");
    if (t->cfg.nranks <= 1)
        return bd_evaluate(t->net, ds, accuracy, loss);
    const int N = t->cfg.nranks, r = t->cfg.rank;
    bd_eval_sums e;
    BD_TRY(bd_evaluate_range(t->net, ds, (int)((long)ds->n * r / N),
                             (int)((long)ds->n * (r + 1) / N), loss != NULL, &e));
    double v[3] = {(double)e.n, (double)e.correct, e.loss_sum};
    BD_TRY(t->cfg.on_sum(t->cfg.dist_ud, v, 3));
    if (accuracy)
        *accuracy = (float)(v[1] / v[0]);
    if (loss)
        *loss = (float)(v[2] / v[0]);
    return BD_OK;
}

/* The epoch's figures: mean loss, accuracies (-1: not measured). */
static bd_status epoch_figures(bd_trainer *t, bd_epoch_stats *st)
{
    const bd_train_pos *p = &t->pos;
    st->epoch = p->epoch;
    st->iter = p->iter;
    st->loss = (float)(p->epoch_loss / (double)p->epoch_iters);
    st->train_acc = st->test_acc = st->val_acc = st->val_loss = -1.0f;
    st->lr = p->lr;
    BD_TRY(agree(t));
    if (t->cfg.eval_train)
        BD_TRY(bd_trainer_evaluate(t, t->train, &st->train_acc, NULL));
    if (t->test)
        BD_TRY(bd_trainer_evaluate(t, t->test, &st->test_acc, NULL));
    if (t->cfg.val && t->cfg.val->n > 0)
        BD_TRY(bd_trainer_evaluate(t, t->cfg.val, &st->val_acc, &st->val_loss));
    st->seconds = bd_seconds() - t->t0;
    return BD_OK;
}

/* Record a finished epoch: results, the last good weights, log, hook. */
static void record_epoch(bd_trainer *t, const bd_epoch_stats *st)
{
    bd_train_result *r = &t->pos.res;
    r->epochs = st->epoch;
    r->final_loss = st->loss;
    r->train_acc = st->train_acc;
    r->test_acc = st->test_acc;
    r->val_acc = st->val_acc;
    r->final_lr = st->lr;
    copy_take(&t->good_p, &t->good_s, t->net);
    if (t->log.open)
        fprintf(t->log.af.f, "epoch,%d,%ld,%.6g,%.6g,%.6g,%.3f,%.6g,%.6g,%.6g\n", st->epoch,
                st->iter, (double)st->loss, (double)st->train_acc, (double)st->test_acc,
                st->seconds, (double)st->val_acc, (double)st->val_loss, (double)st->lr);
    if (t->cfg.on_epoch)
        t->cfg.on_epoch(t->cfg.ud, st);
}

/* The adaptive rule of seed 004 and early stopping; 1 when patience ran
 * out (the run ends here, before the epoch's checkpoint). */
static int schedule_and_patience(bd_trainer *t, const bd_epoch_stats *st)
{
    bd_train_pos *p = &t->pos;
    /* the adaptive rule: halve when the loss got worse */
    if (t->cfg.schedule == BD_LR_ADAPTIVE && st->loss > p->prev_loss)
        p->lr *= 0.5f;
    p->prev_loss = st->loss;
    if (t->cfg.patience <= 0)
        return 0;
    if (st->val_loss < p->best_val) {
        p->best_val = st->val_loss;
        p->res.best_epoch = st->epoch;
        p->since_best = 0;
        copy_take(&p->best_p, &p->best_s, t->net);
    } else if (++p->since_best >= t->cfg.patience) {
        p->res.stopped_early = 1;
        return 1;
    }
    return 0;
}

/* The end of an epoch, under bd_trainer_end_epoch's denormal flush. */
static bd_status end_epoch(bd_trainer *t, bd_epoch_stats *out)
{
    bd_epoch_stats st;
    BD_TRY(fail(t, epoch_figures(t, &st)));
    record_epoch(t, &st);
    if (out)
        *out = st;
    if (schedule_and_patience(t, &st)) {
        t->done = 1; /* patience ran out: the run ends with this epoch */
        return BD_OK;
    }
    bd_train_pos *p = &t->pos;
    p->epoch++;
    p->epoch_loss = 0.0;
    p->epoch_iters = 0;
    double v[2] = {0, 0};
    if (t->cfg.nranks > 1) {
        v[1] = t->cfg.stop && *t->cfg.stop;
        BD_TRY(fail(t, t->cfg.on_sum(t->cfg.dist_ud, v, 2)));
    }
    const int stopped = stop_asked(t, v) && p->iter < t->total;
    /* the running averages were agreed on by every rank for the epoch's
     * figures; only rank 0 saves (a sum in there would wait for the others) */
    if (t->cfg.checkpoint)
        BD_TRY(fail(t, save_here(t, t->cfg.checkpoint)));
    if (stopped) {
        p->res.interrupted = 1;
        t->done = 1;
    }
    if (p->iter >= t->total)
        t->done = 1;
    return BD_OK;
}

bd_status bd_trainer_end_epoch(bd_trainer *t, bd_epoch_stats *st)
{
    if (!t)
        return bd_error(BD_ERR_ARG, "bd_trainer_end_epoch: t is NULL");
    if (!t || !t->at_epoch_end)
        return bd_error(BD_ERR_ARG, "bd_trainer_end_epoch: %s",
                        !t ? "the trainer is NULL" : "not at the end of an epoch");
    t->at_epoch_end = 0;
    unsigned fpu = bd_flush_denormals();
    bd_status s = end_epoch(t, st);
    bd_restore_denormals(fpu);
    return s;
}

/* ------------------------------------------------------ save and finish */

/* The checkpoint as the state stands (agreed over the ranks before: only
 * rank 0 writes, so no sum may happen in here). */
static bd_status save_here(bd_trainer *t, const char *dir)
{
    /* the sample order carries over epochs only when shuffling (with
     * replacement the buffer holds the last batch); the best weights only
     * matter with early stopping */
    bd_train_pos p = t->pos;
    if (t->cfg.sampling != BD_SAMPLE_SHUFFLE)
        memset(&p.perm, 0, sizeof p.perm);
    p.perm.owner = p.best_p.owner = p.best_s.owner = 0;
    /* the optimizer is saved with its base learning rate */
    const float lr = t->opt->cfg.lr;
    t->opt->cfg.lr = t->lr0;
    bd_status s = bd_checkpoint_save(dir, t->net, t->opt, &p, t->cfg.ckpt_meta,
                                     t->cfg.ckpt_run);
    t->opt->cfg.lr = lr;
    return s;
}

bd_status bd_trainer_save(bd_trainer *t, const char *dir)
{
    if (!t || !dir)
        return bd_error(BD_ERR_ARG, "bd_trainer_save: %s is NULL", !t ? "the trainer" : "dir");
    BD_TRY(agree(t));
    return save_here(t, dir);
}

/* Early stopping ends with the best epoch's weights: measure those. */
static bd_status best_weights(bd_trainer *t)
{
    bd_train_result *r = &t->pos.res;
    if (t->cfg.patience <= 0 || r->best_epoch <= 0 || r->best_epoch == r->epochs)
        return BD_OK;
    copy_put(&t->pos.best_p, &t->pos.best_s, t->net);
    if (t->cfg.eval_train)
        BD_TRY(bd_trainer_evaluate(t, t->train, &r->train_acc, NULL));
    if (t->test)
        BD_TRY(bd_trainer_evaluate(t, t->test, &r->test_acc, NULL));
    return bd_trainer_evaluate(t, t->cfg.val, &r->val_acc, NULL);
}

bd_status bd_trainer_finish(bd_trainer *t, bd_train_result *res)
{
    if (!t)
        return bd_error(BD_ERR_ARG, "bd_trainer_finish: the trainer is NULL");
    bd_status s = t->status;
    if (!t->finished) {
        t->finished = 1;
        t->done = 1;
        t->at_epoch_end = 0;
        if (s == BD_OK) {
            unsigned fpu = bd_flush_denormals();
            s = best_weights(t);
            bd_restore_denormals(fpu);
        }
        t->net->training = t->mode;
        t->opt->cfg.lr = t->lr0;
        t->pos.res.seconds = bd_seconds() - t->t0;
        s = log_close(&t->log, s);
        s = bd__layer_log_close(&t->layer_log, s);
        t->status = s;
    }
    if (res)
        *res = t->pos.res;
    return s;
}

void bd_trainer_free(bd_trainer *t)
{
    if (!t)
        return;
    if (!t->finished)
        bd_trainer_finish(t, NULL);
    release(t);
    free(t);
}
