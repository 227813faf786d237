/*
 * Webhooks end to end: tasks reach a final status through the API (cancel)
 * or a real sextant-agent run (with the LLM test double), the agent's sender
 * delivers the outbox to the webhook receiver test double
 * (tests/doubles/webhook_receiver.py), and the tests check what arrived,
 * how it was signed, what was recorded in webhook_attempts, and that
 * retries, restarts and two senders never repeat a delivered webhook.
 */
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "buf.h"
#include "client.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "sign.h"
#include "timeutil.h"
#include "wait.h"

#define OVERRIDES "outbound_allow = 127.0.0.0/8\nwebhook_backoff_base_ms = 200\n" \
	"webhook_backoff_max_ms = 1000\nwebhook_poll_ms = 100\nwebhook_timeout = 3\n"

static struct test_org org;
static char *secret;
static struct test_double receiver;

/* Marks every pending delivery failed, so no agent here sends another test's. */
static void clear_outbox(void)
{
	db_exec2("UPDATE webhook_deliveries SET status = 'failed', last_error = 'cleared by a test' "
		 "WHERE status = 'pending' AND id <> ?", "-", NULL);
}

static void setup(void)
{
	agent_suite_init(&org, "webhook");
	clear_outbox();
	secret = admin("org secret show --org %s", org.id);
	cr_assert(secret && strlen(secret) >= 32, "org secret show printed no secret");
}

static void teardown(void)
{
	agent_suite_fini();
	test_double_stop(&receiver);
	clear_outbox();
	free(secret);
	secret = NULL;
}

TestSuite(webhook, .init = setup, .fini = teardown, .timeout = 120);

/* A loopback port nothing listens on (for "receiver down"). */
static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
	close(fd);
	return ntohs(a.sin_port);
}

/*
 * Cuts the signature query off the task's artifact URLs (signed at each
 * read, so a webhook's and a later GET's differ); with fetch, first checks
 * that each signed URL serves its file through nginx without an API key.
 */
static void unsign_urls(json_object *task, bool fetch)
{
	static const char *const keys[] = { "screenshot_url", "recording_url",
					    "action_screenshot_urls", "screenshot_urls" };
	json_object *v, *arr;

	for (size_t i = 0; i < SX_ARRAY_LEN(keys); i++) {
		if (!json_object_object_get_ex(task, keys[i], &v) || !v)
			continue;
		arr = json_object_is_type(v, json_type_array) ? v : NULL;
		for (size_t k = 0; k < (arr ? json_object_array_length(arr) : 1); k++) {
			json_object *u = arr ? json_object_array_get_idx(arr, k) : v;
			const char *s = json_object_get_string(u), *rel = strstr(s, "/artifacts/");
			char *bare;

			cr_assert(rel && strstr(rel, "?expires="), "unsigned artifact URL %s", s);
			if (fetch) {
				struct resp *r = api_get(rel, NULL);

				cr_assert_eq(r->status, 200, "webhook URL %s: %ld", s, r->status);
				resp_free(r);
			}
			bare = xstrndup(s, (size_t)(strchr(s, '?') - s));
			json_object_set_string(u, bare);
			free(bare);
		}
	}
}

static const char *hdr(json_object *req, const char *name)
{
	json_object *h = NULL;

	cr_assert(json_object_object_get_ex(req, "headers", &h));
	return jstr(h, name);
}

/*
 * The idempotency promise: once the receiver answered 2xx for a delivery
 * id, that id never comes again.
 */
static void assert_no_repeat_after_2xx(json_object *reqs)
{
	size_t n = json_object_array_length(reqs);

	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(reqs, i), *st;
		const char *id = hdr(a, "x-sextant-delivery-id");

		cr_assert(json_object_object_get_ex(a, "answered", &st));
		if (!id || json_object_get_int(st) / 100 != 2)
			continue;
		for (size_t j = i + 1; j < n; j++) {
			const char *id2 = hdr(json_object_array_get_idx(reqs, j), "x-sextant-delivery-id");

			cr_assert(!id2 || strcmp(id, id2) != 0,
				  "delivery %s arrived again after a 2xx", id);
		}
	}
}

static char *hook_url(int port)
{
	return xasprintf("http://127.0.0.1:%d/hook", port);
}

/* Creates a task with a webhook URL and cancels it: one outbox row. */
static char *canceled_task(const char *key, const char *url)
{
	char *site = xasprintf("%s/sites/product/index.html", tenv("SX_URL"));
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Look\",\"webhook_callback_url\":\"%s\"}",
			       site, url);
	char *id = post_task(key, body, NULL);
	char *path = xasprintf("/api/v1/tasks/%s/cancel", id);
	struct resp *r = api_post_json(path, key, "{}");

	cr_assert_eq(r->status, 200, "cancel: %ld %s", r->status, r->body);
	resp_free(r);
	free(path);
	free(body);
	free(site);
	return id;
}

/*
 * The receiver scripted with answers (NULL: 200 to every request), a task
 * of key's organization canceled with its webhook pointing there, and an
 * agent with overrides to send it; returns the task's id (caller frees).
 */
static char *hook_to_receiver(const char *key, const char *answers, const char *overrides)
{
	char *url, *id;

	webhook_receiver_start(&receiver, 0);
	if (answers)
		test_double_script(&receiver, answers);
	url = hook_url(receiver.port);
	id = canceled_task(key, url);
	agent_start(overrides);
	free(url);
	return id;
}

/* The task's deliveries, oldest first: id, status, attempts (caller frees). */
static struct sx_rows *deliveries_of(const char *task_id)
{
	static const char q[] =
		"SELECT id, status, attempts FROM webhook_deliveries WHERE task_id = ? "
		"ORDER BY created_at, id";

	return db_rows1(q, task_id);
}

/* The delivery's attempts in order: attempt, status_code, error (caller frees). */
static struct sx_rows *attempts_of(const char *delivery_id)
{
	static const char q[] =
		"SELECT attempt, status_code, error, duration_ms FROM webhook_attempts "
		"WHERE delivery_id = ? ORDER BY attempt, id";

	return db_rows1(q, delivery_id);
}

/* The task's only delivery, read at each poll until it has status. */
struct delivery_wait {
	const char *task_id;
	const char *status;
	char last[32];
	char *id;
};

static bool delivery_has_status(void *arg)
{
	struct delivery_wait *w = arg;
	struct sx_rows *r = deliveries_of(w->task_id);

	cr_assert_leq(r->nrows, 1, "task %s has %zu deliveries", w->task_id, r->nrows);
	if (r->nrows == 1) {
		snprintf(w->last, sizeof(w->last), "%s", sx_rows_get(r, 0, 1));
		if (strcmp(w->last, w->status) == 0)
			w->id = xstrdup(sx_rows_get(r, 0, 0));
	}
	sx_rows_free(r);
	return w->id != NULL;
}

/* Waits until the task's only delivery has status; returns its id (caller frees). */
static char *wait_delivery(const char *task_id, const char *status, int timeout_s)
{
	struct delivery_wait w = { .task_id = task_id, .status = status, .last = "none" };

	cr_assert(wait_until(delivery_has_status, &w, timeout_s * 1000),
		  "delivery of %s not %s within %d s (last: %s)", task_id, status, timeout_s, w.last);
	return w.id;
}

/* A delivery polled until it has at least n attempts recorded. */
struct attempts_wait {
	const char *delivery_id;
	size_t n;
};

static bool attempts_reached(void *arg)
{
	const struct attempts_wait *w = arg;
	struct sx_rows *r = attempts_of(w->delivery_id);
	size_t have = r->nrows;

	sx_rows_free(r);
	return have >= w->n;
}

static void wait_attempts(const char *delivery_id, size_t n, int timeout_s)
{
	struct attempts_wait w = { delivery_id, n };

	cr_assert(wait_until(attempts_reached, &w, timeout_s * 1000),
		  "delivery %s: fewer than %zu attempts within %d s", delivery_id, n, timeout_s);
}

/*
 * The receiver has n requests and gets no more for ms: a delivered webhook
 * that came again would show here.
 */
static void assert_no_more_requests(size_t n, int ms)
{
	struct double_count c = { &receiver, n };

	cr_assert(holds_for(test_double_count_is, &c, ms), "the receiver got %zu requests, want %zu",
		  test_double_count(&receiver), n);
}

static char *pending_delivery_id(const char *task_id)
{
	struct sx_rows *r = deliveries_of(task_id);
	char *id;

	cr_assert_eq(r->nrows, 1);
	id = xstrdup(sx_rows_get(r, 0, 0));
	sx_rows_free(r);
	return id;
}

static char *failure_reason_of(const char *key, const char *task_id)
{
	char *path = xasprintf("/api/v1/tasks/%s", task_id);
	struct resp *r = api_get(path, key);
	const char *s = jstr(r->json, "webhook_failure_reason");
	char *out = s ? xstrdup(s) : NULL;

	resp_free(r);
	free(path);
	return out;
}

/* The requests whose delivery id is id. */
static size_t count_with_id(json_object *reqs, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		const char *h = hdr(json_object_array_get_idx(reqs, i), "x-sextant-delivery-id");

		n += h && strcmp(h, id) == 0;
	}
	return n;
}

/* The text between <!-- name --> and <!-- /name --> in README.md, fences dropped. */
static char *readme_snippet(const char *name)
{
	char *path = xasprintf("%s/README.md", SRCDIR);
	char *open_m = xasprintf("<!-- %s -->", name), *close_m = xasprintf("<!-- /%s -->", name);
	FILE *f = fopen(path, "r");
	struct sx_buf b;
	char line[4096];
	bool in = false, found = false;

	cr_assert_not_null(f, "no README.md");
	sx_buf_init(&b, 1 << 20);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, close_m)) {
			found = in;
			in = false;
		} else if (strstr(line, open_m)) {
			in = true;
		} else if (in && strncmp(line, "```", 3) != 0) {
			cr_assert_eq(sx_buf_puts(&b, line), SX_OK);
		}
	}
	fclose(f);
	cr_assert(found && b.len > 0, "README.md has no %s snippet", name);
	free(path);
	free(open_m);
	free(close_m);
	return sx_buf_detach(&b, NULL);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/*
 * Runs the README's shell snippet in dir (which holds body.json) with the
 * secret and the headers in the environment; true when it accepts.
 */
static bool readme_sh_accepts(const char *dir, const char *sec, const char *ts, const char *sig)
{
	char *snippet = readme_snippet("webhook-verify-sh");
	char *script = xasprintf("%s/verify.sh", dir);
	char *cmd = xasprintf("cd '%s' && sh ./verify.sh >/dev/null 2>&1", dir);
	int st;

	write_file(script, snippet);
	setenv("SX_SIGNING_SECRET", sec, 1);
	setenv("WEBHOOK_TIMESTAMP", ts, 1);
	setenv("WEBHOOK_SIGNATURE", sig, 1);
	st = system(cmd);
	free(snippet);
	free(script);
	free(cmd);
	return st == 0;
}

/* Compiles the README's C snippet with a small main; returns the binary's path. */
static char *readme_c_build(const char *dir)
{
	static const char main_c[] =
		"#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
		"int sextant_webhook_verify(const char *secret, const char *timestamp,\n"
		"                           const char *body, size_t body_len, const char *signature);\n"
		"int main(void) {\n"
		"  static char body[1 << 20]; size_t n; FILE *f = fopen(\"body.json\", \"rb\");\n"
		"  if (!f)\n    return 2;\n  n = fread(body, 1, sizeof(body), f);\n  fclose(f);\n"
		"  return sextant_webhook_verify(getenv(\"SX_SIGNING_SECRET\"), getenv(\"WEBHOOK_TIMESTAMP\"),\n"
		"                                body, n, getenv(\"WEBHOOK_SIGNATURE\")) ? 0 : 1;\n"
		"}\n";
	char *snippet = readme_snippet("webhook-verify-c");
	char *src = xasprintf("%s/verify.c", dir), *msrc = xasprintf("%s/main.c", dir);
	char *bin = xasprintf("%s/verify", dir);
	char *cmd = xasprintf("cc -std=c11 -Wall -Werror -o '%s' '%s' '%s' -lcrypto", bin, src, msrc);

	write_file(src, snippet);
	write_file(msrc, main_c);
	cr_assert_eq(system(cmd), 0, "the README's C snippet does not compile: %s", cmd);
	free(snippet);
	free(src);
	free(msrc);
	free(cmd);
	return bin;
}

static bool readme_c_accepts(const char *dir, const char *bin)
{
	char *cmd = xasprintf("cd '%s' && '%s'", dir, bin);
	int st = system(cmd);

	free(cmd);
	return st == 0;
}

/*
 * A completed extraction task whose webhook the receiver got once; returns
 * the task's id and the delivery's (*did), and the one request (*req, in
 * the array *reqs the caller puts).
 */
static char *completed_and_delivered(char **did, json_object **reqs, json_object **req)
{
	static const char script[] =
		"{\"rules\":[{\"kind\":\"extract\",\"answers\":[{\"name\":\"Trailblazer 2 Tent\",\"price\":249.0,"
		"\"availability\":\"in stock\"}]}]}";
	char *url, *site, *body, *id;
	json_object *t;

	webhook_receiver_start(&receiver, 0);
	url = hook_url(receiver.port);
	site = site_url("product/index.html");
	body = xasprintf("{\"url\":\"%s\",\"data_extraction_goal\":\"Extract the product name, price and "
			 "availability\",\"extracted_information_schema\":%s,\"webhook_callback_url\":\"%s\"}",
			 site, product_schema, url);
	t = run_task(&(struct task_run){ .key = org.key, .script = script, .body = body, .overrides = OVERRIDES }, &id);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	json_object_put(t);
	*did = wait_delivery(id, "delivered", 20);
	assert_no_more_requests(1, 1500);
	*reqs = test_double_requests(&receiver);
	*req = json_object_array_get_idx(*reqs, 0);
	free(body);
	free(site);
	free(url);
	return id;
}

Test(webhook, completed_task_arrives_once_signed)
{
	char *id, *did;
	json_object *reqs, *req;
	const char *ts, *sig, *raw;
	long long tsv = 0;

	id = completed_and_delivered(&did, &reqs, &req);
	cr_assert_str_eq(jstr(req, "method"), "POST");
	cr_assert_str_eq(hdr(req, "content-type"), "application/json");
	cr_assert_str_eq(hdr(req, "x-sextant-delivery-id"), did);
	ts = hdr(req, "x-skyvern-timestamp");
	sig = hdr(req, "x-skyvern-signature");
	raw = jstr(req, "body");
	cr_assert(ts && sig && raw);
	cr_assert(sx_parse_ll(ts, 0, LLONG_MAX, &tsv));
	cr_assert(llabs(tsv - sx_now_us() / 1000000) < 60, "timestamp %s is not now", ts);
	cr_assert(strncmp(sig, "v0=", 3) == 0 && strlen(sig) == 67, "signature %s", sig);
	cr_assert(sign_verify(SIGN_SLACK, secret, tsv, raw, strlen(raw), sig));
	cr_assert(!sign_verify(SIGN_SLACK, "not-the-secret", tsv, raw, strlen(raw), sig));
	assert_no_repeat_after_2xx(reqs);
	json_object_put(reqs);
	free(did);
	free(id);
}

/* The README's snippets accept a real delivery, and reject a changed body. */
Test(webhook, readme_snippets_verify_a_real_delivery)
{
	char *id, *did, *dir, *bin, *bodyfile, *rm;
	json_object *reqs, *req;
	const char *ts, *sig, *raw;
	char tmpl[] = "/tmp/sx-webhook-XXXXXX";

	id = completed_and_delivered(&did, &reqs, &req);
	ts = hdr(req, "x-skyvern-timestamp");
	sig = hdr(req, "x-skyvern-signature");
	raw = jstr(req, "body");
	cr_assert(ts && sig && raw);
	dir = mkdtemp(tmpl);
	cr_assert_not_null(dir);
	bodyfile = xasprintf("%s/body.json", dir);
	write_file(bodyfile, raw);
	cr_assert(readme_sh_accepts(dir, secret, ts, sig), "README shell snippet rejected a real delivery");
	bin = readme_c_build(dir);
	cr_assert(readme_c_accepts(dir, bin), "README C snippet rejected a real delivery");
	write_file(bodyfile, "{\"task_id\":\"tsk_forged\"}");
	cr_assert(!readme_sh_accepts(dir, secret, ts, sig), "README shell snippet accepted a forged body");
	cr_assert(!readme_c_accepts(dir, bin), "README C snippet accepted a forged body");
	rm = xasprintf("rm -rf '%s'", dir);
	cr_assert_eq(system(rm), 0);
	free(rm);
	json_object_put(reqs);
	free(bodyfile);
	free(bin);
	free(did);
	free(id);
}

/*
 * The body is GET /api/v1/tasks/{id} without "request", updated with GET
 * /v1/runs/{id} without "run_request" (tests/integration/test_webhook_body.c
 * checks the shape for tasks created through either surface).
 */
Test(webhook, body_is_the_task_merged_with_the_run)
{
	char *id, *did;
	json_object *reqs, *req, *sent, *got, *run;
	const char *raw;

	id = completed_and_delivered(&did, &reqs, &req);
	raw = jstr(req, "body");
	cr_assert_not_null(raw);
	got = api_get_json(org.key, "/api/v1/tasks/%s", id);
	run = api_get_json(org.key, "/v1/runs/%s", id);
	json_object_object_del(got, "request");
	json_object_object_del(run, "run_request");
	json_object_object_foreach(run, key, val)
		json_object_object_add(got, key, json_object_get(val));
	sent = json_tokener_parse(raw);
	cr_assert_not_null(sent);
	cr_assert(!json_object_object_get_ex(sent, "request", NULL));
	cr_assert(!json_object_object_get_ex(sent, "run_request", NULL));
	cr_assert_str_eq(jstr(sent, "run_id"), id);
	cr_assert_not_null(sx_json_member(sent, "output"), "the run's output is the extracted information");
	/* Artifact URLs are signed when read, so only their paths can match. */
	unsign_urls(sent, true);
	unsign_urls(got, false);
	cr_assert(json_object_equal(sent, got), "webhook body %s\n!= GET task and run merged %s", raw,
		  json_object_to_json_string(got));
	json_object_put(sent);
	json_object_put(got);
	json_object_put(run);
	json_object_put(reqs);
	free(did);
	free(id);
}

Test(webhook, receiver_down_then_up_same_delivery_id)
{
	int port = free_port();
	char *url = hook_url(port);
	char *id = canceled_task(org.key, url);
	char *did = pending_delivery_id(id), *reason, *did2;
	struct sx_rows *att;
	json_object *reqs;

	agent_start(OVERRIDES);
	wait_attempts(did, 2, 30);
	reason = failure_reason_of(org.key, id);
	cr_assert(reason && strstr(reason, "connection refused") && strstr(reason, "will retry"),
		  "webhook_failure_reason: %s", reason ? reason : "(null)");
	free(reason);

	webhook_receiver_start(&receiver, port);
	did2 = wait_delivery(id, "delivered", 30);
	cr_assert_str_eq(did, did2);
	att = attempts_of(did);
	cr_assert_geq(att->nrows, 3);
	for (size_t i = 0; i + 1 < att->nrows; i++) {
		cr_assert_null(sx_rows_get(att, i, 1), "attempt %zu got an answer", i);
		cr_assert_not_null(sx_rows_get(att, i, 2), "attempt %zu has no error", i);
		cr_assert_eq(sx_rows_i64(att, i, 0, 0), (long long)i + 1);
	}
	cr_assert_eq(sx_rows_i64(att, att->nrows - 1, 1, 0), 200);
	reason = failure_reason_of(org.key, id);
	cr_assert_null(reason, "webhook_failure_reason not cleared: %s", reason);

	assert_no_more_requests(1, 1000);
	reqs = test_double_requests(&receiver);
	cr_assert_eq(count_with_id(reqs, did), 1);
	assert_no_repeat_after_2xx(reqs);
	json_object_put(reqs);
	sx_rows_free(att);
	free(did2);
	free(did);
	free(id);
	free(url);
}

Test(webhook, status_500_then_200_same_delivery_id)
{
	char *id, *did, *reason;
	struct sx_rows *att;
	json_object *reqs;

	id = hook_to_receiver(org.key, "{\"answers\":[{\"status\":500},{\"status\":503},{\"status\":200}]}",
			      OVERRIDES);
	did = wait_delivery(id, "delivered", 30);
	assert_no_more_requests(3, 1000);
	reqs = test_double_requests(&receiver);
	cr_assert_eq(count_with_id(reqs, did), 3, "the delivery id changed between retries");
	att = attempts_of(did);
	cr_assert_eq(att->nrows, 3);
	cr_assert_eq(sx_rows_i64(att, 0, 1, 0), 500);
	cr_assert_eq(sx_rows_i64(att, 1, 1, 0), 503);
	cr_assert_eq(sx_rows_i64(att, 2, 1, 0), 200);
	reason = failure_reason_of(org.key, id);
	cr_assert_null(reason, "webhook_failure_reason not cleared: %s", reason);
	assert_no_repeat_after_2xx(reqs);
	json_object_put(reqs);
	sx_rows_free(att);
	free(did);
	free(id);
}

Test(webhook, retry_after_is_honoured)
{
	char *id, *did;
	json_object *reqs, *a, *b;
	double gap;

	/* Backoff alone would retry within 100 ms. */
	id = hook_to_receiver(org.key, "{\"answers\":[{\"status\":429,\"retry_after\":\"2\"},{\"status\":200}]}",
			      "outbound_allow = 127.0.0.0/8\nwebhook_backoff_base_ms = 50\n"
			      "webhook_backoff_max_ms = 100\nwebhook_poll_ms = 50\n");
	did = wait_delivery(id, "delivered", 30);
	reqs = test_double_requests(&receiver);
	cr_assert_eq(json_object_array_length(reqs), 2);
	a = json_object_array_get_idx(reqs, 0);
	b = json_object_array_get_idx(reqs, 1);
	gap = json_object_get_double(json_object_object_get(b, "received_at")) -
	      json_object_get_double(json_object_object_get(a, "received_at"));
	cr_assert_geq(gap, 1.9, "retried %.3f s after Retry-After: 2", gap);
	cr_assert_eq(count_with_id(reqs, did), 2);
	json_object_put(reqs);
	free(did);
	free(id);
}

Test(webhook, status_400_is_final)
{
	char *id, *did, *reason;
	struct sx_rows *att;
	json_object *reqs;

	id = hook_to_receiver(org.key, "{\"answers\":[{\"status\":400}]}", OVERRIDES);
	did = wait_delivery(id, "failed", 30);
	assert_no_more_requests(1, 2000);
	reqs = test_double_requests(&receiver);
	att = attempts_of(did);
	cr_assert_eq(att->nrows, 1);
	cr_assert_eq(sx_rows_i64(att, 0, 1, 0), 400);
	reason = failure_reason_of(org.key, id);
	cr_assert(reason && strcmp(reason, "Webhook delivery failed: HTTP 400 from receiver") == 0,
		  "webhook_failure_reason: %s", reason ? reason : "(null)");
	free(reason);
	json_object_put(reqs);
	sx_rows_free(att);
	free(did);
	free(id);
}

Test(webhook, agent_sigkilled_while_due_delivers_after_restart)
{
	int port = free_port();
	char *url = hook_url(port);
	char *id = canceled_task(org.key, url);
	char *did = pending_delivery_id(id), *did2;
	pid_t sup, workers[8];
	size_t nw;
	struct sx_rows *d;
	json_object *reqs;

	sup = agent_start(OVERRIDES);
	wait_attempts(did, 1, 30);
	nw = agent_workers(sup, workers, SX_ARRAY_LEN(workers));
	cr_assert_geq(nw, 2, "the agent should run a task worker and the sender");
	kill(sup, SIGKILL);
	for (size_t i = 0; i < nw; i++)
		kill(workers[i], SIGKILL);
	agent_stop(sup, 0);
	d = deliveries_of(id);
	cr_assert_str_eq(sx_rows_get(d, 0, 1), "pending");
	sx_rows_free(d);

	webhook_receiver_start(&receiver, port);
	agent_start(OVERRIDES);
	did2 = wait_delivery(id, "delivered", 60);
	cr_assert_str_eq(did, did2);
	assert_no_more_requests(1, 1500);
	reqs = test_double_requests(&receiver);
	cr_assert_eq(count_with_id(reqs, did), 1);
	assert_no_repeat_after_2xx(reqs);
	json_object_put(reqs);
	free(did2);
	free(did);
	free(id);
	free(url);
}

Test(webhook, two_agents_never_send_one_delivery_twice)
{
	char *url, *ids[8], *dids[8];
	json_object *reqs;

	webhook_receiver_start(&receiver, 0);
	url = hook_url(receiver.port);
	for (size_t i = 0; i < SX_ARRAY_LEN(ids); i++)
		ids[i] = canceled_task(org.key, url);
	agent_start(OVERRIDES);
	agent_start(OVERRIDES);
	for (size_t i = 0; i < SX_ARRAY_LEN(ids); i++)
		dids[i] = wait_delivery(ids[i], "delivered", 30);
	assert_no_more_requests(SX_ARRAY_LEN(ids), 2000);
	reqs = test_double_requests(&receiver);
	for (size_t i = 0; i < SX_ARRAY_LEN(ids); i++) {
		cr_assert_eq(count_with_id(reqs, dids[i]), 1, "delivery %s arrived %zu times", dids[i],
			     count_with_id(reqs, dids[i]));
		free(dids[i]);
		free(ids[i]);
	}
	assert_no_repeat_after_2xx(reqs);
	json_object_put(reqs);
	free(url);
}

Test(webhook, skyvern_mode_and_rotated_secret)
{
	struct test_org o2;
	char *sec2, *rotated, *shown, *mode, *id;
	json_object *reqs, *req;
	const char *sig, *raw, *ts;
	long long tsv = 0;

	test_org_new(&o2, "webhook-skyvern");
	sec2 = admin("org secret show --org %s", o2.id);
	rotated = admin("org secret rotate --org %s", o2.id);
	shown = admin("org secret show --org %s", o2.id);
	cr_assert(sec2 && rotated && shown);
	cr_assert_str_neq(sec2, rotated, "rotate kept the secret");
	cr_assert_str_eq(rotated, shown);
	mode = admin("org signature-mode --org %s skyvern", o2.id);
	cr_assert_not_null(mode, "org signature-mode failed");
	cr_assert_null(admin("org signature-mode --org %s bogus", o2.id));

	id = hook_to_receiver(o2.key, NULL, OVERRIDES);
	free(wait_delivery(id, "delivered", 30));
	reqs = test_double_requests(&receiver);
	cr_assert_eq(json_object_array_length(reqs), 1);
	req = json_object_array_get_idx(reqs, 0);
	sig = hdr(req, "x-skyvern-signature");
	ts = hdr(req, "x-skyvern-timestamp");
	raw = jstr(req, "body");
	cr_assert(sig && ts && raw && sx_parse_ll(ts, 0, LLONG_MAX, &tsv));
	cr_assert_eq(strlen(sig), 64, "body-only signature is bare hex: %s", sig);
	cr_assert(sign_verify(SIGN_SKYVERN, rotated, 0, raw, strlen(raw), sig));
	cr_assert(!sign_verify(SIGN_SKYVERN, sec2, 0, raw, strlen(raw), sig), "signed with the old secret");
	cr_assert(!sign_verify(SIGN_SLACK, rotated, tsv, raw, strlen(raw), sig));
	json_object_put(reqs);
	free(id);
	free(mode);
	free(shown);
	free(rotated);
	free(sec2);
}

/* The task has two deliveries and the second is delivered. */
static bool second_delivered(void *arg)
{
	struct sx_rows *d = deliveries_of(arg);
	bool done = d->nrows == 2 && strcmp(sx_rows_get(d, 1, 1), "delivered") == 0;

	sx_rows_free(d);
	return done;
}

Test(webhook, retry_webhook_queues_a_new_delivery)
{
	char *url, *id, *did, *path, *queued, *plain, *qpath, *ppath;
	struct resp *r;
	json_object *reqs;
	const char *did2;

	webhook_receiver_start(&receiver, 0);
	url = hook_url(receiver.port);
	/* Not finished: 409.  No agent runs yet, so the task stays queued. */
	{
		char *site = xasprintf("%s/sites/product/index.html", tenv("SX_URL"));
		char *body = xasprintf("{\"url\":\"%s\",\"webhook_callback_url\":\"%s\"}", site, url);
		char *want;

		queued = post_task(org.key, body, NULL);
		qpath = xasprintf("/api/v1/tasks/%s/retry_webhook", queued);
		r = api_post_json(qpath, org.key, "{}");
		want = xasprintf("Task %s is not finished", queued);
		cr_assert_eq(r->status, 409, "%ld %s", r->status, r->body);
		cr_assert_str_eq(jstr(r->json, "detail"), want);
		resp_free(r);
		free(want);
		free(body);
		free(site);
	}
	/* No webhook URL: 400. */
	{
		char *site = xasprintf("%s/sites/product/index.html", tenv("SX_URL"));
		char *body = xasprintf("{\"url\":\"%s\"}", site);
		char *cpath;

		plain = post_task(org.key, body, NULL);
		cpath = xasprintf("/api/v1/tasks/%s/cancel", plain);
		resp_free(api_post_json(cpath, org.key, "{}"));
		ppath = xasprintf("/api/v1/tasks/%s/retry_webhook", plain);
		r = api_post_json(ppath, org.key, "{}");
		cr_assert_eq(r->status, 400, "%ld %s", r->status, r->body);
		resp_free(r);
		free(cpath);
		free(body);
		free(site);
	}
	/* Cancel the queued one before an agent could run it. */
	{
		char *cpath = xasprintf("/api/v1/tasks/%s/cancel", queued);

		resp_free(api_post_json(cpath, org.key, "{}"));
		free(cpath);
	}

	id = canceled_task(org.key, url);
	agent_start(OVERRIDES);
	did = wait_delivery(id, "delivered", 30);
	path = xasprintf("/api/v1/tasks/%s/retry_webhook", id);
	r = api_post_json(path, org.key, "{}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(r->json, "task_id"), id);
	did2 = jstr(r->json, "delivery_id");
	cr_assert(did2 && strncmp(did2, "whd_", 4) == 0 && strcmp(did2, did) != 0,
		  "retry_webhook answered delivery_id %s", did2 ? did2 : "(null)");
	cr_assert(wait_until(second_delivered, (void *)id, 20000), "the second delivery was not delivered");
	reqs = test_double_requests(&receiver);
	/* Three: the canceled "queued" task's own webhook, then ours twice. */
	cr_assert_eq(json_object_array_length(reqs), 3, "%s", json_object_to_json_string(reqs));
	cr_assert_eq(count_with_id(reqs, did), 1);
	cr_assert_eq(count_with_id(reqs, did2), 1);
	assert_no_repeat_after_2xx(reqs);
	json_object_put(reqs);
	resp_free(r);
	free(path);
	free(ppath);
	free(qpath);
	free(plain);
	free(queued);
	free(did);
	free(id);
	free(url);
}

Test(webhook, retry_webhook_is_isolated_by_organization)
{
	struct test_org other;
	char *url = xasprintf("http://127.0.0.1:%d/hook", free_port());
	char *id = canceled_task(org.key, url);
	char *path = xasprintf("/api/v1/tasks/%s/retry_webhook", id);
	char *want = xasprintf("Task %s not found", id);
	struct resp *r;
	struct sx_rows *d;

	test_org_new(&other, "webhook-other");
	r = api_post_json(path, other.key, "{}");
	cr_assert_eq(r->status, 404, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(r->json, "detail"), want);
	resp_free(r);
	r = api_post_json("/api/v1/tasks/tsk_00000000000000000000000000/retry_webhook", org.key, "{}");
	cr_assert_eq(r->status, 404, "%ld %s", r->status, r->body);
	resp_free(r);
	r = api_post_json(path, NULL, "{}");
	cr_assert_eq(r->status, 403, "%ld %s", r->status, r->body);
	resp_free(r);
	d = deliveries_of(id);
	cr_assert_eq(d->nrows, 1, "another organization queued a delivery");
	sx_rows_free(d);
	free(want);
	free(path);
	free(id);
	free(url);
}
