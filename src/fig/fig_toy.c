/* fig_toy.c — the figures of small functions (seeds 003, 004, book 4.3-4.4
 * and 6.1): gradient descent in 1-D and 2-D, the numerical derivative and
 * gradient field, loss surfaces and the optimizers' paths. */
#include "fig/figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- gd-1d */

static double quad(double x) { return x * x - 4 * x + 6; }
static double quad_d(double x) { return 2 * x - 4; }
static double xsinx(double x) { return x * sin(x); }
static double xsinx_d(double x) { return sin(x) + x * cos(x); }

#define GD1_MAX 16
typedef struct gd1_path {
    double x0, lr;
    int steps;
    double xs[GD1_MAX + 1];
} gd1_path;

typedef struct gd1_data {
    gd1_path quad[3];      /* lr 0.2, 0.01, 1 from 4, 6 steps */
    gd1_path start[2];     /* x sin x, lr 0.25 from 2.5 and 1.5 */
    gd1_path rate[2];      /* x sin x from 2.5, lr 1.0 and 0.05 */
} gd1_data;

/* Number the points x_0, x_1, ... of a path. Points that land on one
 * another (a converged or oscillating path) share one label (x_0,2,4), and
 * a label that would overlap the one before it is merged into it (x_2-6),
 * so labels never pile up where the path converges. */
static void gd1_labels(const gd1_path *q, const double *px, const double *py, double xr,
                       double yr, int color)
{
    double ux, uy;
    plot_mm_units(&ux, &uy);
    const double cw = 2.2 * ux, lh = 5.5 * uy; /* a label character's width, a line's height */
    int done[GD1_MAX + 1] = {0}, shown[GD1_MAX + 1], nshown = 0;
    char lab[GD1_MAX + 1][96];
    int len[GD1_MAX + 1], last[GD1_MAX + 1];
    for (int k = 0; k <= q->steps; k++) {
        if (done[k])
            continue;
        /* the points at this one's place */
        int l = snprintf(lab[k], sizeof lab[k], "x#d%d", k), run = 0, prev = k;
        for (int m = k + 1; m <= q->steps; m++) {
            if (fabs(px[m] - px[k]) > 0.002 * xr || fabs(py[m] - py[k]) > 0.002 * yr)
                continue;
            done[m] = 1;
            int next_same = m < q->steps && fabs(px[m + 1] - px[k]) <= 0.002 * xr &&
                            fabs(py[m + 1] - py[k]) <= 0.002 * yr;
            if (m == prev + 1 && next_same) {
                run = 1;
            } else if (l < 80) {
                l += snprintf(lab[k] + l, sizeof lab[k] - (size_t)l, "%s%d", run ? "-" : ",", m);
                run = 0;
            }
            prev = m;
        }
        len[k] = l;
        last[k] = prev;
        /* overlapping the label shown before: extend that one to x_a-k */
        if (nshown) {
            int b = shown[nshown - 1];
            double wb = (2.5 + 1.0 * (len[b] - 3)) * cw; /* "x" and the subscript */
            if (fabs(px[k] - px[b]) < wb && fabs(py[k] - py[b]) < lh && last[b] == k - 1) {
                char *dash = strchr(lab[b], '-');
                if (!strchr(lab[b], ','))
                    snprintf(dash ? dash : lab[b] + len[b], 16, "-%d", last[k]);
                len[b] = (int)strlen(lab[b]);
                last[b] = last[k];
                continue;
            }
        }
        shown[nshown++] = k;
    }
    for (int i = 0; i < nshown; i++) {
        int k = shown[i];
        char text[110];
        snprintf(text, sizeof text, "%s#u", lab[k]);
        plot_text(px[k] + 0.015 * xr, py[k] + 0.035 * yr, text, color, 0.0, 0.85);
    }
}

/* the curve f over [lo, hi] widened to hold every point of the paths */
static void curve_panel(const plot_axes *base, double (*f)(double), const gd1_path *p, int np,
                        const int *colors, const char *const *markers)
{
    plot_axes a = *base;
    double lo = a.xmin, hi = a.xmax;
    for (int j = 0; j < np; j++)
        for (int k = 0; k <= p[j].steps; k++) {
            lo = fmin(lo, p[j].xs[k] - 0.3);
            hi = fmax(hi, p[j].xs[k] + 0.8); /* room for the label */
        }
    enum { N = 300 };
    double x[N], y[N], ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < N; i++) {
        x[i] = lo + (hi - lo) * i / (N - 1);
        y[i] = f(x[i]);
        ymin = fmin(ymin, y[i]);
        ymax = fmax(ymax, y[i]);
    }
    double pad = 0.08 * (ymax - ymin);
    a.xmin = lo;
    a.xmax = hi;
    a.ymin = ymin - pad;
    a.ymax = ymax + pad;
    plot_panel(&a);
    plot_line(N, x, y, PC_BLUE, PLOT_SOLID, 2);
    for (int j = 0; j < np; j++) {
        const gd1_path *q = &p[j];
        double px[GD1_MAX + 1], py[GD1_MAX + 1];
        for (int k = 0; k <= q->steps; k++) {
            px[k] = q->xs[k];
            py[k] = f(q->xs[k]);
        }
        plot_points(q->steps + 1, px, py, colors[j], markers[j], 0.8);
        gd1_labels(q, px, py, hi - lo, a.ymax - a.ymin, colors[j]);
    }
}

static void draw_gd1d(const void *data)
{
    const gd1_data *d = data;
    static const int black[1] = {PC_FG};
    static const char *const dot[1] = {"o"};
    for (int j = 0; j < 3; j++) {
        char title[64];
        snprintf(title, sizeof title, TR("learning rate %g", "학습률 %g"), d->quad[j].lr);
        plot_axes a = {.nx = 6, .ny = 2, .i = 2 * j, .span = 2, .xmin = -1, .xmax = 5.6,
                       .title = title, .xlabel = "x", .ylabel = j == 0 ? "f(x)" : ""};
        curve_panel(&a, quad, &d->quad[j], 1, black, dot);
        double mx = 2, my = 2;
        plot_points(1, &mx, &my, PC_ORANGE, "s", 0.9); /* the minimum */
    }
    static const int two[2] = {PC_BLUE, PC_RED};
    static const char *const mk[2] = {"s", "o"};
    char l0[64], l1[64];
    const char *labs[2] = {l0, l1};
    const int lc[2] = {PC_BLUE, PC_RED};
    plot_axes a = {.nx = 6, .ny = 2, .i = 6, .span = 3, .xmin = -1, .xmax = 7,
                   .title = TR("x sin x: the start decides (lr 0.25)",
                                "x sin x: 시작점에 따라 달라진다 (학습률 0.25)"),
                   .xlabel = "x",
                   .ylabel = "f(x)"};
    curve_panel(&a, xsinx, d->start, 2, two, mk);
    snprintf(l0, sizeof l0, "x#d0#u = %g", d->start[0].x0);
    snprintf(l1, sizeof l1, "x#d0#u = %g", d->start[1].x0);
    plot_legend(2, labs, lc, NULL, mk, "tl");
    a.i = 9;
    a.title = TR("x sin x: the learning rate decides (from 2.5)",
                 "x sin x: 학습률에 따라 달라진다 (2.5에서 출발)");
    a.ylabel = "";
    curve_panel(&a, xsinx, d->rate, 2, two, mk);
    snprintf(l0, sizeof l0, TR("lr %g", "학습률 %g"), d->rate[0].lr);
    snprintf(l1, sizeof l1, TR("lr %g", "학습률 %g"), d->rate[1].lr);
    plot_legend(2, labs, lc, NULL, mk, "tl");
}

static void gd1_run(gd1_path *p, double (*df)(double), double x0, double lr, int steps)
{
    p->x0 = x0;
    p->lr = lr;
    p->steps = steps;
    fig_gd1d(df, x0, lr, steps, p->xs);
}

static void gd1_csv(fig_csv *c, const char *panel, const gd1_path *p, double (*f)(double))
{
    for (int k = 0; k <= p->steps; k++)
        fig_csv_row(c, "%s,%g,%g,%d,%.9g,%.9g", panel, p->lr, p->x0, k, p->xs[k], f(p->xs[k]));
}

bd_status fig_make_gd1d(fig_ctx *ctx)
{
    gd1_data d;
    static const double lrs[3] = {0.2, 0.01, 1.0};
    for (int j = 0; j < 3; j++) /* the notes' max_iter=6 */
        gd1_run(&d.quad[j], quad_d, 4.0, lrs[j], 6);
    gd1_run(&d.start[0], xsinx_d, 2.5, 0.25, 10);
    gd1_run(&d.start[1], xsinx_d, 1.5, 0.25, 10);
    gd1_run(&d.rate[0], xsinx_d, 2.5, 1.0, 5);
    gd1_run(&d.rate[1], xsinx_d, 2.5, 0.05, 10);
    fig_csv c;
    bd_status s = fig_csv_for(ctx, &c, "gd-1d", "panel,lr,x0,k,x,f");
    if (s != BD_OK)
        return s;
    for (int j = 0; j < 3; j++)
        gd1_csv(&c, "quadratic", &d.quad[j], quad);
    for (int j = 0; j < 2; j++)
        gd1_csv(&c, "xsinx-start", &d.start[j], xsinx);
    for (int j = 0; j < 2; j++)
        gd1_csv(&c, "xsinx-lr", &d.rate[j], xsinx);
    s = fig_csv_close(&c);
    if (s != BD_OK)
        return s;
    return fig_draw(ctx, "gd-1d", 1350, 860,
                    TR("Gradient descent x#dk+1#u = x#dk#u - lr f'(x#dk#u) on x#u2#d - 4x + 6 "
                       "(top) and x sin x (bottom)",
                       "경사 하강법 x#dk+1#u = x#dk#u - lr f'(x#dk#u): 위는 x#u2#d - 4x + 6, "
                       "아래는 x sin x"),
                    draw_gd1d, &d);
}

/* ---------------------------------------------------- numerical-diff */

static double fn1(double x) { return 0.01 * x * x + 0.1 * x; } /* book eq. 4.5 */

#define FIELD_N 17 /* np.arange(-2, 2.5, 0.25) */
typedef struct numdiff_data {
    double tx[2], slope[2], icpt[2];
    double gx[FIELD_N * FIELD_N], gy[FIELD_N * FIELD_N];
    double u[FIELD_N * FIELD_N], v[FIELD_N * FIELD_N]; /* -grad */
} numdiff_data;

static void draw_numdiff(const void *data)
{
    const numdiff_data *d = data;
    plot_axes a = {.nx = 2, .ny = 1, .i = 0, .xmin = 0, .xmax = 20, .ymin = -1, .ymax = 6,
                   .title = TR("f(x) = 0.01x#u2#d + 0.1x and its tangents",
                               "f(x) = 0.01x#u2#d + 0.1x와 접선"),
                   .xlabel = "x",
                   .ylabel = "f(x)"};
    plot_panel(&a);
    enum { N = 200 };
    double x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = 20.0 * i / (N - 1);
        y[i] = fn1(x[i]);
    }
    plot_line(N, x, y, PC_BLUE, PLOT_SOLID, 2);
    const int col[2] = {PC_ORANGE, PC_GREEN};
    for (int j = 0; j < 2; j++) {
        double ty[2] = {d->icpt[j], d->slope[j] * 20 + d->icpt[j]}, tx[2] = {0, 20};
        plot_line(2, tx, ty, col[j], PLOT_DASHED, 2);
        double px = d->tx[j], py = fn1(px);
        plot_points(1, &px, &py, col[j], "o", 1.0);
    }
    char l1[64], l2[64];
    snprintf(l1, sizeof l1, TR("tangent at x = %g (slope %.4f)", "x = %g에서의 접선 (기울기 %.4f)"),
             d->tx[0], d->slope[0]);
    snprintf(l2, sizeof l2, TR("tangent at x = %g (slope %.4f)", "x = %g에서의 접선 (기울기 %.4f)"),
             d->tx[1], d->slope[1]);
    const char *labs[3] = {"f(x)", l1, l2};
    const int lc[3] = {PC_BLUE, PC_ORANGE, PC_GREEN}, ls[3] = {PLOT_SOLID, PLOT_DASHED,
                                                                PLOT_DASHED};
    plot_legend(3, labs, lc, ls, NULL, "tl");

    plot_axes b = {.nx = 2, .ny = 1, .i = 1, .xmin = -2.2, .xmax = 2.2, .ymin = -2.2,
                   .ymax = 2.2, .equal = 1,
                   .title = TR("-#[0x2207]f of f(x#d0#u, x#d1#u) = x#d0#u#u2#d + x#d1#u#u2#d "
                               "(numerical gradient)",
                               "f(x#d0#u, x#d1#u) = x#d0#u#u2#d + x#d1#u#u2#d의 -#[0x2207]f "
                               "(수치 미분)"),
                   .xlabel = "x#d0#u", .ylabel = "x#d1#u"};
    plot_panel(&b);
    plot_arrows(FIELD_N * FIELD_N, d->gx, d->gy, d->u, d->v, PC_MUTED);
}

bd_status fig_make_numdiff(fig_ctx *ctx)
{
    numdiff_data *d = calloc(1, sizeof *d);
    if (!d)
        return bd_error(BD_ERR_NOMEM, "numerical-diff");
    d->tx[0] = 5;
    d->tx[1] = 10;
    for (int j = 0; j < 2; j++) { /* the book's tangent_line */
        d->slope[j] = fig_numdiff(fn1, d->tx[j], 1e-2f);
        d->icpt[j] = fn1(d->tx[j]) - d->slope[j] * d->tx[j];
    }
    /* arrows scaled so the longest is one grid step (quiver's autoscale) */
    double maxlen = 0;
    for (int i = 0; i < FIELD_N; i++)
        for (int j = 0; j < FIELD_N; j++) {
            int k = i * FIELD_N + j;
            float g[2];
            d->gx[k] = -2 + 0.25 * i;
            d->gy[k] = -2 + 0.25 * j;
            fig_bowl_numgrad((float)d->gx[k], (float)d->gy[k], 1e-2f, g);
            d->u[k] = -g[0];
            d->v[k] = -g[1];
            maxlen = fmax(maxlen, hypot(g[0], g[1]));
        }
    fig_csv c;
    bd_status s = fig_csv_for(ctx, &c, "numerical-diff", "part,x,y,u,v");
    if (s == BD_OK) {
        for (int j = 0; j < 2; j++) /* tangent: x, f(x), slope, intercept */
            fig_csv_row(&c, "tangent,%g,%.9g,%.9g,%.9g", d->tx[j], fn1(d->tx[j]), d->slope[j],
                        d->icpt[j]);
        for (int k = 0; k < FIELD_N * FIELD_N; k++) /* field: x0, x1, -df/dx0, -df/dx1 */
            fig_csv_row(&c, "field,%g,%g,%.9g,%.9g", d->gx[k], d->gy[k], d->u[k], d->v[k]);
        s = fig_csv_close(&c);
    }
    for (int k = 0; k < FIELD_N * FIELD_N; k++) {
        d->u[k] *= 0.25 / maxlen;
        d->v[k] *= 0.25 / maxlen;
    }
    if (s == BD_OK)
        s = fig_draw(ctx, "numerical-diff", 1300, 620,
                     TR("The numerical derivative (f(x+h) - f(x-h)) / 2h and the gradient",
                        "수치 미분 (f(x+h) - f(x-h)) / 2h와 기울기"),
                     draw_numdiff, d);
    free(d);
    return s;
}

/* ------------------------------------------------------------- gd-2d */

#define GD2_STEPS 20
typedef struct gd2_data {
    float xy[(GD2_STEPS + 1) * 2];
} gd2_data;

static void circles(double xmin, double xmax, double ymin, double ymax, double (*f)(double, double),
                    const double *levels, int nlev)
{
    enum { NX = 81, NY = 81 };
    static double z[NX * NY];
    for (int i = 0; i < NX; i++)
        for (int j = 0; j < NY; j++)
            z[i * NY + j] = f(xmin + (xmax - xmin) * i / (NX - 1),
                              ymin + (ymax - ymin) * j / (NY - 1));
    plot_contour(z, NX, NY, xmin, xmax, ymin, ymax, levels, nlev, PC_GRID);
}

static void draw_gd2d(const void *data)
{
    const gd2_data *d = data;
    plot_axes a = {.nx = 1, .ny = 1, .i = 0, .xmin = -3.5, .xmax = 3.5, .ymin = -4.5,
                   .ymax = 4.5, .equal = 1, .no_grid = 1,
                   .title = TR("f(x#d0#u, x#d1#u) = x#d0#u#u2#d + x#d1#u#u2#d, lr 0.1, 20 steps",
                               "f(x#d0#u, x#d1#u) = x#d0#u#u2#d + x#d1#u#u2#d, 학습률 0.1, 20번 갱신"),
                   .xlabel = "x#d0#u", .ylabel = "x#d1#u"};
    plot_panel(&a);
    static const double lev[] = {0.5, 2, 4.5, 8, 12.5, 18, 24.5};
    circles(-3.5, 3.5, -4.5, 4.5, fig_bowl, lev, 7);
    plot_segment(-5, 0, 5, 0, PC_BLUE, PLOT_DASHED, 1);
    plot_segment(0, -5, 0, 5, PC_BLUE, PLOT_DASHED, 1);
    double x[GD2_STEPS + 1], y[GD2_STEPS + 1];
    for (int k = 0; k <= GD2_STEPS; k++) {
        x[k] = d->xy[2 * k];
        y[k] = d->xy[2 * k + 1];
    }
    plot_points(GD2_STEPS + 1, x, y, PC_BLUE, "o", 0.9);
    plot_text(x[0] + 0.15, y[0], TR("start (-3, 4)", "시작점 (-3, 4)"), PC_FG, 0, 0.9);
}

bd_status fig_make_gd2d(fig_ctx *ctx)
{
    gd2_data d;
    bd_status s = fig_path2d("sgd", &(bd_optim_config){.lr = 0.1f}, fig_bowl_grad, -3.0f, 4.0f,
                             GD2_STEPS, d.xy);
    if (s != BD_OK)
        return s;
    fig_csv c;
    s = fig_csv_for(ctx, &c, "gd-2d", "step,x0,x1");
    if (s != BD_OK)
        return s;
    for (int k = 0; k <= GD2_STEPS; k++)
        fig_csv_row(&c, "%d,%.9g,%.9g", k, (double)d.xy[2 * k], (double)d.xy[2 * k + 1]);
    s = fig_csv_close(&c);
    if (s != BD_OK)
        return s;
    return fig_draw(ctx, "gd-2d", 700, 820,
                    TR("Gradient descent in two dimensions", "2차원의 경사 하강법"), draw_gd2d,
                    &d);
}

/* ------------------------------------------------------- sgd-surface */

#define SURF_STEPS 30
typedef struct surf_data {
    float path[2][(SURF_STEPS + 1) * 2];
    float lr[2];
} surf_data;

static void field(double (*f)(double, double), fig_grad2 grad, double xmin, double xmax,
                  double ymin, double ymax)
{
    enum { NX = 21, NY = 11 };
    double x[NX * NY], y[NX * NY], u[NX * NY], v[NX * NY], maxlen = 0;
    for (int i = 0; i < NX; i++)
        for (int j = 0; j < NY; j++) {
            int k = i * NY + j;
            float p[2] = {(float)(xmin + (xmax - xmin) * i / (NX - 1)),
                          (float)(ymin + (ymax - ymin) * j / (NY - 1))}, g[2];
            grad(p, g);
            x[k] = p[0];
            y[k] = p[1];
            u[k] = -g[0];
            v[k] = -g[1];
            maxlen = fmax(maxlen, hypot(g[0], g[1]));
        }
    double step = (xmax - xmin) / (NX - 1) * 0.95;
    for (int k = 0; k < NX * NY; k++) {
        u[k] *= step / maxlen;
        v[k] *= step / maxlen;
    }
    plot_arrows(NX * NY, x, y, u, v, PC_MUTED);
}

static const char *SURF_NAME[2] = {"f = x#u2#d + y#u2#d", "f = x#u2#d/20 + y#u2#d"};

static void draw_surface(const void *data)
{
    const surf_data *d = data;
    double (*fs[2])(double, double) = {fig_bowl, fig_ellipse};
    fig_grad2 gs[2] = {fig_bowl_grad, fig_ellipse_grad};
    static const double lev[2][9] = {{1, 4, 9, 16, 25, 36, 49, 64, 81},
                                     {0.25, 0.5, 1, 2, 3, 4, 5, 6, 7}};
    for (int r = 0; r < 2; r++) {
        enum { NX = 41, NY = 41 };
        static double z[NX * NY];
        for (int i = 0; i < NX; i++)
            for (int j = 0; j < NY; j++)
                z[i * NY + j] = fs[r](-10 + 20.0 * i / (NX - 1), -5 + 10.0 * j / (NY - 1));
        char title[96];
        snprintf(title, sizeof title, TR("%s: surface", "%s: 곡면"), SURF_NAME[r]);
        plot_axes a = {.nx = 3, .ny = 2, .i = 3 * r, .xmin = 0, .xmax = 1, .ymin = 0, .ymax = 1,
                       .no_box = 1, .title = title};
        /* the cell's frame only sets the viewport; the 3-D box replaces it */
        plot_panel(&a);
        plot_surface(z, NX, NY, -10, 10, -5, 5, 30, -60, "x", "y", "f");

        snprintf(title, sizeof title, TR("%s: contours, -#[0x2207]f, SGD lr %g",
                                          "%s: 등고선, -#[0x2207]f, SGD 학습률 %g"), SURF_NAME[r],
                 (double)d->lr[r]);
        plot_axes b = {.nx = 3, .ny = 2, .i = 3 * r + 1, .xmin = -10, .xmax = 10, .ymin = -5,
                       .ymax = 5, .title = title, .xlabel = "x", .ylabel = "y", .no_grid = 1,
                       .equal = 1};
        plot_panel(&b);
        plot_contour(z, NX, NY, -10, 10, -5, 5, lev[r], 9, PC_GRID);
        field(fs[r], gs[r], -10, 10, -5, 5);
        double px[SURF_STEPS + 1], py[SURF_STEPS + 1];
        for (int k = 0; k <= SURF_STEPS; k++) {
            px[k] = d->path[r][2 * k];
            py[k] = d->path[r][2 * k + 1];
        }
        plot_line(SURF_STEPS + 1, px, py, PC_RED, PLOT_SOLID, 1.5);
        plot_points(SURF_STEPS + 1, px, py, PC_RED, "o", 0.6);
        double zx = 0, zy = 0;
        plot_points(1, &zx, &zy, PC_FG, "+", 1.2);

        snprintf(title, sizeof title, "%s: -#[0x2207]f", SURF_NAME[r]);
        plot_axes c = {.nx = 3, .ny = 2, .i = 3 * r + 2, .xmin = -10, .xmax = 10, .ymin = -5,
                       .ymax = 5, .title = title, .xlabel = "x", .ylabel = "y", .equal = 1};
        plot_panel(&c);
        field(fs[r], gs[r], -10, 10, -5, 5);
    }
}

bd_status fig_make_sgd_surface(fig_ctx *ctx)
{
    surf_data d;
    /* the bowl with a small rate (it goes straight in), the ellipse with the
     * book's SGD rate 0.95 (it zigzags along y) */
    d.lr[0] = 0.1f;
    d.lr[1] = 0.95f;
    fig_grad2 gs[2] = {fig_bowl_grad, fig_ellipse_grad};
    for (int r = 0; r < 2; r++) {
        bd_status s = fig_path2d("sgd", &(bd_optim_config){.lr = d.lr[r]}, gs[r], -7.0f, 2.0f,
                                 SURF_STEPS, d.path[r]);
        if (s != BD_OK)
            return s;
    }
    fig_csv c;
    bd_status s = fig_csv_for(ctx, &c, "sgd-surface", "function,lr,step,x,y");
    if (s != BD_OK)
        return s;
    static const char *fname[2] = {"x^2+y^2", "x^2/20+y^2"};
    for (int r = 0; r < 2; r++)
        for (int k = 0; k <= SURF_STEPS; k++)
            fig_csv_row(&c, "%s,%g,%d,%.9g,%.9g", fname[r], (double)d.lr[r], k,
                        (double)d.path[r][2 * k], (double)d.path[r][2 * k + 1]);
    s = fig_csv_close(&c);
    if (s != BD_OK)
        return s;
    return fig_draw(ctx, "sgd-surface", 1500, 900,
                    TR("A round bowl and a stretched one: -#[0x2207]f points at the minimum "
                       "only in the round one",
                       "둥근 그릇과 늘어난 그릇: -#[0x2207]f가 최솟값을 가리키는 것은 둥근 "
                       "쪽뿐"),
                    draw_surface, &d);
}

/* ----------------------------------------------------- optimizers-2d */

#define OPT2_STEPS 30
typedef struct opt2_data {
    int n;
    const char *name[6];
    const char *label[6];
    float lr[6];
    float path[6][(OPT2_STEPS + 1) * 2];
} opt2_data;

static void draw_optim2d(const void *data)
{
    const opt2_data *d = data;
    enum { NX = 81, NY = 41 };
    static double z[NX * NY];
    for (int i = 0; i < NX; i++)
        for (int j = 0; j < NY; j++)
            z[i * NY + j] = fig_ellipse(-10 + 20.0 * i / (NX - 1), -5 + 10.0 * j / (NY - 1));
    static const double lev[] = {0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 7};
    for (int m = 0; m < d->n; m++) {
        char title[64];
        snprintf(title, sizeof title, TR("%s (lr %g)", "%s (학습률 %g)"), d->label[m], (double)d->lr[m]);
        plot_axes a = {.nx = 3, .ny = 2, .i = m, .xmin = -10, .xmax = 10, .ymin = -5,
                       .ymax = 5, .title = title, .xlabel = "x", .ylabel = "y", .no_grid = 1};
        plot_panel(&a);
        plot_contour(z, NX, NY, -10, 10, -5, 5, lev, 10, PC_GRID);
        double px[OPT2_STEPS + 1], py[OPT2_STEPS + 1];
        for (int k = 0; k <= OPT2_STEPS; k++) {
            px[k] = d->path[m][2 * k];
            py[k] = d->path[m][2 * k + 1];
        }
        plot_line(OPT2_STEPS + 1, px, py, PC_RED, PLOT_SOLID, 1.5);
        plot_points(OPT2_STEPS + 1, px, py, PC_RED, "o", 0.6);
        double zx = 0, zy = 0;
        plot_points(1, &zx, &zy, PC_FG, "+", 1.4); /* the minimum */
    }
}

bd_status fig_make_optim2d(fig_ctx *ctx)
{
    /* the book's optimizer_compare_naive.py rates; RMSProp and Nesterov are
     * not in the book's figure: 0.1 (RMSProp's step is about lr per
     * coordinate at first) and Momentum's 0.1 */
    opt2_data d = {.n = 6,
                   .name = {"sgd", "momentum", "adagrad", "adam", "rmsprop", "nesterov"},
                   .label = {"SGD", "Momentum", "AdaGrad", "Adam", "RMSProp", "Nesterov"}, /* as in the book */
                   .lr = {0.95f, 0.1f, 1.5f, 0.3f, 0.1f, 0.1f}};
    for (int m = 0; m < d.n; m++) {
        bd_status s = fig_path2d(d.name[m], &(bd_optim_config){.lr = d.lr[m]},
                                 fig_ellipse_grad, -7.0f, 2.0f, OPT2_STEPS, d.path[m]);
        if (s != BD_OK)
            return s;
    }
    fig_csv c;
    bd_status s = fig_csv_for(ctx, &c, "optimizers-2d", "optimizer,lr,step,x,y");
    if (s != BD_OK)
        return s;
    for (int m = 0; m < d.n; m++)
        for (int k = 0; k <= OPT2_STEPS; k++)
            fig_csv_row(&c, "%s,%g,%d,%.9g,%.9g", d.name[m], (double)d.lr[m], k,
                        (double)d.path[m][2 * k], (double)d.path[m][2 * k + 1]);
    s = fig_csv_close(&c);
    if (s != BD_OK)
        return s;
    return fig_draw(ctx, "optimizers-2d", 1500, 820,
                    TR("30 steps of each optimizer on f(x, y) = x#u2#d/20 + y#u2#d from (-7, 2)",
                       "f(x, y) = x#u2#d/20 + y#u2#d에서 (-7, 2)부터 기법마다 30번 갱신"),
                    draw_optim2d, &d);
}

/* -------------------------------------------------------- surface-3d */

#define S3_N 25 /* -3, -2.75, ..., 3 */
typedef struct s3_data {
    double z[S3_N * S3_N];
} s3_data;

static void draw_surface3d(const void *data)
{
    const s3_data *d = data;
    plot_axes a = {.nx = 1, .ny = 1, .i = 0, .xmin = 0, .xmax = 1, .ymin = 0, .ymax = 1,
                   .no_box = 1};
    plot_panel(&a);
    plot_surface(d->z, S3_N, S3_N, -3, 3, -3, 3, 30, -60, "x#d0#u", "x#d1#u", "f");
}

/* Book figure 4-8: f(x0, x1) = x0² + x1² (eq. 4.6) over [-3, 3]². */
bd_status fig_make_surface3d(fig_ctx *ctx)
{
    s3_data d;
    fig_csv c;
    bd_status s = fig_csv_for(ctx, &c, "surface-3d", "x0,x1,f");
    if (s != BD_OK)
        return s;
    for (int i = 0; i < S3_N; i++)
        for (int j = 0; j < S3_N; j++) {
            double x0 = -3 + 0.25 * i, x1 = -3 + 0.25 * j;
            d.z[i * S3_N + j] = fig_bowl(x0, x1);
            fig_csv_row(&c, "%g,%g,%g", x0, x1, d.z[i * S3_N + j]);
        }
    s = fig_csv_close(&c);
    if (s != BD_OK)
        return s;
    return fig_draw(ctx, "surface-3d", 900, 760,
                    TR("f(x#d0#u, x#d1#u) = x#d0#u#u2#d + x#d1#u#u2#d (book figure 4-8)",
                       "f(x#d0#u, x#d1#u) = x#d0#u#u2#d + x#d1#u#u2#d의 그래프 (그림 4-8)"),
                    draw_surface3d, &d);
}
