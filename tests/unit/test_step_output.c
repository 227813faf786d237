/*
 * A step's output in Skyvern's AgentStepOutput shape (core/step_output.h):
 * the derived action_results, actions_and_results and errors, null versus
 * empty, and the Action members of one recorded action.
 */
#include "step_output.h"
#include "json.h"
#include "task.h"

#include <criterion/criterion.h>

/* A completed step (order 2, retry 1) whose output is the JSON text out (NULL: none). */
static void step_with(struct step *s, const char *out)
{
	memset(s, 0, sizeof(*s));
	s->id = xstrdup("stp_1");
	s->task_id = xstrdup("tsk_1");
	s->org_id = xstrdup("o_1");
	s->order = 2;
	s->retry_index = 1;
	s->output = out ? json_tokener_parse(out) : NULL;
	cr_assert(!out || s->output, "bad fixture %s", out);
}

/* step_with(s, out), then its output as step_output_json() shows it (caller puts). */
static json_object *output_of(struct step *s, const char *out)
{
	step_with(s, out);
	return step_output_json(s);
}

static const char two_actions[] =
	"{\"reasoning\":\"r\",\"actions\":["
	"{\"action\":\"click\",\"element\":\"e1\",\"result\":{\"success\":true,\"error\":null,\"screenshot\":\"a.png\"}},"
	"{\"action\":\"terminate\",\"reasoning\":\"no\",\"errors\":[{\"error_code\":\"NO_STOCK\","
	"\"reasoning\":\"sold out\",\"confidence_float\":0.9},\"plain text\"],"
	"\"result\":{\"success\":false,\"error\":\"gone\"}},"
	"{\"action\":\"uncheck\",\"element\":\"e3\"}]}";

Test(step_output, keeps_the_record_and_adds_skyverns_members)
{
	struct step s;
	json_object *o, *res, *r0, *r1;

	o = output_of(&s, two_actions);
	cr_assert_str_eq(sx_json_string(o, "reasoning"), "r");
	cr_assert_eq(json_object_array_length(sx_json_member(o, "actions")), 3);
	res = sx_json_member(o, "action_results");
	cr_assert_eq(json_object_array_length(res), 2, "one result per recorded result");
	r0 = json_object_array_get_idx(res, 0);
	r1 = json_object_array_get_idx(res, 1);
	cr_assert(sx_json_bool(r0, "success"));
	cr_assert_null(sx_json_member(r0, "exception_message"));
	cr_assert(json_object_object_get_ex(r0, "exception_type", NULL));
	cr_assert(json_object_object_get_ex(r0, "data", NULL));
	cr_assert_eq(sx_json_int(r0, "step_order", -1), 2);
	cr_assert_eq(sx_json_int(r0, "step_retry_number", -1), 1);
	cr_assert(sx_json_bool(r0, "stop_execution_on_failure"));
	cr_assert_not(sx_json_bool(r1, "success"));
	cr_assert_str_eq(sx_json_string(r1, "exception_message"), "gone");
	json_object_put(o);
	step_release(&s);
}

Test(step_output, pairs_each_action_with_its_results)
{
	struct step s;
	json_object *o, *pairs, *p, *a;

	o = output_of(&s, two_actions);
	pairs = sx_json_member(o, "actions_and_results");
	cr_assert_eq(json_object_array_length(pairs), 3);
	p = json_object_array_get_idx(pairs, 0);
	cr_assert_eq(json_object_array_length(p), 2);
	a = json_object_array_get_idx(p, 0);
	cr_assert_str_eq(sx_json_string(a, "action_type"), "click");
	cr_assert_str_eq(sx_json_string(a, "element_id"), "e1");
	cr_assert_str_eq(sx_json_string(a, "status"), "completed");
	cr_assert_str_eq(sx_json_string(a, "step_id"), "stp_1");
	cr_assert_str_eq(sx_json_string(a, "organization_id"), "o_1");
	cr_assert_eq(sx_json_int(a, "action_order", -1), 0);
	cr_assert_eq(json_object_array_length(json_object_array_get_idx(p, 1)), 1);
	/* The same result object in both lists. */
	cr_assert(json_object_equal(json_object_array_get_idx(json_object_array_get_idx(p, 1), 0),
				    json_object_array_get_idx(sx_json_member(o, "action_results"), 0)));
	p = json_object_array_get_idx(pairs, 2);
	a = json_object_array_get_idx(p, 0);
	cr_assert_str_eq(sx_json_string(a, "action_type"), "checkbox");
	cr_assert(json_object_object_get_ex(a, "is_checked", NULL) && !sx_json_bool(a, "is_checked"));
	cr_assert_str_eq(sx_json_string(a, "status"), "pending");
	cr_assert_eq(json_object_array_length(json_object_array_get_idx(p, 1)), 0,
		     "an action without a result has no results");
	json_object_put(o);
	step_release(&s);
}

Test(step_output, errors_are_the_user_defined_errors_of_the_actions)
{
	struct step s;
	json_object *o, *errs, *a;

	o = output_of(&s, two_actions);
	errs = sx_json_member(o, "errors");
	cr_assert_eq(json_object_array_length(errs), 1, "%s", json_object_to_json_string(errs));
	cr_assert_str_eq(sx_json_string(json_object_array_get_idx(errs, 0), "error_code"), "NO_STOCK");
	a = json_object_array_get_idx(json_object_array_get_idx(sx_json_member(o, "actions_and_results"), 1), 0);
	cr_assert_eq(json_object_array_length(sx_json_member(a, "errors")), 1);
	cr_assert_str_eq(sx_json_string(a, "status"), "failed");
	json_object_put(o);
	step_release(&s);
}

Test(step_output, null_versus_empty)
{
	struct step s;
	json_object *o;

	o = output_of(&s, "{\"error\":\"the page did not load\"}");
	cr_assert(json_object_object_get_ex(o, "action_results", NULL));
	cr_assert_null(sx_json_member(o, "action_results"), "no actions recorded: null");
	cr_assert(json_object_object_get_ex(o, "actions_and_results", NULL));
	cr_assert_null(sx_json_member(o, "actions_and_results"));
	cr_assert_str_eq(json_object_to_json_string(sx_json_member(o, "errors")), "[ ]");
	json_object_put(o);
	step_release(&s);

	o = output_of(&s, "{\"actions\":[]}");
	cr_assert_eq(json_object_array_length(sx_json_member(o, "action_results")), 0);
	cr_assert(json_object_is_type(sx_json_member(o, "actions_and_results"), json_type_array));
	cr_assert_eq(json_object_array_length(sx_json_member(o, "actions_and_results")), 0);
	json_object_put(o);
	step_release(&s);

	step_with(&s, NULL);
	cr_assert_null(step_output_json(&s), "a running step keeps output null");
	step_release(&s);
}

Test(step_output, a_recorded_member_of_the_same_name_wins)
{
	struct step s;
	json_object *o = output_of(&s, "{\"actions\":[],\"errors\":[{\"error_code\":\"X\"}]}");

	cr_assert_str_eq(sx_json_string(json_object_array_get_idx(sx_json_member(o, "errors"), 0),
					"error_code"), "X");
	json_object_put(o);
	step_release(&s);
}

Test(step_output, step_object_carries_the_derived_output)
{
	struct step s;
	json_object *o;

	step_with(&s, two_actions);
	o = step_to_json(&s);
	cr_assert_eq(json_object_array_length(sx_json_member(sx_json_member(o, "output"), "action_results")), 2);
	json_object_put(o);
	step_release(&s);
}

Test(step_output, several_options_are_the_first_as_option_and_all_as_options)
{
	struct step_ref where = { "o_1", "tsk_1", "stp_1", 0, 0 };
	json_object *rec = json_tokener_parse("{\"action\":\"select_option\",\"element\":\"e2\","
					      "\"option\":[\"Lisbon\",\"Berlin\"]}");
	json_object *one = json_tokener_parse("{\"action\":\"select_option\",\"element\":\"e2\",\"option\":\"Paris\"}");
	json_object *a = step_output_action(rec, &where, 0), *b = step_output_action(one, &where, 1), *opts;

	cr_assert_str_eq(sx_json_string(sx_json_member(a, "option"), "label"), "Lisbon");
	opts = sx_json_member(a, "options");
	cr_assert_eq(json_object_array_length(opts), 2);
	cr_assert_str_eq(sx_json_string(json_object_array_get_idx(opts, 1), "label"), "Berlin");
	cr_assert_str_eq(sx_json_string(sx_json_member(b, "option"), "label"), "Paris");
	cr_assert_not(json_object_object_get_ex(b, "options", NULL), "one option has no options list");
	json_object_put(a);
	json_object_put(b);
	json_object_put(rec);
	json_object_put(one);
}
