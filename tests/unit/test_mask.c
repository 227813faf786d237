/*
 * Secret masking: the payload's values under keys naming a secret, at any
 * depth, and every one-time code obtained are replaced by "********" in
 * every form a text can hold them (raw, JSON-escaped once or nested, \u
 * escapes, percent-encoded in a URL); other values stay readable; a step's
 * output and an LLM exchange lose them wherever they are.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "mask.h"

static struct mask *mask_of(const char *payload_json, const char *extra)
{
	json_object *p = json_tokener_parse(payload_json);
	struct mask *m;

	cr_assert_not_null(p, "bad test payload %s", payload_json);
	m = mask_new(p, extra);
	json_object_put(p);
	return m;
}

/* Asserts that masking text with m gives want. */
static void masks_to(const struct mask *m, const char *text, const char *want)
{
	char *got = mask_text(m, text);

	cr_assert_str_eq(got, want, "masking [%s]", text);
	free(got);
}

static const char payload[] =
	"{\"name\":\"Chris Doe\",\"password\":\"hunter22\","
	"\"card\":{\"number\":\"4111111111111111\",\"cvv\":123},"
	"\"pin\":\"12\",\"accounts\":[{\"api_key\":\"sk-abcdef\"}]}";

Test(mask, secrets_are_masked_other_values_kept)
{
	struct mask *m = mask_of(payload, NULL);

	masks_to(m, "Chris Doe typed hunter22 and 4111111111111111 (cvv 123) sk-abcdef",
		 "Chris Doe typed ******** and ******** (cvv ********) ********");
	mask_free(m);
	mask_free(NULL);
}

Test(mask, short_values_and_null_text)
{
	struct mask *m = mask_of(payload, NULL);
	char *n = mask_text(m, NULL);

	/* Two characters would mask too much of ordinary text. */
	masks_to(m, "pin 12", "pin 12");
	cr_assert_str_eq(n, "");
	free(n);
	mask_free(m);
}

Test(mask, every_occurrence)
{
	struct mask *m = mask_of("{\"token\":\"abc\"}", NULL);

	masks_to(m, "abcabc-abc", "****************-********");
	mask_free(m);
}

Test(mask, codes_join_the_payload_secrets)
{
	struct mask *m = mask_of(payload, NULL);

	masks_to(m, "code 482913, password hunter22", "code 482913, password ********");
	mask_add_code(m, "482913");
	masks_to(m, "code 482913, password hunter22", "code ********, password ********");
	mask_free(m);
}

/* A secret with a quote, a backslash, a slash and non-ASCII characters. */
static const char hard[] = "{\"password\":\"pa\\\"ss\\\\wo/rd-\xc3\xa9\xf0\x9f\x94\x91\"}";

Test(mask, json_escaped_forms)
{
	struct mask *m = mask_of(hard, NULL);

	/* Raw, as the page text shows it. */
	masks_to(m, "typed pa\"ss\\wo/rd-\xc3\xa9\xf0\x9f\x94\x91!", "typed ********!");
	/* json-c's escaping (\/ for the slash, UTF-8 kept). */
	masks_to(m, "{\"p\":\"pa\\\"ss\\\\wo\\/rd-\xc3\xa9\xf0\x9f\x94\x91\"}", "{\"p\":\"********\"}");
	/* Python's ensure_ascii: \u escapes, a surrogate pair, either case of hex. */
	masks_to(m, "\"pa\\\"ss\\\\wo/rd-\\u00e9\\ud83d\\udd11\"", "\"********\"");
	masks_to(m, "\"pa\\u0022ss\\u005Cwo\\u002Frd-\\u00E9\\uD83D\\uDD11\"", "\"********\"");
	/* Escaped twice: a JSON answer inside a JSON response body. */
	masks_to(m, "{\"content\":\"{\\\"text\\\":\\\"pa\\\\\\\"ss\\\\\\\\wo\\\\/rd-\\\\u00e9\\\\ud83d\\\\udd11\\\"}\"}",
		 "{\"content\":\"{\\\"text\\\":\\\"********\\\"}\"}");
	/* A lone surrogate decodes to nothing: no match, nothing masked. */
	masks_to(m, "pa\\\"ss\\\\wo/rd-\\u00e9\\ud83d", "pa\\\"ss\\\\wo/rd-\\u00e9\\ud83d");
	mask_free(m);
}

Test(mask, percent_encoded_in_a_url)
{
	struct mask *m = mask_of(hard, NULL);
	struct mask *sp = mask_of("{\"passphrase\":\"correct horse+battery\"}", NULL);

	masks_to(m, "https://x.test/echo.html?pw=pa%22ss%5Cwo%2Frd-%C3%A9%F0%9F%94%91&next=1",
		 "https://x.test/echo.html?pw=********&next=1");
	masks_to(m, "https://x.test/echo.html?pw=pa%22ss%5cwo/rd-%c3%a9%f0%9f%94%91",
		 "https://x.test/echo.html?pw=********");
	/* A form's + for a space, and a + kept or encoded. */
	masks_to(sp, "?q=correct+horse%2Bbattery", "?q=********");
	masks_to(sp, "?q=correct%20horse+battery", "?q=********");
	/* Inside JSON text: \/ and the percent-encoding together. */
	masks_to(m, "{\"url\":\"https:\\/\\/x.test\\/?pw=pa%22ss%5Cwo%2Frd-%C3%A9%F0%9F%94%91\"}",
		 "{\"url\":\"https:\\/\\/x.test\\/?pw=********\"}");
	mask_free(sp);
	mask_free(m);
}

Test(mask, a_match_after_an_open_escape_keeps_json_valid)
{
	struct mask *m = mask_of("{\"token\":\"nabc\"}", NULL);
	char *got = mask_text(m, "{\"t\":\"x\\nabc\"}");
	json_object *o = json_tokener_parse(got);

	cr_assert_not_null(o, "not JSON any more: %s", got);
	cr_assert_null(strstr(got, "nabc"));
	json_object_put(o);
	free(got);
	mask_free(m);
}

Test(mask, key_names)
{
	static const char *const secret[] = {
		"password", "user_password", "userPassword", "PASSWORD", "passwd", "pass", "new-pass",
		"pw", "user_pw", "userPw", "pwd", "pin", "pinCode", "cvv", "cvc", "cvv2", "csc",
		"card_number", "cardNumber", "creditCard", "private_key", "privateKey", "api_key", "apiKey",
		"token", "accessToken", "secret", "client_secret", "ssn", "otp", "totp_secret", "key",
		"iban", "security_code", "sessionId", "account_number", "mfa_code", "license.key",
	};
	static const char *const plain[] = {
		"name", "email", "upward", "monkey", "first_name", "address", "city", "phone", "note",
		"description", "keyboard_layout",
	};

	for (size_t i = 0; i < SX_ARRAY_LEN(secret); i++)
		cr_assert(mask_key_is_secret(secret[i], NULL), "%s should name a secret", secret[i]);
	for (size_t i = 0; i < SX_ARRAY_LEN(plain); i++)
		cr_assert_not(mask_key_is_secret(plain[i], NULL), "%s should not name a secret", plain[i]);
	/* The config's mask_keys adds terms, normalized like keys. */
	cr_assert_not(mask_key_is_secret("memberId", NULL));
	cr_assert(mask_key_is_secret("memberId", "badge, Member_ID"));
	cr_assert(mask_key_is_secret("staff_badge_no", "badge, Member_ID"));
	cr_assert_not(mask_key_is_secret("name", "badge,,  ,"));
}

Test(mask, extra_keys_reach_the_mask)
{
	struct mask *m = mask_of("{\"memberId\":\"M-77812\",\"name\":\"Chris\"}", "member_id");

	masks_to(m, "M-77812 Chris", "******** Chris");
	mask_free(m);
}

Test(mask, step_output_in_place)
{
	struct mask *m = mask_of(payload, NULL);
	json_object *out = json_tokener_parse(
		"{\"reasoning\":\"enter 482913 and hunter22\",\"url_after\":\"https://x.test/?code=482913&p=hunter22\","
		"\"elements\":12,\"actions\":[{\"action\":\"input_text\",\"text\":\"482913\","
		"\"result\":{\"success\":true}},\"482913\"]}");
	json_object *untouched = json_tokener_parse("{\"text\":\"482913\"}");

	mask_json(m, untouched);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(untouched, "text")), "482913",
			 "no code obtained yet: nothing to mask");
	mask_add_code(m, "482913");
	mask_json(m, out);
	cr_assert_str_eq(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			 "{\"reasoning\":\"enter ******** and ********\",\"url_after\":\"https://x.test/?code=********&p=********\","
			 "\"elements\":12,\"actions\":[{\"action\":\"input_text\",\"text\":\"********\","
			 "\"result\":{\"success\":true}},\"********\"]}");
	json_object_put(out);
	json_object_put(untouched);
	mask_free(m);
}

Test(mask, llm_exchange_bodies)
{
	struct mask *m = mask_of(hard, NULL);
	/* A Python-encoded response whose content is the model's JSON answer. */
	static const char body[] =
		"{\"choices\": [{\"message\": {\"content\": \"{\\\"actions\\\": [{\\\"text\\\": "
		"\\\"pa\\\\\\\"ss\\\\\\\\wo/rd-\\\\u00e9\\\\ud83d\\\\udd11\\\"}]}\"}}]}";
	char *got = mask_json_text(m, body);
	char *bad = mask_json_text(m, "not json: pa\"ss\\wo/rd-\xc3\xa9\xf0\x9f\x94\x91");
	char *none = mask_json_text(m, NULL);
	json_object *o = json_tokener_parse(got);

	cr_assert_not_null(o, "not JSON: %s", got);
	cr_assert_not_null(strstr(got, "********"), "%s", got);
	cr_assert_null(strstr(got, "rd-"), "%s", got);
	cr_assert_str_eq(bad, "not json: ********");
	cr_assert_str_eq(none, "");
	json_object_put(o);
	free(got);
	free(bad);
	free(none);
	mask_free(m);
}
