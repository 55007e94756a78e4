/* half_float_network.c — mirrors the book's ch08/half_float_network.py
 * (8.3.4, "arithmetic precision"): the test accuracy of a trained network
 * whose weights are kept in 16 bits instead of 32. The book converts its
 * DeepConvNet's parameters to float16 (and the test images too) and finds
 * the same accuracy; here float16 and bfloat16, both rounded from float32
 * to the nearest value (ties to even), written out below bit by bit.
 *
 *   half_float_network MODEL       accuracy with float32, float16, bfloat16
 *   half_float_network --values    a few conversions, to check the rounding
 *
 *   float16   1 sign, 5 exponent, 10 fraction bits: about 3 decimal digits,
 *             largest 65504, smallest normal 2^-14, subnormals down to 2^-24
 *   bfloat16  1 sign, 8 exponent, 7 fraction bits: float32's range, about 2
 *             digits (float32 with the low 16 bits rounded off)
 *
 * The model file (safetensors: an 8-byte header length, a JSON header with
 * each tensor's dtype, shape and byte offsets, then the raw little-endian
 * floats) is read into memory, every F32 tensor in it (weights, biases,
 * BatchNorm statistics) rounded in place, and the result loaded with
 * bd_model_load_mem and evaluated: storage in 16 bits, arithmetic in float32.
 * The test images stay as they are (the book rounds them too: k/255 in
 * float16 is off by at most 2^-12 and changes nothing here). */
#include "learn.h"

#include <cJSON.h>

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* float32 -> float16 bits, round to nearest, ties to even */
static uint16_t f32_to_f16(float f)
{
    uint32_t u = bits(f), mant = u & 0x7fffff;
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    int exp = (int)((u >> 23) & 0xff);
    if (exp == 255) /* inf stays inf, NaN stays NaN */
        return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    int e = exp - 127 + 15; /* the float16 exponent field */
    if (e >= 31)
        return sign | 0x7c00; /* too large: inf */
    if (e <= 0) { /* subnormal float16: m x 2^-24, m = (1.mant) >> (14 - e) */
        if (e < -10)
            return sign; /* below half of 2^-24: 0 */
        uint32_t M = mant | 0x800000, shift = (uint32_t)(14 - e);
        uint32_t m = M >> shift, rem = M & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (m & 1)))
            m++; /* may become 0x400, the smallest normal: still right */
        return (uint16_t)(sign | m);
    }
    uint16_t h = (uint16_t)(sign | (e << 10) | (mant >> 13));
    uint32_t rem = mant & 0x1fff; /* the 13 bits dropped */
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
        h++; /* a carry moves into the exponent; 65520 and up become inf */
    return h;
}

static float f16_to_f32(uint16_t h)
{
    int exp = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v = exp == 0 ? ldexpf((float)m, -24)                 /* subnormal */
            : exp == 31 ? (m ? NAN : INFINITY)
            : ldexpf((float)(1024 + m), exp - 25);             /* 1.m x 2^(e-15) */
    return h & 0x8000 ? -v : v;
}

/* float32 -> bfloat16 (kept as the float32 it stands for): add just under
 * half of the dropped part, plus 1 if the kept part is odd, then drop it */
static float round_bf16(float f)
{
    uint32_t u = bits(f);
    if (isnan(f))
        return from_bits((u | 0x400000) & 0xffff0000u);
    u += 0x7fff + ((u >> 16) & 1);
    return from_bits(u & 0xffff0000u);
}

static float round_f16(float f) { return f16_to_f32(f32_to_f16(f)); }

static void values(void)
{
    /* ties: 1 + 2^-11 and 1 + 3 2^-11 lie halfway between float16 neighbours,
     * 1 + 2^-8 and 1 + 3 2^-8 between bfloat16 ones; the even one wins */
    static const float v[] = {0.1f, 1.0f / 3, 3.14159265f, 65504, 65519, 65520, 1e-8f,
                              5e-8f, 6.1e-5f, -2.5e-6f, 1e30f, 1.00048828125f,
                              1.00146484375f, 1.00390625f, 1.01171875f};
    printf("%-14s %-18s %-18s\n", "float32", "float16", "bfloat16");
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        printf("%-14.9g %-18.12g %-18.12g\n", (double)v[i], (double)round_f16(v[i]),
               (double)round_bf16(v[i]));
}

/* The model file in memory, and where its F32 tensors' floats are */
typedef struct model_file {
    unsigned char *buf;
    size_t len, data;       /* data: where the data area starts */
    size_t nt, off[256], cnt[256];
} model_file;

static int read_model(const char *path, model_file *m)
{
    FILE *f = fopen(path, "rb");
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (n < 8 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "half_float_network: %s: cannot read\n", path);
        if (f)
            fclose(f);
        return 0;
    }
    m->len = (size_t)n;
    m->buf = xmalloc(m->len);
    size_t got = fread(m->buf, 1, m->len, f);
    fclose(f);
    uint64_t H = 0;
    for (int i = 7; i >= 0; i--) /* little-endian header length */
        H = H << 8 | m->buf[i];
    if (got != m->len || H > m->len - 8)
        return fprintf(stderr, "half_float_network: %s: not a safetensors file\n", path), 0;
    m->data = 8 + (size_t)H;
    cJSON *hdr = cJSON_ParseWithLength((const char *)m->buf + 8, (size_t)H);
    m->nt = 0;
    for (cJSON *t = hdr ? hdr->child : NULL; t; t = t->next) {
        const cJSON *dt = cJSON_GetObjectItem(t, "dtype"), *o = cJSON_GetObjectItem(t, "data_offsets");
        if (!cJSON_IsString(dt) || strcmp(dt->valuestring, "F32") || cJSON_GetArraySize(o) != 2 ||
            m->nt == 256)
            continue; /* __metadata__, integer tensors */
        double a = cJSON_GetArrayItem(o, 0)->valuedouble, b = cJSON_GetArrayItem(o, 1)->valuedouble;
        if (!(a >= 0 && b >= a && m->data + b <= m->len))
            continue;
        m->off[m->nt] = m->data + (size_t)a;
        m->cnt[m->nt++] = (size_t)(b - a) / 4;
    }
    cJSON_Delete(hdr);
    return hdr != NULL;
}

/* Round every F32 tensor of a copy of the file, load it, evaluate it */
static int accuracy(const model_file *m, float (*round)(float), const bd_dataset *test,
                    const char *name, float *acc)
{
    unsigned char *copy = xmalloc(m->len);
    memcpy(copy, m->buf, m->len);
    size_t n = 0, zero = 0;
    double worst = 0;
    for (size_t t = 0; round && t < m->nt; t++)
        for (size_t i = 0; i < m->cnt[t]; i++, n++) {
            float w, r; /* memcpy: the floats need not be aligned */
            memcpy(&w, copy + m->off[t] + 4 * i, 4);
            r = round(w);
            memcpy(copy + m->off[t] + 4 * i, &r, 4);
            zero += r == 0 && w != 0;
            if (w != 0 && isfinite(r))
                worst = fmax(worst, fabs((double)r - w) / fabs(w));
        }
    bd_net *net = NULL;
    bd_status s = bd_model_load_mem(&net, copy, m->len, name, NULL);
    free(copy);
    if (s != BD_OK)
        return fprintf(stderr, "half_float_network: %s\n", bd_errmsg()), 0;
    s = bd_net_reserve(net, 100);
    if (s == BD_OK)
        s = bd_evaluate(net, test, acc, NULL);
    bd_net_free(net);
    if (s != BD_OK)
        return fprintf(stderr, "half_float_network: %s\n", bd_errmsg()), 0;
    printf("caluculate accuracy (%s) ... test accuracy %.4f", name, (double)*acc);
    if (round)
        printf("  (%zu floats rounded, largest relative change %.2g, %zu flushed to 0)", n, worst, zero);
    putchar('\n');
    return 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--values")) {
        values();
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: half_float_network MODEL | --values\n");
        return 2;
    }
    bd_set_threads(1);
    model_file m = {0};
    if (!read_model(argv[1], &m)) {
        free(m.buf);
        return 1;
    }
    bd_dataset train, test;
    if (bd_mnist_load(mnist_dir(), &train, &test) != BD_OK) {
        printf("skipped: %s\n", bd_errmsg());
        free(m.buf);
        return 0;
    }
    float a32 = 0, a16 = 0, ab16 = 0; /* the book spells it "caluculate" */
    int ok = accuracy(&m, NULL, &test, "float32", &a32) && accuracy(&m, round_f16, &test, "float16", &a16) &&
             accuracy(&m, round_bf16, &test, "bfloat16", &ab16);
    if (ok)
        printf("float16 - float32: %+.4f, bfloat16 - float32: %+.4f\n", (double)(a16 - a32),
               (double)(ab16 - a32));
    bd_dataset_free(&train), bd_dataset_free(&test);
    free(m.buf);
    return !ok;
}
