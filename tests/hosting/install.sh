#!/usr/bin/env bash
# The README's production path, run for real (CI: .ci/hosting), against the
# development stack's MariaDB (var/stack.env):
#
#   1. make distcheck (two unit tests: the suites ran against the stack
#      already), which also leaves the release tarball;
#   2. from that tarball: ./configure && make && make install, into a
#      prefix under /tmp (the README installs into /usr/local and /etc; the
#      steps are the same);
#   3. systemd-analyze verify on the installed units (and their security
#      exposure, printed);
#   4. the installed example config, completed as the README says, and the
#      installed sextant-api on it, socket-activated as sextant-api.socket
#      starts it (systemd-socket-activate: LISTEN_FDS);
#   5. the installed nginx vhost and the installed Apache vhost, each
#      started on a loopback port (SX_PORT+10, SX_PORT+11) and asked for
#      /healthz, a task list, /metrics and the viewer.
#
# Prints what it does; exits non-zero at the first failure.  Everything it
# starts is stopped and its directory removed on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
set -a
# shellcheck disable=SC1091
. var/stack.env
set +a
DISTCHECK_TESTS="tests/unit/test_conf tests/unit/test_util"
NGINX_PORT=$((SX_PORT + 10))
APACHE_PORT=$((SX_PORT + 11))
work=$(mktemp -d /tmp/sextant-install.XXXXXX)
chmod 755 "$work"
P=$work/prefix
api_pid=""

# Runs on every exit and keeps the script's own status: a server that is
# already gone (Apache removes its pid file as it stops) is not a failure.
cleanup() {
	local rc=$? pid
	set +e
	if [[ -n $api_pid ]]; then
		kill "$api_pid" 2>/dev/null
		wait "$api_pid" 2>/dev/null
	fi
	for pid in "$work/nginx.pid" "$work/apache.pid"; do
		pid=$(cat "$pid" 2>/dev/null)
		[[ -n $pid ]] && kill "$pid" 2>/dev/null
	done
	sleep 1
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT

say() { printf '    %s\n' "$*"; }
fail() { printf 'install: FAILED: %s\n' "$*" >&2; exit 1; }

# Expects an HTTP status from a URL: expect STATUS URL [curl args...]
expect() {
	local want=$1 url=$2 got
	shift 2
	got=$(curl -s -o "$work/body" -w '%{http_code}' --max-time 10 "$@" "$url" || true)
	[[ $got == "$want" ]] || fail "$url answered $got, expected $want: $(head -c 300 "$work/body")"
	say "$url -> $got"
}

# Waits up to 15 s for a condition command to succeed.
wait_for() {
	local i
	for ((i = 0; i < 150; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# What an installed vhost at url must answer: the API through the socket,
# its keyless refusal, /metrics from loopback, the viewer, a JSON 404.
probe() {
	local url=$1 host=(-H "Host: sextant.example.com")
	wait_for curl -s -o /dev/null "$url/healthz" || fail "nothing answers on $url"
	expect 200 "$url/healthz" "${host[@]}"
	expect 200 "$url/api/v1/tasks" "${host[@]}" -H "x-api-key: $SX_API_KEY"
	expect 403 "$url/api/v1/tasks" "${host[@]}"
	expect 200 "$url/metrics" "${host[@]}"
	expect 200 "$url/ui/" "${host[@]}"
	expect 404 "$url/elsewhere" "${host[@]}"
}

# Only two unit tests are built and run inside distcheck (check_PROGRAMS
# too: building every test program again would double CI's build time);
# every test ran against the stack already.
say "make distcheck"
make --no-print-directory -j2 distcheck check_PROGRAMS="$DISTCHECK_TESTS" UNIT_TESTS="$DISTCHECK_TESTS" \
	INTEGRATION_TESTS= FUZZ_TESTS= >"$work/distcheck.log" 2>&1 ||
	{ tail -n 60 "$work/distcheck.log"; fail "make distcheck"; }
tarball=sextant-$(sed -n "s/^PACKAGE_VERSION = //p" Makefile).tar.gz
[[ -f $tarball ]] || fail "make distcheck left no $tarball"
say "release tarball: $tarball"

say "./configure && make && make install (prefix $P)"
tar -xzf "$tarball" -C "$work"
(
	cd "$work/${tarball%.tar.gz}"
	./configure --prefix="$P" --sysconfdir="$P/etc" --localstatedir="$P/var" \
		--runstatedir="$P/run" --enable-werror >"$work/build.log" 2>&1 &&
		make -j2 >>"$work/build.log" 2>&1 && make install >>"$work/build.log" 2>&1
) || { tail -n 60 "$work/build.log"; fail "build from the tarball"; }
rm -f "$tarball"

# make install rewrote Debian's paths with this installation's (inst_subst):
# no installed web-server file may still name them.
say "installed files name the installation's paths"
stale=$(grep -rlE '(^|[^A-Za-z0-9_./-])(/run/sextant/|/var/lib/sextant|/usr/share/sextant)' "$P/share/sextant" || true)
[[ -z $stale ]] || fail "Debian's paths left in: $stale"

say "systemd-analyze verify"
for unit in "$P"/lib/systemd/system/sextant-*; do
	MANPATH=$P/share/man: systemd-analyze verify "$unit" >"$work/verify.log" 2>&1 ||
		{ cat "$work/verify.log"; fail "systemd-analyze verify $unit"; }
	[[ -s $work/verify.log ]] && { cat "$work/verify.log"; fail "systemd-analyze verify $unit warned"; }
	say "$(basename "$unit"): verified"
done
for unit in "$P"/lib/systemd/system/sextant-*.service; do
	say "$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | tail -n 1)"
done

say "config from the installed example"
conf=$P/etc/sextant/sextant.conf
install -m 600 "$P/etc/sextant/sextant.conf.example" "$conf"
cat >>"$conf" <<EOF
db_socket = "$SX_DB_SOCKET"
db_user = "$SX_DB_USER"
db_password = "$SX_DB_PASSWORD"
db_name = "$SX_DB_NAME"
api_socket_mode = 0660
artifact_url_key = $(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
public_base_url = "http://127.0.0.1:$NGINX_PORT"
EOF
mkdir -p "$P/run/sextant" "$P/var/lib/sextant/artifacts"
chmod 755 "$P/run/sextant" "$P/var/lib/sextant" "$P/var/lib/sextant/artifacts"
"$P/bin/sextant-admin" --config "$conf" migrate >/dev/null || fail "sextant-admin migrate"

# As sextant-api.socket starts it: systemd holds the socket and hands it
# over (LISTEN_FDS) on the first connection.
systemd-socket-activate -l "$P/run/sextant/api.sock" "$P/bin/sextant-api" --config "$conf" >"$work/api.log" 2>&1 &
api_pid=$!
wait_for test -S "$P/run/sextant/api.sock" || { cat "$work/api.log"; fail "no socket to activate"; }
# Production gives the socket to the web server's group (SocketGroup=www-data,
# mode 0660).  The servers here run as whoever starts them (nobody under
# root), with no group set up to share, so the socket, in this private
# directory, is opened to them all.
chmod 666 "$P/run/sextant/api.sock"
say "installed sextant-api socket-activated (pid $api_pid)"

say "the installed nginx vhost on 127.0.0.1:$NGINX_PORT"
cp /etc/nginx/fastcgi_params "$work/fastcgi_params"
sed -e "s/listen 80;/listen 127.0.0.1:$NGINX_PORT;/" -e '/listen \[::\]:80;/d' \
	"$P/share/sextant/nginx/sextant.conf" >"$work/vhost-nginx.conf"
cat >"$work/nginx.conf" <<EOF
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $work/nginx-body;
    fastcgi_temp_path $work/nginx-fastcgi;
    include /etc/nginx/mime.types;
    include $work/vhost-nginx.conf;
}
EOF
nginx -c "$work/nginx.conf" -p "$work/" || { cat "$work/nginx-error.log"; fail "nginx with the installed vhost"; }
probe "http://127.0.0.1:$NGINX_PORT"
grep -q 'msg=listening socket=LISTEN_FDS' "$work/api.log" ||
	{ cat "$work/api.log"; fail "sextant-api did not serve the socket it was handed"; }
say "sextant-api served the socket it was handed (LISTEN_FDS)"
kill "$(cat "$work/nginx.pid")"

say "the installed Apache vhost on 127.0.0.1:$APACHE_PORT"
user=""
[[ $(id -u) == 0 ]] && user=$'User nobody\nGroup nogroup'
sed -e "s/<VirtualHost \\*:80>/<VirtualHost 127.0.0.1:$APACHE_PORT>/" \
	"$P/share/sextant/apache/sextant.conf" >"$work/vhost-apache.conf"
mods=/usr/lib/apache2/modules
cat >"$work/apache.conf" <<EOF
ServerRoot "$work"
DefaultRuntimeDir "$work"
PidFile "$work/apache.pid"
Mutex file:$work default
ErrorLog "$work/apache-error.log"
Listen 127.0.0.1:$APACHE_PORT
ServerName 127.0.0.1
$user
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_host_module $mods/mod_authz_host.so
LoadModule mime_module $mods/mod_mime.so
LoadModule dir_module $mods/mod_dir.so
LoadModule alias_module $mods/mod_alias.so
LoadModule headers_module $mods/mod_headers.so
LoadModule setenvif_module $mods/mod_setenvif.so
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_fcgi_module $mods/mod_proxy_fcgi.so
LoadModule xsendfile_module $mods/mod_xsendfile.so
TypesConfig /etc/mime.types
Include "$work/vhost-apache.conf"
EOF
/usr/sbin/apache2 -f "$work/apache.conf" -k start || { cat "$work/apache-error.log"; fail "Apache with the installed vhost"; }
probe "http://127.0.0.1:$APACHE_PORT"
/usr/sbin/apache2 -f "$work/apache.conf" -k stop
wait_for test ! -e "$work/apache.pid" || fail "Apache did not stop"

say "installed: the production path works as the README writes it"
