/*
 * Storage of replay traces (see trace_db.h).
 */
#include "sx.h"
#include "trace_db.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "timeutil.h"

#define TRACE_COLUMNS \
	"id, org_id, trace_key, key_json, trace_json, version, step_count, model_tokens, " \
	"source_task_id, created_at, updated_at"

enum { T_ID, T_ORG, T_KEY, T_KEY_JSON, T_TRACE_JSON, T_VERSION, T_STEPS, T_TOKENS, T_SOURCE,
       T_CREATED, T_UPDATED };

static char *cell_dup(const struct sx_rows *r, size_t i, size_t col)
{
	const char *s = sx_rows_get(r, i, col);

	return s ? xstrdup(s) : NULL;
}

static char *cell_iso(const struct sx_rows *r, size_t i, size_t col)
{
	const char *s = sx_rows_get(r, i, col);
	char iso[32];

	return s && sx_time_db_to_iso(s, iso) ? xstrdup(iso) : NULL;
}

static void row_fill(const struct sx_rows *r, size_t i, struct trace_row *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", sx_rows_get(r, i, T_ID) ? sx_rows_get(r, i, T_ID) : "");
	out->org_id = cell_dup(r, i, T_ORG);
	out->trace_key = cell_dup(r, i, T_KEY);
	out->key_json = cell_dup(r, i, T_KEY_JSON);
	out->trace_json = cell_dup(r, i, T_TRACE_JSON);
	out->version = sx_rows_i64(r, i, T_VERSION, 1);
	out->step_count = sx_rows_i64(r, i, T_STEPS, 0);
	out->model_tokens = sx_rows_i64(r, i, T_TOKENS, 0);
	out->source_task_id = cell_dup(r, i, T_SOURCE);
	out->created_at = cell_iso(r, i, T_CREATED);
	out->updated_at = cell_iso(r, i, T_UPDATED);
}

void trace_row_release(struct trace_row *r)
{
	free(r->org_id);
	free(r->trace_key);
	free(r->key_json);
	free(r->trace_json);
	free(r->source_task_id);
	free(r->created_at);
	free(r->updated_at);
	memset(r, 0, sizeof(*r));
}

/* Runs a query that selects TRACE_COLUMNS of at most one row into out. */
static enum sx_rc one_row(struct sx_db *db, const char *q, const struct sx_param *p, size_t np,
			  struct trace_row *out)
{
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, p, np, &rows);

	memset(out, 0, sizeof(*out));
	if (rc == SX_OK && rows->nrows != 1)
		rc = SX_ENOTFOUND;
	if (rc == SX_OK)
		row_fill(rows, 0, out);
	sx_rows_free(rows);
	return rc;
}

enum sx_rc trace_db_get(struct sx_db *db, const char *org_id, const char *key, struct trace_row *out)
{
	static const char q[] = "SELECT " TRACE_COLUMNS " FROM traces WHERE org_id = ? AND trace_key = ?";
	struct sx_param p[] = { sx_p_str(org_id), sx_p_str(key) };

	return one_row(db, q, p, SX_ARRAY_LEN(p), out);
}

enum sx_rc trace_db_find(struct sx_db *db, const char *org_id, const char *id, struct trace_row *out)
{
	static const char q[] = "SELECT " TRACE_COLUMNS " FROM traces WHERE org_id = ? AND id = ?";
	struct sx_param p[] = { sx_p_str(org_id), sx_p_str(id) };

	return one_row(db, q, p, SX_ARRAY_LEN(p), out);
}

enum sx_rc trace_db_put(struct sx_db *db, const struct trace_row *in, struct trace_row *stored)
{
	static const char q_put[] =
		"INSERT INTO traces (id, org_id, trace_key, key_json, trace_json, version, step_count, "
		"model_tokens, source_task_id, created_at, updated_at) "
		"VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)) "
		"ON DUPLICATE KEY UPDATE trace_json = VALUES(trace_json), key_json = VALUES(key_json), "
		"version = version + 1, step_count = VALUES(step_count), "
		"model_tokens = VALUES(model_tokens), source_task_id = VALUES(source_task_id), "
		"updated_at = UTC_TIMESTAMP(6) RETURNING id, version";
	struct sx_rows *rows = NULL;
	char id[SX_ID_MAX];
	enum sx_rc rc;

	if (stored)
		memset(stored, 0, sizeof(*stored));
	sx_id_new(id, "trc_");
	{
		struct sx_param p[] = { sx_p_str(id), sx_p_str(in->org_id), sx_p_str(in->trace_key),
					sx_p_str(in->key_json), sx_p_str(in->trace_json),
					sx_p_i64(in->step_count), sx_p_i64(in->model_tokens),
					sx_p_str(in->source_task_id) };

		rc = sx_db_query(db, q_put, p, SX_ARRAY_LEN(p), &rows);
	}
	if (rc)
		goto out;
	if (rows->nrows != 1 || !sx_rows_get(rows, 0, 0)) {
		log_error("trace_db", "msg=\"trace upsert returned no row\" rows=%zu", rows->nrows);
		rc = SX_EDB;
		goto out;
	}
	if (stored) {
		snprintf(stored->id, sizeof(stored->id), "%s", sx_rows_get(rows, 0, 0));
		stored->version = sx_rows_i64(rows, 0, 1, 1);
	}
out:
	sx_rows_free(rows);
	return rc;
}

json_object *trace_row_to_json(const struct trace_row *t, bool with_trace)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(t->id));
	json_object_object_add(o, "version", json_object_new_int64(t->version));
	json_object_object_add(o, "step_count", json_object_new_int64(t->step_count));
	json_object_object_add(o, "model_tokens", json_object_new_int64(t->model_tokens));
	json_object_object_add(o, "source_task_id", sx_json_string_or_null(t->source_task_id));
	json_object_object_add(o, "created_at", sx_json_string_or_null(t->created_at));
	json_object_object_add(o, "updated_at", sx_json_string_or_null(t->updated_at));
	json_object_object_add(o, "key", t->key_json ? json_tokener_parse(t->key_json) : NULL);
	if (with_trace)
		json_object_object_add(o, "trace", t->trace_json ? json_tokener_parse(t->trace_json) : NULL);
	return o;
}

enum sx_rc trace_db_list(struct sx_db *db, const char *org_id, json_object **out)
{
	static const char q[] = "SELECT " TRACE_COLUMNS " FROM traces WHERE org_id = ? "
				"ORDER BY updated_at DESC, id";
	struct sx_param p[] = { sx_p_str(org_id) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, p, 1, &rows);

	*out = NULL;
	if (rc)
		goto out;
	*out = json_object_new_array();
	for (size_t i = 0; i < rows->nrows; i++) {
		struct trace_row t;

		row_fill(rows, i, &t);
		json_object_array_add(*out, trace_row_to_json(&t, false));
		trace_row_release(&t);
	}
out:
	sx_rows_free(rows);
	return rc;
}

enum sx_rc trace_db_delete(struct sx_db *db, const char *org_id, const char *id)
{
	static const char q[] = "DELETE FROM traces WHERE org_id = ? AND id = ?";
	struct sx_param p[] = { sx_p_str(org_id), sx_p_str(id) };
	unsigned long long n = 0;
	enum sx_rc rc = sx_db_exec(db, q, p, SX_ARRAY_LEN(p), &n);

	return rc == SX_OK && n == 0 ? SX_ENOTFOUND : rc;
}
