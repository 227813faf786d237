/*
 * FastAPI's error shapes (see errors.h).
 */
#include "sx.h"
#include "errors.h"
#include "request.h"

json_object *http_error_detail(const char *msg)
{
	json_object *root = json_object_new_object();

	json_object_object_add(root, "detail", json_object_new_string(msg));
	return root;
}

json_object *http_error_validation(const char *where, const char *field, const char *msg,
				   const char *type)
{
	json_object *root = json_object_new_object();
	json_object *detail = json_object_new_array();
	json_object *item = json_object_new_object();
	json_object *loc = json_object_new_array();

	json_object_array_add(loc, json_object_new_string(where));
	if (field)
		json_object_array_add(loc, json_object_new_string(field));
	json_object_object_add(item, "loc", loc);
	json_object_object_add(item, "msg", json_object_new_string(msg));
	json_object_object_add(item, "type", json_object_new_string(type));
	json_object_array_add(detail, item);
	json_object_object_add(root, "detail", detail);
	return root;
}

json_object *http_error_invalid(const struct sx_invalid *why, int *status)
{
	const char *msg = why->msg ? why->msg : "Invalid request";
	json_object *body;

	if (why->kind == SX_INVALID_SHAPE) {
		*status = 422;
		body = http_error_validation("body", why->field, msg,
					     why->type ? why->type : "value_error");
	} else {
		*status = 400;
		body = http_error_detail(msg);
	}
	return body;
}

void http_reply_detail(struct http_req *req, int status, const char *msg)
{
	http_reply_json(req, status, http_error_detail(msg), NULL);
}

void http_reply_422(struct http_req *req, const char *where, const char *field, const char *msg,
		    const char *type)
{
	http_reply_json(req, 422, http_error_validation(where, field, msg, type), NULL);
}

void http_reply_invalid(struct http_req *req, const struct sx_invalid *why)
{
	int status = 0;
	json_object *body = http_error_invalid(why, &status);

	http_reply_json(req, status, body, NULL);
}

const char *http_error_db_msg(enum sx_rc rc)
{
	switch (rc) {
	case SX_EDBDOWN:
		return "Service unavailable: the database is not reachable, try again";
	case SX_EDEADLOCK:
		return "Service unavailable: the request kept losing lock conflicts with concurrent "
		       "requests (deadlock or lock wait timeout) and was rolled back, nothing was "
		       "stored; try again";
	default:
		return "Service unavailable: the database failed the request, try again";
	}
}

void http_reply_db_error(struct http_req *req, enum sx_rc rc)
{
	http_reply_detail(req, 503, http_error_db_msg(rc));
}
