/* plot.h — the only part of badak that knows PLplot: a page written to a
 * PNG (pngcairo) or SVG (svgcairo) file atomically, a grid of panels on it,
 * and the few kinds of marks the figures need (lines, points, text, legends,
 * contours, vector fields, 3-D surfaces, bars, grayscale images).
 *
 * PLplot keeps global state and is not thread-safe: call these from one
 * thread, one page at a time. Every drawing call applies to the panel set
 * last by plot_panel. Colours are indices into the palette below. */
#ifndef BADAK_PLOT_H
#define BADAK_PLOT_H

#include "badak.h"

/* palette (PLplot cmap0): background, foreground, grid, then matplotlib's
 * "tab10" cycle so lines look as they do in the notes */
enum {
    PC_BG = 0, PC_FG, PC_GRID, PC_MUTED,
    PC_BLUE, PC_ORANGE, PC_GREEN, PC_RED, PC_PURPLE, PC_BROWN, PC_PINK, PC_GRAY, PC_OLIVE,
    PC_CYAN,
    PC_COUNT
};
/* the i-th colour of the cycle (0: blue, 1: orange, ...) */
int plot_cycle(int i);

/* line styles */
enum { PLOT_SOLID = 1, PLOT_DASHED = 3 };

typedef struct plot_page {
    char path[4096];  /* final name */
    char tmp[4200];   /* written here, renamed to path by plot_close */
    int open;
} plot_page;

/* Start a page of width x height pixels written to `path` (svg: SVG, else
 * PNG) with `title` across its top (NULL: none). */
bd_status plot_open(plot_page *pg, const char *path, int width, int height, int svg,
                    const char *title);
/* Finish the page: the file is complete and renamed into place. */
bd_status plot_close(plot_page *pg);

/* A panel: cell `i` (row-major) of a grid of nx columns x ny rows. */
typedef struct plot_axes {
    int nx, ny, i;
    int span;        /* columns the panel spans (0 or 1: one) */
    double xmin, xmax, ymin, ymax;
    const char *title, *xlabel, *ylabel;
    int no_yticks;   /* 1: no numbers on the y axis (shared with a panel to its left) */
    int no_xticks;   /* 1: no numbers on the x axis */
    int no_grid;
    int equal;       /* 1: same scale on both axes (centred in the cell) */
    double xtick, ytick; /* tick spacing (0: PLplot chooses) */
    int no_box;      /* 1: no axes, only the title (a 3-D panel) */
    double title_size; /* the panel title's size (0: 1, the text size) */
    int ylog;        /* 1: a log-scale y axis: ymin, ymax and the y values drawn
                      * are log10 of the data (numbers shown as 10^k) */
} plot_axes;

void plot_panel(const plot_axes *a);
/* data units per millimetre on the current panel, x and y (to size labels) */
void plot_mm_units(double *ux, double *uy);
/* x, y [n]; style PLOT_SOLID / PLOT_DASHED; width in PLplot units (1 thin) */
void plot_line(int n, const double *x, const double *y, int color, int style, double width);
/* markers: "o" filled circle, "s" filled square, "^" triangle, "x" cross */
void plot_points(int n, const double *x, const double *y, int color, const char *marker,
                 double size);
/* text at (x, y) in data units; just 0 left, 0.5 centred, 1 right */
void plot_text(double x, double y, const char *s, int color, double just, double size);
/* the same along the direction (dx, dy) in data units (1, 1 on equal axes:
 * 45 degrees up) */
void plot_text_dir(double x, double y, double dx, double dy, const char *s, int color,
                   double just, double size);
/* a straight segment */
void plot_segment(double x0, double y0, double x1, double y1, int color, int style,
                  double width);
/* arrows from (x[k], y[k]) by (u[k], v[k]) in data units */
void plot_arrows(int n, const double *x, const double *y, const double *u, const double *v,
                 int color);

/* A legend in a corner of the current panel. markers[k] NULL or "" draws a
 * line of colors[k] / styles[k]; otherwise that marker, on a line when
 * styles is given (NULL: the marker alone). corner: "tr", "tl", "br", "bl". */
void plot_legend(int n, const char *const *labels, const int *colors, const int *styles,
                 const char *const *markers, const char *corner);

/* z [nx*ny] row-major over x (rows, nx values from xmin to xmax) and y
 * (columns, ny values): contour lines at the nlev levels */
void plot_contour(const double *z, int nx, int ny, double xmin, double xmax, double ymin,
                  double ymax, const double *levels, int nlev, int color);
/* bars: counts [n] over the n+1 bin edges */
void plot_bars(int n, const double *edges, const double *counts, int color);
/* A 3-D surface of z [nx*ny] (same layout as plot_contour) in the current
 * cell, seen from altitude alt and azimuth az (degrees); the cell's axes are
 * replaced by the 3-D box. */
void plot_surface(const double *z, int nx, int ny, double xmin, double xmax, double ymin,
                  double ymax, double alt, double az, const char *xlabel, const char *ylabel,
                  const char *zlabel);

/* A heat map on the current panel (give it xmin 0, xmax cols, ymin 0, ymax
 * rows): v [rows, cols] row-major, row 0 drawn at the top, each cell shaded
 * from white (0) to dark blue (vmax) with text[r * cols + c] (NULL: none)
 * centred in it, in white on dark cells. */
void plot_heatmap(const double *v, int rows, int cols, double vmax, const char *const *text,
                  double tsize);

/* A block of n small grayscale images px [n, h, w] (row 0 at the top) in
 * `cols` columns (0: about square) on the current page, each with an
 * optional caption above it. Shading: lo < hi maps lo..hi for every image;
 * otherwise each image runs from its own min to its max (the book's
 * visualize_filter). reversed: min white, max black (matplotlib's gray_r,
 * as the book draws filters and digits); else min black, max white. The
 * block fills the rectangle x0..x1, y0..y1 of the page below its title
 * (fractions, 0,0,0,0: all of it), with `title` (NULL: none) on top. */
typedef struct plot_imgs {
    const float *px;
    int n, h, w, cols;
    const char *const *captions;
    int reversed;
    float lo, hi;
    double x0, x1, y0, y1;
    const char *title;
} plot_imgs;
void plot_images(const plot_imgs *g);

/* n images as above (each its own min..max, plain gray) on a page of their
 * own written to png_path (PNG) atomically. Returns 0 on success, -1 with
 * bd_errmsg() set otherwise. */
int plot_image_grid(const char *png_path, const float *imgs, int n, int h, int w,
                    const char *title);

#endif
