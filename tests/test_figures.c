/* test_figures.c — the numbers behind `badak figure`: gradient-descent
 * paths against their closed forms and hand-computed optimizer steps,
 * histogram counts, smoothing, log reading, atomic CSV/PNG output and the
 * image grid drawn on synthetic data. */
#include "testutil.h"

#include "fig/fig.h"
#include "plot/plot.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static double quad_d(double x) { return 2 * x - 4; } /* f = x² − 4x + 6 */
static double quad(double x) { return x * x - 4 * x + 6; }
static double fn1(double x) { return 0.01 * x * x + 0.1 * x; }

/* 1-D gradient descent on x² − 4x + 6: x_k − 2 = (1 − 2 lr)^k (x_0 − 2) */
static void test_gd1d_closed_form(void **state)
{
    (void)state;
    const double lrs[3] = {0.2, 0.01, 1.0};
    for (int j = 0; j < 3; j++) {
        double xs[7];
        fig_gd1d(quad_d, 4.0, lrs[j], 6, xs);
        for (int k = 0; k <= 6; k++)
            assert_close(xs[k], 2.0 + pow(1.0 - 2.0 * lrs[j], k) * 2.0, 1e-12);
    }
    /* lr 1 oscillates between 4 and 0, never reaching the minimum at 2 */
    double xs[7];
    fig_gd1d(quad_d, 4.0, 1.0, 6, xs);
    assert_close(xs[1], 0.0, 1e-12);
    assert_close(xs[6], 4.0, 1e-12);
    /* the step rule itself, on x sin x: x1 = x0 − lr (sin x0 + x0 cos x0) */
    double ys[2];
    double (*d)(double) = NULL;
    (void)d;
    fig_gd1d(quad_d, 3.0, 0.25, 1, ys);
    assert_close(ys[1], 3.0 - 0.25 * quad_d(3.0), 1e-12);
}

/* The numerical derivative of 0.01x² + 0.1x is 0.02x + 0.1 (book 4.3.2:
 * 0.1999 at 5, 0.2999 at 10 with h = 1e-4 in float64). */
static void test_numdiff(void **state)
{
    (void)state;
    assert_close(fig_numdiff(fn1, 5.0, 1e-2f), 0.2, 1e-4);
    assert_close(fig_numdiff(fn1, 10.0, 1e-2f), 0.3, 1e-4);
    float g[2];
    fig_bowl_numgrad(3.0f, 4.0f, 1e-2f, g); /* book: [6. 8.] */
    assert_close(g[0], 6.0, 1e-3);
    assert_close(g[1], 8.0, 1e-3);
    fig_bowl_numgrad(0.0f, 2.0f, 1e-2f, g); /* [0. 4.] */
    assert_close(g[0], 0.0, 1e-3);
    assert_close(g[1], 4.0, 1e-3);
    (void)quad;
}

/* 2-D paths on f = x²/20 + y² (gradient (x/10, 2y)) from (−7, 2), each
 * optimizer's first steps computed by hand from the book's formulas. */
static void test_path2d_sgd(void **state)
{
    (void)state;
    float xy[2 * 31];
    assert_ok(fig_path2d("sgd", &(bd_optim_config){.lr = 0.95f}, fig_ellipse_grad, -7, 2, 30,
                         xy));
    /* SGD: x ← x (1 − lr/10), y ← y (1 − 2 lr) */
    for (int k = 0; k <= 30; k++) {
        assert_close(xy[2 * k], -7.0 * pow(1 - 0.095, k), 1e-4 * (1 + 7.0 * pow(0.905, k)));
        assert_close(xy[2 * k + 1], 2.0 * pow(1 - 1.9, k), 1e-4);
    }
    /* gd-2d: x0² + x1² from (−3, 4), lr 0.1: each step multiplies by 0.8 */
    float b[2 * 21];
    assert_ok(fig_path2d("sgd", &(bd_optim_config){.lr = 0.1f}, fig_bowl_grad, -3, 4, 20, b));
    for (int k = 0; k <= 20; k++) {
        assert_close(b[2 * k], -3.0 * pow(0.8, k), 1e-5);
        assert_close(b[2 * k + 1], 4.0 * pow(0.8, k), 1e-5);
    }
}

static void test_path2d_momentum_adagrad_adam(void **state)
{
    (void)state;
    float xy[2 * 3];
    /* Momentum lr 0.1, α 0.9: v1 = −lr g0, p1 = p0 + v1; v2 = α v1 − lr g1 */
    assert_ok(fig_path2d("momentum", &(bd_optim_config){.lr = 0.1f}, fig_ellipse_grad, -7, 2,
                         2, xy));
    double x = -7, y = 2, vx = 0, vy = 0;
    for (int k = 1; k <= 2; k++) {
        vx = 0.9 * vx - 0.1 * (x / 10);
        vy = 0.9 * vy - 0.1 * (2 * y);
        x += vx;
        y += vy;
        assert_close(xy[2 * k], x, 1e-5);
        assert_close(xy[2 * k + 1], y, 1e-5);
    }
    /* AdaGrad lr 1.5: h += g², p −= lr g / (√h + 1e-7); the first step is
     * lr · sign(g) on each coordinate */
    assert_ok(fig_path2d("adagrad", &(bd_optim_config){.lr = 1.5f}, fig_ellipse_grad, -7, 2, 2,
                         xy));
    assert_close(xy[2], -7 + 1.5, 1e-5);
    assert_close(xy[3], 2 - 1.5, 1e-5);
    {
        double hx = 0.49, hy = 16, gx = -5.5 / 10, gy = 2 * 0.5;
        hx += gx * gx;
        hy += gy * gy;
        assert_close(xy[4], -5.5 - 1.5 * gx / (sqrt(hx) + 1e-7), 1e-5);
        assert_close(xy[5], 0.5 - 1.5 * gy / (sqrt(hy) + 1e-7), 1e-5);
    }
    /* Adam lr 0.3: the first bias-corrected step is lr · g/|g| per coordinate */
    assert_ok(fig_path2d("adam", &(bd_optim_config){.lr = 0.3f}, fig_ellipse_grad, -7, 2, 1,
                         xy));
    assert_close(xy[2], -7 + 0.3, 1e-4);
    assert_close(xy[3], 2 - 0.3, 1e-4);
    /* RMSProp lr 0.1, ρ 0.99: h = 0.01 g², step lr g / √h = 10 lr sign(g) */
    assert_ok(fig_path2d("rmsprop", &(bd_optim_config){.lr = 0.1f}, fig_ellipse_grad, -7, 2, 1,
                         xy));
    assert_close(xy[2], -7 + 1.0, 1e-4);
    assert_close(xy[3], 2 - 1.0, 1e-4);
    /* Nesterov (book form): v = αv − lr g; p += α² v − (1 + α) lr g */
    assert_ok(fig_path2d("nesterov", &(bd_optim_config){.lr = 0.1f}, fig_ellipse_grad, -7, 2,
                         1, xy));
    double g0 = -0.7, v0 = -0.1 * g0;
    assert_close(xy[2], -7 + 0.81 * v0 - 1.9 * 0.1 * g0, 1e-5);
    /* an unknown optimizer is an error, not a path */
    assert_fails(fig_path2d("lbfgs", NULL, fig_ellipse_grad, 0, 0, 1, xy), BD_ERR_ARG,
                 "unknown optimizer");
}

/* Every layer's histogram row adds up to N·D, and the distributions show
 * what the book says: sigmoid with std 1 piles up at 0 and 1, with std 0.01
 * at 0.5; ReLU gives half zeros. */
static void test_act_hist(void **state)
{
    (void)state;
    enum { N = 200, D = 50, L = 5, BINS = 30 };
    long c[L][BINS + 2];
    const bd_init inits[4] = {{BD_INIT_STD, 1}, {BD_INIT_STD, 0.01f}, {BD_INIT_XAVIER, 0},
                              {BD_INIT_HE, 0}};
    const bd_layer_kind acts[3] = {BD_LAYER_SIGMOID, BD_LAYER_TANH, BD_LAYER_RELU};
    for (int a = 0; a < 3; a++)
        for (int w = 0; w < 4; w++) {
            double lo = acts[a] == BD_LAYER_TANH ? -1 : 0;
            assert_ok(fig_act_hist(acts[a], inits[w], N, D, L, BINS, lo, 1, 7, &c[0][0]));
            for (int l = 0; l < L; l++) {
                long sum = 0;
                for (int k = 0; k < BINS + 2; k++) {
                    assert_true(c[l][k] >= 0);
                    sum += c[l][k];
                }
                assert_int_equal(sum, (long)N * D);
            }
        }
    assert_ok(fig_act_hist(BD_LAYER_SIGMOID, inits[0], N, D, L, BINS, 0, 1, 7, &c[0][0]));
    long ends = c[4][1] + c[4][BINS], mid = 0;
    for (int k = 2; k < BINS; k++)
        mid += c[4][k];
    assert_true(ends > mid); /* saturated at 0 and 1 */
    assert_ok(fig_act_hist(BD_LAYER_SIGMOID, inits[1], N, D, L, BINS, 0, 1, 7, &c[0][0]));
    assert_true(c[4][BINS / 2] + c[4][BINS / 2 + 1] > (long)N * D * 9 / 10); /* all near 0.5 */
    assert_ok(fig_act_hist(BD_LAYER_RELU, inits[3], N, D, L, BINS, 0, 1, 7, &c[0][0]));
    assert_true(c[0][1] > (long)N * D * 4 / 10 && c[0][1] < (long)N * D * 6 / 10);
    assert_fails(fig_act_hist(BD_LAYER_ELU, inits[0], N, D, L, BINS, 0, 1, 7, &c[0][0]),
                 BD_ERR_ARG, "not sigmoid");
}

static void test_act_curve(void **state)
{
    (void)state;
    float x[5] = {-2, -0.5f, 0.5f, 1, 3}, y[5], dy[5];
    assert_ok(fig_act_curve(BD_LAYER_SIGMOID, 0, x, 5, y, dy));
    for (int i = 0; i < 5; i++) {
        double s = 1 / (1 + exp(-x[i]));
        assert_close(y[i], s, 1e-6);
        assert_close(dy[i], s * (1 - s), 1e-6);
    }
    assert_ok(fig_act_curve(BD_LAYER_LEAKY_RELU, 0.1f, x, 5, y, dy));
    assert_close(y[0], -0.2, 1e-6);
    assert_close(dy[0], 0.1, 1e-6);
    assert_close(dy[4], 1.0, 1e-6);
    assert_ok(fig_act_curve(BD_LAYER_ELU, 1.0f, x, 5, y, dy));
    assert_close(y[0], exp(-2.0) - 1, 1e-6);
    assert_close(dy[0], exp(-2.0), 1e-6);
    assert_ok(fig_act_curve(BD_LAYER_TANH, 0, x, 5, y, dy));
    assert_close(dy[3], 1 - tanh(1.0) * tanh(1.0), 1e-6);
}

/* The book's smooth_curve keeps the length, keeps constants constant, and
 * on a line away from the ends returns the line (a symmetric window). */
static void test_smooth(void **state)
{
    (void)state;
    enum { N = 40 };
    float x[N], y[N];
    for (int i = 0; i < N; i++)
        x[i] = 3.0f;
    fig_smooth(x, N, y);
    for (int i = 0; i < N; i++)
        assert_close(y[i], 3.0, 1e-5);
    for (int i = 0; i < N; i++)
        x[i] = (float)i;
    fig_smooth(x, N, y);
    for (int i = 5; i < N - 5; i++)
        assert_close(y[i], i, 1e-4);
    /* numpy: smooth_curve(np.arange(40.))[0] = 2.2496 (the start mirrors
     * x[1..10] without x[0], so it is pulled up) */
    assert_true(y[0] > 1.5 && y[0] < 3.0);
    /* a spike is spread out: lower peak, same total */
    for (int i = 0; i < N; i++)
        x[i] = i == 20 ? 11.0f : 0.0f;
    fig_smooth(x, N, y);
    double sum = 0;
    for (int i = 0; i < N; i++)
        sum += y[i];
    assert_close(sum, 11.0, 1e-4);
    assert_true(y[20] < 11.0f && y[20] > 1.0f);
}

/* A `badak train --log` CSV read back; a bad one names the file and line. */
static void test_read_log(void **state)
{
    (void)state;
    char dir[] = "/tmp/badak_fig_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/run.csv", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "kind,epoch,iter,loss,train_acc,test_acc,seconds,val_acc,val_loss,lr\n"
               "iter,1,1,2.3,,,,,,\niter,1,2,2.1,,,,,,\n"
               "epoch,1,2,2.2,0.5,0.45,0.1,-1,-1,0.1\niter,2,3,1.5,,,,,,\n"
               "epoch,2,3,1.5,0.7,0.65,0.2,-1,-1,0.1\n");
    fclose(f);
    fig_run r;
    assert_ok(fig_read_log(path, &r));
    assert_int_equal(r.iters, 3);
    assert_int_equal(r.epochs, 2);
    assert_close(r.loss[1], 2.1, 1e-6);
    assert_close(r.train_acc[1], 0.7, 1e-6);
    assert_close(r.test_acc[0], 0.45, 1e-6);
    assert_int_equal(r.epoch_iter[1], 3);
    fig_run_free(&r);
    f = fopen(path, "w");
    fprintf(f, "kind,epoch,iter,loss,train_acc,test_acc\niter,1,1,abc,,\n");
    fclose(f);
    assert_fails(fig_read_log(path, &r), BD_ERR_FORMAT, "run.csv:2");
    f = fopen(path, "w");
    fprintf(f, "a,b\n1,2\n");
    fclose(f);
    assert_fails(fig_read_log(path, &r), BD_ERR_FORMAT, "not a `badak train --log` CSV");
    remove(path);
    assert_fails(fig_read_log(path, &r), BD_ERR_IO, "run.csv");
    rmdir(dir);
}

/* Training runs record one loss per iteration and the epoch accuracies. */
static void test_train_run(void **state)
{
    (void)state;
    bd_dataset ds;
    make_blobs(&ds, 200, 4, 3, 0.5f, 1, 2);
    bd_net_spec spec;
    bd_net_spec_default(&spec);
    snprintf(spec.model, sizeof spec.model, "mlp");
    spec.nhidden = 1;
    spec.hidden[0] = 16;
    bd_train_config tc;
    bd_train_config_default(&tc);
    tc.batch = 20;
    tc.epochs = 3;
    fig_run r;
    assert_ok(fig_train_run(&spec, "adam", &(bd_optim_config){.lr = 0.01f}, &ds, NULL, &tc, 1,
                            &r));
    assert_int_equal(r.iters, 30);
    assert_int_equal(r.epochs, 3);
    assert_true(r.loss[29] < r.loss[0]);
    assert_true(r.train_acc[2] > 0.5f);
    assert_close(r.test_acc[0], -1, 0);
    /* the same seeds give the same run */
    fig_run r2;
    assert_ok(fig_train_run(&spec, "adam", &(bd_optim_config){.lr = 0.01f}, &ds, NULL, &tc, 1,
                            &r2));
    assert_memory_equal(r.loss, r2.loss, sizeof(float) * 30);
    fig_run_free(&r);
    fig_run_free(&r2);
    bd_dataset_free(&ds);
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* CSV and PNG files appear whole under their names, with no temporary
 * file left; the image grid draws synthetic filters. */
static void test_outputs(void **state)
{
    (void)state;
    char dir[] = "/tmp/badak_fig_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], tmp[300];
    snprintf(path, sizeof path, "%s/a.csv", dir);
    fig_csv c;
    assert_ok(fig_csv_open(&c, path, "x,y"));
    fig_csv_row(&c, "%d,%d", 1, 2);
    snprintf(tmp, sizeof tmp, "%s/.a.csv.tmp", dir);
    assert_true(file_size(path) < 0 && file_size(tmp) >= 0); /* not there until closed */
    assert_ok(fig_csv_close(&c));
    assert_int_equal(file_size(path), 8);
    assert_true(file_size(tmp) < 0);

    /* 16 synthetic 5x5 "filters": stripes at different angles and scales */
    enum { n = 16, h = 5, w = 5 };
    float imgs[n * h * w];
    for (int k = 0; k < n; k++)
        for (int r = 0; r < h; r++)
            for (int q = 0; q < w; q++)
                imgs[(k * h + r) * w + q] = (float)((k + 1) * sin(0.4 * k * r + 0.9 * q) - k);
    snprintf(path, sizeof path, "%s/grid.png", dir);
    assert_int_equal(plot_image_grid(path, imgs, n, h, w, "synthetic filters"), 0);
    assert_true(file_size(path) > 1000);
    FILE *f = fopen(path, "rb");
    unsigned char sig[8] = {0};
    assert_int_equal(fread(sig, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    remove(path);
    /* a constant image (min = max) must not divide by zero; 3 images of 28x28 */
    float flat[3 * 28 * 28];
    for (int i = 0; i < 3 * 28 * 28; i++)
        flat[i] = i < 28 * 28 ? 0.5f : (float)(i % 28);
    assert_int_equal(plot_image_grid(path, flat, 3, 28, 28, "flat"), 0);
    assert_true(file_size(path) > 0);
    remove(path);
    assert_int_equal(plot_image_grid(path, flat, 0, 28, 28, "none"), -1);
    assert_true(strstr(bd_errmsg(), "nothing to draw") != NULL);
    snprintf(path, sizeof path, "%s/a.csv", dir);
    remove(path);
    rmdir(dir);
}


/* plot_images: image row 0 at the top (the first row was lost once: PLplot
 * takes values at cell corners), reversed gray, a fixed 0..1 range. */
static void test_image_rows(void **state)
{
    (void)state;
    char dir[] = "/tmp/badak_fig_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/rows.png", dir);
    float im[5 * 5];
    for (int i = 0; i < 25; i++)
        im[i] = i < 5 ? 1.0f : 0.0f; /* the top row white, the rest black */
    for (int rev = 0; rev < 2; rev++) {
        plot_page pg;
        assert_ok(plot_open(&pg, path, 200, 200, 0, NULL));
        plot_images(&(plot_imgs){.px = im, .n = 1, .h = 5, .w = 5, .cols = 1, .reversed = rev,
                                 .lo = 0, .hi = 1});
        assert_ok(plot_close(&pg));
        bd_image img;
        assert_ok(bd_image_load(path, &img));
        /* the image is about 180 px square, centred: its top row spans
         * y 10..46, the bottom one 154..190 */
        float top = img.px[25 * img.w + 100], bottom = img.px[175 * img.w + 100];
        assert_true(rev ? top < 0.1f : top > 0.9f);
        assert_true(rev ? bottom > 0.9f : bottom < 0.1f);
        bd_image_free(&img);
    }
    remove(path);
    rmdir(dir);
}

/* A page titled `text` written to path (the child of test_korean). */
static int render_title(const char *path, const char *text)
{
    plot_page pg;
    if (plot_open(&pg, path, 360, 70, 0, text) != BD_OK)
        return 1;
    return plot_close(&pg) != BD_OK;
}

/* Render `text` in a new process of this program with FONTCONFIG_FILE set
 * to fcfile (NULL: the system's fonts); fontconfig reads it only once per
 * process, hence the exec. */
static void render_in_child(const char *path, const char *text, const char *fcfile)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (fcfile)
            setenv("FONTCONFIG_FILE", fcfile, 1);
        execl("/proc/self/exe", "test_figures", "--render-title", path, text, (char *)NULL);
        _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* --lang ko: a Korean title must come out as Hangul, not as the boxes that
 * stand for missing glyphs. The reference: the same title rendered with
 * fontconfig shown only the DejaVu fonts (no Hangul), i.e. boxes. With a
 * CJK font installed the two differ in many pixels; without one they are
 * the same boxes. */
static void test_korean(void **state)
{
    (void)state;
    char dir[] = "/tmp/badak_fig_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char ko[256], tofu[256], conf[256];
    snprintf(ko, sizeof ko, "%s/ko.png", dir);
    snprintf(tofu, sizeof tofu, "%s/tofu.png", dir);
    snprintf(conf, sizeof conf, "%s/fonts.conf", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n"
               "<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir>"
               "<cachedir>%s/cache</cachedir></fontconfig>\n", dir);
    fclose(f);
    const char *text = "훈련 정확도와 손실";
    render_in_child(ko, text, NULL);
    render_in_child(tofu, text, conf);
    bd_image a, b;
    assert_ok(bd_image_load(ko, &a));
    assert_ok(bd_image_load(tofu, &b));
    assert_int_equal(a.w * a.h, b.w * b.h);
    long ink_a = 0, ink_b = 0, differ = 0;
    for (int i = 0; i < a.w * a.h; i++) {
        ink_a += a.px[i] < 0.5f;
        ink_b += b.px[i] < 0.5f;
        differ += fabsf(a.px[i] - b.px[i]) > 0.5f;
    }
    /* both drew something (the boxes need DejaVu: fonts-dejavu-core) */
    assert_true(ink_a > 100 && ink_b > 100);
    if (differ < ink_b / 3)
        fail_msg("the Korean title looks like missing-glyph boxes (%ld of %ld ink pixels "
                 "differ): is fonts-noto-cjk installed?", differ, ink_b);
    bd_image_free(&a);
    bd_image_free(&b);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--render-title"))
        return render_title(argv[2], argv[3]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gd1d_closed_form),
        cmocka_unit_test(test_numdiff),
        cmocka_unit_test(test_path2d_sgd),
        cmocka_unit_test(test_path2d_momentum_adagrad_adam),
        cmocka_unit_test(test_act_hist),
        cmocka_unit_test(test_act_curve),
        cmocka_unit_test(test_smooth),
        cmocka_unit_test(test_read_log),
        cmocka_unit_test(test_train_run),
        cmocka_unit_test(test_outputs),
        cmocka_unit_test(test_image_rows),
        cmocka_unit_test(test_korean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
