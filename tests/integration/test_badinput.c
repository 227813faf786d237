/*
 * Bad input: each request is answered with the documented 4xx JSON error,
 * writes no row, and the worker goes on serving the next request.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "client.h"
#include "buf.h"

static struct test_org org;

static void setup(void)
{
	test_org_new(&org, "badinput");
}

TestSuite(badinput, .init = setup);

static long long task_rows(void)
{
	return db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", org.id);
}

/* The API still answers a good request after the bad one. */
static void assert_still_serving(void)
{
	struct resp *r = api_get("/api/v1/tasks?page_size=1", org.key);

	cr_assert_eq(r->status, 200, "next request: %ld %s", r->status, r->body);
	resp_free(r);
}

static void assert_error(struct resp *r, long status)
{
	json_object *d = jget(r, "detail");

	cr_assert_eq(r->status, status, "want %ld, got %ld: %.300s", status, r->status, r->body);
	cr_assert(strncmp(r->content_type, "application/json", 16) == 0,
		  "Content-Type %s for %ld", r->content_type, r->status);
	cr_assert_not_null(d, "no detail in %.300s", r->body);
}

/* POSTs a body (len bytes) and checks status, JSON error, no row, still serving. */
static void post_bad(const char *body, size_t len, long status, const char *field)
{
	long long before = task_rows();
	struct resp *r = api_call("POST", "/api/v1/tasks", org.key, body, len, NULL);

	assert_error(r, status);
	if (status == 422 && field) {
		json_object *d = jget(r, "detail"), *e, *loc;

		cr_assert(json_object_is_type(d, json_type_array), "422 detail is a list: %s", r->body);
		e = json_object_array_get_idx(d, 0);
		cr_assert(json_object_object_get_ex(e, "loc", &loc));
		cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(loc, 0)), "body");
		if (*field)
			cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(loc, 1)), field);
		cr_assert_not_null(jstr(e, "msg"));
		cr_assert_not_null(jstr(e, "type"));
	}
	cr_assert_eq(task_rows(), before, "a row was written");
	resp_free(r);
	assert_still_serving();
}

#define POST_BAD(lit, status, field) post_bad(lit, sizeof(lit) - 1, status, field)

Test(badinput, body_not_json) { POST_BAD("this is not json", 422, ""); }
Test(badinput, body_empty) { POST_BAD("", 422, ""); }
Test(badinput, body_is_array) { POST_BAD("[{\"url\":\"https://example.com\"}]", 422, ""); }
Test(badinput, body_is_string) { POST_BAD("\"https://example.com\"", 422, ""); }
Test(badinput, missing_url) { POST_BAD("{\"navigation_goal\":\"x\"}", 422, "url"); }
Test(badinput, url_is_number) { POST_BAD("{\"url\":12345}", 422, "url"); }
Test(badinput, url_ftp) { POST_BAD("{\"url\":\"ftp://example.com/file\"}", 400, NULL); }
Test(badinput, url_javascript) { POST_BAD("{\"url\":\"javascript:alert(1)\"}", 400, NULL); }
Test(badinput, url_file) { POST_BAD("{\"url\":\"file:///etc/passwd\"}", 400, NULL); }
Test(badinput, webhook_not_http) { POST_BAD("{\"url\":\"https://e.com\",\"webhook_callback_url\":\"gopher://x\"}", 400, NULL); }
Test(badinput, goal_wrong_type) { POST_BAD("{\"url\":\"https://e.com\",\"navigation_goal\":[1]}", 422, "navigation_goal"); }
Test(badinput, invalid_utf8) { POST_BAD("{\"url\":\"https://e.com\",\"navigation_goal\":\"caf\xc3\x28 \xff\"}", 422, ""); }
Test(badinput, nul_byte_raw) { POST_BAD("{\"url\":\"https://e.com\",\"navigation_goal\":\"a\0b\"}", 422, ""); }
Test(badinput, nul_byte_escaped) { POST_BAD("{\"url\":\"https://e.com\",\"navigation_goal\":\"a\\u0000b\"}", 422, ""); }

Test(badinput, url_2084_characters)
{
	static const char head[] = "{\"url\":\"https://example.com/";
	size_t urllen = 2084, pathlen = urllen - (sizeof("https://example.com/") - 1);
	struct sx_buf b;

	sx_buf_init(&b, 1 << 20);
	sx_buf_puts(&b, head);
	for (size_t i = 0; i < pathlen; i++)
		sx_buf_putc(&b, 'a');
	sx_buf_puts(&b, "\"}");
	post_bad(b.data, b.len, 400, NULL);
	sx_buf_release(&b);
}

Test(badinput, nested_100000_levels)
{
	size_t depth = 100000;
	struct sx_buf b;

	sx_buf_init(&b, 1 << 20);
	sx_buf_puts(&b, "{\"url\":\"https://example.com\",\"navigation_payload\":");
	for (size_t i = 0; i < depth; i++)
		sx_buf_putc(&b, '[');
	for (size_t i = 0; i < depth; i++)
		sx_buf_putc(&b, ']');
	sx_buf_putc(&b, '}');
	post_bad(b.data, b.len, 422, "");
	sx_buf_release(&b);
}

static void post_big(size_t size, long status)
{
	struct sx_buf b;

	sx_buf_init(&b, size + 64);
	sx_buf_puts(&b, "{\"url\":\"https://example.com\",\"navigation_goal\":\"");
	while (b.len < size)
		sx_buf_putc(&b, 'x');
	sx_buf_puts(&b, "\"}");
	post_bad(b.data, b.len, status, NULL);
	sx_buf_release(&b);
}

/* Over the API's cap (1 MiB) but under nginx's: the API answers. */
Test(badinput, body_over_api_limit) { post_big((1 << 20) + 1000, 413); }
/* Over nginx's cap too: nginx answers, still as JSON. */
Test(badinput, body_over_nginx_limit) { post_big(3 << 20, 413); }

static void get_bad(const char *path, long status)
{
	struct resp *r = api_get(path, org.key);

	assert_error(r, status);
	resp_free(r);
	assert_still_serving();
}

Test(badinput, page_zero) { get_bad("/api/v1/tasks?page=0", 422); }
Test(badinput, page_size_zero) { get_bad("/api/v1/tasks?page_size=0", 422); }
Test(badinput, page_size_101) { get_bad("/api/v1/tasks?page_size=101", 422); }
Test(badinput, page_size_abc) { get_bad("/api/v1/tasks?page_size=abc", 422); }
Test(badinput, task_status_unknown) { get_bad("/api/v1/tasks?task_status=sleeping", 422); }
/*
 * json-c takes these numbers: the first five would be served back as sent,
 * the last stored as 18446744073709551615.
 */
Test(badinput, numbers_not_in_json_form)
{
	static const char *const bad[] = { "1.", "-.5", "1.e5", "[0.]", "-00.25",
					   "123456789012345678901234567890" };
	char body[128];
	int n;

	for (size_t i = 0; i < SX_ARRAY_LEN(bad); i++) {
		n = snprintf(body, sizeof(body),
			     "{\"url\":\"https://example.com\",\"navigation_payload\":%s}", bad[i]);
		post_bad(body, (size_t)n, 422, "");
	}
}

static void override_bad(const char *value)
{
	static const char body[] = "{\"url\":\"https://example.com\"}";
	char h[64];
	const char *hdr[] = { h, NULL };
	long long before = task_rows();
	struct resp *r;

	snprintf(h, sizeof(h), "x-max-steps-override: %s", value);
	r = api_call("POST", "/api/v1/tasks", org.key, body, sizeof(body) - 1, hdr);
	assert_error(r, 422);
	cr_assert_eq(task_rows(), before);
	resp_free(r);
	assert_still_serving();
}

Test(badinput, override_zero) { override_bad("0"); }
Test(badinput, override_abc) { override_bad("abc"); }
Test(badinput, override_huge) { override_bad("99999999999"); }

static void key_bad(const char *key, bool send_header)
{
	static const char body[] = "{\"url\":\"https://example.com\"}";
	char h[200];
	const char *hdr[] = { h, NULL };
	long long before = task_rows();
	struct resp *r;

	snprintf(h, sizeof(h), "x-api-key: %s", key ? key : "");
	r = api_call("POST", "/api/v1/tasks", NULL, body, sizeof(body) - 1, send_header ? hdr : NULL);
	assert_error(r, 403);
	cr_assert_str_eq(jstr(r->json, "detail"), "Invalid credentials");
	resp_free(r);
	r = api_call("GET", "/api/v1/tasks", NULL, NULL, 0, send_header ? hdr : NULL);
	assert_error(r, 403);
	resp_free(r);
	cr_assert_eq(task_rows(), before);
	assert_still_serving();
}

Test(badinput, api_key_missing) { key_bad(NULL, false); }
Test(badinput, api_key_empty) { key_bad("", true); }
Test(badinput, api_key_wrong) { key_bad("sx_thisisnotakeythisisnotakeythisisnotakey123", true); }

Test(badinput, api_key_revoked)
{
	struct test_org other;
	char *out;

	test_org_new(&other, "badinput-revoked");
	out = admin("key revoke %s", other.key);
	cr_assert_not_null(out, "revoke failed");
	free(out);
	key_bad(other.key, true);
}

Test(badinput, unknown_route)
{
	struct resp *r = api_get("/api/v1/nothing-here", org.key);

	assert_error(r, 404);
	resp_free(r);
	r = api_get("/api/v1/tasks/tsk_01hzzzzzzzzzzzzzzzzzzzzzzz/bogus", org.key);
	assert_error(r, 404);
	resp_free(r);
	assert_still_serving();
}

Test(badinput, wrong_method)
{
	struct resp *r = api_call("DELETE", "/api/v1/tasks", org.key, NULL, 0, NULL);

	assert_error(r, 405);
	resp_free(r);
	r = api_call("PUT", "/api/v1/tasks/tsk_01hzzzzzzzzzzzzzzzzzzzzzzz", org.key, NULL, 0, NULL);
	assert_error(r, 405);
	resp_free(r);
	r = api_call("GET", "/api/v1/tasks/tsk_01hzzzzzzzzzzzzzzzzzzzzzzz/cancel", org.key, NULL, 0, NULL);
	assert_error(r, 405);
	resp_free(r);
	assert_still_serving();
}

Test(badinput, unknown_task_is_404)
{
	struct resp *r = api_get("/api/v1/tasks/tsk_01hzzzzzzzzzzzzzzzzzzzzzzz", org.key);

	assert_error(r, 404);
	cr_assert_str_eq(jstr(r->json, "detail"), "Task tsk_01hzzzzzzzzzzzzzzzzzzzzzzz not found");
	resp_free(r);
}
