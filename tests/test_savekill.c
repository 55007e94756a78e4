/* test_savekill.c — a process killed (SIGKILL) while it saves a model over an
 * old one never leaves a file that loads wrong: at every step of the write
 * (through the save hook) and at random moments, the file on disk loads as
 * either the old model or the new one. */
#include "testutil.h"
#include "internal.h" /* the layout of networks and optimizers */

#include <signal.h>
#include <sys/wait.h>

static char g_dir[256];

static int setup_dir(void **st)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/badak_kill_XXXXXX");
    bd_set_threads(1);
    return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_dir(void **st)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* two models of the same architecture (about 80k parameters: several data
 * chunks per write), different weights */
static void build(bd_net **out, uint64_t seed)
{
    bd_net *net = NULL;
    bd_rng r;
    bd_rng_seed(&r, seed);
    int hidden[1] = {100};
    assert_ok(bd_net_mlp(&net, 784, hidden, 1, 10, BD_LAYER_RELU, (bd_init){BD_INIT_HE, 0}, &r));
    *out = net;
}

/* which of a, b the file at path holds: 0, 1; fails if neither */
static int which(const char *path, const bd_net *a, const bd_net *b)
{
    bd_net *n = NULL;
    bd_status s = bd_model_load(&n, path, NULL);
    if (s != BD_OK)
        fail_msg("after the kill the file does not load: %s", bd_errmsg());
    int r = -1;
    size_t bytes = a->params.size * sizeof(float);
    if (n->params.size == a->params.size && !memcmp(n->params.data, a->params.data, bytes))
        r = 0;
    else if (n->params.size == b->params.size && !memcmp(n->params.data, b->params.data, bytes))
        r = 1;
    bd_net_free(n);
    if (r < 0)
        fail_msg("after the kill the file loads, but as neither the old nor the new model");
    return r;
}

typedef struct target {
    const char *stage;
    int nth; /* die at the nth time the stage is reached (1-based) */
    int seen;
} target;

static void die_at(const char *stage, void *ud)
{
    target *t = ud;
    if (!strcmp(stage, t->stage) && ++t->seen == t->nth)
        raise(SIGKILL);
}

/* run `save b` in a child killed at `stage`; the parent sees the file */
static void kill_at(const char *stage, int nth, int expect_new)
{
    bd_net *a = NULL, *b = NULL;
    build(&a, 1);
    build(&b, 2);
    char path[300];
    snprintf(path, sizeof path, "%s/model.safetensors", g_dir);
    assert_ok(bd_model_save(a, path, NULL));
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        target t = {stage, nth, 0};
        bd__debug_save_hook(die_at, &t);
        bd_model_save(b, path, NULL);
        _exit(0); /* the stage was never reached: the test fails below */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
        fail_msg("the writer was not killed at stage '%s' #%d", stage, nth);
    assert_int_equal(which(path, a, b), expect_new);
    bd_net_free(a);
    bd_net_free(b);
}

static void kill_at_every_step(void **st)
{
    kill_at("open", 1, 0);     /* temp file created, empty */
    kill_at("header", 1, 0);   /* header written (maybe still buffered) */
    kill_at("data", 1, 0);     /* first 64 KiB of data */
    kill_at("data", 4, 0);     /* more of it */
    kill_at("flushed", 1, 0);  /* all in the kernel, not yet on disk */
    kill_at("synced", 1, 0);   /* on disk, not yet renamed */
    kill_at("renamed", 1, 1);  /* renamed: the new model */
    kill_at("done", 1, 1);
}

/* A child saving the two models in turn, killed at random moments. */
static void kill_at_random_moments(void **st)
{
    bd_net *a = NULL, *b = NULL;
    build(&a, 1);
    build(&b, 2);
    char path[300];
    snprintf(path, sizeof path, "%s/loop.safetensors", g_dir);
    assert_ok(bd_model_save(a, path, NULL));
    bd_rng r;
    bd_rng_seed(&r, 99);
    int seen[2] = {0, 0};
    for (int round = 0; round < 20; round++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            for (int k = 0;; k++)
                bd_model_save(k % 2 ? a : b, path, NULL);
        }
        usleep(2000 + bd_rng_below(&r, 30000));
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        seen[which(path, a, b)]++;
    }
    assert_int_equal(seen[0] + seen[1], 20);
    bd_net_free(a);
    bd_net_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill_at_every_step),
        cmocka_unit_test(kill_at_random_moments),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
