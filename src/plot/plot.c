/* plot.c — PLplot pages, panels and marks (see plot.h). Sizes of margins are
 * in character heights, so text keeps its size whatever the page size. */
#include "plot/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const unsigned char PALETTE[PC_COUNT][3] = {
    {255, 255, 255}, {0, 0, 0}, {221, 221, 221}, {120, 120, 120},
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189},
    {140, 86, 75}, {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
};

int plot_cycle(int i)
{
    return PC_BLUE + (i % 10 + 10) % 10;
}

/* the page's title height, kept for plot_panel; its size in pixels */
static double g_top_mm;
static int g_page_w = 1, g_page_h = 1;
/* PLplot's default text height grows with the page; figures want the same
 * text size on every page: 4.8 mm, about 13.6 pixels (cairo pages are 72
 * dpi), times rel */
#define TEXT_MM 4.8
static void text_size(double rel) { plschr(TEXT_MM, rel); }

/* PLplot prints notes on stdout/stderr now and then (driver loading); the
 * command's output must stay clean, so both are sent to /dev/null while
 * PLplot works and put back afterwards. */
static int g_saved[2] = {-1, -1};

static void quiet_begin(void)
{
    fflush(stdout);
    fflush(stderr);
    int null = open("/dev/null", O_WRONLY);
    if (null < 0)
        return;
    for (int fd = 1; fd <= 2; fd++) {
        g_saved[fd - 1] = dup(fd);
        dup2(null, fd);
    }
    close(null);
}

static void quiet_end(void)
{
    fflush(stdout);
    fflush(stderr);
    for (int fd = 1; fd <= 2; fd++) {
        if (g_saved[fd - 1] >= 0) {
            dup2(g_saved[fd - 1], fd);
            close(g_saved[fd - 1]);
            g_saved[fd - 1] = -1;
        }
    }
}

bd_status plot_open(plot_page *pg, const char *path, int width, int height, int svg,
                    const char *title)
{
    memset(pg, 0, sizeof *pg);
    if ((size_t)snprintf(pg->path, sizeof pg->path, "%s", path) >= sizeof pg->path)
        return bd_error(BD_ERR_ARG, "figure path too long: %s", path);
    /* the temporary file sits in the same folder, so rename is atomic */
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) + 1 : 0;
    snprintf(pg->tmp, sizeof pg->tmp, "%.*s.%s.tmp", dirlen, path, path + dirlen);
    quiet_begin();
    plsdev(svg ? "svgcairo" : "pngcairo");
    plsfnam(pg->tmp);
    plspage(0, 0, width, height, 0, 0);
    g_page_w = width > 0 ? width : 1;
    g_page_h = height > 0 ? height : 1;
    plscmap0n(PC_COUNT);
    PLINT r[PC_COUNT], g[PC_COUNT], b[PC_COUNT];
    for (int i = 0; i < PC_COUNT; i++) {
        r[i] = PALETTE[i][0];
        g[i] = PALETTE[i][1];
        b[i] = PALETTE[i][2];
    }
    plscmap0(r, g, b, PC_COUNT);
    plinit();
    pg->open = 1;
    pladv(0);
    text_size(1.0);
    plsmaj(2.4, 1.0);
    plsmin(1.4, 1.0);
    g_top_mm = 0;
    if (title && *title) {
        PLFLT def, ht;
        plgchr(&def, &ht);
        g_top_mm = 3.2 * ht;
        plvpor(0, 1, 0, 1);
        plwind(0, 1, 0, 1);
        plcol0(PC_FG);
        text_size(1.3);
        plmtex("t", -1.6, 0.5, 0.5, title);
        text_size(1.0);
    }
    return BD_OK;
}

bd_status plot_close(plot_page *pg)
{
    if (!pg->open)
        return BD_OK;
    plend();
    quiet_end();
    pg->open = 0;
    struct stat st;
    if (stat(pg->tmp, &st) != 0 || st.st_size == 0) {
        remove(pg->tmp);
        return bd_error(BD_ERR_IO, "%s: PLplot wrote nothing (is plplot-driver-cairo installed?)",
                        pg->path);
    }
    if (rename(pg->tmp, pg->path) != 0) {
        int e = errno;
        remove(pg->tmp);
        return bd_error(BD_ERR_IO, "%s: cannot write: %s", pg->path, strerror(e));
    }
    return BD_OK;
}

/* page size in mm and one character height in mm */
static void page_mm(double *w, double *h, double *ch)
{
    PLFLT x0, x1, y0, y1, def, ht;
    plgspa(&x0, &x1, &y0, &y1);
    plgchr(&def, &ht);
    *w = x1 - x0;
    *h = y1 - y0;
    *ch = ht;
}

void plot_panel(const plot_axes *a)
{
    double W, H, ch;
    page_mm(&W, &H, &ch);
    int col = a->i % a->nx, row = a->i / a->nx;
    double top = 1.0 - g_top_mm / H;  /* below the page title */
    double cw = 1.0 / a->nx, chh = top / a->ny;
    double x0 = col * cw, x1 = x0 + cw * (a->span > 1 ? a->span : 1);
    double y1 = top - row * chh, y0 = y1 - chh;
    /* margins: y numbers and label on the left, x numbers and label below,
     * the panel title above */
    double ml = (a->no_yticks ? 2.5 : 6.2) * ch / W, mr = 1.8 * ch / W;
    double mb = (a->xlabel && *a->xlabel ? 4.4 : 2.6) * ch / H, mt = 2.6 * ch / H;
    if (a->ylabel && *a->ylabel && a->no_yticks)
        ml = 3.0 * ch / W;
    double vx0 = x0 + ml, vx1 = x1 - mr, vy0 = y0 + mb, vy1 = y1 - mt;
    if (a->equal) { /* same mm per unit on both axes */
        double pw = (vx1 - vx0) * W, ph = (vy1 - vy0) * H;
        double sx = pw / (a->xmax - a->xmin), sy = ph / (a->ymax - a->ymin);
        double s = sx < sy ? sx : sy;
        double nw = s * (a->xmax - a->xmin) / W, nh = s * (a->ymax - a->ymin) / H;
        double cx = (vx0 + vx1) / 2, cy = (vy0 + vy1) / 2;
        vx0 = cx - nw / 2;
        vx1 = cx + nw / 2;
        vy0 = cy - nh / 2;
        vy1 = cy + nh / 2;
    }
    plvpor(vx0, vx1, vy0, vy1);
    plwind(a->xmin, a->xmax, a->ymin, a->ymax);
    /* numbers as written (10000), never "1.0 (x10^4)" */
    plsxax(7, 0);
    plsyax(7, 0);
    plwidth(1);
    pllsty(1);
    if (a->no_box) { /* a 3-D panel: only its title */
        plcol0(PC_FG);
        if (a->title && *a->title)
            plmtex("t", 0.9, 0.5, 0.5, a->title);
        return;
    }
    if (!a->no_grid) {
        plcol0(PC_GRID);
        plbox("g", a->xtick, 0, a->ylog ? "gl" : "g", a->ylog ? 1 : a->ytick, 0);
    }
    plcol0(PC_FG);
    plbox(a->no_xticks ? "bcst" : "bcnst", a->xtick, 0,
          a->no_yticks ? (a->ylog ? "bclst" : "bcst") : (a->ylog ? "bclnstv" : "bcnstv"),
          a->ylog ? 1 : a->ytick, 0);
    if (a->xlabel && *a->xlabel)
        plmtex("b", a->no_xticks ? 1.6 : 3.0, 0.5, 0.5, a->xlabel);
    if (a->ylabel && *a->ylabel)
        plmtex("l", a->no_yticks ? 1.2 : 4.2, 0.5, 0.5, a->ylabel);
    if (a->title && *a->title) {
        text_size(a->title_size > 0 ? a->title_size : 1.0);
        plmtex("t", 0.9, 0.5, 0.5, a->title);
        text_size(1.0);
    }
}

void plot_mm_units(double *ux, double *uy)
{
    PLFLT wx0, wx1, wy0, wy1, vx0, vx1, vy0, vy1;
    plgvpw(&wx0, &wx1, &wy0, &wy1);
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    double W, H, ch;
    page_mm(&W, &H, &ch);
    *ux = (wx1 - wx0) / ((vx1 - vx0) * W);
    *uy = (wy1 - wy0) / ((vy1 - vy0) * H);
}

void plot_line(int n, const double *x, const double *y, int color, int style, double width)
{
    if (n < 2)
        return;
    plcol0(color);
    pllsty(style);
    plwidth(width);
    plline(n, x, y);
    pllsty(1);
    plwidth(1);
}

static const char *glyph(const char *m)
{
    if (!m || !*m || !strcmp(m, "o"))
        return "●";
    if (!strcmp(m, "s"))
        return "■";
    if (!strcmp(m, "^"))
        return "▲";
    if (!strcmp(m, "x"))
        return "✕";
    if (!strcmp(m, "*"))
        return "★";
    return m;
}

void plot_points(int n, const double *x, const double *y, int color, const char *marker,
                 double size)
{
    if (n < 1)
        return;
    plcol0(color);
    text_size(size);
    plstring(n, x, y, glyph(marker));
    text_size(1.0);
}

void plot_text(double x, double y, const char *s, int color, double just, double size)
{
    plcol0(color);
    text_size(size);
    plptex(x, y, 1, 0, just, s);
    text_size(1.0);
}

void plot_text_dir(double x, double y, double dx, double dy, const char *s, int color,
                   double just, double size)
{
    plcol0(color);
    text_size(size);
    plptex(x, y, dx, dy, just, s);
    text_size(1.0);
}

void plot_segment(double x0, double y0, double x1, double y1, int color, int style,
                  double width)
{
    double x[2] = {x0, x1}, y[2] = {y0, y1};
    plot_line(2, x, y, color, style, width);
}

void plot_arrows(int n, const double *x, const double *y, const double *u, const double *v,
                 int color)
{
    /* drawn by hand (shaft and two head strokes) so the heads keep their
     * shape on any aspect ratio: the head is built in millimetres */
    PLFLT wx0, wx1, wy0, wy1, vx0, vx1, vy0, vy1;
    plgvpw(&wx0, &wx1, &wy0, &wy1);
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    double W, H, ch;
    page_mm(&W, &H, &ch);
    double sx = (vx1 - vx0) * W / (wx1 - wx0), sy = (vy1 - vy0) * H / (wy1 - wy0); /* mm/unit */
    plcol0(color);
    plwidth(1);
    for (int k = 0; k < n; k++) {
        double ux = u[k] * sx, uy = v[k] * sy, len = hypot(ux, uy);
        if (len < 1e-9)
            continue;
        plot_segment(x[k], y[k], x[k] + u[k], y[k] + v[k], color, PLOT_SOLID, 1);
        double head = fmin(0.35 * len, 1.2), c = cos(0.45), sn = sin(0.45);
        for (int side = -1; side <= 1; side += 2) {
            /* the shaft's reverse direction turned by +-0.45 rad */
            double hx = (-ux * c - side * -uy * sn) / len * head;
            double hy = (-uy * c + side * -ux * sn) / len * head;
            double ex = x[k] + u[k], ey = y[k] + v[k];
            plot_segment(ex, ey, ex + hx / sx, ey + hy / sy, color, PLOT_SOLID, 1);
        }
    }
}

void plot_legend(int n, const char *const *labels, const int *colors, const int *styles,
                 const char *const *markers, const char *corner)
{
    if (n < 1 || n > 32)
        return;
    PLINT opt[32], tcol[32], lcol[32], lsty[32], scol[32], snum[32];
    PLFLT lw[32], ssc[32];
    const char *sym[32];
    for (int k = 0; k < n; k++) {
        int is_sym = markers && markers[k] && *markers[k];
        /* a marker alone, or (styles given) a line with the marker on it */
        opt[k] = is_sym ? PL_LEGEND_SYMBOL | (styles ? PL_LEGEND_LINE : 0) : PL_LEGEND_LINE;
        tcol[k] = PC_FG;
        lcol[k] = colors[k];
        lsty[k] = styles ? styles[k] : PLOT_SOLID;
        lw[k] = 2.0;
        scol[k] = colors[k];
        ssc[k] = 0.8;
        snum[k] = 1;
        sym[k] = is_sym ? glyph(markers[k]) : "";
    }
    PLINT pos = PL_POSITION_INSIDE | PL_POSITION_VIEWPORT;
    pos |= (corner && corner[0] == 'b') ? PL_POSITION_BOTTOM : PL_POSITION_TOP;
    pos |= (corner && corner[1] == 'l') ? PL_POSITION_LEFT : PL_POSITION_RIGHT;
    PLFLT w, h;
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, pos, 0.02, 0.02, 0.06,
             PC_BG, PC_MUTED, 1, 0, 0, n, opt, 0.8, 0.85, 1.8, 0.0, tcol, labels, NULL, NULL,
             NULL, NULL, lcol, lsty, lw, scol, ssc, snum, sym);
}

void plot_heatmap(const double *v, int rows, int cols, double vmax, const char *const *text,
                  double tsize)
{
    /* cmap1 from white to matplotlib's "Blues" dark end (8, 48, 107) */
    PLFLT pos[2] = {0, 1}, r[2] = {1, 8 / 255.0}, g[2] = {1, 48 / 255.0},
          b[2] = {1, 107 / 255.0};
    plscmap1n(256);
    plscmap1l(1, 2, pos, r, g, b, NULL);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            double f = vmax > 0 ? v[(size_t)i * cols + j] / vmax : 0;
            f = f < 0 ? 0 : f > 1 ? 1 : f;
            PLFLT x[4] = {j, j + 1, j + 1, j}, y[4] = {rows - i, rows - i, rows - i - 1,
                                                       rows - i - 1};
            plcol1(f);
            plfill(4, x, y);
            const char *t = text ? text[(size_t)i * cols + j] : NULL;
            if (t && *t) {
                plcol0(f > 0.55 ? PC_BG : PC_FG);
                text_size(tsize > 0 ? tsize : 1.0);
                plptex(j + 0.5, rows - i - 0.5 - 0.15, 1, 0, 0.5, t);
                text_size(1.0);
            }
        }
    plcol0(PC_FG); /* a frame round the cells */
    PLFLT fx[5] = {0, cols, cols, 0, 0}, fy[5] = {0, 0, rows, rows, 0};
    plline(5, fx, fy);
}

/* row pointers of a row-major [nx, ny] array, as PLplot's matrices */
static PLFLT **rows_of(const double *z, int nx, int ny)
{
    PLFLT **r = malloc(sizeof *r * (size_t)nx);
    if (r)
        for (int i = 0; i < nx; i++)
            r[i] = (PLFLT *)(z + (size_t)i * ny);
    return r;
}

void plot_contour(const double *z, int nx, int ny, double xmin, double xmax, double ymin,
                  double ymax, const double *levels, int nlev, int color)
{
    PLFLT **r = rows_of(z, nx, ny);
    PLFLT *xg = malloc(sizeof(PLFLT) * (size_t)(nx + ny));
    if (!r || !xg) {
        free(r);
        free(xg);
        return;
    }
    PLFLT *yg = xg + nx;
    for (int i = 0; i < nx; i++)
        xg[i] = xmin + (xmax - xmin) * i / (nx - 1);
    for (int j = 0; j < ny; j++)
        yg[j] = ymin + (ymax - ymin) * j / (ny - 1);
    PLcGrid grid = {.xg = xg, .yg = yg, .zg = NULL, .nx = nx, .ny = ny, .nz = 0};
    plcol0(color);
    plwidth(1);
    plcont((PLFLT_MATRIX)r, nx, ny, 1, nx, 1, ny, levels, nlev, pltr1, &grid);
    free(r);
    free(xg);
}

void plot_bars(int n, const double *edges, const double *counts, int color)
{
    for (int k = 0; k < n; k++) {
        if (counts[k] <= 0)
            continue;
        PLFLT x[4] = {edges[k], edges[k], edges[k + 1], edges[k + 1]};
        PLFLT y[4] = {0, counts[k], counts[k], 0};
        plcol0(color);
        plfill(4, x, y);
        plcol0(PC_BG);
        plline(4, x, y);
    }
}

void plot_surface(const double *z, int nx, int ny, double xmin, double xmax, double ymin,
                  double ymax, double alt, double az, const char *xlabel, const char *ylabel,
                  const char *zlabel)
{
    double zmin = z[0], zmax = z[0];
    for (size_t k = 0; k < (size_t)nx * ny; k++) {
        zmin = z[k] < zmin ? z[k] : zmin;
        zmax = z[k] > zmax ? z[k] : zmax;
    }
    PLFLT **r = rows_of(z, nx, ny);
    PLFLT *xg = malloc(sizeof(PLFLT) * (size_t)(nx + ny));
    if (!r || !xg) {
        free(r);
        free(xg);
        return;
    }
    PLFLT *yg = xg + nx;
    for (int i = 0; i < nx; i++)
        xg[i] = xmin + (xmax - xmin) * i / (nx - 1);
    for (int j = 0; j < ny; j++)
        yg[j] = ymin + (ymax - ymin) * j / (ny - 1);
    /* viridis-like colour map for height */
    PLFLT pos[3] = {0, 0.5, 1}, rr[3] = {0.27, 0.13, 0.99}, gg[3] = {0.00, 0.57, 0.91},
          bb[3] = {0.33, 0.55, 0.14};
    plscmap1l(1, 3, pos, rr, gg, bb, NULL);
    plwind(-1.0, 1.0, -0.8, 1.4);
    plw3d(1.15, 1.15, 0.95, xmin, xmax, ymin, ymax, zmin, zmax, alt, az);
    plcol0(PC_FG);
    plbox3("bnstu", xlabel, 0, 0, "bnstu", ylabel, 0, 0, "bnstu", zlabel, 0, 0);
    plsurf3d(xg, yg, (PLFLT_MATRIX)r, nx, ny, MAG_COLOR | FACETED, NULL, 0);
    free(r);
    free(xg);
}

/* one image into PLplot's layout: plimagefr takes its values at the
 * corners of the cells it draws (nx values span nx - 1 cells), so the image
 * gets one more column and row, copies of its last, for w x h visible
 * pixels; it is indexed [x][y] with y going up, so image row 0 is the top */
static void image_cells(PLFLT **col, const float *im, int h, int w, float lo, float hi,
                        int reversed)
{
    if (!(lo < hi)) {
        lo = hi = im[0];
        for (int p = 1; p < h * w; p++) {
            lo = im[p] < lo ? im[p] : lo;
            hi = im[p] > hi ? im[p] : hi;
        }
    }
    float span = hi > lo ? hi - lo : 1.0f;
    for (int y = 0; y <= h; y++)
        for (int x = 0; x <= w; x++) {
            int r = y < h ? h - 1 - y : 0, q = x < w ? x : w - 1;
            double v = (im[r * w + q] - lo) / span;
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            col[x][y] = reversed ? 1 - v : v;
        }
}

void plot_images(const plot_imgs *g)
{
    if (g->n < 1 || g->h < 1 || g->w < 1 || !g->px)
        return;
    const int h = g->h, w = g->w;
    PLFLT **col = malloc(sizeof *col * (size_t)(w + 1));
    PLFLT *buf = malloc(sizeof *buf * (size_t)(w + 1) * (h + 1));
    if (!col || !buf) {
        free(col);
        free(buf);
        return;
    }
    for (int x = 0; x <= w; x++)
        col[x] = buf + (size_t)x * (h + 1);
    PLFLT pos[2] = {0, 1}, gray[2] = {0, 1};
    plscmap1l(1, 2, pos, gray, gray, gray, NULL);
    double W, H, ch;
    page_mm(&W, &H, &ch);
    double top = 1.0 - g_top_mm / H;
    int whole = g->x0 == 0 && g->x1 == 0;
    double bx0 = whole ? 0.01 : g->x0, bx1 = whole ? 0.99 : g->x1;
    double by0 = (whole ? 0.01 : g->y0) * top, by1 = (whole ? 1.0 : g->y1) * top;
    if (g->title && *g->title) {
        plvpor(bx0, bx1, by0, by1);
        plwind(0, 1, 0, 1);
        plcol0(PC_FG);
        plmtex("t", -1.3, 0.5, 0.5, g->title);
        by1 -= 2.0 * ch / H;
    }
    int cols = g->cols > 0 ? g->cols : (int)ceil(sqrt((double)g->n));
    int rows = (g->n + cols - 1) / cols;
    double cap = g->captions ? 1.9 * 0.8 * ch / H : 0.004; /* caption line above each image */
    double cw = (bx1 - bx0) / cols, chh = (by1 - by0) / rows;
    /* square images (in pixels: PLplot's millimetres need not be square
     * on every page shape), a small gap between them */
    W = g_page_w;
    H = g_page_h;
    double side = fmin(cw * W, (chh - cap) * H) * 0.92;
    for (int k = 0; k < g->n; k++) {
        image_cells(col, g->px + (size_t)k * h * w, h, w, g->lo, g->hi, g->reversed);
        int c = k % cols, r = k / cols;
        double cx = bx0 + (c + 0.5) * cw, cy = by1 - r * chh - cap - (chh - cap) / 2;
        plvpor(cx - side / 2 / W, cx + side / 2 / W, cy - side / 2 / H, cy + side / 2 / H);
        plwind(0, w, 0, h);
        /* plimagefr, not plimage: plimage stretches each image to its own
         * min..max, this keeps 0..1 as computed above */
        plimagefr((PLFLT_MATRIX)col, w + 1, h + 1, 0, w, 0, h, 0, 1, 0, 1, NULL, NULL);
        plcol0(PC_MUTED);
        plbox("bc", 0, 0, "bc", 0, 0);
        if (g->captions && g->captions[k]) {
            plcol0(PC_FG);
            text_size(0.8);
            plmtex("t", 0.7, 0.5, 0.5, g->captions[k]);
            text_size(1.0);
        }
    }
    free(col);
    free(buf);
}

int plot_image_grid(const char *png_path, const float *imgs, int n, int h, int w,
                    const char *title)
{
    if (n < 1 || h < 1 || w < 1 || !imgs) {
        bd_error(BD_ERR_ARG, "%s: image grid of %d images %dx%d: nothing to draw", png_path,
                 n, h, w);
        return -1;
    }
    int cols = (int)ceil(sqrt((double)n)), rows = (n + cols - 1) / cols;
    int cell = 90; /* pixels per image, whatever its size */
    plot_page pg;
    if (plot_open(&pg, png_path, cols * cell + 40, rows * cell + 80, 0, title) != BD_OK)
        return -1;
    plot_images(&(plot_imgs){.px = imgs, .n = n, .h = h, .w = w, .cols = cols});
    return plot_close(&pg) == BD_OK ? 0 : -1;
}
