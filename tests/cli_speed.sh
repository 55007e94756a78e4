#!/usr/bin/env bash
# cli_speed.sh — the [train] section of a network description (its options
# applied as if they were flags, the command line overriding them) and the
# onecycle schedule, as `badak train` meets them; on CSV data made here.
set -u
BADAK=${BADAK_BIN:-build/badak}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

echo "== cli speed tests ($BADAK)"
awk 'BEGIN { srand(3); for (i = 0; i < 200; i++) { x = 4 * rand() - 2; y = 4 * rand() - 2;
    printf "%.4f,%.4f,%d\n", x, y, (x*x + y*y < 1.3) ? 1 : 0 } }' >"$tmp/c.csv"
net() { # FILE [train]-LINES...
    local f=$1; shift
    { printf '[net]\ninput = 2\n'; printf '%s\n' "$@"; printf '[fc1]\ntype = affine\nunits = 16\n[r]\ntype = relu\n[fc2]\ntype = affine\nunits = 2\n'; } >"$f"
}
net "$tmp/m.ini" "[train]" "optimizer = adam" "lr = 0.01" "batch = 20" "epochs = 3" \
    "lr_schedule = onecycle ; per step" "warmup = 0.3" "seed = 5"
# the file's options are used...
expect 0 '"optimizer":"adam","lr":0.01,"batch":20' -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/m.ini" --json --quiet
expect 0 '"epochs":3,"iterations":24' -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/m.ini" --json --quiet
expect 0 '"seed":5' -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/m.ini" --json --quiet
expect 0 "adam lr 0.01 (onecycle schedule), batch 20" -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/m.ini"
# ...and the command line overrides them, wherever it puts its flags
expect 0 '"optimizer":"sgd","lr":0.2,"batch":10' -- "$BADAK" train --optimizer sgd --csv "$tmp/c.csv" --model "$tmp/m.ini" --lr 0.2 --batch 10 --json --quiet
expect 0 '"epochs":1,' -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/m.ini" --epochs 1 --json --quiet
# --iters on the command line replaces the file's epochs (and the reverse)
expect 0 '"iterations":5,' -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/m.ini" --iters 5 --json --quiet
net "$tmp/it.ini" "[train]" "iters = 7" "batch = 20"
expect 0 '"epochs":2,"iterations":16' -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/it.ini" --epochs 2 --json --quiet
expect 2 "not both" -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/it.ini" --epochs 2 --iters 3
# the shipped recipe parses and trains (a few steps on a slice)
MNIST=${BADAK_MNIST_DIR:-data/mnist}
if [ -d "$MNIST" ] && [ "${BADAK_QUICK:-0}" = 0 ]; then
    expect 0 '"optimizer":"adam","lr":0.005,"batch":100' -- "$BADAK" train --model examples/mnist99.ini \
        --data "$MNIST" --train-size 300 --iters 3 --json --quiet
fi
# same file, same seed: the same numbers as the flags spelled out
a=$("$BADAK" train --csv "$tmp/c.csv" --model "$tmp/m.ini" --json --quiet --threads 1 | sed 's/"seconds".*//; s/"model":"[^"]*",//')
net "$tmp/plain.ini"
b=$("$BADAK" train --csv "$tmp/c.csv" --model "$tmp/plain.ini" --optimizer adam --lr 0.01 --batch 20 --epochs 3 \
    --lr-schedule onecycle --warmup 0.3 --seed 5 --json --quiet --threads 1 | sed 's/"seconds".*//; s/"model":"[^"]*",//')
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok; else bad "[train] run differs from its flags: $a vs $b"; fi
# the section may come anywhere, even between layers
printf '[net]\ninput = 2\n[fc1]\ntype = affine\nunits = 2\n[train]\nepochs = 2\n' >"$tmp/mid.ini"
expect 0 '"epochs":2,' -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/mid.ini" --json --quiet
# bad sections: exit 2, a message naming the file, line and key
net "$tmp/bad1.ini" "[train]" "optimizer = adam" "bogus = 1"
expect 2 "bad1.ini:5: [train]: unknown key 'bogus'" -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/bad1.ini"
net "$tmp/bad2.ini" "[train]" "batch = 0"
expect 2 "bad2.ini:4, [train] batch = 0" -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/bad2.ini"
net "$tmp/bad3.ini" "[train]" "lr = 0.1" "lr = 0.2"
expect 2 "bad3.ini:5: [train]: 'lr' given twice (also line 4)" -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/bad3.ini"
net "$tmp/bad4.ini" "[train]" "lr-schedule = sometimes"
expect 2 "unknown learning-rate schedule 'sometimes'" -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/bad4.ini"
net "$tmp/bad5.ini" "[train]" "epochs"
expect 2 "bad5.ini:4: [train]: expected key = value" -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/bad5.ini"
net "$tmp/bad6.ini" "[train]" "no-train-acc = maybe"
expect 2 "no-train-acc takes 'true'" -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/bad6.ini"
net "$tmp/bad7.ini" "[train]" "threads = 1"
expect 2 "unknown key 'threads'" -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/bad7.ini"
expect 2 "--warmup" -- "$BADAK" train --csv "$tmp/c.csv" --model "$tmp/plain.ini" --warmup 1.5

echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
