/* fuzz_ckpt.c — fuzz target: the checkpoint folder loader
 * (bd_checkpoint_load) on any bytes as DIR/checkpoint.safetensors: the
 * model, the optimizer and its state, the trainer's position, the saved
 * options: every value is checked (src/io/checkpoint_check.c) or refused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badak.h"

static char ckpt_dir[64];

static int fuzz_ckpt(const uint8_t *data, size_t size)
{
    if (!ckpt_dir[0]) {
        snprintf(ckpt_dir, sizeof ckpt_dir, "/tmp/badak_fuzz_ckpt_XXXXXX");
        if (!mkdtemp(ckpt_dir))
            return 0;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", ckpt_dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    bd_net *net = NULL;
    bd_optim *opt = NULL;
    bd_train_pos pos;
    bd_model_meta meta;
    char *run = NULL;
    if (bd_checkpoint_load(ckpt_dir, &net, &opt, &pos, &meta, &run) == BD_OK) {
        free(run);
        bd_train_pos_free(&pos);
        bd_optim_free(opt);
        bd_net_free(net);
    }
    unlink(path);
    return 0;
}

#ifdef BD_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ckpt(data, size); }
#endif
