/*
 * Secret masking: the payload's values under secret-sounding keys, at any
 * depth, and every one-time code obtained are replaced by "********";
 * other values stay readable; a step's output loses the codes in place.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "mask.h"

static json_object *payload(void)
{
	return json_tokener_parse("{\"name\":\"Chris Doe\",\"password\":\"hunter22\","
				  "\"card\":{\"number\":\"4111111111111111\",\"cvv\":123},"
				  "\"pin\":\"12\",\"accounts\":[{\"api_key\":\"sk-abcdef\"}]}");
}

Test(mask, secrets_are_masked_other_values_kept)
{
	json_object *p = payload();
	char *m = mask_secrets("Chris Doe typed hunter22 and 4111111111111111 (cvv 123) sk-abcdef", p);

	cr_assert_str_eq(m, "Chris Doe typed ******** and ******** (cvv ********) ********");
	free(m);
	json_object_put(p);
}

Test(mask, short_values_and_null_text)
{
	json_object *p = payload();
	char *m = mask_secrets("pin 12", p);
	char *n = mask_secrets(NULL, p);

	/* Two characters would mask too much of ordinary text. */
	cr_assert_str_eq(m, "pin 12");
	cr_assert_str_eq(n, "");
	free(m);
	free(n);
	json_object_put(p);
}

Test(mask, every_occurrence)
{
	json_object *p = json_tokener_parse("{\"token\":\"abc\"}");
	char *m = mask_secrets("abcabc-abc", p);

	cr_assert_str_eq(m, "****************-********");
	free(m);
	json_object_put(p);
}

Test(mask, codes_join_the_payload_secrets)
{
	json_object *p = payload();
	struct mask *k = mask_new(p);
	char *before, *after;

	json_object_put(p);
	before = mask_text(k, "code 482913, password hunter22");
	mask_add_code(k, "482913");
	after = mask_text(k, "code 482913, password hunter22");
	cr_assert_str_eq(before, "code 482913, password ********");
	cr_assert_str_eq(after, "code ********, password ********");
	free(before);
	free(after);
	mask_free(k);
	mask_free(NULL);
}

Test(mask, codes_in_a_step_output_in_place)
{
	struct mask *k = mask_new(NULL);
	json_object *out = json_tokener_parse(
		"{\"reasoning\":\"enter 482913\",\"url_after\":\"https://x.test/?code=482913\","
		"\"elements\":12,\"actions\":[{\"action\":\"input_text\",\"text\":\"482913\","
		"\"result\":{\"success\":true}},\"482913\"]}");
	json_object *untouched = json_tokener_parse("{\"text\":\"482913\"}");

	mask_codes_in_json(k, untouched);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(untouched, "text")), "482913",
			 "no code obtained yet: nothing to mask");
	mask_add_code(k, "482913");
	mask_codes_in_json(k, out);
	cr_assert_str_eq(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			 "{\"reasoning\":\"enter ********\",\"url_after\":\"https://x.test/?code=********\","
			 "\"elements\":12,\"actions\":[{\"action\":\"input_text\",\"text\":\"********\","
			 "\"result\":{\"success\":true}},\"********\"]}");
	json_object_put(out);
	json_object_put(untouched);
	mask_free(k);
}

Test(mask, payload_is_not_masked_in_step_output)
{
	json_object *p = payload();
	struct mask *k = mask_new(p);
	json_object *out = json_tokener_parse("{\"reasoning\":\"typed hunter22\"}");

	json_object_put(p);
	mask_add_code(k, "482913");
	mask_codes_in_json(k, out);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(out, "reasoning")), "typed hunter22");
	json_object_put(out);
	mask_free(k);
}
