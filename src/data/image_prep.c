/* image_prep.c — a picture into a network input like MNIST's: resized,
 * inverted to white ink on black when the paper is light, and (by default)
 * fitted and centred the way the MNIST digits were made (LeCun et al.: the
 * digit's bounding box scaled into 20x20, aspect kept, anti-aliased, then
 * placed in 28x28 with its centre of mass at pixel (14, 14)). */
#include "internal.h"

#include <math.h>

void bd_image_prep_default(bd_image_prep *p)
{
    if (!p)
        return;
    p->invert = BD_INVERT_AUTO;
    p->fit = 1;
    p->box = 0.0f;
    p->center_box = 0;
    p->inverted = 0;
}

/* One axis: n samples s[0], s[ss], ... -> m samples d[0], d[ds], ...
 * Shrinking (m < n): output k averages the source interval [k n/m, (k+1) n/m),
 * each sample weighted by how much of it the interval covers (box filter, so
 * no aliasing). Growing: bilinear at the output centre's source position,
 * (k + 0.5) n/m - 0.5, clamped to the first and last samples. */
static void resample(const float *s, ptrdiff_t ss, int n, float *d, ptrdiff_t ds, int m)
{
    if (m == n) {
        for (int k = 0; k < m; k++)
            d[k * ds] = s[k * ss];
    } else if (m < n) {
        const double scale = (double)n / m;
        for (int k = 0; k < m; k++) {
            double a = k * scale, b = (k + 1) * scale;
            int i0 = (int)a, i1 = BD_MIN((int)ceil(b), n);
            double acc = 0.0;
            for (int i = i0; i < i1; i++) {
                double w = BD_MIN(b, i + 1.0) - BD_MAX(a, (double)i);
                acc += w * s[i * ss];
            }
            d[k * ds] = (float)(acc / scale);
        }
    } else {
        const double scale = (double)n / m;
        for (int k = 0; k < m; k++) {
            double x = (k + 0.5) * scale - 0.5;
            x = x < 0.0 ? 0.0 : (x > n - 1 ? n - 1 : x);
            int i = (int)x;
            int i2 = BD_MIN(i + 1, n - 1);
            double f = x - i;
            d[k * ds] = (float)((1.0 - f) * s[i * ss] + f * s[i2 * ss]);
        }
    }
}

void bd_image_resize(const float *src, int sw, int sh, float *dst, int dw, int dh, float *tmp)
{
    for (int y = 0; y < sh; y++) /* rows: [sh, sw] -> tmp [sh, dw] */
        resample(src + (size_t)y * sw, 1, sw, tmp + (size_t)y * dw, 1, dw);
    for (int x = 0; x < dw; x++) /* columns: tmp [sh, dw] -> dst [dh, dw] */
        resample(tmp + x, dw, sh, dst + x, dw, dh);
}

/* Mean of the pixels on the image's outer ring. */
static double border_mean(const float *p, int w, int h)
{
    double s = 0.0;
    long n = 0;
    for (int y = 0; y < h; y++) {
        int step = (y == 0 || y == h - 1) ? 1 : BD_MAX(w - 1, 1);
        for (int x = 0; x < w; x += step) {
            s += p[(size_t)y * w + x];
            n++;
        }
    }
    return s / (double)n;
}

/* Resize ink [h, w] into out [H, W]; scratch-free wrapper. */
static bd_status resize_alloc(const float *ink, int w, int h, float *out, int W, int H)
{
    float *tmp = malloc((size_t)h * (size_t)W * sizeof *tmp);
    if (!tmp)
        return bd_error(BD_ERR_NOMEM, "out of memory resizing %dx%d to %dx%d", w, h, W, H);
    bd_image_resize(ink, w, h, out, W, H, tmp);
    free(tmp);
    return BD_OK;
}

/* The MNIST fit of ink [h, w] (levels already stretched to [0, 1]) into
 * out [H, W]; the box is a fraction `box` of the output. */
static bd_status fit(const float *ink, int w, int h, float *out, int W, int H, double box,
                     int center_box)
{
    /* bounding box of the clear ink (faint specks left out) */
    int x0 = w, x1 = -1, y0 = h, y1 = -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (ink[(size_t)y * w + x] > 0.25f) {
                x0 = BD_MIN(x0, x), x1 = BD_MAX(x1, x);
                y0 = BD_MIN(y0, y), y1 = BD_MAX(y1, y);
            }
    if (x1 < 0)
        return resize_alloc(ink, w, h, out, W, H);
    int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    int boxw = BD_MAX(1, (int)lround(W * box)), boxh = BD_MAX(1, (int)lround(H * box));
    double sc = fmin((double)boxw / bw, (double)boxh / bh);
    int nw = BD_MIN(W, BD_MAX(1, (int)lround(bw * sc)));
    int nh = BD_MIN(H, BD_MAX(1, (int)lround(bh * sc)));

    float *crop = malloc((size_t)bw * bh * sizeof *crop);
    float *tmp = malloc((size_t)bh * nw * sizeof *tmp);
    float *patch = malloc((size_t)nw * nh * sizeof *patch);
    if (!crop || !tmp || !patch) {
        free(crop), free(tmp), free(patch);
        return bd_error(BD_ERR_NOMEM, "out of memory fitting a %dx%d image", w, h);
    }
    for (int y = 0; y < bh; y++)
        memcpy(crop + (size_t)y * bw, ink + (size_t)(y0 + y) * w + x0, (size_t)bw * sizeof *crop);
    bd_image_resize(crop, bw, bh, patch, nw, nh, tmp);

    /* centre of mass of the patch -> (W/2, H/2) in pixel indices, where
     * MNIST's digits have it (mean over its test set: x 14.01, y 13.99) */
    double m = 0.0, mx = 0.0, my = 0.0;
    for (int y = 0; y < nh; y++)
        for (int x = 0; x < nw; x++) {
            double v = patch[(size_t)y * nw + x];
            m += v, mx += v * x, my += v * y;
        }
    double cx = m > 0 ? mx / m : (nw - 1) / 2.0, cy = m > 0 ? my / m : (nh - 1) / 2.0;
    int ox = (int)lround(W / 2.0 - cx), oy = (int)lround(H / 2.0 - cy);
    if (center_box) /* the box in the middle: equal margins (one more after) */
        ox = (W - nw) / 2, oy = (H - nh) / 2;
    memset(out, 0, (size_t)W * H * sizeof *out);
    for (int y = 0; y < nh; y++) {
        int ty = y + oy;
        if (ty < 0 || ty >= H)
            continue;
        for (int x = 0; x < nw; x++) {
            int tx = x + ox;
            if (tx >= 0 && tx < W)
                out[(size_t)ty * W + tx] = patch[(size_t)y * nw + x];
        }
    }
    free(crop), free(tmp), free(patch);
    return BD_OK;
}

bd_status bd_image_to_input(const bd_image *img, int H, int W, bd_image_prep *p, float *out)
{
    if (!img || !out)
        return bd_error(BD_ERR_ARG, "bd_image_to_input: %s is NULL", !img ? "img" : "out");
    bd_image_prep def;
    if (!p) {
        bd_image_prep_default(&def);
        p = &def;
    }
    p->inverted = 0;
    if (!img || !img->px || img->w < 1 || img->h < 1)
        return bd_error(BD_ERR_ARG, "bd_image_to_input: empty image");
    if (H < 1 || W < 1 || H > BD_IMAGE_MAX_SIDE || W > BD_IMAGE_MAX_SIDE)
        return bd_error(BD_ERR_ARG, "bd_image_to_input: bad output size %dx%d", W, H);
    if (!(p->box >= 0.0f && p->box <= 1.0f))
        return bd_error(BD_ERR_ARG, "bd_image_to_input: box %g not in 0..1", (double)p->box);
    const int w = img->w, h = img->h;
    const size_t n = (size_t)w * h;
    double bm = border_mean(img->px, w, h);
    int inv = p->invert == BD_INVERT_ALWAYS || (p->invert == BD_INVERT_AUTO && bm > 0.5);
    p->inverted = inv;
    float *ink = malloc(n * sizeof *ink);
    if (!ink)
        return bd_error(BD_ERR_NOMEM, "out of memory for a %dx%d image", w, h);
    float hi = 0.0f;
    for (size_t k = 0; k < n; k++) {
        ink[k] = inv ? 1.0f - img->px[k] : img->px[k];
        hi = ink[k] > hi ? ink[k] : hi;
    }
    bd_status s;
    float bg = (float)(inv ? 1.0 - bm : bm);
    if (p->fit && hi - bg > 0.05f) {
        /* levels: the paper (border mean) -> 0, the brightest ink -> 1 */
        float sc = 1.0f / (hi - bg);
        for (size_t k = 0; k < n; k++) {
            float v = (ink[k] - bg) * sc;
            ink[k] = v > 0.0f ? v : 0.0f;
        }
        s = fit(ink, w, h, out, W, H, p->box > 0.0f ? (double)p->box : 20.0 / 28.0,
                p->center_box);
    } else {
        s = resize_alloc(ink, w, h, out, W, H); /* as it is (or blank: nothing to fit) */
    }
    free(ink);
    return s;
}
