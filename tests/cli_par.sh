#!/usr/bin/env bash
# cli_par.sh — the thread pool's tests under ThreadSanitizer, and
# `--probe-sums N` under mpirun (src/dist/grad_sum.c, shm_sum.c): after
# training, the last step's gradient sums are timed N times right after a
# barrier and reported next to the in-training figure; the probe works on a
# copy, so the trained model and the bucket count it reports are those of a
# run without it. Small generated data, 2 ranks.
set -u
BADAK=${BADAK_BIN:-build/badak}
case $BADAK in /*) ;; *) BADAK=$PWD/$BADAK ;; esac
QUICK=${BADAK_QUICK:-0}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

echo "== cli par tests ($BADAK)"
# the thread pool's tests under ThreadSanitizer (make test builds them;
# skipped under BADAK_QUICK, the ASan run: one sanitizer at a time)
tsan="$here/../build/tsan/test_parallel"
if [ "$QUICK" != 1 ]; then
    if [ ! -x "$tsan" ]; then
        bad "$tsan missing (make test builds it)"
    elif out=$(TSAN_OPTIONS="halt_on_error=1 exitcode=66" timeout 300 "$tsan" 2>&1); then
        ok
    else
        bad "the pool's tests under ThreadSanitizer:"$'\n'"$(head -n 40 <<<"$out")"
    fi
fi
if ! command -v mpirun >/dev/null 2>&1; then
    echo "SKIP: mpirun not found (Debian's openmpi-bin; scripts/setup.sh installs it)"
    echo "cli tests: 0 passed, 0 failed"
    exit 0
fi
MPI=(timeout 120 mpirun --allow-run-as-root --oversubscribe --bind-to none)
[ "$QUICK" = 1 ] && MPI+=(-x "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")

perl -e 'my $s = 5; sub r { $s = ($s * 1103515245 + 12345) % 2147483648; $s / 2147483648 }
    for (1 .. 400) { my @x = map { sprintf "%.4f", 2 * r() - 1 } 1 .. 8;
    my $c = ($x[0] + $x[1] > 0 ? 1 : 0) + ($x[2] - $x[3] > 0 ? 2 : 0);
    print join(",", @x, $c), "\n" }' >"$tmp/d.csv"
# 8-300-300-4: 93,304 gradients, 3 buckets of the default 256 KB
args=(train --csv "$tmp/d.csv" --model mlp --hidden 300,300 --optimizer adam --batch 40 --iters 20
      --threads 1 --seed 3)
# the shared sums (the default) and the buckets of --sums allreduce; the
# shared probe sums the bound block itself and puts it back
for mode in --sums=shared --no-overlap --overlap; do
    case $mode in
        --sums=shared) m=(--sums shared) line='gradient sums (shared memory, 2 ranks a node' ;;
        *) m=(--sums allreduce $mode) line='gradient allreduces (3 buckets each' ;;
    esac
    out=$("${MPI[@]}" -np 2 "$BADAK" "${args[@]}" "${m[@]}" --probe-sums 7 --save "$tmp/p$mode.st" 2>&1)
    if grep -qF "$line" <<<"$out" &&
       grep -q '^gradient sums alone: [0-9.]* ms a step (mean of 7, each right after a barrier); so -\?[0-9.]* ms a step waiting for the slower rank$' <<<"$out" &&
       # the ranks that waited least and most, gathered from both (a
       # collective every rank must reach: a quiet rank that skipped it hung)
       perl -ne '$n++, $ok = $1 <= $2 if /^waiting for the other ranks, ms a step: least ([0-9.]+) \(rank [01]\), most ([0-9.]+) \(rank [01]\)$/; END { exit !($n == 1 && $ok) }' <<<"$out" &&
       # the work between the sums: 20 steps in epochs of 8 (320 training
       # rows, batch 40), less each epoch's first (steps 1, 9, 17: the
       # first of the run, and the two after an evaluation): 17 intervals,
       # least <= most, means > 0
       perl -ne '$n++, $ok = $1 == 17 && 0 < $2 && $2 <= $3 && $4 <= $5 if /^work between the sums, ms a step \(([0-9]+) steps\): mean least ([0-9.]+) \(rank [01]\), most ([0-9.]+) \(rank [01]\); standard deviation least ([0-9.]+) \(rank [01]\), most ([0-9.]+) \(rank [01]\)$/; END { exit !($n == 1 && $ok) }' <<<"$out"; then
        ok
    else
        bad "$mode --probe-sums 7: no probe line, or the bucket count changed:"$'\n'"$out"
    fi
    "${MPI[@]}" -np 2 "$BADAK" "${args[@]}" "${m[@]}" --quiet --save "$tmp/n$mode.st" >/dev/null 2>&1
    if cmp -s "$tmp/p$mode.st" "$tmp/n$mode.st"; then ok; else bad "$mode: --probe-sums changed the model"; fi
done
# without mpirun the flag is accepted and does nothing
expect 0 "test accuracy" -- "$BADAK" "${args[@]}" --probe-sums 7
out=$("$BADAK" "${args[@]}" --probe-sums 7 2>&1)
if grep -q "sums alone" <<<"$out"; then bad "a lone run printed a probe line"; else ok; fi
expect 2 "--probe-sums" -- "$BADAK" "${args[@]}" --probe-sums 0

echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
