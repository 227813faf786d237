/*
 * The run API's model (see run.h): a TaskRunRequest read into a task
 * request, and a task shown as a run.
 */
#include "run.h"

/* The TaskRunRequest fields that are task request fields under another name (or the same). */
static const struct {
	const char *run;
	const char *task;
} run_mapped[] = {
	{ "prompt", "navigation_goal" },
	{ "url", "url" },
	{ "title", "title" },
	{ "proxy_location", "proxy_location" },
	{ "data_extraction_schema", "extracted_information_schema" },
	{ "error_code_mapping", "error_code_mapping" },
	{ "extra_http_headers", "extra_http_headers" },
	{ "max_steps", "max_steps" },
	{ "webhook_url", "webhook_callback_url" },
	{ "totp_identifier", "totp_identifier" },
	{ "totp_url", "totp_verification_url" },
};

enum run_kind { RK_STRING, RK_BOOL, RK_INT, RK_DICT };

/* The other fields, kept in run_request: their JSON type and the default stored when absent. */
static const struct {
	const char *name;
	enum run_kind kind;
	const char *def;          /* JSON text of the default; NULL for null */
} run_extra_fields[] = {
	{ "engine", RK_STRING, "\"skyvern-1.0\"" },
	{ "run_with", RK_STRING, NULL },
	{ "browser_session_id", RK_STRING, NULL },
	{ "browser_profile_id", RK_STRING, NULL },
	{ "browser_address", RK_STRING, NULL },
	{ "model", RK_DICT, NULL },
	{ "publish_workflow", RK_BOOL, "false" },
	{ "start_fresh_browser", RK_BOOL, NULL },
	{ "include_action_history_in_verification", RK_BOOL, "false" },
	{ "max_screenshot_scrolls", RK_INT, NULL },
	{ "cdp_connect_headers", RK_DICT, NULL },
};

/* Skyvern's RunEngine values; the first two run here (2.0 as 1.0 does). */
static const char *const run_engines[] = {
	"skyvern-1.0", "skyvern-2.0", "skyvern-3.0", "openai-cua", "anthropic-cua", "ui-tars",
	"yutori-navigator",
};
#define RUN_ENGINES_SUPPORTED 2

/* Fields that would change what the run does, refused when given (not null). */
static const struct {
	const char *name;
	const char *msg;
} run_refused[] = {
	{ "browser_session_id", "browser_session_id is not supported by this server: "
	  "every run starts its own browser" },
	{ "browser_profile_id", "browser_profile_id is not supported by this server: "
	  "every run starts with a fresh browser profile" },
	{ "browser_address", "browser_address is not supported by this server: "
	  "runs use the server's own browser" },
	{ "model", "model is not supported by this server: runs use the LLM that the "
	  "server's configuration names" },
};

static bool run_kind_ok(json_object *v, enum run_kind k)
{
	static const json_type types[] = { [RK_STRING] = json_type_string,
		[RK_BOOL] = json_type_boolean, [RK_INT] = json_type_int, [RK_DICT] = json_type_object };

	return json_object_is_type(v, types[k]);
}

/* The run-only shape checks: prompt given, each other field of its type, enums. */
static enum sx_rc run_check_shape(json_object *root, struct sx_invalid *why)
{
	static const char *const kind_msg[][2] = {
		[RK_STRING] = { "string_type", "Input should be a valid string" },
		[RK_BOOL] = { "bool_type", "Input should be a valid boolean" },
		[RK_INT] = { "int_type", "Input should be a valid integer" },
		[RK_DICT] = { "dict_type", "Input should be a valid dictionary" },
	};
	const char *engine = sx_json_string(root, "engine"), *with = sx_json_string(root, "run_with");
	enum sx_rc rc = SX_OK;
	bool known = false;
	json_object *v;

	if (!sx_json_member(root, "prompt")) {
		rc = sx_invalid_set(why, SX_INVALID_SHAPE, "prompt", "missing", "Field required");
		goto out;
	}
	for (size_t i = 0; i < SX_ARRAY_LEN(run_extra_fields); i++) {
		v = sx_json_member(root, run_extra_fields[i].name);
		if (v && !run_kind_ok(v, run_extra_fields[i].kind)) {
			rc = sx_invalid_set(why, SX_INVALID_SHAPE, run_extra_fields[i].name,
					    kind_msg[run_extra_fields[i].kind][0], "%s",
					    kind_msg[run_extra_fields[i].kind][1]);
			goto out;
		}
	}
	for (size_t i = 0; engine && i < SX_ARRAY_LEN(run_engines); i++)
		known = known || strcmp(engine, run_engines[i]) == 0;
	if (engine && !known) {
		rc = sx_invalid_set(why, SX_INVALID_SHAPE, "engine", "enum",
				    "Input should be 'skyvern-1.0', 'skyvern-2.0', 'skyvern-3.0', "
				    "'openai-cua', 'anthropic-cua', 'ui-tars' or 'yutori-navigator'");
		goto out;
	}
	if (with && strcmp(with, "agent") != 0 && strcmp(with, "code") != 0)
		rc = sx_invalid_set(why, SX_INVALID_SHAPE, "run_with", "enum",
				    "Input should be 'agent' or 'code'");
out:
	return rc;
}

/* The run-only value checks: what this server does not do is refused, never dropped. */
static enum sx_rc run_check_values(json_object *root, struct sx_invalid *why)
{
	const char *engine = sx_json_string(root, "engine");
	json_object *v = sx_json_member(root, "publish_workflow");
	enum sx_rc rc = SX_OK;
	bool supported = !engine;

	for (size_t i = 0; engine && i < RUN_ENGINES_SUPPORTED; i++)
		supported = supported || strcmp(engine, run_engines[i]) == 0;
	if (!supported) {
		rc = sx_invalid_set(why, SX_INVALID_VALUE, "engine", NULL,
				    "engine %s is not supported by this server: it runs the "
				    "skyvern-1.0 task engine (skyvern-2.0 is accepted and runs the same)",
				    engine);
		goto out;
	}
	for (size_t i = 0; i < SX_ARRAY_LEN(run_refused); i++) {
		if (sx_json_member(root, run_refused[i].name)) {
			rc = sx_invalid_set(why, SX_INVALID_VALUE, run_refused[i].name, NULL, "%s",
					    run_refused[i].msg);
			goto out;
		}
	}
	if (v && json_object_get_boolean(v)) {
		rc = sx_invalid_set(why, SX_INVALID_VALUE, "publish_workflow", NULL,
				    "publish_workflow is not supported by this server (it has no workflows)");
		goto out;
	}
	if (json_object_is_type(sx_json_member(root, "proxy_location"), json_type_object)) {
		rc = sx_invalid_set(why, SX_INVALID_VALUE, "proxy_location", NULL,
				    "proxy_location as an object ({country, subdivision, city} or {url}) "
				    "is not supported by this server: use a proxy name such as "
				    "RESIDENTIAL, RESIDENTIAL_<country> or NONE");
	}
out:
	return rc;
}

/* The task request fields of root under their task names (members shared by reference). */
static json_object *run_as_task_body(json_object *root)
{
	json_object *body = json_object_new_object(), *v;

	for (size_t i = 0; i < SX_ARRAY_LEN(run_mapped); i++) {
		v = sx_json_member(root, run_mapped[i].run);
		/* An object proxy_location is refused by run_check_values, after the shapes. */
		if (!v || (json_object_is_type(v, json_type_object) &&
			   strcmp(run_mapped[i].run, "proxy_location") == 0))
			continue;
		json_object_object_add(body, run_mapped[i].task, json_object_get(v));
	}
	return body;
}

/* run_extra_fields as given in root, defaults filled in. */
static json_object *run_extra_of(json_object *root)
{
	json_object *extra = json_object_new_object(), *v;

	for (size_t i = 0; i < SX_ARRAY_LEN(run_extra_fields); i++) {
		v = root ? sx_json_member(root, run_extra_fields[i].name) : NULL;
		if (v)
			v = json_object_get(v);
		else if (run_extra_fields[i].def)
			v = json_tokener_parse(run_extra_fields[i].def);
		json_object_object_add(extra, run_extra_fields[i].name, v);
	}
	return extra;
}

enum sx_rc run_request_parse(const char *body, size_t len, int max_depth,
			     const struct task_limits *lim, json_object **request,
			     json_object **run_extra, struct sx_invalid *why)
{
	json_object *root = NULL, *task_body = NULL, *req = NULL;
	enum sx_rc rc;

	*request = *run_extra = NULL;
	rc = task_body_parse(body, len, max_depth, &root, why);
	if (rc == SX_OK)
		rc = run_check_shape(root, why);
	if (rc)
		goto out;
	task_body = run_as_task_body(root);
	rc = task_request_from_json(task_body, max_depth, lim, true, &req, why);
	for (size_t i = 0; rc && i < SX_ARRAY_LEN(run_mapped); i++)
		sx_invalid_rename(why, run_mapped[i].task, run_mapped[i].run);
	if (rc == SX_OK)
		rc = run_check_values(root, why);
	if (rc)
		goto out;
	*request = req;
	req = NULL;
	*run_extra = run_extra_of(root);
out:
	json_object_put(req);
	json_object_put(task_body);
	json_object_put(root);
	return rc;
}

json_object *run_request_of(const struct task *t)
{
	json_object *o = json_object_new_object(), *extra = t->run_request;

	for (size_t i = 0; i < SX_ARRAY_LEN(run_mapped); i++)
		json_object_object_add(o, run_mapped[i].run,
				       json_object_get(sx_json_member(t->request, run_mapped[i].task)));
	/*
	 * Skyvern's SDK models require a prompt (a string).  A task created
	 * through /api/v1/tasks may have no navigation_goal: its extraction
	 * goal says what it does, else the prompt is empty.
	 */
	if (!sx_json_string(o, "prompt")) {
		const char *goal = sx_json_string(t->request, "data_extraction_goal");

		json_object_object_add(o, "prompt", json_object_new_string(goal ? goal : ""));
	}
	if (!json_object_is_type(extra, json_type_object))
		extra = run_extra_of(NULL);
	else
		json_object_get(extra);
	json_object_object_foreach(extra, key, val)
		json_object_object_add(o, key, json_object_get(val));
	json_object_put(extra);
	return o;
}

/*
 * Skyvern's script_run (ScriptRunResponse) from what replay did: a task
 * that replayed a trace ran its "script", and ai_fallback_triggered says
 * whether the model took over (healed); script_id is the trace's id and
 * script_revision_id its version.  null when no trace was replayed.
 */
static json_object *run_script_of(const struct task *t)
{
	const char *outcome = sx_json_string(t->replay, "outcome");
	json_object *o;
	char rev[32];

	if (!outcome || (strcmp(outcome, "hit") != 0 && strcmp(outcome, "healed") != 0))
		return NULL;
	o = json_object_new_object();
	snprintf(rev, sizeof(rev), "%lld", (long long)sx_json_int(t->replay, "trace_version", 0));
	json_object_object_add(o, "ai_fallback_triggered", json_object_new_boolean(strcmp(outcome, "healed") == 0));
	json_object_object_add(o, "script_id", json_object_get(sx_json_member(t->replay, "trace_id")));
	json_object_object_add(o, "script_revision_id", json_object_new_string(rev));
	return o;
}

json_object *run_to_json(const struct task *t, const char *app_base)
{
	json_object *o = json_object_new_object(), *rr = run_request_of(t);
	char *app = app_base && *app_base && t->id ? xasprintf("%s/ui/#/tasks/%s", app_base, t->id) : NULL;

	json_object_object_add(o, "run_id", sx_json_string_or_null(t->id));
	json_object_object_add(o, "run_type", json_object_new_string("task_v1"));
	json_object_object_add(o, "status", json_object_new_string(task_status_name(t->status)));
	json_object_object_add(o, "output", json_object_get(t->extracted_information));
	json_object_object_add(o, "downloaded_files", NULL);
	json_object_object_add(o, "recording_url", sx_json_string_or_null(t->recording_url));
	json_object_object_add(o, "recording_archived", json_object_new_boolean(false));
	json_object_object_add(o, "screenshot_urls",
			       t->action_screenshot_urls ? json_object_get(t->action_screenshot_urls)
							 : json_object_new_array());
	json_object_object_add(o, "failure_reason", sx_json_string_or_null(t->failure_reason));
	json_object_object_add(o, "created_at", sx_json_string_or_null(t->created_at));
	json_object_object_add(o, "modified_at", sx_json_string_or_null(t->modified_at));
	json_object_object_add(o, "queued_at", sx_json_string_or_null(t->queued_at));
	json_object_object_add(o, "started_at", sx_json_string_or_null(t->started_at));
	json_object_object_add(o, "finished_at", sx_json_string_or_null(t->finished_at));
	json_object_object_add(o, "app_url", sx_json_string_or_null(app));
	json_object_object_add(o, "browser_session_id", NULL);
	json_object_object_add(o, "browser_profile_id", NULL);
	json_object_object_add(o, "max_screenshot_scrolls",
			       json_object_get(sx_json_member(rr, "max_screenshot_scrolls")));
	json_object_object_add(o, "script_run", run_script_of(t));
	json_object_object_add(o, "errors",
			       t->errors ? json_object_get(t->errors) : json_object_new_array());
	json_object_object_add(o, "step_count", json_object_new_int64(t->step_count));
	json_object_object_add(o, "run_request", rr);
	free(app);
	return o;
}
