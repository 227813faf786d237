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
/*
 * Not a row type: the frames a recording is made of, named only by the
 * errors entries of frames that could not be written (agent/recorder.h).
 */
#define ART_RECORDING_FRAME "recording_frame"

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

/* Which of a task's artifacts a listing wants; every member may be empty. */
struct artifact_filter {
	const char *const *types;  /* only these types (ntypes of them); all when 0 */
	size_t ntypes;
	const char *step_id;       /* only this step's; NULL for all */
};

/*
 * The task's artifacts that pass f (NULL for all) as a JSON array, oldest
 * first.  Each item has today's members {artifact_id, type, step_id,
 * created_at, bytes, url} and those of Skyvern's Artifact model
 * (artifact_type, uri, organization_id, modified_at, task_id, run_id,
 * signed_url, file_size, archived, and the ones this server has no value
 * for as null).  url and signed_url are a fresh signed URL (null when
 * artifact_url_key is empty); uri is the path under /artifacts/.
 * SX_ENOTFOUND when org_id has no such task.
 */
enum sx_rc artifact_db_list(struct sx_db *db, const struct sx_conf *conf, const char *org_id,
			    const char *task_id, const struct artifact_filter *f, json_object **out);

/* What one gc run did. */
struct artifact_gc_stats {
	long long rows;        /* artifact rows deleted */
	long long files;       /* files unlinked or objects deleted (a file already gone is not counted) */
	long long bytes;       /* sum of the deleted rows' sizes */
	long long tasks;       /* tasks whose artifact columns were rewritten */
	long long kept;        /* rows kept because their file or object could not be removed */
};

/*
 * Deletes the artifacts created more than days days ago, except those of
 * tasks that are created, queued or running (checked in the SELECT and
 * again in the DELETE).  For each, the file under conf->artifacts_dir or
 * the object in the bucket goes first, and the row only once that is gone
 * (already gone counts): a row whose file or object could not be removed
 * is kept, counted in stats->kept, and tried again by the next run, so no
 * object is ever left without a row naming it.  A row whose path is not a
 * safe relative path names nothing of ours: it is deleted, nothing else.
 * The tasks' screenshot_artifact, recording_artifact and
 * action_screenshot_artifacts stop naming removed files.
 *
 * Returns the database's error, or ends the run early with SX_ECONFIG
 * (the credentials' variables are not set), SX_EHTTP or SX_ETIMEOUT (the
 * object store does not answer), which would fail every other object too;
 * stats counts what was done until then.
 */
enum sx_rc artifact_db_gc(struct sx_db *db, const struct sx_conf *conf, long long days,
			  struct artifact_gc_stats *stats);
#endif
