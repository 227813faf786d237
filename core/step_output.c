/*
 * A step's output in Skyvern's AgentStepOutput shape (see step_output.h).
 */
#include "sx.h"
#include "step_output.h"
#include "json.h"
#include "task.h"

/* Members of Skyvern's ActionResult that Sextant records nothing for: null. */
static const char *const result_unknown[] = {
	"data", "download_triggered", "upload_file_triggered", "needs_followup",
	"followup_message", "downloaded_files", "interacted_with_sibling",
	"interacted_with_parent", "skip_remaining_actions",
};

/* The action's type as the model named it ("action"; "type" in older records). */
static const char *action_type_of(json_object *action)
{
	const char *t = sx_json_string(action, "action");

	return t ? t : sx_json_string(action, "type");
}

/* The UserDefinedErrors of a recorded action: its "errors" entries that are objects with an error_code. */
static json_object *action_user_errors(json_object *action)
{
	json_object *out = json_object_new_array(), *errs = sx_json_member(action, "errors");

	for (size_t i = 0; json_object_is_type(errs, json_type_array) &&
			   i < json_object_array_length(errs); i++) {
		json_object *e = json_object_array_get_idx(errs, i);

		if (sx_json_string(e, "error_code"))
			json_object_array_add(out, json_object_get(e));
	}
	return out;
}

/* Skyvern's SelectOption for a recorded option's text: {label, value, index}. */
static json_object *select_option(json_object *text)
{
	json_object *so = json_object_new_object();

	json_object_object_add(so, "label", json_object_get(text));
	json_object_object_add(so, "value", NULL);
	json_object_object_add(so, "index", NULL);
	return so;
}

/*
 * Several options chosen at once (a multi-select): option is the first as
 * a SelectOption, which Skyvern's readers expect, and options all of them.
 */
static void add_select_options(json_object *a, json_object *texts)
{
	json_object *all = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(texts); i++)
		json_object_array_add(all, select_option(json_object_array_get_idx(texts, i)));
	json_object_object_add(a, "option", json_object_array_length(all) ?
			       json_object_get(json_object_array_get_idx(all, 0)) : NULL);
	json_object_object_add(a, "options", all);
}

json_object *step_output_action(json_object *action, const struct step_ref *where,
				long long action_order)
{
	json_object *a = json_object_new_object();
	json_object *ok = sx_json_member(sx_json_member(action, "result"), "success");
	const char *type = action_type_of(action);
	bool checkbox = type && (strcmp(type, "check") == 0 || strcmp(type, "uncheck") == 0);

	json_object_object_foreach(action, key, val)
		json_object_object_add(a, key, json_object_get(val));
	/* Skyvern's Action types option as a SelectOption object, not the option's text. */
	if (json_object_is_type(sx_json_member(action, "option"), json_type_string))
		json_object_object_add(a, "option", select_option(sx_json_member(action, "option")));
	else if (json_object_is_type(sx_json_member(action, "option"), json_type_array))
		add_select_options(a, sx_json_member(action, "option"));
	json_object_object_add(a, "action_type", json_object_new_string(
		checkbox ? "checkbox" : type ? type : "null_action"));
	if (checkbox)
		json_object_object_add(a, "is_checked", json_object_new_boolean(strcmp(type, "check") == 0));
	json_object_object_add(a, "element_id", json_object_get(sx_json_member(action, "element")));
	json_object_object_add(a, "status", json_object_new_string(
		!ok ? "pending" : json_object_get_boolean(ok) ? "completed" : "failed"));
	json_object_object_add(a, "errors", action_user_errors(action));
	json_object_object_add(a, "organization_id", sx_json_string_or_null(where->org_id));
	json_object_object_add(a, "task_id", sx_json_string_or_null(where->task_id));
	json_object_object_add(a, "step_id", sx_json_string_or_null(where->step_id));
	json_object_object_add(a, "step_order", json_object_new_int64(where->order));
	json_object_object_add(a, "action_order", json_object_new_int64(action_order));
	return a;
}

/* The recorded result of an action as Skyvern's ActionResult, or NULL when none was recorded. */
static json_object *action_result(json_object *action, const struct step_ref *where)
{
	json_object *res = sx_json_member(action, "result"), *r;
	const char *err = sx_json_string(res, "error");
	bool ok;

	if (!json_object_is_type(res, json_type_object) || !sx_json_member(res, "success"))
		return NULL;
	ok = sx_json_bool(res, "success");
	r = json_object_new_object();
	json_object_object_add(r, "success", json_object_new_boolean(ok));
	/* The first failing action ends a Sextant step, as Skyvern's default does. */
	json_object_object_add(r, "stop_execution_on_failure", json_object_new_boolean(true));
	/* Sextant records the failure's text, not an exception class. */
	json_object_object_add(r, "exception_type", NULL);
	json_object_object_add(r, "exception_message",
			       !ok && err ? json_object_new_string(err) : NULL);
	json_object_object_add(r, "step_retry_number", json_object_new_int64(where->retry_index));
	json_object_object_add(r, "step_order", json_object_new_int64(where->order));
	for (size_t i = 0; i < SX_ARRAY_LEN(result_unknown); i++)
		json_object_object_add(r, result_unknown[i], NULL);
	return r;
}

/* Adds action_results, actions_and_results and errors, derived from acts, to out. */
static void add_derived(json_object *out, json_object *acts, const struct step_ref *where)
{
	bool listed = json_object_is_type(acts, json_type_array);
	json_object *results = listed ? json_object_new_array() : NULL;
	json_object *pairs = listed ? json_object_new_array() : NULL;
	json_object *errors = json_object_new_array();

	for (size_t i = 0; listed && i < json_object_array_length(acts); i++) {
		json_object *a = json_object_array_get_idx(acts, i);
		json_object *r = action_result(a, where), *pair = json_object_new_array();
		json_object *list = json_object_new_array(), *errs = action_user_errors(a);

		if (r) {
			json_object_array_add(results, r);
			json_object_array_add(list, json_object_get(r));
		}
		json_object_array_add(pair, step_output_action(a, where, (long long)i));
		json_object_array_add(pair, list);
		json_object_array_add(pairs, pair);
		for (size_t k = 0; k < json_object_array_length(errs); k++)
			json_object_array_add(errors, json_object_get(json_object_array_get_idx(errs, k)));
		json_object_put(errs);
	}
	if (!json_object_object_get_ex(out, "action_results", NULL))
		json_object_object_add(out, "action_results", json_object_get(results));
	if (!json_object_object_get_ex(out, "actions_and_results", NULL))
		json_object_object_add(out, "actions_and_results", json_object_get(pairs));
	if (!json_object_object_get_ex(out, "errors", NULL))
		json_object_object_add(out, "errors", json_object_get(errors));
	json_object_put(results);
	json_object_put(pairs);
	json_object_put(errors);
}

json_object *step_output_json(const struct step *s)
{
	struct step_ref where = { s->org_id, s->task_id, s->id, s->order, s->retry_index };
	json_object *out;

	if (!json_object_is_type(s->output, json_type_object))
		return json_object_get(s->output);
	out = json_object_new_object();
	json_object_object_foreach(s->output, key, val)
		json_object_object_add(out, key, json_object_get(val));
	add_derived(out, sx_json_member(s->output, "actions"), &where);
	return out;
}
