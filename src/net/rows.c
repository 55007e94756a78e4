/* rows.c — whole-network row parallelism ("threads as ranks").
 *
 * The per-layer split (parallel.c) cuts every layer's batch over the
 * threads: a dense network's step is ~30 pool loops, each a wake-up and a
 * wait, and the small products of a 100-unit MLP are 2-10 µs per part —
 * the sync is a fifth of the step (docs/speed.md). Data-parallel training
 * over processes (src/dist/) syncs twice a step instead, and 2 MPI ranks x 1
 * thread ran the MLP's compute faster than one process x 2 threads. So
 * this does the same inside one process: part p of T (the pool's split of
 * the batch, bd__split_range) takes rows [lo, hi) through the forward, the
 * loss and the backward of EVERY layer — one pool loop for the whole pass,
 * each part's kernels serial (a loop inside a part runs on its thread) —
 * with its own gradient block, exactly like rank p of T: the network of a
 * part has row0 = lo and grows = B, so its loss gradient is scaled by
 * rows / B and Dropout/RReLU draw each row from the stream of its global
 * row. The blocks are then added in part order, g = ((g0 + g1) + g2) ...,
 * by the optimizer's chunked update as it steps each chunk (optim.c), or
 * by bd__net_rows_sum where something reads the gradient before the step.
 * The first trainable layer is the exception: the parts stop their
 * backward above it (net->backward_to), and its gradient is taken from the
 * whole batch afterwards on the per-layer split (rows_pass). In a dense
 * net it is the widest product (784 inputs): in the parts its dW would be
 * two products of half the depth, each writing the whole dW, then summed;
 * that made the parts' serial run (the pool's busy-machine stretches)
 * 8% slower than --threads 1 beside a busy process. Evaluation passes run
 * the parts' forward only, each part over its share of the set
 * (bd__net_eval_rows).
 *
 * It applies to networks whose every layer has `rows` in its op row (a row
 * of the output and of the input gradient depends on that row only, the
 * parameter gradients are sums over rows, and no shared scratch is used):
 * Affine, the activations, Dropout, Flatten. BatchNorm (batch statistics
 * couple the rows) and the conv/pool layers (the network's one scratch
 * block) keep the per-layer split, as does a single thread.
 *
 * Determinism: the split and the order of the sums depend only on the
 * thread count, so a seed and a thread count give the same bits; they differ
 * from one thread's (whose dW is one product over the whole batch) by
 * rounding.
 *
 * A part's network is a shallow copy of the network: its layers' outputs,
 * input gradients and aux rows are views of rows [lo, hi) of the network's
 * own buffers, W and b the network's, dW and db views into the part's
 * block (the op's bind; part 0 writes the network's own block). After the
 * pass the network's buffers hold the whole batch, as after a plain pass. */
#include "internal.h"

typedef struct bd__rows bd__rows;

struct bd__rows {
    int T;                       /* parts made */
    bd_net part[BD__MAX_PARTS];  /* part p's network (views, owns nothing) */
    bd_layer *layers;            /* [T, nlayers]: the parts' layers */
    float *block;                /* [T - 1, params.size]: the gradients of parts 1.. */
    size_t n;                    /* params.size the blocks were made for */
    int nlayers;
    int first;                   /* the first trainable layer (-1: none), done whole */
    size_t from;                 /* the blocks hold gradients from here on */
    int pending;                 /* blocks not yet added into net->grads (0 or T-1) */
    long steps;                  /* row-parallel passes so far */
};

void bd__net_rows_free(bd_net *net)
{
    if (!net->rows)
        return;
    free(net->rows->layers);
    free(net->rows->block);
    free(net->rows);
    net->rows = NULL;
}

void bd__debug_rows(bd_net *net, int off)
{
    if (net)
        net->rows_off = off != 0;
}

long bd__net_rows_steps(const bd_net *net) { return net && net->rows ? net->rows->steps : 0; }

int bd__net_rows_applies(const bd_net *net, int B)
{
    if (!net || !net->built || net->inference || net->rows_off || net->sync || net->nlayers < 1)
        return 0;
    for (int i = 0; i < net->nlayers; i++)
        if (!bd__layer_op(net->layers[i].kind)->rows)
            return 0;
    return bd__split_parts(B) > 1;
}

/* the parts' buffers for T parts (kept while T and the block size stay) */
static bd_status rows_make(bd_net *net, int T)
{
    bd__rows *r = net->rows;
    if (r && r->T == T && r->n == net->params.size && r->nlayers == net->nlayers)
        return BD_OK;
    bd__net_rows_free(net);
    r = calloc(1, sizeof *r);
    if (!r)
        return bd_error(BD_ERR_NOMEM, "row-parallel training: out of memory");
    net->rows = r;
    r->T = T;
    r->n = net->params.size;
    r->nlayers = net->nlayers;
    r->layers = malloc((size_t)T * net->nlayers * sizeof *r->layers);
    r->block = malloc((size_t)(T - 1) * BD_MAX(r->n, 1) * sizeof *r->block);
    if (!r->layers || (T > 1 && !r->block)) {
        bd__net_rows_free(net);
        return bd_error(BD_ERR_NOMEM, "row-parallel training: out of memory for %d gradient "
                        "blocks of %zu floats", T - 1, net->params.size);
    }
    return BD_OK;
}

/* rows [lo, lo + rows) of a [*, cols] buffer */
static bd_tensor rows_of(const bd_tensor *t, int lo, int rows, int cols)
{
    int shape[2] = {rows, cols};
    return bd_tensor_view(bd_f32(t) + (size_t)lo * cols, 2, shape);
}

/* Part p's network: rows [lo, hi) of a batch of B (x [B, in]), gradients
 * into g. */
static void part_net(bd_net *net, int p, const bd_tensor *x, int B, int lo, int hi)
{
    bd__rows *r = net->rows;
    bd_net *pn = &r->part[p];
    bd_layer *layers = r->layers + (size_t)p * net->nlayers;
    float *g = p == 0 ? bd_f32(&net->grads) : r->block + (size_t)(p - 1) * r->n;
    const int rows = hi - lo;
    *pn = *net; /* the mode, loss, regularisation, frozen layers, step key */
    pn->rows = NULL;
    pn->layers = layers;
    pn->layers_cap = net->nlayers;
    pn->row0 = net->row0 + lo;
    pn->grows = net->grows > 0 ? net->grows : B;
    pn->backward_to = r->first + 1; /* the first trainable layer: rows_pass */
    pn->max_batch = rows;
    int gs[1] = {(int)net->params.size};
    pn->grads = bd_tensor_view(g, 1, gs);
    pn->xbatch = rows_of(x, lo, rows, net->in_size);
    pn->prob = rows_of(&net->prob, lo, rows, net->out_size);
    pn->dlogits = rows_of(&net->dlogits, lo, rows, net->out_size);
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer *m = &net->layers[i];
        const bd_layer_op *op = bd__layer_op(m->kind);
        bd_layer *l = &layers[i];
        *l = *m;
        l->net = pn;
        l->in = NULL;
        if (!m->fused)
            l->out = rows_of(&m->out, lo, rows, m->out_size);
        if (m->dx.data)
            l->dx = rows_of(&m->dx, lo, rows, m->in_size);
        if (m->aux.data)
            l->aux = rows_of(&m->aux, lo, rows, (int)op->aux_cols(m));
        if (op->bind)
            op->bind(l, bd_f32(&net->params) + m->param_offset, g + m->param_offset,
                     bd_f32(&net->state) + m->state_offset);
    }
}

typedef struct rows_job {
    bd_net *net;
    const bd_tensor *x;
    bd_labels t;
    int B;
    double loss[BD__MAX_PARTS]; /* part p's share: its mean loss x rows / B */
    bd_status st[BD__MAX_PARTS];
} rows_job;

/* one part: forward, loss and backward of its rows (on its own thread;
 * the layers' loops inside run serially there) */
static void run_part(void *ctx, int lo, int hi, int p)
{
    rows_job *j = ctx;
    bd_net *net = j->net, *pn = &net->rows->part[p];
    part_net(net, p, j->x, j->B, lo, hi);
    const int C = net->out_size;
    bd_labels t = {j->t.idx ? j->t.idx + lo : NULL,
                   j->t.onehot ? j->t.onehot + (size_t)lo * C : NULL};
    const bd_tensor *y;
    double L = 0.0;
    bd_status s = bd__net_forward_layers(pn, &pn->xbatch, hi - lo, &y);
    if (s == BD_OK)
        s = bd__net_data_loss(pn, y, t, &L);
    if (s == BD_OK)
        s = bd__net_backward_each(pn, NULL, NULL);
    j->loss[p] = L * (hi - lo) / j->B;
    j->st[p] = s;
}

/* The parts' pass over a batch x [B, in] (the loss of t and the gradient),
 * then the network as after a plain pass: its buffers hold
 * every row (the parts wrote their rows of them). */
static bd_status rows_pass(bd_net *net, const bd_tensor *x, bd_labels t, double *loss)
{
    const int B = x->shape[0];
    if (B > net->max_batch || x->size != (size_t)B * net->in_size)
        return bd_error(BD_ERR_SHAPE, "row-parallel pass: batch of %d rows, %d reserved", B,
                        net->max_batch);
    BD_TRY(bd__net_check_labels(net, t, B));
    const int T = bd__split_parts(B);
    BD_TRY(rows_make(net, T));
    bd__rows *r = net->rows;
    /* The first trainable layer (the widest product of a dense net: 784
     * inputs) gets its gradient after the parts, from the whole batch, on
     * the per-layer split (its dW is split by input features: no sums, so
     * the bits of one thread): the parts' dW products of it would have half
     * the depth each and write its whole dW twice, and its gradient would
     * be summed too. The parts' blocks then start after it. */
    r->first = -1;
    for (int i = net->frozen > 0 ? net->frozen : 0; i < net->nlayers; i++)
        if (net->layers[i].param_count > 0) {
            r->first = i;
            break;
        }
    r->from = r->first >= 0
                  ? net->layers[r->first].param_offset + net->layers[r->first].param_count
                  : net->params.size;
    /* the one draw of a training forward (bd_net_forward): every part's
     * Dropout rows come from this key */
    if (net->training)
        net->step_key = bd_rng_u64(&net->rng);
    rows_job j = {.net = net, .x = x, .t = t, .B = B};
    bd__parallel_for(B, run_part, &j);
    double L = 0.0;
    for (int p = 0; p < T; p++) {
        if (j.st[p] != BD_OK)
            return bd_error(j.st[p], "row-parallel pass: part %d of %d failed", p, T);
        L += j.loss[p];
    }
    const bd_tensor *in = x;
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        int shape[2] = {B, l->out_size};
        l->in = in;
        if (l->fused)
            l->out = bd_tensor_view(bd_f32(in), 2, shape);
        else
            BD_TRY(bd_tensor_reshape(&l->out, 2, shape, l->name));
        if (l->dx.data) {
            int ds[2] = {B, l->in_size};
            BD_TRY(bd_tensor_reshape(&l->dx, 2, ds, l->name));
        }
        in = &l->out;
    }
    if (r->first >= 0) { /* its dy: the whole batch's, which the parts wrote */
        const int f = r->first;
        float *dy = f + 1 < net->nlayers ? bd_f32(&net->layers[f + 1].dx) : bd_f32(&net->dlogits);
        bd__net_backward_layer(net, f, dy, B, 0, 1.0f);
    }
    *loss = L;
    return BD_OK;
}

bd_status bd__net_gradient_rows(bd_net *net, const bd_tensor *x, bd_labels t, float *loss)
{
    double L;
    BD_TRY(rows_pass(net, x, t, &L));
    if (net->weight_decay != 0.0f || net->l1 != 0.0f)
        L += bd__net_penalty(net);
    const int B = x->shape[0];
    int ps[2] = {B, net->out_size};
    BD_TRY(bd_tensor_reshape(&net->prob, 2, ps, "loss"));
    BD_TRY(bd_tensor_reshape(&net->dlogits, 2, ps, "loss"));
    net->last_t = t;
    net->last_loss = L;
    net->rows->pending = net->rows->T - 1;
    net->rows->steps++;
    if (loss)
        *loss = (float)L;
    return BD_OK;
}

/* Evaluation: a set's rows [0, n) split over the parts as a batch would be
 * (bd__split_range), in rounds of EVAL_ROUND reserved batches: part p takes
 * its share of a round through every layer in chunks of its own rows of the
 * network's buffers, and fills each chunk's input and reads its logits
 * itself, on its thread. So a round is one pool loop where a chunk of
 * max_batch rows was two (the conversion, then the layers), each with its
 * wake-up, its wait for the slower part and its own imbalance; and a part's
 * input is converted in the cache of the core that reads it. The rounds
 * bound what one late part can make the others wait (a busy machine). A
 * row's logits depend on that row only (the layers have `rows`) and the
 * split on the thread count: the same bits for a seed and a thread count. */
#define EVAL_ROUND 16

typedef struct eval_job {
    bd_net *net;
    const bd__rows_feed *f;
    int start; /* the round's first row */
    bd_status st[BD__MAX_PARTS];
} eval_job;

static void eval_part(void *ctx, int lo, int hi, int p)
{
    eval_job *j = ctx;
    bd_net *net = j->net, *pn = &net->rows->part[p];
    int a, b; /* part p's rows of the buffers: its share of a reserved batch */
    bd__split_range(net->max_batch, net->rows->T, p, &a, &b);
    part_net(net, p, &net->xbatch, net->max_batch, a, b);
    bd_status s = BD_OK;
    for (int r = lo; s == BD_OK && r < hi; r += b - a) {
        const int n = BD_MIN(b - a, hi - r);
        int shape[2] = {n, net->in_size};
        bd_tensor x = bd_tensor_view(bd_f32(&pn->xbatch), 2, shape);
        const bd_tensor *y;
        s = j->f->fill(j->f->ctx, p, j->start + r, n, bd_f32(&x));
        if (s == BD_OK)
            s = bd__net_forward_layers(pn, &x, n, &y);
        if (s == BD_OK)
            s = j->f->take(j->f->ctx, p, j->start + r, n, bd_f32(y));
    }
    j->st[p] = s;
}

bd_status bd__net_eval_rows(bd_net *net, int n, const bd__rows_feed *f)
{
    const int T = bd__split_parts(net->max_batch);
    if (T < 2)
        return bd_error(BD_ERR_ARG, "row-parallel evaluation: one part (%d threads, %d rows "
                        "reserved)", bd__parts(), net->max_batch);
    BD_TRY(rows_make(net, T));
    net->rows->first = -1;
    const int round = EVAL_ROUND * net->max_batch;
    for (int start = 0; start < n; start += round) {
        eval_job j = {.net = net, .f = f, .start = start};
        const int m = BD_MIN(round, n - start);
        bd__parallel_for(m, eval_part, &j);
        for (int p = 0; p < bd__split_parts(m); p++)
            if (j.st[p] != BD_OK)
                return bd_error(j.st[p], "row-parallel evaluation: part %d of %d failed at "
                                "rows %d..%d", p, T, start, start + m - 1);
    }
    return BD_OK;
}

int bd__net_rows_pending(const bd_net *net, const float **extra, size_t *stride, size_t *from)
{
    const bd__rows *r = net ? net->rows : NULL;
    if (!r || r->pending == 0)
        return 0;
    *extra = r->block;
    *stride = r->n;
    *from = r->from;
    return r->pending;
}

void bd__net_rows_done(bd_net *net)
{
    if (net && net->rows)
        net->rows->pending = 0;
}

BD_HOT static void add_block(float *restrict g, const float *restrict e, size_t len)
{
    for (size_t i = 0; i < len; i++)
        g[i] += e[i];
}

void bd__add_blocks(float *g, const float *extra, size_t stride, int k, size_t from, size_t a,
                    size_t len)
{
    if (a + len <= from)
        return;
    if (a < from)
        len -= from - a, a = from;
    for (int q = 0; q < k; q++) /* g0 + g1, then + g2 ...: part order */
        add_block(g + a, extra + (size_t)q * stride + a, len);
}

#define SUM_CHUNK 8192

typedef struct sum_job {
    float *g;
    const float *extra;
    size_t stride, from, off, n;
    int k;
} sum_job;

static void sum_chunks(void *ctx, int lo, int hi, int part)
{
    const sum_job *j = ctx;
    for (int c = lo; c < hi; c++) {
        const size_t a = j->off + (size_t)c * SUM_CHUNK;
        bd__add_blocks(j->g, j->extra, j->stride, j->k, j->from, a,
                       BD_MIN(j->off + j->n - a, (size_t)SUM_CHUNK));
    }
}

void bd__net_rows_sum(bd_net *net)
{
    sum_job j;
    j.k = bd__net_rows_pending(net, &j.extra, &j.stride, &j.from);
    if (j.k == 0)
        return;
    j.g = bd_f32(&net->grads);
    j.off = bd_net_trainable_offset(net);
    j.n = net->params.size - j.off;
    bd__parallel_for((int)((j.n + SUM_CHUNK - 1) / SUM_CHUNK), sum_chunks, &j);
    bd__net_rows_done(net);
}
