/*
 * Strict JSON and one depth limit through the API (issue 9, items 3 and 4):
 * non-RFC 8259 bodies are refused with FastAPI's 422, numbers come back
 * re-serialized, a request at the depth limit survives create, GET, list and
 * the webhook query, one over it is refused, and a stored request that
 * cannot be read says so in GET and list, and fails in the agent.  Every
 * answer is also checked by a second strict parser, Python's json with
 * parse_constant raising.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "client.h"
#include "agentctl.h"
#include "buf.h"
#include "db.h"
#include "id.h"
#include "json.h"

static struct test_org org;

static void setup(void)
{
	test_org_new(&org, "json-api");
}

TestSuite(json_api, .init = setup, .timeout = 120);

static long long task_rows(void)
{
	return db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", org.id);
}

/* True when Python's json module, with NaN/Infinity refused, parses body. */
static bool python_strict(const char *body, size_t len)
{
	static const char cmd[] =
		"python3 -c 'import json,sys\n"
		"def bad(c): raise ValueError(c)\n"
		"json.loads(sys.stdin.buffer.read().decode(\"utf-8\"), parse_constant=bad)' 2>/dev/null";
	FILE *p = popen(cmd, "w");
	int st;

	cr_assert_not_null(p);
	fwrite(body, 1, len, p);
	st = pclose(p);
	return st == 0;
}

/* Checks r with the second parser too, and returns it. */
static struct resp *checked(struct resp *r)
{
	cr_assert(python_strict(r->body, r->len), "not strict JSON for Python: %.300s", r->body);
	return r;
}

/* POSTs body and expects FastAPI's 422 for an unparsable body, with no row written. */
static void post_refused(const char *body, size_t len)
{
	long long before = task_rows();
	struct resp *r = checked(api_call("POST", "/api/v1/tasks", org.key, body, len, NULL));
	json_object *d, *e, *loc;

	cr_assert_eq(r->status, 422, "%ld for %.200s: %.300s", r->status, body, r->body);
	d = jget(r, "detail");
	cr_assert(json_object_is_type(d, json_type_array), "%s", r->body);
	e = json_object_array_get_idx(d, 0);
	cr_assert_str_eq(jstr(e, "type"), "json_invalid", "%s", r->body);
	cr_assert(json_object_object_get_ex(e, "loc", &loc));
	cr_assert_eq(json_object_array_length(loc), 1);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(loc, 0)), "body");
	cr_assert_not_null(strstr(jstr(e, "msg"), "JSON decode error"), "%s", r->body);
	cr_assert_eq(task_rows(), before, "a row was written for %.200s", body);
	resp_free(r);
}

Test(json_api, non_rfc8259_bodies_are_422)
{
	static const char *const values[] = {
		"1.", "-.5", "1.e5", "[0.]", "NaN", "Infinity", "-Infinity", "+1", "01", "1e",
		"\"\\ud800\"", "\"\\ud800x\"", "\"\\udc00\"", "\"a\\u0000b\"",
		"\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"",
		"\"a\x01z\"", "\"tab\there\"", "[1,]", "{\"a\":1,}", "'x'", "18446744073709551616",
	};
	char body[160];
	size_t i;

	for (i = 0; i < SX_ARRAY_LEN(values); i++) {
		snprintf(body, sizeof(body), "{\"url\":\"https://example.com\",\"navigation_payload\":%s}",
			 values[i]);
		post_refused(body, strlen(body));
	}
	snprintf(body, sizeof(body), "{\"url\":\"https://example.com\"} trailing");
	post_refused(body, strlen(body));
	/* A truncated UTF-8 sequence at the very end of the body. */
	{
		static const char cut[] = "{\"url\":\"https://example.com\",\"title\":\"\xe2\x82";

		post_refused(cut, sizeof(cut) - 1);
	}
}

/* The TOTP push reads a JSON body too, through the same checker. */
Test(json_api, totp_body_is_strict_too)
{
	static const char body[] = "{\"totp_identifier\":\"a@b.c\",\"content\":\"123456\",\"n\":1.}";
	struct resp *r = checked(api_call("POST", "/api/v1/totp", org.key, body, sizeof(body) - 1, NULL));

	cr_assert_eq(r->status, 422, "%ld: %s", r->status, r->body);
	resp_free(r);
}

/* GET /api/v1/tasks/{id}; the caller frees. */
static struct resp *get_task(const char *id)
{
	char path[96];

	snprintf(path, sizeof(path), "/api/v1/tasks/%s", id);
	return checked(api_get(path, org.key));
}

Test(json_api, numbers_come_back_reserialized)
{
	static const char body[] = "{\"url\":\"https://example.com\","
				   "\"navigation_payload\":{\"a\":1.50,\"b\":2E3,\"c\":0.1,\"d\":-0.0,\"e\":7}}";
	struct resp *r = checked(api_post_json("/api/v1/tasks", org.key, body));
	char *id;

	cr_assert_eq(r->status, 200, "%s", r->body);
	id = xstrdup(jstr(r->json, "task_id"));
	resp_free(r);
	r = get_task(id);
	cr_assert_eq(r->status, 200);
	cr_assert_not_null(strstr(r->body, "\"navigation_payload\":{\"a\":1.5,\"b\":2000.0,\"c\":0.1,"
					   "\"d\":-0.0,\"e\":7}"), "%s", r->body);
	resp_free(r);
	free(id);
}

/* A create body nested `depth` deep in all (the body object is level 1), with a webhook after the payload. */
static char *body_of_depth(int depth)
{
	struct sx_buf b;
	int i;

	sx_buf_init(&b, 4096);
	sx_buf_puts(&b, "{\"url\":\"https://example.com\",\"navigation_payload\":");
	for (i = 1; i < depth; i++)
		sx_buf_putc(&b, '[');
	sx_buf_puts(&b, "\"deep\"");
	for (i = 1; i < depth; i++)
		sx_buf_putc(&b, ']');
	sx_buf_puts(&b, ",\"webhook_callback_url\":\"https://hooks.example.com/x\"}");
	return sx_buf_detach(&b, NULL);
}

/* The task object with task_id id in a list page, or NULL. */
static json_object *find_in_list(json_object *list, const char *id)
{
	json_object *found = NULL;
	size_t i;

	for (i = 0; list && i < json_object_array_length(list) && !found; i++)
		if (strcmp(jstr(json_object_array_get_idx(list, i), "task_id"), id) == 0)
			found = json_object_array_get_idx(list, i);
	return found;
}

/* Asserts the task reads back whole through GET and list, and queues its webhook when canceled. */
static void assert_reads_back(const char *id)
{
	struct resp *r = get_task(id);
	json_object *req = NULL, *t;
	char path[96];

	cr_assert_eq(r->status, 200);
	cr_assert(json_object_object_get_ex(r->json, "request", &req) && req, "request is null: %.300s", r->body);
	cr_assert_str_eq(jstr(req, "url"), "https://example.com");
	resp_free(r);
	r = checked(api_get("/api/v1/tasks?page_size=100", org.key));
	t = find_in_list(r->json, id);
	cr_assert_not_null(t, "not in the list");
	cr_assert(json_object_object_get_ex(t, "request", &req) && req, "request is null in the list");
	resp_free(r);
	/* The webhook query reads the stored request with MariaDB's JSON_VALUE. */
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/cancel", id);
	r = checked(api_call("POST", path, org.key, NULL, 0, NULL));
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM webhook_deliveries WHERE task_id = ?", id), 1,
		     "no webhook queued");
}

Test(json_api, depth_limit_through_create_get_list_and_webhook)
{
	struct resp *r;
	char *body, *id;
	int depth;

	for (depth = SX_JSON_MAX_DEPTH - 1; depth <= SX_JSON_MAX_DEPTH; depth++) {
		body = body_of_depth(depth);
		r = checked(api_post_json("/api/v1/tasks", org.key, body));
		cr_assert_eq(r->status, 200, "depth %d: %s", depth, r->body);
		id = xstrdup(jstr(r->json, "task_id"));
		resp_free(r);
		assert_reads_back(id);
		free(id);
		free(body);
	}
	body = body_of_depth(SX_JSON_MAX_DEPTH + 1);
	post_refused(body, strlen(body));
	free(body);
}

/*
 * Writes a task row the way an older version could have: a request nested
 * deeper than the limit, or holding a number such as `1.`.  Returns its id.
 */
static char *insert_legacy(const char *request, const char *status)
{
	static const char q[] =
		"INSERT INTO tasks (id, org_id, status, request, max_steps, created_at, modified_at, queued_at) "
		"VALUES (?, ?, ?, ?, 3, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))";
	char id[SX_ID_MAX];

	sx_id_new(id, "tsk_");
	{
		struct sx_param p[] = { sx_p_str(id), sx_p_str(org.id), sx_p_str(status), sx_p_str(request) };

		cr_assert_eq(sx_db_exec(tdb(), q, p, 4, NULL), SX_OK);
	}
	return xstrdup(id);
}

Test(json_api, unreadable_stored_request_is_an_error_not_null)
{
	char *request = body_of_depth(SX_JSON_MAX_DEPTH + 10);
	char *id = insert_legacy(request, "completed");
	struct resp *r = get_task(id);
	json_object *errors, *e, *t;

	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_not_null(strstr(r->body, "\"request\":null"));
	errors = jget(r, "errors");
	cr_assert_eq(json_object_array_length(errors), 1, "%s", r->body);
	e = json_object_array_get_idx(errors, 0);
	cr_assert_str_eq(jstr(e, "error_code"), "request_unreadable");
	cr_assert_not_null(strstr(jstr(e, "reasoning"), "cannot be read"));
	resp_free(r);
	r = checked(api_get("/api/v1/tasks?page_size=100", org.key));
	t = find_in_list(r->json, id);
	cr_assert_not_null(t);
	cr_assert_eq(json_object_array_length(json_object_object_get(t, "errors")), 1);
	resp_free(r);
	free(id);
	free(request);
}

Test(json_api, legacy_numbers_are_served_as_json)
{
	char *id = insert_legacy("{\"url\":\"https://example.com\",\"navigation_payload\":[1.,-.5,1.e5,[0.]]}",
				 "completed");
	struct resp *r = get_task(id);

	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_not_null(strstr(r->body, "\"navigation_payload\":[1.0,-0.5,100000.0,[0.0]]"), "%s", r->body);
	resp_free(r);
	free(id);
}

/* The agent fails a task whose request it cannot read, rather than running it without a URL. */
Test(json_api, agent_fails_unreadable_request, .timeout = 180)
{
	struct test_org aorg;
	char *request = body_of_depth(SX_JSON_MAX_DEPTH + 10);
	struct test_org saved = org;
	json_object *t;
	char *id;
	pid_t agent;

	agent_suite_init(&aorg, "json-api-agent");
	org = aorg;
	id = insert_legacy(request, "queued");
	agent = agent_start(NULL);
	t = wait_final(org.key, id, 90);
	cr_assert_not_null(t);
	cr_assert_str_eq(jstr(t, "status"), "failed");
	cr_assert_not_null(strstr(jstr(t, "failure_reason"), "cannot be read"), "%s", jstr(t, "failure_reason"));
	cr_assert_eq(json_object_get_int64(json_object_object_get(t, "step_count")), 0);
	json_object_put(t);
	agent_stop(agent, 10000);
	agent_suite_fini();
	org = saved;
	free(id);
	free(request);
}
