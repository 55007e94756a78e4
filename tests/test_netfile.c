/* test_netfile.c — network descriptions (.ini): parsing, the messages of bad
 * files (file, line and problem), and writing a network back out. */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

#include <fcntl.h>

static const char *SIMPLE =
    "; the book's SimpleConvNet\n"
    "[net]\n"
    "input = 1x28x28\n"
    "init = he\n"
    "\n"
    "[conv1]\n"
    "type = conv\n"
    "filters = 30\n"
    "kernel = 5\n"
    "[relu1]\n"
    "type = relu\n"
    "[pool1]\n"
    "type = maxpool\n"
    "kernel = 2\n"
    "[fc1]\n"
    "type = affine\n"
    "units = 100\n"
    "[relu2]\n"
    "type = relu\n"
    "[fc2]\n"
    "type = affine\n"
    "units = 10\n";

static void same_architecture(const bd_net *a, const bd_net *b)
{
    assert_int_equal(a->nlayers, b->nlayers);
    assert_int_equal(a->in_size, b->in_size);
    assert_int_equal(a->loss, b->loss);
    assert_int_equal(bd_net_param_count(a), bd_net_param_count(b));
    assert_int_equal(a->state.size, b->state.size);
    for (int i = 0; i < a->nlayers; i++) {
        const bd_layer *x = &a->layers[i], *y = &b->layers[i];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->out_c, y->out_c);
        assert_int_equal(x->out_h, y->out_h);
        assert_int_equal(x->out_w, y->out_w);
        assert_int_equal(x->units, y->units);
        assert_int_equal(x->k, y->k);
        assert_int_equal(x->stride, y->stride);
        assert_int_equal(x->pad, y->pad);
        assert_true(x->p0 == y->p0 && x->p1 == y->p1);
    }
}

static void parses_simple_convnet(void **st)
{
    bd_rng r;
    bd_rng_seed(&r, 1);
    bd_net *a = NULL, *b = NULL;
    assert_ok(bd_net_from_ini(&a, SIMPLE, "simple.ini", 1, 28, 28, 10, &r));
    assert_ok(bd_net_simple_convnet(&b, 1, 28, 28, 10, &r));
    same_architecture(a, b);
    /* the sections name the layers */
    assert_non_null(bd_net_layer(a, "conv1"));
    assert_non_null(bd_net_layer(a, "fc2"));
    assert_int_equal(bd_net_layer(a, "pool1")->stride, 2); /* default stride = kernel */
    assert_int_equal(a->init.kind, BD_INIT_HE);
    bd_net_free(a);
    bd_net_free(b);
    /* the input shape may come from the data instead */
    const char *noinput = strstr(SIMPLE, "[conv1]");
    assert_ok(bd_net_from_ini(&a, noinput, "x.ini", 1, 28, 28, 10, &r));
    assert_int_equal(a->in_size, 784);
    bd_net_free(a);
}

/* to_ini -> from_ini gives the same network, and writing it again gives the
 * same text, for every preset and a dense network using every option. */
static void round_trips(void **st)
{
    bd_rng r;
    bd_rng_seed(&r, 2);
    for (int which = 0; which < 4; which++) {
        bd_net *a = NULL, *b = NULL;
        if (which == 0)
            assert_ok(bd_net_simple_convnet(&a, 1, 28, 28, 10, &r));
        else if (which == 1)
            assert_ok(bd_net_deep_convnet(&a, 1, 28, 28, 10, &r));
        else if (which == 2)
            assert_ok(bd_net_resnet(&a, 3, 16, 16, 7, &r));
        else {
            assert_ok(bd_net_create(&a, 1, 1, 20));
            assert_ok(bd_net_add_affine(a, 8));
            assert_ok(bd_net_add_with(a, BD_LAYER_BATCHNORM, 0, 0.8f, 1e-6f));
            assert_ok(bd_net_add_with(a, BD_LAYER_LEAKY_RELU, 0, 0.2f, 0));
            assert_ok(bd_net_add_with(a, BD_LAYER_DROPOUT, 0, 0.3f, 0));
            assert_ok(bd_net_add_affine(a, 6));
            assert_ok(bd_net_add_with(a, BD_LAYER_RRELU, 0, 0.1f, 0.2f));
            assert_ok(bd_net_add(a, BD_LAYER_PRELU, 0));
            assert_ok(bd_net_add_with(a, BD_LAYER_ELU, 0, 0.5f, 0));
            assert_ok(bd_net_add(a, BD_LAYER_SIGMOID, 0));
            assert_ok(bd_net_add(a, BD_LAYER_TANH, 0));
            assert_ok(bd_net_add_affine(a, 3));
            bd_net_set_loss(a, BD_LOSS_MSE);
            assert_ok(bd_net_build(a, (bd_init){BD_INIT_STD, 0.05f}, &r));
        }
        char *t1 = NULL, *t2 = NULL;
        assert_ok(bd_net_to_ini(a, &t1));
        assert_ok(bd_net_from_ini(&b, t1, "written.ini", 0, 0, 0, 0, &r));
        same_architecture(a, b);
        for (int i = 0; i < a->nlayers; i++)
            assert_string_equal(a->layers[i].name, b->layers[i].name);
        assert_int_equal(a->init.kind, b->init.kind);
        assert_ok(bd_net_to_ini(b, &t2));
        assert_string_equal(t1, t2);
        free(t1);
        free(t2);
        bd_net_free(a);
        bd_net_free(b);
    }
}

/* Each bad description fails with BD_ERR_FORMAT (or SHAPE) and a message
 * with the file, the line and the problem. */
static void bad_files(void **st)
{
    static const struct {
        const char *text, *msg;
        bd_status status;
    } cases[] = {
        {"[c1]\ntype = convv\n", "net.ini:2: [c1]: unknown type 'convv'", BD_ERR_FORMAT},
        {"[c1]\ntype = conv\nfilters = 3\nkernel = 3\nsize = 4\n",
         "net.ini:5: [c1]: 'size' is not a key of a conv layer (expected type, filters, kernel, "
         "stride, pad)", BD_ERR_FORMAT},
        {"[a]\ntype = relu\n[b]\n[c]\ntype = affine\nunits = 3\n",
         "net.ini:3: [b] is empty: every layer section needs 'type = ...'", BD_ERR_FORMAT},
        {"[a]\nunits = 3\ntype = affine\n", "net.ini:2: [a]: 'type' must come first",
         BD_ERR_FORMAT},
        {"[a]\ntype = relu\n[a]\ntype = relu\n", "net.ini:4: [a]: 'type' given twice",
         BD_ERR_FORMAT},
        {"[a]\ntype = relu\n[b]\ntype = relu\n[a]\ntype = relu\n",
         "net.ini:6: [a]: a second layer with that name", BD_ERR_FORMAT},
        {"[fc]\ntype = affine\nunits = ten\n", "net.ini:3: [fc]: units 'ten' must be an integer >= 1",
         BD_ERR_FORMAT},
        {"[fc]\ntype = affine\nunits = 0\n", "units '0' must be an integer >= 1", BD_ERR_FORMAT},
        {"[d]\ntype = dropout\np = -1\n", "net.ini:3: [d]: p '-1' must be a number > 0",
         BD_ERR_FORMAT},
        {"[net]\ninput = 1x4x4\n[c]\ntype = conv\nfilters = 2\nkernel = 9\n[fc]\ntype = affine\n"
         "units = 10\n",
         "net.ini:3: c: kernel 9 larger than input 4x4 + padding 0", BD_ERR_SHAPE},
        {"[net]\ninput = 1x4x4\n[fc]\ntype = affine\nunits = 5\n",
         "net.ini:3: the last layer [fc] gives 5 outputs but the data needs 10", BD_ERR_SHAPE},
        {"[net]\ninput = 3x4x4\n[fc]\ntype = affine\nunits = 10\n",
         "net.ini:1: input 3x4x4 but the data has 1x4x4", BD_ERR_SHAPE},
        {"[net]\ninput = 1x4\n", "net.ini: no layers", BD_ERR_FORMAT},
        {"[net]\ninput = one\n[fc]\ntype=affine\nunits=10\n",
         "net.ini:2: [net]: input 'one' is not a shape", BD_ERR_FORMAT},
        {"[net]\nlos = mse\n", "net.ini:2: [net]: unknown key 'los'", BD_ERR_FORMAT},
        {"[net]\nloss = hinge\n", "net.ini:2: [net]: unknown loss 'hinge'", BD_ERR_FORMAT},
        {"units = 3\n", "net.ini:1: 'units' outside any section", BD_ERR_FORMAT},
        {"[fc]\ntype = affine\nunits 3\n", "net.ini:3: not INI syntax", BD_ERR_FORMAT},
        {"[a]\ntype = relu\n[net]\ninput = 1x4x4\n", "net.ini:4: [net] must come before the layers",
         BD_ERR_FORMAT},
    };
    bd_rng r;
    bd_rng_seed(&r, 3);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bd_net *net = NULL;
        bd_status s = bd_net_from_ini(&net, cases[i].text, "net.ini", 1, 4, 4, 10, &r);
        if (s != cases[i].status || !strstr(bd_errmsg(), cases[i].msg))
            fail_msg("case %zu: %s \"%s\", expected %s \"%s\"", i, bd_status_name(s), bd_errmsg(),
                     bd_status_name(cases[i].status), cases[i].msg);
        assert_null(net); /* nothing left allocated */
    }
    /* no input shape from the file or the caller */
    bd_net *net = NULL;
    assert_fails(bd_net_from_ini(&net, "[fc]\ntype=affine\nunits=2\n", "n.ini", 0, 0, 0, 0, &r),
                 BD_ERR_FORMAT, "n.ini: no input shape");
}

static void load_files(void **st)
{
    bd_rng r;
    bd_rng_seed(&r, 4);
    bd_net *net = NULL;
    assert_fails(bd_net_load_ini(&net, "/nonexistent/net.ini", 1, 28, 28, 10, &r), BD_ERR_IO,
                 "/nonexistent/net.ini: cannot open");
    char path[] = "/tmp/badak_netXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, SIMPLE, strlen(SIMPLE)), (ssize_t)strlen(SIMPLE));
    close(fd);
    assert_ok(bd_net_load_ini(&net, path, 1, 28, 28, 10, &r));
    assert_int_equal(bd_net_param_count(net), 780 + 432100 + 1010);
    bd_net_free(net);
    /* a binary file */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "[a]\0\1\2", 6), 6);
    close(fd);
    assert_fails(bd_net_load_ini(&net, path, 1, 28, 28, 10, &r), BD_ERR_FORMAT, "NUL byte");
    unlink(path);
}

/* A .ini path works wherever a model name does. */
static void spec_uses_ini(void **st)
{
    char path[] = "/tmp/badak_specXXXXXX.ini";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    const char *t = "[c]\ntype=conv\nfilters=2\nkernel=3\n[g]\ntype=gap\n[fc]\ntype=affine\n"
                    "units=3\n";
    assert_int_equal(write(fd, t, strlen(t)), (ssize_t)strlen(t));
    close(fd);
    bd_net_spec s;
    bd_net_spec_default(&s);
    snprintf(s.model, sizeof s.model, "%s", path);
    s.weight_decay = 0.01f;
    bd_rng r;
    bd_rng_seed(&r, 5);
    bd_net *net = NULL;
    assert_ok(bd_net_from_spec(&net, &s, 1, 6, 6, 3, &r));
    assert_int_equal(net->nlayers, 3);
    assert_true(net->weight_decay == 0.01f);
    bd_net_free(net);
    s.nhidden = 1;
    s.hidden[0] = 5;
    assert_fails(bd_net_from_spec(&net, &s, 1, 6, 6, 3, &r), BD_ERR_ARG,
                 "are for two_layer and mlp");
    unlink(path);
}

static void shapes(void **st)
{
    int c, h, w;
    assert_ok(bd_parse_shape("784", &c, &h, &w));
    assert_true(c == 1 && h == 1 && w == 784);
    assert_ok(bd_parse_shape("28x27", &c, &h, &w));
    assert_true(c == 1 && h == 28 && w == 27);
    assert_ok(bd_parse_shape("3,8,9", &c, &h, &w));
    assert_true(c == 3 && h == 8 && w == 9);
    const char *bad[] = {"", "x", "5x", "1x0x3", "1x2x3x4", "-4", "2y3", "1x2097152"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_fails(bd_parse_shape(bad[i], &c, &h, &w), BD_ERR_ARG, "is not a shape");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_simple_convnet),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(bad_files),
        cmocka_unit_test(load_files),
        cmocka_unit_test(spec_uses_ini),
        cmocka_unit_test(shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
