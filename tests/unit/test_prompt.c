/*
 * The prompt builders: what each prompt must carry for the model to act
 * well, the markers the LLM test double relies on, and what must be left
 * out (the loop warning when there is no loop).
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "prompt.h"

static const char elements[] =
	"[e1] input:text \"Full name\" value=\"\" required\n"
	"[e2] input:email \"Email \\\"work\\\"\" value=\"\"\n"
	"[e3] select \"Country\" value=\"France\" options=[\"France\",\"Spain\"]\n"
	"[e4] button \"Submit application\"";

static struct prompt_ctx ctx(void)
{
	struct prompt_ctx c = {
		.url = "https://jobs.example.com/apply",
		.title = "Apply now",
		.navigation_goal = "Apply for a job using the payload",
		.data_extraction_goal = "Was the job application successful?",
		.payload_json = "{\"name\":\"Chris P. Bacon\",\"email\":\"chris@pbacon.com\"}",
		.elements = elements,
		.history = "click e9 -> success\ninput_text e1 -> error: element not interactable\n",
		.step = 2,
		.max_steps = 10,
		.loop_warning = false,
		.page_text = NULL,
	};
	return c;
}

Test(prompt, decide_system_has_marker_and_action_shapes)
{
	char *s = prompt_system_decide();
	static const char *const want[] = {
		PROMPT_MARK_DECIDE, "\"reasoning\"", "\"actions\"", "\"verification_code_needed\"",
		"\"click\"", "\"input_text\"", "\"select_option\"", "\"check\"", "\"uncheck\"",
		"\"upload_file\"", "\"keypress\"", "\"scroll\"", "\"goto_url\"", "\"wait\"",
		"\"complete\"", "\"terminate\"", "\"solve_captcha\"", "ONLY a JSON object",
		"Never invent personal data", "element ids that appear in the element list",
	};
	size_t i;

	cr_assert(strncmp(s, PROMPT_MARK_DECIDE, strlen(PROMPT_MARK_DECIDE)) == 0);
	for (i = 0; i < SX_ARRAY_LEN(want); i++)
		cr_assert(strstr(s, want[i]), "decide system prompt lacks %s", want[i]);
	free(s);
}

Test(prompt, markers_differ_per_call)
{
	char *d = prompt_system_decide(), *v = prompt_system_verify(), *e = prompt_system_extract();

	cr_assert(strstr(v, PROMPT_MARK_VERIFY) && !strstr(v, PROMPT_MARK_DECIDE));
	cr_assert(strstr(v, "\"goal_achieved\""));
	cr_assert(strstr(e, PROMPT_MARK_EXTRACT) && !strstr(e, PROMPT_MARK_VERIFY));
	cr_assert(!strstr(d, PROMPT_MARK_EXTRACT) && !strstr(d, PROMPT_MARK_VERIFY));
	free(d);
	free(v);
	free(e);
}

Test(prompt, decide_user_carries_goal_payload_elements)
{
	struct prompt_ctx c = ctx();
	char *s = prompt_user_decide(&c);

	cr_assert(strstr(s, "Apply for a job using the payload"));
	cr_assert(strstr(s, "Was the job application successful?"));
	cr_assert(strstr(s, "{\"name\":\"Chris P. Bacon\",\"email\":\"chris@pbacon.com\"}"));
	cr_assert(strstr(s, elements), "element list must be verbatim:\n%s", s);
	cr_assert(strstr(s, "URL: https://jobs.example.com/apply"));
	cr_assert(strstr(s, "Title: Apply now"));
	cr_assert(strstr(s, "step 3 of at most 10"), "%s", s);
	free(s);
}

Test(prompt, decide_user_numbers_history)
{
	struct prompt_ctx c = ctx();
	char *s = prompt_user_decide(&c);

	cr_assert(strstr(s, "1. click e9 -> success\n"), "%s", s);
	cr_assert(strstr(s, "2. input_text e1 -> error: element not interactable\n"));
	cr_assert(!strstr(s, "3. "));
	free(s);
	c.history = NULL;
	s = prompt_user_decide(&c);
	cr_assert(strstr(s, "None: this is the first step."));
	free(s);
}

Test(prompt, loop_warning_only_when_set)
{
	struct prompt_ctx c = ctx();
	char *s = prompt_user_decide(&c);

	cr_assert(!strstr(s, "WARNING"), "no warning expected:\n%s", s);
	cr_assert(!strstr(s, "did not change the page"));
	free(s);
	c.loop_warning = true;
	s = prompt_user_decide(&c);
	cr_assert(strstr(s, "WARNING: your last action did not change the page"));
	cr_assert(strstr(s, "try something different, or terminate"));
	free(s);
}

Test(prompt, decide_user_without_optional_parts)
{
	struct prompt_ctx c = { .step = 0, .max_steps = 0 };
	char *s = prompt_user_decide(&c);

	cr_assert(strstr(s, "Navigation payload (the facts to use, as JSON):\n(none)"), "%s", s);
	cr_assert(strstr(s, "(no interactive elements found)"));
	cr_assert(strstr(s, "This is step 1.\n"));
	cr_assert(!strstr(s, "Data to extract"));
	cr_assert(!strstr(s, "Visible page text"));
	free(s);
}

Test(prompt, page_text_included_when_given)
{
	struct prompt_ctx c = ctx();
	char *s;

	c.page_text = "Thank you for applying, Chris!";
	s = prompt_user_decide(&c);
	cr_assert(strstr(s, "Visible page text:\nThank you for applying, Chris!\n"));
	free(s);
}

Test(prompt, verify_user)
{
	struct prompt_ctx c = ctx();
	char *s;

	c.page_text = "Application received";
	s = prompt_user_verify(&c);
	cr_assert(strstr(s, "Apply for a job using the payload"));
	cr_assert(strstr(s, "Chris P. Bacon"));
	cr_assert(strstr(s, elements));
	cr_assert(strstr(s, "Application received"));
	cr_assert(!strstr(s, "WARNING"));
	free(s);
}

Test(prompt, extract_user_with_schema)
{
	struct prompt_ctx c = ctx();
	const char *schema = "{\"type\":\"object\",\"required\":[\"price\"]}";
	char *s = prompt_user_extract(&c, schema, NULL);

	cr_assert(strstr(s, "Was the job application successful?"));
	cr_assert(strstr(s, "must match this JSON Schema:\n{\"type\":\"object\",\"required\":[\"price\"]}"),
		  "%s", s);
	cr_assert(!strstr(s, "rejected"));
	free(s);
}

Test(prompt, extract_user_without_schema)
{
	struct prompt_ctx c = ctx();
	char *s = prompt_user_extract(&c, NULL, NULL);

	cr_assert(!strstr(s, "JSON Schema"));
	cr_assert(strstr(s, "Answer with the extracted JSON value only."));
	free(s);
}

Test(prompt, extract_repair_names_the_error)
{
	struct prompt_ctx c = ctx();
	char *s = prompt_user_extract(&c, "{\"type\":\"object\"}",
				      "$.price: expected number, got string");

	cr_assert(strstr(s, "Your previous answer was rejected: $.price: expected number, got string"),
		  "%s", s);
	free(s);
}

Test(prompt, extract_system_demands_json_only)
{
	char *s = prompt_system_extract();

	cr_assert(strstr(s, "ONLY the extracted JSON value"));
	cr_assert(strstr(s, "never invent"));
	free(s);
}

/* One call verifies and extracts: its own marker (which the double tells from verify's), both questions. */
Test(prompt, verify_extract_in_one_call)
{
	struct prompt_ctx c = ctx();
	const char *schema = "{\"type\":\"object\",\"required\":[\"price\"]}";
	char *sys = prompt_system_verify_extract(), *s = prompt_user_verify_extract(&c, schema);

	cr_assert(strncmp(sys, PROMPT_MARK_VERIFY_EXTRACT "\n", strlen(PROMPT_MARK_VERIFY_EXTRACT) + 1) == 0);
	cr_assert(strstr(sys, "\"goal_achieved\"") && strstr(sys, "\"extracted\""));
	cr_assert(strstr(sys, "never invent one"));
	cr_assert(strstr(s, "Apply for a job using the payload"));
	cr_assert(strstr(s, "Data to extract once the goal is achieved:\nWas the job application successful?"));
	cr_assert(strstr(s, "must match this JSON Schema:\n{\"type\":\"object\",\"required\":[\"price\"]}"), "%s", s);
	cr_assert(strstr(s, elements), "the element lines the caller chose go in verbatim");
	cr_assert(strstr(s, "1. click e9 -> success\n"));
	free(sys);
	free(s);
	c.data_extraction_goal = NULL;
	s = prompt_user_verify_extract(&c, schema);
	cr_assert(strstr(s, "(none given: extract what the JSON Schema describes)"), "%s", s);
	free(s);
}
