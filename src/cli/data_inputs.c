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
}
