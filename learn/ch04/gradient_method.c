/* gradient_method.c — mirrors the book's ch04/gradient_method.py (4.4.1,
 * gradient descent): x <- x - lr * grad f(x)  (book eq. 4.7), 100 steps of
 * function_2 from (-3, 4), with the book's good, too large and too small
 * learning rates. */
#include "learn.h"

static double function_2(const double *x) { return x[0] * x[0] + x[1] * x[1]; }

/* gradient_2d.py's numerical_gradient for two variables, h = 1e-4 */
static void numerical_gradient(double (*f)(const double *), double *x, double *grad)
{
    double h = 1e-4;
    for (int idx = 0; idx < 2; idx++) {
        double tmp_val = x[idx];
        x[idx] = tmp_val + h;
        double fxh1 = f(x);
        x[idx] = tmp_val - h;
        double fxh2 = f(x);
        grad[idx] = (fxh1 - fxh2) / (2 * h);
        x[idx] = tmp_val;
    }
}

/* gradient_descent(f, init_x, lr, step_num); prints the path when asked */
static void gradient_descent(double (*f)(const double *), double *x, double lr,
                             int step_num, int show)
{
    for (int i = 0; i < step_num; i++) {
        if (show && (i < 5 || i % 20 == 0))
            printf("  step %3d: (%.10g, %.10g)\n", i, x[0], x[1]);
        double grad[2];
        numerical_gradient(f, x, grad);
        x[0] -= lr * grad[0];
        x[1] -= lr * grad[1];
    }
}

int main(void)
{
    /* the book: array([-6.11110793e-10, 8.14814391e-10]), near (0, 0) */
    double x[2] = {-3.0, 4.0};
    printf("lr 0.1, 100 steps from (-3, 4):\n");
    gradient_descent(function_2, x, 0.1, 100, 1);
    print_list("  result", x, 2);
    /* too large: array([-2.58983747e+13, -1.29524862e+12]), it diverges */
    double y[2] = {-3.0, 4.0};
    gradient_descent(function_2, y, 10.0, 100, 0);
    print_list("lr 10:", y, 2);
    /* too small: array([-2.99999994, 3.99999992]), it hardly moves */
    double z[2] = {-3.0, 4.0};
    gradient_descent(function_2, z, 1e-10, 100, 0);
    print_list("lr 1e-10:", z, 2);
    return 0;
}
