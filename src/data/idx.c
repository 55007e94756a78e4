/* idx.c — reader for IDX files (the MNIST format), plain or gzip-compressed.
 *
 * Layout: 0x00 0x00 <type> <ndim>, then ndim big-endian uint32 sizes, then
 * the elements, big-endian, row-major. zlib's gzread reads plain files as they
 * are, so one code path serves both. The data is streamed in 1 MiB chunks
 * straight into the tensor (converted on the fly for non-byte types), so the
 * peak memory is the tensor plus one chunk. Every check happens before the
 * big allocation where it can: a header that claims more data than the file
 * could hold is rejected without allocating. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_CHUNK (1u << 20)               /* bytes read per gzread */
/* deflate cannot expand more than ~1032:1, so a .gz of S bytes holds at most
 * this many times S bytes of data (with slack for headers). */
#define GZ_MAX_RATIO 1040u

/* Bytes per element of an IDX type, 0 if the type is unknown. */
static unsigned type_size(int type)
{
    switch (type) {
    case 0x08: return 1; /* unsigned byte */
    case 0x09: return 1; /* signed byte */
    case 0x0B: return 2; /* int16 */
    case 0x0C: return 4; /* int32 */
    case 0x0D: return 4; /* float32 */
    case 0x0E: return 8; /* float64 */
    }
    return 0;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* zlib's message for the last error, without the "path: " it prefixes. */
static const char *gz_msg(gzFile f, const char *path, int *zerr)
{
    const char *m = gzerror(f, zerr);
    size_t pl = strlen(path);
    if (!m || !*m)
        return "zlib error";
    if (strncmp(m, path, pl) == 0 && m[pl] == ':' && m[pl + 1] == ' ')
        m += pl + 2;
    return m;
}

/* Read up to n bytes, looping over short reads; *got is what arrived. Returns
 * BD_OK at end of data too: the caller compares *got with n. */
static bd_status read_full(gzFile f, const char *path, void *buf, size_t n, size_t *got)
{
    unsigned char *p = buf;
    *got = 0;
    while (*got < n) {
        size_t want = BD_MIN(n - *got, (size_t)IDX_CHUNK);
        int r = gzread(f, p + *got, (unsigned)want);
        if (r < 0) {
            int zerr;
            const char *msg = gz_msg(f, path, &zerr);
            if (zerr == Z_ERRNO)
                return bd_error(BD_ERR_IO, "%s: read error: %s", path, strerror(errno));
            return bd_error(BD_ERR_FORMAT, "%s: corrupt compressed data: %s", path, msg);
        }
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return BD_OK;
}

/* zlib reports a damaged stream (CRC, cut-off member) through gzerror even
 * when gzread returned data; check it once the data has been read. */
static bd_status check_gz_error(gzFile f, const char *path)
{
    int zerr = Z_OK;
    const char *msg = gz_msg(f, path, &zerr);
    if (zerr == Z_ERRNO)
        return bd_error(BD_ERR_IO, "%s: read error: %s", path, strerror(errno));
    if (zerr != Z_OK)
        return bd_error(BD_ERR_FORMAT, "%s: corrupt compressed data: %s", path, msg);
    return BD_OK;
}

/* Convert `count` big-endian elements of `type` at src into floats at dst. */
static void convert_chunk(float *dst, const unsigned char *src, size_t count, int type)
{
    switch (type) {
    case 0x09:
        for (size_t i = 0; i < count; i++)
            dst[i] = (float)(int8_t)src[i];
        break;
    case 0x0B:
        for (size_t i = 0; i < count; i++)
            dst[i] = (float)(int16_t)(uint16_t)((unsigned)src[2 * i] << 8 | src[2 * i + 1]);
        break;
    case 0x0C:
        for (size_t i = 0; i < count; i++)
            dst[i] = (float)(int32_t)be32(src + 4 * i);
        break;
    case 0x0D:
        for (size_t i = 0; i < count; i++) {
            uint32_t u = be32(src + 4 * i);
            float v;
            memcpy(&v, &u, sizeof v);
            dst[i] = v;
        }
        break;
    case 0x0E:
        for (size_t i = 0; i < count; i++) {
            uint64_t u = be64(src + 8 * i);
            double v;
            memcpy(&v, &u, sizeof v);
            dst[i] = (float)v;
        }
        break;
    default: /* 0x08 never gets here: it is read in place */
        break;
    }
}

/* Header checks: the dims, then whether the file can hold that much data.
 * Fills dims/ndim and the expected data byte count. */
/* The ISIZE field of a gzip file's trailer: its uncompressed size mod 2^32
 * (RFC 1952), read before inflating anything; UINT64_MAX if fd is not gzip.
 * A file of several gzip members has the last member's size there, so such
 * files (never made by gzip of one file) are refused as mismatched. */
static uint64_t gz_isize(int fd, off_t fsize)
{
    unsigned char m[2], t[4];
    if (fsize < 18 || pread(fd, m, 2, 0) != 2 || m[0] != 0x1f || m[1] != 0x8b ||
        pread(fd, t, 4, fsize - 4) != 4)
        return UINT64_MAX;
    return (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 | (uint64_t)t[3] << 24;
}

static bd_status read_header(gzFile f, const char *path, uint64_t fsize, uint64_t isize,
                             int *type, int *ndim, int *dims, size_t *nelem, size_t *data_bytes)
{
    unsigned char h[4 + 4 * BD_MAXDIM];
    size_t got;
    BD_TRY(read_full(f, path, h, 4, &got));
    if (got < 4) {
        BD_TRY(check_gz_error(f, path));
        if (got == 0)
            return bd_error(BD_ERR_FORMAT, "%s: empty file (not an IDX file)", path);
        return bd_error(BD_ERR_FORMAT, "%s: truncated header: expected 4 bytes, got %zu", path,
                        got);
    }
    uint32_t magic = be32(h);
    if (h[0] != 0 || h[1] != 0)
        return bd_error(BD_ERR_FORMAT, "%s: bad magic 0x%08x (not an IDX file)", path,
                        (unsigned)magic);
    *type = h[2];
    if (!type_size(*type))
        return bd_error(BD_ERR_FORMAT,
                        "%s: bad magic 0x%08x: unknown IDX data type 0x%02x "
                        "(known: 08 09 0B 0C 0D 0E)",
                        path, (unsigned)magic, (unsigned)*type);
    *ndim = h[3];
    if (*ndim < 1 || *ndim > BD_MAXDIM)
        return bd_error(BD_ERR_FORMAT, "%s: %d dimensions (1 to %d supported)", path, *ndim,
                        BD_MAXDIM);
    size_t dlen = 4 * (size_t)*ndim;
    BD_TRY(read_full(f, path, h + 4, dlen, &got));
    if (got < dlen) {
        BD_TRY(check_gz_error(f, path));
        return bd_error(BD_ERR_FORMAT, "%s: truncated header: expected %zu dimension bytes, got %zu",
                        path, dlen, got);
    }
    int64_t d64[BD_MAXDIM], n;
    for (int i = 0; i < *ndim; i++)
        d64[i] = be32(h + 4 + 4 * i);
    char who[4200];
    snprintf(who, sizeof who, "%s: dimensions", path);
    if (bd__dims_product(who, *ndim, d64, &n) != BD_OK) {
        char why[4400];
        snprintf(why, sizeof why, "%s", bd_errmsg());
        return bd_error(BD_ERR_FORMAT, "%s", why);
    }
    for (int i = 0; i < *ndim; i++)
        dims[i] = (int)d64[i];
    *nelem = (size_t)n;
    *data_bytes = (size_t)n * type_size(*type);

    /* Before allocating: can the file hold that much? Exactly, for a plain
     * file; for a compressed one, the gzip trailer says how much it holds
     * (mod 2^32), and deflate's best ratio bounds it too. */
    uint64_t hdr = 4 + dlen;
    if (gzdirect(f)) {
        uint64_t have = fsize > hdr ? fsize - hdr : 0;
        if (have < *data_bytes)
            return bd_error(BD_ERR_FORMAT, "%s: truncated: expected %zu data bytes, got %llu",
                            path, *data_bytes, (unsigned long long)have);
        if (have > *data_bytes)
            return bd_error(BD_ERR_FORMAT,
                            "%s: %llu trailing bytes after the %zu data bytes the "
                            "dimensions call for",
                            path, (unsigned long long)(have - *data_bytes), *data_bytes);
    } else if ((uint64_t)*data_bytes / GZ_MAX_RATIO > fsize) {
        return bd_error(BD_ERR_FORMAT,
                        "%s: truncated: expected %zu data bytes, more than %llu "
                        "compressed bytes can hold",
                        path, *data_bytes, (unsigned long long)fsize);
    } else if (isize != UINT64_MAX && hdr + *data_bytes < ((uint64_t)1 << 32) &&
               hdr + *data_bytes > isize + IDX_CHUNK) {
        /* far more than the file inflates to: refuse before allocating and
         * inflating (small differences are found, and told exactly, while
         * reading) */
        return bd_error(BD_ERR_FORMAT,
                        "%s: truncated: the header calls for %llu bytes (%zu of data) but the "
                        "gzip trailer says the file inflates to %llu",
                        path, (unsigned long long)(hdr + *data_bytes), *data_bytes,
                        (unsigned long long)isize);
    }
    return BD_OK;
}

/* Stream the data into out->t, converting if needed. */
static bd_status read_data(gzFile f, const char *path, int type, size_t nelem,
                           size_t data_bytes, bd_tensor *t)
{
    size_t got;
    if (type == 0x08) {
        BD_TRY(read_full(f, path, t->data, data_bytes, &got));
    } else {
        unsigned es = type_size(type);
        size_t chunk_elems = IDX_CHUNK / es;
        unsigned char *buf = malloc(IDX_CHUNK);
        if (!buf)
            return bd_error(BD_ERR_NOMEM, "%s: out of memory for the read buffer", path);
        float *dst = bd_f32(t);
        size_t done = 0; /* elements converted */
        got = 0;
        while (done < nelem) {
            size_t want = BD_MIN(nelem - done, chunk_elems);
            size_t g;
            bd_status s = read_full(f, path, buf, want * es, &g);
            if (s != BD_OK) {
                free(buf);
                return s;
            }
            got += g;
            convert_chunk(dst + done, buf, g / es, type);
            done += g / es;
            if (g < want * es)
                break;
        }
        free(buf);
    }
    if (got < data_bytes) {
        int zerr = Z_OK;
        const char *msg = gz_msg(f, path, &zerr);
        if (zerr != Z_OK && zerr != Z_BUF_ERROR)
            return bd_error(BD_ERR_FORMAT, "%s: corrupt compressed data after %zu bytes: %s",
                            path, got, msg);
        return bd_error(BD_ERR_FORMAT, "%s: truncated: expected %zu data bytes, got %zu%s%s",
                        path, data_bytes, got, zerr == Z_BUF_ERROR ? " (" : "",
                        zerr == Z_BUF_ERROR ? "compressed stream cut short)" : "");
    }
    /* Anything after the data means the dims do not describe this file. */
    unsigned char extra[4096];
    size_t ng;
    BD_TRY(read_full(f, path, extra, sizeof extra, &ng));
    if (ng > 0)
        return bd_error(BD_ERR_FORMAT,
                        "%s: %s%zu trailing bytes after the %zu data bytes the dimensions "
                        "call for",
                        path, ng == sizeof extra ? "at least " : "", ng, data_bytes);
    return check_gz_error(f, path);
}

bd_status bd_idx_read(const char *path, bd_idx *out)
{
    if (!path || !out)
        return bd_error(BD_ERR_ARG, "bd_idx_read: %s is NULL", !path ? "path" : "out");
    memset(out, 0, sizeof *out);
    if (!path || !*path)
        return bd_error(BD_ERR_ARG, "IDX: empty file path");
    int fd;
    off_t fsize = 0;
    BD_TRY(bd__open_input(path, "IDX", &fd, &fsize));
    uint64_t isize = gz_isize(fd, fsize);
    errno = 0;
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        return bd_error(BD_ERR_IO, "%s: cannot open: %s", path,
                        errno ? strerror(errno) : "out of memory");
    }
    gzbuffer(f, 128 * 1024);

    int type = 0, ndim = 0, dims[BD_MAXDIM] = {0};
    size_t nelem = 0, data_bytes = 0;
    bd_status s = read_header(f, path, (uint64_t)fsize, isize, &type, &ndim, dims, &nelem,
                              &data_bytes);
    if (s == BD_OK) {
        s = bd_tensor_alloc(&out->t, type == 0x08 ? BD_U8 : BD_F32, ndim, dims);
        if (s != BD_OK) {
            char why[256]; /* bd_errmsg is the buffer bd_error writes into */
            snprintf(why, sizeof why, "%s", bd_errmsg());
            s = bd_error(s, "%s: %s", path, why);
        }
    }
    if (s == BD_OK)
        s = read_data(f, path, type, nelem, data_bytes, &out->t);
    gzclose(f);
    if (s != BD_OK) {
        bd_idx_free(out);
        return s;
    }
    out->ndim = ndim;
    memcpy(out->dims, dims, sizeof dims);
    return BD_OK;
}

void bd_idx_free(bd_idx *idx)
{
    if (!idx)
        return;
    if (!idx)
        return;
    bd_tensor_free(&idx->t);
    memset(idx, 0, sizeof *idx);
}
