/* internal.h — helpers shared by the library's source files; not installed. */
#ifndef BADAK_INTERNAL_H
#define BADAK_INTERNAL_H

#include "badak.h"
#include "net/net_impl.h"

#include <stdlib.h>
#include <string.h>

/* Return early with the status of a call that failed (errors travel up). */
#define BD_TRY(expr)                      \
    do {                                  \
        bd_status bd_try_s_ = (expr);     \
        if (bd_try_s_ != BD_OK)           \
            return bd_try_s_;             \
    } while (0)

/* BD_HOT before a hot loop's *static* function: gcc compiles it three times,
 * for x86-64-v4 (AVX-512 F/BW/DQ/VL), x86-64-v3 (AVX2) and baseline x86-64,
 * and the dynamic loader binds the best copy for the CPU once, at start-up
 * (an ifunc, in the static library too; valgrind reports no AVX-512, so it
 * runs the AVX2 copy). So the default build stays portable and still runs
 * these loops on wide vectors. Static functions only: a cloned public
 * function would also export its ".resolver" symbol. The v3/v4 copies may
 * use FMA instructions, but -ffp-contract=off (Makefile) forbids fusing
 * a*b+c, so every copy computes the same bits. Off where it cannot work or
 * is pointless: clang 14 (links its clones wrongly), non-x86, a build that
 * already targets AVX-512 (OPT="-march=native" on such a CPU), or
 * -DBD_NO_CLONES. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__AVX512F__) && !defined(BD_NO_CLONES) && !defined(__SANITIZE_THREAD__)
#define BD_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define BD_HOT
#endif

/* ---- networks and optimizers as heap objects (src/net/net.c, optim.c).
 * The in-place initialisers fill a zeroed struct the caller holds (the
 * library embeds nets in its own heap objects: bd_model, workspaces); the
 * public constructors wrap them: allocate, fill, free on failure. */
bd_status bd__net_init(bd_net *net, int c, int h, int w);
/* free what a net owns, not the struct itself */
void bd__net_release(bd_net *net);
/* the public constructor around an initialiser call `expr` that fills
 * `net` in place: *out gets it, or NULL on failure */
bd_status bd__net_alloc(bd_net **out, const char *who, bd_net **net);
bd_status bd__net_publish(bd_net **out, bd_net *net, bd_status s);
#define BD__NET_NEW(out, who, expr)                   \
    do {                                              \
        bd_net *net;                                  \
        BD_TRY(bd__net_alloc(out, who, &net));        \
        return bd__net_publish(out, net, (expr));     \
    } while (0)
bd_status bd__net_from_spec(bd_net *net, const bd_net_spec *s, int c, int h, int w,
                            int classes, bd_rng *rng);
bd_status bd__net_from_ini(bd_net *net, const char *text, const char *origin, int c, int h,
                           int w, int classes, bd_rng *rng);
bd_status bd__net_load_ini(bd_net *net, const char *path, int c, int h, int w, int classes,
                           bd_rng *rng);
bd_status bd__net_simple_convnet(bd_net *net, int c, int h, int w, int classes, bd_rng *rng);
bd_status bd__net_deep_convnet(bd_net *net, int c, int h, int w, int classes, bd_rng *rng);
bd_status bd__net_resnet(bd_net *net, int c, int h, int w, int classes, bd_rng *rng);
bd_status bd__net_tobigs_cnn(bd_net *net, int c, int h, int w, int classes, bd_rng *rng);
bd_status bd__net_resnet18(bd_net *net, int c, int h, int w, int classes, bd_rng *rng);
bd_status bd__model_load(bd_net *net, const char *path, bd_model_meta *meta);
/* the optimizer of n parameters in place (checkpoints, tests of the update
 * rules on plain arrays), and the release of what it owns */
bd_status bd__optim_init(bd_optim *o, const char *name, const bd_optim_config *cfg, size_t n);
void bd__optim_release(bd_optim *o);
/* bd_optim_step, and with finite != NULL: *finite = every updated (trainable)
 * weight is finite, checked chunk by chunk as the update writes it */
bd_status bd__optim_step_checked(bd_optim *o, bd_net *net, int *finite);
/* The same, and with sq != NULL also sq[c] = Σ g² of chunk c of
 * BD__OPT_CHUNK gradients (from the trainable offset; the last chunk
 * short), in the update's one pass over the block: the gradient norm's
 * sums (trainer.c), the bits of bd__sum_squares over each chunk. */
#define BD__OPT_CHUNK 8192
bd_status bd__optim_update(bd_optim *o, bd_net *net, int *finite, double *sq);
/* The same on the trainable block's slice [lo, hi) only (lo a multiple of
 * BD__OPT_CHUNK, hi too or the end): a rank's share of the sharded update;
 * sq by the block's chunks (only the slice's filled). One step counted. */
bd_status bd__optim_update_range(bd_optim *o, bd_net *net, size_t lo, size_t hi, int *finite,
                                 double *sq);
/* Σ g[0..n)² in doubles (8 partial sums, the same bits everywhere) */
double bd__sum_squares(const float *g, size_t n);

#define BD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define BD_MAX(a, b) ((a) > (b) ? (a) : (b))

/* The thread pool (parallel.c): fn(ctx, lo, hi, part) is called for
 * contiguous parts [lo, hi) of [0, n), one part per thread, and the call
 * returns when all are done. Threads other than the pool's owner, and
 * threads marked serial (hpsearch trials), run the whole range in one part.
 * Every part calls BLAS single-threaded. */
typedef void (*bd__range_fn)(void *ctx, int lo, int hi, int part);
void bd__parallel_for(int n, bd__range_fn fn, void *ctx);
/* parts a loop of this thread is split into (1 = serial) */
int bd__parts(void);
/* The split of bd__parallel_for(n, ...) on this thread, for code that keeps
 * one partial result per part and adds them up afterwards (conv's dW):
 * the number of parts T (1 when it runs serially, n == 1 included), and
 * part p's range [*lo, *hi) of [0, n) among T parts (empty ranges are
 * never run). T is at most BD__MAX_PARTS and at most n. */
#define BD__MAX_PARTS 64
int bd__split_parts(int n);
void bd__split_range(int n, int T, int p, int *lo, int *hi);
int bd__pool_resize(int n);
void bd__set_serial(int serial);
/* the calling thread's index in the pool: 0 for the caller (and any thread
 * outside the pool), i for worker i, which owns part i of every loop */
int bd__pool_self(void);

/* The pool's busy-machine rule (parallel.c's head comment): bd__pool_note_loop
 * records one pool loop (stolen: a part ran on a thread that does not own
 * it) and, at a window's end, may start a stretch of loops the caller runs
 * alone; bd__pool_solo_left is what is left of that stretch, and
 * bd__pool_solo_loops counts the loops run alone since the start. All three
 * are for the pool's owner thread only; bd__pool_resize resets the rule. */
void bd__pool_note_loop(int stolen);
int bd__pool_solo_left(void);
long bd__pool_solo_loops(void);
/* The file the rule reads the run queue from, in /proc/loadavg's format
 * ("a b c R/T last"): NULL, /proc/loadavg itself (tests point it at their
 * own files; a file that cannot be read lets the stolen loops decide). */
void bd__pool_set_runq(const char *path);

/* Σ x[0..n) with 8 independent partial sums, so the loop vectorises (a
 * single float accumulator is a chain of dependent adds). */
static inline float bd__sum(const float *x, size_t n)
{
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += x[i + k];
    for (; i < n; i++)
        acc[0] += x[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* Σ x[i]·y[i] the same way */
static inline float bd__dot(const float *x, const float *y, size_t n)
{
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += x[i + k] * y[i + k];
    for (; i < n; i++)
        acc[0] += x[i] * y[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* The stream of global row `row` for one use `stream` (a layer's index,
 * augmentation) under a per-step key (shard.c): the same draws for a sample
 * whichever process computes it. */
void bd__row_rng(bd_rng *r, uint64_t key, uint64_t stream, long row);
/* A layer's index in its network (the stream of its rows). */
static inline uint64_t bd__layer_stream(const bd_layer *l)
{
    return (uint64_t)(l - l->net->layers) + 1;
}
/* Sum x[0..n) of a training BatchNorm over the processes of net->sync
 * (--sync-bn); returns 0 when there is nothing to sync. */
int bd__bn_sync(const bd_net *net, float *x, size_t n);

/* The pieces of bd_net_loss (net.c), for networks that run them on parts
 * of a batch (rows.c): the layers' forward of B rows from x (no step key
 * drawn, x not checked); the labels' check; the loss of y without the
 * regularisation term, which fills prob and last_t; that term. */
bd_status bd__net_forward_layers(bd_net *net, const bd_tensor *x, int B, const bd_tensor **y);
bd_status bd__net_check_labels(const bd_net *net, bd_labels t, int B);
bd_status bd__net_data_loss(bd_net *net, const bd_tensor *y, bd_labels t, double *loss);
double bd__net_penalty(const bd_net *net);

/* Whole-network row parallelism (rows.c, its head comment): does it apply
 * to a batch of B rows of net (every layer's op has `rows`, more than one
 * part, not disabled)? bd__net_gradient_rows is bd_net_gradient done that
 * way: the loss and the network's buffers as after a plain pass, but
 * net->grads holds part 0's gradient only until the parts' blocks are
 * added: bd__net_rows_pending gives them (k blocks at extra + q*stride,
 * indexed like net->grads, meaningful from element `from` on; 0: none), to
 * be added in order by bd__add_blocks (elements [a, a+len) that are at or
 * after from), then bd__net_rows_done; or
 * bd__net_rows_sum adds them all on the pool. bd__debug_rows(net, 1)
 * keeps net on the per-layer split (tests compare both);
 * bd__net_rows_steps counts its row-parallel passes. */
int bd__net_rows_applies(const bd_net *net, int B);
bd_status bd__net_gradient_rows(bd_net *net, const bd_tensor *x, bd_labels t, float *loss);
/* Evaluation that way (bd__net_eval_rows): the logits of a set's rows [0,
 * n), each part over its share in chunks of its rows of the network's
 * buffers. On part p's thread, fill writes rows [start, start + k) of the
 * set's inputs into x [k, in] and take reads their logits y [k, out]; both
 * may write only what is part p's own (ctx slots indexed by p). Needs
 * bd__net_rows_applies(net, net->max_batch). A failure of fill or take
 * (its status) ends the pass with that status. */
typedef struct bd__rows_feed {
    bd_status (*fill)(void *ctx, int p, int start, int k, float *x);
    bd_status (*take)(void *ctx, int p, int start, int k, const float *y);
    void *ctx;
} bd__rows_feed;
bd_status bd__net_eval_rows(bd_net *net, int n, const bd__rows_feed *f);
int bd__net_rows_pending(const bd_net *net, const float **extra, size_t *stride, size_t *from);
void bd__add_blocks(float *g, const float *extra, size_t stride, int k, size_t from, size_t a,
                    size_t len);
void bd__net_rows_done(bd_net *net);
void bd__net_rows_sum(bd_net *net);
void bd__net_rows_free(bd_net *net);
void bd__debug_rows(bd_net *net, int off);
long bd__net_rows_steps(const bd_net *net);

/* bd_net_backward calling done(ud, from) after every layer's backward, from
 * the last layer to the first trainable one (layers without parameters
 * included: a caller may use the pause between layers), when the gradient
 * block's suffix grads[from, params.size) is final: from is that layer's
 * param_offset. A status other than BD_OK from done ends the pass with it.
 * Data-parallel training sums those suffixes over the processes while the
 * layers before them are still in backward (src/dist/). */
typedef bd_status (*bd__grads_done_fn)(void *ud, size_t from);
bd_status bd__net_backward_each(bd_net *net, bd__grads_done_fn done, void *ud);
/* One layer's step of that pass: layer i's backward of dy [B, out] (its dx
 * if need_dx), the debug break, the regularisation gradient times part. */
void bd__net_backward_layer(bd_net *net, int i, float *dy, int B, int need_dx, float part);
/* Move a built network's gradient block to `block` (params.size floats, the
 * caller's, e.g. memory that other processes can read: src/dist/shm_sum.c):
 * the values are copied, every layer's dW/db views rebound, the old block
 * freed; the net never frees `block`, which must outlive every use of the
 * net's gradients. BD_ERR_ARG when net or block is NULL or net is not
 * built. Not thread-safe (nothing else may use net meanwhile). */
bd_status bd__net_use_grads(bd_net *net, float *block);
/* The same for the parameter block, copied only with copy 1 (the sharded
 * update: one block the ranks of a node share, each stepping its slice of
 * it; the block already holds the same weights when copy is 0). */
bd_status bd__net_use_params(bd_net *net, float *block, int copy);

/* A setting of a layer (bd_layer_conf / bd_layer) that a network
 * description's section gives with a key. */
typedef enum bd__conf_field {
    BD__CONF_UNITS = 1, /* units: Affine outputs, Conv filters, ResBlock channels */
    BD__CONF_K,         /* k: the kernel side (written "kernel = 5", shown "5x5") */
    BD__CONF_STRIDE,
    BD__CONF_PAD,       /* the only one that may be 0 */
    BD__CONF_P0,        /* p0, p1: the kind's hyperparameters, numbers > 0 */
    BD__CONF_P1
} bd__conf_field;
typedef struct bd__ini_key {
    const char *key;             /* "filters" */
    bd__conf_field field;
} bd__ini_key;
#define BD__INI_KEYS 6

/* One layer's call in an exported C header (export.c): write to f the
 * statement(s) of <P>_predict that compute layer l (layer i of its network)
 * from the float array named `in` into `out`, calling the kernels export.c
 * emits (<P>_affine, <P>_conv, ...). */
typedef void (*bd__emit_fn)(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                            const char *out);

/* The op table (KANN style): what each layer kind does. Each kind defines
 * its row next to its kernels (bd__op_affine in affine.c, ...); layer.c
 * lists them by kind. Sizes are per layer; NULL functions mean "none".
 * Everything the rest of the library knows of a kind is here: its names in
 * messages, network descriptions, model files and gradient checks, its
 * description keys, its C export, its init family. */
typedef struct bd_layer_op {
    const char *name;            /* "Affine", "Relu", ... (layer names: Affine1) */
    /* its section in a network description (netfile.c, and the kind column
     * of bd_net_print): `type = <token>` ("affine", "conv", "gap"), another
     * accepted spelling (NULL: none), then the keys it reads, in the order
     * bd_net_to_ini writes them (a NULL key ends the list) */
    const char *token, *alias;
    bd__ini_key keys[BD__INI_KEYS];
    int act;                     /* 1: an activation (--activation TOKEN[:p0[,p1]]) */
    int relu_like;               /* 1: He's init suits it (book 6.2.3), else Xavier's
                                  * (mlp's default init after it) */
    bd__emit_fn emit_c;          /* its C export (export.c); NULL: not exportable */
    /* names of W and b in model files ("Affine1.W") and gradient checks
     * ("W1"); NULL where the view is always empty */
    const char *pname[2];
    int decay;                   /* 1: weight decay applies to W (Affine) */
    int kink;                    /* 1: not differentiable at input 0 (ReLU family);
                                  * gradient checks skip steps that cross it */
    int rows;                    /* 1: row r of its output and input gradient
                                  * depends on row r alone, its parameter
                                  * gradients are sums over the rows, and it uses
                                  * no shared scratch: a network of such layers
                                  * may run each thread's rows through every
                                  * layer at once (rows.c) */
    int fuse_relu;               /* 1: can apply a ReLU that follows it itself, to
                                  * each output while it is in cache, and mask the
                                  * incoming gradient (Conv2d); see bd_layer.fused */
    float def_p0, def_p1;        /* defaults of the hyperparameters p0, p1 */
    const char *sname[2];        /* names of the state s0, s1 ("running_mean") in
                                  * model files */
    /* Set l->out_c/h/w from l->in_c/h/w, l->units, k, stride, pad (filling
     * their defaults), or fail naming the layer; NULL: the output has the
     * input's shape (element-wise layers). */
    bd_status (*shape)(bd_layer *l);
    /* trainable parameters (W then b) and non-trainable state (s0 then s1) */
    size_t (*param_count)(const bd_layer *l);
    size_t (*state_count)(const bd_layer *l);
    /* scratch: aux [B, aux_cols] and aux2 [aux2_size] */
    size_t (*aux_cols)(const bd_layer *l);
    size_t (*aux2_size)(const bd_layer *l);
    /* floats of the network's shared scratch needed for a batch of B */
    size_t (*scratch)(const bd_layer *l, int B);
    /* for kinked layers (gradient checks): fold into h what decides the
     * branch each output took in the last forward (which window element a
     * max pool picked...); NULL: the sign of every input (ReLU family) */
    uint64_t (*kink_hash)(const bd_layer *l, int B, uint64_t h);
    /* make W/b/dW/db (and s0/s1) views into the blocks at p, g, s */
    void (*bind)(bd_layer *l, float *p, float *g, float *s);
    /* initial parameter and state values (NULL: zeros) */
    void (*init)(bd_layer *l, bd_init init, bd_rng *rng);
    /* l->in [B, in_size] -> l->out [B, out_size]; l->net->training tells the
     * mode and l->net->rng gives random draws */
    void (*forward)(bd_layer *l, int B);
    /* dy [B, out_size] -> l->dx [B, in_size] (if need_dx) and dW/db. A layer
     * with parameters must fill its dW/db even when need_dx is 0. */
    void (*backward)(bd_layer *l, const float *dy, int B, int need_dx);
    /* the one validation of p0, p1 (defaults filled in), naming `who`;
     * src/layers/layer_check.c. NULL: any finite value */
    bd_status (*check)(const char *who, float p0, float p1);
} bd_layer_op;

const bd_layer_op *bd__layer_op(bd_layer_kind kind);
/* op's check of p0, p1 (0: the kind's default) for layer `who` */
bd_status bd__layer_check(const bd_layer_op *op, const char *who, float p0, float p1);
bd_status bd__check_dropout(const char *who, float p, float unused);
bd_status bd__check_rrelu(const char *who, float lo, float hi);
bd_status bd__check_slope(const char *who, float s, float unused);
bd_status bd__check_elu(const char *who, float alpha, float unused);
bd_status bd__check_batchnorm(const char *who, float momentum, float eps);

/* Bytes of the buffers a network owns (parameters, gradients, state,
 * activations, scratch): what bd_model_bytes and the memory test count. */
size_t bd__net_bytes(const bd_net *net);

/* The kind whose row has token (or alias) s, case-insensitively; also its
 * name ("LeakyRelu") when names is 1. Returns 0 if none. */
int bd__kind_by_token(const char *s, int names, bd_layer_kind *kind);
/* The emitters of the rows (export.c; copy: Dropout and Flatten, the
 * identity at evaluation) */
void bd__emit_affine(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                     const char *out);
void bd__emit_conv(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                   const char *out);
void bd__emit_maxpool(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                      const char *out);
void bd__emit_avgpool(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                      const char *out);
void bd__emit_gap(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                  const char *out);
void bd__emit_bn(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                 const char *out);
void bd__emit_bn2d(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                   const char *out);
void bd__emit_relu(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                   const char *out);
void bd__emit_sigmoid(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                      const char *out);
void bd__emit_tanh(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                   const char *out);
void bd__emit_leaky_relu(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                         const char *out);
void bd__emit_elu(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                  const char *out);
void bd__emit_rrelu(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                    const char *out);
void bd__emit_prelu(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                    const char *out);
void bd__emit_copy(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                   const char *out);

/* bd_net_from_ini refusing (BD_ERR_FORMAT, before allocating) a network of
 * more than max_values parameter and state values: for descriptions from
 * untrusted files (model files, fuzzing). */
bd_status bd__net_from_ini_limited(bd_net *net, const char *text, const char *origin, int c,
                                   int h, int w, int classes, bd_rng *rng, size_t max_values);

/* rows of the table, defined next to their kernels */
extern const bd_layer_op bd__op_affine;
extern const bd_layer_op bd__op_relu, bd__op_sigmoid;
extern const bd_layer_op bd__op_tanh, bd__op_leaky_relu, bd__op_prelu, bd__op_rrelu, bd__op_elu;
extern const bd_layer_op bd__op_batchnorm, bd__op_dropout;
extern const bd_layer_op bd__op_conv2d, bd__op_maxpool, bd__op_avgpool, bd__op_gap;
extern const bd_layer_op bd__op_flatten, bd__op_batchnorm2d, bd__op_resblock;

/* The geometry of a conv/pool layer for a batch of B. */
static inline bd_conv_geom bd__geom(const bd_layer *l, int B)
{
    bd_conv_geom g = {B, l->in_c, l->in_h, l->in_w, l->out_c, l->k, l->stride, l->pad,
                      l->out_h, l->out_w};
    return g;
}
/* Conv2d with the following ReLU fused in (relu = 1): y = max(0, W·x + b),
 * and backward masks dy by y > 0 first. relu = 0 is bd_conv2d_forward /
 * bd_conv2d_backward. */
/* conv_wide.c: the fast kernels of stride-1 convolutions (padded ones on a
 * zero-bordered copy of the input), one
 * sample at a time (g1->B == 1); kernels.c: whether to use them. */
/* A 2x2 max-pool done by the conv before it (conv_pool.c): the pool's
 * output p and argmax am, and for the backward its incoming gradient dp,
 * [B, F, OH/2, OW/2] each for a batch (one sample's in the per-sample
 * kernels). */
typedef struct bd__fused_pool {
    float *p;
    int32_t *am;
    const float *dp;
} bd__fused_pool;
int bd__conv_wide_applies(const bd_conv_geom *g);
/* floats of one sample's zero-bordered input [C, H+2P, W+2P] (none if P =
 * 0), or with dx (an input gradient wanted) and AVX-512 of the direct
 * input gradient's bordered dy, whichever is more */
size_t bd__conv_wide_pad_floats(const bd_conv_geom *g, int dx);
void bd__conv_wide_forward(float *y, const float *x, const float *Wt, const float *b, float *col,
                           float *yw, float *xpad, const float *Wdir, const bd_conv_geom *g1,
                           int relu, const bd__fused_pool *pool);
/* n samples at once (n > 1 only where bd__conv_direct_dw_group allows):
 * dx, dy, yrelu, x, the pool's arrays are the first sample's, the others'
 * follow at one sample's size; dyw and xpad, the first sample's scratch,
 * the others' dyws and xpads floats on */
void bd__conv_wide_backward(float *dx, float *pdW, float *pdb, int accumulate, const float *dy,
                            const float *yrelu, const float *x, const float *Wt, float *col,
                            float *dyw, float *xpad, const float *Wdir, const bd_conv_geom *g1,
                            const bd__fused_pool *pool, int n, size_t dyws, size_t xpads);
/* affine_sparse.c: the Affine layer's products where x is mostly zeros;
 * the AVX-512 kernels where the CPU has them and the kernels are "fast",
 * their plain C twins otherwise (the same bits). bd__affine_row_sparse:
 * whether the row x [In] is at most 30% nonzero. bd__affine_rows_sparse:
 * the rows rows[0..n) of y [*, Out] = x [*, In] · W [In, Out] + b, summed
 * over their nonzero inputs, 4 rows at a time. bd__affine_batch_sparse:
 * whether the columns [lo, hi) of the batch x [B, In] are at most 30%
 * nonzero.
 * bd__affine_dW_sparse: the rows [lo, hi) of dW [In, Out] = xᵀ · dy (x [B,
 * In], dy [B, Out]), row k the sum over the rows n with x[n,k] != 0 of
 * x[n,k]·dy[n,:] in increasing n (the same bits for any split of [0, In)
 * over the threads). */
int bd__affine_nonzeros(const float *x, int n); /* x[k] != 0 in x[0..n) (NaN: not 0) */
int bd__affine_row_sparse(const float *x, int In);
void bd__affine_rows_sparse(float *y, const float *x, const int *rows, int n, const float *W,
                            const float *b, int In, int Out);
int bd__affine_batch_sparse(const float *x, int B, int In, int lo, int hi);
void bd__affine_dW_sparse(float *dW, const float *x, const float *dy, int B, int In, int Out,
                          int lo, int hi);
/* affine_gemm.c: the Affine layer's dense products on AVX-512 where the
 * CPU has it and OpenBLAS's kernels are not AVX-512 ones
 * (bd__affine_gemm_isa; bd__affine_gemm_used: and the kernels are
 * "fast"). bd__affine_gemm: C [M, N] (ldc) += Σ_t a(m, t)·B[t, :] over
 * t = 0..K-1 in increasing order, one FMA a term, a(m, t) = A[m·ars +
 * t·ats], B [K, N] (ldb): an element's bits do not depend on how the rows
 * are split. Nothing without AVX-512 in the build. */
int bd__affine_gemm_isa(void);
int bd__affine_gemm_used(void);
void bd__affine_gemm(float *C, int ldc, const float *A, long ars, long ats, const float *B,
                     int ldb, int M, int N, int K);
/* The same with C [M, N] += A [M, K] (lda) · Bᵀ, B [N, K] (ldb): dx = dy·Wᵀ. */
void bd__affine_gemm_nt(float *C, int ldc, const float *A, int lda, const float *B, int ldb,
                        int M, int N, int K);
/* conv_direct.c: the direct AVX-512 forward and input gradient of the
 * stride-1 convs the wide kernels take, where bd__conv_direct_applies (the
 * CPU has AVX-512: bd__conv_direct_isa, and the fast kernels are chosen:
 * bd__conv_direct_cpu). bd__conv_direct: one sample, y [F, OH,
 * ldy] (OH = Hp-K+1; the first OW = Wp-K+1 of a row written) from xp [C,
 * Hp, Wp] and Wt [C*K*K, F] (tmp: NULL, or F*OH*Wp floats of scratch it
 * may use); bd__conv_direct_weights makes Wt (NULL: not)
 * and the input gradient's flipped Wtd [F*K*K, C] (NULL: not) from W
 * [F, C, K, K]. */
int bd__conv_direct_isa(void);
int bd__conv_direct_cpu(void);
int bd__conv_direct_applies(const bd_conv_geom *g);
void bd__conv_direct(float *y, int ldy, const float *xp, int C, int Hp, int Wp, const float *Wt,
                     int F, int K, float *tmp);
void bd__conv_direct_weights(float *Wt, float *Wtd, const float *W, int F, int C, int K);
/* The forward of the convs the wide kernels do not take (strided: resnet's
 * stride-2 3x3) with the filters in the vector, where
 * bd__conv_direct_strided_applies (AVX-512, the fast kernels, K > 1, 32 or
 * more filters a multiple of 16): one sample, y [F, OH*OW]
 * (no bias) from x [C, H, W] and Wt [C*K*K, F] (bd__conv_direct_weights);
 * xpad: C*(H+2P)*(W+2P) floats for the bordered copy (unused if P = 0). */
int bd__conv_direct_strided_applies(const bd_conv_geom *g);
void bd__conv_direct_strided(float *y, const float *x, const float *Wt, float *xpad,
                             const bd_conv_geom *g1);
/* x [C, H, W] -> xp [C, H+2P, W+2P]: x inside a border of P zeros (g1 one sample) */
void bd__conv_pad_input(float *xp, const float *x, const bd_conv_geom *g1);
/* the weight gradient directly (3x3 and 5x5 kernels, where
 * bd__conv_direct_dw_applies): G samples, dW [F, C*K*K] = (accumulate ?
 * dW : 0) + Σ_s Σ dyw_s[f, oh, ow] · xp_s[c, oh+kh, ow+kw], dyw [F, OH,
 * ldy], the samples' dyw dys and xp xs floats apart; tmp (tmpn floats, may
 * be NULL) holds the transposed dy of the filters-in-the-vector kernel
 * (G*F*OH*OW floats), which runs where F >= 32 is a multiple of 16 and
 * tmp is large enough; bd__conv_direct_dw_group: the G that
 * bd__conv_wide_backward groups (1 where the direct dW does not apply) */
int bd__conv_direct_dw_applies(const bd_conv_geom *g);
void bd__conv_direct_dw(float *dW, int accumulate, const float *dy, int ldy, const float *xp,
                        int C, int Hp, int Wp, int F, int K, int G, size_t dys, size_t xs,
                        float *tmp, size_t tmpn);
int bd__conv_direct_dw_group(const bd_conv_geom *g1);
/* conv_winograd.c: 3x3 stride-1 convs by Winograd's F(2x2, 3x3), where
 * bd__conv_wino_applies (AVX-512, the fast kernels, C >= 8 input channels,
 * F >= 16 a multiple of 16): bd__conv_wino is bd__conv_direct's K = 3 with
 * U [16, C, F] (bd__conv_wino_weights from Wt [C*9, F]) and tmp of
 * bd__conv_wino_scratch floats. */
int bd__conv_wino_applies(int C, int F, int K, int S);
/* Winograd's U in the direct weights' region that conv.c sizes: Wt
 * [F*C*9], Wtd [F*C*9], U of the forward [16*C*F], U of the input
 * gradient [16*F*C]; Wdir is Wt (dx = 0) or Wtd (dx = 1) */
const float *bd__conv_wino_U(const float *Wdir, const bd_conv_geom *g, int dx);
size_t bd__conv_wino_weight_floats(int C, int F);
size_t bd__conv_wino_scratch(int C, int F, int Hp, int Wp);
void bd__conv_wino_weights(float *U, const float *Wt, int C, int F);
/* A zero-bordered image [C, H+2P, W+2P] given by its inside: x [C, H, W],
 * rows ld and channels cs floats apart. The Winograd kernels read it so,
 * as they turn it channels-last: no bordered copy is made. */
typedef struct bd__bordered {
    const float *x;
    size_t ld, cs;
    int H, W, P;
} bd__bordered;
/* What bd__conv_wino may do to its outputs (NULL: nothing): + b[f] (0 if
 * b is NULL), then max(0, .) if relu, as the conv's narrowing does */
typedef struct bd__wino_epilogue {
    const float *b;
    int relu;
} bd__wino_epilogue;
void bd__conv_wino(float *y, int ldy, const bd__bordered *xp, int C, const float *U, int F,
                   float *tmp, const bd__wino_epilogue *epi);
/* the weight gradient of G samples as bd__conv_direct_dw's K = 3 (dW [F,
 * C*9] (+)= ..., dyw [F, OH, ldy] with dys floats apart; sample s's image
 * is xp's with x + s*xs), tmp of bd__conv_wino_dw_scratch floats (Hp, Wp:
 * the bordered image's) */
size_t bd__conv_wino_dw_scratch(int C, int F, int Hp, int Wp);
void bd__conv_wino_dw(float *dW, int accumulate, const float *dy, int ldy, const bd__bordered *xp,
                      int C, int F, int G, size_t dys, size_t xs, float *tmp);
/* y NULL: the pool's p and am only (bd_net.pooled_y_unread) */
void bd__conv_pool_narrow(float *y, float *p, int32_t *am, const float *yw, const float *b,
                          const bd_conv_geom *g1);
void bd__conv_pool_widen(float *dyw, float *db, const float *dp, const float *p,
                         const int32_t *am, const bd_conv_geom *g1);
int bd__kernels_reference(void);
/* "portable": the fast paths without intrinsics (kernels.c) */
int bd__kernels_portable(void);
/* pool (NULL: none): also the 2x2 max-pool of the ReLU'd output (forward)
 * and the gradient through it (backward: dy and y unused). Only with relu
 * and where the wide kernels run: bd__conv_pooled says when a layer may.
 * dxroom: whether scratch has bd__conv2d_scratch(g, 1) floats (else
 * (g, 0): then the backward's dx must be NULL); the same in the forward
 * and the backward of a step. */
size_t bd__conv2d_scratch(const bd_conv_geom *g, int dx);
void bd__conv2d_forward(float *y, const float *x, const float *W, const float *b, float *scratch,
                        const bd_conv_geom *g, int relu, const bd__fused_pool *pool, int dxroom);
void bd__conv2d_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                         const float *W, const float *y, float *scratch, const bd_conv_geom *g,
                         const bd__fused_pool *pool, int dxroom);
/* The MaxPool layer that conv (a Conv2d) computes itself in the same pass,
 * or NULL: a 2x2, stride-2 unpadded max-pool right after the conv's fused
 * ReLU, under the fast kernels, where the wide kernels run. */
bd_layer *bd__conv_pooled(const bd_layer *conv);
/* Is l a MaxPool that the conv two layers before computes (above)? Its
 * backward then only leaves its dy in l->pool_dy. */
int bd__pooled_by_conv(const bd_layer *l);
/* bd_bn2d_forward / bd_bn2d_backward for a layer of net: with net->sync
 * (--sync-bn, training) the statistics and the backward's sums are over
 * every process's rows, and mean_istd must hold [4C] (the last 2C for the
 * backward's sums); net NULL is the public kernels. */
void bd__bn2d_forward(float *y, float *xhat, float *mean_istd, const float *x,
                      const float *gamma, const float *beta, float *rmean, float *rvar,
                      float mom, float eps, int training, int B, int C, int HW,
                      const bd_net *net);
void bd__bn2d_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                       const float *xhat, float *mean_istd, const float *gamma, int training,
                       int B, int C, int HW, const bd_net *net);
/* The residual block's fused BatchNorm2d (resblock.c): the forward stores
 * no x̂ (the backward recomputes it from x, which the caller keeps: the same
 * operations, so the same bits) and writes y = relu(res + BN(x)) (res not
 * NULL), relu(BN(x)) (relu) or BN(x); the backward takes dy where mask > 0
 * (mask not NULL: the fused ReLU's output), x̂ from x and mean_istd. dx may
 * be dy. Otherwise as bd__bn2d_forward / bd__bn2d_backward. */
void bd__bn2d_fwd_fused(float *y, float *mean_istd, const float *x, const float *res, int relu,
                        const float *gamma, const float *beta, float *rmean, float *rvar,
                        float mom, float eps, int training, int B, int C, int HW,
                        const bd_net *net);
void bd__bn2d_bwd_fused(float *dx, float *dgamma, float *dbeta, const float *dy,
                        const float *mask, const float *x, float *mean_istd, const float *gamma,
                        int training, int B, int C, int HW, const bd_net *net);
/* Undo the ReLU fusion bd_net_build did (tests compare fused and unfused
 * numbers): every ReLU runs as a layer of its own again. Before
 * bd_net_reserve only (the ReLUs then get buffers of their own). */
void bd__net_unfuse(bd_net *net);
/* The network's scratch block. */
static inline float *bd__scratch(const bd_layer *l) { return bd_f32(&l->net->scratch); }

/* Samples [start, start + n) of ds as floats into x [n, D] (converted as
 * bd_dataset_slice does), on the calling thread; the range is the caller's
 * to check (dataset.c). */
void bd__dataset_rows(const bd_dataset *ds, int start, int n, float *x);

/* The targets of samples idx[0..n) (idx NULL: start .. start+n-1) of a
 * regression / multi-label set into out [n, K] (dataset.c). */
bd_status bd__dataset_targets(const bd_dataset *ds, const int32_t *idx, int start, int n,
                              float *out);

/* The loss layers, same idea: net->prob holds what backward needs. */
typedef struct bd_loss_op {
    const char *name;            /* "SoftmaxWithLoss", ... */
    /* y [B,C] -> mean loss; may fill prob [B,C] for backward */
    double (*forward)(float *prob, const float *y, bd_labels t, int B, int C);
    /* -> dy [B,C] from prob (or y) and t */
    void (*backward)(float *dy, const float *prob, const float *y, bd_labels t, int B, int C);
} bd_loss_op;

const bd_loss_op *bd__loss_op(bd_loss_kind kind);

/* Image readers behind bd_image_load (src/data/image_png.c, image_pnm.c).
 * f is open and positioned after the magic bytes already read (the PNG
 * signature's 8; the PNM "P2".."P6" 2); fsize is the file's size in bytes, -1
 * if unknown (a pipe). They fill out (zeroed first) or return an error. */
bd_status bd__png_read(const char *path, FILE *f, long fsize, bd_image *out);
bd_status bd__pnm_read(const char *path, FILE *f, long fsize, int kind, bd_image *out);

/* ---- sizes from outside (src/core/limits.c): every product of dimensions
 * read from a file, an INI shape or a flag is formed here, in checked 64-bit
 * arithmetic, against the one limit BD_MAX_ELEMENTS (badak.h). */
/* *out = a * b if a, b >= 0 and the product is at most BD_MAX_ELEMENTS
 * (returns 1); else returns 0 and leaves *out alone */
int bd__checked_mul(int64_t a, int64_t b, int64_t *out);
/* the product of d[0..n); BD_ERR_SHAPE naming who and every dimension if one
 * is < 1 or the product is above BD_MAX_ELEMENTS */
bd_status bd__dims_product(const char *who, int n, const int64_t *d, int64_t *out);

/* CSV text rules shared by csv.c (class labels) and csv_targets.c (real or
 * 0/1 targets). bd__csv_trim: trims spaces, tabs, \r and \n in place and
 * returns the first kept character. bd__csv_num: 1 for a whole-field
 * decimal finite float32, 0 for text that is no number (hex included), -1
 * for inf, nan or a value beyond float range. bd__csv_split: splits a line
 * at commas in place, trims each field, returns the field count (at most
 * max pointers stored in f). */
char *bd__csv_trim(char *s);
int bd__csv_num(const char *s, double *v);
int bd__csv_split(char *line, char **f, int max);
/* "60000 x 28 x 28" into buf */
const char *bd__dims_str(int n, const int64_t *d, char *buf, size_t len);
/* bytes this process may allocate: min(RAM, cgroup memory.max, RLIMIT_AS,
 * RLIMIT_DATA) */
uint64_t bd__mem_limit(void);
/* BD_ERR_NOMEM "<who>: <what> need N bytes (x GiB), more than ..." when
 * bytes exceed bd__mem_limit(); checked before allocating, so a size that
 * cannot fit is refused at once, naming what needs it */
bd_status bd__check_mem(const char *who, const char *what, uint64_t bytes);
const char *bd__bytes_str(uint64_t b, char *buf, size_t len);

/* ---- files (src/io/files.c): inputs are opened without blocking and must
 * be regular files; outputs are checked (an existing non-regular target is
 * refused, a symlink is followed) and written atomically. */
#include <stdio.h>
#include <sys/types.h>
/* Open path (a `what` file: "model", "image", "CSV") read-only with
 * O_NONBLOCK, fstat it, refuse anything but a regular file (a folder, a FIFO,
 * a device: named in the message) and give the fd, blocking again. */
bd_status bd__open_input(const char *path, const char *what, int *fd, off_t *size);
/* The same as a FILE* ("rb"). size may be NULL. */
bd_status bd__fopen_input(const char *path, const char *what, FILE **f, off_t *size);
/* The file an output path will replace, into real: path itself (new or a
 * regular file) or a symlink's regular target; BD_ERR_ARG for an empty name,
 * BD_ERR_IO for a folder, device node, FIFO, socket or a bad symlink. */
bd_status bd__out_target(const char *path, const char *what, char *real, size_t len);
/* Remove "*.tmp.PID" regular files of ours in path's folder whose process
 * no longer exists (a save killed by SIGKILL); returns how many. */
int bd__clean_stale_tmp(const char *path);
/* fsync the folder holding path (so a rename is durable) */
void bd__sync_dir(const char *path);
/* An atomic output file: write to f, then commit (or abort). */
typedef struct bd__afile {
    FILE *f;              /* PATH.tmp.PID, open for writing */
    const char *what;     /* "model", "log", "predictions" (messages) */
    int err;              /* errno of a failed bd__afile_write */
    char path[4096];      /* the file it will replace (a symlink's target) */
    char tmp[4200];
} bd__afile;
bd_status bd__afile_open(bd__afile *a, const char *path, const char *what);
/* fwrite n bytes; a failure names the file and strerror (ENOSPC...) */
bd_status bd__afile_write(bd__afile *a, const void *p, size_t n);
/* fflush, fsync, close, check the target again, rename, fsync the folder;
 * any failure removes the temporary file and says why (strerror). */
bd_status bd__afile_commit(bd__afile *a);
/* the same, calling hook("flushed"/"synced"/"renamed") between steps */
bd_status bd__afile_commit_stage(bd__afile *a, void (*hook)(const char *stage));
void bd__afile_abort(bd__afile *a);

/* ---- untrusted training state (src/io/checkpoint_check.c) */
typedef struct bd__range {
    const char *name;
    double lo, hi;
} bd__range;
/* the optimizer hyperparameters' ranges, as --lr, --eps... enforce them;
 * ends with a NULL name */
extern const bd__range bd__optim_ranges[];
/* Check what a checkpoint (file f) says: optimizer hyperparameters in
 * range, its step count possible, its state finite (second moments >= 0),
 * the weights finite. BD_ERR_FORMAT naming the file and the value. */
bd_status bd__checkpoint_check(const char *f, const bd_net *net, const bd_optim *opt,
                               const bd_train_pos *pos);
/* 1 if every x[0..n) is finite (a pass over the bits; vectorises) */
static inline int bd__all_finite(const float *x, size_t n)
{
    const uint32_t *u = (const uint32_t *)(const void *)x;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= (uint32_t)((u[i] & 0x7f800000u) == 0x7f800000u);
    return !bad;
}

/* ---- one run per checkpoint folder (src/io/dirlock.c): create dir if
 * needed and take an exclusive flock on dir/badak.lock (holding our pid);
 * BD_ERR_IO naming the holder's pid if another process has it. */
bd_status bd__dir_lock(const char *dir, int *fd);
void bd__dir_unlock(int fd);

/* ---- the per-layer log of a training run (src/train/layerlog.c;
 * bd_train_config.layer_log), opened before the loop (nothing is allocated
 * after), committed atomically at the end like the CSV log */
typedef struct bd__layer_log {
    bd__afile af;
    int open;
    long every;           /* a row set every this many steps */
} bd__layer_log;
/* path NULL: a closed log (nothing is written); every 0: BD_LAYER_LOG_EVERY */
bd_status bd__layer_log_open(bd__layer_log *lg, const char *path, long every);
/* Is step `iter` (1-based) one to log: the first, every lg->every-th, or the
 * last of an epoch (epoch_end)? 0 when the log is closed. */
int bd__layer_log_due(const bd__layer_log *lg, long iter, int epoch_end);
/* One row per layer of net for step iter of epoch; write errors show at
 * close (the stream keeps them). */
void bd__layer_log_write(bd__layer_log *lg, const bd_net *net, long iter, int epoch);
/* Commit (rename into place); returns s if it failed, else the commit's. */
bd_status bd__layer_log_close(bd__layer_log *lg, bd_status s);

/* ---- test hooks: internal, not part of the API and not exported by the
 * shared object; the tests and `badak gradcheck --break-backward` link the
 * static library. Never set them outside tests.
 * bd__debug_save_hook: fn(stage) is called between the steps of every
 * model-file write ("open", "header", "data" per chunk, "flushed",
 * "synced", "renamed", "done"), so tests can kill a writer at each point
 * (src/io/safetensors.c; process-wide, not while another thread saves).
 * bd__debug_break_backward: when broken is 1, bd_net_backward of net makes
 * the named layer kind's backward deliberately wrong (the parameter
 * gradient dW of its layers and the input gradient they pass on are scaled
 * by 1.5), so tests can show that the gradient check catches a broken
 * backward; 0 repairs it. Per network (src/net/net.c); NULL or a kind out
 * of range: nothing. */
void bd__debug_save_hook(void (*fn)(const char *stage, void *ud), void *ud);
void bd__debug_break_backward(bd_net *net, bd_layer_kind kind, int broken);
/* bd__debug_unfuse_pool: unfused 1 keeps every conv of net from computing
 * the max-pool after it (bd__conv_pooled gives NULL), so tests compare the
 * fused path with the plain one; 0 allows it again. Per network, like the
 * break above (it replaced a process-wide switch); NULL: nothing. */
void bd__debug_unfuse_pool(bd_net *net, int unfused);
/* Forwards that read the logits alone (training without a layer log,
 * evaluation, inference) may leave the outputs of convs with a fused
 * max-pool unwritten, between begin (which returns the setting before)
 * and end (which restores it); bd_net_layer_stats then reports no rows for
 * those layers. bd__layer_out_stale: whether layer i's out is such. */
int bd__net_unread_begin(bd_net *net);
void bd__net_unread_end(bd_net *net, int before);
int bd__layer_out_stale(const bd_net *net, int i);

#endif
