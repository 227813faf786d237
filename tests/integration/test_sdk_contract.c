/*
 * The shapes Skyvern's own SDK models require, checked on every route they
 * parse, so that CI (which has no Skyvern checkout) guards what bench/sdk/
 * measured with the real SDKs: the Python SDKs validate each answer with
 * pydantic models (a required member missing, a wrong JSON type, an
 * unparsable datetime or an object where a string is typed fails the call),
 * and the TypeScript SDK's types list the enum values a typed client
 * switches on.  The models below are facts read from Skyvern's generated
 * clients (skyvern/client/types/, before and after the run API); the
 * table-driven checker is ours.  Every listed member must be present (this
 * server writes null, never leaves a member out); J_NULL says null is
 * allowed.
 */
#include <ctype.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "doubles.h"
#include "client.h"
#include "json.h"

static struct test_org org;

static void setup(void)
{
	test_org_new(&org, "sdkcontract");
}

TestSuite(sdk_contract, .init = setup, .timeout = 60);

enum {
	J_STR = 1, J_INT = 2, J_NUM = 4, J_BOOL = 8, J_OBJ = 16, J_ARR = 32, J_NULL = 64,
	J_TIME = 128,   /* a string pydantic parses as a datetime */
};

struct field {
	const char *name;
	unsigned kinds;
	const char *const *values;   /* the enum's values (NULL-terminated), or NULL */
};

static const char *const run_status[] = { "created", "queued", "running", "paused", "timed_out",
					  "failed", "terminated", "completed", "canceled", NULL };
static const char *const task_status[] = { "created", "queued", "running", "timed_out", "failed",
					   "terminated", "completed", "canceled", NULL };
static const char *const step_status[] = { "created", "running", "failed", "completed", "canceled",
					   NULL };
static const char *const action_status[] = { "pending", "skipped", "failed", "completed", NULL };
/* The older SDK's ActionType (today's adds hover, goto_url, scroll, keypress, …). */
static const char *const action_type[] = { "click", "input_text", "upload_file", "download_file",
					   "select_option", "checkbox", "wait", "null_action",
					   "solve_captcha", "terminate", "complete", "reload_page",
					   "extract", "goto_url", "scroll", "keypress", NULL };
static const char *const artifact_type[] = { "recording", "screenshot_llm", "screenshot_action",
					     "screenshot_final", "llm_request", "llm_response", NULL };
static const char *const task_v1[] = { "task_v1", NULL };

/* TaskRunResponse / GetRunResponse_TaskV1 (today's SDKs). */
static const struct field run_model[] = {
	{ "run_id", J_STR, NULL }, { "run_type", J_STR, task_v1 }, { "status", J_STR, run_status },
	{ "created_at", J_TIME, NULL }, { "modified_at", J_TIME, NULL },
	{ "queued_at", J_TIME | J_NULL, NULL }, { "started_at", J_TIME | J_NULL, NULL },
	{ "finished_at", J_TIME | J_NULL, NULL }, { "downloaded_files", J_ARR | J_NULL, NULL },
	{ "screenshot_urls", J_ARR | J_NULL, NULL }, { "recording_archived", J_BOOL | J_NULL, NULL },
	{ "recording_url", J_STR | J_NULL, NULL }, { "failure_reason", J_STR | J_NULL, NULL },
	{ "app_url", J_STR | J_NULL, NULL }, { "errors", J_ARR | J_NULL, NULL },
	{ "step_count", J_INT | J_NULL, NULL }, { "max_screenshot_scrolls", J_INT | J_NULL, NULL },
	{ "script_run", J_OBJ | J_NULL, NULL }, { "run_request", J_OBJ | J_NULL, NULL },
	{ "output", J_OBJ | J_ARR | J_STR | J_NULL, NULL },
};

/* TaskRunRequest as run_request (prompt is required there). */
static const struct field run_request_model[] = {
	{ "prompt", J_STR, NULL }, { "url", J_STR | J_NULL, NULL }, { "engine", J_STR | J_NULL, NULL },
	{ "max_steps", J_INT | J_NULL, NULL }, { "webhook_url", J_STR | J_NULL, NULL },
	{ "data_extraction_schema", J_OBJ | J_ARR | J_STR | J_NULL, NULL },
	{ "error_code_mapping", J_OBJ | J_NULL, NULL },
};

/* TaskResponse (the older SDK's get_task, retry_webhook). */
static const struct field task_model[] = {
	{ "request", J_OBJ, NULL }, { "task_id", J_STR, NULL }, { "status", J_STR, task_status },
	{ "created_at", J_TIME, NULL }, { "modified_at", J_TIME, NULL },
	{ "extracted_information", J_OBJ | J_ARR | J_STR | J_NULL, NULL },
	{ "failure_reason", J_STR | J_NULL, NULL }, { "errors", J_ARR | J_NULL, NULL },
	{ "max_steps_per_run", J_INT | J_NULL, NULL },
};

/* Task (each item of get_tasks): the request's members at the top level, url required. */
static const struct field list_item_model[] = {
	{ "url", J_STR, NULL }, { "task_id", J_STR, NULL }, { "status", J_STR, task_status },
	{ "created_at", J_TIME, NULL }, { "modified_at", J_TIME, NULL },
	{ "navigation_goal", J_STR | J_NULL, NULL }, { "webhook_callback_url", J_STR | J_NULL, NULL },
	{ "navigation_payload", J_OBJ | J_ARR | J_STR | J_NULL, NULL },
};

/* Step. */
static const struct field step_model[] = {
	{ "created_at", J_TIME, NULL }, { "modified_at", J_TIME, NULL }, { "task_id", J_STR, NULL },
	{ "step_id", J_STR, NULL }, { "status", J_STR, step_status }, { "order", J_INT, NULL },
	{ "is_last", J_BOOL, NULL }, { "retry_index", J_INT, NULL }, { "output", J_OBJ | J_NULL, NULL },
};

/* Action (get_task_actions): option a SelectOption, errors UserDefinedErrors. */
static const struct field action_model[] = {
	{ "action_type", J_STR, action_type }, { "status", J_STR, action_status },
	{ "task_id", J_STR, NULL }, { "step_id", J_STR, NULL }, { "step_order", J_INT, NULL },
	{ "action_order", J_INT, NULL }, { "element_id", J_STR | J_NULL, NULL },
	{ "errors", J_ARR, NULL },
};

static const struct field user_error_model[] = {
	{ "error_code", J_STR, NULL }, { "reasoning", J_STR, NULL }, { "confidence_float", J_NUM, NULL },
};

/* Artifact. */
static const struct field artifact_model[] = {
	{ "artifact_id", J_STR, NULL }, { "artifact_type", J_STR, artifact_type }, { "uri", J_STR, NULL },
	{ "organization_id", J_STR, NULL }, { "created_at", J_TIME, NULL }, { "modified_at", J_TIME, NULL },
	{ "task_id", J_STR | J_NULL, NULL }, { "step_id", J_STR | J_NULL, NULL },
	{ "run_id", J_STR | J_NULL, NULL }, { "signed_url", J_STR | J_NULL, NULL },
	{ "file_size", J_INT | J_NULL, NULL }, { "archived", J_BOOL | J_NULL, NULL },
};

/* RunWebhookReplayResponse. */
static const struct field replay_model[] = {
	{ "run_id", J_STR, NULL }, { "run_type", J_STR, task_v1 }, { "payload", J_STR, NULL },
	{ "headers", J_OBJ, NULL }, { "default_webhook_url", J_STR | J_NULL, NULL },
	{ "target_webhook_url", J_STR | J_NULL, NULL }, { "status_code", J_INT | J_NULL, NULL },
	{ "latency_ms", J_INT | J_NULL, NULL }, { "response_body", J_STR | J_NULL, NULL },
	{ "error", J_STR | J_NULL, NULL },
};

/* TOTPCode. */
static const struct field totp_model[] = {
	{ "totp_identifier", J_STR, NULL }, { "content", J_STR, NULL }, { "totp_code_id", J_STR, NULL },
	{ "code", J_STR, NULL }, { "organization_id", J_STR, NULL }, { "created_at", J_TIME, NULL },
	{ "modified_at", J_TIME, NULL }, { "task_id", J_STR | J_NULL, NULL },
	{ "source", J_STR | J_NULL, NULL }, { "expired_at", J_TIME | J_NULL, NULL },
};

/* n digits at *p, advancing it. */
static bool digits(const char **p, int n)
{
	for (int i = 0; i < n; i++, (*p)++)
		if (!isdigit((unsigned char)**p))
			return false;
	return true;
}

/*
 * Whether s is a datetime pydantic parses: YYYY-MM-DDTHH:MM[:SS[.f{1,6}]]
 * with an optional Z or ±HH[:MM] (we write YYYY-MM-DDTHH:MM:SS.ffffff).
 */
static bool pydantic_datetime(const char *s)
{
	const char *p = s;

	if (!digits(&p, 4) || *p++ != '-' || !digits(&p, 2) || *p++ != '-' || !digits(&p, 2) ||
	    (*p != 'T' && *p != ' ') || !(++p, digits(&p, 2)) || *p++ != ':' || !digits(&p, 2))
		return false;
	if (*p == ':' && (++p, !digits(&p, 2)))
		return false;
	if (*p == '.') {
		int n = 0;

		for (p++; isdigit((unsigned char)*p); p++)
			n++;
		if (n == 0)
			return false;
	}
	if (*p == 'Z')
		p++;
	else if ((*p == '+' || *p == '-') && (++p, !digits(&p, 2) || (*p == ':' && (++p, !digits(&p, 2)))))
		return false;
	return *p == '\0';
}

static bool in_values(const char *s, const char *const *values)
{
	for (; *values; values++)
		if (strcmp(s, *values) == 0)
			return true;
	return false;
}

/* Whether v fits kinds (and values, for a string). */
static bool fits(json_object *v, const struct field *f)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return f->kinds & J_NULL;
	case json_type_string:
		if (f->kinds & J_TIME)
			return pydantic_datetime(json_object_get_string(v));
		return (f->kinds & J_STR) && (!f->values || in_values(json_object_get_string(v), f->values));
	case json_type_int:
		return f->kinds & (J_INT | J_NUM);
	case json_type_double:
		return f->kinds & J_NUM;
	case json_type_boolean:
		return f->kinds & J_BOOL;
	case json_type_object:
		return f->kinds & J_OBJ;
	case json_type_array:
		return f->kinds & J_ARR;
	}
	return false;
}

#define assert_model(o, model, what) assert_model_n(o, model, SX_ARRAY_LEN(model), what)

static void assert_model_n(json_object *o, const struct field *model, size_t n, const char *what)
{
	cr_assert(json_object_is_type(o, json_type_object), "%s: not an object: %s", what,
		  json_object_to_json_string(o));
	for (size_t i = 0; i < n; i++) {
		json_object *v;

		cr_assert(json_object_object_get_ex(o, model[i].name, &v), "%s: %s missing", what,
			  model[i].name);
		cr_assert(fits(v, &model[i]), "%s: %s = %s does not fit the SDK's model", what,
			  model[i].name, json_object_to_json_string(v));
	}
}

/* Every item of the array answer r fits model; returns how many there were. */
static size_t assert_items_n(const struct resp *r, const struct field *model, size_t n,
			     const char *what)
{
	cr_assert_eq(r->status, 200, "%s: %ld %s", what, r->status, r->body);
	cr_assert(json_object_is_type(r->json, json_type_array), "%s: not an array", what);
	for (size_t i = 0; i < json_object_array_length(r->json); i++)
		assert_model_n(json_object_array_get_idx(r->json, i), model, n, what);
	return json_object_array_length(r->json);
}

#define assert_items(r, model, what) assert_items_n(r, model, SX_ARRAY_LEN(model), what)

static char *create_run(const char *body)
{
	struct resp *r = api_post_json("/v1/run/tasks", org.key, body);
	char *id;

	cr_assert_eq(r->status, 200, "create: %ld %s", r->status, r->body);
	assert_model(r->json, run_model, "POST /v1/run/tasks");
	assert_model(jget(r, "run_request"), run_request_model, "run_request");
	id = xstrdup(jstr(r->json, "run_id"));
	resp_free(r);
	return id;
}

/* GET path answers 200 with an object that fits model (n members). */
static void assert_get_n(const char *path, const struct field *model, size_t n)
{
	struct resp *r = api_get(path, org.key);

	cr_assert_eq(r->status, 200, "%s: %ld %s", path, r->status, r->body);
	assert_model_n(r->json, model, n, path);
	if (model == run_model)
		assert_model(jget(r, "run_request"), run_request_model, "run_request");
	resp_free(r);
}

#define assert_get(path, model) assert_get_n(path, model, SX_ARRAY_LEN(model))

Test(sdk_contract, datetime_checker)
{
	cr_assert(pydantic_datetime("2026-12-02T05:20:04.793512"));
	cr_assert(pydantic_datetime("2026-12-02T05:20:04Z"));
	cr_assert(pydantic_datetime("2026-12-02 05:20:04+00:00"));
	cr_assert_not(pydantic_datetime("2026-12-02"));
	cr_assert_not(pydantic_datetime("2026-12-02T05:20:04.793512 UTC"));
	cr_assert_not(pydantic_datetime("yesterday"));
}

/* A run and a task read through both surfaces fit the models of both SDKs. */
Test(sdk_contract, runs_and_tasks_both_ways)
{
	char *run = create_run("{\"prompt\":\"Find the price\",\"url\":\"https://shop.example.com/\","
			       "\"data_extraction_schema\":{\"type\":\"object\"},\"max_steps\":3}");
	/* An extraction-only task: no navigation_goal, yet the run's prompt is a string. */
	struct resp *made = api_post_json("/api/v1/tasks", org.key,
		"{\"url\":\"https://a.example.com/\",\"data_extraction_goal\":\"the price\"}");
	char *task = xstrdup(jstr(made->json, "task_id"));
	const char *ids[] = { run, task };
	char path[160];
	struct resp *r;

	resp_free(made);

	for (size_t i = 0; i < SX_ARRAY_LEN(ids); i++) {
		snprintf(path, sizeof(path), "/v1/runs/%s", ids[i]);
		assert_get(path, run_model);
		snprintf(path, sizeof(path), "/api/v1/tasks/%s", ids[i]);
		assert_get(path, task_model);
	}
	snprintf(path, sizeof(path), "/v1/runs/%s", task);
	r = api_get(path, org.key);
	cr_assert_str_eq(jstr(jget(r, "run_request"), "prompt"), "the price");
	resp_free(r);
	free(run);
	free(task);
}

Test(sdk_contract, list_items_are_tasks)
{
	char *run = create_run("{\"prompt\":\"p\",\"url\":\"https://list.example.com/\"}");
	struct resp *r = api_get("/api/v1/tasks?page=1&page_size=10&task_status=queued&task_status=running",
				 org.key);

	cr_assert_geq(assert_items(r, list_item_model, "GET /api/v1/tasks"), 1);
	resp_free(r);
	free(run);
}

/* A step with the actions as the agent records them (check, select_option, a failed input). */
static const char seed_actions[] =
	"{\"actions\":[{\"action\":\"check\",\"element\":\"e3\",\"reasoning\":\"agree\","
	"\"result\":{\"success\":true,\"error\":null}},{\"action\":\"select_option\","
	"\"element\":\"e4\",\"option\":\"LinkedIn\",\"result\":{\"success\":true,\"error\":null}},"
	"{\"action\":\"input_text\",\"element\":\"e2\",\"text\":\"hi\",\"result\":"
	"{\"success\":false,\"error\":\"element gone\"}}]}";

/* INSERT INTO into_select FROM the task id of the test's organization. */
static void seed_insert(const char *id, const char *into_select)
{
	char *sql = xasprintf("INSERT INTO %s FROM tasks WHERE id = ? AND org_id = ?", into_select);

	db_exec2(sql, id, org.id);
	free(sql);
}

/* The task's step (stp_ + the id's tail) and one screenshot of it. */
static void seed_step(const char *id)
{
	char *step = xasprintf("steps (id, task_id, org_id, status, step_order, retry_index, output, "
			       "created_at, modified_at) SELECT CONCAT('stp_', RIGHT(id, 26)), id, org_id, "
			       "'completed', 0, 0, '%s', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)", seed_actions);

	seed_insert(id, step);
	seed_insert(id, "artifacts (id, task_id, org_id, step_id, type, path, bytes, created_at) SELECT "
		    "CONCAT('art_', RIGHT(id, 26)), id, org_id, CONCAT('stp_', RIGHT(id, 26)), "
		    "'screenshot_action', CONCAT(org_id, '/', id, '/a.png'), 10, UTC_TIMESTAMP(6)");
	free(step);
}

/*
 * GET prefix + id + suffix: an array of count items, each fitting model.
 * Returns the answer (caller frees).
 */
static struct resp *get_items_n(const char *prefix, const char *id, const char *suffix,
				const struct field *model, size_t n, size_t count)
{
	char *path = xasprintf("%s%s%s", prefix, id, suffix);
	struct resp *r = api_get(path, org.key);

	cr_assert_eq(assert_items_n(r, model, n, path), count, "%s: %s", path, r->body);
	free(path);
	return r;
}

#define get_items(prefix, id, suffix, model, count) \
	get_items_n(prefix, id, suffix, model, SX_ARRAY_LEN(model), count)

Test(sdk_contract, steps_and_actions)
{
	char *id = create_run("{\"prompt\":\"p\",\"url\":\"https://a.example.com/\"}");
	struct resp *r;
	json_object *acts;

	seed_step(id);
	resp_free(get_items("/api/v1/tasks/", id, "/steps", step_model, 1));
	r = get_items("/api/v1/tasks/", id, "/actions", action_model, 3);
	acts = r->json;
	cr_assert_str_eq(jstr(json_object_array_get_idx(acts, 0), "action_type"), "checkbox");
	cr_assert(json_object_get_boolean(sx_json_member(json_object_array_get_idx(acts, 0), "is_checked")));
	cr_assert_str_eq(jstr(sx_json_member(json_object_array_get_idx(acts, 1), "option"), "label"),
			 "LinkedIn", "option is a SelectOption");
	cr_assert_str_eq(jstr(json_object_array_get_idx(acts, 2), "status"), "failed");
	/* errors holds UserDefinedErrors only (error_code_mapping's); a failure's text is result.error. */
	cr_assert(jstr(sx_json_member(json_object_array_get_idx(acts, 2), "result"), "error"));
	acts = sx_json_member(json_object_array_get_idx(acts, 2), "errors");
	for (size_t i = 0; i < json_object_array_length(acts); i++)
		assert_model(json_object_array_get_idx(acts, i), user_error_model, "UserDefinedError");
	resp_free(r);
	free(id);
}

Test(sdk_contract, artifacts_on_every_route)
{
	char *id = create_run("{\"prompt\":\"p\",\"url\":\"https://a.example.com/\"}");
	/* Each route as prefix and suffix around the id. */
	const char *const routes[][2] = {
		{ "/v1/runs/", "/artifacts" }, { "/v1/runs/", "/artifacts?artifact_type=screenshot_action" },
		{ "/api/v1/tasks/", "/artifacts" }, { "/api/v1/task/", "/artifacts" },
	};
	char *step_suffix = xasprintf("/steps/stp_%s/artifacts", id + 4);

	seed_step(id);
	for (size_t i = 0; i < SX_ARRAY_LEN(routes); i++)
		resp_free(get_items(routes[i][0], id, routes[i][1], artifact_model, 1));
	resp_free(get_items("/api/v1/tasks/", id, step_suffix, artifact_model, 1));
	free(step_suffix);
	free(id);
}

/* Both retry_webhook answers: the run's report and, once final, the task object. */
Test(sdk_contract, retry_webhook_answers)
{
	struct test_double recv;
	char *id, body[200], path[160];
	struct resp *r;

	test_double_start(&recv, "webhook_receiver.py", 0);
	snprintf(body, sizeof(body), "{\"prompt\":\"p\",\"url\":\"https://a.example.com/\","
		 "\"webhook_url\":\"%s/hook\"}", recv.url);
	id = create_run(body);
	snprintf(path, sizeof(path), "/v1/runs/%s/retry_webhook", id);
	r = api_post_json(path, org.key, "");
	cr_assert_eq(r->status, 200, "%s", r->body);
	assert_model(r->json, replay_model, path);
	resp_free(r);
	snprintf(path, sizeof(path), "/v1/runs/%s/cancel", id);
	r = api_post_json(path, org.key, "");
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(r->body, "null");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/retry_webhook", id);
	r = api_post_json(path, org.key, "");
	cr_assert_eq(r->status, 200, "%s", r->body);
	assert_model(r->json, task_model, path);
	resp_free(r);
	/* No agent sends the queued delivery here: it is set aside. */
	db_exec2("UPDATE webhook_deliveries SET status = 'failed' WHERE task_id = ? AND org_id = ?",
		 id, org.id);
	test_double_stop(&recv);
	free(id);
}

/* The TOTP push on both paths answers a TOTPCode; the run API's SDKs use /v1/credentials/totp. */
Test(sdk_contract, totp_code)
{
	const char *const paths[] = { "/api/v1/totp", "/v1/credentials/totp" };

	for (size_t i = 0; i < SX_ARRAY_LEN(paths); i++) {
		struct resp *r = api_post_json(paths[i], org.key,
			"{\"totp_identifier\":\"sdk@example.com\",\"content\":\"Your code is 482913\","
			"\"source\":\"email\"}");

		cr_assert_eq(r->status, 200, "%s: %ld %s", paths[i], r->status, r->body);
		assert_model(r->json, totp_model, paths[i]);
		cr_assert_str_eq(jstr(r->json, "code"), "482913");
		cr_assert_str_eq(jstr(r->json, "organization_id"), org.id);
		resp_free(r);
	}
}
