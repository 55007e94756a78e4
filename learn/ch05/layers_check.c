/* layers_check.c — the book's layers as layers.h writes them (common/
 * layers.py: Affine, Relu, Sigmoid, SoftmaxWithLoss, 5.5-5.6) beside the
 * library's fast kernels (bd_affine_*, bd_relu_*, bd_sigmoid_*,
 * bd_softmax_ce_*; src/layers/affine.c, activation.c, loss.c) on the same
 * random data: outputs and gradients must agree to float rounding.
 *
 * Prints the largest |naive - fast| of each; exits 1 if one is above 1e-5. */
#include "layers.h"

enum { B = 4, I = 6, O = 5 };
static bd_rng rng;

static void randn_pair(double *d, float *f, int n)
{
    for (int i = 0; i < n; i++)
        f[i] = (float)(d[i] = bd_rng_normal(&rng));
}

static int report(const char *what, const double *a, const float *b, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - (double)b[i]));
    printf("  %-22s max |naive - fast| = %.2e  %s\n", what, m, m < 1e-5 ? "agree" : "DIFFER");
    return m < 1e-5;
}

int main(void)
{
    bd_set_threads(1);
    bd_rng_seed(&rng, 5);
    double x[B * I], W[I * O], b[O], dout[B * O];
    float xf[B * I], Wf[I * O], bf[O], doutf[B * O], yf[B * O], dxf[B * I], dWf[I * O], dbf[O];
    randn_pair(x, xf, B * I), randn_pair(W, Wf, I * O), randn_pair(b, bf, O);
    randn_pair(dout, doutf, B * O);
    int ok = 1;

    Affine aff;
    affine_init(&aff, W, b, B, I, O);
    affine_forward(&aff, x);
    affine_backward(&aff, dout);
    bd_affine_forward(yf, xf, Wf, bf, B, I, O);
    bd_affine_backward(dxf, dWf, dbf, doutf, xf, Wf, B, I, O);
    printf("Affine x (%d, %d), W (%d, %d)\n", B, I, I, O);
    ok &= report("out = x W + b", aff.out, yf, B * O) & report("dx = dout W^T", aff.dx, dxf, B * I);
    ok &= report("dW = x^T dout", aff.dW, dWf, I * O) & report("db = sum dout", aff.db, dbf, O);

    Relu relu;
    Sigmoid sig;
    relu_init(&relu, B * O), sigmoid_init(&sig, B * O);
    relu_forward(&relu, aff.out), relu_backward(&relu, dout);
    sigmoid_forward(&sig, aff.out), sigmoid_backward(&sig, dout);
    float rf[B * O], rdf[B * O], sf[B * O], sdf[B * O];
    bd_relu_forward(rf, yf, B * O), bd_relu_backward(rdf, doutf, rf, B * O);
    bd_sigmoid_forward(sf, yf, B * O), bd_sigmoid_backward(sdf, doutf, sf, B * O);
    printf("Relu, Sigmoid on that output\n");
    ok &= report("Relu out", relu.out, rf, B * O) & report("Relu dx", relu.dx, rdf, B * O);
    ok &= report("Sigmoid out", sig.out, sf, B * O) & report("Sigmoid dx", sig.dx, sdf, B * O);

    int t[B] = {0, 3, 1, 4};
    SoftmaxWithLoss swl;
    softmax_loss_init(&swl, B, O);
    swl.delta = 0; /* the library computes log-softmax, no 1e-7 */
    double loss = softmax_loss_forward(&swl, aff.out, t);
    softmax_loss_backward(&swl, 1);
    int32_t ti[B] = {0, 3, 1, 4};
    float pf[B * O], dlf[B * O];
    bd_labels lab = {.idx = ti};
    float lossf = (float)bd_softmax_ce_forward(pf, yf, lab, B, O);
    bd_softmax_ce_backward(dlf, pf, lab, B, O);
    printf("SoftmaxWithLoss, labels 0 3 1 4\n");
    ok &= report("loss", &loss, &lossf, 1) & report("y = softmax(x)", swl.y, pf, B * O);
    ok &= report("dx = (y - t) / B", swl.dx, dlf, B * O);

    affine_free(&aff), relu_free(&relu), sigmoid_free(&sig), softmax_loss_free(&swl);
    printf("%s\n", ok ? "naive and fast layers agree" : "naive and fast layers DIFFER");
    return !ok;
}
