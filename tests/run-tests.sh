#!/bin/sh
# Runs the Criterion test programs and prints one closing line,
# "N passed, N failed", summed over all of them.  A program that dies before
# printing its synthesis counts as one failure.  Usage:
#   run-tests.sh --unit PROG… --integration PROG…
# Integration programs run one test at a time (-j1); each program is bounded
# by SX_TEST_TIMEOUT seconds (default 900).
set -u
mode=unit
passed=0
failed=0
timeout_s=${SX_TEST_TIMEOUT:-900}
logdir=${SX_TEST_LOGDIR:-tests/logs}
mkdir -p "$logdir"
failed_progs=""

for arg in "$@"; do
	case $arg in
	--unit) mode=unit; continue ;;
	--integration) mode=integration; continue ;;
	esac
	name=$(basename "$arg")
	log="$logdir/$name.log"
	if [ "$mode" = integration ]; then jobs="-j1"; else jobs=""; fi
	printf '== %s\n' "$name"
	timeout -k 10 "$timeout_s" "./$arg" $jobs >"$log" 2>&1
	status=$?
	synth=$(grep -a 'Synthesis:' "$log" | tail -n 1)
	if [ -z "$synth" ]; then
		cat "$log"
		echo "   $name: exited $status without a synthesis"
		failed=$((failed + 1))
		failed_progs="$failed_progs $name"
		continue
	fi
	p=$(printf '%s\n' "$synth" | sed -n 's/.*Passing: *\([0-9]*\).*/\1/p')
	f=$(printf '%s\n' "$synth" | sed -n 's/.*Failing: *\([0-9]*\).*/\1/p')
	c=$(printf '%s\n' "$synth" | sed -n 's/.*Crashing: *\([0-9]*\).*/\1/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	# Criterion counts a crash among the failures already; keep it visible.
	# A sanitizer report does not fail a Criterion test by itself: count it.
	sanitizer=0
	if grep -a -q -E 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$log"; then
		sanitizer=1
		f=$(( ${f:-0} + 1 ))
		failed=$((failed + 1))
	fi
	if [ "${f:-0}" -gt 0 ] || [ "${c:-0}" -gt 0 ] || [ "$status" -ne 0 ]; then
		grep -a -E '\[(FAIL|----)\]|CRASH|ERROR|Assertion|runtime error|Sanitizer' "$log" | head -n 40
		[ "$sanitizer" -eq 1 ] && echo "   $name: sanitizer report (see $log)"
		[ "${f:-0}" -eq 0 ] && failed=$((failed + 1))
		failed_progs="$failed_progs $name"
	fi
	printf '   %s\n' "$synth"
done

[ -n "$failed_progs" ] && echo "failing programs:$failed_progs (logs in $logdir/)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
