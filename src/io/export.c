/* export.c — a trained network as one C header for microcontrollers: every
 * weight as a `static const float` array (hex float literals, so the values
 * are exact), two static activation buffers, and <prefix>_predict(), plain
 * loops needing only <math.h> (for expf/tanhf/sqrtf). Layers run in
 * evaluation form: BatchNorm with its running statistics (folded into a
 * scale and shift per feature), Dropout as the identity, RReLU with its mean
 * slope. Residual blocks are not exported (an error names the layer). */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

/* array `name` of n floats, 4 a line, as C99 hex literals */
static void put_array(FILE *f, const char *name, const float *v, size_t n)
{
    fprintf(f, "static const float %s[%zu] = {", name, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%af,", i % 4 ? " " : "\n    ", (double)v[i]);
    if (!n)
        fprintf(f, "0");
    fprintf(f, "\n};\n");
}

/* The kernels the predict function calls; static inline so those a network
 * does not use cost nothing and warn nowhere. */
static const char *KERNELS =
    "/* y [O] = x [I] W [I,O] + b [O] */\n"
    "static inline void %P_affine(float *y, const float *x, const float *W, const float *b,\n"
    "                             int I, int O)\n"
    "{\n"
    "    for (int o = 0; o < O; o++)\n"
    "        y[o] = b[o];\n"
    "    for (int i = 0; i < I; i++) {\n"
    "        const float xi = x[i];\n"
    "        const float *w = W + (long)i * O;\n"
    "        for (int o = 0; o < O; o++)\n"
    "            y[o] += xi * w[o];\n"
    "    }\n"
    "}\n"
    "\n"
    "/* x [C,H,W] * W [F,C,K,K] + b [F] -> y [F,OH,OW], stride S, zero padding P */\n"
    "static inline void %P_conv(float *y, const float *x, const float *W, const float *b, int C,\n"
    "                           int H, int Wd, int F, int K, int S, int P, int OH, int OW)\n"
    "{\n"
    "    for (int f = 0; f < F; f++)\n"
    "        for (int oy = 0; oy < OH; oy++)\n"
    "            for (int ox = 0; ox < OW; ox++) {\n"
    "                float acc = b ? b[f] : 0.0f;\n"
    "                for (int c = 0; c < C; c++)\n"
    "                    for (int ky = 0; ky < K; ky++) {\n"
    "                        const int iy = oy * S - P + ky;\n"
    "                        if (iy < 0 || iy >= H)\n"
    "                            continue;\n"
    "                        for (int kx = 0; kx < K; kx++) {\n"
    "                            const int ix = ox * S - P + kx;\n"
    "                            if (ix < 0 || ix >= Wd)\n"
    "                                continue;\n"
    "                            acc += W[((f * C + c) * K + ky) * K + kx] *\n"
    "                                   x[(c * H + iy) * Wd + ix];\n"
    "                        }\n"
    "                    }\n"
    "                y[(f * OH + oy) * OW + ox] = acc;\n"
    "            }\n"
    "}\n"
    "\n"
    "/* max (avg = 0) or average (avg = 1, padding counted) of K x K windows */\n"
    "static inline void %P_pool(float *y, const float *x, int C, int H, int Wd, int K, int S,\n"
    "                           int P, int OH, int OW, int avg)\n"
    "{\n"
    "    for (int c = 0; c < C; c++)\n"
    "        for (int oy = 0; oy < OH; oy++)\n"
    "            for (int ox = 0; ox < OW; ox++) {\n"
    "                float m = avg ? 0.0f : -INFINITY;\n"
    "                for (int ky = 0; ky < K; ky++)\n"
    "                    for (int kx = 0; kx < K; kx++) {\n"
    "                        const int iy = oy * S - P + ky, ix = ox * S - P + kx;\n"
    "                        const float v = (iy < 0 || iy >= H || ix < 0 || ix >= Wd)\n"
    "                                            ? 0.0f : x[(c * H + iy) * Wd + ix];\n"
    "                        if (avg)\n"
    "                            m += v;\n"
    "                        else if (v > m)\n"
    "                            m = v;\n"
    "                    }\n"
    "                y[(c * OH + oy) * OW + ox] = avg ? m * (1.0f / (float)(K * K)) : m;\n"
    "            }\n"
    "}\n"
    "\n"
    "/* global average pooling: [C, HW] -> [C] */\n"
    "static inline void %P_gap(float *y, const float *x, int C, int HW)\n"
    "{\n"
    "    for (int c = 0; c < C; c++) {\n"
    "        float s = 0.0f;\n"
    "        for (int p = 0; p < HW; p++)\n"
    "            s += x[c * HW + p];\n"
    "        y[c] = s * (1.0f / (float)HW);\n"
    "    }\n"
    "}\n"
    "\n"
    "/* BatchNorm in evaluation form: y = g (x - mean) / sqrt(var + eps) + b per\n"
    "   channel c of [C, HW] (HW = 1 for the dense BatchNorm) */\n"
    "static inline void %P_bn(float *y, const float *x, const float *g, const float *b,\n"
    "                         const float *mean, const float *var, float eps, int C, int HW)\n"
    "{\n"
    "    for (int c = 0; c < C; c++) {\n"
    "        const float is = 1.0f / sqrtf(var[c] + eps);\n"
    "        for (int p = 0; p < HW; p++)\n"
    "            y[c * HW + p] = g[c] * ((x[c * HW + p] - mean[c]) * is) + b[c];\n"
    "    }\n"
    "}\n"
    "\n"
    "/* element-wise activations: kind 0 relu, 1 sigmoid, 2 tanh, 3 leaky (slope a),\n"
    "   4 elu (alpha a) */\n"
    "static inline void %P_act(float *y, const float *x, int n, int kind, float a)\n"
    "{\n"
    "    for (int i = 0; i < n; i++) {\n"
    "        const float v = x[i];\n"
    "        switch (kind) {\n"
    "        case 0: y[i] = v > 0.0f ? v : 0.0f; break;\n"
    "        case 1: y[i] = v >= 0.0f ? 1.0f / (1.0f + expf(-v)) : expf(v) / (1.0f + expf(v)); break;\n"
    "        case 2: y[i] = tanhf(v); break;\n"
    "        case 3: y[i] = v > 0.0f ? v : a * v; break;\n"
    "        default: y[i] = v > 0.0f ? v : a * expm1f(v); break;\n"
    "        }\n"
    "    }\n"
    "}\n"
    "\n"
    "/* PReLU: a learned slope per feature d of [D, HW] */\n"
    "static inline void %P_prelu(float *y, const float *x, const float *a, int D, int HW)\n"
    "{\n"
    "    for (int d = 0; d < D; d++)\n"
    "        for (int p = 0; p < HW; p++) {\n"
    "            const float v = x[d * HW + p];\n"
    "            y[d * HW + p] = v > 0.0f ? v : a[d] * v;\n"
    "        }\n"
    "}\n";

/* KERNELS with %P replaced by the prefix */
static void put_kernels(FILE *f, const char *prefix)
{
    for (const char *p = KERNELS; *p; p++) {
        if (p[0] == '%' && p[1] == 'P') {
            fputs(prefix, f);
            p++;
        } else {
            fputc(*p, f);
        }
    }
}

static bd_status check_layers(const bd_net *net)
{
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer *l = &net->layers[i];
        const bd_layer_op *op = bd__layer_op(l->kind);
        if (!op)
            return bd_error(BD_ERR_ARG, "%s: layer kind %d is not supported by the C export",
                            l->name, (int)l->kind);
        if (!op->emit_c)
            return bd_error(BD_ERR_ARG, "%s: %s layers are not supported by the C export "
                            "(dense and conv layers, pools, BatchNorm, activations, Dropout are)",
                            l->name, op->name);
    }
    return BD_OK;
}

/* ---- the op rows' emitters: one layer's call in the predict function,
 * from `in` to `out`; the weights of layer i are <P>_l<i>_W, _b, _s0, _s1 */

void bd__emit_affine(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                     const char *out)
{
    fprintf(f, "    %s_affine(%s, %s, %s_l%d_W, %s_l%d_b, %d, %d);\n", P, out, in, P, i, P, i,
            l->in_size, l->out_size);
}

void bd__emit_conv(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                   const char *out)
{
    fprintf(f, "    %s_conv(%s, %s, %s_l%d_W, %s_l%d_b, %d, %d, %d, %d, %d, %d, %d, %d, %d);\n", P,
            out, in, P, i, P, i, l->in_c, l->in_h, l->in_w, l->out_c, l->k, l->stride, l->pad,
            l->out_h, l->out_w);
}

static void emit_pool(FILE *f, const char *P, const bd_layer *l, const char *in,
                      const char *out, int avg)
{
    fprintf(f, "    %s_pool(%s, %s, %d, %d, %d, %d, %d, %d, %d, %d, %d);\n", P, out, in, l->in_c,
            l->in_h, l->in_w, l->k, l->stride, l->pad, l->out_h, l->out_w, avg);
}

void bd__emit_maxpool(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                      const char *out)
{
    (void)i;
    emit_pool(f, P, l, in, out, 0);
}

void bd__emit_avgpool(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                      const char *out)
{
    (void)i;
    emit_pool(f, P, l, in, out, 1);
}

void bd__emit_gap(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                  const char *out)
{
    (void)i;
    fprintf(f, "    %s_gap(%s, %s, %d, %d);\n", P, out, in, l->in_c, l->in_h * l->in_w);
}

/* BatchNorm in evaluation form over C channels of HW values (eps is p1) */
static void emit_bn(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                    const char *out, int C, int HW)
{
    fprintf(f, "    %s_bn(%s, %s, %s_l%d_W, %s_l%d_b, %s_l%d_s0, %s_l%d_s1, %af, %d, %d);\n", P,
            out, in, P, i, P, i, P, i, P, i, (double)l->p1, C, HW);
}

void bd__emit_bn(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                 const char *out)
{
    emit_bn(f, P, l, i, in, out, l->in_size, 1);
}

void bd__emit_bn2d(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                   const char *out)
{
    emit_bn(f, P, l, i, in, out, l->in_c, l->in_h * l->in_w);
}

/* <P>_act's kind: 0 relu, 1 sigmoid, 2 tanh, 3 leaky (slope a), 4 elu (alpha a) */
static void emit_act(FILE *f, const char *P, const bd_layer *l, const char *in,
                     const char *out, int kind, float a)
{
    fprintf(f, "    %s_act(%s, %s, %d, %d, %af);\n", P, out, in, l->in_size, kind, (double)a);
}

void bd__emit_relu(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                   const char *out)
{
    (void)i;
    emit_act(f, P, l, in, out, 0, l->p0);
}

void bd__emit_sigmoid(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                      const char *out)
{
    (void)i;
    emit_act(f, P, l, in, out, 1, l->p0);
}

void bd__emit_tanh(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                   const char *out)
{
    (void)i;
    emit_act(f, P, l, in, out, 2, l->p0);
}

void bd__emit_leaky_relu(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                         const char *out)
{
    (void)i;
    emit_act(f, P, l, in, out, 3, l->p0);
}

/* RReLU at evaluation: a Leaky ReLU with the mean slope */
void bd__emit_rrelu(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                    const char *out)
{
    (void)i;
    emit_act(f, P, l, in, out, 3, 0.5f * (l->p0 + l->p1));
}

void bd__emit_elu(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                  const char *out)
{
    (void)i;
    emit_act(f, P, l, in, out, 4, l->p0);
}

void bd__emit_prelu(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                    const char *out)
{
    fprintf(f, "    %s_prelu(%s, %s, %s_l%d_W, %d, 1);\n", P, out, in, P, i, l->in_size);
}

/* Dropout (the identity at evaluation), Flatten (the same values) */
void bd__emit_copy(FILE *f, const char *P, const bd_layer *l, int i, const char *in,
                   const char *out)
{
    (void)P, (void)i;
    fprintf(f, "    for (int i = 0; i < %d; i++) /* %s: identity */\n        %s[i] = %s[i];\n",
            l->in_size, l->name, out, in);
}

static bd_status write_header(const bd_net *net, FILE *f, const char *P, const char *path)
{
    char guard[80];
    size_t g = 0;
    for (const char *p = P; *p && g + 1 < sizeof guard; p++)
        guard[g++] = (char)toupper((unsigned char)*p);
    guard[g] = 0;
    size_t maxa = (size_t)net->in_size;
    for (int i = 0; i < net->nlayers; i++)
        maxa = BD_MAX(maxa, (size_t)net->layers[i].out_size);
    fprintf(f, "/* %s — generated by badak %s: %s, %zu parameters.\n"
               " *\n"
               " * int %s_predict(const float *x, float *out): x is one sample of %s_IN floats\n"
               " * ([C, H, W] row-major, scaled as in training: MNIST pixels / 255); out (may be\n"
               " * NULL) receives the %s_OUT raw outputs (logits); returns the predicted class.\n"
               " * Not reentrant: two static buffers of %zu floats hold the activations.\n"
               " * Needs only <math.h> (link with -lm). */\n",
            path, BD_VERSION, net->desc, bd_net_param_count(net), P, guard, guard, maxa);
    fprintf(f, "#ifndef %s_MODEL_H\n#define %s_MODEL_H\n\n#include <math.h>\n\n", guard, guard);
    fprintf(f, "#define %s_IN %d  /* %d x %d x %d */\n#define %s_OUT %d\n\n", guard, net->in_size,
            net->in_c, net->in_h, net->in_w, guard, net->out_size);
    fprintf(f, "#define %s_IN_C %d\n#define %s_IN_H %d\n#define %s_IN_W %d\n\n", guard,
            net->in_c, guard, net->in_h, guard, net->in_w);
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer *l = &net->layers[i];
        const bd_tensor *v[4] = {&l->W, &l->b, &l->s0, &l->s1};
        const char *sfx[4] = {"W", "b", "s0", "s1"};
        int any = 0;
        for (int k = 0; k < 4; k++)
            if (v[k]->data && v[k]->size) {
                if (!any++)
                    fprintf(f, "/* %s */\n", l->name);
                char name[128];
                snprintf(name, sizeof name, "%s_l%d_%s", P, i, sfx[k]);
                put_array(f, name, bd_f32(v[k]), v[k]->size);
            }
    }
    fprintf(f, "\nstatic float %s_buf[2][%zu];\n\n", P, maxa);
    put_kernels(f, P);
    fprintf(f, "\nstatic inline int %s_predict(const float *x, float *out)\n{\n", P);
    fprintf(f, "    const float *in = x;\n    float *y = %s_buf[0];\n", P);
    for (int i = 0; i < net->nlayers; i++) {
        fprintf(f, "    /* %s: %d -> %d */\n", net->layers[i].name, net->layers[i].in_size,
                net->layers[i].out_size);
        bd__layer_op(net->layers[i].kind)->emit_c(f, P, &net->layers[i], i, "in", "y");
        fprintf(f, "    in = y;\n    y = y == %s_buf[0] ? %s_buf[1] : %s_buf[0];\n", P, P, P);
    }
    fprintf(f, "    if (out)\n        for (int k = 0; k < %d; k++)\n            out[k] = in[k];\n",
            net->out_size);
    if (net->out_size == 1)
        fprintf(f, "    return in[0] > 0.0f; /* one sigmoid unit: class 1 when z > 0 */\n}\n");
    else
        fprintf(f, "    int best = 0;\n    for (int k = 1; k < %d; k++)\n"
                   "        if (in[k] > in[best])\n            best = k;\n    return best;\n}\n",
                net->out_size);
    fprintf(f, "\n#endif\n");
    return BD_OK;
}

bd_status bd_model_export_c(const bd_net *net, const char *path, const char *prefix)
{
    if (!net->built)
        return bd_error(BD_ERR_ARG, "%s: the network is not built", path);
    if (!prefix || !prefix[0] || !(isalpha((unsigned char)prefix[0]) || prefix[0] == '_'))
        return bd_error(BD_ERR_ARG, "export prefix '%s' is not a C identifier",
                        prefix ? prefix : "");
    for (const char *p = prefix; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_') || p - prefix > 60)
            return bd_error(BD_ERR_ARG, "export prefix '%s' is not a C identifier", prefix);
    BD_TRY(check_layers(net));
    bd__afile af;
    BD_TRY(bd__afile_open(&af, path, "C header"));
    FILE *f = af.f;
    const char *base = strrchr(path, '/');
    bd_status s = write_header(net, f, prefix, base ? base + 1 : path);
    if (s != BD_OK) {
        bd__afile_abort(&af);
        return s;
    }
    return bd__afile_commit(&af);
}
