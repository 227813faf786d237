/*
 * POST /api/v1/totp: a client pushes a 2FA code, or the message (e-mail or
 * SMS body) that holds one, for the agent to enter on a task's behalf
 * (docs/api-contract.md, "TOTP / 2FA").  Errors follow task creation:
 * 422 in FastAPI's shape for a malformed body or a field of the wrong type,
 * 400 for a value of the right type that is unacceptable, 413 for a body
 * over the limit, 404 for a task id the organization does not have.
 *
 * The content and the code are secrets: they are stored, answered once to
 * the client that sent them, and never logged.
 */
#include <stdarg.h>
#include <time.h>
#include "sx.h"
#include "router.h"
#include "crypto.h"
#include "conf.h"
#include "log.h"
#include "task.h"
#include "task_db.h"
#include "timeutil.h"
#include "totp_code.h"
#include "totp_db.h"

#define TOTP_BODY_MAX_DEPTH 16
#define TOTP_IDENTIFIER_MAX 255
/* What the TEXT column holds. */
#define TOTP_CONTENT_MAX 65535
#define TOTP_SOURCE_MAX 64
/* Content this short is the code itself, not a message that contains one. */
#define TOTP_SHORT_CONTENT 10

/* A member of the body, or NULL when absent or JSON null (the same thing). */
static json_object *field(json_object *body, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(body, key, &v))
		v = NULL;
	return v;
}

static void reply_400(struct http_req *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_400(struct http_req *req, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_reply_detail(req, 400, msg);
}

/*
 * Parses an ISO 8601 time ("2026-01-02T03:04:05[.ffffff][Z|±HH:MM]", a
 * space allowed for the T; no zone means UTC) into the database's UTC form
 * "YYYY-MM-DD HH:MM:SS.ffffff".  False when it is not one.
 */
static bool iso_to_db(const char *s, char out[32])
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	long usec = 0;
	const char *p;
	time_t t;
	bool ok = false;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
		goto out;
	p = s + n;
	if (*p == '.') {
		int digits = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 6)
				usec = usec * 10 + (*p - '0');
		if (digits == 0)
			goto out;
		for (; digits < 6; digits++)
			usec *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, m = 0;

		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m) != 2 || m != 5 || oh > 23 || om > 59)
			goto out;
		oh *= sign;
		om *= sign;
		p += 6;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		goto out;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm) - (time_t)oh * 3600 - (time_t)om * 60;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999)
		goto out;
	snprintf(out, 32, "%04u-%02u-%02u %02u:%02u:%02u.%06u", (unsigned)(tm.tm_year + 1900) % 10000,
		 (unsigned)(tm.tm_mon + 1) % 100, (unsigned)tm.tm_mday % 100,
		 (unsigned)tm.tm_hour % 100, (unsigned)tm.tm_min % 100, (unsigned)tm.tm_sec % 100,
		 (unsigned)(usec % 1000000));
	ok = true;
out:
	return ok;
}

/* The 422 checks: the shape and every field's JSON type, before any value check. */
static bool check_types(struct http_req *req, json_object *body)
{
	static const char *const required[] = { "totp_identifier", "content" };
	static const char *const strings[] = { "totp_identifier", "content", "task_id", "source",
					       "expired_at" };
	json_object *err = NULL, *v;

	for (size_t i = 0; i < SX_ARRAY_LEN(required) && !err; i++)
		if (!field(body, required[i]))
			err = http_error_validation("body", required[i], "Field required", "missing");
	for (size_t i = 0; i < SX_ARRAY_LEN(strings) && !err; i++) {
		v = field(body, strings[i]);
		if (v && !json_object_is_type(v, json_type_string))
			err = http_error_validation("body", strings[i], "Input should be a valid string",
						    "string_type");
	}
	if (err)
		http_reply_json(req, 422, err, NULL);
	return err == NULL;
}

/* The body's fields, borrowed from the parsed body. */
struct push_fields {
	const char *ident, *content, *task_id, *source, *expired;
	size_t clen;
	char expired_db[32];
};

/*
 * The stored row as the API answers it, in the shape of Skyvern's TOTPCode
 * (whose SDK models require content, organization_id and modified_at).
 * content is echoed from the request: the client sent it, and the row
 * erases it once the code is used.
 */
static json_object *code_object(const struct http_req *req, const char *id,
				const struct push_fields *f, const char *code,
				const char *created_db, const char *expired_db)
{
	json_object *o = json_object_new_object();
	char iso[32];

	json_object_object_add(o, "totp_code_id", json_object_new_string(id));
	json_object_object_add(o, "totp_identifier", json_object_new_string(f->ident));
	json_object_object_add(o, "task_id", sx_json_string_or_null(f->task_id));
	json_object_object_add(o, "workflow_id", NULL);
	json_object_object_add(o, "workflow_run_id", NULL);
	json_object_object_add(o, "source", sx_json_string_or_null(f->source));
	json_object_object_add(o, "content", json_object_new_string_len(f->content, (int)f->clen));
	json_object_object_add(o, "code", sx_json_string_or_null(code));
	json_object_object_add(o, "organization_id", json_object_new_string(req->org_id));
	json_object_object_add(o, "created_at", created_db && sx_time_db_to_iso(created_db, iso) ?
			       json_object_new_string(iso) : NULL);
	json_object_object_add(o, "modified_at", json_object_get(sx_json_member(o, "created_at")));
	json_object_object_add(o, "expired_at", expired_db && sx_time_db_to_iso(expired_db, iso) ?
			       json_object_new_string(iso) : NULL);
	return o;
}

/*
 * Parses the body and answers 422 for a body that is not a JSON object or
 * a field of the wrong type.  *body is the caller's to put.  False when it
 * replied.
 */
static bool read_fields(struct http_req *req, json_object **body, struct push_fields *f)
{
	char perr[128];
	json_object *v;

	if (!http_read_body_or_reply(req))
		return false;
	*body = sx_json_parse(sx_buf_str(&req->body), req->body.len, TOTP_BODY_MAX_DEPTH,
			      perr, sizeof(perr));
	if (!*body) {
		char *msg = xasprintf("JSON decode error: %s", perr);

		http_reply_422(req, "body", NULL, msg, "json_invalid");
		free(msg);
		return false;
	}
	if (!json_object_is_type(*body, json_type_object)) {
		http_reply_422(req, "body", NULL, "Input should be a valid dictionary or "
			       "object to extract fields from", "model_attributes_type");
		return false;
	}
	if (!check_types(req, *body))
		return false;
	f->ident = json_object_get_string(field(*body, "totp_identifier"));
	f->content = json_object_get_string(field(*body, "content"));
	f->clen = (size_t)json_object_get_string_len(field(*body, "content"));
	if ((v = field(*body, "task_id")) != NULL)
		f->task_id = json_object_get_string(v);
	if ((v = field(*body, "source")) != NULL)
		f->source = json_object_get_string(v);
	if ((v = field(*body, "expired_at")) != NULL)
		f->expired = json_object_get_string(v);
	return true;
}

/* The 400 checks, and 404 for a task the organization does not have.  False when it replied. */
static bool check_values(struct http_req *req, struct push_fields *f)
{
	enum sx_rc rc;

	if (!*f->ident || strlen(f->ident) > TOTP_IDENTIFIER_MAX) {
		reply_400(req, "Invalid totp_identifier: it must be 1 to %d characters",
			  TOTP_IDENTIFIER_MAX);
		return false;
	}
	if (f->clen == 0 || f->clen > TOTP_CONTENT_MAX) {
		reply_400(req, "Invalid content: it must be 1 to %d bytes", TOTP_CONTENT_MAX);
		return false;
	}
	if (f->source && strlen(f->source) > TOTP_SOURCE_MAX) {
		reply_400(req, "Invalid source: it must be at most %d characters", TOTP_SOURCE_MAX);
		return false;
	}
	if (f->expired && !iso_to_db(f->expired, f->expired_db)) {
		reply_400(req, "Invalid expired_at: expected an ISO 8601 time such as "
			  "2026-01-02T03:04:05Z");
		return false;
	}
	if (!f->task_id)
		return true;
	/* Another organization's task is as unknown as a task that never existed. */
	if (!sx_id_valid(f->task_id, "tsk_")) {
		http_reply_detail(req, 404, "Task not found");
		return false;
	}
	rc = task_db_owned(req->db, req->org_id, f->task_id);
	if (rc == SX_ENOTFOUND) {
		char msg[96];

		snprintf(msg, sizeof(msg), "Task %s not found", f->task_id);
		http_reply_detail(req, 404, msg);
	} else if (rc) {
		http_reply_db_error(req, rc);
	}
	return rc == SX_OK;
}

/*
 * The code in content: a short content is the code itself (trimmed), a
 * message has it read out by the patterns.  False when there is none.
 */
static bool code_of(const char *content, size_t clen, char code[TOTP_CODE_MAX])
{
	size_t a = 0, b = clen;

	if (clen > TOTP_SHORT_CONTENT)
		return totp_extract_code(content, code);
	while (a < b && (content[a] == ' ' || content[a] == '\t' || content[a] == '\n' ||
			 content[a] == '\r'))
		a++;
	while (b > a && (content[b - 1] == ' ' || content[b - 1] == '\t' ||
			 content[b - 1] == '\n' || content[b - 1] == '\r'))
		b--;
	if (b == a)
		return false;
	memcpy(code, content + a, b - a);
	code[b - a] = '\0';
	return true;
}

void totp_push(struct http_req *req)
{
	json_object *body = NULL;
	struct push_fields f;
	char id[SX_ID_MAX], code[TOTP_CODE_MAX] = "";
	char created[TOTP_DB_TIME_MAX], expired[TOTP_DB_TIME_MAX];
	bool have_code;
	enum sx_rc rc;

	memset(&f, 0, sizeof(f));
	if (!read_fields(req, &body, &f) || !check_values(req, &f))
		goto out;
	have_code = code_of(f.content, f.clen, code);
	{
		struct totp_db_push in = {
			.org_id = req->org_id, .identifier = f.ident, .task_id = f.task_id,
			.content = f.content, .content_len = f.clen, .code = have_code ? code : NULL,
			.source = f.source, .expired_at = f.expired ? f.expired_db : NULL,
		};

		rc = totp_db_insert(req->db, &in, id, created, expired);
	}
	if (rc) {
		log_warn("api", "msg=\"totp push failed\" org=%s error=%s", req->org_id,
			 sx_log_quote(sx_strerror(rc)));
		http_reply_db_error(req, rc);
		goto out;
	}
	/* Neither the content nor the code is logged: only that one arrived, and for whom. */
	log_info("api", "msg=\"totp code pushed\" org=%s id=%s task=%s code_found=%d", req->org_id,
		 id, f.task_id ? f.task_id : "-", have_code);
	http_reply_json(req, 200, code_object(req, id, &f, have_code ? code : NULL,
					      created[0] ? created : NULL, expired[0] ? expired : NULL),
			NULL);
out:
	crypto_wipe(code, sizeof(code));
	json_object_put(body);
}
