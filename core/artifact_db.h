#ifndef SX_ARTIFACT_DB_H
#define SX_ARTIFACT_DB_H
/*
 * Reading and expiring the `artifacts` rows (the agent writes them, see
 * agent/artifacts.h).  Like task_db, every organization-facing read names
 * the organization, so another organization's task is SX_ENOTFOUND.
 */
#include "sx.h"
#include <json-c/json.h>

struct sx_db;
struct sx_conf;

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
