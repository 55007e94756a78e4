/* infer.c — inference in three calls: bd_model_open, bd_model_predict,
 * bd_model_close (KANN's kann_apply1, FANN's fann_run).
 *
 * An opened model keeps the weights and the non-trainable state only: no
 * gradient block, no optimizer, no backward buffers (input gradients,
 * dlogits), and it is in evaluation mode from the start. The weights are
 * read-only after open, so any number of threads may predict at once: each
 * call takes a workspace (a copy of the layer list whose parameter tensors
 * are views of the model's, with activation buffers and scratch of its
 * own) from a free list under a mutex, or makes one, and gives it back.
 * So k threads make at most k workspaces, and a thread that predicts in a
 * loop reuses one and allocates nothing. */
#include "internal.h"

#include <math.h>
#include <pthread.h>

/* One caller's buffers for a forward pass over up to m->rows rows. */
typedef struct model_ws {
    bd_net net;
    struct model_ws *next;
} model_ws;

struct bd_model {
    bd_net net;            /* weights and state; nothing reserved */
    bd_model_meta meta;
    int rows;              /* rows per forward pass */
    pthread_mutex_t mu;    /* guards idle, nws */
    model_ws *idle;        /* workspaces not in use */
    int nws;
};

/* Free the gradient block and the layers' own buffers: what only training
 * needs, and what each workspace has its own of. */
static void strip_training(bd_net *net)
{
    bd_tensor_free(&net->grads);
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        memset(&l->dW, 0, sizeof l->dW);
        memset(&l->db, 0, sizeof l->db);
        bd_tensor_free(&l->out);
        bd_tensor_free(&l->dx);
        bd_tensor_free(&l->aux);
        bd_tensor_free(&l->aux2);
    }
    bd_tensor_free(&net->prob);
    bd_tensor_free(&net->dlogits);
    bd_tensor_free(&net->scratch);
    bd_tensor_free(&net->xbatch);
    bd_tensor_free(&net->ybatch);
    net->max_batch = 0;
    net->training = 0;
    net->inference = 1;
    net->pooled_y_unread = 1; /* a model's layers are never read, its logits only */
}

bd_model *bd_model_open(const char *path, bd_status *st)
{
    bd_status s = BD_OK;
    bd_model *m = NULL;
    if (!path)
        s = bd_error(BD_ERR_ARG, "bd_model_open: path is NULL");
    else if (!(m = calloc(1, sizeof *m)))
        s = bd_error(BD_ERR_NOMEM, "bd_model_open: out of memory");
    if (s == BD_OK)
        s = bd__model_load(&m->net, path, &m->meta);
    if (s == BD_OK) {
        strip_training(&m->net);
        /* the rows the training run evaluated in, so that evaluating a data
         * set repeats its figures to the bit */
        m->rows = bd_train_eval_rows(&m->net, m->meta.batch > 0 ? m->meta.batch : 100);
        if (pthread_mutex_init(&m->mu, NULL) != 0)
            s = bd_error(BD_ERR_NOMEM, "bd_model_open: cannot make a mutex");
    }
    if (s != BD_OK && m) {
        bd__net_release(&m->net);
        free(m);
        m = NULL;
    }
    if (st)
        *st = s;
    return m;
}

/* A workspace: the model's layers, parameters as views, own buffers. */
static bd_status ws_make(const bd_model *m, model_ws **out)
{
    *out = NULL;
    model_ws *w = calloc(1, sizeof *w);
    if (!w)
        return bd_error(BD_ERR_NOMEM, "bd_model_predict: out of memory");
    bd_net *net = &w->net;
    *net = m->net;
    net->rows = NULL; /* the parts of a training network are its own */
    net->params.owner = net->state.owner = 0; /* views: the model owns them */
    net->layers = malloc((size_t)m->net.nlayers * sizeof *net->layers);
    if (!net->layers) {
        free(w);
        return bd_error(BD_ERR_NOMEM, "bd_model_predict: out of memory");
    }
    memcpy(net->layers, m->net.layers, (size_t)m->net.nlayers * sizeof *net->layers);
    net->layers_cap = net->nlayers;
    bd_status s = BD_OK;
    for (int i = 0; i < net->nlayers; i++) {
        bd_layer *l = &net->layers[i];
        l->net = net;
        l->in = NULL;
        size_t a2 = bd__layer_op(l->kind)->aux2_size ? bd__layer_op(l->kind)->aux2_size(l) : 0;
        if (a2 && s == BD_OK) {
            int shape[1] = {(int)a2};
            s = bd_tensor_alloc(&l->aux2, BD_F32, 1, shape);
        }
    }
    if (s == BD_OK)
        s = bd_net_reserve(net, m->rows);
    if (s != BD_OK) {
        bd__net_release(net);
        free(w);
        return s;
    }
    *out = w;
    return BD_OK;
}

static bd_status ws_take(bd_model *m, model_ws **w)
{
    pthread_mutex_lock(&m->mu);
    *w = m->idle;
    if (*w)
        m->idle = (*w)->next;
    pthread_mutex_unlock(&m->mu);
    if (*w)
        return BD_OK;
    BD_TRY(ws_make(m, w));
    pthread_mutex_lock(&m->mu);
    m->nws++;
    pthread_mutex_unlock(&m->mu);
    return BD_OK;
}

static void ws_give(bd_model *m, model_ws *w)
{
    pthread_mutex_lock(&m->mu);
    w->next = m->idle;
    m->idle = w;
    pthread_mutex_unlock(&m->mu);
}

/* The model's normalisation, as bd_dataset_set_norm applies it:
 * x = (x - mean[c]) / std[c] over each channel of every row. */
static void normalize(const bd_model *m, float *x, int rows)
{
    const bd_net *net = &m->net;
    const int C = BD_MIN(net->in_c, m->meta.norm_c), HW = net->in_h * net->in_w;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < C; c++) {
            float *p = x + (size_t)r * net->in_size + (size_t)c * HW;
            for (int i = 0; i < HW; i++)
                p[i] = (p[i] - m->meta.norm_mean[c]) / m->meta.norm_std[c];
        }
}

/* Logits z [rows, C] -> probs: softmax (row maximum subtracted, in double)
 * for SoftmaxWithLoss, sigmoid for one BCE unit, else the raw outputs. */
static void outputs(bd_loss_kind loss, const float *z, int rows, int C, float *p)
{
    for (int r = 0; r < rows; r++) {
        const float *zr = z + (size_t)r * C;
        float *pr = p + (size_t)r * C;
        if (loss == BD_LOSS_SOFTMAX_CE) {
            double mx = zr[0], sum = 0.0;
            for (int k = 1; k < C; k++)
                mx = fmax(mx, zr[k]);
            for (int k = 0; k < C; k++)
                sum += exp(zr[k] - mx);
            for (int k = 0; k < C; k++)
                pr[k] = (float)(exp(zr[k] - mx) / sum);
        } else if (loss == BD_LOSS_SIGMOID_BCE) {
            for (int k = 0; k < C; k++)
                pr[k] = (float)(1.0 / (1.0 + exp(-(double)zr[k])));
        } else {
            memcpy(pr, zr, (size_t)C * sizeof *pr);
        }
    }
}

/* Forward rows of w->net.xbatch [rows, in] (already in place). */
static bd_status forward(model_ws *w, int rows, const bd_tensor **y)
{
    int shape[2] = {rows, w->net.in_size};
    BD_TRY(bd_tensor_reshape(&w->net.xbatch, 2, shape, "input"));
    return bd_net_forward(&w->net, &w->net.xbatch, y);
}

static bd_status predict_rows(bd_model *m, model_ws *w, const float *x, int n, float *probs)
{
    const int D = m->net.in_size, C = m->net.out_size;
    for (int start = 0; start < n; start += m->rows) {
        const int rows = BD_MIN(m->rows, n - start);
        memcpy(w->net.xbatch.data, x + (size_t)start * D, (size_t)rows * D * sizeof(float));
        normalize(m, bd_f32(&w->net.xbatch), rows);
        const bd_tensor *y;
        BD_TRY(forward(w, rows, &y));
        outputs(m->net.loss, bd_f32(y), rows, C, probs + (size_t)start * C);
    }
    return BD_OK;
}

bd_status bd_model_predict(bd_model *m, const float *x, int n, float *probs)
{
    if (!m || (n > 0 && (!x || !probs)))
        return bd_error(BD_ERR_ARG, "bd_model_predict: %s is NULL",
                        !m ? "the model" : !x ? "x" : "probs");
    if (n < 0)
        return bd_error(BD_ERR_ARG, "bd_model_predict: %d inputs", n);
    if (n == 0)
        return BD_OK;
    model_ws *w;
    BD_TRY(ws_take(m, &w));
    unsigned fpu = bd_flush_denormals(); /* as in training */
    bd_status s = predict_rows(m, w, x, n, probs);
    bd_restore_denormals(fpu);
    ws_give(m, w);
    return s;
}

/* The predicted class of each row of logits z [rows, C] (one unit: z > 0). */
static void classes_of(const float *z, int rows, int C, int32_t *cls)
{
    for (int r = 0; r < rows; r++) {
        const float *row = z + (size_t)r * C;
        int best = 0;
        if (C == 1)
            best = row[0] > 0.0f;
        for (int k = 1; k < C; k++)
            if (row[k] > row[best])
                best = k;
        cls[r] = best;
    }
}

static bd_status eval_rows(bd_model *m, model_ws *w, const bd_dataset *ds, long *correct,
                           int32_t *pred)
{
    /* the model's normalisation, folded into the conversion as training
     * did it (bd_dataset_set_norm), on a shallow copy of the set */
    bd_dataset d = *ds;
    if (m->meta.norm_c > 0 && !ds->norm)
        BD_TRY(bd_dataset_set_norm(&d, m->meta.norm_mean, m->meta.norm_std));
    int32_t cls[1024];
    for (int start = 0; start < d.n; start += m->rows) {
        const int rows = BD_MIN(m->rows, d.n - start);
        const bd_tensor *y;
        BD_TRY(bd_dataset_slice(&d, start, rows, &w->net.xbatch, &w->net.ybatch));
        BD_TRY(forward(w, rows, &y));
        for (int r0 = 0; r0 < rows; r0 += 1024) {
            const int k = BD_MIN(1024, rows - r0);
            classes_of(bd_f32(y) + (size_t)r0 * m->net.out_size, k, m->net.out_size, cls);
            for (int r = 0; r < k; r++) {
                *correct += cls[r] == bd_i32(&w->net.ybatch)[r0 + r];
                if (pred)
                    pred[start + r0 + r] = cls[r];
            }
        }
    }
    return BD_OK;
}

bd_status bd_model_evaluate(bd_model *m, const bd_dataset *ds, float *accuracy, int32_t *pred)
{
    if (!m || !ds)
        return bd_error(BD_ERR_ARG, "bd_model_evaluate: %s is NULL",
                        !m ? "the model" : "the data set");
    if (ds->n < 1)
        return bd_error(BD_ERR_ARG, "%s: empty data set", ds->name);
    if ((size_t)ds->x.size / (size_t)ds->n != (size_t)m->net.in_size)
        return bd_error(BD_ERR_SHAPE, "%s: samples of %zu features, the model takes %d",
                        ds->name, ds->x.size / (size_t)ds->n, m->net.in_size);
    model_ws *w;
    BD_TRY(ws_take(m, &w));
    long correct = 0;
    unsigned fpu = bd_flush_denormals();
    bd_status s = eval_rows(m, w, ds, &correct, pred);
    bd_restore_denormals(fpu);
    ws_give(m, w);
    if (s == BD_OK && accuracy)
        *accuracy = (float)((double)correct / ds->n);
    return s;
}

bd_status bd_model_set_rows(bd_model *m, int rows)
{
    if (!m || rows < 1)
        return bd_error(BD_ERR_ARG, "bd_model_set_rows: %s", !m ? "the model is NULL"
                                                                 : "rows must be >= 1");
    pthread_mutex_lock(&m->mu);
    int busy = 0;
    for (model_ws *w = m->idle; w; w = w->next)
        busy++;
    busy = m->nws - busy;
    model_ws *old = busy ? NULL : m->idle;
    if (!busy) {
        m->idle = NULL;
        m->nws = 0;
        m->rows = rows;
    }
    pthread_mutex_unlock(&m->mu);
    while (old) { /* made for the old row count */
        model_ws *next = old->next;
        bd__net_release(&old->net);
        free(old);
        old = next;
    }
    if (busy)
        return bd_error(BD_ERR_ARG, "bd_model_set_rows: %d predictions are running", busy);
    return BD_OK;
}

const bd_model_meta *bd_model_info(const bd_model *m) { return m ? &m->meta : NULL; }

const bd_net *bd_model_net(const bd_model *m) { return m ? &m->net : NULL; }

int bd_model_inputs(const bd_model *m) { return m ? m->net.in_size : 0; }

int bd_model_outputs(const bd_model *m) { return m ? m->net.out_size : 0; }

/* bytes of a tensor's buffer if it owns one */
static size_t owned(const bd_tensor *t)
{
    return t->owner && t->data ? t->cap * bd_dtype_size(t->dtype) : 0;
}

size_t bd__net_bytes(const bd_net *net)
{
    size_t b = (size_t)net->layers_cap * sizeof(bd_layer);
    for (int i = 0; i < net->nlayers; i++) {
        const bd_layer *l = &net->layers[i];
        b += owned(&l->out) + owned(&l->dx) + owned(&l->aux) + owned(&l->aux2);
    }
    const bd_tensor *t[] = {&net->params, &net->grads, &net->state, &net->prob,
                            &net->dlogits, &net->scratch, &net->xbatch, &net->ybatch};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        b += owned(t[i]);
    return b;
}

size_t bd_model_bytes(const bd_model *m)
{
    if (!m)
        return 0;
    size_t b = sizeof *m + bd__net_bytes(&m->net);
    pthread_mutex_lock((pthread_mutex_t *)&m->mu);
    for (const model_ws *w = m->idle; w; w = w->next)
        b += sizeof *w + bd__net_bytes(&w->net);
    pthread_mutex_unlock((pthread_mutex_t *)&m->mu);
    return b;
}

void bd_model_close(bd_model *m)
{
    if (!m)
        return;
    while (m->idle) {
        model_ws *next = m->idle->next;
        bd__net_release(&m->idle->net);
        free(m->idle);
        m->idle = next;
    }
    pthread_mutex_destroy(&m->mu);
    bd__net_release(&m->net);
    free(m);
}
