/* image_png.c — PNG into a grayscale bd_image, through libpng.
 *
 * libpng reports errors by longjmp. All the state the reader changes lives
 * in a png_ctx owned by the caller, and setjmp is called in png_decode, whose
 * own locals are never changed after it: so after a longjmp nothing is
 * indeterminate (C11 7.13.2.1) and bd__png_read frees whatever was made.
 *
 * libpng expands every colour type to 8- or 16-bit gray, gray + alpha, RGB
 * or RGBA (png_set_expand: palette to RGB, 1/2/4-bit gray to 8 bits, tRNS to
 * alpha); the row conversion below then gives gray = 0.299 R + 0.587 G +
 * 0.114 B, composited over white by the alpha. Gamma chunks are ignored. */
#include "internal.h"

#include <png.h>
#include <stdio.h>

typedef struct png_ctx {
    const char *path;
    FILE *f;
    long fsize;
    png_structp png;
    png_infop info;
    unsigned char *buf;    /* one row, or the whole image when interlaced */
    png_bytep *rows;       /* row pointers into buf (interlaced only) */
    bd_image img;
    int truncated;         /* the file ended early */
    bd_status st;          /* an error found by png_decode itself (not libpng) */
    char msg[200];         /* libpng's error message */
} png_ctx;

static void on_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* warnings (bad ancillary chunks...) are not worth a word */
}

static void on_read(png_structp png, png_bytep data, size_t n)
{
    png_ctx *c = png_get_io_ptr(png);
    if (fread(data, 1, n, c->f) != n) {
        c->truncated = !ferror(c->f);
        png_error(png, c->truncated ? "file ends early" : "read error");
    }
}

/* A sample at index k of a row of 8- or 16-bit (big-endian) samples, in [0, 1]. */
static inline float sample(const unsigned char *row, size_t k, int depth)
{
    if (depth == 16)
        return (float)((row[2 * k] << 8) | row[2 * k + 1]) * (1.0f / 65535.0f);
    return (float)row[k] * (1.0f / 255.0f);
}

/* One expanded row of ch channels -> w gray floats. */
static void convert_row(float *dst, const unsigned char *row, int w, int ch, int depth)
{
    for (int x = 0; x < w; x++) {
        size_t k = (size_t)x * ch;
        float g;
        if (ch >= 3)
            g = 0.299f * sample(row, k, depth) + 0.587f * sample(row, k + 1, depth) +
                0.114f * sample(row, k + 2, depth);
        else
            g = sample(row, k, depth);
        if (ch == 2 || ch == 4) {
            float a = sample(row, k + (size_t)ch - 1, depth);
            g = a * g + (1.0f - a); /* over white paper */
        }
        dst[x] = g < 0.0f ? 0.0f : (g > 1.0f ? 1.0f : g);
    }
}

/* 0: decoded; -1: libpng error (c->msg, c->truncated); -2: c->st set. */
static int png_decode(png_ctx *c)
{
    if (setjmp(png_jmpbuf(c->png)))
        return -1;
    png_set_read_fn(c->png, c, on_read);
    png_set_sig_bytes(c->png, 8);
    png_read_info(c->png, c->info);
    png_uint_32 w = png_get_image_width(c->png, c->info);
    png_uint_32 h = png_get_image_height(c->png, c->info);
    if (w < 1 || h < 1 || w > BD_IMAGE_MAX_SIDE || h > BD_IMAGE_MAX_SIDE ||
        (uint64_t)w * h > (uint64_t)BD_IMAGE_MAX_PIXELS) {
        c->st = bd_error(BD_ERR_FORMAT, "%s: PNG image of %lux%lu too large (at most %d per "
                         "side and %ld pixels)", c->path, (unsigned long)w, (unsigned long)h,
                         BD_IMAGE_MAX_SIDE, (long)BD_IMAGE_MAX_PIXELS);
        return -2;
    }
    /* Deflate packs at most 1032 bytes into one, so a file this small cannot
     * hold the rows its header claims: refuse before allocating for them. */
    uint64_t raw = (uint64_t)h * ((uint64_t)png_get_rowbytes(c->png, c->info) + 1);
    if (c->fsize >= 0 && raw > (uint64_t)c->fsize * 2048u) {
        c->st = bd_error(BD_ERR_FORMAT, "%s: truncated PNG: %ld bytes cannot hold a %lux%lu image",
                         c->path, c->fsize, (unsigned long)w, (unsigned long)h);
        return -2;
    }
    png_set_expand(c->png);
    int passes = png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
    int ch = png_get_channels(c->png, c->info);
    int depth = png_get_bit_depth(c->png, c->info);
    size_t rb = png_get_rowbytes(c->png, c->info);
    if ((depth != 8 && depth != 16) || ch < 1 || ch > 4 ||
        rb != (size_t)w * (size_t)ch * (size_t)(depth / 8)) {
        c->st = bd_error(BD_ERR_FORMAT, "%s: PNG layout not understood (%d channels of %d bits)",
                         c->path, ch, depth);
        return -2;
    }
    c->st = bd_image_alloc(&c->img, (int)w, (int)h);
    if (c->st != BD_OK)
        return -2;
    if (passes == 1) { /* row by row: one row of memory */
        c->buf = malloc(rb);
        if (!c->buf) {
            c->st = bd_error(BD_ERR_NOMEM, "%s: out of memory", c->path);
            return -2;
        }
        for (png_uint_32 y = 0; y < h; y++) {
            png_read_row(c->png, c->buf, NULL);
            convert_row(c->img.px + (size_t)y * w, c->buf, (int)w, ch, depth);
        }
    } else { /* Adam7 interlacing fills rows over 7 passes: the whole image */
        c->buf = malloc(rb * h);
        c->rows = malloc(h * sizeof *c->rows);
        if (!c->buf || !c->rows) {
            c->st = bd_error(BD_ERR_NOMEM, "%s: out of memory", c->path);
            return -2;
        }
        for (png_uint_32 y = 0; y < h; y++)
            c->rows[y] = c->buf + (size_t)y * rb;
        png_read_image(c->png, c->rows);
        for (png_uint_32 y = 0; y < h; y++)
            convert_row(c->img.px + (size_t)y * w, c->rows[y], (int)w, ch, depth);
    }
    png_read_end(c->png, NULL); /* the chunks after the pixels, up to IEND */
    return 0;
}

bd_status bd__png_read(const char *path, FILE *f, long fsize, bd_image *out)
{
    memset(out, 0, sizeof *out);
    png_ctx c;
    memset(&c, 0, sizeof c);
    c.path = path;
    c.f = f;
    c.fsize = fsize;
    c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, on_error, on_warning);
    if (c.png)
        c.info = png_create_info_struct(c.png);
    if (!c.png || !c.info) {
        png_destroy_read_struct(c.png ? &c.png : NULL, NULL, NULL);
        return bd_error(BD_ERR_NOMEM, "%s: out of memory for the PNG reader", path);
    }
    int r = png_decode(&c);
    png_destroy_read_struct(&c.png, &c.info, NULL);
    free(c.buf);
    free(c.rows);
    bd_status s = BD_OK;
    if (r == -1)
        s = c.truncated ? bd_error(BD_ERR_FORMAT, "%s: truncated PNG (the file ends early)", path)
                        : bd_error(BD_ERR_FORMAT, "%s: corrupt PNG: %s", path, c.msg);
    else if (r == -2)
        s = c.st;
    if (s != BD_OK) {
        bd_image_free(&c.img);
        return s;
    }
    *out = c.img;
    return BD_OK;
}
