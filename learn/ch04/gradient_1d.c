/* gradient_1d.c — mirrors the book's ch04/gradient_1d.py (4.3.2, the
 * numerical derivative) and the partial derivatives of 4.3.3.
 *
 * numerical_diff is the central difference (f(x+h) - f(x-h)) / 2h with
 * h = 1e-4 (book eq. 4.2 and the two improvements after it: a tiny h such
 * as 1e-50 is lost to rounding, np.float32(1e-50) is 0.0; and the forward
 * difference (f(x+h) - f(x)) / h is less accurate than the central one). */
#include "learn.h"

static double numerical_diff(double (*f)(double), double x)
{
    double h = 1e-4; /* 0.0001 */
    return (f(x + h) - f(x - h)) / (2 * h);
}

/* y = 0.01 x^2 + 0.1 x  (book eq. 4.5) */
static double function_1(double x) { return 0.01 * (x * x) + 0.1 * x; /* x**2 first, as Python */ }

/* f(x0, x1) = x0^2 + x1^2 (eq. 4.6) with x1 = 4 fixed, and with x0 = 3 fixed */
static double function_tmp1(double x0) { return x0 * x0 + 4.0 * 4.0; }
static double function_tmp2(double x1) { return 3.0 * 3.0 + x1 * x1; }

int main(void)
{
    /* the book: 0.1999999999990898 and 0.2999999999986347, where the true
     * derivative 0.02 x + 0.1 is 0.2 and 0.3 */
    printf("numerical_diff(function_1, 5) = ");
    print_repr(numerical_diff(function_1, 5));
    printf("\nnumerical_diff(function_1, 10) = ");
    print_repr(numerical_diff(function_1, 10));
    /* the tangent at x = 5 the book draws (tangent_line): y = d x + (f(5) - d 5) */
    double d = numerical_diff(function_1, 5);
    printf("\ntangent at 5: y = ");
    print_repr(d);
    printf(" x - ");
    print_repr(-(function_1(5) - d * 5));
    /* 4.3.3: 6.00000000000378 and 7.999999999999119 */
    printf("\nd/dx0 at (3, 4) = ");
    print_repr(numerical_diff(function_tmp1, 3.0));
    printf("\nd/dx1 at (3, 4) = ");
    print_repr(numerical_diff(function_tmp2, 4.0));
    putchar('\n');
    return 0;
}
