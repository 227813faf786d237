/*
 * Handlers of the run API (docs/run-api.md), Skyvern's current client
 * surface under /v1: a run of type task_v1 is a task, so every handler reads
 * and writes the task through task_db, as the /api/v1 handlers do, and shows
 * it through core/run.h.
 */
#include <limits.h>
#include "sx.h"
#include "router.h"
#include "artifact_db.h"
#include "conf.h"
#include "http.h"
#include "log.h"
#include "run.h"
#include "task.h"
#include "task_db.h"
#include "timeutil.h"
#include "webhook_msg.h"

/* The receiver's answer shown in a retry_webhook report is cut here. */
#define RUN_REPORT_BODY_MAX 2048

static bool run_id_ok(const char *id)
{
	return sx_id_valid(id, "tsk_");
}

/* The 404 texts of the run routes, which Skyvern words differently per route. */
enum run_missing { RUN_MISSING_TASK_RUN, RUN_MISSING_RUN, RUN_MISSING_RUN_ID };

/* Answers 404 in the route's words, the id echoed only when it is well formed. */
static void reply_run_missing(struct http_req *req, enum run_missing how, const char *run_id)
{
	const char *id = run_id_ok(run_id) ? run_id : NULL;
	char msg[128];

	if (how == RUN_MISSING_TASK_RUN)
		snprintf(msg, sizeof(msg), "Task run not found%s%s", id ? " " : "", id ? id : "");
	else if (how == RUN_MISSING_RUN)
		snprintf(msg, sizeof(msg), "Run not found%s%s", id ? " " : "", id ? id : "");
	else
		snprintf(msg, sizeof(msg), "Run%s%s not found", id ? " " : "", id ? id : "");
	http_reply_detail(req, 404, msg);
}

/* Answers the run object of run_id (200), or 404 in the words how names. */
static void reply_run(struct http_req *req, const char *run_id, enum run_missing how)
{
	struct task t;
	enum sx_rc rc = SX_ENOTFOUND;

	memset(&t, 0, sizeof(t));
	if (run_id_ok(run_id))
		rc = task_db_get(req->db, req->org_id, run_id, req->conf, &t);
	if (rc == SX_ENOTFOUND)
		reply_run_missing(req, how, run_id);
	else if (rc)
		http_reply_db_error(req, rc);
	else
		http_reply_json(req, 200, run_to_json(&t, req->conf->public_base_url), NULL);
	task_release(&t);
}

void runs_create(struct http_req *req)
{
	char id[SX_ID_MAX];

	if (tasks_create_stored(req, run_request_parse, id))
		reply_run(req, id, RUN_MISSING_TASK_RUN);
}

void runs_get(struct http_req *req, const char *run_id)
{
	reply_run(req, run_id, RUN_MISSING_TASK_RUN);
}

/* 200 with the body null, as Skyvern answers; a final run is 400. */
void runs_cancel(struct http_req *req, const char *run_id)
{
	enum task_status current = TASK_CREATED;
	char msg[160];
	enum sx_rc rc = SX_ENOTFOUND;

	if (run_id_ok(run_id))
		rc = task_db_cancel(req->db, req->org_id, run_id, &current);
	if (rc == SX_ENOTFOUND) {
		reply_run_missing(req, RUN_MISSING_RUN, run_id);
	} else if (rc == SX_ECONFLICT) {
		snprintf(msg, sizeof(msg), "Invalid task status transition from %s to canceled for %s",
			 task_status_name(current), run_id);
		http_reply_detail(req, 400, msg);
	} else if (rc) {
		http_reply_db_error(req, rc);
	} else {
		log_info("api", "msg=\"run canceled\" org=%s task=%s", req->org_id, run_id);
		http_reply_json(req, 200, NULL, NULL);
	}
}

/* The run's artifacts, filtered by the repeatable artifact_type; an unknown run has none. */
void runs_artifacts(struct http_req *req, const char *run_id)
{
	enum { MAX_TYPES = 16 };
	char vals[MAX_TYPES][64];
	const char *types[MAX_TYPES];
	const char *p = req->query;
	struct artifact_filter f = { types, 0, NULL };
	json_object *arr = NULL;
	bool trunc = false;
	enum sx_rc rc = SX_ENOTFOUND;

	while (f.ntypes < MAX_TYPES &&
	       (p = http_query_next(p, "artifact_type", vals[f.ntypes], sizeof(vals[0]), &trunc))) {
		if (trunc) {
			http_reply_422(req, "query", "artifact_type", "Input should be an artifact type",
				       "enum");
			goto out;
		}
		types[f.ntypes] = vals[f.ntypes];
		f.ntypes++;
	}
	if (run_id_ok(run_id))
		rc = artifact_db_list(req->db, req->conf, req->org_id, run_id, &f, &arr);
	if (rc == SX_ENOTFOUND)
		http_reply_json(req, 200, json_object_new_array(), NULL);
	else if (rc)
		http_reply_db_error(req, rc);
	else
		http_reply_json(req, 200, arr, NULL);
out:
	return;
}

/*
 * The optional body of retry_webhook, {"webhook_url": …}: writes the URL
 * given (or NULL) to *url, a reference into *root (the caller drops it).
 * Answers 413/422 itself and returns false.
 */
static bool retry_body(struct http_req *req, json_object **root, const char **url)
{
	struct sx_invalid why = { 0 };
	json_object *v;
	bool ok = false;

	*root = NULL;
	*url = NULL;
	if (!http_read_body_or_reply(req))
		goto out;
	if (req->body.len == 0) {
		ok = true;
		goto out;
	}
	if (task_body_parse(sx_buf_str(&req->body), req->body.len, SX_JSON_MAX_DEPTH, root, &why)) {
		http_reply_invalid(req, &why);
		goto out;
	}
	v = sx_json_member(*root, "webhook_url");
	if (v && !json_object_is_type(v, json_type_string)) {
		http_reply_422(req, "body", "webhook_url", "Input should be a valid string", "string_type");
		goto out;
	}
	*url = v ? json_object_get_string(v) : NULL;
	ok = true;
out:
	sx_invalid_release(&why);
	return ok;
}

/* Posts m to url once, from this process, and fills the report's outcome members. */
static void retry_send(const struct sx_conf *c, const struct webhook_msg *m, const char *url,
		       json_object *report)
{
	struct http_client *client = http_client_new();
	struct http_response res;
	int64_t t0 = sx_mono_ms();
	enum sx_rc rc = webhook_msg_post(client, c, m, url, NULL, &res);
	size_t n = res.body.len;

	json_object_object_add(report, "status_code",
			       res.status ? json_object_new_int64(res.status) : NULL);
	json_object_object_add(report, "latency_ms", json_object_new_int64(sx_mono_ms() - t0));
	/* The first 2 KB, cut on a UTF-8 character boundary. */
	if (n > RUN_REPORT_BODY_MAX) {
		n = RUN_REPORT_BODY_MAX;
		while (n > 0 && ((unsigned char)sx_buf_str(&res.body)[n] & 0xC0) == 0x80)
			n--;
	}
	json_object_object_add(report, "response_body", res.status ?
			       json_object_new_string_len(sx_buf_str(&res.body), (int)n) : NULL);
	json_object_object_add(report, "error", rc == SX_OK ? NULL : json_object_new_string(
				       res.error[0] ? res.error : sx_strerror(rc)));
	http_response_release(&res);
	http_client_free(client);
}

/*
 * POST /v1/runs/{id}/retry_webhook: delivers the run's webhook now, from the
 * API, and reports what happened.  Synchronous and outside the outbox: the
 * delivery is not queued, recorded as an attempt, nor retried, and the
 * task's webhook_failure_reason is left as it is.
 */
void runs_retry_webhook(struct http_req *req, const char *run_id)
{
	struct task t;
	struct webhook_msg m;
	json_object *body = NULL, *report, *headers;
	const char *target, *def;
	enum sx_rc rc = SX_ENOTFOUND;

	memset(&t, 0, sizeof(t));
	memset(&m, 0, sizeof(m));
	if (run_id_ok(run_id))
		rc = task_db_get(req->db, req->org_id, run_id, NULL, &t);
	if (rc == SX_ENOTFOUND) {
		reply_run_missing(req, RUN_MISSING_RUN_ID, run_id);
		goto out;
	}
	if (rc) {
		http_reply_db_error(req, rc);
		goto out;
	}
	if (!retry_body(req, &body, &target))
		goto out;
	def = sx_json_string(t.request, "webhook_callback_url");
	if (!target)
		target = def;
	if (!target) {
		http_reply_detail(req, 400, "No webhook URL configured for the run.");
		goto out;
	}
	rc = webhook_msg_build(req->db, req->conf, req->org_id, run_id, &m);
	if (rc) {
		http_reply_db_error(req, rc == SX_ENOTFOUND ? SX_EDB : rc);
		goto out;
	}
	report = json_object_new_object();
	json_object_object_add(report, "run_id", json_object_new_string(run_id));
	json_object_object_add(report, "run_type", json_object_new_string("task_v1"));
	json_object_object_add(report, "default_webhook_url", sx_json_string_or_null(def));
	json_object_object_add(report, "target_webhook_url", json_object_new_string(target));
	json_object_object_add(report, "payload", json_object_new_string_len(m.body, (int)m.len));
	headers = json_object_new_object();
	json_object_object_add(headers, "x-skyvern-timestamp", json_object_new_string(m.timestamp));
	json_object_object_add(headers, "x-skyvern-signature", json_object_new_string(m.signature));
	json_object_object_add(headers, "Content-Type", json_object_new_string("application/json"));
	json_object_object_add(report, "headers", headers);
	retry_send(req->conf, &m, target, report);
	log_info("api", "msg=\"run webhook sent\" org=%s task=%s status=%lld", req->org_id, run_id,
		 sx_json_int(report, "status_code", 0));
	http_reply_json(req, 200, report, NULL);
out:
	webhook_msg_release(&m);
	json_object_put(body);
	task_release(&t);
}
