#!/usr/bin/env bash
# cli_lib.sh — the library-facing parts of the command: a finished run
# extended with --resume DIR --epochs N, the CLI's flag advice on a
# diverging run and on a missing data folder (the library's messages name
# API values only: bd_data_dir's name, bd_mnist_load's dir).
set -u
BADAK=${BADAK_BIN:-build/badak}
EX=${BADAK_BUILD:-build}/examples
MNIST=${BADAK_MNIST_DIR:-data/mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

echo "== cli lib tests ($BADAK)"
# a small CSV problem: two noisy clusters in 4 features
awk 'BEGIN { srand(7); for (i = 0; i < 300; i++) { c = i % 3;
    printf "%.4f,%.4f,%.4f,%.4f,%d\n", c + rand(), rand() - c, rand(), c * rand(), c } }' > "$tmp/d.csv"
run=(--csv "$tmp/d.csv" --model mlp --hidden 16 --batch 20 --seed 3 --threads 1 --optimizer adam --quiet)

# ---- --resume DIR --epochs N extends a finished run to a longer one
"$BADAK" train "${run[@]}" --epochs 6 --save "$tmp/long.st" >/dev/null 2>&1
"$BADAK" train "${run[@]}" --epochs 2 --checkpoint "$tmp/ck" >/dev/null 2>&1
expect 0 "" -- "$BADAK" train --resume "$tmp/ck" --epochs 6 --save "$tmp/ext.st"
if cmp -s "$tmp/long.st" "$tmp/ext.st"; then ok; else
    bad "a 2-epoch run extended to 6 differs from a 6-epoch run"; fi
# the checkpoint now keeps the new length: resuming it again does nothing more
out=$("$BADAK" train --resume "$tmp/ck" --json 2>&1 | tail -n 1)
if grep -q '"epochs":6,' <<<"$out"; then ok; else bad "re-resumed run: $out"; fi
# an --iters length replaces a saved --epochs one (not "give --epochs or --iters, not both")
expect 0 "" -- "$BADAK" train --resume "$tmp/ck" --iters 105
expect 2 "does not fit this run" -- "$BADAK" train --resume "$tmp/ck" --epochs 3
expect 2 "--lr cannot be changed" -- "$BADAK" train --resume "$tmp/ck" --lr 0.5

# ---- flag advice is the CLI's; the library's message names the learning rate
out=$("$BADAK" train --csv "$tmp/d.csv" --lr 100000 --init std=10 --epochs 50 --quiet 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "learning rate (100000) is probably too high" <<<"$out" &&
   grep -q "hint: try a lower --lr" <<<"$out"; then ok; else bad "diverging run (rc $rc): $out"; fi

# ---- the data folder: the library names bd_data_dir's name, the CLI says --data
# and how to install the sets (test_lib.c checks the library's own words)
abs=$(cd "$(dirname "$BADAK")" && pwd)/$(basename "$BADAK")
mkdir -p "$tmp/cwd"
expect 1 "--data $tmp/nowhere: no such folder" -- "$BADAK" train --data "$tmp/nowhere"
expect 1 "scripts/setup.sh --data-only\` to install MNIST and Fashion-MNIST, or pass --data DIR" -- \
    "$BADAK" train --data "$tmp/nowhere"
out=$(cd "$tmp/cwd" && BADAK_DATA="$tmp/none" "$abs" train --data fashion 2>&1)
if grep -qF -- "--data fashion: no folder data/fashion nor $tmp/none/fashion; run \`bash scripts/setup.sh --data-only\`" <<<"$out" &&
   ! grep -q bd_data_dir <<<"$out"; then ok; else bad "missing fashion: $out"; fi
expect 1 "--data $tmp/d.csv: a file, not a folder: --data takes mnist, fashion or a folder of IDX files (for a CSV file use --csv)" -- \
    "$BADAK" train --data "$tmp/d.csv"
expect 2 "--data: empty name (use mnist, fashion or a folder)" -- "$BADAK" train --data ""

# ---- the examples: 3-call inference, a custom loop on the step API
if [ -f "$MNIST/t10k-labels-idx1-ubyte" ] || [ -f "$MNIST/t10k-labels-idx1-ubyte.gz" ]; then
    "$BADAK" train --data "$MNIST" --train-size 3000 --epochs 1 --optimizer adam --quiet \
        --save "$tmp/m.st" >/dev/null 2>&1
    ex=$("$EX/predict" "$tmp/m.st" "$MNIST" 2>&1)
    ev=$("$BADAK" eval --model "$tmp/m.st" --data "$MNIST" --test-size 1000 2>&1)
    a=$(sed -n 's/^accuracy \([0-9.]*\) on the first 1000.*/\1/p' <<<"$ex")
    b=$(sed -n 's/^test accuracy \([0-9.]*\) .*/\1/p' <<<"$ev")
    # the example's 3 calls and badak eval agree on the same 1000 images
    if [ -n "$a" ] && [ "$a" = "$b" ]; then ok; else bad "examples/predict: '$a' vs eval '$b'"$'\n'"$ex"; fi
    expect 0 "reached 0.50 after 1 epochs" -- "$EX/custom_loop" "$MNIST" 0.5
    expect 1 "predict: " -- "$EX/predict" "$tmp/none.st" "$MNIST"
    # badak info: a Keras-like layer table
    "$BADAK" train --data "$MNIST" --model simple_convnet --train-size 200 --epochs 1 \
        --no-train-acc --quiet --save "$tmp/cnn.st" >/dev/null 2>&1
    out=$("$BADAK" info "$tmp/cnn.st" 2>&1)
    if grep -Eq '^Conv1 +conv +30x24x24 +780  filters 30, kernel 5x5, stride 1, pad 0, \+ Relu1 fused$' <<<"$out" &&
       grep -Eq '^MaxPool1 +maxpool +30x12x12 +0  kernel 2x2, stride 2$' <<<"$out" &&
       grep -Eq '^Affine1 +affine +100 +432100  units 100$' <<<"$out" &&
       grep -q '^parameters 433890 (trainable 433890, frozen 0)' <<<"$out"; then ok; else
        bad "badak info table:"$'\n'"$out"; fi
fi

echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
