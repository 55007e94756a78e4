/* test_harden.c — what an outside attack on badak found (issue 15), each
 * kept fixed: sizes from outside in checked arithmetic, layer parameters
 * validated once for every path, untrusted checkpoint state refused, the
 * weight guard, inputs that are not regular files, outputs that must not
 * replace device nodes, stale temporary files, the checkpoint folder lock. */
#include "testutil.h"
#include "internal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <zlib.h>

static char g_dir[256];

static int setup_dir(void **st)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/badak_harden_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_dir(void **st)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *in_dir(const char *name)
{
    static char p[4][400];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, name);
    return p[k];
}

/* ---- sizes */

static void shapes_checked(void **st)
{
    int c, h, w;
    assert_fails(bd_parse_shape("1x65536x65536", &c, &h, &w), BD_ERR_SHAPE, "too large");
    assert_fails(bd_parse_shape("46341x46341", &c, &h, &w), BD_ERR_SHAPE, "46341 x 46341");
    assert_ok(bd_parse_shape("46340x46340", &c, &h, &w));
    bd_net *net = NULL;
    assert_fails(bd_net_create(&net, 65536, 65536, 1), BD_ERR_SHAPE, "too large");
    bd_tensor t;
    int big[2] = {65536, 65536};
    assert_fails(bd_tensor_alloc(&t, BD_F32, 2, big), BD_ERR_SHAPE, "BD_MAX_ELEMENTS");
    int64_t p;
    int64_t d[3] = {1300000, 28, 28};
    assert_ok(bd__dims_product("t", 3, d, &p));
    assert_int_equal(p, 1019200000);
}

static void ini_shapes_checked(void **st)
{
    bd_rng r;
    bd_rng_seed(&r, 1);
    bd_net *net = NULL;
    const char *a = "[net]\ninput = 1x65536x65536\n[fc]\ntype = affine\nunits = 10\n";
    assert_fails(bd_net_from_ini(&net, a, "a.ini", 0, 0, 0, 0, &r), BD_ERR_FORMAT,
                 "too large");
    /* two 100000-unit layers: 10^10 weights, refused before allocating,
     * naming the layer and the bytes */
    const char *b = "[net]\ninput = 784\n[a]\ntype = affine\nunits = 100000\n"
                    "[b]\ntype = affine\nunits = 100000\n";
    assert_fails(bd_net_from_ini(&net, b, "b.ini", 0, 0, 0, 0, &r), BD_ERR_SHAPE,
                 "b (100000 units on 100000 inputs): 10000100000 parameters");
    const char *c = "[net]\ninput = 1x28x28\n[c]\ntype = conv\nfilters = 65536\nkernel = 5\n"
                    "[g]\ntype = gap\n[f]\ntype = affine\nunits = 10\n";
    /* F x C x K x K = 2^80: a size_t count would wrap to 0 */
    const char *k = "[net]\ninput = 1048576x1x1\n[c]\ntype = conv\nfilters = 1048576\n"
                    "kernel = 1048576\npad = 524288\n";
    assert_fails(bd_net_from_ini(&net, k, "k.ini", 0, 0, 0, 0, &r), BD_ERR_SHAPE,
                 "c (1048576 filters of 1048576x1048576x1048576): about 1.21e+24");
    assert_ok(bd_net_from_ini(&net, c, "c.ini", 0, 0, 0, 0, &r));
    assert_fails(bd_net_reserve(net, 100), BD_ERR_SHAPE, "c: output for a batch of 100");
    bd_net_free(net);
}

/* ---- layer parameters: one check, for the API, INI files and the CLI */

static void layer_params_checked(void **st)
{
    bd_rng r;
    bd_rng_seed(&r, 1);
    bd_net *net = NULL;
    static const char *const bad[][2] = {
        {"[d]\ntype = dropout\np = 1\n", "dropout p 1 must be in [0, 1)"},
        {"[d]\ntype = dropout\np = 4294967296\n", "dropout p 4.29497e+09"},
        {"[r]\ntype = rrelu\nlower = 0.9\nupper = 0.1\n", "need 0 <= lower < upper"},
        {"[a]\ntype = affine\nunits = +5\n", "units '+5' must be an integer"},
        {"[b]\ntype = batchnorm\nmomentum = 1.5\n", "momentum 1.5"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[300];
        snprintf(text, sizeof text, "[net]\ninput = 8\n%s", bad[i][0]);
        bd_status s = bd_net_from_ini(&net, text, "x.ini", 0, 0, 0, 0, &r);
        if (s == BD_OK || !strstr(bd_errmsg(), bad[i][1]))
            fail_msg("%s: %s (%s)", bad[i][0], bd_status_name(s), bd_errmsg());
    }
    assert_ok(bd_net_create(&net, 1, 1, 8));
    bd_layer_conf d = {.kind = BD_LAYER_DROPOUT, .p0 = 1.0f};
    assert_fails(bd_net_add_layer(net, &d), BD_ERR_ARG, "Dropout1: dropout p 1");
    bd_net_free(net);
    bd_layer_kind k;
    float p0, p1;
    assert_fails(bd_parse_act("rrelu:0.9,0.1", &k, &p0, &p1), BD_ERR_ARG,
                 "need 0 <= lower < upper");
}

/* ---- checkpoints: untrusted state */

static void build(bd_net **out)
{
    bd_net *net = NULL;
    bd_net_spec s;
    bd_net_spec_default(&s);
    snprintf(s.model, sizeof s.model, "mlp");
    s.hidden[0] = 8, s.nhidden = 1;
    bd_rng r;
    bd_rng_seed(&r, 3);
    assert_ok(bd_net_from_spec(&net, &s, 1, 1, 4, 3, &r));
    *out = net;
}

/* train 2 epochs with Adam into folder `name`, load the checkpoint back */
static void checkpointed(const char *name, bd_net **net, bd_optim **opt, bd_train_pos *pos)
{
    bd_dataset tr;
    make_blobs(&tr, 60, 4, 3, 1.0f, 1, 5);
    bd_net *a = NULL;
    build(&a);
    bd_optim *oa = NULL;
    bd_optim_config oc = {.lr = 0.01f};
    assert_ok(bd_optim_create(&oa, "adam", &oc, a));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 20;
    cfg.epochs = 2;
    cfg.checkpoint = in_dir(name);
    bd_train_result res;
    assert_ok(bd_train(a, oa, &tr, NULL, &cfg, &res));
    bd_optim_free(oa);
    bd_net_free(a);
    bd_dataset_free(&tr);
    assert_ok(bd_checkpoint_load(in_dir(name), net, opt, pos, NULL, NULL));
}

typedef void (*spoil_fn)(bd_net *net, bd_optim *opt, bd_train_pos *pos);
static void nan_moment(bd_net *n, bd_optim *o, bd_train_pos *p) { bd_f32(&o->state[0])[3] = NAN; }
static void neg_v(bd_net *n, bd_optim *o, bd_train_pos *p) { bd_f32(&o->state[1])[0] = -1.0f; }
static void big_eps(bd_net *n, bd_optim *o, bd_train_pos *p) { o->cfg.eps = 1e20f; }
static void lr_big(bd_net *n, bd_optim *o, bd_train_pos *p) { p->lr = 1e7f; }
static void t_zero(bd_net *n, bd_optim *o, bd_train_pos *p) { o->t = 0; }
static void t_huge(bd_net *n, bd_optim *o, bd_train_pos *p) { o->t = 1L << 31; }
static void beta_1(bd_net *n, bd_optim *o, bd_train_pos *p) { o->cfg.beta2 = 0.9999999f; }

static void checkpoint_state_checked(void **st)
{
    static const struct {
        spoil_fn fn;
        const char *msg;
    } cases[] = {
        {nan_moment, "optim.state0[3] is nan"}, {neg_v, "optim.state1[0] is -1"},
        {big_eps, "eps 1e+20 is outside"},      {lr_big, "lr 1e+07 is outside"},
        {t_zero, "step count t = 0"},           {t_huge, "t = 2147483648"},
        {beta_1, "beta2 1 is outside"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "ck%zu", i);
        bd_net *net = NULL;
        bd_optim *opt = NULL;
        bd_train_pos pos;
        checkpointed(name, &net, &opt, &pos);
        cases[i].fn(net, opt, &pos);
        assert_ok(bd_checkpoint_save(in_dir(name), net, opt, &pos, NULL, NULL));
        bd_optim_free(opt);
        bd_train_pos_free(&pos);
        bd_net_free(net);
        bd_status s = bd_checkpoint_load(in_dir(name), &net, &opt, &pos, NULL, NULL);
        if (s != BD_ERR_FORMAT || !strstr(bd_errmsg(), cases[i].msg))
            fail_msg("case %zu: %s: %s (want '%s')", i, bd_status_name(s), bd_errmsg(),
                     cases[i].msg);
    }
}

/* a finite loss but a NaN in the optimizer state: the step makes the
 * weights NaN; training must stop, not go on and save them */
static void weight_guard(void **st)
{
    bd_dataset tr;
    make_blobs(&tr, 40, 4, 3, 1.0f, 1, 5);
    bd_net *net = NULL;
    build(&net);
    bd_optim *opt = NULL;
    bd_optim_config oc = {.lr = 0.01f};
    assert_ok(bd_optim_create(&opt, "momentum", &oc, net));
    bd_f32(&opt->state[0])[0] = NAN;
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 20;
    cfg.iters = 1;
    bd_train_result res;
    assert_fails(bd_train(net, opt, &tr, NULL, &cfg, &res), BD_ERR_NUMERIC,
                 "weights became non-finite");
    for (size_t i = 0; i < net->params.size; i++)
        assert_true(isfinite(bd_f32(&net->params)[i]));
    bd_optim_free(opt);
    bd_net_free(net);
    bd_dataset_free(&tr);
}

/* ---- files */

static void fifo_inputs_refused(void **st)
{
    const char *f = in_dir("fifo");
    assert_int_equal(mkfifo(f, 0600), 0);
    bd_net *net = NULL;
    bd_image img;
    bd_dataset ds;
    bd_idx idx;
    bd_rng r;
    bd_rng_seed(&r, 1);
    /* each would block forever in open() before the fix */
    alarm(20);
    assert_fails(bd_model_load(&net, f, NULL), BD_ERR_IO, "FIFO");
    assert_fails(bd_image_load(f, &img), BD_ERR_IO, "FIFO");
    assert_fails(bd_csv_load(f, -1, &ds), BD_ERR_IO, "FIFO");
    assert_fails(bd_idx_read(f, &idx), BD_ERR_IO, "FIFO");
    assert_fails(bd_net_load_ini(&net, f, 0, 0, 0, 0, &r), BD_ERR_IO, "FIFO");
    assert_int_equal(mkdir(in_dir("ckf"), 0755), 0);
    assert_int_equal(mkfifo(in_dir("ckf/checkpoint.safetensors"), 0600), 0);
    bd_optim *opt = NULL;
    bd_train_pos pos;
    assert_fails(bd_checkpoint_load(in_dir("ckf"), &net, &opt, &pos, NULL, NULL), BD_ERR_IO,
                 "FIFO");
    assert_fails(bd_model_load(&net, g_dir, NULL), BD_ERR_IO, "is a folder");
    assert_fails(bd_model_load(&net, "", NULL), BD_ERR_ARG, "empty model file name");
    alarm(0);
}

static void device_outputs_refused(void **st)
{
    bd_net *net = NULL;
    build(&net);
    const char *fifo = in_dir("out.fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_fails(bd_model_save(net, fifo, NULL), BD_ERR_IO, "FIFO");
    struct stat sb;
    assert_int_equal(lstat(fifo, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode)); /* still a FIFO: not replaced */
    if (geteuid() == 0) {             /* a device node of our own, like /dev/null */
        const char *node = in_dir("null");
        assert_int_equal(mknod(node, S_IFCHR | 0666, makedev(1, 3)), 0);
        assert_fails(bd_model_save(net, node, NULL), BD_ERR_IO, "character device");
        assert_int_equal(lstat(node, &sb), 0);
        assert_true(S_ISCHR(sb.st_mode));
    }
    assert_fails(bd_model_save(net, "", NULL), BD_ERR_ARG, "empty model file name");
    assert_fails(bd_output_check(g_dir, "model"), BD_ERR_IO, "is a folder");
    /* a symlink is followed: the target is replaced, the link stays */
    const char *target = in_dir("real.safetensors"), *link = in_dir("link.safetensors");
    assert_int_equal(symlink("real.safetensors", link), 0);
    assert_fails(bd_model_save(net, link, NULL), BD_ERR_IO, "symlink to nothing");
    FILE *f = fopen(target, "w");
    fputs("old", f);
    fclose(f);
    assert_ok(bd_model_save(net, link, NULL));
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    bd_net *back = NULL;
    assert_ok(bd_model_load(&back, target, NULL));
    bd_net_free(back);
    const char *lf = in_dir("tofifo.safetensors");
    assert_int_equal(symlink("out.fifo", lf), 0);
    assert_fails(bd_model_save(net, lf, NULL), BD_ERR_IO, "a symlink to");
    bd_net_free(net);
}

static void stale_tmp_removed(void **st)
{
    /* a pid that cannot be alive: above the kernel's pid_max */
    const char *stale = in_dir("m.safetensors.tmp.999999999");
    const char *mine = in_dir("other.tmp.1"); /* pid 1 is alive: kept */
    FILE *f = fopen(stale, "w");
    fclose(f);
    f = fopen(mine, "w");
    fclose(f);
    bd_net *net = NULL;
    build(&net);
    assert_ok(bd_model_save(net, in_dir("m.safetensors"), NULL));
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(mine, F_OK), 0);
    bd_net_free(net);
}

static void checkpoint_folder_locked(void **st)
{
    const char *dir = in_dir("locked");
    assert_int_equal(mkdir(dir, 0755), 0);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t child = fork();
    if (child == 0) { /* another run holding the folder */
        char path[400];
        snprintf(path, sizeof path, "%s/badak.lock", dir);
        int fd = open(path, O_RDWR | O_CREAT, 0644);
        if (fd < 0 || flock(fd, LOCK_EX) != 0)
            _exit(1);
        dprintf(fd, "%ld\n", (long)getpid());
        (void)!write(p[1], "x", 1);
        pause();
        _exit(0);
    }
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    bd_dataset tr;
    make_blobs(&tr, 40, 4, 3, 1.0f, 1, 5);
    bd_net *net = NULL;
    build(&net);
    bd_optim *opt = NULL;
    assert_ok(bd_optim_create(&opt, "sgd", NULL, net));
    bd_train_config cfg;
    bd_train_config_default(&cfg);
    cfg.batch = 20;
    cfg.epochs = 1;
    cfg.checkpoint = dir;
    bd_train_result res;
    char want[64];
    snprintf(want, sizeof want, "in use by another training run (pid %ld)", (long)child);
    assert_fails(bd_train(net, opt, &tr, NULL, &cfg, &res), BD_ERR_IO, want);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_ok(bd_train(net, opt, &tr, NULL, &cfg, &res)); /* free again */
    close(p[0]);
    close(p[1]);
    bd_optim_free(opt);
    bd_net_free(net);
    bd_dataset_free(&tr);
}

/* ---- data files */

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void idx_dims_named(void **st)
{
    /* 1300000000 x 28 x 28: the product, not dimension 1, is too large */
    static const unsigned char h[] = {0, 0, 8, 3, 0x4d, 0x7c, 0x6d, 0x00, 0, 0, 0, 28,
                                      0, 0, 0, 28};
    write_file(in_dir("big.idx"), h, sizeof h);
    bd_idx idx;
    assert_fails(bd_idx_read(in_dir("big.idx"), &idx), BD_ERR_FORMAT,
                 "1300000000 x 28 x 28 is too large");
    /* a small .gz claiming 1.3 M images: refused from the gzip trailer,
     * before allocating and inflating a gigabyte */
    static const unsigned char g[] = {0, 0, 8, 3, 0, 0x13, 0xd6, 0x20, 0, 0, 0, 28,
                                      0, 0, 0, 28};
    gzFile z = gzopen(in_dir("claim.idx.gz"), "wb");
    assert_non_null(z);
    gzwrite(z, g, sizeof g);
    /* random bytes: 1 MB that stays 1 MB compressed, so deflate's best
     * ratio cannot rule the claim out; only the trailer can */
    unsigned char rnd[4096];
    bd_rng r;
    bd_rng_seed(&r, 9);
    for (int i = 0; i < 256; i++) {
        for (size_t k = 0; k < sizeof rnd; k++)
            rnd[k] = (unsigned char)bd_rng_u64(&r);
        gzwrite(z, rnd, sizeof rnd);
    }
    gzclose(z);
    assert_fails(bd_idx_read(in_dir("claim.idx.gz"), &idx), BD_ERR_FORMAT,
                 "the gzip trailer says the file inflates to 1048592");
}

/* a string literal's bytes, without its NUL */
#define WRITE_LIT(name, lit) write_file(in_dir(name), lit, sizeof lit - 1)

static void pgm_strict(void **st)
{
    bd_image img;
    WRITE_LIT("junk.pgm", "P5\n2\xb8 28\n255\n");
    assert_fails(bd_image_load(in_dir("junk.pgm"), &img), BD_ERR_FORMAT,
                 "byte 0xb8 right after the width 2");
    WRITE_LIT("extra.pgm", "P5\n2 2\n255\nabcdXYZ");
    assert_fails(bd_image_load(in_dir("extra.pgm"), &img), BD_ERR_FORMAT,
                 "3 bytes after the pixel data the header's 2x2 call for");
    WRITE_LIT("ok.pgm", "P5\n2 2\n255\nabcd");
    assert_ok(bd_image_load(in_dir("ok.pgm"), &img));
    bd_image_free(&img);
    WRITE_LIT("comment.pgm", "P2\n2#c\n 2\n255\n1 2 3 4\n");
    assert_ok(bd_image_load(in_dir("comment.pgm"), &img));
    bd_image_free(&img);
}

static void csv_strict(void **st)
{
    bd_dataset ds;
    const char *hex = "1,2,0\n1,0x10,1\n";
    write_file(in_dir("hex.csv"), hex, strlen(hex));
    assert_fails(bd_csv_load(in_dir("hex.csv"), -1, &ds), BD_ERR_FORMAT,
                 "hex.csv:2: column 2: \"0x10\" is not a number");
    const char *stray = "1,2,0\n1,3,1\n2,2,2\n5,5,999\n";
    write_file(in_dir("stray.csv"), stray, strlen(stray));
    assert_ok(bd_csv_load(in_dir("stray.csv"), -1, &ds));
    assert_fails(bd_dataset_classes(&ds, 0, NULL), BD_ERR_FORMAT,
                 "label 999 (sample 4) is far beyond the others");
    int d = 0;
    assert_ok(bd_dataset_classes(&ds, 1000, &d));
    assert_int_equal(ds.nclasses, 1000);
    assert_int_equal(d, 4);
    assert_fails(bd_dataset_classes(&ds, 500, NULL), BD_ERR_FORMAT, "not below classes = 500");
    bd_dataset_free(&ds);
}

static void model_meta_checked(void **st)
{
    bd_net *net = NULL;
    build(&net);
    bd_model_meta m;
    bd_model_meta_init(&m);
    m.test_acc = 1e20f;
    assert_ok(bd_model_save(net, in_dir("acc.safetensors"), &m));
    bd_net *back = NULL;
    assert_fails(bd_model_load(&back, in_dir("acc.safetensors"), NULL), BD_ERR_FORMAT,
                 "badak.test_accuracy 1e+20 is not an accuracy");
    bd_model_meta_init(&m);
    m.lr = 1e7f;
    assert_ok(bd_model_save(net, in_dir("lr.safetensors"), &m));
    assert_fails(bd_model_load(&back, in_dir("lr.safetensors"), NULL), BD_ERR_FORMAT,
                 "badak.lr 1e+07 is outside");
    bd_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes_checked),
        cmocka_unit_test(ini_shapes_checked),
        cmocka_unit_test(layer_params_checked),
        cmocka_unit_test(checkpoint_state_checked),
        cmocka_unit_test(weight_guard),
        cmocka_unit_test(fifo_inputs_refused),
        cmocka_unit_test(device_outputs_refused),
        cmocka_unit_test(stale_tmp_removed),
        cmocka_unit_test(checkpoint_folder_locked),
        cmocka_unit_test(idx_dims_named),
        cmocka_unit_test(pgm_strict),
        cmocka_unit_test(csv_strict),
        cmocka_unit_test(model_meta_checked),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
