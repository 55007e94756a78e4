/* test_data.c — IDX reader, MNIST folders, CSV, and dataset truncate/split/
 * gather/slice. Every test writes its own small files into a fresh folder
 * under /tmp; the real-MNIST test runs only when BADAK_MNIST_DIR is set. */
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char g_dir[64];

/* g_dir/name, in one of 8 rotating buffers so a test can hold several. */
static const char *tpath(const char *name)
{
    static char buf[8][256];
    static int k;
    char *p = buf[k++ & 7];
    snprintf(p, sizeof buf[0], "%s/%s", g_dir, name);
    return p;
}

static void rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/badak-test-data-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    rm_tree(g_dir);
    return 0;
}

static void write_bytes(const char *path, int gz, const void *p, size_t n)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        if (n)
            assert_int_equal(gzwrite(f, p, (unsigned)n), (int)n);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        if (n)
            assert_int_equal(fwrite(p, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
    }
}

/* An IDX file: header for (type, dims), then `n` data bytes as given. */
static void write_idx(const char *path, int gz, int type, int ndim, const uint32_t *dims,
                      const void *data, size_t n)
{
    unsigned char *buf = malloc(4 + 4 * (size_t)ndim + n + 1);
    assert_non_null(buf);
    buf[0] = 0;
    buf[1] = 0;
    buf[2] = (unsigned char)type;
    buf[3] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++) {
        buf[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        buf[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        buf[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        buf[7 + 4 * i] = (unsigned char)dims[i];
    }
    if (n)
        memcpy(buf + 4 + 4 * ndim, data, n);
    write_bytes(path, gz, buf, 4 + 4 * (size_t)ndim + n);
    free(buf);
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, 0, text, strlen(text));
}

/* ------------------------------------------------------------------ IDX */

static void test_idx_plain_u8(void **state)
{
    (void)state;
    uint8_t d[12];
    for (int i = 0; i < 12; i++)
        d[i] = (uint8_t)(i * 20 + 3);
    uint32_t dims[3] = {3, 2, 2};
    write_idx(tpath("u8.idx"), 0, 0x08, 3, dims, d, 12);
    bd_idx idx;
    assert_ok(bd_idx_read(tpath("u8.idx"), &idx));
    assert_int_equal(idx.ndim, 3);
    assert_int_equal(idx.dims[0], 3);
    assert_int_equal(idx.dims[1], 2);
    assert_int_equal(idx.dims[2], 2);
    assert_int_equal(idx.t.dtype, BD_U8);
    assert_int_equal(idx.t.ndim, 3);
    assert_int_equal(idx.t.size, 12);
    assert_memory_equal(idx.t.data, d, 12);
    bd_idx_free(&idx);
    assert_null(idx.t.data);
}

static void test_idx_gz(void **state)
{
    (void)state;
    uint8_t d[6] = {9, 8, 7, 0, 255, 1};
    uint32_t dims[1] = {6};
    write_idx(tpath("u8.idx.gz"), 1, 0x08, 1, dims, d, 6);
    bd_idx idx;
    assert_ok(bd_idx_read(tpath("u8.idx.gz"), &idx));
    assert_int_equal(idx.ndim, 1);
    assert_int_equal(idx.dims[0], 6);
    assert_int_equal(idx.t.dtype, BD_U8);
    assert_memory_equal(idx.t.data, d, 6);
    bd_idx_free(&idx);

    /* a 4-d gz file big enough to span several read chunks (2.4 MB) */
    uint32_t big[4] = {3, 4, 500, 400};
    size_t n = 3 * 4 * 500 * 400;
    uint8_t *b = malloc(n);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 7 + i / 1000);
    write_idx(tpath("big.gz"), 1, 0x08, 4, big, b, n);
    assert_ok(bd_idx_read(tpath("big.gz"), &idx));
    assert_int_equal(idx.ndim, 4);
    assert_int_equal(idx.t.size, n);
    assert_memory_equal(idx.t.data, b, n);
    bd_idx_free(&idx);
    free(b);
}

static void test_idx_types_converted(void **state)
{
    (void)state;
    bd_idx idx;
    /* float32 big-endian: 1.5, -2.25, 3e10 */
    float fv[3] = {1.5f, -2.25f, 3e10f};
    unsigned char fb[12];
    for (int i = 0; i < 3; i++) {
        uint32_t u;
        memcpy(&u, &fv[i], 4);
        for (int k = 0; k < 4; k++)
            fb[4 * i + k] = (unsigned char)(u >> (24 - 8 * k));
    }
    uint32_t d3[1] = {3};
    write_idx(tpath("f32.idx"), 0, 0x0D, 1, d3, fb, 12);
    assert_ok(bd_idx_read(tpath("f32.idx"), &idx));
    assert_int_equal(idx.t.dtype, BD_F32);
    assert_true(bd_f32(&idx.t)[0] == 1.5f);
    assert_true(bd_f32(&idx.t)[1] == -2.25f);
    assert_true(bd_f32(&idx.t)[2] == 3e10f);
    bd_idx_free(&idx);

    /* float64: 0.1, -1e-3 as a [1, 2] matrix, gzipped */
    double dv[2] = {0.1, -1e-3};
    unsigned char db[16];
    for (int i = 0; i < 2; i++) {
        uint64_t u;
        memcpy(&u, &dv[i], 8);
        for (int k = 0; k < 8; k++)
            db[8 * i + k] = (unsigned char)(u >> (56 - 8 * k));
    }
    uint32_t d12[2] = {1, 2};
    write_idx(tpath("f64.idx.gz"), 1, 0x0E, 2, d12, db, 16);
    assert_ok(bd_idx_read(tpath("f64.idx.gz"), &idx));
    assert_int_equal(idx.t.dtype, BD_F32);
    assert_int_equal(idx.t.ndim, 2);
    assert_int_equal(idx.t.shape[1], 2);
    assert_true(bd_f32(&idx.t)[0] == 0.1f);
    assert_true(bd_f32(&idx.t)[1] == -1e-3f);
    bd_idx_free(&idx);

    /* int16: -2, 300, 32767, -32768 */
    unsigned char sb[8] = {0xFF, 0xFE, 0x01, 0x2C, 0x7F, 0xFF, 0x80, 0x00};
    uint32_t d4[1] = {4};
    write_idx(tpath("i16.idx"), 0, 0x0B, 1, d4, sb, 8);
    assert_ok(bd_idx_read(tpath("i16.idx"), &idx));
    assert_int_equal(idx.t.dtype, BD_F32);
    const float want16[4] = {-2.0f, 300.0f, 32767.0f, -32768.0f};
    for (int i = 0; i < 4; i++)
        assert_true(bd_f32(&idx.t)[i] == want16[i]);
    bd_idx_free(&idx);

    /* int32: -70000, 123456 */
    unsigned char ib[8] = {0xFF, 0xFE, 0xEE, 0x90, 0x00, 0x01, 0xE2, 0x40};
    uint32_t d2[1] = {2};
    write_idx(tpath("i32.idx"), 0, 0x0C, 1, d2, ib, 8);
    assert_ok(bd_idx_read(tpath("i32.idx"), &idx));
    assert_true(bd_f32(&idx.t)[0] == -70000.0f);
    assert_true(bd_f32(&idx.t)[1] == 123456.0f);
    bd_idx_free(&idx);

    /* signed byte: -1, 127, -128 */
    unsigned char cb[3] = {0xFF, 0x7F, 0x80};
    write_idx(tpath("i8.idx"), 0, 0x09, 1, d3, cb, 3);
    assert_ok(bd_idx_read(tpath("i8.idx"), &idx));
    assert_int_equal(idx.t.dtype, BD_F32);
    assert_true(bd_f32(&idx.t)[0] == -1.0f);
    assert_true(bd_f32(&idx.t)[1] == 127.0f);
    assert_true(bd_f32(&idx.t)[2] == -128.0f);
    bd_idx_free(&idx);

    /* a float32 file spanning several read chunks converts every element */
    uint32_t dn[1] = {600000};
    unsigned char *big = malloc(4 * 600000);
    assert_non_null(big);
    for (uint32_t i = 0; i < 600000; i++) {
        float v = (float)i * 0.5f;
        uint32_t u;
        memcpy(&u, &v, 4);
        for (int k = 0; k < 4; k++)
            big[4 * i + k] = (unsigned char)(u >> (24 - 8 * k));
    }
    write_idx(tpath("bigf.idx.gz"), 1, 0x0D, 1, dn, big, 4 * 600000);
    free(big);
    assert_ok(bd_idx_read(tpath("bigf.idx.gz"), &idx));
    for (uint32_t i = 0; i < 600000; i += 4999)
        assert_true(bd_f32(&idx.t)[i] == (float)i * 0.5f);
    assert_true(bd_f32(&idx.t)[599999] == 599999 * 0.5f);
    bd_idx_free(&idx);
}

static void test_idx_truncated(void **state)
{
    (void)state;
    bd_idx idx;
    uint8_t d[100] = {0};
    uint32_t dims[2] = {10, 10};
    write_idx(tpath("short.idx"), 0, 0x08, 2, dims, d, 50);
    assert_fails(bd_idx_read(tpath("short.idx"), &idx), BD_ERR_FORMAT,
                 "truncated: expected 100 data bytes, got 50");
    assert_non_null(strstr(bd_errmsg(), tpath("short.idx")));
    assert_null(idx.t.data);

    write_idx(tpath("short.idx.gz"), 1, 0x08, 2, dims, d, 99);
    assert_fails(bd_idx_read(tpath("short.idx.gz"), &idx), BD_ERR_FORMAT,
                 "truncated: expected 100 data bytes, got 99");

    /* float32 file one byte short of its last element */
    uint32_t d3[1] = {3};
    write_idx(tpath("shortf.idx.gz"), 1, 0x0D, 1, d3, d, 11);
    assert_fails(bd_idx_read(tpath("shortf.idx.gz"), &idx), BD_ERR_FORMAT,
                 "expected 12 data bytes, got 11");

    /* header cut inside the dimensions, and files shorter than the magic */
    unsigned char h[6] = {0, 0, 8, 2, 0, 0};
    write_bytes(tpath("hdr.idx"), 0, h, 6);
    assert_fails(bd_idx_read(tpath("hdr.idx"), &idx), BD_ERR_FORMAT, "truncated header");
    write_bytes(tpath("three.idx"), 0, h, 3);
    assert_fails(bd_idx_read(tpath("three.idx"), &idx), BD_ERR_FORMAT,
                 "truncated header: expected 4 bytes, got 3");
    write_bytes(tpath("empty.idx"), 0, h, 0);
    assert_fails(bd_idx_read(tpath("empty.idx"), &idx), BD_ERR_FORMAT, "empty file");
}

static void test_idx_bad_header(void **state)
{
    (void)state;
    bd_idx idx;
    unsigned char m[8] = {0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1};
    write_bytes(tpath("magic.idx"), 0, m, 8);
    assert_fails(bd_idx_read(tpath("magic.idx"), &idx), BD_ERR_FORMAT,
                 "bad magic 0x12345678 (not an IDX file)");
    assert_non_null(strstr(bd_errmsg(), tpath("magic.idx")));

    uint8_t d[4] = {1, 2, 3, 4};
    uint32_t dims[1] = {4};
    write_idx(tpath("type.idx"), 0, 0x07, 1, dims, d, 4);
    assert_fails(bd_idx_read(tpath("type.idx"), &idx), BD_ERR_FORMAT, "unknown IDX data type 0x07");
    write_idx(tpath("nd0.idx"), 0, 0x08, 0, dims, d, 4);
    assert_fails(bd_idx_read(tpath("nd0.idx"), &idx), BD_ERR_FORMAT, "0 dimensions");
    uint32_t d5[5] = {1, 1, 1, 1, 4};
    write_idx(tpath("nd5.idx"), 0, 0x08, 5, d5, d, 4);
    assert_fails(bd_idx_read(tpath("nd5.idx"), &idx), BD_ERR_FORMAT, "5 dimensions");
    uint32_t dz[2] = {4, 0};
    write_idx(tpath("zero.idx"), 0, 0x08, 2, dz, d, 0);
    assert_fails(bd_idx_read(tpath("zero.idx"), &idx), BD_ERR_FORMAT, "dimension 1 is 0");

    assert_fails(bd_idx_read(tpath("no-such-file"), &idx), BD_ERR_IO, "no-such-file");
    assert_fails(bd_idx_read(g_dir, &idx), BD_ERR_IO, "is a folder");
}

static void test_idx_trailing(void **state)
{
    (void)state;
    bd_idx idx;
    uint8_t d[7] = {1, 2, 3, 4, 5, 6, 7};
    uint32_t dims[1] = {4};
    write_idx(tpath("trail.idx"), 0, 0x08, 1, dims, d, 7);
    assert_fails(bd_idx_read(tpath("trail.idx"), &idx), BD_ERR_FORMAT,
                 "3 trailing bytes after the 4 data bytes");
    write_idx(tpath("trail.idx.gz"), 1, 0x08, 1, dims, d, 5);
    assert_fails(bd_idx_read(tpath("trail.idx.gz"), &idx), BD_ERR_FORMAT, "1 trailing bytes");
}

static void test_idx_huge_dims(void **state)
{
    (void)state;
    bd_idx idx;
    uint8_t d[10] = {0};
    /* 2^16 * 2^16 * 2 elements: rejected from the header alone */
    uint32_t huge[3] = {65536, 65536, 2};
    write_idx(tpath("huge.idx"), 0, 0x08, 3, huge, d, 10);
    assert_fails(bd_idx_read(tpath("huge.idx"), &idx), BD_ERR_FORMAT, "too large");
    uint32_t big1[1] = {0xFFFFFFFFu};
    write_idx(tpath("huge1.idx"), 0, 0x08, 1, big1, d, 10);
    assert_fails(bd_idx_read(tpath("huge1.idx"), &idx), BD_ERR_FORMAT, "too large");

    /* 2^30 floats claimed (4 GiB) by a tiny file: refused before allocating,
     * so the peak RSS does not move by anything like that */
    size_t rss0 = bd_peak_rss();
    uint32_t g[1] = {1u << 30};
    write_idx(tpath("claim.idx"), 0, 0x0D, 1, g, d, 8);
    assert_fails(bd_idx_read(tpath("claim.idx"), &idx), BD_ERR_FORMAT,
                 "truncated: expected 4294967296 data bytes, got 8");
    write_idx(tpath("claim.idx.gz"), 1, 0x0D, 1, g, d, 8);
    assert_fails(bd_idx_read(tpath("claim.idx.gz"), &idx), BD_ERR_FORMAT, "truncated");
    assert_true(bd_peak_rss() < rss0 + ((size_t)256 << 20));
}

static void test_idx_corrupt_gz(void **state)
{
    (void)state;
    bd_idx idx;
    enum { N = 20000 };
    uint8_t *d = malloc(N);
    assert_non_null(d);
    for (int i = 0; i < N; i++)
        d[i] = (uint8_t)((i * 2654435761u) >> 24); /* poorly compressible */
    uint32_t dims[1] = {N};
    write_idx(tpath("c.idx.gz"), 1, 0x08, 1, dims, d, N);
    free(d);

    FILE *f = fopen(tpath("c.idx.gz"), "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(N * 2);
    assert_non_null(buf);
    size_t len = fread(buf, 1, N * 2, f);
    fclose(f);
    assert_true(len > 200);

    /* cut the compressed stream in half */
    write_bytes(tpath("cut.idx.gz"), 0, buf, len / 2);
    assert_fails(bd_idx_read(tpath("cut.idx.gz"), &idx), BD_ERR_FORMAT, "truncated");
    assert_non_null(strstr(bd_errmsg(), "cut.idx.gz"));

    /* damage the CRC in the gzip trailer: all data arrives, the check fails */
    buf[len - 6] ^= 0xFF;
    write_bytes(tpath("crc.idx.gz"), 0, buf, len);
    assert_fails(bd_idx_read(tpath("crc.idx.gz"), &idx), BD_ERR_FORMAT, "corrupt");
    buf[len - 6] ^= 0xFF;

    /* damage the deflate data itself */
    for (size_t i = len / 3; i < len / 3 + 40; i++)
        buf[i] ^= 0x5A;
    write_bytes(tpath("bad.idx.gz"), 0, buf, len);
    assert_fails(bd_idx_read(tpath("bad.idx.gz"), &idx), BD_ERR_FORMAT, "bad.idx.gz");
    assert_null(idx.t.data);
    free(buf);
}

/* ---------------------------------------------------------------- MNIST */

/* A fake MNIST folder: ntrain / ntest images of h x w, pixel = (i + j) % 256,
 * label = i % 10; train files plain, test files gzipped. */
static void write_mnist(const char *dir, int ntrain, int ntrain_labels, int ntest, int h,
                        int w, int bad_label)
{
    mkdir(dir, 0755);
    int sets[2][2] = {{ntrain, ntrain_labels}, {ntest, ntest}};
    const char *names[2][2] = {{"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
                               {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}};
    for (int s = 0; s < 2; s++) {
        int n = sets[s][0], nl = sets[s][1];
        size_t sz = (size_t)n * h * w;
        uint8_t *px = malloc(sz);
        uint8_t *lb = malloc((size_t)nl);
        assert_non_null(px);
        assert_non_null(lb);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < h * w; j++)
                px[(size_t)i * h * w + j] = (uint8_t)((i + j) % 256);
        for (int i = 0; i < nl; i++)
            lb[i] = (uint8_t)(i % 10);
        if (s == 0 && bad_label)
            lb[nl - 1] = 10;
        char p[512];
        uint32_t di[3] = {(uint32_t)n, (uint32_t)h, (uint32_t)w}, dl[1] = {(uint32_t)nl};
        snprintf(p, sizeof p, "%s/%s", dir, names[s][0]);
        write_idx(p, s, 0x08, 3, di, px, sz);
        snprintf(p, sizeof p, "%s/%s", dir, names[s][1]);
        write_idx(p, s, 0x08, 1, dl, lb, (size_t)nl);
        free(px);
        free(lb);
    }
}

static void test_mnist_fake(void **state)
{
    (void)state;
    const char *dir = tpath("fake");
    write_mnist(dir, 12, 12, 5, 4, 3, 0);
    bd_dataset tr, te;
    assert_ok(bd_mnist_load(dir, &tr, &te));
    assert_int_equal(tr.n, 12);
    assert_int_equal(te.n, 5);
    assert_int_equal(tr.x.dtype, BD_U8);
    assert_int_equal(tr.x.ndim, 4);
    assert_int_equal(tr.x.shape[0], 12);
    assert_int_equal(tr.x.shape[1], 1);
    assert_int_equal(tr.x.shape[2], 4);
    assert_int_equal(tr.x.shape[3], 3);
    assert_int_equal(tr.c, 1);
    assert_int_equal(tr.h, 4);
    assert_int_equal(tr.w, 3);
    assert_int_equal(tr.nclasses, 10);
    assert_true(tr.scale == 1.0f / 255.0f);
    assert_int_equal(tr.y.dtype, BD_I32);
    assert_int_equal(tr.y.size, 12);
    assert_int_equal(bd_i32(&tr.y)[11], 1);
    assert_int_equal(bd_i32(&te.y)[4], 4);
    assert_int_equal(bd_u8(&tr.x)[5 * 12 + 7], 12);
    assert_int_equal(bd_u8(&te.x)[2 * 12 + 0], 2);
    assert_string_equal(tr.name, "fake-train");
    assert_string_equal(te.name, "fake-test");
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
    assert_null(tr.x.data);

    /* a trailing slash does not change the name */
    char slash[300];
    snprintf(slash, sizeof slash, "%s/", dir);
    assert_ok(bd_mnist_load(slash, &tr, &te));
    assert_string_equal(tr.name, "fake-train");
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

/* A missing data folder: the library says what to do in API terms (the
 * command turns it into its install hint and --data: tests/cli_lib.sh). */
#define SETUP_ADVICE()                                                                    \
    do {                                                                                  \
        assert_non_null(strstr(bd_errmsg(), "install the data sets or name their folder")); \
        assert_null(strstr(bd_errmsg(), "--"));                                           \
    } while (0)

static void test_mnist_errors(void **state)
{
    (void)state;
    bd_dataset tr, te;
    const char *dir = tpath("counts");
    write_mnist(dir, 12, 11, 5, 4, 3, 0);
    assert_fails(bd_mnist_load(dir, &tr, &te), BD_ERR_FORMAT, "has 12 images but");
    assert_non_null(strstr(bd_errmsg(), "has 11 labels"));
    assert_non_null(strstr(bd_errmsg(), "train-images-idx3-ubyte"));
    assert_non_null(strstr(bd_errmsg(), "train-labels-idx1-ubyte"));
    assert_null(tr.x.data);

    dir = tpath("label10");
    write_mnist(dir, 12, 12, 5, 4, 3, 1);
    assert_fails(bd_mnist_load(dir, &tr, &te), BD_ERR_FORMAT, "label 10 of sample 11");

    assert_fails(bd_mnist_load(tpath("no-such-folder"), &tr, &te), BD_ERR_IO, "no-such-folder");
    SETUP_ADVICE();

    /* a folder missing its test labels: the train set loaded first is freed */
    dir = tpath("partial");
    write_mnist(dir, 12, 12, 5, 4, 3, 0);
    char p[512];
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte.gz", dir);
    assert_int_equal(unlink(p), 0);
    assert_fails(bd_mnist_load(dir, &tr, &te), BD_ERR_IO, "t10k-labels-idx1-ubyte");
    SETUP_ADVICE();
    assert_null(tr.x.data);

    /* labels that are 2-d */
    uint8_t lb[12] = {0};
    uint32_t d2[2] = {6, 2};
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", dir);
    write_idx(p, 0, 0x08, 2, d2, lb, 12);
    assert_fails(bd_mnist_load(dir, &tr, &te), BD_ERR_FORMAT, "labels must be 1-d");

    /* images that are float */
    dir = tpath("fimg");
    write_mnist(dir, 2, 2, 1, 1, 1, 0);
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", dir);
    uint32_t d3[3] = {2, 1, 1};
    uint8_t fl[8] = {0};
    write_idx(p, 0, 0x0D, 3, d3, fl, 8);
    assert_fails(bd_mnist_load(dir, &tr, &te), BD_ERR_FORMAT, "images must be 3-d unsigned bytes");
}

static void test_data_dir(void **state)
{
    (void)state;
    char dir[512];
    const char *root = tpath("root");
    mkdir(root, 0755);
    mkdir(tpath("root/mnist"), 0755);
    setenv("BADAK_DATA", root, 1);
    assert_ok(bd_data_dir("mnist", dir, sizeof dir));
    assert_string_equal(dir, tpath("root/mnist"));
    /* fashion is in neither $BADAK_DATA nor (in this test's cwd, normally)
     * ./data: the message names the folder and the remedy */
    if (access("data/fashion", F_OK) != 0) {
        assert_fails(bd_data_dir("fashion", dir, sizeof dir), BD_ERR_IO,
                     tpath("root/fashion"));
        SETUP_ADVICE();
    }
    unsetenv("BADAK_DATA");
    /* any other name is a folder path, taken as is */
    assert_ok(bd_data_dir(g_dir, dir, sizeof dir));
    assert_string_equal(dir, g_dir);
    assert_fails(bd_data_dir(tpath("nope"), dir, sizeof dir), BD_ERR_IO, tpath("nope"));
    SETUP_ADVICE();
    char small[8];
    assert_fails(bd_data_dir(g_dir, small, sizeof small), BD_ERR_ARG, "longer than len 8");
}

/* ------------------------------------------------------------------ CSV */

static void test_csv_header_last(void **state)
{
    (void)state;
    bd_dataset ds;
    write_text(tpath("iris.csv"), "a, b ,label\r\n1,2,0\r\n 3.5 , -4e1 , 1.0 \r\n\r\n6,7,2\n\n\n");
    assert_ok(bd_csv_load(tpath("iris.csv"), -1, &ds));
    assert_int_equal(ds.n, 3);
    assert_int_equal(ds.x.dtype, BD_F32);
    assert_int_equal(ds.x.ndim, 2);
    assert_int_equal(ds.x.shape[0], 3);
    assert_int_equal(ds.x.shape[1], 2);
    assert_int_equal(ds.c, 1);
    assert_int_equal(ds.h, 1);
    assert_int_equal(ds.w, 2);
    assert_int_equal(ds.nclasses, 3);
    assert_true(ds.scale == 1.0f);
    const float want[6] = {1, 2, 3.5f, -40, 6, 7};
    for (int i = 0; i < 6; i++)
        assert_true(bd_f32(&ds.x)[i] == want[i]);
    assert_int_equal(bd_i32(&ds.y)[0], 0);
    assert_int_equal(bd_i32(&ds.y)[1], 1);
    assert_int_equal(bd_i32(&ds.y)[2], 2);
    assert_string_equal(ds.name, "iris");
    bd_dataset_free(&ds);

    /* explicit last column, same result */
    assert_ok(bd_csv_load(tpath("iris.csv"), 2, &ds));
    assert_int_equal(bd_i32(&ds.y)[2], 2);
    bd_dataset_free(&ds);
}

static void test_csv_label_first_negative(void **state)
{
    (void)state;
    bd_dataset ds;
    write_text(tpath("first.csv"), "4,1,0.25\n0,0,2\n");
    assert_ok(bd_csv_load(tpath("first.csv"), 0, &ds));
    assert_int_equal(ds.n, 2); /* no header: the first row is numeric */
    assert_int_equal(ds.w, 2);
    assert_int_equal(ds.nclasses, 5);
    assert_int_equal(bd_i32(&ds.y)[0], 4);
    assert_int_equal(bd_i32(&ds.y)[1], 0);
    assert_true(bd_f32(&ds.x)[0] == 1.0f);
    assert_true(bd_f32(&ds.x)[1] == 0.25f);
    assert_true(bd_f32(&ds.x)[2] == 0.0f);
    assert_true(bd_f32(&ds.x)[3] == 2.0f);
    bd_dataset_free(&ds);

    /* -2: the middle of three columns */
    assert_ok(bd_csv_load(tpath("first.csv"), -2, &ds));
    assert_int_equal(ds.nclasses, 2);
    assert_int_equal(bd_i32(&ds.y)[0], 1);
    assert_int_equal(bd_i32(&ds.y)[1], 0);
    assert_true(bd_f32(&ds.x)[0] == 4.0f);
    assert_true(bd_f32(&ds.x)[1] == 0.25f);
    assert_true(bd_f32(&ds.x)[2] == 0.0f);
    assert_true(bd_f32(&ds.x)[3] == 2.0f);
    bd_dataset_free(&ds);

    assert_fails(bd_csv_load(tpath("first.csv"), 3, &ds), BD_ERR_ARG,
                 "label column 3 out of range for 3 columns");
    assert_fails(bd_csv_load(tpath("first.csv"), -4, &ds), BD_ERR_ARG, "label column -4");
}

static void test_csv_errors(void **state)
{
    (void)state;
    bd_dataset ds;
    write_text(tpath("ragged.csv"), "x,y,label\n1,2,0\n1,2,3,1\n");
    assert_fails(bd_csv_load(tpath("ragged.csv"), -1, &ds), BD_ERR_FORMAT,
                 "ragged.csv:3: 4 columns, expected 3");
    assert_null(ds.x.data);

    write_text(tpath("text.csv"), "1,2,0\n1,abc,1\n");
    assert_fails(bd_csv_load(tpath("text.csv"), -1, &ds), BD_ERR_FORMAT,
                 "text.csv:2: column 2: \"abc\" is not a number");
    write_text(tpath("partial.csv"), "1,2,0\n1,2x,1\n");
    assert_fails(bd_csv_load(tpath("partial.csv"), -1, &ds), BD_ERR_FORMAT, "\"2x\"");
    write_text(tpath("emptyval.csv"), "1,2,0\n1,,1\n");
    assert_fails(bd_csv_load(tpath("emptyval.csv"), -1, &ds), BD_ERR_FORMAT, ":2: column 2");
    write_text(tpath("inf.csv"), "1,2,0\n1,inf,1\n");
    assert_fails(bd_csv_load(tpath("inf.csv"), -1, &ds), BD_ERR_FORMAT, "finite");

    write_text(tpath("empty.csv"), "");
    assert_fails(bd_csv_load(tpath("empty.csv"), -1, &ds), BD_ERR_FORMAT, "no data rows");
    write_text(tpath("blank.csv"), "\n \n\r\n");
    assert_fails(bd_csv_load(tpath("blank.csv"), -1, &ds), BD_ERR_FORMAT, "empty file");
    write_text(tpath("hdr.csv"), "a,b,c\n");
    assert_fails(bd_csv_load(tpath("hdr.csv"), -1, &ds), BD_ERR_FORMAT, "only a header");

    write_text(tpath("frac.csv"), "1,2,0\n1,2,1.5\n");
    assert_fails(bd_csv_load(tpath("frac.csv"), -1, &ds), BD_ERR_FORMAT, "frac.csv:2: column 3");
    write_text(tpath("neg.csv"), "1,2,-1\n");
    assert_fails(bd_csv_load(tpath("neg.csv"), -1, &ds), BD_ERR_FORMAT, "not a class index");
    write_text(tpath("one.csv"), "1\n2\n");
    assert_fails(bd_csv_load(tpath("one.csv"), -1, &ds), BD_ERR_FORMAT, "1 column");
    assert_fails(bd_csv_load(tpath("missing.csv"), -1, &ds), BD_ERR_IO, "missing.csv");
}

static void test_csv_long_lines(void **state)
{
    (void)state;
    /* 3 rows of 5000 features: lines far beyond any fixed buffer */
    enum { D = 5000, R = 3 };
    size_t cap = (size_t)R * (D + 1) * 12 + 64;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t o = 0;
    for (int r = 0; r < R; r++) {
        for (int j = 0; j < D; j++)
            o += (size_t)snprintf(t + o, cap - o, "%d.25,", r * D + j);
        o += (size_t)snprintf(t + o, cap - o, "%d\n", r);
    }
    write_text(tpath("long.csv"), t);
    free(t);
    bd_dataset ds;
    assert_ok(bd_csv_load(tpath("long.csv"), -1, &ds));
    assert_int_equal(ds.n, R);
    assert_int_equal(ds.w, D);
    assert_true(bd_f32(&ds.x)[2 * D + 4999] == (float)(2 * D + 4999) + 0.25f);
    assert_int_equal(bd_i32(&ds.y)[2], 2);
    bd_dataset_free(&ds);
}

/* -------------------------------------------------------------- dataset */

/* n samples of shape [1, 2, 2] (u8, value 10*i + j) or [d] (f32, i + j/8);
 * label i. */
static void make_ds(bd_dataset *ds, int n, int u8)
{
    memset(ds, 0, sizeof *ds);
    if (u8) {
        int s[4] = {n, 1, 2, 2};
        assert_ok(bd_tensor_alloc(&ds->x, BD_U8, 4, s));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < 4; j++)
                bd_u8(&ds->x)[i * 4 + j] = (uint8_t)(10 * i + j);
        ds->c = 1;
        ds->h = 2;
        ds->w = 2;
        ds->scale = 1.0f / 255.0f;
    } else {
        int s[2] = {n, 3};
        assert_ok(bd_tensor_alloc(&ds->x, BD_F32, 2, s));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < 3; j++)
                bd_f32(&ds->x)[i * 3 + j] = (float)i + (float)j / 8.0f;
        ds->c = 1;
        ds->h = 1;
        ds->w = 3;
        ds->scale = 1.0f;
    }
    assert_ok(bd_tensor_alloc(&ds->y, BD_I32, 1, &n));
    for (int i = 0; i < n; i++)
        bd_i32(&ds->y)[i] = i;
    ds->n = n;
    ds->nclasses = n;
    snprintf(ds->name, sizeof ds->name, "toy");
}

static void test_truncate(void **state)
{
    (void)state;
    bd_dataset ds;
    make_ds(&ds, 10, 1);
    assert_fails(bd_dataset_truncate(&ds, 0), BD_ERR_ARG, "toy");
    assert_fails(bd_dataset_truncate(&ds, 11), BD_ERR_ARG, "cannot keep 11 samples");
    assert_ok(bd_dataset_truncate(&ds, 4));
    assert_int_equal(ds.n, 4);
    assert_int_equal(ds.x.shape[0], 4);
    assert_int_equal(ds.x.size, 16);
    assert_int_equal(ds.y.shape[0], 4);
    assert_int_equal(ds.y.size, 4);
    assert_int_equal(bd_u8(&ds.x)[15], 33);
    assert_fails(bd_dataset_truncate(&ds, 5), BD_ERR_ARG, "it has 4");
    bd_dataset_free(&ds);
}

/* Split 20 samples 30/70 with `seed`; check it; return part's labels. */
static void split_and_check(uint64_t seed, int u8, int32_t part_labels[6])
{
    bd_dataset ds, part;
    make_ds(&ds, 20, u8);
    bd_rng rng;
    bd_rng_seed(&rng, seed);
    assert_ok(bd_dataset_split(&ds, 0.3f, &rng, &part));
    assert_int_equal(part.n, 6);
    assert_int_equal(ds.n, 14);
    assert_int_equal(part.x.shape[0], 6);
    assert_int_equal(ds.x.shape[0], 14);
    assert_int_equal(part.y.size, 6);
    assert_int_equal(ds.y.size, 14);
    assert_int_equal(part.x.ndim, ds.x.ndim);
    assert_int_equal(part.c, ds.c);
    assert_int_equal(part.w, ds.w);
    assert_true(part.scale == ds.scale);
    assert_int_equal(part.nclasses, 20);
    assert_string_equal(part.name, "toy-val");
    /* disjoint, union is 0..19, both sides in original order, rows follow
     * their labels */
    int seen[20] = {0};
    bd_dataset *sides[2] = {&ds, &part};
    for (int s = 0; s < 2; s++) {
        bd_dataset *d = sides[s];
        for (int i = 0; i < d->n; i++) {
            int32_t y = bd_i32(&d->y)[i];
            assert_in_range(y, 0, 19);
            seen[y]++;
            if (i > 0)
                assert_true(bd_i32(&d->y)[i - 1] < y);
            if (u8)
                assert_int_equal(bd_u8(&d->x)[i * 4 + 3], 10 * y + 3);
            else
                assert_true(bd_f32(&d->x)[i * 3 + 2] == (float)y + 0.25f);
        }
    }
    for (int i = 0; i < 20; i++)
        assert_int_equal(seen[i], 1);
    memcpy(part_labels, bd_i32(&part.y), 6 * sizeof(int32_t));
    bd_dataset_free(&ds);
    bd_dataset_free(&part);
}

static void test_split(void **state)
{
    (void)state;
    int32_t a[6], b[6], c[6];
    split_and_check(42, 1, a);
    split_and_check(42, 0, b);
    split_and_check(7, 1, c);
    assert_memory_equal(a, b, sizeof a); /* same seed, same draw */
    assert_memory_not_equal(a, c, sizeof a);

    bd_dataset ds, part;
    bd_rng rng;
    bd_rng_seed(&rng, 1);
    make_ds(&ds, 10, 1);
    assert_fails(bd_dataset_split(&ds, 0.0f, &rng, &part), BD_ERR_ARG, "not in (0, 1)");
    assert_fails(bd_dataset_split(&ds, 1.0f, &rng, &part), BD_ERR_ARG, "not in (0, 1)");
    assert_fails(bd_dataset_split(&ds, NAN, &rng, &part), BD_ERR_ARG, "not in (0, 1)");
    assert_fails(bd_dataset_split(&ds, 0.01f, &rng, &part), BD_ERR_ARG, "side empty");
    assert_fails(bd_dataset_split(&ds, 0.99f, &rng, &part), BD_ERR_ARG, "side empty");
    assert_int_equal(ds.n, 10);

    /* split after truncate: only the kept samples take part */
    assert_ok(bd_dataset_truncate(&ds, 4));
    assert_ok(bd_dataset_split(&ds, 0.5f, &rng, &part));
    assert_int_equal(ds.n + part.n, 4);
    for (int i = 0; i < part.n; i++)
        assert_in_range(bd_i32(&part.y)[i], 0, 3);
    for (int i = 0; i < ds.n; i++)
        assert_in_range(bd_i32(&ds.y)[i], 0, 3);
    bd_dataset_free(&ds);
    bd_dataset_free(&part);
}

static void test_gather_slice(void **state)
{
    (void)state;
    bd_dataset ds;
    make_ds(&ds, 6, 1);
    bd_tensor xb, yb;
    assert_ok(bd_tensor_zeros(&xb, 2, 3, 4, 0, 0)); /* room for 3 samples */
    int ys = 3;
    assert_ok(bd_tensor_alloc(&yb, BD_I32, 1, &ys));

    const int32_t idx[3] = {5, 0, 5};
    assert_ok(bd_dataset_gather(&ds, idx, 3, &xb, &yb));
    assert_int_equal(xb.ndim, 4);
    assert_int_equal(xb.shape[0], 3);
    assert_int_equal(xb.shape[1], 1);
    assert_int_equal(xb.shape[2], 2);
    assert_int_equal(xb.shape[3], 2);
    assert_int_equal(yb.shape[0], 3);
    for (int r = 0; r < 3; r++) {
        for (int j = 0; j < 4; j++)
            assert_true(bd_f32(&xb)[r * 4 + j] == (float)(10 * idx[r] + j) * (1.0f / 255.0f));
        assert_int_equal(bd_i32(&yb)[r], idx[r]);
    }
    assert_true(bd_f32(&xb)[3] == 53.0f / 255.0f || fabsf(bd_f32(&xb)[3] - 53.0f / 255.0f) < 1e-7f);

    /* smaller batch reshapes down; yb may be NULL */
    const int32_t one[1] = {2};
    assert_ok(bd_dataset_gather(&ds, one, 1, &xb, NULL));
    assert_int_equal(xb.shape[0], 1);
    assert_int_equal(xb.size, 4);
    assert_true(bd_f32(&xb)[1] == 21.0f * (1.0f / 255.0f));

    const int32_t bad[2] = {1, 6};
    assert_fails(bd_dataset_gather(&ds, bad, 2, &xb, &yb), BD_ERR_ARG,
                 "sample index 6 (batch row 1) not in 0..5");
    const int32_t neg[1] = {-1};
    assert_fails(bd_dataset_gather(&ds, neg, 1, &xb, &yb), BD_ERR_ARG, "sample index -1");
    const int32_t four[4] = {0, 1, 2, 3};
    assert_fails(bd_dataset_gather(&ds, four, 4, &xb, &yb), BD_ERR_SHAPE,
                 "needs 16 elements, buffer holds 12");

    /* slice: contiguous samples 3, 4 */
    assert_ok(bd_dataset_slice(&ds, 3, 2, &xb, &yb));
    assert_int_equal(xb.shape[0], 2);
    assert_int_equal(yb.shape[0], 2);
    for (int r = 0; r < 2; r++) {
        for (int j = 0; j < 4; j++)
            assert_true(bd_f32(&xb)[r * 4 + j] == (float)(10 * (3 + r) + j) * (1.0f / 255.0f));
        assert_int_equal(bd_i32(&yb)[r], 3 + r);
    }
    assert_fails(bd_dataset_slice(&ds, 5, 2, &xb, &yb), BD_ERR_ARG, "exceeds its 6 samples");
    assert_fails(bd_dataset_slice(&ds, -1, 1, &xb, &yb), BD_ERR_ARG, "from index -1");
    assert_fails(bd_dataset_slice(&ds, 0, 4, &xb, &yb), BD_ERR_SHAPE, "needs 16 elements");
    assert_fails(bd_dataset_slice(&ds, 0, 0, &xb, &yb), BD_ERR_ARG, "of 0 samples");
    bd_dataset_free(&ds);

    /* f32 2-d data: batch [n, D], values copied as they are */
    make_ds(&ds, 5, 0);
    const int32_t idx2[2] = {4, 1};
    assert_ok(bd_dataset_gather(&ds, idx2, 2, &xb, &yb));
    assert_int_equal(xb.ndim, 2);
    assert_int_equal(xb.shape[0], 2);
    assert_int_equal(xb.shape[1], 3);
    assert_true(bd_f32(&xb)[0] == 4.0f);
    assert_true(bd_f32(&xb)[5] == 1.25f);
    assert_int_equal(bd_i32(&yb)[0], 4);
    assert_ok(bd_dataset_slice(&ds, 1, 3, &xb, &yb));
    assert_true(bd_f32(&xb)[8] == 3.25f);
    assert_int_equal(bd_i32(&yb)[2], 3);

    /* wrong batch dtypes */
    bd_tensor wrong;
    assert_ok(bd_tensor_alloc(&wrong, BD_U8, 1, &ys));
    assert_fails(bd_dataset_gather(&ds, idx2, 2, &wrong, &yb), BD_ERR_ARG, "must be f32");
    assert_fails(bd_dataset_gather(&ds, idx2, 2, &xb, &wrong), BD_ERR_ARG, "must be i32");
    bd_tensor_free(&wrong);
    bd_dataset_free(&ds);
    bd_tensor_free(&xb);
    bd_tensor_free(&yb);
}

/* ------------------------------------------------------------ real MNIST */

static void test_real_mnist(void **state)
{
    (void)state;
    const char *dir = getenv("BADAK_MNIST_DIR");
    struct stat st;
    if (!dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        skip();
        return;
    }
    bd_dataset tr, te;
    assert_ok(bd_mnist_load(dir, &tr, &te));
    assert_int_equal(tr.n, 60000);
    assert_int_equal(te.n, 10000);
    assert_int_equal(tr.x.shape[0], 60000);
    assert_int_equal(tr.x.shape[1], 1);
    assert_int_equal(tr.x.shape[2], 28);
    assert_int_equal(tr.x.shape[3], 28);
    assert_int_equal(te.h, 28);
    assert_int_equal(te.w, 28);
    assert_int_equal(bd_i32(&tr.y)[0], 5);
    assert_int_equal(bd_i32(&te.y)[0], 7);
    /* class counts of the training set are well known: 5923 zeros */
    int zeros = 0;
    for (int i = 0; i < tr.n; i++)
        zeros += bd_i32(&tr.y)[i] == 0;
    assert_int_equal(zeros, 5923);
    /* the batch of the first two samples lies in [0, 1] and is not blank */
    bd_tensor xb;
    assert_ok(bd_tensor_zeros(&xb, 2, 2, 784, 0, 0));
    assert_ok(bd_dataset_slice(&tr, 0, 2, &xb, NULL));
    float mx = 0;
    for (int i = 0; i < 2 * 784; i++) {
        assert_true(bd_f32(&xb)[i] >= 0.0f && bd_f32(&xb)[i] <= 1.0f);
        mx = fmaxf(mx, bd_f32(&xb)[i]);
    }
    assert_true(mx == 1.0f);
    bd_tensor_free(&xb);
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_plain_u8),
        cmocka_unit_test(test_idx_gz),
        cmocka_unit_test(test_idx_types_converted),
        cmocka_unit_test(test_idx_truncated),
        cmocka_unit_test(test_idx_bad_header),
        cmocka_unit_test(test_idx_trailing),
        cmocka_unit_test(test_idx_huge_dims),
        cmocka_unit_test(test_idx_corrupt_gz),
        cmocka_unit_test(test_mnist_fake),
        cmocka_unit_test(test_mnist_errors),
        cmocka_unit_test(test_data_dir),
        cmocka_unit_test(test_csv_header_last),
        cmocka_unit_test(test_csv_label_first_negative),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_long_lines),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_gather_slice),
        cmocka_unit_test(test_real_mnist),
    };
    return cmocka_run_group_tests_name("data", tests, setup, teardown);
}
