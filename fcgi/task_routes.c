/*
 * Handlers of the task routes (docs/api-contract.md).
 */
#include <limits.h>
#include "sx.h"
#include "router.h"
#include "conf.h"
#include "db.h"
#include "delivery_db.h"
#include "log.h"
#include "task.h"
#include "task_db.h"

/* A task id the API answers about: tsk_ + 26 base32 characters. */
static bool task_id_ok(const char *id)
{
	return sx_id_valid(id, "tsk_");
}

static void reply_not_found(struct http_req *req, const char *task_id)
{
	char msg[128];

	/* The id is echoed only when it is well formed, so no junk is reflected. */
	if (task_id_ok(task_id))
		snprintf(msg, sizeof(msg), "Task %s not found", task_id);
	else
		snprintf(msg, sizeof(msg), "Task not found");
	http_reply_detail(req, 404, msg);
}

/*
 * Parses an integer header or query value in [min, max].  Writes the 422
 * answer and returns false when it is not one.
 */
static bool int_field(struct http_req *req, const char *where, const char *field,
		      const char *s, long long min, long long max, long long *out)
{
	char msg[96];
	long long v;

	if (!sx_parse_ll(s, LLONG_MIN, LLONG_MAX, &v)) {
		http_reply_422(req, where, field,
			  "Input should be a valid integer, unable to parse string as an integer",
			  "int_parsing");
		return false;
	}
	if (v < min) {
		snprintf(msg, sizeof(msg), "Input should be greater than or equal to %lld", min);
		http_reply_422(req, where, field, msg, "greater_than_equal");
		return false;
	}
	if (v > max) {
		snprintf(msg, sizeof(msg), "Input should be less than or equal to %lld", max);
		http_reply_422(req, where, field, msg, "less_than_equal");
		return false;
	}
	*out = v;
	return true;
}

/* task_request_parse() in the shape of a create_parse_fn: a v1 task has no run fields. */
static enum sx_rc task_parse(const char *body, size_t len, int max_depth,
			     const struct task_limits *lim, json_object **request,
			     json_object **run_extra, struct sx_invalid *why)
{
	*run_extra = NULL;
	return task_request_parse(body, len, max_depth, lim, request, why);
}

bool tasks_create_stored(struct http_req *req, create_parse_fn parse, char id[SX_ID_MAX])
{
	const struct sx_conf *c = req->conf;
	const char *override = http_param(req, "HTTP_X_MAX_STEPS_OVERRIDE");
	const char *idem = http_param(req, "HTTP_IDEMPOTENCY_KEY");
	json_object *request = NULL, *run_extra = NULL, *ms;
	struct sx_invalid why = { 0 };
	struct task_limits lim;
	long long max_steps = c->max_steps_default;
	bool existing = false, ok = false;
	enum sx_rc rc;

	if (override && !int_field(req, "header", "x-max-steps-override", override,
				   1, c->max_steps_limit, &max_steps))
		goto out;
	if (idem && (!*idem || strlen(idem) > TASK_IDEMPOTENCY_KEY_MAX)) {
		http_reply_422(req, "header", "idempotency-key",
			  "Idempotency-Key must be 1 to 255 characters", "string_too_long");
		goto out;
	}
	if (!http_read_body_or_reply(req))
		goto out;
	task_limits_init(&lim, c);
	rc = parse(sx_buf_str(&req->body), req->body.len, SX_JSON_MAX_DEPTH, &lim, &request,
		   &run_extra, &why);
	if (rc == SX_OK)
		rc = task_request_check_address(request, c->outbound_allow, &why);
	if (rc) {
		http_reply_invalid(req, &why);
		goto out;
	}
	/* The header wins over the body's max_steps, which wins over the default. */
	if (!override && json_object_object_get_ex(request, "max_steps", &ms) &&
	    json_object_is_type(ms, json_type_int)) {
		max_steps = json_object_get_int64(ms);
		if (max_steps > c->max_steps_limit)
			max_steps = c->max_steps_limit;
	}
	if (req->key_unchecked) {
		const char *key = http_api_key(req);

		rc = task_db_create_by_key(req->db, key, strlen(key), request, run_extra, max_steps,
					   idem, c->idempotency_ttl, id, req->org_id, &existing);
		if (rc == SX_OK || rc == SX_EAUTH)
			req->key_unchecked = false;
	} else {
		rc = task_db_create(req->db, req->org_id, request, run_extra, max_steps,
				    idem, c->idempotency_ttl, id, &existing);
	}
	if (rc == SX_EAUTH) {
		http_reply_detail(req, 403, "Invalid credentials");
		goto out;
	}
	if (rc) {
		log_warn("api", "msg=\"create failed\" org=%s error=%s", req->org_id,
			 sx_log_quote(sx_strerror(rc)));
		http_reply_db_error(req, rc);
		goto out;
	}
	/* Per request, so debug: nginx's access log already has every create. */
	log_debug("api", "msg=\"task created\" org=%s task=%s max_steps=%lld replay=%d run=%d",
		  req->org_id, id, max_steps, existing, run_extra != NULL);
	ok = true;
out:
	json_object_put(request);
	json_object_put(run_extra);
	sx_invalid_release(&why);
	return ok;
}

/*
 * POST /api/v1/tasks, the route clients create with.  The router leaves the
 * key to it (req->org_id empty): the task's INSERT checks the key itself
 * (task_db_create_by_key), and an answer other than success confirms the
 * key first (req->key_unchecked), so a bad key is 403 as on every other
 * route.  A caller that authenticated already fills req->org_id first.
 */
void tasks_create(struct http_req *req)
{
	char id[SX_ID_MAX];
	json_object *resp;

	if (!req->org_id[0]) {
		if (!http_api_key(req)) {
			http_reply_detail(req, 403, "Invalid credentials");
			return;
		}
		req->key_unchecked = true;
	}
	if (tasks_create_stored(req, task_parse, id)) {
		resp = json_object_new_object();
		json_object_object_add(resp, "task_id", json_object_new_string(id));
		http_reply_json(req, 200, resp, NULL);
	}
}

/*
 * Reads the list's query (page, page_size, order, task_status repeated,
 * after) into q and st (q->statuses points at st).  Writes the 422 answer
 * and returns false when a value is not acceptable.
 */
static bool list_query(struct http_req *req, struct task_list_query *q,
		       enum task_status st[TASK_STATUS_COUNT], char after[SX_ID_MAX])
{
	char val[64];
	const char *p = req->query;
	enum task_status s;
	bool trunc, seen, ok = false;

	memset(q, 0, sizeof(*q));
	q->page = 1;
	q->page_size = 10;
	q->statuses = st;
	q->max_bytes = req->conf->list_max_bytes;
	if (http_query_next(req->query, "page", val, sizeof(val), &trunc) &&
	    !int_field(req, "query", "page", val, 1, 1000000000LL, &q->page))
		goto out;
	if (http_query_next(req->query, "page_size", val, sizeof(val), &trunc) &&
	    !int_field(req, "query", "page_size", val, 1, 100, &q->page_size))
		goto out;
	if (http_query_next(req->query, "order", val, sizeof(val), &trunc)) {
		q->ascending = strcmp(val, "asc") == 0;
		if (!q->ascending && strcmp(val, "desc") != 0) {
			http_reply_422(req, "query", "order", "Input should be 'asc' or 'desc'", "enum");
			goto out;
		}
	}
	if (http_query_next(req->query, "after", val, sizeof(val), &trunc)) {
		if (trunc || !task_id_ok(val)) {
			http_reply_422(req, "query", "after", "Input should be a task id", "value_error");
			goto out;
		}
		snprintf(after, SX_ID_MAX, "%.*s", SX_ID_MAX - 1, val);
		q->after = after;
	}
	while ((p = http_query_next(p, "task_status", val, sizeof(val), &trunc)) != NULL) {
		if (!task_status_parse(val, &s)) {
			http_reply_422(req, "query", "task_status",
				  "Input should be 'created', 'queued', 'running', 'completed', "
				  "'terminated', 'failed', 'canceled' or 'timed_out'", "enum");
			goto out;
		}
		seen = false;
		for (size_t i = 0; i < q->nstatuses; i++)
			seen = seen || st[i] == s;
		if (!seen)
			st[q->nstatuses++] = s;
	}
	ok = true;
out:
	return ok;
}

/*
 * The headers of a page the byte budget cut short: X-Sextant-Truncated, and
 * a Link to the rest (the same filters, after the page's last task).  Built
 * from the parsed query, so nothing of the client's raw text is echoed.
 */
static void list_next_headers(const struct task_list_query *q, const char *last_id,
			      char *out, size_t outlen)
{
	size_t n;

	n = (size_t)snprintf(out, outlen, "X-Sextant-Truncated: true\r\n"
			     "Link: </api/v1/tasks?page_size=%lld%s", q->page_size,
			     q->ascending ? "&order=asc" : "");
	for (size_t i = 0; i < q->nstatuses && n < outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, "&task_status=%s",
				      task_status_name(q->statuses[i]));
	if (n < outlen)
		snprintf(out + n, outlen - n, "&after=%s>; rel=\"next\"\r\n", last_id);
}

/*
 * GET /api/v1/tasks: a plain JSON array, as Skyvern's clients expect.  A
 * page is also bounded in bytes (list_max_bytes): one that stopped early
 * says so in its headers (list_next_headers).
 */
void tasks_list(struct http_req *req)
{
	enum task_status statuses[TASK_STATUS_COUNT];
	struct task_list_query q;
	struct task_list_page page;
	char after[SX_ID_MAX], headers[384];
	enum sx_rc rc;

	if (!list_query(req, &q, statuses, after))
		goto out;
	rc = task_db_list(req->db, req->org_id, &q, req->conf, &page);
	if (rc == SX_ENOTFOUND) {
		http_reply_422(req, "query", "after", "Input should be the id of one of your tasks",
			       "value_error");
	} else if (rc) {
		http_reply_db_error(req, rc);
	} else {
		headers[0] = '\0';
		if (page.truncated)
			list_next_headers(&q, page.last_id, headers, sizeof(headers));
		http_reply_json(req, 200, page.tasks, headers);
	}
out:
	return;
}

/*
 * GET /api/v1/tasks/{id}, the route clients poll.  The router leaves the key
 * to it: one query checks the key and reads the task; only when that finds
 * nothing does a second one tell a bad key (403) from a task that is not
 * this organization's (404).
 */
void tasks_get(struct http_req *req, const char *task_id)
{
	const char *key = http_api_key(req);
	struct task t;
	enum sx_rc rc = SX_ENOTFOUND;

	memset(&t, 0, sizeof(t));
	if (key && task_id_ok(task_id))
		rc = task_db_get_by_key(req->db, key, strlen(key), task_id, req->conf, &t);
	if (rc == SX_ENOTFOUND) {
		rc = http_authenticate(req);
		if (rc == SX_EAUTH)
			http_reply_detail(req, 403, "Invalid credentials");
		else if (rc)
			http_reply_db_error(req, rc);
		else
			reply_not_found(req, task_id);
	} else if (rc) {
		http_reply_db_error(req, rc);
	} else {
		http_reply_json(req, 200, task_to_json(&t, true), NULL);
	}
	task_release(&t);
}

/* Answers the task's steps, or with as_actions the actions they took (task_actions_json). */
static void steps_reply(struct http_req *req, const char *task_id, bool as_actions)
{
	json_object *steps = NULL;
	enum sx_rc rc;

	if (!task_id_ok(task_id)) {
		reply_not_found(req, task_id);
		return;
	}
	rc = task_db_steps(req->db, req->org_id, task_id, &steps);
	if (rc == SX_ENOTFOUND) {
		reply_not_found(req, task_id);
	} else if (rc) {
		http_reply_db_error(req, rc);
	} else if (as_actions) {
		http_reply_json(req, 200, task_actions_json(steps), NULL);
		json_object_put(steps);
	} else {
		http_reply_json(req, 200, steps, NULL);
	}
}

void tasks_steps(struct http_req *req, const char *task_id)
{
	steps_reply(req, task_id, false);
}

void tasks_actions(struct http_req *req, const char *task_id)
{
	steps_reply(req, task_id, true);
}

void tasks_cancel(struct http_req *req, const char *task_id)
{
	enum task_status current = TASK_CREATED;
	struct task t;
	char msg[160];
	enum sx_rc rc;

	if (!task_id_ok(task_id)) {
		reply_not_found(req, task_id);
		return;
	}
	rc = task_db_cancel(req->db, req->org_id, task_id, &current);
	if (rc == SX_ENOTFOUND) {
		reply_not_found(req, task_id);
		return;
	}
	if (rc == SX_ECONFLICT) {
		snprintf(msg, sizeof(msg), "Invalid task status transition from %s to canceled for %s",
			 task_status_name(current), task_id);
		http_reply_detail(req, 409, msg);
		return;
	}
	if (rc) {
		http_reply_db_error(req, rc);
		return;
	}
	log_info("api", "msg=\"task canceled\" org=%s task=%s", req->org_id, task_id);
	/* Answer with the task as it now stands, as Skyvern does. */
	rc = task_db_get(req->db, req->org_id, task_id, req->conf, &t);
	if (rc == SX_OK)
		http_reply_json(req, 200, task_to_json(&t, true), NULL);
	else
		http_reply_detail(req, 200, "Task canceled");
	task_release(&t);
}

/*
 * POST /api/v1/tasks/{id}/retry_webhook: queues one more delivery of a
 * finished task's webhook, with a new delivery id, whatever became of the
 * earlier ones.  The agent's sender picks it up at its next poll.  The
 * answer is the task object (Skyvern's clients parse it as one) with the
 * extra member delivery_id.
 */
void tasks_retry_webhook(struct http_req *req, const char *task_id)
{
	struct task t;
	json_object *url = NULL, *resp;
	char id[SX_ID_MAX], msg[160];
	enum sx_rc rc;

	memset(&t, 0, sizeof(t));
	if (!task_id_ok(task_id)) {
		reply_not_found(req, task_id);
		goto out;
	}
	rc = task_db_get(req->db, req->org_id, task_id, req->conf, &t);
	if (rc == SX_ENOTFOUND) {
		reply_not_found(req, task_id);
		goto out;
	}
	if (rc) {
		http_reply_db_error(req, rc);
		goto out;
	}
	if (!task_status_is_final(t.status)) {
		snprintf(msg, sizeof(msg), "Task %s is not finished", task_id);
		http_reply_detail(req, 409, msg);
		goto out;
	}
	if (!t.request || !json_object_object_get_ex(t.request, "webhook_callback_url", &url) ||
	    !json_object_is_type(url, json_type_string)) {
		snprintf(msg, sizeof(msg), "Task %s has no webhook_callback_url", task_id);
		http_reply_detail(req, 400, msg);
		goto out;
	}
	rc = delivery_db_queue_again(req->db, task_id, id);
	if (rc) {
		http_reply_db_error(req, rc == SX_ENOTFOUND ? SX_EDB : rc);
		goto out;
	}
	log_info("api", "msg=\"webhook requeued\" org=%s task=%s delivery=%s", req->org_id, task_id, id);
	/* The task object, as Skyvern's clients parse it, with the new delivery's id. */
	resp = task_to_json(&t, true);
	json_object_object_add(resp, "delivery_id", json_object_new_string(id));
	http_reply_json(req, 200, resp, NULL);
out:
	task_release(&t);
}
