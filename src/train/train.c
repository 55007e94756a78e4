/* train.c — the Trainer (book 4.5.2-4.5.3, common/trainer.py): mini-batch
 * SGD-style training with per-epoch evaluation. Everything is allocated
 * before the loop; the loop itself only computes. */
#include "internal.h"

#include <math.h>
#include <errno.h>
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
    fprintf(lg->f, "kind,epoch,iter,loss,train_acc,test_acc,seconds\n");
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
    if ((size_t)train->x.size / (size_t)train->n != (size_t)net->in_size)
        return bd_error(BD_ERR_SHAPE, "%s: samples of %zu features, network input is %d",
                        train->name, train->x.size / (size_t)train->n, net->in_size);
    if (train->nclasses > net->out_size)
        return bd_error(BD_ERR_SHAPE, "%s: %d classes, network output is %d", train->name,
                        train->nclasses, net->out_size);
    if (test && (size_t)test->x.size / (size_t)BD_MAX(test->n, 1) != (size_t)net->in_size)
        return bd_error(BD_ERR_SHAPE, "%s: samples of %zu features, network input is %d",
                        test->name, test->x.size / (size_t)BD_MAX(test->n, 1), net->in_size);

    /* A batch larger than the set is the whole set (shuffled). The book's
     * iterations per epoch: max(train_size / batch_size, 1). */
    const int B = BD_MIN(cfg->batch, train->n);
    const long per_epoch = BD_MAX(train->n / B, 1);
    const long total = cfg->iters > 0 ? cfg->iters : (long)cfg->epochs * per_epoch;

    BD_TRY(bd_net_reserve(net, BD_MAX(B, EVAL_ROWS)));
    bd_tensor perm;
    int pshape[1] = {train->n};
    BD_TRY(bd_tensor_alloc(&perm, BD_I32, 1, pshape));
    int32_t *idx = bd_i32(&perm);
    for (int i = 0; i < train->n; i++)
        idx[i] = i;
    train_log lg;
    bd_status s = log_open(&lg, cfg->log_path);
    if (s != BD_OK) {
        bd_tensor_free(&perm);
        return s;
    }

    bd_rng rng;
    bd_rng_seed(&rng, cfg->seed ^ 0x5eed5eedULL); /* separate stream from init */
    unsigned fpu = bd_flush_denormals();
    double t0 = bd_seconds();
    bd_train_result r;
    memset(&r, 0, sizeof r);
    r.train_acc = r.test_acc = -1.0f;
    double epoch_loss = 0.0;
    long epoch_iters = 0;
    int epoch = 1;

    for (long it = 0; it < total; it++) {
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
        s = bd_dataset_gather(train, bidx, B, &net->xbatch, &net->ybatch);
        float loss = 0.0f;
        if (s == BD_OK)
            s = bd_net_gradient(net, &net->xbatch, (bd_labels){bd_i32(&net->ybatch), NULL},
                                &loss);
        if (s != BD_OK)
            break;
        if (!isfinite(loss)) {
            s = bd_error(BD_ERR_NUMERIC,
                         "loss became %s at epoch %d, iteration %ld: the learning rate "
                         "(%g) is probably too high, try a lower --lr",
                         isnan(loss) ? "NaN" : "infinite", epoch, it + 1,
                         (double)opt->cfg.lr);
            break;
        }
        bd_optim_step(opt, net);
        epoch_loss += loss;
        epoch_iters++;
        r.iters = it + 1;
        if (lg.f)
            fprintf(lg.f, "iter,%d,%ld,%.6g,,,\n", epoch, it + 1, (double)loss);
        if (cfg->on_iter)
            cfg->on_iter(cfg->ud, it + 1, total, loss);

        if ((it + 1) % per_epoch == 0 || it + 1 == total) {
            bd_epoch_stats st;
            st.epoch = epoch;
            st.iter = it + 1;
            st.loss = (float)(epoch_loss / (double)epoch_iters);
            st.train_acc = st.test_acc = -1.0f;
            if (cfg->eval_train)
                s = bd_evaluate(net, train, &st.train_acc, NULL);
            if (s == BD_OK && test && test->n > 0)
                s = bd_evaluate(net, test, &st.test_acc, NULL);
            if (s != BD_OK)
                break;
            st.seconds = bd_seconds() - t0;
            r.epochs = epoch;
            r.final_loss = st.loss;
            r.train_acc = st.train_acc;
            r.test_acc = st.test_acc;
            if (lg.f)
                fprintf(lg.f, "epoch,%d,%ld,%.6g,%.6g,%.6g,%.3f\n", epoch, it + 1,
                        (double)st.loss, (double)st.train_acc, (double)st.test_acc,
                        st.seconds);
            if (cfg->on_epoch)
                cfg->on_epoch(cfg->ud, &st);
            epoch++;
            epoch_loss = 0.0;
            epoch_iters = 0;
        }
    }
    r.seconds = bd_seconds() - t0;
    bd_restore_denormals(fpu);
    bd_tensor_free(&perm);
    s = log_close(&lg, s);
    if (res)
        *res = r;
    return s;
}
