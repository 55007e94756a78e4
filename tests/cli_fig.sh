#!/usr/bin/env bash
# cli_fig.sh — the figures of issue 16: surface-3d, augment, filters before
# and after training, feature-maps, misclassified, --svg and --lang ko, and
# the sample digits of scripts/sample_digits.js.
set -u
BADAK=${BADAK_BIN:-build/badak}
MNIST=${BADAK_MNIST_DIR:-data/mnist}
QUICK=${BADAK_QUICK:-0}   # set under the sanitizers: skips the slow MNIST runs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

# check_fig DIR NAME ROWS [EXT]: NAME.png (or .EXT) and a CSV of ROWS data rows, not ragged
check_fig() {
    local dir=$1 name=$2 rows=$3 ext=${4:-png} n
    if [ "$ext" = png ]; then
        [ -s "$dir/$name.png" ] && [ "$(head -c 4 "$dir/$name.png" | od -An -c | tr -d ' ')" = '211PNG' ] ||
            { bad "figure $name: $dir/$name.png missing or not a PNG"; return; }
    else
        grep -q "<svg" "$dir/$name.$ext" 2>/dev/null || { bad "figure $name: no $name.$ext"; return; }
    fi
    [ -f "$dir/$name.csv" ] || { bad "figure $name: $dir/$name.csv missing"; return; }
    n=$(($(wc -l <"$dir/$name.csv") - 1))
    [ "$n" -eq "$rows" ] || { bad "figure $name: $n CSV rows, want $rows"; return; }
    awk -F, 'NR == 1 { nf = NF; next } NF != nf { bad = 1 } END { exit bad }' "$dir/$name.csv" ||
        { bad "figure $name: ragged CSV"; return; }
    ls -a "$dir" | grep -q '\.tmp$' && { bad "figure $name: temporary file left"; return; }
    ok
}

echo "== figure tests ($BADAK)"
fig=$tmp/fig
out=$("$BADAK" figure --list 2>&1)
for f in surface-3d augment filters feature-maps misclassified; do
    grep -q "^$f " <<<"$out" && ok || bad "figure --list lacks $f"
done
for opt in --before --augment --lang; do
    expect 0 "$opt" -- "$BADAK" figure --help
done
# surface-3d (book 4-8): a 25 x 25 grid of x0^2 + x1^2, English and Korean
expect 0 "surface-3d.png" -- "$BADAK" figure surface-3d --out "$fig"
check_fig "$fig" surface-3d 625
awk -F, '$1 == -3 && $2 == 2 { exit !($3 == 13) }' "$fig/surface-3d.csv" && ok ||
    bad "surface-3d: f(-3, 2) is not 13"
cp "$fig/surface-3d.png" "$tmp/en.png"
expect 0 "surface-3d.png" -- "$BADAK" figure surface-3d --lang ko --out "$fig"
cmp -s "$fig/surface-3d.png" "$tmp/en.png" && bad "--lang ko drew the English title" || ok
# LANG=ko_KR.UTF-8 makes Korean the default; --lang en overrides it (the
# comparisons are made under one LANG: pango's font choice follows it)
for l in default ko en; do
    opt=(--lang "$l"); [ "$l" = default ] && opt=()
    LANG=ko_KR.UTF-8 "$BADAK" figure surface-3d "${opt[@]}" --out "$tmp/$l" >/dev/null 2>&1
done
cmp -s "$tmp/default/surface-3d.png" "$tmp/ko/surface-3d.png" && ok || bad "LANG=ko is not Korean by default"
cmp -s "$tmp/en/surface-3d.png" "$tmp/ko/surface-3d.png" && bad "--lang en does not override LANG=ko" || ok
expect 2 "--lang 'fr': expected en or ko" -- "$BADAK" figure surface-3d --lang fr
expect 2 "--augment is for augment" -- "$BADAK" figure gd-1d --augment shift
expect 2 "--before is for filters" -- "$BADAK" figure gd-1d --before x.safetensors
expect 2 "feature-maps needs --model FILE" -- "$BADAK" figure feature-maps
expect 2 "misclassified needs --model FILE" -- "$BADAK" figure misclassified
expect 2 "unexpected argument 'x.png'" -- "$BADAK" figure gd-1d x.png
# train --iters 0 / --epochs 0: no step, the initialised net measured and saved
awk 'BEGIN { srand(3); print "x,y,label"; for (i = 0; i < 200; i++) { x = rand() * 2 - 1; y = rand() * 2 - 1; print x "," y "," (x * x + y * y < 0.5) } }' >"$tmp/c.csv"
expect 0 "done: 0 epochs, 0 iterations" -- "$BADAK" train --csv "$tmp/c.csv" --model mlp --hidden 8 \
    --iters 0 --save "$tmp/zero.safetensors"
expect 0 '"iterations":0' -- "$BADAK" train --csv "$tmp/c.csv" --model mlp --hidden 8 --epochs 0 --json --quiet
expect 0 "epochs     0 (0 iterations, batch 100)" -- "$BADAK" info "$tmp/zero.safetensors"
expect 2 "give --epochs or --iters, not both" -- "$BADAK" train --csv "$tmp/c.csv" --epochs 0 --iters 0
expect 2 "--iters" -- "$BADAK" train --csv "$tmp/c.csv" --iters -1

if [ ! -f "$MNIST/t10k-images-idx3-ubyte" ] && [ ! -f "$MNIST/t10k-images-idx3-ubyte.gz" ]; then
    echo "figure tests: MNIST not installed, model figures skipped"
    echo "cli tests: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]; exit
fi
export BADAK_DATA=$(dirname "$MNIST")
# augment: 6 digits x (the original + 7 draws) x 784 pixels; the originals
# are the training images unchanged, the draws differ from them
expect 0 "augment.png" -- "$BADAK" figure augment --out "$fig" --data "$MNIST"
check_fig "$fig" augment $((6 * 8 * 784))
awk -F, 'NR > 1 && $1 == 0 { s[$2] = s[$2] "," $5 } END { n = 0; for (k = 1; k < 8; k++) n += s[k] != s[0]; exit n != 7 }' \
    "$fig/augment.csv" && ok || bad "augment: the draws of sample 0 are not all different from it"
expect 2 "rotate:400" -- "$BADAK" figure augment --augment rotate:400 --out "$fig" --data "$MNIST"

# a small convolutional model, and the same net before training
sc=$tmp/sc.safetensors
n=2000; [ "$QUICK" = 1 ] && n=300 # under the sanitizers: a few steps are enough
"$BADAK" train --data "$MNIST" --model simple_convnet --optimizer adam --lr 0.001 --train-size $n \
    --epochs 1 --seed 5 --quiet --save "$sc" >/dev/null 2>&1 || bad "training simple_convnet failed"
expect 0 "before: initialised with seed 5" -- "$BADAK" figure filters --model "$sc" --out "$fig" --svg
check_fig "$fig" filters $((2 * 30 * 25))
check_fig "$fig" filters $((2 * 30 * 25)) svg
# before and after differ, and 'before' is the seeded initialisation
awk -F, 'NR > 1 { v[$1 "," $2 "," $4 "," $5] = $6 } END { d = 0; for (k in v) { split(k, p, ","); if (p[1] == "after" && v[k] != v["before," p[2] "," p[3] "," p[4]]) d++ } exit d < 700 }' \
    "$fig/filters.csv" && ok || bad "filters: after training equals before"
"$BADAK" train --data "$MNIST" --model deep_convnet --train-size 100 --batch 10 --iters 1 --quiet \
    --save "$tmp/deep.safetensors" >/dev/null 2>&1 || bad "training deep_convnet failed"
# --before from a zero-step run of the same net and seed: the same weights
"$BADAK" train --data "$MNIST" --model simple_convnet --train-size $n --seed 5 --iters 0 --quiet \
    --save "$tmp/sc0.safetensors" >/dev/null 2>&1 || bad "train --iters 0 failed"
grep '^before' "$fig/filters.csv" >"$tmp/before.redrawn"
expect 0 "before: sc0.safetensors" -- "$BADAK" figure filters --model "$sc" --before "$tmp/sc0.safetensors" --out "$fig"
grep '^before' "$fig/filters.csv" | cmp -s - "$tmp/before.redrawn" && ok ||
    bad "filters: --before of train --iters 0 differs from the seed's initialisation"
expect 1 "does not match" -- "$BADAK" figure filters --model "$sc" --before "$tmp/deep.safetensors" --out "$fig"
# feature-maps: Conv1's 30 maps of 24 x 24 for the first test digit and for a PNG
expect 0 "test digit #0 (label 7)" -- "$BADAK" figure feature-maps --model "$sc" --out "$fig"
check_fig "$fig" feature-maps $((30 * 24 * 24))
if command -v node >/dev/null 2>&1; then
    node "$(dirname "$0")/../scripts/sample_digits.js" "$MNIST" "$tmp/digits" >/dev/null ||
        bad "sample_digits.js failed"
    for f in test_0_7 test_1_2 test_2_1 test_3_0 test_4_4 my_digit; do
        [ "$(head -c 4 "$tmp/digits/$f.png" | od -An -c | tr -d ' ')" = '211PNG' ] && ok ||
            bad "sample digit $f.png missing"
    done
    want="test_0_7.png: 7 ("; [ "$QUICK" = 1 ] && want="test_0_7.png: " # a few steps: any answer
    expect 0 "$want" -- "$BADAK" predict --model "$sc" "$tmp/digits/test_0_7.png"
    expect 0 "[inverted]" -- "$BADAK" predict --model "$sc" "$tmp/digits/my_digit.png"
    expect 0 "my_digit.png (inverted) through" -- "$BADAK" figure feature-maps --model "$sc" \
        "$tmp/digits/my_digit.png" --out "$fig"
fi
expect 1 "nothere.png" -- "$BADAK" figure feature-maps --model "$sc" "$tmp/nothere.png" --out "$fig"
# misclassified: one CSV row per wrong answer, as many as badak eval counts
if [ "$QUICK" = 1 ]; then
    expect 0 "of 2000 test samples misclassified" -- "$BADAK" figure misclassified --model "$sc" \
        --quick --out "$fig"
else
    out=$("$BADAK" figure misclassified --model "$sc" --out "$fig" 2>&1) || bad "misclassified: $out"
    wrong=$(($(wc -l <"$fig/misclassified.csv") - 1))
    acc=$("$BADAK" eval --model "$sc" --data "$MNIST" 2>&1 | sed -n 's/.*accuracy \(0\.[0-9]*\).*/\1/p' | head -1)
    awk -v w="$wrong" -v a="$acc" 'BEGIN { exit !(a != "" && (1 - w / 10000) - a < 1e-4 && a - (1 - w / 10000) < 1e-4) }' &&
        ok || bad "misclassified: $wrong wrong answers, eval says accuracy $acc"
    awk -F, 'NR > 1 && $2 == $3 { exit 1 }' "$fig/misclassified.csv" && ok ||
        bad "misclassified: a row whose label equals the prediction"
fi
echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
