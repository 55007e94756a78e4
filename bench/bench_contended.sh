#!/usr/bin/env bash
# bench_contended.sh BUILD_DIR — `make bench-contended`. Not a test: prints
# figures. The same 2-thread workload (`badak figure optimizers-mnist`, four
# optimizers on MNIST) with the default threads and with --threads 1, first
# alone, then next to one CPU-bound busy loop that this script starts and
# kills. The pool's target: contended, the default is never slower than
# --threads 1 and at most 1.5x its own time alone. On a machine that other
# work also loads, the `load` column says how far "alone" was from idle.
# The ceiling: build/bench/fairshare (2 threads that never wait) measures
# the cores the scheduler gives a 2-thread process, alone and beside the
# busy loop (4/3 of 2 when 3 threads share 2 cores); --threads 1's work
# over those cores is the fastest any 2-thread run can be there, printed
# with the ratio to alone-default that it allows.
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
BADAK="$B/badak"
[ -x "$BADAK" ] || { echo "bench-contended: $BADAK not built (run make)" >&2; exit 1; }
OUT=$(mktemp -d)
BUSY=
cleanup() { [ -n "$BUSY" ] && kill "$BUSY" 2>/dev/null; rm -rf "$OUT"; }
trap cleanup EXIT
run() { # LABEL THREADS-ARGS...
    local label=$1; shift
    local load; load=$(cut -d' ' -f1 /proc/loadavg)
    local TIMEFORMAT='%R %U %S'
    { time "$BADAK" figure optimizers-mnist --out "$OUT" "$@" >/dev/null 2>"$OUT/err"; } 2>"$OUT/time"
    read -r wall user sys <"$OUT/time"
    printf '%-22s %8s %8s %8s %6s\n' "$label" "$wall" "$user" "$sys" "$load"
    echo "$wall" >"$OUT/$label.s"
}
echo "machine: $(nproc) cores; workload: badak figure optimizers-mnist"
printf '%-22s %8s %8s %8s %6s\n' run wall_s user_s sys_s load1
run alone-default
run alone-threads1 --threads 1
bash -c 'while :; do :; done' &
BUSY=$!
run busy-default
run busy-threads1 --threads 1
FAIR="$B/bench/fairshare" FJ="$B/bench/forkjoin"
[ -x "$FAIR" ] && "$FAIR" 2 2 | sed -n 's/^cores //p' >"$OUT/cores.busy"
# the pool on pure arithmetic: loops of 2 parts of 50 us and of 3 ms
if [ -x "$FJ" ]; then
    "$FJ" 2 50 5 2 >"$OUT/fj.busy"
    "$FJ" 2 3000 5 2 >>"$OUT/fj.busy"
fi
kill "$BUSY"; BUSY=
[ -x "$FAIR" ] && "$FAIR" 2 2 | sed -n 's/^cores //p' >"$OUT/cores.alone"
[ -x "$FJ" ] && "$FJ" 2 50 5 2 >"$OUT/fj.alone"
r() { awk "BEGIN { printf \"%.2f\", $(cat "$OUT/$1.s") / $(cat "$OUT/$2.s") }"; }
echo "busy-default / busy-threads1 = $(r busy-default busy-threads1) (target <= 1.00)"
echo "busy-default / alone-default = $(r busy-default alone-default) (target <= 1.50)"
if [ -s "$OUT/cores.busy" ]; then
    cb=$(cat "$OUT/cores.busy") ca=$(cat "$OUT/cores.alone")
    awk -v cb="$cb" -v ca="$ca" -v t1="$(cat "$OUT/alone-threads1.s")" \
        -v ad="$(cat "$OUT/alone-default.s")" -v bd="$(cat "$OUT/busy-default.s")" 'BEGIN {
        best = t1 / cb
        printf "ceiling: 2 threads that never wait get %.2f cores alone, %.2f beside the busy loop\n", ca, cb
        printf "         so a 2-thread run beside it takes at least alone-threads1 / %.2f = %.2f s\n", cb, best
        printf "         = %.2fx alone-default at best; busy-default used %.0f%% of those cores\n", best / ad, 100 * best / bd
    }'
fi
if [ -s "$OUT/fj.busy" ]; then
    # "cores C" of forkjoin's line: the work its loops did, in cores
    fj() { sed -n "${2}s/.*: cores \([0-9.]*\).*/\1/p" "$OUT/$1"; }
    echo "fork-join: the pool's own loops of pure arithmetic (bench/forkjoin, 2 threads) do $(fj fj.alone 1) cores' work alone,"
    echo "           $(fj fj.busy 1) beside the busy loop with 50 us parts and $(fj fj.busy 2) with 3 ms parts: a loop waits for"
    echo "           its slowest part, so a pool gets about one core there whatever the part size"
fi
