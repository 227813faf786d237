/*
 * error_code_mapping: the client's map checked, and the codes a model
 * names from it sorted from its garbage (see errcode.h).
 */
#include "errcode.h"
#include "buf.h"
#include "json.h"

enum sx_rc errcode_mapping_check(json_object *mapping, struct sx_invalid *why)
{
	enum sx_rc rc = SX_OK;
	size_t n = 0;

	if (!json_object_is_type(mapping, json_type_object))
		goto out;
	json_object_object_foreach(mapping, code, cond) {
		size_t len = strlen(code);

		(void)cond;
		if (++n > ERRCODE_MAX_CODES) {
			rc = sx_invalid_set(why, SX_INVALID_SHAPE, "error_code_mapping", "too_long",
					    "Dictionary should have at most %d items", ERRCODE_MAX_CODES);
			break;
		}
		if (len == 0 || len > ERRCODE_CODE_MAX) {
			rc = sx_invalid_set(why, SX_INVALID_SHAPE, "error_code_mapping",
					    len ? "string_too_long" : "string_too_short",
					    "Each error code should have 1 to %d bytes", ERRCODE_CODE_MAX);
			break;
		}
	}
out:
	return rc;
}

/* s cut to at most max bytes on a UTF-8 character boundary (json-c strings are valid UTF-8). */
static json_object *errcode_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return json_object_new_string_len(s, (int)n);
}

/* true when out already holds an entry for code. */
static bool errcode_seen(json_object *out, const char *code)
{
	bool seen = false;

	for (size_t i = 0; !seen && i < json_object_array_length(out); i++)
		seen = strcmp(sx_json_string(json_object_array_get_idx(out, i), "error_code"), code) == 0;
	return seen;
}

/* The entry e rebuilt in the UserDefinedError shape, or NULL when it is not acceptable. */
static json_object *errcode_entry(json_object *e, json_object *mapping)
{
	const char *code = sx_json_string(e, "error_code"), *why = sx_json_string(e, "reasoning");
	json_object *conf = sx_json_member(e, "confidence_float"), *out = NULL;
	double c;

	if (!code || !json_object_object_get_ex(mapping, code, NULL) || !why || !*why)
		goto out;
	if (!json_object_is_type(conf, json_type_double) && !json_object_is_type(conf, json_type_int))
		goto out;
	c = json_object_get_double(conf);
	if (!(c >= 0.0 && c <= 1.0))
		goto out;
	out = json_object_new_object();
	json_object_object_add(out, "error_code", json_object_new_string(code));
	json_object_object_add(out, "reasoning", errcode_cut(why, ERRCODE_REASONING_MAX));
	json_object_object_add(out, "confidence_float", json_object_new_double(c));
	json_object_object_add(out, "error_type", json_object_new_string("USER_DEFINED_ERROR"));
out:
	return out;
}

json_object *errcode_answer_errors(json_object *holder, json_object *mapping)
{
	json_object *errors = sx_json_member(holder, "errors"), *out = NULL, *e;

	if (!json_object_is_type(holder, json_type_object) ||
	    !json_object_is_type(mapping, json_type_object) ||
	    !json_object_is_type(errors, json_type_array))
		goto out;
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(errors); i++) {
		e = errcode_entry(json_object_array_get_idx(errors, i), mapping);
		if (e && !errcode_seen(out, sx_json_string(e, "error_code")))
			json_object_array_add(out, e);
		else
			json_object_put(e);
	}
	if (json_object_array_length(out) == 0) {
		json_object_put(out);
		out = NULL;
	}
out:
	return out;
}

char *errcode_failure_reason(json_object *errors)
{
	struct sx_buf b;
	char *s;

	/* Each entry's reasoning was cut to ERRCODE_REASONING_MAX, and a mapping has few codes. */
	sx_buf_init(&b, (ERRCODE_REASONING_MAX + 2) * ERRCODE_MAX_CODES + 1);
	for (size_t i = 0; i < json_object_array_length(errors); i++)
		(void)sx_buf_printf(&b, "%s%s", i ? "; " : "",
				    sx_json_string(json_object_array_get_idx(errors, i), "reasoning"));
	s = sx_buf_detach(&b, NULL);
	sx_buf_release(&b);
	return s;
}
