#ifndef SX_QUEUE_H
#define SX_QUEUE_H
/*
 * The task queue, kept in MariaDB (the only coordination point).
 *
 * A worker claims one task at a time in one transaction with
 * SELECT … FOR UPDATE SKIP LOCKED: a queued task, or a running one whose
 * lease expired (its worker died).  Claiming sets status running, the lease
 * (owner, until) and counts the attempt.  The worker renews the lease while
 * it works; every later write names the owner, so a worker that lost its
 * lease (reclaimed, or the task canceled) changes nothing.
 */
#include "sx.h"
#include "id.h"
#include "task.h"

struct sx_db;
struct sx_conf;

struct claimed_task {
	struct task task;        /* as read after the claim */
	bool resumed;            /* reclaimed after a lease expired */
	long long next_order;    /* first step order still to run */
};

/*
 * Claims the oldest queued task (or an expired lease) for owner.  SX_EDONE
 * when there is nothing to claim.  A task reclaimed more than max_attempts
 * times is failed here with a reason that says so, and SX_EDONE… is not
 * returned for it: the claim moves on to the next candidate.
 */
enum sx_rc queue_claim(struct sx_db *db, const struct sx_conf *c, const char *owner,
		       struct claimed_task *out);
void claimed_task_release(struct claimed_task *ct);

/*
 * Extends the lease.  SX_ECANCELED when the task was canceled, SX_ECONFLICT
 * when the lease is no longer ours (reclaimed or finished elsewhere).
 */
enum sx_rc queue_heartbeat(struct sx_db *db, const char *task_id, const char *owner,
			   long long lease_seconds);

/* SX_ECANCELED when the task's status is canceled, SX_OK while running. */
enum sx_rc queue_check_canceled(struct sx_db *db, const char *task_id);

/*
 * Moves the task to a final status (completed, terminated, failed,
 * timed_out) with the reason and extracted JSON (both may be NULL), clears
 * the lease, and queues the webhook delivery in the same transaction.
 * SX_ECONFLICT when the task is no longer ours to finish.
 */
enum sx_rc queue_finish(struct sx_db *db, const char *task_id, const char *owner,
			enum task_status status, const char *failure_reason,
			const char *extracted_json);

/*
 * Records that a canceled task has stopped: closes the lease and marks its
 * running step canceled.
 */
enum sx_rc queue_finish_canceled(struct sx_db *db, const char *task_id, const char *owner);

/* Hands the task back on shutdown: the lease ends now, so another worker resumes it. */
enum sx_rc queue_release(struct sx_db *db, const char *task_id, const char *owner);

/* Writes the worker's owner string: host:pid:random. */
void queue_owner_name(char *out, size_t outlen);
#endif
