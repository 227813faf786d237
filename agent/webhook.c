/*
 * The webhook sender (see webhook.h).
 */
#include "sx.h"
#include "webhook.h"
#include "crypto.h"
#include "conf.h"
#include "db.h"
#include "http.h"
#include "id.h"
#include "log.h"
#include "org_db.h"
#include "queue.h"
#include "sign.h"
#include "supervise.h"
#include "task.h"
#include "task_db.h"
#include "timeutil.h"

/* The lease outlasts the attempt's timeout by this much (the DB writes). */
#define WEBHOOK_LEASE_SLACK_S 15
/* Receivers' answers are not used; an answer over this cap counts as a transport error (retried). */
#define WEBHOOK_MAX_RESPONSE (1024 * 1024)
#define WEBHOOK_REASON_MAX 512

enum outcome { OUT_DELIVERED, OUT_RETRY, OUT_FAILED };

/* One claimed delivery, as read by the claim. */
struct delivery {
	char id[SX_ID_MAX];
	char task_id[SX_ID_MAX];
	char org_id[SX_ID_MAX];
	char *url;
	long long attempt;       /* number of the attempt being made (1-based) */
	long long age_ms;        /* since the delivery was queued */
};

/* What one attempt came to, as written to the database. */
struct result {
	enum outcome outcome;
	long status_code;         /* 0: no HTTP answer */
	char error[300];          /* transport error, "" for none */
	long long duration_ms;
	long long delay_ms;       /* before the next attempt (OUT_RETRY) */
	char reason[WEBHOOK_REASON_MAX]; /* webhook_failure_reason; "" clears it */
};

struct sender {
	const struct sx_conf *conf;
	struct sx_db *db;
	struct http_client *http;
	char owner[128];
};

long long webhook_retry_delay_ms(long long base_ms, long long max_ms, long long attempt,
				 long long retry_after_s, uint64_t r)
{
	long long ceiling = base_ms;
	long long delay;

	for (long long i = 1; i < attempt && ceiling < max_ms; i++)
		ceiling *= 2;
	if (ceiling > max_ms)
		ceiling = max_ms;
	delay = (long long)(r % (uint64_t)(ceiling + 1));
	if (retry_after_s >= 0 && retry_after_s * 1000 > delay)
		delay = retry_after_s * 1000;
	return delay;
}

static void delivery_release(struct delivery *d)
{
	free(d->url);
	d->url = NULL;
}

struct claim_tx {
	const char *owner;
	long long lease_s;
	struct delivery *d;
};

/*
 * Takes the oldest due delivery that no live lease holds and leases it to
 * owner.  SX_EDONE when none is due.
 */
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

struct record_tx {
	const struct sender *s;
	const struct delivery *d;
	const struct result *r;
	bool lost_lease;
};

/*
 * Writes the attempt, the delivery's new state (ending the lease) and the
 * task's webhook_failure_reason in one transaction.
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
	static const char q_task[] = "UPDATE tasks SET webhook_failure_reason = ? WHERE id = ?";
	static const char *const names[] = { "delivered", "pending", "failed" };
	struct record_tx *x = arg;
	const struct result *r = x->r;
	const char *err = r->error[0] ? r->error : NULL;
	const char *reason = r->reason[0] ? r->reason : NULL;
	unsigned long long n = 0;
	enum sx_rc rc;

	x->lost_lease = false;
	{
		struct sx_param p[] = {
			sx_p_str(x->d->id), sx_p_i64(x->d->attempt),
			r->status_code ? sx_p_i64(r->status_code) : sx_p_null(),
			sx_p_str(err), sx_p_i64(r->duration_ms)
		};

		rc = sx_db_exec(db, q_attempt, p, 5, NULL);
		if (rc)
			goto out;
	}
	{
		struct sx_param p[] = {
			sx_p_str(names[r->outcome]), sx_p_i64(r->delay_ms * 1000),
			sx_p_i64(x->s->conf->webhook_retry_window),
			r->status_code ? sx_p_i64(r->status_code) : sx_p_null(),
			sx_p_str(reason), sx_p_i64(r->outcome == OUT_DELIVERED),
			sx_p_str(x->d->id), sx_p_str(x->s->owner)
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
		struct sx_param p[] = { sx_p_str(reason), sx_p_str(x->d->task_id) };

		rc = sx_db_exec(db, q_task, p, 2, NULL);
	}
out:
	return rc;
}

/* True for the answers worth trying again: 408, 425, 429 and 5xx. */
static bool status_retryable(long st)
{
	return st == 408 || st == 425 || st == 429 || (st >= 500 && st <= 599);
}

/* The Retry-After seconds, or -1 when absent or an HTTP date (not honoured). */
static long long retry_after_seconds(const char *v)
{
	long long s;

	if (!v || !sx_parse_ll(v, 0, 7 * 86400, &s))
		return -1;
	return s;
}

/*
 * Turns the HTTP outcome into what the attempt means: delivered, retried
 * later (with its delay) or failed for good, and the reason in words.
 */
static void classify(const struct sender *s, const struct delivery *d, enum sx_rc rc,
		     const struct http_response *res, struct result *r)
{
	const struct sx_conf *c = s->conf;
	char what[300];
	long long ra = -1;
	uint64_t rnd;

	r->status_code = rc == SX_OK || rc == SX_ETOOBIG ? res->status : 0;
	if (r->status_code == 0 && rc == SX_OK)
		rc = SX_EHTTP;
	if (r->status_code >= 200 && r->status_code <= 299) {
		r->outcome = OUT_DELIVERED;
		return;
	}
	if (rc == SX_EBLOCKED) {
		r->outcome = OUT_FAILED;
		snprintf(r->error, sizeof(r->error), "%s", res->error[0] ? res->error : "refused");
		snprintf(r->reason, sizeof(r->reason),
			 "Webhook delivery failed: the URL was refused by the outbound address guard (%s)",
			 r->error);
		return;
	}
	if (r->status_code) {
		snprintf(what, sizeof(what), "HTTP %ld from receiver", r->status_code);
		if (!status_retryable(r->status_code)) {
			r->outcome = OUT_FAILED;
			snprintf(r->reason, sizeof(r->reason), "Webhook delivery failed: %s%s", what,
				 r->status_code >= 300 && r->status_code <= 399 ?
				 " (redirects are not followed)" : "");
			return;
		}
		ra = retry_after_seconds(res->retry_after);
	} else {
		snprintf(r->error, sizeof(r->error), "%s", res->error[0] ? res->error : sx_strerror(rc));
		if (rc == SX_ETIMEOUT)
			snprintf(what, sizeof(what), "no answer within %lld s", c->webhook_timeout);
		else if (res->failure == HTTP_FAIL_CONNECT)
			snprintf(what, sizeof(what), "connection refused");
		else
			snprintf(what, sizeof(what), "%s", r->error);
	}
	crypto_random_bytes(&rnd, sizeof(rnd));
	r->delay_ms = webhook_retry_delay_ms(c->webhook_backoff_base_ms, c->webhook_backoff_max_ms,
					     d->attempt, ra, rnd);
	if (d->age_ms + r->duration_ms + r->delay_ms > c->webhook_retry_window * 1000) {
		r->outcome = OUT_FAILED;
		r->delay_ms = 0;
		snprintf(r->reason, sizeof(r->reason),
			 "Webhook delivery failed: %s; gave up after %lld attempts (retry window of %lld s ended)",
			 what, d->attempt, c->webhook_retry_window);
		return;
	}
	r->outcome = OUT_RETRY;
	snprintf(r->reason, sizeof(r->reason), "Webhook delivery failed: %s, will retry", what);
}

/*
 * Builds the signed request for d and sends it once.  The body and the
 * secret stay in this function: neither is logged.
 */
static enum sx_rc attempt_send(struct sender *s, const struct delivery *d, struct result *r)
{
	const struct sx_conf *c = s->conf;
	struct task t;
	json_object *o = NULL;
	char secret[SX_SIGNING_SECRET_MAX], sig[72], ts[24];
	enum sign_mode mode = SIGN_SLACK;
	const char *body;
	size_t len = 0;
	long long tsv;
	struct http_response res;
	int64_t t0;
	enum sx_rc rc;

	memset(&res, 0, sizeof(res));
	secret[0] = '\0';
	rc = task_db_get(s->db, d->org_id, d->task_id, c, &t);
	if (rc == SX_ENOTFOUND) {
		r->outcome = OUT_FAILED;
		snprintf(r->error, sizeof(r->error), "task not found");
		snprintf(r->reason, sizeof(r->reason), "Webhook delivery failed: the task no longer exists");
		rc = SX_OK;
		goto out;
	}
	if (rc)
		goto out;
	rc = org_db_signing_get(s->db, d->org_id, secret, &mode);
	if (rc)
		goto out;
	o = task_to_json(&t, false);
	body = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	/* A fresh timestamp per attempt: receivers reject old ones. */
	tsv = (long long)(sx_now_us() / 1000000);
	snprintf(ts, sizeof(ts), "%lld", tsv);
	sign_request(mode, secret, tsv, body, len, sig);
	crypto_wipe(secret, sizeof(secret));
	{
		struct http_header h[] = {
			{ "Content-Type", "application/json" },
			{ "x-skyvern-timestamp", ts },
			{ "x-skyvern-signature", sig },
			{ "x-sextant-delivery-id", d->id },
			{ "User-Agent", "Sextant-Webhook/1" },
		};
		struct http_request req = {
			.method = "POST", .url = d->url, .headers = h, .nheaders = SX_ARRAY_LEN(h),
			.body = body, .body_len = len, .timeout_ms = c->webhook_timeout * 1000,
			.max_response = WEBHOOK_MAX_RESPONSE,
			.guarded = true, .allow = c->outbound_allow,
		};
		enum sx_rc hrc;

		t0 = sx_mono_ms();
		hrc = http_perform(s->http, &req, &res);
		r->duration_ms = sx_mono_ms() - t0;
		classify(s, d, hrc, &res, r);
	}
out:
	crypto_wipe(secret, sizeof(secret));
	http_response_release(&res);
	json_object_put(o);
	task_release(&t);
	return rc;
}

/*
 * Makes one attempt at d and records it.  The record is retried while the
 * database is away (within the lease), because a 2xx that is not written
 * down would be sent again.
 */
static void deliver(struct sender *s, struct delivery *d)
{
	static const char *const names[] = { "delivered", "retry", "failed" };
	struct result r;
	struct record_tx x;
	int64_t deadline = sx_mono_ms() + (s->conf->webhook_timeout + WEBHOOK_LEASE_SLACK_S) * 1000;
	enum sx_rc rc;

	memset(&r, 0, sizeof(r));
	rc = attempt_send(s, d, &r);
	if (rc) {
		/* Nothing was sent; the lease runs out and the delivery comes back. */
		log_warn("webhook", "msg=\"could not prepare the delivery\" delivery=%s task=%s error=%s",
			 d->id, d->task_id, sx_log_quote(sx_strerror(rc)));
		return;
	}
	x.s = s;
	x.d = d;
	x.r = &r;
	x.lost_lease = false;
	while ((rc = sx_db_tx(s->db, record_tx_fn, &x)) != SX_OK && sx_mono_ms() < deadline) {
		log_warn("webhook", "msg=\"could not record the attempt, will retry\" delivery=%s error=%s",
			 d->id, sx_log_quote(sx_strerror(rc)));
		sx_sleep_ms(1000, NULL);
	}
	if (rc)
		log_error("webhook", "msg=\"attempt not recorded\" delivery=%s error=%s",
			  d->id, sx_log_quote(sx_strerror(rc)));
	if (x.lost_lease)
		log_warn("webhook", "msg=\"lease lost during the attempt\" delivery=%s", d->id);
	log_info("webhook", "msg=attempt delivery=%s task=%s attempt=%lld status=%ld outcome=%s "
		 "duration_ms=%lld next_in_ms=%lld error=%s", d->id, d->task_id, d->attempt,
		 r.status_code, names[r.outcome], r.duration_ms, r.delay_ms,
		 sx_log_quote(r.error));
}

int webhook_sender_main(const struct sx_conf *c)
{
	struct sender s;
	struct delivery d;
	enum sx_rc rc;

	memset(&s, 0, sizeof(s));
	memset(&d, 0, sizeof(d));
	s.conf = c;
	http_global_init();
	rc = sx_db_open(&s.db, c);
	if (rc)
		log_warn("webhook", "msg=\"sender starting without the database\" error=%s",
			 sx_log_quote(sx_strerror(rc)));
	s.http = http_client_new();
	queue_owner_name(s.owner, sizeof(s.owner));
	log_info("webhook", "msg=\"sender ready\" owner=%s poll_ms=%lld", sx_log_quote(s.owner),
		 c->webhook_poll_ms);
	while (!sx_stopping) {
		struct claim_tx tx = { s.owner, c->webhook_timeout + WEBHOOK_LEASE_SLACK_S, &d };

		rc = sx_db_tx(s.db, claim_tx_fn, &tx);
		if (rc == SX_OK) {
			deliver(&s, &d);
			delivery_release(&d);
			continue;
		}
		if (rc != SX_EDONE)
			log_warn("webhook", "msg=\"claim failed\" error=%s", sx_log_quote(sx_strerror(rc)));
		sx_sleep_ms(rc == SX_EDONE ? c->webhook_poll_ms : 1000, &sx_stopping);
	}
	delivery_release(&d);
	http_client_free(s.http);
	sx_db_free(s.db);
	log_info("webhook", "msg=\"sender stopped\"");
	return 0;
}
