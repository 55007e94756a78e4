/* netfile.c — networks described in a small INI file (parsed by libinih),
 * one section per layer, in order:
 *
 *   [net]
 *   input = 1x28x28        ; optional when the data gives it
 *   loss = softmax_ce      ; softmax_ce | mse | mae | bce
 *   init = he              ; he | xavier | std=0.01
 *
 *   [conv1]                ; the layer's name: any unique word
 *   type = conv
 *   filters = 30
 *   kernel = 5
 *
 * The same text is what bd_net_to_ini writes, so a model file can carry its
 * architecture and rebuild it (model files keep it in their metadata). */
#include "internal.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

/* What each layer type reads comes from its op row (token, keys); these
 * map a key's field to the layer's settings. */
static int conf_is_int(bd__conf_field f) { return f != BD__CONF_P0 && f != BD__CONF_P1; }

static void *conf_field(bd_layer_conf *c, bd__conf_field f)
{
    switch (f) {
    case BD__CONF_UNITS: return &c->units;
    case BD__CONF_K: return &c->k;
    case BD__CONF_STRIDE: return &c->stride;
    case BD__CONF_PAD: return &c->pad;
    case BD__CONF_P0: return &c->p0;
    case BD__CONF_P1: return &c->p1;
    }
    return NULL;
}

/* the value of field f of a built layer (the int fields as a double) */
static double layer_field(const bd_layer *l, bd__conf_field f)
{
    switch (f) {
    case BD__CONF_UNITS: return l->units;
    case BD__CONF_K: return l->k;
    case BD__CONF_STRIDE: return l->stride;
    case BD__CONF_PAD: return l->pad;
    case BD__CONF_P0: return (double)l->p0;
    case BD__CONF_P1: return (double)l->p1;
    }
    return 0.0;
}

static const char *const LOSS_TOKENS[BD_LOSS_KIND_COUNT] = {
    [BD_LOSS_SOFTMAX_CE] = "softmax_ce",
    [BD_LOSS_MSE] = "mse",
    [BD_LOSS_MAE] = "mae",
    [BD_LOSS_SIGMOID_BCE] = "bce",
    [BD_LOSS_MULTI_BCE] = "bce_multi",
    [BD_LOSS_HUBER] = "huber",
};

#define MAX_LAYERS 256

typedef struct sect {
    char name[32];
    const bd_layer_op *t; /* its type's row (NULL: no type yet) */
    bd_layer_conf c;
    unsigned seen;      /* bit per key already given (a key twice is an error) */
} sect;

typedef struct parse_ctx {
    char cur[64];       /* section of the previous call */
    int in_net;         /* the current section is [net] */
    int nsect;
    sect s[MAX_LAYERS];
    int c, h, w, has_input;
    bd_loss_kind loss;
    bd_init init;
    unsigned net_seen;
    char err[256];      /* the first error, without its line */
} parse_ctx;

static int fail(parse_ctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parse_ctx *p, const char *fmt, ...)
{
    if (!p->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, sizeof p->err, fmt, ap);
        va_end(ap);
    }
    return 0; /* inih: this line is in error */
}

static int parse_int(const char *v, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    /* digits only, as the CLI reads sizes: "+5" or " 5" is no size */
    if (!(*v >= '0' && *v <= '9'))
        return 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi)
        return 0;
    *out = (int)x;
    return 1;
}

static int parse_float(const char *v, float *out)
{
    char *end;
    errno = 0;
    float x = strtof(v, &end);
    if (end == v || *end || errno || !isfinite(x))
        return 0;
    *out = x;
    return 1;
}

bd_status bd_parse_shape(const char *v, int *c, int *h, int *w)
{
    int d[3] = {1, 1, 1}, n = 0;
    const char *s = v;
    for (;;) {
        char *end;
        errno = 0;
        long x = strtol(s, &end, 10);
        if (end == s || errno || x < 1 || x > 1 << 20 || n == 3)
            break;
        d[n++] = (int)x;
        if (*end == 0) {
            int64_t dd[3] = {d[0], d[1], d[2]}, elems;
            if (bd__dims_product(v, n, dd, &elems) != BD_OK)
                return BD_ERR_SHAPE;
            *c = n == 3 ? d[0] : 1;
            *h = n == 3 ? d[1] : n == 2 ? d[0] : 1;
            *w = d[n - 1];
            return BD_OK;
        }
        if (*end != 'x' && *end != 'X' && *end != ',')
            break;
        s = end + 1;
    }
    return bd_error(BD_ERR_ARG, "'%s' is not a shape like 784, 28x28 or 1x28x28", v);
}

/* a key may appear once per section */
static int once(parse_ctx *p, unsigned *seen, int bit, const char *sec, const char *key)
{
    if (*seen & (1u << bit))
        return fail(p, "[%s]: '%s' given twice", sec, key);
    *seen |= 1u << bit;
    return 1;
}

static int net_key(parse_ctx *p, const char *key, const char *val)
{
    if (!strcmp(key, "input")) {
        if (!once(p, &p->net_seen, 0, "net", key))
            return 0;
        bd_status st = bd_parse_shape(val, &p->c, &p->h, &p->w);
        if (st == BD_ERR_SHAPE)
            return fail(p, "[net]: input %s", bd_errmsg());
        if (st != BD_OK)
            return fail(p, "[net]: input '%s' is not a shape like 1x28x28", val);
        p->has_input = 1;
        return 1;
    }
    if (!strcmp(key, "loss")) {
        if (!once(p, &p->net_seen, 1, "net", key))
            return 0;
        if (bd_parse_loss(val, &p->loss) != BD_OK)
            return fail(p, "[net]: %s", bd_errmsg());
        return 1;
    }
    if (!strcmp(key, "init")) {
        if (!once(p, &p->net_seen, 2, "net", key))
            return 0;
        if (bd_parse_init(val, &p->init) != BD_OK)
            return fail(p, "[net]: %s", bd_errmsg());
        return 1;
    }
    return fail(p, "[net]: unknown key '%s' (expected input, loss or init)", key);
}

/* "type, filters, kernel, stride, pad": the keys of row t, for messages */
static const char *key_list(const bd_layer_op *t, char *buf, size_t len)
{
    size_t o = (size_t)snprintf(buf, len, "type");
    for (int i = 0; i < BD__INI_KEYS && t->keys[i].key && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, ", %s", t->keys[i].key);
    return buf;
}

/* "affine, relu, ... or resblock": every type */
static const char *type_list(char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (int k = 0, n = 0; k < BD_LAYER_KIND_COUNT && o < len; k++) {
        const bd_layer_op *op = bd__layer_op((bd_layer_kind)k);
        if (!op)
            continue;
        const char *sep = n++ == 0 ? "" : k == BD_LAYER_KIND_COUNT - 1 ? " or " : ", ";
        o += (size_t)snprintf(buf + o, len - o, "%s%s", sep, op->token);
    }
    return buf;
}

static int layer_key(parse_ctx *p, sect *s, const char *key, const char *val)
{
    char list[256];
    if (!strcmp(key, "type")) {
        if (!once(p, &s->seen, 0, s->name, key))
            return 0;
        bd_layer_kind k;
        if (!bd__kind_by_token(val, 0, &k))
            return fail(p, "[%s]: unknown type '%s' (expected %s)", s->name, val,
                        type_list(list, sizeof list));
        s->t = bd__layer_op(k);
        s->c.kind = k;
        return 1;
    }
    if (!s->t)
        return fail(p, "[%s]: 'type' must come first", s->name);
    const bd_layer_op *t = s->t;
    for (int i = 0; i < BD__INI_KEYS && t->keys[i].key; i++) {
        if (strcmp(key, t->keys[i].key) != 0)
            continue;
        const bd__conf_field f = t->keys[i].field;
        if (!once(p, &s->seen, 1 + i, s->name, key))
            return 0;
        if (conf_is_int(f)) {
            int lo = f == BD__CONF_PAD ? 0 : 1;
            if (!parse_int(val, lo, 1 << 20, conf_field(&s->c, f)))
                return fail(p, "[%s]: %s '%s' must be an integer >= %d", s->name, key, val, lo);
        } else {
            float *fp = conf_field(&s->c, f);
            if (!parse_float(val, fp) || !(*fp > 0.0f))
                return fail(p, "[%s]: %s '%s' must be a number > 0", s->name, key, val);
        }
        return 1;
    }
    return fail(p, "[%s]: '%s' is not a key of a %s layer (expected %s)", s->name, key, t->token,
                key_list(t, list, sizeof list));
}

static int handler(void *user, const char *section, const char *key, const char *val)
{
    parse_ctx *p = user;
    /* inih goes on after a line in error; the state may not fit the next
     * line (a refused section was never added: found by fuzzing), and only
     * the first error is reported, so read nothing more */
    if (p->err[0])
        return 0;
    if (!strcasecmp(section, "train")) { /* training options: netfile_train.c */
        snprintf(p->cur, sizeof p->cur, "%s", section);
        return 1;
    }
    if (strcmp(section, p->cur) != 0) { /* a new section starts */
        snprintf(p->cur, sizeof p->cur, "%s", section);
        p->in_net = !strcasecmp(section, "net");
        if (p->in_net) {
            if (p->nsect > 0)
                return fail(p, "[net] must come before the layers");
            if (p->net_seen)
                return fail(p, "[net] given twice");
        } else {
            if (strlen(section) >= sizeof p->s[0].name)
                return fail(p, "[%s]: layer names have at most 31 characters", section);
            for (int i = 0; i < p->nsect; i++)
                if (!strcmp(p->s[i].name, section))
                    return fail(p, "[%s]: a second layer with that name", section);
            if (p->nsect == MAX_LAYERS)
                return fail(p, "more than %d layers", MAX_LAYERS);
            sect *s = &p->s[p->nsect++];
            memset(s, 0, sizeof *s);
            snprintf(s->name, sizeof s->name, "%s", section);
        }
    }
    if (!section[0])
        return fail(p, "'%s' outside any section (start with [net] or a layer)", key);
    if (p->in_net)
        return net_key(p, key, val);
    return layer_key(p, &p->s[p->nsect - 1], key, val);
}

/* Line numbers and names of the layer section headers, in order (inih does
 * not give the handler its line, and a section with no key never reaches the
 * handler, so empty sections are found here). Returns the count. */
static int header_lines(const char *text, int *lines, char (*names)[32], int max,
                        int *net_line)
{
    int n = 0, line = 1;
    *net_line = 0;
    for (const char *s = text; *s;) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        size_t i = 0;
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
            i++;
        if (i < len && s[i] == '[') {
            const char *nm = s + i + 1, *close = memchr(nm, ']', len - i - 1);
            size_t nl = close ? (size_t)(close - nm) : 0;
            while (nl && (nm[0] == ' ' || nm[0] == '\t'))
                nm++, nl--;
            while (nl && (nm[nl - 1] == ' ' || nm[nl - 1] == '\t'))
                nl--;
            if (nl == 3 && !strncasecmp(nm, "net", 3)) {
                *net_line = line;
            } else if (nl == 5 && !strncasecmp(nm, "train", 5)) {
                /* not a layer: the training options (netfile_train.c) */
            } else {
                if (n < max) {
                    lines[n] = line;
                    snprintf(names[n], 32, "%.*s", (int)BD_MIN(nl, 31), nm);
                }
                n++;
            }
        }
        if (!e)
            break;
        s = e + 1;
        line++;
    }
    return n;
}

bd_status bd_net_from_ini(bd_net *net, const char *text, const char *origin, int c, int h,
                          int w, int classes, bd_rng *rng)
{
    return bd__net_from_ini_limited(net, text, origin, c, h, w, classes, rng, SIZE_MAX);
}

/* The sections of text into p (lines[i], names[i]: where layer i's header
 * is), every layer section with a type; *net_line: [net]'s line. */
static bd_status parse_text(parse_ctx *p, const char *text, const char *origin, int *lines,
                            char (*names)[32], int *net_line)
{
    int nhead = header_lines(text, lines, names, MAX_LAYERS, net_line);
    int bad = ini_parse_string(text, handler, p);
    if (bad)
        return bd_error(BD_ERR_FORMAT, "%s:%d: %s", origin, bad,
                        p->err[0] ? p->err : "not INI syntax (expected [section] or key = value)");
    for (int i = 0; i < nhead && i < MAX_LAYERS; i++)
        if (i >= p->nsect || strcmp(names[i], p->s[i].name) != 0)
            /* inih never reported this section: it has no keys */
            return bd_error(BD_ERR_FORMAT, "%s:%d: [%s] is empty: every layer section needs "
                            "'type = ...'", origin, lines[i], names[i]);
    if (p->nsect == 0)
        return bd_error(BD_ERR_FORMAT, "%s: no layers (add sections like [fc1] type = affine)",
                        origin);
    for (int i = 0; i < p->nsect; i++)
        if (!p->s[i].t)
            return bd_error(BD_ERR_FORMAT, "%s:%d: [%s] has no 'type'", origin, lines[i],
                            p->s[i].name);
    return BD_OK;
}

/* The input shape: the file's, which must agree with the data's c x h x w
 * (0s: none given), or the data's. */
static bd_status input_shape(parse_ctx *p, const char *origin, int net_line, int c, int h,
                             int w)
{
    if (!p->has_input) {
        if (c < 1 || h < 1 || w < 1)
            return bd_error(BD_ERR_FORMAT, "%s: no input shape: add 'input = 1x28x28' to [net]",
                            origin);
    } else if (c > 0 && ((int64_t)p->c * p->h * p->w != (int64_t)c * h * w ||
                         (h > 1 && (p->h != h || p->w != w)))) {
        return bd_error(BD_ERR_SHAPE, "%s:%d: input %dx%dx%d but the data has %dx%dx%d", origin,
                        net_line, p->c, p->h, p->w, c, h, w);
    }
    if (c > 0)
        p->c = c, p->h = h, p->w = w;
    return BD_OK;
}

/* net from the sections, every error naming the line of its layer */
static bd_status add_layers(bd_net *net, parse_ctx *p, const char *origin, const int *lines)
{
    BD_TRY(bd_net_create(net, p->c, p->h, p->w));
    for (int i = 0; i < p->nsect; i++) {
        p->s[i].c.name = p->s[i].name;
        bd_status st = bd_net_add_layer(net, &p->s[i].c);
        if (st != BD_OK) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s", bd_errmsg());
            /* a bad value in a file is the file's fault, not an option's */
            return bd_error(st == BD_ERR_ARG ? BD_ERR_FORMAT : st, "%s:%d: %s", origin,
                            lines[i], msg);
        }
    }
    return BD_OK;
}

/* Count before allocating: an untrusted description (a model file's) may
 * not claim more parameters and state than its file holds. */
static bd_status check_values(const bd_net *net, const char *origin, size_t max_values)
{
    size_t n = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer_op *op = bd__layer_op(net->layers[i].kind);
        n += (op->param_count ? op->param_count(&net->layers[i]) : 0) +
             (op->state_count ? op->state_count(&net->layers[i]) : 0);
        if (n > max_values)
            return bd_error(BD_ERR_FORMAT, "%s: the network needs more than %zu parameter and "
                            "state values (at layer [%s])", origin, max_values,
                            net->layers[i].name);
    }
    return BD_OK;
}

/* the parsed description p as the network net (built, described) */
static bd_status build(bd_net *net, parse_ctx *p, const char *origin, const int *lines,
                       int classes, bd_rng *rng, size_t max_values)
{
    BD_TRY(add_layers(net, p, origin, lines));
    if (classes > 0) {
        int want = p->loss == BD_LOSS_SIGMOID_BCE ? 1 : classes;
        if (net->out_size != want)
            return bd_error(BD_ERR_SHAPE, "%s:%d: the last layer [%s] gives %d outputs but the "
                            "data needs %d", origin, lines[p->nsect - 1],
                            p->s[p->nsect - 1].name, net->out_size, want);
    }
    if (max_values != SIZE_MAX)
        BD_TRY(check_values(net, origin, max_values));
    net->loss = p->loss;
    bd_status st = bd_net_build(net, p->init, rng);
    if (st != BD_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", bd_errmsg());
        return bd_error(st, "%s: %s", origin, msg);
    }
    const char *base = strrchr(origin, '/');
    snprintf(net->desc, sizeof net->desc, "%s %dx%dx%d-%d", base ? base + 1 : origin, p->c,
             p->h, p->w, net->out_size);
    return BD_OK;
}

bd_status bd__net_from_ini_limited(bd_net *net, const char *text, const char *origin, int c,
                                   int h, int w, int classes, bd_rng *rng, size_t max_values)
{
    if (!net || !text || !rng)
        return bd_error(BD_ERR_ARG, "bd_net_from_ini: %s is NULL",
                        !net ? "the network" : !text ? "the text" : "rng");
    memset(net, 0, sizeof *net);
    if (!origin)
        origin = "network description";
    parse_ctx *p = calloc(1, sizeof *p);
    int *lines = calloc(MAX_LAYERS, sizeof *lines);
    char (*names)[32] = calloc(MAX_LAYERS, sizeof *names);
    bd_status st = BD_OK;
    if (!p || !lines || !names)
        st = bd_error(BD_ERR_NOMEM, "%s: out of memory", origin);
    int net_line = 0;
    if (st == BD_OK) {
        p->loss = BD_LOSS_SOFTMAX_CE;
        p->init = (bd_init){BD_INIT_HE, 0.01f};
        st = parse_text(p, text, origin, lines, names, &net_line);
    }
    if (st == BD_OK)
        st = input_shape(p, origin, net_line, c, h, w);
    if (st == BD_OK)
        st = build(net, p, origin, lines, classes, rng, max_values);
    if (st != BD_OK)
        bd_net_free(net);
    free(p);
    free(lines);
    free(names);
    return st;
}

bd_status bd_net_load_ini(bd_net *net, const char *path, int c, int h, int w, int classes,
                          bd_rng *rng)
{
    memset(net, 0, sizeof *net);
    FILE *f;
    BD_TRY(bd__fopen_input(path, "network description", &f, NULL));
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            if (cap > (1u << 20)) {
                free(text);
                fclose(f);
                return bd_error(BD_ERR_FORMAT, "%s: larger than 1 MiB: not a network description",
                                path);
            }
            cap = cap ? 2 * cap : 8192;
            char *t = realloc(text, cap + 1);
            if (!t) {
                free(text);
                fclose(f);
                return bd_error(BD_ERR_NOMEM, "%s: out of memory", path);
            }
            text = t;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(text);
        return bd_error(BD_ERR_IO, "%s: read error", path);
    }
    text[len] = 0;
    if (strlen(text) != len) {
        free(text);
        return bd_error(BD_ERR_FORMAT, "%s: contains a NUL byte: not a text file", path);
    }
    bd_status s = bd_net_from_ini(net, text, path, c, h, w, classes, rng);
    free(text);
    return s;
}

/* ---- writing */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)(n > 0 ? n : 0) + 256;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

bd_status bd_net_to_ini(const bd_net *net, char **text)
{
    *text = NULL;
    sbuf b = {malloc(1024), 0, 1024, 0};
    if (!b.p)
        return bd_error(BD_ERR_NOMEM, "out of memory writing the network description");
    b.p[0] = 0;
    put(&b, "; badak network description (badak %s)\n[net]\ninput = %dx%dx%d\nloss = %s\n",
        BD_VERSION, net->in_c, net->in_h, net->in_w,
        (unsigned)net->loss < BD_LOSS_KIND_COUNT ? LOSS_TOKENS[net->loss] : "softmax_ce");
    if (net->init.kind == BD_INIT_HE)
        put(&b, "init = he\n");
    else if (net->init.kind == BD_INIT_XAVIER)
        put(&b, "init = xavier\n");
    else
        put(&b, "init = std=%.9g\n", (double)net->init.std);
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer *l = &net->layers[i];
        const bd_layer_op *t = bd__layer_op(l->kind);
        if (!t) {
            free(b.p);
            return bd_error(BD_ERR_ARG, "%s: this layer kind has no description type", l->name);
        }
        put(&b, "\n[%s]\ntype = %s\n", l->name, t->token);
        for (int k = 0; k < BD__INI_KEYS && t->keys[k].key; k++) {
            const bd__conf_field f = t->keys[k].field;
            if (conf_is_int(f))
                put(&b, "%s = %d\n", t->keys[k].key, (int)layer_field(l, f));
            else
                put(&b, "%s = %.9g\n", t->keys[k].key, layer_field(l, f));
        }
    }
    if (b.oom) {
        free(b.p);
        return bd_error(BD_ERR_NOMEM, "out of memory writing the network description");
    }
    *text = b.p;
    return BD_OK;
}
