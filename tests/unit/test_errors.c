/*
 * FastAPI's error shapes, byte for byte (fcgi/errors.c).
 */
#include "sx.h"
#include "errors.h"

#include <criterion/criterion.h>

static void assert_body(json_object *o, const char *want)
{
	cr_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE), want);
	json_object_put(o);
}

Test(errors, detail_and_validation_shapes)
{
	assert_body(http_error_validation("body", "url", "Field required", "missing"),
		    "{\"detail\":[{\"loc\":[\"body\",\"url\"],\"msg\":\"Field required\",\"type\":\"missing\"}]}");
	assert_body(http_error_validation("body", NULL, "m", "t"),
		    "{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"m\",\"type\":\"t\"}]}");
	assert_body(http_error_validation("header", "idempotency-key", "m", "string_too_long"),
		    "{\"detail\":[{\"loc\":[\"header\",\"idempotency-key\"],\"msg\":\"m\","
		    "\"type\":\"string_too_long\"}]}");
	assert_body(http_error_detail("Task tsk_1 not found"), "{\"detail\":\"Task tsk_1 not found\"}");
}

Test(errors, invalid_shape_is_a_422_list_in_the_body)
{
	struct sx_invalid why = { 0 };
	int status = 0;

	cr_assert_eq(sx_invalid_set(&why, SX_INVALID_SHAPE, "max_steps", "int_type",
				    "Input should be a valid %s", "integer"), SX_EINVAL);
	assert_body(http_error_invalid(&why, &status),
		    "{\"detail\":[{\"loc\":[\"body\",\"max_steps\"],"
		    "\"msg\":\"Input should be a valid integer\",\"type\":\"int_type\"}]}");
	cr_assert_eq(status, 422);
	sx_invalid_release(&why);
	cr_assert_null(why.msg);
}

Test(errors, invalid_value_is_a_400_detail)
{
	struct sx_invalid why = { 0 };
	int status = 0;

	sx_invalid_set(&why, SX_INVALID_VALUE, "proxy_location", NULL, "Invalid proxy_location: %s", "X");
	assert_body(http_error_invalid(&why, &status), "{\"detail\":\"Invalid proxy_location: X\"}");
	cr_assert_eq(status, 400);
	/* Setting again replaces the message without leaking it. */
	sx_invalid_set(&why, SX_INVALID_SHAPE, NULL, "json_invalid", "JSON decode error: %s", "x");
	assert_body(http_error_invalid(&why, &status),
		    "{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"JSON decode error: x\",\"type\":\"json_invalid\"}]}");
	sx_invalid_release(&why);
}

/* A lost lock race is never reported as a database outage (issue 9). */
Test(errors, db_failures_say_what_happened)
{
	cr_assert_not_null(strstr(http_error_db_msg(SX_EDBDOWN), "not reachable"));
	cr_assert_not_null(strstr(http_error_db_msg(SX_EDEADLOCK), "lock conflicts"));
	cr_assert_not_null(strstr(http_error_db_msg(SX_EDEADLOCK), "nothing was stored"));
	cr_assert_null(strstr(http_error_db_msg(SX_EDEADLOCK), "reachable"));
	cr_assert_null(strstr(http_error_db_msg(SX_EDB), "reachable"));
}
