/*
 * Step output in Skyvern's AgentStepOutput shape (core/step_output.h), read
 * through GET /api/v1/tasks/{id}/steps: a real sextant-agent run with the
 * LLM test double (a failing click, then a retry that selects and
 * terminates with a user-defined error) shows action_results,
 * actions_and_results and errors next to the recorded actions; a step
 * recorded without actions shows the two lists as null.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "json.h"

static struct test_org org;

static void setup(void)
{
	agent_suite_init(&org, "step_output");
}

TestSuite(step_output, .init = setup, .fini = agent_suite_fini, .timeout = 240);

/* Member i of array a, and member key of that. */
static json_object *at(json_object *a, size_t i)
{
	cr_assert(json_object_is_type(a, json_type_array) && i < json_object_array_length(a),
		  "no item %zu in %s", i, json_object_to_json_string(a));
	return json_object_array_get_idx(a, i);
}

/* The steps of task id (caller puts). */
static json_object *steps_of(const char *id)
{
	json_object *s = api_get_json(org.key, "/api/v1/tasks/%s/steps", id);

	cr_assert(json_object_is_type(s, json_type_array), "steps: %s", json_object_to_json_string(s));
	return s;
}

/* A terminated run of two attempts at step 0: a click on no element, then select and terminate. */
static char *failed_then_terminated(void)
{
	static const char script[] =
		"{\"rules\":[{\"kind\":\"decide\",\"answers\":["
		" {\"reasoning\":\"try\",\"actions\":[{\"action\":\"click\",\"element\":\"e999\",\"reasoning\":\"guess\"}]},"
		" {\"reasoning\":\"again\",\"actions\":["
		"  {\"action\":\"select_option\",\"label\":\"Quantity\",\"option\":\"3\",\"reasoning\":\"three\"},"
		"  {\"action\":\"terminate\",\"reason\":\"Out of stock\",\"errors\":[{\"error_code\":\"OUT_OF_STOCK\","
		"   \"reasoning\":\"The page says sold out\",\"confidence_float\":0.9}]}]}]}]}";
	char *url = site_url("product/index.html");
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Buy three\"}", url);
	json_object *t;
	char *id;

	t = run_task(&(struct task_run){ .key = org.key, .script = script, .body = body }, &id);
	cr_assert_str_eq(jstr(t, "status"), "terminated", "%s", json_object_to_json_string(t));
	json_object_put(t);
	free(body);
	free(url);
	return id;
}

Test(step_output, a_real_run_reads_as_agent_step_output)
{
	char *id = failed_then_terminated();
	json_object *steps = steps_of(id), *out, *r, *pair, *a;

	cr_assert_eq(json_object_array_length(steps), 2, "%s", json_object_to_json_string(steps));
	/* Step 0, first attempt: the click failed. */
	out = sx_json_member(at(steps, 0), "output");
	cr_assert_eq(json_object_array_length(sx_json_member(out, "actions")), 1, "today's members stay");
	r = at(sx_json_member(out, "action_results"), 0);
	cr_assert_not(sx_json_bool(r, "success"));
	cr_assert(jstr(r, "exception_message"), "a failure carries its message: %s", json_object_to_json_string(r));
	cr_assert_eq(sx_json_int(r, "step_order", -1), 0);
	cr_assert_eq(sx_json_int(r, "step_retry_number", -1), 0);
	pair = at(sx_json_member(out, "actions_and_results"), 0);
	a = at(pair, 0);
	cr_assert_str_eq(jstr(a, "action_type"), "click");
	cr_assert_str_eq(jstr(a, "status"), "failed");
	cr_assert(json_object_equal(at(at(pair, 1), 0), r), "the pair holds the same result");
	cr_assert_eq(json_object_array_length(sx_json_member(out, "errors")), 0);
	/* Step 0, retry 1: select, then terminate with the model's user-defined error. */
	out = sx_json_member(at(steps, 1), "output");
	cr_assert_eq(json_object_array_length(sx_json_member(out, "action_results")), 2);
	r = at(sx_json_member(out, "action_results"), 0);
	cr_assert(sx_json_bool(r, "success"));
	cr_assert_null(sx_json_member(r, "exception_message"));
	cr_assert_eq(sx_json_int(r, "step_retry_number", -1), 1);
	a = at(at(sx_json_member(out, "actions_and_results"), 1), 0);
	cr_assert_str_eq(jstr(a, "action_type"), "terminate");
	cr_assert_str_eq(jstr(a, "step_id"), jstr(at(steps, 1), "step_id"));
	cr_assert_eq(sx_json_int(a, "action_order", -1), 1);
	cr_assert_str_eq(jstr(at(sx_json_member(out, "errors"), 0), "error_code"), "OUT_OF_STOCK");
	cr_assert_str_eq(jstr(at(sx_json_member(a, "errors"), 0), "error_code"), "OUT_OF_STOCK");
	json_object_put(steps);
	free(id);
}

/* The task's actions carry Skyvern's Action errors: user-defined errors, not failure texts. */
Test(step_output, actions_route_uses_the_same_action_shape)
{
	char *id = failed_then_terminated();
	json_object *acts = api_get_json(org.key, "/api/v1/tasks/%s/actions", id);

	cr_assert_eq(json_object_array_length(acts), 3, "%s", json_object_to_json_string(acts));
	cr_assert_str_eq(jstr(at(acts, 0), "action_type"), "click");
	cr_assert_eq(json_object_array_length(sx_json_member(at(acts, 0), "errors")), 0);
	cr_assert_str_eq(jstr(at(acts, 1), "action_type"), "select_option");
	cr_assert_str_eq(jstr(at(acts, 2), "action_type"), "terminate");
	cr_assert_str_eq(jstr(at(sx_json_member(at(acts, 2), "errors"), 0), "error_code"), "OUT_OF_STOCK");
	json_object_put(acts);
	free(id);
}

/* A step recorded without a list of actions: null lists, an empty errors list. */
Test(step_output, no_actions_recorded_reads_as_null_lists)
{
	char *id = create_task(org.key, "https://steps.example.com/");
	json_object *steps, *out;

	db_exec2("INSERT INTO steps (id, task_id, org_id, status, step_order, retry_index, output, "
		 "created_at, modified_at) SELECT CONCAT('stp_', RIGHT(id, 26)), id, org_id, 'failed', 0, 0, "
		 "'{\"error\":\"the page did not load\"}', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) "
		 "FROM tasks WHERE id = ? AND org_id = ?", id, org.id);
	steps = steps_of(id);
	out = sx_json_member(at(steps, 0), "output");
	cr_assert_str_eq(jstr(out, "error"), "the page did not load");
	cr_assert(json_object_object_get_ex(out, "action_results", NULL));
	cr_assert_null(sx_json_member(out, "action_results"));
	cr_assert(json_object_object_get_ex(out, "actions_and_results", NULL));
	cr_assert_null(sx_json_member(out, "actions_and_results"));
	cr_assert(json_object_is_type(sx_json_member(out, "errors"), json_type_array));
	cr_assert_eq(json_object_array_length(sx_json_member(out, "errors")), 0);
	json_object_put(steps);
	db_exec2("UPDATE tasks SET status = 'canceled' WHERE id = ? AND org_id = ?", id, org.id);
	free(id);
}
