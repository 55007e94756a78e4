/* netfile_train.c — the [train] section of a network description: training
 * options (optimizer, rate and schedule, epochs, batch, augmentation...)
 * kept with the network so that one file is a whole experiment
 * (examples/mnist99.ini). The layers are read by netfile.c, which skips this
 * section; here the section is read line by line, because its keys need
 * their line numbers in messages and inih does not give them. The values
 * are checked where they are applied (the CLI parses them with its option
 * parser, so a file and a flag accept exactly the same things). */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>

static const char *const KEYS[] = {
    "optimizer", "lr", "momentum", "beta1", "beta2", "decay", "eps", "lr-schedule",
    "lr-step", "lr-gamma", "warmup", "batch", "epochs", "iters", "sampling", "seed",
    "augment", "weight-decay", "l1", "patience", "val-split",
    "no-train-acc",
};
#define NKEYS (int)(sizeof KEYS / sizeof KEYS[0])

/* [s, s+len) without blanks at either end */
static void trim(const char **s, size_t *len)
{
    while (*len && isspace((unsigned char)**s))
        (*s)++, (*len)--;
    while (*len && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

/* the section name of a "[name]" line, or NULL (nlen: its length) */
static const char *section_of(const char *s, size_t len, size_t *nlen)
{
    if (!len || s[0] != '[')
        return NULL;
    const char *close = memchr(s, ']', len);
    if (!close)
        return NULL;
    /* no blanks trimmed inside the brackets: inih reads "[ train ]" as
     * the section " train ", and so a layer */
    *nlen = (size_t)(close - s - 1);
    return s + 1;
}

/* One "key = value" line of [train] into out[*n]. */
static bd_status train_line(const char *s, size_t len, const char *origin, int line,
                            bd_train_option *out, int max, int *n)
{
    const char *eq = memchr(s, '=', len);
    if (!eq)
        return bd_error(BD_ERR_FORMAT, "%s:%d: [train]: expected key = value", origin, line);
    const char *k = s, *v = eq + 1;
    size_t kl = (size_t)(eq - s), vl = len - kl - 1;
    trim(&k, &kl);
    /* an inline comment: " ; ..." (inih's rule) */
    for (size_t i = 1; i < vl; i++)
        if ((v[i] == ';' || v[i] == '#') && isspace((unsigned char)v[i - 1])) {
            vl = i;
            break;
        }
    trim(&v, &vl);
    char key[24];
    if (kl == 0 || kl >= sizeof key)
        return bd_error(BD_ERR_FORMAT, "%s:%d: [train]: key '%.*s' unknown", origin, line,
                        (int)BD_MIN(kl, 40), k);
    for (size_t i = 0; i < kl; i++)
        key[i] = k[i] == '_' ? '-' : (char)tolower((unsigned char)k[i]);
    key[kl] = 0;
    int known = 0;
    for (int i = 0; i < NKEYS && !known; i++)
        known = !strcmp(key, KEYS[i]);
    if (!known)
        return bd_error(BD_ERR_FORMAT, "%s:%d: [train]: unknown key '%s' (expected one of "
                        "optimizer, lr, lr-schedule, warmup, epochs, batch, augment, ...: "
                        "the long options of badak train)", origin, line, key);
    for (int i = 0; i < *n; i++)
        if (!strcmp(out[i].key, key))
            return bd_error(BD_ERR_FORMAT, "%s:%d: [train]: '%s' given twice (also line %d)",
                            origin, line, key, out[i].line);
    if (vl == 0 || vl >= sizeof out->val)
        return bd_error(BD_ERR_FORMAT, "%s:%d: [train]: %s: %s value", origin, line, key,
                        vl ? "too long a" : "no");
    if (*n >= max)
        return bd_error(BD_ERR_FORMAT, "%s:%d: [train]: more than %d options", origin, line,
                        max);
    bd_train_option *o = &out[(*n)++];
    snprintf(o->key, sizeof o->key, "%s", key);
    snprintf(o->val, sizeof o->val, "%.*s", (int)vl, v);
    o->line = line;
    return BD_OK;
}

bd_status bd_net_train_options(const char *text, const char *origin, bd_train_option *out,
                               int max, int *n)
{
    if (!text || !out || !n)
        return bd_error(BD_ERR_ARG, "bd_net_train_options: %s is NULL",
                        !text ? "text" : !out ? "out" : "n");
    if (!origin)
        origin = "network description";
    *n = 0;
    int in_train = 0, seen = 0, line = 1;
    for (const char *s = text; *s; line++) {
        const char *e = strchr(s, '\n');
        const char *l = s;
        size_t len = e ? (size_t)(e - s) : strlen(s);
        s = e ? e + 1 : s + len;
        trim(&l, &len);
        size_t nl;
        const char *sec = section_of(l, len, &nl);
        if (sec) {
            in_train = nl == 5 && !strncasecmp(sec, "train", 5);
            if (in_train && seen++)
                return bd_error(BD_ERR_FORMAT, "%s:%d: [train] given twice", origin, line);
            continue;
        }
        if (!in_train || len == 0 || l[0] == ';' || l[0] == '#')
            continue;
        BD_TRY(train_line(l, len, origin, line, out, max, n));
    }
    return BD_OK;
}

bd_status bd_net_load_train_options(const char *path, bd_train_option *out, int max, int *n)
{
    if (!path || !out || !n)
        return bd_error(BD_ERR_ARG, "bd_net_load_train_options: %s is NULL",
                        !path ? "path" : !out ? "out" : "n");
    *n = 0;
    FILE *f; /* a FIFO is refused, never waited on (src/io/files.c) */
    BD_TRY(bd__fopen_input(path, "network description", &f, NULL));
    enum { CAP = 1 << 20 }; /* bd_net_load_ini's limit */
    char *text = malloc(CAP + 1);
    if (!text) {
        fclose(f);
        return bd_error(BD_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t len = fread(text, 1, CAP + 1, f);
    int err = ferror(f);
    fclose(f);
    bd_status s = BD_OK;
    if (err)
        s = bd_error(BD_ERR_IO, "%s: read error", path);
    else if (len > CAP)
        s = bd_error(BD_ERR_FORMAT, "%s: larger than 1 MiB: not a network description", path);
    if (s == BD_OK) {
        text[len] = 0;
        s = bd_net_train_options(text, path, out, max, n);
    }
    free(text);
    return s;
}
