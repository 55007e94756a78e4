#!/usr/bin/env bash
# bench.sh BUILD_DIR — `make bench`. Not a test: prints figures. For every
# workload of issue 14's table: seconds, the GEMM FLOPs of the work done
# (bench/flops.c: products only, from the network's layers), the GFLOP/s
# that makes, the floor — those FLOPs at the GFLOP/s of a large cblas_sgemm
# measured at the start of this run (bench/gemm_probe.c) — and the ratio
# seconds / floor. The load average is printed with each row: on a shared
# machine the seconds are only as good as it was idle. User CPU seconds of
# the badak process are printed next to its seconds.
#   BENCH_SKIP_DEEP=1  leaves out deep_convnet, resnet and tobigs_cnn (minutes each)
#   BENCH_TORCH=1      also runs each workload in PyTorch (bench/torch_bench.py,
#                      Debian's python3-torch; `make bench-compare` installs it)
#                      and prints its seconds and torch / badak
#   BENCH_PYTHON=PATH  the Python for that (default /usr/bin/python3, Debian's)
#   BENCH_RUNS=N       runs of each short workload (default 3: chapter-5, the MLP,
#                      simple_convnet, eval, mnist99), the fastest kept and the
#                      spread of all printed with it; the deep presets run once
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
BADAK="$B/badak"
for t in "$BADAK" "$B/bench/flops" "$B/bench/gemm_probe" "$B/bench/fma_probe"; do
    [ -x "$t" ] || { echo "bench: $t not built (run make bench)" >&2; exit 1; }
done
TORCH=${BENCH_TORCH:-0}
RUNS=${BENCH_RUNS:-3}
# Debian's python3-torch is for Debian's python (a pyenv or venv python3
# first in PATH would not see it)
PY=${BENCH_PYTHON:-python3}
[ -z "${BENCH_PYTHON:-}" ] && [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
if [ "$TORCH" = 1 ] && ! "$PY" -c 'import torch' 2>/dev/null; then
    echo "bench: BENCH_TORCH=1 but $PY cannot import torch (make bench-compare installs it)" >&2
    exit 1
fi
MNIST=${BADAK_MNIST_DIR:-data/mnist}
calc() { awk "BEGIN { print $1 }"; }
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$2"; }
load() { cut -d' ' -f1 /proc/loadavg; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); kernels ${BADAK_KERNELS:-fast}"
echo "uptime: $(uptime)"
PEAK=$("$B/bench/gemm_probe")
echo "floor: cblas_sgemm 2048^3 on $(nproc) threads: $PEAK GFLOP/s (best of 5)"
# one core's FMA peak: what the direct conv kernels are measured against
# (machines of one name differ by 2x: bench/fma_probe.c)
"$B/bench/fma_probe"
"$BADAK" version | sed -n 's/^BLAS: /blas:  /p'
# OPENBLAS_CORETYPE set in the environment (as on some machines here, to
# Haswell's AVX2 kernels): the rows run with it, and so does the floor;
# OpenBLAS's own pick is shown beside it, not used
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
    own=$(env -u OPENBLAS_CORETYPE "$B/bench/gemm_probe")
    echo "       without OPENBLAS_CORETYPE: $(env -u OPENBLAS_CORETYPE "$BADAK" version |
        sed -n 's/^BLAS: [^,]*, \([^ ]*\) kernels.*/\1/p') kernels, floor $own GFLOP/s (not used below)"
fi
echo "seconds: the fastest of $RUNS runs of each short workload (BENCH_RUNS), the deep presets once"
echo
printf '%-34s %8s %7s %8s %7s %8s %6s %8s %6s' workload seconds user_s GFLOP GF/s floor_s ratio \
    target load1
[ "$TORCH" = 1 ] && printf ' %8s %6s' torch_s t/badak
printf '  %s\n' result

# timed CMD...: runs CMD with stdout to $tmp/out; sets WALL and USER (seconds)
timed() {
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U' -o "$tmp/time" "$@" >"$tmp/out"
    t1=$(date +%s.%N)
    WALL=$(calc "$t1 - $t0")
    USER=$(tail -n 1 "$tmp/time")
}

# best KEY CMD...: CMD run $RUNS times; the run with the fewest seconds (KEY
# wall: the whole command's, else that --json field's) is kept: its stdout in
# $tmp/out, WALL, USER, SEC (its seconds) and SPREAD (every run's, "a-b s").
# Identical runs spread by up to 1.7x on a shared host (docs/speed.md, stop
# 29); the floor above is a best of 5 as well.
best() {
    local key=$1 bs="" bw="" bu="" lo="" hi="" s i
    shift
    for ((i = 0; i < RUNS; i++)); do
        timed "$@"
        if [ "$key" = wall ]; then s=$WALL; else s=$(field "$key" "$(tail -n 1 "$tmp/out")"); fi
        if [ -z "$bs" ] || awk "BEGIN { exit !($s < $bs) }"; then
            bs=$s bw=$WALL bu=$USER
            cp "$tmp/out" "$tmp/best"
        fi
        if [ -z "$lo" ] || awk "BEGIN { exit !($s < $lo) }"; then lo=$s; fi
        if [ -z "$hi" ] || awk "BEGIN { exit !($s > $hi) }"; then hi=$s; fi
    done
    cp "$tmp/best" "$tmp/out"
    WALL=$bw USER=$bu SEC=$bs
    SPREAD=$(printf '%.3f-%.3f s' "$lo" "$hi")
}

# torch WORKLOAD WHOLE: the PyTorch run's seconds (WHOLE=1: the whole process)
torch_s() {
    timed "$PY" bench/torch_bench.py "$1" "$MNIST"
    if [ "$2" = 1 ]; then echo "$WALL"; else field seconds "$(tail -n 1 "$tmp/out")"; fi
}

# row NAME SECONDS USER FLOPS TARGET RESULT [TORCH_WORKLOAD WHOLE]
row() {
    local gf; gf=$(calc "$4 / 1e9")
    local floor; floor=$(calc "$4 / ($PEAK * 1e9)")
    printf '%-34s %8.3f %7.2f %8.1f %7.1f %8.3f %6.2f %8s %6s' "$1" "$2" "$3" "$gf" \
        "$(calc "$gf / $2")" "$floor" "$(calc "$2 / $floor")" "$5" "$(load)"
    if [ "$TORCH" = 1 ]; then
        if [ -n "${7:-}" ]; then
            local ts; ts=$(torch_s "$7" "$8")
            printf ' %8.3f %6.2f' "$ts" "$(calc "$ts / $2")"
        else
            printf ' %8s %6s' - -
        fi
    fi
    printf '  %s\n' "$6"
}
# flops of an epoch: STEPS x BATCH training samples, EVAL forward samples
epoch_flops() { # MODEL HIDDEN SAMPLES EVAL [CxHxW]
    local f; f=$("$B/bench/flops" "$1" ${2:+"$2"} ${5:+"$5"})
    calc "$3 * $(cut -d' ' -f2 <<<"$f") + $4 * $(cut -d' ' -f1 <<<"$f")"
}

# 1. the book's chapter-5 run, whole command: 10000 steps, then (17 epochs)
#    train + test accuracy on 70000 images each epoch
best wall "$BADAK" train --quiet --json --seed 1
j=$(tail -n 1 "$tmp/out")
row "chapter-5 (badak train), whole" "$WALL" "$USER" \
    "$(epoch_flops two_layer 50 1000000 $((17 * 70000)))" "2.0" \
    "test $(field test_accuracy "$j"); runs $SPREAD" ch5 1

# 2. the W2 MLP, Adam: per epoch with its test pass
best seconds "$BADAK" train --model mlp --hidden 100,100,100,100,100 --init he --optimizer adam \
    --lr 0.001 --epochs 3 --no-train-acc --seed 1 --quiet --json
j=$(tail -n 1 "$tmp/out")
row "mlp 784-100x5-10 adam, per epoch" "$(calc "$SEC / 3")" "$(calc "$USER / 3")" \
    "$(epoch_flops mlp 100,100,100,100,100 60000 10000)" "0.25" \
    "test $(field test_accuracy "$j"); 3 epochs: runs $SPREAD" mlp 0

# 3-5. the convolutional presets, one epoch each (Adam, batch 100)
for m in simple_convnet deep_convnet resnet; do
    [ "${BENCH_SKIP_DEEP:-0}" = 1 ] && [ "$m" != simple_convnet ] && continue
    d=mnist target=2.2
    [ "$m" = deep_convnet ] && target=20
    [ "$m" = resnet ] && d=fashion target=45
    save=()
    [ "$m" = simple_convnet ] && save=(--save "$tmp/cnn.safetensors")
    runs=$RUNS spread=""
    [ "$m" != simple_convnet ] && RUNS=1 # minutes each
    best seconds "$BADAK" train --data "$d" --model "$m" --optimizer adam --lr 0.001 --epochs 1 \
        --no-train-acc --seed 1 --quiet --json "${save[@]}"
    [ "$RUNS" -gt 1 ] && spread="; runs $SPREAD"
    RUNS=$runs
    j=$(tail -n 1 "$tmp/out")
    tw=("$m" 0)
    [ "$m" = resnet ] && tw=() # torch_bench.py reads MNIST only
    row "$m ($d), per epoch" "$SEC" "$USER" "$(epoch_flops "$m" "" 60000 10000)" "$target" \
        "test $(field test_accuracy "$j"), peak $(field peak_rss_mb "$j") MB$spread" "${tw[@]}"
done

# 6. tobigs_cnn on CIFAR-10-shaped data (3x32x32, 50000 training images, 10000
#    test): random records (tests/cifar_gen.pl), one epoch
if [ "${BENCH_SKIP_DEEP:-0}" != 1 ]; then
    c10="$tmp/cifar10"
    mkdir -p "$c10"
    perl tests/cifar_gen.pl 10000 1 "$c10/test_batch.bin"
    for b in 1 2 3 4 5; do cp "$c10/test_batch.bin" "$c10/data_batch_$b.bin"; done
    timed "$BADAK" train --data "cifar10:$c10" --model tobigs_cnn --optimizer adam --lr 0.001 \
        --epochs 1 --no-train-acc --seed 1 --quiet --json
    j=$(tail -n 1 "$tmp/out")
    row "tobigs_cnn (cifar10 shape), epoch" "$(field seconds "$j")" "$USER" \
        "$(epoch_flops tobigs_cnn "" 50000 10000 3x32x32)" "40" \
        "test $(field test_accuracy "$j") (random data), peak $(field peak_rss_mb "$j") MB"
fi

# 7. inference: badak eval of the simple_convnet just trained, 10000 images
best wall "$BADAK" eval --model "$tmp/cnn.safetensors" --json
row "eval simple_convnet 10000, whole" "$WALL" "$USER" "$(epoch_flops simple_convnet "" 0 10000)" \
    ">=20000/s" "$(calc "int(10000 / $WALL)") images/s whole command; runs $SPREAD" eval 1

# 8. the moonshot: examples/mnist99.ini, whole command
best wall "$BADAK" train --model examples/mnist99.ini --quiet --json
j=$(tail -n 1 "$tmp/out")
e=$(field epochs "$j")
row "mnist99.ini, whole command" "$WALL" "$USER" \
    "$(epoch_flops examples/mnist99.ini "" $((e * 60000)) $((e * 10000)))" "15.0" \
    "test $(field test_accuracy "$j") (>= 0.99); runs $SPREAD" mnist99 1
echo "uptime: $(uptime)"
