/* train.c — bd_train, the whole run (book 4.5.2-4.5.3, common/trainer.py):
 * mini-batch training with per-epoch evaluation, validation, early
 * stopping, a guard against non-finite losses and learning-rate schedules,
 * as a loop over the step-level trainer (trainer.c). */
#include "internal.h"

#include <math.h>

#define EVAL_ROWS 500 /* rows per evaluation chunk: big GEMMs, small buffers */

void bd_train_config_default(bd_train_config *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->batch = 100;
    c->epochs = 10;
    c->sampling = BD_SAMPLE_SHUFFLE;
    c->seed = 1;
    c->eval_train = 1;
    c->lr_step = 10;
    c->optimizer = "sgd";
}

int bd_train_eval_rows(const bd_net *net, int batch)
{
    int conv = 0;
    for (int i = 0; net && i < net->nlayers; i++)
        conv |= bd__layer_op(net->layers[i].kind)->scratch != NULL;
    return conv ? batch : BD_MAX(batch, EVAL_ROWS);
}

bd_status bd_train(bd_net *net, bd_optim *opt, const bd_dataset *train, const bd_dataset *test,
                   const bd_train_config *cfg, bd_train_result *res)
{
    if (res) { /* filled on every path, failures included */
        memset(res, 0, sizeof *res);
        res->train_acc = res->test_acc = res->val_acc = -1.0f;
    }
    bd_train_config dc;
    if (!cfg) {
        bd_train_config_default(&dc);
        cfg = &dc;
    }
    /* opt NULL: the optimizer cfg names, made here and freed below */
    bd_optim *own = NULL;
    if (!opt && cfg->resume)
        return bd_error(BD_ERR_ARG, "bd_train: opt is NULL with cfg->resume set: a resumed run "
                        "goes on with the checkpoint's optimizer (bd_checkpoint_load)");
    if (!opt && net) {
        BD_TRY(bd_optim_create(&own, cfg->optimizer ? cfg->optimizer : "sgd", &cfg->optim, net));
        opt = own;
    }
    bd_trainer *t;
    bd_status s = bd_trainer_create(&t, net, opt, train, test, cfg);
    /* nothing reads the layers' outputs but a layer log */
    const int unread = t && !cfg->layer_log ? bd__net_unread_begin(net) : -1;
    while (s == BD_OK && !bd_trainer_done(t)) {
        s = bd_trainer_step(t, NULL);
        if (s == BD_OK && bd_trainer_epoch_end(t))
            s = bd_trainer_end_epoch(t, NULL);
    }
    if (t) {
        s = bd_trainer_finish(t, res);
        bd_trainer_free(t);
    }
    if (unread >= 0)
        bd__net_unread_end(net, unread);
    bd_optim_free(own);
    return s;
}
