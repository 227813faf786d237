#ifndef SX_DB_H
#define SX_DB_H
/*
 * The MariaDB layer.  Only db.c includes mysql.h; the rest of the program
 * sees these types.  Every statement goes through a prepared statement with
 * bound parameters: SQL text is always a constant, never built from input.
 *
 * A connection is owned by one process.  db_host may list several servers
 * (the nodes of a Galera cluster): a connection is made to the first that
 * answers, and one that is lost is made again to the next server in the
 * list.  A statement that meets a lost connection outside a transaction
 * reconnects once and is retried, and one that meets a deadlock (or a
 * Galera certification failure, reported the same way) is retried; a lock
 * wait timeout is returned (SX_EDEADLOCK) at once, having waited already.
 * Inside a transaction every failure is returned and sx_db_tx() decides.
 * Statements are prepared once per connection and cached by their SQL
 * text pointer.
 * The session runs in UTC (`time_zone = '+00:00'`).
 */
#include "sx.h"

struct sx_conf;
struct sx_db;

enum sx_param_type { SX_P_NULL, SX_P_STR, SX_P_I64, SX_P_F64 };

struct sx_param {
	enum sx_param_type type;
	const char *s;    /* SX_P_STR: not necessarily NUL-terminated */
	size_t n;         /* SX_P_STR: length in bytes */
	long long i;
	double d;
};

/* Parameter constructors; a NULL string binds SQL NULL. */
static inline struct sx_param sx_p_str(const char *s)
{
	struct sx_param p = { s ? SX_P_STR : SX_P_NULL, s, s ? strlen(s) : 0, 0, 0 };
	return p;
}
static inline struct sx_param sx_p_strn(const char *s, size_t n)
{
	struct sx_param p = { s ? SX_P_STR : SX_P_NULL, s, n, 0, 0 };
	return p;
}
static inline struct sx_param sx_p_i64(long long i)
{
	struct sx_param p = { SX_P_I64, NULL, 0, i, 0 };
	return p;
}
static inline struct sx_param sx_p_f64(double d)
{
	struct sx_param p = { SX_P_F64, NULL, 0, 0, d };
	return p;
}
static inline struct sx_param sx_p_null(void)
{
	struct sx_param p = { SX_P_NULL, NULL, 0, 0, 0 };
	return p;
}

/*
 * A fully read result: every cell as text (NULL for SQL NULL).  Owned by the
 * caller, freed with sx_rows_free().
 */
struct sx_rows {
	size_t nrows;
	size_t ncols;
	char **cells;      /* nrows * ncols */
	size_t *lens;
};

static inline const char *sx_rows_get(const struct sx_rows *r, size_t row, size_t col)
{
	return r->cells[row * r->ncols + col];
}
/* The cell as an integer; def when NULL or not a number. */
long long sx_rows_i64(const struct sx_rows *r, size_t row, size_t col, long long def);
double sx_rows_f64(const struct sx_rows *r, size_t row, size_t col, double def);
void sx_rows_free(struct sx_rows *r);

/*
 * Connects with the config's host/port/socket/user/password/name.  Returns
 * SX_EDBDOWN when the server is unreachable; *out is set either way (a
 * handle that failed to connect tries again on its next statement).
 */
enum sx_rc sx_db_open(struct sx_db **out, const struct sx_conf *c);
void sx_db_free(struct sx_db *db);
/* Checks the connection (a round trip); reconnects when it was lost. */
enum sx_rc sx_db_ping(struct sx_db *db);

/*
 * Runs a statement that returns no rows.  affected may be NULL.
 * SX_ECONFLICT for a duplicate key, SX_EDEADLOCK for a lost lock race,
 * SX_EDBDOWN when the server is gone, SX_EDB otherwise.
 */
enum sx_rc sx_db_exec(struct sx_db *db, const char *sql,
		      const struct sx_param *params, size_t nparams,
		      unsigned long long *affected);
/* Runs a query and reads its whole result into *out (caller frees). */
enum sx_rc sx_db_query(struct sx_db *db, const char *sql,
		       const struct sx_param *params, size_t nparams,
		       struct sx_rows **out);

/*
 * Runs one statement of a trusted script (a migration file) whose text is
 * not a constant: it is prepared, run and closed, never cached.
 */
enum sx_rc sx_db_exec_uncached(struct sx_db *db, const char *sql);

enum sx_rc sx_db_begin(struct sx_db *db);
enum sx_rc sx_db_commit(struct sx_db *db);
void sx_db_rollback(struct sx_db *db);

/*
 * Runs fn(db, arg) inside a transaction and commits.  When fn or the commit
 * returns SX_EDEADLOCK (under Galera also a certification failure at
 * commit), or the connection was lost (SX_EDBDOWN) and comes back (perhaps
 * on another server), the whole transaction is retried, up to six times in
 * all, a lock race after a short random pause: a deadlock while two
 * seconds have not passed, a lock wait timeout three times at most (each
 * has waited innodb_lock_wait_timeout).  fn must have no effects
 * outside the database, must not change its own inputs in arg, and must be
 * safe to run again after a commit whose answer was lost: the commit may
 * have been applied, so fn's writes are conditioned on the state they
 * change (a lease owner, a status), never blind.  Any other error rolls
 * back and is returned as is, as is the last one when the retries run out.
 */
typedef enum sx_rc (*sx_db_tx_fn)(struct sx_db *db, void *arg);
enum sx_rc sx_db_tx(struct sx_db *db, sx_db_tx_fn fn, void *arg);

/* The last server error text (for logs); never contains parameter values. */
const char *sx_db_error(const struct sx_db *db);
#endif
