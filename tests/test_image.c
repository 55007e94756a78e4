/* test_image.c — bd_image: PNG (written here with libpng, every colour type)
 * and PGM/PPM files of known pixels are read back; damaged files (every
 * truncation, flipped bytes, absurd sizes) fail with BD_ERR_FORMAT and a
 * message naming the file, never a crash; resizing, inversion and the MNIST
 * fit of bd_image_to_input. Files live in a fresh folder under /tmp. */
#include "testutil.h"

#include <png.h>
#include <sys/stat.h>
#include <zlib.h>

static char g_dir[64];

static const char *tpath(const char *name)
{
    static char buf[8][256];
    static int k;
    char *p = buf[k++ & 7];
    snprintf(p, sizeof buf[0], "%s/%s", g_dir, name);
    return p;
}

static int setup(void **st)
{
    (void)st;
    snprintf(g_dir, sizeof g_dir, "/tmp/badak_img_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* The whole file into a malloc'd buffer. */
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* A PNG of w x h with the given colour type and depth from packed rows
 * (rowbytes each). Palette / tRNS optional. */
typedef struct png_spec {
    int w, h, ctype, depth, interlace;
    const unsigned char *data;
    size_t rowbytes;
    const png_color *pal;
    int npal;
    const unsigned char *trns;
    int ntrns;
} png_spec;

static void write_png(const char *path, const png_spec *s)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng failed writing %s", path);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)s->w, (png_uint_32)s->h, s->depth, s->ctype,
                 s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->pal)
        png_set_PLTE(png, info, s->pal, s->npal);
    if (s->trns)
        png_set_tRNS(png, info, s->trns, s->ntrns, NULL);
    png_write_info(png, info);
    png_bytep rows[64];
    assert_true(s->h <= 64);
    for (int y = 0; y < s->h; y++)
        rows[y] = (png_bytep)s->data + (size_t)y * s->rowbytes;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static void expect_pixels(const bd_image *img, int w, int h, const float *want, double tol)
{
    assert_int_equal(img->w, w);
    assert_int_equal(img->h, h);
    for (int k = 0; k < w * h; k++)
        if (!(fabs(img->px[k] - want[k]) <= tol))
            fail_msg("pixel %d (x %d, y %d) = %.6f, expected %.6f", k, k % w, k / w,
                     (double)img->px[k], (double)want[k]);
}

/* ------------------------------------------------------------------ PNG */

static void png_gray(void **st)
{
    (void)st;
    bd_image img;
    /* 8-bit, 3x2 */
    const unsigned char g8[6] = {0, 51, 255, 128, 7, 200};
    write_png(tpath("g8.png"), &(png_spec){3, 2, PNG_COLOR_TYPE_GRAY, 8, 0, g8, 3, 0, 0, 0, 0});
    assert_ok(bd_image_load(tpath("g8.png"), &img));
    float w8[6];
    for (int k = 0; k < 6; k++)
        w8[k] = g8[k] / 255.0f;
    expect_pixels(&img, 3, 2, w8, 1e-7);
    bd_image_free(&img);
    /* 16-bit: kept to 16 bits */
    const unsigned char g16[6] = {0x00, 0x00, 0xff, 0xff, 0x80, 0x01};
    write_png(tpath("g16.png"), &(png_spec){3, 1, PNG_COLOR_TYPE_GRAY, 16, 0, g16, 6, 0, 0, 0, 0});
    assert_ok(bd_image_load(tpath("g16.png"), &img));
    expect_pixels(&img, 3, 1, (float[]){0.0f, 1.0f, 0x8001 / 65535.0f}, 1e-7);
    bd_image_free(&img);
    /* 1-bit: 10110000 -> 1 0 1 1 0 0 0 0 (1 is white) */
    const unsigned char g1[1] = {0xb0};
    write_png(tpath("g1.png"), &(png_spec){8, 1, PNG_COLOR_TYPE_GRAY, 1, 0, g1, 1, 0, 0, 0, 0});
    assert_ok(bd_image_load(tpath("g1.png"), &img));
    expect_pixels(&img, 8, 1, (float[]){1, 0, 1, 1, 0, 0, 0, 0}, 0);
    bd_image_free(&img);
    /* 4-bit: 0x0f 0x80 -> 0, 15, 8, 0 of 15 */
    const unsigned char g4[2] = {0x0f, 0x80};
    write_png(tpath("g4.png"), &(png_spec){4, 1, PNG_COLOR_TYPE_GRAY, 4, 0, g4, 2, 0, 0, 0, 0});
    assert_ok(bd_image_load(tpath("g4.png"), &img));
    expect_pixels(&img, 4, 1, (float[]){0, 1, 136 / 255.0f, 0}, 1e-6);
    bd_image_free(&img);
}

static void png_colour_and_alpha(void **st)
{
    (void)st;
    bd_image img;
    /* RGB 8: red, green, blue, white */
    const unsigned char rgb[12] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    write_png(tpath("rgb.png"), &(png_spec){2, 2, PNG_COLOR_TYPE_RGB, 8, 0, rgb, 6, 0, 0, 0, 0});
    assert_ok(bd_image_load(tpath("rgb.png"), &img));
    expect_pixels(&img, 2, 2, (float[]){0.299f, 0.587f, 0.114f, 1.0f}, 1e-6);
    bd_image_free(&img);
    /* RGBA 8: black opaque, black transparent (-> white paper), black half,
     * white opaque */
    const unsigned char rgba[16] = {0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128, 255, 255, 255, 255};
    write_png(tpath("rgba.png"), &(png_spec){4, 1, PNG_COLOR_TYPE_RGBA, 8, 0, rgba, 16, 0, 0, 0, 0});
    assert_ok(bd_image_load(tpath("rgba.png"), &img));
    expect_pixels(&img, 4, 1, (float[]){0.0f, 1.0f, 1.0f - 128 / 255.0f, 1.0f}, 1e-6);
    bd_image_free(&img);
    /* gray + alpha 8: gray 100 opaque, gray 0 alpha 0 */
    const unsigned char ga[4] = {100, 255, 0, 0};
    write_png(tpath("ga.png"), &(png_spec){2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, ga, 4, 0, 0, 0, 0});
    assert_ok(bd_image_load(tpath("ga.png"), &img));
    expect_pixels(&img, 2, 1, (float[]){100 / 255.0f, 1.0f}, 1e-6);
    bd_image_free(&img);
    /* RGB 16 */
    const unsigned char rgb16[6] = {0xff, 0xff, 0, 0, 0, 0};
    write_png(tpath("rgb16.png"), &(png_spec){1, 1, PNG_COLOR_TYPE_RGB, 16, 0, rgb16, 6, 0, 0, 0, 0});
    assert_ok(bd_image_load(tpath("rgb16.png"), &img));
    expect_pixels(&img, 1, 1, (float[]){0.299f}, 1e-6);
    bd_image_free(&img);
    /* palette, 2-bit, entry 2 transparent through tRNS */
    const png_color pal[3] = {{0, 0, 0}, {255, 255, 255}, {0, 0, 0}};
    const unsigned char trns[3] = {255, 255, 0};
    const unsigned char p2[1] = {0x18}; /* 00 01 10 00 -> 0 1 2 0 */
    write_png(tpath("pal.png"),
              &(png_spec){4, 1, PNG_COLOR_TYPE_PALETTE, 2, 0, p2, 1, pal, 3, trns, 3});
    assert_ok(bd_image_load(tpath("pal.png"), &img));
    expect_pixels(&img, 4, 1, (float[]){0, 1, 1, 0}, 1e-6);
    bd_image_free(&img);
}

static void png_interlaced(void **st)
{
    (void)st;
    enum { W = 11, H = 9 };
    unsigned char g[W * H];
    for (int k = 0; k < W * H; k++)
        g[k] = (unsigned char)(k * 37 % 256);
    write_png(tpath("adam7.png"), &(png_spec){W, H, PNG_COLOR_TYPE_GRAY, 8, 1, g, W, 0, 0, 0, 0});
    write_png(tpath("plain.png"), &(png_spec){W, H, PNG_COLOR_TYPE_GRAY, 8, 0, g, W, 0, 0, 0, 0});
    bd_image a, b;
    assert_ok(bd_image_load(tpath("adam7.png"), &a));
    assert_ok(bd_image_load(tpath("plain.png"), &b));
    float want[W * H];
    for (int k = 0; k < W * H; k++)
        want[k] = g[k] / 255.0f;
    expect_pixels(&a, W, H, want, 1e-7);
    assert_memory_equal(a.px, b.px, sizeof want);
    bd_image_free(&a);
    bd_image_free(&b);
}

/* Load must fail with BD_ERR_FORMAT and a message starting "path: ". */
static void expect_format_error(const char *path, const char *sub)
{
    bd_image img;
    bd_status s = bd_image_load(path, &img);
    if (s != BD_ERR_FORMAT)
        fail_msg("%s: %s (%s), expected BD_ERR_FORMAT", path, bd_status_name(s), bd_errmsg());
    char pre[300];
    snprintf(pre, sizeof pre, "%s: ", path);
    if (strncmp(bd_errmsg(), pre, strlen(pre)) != 0 || (sub && !strstr(bd_errmsg(), sub)))
        fail_msg("message \"%s\" should start with \"%s\" and contain \"%s\"", bd_errmsg(), pre,
                 sub ? sub : "");
    assert_null(img.px);
}

/* A chunk with its CRC: length, type, data, crc32(type + data). */
static size_t put_chunk(unsigned char *o, const char *type, const unsigned char *d, uint32_t n)
{
    o[0] = (unsigned char)(n >> 24), o[1] = (unsigned char)(n >> 16);
    o[2] = (unsigned char)(n >> 8), o[3] = (unsigned char)n;
    memcpy(o + 4, type, 4);
    if (n)
        memcpy(o + 8, d, n);
    uLong c = crc32(0L, o + 4, 4 + n);
    o[8 + n] = (unsigned char)(c >> 24), o[9 + n] = (unsigned char)(c >> 16);
    o[10 + n] = (unsigned char)(c >> 8), o[11 + n] = (unsigned char)c;
    return 12 + n;
}

/* A PNG of signature, IHDR (w x h, 8-bit gray), a 4-byte IDAT of junk (or
 * none) and IEND. */
static void write_header_only_png(const char *path, uint32_t w, uint32_t h, int idat)
{
    unsigned char b[80], ihdr[13] = {0};
    memcpy(b, "\x89PNG\r\n\x1a\n", 8);
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (unsigned char)(w >> (24 - 8 * i));
        ihdr[4 + i] = (unsigned char)(h >> (24 - 8 * i));
    }
    ihdr[8] = 8; /* depth; colour type 0, methods 0 */
    size_t n = 8 + put_chunk(b + 8, "IHDR", ihdr, 13);
    if (idat)
        n += put_chunk(b + n, "IDAT", (const unsigned char *)"\x78\x9c\x01\x02", 4);
    n += put_chunk(b + n, "IEND", NULL, 0);
    write_bytes(path, b, n);
}

static void png_damaged_files_fail_cleanly(void **st)
{
    (void)st;
    bd_image img;
    assert_fails(bd_image_load(tpath("missing.png"), &img), BD_ERR_IO, "missing.png: cannot open");
    assert_fails(bd_image_load(g_dir, &img), BD_ERR_IO, "cannot read");
    write_bytes(tpath("empty.png"), "", 0);
    expect_format_error(tpath("empty.png"), "empty file");
    write_bytes(tpath("text.png"), "hello, world\n", 13);
    expect_format_error(tpath("text.png"), "not a PNG file");
    write_bytes(tpath("sig.png"), "\x89PNG\r\n\x1a", 7);
    expect_format_error(tpath("sig.png"), "not a PNG file");
    write_bytes(tpath("thing.bin"), "GIF89a", 6);
    expect_format_error(tpath("thing.bin"), "unknown image format");

    /* an absurd size in a valid header; a big one in a tiny file */
    write_header_only_png(tpath("huge.png"), 20000, 20000, 1);
    expect_format_error(tpath("huge.png"), "too large");
    write_header_only_png(tpath("claims.png"), 8000, 8000, 1);
    expect_format_error(tpath("claims.png"), "cannot hold");
    write_header_only_png(tpath("zero.png"), 0, 5, 1);
    expect_format_error(tpath("zero.png"), "corrupt PNG");
    /* no pixel data at all */
    write_header_only_png(tpath("noidat.png"), 4, 4, 0);
    expect_format_error(tpath("noidat.png"), "corrupt PNG");
    /* pixel data that is no zlib stream */
    write_header_only_png(tpath("junk.png"), 4, 4, 1);
    expect_format_error(tpath("junk.png"), "corrupt PNG");

    /* every truncation of a real PNG fails; every flipped byte either fails
     * cleanly or (an ancillary bit) still loads */
    unsigned char g[16 * 12 * 4];
    for (size_t k = 0; k < sizeof g; k++)
        g[k] = (unsigned char)(k * 13);
    write_png(tpath("ok.png"), &(png_spec){16, 12, PNG_COLOR_TYPE_RGBA, 8, 0, g, 64, 0, 0, 0, 0});
    size_t n;
    unsigned char *full = slurp(tpath("ok.png"), &n);
    const char *cut = tpath("cut.png");
    for (size_t len = 1; len < n; len++) {
        write_bytes(cut, full, len);
        expect_format_error(cut, len < 8 ? "not a PNG file" : NULL);
    }
    write_bytes(cut, full, n - 30); /* inside the pixel data */
    expect_format_error(cut, "truncated PNG");
    for (size_t pos = 8; pos < n; pos++) {
        unsigned char save = full[pos];
        full[pos] ^= 0x5a;
        write_bytes(cut, full, n);
        bd_status s = bd_image_load(cut, &img);
        if (s == BD_OK)
            bd_image_free(&img);
        else if (s != BD_ERR_FORMAT || !strstr(bd_errmsg(), "cut.png: "))
            fail_msg("flip at %zu: %s: %s", pos, bd_status_name(s), bd_errmsg());
        full[pos] = save;
    }
    free(full);
}

/* ------------------------------------------------------------- PGM/PPM */

static void pnm_read(void **st)
{
    (void)st;
    bd_image img;
    /* P5 8-bit, maxval 200, a comment in the header */
    const char p5[] = "P5\n# made by hand\n3 2\n200\n\x00\x64\xc8\x0a\x14\x1e";
    write_bytes(tpath("a.pgm"), p5, sizeof p5 - 1);
    assert_ok(bd_image_load(tpath("a.pgm"), &img));
    expect_pixels(&img, 3, 2, (float[]){0, 0.5f, 1, 0.05f, 0.1f, 0.15f}, 1e-6);
    bd_image_free(&img);
    /* P5 16-bit */
    const char p16[] = "P5 2 1 65535\n\xff\xff\x80\x00";
    write_bytes(tpath("b.pgm"), p16, sizeof p16 - 1);
    assert_ok(bd_image_load(tpath("b.pgm"), &img));
    expect_pixels(&img, 2, 1, (float[]){1.0f, 32768 / 65535.0f}, 1e-7);
    bd_image_free(&img);
    /* P2 with comments between values */
    const char p2[] = "P2\n2 2\n# c\n10\n0 5 # half\n10\n  2\n";
    write_bytes(tpath("c.pgm"), p2, sizeof p2 - 1);
    assert_ok(bd_image_load(tpath("c.pgm"), &img));
    expect_pixels(&img, 2, 2, (float[]){0, 0.5f, 1, 0.2f}, 1e-6);
    bd_image_free(&img);
    /* P6 and P3: red and white */
    const char p6[] = "P6 2 1 255\n\xff\x00\x00\xff\xff\xff";
    write_bytes(tpath("d.ppm"), p6, sizeof p6 - 1);
    assert_ok(bd_image_load(tpath("d.ppm"), &img));
    expect_pixels(&img, 2, 1, (float[]){0.299f, 1.0f}, 1e-6);
    bd_image_free(&img);
    const char p3[] = "P3 1 2 255 0 0 255 0 255 0";
    write_bytes(tpath("e.ppm"), p3, sizeof p3 - 1);
    assert_ok(bd_image_load(tpath("e.ppm"), &img));
    expect_pixels(&img, 1, 2, (float[]){0.114f, 0.587f}, 1e-6);
    bd_image_free(&img);
}

static void pnm_damaged_files_fail_cleanly(void **st)
{
    (void)st;
    /* the message the brief asks for: 100 of 784 bytes */
    char buf[2048];
    int h = snprintf(buf, sizeof buf, "P5\n28 28\n255\n");
    memset(buf + h, 7, 100);
    write_bytes(tpath("x.pgm"), buf, (size_t)h + 100);
    expect_format_error(tpath("x.pgm"), "truncated pixel data (got 100 of 784 bytes)");
    write_bytes(tpath("p2.pgm"), "P2 2 2 9 1 2 3", 14);
    expect_format_error(tpath("p2.pgm"), "truncated pixel data (got 3 of 4 values)");
    write_bytes(tpath("w.pgm"), "P5 abc 3 255\n", 13);
    expect_format_error(tpath("w.pgm"), "width is not a number");
    write_bytes(tpath("z.pgm"), "P5 0 3 255\n", 11);
    expect_format_error(tpath("z.pgm"), "width too small");
    write_bytes(tpath("m.pgm"), "P5 1 1 70000\n\0\0", 15);
    expect_format_error(tpath("m.pgm"), "maxval too large");
    write_bytes(tpath("big.pgm"), "P5 20000 20000 255\n", 19);
    expect_format_error(tpath("big.pgm"), "too large");
    write_bytes(tpath("big2.pgm"), "P5 99999999999999999999 2 255\n", 30);
    expect_format_error(tpath("big2.pgm"), "width too large");
    write_bytes(tpath("hdr.pgm"), "P5 3 3", 6);
    expect_format_error(tpath("hdr.pgm"), "truncated header (no maxval)");
    write_bytes(tpath("v.pgm"), "P5 2 1 100\n\x10\xc8", 13);
    expect_format_error(tpath("v.pgm"), "pixel value 200 above maxval 100");
    write_bytes(tpath("v2.pgm"), "P2 2 1 100 5 101", 16);
    expect_format_error(tpath("v2.pgm"), "pixel value 101 above maxval 100");
    write_bytes(tpath("j.pgm"), "P2 2 1 100 5 x", 14);
    expect_format_error(tpath("j.pgm"), "bad pixel data");
    write_bytes(tpath("pbm.pgm"), "P4 8 1\n\xff", 8);
    expect_format_error(tpath("pbm.pgm"), "not supported");
    write_bytes(tpath("n.pgm"), "hello", 5);
    expect_format_error(tpath("n.pgm"), "not a PGM/PPM file");
    /* every truncation of a good P5 and P2 fails cleanly */
    const char *goods[2] = {"P5\n# c\n4 3\n255\n0123456789AB", "P2\n4 3\n255\n10 20 30 40 50 60 70 80 90 100 110 7\n"};
    for (int g = 0; g < 2; g++) {
        size_t n = strlen(goods[g]);
        write_bytes(tpath("full.pgm"), goods[g], n);
        bd_image img;
        assert_ok(bd_image_load(tpath("full.pgm"), &img));
        bd_image_free(&img);
        /* the P2's last value may lose its newline and still be whole */
        size_t whole = g ? n - 1 : n;
        for (size_t len = 1; len < whole; len++) {
            write_bytes(tpath("cut.pgm"), goods[g], len);
            expect_format_error(tpath("cut.pgm"), NULL);
        }
    }
}

static void write_pgm_round_trip(void **st)
{
    (void)st;
    bd_image a, b;
    assert_ok(bd_image_alloc(&a, 5, 3));
    for (int k = 0; k < 15; k++)
        a.px[k] = k / 14.0f;
    a.px[0] = -3.0f; /* clamped */
    a.px[1] = 7.0f;
    const char *p = tpath("out.pgm");
    assert_ok(bd_image_write_pgm(&a, p));
    struct stat sb;
    assert_int_equal(stat(tpath("out.pgm.tmp"), &sb), -1); /* renamed away */
    assert_ok(bd_image_load(p, &b));
    assert_int_equal(b.w, 5);
    assert_int_equal(b.h, 3);
    assert_close(b.px[0], 0.0, 0);
    assert_close(b.px[1], 1.0, 0);
    for (int k = 2; k < 15; k++)
        assert_close(b.px[k], a.px[k], 0.5 / 255 + 1e-6);
    bd_image_free(&b);
    assert_fails(bd_image_write_pgm(&a, tpath("no/such/dir.pgm")), BD_ERR_IO, "cannot write");
    bd_image_free(&a);
    assert_fails(bd_image_alloc(&a, 0, 3), BD_ERR_ARG, "0x3");
    assert_null(a.px);
}

/* ------------------------------------------------------------ resizing */

static void resize_keeps_uniform_and_averages(void **st)
{
    (void)st;
    static float src[60 * 45], dst[28 * 28], tmp[60 * 28];
    const int sizes[][4] = {{60, 45, 28, 28}, {5, 3, 28, 28}, {60, 3, 28, 28}, {3, 45, 28, 28},
                            {28, 28, 28, 28}, {37, 23, 11, 7}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int sw = sizes[t][0], sh = sizes[t][1], dw = sizes[t][2], dh = sizes[t][3];
        for (int k = 0; k < sw * sh; k++)
            src[k] = 0.3f;
        bd_image_resize(src, sw, sh, dst, dw, dh, tmp);
        for (int k = 0; k < dw * dh; k++)
            assert_close(dst[k], 0.3, 1e-6);
    }
    /* shrinking by 2: the mean of each 2x2 block */
    float s4[16], d2[4], t2[8];
    for (int k = 0; k < 16; k++)
        s4[k] = (float)k;
    bd_image_resize(s4, 4, 4, d2, 2, 2, t2);
    assert_close(d2[0], (0 + 1 + 4 + 5) / 4.0, 1e-5);
    assert_close(d2[3], (10 + 11 + 14 + 15) / 4.0, 1e-5);
    /* 3 -> 2: each output covers 1.5 samples */
    float s3[3] = {3, 6, 9}, d3[2], t3[2];
    bd_image_resize(s3, 3, 1, d3, 2, 1, t3);
    assert_close(d3[0], (3 + 0.5 * 6) / 1.5, 1e-5);
    assert_close(d3[1], (0.5 * 6 + 9) / 1.5, 1e-5);
    /* shrinking keeps the mean */
    bd_rng r;
    bd_rng_seed(&r, 4);
    double ms = 0, md = 0;
    for (int k = 0; k < 37 * 23; k++)
        ms += src[k] = bd_rng_uniform(&r);
    bd_image_resize(src, 37, 23, dst, 11, 7, tmp);
    for (int k = 0; k < 77; k++)
        md += dst[k];
    assert_close(md / 77, ms / (37 * 23), 1e-5);
    /* growing 2 -> 4: bilinear, ends clamped */
    float g2[2] = {0, 1}, g4[4], gt[4];
    bd_image_resize(g2, 2, 1, g4, 4, 1, gt);
    assert_close(g4[0], 0, 1e-6);
    assert_close(g4[1], 0.25, 1e-6);
    assert_close(g4[2], 0.75, 1e-6);
    assert_close(g4[3], 1, 1e-6);
}

/* w x h of background bg with a rectangle of ink [x0, x0+rw) x [y0, y0+rh) */
static void rect_image(bd_image *img, int w, int h, float bg, float ink, int x0, int y0, int rw,
                       int rh)
{
    assert_ok(bd_image_alloc(img, w, h));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            img->px[y * w + x] =
                (x >= x0 && x < x0 + rw && y >= y0 && y < y0 + rh) ? ink : bg;
}

static void to_input_inverts_light_paper(void **st)
{
    (void)st;
    float out[28 * 28];
    bd_image img;
    bd_image_prep p;
    /* a dark bar on white paper: inverted, the paper becomes 0 */
    rect_image(&img, 60, 40, 1.0f, 0.1f, 20, 10, 10, 20);
    bd_image_prep_default(&p);
    p.fit = 0;
    assert_ok(bd_image_to_input(&img, 28, 28, &p, out));
    assert_int_equal(p.inverted, 1);
    assert_close(out[0], 0, 1e-6);
    assert_close(out[27 * 28 + 27], 0, 1e-6);
    assert_close(out[14 * 28 + 11], 0.9, 1e-5); /* inside the bar */
    /* never: the paper stays white */
    p.invert = BD_INVERT_NEVER;
    assert_ok(bd_image_to_input(&img, 28, 28, &p, out));
    assert_int_equal(p.inverted, 0);
    assert_close(out[0], 1, 1e-6);
    bd_image_free(&img);
    /* a white bar on black: left as it is */
    rect_image(&img, 60, 40, 0.0f, 1.0f, 20, 10, 10, 20);
    bd_image_prep_default(&p);
    p.fit = 0;
    assert_ok(bd_image_to_input(&img, 28, 28, &p, out));
    assert_int_equal(p.inverted, 0);
    assert_close(out[0], 0, 1e-6);
    assert_close(out[14 * 28 + 11], 1, 1e-5);
    /* always: inverted anyway */
    p.invert = BD_INVERT_ALWAYS;
    assert_ok(bd_image_to_input(&img, 28, 28, &p, out));
    assert_int_equal(p.inverted, 1);
    assert_close(out[0], 1, 1e-6);
    bd_image_free(&img);
    /* uniform mid-gray (border mean 0.3): not inverted, stays uniform */
    rect_image(&img, 33, 17, 0.3f, 0.3f, 0, 0, 0, 0);
    assert_ok(bd_image_to_input(&img, 28, 28, NULL, out));
    for (int k = 0; k < 28 * 28; k++)
        assert_close(out[k], 0.3, 1e-6);
    bd_image_free(&img);
    /* blank white paper: nothing to see, all 0 */
    rect_image(&img, 10, 10, 1.0f, 1.0f, 0, 0, 0, 0);
    bd_image_prep_default(&p);
    assert_ok(bd_image_to_input(&img, 28, 28, &p, out));
    assert_int_equal(p.inverted, 1);
    for (int k = 0; k < 28 * 28; k++)
        assert_close(out[k], 0, 1e-6);
    bd_image_free(&img);
}

static void to_input_fits_like_mnist(void **st)
{
    (void)st;
    float out[28 * 28];
    bd_image img;
    /* a dark 30x50 stroke, off-centre on light gray paper (0.8) */
    rect_image(&img, 100, 80, 0.8f, 0.2f, 10, 5, 30, 50);
    bd_image_prep p;
    bd_image_prep_default(&p);
    assert_ok(bd_image_to_input(&img, 28, 28, &p, out));
    assert_int_equal(p.inverted, 1);
    /* levels: paper -> 0, ink -> 1; the box 20 tall, 12 wide (30 * 20/50) */
    int rows = 0, cols = 0;
    double m = 0, mx = 0, my = 0, hi = 0;
    for (int y = 0; y < 28; y++) {
        int any = 0;
        for (int x = 0; x < 28; x++) {
            float v = out[y * 28 + x];
            any |= v > 0.5f;
            m += v, mx += v * x, my += v * y;
            hi = v > hi ? v : hi;
        }
        rows += any;
    }
    for (int x = 0; x < 28; x++) {
        int any = 0;
        for (int y = 0; y < 28; y++)
            any |= out[y * 28 + x] > 0.5f;
        cols += any;
    }
    assert_int_equal(rows, 20);
    assert_int_equal(cols, 12);
    assert_close(hi, 1.0, 1e-5);
    assert_close(out[0], 0.0, 0);
    /* centre of mass at pixel (14, 14) as in MNIST, to the half pixel */
    assert_close(mx / m, 14, 0.5);
    assert_close(my / m, 14, 0.5);
    /* Fashion-MNIST's way: the box fills the output, centred as a box */
    p.box = 1.0f;
    p.center_box = 1;
    assert_ok(bd_image_to_input(&img, 28, 28, &p, out));
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) /* 30x50 -> 17x28 at columns 5..21 */
            assert_close(out[y * 28 + x], (x >= 5 && x < 22) ? 1.0 : 0.0, 1e-5);
    p.box = 1.5f;
    assert_fails(bd_image_to_input(&img, 28, 28, &p, out), BD_ERR_ARG, "box 1.5");
    bd_image_free(&img);

    /* an MNIST-like input (a 20x20 digit in 28x28 at offset 4, its centre
     * of mass near (14, 14): heavier to the right and bottom) comes back as is */
    assert_ok(bd_image_alloc(&img, 28, 28));
    for (int y = 4; y < 24; y++)
        for (int x = 4; x < 24; x++)
            img.px[y * 28 + x] = (x == 4 || x == 23 || y == 4 || y == 23 || x == 21 || y == 21)
                                     ? 1.0f : 0.5f;
    assert_ok(bd_image_to_input(&img, 28, 28, NULL, out));
    assert_memory_equal(out, img.px, sizeof out);
    assert_fails(bd_image_to_input(&img, 0, 28, NULL, out), BD_ERR_ARG, "output size");
    bd_image_free(&img);
}

/* The test file of a real MNIST digit, when the data is installed: written
 * as a PGM, read back and prepared, it is the digit again. */
static void mnist_digit_round_trip(void **st)
{
    (void)st;
    const char *dir = getenv("BADAK_MNIST_DIR");
    char path[512];
    if (!dir)
        skip();
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    bd_idx idx;
    if (bd_idx_read(path, &idx) != BD_OK) {
        snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", dir);
        if (bd_idx_read(path, &idx) != BD_OK)
            skip();
    }
    bd_image img, back;
    assert_ok(bd_image_alloc(&img, 28, 28));
    for (int k = 0; k < 784; k++)
        img.px[k] = bd_u8(&idx.t)[k] * (1.0f / 255.0f); /* as training scales them */
    bd_idx_free(&idx);
    assert_ok(bd_image_write_pgm(&img, tpath("digit.pgm")));
    assert_ok(bd_image_load(tpath("digit.pgm"), &back));
    assert_memory_equal(img.px, back.px, 784 * sizeof(float));
    float out[784];
    bd_image_prep p;
    bd_image_prep_default(&p);
    p.fit = 0;
    assert_ok(bd_image_to_input(&back, 28, 28, &p, out));
    assert_int_equal(p.inverted, 0);
    assert_memory_equal(out, img.px, sizeof out);
    /* the same digit black on white, at 3x the size: comes back close */
    bd_image big;
    assert_ok(bd_image_alloc(&big, 84, 84));
    for (int y = 0; y < 84; y++)
        for (int x = 0; x < 84; x++)
            big.px[y * 84 + x] = 1.0f - img.px[(y / 3) * 28 + x / 3];
    bd_image_prep_default(&p);
    assert_ok(bd_image_to_input(&big, 28, 28, &p, out));
    assert_int_equal(p.inverted, 1);
    double diff = 0;
    for (int k = 0; k < 784; k++)
        diff += fabs(out[k] - img.px[k]);
    assert_true(diff / 784 < 0.01);
    bd_image_free(&big);
    bd_image_free(&img);
    bd_image_free(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(png_gray),
        cmocka_unit_test(png_colour_and_alpha),
        cmocka_unit_test(png_interlaced),
        cmocka_unit_test(png_damaged_files_fail_cleanly),
        cmocka_unit_test(pnm_read),
        cmocka_unit_test(pnm_damaged_files_fail_cleanly),
        cmocka_unit_test(write_pgm_round_trip),
        cmocka_unit_test(resize_keeps_uniform_and_averages),
        cmocka_unit_test(to_input_inverts_light_paper),
        cmocka_unit_test(to_input_fits_like_mnist),
        cmocka_unit_test(mnist_digit_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
