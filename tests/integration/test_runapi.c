/*
 * The run API (docs/run-api.md) and the v1 routes Skyvern's older SDK calls,
 * through the real nginx, sextant-api and MariaDB: each route's status codes,
 * error texts and null-versus-absent members, one task read through both
 * surfaces in each direction, bad input that writes nothing, and
 * retry_webhook delivering at once to the webhook receiver test double.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "doubles.h"
#include "client.h"
#include "json.h"
#include "sign.h"

static struct test_org org;

static void setup(void)
{
	test_org_new(&org, "runapi");
}

TestSuite(runapi, .init = setup, .timeout = 60);

/* Every member of o named in keys is present (null or not). */
static void assert_members(json_object *o, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_assert(json_object_object_get_ex(o, keys[i], NULL), "%s missing", keys[i]);
}

static void assert_detail(struct resp *r, long status, const char *detail)
{
	cr_assert_eq(r->status, status, "status %ld, body %s", r->status, r->body);
	cr_assert_str_eq(jstr(r->json, "detail"), detail);
}

static char *create_run(const char *body)
{
	struct resp *r = api_post_json("/v1/run/tasks", org.key, body);
	char *id;

	cr_assert_eq(r->status, 200, "create: %ld %s", r->status, r->body);
	id = xstrdup(jstr(r->json, "run_id"));
	resp_free(r);
	return id;
}

static long long org_tasks(void)
{
	return db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", org.id);
}

Test(runapi, run_object_shape_and_read_as_task)
{
	static const char *const keys[] = {
		"run_id", "run_type", "status", "output", "downloaded_files", "recording_url",
		"recording_archived", "screenshot_urls", "failure_reason", "created_at", "modified_at",
		"queued_at", "started_at", "finished_at", "app_url", "browser_session_id",
		"browser_profile_id", "max_screenshot_scrolls", "script_run", "errors", "step_count",
		"run_request",
	};
	struct resp *r = api_post_json("/v1/run/tasks/", org.key,
		"{\"prompt\":\"Find the price\",\"url\":\"https://shop.example.com/\","
		"\"engine\":\"skyvern-2.0\",\"max_steps\":4,\"title\":\"t\","
		"\"data_extraction_schema\":{\"type\":\"object\"},\"webhook_url\":\"https://hooks.example.com/r\","
		"\"start_fresh_browser\":true,\"run_with\":\"agent\",\"some_unknown\":1}");
	json_object *rr;
	struct resp *t;
	char path[128];

	cr_assert_eq(r->status, 200, "%s", r->body);
	assert_members(r->json, keys, SX_ARRAY_LEN(keys));
	cr_assert_str_eq(jstr(r->json, "run_type"), "task_v1");
	cr_assert_str_eq(jstr(r->json, "status"), "queued");
	cr_assert_null(jget(r, "output"));
	cr_assert(strstr(jstr(r->json, "app_url"), jstr(r->json, "run_id")));
	rr = jget(r, "run_request");
	cr_assert_str_eq(jstr(rr, "prompt"), "Find the price");
	cr_assert_str_eq(jstr(rr, "engine"), "skyvern-2.0");
	cr_assert_str_eq(jstr(rr, "run_with"), "agent");
	cr_assert_str_eq(jstr(rr, "proxy_location"), "RESIDENTIAL");
	cr_assert(json_object_object_get_ex(rr, "browser_session_id", NULL));
	cr_assert(!json_object_object_get_ex(rr, "some_unknown", NULL));
	/* The same row read as a task. */
	snprintf(path, sizeof(path), "/api/v1/tasks/%s", jstr(r->json, "run_id"));
	t = api_get(path, org.key);
	cr_assert_eq(t->status, 200);
	cr_assert_str_eq(jstr(jget(t, "request"), "navigation_goal"), "Find the price");
	cr_assert_str_eq(jstr(jget(t, "request"), "webhook_callback_url"), "https://hooks.example.com/r");
	cr_assert(json_object_is_type(sx_json_member(jget(t, "request"), "extracted_information_schema"),
				      json_type_object));
	cr_assert_eq(json_object_get_int(jget(t, "max_steps_per_run")), 4);
	resp_free(t);
	resp_free(r);
}

Test(runapi, task_read_as_run)
{
	char *id = create_task(org.key, "https://shop.example.com/");
	char path[128];
	struct resp *r;

	snprintf(path, sizeof(path), "/v1/runs/%s/", id);
	r = api_get(path, org.key);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "run_id"), id);
	cr_assert_str_eq(jstr(jget(r, "run_request"), "url"), "https://shop.example.com/");
	cr_assert_str_eq(jstr(jget(r, "run_request"), "engine"), "skyvern-1.0");
	cr_assert(json_object_object_get_ex(jget(r, "run_request"), "prompt", NULL));
	resp_free(r);
	free(id);
}

Test(runapi, bad_input_writes_nothing)
{
	static const struct {
		const char *body;
		long status;
		const char *detail;      /* a 400's detail, or a 422's field */
	} cases[] = {
		{ "{\"url\":\"https://a.example.com/\"}", 422, "prompt" },
		{ "{\"prompt\":5,\"url\":\"https://a.example.com/\"}", 422, "prompt" },
		{ "{\"prompt\":\"p\",\"url\":\"https://a.example.com/\",\"max_steps\":\"x\"}", 422, "max_steps" },
		{ "{\"prompt\":\"p\",\"url\":\"https://a.example.com/\",\"engine\":\"warp\"}", 422, "engine" },
		{ "{\"prompt\":\"p\",\"url\":\"https://a.example.com/\",\"start_fresh_browser\":1}", 422,
		  "start_fresh_browser" },
		{ "[1]", 422, NULL },
		{ "{\"prompt\":\"p\",\"url\":\"https://a.example.com/\",\"run_with\":\"script\"}", 422, "run_with" },
		{ "{\"prompt\":\"p\",\"url\":\"https://a.example.com/\",\"engine\":\"openai-cua\"}", 400,
		  "engine openai-cua is not supported by this server: it runs the skyvern-1.0 task "
		  "engine (skyvern-2.0 is accepted and runs the same)" },
		{ "{\"prompt\":\"p\",\"url\":\"https://a.example.com/\",\"browser_session_id\":\"pbs_1\"}", 400,
		  "browser_session_id is not supported by this server: every run starts its own browser" },
		{ "{\"prompt\":\"p\",\"url\":\"https://a.example.com/\",\"proxy_location\":{\"country\":\"US\"}}",
		  400, NULL },
		{ "{\"prompt\":\"p\",\"url\":\"http://10.1.2.3/\"}", 400, NULL },
		{ "{\"prompt\":\"p\",\"url\":\"https://a.example.com/\",\"webhook_url\":\"ftp://x\"}", 400, NULL },
	};
	long long before = org_tasks();

	for (size_t i = 0; i < SX_ARRAY_LEN(cases); i++) {
		struct resp *r = api_post_json("/v1/run/tasks", org.key, cases[i].body);
		json_object *d = jget(r, "detail");

		cr_assert_eq(r->status, cases[i].status, "%s: %ld %s", cases[i].body, r->status, r->body);
		if (cases[i].status == 422) {
			cr_assert(json_object_is_type(d, json_type_array), "%s", r->body);
			if (cases[i].detail)
				cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(
					sx_json_member(json_object_array_get_idx(d, 0), "loc"), 1)),
					cases[i].detail);
		} else if (cases[i].detail) {
			cr_assert_str_eq(json_object_get_string(d), cases[i].detail);
		} else {
			cr_assert(json_object_is_type(d, json_type_string), "%s", r->body);
		}
		resp_free(r);
	}
	/* The webhook_url error names the field as the run API spells it. */
	{
		struct resp *r = api_post_json("/v1/run/tasks", org.key, cases[SX_ARRAY_LEN(cases) - 1].body);

		cr_assert(strstr(jstr(r->json, "detail"), "(webhook_url: "), "%s", r->body);
		resp_free(r);
	}
	cr_assert_eq(org_tasks(), before, "a refused run wrote a task");
}

Test(runapi, body_over_cap_is_413)
{
	size_t n = 2 * 1024 * 1024 - 4096;
	char *body = xmalloc(n + 1);
	long long before = org_tasks();
	struct resp *r;

	memset(body, ' ', n);
	memcpy(body, "{\"prompt\":\"p\",\"url\":\"https://a.example.com/\"", 44);
	body[n - 1] = '}';
	body[n] = '\0';
	r = api_post_json("/v1/run/tasks", org.key, body);
	cr_assert_eq(r->status, 413, "%ld", r->status);
	cr_assert(json_object_is_type(jget(r, "detail"), json_type_string));
	cr_assert_eq(org_tasks(), before);
	resp_free(r);
	free(body);
}

Test(runapi, get_and_cancel_statuses)
{
	char *id = create_run("{\"prompt\":\"p\",\"url\":\"https://a.example.com/\"}");
	char path[160];
	struct resp *r;

	r = api_get("/v1/runs/tsk_00000000000000000000000000", org.key);
	assert_detail(r, 404, "Task run not found tsk_00000000000000000000000000");
	resp_free(r);
	r = api_get("/v1/runs/wr_nope", org.key);
	assert_detail(r, 404, "Task run not found");
	resp_free(r);
	r = api_get("/v1/runs/tsk_00000000000000000000000000", "wrong-key");
	cr_assert_eq(r->status, 403);
	resp_free(r);
	snprintf(path, sizeof(path), "/v1/runs/%s/cancel", id);
	r = api_post_json(path, org.key, "");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(r->body, "null");
	resp_free(r);
	r = api_post_json(path, org.key, "");
	cr_assert_eq(r->status, 400);
	cr_assert(strstr(jstr(r->json, "detail"), "Invalid task status transition from canceled to canceled for "));
	resp_free(r);
	r = api_post_json("/v1/runs/tsk_00000000000000000000000000/cancel", org.key, "");
	assert_detail(r, 404, "Run not found tsk_00000000000000000000000000");
	resp_free(r);
	free(id);
}

/* Two artifacts (a step's screenshot and a recording) and one step with two actions. */
static void seed_rows(const char *id)
{
	db_exec2("INSERT INTO artifacts (id, task_id, org_id, step_id, type, path, bytes, created_at) "
		 "SELECT CONCAT('art_a', RIGHT(id, 26)), id, org_id, 'stp_01aaaaaaaaaaaaaaaaaaaaaaaa', "
		 "'screenshot_llm', CONCAT(org_id, '/', id, '/a.png'), 10, UTC_TIMESTAMP(6) "
		 "FROM tasks WHERE id = ? AND org_id = ?", id, org.id);
	db_exec2("INSERT INTO artifacts (id, task_id, org_id, step_id, type, path, bytes, created_at) "
		 "SELECT CONCAT('art_b', RIGHT(id, 26)), id, org_id, NULL, 'recording', "
		 "CONCAT(org_id, '/', id, '/r.webm'), 20, UTC_TIMESTAMP(6) + INTERVAL 1 SECOND "
		 "FROM tasks WHERE id = ? AND org_id = ?", id, org.id);
	db_exec2("INSERT INTO steps (id, task_id, org_id, status, step_order, retry_index, output, "
		 "created_at, modified_at) SELECT CONCAT('stp_', RIGHT(id, 26)), id, org_id, 'completed', "
		 "0, 0, '{\"actions\":[{\"type\":\"click\",\"element\":\"e1\",\"reasoning\":\"go\","
		 "\"result\":{\"success\":true,\"error\":null}},{\"type\":\"input_text\",\"element\":\"e2\","
		 "\"text\":\"hi\",\"result\":{\"success\":false,\"error\":\"gone\"}}]}', "
		 "UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) FROM tasks WHERE id = ? AND org_id = ?", id, org.id);
}

Test(runapi, artifacts_and_actions)
{
	char *id = create_run("{\"prompt\":\"p\",\"url\":\"https://a.example.com/\"}");
	char path[200];
	json_object *a;
	struct resp *r;

	seed_rows(id);
	snprintf(path, sizeof(path), "/v1/runs/%s/artifacts", id);
	r = api_get(path, org.key);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(r->json), 2);
	a = json_object_array_get_idx(r->json, 0);
	cr_assert_str_eq(jstr(a, "artifact_type"), "screenshot_llm");
	cr_assert_str_eq(jstr(a, "run_id"), id);
	cr_assert_str_eq(jstr(a, "organization_id"), org.id);
	cr_assert(jstr(a, "uri") && jstr(a, "modified_at"));
	cr_assert(json_object_object_get_ex(a, "checksum", NULL));
	resp_free(r);
	snprintf(path, sizeof(path), "/v1/runs/%s/artifacts?artifact_type=recording&artifact_type=llm_request", id);
	r = api_get(path, org.key);
	cr_assert_eq(json_object_array_length(r->json), 1);
	cr_assert_str_eq(jstr(json_object_array_get_idx(r->json, 0), "artifact_type"), "recording");
	resp_free(r);
	r = api_get("/v1/runs/tsk_00000000000000000000000000/artifacts", org.key);
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(r->body, "[]");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/task/%s/artifacts", id);
	r = api_get(path, org.key);
	cr_assert_eq(json_object_array_length(r->json), 2);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/steps/stp_01aaaaaaaaaaaaaaaaaaaaaaaa/artifacts", id);
	r = api_get(path, org.key);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(json_object_array_length(r->json), 1);
	resp_free(r);
	r = api_get("/api/v1/tasks/tsk_00000000000000000000000000/steps/stp_x/artifacts", org.key);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/actions", id);
	r = api_get(path, org.key);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(json_object_array_length(r->json), 2);
	a = json_object_array_get_idx(r->json, 1);
	cr_assert_str_eq(jstr(a, "action_type"), "input_text");
	cr_assert_str_eq(jstr(a, "element_id"), "e2");
	cr_assert_str_eq(jstr(a, "status"), "failed");
	cr_assert_str_eq(jstr(a, "task_id"), id);
	cr_assert_eq(json_object_get_int(sx_json_member(a, "action_order")), 1);
	cr_assert(jstr(a, "step_id"));
	resp_free(r);
	free(id);
}

Test(runapi, list_items_carry_request_fields)
{
	char *id = create_task(org.key, "https://list.example.com/");
	struct resp *r = api_get("/api/v1/tasks?page_size=1", org.key);
	json_object *item = json_object_array_get_idx(r->json, 0);

	cr_assert_str_eq(jstr(item, "task_id"), id);
	cr_assert_str_eq(jstr(item, "url"), "https://list.example.com/");
	cr_assert(json_object_object_get_ex(item, "navigation_goal", NULL));
	cr_assert(json_object_object_get_ex(item, "request", NULL));
	resp_free(r);
	free(id);
}

Test(runapi, v1_retry_webhook_answers_the_task)
{
	char *id = create_run("{\"prompt\":\"p\",\"url\":\"https://a.example.com/\","
			      "\"webhook_url\":\"https://hooks.invalid/r\"}");
	char path[160];
	struct resp *r;

	snprintf(path, sizeof(path), "/v1/runs/%s/cancel", id);
	resp_free(api_post_json(path, org.key, ""));
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/retry_webhook", id);
	r = api_post_json(path, org.key, "");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "task_id"), id);
	cr_assert_str_eq(jstr(r->json, "status"), "canceled");
	cr_assert(jstr(r->json, "delivery_id"));
	cr_assert(jget(r, "request"));
	resp_free(r);
	db_exec2("UPDATE webhook_deliveries SET status = 'failed' WHERE task_id = ? AND org_id = ?",
		 id, org.id);
	free(id);
}

Test(runapi, run_retry_webhook_delivers_now)
{
	struct test_double recv;
	char *id, *secret, body[256], path[160], *reqs;
	json_object *report, *hdrs, *got;
	const char *payload;
	struct resp *r;

	r = api_post_json("/v1/runs/tsk_00000000000000000000000000/retry_webhook", org.key, "");
	assert_detail(r, 404, "Run tsk_00000000000000000000000000 not found");
	resp_free(r);
	id = create_run("{\"prompt\":\"p\",\"url\":\"https://a.example.com/\"}");
	snprintf(path, sizeof(path), "/v1/runs/%s/retry_webhook", id);
	r = api_post_json(path, org.key, "");
	assert_detail(r, 400, "No webhook URL configured for the run.");
	resp_free(r);
	test_double_start(&recv, "webhook_receiver.py", 0);
	snprintf(body, sizeof(body), "{\"webhook_url\":\"%s/hook\"}", recv.url);
	r = api_post_json(path, org.key, body);
	cr_assert_eq(r->status, 200, "%s", r->body);
	report = r->json;
	cr_assert_str_eq(jstr(report, "run_id"), id);
	cr_assert_str_eq(jstr(report, "run_type"), "task_v1");
	cr_assert_null(sx_json_member(report, "default_webhook_url"));
	cr_assert(json_object_object_get_ex(report, "default_webhook_url", NULL));
	cr_assert_eq(json_object_get_int(sx_json_member(report, "status_code")), 200);
	cr_assert_null(sx_json_member(report, "error"));
	cr_assert_str_eq(jstr(report, "response_body"), "ok");
	hdrs = sx_json_member(report, "headers");
	payload = jstr(report, "payload");
	secret = admin("org secret show --org %s", org.id);
	cr_assert(sign_verify(SIGN_SLACK, secret, atoll(jstr(hdrs, "x-skyvern-timestamp")), payload,
			      strlen(payload), jstr(hdrs, "x-skyvern-signature")),
		  "the report's payload does not verify");
	reqs = test_double_call(&recv, "GET", "/__requests", NULL);
	got = json_tokener_parse(reqs);
	cr_assert_eq(json_object_array_length(got), 1);
	cr_assert_str_eq(jstr(json_object_array_get_idx(got, 0), "body"), payload);
	json_object_put(got);
	free(reqs);
	free(secret);
	resp_free(r);
	test_double_stop(&recv);
	free(id);
}
