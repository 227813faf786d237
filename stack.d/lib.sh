# shellcheck shell=bash disable=SC2034
# stack.d/lib.sh: the development stack's settings and helpers, sourced by
# ./stack and by every stack.d/*.sh (each of which also runs alone).
#
# Settings come from the environment, with the defaults below: SX_VAR_DIR
# (default ./var: a second stack from the same tree needs other ports too),
# SX_PORT (nginx, 8080), SX_DB_PORT (MariaDB TCP, 33306), SX_CONFIGURE_FLAGS
# (passed to ./configure), SX_API_WORKERS (twice the cores, at least 4),
# SX_KEY_CONN_LIMIT (32: one API key's requests in progress at once in the
# stack's nginx; production's nginx/sextant.conf has 2), SX_STACK_AGENT (1: run an
# agent), SX_LLM_PROVIDER, SX_LLM_BASE_URL, SX_LLM_MODEL, SX_LLM_KEY_ENV
# (written to the config only when set: the defaults are sextant's own, see
# the LLM presets in core/conf.c), SX_AGENT_USER (sextant: the user a
# root-run stack's agents switch to), SX_OUTBOUND_ALLOW (addresses or CIDR
# blocks added to the config's outbound_allow, e.g. a webhook receiver on
# the developer's machine), SX_FRONT (nginx, apache or fcgid: the web
# server on SX_PORT).  (SC2034: the settings are used by the
# scripts that source this file.)
[[ -n ${SX_STACK_LIB:-} ]] && return 0
SX_STACK_LIB=1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
STACKD=$ROOT/stack.d
VAR=${SX_VAR_DIR:-$ROOT/var}
RUN=$VAR/run
LOG=$VAR/log

SX_PORT=${SX_PORT:-8080}
SX_DB_PORT=${SX_DB_PORT:-33306}
SX_CONFIGURE_FLAGS=${SX_CONFIGURE_FLAGS:-}
# Twice the cores, at least 4: a worker spends much of a request waiting on
# MariaDB, so one per core leaves the cores idle, and more than two per core
# only adds switching (bench/README.md, "API").
SX_API_WORKERS=${SX_API_WORKERS:-$(( $(nproc) > 2 ? 2 * $(nproc) : 4 ))}
# 32: the load test and bench/api send 16 concurrent requests with one key.
# bench/tenant/run measures production's 2 (below api_workers).
SX_KEY_CONN_LIMIT=${SX_KEY_CONN_LIMIT:-32}
# `./stack test` runs agents of its own; the stack's agent would compete for
# the tests' tasks, so test sets this to 0.
SX_STACK_AGENT=${SX_STACK_AGENT:-1}
# The dedicated user the agents run as (config agent_user) when the stack
# runs as root: Chromium never runs as root.  `up` creates it as a system user.
SX_AGENT_USER=${SX_AGENT_USER:-sextant}

DB_DATADIR=$VAR/mysql
DB_SOCKET=$RUN/mysqld.sock
DB_PIDFILE=$RUN/mysqld.pid
DB_LOG=$LOG/mysqld.log
DB_NAME=sextant
DB_USER=sextant
DB_PWFILE=$VAR/db.password
ARTIFACT_KEYFILE=$VAR/artifact_url.key

CONF=$VAR/sextant.conf
API_BIN=$ROOT/sextant-api
ADMIN_BIN=$ROOT/sextant-admin
AGENT_BIN=$ROOT/sextant-agent
API_SOCKET=$RUN/api.sock
API_PIDFILE=$RUN/api.pid
API_LOG=$LOG/api.log
AGENT_PIDFILE=$RUN/agent.pid
AGENT_LOG=$LOG/agent.log
# The web server in front (README: "Apache as the front"): nginx, apache
# (mod_proxy_fcgi) or fcgid (mod_fcgid starting sextant-api itself).
SX_FRONT=${SX_FRONT:-nginx}
APACHE_CONF=$VAR/apache.conf
APACHE_PIDFILE=$RUN/apache.pid
APACHE_LOG=$LOG/apache-error.log
FCGID_DIR=$VAR/fcgid
NGINX_CONF=$VAR/nginx.conf
NGINX_PIDFILE=$RUN/nginx.pid
NGINX_LOG=$LOG/nginx-error.log

DEV_ENV=$VAR/dev.env
STACK_ENV=$VAR/stack.env
URL=http://127.0.0.1:$SX_PORT

export DEBIAN_FRONTEND=noninteractive

step() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# Prints the last lines of a log file to stderr, to explain a failure.
log_tail() {
	local file=$1 n=${2:-40}
	if [[ -s $file ]]; then
		printf -- '---- last %d lines of %s ----\n' "$n" "$file" >&2
		tail -n "$n" "$file" >&2
		printf -- '---- end of %s ----\n' "$file" >&2
	else
		printf 'stack: (%s is empty or missing)\n' "$file" >&2
	fi
}

# Runs a command with its output appended to a log; on failure shows the
# log's tail and dies with the message.  Usage: run_logged LOG MSG CMD...
run_logged() {
	local log=$1 msg=$2
	shift 2
	if ! "$@" >>"$log" 2>&1; then
		log_tail "$log" 80
		die "$msg (full log: $log)"
	fi
}

# Quotes a value for a POSIX shell file: 'it'\''s'.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# Writes stdin to a file with mode 600, atomically; rewrites only when the
# content changed, so that mtimes (used for restart decisions) stay honest.
# Returns 0 when the file changed, 1 when it was already up to date.
write_private() {
	local dst=$1 tmp
	tmp=$(mktemp "$dst.XXXXXX")
	chmod 600 "$tmp"
	cat >"$tmp"
	if [[ -f $dst ]] && cmp -s "$tmp" "$dst"; then
		rm -f "$tmp"
		return 1
	fi
	mv -f "$tmp" "$dst"
	return 0
}

# Prints the secret kept in file $1 ($2 random bytes as hex, mode 600),
# creating the file the first time; the secret is kept across runs of `up`.
secret_file() {
	local file=$1 bytes=$2 value
	if [[ ! -s $file ]]; then
		head -c "$bytes" /dev/urandom | od -An -tx1 | tr -d ' \n' |
			write_private "$file" || true
	fi
	chmod 600 "$file"
	value=$(cat "$file")
	[[ $value =~ ^[0-9a-f]{$((bytes * 2))}$ ]] ||
		die "$file does not hold $((bytes * 2)) hex digits; delete it and rerun"
	printf '%s' "$value"
}

# Returns 0 when process $1 exists and is not a zombie (a killed daemon
# stays a zombie until init, which may be slow to, reaps it).
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# Prints the pid recorded in a pid file if that process is alive and its
# command name is the expected one (guards against a recycled pid).
live_pid() {
	local pidfile=$1 comm=$2 pid name
	[[ -s $pidfile ]] || return 1
	pid=$(tr -dc '0-9' <"$pidfile")
	[[ -n $pid ]] || return 1
	alive "$pid" || return 1
	name=$(cat "/proc/$pid/comm" 2>/dev/null || true)
	[[ $name == "$comm"* ]] || return 1
	printf '%s\n' "$pid"
}

# Waits up to $2 tenths of a second for process $1 (or, with a leading "-",
# process group) to be gone.  Returns 1 if it is still there.
wait_gone() {
	local target=$1 tenths=$2 i
	for ((i = 0; i < tenths; i++)); do
		kill -0 -- "$target" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 -- "$target" 2>/dev/null
}

# Stops what is left of a component whose leader died: the processes of the
# process group named by the pid recorded in pidfile $2 (a leader started in
# a session of its own, by spawn or by nginx's daemon mode) whose command
# name matches the pattern $3.  Linux hands out no pid that still names a
# live process group, so the recorded pid cannot have been reused while such
# processes remain.  A killed nginx master leaves its workers holding the
# port, a killed supervisor may leave workers holding the socket: `up` calls
# this before starting the component again.  Usage: reap_orphans NAME PIDFILE REGEX
reap_orphans() {
	local name=$1 pidfile=$2 pattern=$3 pgid pids=() pid comm
	[[ -s $pidfile ]] || return 0
	pgid=$(tr -dc '0-9' <"$pidfile")
	[[ -n $pgid ]] || return 0
	alive "$pgid" && return 0
	while read -r pid comm; do
		[[ $pid != "$pgid" && $comm =~ $pattern ]] && pids+=("$pid")
	done < <(ps -e -o pid=,pgid=,comm= | awk -v g="$pgid" '$2 == g { print $1, $3 }')
	((${#pids[@]})) || return 0
	step "$name: its leader (pid $pgid) is gone, stopping ${#pids[@]} orphaned process(es): ${pids[*]}"
	kill -TERM "${pids[@]}" 2>/dev/null || true
	for pid in "${pids[@]}"; do
		wait_gone "$pid" 50 || kill -KILL "$pid" 2>/dev/null || true
	done
}

# Stops a process by pid file: TERM, wait up to $3 seconds, then KILL (the
# whole process group when the process leads one, so pre-forked children go
# too).  Removes the pid file.  A missing or stale pid file is not an error;
# the orphans of a dead leader whose command names match $5 (default: $4)
# are stopped then (reap_orphans).
stop_by_pidfile() {
	local name=$1 pidfile=$2 timeout=$3 comm=$4 pid pgid
	if ! pid=$(live_pid "$pidfile" "$comm"); then
		reap_orphans "$name" "$pidfile" "${5:-^$comm}"
		info "$name: not running"
		rm -f "$pidfile"
		return 0
	fi
	pgid=$(ps -o pgid= -p "$pid" | tr -d ' ' || true)
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_gone "$pid" $((timeout * 10)); then
		info "$name: still running after ${timeout}s, sending KILL"
		if [[ $pgid == "$pid" ]]; then
			kill -KILL -- "-$pid" 2>/dev/null || true
		else
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	# Children of a process-group leader (API workers) must be gone too
	# before the socket or the port can be reused.
	if [[ $pgid == "$pid" ]]; then
		wait_gone "-$pid" 50 || true
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
	info "$name: stopped (pid $pid)"
}

# Starts a daemon in its own session (so `down` can reach its whole process
# group and a terminal's ^C does not hit it), its output appended to a log,
# without the lock's fd 9.  Prints its pid.  Usage: spawn LOG CMD...
spawn() {
	local log=$1
	shift
	setsid "$@" </dev/null >>"$log" 2>&1 9>&- &
	printf '%s\n' "$!"
	disown
}

# Runs the command given as arguments with root privileges (sudo when not root).
as_root() {
	if [[ $(id -u) == 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo -n "$@" || die "needs root for: $* (sudo -n failed; run as root or configure sudo)"
	else
		die "needs root for: $*"
	fi
}

# Serializes concurrent invocations that change state.  The lock is fd 9;
# every daemon is started with 9>&- so that it does not inherit (and hold) the
# lock for its lifetime.  Taking it twice in one process is harmless.
take_lock() {
	[[ -n ${SX_STACK_LOCKED:-} ]] && return 0
	mkdir -p "$VAR"
	exec 9>"$VAR/stack.lock"
	flock -w 600 9 || die "another ./stack is running (lock $VAR/stack.lock)"
	SX_STACK_LOCKED=1
}
release_lock() { exec 9>&-; SX_STACK_LOCKED=; }

make_dirs() {
	mkdir -p "$VAR" "$RUN" "$LOG" "$VAR/nginx" "$VAR/artifacts"
	# var/ is private (700), but nginx workers may run unprivileged: they
	# need to traverse var/ and var/run to reach the API socket and to read
	# var/artifacts.  x without r lets them pass through, not list.
	chmod 711 "$VAR"
	chmod 711 "$RUN"
	chmod 755 "$VAR/artifacts"
	# The agents write artifacts as SX_AGENT_USER when the stack runs as root.
	if [[ $(id -u) == 0 ]] && id -u "$SX_AGENT_USER" >/dev/null 2>&1; then
		chown -R "$SX_AGENT_USER:" "$VAR/artifacts"
	fi
}

# The agent_user of the stack's config: SX_AGENT_USER when the stack runs as
# root, else none (the agents run as the user running the stack).
stack_agent_user() {
	[[ $(id -u) == 0 ]] && printf '%s' "$SX_AGENT_USER"
	return 0
}

# The sextant-admin of this tree, on the stack's config.
admin() { "$ADMIN_BIN" --config "$CONF" "$@"; }

# Runs "$@" (a script's main) when the script was executed rather than
# sourced.  Usage, last line of a script: run_main "${BASH_SOURCE[0]}" main "$@"
run_main() {
	local src=$1
	shift
	[[ $src == "$0" ]] || return 0
	"$@"
}
