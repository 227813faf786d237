# shellcheck shell=bash
# What .ci/run and .ci/hosting share: reading and adding up the plain
# `N passed, N failed` lines that make check and the CI scripts end with.
# Sourced; it defines functions only.

# Prints the last `N passed, N failed` line of the file $1, or nothing.
ci_summary() {
	grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1 || true
}

# Adds the counts of the summary line $1 to the caller's passed and failed.
ci_add_counts() {
	local line=$1
	passed=$((passed + ${line%% passed,*}))
	line=${line#*passed, }
	failed=$((failed + ${line%% failed}))
}
