#!/usr/bin/env bash
# bench_mpi.sh BUILD_DIR — `make bench-mpi`. Not a test: prints figures.
# One MNIST epoch (600 steps of batch 100, then the 10000-image test pass,
# split over the ranks too) of the MLP 784-100x5-10 and of simple_convnet,
# Adam lr 0.001, seed 1, as 1 rank x 1 thread, 1 rank x 2 threads and
# 2 ranks x 1 thread (mpirun -np 2, one core each) with the gradient summed
# through shared memory (the default), and in MPI_Iallreduce buckets
# (--sums allreduce) after backward and overlapped with it (--overlap), and
# the shared sums with every rank stepping all the weights (--update all)
# against the default sharded update (each rank its slice); with
# the time rank 0 spends in MPI on the gradient sums per step, its share of
# the epoch, and the user CPU seconds of every run. The sums are split into
# the transfer itself -- the last step's sums timed again 50 times right
# after an MPI_Barrier (--probe-sums), so that no rank waits for another --
# and the rest, the time a rank waits in the sums for the slower one, with
# every rank's work between the sums (least and most mean and standard
# deviation: one slow rank, or steps that vary). Each run is repeated
# (BENCH_MPI_REPEAT, default 2; the configurations take turns) and the
# fastest kept. The load average is printed before and after: on a shared
# machine every figure depends on it.
# About 100 s on an idle 2-core machine.
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
BADAK="$B/badak"
REPEAT=${BENCH_MPI_REPEAT:-2}
[ -x "$BADAK" ] || { echo "bench-mpi: $BADAK not built (run make)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "bench-mpi: mpirun not found (openmpi-bin)" >&2; exit 1; }
calc() { awk "BEGIN { print $1 }"; }
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "load: $(uptime)"
MPI=(mpirun --allow-run-as-root)
[ "$(nproc)" -lt 2 ] && MPI+=(--oversubscribe)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# once KEY COMMAND...: one epoch; where it is the fastest of KEY so far,
# its figures are kept in $tmp/KEY.* (the seconds in $tmp/KEY)
once() {
    local key=$1 out s it ar wt al user
    shift
    out=$(/usr/bin/time -f 'usercpu %U' "$@" 2>&1 | tr '\r' '\n')
    s=$(sed -n 's/^done: .* iterations in \([0-9.]*\)s.*/\1/p' <<<"$out")
    [ -n "$s" ] || { echo "bench-mpi: $key failed:"$'\n'"$out" >&2; exit 1; }
    if [ -s "$tmp/$key" ] && ! perl -e "exit !($s < $(cat "$tmp/$key"))"; then
        return 0
    fi
    it=$(sed -n 's/^done: [0-9]* epochs, \([0-9]*\) iterations.*/\1/p' <<<"$out")
    ar=$(sed -n 's/^data parallel: .*, \([0-9.]*\) s in all.*/\1/p' <<<"$out")
    wt=$(sed -n 's/^data parallel: .*; \([0-9.]*\) ms of it waiting.*/\1/p' <<<"$out")
    al=$(sed -n 's/^gradient sums alone: \([0-9.]*\) ms a step.*/\1/p' <<<"$out")
    user=$(sed -n 's/^usercpu //p' <<<"$out")
    echo "$s" >"$tmp/$key"
    printf '%s\n' "$it" "$ar" "$wt" "$al" "$user" "$(sed -n 's/^test accuracy //p' <<<"$out")" \
        "$(sed -n 's/^work between the sums, ms a step ([0-9]* steps): //p' <<<"$out")" \
        >"$tmp/$key.fig"
}

# row KEY LABEL: the row of KEY's fastest epoch
row() {
    local key=$1 label=$2 best it ar wt al bu acc wk
    best=$(cat "$tmp/$key")
    { read -r it; read -r ar; read -r wt; read -r al; read -r bu; read -r acc; read -r wk; } \
        <"$tmp/$key.fig"
    if [ -n "$ar" ]; then
        local per; per=$(calc "1000 * $ar / $it")
        printf '  %-34s %7.2f s  %7.2f s  %s  %7.3f ms/step  %5.1f%%  (%.3f ms of it waiting)\n' \
            "$label" "$best" "$bu" "$acc" "$per" "$(calc "100 * $ar / $best")" "$wt"
        printf '  %-34s %30s transfer alone %7.3f ms/step  %5.1f%%;  waiting for the slower rank %7.3f ms/step  %5.1f%%\n' \
            "" "" "$al" "$(calc "100 * $al * $it / 1000 / $best")" "$(calc "$per - $al")" \
            "$(calc "100 * ($per - $al) * $it / 1000 / $best")"
        [ -n "$wk" ] && printf '  %-34s %30s work between the sums, ms: %s\n' "" "" "$wk"
        calc "100 * $ar / $best" >"$tmp/$key.share"
        calc "100 * $al * $it / 1000 / $best" >"$tmp/$key.tshare"
    else
        printf '  %-34s %7.2f s  %7.2f s  %s\n' "$label" "$best" "$bu" "$acc"
    fi
}

for model in mlp simple_convnet; do
    args=(train --data mnist --model "$model" --optimizer adam --lr 0.001 --batch 100
          --epochs 1 --seed 1 --no-train-acc)
    [ "$model" = mlp ] && args+=(--hidden 100,100,100,100,100)
    echo
    echo "$model: badak ${args[*]}  (best of $REPEAT)"
    printf '  %-34s %9s  %9s  %-6s  %-15s %s\n' "" "s/epoch" "user CPU" "test" \
        "gradient sums" "share"
    rm -f "$tmp"/[a-f] "$tmp"/[a-f].*
    # the configurations take turns, REPEAT rounds: a machine whose speed
    # drifts (a shared host) slows them alike, not one more than another
    for _ in $(seq "$REPEAT"); do
        once a "$BADAK" "${args[@]}" --threads 1
        once b "$BADAK" "${args[@]}" --threads 2
        once c "${MPI[@]}" -np 2 "$BADAK" "${args[@]}" --threads 1 --sums allreduce --overlap \
            --probe-sums 50
        once e "${MPI[@]}" -np 2 "$BADAK" "${args[@]}" --threads 1 --sums allreduce --probe-sums 50
        once d "${MPI[@]}" -np 2 "$BADAK" "${args[@]}" --threads 1 --probe-sums 50
        once f "${MPI[@]}" -np 2 "$BADAK" "${args[@]}" --threads 1 --update all --probe-sums 50
    done
    row a "1 rank x 1 thread"
    row b "1 rank x 2 threads"
    row c "2 ranks x 1 thread, allreduce --overlap"
    row e "2 ranks x 1 thread, allreduce after bwd"
    row f "2 ranks x 1 thread, shared, --update all"
    row d "2 ranks x 1 thread (default: shared, sharded update)"
    a=$(cat "$tmp/a") b=$(cat "$tmp/b") c=$(cat "$tmp/c") d=$(cat "$tmp/d") e=$(cat "$tmp/e")
    f=$(cat "$tmp/f")
    printf '  2 ranks (default, shared sums): %.2fx over 1 rank x 1 thread (target >= 1.7), %.2fx over 1 rank x 2 threads (target >= 1)\n' \
        "$(calc "$a / $d")" "$(calc "$b / $d")"
    printf '  2 ranks, every rank stepping all the weights (--update all): %.2fx over 1 rank x 1 thread, %.2fx over 1 rank x 2 threads\n' \
        "$(calc "$a / $f")" "$(calc "$b / $f")"
    printf '  2 ranks (--sums allreduce): %.2fx over 1 rank x 1 thread, %.2fx over 1 rank x 2 threads; with --overlap %.2fx, %.2fx\n' \
        "$(calc "$a / $e")" "$(calc "$b / $e")" "$(calc "$a / $c")" "$(calc "$b / $c")"
    printf '  gradient sums: %.1f%% of the epoch shared (target <= 5%%), %.1f%% allreduce, %.1f%% overlapped; of it the transfer alone %.1f%% / %.1f%% / %.1f%%, the rest waiting for the slower rank\n' \
        "$(cat "$tmp/d.share")" "$(cat "$tmp/e.share")" "$(cat "$tmp/c.share")" \
        "$(cat "$tmp/d.tshare")" "$(cat "$tmp/e.tshare")" "$(cat "$tmp/c.tshare")"
done
echo
echo "load: $(uptime)"
