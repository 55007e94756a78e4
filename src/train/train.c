/* train.c — the Trainer (book 4.5.2-4.5.3, common/trainer.py): mini-batch
 * training with per-epoch evaluation, validation, early stopping, a guard
 * against non-finite losses and learning-rate schedules. Everything is
 * allocated before the loop; the loop itself only computes. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

#define EVAL_ROWS 500 /* rows per evaluation chunk: big GEMMs, small buffers */

void bd_train_config_default(bd_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->batch = 100;
    c->epochs = 10;
    c->sampling = BD_SAMPLE_SHUFFLE;
    c->seed = 1;
    c->eval_train = 1;
    c->lr_step = 10;
}

/* The CSV log is written to PATH.tmp and renamed when training ends, so a
 * crash never leaves a half log under the real name. */
typedef struct train_log {
    FILE *f;
    char tmp[4096];
    const char *path;
} train_log;

static bd_status log_open(train_log *lg, const char *path)
{
    memset(lg, 0, sizeof *lg);
    if (!path)
        return BD_OK;
    if ((size_t)snprintf(lg->tmp, sizeof lg->tmp, "%s.tmp", path) >= sizeof lg->tmp)
        return bd_error(BD_ERR_ARG, "log path too long: %s", path);
    lg->f = fopen(lg->tmp, "w");
    if (!lg->f)
        return bd_error(BD_ERR_IO, "%s: cannot write the log: %s", lg->tmp, strerror(errno));
    lg->path = path;
    fprintf(lg->f, "kind,epoch,iter,loss,train_acc,test_acc,seconds,val_acc,val_loss,lr\n");
    return BD_OK;
}

static bd_status log_close(train_log *lg, bd_status s)
{
    if (!lg->f)
        return s;
    int bad = ferror(lg->f);
    bad |= fflush(lg->f) != 0;
    bad |= fclose(lg->f) != 0;
    lg->f = NULL;
    if (bad || rename(lg->tmp, lg->path) != 0) {
        remove(lg->tmp);
        if (s == BD_OK)
            return bd_error(BD_ERR_IO, "%s: cannot write the log", lg->path);
    }
    return s;
}

/* A copy of the weights and state (for the best epoch, the last good one). */
typedef struct snapshot {
    bd_tensor p, s;
} snapshot;

static bd_status snap_alloc(snapshot *sn, const bd_net *net)
{
    int ps[1] = {(int)BD_MAX(net->params.size, 1)}, ss[1] = {(int)BD_MAX(net->state.size, 1)};
    memset(sn, 0, sizeof *sn);
    BD_TRY(bd_tensor_alloc(&sn->p, BD_F32, 1, ps));
    return bd_tensor_alloc(&sn->s, BD_F32, 1, ss);
}

static void snap_take(snapshot *sn, const bd_net *net)
{
    memcpy(sn->p.data, net->params.data, net->params.size * sizeof(float));
    memcpy(sn->s.data, net->state.data, net->state.size * sizeof(float));
}

static void snap_restore(const snapshot *sn, bd_net *net)
{
    memcpy(net->params.data, sn->p.data, net->params.size * sizeof(float));
    memcpy(net->state.data, sn->s.data, net->state.size * sizeof(float));
}

static void snap_free(snapshot *sn)
{
    bd_tensor_free(&sn->p);
    bd_tensor_free(&sn->s);
}

/* A checkpoint of the run as it stands (cfg->checkpoint): the position is
 * made of views of the trainer's own buffers, so nothing is copied. The
 * optimizer is saved with its base learning rate. */
static bd_status checkpoint(const bd_train_config *cfg, bd_net *net, bd_optim *opt, float lr0,
                            bd_train_pos *pos, const bd_tensor *perm, const snapshot *best)
{
    if (cfg->sampling == BD_SAMPLE_SHUFFLE) { /* the order carries over epochs */
        pos->perm = *perm;
        pos->perm.owner = 0;
    }
    if (cfg->patience > 0) {
        pos->best_p = best->p;
        pos->best_s = best->s;
        pos->best_p.owner = pos->best_s.owner = 0;
    }
    const float lr = opt->cfg.lr;
    opt->cfg.lr = lr0;
    bd_status s = bd_checkpoint_save(cfg->checkpoint, net, opt, pos, cfg->ckpt_meta,
                                     cfg->ckpt_run);
    opt->cfg.lr = lr;
    return s;
}

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

/* ---- data parallel (cfg->comm): the few places where processes meet */

/* Sum the trainable gradient block over the processes: one sum for the
 * whole block (the reason it is contiguous), with this process's share of
 * the global mean loss and its stop vote in the block's spare floats after
 * it (BD__GRAD_SPARE), so one allreduce a step carries everything. Every
 * process leaves with the same gradient, loss and decision. */
static bd_status reduce_step(const bd_comm *cm, bd_net *net, float *loss, int rows, int B,
                             int *stop)
{
    const size_t off = bd_net_trainable_offset(net), n = bd_net_trainable_count(net);
    float *g = bd_f32(&net->grads) + off;
    g[n] = *loss * (float)rows / (float)B;
    g[n + 1] = *stop ? 1.0f : 0.0f;
    BD_TRY(cm->sum_f32(cm->ud, g, n + BD__GRAD_SPARE));
    *loss = g[n];
    *stop = g[n + 1] > 0.0f;
    return BD_OK;
}

/* BatchNorm running averages, each process's from its own shards, become
 * their mean (before an evaluation or a save), so every process holds the
 * same model. With --sync-bn they are equal already. */
static bd_status average_state(const bd_comm *cm, bd_net *net)
{
    if (!cm || cm->sync_bn || net->state.size == 0)
        return BD_OK;
    float *st = bd_f32(&net->state);
    BD_TRY(cm->sum_f32(cm->ud, st, net->state.size));
    const float inv = 1.0f / (float)cm->size;
    for (size_t k = 0; k < net->state.size; k++)
        st[k] *= inv;
    return BD_OK;
}

/* Accuracy (and mean loss) on ds: alone, bd_evaluate; data parallel, each
 * process its bd_shard of the rows, sums added over the processes. */
static bd_status evaluate(bd_net *net, const bd_dataset *ds, const bd_comm *cm, float *acc,
                          float *loss)
{
    if (!cm)
        return bd_evaluate(net, ds, acc, loss);
    if (ds->n < 1)
        return bd_error(BD_ERR_ARG, "%s: empty data set", ds->name);
    int lo, hi;
    bd_shard(ds->n, cm->rank, cm->size, &lo, &hi);
    double v[2] = {0.0, 0.0};
    BD_TRY(bd__eval_sums(net, ds, lo, hi, loss != NULL, v));
    BD_TRY(cm->sum_f64(cm->ud, v, 2));
    *acc = (float)(v[0] / ds->n);
    if (loss)
        *loss = (float)(v[1] / ds->n);
    return BD_OK;
}

/* Augment rows [lo, hi) of the global batch, gathered in x: row r draws
 * from the stream of its global index under one key per step, so a sample
 * is changed the same way whichever process holds it. */
static bd_status augment_rows(const bd_augment *aug, const bd_dataset *ds, float *x, int lo,
                              int hi, float *scratch, bd_rng *aug_rng)
{
    const uint64_t key = bd_rng_u64(aug_rng);
    const size_t D = (size_t)ds->c * ds->h * ds->w;
    for (int r = lo; r < hi; r++) {
        bd_rng rr;
        bd__row_rng(&rr, key, 0, r);
        BD_TRY(bd_augment_batch(aug, x + (size_t)(r - lo) * D, 1, ds->c, ds->h, ds->w, scratch,
                                &rr));
    }
    return BD_OK;
}

int bd_train_eval_rows(const bd_net *net, int batch)
{
    int conv = 0;
    for (int i = 0; i < net->nlayers; i++)
        conv |= bd__layer_op(net->layers[i].kind)->scratch != NULL;
    return conv ? batch : BD_MAX(batch, EVAL_ROWS);
}

bd_status bd_train(bd_net *net, bd_optim *opt, const bd_dataset *train, const bd_dataset *test,
                   const bd_train_config *cfg, bd_train_result *res)
{
    bd_train_config dc;
    if (!cfg) {
        bd_train_config_default(&dc);
        cfg = &dc;
    }
    if (!net->built)
        return bd_error(BD_ERR_ARG, "bd_train: network is not built");
    if (cfg->batch < 1)
        return bd_error(BD_ERR_ARG, "batch size %d must be >= 1", cfg->batch);
    if (cfg->iters <= 0 && cfg->epochs < 1)
        return bd_error(BD_ERR_ARG, "need epochs >= 1 or iterations >= 1");
    if (train->n < 1)
        return bd_error(BD_ERR_ARG, "%s: no training samples", train->name);
    if (cfg->patience > 0 && !(cfg->val && cfg->val->n > 0))
        return bd_error(BD_ERR_ARG, "early stopping (patience %d) needs a validation set",
                        cfg->patience);
    const bd_train_pos *rp = cfg->resume;
    if (rp && rp->perm.data && rp->perm.size != (size_t)train->n)
        return bd_error(BD_ERR_SHAPE, "resume: the checkpoint's sample order has %zu samples, "
                        "%s has %d", rp->perm.size, train->name, train->n);
    if (rp && cfg->patience > 0 && !rp->best_p.data)
        return bd_error(BD_ERR_ARG, "resume: early stopping, but the checkpoint keeps no best "
                        "weights");
    const bd_comm *cm = cfg->comm && cfg->comm->size > 1 ? cfg->comm : NULL;
    if (cm && (!cm->sum_f32 || !cm->sum_f64 || cm->rank < 0 || cm->rank >= cm->size))
        return bd_error(BD_ERR_ARG, "bd_train: the communicator is incomplete (rank %d of %d)",
                        cm->rank, cm->size);
    if (cm && BD_MIN(cfg->batch, train->n) < cm->size)
        return bd_error(BD_ERR_ARG, "batch of %d rows is smaller than the %d processes: "
                        "every process needs at least one row", BD_MIN(cfg->batch, train->n),
                        cm->size);
    BD_TRY(check_set(net, train));
    BD_TRY(check_set(net, test));
    BD_TRY(check_set(net, cfg->val));
    int top = net->out_size == 1 ? 2 : net->out_size;
    if (train->nclasses > top)
        return bd_error(BD_ERR_SHAPE, "%s: %d classes, network output is %d", train->name,
                        train->nclasses, net->out_size);

    /* A batch larger than the set is the whole set (shuffled). The book's
     * iterations per epoch: max(train_size / batch_size, 1). */
    const int B = BD_MIN(cfg->batch, train->n);
    const long per_epoch = BD_MAX(train->n / B, 1);
    const long total = cfg->iters > 0 ? cfg->iters : (long)cfg->epochs * per_epoch;
    const int nepochs = (int)((total + per_epoch - 1) / per_epoch);
    if (rp && (rp->iter > total ||
               rp->epoch != (rp->iter == total && total % per_epoch ? nepochs + 1
                                                                    : (int)(rp->iter / per_epoch) + 1)))
        return bd_error(BD_ERR_ARG, "resume: iteration %ld / epoch %d does not fit this run "
                        "(%ld iterations, %ld per epoch)", rp->iter, rp->epoch, total, per_epoch);
    const float lr0 = opt->cfg.lr;
    const float gamma = cfg->lr_gamma > 0 ? cfg->lr_gamma
                                          : (cfg->schedule == BD_LR_EXP ? 0.95f : 0.1f);

    /* Augmentation works on the images of the gathered batch; its scratch
     * (one sample) is allocated here, once. */
    const bd_augment *aug = cfg->augment && cfg->augment->flags ? cfg->augment : NULL;
    if (aug) {
        bd_status as = bd_augment_check(aug, train->c, train->h, train->w);
        if (as != BD_OK) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", bd_errmsg());
            return bd_error(as, "%s: %s", train->name, msg);
        }
    }

    /* Dense networks evaluate in chunks of EVAL_ROWS (bigger GEMMs); for
     * convolutional ones every reserved row costs whole feature maps (and
     * im2col columns), so they evaluate in training-sized batches. */
    BD_TRY(bd_net_reserve(net, bd_train_eval_rows(net, B)));
    bd_tensor perm, aug_scratch = {0};
    int pshape[1] = {train->n};
    BD_TRY(bd_tensor_alloc(&perm, BD_I32, 1, pshape));
    int32_t *idx = bd_i32(&perm);
    for (int i = 0; i < train->n; i++)
        idx[i] = rp && rp->perm.data ? bd_i32(&rp->perm)[i] : i;
    snapshot good = {0}, best = {0};
    bd_status s = snap_alloc(&good, net);
    if (s == BD_OK && aug) {
        int ashape[1] = {(int)bd_augment_scratch_size(train->c, train->h, train->w)};
        s = bd_tensor_alloc(&aug_scratch, BD_F32, 1, ashape);
    }
    if (s == BD_OK)
        s = snap_alloc(&best, net);
    train_log lg = {0};
    if (s == BD_OK)
        s = log_open(&lg, cfg->log_path);
    if (s != BD_OK) {
        bd_tensor_free(&perm);
        bd_tensor_free(&aug_scratch);
        snap_free(&good);
        snap_free(&best);
        return s;
    }
    snap_take(&good, net);

    bd_rng rng;
    bd_rng_seed(&rng, cfg->seed ^ 0x5eed5eedULL); /* separate stream from init */
    /* Augmentation draws from a stream of its own, so that shuffling (and so
     * a run without augmentation) is the same whether or not it is on. */
    bd_rng aug_rng;
    bd_rng_seed(&aug_rng, cfg->seed ^ 0xa06e4a7ea06eULL);
    unsigned fpu = bd_flush_denormals();
    double t0 = bd_seconds();
    bd_train_result r;
    memset(&r, 0, sizeof r);
    r.train_acc = r.test_acc = r.val_acc = -1.0f;
    double epoch_loss = 0.0, prev_epoch_loss = INFINITY, best_val = INFINITY;
    long epoch_iters = 0;
    int epoch = 1, since_best = 0;
    float lr = lr0;
    long it0 = 0;
    if (rp) { /* go on exactly where the checkpoint stopped */
        rng = rp->rng;
        aug_rng = rp->aug_rng;
        r = rp->res;
        r.interrupted = 0;
        epoch_loss = rp->epoch_loss;
        epoch_iters = rp->epoch_iters;
        prev_epoch_loss = rp->prev_loss;
        best_val = rp->best_val;
        epoch = rp->epoch;
        since_best = rp->since_best;
        lr = rp->lr;
        it0 = rp->iter;
        if (cfg->patience > 0) {
            memcpy(best.p.data, rp->best_p.data, net->params.size * sizeof(float));
            memcpy(best.s.data, rp->best_s.data, net->state.size * sizeof(float));
        }
    }
    int mode = net->training;
    net->training = 1;
    int stopped = 0;
    /* this process's rows of every global batch: all of them when alone */
    int lo = 0, hi = B;
    if (cm)
        bd_shard(B, cm->rank, cm->size, &lo, &hi);
    net->row0 = lo;
    net->grows = cm ? B : 0;
    net->sync = cm && cm->sync_bn ? cm : NULL;
    bd_train_pos here; /* the position a checkpoint saves */
    memset(&here, 0, sizeof here);

    for (long it = it0; it < total; it++) {
        if (it % per_epoch == 0 && cfg->schedule != BD_LR_ADAPTIVE)
            lr = bd_lr_at(cfg->schedule, lr0, epoch - 1, nepochs, cfg->lr_step, gamma);
        opt->cfg.lr = lr;
        const int32_t *bidx;
        if (cfg->sampling == BD_SAMPLE_REPLACE) {
            /* np.random.choice(train_size, batch_size): with replacement */
            for (int j = 0; j < B; j++)
                idx[j] = (int32_t)bd_rng_below(&rng, (uint32_t)train->n);
            bidx = idx;
        } else {
            long pos = it % per_epoch;
            if (pos == 0)
                bd_rng_shuffle(&rng, idx, (size_t)train->n);
            bidx = idx + pos * B;
        }
        s = bd_dataset_gather(train, bidx + lo, hi - lo, &net->xbatch, &net->ybatch);
        if (s == BD_OK && aug)
            s = augment_rows(aug, train, bd_f32(&net->xbatch), lo, hi, bd_f32(&aug_scratch),
                             &aug_rng);
        float loss = 0.0f;
        if (s == BD_OK)
            s = bd_net_gradient(net, &net->xbatch, (bd_labels){bd_i32(&net->ybatch), NULL},
                                &loss);
        int stop_now = cfg->stop && *cfg->stop;
        if (s == BD_OK && cm)
            s = reduce_step(cm, net, &loss, hi - lo, B, &stop_now);
        if (s != BD_OK)
            break;
        if (!isfinite(loss)) {
            /* keep the last good weights: those of the last finished epoch */
            snap_restore(&good, net);
            s = bd_error(BD_ERR_NUMERIC,
                         "loss became %s at epoch %d, iteration %ld: the learning rate "
                         "(%g) is probably too high, try a lower --lr; the weights of "
                         "epoch %d are kept",
                         isnan(loss) ? "NaN" : "infinite", epoch, it + 1, (double)lr,
                         epoch - 1);
            break;
        }
        bd_optim_step(opt, net);
        epoch_loss += loss;
        epoch_iters++;
        r.iters = it + 1;
        if (lg.f)
            fprintf(lg.f, "iter,%d,%ld,%.6g,,,,,,\n", epoch, it + 1, (double)loss);
        if (cfg->on_iter)
            cfg->on_iter(cfg->ud, it + 1, total, loss);
        if (!cm) /* alone: a stop raised up to now counts (data parallel: the vote) */
            stop_now = cfg->stop && *cfg->stop;

        if ((it + 1) % per_epoch != 0 && it + 1 != total) {
            if (stop_now) {
                /* stopped mid-epoch: save the position after this step */
                stopped = 1;
                s = average_state(cm, net);
                here = (bd_train_pos){.iter = it + 1, .epoch = epoch, .epoch_loss = epoch_loss,
                                     .epoch_iters = epoch_iters, .lr = lr,
                                     .prev_loss = prev_epoch_loss, .best_val = best_val,
                                     .since_best = since_best, .rng = rng, .aug_rng = aug_rng,
                                 .res = r};
                if (s == BD_OK && cfg->checkpoint)
                    s = checkpoint(cfg, net, opt, lr0, &here, &perm, &best);
                break;
            }
            continue;
        }
        /* ---- end of an epoch */
        bd_epoch_stats st;
        st.epoch = epoch;
        st.iter = it + 1;
        st.loss = (float)(epoch_loss / (double)epoch_iters);
        st.train_acc = st.test_acc = st.val_acc = st.val_loss = -1.0f;
        st.lr = lr;
        s = average_state(cm, net);
        if (s == BD_OK && cfg->eval_train)
            s = evaluate(net, train, cm, &st.train_acc, NULL);
        if (s == BD_OK && test && test->n > 0)
            s = evaluate(net, test, cm, &st.test_acc, NULL);
        if (s == BD_OK && cfg->val && cfg->val->n > 0)
            s = evaluate(net, cfg->val, cm, &st.val_acc, &st.val_loss);
        if (s != BD_OK)
            break;
        st.seconds = bd_seconds() - t0;
        r.epochs = epoch;
        r.final_loss = st.loss;
        r.train_acc = st.train_acc;
        r.test_acc = st.test_acc;
        r.val_acc = st.val_acc;
        r.final_lr = lr;
        snap_take(&good, net);
        if (lg.f)
            fprintf(lg.f, "epoch,%d,%ld,%.6g,%.6g,%.6g,%.3f,%.6g,%.6g,%.6g\n", epoch, it + 1,
                    (double)st.loss, (double)st.train_acc, (double)st.test_acc, st.seconds,
                    (double)st.val_acc, (double)st.val_loss, (double)lr);
        if (cfg->on_epoch)
            cfg->on_epoch(cfg->ud, &st);
        /* the adaptive rule of seed 004: halve when the loss got worse */
        if (cfg->schedule == BD_LR_ADAPTIVE && st.loss > prev_epoch_loss)
            lr *= 0.5f;
        prev_epoch_loss = st.loss;
        if (cfg->patience > 0) {
            if (st.val_loss < best_val) {
                best_val = st.val_loss;
                r.best_epoch = epoch;
                since_best = 0;
                snap_take(&best, net);
            } else if (++since_best >= cfg->patience) {
                r.stopped_early = 1;
                break;
            }
        }
        epoch++;
        epoch_loss = 0.0;
        epoch_iters = 0;
        stopped = stop_now && it + 1 < total;
        if (cfg->checkpoint) {
            here = (bd_train_pos){.iter = it + 1, .epoch = epoch, .lr = lr,
                                 .prev_loss = prev_epoch_loss, .best_val = best_val,
                                 .since_best = since_best, .rng = rng, .aug_rng = aug_rng,
                                 .res = r};
            s = checkpoint(cfg, net, opt, lr0, &here, &perm, &best);
            if (s != BD_OK)
                break;
        }
        if (stopped)
            break;
    }
    r.interrupted = stopped;
    /* early stopping ends with the best epoch's weights: measure those */
    if (s == BD_OK && cfg->patience > 0 && r.best_epoch > 0 && r.best_epoch != r.epochs) {
        snap_restore(&best, net);
        if (cfg->eval_train)
            s = evaluate(net, train, cm, &r.train_acc, NULL);
        if (s == BD_OK && test && test->n > 0)
            s = evaluate(net, test, cm, &r.test_acc, NULL);
        if (s == BD_OK)
            s = evaluate(net, cfg->val, cm, &r.val_acc, NULL);
    }
    net->training = mode;
    net->row0 = net->grows = 0;
    net->sync = NULL;
    opt->cfg.lr = lr0;
    r.seconds = bd_seconds() - t0;
    bd_restore_denormals(fpu);
    bd_tensor_free(&perm);
    bd_tensor_free(&aug_scratch);
    snap_free(&good);
    snap_free(&best);
    s = log_close(&lg, s);
    if (res)
        *res = r;
    return s;
}
