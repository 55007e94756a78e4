/* runs.c — training runs recorded for figures: the loss of every iteration
 * and the accuracies of every epoch, from bd_train's hooks or from a
 * `badak train --log` CSV. */
#include "fig/fig.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bd_status run_alloc(fig_run *r, long iters, int epochs)
{
    memset(r, 0, sizeof *r);
    if (iters < 1)
        iters = 1;
    if (epochs < 1)
        epochs = 1;
    r->loss = malloc(sizeof(float) * (size_t)iters);
    r->train_acc = malloc(sizeof(float) * (size_t)epochs * 2);
    r->epoch_iter = malloc(sizeof(long) * (size_t)epochs);
    if (!r->loss || !r->train_acc || !r->epoch_iter) {
        fig_run_free(r);
        return bd_error(BD_ERR_NOMEM, "training curves: %ld iterations, %d epochs", iters,
                        epochs);
    }
    r->test_acc = r->train_acc + epochs;
    r->cap_iters = iters;
    r->cap_epochs = epochs;
    return BD_OK;
}

void fig_run_free(fig_run *r)
{
    free(r->loss);
    free(r->train_acc);
    free(r->epoch_iter);
    memset(r, 0, sizeof *r);
}

static void on_iter(void *ud, long iter, long total, float loss)
{
    fig_run *r = ud;
    if (iter >= 1 && iter <= r->cap_iters) {
        r->loss[iter - 1] = loss;
        r->iters = iter;
    }
}

static void on_epoch(void *ud, const bd_epoch_stats *s)
{
    fig_run *r = ud;
    if (r->epochs < r->cap_epochs) {
        r->train_acc[r->epochs] = s->train_acc;
        r->test_acc[r->epochs] = s->test_acc;
        r->epoch_iter[r->epochs] = s->iter;
        r->epochs++;
    }
}

bd_status fig_train_run(const bd_net_spec *spec, const char *optim, const bd_optim_config *oc,
                        const bd_dataset *train, const bd_dataset *test,
                        const bd_train_config *tc, uint64_t init_seed, fig_run *out)
{
    long per_epoch = train->n / tc->batch > 0 ? train->n / tc->batch : 1;
    long total = tc->iters > 0 ? tc->iters : (long)tc->epochs * per_epoch;
    int epochs = (int)((total + per_epoch - 1) / per_epoch);
    bd_status s = run_alloc(out, total, epochs);
    if (s != BD_OK)
        return s;
    bd_rng rng;
    bd_rng_seed(&rng, init_seed);
    bd_net *net = NULL;
    s = bd_net_from_spec(&net, spec, train->c, train->h, train->w, train->nclasses, &rng);
    if (s != BD_OK) {
        fig_run_free(out);
        return s;
    }
    bd_optim *opt = NULL;
    s = bd_optim_create(&opt, optim, oc, net);
    if (s != BD_OK) {
        bd_net_free(net);
        fig_run_free(out);
        return s;
    }
    bd_train_config c = *tc;
    c.on_iter = on_iter;
    c.on_epoch = on_epoch;
    c.ud = out;
    c.log_path = NULL;
    bd_train_result res;
    s = bd_train(net, opt, train, test, &c, &res);
    if (s == BD_ERR_NUMERIC) /* a diverging run is a result too (it stops there) */
        s = BD_OK;
    bd_optim_free(opt);
    bd_net_free(net);
    if (s != BD_OK)
        fig_run_free(out);
    return s;
}

/* the next comma-separated field of *p as a float (empty: -1) */
static int field(char **p, double *v)
{
    char *s = *p, *end;
    if (!s)
        return -1;
    char *comma = strchr(s, ',');
    if (comma)
        *comma = '\0';
    *p = comma ? comma + 1 : NULL;
    if (!*s || *s == '\n' || *s == '\r') {
        *v = -1;
        return 0;
    }
    errno = 0;
    *v = strtod(s, &end);
    while (*end == '\n' || *end == '\r')
        end++;
    return (end == s || *end || errno) ? -1 : 0;
}

bd_status fig_read_log(const char *path, fig_run *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return bd_error(BD_ERR_IO, "%s: cannot read the training log: %s", path,
                        strerror(errno));
    char line[1024];
    static const char HEAD[] = "kind,epoch,iter,loss,train_acc,test_acc";
    if (!fgets(line, sizeof line, f) || strncmp(line, HEAD, sizeof HEAD - 1)) {
        fclose(f);
        return bd_error(BD_ERR_FORMAT, "%s: not a `badak train --log` CSV (header should "
                        "start with kind,epoch,iter,loss,train_acc,test_acc)", path);
    }
    /* count the rows first, then fill */
    long iters = 0;
    int epochs = 0;
    while (fgets(line, sizeof line, f)) {
        iters += !strncmp(line, "iter,", 5);
        epochs += !strncmp(line, "epoch,", 6);
    }
    bd_status s = run_alloc(out, iters, epochs);
    if (s != BD_OK) {
        fclose(f);
        return s;
    }
    rewind(f);
    if (!fgets(line, sizeof line, f)) /* header again */
        line[0] = '\0';
    long lineno = 1;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        int is_iter = !strncmp(line, "iter,", 5), is_epoch = !strncmp(line, "epoch,", 6);
        if (!is_iter && !is_epoch) {
            s = bd_error(BD_ERR_FORMAT, "%s:%ld: row kind is neither iter nor epoch", path,
                         lineno);
            break;
        }
        char *p = strchr(line, ',') + 1;
        double ep, it, loss, tr, te;
        if (field(&p, &ep) || field(&p, &it) || field(&p, &loss) || field(&p, &tr) ||
            field(&p, &te)) {
            s = bd_error(BD_ERR_FORMAT, "%s:%ld: expected numbers in epoch,iter,loss,"
                         "train_acc,test_acc", path, lineno);
            break;
        }
        if (is_iter && out->iters < out->cap_iters)
            out->loss[out->iters++] = (float)loss;
        else if (is_epoch && out->epochs < out->cap_epochs) {
            out->train_acc[out->epochs] = (float)tr;
            out->test_acc[out->epochs] = (float)te;
            out->epoch_iter[out->epochs] = (long)it;
            out->epochs++;
        }
    }
    fclose(f);
    if (s == BD_OK && out->epochs == 0 && out->iters == 0)
        s = bd_error(BD_ERR_FORMAT, "%s: the log has no rows", path);
    if (s != BD_OK)
        fig_run_free(out);
    return s;
}
