#!/usr/bin/env bash
# bench_mpi.sh BUILD_DIR — `make bench-mpi`. Not a test: prints figures.
# One MNIST epoch (600 steps of batch 100, then the 10000-image test pass,
# split over the ranks too) of the MLP 784-100x5-10 and of simple_convnet,
# Adam lr 0.001, seed 1, as 1 rank x 1 thread, 1 rank x 2 threads and
# 2 ranks x 1 thread (mpirun -np 2, one core each), with the time rank 0
# spends in the gradient allreduce per step. The machine's load is printed
# first: on a shared machine every figure depends on it.
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
BADAK="$B/badak"
[ -x "$BADAK" ] || { echo "bench-mpi: $BADAK not built (run make)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "bench-mpi: mpirun not found (openmpi-bin)" >&2; exit 1; }
calc() { awk "BEGIN { print $1 }"; }
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "load: $(uptime)"
MPI=(mpirun --allow-run-as-root)
[ "$(nproc)" -lt 2 ] && MPI+=(--oversubscribe)

# run LABEL COMMAND...: one epoch; prints s/epoch, test accuracy, allreduce
run() {
    local label=$1 out s it ar ms share
    shift
    out=$("$@" 2>&1 | tr '\r' '\n')
    s=$(sed -n 's/^done: .* iterations in \([0-9.]*\)s.*/\1/p' <<<"$out")
    it=$(sed -n 's/^done: [0-9]* epochs, \([0-9]*\) iterations.*/\1/p' <<<"$out")
    ar=$(sed -n 's/^data parallel: .*, \([0-9.]*\) s in all.*/\1/p' <<<"$out")
    if [ -n "$ar" ]; then
        ms=$(calc "1000 * $ar / $it")
        share=$(calc "100 * $ar / $s")
        printf '  %-22s %8.2f s/epoch  test %s  allreduce %.3f ms/step (%.1f%% of the epoch)\n' \
            "$label" "$s" "$(sed -n 's/^test accuracy //p' <<<"$out")" "$ms" "$share"
    else
        printf '  %-22s %8.2f s/epoch  test %s\n' "$label" "$s" \
            "$(sed -n 's/^test accuracy //p' <<<"$out")"
    fi
    echo "$s" >"$tmp/$label"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for model in mlp simple_convnet; do
    args=(train --data mnist --model "$model" --optimizer adam --lr 0.001 --batch 100
          --epochs 1 --seed 1 --no-train-acc)
    [ "$model" = mlp ] && args+=(--hidden 100,100,100,100,100)
    echo
    echo "$model: badak ${args[*]}"
    run "1 rank x 1 thread" "$BADAK" "${args[@]}" --threads 1
    run "1 rank x 2 threads" "$BADAK" "${args[@]}" --threads 2
    run "2 ranks x 1 thread" "${MPI[@]}" -np 2 "$BADAK" "${args[@]}" --threads 1
    # waiting ranks yield the core instead of polling (for a busy, shared machine)
    run "2 ranks, yield" "${MPI[@]}" --mca mpi_yield_when_idle 1 -np 2 "$BADAK" "${args[@]}" \
        --threads 1
    a=$(cat "$tmp/1 rank x 1 thread") b=$(cat "$tmp/1 rank x 2 threads") c=$(cat "$tmp/2 ranks x 1 thread")
    d=$(cat "$tmp/2 ranks, yield")
    printf '  speed-up of 2 ranks: %.2fx over 1 rank x 1 thread, %.2fx over 1 rank x 2 threads\n' \
        "$(calc "$a / $c")" "$(calc "$b / $c")"
    printf '  with yield: %.2fx over 1 rank x 1 thread, %.2fx over 1 rank x 2 threads\n' \
        "$(calc "$a / $d")" "$(calc "$b / $d")"
done
echo
echo "load: $(uptime)"
