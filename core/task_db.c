/*
 * Storage of tasks and steps (see task_db.h).  Every query of the API's
 * functions names the organization, so no path can read or change another
 * organization's rows.
 */
#include <limits.h>
#include <time.h>
#include "sx.h"
#include "task_db.h"
#include "org_db.h"
#include "crypto.h"
#include "delivery_db.h"
#include "db.h"
#include "log.h"
#include "timeutil.h"
#include "artifact_url.h"
#include "conf.h"

#define TASK_COLUMNS \
	"id, org_id, status, request, max_steps, extracted_information, " \
	"failure_reason, errors, webhook_failure_reason, step_count, attempt, " \
	"created_at, modified_at, queued_at, started_at, finished_at, proxy_used, " \
	"screenshot_artifact, recording_artifact, action_screenshot_artifacts, lease_owner, run_request, replay"

enum {
	C_ID, C_ORG, C_STATUS, C_REQUEST, C_MAX_STEPS, C_EXTRACTED,
	C_FAILURE, C_ERRORS, C_WEBHOOK_FAILURE, C_STEP_COUNT, C_ATTEMPT,
	C_CREATED, C_MODIFIED, C_QUEUED, C_STARTED, C_FINISHED, C_PROXY,
	C_SHOT, C_RECORDING, C_ACTION_SHOTS, C_LEASE_OWNER, C_RUN_REQUEST, C_REPLAY,
	/* the claim's read adds these */
	C_CLAIM_ELAPSED, C_CLAIM_RESUMED, C_CLAIM_STEP_ORDER, C_CLAIM_STEP_OUTPUT, C_CLAIM_STEP_RETRY
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static char *iso_or_null(const char *s)
{
	char iso[32];

	if (!s || !sx_time_db_to_iso(s, iso))
		return NULL;
	return xstrdup(iso);
}

/* Parses JSON we stored ourselves; a cell that does not parse reads as null. */
static json_object *stored_json(const char *s)
{
	return s ? json_tokener_parse(s) : NULL;
}

/*
 * Reads the stored request with the depth limit it was accepted with.  One
 * that cannot be read (a row from before the limit was one) stays NULL and
 * the task says why in its errors, so GET never shows "request":null
 * silently, and the agent fails such a task (runner_run_task).
 */
static void task_read_request(struct task *t, const char *cell)
{
	json_object *e;
	char err[128], reason[256];

	if (cell)
		t->request = sx_json_parse_stored(cell, strlen(cell), SX_JSON_MAX_DEPTH, err, sizeof(err));
	if (cell && !t->request) {
		log_warn("task_db", "msg=\"stored request unreadable\" task=%s error=%s", t->id,
			 sx_log_quote(err));
		snprintf(reason, sizeof(reason), "The stored request of this task cannot be read (%s; "
			 "requests may nest at most %d levels deep)", err, SX_JSON_MAX_DEPTH);
		if (!json_object_is_type(t->errors, json_type_array)) {
			json_object_put(t->errors);
			t->errors = json_object_new_array();
		}
		e = json_object_new_object();
		json_object_object_add(e, "error_code", json_object_new_string("request_unreadable"));
		json_object_object_add(e, "reasoning", json_object_new_string(reason));
		json_object_array_add(t->errors, e);
	}
}

/*
 * The URL of an artifact path: signed and absolute under public_base_url
 * with conf (NULL when artifact_url_key is empty, so no unsigned URL ever
 * leaves), or the bare path without conf (for the agent).
 */
static char *artifact_url(const struct sx_conf *conf, long long now, const char *path)
{
	if (!path)
		return NULL;
	if (!conf)
		return xstrdup(path);
	return arturl_sign(conf->public_base_url, conf->artifact_url_key,
			   conf->artifact_url_ttl, now, path);
}

/* Fills t from row i of a TASK_COLUMNS result. */
static void task_from_row(const struct sx_rows *r, size_t i, const struct sx_conf *base, struct task *t)
{
	long long now = (long long)time(NULL);
	json_object *shots;

	memset(t, 0, sizeof(*t));
	t->id = dup_or_null(sx_rows_get(r, i, C_ID));
	t->org_id = dup_or_null(sx_rows_get(r, i, C_ORG));
	if (!task_status_parse(sx_rows_get(r, i, C_STATUS), &t->status))
		t->status = TASK_FAILED;
	t->max_steps = sx_rows_i64(r, i, C_MAX_STEPS, 0);
	t->extracted_information = stored_json(sx_rows_get(r, i, C_EXTRACTED));
	t->failure_reason = dup_or_null(sx_rows_get(r, i, C_FAILURE));
	t->errors = stored_json(sx_rows_get(r, i, C_ERRORS));
	task_read_request(t, sx_rows_get(r, i, C_REQUEST));
	t->webhook_failure_reason = dup_or_null(sx_rows_get(r, i, C_WEBHOOK_FAILURE));
	t->step_count = sx_rows_i64(r, i, C_STEP_COUNT, 0);
	t->attempt = sx_rows_i64(r, i, C_ATTEMPT, 0);
	t->created_at = iso_or_null(sx_rows_get(r, i, C_CREATED));
	t->modified_at = iso_or_null(sx_rows_get(r, i, C_MODIFIED));
	t->queued_at = iso_or_null(sx_rows_get(r, i, C_QUEUED));
	t->started_at = iso_or_null(sx_rows_get(r, i, C_STARTED));
	t->finished_at = iso_or_null(sx_rows_get(r, i, C_FINISHED));
	t->proxy_used = dup_or_null(sx_rows_get(r, i, C_PROXY));
	t->screenshot_url = artifact_url(base, now, sx_rows_get(r, i, C_SHOT));
	t->recording_url = artifact_url(base, now, sx_rows_get(r, i, C_RECORDING));
	t->lease_owner = dup_or_null(sx_rows_get(r, i, C_LEASE_OWNER));
	t->run_request = stored_json(sx_rows_get(r, i, C_RUN_REQUEST));
	t->replay = stored_json(sx_rows_get(r, i, C_REPLAY));
	t->action_screenshot_urls = json_object_new_array();
	shots = stored_json(sx_rows_get(r, i, C_ACTION_SHOTS));
	if (shots && json_object_is_type(shots, json_type_array)) {
		for (size_t k = 0; k < json_object_array_length(shots); k++) {
			const char *p = json_object_get_string(json_object_array_get_idx(shots, k));
			char *url = artifact_url(base, now, p);

			if (url)
				json_object_array_add(t->action_screenshot_urls,
						      json_object_new_string(url));
			free(url);
		}
	}
	json_object_put(shots);
}

/*
 * One create.  The creator is either an organization the router has
 * authenticated (org_id) or, on the routes that check the key in the
 * create's own statement, the SHA-256 of the API key the request presents
 * (key_hash, org_id then NULL).  The idempotent create's claim writes the
 * organization it named into org_buf; the inputs never change, so a
 * transaction run again (sx_db_tx()) checks the key again.
 */
struct create_tx {
	const char *org_id;
	const char *key_hash;
	char org_buf[SX_ID_MAX];    /* the claim's organization; "" until one */
	const char *request;
	const char *run_request;     /* NULL for a task created through /api/v1/tasks */
	long long max_steps;
	const char *idem_key;
	long long ttl;
	char *id_out;
	bool existing;
};

/*
 * The task's own INSERT for the organization org, with the id already in
 * c->id_out.  With no org (only the key's hash known) it is INSERT … SELECT
 * from the key's row, so the key check costs no statement of its own: a
 * key that is not an active one inserts nothing and is SX_EAUTH.
 */
static enum sx_rc create_insert_task(struct sx_db *db, const struct create_tx *c, const char *org)
{
	static const char q[] =
		"INSERT INTO tasks (id, org_id, status, request, run_request, max_steps, "
		"created_at, modified_at, queued_at) VALUES (?, ?, 'queued', ?, ?, ?, "
		"UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))";
	static const char q_key[] =
		"INSERT INTO tasks (id, org_id, status, request, run_request, max_steps, "
		"created_at, modified_at, queued_at) SELECT ?, org_id, 'queued', ?, ?, ?, "
		"UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) FROM " API_KEY_ACTIVE;
	unsigned long long n = 0;
	enum sx_rc rc;

	if (org) {
		struct sx_param p[] = { sx_p_str(c->id_out), sx_p_str(org), sx_p_str(c->request),
					sx_p_str(c->run_request), sx_p_i64(c->max_steps) };

		return sx_db_exec(db, q, p, 5, NULL);
	}
	{
		struct sx_param p[] = { sx_p_str(c->id_out), sx_p_str(c->request),
					sx_p_str(c->run_request), sx_p_i64(c->max_steps),
					sx_p_str(c->key_hash) };

		rc = sx_db_exec(db, q_key, p, 5, &n);
	}
	if (rc == SX_OK && n == 0)
		rc = SX_EAUTH;
	return rc;
}

/*
 * Claims the idempotency key for the fresh id in c->id_out, or learns which
 * task holds it, in one statement: the primary key (org_id, idem_key)
 * decides.  A key nobody holds is inserted (no lock but the new row's own);
 * a key that exists is locked (record only, never a gap) and its row is
 * taken over when it is older than the TTL, else left as it is; RETURNING
 * gives the task_id the row names afterwards.  Both IF()s test the old
 * created_at (the first assignment does not change it), so they agree.  A
 * concurrent create of the same key waits on that row lock until this
 * transaction ends and then reads what it committed.  Sets c->existing when
 * the key names another task, whose id is then in c->id_out.
 *
 * Given only the API key's hash, the row's organization is selected from
 * the key's row in the same statement; no row at all means the key is not
 * an active one (SX_EAUTH).  Either way RETURNING names the organization,
 * which goes into c->org_buf.
 */
#define CLAIM_ODKU \
	" ON DUPLICATE KEY UPDATE " \
	"task_id = IF(idempotency_keys.created_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND, " \
	"VALUES(task_id), task_id), " \
	"created_at = IF(idempotency_keys.created_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND, " \
	"VALUES(created_at), idempotency_keys.created_at) "
static enum sx_rc create_claim_key(struct sx_db *db, struct create_tx *c)
{
	static const char q[] =
		"INSERT INTO idempotency_keys (org_id, idem_key, task_id, created_at) "
		"VALUES (?, ?, ?, UTC_TIMESTAMP(6))" CLAIM_ODKU "RETURNING task_id, org_id";
	static const char q_key[] =
		"INSERT INTO idempotency_keys (org_id, idem_key, task_id, created_at) "
		"SELECT org_id, ?, ?, UTC_TIMESTAMP(6) FROM " API_KEY_ACTIVE
		CLAIM_ODKU "RETURNING task_id, org_id";
	struct sx_param p[] = { sx_p_str(c->key_hash ? c->key_hash : c->org_id),
				sx_p_str(c->idem_key), sx_p_str(c->id_out),
				sx_p_i64(c->ttl), sx_p_i64(c->ttl) };
	struct sx_rows *rows = NULL;
	const char *holder, *org;
	enum sx_rc rc;

	if (c->key_hash) {
		/* The statement with the key's hash takes it after the key and id. */
		struct sx_param pk[] = { p[1], p[2], p[0], p[3], p[4] };

		rc = sx_db_query(db, q_key, pk, 5, &rows);
	} else {
		rc = sx_db_query(db, q, p, 5, &rows);
	}
	if (rc)
		goto out;
	if (rows->nrows == 0 && c->key_hash) {
		rc = SX_EAUTH;
		goto out;
	}
	holder = rows->nrows == 1 ? sx_rows_get(rows, 0, 0) : NULL;
	org = rows->nrows == 1 ? sx_rows_get(rows, 0, 1) : NULL;
	if (!holder || strlen(holder) >= SX_ID_MAX || !org || strlen(org) >= SX_ID_MAX) {
		log_error("task_db", "msg=\"idempotency key claim returned no task id\" rows=%zu",
			  rows->nrows);
		rc = SX_EDB;
		goto out;
	}
	snprintf(c->org_buf, sizeof(c->org_buf), "%s", org);
	if (strcmp(holder, c->id_out) != 0) {
		snprintf(c->id_out, SX_ID_MAX, "%s", holder);
		c->existing = true;
	}
out:
	sx_rows_free(rows);
	return rc;
}
#undef CLAIM_ODKU

/*
 * An idempotent create: the key first, then the task, in one transaction,
 * so a key never names a missing task and a key makes one task.  A key
 * another task holds inserts nothing: the caller replays that task.  The
 * claim names the organization (checking the API key when that is all
 * there is), so the task's INSERT needs no key check of its own.  Only
 * id_out, org_buf and existing are written, each from scratch, so
 * sx_db_tx() may run it again after a failed COMMIT.
 */
static enum sx_rc create_idem_tx(struct sx_db *db, void *arg)
{
	struct create_tx *c = arg;
	enum sx_rc rc;

	c->existing = false;
	c->org_buf[0] = '\0';
	sx_id_new(c->id_out, "tsk_");
	rc = create_claim_key(db, c);
	if (rc == SX_OK && !c->existing)
		rc = create_insert_task(db, c, c->org_buf);
	return rc;
}

/*
 * The create both public functions share: the creator is org_id, or the
 * API key whose hash is key_hash (org_out then receives its organization
 * when a statement named it).
 */
static enum sx_rc create_run(struct sx_db *db, const char *org_id, const char *key_hash,
			     json_object *request, json_object *run_request, long long max_steps,
			     const char *idem_key, long long ttl_seconds, char id_out[SX_ID_MAX],
			     char *org_out, bool *existing)
{
	struct create_tx c = {
		.org_id = org_id,
		.key_hash = key_hash,
		.request = json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN),
		.run_request = run_request ?
			json_object_to_json_string_ext(run_request, JSON_C_TO_STRING_PLAIN) : NULL,
		.max_steps = max_steps,
		.idem_key = idem_key,
		.ttl = ttl_seconds,
		.id_out = id_out,
	};
	enum sx_rc rc;

	/*
	 * Without an idempotency key the task is one INSERT, atomic on its own:
	 * run it in autocommit and spare the transaction's extra round trips.
	 */
	if (idem_key) {
		/* A lost lock race is retried there, with jittered backoff. */
		rc = sx_db_tx(db, create_idem_tx, &c);
	} else {
		sx_id_new(id_out, "tsk_");
		rc = create_insert_task(db, &c, org_id);
		/*
		 * A fresh random id is only ever taken by this very INSERT: the
		 * server committed it, lost the connection before answering, and
		 * the retry on the next server found the row.  The task exists once.
		 */
		if (rc == SX_ECONFLICT)
			rc = SX_OK;
	}
	if (org_out && rc == SX_OK)
		snprintf(org_out, SX_ID_MAX, "%s", c.org_buf);
	*existing = c.existing;
	return rc;
}

enum sx_rc task_db_create(struct sx_db *db, const char *org_id,
			  json_object *request, json_object *run_request, long long max_steps,
			  const char *idem_key, long long ttl_seconds,
			  char id_out[SX_ID_MAX], bool *existing)
{
	return create_run(db, org_id, NULL, request, run_request, max_steps, idem_key,
			  ttl_seconds, id_out, NULL, existing);
}

enum sx_rc task_db_create_by_key(struct sx_db *db, const char *key, size_t keylen,
				 json_object *request, json_object *run_request,
				 long long max_steps, const char *idem_key, long long ttl_seconds,
				 char id_out[SX_ID_MAX], char org_out[SX_ID_MAX], bool *existing)
{
	char hash[CRYPTO_SHA256_HEX];

	org_out[0] = '\0';
	*existing = false;
	if (!auth_key_hash(key, keylen, hash))
		return SX_EAUTH;
	return create_run(db, NULL, hash, request, run_request, max_steps, idem_key,
			  ttl_seconds, id_out, org_out, existing);
}

enum sx_rc task_db_get(struct sx_db *db, const char *org_id, const char *task_id,
		       const struct sx_conf *artifact_base, struct task *out)
{
	static const char q[] = "SELECT " TASK_COLUMNS " FROM tasks WHERE id = ? AND org_id = ?";
	struct sx_param p[] = { sx_p_str(task_id), sx_p_str(org_id) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	memset(out, 0, sizeof(*out));
	rc = sx_db_query(db, q, p, 2, &rows);
	if (rc)
		goto out;
	if (rows->nrows == 0) {
		rc = SX_ENOTFOUND;
		goto out;
	}
	task_from_row(rows, 0, artifact_base, out);
out:
	sx_rows_free(rows);
	return rc;
}

enum sx_rc task_db_get_by_key(struct sx_db *db, const char *key, size_t keylen,
			      const char *task_id, const struct sx_conf *conf, struct task *out)
{
	static const char q[] = "SELECT " TASK_COLUMNS " FROM tasks WHERE id = ? AND org_id = "
		"(SELECT org_id FROM " API_KEY_ACTIVE ")";
	struct sx_rows *rows = NULL;
	char hash[CRYPTO_SHA256_HEX];
	enum sx_rc rc;

	memset(out, 0, sizeof(*out));
	if (!auth_key_hash(key, keylen, hash))
		return SX_ENOTFOUND;
	{
		struct sx_param p[] = { sx_p_str(task_id), sx_p_str(hash) };

		rc = sx_db_query(db, q, p, 2, &rows);
	}
	if (rc == SX_OK && rows->nrows == 0)
		rc = SX_ENOTFOUND;
	if (rc == SX_OK)
		task_from_row(rows, 0, conf, out);
	sx_rows_free(rows);
	return rc;
}

/*
 * An upper estimate of a task object's JSON from its stored cells: the
 * fixed members (names, ids, timestamps, counters) stay under 1 KiB, the
 * stored JSON re-serializes no longer than it is stored (the request counts
 * twice: a list item copies its fields up), a string may
 * double when escaped, and each artifact path becomes a signed URL at most
 * 256 bytes longer.
 */
#define LIST_ROW_BYTES \
	"1024 + 2 * LENGTH(request) + IFNULL(LENGTH(extracted_information), 0) + " \
	"IFNULL(LENGTH(errors), 0) + 2 * IFNULL(LENGTH(failure_reason), 0) + " \
	"2 * IFNULL(LENGTH(webhook_failure_reason), 0) + " \
	"IFNULL(LENGTH(screenshot_artifact), 0) + IFNULL(LENGTH(recording_artifact), 0) + " \
	"IFNULL(LENGTH(action_screenshot_artifacts), 0) + 256 * (" \
	"(screenshot_artifact IS NOT NULL) + (recording_artifact IS NOT NULL) + " \
	"IFNULL(JSON_LENGTH(action_screenshot_artifacts), 0))"
#define LIST_FILTER " AND status IN (?, ?, ?, ?, ?, ?, ?, ?)"
#define LIST_AFTER(CMP) " AND (created_at " CMP " ? OR (created_at = ? AND id " CMP " ?))"
/*
 * The page's ids and sizes come first (innermost: the offset page, sizes
 * only), then the running total over them in the page's order, then the
 * full rows of the prefix within the budget.  page_rows tells a page cut
 * by the budget from a short last page.
 */
#define LIST_SQL(ORD, FILTER, AFTER) \
	"SELECT " TASK_COLUMNS ", page_rows FROM (SELECT t.*, pg.rn, pg.running, pg.page_rows " \
	"FROM tasks t JOIN (SELECT pid, COUNT(*) OVER () AS page_rows, " \
	"ROW_NUMBER() OVER (ORDER BY created_at " ORD ", pid " ORD ") AS rn, " \
	"SUM(size) OVER (ORDER BY created_at " ORD ", pid " ORD " ROWS UNBOUNDED PRECEDING) AS running " \
	"FROM (SELECT id AS pid, created_at, " LIST_ROW_BYTES " AS size FROM tasks " \
	"WHERE org_id = ?" FILTER AFTER " ORDER BY created_at " ORD ", id " ORD " LIMIT ? OFFSET ?) win" \
	") pg ON t.id = pg.pid) x WHERE rn = 1 OR running <= ? ORDER BY rn"

/* [ascending][filtered][after]: the statement cache is keyed by the text's address. */
static const char *const list_sql[2][2][2] = {
	{ { LIST_SQL("DESC", "", ""), LIST_SQL("DESC", "", LIST_AFTER("<")) },
	  { LIST_SQL("DESC", LIST_FILTER, ""), LIST_SQL("DESC", LIST_FILTER, LIST_AFTER("<")) } },
	{ { LIST_SQL("ASC", "", ""), LIST_SQL("ASC", "", LIST_AFTER(">")) },
	  { LIST_SQL("ASC", LIST_FILTER, ""), LIST_SQL("ASC", LIST_FILTER, LIST_AFTER(">")) } },
};
#undef LIST_ROW_BYTES
#undef LIST_FILTER
#undef LIST_AFTER
#undef LIST_SQL

/* The created_at of the task a listing starts after (owned); SX_ENOTFOUND when not org_id's. */
static enum sx_rc list_cursor(struct sx_db *db, const char *org_id, const char *task_id,
			      char **created_at)
{
	static const char q[] = "SELECT created_at FROM tasks WHERE id = ? AND org_id = ?";
	struct sx_param p[] = { sx_p_str(task_id), sx_p_str(org_id) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, p, 2, &rows);

	*created_at = NULL;
	if (rc == SX_OK && (rows->nrows == 0 || !sx_rows_get(rows, 0, 0)))
		rc = SX_ENOTFOUND;
	if (rc == SX_OK)
		*created_at = xstrdup(sx_rows_get(rows, 0, 0));
	sx_rows_free(rows);
	return rc;
}

enum sx_rc task_db_list(struct sx_db *db, const char *org_id, const struct task_list_query *q,
			const struct sx_conf *artifact_base, struct task_list_page *out)
{
	struct sx_param p[15];
	size_t np = 0, page_rows;
	struct sx_rows *rows = NULL;
	char *cursor = NULL;
	enum sx_rc rc = SX_OK;

	memset(out, 0, sizeof(*out));
	if (q->after)
		rc = list_cursor(db, org_id, q->after, &cursor);
	if (rc)
		goto out;
	p[np++] = sx_p_str(org_id);
	/* Eight slots, one per status; unused ones repeat the first. */
	for (size_t i = 0; q->nstatuses > 0 && i < 8; i++)
		p[np++] = sx_p_str(task_status_name(q->statuses[i < q->nstatuses ? i : 0]));
	if (cursor) {
		p[np++] = sx_p_str(cursor);
		p[np++] = sx_p_str(cursor);
		p[np++] = sx_p_str(q->after);
	}
	p[np++] = sx_p_i64(q->page_size);
	p[np++] = sx_p_i64((q->page - 1) * q->page_size);
	p[np++] = sx_p_i64(q->max_bytes > 0 ? q->max_bytes : LLONG_MAX);
	rc = sx_db_query(db, list_sql[q->ascending][q->nstatuses > 0][cursor != NULL], p, np, &rows);
	if (rc)
		goto out;
	out->tasks = json_object_new_array_ext((int)rows->nrows);
	for (size_t i = 0; i < rows->nrows; i++) {
		struct task t;

		task_from_row(rows, i, artifact_base, &t);
		json_object_array_add(out->tasks, task_to_list_json(&t));
		task_release(&t);
	}
	/* page_rows is the column after TASK_COLUMNS. */
	page_rows = rows->nrows ? (size_t)sx_rows_i64(rows, 0, C_REPLAY + 1, 0) : 0;
	if (rows->nrows < page_rows) {
		out->truncated = true;
		snprintf(out->last_id, sizeof(out->last_id), "%s",
			 sx_rows_get(rows, rows->nrows - 1, C_ID));
	}
out:
	free(cursor);
	sx_rows_free(rows);
	return rc;
}

struct cancel_tx {
	const char *org_id;
	const char *task_id;
	enum task_status current;
};

static enum sx_rc task_cancel_tx(struct sx_db *db, void *arg)
{
	static const char q_lock[] = "SELECT status FROM tasks WHERE id = ? AND org_id = ? FOR UPDATE";
	static const char q_cancel[] =
		"UPDATE tasks SET status = 'canceled', modified_at = UTC_TIMESTAMP(6), "
		"finished_at = UTC_TIMESTAMP(6) WHERE id = ? AND org_id = ?";
	struct cancel_tx *c = arg;
	struct sx_param p[] = { sx_p_str(c->task_id), sx_p_str(c->org_id) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	rc = sx_db_query(db, q_lock, p, 2, &rows);
	if (rc)
		goto out;
	if (rows->nrows == 0) {
		rc = SX_ENOTFOUND;
		goto out;
	}
	if (!task_status_parse(sx_rows_get(rows, 0, 0), &c->current))
		c->current = TASK_FAILED;
	if (!task_transition_allowed(c->current, TASK_CANCELED)) {
		rc = SX_ECONFLICT;
		goto out;
	}
	rc = sx_db_exec(db, q_cancel, p, 2, NULL);
	if (rc == SX_OK)
		rc = delivery_db_queue(db, c->task_id);
	if (rc == SX_OK)
		c->current = TASK_CANCELED;
out:
	sx_rows_free(rows);
	return rc;
}

enum sx_rc task_db_cancel(struct sx_db *db, const char *org_id, const char *task_id,
			  enum task_status *current)
{
	struct cancel_tx c = { org_id, task_id, TASK_CREATED };
	enum sx_rc rc = sx_db_tx(db, task_cancel_tx, &c);

	*current = c.current;
	return rc;
}

enum sx_rc task_db_owned(struct sx_db *db, const char *org_id, const char *task_id)
{
	static const char q[] = "SELECT 1 FROM tasks WHERE id = ? AND org_id = ?";
	struct sx_param p[] = { sx_p_str(task_id), sx_p_str(org_id) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, p, 2, &rows);

	if (rc == SX_OK && rows->nrows == 0)
		rc = SX_ENOTFOUND;
	sx_rows_free(rows);
	return rc;
}

enum sx_rc task_db_steps(struct sx_db *db, const char *org_id, const char *task_id,
			 json_object **out)
{
	static const char q_steps[] =
		"SELECT id, task_id, org_id, status, step_order, retry_index, is_last, "
		"input_token_count, output_token_count, step_cost, created_at, modified_at, output "
		"FROM steps WHERE task_id = ? AND org_id = ? ORDER BY step_order, retry_index";
	struct sx_param p[] = { sx_p_str(task_id), sx_p_str(org_id) };
	struct sx_rows *rows = NULL;
	json_object *arr = NULL;
	enum sx_rc rc;

	*out = NULL;
	rc = task_db_owned(db, org_id, task_id);
	if (rc)
		goto out;
	rc = sx_db_query(db, q_steps, p, 2, &rows);
	if (rc)
		goto out;
	arr = json_object_new_array_ext((int)rows->nrows);
	for (size_t i = 0; i < rows->nrows; i++) {
		struct step s;

		memset(&s, 0, sizeof(s));
		s.id = dup_or_null(sx_rows_get(rows, i, 0));
		s.task_id = dup_or_null(sx_rows_get(rows, i, 1));
		s.org_id = dup_or_null(sx_rows_get(rows, i, 2));
		if (!step_status_parse(sx_rows_get(rows, i, 3), &s.status))
			s.status = STEP_FAILED;
		s.order = sx_rows_i64(rows, i, 4, 0);
		s.retry_index = sx_rows_i64(rows, i, 5, 0);
		s.is_last = sx_rows_i64(rows, i, 6, 0) != 0;
		s.input_tokens = sx_rows_i64(rows, i, 7, 0);
		s.output_tokens = sx_rows_i64(rows, i, 8, 0);
		s.cost = sx_rows_f64(rows, i, 9, 0);
		s.created_at = iso_or_null(sx_rows_get(rows, i, 10));
		s.modified_at = iso_or_null(sx_rows_get(rows, i, 11));
		s.output = stored_json(sx_rows_get(rows, i, 12));
		json_object_array_add(arr, step_to_json(&s));
		step_release(&s);
	}
	*out = arr;
out:
	sx_rows_free(rows);
	return rc;
}

enum sx_rc task_db_set_webhook_failure(struct sx_db *db, const char *task_id, const char *reason)
{
	static const char q[] = "UPDATE tasks SET webhook_failure_reason = ? WHERE id = ?";
	struct sx_param p[] = { sx_p_str(reason), sx_p_str(task_id) };

	return sx_db_exec(db, q, p, 2, NULL);
}

enum sx_rc task_db_set_artifact(struct sx_db *db, const char *task_id,
				enum task_artifact_column col, const char *value)
{
	static const char q_shot[] =
		"UPDATE tasks SET screenshot_artifact = ?, modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	static const char q_recording[] =
		"UPDATE tasks SET recording_artifact = ?, modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	static const char q_actions[] =
		"UPDATE tasks SET action_screenshot_artifacts = ?, modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	static const char *const qs[] = { q_shot, q_recording, q_actions };
	struct sx_param p[] = { sx_p_str(value), sx_p_str(task_id) };

	if ((unsigned)col >= SX_ARRAY_LEN(qs))
		abort();
	return sx_db_exec(db, qs[col], p, 2, NULL);
}

static bool path_in(const char *path, const char *const *paths, size_t npaths)
{
	for (size_t i = 0; path && i < npaths; i++)
		if (strcmp(paths[i], path) == 0)
			return true;
	return false;
}

/*
 * The action screenshots of cell still among paths, written to *out (NULL
 * when none is; caller frees).  False, with *out NULL, when every one is
 * still there or cell is not an array: the column stays as it is.
 */
static bool shots_kept(const char *cell, const char *const *paths, size_t npaths, char **out)
{
	json_object *shots = stored_json(cell), *kept = json_object_new_array();
	bool changed = false;

	*out = NULL;
	if (!shots || !json_object_is_type(shots, json_type_array))
		goto out;
	for (size_t i = 0; i < json_object_array_length(shots); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(shots, i));

		if (path_in(s, paths, npaths))
			json_object_array_add(kept, json_object_new_string(s));
	}
	changed = json_object_array_length(kept) != json_object_array_length(shots);
	if (changed && json_object_array_length(kept) > 0)
		*out = xstrdup(json_object_to_json_string_ext(kept, JSON_C_TO_STRING_PLAIN));
out:
	json_object_put(kept);
	json_object_put(shots);
	return changed;
}

enum sx_rc task_db_artifacts_keep(struct sx_db *db, const char *task_id,
				  const char *const *paths, size_t npaths)
{
	static const char q_read[] =
		"SELECT screenshot_artifact, recording_artifact, action_screenshot_artifacts "
		"FROM tasks WHERE id = ?";
	static const char q_set[] =
		"UPDATE tasks SET screenshot_artifact = ?, recording_artifact = ?, "
		"action_screenshot_artifacts = ? WHERE id = ?";
	struct sx_param p[] = { sx_p_str(task_id) };
	struct sx_rows *rows = NULL;
	const char *shot, *rec, *actions;
	char *kept = NULL;
	bool changed;
	enum sx_rc rc = sx_db_query(db, q_read, p, 1, &rows);

	if (rc || rows->nrows == 0)
		goto out;
	shot = sx_rows_get(rows, 0, 0);
	rec = sx_rows_get(rows, 0, 1);
	actions = sx_rows_get(rows, 0, 2);
	changed = shots_kept(actions, paths, npaths, &kept);
	/* Nothing to rewrite when every named file is still there. */
	if (!changed && (!shot || path_in(shot, paths, npaths)) && (!rec || path_in(rec, paths, npaths)))
		goto out;
	{
		struct sx_param s[] = {
			sx_p_str(path_in(shot, paths, npaths) ? shot : NULL),
			sx_p_str(path_in(rec, paths, npaths) ? rec : NULL),
			sx_p_str(changed ? kept : actions), sx_p_str(task_id)
		};

		rc = sx_db_exec(db, q_set, s, 4, NULL);
	}
out:
	free(kept);
	sx_rows_free(rows);
	return rc;
}

/* ---- the agent's queue (see task_db.h) ------------------------------------ */

/* Candidates a claim tries before it reports nothing to claim (lost races). */
#define CLAIM_TRIES 8

/*
 * The claim's read: the candidate (an expired lease first, else the oldest
 * queued task) with its elapsed time, whether it is resumed, and one row
 * per completed step (step_order, output and retry_index NULL when it has
 * none), in no particular order.  The candidate is picked by two scalar
 * subqueries on ix_tasks_claim (the running tasks are few: sql/006) and read
 * by its primary key; the rows are
 * not sorted here, so no temporary table holds the LONGTEXT columns.
 */
static enum sx_rc claim_read(struct sx_db *db, struct sx_rows **rows)
{
	static const char q[] =
		"SELECT " TASK_COLUMNS ", COALESCE(TIMESTAMPDIFF(SECOND, started_at, UTC_TIMESTAMP(6)), 0), "
		"status = 'running', s.step_order, s.output, s.retry_index FROM tasks "
		"LEFT JOIN (SELECT task_id AS step_task, step_order, retry_index, output FROM steps "
		"WHERE status = 'completed') s ON s.step_task = id "
		"WHERE id = COALESCE("
		"(SELECT id FROM tasks WHERE status = 'running' AND lease_until < UTC_TIMESTAMP(6) "
		"ORDER BY lease_until LIMIT 1), "
		"(SELECT id FROM tasks WHERE status = 'queued' ORDER BY queued_at, id LIMIT 1))";

	return sx_db_query(db, q, NULL, 0, rows);
}

/*
 * Takes the candidate read at modified_at for owner if it is still
 * claimable and unchanged, and fails the steps its previous worker left
 * unfinished, in one statement.  *taken is false when another worker (or
 * a cancel) changed it first.
 */
static enum sx_rc claim_take(struct sx_db *db, const struct sx_conf *c, const char *owner,
			     const char *id, const char *modified_at, bool *taken)
{
	static const char q[] =
		"UPDATE tasks t LEFT JOIN steps s ON s.task_id = t.id AND s.status IN ('created', 'running') "
		"SET t.status = 'running', t.started_at = COALESCE(t.started_at, UTC_TIMESTAMP(6)), "
		"t.lease_owner = ?, t.lease_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND, "
		"t.attempt = t.attempt + 1, t.modified_at = UTC_TIMESTAMP(6), "
		"s.status = 'failed', s.modified_at = UTC_TIMESTAMP(6) "
		"WHERE t.id = ? AND t.modified_at = ? AND (t.status = 'queued' "
		"OR (t.status = 'running' AND t.lease_until < UTC_TIMESTAMP(6)))";
	struct sx_param p[] = { sx_p_str(owner), sx_p_i64(c->lease_seconds), sx_p_str(id),
				sx_p_str(modified_at) };
	unsigned long long n = 0;
	enum sx_rc rc = sx_db_exec(db, q, p, 4, &n);

	*taken = rc == SX_OK && n > 0;
	return rc;
}

struct exhaust_tx {
	const char *id;
	const char *modified_at;
	enum task_status from;
	long long attempts;
};

/* Fails a task whose workers kept dying, if it is unchanged since the read. */
static enum sx_rc exhaust_tx_fn(struct sx_db *db, void *arg)
{
	static const char q_task[] =
		"UPDATE tasks SET status = 'failed', failure_reason = ?, finished_at = UTC_TIMESTAMP(6), "
		"lease_owner = NULL, lease_until = NULL, modified_at = UTC_TIMESTAMP(6) "
		"WHERE id = ? AND modified_at = ? AND status = ?";
	static const char q_steps[] =
		"UPDATE steps SET status = 'failed', modified_at = UTC_TIMESTAMP(6) "
		"WHERE task_id = ? AND status = 'running'";
	struct exhaust_tx *x = arg;
	char reason[200];
	unsigned long long n = 0;
	enum sx_rc rc;

	snprintf(reason, sizeof(reason),
		 "Task failed after %lld attempts: the worker running it stopped each time "
		 "(lease expired)", x->attempts);
	{
		struct sx_param p[] = { sx_p_str(reason), sx_p_str(x->id), sx_p_str(x->modified_at),
					sx_p_str(task_status_name(x->from)) };

		rc = sx_db_exec(db, q_task, p, 4, &n);
	}
	if (rc || n == 0)
		goto out;
	{
		struct sx_param p[] = { sx_p_str(x->id) };

		rc = sx_db_exec(db, q_steps, p, 1, NULL);
	}
	if (rc == SX_OK)
		rc = delivery_db_queue(db, x->id);
out:
	return rc;
}

/* A completed step's row of the claim's read, for sorting. */
struct claim_row {
	long long order, retry;
	size_t row;
};

static int claim_row_cmp(const void *a, const void *b)
{
	const struct claim_row *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	if (x->retry != y->retry)
		return x->retry < y->retry ? -1 : 1;
	return 0;
}

/* Fills out from the claim's read, as the claim left the task. */
static void claim_fill(const struct sx_rows *rows, const char *owner, struct claimed_task *out)
{
	struct claim_row *steps = xcalloc(rows->nrows, sizeof(*steps));
	size_t n = 0;

	task_from_row(rows, 0, NULL, &out->task);
	out->task.status = TASK_RUNNING;
	out->task.attempt++;
	free(out->task.lease_owner);
	out->task.lease_owner = xstrdup(owner);
	out->resumed = sx_rows_i64(rows, 0, C_CLAIM_RESUMED, 0) == 1;
	out->elapsed_seconds = sx_rows_i64(rows, 0, C_CLAIM_ELAPSED, 0);
	if (out->elapsed_seconds < 0)
		out->elapsed_seconds = 0;
	for (size_t i = 0; i < rows->nrows; i++) {
		if (!sx_rows_get(rows, i, C_CLAIM_STEP_ORDER))
			continue;
		steps[n].order = sx_rows_i64(rows, i, C_CLAIM_STEP_ORDER, 0);
		steps[n].retry = sx_rows_i64(rows, i, C_CLAIM_STEP_RETRY, 0);
		steps[n++].row = i;
	}
	qsort(steps, n, sizeof(*steps), claim_row_cmp);
	out->history = xcalloc(n ? n : 1, sizeof(*out->history));
	for (size_t i = 0; i < n; i++) {
		out->history[i].order = steps[i].order;
		out->history[i].output = stored_json(sx_rows_get(rows, steps[i].row, C_CLAIM_STEP_OUTPUT));
		/* Steps run in order: the first one still to run follows the last completed. */
		if (steps[i].order + 1 > out->next_order)
			out->next_order = steps[i].order + 1;
	}
	out->nhistory = n;
	free(steps);
}

/*
 * One try: read the candidate, then fail it (too many attempts) or take
 * it.  SX_EDEADLOCK when the candidate was failed or lost to another
 * worker (or a lock race): the caller reads again.
 */
static enum sx_rc claim_once(struct sx_db *db, const struct sx_conf *c, const char *owner,
			     struct claimed_task *out)
{
	struct sx_rows *rows = NULL;
	const char *id, *modified;
	long long attempt;
	bool taken = false;
	enum sx_rc rc = claim_read(db, &rows);

	if (rc)
		goto out;
	if (rows->nrows == 0) {
		rc = SX_EDONE;
		goto out;
	}
	id = sx_rows_get(rows, 0, C_ID);
	modified = sx_rows_get(rows, 0, C_MODIFIED);
	attempt = sx_rows_i64(rows, 0, C_ATTEMPT, 0) + 1;
	if (attempt > c->max_attempts) {
		struct exhaust_tx x = { id, modified, TASK_RUNNING, attempt - 1 };

		if (!task_status_parse(sx_rows_get(rows, 0, C_STATUS), &x.from) ||
		    !task_transition_allowed(x.from, TASK_FAILED))
			abort();
		rc = sx_db_tx(db, exhaust_tx_fn, &x);
		if (rc == SX_OK) {
			log_warn("queue", "msg=\"task failed: too many attempts\" task=%s attempts=%lld",
				 id, attempt - 1);
			rc = SX_EDEADLOCK;
		}
		goto out;
	}
	rc = claim_take(db, c, owner, id, modified, &taken);
	if (rc == SX_OK && !taken)
		rc = SX_EDEADLOCK;
	if (rc == SX_OK) {
		claim_fill(rows, owner, out);
		log_info("queue", "msg=claimed task=%s attempt=%lld resumed=%d next_order=%lld",
			 id, attempt, out->resumed, out->next_order);
	}
out:
	sx_rows_free(rows);
	return rc;
}

enum sx_rc task_claim(struct sx_db *db, const struct sx_conf *c, const char *owner,
		      struct claimed_task *out)
{
	enum sx_rc rc = SX_EDONE;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < CLAIM_TRIES; i++) {
		rc = claim_once(db, c, owner, out);
		if (rc != SX_EDEADLOCK)
			break;
	}
	/* Still losing races: nothing is claimable for this worker right now. */
	if (rc == SX_EDEADLOCK)
		rc = SX_EDONE;
	return rc;
}

void claimed_task_release(struct claimed_task *ct)
{
	task_release(&ct->task);
	for (size_t i = 0; i < ct->nhistory; i++)
		json_object_put(ct->history[i].output);
	free(ct->history);
	ct->history = NULL;
	ct->nhistory = 0;
}

enum sx_rc task_check_canceled(struct sx_db *db, const char *task_id)
{
	static const char q[] = "SELECT status FROM tasks WHERE id = ?";
	struct sx_param p[] = { sx_p_str(task_id) };
	struct sx_rows *rows = NULL;
	enum task_status st;
	enum sx_rc rc = sx_db_query(db, q, p, 1, &rows);

	if (rc == SX_OK && rows->nrows == 1 && task_status_parse(sx_rows_get(rows, 0, 0), &st) &&
	    st == TASK_CANCELED)
		rc = SX_ECANCELED;
	sx_rows_free(rows);
	return rc;
}

enum sx_rc task_heartbeat(struct sx_db *db, const char *task_id, const char *owner,
			  long long lease_seconds)
{
	static const char q[] =
		"UPDATE tasks SET lease_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND "
		"WHERE id = ? AND lease_owner = ? AND status = 'running'";
	struct sx_param p[] = { sx_p_i64(lease_seconds), sx_p_str(task_id), sx_p_str(owner) };
	unsigned long long n = 0;
	enum sx_rc rc = sx_db_exec(db, q, p, 3, &n);

	if (rc == SX_OK && n != 1) {
		rc = task_check_canceled(db, task_id);
		if (rc == SX_OK)
			rc = SX_ECONFLICT;
	}
	return rc;
}

struct finish_tx {
	const char *task_id;
	const char *owner;
	enum task_status status;
	const char *reason;
	const char *extracted;
};

static enum sx_rc finish_tx_fn(struct sx_db *db, void *arg)
{
	static const char q[] =
		"UPDATE tasks SET status = ?, failure_reason = ?, extracted_information = ?, "
		"finished_at = UTC_TIMESTAMP(6), lease_owner = NULL, lease_until = NULL, "
		"modified_at = UTC_TIMESTAMP(6) WHERE id = ? AND lease_owner = ? AND status = ?";
	struct finish_tx *f = arg;
	struct sx_param p[] = { sx_p_str(task_status_name(f->status)), sx_p_str(f->reason),
				sx_p_str(f->extracted), sx_p_str(f->task_id), sx_p_str(f->owner),
				sx_p_str(task_status_name(TASK_RUNNING)) };
	unsigned long long n = 0;
	enum sx_rc rc = sx_db_exec(db, q, p, 6, &n);

	if (rc == SX_OK && n != 1)
		rc = SX_ECONFLICT;
	if (rc == SX_OK)
		rc = delivery_db_queue(db, f->task_id);
	return rc;
}

enum sx_rc task_finish(struct sx_db *db, const char *task_id, const char *owner,
		       enum task_status status, const char *failure_reason,
		       const char *extracted_json)
{
	struct finish_tx f = { task_id, owner, status, failure_reason, extracted_json };
	enum sx_rc rc;

	/* A lease is held on a running task: the move is from running. */
	if (!task_status_is_final(status) || status == TASK_CANCELED ||
	    !task_transition_allowed(TASK_RUNNING, status))
		abort();
	rc = sx_db_tx(db, finish_tx_fn, &f);
	if (rc == SX_OK)
		log_info("queue", "msg=finished task=%s status=%s", task_id, task_status_name(status));
	else
		log_warn("queue", "msg=\"finish not recorded\" task=%s status=%s error=%s", task_id,
			 task_status_name(status), sx_log_quote(sx_strerror(rc)));
	return rc;
}

enum sx_rc task_finish_canceled(struct sx_db *db, const char *task_id, const char *owner)
{
	static const char q_task[] =
		"UPDATE tasks SET lease_owner = NULL, lease_until = NULL, modified_at = UTC_TIMESTAMP(6) "
		"WHERE id = ? AND lease_owner = ? AND status = 'canceled'";
	static const char q_steps[] =
		"UPDATE steps SET status = 'canceled', modified_at = UTC_TIMESTAMP(6) "
		"WHERE task_id = ? AND status IN ('created', 'running')";
	struct sx_param p[] = { sx_p_str(task_id), sx_p_str(owner) };
	enum sx_rc rc = sx_db_exec(db, q_task, p, 2, NULL);

	if (rc == SX_OK)
		rc = sx_db_exec(db, q_steps, p, 1, NULL);
	log_info("queue", "msg=\"stopped after cancel\" task=%s", task_id);
	return rc;
}

enum sx_rc task_hand_back(struct sx_db *db, const char *task_id, const char *owner)
{
	static const char q[] =
		"UPDATE tasks SET lease_owner = NULL, lease_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND, "
		"attempt = GREATEST(attempt - 1, 0), modified_at = UTC_TIMESTAMP(6) "
		"WHERE id = ? AND lease_owner = ? AND status = 'running'";
	struct sx_param p[] = { sx_p_str(task_id), sx_p_str(owner) };
	enum sx_rc rc = sx_db_exec(db, q, p, 2, NULL);

	log_info("queue", "msg=\"handed back\" task=%s", task_id);
	return rc;
}

struct add_errors_tx {
	const char *task_id;
	const char *owner;
	json_object *add;
};

static enum sx_rc add_errors_tx_fn(struct sx_db *db, void *arg)
{
	static const char q_read[] =
		"SELECT errors FROM tasks WHERE id = ? AND lease_owner = ? FOR UPDATE";
	static const char q_set[] =
		"UPDATE tasks SET errors = ?, modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	struct add_errors_tx *a = arg;
	struct sx_param p[] = { sx_p_str(a->task_id), sx_p_str(a->owner) };
	struct sx_rows *rows = NULL;
	json_object *errors = NULL;
	enum sx_rc rc = sx_db_query(db, q_read, p, 2, &rows);

	if (rc == SX_OK && rows->nrows == 0)
		rc = SX_ECONFLICT;
	if (rc)
		goto out;
	errors = stored_json(sx_rows_get(rows, 0, 0));
	if (!json_object_is_type(errors, json_type_array)) {
		json_object_put(errors);
		errors = json_object_new_array();
	}
	task_errors_merge(errors, a->add);
	{
		struct sx_param s[] = {
			sx_p_str(json_object_to_json_string_ext(errors, JSON_C_TO_STRING_PLAIN)),
			sx_p_str(a->task_id)
		};

		rc = sx_db_exec(db, q_set, s, 2, NULL);
	}
out:
	json_object_put(errors);
	sx_rows_free(rows);
	return rc;
}

enum sx_rc task_add_errors(struct sx_db *db, const char *task_id, const char *owner, json_object *add)
{
	struct add_errors_tx a = { task_id, owner, add };

	return sx_db_tx(db, add_errors_tx_fn, &a);
}

enum sx_rc task_set_proxy_used(struct sx_db *db, const char *task_id, const char *owner,
			       const char *proxy_shown)
{
	static const char q[] =
		"UPDATE tasks SET proxy_used = ?, modified_at = UTC_TIMESTAMP(6) "
		"WHERE id = ? AND lease_owner = ?";
	struct sx_param p[] = { sx_p_str(proxy_shown), sx_p_str(task_id), sx_p_str(owner) };

	return sx_db_exec(db, q, p, 3, NULL);
}

enum sx_rc task_set_replay(struct sx_db *db, const char *task_id, const char *owner, json_object *replay)
{
	static const char q[] =
		"UPDATE tasks SET replay = ?, modified_at = UTC_TIMESTAMP(6) WHERE id = ? AND lease_owner = ?";
	struct sx_param p[] = { sx_p_str(json_object_to_json_string_ext(replay, JSON_C_TO_STRING_PLAIN)),
				sx_p_str(task_id), sx_p_str(owner) };

	return sx_db_exec(db, q, p, 3, NULL);
}

enum sx_rc task_set_start_url(struct sx_db *db, const char *task_id, const char *owner, const char *url)
{
	/* The stored request nests at most SX_JSON_MAX_DEPTH deep, within what JSON_SET reads. */
	static const char q[] =
		"UPDATE tasks SET request = JSON_SET(request, '$.url', ?), modified_at = UTC_TIMESTAMP(6) "
		"WHERE id = ? AND lease_owner = ? AND status = 'running' "
		"AND JSON_VALUE(request, '$.url') IS NULL";
	struct sx_param p[] = { sx_p_str(url), sx_p_str(task_id), sx_p_str(owner) };
	unsigned long long changed = 0;
	enum sx_rc rc = sx_db_exec(db, q, p, 3, &changed);

	if (rc == SX_OK && changed != 1)
		rc = SX_ECONFLICT;
	return rc;
}

enum sx_rc step_begin(struct sx_db *db, const char *task_id, const char *org_id, long long order,
		      char step_id[SX_ID_MAX])
{
	static const char q[] =
		"INSERT INTO steps (id, task_id, org_id, status, step_order, retry_index, "
		"created_at, modified_at) SELECT ?, ?, ?, ?, ?, "
		"COALESCE(MAX(retry_index) + 1, 0), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) "
		"FROM steps WHERE task_id = ? AND step_order = ?";

	sx_id_new(step_id, "stp_");
	{
		struct sx_param p[] = { sx_p_str(step_id), sx_p_str(task_id), sx_p_str(org_id),
					sx_p_str(step_status_name(STEP_RUNNING)), sx_p_i64(order),
					sx_p_str(task_id), sx_p_i64(order) };

		return sx_db_exec(db, q, p, 7, NULL);
	}
}

enum sx_rc step_end(struct sx_db *db, const char *task_id, const char *step_id,
		    const struct step_end_info *e)
{
	static const char q[] =
		"UPDATE steps SET status = ?, is_last = ?, input_token_count = ?, output_token_count = ?, "
		"step_cost = ?, output = ?, modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	static const char q_count[] =
		"UPDATE tasks SET step_count = (SELECT COUNT(*) FROM steps WHERE task_id = ?), "
		"modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	enum sx_rc rc;

	if (e->status != STEP_COMPLETED && e->status != STEP_FAILED && e->status != STEP_CANCELED)
		abort();
	{
		struct sx_param p[] = { sx_p_str(step_status_name(e->status)), sx_p_i64(e->is_last),
					sx_p_i64(e->input_tokens), sx_p_i64(e->output_tokens),
					sx_p_f64(e->cost), sx_p_str(e->output_json), sx_p_str(step_id) };

		rc = sx_db_exec(db, q, p, 7, NULL);
	}
	if (rc == SX_OK) {
		struct sx_param p[] = { sx_p_str(task_id), sx_p_str(task_id) };

		rc = sx_db_exec(db, q_count, p, 2, NULL);
	}
	return rc;
}

/* ---- counts for /metrics -------------------------------------------------- */

static enum sx_rc task_count_waiting(struct sx_db *db, struct task_counts *out)
{
	static const char q[] =
		"SELECT COUNT(*), COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(COALESCE(queued_at, created_at)), "
		"UTC_TIMESTAMP(6)), 0) / 1000000 FROM tasks WHERE status IN ('created', 'queued')";
	static const char q_workers[] =
		"SELECT COUNT(DISTINCT lease_owner) FROM tasks "
		"WHERE status = 'running' AND lease_owner IS NOT NULL AND lease_until > UTC_TIMESTAMP(6)";
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, NULL, 0, &rows);

	if (rc)
		goto out;
	out->waiting = sx_rows_i64(rows, 0, 0, 0);
	out->oldest_waiting_s = sx_rows_f64(rows, 0, 1, 0);
	sx_rows_free(rows);
	rows = NULL;
	rc = sx_db_query(db, q_workers, NULL, 0, &rows);
	if (rc == SX_OK)
		out->workers_live = sx_rows_i64(rows, 0, 0, 0);
out:
	sx_rows_free(rows);
	return rc;
}

enum sx_rc task_db_count(struct sx_db *db, struct task_counts *out)
{
	static const char q[] = "SELECT status, COUNT(*) FROM tasks GROUP BY status";
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	memset(out, 0, sizeof(*out));
	rc = sx_db_query(db, q, NULL, 0, &rows);
	if (rc)
		goto out;
	for (size_t i = 0; i < rows->nrows; i++) {
		enum task_status st;

		if (task_status_parse(sx_rows_get(rows, i, 0), &st))
			out->by_status[st] = sx_rows_i64(rows, i, 1, 0);
	}
	rc = task_count_waiting(db, out);
out:
	sx_rows_free(rows);
	return rc;
}

/*
 * Stores the count in column 1 of each row under the index of the name in
 * column 0 among names[n]; names not in the list are ignored.
 */
static void rows_count_by_name(const struct sx_rows *rows, const char *const *names, size_t n, long long *counts)
{
	for (size_t i = 0; i < rows->nrows; i++) {
		const char *name = sx_rows_get(rows, i, 0);

		for (size_t k = 0; name && k < n; k++)
			if (strcmp(name, names[k]) == 0)
				counts[k] = sx_rows_i64(rows, i, 1, 0);
	}
}

enum sx_rc task_db_count_replay(struct sx_db *db, const char *const *outcomes, size_t n, long long *counts,
				long long *tokens_saved)
{
	static const char q[] =
		"SELECT JSON_VALUE(replay, '$.outcome'), COUNT(*), "
		"COALESCE(SUM(CAST(JSON_VALUE(replay, '$.model_tokens_saved') AS SIGNED)), 0) "
		"FROM tasks WHERE replay IS NOT NULL GROUP BY 1";
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	memset(counts, 0, n * sizeof(*counts));
	*tokens_saved = 0;
	rc = sx_db_query(db, q, NULL, 0, &rows);
	if (rc == SX_OK) {
		rows_count_by_name(rows, outcomes, n, counts);
		for (size_t i = 0; i < rows->nrows; i++)
			*tokens_saved += sx_rows_i64(rows, i, 2, 0);
	}
	sx_rows_free(rows);
	return rc;
}

enum sx_rc task_db_count_artifact_failures(struct sx_db *db, const char *const *types, size_t ntypes,
					   long long *counts)
{
	/* The LIKE keeps JSON_TABLE to the few rows that hold such an entry. */
	static const char q[] =
		"SELECT e.type, COALESCE(SUM(e.n), 0) FROM tasks, JSON_TABLE(tasks.errors, '$[*]' COLUMNS ("
		"code VARCHAR(64) PATH '$.error_code', type VARCHAR(64) PATH '$.artifact_type', "
		"n BIGINT PATH '$.count')) AS e "
		"WHERE tasks.errors LIKE CONCAT('%', ?, '%') AND e.code = ? GROUP BY e.type";
	struct sx_param p[] = { sx_p_str(TASK_ERROR_ARTIFACT_WRITE), sx_p_str(TASK_ERROR_ARTIFACT_WRITE) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	memset(counts, 0, ntypes * sizeof(*counts));
	rc = sx_db_query(db, q, p, 2, &rows);
	if (rc == SX_OK)
		rows_count_by_name(rows, types, ntypes, counts);
	sx_rows_free(rows);
	return rc;
}

enum sx_rc step_db_count(struct sx_db *db, const double bounds[STEP_COUNT_BOUNDS],
			 struct step_counts *out)
{
#define FINISHED "status IN ('completed', 'failed', 'canceled')"
#define WITHIN "COALESCE(SUM(" FINISHED " AND lat <= ?), 0)"
	static const char q[] =
		"SELECT COUNT(*), COALESCE(SUM(input_token_count), 0), COALESCE(SUM(output_token_count), 0), "
		"COALESCE(SUM(step_cost), 0), COALESCE(SUM(" FINISHED "), 0), "
		"COALESCE(SUM(IF(" FINISHED ", lat, 0)), 0), "
		WITHIN ", " WITHIN ", " WITHIN ", " WITHIN ", " WITHIN ", " WITHIN ", " WITHIN ", " WITHIN " "
		"FROM (SELECT status, input_token_count, output_token_count, step_cost, "
		"TIMESTAMPDIFF(MICROSECOND, created_at, modified_at) / 1000000 AS lat FROM steps) s";
#undef WITHIN
#undef FINISHED
	struct sx_param p[STEP_COUNT_BOUNDS];
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < STEP_COUNT_BOUNDS; i++)
		p[i] = sx_p_f64(bounds[i]);
	rc = sx_db_query(db, q, p, STEP_COUNT_BOUNDS, &rows);
	if (rc == SX_OK) {
		out->total = sx_rows_i64(rows, 0, 0, 0);
		out->input_tokens = sx_rows_i64(rows, 0, 1, 0);
		out->output_tokens = sx_rows_i64(rows, 0, 2, 0);
		out->cost = sx_rows_f64(rows, 0, 3, 0);
		out->finished = sx_rows_i64(rows, 0, 4, 0);
		out->duration_sum = sx_rows_f64(rows, 0, 5, 0);
		for (size_t i = 0; i < STEP_COUNT_BOUNDS; i++)
			out->within[i] = sx_rows_i64(rows, 0, 6 + i, 0);
	}
	sx_rows_free(rows);
	return rc;
}
