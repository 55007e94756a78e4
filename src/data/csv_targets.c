/* csv_targets.c — a CSV of numbers whose target columns are real numbers
 * (regression) or 0/1 flags (multi-label) rather than one class index:
 * x BD_F32 [N, D] from the other columns, t BD_F32 [N, K] from the K target
 * columns in the order given, y BD_I32 [N] all 0 (no class). The text rules
 * are csv.c's: a first row that is not all numbers is a header, values may
 * have spaces around them, lines may end in \r\n, blank lines are skipped. */
#include "internal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>

#define MAX_COLS 4096

bd_status bd_parse_columns(const char *s, int *cols, int max, int *n)
{
    if (!s || !cols || !n)
        return bd_error(BD_ERR_ARG, "bd_parse_columns: %s is NULL",
                        !s ? "s" : !cols ? "cols" : "n");
    *n = 0;
    const char *p = s;
    while (p && *p) {
        char *end;
        errno = 0;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || errno)
            return bd_error(BD_ERR_ARG, "columns '%s': expected N, N,M or a range N..M", s);
        if (end[0] == '.' && end[1] == '.') {
            const char *q = end + 2;
            b = strtol(q, &end, 10);
            if (end == q || errno)
                return bd_error(BD_ERR_ARG, "columns '%s': bad range", s);
        }
        if (*end && *end != ',')
            return bd_error(BD_ERR_ARG, "columns '%s': unexpected '%c'", s, *end);
        if ((a < 0) != (b < 0) || b < a || a < -MAX_COLS || b >= MAX_COLS)
            return bd_error(BD_ERR_ARG, "columns '%s': range %ld..%ld (both from the start or "
                            "both from the end, first <= last)", s, a, b);
        for (long c = a; c <= b; c++) {
            if (*n == max)
                return bd_error(BD_ERR_ARG, "columns '%s': more than %d", s, max);
            cols[(*n)++] = (int)c;
        }
        p = *end ? end + 1 : end;
    }
    if (*n == 0)
        return bd_error(BD_ERR_ARG, "columns: empty list");
    return BD_OK;
}

typedef struct trows {
    float *x, *t;
    size_t n, cap;
    int d, k;
} trows;

static bd_status grow(trows *r, const char *path)
{
    if (r->n < r->cap)
        return BD_OK;
    size_t cap = r->cap ? r->cap * 2 : 256;
    if (cap > (size_t)INT32_MAX / 2)
        return bd_error(BD_ERR_FORMAT, "%s: too many rows", path);
    float *x = realloc(r->x, cap * (size_t)BD_MAX(r->d, 1) * sizeof *x);
    if (x)
        r->x = x;
    float *t = x ? realloc(r->t, cap * (size_t)r->k * sizeof *t) : NULL;
    if (!x || !t)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory after %zu rows", path, r->n);
    r->t = t;
    r->cap = cap;
    return BD_OK;
}

/* Which target (0..k-1) column j is, or -1 for a feature. Resolves negative
 * columns against ncol and checks them. */
static bd_status resolve(const char *path, const int *cols, int k, int ncol, int *role)
{
    for (int j = 0; j < ncol; j++)
        role[j] = -1;
    for (int i = 0; i < k; i++) {
        int c = cols[i] < 0 ? ncol + cols[i] : cols[i];
        if (c < 0 || c >= ncol)
            return bd_error(BD_ERR_ARG, "%s: target column %d out of range for %d columns",
                            path, cols[i], ncol);
        if (role[c] >= 0)
            return bd_error(BD_ERR_ARG, "%s: target column %d given twice", path, c);
        role[c] = i;
    }
    if (k >= ncol)
        return bd_error(BD_ERR_ARG, "%s: %d target columns leave no feature of %d columns", path,
                        k, ncol);
    return BD_OK;
}

/* One data line (already split into ncol fields) into row r->n. */
static bd_status parse_line(const char *path, long lineno, char **f, int ncol, const int *role,
                            int binary, trows *r)
{
    float *xr = r->x + r->n * (size_t)r->d, *tr = r->t + r->n * (size_t)r->k;
    for (int j = 0, o = 0; j < ncol; j++) {
        double v;
        int ok = bd__csv_num(f[j], &v);
        if (ok != 1)
            return bd_error(BD_ERR_FORMAT, "%s:%ld: column %d: \"%.40s\" is not a %s", path,
                            lineno, j + 1, f[j], ok ? "finite float32 number" : "number");
        if (role[j] < 0) {
            xr[o++] = (float)v;
            continue;
        }
        if (binary && v != 0.0 && v != 1.0)
            return bd_error(BD_ERR_FORMAT, "%s:%ld: column %d: label %.40s is not 0 or 1 "
                            "(multi-label targets are flags)", path, lineno, j + 1, f[j]);
        tr[role[j]] = (float)v;
    }
    return BD_OK;
}

static bd_status read_all(FILE *fp, const char *path, const int *cols, int k, int binary,
                          trows *r)
{
    char *line = NULL, *f[MAX_COLS];
    int role[MAX_COLS];
    size_t lcap = 0;
    long lineno = 0;
    int ncol = 0, header = 0;
    bd_status s = BD_OK;
    ssize_t len;
    while (s == BD_OK && (len = getline(&line, &lcap, fp)) != -1) {
        lineno++;
        if ((size_t)len != strlen(line)) {
            s = bd_error(BD_ERR_FORMAT, "%s:%ld: NUL byte in the line", path, lineno);
            break;
        }
        char *t = bd__csv_trim(line);
        if (!*t)
            continue;
        int nf = bd__csv_split(t, f, MAX_COLS);
        if (nf > MAX_COLS) {
            s = bd_error(BD_ERR_FORMAT, "%s:%ld: more than %d columns", path, lineno, MAX_COLS);
        } else if (ncol == 0) {
            ncol = nf;
            r->k = k;
            r->d = ncol - k;
            s = resolve(path, cols, k, ncol, role);
            int numeric = 1;
            double v;
            for (int j = 0; s == BD_OK && j < ncol && numeric; j++)
                numeric = bd__csv_num(f[j], &v) != 0;
            if (s == BD_OK && !numeric) {
                header = 1;
                continue;
            }
        } else if (nf != ncol) {
            s = bd_error(BD_ERR_FORMAT, "%s:%ld: %d columns, expected %d%s", path, lineno, nf,
                         ncol, header ? " (as in the header)" : "");
        }
        if (s == BD_OK)
            s = grow(r, path);
        if (s == BD_OK)
            s = parse_line(path, lineno, f, ncol, role, binary, r);
        if (s == BD_OK)
            r->n++;
    }
    if (s == BD_OK && ferror(fp))
        s = bd_error(BD_ERR_IO, "%s: read error: %s", path, strerror(errno));
    if (s == BD_OK && r->n == 0)
        s = bd_error(BD_ERR_FORMAT, "%s: no data rows%s", path,
                     ncol == 0 ? " (empty file)" : " (only a header)");
    free(line);
    return s;
}

bd_status bd_csv_load_targets(const char *path, const int *cols, int k, bd_task task,
                              bd_dataset *out)
{
    if (!path || !cols || !out)
        return bd_error(BD_ERR_ARG, "bd_csv_load_targets: %s is NULL",
                        !path ? "path" : !cols ? "cols" : "out");
    memset(out, 0, sizeof *out);
    if (!*path)
        return bd_error(BD_ERR_ARG, "CSV: empty file path");
    if (k < 1 || k > MAX_COLS)
        return bd_error(BD_ERR_ARG, "%s: %d target columns", path, k);
    if (task != BD_TASK_REGRESS && task != BD_TASK_MULTILABEL)
        return bd_error(BD_ERR_ARG, "%s: targets are for regression or multi-label", path);
    FILE *fp; /* a regular file only: a FIFO is refused, never waited on */
    BD_TRY(bd__fopen_input(path, "CSV", &fp, NULL));
    trows r = {0};
    bd_status s = read_all(fp, path, cols, k, task == BD_TASK_MULTILABEL, &r);
    fclose(fp);
    int n = (int)r.n, xs[2] = {n, r.d}, ts[2] = {n, k};
    if (s == BD_OK)
        s = bd_tensor_alloc(&out->x, BD_F32, 2, xs);
    if (s == BD_OK)
        s = bd_tensor_alloc(&out->y, BD_I32, 1, &n);
    if (s == BD_OK)
        s = bd_tensor_alloc(&out->t, BD_F32, 2, ts);
    if (s == BD_OK) {
        memcpy(out->x.data, r.x, r.n * (size_t)r.d * sizeof(float));
        memcpy(out->t.data, r.t, r.n * (size_t)k * sizeof(float));
        out->n = n;
        out->c = out->h = 1;
        out->w = r.d;
        out->nclasses = k; /* outputs of the network */
        out->task = task;
        out->scale = 1.0f;
        const char *b = strrchr(path, '/');
        snprintf(out->name, sizeof out->name, "%.*s", (int)strcspn(b ? b + 1 : path, "."),
                 b ? b + 1 : path);
    } else {
        bd_dataset_free(out);
    }
    free(r.x);
    free(r.t);
    return s;
}
