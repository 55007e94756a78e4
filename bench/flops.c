/* flops.c — `make bench`'s FLOP counts: the GEMM work of a network, from
 * its layers (as `badak train --model` builds them for MNIST-shaped
 * input, or the CxHxW given last). Prints: forward FLOPs per sample, and the FLOPs per sample of a
 * training step (forward + backward: dW and dX, each as large as the
 * forward, but no dX for the first layer). Affine 2·in·out, Conv2d
 * 2·F·C·K²·OH·OW, a ResBlock's two 3x3 convolutions (and 1x1 projection).
 * Elementwise work (ReLU, pooling, BatchNorm, the optimizer) is not
 * counted: the floor is the products'. Not a test. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static double conv(double F, double C, double K, double OH, double OW)
{
    return 2.0 * F * C * K * K * OH * OW;
}

static double layer_flops(const bd_layer *l)
{
    switch (l->kind) {
    case BD_LAYER_AFFINE:
        return 2.0 * l->in_size * l->out_size;
    case BD_LAYER_CONV2D:
        return conv(l->out_c, l->in_c, l->k, l->out_h, l->out_w);
    case BD_LAYER_RESBLOCK: {
        double f = conv(l->out_c, l->in_c, 3, l->out_h, l->out_w) +
                   conv(l->out_c, l->out_c, 3, l->out_h, l->out_w);
        if (l->in_c != l->out_c || l->stride != 1)
            f += conv(l->out_c, l->in_c, 1, l->out_h, l->out_w);
        return f;
    }
    default:
        return 0.0;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: flops MODEL [hidden,...] [CxHxW]\n");
        return 2;
    }
    int c = 1, h = 28, w = 28;
    if (argc > 2 && strchr(argv[argc - 1], 'x')) { /* the input shape */
        if (sscanf(argv[argc - 1], "%dx%dx%d", &c, &h, &w) != 3) {
            fprintf(stderr, "flops: bad input shape '%s' (CxHxW)\n", argv[argc - 1]);
            return 2;
        }
        argc--;
    }
    bd_net_spec spec;
    bd_net_spec_default(&spec);
    snprintf(spec.model, sizeof spec.model, "%s", argv[1]);
    if (argc > 2) { /* hidden sizes, e.g. 100,100,100,100,100 */
        char *s = argv[2];
        while (*s && spec.nhidden < 32) {
            spec.hidden[spec.nhidden++] = (int)strtol(s, &s, 10);
            if (*s == ',')
                s++;
        }
    }
    bd_net net;
    bd_rng rng;
    bd_rng_seed(&rng, 1);
    if (bd_net_from_spec(&net, &spec, c, h, w, 10, &rng) != BD_OK) {
        fprintf(stderr, "flops: %s\n", bd_errmsg());
        return 1;
    }
    double fwd = 0, first = -1;
    for (int i = 0; i < net.nlayers; i++) {
        double f = layer_flops(&net.layers[i]);
        if (f > 0 && first < 0)
            first = f;
        fwd += f;
    }
    if (first < 0)
        first = 0;
    printf("%.0f %.0f\n", fwd, 3.0 * fwd - first);
    bd_net_free(&net);
    return 0;
}
