/* predict.c — inference in three calls: open a saved model, predict, close.
 *
 *   cc predict.c $(pkg-config --cflags --libs badak)
 *   ./predict MODEL.safetensors [DATA_DIR]   (default data/mnist)
 *
 * Prints the classes and probabilities of the first five test images, and
 * the accuracy over the first 1000.
 */
#include <badak.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: predict MODEL.safetensors [DATA_DIR]\n");
        return 2;
    }
    bd_model *m = bd_model_open(argv[1], NULL);          /* 1 */
    if (!m) {
        fprintf(stderr, "predict: %s\n", bd_errmsg());
        return 1;
    }
    bd_dataset train, test;
    if (bd_mnist_load(argc > 2 ? argv[2] : "data/mnist", &train, &test) != BD_OK) {
        fprintf(stderr, "predict: %s\n", bd_errmsg());
        bd_model_close(m);
        return 1;
    }
    const int n = test.n < 1000 ? test.n : 1000, D = bd_model_inputs(m), C = bd_model_outputs(m);
    bd_tensor x, y;
    int xs[2] = {n, D}, ys[1] = {n};
    float *probs = malloc((size_t)n * C * sizeof *probs);
    bd_status s = probs ? bd_tensor_alloc(&x, BD_F32, 2, xs) : BD_ERR_NOMEM;
    if (s == BD_OK)
        s = bd_tensor_alloc(&y, BD_I32, 1, ys);
    if (s == BD_OK) /* the pixels as floats in [0, 1] */
        s = bd_dataset_slice(&test, 0, n, &x, &y);
    if (s == BD_OK)
        s = bd_model_predict(m, bd_f32(&x), n, probs); /* 2 */
    if (s != BD_OK) {
        fprintf(stderr, "predict: %s\n", bd_errmsg());
        return 1;
    }
    int right = 0;
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * C;
        int best = 0;
        for (int k = 1; k < C; k++)
            if (p[k] > p[best])
                best = k;
        right += best == bd_i32(&y)[i];
        if (i < 5)
            printf("image %d: %d (%.4f), label %d\n", i, best, (double)p[best], bd_i32(&y)[i]);
    }
    printf("accuracy %.4f on the first %d test images\n", (double)right / n, n);
    free(probs);
    bd_tensor_free(&x);
    bd_tensor_free(&y);
    bd_dataset_free(&train);
    bd_dataset_free(&test);
    bd_model_close(m);                                   /* 3 */
    return 0;
}
