/*
 * The `artifacts` rows: the agent's records, the API's listing and
 * sextant-admin gc (see artifact_db.h).
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include "sx.h"
#include "artifact_db.h"
#include "artifact_url.h"
#include "conf.h"
#include "db.h"
#include "http.h"
#include "s3.h"
#include "task_db.h"
#include "log.h"
#include "timeutil.h"

/* Rows handled per gc round: bounded memory whatever the backlog. */
#define GC_BATCH 500

/* Whether the row (type, step_id) passes f. */
static bool artifact_wanted(const struct artifact_filter *f, const char *type, const char *step)
{
	bool ok = !f || f->ntypes == 0;

	for (size_t i = 0; f && i < f->ntypes && !ok; i++)
		ok = strcmp(type, f->types[i]) == 0;
	if (ok && f && f->step_id)
		ok = step && strcmp(step, f->step_id) == 0;
	return ok;
}

/*
 * One item: today's members (type, bytes, url) and Skyvern's Artifact
 * model's, which a run's client reads.  row holds id, type, step_id,
 * created_at, bytes, path, org_id, task_id.
 */
static json_object *artifact_item(const struct sx_rows *rows, size_t i, const char *url)
{
	static const char *const unknown[] = {
		"checksum", "bundle_key", "workflow_run_id", "workflow_run_block_id",
		"browser_session_id", "observer_cruise_id", "observer_thought_id", "ai_suggestion_id",
	};
	json_object *o = json_object_new_object();
	const char *created = sx_rows_get(rows, i, 3), *path = sx_rows_get(rows, i, 5);
	char *uri = xasprintf("/artifacts/%s", path ? path : "");
	char iso[32];
	bool has_time = created && sx_time_db_to_iso(created, iso);

	json_object_object_add(o, "artifact_id", json_object_new_string(sx_rows_get(rows, i, 0)));
	json_object_object_add(o, "type", json_object_new_string(sx_rows_get(rows, i, 1)));
	json_object_object_add(o, "artifact_type", json_object_new_string(sx_rows_get(rows, i, 1)));
	json_object_object_add(o, "uri", json_object_new_string(uri));
	json_object_object_add(o, "organization_id", sx_json_string_or_null(sx_rows_get(rows, i, 6)));
	json_object_object_add(o, "task_id", sx_json_string_or_null(sx_rows_get(rows, i, 7)));
	json_object_object_add(o, "run_id", sx_json_string_or_null(sx_rows_get(rows, i, 7)));
	json_object_object_add(o, "step_id", sx_json_string_or_null(sx_rows_get(rows, i, 2)));
	json_object_object_add(o, "created_at", sx_json_string_or_null(has_time ? iso : NULL));
	json_object_object_add(o, "modified_at", sx_json_string_or_null(has_time ? iso : NULL));
	json_object_object_add(o, "bytes", json_object_new_int64(sx_rows_i64(rows, i, 4, 0)));
	json_object_object_add(o, "file_size", json_object_new_int64(sx_rows_i64(rows, i, 4, 0)));
	json_object_object_add(o, "url", sx_json_string_or_null(url));
	json_object_object_add(o, "signed_url", sx_json_string_or_null(url));
	json_object_object_add(o, "archived", json_object_new_boolean(false));
	for (size_t k = 0; k < SX_ARRAY_LEN(unknown); k++)
		json_object_object_add(o, unknown[k], NULL);
	free(uri);
	return o;
}

enum sx_rc artifact_db_list(struct sx_db *db, const struct sx_conf *conf, const char *org_id,
			    const char *task_id, const struct artifact_filter *f, json_object **out)
{
	static const char q_list[] =
		"SELECT id, type, step_id, created_at, bytes, path, org_id, task_id FROM artifacts "
		"WHERE task_id = ? AND org_id = ? ORDER BY created_at, id";
	struct sx_param p[] = { sx_p_str(task_id), sx_p_str(org_id) };
	struct sx_rows *rows = NULL;
	json_object *arr = NULL;
	long long now = (long long)time(NULL);
	enum sx_rc rc;

	*out = NULL;
	rc = task_db_owned(db, org_id, task_id);
	if (rc)
		goto out;
	rc = sx_db_query(db, q_list, p, 2, &rows);
	if (rc)
		goto out;
	arr = json_object_new_array_ext((int)rows->nrows);
	for (size_t i = 0; i < rows->nrows; i++) {
		char *url;

		if (!artifact_wanted(f, sx_rows_get(rows, i, 1), sx_rows_get(rows, i, 2)))
			continue;
		url = arturl_sign(conf->public_base_url, conf->artifact_url_key,
				  conf->artifact_url_ttl, now, sx_rows_get(rows, i, 5));
		json_object_array_add(arr, artifact_item(rows, i, url));
		free(url);
	}
	*out = arr;
out:
	sx_rows_free(rows);
	return rc;
}

/* The task's last three action screenshots, newest first, as a JSON array. */
static enum sx_rc last_action_shots(struct sx_db *db, const char *task_id, char **json)
{
	static const char q[] =
		"SELECT path FROM artifacts WHERE task_id = ? AND type = '" ART_SCREENSHOT_ACTION "' "
		"ORDER BY created_at DESC, id DESC LIMIT 3";
	struct sx_param p[] = { sx_p_str(task_id) };
	struct sx_rows *rows = NULL;
	json_object *arr = NULL;
	enum sx_rc rc = sx_db_query(db, q, p, 1, &rows);

	*json = NULL;
	if (rc == SX_OK) {
		arr = json_object_new_array();
		for (size_t i = 0; i < rows->nrows; i++)
			json_object_array_add(arr, json_object_new_string(sx_rows_get(rows, i, 0)));
		*json = xstrdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(arr);
	sx_rows_free(rows);
	return rc;
}

enum sx_rc artifact_db_record(struct sx_db *db, const struct artifact_row *a)
{
	static const char q[] =
		"INSERT INTO artifacts (id, task_id, org_id, step_id, type, path, bytes, created_at) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))";
	struct sx_param p[] = { sx_p_str(a->id), sx_p_str(a->task_id), sx_p_str(a->org_id),
				sx_p_str(a->step_id), sx_p_str(a->type), sx_p_str(a->path),
				sx_p_i64(a->bytes) };
	char *shots = NULL;
	enum sx_rc rc = sx_db_exec(db, q, p, 7, NULL);

	if (rc)
		goto out;
	if (strcmp(a->type, ART_SCREENSHOT_FINAL) == 0) {
		rc = task_db_set_artifact(db, a->task_id, TASK_ART_SCREENSHOT, a->path);
	} else if (strcmp(a->type, ART_RECORDING) == 0) {
		rc = task_db_set_artifact(db, a->task_id, TASK_ART_RECORDING, a->path);
	} else if (strcmp(a->type, ART_SCREENSHOT_ACTION) == 0) {
		rc = last_action_shots(db, a->task_id, &shots);
		if (rc == SX_OK)
			rc = task_db_set_artifact(db, a->task_id, TASK_ART_ACTION_SCREENSHOTS, shots);
	}
out:
	free(shots);
	return rc;
}

enum sx_rc artifact_db_count_type(struct sx_db *db, const char *type, long long *out)
{
	static const char q[] = "SELECT COUNT(*) FROM artifacts WHERE type = ?";
	struct sx_param p[] = { sx_p_str(type) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, p, 1, &rows);

	*out = rc == SX_OK ? sx_rows_i64(rows, 0, 0, 0) : 0;
	sx_rows_free(rows);
	return rc;
}

/*
 * Rewrites the task's artifact columns so that none names a file that no
 * longer has a row.
 */
static enum sx_rc gc_fix_task(struct sx_db *db, const char *task_id)
{
	static const char q_paths[] = "SELECT path FROM artifacts WHERE task_id = ?";
	struct sx_param p[] = { sx_p_str(task_id) };
	struct sx_rows *rows = NULL;
	const char **paths = NULL;
	enum sx_rc rc = sx_db_query(db, q_paths, p, 1, &rows);

	if (rc)
		goto out;
	paths = xcalloc(rows->nrows + 1, sizeof(*paths));
	for (size_t i = 0; i < rows->nrows; i++)
		paths[i] = sx_rows_get(rows, i, 0);
	rc = task_db_artifacts_keep(db, task_id, paths, rows->nrows);
out:
	free(paths);
	sx_rows_free(rows);
	return rc;
}

/*
 * Unlinks root/rel and then its directory when that became empty.  SX_OK
 * when the file is gone (*removed tells whether this call removed it),
 * SX_EIO (logged) when it is still there.
 */
static enum sx_rc gc_unlink(const char *root, const char *rel, bool *removed)
{
	char *path = xasprintf("%s/%s", root, rel), *slash;
	enum sx_rc rc = SX_OK;

	if (unlink(path) == 0) {
		*removed = true;
	} else if (errno != ENOENT) {
		log_warn("gc", "msg=\"unlink failed\" path=%s error=%s", sx_log_quote(path),
			 sx_log_quote(strerror(errno)));
		rc = SX_EIO;
	}
	slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		/* Fails (ENOTEMPTY) while other files remain: that is the point. */
		(void)rmdir(path);
	}
	free(path);
	return rc;
}

/*
 * Removes the artifact rel from where the backend keeps it: the file (and
 * its directory once empty), or the object (*http made on first use).
 * SX_OK once it is gone, also when it was already gone or when rel is not
 * a safe relative path (a row is data: it never makes us touch anything
 * outside the artifacts, and there is nothing of ours to remove);
 * *removed tells whether this call removed something.  Otherwise the
 * backend's error: the caller keeps the row, so a later run tries again.
 */
static enum sx_rc gc_remove(const struct sx_conf *conf, struct http_client **http, const char *rel,
			    bool *removed)
{
	enum sx_rc rc = SX_OK;

	*removed = false;
	if (!arturl_path_safe(rel)) {
		log_warn("gc", "msg=\"unsafe artifact path skipped\" path=%s", sx_log_quote(rel));
	} else if (!s3_enabled(conf)) {
		rc = gc_unlink(conf->artifacts_dir, rel, removed);
	} else {
		if (!*http)
			*http = http_client_new();
		rc = s3_delete(*http, conf, rel);
		*removed = rc == SX_OK;
	}
	return rc;
}

/*
 * Whether a failure to remove one artifact ends the run: missing
 * credentials, or a store that does not answer at all, would fail every
 * other artifact the same way.
 */
static bool gc_fatal(enum sx_rc rc)
{
	return rc == SX_ECONFIG || rc == SX_EHTTP || rc == SX_ETIMEOUT;
}

/*
 * Expires the artifact of row i (id, task_id, path, bytes): the file or
 * object first, the row only once that is gone, so a row whose object could
 * not be deleted stays and a later run finds it again instead of the object
 * being orphaned.  *deleted_row tells whether the row went.  A failure that
 * would fail every other artifact too (gc_fatal()) is returned; any other
 * leaves the row, counts it in stats->kept and returns SX_OK.
 */
static enum sx_rc gc_artifact(struct sx_db *db, const struct sx_conf *conf, struct http_client **http,
			      const struct sx_rows *rows, size_t i, struct artifact_gc_stats *stats,
			      bool *deleted_row)
{
	static const char q_del[] =
		"DELETE a FROM artifacts a JOIN tasks t ON t.id = a.task_id "
		"WHERE a.id = ? AND t.status NOT IN ('created', 'queued', 'running')";
	struct sx_param p[] = { sx_p_str(sx_rows_get(rows, i, 0)) };
	unsigned long long n = 0;
	bool removed = false;
	enum sx_rc rc;

	*deleted_row = false;
	rc = gc_remove(conf, http, sx_rows_get(rows, i, 2), &removed);
	if (rc) {
		if (!gc_fatal(rc)) {
			stats->kept++;
			rc = SX_OK;
		}
		goto out;
	}
	if (removed)
		stats->files++;
	rc = sx_db_exec(db, q_del, p, 1, &n);
	if (rc || n == 0)
		goto out;
	*deleted_row = true;
	stats->rows++;
	stats->bytes += sx_rows_i64(rows, i, 3, 0);
out:
	return rc;
}

enum sx_rc artifact_db_gc(struct sx_db *db, const struct sx_conf *conf, long long days,
			  struct artifact_gc_stats *stats)
{
	static const char q_old[] =
		"SELECT a.id, a.task_id, a.path, a.bytes FROM artifacts a JOIN tasks t ON t.id = a.task_id "
		"WHERE a.created_at < UTC_TIMESTAMP(6) - INTERVAL ? DAY "
		"AND t.status NOT IN ('created', 'queued', 'running') "
		"ORDER BY a.task_id, a.created_at LIMIT ?";
	struct sx_rows *rows = NULL;
	struct http_client *http = NULL;
	enum sx_rc rc = SX_OK;
	bool more = true;

	memset(stats, 0, sizeof(*stats));
	while (more) {
		char last_task[64];
		long long deleted = 0;

		last_task[0] = '\0';
		sx_rows_free(rows);
		rows = NULL;
		{
			struct sx_param p[] = { sx_p_i64(days), sx_p_i64(GC_BATCH) };

			rc = sx_db_query(db, q_old, p, 2, &rows);
		}
		if (rc)
			goto out;
		more = rows->nrows == GC_BATCH;
		for (size_t i = 0; i < rows->nrows; i++) {
			const char *task = sx_rows_get(rows, i, 1);
			bool deleted_row = false;

			rc = gc_artifact(db, conf, &http, rows, i, stats, &deleted_row);
			if (rc)
				goto out;
			if (deleted_row) {
				deleted++;
				if (strcmp(last_task, task) != 0) {
					snprintf(last_task, sizeof(last_task), "%s", task);
					stats->tasks++;
				}
			}
			/* Rows come grouped by task: fix each task once, after its last row. */
			if (strcmp(last_task, task) == 0 &&
			    (i + 1 == rows->nrows || strcmp(sx_rows_get(rows, i + 1, 1), task) != 0)) {
				rc = gc_fix_task(db, task);
				if (rc)
					goto out;
			}
		}
		/*
		 * A batch that deleted nothing (every object refused) ends the run;
		 * kept rows come back in the next batch otherwise, so progress
		 * is what keeps the loop going.
		 */
		if (deleted == 0)
			more = false;
	}
out:
	sx_rows_free(rows);
	http_client_free(http);
	return rc;
}
