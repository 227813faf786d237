#ifndef SX_FCGI_REQUEST_H
#define SX_FCGI_REQUEST_H
/*
 * One FastCGI request and its response: the only place besides main.c that
 * knows libfcgi.  Handlers read parameters and the body through these
 * functions and answer with http_reply_json(), which writes the status line,
 * Content-Type and the compact JSON body (errors.h builds the error bodies).
 */
#include "sx.h"
#include "arena.h"
#include "buf.h"
#include "id.h"
#include <json-c/json.h>

struct sx_conf;
struct sx_db;

/*
 * One request's state.  Its transient memory comes from `arena`, freed once
 * by http_req_release() when the request ends (nginx's request pool):
 * handlers allocate from it and free nothing themselves.
 */
struct http_req {
	void *fcgi;                /* FCGX_Request * */
	struct sx_arena arena;     /* the request's scratch memory */
	const struct sx_conf *conf;
	struct sx_db *db;
	const char *method;
	char *path;                /* decoded path, without query or trailing slash (arena) */
	const char *query;         /* raw query string ("" when none) */
	char org_id[SX_ID_MAX];    /* set by http_authenticate() */
	struct sx_buf body;
	int status;                /* status sent, for the access log */
	bool replied;
	/*
	 * The route checks the key in its own statement (POST /api/v1/tasks):
	 * until that ran, any answer but a 2xx first confirms the key
	 * (http_reply_json), so a bad key is 403 whatever else is wrong.
	 */
	bool key_unchecked;
};

/* Prepares req for the FastCGI request fcgi (an FCGX_Request *). */
void http_req_init(struct http_req *req, void *fcgi, const struct sx_conf *conf, struct sx_db *db);
/* Frees the request's arena and body; req may be initialized again. */
void http_req_release(struct http_req *req);

/* A CGI parameter (e.g. "HTTP_X_API_KEY"); NULL when absent. */
const char *http_param(const struct http_req *req, const char *name);

/*
 * Reads the body into req->body, at most conf->api_max_body bytes.
 * SX_ETOOBIG when the declared or actual length is larger.
 */
enum sx_rc http_read_body(struct http_req *req);

/* The API key the request presents (x-api-key, or Authorization: Bearer), or NULL. */
const char *http_api_key(const struct http_req *req);

/*
 * http_read_body() for a handler: answers 413 (over the cap) or 400 itself
 * and returns false, so the handler just stops.
 */
bool http_read_body_or_reply(struct http_req *req);

/*
 * Finds the organization of the request's API key (x-api-key, or
 * Authorization: Bearer).  SX_EAUTH when missing/wrong/revoked, SX_EDBDOWN /
 * SX_EDB when the database did not answer.
 */
enum sx_rc http_authenticate(struct http_req *req);

/* Writes status and body (takes ownership of body). Extra headers may be NULL. */
void http_reply_json(struct http_req *req, int status, json_object *body, const char *extra_headers);
/*
 * Writes status with a body that is not JSON (body may be NULL when len is
 * 0), e.g. Prometheus text or an X-Accel-Redirect answer whose body nginx
 * replaces.  extra_headers ("Name: value\r\n"…) may be NULL.
 */
void http_reply_raw(struct http_req *req, int status, const char *content_type,
		    const char *body, size_t len, const char *extra_headers);

/*
 * Finds the first value of key in a query string, URL-decoded, into out
 * (capped at outlen-1 bytes).  Returns the position after the match so that
 * repeated keys can be iterated (pass it back as from), or NULL when none.
 */
const char *http_query_next(const char *query, const char *key, char *out, size_t outlen,
			    bool *truncated);
#endif
