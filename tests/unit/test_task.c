#include "task.h"

#include <criterion/criterion.h>

/* The contract's table, written out independently of task.c's bit masks. */
static const bool expected_moves[TASK_STATUS_COUNT][TASK_STATUS_COUNT] = {
	/*               cre    que    run    com    ter    fai    can    tim */
	[TASK_CREATED] = { false, true, true, false, false, true, true, false },
	[TASK_QUEUED] = { false, false, true, false, false, true, true, true },
	[TASK_RUNNING] = { false, false, false, true, true, true, true, true },
	[TASK_COMPLETED] = { false },
	[TASK_TERMINATED] = { false },
	[TASK_FAILED] = { false },
	[TASK_CANCELED] = { false },
	[TASK_TIMED_OUT] = { false },
};

Test(task, every_transition_matches_the_contract)
{
	int from, to, allowed = 0;

	for (from = 0; from < TASK_STATUS_COUNT; from++) {
		for (to = 0; to < TASK_STATUS_COUNT; to++) {
			bool got = task_transition_allowed((enum task_status)from, (enum task_status)to);

			cr_assert_eq(got, expected_moves[from][to], "%s -> %s: got %d",
				     task_status_name((enum task_status)from),
				     task_status_name((enum task_status)to), got);
			allowed += got;
		}
	}
	cr_assert_eq(allowed, 13);
	cr_assert_not(task_transition_allowed(TASK_STATUS_COUNT, TASK_QUEUED));
	cr_assert_not(task_transition_allowed(TASK_CREATED, TASK_STATUS_COUNT));
}

Test(task, final_statuses)
{
	cr_assert_not(task_status_is_final(TASK_CREATED));
	cr_assert_not(task_status_is_final(TASK_QUEUED));
	cr_assert_not(task_status_is_final(TASK_RUNNING));
	cr_assert(task_status_is_final(TASK_COMPLETED));
	cr_assert(task_status_is_final(TASK_TERMINATED));
	cr_assert(task_status_is_final(TASK_FAILED));
	cr_assert(task_status_is_final(TASK_CANCELED));
	cr_assert(task_status_is_final(TASK_TIMED_OUT));
}

Test(task, status_names_round_trip)
{
	static const char *const names[] = {
		"created", "queued", "running", "completed", "terminated", "failed", "canceled", "timed_out",
	};
	enum task_status s;
	int i;

	for (i = 0; i < TASK_STATUS_COUNT; i++) {
		cr_assert_str_eq(task_status_name((enum task_status)i), names[i]);
		cr_assert(task_status_parse(names[i], &s));
		cr_assert_eq(s, (enum task_status)i);
	}
	cr_assert_not(task_status_parse("Queued", &s));
	cr_assert_not(task_status_parse("", &s));
	cr_assert_not(task_status_parse("cancelled", &s));
	cr_assert_not(task_status_parse(NULL, &s));
	cr_assert_str_eq(task_status_name(TASK_STATUS_COUNT), "unknown");
}

Test(task, step_status_names_round_trip)
{
	static const char *const names[] = { "created", "running", "completed", "failed", "canceled" };
	enum step_status s;
	int i;

	for (i = 0; i < STEP_STATUS_COUNT; i++) {
		cr_assert_str_eq(step_status_name((enum step_status)i), names[i]);
		cr_assert(step_status_parse(names[i], &s));
		cr_assert_eq(s, (enum step_status)i);
	}
	cr_assert_not(step_status_parse("queued", &s));
	cr_assert_str_eq(step_status_name(STEP_STATUS_COUNT), "unknown");
}

static const char *const task_keys[] = {
	"task_id", "status", "request", "created_at", "modified_at", "queued_at", "started_at",
	"finished_at", "extracted_information", "failure_reason", "screenshot_url", "recording_url",
	"action_screenshot_urls", "step_count", "max_steps_per_run", "errors", "webhook_failure_reason",
	"created_via", "replay",
};

static void assert_keys_in_order(json_object *o, const char *const *keys, size_t n, const char *skip)
{
	size_t i = 0;

	json_object_object_foreach(o, key, val) {
		(void)val;
		if (skip && strcmp(keys[i], skip) == 0)
			i++;
		cr_assert_lt(i, n, "extra key %s", key);
		cr_assert_str_eq(key, keys[i]);
		i++;
	}
	cr_assert_eq(i, n, "missing keys after %zu", i);
}

static const char *str_member(json_object *o, const char *key)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
	cr_assert(json_object_is_type(v, json_type_string), "%s not a string", key);
	return json_object_get_string(v);
}

static void assert_null_member(json_object *o, const char *key)
{
	json_object *v = (json_object *)1;

	cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
	cr_assert_null(v, "%s should be null", key);
}

Test(task, to_json_of_an_empty_task_is_all_nulls_and_empty_arrays)
{
	struct task t;
	json_object *o, *v;

	memset(&t, 0, sizeof(t));
	t.status = TASK_QUEUED;
	o = task_to_json(&t, true);
	assert_keys_in_order(o, task_keys, SX_ARRAY_LEN(task_keys), NULL);
	assert_null_member(o, "task_id");
	cr_assert_str_eq(str_member(o, "status"), "queued");
	assert_null_member(o, "request");
	assert_null_member(o, "created_at");
	assert_null_member(o, "modified_at");
	assert_null_member(o, "queued_at");
	assert_null_member(o, "started_at");
	assert_null_member(o, "finished_at");
	assert_null_member(o, "extracted_information");
	assert_null_member(o, "replay");
	assert_null_member(o, "failure_reason");
	assert_null_member(o, "screenshot_url");
	assert_null_member(o, "recording_url");
	assert_null_member(o, "webhook_failure_reason");
	cr_assert(json_object_object_get_ex(o, "action_screenshot_urls", &v));
	cr_assert(json_object_is_type(v, json_type_array));
	cr_assert_eq(json_object_array_length(v), 0);
	cr_assert(json_object_object_get_ex(o, "errors", &v));
	cr_assert(json_object_is_type(v, json_type_array));
	cr_assert_eq(json_object_array_length(v), 0);
	cr_assert(json_object_object_get_ex(o, "step_count", &v));
	cr_assert_eq(json_object_get_int64(v), 0);
	json_object_put(o);
	task_release(&t);
}

Test(task, to_json_of_a_full_task)
{
	struct task *t = xcalloc(1, sizeof(*t));
	json_object *o, *v;

	t->id = xstrdup("tsk_01");
	t->org_id = xstrdup("o_01");
	t->status = TASK_FAILED;
	t->request = json_tokener_parse("{\"url\":\"https://example.com\"}");
	t->created_at = xstrdup("2026-11-28T12:00:00.000001");
	t->modified_at = xstrdup("2026-11-28T12:00:05.000000");
	t->queued_at = xstrdup("2026-11-28T12:00:00.100000");
	t->started_at = xstrdup("2026-11-28T12:00:01.000000");
	t->finished_at = xstrdup("2026-11-28T12:00:05.000000");
	t->extracted_information = json_tokener_parse("{\"price\":\"9.99\"}");
	t->failure_reason = xstrdup("Max steps per task (10) exceeded");
	t->screenshot_url = xstrdup("http://h/s.png");
	t->recording_url = xstrdup("http://h/r.webm");
	t->action_screenshot_urls = json_tokener_parse("[\"http://h/3.png\",\"http://h/2.png\"]");
	t->step_count = 10;
	t->max_steps = 10;
	t->errors = json_tokener_parse("[{\"error_code\":\"E1\",\"reasoning\":\"r\"}]");
	t->webhook_failure_reason = xstrdup("HTTP 500");
	t->lease_owner = xstrdup("agent-1");
	t->proxy_used = xstrdup("NONE");

	o = task_to_json(t, true);
	assert_keys_in_order(o, task_keys, SX_ARRAY_LEN(task_keys), NULL);
	cr_assert_str_eq(str_member(o, "task_id"), "tsk_01");
	cr_assert_str_eq(str_member(o, "status"), "failed");
	cr_assert(json_object_object_get_ex(o, "request", &v));
	cr_assert_eq(v, t->request, "request shared by reference");
	cr_assert_str_eq(str_member(o, "created_at"), "2026-11-28T12:00:00.000001");
	cr_assert_str_eq(str_member(o, "modified_at"), "2026-11-28T12:00:05.000000");
	cr_assert_str_eq(str_member(o, "queued_at"), "2026-11-28T12:00:00.100000");
	cr_assert_str_eq(str_member(o, "started_at"), "2026-11-28T12:00:01.000000");
	cr_assert_str_eq(str_member(o, "finished_at"), "2026-11-28T12:00:05.000000");
	cr_assert(json_object_object_get_ex(o, "extracted_information", &v));
	cr_assert_str_eq(str_member(v, "price"), "9.99");
	cr_assert_str_eq(str_member(o, "failure_reason"), "Max steps per task (10) exceeded");
	cr_assert_str_eq(str_member(o, "screenshot_url"), "http://h/s.png");
	cr_assert_str_eq(str_member(o, "recording_url"), "http://h/r.webm");
	cr_assert(json_object_object_get_ex(o, "action_screenshot_urls", &v));
	cr_assert_eq(json_object_array_length(v), 2);
	cr_assert(json_object_object_get_ex(o, "step_count", &v));
	cr_assert_eq(json_object_get_int64(v), 10);
	cr_assert(json_object_object_get_ex(o, "max_steps_per_run", &v));
	cr_assert_eq(json_object_get_int64(v), 10);
	cr_assert(json_object_object_get_ex(o, "errors", &v));
	cr_assert_str_eq(str_member(json_object_array_get_idx(v, 0), "error_code"), "E1");
	cr_assert_str_eq(str_member(o, "webhook_failure_reason"), "HTTP 500");
	/* Agent-side fields are not part of the public object. */
	cr_assert_not(json_object_object_get_ex(o, "lease_owner", NULL));
	cr_assert_not(json_object_object_get_ex(o, "org_id", NULL));

	/* The task keeps its own references: freeing it first is safe. */
	task_free(t);
	cr_assert(json_object_object_get_ex(o, "request", &v));
	cr_assert_str_eq(str_member(v, "url"), "https://example.com");
	json_object_put(o);
	task_free(NULL);
}

Test(task, webhook_form_omits_request)
{
	struct task t;
	json_object *o;

	memset(&t, 0, sizeof(t));
	t.id = xstrdup("tsk_02");
	t.status = TASK_COMPLETED;
	t.request = json_tokener_parse("{\"url\":\"https://example.com\"}");
	o = task_to_json(&t, false);
	cr_assert_not(json_object_object_get_ex(o, "request", NULL));
	assert_keys_in_order(o, task_keys, SX_ARRAY_LEN(task_keys), "request");
	cr_assert_str_eq(str_member(o, "status"), "completed");
	json_object_put(o);
	task_release(&t);
	cr_assert_null(t.id);
	cr_assert_null(t.request);
}

Test(task, step_to_json)
{
	static const char *const keys[] = {
		"organization_id", "task_id", "step_id", "status", "order", "retry_index", "is_last",
		"input_token_count", "output_token_count", "step_cost", "created_at", "modified_at",
		"output",
	};
	struct step s;
	json_object *o, *v;

	memset(&s, 0, sizeof(s));
	s.id = xstrdup("stp_1");
	s.task_id = xstrdup("tsk_1");
	s.org_id = xstrdup("o_1");
	s.status = STEP_COMPLETED;
	s.order = 2;
	s.retry_index = 1;
	s.is_last = true;
	s.input_tokens = 1500;
	s.output_tokens = 200;
	s.cost = 0.000345;
	s.created_at = xstrdup("2026-11-28T12:00:00.000000");
	o = step_to_json(&s);
	assert_keys_in_order(o, keys, SX_ARRAY_LEN(keys), NULL);
	cr_assert_str_eq(str_member(o, "organization_id"), "o_1");
	cr_assert_str_eq(str_member(o, "task_id"), "tsk_1");
	cr_assert_str_eq(str_member(o, "step_id"), "stp_1");
	cr_assert_str_eq(str_member(o, "status"), "completed");
	cr_assert(json_object_object_get_ex(o, "order", &v));
	cr_assert_eq(json_object_get_int64(v), 2);
	cr_assert(json_object_object_get_ex(o, "retry_index", &v));
	cr_assert_eq(json_object_get_int64(v), 1);
	cr_assert(json_object_object_get_ex(o, "is_last", &v));
	cr_assert(json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(o, "input_token_count", &v));
	cr_assert_eq(json_object_get_int64(v), 1500);
	cr_assert(json_object_object_get_ex(o, "output_token_count", &v));
	cr_assert_eq(json_object_get_int64(v), 200);
	cr_assert(json_object_object_get_ex(o, "step_cost", &v));
	cr_assert_float_eq(json_object_get_double(v), 0.000345, 1e-12);
	cr_assert_str_eq(str_member(o, "created_at"), "2026-11-28T12:00:00.000000");
	assert_null_member(o, "modified_at");
	assert_null_member(o, "output");
	json_object_put(o);

	s.output = json_tokener_parse("{\"actions\":[{\"type\":\"click\"}]}");
	o = step_to_json(&s);
	cr_assert(json_object_object_get_ex(o, "output", &v));
	/* The record's members as stored, Skyvern's derived ones beside them (test_step_output). */
	cr_assert_eq(sx_json_member(v, "actions"), sx_json_member(s.output, "actions"));
	cr_assert(json_object_object_get_ex(v, "actions_and_results", NULL));
	json_object_put(o);
	step_release(&s);
	cr_assert_null(s.output);
}

Test(task, errors_merge_folds_one_entry_per_kind_of_loss)
{
	json_object *errors = json_tokener_parse(
		"[{\"error_code\":\"request_unreadable\",\"reasoning\":\"r\"},"
		"{\"error_code\":\"artifact_write_failed\",\"reasoning\":\"old\",\"artifact_type\":\"screenshot_llm\","
		"\"count\":2,\"errno\":\"EROFS\"}]");
	json_object *add = json_tokener_parse(
		"[{\"error_code\":\"artifact_write_failed\",\"reasoning\":\"new\",\"artifact_type\":\"screenshot_llm\","
		"\"count\":3,\"errno\":\"ENOSPC\"},"
		"{\"error_code\":\"artifact_write_failed\",\"reasoning\":\"rec\",\"artifact_type\":\"recording\","
		"\"count\":1,\"errno\":null},"
		"{\"error_code\":\"request_unreadable\",\"reasoning\":\"again\"}]");
	json_object *e;

	task_errors_merge(errors, add);
	cr_assert_eq(json_object_array_length(errors), 4, "%s", json_object_to_json_string(errors));
	e = json_object_array_get_idx(errors, 1);
	cr_assert_eq(sx_json_int(e, "count", 0), 5);
	cr_assert_str_eq(sx_json_string(e, "reasoning"), "new");
	cr_assert_str_eq(sx_json_string(e, "errno"), "ENOSPC");
	e = json_object_array_get_idx(errors, 2);
	cr_assert_str_eq(sx_json_string(e, "artifact_type"), "recording");
	cr_assert_eq(sx_json_int(e, "count", 0), 1);
	/* Entries without a count are never folded: each is kept. */
	cr_assert_str_eq(sx_json_string(json_object_array_get_idx(errors, 3), "reasoning"), "again");
	/* add is borrowed: merging it again counts again, and add is unchanged. */
	task_errors_merge(errors, add);
	cr_assert_eq(sx_json_int(json_object_array_get_idx(errors, 1), "count", 0), 8);
	cr_assert_eq(sx_json_int(json_object_array_get_idx(add, 0), "count", 0), 3);
	json_object_put(add);
	json_object_put(errors);
}

/* created_via names the surface that created the task: a stored run_request means the run API. */
Test(task, created_via_names_the_surface)
{
	struct task t;
	json_object *o;

	memset(&t, 0, sizeof(t));
	o = task_to_json(&t, false);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "created_via")), "task_api");
	json_object_put(o);
	t.run_request = json_tokener_parse("{\"engine\":\"skyvern-1.0\"}");
	o = task_to_json(&t, false);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "created_via")), "run_api");
	json_object_put(o);
	task_release(&t);
}
