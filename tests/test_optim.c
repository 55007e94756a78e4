/* test_optim.c — the six optimizers of book chapter 6.1 (SGD, Momentum,
 * Nesterov, AdaGrad, RMSprop, Adam) through the public interface: paths on
 * the book's f(x, y) = x²/20 + y² against an independent double-precision
 * implementation of each formula and against points computed with the book's
 * own common/optimizer.py, defaults, validation, state allocated once, and a
 * short training run with each optimizer. */
#include "testutil.h"
#include "internal.h" /* update rules tested on plain arrays: bd__optim_init */

/* ------------------------------------------------ reference (double) */

/* Each formula written out again, independently of src/optim, in double.
 * s0, s1: the optimizer's state, zero at the start; t: 1-based step. */
typedef struct ref_cfg {
    double lr, momentum, beta1, beta2, eps, decay;
} ref_cfg;

static void ref_step(const char *name, const ref_cfg *c, long t, double *p, const double *g,
                     double *s0, double *s1, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(name, "sgd")) {
            p[i] = p[i] - c->lr * g[i];
        } else if (!strcmp(name, "momentum")) {
            s0[i] = c->momentum * s0[i] - c->lr * g[i];
            p[i] = p[i] + s0[i];
        } else if (!strcmp(name, "nesterov")) {
            double m = c->momentum;
            s0[i] = m * s0[i] - c->lr * g[i];
            p[i] = p[i] + m * m * s0[i] - (1 + m) * c->lr * g[i];
        } else if (!strcmp(name, "adagrad")) {
            s0[i] = s0[i] + g[i] * g[i];
            p[i] = p[i] - c->lr * g[i] / (sqrt(s0[i]) + c->eps);
        } else if (!strcmp(name, "rmsprop")) {
            s0[i] = c->decay * s0[i] + (1 - c->decay) * g[i] * g[i];
            p[i] = p[i] - c->lr * g[i] / (sqrt(s0[i]) + c->eps);
        } else if (!strcmp(name, "adam")) {
            /* bias-corrected moments, written the paper's way (m̂, v̂) with
             * the book's ε placement: η m̂ / (√v̂ + ε√(1-β2^t)) equals the
             * book's lr_t m / (√v + ε) exactly */
            s0[i] = c->beta1 * s0[i] + (1 - c->beta1) * g[i];
            s1[i] = c->beta2 * s1[i] + (1 - c->beta2) * g[i] * g[i];
            double bc1 = 1 - pow(c->beta1, (double)t), bc2 = 1 - pow(c->beta2, (double)t);
            double mhat = s0[i] / bc1, vhat = s1[i] / bc2;
            p[i] = p[i] - c->lr * mhat / (sqrt(vhat) + c->eps / sqrt(bc2));
        } else {
            fail_msg("no reference for %s", name);
        }
    }
}

/* ------------------------------------------------------ the toy problem */

/* f(x, y) = x²/20 + y², gradient (x/10, 2y) (book eq. 6.2), from (-7, 2). */
static double f_xy(double x, double y) { return x * x / 20 + y * y; }

/* A hand-built bd_net: only params/grads (data, size) are used by
 * bd_optim_step. */
typedef struct toy {
    float p[2], g[2];
    bd_net net;
} toy;

static void toy_init(toy *T)
{
    memset(T, 0, sizeof *T);
    int shape[1] = {2};
    T->p[0] = -7.0f;
    T->p[1] = 2.0f;
    T->net.params = bd_tensor_view(T->p, 1, shape);
    T->net.grads = bd_tensor_view(T->g, 1, shape);
}

/* Run `steps` steps of optimizer `name` (cfg) on f from (-7, 2); path[k] is
 * the point after k+1 steps. Also checks every point against the double
 * reference (tolerance grows slowly with the step count). */
static void run_path(const char *name, const bd_optim_config *cfg, int steps, double (*path)[2])
{
    toy T;
    toy_init(&T);
    bd_optim o;
    assert_ok(bd__optim_init(&o, name, cfg, 2));
    ref_cfg rc = {o.cfg.lr, o.cfg.momentum, o.cfg.beta1, o.cfg.beta2, o.cfg.eps, o.cfg.decay};
    double rp[2] = {-7, 2}, rg[2], s0[2] = {0}, s1[2] = {0};
    for (int k = 0; k < steps; k++) {
        T.g[0] = T.p[0] / 10.0f;
        T.g[1] = 2.0f * T.p[1];
        bd_optim_step(&o, &T.net);
        assert_int_equal(o.t, k + 1);
        rg[0] = rp[0] / 10;
        rg[1] = 2 * rp[1];
        ref_step(name, &rc, k + 1, rp, rg, s0, s1, 2);
        double tol = 2e-5 * (1 + k);
        for (int j = 0; j < 2; j++)
            if (!(fabs(T.p[j] - rp[j]) <= tol))
                fail_msg("%s step %d coord %d: %.9g vs reference %.9g", name, k + 1, j,
                         (double)T.p[j], rp[j]);
        if (path) {
            path[k][0] = T.p[0];
            path[k][1] = T.p[1];
        }
    }
    bd__optim_release(&o);
}

/* The book's figure 6-8 settings, and points computed by running the book's
 * common/optimizer.py classes (float64) on f from (-7, 2). After one step
 * (the "second point" of each path) the values are the issue's. */
typedef struct book_case {
    const char *name;
    float lr;
    double p1[2], p3[2], p30[2];
} book_case;

static const book_case BOOK[] = {
    {"sgd", 0.95f, {-6.335, -1.8}, {-5.18852337, -1.458}, {-0.350392996, 0.0847823166}},
    {"momentum", 0.1f, {-6.93, 1.6}, {-6.610653, 0.124}, {0.896413858, 0.0880856017}},
    {"nesterov", 0.1f, {-6.8103, 0.916}, {-6.30096212, -0.337401776},
     {0.526390508, 0.000225820157}},
    {"adagrad", 1.5f, {-5.5, 0.5}, {-3.88784234, 0.0373145705}, {-0.120162322, 0.0}},
    {"rmsprop", 0.1f, {-6.0, 1.0}, {-4.84263512, 0.309687584}, {-0.69742031, 0.0}},
    {"adam", 0.3f, {-6.7, 1.7}, {-6.10154901, 1.10891204}, {0.136006852, 0.318245376}},
};
#define NBOOK (sizeof BOOK / sizeof BOOK[0])

static void book_paths(void **st)
{
    for (size_t c = 0; c < NBOOK; c++) {
        const book_case *b = &BOOK[c];
        double path[30][2];
        run_path(b->name, &(bd_optim_config){.lr = b->lr}, 30, path);
        /* the second point; AdaGrad/RMSprop/Adam only approximately
         * (ε = 1e-7 shifts them by ~1e-6) */
        assert_close(path[0][0], b->p1[0], 1e-5);
        assert_close(path[0][1], b->p1[1], 1e-5);
        assert_close(path[2][0], b->p3[0], 1e-5);
        assert_close(path[2][1], b->p3[1], 1e-5);
        assert_close(path[29][0], b->p30[0], 5e-4);
        assert_close(path[29][1], b->p30[1], 5e-4);
        /* every path heads for the minimum (0, 0), as in the book's figure */
        double f0 = f_xy(-7, 2), f30 = f_xy(path[29][0], path[29][1]);
        if (!(f30 < 0.02 * f0))
            fail_msg("%s: f after 30 steps %g, from %g", b->name, f30, f0);
        assert_true(fabs(path[29][0]) < 1.0 && fabs(path[29][1]) < 0.35);
    }
}

/* What distinguishes the methods on this f (book figures 6-3 to 6-8). */
static void path_shapes(void **st)
{
    double sgd[30][2], ada[30][2], adam[30][2], mom[30][2], rms[30][2];
    run_path("sgd", &(bd_optim_config){.lr = 0.95f}, 30, sgd);
    run_path("adagrad", &(bd_optim_config){.lr = 1.5f}, 30, ada);
    run_path("adam", &(bd_optim_config){.lr = 0.3f}, 30, adam);
    run_path("momentum", &(bd_optim_config){.lr = 0.1f}, 30, mom);
    run_path("rmsprop", &(bd_optim_config){.lr = 0.1f}, 30, rms);
    /* SGD zigzags in y: the sign flips every step */
    for (int k = 1; k < 30; k++)
        assert_true(sgd[k][1] * sgd[k - 1][1] < 0);
    /* AdaGrad: y is damped out quickly and never changes sign */
    for (int k = 0; k < 30; k++)
        assert_true(ada[k][1] >= 0);
    assert_true(fabs(ada[9][1]) < 1e-5);
    assert_true(fabs(ada[29][1]) < 1e-12);
    assert_true(fabs(rms[29][1]) < 1e-6);
    /* Adam: thanks to the bias correction its first steps move each
     * coordinate by about lr (exactly lr · sign(g) on step one) */
    for (int k = 0; k < 3; k++) {
        assert_true(adam[k][0] > (k ? adam[k - 1][0] : -7.0) + 0.29);
        assert_true(adam[k][1] < (k ? adam[k - 1][1] : 2.0) - 0.29);
    }
    /* Momentum keeps rolling in x: it accelerates, then overshoots 0 */
    assert_true(mom[1][0] - mom[0][0] > mom[0][0] + 7.0);
    assert_true(mom[29][0] > 0);
}

/* Every optimizer, many parameters (a length that is no multiple of the
 * vector width), gradients changing each step: same as the reference. */
static void long_blocks_match_reference(void **st)
{
    enum { N = 37, STEPS = 12 };
    const char *const *names = bd_optim_names();
    for (int k = 0; names[k]; k++) {
        float p[N], g[N];
        double rp[N], rg[N], s0[N] = {0}, s1[N] = {0};
        bd_rng r;
        bd_rng_seed(&r, 42);
        for (int i = 0; i < N; i++)
            rp[i] = p[i] = bd_rng_normal(&r);
        int shape[1] = {N};
        bd_net net;
        memset(&net, 0, sizeof net);
        net.params = bd_tensor_view(p, 1, shape);
        net.grads = bd_tensor_view(g, 1, shape);
        bd_optim o;
        /* non-default hyperparameters, so that they are really used */
        bd_optim_config cfg = {.lr = 0.05f, .momentum = 0.8f, .beta1 = 0.8f, .beta2 = 0.95f,
                               .eps = 1e-4f, .decay = 0.9f};
        assert_ok(bd__optim_init(&o, names[k], &cfg, N));
        ref_cfg rc = {cfg.lr, cfg.momentum, cfg.beta1, cfg.beta2, cfg.eps, cfg.decay};
        for (int t = 1; t <= STEPS; t++) {
            for (int i = 0; i < N; i++) {
                g[i] = (float)(0.3 * sin(0.7 * i + t) + 0.1 * (i % 5) - 0.2);
                rg[i] = g[i];
            }
            bd_optim_step(&o, &net);
            ref_step(names[k], &rc, t, rp, rg, s0, s1, N);
            for (int i = 0; i < N; i++)
                if (!(fabs(p[i] - rp[i]) <= 1e-5 * (1 + fabs(rp[i]))))
                    fail_msg("%s step %d element %d: %.9g vs reference %.9g", names[k], t, i,
                             (double)p[i], rp[i]);
        }
        bd__optim_release(&o);
    }
}

/* --------------------------------------------------- defaults, checks */

static void defaults_when_zero(void **st)
{
    static const struct {
        const char *name;
        float lr, momentum, beta1, beta2, eps, decay;
    } want[] = {
        {"sgd", 0.01f, 0, 0, 0, 0, 0},
        {"momentum", 0.01f, 0.9f, 0, 0, 0, 0},
        {"nesterov", 0.01f, 0.9f, 0, 0, 0, 0},
        {"adagrad", 0.01f, 0, 0, 0, 1e-7f, 0},
        {"rmsprop", 0.01f, 0, 0, 0, 1e-7f, 0.99f},
        {"adam", 0.001f, 0, 0.9f, 0.999f, 1e-7f, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        for (int with_cfg = 0; with_cfg < 2; with_cfg++) {
            bd_optim o;
            bd_optim_config zero = {0};
            assert_ok(bd__optim_init(&o, want[i].name, with_cfg ? &zero : NULL, 2));
            assert_string_equal(o.ops->name, want[i].name);
            assert_true(o.cfg.lr == want[i].lr);
            assert_true(o.ops->default_lr == want[i].lr);
            assert_true(o.cfg.momentum == want[i].momentum);
            assert_true(o.cfg.beta1 == want[i].beta1);
            assert_true(o.cfg.beta2 == want[i].beta2);
            assert_true(o.cfg.eps == want[i].eps);
            assert_true(o.cfg.decay == want[i].decay);
            assert_int_equal(o.t, 0);
            bd__optim_release(&o);
        }
        /* the defaults really drive the update: same path as the reference
         * run with the values above */
        run_path(want[i].name, NULL, 5, NULL);
    }
    /* Adam at its default lr moves each coordinate by 0.001 on step one */
    double path[1][2];
    run_path("adam", NULL, 1, path);
    assert_close(path[0][0], -7.0 + 0.001, 1e-6);
    assert_close(path[0][1], 2.0 - 0.001, 1e-6);
    /* values given are kept, defaults fill in only the zero fields */
    bd_optim o;
    assert_ok(bd__optim_init(&o, "adam", &(bd_optim_config){.beta1 = 0.5f}, 2));
    assert_true(o.cfg.beta1 == 0.5f && o.cfg.beta2 == 0.999f && o.cfg.lr == 0.001f);
    bd__optim_release(&o);
    assert_ok(bd__optim_init(&o, "Momentum", &(bd_optim_config){.lr = 0.2f, .momentum = 0.5f}, 2));
    assert_string_equal(o.ops->name, "momentum");
    assert_true(o.cfg.momentum == 0.5f && o.cfg.lr == 0.2f);
    bd__optim_release(&o);
    /* and a non-default value changes the path accordingly */
    double p5[2][2];
    run_path("momentum", &(bd_optim_config){.lr = 0.1f, .momentum = 0.5f}, 2, p5);
    /* v1 = (0.07, -0.4); p1 = (-6.93, 1.6); g1 = (-0.693, 3.2);
     * v2 = 0.5 v1 - 0.1 g1 = (0.1043, -0.52) -> p2 = (-6.8257, 1.08) */
    assert_close(p5[1][0], -6.8257, 1e-5);
    assert_close(p5[1][1], 1.08, 1e-5);
}

static void validation_messages(void **st)
{
    bd_optim o;
    assert_fails(bd__optim_init(&o, "adam", &(bd_optim_config){.beta2 = 1.5f}, 2), BD_ERR_ARG,
                 "adam: config.beta2 = 1.5 must be in [0, 1)");
    assert_fails(bd__optim_init(&o, "adam", &(bd_optim_config){.beta1 = 1.0f}, 2), BD_ERR_ARG,
                 "adam: config.beta1 = 1 must be in [0, 1)");
    assert_fails(bd__optim_init(&o, "adam", &(bd_optim_config){.beta1 = -0.1f}, 2), BD_ERR_ARG,
                 "adam: config.beta1 = -0.1 must be in [0, 1)");
    assert_fails(bd__optim_init(&o, "adam", &(bd_optim_config){.beta2 = NAN}, 2), BD_ERR_ARG,
                 "adam: config.beta2 = nan");
    assert_fails(bd__optim_init(&o, "adam", &(bd_optim_config){.eps = -1e-8f}, 2), BD_ERR_ARG,
                 "adam: config.eps = -1e-08 must be > 0");
    assert_fails(bd__optim_init(&o, "momentum", &(bd_optim_config){.momentum = 1.0f}, 2),
                 BD_ERR_ARG, "momentum: config.momentum = 1 must be in [0, 1)");
    assert_fails(bd__optim_init(&o, "NESTEROV", &(bd_optim_config){.momentum = -0.5f}, 2),
                 BD_ERR_ARG, "nesterov: config.momentum = -0.5 must be in [0, 1)");
    assert_fails(bd__optim_init(&o, "rmsprop", &(bd_optim_config){.decay = 1.0f}, 2),
                 BD_ERR_ARG, "rmsprop: config.decay = 1 must be in [0, 1)");
    assert_fails(bd__optim_init(&o, "rmsprop", &(bd_optim_config){.eps = -1.0f}, 2),
                 BD_ERR_ARG, "rmsprop: config.eps = -1 must be > 0");
    assert_fails(bd__optim_init(&o, "adagrad", &(bd_optim_config){.eps = INFINITY}, 2),
                 BD_ERR_ARG, "adagrad: config.eps = inf must be > 0");
    const char *const *names = bd_optim_names();
    for (int k = 0; names[k]; k++) {
        char want[64];
        snprintf(want, sizeof want, "%s: config.lr = -0.1 must be > 0", names[k]);
        assert_fails(bd__optim_init(&o, names[k], &(bd_optim_config){.lr = -0.1f}, 2),
                     BD_ERR_ARG, want);
        assert_fails(bd__optim_init(&o, names[k], &(bd_optim_config){.lr = INFINITY}, 2),
                     BD_ERR_ARG, "config.lr = inf");
    }
    /* fields an optimizer does not use are not its business */
    assert_ok(bd__optim_init(&o, "sgd", &(bd_optim_config){.momentum = 3, .beta2 = 7}, 2));
    bd__optim_release(&o);
}

static void names_and_unknown(void **st)
{
    const char *const *names = bd_optim_names();
    const char *want[] = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"};
    int k = 0;
    for (; names[k]; k++) {
        assert_true(k < 6);
        assert_string_equal(names[k], want[k]);
    }
    assert_int_equal(k, 6);
    bd_optim o;
    assert_fails(bd__optim_init(&o, "adamw", NULL, 2), BD_ERR_ARG,
                 "unknown optimizer 'adamw' (known: sgd, momentum, nesterov, adagrad, rmsprop, "
                 "adam)");
    assert_fails(bd__optim_init(&o, "", NULL, 2), BD_ERR_ARG, "unknown optimizer ''");
    /* names are case-insensitive (the book writes AdaGrad, RMSprop) */
    assert_ok(bd__optim_init(&o, "AdaGrad", NULL, 2));
    assert_string_equal(o.ops->name, "adagrad");
    bd__optim_release(&o);
    assert_ok(bd__optim_init(&o, "RMSprop", NULL, 2));
    bd__optim_release(&o);
}

/* State: allocated once in create, sized n, zero, never reallocated. */
static void state_allocated_once(void **st)
{
    const char *const *names = bd_optim_names();
    const int nstate[] = {0, 1, 1, 1, 1, 2}; /* in bd_optim_names order */
    for (int k = 0; names[k]; k++) {
        bd_optim o;
        assert_ok(bd__optim_init(&o, names[k], NULL, 2));
        for (int s = 0; s < 2; s++) {
            if (s < nstate[k]) {
                assert_non_null(o.state[s].data);
                assert_int_equal(o.state[s].size, 2);
                assert_true(bd_f32(&o.state[s])[0] == 0.0f && bd_f32(&o.state[s])[1] == 0.0f);
            } else {
                assert_null(o.state[s].data);
            }
        }
        void *d0 = o.state[0].data, *d1 = o.state[1].data;
        toy T;
        toy_init(&T);
        for (int t = 0; t < 10; t++) {
            T.g[0] = T.p[0] / 10.0f;
            T.g[1] = 2.0f * T.p[1];
            bd_optim_step(&o, &T.net);
            assert_ptr_equal(o.state[0].data, d0);
            assert_ptr_equal(o.state[1].data, d1);
        }
        assert_int_equal(o.t, 10);
        if (nstate[k])
            assert_true(bd_f32(&o.state[0])[1] != 0.0f); /* the state is in use */
        bd__optim_release(&o);
        assert_null(o.state[0].data);
        assert_null(o.state[1].data);
        assert_null(o.ops);
        /* zero parameters (the CLI validates options that way) */
        assert_ok(bd__optim_init(&o, names[k], NULL, 0));
        bd__optim_release(&o);
    }
}

/* A parameter block of another size than the optimizer was made for is
 * refused, not read past. */
static void size_mismatch_refused(void **st)
{
    bd_optim o;
    assert_ok(bd__optim_init(&o, "adam", NULL, 3));
    toy T;
    toy_init(&T);
    T.g[0] = 1;
    T.g[1] = 1;
    assert_fails(bd_optim_step(&o, &T.net), BD_ERR_SHAPE,
                 "adam: the network has 2 trainable parameters, but the optimizer was created for 3");
    assert_true(T.p[0] == -7.0f && T.p[1] == 2.0f);
    assert_int_equal(o.t, 0);
    bd__optim_release(&o);
    /* SGD keeps no state, and was not checked at all before */
    assert_ok(bd__optim_init(&o, "sgd", NULL, 3));
    assert_fails(bd_optim_step(&o, &T.net), BD_ERR_SHAPE, "created for 3");
    assert_true(T.p[0] == -7.0f && T.p[1] == 2.0f);
    bd__optim_release(&o);
    /* created before the network was built: 0 parameters */
    assert_ok(bd__optim_init(&o, "momentum", NULL, 0));
    assert_fails(bd_optim_step(&o, &T.net), BD_ERR_SHAPE, "before bd_net_build");
    bd__optim_release(&o);
    assert_fails(bd_optim_step(NULL, &T.net), BD_ERR_ARG, "NULL");
}

/* --------------------------------------------------------- training */

/* Each optimizer at its default learning rate trains a two_layer net on
 * blobs: the loss falls well below its start, the accuracy is high. */
static void each_optimizer_trains(void **st)
{
    bd_dataset tr, te;
    make_blobs(&tr, 1000, 8, 4, 1.0f, 1, 99);
    make_blobs(&te, 400, 8, 4, 1.0f, 2, 99);
    const char *const *names = bd_optim_names();
    for (int k = 0; names[k]; k++) {
        bd_net *net;
        bd_rng r;
        bd_rng_seed(&r, 1);
        assert_ok(bd_net_two_layer(&net, 8, 32, 4, (bd_init){BD_INIT_HE, 0}, &r));
        bd_optim *o;
        assert_ok(bd_optim_create(&o, names[k], NULL, net));
        assert_ok(bd_net_reserve(net, 100));
        float acc0, loss0;
        assert_ok(bd_evaluate(net, &te, &acc0, &loss0));
        bd_train_config cfg;
        bd_train_config_default(&cfg);
        cfg.batch = 20;
        cfg.epochs = 10;
        cfg.seed = 7;
        bd_train_result res;
        assert_ok(bd_train(net, o, &tr, &te, &cfg, &res));
        float acc, loss;
        assert_ok(bd_evaluate(net, &te, &acc, &loss));
        print_message("%-9s lr %-6g loss %.3f -> %.3f, test acc %.3f -> %.3f\n", names[k],
                      (double)o->cfg.lr, (double)loss0, (double)loss, (double)acc0, (double)acc);
        assert_int_equal(o->t, res.iters);
        if (!(loss < 0.1f * loss0 && acc >= 0.95f))
            fail_msg("%s: loss %g -> %g, accuracy %g -> %g", names[k], (double)loss0,
                     (double)loss, (double)acc0, (double)acc);
        bd_optim_free(o);
        bd_net_free(net);
    }
    bd_dataset_free(&tr);
    bd_dataset_free(&te);
}

/* The optimizer is sized from the network: none for a network not built
 * (the old silent no-op training), and a step after the trainable count
 * changed (freezing) is refused, changing no weight. */
static void optim_sized_from_net(void **st)
{
    bd_net *net;
    assert_ok(bd_net_create(&net, 1, 1, 4));
    assert_ok(bd_net_add_affine(net, 3));
    bd_optim *o = (bd_optim *)1;
    assert_fails(bd_optim_create(&o, "sgd", NULL, net), BD_ERR_ARG, "not built");
    assert_null(o);
    bd_rng r;
    bd_rng_seed(&r, 1);
    assert_ok(bd_net_add_relu(net));
    assert_ok(bd_net_add_affine(net, 2));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    assert_ok(bd_optim_create(&o, "adam", NULL, net));
    assert_int_equal(bd_optim_size(o), bd_net_param_count(net));
    assert_int_equal(bd_optim_size(o), 4 * 3 + 3 + 3 * 2 + 2);
    assert_string_equal(bd_optim_name(o), "adam");
    assert_true(bd_optim_get_config(o)->lr == 0.001f); /* the default filled in */
    assert_ok(bd_net_freeze(net, 2));
    size_t n;
    float *p = bd_net_params(net, &n), before = p[n - 1];
    bd_net_grads(net, NULL)[n - 1] = 1.0f;
    assert_fails(bd_optim_step(o, net), BD_ERR_SHAPE, "created for 23");
    assert_true(p[n - 1] == before);
    assert_int_equal(bd_optim_steps(o), 0);
    bd_optim_free(o);
    /* every layer frozen but the last, which has no parameters: nothing to train */
    bd_net *relu_last;
    assert_ok(bd_net_create(&relu_last, 1, 1, 4));
    assert_ok(bd_net_add_affine(relu_last, 3));
    assert_ok(bd_net_add_relu(relu_last));
    assert_ok(bd_net_build(relu_last, (bd_init){BD_INIT_HE, 0}, &r));
    assert_ok(bd_net_freeze(relu_last, 1));
    assert_fails(bd_optim_create(&o, "sgd", NULL, relu_last), BD_ERR_ARG,
                 "no trainable parameters");
    bd_net_free(relu_last);
    bd_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(book_paths),
        cmocka_unit_test(path_shapes),
        cmocka_unit_test(long_blocks_match_reference),
        cmocka_unit_test(defaults_when_zero),
        cmocka_unit_test(validation_messages),
        cmocka_unit_test(names_and_unknown),
        cmocka_unit_test(state_allocated_once),
        cmocka_unit_test(size_mismatch_refused),
        cmocka_unit_test(each_optimizer_trains),
        cmocka_unit_test(optim_sized_from_net),
    };
    return cmocka_run_group_tests_name("optim", tests, NULL, NULL);
}
