#!/bin/sh
# bench/sdk/run.sh RUN.PY-ARGS…: bench/sdk/run.py on a stack of its own.
#
# Brings up a stack under var/sdk-bench on ports of its own (SX_PORT 8290
# and SX_DB_PORT 33490 unless set; no agent of the stack's: run.py starts
# one pointed at the LLM test double), runs run.py with the arguments given
# (--skyvern DIR, --skyvern-old DIR, --ts DIR; see bench/README.md), and
# takes that stack down again.  SX_CONFIGURE_FLAGS is passed on as it is:
# keep the one the tree was built with, or the stack rebuilds.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
SX_VAR_DIR=${SX_SDK_VAR_DIR:-$root/var/sdk-bench}
SX_PORT=${SX_PORT:-8290}
SX_DB_PORT=${SX_DB_PORT:-33490}
SX_STACK_AGENT=0
export SX_VAR_DIR SX_PORT SX_DB_PORT SX_STACK_AGENT
mkdir -p "$SX_VAR_DIR"
"$root/stack" up >"$SX_VAR_DIR/stack-up.log" 2>&1 || {
	tail -n 20 "$SX_VAR_DIR/stack-up.log" >&2
	exit 1
}
status=0
python3 "$root/bench/sdk/run.py" "$@" || status=$?
"$root/stack" down >"$SX_VAR_DIR/stack-down.log" 2>&1 || true
exit $status
