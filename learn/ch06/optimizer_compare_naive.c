/* optimizer_compare_naive.c — mirrors the book's
 * ch06/optimizer_compare_naive.py (6.1.7, figure 6-8): 30 updates of each
 * optimizer of optimizer.h on f(x, y) = x^2 / 20 + y^2 from (-7, 2), with
 * the book's learning rates (SGD 0.95, Momentum 0.1, AdaGrad 1.5, Adam 0.3;
 * RMSprop and Nesterov, not in the book's figure, 0.1 as badak's
 * `badak figure optimizers-2d` draws them). Prints every position: step 0
 * is the start, step k the position after k updates.
 *
 * The book keeps 30 positions (the start and 29 updates); printing 31 lets
 * the test compare all of them with the CSV of `badak figure optimizers-2d`,
 * which runs the library's float optimizers (src/optim/optim.c). */
#include "optimizer.h"

/* df(x, y) = (x / 10, 2 y), the gradient of f */
static void df(const double *p, double *g)
{
    g[0] = p[0] / 10.0;
    g[1] = 2.0 * p[1];
}

int main(void)
{
    Optimizer opts[6] = {optimizer("SGD", 0.95),     optimizer("Momentum", 0.1),
                         optimizer("AdaGrad", 1.5),  optimizer("Adam", 0.3),
                         optimizer("RMSprop", 0.1),  optimizer("Nesterov", 0.1)};
    for (int k = 0; k < 6; k++) {
        Optimizer *o = &opts[k];
        double params[2] = {-7.0, 2.0}, grads[2]; /* init_pos */
        printf("%s (lr %g)\n", o->name, o->lr);
        for (int i = 0; i <= 30; i++) {
            printf("  %-8s step %2d: x %.10f y %.10f\n", o->name, i, params[0], params[1]);
            df(params, grads);
            update(o, params, grads, 2);
        }
    }
    return 0;
}
