#!/usr/bin/env bash
# run_tests.sh BUILD_DIR — every cmocka program, then the CLI and example
# tests. Ends with one "N passed, N failed" line; exits non-zero on a failure.
set -u
B=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pass=0
fail=0
failed=()
for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$name"); fi
done
if BADAK_BIN="$B/badak" BADAK_EXAMPLE="$B/examples/mnist_train" bash tests/cli_test.sh; then
    pass=$((pass + 1))
else
    fail=$((fail + 1))
    failed+=("cli_test.sh")
fi
echo
[ "$fail" -gt 0 ] && echo "failed: ${failed[*]}"
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
