/* gradient_simplenet.c — mirrors the book's ch04/gradient_simplenet.py
 * (4.4.2, the gradient of a neural network): simpleNet, one 2x3 weight
 * matrix, softmax and cross-entropy; dL/dW by the numerical gradient.
 *
 * The book draws W with np.random.randn; its text prints one W, which is
 * used here so the numbers can be compared with the book's. */
#include "learn.h"

static double W[2][3] = {{0.47355232, 0.9977393, 0.84668094},
                         {0.85557411, 0.03563661, 0.69422093}};
static const double x[2] = {0.6, 0.9};
static const double t[3] = {0, 0, 1}; /* one-hot: the answer is class 2 */

/* predict(x) = x W   [2] x [2, 3] -> [3] */
static void predict(const double *in, double *a)
{
    for (int j = 0; j < 3; j++) {
        a[j] = 0;
        for (int i = 0; i < 2; i++)
            a[j] += in[i] * W[i][j];
    }
}

/* softmax with the maximum subtracted (book 3.5.2, against overflow) */
static void softmax(const double *a, double *y, int n)
{
    double c = a[0], sum = 0;
    for (int k = 1; k < n; k++)
        c = a[k] > c ? a[k] : c;
    for (int k = 0; k < n; k++)
        sum += y[k] = exp(a[k] - c);
    for (int k = 0; k < n; k++)
        y[k] /= sum;
}

/* cross_entropy_error: -sum t log(y + 1e-7)  (book eq. 4.2; the 1e-7 keeps
 * log away from log 0 = -inf) */
static double cross_entropy_error(const double *y, const double *tt, int n)
{
    double delta = 1e-7, e = 0;
    for (int k = 0; k < n; k++)
        e -= tt[k] * log(y[k] + delta);
    return e;
}

static double loss(void)
{
    double z[3], y[3];
    predict(x, z);
    softmax(z, y, 3);
    return cross_entropy_error(y, t, 3);
}

int main(void)
{
    double p[3];
    predict(x, p);
    /* the book: [ 1.05414809  0.63071653  1.1328074 ], argmax 2 */
    print_list("predict(x) =", p, 3);
    int best = 0;
    for (int j = 1; j < 3; j++)
        best = p[j] > p[best] ? j : best;
    printf("np.argmax(p) = %d\n", best);
    /* the book: 0.92806853663411326 (its W had more digits than it prints) */
    printf("loss = %.8f\n", loss());
    /* common/gradient.py numerical_gradient over every element of W, h = 1e-4;
     * the book: [[ 0.21924763  0.14356247 -0.36281009]
     *            [ 0.32887144  0.2153437  -0.54421514]] */
    double h = 1e-4, dW[2][3];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) {
            double tmp_val = W[i][j];
            W[i][j] = tmp_val + h;
            double fxh1 = loss();
            W[i][j] = tmp_val - h;
            double fxh2 = loss();
            dW[i][j] = (fxh1 - fxh2) / (2 * h);
            W[i][j] = tmp_val;
        }
    printf("dW =\n");
    for (int i = 0; i < 2; i++)
        printf("  [%11.8f %11.8f %11.8f]\n", dW[i][0], dW[i][1], dW[i][2]);
    return 0;
}
