/*
 * The libcurl adapter.
 */
#include <curl/curl.h>
#include <strings.h>
#include "sx.h"
#include "http.h"
#include "log.h"

#define HTTP_DEFAULT_MAX (8u << 20)

struct http_client {
	CURL *curl;
};

void http_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct http_client *http_client_new(void)
{
	struct http_client *c = xcalloc(1, sizeof(*c));

	c->curl = curl_easy_init();
	if (!c->curl)
		abort();
	return c;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

struct sink {
	struct http_response *res;
	bool overflow;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (sx_buf_append(&s->res->body, p, size * n) != SX_OK) {
		s->overflow = true;
		return 0;
	}
	return size * n;
}

static char *trim_dup(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	return xstrndup(s, n);
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	/* A new status line (redirect, 100-continue) starts a fresh header set. */
	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		free(s->res->retry_after);
		s->res->retry_after = NULL;
	}
	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		free(s->res->retry_after);
		s->res->retry_after = trim_dup(p + 12, len - 12);
	}
	return len;
}

enum sx_rc http_perform(struct http_client *c, const struct http_request *req,
			struct http_response *res)
{
	enum sx_rc rc = SX_OK;
	struct curl_slist *h = NULL;
	struct sink s = { res, false };
	CURL *cu = c->curl;
	CURLcode cc;
	char *ct = NULL;
	long connect_ms = req->connect_timeout_ms;

	memset(res, 0, sizeof(*res));
	sx_buf_init(&res->body, req->max_response ? req->max_response : HTTP_DEFAULT_MAX);
	if (connect_ms <= 0)
		connect_ms = req->timeout_ms < 10000 ? req->timeout_ms : 10000;
	curl_easy_reset(cu);
	for (size_t i = 0; i < req->nheaders; i++) {
		char *line = xasprintf("%s: %s", req->headers[i].name, req->headers[i].value);

		h = curl_slist_append(h, line);
		sx_wipe(line, strlen(line));
		free(line);
	}
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(cu, CURLOPT_URL, req->url);
	curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, req->method);
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cu, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(cu, CURLOPT_ACCEPT_ENCODING, "");
	if (req->body) {
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	cc = curl_easy_perform(cu);
	curl_easy_getinfo(cu, CURLINFO_TOTAL_TIME, &res->seconds);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &res->status);
		if (curl_easy_getinfo(cu, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			res->content_type = xstrdup(ct);
	} else if (s.overflow) {
		rc = SX_ETOOBIG;
		snprintf(res->error, sizeof(res->error), "response larger than %zu bytes", res->body.max);
	} else {
		rc = cc == CURLE_OPERATION_TIMEDOUT ? SX_ETIMEOUT : SX_EHTTP;
		snprintf(res->error, sizeof(res->error), "%s", curl_easy_strerror(cc));
	}
	curl_slist_free_all(h);
	return rc;
}

void http_response_release(struct http_response *res)
{
	sx_buf_release(&res->body);
	free(res->retry_after);
	free(res->content_type);
	res->retry_after = NULL;
	res->content_type = NULL;
}
