#!/usr/bin/env bash
# stack.d/build.sh: builds the tree with SX_CONFIGURE_FLAGS.  The flags of the
# last ./configure are remembered in .configure-flags; when they change, the
# tree is reconfigured and rebuilt from clean (automake does not track
# CFLAGS, and objects built with, say, ASan must not be linked with others).
# Alone: stack.d/build.sh
set -euo pipefail
# shellcheck source=stack.d/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Runs ./configure when $1 is 1 (configure was just generated), there is no
# configured tree, or the flags changed.
build_configure() {
	local force=$1 flags_file=$ROOT/.configure-flags old_flags="" had_build=0
	[[ -f $flags_file ]] && old_flags=$(cat "$flags_file")
	[[ -f Makefile ]] && had_build=1
	if ((!force)) && [[ -f config.status && -f $flags_file && $old_flags == "$SX_CONFIGURE_FLAGS" ]]; then
		return 0
	fi
	step "build: ./configure ${SX_CONFIGURE_FLAGS}"
	rm -f "$flags_file"
	# Word splitting of the flags is intended.
	# shellcheck disable=SC2086
	run_logged "$LOG/build.log" "./configure failed" ./configure $SX_CONFIGURE_FLAGS
	if ((had_build)) && [[ $old_flags != "$SX_CONFIGURE_FLAGS" ]]; then
		make clean >>"$LOG/build.log" 2>&1 || true
	fi
	printf '%s' "$SX_CONFIGURE_FLAGS" >"$flags_file"
}

build() {
	local generated=0
	cd "$ROOT"
	mkdir -p "$LOG"
	if [[ ! -x configure ]]; then
		step "build: ./autogen.sh"
		: >"$LOG/build.log"
		run_logged "$LOG/build.log" "./autogen.sh failed" ./autogen.sh
		generated=1
	fi
	build_configure "$generated"
	step "build: make -j$(nproc)"
	run_logged "$LOG/build.log" "make failed" make -j"$(nproc)"
	[[ -x $API_BIN ]] || die "make succeeded but $API_BIN was not built"
	[[ -x $ADMIN_BIN ]] || die "make succeeded but $ADMIN_BIN was not built"
	info "built (log: $LOG/build.log)"
}

run_main "${BASH_SOURCE[0]}" build
