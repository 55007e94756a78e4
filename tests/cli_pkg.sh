#!/usr/bin/env bash
# cli_pkg.sh — badak as a C programmer installs it: the header compiles as
# C11 -pedantic and as C++17; the shared library carries its SONAME and
# exports exactly the functions badak.h declares; `make install` (staged
# with DESTDIR, and into a prefix) lays out every file and `make uninstall`
# removes exactly those; badak(1) documents every option of every command;
# every program in examples/ and every ```c snippet of the README builds
# against the installed copy with pkg-config, shared and static, and the
# examples run. BADAK_BUILD is the build folder (the sanitizer run links the
# programs with the sanitizers too and skips the slow runs).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
B=${BADAK_BUILD:-build}
case "$B" in /*) ;; *) B=$root/$B ;; esac
MNIST=${BADAK_MNIST_DIR:-$root/data/mnist}
QUICK=${BADAK_QUICK:-0}
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

echo "== package tests ($B)"
version=$(sed -n 's/^#define BD_VERSION "\(.*\)"$/\1/p' "$root/include/badak.h")
major=${version%%.*}
so=$B/libbadak.so.$version
# a sanitizer build: programs linked against it need the same runtime
san=()
if nm "$B/libbadak.a" 2>/dev/null | grep -q ' U __asan_'; then
    san=(-fsanitize=address,undefined)
fi

# ---- the header on its own: C11 -pedantic (gcc, clang) and C++17 (g++)
printf '#include <badak.h>\nint main(void) { return bd_version_number() == BD_VERSION_NUMBER ? 0 : 1; }\n' \
    >"$tmp/hdr.c"
cp "$tmp/hdr.c" "$tmp/hdr.cpp"
warn=(-Wall -Wextra -pedantic -Werror -I"$root/include")
expect 0 "" -- gcc -std=c11 "${warn[@]}" -Wstrict-prototypes -Wshadow -c "$tmp/hdr.c" -o "$tmp/hdr.o"
expect 0 "" -- g++ -std=c++17 "${warn[@]}" -c "$tmp/hdr.cpp" -o "$tmp/hdr_cpp.o"
if command -v clang >/dev/null; then
    expect 0 "" -- clang -std=c11 "${warn[@]}" -c "$tmp/hdr.c" -o "$tmp/hdr_clang.o"
fi
# extern "C": the C++ object refers to the C name, not a mangled one
if nm "$tmp/hdr_cpp.o" | grep -q ' U bd_version_number$'; then ok; else
    bad "badak.h under C++: bd_version_number is not referred to by its C name"
fi

# ---- the shared library: SONAME, and exports = the functions of badak.h
soname=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libbadak.so.$major" ] && ok || bad "$so: SONAME '$soname', expected libbadak.so.$major"
# gcc -aux-info lists every function a translation unit declares, with the
# file it comes from: badak.h's extern (non-inline) functions
gcc -std=c11 -I"$root/include" -aux-info "$tmp/aux.txt" -fsyntax-only "$tmp/hdr.c" 2>/dev/null
grep -F "include/badak.h:" "$tmp/aux.txt" | grep ' \*/ extern ' |
    sed -n 's/.*[ *]\(bd_[A-Za-z0-9_]*\) (.*/\1/p' | sort -u >"$tmp/declared"
nm -D --defined-only "$so" | awk '{ print $3 }' | sort -u >"$tmp/exported"
if [ "$(wc -l <"$tmp/declared")" -lt 100 ]; then
    bad "found only $(wc -l <"$tmp/declared") functions in badak.h (gcc -aux-info failed?)"
fi
extra=$(comm -13 "$tmp/declared" "$tmp/exported" | grep -v '^bd_[a-z][a-z0-9_]*$')
[ -z "$extra" ] && ok || bad "$so exports symbols that are not bd_[a-z]*:"$'\n'"$extra"
undeclared=$(comm -13 "$tmp/declared" "$tmp/exported" | grep '^bd_[a-z][a-z0-9_]*$')
[ -z "$undeclared" ] && ok || bad "$so exports functions badak.h does not declare:"$'\n'"$undeclared"
missing=$(comm -23 "$tmp/declared" "$tmp/exported")
[ -z "$missing" ] && ok || bad "badak.h declares functions $so does not export (BD_API?):"$'\n'"$missing"

# ---- the default build is portable: valgrind (which emulates no AVX-512)
# runs it, the clones of the hot loops picking their AVX2 copy. The old
# -march=native default died here with SIGILL.
if [ "$QUICK" = 1 ] || [ ${#san[@]} -gt 0 ]; then
    echo "note: valgrind run skipped (sanitizer build / BADAK_QUICK)"
elif ! command -v valgrind >/dev/null; then
    bad "valgrind not installed (scripts/setup.sh installs it)"
else
    awk 'BEGIN { srand(3); for (i = 0; i < 200; i++) { c = i % 3
        printf "%.3f,%.3f,%.3f,%d\n", c + rand(), rand() * 2 - c, rand(), c } }' >"$tmp/vg.csv"
    vg=(valgrind -q --error-exitcode=99)
    expect 0 "gradient check passed" -- "${vg[@]}" "$B/badak" gradcheck --model simple_convnet \
        --inputs 1x8x8 --samples 2 --threads 2 --max-entries 3
    expect 0 "test accuracy" -- "${vg[@]}" "$B/badak" train --csv "$tmp/vg.csv" --epochs 2 \
        --hidden 8 --batchnorm --optimizer adam --batch 20 --threads 2
fi

# ---- make install staged for a package, then make uninstall
stage=$tmp/stage
mk() { make -s -C "$root" B="$B" LDCONFIG=true "$@"; }
expect 0 "" -- mk install DESTDIR="$stage" PREFIX=/usr
want="usr/bin/badak
usr/include/badak.h
usr/lib/libbadak.a
usr/lib/libbadak.so
usr/lib/libbadak.so.$major
usr/lib/libbadak.so.$version
usr/lib/pkgconfig/badak.pc
usr/share/man/man1/badak.1"
got=$(cd "$stage" && find . ! -type d | sed 's|^\./||' | sort)
[ "$got" = "$want" ] && ok || bad "make install DESTDIR: installed"$'\n'"$got"$'\n'"expected"$'\n'"$want"
[ "$(readlink "$stage/usr/lib/libbadak.so.$major")" = "libbadak.so.$version" ] && ok ||
    bad "libbadak.so.$major -> $(readlink "$stage/usr/lib/libbadak.so.$major")"
[ "$(readlink "$stage/usr/lib/libbadak.so")" = "libbadak.so.$major" ] && ok ||
    bad "libbadak.so -> $(readlink "$stage/usr/lib/libbadak.so")"
expect 0 "prefix=/usr" -- cat "$stage/usr/lib/pkgconfig/badak.pc"
expect 0 "Version: $version" -- cat "$stage/usr/lib/pkgconfig/badak.pc"
expect 0 "badak $version" -- "$stage/usr/bin/badak" version
# uninstall removes exactly what install wrote: a file of someone else's in
# the same folders stays
echo other >"$stage/usr/lib/other.so"
expect 0 "" -- mk uninstall DESTDIR="$stage" PREFIX=/usr
left=$(cd "$stage" && find . ! -type d | sed 's|^\./||' | sort)
[ "$left" = "usr/lib/other.so" ] && ok || bad "make uninstall left"$'\n'"$left"

# ---- badak(1): renders without warnings and holds every option of every
# command's --help
page=$B/badak.1
if command -v groff >/dev/null; then
    expect 0 "" -- groff -man -Tutf8 -ww -z "$page"
    groff -man -Tutf8 "$page" 2>/dev/null | sed 's/.\x08//g' >"$tmp/page.txt"
else
    echo "note: groff not installed; badak(1) checked as roff source"
    sed 's/\\-/-/g; s/\\f[BIRP]//g' "$page" >"$tmp/page.txt"
fi
cmds=$("$B/badak" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
    on && /^  [a-z]/ { print $1 }')
for c in $cmds; do
    grep -q "^ *$c" "$tmp/page.txt" || bad "badak(1) lacks the command '$c'"
done
nopt=0
for c in $(grep -vx -e help -e version <<<"$cmds"); do
    grep -q "^BADAK ${c^^}" "$tmp/page.txt" || bad "badak(1) has no section BADAK ${c^^}"
    for o in $("$B/badak" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
        nopt=$((nopt + 1))
        grep -qF -- "$o" "$tmp/page.txt" || bad "badak(1) lacks '$c $o'"
    done
done
[ "$nopt" -gt 100 ] && ok || bad "only $nopt options found in the --help texts"

# ---- install into a prefix; build every example and README snippet with
# pkg-config, shared and static
prefix=$tmp/prefix
expect 0 "" -- mk install PREFIX="$prefix"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cflags=$(pkg-config --cflags badak)
libs=$(pkg-config --libs badak)
slibs=$(pkg-config --static --libs badak)
expect 0 "$version" -- pkg-config --modversion badak
expect 0 "" -- pkg-config --validate badak
# build NAME SRC: NAME.shared (libbadak.so.0) and NAME.static (libbadak.a
# linked in, its dependencies shared)
build() {
    local name=$1 src=$2
    # shellcheck disable=SC2086
    expect 0 "" -- "$CC" -std=c11 -O1 -Wall -Wextra -Werror "${san[@]}" -o "$tmp/$name.shared" \
        "$src" $cflags $libs
    # shellcheck disable=SC2086
    expect 0 "" -- "$CC" -std=c11 -O1 -Wall -Wextra -Werror "${san[@]}" -o "$tmp/$name.static" \
        "$src" $cflags -Wl,--as-needed -Wl,-Bstatic -lbadak -Wl,-Bdynamic $slibs
    if readelf -d "$tmp/$name.shared" | grep -q "NEEDED.*\[libbadak.so.$major\]"; then ok; else
        bad "$name.shared does not need libbadak.so.$major"
    fi
    if readelf -d "$tmp/$name.static" | grep -q 'NEEDED.*libbadak'; then
        bad "$name.static still needs libbadak.so"
    else ok; fi
}
# run NAME ARGS...: both builds, each must exit 0; the shared one finds the
# library through LD_LIBRARY_PATH only
run() {
    local name=$1
    shift
    expect 0 "" -- env LD_LIBRARY_PATH="$prefix/lib" "$tmp/$name.shared" "$@"
    expect 0 "" -- "$tmp/$name.static" "$@"
}
# without LD_LIBRARY_PATH the shared build must not start (it really is shared)
build version "$tmp/hdr.c"
run version
if env -u LD_LIBRARY_PATH "$tmp/version.shared" >/dev/null 2>&1; then
    bad "version.shared ran without the installed libbadak.so.$major on the path"
else ok; fi

for src in "$root"/examples/*.c; do
    name=$(basename "$src" .c)
    build "$name" "$src"
    case "$name" in
    csv_train) # three overlapping blobs; the saved model is read back by badak eval
        awk 'BEGIN { srand(7); for (i = 0; i < 600; i++) { c = i % 3
            printf "%.4f,%.4f,%.4f,%d\n", c * 0.6 + rand(), rand() * 2 - c, rand(), c } }' \
            >"$tmp/blobs.csv"
        run "$name" "$tmp/blobs.csv" "$tmp/blobs.safetensors" 60
        expect 0 "test accuracy" -- "$prefix/bin/badak" eval --model "$tmp/blobs.safetensors" \
            --csv "$tmp/blobs.csv"
        ;;
    cnn) # 3 s: the shared build only
        if [ "$QUICK" = 1 ] || [ ! -f "$MNIST/train-images-idx3-ubyte" ]; then
            echo "note: $name built, not run (needs MNIST; skipped under BADAK_QUICK)"
        else
            expect 0 "test accuracy" -- env LD_LIBRARY_PATH="$prefix/lib" "$tmp/$name.shared" \
                "$MNIST" 2000 1
        fi
        ;;
    mnist_min) # the README's program: one epoch reaches 0.9 (0.948 measured)
        if [ "$QUICK" = 1 ] || [ ! -f "$MNIST/train-images-idx3-ubyte" ]; then
            echo "note: $name built, not run (needs MNIST; skipped under BADAK_QUICK)"
        else
            out=$(env LD_LIBRARY_PATH="$prefix/lib" "$tmp/$name.shared" "$MNIST" 1 2>&1)
            acc=$(sed -n 's/^test accuracy \([0-9.]*\) after 1 epochs.*/\1/p' <<<"$out")
            if [ -n "$acc" ] && awk -v a="$acc" 'BEGIN { exit !(a >= 0.9) }'; then ok; else
                bad "mnist_min: expected a test accuracy >= 0.9 after 1 epoch: $out"
            fi
            expect 1 "mnist_min: " -- "$tmp/$name.static" "$tmp/no-such-folder" 1
        fi
        ;;
    mnist_train | transfer_mnist)
        if [ "$QUICK" = 1 ] || [ ! -f "$MNIST/train-images-idx3-ubyte" ]; then
            echo "note: $name built, not run (needs MNIST; skipped under BADAK_QUICK)"
        elif [ "$name" = mnist_train ]; then
            run "$name" "$MNIST" 1
        else # 8 s: the shared build only
            expect 0 "transfer - scratch" -- env LD_LIBRARY_PATH="$prefix/lib" \
                "$tmp/$name.shared" "$MNIST" mlp
        fi
        ;;
    custom_loop)
        if [ "$QUICK" = 1 ] || [ ! -f "$MNIST/train-images-idx3-ubyte" ]; then
            echo "note: $name built, not run (needs MNIST; skipped under BADAK_QUICK)"
        else
            run "$name" "$MNIST" 0.5
        fi
        ;;
    predict) echo "note: predict built; tests/cli_lib.sh runs it on a model it trains" ;;
    *) bad "examples/$name.c: no run line in tests/cli_pkg.sh" ;;
    esac
done

# README.md's ```c snippets: a snippet without main() is the body of one
# (its #include lines go above)
awk -v dir="$tmp" '/^```c$/ { on = 1; n++; next } /^```$/ { on = 0 }
    on { print > (dir "/readme" n ".txt") }' "$root/README.md"
nsnip=0
for s in "$tmp"/readme*.txt; do
    [ -e "$s" ] || continue
    nsnip=$((nsnip + 1))
    c=${s%.txt}.c
    if grep -q 'main(' "$s"; then
        cp "$s" "$c"
    else
        { grep '^#include' "$s"; echo 'int main(void)'; echo '{'
          grep -v '^#include' "$s"; echo '    return 0;'; echo '}'; } >"$c"
    fi
    # shellcheck disable=SC2086
    expect 0 "" -- "$CC" -std=c11 -Wall -Wextra -Werror -Wno-unused-variable \
        -Wno-unused-but-set-variable "${san[@]}" -o "${c%.c}" "$c" $cflags $libs
done
[ "$nsnip" -gt 0 ] && ok || bad "README.md has no \`\`\`c snippet"

echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
