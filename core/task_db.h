#ifndef SX_TASK_DB_H
#define SX_TASK_DB_H
/*
 * Storage of tasks and steps.  Every function takes the caller's
 * organization and never returns another organization's rows: a task of
 * another organization is SX_ENOTFOUND, exactly as an unknown one.
 */
#include "sx.h"
#include "id.h"
#include "task.h"

struct sx_db;
struct sx_conf;

/*
 * Inserts a queued task.  With an idempotency key (may be NULL), a key the
 * organization used within ttl_seconds returns that task's id instead and
 * sets *existing.  The insert and the key are one transaction.
 */
enum sx_rc task_db_create(struct sx_db *db, const char *org_id,
			  json_object *request, long long max_steps,
			  const char *idem_key, long long ttl_seconds,
			  char id_out[SX_ID_MAX], bool *existing);

/*
 * Reads one task.  With artifact_base (the config: public_base_url,
 * artifact_url_key, artifact_url_ttl) artifact paths become fresh signed
 * URLs (null when no key is configured); with NULL they stay bare paths.
 * The caller releases *out with task_release().
 */
enum sx_rc task_db_get(struct sx_db *db, const char *org_id, const char *task_id,
		       const struct sx_conf *artifact_base, struct task *out);

/*
 * Reads one task of the organization that owns the API key `key`, in one
 * query: the key check and the read together (the polling route's whole
 * database cost).  SX_ENOTFOUND when the key matches no active key or the
 * task is not that organization's: the caller tells the two apart.
 */
enum sx_rc task_db_get_by_key(struct sx_db *db, const char *key, size_t keylen,
			      const char *task_id, const struct sx_conf *conf, struct task *out);

/*
 * One page of the organization's tasks as a JSON array of task objects,
 * newest first unless ascending.  statuses may be NULL/0 for all.
 */
enum sx_rc task_db_list(struct sx_db *db, const char *org_id,
			const enum task_status *statuses, size_t nstatuses,
			bool ascending, long long page, long long page_size,
			const struct sx_conf *artifact_base, json_object **out);

/*
 * Cancels a task that is created, queued or running.  SX_ECONFLICT when it
 * is in another status (written to *current), SX_ENOTFOUND when unknown.
 */
enum sx_rc task_db_cancel(struct sx_db *db, const char *org_id, const char *task_id,
			  enum task_status *current);

/* The task's steps as a JSON array ordered by order, then retry_index. */
enum sx_rc task_db_steps(struct sx_db *db, const char *org_id, const char *task_id,
			 json_object **out);


/*
 * Queues the webhook delivery of a task that just reached a final status,
 * when its request has a webhook_callback_url.  Called inside the
 * transaction that set the status, so there is exactly one per final move.
 */
enum sx_rc task_db_queue_webhook(struct sx_db *db, const char *task_id);
/*
 * Queues one more delivery of the task's webhook (a new delivery id, written
 * to id_out) whatever its status; the caller checks that it is final.
 * SX_ENOTFOUND when the task is unknown or has no webhook_callback_url.
 */
enum sx_rc task_db_queue_webhook_id(struct sx_db *db, const char *task_id, char id_out[SX_ID_MAX]);
/* Reads a task whatever its organization (for the agent). */
enum sx_rc task_db_get_any(struct sx_db *db, const char *task_id, struct task *out);
/* SX_OK when task_id is one of org_id's tasks, SX_ENOTFOUND otherwise. */
enum sx_rc task_db_owned(struct sx_db *db, const char *org_id, const char *task_id);
#endif
