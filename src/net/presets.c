/* presets.c — the book's networks, the spec that describes a network by its
 * options, and parsing of the names users type. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <strings.h>

void bd_net_spec_default(bd_net_spec *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->model, sizeof s->model, "two_layer");
    s->act = BD_LAYER_RELU;
    s->loss = BD_LOSS_SOFTMAX_CE;
    s->init = (bd_init){BD_INIT_STD, 0.01f};
}

/* ReLU-like activations take He's init, the others Xavier's (book 6.2.3) */
static int relu_like(bd_layer_kind k)
{
    const bd_layer_op *op = bd__layer_op(k);
    return op && op->relu_like;
}

/* two_layer: Affine1 - act - Affine2 (book 5.7.2, TwoLayerNet);
 * mlp: (Affine - [BatchNorm] - act - [Dropout]) x n, Affine (book 6.1.7
 * MultiLayerNet, 6.3 MultiLayerNetExtend); then the loss. */
/* Is the model a path to a network description? */
static int is_ini(const char *m)
{
    size_t n = strlen(m);
    return strchr(m, '/') || (n > 4 && strcasecmp(m + n - 4, ".ini") == 0);
}

/* The convolutional presets and description files: the spec's options for
 * hidden layers do not apply to them; its loss and regularisation do. */
static bd_status from_spec_conv(bd_net *net, const bd_net_spec *s, int c, int h, int w,
                                int classes, bd_rng *rng)
{
    if (s->nhidden || s->batchnorm || s->dropout > 0.0f || s->act != BD_LAYER_RELU)
        return bd_error(BD_ERR_ARG, "%s: hidden sizes, activation, batchnorm and dropout "
                        "options are for two_layer and mlp (write them in a .ini instead)",
                        s->model);
    if (s->loss == BD_LOSS_SIGMOID_BCE)
        classes = 1;
    bd_status st;
    if (strcmp(s->model, "simple_convnet") == 0)
        st = bd_net_simple_convnet(net, c, h, w, classes, rng);
    else if (strcmp(s->model, "deep_convnet") == 0)
        st = bd_net_deep_convnet(net, c, h, w, classes, rng);
    else if (strcmp(s->model, "resnet") == 0)
        st = bd_net_resnet(net, c, h, w, classes, rng);
    else if (strcmp(s->model, "tobigs_cnn") == 0)
        st = bd_net_tobigs_cnn(net, c, h, w, classes, rng);
    else if (strcmp(s->model, "resnet18") == 0)
        st = bd_net_resnet18(net, c, h, w, classes, rng);
    else
        st = bd_net_load_ini(net, s->model, c, h, w, classes, rng);
    BD_TRY(st);
    if (s->init_set) { /* --init: draw the weights again with it */
        bd_rng_seed(rng, bd_rng_u64(rng));
        bd_net_init_weights(net, s->init, rng);
    }
    if (s->loss != net->loss && s->loss != BD_LOSS_SOFTMAX_CE)
        net->loss = s->loss;
    net->weight_decay = s->weight_decay;
    net->l1 = s->l1;
    return BD_OK;
}

bd_status bd_net_from_spec(bd_net *net, const bd_net_spec *s, int c, int h, int w,
                           int classes, bd_rng *rng)
{
    if (!strcmp(s->model, "simple_convnet") || !strcmp(s->model, "deep_convnet") ||
        !strcmp(s->model, "resnet") || !strcmp(s->model, "tobigs_cnn") ||
        !strcmp(s->model, "resnet18") || is_ini(s->model))
        return from_spec_conv(net, s, c, h, w, classes, rng);
    int two = strcmp(s->model, "two_layer") == 0;
    if (!two && strcmp(s->model, "mlp") != 0)
        return bd_error(BD_ERR_ARG, "unknown model '%s' (expected two_layer, mlp, "
                        "simple_convnet, deep_convnet, resnet, tobigs_cnn, resnet18 or a .ini file)", s->model);
    if (two && s->nhidden > 1)
        return bd_error(BD_ERR_ARG, "two_layer has one hidden layer; use --model mlp for %d",
                        s->nhidden);
    if (s->nhidden < 0 || s->nhidden > (int)(sizeof s->hidden / sizeof s->hidden[0]))
        return bd_error(BD_ERR_ARG, "%d hidden layers (at most %zu)", s->nhidden,
                        sizeof s->hidden / sizeof s->hidden[0]);
    if (!(s->dropout >= 0.0f && s->dropout < 1.0f))
        return bd_error(BD_ERR_ARG, "dropout %g must be in [0, 1)", (double)s->dropout);
    if (!(s->weight_decay >= 0.0f) || !(s->l1 >= 0.0f) || !isfinite(s->weight_decay) ||
        !isfinite(s->l1))
        return bd_error(BD_ERR_ARG, "weight decay %g and L1 %g must be >= 0",
                        (double)s->weight_decay, (double)s->l1);
    if (classes < 1)
        return bd_error(BD_ERR_ARG, "%d classes", classes);
    if (s->loss == BD_LOSS_SIGMOID_BCE && classes > 2)
        return bd_error(BD_ERR_ARG, "%s is for two classes; the data has %d",
                        bd_loss_kind_name(s->loss), classes);
    static const int def_mlp[5] = {100, 100, 100, 100, 100};
    const int def_two[1] = {50};
    const int *hidden = s->nhidden ? s->hidden : (two ? def_two : def_mlp);
    int nhidden = s->nhidden ? s->nhidden : (two ? 1 : 5);
    bd_init init = s->init;
    if (!s->init_set)
        init = two ? (bd_init){BD_INIT_STD, 0.01f}
                   : (bd_init){relu_like(s->act) ? BD_INIT_HE : BD_INIT_XAVIER, 0.0f};
    int outputs = s->loss == BD_LOSS_SIGMOID_BCE ? 1 : classes;

    bd_status st = bd_net_create(net, c, h, w);
    for (int i = 0; st == BD_OK && i < nhidden; i++) {
        st = bd_net_add_affine(net, hidden[i]);
        if (st == BD_OK && s->batchnorm)
            st = bd_net_add_with(net, BD_LAYER_BATCHNORM, 0, s->bn_momentum, 0.0f);
        if (st == BD_OK)
            st = bd_net_add_with(net, s->act, 0, s->act_p0, s->act_p1);
        if (st == BD_OK && s->dropout > 0.0f)
            st = bd_net_add_with(net, BD_LAYER_DROPOUT, 0, s->dropout, 0.0f);
    }
    if (st == BD_OK)
        st = bd_net_add_affine(net, outputs);
    if (st == BD_OK) {
        bd_net_set_loss(net, s->loss);
        net->weight_decay = s->weight_decay;
        net->l1 = s->l1;
        st = bd_net_build(net, init, rng);
    }
    if (st != BD_OK) {
        bd_net_free(net);
        return st;
    }
    int o = snprintf(net->desc, sizeof net->desc, "%s %d", two ? "two_layer" : "mlp",
                     net->in_size);
    for (int i = 0; i < nhidden && o < (int)sizeof net->desc; i++)
        o += snprintf(net->desc + o, sizeof net->desc - (size_t)o, "-%d", hidden[i]);
    if (o < (int)sizeof net->desc)
        o += snprintf(net->desc + o, sizeof net->desc - (size_t)o, "-%d", outputs);
    if (o < (int)sizeof net->desc && (s->act != BD_LAYER_RELU || s->batchnorm || s->dropout > 0))
        snprintf(net->desc + o, sizeof net->desc - (size_t)o, " %s%s%s",
                 bd_layer_kind_name(s->act), s->batchnorm ? " +batchnorm" : "",
                 s->dropout > 0 ? " +dropout" : "");
    return BD_OK;
}

bd_status bd_net_two_layer(bd_net *net, int in, int hidden, int out, bd_init init,
                           bd_rng *rng)
{
    bd_net_spec s;
    bd_net_spec_default(&s);
    s.hidden[0] = hidden;
    s.nhidden = 1;
    s.init = init;
    s.init_set = 1;
    return bd_net_from_spec(net, &s, 1, 1, in, out, rng);
}

bd_status bd_net_mlp(bd_net *net, int in, const int *hidden, int nhidden, int out,
                     bd_layer_kind act, bd_init init, bd_rng *rng)
{
    bd_net_spec s;
    bd_net_spec_default(&s);
    snprintf(s.model, sizeof s.model, "mlp");
    if (nhidden < 1 || nhidden > (int)(sizeof s.hidden / sizeof s.hidden[0]))
        return bd_error(BD_ERR_ARG, "mlp: %d hidden layers (1 to %zu)", nhidden,
                        sizeof s.hidden / sizeof s.hidden[0]);
    memcpy(s.hidden, hidden, (size_t)nhidden * sizeof(int));
    s.nhidden = nhidden;
    s.act = act;
    s.init = init;
    s.init_set = 1;
    return bd_net_from_spec(net, &s, 1, 1, in, out, rng);
}

static int parse_num(const char *s, const char *end, float *out)
{
    char buf[64];
    size_t n = (size_t)(end - s);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *e;
    errno = 0;
    float v = strtof(buf, &e);
    if (*e || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Does row op read a key for field f? */
static int has_field(const bd_layer_op *op, bd__conf_field f)
{
    for (int i = 0; i < BD__INI_KEYS && op->keys[i].key; i++)
        if (op->keys[i].field == f)
            return 1;
    return 0;
}

/* "relu, sigmoid, ... or elu" (names 1) or "leaky_relu:SLOPE, ..., elu:ALPHA"
 * (the activations with parameters, their keys in capitals): from the rows */
static const char *act_list(int names, char *buf, size_t len)
{
    int n = 0, total = 0;
    for (int k = 0; k < BD_LAYER_KIND_COUNT; k++) {
        const bd_layer_op *op = bd__layer_op((bd_layer_kind)k);
        total += op && op->act && (names || has_field(op, BD__CONF_P0));
    }
    size_t o = 0;
    buf[0] = 0;
    for (int k = 0; k < BD_LAYER_KIND_COUNT && o < len; k++) {
        const bd_layer_op *op = bd__layer_op((bd_layer_kind)k);
        if (!op || !op->act || (!names && !has_field(op, BD__CONF_P0)))
            continue;
        n++;
        o += (size_t)snprintf(buf + o, len - o, "%s%s", n == 1 ? "" : names && n == total ?
                              " or " : ", ", op->token);
        for (int i = 0; !names && i < BD__INI_KEYS && op->keys[i].key && o < len; i++) {
            o += (size_t)snprintf(buf + o, len - o, "%c", i ? ',' : ':');
            for (const char *c = op->keys[i].key; *c && o + 1 < len; c++)
                buf[o++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
            buf[o] = 0;
        }
    }
    return buf;
}

/* NAME[:p0[,p1]], NAME an activation's description type (its op row) */
bd_status bd_parse_act(const char *s, bd_layer_kind *kind, float *p0, float *p1)
{
    const char *colon = strchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    char name[32], list[256];
    *p0 = *p1 = 0.0f;
    snprintf(name, sizeof name, "%.*s", (int)BD_MIN(n, sizeof name - 1), s);
    bd_layer_kind k;
    if (n >= sizeof name || !bd__kind_by_token(name, 0, &k) || !bd__layer_op(k)->act)
        return bd_error(BD_ERR_ARG, "unknown activation '%s' (expected %s)", s,
                        act_list(1, list, sizeof list));
    const bd_layer_op *op = bd__layer_op(k);
    *kind = k;
    if (!colon)
        return BD_OK;
    const char *a = colon + 1, *comma = strchr(a, ',');
    int bad = parse_num(a, comma ? comma : a + strlen(a), p0) != 0;
    if (!bad && comma)
        bad = parse_num(comma + 1, comma + 1 + strlen(comma + 1), p1) != 0;
    if (bad || !has_field(op, BD__CONF_P0) || (comma && !has_field(op, BD__CONF_P1)))
        return bd_error(BD_ERR_ARG, "bad activation '%s' (parameters: %s)", s,
                        act_list(0, list, sizeof list));
    /* the layer's own check, the same one network files go through */
    return bd__layer_check(op, s, *p0, *p1);
}

bd_status bd_parse_activation(const char *s, bd_layer_kind *kind)
{
    float p0, p1;
    return bd_parse_act(s, kind, &p0, &p1);
}

bd_status bd_parse_loss(const char *s, bd_loss_kind *loss)
{
    if (!strcasecmp(s, "softmax_ce") || !strcasecmp(s, "ce") || !strcasecmp(s, "cross_entropy"))
        *loss = BD_LOSS_SOFTMAX_CE;
    else if (!strcasecmp(s, "mse"))
        *loss = BD_LOSS_MSE;
    else if (!strcasecmp(s, "mae"))
        *loss = BD_LOSS_MAE;
    else if (!strcasecmp(s, "bce") || !strcasecmp(s, "sigmoid_bce"))
        *loss = BD_LOSS_SIGMOID_BCE;
    else if (!strcasecmp(s, "bce_multi") || !strcasecmp(s, "multilabel"))
        *loss = BD_LOSS_MULTI_BCE;
    else if (!strcasecmp(s, "huber"))
        *loss = BD_LOSS_HUBER;
    else
        return bd_error(BD_ERR_ARG, "unknown loss '%s' (expected softmax_ce, mse, mae, huber, "
                        "bce or bce_multi)", s);
    if (!bd__loss_op(*loss))
        return bd_error(BD_ERR_ARG, "loss '%s' is not available in this build", s);
    return BD_OK;
}

bd_status bd_parse_init(const char *s, bd_init *init)
{
    init->std = 0.01f;
    if (strcasecmp(s, "xavier") == 0 || strcasecmp(s, "sigmoid") == 0) {
        init->kind = BD_INIT_XAVIER;
        return BD_OK;
    }
    if (strcasecmp(s, "he") == 0 || strcasecmp(s, "relu") == 0) {
        init->kind = BD_INIT_HE;
        return BD_OK;
    }
    const char *num = s;
    if (strncasecmp(s, "std=", 4) == 0)
        num = s + 4;
    else if (strcasecmp(s, "std") == 0) {
        init->kind = BD_INIT_STD;
        return BD_OK;
    }
    char *end;
    errno = 0;
    float v = strtof(num, &end);
    if (end == num || *end || errno || !(v > 0.0f) || !isfinite(v))
        return bd_error(BD_ERR_ARG,
                        "bad weight init '%s' (expected std=0.01, a positive number, xavier or he)",
                        s);
    init->kind = BD_INIT_STD;
    init->std = v;
    return BD_OK;
}
