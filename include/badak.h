/*
 * badak.h — the one public header of libbadak.
 *
 * badak (바닥, "the floor") implements the neural-network training system of
 * "Deep Learning from Scratch" (밑바닥부터 시작하는 딥러닝) in C11.
 *
 * Conventions (each function's comment says where it departs from them;
 * docs/api.md has the rules at length)
 *  - Per-function comments (SQLite's discipline): the comment above each
 *    declaration, or above a group of declarations written together, says
 *    what it does and who owns what, and holds two labelled statements:
 *    "Errors:" lists the bd_status values it returns besides BD_OK (a
 *    function that cannot fail says "none" and what it does with bad
 *    input), "Thread-safety:" says whether several threads may call it at
 *    once and on what. tests/cli_apidoc.sh fails, naming the function, when
 *    a declaration's comment lacks either.
 *  - Errors: every fallible function returns bd_status; BD_OK is 0. On
 *    failure the reason is in bd_errmsg() (thread-local), naming the file,
 *    layer, argument or shape at fault ("Affine2: input 784 vs weight
 *    100x10"). The one handle returned directly (bd_model_open) is NULL on
 *    failure. A function that allocates may also fail with BD_ERR_NOMEM
 *    (its "Errors:" lists it where allocating is part of its work).
 *  - NULL: a NULL for a required pointer is BD_ERR_ARG naming it, never a
 *    crash; pointers documented "may be NULL" are optional. Accessors give
 *    0 / NULL / "" for a NULL handle; _free and _close accept NULL. The plain
 *    array kernels ("layer kernels", bd_augment_shift/flip/rotate,
 *    bd_image_resize, bd_numerical_gradient) and bd_rng_* check nothing:
 *    they sit on hot paths and need valid pointers.
 *  - Ownership: a constructor fills `T **out` (NULL on failure) with a heap
 *    object the caller releases with its _free; "owned by X" pointers die
 *    with X; what a function keeps a pointer to after it returns is said
 *    ("borrowed"), everything else is copied or only read during the call.
 *    Strings returned are static or owned by the object they describe.
 *  - Threads: functions on different objects may run on different threads
 *    at once; one object (a network, optimizer, trainer, data set) is used
 *    by one thread at a time, except the read-only calls said to be
 *    thread-safe and an opened bd_model, which any number of threads may
 *    predict with. Process-wide settings (bd_set_threads, bd_set_kernels)
 *    must not change while another thread is in the library.
 *  - Shapes are written in comments as [B, D] (batch first), [B, C, H, W].
 *  - Every buffer is owned by a bd_tensor, so it can later live on a device.
 *  - Nothing allocates inside the training loop: networks reserve their
 *    activation buffers for a maximum batch size once (bd_net_reserve).
 */
#ifndef BADAK_H
#define BADAK_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>

/* BD_API marks what libbadak exports. The library is compiled with
 * -fvisibility=hidden, so its shared object exports the functions declared
 * here and none of its internals (bd__*); docs/api.md. BD_PRINTF checks a
 * printf-style format where the compiler can (gcc, clang; not MSVC). */
#ifndef BD_API
#if defined(__GNUC__) || defined(__clang__)
#define BD_API __attribute__((visibility("default")))
#else
#define BD_API
#endif
#endif
#if defined(__GNUC__) || defined(__clang__)
#define BD_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define BD_PRINTF(fmt, args)
#endif

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/* ----------------------------------------------------------------- version */

/* The version of this header. Releases 0.2.0 and later keep the ABI of
 * libbadak.so.0 until the major number changes (docs/api.md). */
#define BD_VERSION_MAJOR 0
#define BD_VERSION_MINOR 2
#define BD_VERSION_PATCH 0
#define BD_VERSION "0.2.0"
/* major * 10000 + minor * 100 + patch: 0.2.0 is 200, for #if comparisons */
#define BD_VERSION_NUMBER (BD_VERSION_MAJOR * 10000 + BD_VERSION_MINOR * 100 + BD_VERSION_PATCH)

/* The version of the library the program runs with, "0.2.0" (BD_VERSION
 * when it was built): a program linked against libbadak.so.0 may meet a
 * newer 0.x library than the header it was compiled with. Static string.
 * Errors: none. Thread-safety: safe. */
BD_API const char *bd_version(void);
/* The same as a BD_VERSION_NUMBER, e.g. 200.
 * Errors: none. Thread-safety: safe. */
BD_API int bd_version_number(void);

/* ------------------------------------------------------------------ errors */

typedef enum bd_status {
    BD_OK = 0,
    BD_ERR_NOMEM,   /* allocation failed */
    BD_ERR_ARG,     /* bad argument / option value */
    BD_ERR_SHAPE,   /* shape mismatch */
    BD_ERR_IO,      /* file missing, unreadable, unwritable */
    BD_ERR_FORMAT,  /* file readable but malformed (bad magic, truncated...) */
    BD_ERR_NUMERIC, /* loss or gradient stopped being finite */
    BD_ERR_CHECK    /* a check (gradient check) failed */
} bd_status;

/* Message of the last error raised on this thread ("" if none); owned by
 * the library, valid until this thread's next error.
 * Errors: none. Thread-safety: safe (each thread has its own message). */
BD_API const char *bd_errmsg(void);
/* Name of a status code, e.g. "BD_ERR_SHAPE" (static string;
 * "BD_ERR_UNKNOWN" for a value that is none of them).
 * Errors: none. Thread-safety: safe. */
BD_API const char *bd_status_name(bd_status s);
/* Record an error (printf-style; fmt NULL: an empty message) and return s;
 * used by the library and by programs that want to report their own errors
 * the same way. The message is cut at 511 bytes.
 * Errors: returns s as given (BD_OK, BD_ERR_NOMEM ... BD_ERR_CHECK).
 * Thread-safety: safe (the message is
 * this thread's). */
BD_API bd_status bd_error(bd_status s, const char *fmt, ...) BD_PRINTF(2, 3);

/* ------------------------------------------------------------------- PRNG */

/* The project's own PRNG: xoshiro256** seeded through splitmix64. Every random
 * draw in badak (init, shuffling, sampling) comes from a bd_rng, never rand(). */
typedef struct bd_rng {
    uint64_t s[4];
    int has_spare;   /* Box-Muller produces normals in pairs */
    float spare;
} bd_rng;

/* A generator is a plain value: seed it, then draw. No checks (hot paths):
 * r (and a) must be valid.
 * Errors: none. Thread-safety: one thread per generator; give each thread
 * its own. */
BD_API void bd_rng_seed(bd_rng *r, uint64_t seed);
BD_API uint64_t bd_rng_u64(bd_rng *r);
BD_API uint32_t bd_rng_below(bd_rng *r, uint32_t n);  /* uniform in [0, n), unbiased */
BD_API float bd_rng_uniform(bd_rng *r);               /* uniform in [0, 1) */
BD_API float bd_rng_normal(bd_rng *r);                /* standard normal */
BD_API void bd_rng_shuffle(bd_rng *r, int32_t *a, size_t n); /* Fisher-Yates */

/* ----------------------------------------------------------------- tensors */

#define BD_MAXDIM 4

typedef enum bd_dtype { BD_F32 = 0, BD_U8 = 1, BD_I32 = 2 } bd_dtype;

/* A contiguous n-d array. A tensor either owns its buffer (bd_tensor_alloc)
 * or is a view into another tensor's buffer (bd_tensor_view); only owners
 * free. `cap` is the number of elements the buffer can hold, so a tensor can
 * be reshaped to a smaller batch without reallocating. */
typedef struct bd_tensor {
    void *data;
    bd_dtype dtype;
    int ndim;
    int shape[BD_MAXDIM];
    size_t size;   /* product of shape */
    size_t cap;    /* elements available in data */
    int owner;     /* 1: data was allocated by this tensor */
} bd_tensor;

/* Allocate t (zero-filled, owned: free with bd_tensor_free) of ndim (1..4)
 * dimensions shape[] (read only).
 * Errors: BD_ERR_ARG (t or shape NULL), BD_ERR_SHAPE (ndim out of range, a
 * dimension < 0, more than BD_MAX_ELEMENTS), BD_ERR_NOMEM.
 * Thread-safety: safe on different tensors. */
BD_API bd_status bd_tensor_alloc(bd_tensor *t, bd_dtype dt, int ndim, const int *shape);
/* Convenience: float32 tensor of 1..4 dims given as arguments (the unused
 * ones ignored), zero-filled, as bd_tensor_alloc.
 * Errors: BD_ERR_ARG (t NULL), BD_ERR_SHAPE, BD_ERR_NOMEM.
 * Thread-safety: safe on different tensors. */
BD_API bd_status bd_tensor_zeros(bd_tensor *t, int ndim, int d0, int d1, int d2, int d3);
/* Free an owner's buffer (a view's is left alone) and zero t.
 * Errors: none (NULL: no-op). Thread-safety: one thread per tensor. */
BD_API void bd_tensor_free(bd_tensor *t);
/* A view of the float elements at `data` (borrowed: it must outlive the
 * view; never freed by it), with the given shape (ndim clamped to 1..4).
 * Errors: none (shape NULL: an empty, zeroed tensor; else shape must hold
 * ndim sides).
 * Thread-safety: safe. */
BD_API bd_tensor bd_tensor_view(float *data, int ndim, const int *shape);
/* Change the shape, keeping the buffer.
 * Errors: BD_ERR_ARG (t or shape NULL), BD_ERR_SHAPE naming `who` (ndim or
 * a side out of range, or the new size exceeds the capacity).
 * Thread-safety: one thread per tensor. */
BD_API bd_status bd_tensor_reshape(bd_tensor *t, int ndim, const int *shape, const char *who);
/* Bytes per element of dt (4 for an unknown value).
 * Errors: none. Thread-safety: safe. */
BD_API size_t bd_dtype_size(bd_dtype dt);
/* "[100, 784]" into buf (at least 64 bytes); returns buf ("" for a NULL t;
 * NULL buf: nothing written).
 * Errors: none. Thread-safety: safe while t does not change. */
BD_API const char *bd_shape_str(const bd_tensor *t, char *buf, size_t len);

static inline float *bd_f32(const bd_tensor *t) { return (float *)t->data; }
static inline int32_t *bd_i32(const bd_tensor *t) { return (int32_t *)t->data; }
static inline uint8_t *bd_u8(const bd_tensor *t) { return (uint8_t *)t->data; }

/* The one limit on sizes from outside (file headers, INI shapes, flags):
 * no product of dimensions -- a sample's C x H x W, a tensor's elements, an
 * image's pixels, a data file's rows x columns -- may exceed 2^31 - 1
 * elements. Everything larger is refused with BD_ERR_SHAPE naming it. */
#define BD_MAX_ELEMENTS 2147483647LL

/* ----------------------------------------------------------------- runtime */

/* Set the number of threads of every thread pool the process uses (badak's
 * own pool; OpenBLAS is kept at 1 thread inside it). n <= 0 means all
 * online cores. Returns the number actually set. The pool belongs to the
 * thread that sized it (docs/api.md, Threads).
 * Errors: none. Thread-safety: not while another thread is inside the
 * library (process-wide). */
BD_API int bd_set_threads(int n);
/* The thread count set (before any bd_set_threads: OpenBLAS's default).
 * Errors: none. Thread-safety: safe while nobody sets it. */
BD_API int bd_get_threads(void);
/* How badak's pool ran its loops since the process started: *loops, the
 * loops split over more than one thread; *alone, of them those the owning
 * thread ran by itself, every part in part order (the same numbers),
 * because other processes held the cores (the busy-machine rule of
 * docs/speed.md). A run whose *alone is a large share of *loops had about
 * one core, whatever --threads said. Either pointer may be NULL.
 * Errors: none. Thread-safety: call it from the thread that set the
 * threads, between loops (the counters are that thread's). */
BD_API void bd_pool_stats(long *loops, long *alone);
/* Flush denormals to zero (FTZ/DAZ) on this thread; returns the previous
 * control word so it can be restored with bd_restore_denormals.
 * Errors: none (no-op where the CPU has no such mode).
 * Thread-safety: safe (the control word is the calling thread's). */
BD_API unsigned bd_flush_denormals(void);
BD_API void bd_restore_denormals(unsigned saved);
/* Peak resident set size of this process in bytes (0 if unknown).
 * Errors: none. Thread-safety: safe. */
BD_API size_t bd_peak_rss(void);
/* Monotonic wall clock in seconds.
 * Errors: none. Thread-safety: safe. */
BD_API double bd_seconds(void);

/* ---------------------------------------------------------- layer kernels */
/* Plain functions over flat float arrays (llm.c style). No allocation, no
 * checks (every pointer valid, shapes as given), no error status: they sit
 * in the training loop's inner calls. Thread-safe on disjoint outputs. */

/* y = x W + b (book eq. 5.13 forward).  x [B,I], W [I,O], b [O] -> y [B,O]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_affine_forward(float *y, const float *x, const float *W, const float *b,
                              int B, int In, int Out);
/* dx = dy W^T, dW = x^T dy, db = sum_B dy (eq. 5.13).
 * dy [B,O], x [B,I], W [I,O] -> dx [B,I] (may be NULL), dW [I,O], db [O]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_affine_backward(float *dx, float *dW, float *db, const float *dy,
                               const float *x, const float *W, int B, int In, int Out);
/* y = max(0, x)                         x [n] -> y [n]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_relu_forward(float *y, const float *x, size_t n);
/* dx = dy * (y > 0)  (book 5.5.1)        dy, y [n] -> dx [n]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_relu_backward(float *dx, const float *dy, const float *y, size_t n);
/* y = 1 / (1 + exp(-x))                 x [n] -> y [n]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_sigmoid_forward(float *y, const float *x, size_t n);
/* dx = dy * y (1 - y)   (book eq. 5.12)  dy, y [n] -> dx [n]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_sigmoid_backward(float *dx, const float *dy, const float *y, size_t n);
/* The variants of seed 002. The kinked ones branch on the input x (x <= 0
 * takes the slope), so their backward takes x. */
/* y = tanh(x)                           x [n] -> y [n]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_tanh_forward(float *y, const float *x, size_t n);
/* dx = dy (1 - y^2)                      dy, y [n] -> dx [n]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_tanh_backward(float *dx, const float *dy, const float *y, size_t n);
/* Leaky ReLU: y = x > 0 ? x : s x        x [n] -> y [n]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_leaky_relu_forward(float *y, const float *x, float s, size_t n);
/* dx = dy (x > 0 ? 1 : s)                dy, x [n] -> dx [n]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_leaky_relu_backward(float *dx, const float *dy, const float *x, float s, size_t n);
/* PReLU (He et al. 2015): y = x > 0 ? x : a_j x, a learned per feature.
 *                                        x [B,D], a [D] -> y [B,D]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_prelu_forward(float *y, const float *x, const float *a, int B, int D);
/* dx = dy (x > 0 ? 1 : a_j), da_j = sum_B dy (x > 0 ? 0 : x)
 * dy, x [B,D], a [D] -> dx [B,D] (may be NULL), da [D]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_prelu_backward(float *dx, float *da, const float *dy, const float *x, const float *a,
                              int B, int D);
/* RReLU (Xu et al. 2015): y = x > 0 ? x : s_i x. With rng (training) each
 * s_i ~ U[lo, hi); with rng NULL (evaluation) s_i = (lo + hi) / 2. The slopes
 * are written to slope for backward.     x [n] -> y [n], slope [n]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_rrelu_forward(float *y, float *slope, const float *x, float lo, float hi, bd_rng *rng,
                             size_t n);
/* dx = dy (x > 0 ? 1 : s_i)              dy, x, slope [n] -> dx [n]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_rrelu_backward(float *dx, const float *dy, const float *x, const float *slope, size_t n);
/* ELU (Clevert et al. 2016): y = x > 0 ? x : alpha (e^x - 1)   x [n] -> y [n]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_elu_forward(float *y, const float *x, float alpha, size_t n);
/* dx = dy (x > 0 ? 1 : y + alpha)        dy, x, y [n] -> dx [n]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_elu_backward(float *dx, const float *dy, const float *x, const float *y, float alpha,
                            size_t n);

/* The geometry of one convolution or pooling: input [B, C, H, W], F filters
 * of K x K (pools: F = C), stride S, zero padding P on each side, output
 * [B, F, OH, OW] with OH = (H + 2P - K) / S + 1 (book eq. 7.1). */
typedef struct bd_conv_geom {
    int B, C, H, W, F, K, S, P, OH, OW;
} bd_conv_geom;

/* Fill OH and OW from the other fields of g.
 * Errors: BD_ERR_ARG (g NULL; kernel or stride < 1, pad < 0 or not smaller
 * than the kernel, naming `who`), BD_ERR_SHAPE (the kernel larger than the
 * padded input, naming `who`). Thread-safety: safe on different g. */
BD_API bd_status bd_conv_geom_init(bd_conv_geom *g, const char *who);
/* Floats of scratch the convolution kernels need: im2col columns
 * [B][C*K*K, OH*OW], room for per-thread partial sums of dW and db, and for
 * the masked gradient of a fused ReLU (the network's Conv2d layers).
 * Errors: none (no checks: g must be initialised). Thread-safety: safe. */
BD_API size_t bd_conv2d_scratch(const bd_conv_geom *g);
/* im2col (book 7.4.3), batch-wide: col [C*K*K, B*OH*OW], a column per output
 * position (the layer itself builds one sample's columns at a time)
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_im2col(float *col, const float *x, const bd_conv_geom *g);
/* col2im: the transpose, summing overlapping windows into dx [B,C,H,W]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_col2im(float *dx, const float *col, const bd_conv_geom *g);
/* y = W * x + b.  x [B,C,H,W], W [F,C,K,K], b [F] (may be NULL) -> y [B,F,OH,OW]
 * scratch [bd_conv2d_scratch(g)].
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs and
 * scratch (called on the thread that sized the pool, it splits the batch
 * over the pool). */
BD_API void bd_conv2d_forward(float *y, const float *x, const float *W, const float *b,
                              float *scratch, const bd_conv_geom *g);
/* dy [B,F,OH,OW], x, W -> dx [B,C,H,W] (may be NULL), dW [F,C,K,K], db [F]
 * (may be NULL). The columns are built again from x, so nothing is kept
 * between forward and backward. scratch [bd_conv2d_scratch(g)].
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs and
 * scratch (as bd_conv2d_forward). */
BD_API void bd_conv2d_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                               const float *W, float *scratch, const bd_conv_geom *g);
/* Max pooling: y [B,C,OH,OW] = window maxima of x; argmax [B*C*OH*OW] keeps
 * the input index (within the sample) of each maximum for backward.
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_maxpool_forward(float *y, int32_t *argmax, const float *x, const bd_conv_geom *g);
/* dx = dy routed to each window's maximum.  dy [B,C,OH,OW] -> dx [B,C,H,W]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_maxpool_backward(float *dx, const float *dy, const int32_t *argmax,
                                const bd_conv_geom *g);
/* Average pooling (zero padding is counted in the average).
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_avgpool_forward(float *y, const float *x, const bd_conv_geom *g);
BD_API void bd_avgpool_backward(float *dx, const float *dy, const bd_conv_geom *g);
/* BatchNorm per channel of x [B,C,HW]: x̂ = (x − μ_c)/√(σ²_c + ε), y = γ x̂ + β.
 * With training != 0, μ and σ² are the batch's (biased) and the running
 * averages rmean/rvar move by `mom`; else they come from rmean/rvar.
 * xhat [B,C,HW] and mean_istd [2C] are kept for backward.
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_bn2d_forward(float *y, float *xhat, float *mean_istd, const float *x,
                            const float *gamma, const float *beta, float *rmean, float *rvar,
                            float mom, float eps, int training, int B, int C, int HW);
/* dy [B,C,HW] -> dx (may be NULL; may alias dy), dγ = Σ dy x̂, dβ = Σ dy
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_bn2d_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                             const float *xhat, const float *mean_istd, const float *gamma,
                             int training, int B, int C, int HW);

/* Labels: either class indices (idx [B]) or one-hot / soft targets
 * (onehot [B, C]); exactly one of the two is non-NULL. */
typedef struct bd_labels {
    const int32_t *idx;
    const float *onehot;
} bd_labels;

/* Softmax with the row maximum subtracted, then mean cross-entropy over the
 * batch computed from log-softmax, so it is finite for any finite logits.
 * logits [B,C] -> prob [B,C]; returns the mean loss (book 4.2.2, 5.6.3).
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API double bd_softmax_ce_forward(float *prob, const float *logits, bd_labels t,
                                   int B, int C);
/* dlogits = (prob - t) / B  (book 5.6.3)   prob [B,C] -> dlogits [B,C]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_softmax_ce_backward(float *dlogits, const float *prob, bd_labels t,
                                   int B, int C);
/* Mean squared error, the book's 0.5 * sum (y - t)^2, averaged over the batch
 * (class indices become one-hot targets).  y [B,C] -> loss
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API double bd_mse_forward(const float *y, bd_labels t, int B, int C);
/* dy = (y - t) / B                          y [B,C] -> dy [B,C]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_mse_backward(float *dy, const float *y, bd_labels t, int B, int C);
/* Mean absolute error: sum_k |y_k - t_k| averaged over the batch (class
 * indices become one-hot targets, as for MSE).  y [B,C] -> loss
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API double bd_mae_forward(const float *y, bd_labels t, int B, int C);
/* dy = sign(y - t) / B, 0 where y == t       y [B,C] -> dy [B,C]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_mae_backward(float *dy, const float *y, bd_labels t, int B, int C);
/* Sigmoid + binary cross-entropy (logistic regression): per unit
 * max(z,0) - z t + log(1 + e^-|z|), summed over units, averaged over the
 * batch; finite for any finite z. With C == 1 a class index is the target
 * (0 or 1); with C > 1 indices become one-hot; t.onehot [B,C] may hold
 * probabilities.  z [B,C] -> prob = sigmoid(z) [B,C]; returns the loss
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API double bd_bce_forward(float *prob, const float *z, bd_labels t, int B, int C);
/* dz = (sigmoid(z) - t) / B                  prob [B,C] -> dz [B,C]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_bce_backward(float *dz, const float *prob, bd_labels t, int B, int C);
/* Huber loss with delta 1 (smooth L1), d = y - t per unit: 0.5 d^2 for
 * |d| <= 1, |d| - 0.5 beyond; summed over units, averaged over the batch
 * (class indices become one-hot targets, as for MSE).  y [B,C] -> loss
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API double bd_huber_forward(const float *y, bd_labels t, int B, int C);
/* dy = clamp(y - t, -1, 1) / B               y [B,C] -> dy [B,C]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_huber_backward(float *dy, const float *y, bd_labels t, int B, int C);

/* ------------------------------------------------ data-parallel training */

/* A group of processes that train one network together, each on a shard of
 * every mini-batch (docs/distributed.md). The library never sees how the
 * processes talk: the `badak` command fills this from MPI (src/dist/), a
 * program may fill it from anything. sum_f32 / sum_f64 replace x[0..n) by
 * its sum over all `size` processes (the same bits on every one of them) and
 * are called by every process at the same points, in the same order. */
typedef struct bd_comm {
    int rank, size;       /* this process, of size (rank 0 does the I/O) */
    int sync_bn;          /* 1: BatchNorm statistics over every process's rows
                           * (--sync-bn); 0: each its own shard's */
    void *ud;
    bd_status (*sum_f32)(void *ud, float *x, size_t n);
    bd_status (*sum_f64)(void *ud, double *x, size_t n);
} bd_comm;

/* The rows [*lo, *hi) of a batch of B rows that process `rank` of `size`
 * computes: [B·rank/size, B·(rank+1)/size), rounded down, so the sizes
 * differ by at most one (B = 100 over 3: rows 0-32, 33-65, 66-99; the
 * trainer and bd_trainer_evaluate split this way); lo or hi may be NULL.
 * Errors: none (a rank out of range, size < 1 or B < 0 gives the empty
 * range 0, 0). Thread-safety: safe. */
BD_API void bd_shard(int B, int rank, int size, int *lo, int *hi);

/* ------------------------------------------------------------- networks */

typedef enum bd_layer_kind {
    BD_LAYER_AFFINE = 0,
    BD_LAYER_RELU,
    BD_LAYER_SIGMOID,
    BD_LAYER_TANH,
    BD_LAYER_LEAKY_RELU, /* p0: slope for x < 0 (default 0.01) */
    BD_LAYER_PRELU,      /* slope learned per feature, starting at p0 (0.25) */
    BD_LAYER_RRELU,      /* slope uniform in [p0, p1] while training (1/8, 1/3),
                          * the mean (p0 + p1) / 2 at evaluation */
    BD_LAYER_ELU,        /* p0: alpha (default 1) */
    BD_LAYER_BATCHNORM,  /* p0: running-average momentum (0.9), p1: eps (1e-7) */
    BD_LAYER_DROPOUT,    /* p0: drop probability (0.5) */
    /* convolutional layers (book ch. 7), over [B, C, H, W] */
    BD_LAYER_CONV2D,     /* units: filters; k: kernel side; stride (1), pad (0) */
    BD_LAYER_MAXPOOL,    /* k: window side; stride (default k) */
    BD_LAYER_AVGPOOL,    /* k: window side; stride (default k) */
    BD_LAYER_GAP,        /* global average pooling [C, H, W] -> [C] */
    BD_LAYER_FLATTEN,    /* [C, H, W] -> [C*H*W] (values unchanged) */
    BD_LAYER_BATCHNORM2D,/* per channel over B, H, W; p0 momentum (0.9), p1 eps (1e-5) */
    BD_LAYER_RESBLOCK,   /* units: out channels; stride 1 or 2. Two 3x3 convolutions
                          * with BatchNorm2d and ReLU, plus an identity (or, when the
                          * shape changes, 1x1 conv + BatchNorm2d) shortcut, then ReLU */
    BD_LAYER_KIND_COUNT
} bd_layer_kind;

typedef enum bd_loss_kind {
    BD_LOSS_SOFTMAX_CE = 0, /* SoftmaxWithLoss */
    BD_LOSS_MSE,            /* mean squared error on the raw outputs */
    BD_LOSS_MAE,            /* mean absolute error on the raw outputs */
    BD_LOSS_SIGMOID_BCE,    /* sigmoid + binary cross-entropy: one output unit,
                             * labels 0/1 (two classes) */
    BD_LOSS_MULTI_BCE,      /* multi-label: a sigmoid + binary cross-entropy on
                             * each of K output units, targets 0/1 per unit */
    BD_LOSS_HUBER,          /* Huber (delta 1): 0.5 d^2 where |d| <= 1, else
                             * |d| - 0.5, summed over outputs (regression) */
    BD_LOSS_KIND_COUNT
} bd_loss_kind;

typedef enum bd_init_kind {
    BD_INIT_STD = 0, /* N(0, std^2), the book's weight_init_std (0.01) */
    BD_INIT_XAVIER,  /* N(0, 1/n_in)   (book 6.2.2) */
    BD_INIT_HE       /* N(0, 2/n_in)   (book 6.2.3) */
} bd_init_kind;

typedef struct bd_init {
    bd_init_kind kind;
    float std;       /* used by BD_INIT_STD */
} bd_init;

/* Networks, layers and optimizers are opaque handles: their layout is
 * private to the library (docs/api.md), so it may change in any release.
 *
 * A network is a heap object: a constructor (bd_net_create, the presets,
 * bd_net_from_ini, bd_model_load, ...) fills `bd_net **out` with a new one
 * (NULL on failure) and bd_net_free releases it. A network never moves,
 * so pointers into it (its layers, bd_net_params) stay valid until it is
 * freed or rebuilt (bd_net_replace_head, bd_net_reserve for activations).
 * A bd_layer belongs to its network: it is looked up (bd_net_layer,
 * bd_net_layer_at), never created or freed by the caller.
 *
 * Threads: a network is used by one thread at a time (training changes
 * its buffers even in a forward pass); different networks may be used by
 * different threads at once. For inference from many threads, open a
 * bd_model. Functions that only read a network (the accessors, bd_net_print,
 * bd_model_save) may run on several threads at once while none changes it. */
typedef struct bd_net bd_net;
typedef struct bd_layer bd_layer;

/* Create an empty network taking samples of shape c x h x w (1, 1, D for
 * vectors) into *out: add layers with bd_net_add_*, then bd_net_build.
 * *out is NULL on failure; the caller frees it with bd_net_free.
 * Errors: BD_ERR_ARG (out NULL), BD_ERR_SHAPE (a side < 1, or more than
 * BD_MAX_ELEMENTS per sample), BD_ERR_NOMEM.
 * Thread-safety: safe (each call makes its own network). */
BD_API bd_status bd_net_create(bd_net **out, int c, int h, int w);
/* Release a network and every buffer it owns. Pointers into it (layers,
 * parameter blocks, logits) die with it.
 * Errors: none (NULL: no-op). Thread-safety: not while another thread uses
 * the network. */
BD_API void bd_net_free(bd_net *net);

/* Adding layers, before bd_net_build: an Affine of `units` outputs, a ReLU,
 * a sigmoid, or any kind with its default hyperparameters (units: Affine's
 * outputs, ignored by the others). Each checks the layer's shape against
 * the input it gets ("Conv2: kernel 5 larger than input 4x4 + padding 0")
 * and its hyperparameters ("Dropout1: dropout p 1.5 must be in [0, 1)").
 * Errors: BD_ERR_ARG (NULL net, a network already built, an unknown kind,
 * units < 1 where the kind needs them, a hyperparameter out of range),
 * BD_ERR_SHAPE (the input too small for the layer), BD_ERR_NOMEM.
 * Thread-safety: one thread per network. */
BD_API bd_status bd_net_add_affine(bd_net *net, int units);
BD_API bd_status bd_net_add_relu(bd_net *net);
BD_API bd_status bd_net_add_sigmoid(bd_net *net);
BD_API bd_status bd_net_add(bd_net *net, bd_layer_kind kind, int units);
/* Add a layer with its hyperparameters p0, p1 (0 means the kind's default;
 * see bd_layer_kind).
 * Errors: as bd_net_add (BD_ERR_ARG, BD_ERR_SHAPE, BD_ERR_NOMEM).
 * Thread-safety: one thread per network. */
BD_API bd_status bd_net_add_with(bd_net *net, bd_layer_kind kind, int units, float p0, float p1);
/* Everything that describes one layer; 0 in a field means the kind's
 * default. bd_net_add_layer is the general way to add one. */
typedef struct bd_layer_conf {
    bd_layer_kind kind;
    int units;            /* Affine: outputs; Conv2d: filters; ResBlock: channels */
    int k;                /* Conv2d / pools: kernel side */
    int stride;           /* Conv2d 1, pools k, ResBlock 1 */
    int pad;              /* Conv2d: zero padding on each side */
    float p0, p1;         /* hyperparameters (see bd_layer_kind) */
    const char *name;     /* NULL: automatic, the kind's name and its count (Conv1);
                           * copied (at most 31 bytes) */
} bd_layer_conf;

/* Add a layer after the last one (c is copied; c->name too).
 * Errors: as bd_net_add, and BD_ERR_ARG for a NULL c, a name already used
 * (names are cut at 31 bytes), a size < 0.
 * Thread-safety: one thread per network. */
BD_API bd_status bd_net_add_layer(bd_net *net, const bd_layer_conf *c);
/* Conv2d with `filters` k x k filters (book 7.2).
 * Errors: as bd_net_add_layer (BD_ERR_ARG, BD_ERR_SHAPE, BD_ERR_NOMEM).
 * Thread-safety: one thread per network. */
BD_API bd_status bd_net_add_conv(bd_net *net, int filters, int k, int stride, int pad);
/* Max or average pooling (BD_LAYER_MAXPOOL / BD_LAYER_AVGPOOL) (book 7.3).
 * Errors: as bd_net_add_layer (BD_ERR_ARG, also for another kind,
 * BD_ERR_SHAPE, BD_ERR_NOMEM).
 * Thread-safety: one thread per network. */
BD_API bd_status bd_net_add_pool(bd_net *net, bd_layer_kind kind, int k, int stride);
/* A residual block with `channels` outputs (He et al. 2016).
 * Errors: as bd_net_add_layer (BD_ERR_ARG, BD_ERR_SHAPE, BD_ERR_NOMEM).
 * Thread-safety: one thread per network. */
BD_API bd_status bd_net_add_resblock(bd_net *net, int channels, int stride);
/* The loss layer (default SoftmaxWithLoss); before or after building.
 * Errors: BD_ERR_ARG (NULL net, an unknown kind).
 * Thread-safety: one thread per network. */
BD_API bd_status bd_net_set_loss(bd_net *net, bd_loss_kind loss);
/* Regularisation added to the loss: ½ l2 Σ W² (book 6.4.1) and l1 Σ |W|
 * over every Affine weight.
 * Errors: BD_ERR_ARG (NULL net, a negative or non-finite value: "l2 = -1
 * must be >= 0"). Thread-safety: one thread per network. */
BD_API bd_status bd_net_set_regularization(bd_net *net, float l2, float l1);
/* Weigh each row's SoftmaxWithLoss loss and gradient by w[its class]
 * (bd_class_weights: rare classes count more). w [bd_net_output_size] is
 * borrowed, not copied: it must outlive the training (NULL: no weights).
 * Errors: BD_ERR_ARG (NULL net). Thread-safety: one thread per network. */
BD_API bd_status bd_net_set_class_weights(bd_net *net, const float *w);
/* Allocate the parameter, gradient and state blocks and initialise the
 * weights (biases zero, BatchNorm gamma 1 / beta 0, running variance 1).
 * The layers' own PRNG (Dropout, RReLU) is seeded from rng, which advances.
 * Errors: BD_ERR_ARG (NULL net or rng, no layers, built twice, init.std
 * not > 0 for BD_INIT_STD), BD_ERR_SHAPE (a loss that needs one output
 * unit on a wider last layer, too many parameters), BD_ERR_NOMEM.
 * Thread-safety: one thread per network (and per rng). */
BD_API bd_status bd_net_build(bd_net *net, bd_init init, bd_rng *rng);
/* Re-draw every weight (biases zero) with the given init from rng.
 * Errors: BD_ERR_ARG (NULL net or rng, a network not built).
 * Thread-safety: one thread per network (and per rng). */
BD_API bd_status bd_net_init_weights(bd_net *net, bd_init init, bd_rng *rng);
/* Make the activation buffers hold at least max_batch rows (call outside the
 * training loop; forward/backward never allocate). Activation pointers
 * taken before (logits) die when the buffers grow.
 * Errors: BD_ERR_ARG (NULL, not built, max_batch < 1), BD_ERR_SHAPE (rows x
 * a layer's size beyond BD_MAX_ELEMENTS), BD_ERR_NOMEM.
 * Thread-safety: one thread per network. */
BD_API bd_status bd_net_reserve(bd_net *net, int max_batch);

/* Training (1) or evaluation (0) mode: Dropout drops and BatchNorm uses
 * the batch's statistics only in training mode. A built network starts in
 * training mode, a loaded one (bd_model_load, bd_checkpoint_load) in
 * evaluation mode; bd_train and bd_evaluate switch by themselves and
 * restore the mode.
 * Errors: BD_ERR_ARG (NULL net). Thread-safety: one thread per network. */
BD_API bd_status bd_net_set_training(bd_net *net, int training);
/* 1 in training mode, 0 in evaluation mode (and for NULL).
 * Errors: none. Thread-safety: safe while no thread changes the network. */
BD_API int bd_net_is_training(const bd_net *net);

/* Accessors: each reads the network only and returns 0 (NULL, "") for a
 * NULL network. Counts: trainable parameters (0 until built),
 * non-trainable state values (BatchNorm running averages), layers (the
 * loss layer is not one), floats per input sample (c·h·w) and per output
 * row, rows the activation buffers hold (bd_net_reserve; 0 before).
 * Errors: none. Thread-safety: safe while no thread changes the network. */
BD_API size_t bd_net_param_count(const bd_net *net);
BD_API size_t bd_net_state_count(const bd_net *net);
BD_API int bd_net_layer_count(const bd_net *net);
BD_API int bd_net_input_size(const bd_net *net);
BD_API int bd_net_output_size(const bd_net *net);
BD_API int bd_net_max_batch(const bd_net *net);
/* One sample's input shape; any pointer may be NULL (NULL net: 0s).
 * Errors: none. Thread-safety: safe while no thread changes the network. */
BD_API void bd_net_input_shape(const bd_net *net, int *c, int *h, int *w);
/* The loss layer's kind (BD_LOSS_SOFTMAX_CE for NULL); a one-line
 * description ("two_layer 784-50-10"; "" if none), owned by the network;
 * the regularisation set (bd_net_set_regularization; pointers may be NULL,
 * 0s for a NULL network).
 * Errors: none. Thread-safety: safe while no thread changes the network. */
BD_API bd_loss_kind bd_net_loss_kind(const bd_net *net);
BD_API const char *bd_net_desc(const bd_net *net);
BD_API void bd_net_get_regularization(const bd_net *net, float *l2, float *l1);
/* The parameter block: every trainable parameter, one contiguous array in
 * layer order (each layer's W then b), and the gradient block of the same
 * layout, which bd_net_backward fills; and the state block (BatchNorm
 * running mean and variance). Owned by the network (valid until it is
 * freed or rebuilt); *n (may be NULL) gets the count. For custom update
 * rules and for summing gradients over processes (MPI_Allreduce on
 * bd_net_grads between backward and bd_optim_step).
 * Errors: none (NULL before build and for a NULL network, *n then 0).
 * Thread-safety: safe to take while no thread changes the network; writing
 * through them is changing it. */
BD_API float *bd_net_params(const bd_net *net, size_t *n);
BD_API float *bd_net_grads(const bd_net *net, size_t *n);
BD_API float *bd_net_state(const bd_net *net, size_t *n);

/* Layer by name ("Affine2") or NULL (NULL net or name too); the i-th layer
 * (0-based) or NULL when i is out of range. The layer is owned by the
 * network (valid until it is freed or rebuilt).
 * Errors: none (NULL when not found). Thread-safety: safe while no thread
 * changes the network. */
BD_API bd_layer *bd_net_layer(bd_net *net, const char *name);
BD_API bd_layer *bd_net_layer_at(bd_net *net, int i);
/* A layer's name ("Conv1"; owned by its network), kind, and output shape
 * per sample (vectors: units x 1 x 1; pointers may be NULL); its trainable
 * parameters, and where its W starts in the network's parameter block (b
 * follows W; 0 for layers without parameters).
 * Errors: none (NULL layer: "", BD_LAYER_KIND_COUNT, 0s).
 * Thread-safety: safe while no thread changes the network. */
BD_API const char *bd_layer_name(const bd_layer *l);
BD_API bd_layer_kind bd_layer_kind_of(const bd_layer *l);
BD_API void bd_layer_output_shape(const bd_layer *l, int *c, int *h, int *w);
BD_API size_t bd_layer_param_count(const bd_layer *l);
BD_API size_t bd_layer_param_offset(const bd_layer *l);

/* Print a layer table like Keras's model.summary(): one row per layer with
 * its name, kind (the description-file type), output shape, parameter
 * count and details (filters, kernel, stride, pad, units, hyperparameters,
 * fused ReLUs, frozen layers), the loss, then the totals (parameters,
 * trainable, frozen, non-trainable state). Writes to f.
 * Errors: none (NULL net or f: nothing is written).
 * Thread-safety: safe for a network no other thread changes (one thread
 * per stream f). */
BD_API void bd_net_print(const bd_net *net, FILE *f);
/* Transfer learning. Freeze the first n layers (0 unfreezes): bd_net_backward
 * computes no gradient for them and an optimizer created after freezing
 * (sized from bd_net_trainable_count) updates only the later ones (the
 * parameter block is in layer order, so those are a suffix of it). An
 * optimizer created before must be created again: its step refuses a
 * changed count (BD_ERR_SHAPE).
 * Errors: BD_ERR_ARG (NULL net, n out of range: at least the last layer
 * with parameters stays trainable). Thread-safety: one thread per network. */
BD_API bd_status bd_net_freeze(bd_net *net, int n);
/* Layers frozen (0: none); the offset in the parameter block of the first
 * trainable parameter, and how many there are (the suffix after the frozen
 * layers).
 * Errors: none (0 for NULL). Thread-safety: safe while no thread changes
 * the network. */
BD_API int bd_net_frozen(const bd_net *net);
BD_API size_t bd_net_trainable_offset(const bd_net *net);
BD_API size_t bd_net_trainable_count(const bd_net *net);
/* Replace the last Affine layer by a fresh one with `outputs` units (drawn
 * with the network's init from rng); every other layer keeps its name,
 * weights and state. Layers after that Affine (if any) are initialised
 * afresh. The network is rebuilt in place (same handle; its layers,
 * parameter blocks and activation buffers are new: pointers into it die,
 * and optimizers made for it must be created again).
 * Errors: BD_ERR_ARG (NULL net or rng, not built, no Affine, the head
 * frozen, outputs < 1), BD_ERR_SHAPE, BD_ERR_NOMEM (the net unchanged).
 * Thread-safety: one thread per network. */
BD_API bd_status bd_net_replace_head(bd_net *net, int outputs, bd_rng *rng);

/* Forward x [B, in...] through every layer; *logits (may be NULL) points
 * at the output [B, out], owned by the network and valid until its next
 * forward.
 * Errors: BD_ERR_ARG (NULL net or x, not built), BD_ERR_SHAPE (x's shape,
 * or B above bd_net_max_batch).
 * Thread-safety: one thread per network (a forward writes its buffers);
 * for inference from many threads, open a bd_model. */
BD_API bd_status bd_net_forward(bd_net *net, const bd_tensor *x, const bd_tensor **logits);
/* Forward plus the loss layer; *loss (may be NULL) is the mean loss over
 * the batch. t's arrays are borrowed until the next bd_net_backward.
 * Errors: as bd_net_forward, and BD_ERR_ARG for labels with neither idx
 * nor onehot or a network opened for inference only, BD_ERR_SHAPE for a
 * class index outside the outputs.
 * Thread-safety: one thread per network. */
BD_API bd_status bd_net_loss(bd_net *net, const bd_tensor *x, bd_labels t, float *loss);
/* Backward from the loss of the last bd_net_loss; fills the gradient
 * block.
 * Errors: BD_ERR_ARG (NULL net, no loss computed, a network for inference
 * only). Thread-safety: one thread per network. */
BD_API bd_status bd_net_backward(bd_net *net);
/* bd_net_loss then bd_net_backward (the book's gradient()).
 * Errors: as those two (BD_ERR_ARG, BD_ERR_SHAPE).
 * Thread-safety: one thread per network. */
BD_API bd_status bd_net_gradient(bd_net *net, const bd_tensor *x, bd_labels t, float *loss);

/* A network described by its options (what `badak train` flags say), so the
 * library can build it again: for hyperparameter search, model files. */
typedef struct bd_net_spec {
    char model[256];         /* "two_layer" (book 5.7), "mlp" (MultiLayerNet),
                              * "simple_convnet", "deep_convnet", "resnet", or the
                              * path of a network description (.ini) */
    int hidden[32];          /* hidden layer sizes */
    int nhidden;             /* 0: the model's default (two_layer 50; mlp 100 x 5) */
    bd_layer_kind act;       /* activation after each hidden Affine (ReLU) */
    float act_p0, act_p1;    /* its hyperparameters (0: the kind's defaults) */
    bd_init init;
    int init_set;            /* 0: the model's default init: two_layer std 0.01;
                              * mlp He for ReLU-like, Xavier for sigmoid/tanh */
    int batchnorm;           /* BatchNorm after each hidden Affine, before the
                              * activation (book 6.3, MultiLayerNetExtend) */
    float bn_momentum;       /* 0: 0.9 */
    float dropout;           /* Dropout with this p after each hidden activation */
    bd_loss_kind loss;       /* SoftmaxWithLoss by default */
    float weight_decay;      /* L2 lambda (book 6.4.1) */
    float l1;                /* L1 lambda */
} bd_net_spec;

/* Fill s with the defaults (two_layer, ReLU, SoftmaxWithLoss).
 * Errors: none (NULL: no-op). Thread-safety: safe on different specs. */
BD_API void bd_net_spec_default(bd_net_spec *s);

/* The constructors below all work alike: *out gets a new, built network
 * (weights drawn from rng, which advances; training mode) that the caller
 * frees with bd_net_free, or NULL on failure with the reason in
 * bd_errmsg(). They keep no pointer to their arguments. */

/* The network of spec s for samples of shape c x h x w and `classes`
 * classes (one output unit for BD_LOSS_SIGMOID_BCE); s->model may be the
 * path of a network description, read as bd_net_load_ini does.
 * Errors: BD_ERR_ARG (out, s or rng NULL, an unknown model, a value
 * refused, naming it), BD_ERR_SHAPE (the input too small for a layer),
 * BD_ERR_IO and BD_ERR_FORMAT (a description file), BD_ERR_NOMEM.
 * Thread-safety: safe (each call its own rng). */
BD_API bd_status bd_net_from_spec(bd_net **out, const bd_net_spec *s, int c, int h, int w,
                                  int classes, bd_rng *rng);
/* Parse "relu", "sigmoid", "tanh", "leaky_relu[:slope]", "prelu[:a0]",
 * "rrelu[:lo,hi]", "elu[:alpha]" into a kind and its hyperparameters
 * (p0, p1 may be NULL).
 * Errors: BD_ERR_ARG (s or kind NULL, an unknown name or a bad number,
 * naming it). Thread-safety: safe. */
BD_API bd_status bd_parse_act(const char *s, bd_layer_kind *kind, float *p0, float *p1);
/* "softmax_ce" (or "ce"), "mse", "mae", "huber", "bce" (sigmoid + binary
 * CE), "bce_multi" (or "multilabel") -> *loss; any case.
 * Errors: BD_ERR_ARG (NULL, an unknown name). Thread-safety: safe. */
BD_API bd_status bd_parse_loss(const char *s, bd_loss_kind *loss);
/* The name of a loss kind ("SoftmaxWithLoss"; static string, "?" for an
 * unknown value). Errors: none. Thread-safety: safe. */
BD_API const char *bd_loss_kind_name(bd_loss_kind k);

/* Presets. two_layer: Affine-ReLU-Affine-SoftmaxWithLoss (book 5.7), `in`
 * inputs, `outputs` classes.
 * Errors: BD_ERR_ARG (out or rng NULL, a size < 1, init.std not > 0),
 * BD_ERR_SHAPE, BD_ERR_NOMEM. Thread-safety: safe (each call its own rng). */
BD_API bd_status bd_net_two_layer(bd_net **out, int in, int hidden, int outputs,
                                  bd_init init, bd_rng *rng);
/* mlp: (Affine-act) x nhidden, Affine, SoftmaxWithLoss (book's
 * MultiLayerNet); hidden [nhidden] is read only.
 * Errors: BD_ERR_ARG (out, hidden or rng NULL, nhidden out of range, a
 * size < 1, act not an activation), BD_ERR_SHAPE, BD_ERR_NOMEM.
 * Thread-safety: safe (each call its own rng). */
BD_API bd_status bd_net_mlp(bd_net **out, int in, const int *hidden, int nhidden,
                            int outputs, bd_layer_kind act, bd_init init, bd_rng *rng);

/* The convolutional presets (book ch. 7-8), for c x h x w images:
 * simple_convnet: Conv 30 5x5 - ReLU - MaxPool 2 - Affine 100 - ReLU - Affine
 *   (book 7.5 SimpleConvNet); deep_convnet: the book's 8.1 DeepConvNet (six 3x3
 *   convolutions 16,16,32,32,64,64 with ReLU and three 2x2 max pools, Affine 50,
 *   ReLU, Dropout 0.5, Affine); resnet: a small ResNet (docs/architecture.md).
 * Weights start as the book's: N(0, 0.01²) for simple_convnet, He's for the
 * others (bd_net_init_weights re-draws them with another init).
 * Errors: BD_ERR_ARG (out or rng NULL, classes < 1), BD_ERR_SHAPE (the
 * image too small for the layers), BD_ERR_NOMEM.
 * Thread-safety: safe (each call its own rng). */
BD_API bd_status bd_net_simple_convnet(bd_net **out, int c, int h, int w, int classes, bd_rng *rng);
BD_API bd_status bd_net_deep_convnet(bd_net **out, int c, int h, int w, int classes, bd_rng *rng);
BD_API bd_status bd_net_resnet(bd_net **out, int c, int h, int w, int classes, bd_rng *rng);

/* Network description files: INI text, one section per layer, in order:
 *
 *   [net]                ; optional: input = 1x28x28, loss = softmax_ce, init = he
 *   [conv1]              ; a section per layer, named as you like (unique)
 *   type = conv          ; conv|maxpool|avgpool|gap|flatten|affine|relu|...
 *   filters = 30         ; (units = for affine; channels = for resblock)
 *   kernel = 5           ; stride =, pad =, p = (dropout), momentum =, slope = ...
 *
 * bd_net_from_ini parses `text` (origin names it in messages: "net.ini:7:
 * conv1: kernel 0 must be >= 1") and builds the network for samples of shape
 * c x h x w (the file's input shape, if it gives one, must agree; pass 0s to
 * take the file's) and `classes` outputs (0: whatever the file says; else the
 * last layer must give exactly that many).
 * Errors: BD_ERR_ARG (out, text or rng NULL), BD_ERR_FORMAT (the text:
 * syntax, an unknown type or key, a value refused, naming line and
 * section), BD_ERR_SHAPE (a layer that does not fit its input, the input
 * or class count disagreeing with the file's), BD_ERR_NOMEM.
 * Thread-safety: safe (each call its own rng). */
BD_API bd_status bd_net_from_ini(bd_net **out, const char *text, const char *origin, int c, int h,
                                 int w, int classes, bd_rng *rng);
/* "784", "28x28" or "1x28x28" (also with commas) -> c, h, w (missing
 * leading sides are 1); every side 1 .. 2^20.
 * Errors: BD_ERR_ARG (NULL, not such a shape, a side out of range),
 * BD_ERR_SHAPE (more than BD_MAX_ELEMENTS in all). Thread-safety: safe. */
BD_API bd_status bd_parse_shape(const char *s, int *c, int *h, int *w);
/* Read the file at path, then bd_net_from_ini (origin: path).
 * Errors: as bd_net_from_ini, and BD_ERR_IO (the file missing, unreadable
 * or not a regular file). Thread-safety: safe (each call its own rng). */
BD_API bd_status bd_net_load_ini(bd_net **out, const char *path, int c, int h, int w, int classes,
                                 bd_rng *rng);
/* The architecture of a network as INI text that bd_net_from_ini reads back
 * into the same network (every hyperparameter written out). *text is
 * malloc'd; the caller frees it (NULL on failure).
 * Errors: BD_ERR_ARG (NULL, a layer kind with no description type),
 * BD_ERR_NOMEM. Thread-safety: safe while no thread changes the network. */
BD_API bd_status bd_net_to_ini(const bd_net *net, char **text);

/* The kernels the layers use (process-wide; the name is copied), and the
 * name of those in use (static string).
 * Kernels: "fast" (the default) takes a layer's faster path where it has
 * one (stride-1 unpadded convolutions: wide columns, src/layers/conv_wide.c;
 * a 2x2 max-pool after such a conv + ReLU fused into it, conv_pool.c),
 * with AVX-512 intrinsics where the CPU has them; "portable" is the same
 * paths in plain C only (the same bits as "fast"); "reference" runs the
 * book's im2col + GEMM everywhere, the kernels a learner reads and the
 * tests compare the fast ones with. The environment variable BADAK_KERNELS
 * selects one too. All are reproducible; fast and reference differ by
 * rounding.
 * Errors: bd_set_kernels: BD_ERR_ARG (NULL, an unknown name); bd_kernels:
 * none. Thread-safety: bd_set_kernels not while another thread is inside
 * the library; bd_kernels safe while nobody sets them. */
BD_API bd_status bd_set_kernels(const char *name);
BD_API const char *bd_kernels(void);

/* The [train] section of a network description (src/net/netfile_train.c):
 * the training options that make one file a whole experiment, e.g.
 *   [train]
 *   optimizer = adam
 *   lr = 0.003
 *   lr-schedule = onecycle
 *   epochs = 3
 * Keys are the long options of `badak train` without their dashes ('_' may
 * stand for '-'): optimizer lr momentum beta1 beta2 decay eps lr-schedule
 * lr-step lr-gamma warmup batch epochs iters sampling seed augment
 * weight-decay l1 patience val-split no-train-acc; each at
 * most once. bd_net_from_ini skips the section. bd_net_train_options lists
 * its keys (normalised to '-') and values in file order: *n of at most max;
 * values are checked by whoever applies them (the CLI, as if given as
 * options before the command line's own). */
typedef struct bd_train_option {
    char key[24];
    char val[232];
    int line;             /* in the text, 1-based */
} bd_train_option;
#define BD_TRAIN_OPTIONS_MAX 32
/* The [train] options of the description `text` (origin names it in
 * messages) into out [max]; *n of them (0 without a [train] section).
 * Errors: BD_ERR_ARG (text, out or n NULL), BD_ERR_FORMAT (a line not
 * key = value, an unknown or repeated key, a second [train], more than max
 * options, naming the line). Thread-safety: safe. */
BD_API bd_status bd_net_train_options(const char *text, const char *origin, bd_train_option *out,
                                      int max, int *n);
/* The same, from the file at path (no [train] section: *n = 0).
 * Errors: as bd_net_train_options, and BD_ERR_IO (missing, unreadable, not
 * a regular file), BD_ERR_FORMAT (larger than 1 MiB, a NUL byte),
 * BD_ERR_NOMEM. Thread-safety: safe. */
BD_API bd_status bd_net_load_train_options(const char *path, bd_train_option *out, int max, int *n);

/* Parse an activation name (as bd_parse_act, hyperparameters dropped)
 * -> kind; "std=0.01", "0.01", "xavier", "he" -> init.
 * Errors: BD_ERR_ARG (NULL, an unknown name or a bad number, naming s).
 * Thread-safety: safe. */
BD_API bd_status bd_parse_activation(const char *s, bd_layer_kind *kind);
BD_API bd_status bd_parse_init(const char *s, bd_init *init);
/* The name of a kind in layer names and messages ("Affine", "GlobalAvgPool";
 * "?" for no kind). Static string.
 * Errors: none. Thread-safety: safe. */
BD_API const char *bd_layer_kind_name(bd_layer_kind k);
/* The kind named s, case-insensitively: its network-description type
 * ("affine", "gap", "leaky_relu") or its name ("GlobalAvgPool",
 * "LeakyRelu").
 * Errors: BD_ERR_ARG (NULL, no kind of that name, naming s).
 * Thread-safety: safe. */
BD_API bd_status bd_parse_layer_kind(const char *s, bd_layer_kind *kind);

/* ------------------------------------------------------------- optimizers */

typedef struct bd_optim bd_optim;

/* Hyperparameters; 0 means "the optimizer's default". */
typedef struct bd_optim_config {
    float lr;
    float momentum;
    float beta1, beta2;
    float eps;
    float decay;
} bd_optim_config;

/* An optimizer: the update rule of one network's trainable parameters,
 * with its per-parameter state (velocity, moments). Opaque; sized from the
 * network it is created for. */
typedef struct bd_optim bd_optim;

/* Create the optimizer named `name` ("sgd", "momentum", "nesterov",
 * "adagrad", "rmsprop", "adam": bd_optim_names; any case) with cfg (copied;
 * NULL: every default) for net's trainable parameters (bd_net_trainable_count:
 * net must be built, and frozen first if layers are to be frozen). *out is
 * NULL on failure; the caller frees it with bd_optim_free. It keeps no
 * pointer to net: bd_optim_step is given the network each time.
 * Errors: BD_ERR_ARG (out, name or net NULL, an unknown name, a network not
 * built or with nothing to train, a hyperparameter out of range: "adam:
 * config.beta1 = 1.5 must be in [0, 1)"), BD_ERR_NOMEM.
 * Thread-safety: safe while no thread changes net (it is only read). */
BD_API bd_status bd_optim_create(bd_optim **out, const char *name, const bd_optim_config *cfg,
                                 const bd_net *net);
/* Check name and cfg as bd_optim_create does, creating nothing: to
 * validate options before the network exists.
 * Errors: BD_ERR_ARG (name NULL, an unknown name, a hyperparameter out of
 * range). Thread-safety: safe. */
BD_API bd_status bd_optim_check(const char *name, const bd_optim_config *cfg);
/* One update of the network's trainable parameters (the suffix after the
 * frozen layers) from its gradient block. Fails with BD_ERR_SHAPE, changing
 * nothing, when the network's trainable count is not the one the optimizer
 * was created for (the network was rebuilt, frozen or replaced since).
 * Errors: BD_ERR_ARG (NULL), BD_ERR_SHAPE (the count, as above).
 * Thread-safety: one thread at a time per optimizer and network (the
 * update itself is split over the thread pool). */
BD_API bd_status bd_optim_step(bd_optim *o, bd_net *net);
/* Release the optimizer and its state.
 * Errors: none (NULL: no-op). Thread-safety: not while another thread
 * uses it. */
BD_API void bd_optim_free(bd_optim *o);
/* The optimizer's name ("adam"; "" for NULL), its hyperparameters as in
 * use (defaults filled in; owned by o; NULL for NULL), the parameters it
 * updates and the steps it has taken (0 for NULL).
 * Errors: none. Thread-safety: safe while no thread changes o. */
BD_API const char *bd_optim_name(const bd_optim *o);
BD_API const bd_optim_config *bd_optim_get_config(const bd_optim *o);
BD_API size_t bd_optim_size(const bd_optim *o);
BD_API long bd_optim_steps(const bd_optim *o);
/* Change the learning rate (a schedule of one's own loop).
 * Errors: BD_ERR_ARG (NULL, lr not > 0 and finite).
 * Thread-safety: one thread per optimizer. */
BD_API bd_status bd_optim_set_lr(bd_optim *o, float lr);
/* Names of the known optimizers, NULL-terminated (a static list).
 * Errors: none. Thread-safety: safe. */
BD_API const char *const *bd_optim_names(void);

/* ------------------------------------------------------------------- data */

/* An IDX file (the MNIST format): magic 0x00 0x00 type ndim, then ndim
 * big-endian uint32 sizes, then the data. Only unsigned bytes (type 0x08)
 * are kept as they are; other types are read into float32. */
typedef struct bd_idx {
    int ndim;
    int dims[BD_MAXDIM];
    bd_tensor t;             /* BD_U8 for type 0x08, else BD_F32 */
} bd_idx;

/* Read an IDX file, plain or gzip-compressed (zlib). Validates the magic, the
 * dimensions and that the data is exactly as long as they say. *out owns
 * its tensor: free it with bd_idx_free (which accepts NULL).
 * Errors: BD_ERR_ARG (NULL, an empty path), BD_ERR_IO (missing, unreadable,
 * not a regular file), BD_ERR_FORMAT (bad magic or type, truncated, extra
 * bytes, naming the file), BD_ERR_SHAPE (sizes beyond BD_MAX_ELEMENTS),
 * BD_ERR_NOMEM. Thread-safety: safe (on different outputs). */
BD_API bd_status bd_idx_read(const char *path, bd_idx *out);
BD_API void bd_idx_free(bd_idx *idx);

#define BD_NORM_MAXC 16     /* channels per-channel normalisation handles */
#define BD_MAX_TARGETS 64   /* target columns of regression / multi-label */

/* What a data set's labels are. */
typedef enum bd_task {
    BD_TASK_CLASSIFY = 0, /* y: one class index per sample */
    BD_TASK_REGRESS,      /* t: K real targets per sample (linear outputs, MSE) */
    BD_TASK_MULTILABEL    /* t: K 0/1 flags per sample (K sigmoids, BCE) */
} bd_task;
#define BD_CLASSES_LEN 2048 /* bytes of class names a data set / model keeps */

/* A labelled data set. x holds N samples, either raw bytes (BD_U8, scaled by
 * `scale` when gathered into a float batch: MNIST uses 1/255 to normalise to
 * [0,1]) or floats (BD_F32, scale 1). y holds N int32 class indices. The
 * loaders and bd_dataset_from_arrays fill every field; a set filled by hand
 * must set scale > 0 (gathering refuses scale 0 with BD_ERR_ARG rather than
 * train on zeros). A data set is a plain value owning its tensors: one
 * thread changes it at a time, any number may read it. */
typedef struct bd_dataset {
    bd_tensor x;   /* [N, C, H, W] or [N, D] */
    bd_tensor y;   /* [N] int32 */
    int n;
    int c, h, w;   /* one sample's shape; D = c*h*w */
    int nclasses;
    float scale;
    char name[64];
    /* per-channel normalisation of gathered batches (bd_dataset_set_norm):
     * x = (byte * scale - norm_mean[c]) / norm_std[c]; norm 0: none */
    int norm;
    float norm_mean[BD_NORM_MAXC], norm_std[BD_NORM_MAXC];
    char classes[BD_CLASSES_LEN]; /* class names, one per line ("" unknown) */
    /* regression / multi-label (task != BD_TASK_CLASSIFY): t [N, K] float
     * targets, K = nclasses (the network's outputs); y is then all 0 */
    bd_task task;
    bd_tensor t;
    /* regression: t was standardised, t = (target - t_mean) / t_std */
    int t_standardized;
    float t_mean[BD_MAX_TARGETS], t_std[BD_MAX_TARGETS];
} bd_dataset;

/* A data set from the caller's memory: n samples x [n, c, h, w] floats
 * (shape = {c, h, w}; {1, 1, D} for vectors), as the network takes them,
 * and their class indices y [n], each in [0, classes) (classes 0: the
 * largest label + 1). Both arrays are COPIED: the set owns its tensors
 * (free it with bd_dataset_free) and the caller may free or reuse x and y
 * at once. The set has scale 1 (floats are used as given), name "arrays",
 * task BD_TASK_CLASSIFY; x is [n, D] for vectors, [n, c, h, w] otherwise.
 * *out is zeroed first.
 * Errors: BD_ERR_ARG (NULL, n < 1, a label out of range or a non-finite
 * input, naming its index), BD_ERR_SHAPE (a side < 1, more than
 * BD_MAX_ELEMENTS values), BD_ERR_NOMEM.
 * Thread-safety: safe (x and y are only read). */
BD_API bd_status bd_dataset_from_arrays(const float *x, const int32_t *y, int n, const int shape[3],
                                        int classes, bd_dataset *out);

/* MNIST-style folder: train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each plain or .gz.
 * Checks that image and label counts agree and labels are < 10. train and
 * test are zeroed first, so bd_dataset_free is safe on them after a failure;
 * the caller frees both.
 * Errors: BD_ERR_ARG (NULL, an empty dir), BD_ERR_IO (dir or a file
 * missing, dir not a folder), BD_ERR_FORMAT (a bad file, naming it),
 * BD_ERR_NOMEM. Thread-safety: safe (on different outputs). */
BD_API bd_status bd_mnist_load(const char *dir, bd_dataset *train, bd_dataset *test);
/* Resolve a data name: "mnist", "fashion" or a folder path, into the folder
 * to read (dir [len]). Named sets are looked up in $BADAK_DATA, then
 * ./data/<name>; any other name is a folder path.
 * Errors: BD_ERR_ARG (NULL, an empty name, len too small), BD_ERR_IO (no
 * such folder, or not a folder). Thread-safety: safe while nobody changes
 * the environment (it reads $BADAK_DATA). */
BD_API bd_status bd_data_dir(const char *name, char *dir, size_t len);

/* CSV of numbers, one sample a row. label_col is the column holding the
 * class index (negative counts from the end: -1 is the last column). A first
 * row that is not numeric is taken as a header. *out (zeroed first) is the
 * caller's to free.
 * Errors: BD_ERR_ARG (NULL, label_col out of range), BD_ERR_IO (missing,
 * unreadable, not a regular file), BD_ERR_FORMAT (naming the file, line and
 * column), BD_ERR_SHAPE (too many values), BD_ERR_NOMEM.
 * Thread-safety: safe (on different outputs). */
BD_API bd_status bd_csv_load(const char *path, int label_col, bd_dataset *out);
/* The classes of ds's labels (src/data/classes.c). classes > 0: every
 * label must be below it, and ds->nclasses becomes it; 0: the labels' own
 * count (0..max, which ds->nclasses becomes), refused when the largest
 * label is far beyond the others -- more than half of 0..max never appear.
 * The number of distinct labels goes to *distinct (may be NULL).
 * Errors: BD_ERR_ARG (ds NULL), BD_ERR_FORMAT (a label as above),
 * BD_ERR_NOMEM. Thread-safety: one thread per data set. */
BD_API bd_status bd_dataset_classes(bd_dataset *ds, int classes, int *distinct);
/* Keep the first n samples (the book's train_size).
 * Errors: BD_ERR_ARG (ds NULL, n not in 1..ds->n).
 * Thread-safety: one thread per data set. */
BD_API bd_status bd_dataset_truncate(bd_dataset *ds, int n);
/* Split off a shuffled fraction `frac` of ds into `part` (ds keeps the rest;
 * part owns its tensors: free it with bd_dataset_free). rng advances.
 * Errors: BD_ERR_ARG (NULL, frac not in (0, 1), a part that would be
 * empty), BD_ERR_NOMEM. Thread-safety: one thread per data set and rng. */
BD_API bd_status bd_dataset_split(bd_dataset *ds, float frac, bd_rng *rng, bd_dataset *part);
/* Copy samples idx[0..n) into a float batch xb [n, D...] (scaled, and
 * normalised if the set has a normalisation) and labels yb [n] (may be
 * NULL); the tensors are the caller's, reshaped within their capacity.
 * Errors: BD_ERR_ARG (NULL ds, idx or xb, n < 1, an index out of range,
 * scale not > 0, a tensor of the wrong dtype), BD_ERR_SHAPE (n beyond the
 * tensors' capacity).
 * Thread-safety: safe on one data set (it is only read), each thread with
 * its own xb, yb. */
BD_API bd_status bd_dataset_gather(const bd_dataset *ds, const int32_t *idx, int n,
                                   bd_tensor *xb, bd_tensor *yb);
/* Copy the contiguous samples [start, start+n), as bd_dataset_gather.
 * Errors: as bd_dataset_gather (BD_ERR_ARG for a range beyond the set).
 * Thread-safety: as bd_dataset_gather. */
BD_API bd_status bd_dataset_slice(const bd_dataset *ds, int start, int n,
                                  bd_tensor *xb, bd_tensor *yb);
/* Release the set's tensors and zero it.
 * Errors: none (NULL: no-op). Thread-safety: one thread per data set. */
BD_API void bd_dataset_free(bd_dataset *ds);

/* ------------------------------------ colour data sets, normalisation (data) */

/* CIFAR binary version (https://www.cs.toronto.edu/~kriz/cifar.html) from
 * folder dir; kind "cifar10" (data_batch_1..5.bin, test_batch.bin,
 * batches.meta.txt), "cifar100" (train.bin, test.bin, the fine labels and
 * fine_label_names.txt) or "cifar100-coarse" (the 20 coarse labels).
 * x BD_U8 [N, 3, 32, 32], scale 1/255; class names in ds->classes when the
 * names file is there. A file that is not whole records, or a label out of
 * range, fails with BD_ERR_FORMAT naming the file and the record. */
/* Seed 002's networks for colour images (src/net/convnets.c): tobigs_cnn, its
 * CNN (two blocks of 5x5 conv 16/32 + BatchNorm2d + LeakyReLU twice, max
 * pool; Linear), and resnet18, its ResNet(ConvBlock, [2, 2, 2, 2]) for 32x32
 * input (stem conv 64 3x3, four stages of two residual blocks 64..512,
 * average pool 4, Linear). They work as the other constructors (*out
 * freed with bd_net_free, NULL on failure).
 * Errors: BD_ERR_ARG (out or rng NULL, classes < 1), BD_ERR_SHAPE (the
 * image too small), BD_ERR_NOMEM. Thread-safety: safe (each call its own
 * rng). */
BD_API bd_status bd_net_tobigs_cnn(bd_net **out, int c, int h, int w, int classes, bd_rng *rng);
BD_API bd_status bd_net_resnet18(bd_net **out, int c, int h, int w, int classes, bd_rng *rng);

/* The CIFAR loader described above: train and test are zeroed first and
 * are the caller's to free.
 * Errors: BD_ERR_ARG (NULL, an unknown kind, an empty or too long folder
 * path), BD_ERR_IO (a file missing or unreadable), BD_ERR_FORMAT (not
 * whole records, a label out of range, naming file and record),
 * BD_ERR_NOMEM. Thread-safety: safe (on different outputs). */
BD_API bd_status bd_cifar_load(const char *kind, const char *dir, bd_dataset *train,
                               bd_dataset *test);
/* Mean and standard deviation of each channel over every sample and pixel
 * of ds (after its scale), as batches are gathered without normalisation.
 * mean, std [ds->c]; ds->c <= BD_NORM_MAXC.
 * Errors: BD_ERR_ARG (NULL, no samples, more than BD_NORM_MAXC channels).
 * Thread-safety: safe while no thread changes ds. */
BD_API bd_status bd_dataset_channel_stats(const bd_dataset *ds, float *mean, float *std);
/* Normalise ds's gathered batches per channel: (x - mean[c]) / std[c].
 * mean, std [ds->c] (std > 0) are copied; NULL mean turns it off.
 * Errors: BD_ERR_ARG (ds NULL, std NULL with a mean, more than
 * BD_NORM_MAXC channels, a std not > 0 or a value not finite).
 * Thread-safety: one thread per data set. */
BD_API bd_status bd_dataset_set_norm(bd_dataset *ds, const float *mean, const float *std);
/* The i-th (0-based) line of a newline-separated class list into buf; ""
 * when there is none (classes NULL, i out of range). Returns buf (NULL buf
 * or len 0: nothing written).
 * Errors: none. Thread-safety: safe. */
BD_API const char *bd_class_name(const char *classes, int i, char *buf, size_t len);

/* Regression and multi-label data (src/data/csv_targets.c). Parse a column
 * list "3,4", "-2..-1" or "4..6" (0-based; negative from the end) into cols
 * (at most max); *n of them.
 * Errors: BD_ERR_ARG (NULL, an empty list, a bad number or range, more
 * than max, naming s). Thread-safety: safe. */
BD_API bd_status bd_parse_columns(const char *s, int *cols, int max, int *n);
/* A CSV whose k columns cols[] are targets (task BD_TASK_REGRESS: real
 * numbers; BD_TASK_MULTILABEL: 0 or 1), the other columns features:
 * x [N, D], t [N, k], y zeros, nclasses = k. *out (zeroed first) is the
 * caller's to free.
 * Errors: BD_ERR_ARG (NULL, k out of range, a column out of range or given
 * twice, no feature left), BD_ERR_IO (missing, unreadable, not a regular
 * file: a FIFO is refused, never waited on), BD_ERR_FORMAT (a
 * value that is not a number or not 0/1, naming file, line and column),
 * BD_ERR_NOMEM. Thread-safety: safe (on different outputs). */
BD_API bd_status bd_csv_load_targets(const char *path, const int *cols, int k, bd_task task,
                                     bd_dataset *out);
/* Standardise ds's targets column by column: with mean NULL, from ds's own
 * mean and std (written to ds->t_mean / t_std); else with the given ones
 * (the training set's, for a test set). A constant column gets std 1.
 * Errors: BD_ERR_ARG (ds NULL, no targets, more than BD_MAX_TARGETS).
 * Thread-safety: one thread per data set. */
BD_API bd_status bd_dataset_standardize_targets(bd_dataset *ds, const float *mean, const float *std);
/* Class imbalance (src/data/class_balance.c). Samples per class: counts
 * [ds->nclasses].
 * Errors: BD_ERR_ARG (NULL). Thread-safety: safe while no thread changes ds. */
BD_API bd_status bd_class_counts(const bd_dataset *ds, long *counts);
/* Inverse-frequency weights w_c = N / (K n_c) over the K classes present
 * (a class of the average size weighs 1; an absent class 0). w [nclasses]
 * Errors: BD_ERR_ARG (NULL), BD_ERR_NOMEM.
 * Thread-safety: safe while no thread changes ds. */
BD_API bd_status bd_class_weights(const bd_dataset *ds, float *w);
/* Keep a seeded fraction frac of the samples of every class c with
 * keep[c] != 0 (the others all): to make an imbalanced set from a balanced
 * one. keep [ds->nclasses]; rng advances.
 * Errors: BD_ERR_ARG (NULL, frac not in (0, 1], a set that is not one of
 * class labels). Thread-safety: one thread per data set and rng. */
BD_API bd_status bd_dataset_thin_classes(bd_dataset *ds, const uint8_t *keep, float frac, bd_rng *rng);

/* Image folders (src/data/imagefolder.c), torchvision's ImageFolder layout:
 * DIR/<class>/ of .png, .pgm, .ppm, .jpg files, split into train and test by a
 * seeded fraction test_split, or DIR/train/<class>/ and DIR/test/<class>/
 * as given. Classes are the sorted folder names (kept in ds->classes); each
 * image is resized to H x W with C = 3 (R, G, B) or 1 (their mean) channels
 * and kept as bytes (x BD_U8 [N, C, H, W], scale 1/255). train and test
 * are the caller's to free.
 * Errors: BD_ERR_ARG (NULL, C not 1 or 3, a side out of 1..4096),
 * BD_ERR_IO (the folder or an image unreadable, a class folder missing from
 * a part), BD_ERR_FORMAT (no classes, a class without images, a bad image,
 * naming it), BD_ERR_NOMEM. Thread-safety: safe (on different outputs). */
BD_API bd_status bd_imagefolder_load(const char *dir, int C, int H, int W, float test_split,
                                     uint64_t seed, bd_dataset *train, bd_dataset *test);

/* Metrics of a trained network over a whole set (src/train/metrics.c).
 * Regression, in the targets' own units (standardisation undone): */
typedef struct bd_regress_metrics_t {
    int k;                        /* targets */
    float rmse, mae, r2;          /* over every target (R²: their mean) */
    float rmse_k[BD_MAX_TARGETS], mae_k[BD_MAX_TARGETS], r2_k[BD_MAX_TARGETS];
} bd_regress_metrics_t;
/* The metrics below run the network over ds in evaluation mode (restored
 * after), in chunks of its reserved rows, into the caller's *m / matrix.
 * Errors: BD_ERR_ARG (NULL, a data set of another task, a threshold not in
 * (0, 1)), BD_ERR_SHAPE (targets, labels or classes vs the network's
 * outputs), BD_ERR_NOMEM. Thread-safety: one thread per network. */
BD_API bd_status bd_regress_metrics(bd_net *net, const bd_dataset *ds, bd_regress_metrics_t *m);
/* Multi-label: output k is predicted 1 when sigmoid(z_k) > threshold. */
typedef struct bd_multilabel_metrics_t {
    int k;                        /* labels */
    float precision[BD_MAX_TARGETS], recall[BD_MAX_TARGETS], f1[BD_MAX_TARGETS];
    float exact_match;            /* samples with every label right */
    float f1_macro;               /* mean F1 over the labels */
} bd_multilabel_metrics_t;
/* Multi-label metrics at threshold (as above).
 * Errors: as bd_regress_metrics (BD_ERR_ARG, BD_ERR_SHAPE, BD_ERR_NOMEM).
 * Thread-safety: one thread per network. */
BD_API bd_status bd_multilabel_metrics(bd_net *net, const bd_dataset *ds, float threshold,
                                       bd_multilabel_metrics_t *m);
/* Classification: matrix [classes, classes], row = true class, column =
 * predicted (argmax; one output unit: logit > 0). classes must be the
 * network's (2 for one output unit).
 * Errors: as bd_regress_metrics (BD_ERR_ARG, BD_ERR_SHAPE, BD_ERR_NOMEM).
 * Thread-safety: one thread per network. */
BD_API bd_status bd_confusion(bd_net *net, const bd_dataset *ds, long *matrix, int classes);

/* ------------------------------------------------------- data augmentation */

/* Random, label-preserving changes to training images [B, C, H, W], drawn
 * from a bd_rng so that a seed gives the same batches. Used by bd_train on
 * the gathered training batch only, never on evaluation. Per sample, in this
 * order: rotation, shift, flip; each enabled one draws from the PRNG. */
enum {
    BD_AUG_SHIFT = 1,  /* shift by (dy, dx) uniform in [-max_shift, max_shift]^2,
                        * zero fill: pad-and-random-crop */
    BD_AUG_FLIP = 2,   /* mirror the columns with probability flip_p; meant for
                        * Fashion-MNIST, not for digits (a mirrored 2 is no 2) */
    BD_AUG_ROTATE = 4  /* rotate by an angle uniform in [-max_degrees,
                        * max_degrees] about the centre, bilinear, zero fill */
};

typedef struct bd_augment {
    unsigned flags;       /* BD_AUG_* bits; 0: nothing is done */
    int max_shift;        /* pixels (default 2) */
    float max_degrees;    /* degrees (default 10) */
    float flip_p;         /* probability of a flip (default 0.5) */
} bd_augment;

/* flags 0, the default parameters.
 * Errors: none (NULL: no-op). Thread-safety: safe on different a. */
BD_API void bd_augment_default(bd_augment *a);
/* Parse a comma-separated list: "shift[:PIXELS]", "flip[:P]",
 * "rotate[:DEGREES]", or "none", e.g. "shift:3,rotate:15". Starts from
 * bd_augment_default.
 * Errors: BD_ERR_ARG (NULL, a bad token or value, naming it).
 * Thread-safety: safe on different a. */
BD_API bd_status bd_parse_augment(const char *s, bd_augment *a);
/* "shift:2,rotate:10" (or "none", also for a NULL a) into buf; returns buf
 * (NULL buf or len 0: nothing written).
 * Errors: none. Thread-safety: safe. */
BD_API const char *bd_augment_str(const bd_augment *a, char *buf, size_t len);
/* Check a's parameters against images of C x H x W (shift smaller than the
 * image, angle at most 180, probability in [0, 1]).
 * Errors: BD_ERR_ARG (a NULL, unknown flags, a value out of range, an image
 * too small to augment), BD_ERR_SHAPE (a side < 1). Thread-safety: safe. */
BD_API bd_status bd_augment_check(const bd_augment *a, int C, int H, int W);
/* Floats of scratch bd_augment_batch needs for images of C x H x W.
 * Errors: none. Thread-safety: safe. */
BD_API size_t bd_augment_scratch_size(int C, int H, int W);
/* Augment a batch in place.  x [B, C, H, W]; scratch [C*H*W]; rng advances.
 * Allocates nothing.
 * Errors: BD_ERR_ARG (NULL, and as bd_augment_check), BD_ERR_SHAPE (as
 * bd_augment_check). Thread-safety: safe on disjoint x, scratch and rng. */
BD_API bd_status bd_augment_batch(const bd_augment *a, float *x, int B, int C, int H, int W,
                                  float *scratch, bd_rng *rng);
/* The deterministic kernels, one sample each (also for tests):
 * y[c][i][j] = x[c][i-dy][j-dx], 0 outside.   x [C,H,W] -> y [C,H,W]
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_augment_shift(float *y, const float *x, int C, int H, int W, int dy, int dx);
/* Mirror the columns of every channel in place.  x [C,H,W]
 * Errors: none (no checks). Thread-safety: safe on disjoint x. */
BD_API void bd_augment_flip(float *x, int C, int H, int W);
/* Rotate counterclockwise (as the image is seen, row 0 at the top) by
 * `degrees` about the centre ((H-1)/2, (W-1)/2), bilinear, 0 outside.
 * x [C,H,W] -> y [C,H,W]; y and x must not overlap.
 * Errors: none (no checks). Thread-safety: safe on disjoint outputs. */
BD_API void bd_augment_rotate(float *y, const float *x, int C, int H, int W, float degrees);

/* ------------------------------------------------------------------ images */

/* A grayscale image, row-major, values in [0, 1] (0 black, 1 white). */
typedef struct bd_image {
    int w, h;
    float *px;            /* [h, w], owned; free with bd_image_free */
    int c;                /* 0: gray as above; 3: colour planes px [3, h, w]
                           * (bd_image_load_color) */
} bd_image;

#define BD_IMAGE_MAX_SIDE 16384            /* pixels per side a loader accepts */
#define BD_IMAGE_MAX_PIXELS (1L << 26)     /* and in all (64 Mpx: 256 MB of floats) */

/* A zero (black) image of w x h (img->px owned: free with bd_image_free,
 * which accepts NULL and zeroes img).
 * Errors: BD_ERR_ARG (img NULL, a size beyond the caps above),
 * BD_ERR_NOMEM. Thread-safety: safe on different images. */
BD_API bd_status bd_image_alloc(bd_image *img, int w, int h);
BD_API void bd_image_free(bd_image *img);
/* Read a PNG (libpng: any colour type and bit depth; palette, gray, RGB,
 * alpha composited over white, 16-bit kept to 16 bits; gamma ignored) or a
 * PNM (PGM P2/P5, PPM P3/P6, maxval up to 65535), chosen by the file's first
 * bytes. Colour becomes gray as 0.299 R + 0.587 G + 0.114 B (ITU-R 601).
 * Every size is checked against the caps above before anything is
 * allocated; malformed files fail with BD_ERR_FORMAT naming the file and
 * the problem ("x.pgm: truncated pixel data (got 100 of 784 bytes)").
 * *out is the caller's to free (bd_image_free).
 * Errors: BD_ERR_ARG (NULL), BD_ERR_IO (missing, unreadable, not a regular
 * file), BD_ERR_FORMAT (as above; a size beyond the caps), BD_ERR_NOMEM.
 * Thread-safety: safe (on different outputs). */
BD_API bd_status bd_image_load(const char *path, bd_image *out);
/* Read a PNG, JPEG (libjpeg) or PGM/PPM keeping its colour: img->c = 3,
 * px [3, h, w] in [0, 1], the R, G, B planes (gray images give three equal
 * planes; PNG alpha is composited over white). Sizes are checked against
 * the caps before anything is allocated.
 * Errors: as bd_image_load (BD_ERR_ARG, BD_ERR_IO, BD_ERR_FORMAT,
 * BD_ERR_NOMEM). Thread-safety: safe (on different outputs). */
BD_API bd_status bd_image_load_color(const char *path, bd_image *out);
/* Write img as a binary PGM (P5, maxval 255; values clamped to [0, 1]),
 * to PATH.tmp, flushed and fsynced, then renamed to path.
 * Errors: BD_ERR_ARG (NULL, an empty image), BD_ERR_IO (not writable, a
 * target that is not a regular file, naming why).
 * Thread-safety: safe on different paths. */
BD_API bd_status bd_image_write_pgm(const bd_image *img, const char *path);

/* Resizing (as bd_image_to_input does it): each axis separately, averaging
 * the covered source area when shrinking, bilinear when growing. */
/* src [sh, sw] -> dst [dh, dw]
 * Errors: none (no checks). Thread-safety: safe on disjoint dst and tmp. */
BD_API void bd_image_resize(const float *src, int sw, int sh, float *dst, int dw, int dh,
                            float *tmp /* [sh, dw] */);

/* How an image becomes a network input (bd_image_to_input). */
typedef enum bd_invert_mode {
    BD_INVERT_AUTO = 0,   /* invert when the mean of the border pixels > 0.5: a
                           * dark digit on white paper becomes MNIST's white
                           * on black */
    BD_INVERT_NEVER,
    BD_INVERT_ALWAYS
} bd_invert_mode;

typedef struct bd_image_prep {
    bd_invert_mode invert;
    int fit;              /* 1 (default): as MNIST was made: stretch levels so
                           * the background (border mean) is 0 and the
                           * brightest ink 1, crop to the ink's bounding box,
                           * scale it (aspect kept, area-averaged) to fit a
                           * box of 20/28 of the output, and place it so that
                           * its centre of mass is at pixel (W/2, H/2), as in
                           * MNIST.
                           * 0: resize the whole image to H x W, nothing else */
    float box;            /* fit: the box's side as a fraction of the output
                           * (0: 20/28, MNIST's; Fashion-MNIST's is 1) */
    int center_box;       /* fit: 0 centre of mass at (W/2, H/2) (MNIST);
                           * 1 the box centred instead (Fashion-MNIST) */
    int inverted;         /* out: 1 if the image was inverted */
} bd_image_prep;

/* p = the defaults: invert BD_INVERT_AUTO, fit 1, MNIST's box (20/28, centre
 * of mass centred).
 * Errors: none (NULL: no-op). Thread-safety: safe on different p. */
BD_API void bd_image_prep_default(bd_image_prep *p);
/* img -> out [H, W] in [0, 1], white ink on black, as the network's input
 * (p NULL: the defaults; else p->inverted is set). Allocates its working
 * buffers and frees them.
 * Errors: BD_ERR_ARG (NULL img or out, an empty image, H or W out of
 * range), BD_ERR_NOMEM. Thread-safety: safe (on different out and p). */
BD_API bd_status bd_image_to_input(const bd_image *img, int H, int W, bd_image_prep *p, float *out);

/* ---------------------------------------------------------------- training */

#define BD_BALANCED_MAXC 1024 /* classes balanced sampling handles */

typedef enum bd_sampling {
    BD_SAMPLE_SHUFFLE = 0, /* shuffled epochs, each sample once per epoch */
    BD_SAMPLE_REPLACE,     /* the book's np.random.choice: with replacement */
    BD_SAMPLE_BALANCED     /* with replacement, every class equally likely
                            * (a class, then a sample of it): seed 002's
                            * "change the distribution" for imbalanced data */
} bd_sampling;

/* Learning-rate schedules, applied at the start of every epoch e (0-based)
 * of E: constant; step: lr·γ^⌊e/step⌋; exp: lr·γ^e; cosine:
 * ½ lr (1 + cos(π e / E)); adaptive (seed 004): keep the rate while the
 * epoch's training loss improves, halve it when the loss gets worse;
 * onecycle: per iteration, a linear warm-up from lr/25 to lr over the first
 * `warmup` fraction of the run, then ½ lr (1 + cos(π t)) down to 0 over the
 * rest (t from 0 to 1) — the one-cycle policy (Smith 2018) that trains a
 * net in a few epochs. */
typedef enum bd_lr_schedule {
    BD_LR_CONSTANT = 0,
    BD_LR_STEP,
    BD_LR_EXP,
    BD_LR_COSINE,
    BD_LR_ADAPTIVE,
    BD_LR_ONECYCLE
} bd_lr_schedule;

/* "constant", "step", "exp", "cosine", "adaptive", "onecycle" (any case) ->
 * *out, and the name of a schedule (static string; "?" for an unknown
 * value).
 * Errors: bd_parse_schedule: BD_ERR_ARG (NULL, an unknown s, naming it);
 * bd_schedule_name: none. Thread-safety: safe. */
BD_API bd_status bd_parse_schedule(const char *s, bd_lr_schedule *out);
BD_API const char *bd_schedule_name(bd_lr_schedule s);
/* The rate of the non-adaptive schedules at epoch e (0-based) of E
 * (BD_LR_ADAPTIVE and BD_LR_ONECYCLE give lr0 here).
 * Errors: none. Thread-safety: safe. */
BD_API float bd_lr_at(bd_lr_schedule s, float lr0, int e, int E, int step, float gamma);
/* BD_LR_ONECYCLE's rate before iteration it (0-based) of total (a warmup
 * outside (0, 1) is the default 0.15).
 * Errors: none. Thread-safety: safe. */
BD_API float bd_lr_onecycle(float lr0, long it, long total, float warmup);

typedef struct bd_epoch_stats {
    int epoch;         /* 1-based */
    long iter;         /* iterations done so far */
    float loss;        /* mean training loss over this epoch's iterations */
    float train_acc;   /* on the full training set (-1 if not measured) */
    float test_acc;    /* on the test set (-1 if no test set) */
    float val_acc;     /* on the validation set (-1 if none) */
    float val_loss;    /* its mean loss (-1 if none) */
    float lr;          /* learning rate used in this epoch */
    double seconds;    /* since training started */
} bd_epoch_stats;

typedef struct bd_train_config {
    int batch;            /* mini-batch size (default 100) */
    int epochs;           /* used when iters == 0 */
    long iters;           /* total iterations; overrides epochs when > 0 */
    bd_sampling sampling;
    uint64_t seed;        /* drives shuffling / sampling */
    int eval_train;       /* measure accuracy on the full training set */
    const bd_dataset *val;/* validation set (NULL: none), evaluated every epoch */
    int patience;         /* > 0 (needs val): stop when the validation loss has
                           * not improved for this many epochs, and end with
                           * the weights of the best epoch */
    bd_lr_schedule schedule;
    int lr_step;          /* BD_LR_STEP: epochs per step (default 10) */
    float lr_gamma;       /* BD_LR_STEP / BD_LR_EXP factor (0.1 / 0.95) */
    float warmup;         /* BD_LR_ONECYCLE: warm-up fraction of the run (0:
                           * the default 0.15) */
    const char *log_path; /* CSV log (NULL: none), written atomically */
    /* per-layer CSV log (NULL: none), written atomically: one row per layer
     * (iter,epoch,layer,kind,params,grad_norm,weight_norm,act_mean,act_std,
     * act_zero_frac,act_min,act_max; bd_layer_stats) at the first step,
     * every layer_log_every steps (0: BD_LAYER_LOG_EVERY) and at the last
     * step of every epoch, taken between backward and the update (the
     * gradient before clipping; with nranks > 1 the summed gradient and
     * this rank's rows' activations). Reading only: same run, bit for bit */
    const char *layer_log;
    long layer_log_every;
    const bd_augment *augment; /* augment each training batch (NULL: none); its
                           * draws come from their own stream of `seed`, so
                           * shuffling is the same with and without it */
    /* hooks, all optional */
    void (*on_iter)(void *ud, long iter, long total, float loss);
    /* the gradient's norm √Σg² at every step, before clipping (also for the
     * step whose loss stopped being finite) */
    void (*on_grad_norm)(void *ud, long iter, double norm);
    float clip_grad_norm;  /* > 0: scale the gradient down to this norm when it
                            * is larger (gradient clipping; default 0: off) */
    void (*on_epoch)(void *ud, const bd_epoch_stats *s);
    void *ud;
    /* checkpoints (src/io/checkpoint.c), all optional */
    const char *checkpoint;        /* folder: a checkpoint after every epoch and
                                    * when stopped (NULL: none) */
    const struct bd_model_meta *ckpt_meta; /* training metadata recorded in it */
    const char *ckpt_run;          /* caller's text kept in it (the CLI's options) */
    struct bd_train_pos *resume;   /* continue from here (bd_checkpoint_load) */
    volatile sig_atomic_t *stop;   /* when non-zero (a SIGINT handler sets it):
                                    * finish the current step, checkpoint, return
                                    * BD_OK with res->interrupted = 1 */
    /* Data-parallel training (one process per rank, each with the whole
     * network; the src/dist module of the command drives it), all optional.
     * With nranks > 1, rank r computes rows [B r / N, B (r+1) / N) of every
     * global mini-batch of B (bd_shard; N = nranks <= B; the same sample
     * order on every rank, drawn from seed), with its loss and gradient
     * scaled by rows / B, so that the sum over the ranks is the mean over
     * the global batch; and rows [n r / N, n (r+1) / N) of every set it
     * evaluates. Dropout, RReLU and augmentation draw per global row, so
     * the run does not depend on N. nranks 0 or 1: the whole batch, exactly
     * as without these fields. */
    int rank, nranks;
    /* Between backward and the optimizer update of every step: the
     * trainable gradient block (the suffix after frozen layers), contiguous,
     * n floats, e.g. to sum it over the ranks. A status other than BD_OK
     * stops training with it. Also usable alone (clipping, logging). */
    bd_status (*on_grad)(void *ud, float *grads, size_t n);
    /* Overlap of the sums with backward (optional; nranks > 1, with on_grad).
     * Called on every rank before backward with from == n and v = {this
     * rank's share of the step's loss, its stop vote}, to be summed with the
     * gradient; then after each layer's backward (v NULL) with from falling
     * to 0: grads[from, n) of the trainable block is final and may be summed
     * while the layers before it are still in backward. on_grad then
     * completes every sum (the block, and v in place) before the update; the
     * trainer makes no per-step on_sum call. */
    bd_status (*on_grad_part)(void *ud, float *grads, size_t n, size_t from, float *v);
    /* Sum v[0..n) over the ranks in place (required when nranks > 1): the
     * step's loss with the stop flag (so the NaN guard and a stop are
     * decided by all ranks together), and evaluation counts. */
    bd_status (*on_sum)(void *ud, double *v, int n);
    /* Before every evaluation and checkpoint: make the non-trainable state
     * (BatchNorm running averages, n floats) agree over the ranks, e.g.
     * average it (NULL: leave it as each rank has it). */
    bd_status (*on_state)(void *ud, float *state, size_t n);
    /* The sharded update (ZeRO stage 1; optional, nranks > 1, with
     * on_grad_part and all three set): each rank steps the optimizer on its
     * own slice of the trainable block, and the ranks then trade the
     * stepped weights, so the update's work is divided by the ranks instead
     * of repeated on each. Every step, instead of on_grad:
     *   on_grad_shard sums over the ranks at least grads[*lo, *hi) of the
     *     n trainable gradients, and v as on_grad would, where it cuts
     *     [*lo, *hi) at multiples of `chunk` (the same cut every step);
     *   the trainer steps the optimizer on [*lo, *hi) only, fills sq[c]
     *     (Σ g² of the summed gradient's chunk c of `chunk`, for this
     *     rank's chunks) and *finite (its new weights are finite);
     *   on_params makes params[0..n) whole (every other slice from the rank
     *     that stepped it), sq whole and *finite the AND over the ranks.
     * The optimizer state is then current only in this rank's slice:
     * on_opt_state makes one state array (n floats) whole, called by every
     * rank wherever on_state is (before evaluations and checkpoints).
     * The numbers are those of on_grad's update, bit for bit, when the sums
     * are. The trainer uses these hooks only with clip_grad_norm <= 0 and no
     * layer_log (both need the whole gradient); bd_trainer_create fails with
     * BD_ERR_ARG otherwise, so every rank must be given the same choice. */
    bd_status (*on_grad_shard)(void *ud, float *grads, size_t n, size_t chunk, size_t *lo,
                               size_t *hi);
    bd_status (*on_params)(void *ud, float *params, size_t n, double *sq, int *finite);
    bd_status (*on_opt_state)(void *ud, float *state, size_t n);
    void *dist_ud;                 /* the user data of these hooks */
    /* With nranks > 1 (--sync-bn): BatchNorm layers sum their batch
     * statistics over the ranks through this, so they normalise over the
     * global batch as one process does (NULL: each rank its own rows). */
    const bd_comm *sync_bn;
    /* The optimizer bd_train creates when it is called with opt == NULL,
     * and frees before it returns (the caller never holds it): its name
     * (bd_optim_names; NULL: "sgd") and its hyperparameters (0: the
     * optimizer's defaults, as for bd_optim_create). Both are ignored when
     * an optimizer is given, and by bd_trainer_create, which needs one. */
    const char *optimizer;
    bd_optim_config optim;
} bd_train_config;

typedef struct bd_train_result {
    int epochs;
    long iters;
    float final_loss;     /* mean loss of the last epoch */
    float train_acc, test_acc, val_acc; /* of the weights the net ends with */
    int best_epoch;       /* with patience: the epoch whose weights were kept */
    int stopped_early;    /* 1 if patience ran out */
    float final_lr;
    double seconds;
    int interrupted;      /* 1: stopped by cfg->stop before the end */
} bd_train_result;

/* Where a training run stands after some iteration: everything bd_train
 * needs, with the network and the optimizer, to go on exactly as if it had
 * never stopped (same numbers, bit for bit, for the same thread count). */
typedef struct bd_train_pos {
    long iter;            /* iterations done */
    int epoch;            /* the epoch the next iteration belongs to (1-based) */
    double epoch_loss;    /* sum of this epoch's losses so far */
    long epoch_iters;
    float lr;             /* the learning rate in use */
    double prev_loss;     /* last epoch's mean loss (adaptive schedule) */
    double best_val;      /* early stopping: best validation loss */
    int since_best;
    bd_rng rng;           /* the trainer's shuffling / sampling stream */
    bd_rng aug_rng;       /* its augmentation stream */
    bd_tensor perm;       /* [N] int32 sample order of the shuffled epochs */
    bd_tensor best_p, best_s; /* with patience: the best epoch's weights/state */
    bd_train_result res;  /* results so far */
} bd_train_pos;

/* Release pos's tensors (sample order, best weights) and zero it.
 * Errors: none (NULL: no-op). Thread-safety: one thread per position. */
BD_API void bd_train_pos_free(bd_train_pos *pos);

/* The step-level trainer: bd_train is a loop over it, and a program that
 * wants its own loop (a GUI, data-parallel ranks) drives it the same way:
 *
 *     bd_trainer *t;
 *     bd_trainer_create(&t, net, opt, train, test, &cfg);
 *     while (s == BD_OK && !bd_trainer_done(t)) {
 *         s = bd_trainer_step(t, &loss);            // one mini-batch
 *         if (s == BD_OK && bd_trainer_epoch_end(t))
 *             s = bd_trainer_end_epoch(t, &stats);  // evaluate, log, schedule,
 *     }                                             // early stop, checkpoint
 *     s = bd_trainer_finish(t, &result);            // best weights, log file
 *     bd_trainer_free(t);
 *
 * All loop state is one bd_train_pos inside the trainer (what a checkpoint
 * saves, bd_trainer_save); cfg->resume starts a trainer from a saved one.
 * The trainer borrows net, opt, the data sets and cfg's pointers (they must
 * outlive it) and copies cfg itself. One trainer is driven by one thread
 * at a time; the loop allocates nothing. */
typedef struct bd_trainer bd_trainer;

/* Validate everything (shapes, batch, epochs, the resume position; the
 * same checks and messages as bd_train), reserve the network's rows,
 * allocate the loop's buffers and open the log. *out is NULL on failure;
 * the caller frees it with bd_trainer_free. opt is required here (bd_train
 * alone makes one from cfg->optimizer). cfg NULL: bd_train_config_default.
 * Errors: BD_ERR_ARG (NULL out, net, opt or train, a bad setting, naming
 * it), BD_ERR_SHAPE (data vs network, a resume position vs the data),
 * BD_ERR_IO (the log, the checkpoint folder held by another run),
 * BD_ERR_NOMEM. Thread-safety: one thread per net and optimizer. */
BD_API bd_status bd_trainer_create(bd_trainer **out, bd_net *net, bd_optim *opt,
                                   const bd_dataset *train, const bd_dataset *test,
                                   const bd_train_config *cfg);
/* One iteration: set the epoch's learning rate, draw the next mini-batch
 * (shuffled epochs or with replacement), gather (this rank's shard of) it,
 * augment, forward, backward, cfg->on_grad, optimizer update. *loss (may be
 * NULL) gets the batch's mean loss (with nranks > 1: summed over the ranks).
 * A loss that is not finite gives BD_ERR_NUMERIC naming the epoch and
 * iteration, and the weights of the last finished epoch are put back.
 * When cfg->stop is set mid-epoch the trainer checkpoints (cfg->checkpoint)
 * and is done, interrupted.
 * Errors: BD_ERR_ARG (NULL, called when done or before
 * bd_trainer_end_epoch at an epoch's end), BD_ERR_NUMERIC (as above),
 * BD_ERR_SHAPE (the optimizer no longer fits the network), BD_ERR_IO (the
 * interrupt's checkpoint), and any status a cfg hook returns.
 * Thread-safety: one thread per trainer. */
BD_API bd_status bd_trainer_step(bd_trainer *t, float *loss);
/* 1 when the last step finished an epoch (or the run): call
 * bd_trainer_end_epoch before the next step; 1 when no step is left (the
 * iterations are done, early stopping or cfg->stop ended the run, a step
 * failed; also for NULL).
 * Errors: none (bd_trainer_epoch_end: 0 for NULL).
 * Thread-safety: one thread per trainer. */
BD_API int bd_trainer_epoch_end(const bd_trainer *t);
BD_API int bd_trainer_done(const bd_trainer *t);
/* The end of an epoch: evaluate (training set if cfg->eval_train, test,
 * validation), log, cfg->on_epoch, the adaptive schedule, early stopping,
 * the checkpoint. st (may be NULL) receives the epoch's figures.
 * Errors: BD_ERR_ARG (NULL, not at an epoch's end), BD_ERR_IO (the
 * checkpoint), BD_ERR_NOMEM, and any status a cfg hook returns.
 * Thread-safety: one thread per trainer. */
BD_API bd_status bd_trainer_end_epoch(bd_trainer *t, bd_epoch_stats *st);
/* Accuracy (and mean loss, if loss is non-NULL) of the trainer's network
 * on ds in evaluation mode; with nranks > 1 each rank evaluates its rows
 * and the sums are reduced with cfg->on_sum, so every rank gets the whole
 * set's figures.
 * Errors: BD_ERR_ARG (NULL t or ds), BD_ERR_SHAPE (ds does not fit the
 * network), and what cfg->on_sum returns. Thread-safety: one thread per
 * trainer. */
BD_API bd_status bd_trainer_evaluate(bd_trainer *t, const bd_dataset *ds, float *accuracy,
                                     float *loss);
/* Checkpoint the whole run as it stands into dir (bd_checkpoint_save of
 * the network, the optimizer at its base rate, the position). With
 * cfg->on_state (data parallel) it first makes the state agree: then every
 * rank must call it (the trainer's own checkpoints do that by themselves).
 * Errors: BD_ERR_ARG (NULL), BD_ERR_IO (naming why), BD_ERR_NOMEM, and what
 * cfg->on_state returns. Thread-safety: one thread per trainer. */
BD_API bd_status bd_trainer_save(bd_trainer *t, const char *dir);
/* Iterations done, the run's total, the current (1-based) epoch; pointers
 * may be NULL (0s for a NULL trainer).
 * Errors: none. Thread-safety: one thread per trainer. */
BD_API void bd_trainer_progress(const bd_trainer *t, long *iter, long *total, int *epoch);
/* End the run: with early stopping, put back the best epoch's weights and
 * measure them; restore the network's mode and the optimizer's rate;
 * write the log under its name. res (may be NULL) gets the results.
 * Calling it again returns the same status and results.
 * Errors: the first error of the run (a failed step), else BD_ERR_ARG
 * (NULL), BD_ERR_SHAPE or BD_ERR_NOMEM (measuring), BD_ERR_IO (the logs).
 * Thread-safety: one thread per trainer. */
BD_API bd_status bd_trainer_finish(bd_trainer *t, bd_train_result *res);
/* Release the trainer (finishing it first if bd_trainer_finish was not
 * called). It frees nothing it borrowed.
 * Errors: none (NULL: no-op). Thread-safety: one thread per trainer. */
BD_API void bd_trainer_free(bd_trainer *t);

/* Sums of an evaluation over a range of rows, to add up across ranks. */
typedef struct bd_eval_sums {
    long n;               /* rows evaluated */
    long correct;         /* of them, predicted right */
    double loss_sum;      /* Σ of the per-row losses (0 unless asked for) */
} bd_eval_sums;

/* Evaluate rows [lo, hi) of ds (an empty range gives zeros) in evaluation
 * mode (restored after), in chunks of the network's reserved rows;
 * with_loss: also the loss. accuracy = correct / n, mean loss =
 * loss_sum / n.
 * Errors: BD_ERR_ARG (NULL, a range outside ds), BD_ERR_SHAPE (ds does
 * not fit the network), BD_ERR_NOMEM. Thread-safety: one thread per
 * network. */
BD_API bd_status bd_evaluate_range(bd_net *net, const bd_dataset *ds, int lo, int hi, int with_loss,
                                   bd_eval_sums *out);

/* c = the defaults: batch 100, 10 epochs, shuffled epochs, seed 1,
 * eval_train 1, lr_step 10, optimizer "sgd" (with optim all 0: lr 0.01),
 * everything else 0 / NULL (no validation set, schedule, log, hooks,
 * checkpoints; one process). Fill a config through this before setting
 * fields, so that fields added later get their defaults.
 * Errors: none (NULL: no-op). Thread-safety: safe on different configs. */
BD_API void bd_train_config_default(bd_train_config *c);
/* Mini-batch training of net with opt on train, evaluating on test (may be
 * NULL) after every epoch. Flushes denormals for its duration. If the loss
 * stops being finite it stops with BD_ERR_NUMERIC naming the epoch and
 * iteration, and the net keeps the weights of the last finished epoch (the
 * initial ones if none finished); *res (may be NULL) is filled in either
 * case. cfg NULL: bd_train_config_default.
 * Ownership: borrows net, opt, the sets and cfg's pointers for the call
 * only. opt NULL: bd_train creates the optimizer cfg->optimizer names,
 * with cfg->optim (bd_optim_create's rules and errors; sized from the
 * net), and frees it before it returns, so a program that needs no
 * optimizer of its own holds none; the run is the same, bit for bit, as
 * with that optimizer created by the caller. A resumed run (cfg->resume)
 * goes on with the checkpoint's optimizer: opt NULL is refused.
 * Errors: BD_ERR_ARG (NULL net or train, a bad setting, naming it; opt
 * NULL with cfg->resume), BD_ERR_SHAPE (data vs network, optimizer vs
 * network), BD_ERR_NUMERIC, BD_ERR_IO (log, checkpoint), BD_ERR_NOMEM.
 * Thread-safety: one thread per net and optimizer. */
BD_API bd_status bd_train(bd_net *net, bd_optim *opt, const bd_dataset *train,
                          const bd_dataset *test, const bd_train_config *cfg,
                          bd_train_result *res);
/* The rows bd_train reserves (and so evaluates in) for mini-batches of
 * `batch`: what `badak eval` reserves to repeat its figures exactly.
 * Errors: none (NULL net: the count for a network without convolutions).
 * Thread-safety: safe while no thread changes the network. */
BD_API int bd_train_eval_rows(const bd_net *net, int batch);
/* Accuracy of net on ds (and its mean loss, if loss is non-NULL), in
 * evaluation mode (restored after), in batches of the net's reserved size.
 * Errors: BD_ERR_ARG (NULL, an empty ds), BD_ERR_SHAPE (ds does not fit
 * the net), BD_ERR_NOMEM. Thread-safety: one thread per network. */
BD_API bd_status bd_evaluate(bd_net *net, const bd_dataset *ds, float *accuracy, float *loss);

/* ----------------------------------------------------------- diagnostics */

/* What a run looked like (src/train/diagnose.c): its epochs' figures, the
 * gradient norms of its last steps, what it was. */
typedef struct bd_diag_input {
    const bd_epoch_stats *epochs; /* [nepochs], in order */
    int nepochs;
    float lr;                 /* the learning rate tried */
    bd_loss_kind loss;
    bd_task task;
    int outputs;              /* the network's */
    int major_class;          /* the largest class (-1: unknown) and its share */
    double major_share;
    const double *grad_norms; /* [ngrad] the last steps' gradient norms */
    int ngrad;
    int nonfinite;            /* 1: the loss stopped being finite ... */
    long nonfinite_iter;      /* ... at this iteration */
} bd_diag_input;

#define BD_DIAG_MAX 8
typedef struct bd_diagnosis {
    char code[32];            /* loss_not_falling, loss_rising, accuracy_stalled,
                               * overfitting, nonfinite_loss, loss_mismatch,
                               * class_imbalance */
    char msg[512];            /* the figures and what to try */
} bd_diagnosis;
typedef struct bd_diag_result {
    int n;
    bd_diagnosis d[BD_DIAG_MAX];
} bd_diag_result;

/* The findings of seed 002's training tips on a run into *out (zeroed
 * first); none for a healthy one.
 * Errors: none (in or out NULL: nothing). Thread-safety: safe (in is only
 * read). */
BD_API void bd_diagnose(const bd_diag_input *in, bd_diag_result *out);

/* Per-layer statistics (src/train/layerlog.c; bd_train_config.layer_log
 * writes them every few steps): the norm of layer i's parameter gradient
 * and the statistics of its output, as the last forward / backward left
 * them. Only reads the network. For vanishing and exploding gradients
 * (seed 002, unit 2) and saturated or dead activations (book 6.2.2). */
typedef struct bd_layer_stats {
    size_t params;            /* the layer's parameters */
    double grad_norm;         /* sqrt(sum g^2) over them; -1: none (no
                               * parameters, frozen, or no gradients) */
    double weight_norm;       /* sqrt(sum w^2); -1: no parameters */
    int rows;                 /* rows of the last forward (0: none yet, or
                               * its output was not written: the act_ fields
                               * are 0; see bd_net_layer_stats) */
    double act_mean, act_std; /* over every value of its output [rows, out] */
    double act_min, act_max;
    double act_zero_frac;     /* values exactly 0 (dead ReLUs) */
} bd_layer_stats;
/* The statistics of layer i into *st. bd_train without a layer log,
 * bd_evaluate and bd_model skip writing the output of a Conv2d that computes
 * its ReLU and 2x2 max-pool in one pass (and its ReLU's): after those, such
 * a layer reports rows 0; bd_net_forward, bd_net_loss, bd_net_gradient and
 * bd_trainer_step write every output.
 * Errors: BD_ERR_ARG (NULL, an unbuilt net, i not in 0..nlayers-1).
 * Thread-safety: safe while no thread changes the net. */
BD_API bd_status bd_net_layer_stats(const bd_net *net, int i, bd_layer_stats *st);
/* Steps between two rows of a layer log when bd_train_config.layer_log_every
 * is 0. */
#define BD_LAYER_LOG_EVERY 50

/* ------------------------------------------------ hyperparameter search */

/* Random search as in the book (6.5.3, hyperparameter_optimization.py): each
 * trial samples the learning rate and the weight decay log-uniformly in their
 * ranges, trains a fresh network for a few epochs on the training part of a
 * fixed shuffled split, and records the per-epoch accuracies. */
typedef struct bd_hp_trial {
    int index;            /* trial number, in sampling order (0-based) */
    float lr, weight_decay;
    float val_acc, train_acc; /* after the last epoch */
    int epochs;           /* epochs run (fewer if the loss stopped being finite) */
    int diverged;         /* 1: the loss became NaN/inf */
    float *val_curve;     /* [epochs] validation accuracy per epoch */
    float *train_curve;   /* [epochs] training accuracy per epoch */
} bd_hp_trial;

typedef struct bd_hpsearch_config {
    int trials;           /* default 100 */
    int epochs;           /* per trial, default 50 */
    int batch;            /* default 100 */
    float val_split;      /* default 0.2 */
    float lr_min, lr_max; /* default 1e-6 .. 1e-2 */
    float wd_min, wd_max; /* default 1e-8 .. 1e-4 */
    const char *optimizer;/* default "sgd" */
    uint64_t seed;        /* trials are reproducible from it */
    void (*on_trial)(void *ud, const bd_hp_trial *t, int done, int total);
    void *ud;
    const bd_comm *comm;  /* NULL: alone; else process r runs the trials
                           * i with i mod size = r, and every process ends
                           * with the whole table (on_trial: its own) */
} bd_hpsearch_config;

typedef struct bd_hpsearch_result {
    int ntrials, epochs, ntrain, nval;
    bd_hp_trial *trials;  /* sorted by validation accuracy, best first */
    bd_tensor curves;     /* owns every trial's curves */
} bd_hpsearch_result;

/* c = the defaults given in bd_hpsearch_config's comments.
 * Errors: none (NULL: no-op). Thread-safety: safe on different configs. */
BD_API void bd_hpsearch_config_default(bd_hpsearch_config *c);
/* Run the search on data (split into training and validation parts) with
 * networks of spec (its weight_decay is replaced by each trial's). The
 * trials run on the thread pool's threads, one network each; cfg->on_trial
 * is called under a lock, one trial at a time. *out owns its curves: free
 * it with bd_hpsearch_free (which accepts NULL).
 * Errors: BD_ERR_ARG (NULL, a setting out of range, naming it), the errors
 * of bd_net_from_spec and bd_optim_create for spec and cfg->optimizer,
 * BD_ERR_IO, BD_ERR_NOMEM (a trial whose loss stops being finite is
 * recorded as diverged, not an error).
 * Thread-safety: safe on different outputs (data and spec are only read). */
BD_API bd_status bd_hpsearch(const bd_net_spec *spec, const bd_dataset *data,
                             const bd_hpsearch_config *cfg, bd_hpsearch_result *out);
/* trial,lr,weight_decay,epoch,train_acc,val_acc — one row per trial and
 * epoch, written to PATH.tmp and renamed.
 * Errors: BD_ERR_ARG (NULL), BD_ERR_IO (naming why).
 * Thread-safety: safe on different paths while no thread changes r. */
BD_API bd_status bd_hpsearch_write_csv(const bd_hpsearch_result *r, const char *path);
BD_API void bd_hpsearch_free(bd_hpsearch_result *r);

/* -------------------------------------------------- numerical gradient */

/* A scalar function of the tensor it is given (book 4.4). */
typedef double (*bd_scalar_fn)(void *ud);

/* Central difference (f(x+h) - f(x-h)) / 2h for every element of x (book
 * eq. 4.4 numerical_gradient); x is restored afterwards. grad has x's size.
 * If `which` is non-NULL only those `count` element indices are computed.
 * Errors: none (no checks: every pointer valid). Thread-safety: as f allows
 * (x is changed during the call). */
BD_API void bd_numerical_gradient(bd_scalar_fn f, void *ud, float *x, float *grad,
                                  size_t n, float h, const size_t *which, size_t count);

typedef struct bd_gradcheck_row {
    char name[40];        /* "W1", "b1", "gamma2", ... numbered per layer with
                           * parameters */
    size_t checked;       /* elements compared */
    size_t kinks;         /* elements skipped: the step crossed a ReLU kink,
                           * where no derivative exists */
    double mean_abs, max_abs, mean_rel, max_rel;
} bd_gradcheck_row;

typedef struct bd_gradcheck_config {
    float h;              /* difference step (default 1e-2 for float32) */
    size_t max_entries;   /* per parameter, 0 = all */
    float tol_abs;        /* mean absolute difference allowed (1e-4) */
    float tol_rel;        /* worst relative difference allowed (1e-2) */
    uint64_t seed;        /* picks the entries when sampling */
} bd_gradcheck_config;

/* c = the defaults given in bd_gradcheck_config's comments.
 * Errors: none (NULL: no-op). Thread-safety: safe on different configs. */
BD_API void bd_gradcheck_config_default(bd_gradcheck_config *c);
/* Compare backprop with the numerical gradient of bd_net_loss on (x, t) for
 * every parameter tensor. rows (may be NULL, and nrows with it) must hold 2
 * rows per layer with parameters; cfg NULL: the defaults. Changes the
 * network's gradient block (and restores its weights).
 * Central differences are only valid where the loss is smooth: if a step
 * switches any ReLU on or off, the entry is skipped and counted in `kinks`.
 * Errors: BD_ERR_CHECK (a difference exceeds the tolerances, naming the
 * worst parameter), BD_ERR_ARG (NULL net or x, not built),
 * BD_ERR_SHAPE (x or t vs the network), BD_ERR_NOMEM.
 * Thread-safety: one thread per network. */
BD_API bd_status bd_gradcheck(bd_net *net, const bd_tensor *x, bd_labels t,
                              const bd_gradcheck_config *cfg, bd_gradcheck_row *rows,
                              int *nrows);

/* ------------------------------------------------------------ model files */

/* Training metadata kept in a model file's header (all optional). */
typedef struct bd_model_meta {
    char data[256];       /* the data set trained on: mnist, fashion, a path */
    char optimizer[32];
    char version[32];     /* on load: the badak version that wrote the file */
    int epochs;           /* -1: unknown */
    long iters;
    int batch;            /* 0: unknown */
    float lr;
    float test_acc, train_acc; /* -1: not measured */
    uint64_t seed;
    /* how inputs were made (predict repeats it): per-channel normalisation
     * of the [0,1] pixels (norm_c channels, 0: none) and the class names,
     * one a line ("" unknown) */
    int norm_c;
    float norm_mean[BD_NORM_MAXC], norm_std[BD_NORM_MAXC];
    char classes[BD_CLASSES_LEN];
    /* the task; regression: the targets' standardisation (target_n values,
     * undone at predict time); multi-label: the decision threshold */
    bd_task task;
    int target_n;
    float target_mean[BD_MAX_TARGETS], target_std[BD_MAX_TARGETS];
    float threshold;
} bd_model_meta;

/* m = "nothing known": epochs and iters -1, accuracies -1, threshold 0.5,
 * every string empty.
 * Errors: none (NULL: no-op). Thread-safety: safe on different m. */
BD_API void bd_model_meta_init(bd_model_meta *m);
/* Save net (architecture as INI text, parameters, BatchNorm state) and meta
 * (may be NULL) as a safetensors file, atomically (PATH.tmp.PID in the same
 * folder, fsync, rename). Tensors are named "<layer>.<param>": "Conv1.W",
 * "BatchNorm1.running_mean".
 * Errors: BD_ERR_ARG (NULL net or path, not built), BD_ERR_IO (naming why:
 * not writable, no space, a target that is not a regular file),
 * BD_ERR_NOMEM. Thread-safety: only reads net: safe while nothing changes
 * it (one writer per path). */
BD_API bd_status bd_model_save(const bd_net *net, const char *path, const bd_model_meta *meta);
/* Rebuild the network from the file alone and load its weights; meta (may be
 * NULL) receives the training metadata. Everything is validated first. The
 * network starts in evaluation mode (bd_train switches to training by
 * itself). *out is a new network the caller frees (NULL on failure).
 * Errors: BD_ERR_ARG (NULL out or path), BD_ERR_IO (missing, unreadable,
 * not a regular file), BD_ERR_FORMAT (a bad file, naming it and the
 * problem), BD_ERR_SHAPE, BD_ERR_NOMEM. Thread-safety: safe. */
BD_API bd_status bd_model_load(bd_net **out, const char *path, bd_model_meta *meta);
/* The same from a file image in memory (buf [len], only read; origin
 * names it in messages).
 * Errors: as bd_model_load, without BD_ERR_IO. Thread-safety: safe. */
BD_API bd_status bd_model_load_mem(bd_net **out, const void *buf, size_t len, const char *origin,
                                   bd_model_meta *meta);
/* Inference in three calls: open, predict, close.
 *
 *     bd_model *m = bd_model_open("m.safetensors", NULL);
 *     if (!m) { fprintf(stderr, "%s\n", bd_errmsg()); ... }
 *     bd_model_predict(m, x, n, probs);   // x [n, inputs], probs [n, outputs]
 *     bd_model_close(m);
 *
 * An opened model holds the weights and the non-trainable state only (no
 * gradients, no optimizer state, no backward buffers) and is in evaluation
 * mode (BatchNorm on its running averages, Dropout off). Its weights are
 * never written after open: any number of threads may call
 * bd_model_predict and bd_model_evaluate on one model at once; each call
 * uses a workspace of its own (kept for reuse, so a thread predicting in a
 * loop allocates nothing after its first call). */
typedef struct bd_model bd_model;

/* Open the model file at path (as bd_model_load validates it). Returns NULL
 * on failure, with the reason in bd_errmsg() and, if st is non-NULL, the
 * status in *st (BD_OK on success). The caller closes it.
 * Errors: in *st, as bd_model_load (BD_ERR_ARG, BD_ERR_IO, BD_ERR_FORMAT,
 * BD_ERR_SHAPE, BD_ERR_NOMEM). Thread-safety: safe. */
BD_API bd_model *bd_model_open(const char *path, bd_status *st);
/* x: n inputs of bd_model_inputs(m) floats each, as a data set gives them
 * ([C, H, W] pixels in [0, 1] for images); the model's per-channel
 * normalisation, if it was trained with one, is applied here. probs: n rows
 * of bd_model_outputs(m) floats: softmax probabilities for a
 * SoftmaxWithLoss model, sigmoid probabilities for a BCE one, the raw
 * outputs for MSE / MAE. n = 0 does nothing.
 * Errors: BD_ERR_ARG (NULL arguments, n < 0), BD_ERR_NOMEM (a first call's
 * workspace). Thread-safety: safe: any number of threads on one model. */
BD_API bd_status bd_model_predict(bd_model *m, const float *x, int n, float *probs);
/* Accuracy of the model on ds (labels compared with the highest output;
 * one output unit: > 0 is class 1), in the rows the training run evaluated
 * in, so it repeats the accuracy training reported, to the bit (same
 * thread count). pred (may be NULL) receives each sample's class [ds->n].
 * The model's normalisation is applied unless ds has its own.
 * accuracy may be NULL.
 * Errors: BD_ERR_ARG (NULL m or ds, an empty ds), BD_ERR_SHAPE (ds does
 * not fit the model), BD_ERR_NOMEM. Thread-safety: safe: any number of threads
 * on one model. */
BD_API bd_status bd_model_evaluate(bd_model *m, const bd_dataset *ds, float *accuracy, int32_t *pred);
/* Rows per forward pass (default: those training evaluated in, from the
 * file's batch size).
 * Errors: BD_ERR_ARG (NULL, rows < 1, predictions running on other
 * threads). Thread-safety: safe (refused while predictions run). */
BD_API bd_status bd_model_set_rows(bd_model *m, int rows);
/* The training metadata and the network (read-only; owned by m); floats
 * per input and per output row; bytes the model holds (weights, state, and
 * the workspaces made so far).
 * Errors: none (NULL / 0 for a NULL model). Thread-safety: safe. */
BD_API const bd_model_meta *bd_model_info(const bd_model *m);
BD_API const bd_net *bd_model_net(const bd_model *m);
BD_API int bd_model_inputs(const bd_model *m);
BD_API int bd_model_outputs(const bd_model *m);
BD_API size_t bd_model_bytes(const bd_model *m);
/* Release the model and its workspaces.
 * Errors: none (NULL: no-op). Thread-safety: not while other threads still
 * use m. */
BD_API void bd_model_close(bd_model *m);

/* Write a C header with the weights as static const float arrays and a
 * dependency-free inference function <prefix>_predict (dense and conv
 * layers, BatchNorm in evaluation form, Dropout as identity), atomically.
 * Errors: BD_ERR_ARG (NULL, not built, prefix not a C identifier, a layer
 * kind the exporter has no code for), BD_ERR_IO (naming why).
 * Thread-safety: only reads net: safe while nothing changes it. */
BD_API bd_status bd_model_export_c(const bd_net *net, const char *path, const char *prefix);

/* Checkpoints: DIR/checkpoint.safetensors holds the model, the optimizer
 * (name, hyperparameters, step count, moments), the trainer's position
 * (pos) and the network's PRNG; written atomically. `run` (may be NULL) is
 * the caller's text kept with it. Only reads its arguments.
 * Errors: BD_ERR_ARG (NULL dir, net, opt or pos), BD_ERR_IO (naming why),
 * BD_ERR_NOMEM. Thread-safety: safe while nothing changes its arguments
 * (one writer per folder). */
BD_API bd_status bd_checkpoint_save(const char *dir, const bd_net *net, const bd_optim *opt,
                                    const bd_train_pos *pos, const bd_model_meta *meta,
                                    const char *run);
/* Rebuild net, opt and pos from DIR/checkpoint.safetensors: *net and *opt
 * are new handles the caller frees (NULL on failure; the network in
 * evaluation mode), pos owns its tensors (bd_train_pos_free); *run (run
 * may be NULL) receives the caller's text (malloc'd: free it).
 * Errors: BD_ERR_ARG (NULL), BD_ERR_IO (missing, unreadable),
 * BD_ERR_FORMAT (naming the file and the value), BD_ERR_SHAPE,
 * BD_ERR_NOMEM. Thread-safety: safe (on different outputs). */
BD_API bd_status bd_checkpoint_load(const char *dir, bd_net **net, bd_optim **opt, bd_train_pos *pos,
                                    bd_model_meta *meta, char **run);
/* The checkpoint file of folder dir, into buf [len]; returns buf ("" for a
 * NULL dir; NULL buf or len 0: nothing written).
 * Errors: none. Thread-safety: safe. */
BD_API const char *bd_checkpoint_path(const char *dir, char *buf, size_t len);

/* ------------------------------------------- files, as root or not
 * (src/io/files.c). Every file badak reads is opened with O_NONBLOCK and
 * must be a regular file (a FIFO is refused, never waited on). Every file
 * it writes goes to PATH.tmp.PID in the target's folder and is renamed over
 * the target; before anything is written, a target that exists and is not a
 * regular file (a device node, FIFO, socket, folder) is refused, and a
 * symlink is followed (its regular target is replaced, the link kept).
 * Temporary files left by killed processes are removed on the next save
 * to that folder. */
/* BD_OK if path may be written as a `what` file ("model", "log"; NULL:
 * "output"); else the reason. Nothing is created.
 * Errors: BD_ERR_ARG (path NULL or empty), BD_ERR_IO (the target is a
 * device node, FIFO, socket or folder, naming it). A missing folder shows
 * only when the file is written.
 * Thread-safety: safe. */
BD_API bd_status bd_output_check(const char *path, const char *what);
typedef struct bd_atomic_file bd_atomic_file;
/* Open an atomic output (checked as bd_output_check) into *f (NULL on
 * failure); write to bd_atomic_stream (owned by f; NULL for a NULL f), then
 * bd_atomic_commit (flush, fsync, rename; errors say why: "No space left
 * on device") or bd_atomic_abort (the temporary file removed). Both free f
 * (NULL: commit is BD_ERR_ARG, abort a no-op).
 * Errors: bd_atomic_open: BD_ERR_ARG (NULL, an empty path), BD_ERR_IO (as
 * bd_output_check; the temporary file not creatable), BD_ERR_NOMEM;
 * bd_atomic_commit: BD_ERR_ARG (NULL), BD_ERR_IO (a write, flush, sync or
 * rename failed; the target is left as it was). The others: none.
 * Thread-safety: one thread per atomic file; different files at once. */
BD_API bd_status bd_atomic_open(bd_atomic_file **f, const char *path, const char *what);
BD_API FILE *bd_atomic_stream(bd_atomic_file *f);
BD_API bd_status bd_atomic_commit(bd_atomic_file *f);
BD_API void bd_atomic_abort(bd_atomic_file *f);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif
#endif /* BADAK_H */
