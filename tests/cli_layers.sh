#!/usr/bin/env bash
# cli_layers.sh — what a run looks like inside (issue 13): badak train
# --log-layers (per-layer gradient norms and activation statistics; the run
# is the same with it, bit for bit), badak figure layers that draws it, and
# badak figure confusion of a saved model on a data set's test split.
set -u
BADAK=${BADAK_BIN:-build/badak}
QUICK=${BADAK_QUICK:-0}   # set under the sanitizers: smaller runs
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

# is_png FILE: the PNG signature
is_png() { [ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }

echo "== cli layers tests ($BADAK)"

# four Gaussian-ish blobs in 6 dimensions, 400 rows (label last)
awk 'BEGIN { srand(9); for (i = 0; i < 400; i++) { k = int(4 * rand()); s = "";
    for (j = 0; j < 6; j++) s = s sprintf("%.4f,", (j % 4 == k ? 2 : 0) + rand() - 0.5);
    print s k } }' >"$tmp/blobs.csv"
deep=(--csv "$tmp/blobs.csv" --model mlp --hidden 30,30,30,30,30,30,30,30,30,30 --activation sigmoid
      --optimizer adam --lr 0.01 --batch 40 --epochs 3 --threads 2 --seed 4)

# --- --log-layers: the weights are the same with and without it
"$BADAK" train "${deep[@]}" --quiet --save "$tmp/plain.safetensors"
"$BADAK" train "${deep[@]}" --quiet --save "$tmp/logged.safetensors" --log-layers "$tmp/layers.csv" \
    --log-layers-every 4
if cmp -s "$tmp/plain.safetensors" "$tmp/logged.safetensors"; then ok; else
    bad "--log-layers changed the trained model"; fi
ls -a "$tmp" | grep -q '\.tmp' && bad "a temporary file was left" || ok

# 320 training rows / 40 = 8 steps an epoch, 24 in all; logged at 1, every
# 4th and each epoch's last: 1 4 8 12 16 20 24 -> 7 steps x 21 layers
rows=$(($(wc -l <"$tmp/layers.csv") - 1))
[ "$rows" -eq $((7 * 21)) ] && ok || bad "--log-layers wrote $rows rows, want 147"
head -1 "$tmp/layers.csv" | grep -qx 'iter,epoch,layer,kind,params,grad_norm,weight_norm,act_mean,act_std,act_zero_frac,act_min,act_max' &&
    ok || bad "--log-layers header: $(head -1 "$tmp/layers.csv")"
# vanishing gradients: at every logged step Affine1's gradient norm is
# below 1e-2 of Affine11's (measured here: 6.1e-7 .. 3.3e-6)
ratio=$(awk -F, '$3 == "Affine1" { g0[$1] = $6 } $3 == "Affine11" { g1[$1] = $6 }
    END { m = 0; for (i in g0) { r = g0[i] / g1[i]; if (r > m) m = r } print m }' "$tmp/layers.csv")
awk -v r="$ratio" 'BEGIN { exit !(r > 0 && r < 1e-2) }' && ok ||
    bad "deep sigmoid MLP: first/last gradient norm ratio $ratio, want < 1e-2"
# a sigmoid's output lies in (0, 1); no parameters: an empty gradient field
awk -F, '$4 == "Sigmoid" && ($6 != "" || $11 < 0 || $12 > 1) { bad = 1 } END { exit bad }' \
    "$tmp/layers.csv" && ok || bad "Sigmoid rows: gradient given or output outside [0, 1]"

expect 2 "--log-layers-every needs --log-layers" -- "$BADAK" train "${deep[@]}" --log-layers-every 5
expect 1 "is a folder" -- "$BADAK" train "${deep[@]}" --log-layers "$tmp"
expect 2 "--log-layers-every" -- "$BADAK" train "${deep[@]}" --log-layers "$tmp/x.csv" \
    --log-layers-every 0

# --- under mpirun: rank 0 writes the log, the same steps and layers; the
# gradient norms are of the gradient summed over the ranks, so they match
# one process's to rounding (measured: at most 2.0e-6 relative; limit 1e-3), while
# the activation statistics are of rank 0's rows only
if command -v mpirun >/dev/null 2>&1; then
    MPI=(timeout 120 mpirun --allow-run-as-root --oversubscribe --bind-to none)
    [ "$QUICK" = 1 ] && MPI+=(-x "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
    mkdir -p "$tmp/mpi"
    if "${MPI[@]}" -np 2 "$BADAK" train "${deep[@]}" --threads 1 --quiet \
        --log-layers "$tmp/mpi/layers.csv" --log-layers-every 4 >"$tmp/mpi/out" 2>&1; then
        ok
        [ "$(ls "$tmp/mpi" | grep -c csv)" -eq 1 ] && ok || bad "mpirun: files $(ls "$tmp/mpi")"
        worst=$(awk -F, 'NR == FNR { if ($6 != "") g[$1 "," $3] = $6; next }
            FNR > 1 && $6 != "" { k = $1 "," $3; d = ($6 - g[k]) / g[k]; d = d < 0 ? -d : d;
                if (d > m) m = d; n++ } END { print n, m + 0 }' "$tmp/layers.csv" "$tmp/mpi/layers.csv")
        set -- $worst
        [ "$1" -eq $((7 * 11)) ] && awk -v m="$2" 'BEGIN { exit !(m < 1e-3) }' && ok ||
            bad "mpirun --log-layers: $1 gradient rows, worst relative difference $2"
    else
        bad "mpirun -np 2 train --log-layers failed: $(cat "$tmp/mpi/out")"
    fi
fi

# --- badak figure layers --log FILE
fig=$tmp/fig
expect 0 "layers: $fig/layers.csv $fig/layers.png" -- "$BADAK" figure layers --log "$tmp/layers.csv" \
    --out "$fig"
is_png "$fig/layers.png" && ok || bad "figure layers: $fig/layers.png is not a PNG"
[ "$(($(wc -l <"$fig/layers.csv") - 1))" -eq 147 ] && ok || bad "figure layers: CSV rows"
expect 0 "layers:" -- "$BADAK" figure layers --log "$tmp/layers.csv" --out "$fig/ko" --lang ko
is_png "$fig/ko/layers.png" && ok || bad "figure layers --lang ko: no PNG"
expect 1 "blobs.csv: not a \`badak train --log-layers\` CSV" -- "$BADAK" figure layers \
    --log "$tmp/blobs.csv" --out "$fig"
expect 1 "nope.csv: cannot read the layer log" -- "$BADAK" figure layers --log "$tmp/nope.csv" \
    --out "$fig"

# --- badak figure confusion --model FILE [--data ...]
# a CSV model: its data set and seeded test split come from the model file,
# so the figure's accuracy is the one training reported
out=$("$BADAK" train --csv "$tmp/blobs.csv" --hidden 20 --epochs 20 --seed 7 --threads 2 --json \
    --quiet --save "$tmp/blobs.safetensors")
acc=$(sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p' <<<"$out")
out=$("$BADAK" figure confusion --model "$tmp/blobs.safetensors" --out "$fig" 2>&1)
if [ $? -eq 0 ] && grep -qF "on 80 samples of $tmp/blobs.csv" <<<"$out" &&
    grep -qF "accuracy $(printf %.4f "$acc")" <<<"$out"; then ok; else
    bad "figure confusion of a CSV model (train said $acc)"$'\n'"$out"; fi
is_png "$fig/confusion.png" && ok || bad "figure confusion: no PNG"
[ "$(($(wc -l <"$fig/confusion.csv") - 1))" -eq 16 ] && ok || bad "figure confusion: CSV rows"
awk -F, 'NR > 1 { n += $5 } END { exit n != 80 }' "$fig/confusion.csv" && ok ||
    bad "figure confusion: the counts do not sum to the 80 test samples"

# CIFAR-10 format: the class names travel in the model and label the matrix
c10=$tmp/cifar10
mkdir -p "$c10"
for b in 1 2 3 4 5; do perl "$here/cifar_gen.pl" 20 $b "$c10/data_batch_$b.bin"; done
perl "$here/cifar_gen.pl" 50 9 "$c10/test_batch.bin"
printf 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n' >"$c10/batches.meta.txt"
"$BADAK" train --data cifar10:"$c10" --hidden 16 --epochs 2 --batch 20 --threads 2 --quiet \
    --normalize --save "$tmp/c10.safetensors"
expect 0 "on 50 samples of cifar10:$c10 (cifar10-test)" -- "$BADAK" figure confusion \
    --model "$tmp/c10.safetensors" --data cifar10:"$c10" --out "$fig/c10" --lang ko
grep -q '^3,cat,3,cat,' "$fig/c10/confusion.csv" && is_png "$fig/c10/confusion.png" && ok ||
    bad "figure confusion on CIFAR: class names or PNG missing"

# the wrong data for the model: the message names the file and both shapes
perl "$here/mk_idx.pl" "$tmp/idx" 60 20 12
expect 1 "$tmp/c10.safetensors takes inputs of 3x32x32 (3072 values), the samples of $tmp/idx" -- \
    "$BADAK" figure confusion --model "$tmp/c10.safetensors" --data "$tmp/idx" --out "$fig"
expect 1 "are 1x12x12 (144 values)" -- \
    "$BADAK" figure confusion --model "$tmp/c10.safetensors" --data "$tmp/idx" --out "$fig"
expect 1 "$tmp/blobs.safetensors takes inputs of 1x1x6 (6 values)" -- \
    "$BADAK" figure confusion --model "$tmp/blobs.safetensors" --data cifar10:"$c10" --out "$fig"
# more classes in the data than the model predicts
awk -F, '{ print $1 "," $2 "," $3 "," $4 "," $5 "," $6 "," ($7 % 2) }' "$tmp/blobs.csv" >"$tmp/two.csv"
"$BADAK" train --csv "$tmp/two.csv" --hidden 8 --epochs 2 --quiet --save "$tmp/two.safetensors"
expect 1 "$tmp/blobs.csv has 4 classes, $tmp/two.safetensors predicts 2" -- \
    "$BADAK" figure confusion --model "$tmp/two.safetensors" --data "$tmp/blobs.csv" --out "$fig"
expect 2 "confusion needs --model FILE" -- "$BADAK" figure confusion --out "$fig"
expect 1 "nope.safetensors: cannot open" -- "$BADAK" figure confusion \
    --model "$tmp/nope.safetensors" --out "$fig"
ls -a "$fig" | grep -q '\.tmp' && bad "figure: a temporary file was left" || ok

echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
