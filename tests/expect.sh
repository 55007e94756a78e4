# expect.sh — sourced by the tests/cli_*.sh scripts: pass/fail counting and
# `expect CODE "substring" -- command...` (the caller sets pass=0 fail=0).
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
