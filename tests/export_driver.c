/* export_driver.c — compiled by cli_test.sh against a header written by
 * `badak export --c-header`: reads samples as whitespace-separated numbers
 * (MODEL_IN per sample) on stdin, multiplies them by SCALE, and prints the
 * predicted class of each, one a line. Uses nothing but the header. */
#include <stdio.h>
#include <stdlib.h>

#include MODEL_H

int main(int argc, char **argv)
{
    float scale = argc > 1 ? strtof(argv[1], NULL) : 1.0f;
    static float x[BADAK_MODEL_IN];
    for (;;) {
        for (int i = 0; i < BADAK_MODEL_IN; i++) {
            double v;
            if (scanf("%lf", &v) != 1)
                return i == 0 ? 0 : 1; /* a partial sample is an error */
            x[i] = (float)v * scale;
        }
        printf("%d\n", badak_model_predict(x, NULL));
    }
}
