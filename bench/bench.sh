#!/usr/bin/env bash
# bench.sh BUILD_DIR — `make bench`. Not a test: prints figures.
#  1. the book's chapter-5 run (TwoLayerNet, SGD lr 0.1, batch 100, 10000
#     iterations), 3 times: seconds end to end, iterations per second, peak
#     memory, final accuracies;
#  2. mlp 100x5 ReLU/He, SGD lr 0.1, 10 epochs: seconds per epoch, accuracy;
#  3. one epoch of each convolutional preset: seconds, accuracy, peak memory.
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
BADAK="$B/badak"
[ -x "$BADAK" ] || { echo "bench: $BADAK not built (run make)" >&2; exit 1; }
calc() { awk "BEGIN { print $1 }"; }
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$2"; }
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo
echo "chapter 5: badak train --data mnist --model two_layer --hidden 50 --optimizer sgd --lr 0.1 --batch 100 --iters 10000 --seed 1"
printf '%-4s %9s %9s %9s %8s %8s %9s\n' run total_s train_s it/s train test peak_MB
for run in 1 2 3; do
    t0=$(date +%s.%N)
    j=$("$BADAK" train --data mnist --model two_layer --hidden 50 --optimizer sgd --lr 0.1 \
        --batch 100 --iters 10000 --seed 1 --quiet --json | tail -n 1)
    t1=$(date +%s.%N)
    s=$(field seconds "$j")
    printf '%-4s %9.2f %9.2f %9.0f %8s %8s %9s\n' "$run" "$(calc "$t1 - $t0")" "$s" \
        "$(calc "$(field iterations "$j") / $s")" "$(field train_accuracy "$j")" \
        "$(field test_accuracy "$j")" "$(field peak_rss_mb "$j")"
done
echo
echo "mlp: badak train --data mnist --model mlp --hidden 100,100,100,100,100 --init he --lr 0.1 --epochs 10"
j=$("$BADAK" train --data mnist --model mlp --hidden 100,100,100,100,100 --init he --lr 0.1 \
    --epochs 10 --seed 1 --quiet --json | tail -n 1)
printf 'seconds %.2f (%.3f s/epoch incl. evaluation), test %s, train %s, peak %s MB\n' \
    "$(field seconds "$j")" "$(calc "$(field seconds "$j") / 10")" \
    "$(field test_accuracy "$j")" "$(field train_accuracy "$j")" "$(field peak_rss_mb "$j")"
echo
echo "convolutional presets: one epoch each (600 iterations, then the 10000-image test pass),"
echo "Adam lr 0.001, batch 100, seed 1; resnet on Fashion-MNIST"
printf '%-15s %10s %8s %9s\n' model s/epoch test peak_MB
for m in simple_convnet deep_convnet resnet; do
    d=mnist
    [ "$m" = resnet ] && d=fashion
    j=$("$BADAK" train --data "$d" --model "$m" --optimizer adam --lr 0.001 --batch 100 \
        --epochs 1 --seed 1 --no-train-acc --quiet --json | tail -n 1)
    printf '%-15s %10.2f %8s %9s\n' "$m" "$(field seconds "$j")" "$(field test_accuracy "$j")" \
        "$(field peak_rss_mb "$j")"
done
