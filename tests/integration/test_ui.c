/*
 * The task viewer (ui/, served by nginx at /ui/) in real headless Chromium,
 * driven by the project's own WebDriver client (agent/webdriver.c), so the
 * test needs nothing beyond what the agent already needs: chromedriver and
 * Chromium.  A real sextant-agent with the LLM test double first completes
 * an extraction task on a fixture page; the browser then enters the key,
 * finds the task in the list, opens it (steps, screenshots that load, the
 * extracted JSON, the masked payload, the recording when there is one),
 * creates a task with the form and cancels it, each checked through the API.
 * A PNG of every page is kept under $SX_VAR/test-artifacts/ui/.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "http.h"
#include "log.h"
#include "timeutil.h"
#include "chromedriver.h"
#include "webdriver.h"

static struct test_org org;
static char root[64];
static struct chromedriver *drv;
static struct webdriver_session *ses;

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void setup(void)
{
	struct webdriver_options opt = { 0 };
	char *profile;

	sx_log_init("test_ui", SX_LOG_WARN);
	http_global_init();
	agent_suite_init(&org, "ui");
	snprintf(root, sizeof(root), "/tmp/sx-ui-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	profile = xasprintf("%s/profile", root);
	cr_assert_eq(mkdir(profile, 0700), 0);
	cr_assert_eq(chromedriver_start(env_or("SX_CHROMEDRIVER", "/usr/bin/chromedriver"), 0, &drv), SX_OK);
	opt.endpoint = chromedriver_url(drv);
	opt.chromium_path = env_or("SX_CHROMIUM", "/usr/bin/chromium");
	opt.user_data_dir = profile;
	opt.window_width = 1280;
	opt.window_height = 1000;
	opt.timeout_ms = 20000;
	cr_assert_eq(webdriver_session_new(&opt, &ses), SX_OK, "%s", ses ? webdriver_last_error(ses) : "");
	free(profile);
}

static void teardown(void)
{
	webdriver_session_delete(ses);
	webdriver_session_free(ses);
	ses = NULL;
	chromedriver_stop(drv);
	drv = NULL;
	agents_stop_all();
	double_stop();
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	root[0] = '\0';
}

TestSuite(ui, .init = setup, .fini = teardown, .timeout = 180);

/* Runs script (a function body; args as `arguments`) and returns its value (caller puts). */
static json_object *js(const char *script, json_object *args)
{
	json_object *r = NULL;

	cr_assert_eq(webdriver_execute(ses, script, args, &r), SX_OK, "script failed: %s\n%s",
		     webdriver_last_error(ses), script);
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

/*
 * Polls a script until it returns true, for at most timeout_ms: the viewer
 * renders after fetch() answers, so every check of the page waits for it.
 */
static void wait_for(const char *script, int timeout_ms, const char *what)
{
	int64_t t0 = sx_mono_ms();
	bool ok = false;

	while (!ok && sx_mono_ms() - t0 < timeout_ms) {
		ok = js_true(script);
		if (!ok)
			sx_sleep_ms(100, NULL);
	}
	if (!ok) {
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

	cr_assert_eq(webdriver_find_css(ses, css, &id), SX_OK, "no element %s: %s", css, webdriver_last_error(ses));
	return id;
}

static void click(const char *css)
{
	char *el = find(css);

	cr_assert_eq(webdriver_element_click(ses, el), SX_OK, "click %s: %s", css, webdriver_last_error(ses));
	free(el);
}

static void type_into(const char *css, const char *text)
{
	char *el = find(css);

	cr_assert_eq(webdriver_element_clear(ses, el), SX_OK, "clear %s: %s", css, webdriver_last_error(ses));
	cr_assert_eq(webdriver_element_send_keys(ses, el, text), SX_OK, "type into %s: %s", css, webdriver_last_error(ses));
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
	cr_assert_eq(webdriver_screenshot(ses, &png, &len), SX_OK, "screenshot: %s", webdriver_last_error(ses));
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
	char path[128];
	struct resp *r;
	json_object *o;

	snprintf(path, sizeof(path), "/api/v1/tasks/%s", id);
	r = api_get(path, org.key);
	cr_assert_eq(r->status, 200, "%s", r->body);
	o = json_object_get(r->json);
	resp_free(r);
	return o;
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
	char *url = xasprintf("%s/sites/product/index.html", tenv("SX_URL"));
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Choose a quantity of 2\","
			       "\"data_extraction_goal\":\"Extract the product name, price and availability\","
			       "\"navigation_payload\":{\"password\":\"hunter2-ui\",\"note\":\"<b id=\\\"injected\\\">x</b>\"},"
			       "\"extracted_information_schema\":%s}", url, product_schema);
	json_object *t;
	char *id;

	double_script(script);
	agent_start(NULL);
	id = post_task(org.key, body, NULL);
	t = wait_final(org.key, id, 120);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	/* No agent from here on: the task the form creates must stay queued until canceled. */
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

Test(ui, viewer_lists_opens_creates_and_cancels)
{
	char *id = completed_task();
	char *ui = xasprintf("%s/ui/", tenv("SX_URL"));
	char *sel, *cond, *got, *new_id, *product_url;
	json_object *t, *req, *v, *args;

	/* Without a key the viewer asks for one and calls nothing. */
	cr_assert_eq(webdriver_navigate(ses, ui), SX_OK, "%s", webdriver_last_error(ses));
	wait_for("return !!document.getElementById('need-key');", 10000, "the key prompt");

	/* A wrong key: the API's own detail is shown. */
	type_into("#api-key", "not-a-key");
	click("#key-save");
	wait_for("var e = document.getElementById('error');"
		 "return !e.hidden && e.textContent.indexOf('Invalid credentials') >= 0;", 10000,
		 "the API's 403 detail");
	click("#key-forget");
	cr_assert(js_true("return sessionStorage.getItem('sextant.apiKey') === null;"));

	/* The right key: kept in sessionStorage only. */
	type_into("#api-key", org.key);
	click("#key-save");
	args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(org.key));
	v = js("return sessionStorage.getItem('sextant.apiKey') === arguments[0]"
	       " && localStorage.length === 0 && document.cookie === '';", args);
	cr_assert(v && json_object_get_boolean(v), "the key must live in sessionStorage only");
	json_object_put(v);
	json_object_put(args);

	/* The list shows the completed task with its status. */
	cond = xasprintf("var r = document.querySelector('tr[data-task-id=\"%s\"] [data-status]');"
			 "return !!r && r.getAttribute('data-status') === 'completed';", id);
	wait_for(cond, 15000, "the completed task in the list");
	free(cond);
	/* One task on a page of ten: no older page to go to. */
	cr_assert(js_true("var n = document.getElementById('page-next');"
			  "return !!n && n.getAttribute('aria-disabled') === 'true' && !n.hasAttribute('href');"));
	keep_screenshot("list");

	/* Open it: steps, totals, extracted JSON, screenshots that load. */
	sel = xasprintf("tr[data-task-id=\"%s\"] a", id);
	click(sel);
	free(sel);
	cond = xasprintf("var e = document.getElementById('task-id'); return !!e && e.textContent === '%s'"
			 " && document.querySelectorAll('#steps .step').length >= 1"
			 " && !!document.getElementById('extracted');", id);
	wait_for(cond, 15000, "the task page");
	free(cond);
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

	/* The payload is masked until revealed, and markup in it stays text. */
	got = js_str("return document.getElementById('payload').textContent;");
	cr_assert_null(strstr(got, "hunter2-ui"), "payload shown unmasked: %s", got);
	free(got);
	click("#payload-toggle");
	got = js_str("return document.getElementById('payload').textContent;");
	cr_assert_not_null(strstr(got, "hunter2-ui"), "payload not revealed: %s", got);
	cr_assert_not_null(strstr(got, "<b id=\\\"injected\\\">"), "markup not shown as text: %s", got);
	free(got);
	cr_assert(js_true("return document.getElementById('injected') === null;"), "payload markup was parsed");

	/* A finished task has no cancel button. */
	cr_assert(js_true("return document.getElementById('cancel-task') === null;"));
	check_recording();
	/* Hide the payload again so the kept screenshots show the masked page. */
	click("#payload-toggle");
	cr_assert_null(strstr(got = js_str("return document.getElementById('payload').textContent;"), "hunter2-ui"));
	free(got);
	js("window.scrollTo(0, 0); return null;", NULL);
	keep_screenshot("task");
	js("document.getElementById('media').scrollIntoView(); return null;", NULL);
	keep_screenshot("task-media");
	js("document.getElementById('steps').scrollIntoView(); return null;", NULL);
	keep_screenshot("task-steps");

	/* Create a task with the form. */
	click("#nav-new");
	wait_for("return !!document.getElementById('create-form');", 10000, "the create form");
	product_url = xasprintf("%s/sites/product/index.html", tenv("SX_URL"));
	type_into("#c-url", product_url);
	type_into("#c-goal", "Find the price (from the UI test)");
	type_into("#c-payload", "{\"who\": \"ui-test\"}");
	type_into("#c-max", "3");
	keep_screenshot("create");

	/* Bad JSON is refused in the page before any request. */
	type_into("#c-schema", "{not json");
	click("#c-submit");
	wait_for("var e = document.getElementById('error');"
		 "return !e.hidden && e.textContent.indexOf('not valid JSON') >= 0;", 5000, "the JSON error");
	type_into("#c-schema", "");
	click("#c-submit");
	wait_for("return /^#\\/tasks\\/tsk_/.test(location.hash) && !!document.getElementById('task-id');", 15000,
		 "the new task's page");
	new_id = js_str("return document.getElementById('task-id').textContent;");
	cr_assert_neq(strcmp(new_id, id), 0);
	t = task_get(new_id);
	cr_assert(json_object_object_get_ex(t, "request", &req));
	cr_assert_str_eq(jstr(req, "url"), product_url);
	cr_assert_str_eq(jstr(req, "navigation_goal"), "Find the price (from the UI test)");
	cr_assert(json_object_object_get_ex(req, "navigation_payload", &v));
	cr_assert_str_eq(jstr(v, "who"), "ui-test");
	cr_assert(json_object_object_get_ex(t, "max_steps_per_run", &v) && json_object_get_int(v) == 3);
	cr_assert_str_eq(jstr(t, "status"), "queued");
	json_object_put(t);

	/* Cancel it from its page; the page follows the new status. */
	wait_for("return !!document.getElementById('cancel-task');", 5000, "the cancel button");
	js("window.confirm = function () { return true; }; return null;", NULL);
	click("#cancel-task");
	wait_for("var b = document.querySelector('#task-status [data-status]');"
		 "return !!b && b.getAttribute('data-status') === 'canceled';", 10000, "the canceled status");
	t = task_get(new_id);
	cr_assert_str_eq(jstr(t, "status"), "canceled");
	json_object_put(t);

	/* Back in the list, the status filter shows only canceled tasks. */
	js("location.hash = '#/tasks?page=1&page_size=10&status=canceled'; return null;", NULL);
	cond = xasprintf("var rows = document.querySelectorAll('#task-rows tr');"
			 "return rows.length === 1 && rows[0].getAttribute('data-task-id') === '%s';", new_id);
	wait_for(cond, 10000, "the filtered list");
	free(cond);

	/* Forget key: the key is gone from the tab. */
	click("#key-forget");
	cr_assert(js_true("return sessionStorage.getItem('sextant.apiKey') === null"
			  " && !!document.getElementById('need-key');"));

	free(product_url);
	free(new_id);
	free(ui);
	free(id);
}
