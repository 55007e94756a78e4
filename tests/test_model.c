/* test_model.c — model files (safetensors): the bytes on disk, round trips of
 * dense, convolutional, BatchNorm and residual networks, and one test per
 * way a file can be bad, each expecting its own message. */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

#include <cJSON.h>
#include <sys/stat.h>

static char g_dir[256];

static int setup_dir(void **st)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/badak_model_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_dir(void **st)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp_path(const char *name)
{
    static char buf[4][400];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    b[n] = 0;
    *len = (size_t)n;
    return b;
}

static void write_all(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* random values in every parameter and state entry, so a round trip that
 * mixed tensors up could not pass */
static void scramble(bd_net *net, uint64_t seed)
{
    bd_rng r;
    bd_rng_seed(&r, seed);
    for (size_t i = 0; i < net->params.size; i++)
        bd_f32(&net->params)[i] = bd_rng_normal(&r);
    for (size_t i = 0; i < net->state.size; i++)
        bd_f32(&net->state)[i] = 0.5f + bd_rng_uniform(&r);
}

/* save, load, and compare: architecture text, names, every bit of the
 * parameters and state, and the evaluation-mode outputs */
static void round_trip(bd_net *a, const char *name)
{
    const char *path = tmp_path(name);
    bd_model_meta m;
    bd_model_meta_init(&m);
    snprintf(m.data, sizeof m.data, "unit-test");
    m.epochs = 3;
    m.test_acc = 0.875f;
    m.seed = 42;
    assert_ok(bd_model_save(a, path, &m));
    bd_net *b = NULL;
    bd_model_meta mb;
    assert_ok(bd_model_load(&b, path, &mb));
    assert_string_equal(mb.data, "unit-test");
    assert_int_equal(mb.epochs, 3);
    assert_true(mb.test_acc == 0.875f);
    assert_int_equal(mb.seed, 42);
    assert_string_equal(mb.version, BD_VERSION);
    assert_int_equal(a->nlayers, b->nlayers);
    for (int i = 0; i < a->nlayers; i++)
        assert_string_equal(a->layers[i].name, b->layers[i].name);
    char *ta, *tb;
    assert_ok(bd_net_to_ini(a, &ta));
    assert_ok(bd_net_to_ini(b, &tb));
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
    assert_int_equal(a->params.size, b->params.size);
    assert_int_equal(a->state.size, b->state.size);
    assert_memory_equal(a->params.data, b->params.data, a->params.size * sizeof(float));
    if (a->state.size)
        assert_memory_equal(a->state.data, b->state.data, a->state.size * sizeof(float));
    /* same predictions */
    bd_tensor x, y;
    random_batch(&x, &y, 4, a->in_size, 2, 9);
    int shape[4] = {4, a->in_c, a->in_h, a->in_w};
    assert_ok(bd_tensor_reshape(&x, 4, shape, "x"));
    assert_ok(bd_net_reserve(a, 4));
    assert_ok(bd_net_reserve(b, 4));
    bd_net_set_training(a, 0);
    bd_net_set_training(b, 0);
    const bd_tensor *ya, *yb;
    assert_ok(bd_net_forward(a, &x, &ya));
    assert_ok(bd_net_forward(b, &x, &yb));
    assert_memory_equal(ya->data, yb->data, ya->size * sizeof(float));
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_net_free(b);
}

static void roundtrip_dense(void **st)
{
    bd_net_spec s;
    bd_net_spec_default(&s);
    snprintf(s.model, sizeof s.model, "mlp");
    s.hidden[0] = 20, s.hidden[1] = 10, s.nhidden = 2;
    s.batchnorm = 1;
    s.dropout = 0.2f;
    s.act = BD_LAYER_PRELU;
    s.weight_decay = 0.01f;
    bd_rng r;
    bd_rng_seed(&r, 1);
    bd_net *a = NULL;
    assert_ok(bd_net_from_spec(&a, &s, 1, 1, 12, 3, &r));
    scramble(a, 2);
    round_trip(a, "dense.safetensors");
    /* regularisation comes back too */
    bd_net *b = NULL;
    assert_ok(bd_model_load(&b, tmp_path("dense.safetensors"), NULL));
    assert_true(b->weight_decay == 0.01f);
    bd_net_free(b);
    bd_net_free(a);
}

static void roundtrip_conv(void **st)
{
    bd_rng r;
    bd_rng_seed(&r, 3);
    bd_net *a = NULL;
    assert_ok(bd_net_simple_convnet(&a, 1, 12, 12, 4, &r));
    scramble(a, 4);
    round_trip(a, "conv.safetensors");
    bd_net_free(a);
}

static void roundtrip_batchnorm2d(void **st)
{
    const char *ini = "[net]\ninput = 2x8x8\n[c1]\ntype = conv\nfilters = 4\nkernel = 3\npad = 1\n"
                      "[bn]\ntype = batchnorm2d\n[act]\ntype = elu\n[pool]\ntype = avgpool\n"
                      "kernel = 2\n[flat]\ntype = flatten\n[fc]\ntype = affine\nunits = 8\n"
                      "[bn1]\ntype = batchnorm\n[t]\ntype = tanh\n[out]\ntype = affine\nunits = 3\n";
    bd_rng r;
    bd_rng_seed(&r, 5);
    bd_net *a = NULL;
    assert_ok(bd_net_from_ini(&a, ini, "bn.ini", 0, 0, 0, 0, &r));
    scramble(a, 6);
    round_trip(a, "bn2d.safetensors");
    bd_net_free(a);
}

static void roundtrip_resnet(void **st)
{
    bd_rng r;
    bd_rng_seed(&r, 7);
    bd_net *a = NULL;
    assert_ok(bd_net_resnet(&a, 1, 8, 8, 3, &r));
    scramble(a, 8);
    round_trip(a, "resnet.safetensors");
    bd_net_free(a);
}

/* The bytes of a tiny network, checked by hand against the safetensors
 * layout: u64 LE header length, JSON header padded to 8, data area with
 * each tensor little-endian at its data_offsets. */
static void byte_layout(void **st)
{
    bd_net *net = NULL;
    assert_ok(bd_net_create(&net, 1, 1, 3));
    assert_ok(bd_net_add_affine(net, 2));
    assert_ok(bd_net_add_relu(net));
    assert_ok(bd_net_add_affine(net, 2));
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_STD, 0.01f}, &r));
    /* 3x2 + 2 + 2x2 + 2 = 14 parameters: 1, 2, ..., 14 */
    assert_int_equal(net->params.size, 14);
    for (int i = 0; i < 14; i++)
        bd_f32(&net->params)[i] = (float)(i + 1);
    const char *path = tmp_path("layout.safetensors");
    assert_ok(bd_model_save(net, path, NULL));
    size_t len;
    unsigned char *b = read_all(path, &len);
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = h << 8 | b[i];
    assert_int_equal(h % 8, 0);
    assert_int_equal(len, 8 + h + 14 * 4);
    char *hdr = calloc(1, h + 1);
    memcpy(hdr, b + 8, h);
    assert_int_equal(hdr[0], '{');
    assert_non_null(strstr(hdr, "\"Affine1.W\":{\"dtype\":\"F32\",\"shape\":[3,2],"
                                "\"data_offsets\":[0,24]}"));
    assert_non_null(strstr(hdr, "\"Affine1.b\":{\"dtype\":\"F32\",\"shape\":[2],"
                                "\"data_offsets\":[24,32]}"));
    assert_non_null(strstr(hdr, "\"Affine2.W\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                                "\"data_offsets\":[32,48]}"));
    assert_non_null(strstr(hdr, "\"Affine2.b\":{\"dtype\":\"F32\",\"shape\":[2],"
                                "\"data_offsets\":[48,56]}"));
    assert_non_null(strstr(hdr, "\"badak.format\":\"1\""));
    assert_non_null(strstr(hdr, "\"badak.net\":\""));
    assert_null(strstr(hdr, "Relu1.")); /* no parameters, no tensor */
    /* padding: spaces after the closing brace */
    size_t jl = strlen(hdr);
    while (jl && hdr[jl - 1] == ' ')
        jl--;
    assert_int_equal(hdr[jl - 1], '}');
    assert_true(h - jl < 8);
    /* the data: 1.0f = 00 00 80 3f, little-endian, in order */
    const unsigned char *d = b + 8 + h;
    for (int i = 0; i < 14; i++) {
        float v = (float)(i + 1);
        uint32_t u;
        memcpy(&u, &v, 4);
        assert_int_equal(d[4 * i], u & 0xff);
        assert_int_equal(d[4 * i + 1], (u >> 8) & 0xff);
        assert_int_equal(d[4 * i + 2], (u >> 16) & 0xff);
        assert_int_equal(d[4 * i + 3], u >> 24);
    }
    assert_int_equal(d[0], 0x00);
    assert_int_equal(d[3], 0x3f); /* 1.0f */
    /* no temporary file left behind */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", g_dir);
    assert_int_not_equal(system(cmd), 0);
    free(hdr);
    free(b);
    bd_net_free(net);
}

/* ------------------------------------------------------- corrupt files */

/* A valid small model file as (header JSON, data); each test mutates one
 * thing and writes the file back. */
typedef struct parts {
    cJSON *root;
    unsigned char *data;
    size_t dlen;
} parts;

static void good_parts(parts *p)
{
    bd_net *net = NULL;
    assert_ok(bd_net_create(&net, 1, 1, 3));
    assert_ok(bd_net_add_affine(net, 2));
    assert_ok(bd_net_add_relu(net));
    assert_ok(bd_net_add_affine(net, 2));
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_STD, 0.5f}, &r));
    const char *path = tmp_path("good.safetensors");
    assert_ok(bd_model_save(net, path, NULL));
    bd_net_free(net);
    size_t len;
    unsigned char *b = read_all(path, &len);
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = h << 8 | b[i];
    p->root = cJSON_ParseWithLength((const char *)b + 8, h);
    assert_non_null(p->root);
    p->dlen = len - 8 - h;
    p->data = malloc(p->dlen + 64);
    memcpy(p->data, b + 8 + h, p->dlen);
    free(b);
}

/* header text + data into a file; the length field says hlen */
static const char *put_file(const char *hdr, uint64_t hlen, const unsigned char *data, size_t dlen)
{
    const char *path = tmp_path("bad.safetensors");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char l8[8];
    for (int i = 0; i < 8; i++)
        l8[i] = (unsigned char)(hlen >> (8 * i));
    fwrite(l8, 1, 8, f);
    fwrite(hdr, 1, strlen(hdr), f);
    if (dlen)
        fwrite(data, 1, dlen, f);
    fclose(f);
    return path;
}

static const char *put_parts(parts *p)
{
    char *js = cJSON_PrintUnformatted(p->root);
    const char *path = put_file(js, strlen(js), p->data, p->dlen);
    free(js);
    cJSON_Delete(p->root);
    free(p->data);
    return path;
}

static void expect_bad(const char *path, const char *sub)
{
    bd_net *net = NULL;
    bd_status s = bd_model_load(&net, path, NULL);
    if (s != BD_ERR_FORMAT)
        fail_msg("loading a bad file gave %s (%s), expected BD_ERR_FORMAT with \"%s\"",
                 bd_status_name(s), bd_errmsg(), sub);
    if (!strstr(bd_errmsg(), sub))
        fail_msg("message \"%s\" lacks \"%s\"", bd_errmsg(), sub);
    if (!strstr(bd_errmsg(), "bad.safetensors"))
        fail_msg("message \"%s\" does not name the file", bd_errmsg());
    assert_null(net); /* nothing left allocated */
}

static cJSON *entry(parts *p, const char *name) { return cJSON_GetObjectItem(p->root, name); }

static void set_offsets(cJSON *e, double b, double en)
{
    cJSON *o = cJSON_GetObjectItem(e, "data_offsets");
    cJSON_SetNumberValue(cJSON_GetArrayItem(o, 0), b);
    cJSON_SetNumberValue(cJSON_GetArrayItem(o, 1), en);
}

static void bad_too_short(void **st)
{
    write_all(tmp_path("bad.safetensors"), "\x10\0\0", 3);
    expect_bad(tmp_path("bad.safetensors"), "too short for a safetensors file");
}

static void bad_header_huge(void **st)
{
    expect_bad(put_file("{}", (uint64_t)1 << 40, NULL, 0), "over the 104857600-byte limit");
}

static void bad_header_past_end(void **st)
{
    expect_bad(put_file("{\"a\":1}", 4000, NULL, 0), "runs past the end of the file");
}

static void bad_json(void **st)
{
    expect_bad(put_file("{\"Affine1.W\": [1, 2", 19, NULL, 0), "not well-formed JSON");
}

static void bad_not_object(void **st)
{
    expect_bad(put_file("[1, 2, 3]", 9, NULL, 0), "JSON but not an object");
}

static void bad_garbage_after_json(void **st)
{
    expect_bad(put_file("{} xx", 5, NULL, 0), "bytes after its JSON object");
}

static void bad_dtype(void **st)
{
    parts p;
    good_parts(&p);
    cJSON_ReplaceItemInObject(entry(&p, "Affine1.b"), "dtype", cJSON_CreateString("F16"));
    expect_bad(put_parts(&p), "tensor 'Affine1.b': dtype 'F16' is not supported");
}

static void bad_negative_shape(void **st)
{
    parts p;
    good_parts(&p);
    cJSON_SetNumberValue(cJSON_GetArrayItem(cJSON_GetObjectItem(entry(&p, "Affine2.W"), "shape"), 0),
                         -2);
    expect_bad(put_parts(&p), "tensor 'Affine2.W': shape entry 0 is not an integer");
}

static void bad_shape_vs_bytes(void **st)
{
    parts p;
    good_parts(&p);
    cJSON_SetNumberValue(cJSON_GetArrayItem(cJSON_GetObjectItem(entry(&p, "Affine1.W"), "shape"), 1),
                         3);
    expect_bad(put_parts(&p), "tensor 'Affine1.W': shape holds 36 bytes but data_offsets [0, 24] "
                              "span 24");
}

static void bad_offsets_outside(void **st)
{
    parts p;
    good_parts(&p);
    set_offsets(entry(&p, "Affine2.b"), 48, 1048);
    cJSON_ReplaceItemInObject(entry(&p, "Affine2.b"), "shape", cJSON_CreateIntArray((int[]){250}, 1));
    expect_bad(put_parts(&p), "outside the data area of 56 bytes");
}

static void bad_overlap(void **st)
{
    parts p;
    good_parts(&p);
    /* Affine1.b [24,32) moved onto Affine1.W's bytes */
    set_offsets(entry(&p, "Affine1.b"), 16, 24);
    expect_bad(put_parts(&p), "overlaps tensor");
}

static void bad_gap(void **st)
{
    parts p;
    good_parts(&p);
    cJSON_DeleteItemFromObject(p.root, "Affine1.b");
    expect_bad(put_parts(&p), "gap of 8 bytes before tensor 'Affine2.W'");
}

static void bad_trailing(void **st)
{
    parts p;
    good_parts(&p);
    memcpy(p.data + p.dlen, "GARBAGE!", 8);
    p.dlen += 8;
    expect_bad(put_parts(&p), "8 bytes of trailing data after the last tensor");
}

static void bad_missing_tensor(void **st)
{
    parts p;
    good_parts(&p);
    /* drop the last tensor and its bytes: the file itself is consistent */
    cJSON_DeleteItemFromObject(p.root, "Affine2.b");
    p.dlen -= 8;
    expect_bad(put_parts(&p), "tensor 'Affine2.b' is missing");
}

static void bad_unknown_tensor(void **st)
{
    parts p;
    good_parts(&p);
    cJSON *e = cJSON_Duplicate(entry(&p, "Affine2.b"), 1);
    set_offsets(e, 56, 64);
    cJSON_AddItemToObject(p.root, "Affine3.b", e);
    memset(p.data + p.dlen, 0, 8);
    p.dlen += 8;
    expect_bad(put_parts(&p), "unknown tensor 'Affine3.b'");
}

static void bad_shape_vs_architecture(void **st)
{
    parts p;
    good_parts(&p);
    cJSON_ReplaceItemInObject(entry(&p, "Affine1.W"), "shape", cJSON_CreateIntArray((int[]){2, 3}, 2));
    expect_bad(put_parts(&p), "tensor 'Affine1.W' has shape [2, 3], the architecture needs [3, 2]");
}

static void bad_no_architecture(void **st)
{
    parts p;
    good_parts(&p);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(p.root, "__metadata__"), "badak.net");
    expect_bad(put_parts(&p), "not a badak model");
}

static void bad_format_version(void **st)
{
    parts p;
    good_parts(&p);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(p.root, "__metadata__"), "badak.format",
                              cJSON_CreateString("2"));
    expect_bad(put_parts(&p), "badak.format '2' is not supported");
}

static void bad_metadata_not_string(void **st)
{
    parts p;
    good_parts(&p);
    cJSON_AddNumberToObject(cJSON_GetObjectItem(p.root, "__metadata__"), "badak.epochs", 3);
    expect_bad(put_parts(&p), "__metadata__ value of 'badak.epochs' is not a string");
}

static void bad_architecture_text(void **st)
{
    parts p;
    good_parts(&p);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(p.root, "__metadata__"), "badak.net",
                              cJSON_CreateString("[net]\ninput = 3\n[fc]\ntype = lstm\n"));
    expect_bad(put_parts(&p), "badak.net:4: [fc]: unknown type 'lstm'");
}

static void bad_nan_weight(void **st)
{
    parts p;
    good_parts(&p);
    float nan = NAN;
    memcpy(p.data + 4 * 3, &nan, 4);
    expect_bad(put_parts(&p), "tensor 'Affine1.W' holds a non-finite value (nan) at element 3");
}

static void bad_duplicate_tensor(void **st)
{
    parts p;
    good_parts(&p);
    /* cJSON keeps duplicate keys: a second Affine1.b entry */
    cJSON_AddItemToObject(p.root, "Affine1.b", cJSON_Duplicate(entry(&p, "Affine1.b"), 1));
    expect_bad(put_parts(&p), "tensor 'Affine1.b' appears twice");
}

static void bad_bad_metadata_value(void **st)
{
    parts p;
    good_parts(&p);
    cJSON_AddStringToObject(cJSON_GetObjectItem(p.root, "__metadata__"), "badak.epochs", "many");
    expect_bad(put_parts(&p), "'badak.epochs' = 'many' is not an integer");
}

/* an architecture far larger than the file is refused before allocating */
static void bad_architecture_too_large(void **st)
{
    parts p;
    good_parts(&p);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(p.root, "__metadata__"), "badak.net",
                              cJSON_CreateString("[net]\ninput = 10000\n[fc]\ntype = affine\n"
                                                 "units = 10000\n"));
    expect_bad(put_parts(&p), "the network needs more than 1048590 parameter and state values");
}

static void missing_file(void **st)
{
    bd_net *net = NULL;
    assert_fails(bd_model_load(&net, tmp_path("nowhere.safetensors"), NULL), BD_ERR_IO,
                 "nowhere.safetensors: cannot open");
}

/* every prefix of a valid file is refused (never a crash) */
static void truncations(void **st)
{
    bd_rng r;
    bd_rng_seed(&r, 3);
    bd_net *a = NULL;
    assert_ok(bd_net_simple_convnet(&a, 1, 8, 8, 3, &r));
    const char *path = tmp_path("conv_small.safetensors");
    assert_ok(bd_model_save(a, path, NULL));
    bd_net_free(a);
    size_t len;
    unsigned char *b = read_all(path, &len);
    for (size_t n = 0; n < len; n += 1 + n / 16) {
        bd_net *net = NULL;
        bd_status s = bd_model_load_mem(&net, b, n, "cut", NULL);
        assert_int_equal(s, BD_ERR_FORMAT);
    }
    bd_net *net = NULL;
    assert_ok(bd_model_load_mem(&net, b, len, "whole", NULL));
    bd_net_free(net);
    free(b);
}

/* ---------------------------------------------------------- transfer */

static void freeze_and_replace_head(void **st)
{
    bd_rng r;
    bd_rng_seed(&r, 11);
    bd_net *net = NULL;
    int hidden[2] = {16, 8};
    assert_ok(bd_net_mlp(&net, 6, hidden, 2, 3, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0}, &r));
    /* Affine1 Relu1 Affine2 Relu2 Affine3 */
    float w1 = bd_f32(&net->layers[0].W)[5];
    assert_ok(bd_net_replace_head(net, 5, &r));
    assert_int_equal(net->out_size, 5);
    assert_string_equal(net->layers[4].name, "Affine3");
    assert_int_equal(net->layers[4].W.shape[1], 5);
    assert_true(bd_f32(&net->layers[0].W)[5] == w1); /* kept */
    assert_fails(bd_net_freeze(net, 5), BD_ERR_ARG, "at least the last must train");
    assert_ok(bd_net_freeze(net, 2));
    assert_int_equal(bd_net_trainable_offset(net), net->layers[2].param_offset);
    assert_int_equal(bd_net_trainable_count(net), net->params.size - net->layers[2].param_offset);
    /* train: the frozen part does not move, the rest does */
    bd_dataset ds;
    make_blobs(&ds, 200, 6, 5, 0.5f, 1, 2);
    size_t np = net->params.size, off = bd_net_trainable_offset(net);
    float *before = malloc(np * sizeof(float));
    memcpy(before, net->params.data, np * sizeof(float));
    bd_optim *o = NULL;
    assert_ok(bd_optim_create(&o, "adam", NULL, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.epochs = 3;
    cfg.batch = 20;
    bd_train_result res;
    assert_ok(bd_train(net, o, &ds, NULL, &cfg, &res));
    assert_memory_equal(before, net->params.data, off * sizeof(float));
    assert_memory_not_equal(before + off, bd_f32(&net->params) + off, (np - off) * sizeof(float));
    /* frozen count travels in the model file */
    assert_ok(bd_model_save(net, tmp_path("frozen.safetensors"), NULL));
    bd_net *b = NULL;
    assert_ok(bd_model_load(&b, tmp_path("frozen.safetensors"), NULL));
    assert_int_equal(b->frozen, 2);
    bd_net_free(b);
    free(before);
    bd_optim_free(o);
    bd_dataset_free(&ds);
    bd_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(byte_layout),
        cmocka_unit_test(roundtrip_dense),
        cmocka_unit_test(roundtrip_conv),
        cmocka_unit_test(roundtrip_batchnorm2d),
        cmocka_unit_test(roundtrip_resnet),
        cmocka_unit_test(bad_too_short),
        cmocka_unit_test(bad_header_huge),
        cmocka_unit_test(bad_header_past_end),
        cmocka_unit_test(bad_json),
        cmocka_unit_test(bad_not_object),
        cmocka_unit_test(bad_garbage_after_json),
        cmocka_unit_test(bad_dtype),
        cmocka_unit_test(bad_negative_shape),
        cmocka_unit_test(bad_shape_vs_bytes),
        cmocka_unit_test(bad_offsets_outside),
        cmocka_unit_test(bad_overlap),
        cmocka_unit_test(bad_gap),
        cmocka_unit_test(bad_trailing),
        cmocka_unit_test(bad_missing_tensor),
        cmocka_unit_test(bad_unknown_tensor),
        cmocka_unit_test(bad_shape_vs_architecture),
        cmocka_unit_test(bad_no_architecture),
        cmocka_unit_test(bad_format_version),
        cmocka_unit_test(bad_metadata_not_string),
        cmocka_unit_test(bad_architecture_text),
        cmocka_unit_test(bad_nan_weight),
        cmocka_unit_test(bad_duplicate_tensor),
        cmocka_unit_test(bad_bad_metadata_value),
        cmocka_unit_test(bad_architecture_too_large),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(truncations),
        cmocka_unit_test(freeze_and_replace_head),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
