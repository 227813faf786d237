/*
 * db_host with several servers: a connection goes to the first one that
 * answers, a lost connection is made again on the next server, and a
 * transaction whose connection dies is run again there.  The stack's one
 * MariaDB stands for the live node; a port nobody listens on (refused at
 * once) stands for a node that went away; a forwarder started here (a
 * loopback port that relays to the same MariaDB and counts its connections)
 * is a second live node, so that the order the servers are tried in shows.
 * The three-node Galera run is bench/cluster/.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "conf.h"
#include "db.h"
#include "client.h"
#include "timeutil.h"

/* A port of this helper's range with no listener (see bench/cluster/). */
#define DEAD_PORT "31449"

static struct sx_conf conf;
/* A second session of the same account (127.0.0.1), which may kill the first's. */
static struct sx_db *killer;

/* The stack's config, reaching MariaDB over TCP through the server list hosts. */
static struct sx_db *open_listed(const char *hosts, struct sx_db **out)
{
	char err[512];

	cr_assert(sx_conf_load(&conf, tenv("SX_CONF"), err, sizeof(err)) == SX_OK, "%s", err);
	free(conf.db_socket);
	conf.db_socket = xstrdup("");
	free(conf.db_host);
	conf.db_host = xstrdup(hosts);
	cr_assert_eq(sx_db_open(out, &conf), SX_OK, "%s", sx_db_error(*out));
	return *out;
}

/* A list whose first entry is dead and whose second is the stack's MariaDB (caller frees). */
static char *dead_then_live(void)
{
	return xasprintf("127.0.0.1:%s, 127.0.0.1:%s", DEAD_PORT, tenv("SX_DB_PORT"));
}

/* ---- a second live node: a relay to the stack's MariaDB ----------------------- */

#define RELAY_PAIRS 8

struct relay {
	int fd;                     /* the listening socket, on an ephemeral loopback port */
	int port;
	int target;                 /* the MariaDB port relayed to */
	int pairs[RELAY_PAIRS][2];  /* client and server sockets of each relayed connection; -1 when free */
	atomic_int accepted;
	atomic_int stop;
	pthread_t thread;
};

static int loopback_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Copies what is readable on from to to; false when either end is done. */
static bool relay_copy(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));

	return n > 0 && write(to, buf, (size_t)n) == n;
}

static void relay_accept(struct relay *r)
{
	int c = accept(r->fd, NULL, NULL), s = c >= 0 ? loopback_connect(r->target) : -1;

	for (size_t i = 0; s >= 0 && i < RELAY_PAIRS; i++) {
		if (r->pairs[i][0] < 0) {
			r->pairs[i][0] = c;
			r->pairs[i][1] = s;
			atomic_fetch_add(&r->accepted, 1);
			return;
		}
	}
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
}

/* One poll loop: the listening socket and both ends of every relayed connection. */
static void *relay_main(void *arg)
{
	struct relay *r = arg;

	while (!atomic_load(&r->stop)) {
		struct pollfd p[1 + 2 * RELAY_PAIRS];

		p[0] = (struct pollfd){ r->fd, POLLIN, 0 };
		for (size_t i = 0; i < RELAY_PAIRS; i++)
			for (size_t k = 0; k < 2; k++)
				p[1 + 2 * i + k] = (struct pollfd){ r->pairs[i][k], POLLIN, 0 };
		if (poll(p, SX_ARRAY_LEN(p), 100) <= 0)
			continue;
		if (p[0].revents & POLLIN)
			relay_accept(r);
		for (size_t i = 0; i < RELAY_PAIRS; i++) {
			for (size_t k = 0; k < 2 && r->pairs[i][0] >= 0; k++) {
				if (!(p[1 + 2 * i + k].revents & (POLLIN | POLLHUP | POLLERR)) ||
				    relay_copy(r->pairs[i][k], r->pairs[i][1 - k]))
					continue;
				close(r->pairs[i][0]);
				close(r->pairs[i][1]);
				r->pairs[i][0] = r->pairs[i][1] = -1;
			}
		}
	}
	return NULL;
}

static void relay_start(struct relay *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	long long target;

	memset(r->pairs, -1, sizeof(r->pairs));
	cr_assert(sx_parse_ll(tenv("SX_DB_PORT"), 1, 65535, &target));
	r->target = (int)target;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(r->fd, 0);
	cr_assert_eq(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(r->fd, 16), 0);
	cr_assert_eq(getsockname(r->fd, (struct sockaddr *)&a, &len), 0);
	r->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&r->thread, NULL, relay_main, r), 0);
}

static void relay_stop(struct relay *r)
{
	atomic_store(&r->stop, 1);
	pthread_join(r->thread, NULL);
	for (size_t i = 0; i < RELAY_PAIRS; i++)
		for (size_t k = 0; k < 2; k++)
			if (r->pairs[i][k] >= 0)
				close(r->pairs[i][k]);
	close(r->fd);
}

static long long connection_id(struct sx_db *db)
{
	static const char q[] = "SELECT CONNECTION_ID()";
	struct sx_rows *rows = NULL;
	long long id;

	cr_assert_eq(sx_db_query(db, q, NULL, 0, &rows), SX_OK, "%s", sx_db_error(db));
	id = sx_rows_i64(rows, 0, 0, -1);
	sx_rows_free(rows);
	return id;
}

/* Kills connection id from another session (the server drops it). */
static void kill_connection(long long id)
{
	static const char q[] = "KILL CONNECTION ?";
	struct sx_param p[] = { sx_p_i64(id) };

	if (!killer)
		cr_assert_eq(sx_db_open(&killer, &conf), SX_OK);
	cr_assert_eq(sx_db_exec(killer, q, p, 1, NULL), SX_OK, "%s", sx_db_error(killer));
}

/* Frees what one test opened. */
static void close_all(struct sx_db *db)
{
	sx_db_free(db);
	sx_db_free(killer);
	killer = NULL;
	sx_conf_release(&conf);
}

Test(dbfailover, connects_to_the_first_server_that_answers)
{
	struct sx_db *db = NULL;
	static const char q[] = "SELECT @@port";
	struct sx_rows *rows = NULL;

	char *hosts = dead_then_live();

	open_listed(hosts, &db);
	cr_assert_eq(sx_db_query(db, q, NULL, 0, &rows), SX_OK);
	cr_assert_str_eq(sx_rows_get(rows, 0, 0), tenv("SX_DB_PORT"));
	sx_rows_free(rows);
	sx_db_free(db);
	sx_conf_release(&conf);
	free(hosts);
}

Test(dbfailover, a_lost_connection_moves_on_and_the_statement_runs)
{
	struct sx_db *db = NULL;
	long long before, after;
	char *hosts = dead_then_live();

	open_listed(hosts, &db);
	before = connection_id(db);
	kill_connection(before);
	/* The next server after the live one is the dead one, then the live one again. */
	after = connection_id(db);
	cr_assert_neq(after, -1);
	cr_assert_neq(after, before);
	close_all(db);
	free(hosts);
}

/*
 * Two live servers, the stack's MariaDB first and the relay second: a
 * connection lost on the first is made again on the second, not on the
 * first (which answers as well), and one lost there goes back to the first.
 */
Test(dbfailover, a_lost_connection_goes_to_the_next_server_not_the_first)
{
	struct relay relay = { 0 };
	struct sx_db *db = NULL;
	long long first, second, third;
	char *hosts;

	relay_start(&relay);
	hosts = xasprintf("127.0.0.1:%s, 127.0.0.1:%d", tenv("SX_DB_PORT"), relay.port);
	open_listed(hosts, &db);
	first = connection_id(db);
	cr_assert_eq(atomic_load(&relay.accepted), 0, "the first connection went to the second server");
	kill_connection(first);
	second = connection_id(db);
	cr_assert_neq(second, first);
	cr_assert_eq(atomic_load(&relay.accepted), 1, "the lost connection was not made again on the next server");
	kill_connection(second);
	third = connection_id(db);
	cr_assert_neq(third, second);
	cr_assert_eq(atomic_load(&relay.accepted), 1, "the list did not wrap around to the first server");
	close_all(db);
	relay_stop(&relay);
	free(hosts);
}

struct killed_tx {
	int calls;
};

/* Dies under its first run (its connection killed mid-transaction), then succeeds. */
static enum sx_rc killed_tx_fn(struct sx_db *db, void *arg)
{
	static const char q[] = "SELECT 1 FROM organizations LIMIT 1 FOR UPDATE";
	struct killed_tx *k = arg;
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	if (k->calls++ == 0)
		kill_connection(connection_id(db));
	rc = sx_db_query(db, q, NULL, 0, &rows);
	sx_rows_free(rows);
	return rc;
}

Test(dbfailover, a_transaction_whose_connection_dies_runs_again_on_the_next_server)
{
	struct sx_db *db = NULL;
	struct killed_tx k = { 0 };

	char *hosts = dead_then_live();

	open_listed(hosts, &db);
	cr_assert_eq(sx_db_tx(db, killed_tx_fn, &k), SX_OK, "%s", sx_db_error(db));
	cr_assert_eq(k.calls, 2);
	close_all(db);
	free(hosts);
}

/*
 * Two servers that refuse: the open and the ping each fail with SX_EDBDOWN
 * within what db_connect_timeout allows for the list (a bound on a hang,
 * not a speed assertion: a refused port answers at once).
 */
Test(dbfailover, no_server_answering_is_reported_not_hung, .timeout = 60)
{
	struct sx_db *db = NULL;
	char err[512];
	int64_t start, bound_ms;

	cr_assert(sx_conf_load(&conf, tenv("SX_CONF"), err, sizeof(err)) == SX_OK, "%s", err);
	free(conf.db_socket);
	conf.db_socket = xstrdup("");
	free(conf.db_host);
	conf.db_host = xstrdup("127.0.0.1:" DEAD_PORT ",127.0.0.1:31448");
	/* Two attempts (open, ping), each over the list's two servers, and a margin. */
	bound_ms = 2 * 2 * (int64_t)conf.db_connect_timeout * 1000 + 2000;
	start = sx_mono_ms();
	cr_assert_eq(sx_db_open(&db, &conf), SX_EDBDOWN);
	cr_assert_eq(sx_db_ping(db), SX_EDBDOWN);
	cr_assert_leq(sx_mono_ms() - start, bound_ms, "failing over a dead list took %lld ms, more than %lld",
		      (long long)(sx_mono_ms() - start), (long long)bound_ms);
	sx_db_free(db);
	sx_conf_release(&conf);
}
