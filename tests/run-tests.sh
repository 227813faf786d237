#!/bin/sh
# Runs the Criterion test programs and the fuzz targets and prints one
# closing line, "N passed, N failed", summed over all of them.  A program
# that dies before printing its synthesis counts as one failure.  Usage:
#   run-tests.sh --unit PROG… --integration PROG… --fuzz TARGET…
# Integration programs run one test at a time (-j1); each program is bounded
# by SX_TEST_TIMEOUT seconds (default 900).  Each fuzz target counts as one
# test: it runs for SX_FUZZ_SECONDS (default 20) over a temporary copy of
# tests/fuzz/corpus/<target>/ (growth is not kept) plus
# tests/fuzz/regressions/<target>/, and passes when nothing crashed.
set -u
mode=unit
passed=0
failed=0
timeout_s=${SX_TEST_TIMEOUT:-900}
logdir=${SX_TEST_LOGDIR:-tests/logs}
mkdir -p "$logdir"
failed_progs=""
fuzz_seconds=${SX_FUZZ_SECONDS:-20}
fuzz_dir=$(dirname "$0")/fuzz

# Runs one libFuzzer target (a path like tests/fuzz/fuzz_conf).
run_fuzz() {
	prog=$1
	name=$(basename "$prog")
	target=${name#fuzz_}
	log="$logdir/$name.log"
	printf '== %s\n' "$name"
	if [ ! -x "./$prog" ]; then
		echo "   $name: not built: clang with libFuzzer is missing" \
			"(Debian: clang libclang-rt-14-dev); configure finds it, make fuzz builds it"
		failed=$((failed + 1))
		failed_progs="$failed_progs $name"
		return
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/sx-fuzz-$target.XXXXXX")
	cp "$fuzz_dir/corpus/$target/"* "$work/" 2>/dev/null
	set -- "$work"
	[ -d "$fuzz_dir/regressions/$target" ] && set -- "$@" "$fuzz_dir/regressions/$target"
	timeout -k 10 $((fuzz_seconds + 120)) "./$prog" -max_total_time="$fuzz_seconds" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$logdir/$name-" "$@" >"$log" 2>&1
	status=$?
	rm -rf "$work"
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ "$status" -eq 0 ]; then
		passed=$((passed + 1))
		printf '   %s: %s runs in %ss, no crash\n' "$name" "${runs:-?}" "$fuzz_seconds"
		return
	fi
	grep -a -E 'ERROR:|runtime error|fuzz invariant|SUMMARY|Test unit written' "$log" | head -n 20
	echo "   $name: crashed (exit $status, log $log); the input is saved as $logdir/$name-*:" \
		"fix the bug, then keep the input in tests/fuzz/regressions/$target/"
	failed=$((failed + 1))
	failed_progs="$failed_progs $name"
}

for arg in "$@"; do
	case $arg in
	--unit) mode=unit; continue ;;
	--integration) mode=integration; continue ;;
	--fuzz) mode=fuzz; continue ;;
	esac
	if [ "$mode" = fuzz ]; then
		run_fuzz "$arg"
		continue
	fi
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
