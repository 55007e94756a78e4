#!/usr/bin/env bash
# cli_tsan.sh — runs build/tsan/tsan_predict (make test builds it): 4
# threads predicting on one bd_model under ThreadSanitizer. Skipped under
# BADAK_QUICK (the ASan run: one sanitizer at a time is enough).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/tsan/tsan_predict"
pass=0
fail=0
echo "== cli tsan tests"
if [ "${BADAK_QUICK:-0}" = 1 ]; then
    echo "skipped under BADAK_QUICK"
elif [ ! -x "$bin" ]; then
    echo "FAIL: $bin missing (make test builds it)"; fail=1
else
    out=$(TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$bin" 2>&1)
    rc=$?
    echo "$out" | tail -n 3
    if [ $rc -eq 0 ] && grep -q "0 wrong results" <<<"$out"; then pass=1; else
        fail=1; echo "FAIL: tsan_predict exited $rc"; echo "$out" | head -n 40; fi
fi
echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
