/* image_color.c — images kept in colour, for models that take 3 channels:
 * PNG (libpng's simplified API, which expands every colour type and
 * composites alpha over the background we give: white, as the gray reader
 * does), PPM/PGM (P3, P6, P2, P5, read here) and JPEG (libjpeg). Gray
 * images become three equal planes. The result is planes, not pixels:
 * px [3, h, w] in [0, 1], R then G then B (the CIFAR layout). Every size is
 * checked against BD_IMAGE_MAX_SIDE / BD_IMAGE_MAX_PIXELS before the pixels
 * are allocated. */
#include "internal.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <jpeglib.h>
#include <png.h>

static bd_status alloc_planes(bd_image *img, const char *path, unsigned long w,
                              unsigned long h)
{
    if (w < 1 || h < 1 || w > BD_IMAGE_MAX_SIDE || h > BD_IMAGE_MAX_SIDE ||
        (long)(w * h) > BD_IMAGE_MAX_PIXELS)
        return bd_error(BD_ERR_FORMAT, "%s: image size %lux%lu not allowed (1..%d per side, %ld "
                        "pixels)", path, w, h, BD_IMAGE_MAX_SIDE, (long)BD_IMAGE_MAX_PIXELS);
    memset(img, 0, sizeof *img);
    img->px = calloc(3 * (size_t)w * (size_t)h, sizeof *img->px);
    if (!img->px)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory for a %lux%lu colour image", path, w, h);
    img->w = (int)w;
    img->h = (int)h;
    img->c = 3;
    return BD_OK;
}

/* Interleaved 8-bit RGB rows [h, w, 3] into the planes. */
static void to_planes(bd_image *img, const unsigned char *rgb)
{
    size_t hw = (size_t)img->w * (size_t)img->h;
    for (size_t i = 0; i < hw; i++)
        for (int c = 0; c < 3; c++)
            img->px[(size_t)c * hw + i] = rgb[3 * i + (size_t)c] * (1.0f / 255.0f);
}

static bd_status read_png(const char *path, FILE *f, bd_image *out)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_stdio(&pi, f))
        return bd_error(BD_ERR_FORMAT, "%s: corrupt PNG: %s", path, pi.message);
    pi.format = PNG_FORMAT_RGB;
    bd_status s = alloc_planes(out, path, pi.width, pi.height);
    unsigned char *buf = s == BD_OK ? malloc(PNG_IMAGE_SIZE(pi)) : NULL;
    if (s == BD_OK && !buf)
        s = bd_error(BD_ERR_NOMEM, "%s: out of memory", path);
    png_color white = {255, 255, 255};
    if (s == BD_OK && !png_image_finish_read(&pi, &white, buf, 0, NULL))
        s = bd_error(BD_ERR_FORMAT, "%s: corrupt PNG: %s", path, pi.message);
    if (s == BD_OK)
        to_planes(out, buf);
    free(buf);
    png_image_free(&pi);
    if (s != BD_OK)
        bd_image_free(out);
    return s;
}

/* ---- netpbm: a header of whitespace-separated numbers, '#' comments */

static int pnm_uint(FILE *f, unsigned long max, unsigned long *v)
{
    int ch;
    for (;;) {
        ch = fgetc(f);
        if (ch == '#')
            while (ch != '\n' && ch != EOF)
                ch = fgetc(f);
        else if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n')
            break;
    }
    if (ch < '0' || ch > '9')
        return 0;
    *v = 0;
    while (ch >= '0' && ch <= '9') {
        *v = *v * 10 + (unsigned long)(ch - '0');
        if (*v > max)
            return 0;
        ch = fgetc(f);
    }
    return ch == EOF || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bd_status read_pnm(const char *path, FILE *f, int kind, bd_image *out)
{
    unsigned long w, h, maxval;
    if (!pnm_uint(f, BD_IMAGE_MAX_SIDE, &w) || !pnm_uint(f, BD_IMAGE_MAX_SIDE, &h) ||
        !pnm_uint(f, 65535, &maxval) || maxval == 0)
        return bd_error(BD_ERR_FORMAT, "%s: bad P%d header (width, height, maxval 1..65535)",
                        path, kind);
    BD_TRY(alloc_planes(out, path, w, h));
    int ch = kind == 3 || kind == 6 ? 3 : 1, binary = kind >= 5;
    size_t hw = w * h, n = hw * (size_t)ch;
    float inv = 1.0f / (float)maxval;
    for (size_t k = 0; k < n; k++) {
        unsigned long v = 0;
        int ok;
        if (binary) {
            int a = fgetc(f), b = maxval > 255 ? fgetc(f) : 0;
            ok = a != EOF && b != EOF;
            v = maxval > 255 ? (unsigned long)a << 8 | (unsigned long)b : (unsigned long)a;
        } else {
            ok = pnm_uint(f, 65535, &v);
        }
        if (!ok) {
            bd_image_free(out);
            return bd_error(BD_ERR_FORMAT, "%s: truncated pixel data (got %zu of %zu samples)",
                            path, k, n);
        }
        float x = (v > maxval ? maxval : v) * inv;
        size_t p = k / (size_t)ch;
        if (ch == 3)
            out->px[(k % 3) * hw + p] = x;
        else
            out->px[p] = out->px[hw + p] = out->px[2 * hw + p] = x;
    }
    return BD_OK;
}

/* ---- JPEG: libjpeg's errors longjmp back here instead of exiting */

typedef struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} jerr;

static void on_jpeg_error(j_common_ptr c)
{
    jerr *e = (jerr *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

static void on_jpeg_message(j_common_ptr c, int level) { (void)c, (void)level; }

static bd_status read_jpeg(const char *path, FILE *f, bd_image *out)
{
    struct jpeg_decompress_struct d;
    jerr e;
    unsigned char *volatile buf = NULL;
    memset(out, 0, sizeof *out);
    d.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = on_jpeg_error;
    e.mgr.emit_message = on_jpeg_message;
    if (setjmp(e.jb)) {
        jpeg_destroy_decompress(&d);
        free(buf);
        bd_image_free(out);
        return bd_error(BD_ERR_FORMAT, "%s: corrupt JPEG: %s", path, e.msg);
    }
    jpeg_create_decompress(&d);
    jpeg_stdio_src(&d, f);
    jpeg_read_header(&d, TRUE);
    d.out_color_space = JCS_RGB;
    bd_status s = alloc_planes(out, path, d.image_width, d.image_height);
    if (s == BD_OK) {
        jpeg_start_decompress(&d);
        size_t row = (size_t)d.output_width * 3;
        buf = malloc(row * d.output_height);
        if (!buf || d.output_components != 3) {
            s = buf ? bd_error(BD_ERR_FORMAT, "%s: JPEG gives %d components, not 3", path,
                               d.output_components)
                    : bd_error(BD_ERR_NOMEM, "%s: out of memory", path);
        } else {
            while (d.output_scanline < d.output_height) {
                JSAMPROW r = buf + (size_t)d.output_scanline * row;
                jpeg_read_scanlines(&d, &r, 1);
            }
            jpeg_finish_decompress(&d);
            to_planes(out, buf);
        }
    }
    jpeg_destroy_decompress(&d);
    free(buf);
    if (s != BD_OK)
        bd_image_free(out);
    return s;
}

bd_status bd_image_load_color(const char *path, bd_image *out)
{
    if (!path || !out)
        return bd_error(BD_ERR_ARG, "bd_image_load_color: %s is NULL", !path ? "path" : "out");
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return bd_error(BD_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char m[3] = {0};
    size_t got = fread(m, 1, 3, f);
    bd_status s;
    if (got < 2) {
        s = ferror(f) ? bd_error(BD_ERR_IO, "%s: cannot read: %s", path, strerror(errno))
                      : bd_error(BD_ERR_FORMAT, "%s: empty or too short for an image", path);
    } else if (m[0] == 0x89 && m[1] == 'P') {
        rewind(f);
        s = read_png(path, f, out);
    } else if (m[0] == 0xFF && m[1] == 0xD8) {
        rewind(f);
        s = read_jpeg(path, f, out);
    } else if (m[0] == 'P' && (m[1] == '2' || m[1] == '3' || m[1] == '5' || m[1] == '6')) {
        fseek(f, 2, SEEK_SET);
        s = read_pnm(path, f, m[1] - '0', out);
    } else {
        s = bd_error(BD_ERR_FORMAT,
                     "%s: unknown image format (expected PNG, JPEG, PGM or PPM)", path);
    }
    fclose(f);
    return s;
}
