/*
 * One webhook body for both kinds of receiver (core/webhook_msg.h): what the
 * agent's sender posts to the webhook receiver test double, and what both
 * retry_webhook routes send, is the task object without `request` merged
 * with the run object without `run_request`, whichever surface created the
 * task, and it verifies with the organization's signing secret.  Tasks are
 * ended by cancel, so no browser or model is needed.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "json.h"
#include "sign.h"
#include "wait.h"

#define OVERRIDES "outbound_allow = 127.0.0.0/8\nwebhook_poll_ms = 100\nwebhook_timeout = 3\n"

static struct test_org org;
static struct test_double receiver;
static char *secret;

/* Marks other tests' pending deliveries failed, so the agent here sends only ours. */
static void clear_outbox(void)
{
	db_exec2("UPDATE webhook_deliveries SET status = 'failed', last_error = 'cleared by a test' "
		 "WHERE status = 'pending' AND org_id <> ?", org.id, NULL);
}

static void setup(void)
{
	agent_suite_init(&org, "webhook_body");
	clear_outbox();
	secret = admin("org secret show --org %s", org.id);
	cr_assert(secret && strlen(secret) >= 32, "org secret show printed no secret");
	webhook_receiver_start(&receiver, 0);
}

static void teardown(void)
{
	agent_suite_fini();
	test_double_stop(&receiver);
	free(secret);
	secret = NULL;
}

TestSuite(webhook_body, .init = setup, .fini = teardown, .timeout = 120);

/*
 * Creates a task through the run API (run) or the task API, hooked to the
 * receiver, and cancels it through the same surface.
 */
static char *canceled(bool run)
{
	char *site = site_url("product/index.html"), *id;
	char *body = run ?
		xasprintf("{\"prompt\":\"Look\",\"url\":\"%s\",\"webhook_url\":\"%s/hook\"}", site, receiver.url) :
		xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Look\",\"webhook_callback_url\":\"%s/hook\"}",
			  site, receiver.url);
	struct resp *r = api_post_json(run ? "/v1/run/tasks" : "/api/v1/tasks", org.key, body);
	char path[128];

	cr_assert_eq(r->status, 200, "create: %ld %s", r->status, r->body);
	id = xstrdup(jstr(r->json, run ? "run_id" : "task_id"));
	snprintf(path, sizeof(path), run ? "/v1/runs/%s/cancel" : "/api/v1/tasks/%s/cancel", id);
	resp_free(r);
	r = api_post_json(path, org.key, "");
	cr_assert_eq(r->status, 200, "cancel %s: %ld %s", path, r->status, r->body);
	resp_free(r);
	free(body);
	free(site);
	return id;
}

/* Waits until the receiver holds n requests; returns them (caller puts). */
static json_object *received(size_t n)
{
	struct double_count c = { &receiver, n };

	cr_assert(wait_until(test_double_count_reached, &c, 30000), "the receiver got %zu of %zu requests",
		  test_double_count(&receiver), n);
	return test_double_requests(&receiver);
}

static const char *hdr(json_object *req, const char *name)
{
	return jstr(sx_json_member(req, "headers"), name);
}

/* The body of a received request, after checking its signature; a new reference. */
static json_object *verified_body(json_object *req)
{
	const char *raw = jstr(req, "body"), *ts = hdr(req, "x-skyvern-timestamp");
	const char *sig = hdr(req, "x-skyvern-signature");
	json_object *b;

	cr_assert(raw && ts && sig, "a request without body or signature headers");
	cr_assert(sign_verify(SIGN_SLACK, secret, atoll(ts), raw, strlen(raw), sig),
		  "the body does not verify with the organization's secret");
	b = json_tokener_parse(raw);
	cr_assert_not_null(b, "the body is not JSON: %s", raw);
	return b;
}

/* GET task without request, updated with GET run without run_request: what the body must be. */
static json_object *expected_body(const char *id)
{
	json_object *task = api_get_json(org.key, "/api/v1/tasks/%s", id);
	json_object *run = api_get_json(org.key, "/v1/runs/%s", id);

	json_object_object_del(task, "request");
	json_object_object_foreach(run, key, val) {
		if (strcmp(key, "run_request") != 0)
			json_object_object_add(task, key, json_object_get(val));
	}
	json_object_put(run);
	return task;
}

/* Every member both surfaces' receivers read is there; neither request is. */
static void assert_both_shapes(json_object *b, const char *id)
{
	static const char *const keys[] = {
		"task_id", "status", "created_at", "modified_at", "queued_at", "started_at",
		"finished_at", "extracted_information", "failure_reason", "screenshot_url",
		"recording_url", "action_screenshot_urls", "step_count", "max_steps_per_run", "errors",
		"webhook_failure_reason", "run_id", "run_type", "output", "downloaded_files",
		"recording_archived", "screenshot_urls", "app_url", "browser_session_id",
		"browser_profile_id", "max_screenshot_scrolls", "script_run",
	};

	for (size_t i = 0; i < SX_ARRAY_LEN(keys); i++)
		cr_assert(json_object_object_get_ex(b, keys[i], NULL), "%s missing from %s", keys[i],
			  json_object_to_json_string(b));
	cr_assert_not(json_object_object_get_ex(b, "request", NULL));
	cr_assert_not(json_object_object_get_ex(b, "run_request", NULL));
	cr_assert_str_eq(jstr(b, "task_id"), id);
	cr_assert_str_eq(jstr(b, "run_id"), id);
	cr_assert_str_eq(jstr(b, "run_type"), "task_v1");
	cr_assert_str_eq(jstr(b, "status"), "canceled");
	cr_assert(strstr(jstr(b, "app_url"), id), "app_url %s", jstr(b, "app_url"));
}

/* The agent's delivery: one body for a task created either way, equal to the two GETs merged. */
Test(webhook_body, delivered_body_has_both_surfaces_fields)
{
	char *ids[2] = { canceled(true), canceled(false) };
	bool seen[2] = { false, false };
	json_object *reqs, *b, *want;

	agent_start(OVERRIDES);
	reqs = received(2);
	for (size_t i = 0; i < 2; i++) {
		json_object *req = json_object_array_get_idx(reqs, i);
		size_t which;

		b = verified_body(req);
		which = strcmp(jstr(b, "task_id"), ids[0]) == 0 ? 0 : 1;
		seen[which] = true;
		assert_both_shapes(b, ids[which]);
		want = expected_body(ids[which]);
		cr_assert(json_object_equal(b, want), "body %s\n!= GETs merged %s", jstr(req, "body"),
			  json_object_to_json_string(want));
		/* The task object's members come first, as Skyvern's merge leaves them. */
		cr_assert_eq(strncmp(jstr(req, "body"), "{\"task_id\":", 11), 0, "%s", jstr(req, "body"));
		json_object_put(want);
		json_object_put(b);
	}
	cr_assert(seen[0] && seen[1], "one body per task, one task per surface");
	json_object_put(reqs);
	free(ids[0]);
	free(ids[1]);
}

/* Member names of o in order, space-separated (caller frees). */
static char *names_of(json_object *o)
{
	size_t n = 0, len = 0;
	char *s;

	json_object_object_foreach(o, k1, v1) {
		(void)v1;
		len += strlen(k1) + 1;
	}
	s = xmalloc(len + 1);
	json_object_object_foreach(o, k2, v2) {
		(void)v2;
		n += (size_t)snprintf(s + n, len + 1 - n, "%s ", k2);
	}
	s[n] = '\0';
	return s;
}

/*
 * The agent's delivery, the v1 retry_webhook (queued, sent by the agent) and
 * the run API's retry_webhook (sent at once, its report's payload signed as
 * documented) carry one shape.
 */
Test(webhook_body, retry_webhook_on_both_surfaces_sends_the_same_shape)
{
	char *id = canceled(true), *path, *first, *names;
	json_object *reqs, *b, *report, *hdrs;
	const char *payload;
	struct resp *r;

	agent_start(OVERRIDES);
	json_object_put(received(1));
	path = xasprintf("/api/v1/tasks/%s/retry_webhook", id);
	r = api_post_json(path, org.key, "");
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	free(path);
	json_object_put(received(2));
	path = xasprintf("/v1/runs/%s/retry_webhook", id);
	r = api_post_json(path, org.key, "");
	cr_assert_eq(r->status, 200, "%s", r->body);
	report = r->json;
	cr_assert_eq(sx_json_int(report, "status_code", 0), 200, "%s", r->body);
	payload = jstr(report, "payload");
	hdrs = sx_json_member(report, "headers");
	cr_assert(sign_verify(SIGN_SLACK, secret, atoll(jstr(hdrs, "x-skyvern-timestamp")), payload,
			      strlen(payload), jstr(hdrs, "x-skyvern-signature")),
		  "the report's payload does not verify");
	reqs = received(3);
	cr_assert_str_eq(jstr(json_object_array_get_idx(reqs, 2), "body"), payload);
	first = NULL;
	for (size_t i = 0; i < 3; i++) {
		b = verified_body(json_object_array_get_idx(reqs, i));
		assert_both_shapes(b, id);
		names = names_of(b);
		if (!first)
			first = names;
		else
			cr_assert_str_eq(names, first, "request %zu has another shape", i);
		if (names != first)
			free(names);
		json_object_put(b);
	}
	free(first);
	json_object_put(reqs);
	resp_free(r);
	free(path);
	free(id);
}
