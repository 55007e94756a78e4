/* augment.c — data augmentation of image batches [B, C, H, W]: random
 * shifts (pad with zeros and crop back), horizontal flips and small
 * rotations, each drawn from a bd_rng so that a seed fixes every batch.
 *
 * The kernels are plain loops over one sample [C, H, W]; bd_augment_batch
 * chains them through one caller-owned scratch sample, so a training step
 * allocates nothing. MNIST-sized work: 100 x 784 pixels per batch, a few
 * tenths of a millisecond, small beside the network itself. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

#define MAX_SHIFT_PARSE 64 /* pixels; bd_augment_check also bounds it by H, W */

void bd_augment_default(bd_augment *a)
{
    if (!a)
        return;
    a->flags = 0;
    a->max_shift = 2;
    a->max_degrees = 10.0f;
    a->flip_p = 0.5f;
}

/* ------------------------------------------------------------ kernels */

void bd_augment_shift(float *y, const float *x, int C, int H, int W, int dy, int dx)
{
    /* y[c][i][j] = x[c][i-dy][j-dx]: the columns j with 0 <= j-dx < W form
     * one run [j0, j1) per row, the rest is zero padding. */
    int j0 = BD_MAX(dx, 0), j1 = BD_MIN(W + dx, W);
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++) {
            float *yr = y + ((size_t)c * H + i) * W;
            int si = i - dy;
            if (si < 0 || si >= H || j0 >= j1) {
                memset(yr, 0, (size_t)W * sizeof *yr);
                continue;
            }
            const float *xr = x + ((size_t)c * H + si) * W;
            for (int j = 0; j < j0; j++)
                yr[j] = 0.0f;
            memcpy(yr + j0, xr + (j0 - dx), (size_t)(j1 - j0) * sizeof *yr);
            for (int j = j1; j < W; j++)
                yr[j] = 0.0f;
        }
}

void bd_augment_flip(float *x, int C, int H, int W)
{
    for (size_t r = 0; r < (size_t)C * H; r++) {
        float *row = x + r * W;
        for (int j = 0, k = W - 1; j < k; j++, k--) {
            float t = row[j];
            row[j] = row[k];
            row[k] = t;
        }
    }
}

/* x[c][i][j], 0 outside the image (the zero fill of the rotation). */
static inline float px(const float *xc, int H, int W, int i, int j)
{
    return (i >= 0 && i < H && j >= 0 && j < W) ? xc[(size_t)i * W + j] : 0.0f;
}

void bd_augment_rotate(float *y, const float *x, int C, int H, int W, float degrees)
{
    /* Inverse mapping: output pixel (i, j) at offset (u, v) = (j - cx, i - cy)
     * from the centre (v pointing down) takes the source point rotated back
     * by the angle. For a counterclockwise turn by t as seen on screen that
     * source is (u cos t - v sin t, u sin t + v cos t); it is sampled
     * bilinearly, with zeros beyond the border. */
    double t = (double)degrees * (3.14159265358979323846 / 180.0);
    const float ct = (float)cos(t), st = (float)sin(t);
    const float cy = 0.5f * (float)(H - 1), cx = 0.5f * (float)(W - 1);
    const size_t HW = (size_t)H * W;
    for (int i = 0; i < H; i++) {
        const float v = (float)i - cy;
        const float rx = cx - v * st, ry = cy + v * ct; /* the row's terms */
        for (int j = 0; j < W; j++) {
            const float u = (float)j - cx;
            const float sx = rx + u * ct, sy = ry + u * st;
            const float fx0 = floorf(sx), fy0 = floorf(sy);
            const size_t o = (size_t)i * W + j;
            if (!(fx0 >= -1.0f && fx0 < (float)W && fy0 >= -1.0f && fy0 < (float)H)) {
                for (int c = 0; c < C; c++)
                    y[c * HW + o] = 0.0f;
                continue;
            }
            const int x0 = (int)fx0, y0 = (int)fy0;
            const float ax = sx - fx0, ay = sy - fy0;
            const float w00 = (1.0f - ax) * (1.0f - ay), w01 = ax * (1.0f - ay);
            const float w10 = (1.0f - ax) * ay, w11 = ax * ay;
            if (x0 >= 0 && x0 + 1 < W && y0 >= 0 && y0 + 1 < H) { /* inside: no checks */
                const size_t k = (size_t)y0 * W + x0;
                for (int c = 0; c < C; c++) {
                    const float *xc = x + c * HW + k;
                    y[c * HW + o] = w00 * xc[0] + w01 * xc[1] + w10 * xc[W] + w11 * xc[W + 1];
                }
            } else { /* at the border: the missing neighbours are zeros */
                for (int c = 0; c < C; c++) {
                    const float *xc = x + c * HW;
                    y[c * HW + o] = w00 * px(xc, H, W, y0, x0) + w01 * px(xc, H, W, y0, x0 + 1) +
                                    w10 * px(xc, H, W, y0 + 1, x0) +
                                    w11 * px(xc, H, W, y0 + 1, x0 + 1);
                }
            }
        }
    }
}

/* -------------------------------------------------------------- batch */

bd_status bd_augment_check(const bd_augment *a, int C, int H, int W)
{
    if (!a)
        return bd_error(BD_ERR_ARG, "bd_augment_check: a is NULL");
    if (C < 1 || H < 1 || W < 1)
        return bd_error(BD_ERR_SHAPE, "augmentation: bad image shape %dx%dx%d", C, H, W);
    if (!a->flags)
        return BD_OK;
    if (a->flags & ~(unsigned)(BD_AUG_SHIFT | BD_AUG_FLIP | BD_AUG_ROTATE))
        return bd_error(BD_ERR_ARG, "augmentation: unknown flags 0x%x", a->flags);
    if (H < 2 || W < 2)
        return bd_error(BD_ERR_ARG,
                        "augmentation needs images (C x H x W), not samples of %dx%dx%d",
                        C, H, W);
    if ((a->flags & BD_AUG_SHIFT) && (a->max_shift < 0 || a->max_shift >= BD_MIN(H, W)))
        return bd_error(BD_ERR_ARG, "augmentation: shift %d must be in 0..%d for %dx%d images",
                        a->max_shift, BD_MIN(H, W) - 1, H, W);
    if ((a->flags & BD_AUG_ROTATE) && !(a->max_degrees >= 0.0f && a->max_degrees <= 180.0f))
        return bd_error(BD_ERR_ARG, "augmentation: rotation %g degrees not in 0..180",
                        (double)a->max_degrees);
    if ((a->flags & BD_AUG_FLIP) && !(a->flip_p >= 0.0f && a->flip_p <= 1.0f))
        return bd_error(BD_ERR_ARG, "augmentation: flip probability %g not in 0..1",
                        (double)a->flip_p);
    return BD_OK;
}

size_t bd_augment_scratch_size(int C, int H, int W)
{
    return (size_t)C * (size_t)H * (size_t)W;
}

bd_status bd_augment_batch(const bd_augment *a, float *x, int B, int C, int H, int W,
                           float *scratch, bd_rng *rng)
{
    if (!a || !x || !scratch || !rng)
        return bd_error(BD_ERR_ARG, "bd_augment_batch: %s is NULL",
                        !a ? "a" : !x ? "x" : !scratch ? "scratch" : "rng");
    if (!a || !a->flags)
        return BD_OK;
    BD_TRY(bd_augment_check(a, C, H, W));
    const size_t D = bd_augment_scratch_size(C, H, W);
    const uint32_t span = 2u * (uint32_t)a->max_shift + 1u;
    for (int b = 0; b < B; b++) {
        float *s = x + (size_t)b * D;
        float *cur = s, *other = scratch, *t;
        /* The draws, per sample and always in this order, so a seed fixes
         * them whatever the data: angle, then dy, dx, then the flip. */
        if (a->flags & BD_AUG_ROTATE) {
            float deg = (2.0f * bd_rng_uniform(rng) - 1.0f) * a->max_degrees;
            bd_augment_rotate(other, cur, C, H, W, deg);
            t = cur, cur = other, other = t;
        }
        if (a->flags & BD_AUG_SHIFT) {
            int dy = (int)bd_rng_below(rng, span) - a->max_shift;
            int dx = (int)bd_rng_below(rng, span) - a->max_shift;
            bd_augment_shift(other, cur, C, H, W, dy, dx);
            t = cur, cur = other, other = t;
        }
        if ((a->flags & BD_AUG_FLIP) && bd_rng_uniform(rng) < a->flip_p)
            bd_augment_flip(cur, C, H, W);
        if (cur != s)
            memcpy(s, cur, D * sizeof *s);
    }
    return BD_OK;
}

/* ------------------------------------------------------------ parsing */

/* The number after "name:" in tok (NUL-terminated), in [lo, hi]. */
static bd_status parse_param(const char *tok, const char *num, double lo, double hi,
                             int integer, double *out)
{
    char *end;
    errno = 0;
    double v = integer ? (double)strtol(num, &end, 10) : strtod(num, &end);
    if (end == num || *end || errno || !isfinite(v) || v < lo || v > hi)
        return bd_error(BD_ERR_ARG, "augmentation '%s': '%s' is not %s in %g..%g", tok, num,
                        integer ? "an integer" : "a number", lo, hi);
    *out = v;
    return BD_OK;
}

bd_status bd_parse_augment(const char *s, bd_augment *a)
{
    if (!s || !a)
        return bd_error(BD_ERR_ARG, "bd_parse_augment: %s is NULL", !s ? "s" : "a");
    bd_augment r;
    bd_augment_default(&r);
    if (!s || !*s)
        return bd_error(BD_ERR_ARG, "empty augmentation list (expected e.g. shift,rotate)");
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return bd_error(BD_ERR_ARG, "augmentation list too long: '%.40s...'", s);
    strcpy(buf, s);
    int none = 0, n = 0;
    for (char *tok = buf, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = 0;
        if (!*tok)
            return bd_error(BD_ERR_ARG, "empty augmentation in '%s'", s);
        char *colon = strchr(tok, ':');
        char name[16];
        size_t nl = colon ? (size_t)(colon - tok) : strlen(tok);
        if (nl >= sizeof name)
            nl = sizeof name - 1; /* long names are unknown anyway */
        memcpy(name, tok, nl);
        name[nl] = 0;
        const char *num = colon ? colon + 1 : NULL;
        unsigned bit;
        double v = 0;
        if (!strcmp(name, "shift")) {
            bit = BD_AUG_SHIFT;
            if (num) {
                BD_TRY(parse_param(tok, num, 0, MAX_SHIFT_PARSE, 1, &v));
                r.max_shift = (int)v;
            }
        } else if (!strcmp(name, "flip")) {
            bit = BD_AUG_FLIP;
            if (num) {
                BD_TRY(parse_param(tok, num, 0, 1, 0, &v));
                r.flip_p = (float)v;
            }
        } else if (!strcmp(name, "rotate")) {
            bit = BD_AUG_ROTATE;
            if (num) {
                BD_TRY(parse_param(tok, num, 0, 180, 0, &v));
                r.max_degrees = (float)v;
            }
        } else if (!strcmp(name, "none") && !num) {
            none = 1;
            bit = 0;
        } else {
            return bd_error(BD_ERR_ARG,
                            "unknown augmentation '%s' (expected shift[:PIXELS], flip[:P], "
                            "rotate[:DEGREES] or none)",
                            tok);
        }
        if (bit & r.flags)
            return bd_error(BD_ERR_ARG, "augmentation '%s' given twice in '%s'", name, s);
        r.flags |= bit;
        n++;
    }
    if (none && n > 1)
        return bd_error(BD_ERR_ARG, "augmentation 'none' cannot be combined with others: '%s'",
                        s);
    *a = r;
    return BD_OK;
}

const char *bd_augment_str(const bd_augment *a, char *buf, size_t len)
{
    size_t o = 0;
    if (!buf || len == 0)
        return buf;
    buf[0] = 0;
    if (!a || !a->flags) {
        snprintf(buf, len, "none");
        return buf;
    }
    if (a->flags & BD_AUG_SHIFT)
        o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "shift:%d", a->max_shift);
    if ((a->flags & BD_AUG_FLIP) && o < len)
        o += (size_t)snprintf(buf + o, len - o, "%sflip:%g", o ? "," : "", (double)a->flip_p);
    if ((a->flags & BD_AUG_ROTATE) && o < len)
        snprintf(buf + o, len - o, "%srotate:%g", o ? "," : "", (double)a->max_degrees);
    return buf;
}
