#!/usr/bin/env bash
# cli_apidoc.sh — every public function of include/badak.h is documented
# the SQLite way (docs/api.md, "Per-function comments"): the comment above
# its declaration, or above the group of declarations it is written in (no
# blank line or other comment between them), states what it does and holds
# the two labelled statements
#   Errors: the bd_status values it returns (a function returning bd_status
#           names at least one BD_ERR_*), or "none" and what it does with bad
#           input for a function that cannot fail;
#   Thread-safety: whether several threads may call it at once, and on what.
# Fails naming each function whose comment lacks one of them, and when the
# parse misses a function gcc sees in the header (gcc -aux-info), so a
# declaration cannot escape the check by its layout. BADAK_APIDOC_HEADER
# checks another copy of the header (the test of this test).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
hdr=${BADAK_APIDOC_HEADER:-$root/include/badak.h}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

echo "== api doc tests ($hdr)"

# check HEADER: one "FAIL ..." line per function at fault, then the names
# of every function parsed ("seen NAME")
check() {
    perl -e '
    my ($doc, $incomment, $text, $decl, $group_status, @group) = (undef, 0, "", "", 0);
    sub verdict {
        my ($name, $ret) = @_;
        if (!defined $doc) { print "FAIL $name: no comment above its declaration\n"; return; }
        my $e = $doc =~ /Errors:\s*(\S.*?)(?=Thread-safety:|\z)/s ? $1 : undef;
        my $t = $doc =~ /Thread-safety:\s*(\S)/ ? $1 : undef;
        print "FAIL $name: its comment has no \"Errors:\" statement\n" unless defined $e;
        print "FAIL $name: its comment has no \"Thread-safety:\" statement\n" unless defined $t;
        print "FAIL $name: returns bd_status but \"Errors:\" names no BD_ERR_* value\n"
            if defined $e && $ret =~ /\bbd_status\b/ && $e !~ /BD_ERR_[A-Z]+/;
    }
    while (my $l = <>) {
        if ($incomment) {
            $text .= $l;
            if ($l =~ /\*\//) { $incomment = 0; $doc = $text; }
            next;
        }
        if ($l =~ /^\/\*/) {            # a comment block at the left margin
            $text = $l;
            if ($l =~ /\*\//) { $doc = $text; } else { $incomment = 1; }
            next;
        }
        if ($l =~ /^\s*$/) { $doc = undef; next; }   # a blank line ends a group
        if ($decl ne "" || $l =~ /^BD_API\b/) {      # a declaration, maybe on several lines
            $decl .= $l;
            next unless $decl =~ /;/;
            my $d = $decl;
            $decl = "";
            $d =~ s/\/\*.*?\*\///gs;
            if ($d =~ /^BD_API\s+(.*?)\b(bd_[A-Za-z0-9_]+)\s*\(/s) {
                my ($ret, $name) = ($1, $2);
                print "seen $name\n";
                verdict($name, $ret);
            }
            next;
        }
        next if $l =~ /^\s/;           # continuation, struct fields
        $doc = undef;                  # typedef, #define, anything else ends a group
    }' "$1"
}

# ---- the header itself
check "$hdr" >"$tmp/out"
grep '^FAIL' "$tmp/out" | sed 's/^FAIL /badak.h: /' >"$tmp/fails"
if [ -s "$tmp/fails" ]; then
    bad "$(wc -l <"$tmp/fails") undocumented statements (give each function's comment an" \
        "\"Errors:\" and a \"Thread-safety:\" statement: badak.h's conventions, docs/api.md):" \
        $'\n'"$(cat "$tmp/fails")"
else ok; fi
# every extern function gcc finds in the header was parsed (and so checked)
printf '#include <badak.h>\n' >"$tmp/h.c"
gcc -std=c11 -I"$(dirname "$hdr")" -aux-info "$tmp/aux.txt" -fsyntax-only "$tmp/h.c" 2>/dev/null
grep -F "$(basename "$hdr"):" "$tmp/aux.txt" | grep ' \*/ extern ' |
    sed -n 's/.*[ *]\(bd_[A-Za-z0-9_]*\) (.*/\1/p' | sort -u >"$tmp/declared"
sed -n 's/^seen //p' "$tmp/out" | sort -u >"$tmp/seen"
n=$(wc -l <"$tmp/declared")
[ "$n" -ge 200 ] && ok || bad "gcc -aux-info found only $n functions in $hdr"
missed=$(comm -23 "$tmp/declared" "$tmp/seen")
[ -z "$missed" ] && ok || bad "functions of badak.h the comment check did not parse:"$'\n'"$missed"

# ---- the check itself can fail: in a copy, unlabel the "Thread-safety:" of
# bd_net_build's comment and the "Errors:" of bd_mnist_load's, and the check
# names those two functions, and only them more
if [ -z "${BADAK_APIDOC_HEADER:-}" ]; then
    mkdir -p "$tmp/inc"
    # within the one comment block right above the declaration
    mutate() { # LABEL NEW FUNCTION
        perl -0pe "s{(/\\*(?:(?!\\*/).)*?)$1((?:(?!\\*/).)*\\*/\n(?:BD_API[^\n]*\n(?:[ \\t][^\n]*\n)*)*BD_API[^\n]*\\b$3\\b)}{\${1}$2\${2}}s"
    }
    mutate "Thread-safety:" "Threads are fine." bd_net_build <"$hdr" |
        mutate "Errors:" "Fails with" bd_mnist_load >"$tmp/inc/badak.h"
    cmp -s "$hdr" "$tmp/inc/badak.h" && bad "the mutation changed nothing"
    check "$tmp/inc/badak.h" >"$tmp/mut"
    grep -q '^FAIL bd_net_build: its comment has no "Thread-safety:"' "$tmp/mut" && ok ||
        bad "without its Thread-safety label, bd_net_build passed:"$'\n'"$(grep FAIL "$tmp/mut")"
    grep -q '^FAIL bd_mnist_load: its comment has no "Errors:"' "$tmp/mut" && ok ||
        bad "without its Errors label, bd_mnist_load passed:"$'\n'"$(grep FAIL "$tmp/mut")"
    [ "$(grep -c '^FAIL' "$tmp/mut")" -eq $(($(grep -c '^FAIL' "$tmp/out") + 2)) ] && ok ||
        bad "the mutated header should fail exactly twice more:"$'\n'"$(grep FAIL "$tmp/mut")"
    # a bd_status function whose Errors name no BD_ERR_* value
    perl -0pe 's{(/\*(?:(?!\*/).)*?Errors:)(?:(?!\*/|Thread-safety:).)*((?:(?!\*/).)*\*/\nBD_API bd_status bd_optim_set_lr\b)}{$1 none. $2}s' \
        "$hdr" >"$tmp/inc/badak.h"
    check "$tmp/inc/badak.h" | grep -q '^FAIL bd_optim_set_lr: returns bd_status but' && ok ||
        bad "\"Errors: none\" on bd_optim_set_lr (returns bd_status) passed"
fi

echo "cli tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
