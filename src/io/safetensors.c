/* safetensors.c — reading and writing safetensors files
 * (https://github.com/huggingface/safetensors), the format numpy and PyTorch
 * open through the `safetensors` package. Unlike the book's pickle files,
 * loading one runs no code: it is a JSON header (parsed with cJSON) and raw
 * little-endian numbers, and every part is checked before it is trusted.
 *
 * Writes are atomic: a temporary file in the same folder is written, flushed,
 * fsync'd and renamed over the target, then the folder is fsync'd, so a
 * crash at any moment leaves either the old file or the new one. */
#include "io/st.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_CHUNK ((size_t)1 << 16) /* bytes per fwrite (and per test-hook point) */

/* ------------------------------------------------------------- test hook */

static void (*g_hook)(const char *stage, void *ud);
static void *g_hook_ud;

void bd__debug_save_hook(void (*fn)(const char *stage, void *ud), void *ud)
{
    g_hook = fn;
    g_hook_ud = ud;
}

static void hook(const char *stage)
{
    if (g_hook)
        g_hook(stage, g_hook_ud);
}

/* ------------------------------------------------------------ endianness */

static int host_le(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* n 4-byte words from src to dst, byte-swapped on a big-endian host */
static void copy_le32(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n * 4);
    if (host_le())
        return;
    unsigned char *p = dst;
    for (size_t i = 0; i < n; i++, p += 4) {
        unsigned char t = p[0];
        p[0] = p[3], p[3] = t;
        t = p[1], p[1] = p[2], p[2] = t;
    }
}

/* ----------------------------------------------------------------- write */

static size_t elems(const bd__st_out *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= (size_t)t->shape[d];
    return n;
}

/* The JSON header, padded with spaces to a multiple of 8 bytes so the data
 * area is aligned (as the reference writer does). *text is malloc'd. */
static bd_status make_header(const char *path, const bd__st_out *t, int n, const cJSON *meta,
                             char **text, size_t *len)
{
    cJSON *root = cJSON_CreateObject();
    bd_status s = root ? BD_OK : BD_ERR_NOMEM;
    if (s == BD_OK && meta) {
        cJSON *m = cJSON_Duplicate(meta, 1);
        if (!m || !cJSON_AddItemToObject(root, "__metadata__", m)) {
            cJSON_Delete(m);
            s = BD_ERR_NOMEM;
        }
    }
    size_t off = 0;
    for (int i = 0; s == BD_OK && i < n; i++) {
        for (int j = 0; j < i; j++)
            if (!strcmp(t[i].name, t[j].name)) {
                cJSON_Delete(root);
                return bd_error(BD_ERR_ARG, "%s: two tensors named '%s'", path, t[i].name);
            }
        size_t bytes = elems(&t[i]) * 4;
        double shape[BD_MAXDIM], offs[2] = {(double)off, (double)(off + bytes)};
        for (int d = 0; d < t[i].ndim; d++)
            shape[d] = t[i].shape[d];
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToObject(root, t[i].name, e) ||
            !cJSON_AddStringToObject(e, "dtype", t[i].is_i32 ? "I32" : "F32") ||
            !cJSON_AddItemToObject(e, "shape", cJSON_CreateDoubleArray(shape, t[i].ndim)) ||
            !cJSON_AddItemToObject(e, "data_offsets", cJSON_CreateDoubleArray(offs, 2)))
            s = BD_ERR_NOMEM;
        off += bytes;
    }
    char *js = s == BD_OK ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!js)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory building the header", path);
    size_t l = strlen(js), padded = (l + 7) & ~(size_t)7;
    char *p = realloc(js, padded + 1);
    if (!p) {
        free(js);
        return bd_error(BD_ERR_NOMEM, "%s: out of memory building the header", path);
    }
    memset(p + l, ' ', padded - l);
    p[padded] = 0;
    *text = p;
    *len = padded;
    return BD_OK;
}

bd_status bd__st_write(const char *path, const bd__st_out *t, int n, const cJSON *meta)
{
    char *hdr = NULL;
    size_t hlen = 0;
    BD_TRY(make_header(path, t, n, meta, &hdr, &hlen));
    bd__afile af;
    bd_status os = bd__afile_open(&af, path, "model");
    if (os != BD_OK) {
        free(hdr);
        return os;
    }
    FILE *f = af.f;
    hook("open");
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    int bad = fwrite(len8, 1, 8, f) != 8 || fwrite(hdr, 1, hlen, f) != hlen;
    free(hdr);
    hook("header");
    unsigned char buf[WRITE_CHUNK];
    for (int i = 0; !bad && i < n; i++) {
        const unsigned char *src = t[i].data;
        size_t left = elems(&t[i]);
        while (!bad && left > 0) {
            size_t k = BD_MIN(left, WRITE_CHUNK / 4);
            copy_le32(buf, src, k);
            bad = fwrite(buf, 4, k, f) != k;
            src += k * 4;
            left -= k;
            hook("data");
        }
    }
    if (bad) {
        af.err = errno;
        return bd__afile_commit(&af); /* fails: says why, removes the temporary file */
    }
    BD_TRY(bd__afile_commit_stage(&af, hook));
    hook("done");
    return BD_OK;
}

/* ------------------------------------------------------------------ read */

static bd_status bad_file(const bd__st *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bd_status bad_file(const bd__st *st, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bd_error(BD_ERR_FORMAT, "%s: %s", st->origin, msg);
}

/* a JSON number that is a whole number in [0, max] */
static int json_uint(const cJSON *v, double max, double *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d > max || d != floor(d))
        return 0;
    *out = d;
    return 1;
}

/* A printable, truncated copy of a name for messages. */
static const char *shown(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    for (; s && *s && o + 4 < len; s++)
        buf[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    if (s && *s)
        buf[o - 1] = buf[o - 2] = buf[o - 3] = '.';
    buf[o] = 0;
    return buf;
}

static bd_status parse_entry(bd__st *st, const cJSON *item, bd__st_entry *e)
{
    char nm[80];
    const char *name = shown(item->string, nm, sizeof nm);
    if (!cJSON_IsObject(item))
        return bad_file(st, "tensor '%s': entry is not a JSON object", name);
    const cJSON *dt = NULL, *sh = NULL, *of = NULL, *k;
    cJSON_ArrayForEach(k, item)
    {
        const cJSON **slot = !strcmp(k->string, "dtype")          ? &dt
                             : !strcmp(k->string, "shape")        ? &sh
                             : !strcmp(k->string, "data_offsets") ? &of
                                                                  : NULL;
        char kn[40];
        if (!slot)
            return bad_file(st, "tensor '%s': unexpected key '%s'", name,
                            shown(k->string, kn, sizeof kn));
        if (*slot)
            return bad_file(st, "tensor '%s': key '%s' given twice", name, k->string);
        *slot = k;
    }
    if (!dt || !sh || !of)
        return bad_file(st, "tensor '%s': missing '%s'", name,
                        !dt ? "dtype" : !sh ? "shape" : "data_offsets");
    if (!cJSON_IsString(dt))
        return bad_file(st, "tensor '%s': dtype is not a string", name);
    char dn[24];
    if (!strcmp(dt->valuestring, "F32"))
        e->is_i32 = 0;
    else if (!strcmp(dt->valuestring, "I32"))
        e->is_i32 = 1;
    else
        return bad_file(st, "tensor '%s': dtype '%s' is not supported (badak reads F32)", name,
                        shown(dt->valuestring, dn, sizeof dn));
    if (!cJSON_IsArray(sh))
        return bad_file(st, "tensor '%s': shape is not an array", name);
    int nd = cJSON_GetArraySize(sh);
    if (nd > BD_MAXDIM)
        return bad_file(st, "tensor '%s': %d dimensions (at most %d)", name, nd, BD_MAXDIM);
    e->ndim = nd;
    size_t count = 1;
    int d = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, sh)
    {
        double x;
        if (!json_uint(v, (double)INT32_MAX, &x))
            return bad_file(st, "tensor '%s': shape entry %d is not an integer in 0..%d", name,
                            d, INT32_MAX);
        e->shape[d++] = (int)x;
        if (x > 0 && count > SIZE_MAX / 4 / (size_t)x)
            return bad_file(st, "tensor '%s': shape too large", name);
        count *= (size_t)x;
    }
    e->count = count;
    double b, en;
    if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 ||
        !json_uint(cJSON_GetArrayItem(of, 0), 9007199254740992.0, &b) ||
        !json_uint(cJSON_GetArrayItem(of, 1), 9007199254740992.0, &en))
        return bad_file(st, "tensor '%s': data_offsets must be two non-negative integers",
                        name);
    if (en < b)
        return bad_file(st, "tensor '%s': data_offsets [%.0f, %.0f] end before they begin", name,
                        b, en);
    if (en > (double)st->data_len)
        return bad_file(st, "tensor '%s': data_offsets [%.0f, %.0f] outside the data area of "
                        "%zu bytes", name, b, en, st->data_len);
    e->begin = (size_t)b;
    e->end = (size_t)en;
    if (e->end - e->begin != count * 4)
        return bad_file(st, "tensor '%s': shape holds %zu bytes but data_offsets [%zu, %zu] "
                        "span %zu", name, count * 4, e->begin, e->end, e->end - e->begin);
    e->name = item->string;
    return BD_OK;
}

static int by_begin(const void *a, const void *b)
{
    const bd__st_entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The header: its length (8 bytes, little-endian) within the file and the
 * cap, then one JSON object and nothing but padding after it. Sets
 * st->root, data, data_len. */
static bd_status parse_header(bd__st *st, const unsigned char *buf, size_t len)
{
    if (len < 8)
        return bad_file(st, "%zu bytes: too short for a safetensors file (8-byte header "
                        "length first)", len);
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = h << 8 | buf[i];
    if (h > BD_ST_MAX_HEADER)
        return bad_file(st, "header length %llu is over the %llu-byte limit: not a "
                        "safetensors file", (unsigned long long)h,
                        (unsigned long long)BD_ST_MAX_HEADER);
    if (h > len - 8)
        return bad_file(st, "header length %llu runs past the end of the file (%zu bytes): "
                        "truncated?", (unsigned long long)h, len);
    if (h < 2)
        return bad_file(st, "header length %llu: too short for a JSON object",
                        (unsigned long long)h);
    const char *js = (const char *)buf + 8;
    if (memchr(js, 0, (size_t)h))
        return bad_file(st, "header contains a NUL byte: not JSON");
    const char *end = NULL;
    st->root = cJSON_ParseWithLengthOpts(js, (size_t)h, &end, 0);
    if (!st->root) {
        size_t at = end && end >= js ? (size_t)(end - js) : 0;
        return bad_file(st, "header is not well-formed JSON (error near byte %zu of %llu)", at,
                        (unsigned long long)h);
    }
    for (const char *p = end; p < js + h; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return bad_file(st, "header has bytes after its JSON object (at byte %zu)",
                            (size_t)(p - js));
    if (!cJSON_IsObject(st->root))
        return bad_file(st, "header is JSON but not an object");
    st->data = buf + 8 + h;
    st->data_len = len - 8 - (size_t)h;
    return BD_OK;
}

/* __metadata__: once, an object of strings */
static bd_status take_metadata(bd__st *st, const cJSON *item)
{
    if (st->meta)
        return bad_file(st, "__metadata__ given twice");
    if (!cJSON_IsObject(item))
        return bad_file(st, "__metadata__ is not an object");
    const cJSON *v;
    cJSON_ArrayForEach(v, item) if (!cJSON_IsString(v))
    {
        char kn[40];
        return bad_file(st, "__metadata__ value of '%s' is not a string",
                        shown(v->string, kn, sizeof kn));
    }
    st->meta = item;
    return BD_OK;
}

/* every member of the header: the metadata and the tensors (each once) */
static bd_status take_members(bd__st *st)
{
    int n = cJSON_GetArraySize(st->root);
    st->e = calloc((size_t)(n > 0 ? n : 1), sizeof *st->e);
    if (!st->e)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory", st->origin);
    const cJSON *item;
    cJSON_ArrayForEach(item, st->root)
    {
        if (!strcmp(item->string, "__metadata__")) {
            BD_TRY(take_metadata(st, item));
            continue;
        }
        for (int j = 0; j < st->n; j++)
            if (!strcmp(st->e[j].name, item->string)) {
                char nm[80];
                return bad_file(st, "tensor '%s' appears twice",
                                shown(item->string, nm, sizeof nm));
            }
        BD_TRY(parse_entry(st, item, &st->e[st->n]));
        st->n++;
    }
    return BD_OK;
}

/* the ranges, in file order, must tile the data area exactly */
static bd_status check_tiling(const bd__st *st)
{
    if (st->n == 0)
        return st->data_len ? bad_file(st, "%zu bytes of data but no tensors", st->data_len)
                            : BD_OK;
    bd__st_entry *sorted = malloc((size_t)st->n * sizeof *sorted);
    if (!sorted)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory", st->origin);
    memcpy(sorted, st->e, (size_t)st->n * sizeof *sorted);
    qsort(sorted, (size_t)st->n, sizeof *sorted, by_begin);
    bd_status s = BD_OK;
    size_t at = 0;
    for (int i = 0; s == BD_OK && i < st->n; i++) {
        char a[80], b[80];
        if (sorted[i].begin > at)
            s = bad_file(st, "gap of %zu bytes before tensor '%s' (data_offsets must cover "
                         "the data area)", sorted[i].begin - at,
                         shown(sorted[i].name, a, sizeof a));
        else if (sorted[i].begin < at)
            s = bad_file(st, "tensor '%s' overlaps tensor '%s'",
                         shown(sorted[i].name, a, sizeof a),
                         shown(sorted[i - 1].name, b, sizeof b));
        at = sorted[i].end;
    }
    if (s == BD_OK && at != st->data_len)
        s = bad_file(st, "%zu bytes of trailing data after the last tensor", st->data_len - at);
    free(sorted);
    return s;
}

bd_status bd__st_parse(bd__st *st, const unsigned char *buf, size_t len, const char *origin)
{
    memset(st, 0, sizeof *st);
    st->origin = origin ? origin : "model file";
    bd_status s = parse_header(st, buf, len);
    if (s == BD_OK)
        s = take_members(st);
    if (s == BD_OK)
        s = check_tiling(st);
    if (s != BD_OK)
        bd__st_free(st);
    return s;
}

bd_status bd__st_read_file(bd__st *st, const char *path)
{
    memset(st, 0, sizeof *st);
    FILE *f;
    off_t fsize = 0;
    BD_TRY(bd__fopen_input(path, "model", &f, &fsize));
    size_t len = (size_t)fsize;
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return bd_error(BD_ERR_NOMEM, "%s: out of memory for %zu bytes", path, len);
    }
    size_t got = fread(buf, 1, len, f);
    int err = ferror(f);
    fclose(f);
    if (err || got != len) {
        free(buf);
        return bd_error(BD_ERR_IO, "%s: read error: %s", path,
                        err ? strerror(errno) : "the file shrank while being read");
    }
    bd_status s = bd__st_parse(st, buf, len, path);
    if (s != BD_OK) {
        free(buf);
        return s;
    }
    st->owned = buf;
    return BD_OK;
}

void bd__st_free(bd__st *st)
{
    cJSON_Delete(st->root);
    free(st->e);
    free(st->owned);
    const char *origin = st->origin;
    memset(st, 0, sizeof *st);
    st->origin = origin;
}

const bd__st_entry *bd__st_find(const bd__st *st, const char *name)
{
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->e[i].name, name))
            return &st->e[i];
    return NULL;
}

const char *bd__st_meta(const bd__st *st, const char *key)
{
    const cJSON *v = st->meta ? cJSON_GetObjectItemCaseSensitive(st->meta, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void bd__st_copy(const bd__st *st, const bd__st_entry *e, void *dst)
{
    copy_le32(dst, st->data + e->begin, e->count);
}

/* --------------------------------------------------------- metadata text */

bd_status bd__meta_str(cJSON *m, const char *key, const char *val)
{
    cJSON_DeleteItemFromObjectCaseSensitive(m, key);
    if (!cJSON_AddStringToObject(m, key, val ? val : ""))
        return bd_error(BD_ERR_NOMEM, "out of memory writing metadata");
    return BD_OK;
}

bd_status bd__meta_fmt(cJSON *m, const char *key, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return bd__meta_str(m, key, buf);
}

static bd_status need(const bd__st *st, const char *key, const char **v)
{
    *v = bd__st_meta(st, key);
    if (!*v)
        return bad_file(st, "__metadata__ lacks '%s'", key);
    return BD_OK;
}

bd_status bd__meta_get_long(const bd__st *st, const char *key, long lo, long hi, long *out)
{
    const char *v;
    BD_TRY(need(st, key, &v));
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    char sv[40];
    if (end == v || *end || errno || x < lo || x > hi)
        return bad_file(st, "__metadata__ '%s' = '%s' is not an integer in %ld..%ld", key,
                        shown(v, sv, sizeof sv), lo, hi);
    *out = x;
    return BD_OK;
}

bd_status bd__meta_get_double(const bd__st *st, const char *key, double *out)
{
    const char *v;
    BD_TRY(need(st, key, &v));
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    char sv[40];
    if (end == v || *end || (errno && isfinite(x)) || isnan(x))
        return bad_file(st, "__metadata__ '%s' = '%s' is not a number", key,
                        shown(v, sv, sizeof sv));
    *out = x;
    return BD_OK;
}

bd_status bd__meta_get_u64(const bd__st *st, const char *key, uint64_t *out)
{
    const char *v;
    BD_TRY(need(st, key, &v));
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 0);
    char sv[40];
    if (end == v || *end || errno || v[0] == '-')
        return bad_file(st, "__metadata__ '%s' = '%s' is not a non-negative integer", key,
                        shown(v, sv, sizeof sv));
    *out = (uint64_t)x;
    return BD_OK;
}
