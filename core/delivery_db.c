/*
 * The webhook outbox (see delivery_db.h).
 */
#include "sx.h"
#include "delivery_db.h"
#include "db.h"
#include "task_db.h"

void delivery_release(struct delivery *d)
{
	free(d->url);
	d->url = NULL;
}

enum sx_rc delivery_db_queue_again(struct sx_db *db, const char *task_id, char id_out[SX_ID_MAX])
{
	static const char q[] =
		"INSERT INTO webhook_deliveries (id, task_id, org_id, url, status, attempts, "
		"next_attempt_at, expires_at, created_at) "
		"SELECT ?, id, org_id, JSON_VALUE(request, '$.webhook_callback_url'), 'pending', 0, "
		"UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL 1 DAY, UTC_TIMESTAMP(6) "
		"FROM tasks WHERE id = ? AND JSON_VALUE(request, '$.webhook_callback_url') IS NOT NULL";
	unsigned long long n = 0;
	enum sx_rc rc;

	sx_id_new(id_out, "whd_");
	{
		struct sx_param p[] = { sx_p_str(id_out), sx_p_str(task_id) };

		rc = sx_db_exec(db, q, p, 2, &n);
	}
	if (rc == SX_OK && n == 0)
		rc = SX_ENOTFOUND;
	if (rc)
		id_out[0] = '\0';
	return rc;
}

enum sx_rc delivery_db_queue(struct sx_db *db, const char *task_id)
{
	char id[SX_ID_MAX];
	enum sx_rc rc = delivery_db_queue_again(db, task_id, id);

	/* A task without a webhook_callback_url has nothing to deliver. */
	return rc == SX_ENOTFOUND ? SX_OK : rc;
}

struct claim_tx {
	const char *owner;
	long long lease_s;
	struct delivery *d;
};

static enum sx_rc claim_tx_fn(struct sx_db *db, void *arg)
{
	static const char q_due[] =
		"SELECT id, task_id, org_id, url, attempts, "
		"TIMESTAMPDIFF(MICROSECOND, created_at, UTC_TIMESTAMP(6)) DIV 1000 "
		"FROM webhook_deliveries WHERE status = 'pending' "
		"AND next_attempt_at <= UTC_TIMESTAMP(6) "
		"AND (lease_until IS NULL OR lease_until < UTC_TIMESTAMP(6)) "
		"ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED";
	static const char q_lease[] =
		"UPDATE webhook_deliveries SET lease_owner = ?, "
		"lease_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND WHERE id = ?";
	struct claim_tx *c = arg;
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	rc = sx_db_query(db, q_due, NULL, 0, &rows);
	if (rc)
		goto out;
	if (rows->nrows == 0) {
		rc = SX_EDONE;
		goto out;
	}
	delivery_release(c->d);
	snprintf(c->d->id, sizeof(c->d->id), "%s", sx_rows_get(rows, 0, 0));
	snprintf(c->d->task_id, sizeof(c->d->task_id), "%s", sx_rows_get(rows, 0, 1));
	snprintf(c->d->org_id, sizeof(c->d->org_id), "%s", sx_rows_get(rows, 0, 2));
	c->d->url = xstrdup(sx_rows_get(rows, 0, 3) ? sx_rows_get(rows, 0, 3) : "");
	c->d->attempt = sx_rows_i64(rows, 0, 4, 0) + 1;
	c->d->age_ms = sx_rows_i64(rows, 0, 5, 0);
	{
		struct sx_param p[] = { sx_p_str(c->owner), sx_p_i64(c->lease_s), sx_p_str(c->d->id) };

		rc = sx_db_exec(db, q_lease, p, 3, NULL);
	}
out:
	sx_rows_free(rows);
	return rc;
}

enum sx_rc delivery_db_claim(struct sx_db *db, const char *owner, long long lease_s,
			     struct delivery *d)
{
	struct claim_tx tx = { owner, lease_s, d };

	return sx_db_tx(db, claim_tx_fn, &tx);
}

struct record_tx {
	const char *owner;
	const struct delivery *d;
	const struct delivery_attempt *a;
	long long window_s;
	bool lost_lease;
};

/*
 * Records one attempt: the delivery's row first, conditioned on the lease,
 * then the attempt's row, so a transaction run again after a commit whose
 * answer was lost (sx_db_tx() after a failover) finds the lease gone and
 * records nothing twice.
 */
static enum sx_rc record_tx_fn(struct sx_db *db, void *arg)
{
	static const char q_attempt[] =
		"INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, "
		"duration_ms, created_at) VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6))";
	static const char q_delivery[] =
		"UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, "
		"next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND, "
		"expires_at = created_at + INTERVAL ? SECOND, last_status_code = ?, last_error = ?, "
		"lease_owner = NULL, lease_until = NULL, "
		"delivered_at = IF(? <> 0, UTC_TIMESTAMP(6), delivered_at) "
		"WHERE id = ? AND lease_owner = ?";
	static const char *const names[] = { "delivered", "pending", "failed" };
	struct record_tx *x = arg;
	const struct delivery_attempt *a = x->a;
	unsigned long long n = 0;
	enum sx_rc rc;

	x->lost_lease = false;
	{
		struct sx_param p[] = {
			sx_p_str(names[a->outcome]), sx_p_i64(a->delay_ms * 1000),
			sx_p_i64(x->window_s),
			a->status_code ? sx_p_i64(a->status_code) : sx_p_null(),
			sx_p_str(a->reason), sx_p_i64(a->outcome == DELIVERY_DELIVERED),
			sx_p_str(x->d->id), sx_p_str(x->owner)
		};

		rc = sx_db_exec(db, q_delivery, p, 8, &n);
		if (rc)
			goto out;
	}
	if (n == 0) {
		/* Another sender holds the row now: its attempt will set the reason. */
		x->lost_lease = true;
		goto out;
	}
	{
		struct sx_param p[] = {
			sx_p_str(x->d->id), sx_p_i64(x->d->attempt),
			a->status_code ? sx_p_i64(a->status_code) : sx_p_null(),
			sx_p_str(a->error), sx_p_i64(a->duration_ms)
		};

		rc = sx_db_exec(db, q_attempt, p, 5, NULL);
		if (rc)
			goto out;
	}
	rc = task_db_set_webhook_failure(db, x->d->task_id, a->reason);
out:
	return rc;
}

enum sx_rc delivery_db_record(struct sx_db *db, const char *owner, const struct delivery *d,
			      const struct delivery_attempt *a, long long retry_window_s,
			      bool *lost_lease)
{
	struct record_tx x = { owner, d, a, retry_window_s, false };
	enum sx_rc rc;

	if ((unsigned)a->outcome > DELIVERY_FAILED)
		abort();
	rc = sx_db_tx(db, record_tx_fn, &x);
	*lost_lease = x.lost_lease;
	return rc;
}

enum sx_rc delivery_db_count(struct sx_db *db, struct delivery_counts *out)
{
	static const char q[] =
		"SELECT COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'failed'), 0), "
		"COALESCE(SUM(status = 'delivered'), 0) FROM webhook_deliveries";
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, NULL, 0, &rows);

	memset(out, 0, sizeof(*out));
	if (rc == SX_OK) {
		out->pending = sx_rows_i64(rows, 0, 0, 0);
		out->failed = sx_rows_i64(rows, 0, 1, 0);
		out->delivered = sx_rows_i64(rows, 0, 2, 0);
	}
	sx_rows_free(rows);
	return rc;
}
