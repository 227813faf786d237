/*
 * db_host with several servers: a connection goes to the first one that
 * answers, a lost connection is made again on the next server, and a
 * transaction whose connection dies is run again there.  The stack's one
 * MariaDB stands for the live node; a port nobody listens on (refused at
 * once) stands for a node that went away.  The three-node Galera run is
 * bench/cluster/.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "conf.h"
#include "db.h"
#include "client.h"

/* A port of this helper's range with no listener (see bench/cluster/). */
#define DEAD_PORT "31449"

static struct sx_conf conf;
/* A second session of the same account (127.0.0.1), which may kill the first's. */
static struct sx_db *killer;

/* The stack's config, reaching MariaDB over TCP through a list whose first entry is dead. */
static struct sx_db *open_listed(const char *first_port, struct sx_db **out)
{
	char err[512];

	cr_assert(sx_conf_load(&conf, tenv("SX_CONF"), err, sizeof(err)) == SX_OK, "%s", err);
	free(conf.db_socket);
	conf.db_socket = xstrdup("");
	free(conf.db_host);
	conf.db_host = xasprintf("127.0.0.1:%s, 127.0.0.1:%s", first_port, tenv("SX_DB_PORT"));
	cr_assert_eq(sx_db_open(out, &conf), SX_OK, "%s", sx_db_error(*out));
	return *out;
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

	open_listed(DEAD_PORT, &db);
	cr_assert_eq(sx_db_query(db, q, NULL, 0, &rows), SX_OK);
	cr_assert_str_eq(sx_rows_get(rows, 0, 0), tenv("SX_DB_PORT"));
	sx_rows_free(rows);
	sx_db_free(db);
	sx_conf_release(&conf);
}

Test(dbfailover, a_lost_connection_moves_on_and_the_statement_runs)
{
	struct sx_db *db = NULL;
	long long before, after;

	open_listed(DEAD_PORT, &db);
	before = connection_id(db);
	kill_connection(before);
	/* The next server after the live one is the dead one, then the live one again. */
	after = connection_id(db);
	cr_assert_neq(after, -1);
	cr_assert_neq(after, before);
	close_all(db);
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

	open_listed(DEAD_PORT, &db);
	cr_assert_eq(sx_db_tx(db, killed_tx_fn, &k), SX_OK, "%s", sx_db_error(db));
	cr_assert_eq(k.calls, 2);
	close_all(db);
}

Test(dbfailover, no_server_answering_is_reported_not_hung)
{
	struct sx_db *db = NULL;
	char err[512];

	cr_assert(sx_conf_load(&conf, tenv("SX_CONF"), err, sizeof(err)) == SX_OK, "%s", err);
	free(conf.db_socket);
	conf.db_socket = xstrdup("");
	free(conf.db_host);
	conf.db_host = xstrdup("127.0.0.1:" DEAD_PORT ",127.0.0.1:31448");
	cr_assert_eq(sx_db_open(&db, &conf), SX_EDBDOWN);
	cr_assert_eq(sx_db_ping(db), SX_EDBDOWN);
	sx_db_free(db);
	sx_conf_release(&conf);
}
