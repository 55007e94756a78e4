/* fig_cnn.c — the figures of a trained model and of the images it sees
 * (book 7.6 and 8.1): the first layer's filters before and after training
 * (figure 7-24), what each convolution makes of one image, the test digits
 * the model gets wrong (figure 8-2), and samples of the data augmentation.
 * Images are drawn in reversed gray (white = low, black = high), as the
 * book's visualize_filter and misclassified_mnist.py draw them. */
#include "fig/figures.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------ shared pieces */

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* Load ctx->model (evaluation mode, room for `batch` rows). */
static bd_status load_model(const fig_ctx *ctx, bd_net **out, bd_model_meta *meta, int batch)
{
    bd_net *net;
    *out = NULL;
    if (!ctx->model)
        return bd_error(BD_ERR_ARG, "this figure needs --model FILE, a trained model "
                        "(badak train --model simple_convnet --save FILE)");
    BD_TRY(bd_model_load(&net, ctx->model, meta));
    bd_net_set_training(net, 0);
    bd_status s = bd_net_reserve(net, batch);
    if (s != BD_OK)
        bd_net_free(net);
    else
        *out = net;
    return s;
}

static const bd_layer *first_conv(const bd_net *net)
{
    for (int i = 0; i < net->nlayers; i++)
        if (net->layers[i].kind == BD_LAYER_CONV2D)
            return &net->layers[i];
    return NULL;
}

static bd_status no_conv(const char *model)
{
    return bd_error(BD_ERR_ARG, "%s: the model has no convolutional layer (try one trained "
                    "with --model simple_convnet)", model);
}

/* The MNIST-style data set the model was trained on: --data when given,
 * else the model's own (its metadata), else mnist. */
static bd_status model_data(fig_ctx *ctx, const bd_model_meta *meta)
{
    if (!ctx->data_given && meta->data[0] && !ctx->mnist_loaded) {
        snprintf(ctx->data_buf, sizeof ctx->data_buf, "%s", meta->data);
        ctx->data = ctx->data_buf;
        bd_status s = fig_mnist(ctx);
        if (s == BD_OK)
            return s;
        ctx->data = "mnist"; /* a CSV run or a moved folder: fall back */
    }
    return fig_mnist(ctx);
}

/* 10,000: counts written as people write them */
static const char *thousands(long n, char *buf)
{
    char d[32];
    int len = snprintf(d, sizeof d, "%ld", n), o = 0;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0 && d[i - 1] != '-')
            buf[o++] = ',';
        buf[o++] = d[i];
    }
    buf[o] = 0;
    return buf;
}

static int argmax(const float *z, int n)
{
    int best = 0;
    for (int k = 1; k < n; k++)
        if (z[k] > z[best])
            best = k;
    return best;
}

/* ----------------------------------------------------------- filters */

#define FLT_MAX_IMGS 64
typedef struct flt_data {
    const float *before, *after; /* [n, k, k] */
    int n, k, cols;
    char before_title[160], after_title[160];
} flt_data;

static void draw_filters(const void *data)
{
    const flt_data *d = data;
    plot_images(&(plot_imgs){.px = d->before, .n = d->n, .h = d->k, .w = d->k, .cols = d->cols,
                             .reversed = 1, .x0 = 0.01, .x1 = 0.49, .y0 = 0.01, .y1 = 1,
                             .title = d->before_title});
    plot_images(&(plot_imgs){.px = d->after, .n = d->n, .h = d->k, .w = d->k, .cols = d->cols,
                             .reversed = 1, .x0 = 0.51, .x1 = 0.99, .y0 = 0.01, .y1 = 1,
                             .title = d->after_title});
}

/* The weights before training: --before FILE (a `badak train --iters 0
 * --save FILE` of the same net and seed), or the net's initialisation drawn
 * again from the seed the model was trained with. */
static bd_status weights_before(const fig_ctx *ctx, const bd_net *trained,
                                const bd_model_meta *meta, bd_net **out, const bd_layer **conv,
                                char *how, size_t len)
{
    bd_net *init;
    *out = NULL;
    if (ctx->before) {
        bd_model_meta m;
        BD_TRY(bd_model_load(&init, ctx->before, &m));
        *conv = first_conv(init);
        const bd_layer *t = first_conv(trained);
        if (!*conv || (*conv)->units != t->units || (*conv)->in_c != t->in_c ||
            (*conv)->k != t->k) {
            bd_net_free(init);
            *conv = NULL;
            return bd_error(BD_ERR_SHAPE, "%s: its first convolution does not match %s's "
                            "(%d filters %dx%d over %d channels)", ctx->before, ctx->model,
                            t->units, t->k, t->k, t->in_c);
        }
        snprintf(how, len, "%s", base_name(ctx->before));
        *out = init;
        return BD_OK;
    }
    BD_TRY(bd_model_load(&init, ctx->model, NULL));
    bd_rng rng;
    bd_rng_seed(&rng, meta->seed);
    bd_net_init_weights(init, init->init, &rng);
    *conv = first_conv(init);
    snprintf(how, len, TR("initialised with seed %llu", "시드 %llu로 초기화한 값"),
             (unsigned long long)meta->seed);
    *out = init;
    return BD_OK;
}

bd_status fig_make_filters(fig_ctx *ctx)
{
    bd_net *net = NULL, *init = NULL;
    bd_model_meta meta;
    BD_TRY(load_model(ctx, &net, &meta, 1));
    const bd_layer *conv = first_conv(net), *conv0 = NULL;
    if (!conv) {
        bd_net_free(net);
        return no_conv(ctx->model);
    }
    char how[300];
    bd_status s = weights_before(ctx, net, &meta, &init, &conv0, how, sizeof how);
    if (s != BD_OK) {
        bd_net_free(net);
        return s;
    }
    const int F = conv->units, C = conv->in_c, K = conv->k;
    int n = F * C < FLT_MAX_IMGS ? F * C : FLT_MAX_IMGS;
    flt_data d = {.before = bd_f32(&conv0->W), .after = bd_f32(&conv->W), .n = n, .k = K};
    d.cols = (int)ceil(sqrt(n * 1.2));
    snprintf(d.before_title, sizeof d.before_title, TR("before training (%s)", "학습 전 (%s)"),
             how);
    snprintf(d.after_title, sizeof d.after_title, TR("after training (%s)", "학습 후 (%s)"),
             base_name(ctx->model));
    fig_csv c;
    s = fig_csv_for(ctx, &c, "filters", "when,filter,channel,row,col,weight");
    if (s == BD_OK) {
        for (int when = 0; when < 2; when++) {
            const float *W = when ? d.after : d.before; /* [F, C, K, K] */
            for (int i = 0; i < F * C; i++)
                for (int r = 0; r < K; r++)
                    for (int q = 0; q < K; q++)
                        fig_csv_row(&c, "%s,%d,%d,%d,%d,%.9g", when ? "after" : "before",
                                    i / C, i % C, r, q, (double)W[((size_t)i * K + r) * K + q]);
        }
        s = fig_csv_close(&c);
    }
    if (s == BD_OK) {
        int rows = (n + d.cols - 1) / d.cols, cell = K <= 3 ? 70 : 84;
        char title[256];
        snprintf(title, sizeof title,
                 TR("%s's first layer: %d filters %dx%d (white: low weight, black: high)",
                    "%s의 첫 번째 층: %d개의 %dx%d 필터 (흰색: 작은 가중치, 검은색: 큰 가중치)"),
                 conv->name, n, K, K);
        snprintf(ctx->note, sizeof ctx->note, "%s: %d filters of %s; before: %s",
                 base_name(ctx->model), F * C, conv->name, how);
        s = fig_draw(ctx, "filters", 2 * d.cols * cell + 60, rows * (cell + 6) + 110, title,
                     draw_filters, &d);
    }
    bd_net_free(init);
    bd_net_free(net);
    return s;
}

/* ----------------------------------------------------- misclassified */

#define MIS_SHOW 20 /* the book's max_view */
typedef struct mis_data {
    float px[MIS_SHOW * 28 * 28];
    char cap[MIS_SHOW][48];
    const char *caps[MIS_SHOW];
    int n;
} mis_data;

static void draw_mis(const void *data)
{
    const mis_data *d = data;
    plot_images(&(plot_imgs){.px = d->px, .n = d->n, .h = 28, .w = 28, .cols = 5,
                             .captions = d->caps, .reversed = 1, .lo = 0, .hi = 1});
}

/* Classify the test set in batches; for each wrong answer write
 * index,label,predicted,confidence and keep the first MIS_SHOW images. */
static bd_status find_misclassified(bd_net *net, const bd_dataset *test, int ntest, int B,
                                    fig_csv *c, mis_data *d, int *wrong)
{
    bd_tensor xb = {0}, yb = {0};
    int xs[2] = {B, test->c * test->h * test->w};
    BD_TRY(bd_tensor_alloc(&xb, BD_F32, 2, xs));
    bd_status s = bd_tensor_alloc(&yb, BD_I32, 1, &B);
    *wrong = 0;
    const int D = xs[1];
    for (int start = 0; start < ntest && s == BD_OK; start += B) {
        int n = ntest - start < B ? ntest - start : B;
        s = bd_dataset_slice(test, start, n, &xb, &yb);
        const bd_tensor *z = NULL;
        if (s == BD_OK)
            s = bd_net_forward(net, &xb, &z);
        if (s != BD_OK)
            break;
        const int K = net->out_size;
        for (int i = 0; i < n; i++) {
            const float *zi = bd_f32(z) + (size_t)i * K;
            int p = argmax(zi, K), t = bd_i32(&yb)[i];
            if (p == t)
                continue;
            double sum = 0; /* softmax confidence of the wrong answer */
            for (int k = 0; k < K; k++)
                sum += exp((double)zi[k] - zi[p]);
            fig_csv_row(c, "%d,%d,%d,%.4f", start + i, t, p, 1.0 / sum);
            if (d->n < MIS_SHOW && D == 28 * 28) {
                memcpy(d->px + (size_t)d->n * D, bd_f32(&xb) + (size_t)i * D, sizeof(float) * D);
                snprintf(d->cap[d->n], sizeof d->cap[0], TR("true %d, predicted %d",
                                                              "정답 %d, 추론 %d"), t, p);
                d->caps[d->n] = d->cap[d->n];
                d->n++;
            }
            (*wrong)++;
        }
    }
    bd_tensor_free(&xb);
    bd_tensor_free(&yb);
    return s;
}

bd_status fig_make_misclassified(fig_ctx *ctx)
{
    enum { B = 100 };
    bd_net *net = NULL;
    bd_model_meta meta;
    BD_TRY(load_model(ctx, &net, &meta, B));
    bd_status s = model_data(ctx, &meta);
    if (s == BD_OK && ctx->test.c * ctx->test.h * ctx->test.w != net->in_size)
        s = bd_error(BD_ERR_SHAPE, "%s takes %d inputs, the %s test images have %d",
                     ctx->model, net->in_size, ctx->test.name,
                     ctx->test.c * ctx->test.h * ctx->test.w);
    mis_data *d = calloc(1, sizeof *d);
    if (s == BD_OK && !d)
        s = bd_error(BD_ERR_NOMEM, "misclassified");
    int ntest = ctx->quick && ctx->test.n > 2000 ? 2000 : ctx->test.n, wrong = 0;
    fig_csv c;
    if (s == BD_OK)
        s = fig_csv_for(ctx, &c, "misclassified", "index,label,predicted,confidence");
    if (s == BD_OK) {
        s = find_misclassified(net, &ctx->test, ntest, B, &c, d, &wrong);
        bd_status cs = fig_csv_close(&c);
        s = s == BD_OK ? cs : s;
    }
    if (s == BD_OK) {
        char title[256], n0[32], n1[32];
        snprintf(title, sizeof title,
                 TR("%s gets %s of %s test digits wrong (%.2f%%): the first %d",
                    "%s: 시험 데이터 %s개 중 %s개를 잘못 인식 (%.2f%%), 처음 %d개"),
                 base_name(ctx->model), thousands(fig_ko ? ntest : wrong, n0),
                 thousands(fig_ko ? wrong : ntest, n1), 100.0 * wrong / ntest, d->n);
        snprintf(ctx->note, sizeof ctx->note, "%d of %d test samples misclassified: accuracy %.4f",
                 wrong, ntest, 1.0 - (double)wrong / ntest);
        int rows = (d->n + 4) / 5;
        s = fig_draw(ctx, "misclassified", 1100, 60 + (rows ? rows : 1) * 190, title, draw_mis,
                     d);
    }
    free(d);
    bd_net_free(net);
    return s;
}

/* ------------------------------------------------------ feature-maps */

#define FM_LAYERS 8
#define FM_COLS 16
#define FM_MAPS 32 /* at most two rows of 16 a layer */
typedef struct fm_data {
    float input[28 * 28];
    int in_h, in_w;
    int n;                      /* conv layers shown */
    const float *maps[FM_LAYERS]; /* [C, H, W] of each */
    int c[FM_LAYERS], h[FM_LAYERS], w[FM_LAYERS];
    char title[FM_LAYERS][128];
    char in_title[96];
} fm_data;

/* rows of FM_COLS maps a layer shows */
static int fm_rows(int c) { return ((c < FM_MAPS ? c : FM_MAPS) + FM_COLS - 1) / FM_COLS; }

static int fm_bands(const fm_data *d)
{
    int bands = 1; /* the input */
    for (int l = 0; l < d->n; l++)
        bands += fm_rows(d->c[l]);
    return bands;
}

static void draw_fm(const void *data)
{
    const fm_data *d = data;
    double band = 1.0 / fm_bands(d), y1 = 1 - band;
    plot_images(&(plot_imgs){.px = d->input, .n = 1, .h = d->in_h, .w = d->in_w, .cols = 1,
                             .reversed = 1, .x0 = 0.40, .x1 = 0.60, .y0 = y1, .y1 = 1,
                             .title = d->in_title});
    for (int l = 0; l < d->n; l++) {
        int m = d->c[l] < FM_MAPS ? d->c[l] : FM_MAPS, rows = fm_rows(d->c[l]);
        plot_images(&(plot_imgs){.px = d->maps[l], .n = m, .h = d->h[l], .w = d->w[l],
                                 .cols = FM_COLS, .reversed = 1, .x0 = 0.01, .x1 = 0.99,
                                 .y0 = y1 - band * rows, .y1 = y1, .title = d->title[l]});
        y1 -= band * rows;
    }
}

/* The image to look at: IMAGE prepared as `badak predict` does, or the
 * first test digit. */
static bd_status fm_input(fig_ctx *ctx, const bd_net *net, const bd_model_meta *meta, float *x,
                          char *what, size_t len)
{
    if (ctx->image) {
        bd_image img;
        BD_TRY(bd_image_load(ctx->image, &img));
        bd_image_prep prep;
        bd_image_prep_default(&prep);
        bd_status s = bd_image_to_input(&img, net->in_h, net->in_w, &prep, x);
        bd_image_free(&img);
        snprintf(what, len, "%s%s", base_name(ctx->image),
                 prep.inverted ? TR(" (inverted)", " (반전)") : "");
        return s;
    }
    BD_TRY(model_data(ctx, meta));
    bd_tensor xb = {0};
    int xs[2] = {1, net->in_size};
    BD_TRY(bd_tensor_alloc(&xb, BD_F32, 2, xs));
    bd_status s = bd_dataset_slice(&ctx->test, 0, 1, &xb, NULL);
    if (s == BD_OK)
        memcpy(x, bd_f32(&xb), sizeof(float) * (size_t)net->in_size);
    bd_tensor_free(&xb);
    snprintf(what, len, TR("test digit #0 (label %d)", "시험 데이터 #0 (정답 %d)"),
             bd_i32(&ctx->test.y)[0]);
    return s;
}

bd_status fig_make_feature_maps(fig_ctx *ctx)
{
    bd_net *net = NULL;
    bd_model_meta meta;
    BD_TRY(load_model(ctx, &net, &meta, 1));
    bd_status s = first_conv(net) ? BD_OK : no_conv(ctx->model);
    if (s == BD_OK && (net->in_c != 1 || net->in_h * net->in_w > 28 * 28))
        s = bd_error(BD_ERR_SHAPE, "%s: feature-maps draws grayscale models of at most 28x28 "
                     "inputs; this one takes %dx%dx%d", ctx->model, net->in_c, net->in_h,
                     net->in_w);
    fm_data *d = calloc(1, sizeof *d);
    if (s == BD_OK && !d)
        s = bd_error(BD_ERR_NOMEM, "feature-maps");
    bd_tensor x = {0};
    int xs[2] = {1, net->in_size};
    char what[160] = "";
    if (s == BD_OK)
        s = bd_tensor_alloc(&x, BD_F32, 2, xs);
    if (s == BD_OK)
        s = fm_input(ctx, net, &meta, bd_f32(&x), what, sizeof what);
    const bd_tensor *z = NULL;
    if (s == BD_OK)
        s = bd_net_forward(net, &x, &z);
    fig_csv c;
    if (s == BD_OK)
        s = fig_csv_for(ctx, &c, "feature-maps", "layer,channel,row,col,value");
    if (s == BD_OK) {
        d->in_h = net->in_h;
        d->in_w = net->in_w;
        memcpy(d->input, bd_f32(&x), sizeof(float) * (size_t)net->in_size);
        int pred = argmax(bd_f32(z), net->out_size);
        snprintf(d->in_title, sizeof d->in_title, TR("%s: predicted %d", "%s: 추론 결과 %d"),
                 what, pred);
        for (int i = 0; i < net->nlayers && d->n < FM_LAYERS; i++) {
            const bd_layer *L = &net->layers[i];
            if (L->kind != BD_LAYER_CONV2D)
                continue;
            const float *o = bd_f32(&L->out);
            d->maps[d->n] = o;
            d->c[d->n] = L->out_c;
            d->h[d->n] = L->out_h;
            d->w[d->n] = L->out_w;
            snprintf(d->title[d->n], sizeof d->title[0],
                     TR("%s%s: %d maps %dx%d%s", "%s%s: %d개의 %dx%d 특징 맵%s"), L->name,
                     L->relu_after ? "+ReLU" : "", L->out_c, L->out_h, L->out_w,
                     L->out_c > FM_MAPS ? TR(" (the first 32)", " (처음 32개)") : "");
            for (int ch = 0; ch < L->out_c; ch++)
                for (int r = 0; r < L->out_h; r++)
                    for (int q = 0; q < L->out_w; q++)
                        fig_csv_row(&c, "%s,%d,%d,%d,%.6g", L->name, ch, r, q,
                                    (double)o[((size_t)ch * L->out_h + r) * L->out_w + q]);
            d->n++;
        }
        s = fig_csv_close(&c);
        snprintf(ctx->note, sizeof ctx->note, "%s through %s: predicted %d", what,
                 base_name(ctx->model), pred);
    }
    if (s == BD_OK)
        s = fig_draw(ctx, "feature-maps", 1400, 60 + fm_bands(d) * 125,
                     TR("What each convolution sees (black: strong activation)",
                        "각 합성곱 계층이 보는 것 (검은색: 강한 활성화)"),
                     draw_fm, d);
    bd_tensor_free(&x);
    free(d);
    bd_net_free(net);
    return s;
}

/* ----------------------------------------------------------- augment */

#define AUG_ROWS 6
#define AUG_COLS 8 /* the original and 7 draws */
typedef struct aug_data {
    float px[AUG_ROWS * AUG_COLS * 28 * 28];
    char cap[AUG_ROWS * AUG_COLS][24];
    const char *caps[AUG_ROWS * AUG_COLS];
} aug_data;

static void draw_aug(const void *data)
{
    const aug_data *d = data;
    plot_images(&(plot_imgs){.px = d->px, .n = AUG_ROWS * AUG_COLS, .h = 28, .w = 28,
                             .cols = AUG_COLS, .captions = d->caps, .reversed = 1, .lo = 0,
                             .hi = 1});
}

bd_status fig_make_augment(fig_ctx *ctx)
{
    BD_TRY(fig_mnist(ctx));
    const bd_dataset *ds = &ctx->train;
    if (ds->c != 1 || ds->h != 28 || ds->w != 28)
        return bd_error(BD_ERR_SHAPE, "%s: augment draws 28x28 grayscale images", ds->name);
    bd_augment a;
    BD_TRY(bd_parse_augment(ctx->augment ? ctx->augment : "shift,rotate", &a));
    BD_TRY(bd_augment_check(&a, 1, 28, 28));
    aug_data *d = calloc(1, sizeof *d);
    float *scratch = malloc(sizeof(float) * bd_augment_scratch_size(1, 28, 28));
    bd_tensor xb = {0};
    int xs[2] = {1, 28 * 28};
    bd_status s = d && scratch ? bd_tensor_alloc(&xb, BD_F32, 2, xs)
                               : bd_error(BD_ERR_NOMEM, "augment");
    bd_rng rng;
    bd_rng_seed(&rng, ctx->seed);
    for (int r = 0; r < AUG_ROWS && s == BD_OK; r++) {
        s = bd_dataset_slice(ds, r, 1, &xb, NULL);
        for (int k = 0; k < AUG_COLS && s == BD_OK; k++) {
            float *im = d->px + (size_t)(r * AUG_COLS + k) * 28 * 28;
            memcpy(im, bd_f32(&xb), sizeof(float) * 28 * 28);
            if (k > 0)
                s = bd_augment_batch(&a, im, 1, 1, 28, 28, scratch, &rng);
            snprintf(d->cap[r * AUG_COLS + k], sizeof d->cap[0], "%s",
                     k ? "" : TR("original", "원본"));
            d->caps[r * AUG_COLS + k] = d->cap[r * AUG_COLS + k];
        }
    }
    char spec[96];
    bd_augment_str(&a, spec, sizeof spec);
    fig_csv c;
    if (s == BD_OK)
        s = fig_csv_for(ctx, &c, "augment", "sample,draw,row,col,value");
    if (s == BD_OK) {
        for (int i = 0; i < AUG_ROWS * AUG_COLS; i++)
            for (int p = 0; p < 28 * 28; p++)
                fig_csv_row(&c, "%d,%d,%d,%d,%.4g", i / AUG_COLS, i % AUG_COLS, p / 28, p % 28,
                            (double)d->px[(size_t)i * 28 * 28 + p]);
        s = fig_csv_close(&c);
    }
    if (s == BD_OK) {
        char title[200];
        snprintf(title, sizeof title,
                 TR("--augment %s: training digits, 7 random draws each",
                    "--augment %s: 훈련 이미지마다 무작위로 7번 바꾼 결과"),
                 spec);
        snprintf(ctx->note, sizeof ctx->note, "the first %d training images of %s, %s, seed %llu",
                 AUG_ROWS, ds->name, spec, (unsigned long long)ctx->seed);
        s = fig_draw(ctx, "augment", 1000, 80 + AUG_ROWS * 140, title, draw_aug, d);
    }
    bd_tensor_free(&xb);
    free(scratch);
    free(d);
    return s;
}
