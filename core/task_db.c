/*
 * Storage of tasks and steps.  Every query names the organization, so no
 * path can read or change another organization's rows.
 */
#include <time.h>
#include "sx.h"
#include "task_db.h"
#include "org_db.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "timeutil.h"
#include "artifact_url.h"
#include "conf.h"

#define TASK_COLUMNS \
	"id, org_id, status, request, max_steps, extracted_information, " \
	"failure_reason, errors, webhook_failure_reason, step_count, attempt, " \
	"created_at, modified_at, queued_at, started_at, finished_at, proxy_used, " \
	"screenshot_artifact, recording_artifact, action_screenshot_artifacts, lease_owner"

enum {
	C_ID, C_ORG, C_STATUS, C_REQUEST, C_MAX_STEPS, C_EXTRACTED,
	C_FAILURE, C_ERRORS, C_WEBHOOK_FAILURE, C_STEP_COUNT, C_ATTEMPT,
	C_CREATED, C_MODIFIED, C_QUEUED, C_STARTED, C_FINISHED, C_PROXY,
	C_SHOT, C_RECORDING, C_ACTION_SHOTS, C_LEASE_OWNER
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

struct create_tx {
	const char *org_id;
	const char *request;
	long long max_steps;
	const char *idem_key;
	long long ttl;
	char *id_out;
	bool existing;
};

static enum sx_rc task_create_tx(struct sx_db *db, void *arg)
{
	static const char q_idem[] =
		"SELECT task_id FROM idempotency_keys WHERE org_id = ? AND idem_key = ? "
		"AND created_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND FOR UPDATE";
	static const char q_insert[] =
		"INSERT INTO tasks (id, org_id, status, request, max_steps, "
		"created_at, modified_at, queued_at) VALUES (?, ?, 'queued', ?, ?, "
		"UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))";
	static const char q_key[] =
		"INSERT INTO idempotency_keys (org_id, idem_key, task_id, created_at) "
		"VALUES (?, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE "
		"task_id = VALUES(task_id), created_at = VALUES(created_at)";
	struct create_tx *c = arg;
	struct sx_rows *rows = NULL;
	enum sx_rc rc = SX_OK;

	c->existing = false;
	if (c->idem_key) {
		struct sx_param p[] = { sx_p_str(c->org_id), sx_p_str(c->idem_key), sx_p_i64(c->ttl) };

		rc = sx_db_query(db, q_idem, p, 3, &rows);
		if (rc)
			goto out;
		if (rows->nrows == 1) {
			snprintf(c->id_out, SX_ID_MAX, "%s", sx_rows_get(rows, 0, 0));
			c->existing = true;
			goto out;
		}
	}
	sx_id_new(c->id_out, "tsk_");
	{
		struct sx_param p[] = { sx_p_str(c->id_out), sx_p_str(c->org_id),
					sx_p_str(c->request), sx_p_i64(c->max_steps) };

		rc = sx_db_exec(db, q_insert, p, 4, NULL);
		if (rc)
			goto out;
	}
	if (c->idem_key) {
		struct sx_param p[] = { sx_p_str(c->org_id), sx_p_str(c->idem_key), sx_p_str(c->id_out) };

		rc = sx_db_exec(db, q_key, p, 3, NULL);
	}
out:
	sx_rows_free(rows);
	return rc;
}

enum sx_rc task_db_create(struct sx_db *db, const char *org_id,
			  json_object *request, long long max_steps,
			  const char *idem_key, long long ttl_seconds,
			  char id_out[SX_ID_MAX], bool *existing)
{
	struct create_tx c = {
		.org_id = org_id,
		.request = json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN),
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
	if (!idem_key)
		rc = task_create_tx(db, &c);
	else
		rc = sx_db_tx(db, task_create_tx, &c);
	*existing = c.existing;
	return rc;
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
		"(SELECT org_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL)";
	struct sx_rows *rows = NULL;
	char hash[CRYPTO_SHA256_HEX];
	enum sx_rc rc;

	memset(out, 0, sizeof(*out));
	if (keylen == 0 || keylen > 256)
		return SX_ENOTFOUND;
	crypto_sha256_hex(key, keylen, hash);
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

enum sx_rc task_db_get_any(struct sx_db *db, const char *task_id, struct task *out)
{
	static const char q[] = "SELECT " TASK_COLUMNS " FROM tasks WHERE id = ?";
	struct sx_param p[] = { sx_p_str(task_id) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	memset(out, 0, sizeof(*out));
	rc = sx_db_query(db, q, p, 1, &rows);
	if (rc == SX_OK && rows->nrows == 0)
		rc = SX_ENOTFOUND;
	if (rc == SX_OK)
		task_from_row(rows, 0, NULL, out);
	sx_rows_free(rows);
	return rc;
}

enum sx_rc task_db_list(struct sx_db *db, const char *org_id,
			const enum task_status *statuses, size_t nstatuses,
			bool ascending, long long page, long long page_size,
			const struct sx_conf *artifact_base, json_object **out)
{
#define LIST_FILTER " AND status IN (?, ?, ?, ?, ?, ?, ?, ?)"
	static const char q_desc[] = "SELECT " TASK_COLUMNS " FROM tasks WHERE org_id = ? "
		"ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?";
	static const char q_asc[] = "SELECT " TASK_COLUMNS " FROM tasks WHERE org_id = ? "
		"ORDER BY created_at ASC, id ASC LIMIT ? OFFSET ?";
	static const char q_desc_f[] = "SELECT " TASK_COLUMNS " FROM tasks WHERE org_id = ?"
		LIST_FILTER " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?";
	static const char q_asc_f[] = "SELECT " TASK_COLUMNS " FROM tasks WHERE org_id = ?"
		LIST_FILTER " ORDER BY created_at ASC, id ASC LIMIT ? OFFSET ?";
#undef LIST_FILTER
	struct sx_param p[11];
	size_t np = 0;
	const char *q;
	struct sx_rows *rows = NULL;
	json_object *arr = NULL;
	enum sx_rc rc;

	*out = NULL;
	p[np++] = sx_p_str(org_id);
	if (nstatuses > 0) {
		/* Eight slots, one per status; unused ones repeat the first. */
		for (size_t i = 0; i < 8; i++)
			p[np++] = sx_p_str(task_status_name(statuses[i < nstatuses ? i : 0]));
		q = ascending ? q_asc_f : q_desc_f;
	} else {
		q = ascending ? q_asc : q_desc;
	}
	p[np++] = sx_p_i64(page_size);
	p[np++] = sx_p_i64((page - 1) * page_size);
	rc = sx_db_query(db, q, p, np, &rows);
	if (rc)
		goto out;
	arr = json_object_new_array_ext((int)rows->nrows);
	for (size_t i = 0; i < rows->nrows; i++) {
		struct task t;

		task_from_row(rows, i, artifact_base, &t);
		json_object_array_add(arr, task_to_json(&t, true));
		task_release(&t);
	}
	*out = arr;
out:
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
		rc = task_db_queue_webhook(db, c->task_id);
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

enum sx_rc task_db_queue_webhook_id(struct sx_db *db, const char *task_id, char id_out[SX_ID_MAX])
{
	static const char q[] =
		"INSERT INTO webhook_deliveries (id, task_id, org_id, url, status, attempts, "
		"next_attempt_at, expires_at, created_at) "
		"SELECT ?, id, org_id, JSON_VALUE(request, '$.webhook_callback_url'), 'pending', 0, "
		"UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL 1 DAY, UTC_TIMESTAMP(6) "
		"FROM tasks WHERE id = ? AND JSON_VALUE(request, '$.webhook_callback_url') IS NOT NULL";
	unsigned long long n = 0;
	enum sx_rc rc;

	sx_id_new(id_out, "whd_");
	{
		struct sx_param p[] = { sx_p_str(id_out), sx_p_str(task_id) };

		rc = sx_db_exec(db, q, p, 2, &n);
	}
	if (rc == SX_OK && n == 0)
		rc = SX_ENOTFOUND;
	if (rc)
		id_out[0] = '\0';
	return rc;
}

enum sx_rc task_db_queue_webhook(struct sx_db *db, const char *task_id)
{
	char id[SX_ID_MAX];
	enum sx_rc rc = task_db_queue_webhook_id(db, task_id, id);

	/* A task without a webhook_callback_url has nothing to deliver. */
	return rc == SX_ENOTFOUND ? SX_OK : rc;
}
