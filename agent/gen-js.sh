#!/bin/sh
# gen-js.sh NAME OUT.c IN.js [IN.js...]
#
# Turns JavaScript files, joined in order, into a C file defining
# `const char NAME[]` with their text, so the page scripts ship inside the
# binary and cannot drift from it (walk.js is joined to both scrape.js and
# locate.js, so both number frames with the same tree walk).  Backslashes, double quotes, tabs and carriage returns are escaped;
# every '?' becomes "\?" so no "??x" trigraph can form under -std=c11.  The
# extern declaration comes first so strict warning sets (clang's
# -Wmissing-variable-declarations) accept the definition.  A last line
# without a newline gets one.  Output is written to a temporary file and renamed,
# so an interrupted build never leaves a half-written OUT.c behind.
set -eu

if [ "$#" -lt 3 ]; then
	echo "usage: $0 NAME OUT.c IN.js [IN.js...]" >&2
	exit 2
fi
name=$1
out=$2
shift 2

case $name in
	[A-Za-z_]*) ;;
	*) echo "$0: bad C identifier: $name" >&2; exit 2 ;;
esac
case $name in
	*[!A-Za-z0-9_]*) echo "$0: bad C identifier: $name" >&2; exit 2 ;;
esac

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT

LC_ALL=C awk -v name="$name" -v src="$*" '
BEGIN {
	printf "/* Generated from %s by gen-js.sh; do not edit. */\n", src
	# The whole script is one literal, longer than ISO C minimum limits.
	printf "#pragma GCC diagnostic ignored \"-Woverlength-strings\"\n"
	printf "extern const char %s[];\n", name
	printf "const char %s[] =\n", name
	n = 0
}
{
	s = $0
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	gsub(/\t/, "\\t", s)
	gsub(/\r/, "\\r", s)
	gsub(/\?/, "\\?", s)
	printf "\t\"%s\\n\"\n", s
	n++
}
END {
	if (n == 0)
		printf "\t\"\"\n"
	printf ";\n"
}' "$@" >"$tmp"

mv "$tmp" "$out"
trap - EXIT
