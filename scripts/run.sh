#!/usr/bin/env bash
# The README's main job: install what is needed, build, train the default
# network (the book's chapter-5 TwoLayerNet) on MNIST, print its test accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
make -j"$(nproc 2>/dev/null || echo 2)" all >/dev/null
./build/badak train --data mnist "$@"
