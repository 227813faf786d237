#ifndef SX_DELIVERY_DB_H
#define SX_DELIVERY_DB_H
/*
 * The webhook outbox: `webhook_deliveries` and `webhook_attempts`.  Every
 * statement on them is here, and so are their rules: a delivery is queued
 * in the transaction that moved its task to a final status; one sender at
 * a time holds a delivery, under a lease (lease_owner, lease_until) taken
 * with SELECT … FOR UPDATE SKIP LOCKED; every attempt is a row, written with
 * the delivery's new state in one transaction that ends the lease, and only
 * by the lease's holder.  The sender's policy (what to retry, how long to
 * wait) is agent/webhook.c's.
 */
#include "sx.h"
#include "id.h"

struct sx_db;

/* One claimed delivery, as the claim read it. */
struct delivery {
	char id[SX_ID_MAX];
	char task_id[SX_ID_MAX];
	char org_id[SX_ID_MAX];
	char *url;               /* owned */
	long long attempt;       /* number of the attempt being made (1-based) */
	long long age_ms;        /* since the delivery was queued */
};

/* Frees d's contents (not d); d may be reused. */
void delivery_release(struct delivery *d);

/*
 * Queues the webhook delivery of a task that just reached a final status,
 * when its request has a webhook_callback_url (SX_OK and nothing queued
 * when it has none).  Call it inside the transaction that set the status,
 * so there is exactly one delivery per final move.
 */
enum sx_rc delivery_db_queue(struct sx_db *db, const char *task_id);

/*
 * Queues one more delivery of the task's webhook (a new delivery id, written
 * to id_out) whatever its status; the caller checks that it is final.
 * SX_ENOTFOUND when the task is unknown or has no webhook_callback_url.
 */
enum sx_rc delivery_db_queue_again(struct sx_db *db, const char *task_id, char id_out[SX_ID_MAX]);

/*
 * Takes the oldest due delivery that no live lease holds and leases it to
 * owner for lease_s seconds (the database's clock), in one transaction.
 * SX_EDONE when none is due.  d's previous contents are released first.
 */
enum sx_rc delivery_db_claim(struct sx_db *db, const char *owner, long long lease_s,
			     struct delivery *d);

/* What one attempt came to. */
enum delivery_outcome {
	DELIVERY_DELIVERED,      /* the receiver answered 2xx */
	DELIVERY_RETRY,          /* try again after delay_ms */
	DELIVERY_FAILED,         /* give up */
};

struct delivery_attempt {
	enum delivery_outcome outcome;
	long status_code;         /* 0: no HTTP answer */
	const char *error;        /* transport error, NULL for none */
	long long duration_ms;
	long long delay_ms;       /* before the next attempt (DELIVERY_RETRY) */
	const char *reason;       /* the task's webhook_failure_reason; NULL clears it */
};

/*
 * Records attempt a at d in one transaction: the attempt's row, the
 * delivery's new state (delivered, pending until now + delay_ms, or failed;
 * its window ends retry_window_s after its creation), the end of the lease,
 * and the task's webhook_failure_reason.  When owner no longer holds the
 * lease, only the attempt's row is written and *lost_lease is set.
 */
enum sx_rc delivery_db_record(struct sx_db *db, const char *owner, const struct delivery *d,
			      const struct delivery_attempt *a, long long retry_window_s,
			      bool *lost_lease);

/* The outbox by state, for /metrics. */
struct delivery_counts {
	long long pending;
	long long failed;
	long long delivered;
};

enum sx_rc delivery_db_count(struct sx_db *db, struct delivery_counts *out);
#endif
