/*
 * Claiming, leasing and finishing tasks (see queue.h).
 */
#include <unistd.h>
#include "sx.h"
#include "queue.h"
#include "crypto.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "task_db.h"

void queue_owner_name(char *out, size_t outlen)
{
	char host[64] = "host";
	unsigned char r[4];

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	crypto_random_bytes(r, sizeof(r));
	snprintf(out, outlen, "%s:%d:%02x%02x%02x%02x", host, (int)getpid(), r[0], r[1], r[2], r[3]);
}

struct claim_tx {
	const struct sx_conf *conf;
	const char *owner;
	char id[SX_ID_MAX];
	bool resumed;
	bool exhausted;          /* failed for too many attempts instead */
	long long attempt;
};

static enum sx_rc claim_tx_fn(struct sx_db *db, void *arg)
{
	static const char q_queued[] =
		"SELECT id, attempt FROM tasks WHERE status = 'queued' "
		"ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED";
	static const char q_expired[] =
		"SELECT id, attempt FROM tasks WHERE status = 'running' "
		"AND lease_until < UTC_TIMESTAMP(6) ORDER BY lease_until LIMIT 1 FOR UPDATE SKIP LOCKED";
	static const char q_take[] =
		"UPDATE tasks SET status = 'running', started_at = COALESCE(started_at, UTC_TIMESTAMP(6)), "
		"lease_owner = ?, lease_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND, "
		"attempt = attempt + 1, modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	static const char q_exhaust[] =
		"UPDATE tasks SET status = 'failed', failure_reason = ?, finished_at = UTC_TIMESTAMP(6), "
		"lease_owner = NULL, lease_until = NULL, modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	static const char q_cancel_steps[] =
		"UPDATE steps SET status = 'failed', modified_at = UTC_TIMESTAMP(6) "
		"WHERE task_id = ? AND status = 'running'";
	struct claim_tx *c = arg;
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	c->resumed = false;
	c->exhausted = false;
	/* Expired leases first: those tasks have waited longest. */
	rc = sx_db_query(db, q_expired, NULL, 0, &rows);
	if (rc)
		goto out;
	if (rows->nrows == 1) {
		c->resumed = true;
	} else {
		sx_rows_free(rows);
		rows = NULL;
		rc = sx_db_query(db, q_queued, NULL, 0, &rows);
		if (rc)
			goto out;
		if (rows->nrows == 0) {
			rc = SX_EDONE;
			goto out;
		}
	}
	snprintf(c->id, sizeof(c->id), "%s", sx_rows_get(rows, 0, 0));
	c->attempt = sx_rows_i64(rows, 0, 1, 0) + 1;
	if (c->attempt > c->conf->max_attempts) {
		char reason[200];

		snprintf(reason, sizeof(reason),
			 "Task failed after %lld attempts: the worker running it stopped each time "
			 "(lease expired)", c->attempt - 1);
		{
			struct sx_param p[] = { sx_p_str(reason), sx_p_str(c->id) };

			rc = sx_db_exec(db, q_exhaust, p, 2, NULL);
		}
		if (!rc) {
			struct sx_param p[] = { sx_p_str(c->id) };

			rc = sx_db_exec(db, q_cancel_steps, p, 1, NULL);
		}
		if (!rc)
			rc = task_db_queue_webhook(db, c->id);
		c->exhausted = true;
		goto out;
	}
	{
		struct sx_param p[] = { sx_p_str(c->owner), sx_p_i64(c->conf->lease_seconds), sx_p_str(c->id) };

		rc = sx_db_exec(db, q_take, p, 3, NULL);
	}
out:
	sx_rows_free(rows);
	return rc;
}

/* The first step order not yet completed (steps run in order). */
static enum sx_rc next_step_order(struct sx_db *db, const char *task_id, long long *out)
{
	static const char q[] =
		"SELECT COALESCE(MAX(step_order) + 1, 0) FROM steps WHERE task_id = ? AND status = 'completed'";
	static const char q_stale[] =
		"UPDATE steps SET status = 'failed', modified_at = UTC_TIMESTAMP(6) "
		"WHERE task_id = ? AND status IN ('created', 'running')";
	struct sx_param p[] = { sx_p_str(task_id) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	/* A step the previous worker left running did not finish. */
	rc = sx_db_exec(db, q_stale, p, 1, NULL);
	if (rc)
		return rc;
	rc = sx_db_query(db, q, p, 1, &rows);
	if (rc == SX_OK)
		*out = sx_rows_i64(rows, 0, 0, 0);
	sx_rows_free(rows);
	return rc;
}

enum sx_rc queue_claim(struct sx_db *db, const struct sx_conf *c, const char *owner,
		       struct claimed_task *out)
{
	struct claim_tx tx;
	enum sx_rc rc;

	memset(out, 0, sizeof(*out));
	for (;;) {
		memset(&tx, 0, sizeof(tx));
		tx.conf = c;
		tx.owner = owner;
		rc = sx_db_tx(db, claim_tx_fn, &tx);
		if (rc)
			return rc;
		if (!tx.exhausted)
			break;
		log_warn("queue", "msg=\"task failed: too many attempts\" task=%s attempts=%lld",
			 tx.id, tx.attempt - 1);
	}
	out->resumed = tx.resumed;
	rc = task_db_get_any(db, tx.id, &out->task);
	if (rc == SX_OK)
		rc = next_step_order(db, tx.id, &out->next_order);
	if (rc == SX_OK)
		log_info("queue", "msg=claimed task=%s attempt=%lld resumed=%d next_order=%lld",
			 tx.id, tx.attempt, tx.resumed, out->next_order);
	return rc;
}

void claimed_task_release(struct claimed_task *ct)
{
	task_release(&ct->task);
}

enum sx_rc queue_check_canceled(struct sx_db *db, const char *task_id)
{
	static const char q[] = "SELECT status FROM tasks WHERE id = ?";
	struct sx_param p[] = { sx_p_str(task_id) };
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, p, 1, &rows);

	if (rc == SX_OK && rows->nrows == 1 && strcmp(sx_rows_get(rows, 0, 0), "canceled") == 0)
		rc = SX_ECANCELED;
	sx_rows_free(rows);
	return rc;
}

enum sx_rc queue_heartbeat(struct sx_db *db, const char *task_id, const char *owner,
			   long long lease_seconds)
{
	static const char q[] =
		"UPDATE tasks SET lease_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND "
		"WHERE id = ? AND lease_owner = ? AND status = 'running'";
	struct sx_param p[] = { sx_p_i64(lease_seconds), sx_p_str(task_id), sx_p_str(owner) };
	unsigned long long n = 0;
	enum sx_rc rc = sx_db_exec(db, q, p, 3, &n);

	if (rc)
		return rc;
	if (n == 1)
		return SX_OK;
	rc = queue_check_canceled(db, task_id);
	return rc == SX_OK ? SX_ECONFLICT : rc;
}

struct finish_tx {
	const char *task_id;
	const char *owner;
	enum task_status status;
	const char *reason;
	const char *extracted;
};

static enum sx_rc finish_tx_fn(struct sx_db *db, void *arg)
{
	static const char q[] =
		"UPDATE tasks SET status = ?, failure_reason = ?, extracted_information = ?, "
		"finished_at = UTC_TIMESTAMP(6), lease_owner = NULL, lease_until = NULL, "
		"modified_at = UTC_TIMESTAMP(6) WHERE id = ? AND lease_owner = ? AND status = 'running'";
	struct finish_tx *f = arg;
	struct sx_param p[] = { sx_p_str(task_status_name(f->status)), sx_p_str(f->reason),
				sx_p_str(f->extracted), sx_p_str(f->task_id), sx_p_str(f->owner) };
	unsigned long long n = 0;
	enum sx_rc rc = sx_db_exec(db, q, p, 5, &n);

	if (rc)
		return rc;
	if (n != 1)
		return SX_ECONFLICT;
	return task_db_queue_webhook(db, f->task_id);
}

enum sx_rc queue_finish(struct sx_db *db, const char *task_id, const char *owner,
			enum task_status status, const char *failure_reason,
			const char *extracted_json)
{
	struct finish_tx f = { task_id, owner, status, failure_reason, extracted_json };
	enum sx_rc rc;

	if (!task_status_is_final(status))
		abort();
	rc = sx_db_tx(db, finish_tx_fn, &f);
	if (rc == SX_OK)
		log_info("queue", "msg=finished task=%s status=%s", task_id, task_status_name(status));
	else
		log_warn("queue", "msg=\"finish not recorded\" task=%s status=%s error=%s", task_id,
			 task_status_name(status), sx_log_quote(sx_strerror(rc)));
	return rc;
}

enum sx_rc queue_finish_canceled(struct sx_db *db, const char *task_id, const char *owner)
{
	static const char q_task[] =
		"UPDATE tasks SET lease_owner = NULL, lease_until = NULL, modified_at = UTC_TIMESTAMP(6) "
		"WHERE id = ? AND lease_owner = ? AND status = 'canceled'";
	static const char q_steps[] =
		"UPDATE steps SET status = 'canceled', modified_at = UTC_TIMESTAMP(6) "
		"WHERE task_id = ? AND status IN ('created', 'running')";
	struct sx_param p[] = { sx_p_str(task_id), sx_p_str(owner) };
	enum sx_rc rc = sx_db_exec(db, q_task, p, 2, NULL);

	if (rc == SX_OK)
		rc = sx_db_exec(db, q_steps, p, 1, NULL);
	log_info("queue", "msg=\"stopped after cancel\" task=%s", task_id);
	return rc;
}

enum sx_rc queue_release(struct sx_db *db, const char *task_id, const char *owner)
{
	static const char q[] =
		"UPDATE tasks SET lease_owner = NULL, lease_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND, "
		"attempt = GREATEST(attempt - 1, 0), modified_at = UTC_TIMESTAMP(6) "
		"WHERE id = ? AND lease_owner = ? AND status = 'running'";
	struct sx_param p[] = { sx_p_str(task_id), sx_p_str(owner) };
	enum sx_rc rc = sx_db_exec(db, q, p, 2, NULL);

	log_info("queue", "msg=\"handed back\" task=%s", task_id);
	return rc;
}
