/* csv.c — a CSV of numbers as a data set: one sample a row, one column the
 * class index, the others the features (x BD_F32 [N, D], y BD_I32 [N]).
 * Values may have spaces around them; lines may end in \r\n; blank lines are
 * skipped. A first row that is not all numbers is a header. */
#include "internal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>

#define CSV_MAX_CLASSES (1 << 20) /* a label beyond this is a wrong column */

/* Growable float / int buffers for the rows read so far. */
typedef struct rows {
    float *x;
    int32_t *y;
    size_t n, cap; /* rows */
    int d;         /* features per row */
} rows;

static int is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return 0;
    return 1;
}

/* Trim in place; returns the first non-space character. */
char *bd__csv_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    *e = 0;
    return s;
}

/* Whole-field number: strtod must consume every character. Returns 1 for a
 * finite float32 value, 0 for text that is no number, -1 for inf, nan or a
 * value beyond float range (training could only go wrong with those). */
int bd__csv_num(const char *s, double *v)
{
    if (!*s)
        return 0;
    /* strtod also reads hex ("0x10") and "infinity": a data file's numbers
     * are decimal */
    for (const char *c = s; *c; c++)
        if (*c == 'x' || *c == 'X')
            return 0;
    char *end;
    *v = strtod(s, &end);
    if (end == s || *end)
        return 0;
    if (!isfinite(*v) || fabs(*v) > (double)FLT_MAX)
        return -1;
    return 1;
}

/* Split a line into fields at commas (in place). Returns the number of
 * fields; at most `max` pointers are stored. */
int bd__csv_split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *c = strchr(p, ',');
        if (c)
            *c = 0;
        if (n < max)
            f[n] = bd__csv_trim(p);
        n++;
        if (!c)
            break;
        p = c + 1;
    }
    return n;
}

static int count_fields(const char *line)
{
    int n = 1;
    for (; *line; line++)
        n += *line == ',';
    return n;
}

static bd_status grow(rows *r, const char *path)
{
    if (r->n < r->cap)
        return BD_OK;
    size_t cap = r->cap ? r->cap * 2 : 256;
    if (cap > (size_t)INT32_MAX || cap > SIZE_MAX / sizeof(float) / (size_t)r->d)
        return bd_error(BD_ERR_FORMAT, "%s: too many rows", path);
    float *x = realloc(r->x, cap * (size_t)r->d * sizeof *x);
    if (!x)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory after %zu rows", path, r->n);
    r->x = x;
    int32_t *y = realloc(r->y, cap * sizeof *y);
    if (!y)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory after %zu rows", path, r->n);
    r->y = y;
    r->cap = cap;
    return BD_OK;
}

/* Base name without directory and ".csv" ("data/iris.csv" -> "iris"). */
static void csv_name(const char *path, char *out, size_t len)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n > 4 && strcmp(b + n - 4, ".csv") == 0)
        n -= 4;
    if (n >= len)
        n = len - 1;
    memcpy(out, b, n);
    out[n] = 0;
}

/* Parse the data rows of an open file into r. */
static bd_status read_rows(FILE *fp, const char *path, int label_col, rows *r, int *ncls)
{
    char *line = NULL, **f = NULL;
    size_t lcap = 0;
    long lineno = 0;
    int ncol = 0, lc = 0, maxlab = -1;
    int header_line = 0; /* line number of the header, 0 if none */
    bd_status s = BD_OK;
    ssize_t len;
    errno = 0;
    while ((len = getline(&line, &lcap, fp)) != -1) {
        lineno++;
        if ((size_t)len != strlen(line)) {
            s = bd_error(BD_ERR_FORMAT, "%s:%ld: NUL byte in the line (not a text CSV)", path,
                         lineno);
            break;
        }
        if (is_blank(line))
            continue;
        int nf = count_fields(line);
        if (ncol == 0) {
            /* First row: fixes the column count and may be a header. */
            ncol = nf;
            if (ncol < 2) {
                s = bd_error(BD_ERR_FORMAT,
                             "%s:%ld: 1 column; need features and a label (at least 2)", path,
                             lineno);
                break;
            }
            lc = label_col < 0 ? ncol + label_col : label_col;
            if (lc < 0 || lc >= ncol) {
                s = bd_error(BD_ERR_ARG, "%s: label column %d out of range for %d columns",
                             path, label_col, ncol);
                break;
            }
            f = malloc((size_t)ncol * sizeof *f);
            if (!f) {
                s = bd_error(BD_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            r->d = ncol - 1;
            bd__csv_split(line, f, ncol);
            int numeric = 1;
            for (int j = 0; j < ncol && numeric; j++) {
                double v;
                numeric = bd__csv_num(f[j], &v) != 0;
            }
            if (!numeric) {
                header_line = (int)lineno;
                continue;
            }
        } else {
            if (nf != ncol) {
                s = bd_error(BD_ERR_FORMAT, "%s:%ld: %d columns, expected %d%s", path, lineno,
                             nf, ncol, header_line ? " (as in the header)" : "");
                break;
            }
            bd__csv_split(line, f, ncol);
        }
        if ((s = grow(r, path)) != BD_OK)
            break;
        float *xr = r->x + r->n * (size_t)r->d;
        for (int j = 0, k = 0; j < ncol; j++) {
            double v;
            int ok = bd__csv_num(f[j], &v);
            if (ok != 1) {
                s = bd_error(BD_ERR_FORMAT, "%s:%ld: column %d: \"%.40s%s\" is not a %s",
                             path, lineno, j + 1, f[j], strlen(f[j]) > 40 ? "..." : "",
                             ok ? "finite float32 number" : "number");
                break;
            }
            if (j == lc) {
                if (v < 0 || v != floor(v) || v >= CSV_MAX_CLASSES) {
                    s = bd_error(BD_ERR_FORMAT,
                                 "%s:%ld: column %d: label %.40s is not a class index "
                                 "(an integer 0..%d)",
                                 path, lineno, j + 1, f[j], CSV_MAX_CLASSES - 1);
                    break;
                }
                r->y[r->n] = (int32_t)v;
                maxlab = BD_MAX(maxlab, (int)v);
            } else {
                xr[k++] = (float)v;
            }
        }
        if (s != BD_OK)
            break;
        r->n++;
    }
    if (s == BD_OK && ferror(fp))
        s = bd_error(BD_ERR_IO, "%s: read error: %s", path, strerror(errno));
    if (s == BD_OK && r->n == 0)
        s = bd_error(BD_ERR_FORMAT, "%s: no data rows%s", path,
                     ncol == 0 ? " (empty file)" : " (only a header)");
    free(line);
    free(f);
    *ncls = maxlab + 1;
    return s;
}

bd_status bd_csv_load(const char *path, int label_col, bd_dataset *out)
{
    if (!path || !out)
        return bd_error(BD_ERR_ARG, "bd_csv_load: %s is NULL", !path ? "path" : "out");
    memset(out, 0, sizeof *out);
    if (!path || !*path)
        return bd_error(BD_ERR_ARG, "CSV: empty file path");
    FILE *fp;
    BD_TRY(bd__fopen_input(path, "CSV", &fp, NULL));
    rows r = {0};
    int ncls = 0;
    bd_status s = read_rows(fp, path, label_col, &r, &ncls);
    fclose(fp);
    if (s == BD_OK) {
        int xs[2] = {(int)r.n, r.d};
        s = bd_tensor_alloc(&out->x, BD_F32, 2, xs);
        if (s == BD_OK)
            s = bd_tensor_alloc(&out->y, BD_I32, 1, xs);
    }
    if (s == BD_OK) {
        memcpy(out->x.data, r.x, r.n * (size_t)r.d * sizeof(float));
        memcpy(out->y.data, r.y, r.n * sizeof(int32_t));
        out->n = (int)r.n;
        out->c = 1;
        out->h = 1;
        out->w = r.d;
        out->nclasses = ncls;
        out->scale = 1.0f;
        csv_name(path, out->name, sizeof out->name);
    } else {
        bd_dataset_free(out);
    }
    free(r.x);
    free(r.y);
    return s;
}
