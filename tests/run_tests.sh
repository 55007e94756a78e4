#!/usr/bin/env bash
# run_tests.sh BUILD_DIR — every cmocka program, then the CLI and example
# tests. Ends with one "tests: N passed, N failed" line counting individual
# tests; exits non-zero if any failed or a program crashed.
set -u
B=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export BADAK_MNIST_DIR=${BADAK_MNIST_DIR:-$root/data/mnist}
# PLplot's cairo driver keeps fontconfig's and libltdl's caches until exit:
# LeakSanitizer must not count those (badak's own leaks are still reported)
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$root/tests/lsan.supp:print_suppressions=0
pass=0
fail=0
skip=0
crashed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # sum the N of lines matching "$1 N test(s)" / "N passed, N failed"
    sed -n "s/$1/\\1/p" "$log" | awk '{ s += $1 } END { print s + 0 }'
}

for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    "$t" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    p=$(count '^\[  PASSED  \] \([0-9]*\) test.*')
    f=$(count '^\[  FAILED  \] \([0-9]*\) test.*')
    s=$(count '^\[  SKIPPED \] \([0-9]*\) test.*')
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then fail=$((fail + 1)); crashed+=("$(basename "$t")"); fi
done
# every CLI test script (tests/cli_*.sh): each ends with "cli tests: N passed, M failed"
for sh in tests/cli_*.sh; do
    BADAK_BIN="$B/badak" BADAK_EXAMPLE="$B/examples/mnist_train" BADAK_BUILD="$B" bash "$sh" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    p=$(count '^cli tests: \([0-9]*\) passed.*')
    f=$(sed -n 's/^cli tests: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$log")
    f=${f:-0}
    pass=$((pass + p)); fail=$((fail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then fail=$((fail + 1)); crashed+=("$(basename "$sh")"); fi
done
echo
[ ${#crashed[@]} -gt 0 ] && echo "crashed or failed without a count: ${crashed[*]}"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
