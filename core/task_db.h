#ifndef SX_TASK_DB_H
#define SX_TASK_DB_H
/*
 * Storage of tasks and steps: every statement on `tasks` and `steps` is in
 * task_db.c, which enforces their rules — the task state table
 * (task_transition_allowed) on every status move, the lease, the webhook
 * delivery queued with every final status.
 *
 * The API's functions (task_db_*) take the caller's organization and never
 * return another organization's rows: a task of another organization is
 * SX_ENOTFOUND, exactly as an unknown one.
 *
 * The agent's functions (task_*, step_*) are the queue.  A worker claims one
 * task at a time: a queued task, or a running one whose lease expired (its
 * worker died).  Claiming sets status running, the lease (owner, until, on
 * the database's clock) and counts the attempt.  The worker renews the lease
 * while it works; every later write names the owner, so a worker that lost
 * its lease (reclaimed, or the task canceled) changes nothing.
 */
#include "sx.h"
#include "id.h"
#include "task.h"

struct sx_db;
struct sx_conf;

/*
 * Inserts a queued task.  With an idempotency key (may be NULL), a key the
 * organization used within ttl_seconds returns that task's id instead and
 * sets *existing; an older key is taken over by the new task.  The key row
 * decides (its primary key, never a lock on a row that does not exist), and
 * the key and the task are one transaction: a key always names its task,
 * and concurrent creates with one key make one task.  A lost lock race is
 * retried with jittered backoff; SX_EDEADLOCK when it outlives the retries
 * (nothing stored), SX_EDBDOWN / SX_EDB for other database failures.
 * run_request (may be NULL) is what a run created through /v1/run/tasks
 * asked for beyond the task request (core/run.h), stored as it is.
 */
enum sx_rc task_db_create(struct sx_db *db, const char *org_id,
			  json_object *request, json_object *run_request, long long max_steps,
			  const char *idem_key, long long ttl_seconds,
			  char id_out[SX_ID_MAX], bool *existing);

/*
 * task_db_create() for the API key the request presents (keylen bytes),
 * not an organization the caller looked up: the key check is part of the
 * create's statements (INSERT … SELECT from the key's row), so a create
 * costs one statement without an idempotency key.  SX_EAUTH when the key
 * is not an active key, with nothing stored.  org_out receives the key's
 * organization when a statement named it (the idempotent create), else "".
 */
enum sx_rc task_db_create_by_key(struct sx_db *db, const char *key, size_t keylen,
				 json_object *request, json_object *run_request,
				 long long max_steps, const char *idem_key, long long ttl_seconds,
				 char id_out[SX_ID_MAX], char org_out[SX_ID_MAX], bool *existing);

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

/* What one page of GET /api/v1/tasks asks for. */
struct task_list_query {
	const enum task_status *statuses; /* NULL/0 for all; at most 8 */
	size_t nstatuses;
	bool ascending;                   /* oldest first; newest first otherwise */
	long long page, page_size;        /* page counts from the start, or from after */
	const char *after;                /* a task id the listing starts after, or NULL */
	long long max_bytes;              /* byte budget of the page; <= 0 for none */
};

/*
 * One page.  tasks is the JSON array of task objects (owned by the caller).
 * When the byte budget stopped the page before page_size tasks that were
 * there, truncated is set and last_id names its last task: the rest starts
 * after it (task_list_query.after).
 */
struct task_list_page {
	json_object *tasks;
	bool truncated;
	char last_id[SX_ID_MAX];
};

/*
 * One page of the organization's tasks.  The budget is applied in the
 * database, from the stored sizes of each task's fields (a conservative
 * estimate of its JSON), so a page of large tasks is never read whole: the
 * page takes tasks in order while their running total stays within
 * max_bytes, and always takes the first.  SX_ENOTFOUND when after is not one
 * of the organization's tasks.
 */
enum sx_rc task_db_list(struct sx_db *db, const char *org_id, const struct task_list_query *q,
			const struct sx_conf *artifact_base, struct task_list_page *out);

/*
 * Cancels a task that is created, queued or running.  SX_ECONFLICT when it
 * is in another status (written to *current), SX_ENOTFOUND when unknown.
 */
enum sx_rc task_db_cancel(struct sx_db *db, const char *org_id, const char *task_id,
			  enum task_status *current);

/* The task's steps as a JSON array ordered by order, then retry_index. */
enum sx_rc task_db_steps(struct sx_db *db, const char *org_id, const char *task_id,
			 json_object **out);


/* SX_OK when task_id is one of org_id's tasks, SX_ENOTFOUND otherwise. */
enum sx_rc task_db_owned(struct sx_db *db, const char *org_id, const char *task_id);

/* The task's artifact columns, which artifact_db keeps current. */
enum task_artifact_column {
	TASK_ART_SCREENSHOT,          /* screenshot_artifact: the final screenshot */
	TASK_ART_RECORDING,           /* recording_artifact */
	TASK_ART_ACTION_SCREENSHOTS,  /* action_screenshot_artifacts: a JSON array of paths */
};

/* Sets one artifact column of the task (NULL clears it). */
enum sx_rc task_db_set_artifact(struct sx_db *db, const char *task_id,
				enum task_artifact_column col, const char *value);

/*
 * Makes the task's artifact columns name only files among paths (those that
 * still have an artifact row): the screenshot and the recording become
 * NULL, the action screenshots keep the paths still present (NULL when none
 * is).  For sextant-admin gc.
 */
enum sx_rc task_db_artifacts_keep(struct sx_db *db, const char *task_id,
				  const char *const *paths, size_t npaths);

/* Sets the task's webhook_failure_reason (NULL clears it); for delivery_db. */
enum sx_rc task_db_set_webhook_failure(struct sx_db *db, const char *task_id, const char *reason);

/* ---- the agent's queue --------------------------------------------------- */

/* A completed step of a claimed task, oldest first. */
struct claimed_step {
	long long order;
	json_object *output;     /* the step's stored output, or NULL (owned) */
};

struct claimed_task {
	struct task task;        /* status, attempt and lease owner as the claim set them */
	bool resumed;            /* reclaimed after a lease expired */
	long long next_order;    /* first step order still to run */
	long long elapsed_seconds; /* since the task first started (0 for a new one) */
	struct claimed_step *history; /* the completed steps, by order then retry */
	size_t nhistory;
};

/*
 * Claims the task that waited longest for owner: a running task whose lease
 * expired first (oldest lease), else the oldest queued one.  Two round trips:
 * one read of the candidate with its completed steps, and one statement that
 * takes it only if it is unchanged since (status, lease and modified_at
 * compared under the row lock, so two workers never claim one task) and
 * fails the steps its previous worker left running.  A worker that loses
 * the race reads again.  A task whose next attempt would exceed
 * conf->max_attempts is failed instead (its reason says so, its webhook is
 * queued) and the claim moves on.  SX_EDONE when there is nothing to claim.
 * The caller releases *out with claimed_task_release() whatever the result.
 */
enum sx_rc task_claim(struct sx_db *db, const struct sx_conf *c, const char *owner,
		      struct claimed_task *out);
void claimed_task_release(struct claimed_task *ct);

/*
 * Extends the lease by lease_seconds.  SX_ECANCELED when the task was
 * canceled, SX_ECONFLICT when the lease is no longer owner's (reclaimed or
 * finished elsewhere).
 */
enum sx_rc task_heartbeat(struct sx_db *db, const char *task_id, const char *owner,
			  long long lease_seconds);

/* SX_ECANCELED when the task's status is canceled, SX_OK otherwise. */
enum sx_rc task_check_canceled(struct sx_db *db, const char *task_id);

/*
 * Moves owner's running task to the final status (completed, terminated,
 * failed or timed_out: any other aborts) with the reason and extracted JSON
 * (both may be NULL), clears the lease, and queues the webhook delivery, in
 * one transaction.  SX_ECONFLICT when the task is no longer owner's to finish.
 */
enum sx_rc task_finish(struct sx_db *db, const char *task_id, const char *owner,
		       enum task_status status, const char *failure_reason,
		       const char *extracted_json);

/*
 * Records that a canceled task has stopped: ends owner's lease and marks its
 * unfinished steps canceled.
 */
enum sx_rc task_finish_canceled(struct sx_db *db, const char *task_id, const char *owner);

/*
 * Hands owner's running task back (on shutdown): the lease ends now and the
 * attempt is not counted, so another worker resumes it.
 */
enum sx_rc task_hand_back(struct sx_db *db, const char *task_id, const char *owner);

/*
 * Adds the entries of add (a JSON array, borrowed) to the errors of owner's
 * running task (task_errors_merge: counted entries of one kind fold into
 * one), reading the stored array under the row lock in one transaction.
 * SX_ECONFLICT when the lease is no longer owner's.
 */
enum sx_rc task_add_errors(struct sx_db *db, const char *task_id, const char *owner, json_object *add);

/*
 * Records what replay did for the task (agent/replay.h): the JSON object the
 * task shows as `replay`, borrowed.  Only by the lease's owner.
 */
enum sx_rc task_set_replay(struct sx_db *db, const char *task_id, const char *owner, json_object *replay);

/* Records the proxy the task uses (without credentials; NULL when direct). */
enum sx_rc task_set_proxy_used(struct sx_db *db, const char *task_id, const char *owner,
			       const char *proxy_shown);

/*
 * Sets the url of owner's running task, stored without one (a run created
 * without url), to the start URL the agent chose.  SX_ECONFLICT when the
 * task is no longer owner's, or already has a url.
 */
enum sx_rc task_set_start_url(struct sx_db *db, const char *task_id, const char *owner, const char *url);

/*
 * Starts step `order` of the task as running, with the next retry_index of
 * that order; writes its new id to step_id.
 */
enum sx_rc step_begin(struct sx_db *db, const char *task_id, const char *org_id, long long order,
		      char step_id[SX_ID_MAX]);

/* How a step ended. */
struct step_end_info {
	enum step_status status;   /* completed, failed or canceled */
	bool is_last;
	long long input_tokens, output_tokens;
	double cost;
	const char *output_json;   /* the step's output (secrets already masked) */
};

/* Records how the step ended and recounts the task's steps. */
enum sx_rc step_end(struct sx_db *db, const char *task_id, const char *step_id,
		    const struct step_end_info *e);

/* ---- counts for /metrics ------------------------------------------------- */

struct task_counts {
	long long by_status[TASK_STATUS_COUNT];
	long long waiting;          /* created or queued */
	double oldest_waiting_s;    /* age of the oldest waiting task; 0 when none */
	long long workers_live;     /* distinct owners of a live lease */
};

enum sx_rc task_db_count(struct sx_db *db, struct task_counts *out);

/*
 * The artifact files the agent could not write, summed over every task's
 * errors (TASK_ERROR_ARTIFACT_WRITE entries): counts[i] for artifact type
 * types[i], 0 when none.  Only rows whose errors name the code are parsed.
 */
enum sx_rc task_db_count_artifact_failures(struct sx_db *db, const char *const *types, size_t ntypes,
					   long long *counts);

/*
 * Tasks by replay outcome (the task's `replay`, agent/replay.h): counts[i]
 * for outcomes[i], 0 when none, and the model tokens replay saved in all.
 */
enum sx_rc task_db_count_replay(struct sx_db *db, const char *const *outcomes, size_t n, long long *counts,
				long long *tokens_saved);

/* The step latency histogram has this many bounds. */
#define STEP_COUNT_BOUNDS 8

struct step_counts {
	long long total;            /* steps in any status */
	long long finished;         /* completed, failed or canceled */
	double duration_sum;        /* seconds, over finished steps (created to modified) */
	long long within[STEP_COUNT_BOUNDS]; /* finished steps that took <= bounds[i] s */
	long long input_tokens, output_tokens;
	double cost;
};

enum sx_rc step_db_count(struct sx_db *db, const double bounds[STEP_COUNT_BOUNDS],
			 struct step_counts *out);
#endif
