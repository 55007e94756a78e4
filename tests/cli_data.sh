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

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect CODE "substring" -- command...   (stdout+stderr must contain substring)
expect() {
    local code=$1 want=$2
    shift 3
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$code" ]; then
        bad "'$*' exited $rc, expected $code"$'\n'"$out"
    elif [ -n "$want" ] && ! grep -qF -- "$want" <<<"$out"; then
        bad "'$*' output lacks '$want'"$'\n'"$out"
    else
        ok
    fi
}

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

echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
