/*
 * Validation of a create request (core/task.c), answered the way the API
 * answers it (fcgi/errors.c renders the refusal), so these tests pin the
 * response bodies too.
 */
#include "task.h"
#include "errors.h"
#include "buf.h"
#include "conf.h"

#include <criterion/criterion.h>

#define DEPTH SX_JSON_MAX_DEPTH

struct outcome {
	enum sx_rc rc;
	int status;
	json_object *request;
	json_object *error;
};

/* The caps the API applies with the default configuration. */
static struct task_limits default_limits(void)
{
	struct task_limits lim;
	struct sx_conf c;

	sx_conf_defaults(&c);
	task_limits_init(&lim, &c);
	sx_conf_release(&c);
	return lim;
}

static struct outcome parse_len(const char *body, size_t len)
{
	struct outcome r = { SX_OK, 200, (json_object *)1, NULL };
	struct sx_invalid why = { SX_INVALID_VALUE, "junk", "junk", NULL };
	struct task_limits lim = default_limits();

	r.rc = task_request_parse(body, len, DEPTH, &lim, &r.request, &why);
	if (r.rc)
		r.error = http_error_invalid(&why, &r.status);
	else
		cr_assert_null(why.msg);
	sx_invalid_release(&why);
	if (r.rc == SX_OK) {
		cr_assert_not_null(r.request);
		cr_assert_null(r.error);
		cr_assert_eq(r.status, 200);
	} else {
		cr_assert_eq(r.rc, SX_EINVAL);
		cr_assert_null(r.request);
		cr_assert_not_null(r.error);
	}
	return r;
}

static struct outcome parse(const char *body)
{
	return parse_len(body, strlen(body));
}

static void outcome_release(struct outcome *r)
{
	json_object_put(r->request);
	json_object_put(r->error);
}

/* Asserts a 422 whose single detail item has the given loc field and type. */
static void expect_422(const char *body, size_t len, const char *field, const char *type)
{
	struct outcome r = parse_len(body, len);
	json_object *detail, *item, *loc, *v;

	cr_assert_eq(r.status, 422, "status %d for %s", r.status, body);
	cr_assert(json_object_object_get_ex(r.error, "detail", &detail));
	cr_assert(json_object_is_type(detail, json_type_array));
	cr_assert_eq(json_object_array_length(detail), 1);
	item = json_object_array_get_idx(detail, 0);
	cr_assert(json_object_object_get_ex(item, "loc", &loc));
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(loc, 0)), "body");
	if (field) {
		cr_assert_eq(json_object_array_length(loc), 2);
		cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(loc, 1)), field);
	} else {
		cr_assert_eq(json_object_array_length(loc), 1);
	}
	cr_assert(json_object_object_get_ex(item, "msg", &v));
	cr_assert(json_object_is_type(v, json_type_string));
	if (type) {
		cr_assert(json_object_object_get_ex(item, "type", &v));
		cr_assert_str_eq(json_object_get_string(v), type);
	}
	outcome_release(&r);
}

static void expect_422s(const char *body, const char *field, const char *type)
{
	expect_422(body, strlen(body), field, type);
}

/* Asserts a 400 {"detail": "<prefix>…"}. */
static void expect_400(const char *body, const char *prefix)
{
	struct outcome r = parse(body);
	json_object *v;

	cr_assert_eq(r.status, 400, "status %d for %.200s", r.status, body);
	cr_assert(json_object_object_get_ex(r.error, "detail", &v));
	cr_assert(json_object_is_type(v, json_type_string));
	cr_assert_eq(strncmp(json_object_get_string(v), prefix, strlen(prefix)), 0,
		     "detail '%s' does not start with '%s'", json_object_get_string(v), prefix);
	outcome_release(&r);
}

static void expect_ok(const char *body)
{
	struct outcome r = parse(body);

	cr_assert_eq(r.rc, SX_OK, "rejected %.200s: %s", body,
		     r.error ? json_object_to_json_string(r.error) : "");
	outcome_release(&r);
}

Test(request, full_request_is_normalized)
{
	static const char *const order[] = {
		"url", "navigation_goal", "data_extraction_goal", "navigation_payload", "proxy_location",
		"extracted_information_schema", "webhook_callback_url", "totp_verification_url",
		"totp_identifier", "title", "error_code_mapping", "extra_http_headers", "max_steps",
	};
	struct outcome r = parse(
		"{\"url\":\"https://www.example.com/shop?q=1\","
		"\"navigation_goal\":\"Find the price\","
		"\"data_extraction_goal\":\"Extract the price\","
		"\"navigation_payload\":{\"name\":\"Ada\",\"n\":[1,2]},"
		"\"proxy_location\":\"RESIDENTIAL_GB\","
		"\"extracted_information_schema\":{\"type\":\"object\"},"
		"\"webhook_callback_url\":\"http://hooks.example.com:8080/cb\","
		"\"totp_verification_url\":\"https://otp.example.com/code\","
		"\"totp_identifier\":\"ada@example.com\","
		"\"title\":\"Price check\","
		"\"error_code_mapping\":{\"OUT_OF_STOCK\":\"the item is out of stock\"},"
		"\"extra_http_headers\":{\"X-Test\":\"1\"},"
		"\"max_steps\":5,"
		"\"some_unknown_field\":true}");
	size_t i = 0;

	cr_assert_eq(r.rc, SX_OK);
	json_object_object_foreach(r.request, key, val) {
		(void)val;
		cr_assert_lt(i, SX_ARRAY_LEN(order), "extra key %s", key);
		cr_assert_str_eq(key, order[i]);
		i++;
	}
	cr_assert_eq(i, SX_ARRAY_LEN(order));
	cr_assert_str_eq(json_object_to_json_string_ext(r.request, JSON_C_TO_STRING_PLAIN),
			 "{\"url\":\"https:\\/\\/www.example.com\\/shop?q=1\","
			 "\"navigation_goal\":\"Find the price\","
			 "\"data_extraction_goal\":\"Extract the price\","
			 "\"navigation_payload\":{\"name\":\"Ada\",\"n\":[1,2]},"
			 "\"proxy_location\":\"RESIDENTIAL_GB\","
			 "\"extracted_information_schema\":{\"type\":\"object\"},"
			 "\"webhook_callback_url\":\"http:\\/\\/hooks.example.com:8080\\/cb\","
			 "\"totp_verification_url\":\"https:\\/\\/otp.example.com\\/code\","
			 "\"totp_identifier\":\"ada@example.com\","
			 "\"title\":\"Price check\","
			 "\"error_code_mapping\":{\"OUT_OF_STOCK\":\"the item is out of stock\"},"
			 "\"extra_http_headers\":{\"X-Test\":\"1\"},"
			 "\"max_steps\":5}");
	outcome_release(&r);
}

Test(request, minimal_request_gets_nulls_and_default_proxy)
{
	struct outcome r = parse("  {\"url\":\"http://example.com\"}\n");

	cr_assert_eq(r.rc, SX_OK);
	cr_assert_str_eq(json_object_to_json_string_ext(r.request, JSON_C_TO_STRING_PLAIN),
			 "{\"url\":\"http:\\/\\/example.com\",\"navigation_goal\":null,"
			 "\"data_extraction_goal\":null,\"navigation_payload\":null,"
			 "\"proxy_location\":\"RESIDENTIAL\",\"extracted_information_schema\":null,"
			 "\"webhook_callback_url\":null,\"totp_verification_url\":null,"
			 "\"totp_identifier\":null}");
	outcome_release(&r);
}

Test(request, null_is_the_same_as_absent)
{
	struct outcome r = parse("{\"url\":\"https://a.b\",\"navigation_goal\":null,\"proxy_location\":null,"
				 "\"title\":null,\"max_steps\":null,\"extra_http_headers\":null,"
				 "\"extracted_information_schema\":null,\"webhook_callback_url\":null}");
	json_object *v;

	cr_assert_eq(r.rc, SX_OK);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(r.request, "proxy_location")),
			 "RESIDENTIAL");
	cr_assert_not(json_object_object_get_ex(r.request, "title", NULL));
	cr_assert_not(json_object_object_get_ex(r.request, "max_steps", NULL));
	cr_assert_not(json_object_object_get_ex(r.request, "extra_http_headers", NULL));
	cr_assert(json_object_object_get_ex(r.request, "navigation_goal", &v));
	cr_assert_null(v);
	outcome_release(&r);
	expect_422s("{\"url\":null}", "url", "missing");
}

Test(request, missing_url_is_422)
{
	expect_422s("{}", "url", "missing");
	expect_422s("{\"navigation_goal\":\"x\"}", "url", "missing");
	{
		struct outcome r = parse("{}");
		json_object *item = json_object_array_get_idx(json_object_object_get(r.error, "detail"), 0);

		cr_assert_str_eq(json_object_get_string(json_object_object_get(item, "msg")), "Field required");
		outcome_release(&r);
	}
}

Test(request, wrong_types_are_422)
{
	expect_422s("{\"url\":42}", "url", "string_type");
	expect_422s("{\"url\":[\"http://a.b\"]}", "url", "string_type");
	expect_422s("{\"url\":\"http://a.b\",\"navigation_goal\":1}", "navigation_goal", "string_type");
	expect_422s("{\"url\":\"http://a.b\",\"data_extraction_goal\":{}}", "data_extraction_goal", "string_type");
	expect_422s("{\"url\":\"http://a.b\",\"webhook_callback_url\":true}", "webhook_callback_url", "string_type");
	expect_422s("{\"url\":\"http://a.b\",\"proxy_location\":1}", "proxy_location", "string_type");
	expect_422s("{\"url\":\"http://a.b\",\"totp_verification_url\":[]}", "totp_verification_url", "string_type");
	expect_422s("{\"url\":\"http://a.b\",\"totp_identifier\":5}", "totp_identifier", "string_type");
	expect_422s("{\"url\":\"http://a.b\",\"title\":false}", "title", "string_type");
	expect_422s("{\"url\":\"http://a.b\",\"max_steps\":\"5\"}", "max_steps", "int_type");
	expect_422s("{\"url\":\"http://a.b\",\"max_steps\":2.5}", "max_steps", "int_type");
	expect_422s("{\"url\":\"http://a.b\",\"max_steps\":0}", "max_steps", "greater_than_equal");
	expect_422s("{\"url\":\"http://a.b\",\"max_steps\":-3}", "max_steps", "greater_than_equal");
	expect_422s("{\"url\":\"http://a.b\",\"extracted_information_schema\":5}",
		    "extracted_information_schema", NULL);
	expect_422s("{\"url\":\"http://a.b\",\"extra_http_headers\":[]}", "extra_http_headers", "dict_type");
	expect_422s("{\"url\":\"http://a.b\",\"extra_http_headers\":{\"a\":1}}", "extra_http_headers", NULL);
	expect_422s("{\"url\":\"http://a.b\",\"error_code_mapping\":\"x\"}", "error_code_mapping", "dict_type");
}

Test(request, type_errors_win_over_value_errors)
{
	expect_422s("{\"url\":\"ftp://a.b\",\"title\":1}", "title", "string_type");
}

Test(request, body_that_is_not_an_object_is_422)
{
	expect_422s("[{\"url\":\"http://a.b\"}]", NULL, NULL);
	expect_422s("\"http://a.b\"", NULL, NULL);
	expect_422s("42", NULL, NULL);
	expect_422s("null", NULL, NULL);
	expect_422s("", NULL, NULL);
	expect_422s("   ", NULL, NULL);
	expect_422s("{\"url\":", NULL, "json_invalid");
	expect_422s("{\"url\":\"http://a.b\"} {}", NULL, "json_invalid");
	expect_422s("{'url':'http://a.b'}", NULL, "json_invalid");
	expect_422s("{\"url\":\"http://a.b\",}", NULL, "json_invalid");
	expect_422(NULL, 0, NULL, NULL);
}

Test(request, bad_schemes_are_400)
{
	expect_400("{\"url\":\"ftp://example.com/file\"}", "Invalid URL: ftp://example.com/file");
	expect_400("{\"url\":\"javascript:alert(1)\"}", "Invalid URL: ");
	expect_400("{\"url\":\"file:///etc/passwd\"}", "Invalid URL: ");
	expect_400("{\"url\":\"data:text/html,hi\"}", "Invalid URL: ");
	expect_400("{\"url\":\"example.com\"}", "Invalid URL: ");
	expect_400("{\"url\":\"//example.com\"}", "Invalid URL: ");
	expect_400("{\"url\":\"\"}", "Invalid URL: ");
	expect_ok("{\"url\":\"HTTPS://EXAMPLE.COM\"}");
	expect_ok("{\"url\":\"HtTp://example.com\"}");
}

Test(request, urls_need_a_host_and_no_blanks)
{
	expect_400("{\"url\":\"http://\"}", "Invalid URL: ");
	expect_400("{\"url\":\"http:///path\"}", "Invalid URL: ");
	expect_400("{\"url\":\"https://user@/x\"}", "Invalid URL: ");
	expect_400("{\"url\":\"http://exa mple.com\"}", "Invalid URL: ");
	expect_400("{\"url\":\" http://example.com\"}", "Invalid URL: ");
	expect_400("{\"url\":\"http://example.com/\\tx\"}", "Invalid URL: ");
	expect_400("{\"url\":\"http://example.com/\\n\"}", "Invalid URL: ");
	expect_400("{\"url\":\"http://example.com:99999/\"}", "Invalid URL: ");
	expect_400("{\"url\":\"http://example.com:80a/\"}", "Invalid URL: ");
	expect_400("{\"url\":\"http://[zz]/\"}", "Invalid URL: ");
	expect_ok("{\"url\":\"http://user:pw@example.com:8080/a?b=c#d\"}");
	expect_ok("{\"url\":\"http://[::1]:8080/\"}");
	expect_ok("{\"url\":\"http://127.0.0.1\"}");
	expect_ok("{\"url\":\"https://b\\u00fccher.example/\"}");
}

Test(request, webhook_and_totp_urls_are_checked_too)
{
	expect_400("{\"url\":\"http://a.b\",\"webhook_callback_url\":\"ftp://a.b\"}", "Invalid URL: ftp://a.b");
	expect_400("{\"url\":\"http://a.b\",\"totp_verification_url\":\"nope\"}", "Invalid URL: nope");
}

/* Builds {"url":"http://example.com/aaa…"} with a URL of exactly n characters. */
static char *body_with_url_of_length(size_t n)
{
	static const char head[] = "http://example.com/";
	char *url = xmalloc(n + 1);
	char *body;

	cr_assert_geq(n, sizeof(head) - 1);
	memcpy(url, head, sizeof(head) - 1);
	memset(url + sizeof(head) - 1, 'a', n - (sizeof(head) - 1));
	url[n] = '\0';
	body = xasprintf("{\"url\":\"%s\"}", url);
	free(url);
	return body;
}

Test(request, url_length_limit_is_2083)
{
	char *ok = body_with_url_of_length(2083);
	char *bad = body_with_url_of_length(2084);
	struct outcome r;
	json_object *v;

	expect_ok(ok);
	expect_400(bad, "Invalid URL: http://example.com/aaa");
	r = parse(bad);
	cr_assert(json_object_object_get_ex(r.error, "detail", &v));
	cr_assert_lt(json_object_get_string_len(v), 400, "the echoed URL is cut");
	outcome_release(&r);
	free(ok);
	free(bad);
}

Test(request, invalid_utf8_is_422)
{
	expect_422s("{\"url\":\"http://a.b\",\"title\":\"\xff\xfe\"}", NULL, "json_invalid");
	expect_422s("{\"url\":\"http://a.b\",\"title\":\"\xc3\"}", NULL, "json_invalid");
	expect_422s("{\"url\":\"http://a.b\",\"title\":\"\xed\xa0\x80\"}", NULL, "json_invalid");
	expect_422s("{\"url\":\"http://a.b\",\"title\":\"\xc0\x80\"}", NULL, "json_invalid");
	expect_422s("{\"url\":\"http://a.b\",\"title\":\"\xe0\x80\xaf\"}", NULL, "json_invalid");
	expect_422s("{\"url\":\"http://a.b\",\"title\":\"\xf4\x90\x80\x80\"}", NULL, "json_invalid");
	expect_422s("{\"url\":\"http://a.b\",\"title\":\"\xf0\x9f\x98\"}", NULL, "json_invalid");
	expect_ok("{\"url\":\"http://a.b\",\"title\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\ud83d\\ude00\"}");
}

Test(request, raw_nul_is_422)
{
	static const char body[] = "{\"url\":\"http://a.b\",\"title\":\"a\0b\"}";
	static const char after[] = "{\"url\":\"http://a.b\"}\0garbage";

	expect_422(body, sizeof(body) - 1, NULL, "json_invalid");
	expect_422(after, sizeof(after) - 1, NULL, "json_invalid");
}

Test(request, escaped_nul_is_422)
{
	expect_422s("{\"url\":\"http://a.b\",\"title\":\"a\\u0000b\"}", NULL, "json_invalid");
	expect_422s("{\"url\":\"http://a.b\\u0000.evil.com\"}", NULL, "json_invalid");
	expect_422s("{\"url\":\"http://a.b\",\"x\\u0000\":1}", NULL, "json_invalid");
	expect_422s("{\"url\":\"http://a.b\",\"navigation_payload\":[[\"\\u0000\"]]}", NULL, "json_invalid");
	/* An escaped backslash followed by u0000 is just text. */
	expect_ok("{\"url\":\"http://a.b\",\"title\":\"a\\\\u0000b\"}");
}

Test(request, deep_nesting_is_rejected_without_crashing)
{
	enum { DEEP = 100000 };
	char *body = xmalloc(2 * DEEP + 64);
	size_t n = 0;

	n += (size_t)snprintf(body, 64, "{\"url\":\"http://a.b\",\"navigation_payload\":");
	memset(body + n, '[', DEEP);
	n += DEEP;
	memset(body + n, ']', DEEP);
	n += DEEP;
	body[n++] = '}';
	body[n] = '\0';
	expect_422(body, n, NULL, "json_invalid");
	free(body);
	/* Nesting within the limit is fine. */
	expect_ok("{\"url\":\"http://a.b\",\"navigation_payload\":[[[[[[[[[[{}]]]]]]]]]]}");
}

Test(request, schema_as_string_is_parsed)
{
	struct outcome r = parse("{\"url\":\"http://a.b\",\"extracted_information_schema\":"
				 "\"{\\\"type\\\":\\\"object\\\",\\\"properties\\\":{\\\"price\\\":{\\\"type\\\":\\\"number\\\"}}}\"}");
	json_object *schema, *v;

	cr_assert_eq(r.rc, SX_OK);
	cr_assert(json_object_object_get_ex(r.request, "extracted_information_schema", &schema));
	cr_assert(json_object_is_type(schema, json_type_object));
	cr_assert(json_object_object_get_ex(schema, "type", &v));
	cr_assert_str_eq(json_object_get_string(v), "object");
	outcome_release(&r);

	r = parse("{\"url\":\"http://a.b\",\"extracted_information_schema\":[{\"a\":1}]}");
	cr_assert_eq(r.rc, SX_OK);
	cr_assert(json_object_is_type(json_object_object_get(r.request, "extracted_information_schema"),
				      json_type_array));
	outcome_release(&r);

	expect_400("{\"url\":\"http://a.b\",\"extracted_information_schema\":\"{not json\"}",
		   "Invalid extracted_information_schema");
	expect_400("{\"url\":\"http://a.b\",\"extracted_information_schema\":\"42\"}",
		   "Invalid extracted_information_schema");
	expect_400("{\"url\":\"http://a.b\",\"extracted_information_schema\":\"{} x\"}",
		   "Invalid extracted_information_schema");
}

Test(request, proxy_location_values)
{
	static const char *const good[] = {
		"RESIDENTIAL", "RESIDENTIAL_ES", "RESIDENTIAL_IE", "RESIDENTIAL_GB", "RESIDENTIAL_IN",
		"RESIDENTIAL_JP", "RESIDENTIAL_FR", "RESIDENTIAL_DE", "RESIDENTIAL_NZ", "RESIDENTIAL_ZA",
		"RESIDENTIAL_AR", "RESIDENTIAL_AU", "RESIDENTIAL_BR", "RESIDENTIAL_TR", "RESIDENTIAL_CA",
		"RESIDENTIAL_MX", "RESIDENTIAL_IT", "RESIDENTIAL_NL", "RESIDENTIAL_PH", "RESIDENTIAL_KR",
		"RESIDENTIAL_SA", "RESIDENTIAL_ISP", "NONE",
	};
	char body[128];
	size_t i;

	for (i = 0; i < SX_ARRAY_LEN(good); i++) {
		snprintf(body, sizeof(body), "{\"url\":\"http://a.b\",\"proxy_location\":\"%s\"}", good[i]);
		expect_ok(body);
	}
	expect_400("{\"url\":\"http://a.b\",\"proxy_location\":\"RESIDENTIAL_US\"}", "Invalid proxy_location");
	expect_400("{\"url\":\"http://a.b\",\"proxy_location\":\"residential\"}", "Invalid proxy_location");
	expect_400("{\"url\":\"http://a.b\",\"proxy_location\":\"\"}", "Invalid proxy_location");
}

Test(request, unknown_fields_are_dropped)
{
	struct outcome r = parse("{\"url\":\"http://a.b\",\"foo\":1,\"organization_id\":\"o_evil\","
				 "\"status\":\"completed\"}");

	cr_assert_eq(r.rc, SX_OK);
	cr_assert_not(json_object_object_get_ex(r.request, "foo", NULL));
	cr_assert_not(json_object_object_get_ex(r.request, "organization_id", NULL));
	cr_assert_not(json_object_object_get_ex(r.request, "status", NULL));
	cr_assert_eq(json_object_object_length(r.request), 9);
	outcome_release(&r);
}

Test(request, only_strict_json_is_accepted)
{
	static const char *const bad[] = {
		"1.", "-.5", "1.e5", "[0.]", "NaN", "Infinity", "-Infinity", "+1", "01",
		"\"\\ud800\"", "\"\\udc00x\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"a\x01\"",
		"18446744073709551616",
	};
	char body[128];
	size_t i;

	for (i = 0; i < SX_ARRAY_LEN(bad); i++) {
		snprintf(body, sizeof(body), "{\"url\":\"http://a.b\",\"navigation_payload\":%s}", bad[i]);
		expect_422s(body, NULL, "json_invalid");
	}
	expect_422s("{\"url\":\"http://a.b\"} x", NULL, "json_invalid");
}

/* What is stored is json-c's serialization of the value, never the client's digits. */
Test(request, numbers_are_stored_reserialized)
{
	struct outcome r = parse("{\"url\":\"http://a.b\",\"navigation_payload\":[1.50,2e3,0.1,-0.0,7]}");

	cr_assert_eq(r.rc, SX_OK);
	cr_assert_str_eq(json_object_to_json_string_ext(json_object_object_get(r.request, "navigation_payload"),
							JSON_C_TO_STRING_PLAIN),
			 "[1.5,2000.0,0.1,-0.0,7]");
	outcome_release(&r);
}

/* A body whose navigation_payload makes the whole body `depth` deep. */
static char *body_of_depth(int depth, bool schema_string)
{
	struct sx_buf b;
	int i;

	sx_buf_init(&b, 4096);
	sx_buf_puts(&b, schema_string ? "{\"url\":\"http://a.b\",\"extracted_information_schema\":\""
				      : "{\"url\":\"http://a.b\",\"navigation_payload\":");
	for (i = 1; i < depth; i++)
		sx_buf_putc(&b, '[');
	for (i = 1; i < depth; i++)
		sx_buf_putc(&b, ']');
	sx_buf_puts(&b, schema_string ? "\"}" : "}");
	return sx_buf_detach(&b, NULL);
}

Test(request, one_depth_limit_for_the_body_and_what_is_stored)
{
	struct outcome r;
	const char *stored;
	char *body;
	int depth;

	for (depth = SX_JSON_MAX_DEPTH - 1; depth <= SX_JSON_MAX_DEPTH + 1; depth++) {
		body = body_of_depth(depth, false);
		if (depth > SX_JSON_MAX_DEPTH) {
			expect_422s(body, NULL, "json_invalid");
		} else {
			r = parse(body);
			cr_assert_eq(r.rc, SX_OK, "depth %d", depth);
			stored = json_object_to_json_string_ext(r.request, JSON_C_TO_STRING_PLAIN);
			cr_assert_eq(sx_json_check(stored, strlen(stored), SX_JSON_MAX_DEPTH, NULL, 0), SX_OK);
			outcome_release(&r);
		}
		free(body);
	}
	/* A string schema is stored one level down, so it may nest one level less. */
	body = body_of_depth(SX_JSON_MAX_DEPTH, true);
	r = parse(body);
	cr_assert_eq(r.rc, SX_OK);
	stored = json_object_to_json_string_ext(r.request, JSON_C_TO_STRING_PLAIN);
	cr_assert_eq(sx_json_check(stored, strlen(stored), SX_JSON_MAX_DEPTH, NULL, 0), SX_OK);
	outcome_release(&r);
	free(body);
	body = body_of_depth(SX_JSON_MAX_DEPTH + 1, true);
	expect_400(body, "Invalid extracted_information_schema");
	free(body);
}

Test(request, literal_private_url_is_400_unless_allowed)
{
	struct outcome r = parse("{\"url\":\"http://127.0.0.2:9100/metrics\",\"navigation_goal\":\"x\"}");
	struct sx_invalid why = { SX_INVALID_VALUE, NULL, NULL, NULL };
	json_object *err;
	int status = 0;

	cr_assert_eq(r.rc, SX_OK);
	cr_assert_eq(task_request_check_address(r.request, "", &why), SX_EINVAL);
	err = http_error_invalid(&why, &status);
	cr_assert_eq(status, 400);
	cr_assert(strstr(json_object_to_json_string(err), "127.0.0.2 is a loopback address"),
		  "%s", json_object_to_json_string(err));
	json_object_put(err);
	sx_invalid_release(&why);
	cr_assert_eq(task_request_check_address(r.request, "127.0.0.0/8", &why), SX_OK);
	cr_assert_null(why.msg);
	outcome_release(&r);
	/* A name is checked when the browser goes there, not at create time. */
	r = parse("{\"url\":\"http://localhost:9100/\",\"navigation_goal\":\"x\"}");
	cr_assert_eq(task_request_check_address(r.request, "", &why), SX_OK);
	outcome_release(&r);
}

/* A body {"url":…,"<field>":<value>} where the value is n bytes as measured. */
static char *body_with(const char *field, size_t n, bool as_string)
{
	char *fill = xmalloc(n + 1), *body;

	memset(fill, 'a', n);
	fill[n] = '\0';
	if (as_string)
		body = xasprintf("{\"url\":\"https://example.com\",\"%s\":\"%s\"}", field, fill);
	else /* {"k":"…"} is n bytes of JSON when the string holds n - 8 */
		body = xasprintf("{\"url\":\"https://example.com\",\"%s\":{\"k\":\"%.*s\"}}",
				 field, (int)(n - 8), fill);
	free(fill);
	return body;
}

static void expect_cap(const char *field, size_t cap, bool as_string)
{
	char *at = body_with(field, cap, as_string), *over = body_with(field, cap + 1, as_string);

	expect_ok(at);
	expect_422s(over, field, as_string ? "string_too_long" : "too_long");
	free(at);
	free(over);
}

Test(request, every_field_cap_is_inclusive_and_names_the_field)
{
	struct task_limits lim = default_limits();

	expect_cap("navigation_goal", lim.goal, true);
	expect_cap("data_extraction_goal", lim.goal, true);
	expect_cap("navigation_payload", lim.payload, true);
	expect_cap("navigation_payload", lim.payload, false);
	expect_cap("extracted_information_schema", lim.schema, false);
	expect_cap("error_code_mapping", lim.mapping, false);
	expect_cap("extra_http_headers", lim.mapping, false);
	expect_cap("title", lim.text, true);
	expect_cap("totp_identifier", lim.text, true);
}

Test(request, caps_follow_the_config)
{
	struct sx_invalid why = { 0 };
	struct task_limits lim = default_limits();
	json_object *req = NULL;
	char *body = body_with("navigation_goal", 300, true);

	lim.goal = 299;
	cr_assert_eq(task_request_parse(body, strlen(body), DEPTH, &lim, &req, &why), SX_EINVAL);
	cr_assert_str_eq(why.field, "navigation_goal");
	cr_assert_str_eq(why.msg, "String should have at most 299 bytes");
	sx_invalid_release(&why);
	cr_assert_eq(task_request_parse(body, strlen(body), DEPTH, NULL, &req, &why), SX_OK,
		     "no caps without limits");
	json_object_put(req);
	free(body);
}

Test(request, type_errors_win_over_caps)
{
	char *body = body_with("navigation_goal", 1 << 20, true);
	char *typed = xasprintf("%.*s,\"title\":5}", (int)strlen(body) - 1, body);

	expect_422s(typed, "title", "string_type");
	free(typed);
	free(body);
}
