#!/usr/bin/env bash
# cli_harden.sh — what an outside attack on badak found (issue 15), as a
# user (or a script running as root) meets it: sizes that cannot fit refused
# up front, FIFOs and device nodes never blocked on or replaced, symlinks
# followed, atomic --predictions, one run per checkpoint folder, layer
# parameters checked the same in INI files as on the command line. Every
# FIFO and node is made here, in a temporary folder; /dev is never touched.
set -u
BADAK=${BADAK_BIN:-build/badak}
QUICK=${BADAK_QUICK:-0}   # set under the sanitizers: skips the ulimit test
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect CODE "substring" -- command...   (stdout+stderr must contain substring)
# Every command runs under a timeout: a FIFO that blocks shows as exit 124.
expect() {
    local code=$1 want=$2
    shift 3
    local out rc
    out=$(timeout "${HARDEN_TIMEOUT:-60}" "$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$code" ]; then
        bad "'$*' exited $rc, expected $code"$'\n'"$out"
    elif [ -n "$want" ] && ! grep -qF -- "$want" <<<"$out"; then
        bad "'$*' output lacks '$want'"$'\n'"$out"
    else
        ok
    fi
}

echo "== cli harden tests ($BADAK)"
awk 'BEGIN { srand(5); for (i = 0; i < 200; i++) { x = rand() * 4 - 2; y = rand() * 4 - 2;
    printf "%.4f,%.4f,%d\n", x, y, (x*x + y*y < 1.3) ? 1 : 0 } }' >"$tmp/c.csv"

# ---- sizes from outside: checked products, one limit, layer named
printf '[net]\ninput = 1x65536x65536\n[fc]\ntype = affine\nunits = 2\n' >"$tmp/big.ini"
expect 1 "1 x 65536 x 65536 is too large" -- "$BADAK" train --model "$tmp/big.ini" --csv "$tmp/c.csv"
printf '[net]\ninput = 46341x46341\n[fc]\ntype = affine\nunits = 2\n' >"$tmp/big2.ini"
expect 1 "46341 x 46341 is too large" -- "$BADAK" train --model "$tmp/big2.ini" --csv "$tmp/c.csv"
expect 2 "1 x 99999 x 99999 is too large" -- "$BADAK" gradcheck --inputs 1x99999x99999
printf '[net]\ninput = 2\n[a]\ntype = affine\nunits = 100000\n[b]\ntype = affine\nunits = 100000\n[c]\ntype = affine\nunits = 2\n' >"$tmp/wide.ini"
expect 1 "b (100000 units on 100000 inputs): 10000100000 parameters" -- \
    "$BADAK" train --model "$tmp/wide.ini" --csv "$tmp/c.csv"
if [ "$QUICK" != 1 ]; then # ASan reserves more address space than any ulimit -v here
    expect 2 "Affine2 (1000 units on 1000000 inputs): the network's weights and gradients need" -- \
        bash -c "ulimit -v 2000000; exec \"$BADAK\" train --csv \"$tmp/c.csv\" --model mlp --hidden 1000000,1000 --epochs 1"
fi

# ---- layer parameters: INI files refuse what the CLI refuses
for case in 'dropout|p = 1|dropout p 1 must be in [0, 1)' \
            'dropout|p = 4294967296|dropout p 4.29497e+09' \
            'rrelu|lower = 0.9\nupper = 0.1|need 0 <= lower < upper' \
            'affine|units = +5|units '"'"'+5'"'"' must be an integer'; do
    IFS='|' read -r type keys want <<<"$case"
    printf "[net]\ninput = 2\n[l]\ntype = $type\n$keys\n[o]\ntype = affine\nunits = 2\n" >"$tmp/l.ini"
    expect 1 "$want" -- "$BADAK" train --model "$tmp/l.ini" --csv "$tmp/c.csv" --epochs 1
done
expect 2 "need 0 <= lower < upper" -- "$BADAK" train --csv "$tmp/c.csv" --activation rrelu:0.9,0.1
expect 2 "--hidden: '+5'" -- "$BADAK" train --csv "$tmp/c.csv" --hidden +5

# ---- inputs that are not regular files: refused at once, never waited on
mkfifo "$tmp/fifo"
expect 1 "it is a FIFO" -- "$BADAK" train --csv "$tmp/fifo" --epochs 1
ln -s fifo "$tmp/fifo.ini"
expect 2 "it is a FIFO" -- "$BADAK" train --model "$tmp/fifo.ini" --csv "$tmp/c.csv" --epochs 1
expect 1 "it is a FIFO" -- "$BADAK" eval --model "$tmp/fifo" --csv "$tmp/c.csv"
expect 1 "it is a FIFO" -- "$BADAK" info "$tmp/fifo"
expect 1 "it is a FIFO" -- "$BADAK" predict --model "$tmp/fifo" "$tmp/c.csv"
mkdir "$tmp/ckf" && mkfifo "$tmp/ckf/checkpoint.safetensors"
expect 1 "it is a FIFO" -- "$BADAK" train --resume "$tmp/ckf"
mkdir "$tmp/idx"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    mkfifo "$tmp/idx/$f"
done
expect 1 "it is a FIFO" -- "$BADAK" train --data "$tmp/idx" --epochs 1

# a model to predict and save with
"$BADAK" train --csv "$tmp/c.csv" --model mlp --hidden 8 --epochs 2 --batch 20 --quiet \
    --save "$tmp/m.safetensors" >/dev/null 2>&1 || bad "training the small model failed"

# ---- outputs: device nodes, FIFOs, sockets and folders are never replaced
expect 1 "is a FIFO (named pipe): refusing to replace it by the model file" -- \
    "$BADAK" train --csv "$tmp/c.csv" --epochs 1 --save "$tmp/fifo"
[ -p "$tmp/fifo" ] && ok || bad "--save replaced the FIFO"
expect 1 "refusing to replace it by the log file" -- \
    "$BADAK" train --csv "$tmp/c.csv" --epochs 1 --log "$tmp/fifo"
expect 1 "refusing to replace it by the predictions file" -- \
    "$BADAK" eval --model "$tmp/m.safetensors" --csv "$tmp/c.csv" --predictions "$tmp/fifo"
if [ "$(id -u)" = 0 ]; then
    mknod "$tmp/null" c 1 3
    expect 1 "is a character device: refusing" -- \
        "$BADAK" train --csv "$tmp/c.csv" --epochs 1 --save "$tmp/null"
    [ -c "$tmp/null" ] && ok || bad "--save replaced the device node"
fi
expect 1 "is a folder: refusing to replace it" -- \
    "$BADAK" train --csv "$tmp/c.csv" --epochs 1 --save "$tmp/idx"
# symlinks are followed: the target is replaced atomically, the link kept
echo old >"$tmp/target.safetensors"
ln -s target.safetensors "$tmp/link.safetensors"
expect 0 "model saved to" -- "$BADAK" train --csv "$tmp/c.csv" --epochs 1 --save "$tmp/link.safetensors"
[ -L "$tmp/link.safetensors" ] && ok || bad "--save replaced the symlink itself"
expect 0 "Affine" -- "$BADAK" info "$tmp/target.safetensors"
ln -s nowhere/x "$tmp/dangling"
expect 1 "a symlink to nothing" -- "$BADAK" train --csv "$tmp/c.csv" --epochs 1 --save "$tmp/dangling"

# stale temporary files of dead processes are removed on the next save there
touch "$tmp/m.safetensors.tmp.999999999"
expect 0 "" -- "$BADAK" train --csv "$tmp/c.csv" --epochs 1 --save "$tmp/m2.safetensors"
[ ! -e "$tmp/m.safetensors.tmp.999999999" ] && ok || bad "stale .tmp.PID file left"

# --predictions is atomic: a failed write leaves the old file, says why
awk 'BEGIN { srand(6); for (i = 0; i < 3000; i++) printf "%.3f,%.3f,%d\n", rand(), rand(), i % 2 }' >"$tmp/many.csv"
printf 'old\n' >"$tmp/pred.txt"
expect 1 "File too large" -- bash -c "trap '' XFSZ; ulimit -f 1; exec \"$BADAK\" eval \
    --model \"$tmp/m.safetensors\" --csv \"$tmp/many.csv\" --test-split 0.9 --predictions \"$tmp/pred.txt\""
[ "$(cat "$tmp/pred.txt")" = old ] && ok || bad "--predictions left a partial file: $(head -c 40 "$tmp/pred.txt")"

# ---- one run per checkpoint folder
mkdir "$tmp/ck"
( flock -x 9; echo $BASHPID >"$tmp/ck/badak.lock"; touch "$tmp/held"; sleep 60 ) 9>>"$tmp/ck/badak.lock" &
holder=$!
for _ in $(seq 50); do [ -e "$tmp/held" ] && break; sleep 0.1; done
expect 1 "in use by another training run (pid " -- \
    "$BADAK" train --csv "$tmp/c.csv" --epochs 1 --checkpoint "$tmp/ck"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
expect 0 "" -- "$BADAK" train --csv "$tmp/c.csv" --epochs 1 --checkpoint "$tmp/ck" --quiet

# ---- CSV classes: said, and a stray label refused unless --classes
expect 0 "2 classes, 2 of them in the labels" -- "$BADAK" train --csv "$tmp/c.csv" --epochs 1
{ cat "$tmp/c.csv"; echo "0.5,0.5,999"; } >"$tmp/stray.csv"
expect 1 "label 999 (sample " -- \
    "$BADAK" train --csv "$tmp/stray.csv" --epochs 1
expect 1 "is far beyond the others (the next largest is 1; 3 distinct labels would make 1000" -- \
    "$BADAK" train --csv "$tmp/stray.csv" --epochs 1
expect 0 "1000 classes, 3 of them in the labels" -- \
    "$BADAK" train --csv "$tmp/stray.csv" --epochs 1 --classes 1000
{ cat "$tmp/c.csv"; echo "0x10,0.5,1"; } >"$tmp/hex.csv"
expect 1 "column 1: \"0x10\" is not a number" -- "$BADAK" train --csv "$tmp/hex.csv" --epochs 1

# ---- model metadata shown only when possible
sed 's/"badak.parameters":"42"/"badak.parameters":"ab"/' "$tmp/m.safetensors" >"$tmp/abc.safetensors"
expect 1 "'badak.parameters' = 'ab'" -- "$BADAK" info "$tmp/abc.safetensors"

# ---- predict: vector models refused, blank images warned
expect 1 "not an image: predict classifies images" -- "$BADAK" predict --model "$tmp/m.safetensors" "$tmp/c.csv"
# an 8x8 image data set in IDX files, made here
mkdir "$tmp/img8"
for part in train t10k; do
    { printf '\0\0\10\3\0\0\0\12\0\0\0\10\0\0\0\10'; printf 'A%.0s' $(seq 320);
      printf '\300%.0s' $(seq 320); } >"$tmp/img8/$part-images-idx3-ubyte"
    { printf '\0\0\10\1\0\0\0\12'; printf '\0%.0s' $(seq 5); printf '\1%.0s' $(seq 5); } \
        >"$tmp/img8/$part-labels-idx1-ubyte"
done
"$BADAK" train --data "$tmp/img8" --epochs 1 --batch 5 --quiet --save "$tmp/img.safetensors" \
    >/dev/null 2>&1 || bad "training the 8x8 image model failed"
expect 1 "it is a FIFO" -- "$BADAK" predict --model "$tmp/img.safetensors" "$tmp/fifo"
{ printf 'P5\n8 8\n255\n'; printf '\377%.0s' $(seq 64); } >"$tmp/white.pgm"
expect 0 "white.pgm is blank (every pixel 1.00, all white or transparent)" -- \
    "$BADAK" predict --model "$tmp/img.safetensors" "$tmp/white.pgm"

# ---- messages that say what is wrong
expect 1 "cannot read it as a model file: it is a folder" -- "$BADAK" eval --model "$tmp/idx" --csv "$tmp/c.csv"
expect 2 "empty model file name" -- "$BADAK" eval --model "" --csv "$tmp/c.csv"
expect 2 "empty model file name" -- "$BADAK" train --csv "$tmp/c.csv" --epochs 1 --save ""
expect 2 "empty checkpoint folder name" -- "$BADAK" train --resume ""
expect 1 "c.csv: a file, not a folder" -- "$BADAK" train --data "$tmp/c.csv" --epochs 1
# resuming: options saved in the checkpoint are the checkpoint's; an empty one
# is refused; a finished run says so; a copied folder is the one written
"$BADAK" train --csv "$tmp/c.csv" --epochs 1 --batch 20 --checkpoint "$tmp/run" >/dev/null 2>&1 ||
    bad "training with --checkpoint failed"
mkdir "$tmp/runb" "$tmp/rune"
sed 's/\\"--batch\\",\\"20\\"/\\"--batch\\",\\"00\\"/' "$tmp/run/checkpoint.safetensors" \
    >"$tmp/runb/checkpoint.safetensors"
expect 1 "error in the options saved in $tmp/runb/checkpoint.safetensors: --batch: '00'" -- \
    "$BADAK" train --resume "$tmp/runb"
sed 's/\\"--batch\\",\\"20\\"/\\"--batch\\",\\"\\"  /' "$tmp/run/checkpoint.safetensors" \
    >"$tmp/rune/checkpoint.safetensors"
expect 1 "saved option 6 is an empty string" -- "$BADAK" train --resume "$tmp/rune"
expect 0 "was already complete: 1 epochs, 8 iterations; nothing trained" -- \
    "$BADAK" train --resume "$tmp/run"
cp -r "$tmp/run" "$tmp/copy"
before=$(cksum <"$tmp/run/checkpoint.safetensors")
expect 0 "done: 2 epochs" -- "$BADAK" train --resume "$tmp/copy" --epochs 2
[ "$(cksum <"$tmp/run/checkpoint.safetensors")" = "$before" ] && ok ||
    bad "resuming a copied folder wrote into the original"
[ "$(cksum <"$tmp/copy/checkpoint.safetensors")" != "$before" ] && ok ||
    bad "resuming a copied folder did not checkpoint into the copy"

echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
