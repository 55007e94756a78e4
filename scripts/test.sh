#!/usr/bin/env bash
# The README's test command: install what is needed (packages, data), build,
# run every test, then the whole suite again under ASan + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
export BADAK_MNIST_DIR="$PWD/data/mnist"
echo "== build and test (-O3)"
make -j"$jobs" test
echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    make -j"$jobs" test-asan
echo "== all tests passed"
