/* cmd_predict.c — `badak predict`: classify image files with a saved model.
 * Each image (PNG or PGM, any size) is made into the model's input the way
 * its data set was made (src/data/image_prep.c): gray, inverted when the
 * paper is light, the ink fitted into the frame; then one forward pass. */
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *HELP =
    "Usage: badak predict --model FILE [options] IMAGE...\n"
    "       badak predict --model FILE --csv FILE [--label-cols LIST]\n"
    "\n"
    "Classify images (PNG or PGM/PPM, any size; JPEG too for colour models) with a model\n"
    "saved by 'badak train --save'. A model of 3 input channels (CIFAR-10, --data\n"
    "images:DIR in colour) gets the image's R, G, B planes resized to its input;\n"
    "a model trained with --normalize gets the same per-channel normalisation.\n"
    "When the model keeps class names (CIFAR's batches.meta.txt, image folders) they\n"
    "are printed: \"cat (0.9100)\".\n"
    "Each image is turned into the model's input as its data set was made: grayscale,\n"
    "inverted when the background is light (a digit on paper), the ink cropped, scaled\n"
    "into a 20x20 box and centred by its centre of mass (MNIST) or scaled to fill the\n"
    "frame (Fashion-MNIST models).\n"
    "\n"
    "Options:\n"
    "  --model FILE          the model (.safetensors), required\n"
    "  --top K               classes to print per image (default 3)\n"
    "  --invert auto|yes|no  invert the image (default auto: when its border is light)\n"
    "  --no-fit              only resize the whole image (no crop, box or centring)\n"
    "  --save-input DIR      also write each prepared input as DIR/<name>.pgm\n"
    "  --csv FILE            predict each row of a CSV of numbers instead of images:\n"
    "                        regression values in the targets' units, multi-label\n"
    "                        0/1 labels and probabilities, or the class\n"
    "  --label-cols LIST     with --csv: columns to drop (the targets), e.g. -1 or 3,4\n"
    "  -h, --help            this text\n"
    "\n"
    "Output, one line per image: FILE: CLASS (PROBABILITY), ... best first.\n"
    "Exit status: 0 all classified, 1 an image or the model could not be read, 2 bad option.\n";

enum { O_MODEL = 256, O_TOP, O_INVERT, O_NOFIT, O_SAVE, O_CSV, O_LABELCOLS };

static const struct option LONGOPTS[] = {
    {"model", required_argument, 0, O_MODEL},
    {"top", required_argument, 0, O_TOP},
    {"invert", required_argument, 0, O_INVERT},
    {"no-fit", no_argument, 0, O_NOFIT},
    {"save-input", required_argument, 0, O_SAVE},
    {"csv", required_argument, 0, O_CSV},
    {"label-cols", required_argument, 0, O_LABELCOLS},
    {"label-col", required_argument, 0, O_LABELCOLS},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static const char *const FASHION[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/* Write the prepared input [H, W] as a PGM named after the image. */
static bd_status save_input(const char *dir, const char *image, const float *x, int H, int W)
{
    const char *base = strrchr(image, '/');
    base = base ? base + 1 : image;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.pgm", dir, base);
    bd_image im;
    bd_status s = bd_image_alloc(&im, W, H);
    if (s != BD_OK)
        return s;
    memcpy(im.px, x, (size_t)H * W * sizeof(float));
    s = bd_image_write_pgm(&im, path);
    bd_image_free(&im);
    return s;
}

/* A colour model's input: the image's R, G, B planes, each resized to the
 * model's H x W (area-averaged when shrinking), x [3, H, W]. */
static bd_status colour_input(const char *path, int H, int W, float *x)
{
    bd_image img;
    bd_status s = bd_image_load_color(path, &img);
    if (s != BD_OK)
        return s;
    float *tmp = malloc((size_t)img.h * (size_t)W * sizeof *tmp);
    if (!tmp) {
        bd_image_free(&img);
        return bd_error(BD_ERR_NOMEM, "%s: out of memory resizing", path);
    }
    size_t hw = (size_t)img.h * (size_t)img.w;
    for (int c = 0; c < 3; c++)
        bd_image_resize(img.px + (size_t)c * hw, img.w, img.h, x + (size_t)c * H * W, W, H, tmp);
    free(tmp);
    bd_image_free(&img);
    return BD_OK;
}

/* An image with (almost) nothing on it -- blank, all white, fully
 * transparent (composited over white) -- still gets a class: say so. */
static void warn_blank(const char *path, const bd_image *img)
{
    size_t n = (size_t)img->w * (size_t)img->h;
    float lo = 1.0f, hi = 0.0f;
    for (size_t i = 0; i < n; i++) {
        lo = img->px[i] < lo ? img->px[i] : lo;
        hi = img->px[i] > hi ? img->px[i] : hi;
    }
    if (n && hi - lo < 0.02f)
        fprintf(stderr, "badak: warning: %s is blank (every pixel %.2f%s): the prediction "
                "below means nothing\n", path, (double)lo,
                lo > 0.98f ? ", all white or transparent" : lo < 0.02f ? ", all black" : "");
}

/* Classify one image; prints its line. */
static bd_status classify(bd_model *m, const bd_model_meta *meta, const char *path,
                          const bd_image_prep *prep0, int top, int fashion, const char *save_dir,
                          float *x)
{
    const bd_net *net = bd_model_net(m);
    bd_image img;
    bd_image_prep prep = *prep0;
    bd_status s;
    if (net->in_c == 3) {
        s = colour_input(path, net->in_h, net->in_w, x);
    } else {
        s = bd_image_load(path, &img);
        if (s != BD_OK)
            return s;
        warn_blank(path, &img);
        s = bd_image_to_input(&img, net->in_h, net->in_w, &prep, x);
        bd_image_free(&img);
        if (s != BD_OK) { /* name the image it was made from */
            char why[300];
            snprintf(why, sizeof why, "%s", bd_errmsg());
            s = bd_error(s, "%s: %s", path, why);
        }
    }
    if (s == BD_OK && save_dir)
        s = save_input(save_dir, path, x, net->in_h, net->in_w);
    /* probabilities (softmax, or sigmoid for one BCE unit) or raw outputs;
     * the model's normalisation is applied by bd_model_predict */
    const int C = net->out_size;
    float probs[1024];
    if (s == BD_OK && C > 1024)
        s = bd_error(BD_ERR_SHAPE, "%s: %d outputs (predict prints at most 1024)", path, C);
    if (s == BD_OK)
        s = bd_model_predict(m, x, 1, probs);
    if (s != BD_OK)
        return s;
    double p[1024];
    int n = C;
    for (int k = 0; k < n; k++)
        p[k] = probs[k];
    printf("%s:", path);
    if (net->loss == BD_LOSS_SIGMOID_BCE && n == 1) {
        int k = p[0] >= 0.5;
        printf(" %d (%.4f)", k, k ? p[0] : 1.0 - p[0]);
    } else {
        int used[1024] = {0};
        for (int t = 0; t < top && t < n; t++) {
            int best = -1;
            for (int k = 0; k < n; k++)
                if (!used[k] && (best < 0 || p[k] > p[best]))
                    best = k;
            used[best] = 1;
            char name[128];
            if (bd_class_name(meta->classes, best, name, sizeof name)[0])
                printf("%s %s (%.4f)", t ? "," : "", name, p[best]);
            else if (fashion && n == 10)
                printf("%s %d %s (%.4f)", t ? "," : "", best, FASHION[best], p[best]);
            else
                printf("%s %d (%.4f)", t ? "," : "", best, p[best]);
        }
    }
    printf("%s\n", prep.inverted ? "  [inverted]" : "");
    return BD_OK;
}

typedef struct predict_opts {
    const char *model, *save_dir, *csv, *drop;
    long top;
    bd_image_prep prep;
    int first;            /* argv[first..] are the images */
} predict_opts;

/* -1: go on; else the exit code (--help: 0, a bad option: EXIT_USAGE) */
static int parse_options(int argc, char **argv, predict_opts *o)
{
    memset(o, 0, sizeof *o);
    o->top = 3;
    bd_image_prep_default(&o->prep);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", LONGOPTS, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'h': fputs(HELP, stdout); return 0;
        case O_MODEL: o->model = optarg; break;
        case O_TOP: bad = cli_int("predict", "--top", optarg, 1, 1024, &o->top); break;
        case O_INVERT:
            if (!strcmp(optarg, "auto"))
                o->prep.invert = BD_INVERT_AUTO;
            else if (!strcmp(optarg, "yes"))
                o->prep.invert = BD_INVERT_ALWAYS;
            else if (!strcmp(optarg, "no"))
                o->prep.invert = BD_INVERT_NEVER;
            else
                return cli_usage_error("predict", "--invert '%s': expected auto, yes or no",
                                       optarg);
            break;
        case O_NOFIT: o->prep.fit = 0; break;
        case O_SAVE: o->save_dir = optarg; break;
        case O_CSV: o->csv = optarg; break;
        case O_LABELCOLS: o->drop = optarg; break;
        default: return cli_usage_error("predict", "unknown or incomplete option");
        }
        if (bad)
            return EXIT_USAGE;
    }
    o->first = optind;
    if (!o->model)
        return cli_usage_error("predict", "--model FILE is required");
    if (o->csv && optind < argc)
        return cli_usage_error("predict", "give --csv FILE or images, not both");
    if (o->drop && !o->csv)
        return cli_usage_error("predict", "--label-cols is for --csv");
    if (!o->csv && optind >= argc)
        return cli_usage_error("predict", "no image given");
    return -1;
}

/* values for each CSV row: needs the whole network and its metadata */
static int predict_csv(const predict_opts *o)
{
    bd_net net;
    bd_model_meta meta;
    bd_status s = bd_model_load(&net, o->model, &meta);
    if (s != BD_OK)
        return cli_fail(s);
    bd_set_threads(1);
    bd_net_set_training(&net, 0);
    int rc = cli_predict_csv(&net, &meta, o->csv, o->drop);
    bd_net_free(&net);
    return rc;
}

/* Can the model take the images predict reads (BD_ERR_SHAPE naming it if
 * not)? Then how to make them its inputs: a Fashion-MNIST model's images
 * fill the frame, centred; an image folder's are resized, nothing else. */
static bd_status image_model(const predict_opts *o, const bd_model *m, bd_image_prep *prep,
                             int *fashion)
{
    const bd_model_meta *meta = bd_model_info(m);
    const bd_net *net = bd_model_net(m);
    if (net->in_h < 2 || net->in_w < 2) /* a vector model (a CSV's): no image fits it */
        return bd_error(BD_ERR_SHAPE, "%s: the model's input is %dx%dx%d, not an image: predict "
                        "classifies images; use 'badak eval --csv' for vector data", o->model,
                        net->in_c, net->in_h, net->in_w);
    if (net->in_c != 1 && (net->in_c != 3 || o->save_dir))
        return bd_error(BD_ERR_SHAPE, "%s: the model takes %d channels; predict reads grayscale "
                        "(1) or colour (3) images%s", o->model, net->in_c,
                        net->in_c == 3 ? " and --save-input writes only grayscale ones" : "");
    const char *base = strrchr(meta->data, '/');
    base = base ? base + 1 : meta->data;
    *fashion = strstr(base, "fashion") != NULL;
    if (!strncmp(meta->data, "images:", 7)) {
        prep->fit = 0;
        prep->invert = BD_INVERT_NEVER;
    }
    if (*fashion) {
        prep->box = 1.0f;
        prep->center_box = 1;
    }
    return BD_OK;
}

int cmd_predict(int argc, char **argv)
{
    predict_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.csv)
        return predict_csv(&o);
    bd_status s;
    bd_model *m = bd_model_open(o.model, &s);
    if (!m)
        return cli_fail(s);
    int fashion = 0;
    s = image_model(&o, m, &o.prep, &fashion);
    float *x = NULL;
    if (s == BD_OK && !(x = malloc((size_t)bd_model_inputs(m) * sizeof *x)))
        s = bd_error(BD_ERR_NOMEM, "out of memory");
    if (s != BD_OK) {
        bd_model_close(m);
        return cli_fail(s);
    }
    bd_set_threads(1);
    int failed = 0;
    for (int i = o.first; i < argc; i++) {
        s = classify(m, bd_model_info(m), argv[i], &o.prep, (int)o.top, fashion, o.save_dir, x);
        if (s != BD_OK) {
            fprintf(stderr, "badak: error: %s\n", bd_errmsg());
            failed = 1;
        }
    }
    free(x);
    bd_model_close(m);
    return failed ? EXIT_FAIL : 0;
}
