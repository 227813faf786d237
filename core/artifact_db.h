#ifndef SX_ARTIFACT_DB_H
#define SX_ARTIFACT_DB_H
/*
 * The `artifacts` table: every statement on it is here.  The agent records
 * the files it writes (agent/artifact_store.h), the API lists them, and
 * sextant-admin gc expires them.  Like task_db, every organization-facing
 * read names the organization, so another organization's task is
 * SX_ENOTFOUND.
 */
#include "sx.h"
#include <json-c/json.h>

struct sx_db;
struct sx_conf;

/* The artifact types (the `type` column). */
#define ART_SCREENSHOT_STEP "screenshot_llm"
#define ART_SCREENSHOT_ACTION "screenshot_action"
#define ART_SCREENSHOT_FINAL "screenshot_final"
#define ART_LLM_REQUEST "llm_request"
#define ART_LLM_RESPONSE "llm_response"
#define ART_RECORDING "recording"

/* A file of a task, already in place under artifacts_dir.  Every pointer is borrowed. */
struct artifact_row {
	const char *id;
	const char *task_id;
	const char *org_id;
	const char *step_id;      /* may be NULL */
	const char *type;         /* ART_* */
	const char *path;         /* relative to artifacts_dir */
	long long bytes;
};

/*
 * Records the file and keeps the task's artifact columns current (the
 * final screenshot, the recording, the last three action screenshots), so
 * reading a task stays one query.
 */
enum sx_rc artifact_db_record(struct sx_db *db, const struct artifact_row *a);

/* The number of artifacts of the type, all tasks together (for /metrics). */
enum sx_rc artifact_db_count_type(struct sx_db *db, const char *type, long long *out);

/*
 * The task's artifacts as a JSON array of {artifact_id, type, step_id,
 * created_at, bytes, url}, oldest first, with a fresh signed url each (null
 * when artifact_url_key is empty).  SX_ENOTFOUND when org_id has no such task.
 */
enum sx_rc artifact_db_list(struct sx_db *db, const struct sx_conf *conf, const char *org_id,
			    const char *task_id, json_object **out);

/* What one gc run did. */
struct artifact_gc_stats {
	long long rows;        /* artifact rows deleted */
	long long files;       /* files unlinked (a file already gone is not counted) */
	long long bytes;       /* sum of the deleted rows' sizes */
	long long tasks;       /* tasks whose artifact columns were rewritten */
};

/*
 * Deletes the artifacts (row, then file under conf->artifacts_dir) created
 * more than days days ago, except those of tasks that are created, queued or
 * running: the status is checked in the DELETE itself, so a task that is
 * picked up again meanwhile keeps its files.  The tasks' screenshot_artifact,
 * recording_artifact and action_screenshot_artifacts stop naming removed
 * files.  Files are unlinked only for rows this call deleted, and only for
 * safe relative paths.
 */
enum sx_rc artifact_db_gc(struct sx_db *db, const struct sx_conf *conf, long long days,
			  struct artifact_gc_stats *stats);
#endif
