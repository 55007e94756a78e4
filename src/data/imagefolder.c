/* imagefolder.c — a folder of images, one subfolder per class (torchvision's
 * ImageFolder layout):
 *
 *   DIR/cat/1.png  DIR/cat/2.jpg  DIR/dog/a.ppm ...       seeded split
 *   DIR/train/cat/...  DIR/test/cat/...                   given split
 *
 * Classes are the subfolder names in sorted (byte) order, so class k is the
 * same on every machine; the names travel in ds->classes (and so in a saved
 * model). Files ending in .png, .pgm, .ppm, .pnm, .jpg or .jpeg (any case)
 * are read (bd_image_load_color), resized plane by plane to H x W (area-
 * averaged when shrinking, bilinear when growing; the aspect is not kept,
 * as Resize((H, W))) and kept as bytes, x BD_U8 [N, C, H, W] with scale
 * 1/255; C = 1 takes the planes' mean (a gray image's planes are equal).
 * Other files are skipped; an image that cannot be read stops the load with
 * its reader's message, naming the file. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_CLASSES 1024

typedef struct name_list {
    char **v;
    int n, cap;
} name_list;

static void names_free(name_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_image_name(const char *n)
{
    static const char *const ext[] = {".png", ".pgm", ".ppm", ".pnm", ".jpg", ".jpeg"};
    size_t len = strlen(n);
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
        size_t e = strlen(ext[i]);
        if (len > e && strcasecmp(n + len - e, ext[i]) == 0)
            return 1;
    }
    return 0;
}

/* The entries of dir (folders if want_dirs, else image files), sorted. */
static bd_status list_dir(const char *dir, int want_dirs, name_list *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return bd_error(BD_ERR_IO, "%s: cannot open the folder: %s", dir, strerror(errno));
    struct dirent *e;
    bd_status s = BD_OK;
    char path[4096];
    while (s == BD_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (want_dirs ? !is_dir(path) : (is_dir(path) || !is_image_name(e->d_name)))
            continue;
        if (out->n == out->cap) {
            int cap = out->cap ? out->cap * 2 : 16;
            char **v = realloc(out->v, (size_t)cap * sizeof *v);
            if (!v) {
                s = bd_error(BD_ERR_NOMEM, "%s: out of memory listing the folder", dir);
                break;
            }
            out->v = v;
            out->cap = cap;
        }
        if (!(out->v[out->n] = strdup(e->d_name)))
            s = bd_error(BD_ERR_NOMEM, "%s: out of memory listing the folder", dir);
        else
            out->n++;
    }
    closedir(d);
    if (s != BD_OK) {
        names_free(out);
        return s;
    }
    if (out->n > 1) /* qsort takes no NULL array, even empty */
        qsort(out->v, (size_t)out->n, sizeof *out->v, cmp_str);
    return BD_OK;
}

/* One image into row [C, H, W] of bytes (C = 1: the planes' mean). */
static bd_status read_one(const char *path, int C, int H, int W, uint8_t *row)
{
    bd_image img;
    BD_TRY(bd_image_load_color(path, &img));
    size_t hw = (size_t)img.w * img.h, HW = (size_t)H * W;
    float *tmp = malloc(((size_t)img.h * W + 2 * HW) * sizeof *tmp);
    if (!tmp) {
        bd_image_free(&img);
        return bd_error(BD_ERR_NOMEM, "%s: out of memory resizing", path);
    }
    float *plane = tmp + (size_t)img.h * W, *mean = plane + HW;
    memset(mean, 0, HW * sizeof *mean);
    for (int c = 0; c < 3; c++) {
        bd_image_resize(img.px + (size_t)c * hw, img.w, img.h, plane, W, H, tmp);
        for (size_t i = 0; i < HW; i++) {
            float v = plane[i] < 0 ? 0 : plane[i] > 1 ? 1 : plane[i];
            if (C == 1)
                mean[i] += v * (1.0f / 3.0f);
            else
                row[(size_t)c * HW + i] = (uint8_t)(v * 255.0f + 0.5f);
        }
    }
    for (size_t i = 0; C == 1 && i < HW; i++)
        row[i] = (uint8_t)(BD_MIN(mean[i], 1.0f) * 255.0f + 0.5f);
    free(tmp);
    bd_image_free(&img);
    return BD_OK;
}

/* Every image under root/<class>/ for the given classes into ds. */
static bd_status load_tree(const char *root, const name_list *classes, int C, int H, int W,
                           const char *name, bd_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    name_list *files = calloc((size_t)classes->n, sizeof *files);
    if (!files)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory", root);
    char path[4096];
    long total = 0;
    bd_status s = BD_OK;
    for (int k = 0; s == BD_OK && k < classes->n; k++) {
        snprintf(path, sizeof path, "%s/%s", root, classes->v[k]);
        if (!is_dir(path))
            s = bd_error(BD_ERR_IO, "%s: no folder for class '%s' (every part needs the same "
                         "class folders)", path, classes->v[k]);
        else
            s = list_dir(path, 0, &files[k]);
        if (s == BD_OK && files[k].n == 0)
            s = bd_error(BD_ERR_FORMAT, "%s: no images (.png, .pgm, .ppm, .jpg) for class '%s'",
                         path, classes->v[k]);
        total += s == BD_OK ? files[k].n : 0;
    }
    if (s == BD_OK && total > INT32_MAX / 2)
        s = bd_error(BD_ERR_FORMAT, "%s: %ld images is too many", root, total);
    int xs[4] = {(int)total, C, H, W}, n = (int)total;
    if (s == BD_OK)
        s = bd_tensor_alloc(&ds->x, BD_U8, 4, xs);
    if (s == BD_OK)
        s = bd_tensor_alloc(&ds->y, BD_I32, 1, &n);
    size_t D = (size_t)C * H * W;
    int at = 0;
    for (int k = 0; s == BD_OK && k < classes->n; k++)
        for (int i = 0; s == BD_OK && i < files[k].n; i++, at++) {
            snprintf(path, sizeof path, "%s/%s/%s", root, classes->v[k], files[k].v[i]);
            s = read_one(path, C, H, W, bd_u8(&ds->x) + (size_t)at * D);
            bd_i32(&ds->y)[at] = k;
        }
    for (int k = 0; k < classes->n; k++)
        names_free(&files[k]);
    free(files);
    if (s != BD_OK) {
        bd_dataset_free(ds);
        return s;
    }
    ds->n = n;
    ds->c = C;
    ds->h = H;
    ds->w = W;
    ds->nclasses = classes->n;
    ds->scale = 1.0f / 255.0f;
    snprintf(ds->name, sizeof ds->name, "%s", name);
    size_t o = 0;
    for (int k = 0; k < classes->n; k++) {
        size_t l = strlen(classes->v[k]);
        if (o + l + 2 > sizeof ds->classes) { /* too many names: numbers are printed */
            o = 0;
            break;
        }
        memcpy(ds->classes + o, classes->v[k], l);
        o += l;
        ds->classes[o++] = '\n';
    }
    ds->classes[o] = 0;
    return BD_OK;
}

bd_status bd_imagefolder_load(const char *dir, int C, int H, int W, float test_split,
                              uint64_t seed, bd_dataset *train, bd_dataset *test)
{
    if (!dir || !train || !test)
        return bd_error(BD_ERR_ARG, "bd_imagefolder_load: %s is NULL",
                        !dir ? "dir" : !train ? "train" : "test");
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (C != 1 && C != 3)
        return bd_error(BD_ERR_ARG, "%s: %d channels (1 or 3)", dir, C);
    if (H < 1 || W < 1 || H > 4096 || W > 4096)
        return bd_error(BD_ERR_ARG, "%s: image size %dx%d (1..4096 per side)", dir, H, W);
    char tr[4096], te[4096];
    snprintf(tr, sizeof tr, "%s/train", dir);
    snprintf(te, sizeof te, "%s/test", dir);
    int given = is_dir(tr) && is_dir(te);
    name_list classes;
    BD_TRY(list_dir(given ? tr : dir, 1, &classes));
    bd_status s = BD_OK;
    if (classes.n < 1)
        s = bd_error(BD_ERR_FORMAT, "%s: no class subfolders (expected DIR/<class>/*.png or "
                     "DIR/train/<class>/ and DIR/test/<class>/)", given ? tr : dir);
    else if (classes.n > MAX_CLASSES)
        s = bd_error(BD_ERR_FORMAT, "%s: %d classes (at most %d)", dir, classes.n, MAX_CLASSES);
    if (s == BD_OK)
        s = load_tree(given ? tr : dir, &classes, C, H, W, "images-train", train);
    if (s == BD_OK && given) {
        s = load_tree(te, &classes, C, H, W, "images-test", test);
    } else if (s == BD_OK) {
        bd_rng rng;
        bd_rng_seed(&rng, seed ^ 0x1a9e5ULL);
        s = bd_dataset_split(train, test_split, &rng, test);
        if (s == BD_OK)
            snprintf(test->name, sizeof test->name, "images-test");
    }
    names_free(&classes);
    if (s != BD_OK) {
        bd_dataset_free(train);
        bd_dataset_free(test);
    }
    return s;
}
