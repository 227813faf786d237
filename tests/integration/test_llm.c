/*
 * The LLM client against the LLM test double (tests/doubles/llm_double.py),
 * which speaks both wire formats, replays scripted answers and records what
 * it was sent.  Each test starts its own double (doubles.h) on a free port
 * and stops it at the end, so tests share no script or request log.
 */
#include <criterion/criterion.h>
#include "sx.h"
#include "conf.h"
#include "doubles.h"
#include "http.h"
#include "llm.h"
#include "prompt.h"
#include "timeutil.h"

#define KEY_ENV "SX_TEST_LLM_KEY"
#define TEST_KEY "sk-test-0123456789abcdef-secret"

static const char *dbl_base;

/* A small "PNG": the signature is all the double looks at. */
static unsigned char png[108];

static void setup(void)
{
	http_global_init();
	dbl_base = llm_double_start();
	memset(png, 0xAB, sizeof(png));
	memcpy(png, "\x89PNG\r\n\x1a\n", 8);
	unsetenv(KEY_ENV);
}

static void teardown(void)
{
	llm_double_stop();
}

TestSuite(llm, .init = setup, .fini = teardown, .timeout = 60);

/*
 * Walks a path such as "body.messages[1].content[0].type" from o; NULL when
 * any step is missing.
 */
static json_object *at(json_object *o, const char *path)
{
	char key[64];
	const char *p = path;
	size_t n;

	while (o && *p) {
		if (*p == '.')
			p++;
		if (*p == '[') {
			long long i;

			n = strcspn(p + 1, "]");
			snprintf(key, sizeof(key), "%.*s", (int)n, p + 1);
			if (!sx_parse_ll(key, 0, 1000000, &i) || !json_object_is_type(o, json_type_array))
				return NULL;
			o = json_object_array_get_idx(o, (size_t)i);
			p += n + 2;
		} else {
			n = strcspn(p, ".[");
			snprintf(key, sizeof(key), "%.*s", (int)n, p);
			if (!json_object_object_get_ex(o, key, &o))
				return NULL;
			p += n;
		}
	}
	return o;
}

static const char *at_str(json_object *o, const char *path)
{
	json_object *v = at(o, path);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static void conf_for(struct sx_conf *c, const char *provider)
{
	sx_conf_defaults(c);
	free(c->llm_provider);
	c->llm_provider = xstrdup(provider);
	free(c->llm_base_url);
	c->llm_base_url = xasprintf("%s/", dbl_base);
	free(c->llm_model);
	c->llm_model = xstrdup("test-model");
	free(c->llm_api_key_env);
	c->llm_api_key_env = xstrdup(KEY_ENV);
	c->llm_timeout = 10;
	c->llm_max_retries = 2;
	c->llm_price_input = 1.0;
	c->llm_price_output = 2.0;
	c->llm_vision = true;
}

struct call {
	enum sx_rc rc;
	struct llm_result res;
	int64_t ms;
	char *system;
	char *user;
};

/* One llm_complete with the given config, system prompt kind and user text. */
static void call(const struct sx_conf *c, char *system, const char *user, bool image,
		 struct call *out)
{
	struct llm_client *lc = NULL;
	struct llm_request req = { 0 };
	int64_t t0;

	cr_assert_eq(llm_client_new(c, &lc), SX_OK);
	out->system = system;
	out->user = xstrdup(user);
	req.system = out->system;
	req.user = out->user;
	if (image) {
		req.image_png = png;
		req.image_len = sizeof(png);
	}
	t0 = sx_mono_ms();
	out->rc = llm_complete(lc, &req, &out->res);
	out->ms = sx_mono_ms() - t0;
	llm_client_free(lc);
}

static void call_release(struct call *k)
{
	llm_result_release(&k->res);
	free(k->system);
	free(k->user);
}

static void check_usage(const struct call *k)
{
	long long in = (long long)(strlen(k->system) + strlen(k->user)) / 4;
	long long out = (long long)strlen(k->res.text) / 4;

	cr_assert_eq(k->res.input_tokens, in, "input tokens %lld, want %lld", k->res.input_tokens, in);
	cr_assert_eq(k->res.output_tokens, out, "output tokens %lld, want %lld",
		     k->res.output_tokens, out);
	cr_assert_float_eq(k->res.cost, in / 1e6 * 1.0 + out / 1e6 * 2.0, 1e-12);
	cr_assert(k->res.cost > 0);
}

static const char decide_rule[] =
	"{\"rules\":[{\"match\":null,\"kind\":\"decide\",\"answers\":["
	"{\"reasoning\":\"done\",\"actions\":[{\"action\":\"complete\"}],"
	"\"verification_code_needed\":false}]}]}";

static void check_decide_answer(const struct call *k)
{
	char err[128];
	json_object *a;

	cr_assert_eq(k->rc, SX_OK, "%s", k->res.error);
	a = llm_parse_answer(k->res.text, err, sizeof(err));
	cr_assert_not_null(a, "%s: %s", k->res.text, err);
	cr_assert_str_eq(at_str(a, "reasoning"), "done");
	cr_assert_str_eq(at_str(a, "actions[0].action"), "complete");
	json_object_put(a);
}

Test(llm, openai_round_trip)
{
	struct sx_conf c;
	struct call k = { 0 };
	json_object *r;

	llm_double_script(decide_rule);
	conf_for(&c, "openai");
	call(&c, prompt_system_decide(), "Goal:\nApply for the job\n", true, &k);
	check_decide_answer(&k);
	check_usage(&k);
	cr_assert_eq(k.res.attempts, 1);
	cr_assert(strstr(k.res.response_json, "\"chat.completion\""));

	r = llm_double_requests();
	cr_assert_eq(json_object_array_length(r), 1);
	cr_assert_str_eq(at_str(r, "[0].path"), "/v1/chat/completions");
	cr_assert_str_eq(at_str(r, "[0].kind"), "decide");
	cr_assert_str_eq(at_str(r, "[0].headers.content-type"), "application/json");
	cr_assert_str_eq(at_str(r, "[0].body.model"), "test-model");
	cr_assert_eq(json_object_get_int(at(r, "[0].body.max_tokens")), 2048);
	cr_assert_eq(json_object_get_int(at(r, "[0].body.temperature")), 0);
	cr_assert_not_null(at(r, "[0].body.temperature"));
	cr_assert_str_eq(at_str(r, "[0].body.messages[0].role"), "system");
	cr_assert(strstr(at_str(r, "[0].body.messages[0].content"), PROMPT_MARK_DECIDE));
	cr_assert_str_eq(at_str(r, "[0].body.messages[1].role"), "user");
	cr_assert_str_eq(at_str(r, "[0].body.messages[1].content[0].type"), "text");
	cr_assert_str_eq(at_str(r, "[0].body.messages[1].content[0].text"), "Goal:\nApply for the job\n");
	cr_assert_str_eq(at_str(r, "[0].body.messages[1].content[1].type"), "image_url");
	cr_assert_str_eq(at_str(r, "[0].body.messages[1].content[1].image_url.url"),
			 "data:image/png;base64,<108 bytes>");
	cr_assert_null(at(r, "[0].body.messages[1].content[1].image_url.detail"),
		       "llm_image_detail = auto sends no detail: compatible servers never see it");
	cr_assert_eq(json_object_get_int(at(r, "[0].image_bytes[0]")), (int)sizeof(png));
	cr_assert(json_object_get_boolean(at(r, "[0].image_is_png[0]")));

	/* The stored request keeps its shape but not the image data. */
	cr_assert(strstr(k.res.request_json, "\"url\":\"data:image/png;base64,<image 108 bytes>\""),
		  "%s", k.res.request_json);
	cr_assert(!strstr(k.res.request_json, "iVBORw0KGgo"));
	json_object_put(r);
	call_release(&k);
	sx_conf_release(&c);
}

/*
 * llm_image_detail: low and high reach OpenAI's image part; Anthropic has no
 * such field (a low detail screenshot is a smaller one, llm_screenshot_width).
 */
Test(llm, image_detail)
{
	static const char *const details[] = { "low", "high" };
	struct sx_conf c;
	struct call k = { 0 };
	json_object *r, *q;

	for (size_t i = 0; i < SX_ARRAY_LEN(details); i++) {
		llm_double_script(decide_rule);
		conf_for(&c, "openai");
		free(c.llm_image_detail);
		c.llm_image_detail = xstrdup(details[i]);
		call(&c, prompt_system_decide(), "Goal:\nApply for the job\n", true, &k);
		check_decide_answer(&k);
		r = llm_double_requests();
		q = json_object_array_get_idx(r, json_object_array_length(r) - 1);
		cr_assert_str_eq(at_str(q, "body.messages[1].content[1].image_url.detail"), details[i]);
		json_object_put(r);
		call_release(&k);
		memset(&k, 0, sizeof(k));
		sx_conf_release(&c);
	}
	conf_for(&c, "anthropic");
	free(c.llm_image_detail);
	c.llm_image_detail = xstrdup("low");
	llm_double_script(decide_rule);
	call(&c, prompt_system_decide(), "Goal:\nApply for the job\n", true, &k);
	check_decide_answer(&k);
	r = llm_double_requests();
	q = json_object_array_get_idx(r, json_object_array_length(r) - 1);
	cr_assert_str_eq(at_str(q, "body.messages[0].content[0].type"), "image");
	cr_assert_null(strstr(json_object_to_json_string(at(q, "body")), "detail"));
	json_object_put(r);
	call_release(&k);
	/* Low detail means a screenshot at most 512 pixels wide, for either provider. */
	cr_assert_eq(llm_screenshot_width(&c), LLM_LOW_DETAIL_WIDTH);
	c.llm_image_width = 300;
	cr_assert_eq(llm_screenshot_width(&c), 300);
	free(c.llm_image_detail);
	c.llm_image_detail = xstrdup("auto");
	cr_assert_eq(llm_screenshot_width(&c), 300);
	sx_conf_release(&c);
}

Test(llm, anthropic_round_trip)
{
	struct sx_conf c;
	struct call k = { 0 };
	json_object *r;

	llm_double_script(decide_rule);
	conf_for(&c, "anthropic");
	call(&c, prompt_system_decide(), "Goal:\nApply for the job\n", true, &k);
	check_decide_answer(&k);
	check_usage(&k);
	cr_assert_eq(k.res.attempts, 1);
	cr_assert(strstr(k.res.response_json, "\"type\": \"message\""));

	r = llm_double_requests();
	cr_assert_eq(json_object_array_length(r), 1);
	cr_assert_str_eq(at_str(r, "[0].path"), "/v1/messages");
	cr_assert_str_eq(at_str(r, "[0].kind"), "decide");
	cr_assert_str_eq(at_str(r, "[0].headers.anthropic-version"), "2023-06-01");
	cr_assert_eq(json_object_get_int(at(r, "[0].body.max_tokens")), 2048);
	cr_assert(strstr(at_str(r, "[0].body.system"), PROMPT_MARK_DECIDE));
	cr_assert_str_eq(at_str(r, "[0].body.messages[0].role"), "user");
	cr_assert_str_eq(at_str(r, "[0].body.messages[0].content[0].type"), "image");
	cr_assert_str_eq(at_str(r, "[0].body.messages[0].content[0].source.type"), "base64");
	cr_assert_str_eq(at_str(r, "[0].body.messages[0].content[0].source.media_type"), "image/png");
	cr_assert_str_eq(at_str(r, "[0].body.messages[0].content[1].type"), "text");
	cr_assert_str_eq(at_str(r, "[0].body.messages[0].content[1].text"), "Goal:\nApply for the job\n");
	cr_assert(json_object_get_boolean(at(r, "[0].image_is_png[0]")));
	cr_assert(strstr(k.res.request_json, "\"data\":\"<image 108 bytes>\""), "%s", k.res.request_json);
	json_object_put(r);
	call_release(&k);
	sx_conf_release(&c);
}

Test(llm, no_image_when_vision_off)
{
	static const char *const providers[] = { "openai", "anthropic" };
	struct sx_conf c;
	struct call k;
	json_object *r;
	size_t i;

	llm_double_script(decide_rule);
	for (i = 0; i < SX_ARRAY_LEN(providers); i++) {
		memset(&k, 0, sizeof(k));
		conf_for(&c, providers[i]);
		c.llm_vision = false;
		call(&c, prompt_system_decide(), "Goal: x", true, &k);
		cr_assert_eq(k.rc, SX_OK, "%s", k.res.error);
		cr_assert(!strstr(k.res.request_json, "image"), "%s", k.res.request_json);
		call_release(&k);
		sx_conf_release(&c);
	}
	r = llm_double_requests();
	cr_assert_eq(json_object_array_length(r), 2);
	for (i = 0; i < 2; i++) {
		char path[64];

		snprintf(path, sizeof(path), "[%zu].image", i);
		cr_assert(!json_object_get_boolean(at(r, path)), "%s sent an image", providers[i]);
	}
	cr_assert_eq(json_object_array_length(at(r, "[0].body.messages[1].content")), 1);
	cr_assert_eq(json_object_array_length(at(r, "[1].body.messages[0].content")), 1);
	json_object_put(r);
}

Test(llm, retry_after_429_then_success)
{
	struct sx_conf c;
	struct call k = { 0 };
	json_object *r;

	llm_double_script("{\"rules\":[{\"match\":null,\"kind\":\"any\",\"answers\":["
	       "{\"__http\":429,\"__retry_after\":\"1\"},{\"ok\":true}]}]}");
	conf_for(&c, "openai");
	call(&c, prompt_system_verify(), "Goal: x", false, &k);
	cr_assert_eq(k.rc, SX_OK, "%s", k.res.error);
	cr_assert_eq(k.res.attempts, 2);
	cr_assert_str_eq(k.res.text, "{\"ok\": true}");
	cr_assert(k.ms >= 950, "Retry-After: 1 was not honoured (%lld ms)", (long long)k.ms);
	check_usage(&k);
	r = llm_double_requests();
	cr_assert_eq(json_object_array_length(r), 2);
	cr_assert_eq(json_object_get_int(at(r, "[0].status")), 429);
	cr_assert_eq(json_object_get_int(at(r, "[1].status")), 200);
	json_object_put(r);
	call_release(&k);
	sx_conf_release(&c);
}

Test(llm, server_error_exhausts_retries)
{
	struct sx_conf c;
	struct call k = { 0 };
	json_object *r;

	llm_double_script("{\"rules\":[{\"match\":null,\"kind\":\"any\",\"answers\":["
	       "{\"__http\":500,\"__body\":{\"error\":{\"message\":\"upstream exploded\","
	       "\"type\":\"server_error\"}}}]}]}");
	conf_for(&c, "openai");
	c.llm_max_retries = 2;
	call(&c, prompt_system_decide(), "Goal: x", false, &k);
	cr_assert_eq(k.rc, SX_ELLM);
	cr_assert_eq(k.res.attempts, 3);
	cr_assert_null(k.res.text);
	cr_assert(strstr(k.res.error, "HTTP 500"), "%s", k.res.error);
	cr_assert(strstr(k.res.error, "upstream exploded"), "%s", k.res.error);
	cr_assert(strstr(k.res.error, "3 attempts"), "%s", k.res.error);
	/* Backoff waited between tries: at least half of 1 s + 2 s. */
	cr_assert(k.ms >= 1400, "no backoff between retries (%lld ms)", (long long)k.ms);
	r = llm_double_requests();
	cr_assert_eq(json_object_array_length(r), 3);
	json_object_put(r);
	call_release(&k);
	sx_conf_release(&c);
}

Test(llm, client_error_not_retried)
{
	static const char *const providers[] = { "openai", "anthropic" };
	struct sx_conf c;
	struct call k;
	json_object *r;
	size_t i;

	llm_double_script("{\"rules\":[{\"match\":null,\"kind\":\"any\",\"answers\":[{\"__http\":400}]}]}");
	for (i = 0; i < SX_ARRAY_LEN(providers); i++) {
		memset(&k, 0, sizeof(k));
		conf_for(&c, providers[i]);
		call(&c, prompt_system_decide(), "Goal: x", false, &k);
		cr_assert_eq(k.rc, SX_ELLM);
		cr_assert_eq(k.res.attempts, 1);
		cr_assert(strstr(k.res.error, "HTTP 400"), "%s", k.res.error);
		cr_assert(strstr(k.res.error, providers[i]), "%s", k.res.error);
		/* The provider's own message, from either error shape. */
		cr_assert(strstr(k.res.error, "test double: scripted HTTP 400"), "%s", k.res.error);
		call_release(&k);
		sx_conf_release(&c);
	}
	r = llm_double_requests();
	cr_assert_eq(json_object_array_length(r), 2);
	json_object_put(r);
}

/*
 * The double answers raw (a JSON string literal, escaped for the script)
 * instead of an answer: the client returns the text as it came, want, and
 * the parser refuses it with an error holding why.
 */
static void raw_answer_is_refused(const char *raw, const char *want, const char *why)
{
	struct sx_conf c;
	struct call k = { 0 };
	char err[128], *rules = xasprintf("{\"rules\":[{\"match\":null,\"kind\":\"decide\",\"answers\":"
					  "[{\"__raw\":%s}]}]}", raw);

	llm_double_script(rules);
	conf_for(&c, "anthropic");
	call(&c, prompt_system_decide(), "Goal: x", false, &k);
	cr_assert_eq(k.rc, SX_OK, "%s", k.res.error);
	cr_assert_str_eq(k.res.text, want);
	cr_assert_null(llm_parse_answer(k.res.text, err, sizeof(err)));
	cr_assert(strstr(err, why), "%s", err);
	call_release(&k);
	sx_conf_release(&c);
	free(rules);
}

/* Prose instead of JSON comes back as text, and does not parse. */
Test(llm, prose_comes_back_as_text)
{
	raw_answer_is_refused("\"I think you should click the blue button.\"",
			      "I think you should click the blue button.", "not JSON");
}

/* JSON cut off mid-way comes back as text, and parses as truncated. */
Test(llm, truncated_json_comes_back_as_text)
{
	raw_answer_is_refused("\"{\\\"actions\\\": [{\\\"action\\\": \\\"cl\"",
			      "{\"actions\": [{\"action\": \"cl", "truncated");
}

static const char form_elements[] =
	"[e1] input:text \"Full name\" value=\"\" required\n"
	"[e2] input:email \"Email address\" value=\"\" required\n"
	"[e3] select \"Country\" value=\"France\" options=[\"France\",\"Spain\"]\n"
	"[e4] checkbox \"I accept the \\\"terms\\\"\" unchecked\n"
	"[e5] button \"Submit application\"";

static char *form_prompt(void)
{
	struct prompt_ctx ctx = {
		.url = "http://127.0.0.1/apply", .title = "Apply",
		.navigation_goal = "Apply for the job",
		.payload_json = "{\"name\":\"Chris P. Bacon\"}",
		.elements = form_elements, .step = 0, .max_steps = 10,
	};

	return prompt_user_decide(&ctx);
}

Test(llm, labels_resolve_to_element_ids)
{
	struct sx_conf c;
	struct call k = { 0 };
	char err[128], *user = form_prompt();
	json_object *a;

	llm_double_script("{\"rules\":[{\"match\":\"Apply for the job\",\"kind\":\"decide\",\"answers\":[{"
	       "\"reasoning\":\"fill\",\"actions\":["
	       "{\"action\":\"input_text\",\"label\":\"Full name\",\"text\":\"Chris P. Bacon\"},"
	       "{\"action\":\"input_text\",\"label\":\"email ADDRESS\",\"text\":\"chris@pbacon.com\"},"
	       "{\"action\":\"select_option\",\"label\":\"Country\",\"option\":\"Spain\"},"
	       "{\"action\":\"check\",\"label\":\"I accept the \\\"terms\\\"\"},"
	       "{\"action\":\"click\",\"label\":\"Submit application\"},"
	       "{\"action\":\"wait\",\"seconds\":1}]}]}]}");
	conf_for(&c, "openai");
	call(&c, prompt_system_decide(), user, true, &k);
	cr_assert_eq(k.rc, SX_OK, "%s", k.res.error);
	a = llm_parse_answer(k.res.text, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	cr_assert_str_eq(at_str(a, "actions[0].element"), "e1");
	cr_assert_str_eq(at_str(a, "actions[0].text"), "Chris P. Bacon");
	cr_assert_null(at(a, "actions[0].label"));
	cr_assert_str_eq(at_str(a, "actions[1].element"), "e2", "case-insensitive fallback");
	cr_assert_str_eq(at_str(a, "actions[2].element"), "e3");
	cr_assert_str_eq(at_str(a, "actions[2].option"), "Spain");
	cr_assert_str_eq(at_str(a, "actions[3].element"), "e4", "escaped quotes in a label");
	cr_assert_str_eq(at_str(a, "actions[4].element"), "e5");
	cr_assert_null(at(a, "actions[5].element"));
	json_object_put(a);
	free(user);
	call_release(&k);
	sx_conf_release(&c);
}

Test(llm, unknown_label_fails_visibly)
{
	struct sx_conf c;
	struct call k = { 0 };
	char *user = form_prompt();
	json_object *r;

	llm_double_script("{\"rules\":[{\"match\":null,\"kind\":\"decide\",\"answers\":[{\"actions\":["
	       "{\"action\":\"input_text\",\"label\":\"Phone number\",\"text\":\"555\"}]},"
	       "{\"actions\":[{\"action\":\"complete\"}]}]}]}");
	conf_for(&c, "anthropic");
	c.llm_max_retries = 1;
	call(&c, prompt_system_decide(), user, false, &k);
	cr_assert_eq(k.rc, SX_ELLM);
	cr_assert(strstr(k.res.error, "no element labelled 'Phone number'"), "%s", k.res.error);
	/* The retry met the same failure: the cursor did not move on to "complete". */
	cr_assert_eq(k.res.attempts, 2);
	r = llm_double_requests();
	cr_assert_eq(json_object_get_int(at(r, "[1].status")), 500);
	json_object_put(r);
	free(user);
	call_release(&k);
	sx_conf_release(&c);
}

Test(llm, rules_by_kind_and_match_and_cursor)
{
	struct sx_conf c;
	struct call k[4];
	size_t i;

	memset(k, 0, sizeof(k));
	llm_double_script("{\"rules\":["
	       "{\"match\":null,\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"ok\"}]},"
	       "{\"match\":\"price\",\"kind\":\"extract\",\"answers\":[{\"price\":1},{\"price\":2}]},"
	       "{\"match\":null,\"kind\":\"any\",\"answers\":[{\"other\":true}]}]}");
	conf_for(&c, "openai");
	call(&c, prompt_system_verify(), "Goal: x", false, &k[0]);
	call(&c, prompt_system_extract(), "Data to extract: the price", false, &k[1]);
	call(&c, prompt_system_extract(), "Data to extract: the price", false, &k[2]);
	call(&c, prompt_system_extract(), "Data to extract: the title", false, &k[3]);
	for (i = 0; i < 4; i++)
		cr_assert_eq(k[i].rc, SX_OK, "%s", k[i].res.error);
	cr_assert_str_eq(k[0].res.text, "{\"goal_achieved\": true, \"reasoning\": \"ok\"}");
	cr_assert_str_eq(k[1].res.text, "{\"price\": 1}");
	cr_assert_str_eq(k[2].res.text, "{\"price\": 2}");
	cr_assert_str_eq(k[3].res.text, "{\"other\": true}");
	for (i = 0; i < 4; i++)
		call_release(&k[i]);
	/* After its last answer a rule repeats it. */
	call(&c, prompt_system_extract(), "the price again", false, &k[0]);
	cr_assert_str_eq(k[0].res.text, "{\"price\": 2}");
	call_release(&k[0]);
	sx_conf_release(&c);
}

/* The key goes in the provider's auth header, and in nothing kept or recorded. */
Test(llm, key_sent_as_header_never_stored)
{
	struct sx_conf c;
	struct call k = { 0 }, a = { 0 };
	struct llm_client *lc = NULL;
	json_object *r;

	setenv(KEY_ENV, TEST_KEY, 1);
	llm_double_script("{\"rules\":[{\"match\":null,\"kind\":\"any\",\"answers\":[{\"ok\":true}]}]}");
	conf_for(&c, "openai");
	cr_assert_eq(llm_client_new(&c, &lc), SX_OK);
	cr_assert(llm_client_has_key(lc));
	llm_client_free(lc);
	call(&c, prompt_system_decide(), "Goal: x", false, &k);
	cr_assert_eq(k.rc, SX_OK, "%s", k.res.error);
	cr_assert(!strstr(k.res.request_json, TEST_KEY));
	cr_assert(!strstr(k.res.response_json, TEST_KEY));
	sx_conf_release(&c);

	conf_for(&c, "anthropic");
	call(&c, prompt_system_decide(), "Goal: x", false, &a);
	cr_assert_eq(a.rc, SX_OK, "%s", a.res.error);
	cr_assert(!strstr(a.res.request_json, TEST_KEY));

	r = llm_double_requests();
	cr_assert_eq(json_object_array_length(r), 2);
	cr_assert(json_object_get_boolean(at(r, "[0].auth")));
	cr_assert_str_eq(at_str(r, "[0].auth_scheme"), "Bearer");
	cr_assert(json_object_get_boolean(at(r, "[1].auth")));
	cr_assert_str_eq(at_str(r, "[1].path"), "/v1/messages");
	cr_assert(!strstr(json_object_to_json_string(r), TEST_KEY), "the double recorded the key");
	json_object_put(r);
	call_release(&k);
	call_release(&a);
	sx_conf_release(&c);
}

/* A provider that echoes the key in its error: it is masked in what we keep. */
Test(llm, key_echoed_in_an_error_is_masked)
{
	struct sx_conf c;
	struct call e = { 0 };

	setenv(KEY_ENV, TEST_KEY, 1);
	llm_double_script("{\"rules\":[{\"match\":null,\"kind\":\"any\",\"answers\":[{\"__http\":401,\"__body\":"
			  "{\"error\":{\"message\":\"Incorrect API key provided: " TEST_KEY "\"}}}]}]}");
	conf_for(&c, "openai");
	call(&c, prompt_system_decide(), "leak", false, &e);
	cr_assert_eq(e.rc, SX_ELLM);
	cr_assert(strstr(e.res.error, "HTTP 401"), "%s", e.res.error);
	cr_assert(!strstr(e.res.error, TEST_KEY), "%s", e.res.error);
	cr_assert(!strstr(e.res.response_json, TEST_KEY));
	call_release(&e);
	sx_conf_release(&c);
}

Test(llm, no_key_no_auth_header)
{
	struct sx_conf c;
	struct call k = { 0 };
	struct llm_client *lc = NULL;
	json_object *r;

	setenv(KEY_ENV, "", 1);
	llm_double_script(decide_rule);
	conf_for(&c, "openai");
	cr_assert_eq(llm_client_new(&c, &lc), SX_OK);
	cr_assert(!llm_client_has_key(lc));
	llm_client_free(lc);
	call(&c, prompt_system_decide(), "Goal: x", false, &k);
	cr_assert_eq(k.rc, SX_OK, "%s", k.res.error);
	r = llm_double_requests();
	cr_assert(!json_object_get_boolean(at(r, "[0].auth")));
	json_object_put(r);
	call_release(&k);
	sx_conf_release(&c);
}

Test(llm, slow_answer_times_out)
{
	struct sx_conf c;
	struct call k = { 0 };

	llm_double_script("{\"rules\":[{\"match\":null,\"kind\":\"any\",\"answers\":[{\"__delay\":3,\"ok\":true}]}]}");
	conf_for(&c, "openai");
	c.llm_timeout = 1;
	c.llm_max_retries = 0;
	call(&c, prompt_system_decide(), "Goal: x", false, &k);
	cr_assert_eq(k.rc, SX_ETIMEOUT, "%s", sx_strerror(k.rc));
	cr_assert(strstr(k.res.error, "no answer within 1 s"), "%s", k.res.error);
	cr_assert(k.ms < 2500, "took %lld ms", (long long)k.ms);
	call_release(&k);
	sx_conf_release(&c);
}

Test(llm, bad_provider_is_a_config_error)
{
	struct sx_conf c;
	struct llm_client *lc = (struct llm_client *)&c;

	conf_for(&c, "openai");
	free(c.llm_provider);
	c.llm_provider = xstrdup("gemini");
	cr_assert_eq(llm_client_new(&c, &lc), SX_ECONFIG);
	cr_assert_null(lc);
	sx_conf_release(&c);
}
