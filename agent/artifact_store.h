#ifndef SX_ARTIFACT_STORE_H
#define SX_ARTIFACT_STORE_H
/*
 * Files the agent writes for a task — screenshots, LLM exchanges, the
 * recording — under <artifacts_dir>/<org_id>/<task_id>/, each recorded in
 * `artifacts` (core/artifact_db.h, which also keeps the task's artifact
 * columns current).
 */
#include "sx.h"
#include "artifact_db.h"
#include <json-c/json.h>

struct sx_db;

struct artifact_ctx {
	struct sx_db *db;
	const char *root;       /* artifacts_dir */
	const char *org_id;
	const char *task_id;
};

/*
 * Writes data to a new file of the task (atomically: a temporary file
 * renamed into place) and records it.  step_id may be NULL.  The relative
 * path is written to rel_out when it is not NULL (caller frees).
 */
enum sx_rc artifact_store_save(const struct artifact_ctx *a, const char *step_id, const char *type,
			       const char *ext, const void *data, size_t len, char **rel_out);

/*
 * Moves the file src (on the artifacts file system, e.g. in the task's
 * directory) into place as a new artifact of the task and records it, as
 * artifact_store_save does for data in memory.  On failure src is left
 * where it is.
 */
enum sx_rc artifact_store_adopt(const struct artifact_ctx *a, const char *step_id, const char *type,
				const char *ext, const char *src, char **rel_out);

/* The task's own directory (created when missing); caller frees. */
char *artifact_store_task_dir(const struct artifact_ctx *a);

#endif
