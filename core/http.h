#ifndef SX_HTTP_H
#define SX_HTTP_H
/*
 * The outbound HTTP client: the only file that includes curl.h.  Used for
 * WebDriver, LLM providers, webhooks, TOTP endpoints and file downloads.
 * Every call has a timeout and reads the answer into a capped buffer.
 */
#include "sx.h"
#include "buf.h"

struct http_client;

struct http_header {
	const char *name;
	const char *value;
};

struct http_request {
	const char *method;           /* "GET", "POST", "DELETE", … */
	const char *url;
	const struct http_header *headers;
	size_t nheaders;
	const char *body;             /* may be NULL */
	size_t body_len;
	long timeout_ms;              /* whole request; required (> 0) */
	long connect_timeout_ms;      /* 0: min(timeout, 10 s) */
	size_t max_response;          /* cap on the body read; 0: 8 MiB */
	/*
	 * Requests made on a user's behalf (webhooks, TOTP URLs, downloads) set
	 * guarded: the host is resolved once, loopback/private/link-local/
	 * multicast/metadata addresses are refused unless `allow` (the
	 * outbound_allow config: comma-separated addresses or CIDRs) lists
	 * them, and the connection is pinned to the checked address.  A refusal
	 * is SX_EBLOCKED with res->error saying why; redirects are not followed.
	 */
	bool guarded;
	const char *allow;
	const char *proxy;            /* proxy URL for this request, or NULL */
	/*
	 * Signs the request with AWS Signature Version 4 (libcurl's own
	 * CURLOPT_AWS_SIGV4) when aws_sigv4 is set, e.g. "aws:amz:us-east-1:s3",
	 * with aws_key and aws_secret as the credentials (never logged).
	 */
	const char *aws_sigv4;
	const char *aws_key;
	const char *aws_secret;
};

/*
 * Why no answer came, mapped from curl's error codes here so that callers
 * act on the kind and show error[] to people, never parse it.
 */
enum http_failure {
	HTTP_FAIL_NONE = 0,           /* an answer arrived */
	HTTP_FAIL_DNS,                /* the host (or the proxy) name did not resolve */
	HTTP_FAIL_CONNECT,            /* the connection was refused or could not be made */
	HTTP_FAIL_TIMEOUT,            /* no complete answer within the timeout */
	HTTP_FAIL_TLS,                /* TLS handshake or certificate failure */
	HTTP_FAIL_TOO_LARGE,          /* the body went over max_response */
	HTTP_FAIL_BLOCKED,            /* refused by the SSRF guard; nothing was sent */
	HTTP_FAIL_OTHER,              /* any other transport failure */
};

struct http_response {
	long status;                  /* 0 when no answer came */
	struct sx_buf body;
	char *retry_after;            /* value of Retry-After, or NULL */
	char *location;               /* value of Location (a redirect, never followed), or NULL */
	char *content_type;
	double seconds;               /* total time */
	enum http_failure failure;    /* HTTP_FAIL_NONE unless the call failed */
	char error[256];              /* transport error text when status == 0 */
};

/*
 * A client keeps one libcurl handle, so connections are reused between
 * calls (keep-alive to chromedriver and the LLM endpoint).  Not thread-safe;
 * one per process or thread.
 */
struct http_client *http_client_new(void);
void http_client_free(struct http_client *c);

/*
 * Performs req.  Returns SX_OK whenever an HTTP answer arrived, whatever its
 * status; SX_ETIMEOUT, SX_EHTTP (connection, DNS, TLS), SX_ETOOBIG (body
 * over the cap) or SX_EBLOCKED (a guarded request the SSRF guard refused;
 * nothing was sent) otherwise, with res->failure its kind and res->error
 * saying why in words.  res is initialized
 * here; the caller releases it with http_response_release().
 */
enum sx_rc http_perform(struct http_client *c, const struct http_request *req,
			struct http_response *res);
void http_response_release(struct http_response *res);

/* Process-wide libcurl set-up; call once before any thread starts. */
void http_global_init(void);
#endif
