/* mnist.c — MNIST-style folders (MNIST, Fashion-MNIST) and data set names.
 *
 * A folder holds four IDX files, each plain or .gz:
 *   train-images-idx3-ubyte [60000, 28, 28]  train-labels-idx1-ubyte [60000]
 *   t10k-images-idx3-ubyte  [10000, 28, 28]  t10k-labels-idx1-ubyte  [10000]
 * Images stay bytes (x BD_U8 [N, 1, H, W], 47 MB for the training set rather
 * than 188 MB of floats); the batch gather scales them by 1/255. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

/* The library's messages speak of its arguments (bd_data_dir's name,
 * bd_mnist_load's dir); the command turns these phrases into its --data
 * flag and its install hint (cli_flags, src/cli/common.c). */
#define SETUP_HINT "install the data sets or name their folder"

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* dir/name if it exists, else dir/name.gz; error naming both otherwise. */
static bd_status find_file(const char *dir, const char *name, char *path, size_t len)
{
    int n = snprintf(path, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n + 3 >= len)
        return bd_error(BD_ERR_ARG, "%s: folder path too long", dir);
    if (is_file(path))
        return BD_OK;
    strcat(path, ".gz");
    if (is_file(path))
        return BD_OK;
    path[n] = 0;
    return bd_error(BD_ERR_IO, "%s: not found (nor %s.gz); " SETUP_HINT, path, name);
}

/* The folder's last path component ("data/mnist/" -> "mnist"). */
static void base_name(const char *dir, char *out, size_t len)
{
    size_t e = strlen(dir);
    while (e > 1 && dir[e - 1] == '/')
        e--;
    size_t b = e;
    while (b > 0 && dir[b - 1] != '/')
        b--;
    size_t n = e - b;
    if (n == 0 || (n == 1 && dir[b] == '/')) {
        snprintf(out, len, "data");
        return;
    }
    if (n >= len)
        n = len - 1;
    memcpy(out, dir + b, n);
    out[n] = 0;
}

/* One split: images + labels -> ds (x [N,1,H,W] u8, y [N] i32). */
static bd_status load_split(const char *dir, const char *img_name, const char *lbl_name,
                            const char *suffix, bd_dataset *ds)
{
    char ipath[4096], lpath[4096];
    BD_TRY(find_file(dir, img_name, ipath, sizeof ipath));
    BD_TRY(find_file(dir, lbl_name, lpath, sizeof lpath));

    bd_idx img, lbl;
    BD_TRY(bd_idx_read(ipath, &img));
    bd_status s = BD_OK;
    if (img.t.dtype != BD_U8 || img.ndim != 3)
        s = bd_error(BD_ERR_FORMAT,
                     "%s: images must be 3-d unsigned bytes [N, H, W], got %d-d %s", ipath,
                     img.ndim, img.t.dtype == BD_U8 ? "ubyte" : "non-byte data");
    if (s == BD_OK)
        s = bd_idx_read(lpath, &lbl);
    if (s != BD_OK) {
        bd_idx_free(&img);
        return s;
    }
    if (lbl.t.dtype != BD_U8 || lbl.ndim != 1)
        s = bd_error(BD_ERR_FORMAT, "%s: labels must be 1-d unsigned bytes [N], got %d-d %s",
                     lpath, lbl.ndim, lbl.t.dtype == BD_U8 ? "ubyte" : "non-byte data");
    else if (lbl.dims[0] != img.dims[0])
        s = bd_error(BD_ERR_FORMAT, "%s has %d images but %s has %d labels", ipath,
                     img.dims[0], lpath, lbl.dims[0]);
    int n = img.dims[0];
    if (s == BD_OK) {
        const uint8_t *l = bd_u8(&lbl.t);
        for (int i = 0; i < n; i++)
            if (l[i] >= 10) {
                s = bd_error(BD_ERR_FORMAT, "%s: label %d of sample %d is not a digit 0..9",
                             lpath, l[i], i);
                break;
            }
    }
    memset(ds, 0, sizeof *ds);
    if (s == BD_OK)
        s = bd_tensor_alloc(&ds->y, BD_I32, 1, &n);
    if (s != BD_OK) {
        bd_idx_free(&img);
        bd_idx_free(&lbl);
        return s;
    }
    const uint8_t *l = bd_u8(&lbl.t);
    int32_t *y = bd_i32(&ds->y);
    for (int i = 0; i < n; i++)
        y[i] = l[i];
    bd_idx_free(&lbl);

    /* The image tensor moves into the dataset; [N,H,W] -> [N,1,H,W] keeps
     * the element count, so the reshape cannot fail. */
    ds->x = img.t;
    memset(&img, 0, sizeof img);
    int shape[4] = {n, 1, ds->x.shape[1], ds->x.shape[2]};
    s = bd_tensor_reshape(&ds->x, 4, shape, ipath);
    if (s != BD_OK) {
        bd_dataset_free(ds);
        return s;
    }
    ds->n = n;
    ds->c = 1;
    ds->h = shape[2];
    ds->w = shape[3];
    ds->nclasses = 10;
    ds->scale = 1.0f / 255.0f;
    char base[48];
    base_name(dir, base, sizeof base);
    snprintf(ds->name, sizeof ds->name, "%s-%s", base, suffix);
    return BD_OK;
}

/* Why path is no data folder: missing, or something else (a file given as
 * the name: "/etc/passwd: a file, not a folder"). */
static bd_status not_a_folder(const char *what, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return bd_error(BD_ERR_IO, "%s%s: no such folder (%s); " SETUP_HINT, what, path,
                        strerror(errno));
    return bd_error(BD_ERR_IO, "%s%s: %s, not a folder: the name is mnist, fashion or a "
                    "folder of IDX files (a CSV file is for bd_csv_load)", what, path,
                    S_ISREG(st.st_mode) ? "a file" : "not a file or folder");
}

bd_status bd_mnist_load(const char *dir, bd_dataset *train, bd_dataset *test)
{
    if (!train || !test)
        return bd_error(BD_ERR_ARG, "bd_mnist_load: %s is NULL", !train ? "train" : "test");
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!dir || !*dir)
        return bd_error(BD_ERR_ARG, "bd_mnist_load: dir is empty");
    if (!is_dir(dir))
        return not_a_folder("bd_mnist_load: dir ", dir);
    BD_TRY(load_split(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "train", train));
    bd_status s = load_split(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "test", test);
    if (s != BD_OK) {
        bd_dataset_free(train);
        return s;
    }
    if (test->h != train->h || test->w != train->w) {
        s = bd_error(BD_ERR_FORMAT, "%s: training images are %dx%d but test images are %dx%d",
                     dir, train->h, train->w, test->h, test->w);
        bd_dataset_free(train);
        bd_dataset_free(test);
        return s;
    }
    return BD_OK;
}

bd_status bd_data_dir(const char *name, char *dir, size_t len)
{
    if (!name || !dir)
        return bd_error(BD_ERR_ARG, "bd_data_dir: %s is NULL", !name ? "name" : "dir");
    if (!*name)
        return bd_error(BD_ERR_ARG, "bd_data_dir: name is empty (use mnist, fashion or a folder)");
    if (len == 0)
        return bd_error(BD_ERR_ARG, "bd_data_dir: len is 0 (no room for the folder path)");
    dir[0] = 0;
    int n;
    if (strcmp(name, "mnist") == 0 || strcmp(name, "fashion") == 0) {
        /* $BADAK_DATA/<name> first, then ./data/<name> */
        const char *root = getenv("BADAK_DATA");
        char tried[4096] = "";
        if (root && *root) {
            n = snprintf(dir, len, "%s/%s", root, name);
            if (n < 0 || (size_t)n >= len)
                return bd_error(BD_ERR_ARG, "bd_data_dir: name %s: $BADAK_DATA path too long "
                                "for len %zu", name, len);
            if (is_dir(dir))
                return BD_OK;
            snprintf(tried, sizeof tried, "%s", dir);
        }
        n = snprintf(dir, len, "data/%s", name);
        if (n < 0 || (size_t)n >= len)
            return bd_error(BD_ERR_ARG, "bd_data_dir: name %s: len %zu too small for its "
                            "folder path", name, len);
        if (is_dir(dir))
            return BD_OK;
        return bd_error(BD_ERR_IO, "bd_data_dir: name %s: no folder %s%s%s; " SETUP_HINT,
                        name, dir, *tried ? " nor " : "", tried);
    }
    n = snprintf(dir, len, "%s", name);
    if (n < 0 || (size_t)n >= len)
        return bd_error(BD_ERR_ARG, "bd_data_dir: name %.200s: longer than len %zu", name,
                        len);
    if (!is_dir(dir))
        return not_a_folder("bd_data_dir: name ", name);
    return BD_OK;
}
