/*
 * TOTP / 2FA end to end (docs/api-contract.md, "TOTP / 2FA").
 *
 * totp_api: POST /api/v1/totp through nginx — the stored object, code
 * extraction from long content, the 422/400/404/403/405 answers, and
 * organization isolation.
 *
 * totp_agent: a real sextant-agent signs in to the login2fa fixture (email
 * and password, then "Enter the 6-digit code we sent you") with the LLM
 * test double answering from a script.  The double is told, for each code a
 * test expects, to type that code when the prompt says "Verification code
 * to enter: <code>", so the fixture's "Verified with code NNNNNN" shows
 * which code the agent was given.  Codes come from a push before and after
 * the agent reaches the prompt, from a verification URL (the TOTP endpoint
 * test double) that says "not yet" twice, and from a base32 secret in the
 * payload; with none, the task terminates with the documented reason.
 * Where the agent must be waiting for a code, the task also names a
 * verification URL that answers "not yet": its polls show the wait.  Every
 * test that sees a code entered checks that the code is in no step output,
 * no artifact file and no agent log line.
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "crypto.h"
#include "buf.h"
#include "client.h"
#include "db.h"
#include "http.h"
#include "id.h"
#include "sign.h"
#include "timeutil.h"
#include "totp_code.h"
#include "wait.h"

static struct test_org org;

/* The TOTP endpoint test double (tests/doubles/totp_endpoint.py, doubles.h). */
static struct test_double ep;

/* ---- helpers ------------------------------------------------------------- */

/* A fresh 6-digit code, so runs and tests never share one. */
static void random_code(char out[8])
{
	uint32_t r;

	crypto_random_bytes(&r, sizeof(r));
	snprintf(out, 8, "%06u", 100000u + r % 900000u);
}

static struct resp *push(const char *key, const char *body)
{
	return api_post_json("/api/v1/totp", key, body);
}

static void push_ok(const char *body)
{
	struct resp *r = push(org.key, body);

	cr_assert_eq(r->status, 200, "push: %ld %s", r->status, r->body);
	resp_free(r);
}

/*
 * The LLM script for the login fixture: for each expected code, type it
 * when the prompt gives it; otherwise sign in, ask for a code on the code
 * page, and complete on the "Verified" page.
 */
static char *login_script(const char *const *codes, size_t n)
{
	struct sx_buf b;

	sx_buf_init(&b, 1 << 20);
	sx_buf_puts(&b, "{\"rules\":[");
	for (size_t i = 0; i < n; i++)
		sx_buf_printf(&b,
			      "{\"kind\":\"decide\",\"match\":\"Verification code to enter: %s\",\"answers\":["
			      "{\"reasoning\":\"Type the code %s I was given\",\"actions\":["
			      "{\"action\":\"input_text\",\"label\":\"Verification code\",\"text\":\"%s\"},"
			      "{\"action\":\"click\",\"label\":\"Verify\"}]}]},",
			      codes[i], codes[i], codes[i]);
	sx_buf_puts(&b,
		    "{\"kind\":\"decide\",\"match\":\"Verified with code\",\"answers\":["
		    " {\"reasoning\":\"Signed in\",\"actions\":[{\"action\":\"complete\"}]}]},"
		    "{\"kind\":\"decide\",\"match\":\"Enter the 6-digit code\",\"answers\":["
		    " {\"reasoning\":\"The page asks for a code I do not have\",\"actions\":[],"
		    "  \"verification_code_needed\":true}]},"
		    "{\"kind\":\"decide\",\"match\":\"Sign in to your account\",\"answers\":["
		    " {\"reasoning\":\"Sign in\",\"actions\":["
		    "  {\"action\":\"input_text\",\"label\":\"Email\",\"text\":\"alice@example.com\"},"
		    "  {\"action\":\"input_text\",\"label\":\"Password\",\"text\":\"correct horse battery\"},"
		    "  {\"action\":\"click\",\"label\":\"Continue\"}]}]},"
		    "{\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"Signed in\"}]}"
		    "]}");
	return sx_buf_detach(&b, NULL);
}

/* A fresh code, and the login script (given to the LLM double) that types it; caller frees. */
static char *code_script(char code[8])
{
	const char *codes[1] = { code };
	char *script;

	random_code(code);
	script = login_script(codes, 1);
	llm_double_script(script);
	return script;
}

/* A task on the fixture; extra_payload and extra_fields are JSON members (may be ""). */
static char *login_task(const char *extra_payload, const char *extra_fields)
{
	char *url = site_url("login2fa/index.html");
	char *body = xasprintf(
		"{\"url\":\"%s\",\"navigation_goal\":\"Log in to Northwind online banking and pass "
		"the two-step check\",\"navigation_payload\":{\"email\":\"alice@example.com\","
		"\"password\":\"correct horse battery\"%s}%s}",
		url, extra_payload, extra_fields);

	free(url);
	return body;
}

/* The code the fixture's last page showed, from the prompts the double received ("" if none). */
static void shown_code(char out[16])
{
	json_object *reqs = llm_double_requests();
	static const char mark[] = "Verified with code ";

	out[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		const char *user = jstr(json_object_array_get_idx(reqs, i), "user");
		const char *p = user ? strstr(user, mark) : NULL;

		if (p) {
			p += strlen(mark);
			snprintf(out, 16, "%.*s", (int)strspn(p, "0123456789"), p);
		}
	}
	json_object_put(reqs);
}

/* The code page's prompt, which the agent reaches after signing in. */
#define CODE_PAGE "Enter the 6-digit code"

/*
 * Starts a login task for identifier whose verification URL is the
 * endpoint double (its script says "not yet"), and waits until the agent is
 * waiting for a code: it has asked the model about the code page, and it
 * polls the URL at least polls times.  It must not ask the model again
 * meanwhile: it waits for the code, it does not decide.  Returns the task's
 * id (caller frees).
 */
static char *start_waiting_for_a_code(const char *identifier, const char *overrides, size_t polls)
{
	struct llm_ask code_page = { "decide", CODE_PAGE, 1 };
	struct double_count polled = { &ep, polls };
	char *fields = xasprintf(",\"totp_identifier\":\"%s\",\"totp_verification_url\":\"%s/totp\"",
				 identifier, ep.url);
	char *body = login_task("", fields);
	char *id = start_task(&(struct task_run){ .key = org.key, .body = body, .overrides = overrides }, NULL);

	cr_assert(wait_until(llm_double_was_asked, &code_page, 120000), "the agent never reached the code page");
	cr_assert(wait_until(test_double_count_reached, &polled, 30000),
		  "the agent is not waiting for a code: %zu polls of the verification URL", test_double_count(&ep));
	cr_assert_eq(llm_double_asked("decide", CODE_PAGE), 1, "the model was asked again instead of waiting");
	free(body);
	free(fields);
	return id;
}

/* True when a step of the task says its code came from source. */
static bool code_came_from(const char *id, const char *source)
{
	json_object *steps = api_get_json(org.key, "/api/v1/tasks/%s/steps", id);
	bool hit = false;

	for (size_t i = 0; i < json_object_array_length(steps) && !hit; i++) {
		json_object *o;
		const char *src;

		if (!json_object_object_get_ex(json_object_array_get_idx(steps, i), "output", &o))
			continue;
		src = jstr(o, "verification_code_source");
		hit = src && strcmp(src, source) == 0;
	}
	json_object_put(steps);
	return hit;
}

static bool file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	struct sx_buf b;
	char chunk[65536];
	size_t n;
	bool hit;

	if (!f)
		return false;
	sx_buf_init(&b, SIZE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sx_buf_append(&b, chunk, n);
	fclose(f);
	hit = b.len && memmem(b.data, b.len, needle, strlen(needle)) != NULL;
	sx_buf_release(&b);
	return hit;
}

/*
 * A code pushed for identifier was used, and the table no longer holds it:
 * the used row has neither a code nor a message, and no row has the code.
 */
static void assert_code_used_and_erased(const char *identifier, const char *code)
{
	cr_assert_geq(db_count1("SELECT COUNT(*) FROM totp_codes WHERE LOWER(totp_identifier) = LOWER(?) "
				"AND used_at IS NOT NULL AND code IS NULL AND content = ''", identifier), 1);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM totp_codes WHERE code = ?", code), 0);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM totp_codes WHERE INSTR(content, ?) > 0", code), 0);
}

/* The code is in no step output, no artifact file of the task, and no agent log line. */
static void assert_code_hidden(const char *id, const char *code)
{
	static const char q[] = "SELECT path, type FROM artifacts WHERE task_id = ?";
	struct sx_rows *rows = NULL;
	char path[128];
	char *log = xasprintf("%s/log/agent-test.log", tenv("SX_VAR"));
	struct resp *r;
	size_t requests = 0;

	snprintf(path, sizeof(path), "/api/v1/tasks/%s/steps", id);
	r = api_get(path, org.key);
	cr_assert_eq(r->status, 200);
	cr_assert_null(strstr(r->body, code), "the code is in the steps: %s", r->body);
	cr_assert_not_null(strstr(r->body, "********"), "the typed code is not shown masked");
	resp_free(r);
	snprintf(path, sizeof(path), "/api/v1/tasks/%s", id);
	r = api_get(path, org.key);
	cr_assert_null(strstr(r->body, code), "the code is in the task: %s", r->body);
	resp_free(r);

	rows = db_rows1(q, id);
	for (size_t i = 0; i < rows->nrows; i++) {
		char *f = xasprintf("%s/artifacts/%s", tenv("SX_VAR"), sx_rows_get(rows, i, 0));

		cr_assert_not(file_has(f, code), "the code is in the artifact %s", f);
		if (strcmp(sx_rows_get(rows, i, 1), "llm_request") == 0)
			requests++;
		free(f);
	}
	cr_assert_gt(requests, 2, "too few LLM request artifacts to mean anything");
	sx_rows_free(rows);
	cr_assert_not(file_has(log, code), "the code is in the agent log %s", log);
	free(log);
}

/* ---- the API ------------------------------------------------------------- */

static void api_setup(void)
{
	test_org_new(&org, "totp-api");
}

TestSuite(totp_api, .init = api_setup, .timeout = 60);

Test(totp_api, short_content_is_the_code)
{
	struct resp *r = push(org.key, "{\"totp_identifier\":\"Alice@Example.com\",\"content\":\" 123456 \","
				       "\"source\":\"email\",\"expired_at\":\"2030-01-02T03:04:05Z\"}");
	json_object *v;

	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(sx_id_valid(jstr(r->json, "totp_code_id"), "totp_"), "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "totp_identifier"), "Alice@Example.com");
	cr_assert_str_eq(jstr(r->json, "code"), "123456");
	cr_assert_str_eq(jstr(r->json, "source"), "email");
	cr_assert_str_eq(jstr(r->json, "expired_at"), "2030-01-02T03:04:05.000000");
	cr_assert_eq(strlen(jstr(r->json, "created_at")), 26, "%s", r->body);
	cr_assert(json_object_object_get_ex(r->json, "task_id", &v) && v == NULL);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM totp_codes WHERE id = ? AND used_at IS NULL "
			       "AND code = '123456'", jstr(r->json, "totp_code_id")), 1);
	resp_free(r);
}

Test(totp_api, expiry_with_a_zone_offset_is_stored_in_utc)
{
	struct resp *r = push(org.key, "{\"totp_identifier\":\"x\",\"content\":\"4242\","
				       "\"expired_at\":\"2030-01-02T03:04:05.25+02:00\"}");

	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "expired_at"), "2030-01-02T01:04:05.250000");
	resp_free(r);
}

Test(totp_api, long_content_has_the_code_extracted)
{
	struct resp *r;

	r = push(org.key, "{\"totp_identifier\":\"bob@example.com\",\"content\":\"Hi Bob,\\n\\nYour "
			  "Northwind verification code is 739104. It expires in 10 minutes.\\n\\nCall us "
			  "on +1 (555) 123-4567 if this was not you. (c) 2025 Northwind\"}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "code"), "739104");
	resp_free(r);
}

/* No code in it: stored all the same, with a null code (the agent may ask its model). */
Test(totp_api, content_without_a_code_is_stored_with_a_null_code)
{
	struct resp *r = push(org.key, "{\"totp_identifier\":\"bob@example.com\",\"content\":\"Welcome to "
				       "Northwind! Your statement for May is ready.\"}");
	json_object *v;

	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(json_object_object_get_ex(r->json, "code", &v) && v == NULL, "%s", r->body);
	resp_free(r);
}

Test(totp_api, task_id_of_own_task_is_kept)
{
	char *mine = create_task(org.key, "https://example.com/");
	char *body = xasprintf("{\"totp_identifier\":\"a\",\"content\":\"55555\",\"task_id\":\"%s\"}", mine);
	struct resp *r = push(org.key, body);

	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "task_id"), mine);
	resp_free(r);
	free(body);
	free(mine);
}

/* Another organization's task is not found, exactly like an unknown one. */
Test(totp_api, task_id_of_another_org_is_not_found)
{
	struct test_org other;
	char *theirs, *body, *want;
	struct resp *r;

	test_org_new(&other, "totp-api-other");
	theirs = create_task(other.key, "https://example.com/");
	body = xasprintf("{\"totp_identifier\":\"a\",\"content\":\"55555\",\"task_id\":\"%s\"}", theirs);
	want = xasprintf("Task %s not found", theirs);
	r = push(org.key, body);
	cr_assert_eq(r->status, 404, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "detail"), want);
	resp_free(r);
	r = push(org.key, "{\"totp_identifier\":\"a\",\"content\":\"55555\",\"task_id\":\"tsk_nope\"}");
	cr_assert_eq(r->status, 404, "%s", r->body);
	resp_free(r);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM totp_codes WHERE task_id = ?", theirs), 0);
	free(want);
	free(body);
	free(theirs);
}

static void expect_422(const char *body, const char *field, const char *type)
{
	struct resp *r = push(org.key, body);
	json_object *d, *e, *loc;

	cr_assert_eq(r->status, 422, "%s -> %ld %s", body, r->status, r->body);
	cr_assert(json_object_object_get_ex(r->json, "detail", &d) && json_object_is_type(d, json_type_array));
	e = json_object_array_get_idx(d, 0);
	cr_assert_str_eq(jstr(e, "type"), type, "%s", r->body);
	cr_assert(json_object_object_get_ex(e, "loc", &loc));
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(loc, 0)), "body");
	if (field)
		cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(loc, 1)), field, "%s", r->body);
	resp_free(r);
}

static void expect_400(const char *body, const char *word)
{
	struct resp *r = push(org.key, body);

	cr_assert_eq(r->status, 400, "%s -> %ld %s", body, r->status, r->body);
	cr_assert_not_null(strstr(jstr(r->json, "detail"), word), "%s", r->body);
	resp_free(r);
}

Test(totp_api, missing_or_mistyped_fields_are_422)
{
	expect_422("{\"content\":\"123456\"}", "totp_identifier", "missing");
	expect_422("{\"totp_identifier\":\"a\"}", "content", "missing");
	expect_422("{\"totp_identifier\":\"a\",\"content\":null}", "content", "missing");
	expect_422("{\"totp_identifier\":7,\"content\":\"123456\"}", "totp_identifier", "string_type");
	expect_422("{\"totp_identifier\":\"a\",\"content\":123456}", "content", "string_type");
	expect_422("{\"totp_identifier\":\"a\",\"content\":\"1\",\"task_id\":5}", "task_id", "string_type");
	expect_422("{\"totp_identifier\":\"a\",\"content\":\"1\",\"expired_at\":[]}", "expired_at", "string_type");
	expect_422("{\"totp_identifier\":\"a\",", NULL, "json_invalid");
	expect_422("[1,2]", NULL, "model_attributes_type");
}

Test(totp_api, empty_oversized_or_unreadable_values_are_400)
{
	char *big, *body;

	expect_400("{\"totp_identifier\":\"\",\"content\":\"123456\"}", "totp_identifier");
	big = xcalloc(1, 70000);
	memset(big, 'x', 256);
	body = xasprintf("{\"totp_identifier\":\"%s\",\"content\":\"123456\"}", big);
	expect_400(body, "totp_identifier");
	free(body);
	expect_400("{\"totp_identifier\":\"a\",\"content\":\"\"}", "content");
	memset(big, 'y', 65536);
	body = xasprintf("{\"totp_identifier\":\"a\",\"content\":\"%s\"}", big);
	expect_400(body, "content");
	free(body);
	free(big);
	expect_400("{\"totp_identifier\":\"a\",\"content\":\"1\",\"expired_at\":\"tomorrow\"}", "expired_at");
	expect_400("{\"totp_identifier\":\"a\",\"content\":\"1\",\"expired_at\":\"2030-13-02T00:00:00\"}",
		   "expired_at");
}

Test(totp_api, body_over_the_limit_is_413)
{
	char *big = xcalloc(1, (1 << 20) + 2000), *body;
	struct resp *r;

	memset(big, 'z', (1 << 20) + 1000);
	body = xasprintf("{\"totp_identifier\":\"a\",\"content\":\"%s\"}", big);
	r = push(org.key, body);
	cr_assert_eq(r->status, 413, "%ld", r->status);
	resp_free(r);
	free(body);
	free(big);
}

Test(totp_api, without_a_valid_key_is_403)
{
	struct resp *r = push(NULL, "{\"totp_identifier\":\"a\",\"content\":\"123456\"}");

	cr_assert_eq(r->status, 403);
	resp_free(r);
	r = push("sx_wrongwrongwrong", "{\"totp_identifier\":\"a\",\"content\":\"123456\"}");
	cr_assert_eq(r->status, 403);
	resp_free(r);
}

Test(totp_api, get_is_405)
{
	struct resp *r = api_get("/api/v1/totp", org.key);

	cr_assert_eq(r->status, 405);
	resp_free(r);
}

/* ---- the agent ----------------------------------------------------------- */

static void agent_setup(void)
{
	agent_suite_init(&org, "totp-agent");
	totp_endpoint_start(&ep);
}

static void agent_teardown(void)
{
	agent_suite_fini();
	test_double_stop(&ep);
}

TestSuite(totp_agent, .init = agent_setup, .fini = agent_teardown, .timeout = 180);

#define AGENT_OVERRIDES "outbound_allow = 127.0.0.0/8\ntotp_poll_interval = 1\n"

static json_object *run_login(const char *body, const char *overrides, char **id_out)
{
	struct task_run run = { .key = org.key, .body = body, .overrides = overrides ? overrides : AGENT_OVERRIDES };

	return run_task(&run, id_out);
}

/*
 * Runs a login task with identifier (the code is already pushed) and checks
 * that the agent typed code, used it once, and showed it nowhere.
 */
static void login_uses_the_code(const char *identifier, const char *code)
{
	char shown[16], *id, *fields = xasprintf(",\"totp_identifier\":\"%s\"", identifier);
	char *body = login_task("", fields);
	json_object *t = run_login(body, NULL, &id);

	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	shown_code(shown);
	cr_assert_str_eq(shown, code);
	assert_code_used_and_erased(identifier, code);
	assert_code_hidden(id, code);
	json_object_put(t);
	free(id);
	free(body);
	free(fields);
}

Test(totp_agent, code_pushed_before_the_prompt)
{
	char code[8], *script = code_script(code);
	char *push_body = xasprintf("{\"totp_identifier\":\"alice@example.com\",\"content\":\"%s\"}", code);

	/* Pushed for the identifier in another case: e-mail identifiers match case-insensitively. */
	push_ok(push_body);
	login_uses_the_code("Alice@Example.COM", code);
	free(push_body);
	free(script);
}

/*
 * The code arrives while the agent waits at the code page.  The task also
 * names a verification URL that answers "not yet": its polls show the wait.
 */
Test(totp_agent, code_pushed_after_the_prompt_as_an_sms)
{
	char code[8], shown[16], *script = code_script(code), *push_body, *id;
	json_object *t;

	id = start_waiting_for_a_code("+15550100", AGENT_OVERRIDES, 2);
	/* A long SMS body, pushed for this task: the API reads the code out of it. */
	push_body = xasprintf("{\"totp_identifier\":\"+15550100\",\"task_id\":\"%s\",\"source\":\"sms\","
			      "\"content\":\"Northwind: %s is your verification code. Never share it. "
			      "Help: +1 555 010 0199\"}", id, code);
	push_ok(push_body);
	t = wait_final(org.key, id, 120);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	shown_code(shown);
	cr_assert_str_eq(shown, code);
	cr_assert(code_came_from(id, "pushed code"), "the code did not come from the push");
	assert_code_hidden(id, code);
	json_object_put(t);
	free(id);
	free(push_body);
	free(script);
}

Test(totp_agent, verification_url_not_yet_twice_then_a_code)
{
	char code[8], shown[16], *script, *body, *fields, *ep_script, *id;
	json_object *t, *reqs;
	char *secret = NULL;
	enum sign_mode mode = SIGN_SLACK;

	script = code_script(code);
	ep_script = xasprintf("{\"answers\":[{\"status\":404},{\"status\":200,\"body\":{}},"
			      "{\"status\":200,\"body\":{\"verification_code\":\"%s\"}}]}", code);
	test_double_script(&ep, ep_script);
	fields = xasprintf(",\"totp_verification_url\":\"%s/totp\"", ep.url);
	body = login_task("", fields);
	t = run_login(body, NULL, &id);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	shown_code(shown);
	cr_assert_str_eq(shown, code);

	/* Three signed POSTs of {"task_id": …}; each signature verifies with the org's secret. */
	{
		static const char q[] = "SELECT signing_secret, signature_mode FROM organizations WHERE id = ?";
		struct sx_rows *rows = db_rows1(q, org.id);

		cr_assert_eq(rows->nrows, 1);
		secret = xstrdup(sx_rows_get(rows, 0, 0));
		cr_assert(sign_mode_parse(sx_rows_get(rows, 0, 1), &mode));
		sx_rows_free(rows);
	}
	reqs = test_double_requests(&ep);
	cr_assert_eq(json_object_array_length(reqs), 3, "%s", json_object_to_json_string(reqs));
	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		json_object *r = json_object_array_get_idx(reqs, i), *h, *b;
		const char *raw = jstr(r, "body"), *ts, *sig;
		long long tsv = 0;

		cr_assert_str_eq(jstr(r, "path"), "/totp");
		b = json_tokener_parse(raw);
		cr_assert_str_eq(jstr(b, "task_id"), id, "%s", raw);
		json_object_put(b);
		cr_assert(json_object_object_get_ex(r, "headers", &h));
		ts = jstr(h, "x-skyvern-timestamp");
		sig = jstr(h, "x-skyvern-signature");
		cr_assert(ts && sig, "unsigned request: %s", json_object_to_json_string(r));
		cr_assert(sx_parse_ll(ts, 0, 1LL << 40, &tsv));
		cr_assert_lt(llabs((long long)time(NULL) - tsv), 300);
		cr_assert(sign_verify(mode, secret, tsv, raw, strlen(raw), sig), "bad signature %s", sig);
		cr_assert_not(sign_verify(mode, "not-the-secret", tsv, raw, strlen(raw), sig));
	}
	assert_code_hidden(id, code);
	json_object_put(reqs);
	json_object_put(t);
	free(secret);
	free(id);
	free(body);
	free(fields);
	free(ep_script);
	free(script);
}

Test(totp_agent, base32_secret_in_the_payload)
{
	static const char secret_b32[] = "JBSWY3DPEHPK3PXPJBSWY3DP";
	struct totp_params p;
	char codes[16][TOTP_CODE_MAX], shown[16], *script, *body, *id;
	const char *cp[16];
	time_t t0 = time(NULL), t1;
	bool valid = false;
	json_object *t;

	/* The code depends on when the agent asks: script every code of the next few minutes. */
	cr_assert_eq(totp_parse_secret(secret_b32, &p), SX_OK);
	for (int i = 0; i < 16; i++) {
		totp_code_at(&p, (int64_t)t0 + (i - 1) * 30, codes[i]);
		cp[i] = codes[i];
	}
	script = login_script(cp, 16);
	llm_double_script(script);
	body = login_task(",\"totp_secret\":\"jbsw y3dp ehpk 3pxp jbsw y3dp\"", "");
	t = run_login(body, NULL, &id);
	t1 = time(NULL);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	shown_code(shown);
	cr_assert_eq(strlen(shown), 6, "shown: '%s'", shown);
	/* A valid TOTP for the secret at the time the task ran, give or take one step. */
	for (int64_t s = (int64_t)t0 - 30; s <= (int64_t)t1 + 30 && !valid; s += 30) {
		char c[TOTP_CODE_MAX];

		totp_code_at(&p, s, c);
		valid = strcmp(c, shown) == 0;
	}
	cr_assert(valid, "the code %s is not a TOTP of the secret between %lld and %lld", shown,
		  (long long)t0, (long long)t1);
	assert_code_hidden(id, shown);
	/* The secret itself is masked too. */
	{
		char path[96];
		struct resp *r;

		snprintf(path, sizeof(path), "/api/v1/tasks/%s/steps", id);
		r = api_get(path, org.key);
		cr_assert_null(strstr(r->body, "jbsw y3dp"), "%s", r->body);
		resp_free(r);
	}
	crypto_wipe(&p, sizeof(p));
	json_object_put(t);
	free(id);
	free(body);
	free(script);
}

/* A code a task used is not given to the next task with the same identifier. */
Test(totp_agent, used_code_is_not_given_again)
{
	char code[8], shown[16], *script, *body, *push_body, *id1, *id2, line[64];
	json_object *t;

	script = code_script(code);
	push_body = xasprintf("{\"totp_identifier\":\"reuse@example.com\",\"content\":\"%s\"}", code);
	push_ok(push_body);
	body = login_task("", ",\"totp_identifier\":\"reuse@example.com\"");
	/* The first task uses the code. */
	t = run_login(body, AGENT_OVERRIDES "totp_timeout = 4\n", &id1);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	shown_code(shown);
	cr_assert_str_eq(shown, code);
	json_object_put(t);
	assert_code_used_and_erased("reuse@example.com", code);

	/* The second, same identifier, finds no unused code and gives up after the window. */
	id2 = post_task(org.key, body, NULL);
	t = wait_final(org.key, id2, 120);
	cr_assert_str_eq(jstr(t, "status"), "terminated", "%s", json_object_to_json_string(t));
	/* The double never saw the code in the second task's prompts: it was never given. */
	snprintf(line, sizeof(line), "Verification code to enter: %s", code);
	cr_assert_eq(llm_double_asked(NULL, line), 1, "the code was given %zu times", llm_double_asked(NULL, line));
	assert_code_hidden(id1, code);
	json_object_put(t);
	free(id1);
	free(id2);
	free(body);
	free(push_body);
	free(script);
}

/* With no code from any source, the task ends after totp_timeout with a reason naming the sources. */
Test(totp_agent, no_code_terminates_naming_the_sources)
{
	char code[8], *script = code_script(code), *body, *id;
	const char *reason;
	json_object *t;

	body = login_task("", ",\"totp_identifier\":\"no-code-ever@example.com\"");
	t = run_login(body, AGENT_OVERRIDES "totp_timeout = 4\n", &id);
	cr_assert_str_eq(jstr(t, "status"), "terminated", "%s", json_object_to_json_string(t));
	reason = jstr(t, "failure_reason");
	cr_assert(reason && strncmp(reason, "No TOTP verification code found", 31) == 0, "reason: %s", reason);
	cr_assert_not_null(strstr(reason, "totp_identifier"), "reason names the sources: %s", reason);
	json_object_put(t);
	free(id);
	free(body);
	free(script);
}

/* Pushed content the patterns cannot read goes to the model once; its answer is the code. */
Test(totp_agent, model_reads_a_message_the_patterns_miss)
{
	char code[8], *script, *rules, *push_body;
	json_object *r;
	struct resp *pr;

	script = code_script(code);
	/* Put a rule for the message-reading call in front of the login rules. */
	rules = xasprintf("{\"rules\":[{\"kind\":\"any\",\"match\":\"Your security digits are\","
			  "\"answers\":[{\"code\":\"%s\"}]},%s", code, script + strlen("{\"rules\":["));
	llm_double_script(rules);
	push_body = xasprintf("{\"totp_identifier\":\"carol@example.com\",\"content\":\"Hello Carol, "
			      "Your security digits are %.2s-%.2s-%.2s (read them left to right).\"}",
			      code, code + 2, code + 4);
	pr = push(org.key, push_body);
	cr_assert_eq(pr->status, 200, "%s", pr->body);
	cr_assert(json_object_object_get_ex(pr->json, "code", &r) && r == NULL, "%s", pr->body);
	resp_free(pr);
	login_uses_the_code("carol@example.com", code);
	free(push_body);
	free(rules);
	free(script);
}

/* Waiting for a code (15 minutes by default) does not make the task deaf to a cancel. */
Test(totp_agent, cancel_while_waiting_for_a_code)
{
	char code[8], *script = code_script(code), *id, path[96];
	json_object *t;
	struct resp *r;

	id = start_waiting_for_a_code("nobody@example.com", AGENT_OVERRIDES "totp_timeout = 900\n", 1);
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/cancel", id);
	r = api_post_json(path, org.key, "{}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	/* The worker notices and closes its step: the step is marked canceled. */
	wait_db_count("SELECT COUNT(*) FROM steps WHERE task_id = ? AND status = 'canceled'", id, 1, 30);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM steps WHERE task_id = ? AND status = 'canceled'", id), 1,
		     "more than the waiting step was closed as canceled");
	t = wait_final(org.key, id, 10);
	cr_assert_str_eq(jstr(t, "status"), "canceled", "%s", json_object_to_json_string(t));
	json_object_put(t);
	free(id);
	free(script);
}
