#!/usr/bin/env bash
# manpage.sh BADAK TEMPLATE — write badak(1) to stdout: TEMPLATE (man/badak.1.in)
# with @VERSION@ replaced and @COMMANDS@ replaced by the command list of
# `badak --help` and, for each command, its `badak CMD --help` text turned into
# roff, so the page always documents every command and option of the binary
# it was made from. The help texts follow one layout (tests/cli_pkg.sh checks
# that every option of every command reaches the page):
#   Usage: badak CMD ...          (more usage lines indented to "badak")
#   Heading:                      a line of its own ending in ':'
#     --opt ARG      text         an option, its text from the 2nd run of 2+ spaces
#                    more text    continuation (indented 20+)
#                    a  b         ... with inner runs of spaces: a small table
#   plain text                    a paragraph; indented text is a literal example
set -euo pipefail
badak=$1
template=$2
version=$("$badak" version | sed -n 's/^badak //p')
[ -n "$version" ] || { echo "manpage.sh: '$badak version' printed no version" >&2; exit 1; }

# roff for one help text on stdin; $1 is the command's name
help2roff() {
    awk -v cmd="$1" '
    function esc(s) {
        gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s)
        return s
    }
    function line(s) { # a text line; a leading . or quote would be a request
        if (s ~ /^[.\x27]/) s = "\\&" s
        print s
    }
    # option term: the option names bold, their arguments italic
    function term(s,    n, w, i, out, t) {
        n = split(s, w, " ")
        out = ""
        for (i = 1; i <= n; i++) {
            t = esc(w[i])
            out = out (i > 1 ? " " : "") (w[i] ~ /^-/ ? "\\fB" t "\\fR" : "\\fI" t "\\fR")
        }
        return out
    }
    function endnf() { if (nf) { print ".fi"; nf = 0 } }
    function endex() { if (ex) { print ".fi"; print ".RE"; ex = 0 } }
    NR == 1 && /^Usage: / {
        print ".SH \"BADAK " toupper(cmd) "\""
        print ".nf"
        sub(/^Usage: /, ""); line("\\fB" esc($0) "\\fR")
        usage = 1; next
    }
    usage && /^       badak / { sub(/^ +/, ""); line("\\fB" esc($0) "\\fR"); next }
    usage { print ".fi"; usage = 0 }
    /^$/ { endnf(); endex(); item = 0; para = 1; next }
    /^[A-Z][^ ]*( [^ ]+)*:$/ && length($0) < 50 {
        endnf(); endex(); item = 0; para = 0
        print ".PP"; line("\\fB" esc($0) "\\fR"); next
    }
    /^  -/ {
        endnf(); endex()
        rest = substr($0, 3)
        p = index(rest, "  ")
        if (p > 0) {
            t = substr(rest, 1, p - 1); d = rest; sub(/^[^ ]+( [^ ]+)* +/, "", d)
            print ".TP"; print term(t); line(esc(d)); item = 1; para = 0; next
        }
        if (!item) { # an example command line in the text
            if (para) { print ".PP"; para = 0 }
            print ".RS"; print ".nf"; ex = 1; line(esc(rest)); next
        }
    }
    item && /^                    / {
        s = $0; sub(/^ +/, "", s)
        ind = match($0, /[^ ]/) - 1
        if (s ~ /  / || ind > 24 || nf) {
            if (s !~ /  / && ind <= 24) { endnf(); line(esc(s)); next }
            if (!nf) { print ".nf"; nf = 1 }
            pad = ""; for (i = 24; i < ind; i++) pad = pad " "
            line(esc(pad s)); next
        }
        line(esc(s)); next
    }
    /^  / {
        if (ex) { line(esc(substr($0, 3))); next }
        endnf(); item = 0
        if (para) { print ".PP"; para = 0 }
        print ".RS"; print ".nf"; ex = 1; line(esc(substr($0, 3))); next
    }
    {
        endnf(); endex(); item = 0
        if (para) { print ".PP"; para = 0 }
        line(esc($0))
    }
    END { endnf(); endex(); if (usage) print ".fi" }'
}

# the command list of badak --help (skipping help and version, which are
# described in the template)
commands=$("$badak" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
    on && /^  [a-z]/ { print $1 }' | grep -vx -e help -e version)
[ -n "$commands" ] || { echo "manpage.sh: no commands in '$badak --help'" >&2; exit 1; }

section=$(mktemp)
trap 'rm -f "$section"' EXIT
{
    echo ".SH COMMANDS"
    "$badak" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
        on && /^  [a-z]/ { n = $1; sub(/^  [a-z]+ +/, ""); gsub(/-/, "\\-")
                           print ".TP"; print "\\fB" n "\\fR"; print }'
    for c in $commands; do
        "$badak" "$c" --help | help2roff "$c"
    done
} >"$section"

awk -v version="$version" -v section="$section" '
    /^@COMMANDS@$/ { while ((getline l < section) > 0) print l; next }
    { gsub(/@VERSION@/, version); print }' "$template"
