/*
 * The MariaDB adapter: the only file that includes mysql.h.
 *
 * Each connection keeps a small cache of prepared statements keyed by the
 * address of their (constant) SQL text, so a request pays for a prepare only
 * once per connection.  Results are read whole into struct sx_rows with
 * every cell as text: the callers' queries are small, and one shape of
 * result keeps every caller simple.
 */
#include "sx.h"
#include "db.h"
#include "crypto.h"
#include "conf.h"
#include "log.h"
#include "timeutil.h"

#include <limits.h>
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#define DB_STMT_CACHE 64
#define DB_MAX_PARAMS 32
#define DB_CELL_INLINE 256
/*
 * A transaction that loses a lock race (InnoDB's deadlock, or a Galera
 * certification failure, which is reported the same way) runs again up to
 * DB_TX_TRIES times in all, each retry after a random pause of up to
 * DB_TX_BACKOFF_MS << retry ms, so two nodes that collided do not collide
 * again in step.  No deadlock is retried once DB_TX_BUDGET_MS have passed
 * since the first try: a request waiting on the database has a client
 * waiting on it.  (A lost connection that comes back is retried whatever
 * the time: failing over is what it waited for.)
 */
#define DB_TX_TRIES 6
#define DB_TX_BACKOFF_MS 2u
#define DB_TX_BUDGET_MS 2000

struct db_cached {
	const char *sql;
	MYSQL_STMT *stmt;
};

/* One server of db_host's list. */
struct db_server {
	char host[SX_DB_HOST_MAX];
	unsigned port;
};

struct sx_db {
	MYSQL *my;
	bool connected;
	bool in_tx;
	bool lost;         /* the last connection was lost: try the next server first */
	char *user, *password, *name, *socket;
	struct db_server servers[SX_DB_HOSTS_MAX];
	size_t nservers;
	size_t current;    /* index of the server connected to (or tried last) */
	unsigned connect_timeout, read_timeout;
	unsigned last_errno; /* of the last failed statement */
	struct db_cached cache[DB_STMT_CACHE];
	size_t ncache;
	char err[256];
};

static bool db_errno_is_gone(unsigned e)
{
	/*
	 * 1047 is what a Galera node answers while it is not part of the
	 * primary component (cut off, or still joining): the node is up, but
	 * no use, so it counts as gone and the next server is tried.
	 */
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	       e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	       e == CR_SERVER_LOST_EXTENDED || e == 1927 /* ER_CONNECTION_KILLED */ ||
	       e == 4031 /* idle client disconnected */ || e == 1053 /* server shutdown */ ||
	       e == 1047 /* WSREP has not yet prepared node for application use */;
}

/*
 * Turns a MariaDB error number into the project's error and logs it once.
 * A duplicate-key message quotes the row's values, so only its number is
 * logged.
 */
static enum sx_rc db_map_error(struct sx_db *db, unsigned e, const char *msg)
{
	enum sx_rc rc;

	db->last_errno = e;
	if (e == ER_DUP_ENTRY) {
		snprintf(db->err, sizeof(db->err), "duplicate key");
		return SX_ECONFLICT;
	}
	snprintf(db->err, sizeof(db->err), "%u: %s", e, msg ? msg : "");
	if (e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT)
		rc = SX_EDEADLOCK;
	else if (db_errno_is_gone(e))
		rc = SX_EDBDOWN;
	else
		rc = SX_EDB;
	if (rc == SX_EDEADLOCK)
		log_info("db", "msg=\"lock conflict, will retry\" errno=%u", e);
	else
		log_warn("db", "errno=%u error=%s", e, sx_log_quote(msg ? msg : ""));
	return rc;
}

static void db_cache_clear(struct sx_db *db)
{
	for (size_t i = 0; i < db->ncache; i++)
		mysql_stmt_close(db->cache[i].stmt);
	db->ncache = 0;
}

static void db_disconnect(struct sx_db *db)
{
	db_cache_clear(db);
	if (db->my)
		mysql_close(db->my);
	db->my = NULL;
	db->connected = false;
	db->in_tx = false;
}

/* Drops a connection the server lost, so the next connect fails over. */
static void db_drop_lost(struct sx_db *db)
{
	db_disconnect(db);
	db->lost = true;
}

/* Opens a session on server i; SX_EDBDOWN (logged) when it does not answer. */
static enum sx_rc db_connect_to(struct sx_db *db, size_t i)
{
	const struct db_server *srv = &db->servers[i];
	const char *host = srv->host;
	const char *sock = NULL;

	db->my = mysql_init(NULL);
	if (!db->my)
		abort();
	mysql_optionsv(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &db->connect_timeout);
	mysql_optionsv(db->my, MYSQL_OPT_READ_TIMEOUT, &db->read_timeout);
	mysql_optionsv(db->my, MYSQL_OPT_WRITE_TIMEOUT, &db->read_timeout);
	mysql_optionsv(db->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(db->my, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
	if (db->socket && *db->socket) {
		host = "localhost";
		sock = db->socket;
	}
	if (!mysql_real_connect(db->my, host, db->user, db->password, db->name,
				srv->port, sock, 0)) {
		unsigned e = mysql_errno(db->my);

		snprintf(db->err, sizeof(db->err), "%u: %s", e, mysql_error(db->my));
		log_warn("db", "msg=\"connect failed\" host=%s port=%u socket=%s errno=%u error=%s",
			 sx_log_quote(srv->host), srv->port, sx_log_quote(sock ? sock : ""), e,
			 sx_log_quote(mysql_error(db->my)));
		mysql_close(db->my);
		db->my = NULL;
		return SX_EDBDOWN;
	}
	db->connected = true;
	return SX_OK;
}

/*
 * Connects to the first server of the list that answers, starting with the
 * current one, or with the one after it when the current one was just lost
 * (a node that went away is tried last, not first).  Each server costs at
 * most db_connect_timeout, so a failover is bounded by the list's length
 * times that.  SX_EDBDOWN when none answers.
 */
static enum sx_rc db_connect(struct sx_db *db)
{
	size_t first = db->lost ? (db->current + 1) % db->nservers : db->current;
	enum sx_rc rc = SX_EDBDOWN;

	db_disconnect(db);
	for (size_t k = 0; k < db->nservers && rc; k++) {
		size_t i = (first + k) % db->nservers;

		rc = db_connect_to(db, i);
		if (rc == SX_OK) {
			if (i != db->current || db->lost)
				log_info("db", "msg=connected host=%s port=%u server=%zu of=%zu",
					 sx_log_quote(db->servers[i].host), db->servers[i].port,
					 i + 1, db->nservers);
			db->current = i;
			db->lost = false;
		}
	}
	return rc;
}

enum sx_rc sx_db_open(struct sx_db **out, const struct sx_conf *c)
{
	struct sx_db *db = xcalloc(1, sizeof(*db));
	const char *cursor = c->db_host ? c->db_host : "";
	/*
	 * A socket is one server whatever db_host says (the loader refuses a
	 * list beside it): one entry, so a lost connection is not "failed over"
	 * to the same socket once per entry.
	 */
	size_t max = c->db_socket && *c->db_socket ? 1 : SX_DB_HOSTS_MAX;
	struct db_server *srv;

	while (db->nservers < max) {
		srv = &db->servers[db->nservers];
		if (sx_conf_db_host_next(&cursor, c->db_port, srv->host, sizeof(srv->host),
					 &srv->port) != SX_OK)
			break;
		db->nservers++;
	}
	/* The loader refuses a list that does not parse; a NULL host is a test's. */
	if (db->nservers == 0) {
		snprintf(db->servers[0].host, sizeof(db->servers[0].host), "127.0.0.1");
		db->servers[0].port = (unsigned)c->db_port;
		db->nservers = 1;
	}
	db->user = xstrdup(c->db_user);
	db->password = xstrdup(c->db_password);
	db->name = xstrdup(c->db_name);
	db->socket = xstrdup(c->db_socket);
	db->connect_timeout = (unsigned)c->db_connect_timeout;
	db->read_timeout = c->db_read_timeout > 0 ? (unsigned)c->db_read_timeout : 30;
	*out = db;
	return db_connect(db);
}

void sx_db_free(struct sx_db *db)
{
	if (!db)
		return;
	db_disconnect(db);
	free(db->user);
	if (db->password)
		crypto_wipe(db->password, strlen(db->password));
	free(db->password);
	free(db->name);
	free(db->socket);
	free(db);
}

const char *sx_db_error(const struct sx_db *db)
{
	return db->err;
}

/* Finds or prepares the statement for sql on the current connection. */
static enum sx_rc db_stmt(struct sx_db *db, const char *sql, MYSQL_STMT **out)
{
	MYSQL_STMT *st;

	for (size_t i = 0; i < db->ncache; i++) {
		if (db->cache[i].sql == sql) {
			*out = db->cache[i].stmt;
			return SX_OK;
		}
	}
	st = mysql_stmt_init(db->my);
	if (!st)
		abort();
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql))) {
		enum sx_rc rc = db_map_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		mysql_stmt_close(st);
		/* A lost connection is dropped, so that db_run reconnects. */
		if (rc == SX_EDBDOWN)
			db_drop_lost(db);
		return rc;
	}
	if (db->ncache == DB_STMT_CACHE) {
		/* The cache is full of one-off statements: start it afresh. */
		db_cache_clear(db);
	}
	db->cache[db->ncache].sql = sql;
	db->cache[db->ncache].stmt = st;
	db->ncache++;
	*out = st;
	return SX_OK;
}

/* Drops sql's cached statement (after an error that may have spoiled it). */
static void db_stmt_forget(struct sx_db *db, const char *sql)
{
	for (size_t i = 0; i < db->ncache; i++) {
		if (db->cache[i].sql == sql) {
			mysql_stmt_close(db->cache[i].stmt);
			db->cache[i] = db->cache[db->ncache - 1];
			db->ncache--;
			return;
		}
	}
}

/* Binds params to st's placeholders (ivals and dvals hold the numbers). */
static void db_bind_params(MYSQL_BIND *pb, long long *ivals, double *dvals,
			   const struct sx_param *params, size_t nparams)
{
	memset(pb, 0, nparams * sizeof(*pb));
	for (size_t i = 0; i < nparams; i++) {
		switch (params[i].type) {
		case SX_P_NULL:
			pb[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		case SX_P_STR:
			pb[i].buffer_type = MYSQL_TYPE_STRING;
			pb[i].buffer = (void *)params[i].s;
			pb[i].buffer_length = (unsigned long)params[i].n;
			break;
		case SX_P_I64:
			ivals[i] = params[i].i;
			pb[i].buffer_type = MYSQL_TYPE_LONGLONG;
			pb[i].buffer = &ivals[i];
			break;
		case SX_P_F64:
			dvals[i] = params[i].d;
			pb[i].buffer_type = MYSQL_TYPE_DOUBLE;
			pb[i].buffer = &dvals[i];
			break;
		}
	}
}

/*
 * The result buffers of one statement: every column is fetched as text
 * into an inline buffer; a longer cell is fetched again at its full size.
 */
struct db_fetch {
	size_t ncols;
	MYSQL_BIND *rb;
	char (*inl)[DB_CELL_INLINE];
	unsigned long *lens;
	my_bool *nulls, *errs;
};

static void db_fetch_init(struct db_fetch *f, size_t ncols)
{
	f->ncols = ncols;
	f->rb = xcalloc(ncols, sizeof(*f->rb));
	f->inl = xcalloc(ncols, sizeof(*f->inl));
	f->lens = xcalloc(ncols, sizeof(*f->lens));
	f->nulls = xcalloc(ncols, sizeof(*f->nulls));
	f->errs = xcalloc(ncols, sizeof(*f->errs));
	for (size_t c = 0; c < ncols; c++) {
		f->rb[c].buffer_type = MYSQL_TYPE_STRING;
		f->rb[c].buffer = f->inl[c];
		f->rb[c].buffer_length = DB_CELL_INLINE;
		f->rb[c].length = &f->lens[c];
		f->rb[c].is_null = &f->nulls[c];
		f->rb[c].error = &f->errs[c];
	}
}

static void db_fetch_release(struct db_fetch *f)
{
	free(f->rb);
	free(f->inl);
	free(f->lens);
	free(f->nulls);
	free(f->errs);
	memset(f, 0, sizeof(*f));
}

/* Makes room in rows for one more row of ncols cells. */
static void db_rows_grow(struct sx_rows *rows, size_t *cap)
{
	size_t need = (rows->nrows + 1) * rows->ncols;

	if (need <= *cap)
		return;
	*cap = *cap ? *cap * 2 : rows->ncols * 16;
	while (*cap < need)
		*cap *= 2;
	rows->cells = xrealloc(rows->cells, *cap * sizeof(*rows->cells));
	rows->lens = xrealloc(rows->lens, *cap * sizeof(*rows->lens));
}

/*
 * Copies the fetched row into row `rows->nrows` of rows and counts it.  On
 * a failed fetch of a long cell the row is still counted, with the cells
 * not read set to NULL, so sx_rows_free() frees exactly what was copied.
 */
static enum sx_rc db_copy_row(struct sx_db *db, MYSQL_STMT *st, const struct db_fetch *f,
			      struct sx_rows *rows)
{
	size_t base = rows->nrows * f->ncols;
	enum sx_rc rc = SX_OK;

	for (size_t c = 0; c < f->ncols; c++)
		rows->cells[base + c] = NULL;
	for (size_t c = 0; c < f->ncols && rc == SX_OK; c++) {
		char *cell = NULL;

		rows->lens[base + c] = f->nulls[c] ? 0 : f->lens[c];
		if (f->nulls[c])
			continue;
		cell = xmalloc(f->lens[c] + 1);
		if (f->lens[c] <= DB_CELL_INLINE) {
			memcpy(cell, f->inl[c], f->lens[c]);
		} else {
			MYSQL_BIND big;

			memset(&big, 0, sizeof(big));
			big.buffer_type = MYSQL_TYPE_STRING;
			big.buffer = cell;
			big.buffer_length = f->lens[c];
			if (mysql_stmt_fetch_column(st, &big, (unsigned)c, 0)) {
				free(cell);
				rc = db_map_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
				break;
			}
		}
		cell[f->lens[c]] = '\0';
		rows->cells[base + c] = cell;
	}
	rows->nrows++;
	return rc;
}

/* Reads the whole result of the executed st (ncols columns) into *out. */
static enum sx_rc db_read_rows(struct sx_db *db, MYSQL_STMT *st, size_t ncols, struct sx_rows **out)
{
	struct db_fetch f;
	struct sx_rows *rows = NULL;
	size_t cap = 0;
	enum sx_rc rc = SX_OK;

	db_fetch_init(&f, ncols);
	if (mysql_stmt_bind_result(st, f.rb) || mysql_stmt_store_result(st)) {
		rc = db_map_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto out;
	}
	rows = xcalloc(1, sizeof(*rows));
	rows->ncols = ncols;
	for (;;) {
		int r = mysql_stmt_fetch(st);

		if (r == MYSQL_NO_DATA)
			break;
		if (r == 1) {
			rc = db_map_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
			goto out;
		}
		db_rows_grow(rows, &cap);
		rc = db_copy_row(db, st, &f, rows);
		if (rc)
			goto out;
	}
	*out = rows;
	rows = NULL;
out:
	sx_rows_free(rows);
	db_fetch_release(&f);
	return rc;
}

/*
 * Executes sql with params on the current connection.  When rows_out is
 * not NULL, the whole result is read into *rows_out.  A failed statement is
 * dropped from the cache (it may be spoiled), a lost connection closed.
 */
static enum sx_rc db_run_once(struct sx_db *db, const char *sql,
			      const struct sx_param *params, size_t nparams,
			      unsigned long long *affected, struct sx_rows **rows_out)
{
	enum sx_rc rc = SX_OK;
	MYSQL_STMT *st = NULL;
	MYSQL_BIND pb[DB_MAX_PARAMS];
	long long ivals[DB_MAX_PARAMS];
	double dvals[DB_MAX_PARAMS];
	MYSQL_RES *meta = NULL;
	struct sx_rows *rows = NULL;

	if (nparams > DB_MAX_PARAMS)
		abort();
	if (!db->connected) {
		rc = db_connect(db);
		if (rc)
			goto out;
	}
	rc = db_stmt(db, sql, &st);
	if (rc)
		goto out;
	if (mysql_stmt_param_count(st) != nparams) {
		log_error("db", "msg=\"parameter count mismatch\" want=%lu got=%zu",
			  mysql_stmt_param_count(st), nparams);
		abort();
	}
	db_bind_params(pb, ivals, dvals, params, nparams);
	if ((nparams && mysql_stmt_bind_param(st, pb)) || mysql_stmt_execute(st)) {
		rc = db_map_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto out_forget;
	}
	if (affected)
		*affected = (unsigned long long)mysql_stmt_affected_rows(st);
	meta = mysql_stmt_result_metadata(st);
	if (!meta) {
		if (rows_out)
			*rows_out = xcalloc(1, sizeof(**rows_out));
		goto out;
	}
	rc = db_read_rows(db, st, mysql_num_fields(meta), &rows);
	if (rc)
		goto out_forget;
	if (rows_out) {
		*rows_out = rows;
		rows = NULL;
	}
	goto out;

out_forget:
	if (rc == SX_EDBDOWN)
		db_drop_lost(db);
	else
		db_stmt_forget(db, sql);
	st = NULL;
out:
	if (st)
		mysql_stmt_free_result(st);
	if (meta)
		mysql_free_result(meta);
	sx_rows_free(rows);
	return rc;
}

/* Sleeps a random 1 to DB_TX_BACKOFF_MS << retry ms before retry `retry` (1, 2, …). */
static void db_backoff(int retry)
{
	unsigned r;

	crypto_random_bytes(&r, sizeof(r));
	sx_sleep_ms((int64_t)(r % (DB_TX_BACKOFF_MS << retry)) + 1, NULL);
}

/*
 * Runs one statement.  Outside a transaction a lost connection is
 * re-established (on the next server of the list) and the statement
 * retried once, and a deadlock (also how Galera reports a certification
 * failure; the statement took no effect) is retried up to DB_TX_TRIES
 * times.  A lock wait timeout is returned as SX_EDEADLOCK without a retry:
 * it has already waited innodb_lock_wait_timeout.  Inside a transaction
 * every failure is returned, because the transaction's earlier statements
 * are gone with it and only sx_db_tx() can run them again.
 */
static enum sx_rc db_run(struct sx_db *db, const char *sql,
			 const struct sx_param *params, size_t nparams,
			 unsigned long long *affected, struct sx_rows **rows_out)
{
	bool in_tx = db->in_tx;
	enum sx_rc rc = db_run_once(db, sql, params, nparams, affected, rows_out);

	if (rc == SX_EDBDOWN && !in_tx && db->connected == false) {
		if (db_connect(db) == SX_OK)
			rc = db_run_once(db, sql, params, nparams, affected, rows_out);
	}
	for (int retry = 1; rc == SX_EDEADLOCK && db->last_errno == ER_LOCK_DEADLOCK && !in_tx &&
			    retry < DB_TX_TRIES; retry++) {
		db_backoff(retry);
		rc = db_run_once(db, sql, params, nparams, affected, rows_out);
	}
	return rc;
}

enum sx_rc sx_db_exec(struct sx_db *db, const char *sql,
		      const struct sx_param *params, size_t nparams,
		      unsigned long long *affected)
{
	return db_run(db, sql, params, nparams, affected, NULL);
}

enum sx_rc sx_db_query(struct sx_db *db, const char *sql,
		       const struct sx_param *params, size_t nparams,
		       struct sx_rows **out)
{
	*out = NULL;
	return db_run(db, sql, params, nparams, NULL, out);
}

enum sx_rc sx_db_exec_uncached(struct sx_db *db, const char *sql)
{
	enum sx_rc rc = db_run(db, sql, NULL, 0, NULL, NULL);

	if (db->connected)
		db_stmt_forget(db, sql);
	return rc;
}

enum sx_rc sx_db_ping(struct sx_db *db)
{
	static const char sql[] = "SELECT 1";
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, sql, NULL, 0, &rows);

	sx_rows_free(rows);
	return rc;
}

/*
 * START TRANSACTION, and COMMIT or ROLLBACK at the end, frame a transaction
 * in two round trips; the session stays in autocommit, so no statement
 * switches it off and on again around every transaction.
 */
static bool db_start_tx(struct sx_db *db)
{
	static const char sql[] = "START TRANSACTION";

	return mysql_real_query(db->my, sql, (unsigned long)(sizeof(sql) - 1)) == 0;
}

enum sx_rc sx_db_begin(struct sx_db *db)
{
	enum sx_rc rc = SX_OK;

	if (!db->connected) {
		rc = db_connect(db);
		if (rc)
			return rc;
	}
	if (!db_start_tx(db)) {
		rc = db_map_error(db, mysql_errno(db->my), mysql_error(db->my));
		if (rc == SX_EDBDOWN) {
			db_drop_lost(db);
			if (db_connect(db) == SX_OK && db_start_tx(db))
				rc = SX_OK;
		}
		if (rc)
			return rc;
	}
	db->in_tx = true;
	return SX_OK;
}

enum sx_rc sx_db_commit(struct sx_db *db)
{
	enum sx_rc rc = SX_OK;

	if (!db->connected)
		return SX_EDBDOWN;
	if (mysql_commit(db->my)) {
		rc = db_map_error(db, mysql_errno(db->my), mysql_error(db->my));
		if (rc == SX_EDBDOWN) {
			db_drop_lost(db);
			return rc;
		}
		mysql_rollback(db->my);
	}
	db->in_tx = false;
	return rc;
}

void sx_db_rollback(struct sx_db *db)
{
	if (db->connected && db->my) {
		if (mysql_rollback(db->my))
			db_drop_lost(db);
	}
	db->in_tx = false;
}

/*
 * Whether a transaction that lost a lock race (rc SX_EDEADLOCK) on try
 * `attempt` (0, 1, …) since start is worth another try.  A lock wait
 * timeout has waited innodb_lock_wait_timeout already: three tries, as for
 * one node.  A deadlock is reported at once: retried while the time budget
 * lasts.
 */
static bool db_tx_retry_race(const struct sx_db *db, int attempt, int64_t start)
{
	if (db->last_errno == ER_LOCK_WAIT_TIMEOUT)
		return attempt < 2;
	return sx_mono_ms() - start <= DB_TX_BUDGET_MS;
}

enum sx_rc sx_db_tx(struct sx_db *db, sx_db_tx_fn fn, void *arg)
{
	int64_t start = sx_mono_ms();
	enum sx_rc rc = SX_OK;

	for (int attempt = 0; attempt < DB_TX_TRIES; attempt++) {
		if (attempt > 0 && rc == SX_EDEADLOCK)
			db_backoff(attempt);
		rc = sx_db_begin(db);
		if (rc)
			break;
		rc = fn(db, arg);
		if (rc == SX_OK)
			rc = sx_db_commit(db);
		if (rc == SX_OK)
			break;
		sx_db_rollback(db);
		if (rc == SX_EDEADLOCK && db_tx_retry_race(db, attempt, start))
			continue;
		if (rc == SX_EDBDOWN && db_connect(db) == SX_OK)
			continue;
		break;
	}
	return rc;
}

long long sx_rows_i64(const struct sx_rows *r, size_t row, size_t col, long long def)
{
	const char *s = sx_rows_get(r, row, col);
	long long v;

	if (!s || !sx_parse_ll(s, LLONG_MIN, LLONG_MAX, &v))
		return def;
	return v;
}

double sx_rows_f64(const struct sx_rows *r, size_t row, size_t col, double def)
{
	const char *s = sx_rows_get(r, row, col);
	double v;

	if (!s || !sx_parse_double(s, -1e308, 1e308, &v))
		return def;
	return v;
}

void sx_rows_free(struct sx_rows *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r->lens);
	free(r);
}
