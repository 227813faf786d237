/*
 * The libcurl adapter.
 */
#include <curl/curl.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include "sx.h"
#include "http.h"
#include "crypto.h"
#include "log.h"
#include "ssrf.h"

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
		free(s->res->location);
		s->res->location = NULL;
	}
	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		free(s->res->retry_after);
		s->res->retry_after = trim_dup(p + 12, len - 12);
	}
	if (len > 9 && strncasecmp(p, "Location:", 9) == 0) {
		free(s->res->location);
		s->res->location = trim_dup(p + 9, len - 9);
	}
	return len;
}

/* What a guarded request checked: the connection must go to `pinned`. */
struct guard {
	struct sockaddr_storage pinned;
	bool use_pin;                 /* false when a proxy carries the connection */
	bool mismatch;                /* curl tried to open a socket elsewhere */
	char *connect_to;             /* "host:port:addr:port" for CURLOPT_CONNECT_TO */
	CURLU *url;                   /* the parsed URL curl is given (CURLOPT_CURLU) */
};

static bool same_address(const struct sockaddr *a, const struct sockaddr *b)
{
	bool same = false;

	if (a->sa_family == b->sa_family && a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		same = x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	} else if (a->sa_family == b->sa_family && a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		same = x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return same;
}

/*
 * The last gate of a guarded request: every socket curl opens must go to
 * the address the guard checked.  CONNECT_TO already points curl there; this
 * makes the promise hold whatever curl does (a cached connection, a resolver
 * answer, an option this file forgot), at the cost of one comparison.
 */
static curl_socket_t guard_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct guard *g = arg;
	curl_socket_t fd = CURL_SOCKET_BAD;

	(void)purpose;
	if (g->use_pin && !same_address(&a->addr, (const struct sockaddr *)&g->pinned))
		g->mismatch = true;
	else
		fd = socket(a->family, a->socktype, a->protocol);
	return fd;
}

static void guard_release(struct guard *g)
{
	free(g->connect_to);
	curl_url_cleanup(g->url);
	memset(g, 0, sizeof(*g));
}

/*
 * Checks a guarded request's URL before anything is sent (see http.h):
 * http(s) only, no user:pass@ (a classic way to make a URL read as one host
 * and go to another), the host resolved once with every answer checked by
 * ssrf_resolve(), and the connection pinned to the first answer with
 * CONNECT_TO.  CONNECT_TO rather than CURLOPT_RESOLVE because RESOLVE writes
 * into the handle's DNS cache, which outlives the request and would pin
 * later unguarded requests on this handle too.  With a proxy the proxy makes
 * the connection, so the host is still checked but nothing is pinned.
 */
static enum sx_rc guard_prepare(const struct http_request *req, struct guard *g, char *why, size_t whylen)
{
	enum sx_rc rc = SX_EBLOCKED;
	struct ssrf_allow *allow = NULL;
	char *scheme = NULL, *user = NULL, *pass = NULL, *host = NULL, *port = NULL;
	char addr[64], aerr[160];
	long long portnum = 0;
	size_t hl;

	memset(g, 0, sizeof(*g));
	g->url = curl_url();
	if (!g->url)
		abort();
	if (ssrf_allow_parse(req->allow, &allow, aerr, sizeof(aerr)) != SX_OK) {
		snprintf(why, whylen, "refused: the outbound_allow setting is invalid: %s", aerr);
		goto out;
	}
	if (curl_url_set(g->url, CURLUPART_URL, req->url, 0) != CURLUE_OK ||
	    curl_url_get(g->url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		snprintf(why, whylen, "refused: not a valid URL");
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		snprintf(why, whylen, "refused: only http and https URLs are fetched");
		goto out;
	}
	if (curl_url_get(g->url, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(g->url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    !sx_parse_ll(port, 1, 65535, &portnum)) {
		snprintf(why, whylen, "refused: not a valid URL");
		goto out;
	}
	if (curl_url_get(g->url, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(g->url, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
		snprintf(why, whylen, "refused: URLs with user:password@ are not fetched");
		goto out;
	}
	/* curl gives an IPv6 literal in brackets; the resolver wants it bare. */
	hl = strlen(host);
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	rc = ssrf_resolve(host, (unsigned)portnum, allow, &g->pinned, why, whylen);
	if (rc)
		goto out;
	g->use_pin = !(req->proxy && *req->proxy);
	ssrf_addr_text((const struct sockaddr *)&g->pinned, addr, sizeof(addr));
	g->connect_to = strchr(host, ':') ?
		xasprintf("[%s]:%lld:%s%s%s:%lld", host, portnum, g->pinned.ss_family == AF_INET6 ? "[" : "",
			  addr, g->pinned.ss_family == AF_INET6 ? "]" : "", portnum) :
		xasprintf("%s:%lld:%s%s%s:%lld", host, portnum, g->pinned.ss_family == AF_INET6 ? "[" : "",
			  addr, g->pinned.ss_family == AF_INET6 ? "]" : "", portnum);
out:
	curl_free(scheme);
	curl_free(user);
	curl_free(pass);
	curl_free(host);
	curl_free(port);
	ssrf_allow_free(allow);
	return rc;
}

/* The headers of req as a curl list, with "Expect:" to skip 100-continue. */
static struct curl_slist *header_list(const struct http_request *req)
{
	struct curl_slist *h = NULL;

	for (size_t i = 0; i < req->nheaders; i++) {
		char *line = xasprintf("%s: %s", req->headers[i].name, req->headers[i].value);

		h = curl_slist_append(h, line);
		crypto_wipe(line, strlen(line));
		free(line);
	}
	return curl_slist_append(h, "Expect:");
}

/* What a guarded request adds: the checked URL, no redirects, the pinned address. */
static void set_guard_options(CURL *cu, struct guard *g, struct curl_slist **connect_to)
{
	/* curl fetches exactly the URL the guard parsed and checked. */
	curl_easy_setopt(cu, CURLOPT_CURLU, g->url);
	curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 0L);
	/* A fresh connection, closed after: never one opened for another host's answer. */
	curl_easy_setopt(cu, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(cu, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(cu, CURLOPT_OPENSOCKETFUNCTION, guard_open_socket);
	curl_easy_setopt(cu, CURLOPT_OPENSOCKETDATA, g);
	if (g->use_pin) {
		*connect_to = curl_slist_append(NULL, g->connect_to);
		curl_easy_setopt(cu, CURLOPT_CONNECT_TO, *connect_to);
		/* "" turns off proxies from the environment (http_proxy), which would bypass the pin. */
		curl_easy_setopt(cu, CURLOPT_PROXY, "");
	}
}

/* Every option of one request on a freshly reset handle. */
static void set_options(CURL *cu, const struct http_request *req, struct curl_slist *h,
			struct sink *s, long connect_ms)
{
	if (req->proxy && *req->proxy)
		curl_easy_setopt(cu, CURLOPT_PROXY, req->proxy);
	curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, req->method);
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cu, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(cu, CURLOPT_ACCEPT_ENCODING, "");
	if (req->aws_sigv4) {
		curl_easy_setopt(cu, CURLOPT_AWS_SIGV4, req->aws_sigv4);
		curl_easy_setopt(cu, CURLOPT_USERNAME, req->aws_key ? req->aws_key : "");
		curl_easy_setopt(cu, CURLOPT_PASSWORD, req->aws_secret ? req->aws_secret : "");
	}
	if (req->body) {
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
}

/* The kind of a transport failure curl reported. */
static enum http_failure failure_of(CURLcode cc)
{
	enum http_failure f = HTTP_FAIL_OTHER;

	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		f = HTTP_FAIL_DNS;
		break;
	case CURLE_COULDNT_CONNECT:
		f = HTTP_FAIL_CONNECT;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		f = HTTP_FAIL_TIMEOUT;
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		f = HTTP_FAIL_TLS;
		break;
	default:
		break;
	}
	return f;
}

/* Fills res from a finished transfer and returns the call's result. */
static enum sx_rc collect_result(CURL *cu, CURLcode cc, const struct sink *s,
				 const struct guard *g, struct http_response *res)
{
	enum sx_rc rc = SX_OK;
	char *ct = NULL;

	curl_easy_getinfo(cu, CURLINFO_TOTAL_TIME, &res->seconds);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &res->status);
		if (curl_easy_getinfo(cu, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			res->content_type = xstrdup(ct);
	} else if (s->overflow) {
		rc = SX_ETOOBIG;
		res->failure = HTTP_FAIL_TOO_LARGE;
		snprintf(res->error, sizeof(res->error), "response larger than %zu bytes", res->body.max);
	} else if (g->mismatch) {
		rc = SX_EBLOCKED;
		res->failure = HTTP_FAIL_BLOCKED;
		snprintf(res->error, sizeof(res->error), "refused: the connection left the checked address");
	} else {
		res->failure = failure_of(cc);
		rc = res->failure == HTTP_FAIL_TIMEOUT ? SX_ETIMEOUT : SX_EHTTP;
		snprintf(res->error, sizeof(res->error), "%s", curl_easy_strerror(cc));
	}
	return rc;
}

enum sx_rc http_perform(struct http_client *c, const struct http_request *req,
			struct http_response *res)
{
	enum sx_rc rc = SX_OK;
	struct curl_slist *h = NULL;
	struct curl_slist *connect_to = NULL;
	struct sink s = { res, false };
	struct guard g;
	CURL *cu = c->curl;
	long connect_ms = req->connect_timeout_ms;

	memset(res, 0, sizeof(*res));
	memset(&g, 0, sizeof(g));
	sx_buf_init(&res->body, req->max_response ? req->max_response : HTTP_DEFAULT_MAX);
	if (connect_ms <= 0)
		connect_ms = req->timeout_ms < 10000 ? req->timeout_ms : 10000;
	if (req->guarded) {
		rc = guard_prepare(req, &g, res->error, sizeof(res->error));
		if (rc) {
			/* The guard resolves the name itself: SX_EHTTP is a name that does not. */
			res->failure = rc == SX_EBLOCKED ? HTTP_FAIL_BLOCKED : HTTP_FAIL_DNS;
			log_warn("http", "msg=\"outbound request not sent\" reason=%s", sx_log_quote(res->error));
			goto out;
		}
	}
	curl_easy_reset(cu);
	h = header_list(req);
	if (req->guarded)
		set_guard_options(cu, &g, &connect_to);
	else
		curl_easy_setopt(cu, CURLOPT_URL, req->url);
	set_options(cu, req, h, &s, connect_ms);
	rc = collect_result(cu, curl_easy_perform(cu), &s, &g, res);
	/* The handle outlives this call: drop pointers into g and the lists before they go. */
	curl_easy_setopt(cu, CURLOPT_CURLU, NULL);
	curl_easy_setopt(cu, CURLOPT_CONNECT_TO, NULL);
	curl_easy_setopt(cu, CURLOPT_OPENSOCKETFUNCTION, NULL);
	curl_easy_setopt(cu, CURLOPT_OPENSOCKETDATA, NULL);
out:
	curl_slist_free_all(connect_to);
	curl_slist_free_all(h);
	guard_release(&g);
	return rc;
}

void http_response_release(struct http_response *res)
{
	sx_buf_release(&res->body);
	free(res->retry_after);
	free(res->content_type);
	free(res->location);
	res->retry_after = NULL;
	res->content_type = NULL;
	res->location = NULL;
}
