#include "errcode.h"
#include "json.h"
#include "task.h"

#include <criterion/criterion.h>

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);

	cr_assert_not_null(o, "bad test JSON: %s", s);
	return o;
}

static const char mapping[] =
	"{\"OUT_OF_STOCK\":\"the product is out of stock\",\"NOT_FOUND\":\"the product does not exist\"}";

Test(errcode, mapping_within_caps_passes)
{
	json_object *m = parse(mapping);
	struct sx_invalid why = { 0 };

	cr_assert_eq(errcode_mapping_check(m, &why), SX_OK);
	cr_assert_eq(errcode_mapping_check(NULL, &why), SX_OK);
	json_object_put(m);
}

Test(errcode, too_many_codes_or_a_bad_code_is_a_shape_problem)
{
	json_object *m = json_object_new_object();
	struct sx_invalid why = { 0 };
	char code[ERRCODE_CODE_MAX + 2];

	for (int i = 0; i <= ERRCODE_MAX_CODES; i++) {
		snprintf(code, sizeof(code), "C%d", i);
		json_object_object_add(m, code, json_object_new_string("x"));
	}
	cr_assert_eq(errcode_mapping_check(m, &why), SX_EINVAL);
	cr_assert_eq(why.kind, SX_INVALID_SHAPE);
	cr_assert_str_eq(why.field, "error_code_mapping");
	cr_assert_str_eq(why.type, "too_long");
	sx_invalid_release(&why);
	json_object_put(m);

	m = json_object_new_object();
	memset(code, 'A', ERRCODE_CODE_MAX + 1);
	code[ERRCODE_CODE_MAX + 1] = '\0';
	json_object_object_add(m, code, json_object_new_string("x"));
	cr_assert_eq(errcode_mapping_check(m, &why), SX_EINVAL);
	cr_assert_str_eq(why.type, "string_too_long");
	sx_invalid_release(&why);
	json_object_put(m);

	m = parse("{\"\":\"x\"}");
	cr_assert_eq(errcode_mapping_check(m, &why), SX_EINVAL);
	cr_assert_str_eq(why.type, "string_too_short");
	sx_invalid_release(&why);
	json_object_put(m);
}

Test(errcode, the_request_parser_applies_the_caps)
{
	json_object *req = NULL;
	struct sx_invalid why;
	const char body[] = "{\"url\":\"https://a.example.com/\",\"error_code_mapping\":{\"\":\"x\"}}";

	cr_assert_eq(task_request_parse(body, strlen(body), 0, NULL, &req, &why), SX_EINVAL);
	cr_assert_null(req);
	cr_assert_str_eq(why.field, "error_code_mapping");
	sx_invalid_release(&why);
}

Test(errcode, only_mapped_codes_of_the_right_shape_are_kept)
{
	json_object *m = parse(mapping);
	json_object *answer = parse(
		"{\"reasoning\":\"r\",\"errors\":["
		" {\"error_code\":\"OUT_OF_STOCK\",\"reasoning\":\"The page says sold out\",\"confidence_float\":0.9},"
		" {\"error_code\":\"LLM_REASONING_ERROR\",\"reasoning\":\"x\",\"confidence_float\":0.5},"
		" {\"error_code\":\"NOT_FOUND\",\"reasoning\":\"\",\"confidence_float\":0.5},"
		" {\"error_code\":\"NOT_FOUND\",\"reasoning\":\"y\",\"confidence_float\":1.5},"
		" {\"error_code\":\"NOT_FOUND\",\"reasoning\":\"y\"},"
		" {\"error_code\":\"OUT_OF_STOCK\",\"reasoning\":\"twice\",\"confidence_float\":1},"
		" \"garbage\", 7, null]}");
	json_object *got = errcode_answer_errors(answer, m), *e;
	char *reason;

	cr_assert_not_null(got);
	cr_assert_eq(json_object_array_length(got), 1);
	e = json_object_array_get_idx(got, 0);
	cr_assert_str_eq(sx_json_string(e, "error_code"), "OUT_OF_STOCK");
	cr_assert_str_eq(sx_json_string(e, "reasoning"), "The page says sold out");
	cr_assert_str_eq(sx_json_string(e, "error_type"), "USER_DEFINED_ERROR");
	cr_assert_float_eq(json_object_get_double(sx_json_member(e, "confidence_float")), 0.9, 1e-9);
	reason = errcode_failure_reason(got);
	cr_assert_str_eq(reason, "The page says sold out");
	free(reason);
	json_object_put(got);
	json_object_put(answer);
	json_object_put(m);
}

Test(errcode, garbage_answers_give_nothing)
{
	static const char *const answers[] = {
		"{}", "{\"errors\":{}}", "{\"errors\":[]}", "[1,2]", "\"x\"",
		"{\"errors\":[{\"error_code\":\"NOPE\",\"reasoning\":\"r\",\"confidence_float\":1}]}",
	};
	json_object *m = parse(mapping);

	for (size_t i = 0; i < SX_ARRAY_LEN(answers); i++) {
		json_object *a = parse(answers[i]);

		cr_assert_null(errcode_answer_errors(a, m), "%s", answers[i]);
		json_object_put(a);
	}
	cr_assert_null(errcode_answer_errors(NULL, m));
	json_object_put(m);
}

Test(errcode, reasonings_join_and_long_ones_are_cut)
{
	json_object *m = parse(mapping), *a = json_object_new_object(), *errs = json_object_new_array();
	json_object *e1 = json_object_new_object(), *e2 = json_object_new_object(), *got;
	char big[ERRCODE_REASONING_MAX + 100];
	char *reason;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	json_object_object_add(e1, "error_code", json_object_new_string("OUT_OF_STOCK"));
	json_object_object_add(e1, "reasoning", json_object_new_string("sold out"));
	json_object_object_add(e1, "confidence_float", json_object_new_double(0.5));
	json_object_object_add(e2, "error_code", json_object_new_string("NOT_FOUND"));
	json_object_object_add(e2, "reasoning", json_object_new_string(big));
	json_object_object_add(e2, "confidence_float", json_object_new_int(0));
	json_object_array_add(errs, e1);
	json_object_array_add(errs, e2);
	json_object_object_add(a, "errors", errs);
	got = errcode_answer_errors(a, m);
	cr_assert_eq(json_object_array_length(got), 2);
	cr_assert_eq(strlen(sx_json_string(json_object_array_get_idx(got, 1), "reasoning")),
		     ERRCODE_REASONING_MAX);
	reason = errcode_failure_reason(got);
	cr_assert_eq(strncmp(reason, "sold out; xxx", 13), 0);
	free(reason);
	json_object_put(got);
	json_object_put(a);
	json_object_put(m);
}
