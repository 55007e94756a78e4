/* fuzz_netini.c — fuzz target: the network description parser
 * (bd_net_from_ini) on any text, with a cap on the network's size so the
 * fuzzer explores parsing rather than allocating. Whatever builds must
 * round-trip: its bd_net_to_ini text builds the same network again-> */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int fuzz_netini(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    bd_rng rng;
    bd_rng_seed(&rng, 1);
    bd_net *net = NULL;
    if (bd__net_from_ini_limited(net, text, "fuzz.ini", 0, 0, 0, 0, &rng, 1u << 20) == BD_OK) {
        char *a = NULL, *b = NULL;
        bd_net *again = NULL;
        if (bd_net_to_ini(net, &a) != BD_OK ||
            bd_net_from_ini(&again, a, "again.ini", 0, 0, 0, 0, &rng) != BD_OK)
            abort(); /* a description badak wrote must read back */
        if (bd_net_to_ini(again, &b) != BD_OK || strcmp(a, b) != 0 ||
            again->params.size != net->params.size)
            abort(); /* and describe the same network */
        free(a);
        free(b);
        bd_net_free(again);
        bd_net_free(net);
    }
    free(text);
    return 0;
}

#ifdef BD_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_netini(data, size); }
#endif
