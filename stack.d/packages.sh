#!/usr/bin/env bash
# stack.d/packages.sh: installs the Debian 12 packages the stack needs that
# are missing (as root, or through sudo -n), without starting any of their
# system services.  Alone: stack.d/packages.sh
set -euo pipefail
# shellcheck source=stack.d/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(build-essential autoconf automake libtool pkg-config libfcgi-dev
	libjson-c-dev libcurl4-openssl-dev libmariadb-dev libssl-dev
	libcriterion-dev mariadb-server mariadb-client nginx-light chromium
	chromium-driver wrk curl python3 ffmpeg tinyproxy clang libclang-rt-14-dev
	apache2-bin libapache2-mod-fcgid libapache2-mod-xsendfile)

PRC=/usr/sbin/policy-rc.d
PRC_CREATED=0
remove_policy_rc() {
	if [[ $PRC_CREATED == 1 ]]; then
		as_root rm -f "$PRC"
		PRC_CREATED=0
	fi
}

# Installing mariadb-server and nginx would start their system services;
# policy-rc.d exiting 101 tells invoke-rc.d (and deb-systemd-invoke) to leave
# every service alone.  Only a file we created is removed again.
block_services() {
	[[ -e $PRC ]] && return 0
	printf '#!/bin/sh\n# written by sextant ./stack during apt-get install\nexit 101\n' |
		as_root tee "$PRC" >/dev/null
	as_root chmod 755 "$PRC"
	PRC_CREATED=1
	trap remove_policy_rc EXIT
}

packages_install() {
	local missing=() p status
	for p in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[[ $status == "install ok installed" ]] || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		step "packages: all ${#PACKAGES[@]} present"
		return 0
	fi
	step "packages: installing ${missing[*]}"
	command -v apt-get >/dev/null || die "apt-get not found: Sextant's stack needs Debian 12"
	block_services
	mkdir -p "$LOG"
	: >"$LOG/apt.log"
	run_logged "$LOG/apt.log" "apt-get update failed" as_root apt-get update
	if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" >>"$LOG/apt.log" 2>&1; then
		log_tail "$LOG/apt.log"
		remove_policy_rc
		die "apt-get install failed (full log: $LOG/apt.log)"
	fi
	remove_policy_rc
	info "installed (log: $LOG/apt.log)"
}

# As root, makes SX_AGENT_USER a system user (no home, no login shell) when
# it does not exist: the stack's agents and the tests' switch to it.
agent_user_ensure() {
	[[ $(id -u) == 0 ]] || return 0
	id -u "$SX_AGENT_USER" >/dev/null 2>&1 && return 0
	step "user: creating the system user $SX_AGENT_USER for the agents (Chromium never runs as root)"
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$SX_AGENT_USER" || die "useradd $SX_AGENT_USER failed"
}

packages_main() {
	packages_install
	agent_user_ensure
}

run_main "${BASH_SOURCE[0]}" packages_main
