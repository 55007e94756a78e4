/* tsan_predict.c — 4 threads predict on one bd_model at once, built with
 * ThreadSanitizer (make test-tsan; tests/cli_tsan.sh runs it in make test):
 * no data race, and every call gets the single-thread probabilities. A
 * plain program (no cmocka), so that it is the only thing TSan watches
 * besides libbadak. Exits 1 on a wrong result; TSan exits 66 on a race. */
#include "badak.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 24      /* inputs */
#define ROUNDS 25 /* calls per thread */

/* want[n-1]: the single-thread probabilities of the first n inputs (a
 * row's last bits may depend on n: BLAS picks kernels by size) */
typedef struct job {
    bd_model *m;
    const float *x;
    float *const *want;
    int outputs, bad;
} job;

static void *loop(void *arg)
{
    job *j = arg;
    float *p = malloc((size_t)N * j->outputs * sizeof *p);
    for (int k = 0; p && k < ROUNDS; k++) {
        int n = 1 + (k * 5) % N;
        if (bd_model_predict(j->m, j->x, n, p) != BD_OK ||
            memcmp(p, j->want[n - 1], (size_t)n * j->outputs * sizeof *p) != 0)
            j->bad++;
    }
    free(p);
    return NULL;
}

static int fail(const char *what)
{
    fprintf(stderr, "tsan_predict: %s: %s\n", what, bd_errmsg());
    return 1;
}

int main(void)
{
    bd_set_threads(1);
    char dir[] = "/tmp/badak_tsan_XXXXXX", path[64];
    if (!mkdtemp(dir))
        return fail("mkdtemp");
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    /* conv, BatchNorm2d, ReLU, pool, Affine: every kind of forward state */
    const char *ini = "[net]\ninput = 1x8x8\n[c]\ntype = conv\nfilters = 4\nkernel = 3\n"
                      "[bn]\ntype = batchnorm2d\n[r]\ntype = relu\n[p]\ntype = maxpool\n"
                      "kernel = 2\n[f]\ntype = flatten\n[a]\ntype = affine\nunits = 3\n";
    bd_rng r;
    bd_rng_seed(&r, 3);
    bd_net *net = NULL;
    if (bd_net_from_ini(&net, ini, "tsan.ini", 0, 0, 0, 3, &r) != BD_OK)
        return fail("network");
    bd_status s = bd_model_save(net, path, NULL);
    bd_net_free(net);
    if (s != BD_OK)
        return fail("save");
    bd_model *m = bd_model_open(path, &s);
    if (!m)
        return fail("open");
    const int D = bd_model_inputs(m), C = bd_model_outputs(m);
    float *x = malloc((size_t)N * D * sizeof *x), *want[N];
    for (int i = 0; i < N * D; i++)
        x[i] = bd_rng_uniform(&r);
    /* the references: with one thread the pool runs serially, as the
     * workers (not the pool's owner) do */
    for (int n = 1; n <= N; n++) {
        want[n - 1] = malloc((size_t)n * C * sizeof **want);
        if (bd_model_predict(m, x, n, want[n - 1]) != BD_OK)
            return fail("predict");
    }
    job jobs[4];
    pthread_t tid[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){m, x, want, C, 0};
        pthread_create(&tid[i], NULL, loop, &jobs[i]);
    }
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(tid[i], NULL);
        bad += jobs[i].bad;
    }
    bd_model_close(m);
    free(x);
    for (int n = 0; n < N; n++)
        free(want[n]);
    remove(path);
    rmdir(dir);
    printf("tsan_predict: 4 threads x %d calls on one model, %d wrong results\n", ROUNDS, bad);
    return bad ? 1 : 0;
}
