/* convnets.c — the convolutional presets (book ch. 7-8, seed 002). Each is a
 * list of layer descriptions, so what a preset builds is exactly what the
 * same list in a .ini file would. */
#include "internal.h"

#include <stdio.h>

#define CONV(f_, k_, s_, p_) \
    {.kind = BD_LAYER_CONV2D, .units = (f_), .k = (k_), .stride = (s_), .pad = (p_)}
#define POOL(k_) {.kind = BD_LAYER_MAXPOOL, .k = (k_), .stride = (k_)}
#define LAYER(kd) {.kind = (kd)}
#define AFFINE(n) {.kind = BD_LAYER_AFFINE, .units = (n)}
#define RES(c_, s_) {.kind = BD_LAYER_RESBLOCK, .units = (c_), .stride = (s_)}
#define BN2D {.kind = BD_LAYER_BATCHNORM2D, .p0 = 0.9f, .p1 = 1e-5f}

/* Build the layers (the last Affine gets `classes` units). */
static bd_status build(bd_net *net, const char *desc, const bd_layer_conf *ls, int n, int c,
                       int h, int w, int classes, bd_init init, bd_rng *rng)
{
    if (classes < 1)
        return bd_error(BD_ERR_ARG, "%s: %d classes", desc, classes);
    bd_status s = bd__net_init(net, c, h, w);
    for (int i = 0; s == BD_OK && i < n; i++) {
        bd_layer_conf lc = ls[i];
        if (i == n - 1)
            lc.units = classes;
        s = bd_net_add_layer(net, &lc);
    }
    if (s == BD_OK)
        s = bd_net_build(net, init, rng);
    if (s != BD_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", bd_errmsg());
        bd__net_release(net);
        return bd_error(s, "%s for %dx%dx%d input: %s", desc, c, h, w, msg);
    }
    snprintf(net->desc, sizeof net->desc, "%s %dx%dx%d-%d", desc, c, h, w, classes);
    return BD_OK;
}

/* Book 7.5 SimpleConvNet: conv 30 5x5 (stride 1, pad 0) - ReLU - max pool
 * 2x2 - Affine 100 - ReLU - Affine - SoftmaxWithLoss, weights N(0, 0.01²)
 * as the book's weight_init_std = 0.01. */
bd_status bd__net_simple_convnet(bd_net *net, int c, int h, int w, int classes, bd_rng *rng)
{
    static const bd_layer_conf L[] = {
        CONV(30, 5, 1, 0), LAYER(BD_LAYER_RELU), POOL(2),
        AFFINE(100),       LAYER(BD_LAYER_RELU), AFFINE(0),
    };
    return build(net, "simple_convnet", L, (int)(sizeof L / sizeof L[0]), c, h, w, classes,
                 (bd_init){BD_INIT_STD, 0.01f}, rng);
}

/* Book 8.1 DeepConvNet (ch08/deep_convnet.py): 3x3 convolutions with ReLU,
 * 16 16 pool 32 32 pool 64 64 pool (the fourth pads by 2, so 28 -> 14 -> 16
 * -> 8 -> 4), then Affine 50 - ReLU - Dropout 0.5 - Affine. */
bd_status bd__net_deep_convnet(bd_net *net, int c, int h, int w, int classes, bd_rng *rng)
{
    static const bd_layer_conf L[] = {
        CONV(16, 3, 1, 1), LAYER(BD_LAYER_RELU), CONV(16, 3, 1, 1), LAYER(BD_LAYER_RELU),
        POOL(2),
        CONV(32, 3, 1, 1), LAYER(BD_LAYER_RELU), CONV(32, 3, 1, 2), LAYER(BD_LAYER_RELU),
        POOL(2),
        CONV(64, 3, 1, 1), LAYER(BD_LAYER_RELU), CONV(64, 3, 1, 1), LAYER(BD_LAYER_RELU),
        POOL(2),
        AFFINE(50), LAYER(BD_LAYER_RELU), {.kind = BD_LAYER_DROPOUT, .p0 = 0.5f},
        AFFINE(0),
    };
    return build(net, "deep_convnet", L, (int)(sizeof L / sizeof L[0]), c, h, w, classes,
                 (bd_init){BD_INIT_HE, 0.0f}, rng);
}

/* A small ResNet for 28x28 images (He et al. 2016, the CIFAR variant scaled
 * down): a 3x3 conv stem with 16 channels, BatchNorm2d and ReLU, then three
 * stages of residual blocks, 16 channels at 28x28, 32 at 14x14, 64 at 7x7
 * (the first block of a stage halves the size with stride 2 and a 1x1
 * projection shortcut), global average pooling and one Affine. 14 weighted
 * layers (1 + 6x2 convolutions + 1 Affine), 174,986 parameters. */
bd_status bd__net_resnet(bd_net *net, int c, int h, int w, int classes, bd_rng *rng)
{
    static const bd_layer_conf L[] = {
        CONV(16, 3, 1, 1), LAYER(BD_LAYER_BATCHNORM2D), LAYER(BD_LAYER_RELU),
        RES(16, 1), RES(16, 1), RES(32, 2), RES(32, 1), RES(64, 2), RES(64, 1),
        LAYER(BD_LAYER_GAP), AFFINE(0),
    };
    return build(net, "resnet", L, (int)(sizeof L / sizeof L[0]), c, h, w, classes,
                 (bd_init){BD_INIT_HE, 0.0f}, rng);
}

/* Seed 002's CNN (unit 4, "transfer learning & model save"), layer for layer:
 * block1 = (Conv2d 16 5x5 stride 1 pad 2 - BatchNorm2d(momentum 0.1) -
 * LeakyReLU) x 2 - MaxPool2d 2; block2 the same with 32 filters; fc =
 * Linear(8*8*32, classes). PyTorch's momentum 0.1 weighs the new batch, so
 * it is badak's running-average momentum 0.9; LeakyReLU's slope 0.01 and
 * BatchNorm2d's eps 1e-5 are PyTorch's defaults. For 3x32x32 input (CIFAR-10)
 * the Linear sees 32x8x8 = 2048 features, as in the seed; 1,034,… — see
 * bd_net_param_count. Weights: He's. */
bd_status bd__net_tobigs_cnn(bd_net *net, int c, int h, int w, int classes, bd_rng *rng)
{
#define LRELU {.kind = BD_LAYER_LEAKY_RELU, .p0 = 0.01f}
    static const bd_layer_conf L[] = {
        CONV(16, 5, 1, 2), BN2D, LRELU, CONV(16, 5, 1, 2), BN2D, LRELU, POOL(2),
        CONV(32, 5, 1, 2), BN2D, LRELU, CONV(32, 5, 1, 2), BN2D, LRELU, POOL(2),
        AFFINE(0),
    };
#undef LRELU
    return build(net, "tobigs_cnn", L, (int)(sizeof L / sizeof L[0]), c, h, w, classes,
                 (bd_init){BD_INIT_HE, 0.0f}, rng);
}

/* Seed 002's ResNet(ConvBlock, [2, 2, 2, 2]), ResNet-18 for 32x32 colour
 * images (He et al. 2016's ImageNet widths with the CIFAR stem): conv1 64
 * 3x3 stride 1 pad 1 - BatchNorm2d - ReLU; layer1..layer4 of two residual
 * blocks each with 64, 128, 256, 512 channels, the first block of layers
 * 2-4 with stride 2 (a 1x1 conv + BatchNorm2d projection shortcut); then
 * F.avg_pool2d(out, 4) and Linear(512, classes). At 32x32 input the last
 * map is 4x4, so that pool is global average pooling, which badak uses:
 * the same numbers there, and any input of at least 8x8 also works (the
 * gradient checks use 3x8x8).
 * Two differences from the notes' text: the stem conv has a bias (the
 * seed's has bias=False; the BatchNorm after it cancels any bias, so only
 * the parameter count differs, by 64), and each block's in_channel is the
 * previous block's out_channel (the notes' MakeLayer sets self.in_channel
 * after the loop, which as printed would feed a 64-channel block 128
 * channels; torchvision's and the original's update it per block). */
bd_status bd__net_resnet18(bd_net *net, int c, int h, int w, int classes, bd_rng *rng)
{
    static const bd_layer_conf L[] = {
        CONV(64, 3, 1, 1), BN2D, LAYER(BD_LAYER_RELU),
        RES(64, 1),  RES(64, 1),  RES(128, 2), RES(128, 1),
        RES(256, 2), RES(256, 1), RES(512, 2), RES(512, 1),
        LAYER(BD_LAYER_GAP), AFFINE(0),
    };
    return build(net, "resnet18", L, (int)(sizeof L / sizeof L[0]), c, h, w, classes,
                 (bd_init){BD_INIT_HE, 0.0f}, rng);
}

/* the public constructors: a new network built by the in-place ones above */
bd_status bd_net_simple_convnet(bd_net **out, int c, int h, int w, int classes, bd_rng *rng)
{
    BD__NET_NEW(out, "bd_net_simple_convnet", bd__net_simple_convnet(net, c, h, w, classes, rng));
}
bd_status bd_net_deep_convnet(bd_net **out, int c, int h, int w, int classes, bd_rng *rng)
{
    BD__NET_NEW(out, "bd_net_deep_convnet", bd__net_deep_convnet(net, c, h, w, classes, rng));
}
bd_status bd_net_resnet(bd_net **out, int c, int h, int w, int classes, bd_rng *rng)
{
    BD__NET_NEW(out, "bd_net_resnet", bd__net_resnet(net, c, h, w, classes, rng));
}
bd_status bd_net_tobigs_cnn(bd_net **out, int c, int h, int w, int classes, bd_rng *rng)
{
    BD__NET_NEW(out, "bd_net_tobigs_cnn", bd__net_tobigs_cnn(net, c, h, w, classes, rng));
}
bd_status bd_net_resnet18(bd_net **out, int c, int h, int w, int classes, bd_rng *rng)
{
    BD__NET_NEW(out, "bd_net_resnet18", bd__net_resnet18(net, c, h, w, classes, rng));
}
