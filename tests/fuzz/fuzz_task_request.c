/*
 * Fuzzes task_request_parse() (core/task.c), the validator of the body of
 * POST /api/v1/tasks, with the depth limit and the default config's field
 * caps the API uses, and the error body the API makes of a refusal
 * (http_error_invalid, fcgi/errors.c).
 *
 * Beyond "no crash" it checks:
 *  - success gives a request, failure a reason (a message; a shape problem
 *    also names its pydantic type) answered 400 or 422 with a "detail";
 *  - an accepted request serializes to RFC 8259 JSON (fuzz_json_valid, a
 *    reader independent of json-c) that the project's parser
 *    (sx_json_parse) reads back within the same depth limit: what is
 *    stored can be read and served;
 *  - normalization is a fixed point: the serialized request, validated
 *    again, is accepted and serializes to the same text;
 *  - the error body serializes to RFC 8259 JSON too.
 */
#include "fuzz.h"
#include "conf.h"
#include "errors.h"
#include "json.h"
#include "log.h"
#include "task.h"

/* The depth the create handler passes (fcgi/task_routes.c). */
#define FUZZ_DEPTH SX_JSON_MAX_DEPTH

/* The field caps of the default config, as the create handler applies them. */
static struct task_limits limits;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sx_conf c;

	sx_log_min = SX_LOG_ERROR;
	sx_conf_defaults(&c);
	task_limits_init(&limits, &c);
	sx_conf_release(&c);
	return 0;
}

static const char *to_text(json_object *o, size_t *len)
{
	return json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

/* The text o serializes to parses strictly; returns the parsed copy. */
static json_object *reparse(json_object *o, int depth, const char *what)
{
	size_t len = 0;
	const char *text = to_text(o, &len);
	char err[160];
	json_object *back = sx_json_parse(text, len, depth, err, sizeof(err));

	FUZZ_CHECK(fuzz_json_valid(text, len), "%s serializes to text that is not JSON: %s",
		   what, text);
	FUZZ_CHECK(back != NULL, "%s serializes to text the strict parser refuses (%s): %s",
		   what, err, text);
	return back;
}

static void check_accepted(json_object *request)
{
	json_object *back = reparse(request, FUZZ_DEPTH, "accepted request");
	json_object *again = NULL;
	struct sx_invalid why;
	size_t len = 0, len2 = 0;
	const char *text = to_text(request, &len);
	const char *text2;
	enum sx_rc rc;

	json_object_put(back);
	rc = task_request_parse(text, len, FUZZ_DEPTH, &limits, &again, &why);
	FUZZ_CHECK(rc == SX_OK, "a normalized request is refused on a second pass (%s): %s",
		   why.msg ? why.msg : "", text);
	text2 = to_text(again, &len2);
	FUZZ_CHECK(len == len2 && memcmp(text, text2, len) == 0,
		   "normalizing twice changes the request:\n%s\n%s", text, text2);
	json_object_put(again);
}

static void check_refused(const struct sx_invalid *why)
{
	json_object *error, *detail;
	int status = 0;

	FUZZ_CHECK(why->msg && *why->msg, "refused without a message");
	FUZZ_CHECK(why->kind == SX_INVALID_VALUE || why->type, "a shape problem without a type");
	error = http_error_invalid(why, &status);
	FUZZ_CHECK(status == 400 || status == 422, "refused with status %d", status);
	FUZZ_CHECK(json_object_object_get_ex(error, "detail", &detail), "error body has no detail");
	json_object_put(reparse(error, FUZZ_DEPTH, "error body"));
	json_object_put(error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *request = (json_object *)1;
	struct sx_invalid why;
	enum sx_rc rc;

	rc = task_request_parse((const char *)data, size, FUZZ_DEPTH, &limits, &request, &why);
	if (rc == SX_OK) {
		FUZZ_CHECK(request != NULL, "accepted without a request");
		check_accepted(request);
		json_object_put(request);
	} else {
		FUZZ_CHECK(rc == SX_EINVAL, "unexpected rc %d", rc);
		check_refused(&why);
		sx_invalid_release(&why);
	}
	return 0;
}
