/*
 * The task and step model of docs/api-contract.md: status names and the
 * state machine, validation of a create request into
 * its normalized form, and the JSON encodings of the task and step objects.
 */
#include "task.h"
#include "errcode.h"
#include "ssrf.h"
#include "conf.h"
#include "step_output.h"

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

/*
 * The shape checks: the body's shape and every field's JSON type.  All of
 * them run before any value check, so a body with both kinds of problem
 * always gets the shape error, as FastAPI would answer.
 */
static enum sx_rc req_check_types(json_object *body, bool url_optional, struct sx_invalid *why)
{
	enum sx_rc rc = SX_OK;
	static const char *const dict_fields[] = { "error_code_mapping", "extra_http_headers" };
	json_object *v;
	size_t i;

	if (!url_optional && !sx_json_member(body, "url")) {
		rc = sx_invalid_set(why, SX_INVALID_SHAPE, "url", "missing", "Field required");
		goto out;
	}
	for (i = 0; i < SX_ARRAY_LEN(req_string_fields); i++) {
		v = sx_json_member(body, req_string_fields[i]);
		if (v && !json_object_is_type(v, json_type_string)) {
			rc = sx_invalid_set(why, SX_INVALID_SHAPE, req_string_fields[i], "string_type",
					    "Input should be a valid string");
			goto out;
		}
	}
	v = sx_json_member(body, "max_steps");
	if (v && !json_object_is_type(v, json_type_int)) {
		rc = sx_invalid_set(why, SX_INVALID_SHAPE, "max_steps", "int_type",
				    "Input should be a valid integer");
		goto out;
	}
	if (v && json_object_get_int64(v) < 1) {
		rc = sx_invalid_set(why, SX_INVALID_SHAPE, "max_steps", "greater_than_equal",
				    "Input should be greater than or equal to 1");
		goto out;
	}
	/* Skyvern's run_with: "agent" never replays a trace, "code" replays one (agent/replay.h). */
	v = sx_json_member(body, "run_with");
	if (v && (!json_object_is_type(v, json_type_string) ||
		  (strcmp(json_object_get_string(v), "agent") != 0 &&
		   strcmp(json_object_get_string(v), "code") != 0))) {
		rc = sx_invalid_set(why, SX_INVALID_SHAPE, "run_with", "enum", "Input should be 'agent' or 'code'");
		goto out;
	}
	v = sx_json_member(body, "extracted_information_schema");
	if (v && !json_object_is_type(v, json_type_object) &&
	    !json_object_is_type(v, json_type_array) && !json_object_is_type(v, json_type_string)) {
		rc = sx_invalid_set(why, SX_INVALID_SHAPE, "extracted_information_schema", "dict_type",
				    "Input should be a valid dictionary, list or string");
		goto out;
	}
	/* Both are dict[str, str] in Skyvern; the agent sends them on as text. */
	for (i = 0; i < SX_ARRAY_LEN(dict_fields); i++) {
		v = sx_json_member(body, dict_fields[i]);
		if (!v)
			continue;
		if (!json_object_is_type(v, json_type_object)) {
			rc = sx_invalid_set(why, SX_INVALID_SHAPE, dict_fields[i], "dict_type",
					    "Input should be a valid dictionary");
			goto out;
		}
		json_object_object_foreach(v, key, val) {
			(void)key;
			if (!json_object_is_type(val, json_type_string)) {
				rc = sx_invalid_set(why, SX_INVALID_SHAPE, dict_fields[i], "string_type",
						    "Input should be a valid string");
				goto out;
			}
		}
	}
out:
	return rc;
}

void task_limits_init(struct task_limits *l, const struct sx_conf *c)
{
	l->goal = (size_t)c->max_goal_bytes;
	l->payload = (size_t)c->max_payload_bytes;
	l->schema = (size_t)c->max_schema_bytes;
	l->mapping = (size_t)c->max_mapping_bytes;
	l->text = (size_t)c->max_text_bytes;
}

/* A field's size as it is capped: a string's bytes, else its compact JSON. */
static size_t req_field_size(json_object *v)
{
	size_t n = 0;

	if (json_object_is_type(v, json_type_string))
		n = (size_t)json_object_get_string_len(v);
	else
		json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &n);
	return n;
}

/*
 * The size checks, after the type checks: a field over its cap is refused
 * naming the field, as pydantic refuses a string over its max_length.
 */
static enum sx_rc req_check_sizes(json_object *body, const struct task_limits *lim,
				  struct sx_invalid *why)
{
	const struct {
		const char *field;
		size_t max;
	} caps[] = {
		{ "navigation_goal", lim->goal },
		{ "data_extraction_goal", lim->goal },
		{ "navigation_payload", lim->payload },
		{ "extracted_information_schema", lim->schema },
		{ "error_code_mapping", lim->mapping },
		{ "extra_http_headers", lim->mapping },
		{ "title", lim->text },
		{ "totp_identifier", lim->text },
	};
	enum sx_rc rc = SX_OK;
	json_object *v;
	size_t i;

	for (i = 0; i < SX_ARRAY_LEN(caps); i++) {
		v = sx_json_member(body, caps[i].field);
		if (!v || req_field_size(v) <= caps[i].max)
			continue;
		if (json_object_is_type(v, json_type_string))
			rc = sx_invalid_set(why, SX_INVALID_SHAPE, caps[i].field, "string_too_long",
					    "String should have at most %zu bytes", caps[i].max);
		else
			rc = sx_invalid_set(why, SX_INVALID_SHAPE, caps[i].field, "too_long",
					    "Value should have at most %zu bytes as JSON", caps[i].max);
		break;
	}
	return rc;
}

/* The value checks: values of the right type that are still unacceptable. */
static enum sx_rc req_check_values(json_object *body, int max_depth, json_object **schema,
				   struct sx_invalid *why)
{
	static const char *const url_fields[] = { "url", "webhook_callback_url", "totp_verification_url" };
	enum sx_rc rc = SX_OK;
	json_object *v;
	const char *s, *problem;
	char *excerpt = NULL;
	char perr[128];
	bool known = false;
	size_t i;

	*schema = NULL;
	for (i = 0; i < SX_ARRAY_LEN(url_fields); i++) {
		v = sx_json_member(body, url_fields[i]);
		if (!v)
			continue;
		s = json_object_get_string(v);
		problem = url_problem(s, (size_t)json_object_get_string_len(v));
		if (problem) {
			excerpt = req_excerpt(s);
			rc = sx_invalid_set(why, SX_INVALID_VALUE, url_fields[i], NULL,
					    "Invalid URL: %s. Sextant supports HTTP and HTTPS URLs "
					    "of at most %d characters (%s: %s)",
					    excerpt, TASK_URL_MAX, url_fields[i], problem);
			goto out;
		}
	}
	v = sx_json_member(body, "proxy_location");
	if (v) {
		s = json_object_get_string(v);
		for (i = 0; i < SX_ARRAY_LEN(req_proxy_locations) && !known; i++)
			known = strcmp(s, req_proxy_locations[i]) == 0;
		if (!known) {
			excerpt = req_excerpt(s);
			rc = sx_invalid_set(why, SX_INVALID_VALUE, "proxy_location", NULL,
					    "Invalid proxy_location: %s (expected RESIDENTIAL, "
					    "RESIDENTIAL_<country>, RESIDENTIAL_ISP or NONE)", excerpt);
			goto out;
		}
	}
	v = sx_json_member(body, "extracted_information_schema");
	if (v && json_object_is_type(v, json_type_string)) {
		/* The parsed schema is stored one level down, inside the request object. */
		*schema = sx_json_parse(json_object_get_string(v),
					(size_t)json_object_get_string_len(v),
					max_depth > 1 ? max_depth - 1 : 1, perr, sizeof(perr));
		if (!*schema) {
			rc = sx_invalid_set(why, SX_INVALID_VALUE, "extracted_information_schema", NULL,
					    "Invalid extracted_information_schema: not valid JSON (%s)",
					    perr);
			goto out;
		}
		if (!json_object_is_type(*schema, json_type_object) &&
		    !json_object_is_type(*schema, json_type_array)) {
			json_object_put(*schema);
			*schema = NULL;
			rc = sx_invalid_set(why, SX_INVALID_VALUE, "extracted_information_schema", NULL,
					    "Invalid extracted_information_schema: "
					    "expected a JSON object or array");
			goto out;
		}
	}
out:
	free(excerpt);
	return rc;
}

enum sx_rc task_body_parse(const char *body, size_t len, int max_depth, json_object **root,
			   struct sx_invalid *why)
{
	enum sx_rc rc = SX_OK;
	char perr[128];

	memset(why, 0, sizeof(*why));
	*root = sx_json_parse(body, len, max_depth > 0 ? max_depth : SX_JSON_MAX_DEPTH,
			      perr, sizeof(perr));
	if (!*root) {
		rc = sx_invalid_set(why, SX_INVALID_SHAPE, NULL, "json_invalid",
				    "JSON decode error: %s", perr);
	} else if (!json_object_is_type(*root, json_type_object)) {
		json_object_put(*root);
		*root = NULL;
		rc = sx_invalid_set(why, SX_INVALID_SHAPE, NULL, "model_attributes_type",
				    "Input should be a valid dictionary or "
				    "object to extract fields from");
	}
	return rc;
}

enum sx_rc task_request_parse(const char *body, size_t len, int max_depth,
			      const struct task_limits *lim,
			      json_object **request, struct sx_invalid *why)
{
	json_object *root = NULL;
	enum sx_rc rc;

	*request = NULL;
	rc = task_body_parse(body, len, max_depth, &root, why);
	if (rc == SX_OK)
		rc = task_request_from_json(root, max_depth, lim, false, request, why);
	json_object_put(root);
	return rc;
}

enum sx_rc task_request_from_json(json_object *root, int max_depth, const struct task_limits *lim,
				  bool url_optional, json_object **request, struct sx_invalid *why)
{
	static const char *const plain_fields[] = {
		"url", "navigation_goal", "data_extraction_goal", "navigation_payload",
	};
	static const char *const tail_fields[] = {
		"webhook_callback_url", "totp_verification_url", "totp_identifier",
	};
	static const char *const extra_fields[] = {
		"title", "error_code_mapping", "extra_http_headers", "max_steps", "run_with",
	};
	enum sx_rc rc = SX_OK;
	json_object *schema = NULL, *req = NULL, *v;
	size_t i;

	*request = NULL;
	memset(why, 0, sizeof(*why));
	if (max_depth <= 0)
		max_depth = SX_JSON_MAX_DEPTH;
	rc = req_check_types(root, url_optional, why);
	if (rc == SX_OK && lim)
		rc = req_check_sizes(root, lim, why);
	if (rc == SX_OK)
		rc = errcode_mapping_check(sx_json_member(root, "error_code_mapping"), why);
	if (rc)
		goto out;
	rc = req_check_values(root, max_depth, &schema, why);
	if (rc)
		goto out;

	/* Members are shared with root by reference count; the caller drops root. */
	req = json_object_new_object();
	for (i = 0; i < SX_ARRAY_LEN(plain_fields); i++)
		json_object_object_add(req, plain_fields[i],
				       json_object_get(sx_json_member(root, plain_fields[i])));
	v = sx_json_member(root, "proxy_location");
	json_object_object_add(req, "proxy_location",
			       v ? json_object_get(v) : json_object_new_string("RESIDENTIAL"));
	json_object_object_add(req, "extracted_information_schema",
			       schema ? schema : json_object_get(sx_json_member(root, "extracted_information_schema")));
	schema = NULL;
	for (i = 0; i < SX_ARRAY_LEN(tail_fields); i++)
		json_object_object_add(req, tail_fields[i],
				       json_object_get(sx_json_member(root, tail_fields[i])));
	for (i = 0; i < SX_ARRAY_LEN(extra_fields); i++) {
		v = sx_json_member(root, extra_fields[i]);
		if (v)
			json_object_object_add(req, extra_fields[i], json_object_get(v));
	}
	*request = req;
out:
	json_object_put(schema);
	return rc;
}

enum sx_rc task_request_check_address(json_object *request, const char *allow, struct sx_invalid *why)
{
	struct ssrf_allow *a = NULL;
	char reason[200] = "";
	enum sx_rc rc = ssrf_allow_parse(allow, &a, reason, sizeof(reason));

	if (rc == SX_OK)
		rc = ssrf_check_url_literal(sx_json_member_text(request, "url"), a, reason, sizeof(reason));
	if (rc)
		rc = sx_invalid_set(why, SX_INVALID_VALUE, "url", NULL, "Invalid URL: %s; the browser "
				    "reaches only public addresses and those listed in outbound_allow (url)",
				    reason);
	ssrf_allow_free(a);
	return rc;
}

enum sx_rc task_url_check(const char *url, const char *allow, struct sx_invalid *why)
{
	json_object *req = json_object_new_object(), *schema = NULL;
	enum sx_rc rc;

	memset(why, 0, sizeof(*why));
	json_object_object_add(req, "url", json_object_new_string(url));
	rc = req_check_values(req, SX_JSON_MAX_DEPTH, &schema, why);
	if (rc == SX_OK)
		rc = task_request_check_address(req, allow, why);
	json_object_put(schema);
	json_object_put(req);
	return rc;
}

void task_release(struct task *t)
{
	free(t->id);
	free(t->org_id);
	json_object_put(t->request);
	json_object_put(t->run_request);
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
	json_object_put(t->replay);
	memset(t, 0, sizeof(*t));
}

void task_free(struct task *t)
{
	if (t) {
		task_release(t);
		free(t);
	}
}

/* True when entries a and b count the same kind of loss (task_errors_merge). */
static bool errors_same_kind(json_object *a, json_object *b)
{
	const char *ca = sx_json_string(a, "error_code"), *cb = sx_json_string(b, "error_code");
	const char *ta = sx_json_string(a, "artifact_type"), *tb = sx_json_string(b, "artifact_type");

	return sx_json_member(a, "count") && sx_json_member(b, "count") && ca && cb &&
	       strcmp(ca, cb) == 0 && (ta == tb || (ta && tb && strcmp(ta, tb) == 0));
}

/* Folds entry e (a counted one) into the entry of errors of its kind; false when there is none. */
static bool errors_fold(json_object *errors, json_object *e)
{
	static const char *const latest[] = { "reasoning", "errno" };
	json_object *old = NULL, *v;

	for (size_t i = 0; !old && i < json_object_array_length(errors); i++)
		if (errors_same_kind(json_object_array_get_idx(errors, i), e))
			old = json_object_array_get_idx(errors, i);
	if (old) {
		json_object_object_add(old, "count", json_object_new_int64(
			sx_json_int(old, "count", 0) + sx_json_int(e, "count", 0)));
		for (size_t i = 0; i < SX_ARRAY_LEN(latest); i++)
			if (json_object_object_get_ex(e, latest[i], &v))
				json_object_object_add(old, latest[i], json_object_get(v));
	}
	return old != NULL;
}

void task_errors_merge(json_object *errors, json_object *add)
{
	for (size_t i = 0; i < json_object_array_length(add); i++) {
		json_object *e = json_object_array_get_idx(add, i), *copy = NULL;

		if (errors_fold(errors, e))
			continue;
		json_object_deep_copy(e, &copy, NULL);
		json_object_array_add(errors, copy);
	}
}

/*
 * The json members are shared with t by reference count, so t keeps its
 * own reference and the caller owns the returned object.
 */
json_object *task_to_json(const struct task *t, bool with_request)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "task_id", sx_json_string_or_null(t->id));
	json_object_object_add(o, "status", json_object_new_string(task_status_name(t->status)));
	if (with_request)
		json_object_object_add(o, "request", json_object_get(t->request));
	json_object_object_add(o, "created_at", sx_json_string_or_null(t->created_at));
	json_object_object_add(o, "modified_at", sx_json_string_or_null(t->modified_at));
	json_object_object_add(o, "queued_at", sx_json_string_or_null(t->queued_at));
	json_object_object_add(o, "started_at", sx_json_string_or_null(t->started_at));
	json_object_object_add(o, "finished_at", sx_json_string_or_null(t->finished_at));
	json_object_object_add(o, "extracted_information", json_object_get(t->extracted_information));
	json_object_object_add(o, "failure_reason", sx_json_string_or_null(t->failure_reason));
	json_object_object_add(o, "screenshot_url", sx_json_string_or_null(t->screenshot_url));
	json_object_object_add(o, "recording_url", sx_json_string_or_null(t->recording_url));
	json_object_object_add(o, "action_screenshot_urls",
			       t->action_screenshot_urls ? json_object_get(t->action_screenshot_urls)
							 : json_object_new_array());
	json_object_object_add(o, "step_count", json_object_new_int64(t->step_count));
	json_object_object_add(o, "max_steps_per_run", json_object_new_int64(t->max_steps));
	json_object_object_add(o, "errors",
			       t->errors ? json_object_get(t->errors) : json_object_new_array());
	json_object_object_add(o, "webhook_failure_reason", sx_json_string_or_null(t->webhook_failure_reason));
	/* Only a run created through /v1/run/tasks stores a run_request (task_db_create). */
	json_object_object_add(o, "created_via", json_object_new_string(t->run_request ? "run_api" : "task_api"));
	json_object_object_add(o, "replay", json_object_get(t->replay));
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

	json_object_object_add(o, "organization_id", sx_json_string_or_null(s->org_id));
	json_object_object_add(o, "task_id", sx_json_string_or_null(s->task_id));
	json_object_object_add(o, "step_id", sx_json_string_or_null(s->id));
	json_object_object_add(o, "status", json_object_new_string(step_status_name(s->status)));
	json_object_object_add(o, "order", json_object_new_int64(s->order));
	json_object_object_add(o, "retry_index", json_object_new_int64(s->retry_index));
	json_object_object_add(o, "is_last", json_object_new_boolean(s->is_last));
	json_object_object_add(o, "input_token_count", json_object_new_int64(s->input_tokens));
	json_object_object_add(o, "output_token_count", json_object_new_int64(s->output_tokens));
	json_object_object_add(o, "step_cost", json_object_new_double(s->cost));
	json_object_object_add(o, "created_at", sx_json_string_or_null(s->created_at));
	json_object_object_add(o, "modified_at", sx_json_string_or_null(s->modified_at));
	json_object_object_add(o, "output", step_output_json(s));
	return o;
}

json_object *task_to_list_json(const struct task *t)
{
	json_object *o = task_to_json(t, true);

	if (json_object_is_type(t->request, json_type_object)) {
		json_object_object_foreach(t->request, key, val) {
			if (!json_object_object_get_ex(o, key, NULL))
				json_object_object_add(o, key, json_object_get(val));
		}
	}
	return o;
}

json_object *task_actions_json(json_object *steps)
{
	json_object *out = json_object_new_array(), *acts;
	long long order = 0;

	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *step = json_object_array_get_idx(steps, i);

		struct step_ref where = {
			sx_json_string(step, "organization_id"), sx_json_string(step, "task_id"),
			sx_json_string(step, "step_id"), sx_json_int(step, "order", 0),
			sx_json_int(step, "retry_index", 0),
		};

		acts = sx_json_member(sx_json_member(step, "output"), "actions");
		for (size_t k = 0; json_object_is_type(acts, json_type_array) &&
				   k < json_object_array_length(acts); k++)
			json_object_array_add(out, step_output_action(json_object_array_get_idx(acts, k),
								      &where, order++));
	}
	return out;
}
