#!/usr/bin/env bash
# stack.d/cluster.sh: a three-node MariaDB Galera cluster on loopback, under
# var/cluster/, next to (not instead of) the stack's own MariaDB.  For the
# cluster bench (bench/cluster/) and as the operator recipe's worked example
# (README: Running on several machines).  Alone:
#   stack.d/cluster.sh up          bootstrap node 1, join nodes 2 and 3, create
#                                  the database and its user, migrate, write
#                                  var/cluster/cluster.env
#   stack.d/cluster.sh down        stop the three nodes
#   stack.d/cluster.sh kill N      SIGKILL node N (a crash, no clean shutdown)
#   stack.d/cluster.sh start N     start node N again: it recovers its last
#                                  position and catches up by IST from a peer
#   stack.d/cluster.sh status      each node's pid and wsrep state
# Ports (SX_CLUSTER_PORT_BASE, default 31400): node N serves SQL on base+N,
# Galera replication on base+10+N, IST on base+20+N, SST on base+23+N.
# Debian's galera-4 (installed with mariadb-server) provides the library;
# nothing here touches a system service.  Nodes 2 and 3 get their first
# copy by rsync SST (rsync's daemon runs as `nobody` when started by root,
# so a joining node's data directory is its own until the node is Synced); a
# node that crashed rejoins from its recovered position by IST, which
# streams only the missing writes from a peer's gcache and blocks no one.
set -euo pipefail
# shellcheck source=stack.d/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLUSTER=$VAR/cluster
CLUSTER_BASE=${SX_CLUSTER_PORT_BASE:-31400}
CLUSTER_ENV=$CLUSTER/cluster.env
CLUSTER_PWFILE=$CLUSTER/db.password
GALERA_LIB=${SX_GALERA_LIB:-/usr/lib/galera/libgalera_smm.so}

node_dir() { printf '%s/node%s' "$CLUSTER" "$1"; }
node_port() { printf '%s' $((CLUSTER_BASE + $1)); }
node_sock() { printf '%s/mysqld.sock' "$(node_dir "$1")"; }
node_pidfile() { printf '%s/mysqld.pid' "$(node_dir "$1")"; }
node_log() { printf '%s/mysqld.log' "$(node_dir "$1")"; }

node_client() {
	mariadb --no-defaults --socket="$(node_sock "$1")" --user="$(id -un)" "${@:2}"
}

# The wsrep state of node N ("Synced", "Donor/Desynced", …), empty when down.
node_state() {
	node_client "$1" -N -B -e "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null |
		cut -f2 || true
}

# db_host for a process that should prefer node N: N first, the others after.
cluster_hosts() {
	local first=$1 i n out=""
	for ((i = 0; i < 3; i++)); do
		n=$(((first - 1 + i) % 3 + 1))
		out+="${out:+,}127.0.0.1:$(node_port "$n")"
	done
	printf '%s' "$out"
}

node_init() {
	local dir
	dir=$(node_dir "$1")
	[[ -d $dir/data/mysql ]] && return 0
	mkdir -p "$dir/data"
	chmod 711 "$dir"
	chmod 700 "$dir/data"
	mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" \
		--auth-root-authentication-method=socket --skip-test-db \
		--skip-name-resolve >"$dir/install.log" 2>&1 ||
		{ log_tail "$dir/install.log"; die "mariadb-install-db failed for node $1"; }
}

# The options every node runs with.  ROW binlog format, interleaved
# auto-increment locks and InnoDB are what Galera requires;
# innodb_flush_log_at_trx_commit stays 1 (durable) as on the single node.
node_args() {
	local n=$1 dir gcomm="" i
	dir=$(node_dir "$n")
	for i in 1 2 3; do gcomm+="${gcomm:+,}127.0.0.1:$((CLUSTER_BASE + 10 + i))"; done
	printf '%s\n' --no-defaults --user="$(id -un)" --datadir="$dir/data" \
		--socket="$(node_sock "$n")" --port="$(node_port "$n")" --bind-address=127.0.0.1 \
		--pid-file="$(node_pidfile "$n")" --log-error="$(node_log "$n")" \
		--skip-name-resolve --innodb-flush-log-at-trx-commit=1 \
		--innodb-buffer-pool-size=128M --max-connections=400 \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		--binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2 \
		--wsrep-on=ON --wsrep-provider="$GALERA_LIB" --wsrep-cluster-name=sextant \
		--wsrep-cluster-address="gcomm://$gcomm" --wsrep-node-name="node$n" \
		--wsrep-node-address="127.0.0.1:$((CLUSTER_BASE + 10 + n))" \
		--wsrep-provider-options="base_host=127.0.0.1;base_port=$((CLUSTER_BASE + 10 + n));ist.recv_addr=127.0.0.1:$((CLUSTER_BASE + 20 + n));gcache.size=256M" \
		--wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$((CLUSTER_BASE + 23 + n))"
}

# The position node N's InnoDB holds (uuid:seqno) after a crash, so that it
# rejoins by IST instead of a full state transfer.
node_recover() {
	local n=$1 args pos
	mapfile -t args < <(node_args "$n")
	/usr/sbin/mariadbd "${args[@]}" --wsrep-recover --log-error="$(node_dir "$n")/recover.log" \
		>/dev/null 2>&1 || true
	pos=$(grep -o 'Recovered position: [^ ]*' "$(node_dir "$n")/recover.log" | tail -1 | cut -d' ' -f3)
	printf '%s' "$pos"
}

node_wait() {
	local n=$1 pid=$2 i
	for ((i = 0; i < 1200; i++)); do
		[[ $(node_state "$n") == Synced ]] && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			log_tail "$(node_log "$n")"
			die "node $n exited during start-up (port $(node_port "$n") in use?)"
		fi
		sleep 0.1
	done
	log_tail "$(node_log "$n")"
	die "node $n did not reach Synced within 120 s"
}

# Starts node N; bootstrap=1 starts a new cluster with it.
node_start() {
	local n=$1 bootstrap=${2:-0} args pid pos extra=()
	if pid=$(live_pid "$(node_pidfile "$n")" mariadbd); then
		info "node $n: already running (pid $pid)"
		return 0
	fi
	node_init "$n"
	mapfile -t args < <(node_args "$n")
	if ((bootstrap)); then
		extra=(--wsrep-new-cluster)
		sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$(node_dir "$n")/data/grastate.dat" 2>/dev/null || true
	elif grep -q '^seqno: *-1' "$(node_dir "$n")/data/grastate.dat" 2>/dev/null; then
		pos=$(node_recover "$n")
		[[ -n $pos ]] && extra=(--wsrep-start-position="$pos")
	fi
	step "galera: node $n on 127.0.0.1:$(node_port "$n")${pos:+ from $pos}"
	rm -f "$(node_pidfile "$n")" "$(node_sock "$n")"
	# An SST's rsync daemon writes as `nobody` (see the top of this file).
	[[ $(id -u) == 0 && $bootstrap == 0 ]] && chown -R nobody "$(node_dir "$n")/data"
	pid=$(spawn "$(node_log "$n")" /usr/sbin/mariadbd "${args[@]}" "${extra[@]}")
	node_wait "$n" "$pid"
	chown -R "$(id -un)" "$(node_dir "$n")/data"
	info "node $n: $(node_state "$n") (pid $(live_pid "$(node_pidfile "$n")" mariadbd))"
}

node_stop() { stop_by_pidfile "galera node $1" "$(node_pidfile "$1")" 60 mariadbd; }

node_kill() {
	local pid
	pid=$(live_pid "$(node_pidfile "$1")" mariadbd) || die "node $1 is not running"
	kill -KILL "$pid"
	wait_gone "$pid" 100 || die "node $1 (pid $pid) survived SIGKILL"
	info "node $1: killed (pid $pid)"
}

# The database, its user (from 127.0.0.1 only: every process reaches the
# cluster over TCP) and the migrations, through node 1; Galera replicates
# users and schema changes to the others.
cluster_provision() {
	local pw conf
	pw=$(secret_file "$CLUSTER_PWFILE" 24)
	node_client 1 <<-SQL || die "creating the cluster's database or user failed"
		CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$pw';
		ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$pw';
		GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1';
	SQL
	conf=$(cluster_conf 1)
	step "galera: migrate"
	"$ADMIN_BIN" --config "$conf" migrate >>"$CLUSTER/admin.log" 2>&1 ||
		{ log_tail "$CLUSTER/admin.log"; die "sextant-admin migrate on the cluster failed"; }
}

# Writes var/cluster/sextantN.conf: the stack's config, with the cluster's
# nodes in db_host, node N first.  Prints its path.
cluster_conf() {
	local n=$1 out
	out=$CLUSTER/sextant$n.conf
	{
		grep -Ev '^[[:space:]]*(db_socket|db_host|db_port|db_password)[[:space:]]*=' "$CONF"
		printf 'db_host = "%s"\n' "$(cluster_hosts "$n")"
		printf 'db_password = "%s"\n' "$(cat "$CLUSTER_PWFILE")"
		printf 'db_connect_timeout = 2\ndb_read_timeout = 10\n'
	} | write_private "$out" || true
	printf '%s' "$out"
}

cluster_up() {
	local n
	[[ -s $CONF ]] || die "$CONF is missing: run ./stack up first"
	[[ -f $GALERA_LIB ]] || as_root apt-get install -y -q galera-4 >/dev/null
	# Nodes 2 and 3 get their first copy by rsync (SST).
	command -v rsync >/dev/null || as_root apt-get install -y -q rsync >/dev/null
	mkdir -p "$CLUSTER"
	chmod 711 "$CLUSTER"
	if ! live_pid "$(node_pidfile 1)" mariadbd >/dev/null && ! live_pid "$(node_pidfile 2)" mariadbd >/dev/null &&
		! live_pid "$(node_pidfile 3)" mariadbd >/dev/null; then
		node_start 1 1
	else
		node_start 1
	fi
	node_start 2
	node_start 3
	cluster_provision
	for n in 1 2 3; do cluster_conf "$n" >/dev/null; done
	write_private "$CLUSTER_ENV" <<-EOF || true
		SX_CLUSTER_DIR=$(shq "$CLUSTER")
		SX_CLUSTER_CONF1=$(shq "$CLUSTER/sextant1.conf")
		SX_CLUSTER_CONF2=$(shq "$CLUSTER/sextant2.conf")
		SX_CLUSTER_CONF3=$(shq "$CLUSTER/sextant3.conf")
		SX_CLUSTER_PORTS=$(shq "$(node_port 1) $(node_port 2) $(node_port 3)")
	EOF
	true
	step "galera: up ($(cluster_hosts 1)); configs in $CLUSTER/sextantN.conf"
}

cluster_down() {
	local n
	# The last node to stop is the one to bootstrap from next time.
	for n in 3 2 1; do node_stop "$n"; done
}

cluster_status() {
	local n pid
	for n in 1 2 3; do
		if pid=$(live_pid "$(node_pidfile "$n")" mariadbd); then
			printf 'node%s  up    pid %s  %s  %s\n' "$n" "$pid" "$(node_port "$n")" "$(node_state "$n")"
		else
			printf 'node%s  down\n' "$n"
		fi
	done
}

cluster_main() {
	local usage="usage: stack.d/cluster.sh up|down|status|kill N|start N"
	(($# >= 1)) || die "$usage"
	case $1 in
	up) take_lock; cluster_up ;;
	down) take_lock; cluster_down ;;
	status) cluster_status ;;
	kill) [[ ${2:-} =~ ^[123]$ ]] || die "$usage"; node_kill "$2" ;;
	start) [[ ${2:-} =~ ^[123]$ ]] || die "$usage"; node_start "$2" ;;
	*) die "$usage" ;;
	esac
}

run_main "${BASH_SOURCE[0]}" cluster_main "$@"
