/*
 * The agent end to end: tasks POSTed through nginx are run by a real
 * sextant-agent driving real headless Chromium on the fixture sites, with
 * the LLM test double answering from a script.  Scripts name elements by
 * their visible label; the double resolves labels against the element list
 * in the prompt it received, so a missing label fails the test.
 */
#include <signal.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "buf.h"
#include "client.h"
#include "db.h"
#include "procs.h"
#include "timeutil.h"
#include "wait.h"

TestSuite(agent, .init = agent_suite_setup, .fini = agent_suite_fini, .timeout = 300);

static const char *status_of(json_object *t)
{
	return jstr(t, "status");
}

static json_object *steps_of(const char *id)
{
	return api_get_json(suite_org.key, "/api/v1/tasks/%s/steps", id);
}

static bool file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	bool hit = false;

	while (f && !hit && fgets(line, sizeof(line), f))
		hit = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return hit;
}

/* The nginx access log of the stack (caller frees). */
static char *access_log_path(void)
{
	return xasprintf("%s/log/nginx-access.log", tenv("SX_VAR"));
}

/* The size of the file at path now: where the lines of what comes next begin. */
static long file_mark(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/*
 * True when one line of path written after mark (file_mark) holds every
 * string of needles: the log is never truncated, so lines of earlier runs
 * and earlier tests are skipped, and the strings must come from one request.
 */
static bool log_line_has_all(const char *path, long mark, const char *const *needles, size_t n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	bool hit = false;

	if (f && fseek(f, mark, SEEK_SET) != 0) {
		fclose(f);
		f = NULL;
	}
	while (f && !hit && getline(&line, &cap, f) > 0) {
		hit = true;
		for (size_t i = 0; hit && i < n; i++)
			hit = strstr(line, needles[i]) != NULL;
	}
	if (f)
		fclose(f);
	free(line);
	return hit;
}

/* Runs one task with a script as suite_org; returns the final task object. */
static json_object *run_scripted(const char *script, const char *body, const char *const *headers,
				 const char *overrides, char **id_out)
{
	struct task_run run = { .key = suite_org.key, .script = script, .body = body, .headers = headers,
				.overrides = overrides };

	return run_task(&run, id_out);
}

/* The screenshot of the action at index i of acts (its result's), or NULL. */
static const char *action_shot(json_object *acts, size_t i)
{
	json_object *res;

	if (!json_object_object_get_ex(json_object_array_get_idx(acts, i), "result", &res))
		return NULL;
	return jstr(res, "screenshot");
}

/*
 * The job form's first step (type, type, select, check, click): the four
 * field actions in a row share the screenshot taken after the checkbox,
 * which ends the run (the filled form before the click), and the click has
 * its own.  Every action still points at the state after it.
 */
static void first_step_screenshots(json_object *acts)
{
	for (size_t k = 0; k < 5; k++)
		cr_assert_not_null(action_shot(acts, k), "action %zu has no screenshot", k);
	for (size_t k = 0; k < 3; k++)
		cr_assert_str_eq(action_shot(acts, k), action_shot(acts, 3), "action %zu", k);
	cr_assert_str_neq(action_shot(acts, 3), action_shot(acts, 4));
}

Test(agent, seed_job_application_end_to_end)
{
	char *url = site_url("job/index.html");
	char *body = xasprintf(
		"{\"url\":\"%s\",\"navigation_goal\":\"Apply for a job\","
		"\"data_extraction_goal\":\"Was the job application successful?\","
		"\"proxy_location\":\"RESIDENTIAL\","
		"\"navigation_payload\":{\"name\":\"Chris P. Bacon\",\"email\":\"chris@pbacon.com\"}}", url);
	static const char *const sent[] = { "/sites/job/thanks.html?", "full_name=Chris+P.+Bacon",
					    "email=chris%40pbacon.com" };
	char *log = access_log_path();
	long mark = file_mark(log);
	char *script = job_script(""), *id;
	json_object *t, *steps, *v, *ex;

	t = run_scripted(script, body, NULL, NULL, &id);
	cr_assert_str_eq(status_of(t), "completed", "task: %s",
			 json_object_to_json_string(t));
	cr_assert(json_object_object_get_ex(t, "extracted_information", &ex) && ex);
	cr_assert(json_object_object_get_ex(ex, "application_successful", &v) && json_object_get_boolean(v));

	/* The fixture server saw this task submit the payload's name and email. */
	cr_assert(log_line_has_all(log, mark, sent, SX_ARRAY_LEN(sent)),
		  "no submission with the name and email in %s", log);

	/* Steps: order, tokens, actions. */
	steps = steps_of(id);
	cr_assert_geq(json_object_array_length(steps), 2);
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i), *o, *acts;

		cr_assert(json_object_object_get_ex(s, "order", &o) && json_object_get_int(o) == (int)i);
		cr_assert(json_object_object_get_ex(s, "input_token_count", &o) && json_object_get_int(o) > 0);
		cr_assert(json_object_object_get_ex(s, "output_token_count", &o) && json_object_get_int(o) > 0);
		cr_assert(json_object_object_get_ex(s, "output", &o) && json_object_object_get_ex(o, "actions", &acts));
		cr_assert_gt(json_object_array_length(acts), 0);
		if (i == 0) {
			cr_assert_eq(json_object_array_length(acts), 5);
			cr_assert_str_eq(jstr(json_object_array_get_idx(acts, 0), "action"), "input_text");
			cr_assert_str_eq(jstr(json_object_array_get_idx(acts, 0), "label"), "Full name");
			first_step_screenshots(acts);
		}
	}
	cr_assert_str_eq(jstr(json_object_array_get_idx(steps, json_object_array_length(steps) - 1), "status"),
			 "completed");

	/* Screenshots exist as rows and files, and the task's URLs serve them. */
	/* After the run of four fills and after the click (first_step_screenshots). */
	cr_assert_geq(db_count1("SELECT COUNT(*) FROM artifacts WHERE task_id = ? AND type = 'screenshot_action'", id), 2);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM artifacts WHERE task_id = ? AND type = 'screenshot_final'", id), 1);
	cr_assert_geq(db_count1("SELECT COUNT(*) FROM artifacts WHERE task_id = ? AND type = 'llm_request'", id), 3);
	{
		static const char q[] = "SELECT path FROM artifacts WHERE task_id = ?";
		struct sx_rows *rows = db_rows1(q, id);

		for (size_t i = 0; i < rows->nrows; i++) {
			char *path = xasprintf("%s/artifacts/%s", tenv("SX_VAR"), sx_rows_get(rows, i, 0));
			struct stat st;

			cr_assert_eq(stat(path, &st), 0, "missing artifact %s", path);
			cr_assert_gt(st.st_size, 0);
			free(path);
		}
		sx_rows_free(rows);
	}
	/* Every action screenshot the task has (two), within the last 3 the task shows. */
	cr_assert(json_object_object_get_ex(t, "action_screenshot_urls", &v) && json_object_array_length(v) == 2);
	cr_assert_not_null(jstr(t, "screenshot_url"));
	{
		const char *shot = jstr(t, "screenshot_url");
		const char *rel = strstr(shot, "/artifacts/");
		struct resp *r;

		cr_assert_not_null(rel, "screenshot_url %s", shot);
		r = api_get(rel, NULL);
		cr_assert_eq(r->status, 200, "GET %s: %ld", rel, r->status);
		cr_assert(strncmp(r->body, "\x89PNG", 4) == 0);
		resp_free(r);
	}
	json_object_put(steps);
	json_object_put(t);
	free(id);
	free(body);
	free(url);
	free(log);
	free(script);
}

Test(agent, insurance_wizard_three_pages)
{
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"quote.html\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"review.html\",\"answers\":[{\"actions\":["
		"   {\"action\":\"click\",\"label\":\"Get quote\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"vehicle.html\",\"answers\":[{\"actions\":["
		"   {\"action\":\"select_option\",\"label\":\"Vehicle year\",\"option\":\"2019\"},"
		"   {\"action\":\"click\",\"label\":\"Personal use\"},"
		"   {\"action\":\"check\",\"label\":\"The car is kept in a garage overnight\"},"
		"   {\"action\":\"click\",\"label\":\"Continue\"}]}]},"
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":["
		"   {\"action\":\"input_text\",\"label\":\"Full name\",\"text\":\"Jane Doe\"},"
		"   {\"action\":\"input_text\",\"label\":\"Date of birth\",\"text\":\"1990-04-12\"},"
		"   {\"action\":\"select_option\",\"label\":\"State\",\"option\":\"Oregon\"},"
		"   {\"action\":\"click\",\"label\":\"Continue\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"quote shown\"}]},"
		" {\"kind\":\"extract\",\"answers\":[{\"monthly_quote\":\"$123.45\"}]}"
		"]}";
	char *url = site_url("wizard/index.html");
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Get a car insurance quote\","
			       "\"data_extraction_goal\":\"What is the monthly quote?\","
			       "\"navigation_payload\":{\"name\":\"Jane Doe\",\"date_of_birth\":\"1990-04-12\","
			       "\"state\":\"Oregon\",\"vehicle_year\":2019}}", url);
	char *id = NULL;
	json_object *t = run_scripted(script, body, NULL, NULL, &id), *steps;

	cr_assert_str_eq(status_of(t), "completed", "%s", json_object_to_json_string(t));
	steps = steps_of(id);
	cr_assert_geq(json_object_array_length(steps), 4);
	/* The last page the agent saw carried the values of every page. */
	{
		json_object *last = json_object_array_get_idx(steps, json_object_array_length(steps) - 1), *o;
		const char *u;

		cr_assert(json_object_object_get_ex(last, "output", &o));
		u = jstr(o, "url");
		cr_assert(u && strstr(u, "quote.html"), "last url %s", u ? u : "(null)");
		cr_assert(strstr(u, "Jane") && strstr(u, "1990-04-12") && strstr(u, "OR") &&
			  strstr(u, "2019") && strstr(u, "personal") && strstr(u, "garaged=yes"),
			  "values lost on the way: %s", u);
	}
	json_object_put(steps);
	json_object_put(t);
	free(id);
	free(body);
	free(url);
}

Test(agent, shadow_dom_and_iframe_forms)
{
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"You are subscribed\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":["
		"   {\"action\":\"input_text\",\"label\":\"Your name\",\"text\":\"Ada\"},"
		"   {\"action\":\"input_text\",\"label\":\"Newsletter email\",\"text\":\"ada@example.com\"},"
		"   {\"action\":\"click\",\"label\":\"Subscribe\"},"
		"   {\"action\":\"input_text\",\"label\":\"Your email\",\"text\":\"ada@example.com\"},"
		"   {\"action\":\"input_text\",\"label\":\"Message\",\"text\":\"Hello there\"},"
		"   {\"action\":\"click\",\"label\":\"Send message\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true}]}"
		"]}";
	char *url = site_url("shadow/index.html");
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Subscribe and send a message\","
			       "\"navigation_payload\":{\"name\":\"Ada\",\"email\":\"ada@example.com\"}}", url);
	json_object *t = run_scripted(script, body, NULL, NULL, NULL);

	cr_assert_str_eq(status_of(t), "completed", "%s", json_object_to_json_string(t));
	json_object_put(t);
	free(body);
	free(url);
}

Test(agent, form_behind_cookie_modal)
{
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"Signed in as\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"\\\"Email address\\\"\",\"answers\":[{\"actions\":["
		"   {\"action\":\"input_text\",\"label\":\"Email address\",\"text\":\"sam@example.com\"},"
		"   {\"action\":\"input_text\",\"label\":\"Password\",\"text\":\"hunter2-secret\"},"
		"   {\"action\":\"click\",\"label\":\"Sign in\"}]}]},"
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":[{\"action\":\"click\",\"label\":\"Accept\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true}]}"
		"]}";
	char *url = site_url("modal/index.html");
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Sign in\","
			       "\"navigation_payload\":{\"email\":\"sam@example.com\",\"password\":\"hunter2-secret\"}}", url);
	char *id = NULL;
	json_object *t = run_scripted(script, body, NULL, NULL, &id), *steps;

	cr_assert_str_eq(status_of(t), "completed", "%s", json_object_to_json_string(t));
	/* The password never appears in the steps or in the saved LLM exchanges. */
	steps = steps_of(id);
	cr_assert_null(strstr(json_object_to_json_string(steps), "hunter2-secret"), "password in step output");
	{
		static const char q[] = "SELECT path FROM artifacts WHERE task_id = ? AND type LIKE 'llm_%'";
		struct sx_rows *rows = db_rows1(q, id);

		cr_assert_gt(rows->nrows, 0);
		for (size_t i = 0; i < rows->nrows; i++) {
			char *path = xasprintf("%s/artifacts/%s", tenv("SX_VAR"), sx_rows_get(rows, i, 0));

			cr_assert_not(file_contains(path, "hunter2-secret"), "password in %s", path);
			free(path);
		}
		sx_rows_free(rows);
	}
	json_object_put(steps);
	json_object_put(t);
	free(id);
	free(body);
	free(url);
}

/*
 * Typing reaches what real pages listen to (tests/sites/typing): a
 * suggester on keyup, a mask on input, a key counter, maxlength, a
 * framework's own view of the value, and a contenteditable.  The agent
 * inserts all but the last character and presses the last key
 * (webdriver_type_focused); the server's log shows what the form sent.
 */
Test(agent, typing_reaches_key_and_input_listeners)
{
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"?city=Portland\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":["
		"   {\"action\":\"input_text\",\"label\":\"City\",\"text\":\"Portland\"},"
		"   {\"action\":\"input_text\",\"label\":\"Phone\",\"text\":\"5035550148\"},"
		"   {\"action\":\"input_text\",\"label\":\"Promo code\",\"text\":\"SPRING25\"},"
		"   {\"action\":\"input_text\",\"label\":\"Card security code\",\"text\":\"123456\"},"
		"   {\"action\":\"input_text\",\"label\":\"Name on the parcel\",\"text\":\"Ada Lovelace\"},"
		"   {\"action\":\"input_text\",\"label\":\"Delivery notes\",\"text\":\"Leave at the door\"},"
		"   {\"action\":\"click\",\"label\":\"Save details\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true}]}"
		"]}";
	/*
	 * One submission of this run holds all of it; the promo code saw one
	 * keydown, the last key's (the rest was inserted).
	 */
	static const char *const sent[] = {
		"/sites/typing/index.html?city=Portland&", "phone=%28503%29+555-0148&", "promo=SPRING25&",
		"card=1234&", "name=Ada+Lovelace&", "notes=Leave+at+the+door&", "seen_keyup=Portland&",
		"seen_keydowns=1&", "seen_name=Ada+Lovelace",
	};
	char *url = site_url("typing/index.html");
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Save the delivery details\"}", url);
	char *log = access_log_path();
	long mark = file_mark(log);
	json_object *t = run_scripted(script, body, NULL, NULL, NULL);

	cr_assert_str_eq(status_of(t), "completed", "%s", json_object_to_json_string(t));
	cr_assert(log_line_has_all(log, mark, sent, SX_ARRAY_LEN(sent)),
		  "no submission of this run with all of the typed values in %s", log);
	json_object_put(t);
	free(log);
	free(body);
	free(url);
}

static char *product_body(void)
{
	char *url = site_url("product/index.html");
	char *b = xasprintf("{\"url\":\"%s\",\"data_extraction_goal\":\"Extract the product name, price and availability\","
			    "\"extracted_information_schema\":%s}", url, product_schema);

	free(url);
	return b;
}

Test(agent, extraction_with_schema_valid)
{
	static const char script[] =
		"{\"rules\":[{\"kind\":\"extract\",\"answers\":[{\"name\":\"Trailblazer 2 Tent\",\"price\":249.0,"
		"\"availability\":\"in stock\"}]}]}";
	char *body = product_body();
	json_object *t = run_scripted(script, body, NULL, "llm_provider = anthropic\n", NULL), *ex, *v;

	cr_assert_str_eq(status_of(t), "completed", "%s", json_object_to_json_string(t));
	cr_assert(json_object_object_get_ex(t, "extracted_information", &ex) && ex);
	cr_assert(json_object_object_get_ex(ex, "price", &v) && json_object_get_double(v) == 249.0);
	/* It went through the Anthropic wire format. */
	{
		json_object *reqs = llm_double_requests();
		bool anthropic = false;

		for (size_t i = 0; i < json_object_array_length(reqs); i++) {
			const char *path = jstr(json_object_array_get_idx(reqs, i), "path");

			if (path && strcmp(path, "/v1/messages") == 0)
				anthropic = true;
		}
		cr_assert(anthropic, "no request on /v1/messages");
		json_object_put(reqs);
	}
	json_object_put(t);
	free(body);
}

Test(agent, extraction_repaired_once)
{
	static const char script[] =
		"{\"rules\":[{\"kind\":\"extract\",\"answers\":["
		" {\"name\":\"Trailblazer 2 Tent\",\"price\":\"$249.00\"},"
		" {\"name\":\"Trailblazer 2 Tent\",\"price\":249}]}]}";
	char *body = product_body();
	json_object *t = run_scripted(script, body, NULL, NULL, NULL), *ex, *v;

	cr_assert_str_eq(status_of(t), "completed", "%s", json_object_to_json_string(t));
	cr_assert(json_object_object_get_ex(t, "extracted_information", &ex) && ex);
	cr_assert(json_object_object_get_ex(ex, "price", &v) && json_object_get_int(v) == 249);
	json_object_put(t);
	free(body);
}

Test(agent, extraction_invalid_twice_fails)
{
	static const char script[] =
		"{\"rules\":[{\"kind\":\"extract\",\"answers\":[{\"name\":\"Trailblazer 2 Tent\",\"price\":\"$249.00\"}]}]}";
	char *body = product_body();
	json_object *t = run_scripted(script, body, NULL, NULL, NULL);
	const char *reason;

	cr_assert_str_eq(status_of(t), "failed", "%s", json_object_to_json_string(t));
	reason = jstr(t, "failure_reason");
	cr_assert(reason && strstr(reason, "extracted_information_schema") && strstr(reason, "price"),
		  "reason: %s", reason ? reason : "(null)");
	json_object_put(t);
	free(body);
}

static char *never_body(void)
{
	char *url = site_url("never/index.html");
	char *b = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Request a callback\","
			    "\"navigation_payload\":{\"name\":\"Bo\",\"phone\":\"5550100\"}}", url);

	free(url);
	return b;
}

/*
 * Runs the callback form, on which no task succeeds, with script; asserts
 * the task ended with status and a failure_reason holding word.  Returns
 * the task (caller puts) and, with id_out, its id (caller frees).
 */
static json_object *run_never(const char *script, const char *const *headers, const char *overrides,
			      const char *status, const char *word, char **id_out)
{
	char *body = never_body();
	json_object *t = run_scripted(script, body, headers, overrides, id_out);
	const char *reason = jstr(t, "failure_reason");

	cr_assert_str_eq(status_of(t), status, "%s", json_object_to_json_string(t));
	cr_assert(reason && strstr(reason, word), "reason: %s", reason ? reason : "(null)");
	free(body);
	return t;
}

Test(agent, model_answers_garbage)
{
	static const char script[] =
		"{\"rules\":[{\"kind\":\"decide\",\"answers\":[{\"__raw\":\"I think you should click the blue button!\"}]}]}";
	char *id = NULL;
	json_object *t = run_never(script, NULL, NULL, "failed", "answer", &id), *steps;

	cr_assert(strncmp(jstr(t, "failure_reason"), "Max retries per step (3) exceeded: ", 35) == 0,
		  "reason: %s", jstr(t, "failure_reason"));
	steps = steps_of(id);
	cr_assert_eq(json_object_array_length(steps), 4, "1 try + 3 retries");
	for (int i = 0; i < 4; i++) {
		json_object *s = json_object_array_get_idx(steps, (size_t)i), *o;

		cr_assert(json_object_object_get_ex(s, "retry_index", &o) && json_object_get_int(o) == i);
		cr_assert_str_eq(jstr(s, "status"), "failed");
		cr_assert(json_object_object_get_ex(s, "output", &o));
		cr_assert_not_null(jstr(o, "model_text"), "the model's text is kept");
	}
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM steps WHERE task_id = ? AND status = 'running'", id), 0);
	json_object_put(steps);
	json_object_put(t);
	free(id);
}

Test(agent, llm_endpoint_down)
{
	json_object *t = run_never("{\"rules\":[]}", NULL, "llm_base_url = http://127.0.0.1:9/v1\n", "failed",
				   "language model", NULL);

	cr_assert(strstr(jstr(t, "failure_reason"), "Max retries per step"), "reason: %s", jstr(t, "failure_reason"));
	json_object_put(t);
}

Test(agent, submit_never_succeeds_hits_max_steps)
{
	/* Alternating answers, so no two steps repeat an action (no loop). */
	static const char script[] =
		"{\"rules\":[{\"kind\":\"decide\",\"answers\":["
		" {\"actions\":[{\"action\":\"input_text\",\"label\":\"Full name\",\"text\":\"Bo\"},{\"action\":\"click\",\"label\":\"Request callback\"}]},"
		" {\"actions\":[{\"action\":\"input_text\",\"label\":\"Phone number\",\"text\":\"5550100\"},{\"action\":\"click\",\"label\":\"Request callback\"}]},"
		" {\"actions\":[{\"action\":\"click\",\"label\":\"Request callback\"}]}]}]}";
	static const char *hdr[] = { "x-max-steps-override: 3", NULL };
	json_object *t = run_never(script, hdr, NULL, "failed", "Max steps", NULL);

	cr_assert_str_eq(jstr(t, "failure_reason"), "Max steps per task (3) exceeded");
	json_object_put(t);
}

Test(agent, same_action_on_unchanged_page_is_a_loop)
{
	static const char script[] =
		"{\"rules\":[{\"kind\":\"decide\",\"answers\":[{\"actions\":[{\"action\":\"click\",\"label\":\"Request callback\"}]}]}]}";
	json_object *t = run_never(script, NULL, NULL, "terminated", "repeated the same action", NULL);

	/* Before giving up, the model was asked again with a warning in its prompt. */
	cr_assert_gt(llm_double_asked("decide", "WARNING: your last action did not change the page"), 0,
		     "no loop warning in any prompt");
	json_object_put(t);
}

/*
 * A retry is not a loop: the file server fails the first download, so the
 * upload fails and the step is retried; the model rightly proposes the same
 * upload on the same page, which now succeeds, and the task completes with
 * the default max_retries_per_step (3) and no loop warning.
 */
Test(agent, failed_action_retried_is_not_a_loop)
{
	struct test_double files;
	char *script, *body, *id = NULL;
	json_object *t, *steps;

	webhook_receiver_start(&files, 0);
	test_double_script(&files, "{\"answers\":[{\"status\":500,\"body\":\"busy\"},"
			   "{\"status\":200,\"body\":\"%PDF-1.4\"}]}");
	script = xasprintf(
		"{\"rules\":["
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":["
		"   {\"action\":\"upload_file\",\"label\":\"Upload resume\",\"url\":\"%s/resume.pdf\"},"
		"   {\"action\":\"complete\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"uploaded\"}]}]}",
		files.url);
	body = xasprintf("{\"url\":\"%s/sites/job/index.html\",\"navigation_goal\":\"Upload the resume\"}",
			 tenv("SX_URL"));
	t = run_scripted(script, body, NULL, "max_retries_per_step = 3\noutbound_allow = \"127.0.0.0/8, ::1\"\n", &id);
	cr_assert_str_eq(status_of(t), "completed", "%s", json_object_to_json_string(t));
	cr_assert_eq(test_double_count(&files), 2, "one failed download, one that worked");
	cr_assert_eq(llm_double_asked("decide", "WARNING: your last action did not change the page"), 0,
		     "the retry was taken for a loop");
	steps = steps_of(id);
	cr_assert_eq(json_object_array_length(steps), 2, "the step and its one retry");
	json_object_put(steps);
	json_object_put(t);
	test_double_stop(&files);
	free(id);
	free(body);
	free(script);
}

Test(agent, captcha_terminates)
{
	static const char script[] =
		"{\"rules\":[{\"kind\":\"decide\",\"answers\":[{\"actions\":[{\"action\":\"solve_captcha\"}]}]}]}";

	json_object_put(run_never(script, NULL, NULL, "terminated", "CAPTCHA", NULL));
}

static const char slow_script[] =
	"{\"rules\":[{\"kind\":\"decide\",\"answers\":["
	" {\"actions\":[{\"action\":\"wait\",\"seconds\":4},{\"action\":\"input_text\",\"label\":\"Full name\",\"text\":\"Bo\"}]},"
	" {\"actions\":[{\"action\":\"wait\",\"seconds\":4},{\"action\":\"input_text\",\"label\":\"Phone number\",\"text\":\"5550100\"}]},"
	" {\"actions\":[{\"action\":\"complete\"}]}]},"
	" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true}]}]}";

Test(agent, cancel_during_run)
{
	char *body = never_body();
	char *id, path[128];
	struct resp *r;
	json_object *t;

	id = start_task(&(struct task_run){ .key = suite_org.key, .script = slow_script, .body = body }, NULL);
	cr_assert(wait_status(suite_org.key, id, "running", 60));
	wait_db_count("SELECT COUNT(*) FROM steps WHERE task_id = ?", id, 1, 60);
	snprintf(path, sizeof(path), "/api/v1/tasks/%s/cancel", id);
	r = api_call("POST", path, suite_org.key, NULL, 0, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	/* Within one action (a 4 s wait at most, plus a heartbeat), the run stops. */
	wait_db_count("SELECT COUNT(*) FROM steps WHERE task_id = ? AND status = 'canceled'", id, 1, 20);
	wait_db_count("SELECT COUNT(*) FROM tasks WHERE id = ? AND lease_owner IS NULL", id, 1, 20);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM steps WHERE task_id = ? AND status = 'canceled'", id), 1,
		     "more than the running step was marked canceled");
	t = wait_final(suite_org.key, id, 5);
	cr_assert_str_eq(status_of(t), "canceled");
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM steps WHERE task_id = ? AND status IN ('running','created')", id), 0);
	json_object_put(t);
	free(id);
	free(body);
}

/* The chromedriver processes under an agent, polled until there is one. */
struct driver_wait {
	pid_t agent;
	pid_t pids[8];
	size_t n;
};

static bool collect_driver(const struct proc_info *p, void *arg)
{
	struct driver_wait *dw = arg;

	if (strcmp(p->comm, "chromedriver") == 0 && proc_descends_from(p->pid, dw->agent))
		dw->pids[dw->n++] = p->pid;
	return dw->n < SX_ARRAY_LEN(dw->pids);
}

static bool has_driver(void *arg)
{
	struct driver_wait *dw = arg;

	dw->n = 0;
	proc_each(collect_driver, dw);
	return dw->n > 0;
}

Test(agent, chromedriver_killed_mid_task)
{
	char *body = never_body();
	char *id;
	struct driver_wait dw = { 0 };
	struct llm_ask first_decide = { "decide", NULL, 1 };
	json_object *t, *steps;
	bool retried = false;

	id = start_task(&(struct task_run){ .key = suite_org.key, .script = slow_script, .body = body }, &dw.agent);
	cr_assert(wait_status(suite_org.key, id, "running", 60));
	cr_assert(wait_until(has_driver, &dw, 30000), "no chromedriver under the agent");
	/* Mid-task: the model has answered the first step, whose actions now run. */
	cr_assert(wait_until(llm_double_was_asked, &first_decide, 60000), "the agent never asked the model");
	for (size_t i = 0; i < dw.n; i++)
		kill(dw.pids[i], SIGKILL);
	t = wait_final(suite_org.key, id, 180);
	cr_assert_str_eq(status_of(t), "completed", "%s", json_object_to_json_string(t));
	steps = steps_of(id);
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i), *o;

		if (json_object_object_get_ex(s, "retry_index", &o) && json_object_get_int(o) > 0)
			retried = true;
	}
	cr_assert(retried, "no step was retried after the driver died: %s", json_object_to_json_string(steps));
	json_object_put(steps);
	json_object_put(t);
	free(id);
	free(body);
}

/* A child process polled until it has exited; status is its wait status. */
struct exit_wait {
	pid_t pid;
	int status;
};

static bool exited(void *arg)
{
	struct exit_wait *ex = arg;

	return waitpid(ex->pid, &ex->status, WNOHANG) == ex->pid;
}

/*
 * SIGTERM to the agent: it stops claiming, hands its task back (the lease
 * ends at once, the attempt is not counted) and exits; the next agent
 * resumes the task after its last completed step and completes it.
 */
Test(agent, sigterm_hands_the_task_back)
{
	char *body = never_body();
	char *id;
	struct exit_wait ex = { 0 };
	json_object *t;

	id = start_task(&(struct task_run){ .key = suite_org.key, .script = slow_script, .body = body }, &ex.pid);
	cr_assert(wait_status(suite_org.key, id, "running", 60));
	wait_db_count("SELECT COUNT(*) FROM steps WHERE task_id = ? AND status = 'completed'", id, 1, 120);
	kill(ex.pid, SIGTERM);
	cr_assert(wait_until(exited, &ex, 30000), "the agent did not exit within 30 s of SIGTERM");
	cr_assert(WIFEXITED(ex.status) && WEXITSTATUS(ex.status) == 0, "exit status %d", ex.status);
	/* Handed back: still running, no owner, lease already over, attempt not counted. */
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE id = ? AND status = 'running' "
			       "AND lease_owner IS NULL AND lease_until <= UTC_TIMESTAMP(6) AND attempt = 0", id), 1,
		     "the task was not handed back");
	agent_start(NULL);
	t = wait_final(suite_org.key, id, 180);
	cr_assert_str_eq(status_of(t), "completed", "%s", json_object_to_json_string(t));
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM steps WHERE task_id = ? AND step_order = 0 AND status = 'completed'", id), 1);
	json_object_put(t);
	free(id);
	free(body);
}

Test(agent, worker_killed_task_resumed_by_another)
{
	char *body = never_body();
	char *id;
	pid_t sup, workers[4], holder;
	size_t n;
	json_object *t;

	id = start_task(&(struct task_run){ .key = suite_org.key, .script = slow_script, .body = body,
					   .overrides = "agent_workers = 2\n" }, &sup);
	cr_assert(wait_status(suite_org.key, id, "running", 60));
	wait_db_count("SELECT COUNT(*) FROM steps WHERE task_id = ? AND status = 'completed'", id, 1, 120);
	/* Kill the worker that holds the lease (the one whose pid is in lease_owner). */
	n = agent_workers(sup, workers, 4);
	cr_assert_geq(n, 2, "two task workers (and the webhook sender)");
	holder = agent_lease_worker(sup, id);
	cr_assert_gt(holder, 0, "no worker of the agent holds the lease");
	kill(holder, SIGKILL);
	t = wait_final(suite_org.key, id, 180);
	cr_assert_str_eq(status_of(t), "completed", "%s", json_object_to_json_string(t));
	cr_assert_eq(db_count1("SELECT attempt FROM tasks WHERE id = ?", id), 2);
	/* It resumed after its last completed step: order 0 ran once, to completion. */
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM steps WHERE task_id = ? AND step_order = 0 AND status = 'completed'", id), 1);
	json_object_put(t);
	free(id);
	free(body);
}

Test(agent, two_daemons_run_each_task_once, .timeout = 600)
{
	static const char script[] =
		"{\"rules\":[{\"kind\":\"extract\",\"answers\":[{\"name\":\"Trailblazer 2 Tent\",\"price\":249}]}]}";
	char *body = product_body();
	char *ids[20];
	json_object *reqs;
	size_t extracts = 0;

	llm_double_script(script);
	for (int i = 0; i < 20; i++)
		ids[i] = post_task(suite_org.key, body, NULL);
	agent_start("agent_workers = 2\n");
	agent_start("agent_workers = 2\n");
	for (int i = 0; i < 20; i++) {
		json_object *t = wait_final(suite_org.key, ids[i], 400);

		cr_assert_str_eq(status_of(t), "completed", "%s", json_object_to_json_string(t));
		cr_assert_eq(db_count1("SELECT COUNT(*) FROM steps WHERE task_id = ?", ids[i]), 1);
		cr_assert_eq(db_count1("SELECT attempt FROM tasks WHERE id = ?", ids[i]), 1);
		json_object_put(t);
		free(ids[i]);
	}
	reqs = llm_double_requests();
	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		json_object *r = json_object_array_get_idx(reqs, i), *k;

		if (json_object_object_get_ex(r, "kind", &k) && strcmp(json_object_get_string(k), "extract") == 0)
			extracts++;
	}
	cr_assert_eq(extracts, 20, "each task extracted exactly once");
	json_object_put(reqs);
	free(body);
}
