/* net_impl.h — the layouts of bd_net, bd_layer and bd_optim, private to the
 * library (badak.h declares them opaque: docs/api.md). Included by internal.h. */
#ifndef BADAK_NET_IMPL_H
#define BADAK_NET_IMPL_H

#include "badak.h"

/* One layer of a sequential network. The op table in src/layers/layer.c
 * gives each kind its forward/backward; parameters and gradients are views
 * into the network's single parameter and gradient blocks. */
struct bd_layer {
    bd_layer_kind kind;
    char name[32];        /* "Affine1", "Relu1", ... */
    int in_size;          /* features per sample going in */
    int out_size;         /* features per sample coming out */
    int in_c, in_h, in_w; /* the input's shape (in_size = in_c*in_h*in_w) */
    int out_c, out_h, out_w; /* the output's shape (vectors: out_size x 1 x 1) */
    int units;            /* Affine: outputs; Conv2d: filters; ResBlock: channels */
    int k, stride, pad;   /* Conv2d / pools: square kernel side, stride, padding */
    float p0, p1;         /* the kind's hyperparameters (see bd_layer_kind) */
    bd_net *net;          /* the network it belongs to (mode, PRNG); set when
                           * the layer is added: a network is a heap object
                           * (bd_net_create) and never moves */
    /* parameters (views; empty for layers without parameters) */
    bd_tensor W, b;       /* Affine: W [I,O], b [O]; Conv2d: W [F,C,K,K], b [F];
                           * BatchNorm: gamma [D], beta [D]; PReLU: slopes [D] in W;
                           * ResBlock: every conv weight in W, every BatchNorm
                           * gamma/beta in b */
    bd_tensor dW, db;     /* their gradients, same shapes */
    size_t param_offset;  /* where W starts in the network's block */
    size_t param_count;
    /* non-trainable state (views into net->state): BatchNorm running mean
     * and variance, each [D] */
    bd_tensor s0, s1;
    size_t state_offset, state_count;
    /* activations and scratch, owned, reserved for max_batch rows */
    bd_tensor out;        /* [B, out_size] */
    bd_tensor dx;         /* [B, in_size] gradient w.r.t. the input */
    bd_tensor aux;        /* [B, aux cols]: Dropout mask, RReLU slopes, BN x-hat */
    bd_tensor aux2;       /* [aux2 size]: BatchNorm batch mean and 1/std */
    const bd_tensor *in;  /* the input of the last forward (not owned) */
    /* ReLU fusion (set by bd_net_build): a ReLU right after a Conv2d is done
     * by the conv, on each sample's output while it is still in cache, and
     * the conv masks the incoming gradient itself. The conv then has
     * relu_after = 1 and its out holds the ReLU's output; the ReLU has
     * fused = 1, its out is a view of the conv's, and its forward and
     * backward do nothing. Same numbers, two passes over memory fewer. */
    int relu_after, fused;
    /* A 2x2 max-pool after such a conv + ReLU is computed by the conv too,
     * in the same pass (src/layers/conv_pool.c): the pool's forward and
     * backward do nothing, and its backward leaves here the gradient it was
     * given, for the conv's backward. */
    const float *pool_dy;
    /* 1: the last forward left out unwritten (a conv whose fused max-pool
     * made it unread, under bd_net.pooled_y_unread; its fused ReLU's view
     * with it) */
    int out_stale;
};

struct bd_net {
    int in_c, in_h, in_w;    /* one sample's shape; in_size = c*h*w */
    int in_size, out_size;
    int out_c, out_h, out_w; /* the last layer's output shape */
    int nlayers, layers_cap;
    bd_layer *layers;
    bd_loss_kind loss;
    bd_init init;
    bd_tensor params;        /* every parameter, one contiguous block */
    bd_tensor grads;         /* every gradient, same layout */
    bd_tensor state;         /* non-trainable state (BatchNorm running stats) */
    int training;            /* 1: training mode (Dropout drops, BatchNorm uses
                              * batch statistics); 0: evaluation. Default 1. */
    float weight_decay;      /* L2: + 1/2 λ Σ W² on every Affine W (book 6.4.1) */
    float l1;                /* L1: + λ Σ |W| on every Affine W */
    bd_rng rng;              /* the layers' own draws (Dropout, RReLU) */
    bd_tensor prob;          /* [B, out] softmax output of the last loss */
    bd_tensor dlogits;       /* [B, out] */
    bd_labels last_t;        /* labels of the last loss forward */
    double last_loss;        /* that loss, unrounded (for gradient checks) */
    bd_tensor scratch;       /* shared scratch of the layers (im2col columns),
                              * sized by bd_net_reserve, reused by every layer */
    bd_tensor xbatch;        /* [max_batch, in...] input batch (trainer, eval) */
    bd_tensor ybatch;        /* [max_batch] int32 labels of that batch */
    int max_batch;           /* rows the activation buffers hold */
    int built;
    char desc[128];          /* "two_layer 784-50-10", set by presets */
    int inference;           /* 1: for inference only (bd_model_open): no
                              * gradients, bd_net_reserve makes no backward
                              * buffers, bd_net_loss / backward refuse */
    const float *class_weight; /* [out_size] or NULL: SoftmaxWithLoss with class
                              * indices weighs each row's loss and gradient by
                              * its class's weight (bd_class_weights: rare
                              * classes count more); not owned */
    int frozen;              /* layers [0, frozen) are frozen (bd_net_freeze):
                              * backward stops before them and the optimizer
                              * updates only the parameters after them */
    /* data parallel (set by bd_train with a bd_comm; zero otherwise): the
     * batch given to forward is rows [row0, row0 + B) of a global batch of
     * grows rows. The loss gradient is scaled by B / grows, so that the sum
     * over processes is the global batch's mean; Dropout and RReLU draw each
     * row from a stream of (step_key, layer, row0 + r), the same for any
     * split; with sync non-NULL BatchNorm sums its statistics over it. */
    int row0, grows;
    uint64_t step_key;       /* drawn from rng at every training forward */
    const bd_comm *sync;
    unsigned broken;         /* bit per bd_layer_kind: bd__debug_break_backward */
    int pool_unfused;        /* 1: no conv computes its max-pool (tests compare
                              * fused and unfused; bd__debug_unfuse_pool) */
    int pooled_y_unread;     /* 1: forwards may leave a conv's own output (its
                              * ReLU's) unwritten where its fused max-pool made
                              * it unread: nothing but bd_net_layer_stats and
                              * the feature-map figure reads it, and writing it
                              * was 12% of a simple_convnet epoch. Set only
                              * around forwards that read the logits alone
                              * (bd__net_unread_begin) */
    /* whole-network row parallelism (src/net/rows.c): the parts' networks
     * and gradient blocks, made on first use (NULL until then); rows_off 1
     * keeps this network on the per-layer split (bd__debug_rows) */
    struct bd__rows *rows;
    int rows_off;
    int backward_to;         /* backward stops after this layer (0: runs them all;
                              * a row-parallel part's network: rows.c) */
};

/* One optimizer = one entry of the table in src/optim/optim.c. `init`
 * allocates the state once; `step` updates n parameters in place. */
typedef struct bd_optim_ops {
    const char *name;
    float default_lr;
    bd_status (*init)(bd_optim *o, size_t n);
    void (*step)(bd_optim *o, float *p, const float *g, size_t n);
} bd_optim_ops;

struct bd_optim {
    const bd_optim_ops *ops;
    bd_optim_config cfg;
    long t;                /* steps taken */
    size_t n;              /* parameters it was created for */
    bd_tensor state[2];    /* per-parameter state (velocity, moments...) */
};

#endif
