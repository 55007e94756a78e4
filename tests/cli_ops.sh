#!/usr/bin/env bash
# cli_ops.sh — what the command prints for programs to read: the --json
# lines of train and eval are valid JSON whatever the file names hold
# (quotes, backslashes: escaped by cJSON); and --break-backward takes the
# layer types of network descriptions, also for a ReLU fused into a conv.
set -u
BADAK=${BADAK_BIN:-build/badak}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

echo "== cli ops tests ($BADAK)"
# json_field FIELD < LINE: the decoded value of FIELD, or exit 1 when the
# line is not JSON (perl's JSON::PP, in perl-modules, which build-essential
# pulls in through dpkg-dev)
json_field() { perl -MJSON::PP -e 'my $l = <STDIN>; my $j = eval { decode_json($l) };
    defined $j or exit 1; my $v = $j->{$ARGV[0]}; print defined $v ? $v : "null"' "$1"; }

# a folder, a network description and a CSV whose names hold " and \
w="$tmp/we\"ird\\dir"
mkdir -p "$w"
awk 'BEGIN { srand(3); for (i = 0; i < 100; i++) { x = 4 * rand() - 2; y = 4 * rand() - 2;
    printf "%.4f,%.4f,%d\n", x, y, (x*x + y*y < 1.3) ? 1 : 0 } }' >"$w/c\"q\\.csv"
printf '[net]\ninput = 2\n[fc1]\ntype = affine\nunits = 8\n[r]\ntype = relu\n[fc2]\ntype = affine\nunits = 2\n' >"$w/n.ini"
line=$("$BADAK" train --csv "$w/c\"q\\.csv" --model "$w/n.ini" --epochs 2 --json --quiet \
    --save "$w/m.safetensors" 2>&1 | tail -n 1)
if m=$(json_field model <<<"$line") && [ "$m" = "$w/n.ini" ]; then ok; else bad "train --json model: $line"; fi
if d=$(json_field data <<<"$line") && [ "$d" = "c\"q\\" ]; then ok; else bad "train --json data '$d': $line"; fi
if e=$(json_field epochs <<<"$line") && [ "$e" = 2 ]; then ok; else bad "train --json epochs: $line"; fi
# numbers keep their printed precision, strings around them intact
expect 0 '"optimizer":"sgd","lr":0.1,"batch":100' -- echo "$line"
line=$("$BADAK" eval --model "$w/m.safetensors" --csv "$w/c\"q\\.csv" --json 2>&1 | tail -n 1)
if m=$(json_field model <<<"$line") && [ "$m" = "$w/m.safetensors" ]; then ok; else bad "eval --json model: $line"; fi
if s=$(json_field samples <<<"$line") && [ "$s" -gt 0 ]; then ok; else bad "eval --json samples: $line"; fi
# diagnostics (a message with quotes of its own: 'always predicting it')
line=$("$BADAK" train --csv "$w/c\"q\\.csv" --model mlp --hidden 8 --epochs 3 --json --quiet 2>&1 | tail -n 1)
if json_field diagnostics <<<"$line" >/dev/null; then ok; else bad "train --json with diagnostics: $line"; fi

# --break-backward: description types and names; a ReLU fused into the conv
# before it (its own backward never runs) is still broken
printf '[net]\ninput = 1x6x6\n[c]\ntype = conv\nfilters = 2\nkernel = 3\n[r]\ntype = relu\n[g]\ntype = gap\n[f]\ntype = affine\nunits = 3\n' >"$tmp/cr.ini"
gc() { "$BADAK" gradcheck --model "$tmp/cr.ini" --inputs 1x6x6 --classes 3 --samples 2 "$@"; }
expect 0 "gradient check passed" -- gc
for k in relu conv gap GlobalAvgPool; do
    expect 1 "gradient check failed" -- gc --break-backward $k
done
expect 1 "gradient check failed" -- "$BADAK" gradcheck --model mlp --activation leaky_relu --inputs 20 --hidden 10 --break-backward leaky_relu
expect 2 "unknown layer kind 'lstm'" -- gc --break-backward lstm

echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
