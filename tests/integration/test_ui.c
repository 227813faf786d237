/*
 * The task viewer (ui/, served by nginx at /ui/) in real headless Chromium
 * (browser.h), driven by the project's own WebDriver client, so the test
 * needs nothing beyond what the agent already needs: chromedriver and
 * Chromium.  Each test checks one thing: the key prompt, the key's storage,
 * the list, the task page (steps, screenshots that load, the extracted
 * JSON, the recording when there is one), the masked payload, the create
 * form, cancel, the status filter, runs created through the run API (the
 * list's mark, the task page's run card with its masked run_request), each
 * checked through the API.  Where a finished task is needed, a real
 * sextant-agent with the LLM test double first completes an extraction task
 * on a fixture page.  A PNG of the main pages is kept under
 * $SX_VAR/test-artifacts/ui/.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <sys/stat.h>

#include "sx.h"
#include "agentctl.h"
#include "browser.h"
#include "client.h"
#include "json.h"
#include "wait.h"
#include "webdriver.h"

static struct test_org org;
static struct test_browser br;

static void setup(void)
{
	agent_suite_init(&org, "ui");
	browser_start(&br, "ui", 1280, 1000, 20000);
}

static void teardown(void)
{
	browser_stop(&br);
	agent_suite_fini();
}

TestSuite(ui, .init = setup, .fini = teardown, .timeout = 180);

/* Runs script (a function body; args as `arguments`) and returns its value (caller puts). */
static json_object *js(const char *script, json_object *args)
{
	json_object *r = NULL;

	cr_assert_eq(webdriver_execute(br.ses, script, args, &r), SX_OK, "script failed: %s\n%s",
		     webdriver_last_error(br.ses), script);
	return r;
}

/* The string a script returns (caller frees); "" for null. */
static char *js_str(const char *script)
{
	json_object *r = js(script, NULL);
	char *s = xstrdup(r ? json_object_get_string(r) : "");

	json_object_put(r);
	return s;
}

static bool js_true(const char *script)
{
	json_object *r = js(script, NULL);
	bool t = r && json_object_is_type(r, json_type_boolean) && json_object_get_boolean(r);

	json_object_put(r);
	return t;
}

static bool script_true(void *arg)
{
	return js_true(arg);
}

/*
 * Waits for a script to return true, for at most timeout_ms: the viewer
 * renders after fetch() answers, so every check of the page waits for it.
 */
static void wait_for(const char *script, int timeout_ms, const char *what)
{
	if (!wait_until(script_true, (void *)script, timeout_ms)) {
		char *err = js_str("var e = document.getElementById('error');"
				   "return (e && !e.hidden ? 'error shown: ' + e.textContent : '') + ' | '"
				   " + location.hash + ' | ' + document.getElementById('view').innerText.slice(0, 600);");

		cr_assert_fail("timed out waiting for %s (page: %s)", what, err);
		free(err);
	}
}

static char *find(const char *css)
{
	char *id = NULL;

	cr_assert_eq(webdriver_find_css(br.ses, css, &id), SX_OK, "no element %s: %s", css, webdriver_last_error(br.ses));
	return id;
}

static void click(const char *css)
{
	char *el = find(css);

	cr_assert_eq(webdriver_element_click(br.ses, el), SX_OK, "click %s: %s", css, webdriver_last_error(br.ses));
	free(el);
}

static void type_into(const char *css, const char *text)
{
	char *el = find(css);

	cr_assert_eq(webdriver_element_clear(br.ses, el), SX_OK, "clear %s: %s", css, webdriver_last_error(br.ses));
	cr_assert_eq(webdriver_element_send_keys(br.ses, el, text), SX_OK, "type into %s: %s", css, webdriver_last_error(br.ses));
	free(el);
}

/* mkdir -p for the artifact directory (its parents belong to the stack). */
static void mkdirs(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		cr_assert(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	cr_assert(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", p, strerror(errno));
	free(p);
}

/* Saves a PNG of the viewport as $SX_VAR/test-artifacts/ui/<name>.png. */
static void keep_screenshot(const char *name)
{
	char *dir = xasprintf("%s/test-artifacts/ui", tenv("SX_VAR"));
	char *path = xasprintf("%s/%s.png", dir, name);
	unsigned char *png = NULL;
	size_t len = 0;
	FILE *f;

	mkdirs(dir);
	cr_assert_eq(webdriver_screenshot(br.ses, &png, &len), SX_OK, "screenshot: %s", webdriver_last_error(br.ses));
	cr_assert_gt(len, 8);
	cr_assert_eq(memcmp(png, "\x89PNG", 4), 0);
	f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot write %s", path);
	cr_assert_eq(fwrite(png, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	cr_log_info("kept %s", path);
	free(png);
	free(path);
	free(dir);
}

static json_object *task_get(const char *id)
{
	return api_get_json(org.key, "/api/v1/tasks/%s", id);
}

/*
 * An extraction-only task run to completion by a real agent.  Its payload
 * holds a would-be secret and markup, which the page must mask by default
 * and, once revealed, show as text rather than parse.
 */
static char *completed_task(void)
{
	/* One action step (choose a quantity), then complete, verify and extract. */
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"Add to cart\",\"answers\":["
		"   {\"reasoning\":\"Choose two\",\"actions\":[{\"action\":\"select_option\",\"label\":\"Quantity\","
		"     \"option\":\"2\",\"reasoning\":\"The goal asks for two\"}]},"
		"   {\"reasoning\":\"Two are chosen\",\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"Quantity is 2\"}]},"
		" {\"kind\":\"extract\",\"answers\":[{\"name\":\"Trailblazer 2 Tent\",\"price\":249.0,"
		"   \"availability\":\"in stock\"}]}]}";
	char *url = site_url("product/index.html");
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Choose a quantity of 2\","
			       "\"data_extraction_goal\":\"Extract the product name, price and availability\","
			       "\"navigation_payload\":{\"password\":\"hunter2-ui\",\"note\":\"<b id=\\\"injected\\\">x</b>\"},"
			       "\"extracted_information_schema\":%s}", url, product_schema);
	json_object *t;
	char *id;

	t = run_task(&(struct task_run){ .key = org.key, .script = script, .body = body }, &id);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	/* No agent from here on: a task the page creates must stay queued until canceled. */
	agents_stop_all();
	json_object_put(t);
	free(body);
	free(url);
	return id;
}

/* Every screenshot <img> of the task page has loaded real pixels. */
static const char images_loaded[] =
	"var imgs = document.querySelectorAll('#screenshots img');"
	"if (imgs.length < 1) return false;"
	"for (var i = 0; i < imgs.length; i++)"
	"  if (!imgs[i].complete || imgs[i].naturalWidth <= 0) return false;"
	"return true;";

/*
 * The recording, when the task has one, must be playable by Chromium:
 * enough data for the current frame (readyState >= 2) and a positive
 * duration, without a media error.
 */
static void check_recording(void)
{
	if (!js_true("return !!document.getElementById('recording');")) {
		cr_log_warn("the task has no recording_url yet: the <video> check is skipped");
		return;
	}
	js("var v = document.getElementById('recording'); v.muted = true; v.play().catch(function () {});"
	   "return null;", NULL);
	wait_for("var v = document.getElementById('recording');"
		 "return !v.error && v.readyState >= 2 && v.duration > 0;", 30000, "the recording to play");
}

/* Opens the viewer with no key in the tab: it asks for one. */
static void open_viewer(void)
{
	char *ui = xasprintf("%s/ui/", tenv("SX_URL"));

	cr_assert_eq(webdriver_navigate(br.ses, ui), SX_OK, "%s", webdriver_last_error(br.ses));
	wait_for("return !!document.getElementById('need-key');", 10000, "the key prompt");
	free(ui);
}

/* Opens the viewer and enters the organization's key. */
static void sign_in(void)
{
	open_viewer();
	type_into("#api-key", org.key);
	click("#key-save");
}

/* A condition script on the row of task id in the list (caller frees). */
static char *row_status_is(const char *id, const char *status)
{
	return xasprintf("var r = document.querySelector('tr[data-task-id=\"%s\"] [data-status]');"
			 "return !!r && r.getAttribute('data-status') === '%s';", id, status);
}

/* Signs in, finds the task in the list and opens its page. */
static void open_task_page(const char *id)
{
	char *cond = row_status_is(id, "completed"), *sel = xasprintf("tr[data-task-id=\"%s\"] a", id);

	sign_in();
	wait_for(cond, 15000, "the completed task in the list");
	click(sel);
	free(cond);
	cond = xasprintf("var e = document.getElementById('task-id'); return !!e && e.textContent === '%s'"
			 " && document.querySelectorAll('#steps .step').length >= 1"
			 " && !!document.getElementById('extracted');", id);
	wait_for(cond, 15000, "the task page");
	free(cond);
	free(sel);
}

/* Without a key the viewer asks for one and calls nothing. */
Test(ui, without_a_key_the_viewer_asks_for_one)
{
	open_viewer();
	cr_assert(js_true("return sessionStorage.getItem('sextant.apiKey') === null;"));
}

/* A wrong key: the API's own detail is shown, and Forget clears it. */
Test(ui, a_wrong_key_shows_the_apis_detail)
{
	open_viewer();
	type_into("#api-key", "not-a-key");
	click("#key-save");
	wait_for("var e = document.getElementById('error');"
		 "return !e.hidden && e.textContent.indexOf('Invalid credentials') >= 0;", 10000,
		 "the API's 403 detail");
	click("#key-forget");
	cr_assert(js_true("return sessionStorage.getItem('sextant.apiKey') === null;"));
}

/* The right key is kept in sessionStorage only. */
Test(ui, the_key_lives_in_session_storage_only)
{
	json_object *args = json_object_new_array(), *v;

	sign_in();
	json_object_array_add(args, json_object_new_string(org.key));
	v = js("return sessionStorage.getItem('sextant.apiKey') === arguments[0]"
	       " && localStorage.length === 0 && document.cookie === '';", args);
	cr_assert(v && json_object_get_boolean(v), "the key must live in sessionStorage only");
	json_object_put(v);
	json_object_put(args);
}

/* Forget key: the key is gone from the tab. */
Test(ui, forget_removes_the_key_from_the_tab)
{
	sign_in();
	wait_for("return !!document.getElementById('key-forget');", 10000, "the signed-in page");
	click("#key-forget");
	cr_assert(js_true("return sessionStorage.getItem('sextant.apiKey') === null"
			  " && !!document.getElementById('need-key');"));
}

/* The list shows the completed task with its status; one task on a page of ten has no older page. */
Test(ui, list_shows_a_completed_task)
{
	char *id = completed_task(), *cond = row_status_is(id, "completed");

	sign_in();
	wait_for(cond, 15000, "the completed task in the list");
	cr_assert(js_true("var n = document.getElementById('page-next');"
			  "return !!n && n.getAttribute('aria-disabled') === 'true' && !n.hasAttribute('href');"));
	keep_screenshot("list");
	free(cond);
	free(id);
}

/* The task page: steps, totals, extracted JSON, screenshots that load, no cancel button. */
Test(ui, task_page_shows_steps_data_and_screenshots)
{
	char *id = completed_task(), *got;

	open_task_page(id);
	got = js_str("return JSON.parse(document.getElementById('extracted').textContent).name;");
	cr_assert_str_eq(got, "Trailblazer 2 Tent");
	free(got);
	cr_assert(js_true("return JSON.parse(document.getElementById('extracted').textContent).price === 249;"));
	cr_assert(js_true("return document.querySelector('#task-status [data-status]')"
			  ".getAttribute('data-status') === 'completed';"));
	cr_assert(js_true("return /input \\+ [0-9]+ output tokens/.test(document.getElementById('totals').textContent);"));
	wait_for(images_loaded, 20000, "the screenshots to load");
	/* The action step shows its action, element, option, reasoning and result. */
	cr_assert(js_true("var rows = document.querySelectorAll('#steps .step')[0].querySelectorAll('tr.action');"
			  "if (rows.length !== 1) return false;"
			  "var c = rows[0].children;"
			  "return c[1].textContent === 'select_option' && c[2].textContent.indexOf('Quantity') >= 0"
			  " && c[3].textContent === '2' && c[4].textContent === 'The goal asks for two'"
			  " && c[5].textContent === 'success';"),
		  "step 0's action row is wrong");
	cr_assert(js_true("return document.querySelectorAll('#steps .step').length >= 2"
			  " && document.querySelector('#steps .step .reasoning').textContent === 'Choose two';"));
	/* A finished task has no cancel button. */
	cr_assert(js_true("return document.getElementById('cancel-task') === null;"));
	/* What replay did (the agent tests run with replay = off). */
	cr_assert(js_true("var r = document.getElementById('replay');"
			  "return !!r && r.getAttribute('data-outcome') === 'off' && /^off/.test(r.textContent);"));
	check_recording();
	js("window.scrollTo(0, 0); return null;", NULL);
	keep_screenshot("task");
	js("document.getElementById('media').scrollIntoView(); return null;", NULL);
	keep_screenshot("task-media");
	js("document.getElementById('steps').scrollIntoView(); return null;", NULL);
	keep_screenshot("task-steps");
	free(id);
}

/* The payload is masked until revealed, and markup in it stays text. */
Test(ui, payload_is_masked_until_revealed_and_stays_text)
{
	char *id = completed_task(), *got;

	open_task_page(id);
	got = js_str("return document.getElementById('payload').textContent;");
	cr_assert_null(strstr(got, "hunter2-ui"), "payload shown unmasked: %s", got);
	free(got);
	click("#payload-toggle");
	got = js_str("return document.getElementById('payload').textContent;");
	cr_assert_not_null(strstr(got, "hunter2-ui"), "payload not revealed: %s", got);
	cr_assert_not_null(strstr(got, "<b id=\\\"injected\\\">"), "markup not shown as text: %s", got);
	free(got);
	cr_assert(js_true("return document.getElementById('injected') === null;"), "payload markup was parsed");
	/* Hidden again, it is masked again. */
	click("#payload-toggle");
	got = js_str("return document.getElementById('payload').textContent;");
	cr_assert_null(strstr(got, "hunter2-ui"), "payload still shown: %s", got);
	free(got);
	free(id);
}

/* Opens the create form and fills it for the product page. */
static char *fill_create_form(void)
{
	char *product_url = site_url("product/index.html");

	sign_in();
	click("#nav-new");
	wait_for("return !!document.getElementById('create-form');", 10000, "the create form");
	type_into("#c-url", product_url);
	type_into("#c-goal", "Find the price (from the UI test)");
	type_into("#c-payload", "{\"who\": \"ui-test\"}");
	type_into("#c-max", "3");
	return product_url;
}

/* Bad JSON is refused in the page before any request. */
Test(ui, create_form_refuses_bad_json)
{
	char *product_url = fill_create_form();

	type_into("#c-schema", "{not json");
	click("#c-submit");
	wait_for("var e = document.getElementById('error');"
		 "return !e.hidden && e.textContent.indexOf('not valid JSON') >= 0;", 5000, "the JSON error");
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", org.id), 0,
		     "a task was created from bad JSON");
	free(product_url);
}

/* Opens the task the form creates; returns its id (caller frees). */
static char *create_with_the_form(void)
{
	wait_for("return /^#\\/tasks\\/tsk_/.test(location.hash) && !!document.getElementById('task-id');", 15000,
		 "the new task's page");
	return js_str("return document.getElementById('task-id').textContent;");
}

/* The form creates the task it shows, as the API stores it. */
Test(ui, create_form_creates_a_task)
{
	char *product_url = fill_create_form(), *new_id;
	json_object *t, *req, *v;

	keep_screenshot("create");
	click("#c-submit");
	new_id = create_with_the_form();
	t = task_get(new_id);
	cr_assert(json_object_object_get_ex(t, "request", &req));
	cr_assert_str_eq(jstr(req, "url"), product_url);
	cr_assert_str_eq(jstr(req, "navigation_goal"), "Find the price (from the UI test)");
	cr_assert(json_object_object_get_ex(req, "navigation_payload", &v));
	cr_assert_str_eq(jstr(v, "who"), "ui-test");
	cr_assert(json_object_object_get_ex(t, "max_steps_per_run", &v) && json_object_get_int(v) == 3);
	cr_assert_str_eq(jstr(t, "status"), "queued");
	json_object_put(t);
	db_exec2("UPDATE tasks SET status = 'canceled' WHERE id = ?", new_id, NULL);
	free(new_id);
	free(product_url);
}

/* Cancel a queued task from its page; the page follows the new status. */
Test(ui, task_page_cancels_a_queued_task)
{
	char *product_url = fill_create_form(), *new_id;
	json_object *t;

	click("#c-submit");
	new_id = create_with_the_form();
	wait_for("return !!document.getElementById('cancel-task');", 5000, "the cancel button");
	js("window.confirm = function () { return true; }; return null;", NULL);
	click("#cancel-task");
	wait_for("var b = document.querySelector('#task-status [data-status]');"
		 "return !!b && b.getAttribute('data-status') === 'canceled';", 10000, "the canceled status");
	t = task_get(new_id);
	cr_assert_str_eq(jstr(t, "status"), "canceled");
	json_object_put(t);
	free(new_id);
	free(product_url);
}

/* The list's status filter shows only the tasks with that status. */
Test(ui, status_filter_lists_only_that_status)
{
	char *product = site_url("product/index.html");
	char *canceled = create_task(org.key, product), *queued = create_task(org.key, product), *cond;
	char *path = xasprintf("/api/v1/tasks/%s/cancel", canceled);

	resp_free(api_post_json(path, org.key, "{}"));
	sign_in();
	js("location.hash = '#/tasks?page=1&page_size=10&status=canceled'; return null;", NULL);
	cond = xasprintf("var rows = document.querySelectorAll('#task-rows tr');"
			 "return rows.length === 1 && rows[0].getAttribute('data-task-id') === '%s';", canceled);
	wait_for(cond, 10000, "the filtered list");
	db_exec2("UPDATE tasks SET status = 'canceled' WHERE id = ?", queued, NULL);
	free(cond);
	free(path);
	free(queued);
	free(canceled);
	free(product);
}

/* A queued run created through the run API, with a secret header and a plain one (caller frees). */
static char *queued_run(void)
{
	char *url = site_url("product/index.html");
	char *body = xasprintf("{\"prompt\":\"Find the price (run from the UI test)\",\"url\":\"%s\","
			       "\"extra_http_headers\":{\"Authorization\":\"Bearer sekrit-ui-123\","
			       "\"X-Trace\":\"trace-visible\"}}", url);
	struct resp *r = api_post_json("/v1/run/tasks", org.key, body);
	char *id;

	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	id = xstrdup(jstr(r->json, "run_id"));
	resp_free(r);
	free(body);
	free(url);
	return id;
}

/* The list marks a task created through the run API, and only that one. */
Test(ui, list_marks_runs)
{
	char *product = site_url("product/index.html");
	char *task = create_task(org.key, product), *run = queued_run(), *cond;

	sign_in();
	cond = xasprintf("return !!document.querySelector('tr[data-task-id=\"%s\"] [data-run]')"
			 " && !!document.querySelector('tr[data-task-id=\"%s\"]');", run, task);
	wait_for(cond, 15000, "the run marked in the list");
	free(cond);
	cond = xasprintf("return document.querySelector('tr[data-task-id=\"%s\"] [data-run]') === null;", task);
	cr_assert(js_true(cond), "a task created through /api/v1/tasks is marked as a run");
	keep_screenshot("list-runs");
	db_exec2("UPDATE tasks SET status = 'canceled' WHERE org_id = ? AND status = ?", org.id, "queued");
	free(cond);
	free(run);
	free(task);
	free(product);
}

/* Opens #/tasks/<id> and waits for its run card; returns #run-request's text (caller frees). */
static char *open_run_card(const char *id, const char *via)
{
	char *go = xasprintf("location.hash = '#/tasks/%s'; return null;", id);
	char *cond = xasprintf("var e = document.getElementById('task-id'), v = document.getElementById('created-via');"
			       "return !!e && e.textContent === '%s' && !!v && v.getAttribute('data-via') === '%s'"
			       " && !!document.getElementById('run-request');", id, via);

	json_object_put(js(go, NULL));
	wait_for(cond, 15000, "the task page's run card");
	free(cond);
	free(go);
	return js_str("return document.getElementById('run-request').textContent;");
}

/*
 * The task page of a run shows where it came from, run_id, run_type, app_url
 * and its run_request, with the header that names a secret masked until
 * revealed; a task created through /api/v1/tasks shows its run request too.
 */
Test(ui, task_page_shows_the_run)
{
	char *product = site_url("product/index.html");
	char *task = create_task(org.key, product), *run = queued_run(), *text, *cond;
	json_object *rr;

	sign_in();
	wait_for("return !!document.getElementById('task-rows');", 10000, "the list");
	text = open_run_card(run, "run_api");
	rr = json_tokener_parse(text);
	cr_assert_not_null(rr, "run_request is not pretty-printed JSON: %s", text);
	cr_assert_str_eq(jstr(rr, "prompt"), "Find the price (run from the UI test)");
	cr_assert_str_eq(jstr(rr, "engine"), "skyvern-1.0", "defaults are shown as stored");
	cr_assert_str_eq(jstr(sx_json_member(rr, "extra_http_headers"), "Authorization"), "********");
	cr_assert_str_eq(jstr(sx_json_member(rr, "extra_http_headers"), "X-Trace"), "trace-visible");
	cr_assert_null(strstr(text, "sekrit-ui-123"), "the secret header is shown: %s", text);
	cr_assert(strchr(text, '\n'), "run_request is not pretty-printed");
	json_object_put(rr);
	free(text);
	cond = xasprintf("return document.getElementById('run-id').textContent === '%s'"
			 " && document.getElementById('run-type').textContent === 'task_v1'"
			 " && document.getElementById('app-url').getAttribute('href').indexOf('#/tasks/%s') > 0;",
			 run, run);
	cr_assert(js_true(cond), "run_id, run_type or app_url is wrong");
	free(cond);
	keep_screenshot("task-run");
	click("#run-request-toggle");
	text = js_str("return document.getElementById('run-request').textContent;");
	cr_assert_not_null(strstr(text, "Bearer sekrit-ui-123"), "not revealed: %s", text);
	free(text);
	text = open_run_card(task, "task_api");
	cr_assert_not_null(strstr(text, "\"url\": \""), "a task's run request under the run API's names: %s", text);
	cr_assert_not_null(strstr(text, "\"prompt\""), "%s", text);
	free(text);
	db_exec2("UPDATE tasks SET status = 'canceled' WHERE org_id = ? AND status = ?", org.id, "queued");
	free(run);
	free(task);
	free(product);
}
