/* image_pnm.c — PGM and PPM (netpbm) into a grayscale bd_image, by hand:
 *   P2 / P3: ASCII gray / RGB, P5 / P6: binary gray / RGB,
 * a header of width, height and maxval (1..65535) separated by whitespace
 * and '#' comments, then one whitespace byte and the samples (binary: one
 * byte each when maxval < 256, else two, big-endian). Gray is value/maxval;
 * RGB becomes 0.299 R + 0.587 G + 0.114 B like the PNG reader's. Only the
 * first image of a multi-image file is read. */
#include "internal.h"

#include <stdio.h>

static int is_space(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* The first byte of the next token, skipping whitespace and comments. */
static int token_start(FILE *f)
{
    for (;;) {
        int ch = getc(f);
        if (ch == '#') {
            while ((ch = getc(f)) != EOF && ch != '\n' && ch != '\r')
                ;
            if (ch == EOF)
                return EOF;
        } else if (!is_space(ch)) {
            return ch;
        }
    }
}

enum { NUM_OK = 0, NUM_EOF, NUM_JUNK, NUM_BIG };

/* An unsigned decimal no larger than max; *after gets the byte that ended it
 * (consumed). */
static int read_uint(FILE *f, unsigned long max, unsigned long *out, int *after, int *junk)
{
    int ch = token_start(f);
    *junk = ch;
    if (ch == EOF)
        return NUM_EOF;
    if (ch < '0' || ch > '9')
        return NUM_JUNK;
    unsigned long v = 0;
    while (ch >= '0' && ch <= '9') {
        v = v * 10 + (unsigned long)(ch - '0');
        if (v > max)
            return NUM_BIG;
        ch = getc(f);
    }
    *after = ch;
    *out = v;
    return NUM_OK;
}

static bd_status header_field(const char *path, FILE *f, const char *what, unsigned long lo,
                              unsigned long hi, unsigned long *out, int *after)
{
    int junk;
    int r = read_uint(f, hi, out, after, &junk);
    if (r == NUM_EOF)
        return bd_error(BD_ERR_FORMAT, "%s: truncated header (no %s)", path, what);
    if (r == NUM_JUNK)
        return bd_error(BD_ERR_FORMAT, "%s: bad header: %s is not a number (byte 0x%02x)", path,
                        what, (unsigned)junk & 0xff);
    if (r == NUM_BIG || *out < lo)
        return bd_error(BD_ERR_FORMAT, "%s: bad header: %s %s (allowed %lu..%lu)", path, what,
                        r == NUM_BIG ? "too large" : "too small", lo, hi);
    /* "2\xb8 28" is no width of 2: a number ends at whitespace or a comment */
    if (*after != EOF && !is_space(*after) && *after != '#')
        return bd_error(BD_ERR_FORMAT, "%s: bad header: byte 0x%02x right after the %s %lu",
                        path, (unsigned)*after & 0xff, what, *out);
    if (*after == '#')
        ungetc(*after, f);
    return BD_OK;
}

static inline float gray_of(const unsigned *v, int ch, float inv_max)
{
    if (ch == 1)
        return (float)v[0] * inv_max;
    return (0.299f * (float)v[0] + 0.587f * (float)v[1] + 0.114f * (float)v[2]) * inv_max;
}

/* P2/P3: n = w*h*ch decimal samples. With px NULL only count them (to say
 * how many a short file has). Returns BD_OK or an error naming the file. */
static bd_status read_ascii(const char *path, FILE *f, size_t n, int ch, unsigned maxval,
                            float *px)
{
    unsigned v[3];
    const float inv = 1.0f / (float)maxval;
    for (size_t k = 0; k < n; k++) {
        unsigned long x;
        int after, junk;
        int r = read_uint(f, 65535, &x, &after, &junk);
        if (r == NUM_EOF)
            return bd_error(BD_ERR_FORMAT, "%s: truncated pixel data (got %zu of %zu values)",
                            path, k, n);
        if (r == NUM_JUNK)
            return bd_error(BD_ERR_FORMAT, "%s: bad pixel data: byte 0x%02x at value %zu", path,
                            (unsigned)junk & 0xff, k + 1);
        if (r == NUM_BIG)
            return bd_error(BD_ERR_FORMAT, "%s: pixel value above 65535 (value %zu)", path, k + 1);
        if (x > maxval)
            return bd_error(BD_ERR_FORMAT, "%s: pixel value %lu above maxval %u (value %zu)",
                            path, x, maxval, k + 1);
        if (after != EOF && !is_space(after) && after != '#')
            return bd_error(BD_ERR_FORMAT, "%s: bad pixel data: byte 0x%02x after value %zu",
                            path, (unsigned)after & 0xff, k + 1);
        if (after == '#')
            ungetc(after, f);
        v[k % (size_t)ch] = (unsigned)x;
        if (px && k % (size_t)ch == (size_t)ch - 1)
            px[k / (size_t)ch] = gray_of(v, ch, inv);
    }
    return BD_OK;
}

/* P5/P6: rows of w*ch samples of bps bytes. */
static bd_status read_binary(const char *path, FILE *f, int w, int h, int ch, int bps,
                             unsigned maxval, float *px)
{
    size_t row = (size_t)w * (size_t)ch * (size_t)bps;
    size_t need = row * (size_t)h, got = 0;
    unsigned char *buf = malloc(row);
    if (!buf)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory", path);
    const float inv = 1.0f / (float)maxval;
    bd_status s = BD_OK;
    for (int y = 0; y < h && s == BD_OK; y++) {
        size_t r = fread(buf, 1, row, f);
        got += r;
        if (r != row) {
            s = ferror(f) ? bd_error(BD_ERR_IO, "%s: read error", path)
                          : bd_error(BD_ERR_FORMAT,
                                     "%s: truncated pixel data (got %zu of %zu bytes)", path, got,
                                     need);
            break;
        }
        for (int x = 0; x < w; x++) {
            unsigned v[3];
            for (int c = 0; c < ch; c++) {
                size_t k = (size_t)x * ch + c;
                v[c] = bps == 1 ? buf[k] : (unsigned)(buf[2 * k] << 8 | buf[2 * k + 1]);
                if (v[c] > maxval) {
                    s = bd_error(BD_ERR_FORMAT, "%s: pixel value %u above maxval %u (row %d)",
                                 path, v[c], maxval, y);
                    break;
                }
            }
            if (s != BD_OK)
                break;
            px[(size_t)y * w + x] = gray_of(v, ch, inv);
        }
    }
    free(buf);
    return s;
}

/* What follows the pixels: nothing, or the next image of a multi-image
 * file ("P5..."); for ASCII files whitespace and comments too. Anything
 * else means the header does not describe the file: "extra raster bytes". */
static bd_status after_image(const char *path, FILE *f, long fsize, int binary,
                             unsigned long w, unsigned long h)
{
    long pos = ftell(f);
    int c = binary ? getc(f) : token_start(f);
    if (c == EOF)
        return BD_OK;
    int d = getc(f);
    if (c == 'P' && (d == '2' || d == '3' || d == '5' || d == '6'))
        return BD_OK;
    if (fsize >= 0 && pos >= 0 && binary)
        return bd_error(BD_ERR_FORMAT, "%s: %ld bytes after the pixel data the header's %lux%lu "
                        "call for", path, fsize - pos, w, h);
    return bd_error(BD_ERR_FORMAT, "%s: data after the pixel values the header's %lux%lu call "
                    "for (byte 0x%02x)", path, w, h, (unsigned)c & 0xff);
}

bd_status bd__pnm_read(const char *path, FILE *f, long fsize, int kind, bd_image *out)
{
    memset(out, 0, sizeof *out);
    const char *name = (kind == 2 || kind == 5) ? "PGM" : "PPM";
    const int ch = (kind == 3 || kind == 6) ? 3 : 1;
    const int binary = kind >= 5;
    unsigned long w, h, maxval;
    int after;
    BD_TRY(header_field(path, f, "width", 1, 1000000000UL, &w, &after));
    BD_TRY(header_field(path, f, "height", 1, 1000000000UL, &h, &after));
    if (w > BD_IMAGE_MAX_SIDE || h > BD_IMAGE_MAX_SIDE || w * h > (unsigned long)BD_IMAGE_MAX_PIXELS)
        return bd_error(BD_ERR_FORMAT, "%s: %s image of %lux%lu too large (at most %d per side "
                        "and %ld pixels)", path, name, w, h, BD_IMAGE_MAX_SIDE,
                        (long)BD_IMAGE_MAX_PIXELS);
    BD_TRY(header_field(path, f, "maxval", 1, 65535, &maxval, &after));
    if (after == EOF)
        return bd_error(BD_ERR_FORMAT, "%s: truncated pixel data (got 0 of %lu %s)", path,
                        w * h * (unsigned long)ch * (binary ? (maxval < 256 ? 1u : 2u) : 1u),
                        binary ? "bytes" : "values");
    if (!is_space(after))
        return bd_error(BD_ERR_FORMAT, "%s: bad header: byte 0x%02x after maxval", path,
                        (unsigned)after & 0xff);

    /* Refuse a file too short for its header's size before allocating. */
    const size_t n = (size_t)w * h * (size_t)ch;
    long pos = ftell(f);
    long left = fsize >= 0 && pos >= 0 ? fsize - pos : -1;
    if (binary) {
        const int bps = maxval < 256 ? 1 : 2;
        if (left >= 0 && (size_t)left < n * (size_t)bps)
            return bd_error(BD_ERR_FORMAT, "%s: truncated pixel data (got %ld of %zu bytes)",
                            path, left, n * (size_t)bps);
        BD_TRY(bd_image_alloc(out, (int)w, (int)h));
        bd_status s = read_binary(path, f, (int)w, (int)h, ch, bps, (unsigned)maxval, out->px);
        if (s == BD_OK)
            s = after_image(path, f, fsize, 1, w, h);
        if (s != BD_OK)
            bd_image_free(out);
        return s;
    }
    /* ASCII: every value takes at least a digit and a separator */
    if (left >= 0 && (size_t)left + 1 < 2 * n) {
        bd_status s = read_ascii(path, f, n, ch, (unsigned)maxval, NULL); /* counts, fails */
        return s != BD_OK ? s : bd_error(BD_ERR_FORMAT, "%s: truncated pixel data", path);
    }
    BD_TRY(bd_image_alloc(out, (int)w, (int)h));
    bd_status s = read_ascii(path, f, n, ch, (unsigned)maxval, out->px);
    if (s == BD_OK)
        s = after_image(path, f, fsize, 0, w, h);
    if (s != BD_OK)
        bd_image_free(out);
    return s;
}
