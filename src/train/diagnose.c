/* diagnose.c — what seed 002's "DNN training tips" (unit 3) tell a learner to
 * check, checked on a finished (or failed) run: the loss did not fall; the
 * accuracy stalled while the loss fell; train accuracy far above test
 * (overfitting); a loss that stopped being finite (exploding gradients,
 * with the gradient norms before it); a loss that does not fit the last
 * layer; one class holding most of the data. Each finding is a short code
 * and a sentence with the measured figures and what to try. */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static void add(bd_diag_result *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(bd_diag_result *r, const char *code, const char *fmt, ...)
{
    if (r->n >= BD_DIAG_MAX)
        return;
    bd_diagnosis *d = &r->d[r->n++];
    snprintf(d->code, sizeof d->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
}

/* the loss did not fall: last epoch's mean loss >= 95% of the first's */
static void loss_flat(const bd_diag_input *in, bd_diag_result *r)
{
    if (in->nepochs < 2 || in->nonfinite)
        return;
    double first = in->epochs[0].loss, last = in->epochs[in->nepochs - 1].loss;
    if (!(last >= 0.95 * first))
        return;
    if (last > 1.05 * first)
        add(r, "loss_rising",
            "the loss rose from %.4g (epoch 1) to %.4g (epoch %d): lr %g is probably too "
            "high; try lr = %g", first, last, in->nepochs, (double)in->lr, (double)in->lr / 10);
    else
        add(r, "loss_not_falling",
            "the loss did not fall: %.4g in epoch 1, %.4g in epoch %d with lr %g; a rate "
            "too small crawls: try lr = %g (and check that the labels match the inputs)",
            first, last, in->nepochs, (double)in->lr, (double)in->lr * 10);
}

/* accuracy stalled while the loss fell: over the second half of the
 * epochs the loss fell by > 10% and the accuracy moved by < 0.005 */
static void acc_stalled(const bd_diag_input *in, bd_diag_result *r)
{
    if (in->nepochs < 4 || in->nonfinite || in->task != BD_TASK_CLASSIFY)
        return;
    const bd_epoch_stats *a = &in->epochs[in->nepochs / 2], *b = &in->epochs[in->nepochs - 1];
    float acc_a = a->train_acc >= 0 ? a->train_acc : a->test_acc;
    float acc_b = b->train_acc >= 0 ? b->train_acc : b->test_acc;
    if (acc_a < 0 || acc_b < 0 || !(b->loss < 0.9 * a->loss) || fabsf(acc_b - acc_a) >= 0.005f)
        return;
    if (acc_b > 0.995f)
        return; /* nothing left to gain */
    add(r, "accuracy_stalled",
        "the accuracy stalled at %.4f (epochs %d-%d) while the loss fell from %.4g to %.4g: "
        "the network grows more confident without changing its answers; look at the class "
        "balance (the confusion matrix, class weights, balanced sampling)",
        (double)acc_b, a->epoch, b->epoch, a->loss, b->loss);
}

/* train >> test: the last epoch's gap above 0.1 (or the validation set's) */
static void overfitting(const bd_diag_input *in, bd_diag_result *r)
{
    if (in->nepochs < 1 || in->task == BD_TASK_REGRESS)
        return;
    const bd_epoch_stats *e = &in->epochs[in->nepochs - 1];
    float held = e->test_acc >= 0 ? e->test_acc : e->val_acc;
    if (e->train_acc < 0 || held < 0 || !(e->train_acc - held > 0.1f))
        return;
    add(r, "overfitting",
        "overfitting: train accuracy %.4f, %s accuracy %.4f (a gap of %.4f); try "
        "weight_decay = 1e-4, dropout = 0.5, early stopping (val_split = 0.1, patience = 3), "
        "augment = shift, or more data", (double)e->train_acc, e->test_acc >= 0 ? "test" : "validation",
        (double)held, (double)(e->train_acc - held));
}

/* the loss stopped being finite: the gradient norms before it */
static void exploded(const bd_diag_input *in, bd_diag_result *r)
{
    if (!in->nonfinite)
        return;
    char hist[200] = "";
    size_t o = 0;
    int from = in->ngrad > 6 ? in->ngrad - 6 : 0;
    for (int i = from; i < in->ngrad && o + 16 < sizeof hist; i++)
        o += isfinite(in->grad_norms[i])
                 ? (size_t)snprintf(hist + o, sizeof hist - o, "%s%.3g", i > from ? ", " : "",
                                    in->grad_norms[i])
                 : (size_t)snprintf(hist + o, sizeof hist - o, "%snan", i > from ? ", " : "");
    add(r, "nonfinite_loss",
        "the loss became non-finite at iteration %ld (exploding gradients); the gradient "
        "norm over the last steps: %s; try lr = %g, clip_grad_norm = 5, or BatchNorm "
        "layers", in->nonfinite_iter, *hist ? hist : "not recorded",
        (double)in->lr / 10);
}

/* a loss that does not fit the last layer */
static void mismatch(const bd_diag_input *in, bd_diag_result *r)
{
    if (in->loss == BD_LOSS_SOFTMAX_CE && in->outputs == 1)
        add(r, "loss_mismatch",
            "softmax cross-entropy on a single output: the softmax of one value is always 1, "
            "so the loss is 0 and nothing is learnt; use loss = bce for two classes or give "
            "the last layer one output per class");
    if (in->task == BD_TASK_CLASSIFY && in->outputs > 1 &&
        (in->loss == BD_LOSS_MSE || in->loss == BD_LOSS_MAE || in->loss == BD_LOSS_HUBER))
        add(r, "loss_mismatch",
            "%s on class labels: a linear output regressed onto one-hot targets; one label "
            "per sample takes a softmax (loss = softmax_ce)", bd_loss_kind_name(in->loss));
    if (in->task == BD_TASK_CLASSIFY && in->loss == BD_LOSS_MULTI_BCE)
        add(r, "loss_mismatch",
            "a sigmoid per output (bce_multi) on mutually exclusive classes: the outputs do "
            "not compete; one label per sample takes softmax_ce");
}

static void dominant(const bd_diag_input *in, bd_diag_result *r)
{
    if (in->major_class < 0 || !(in->major_share > 0.8))
        return;
    add(r, "class_imbalance",
        "class %d is %.1f%% of the training data: always predicting it scores %.1f%%; try "
        "class weights or balanced sampling", in->major_class,
        100.0 * in->major_share, 100.0 * in->major_share);
}

void bd_diagnose(const bd_diag_input *in, bd_diag_result *out)
{
    if (!in || !out)
        return;
    memset(out, 0, sizeof *out);
    exploded(in, out);
    mismatch(in, out);
    loss_flat(in, out);
    acc_stalled(in, out);
    overfitting(in, out);
    dominant(in, out);
}
