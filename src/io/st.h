/* st.h — safetensors files inside the library (not installed).
 *
 * A safetensors file is: 8 bytes, the little-endian length H of a JSON
 * header; H bytes of JSON (an object: one entry per tensor, {"dtype":"F32",
 * "shape":[..],"data_offsets":[begin,end]}, plus an optional "__metadata__"
 * object of strings); then the data area, every tensor's bytes little-endian,
 * row-major, at [begin, end) counted from the data area's start. */
#ifndef BADAK_IO_ST_H
#define BADAK_IO_ST_H

#include "internal.h"

#include <cJSON.h>

#define BD_ST_MAX_HEADER ((uint64_t)100 << 20) /* 100 MB, the reference library's cap */
#define BD_MODEL_FORMAT "1"                    /* badak.format written and read */

/* ---- writing */

/* One tensor to write: F32 (float) or I32 (int32_t) elements. */
typedef struct bd__st_out {
    char name[96];
    int is_i32;
    int ndim;
    int shape[BD_MAXDIM];
    const void *data;   /* product(shape) elements */
} bd__st_out;

/* Write the tensors (in the given order) and `meta` (a cJSON object of
 * strings, may be NULL) to path atomically: PATH.tmp.PID in the same
 * folder, fwrite, fflush, fsync, rename, fsync of the folder. */
bd_status bd__st_write(const char *path, const bd__st_out *t, int n, const cJSON *meta);

/* ---- reading */

typedef struct bd__st_entry {
    const char *name;   /* points into the parsed JSON */
    int is_i32;
    int ndim;
    int shape[BD_MAXDIM];
    size_t count;       /* elements */
    size_t begin, end;  /* byte range in the data area */
} bd__st_entry;

typedef struct bd__st {
    const unsigned char *data; /* the data area */
    size_t data_len;
    int n;
    bd__st_entry *e;
    cJSON *root;
    const cJSON *meta;         /* "__metadata__" or NULL */
    unsigned char *owned;      /* the file's bytes, when read from a file */
    const char *origin;        /* file name for messages */
} bd__st;

/* Parse and validate a whole file image: header length, JSON, entries,
 * dtypes, shapes against byte ranges, ranges inside the data area, not
 * overlapping and covering it fully. buf must outlive st. Errors are
 * BD_ERR_FORMAT naming `origin` and the problem. */
bd_status bd__st_parse(bd__st *st, const unsigned char *buf, size_t len, const char *origin);
/* Read path fully (BD_ERR_IO if unreadable) and parse it. */
bd_status bd__st_read_file(bd__st *st, const char *path);
void bd__st_free(bd__st *st);
const bd__st_entry *bd__st_find(const bd__st *st, const char *name);
/* The metadata string of key, or NULL. */
const char *bd__st_meta(const bd__st *st, const char *key);
/* Copy entry e's elements (little-endian in the file) into dst. */
void bd__st_copy(const bd__st *st, const bd__st_entry *e, void *dst);

/* ---- badak's model tensors and metadata */

/* Names and views of every tensor of net, in block order: "<layer>.<pname>"
 * and "<layer>.<sname>". Returns the count; out may be NULL (count only). */
int bd__model_tensors(const bd_net *net, bd__st_out *out, int max);
/* Add the model's metadata (architecture, format, regularisation, meta) to
 * the cJSON object m. */
bd_status bd__model_meta_put(cJSON *m, const bd_net *net, const bd_model_meta *meta);
/* Rebuild the network and its weights from a parsed file. Tensors named
 * "optim." or "train." are left to the caller when allow_train is set
 * (checkpoints); otherwise they are unknown tensors. */
bd_status bd__model_from_st(bd_net *net, const bd__st *st, bd_model_meta *meta, int allow_train);

/* metadata helpers: put a string / a number as text; get and parse */
bd_status bd__meta_str(cJSON *m, const char *key, const char *val);
bd_status bd__meta_fmt(cJSON *m, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bd_status bd__meta_get_long(const bd__st *st, const char *key, long lo, long hi, long *out);
bd_status bd__meta_get_double(const bd__st *st, const char *key, double *out);
/* model_inputs.c: how inputs were made and the class names (badak.norm_mean,
 * badak.norm_std: comma-separated per channel; badak.classes: one a line) */
bd_status bd__meta_put_inputs(cJSON *m, const bd_model_meta *meta);
bd_status bd__meta_get_inputs(const bd__st *st, bd_model_meta *meta);
bd_status bd__meta_get_u64(const bd__st *st, const char *key, uint64_t *out);

/* the metadata's values checked (src/io/checkpoint_check.c) */
bd_status bd__model_meta_check(const char *f, const bd__st *st, const bd_net *net,
                               const bd_model_meta *m);
#endif
