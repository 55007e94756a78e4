/* data_inputs.c — how a training set's inputs are made, and what a saved
 * model keeps of it so `badak predict` makes its inputs the same way. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

bd_status cli_normalize(bd_dataset *train, bd_dataset *test, bd_dataset *val)
{
    float mean[BD_NORM_MAXC], sd[BD_NORM_MAXC];
    bd_status s = bd_dataset_channel_stats(train, mean, sd);
    for (int c = 0; s == BD_OK && c < train->c; c++)
        if (!(sd[c] > 0.0f))
            s = bd_error(BD_ERR_ARG, "%s: --normalize: channel %d is constant (std 0)",
                         train->name, c);
    if (s == BD_OK)
        s = bd_dataset_set_norm(train, mean, sd);
    if (s == BD_OK && test->n)
        s = bd_dataset_set_norm(test, mean, sd);
    if (s == BD_OK && val->n)
        s = bd_dataset_set_norm(val, mean, sd);
    return s;
}

void cli_meta_inputs(const bd_dataset *train, bd_model_meta *meta)
{
    meta->norm_c = train->norm ? train->c : 0;
    for (int c = 0; c < meta->norm_c; c++) {
        meta->norm_mean[c] = train->norm_mean[c];
        meta->norm_std[c] = train->norm_std[c];
    }
    snprintf(meta->classes, sizeof meta->classes, "%s", train->classes);
    meta->task = train->task;
    meta->target_n = train->t_standardized ? train->t.shape[1] : 0;
    for (int k = 0; k < meta->target_n; k++) {
        meta->target_mean[k] = train->t_mean[k];
        meta->target_std[k] = train->t_std[k];
    }
}

int cli_task_loss(bd_task task, net_opts *no)
{
    bd_loss_kind k = BD_LOSS_SOFTMAX_CE;
    if (no->loss && bd_parse_loss(no->loss, &k) != BD_OK)
        return cli_usage_error("train", "%s", bd_errmsg());
    if (task == BD_TASK_CLASSIFY) {
        if (no->loss && k == BD_LOSS_MULTI_BCE)
            return cli_usage_error("train", "--loss bce_multi is a sigmoid per label for "
                                   "--task multilabel; one class per sample takes softmax_ce");
        return 0;
    }
    if (task == BD_TASK_REGRESS) {
        if (!no->loss) {
            no->loss = "mse";
            return 0;
        }
        if (k == BD_LOSS_MSE || k == BD_LOSS_MAE || k == BD_LOSS_HUBER)
            return 0;
        return cli_usage_error("train", "--loss %s does not fit --task regress: real-valued "
                               "targets take a linear output and mse, mae or huber (softmax "
                               "and sigmoid squash the output into probabilities)", no->loss);
    }
    if (!no->loss) {
        no->loss = "bce_multi";
        return 0;
    }
    if (k == BD_LOSS_MULTI_BCE)
        return 0;
    return cli_usage_error("train", "--loss %s does not fit --task multilabel: several labels "
                           "at once take a sigmoid and binary cross-entropy per output "
                           "(bce_multi); softmax makes the labels compete", no->loss);
}

bd_status cli_load_targets(const char *csv, const char *label_cols, int label_col, bd_task task,
                           const char *test_csv, float test_split, uint64_t seed,
                           bd_dataset *train, bd_dataset *test)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    int cols[BD_MAX_TARGETS], k = 1;
    cols[0] = label_col;
    if (label_cols)
        CLI_TRY(bd_parse_columns(label_cols, cols, BD_MAX_TARGETS, &k));
    CLI_TRY(bd_csv_load_targets(csv, cols, k, task, train));
    bd_status s;
    if (test_csv) {
        s = bd_csv_load_targets(test_csv, cols, k, task, test);
        if (s == BD_OK && test->w != train->w)
            s = bd_error(BD_ERR_SHAPE, "%s has %d features, %s has %d", test_csv, test->w, csv,
                         train->w);
    } else {
        bd_rng rng;
        bd_rng_seed(&rng, seed ^ 0x7e57ULL);
        s = bd_dataset_split(train, test_split, &rng, test);
    }
    if (s != BD_OK) {
        bd_dataset_free(train);
        bd_dataset_free(test);
    }
    return s;
}

bd_status cli_task_metrics(bd_net *net, const bd_dataset *train, const bd_dataset *test,
                           float threshold, task_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->task = train->task;
    m->has_test = test->n > 0;
    m->threshold = threshold;
    if (m->task == BD_TASK_REGRESS) {
        CLI_TRY(bd_regress_metrics(net, train, &m->reg_train));
        if (m->has_test)
            CLI_TRY(bd_regress_metrics(net, test, &m->reg_test));
    } else {
        CLI_TRY(bd_multilabel_metrics(net, train, threshold, &m->ml_train));
        if (m->has_test)
            CLI_TRY(bd_multilabel_metrics(net, test, threshold, &m->ml_test));
    }
    return BD_OK;
}

void cli_print_task_metrics(const task_metrics *m)
{
    if (m->task == BD_TASK_REGRESS) {
        const bd_regress_metrics_t *r = &m->reg_train;
        printf("train RMSE %.4f  MAE %.4f  R^2 %.4f\n", (double)r->rmse, (double)r->mae,
               (double)r->r2);
        if (m->has_test) {
            r = &m->reg_test;
            printf("test RMSE %.4f  MAE %.4f  R^2 %.4f\n", (double)r->rmse, (double)r->mae,
                   (double)r->r2);
            for (int k = 0; r->k > 1 && k < r->k; k++)
                printf("  target %d: RMSE %.4f  MAE %.4f  R^2 %.4f\n", k, (double)r->rmse_k[k],
                       (double)r->mae_k[k], (double)r->r2_k[k]);
        }
        return;
    }
    const bd_multilabel_metrics_t *l = m->has_test ? &m->ml_test : &m->ml_train;
    printf("train exact match %.4f  macro F1 %.4f\n", (double)m->ml_train.exact_match,
           (double)m->ml_train.f1_macro);
    if (m->has_test)
        printf("test exact match %.4f  macro F1 %.4f\n", (double)l->exact_match,
               (double)l->f1_macro);
    printf("%s set, threshold %g:\n", m->has_test ? "test" : "training", (double)m->threshold);
    for (int k = 0; k < l->k; k++)
        printf("  label %d: precision %.4f  recall %.4f  F1 %.4f\n", k, (double)l->precision[k],
               (double)l->recall[k], (double)l->f1[k]);
}

void cli_json_task_metrics(cJSON *o, const task_metrics *m)
{
    if (m->task == BD_TASK_REGRESS) {
        cli_json_num(o, "train_rmse", (double)m->reg_train.rmse, "%.6g");
        cli_json_num(o, "train_mae", (double)m->reg_train.mae, "%.6g");
        cli_json_num(o, "train_r2", (double)m->reg_train.r2, "%.6g");
        if (m->has_test) {
            cli_json_num(o, "test_rmse", (double)m->reg_test.rmse, "%.6g");
            cli_json_num(o, "test_mae", (double)m->reg_test.mae, "%.6g");
            cli_json_num(o, "test_r2", (double)m->reg_test.r2, "%.6g");
        }
        return;
    }
    const bd_multilabel_metrics_t *l = m->has_test ? &m->ml_test : &m->ml_train;
    cli_json_num(o, "train_exact_match", (double)m->ml_train.exact_match, "%.6g");
    cli_json_num(o, "train_f1_macro", (double)m->ml_train.f1_macro, "%.6g");
    if (m->has_test) {
        cli_json_num(o, "test_exact_match", (double)l->exact_match, "%.6g");
        cli_json_num(o, "test_f1_macro", (double)l->f1_macro, "%.6g");
    }
    cJSON *f1 = cJSON_AddArrayToObject(o, m->has_test ? "test_f1" : "train_f1");
    for (int k = 0; f1 && k < l->k; k++)
        cJSON_AddItemToArray(f1, cli_json_value((double)l->f1[k], "%.6g"));
}

bd_status cli_load_images(const char *dir, const char *size, int channels, float test_split,
                          uint64_t seed, bd_dataset *train, bd_dataset *test)
{
    int c = 1, h = 32, w = 32;
    if (size && (bd_parse_shape(size, &c, &h, &w) != BD_OK || c != 1 || h > 4096 || w > 4096))
        return bd_error(BD_ERR_ARG, "--image-size '%s': expected N or HxW (e.g. 32 or 64x48)",
                        size);
    if (size && !strchr(size, 'x') && !strchr(size, ','))
        h = w; /* "N": N x N */
    return bd_imagefolder_load(dir, channels, h, w, test_split, seed, train, test);
}
