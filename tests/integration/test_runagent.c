/*
 * The agent's side of the run API: a run created without url, whose first
 * step asks the model for a start URL (agent/start_url.h), and
 * error_code_mapping, whose codes the model names when a task fails or
 * terminates (agent/errcodes.h, core/errcode.h).  Real nginx, sextant-api,
 * MariaDB, sextant-agent and Chromium on the fixture sites; the LLM test
 * double answers from a script, and tells the calls apart by their marker.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "json.h"

TestSuite(runagent, .init = agent_suite_setup, .fini = agent_suite_fini, .timeout = 300);

static const char mapping[] =
	"{\"OUT_OF_STOCK\":\"the product is out of stock\","
	"\"NOT_FOUND\":\"the product page does not exist or shows no product\"}";

/* POSTs a run with body as suite_org; returns its id (caller frees). */
static char *post_run(const char *body)
{
	struct resp *r = api_post_json("/v1/run/tasks", suite_org.key, body);
	char *id;

	cr_assert_eq(r->status, 200, "create: %ld %s", r->status, r->body);
	id = xstrdup(jstr(r->json, "run_id"));
	resp_free(r);
	return id;
}

/* Scripts the double, starts an agent, POSTs the run and waits for its end; the task (caller puts). */
static json_object *run_run(const char *script, const char *body, char **id_out)
{
	char *id;
	json_object *t;

	static pid_t agent;   /* one per test: Criterion runs each test in a process of its own */

	/* A fresh record for each run: the double keeps what it received across scripts. */
	free(test_double_call(&llm_double, "POST", "/__reset", "{}"));
	llm_double_script(script);
	if (agent <= 0)
		agent = agent_start(NULL);
	id = post_run(body);
	t = wait_final(suite_org.key, id, 240);
	*id_out = id;
	return t;
}

static json_object *steps_of(const char *id)
{
	return api_get_json(suite_org.key, "/api/v1/tasks/%s/steps", id);
}

static json_object *run_of(const char *id)
{
	return api_get_json(suite_org.key, "/v1/runs/%s", id);
}

/* The task's errors entry of code, or NULL; asserts there is at most one. */
static json_object *error_of(json_object *errors, const char *code)
{
	json_object *hit = NULL;

	for (size_t i = 0; i < json_object_array_length(errors); i++) {
		json_object *e = json_object_array_get_idx(errors, i);
		const char *c = sx_json_string(e, "error_code");

		if (c && strcmp(c, code) == 0) {
			cr_assert_null(hit, "two %s entries", code);
			hit = e;
		}
	}
	return hit;
}

Test(runagent, run_without_url_goes_where_the_model_says)
{
	char *page = site_url("product/index.html");
	char *script = xasprintf(
		"{\"rules\":["
		" {\"kind\":\"start_url\",\"answers\":[{\"url\":\"%s\",\"reasoning\":\"The shop's product page\"}]},"
		" {\"kind\":\"decide\",\"match\":\"Aeropress Clear Coffee Maker\",\"answers\":[{\"reasoning\":\"The"
		"   price is shown\",\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"The price is shown\"}]}"
		"]}", page);
	struct resp *r;
	json_object *t, *run, *steps, *s0, *out;
	char *id;

	/* Accepted without url, and shown with url null until the agent chooses. */
	llm_double_script(script);
	r = api_post_json("/v1/run/tasks", suite_org.key,
			  "{\"prompt\":\"Look up the price of the Aeropress Clear\",\"max_steps\":3}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert(json_object_object_get_ex(jget(r, "run_request"), "url", NULL));
	cr_assert_null(sx_json_member(jget(r, "run_request"), "url"));
	id = xstrdup(jstr(r->json, "run_id"));
	resp_free(r);
	agent_start(NULL);
	t = wait_final(suite_org.key, id, 240);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	cr_assert_str_eq(jstr(sx_json_member(t, "request"), "url"), page);
	run = run_of(id);
	cr_assert_str_eq(jstr(sx_json_member(run, "run_request"), "url"), page);
	cr_assert_str_eq(jstr(sx_json_member(run, "run_request"), "prompt"),
			 "Look up the price of the Aeropress Clear");

	/* One start URL call, with the prompt, recorded in the first step like any call. */
	cr_assert_eq(llm_double_asked("start_url", NULL), 1);
	cr_assert_eq(llm_double_asked("start_url", "Look up the price of the Aeropress Clear"), 1);
	steps = steps_of(id);
	s0 = json_object_array_get_idx(steps, 0);
	out = sx_json_member(s0, "output");
	cr_assert_str_eq(jstr(out, "start_url"), page);
	cr_assert_str_eq(jstr(out, "start_url_reasoning"), "The shop's product page");
	cr_assert_str_eq(jstr(out, "url"), page);
	cr_assert_gt(sx_json_int(s0, "input_token_count", 0), 0);
	cr_assert_geq(db_count1("SELECT COUNT(*) FROM artifacts WHERE step_id = ? AND type = 'llm_request'",
				jstr(s0, "step_id")), 2);
	cr_assert_geq(db_count1("SELECT COUNT(*) FROM artifacts WHERE step_id = ? AND type = 'llm_response'",
				jstr(s0, "step_id")), 2);
	json_object_put(steps);
	json_object_put(run);
	json_object_put(t);
	free(id);
	free(script);
	free(page);
}

/* Runs prompt with the start URL answer given; asserts the task failed with a reason holding want. */
static void expect_start_url_failure(const char *answer, const char *want)
{
	char *script = xasprintf("{\"rules\":[{\"kind\":\"start_url\",\"answers\":[%s]}]}", answer);
	json_object *t, *steps;
	char *id;

	t = run_run(script, "{\"prompt\":\"Buy a coffee maker\"}", &id);
	cr_assert_str_eq(jstr(t, "status"), "failed", "%s", json_object_to_json_string(t));
	cr_assert(strstr(jstr(t, "failure_reason"), want), "failure_reason: %s", jstr(t, "failure_reason"));
	/* Nothing was stored as the url, and nothing else was asked: the browser went nowhere. */
	cr_assert_null(sx_json_member(sx_json_member(t, "request"), "url"));
	cr_assert_eq(llm_double_asked("decide", NULL), 0);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM artifacts WHERE task_id = ? AND type = 'screenshot_step'",
			       id), 0);
	steps = steps_of(id);
	cr_assert_eq(json_object_array_length(steps), 1);
	cr_assert_str_eq(jstr(json_object_array_get_idx(steps, 0), "status"), "failed");
	json_object_put(steps);
	json_object_put(t);
	free(id);
	free(script);
}

Test(runagent, unusable_model_url_fails_the_task)
{
	expect_start_url_failure("{\"__raw\":\"You should try a coffee shop\"}",
				 "The model chose no start URL: its answer is not JSON");
	expect_start_url_failure("{\"reasoning\":\"no idea\"}",
				 "The model chose no start URL: its answer has no \"url\" string");
	expect_start_url_failure("{\"url\":\"ftp://files.example.com/\"}",
				 "The start URL the model chose cannot be used: Invalid URL: ftp://files.example.com/");
}

Test(runagent, refused_model_url_fails_the_task)
{
	expect_start_url_failure("{\"url\":\"http://169.254.169.254/latest/meta-data/\"}",
				 "The start URL the model chose cannot be used: Invalid URL: 169.254.169.254 is");
	expect_start_url_failure("{\"url\":\"http://[::1]:8080/\"}",
				 "The start URL the model chose cannot be used: Invalid URL: ::1 is");
}

/* A POST /api/v1/tasks body on the product fixture with goal and the mapping (caller frees). */
static char *mapped_task(const char *goal)
{
	char *page = site_url("product/index.html");
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"%s\",\"error_code_mapping\":%s}",
			       page, goal, mapping);

	free(page);
	return body;
}

Test(runagent, error_code_of_a_terminate_is_reported)
{
	char *body = mapped_task("Buy the Aeropress");
	const char script[] =
		"{\"rules\":[{\"kind\":\"decide\",\"answers\":[{\"reasoning\":\"Cannot buy\",\"actions\":["
		" {\"action\":\"terminate\",\"reason\":\"The product cannot be bought\",\"errors\":["
		"  {\"error_code\":\"OUT_OF_STOCK\",\"reasoning\":\"The page says the product is sold out\","
		"   \"confidence_float\":0.95},"
		"  {\"error_code\":\"LLM_REASONING_ERROR\",\"reasoning\":\"not the user's\",\"confidence_float\":1}"
		"]}]}]}]}";
	struct task_run tr = { .key = suite_org.key, .script = script, .body = body };
	json_object *t, *e, *run, *steps;
	char *id;

	t = run_task(&tr, &id);
	cr_assert_str_eq(jstr(t, "status"), "terminated", "%s", json_object_to_json_string(t));
	/* Skyvern's terminate with errors: the reasonings are the failure_reason. */
	cr_assert_str_eq(jstr(t, "failure_reason"), "The page says the product is sold out");
	cr_assert_eq(json_object_array_length(sx_json_member(t, "errors")), 1);
	e = error_of(sx_json_member(t, "errors"), "OUT_OF_STOCK");
	cr_assert_not_null(e);
	cr_assert_str_eq(jstr(e, "reasoning"), "The page says the product is sold out");
	cr_assert_str_eq(jstr(e, "error_type"), "USER_DEFINED_ERROR");
	cr_assert_float_eq(json_object_get_double(sx_json_member(e, "confidence_float")), 0.95, 1e-9);
	/* The decide prompt carried the codes; no other call was needed. */
	cr_assert_geq(llm_double_asked("decide", "the product is out of stock"), 1);
	cr_assert_eq(llm_double_asked("errors", NULL), 0);
	run = run_of(id);
	cr_assert_str_eq(jstr(run, "failure_reason"), "The page says the product is sold out");
	cr_assert_not_null(error_of(sx_json_member(run, "errors"), "OUT_OF_STOCK"));
	steps = steps_of(id);
	cr_assert_not_null(error_of(sx_json_member(sx_json_member(json_object_array_get_idx(steps, 0),
								 "output"), "errors"), "OUT_OF_STOCK"));
	json_object_put(steps);
	json_object_put(run);
	json_object_put(t);
	free(id);
	free(body);
}

/* A run out of steps (max_steps 1) with a mapping, the errors call answering answer. */
static json_object *out_of_steps(const char *answer, char **id)
{
	char *page = site_url("product/index.html");
	char *body = xasprintf("{\"prompt\":\"Buy the Aeropress\",\"url\":\"%s\",\"max_steps\":1,"
			       "\"error_code_mapping\":%s}", page, mapping);
	char *script = xasprintf(
		"{\"rules\":["
		" {\"kind\":\"decide\",\"answers\":[{\"reasoning\":\"Look further\","
		"   \"actions\":[{\"action\":\"scroll\",\"direction\":\"down\"}]}]},"
		" {\"kind\":\"errors\",\"answers\":[%s]}]}", answer);
	json_object *t = run_run(script, body, id);

	cr_assert_str_eq(jstr(t, "status"), "failed", "%s", json_object_to_json_string(t));
	/* The reason is the server's own: the codes go to errors. */
	cr_assert_str_eq(jstr(t, "failure_reason"), "Max steps per task (1) exceeded");
	cr_assert_eq(llm_double_asked("errors", "Max steps per task (1) exceeded"), 1, "asked %zu times: %s",
		     llm_double_asked("errors", NULL), answer);
	cr_assert_eq(llm_double_asked("errors", "the product is out of stock"), 1);
	free(script);
	free(body);
	free(page);
	return t;
}

Test(runagent, error_code_is_asked_for_when_out_of_steps)
{
	json_object *t, *e, *steps, *s0;
	char *id;

	t = out_of_steps("{\"reasoning\":\"r\",\"errors\":[{\"error_code\":\"NOT_FOUND\","
			 "\"reasoning\":\"No buy button led anywhere\",\"confidence_float\":0.6},"
			 "{\"error_code\":\"MADE_UP\",\"reasoning\":\"x\",\"confidence_float\":0.9}]}", &id);
	cr_assert_eq(json_object_array_length(sx_json_member(t, "errors")), 1);
	e = error_of(sx_json_member(t, "errors"), "NOT_FOUND");
	cr_assert_not_null(e);
	cr_assert_str_eq(jstr(e, "reasoning"), "No buy button led anywhere");
	/* The call is the last step's, with its tokens and exchange. */
	steps = steps_of(id);
	cr_assert_eq(json_object_array_length(steps), 1);
	s0 = json_object_array_get_idx(steps, 0);
	cr_assert_not_null(error_of(sx_json_member(sx_json_member(s0, "output"), "errors"), "NOT_FOUND"));
	cr_assert_geq(db_count1("SELECT COUNT(*) FROM artifacts WHERE step_id = ? AND type = 'llm_request'",
				jstr(s0, "step_id")), 2);
	json_object_put(steps);
	json_object_put(t);
	free(id);
}

Test(runagent, garbage_error_code_answer_records_nothing)
{
	static const char *const answers[] = {
		"{\"__raw\":\"OUT_OF_STOCK probably\"}",
		"{\"errors\":[{\"error_code\":\"OUT_OF_STOCK\",\"reasoning\":\"sold out\",\"confidence_float\":7}]}",
		"{\"__http\":400}",
	};

	for (size_t i = 0; i < SX_ARRAY_LEN(answers); i++) {
		json_object *t;
		char *id;

		t = out_of_steps(answers[i], &id);
		cr_assert_eq(json_object_array_length(sx_json_member(t, "errors")), 0, "%s: %s", answers[i],
			     json_object_to_json_string(sx_json_member(t, "errors")));
		json_object_put(t);
		free(id);
	}
}

Test(runagent, error_code_mapping_ignored_on_completed)
{
	char *body = mapped_task("Look at the Aeropress");
	const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"answers\":[{\"reasoning\":\"Seen\",\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"Shown\"}]},"
		" {\"kind\":\"errors\",\"answers\":[{\"errors\":[{\"error_code\":\"NOT_FOUND\","
		"   \"reasoning\":\"x\",\"confidence_float\":1}]}]}]}";
	struct task_run tr = { .key = suite_org.key, .script = script, .body = body };
	json_object *t, *run;
	char *id;

	t = run_task(&tr, &id);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	cr_assert_null(sx_json_member(t, "failure_reason"));
	cr_assert_eq(json_object_array_length(sx_json_member(t, "errors")), 0);
	cr_assert_eq(llm_double_asked("errors", NULL), 0);
	run = run_of(id);
	cr_assert_eq(json_object_array_length(sx_json_member(run, "errors")), 0);
	json_object_put(run);
	json_object_put(t);
	free(id);
	free(body);
}

Test(runagent, bad_mapping_rejected_with_nothing_written)
{
	static const struct {
		const char *mapping;
		const char *type;
	} cases[] = {
		{ "\"OUT_OF_STOCK\"", "dict_type" },
		{ "[\"OUT_OF_STOCK\"]", "dict_type" },
		{ "{\"OUT_OF_STOCK\":5}", "string_type" },
		{ "{\"\":\"empty code\"}", "string_too_short" },
	};
	static const char *const paths[] = { "/api/v1/tasks", "/v1/run/tasks" };
	struct resp *r;
	char *many, *body, *longcode;
	long long before = db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", suite_org.id);

	for (size_t p = 0; p < SX_ARRAY_LEN(paths); p++) {
		for (size_t i = 0; i < SX_ARRAY_LEN(cases); i++) {
			body = xasprintf("{\"url\":\"https://shop.example.com/\",\"prompt\":\"p\","
					 "\"navigation_goal\":\"g\",\"error_code_mapping\":%s}", cases[i].mapping);
			r = api_post_json(paths[p], suite_org.key, body);
			cr_assert_eq(r->status, 422, "%s %s: %ld %s", paths[p], body, r->status, r->body);
			cr_assert(strstr(r->body, "[\"body\",\"error_code_mapping\"]"), "%s", r->body);
			cr_assert(strstr(r->body, cases[i].type), "%s: %s", cases[i].type, r->body);
			resp_free(r);
			free(body);
		}
	}
	/* Past the caps: 51 codes, or a code of 129 bytes. */
	many = xstrdup("{\"C0\":\"x\"");
	for (int i = 1; i <= 50; i++) {
		char *m = xasprintf("%s,\"C%d\":\"x\"", many, i);

		free(many);
		many = m;
	}
	longcode = xasprintf("{\"%0129d\":\"x\"}", 0);
	for (size_t p = 0; p < SX_ARRAY_LEN(paths); p++) {
		body = xasprintf("{\"url\":\"https://shop.example.com/\",\"prompt\":\"p\",\"error_code_mapping\":%s}}",
				 many);
		r = api_post_json(paths[p], suite_org.key, body);
		cr_assert_eq(r->status, 422, "%s: %ld %s", paths[p], r->status, r->body);
		cr_assert(strstr(r->body, "too_long"), "%s", r->body);
		resp_free(r);
		free(body);
		body = xasprintf("{\"url\":\"https://shop.example.com/\",\"prompt\":\"p\",\"error_code_mapping\":%s}",
				 longcode);
		r = api_post_json(paths[p], suite_org.key, body);
		cr_assert_eq(r->status, 422, "%s: %ld %s", paths[p], r->status, r->body);
		cr_assert(strstr(r->body, "string_too_long"), "%s", r->body);
		resp_free(r);
		free(body);
	}
	/* /api/v1/tasks keeps requiring url; only the run API may leave it out. */
	r = api_post_json("/api/v1/tasks", suite_org.key, "{\"navigation_goal\":\"g\"}");
	cr_assert_eq(r->status, 422, "%ld %s", r->status, r->body);
	cr_assert(strstr(r->body, "[\"body\",\"url\"]"), "%s", r->body);
	resp_free(r);
	cr_assert_eq(db_count1("SELECT COUNT(*) FROM tasks WHERE org_id = ?", suite_org.id), before);
	free(longcode);
	free(many);
}
