/* test_dist.c — the library's side of data-parallel training: the shard
 * rule, and random layers drawing the same numbers for a sample however the
 * batch is split (what makes N ranks train like one process with Dropout).
 * The MPI side is tested by tests/cli_mpi.sh under mpirun. */
#include "testutil.h"

/* bd_shard: contiguous, covering, sizes B/N or B/N + 1, the larger first */
static void shard_rule(void **st)
{
    for (int B = 1; B <= 40; B++)
        for (int N = 1; N <= 7; N++) {
            int next = 0;
            for (int r = 0; r < N; r++) {
                int lo, hi;
                bd_shard(B, r, N, &lo, &hi);
                assert_int_equal(lo, next);
                assert_int_equal(hi - lo, B / N + (r < B % N));
                next = hi;
            }
            assert_int_equal(next, B);
        }
    int lo, hi;
    bd_shard(100, 2, 3, &lo, &hi);
    assert_int_equal(lo, 67);
    assert_int_equal(hi, 100);
    bd_shard(100, 0, 3, &lo, &hi);
    assert_int_equal(hi, 34);
    bd_shard(10, 3, 3, &lo, &hi); /* not a rank: nothing */
    assert_int_equal(hi - lo, 0);
}

/* Dropout then RReLU over D features */
static void random_net(bd_net *net, int D, int B)
{
    bd_rng r;
    bd_rng_seed(&r, 9);
    assert_ok(bd_net_create(net, 1, 1, D));
    assert_ok(bd_net_add_with(net, BD_LAYER_DROPOUT, 0, 0.4f, 0));
    assert_ok(bd_net_add(net, BD_LAYER_RRELU, 0));
    assert_ok(bd_net_build(net, (bd_init){BD_INIT_HE, 0}, &r));
    assert_ok(bd_net_reserve(net, B));
}

/* Rows [lo, hi) of x as one forward of a shard starting at row lo; the
 * output into y. The net's PRNG is put back first, as every rank has the
 * same PRNG state at a step. */
static void forward_rows(bd_net *net, const bd_rng *rng, const float *x, int D, int lo, int hi,
                         float *y)
{
    net->rng = *rng;
    net->row0 = lo;
    int shape[2] = {hi - lo, D};
    bd_tensor in = bd_tensor_view((float *)x + (size_t)lo * D, 2, shape);
    const bd_tensor *out;
    assert_ok(bd_net_forward(net, &in, &out));
    memcpy(y + (size_t)lo * D, bd_f32(out), (size_t)(hi - lo) * D * sizeof(float));
}

static void random_layers_any_split(void **st)
{
    enum { D = 37, B = 9 };
    bd_net net;
    random_net(&net, D, B);
    float x[B * D], whole[B * D], split[B * D];
    for (int i = 0; i < B * D; i++)
        x[i] = (float)((i * 7919) % 23) / 11.0f - 1.0f; /* both signs: RReLU slopes matter */
    const bd_rng rng = net.rng;
    forward_rows(&net, &rng, x, D, 0, B, whole);
    forward_rows(&net, &rng, x, D, 0, 4, split); /* "rank 0" */
    forward_rows(&net, &rng, x, D, 4, 7, split); /* "rank 1" */
    forward_rows(&net, &rng, x, D, 7, B, split); /* "rank 2" */
    assert_memory_equal(whole, split, sizeof whole);
    /* and the masks are masks: some units dropped, some kept, per row */
    int dropped = 0;
    for (int i = 0; i < B * D; i++)
        dropped += whole[i] == 0.0f && x[i] != 0.0f;
    assert_true(dropped > B * D / 5 && dropped < B * D * 3 / 5);
    /* another step (the PRNG moved on) draws other masks */
    forward_rows(&net, &net.rng, x, D, 0, B, split);
    assert_true(memcmp(whole, split, sizeof whole) != 0);
    net.row0 = 0;
    bd_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shard_rule),
        cmocka_unit_test(random_layers_any_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
