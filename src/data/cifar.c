/* cifar.c — the CIFAR-10 and CIFAR-100 "binary version"
 * (https://www.cs.toronto.edu/~kriz/cifar.html).
 *
 * CIFAR-10 (cifar-10-batches-bin/): data_batch_1.bin .. data_batch_5.bin
 * (training, 10000 records each) and test_batch.bin; a record is 1 label
 * byte (0..9) then 3072 pixel bytes: the 1024 red values of the 32x32 image
 * row by row, then the green, then the blue plane, which is exactly badak's
 * [C, H, W] sample layout. batches.meta.txt names the classes, one a line.
 * CIFAR-100 (cifar-100-binary/): train.bin and test.bin, records of 2 label
 * bytes (coarse 0..19, fine 0..99) then the same 3072 bytes; the names are in
 * fine_label_names.txt / coarse_label_names.txt.
 *
 * Samples stay bytes (x BD_U8 [N, 3, 32, 32]: 154 MB for the 50000 training
 * images, not 614 MB of floats), scaled by 1/255 when a batch is gathered.
 * A file whose size is not a whole number of records is refused before
 * anything is read, naming the file and the record cut off; a label out of
 * range names the record too. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#define CIFAR_SIDE 32
#define CIFAR_PIXELS (3 * CIFAR_SIDE * CIFAR_SIDE) /* 3072 */

/* Which labels a record carries and which one is kept. */
typedef struct cifar_kind {
    const char *name;     /* "cifar10", "cifar100", "cifar100-coarse" */
    int label_bytes;      /* 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine) */
    int label_at;         /* which of them is the class */
    int classes;
    const char *train[5]; /* training files, NULL-terminated */
    const char *test;
    const char *names;    /* class names file (optional) */
} cifar_kind;

static const cifar_kind KINDS[] = {
    {"cifar10", 1, 0, 10,
     {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
      "data_batch_5.bin"},
     "test_batch.bin", "batches.meta.txt"},
    {"cifar100", 2, 1, 100, {"train.bin"}, "test.bin", "fine_label_names.txt"},
    {"cifar100-coarse", 2, 0, 20, {"train.bin"}, "test.bin", "coarse_label_names.txt"},
};

/* Records in dir/file, from its size; refuses a size that is not a whole
 * number of records (the last one is cut off) or no record at all. */
static bd_status count_records(const char *path, size_t rec, long *n)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return bd_error(BD_ERR_IO,
                        "%s: cannot open: %s (get the binary version from "
                        "https://www.cs.toronto.edu/~kriz/cifar.html)",
                        path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return bd_error(BD_ERR_IO, "%s: not a regular file", path);
    long long size = (long long)st.st_size;
    if (size == 0)
        return bd_error(BD_ERR_FORMAT, "%s: empty file (expected %zu-byte records)", path, rec);
    if (size % (long long)rec != 0)
        return bd_error(BD_ERR_FORMAT,
                        "%s: %lld bytes is not a whole number of %zu-byte records: record %lld "
                        "is truncated (%lld of %zu bytes)",
                        path, size, rec, size / (long long)rec + 1, size % (long long)rec, rec);
    if (size / (long long)rec > INT32_MAX / 2)
        return bd_error(BD_ERR_FORMAT, "%s: %lld records is too many", path,
                        size / (long long)rec);
    *n = (long)(size / (long long)rec);
    return BD_OK;
}

/* Read n records of path into x (n rows of 3072 bytes) and y. */
static bd_status read_records(const char *path, const cifar_kind *k, long n, uint8_t *x,
                              int32_t *y)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return bd_error(BD_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    bd_status s = BD_OK;
    for (long r = 0; r < n && s == BD_OK; r++) {
        unsigned char lab[2];
        size_t got = fread(lab, 1, (size_t)k->label_bytes, f);
        if (got == (size_t)k->label_bytes)
            got += fread(x + (size_t)r * CIFAR_PIXELS, 1, CIFAR_PIXELS, f);
        if (got != (size_t)k->label_bytes + CIFAR_PIXELS) {
            s = ferror(f) ? bd_error(BD_ERR_IO, "%s: read error in record %ld: %s", path, r + 1,
                                     strerror(errno))
                          : bd_error(BD_ERR_FORMAT, "%s: record %ld truncated (%zu of %d bytes)",
                                     path, r + 1, got, k->label_bytes + CIFAR_PIXELS);
            break;
        }
        int v = lab[k->label_at];
        if (v >= k->classes)
            s = bd_error(BD_ERR_FORMAT, "%s: record %ld: label %d not in 0..%d (%s)", path,
                         r + 1, v, k->classes - 1, k->name);
        y[r] = v;
    }
    fclose(f);
    return s;
}

/* Class names, one a line, into names (newline-separated); a missing file
 * leaves them empty (numbers are printed then). */
static bd_status read_names(const char *path, int classes, char *names, size_t len)
{
    names[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return BD_OK;
    char line[256];
    int n = 0;
    size_t o = 0;
    while (n < classes && fgets(line, sizeof line, f)) {
        size_t l = strcspn(line, "\r\n");
        line[l] = 0;
        if (l == 0)
            continue; /* batches.meta.txt ends with blank lines */
        if (o + l + 2 > len) {
            fclose(f);
            return bd_error(BD_ERR_FORMAT, "%s: class names longer than %zu bytes in all", path,
                            len);
        }
        memcpy(names + o, line, l);
        o += l;
        names[o++] = '\n';
        n++;
    }
    fclose(f);
    names[o] = 0;
    if (n != classes)
        names[0] = 0; /* too few: not this data set's list */
    return BD_OK;
}

/* Load the files of one side (train or test) into ds. */
static bd_status load_side(const char *dir, const cifar_kind *k, const char *const *files,
                           int nfiles, const char *side, bd_dataset *ds)
{
    size_t rec = (size_t)k->label_bytes + CIFAR_PIXELS;
    char path[4096];
    long counts[5], total = 0;
    for (int i = 0; i < nfiles; i++) {
        if (snprintf(path, sizeof path, "%s/%s", dir, files[i]) >= (int)sizeof path)
            return bd_error(BD_ERR_ARG, "%s: folder path too long", dir);
        BD_TRY(count_records(path, rec, &counts[i]));
        total += counts[i];
    }
    if (total > INT32_MAX / 2)
        return bd_error(BD_ERR_FORMAT, "%s: %ld records is too many", dir, total);
    int xs[4] = {(int)total, 3, CIFAR_SIDE, CIFAR_SIDE}, ys = (int)total;
    BD_TRY(bd_tensor_alloc(&ds->x, BD_U8, 4, xs));
    bd_status s = bd_tensor_alloc(&ds->y, BD_I32, 1, &ys);
    long at = 0;
    for (int i = 0; s == BD_OK && i < nfiles; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        s = read_records(path, k, counts[i], bd_u8(&ds->x) + (size_t)at * CIFAR_PIXELS,
                         bd_i32(&ds->y) + at);
        at += counts[i];
    }
    if (s != BD_OK) {
        bd_dataset_free(ds);
        return s;
    }
    ds->n = (int)total;
    ds->c = 3;
    ds->h = ds->w = CIFAR_SIDE;
    ds->nclasses = k->classes;
    ds->scale = 1.0f / 255.0f;
    snprintf(ds->name, sizeof ds->name, "%s-%s", k->name, side);
    return BD_OK;
}

bd_status bd_cifar_load(const char *kind, const char *dir, bd_dataset *train, bd_dataset *test)
{
    if (!kind || !dir || !train || !test)
        return bd_error(BD_ERR_ARG, "bd_cifar_load: %s is NULL",
                        !kind ? "kind" : !dir ? "dir" : !train ? "train" : "test");
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    const cifar_kind *k = NULL;
    for (size_t i = 0; i < sizeof KINDS / sizeof *KINDS; i++)
        if (kind && strcmp(kind, KINDS[i].name) == 0)
            k = &KINDS[i];
    if (!k)
        return bd_error(BD_ERR_ARG, "unknown CIFAR kind '%s' (cifar10, cifar100, "
                        "cifar100-coarse)", kind ? kind : "");
    if (!dir || !*dir)
        return bd_error(BD_ERR_ARG, "%s: empty folder path", k->name);
    int nfiles = 0;
    while (nfiles < 5 && k->train[nfiles])
        nfiles++;
    BD_TRY(load_side(dir, k, k->train, nfiles, "train", train));
    bd_status s = load_side(dir, k, &k->test, 1, "test", test);
    char path[4096];
    if (s == BD_OK && snprintf(path, sizeof path, "%s/%s", dir, k->names) < (int)sizeof path) {
        s = read_names(path, k->classes, train->classes, sizeof train->classes);
        memcpy(test->classes, train->classes, sizeof test->classes);
    }
    if (s != BD_OK) {
        bd_dataset_free(train);
        bd_dataset_free(test);
    }
    return s;
}
