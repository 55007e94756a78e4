/* train_diag.c — the diagnostics `badak train` prints at the end of a run
 * (bd_diagnose, src/train/diagnose.c) and lists in --json: the hooks that
 * collect each epoch's figures and the last gradient norms, and the
 * printing. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bd_status cli_diag_reserve(diag_state *d, int epochs)
{
    free(d->epochs);
    memset(d, 0, sizeof *d);
    d->cap = epochs > 1 ? epochs : 1;
    d->epochs = calloc((size_t)d->cap, sizeof *d->epochs);
    if (!d->epochs)
        return bd_error(BD_ERR_NOMEM, "out of memory for %d epochs' figures", epochs);
    return BD_OK;
}

void cli_diag_epoch(diag_state *d, const bd_epoch_stats *s)
{
    if (d->n < d->cap)
        d->epochs[d->n++] = *s;
}

void cli_diag_norm(diag_state *d, long iter, double norm)
{
    d->norms[d->norm_count % DIAG_NORMS] = norm;
    d->norm_count++;
    d->last_iter = iter;
}

void cli_diag_run(diag_state *d, const bd_net *net, bd_task task, float lr, int numeric,
                  int major_class, double major_share, int quiet)
{
    double norms[DIAG_NORMS];
    int k = (int)(d->norm_count < DIAG_NORMS ? d->norm_count : DIAG_NORMS);
    for (int i = 0; i < k; i++) /* oldest first */
        norms[i] = d->norms[(d->norm_count - k + i) % DIAG_NORMS];
    bd_diag_input in = {
        .epochs = d->epochs, .nepochs = d->n, .lr = lr, .loss = net->loss, .task = task,
        .outputs = net->out_size, .major_class = major_class, .major_share = major_share,
        .grad_norms = norms, .ngrad = k, .nonfinite = numeric, .nonfinite_iter = d->last_iter,
    };
    bd_diagnose(&in, &d->result);
    if (quiet)
        return;
    fflush(stdout);
    for (int i = 0; i < d->result.n; i++)
        printf("diagnostic [%s]: %s\n", d->result.d[i].code, d->result.d[i].msg);
    fflush(stdout);
}

void cli_json_diag(cJSON *o, const diag_state *d)
{
    cJSON *a = cJSON_AddArrayToObject(o, "diagnostics");
    for (int i = 0; a && i < d->result.n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "code", d->result.d[i].code);
        cJSON_AddStringToObject(e, "message", d->result.d[i].msg);
        cJSON_AddItemToArray(a, e);
    }
}

void cli_diag_free(diag_state *d)
{
    free(d->epochs);
    memset(d, 0, sizeof *d);
}
