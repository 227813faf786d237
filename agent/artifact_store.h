#ifndef SX_ARTIFACT_STORE_H
#define SX_ARTIFACT_STORE_H
/*
 * Files the agent writes for a task — screenshots, LLM exchanges, the
 * recording — under <artifacts_dir>/<org_id>/<task_id>/, or with
 * artifacts_backend = s3 as objects of that same relative path in the
 * bucket (core/s3.h), each recorded in `artifacts` (core/artifact_db.h,
 * which also keeps the task's artifact columns current).  Either way the
 * API host needs nothing from the agent's disk: with s3 it needs only the
 * database and the bucket.
 */
#include "sx.h"
#include "artifact_db.h"
#include <json-c/json.h>

struct sx_db;
struct sx_conf;
struct http_client;

/* Kinds of lost files a run can tally: every ART_* type, with room to spare. */
#define ARTIFACT_LOSS_KINDS 10
#define ARTIFACT_LOSS_WHAT 96

/* Files of one type that could not be written during the run. */
struct artifact_loss {
	const char *type;       /* an ART_* constant (static) */
	long long count;
	int err;                /* errno of the latest failure; 0 when unknown */
	char what[ARTIFACT_LOSS_WHAT]; /* the step that failed, latest ("could not write the file") */
};

struct artifact_ctx {
	struct sx_db *db;
	const struct sx_conf *conf; /* artifacts_backend and the s3_* keys; NULL: filesystem */
	struct http_client *http;   /* the object store's connection, made on first use */
	const char *root;       /* artifacts_dir */
	const char *org_id;
	const char *task_id;
	/* the files lost since the last artifact_store_losses_take(), one slot per type */
	struct artifact_loss losses[ARTIFACT_LOSS_KINDS];
	size_t nlosses;
};

/*
 * Writes data to a new file of the task (atomically: a temporary file
 * renamed into place) and records it.  step_id may be NULL.  The relative
 * path is written to rel_out when it is not NULL (caller frees).  A file
 * that cannot be written is tallied as lost (artifact_store_lost).
 */
enum sx_rc artifact_store_save(struct artifact_ctx *a, const char *step_id, const char *type,
			       const char *ext, const void *data, size_t len, char **rel_out);

/*
 * Moves the file src (on the artifacts file system, e.g. in the task's
 * directory) into place as a new artifact of the task and records it, as
 * artifact_store_save does for data in memory.  On failure src is left
 * where it is.
 */
enum sx_rc artifact_store_adopt(struct artifact_ctx *a, const char *step_id, const char *type,
				const char *ext, const char *src, char **rel_out);

/*
 * Tallies count files of type (an ART_* constant) as lost: err is the errno
 * of the failure (0 when unknown) and what the step that failed, in a few
 * words.  For files written outside this module (the recording's frames).
 */
void artifact_store_lost(struct artifact_ctx *a, const char *type, long long count, int err,
			 const char *what);

/*
 * The tally as tasks.errors entries (one TASK_ERROR_ARTIFACT_WRITE entry per
 * type, task.h), and clears it: NULL when nothing was lost, else an array
 * the caller puts.
 */
json_object *artifact_store_losses_take(struct artifact_ctx *a);

/* Frees what the context made for itself (the object store's connection). */
void artifact_store_release(struct artifact_ctx *a);

/* The task's own directory (created when missing); caller frees. */
char *artifact_store_task_dir(const struct artifact_ctx *a);

#endif
