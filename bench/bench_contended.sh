#!/usr/bin/env bash
# bench_contended.sh BUILD_DIR — `make bench-contended`. Not a test: prints
# figures. The same 2-thread workload (`badak figure optimizers-mnist`, four
# optimizers on MNIST) with the default threads and with --threads 1, first
# alone, then next to one CPU-bound busy loop that this script starts and
# kills. The pool's target: contended, the default is never slower than
# --threads 1 and at most 1.5x its own time alone. On a machine that other
# work also loads, the `load` column says how far "alone" was from idle.
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
kill "$BUSY"; BUSY=
r() { awk "BEGIN { printf \"%.2f\", $(cat "$OUT/$1.s") / $(cat "$OUT/$2.s") }"; }
echo "busy-default / busy-threads1 = $(r busy-default busy-threads1) (target <= 1.00)"
echo "busy-default / alone-default = $(r busy-default alone-default) (target <= 1.50)"
