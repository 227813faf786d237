/*
 * The task and step model of docs/api-contract.md: status names and the
 * state machine, strict JSON parsing, validation of a create request into
 * its normalized form, and the JSON encodings of the task and step objects.
 */
#include "task.h"

#include <limits.h>
#include <math.h>
#include <strings.h>

static const char *const task_status_names[] = {
	[TASK_CREATED] = "created",
	[TASK_QUEUED] = "queued",
	[TASK_RUNNING] = "running",
	[TASK_COMPLETED] = "completed",
	[TASK_TERMINATED] = "terminated",
	[TASK_FAILED] = "failed",
	[TASK_CANCELED] = "canceled",
	[TASK_TIMED_OUT] = "timed_out",
};
_Static_assert(SX_ARRAY_LEN(task_status_names) == TASK_STATUS_COUNT,
	       "every task status needs a name");

static const char *const step_status_names[] = {
	[STEP_CREATED] = "created",
	[STEP_RUNNING] = "running",
	[STEP_COMPLETED] = "completed",
	[STEP_FAILED] = "failed",
	[STEP_CANCELED] = "canceled",
};
_Static_assert(SX_ARRAY_LEN(step_status_names) == STEP_STATUS_COUNT,
	       "every step status needs a name");

#define MOVE(s) (1u << (s))
/* Row `from` holds one bit per status `to` that the contract allows. */
static const unsigned task_moves[TASK_STATUS_COUNT] = {
	[TASK_CREATED] = MOVE(TASK_QUEUED) | MOVE(TASK_RUNNING) | MOVE(TASK_FAILED) |
			 MOVE(TASK_CANCELED),
	[TASK_QUEUED] = MOVE(TASK_RUNNING) | MOVE(TASK_FAILED) | MOVE(TASK_CANCELED) |
			MOVE(TASK_TIMED_OUT),
	[TASK_RUNNING] = MOVE(TASK_COMPLETED) | MOVE(TASK_FAILED) | MOVE(TASK_TERMINATED) |
			 MOVE(TASK_CANCELED) | MOVE(TASK_TIMED_OUT),
	/* completed, terminated, failed, canceled and timed_out are final. */
};
#undef MOVE

/* "unknown" for an out-of-range value, so a log line never gets NULL. */
const char *task_status_name(enum task_status s)
{
	return (unsigned)s < TASK_STATUS_COUNT ? task_status_names[s] : "unknown";
}

bool task_status_parse(const char *name, enum task_status *out)
{
	bool ok = false;
	size_t i;

	for (i = 0; name && i < TASK_STATUS_COUNT; i++) {
		if (strcmp(name, task_status_names[i]) == 0) {
			*out = (enum task_status)i;
			ok = true;
			break;
		}
	}
	return ok;
}

bool task_status_is_final(enum task_status s)
{
	return (unsigned)s < TASK_STATUS_COUNT && task_moves[s] == 0;
}

bool task_transition_allowed(enum task_status from, enum task_status to)
{
	return (unsigned)from < TASK_STATUS_COUNT && (unsigned)to < TASK_STATUS_COUNT &&
	       (task_moves[from] & (1u << to)) != 0;
}

const char *step_status_name(enum step_status s)
{
	return (unsigned)s < STEP_STATUS_COUNT ? step_status_names[s] : "unknown";
}

bool step_status_parse(const char *name, enum step_status *out)
{
	bool ok = false;
	size_t i;

	for (i = 0; name && i < STEP_STATUS_COUNT; i++) {
		if (strcmp(name, step_status_names[i]) == 0) {
			*out = (enum step_status)i;
			ok = true;
			break;
		}
	}
	return ok;
}

/*
 * json-c stores object keys as C strings, so a key holding \u0000 would be
 * silently truncated and could collide with another key.  Escapes occur
 * only inside strings, so scanning the raw text for a \u0000 escape (while
 * stepping over every other escape, so `\\u0000` is not misread) finds
 * them in keys and values alike.
 */
static bool json_text_has_nul_escape(const char *s, size_t len)
{
	bool found = false;
	size_t i;

	for (i = 0; i + 1 < len && !found; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && len - i >= 6 && memcmp(s + i + 2, "0000", 4) == 0)
			found = true;
		i++;
	}
	return found;
}

/*
 * Strict UTF-8 (RFC 3629): json-c's own check lets through overlong forms
 * (C0 80, a NUL in disguise), UTF-16 surrogates and code points above
 * U+10FFFF, which MariaDB's utf8mb4 would then refuse.  Returns the offset
 * of the first bad byte, or len when all is well.
 */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0, n, j;
	uint32_t cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xC2 && s[i] <= 0xDF) {
			n = 1;
			cp = s[i] & 0x1Fu;
			min = 0x80;
		} else if (s[i] >= 0xE0 && s[i] <= 0xEF) {
			n = 2;
			cp = s[i] & 0x0Fu;
			min = 0x800;
		} else if (s[i] >= 0xF0 && s[i] <= 0xF4) {
			n = 3;
			cp = s[i] & 0x07u;
			min = 0x10000;
		} else {
			break;
		}
		if (len - i - 1 < n)
			break;
		for (j = 1; j <= n && (s[i + j] & 0xC0) == 0x80; j++)
			cp = (cp << 6) | (s[i + j] & 0x3Fu);
		if (j <= n || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			break;
		i += n + 1;
	}
	return i;
}

/*
 * Second line of defence after the raw scan: no string value may hold an
 * embedded NUL, and no number may be NaN or infinite (json-c accepts NaN
 * and overflows 1e400 to infinity, neither of which is JSON).  Recursion is
 * bounded by the tokener's depth limit.
 */
static const char *json_tree_problem(json_object *o)
{
	const char *problem = NULL;
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_string:
		if ((size_t)json_object_get_string_len(o) != strlen(json_object_get_string(o)))
			problem = "NUL character in a string";
		break;
	case json_type_double:
		if (!isfinite(json_object_get_double(o)))
			problem = "number out of range";
		break;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n && !problem; i++)
			problem = json_tree_problem(json_object_array_get_idx(o, i));
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			(void)key;
			problem = json_tree_problem(val);
			if (problem)
				break;
		}
		break;
	}
	default:
		break;
	}
	return problem;
}

static void json_set_err(char *err, size_t errlen, const char *msg, size_t offset, bool with_offset)
{
	if (!err || !errlen)
		return;
	if (with_offset)
		snprintf(err, errlen, "%s at offset %zu", msg, offset);
	else
		snprintf(err, errlen, "%s", msg);
}

/*
 * Parses exactly one JSON value from text[0..len) with json-c in strict
 * mode, validating UTF-8 strictly and refusing containers nested more
 * than max_depth deep (`[[1]]` is depth 2; json-c's default when
 * max_depth <= 0).  NUL bytes and \u0000 escapes are refused anywhere.
 * Only whitespace may follow the value.  Returns a new reference, or NULL
 * with a message (bounded by errlen) in err.
 */
json_object *sx_json_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	struct json_tokener *tok = NULL;
	json_object *obj = NULL;
	enum json_tokener_error jerr;
	const char *problem = NULL;
	const char *nul;
	size_t end = len, i;

	if (err && errlen)
		err[0] = '\0';
	if (!text) {
		json_set_err(err, errlen, "no input", 0, false);
		goto out;
	}
	if (len >= INT_MAX) {
		json_set_err(err, errlen, "input too large", 0, false);
		goto out;
	}
	nul = memchr(text, '\0', len);
	if (nul) {
		json_set_err(err, errlen, "NUL byte in input", (size_t)(nul - text), true);
		goto out;
	}
	i = utf8_invalid_at((const unsigned char *)text, len);
	if (i < len) {
		json_set_err(err, errlen, "invalid UTF-8", i, true);
		goto out;
	}
	if (json_text_has_nul_escape(text, len)) {
		json_set_err(err, errlen, "\\u0000 escape in a string", 0, false);
		goto out;
	}
	/* json-c's depth counts the top level too: N allows N - 1 nested containers. */
	tok = json_tokener_new_ex(max_depth > 0 && max_depth < INT_MAX ? max_depth + 1
								     : JSON_TOKENER_DEFAULT_DEPTH);
	if (!tok) {
		fputs("sextant: out of memory creating a JSON tokener\n", stderr);
		abort();
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!obj && jerr == json_tokener_continue) {
		/*
		 * A top-level number or literal is complete only at the end
		 * of input; a terminating NUL tells the tokener so.
		 */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	} else {
		end = json_tokener_get_parse_end(tok);
	}
	if (!obj) {
		json_set_err(err, errlen, json_tokener_error_desc(jerr),
			     end < len ? end : len, true);
		goto out;
	}
	for (i = end; i < len; i++) {
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r') {
			json_set_err(err, errlen, "unexpected data after the JSON value", i, true);
			json_object_put(obj);
			obj = NULL;
			goto out;
		}
	}
	problem = json_tree_problem(obj);
	if (problem) {
		json_set_err(err, errlen, problem, 0, false);
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
out:
	if (tok)
		json_tokener_free(tok);
	return obj;
}

json_object *sx_json_error_422(const char *field, const char *msg, const char *type)
{
	json_object *root = json_object_new_object();
	json_object *detail = json_object_new_array();
	json_object *item = json_object_new_object();
	json_object *loc = json_object_new_array();

	json_object_array_add(loc, json_object_new_string("body"));
	if (field)
		json_object_array_add(loc, json_object_new_string(field));
	json_object_object_add(item, "loc", loc);
	json_object_object_add(item, "msg", json_object_new_string(msg));
	json_object_object_add(item, "type", json_object_new_string(type));
	json_object_array_add(detail, item);
	json_object_object_add(root, "detail", detail);
	return root;
}

json_object *sx_json_detail(const char *msg)
{
	json_object *root = json_object_new_object();

	json_object_object_add(root, "detail", json_object_new_string(msg));
	return root;
}

/* The string fields of a create request; each must be a string when given. */
static const char *const req_string_fields[] = {
	"url", "navigation_goal", "data_extraction_goal", "webhook_callback_url",
	"proxy_location", "totp_verification_url", "totp_identifier", "title",
};

/* Skyvern's ProxyLocation values. */
static const char *const req_proxy_locations[] = {
	"RESIDENTIAL", "RESIDENTIAL_ES", "RESIDENTIAL_IE", "RESIDENTIAL_GB",
	"RESIDENTIAL_IN", "RESIDENTIAL_JP", "RESIDENTIAL_FR", "RESIDENTIAL_DE",
	"RESIDENTIAL_NZ", "RESIDENTIAL_ZA", "RESIDENTIAL_AR", "RESIDENTIAL_AU",
	"RESIDENTIAL_BR", "RESIDENTIAL_TR", "RESIDENTIAL_CA", "RESIDENTIAL_MX",
	"RESIDENTIAL_IT", "RESIDENTIAL_NL", "RESIDENTIAL_PH", "RESIDENTIAL_KR",
	"RESIDENTIAL_SA", "RESIDENTIAL_ISP", "NONE",
};

/* A member of the body, or NULL when absent or JSON null (the same thing). */
static json_object *req_field(json_object *body, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(body, key, &v))
		v = NULL;
	return v;
}

static bool url_host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c >= 0x80;
}

/*
 * Returns NULL for an acceptable http(s) URL, otherwise why it is not.
 * This is a syntax check only; which hosts may be reached is the SSRF
 * guard's business, at fetch time.
 */
static const char *url_problem(const char *s, size_t len)
{
	const char *problem = NULL;
	const char *p, *auth_end, *at, *host, *host_end, *q;
	size_t i, alnum = 0;
	long port = 0;

	if (len == 0) {
		problem = "empty";
		goto out;
	}
	if (len > TASK_URL_MAX) {
		problem = "longer than 2083 characters";
		goto out;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f) {
			problem = "contains whitespace or control characters";
			goto out;
		}
	}
	if (len >= 7 && strncasecmp(s, "http://", 7) == 0) {
		p = s + 7;
	} else if (len >= 8 && strncasecmp(s, "https://", 8) == 0) {
		p = s + 8;
	} else {
		problem = "the scheme must be http or https";
		goto out;
	}
	auth_end = p + strcspn(p, "/?#");
	host = p;
	for (at = p; at < auth_end; at++)
		if (*at == '@')
			host = at + 1;
	if (host < auth_end && *host == '[') {
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (!host_end || host_end == host + 1) {
			problem = "bad IPv6 address";
			goto out;
		}
		for (q = host + 1; q < host_end; q++) {
			if (!strchr("0123456789abcdefABCDEF:.", *q)) {
				problem = "bad IPv6 address";
				goto out;
			}
		}
		host_end++;
	} else {
		for (host_end = host; host_end < auth_end && *host_end != ':'; host_end++) {
			if (!url_host_char((unsigned char)*host_end)) {
				problem = "bad character in the host name";
				goto out;
			}
			if (*host_end != '.' && *host_end != '-' && *host_end != '_')
				alnum++;
		}
		if (alnum == 0) {
			problem = "no host";
			goto out;
		}
	}
	if (host_end < auth_end) {
		if (*host_end != ':' || auth_end - host_end > 6) {
			problem = "bad port";
			goto out;
		}
		for (q = host_end + 1; q < auth_end; q++) {
			if (*q < '0' || *q > '9') {
				problem = "bad port";
				goto out;
			}
			port = port * 10 + (*q - '0');
		}
		if (port > 65535) {
			problem = "bad port";
			goto out;
		}
	}
out:
	return problem;
}

/*
 * Shows at most 100 bytes of a client's value in an error message, cut on
 * a UTF-8 character boundary (the tokener has validated the encoding).
 */
static char *req_excerpt(const char *s)
{
	size_t n = strlen(s), cut = n;

	if (cut > 100) {
		cut = 100;
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
	}
	return xasprintf("%.*s%s", (int)cut, s, cut < n ? "\xe2\x80\xa6" : "");
}

static enum sx_rc req_fail(int status, json_object *body, int *http_status, json_object **error)
{
	*http_status = status;
	*error = body;
	return SX_EINVAL;
}

/*
 * The 422 checks: the body's shape and every field's JSON type.  All of
 * them run before any 400 value check, so a body with both kinds of
 * problem always gets the 422, as FastAPI would answer.
 */
static enum sx_rc req_check_types(json_object *body, int *http_status, json_object **error)
{
	enum sx_rc rc = SX_OK;
	static const char *const dict_fields[] = { "error_code_mapping", "extra_http_headers" };
	json_object *v;
	size_t i;

	if (!req_field(body, "url")) {
		rc = req_fail(422, sx_json_error_422("url", "Field required", "missing"),
			      http_status, error);
		goto out;
	}
	for (i = 0; i < SX_ARRAY_LEN(req_string_fields); i++) {
		v = req_field(body, req_string_fields[i]);
		if (v && !json_object_is_type(v, json_type_string)) {
			rc = req_fail(422, sx_json_error_422(req_string_fields[i],
							     "Input should be a valid string",
							     "string_type"),
				      http_status, error);
			goto out;
		}
	}
	v = req_field(body, "max_steps");
	if (v && !json_object_is_type(v, json_type_int)) {
		rc = req_fail(422, sx_json_error_422("max_steps", "Input should be a valid integer",
						     "int_type"),
			      http_status, error);
		goto out;
	}
	if (v && json_object_get_int64(v) < 1) {
		rc = req_fail(422, sx_json_error_422("max_steps",
						     "Input should be greater than or equal to 1",
						     "greater_than_equal"),
			      http_status, error);
		goto out;
	}
	v = req_field(body, "extracted_information_schema");
	if (v && !json_object_is_type(v, json_type_object) &&
	    !json_object_is_type(v, json_type_array) && !json_object_is_type(v, json_type_string)) {
		rc = req_fail(422, sx_json_error_422("extracted_information_schema",
						     "Input should be a valid dictionary, list or string",
						     "dict_type"),
			      http_status, error);
		goto out;
	}
	/* Both are dict[str, str] in Skyvern; the agent sends them on as text. */
	for (i = 0; i < SX_ARRAY_LEN(dict_fields); i++) {
		v = req_field(body, dict_fields[i]);
		if (!v)
			continue;
		if (!json_object_is_type(v, json_type_object)) {
			rc = req_fail(422, sx_json_error_422(dict_fields[i],
							     "Input should be a valid dictionary",
							     "dict_type"),
				      http_status, error);
			goto out;
		}
		json_object_object_foreach(v, key, val) {
			(void)key;
			if (!json_object_is_type(val, json_type_string)) {
				rc = req_fail(422, sx_json_error_422(dict_fields[i],
								     "Input should be a valid string",
								     "string_type"),
					      http_status, error);
				goto out;
			}
		}
	}
out:
	return rc;
}

/* The 400 checks: values of the right type that are still unacceptable. */
static enum sx_rc req_check_values(json_object *body, int max_depth, json_object **schema,
				   int *http_status, json_object **error)
{
	static const char *const url_fields[] = { "url", "webhook_callback_url", "totp_verification_url" };
	enum sx_rc rc = SX_OK;
	json_object *v;
	const char *s, *problem;
	char *excerpt = NULL, *msg = NULL;
	char perr[128];
	bool known = false;
	size_t i;

	*schema = NULL;
	for (i = 0; i < SX_ARRAY_LEN(url_fields); i++) {
		v = req_field(body, url_fields[i]);
		if (!v)
			continue;
		s = json_object_get_string(v);
		problem = url_problem(s, (size_t)json_object_get_string_len(v));
		if (problem) {
			excerpt = req_excerpt(s);
			msg = xasprintf("Invalid URL: %s. Sextant supports HTTP and HTTPS URLs "
					"of at most %d characters (%s: %s)",
					excerpt, TASK_URL_MAX, url_fields[i], problem);
			rc = req_fail(400, sx_json_detail(msg), http_status, error);
			goto out;
		}
	}
	v = req_field(body, "proxy_location");
	if (v) {
		s = json_object_get_string(v);
		for (i = 0; i < SX_ARRAY_LEN(req_proxy_locations) && !known; i++)
			known = strcmp(s, req_proxy_locations[i]) == 0;
		if (!known) {
			excerpt = req_excerpt(s);
			msg = xasprintf("Invalid proxy_location: %s (expected RESIDENTIAL, "
					"RESIDENTIAL_<country>, RESIDENTIAL_ISP or NONE)", excerpt);
			rc = req_fail(400, sx_json_detail(msg), http_status, error);
			goto out;
		}
	}
	v = req_field(body, "extracted_information_schema");
	if (v && json_object_is_type(v, json_type_string)) {
		*schema = sx_json_parse(json_object_get_string(v),
					(size_t)json_object_get_string_len(v), max_depth,
					perr, sizeof(perr));
		if (!*schema) {
			msg = xasprintf("Invalid extracted_information_schema: not valid JSON (%s)", perr);
			rc = req_fail(400, sx_json_detail(msg), http_status, error);
			goto out;
		}
		if (!json_object_is_type(*schema, json_type_object) &&
		    !json_object_is_type(*schema, json_type_array)) {
			json_object_put(*schema);
			*schema = NULL;
			rc = req_fail(400, sx_json_detail("Invalid extracted_information_schema: "
							  "expected a JSON object or array"),
				      http_status, error);
			goto out;
		}
	}
out:
	free(excerpt);
	free(msg);
	return rc;
}

enum sx_rc task_request_parse(const char *body, size_t len, int max_depth,
			      json_object **request, int *http_status,
			      json_object **error)
{
	static const char *const plain_fields[] = {
		"url", "navigation_goal", "data_extraction_goal", "navigation_payload",
	};
	static const char *const tail_fields[] = {
		"webhook_callback_url", "totp_verification_url", "totp_identifier",
	};
	static const char *const extra_fields[] = {
		"title", "error_code_mapping", "extra_http_headers", "max_steps",
	};
	enum sx_rc rc = SX_OK;
	json_object *root = NULL, *schema = NULL, *req = NULL, *v;
	char perr[128];
	char *msg = NULL;
	size_t i;

	*request = NULL;
	*error = NULL;
	*http_status = 200;
	root = sx_json_parse(body, len, max_depth, perr, sizeof(perr));
	if (!root) {
		msg = xasprintf("JSON decode error: %s", perr);
		rc = req_fail(422, sx_json_error_422(NULL, msg, "json_invalid"), http_status, error);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		rc = req_fail(422, sx_json_error_422(NULL, "Input should be a valid dictionary or "
						     "object to extract fields from",
						     "model_attributes_type"),
			      http_status, error);
		goto out;
	}
	rc = req_check_types(root, http_status, error);
	if (rc)
		goto out;
	rc = req_check_values(root, max_depth, &schema, http_status, error);
	if (rc)
		goto out;

	/* Members are shared with root by reference count; root is dropped below. */
	req = json_object_new_object();
	for (i = 0; i < SX_ARRAY_LEN(plain_fields); i++)
		json_object_object_add(req, plain_fields[i],
				       json_object_get(req_field(root, plain_fields[i])));
	v = req_field(root, "proxy_location");
	json_object_object_add(req, "proxy_location",
			       v ? json_object_get(v) : json_object_new_string("RESIDENTIAL"));
	json_object_object_add(req, "extracted_information_schema",
			       schema ? schema : json_object_get(req_field(root, "extracted_information_schema")));
	schema = NULL;
	for (i = 0; i < SX_ARRAY_LEN(tail_fields); i++)
		json_object_object_add(req, tail_fields[i],
				       json_object_get(req_field(root, tail_fields[i])));
	for (i = 0; i < SX_ARRAY_LEN(extra_fields); i++) {
		v = req_field(root, extra_fields[i]);
		if (v)
			json_object_object_add(req, extra_fields[i], json_object_get(v));
	}
	*request = req;
out:
	json_object_put(schema);
	json_object_put(root);
	free(msg);
	return rc;
}

void task_release(struct task *t)
{
	free(t->id);
	free(t->org_id);
	json_object_put(t->request);
	free(t->created_at);
	free(t->modified_at);
	free(t->queued_at);
	free(t->started_at);
	free(t->finished_at);
	json_object_put(t->extracted_information);
	free(t->failure_reason);
	free(t->screenshot_url);
	free(t->recording_url);
	json_object_put(t->action_screenshot_urls);
	json_object_put(t->errors);
	free(t->webhook_failure_reason);
	free(t->lease_owner);
	free(t->proxy_used);
	memset(t, 0, sizeof(*t));
}

void task_free(struct task *t)
{
	if (t) {
		task_release(t);
		free(t);
	}
}

/* A new JSON string, or NULL (which json-c encodes as null). */
static json_object *json_str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/*
 * The json members are shared with t by reference count, so t keeps its
 * own reference and the caller owns the returned object.
 */
json_object *task_to_json(const struct task *t, bool with_request)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "task_id", json_str_or_null(t->id));
	json_object_object_add(o, "status", json_object_new_string(task_status_name(t->status)));
	if (with_request)
		json_object_object_add(o, "request", json_object_get(t->request));
	json_object_object_add(o, "created_at", json_str_or_null(t->created_at));
	json_object_object_add(o, "modified_at", json_str_or_null(t->modified_at));
	json_object_object_add(o, "queued_at", json_str_or_null(t->queued_at));
	json_object_object_add(o, "started_at", json_str_or_null(t->started_at));
	json_object_object_add(o, "finished_at", json_str_or_null(t->finished_at));
	json_object_object_add(o, "extracted_information", json_object_get(t->extracted_information));
	json_object_object_add(o, "failure_reason", json_str_or_null(t->failure_reason));
	json_object_object_add(o, "screenshot_url", json_str_or_null(t->screenshot_url));
	json_object_object_add(o, "recording_url", json_str_or_null(t->recording_url));
	json_object_object_add(o, "action_screenshot_urls",
			       t->action_screenshot_urls ? json_object_get(t->action_screenshot_urls)
							 : json_object_new_array());
	json_object_object_add(o, "step_count", json_object_new_int64(t->step_count));
	json_object_object_add(o, "max_steps_per_run", json_object_new_int64(t->max_steps));
	json_object_object_add(o, "errors",
			       t->errors ? json_object_get(t->errors) : json_object_new_array());
	json_object_object_add(o, "webhook_failure_reason", json_str_or_null(t->webhook_failure_reason));
	return o;
}

void step_release(struct step *s)
{
	free(s->id);
	free(s->task_id);
	free(s->org_id);
	free(s->created_at);
	free(s->modified_at);
	json_object_put(s->output);
	memset(s, 0, sizeof(*s));
}

json_object *step_to_json(const struct step *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "organization_id", json_str_or_null(s->org_id));
	json_object_object_add(o, "task_id", json_str_or_null(s->task_id));
	json_object_object_add(o, "step_id", json_str_or_null(s->id));
	json_object_object_add(o, "status", json_object_new_string(step_status_name(s->status)));
	json_object_object_add(o, "order", json_object_new_int64(s->order));
	json_object_object_add(o, "retry_index", json_object_new_int64(s->retry_index));
	json_object_object_add(o, "is_last", json_object_new_boolean(s->is_last));
	json_object_object_add(o, "input_token_count", json_object_new_int64(s->input_tokens));
	json_object_object_add(o, "output_token_count", json_object_new_int64(s->output_tokens));
	json_object_object_add(o, "step_cost", json_object_new_double(s->cost));
	json_object_object_add(o, "created_at", json_str_or_null(s->created_at));
	json_object_object_add(o, "modified_at", json_str_or_null(s->modified_at));
	json_object_object_add(o, "output", json_object_get(s->output));
	return o;
}
