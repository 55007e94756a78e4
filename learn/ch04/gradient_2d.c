/* gradient_2d.c — mirrors the book's ch04/gradient_2d.py (4.4, the
 * gradient): numerical_gradient of function_2 at (3, 4), (0, 2), (3, 0).
 *
 * The gradient is the vector of partial derivatives, each a central
 * difference with h = 1e-4 taken by nudging one element of x and putting it
 * back (the book's _numerical_gradient_no_batch). */
#include "learn.h"

/* f(x0, x1) = x0^2 + x1^2  (book eq. 4.6; np.sum(x**2)) */
static double function_2(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i] * x[i];
    return s;
}

static void numerical_gradient(double (*f)(const double *, int), double *x, int n,
                               double *grad)
{
    double h = 1e-4;
    for (int idx = 0; idx < n; idx++) {
        double tmp_val = x[idx];
        x[idx] = tmp_val + h; /* f(x + h) */
        double fxh1 = f(x, n);
        x[idx] = tmp_val - h; /* f(x - h) */
        double fxh2 = f(x, n);
        grad[idx] = (fxh1 - fxh2) / (2 * h);
        x[idx] = tmp_val; /* restore */
    }
}

int main(void)
{
    /* the book prints array([6., 8.]), array([0., 4.]), array([6., 0.]);
     * numpy rounds to 8 digits, here are all of them */
    double pts[3][2] = {{3.0, 4.0}, {0.0, 2.0}, {3.0, 0.0}};
    for (int k = 0; k < 3; k++) {
        double g[2];
        numerical_gradient(function_2, pts[k], 2, g);
        printf("numerical_gradient(function_2, [%g, %g]) = ", pts[k][0], pts[k][1]);
        print_list(NULL, g, 2);
    }
    /* the arrows of figure 4-9: -grad on a grid, each pointing to (0, 0) */
    printf("-grad on the grid x0, x1 in {-2, 0, 2}:\n");
    for (int i = -2; i <= 2; i += 2)
        for (int j = -2; j <= 2; j += 2) {
            double x[2] = {i, j}, g[2];
            numerical_gradient(function_2, x, 2, g);
            printf("  (%2d, %2d): (%+.4f, %+.4f)\n", i, j, -g[0] + 0.0, -g[1] + 0.0); /* + 0.0: no -0 */
        }
    return 0;
}
