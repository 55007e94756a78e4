/* testutil.h — shared by the cmocka test programs. */
#ifndef BADAK_TESTUTIL_H
#define BADAK_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <alloca.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badak.h"

/* assert |a - b| <= tol, printing both values on failure */
#define assert_close(a, b, tol)                                                     \
    do {                                                                            \
        double a_ = (a), b_ = (b);                                                  \
        if (!(fabs(a_ - b_) <= (tol)))                                              \
            fail_msg("%s = %.9g, expected %.9g (tol %g)", #a, a_, b_, (double)(tol)); \
    } while (0)

#define assert_ok(expr)                                                             \
    do {                                                                            \
        bd_status s_ = (expr);                                                      \
        if (s_ != BD_OK)                                                            \
            fail_msg("%s -> %s: %s", #expr, bd_status_name(s_), bd_errmsg());      \
    } while (0)

/* assert that expr fails with status st and a message containing `sub` */
#define assert_fails(expr, st, sub)                                                 \
    do {                                                                            \
        bd_status s_ = (expr);                                                      \
        if (s_ != (st))                                                             \
            fail_msg("%s -> %s, expected %s (%s)", #expr, bd_status_name(s_),       \
                     bd_status_name(st), bd_errmsg());                              \
        if (!strstr(bd_errmsg(), (sub)))                                            \
            fail_msg("message \"%s\" lacks \"%s\"", bd_errmsg(), (sub));            \
    } while (0)

/* A file in /proc/loadavg's format whose run queue says R runnable threads,
 * for the pool's busy-machine rule (bd__pool_set_runq), written to a new
 * temporary file: its path in buf (at least 32 bytes); the caller unlinks
 * it. */
static inline void runq_file(char *buf, long running)
{
    strcpy(buf, "/tmp/badak-runq-XXXXXX");
    int fd = mkstemp(buf);
    assert_true(fd >= 0);
    char line[64];
    int n = snprintf(line, sizeof line, "1.00 0.50 0.25 %ld/300 4242\n", running);
    assert_int_equal(write(fd, line, (size_t)n), n);
    close(fd);
}

/* A batch of B random samples of D features uniform in [lo, hi), labels
 * uniform in 0..C-1. Caller frees x and y. */
static inline void random_batch_range(bd_tensor *x, bd_tensor *y, int B, int D, int C, float lo,
                                      float hi, uint64_t seed)
{
    int xs[2] = {B, D}, ys[1] = {B};
    assert_ok(bd_tensor_alloc(x, BD_F32, 2, xs));
    assert_ok(bd_tensor_alloc(y, BD_I32, 1, ys));
    bd_rng r;
    bd_rng_seed(&r, seed);
    for (size_t i = 0; i < x->size; i++)
        bd_f32(x)[i] = lo + (hi - lo) * bd_rng_uniform(&r);
    for (int i = 0; i < B; i++)
        bd_i32(y)[i] = (int32_t)bd_rng_below(&r, (uint32_t)C);
}

static inline void random_batch(bd_tensor *x, bd_tensor *y, int B, int D, int C, uint64_t seed)
{
    random_batch_range(x, y, B, D, C, 0.0f, 1.0f, seed);
}

/* Gaussian blobs: `classes` centres (spread x N(0,1) per feature, drawn from
 * centre_seed) in d dimensions, noise x N(0,1) around them; deterministic.
 * classes <= 16, d <= 16. Caller frees with bd_dataset_free. */
static inline void make_blobs_spread(bd_dataset *ds, int n, int d, int classes, float noise,
                                     float spread, uint64_t seed, uint64_t centre_seed)
{
    memset(ds, 0, sizeof *ds);
    int xs[2] = {n, d}, ys[1] = {n};
    assert_ok(bd_tensor_alloc(&ds->x, BD_F32, 2, xs));
    assert_ok(bd_tensor_alloc(&ds->y, BD_I32, 1, ys));
    bd_rng rc, r;
    bd_rng_seed(&rc, centre_seed);
    bd_rng_seed(&r, seed);
    float centre[16][16];
    for (int k = 0; k < classes; k++)
        for (int j = 0; j < d; j++)
            centre[k][j] = spread * bd_rng_normal(&rc);
    for (int i = 0; i < n; i++) {
        int k = (int)bd_rng_below(&r, (uint32_t)classes);
        bd_i32(&ds->y)[i] = k;
        for (int j = 0; j < d; j++)
            bd_f32(&ds->x)[(size_t)i * d + j] = centre[k][j] + noise * bd_rng_normal(&r);
    }
    ds->n = n;
    ds->c = 1;
    ds->h = 1;
    ds->w = d;
    ds->nclasses = classes;
    ds->scale = 1.0f;
    snprintf(ds->name, sizeof ds->name, "blobs");
}

static inline void make_blobs(bd_dataset *ds, int n, int d, int classes, float noise,
                              uint64_t seed, uint64_t centre_seed)
{
    make_blobs_spread(ds, n, d, classes, noise, 2.0f, seed, centre_seed);
}

#endif
