/*
 * The webhook body (core/webhook_msg.h): the task object without `request`
 * updated with the run object without `run_request`, in Skyvern's order.
 */
#include "webhook_msg.h"
#include "buf.h"
#include "json.h"
#include "run.h"
#include "task.h"

#include <criterion/criterion.h>

static void finished_task(struct task *t)
{
	memset(t, 0, sizeof(*t));
	t->id = xstrdup("tsk_1");
	t->org_id = xstrdup("o_1");
	t->status = TASK_COMPLETED;
	t->request = json_tokener_parse("{\"url\":\"https://a.example/\",\"navigation_goal\":\"g\","
					"\"navigation_payload\":{\"password\":\"hunter2\"}}");
	t->run_request = json_tokener_parse("{\"engine\":\"skyvern-1.0\"}");
	t->created_at = xstrdup("2026-01-01T00:00:00.000000");
	t->extracted_information = json_tokener_parse("{\"price\":1}");
	t->screenshot_url = xstrdup("https://x.example/s.png");
	t->step_count = 3;
	t->max_steps = 10;
}

Test(webhook_msg, body_merges_task_and_run)
{
	struct task t;
	json_object *b;
	const char *text;

	finished_task(&t);
	b = webhook_msg_body(&t, "https://sx.example");
	cr_assert_not(json_object_object_get_ex(b, "request", NULL));
	cr_assert_not(json_object_object_get_ex(b, "run_request", NULL));
	cr_assert_str_eq(sx_json_string(b, "task_id"), "tsk_1");
	cr_assert_str_eq(sx_json_string(b, "run_id"), "tsk_1");
	cr_assert_str_eq(sx_json_string(b, "run_type"), "task_v1");
	cr_assert_str_eq(sx_json_string(b, "status"), "completed");
	cr_assert_str_eq(sx_json_string(b, "screenshot_url"), "https://x.example/s.png");
	cr_assert_eq(sx_json_int(sx_json_member(b, "output"), "price", 0), 1);
	cr_assert_eq(sx_json_int(sx_json_member(b, "extracted_information"), "price", 0), 1);
	cr_assert_str_eq(sx_json_string(b, "app_url"), "https://sx.example/ui/#/tasks/tsk_1");
	cr_assert_eq(sx_json_int(b, "max_steps_per_run", 0), 10);
	text = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN);
	cr_assert_null(strstr(text, "hunter2"), "the request's payload leaked: %s", text);
	json_object_put(b);
	task_release(&t);
}

/* The member names of o, in order, joined by spaces (caller frees). */
static char *member_names(json_object *o)
{
	struct sx_buf b;
	char *out;

	sx_buf_init(&b, 4096);
	json_object_object_foreach(o, key, val) {
		(void)val;
		cr_assert_eq(sx_buf_printf(&b, "%s ", key), SX_OK);
	}
	out = xstrdup(sx_buf_str(&b));
	sx_buf_release(&b);
	return out;
}

/* Python's dict.update(): shared members keep the task's place, the run's others follow in its order. */
Test(webhook_msg, body_keeps_skyverns_member_order)
{
	struct task t;
	json_object *b, *task, *run;
	char *names, *task_names, *want;

	finished_task(&t);
	b = webhook_msg_body(&t, NULL);
	task = task_to_json(&t, false);
	run = run_to_json(&t, NULL);
	names = member_names(b);
	task_names = member_names(task);
	want = xasprintf("%s%s", task_names, "run_id run_type output downloaded_files recording_archived "
			 "screenshot_urls app_url browser_session_id browser_profile_id "
			 "max_screenshot_scrolls script_run ");
	cr_assert_str_eq(names, want);
	/* A shared member carries the run's value. */
	cr_assert(json_object_equal(sx_json_member(b, "errors"), sx_json_member(run, "errors")));
	json_object_put(task);
	json_object_put(run);
	json_object_put(b);
	free(names);
	free(task_names);
	free(want);
	task_release(&t);
}
