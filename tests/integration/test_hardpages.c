/*
 * The agent on harder pages (issue 16), end to end: a real sextant-agent
 * drives headless Chromium on fixture pages that look like real sites,
 * and the LLM test double answers as an ideal model that may only use
 * what the prompt shows.  It names an element by its label, and for a
 * label the page repeats, by the context the element line gives it
 * (row="…" or in="…"): without that context it cannot tell forty
 * "Delete" buttons apart, and its answer fails the test.
 *
 *   - an admin table of 40 users: the Delete of one row, confirmed in a
 *     dialog whose text comes first in the page text while the table it
 *     covers is left out;
 *   - product cards with identical "Add to cart", a cart with "Remove";
 *   - nested comments with "Reply";
 *   - a native <select multiple> and an aria-multiselectable listbox, two
 *     options each, the options already selected kept;
 *   - a form rendered 1.5 s after load and a combobox whose options appear
 *     150 ms after typing: no step is spent waiting for them.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"

TestSuite(hardpages, .init = agent_suite_setup, .fini = agent_suite_fini, .timeout = 300);

/* Runs one task on the fixture page path with script; returns the final task (caller puts). */
static json_object *run_on(const char *path, const char *goal, const char *script, char **id_out)
{
	char *url = site_url(path);
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"%s\"}", url, goal);
	struct task_run run = { .key = suite_org.key, .script = script, .body = body };
	json_object *t = run_task(&run, id_out);

	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	free(body);
	free(url);
	return t;
}

/* The user prompt of the first decide call that holds text, or NULL; in reqs. */
static const char *decide_prompt(json_object *reqs, const char *text)
{
	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		json_object *r = json_object_array_get_idx(reqs, i);
		const char *k = jstr(r, "kind"), *user = jstr(r, "user");

		if (k && strcmp(k, "decide") == 0 && user && strstr(user, text))
			return user;
	}
	return NULL;
}

/* The page text section of a decide prompt (up to the closing line). */
static char *page_text_of(const char *prompt)
{
	const char *p = strstr(prompt, "Visible page text:\n");
	const char *end;

	cr_assert_not_null(p, "no page text in:\n%s", prompt);
	p += strlen("Visible page text:\n");
	end = strstr(p, "\nAnswer with the JSON object only.");
	return xstrndup(p, end ? (size_t)(end - p) : strlen(p));
}

/* The number of actions of type across the task's steps. */
static size_t actions_of_type(const char *id, const char *type)
{
	json_object *steps = api_get_json(suite_org.key, "/api/v1/tasks/%s/steps", id);
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *o, *acts;

		if (!json_object_object_get_ex(json_object_array_get_idx(steps, i), "output", &o) ||
		    !json_object_object_get_ex(o, "actions", &acts))
			continue;
		for (size_t k = 0; k < json_object_array_length(acts); k++) {
			const char *a = jstr(json_object_array_get_idx(acts, k), "action");

			n += a && strcmp(a, type) == 0;
		}
	}
	json_object_put(steps);
	return n;
}

Test(hardpages, admin_table_row_resolved_by_context)
{
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"was deleted\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"Are you sure\",\"answers\":[{\"actions\":["
		"   {\"action\":\"click\",\"label\":\"Delete user\"}]}]},"
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":["
		"   {\"action\":\"click\",\"label\":\"Delete\",\"context\":\"Julia Kowalski\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"deleted\"}]}]}";
	json_object *t = run_on("admin/users.html", "Delete the user Julia Kowalski", script, NULL);
	json_object *reqs = llm_double_requests();
	const char *first = decide_prompt(reqs, "Delete the user");

	/* The same name twice is told apart by the next cell. */
	cr_assert(first && strstr(first, "row=\"DK David Kim \xc2\xb7 dkim@northwind.example\""),
		  "the two David Kims are not told apart:\n%s", first ? first : "");
	cr_assert_not_null(decide_prompt(reqs, "Are you sure you want to delete Julia Kowalski"),
			   "the dialog did not name the row's user");
	cr_assert_not_null(decide_prompt(reqs, "User Julia Kowalski (julia.kowalski@northwind.example) was deleted"));
	json_object_put(reqs);
	json_object_put(t);
}

Test(hardpages, dialog_text_first_and_covered_page_left_out)
{
	/* The stand-in model takes the 30th row's Delete by position: this test is about the text. */
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"was deleted\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"Are you sure\",\"answers\":[{\"actions\":["
		"   {\"action\":\"click\",\"label\":\"Delete user\"}]}]},"
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":["
		"   {\"action\":\"click\",\"label\":\"Delete\",\"nth\":30}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"deleted\"}]}]}";
	static const char dialog_head[] =
		"Dialog: Delete user?\nAre you sure you want to delete David Kim (dkim@northwind.example)?";
	json_object *t = run_on("admin/users.html", "Delete the 30th user of the list", script, NULL);
	json_object *reqs = llm_double_requests();
	const char *confirm = decide_prompt(reqs, "Are you sure");
	char *text;

	cr_assert_not_null(confirm);
	text = page_text_of(confirm);
	cr_assert(strncmp(text, dialog_head, strlen(dialog_head)) == 0, "the dialog does not come first:\n%s", text);
	cr_assert(strstr(text, "This cannot be undone"), "the dialog's text was cut:\n%s", text);
	cr_assert_null(strstr(text, "maria.lopez@northwind.example"), "covered text kept:\n%s", text);
	cr_assert(strstr(text, "characters of text left out"), "the cut does not say what it left out:\n%s", text);
	/* Behind a modal nothing else can be clicked, so nothing else is listed. */
	cr_assert_null(strstr(confirm, "button \"Edit\""), "elements behind the dialog listed");
	free(text);
	json_object_put(reqs);
	json_object_put(t);
}

Test(hardpages, product_cards_and_cart_by_context)
{
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"Subtotal (3 items): $437.50\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"Subtotal (2 items)\",\"answers\":[{\"actions\":["
		"   {\"action\":\"click\",\"label\":\"Add to cart\",\"context\":\"Summit Ridge 3 Tent\"}]}]},"
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":["
		"   {\"action\":\"click\",\"label\":\"Remove\",\"context\":\"Trail Mug\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"cart updated\"}]}]}";
	json_object *t = run_on("shop/index.html", "Remove the mugs from my cart and add the Summit Ridge 3 Tent",
				script, NULL);
	json_object *reqs = llm_double_requests();
	const char *last = decide_prompt(reqs, "Subtotal (3 items): $437.50");

	/* $437.50 = the tent, the headlamp and the spork: the mugs went, nothing else did. */
	cr_assert_not_null(last, "the cart does not hold what was asked");
	cr_assert(strstr(last, "button \"Remove\" in=\"Summit Ridge 3 Tent\""), "%s", last);
	cr_assert_null(strstr(last, "button \"Remove\" in=\"Trail Mug\""), "%s", last);
	json_object_put(reqs);
	json_object_put(t);
}

Test(hardpages, nested_comment_reply_by_context)
{
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"Your reply to Priya Shah was posted\",\"answers\":[{\"actions\":["
		"   {\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"\\\"Reply to Priya Shah\\\"\",\"answers\":[{\"actions\":["
		"   {\"action\":\"input_text\",\"label\":\"Reply to Priya Shah\",\"text\":\"Which footprint do you use?\"},"
		"   {\"action\":\"click\",\"label\":\"Post reply\"}]}]},"
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":["
		"   {\"action\":\"click\",\"label\":\"Reply\",\"context\":\"Priya Shah\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"posted\"}]}]}";
	json_object *t = run_on("forum/thread.html", "Ask Priya Shah which footprint she uses", script, NULL);
	json_object *reqs = llm_double_requests();
	const char *first = decide_prompt(reqs, "Ask Priya Shah");

	/* Tom Becker commented twice: his two Reply buttons differ by the comment's date. */
	cr_assert(first && strstr(first, "in=\"Tom Becker \xc2\xb7 2 days ago\"") &&
		  strstr(first, "in=\"Tom Becker \xc2\xb7 1 day ago\""), "%s", first ? first : "");
	cr_assert_not_null(decide_prompt(reqs, "Your reply to Priya Shah was posted"));
	json_object_put(reqs);
	json_object_put(t);
}

Test(hardpages, multi_select_native_and_listbox)
{
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"Saved. Locations\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":["
		"   {\"action\":\"select_option\",\"label\":\"Locations\",\"option\":[\"Lisbon\",\"Berlin\"]},"
		"   {\"action\":\"select_option\",\"label\":\"Skills\",\"option\":[\"Python\",\"Go\"]},"
		"   {\"action\":\"click\",\"label\":\"Save preferences\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"saved\"}]}]}";
	char *id = NULL;
	json_object *t = run_on("alerts/index.html", "Add Lisbon and Berlin to my locations and Python and Go to my skills",
				script, &id);
	json_object *reqs = llm_double_requests(), *acts, *opt;
	const char *last = decide_prompt(reqs, "Saved. Locations");

	cr_assert_not_null(last);
	/* The preselected Remote and SQL were kept; the page saw one change event. */
	cr_assert(strstr(last, "Saved. Locations: Remote, Berlin, Lisbon. Skills: Python, SQL, Go. (1 location changes)"),
		  "%s", last);
	/* The element lines show the selection. */
	cr_assert(strstr(last, "select \"Locations\" value=\"Remote, Berlin, Lisbon\""), "%s", last);
	cr_assert(strstr(last, "listbox \"Skills\" value=\"Python, SQL, Go\""), "%s", last);
	/* The actions endpoint answers the options (validated against api/openapi.json by client.c). */
	acts = api_get_json(suite_org.key, "/api/v1/tasks/%s/actions", id);
	cr_assert_gt(json_object_array_length(acts), 1);
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(acts, 0), "options", &opt) &&
		  json_object_array_length(opt) == 2, "%s", json_object_to_json_string(acts));
	json_object_put(acts);
	json_object_put(reqs);
	json_object_put(t);
	free(id);
}

Test(hardpages, late_form_costs_no_step)
{
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"Application received\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"\\\"Full name\\\"\",\"answers\":[{\"actions\":["
		"   {\"action\":\"input_text\",\"label\":\"Full name\",\"text\":\"Rosa Diaz\"},"
		"   {\"action\":\"input_text\",\"label\":\"Email\",\"text\":\"rosa@example.com\"},"
		"   {\"action\":\"input_text\",\"label\":\"ZIP code\",\"text\":\"97214\"},"
		"   {\"action\":\"click\",\"label\":\"Request card\"}]}]},"
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":[{\"action\":\"wait\",\"seconds\":2}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"received\"}]}]}";
	char *id = NULL;
	json_object *t = run_on("late/index.html", "Apply for a library card", script, &id);

	cr_assert_eq(actions_of_type(id, "wait"), 0, "a step was spent waiting for the form");
	cr_assert_eq(llm_double_asked("decide", NULL), 2, "the form step and the complete step");
	json_object_put(t);
	free(id);
}

Test(hardpages, late_combobox_options_cost_no_step)
{
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"Great choice\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"option \\\"Lisbon, Portugal\\\"\",\"answers\":[{\"actions\":["
		"   {\"action\":\"click\",\"label\":\"Lisbon, Portugal\"},"
		"   {\"action\":\"click\",\"label\":\"Continue\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"value=\\\"Lis\\\"\",\"answers\":[{\"actions\":[{\"action\":\"wait\",\"seconds\":1}]}]},"
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":["
		"   {\"action\":\"input_text\",\"label\":\"City\",\"text\":\"Lis\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"moved\"}]}]}";
	char *id = NULL;
	json_object *t = run_on("late/city.html", "Choose Lisbon as the city I am moving to", script, &id);

	cr_assert_eq(actions_of_type(id, "wait"), 0, "a step was spent waiting for the options");
	cr_assert_eq(llm_double_asked("decide", NULL), 3, "type, pick, complete");
	json_object_put(t);
	free(id);
}
