/* model.c — badak model files: a network in a safetensors file.
 *
 *   __metadata__   badak.format   "1"
 *                  badak.net      the architecture as INI text (bd_net_to_ini)
 *                  badak.version, badak.desc, badak.weight_decay, badak.l1,
 *                  badak.frozen, and the training metadata (badak.data,
 *                  badak.epochs, badak.test_accuracy, badak.seed, ...)
 *   tensors        "<layer>.<name>" for every non-empty parameter view (W, b)
 *                  and state view (s0, s1), in block order: "Affine1.W",
 *                  "BatchNorm1.running_mean", shapes as the views have them.
 *
 * Loading rebuilds the network from badak.net, then requires exactly its
 * tensors (names, dtype, shapes), so a file either loads as the model it was
 * or is refused with a message naming what is wrong. */
#include "io/st.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

void bd_model_meta_init(bd_model_meta *m)
{
    memset(m, 0, sizeof *m);
    m->epochs = -1;
    m->iters = -1;
    m->test_acc = m->train_acc = -1.0f;
    m->threshold = 0.5f;
}

/* the four views of a layer and their names */
static void views(const bd_layer *l, const bd_tensor *v[4], const char *nm[4])
{
    const bd_layer_op *op = bd__layer_op(l->kind);
    v[0] = &l->W, v[1] = &l->b, v[2] = &l->s0, v[3] = &l->s1;
    nm[0] = op->pname[0], nm[1] = op->pname[1], nm[2] = op->sname[0], nm[3] = op->sname[1];
}

int bd__model_tensors(const bd_net *net, bd__st_out *out, int max)
{
    int n = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer *l = &net->layers[i];
        const bd_tensor *v[4];
        const char *nm[4];
        views(l, v, nm);
        for (int k = 0; k < 4; k++) {
            if (!v[k]->data || v[k]->size == 0)
                continue;
            if (out && n < max) {
                bd__st_out *o = &out[n];
                memset(o, 0, sizeof *o);
                /* every row names its non-empty views (test_layers.c
                 * op_rows_complete checks it) */
                snprintf(o->name, sizeof o->name, "%s.%s", l->name, nm[k] ? nm[k] : "?");
                o->ndim = v[k]->ndim;
                memcpy(o->shape, v[k]->shape, sizeof o->shape);
                o->data = v[k]->data;
            }
            n++;
        }
    }
    return n;
}

bd_status bd__model_meta_put(cJSON *m, const bd_net *net, const bd_model_meta *meta)
{
    char *ini = NULL;
    BD_TRY(bd_net_to_ini(net, &ini));
    bd_status s = bd__meta_str(m, "badak.net", ini);
    free(ini);
    BD_TRY(s);
    BD_TRY(bd__meta_str(m, "badak.format", BD_MODEL_FORMAT));
    BD_TRY(bd__meta_str(m, "badak.version", BD_VERSION));
    BD_TRY(bd__meta_str(m, "badak.desc", net->desc));
    BD_TRY(bd__meta_fmt(m, "badak.weight_decay", "%.9g", (double)net->weight_decay));
    BD_TRY(bd__meta_fmt(m, "badak.l1", "%.9g", (double)net->l1));
    BD_TRY(bd__meta_fmt(m, "badak.frozen", "%d", net->frozen));
    BD_TRY(bd__meta_fmt(m, "badak.parameters", "%zu", bd_net_param_count(net)));
    if (!meta)
        return BD_OK;
    if (meta->data[0])
        BD_TRY(bd__meta_str(m, "badak.data", meta->data));
    if (meta->optimizer[0])
        BD_TRY(bd__meta_str(m, "badak.optimizer", meta->optimizer));
    if (meta->epochs >= 0)
        BD_TRY(bd__meta_fmt(m, "badak.epochs", "%d", meta->epochs));
    if (meta->iters >= 0)
        BD_TRY(bd__meta_fmt(m, "badak.iterations", "%ld", meta->iters));
    if (meta->batch > 0)
        BD_TRY(bd__meta_fmt(m, "badak.batch", "%d", meta->batch));
    if (meta->lr > 0)
        BD_TRY(bd__meta_fmt(m, "badak.lr", "%.9g", (double)meta->lr));
    if (meta->test_acc >= 0)
        BD_TRY(bd__meta_fmt(m, "badak.test_accuracy", "%.9g", (double)meta->test_acc));
    if (meta->train_acc >= 0)
        BD_TRY(bd__meta_fmt(m, "badak.train_accuracy", "%.9g", (double)meta->train_acc));
    BD_TRY(bd__meta_fmt(m, "badak.seed", "%llu", (unsigned long long)meta->seed));
    return bd__meta_put_inputs(m, meta);
}

bd_status bd_model_save(const bd_net *net, const char *path, const bd_model_meta *meta)
{
    if (!net || !path)
        return bd_error(BD_ERR_ARG, "bd_model_save: %s is NULL", !net ? "the network" : "path");
    if (!net->built)
        return bd_error(BD_ERR_ARG, "%s: the network is not built", path);
    int n = bd__model_tensors(net, NULL, 0);
    bd__st_out *t = calloc((size_t)(n ? n : 1), sizeof *t);
    cJSON *m = cJSON_CreateObject();
    bd_status s = t && m ? BD_OK : bd_error(BD_ERR_NOMEM, "%s: out of memory", path);
    if (s == BD_OK) {
        bd__model_tensors(net, t, n);
        s = bd__model_meta_put(m, net, meta);
    }
    if (s == BD_OK)
        s = bd__st_write(path, t, n, m);
    cJSON_Delete(m);
    free(t);
    return s;
}

/* the optional training metadata; a malformed value is an error */
static bd_status meta_get(const bd__st *st, bd_model_meta *meta)
{
    bd_model_meta_init(meta);
    const char *v;
    if ((v = bd__st_meta(st, "badak.data")))
        snprintf(meta->data, sizeof meta->data, "%s", v);
    if ((v = bd__st_meta(st, "badak.optimizer")))
        snprintf(meta->optimizer, sizeof meta->optimizer, "%s", v);
    if ((v = bd__st_meta(st, "badak.version")))
        snprintf(meta->version, sizeof meta->version, "%s", v);
    long x;
    double d;
    if (bd__st_meta(st, "badak.epochs")) {
        BD_TRY(bd__meta_get_long(st, "badak.epochs", 0, INT32_MAX, &x));
        meta->epochs = (int)x;
    }
    if (bd__st_meta(st, "badak.iterations")) {
        BD_TRY(bd__meta_get_long(st, "badak.iterations", 0, INT64_MAX, &x));
        meta->iters = x;
    }
    if (bd__st_meta(st, "badak.batch")) {
        BD_TRY(bd__meta_get_long(st, "badak.batch", 1, INT32_MAX, &x));
        meta->batch = (int)x;
    }
    if (bd__st_meta(st, "badak.lr")) {
        BD_TRY(bd__meta_get_double(st, "badak.lr", &d));
        meta->lr = (float)d;
    }
    if (bd__st_meta(st, "badak.test_accuracy")) {
        BD_TRY(bd__meta_get_double(st, "badak.test_accuracy", &d));
        meta->test_acc = (float)d;
    }
    if (bd__st_meta(st, "badak.train_accuracy")) {
        BD_TRY(bd__meta_get_double(st, "badak.train_accuracy", &d));
        meta->train_acc = (float)d;
    }
    if (bd__st_meta(st, "badak.seed"))
        BD_TRY(bd__meta_get_u64(st, "badak.seed", &meta->seed));
    return bd__meta_get_inputs(st, meta);
}

static const char *shape_text(int ndim, const int *shape, char *buf, size_t len)
{
    size_t o = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < ndim && o < len; d++)
        o += (size_t)snprintf(buf + o, len - o, d ? ", %d" : "%d", shape[d]);
    if (o < len)
        snprintf(buf + o, len - o, "]");
    return buf;
}

static bd_status check_and_copy(bd_net *net, const bd__st *st, int allow_train)
{
    const char *f = st->origin;
    int n = bd__model_tensors(net, NULL, 0);
    bd__st_out *t = calloc((size_t)(n ? n : 1), sizeof *t);
    if (!t)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory", f);
    bd__model_tensors(net, t, n);
    bd_status s = BD_OK;
    /* every tensor of the architecture, with its shape, as F32 */
    for (int i = 0; s == BD_OK && i < n; i++) {
        const bd__st_entry *e = bd__st_find(st, t[i].name);
        char a[64], b[64];
        if (!e)
            s = bd_error(BD_ERR_FORMAT, "%s: tensor '%s' is missing (the architecture needs "
                         "it)", f, t[i].name);
        else if (e->is_i32)
            s = bd_error(BD_ERR_FORMAT, "%s: tensor '%s' has dtype I32, expected F32", f,
                         t[i].name);
        else if (e->ndim != t[i].ndim || memcmp(e->shape, t[i].shape, sizeof(int) * (size_t)e->ndim))
            s = bd_error(BD_ERR_FORMAT, "%s: tensor '%s' has shape %s, the architecture needs %s",
                         f, t[i].name, shape_text(e->ndim, e->shape, a, sizeof a),
                         shape_text(t[i].ndim, t[i].shape, b, sizeof b));
    }
    /* and nothing else */
    for (int j = 0; s == BD_OK && j < st->n; j++) {
        const char *nm = st->e[j].name;
        int known = allow_train && (!strncmp(nm, "optim.", 6) || !strncmp(nm, "train.", 6));
        for (int i = 0; !known && i < n; i++)
            known = !strcmp(nm, t[i].name);
        if (!known) {
            char buf[80];
            snprintf(buf, sizeof buf, "%.60s%s", nm, strlen(nm) > 60 ? "..." : "");
            for (char *p = buf; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                    *p = '?';
            s = bd_error(BD_ERR_FORMAT, "%s: unknown tensor '%s' (not in the architecture)", f,
                         buf);
        }
    }
    for (int i = 0; s == BD_OK && i < n; i++) {
        const bd__st_entry *e = bd__st_find(st, t[i].name);
        float *dst = (float *)t[i].data;
        bd__st_copy(st, e, dst);
        for (size_t k = 0; k < e->count; k++)
            if (!isfinite(dst[k])) {
                s = bd_error(BD_ERR_FORMAT, "%s: tensor '%s' holds a non-finite value (%g) at "
                             "element %zu", f, t[i].name, (double)dst[k], k);
                break;
            }
    }
    free(t);
    return s;
}

bd_status bd__model_from_st(bd_net *net, const bd__st *st, bd_model_meta *meta, int allow_train)
{
    memset(net, 0, sizeof *net);
    const char *f = st->origin;
    const char *fmt = bd__st_meta(st, "badak.format");
    const char *ini = bd__st_meta(st, "badak.net");
    if (!fmt || !ini)
        return bd_error(BD_ERR_FORMAT, "%s: no '%s' in __metadata__: a safetensors file, but "
                        "not a badak model", f, !fmt ? "badak.format" : "badak.net");
    if (strcmp(fmt, BD_MODEL_FORMAT) != 0) {
        char v[24];
        snprintf(v, sizeof v, "%.20s", fmt);
        return bd_error(BD_ERR_FORMAT, "%s: badak.format '%s' is not supported (this badak "
                        "reads format %s)", f, v, BD_MODEL_FORMAT);
    }
    bd_model_meta m;
    BD_TRY(meta_get(st, &m));
    double wd = 0, l1 = 0;
    long frozen = 0;
    if (bd__st_meta(st, "badak.weight_decay"))
        BD_TRY(bd__meta_get_double(st, "badak.weight_decay", &wd));
    if (bd__st_meta(st, "badak.l1"))
        BD_TRY(bd__meta_get_double(st, "badak.l1", &l1));
    if (!(wd >= 0 && wd < 1e30 && l1 >= 0 && l1 < 1e30))
        return bd_error(BD_ERR_FORMAT, "%s: weight decay %g / L1 %g must be >= 0", f, wd, l1);
    if (bd__st_meta(st, "badak.frozen"))
        BD_TRY(bd__meta_get_long(st, "badak.frozen", 0, 1 << 20, &frozen));
    char origin[300];
    snprintf(origin, sizeof origin, "%s: badak.net", f);
    bd_rng rng; /* the weights come from the file; the draws are overwritten */
    bd_rng_seed(&rng, 0);
    /* the file's data bounds the network: no allocation far beyond what it
     * holds (the slack lets the tensor checks below name a missing tensor) */
    bd_status s = bd__net_from_ini_limited(net, ini, origin, 0, 0, 0, 0, &rng,
                                           st->data_len / 4 + ((size_t)1 << 20));
    if (s != BD_OK) {
        if (s != BD_ERR_NOMEM)
            s = BD_ERR_FORMAT; /* a description that builds no network: a bad file */
        return s;
    }
    net->weight_decay = (float)wd;
    net->l1 = (float)l1;
    if (s == BD_OK && frozen > net->nlayers)
        s = bd_error(BD_ERR_FORMAT, "%s: badak.frozen %ld but the network has %d layers", f,
                     frozen, net->nlayers);
    if (s == BD_OK)
        net->frozen = (int)frozen;
    const char *desc = bd__st_meta(st, "badak.desc");
    if (s == BD_OK && desc && desc[0])
        snprintf(net->desc, sizeof net->desc, "%s", desc);
    if (s == BD_OK)
        s = check_and_copy(net, st, allow_train);
    if (s == BD_OK)
        s = bd__model_meta_check(f, st, net, &m);
    if (s != BD_OK) {
        bd_net_free(net);
        return s;
    }
    if (meta)
        *meta = m;
    return BD_OK;
}

static int is_checkpoint(const bd__st *st)
{
    const char *v = bd__st_meta(st, "badak.checkpoint");
    return v && !strcmp(v, "1");
}

bd_status bd_model_load_mem(bd_net *net, const void *buf, size_t len, const char *origin,
                            bd_model_meta *meta)
{
    memset(net, 0, sizeof *net);
    bd__st st;
    BD_TRY(bd__st_parse(&st, buf, len, origin));
    bd_status s = bd__model_from_st(net, &st, meta, is_checkpoint(&st));
    bd__st_free(&st);
    if (s == BD_OK) /* a loaded model starts in evaluation mode */
        net->training = 0;
    return s;
}

bd_status bd_model_load(bd_net *net, const char *path, bd_model_meta *meta)
{
    memset(net, 0, sizeof *net);
    bd__st st;
    BD_TRY(bd__st_read_file(&st, path));
    bd_status s = bd__model_from_st(net, &st, meta, is_checkpoint(&st));
    bd__st_free(&st);
    if (s == BD_OK) /* a loaded model starts in evaluation mode */
        net->training = 0;
    return s;
}
