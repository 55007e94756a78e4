#!/usr/bin/env bash
# cli_test.sh — the badak command as a user meets it: exit codes, messages,
# a training run on CSV data made here, gradcheck, and (when MNIST is
# installed) a short MNIST run and the example program.
set -u
BADAK=${BADAK_BIN:-build/badak}
EXAMPLE=${BADAK_EXAMPLE:-build/examples/mnist_train}
MNIST=${BADAK_MNIST_DIR:-data/mnist}
QUICK=${BADAK_QUICK:-0}   # set under the sanitizers: skips the slow MNIST runs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

echo "== cli tests ($BADAK)"
expect 0 "Commands:" -- "$BADAK" --help
expect 2 "Usage: badak" -- "$BADAK"
expect 2 "unknown command 'fly'" -- "$BADAK" fly
expect 0 "badak 0." -- "$BADAK" version
# the BLAS line: OpenBLAS's kernels, and whether the environment chose them
expect 0 "kernels (OpenBLAS's pick for this CPU)" -- env -u OPENBLAS_CORETYPE "$BADAK" version
expect 0 "Prescott kernels (OPENBLAS_CORETYPE=Prescott in the environment" -- \
    env OPENBLAS_CORETYPE=Prescott "$BADAK" version
for opt in --data --csv --label-col --test-csv --test-split --train-size --model --hidden \
    --activation --init --optimizer --lr --batch --epochs --iters --sampling --seed --threads \
    --log --json --quiet; do
    expect 0 "$opt" -- "$BADAK" train --help
done
for opt in --model --hidden --activation --init --data --samples --h --max-entries --tol-abs \
    --tol-rel --seed --break-backward; do
    expect 0 "$opt" -- "$BADAK" gradcheck --help
done

# bad options: exit 2 and a message naming the option
expect 2 "unknown or incomplete option" -- "$BADAK" train --frobnicate
expect 2 "--lr: 'abc' is not a number" -- "$BADAK" train --lr abc
expect 2 "--batch: '0' is not an integer" -- "$BADAK" train --batch 0
expect 2 "--hidden: '100,,5'" -- "$BADAK" train --hidden 100,,5
expect 2 "unknown optimizer 'adamw'" -- "$BADAK" train --optimizer adamw
expect 2 "unknown model 'resnet9'" -- "$BADAK" train --model resnet9
expect 2 "unknown activation 'swish'" -- "$BADAK" train --activation swish
expect 2 "bad weight init 'glorot'" -- "$BADAK" train --init glorot
expect 2 "not both" -- "$BADAK" train --epochs 2 --iters 5
expect 2 "unexpected argument 'extra'" -- "$BADAK" train extra
expect 2 "--sampling" -- "$BADAK" train --sampling sometimes

# a missing data folder: exit 1, the folder named, the fix suggested
expect 1 "$tmp/nowhere" -- "$BADAK" train --data "$tmp/nowhere"
expect 1 "setup.sh" -- "$BADAK" train --data "$tmp/nowhere"
mkdir -p "$tmp/empty"
expect 1 "-ubyte: not found" -- "$BADAK" train --data "$tmp/empty"
# a folder of valid IDX files (2 train and 1 test image of 2x2), then one
# truncated: the message names the file and says what is wrong
idx_images() { printf '\0\0\10\3\0\0\0\'"$1"'\0\0\0\2\0\0\0\2'; head -c $(($1 * 4)) /dev/zero; }
idx_labels() { printf '\0\0\10\1\0\0\0\'"$1"; head -c "$1" /dev/zero; }
mkdir -p "$tmp/tiny"
idx_images 2 >"$tmp/tiny/train-images-idx3-ubyte"
idx_labels 2 >"$tmp/tiny/train-labels-idx1-ubyte"
idx_images 1 >"$tmp/tiny/t10k-images-idx3-ubyte"
idx_labels 1 >"$tmp/tiny/t10k-labels-idx1-ubyte"
expect 0 "test accuracy" -- "$BADAK" train --data "$tmp/tiny" --epochs 1 --batch 2
head -c 20 "$tmp/tiny/train-images-idx3-ubyte" >"$tmp/tiny/cut" && mv "$tmp/tiny/cut" "$tmp/tiny/train-images-idx3-ubyte"
expect 1 "train-images-idx3-ubyte: truncated" -- "$BADAK" train --data "$tmp/tiny"
idx_images 2 | sed 's/^\x00\x00\x08/\x00\x01\x08/' >"$tmp/tiny/train-images-idx3-ubyte"
expect 1 "magic" -- "$BADAK" train --data "$tmp/tiny"

# user CSV data (seed 002: two features, 300 rows, two classes), made here:
# class 1 inside a circle of radius 1, class 0 outside; not linearly separable
awk 'BEGIN { srand(7); print "x1,x2,label";
  for (i = 0; i < 400; i++) { x = 4 * rand() - 2; y = 4 * rand() - 2;
    printf "%.4f,%.4f,%d\n", x, y, (x*x + y*y < 1.3) ? 1 : 0 } }' >"$tmp/circle.csv"
out=$("$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 32,32 --lr 0.1 --batch 20 \
    --epochs 150 --seed 3 --json --quiet --log "$tmp/run.csv" 2>&1)
rc=$?
last=$(tail -n 1 <<<"$out")
acc=$(sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p' <<<"$last")
if [ $rc -eq 0 ] && [ -n "$acc" ] && awk -v a="$acc" 'BEGIN { exit !(a >= 0.90) }'; then
    ok
else
    bad "CSV circle training: rc $rc, test accuracy '$acc' (want >= 0.90)"$'\n'"$out"
fi
for key in test_accuracy train_accuracy epochs iterations seconds seed; do
    grep -q "\"$key\":" <<<"$last" && ok || bad "JSON lacks $key: $last"
done
# the pool's loops: counted with 2 threads (and those run alone on a busy
# machine, never more than all of them), none with 1
for t in 1 2; do
    j=$("$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 64 --epochs 2 --batch 40 \
        --seed 3 --json --quiet --threads $t 2>&1 | tail -n 1)
    l=$(sed -n 's/.*"pool_loops":\([0-9]*\).*/\1/p' <<<"$j")
    a=$(sed -n 's/.*"pool_loops_alone":\([0-9]*\).*/\1/p' <<<"$j")
    if [ $t = 1 ]; then want='-eq'; else want='-gt'; fi
    if [ -n "$l" ] && [ -n "$a" ] && [ "$a" -le "$l" ] && [ "$l" $want 0 ]; then
        ok
    else
        bad "--threads $t: pool_loops '$l', pool_loops_alone '$a': $j"
    fi
done
# the log: a header, one row per iteration, one per epoch
if [ -f "$tmp/run.csv" ] && [ "$(head -n 1 "$tmp/run.csv")" = "kind,epoch,iter,loss,train_acc,test_acc,seconds,val_acc,val_loss,lr" ] &&
    [ "$(grep -c '^epoch,' "$tmp/run.csv")" -eq 150 ] &&
    [ "$(grep -c '^iter,' "$tmp/run.csv")" -eq $((150 * 16)) ]; then
    ok
else
    bad "log file $tmp/run.csv malformed: $(head -n 3 "$tmp/run.csv" 2>&1)"
fi
# same seed, same numbers, to the bit; another seed, other numbers
a=$("$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 16 --epochs 5 --batch 20 --seed 9 --json --quiet --threads 1 | tail -n 1 | sed 's/"seconds".*//')
b=$("$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 16 --epochs 5 --batch 20 --seed 9 --json --quiet --threads 1 | tail -n 1 | sed 's/"seconds".*//')
c=$("$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 16 --epochs 5 --batch 20 --seed 10 --json --quiet --threads 1 | tail -n 1 | sed 's/"seconds".*//')
[ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "same seed gave different results: $a vs $b"
[ "$a" != "$c" ] && ok || bad "different seeds gave the same result: $a"
# a ragged CSV names the file and line
printf '1,2,0\n3,4\n' >"$tmp/ragged.csv"
expect 1 "ragged.csv:2" -- "$BADAK" train --csv "$tmp/ragged.csv"
# the NaN guard: exit 1 with the epoch and iteration named
expect 1 "lower --lr" -- "$BADAK" train --csv "$tmp/circle.csv" --lr 100000 --init std=10 --epochs 50 --quiet

# data augmentation (issue 4), on 6x6 images made here: a bar on the left
# (class 0) or the right (class 1) at a varying row, noise elsewhere
expect 0 "--augment LIST" -- "$BADAK" train --help
expect 0 "not digits" -- "$BADAK" train --help
expect 2 "--augment: unknown augmentation 'tilt'" -- "$BADAK" train --augment shift,tilt
expect 2 "'rotate:x'" -- "$BADAK" train --augment rotate:x
expect 2 "'shift' given twice" -- "$BADAK" train --augment shift,shift:3
mkdir -p "$tmp/bars"
bars() { # bars N SEED: N images (IDX) then their labels in $tmp/bars/lab
    printf '\0\0\10\3\0\0\0\'"$(printf %o "$1")"'\0\0\0\6\0\0\0\6'
    LC_ALL=C awk -v n="$1" -v seed="$2" 'BEGIN { srand(seed);
        for (s = 0; s < n; s++) { k = s % 2; row = int(6 * rand());
            for (i = 0; i < 6; i++) for (j = 0; j < 6; j++)
                printf "%c", (i == row && (k ? j >= 3 : j < 3)) ? 120 : 1 + int(20 * rand()) } }'
}
labels() { printf '\0\0\10\1\0\0\0\'"$(printf %o "$1")"; for ((i = 0; i < $1; i++)); do printf "\\$((i % 2))"; done; }
bars 40 1 >"$tmp/bars/train-images-idx3-ubyte"
labels 40 >"$tmp/bars/train-labels-idx1-ubyte"
bars 10 2 >"$tmp/bars/t10k-images-idx3-ubyte"
labels 10 >"$tmp/bars/t10k-labels-idx1-ubyte"
aug_run() { "$BADAK" train --data "$tmp/bars" --hidden 16 --epochs 3 --batch 10 --seed 4 --threads 1 --json --quiet "$@" 2>&1 | tail -n 1 | sed 's/"seconds".*//'; }
a=$(aug_run --augment shift:1,flip,rotate:15)
b=$(aug_run --augment shift:1,flip,rotate:15)
c=$(aug_run)
d=$(aug_run --augment shift:0,rotate:0)  # the identity: same numbers as none
grep -q '"status":"ok"' <<<"$a" && [ "$a" = "$b" ] && ok || bad "augmented runs differ or failed: $a vs $b"
[ "$a" != "$c" ] && ok || bad "augmentation changed nothing: $a"
[ -n "$c" ] && [ "$c" = "$d" ] && ok || bad "identity augmentation changed the run: $c vs $d"
expect 0 "augment shift:2,rotate:10" -- "$BADAK" train --data "$tmp/bars" --epochs 1 --batch 10 --augment shift,rotate
expect 2 "bars-train: augmentation: shift 6 must be in 0..5" -- "$BADAK" train --data "$tmp/bars" --epochs 1 --augment shift:6
expect 2 "augmentation needs images" -- "$BADAK" train --csv "$tmp/circle.csv" --epochs 1 --augment shift

# the training toolkit from the command line (issue 3)
for opt in --optimizer --momentum --beta1 --beta2 --decay --eps --lr-schedule --lr-step \
    --lr-gamma --batchnorm --dropout --loss --weight-decay --l1 --val-split --patience; do
    expect 0 "$opt" -- "$BADAK" train --help
done
expect 2 "beta2" -- "$BADAK" train --optimizer adam --beta2 1.5
expect 2 "unknown learning-rate schedule 'triangle'" -- "$BADAK" train --lr-schedule triangle
expect 2 "--patience needs --val-split" -- "$BADAK" train --patience 3
expect 2 "unknown loss 'hinge'" -- "$BADAK" train --loss hinge
expect 2 "rrelu" -- "$BADAK" train --activation rrelu:0.5,0.1
expect 2 "--dropout" -- "$BADAK" train --dropout 1.5
for o in "--optimizer momentum" "--optimizer nesterov" "--optimizer adagrad" "--optimizer rmsprop" \
    "--optimizer adam --batchnorm" "--optimizer adam --dropout 0.2" "--activation tanh --lr-schedule cosine" \
    "--activation leaky_relu:0.05 --weight-decay 1e-3" "--activation prelu --l1 1e-4" \
    "--activation rrelu --lr-schedule step --lr-step 10" "--activation elu --lr-schedule adaptive" \
    "--val-split 0.2 --patience 5 --optimizer adam"; do
    # shellcheck disable=SC2086
    out=$("$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 32,32 --batch 20 --epochs 60 \
        --seed 3 --json --quiet $o 2>&1)
    acc=$(tail -n 1 <<<"$out" | sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p')
    if [ -n "$acc" ] && awk -v a="$acc" 'BEGIN { exit !(a >= 0.85) }'; then ok; else
        bad "train $o on the circle: test accuracy '$acc' (want >= 0.85)"$'\n'"$out"; fi
done
# two classes with one sigmoid output and binary cross-entropy (seed 002)
out=$("$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 32,32 --loss bce --optimizer adam \
    --batch 20 --epochs 60 --seed 3 --json --quiet 2>&1)
acc=$(tail -n 1 <<<"$out" | sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p')
if [ -n "$acc" ] && awk -v a="$acc" 'BEGIN { exit !(a >= 0.85) }'; then ok; else
    bad "bce on the circle: test accuracy '$acc'"$'\n'"$out"; fi
# early stopping says so, and keeps the best epoch
out=$("$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 64,64 --optimizer adam --lr 0.01 \
    --batch 10 --epochs 300 --val-split 0.25 --patience 3 --seed 3 2>&1)
grep -q "early stop: validation loss did not improve for 3 epochs" <<<"$out" && ok ||
    bad "no early stop in 300 epochs"$'\n'"$out"

# ---- model files (issue 5): save, eval gives the training run's accuracy,
# info, corrupt files refused with the problem named
for opt in --save --checkpoint --resume --init-from --freeze --replace-head; do
    expect 0 "$opt" -- "$BADAK" train --help
done
expect 0 "--predictions" -- "$BADAK" eval --help
expect 0 "--c-header" -- "$BADAK" export --help
expect 2 "--model FILE is required" -- "$BADAK" eval
expect 2 "expected one model file" -- "$BADAK" info
out=$("$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 8 --batchnorm --epochs 3 --batch 20 \
    --seed 5 --json --quiet --save "$tmp/m.safetensors" 2>&1)
ta=$(tail -n 1 <<<"$out" | sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p')
out2=$("$BADAK" eval --model "$tmp/m.safetensors" --csv "$tmp/circle.csv" --json 2>&1)
ea=$(sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p' <<<"$out2")
[ -n "$ta" ] && [ "$ta" = "$ea" ] && ok || bad "eval accuracy '$ea' differs from training's '$ta'"$'\n'"$out"$'\n'"$out2"
expect 0 "BatchNorm1" -- "$BADAK" info "$tmp/m.safetensors"
expect 0 "test accuracy $(awk -v a="$ta" 'BEGIN { printf "%.4f", a }')" -- "$BADAK" info "$tmp/m.safetensors"
expect 0 "parameters 58" -- "$BADAK" info "$tmp/m.safetensors"
head -c 200 "$tmp/m.safetensors" >"$tmp/cut.safetensors"
expect 1 "cut.safetensors: header length" -- "$BADAK" info "$tmp/cut.safetensors"
printf 'GARBAGE!GARBAGE!' >"$tmp/junk.safetensors"
expect 1 "junk.safetensors: header length" -- "$BADAK" eval --model "$tmp/junk.safetensors" --csv "$tmp/circle.csv"
cp "$tmp/m.safetensors" "$tmp/tail.safetensors" && printf 'xyz' >>"$tmp/tail.safetensors"
expect 1 "3 bytes of trailing data" -- "$BADAK" info "$tmp/tail.safetensors"
expect 1 "cannot open" -- "$BADAK" info "$tmp/none.safetensors"

# ---- checkpoints: SIGINT mid-run, resume, bit-identical to a run never stopped
run=(train --csv "$tmp/circle.csv" --model mlp --hidden 32,32 --optimizer adam --dropout 0.1
    --batchnorm --epochs 200 --batch 10 --seed 3 --quiet --threads 1)
"$BADAK" "${run[@]}" --save "$tmp/full.safetensors" >/dev/null 2>&1
"$BADAK" "${run[@]}" --checkpoint "$tmp/ck" >/dev/null 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 1 3000); do [ -f "$tmp/ck/checkpoint.safetensors" ] && break; sleep 0.01; done
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
if [ $rc -eq 130 ] && grep -q "interrupted after iteration" "$tmp/int.err"; then ok; else
    bad "SIGINT: exit $rc, expected 130"$'\n'"$(cat "$tmp/int.err")"; fi
"$BADAK" train --resume "$tmp/ck" --save "$tmp/resumed.safetensors" --quiet >/dev/null 2>&1
if cmp -s "$tmp/full.safetensors" "$tmp/resumed.safetensors"; then ok; else
    bad "resumed run's model differs from the uninterrupted one"; fi
expect 2 "--lr cannot be changed" -- "$BADAK" train --resume "$tmp/ck" --lr 0.5
expect 1 "checkpoint.safetensors: cannot open" -- "$BADAK" train --resume "$tmp/nock"

# ---- transfer learning: a trained model, a new head, the first layers frozen
expect 0 "first 2 layers frozen" -- "$BADAK" train --csv "$tmp/circle.csv" --init-from "$tmp/m.safetensors" \
    --replace-head 2 --freeze 2 --epochs 2 --batch 20
expect 2 "--replace-head needs --init-from" -- "$BADAK" train --replace-head 3
expect 2 "at least the last must train" -- "$BADAK" train --csv "$tmp/circle.csv" --init-from "$tmp/m.safetensors" --freeze 9

# ---- export to C: a header compiled with a small driver predicts what eval does
(head -n 1 "$tmp/circle.csv"; tail -n 80 "$tmp/circle.csv") >"$tmp/ctest.csv"
head -n 321 "$tmp/circle.csv" >"$tmp/ctrain.csv"
"$BADAK" train --csv "$tmp/ctrain.csv" --test-csv "$tmp/ctest.csv" --model mlp --hidden 16,16 --batchnorm \
    --activation elu --epochs 5 --batch 20 --seed 2 --quiet --save "$tmp/e.safetensors" >/dev/null 2>&1
"$BADAK" eval --model "$tmp/e.safetensors" --csv "$tmp/ctrain.csv" --test-csv "$tmp/ctest.csv" \
    --predictions "$tmp/pe.txt" >/dev/null 2>&1
if "$BADAK" export --c-header "$tmp/e.h" "$tmp/e.safetensors" >/dev/null &&
    ${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -I"$tmp" -DMODEL_H='"e.h"' tests/export_driver.c \
        -o "$tmp/drv" -lm && tail -n +2 "$tmp/ctest.csv" | cut -d, -f1,2 | tr , ' ' | "$tmp/drv" 1 >"$tmp/pc.txt" &&
    [ "$(wc -l <"$tmp/pc.txt")" -eq 80 ] && cmp -s "$tmp/pe.txt" "$tmp/pc.txt"; then ok; else
    bad "exported C header's predictions differ from badak eval's (CSV)"; fi
printf '[net]\ninput = 1x1x2\n[r]\ntype = resblock\nchannels = 2\n[g]\ntype = gap\n[fc]\ntype = affine\nunits = 2\n' >"$tmp/res.ini"
"$BADAK" train --csv "$tmp/circle.csv" --model "$tmp/res.ini" --epochs 1 --quiet --save "$tmp/res.safetensors" >/dev/null 2>&1
expect 2 "r: ResBlock layers are not supported by the C export" -- "$BADAK" export --c-header "$tmp/r.h" "$tmp/res.safetensors"

# gradcheck: passes on both presets, fails (exit 1) when a backward is broken
expect 0 "gradient check passed" -- "$BADAK" gradcheck --model two_layer --inputs 40 --hidden 20
expect 0 "gradient check passed" -- "$BADAK" gradcheck --model mlp --inputs 40 --hidden 20,20,20
expect 0 "gradient check passed" -- "$BADAK" gradcheck --model mlp --activation sigmoid --inputs 40 --hidden 20,20
for k in affine relu; do
    expect 1 "gradient check failed" -- "$BADAK" gradcheck --model two_layer --inputs 40 --hidden 20 --break-backward $k
done
expect 1 "gradient check failed" -- "$BADAK" gradcheck --model mlp --activation sigmoid --inputs 40 --hidden 20 --break-backward sigmoid

for a in tanh leaky_relu prelu rrelu elu; do
    expect 0 "gradient check passed" -- "$BADAK" gradcheck --model mlp --activation $a --inputs 30 --hidden 20,20
done
expect 0 "gradient check passed" -- "$BADAK" gradcheck --model mlp --batchnorm --dropout 0.3 --inputs 30 --hidden 20,20
expect 0 "gradient check passed" -- "$BADAK" gradcheck --model mlp --activation tanh --loss mae --weight-decay 0.1 --inputs 30 --hidden 20
for k in batchnorm dropout prelu elu; do
    act=relu
    case $k in prelu|elu) act=$k ;; esac
    expect 1 "gradient check failed" -- "$BADAK" gradcheck --model mlp --activation $act --batchnorm --dropout 0.3 --inputs 30 --hidden 20,20 --break-backward $k
done
expect 2 "unknown layer kind 'lstm'" -- "$BADAK" gradcheck --break-backward lstm
# L1's |W| has a kink at 0: steps across it are skipped, the rest must agree
expect 0 "gradient check passed" -- "$BADAK" gradcheck --model mlp --inputs 20 --hidden 10 --l1 0.01
expect 1 "gradient check failed" -- "$BADAK" gradcheck --model mlp --inputs 20 --hidden 10 --l1 0.01 --break-backward affine
expect 2 "give --wd-range, not --weight-decay" -- "$BADAK" hpsearch --weight-decay 0.1

# convolutional networks: gradient checks on small random images, a
# description file, and the messages of bad ones
expect 0 "gradient check passed" -- "$BADAK" gradcheck --model simple_convnet --inputs 1x8x8 \
    --samples 2 --max-entries 100
cat >"$tmp/small.ini" <<'EOF'
; a small convolutional network for 1x8x8 images
[net]
input = 1x8x8
[conv1]
type = conv
filters = 3
kernel = 3
pad = 1
[bn1]
type = batchnorm2d
[act1]
type = tanh
[pool1]
type = avgpool
kernel = 2
[flat]
type = flatten
[out]
type = affine
units = 10
EOF
expect 0 "gradient check passed" -- "$BADAK" gradcheck --model "$tmp/small.ini" --inputs 1x8x8 \
    --samples 8 --max-entries 100
printf '[net]\ninput = 1x8x8\n[c]\ntype = conv\nfilters = 2\nkernal = 3\n' >"$tmp/bad.ini"
expect 1 "bad.ini:6: [c]: 'kernal' is not a key of a conv layer" -- \
    "$BADAK" gradcheck --model "$tmp/bad.ini" --inputs 1x8x8
expect 1 "Conv1: kernel 5 larger than input 1x4 + padding 0" -- \
    "$BADAK" gradcheck --model simple_convnet --inputs 4
expect 2 "--inputs '1x0x3'" -- "$BADAK" gradcheck --inputs 1x0x3
expect 2 "are for two_layer and mlp" -- "$BADAK" gradcheck --model resnet --hidden 10 --inputs 1x8x8
expect 1 "cannot open" -- "$BADAK" gradcheck --model /nonexistent/net.ini --inputs 1x8x8
# figures (issue 6): every figure in quick mode makes a PNG and a complete CSV
for opt in --list --out --svg --quick --seed --data --log --model; do
    expect 0 "$opt" -- "$BADAK" figure --help
done
out=$("$BADAK" figure --list 2>&1)
for f in gd-1d numerical-diff gd-2d sgd-surface optimizers-2d activation-histograms \
    optimizers-mnist weight-init-mnist batchnorm-mnist overfitting hpsearch learning-curve \
    activations filters; do
    grep -q "^$f " <<<"$out" && ok || bad "figure --list lacks $f"$'\n'"$out"
done
expect 2 "which figure" -- "$BADAK" figure
expect 2 "unknown figure 'pie'" -- "$BADAK" figure pie
expect 2 "--log is for learning-curve" -- "$BADAK" figure gd-1d --log x.csv
expect 2 "unexpected argument 'b'" -- "$BADAK" figure gd-1d b
expect 2 "--model FILE is required" -- "$BADAK" predict x.png
expect 2 "no image given" -- "$BADAK" predict --model x.safetensors
expect 2 "--invert 'maybe'" -- "$BADAK" predict --model x.safetensors --invert maybe x.png
expect 0 "centre of mass" -- "$BADAK" predict --help
expect 2 "filters needs --model FILE" -- "$BADAK" figure filters
expect 1 "nomodel.safetensors: cannot open" -- "$BADAK" figure filters --model "$tmp/nomodel.safetensors"
expect 2 "--model is for filters" -- "$BADAK" figure gd-1d --model "$tmp/m.safetensors"
"$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 8 --epochs 1 --quiet \
    --save "$tmp/dense.safetensors" >/dev/null 2>&1
expect 2 "the model has no convolutional layer" -- \
    "$BADAK" figure filters --model "$tmp/dense.safetensors" --out "$tmp/fig"
# check_fig DIR NAME ROWS: a PNG that is a PNG, a CSV with ROWS data rows
# (ROWS "+N": at least N) whose rows all have the header's number of fields
check_fig() {
    local dir=$1 name=$2 rows=$3 png="$1/$2.png" csv="$1/$2.csv" n
    if [ ! -s "$png" ] || [ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" != '211PNG' ]; then
        bad "figure $name: $png missing or not a PNG"; return; fi
    [ -f "$csv" ] || { bad "figure $name: $csv missing"; return; }
    n=$(($(wc -l <"$csv") - 1))
    case $rows in
        +*) [ "$n" -ge "${rows#+}" ] || { bad "figure $name: $n CSV rows, want >= ${rows#+}"; return; } ;;
        *) [ "$n" -eq "$rows" ] || { bad "figure $name: $n CSV rows, want $rows"; return; } ;;
    esac
    awk -F, 'NR == 1 { nf = NF; next } NF != nf { bad = 1 } END { exit bad }' "$csv" ||
        { bad "figure $name: ragged CSV $csv"; return; }
    ls -a "$dir" | grep -q '\.tmp$' && { bad "figure $name: temporary file left in $dir"; return; }
    ok
}
fig=$tmp/fig
for spec in gd-1d:60 numerical-diff:291 gd-2d:21 sgd-surface:62 optimizers-2d:186 \
    activation-histograms:1920 activations:2005; do
    name=${spec%%:*}
    out=$("$BADAK" figure "$name" --quick --out "$fig" 2>&1)
    if [ $? -ne 0 ] || [ "$(wc -l <<<"$out")" -ne 1 ] || ! grep -q "^$name: .*$name.png" <<<"$out"; then
        bad "figure $name: exit status or output"$'\n'"$out"; continue; fi
    check_fig "$fig" "$name" "${spec#*:}"
done
# the numbers: the 1-D path's first steps and the SGD path on x^2/20 + y^2
awk -F, '$1 == "quadratic" && $2 == 0.2 && $4 == 1 { exit !($5 > 3.19999 && $5 < 3.20001) }' \
    "$fig/gd-1d.csv" && ok || bad "gd-1d: x1 for lr 0.2 is not 4 - 0.2*4 = 3.2"
awk -F, '$1 == "sgd" && $3 == 1 { exit !($4 > -6.3351 && $4 < -6.3349 && $5 > -1.8001 && $5 < -1.7999) }' \
    "$fig/optimizers-2d.csv" && ok || bad "optimizers-2d: SGD step 1 is not (-6.335, -1.8)"
# histogram counts add up to 1000 x 100 per layer
awk -F, 'NR > 1 { s[$1 "," $2 "," $3] += $6 } END { for (k in s) if (s[k] != 100000) exit 1; exit length(s) != 60 }' \
    "$fig/activation-histograms.csv" && ok || bad "activation-histograms: counts do not add up to 100000"
# --svg adds an SVG; same seed, same CSV
expect 0 "gd-2d.svg" -- "$BADAK" figure gd-2d --svg --out "$fig"
grep -q "<svg" "$fig/gd-2d.svg" && ok || bad "gd-2d.svg is not an SVG"
# the learning curve of a `badak train --log` run on CSV data (no MNIST needed)
"$BADAK" train --csv "$tmp/circle.csv" --model mlp --hidden 16 --epochs 12 --batch 20 --seed 3 \
    --quiet --log "$tmp/curve.csv" >/dev/null 2>&1
expect 0 "learning-curve.png" -- "$BADAK" figure learning-curve --log "$tmp/curve.csv" --out "$fig"
check_fig "$fig" learning-curve $((12 * 16 + 12))
expect 1 "cannot read the training log" -- "$BADAK" figure learning-curve --log "$tmp/none.csv" --out "$fig"
expect 1 "not a \`badak train --log\` CSV" -- "$BADAK" figure learning-curve --log "$tmp/circle.csv" --out "$fig"
touch "$tmp/file"
expect 1 "cannot create the output folder" -- "$BADAK" figure gd-1d --out "$tmp/file/sub"
# without MNIST the MNIST figures say so: exit 1 alone, skipped by 'all'
expect 1 "setup.sh" -- "$BADAK" figure optimizers-mnist --quick --data "$tmp/nowhere" --out "$fig"
out=$("$BADAK" figure all --quick --data "$tmp/nowhere" --out "$tmp/fignodata" 2>&1)
if [ $? -eq 0 ] && [ "$(grep -c ': skipped: ' <<<"$out")" -eq 8 ] && [ "$(ls "$tmp/fignodata"/*.png | wc -l)" -eq 8 ]; then
    ok; else bad "figure all without MNIST"$'\n'"$out"; fi

if [ -f "$MNIST/train-images-idx3-ubyte" ] || [ -f "$MNIST/train-images-idx3-ubyte.gz" ]; then
    # hyperparameter search in the notes' form, with its CSV
    out=$("$BADAK" hpsearch --data "$MNIST" --trials 4 --epochs 3 --train-size 200 --top 2 \
        --csv "$tmp/hp.csv" --quiet 2>&1)
    if grep -q "^Best-1 (val acc: 0\.[0-9][0-9]) | lr: .*, weight decay: " <<<"$out" &&
        [ "$(grep -c '^Best-' <<<"$out")" -eq 2 ] && [ "$(wc -l <"$tmp/hp.csv")" -eq 13 ]; then
        ok
    else
        bad "hpsearch output or CSV wrong"$'\n'"$out"$'\n'"$(head -3 "$tmp/hp.csv" 2>&1)"
    fi
    expect 2 "--lr-range" -- "$BADAK" hpsearch --lr-range 1e-2,1e-6
    # every MNIST figure in quick mode, through 'figure all'
    out=$("$BADAK" figure all --quick --out "$tmp/figall" 2>&1)
    if [ $? -eq 0 ] && grep -q "^figure all: 16 figures" <<<"$out"; then ok; else
        bad "figure all --quick"$'\n'"$out"; fi
    check_fig "$tmp/figall" optimizers-mnist $((6 * 150))
    check_fig "$tmp/figall" weight-init-mnist $((3 * 150))
    check_fig "$tmp/figall" batchnorm-mnist +80   # 16 stds x 2 x 3 epochs, fewer if one diverged
    check_fig "$tmp/figall" overfitting $((3 * 5))
    check_fig "$tmp/figall" hpsearch +20
    check_fig "$tmp/figall" learning-curve $((1200 + 12))
    # layers: its own deep sigmoid MLP, 200 steps logged at 1, every 20th: 11 x 17 layers
    check_fig "$tmp/figall" layers $((11 * 17))
    # gradcheck on real digits, as the book does (3 samples of MNIST)
    expect 0 "gradient check passed" -- "$BADAK" gradcheck --data "$MNIST" --max-entries 2000
    if [ "$QUICK" != 1 ]; then
        # a short run on a subset must reach a stated accuracy
        out=$("$BADAK" train --data "$MNIST" --train-size 10000 --epochs 5 --init he --json --quiet 2>&1)
        acc=$(tail -n 1 <<<"$out" | sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p')
        if [ -n "$acc" ] && awk -v a="$acc" 'BEGIN { exit !(a >= 0.90) }'; then ok; else
            bad "MNIST 10000-sample run: test accuracy '$acc' (want >= 0.90)"$'\n'"$out"; fi
        # the book's SimpleConvNet on a subset, and the same network from a .ini
        out=$("$BADAK" train --data "$MNIST" --model simple_convnet --optimizer adam --lr 0.001 \
            --train-size 6000 --epochs 2 --json --quiet 2>&1)
        acc=$(tail -n 1 <<<"$out" | sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p')
        if [ -n "$acc" ] && awk -v a="$acc" 'BEGIN { exit !(a >= 0.85) }'; then ok; else
            bad "simple_convnet 6000-sample run: test accuracy '$acc' (want >= 0.85)"$'\n'"$out"; fi
        out2=$("$BADAK" train --data "$MNIST" --model examples/simple_convnet.ini --optimizer adam \
            --lr 0.001 --train-size 6000 --epochs 2 --json --quiet 2>&1)
        if [ "$(tail -n 1 <<<"$out2" | sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p')" = "$acc" ]; then
            ok; else bad "examples/simple_convnet.ini differs from --model simple_convnet"$'\n'"$out2"; fi
        # the example program, through the public API only
        expect 0 "test accuracy 0.9" -- "$EXAMPLE" "$MNIST" 2
        # a conv model on MNIST: eval repeats the training run's accuracy, and
        # the exported C header predicts the first 1000 test digits as eval does
        out=$("$BADAK" train --data "$MNIST" --model simple_convnet --optimizer adam --lr 0.001 \
            --train-size 2000 --epochs 1 --no-train-acc --json --quiet --save "$tmp/cnn.safetensors" 2>&1)
        ta=$(tail -n 1 <<<"$out" | sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p')
        ea=$("$BADAK" eval --model "$tmp/cnn.safetensors" --data "$MNIST" --json 2>&1 |
            sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p')
        [ -n "$ta" ] && [ "$ta" = "$ea" ] && ok || bad "MNIST eval accuracy '$ea' vs training's '$ta'"
        if [ -f "$MNIST/t10k-images-idx3-ubyte" ] &&
            "$BADAK" eval --model "$tmp/cnn.safetensors" --data "$MNIST" --test-size 1000 \
                --predictions "$tmp/pe_mnist.txt" >/dev/null &&
            "$BADAK" export --c-header "$tmp/cnn.h" "$tmp/cnn.safetensors" >/dev/null &&
            ${CC:-cc} -std=c11 -O2 -I"$tmp" -DMODEL_H='"cnn.h"' tests/export_driver.c -o "$tmp/drv_cnn" -lm &&
            od -An -v -tu1 -w784 -j16 -N $((784 * 1000)) "$MNIST/t10k-images-idx3-ubyte" |
            "$tmp/drv_cnn" 0.00392156862745098 >"$tmp/pc_mnist.txt" &&
            [ "$(wc -l <"$tmp/pc_mnist.txt")" -eq 1000 ] && cmp -s "$tmp/pe_mnist.txt" "$tmp/pc_mnist.txt"; then
            ok
        else
            bad "exported conv header's predictions on 1000 MNIST digits differ from badak eval's"
        fi
        # predict: the first two test digits (7, 2) as PGM files, one also
        # inverted (a dark digit on light paper)
        img=$MNIST/t10k-images-idx3-ubyte
        { printf 'P5\n28 28\n255\n'; tail -c +17 "$img" | head -c 784; } >"$tmp/d7.pgm"
        { printf 'P5\n28 28\n255\n'; tail -c +17 "$img" | head -c 784 |
            perl -0777 -pe 's/(.)/chr(255-ord($1))/gse'; } >"$tmp/d7paper.pgm"
        { printf 'P5\n28 28\n255\n'; tail -c +801 "$img" | head -c 784; } >"$tmp/d2.pgm"
        pout=$("$BADAK" predict --model "$tmp/cnn.safetensors" "$tmp/d7.pgm" "$tmp/d7paper.pgm" \
            "$tmp/d2.pgm" 2>&1)
        if grep -q "d7.pgm: 7 (0\.[0-9]*)," <<<"$pout" && grep -q "d7paper.pgm: 7 (.*\[inverted\]" <<<"$pout" &&
            grep -q "d2.pgm: 2 (" <<<"$pout"; then ok; else bad "predict on MNIST digits"$'\n'"$pout"; fi
        expect 1 "nothere.png: cannot open" -- "$BADAK" predict --model "$tmp/cnn.safetensors" "$tmp/nothere.png"
        # the first layer's filters of that model (book 7.6.1): 30 images of 5x5
        expect 0 "filters.png" -- "$BADAK" figure filters --model "$tmp/cnn.safetensors" --out "$fig"
        check_fig "$fig" filters 1500   # before and after training
    fi
else
    echo "note: MNIST not installed in $MNIST: skipping the MNIST runs"
fi

echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
