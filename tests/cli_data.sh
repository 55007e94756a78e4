#!/usr/bin/env bash
# cli_data.sh — colour images and other data (issue 13): CIFAR binary
# folders made here in the exact format, seed 002's presets, normalisation.
set -u
BADAK=${BADAK_BIN:-build/badak}
QUICK=${BADAK_QUICK:-0}   # set under the sanitizers: smaller runs
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

# json_num KEY TEXT: the number after "KEY": in TEXT
json_num() { sed -n "s/.*\"$1\":\([-0-9.e]*\).*/\1/p" <<<"$2" | tail -1; }

echo "== cli data tests ($BADAK)"

# --- CIFAR-10 binary version, generated
c10=$tmp/cifar10
mkdir -p "$c10"
n=60
[ "$QUICK" = 1 ] && n=30
for b in 1 2 3 4 5; do perl "$here/cifar_gen.pl" $n $b "$c10/data_batch_$b.bin"; done
perl "$here/cifar_gen.pl" 100 9 "$c10/test_batch.bin"
printf 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n' >"$c10/batches.meta.txt"

expect 2 "give the folder of the binary version" -- "$BADAK" train --data cifar10
expect 1 "nope/data_batch_1.bin: cannot open" -- "$BADAK" train --data cifar10:$tmp/nope
out=$("$BADAK" train --data cifar10:"$c10" --model tobigs_cnn --optimizer adam --epochs 1 \
    --batch 30 --threads 2 --json 2>&1)
rc=$?
acc=$(json_num test_accuracy "$out")
if [ $rc -eq 0 ] && grep -qF "tobigs_cnn 3x32x32-10 on cifar10-train ($((5 * n)) train, 100 test)" <<<"$out" &&
    awk -v a="$acc" 'BEGIN { exit !(a >= 0.9) }'; then ok; else bad "tobigs_cnn on generated CIFAR-10: rc $rc acc '$acc'"$'\n'"$out"; fi

# the saved model keeps the class names and the normalisation: predict
# prints "cat (0.99)" for a colour PPM drawn as class 3 (a band at rows 9-12
# of the red channel), and the exported C header gives the same class
perl -e 'srand(3); print "P6\n32 32\n255\n"; for $y (0..31) { for $x (0..31) { for $c (0..2) {
    print chr(int(rand(60)) + (($c == 0 && $y >= 9 && $y < 13) ? 150 : 0)) } } }' >"$tmp/cat.ppm"
"$BADAK" train --data cifar10:"$c10" --model tobigs_cnn --optimizer adam --epochs 1 --batch 30 \
    --threads 2 --normalize --quiet --save "$tmp/c10.safetensors"
expect 0 "cat.ppm: cat (" -- "$BADAK" predict --model "$tmp/c10.safetensors" "$tmp/cat.ppm"
expect 1 "predict reads grayscale (1) or colour (3) images and --save-input" -- "$BADAK" predict \
    --model "$tmp/c10.safetensors" --save-input "$tmp" "$tmp/cat.ppm"
"$BADAK" train --data cifar10:"$c10" --model tobigs_cnn --optimizer adam --epochs 1 --batch 30 \
    --threads 2 --quiet --save "$tmp/c10raw.safetensors"
if "$BADAK" export --c-header "$tmp/c10.h" "$tmp/c10raw.safetensors" >/dev/null &&
    ${CC:-cc} -std=c11 -O2 -I"$tmp" -DMODEL_H='"c10.h"' "$here/export_driver.c" -o "$tmp/drv" -lm; then
    # the PPM's planes (R, G, B) as the driver's input, scaled by 1/255 there
    got=$(perl -e 'open(F, "<:raw", $ARGV[0]); local $/; $_ = <F>; s/^P6\s+32\s+32\s+255\s//;
        my @b = unpack("C*", $_); for $c (0..2) { for $i (0..1023) { print $b[3 * $i + $c], " " } }' \
        "$tmp/cat.ppm" | "$tmp/drv" 0.00392156862745098)
    want=$("$BADAK" predict --model "$tmp/c10raw.safetensors" --top 1 "$tmp/cat.ppm" | sed 's/.*: \([a-z]*\) (.*/\1/')
    if [ "$got" = 3 ] && [ "$want" = cat ]; then ok; else bad "export of a colour model: class '$got', predict '$want'"; fi
else
    bad "export --c-header of tobigs_cnn did not compile"
fi

# a cut-off record: the file and the record are named, exit 1
cp -r "$c10" "$tmp/cut"
head -c 5000 "$c10/data_batch_2.bin" >"$tmp/cut/data_batch_2.bin"
expect 1 "data_batch_2.bin: 5000 bytes is not a whole number of 3073-byte records: record 2 is truncated (1927 of 3073 bytes)" \
    -- "$BADAK" train --data cifar10:"$tmp/cut" --model tobigs_cnn

# --- CIFAR-100: 2 label bytes, fine labels by default, coarse on request
c100=$tmp/cifar100
mkdir -p "$c100"
perl "$here/cifar_gen.pl" 50 3 "$c100/train.bin" 2
perl "$here/cifar_gen.pl" 20 4 "$c100/test.bin" 2
expect 0 "on cifar100-train (50 train, 20 test)" -- "$BADAK" train --data cifar100:"$c100" \
    --model tobigs_cnn --iters 1 --batch 10 --no-train-acc
expect 0 "tobigs_cnn 3x32x32-20 on cifar100-coarse-train" -- "$BADAK" train \
    --data cifar100-coarse:"$c100" --model tobigs_cnn --iters 1 --batch 10 --no-train-acc
# CIFAR-100 records (3074 bytes) among CIFAR-10 batches
cp -r "$c10" "$tmp/mixed"
perl "$here/cifar_gen.pl" 3 5 "$tmp/mixed/data_batch_5.bin" 2
expect 1 "data_batch_5.bin: 9222 bytes is not a whole number of 3073-byte records" -- "$BADAK" \
    train --data cifar10:"$tmp/mixed" --model tobigs_cnn

# --- regression: y = sin(x1) + x2^2 + N(0, 0.1^2), the README's example
awk 'BEGIN { srand(11); print "x1,x2,x3,y"; for (i = 0; i < 2000; i++) {
    a = -3 + 6 * rand(); b = -1.5 + 3 * rand(); c = rand();
    n = sqrt(-2 * log(rand() + 1e-12)) * cos(6.283185307 * rand());
    printf "%.5f,%.5f,%.5f,%.5f\n", a, b, c, sin(a) + b * b + 0.1 * n } }' >"$tmp/reg.csv"
out=$("$BADAK" train --csv "$tmp/reg.csv" --task regress --model mlp --hidden 64,64 \
    --optimizer adam --lr 0.003 --epochs 60 --lr-schedule cosine --batch 32 --threads 1 \
    --save "$tmp/reg.safetensors" --json 2>&1)
rmse=$(json_num test_rmse "$out")
r2=$(json_num test_r2 "$out")
if awk -v e="$rmse" -v r="$r2" 'BEGIN { exit !(e > 0.09 && e < 0.13 && r > 0.98) }' &&
    grep -qF "test RMSE" <<<"$out" && grep -qF '"test_mae":' <<<"$out"; then ok; else
    bad "regression: test_rmse '$rmse' r2 '$r2'"$'\n'"$out"; fi
# predict --csv: values in the target's own units (the standardisation undone)
pred=$("$BADAK" predict --model "$tmp/reg.safetensors" --csv "$tmp/reg.csv" --label-cols -1)
err=$(paste -d, <(tail -n +2 "$tmp/reg.csv") <(echo "$pred") |
    awk -F, '{ d = $5 - $4; s += d * d; n++ } END { printf "%.4f %d", sqrt(s / n), n }')
if awk -v e="${err% *}" 'BEGIN { exit !(e < 0.13) }' && [ "${err#* }" = 2000 ]; then ok; else
    bad "predict --csv of the regression model: rms error / rows '$err'"; fi
expect 1 "4 feature columns, the model takes 3 (drop target columns with --label-cols)" -- \
    "$BADAK" predict --model "$tmp/reg.safetensors" --csv "$tmp/reg.csv"
# a loss that does not fit the task's last layer is refused before loading
expect 2 "--loss softmax_ce does not fit --task regress" -- "$BADAK" train --csv "$tmp/reg.csv" \
    --task regress --loss softmax_ce
expect 2 "--task regress needs --csv" -- "$BADAK" train --task regress
expect 2 "--label-cols is for --task regress or multilabel" -- "$BADAK" train \
    --csv "$tmp/reg.csv" --label-cols 2,3
expect 0 "parameters, loss HuberLoss" -- "$BADAK" train --csv "$tmp/reg.csv" --task regress --loss huber \
    --model mlp --hidden 8 --epochs 1

# --- multi-label: three labels that are thresholds of the features
awk 'BEGIN { srand(5); print "a,b,c,l0,l1,l2"; for (i = 0; i < 1500; i++) {
    a = 2 * rand() - 1; b = 2 * rand() - 1; c = 2 * rand() - 1;
    printf "%.4f,%.4f,%.4f,%d,%d,%d\n", a, b, c, (a > 0), (b > 0.2), (a + c > 0) } }' >"$tmp/ml.csv"
out=$("$BADAK" train --csv "$tmp/ml.csv" --task multilabel --label-cols 3..5 --model mlp \
    --hidden 32 --optimizer adam --lr 0.01 --epochs 60 --threads 1 --save "$tmp/ml.safetensors" \
    --json 2>&1)
em=$(json_num test_exact_match "$out")
f1s=$(sed -n 's/.*"test_f1":\[\([^]]*\)\].*/\1/p' <<<"$out")
if awk -v e="$em" -v f="$f1s" 'BEGIN { n = split(f, v, ","); ok = n == 3 && e > 0.9;
        for (i = 1; i <= n; i++) ok = ok && v[i] >= 0.9; exit !ok }' &&
    grep -qF "label 2: precision" <<<"$out"; then ok; else
    bad "multilabel: exact '$em' F1 '$f1s'"$'\n'"$out"; fi
expect 0 "0,0,1  (" -- "$BADAK" predict --model "$tmp/ml.safetensors" --csv "$tmp/ml.csv" \
    --label-cols -3..-1
expect 1 "reg.csv:2: column 1: label 2.55807 is not 0 or 1" -- "$BADAK" train --csv "$tmp/reg.csv" \
    --task multilabel --label-cols 0,3 --epochs 1
expect 2 "--loss mse does not fit --task multilabel" -- "$BADAK" train --csv "$tmp/ml.csv" \
    --task multilabel --label-cols 3..5 --loss mse

# --- imbalance: class 1 is 5% of two overlapping blobs; the class counts are
# printed, --confusion gives per-class accuracy, and both remedies raise the
# worst class's accuracy on a balanced test set
blobs() { awk -v n="$1" -v p="$2" -v seed="$3" 'BEGIN { srand(seed); for (i = 0; i < n; i++) {
    k = (rand() < p); u = sqrt(-2 * log(rand() + 1e-12)) * cos(6.283185307 * rand());
    printf "%.4f,%.4f,%d\n", (k ? 1 : -1) + 1.2 * u, rand(), k } }'; }
blobs 2000 0.05 5 >"$tmp/imb.csv"
blobs 1000 0.5 6 >"$tmp/imb_test.csv"
worst() { json_num worst_class_accuracy "$("$BADAK" train --csv "$tmp/imb.csv" \
    --test-csv "$tmp/imb_test.csv" --model mlp --hidden 8 --lr 0.05 --epochs 10 --batch 50 \
    --confusion --json --quiet --threads 1 "$@")"; }
plain=$(worst)
weighted=$(worst --class-weights auto)
balanced=$(worst --balanced-sampling)
if awk -v p="$plain" -v w="$weighted" -v b="$balanced" \
    'BEGIN { exit !(p != "" && w > p + 0.2 && b > p + 0.2) }'; then ok; else
    bad "imbalance: worst class plain '$plain', --class-weights '$weighted', --balanced-sampling '$balanced'"; fi
expect 0 "warning: class 0 is 9" -- "$BADAK" train --csv "$tmp/imb.csv" --epochs 1
expect 0 "worst class: 1, accuracy" -- "$BADAK" train --csv "$tmp/imb.csv" --epochs 1 --confusion
expect 0 "classes (2): 0 " -- "$BADAK" train --csv "$tmp/imb.csv" --epochs 1 --thin-classes 0:0.1
expect 2 "--class-weights, --balanced-sampling, --thin-classes and --confusion are for class labels" \
    -- "$BADAK" train --csv "$tmp/reg.csv" --task regress --confusion
expect 2 "--class-weights: 'inverse'" -- "$BADAK" train --class-weights inverse
expect 2 "--thin-classes '0..4': expected CLASSES:FRACTION" -- "$BADAK" train --csv "$tmp/imb.csv" \
    --thin-classes 0..4

# --- diagnostics at the end of a run (seed 002's training tips): each one
# provoked on small generated data, and a healthy run stays silent
awk 'BEGIN { srand(7); print "x1,x2,label"; for (i = 0; i < 600; i++) { x = 4 * rand() - 2;
    y = 4 * rand() - 2; printf "%.4f,%.4f,%d\n", x, y, (x * x + y * y < 1.3) ? 1 : 0 } }' >"$tmp/circle.csv"
out=$("$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 16,16 --optimizer adam \
    --lr 0.01 --epochs 20 --batch 20 --json 2>&1)
if grep -qF '"diagnostics":[]' <<<"$out" && ! grep -qF "diagnostic [" <<<"$out"; then ok; else
    bad "a healthy run printed diagnostics"$'\n'"$out"; fi
expect 0 "diagnostic [loss_not_falling]: the loss did not fall" -- "$BADAK" train \
    --csv "$tmp/circle.csv" --model mlp --hidden 16 --lr 1e-6 --epochs 5
expect 0 "try --lr 1e-05" -- "$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 16 \
    --lr 1e-6 --epochs 5
expect 1 "diagnostic [nonfinite_loss]: the loss became non-finite at iteration" -- "$BADAK" \
    train --csv "$tmp/circle.csv" --model mlp --hidden 16 --lr 1e4 --epochs 5
expect 1 "the gradient norm over the last steps: " -- "$BADAK" train --csv "$tmp/circle.csv" \
    --model mlp --hidden 16 --lr 1e4 --epochs 5
expect 0 "diagnostic [loss_mismatch]: MeanSquaredError on class labels" -- "$BADAK" train \
    --csv "$tmp/circle.csv" --model mlp --hidden 16 --loss mse --epochs 3
awk 'BEGIN { srand(3); for (i = 0; i < 1000; i++) printf "%.4f,%.4f,%d\n", rand(), rand(),
    (rand() < 0.95) ? 0 : 1 }' >"$tmp/stall.csv"
expect 0 "diagnostic [accuracy_stalled]: the accuracy stalled at" -- "$BADAK" train \
    --csv "$tmp/stall.csv" --model mlp --hidden 8 --lr 0.01 --epochs 20
expect 0 "diagnostic [class_imbalance]: class 0 is 94.1% of the training data" -- "$BADAK" \
    train --csv "$tmp/stall.csv" --model mlp --hidden 8 --lr 0.01 --epochs 20
awk 'BEGIN { srand(4); for (i = 0; i < 1000; i++) { k = (rand() < 0.5);
    printf "%.4f,%.4f,%.4f,%.4f,%d\n", k * 0.5 + rand(), rand(), rand(), rand(), k } }' >"$tmp/of.csv"
expect 0 "diagnostic [overfitting]: overfitting: train accuracy 1.0000" -- "$BADAK" train \
    --csv "$tmp/of.csv" --train-size 30 --model mlp --hidden 200,200 --optimizer adam \
    --lr 0.01 --epochs 200 --batch 10
expect 0 '"diagnostics":[{"code":"overfitting","message":"overfitting: train accuracy' -- \
    "$BADAK" train --csv "$tmp/of.csv" --train-size 30 --model mlp --hidden 200,200 \
    --optimizer adam --lr 0.01 --epochs 200 --batch 10 --json --quiet
# clipping keeps a rate that diverged finite
expect 0 "done: 5 epochs" -- "$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 16 \
    --lr 10 --epochs 5 --clip-grad-norm 0.1
expect 2 "--clip-grad-norm: '0' is not a number" -- "$BADAK" train --clip-grad-norm 0

# --- image folders: one subfolder per class (PPM colour, PGM gray, any size)
img=$tmp/imgs
mkdir -p "$img/cat" "$img/dog" "$img/bird"
for i in $(seq 1 12); do
    perl -e 'my ($f, $s) = @ARGV; srand($s); open(F, ">:raw", $f); my $w = 20 + int(rand(20));
        print F "P6\n$w 24\n255\n"; print F chr(int(rand(40)) + 200), chr(int(rand(40)) + 30),
        chr(int(rand(40)) + 30) for 1 .. $w * 24' "$img/cat/c$i.ppm" $i
    perl -e 'my ($f, $s) = @ARGV; srand($s); open(F, ">:raw", $f); print F "P6\n24 24\n255\n";
        print F chr(int(rand(40)) + 30), chr(int(rand(40)) + 30), chr(int(rand(40)) + 200)
        for 1 .. 576' "$img/dog/d$i.ppm" $((i + 100))
    perl -e 'my ($f, $s) = @ARGV; srand($s); open(F, ">:raw", $f); print F "P5\n16 16\n255\n";
        print F chr(int(rand(40)) + 100) for 1 .. 256' "$img/bird/b$i.pgm" $((i + 200))
done
echo "not an image" >"$img/cat/notes.txt"
out=$("$BADAK" train --data images:"$img" --image-size 16 --model tobigs_cnn --optimizer adam \
    --epochs 3 --batch 8 --threads 1 --save "$tmp/img.safetensors" --json 2>&1)
acc=$(json_num test_accuracy "$out")
if grep -qF "tobigs_cnn 3x16x16-3 on images-train (29 train, 7 test)" <<<"$out" &&
    grep -qF "classes (3): bird 10, cat 9, dog 10" <<<"$out" &&
    awk -v a="$acc" 'BEGIN { exit !(a >= 0.85) }'; then ok; else bad "images:DIR"$'\n'"$out"; fi
expect 0 "c3.ppm: cat (" -- "$BADAK" predict --model "$tmp/img.safetensors" "$img/cat/c3.ppm"
expect 0 "b1.pgm: bird (" -- "$BADAK" predict --model "$tmp/img.safetensors" "$img/bird/b1.pgm"
# train/ and test/ as given; one channel
mkdir -p "$tmp/split/train" "$tmp/split/test/cat" "$tmp/split/test/dog" "$tmp/split/test/bird"
cp -r "$img/cat" "$img/dog" "$img/bird" "$tmp/split/train/"
cp "$img/cat/c1.ppm" "$tmp/split/test/cat/"; cp "$img/dog/d1.ppm" "$tmp/split/test/dog/"
cp "$img/bird/b1.pgm" "$tmp/split/test/bird/"
expect 0 "3 on images-train (36 train, 3 test)" -- "$BADAK" train --data images:"$tmp/split" \
    --image-size 8 --image-channels 1 --model mlp --hidden 8 --epochs 1
expect 0 "1x8x8-3" -- "$BADAK" train --data images:"$tmp/split" --image-size 8 \
    --image-channels 1 --model simple_convnet --epochs 1 --batch 12
rmdir "$tmp/split/test/dog" 2>/dev/null || rm -r "$tmp/split/test/dog"
expect 1 "no folder for class 'dog'" -- "$BADAK" train --data images:"$tmp/split" --image-size 8
printf 'P6\n4 4\n255\nxx' >"$img/dog/bad.ppm"
expect 1 "bad.ppm: truncated pixel data" -- "$BADAK" train --data images:"$img" --image-size 8
expect 1 "no class subfolders" -- "$BADAK" train --data images:"$img/cat" --image-size 8
expect 2 "--image-size 'big'" -- "$BADAK" train --data images:"$img" --image-size big

echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
