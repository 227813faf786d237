/*
 * Reading FastCGI requests and writing JSON responses.
 */
#include <limits.h>
#include <strings.h>
#include <fcgiapp.h>
#include "sx.h"
#include "request.h"
#include "errors.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "org_db.h"

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 302: return "Found";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/* Percent-decodes s[0..n) into out (cap bytes); '+' is a space when plus. */
static size_t url_decode(const char *s, size_t n, char *out, size_t cap, bool plus, bool *truncated)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%' && i + 2 < n && sx_hex_value(s[i + 1]) >= 0 && sx_hex_value(s[i + 2]) >= 0) {
			c = sx_hex_value(s[i + 1]) * 16 + sx_hex_value(s[i + 2]);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (o + 1 >= cap) {
			if (truncated)
				*truncated = true;
			break;
		}
		out[o++] = (char)c;
	}
	if (cap)
		out[o] = '\0';
	return o;
}

void http_req_init(struct http_req *req, void *fcgi, const struct sx_conf *conf, struct sx_db *db)
{
	FCGX_Request *fr = fcgi;
	const char *uri, *q;
	size_t n;

	memset(req, 0, sizeof(*req));
	sx_arena_init(&req->arena);
	req->fcgi = fcgi;
	req->conf = conf;
	req->db = db;
	req->method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	if (!req->method)
		req->method = "GET";
	/* REQUEST_URI is the raw target; the path is decoded here once. */
	uri = FCGX_GetParam("REQUEST_URI", fr->envp);
	if (!uri)
		uri = FCGX_GetParam("DOCUMENT_URI", fr->envp);
	if (!uri)
		uri = "/";
	q = strchr(uri, '?');
	n = q ? (size_t)(q - uri) : strlen(uri);
	req->path = sx_arena_alloc(&req->arena, n + 1);
	url_decode(uri, n, req->path, n + 1, false, NULL);
	/* A %00 ends the C string here; the router refuses such a target (400). */
	n = strlen(req->path);
	while (n > 1 && req->path[n - 1] == '/')
		req->path[--n] = '\0';
	req->query = FCGX_GetParam("QUERY_STRING", fr->envp);
	if (!req->query)
		req->query = q ? q + 1 : "";
	sx_buf_init(&req->body, (size_t)conf->api_max_body);
}

void http_req_release(struct http_req *req)
{
	req->path = NULL;
	sx_arena_release(&req->arena);
	sx_buf_release(&req->body);
}

const char *http_param(const struct http_req *req, const char *name)
{
	FCGX_Request *fr = req->fcgi;

	return FCGX_GetParam(name, fr->envp);
}

enum sx_rc http_read_body(struct http_req *req)
{
	FCGX_Request *fr = req->fcgi;
	const char *cl = http_param(req, "CONTENT_LENGTH");
	long long declared = -1;
	char chunk[8192];
	int n;

	if (cl && *cl && !sx_parse_ll(cl, 0, LLONG_MAX, &declared))
		return SX_EINVAL;
	if (declared > req->conf->api_max_body)
		return SX_ETOOBIG;
	while ((n = FCGX_GetStr(chunk, sizeof(chunk), fr->in)) > 0) {
		enum sx_rc rc = sx_buf_append(&req->body, chunk, (size_t)n);

		if (rc)
			return rc;
	}
	return SX_OK;
}

bool http_read_body_or_reply(struct http_req *req)
{
	enum sx_rc rc = http_read_body(req);

	if (rc == SX_ETOOBIG)
		http_reply_detail(req, 413, "Request body too large");
	else if (rc)
		http_reply_detail(req, 400, "Could not read the request body");
	return rc == SX_OK;
}

const char *http_api_key(const struct http_req *req)
{
	const char *key = http_param(req, "HTTP_X_API_KEY");

	/* Blanks before a value are the header's whitespace, never the key's (RFC 9110 5.5). */
	while (key && (*key == ' ' || *key == '\t'))
		key++;
	if (!key || !*key) {
		const char *auth = http_param(req, "HTTP_AUTHORIZATION");

		key = NULL;
		if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
			key = auth + 7;
			while (*key == ' ' || *key == '\t')
				key++;
		}
	}
	return key && *key ? key : NULL;
}

enum sx_rc http_authenticate(struct http_req *req)
{
	const char *key = http_api_key(req);

	if (!key)
		return SX_EAUTH;
	return auth_lookup_key(req->db, key, strlen(key), req->org_id);
}

/*
 * For a route whose key is still unchecked (req->key_unchecked): before an
 * answer other than 2xx goes out, the key is looked up, as the router would
 * have done first, so that a bad key is 403 whatever else is wrong with the
 * request.  Returns true when it answered instead (403, or 503 when the
 * database did not answer); the caller then sends nothing.
 */
static bool reply_key_first(struct http_req *req, int status)
{
	enum sx_rc rc;

	if (!req->key_unchecked || (status >= 200 && status < 300))
		return false;
	req->key_unchecked = false;
	rc = http_authenticate(req);
	if (rc == SX_EAUTH)
		http_reply_detail(req, 403, "Invalid credentials");
	else if (rc)
		http_reply_db_error(req, rc);
	return rc != SX_OK;
}

void http_reply_json(struct http_req *req, int status, json_object *body, const char *extra_headers)
{
	FCGX_Request *fr = req->fcgi;
	size_t len = 0;
	char head[512];
	int hlen;
	const char *text;

	if (reply_key_first(req, status)) {
		json_object_put(body);
		return;
	}
	text = body ? json_object_to_json_string_length(body,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len) : "null";
	if (!body)
		len = 4;
	/* libfcgi's own printf knows no %zu: the head is formatted here. */
	hlen = snprintf(head, sizeof(head),
			"Status: %d %s\r\nContent-Type: application/json\r\n"
			"Content-Length: %zu\r\nCache-Control: no-store\r\n%s\r\n",
			status, status_text(status), len, extra_headers ? extra_headers : "");
	if (hlen < 0 || (size_t)hlen >= sizeof(head))
		abort();
	FCGX_PutStr(head, hlen, fr->out);
	FCGX_PutStr(text, (int)len, fr->out);
	req->status = status;
	req->replied = true;
	json_object_put(body);
}

void http_reply_raw(struct http_req *req, int status, const char *content_type,
		    const char *body, size_t len, const char *extra_headers)
{
	FCGX_Request *fr = req->fcgi;
	char head[768];
	int hlen;

	if (reply_key_first(req, status))
		return;
	hlen = snprintf(head, sizeof(head),
			"Status: %d %s\r\nContent-Type: %s\r\n"
			"Content-Length: %zu\r\nCache-Control: no-store\r\n%s\r\n",
			status, status_text(status), content_type, len, extra_headers ? extra_headers : "");
	if (hlen < 0 || (size_t)hlen >= sizeof(head))
		abort();
	FCGX_PutStr(head, hlen, fr->out);
	if (len)
		FCGX_PutStr(body, (int)len, fr->out);
	req->status = status;
	req->replied = true;
}

const char *http_query_next(const char *query, const char *key, char *out, size_t outlen,
			    bool *truncated)
{
	size_t klen = strlen(key);
	const char *p = query;

	if (truncated)
		*truncated = false;
	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t plen = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', plen);
		size_t nlen = eq ? (size_t)(eq - p) : plen;
		char name[64];

		if (nlen < sizeof(name)) {
			url_decode(p, nlen, name, sizeof(name), true, NULL);
			if (strlen(name) == klen && memcmp(name, key, klen) == 0) {
				if (eq)
					url_decode(eq + 1, plen - nlen - 1, out, outlen, true, truncated);
				else if (outlen)
					out[0] = '\0';
				return amp ? amp + 1 : p + plen;
			}
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}
