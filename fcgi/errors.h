#ifndef SX_FCGI_ERRORS_H
#define SX_FCGI_ERRORS_H
/*
 * Error answers in FastAPI's shapes, so Skyvern clients read ours as they
 * read Skyvern's: `{"detail": "<message>"}` for a refusal, and for a
 * validation error `{"detail":[{"loc":[<where>, <field>],"msg":…,"type":…}]}`
 * with status 422.  Core reports refused input as plain data (invalid.h);
 * this file alone turns it into HTTP.
 */
#include "sx.h"
#include "invalid.h"
#include <json-c/json.h>

struct http_req;

/* {"detail": msg}; the caller owns the result. */
json_object *http_error_detail(const char *msg);

/*
 * A one-item validation list: loc is [where] or [where, field] (field may
 * be NULL); where is "body", "query" or "header".  The caller owns it.
 */
json_object *http_error_validation(const char *where, const char *field, const char *msg,
				   const char *type);

/*
 * The status and body that answer refused body input: a shape problem is a
 * 422 validation list located in the body, a value problem a 400 detail.
 * The caller owns the body.
 */
json_object *http_error_invalid(const struct sx_invalid *why, int *status);

/* Answers status with {"detail": msg}. */
void http_reply_detail(struct http_req *req, int status, const char *msg);

/* Answers 422 with a one-item validation list (see http_error_validation). */
void http_reply_422(struct http_req *req, const char *where, const char *field, const char *msg,
		    const char *type);

/* Answers refused body input (see http_error_invalid). */
void http_reply_invalid(struct http_req *req, const struct sx_invalid *why);

/*
 * The detail of a database failure, saying what happened: the database is
 * unreachable (SX_EDBDOWN), a transaction lost its lock races to concurrent
 * ones and stored nothing (SX_EDEADLOCK), or any other failure.  A constant.
 */
const char *http_error_db_msg(enum sx_rc rc);

/* The answer to a database failure: 503 with http_error_db_msg(rc). */
void http_reply_db_error(struct http_req *req, enum sx_rc rc);
#endif
