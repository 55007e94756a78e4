/* test_oprows.c — the op table is the one place a layer kind is described:
 * its description token and keys, model-file names, C export and init
 * family. These pin what files depend on (description text, safetensors
 * tensor names, exported calls), as the code wrote them before the rows
 * carried them, so no change to a row can silently change a file format. */
#include "testutil.h"

#include "io/st.h" /* bd__model_tensors */

/* What every existing file says of each kind: description type, keys in
 * order, tensor names. A changed entry here is a changed file format. */
static const struct {
    bd_layer_kind kind;
    const char *name, *token, *keys, *pname[2], *sname[2];
} PINNED[] = {
    {BD_LAYER_AFFINE, "Affine", "affine", "units", {"W", "b"}, {NULL, NULL}},
    {BD_LAYER_RELU, "Relu", "relu", "", {NULL, NULL}, {NULL, NULL}},
    {BD_LAYER_SIGMOID, "Sigmoid", "sigmoid", "", {NULL, NULL}, {NULL, NULL}},
    {BD_LAYER_TANH, "Tanh", "tanh", "", {NULL, NULL}, {NULL, NULL}},
    {BD_LAYER_LEAKY_RELU, "LeakyRelu", "leaky_relu", "slope", {NULL, NULL}, {NULL, NULL}},
    {BD_LAYER_PRELU, "Prelu", "prelu", "slope", {"a", NULL}, {NULL, NULL}},
    {BD_LAYER_RRELU, "Rrelu", "rrelu", "lower,upper", {NULL, NULL}, {NULL, NULL}},
    {BD_LAYER_ELU, "Elu", "elu", "alpha", {NULL, NULL}, {NULL, NULL}},
    {BD_LAYER_BATCHNORM, "BatchNorm", "batchnorm", "momentum,eps", {"gamma", "beta"},
     {"running_mean", "running_var"}},
    {BD_LAYER_DROPOUT, "Dropout", "dropout", "p", {NULL, NULL}, {NULL, NULL}},
    {BD_LAYER_CONV2D, "Conv", "conv", "filters,kernel,stride,pad", {"W", "b"}, {NULL, NULL}},
    {BD_LAYER_MAXPOOL, "MaxPool", "maxpool", "kernel,stride", {NULL, NULL}, {NULL, NULL}},
    {BD_LAYER_AVGPOOL, "AvgPool", "avgpool", "kernel,stride", {NULL, NULL}, {NULL, NULL}},
    {BD_LAYER_GAP, "GlobalAvgPool", "gap", "", {NULL, NULL}, {NULL, NULL}},
    {BD_LAYER_FLATTEN, "Flatten", "flatten", "", {NULL, NULL}, {NULL, NULL}},
    {BD_LAYER_BATCHNORM2D, "BatchNorm2d", "batchnorm2d", "momentum,eps", {"gamma", "beta"},
     {"running_mean", "running_var"}},
    {BD_LAYER_RESBLOCK, "ResBlock", "resblock", "channels,stride,momentum,eps", {"W", "bn"},
     {"running", NULL}},
};

static int same(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static void rows_pinned(void **st)
{
    assert_int_equal(sizeof PINNED / sizeof PINNED[0], BD_LAYER_KIND_COUNT);
    for (size_t i = 0; i < sizeof PINNED / sizeof PINNED[0]; i++) {
        const bd_layer_op *op = bd__layer_op(PINNED[i].kind);
        assert_non_null(op);
        assert_string_equal(op->name, PINNED[i].name);
        assert_string_equal(op->token, PINNED[i].token);
        char keys[128] = "";
        for (int k = 0; k < BD__INI_KEYS && op->keys[k].key; k++)
            snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s", k ? "," : "",
                     op->keys[k].key);
        assert_string_equal(keys, PINNED[i].keys);
        for (int q = 0; q < 2; q++) {
            if (!same(op->pname[q], PINNED[i].pname[q]) || !same(op->sname[q], PINNED[i].sname[q]))
                fail_msg("%s: view names changed", op->name);
        }
        /* the token, an alias and the name all find the kind; nothing else does */
        bd_layer_kind k;
        assert_ok(bd_parse_layer_kind(op->token, &k));
        assert_int_equal(k, PINNED[i].kind);
        assert_ok(bd_parse_layer_kind(op->name, &k));
        assert_int_equal(k, PINNED[i].kind);
        if (op->alias) {
            assert_ok(bd_parse_layer_kind(op->alias, &k));
            assert_int_equal(k, PINNED[i].kind);
        }
        assert_string_equal(bd_layer_kind_name(PINNED[i].kind), PINNED[i].name);
    }
    bd_layer_kind k;
    assert_fails(bd_parse_layer_kind("lstm", &k), BD_ERR_ARG, "unknown layer kind 'lstm'");
}

/* the rows agree with the activations users can name and the init rule */
static void rows_activations(void **st)
{
    for (int k = 0; k < BD_LAYER_KIND_COUNT; k++) {
        const bd_layer_op *op = bd__layer_op((bd_layer_kind)k);
        bd_layer_kind got;
        float p0, p1;
        bd_status s = bd_parse_act(op->token, &got, &p0, &p1);
        if (op->act) {
            assert_ok(s);
            assert_int_equal(got, k);
        } else {
            assert_int_equal(s, BD_ERR_ARG);
        }
    }
    bd_layer_kind k;
    float p0, p1;
    assert_ok(bd_parse_act("leakyrelu:0.2", &k, &p0, &p1));
    assert_int_equal(k, BD_LAYER_LEAKY_RELU);
    assert_true(p0 == 0.2f);
    assert_ok(bd_parse_act("rrelu:0.1,0.3", &k, &p0, &p1));
    assert_true(p0 == 0.1f && p1 == 0.3f);
    assert_fails(bd_parse_act("relu:0.1", &k, &p0, &p1), BD_ERR_ARG,
                 "parameters: leaky_relu:SLOPE, prelu:SLOPE, rrelu:LOWER,UPPER, elu:ALPHA");
    assert_fails(bd_parse_act("elu:1,2", &k, &p0, &p1), BD_ERR_ARG, "bad activation 'elu:1,2'");
    assert_fails(bd_parse_act("swish", &k, &p0, &p1), BD_ERR_ARG,
                 "expected relu, sigmoid, tanh, leaky_relu, prelu, rrelu or elu");
    /* ReLU-like (He) vs Xavier, as book 6.2.3: the mlp default init */
    const int he[] = {BD_LAYER_RELU, BD_LAYER_LEAKY_RELU, BD_LAYER_PRELU, BD_LAYER_RRELU,
                      BD_LAYER_ELU};
    for (int i = 0; i < BD_LAYER_KIND_COUNT; i++) {
        int want = 0;
        for (size_t j = 0; j < sizeof he / sizeof he[0]; j++)
            want |= he[j] == i;
        assert_int_equal(bd__layer_op((bd_layer_kind)i)->relu_like, want);
    }
}

/* one network with every kind (ResBlock: optional, it does not export) */
static void every_kind(bd_net *net, int resblock, uint64_t seed)
{
    bd_rng r;
    bd_rng_seed(&r, seed);
    assert_ok(bd_net_create(net, 2, 8, 8));
    const bd_layer_conf cs[] = {
        {BD_LAYER_CONV2D, 4, 3, 1, 1, 0, 0, NULL},
        {BD_LAYER_BATCHNORM2D, 0, 0, 0, 0, 0.8f, 1e-4f, NULL},
        {BD_LAYER_RELU, 0, 0, 0, 0, 0, 0, NULL},
        {BD_LAYER_RESBLOCK, 6, 0, 2, 0, 0, 0, NULL},
        {BD_LAYER_CONV2D, 5, 2, 1, 0, 0, 0, "mid"},
        {BD_LAYER_AVGPOOL, 0, 2, 1, 0, 0, 0, NULL},
        {BD_LAYER_LEAKY_RELU, 0, 0, 0, 0, 0.2f, 0, NULL},
        {BD_LAYER_MAXPOOL, 0, 2, 0, 0, 0, 0, NULL},
        {BD_LAYER_GAP, 0, 0, 0, 0, 0, 0, NULL},
        {BD_LAYER_FLATTEN, 0, 0, 0, 0, 0, 0, NULL},
        {BD_LAYER_AFFINE, 9, 0, 0, 0, 0, 0, NULL},
        {BD_LAYER_BATCHNORM, 0, 0, 0, 0, 0, 0, NULL},
        {BD_LAYER_PRELU, 0, 0, 0, 0, 0, 0, NULL},
        {BD_LAYER_RRELU, 0, 0, 0, 0, 0.1f, 0.2f, NULL},
        {BD_LAYER_ELU, 0, 0, 0, 0, 0.7f, 0, NULL},
        {BD_LAYER_TANH, 0, 0, 0, 0, 0, 0, NULL},
        {BD_LAYER_SIGMOID, 0, 0, 0, 0, 0, 0, NULL},
        {BD_LAYER_DROPOUT, 0, 0, 0, 0, 0.25f, 0, NULL},
        {BD_LAYER_AFFINE, 3, 0, 0, 0, 0, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        if (resblock || cs[i].kind != BD_LAYER_RESBLOCK)
            assert_ok(bd_net_add_layer(net, &cs[i]));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
}

/* bd_net_to_ini of the network with every kind, as badak wrote it before
 * the op rows carried the keys (every model file holds this text) */
static const char *WANT_INI =
    "; badak network description (badak " BD_VERSION ")\n"
    "[net]\n"
    "input = 2x8x8\n"
    "loss = softmax_ce\n"
    "init = he\n"
    "\n"
    "[Conv1]\n"
    "type = conv\n"
    "filters = 4\n"
    "kernel = 3\n"
    "stride = 1\n"
    "pad = 1\n"
    "\n"
    "[BatchNorm2d1]\n"
    "type = batchnorm2d\n"
    "momentum = 0.800000012\n"
    "eps = 9.99999975e-05\n"
    "\n"
    "[Relu1]\n"
    "type = relu\n"
    "\n"
    "[ResBlock1]\n"
    "type = resblock\n"
    "channels = 6\n"
    "stride = 2\n"
    "momentum = 0.899999976\n"
    "eps = 9.99999975e-06\n"
    "\n"
    "[mid]\n"
    "type = conv\n"
    "filters = 5\n"
    "kernel = 2\n"
    "stride = 1\n"
    "pad = 0\n"
    "\n"
    "[AvgPool1]\n"
    "type = avgpool\n"
    "kernel = 2\n"
    "stride = 1\n"
    "\n"
    "[LeakyRelu1]\n"
    "type = leaky_relu\n"
    "slope = 0.200000003\n"
    "\n"
    "[MaxPool1]\n"
    "type = maxpool\n"
    "kernel = 2\n"
    "stride = 2\n"
    "\n"
    "[GlobalAvgPool1]\n"
    "type = gap\n"
    "\n"
    "[Flatten1]\n"
    "type = flatten\n"
    "\n"
    "[Affine1]\n"
    "type = affine\n"
    "units = 9\n"
    "\n"
    "[BatchNorm1]\n"
    "type = batchnorm\n"
    "momentum = 0.899999976\n"
    "eps = 1.00000001e-07\n"
    "\n"
    "[Prelu1]\n"
    "type = prelu\n"
    "slope = 0.25\n"
    "\n"
    "[Rrelu1]\n"
    "type = rrelu\n"
    "lower = 0.100000001\n"
    "upper = 0.200000003\n"
    "\n"
    "[Elu1]\n"
    "type = elu\n"
    "alpha = 0.699999988\n"
    "\n"
    "[Tanh1]\n"
    "type = tanh\n"
    "\n"
    "[Sigmoid1]\n"
    "type = sigmoid\n"
    "\n"
    "[Dropout1]\n"
    "type = dropout\n"
    "p = 0.25\n"
    "\n"
    "[Affine2]\n"
    "type = affine\n"
    "units = 3\n";


static void description_pinned(void **st)
{
    bd_net net, back;
    every_kind(&net, 1, 5);
    char *ini;
    assert_ok(bd_net_to_ini(&net, &ini));
    assert_string_equal(ini, WANT_INI);
    /* and it reads back as the same text */
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_from_ini(&back, ini, "every.ini", 0, 0, 0, 0, &r));
    char *again;
    assert_ok(bd_net_to_ini(&back, &again));
    assert_string_equal(again, WANT_INI);
    free(ini);
    free(again);
    bd_net_free(&back);
    bd_net_free(&net);
}

/* the safetensors names of its tensors; every non-empty view is named */
static void tensor_names_pinned(void **st)
{
    static const char *const want[] = {
        "Conv1.W", "Conv1.b", "BatchNorm2d1.gamma", "BatchNorm2d1.beta",
        "BatchNorm2d1.running_mean", "BatchNorm2d1.running_var", "ResBlock1.W", "ResBlock1.bn",
        "ResBlock1.running", "mid.W", "mid.b", "Affine1.W", "Affine1.b", "BatchNorm1.gamma",
        "BatchNorm1.beta", "BatchNorm1.running_mean", "BatchNorm1.running_var", "Prelu1.a",
        "Affine2.W", "Affine2.b"};
    bd_net net;
    every_kind(&net, 1, 5);
    bd__st_out out[32];
    int n = bd__model_tensors(&net, out, 32);
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (int i = 0; i < n; i++)
        assert_string_equal(out[i].name, want[i]);
    for (int i = 0; i < net.nlayers; i++) {
        const bd_layer *l = &net.layers[i];
        const bd_layer_op *op = bd__layer_op(l->kind);
        const bd_tensor *v[4] = {&l->W, &l->b, &l->s0, &l->s1};
        const char *nm[4] = {op->pname[0], op->pname[1], op->sname[0], op->sname[1]};
        for (int k = 0; k < 4; k++)
            if (v[k]->data && v[k]->size && !nm[k])
                fail_msg("%s: view %d has no name in its op row", l->name, k);
    }
    bd_net_free(&net);
}

/* The calls of the exported predict(), as badak wrote them before the op
 * rows carried the emitters; ResBlock has none and is refused by name. */
static const char *WANT_CALLS =
    "    const float *in = x;\n"
    "    float *y = m_buf[0];\n"
    "    m_conv(y, in, m_l0_W, m_l0_b, 2, 8, 8, 4, 3, 1, 1, 8, 8);\n"
    "    m_bn(y, in, m_l1_W, m_l1_b, m_l1_s0, m_l1_s1, 0x1.a36e2ep-14f, 4, 64);\n"
    "    m_act(y, in, 256, 0, 0x0p+0f);\n"
    "    m_conv(y, in, m_l3_W, m_l3_b, 4, 8, 8, 5, 2, 1, 0, 7, 7);\n"
    "    m_pool(y, in, 5, 7, 7, 2, 1, 0, 6, 6, 1);\n"
    "    m_act(y, in, 180, 3, 0x1.99999ap-3f);\n"
    "    m_pool(y, in, 5, 6, 6, 2, 2, 0, 3, 3, 0);\n"
    "    m_gap(y, in, 5, 9);\n"
    "    for (int i = 0; i < 5; i++) /* Flatten1: identity */\n"
    "        y[i] = in[i];\n"
    "    m_affine(y, in, m_l9_W, m_l9_b, 5, 9);\n"
    "    m_bn(y, in, m_l10_W, m_l10_b, m_l10_s0, m_l10_s1, 0x1.ad7f2ap-24f, 9, 1);\n"
    "    m_prelu(y, in, m_l11_W, 9, 1);\n"
    "    m_act(y, in, 9, 3, 0x1.333334p-3f);\n"
    "    m_act(y, in, 9, 4, 0x1.666666p-1f);\n"
    "    m_act(y, in, 9, 2, 0x0p+0f);\n"
    "    m_act(y, in, 9, 1, 0x0p+0f);\n"
    "    for (int i = 0; i < 9; i++) /* Dropout1: identity */\n"
    "        y[i] = in[i];\n"
    "    m_affine(y, in, m_l17_W, m_l17_b, 9, 3);\n";


static void export_pinned(void **st)
{
    char dir[] = "/tmp/badak_oprows_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.h", dir);
    bd_net net;
    every_kind(&net, 0, 6);
    assert_ok(bd_model_export_c(&net, path, "m"));
    bd_net_free(&net);
    /* the predict body without its comments and buffer swaps */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512], got[8192] = "";
    int in_body = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "    const float *in = x;"))
            in_body = 1;
        if (!strncmp(line, "    if (out)", 12))
            break;
        if (in_body && !strstr(line, "in = y;") && !strstr(line, "y = y ==") &&
            !strstr(line, "    /* "))
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s", line);
    }
    fclose(f);
    unlink(path);
    assert_string_equal(got, WANT_CALLS);
    every_kind(&net, 1, 6);
    assert_fails(bd_model_export_c(&net, path, "m"), BD_ERR_ARG,
                 "ResBlock1: ResBlock layers are not supported by the C export");
    bd_net_free(&net);
    assert_int_equal(access(path, F_OK), -1);
    rmdir(dir);
}

/* bd_net_print's kind column is the description type; details its keys */
static void summary_uses_rows(void **st)
{
    bd_net net;
    every_kind(&net, 1, 5);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    bd_net_print(&net, f);
    fclose(f);
    assert_non_null(strstr(buf, "GlobalAvgPool1   gap          5"));
    assert_non_null(strstr(buf, "filters 4, kernel 3x3, stride 1, pad 1"));
    assert_non_null(strstr(buf, "channels 6, stride 2, momentum 0.9, eps 1e-05"));
    assert_non_null(strstr(buf, "lower 0.1, upper 0.2"));
    free(buf);
    bd_net_free(&net);
}

int main(void)
{
    bd_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_pinned),
        cmocka_unit_test(rows_activations),
        cmocka_unit_test(description_pinned),
        cmocka_unit_test(tensor_names_pinned),
        cmocka_unit_test(export_pinned),
        cmocka_unit_test(summary_uses_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
