/*
 * llm_parse_answer: the shapes models really answer in, and the two ways an
 * answer fails (cut off, not JSON) with their messages.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "llm.h"

/* Parses text, asserts success, and returns the compact JSON (static buffer). */
static const char *parsed(const char *text)
{
	static char out[1024];
	char err[256] = "x";
	json_object *o = llm_parse_answer(text, err, sizeof(err));

	cr_assert_not_null(o, "failed to parse %s: %s", text, err);
	cr_assert_str_eq(err, "", "err should be empty on success, is %s", err);
	snprintf(out, sizeof(out), "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

static void rejected(const char *text, const char *want_in_err)
{
	char err[256] = "";
	json_object *o = llm_parse_answer(text, err, sizeof(err));

	cr_assert_null(o, "should not parse: %s", text);
	cr_assert(strstr(err, want_in_err), "err \"%s\" should contain \"%s\"", err, want_in_err);
	json_object_put(o);
}

Test(llm_parse, plain_object)
{
	cr_assert_str_eq(parsed("{\"actions\":[{\"action\":\"complete\"}]}"),
			 "{\"actions\":[{\"action\":\"complete\"}]}");
}

Test(llm_parse, surrounding_whitespace)
{
	cr_assert_str_eq(parsed("\n\n  {\"a\": 1}  \n"), "{\"a\":1}");
}

Test(llm_parse, fenced)
{
	cr_assert_str_eq(parsed("```json\n{\"a\": 1, \"b\": [true, null]}\n```"),
			 "{\"a\":1,\"b\":[true,null]}");
}

Test(llm_parse, fenced_without_language)
{
	cr_assert_str_eq(parsed("```\n[1, 2]\n```"), "[1,2]");
}

Test(llm_parse, fenced_with_prose_and_braces_outside)
{
	/* The braces in the prose are not the answer; the fenced block is. */
	cr_assert_str_eq(parsed("I will use {this} plan:\n```json\n{\"ok\": true}\n```\nDone {really}."),
			 "{\"ok\":true}");
}

Test(llm_parse, prose_around)
{
	cr_assert_str_eq(parsed("Sure! Here is my answer: {\"goal_achieved\": false, "
				"\"reasoning\": \"no\"} Let me know if you need more."),
			 "{\"goal_achieved\":false,\"reasoning\":\"no\"}");
}

Test(llm_parse, prose_with_bracket_before_json)
{
	cr_assert_str_eq(parsed("Note [see below]: {\"a\": \"b\"}"), "{\"a\":\"b\"}");
}

Test(llm_parse, trailing_comma)
{
	cr_assert_str_eq(parsed("{\"actions\": [{\"action\": \"click\", \"element\": \"e1\",},], }"),
			 "{\"actions\":[{\"action\":\"click\",\"element\":\"e1\"}]}");
}

Test(llm_parse, trailing_comma_inside_string_kept)
{
	cr_assert_str_eq(parsed("{\"text\": \"a, }\", \"n\": 1,\n}"), "{\"text\":\"a, }\",\"n\":1}");
}

Test(llm_parse, top_level_array)
{
	cr_assert_str_eq(parsed("[{\"action\": \"complete\"}]"), "[{\"action\":\"complete\"}]");
}

Test(llm_parse, nested_braces_inside_strings)
{
	cr_assert_str_eq(parsed("ok {\"reasoning\": \"type {name} then [click] \\\"}\\\"\", "
				"\"actions\": []} end"),
			 "{\"reasoning\":\"type {name} then [click] \\\"}\\\"\",\"actions\":[]}");
}

Test(llm_parse, truncated)
{
	rejected("{\"actions\": [{\"action\": \"click\", \"element\": \"e1\"}, {\"action\": \"inp",
		 "truncated");
}

Test(llm_parse, truncated_does_not_return_inner_object)
{
	/* The complete inner object must not be mistaken for the whole answer. */
	rejected("{\"reasoning\": \"x\", \"actions\": [{\"action\": \"complete\"}", "truncated");
}

Test(llm_parse, truncated_fence)
{
	rejected("```json\n{\"goal_achieved\": tr", "truncated");
}

Test(llm_parse, not_json)
{
	rejected("I'm sorry, I can't help with that.", "not JSON");
}

Test(llm_parse, invalid_json)
{
	rejected("{action: click}", "not valid JSON");
}

/*
 * Found by tests/fuzz/fuzz_llm_parse: the tolerant tokener takes these, and
 * the value would be stored in steps.output and served as text that is
 * not JSON.
 */
Test(llm_parse, what_is_not_json_is_not_an_answer)
{
	rejected("{\"x\": NaN}", "not valid JSON");
	rejected("{\"x\": -Infinity}", "not valid JSON");
	rejected("{\"x\": 1.}", "not valid JSON");
	rejected("[-.5]", "not valid JSON");
	rejected("{\"n\": 99099999999999999999998e}", "not valid JSON");
	rejected("{\"n\": -00002045418016144359422e}", "not valid JSON");
	rejected("{\"action\": \"click\", \"\xff\xfe\": 1}", "not valid JSON");
	cr_assert_str_eq(parsed("{\"x\": 1.5e3, \"y\": \"caf\xc3\xa9\"}"),
			 "{\"x\":1.5e3,\"y\":\"caf\xc3\xa9\"}");
}

Test(llm_parse, empty)
{
	rejected("", "empty");
	rejected("   \n", "empty");
	rejected(NULL, "empty");
}

Test(llm_parse, bare_scalar_is_not_an_answer)
{
	rejected("42", "not JSON");
}

Test(llm_parse, null_err_buffer_is_allowed)
{
	cr_assert_null(llm_parse_answer("nope", NULL, 0));
}
