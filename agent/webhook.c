/*
 * The webhook sender (see webhook.h).
 */
#include "sx.h"
#include "webhook.h"
#include "crypto.h"
#include "conf.h"
#include "db.h"
#include "delivery_db.h"
#include "http.h"
#include "id.h"
#include "log.h"
#include "supervise.h"
#include "timeutil.h"
#include "webhook_msg.h"

/* The lease outlasts the attempt's timeout by this much (the DB writes). */
#define WEBHOOK_LEASE_SLACK_S 15
#define WEBHOOK_REASON_MAX 512

enum outcome { OUT_DELIVERED, OUT_RETRY, OUT_FAILED };

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
	struct webhook_msg m;
	struct http_response res;
	int64_t t0;
	enum sx_rc rc, hrc;

	memset(&res, 0, sizeof(res));
	rc = webhook_msg_build(s->db, c, d->org_id, d->task_id, &m);
	if (rc == SX_ENOTFOUND) {
		r->outcome = OUT_FAILED;
		snprintf(r->error, sizeof(r->error), "task not found");
		snprintf(r->reason, sizeof(r->reason), "Webhook delivery failed: the task no longer exists");
		rc = SX_OK;
		goto out;
	}
	if (rc)
		goto out;
	t0 = sx_mono_ms();
	hrc = webhook_msg_post(s->http, c, &m, d->url, d->id, &res);
	r->duration_ms = sx_mono_ms() - t0;
	classify(s, d, hrc, &res, r);
out:
	http_response_release(&res);
	webhook_msg_release(&m);
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
	static const enum delivery_outcome outcomes[] = { DELIVERY_DELIVERED, DELIVERY_RETRY,
							  DELIVERY_FAILED };
	struct result r;
	struct delivery_attempt a;
	bool lost_lease = false;
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
	a.outcome = outcomes[r.outcome];
	a.status_code = r.status_code;
	a.error = r.error[0] ? r.error : NULL;
	a.duration_ms = r.duration_ms;
	a.delay_ms = r.delay_ms;
	a.reason = r.reason[0] ? r.reason : NULL;
	while ((rc = delivery_db_record(s->db, s->owner, d, &a, s->conf->webhook_retry_window,
					&lost_lease)) != SX_OK && sx_mono_ms() < deadline) {
		log_warn("webhook", "msg=\"could not record the attempt, will retry\" delivery=%s error=%s",
			 d->id, sx_log_quote(sx_strerror(rc)));
		sx_sleep_ms(1000, NULL);
	}
	if (rc)
		log_error("webhook", "msg=\"attempt not recorded\" delivery=%s error=%s",
			  d->id, sx_log_quote(sx_strerror(rc)));
	if (lost_lease)
		log_warn("webhook", "msg=\"lease lost during the attempt\" delivery=%s", d->id);
	log_info("webhook", "msg=attempt delivery=%s task=%s attempt=%lld status=%ld outcome=%s "
		 "duration_ms=%lld next_in_ms=%lld error=%s", d->id, d->task_id, d->attempt,
		 r.status_code, names[r.outcome], r.duration_ms, r.delay_ms,
		 sx_log_quote(r.error));
}

/* The sender's loop; drain: return once no delivery is due (webhook.h). */
static int sender_run(const struct sx_conf *c, bool drain)
{
	struct sender s;
	struct delivery d;
	enum sx_rc rc;
	int status = 0;

	memset(&s, 0, sizeof(s));
	memset(&d, 0, sizeof(d));
	s.conf = c;
	http_global_init();
	rc = sx_db_open(&s.db, c);
	if (rc)
		log_warn("webhook", "msg=\"sender starting without the database\" error=%s",
			 sx_log_quote(sx_strerror(rc)));
	s.http = http_client_new();
	sx_worker_name(s.owner, sizeof(s.owner));
	log_info("webhook", "msg=\"sender ready\" owner=%s poll_ms=%lld", sx_log_quote(s.owner),
		 c->webhook_poll_ms);
	while (!sx_stopping) {
		rc = delivery_db_claim(s.db, s.owner, c->webhook_timeout + WEBHOOK_LEASE_SLACK_S, &d);
		if (rc == SX_OK) {
			deliver(&s, &d);
			delivery_release(&d);
			continue;
		}
		if (rc != SX_EDONE)
			log_warn("webhook", "msg=\"claim failed\" error=%s", sx_log_quote(sx_strerror(rc)));
		if (drain) {
			status = rc == SX_EDONE ? 0 : 1;
			break;
		}
		sx_sleep_ms(rc == SX_EDONE ? c->webhook_poll_ms : 1000, &sx_stopping);
	}
	delivery_release(&d);
	http_client_free(s.http);
	sx_db_free(s.db);
	log_info("webhook", "msg=\"sender stopped\"");
	return status;
}

int webhook_sender_main(const struct sx_conf *c)
{
	return sender_run(c, false);
}

int webhook_sender_drain(const struct sx_conf *c)
{
	return sender_run(c, true);
}
