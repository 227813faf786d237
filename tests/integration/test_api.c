/*
 * Every route's success shape, cancel from each status, pagination,
 * idempotency, organization isolation and the step-cap override, through
 * the real nginx, sextant-api and MariaDB.
 */
#include <criterion/criterion.h>
#include <regex.h>
#include "sx.h"
#include "client.h"
#include "id.h"

static const char seed_body[] =
	"{\"url\":\"https://jobs.example.com/apply\","
	"\"navigation_goal\":\"Apply for a job\","
	"\"data_extraction_goal\":\"Was the job application successful?\","
	"\"proxy_location\":\"RESIDENTIAL\","
	"\"navigation_payload\":{\"name\":\"Chris P. Bacon\",\"email\":\"chris@pbacon.com\"},"
	"\"webhook_callback_url\":\"https://hooks.example.com/done\","
	"\"extracted_information_schema\":{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"}}},"
	"\"totp_identifier\":\"chris@pbacon.com\","
	"\"some_unknown_field\":1}";

static void assert_iso(json_object *o, const char *key)
{
	regex_t re;
	const char *s = jstr(o, key);

	cr_assert(s, "%s is not a string", key);
	cr_assert_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}$",
			     REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regexec(&re, s, 0, NULL, 0), 0, "%s=%s is not ISO 8601", key, s);
	regfree(&re);
}

static void assert_null(json_object *o, const char *key)
{
	json_object *v = (json_object *)1;

	cr_assert(json_object_object_get_ex(o, key, &v), "%s missing", key);
	cr_assert_null(v, "%s should be null", key);
}

static void assert_json_type(const struct resp *r)
{
	cr_assert(strncmp(r->content_type, "application/json", 16) == 0,
		  "Content-Type is %s", r->content_type);
	cr_assert_not_null(r->json, "body is not JSON: %s", r->body);
}

Test(api, create_returns_task_id)
{
	struct test_org org;
	struct resp *r;
	const char *id;

	test_org_new(&org, "api-create");
	r = api_post_json("/api/v1/tasks", org.key, seed_body);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	assert_json_type(r);
	cr_assert_eq(json_object_object_length(r->json), 1, "only task_id: %s", r->body);
	id = jstr(r->json, "task_id");
	cr_assert(id && sx_id_valid(id, "tsk_"), "bad id %s", id ? id : "(null)");
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE id = ?", id), 1);
	resp_free(r);
}

Test(api, get_task_shape_field_by_field)
{
	struct test_org org;
	struct resp *r, *g;
	json_object *t, *req, *v;
	char path[128];
	const char *id;

	test_org_new(&org, "api-get");
	r = api_post_json("/api/v1/tasks/", org.key, seed_body);
	cr_assert_eq(r->status, 200);
	id = jstr(r->json, "task_id");
	snprintf(path, sizeof(path), "/api/v1/tasks/%s", id);
	g = api_get(path, org.key);
	cr_assert_eq(g->status, 200, "%ld %s", g->status, g->body);
	assert_json_type(g);
	t = g->json;
	cr_assert_str_eq(jstr(t, "task_id"), id);
	cr_assert_str_eq(jstr(t, "status"), "queued");
	cr_assert(json_object_object_get_ex(t, "request", &req) && json_object_is_type(req, json_type_object));
	cr_assert_str_eq(jstr(req, "url"), "https://jobs.example.com/apply");
	cr_assert_str_eq(jstr(req, "navigation_goal"), "Apply for a job");
	cr_assert_str_eq(jstr(req, "data_extraction_goal"), "Was the job application successful?");
	cr_assert_str_eq(jstr(req, "proxy_location"), "RESIDENTIAL");
	cr_assert_str_eq(jstr(req, "webhook_callback_url"), "https://hooks.example.com/done");
	cr_assert_str_eq(jstr(req, "totp_identifier"), "chris@pbacon.com");
	assert_null(req, "totp_verification_url");
	cr_assert(json_object_object_get_ex(req, "navigation_payload", &v));
	cr_assert_str_eq(jstr(v, "name"), "Chris P. Bacon");
	cr_assert_str_eq(jstr(v, "email"), "chris@pbacon.com");
	cr_assert(json_object_object_get_ex(req, "extracted_information_schema", &v) &&
		  json_object_is_type(v, json_type_object));
	cr_assert_not(json_object_object_get_ex(req, "some_unknown_field", NULL));
	assert_iso(t, "created_at");
	assert_iso(t, "modified_at");
	assert_iso(t, "queued_at");
	assert_null(t, "started_at");
	assert_null(t, "finished_at");
	assert_null(t, "extracted_information");
	assert_null(t, "failure_reason");
	assert_null(t, "screenshot_url");
	assert_null(t, "recording_url");
	assert_null(t, "webhook_failure_reason");
	cr_assert(json_object_object_get_ex(t, "action_screenshot_urls", &v) &&
		  json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0);
	cr_assert(json_object_object_get_ex(t, "errors", &v) &&
		  json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0);
	cr_assert(json_object_object_get_ex(t, "step_count", &v) && json_object_get_int(v) == 0);
	cr_assert(json_object_object_get_ex(t, "max_steps_per_run", &v) && json_object_get_int(v) == 10);
	resp_free(r);
	resp_free(g);
}

Test(api, steps_of_new_task_is_empty_array)
{
	struct test_org org;
	char *id, path[128];
	struct resp *r;

	test_org_new(&org, "api-steps");
	id = create_task(org.key, "http://example.com/");
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/steps", id);
	r = api_get(path, org.key);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	assert_json_type(r);
	cr_assert(json_object_is_type(r->json, json_type_array));
	cr_assert_eq(json_object_array_length(r->json), 0);
	resp_free(r);
	/* A step written for the task appears with every field of the contract. */
	{
		static const char ins[] =
			"INSERT INTO steps (id, task_id, org_id, status, step_order, retry_index, "
			"input_token_count, output_token_count, step_cost, output, created_at, modified_at) "
			"SELECT CONCAT('stp_', SUBSTRING(id, 5)), id, org_id, 'completed', 0, 0, 1200, 80, "
			"0.0002, '{\"actions\":[]}', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) FROM tasks WHERE id = ?";
		json_object *s, *v;

		db_exec2(ins, id, NULL);
		r = api_get(path, org.key);
		cr_assert_eq(json_object_array_length(r->json), 1, "%s", r->body);
		s = json_object_array_get_idx(r->json, 0);
		cr_assert_str_eq(jstr(s, "organization_id"), org.id);
		cr_assert_str_eq(jstr(s, "task_id"), id);
		cr_assert(strncmp(jstr(s, "step_id"), "stp_", 4) == 0);
		cr_assert_str_eq(jstr(s, "status"), "completed");
		cr_assert(json_object_object_get_ex(s, "order", &v) && json_object_get_int(v) == 0);
		cr_assert(json_object_object_get_ex(s, "retry_index", &v) && json_object_get_int(v) == 0);
		cr_assert(json_object_object_get_ex(s, "input_token_count", &v) && json_object_get_int(v) == 1200);
		cr_assert(json_object_object_get_ex(s, "output_token_count", &v) && json_object_get_int(v) == 80);
		cr_assert(json_object_object_get_ex(s, "is_last", &v) && json_object_is_type(v, json_type_boolean));
		cr_assert(json_object_object_get_ex(s, "step_cost", &v));
		cr_assert(json_object_object_get_ex(s, "output", &v) && json_object_is_type(v, json_type_object));
		assert_iso(s, "created_at");
		assert_iso(s, "modified_at");
		resp_free(r);
	}
	free(id);
}

static void set_status(const char *id, const char *status)
{
	static const char q[] = "UPDATE tasks SET status = ? WHERE id = ?";

	db_exec2(q, status, id);
}

static struct resp *cancel(const char *key, const char *id)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/v1/tasks/%s/cancel", id);
	return api_call("POST", path, key, NULL, 0, NULL);
}

Test(api, cancel_from_each_status)
{
	static const char *ok[] = { "created", "queued", "running" };
	static const char *final[] = { "completed", "terminated", "failed", "canceled", "timed_out" };
	struct test_org org;

	test_org_new(&org, "api-cancel");
	for (size_t i = 0; i < SX_ARRAY_LEN(ok); i++) {
		char *id = create_task(org.key, "https://example.com/");
		char path[128];
		struct resp *r, *g;

		set_status(id, ok[i]);
		r = cancel(org.key, id);
		cr_assert_eq(r->status, 200, "cancel from %s: %ld %s", ok[i], r->status, r->body);
		assert_json_type(r);
		snprintf(path, sizeof(path), "/api/v1/tasks/%s", id);
		g = api_get(path, org.key);
		cr_assert_str_eq(jstr(g->json, "status"), "canceled");
		assert_iso(g->json, "finished_at");
		resp_free(r);
		resp_free(g);
		free(id);
	}
	for (size_t i = 0; i < SX_ARRAY_LEN(final); i++) {
		char *id = create_task(org.key, "https://example.com/");
		char want[160];
		struct resp *r;

		set_status(id, final[i]);
		r = cancel(org.key, id);
		cr_assert_eq(r->status, 409, "cancel from %s: %ld %s", final[i], r->status, r->body);
		assert_json_type(r);
		snprintf(want, sizeof(want), "Invalid task status transition from %s to canceled for %s",
			 final[i], id);
		cr_assert_str_eq(jstr(r->json, "detail"), want);
		cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE id = ? AND status <> 'canceled'", id),
			     strcmp(final[i], "canceled") != 0 ? 1 : 0);
		resp_free(r);
		free(id);
	}
}

Test(api, pagination_order_and_status_filter)
{
	struct test_org org;
	char *ids[5];
	struct resp *r;

	test_org_new(&org, "api-pages");
	for (int i = 0; i < 5; i++)
		ids[i] = create_task(org.key, "https://example.com/");
	r = api_get("/api/v1/tasks?page=1&page_size=2", org.key);
	cr_assert_eq(r->status, 200, "%s", r->body);
	assert_json_type(r);
	cr_assert_eq(json_object_array_length(r->json), 2);
	cr_assert_str_eq(jstr(json_object_array_get_idx(r->json, 0), "task_id"), ids[4]);
	cr_assert_str_eq(jstr(json_object_array_get_idx(r->json, 1), "task_id"), ids[3]);
	resp_free(r);
	r = api_get("/api/v1/tasks?page=3&page_size=2", org.key);
	cr_assert_eq(json_object_array_length(r->json), 1);
	cr_assert_str_eq(jstr(json_object_array_get_idx(r->json, 0), "task_id"), ids[0]);
	resp_free(r);
	r = api_get("/api/v1/tasks?page=4&page_size=2", org.key);
	cr_assert_eq(json_object_array_length(r->json), 0);
	resp_free(r);
	r = api_get("/api/v1/tasks?page=1&page_size=10&order=asc", org.key);
	cr_assert_eq(json_object_array_length(r->json), 5);
	cr_assert_str_eq(jstr(json_object_array_get_idx(r->json, 0), "task_id"), ids[0]);
	cr_assert_str_eq(jstr(json_object_array_get_idx(r->json, 4), "task_id"), ids[4]);
	resp_free(r);
	r = api_get("/api/v1/tasks", org.key);
	cr_assert_eq(json_object_array_length(r->json), 5, "default page_size 10 holds all 5");
	resp_free(r);

	resp_free(cancel(org.key, ids[1]));
	resp_free(cancel(org.key, ids[3]));
	r = api_get("/api/v1/tasks?task_status=canceled", org.key);
	cr_assert_eq(json_object_array_length(r->json), 2, "%s", r->body);
	cr_assert_str_eq(jstr(json_object_array_get_idx(r->json, 0), "task_id"), ids[3]);
	cr_assert_str_eq(jstr(json_object_array_get_idx(r->json, 1), "task_id"), ids[1]);
	resp_free(r);
	r = api_get("/api/v1/tasks?task_status=queued&task_status=canceled&page_size=100", org.key);
	cr_assert_eq(json_object_array_length(r->json), 5);
	resp_free(r);
	r = api_get("/api/v1/tasks?task_status=queued", org.key);
	cr_assert_eq(json_object_array_length(r->json), 3);
	resp_free(r);
	for (int i = 0; i < 5; i++)
		free(ids[i]);
}

Test(api, idempotency_key_returns_first_task)
{
	static const char *hdr[] = { "Idempotency-Key: order-42", NULL };
	static const char body[] = "{\"url\":\"https://example.com/\"}";
	struct test_org a, b;
	struct resp *r1, *r2, *r3;

	test_org_new(&a, "api-idem-a");
	test_org_new(&b, "api-idem-b");
	r1 = api_call("POST", "/api/v1/tasks", a.key, body, strlen(body), hdr);
	r2 = api_call("POST", "/api/v1/tasks", a.key, body, strlen(body), hdr);
	r3 = api_call("POST", "/api/v1/tasks", b.key, body, strlen(body), hdr);
	cr_assert_eq(r1->status, 200);
	cr_assert_eq(r2->status, 200);
	cr_assert_eq(r3->status, 200);
	cr_assert_str_eq(jstr(r1->json, "task_id"), jstr(r2->json, "task_id"));
	cr_assert_str_neq(jstr(r1->json, "task_id"), jstr(r3->json, "task_id"));
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", a.id), 1);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", b.id), 1);
	resp_free(r1);
	resp_free(r2);
	resp_free(r3);
}

Test(api, organization_isolation)
{
	struct test_org a, b;
	char *id, path[128], want[96];
	struct resp *r;

	test_org_new(&a, "api-iso-a");
	test_org_new(&b, "api-iso-b");
	id = create_task(a.key, "https://example.com/");
	snprintf(want, sizeof(want), "Task %s not found", id);
	snprintf(path, sizeof(path), "/api/v1/tasks/%s", id);
	r = api_get(path, b.key);
	cr_assert_eq(r->status, 404);
	cr_assert_str_eq(jstr(r->json, "detail"), want);
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/steps", id);
	r = api_get(path, b.key);
	cr_assert_eq(r->status, 404);
	cr_assert_str_eq(jstr(r->json, "detail"), want);
	resp_free(r);
	r = cancel(b.key, id);
	cr_assert_eq(r->status, 404);
	resp_free(r);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE id = ? AND status = 'queued'", id), 1);
	r = api_get("/api/v1/tasks", b.key);
	cr_assert_eq(json_object_array_length(r->json), 0);
	resp_free(r);
	/* The owner still sees it. */
	snprintf(path, sizeof(path), "/api/v1/tasks/%s", id);
	r = api_get(path, a.key);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	free(id);
}

Test(api, max_steps_override_header)
{
	static const char *hdr[] = { "x-max-steps-override: 3", NULL };
	static const char body[] = "{\"url\":\"https://example.com/\"}";
	struct test_org org;
	struct resp *r, *g;
	json_object *v;
	char path[128];

	test_org_new(&org, "api-override");
	r = api_call("POST", "/api/v1/tasks", org.key, body, strlen(body), hdr);
	cr_assert_eq(r->status, 200, "%s", r->body);
	snprintf(path, sizeof(path), "/api/v1/tasks/%s", jstr(r->json, "task_id"));
	g = api_get(path, org.key);
	cr_assert(json_object_object_get_ex(g->json, "max_steps_per_run", &v));
	cr_assert_eq(json_object_get_int(v), 3);
	resp_free(r);
	resp_free(g);
}

Test(api, bearer_authorization_accepted)
{
	struct test_org org;
	char auth[200];
	const char *hdr[] = { auth, NULL };
	struct resp *r;

	test_org_new(&org, "api-bearer");
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", org.key);
	r = api_call("GET", "/api/v1/tasks", NULL, NULL, 0, hdr);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	resp_free(r);
}

/* POSTs body to /api/v1/tasks with key and one extra header (or none); returns the status. */
static long create_status(const char *key, const char *body, const char *header)
{
	const char *hdr[] = { header, NULL };
	struct resp *r = api_call("POST", "/api/v1/tasks", key, body, strlen(body),
				  header ? hdr : NULL);
	long status = r->status;

	if (status == 403)
		cr_assert_str_eq(jstr(r->json, "detail"), "Invalid credentials");
	resp_free(r);
	return status;
}

/*
 * POST /api/v1/tasks checks the key in its INSERT: a bad key stores
 * nothing and is 403 whatever else is wrong with the request (the answers
 * the router gave when it looked the key up first), a revoked key too,
 * and an Idempotency-Key belongs to the organization, whichever of its
 * keys presents it.
 */
Test(api, create_checks_the_key)
{
	static const char bad_key[] = "sx_notakeynotakeynotakeynotakeynotakeynotakey0";
	struct test_org org;
	char *key2, hdr[96];
	struct resp *r;
	char id[64];

	test_org_new(&org, "api-create-key");
	cr_assert_eq(create_status(bad_key, seed_body, NULL), 403);
	cr_assert_eq(create_status(bad_key, "{\"no_url\":1}", NULL), 403, "bad key before 422");
	cr_assert_eq(create_status(bad_key, "not json", NULL), 403, "bad key before 400");
	cr_assert_eq(create_status(bad_key, seed_body, "x-max-steps-override: many"), 403);
	cr_assert_eq(create_status(NULL, seed_body, NULL), 403, "no key");
	cr_assert_eq(create_status(org.key, "{\"no_url\":1}", NULL), 422, "good key, bad body");
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", org.id), 0);

	snprintf(hdr, sizeof(hdr), "Idempotency-Key: create-checks-the-key");
	r = api_call("POST", "/api/v1/tasks", org.key, seed_body, strlen(seed_body),
		     (const char *const[]){ hdr, NULL });
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	snprintf(id, sizeof(id), "%s", jstr(r->json, "task_id"));
	resp_free(r);
	cr_assert_eq(create_status(bad_key, seed_body, hdr), 403, "bad key, a live Idempotency-Key");
	key2 = admin("key create --org %s", org.id);
	cr_assert_not_null(key2);
	r = api_call("POST", "/api/v1/tasks", key2, seed_body, strlen(seed_body),
		     (const char *const[]){ hdr, NULL });
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(r->json, "task_id"), id, "the organization's other key replays its task");
	resp_free(r);
	free(admin("key revoke %s", key2));
	cr_assert_eq(create_status(key2, seed_body, NULL), 403, "revoked key");
	cr_assert_eq(create_status(key2, seed_body, hdr), 403, "revoked key, a live Idempotency-Key");
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", org.id), 1);
	free(key2);
}

/* GET /api/v1/tasks/{id} checks the key in the query that reads the task. */
Test(api, get_task_checks_the_key)
{
	struct test_org org;
	char *id, *key2, path[128];
	struct resp *r;

	test_org_new(&org, "api-get-key");
	id = create_task(org.key, "https://example.com/");
	snprintf(path, sizeof(path), "/api/v1/tasks/%s", id);
	r = api_get(path, NULL);
	cr_assert_eq(r->status, 403, "no key: %ld", r->status);
	cr_assert_str_eq(jstr(r->json, "detail"), "Invalid credentials");
	resp_free(r);
	r = api_get(path, "sx_notakeynotakeynotakeynotakeynotakeynotakey0");
	cr_assert_eq(r->status, 403, "wrong key: %ld", r->status);
	resp_free(r);
	key2 = admin("key create --org %s", org.id);
	cr_assert_not_null(key2);
	r = api_get(path, key2);
	cr_assert_eq(r->status, 200, "second key: %ld", r->status);
	resp_free(r);
	free(admin("key revoke %s", key2));
	r = api_get(path, key2);
	cr_assert_eq(r->status, 403, "revoked key: %ld", r->status);
	resp_free(r);
	r = api_get("/api/v1/tasks/not-a-task-id", "sx_wrong");
	cr_assert_eq(r->status, 403, "malformed id, wrong key: %ld", r->status);
	resp_free(r);
	r = api_get("/api/v1/tasks/not-a-task-id", org.key);
	cr_assert_eq(r->status, 404, "malformed id, good key: %ld", r->status);
	resp_free(r);
	free(key2);
	free(id);
}
