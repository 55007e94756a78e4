#!/usr/bin/env bash
# cli_tutorial.sh — every command of docs/tutorial.md and docs/tutorial.ko.md
# is run here: the two tutorials must show the same commands, and each one
# runs (in a temporary folder, shortened where it is long: fewer iterations,
# epochs, trials, --quick figures) and exits 0. Under BADAK_QUICK (the
# sanitizer pass) only the comparison is made.
set -u
BADAK=${BADAK_BIN:-build/badak}
MNIST=${BADAK_MNIST_DIR:-data/mnist}
QUICK=${BADAK_QUICK:-0}
root=$(cd "$(dirname "$0")/.." && pwd)
BADAK=$(cd "$(dirname "$BADAK")" && pwd)/$(basename "$BADAK")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# the commands of a tutorial: the lines of its ```sh blocks, continuations joined
commands() {
    awk '/^```sh$/ { on = 1; next } /^```$/ { on = 0; next }
         on { if (sub(/\\$/, "")) { part = part $0; next } print part $0; part = "" }' "$1" |
        sed 's/  */ /g'
}
echo "== tutorial tests ($BADAK)"
commands "$root/docs/tutorial.md" >"$tmp/en"
commands "$root/docs/tutorial.ko.md" >"$tmp/ko"
[ -s "$tmp/en" ] && ok || bad "no commands found in docs/tutorial.md"
diff "$tmp/en" "$tmp/ko" >"$tmp/diff" && ok || bad "the tutorials' commands differ:"$'\n'"$(cat "$tmp/diff")"

# shorten CMD: the same command, seconds instead of minutes
shorten() {
    local c=$1
    case $c in
        "badak figure "*) c="$c --quick" ;;
        "badak hpsearch "*) c="$c --trials 2 --epochs 1 --train-size 100" ;;
    esac
    c=$(sed -E 's/--iters [0-9]{3,}/--iters 100/; s/--epochs [0-9]+/--epochs 1/' <<<"$c")
    case $c in
        "badak train "*--train-size*) ;;
        "badak train "*) c="$c --train-size 1000" ;;
    esac
    echo "$c"
}

if [ "$QUICK" = 1 ] || { [ ! -f "$MNIST/train-images-idx3-ubyte" ] && [ ! -f "$MNIST/train-images-idx3-ubyte.gz" ]; }; then
    echo "tutorial tests: quick mode or no MNIST: commands compared, not run"
else
    export BADAK_DATA=$(dirname "$MNIST")
    mkdir -p "$tmp/run/data"
    cd "$tmp/run" || exit 1
    if command -v node >/dev/null 2>&1; then
        node "$root/scripts/sample_digits.js" "$MNIST" data/digits >/dev/null || bad "sample_digits.js"
    fi
    badak() { "$BADAK" "$@"; }
    while read -r cmd; do
        case $cmd in
            "bash scripts/setup.sh && make -j2"|"export PATH="*) continue ;; # the setup itself
            "badak "*) ;;
            *) bad "unknown kind of command in the tutorial: $cmd"; continue ;;
        esac
        case $cmd in *data/digits/*) [ -d data/digits ] || continue ;; esac
        short=$(shorten "$cmd")
        out=$(eval "$short" 2>&1)
        rc=$?
        # the tutorial's broken-backward check is meant to fail (exit 1)
        want=0
        case $cmd in *--break-backward*) want=1 ;; esac
        [ "$rc" -eq "$want" ] && ok || bad "tutorial command '$short' exited $rc"$'\n'"$out"
    done <"$tmp/en"
fi
echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
