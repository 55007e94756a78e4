/* json.c — the one JSON line of `badak train --json` and `badak eval
 * --json`, built with cJSON: strings (a model path, a data set's name, a
 * diagnostic) are escaped by it, and a number that is not finite becomes
 * null, so the line always parses. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* v as a JSON number at the precision fmt prints it ("%.6f": 0.970700 is
 * 0.9707); NaN and infinities: null */
cJSON *cli_json_value(double v, const char *fmt)
{
    if (!isfinite(v))
        return cJSON_CreateNull();
    char buf[64];
    snprintf(buf, sizeof buf, fmt, v);
    return cJSON_CreateNumber(strtod(buf, NULL));
}

void cli_json_num(cJSON *o, const char *key, double v, const char *fmt)
{
    cJSON_AddItemToObject(o, key, cli_json_value(v, fmt));
}

/* an integer that may not fit a double's 53 bits (a seed), exactly */
void cli_json_u64(cJSON *o, const char *key, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    cJSON_AddRawToObject(o, key, buf);
}

int cli_json_print(cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text) {
        fprintf(stderr, "badak: error: out of memory writing the JSON line\n");
        return EXIT_FAIL;
    }
    printf("%s\n", text);
    cJSON_free(text);
    return 0;
}
