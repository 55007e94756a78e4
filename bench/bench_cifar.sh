#!/usr/bin/env bash
# bench_cifar.sh [BUILD] — issue 13's timings (`make bench-cifar`): one epoch
# of seed 002's CNN (tobigs_cnn) on 50,000 random 32x32x3 images in the
# CIFAR-10 binary format (--data cifar10:DIR), plus the 10,000-image test
# pass; and resnet18 for $BENCH_RESNET_STEPS steps (default 100) of batch 50,
# its epoch (1,000 steps) extrapolated from them and labelled so. Each run:
# wall seconds, user + system CPU seconds and peak memory (/usr/bin/time),
# and the load average before and after (a shared machine inflates wall
# time; CPU time much less). With PyTorch (python3-torch; `make
# bench-compare` installs it) the same networks in bench/torch_cifar.py,
# same batch and threads, side by side. Random data: for timing only.
# Not a test: a benchmark.
set -u
B=${1:-build}
BADAK=$B/badak
THREADS=${BENCH_THREADS:-2}
STEPS=${BENCH_RESNET_STEPS:-100}
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$BADAK" ] || { echo "bench_cifar: $BADAK not built (make)"; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench_cifar: needs /usr/bin/time (Debian's time)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# random CIFAR-10 files: 5 x 10,000 training records and 10,000 test records
# (label byte 0..9, then 3072 random bytes), the class names
mkdir -p "$tmp/c10" "$tmp/c10small"
perl -e 'srand(1); for $f (1 .. 6) {
    open(my $o, ">:raw", $f < 6 ? "$ARGV[0]/data_batch_$f.bin" : "$ARGV[0]/test_batch.bin") or die;
    for (1 .. 10000) { print $o pack("C", int(rand(10))), pack("L*", map { int(rand(4294967296)) } 1 .. 768) }
    close $o }' "$tmp/c10"
printf 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n' >"$tmp/c10/batches.meta.txt"
# resnet18's steps without a 10,000-image test pass: the same training
# files and a 100-image test file
for f in 1 2 3 4 5; do ln -s "$tmp/c10/data_batch_$f.bin" "$tmp/c10small/data_batch_$f.bin"; done
head -c $((100 * 3073)) "$tmp/c10/test_batch.bin" >"$tmp/c10small/test_batch.bin"
cp "$tmp/c10/batches.meta.txt" "$tmp/c10small/"

# timed LABEL COMMAND...: wall, CPU and peak memory of the command
timed() {
    local label=$1
    shift
    local l0 l1
    l0=$(cut -d' ' -f1-3 /proc/loadavg)
    /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >"$tmp/out" 2>&1
    local rc=$?
    l1=$(cut -d' ' -f1-3 /proc/loadavg)
    read -r wall user sys rss <"$tmp/time"
    printf '%-44s %8.1f %8.1f %8.0f   %s -> %s%s\n' "$label" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" \
        "$((rss / 1024))" "$l0" "$l1" "$([ $rc -eq 0 ] || echo "  (exit $rc)")"
}

echo "bench_cifar: $(nproc) cores, $THREADS threads, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %8s %8s %8s   %s\n' "run" "wall s" "CPU s" "peak MB" "load average before -> after"
timed "badak tobigs_cnn, 1 epoch (500 steps) + test" "$BADAK" train --data cifar10:"$tmp/c10" \
    --model tobigs_cnn --optimizer adam --batch 100 --epochs 1 --no-train-acc --threads "$THREADS"
grep '^done:' "$tmp/out" | sed 's/^/    /'
timed "badak resnet18, $STEPS steps of 50" "$BADAK" train --data cifar10:"$tmp/c10small" \
    --model resnet18 --optimizer adam --batch 50 --iters "$STEPS" --no-train-acc --threads "$THREADS"
res=$(sed -n 's/^done: .* iterations in \([0-9.]*\)s .*/\1/p' "$tmp/out")
grep '^done:' "$tmp/out" | sed 's/^/    /'
[ -n "$res" ] && echo "    resnet18 epoch (1000 steps), EXTRAPOLATED from $STEPS steps: $(awk -v r="$res" -v n="$STEPS" 'BEGIN { printf "%.0f", r * 1000 / n }') s wall"
# Debian's python3-torch is for Debian's Python (not a pyenv one first in PATH)
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
if "$PY" -c 'import torch' 2>/dev/null; then
    export BADAK_TORCH_THREADS=$THREADS
    timed "PyTorch CNN (seed 002), 1 epoch + test" "$PY" "$here/torch_cifar.py" cnn "$tmp/c10"
    sed 's/^/    /' "$tmp/out"
    timed "PyTorch ResNet-18, $STEPS steps of 50" "$PY" "$here/torch_cifar.py" resnet18 \
        "$tmp/c10" "$STEPS"
    sed 's/^/    /' "$tmp/out"
else
    echo "(PyTorch not installed: python3-torch; make bench-compare installs it)"
fi
