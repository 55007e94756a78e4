/* test_fuzz.c — the fuzz targets' code over their corpora
 * (tests/fuzz/corpus/<target>/: seeds, and every input a fuzzing run found
 * interesting or crashing), so what fuzzing fixed stays fixed. Runs with gcc
 * in the normal suite; `make fuzz` builds the same targets for libFuzzer. */
#define _GNU_SOURCE /* memfd_create in fuzz_idx.c */
#include "testutil.h"

#include <dirent.h>

#include "fuzz/fuzz_idx.c"
#include "fuzz/fuzz_model.c"
#include "fuzz/fuzz_netini.c"
#include "fuzz/fuzz_ckpt.c"
#include "fuzz/fuzz_csv.c"
#include "fuzz/fuzz_image.c"
#include "fuzz/fuzz_cli.c"

/* feed every file of tests/fuzz/corpus/<name> to fn; returns the count */
static int replay(const char *name, int (*fn)(const uint8_t *, size_t))
{
    char dir[256];
    snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", name);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("%s: missing (run the tests from the repository root)", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc((size_t)len + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        fn(buf, (size_t)len);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

static void corpus_idx(void **st) { assert_true(replay("idx", fuzz_idx) >= 5); }
static void corpus_model(void **st) { assert_true(replay("model", fuzz_model) >= 5); }
static void corpus_netini(void **st) { assert_true(replay("netini", fuzz_netini) >= 5); }
static void corpus_ckpt(void **st) { assert_true(replay("ckpt", fuzz_ckpt) >= 5); }
static void corpus_csv(void **st) { assert_true(replay("csv", fuzz_csv) >= 5); }
static void corpus_image(void **st) { assert_true(replay("image", fuzz_image) >= 5); }
static void corpus_cli(void **st) { assert_true(replay("cli", fuzz_cli) >= 5); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus_idx),
        cmocka_unit_test(corpus_model),
        cmocka_unit_test(corpus_netini),
        cmocka_unit_test(corpus_ckpt),
        cmocka_unit_test(corpus_csv),
        cmocka_unit_test(corpus_image),
        cmocka_unit_test(corpus_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
