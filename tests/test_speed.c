/* test_speed.c — the onecycle learning-rate schedule and the [train]
 * section of network descriptions (src/net/netfile_train.c). */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

static void onecycle_shape(void **st)
{
    const long total = 1000;
    const float lr = 0.01f;
    /* warm-up: from lr/25, linearly, to lr at 20% of the run */
    assert_close(bd_lr_onecycle(lr, 0, total, 0.2f), lr / 25, 1e-9);
    assert_close(bd_lr_onecycle(lr, 100, total, 0.2f), lr / 25 + (lr - lr / 25) * 0.5, 1e-7);
    float prev = 0;
    for (long it = 0; it < 200; it++) {
        float r = bd_lr_onecycle(lr, it, total, 0.2f);
        assert_true(r > prev);
        prev = r;
    }
    /* then a half cosine: never above lr, decreasing, ending near 0 but > 0 */
    prev = bd_lr_onecycle(lr, 200, total, 0.2f);
    assert_close(prev, lr, 1e-6);
    for (long it = 201; it < total; it++) {
        float r = bd_lr_onecycle(lr, it, total, 0.2f);
        assert_true(r < prev && r > 0);
        prev = r;
    }
    assert_true(prev < lr * 1e-4);
    /* half way through the cosine part: lr / 2 */
    assert_close(bd_lr_onecycle(lr, 599, total, 0.2f), lr / 2, 1e-5);
    /* 0 (or nonsense) is the default warm-up, 0.15 */
    assert_close(bd_lr_onecycle(lr, 150, total, 0), lr, 1e-6);
    assert_close(bd_lr_onecycle(lr, 150, total, 7), lr, 1e-6);
    bd_lr_schedule s;
    assert_ok(bd_parse_schedule("OneCycle", &s));
    assert_int_equal(s, BD_LR_ONECYCLE);
    assert_string_equal(bd_schedule_name(BD_LR_ONECYCLE), "onecycle");
}

static const char *NET =
    "; a network with its training options\n"
    "[net]\n"
    "input = 1x4x4\n"
    "[fc1]\n"
    "type = affine\n"
    "units = 3\n"
    "[train]\n"
    "optimizer = adam   ; the optimizer\n"
    "LR_Schedule=onecycle\n"
    "\n"
    "; comment\n"
    "augment = shift:1,rotate\n"
    "[fc2]\n"
    "type = affine\n"
    "units = 2\n";

static void train_section_listed(void **st)
{
    bd_train_option kv[8];
    int n = -1;
    assert_ok(bd_net_train_options(NET, "n.ini", kv, 8, &n));
    assert_int_equal(n, 3);
    assert_string_equal(kv[0].key, "optimizer");
    assert_string_equal(kv[0].val, "adam");
    assert_int_equal(kv[0].line, 8);
    assert_string_equal(kv[1].key, "lr-schedule");
    assert_string_equal(kv[1].val, "onecycle");
    assert_int_equal(kv[1].line, 9);
    assert_string_equal(kv[2].val, "shift:1,rotate");
    assert_int_equal(kv[2].line, 12);
    /* the layers around the section are the network */
    bd_net *net = NULL;
    bd_rng rng;
    bd_rng_seed(&rng, 1);
    assert_ok(bd_net_from_ini(&net, NET, "n.ini", 0, 0, 0, 0, &rng));
    assert_int_equal(net->nlayers, 2);
    bd_net_free(net);
    /* no section: nothing */
    assert_ok(bd_net_train_options("[net]\ninput = 4\n[a]\ntype = relu\n", NULL, kv, 8, &n));
    assert_int_equal(n, 0);
}

static void train_section_errors(void **st)
{
    bd_train_option kv[2];
    int n;
    assert_int_equal(bd_net_train_options("[train]\nspeed = 11\n", "f.ini", kv, 2, &n),
                     BD_ERR_FORMAT);
    assert_non_null(strstr(bd_errmsg(), "f.ini:2: [train]: unknown key 'speed'"));
    assert_int_equal(bd_net_train_options("[train]\nlr = 1\nlr = 2\n", "f.ini", kv, 2, &n),
                     BD_ERR_FORMAT);
    assert_non_null(strstr(bd_errmsg(), "f.ini:3: [train]: 'lr' given twice (also line 2)"));
    assert_int_equal(bd_net_train_options("[train]\nlr = 1\n[train]\nbatch = 2\n", "f.ini", kv, 2, &n),
                     BD_ERR_FORMAT);
    assert_non_null(strstr(bd_errmsg(), "f.ini:3: [train] given twice"));
    assert_int_equal(bd_net_train_options("[train]\nlr =\n", "f.ini", kv, 2, &n), BD_ERR_FORMAT);
    assert_non_null(strstr(bd_errmsg(), "f.ini:2: [train]: lr: no value"));
    assert_int_equal(bd_net_train_options("[train]\nlr = 1\nbatch = 2\nepochs = 3\n", "f.ini", kv, 2, &n),
                     BD_ERR_FORMAT);
    assert_non_null(strstr(bd_errmsg(), "more than 2 options"));
    assert_int_equal(bd_net_load_train_options("/nonexistent/x.ini", kv, 2, &n), BD_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(onecycle_shape),
        cmocka_unit_test(train_section_listed),
        cmocka_unit_test(train_section_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
