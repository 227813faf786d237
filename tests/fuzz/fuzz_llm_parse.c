/*
 * Fuzzes llm_parse_answer() (agent/llm/parse.c), which pulls the JSON value
 * out of a model's answer text (fences, prose, trailing commas, cut-off
 * answers).
 *
 * Beyond "no crash" it checks:
 *  - NULL comes with a reason in err, a value with err empty;
 *  - the value is an object or an array;
 *  - the value serializes to RFC 8259 JSON (fuzz_json_valid) that the
 *    project's parser reads back, and from there on reading and writing it
 *    is a fixed point (the first read may normalize a number: "0e" is
 *    read as 0, "-0e" as 0): the agent stores the value in steps.output and
 *    the API serves it, so it must be JSON whatever the model wrote.
 */
#include "fuzz.h"
#include "llm.h"
#include "task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	char err[256], perr[160];
	json_object *o, *back, *again;
	const char *ser, *ser2, *ser3;
	size_t len = 0, len2 = 0, len3 = 0;

	memset(err, 'x', sizeof(err));
	o = llm_parse_answer(text, err, sizeof(err));
	FUZZ_CHECK(strnlen(err, sizeof(err)) < sizeof(err), "err not NUL-terminated");
	if (!o) {
		FUZZ_CHECK(err[0] != '\0', "no value and no reason");
		goto out;
	}
	FUZZ_CHECK(err[0] == '\0', "a value and a reason: %s", err);
	FUZZ_CHECK(json_object_is_type(o, json_type_object) || json_object_is_type(o, json_type_array),
		   "value of type %s", json_type_to_name(json_object_get_type(o)));
	ser = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	FUZZ_CHECK(fuzz_json_valid(ser, len), "the value serializes to text that is not JSON: %s", ser);
	back = sx_json_parse(ser, len, 1000, perr, sizeof(perr));
	FUZZ_CHECK(back != NULL, "the value serializes to text that is not JSON (%s): %s", perr, ser);
	ser2 = json_object_to_json_string_length(back, JSON_C_TO_STRING_PLAIN, &len2);
	again = sx_json_parse(ser2, len2, 1000, perr, sizeof(perr));
	FUZZ_CHECK(again != NULL, "the stored value, read back, is not JSON (%s): %s", perr, ser2);
	ser3 = json_object_to_json_string_length(again, JSON_C_TO_STRING_PLAIN, &len3);
	FUZZ_CHECK(len2 == len3 && memcmp(ser2, ser3, len2) == 0,
		   "the stored value changes each time it is read:\n%s\n%s", ser2, ser3);
	json_object_put(again);
	json_object_put(back);
out:
	json_object_put(o);
	free(text);
	return 0;
}
