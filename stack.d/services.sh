#!/usr/bin/env bash
# stack.d/services.sh: starts and stops the stack's own processes, each in its
# own session with a pid file under var/run: sextant-api (on var/run/api.sock),
# the front on 127.0.0.1:SX_PORT (nginx, or Apache when SX_FRONT is apache or
# fcgid) and sextant-agent.  A start restarts a process
# whose binary or config is newer than its pid file.  The configs must have
# been written (stack.d/config.sh).
# Alone: stack.d/services.sh start|stop api|nginx|apache|agent
set -euo pipefail
# shellcheck source=stack.d/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Returns 0 when process $1 (pid file $2, binary $3) runs with its current
# binary and config; otherwise stops it (when running) and returns 1.
service_current() {
	local name=$1 pidfile=$2 bin=$3 timeout=$4 pid
	pid=$(live_pid "$pidfile" "$name") || return 1
	if [[ $bin -nt $pidfile || $CONF -nt $pidfile ]]; then
		step "$name: binary or config changed, restarting"
		stop_by_pidfile "$name" "$pidfile" "$timeout" "$name"
		return 1
	fi
	return 0
}

api_start() {
	local pid i
	if service_current sextant-api "$API_PIDFILE" "$API_BIN" 15; then
		pid=$(live_pid "$API_PIDFILE" sextant-api)
		if [[ -S $API_SOCKET ]]; then
			step "sextant-api: already running (pid $pid)"
			return 0
		fi
		step "sextant-api: running (pid $pid) but $API_SOCKET is missing, restarting"
		api_stop
	fi
	reap_orphans sextant-api "$API_PIDFILE" '^sextant-api$'
	step "sextant-api: starting on $API_SOCKET"
	rm -f "$API_SOCKET" "$API_PIDFILE"
	pid=$(spawn "$API_LOG" "$API_BIN" --config "$CONF")
	printf '%s\n' "$pid" >"$API_PIDFILE"
	for ((i = 0; i < 300; i++)); do
		[[ -S $API_SOCKET ]] && break
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$API_PIDFILE"
			log_tail "$API_LOG"
			die "sextant-api exited during start-up"
		fi
		sleep 0.1
	done
	if [[ ! -S $API_SOCKET ]]; then
		log_tail "$API_LOG"
		die "sextant-api did not create $API_SOCKET within 30 s"
	fi
	info "sextant-api: up (pid $pid, log $API_LOG)"
}

api_stop() { stop_by_pidfile sextant-api "$API_PIDFILE" 15 sextant-api; rm -f "$API_SOCKET"; }

# The command names of the agent's process group: workers, chromedrivers, browsers.
AGENT_FAMILY='^(sextant-agent|chromedriver|chromium|chrome)'

agent_start() {
	local pid
	if service_current sextant-agent "$AGENT_PIDFILE" "$AGENT_BIN" 30; then
		step "sextant-agent: already running (pid $(live_pid "$AGENT_PIDFILE" sextant-agent))"
		return 0
	fi
	# Its workers, chromedrivers and browsers.
	reap_orphans sextant-agent "$AGENT_PIDFILE" "$AGENT_FAMILY"
	step "sextant-agent: starting"
	rm -f "$AGENT_PIDFILE"
	pid=$(spawn "$AGENT_LOG" "$AGENT_BIN" --config "$CONF")
	printf '%s\n' "$pid" >"$AGENT_PIDFILE"
	sleep 0.5
	if ! kill -0 "$pid" 2>/dev/null; then
		rm -f "$AGENT_PIDFILE"
		log_tail "$AGENT_LOG"
		die "sextant-agent exited during start-up"
	fi
	info "sextant-agent: up (pid $pid, log $AGENT_LOG)"
}

# The agent hands its tasks back on TERM; give it time to close browsers.
agent_stop() { stop_by_pidfile sextant-agent "$AGENT_PIDFILE" 30 sextant-agent "$AGENT_FAMILY"; }

# Starts nginx, or reloads it when config_nginx set NGINX_CHANGED=1, and
# waits until it answers.
nginx_start() {
	local pid i code=""
	if pid=$(live_pid "$NGINX_PIDFILE" nginx); then
		if ((${NGINX_CHANGED:-1})); then
			step "nginx: config changed, reloading (pid $pid)"
			kill -HUP "$pid"
			sleep 0.5
		else
			step "nginx: already running (pid $pid)"
		fi
	else
		# A killed master leaves its workers listening on the port.
		reap_orphans nginx "$NGINX_PIDFILE" '^nginx$'
		step "nginx: starting on 127.0.0.1:$SX_PORT"
		rm -f "$NGINX_PIDFILE"
		if ! nginx -c "$NGINX_CONF" -p "$VAR/" </dev/null >>"$NGINX_LOG" 2>&1 9>&-; then
			log_tail "$NGINX_LOG"
			die "nginx failed to start (is port $SX_PORT in use? set SX_PORT)"
		fi
	fi
	for ((i = 0; i < 150; i++)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/healthz" || true)
		[[ -n $code && $code != 000 ]] && break
		sleep 0.1
	done
	if [[ -z $code || $code == 000 ]]; then
		log_tail "$NGINX_LOG"
		die "nginx does not answer on $URL within 15 s"
	fi
	pid=$(live_pid "$NGINX_PIDFILE" nginx) || die "nginx answers on $URL but $NGINX_PIDFILE names no nginx: is another server on port $SX_PORT?"
	info "nginx: up (pid $pid, $URL)"
}

nginx_stop() { stop_by_pidfile nginx "$NGINX_PIDFILE" 10 nginx; }

# Waits until the front answers on $URL (any HTTP status); dies with the log
# $1's tail otherwise.
front_wait() {
	local log=$1 i code=""
	for ((i = 0; i < 150; i++)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/healthz" || true)
		[[ -n $code && $code != 000 ]] && return 0
		sleep 0.1
	done
	log_tail "$log"
	die "the front does not answer on $URL within 15 s"
}

# SX_FRONT=apache or fcgid: starts Apache (apache2-bin, var/apache.conf), or
# restarts it gracefully when config_apache set APACHE_CHANGED=1.
apache_start() {
	local pid
	if pid=$(live_pid "$APACHE_PIDFILE" apache2); then
		if ((${APACHE_CHANGED:-1})); then
			step "apache: config changed, graceful restart (pid $pid)"
			/usr/sbin/apache2 -f "$APACHE_CONF" -k graceful 9>&- || die "apache2 -k graceful failed"
			sleep 0.5
		else
			step "apache: already running (pid $pid)"
		fi
	else
		reap_orphans apache "$APACHE_PIDFILE" '^(apache2|sextant-api)$'
		step "apache ($SX_FRONT): starting on 127.0.0.1:$SX_PORT"
		rm -f "$APACHE_PIDFILE"
		if ! /usr/sbin/apache2 -f "$APACHE_CONF" -k start </dev/null >>"$APACHE_LOG" 2>&1 9>&-; then
			log_tail "$APACHE_LOG"
			die "apache failed to start (is port $SX_PORT in use? set SX_PORT)"
		fi
	fi
	front_wait "$APACHE_LOG"
	pid=$(live_pid "$APACHE_PIDFILE" apache2) || die "something answers on $URL but $APACHE_PIDFILE names no apache2"
	info "apache: up (pid $pid, $URL)"
}

# mod_fcgid's sextant-api processes are Apache's children: they go with it.
apache_stop() { stop_by_pidfile apache "$APACHE_PIDFILE" 10 apache2 '^(apache2|sextant-api)$'; }

# The front SX_FRONT names, configured and started; the other one stopped
# (both listen on SX_PORT).
front_start() {
	if [[ $SX_FRONT == nginx ]]; then
		apache_stop
		config_nginx
		nginx_start
	else
		nginx_stop
		config_apache
		apache_start
	fi
}

front_stop() {
	nginx_stop
	apache_stop
}

services_main() {
	local usage="usage: stack.d/services.sh start|stop api|nginx|apache|agent"
	(($# == 2)) || die "$usage"
	[[ $1 == start || $1 == stop ]] || die "$usage"
	[[ $2 == api || $2 == nginx || $2 == apache || $2 == agent ]] || die "$usage"
	take_lock
	make_dirs
	"$2_$1"
}

run_main "${BASH_SOURCE[0]}" services_main "$@"
