/* image.c — bd_image: allocation, reading by the file's magic bytes (PNG in
 * image_png.c, PGM/PPM in image_pnm.c) and writing a binary PGM atomically.
 * Images are what `badak predict` classifies, so the readers take any file a
 * user (or a fuzzer) hands them: every size is checked before it is used. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

bd_status bd_image_alloc(bd_image *img, int w, int h)
{
    if (!img)
        return bd_error(BD_ERR_ARG, "bd_image_alloc: img is NULL");
    memset(img, 0, sizeof *img);
    if (w < 1 || h < 1 || w > BD_IMAGE_MAX_SIDE || h > BD_IMAGE_MAX_SIDE ||
        (long)w * h > BD_IMAGE_MAX_PIXELS)
        return bd_error(BD_ERR_ARG, "image size %dx%d not allowed (1..%d per side, %ld pixels)",
                        w, h, BD_IMAGE_MAX_SIDE, (long)BD_IMAGE_MAX_PIXELS);
    img->px = calloc((size_t)w * (size_t)h, sizeof *img->px);
    if (!img->px)
        return bd_error(BD_ERR_NOMEM, "out of memory for a %dx%d image", w, h);
    img->w = w;
    img->h = h;
    return BD_OK;
}

void bd_image_free(bd_image *img)
{
    if (!img)
        return;
    if (!img)
        return;
    free(img->px);
    memset(img, 0, sizeof *img);
}

/* Does path end in .ext (any case)? */
static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && path[n - e - 1] == '.' && strcasecmp(path + n - e, ext) == 0;
}

bd_status bd_image_load(const char *path, bd_image *out)
{
    if (!path || !out)
        return bd_error(BD_ERR_ARG, "bd_image_load: %s is NULL", !path ? "path" : "out");
    memset(out, 0, sizeof *out);
    FILE *f;
    off_t sz = 0;
    BD_TRY(bd__fopen_input(path, "image", &f, &sz));
    long fsize = sz > 0x7fffffffL ? 0x7fffffffL : (long)sz;
    unsigned char m[8];
    size_t got = fread(m, 1, 2, f);
    bd_status s;
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (got < 2 && ferror(f)) {
        s = bd_error(BD_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    } else if (got == 0) {
        s = bd_error(BD_ERR_FORMAT, "%s: empty file", path);
    } else if (got == 2 && m[0] == 0x89 && m[1] == 'P') {
        got += fread(m + 2, 1, 6, f);
        if (got == 8 && memcmp(m, png_sig, 8) == 0)
            s = bd__png_read(path, f, fsize, out);
        else
            s = bd_error(BD_ERR_FORMAT, "%s: not a PNG file (bad signature)", path);
    } else if (got == 2 && m[0] == 'P' && (m[1] == '2' || m[1] == '3' || m[1] == '5' ||
                                             m[1] == '6')) {
        s = bd__pnm_read(path, f, fsize, m[1] - '0', out);
    } else if (got == 2 && m[0] == 'P' && (m[1] == '1' || m[1] == '4' || m[1] == '7')) {
        s = bd_error(BD_ERR_FORMAT,
                     "%s: P%c (%s) images are not supported; PGM (P2, P5) and PPM (P3, P6) are",
                     path, m[1], m[1] == '7' ? "PAM" : "PBM bitmap");
    } else if (has_ext(path, "png")) {
        s = bd_error(BD_ERR_FORMAT, "%s: not a PNG file", path);
    } else if (has_ext(path, "pgm") || has_ext(path, "ppm") || has_ext(path, "pnm")) {
        s = bd_error(BD_ERR_FORMAT, "%s: not a PGM/PPM file (no P2, P3, P5 or P6 magic)", path);
    } else {
        s = bd_error(BD_ERR_FORMAT, "%s: unknown image format (expected PNG, PGM or PPM)", path);
    }
    fclose(f);
    if (s != BD_OK)
        bd_image_free(out);
    return s;
}

bd_status bd_image_write_pgm(const bd_image *img, const char *path)
{
    if (!img || !path)
        return bd_error(BD_ERR_ARG, "bd_image_write_pgm: %s is NULL", !img ? "img" : "path");
    if (!img || !img->px || img->w < 1 || img->h < 1)
        return bd_error(BD_ERR_ARG, "%s: no image to write", path);
    bd__afile af;
    BD_TRY(bd__afile_open(&af, path, "image"));
    FILE *f = af.f;
    int bad = fprintf(f, "P5\n%d %d\n255\n", img->w, img->h) < 0;
    unsigned char row[1024];
    size_t n = (size_t)img->w * (size_t)img->h;
    for (size_t o = 0; o < n && !bad; o += sizeof row) {
        size_t k = BD_MIN(sizeof row, n - o);
        for (size_t i = 0; i < k; i++) {
            float v = img->px[o + i];
            v = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f; /* NaN -> 0 too */
            row[i] = (unsigned char)(v * 255.0f + 0.5f);
        }
        bad = fwrite(row, 1, k, f) != k;
    }
    if (bad)
        af.err = errno;
    return bd__afile_commit(&af);
}
