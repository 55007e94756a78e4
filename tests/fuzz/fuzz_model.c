/* fuzz_model.c — fuzz target: the model-file loader (safetensors header,
 * metadata, architecture, tensors) on any bytes, from memory. A file that
 * loads must also describe itself again (bd_net_to_ini). */
#include <stdint.h>
#include <stdlib.h>

#include "badak.h"

static int fuzz_model(const uint8_t *data, size_t size)
{
    bd_net *net = NULL;
    bd_model_meta meta;
    if (bd_model_load_mem(&net, data, size, "fuzz.safetensors", &meta) == BD_OK) {
        char *ini = NULL;
        if (bd_net_to_ini(net, &ini) != BD_OK)
            abort(); /* a loaded network always has a description */
        free(ini);
        bd_net_free(net);
    }
    return 0;
}

#ifdef BD_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_model(data, size); }
#endif
