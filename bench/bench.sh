#!/usr/bin/env bash
# bench.sh BUILD_DIR — `make bench`. Not a test: prints figures. For every
# workload of issue 14's table: seconds, the GEMM FLOPs of the work done
# (bench/flops.c: products only, from the network's layers), the GFLOP/s
# that makes, the floor — those FLOPs at the GFLOP/s of a large cblas_sgemm
# measured at the start of this run (bench/gemm_probe.c) — and the ratio
# seconds / floor. The load average is printed with each row: on a shared
# machine the seconds are only as good as it was idle.
#   BENCH_SKIP_DEEP=1  leaves out deep_convnet and resnet (minutes each)
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
BADAK="$B/badak"
for t in "$BADAK" "$B/bench/flops" "$B/bench/gemm_probe"; do
    [ -x "$t" ] || { echo "bench: $t not built (run make bench)" >&2; exit 1; }
done
calc() { awk "BEGIN { print $1 }"; }
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$2"; }
load() { cut -d' ' -f1 /proc/loadavg; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); kernels ${BADAK_KERNELS:-fast}"
echo "uptime: $(uptime)"
PEAK=$("$B/bench/gemm_probe")
echo "floor: cblas_sgemm 2048^3 on $(nproc) threads: $PEAK GFLOP/s (best of 5)"
echo
printf '%-34s %9s %9s %8s %9s %7s %8s %6s  %s\n' workload seconds GFLOP GFLOP/s floor_s ratio target load1 result
# row NAME SECONDS FLOPS TARGET RESULT
row() {
    local gf; gf=$(calc "$3 / 1e9")
    local floor; floor=$(calc "$3 / ($PEAK * 1e9)")
    printf '%-34s %9.3f %9.1f %8.1f %9.3f %7.2f %8s %6s  %s\n' "$1" "$2" "$gf" \
        "$(calc "$gf / $2")" "$floor" "$(calc "$2 / $floor")" "$4" "$(load)" "$5"
}
# flops of an epoch: STEPS x BATCH training samples, EVAL forward samples
epoch_flops() { # MODEL HIDDEN SAMPLES EVAL
    local f; f=$("$B/bench/flops" "$1" ${2:+"$2"})
    calc "$3 * $(cut -d' ' -f2 <<<"$f") + $4 * $(cut -d' ' -f1 <<<"$f")"
}

# 1. the book's chapter-5 run, whole command: 10000 steps, then (17 epochs)
#    train + test accuracy on 70000 images each epoch
t0=$(date +%s.%N)
j=$("$BADAK" train --quiet --json --seed 1 | tail -n 1)
t1=$(date +%s.%N)
row "chapter-5 (badak train), whole" "$(calc "$t1 - $t0")" \
    "$(epoch_flops two_layer 50 1000000 $((17 * 70000)))" "2.0" "test $(field test_accuracy "$j")"

# 2. the W2 MLP, Adam: per epoch with its test pass
j=$("$BADAK" train --model mlp --hidden 100,100,100,100,100 --init he --optimizer adam --lr 0.001 \
    --epochs 3 --no-train-acc --seed 1 --quiet --json | tail -n 1)
row "mlp 784-100x5-10 adam, per epoch" "$(calc "$(field seconds "$j") / 3")" \
    "$(epoch_flops mlp 100,100,100,100,100 60000 10000)" "0.25" "test $(field test_accuracy "$j")"

# 3-5. the convolutional presets, one epoch each (Adam, batch 100)
for m in simple_convnet deep_convnet resnet; do
    [ "${BENCH_SKIP_DEEP:-0}" = 1 ] && [ "$m" != simple_convnet ] && continue
    d=mnist target=2.2
    [ "$m" = deep_convnet ] && target=20
    [ "$m" = resnet ] && d=fashion target=45
    save=()
    [ "$m" = simple_convnet ] && save=(--save "$tmp/cnn.safetensors")
    j=$("$BADAK" train --data "$d" --model "$m" --optimizer adam --lr 0.001 --epochs 1 \
        --no-train-acc --seed 1 --quiet --json "${save[@]}" | tail -n 1)
    row "$m ($d), per epoch" "$(field seconds "$j")" "$(epoch_flops "$m" "" 60000 10000)" \
        "$target" "test $(field test_accuracy "$j"), peak $(field peak_rss_mb "$j") MB"
done

# 6. inference: badak eval of the simple_convnet just trained, 10000 images
t0=$(date +%s.%N)
j=$("$BADAK" eval --model "$tmp/cnn.safetensors" --json | tail -n 1)
t1=$(date +%s.%N)
s=$(calc "$t1 - $t0")
row "eval simple_convnet 10000, whole" "$s" "$(epoch_flops simple_convnet "" 0 10000)" \
    ">=20000/s" "$(calc "int(10000 / $s)") images/s whole command"

# 7. the moonshot: examples/mnist99.ini, whole command
if [ -f examples/mnist99.ini ]; then
    t0=$(date +%s.%N)
    j=$("$BADAK" train --model examples/mnist99.ini --quiet --json | tail -n 1)
    t1=$(date +%s.%N)
    e=$(field epochs "$j")
    row "mnist99.ini, whole command" "$(calc "$t1 - $t0")" \
        "$(epoch_flops examples/mnist99.ini "" $((e * 60000)) $((e * 10000)))" "15.0" \
        "test $(field test_accuracy "$j") (>= 0.99)"
fi
echo "uptime: $(uptime)"
