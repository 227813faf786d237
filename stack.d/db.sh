#!/usr/bin/env bash
# stack.d/db.sh: the stack's private MariaDB under var/mysql, listening on
# var/run/mysqld.sock and 127.0.0.1:SX_DB_PORT; nothing from /etc/mysql
# applies.  Alone: stack.d/db.sh init|start|stop|provision
#   init       create the data directory (once)
#   start      init, then start mariadbd and wait until it answers
#   stop       stop mariadbd (a clean InnoDB shutdown)
#   provision  create the database and its user with a random password kept
#              in var/db.password (mariadbd must be running)
set -euo pipefail
# shellcheck source=stack.d/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Admin connections use the unix socket and socket authentication as the
# operating-system user (mariadb-install-db created that account).
db_client() {
	mariadb --no-defaults --socket="$DB_SOCKET" --user="$(id -un)"
}

db_ping() {
	mariadb-admin --no-defaults --socket="$DB_SOCKET" --user="$(id -un)" \
		--connect-timeout=2 ping >/dev/null 2>&1
}

db_init() {
	[[ -d $DB_DATADIR/mysql ]] && return 0
	step "mariadb: initializing $DB_DATADIR"
	rm -rf "$DB_DATADIR"
	mkdir -p "$DB_DATADIR" "$LOG"
	chmod 700 "$DB_DATADIR"
	# A fresh database has no dev organization: forget the old key.
	rm -f "$DEV_ENV"
	# --user names the account mariadbd runs as (root must say so
	# explicitly); socket authentication then admits that same OS user.
	if ! mariadb-install-db --no-defaults --datadir="$DB_DATADIR" \
		--user="$(id -un)" --auth-root-authentication-method=socket \
		--skip-test-db --skip-name-resolve >"$LOG/mysql-install.log" 2>&1; then
		log_tail "$LOG/mysql-install.log"
		rm -rf "$DB_DATADIR"
		die "mariadb-install-db failed"
	fi
}

# Starts mariadbd and prints its pid.  --no-defaults: every option that
# matters is here.  innodb_flush_log_at_trx_commit=1 makes every commit
# durable (the default, stated because the benchmark depends on it).
# skip-name-resolve: grants are by address, no DNS.  mariadbd writes its own
# pid file.
db_spawn() {
	rm -f "$DB_PIDFILE" "$DB_SOCKET" "$DB_SOCKET.lock"
	spawn "$DB_LOG" /usr/sbin/mariadbd --no-defaults \
		--user="$(id -un)" \
		--datadir="$DB_DATADIR" \
		--socket="$DB_SOCKET" \
		--port="$SX_DB_PORT" \
		--bind-address=127.0.0.1 \
		--pid-file="$DB_PIDFILE" \
		--log-error="$DB_LOG" \
		--skip-name-resolve \
		--innodb-flush-log-at-trx-commit=1 \
		--innodb-buffer-pool-size=256M \
		--character-set-server=utf8mb4 \
		--collation-server=utf8mb4_unicode_ci \
		--max-connections=300
}

# Returns 0 when MariaDB answers a ping within $1 tenths of a second.
db_answers() {
	local i
	for ((i = 0; i < $1; i++)); do
		db_ping && return 0
		sleep 0.1
	done
	return 1
}

db_start() {
	local pid i mpid=""
	mkdir -p "$RUN" "$LOG"
	db_init
	if pid=$(live_pid "$DB_PIDFILE" mariadbd) && ! db_answers 100; then
		# Half dead (stopped, wedged, or its socket file removed): start anew.
		step "mariadb: pid $pid does not answer on $DB_SOCKET within 10 s, restarting it"
		db_stop
	fi
	if pid=$(live_pid "$DB_PIDFILE" mariadbd); then
		step "mariadb: already running (pid $pid)"
	else
		step "mariadb: starting on 127.0.0.1:$SX_DB_PORT and $DB_SOCKET"
		mpid=$(db_spawn)
	fi
	for ((i = 0; i < 600; i++)); do
		db_ping && break
		if [[ -n $mpid ]] && ! kill -0 "$mpid" 2>/dev/null; then
			log_tail "$DB_LOG"
			die "mariadbd exited during start-up (is port $SX_DB_PORT in use? set SX_DB_PORT)"
		fi
		sleep 0.1
	done
	if ! db_ping; then
		log_tail "$DB_LOG"
		die "mariadb did not answer a ping on $DB_SOCKET within 60 s"
	fi
	pid=$(live_pid "$DB_PIDFILE" mariadbd) || die "mariadb answers but $DB_PIDFILE names no mariadbd"
	info "mariadb: up (pid $pid)"
}

db_stop() {
	step "mariadb: stopping"
	# A clean InnoDB shutdown can take a while on a busy buffer pool.
	stop_by_pidfile mariadb "$DB_PIDFILE" 60 mariadbd
	rm -f "$DB_SOCKET" "$DB_SOCKET.lock"
}

# The database password: 48 hex digits in var/db.password.
db_password() { secret_file "$DB_PWFILE" 24; }

# Creates the sextant database and its user (from the socket and from
# 127.0.0.1).  The password goes through stdin, never on a command line.
db_provision() {
	local pw
	pw=$(db_password)
	step "mariadb: database $DB_NAME, user $DB_USER"
	if ! db_client >>"$LOG/mysql-setup.log" 2>&1 <<-SQL; then
		CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$pw';
		CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$pw';
		ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$pw';
		ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$pw';
		GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
		GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1';
	SQL
		log_tail "$LOG/mysql-setup.log"
		die "creating the database or its user failed"
	fi
}

db_main() {
	(($# == 1)) || die "usage: stack.d/db.sh init|start|stop|provision"
	take_lock
	case $1 in
	init) mkdir -p "$LOG" && db_init ;;
	start) db_start ;;
	stop) db_stop ;;
	provision) db_provision ;;
	*) die "usage: stack.d/db.sh init|start|stop|provision" ;;
	esac
}

run_main "${BASH_SOURCE[0]}" db_main "$@"
