/*
 * S3-compatible object storage for artifacts (see s3.h).
 */
#include "s3.h"
#include "artifact_url.h"
#include "conf.h"
#include "crypto.h"
#include "http.h"
#include "log.h"

#include <time.h>

#define S3_TIMEOUT_MS 60000

bool s3_enabled(const struct sx_conf *c)
{
	return c->artifacts_backend && strcmp(c->artifacts_backend, "s3") == 0;
}

/* The credentials from the environment; false (logged) when either is unset. */
static bool s3_credentials(const struct sx_conf *c, const char **key, const char **secret)
{
	*key = getenv(c->s3_access_key_env);
	*secret = getenv(c->s3_secret_key_env);
	if (*key && **key && *secret && **secret)
		return true;
	log_error("s3", "msg=\"credentials not set\" key_env=%s secret_env=%s",
		  sx_log_quote(c->s3_access_key_env), sx_log_quote(c->s3_secret_key_env));
	return false;
}

/* RFC 3986 encoding, as SigV4 wants it: unreserved characters kept, '/' too when keep_slash. */
static void s3_uri_encode(struct sx_buf *b, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~' || (keep_slash && ch == '/')) {
			sx_buf_append(b, (const char *)&ch, 1);
		} else {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			sx_buf_append(b, e, 3);
		}
	}
}

/*
 * The path of the object key, path-style and URI-encoded: /bucket/key.
 * Both the signed requests and the presigned URL address the object by it.
 * Caller frees.
 */
static char *s3_object_path(const struct sx_conf *c, const char *key)
{
	struct sx_buf path;

	sx_buf_init(&path, 4096);
	sx_buf_puts(&path, "/");
	s3_uri_encode(&path, c->s3_bucket, false);
	sx_buf_puts(&path, "/");
	s3_uri_encode(&path, key, true);
	return sx_buf_detach(&path, NULL);
}

/*
 * The length of endpoint without its trailing slashes, so that the path
 * (which starts with one) follows it without a doubled slash.  The config
 * accepts no path in s3_endpoint (conf.c), so nothing else stands there.
 */
static int s3_endpoint_len(const char *endpoint)
{
	size_t n = strlen(endpoint);

	while (n > 0 && endpoint[n - 1] == '/')
		n--;
	return (int)n;
}

/* One signed request on the object key; *status gets the answer's status. */
static enum sx_rc s3_request(struct http_client *hc, const struct sx_conf *c, const char *method,
			     const char *key, const void *data, size_t len,
			     const char *content_type, long *status)
{
	const char *akey, *secret;
	char *path = NULL, *url = NULL, *sigv4 = NULL;
	char payload_hash[CRYPTO_SHA256_HEX];
	struct http_header h[] = { { "x-amz-content-sha256", payload_hash },
				   { "Content-Type", content_type } };
	struct http_request req = { 0 };
	struct http_response res;
	enum sx_rc rc;

	*status = 0;
	if (!arturl_path_safe(key))
		return SX_EINVAL;
	if (!s3_credentials(c, &akey, &secret))
		return SX_ECONFIG;
	path = s3_object_path(c, key);
	url = xasprintf("%.*s%s", s3_endpoint_len(c->s3_endpoint), c->s3_endpoint, path);
	sigv4 = xasprintf("aws:amz:%s:s3", c->s3_region);
	req.method = method;
	req.url = url;
	/* S3 wants the payload's hash named; libcurl's signature covers the header. */
	crypto_sha256_hex(data ? data : "", data ? len : 0, payload_hash);
	req.headers = h;
	req.nheaders = content_type ? 2 : 1;
	req.body = data ? data : (strcmp(method, "PUT") == 0 ? "" : NULL);
	req.body_len = len;
	req.timeout_ms = S3_TIMEOUT_MS;
	req.max_response = 64 * 1024;
	req.aws_sigv4 = sigv4;
	req.aws_key = akey;
	req.aws_secret = secret;
	rc = http_perform(hc, &req, &res);
	if (rc == SX_OK)
		*status = res.status;
	else
		log_warn("s3", "msg=\"no answer\" method=%s key=%s error=%s", method, sx_log_quote(key),
			 sx_log_quote(res.error));
	http_response_release(&res);
	free(path);
	free(url);
	free(sigv4);
	return rc;
}

enum sx_rc s3_put(struct http_client *hc, const struct sx_conf *c, const char *key,
		  const void *data, size_t len, const char *content_type)
{
	long status;
	enum sx_rc rc = s3_request(hc, c, "PUT", key, data, len, content_type, &status);

	if (rc == SX_OK && (status < 200 || status > 299)) {
		log_warn("s3", "msg=\"put refused\" key=%s status=%ld", sx_log_quote(key), status);
		rc = SX_EIO;
	}
	return rc;
}

enum sx_rc s3_delete(struct http_client *hc, const struct sx_conf *c, const char *key)
{
	long status;
	enum sx_rc rc = s3_request(hc, c, "DELETE", key, NULL, 0, NULL, &status);

	if (rc == SX_OK && status != 404 && (status < 200 || status > 299)) {
		log_warn("s3", "msg=\"delete refused\" key=%s status=%ld", sx_log_quote(key), status);
		rc = SX_EIO;
	}
	return rc;
}

/* The host (and port) of the endpoint: what the `host` header will be. */
static char *s3_host(const char *endpoint)
{
	const char *p = strstr(endpoint, "://");
	size_t n;

	p = p ? p + 3 : endpoint;
	n = strcspn(p, "/?#");
	return xasprintf("%.*s", (int)n, p);
}

/* HMAC-SHA256 of text under key into out (32 bytes). */
static void s3_hmac(const unsigned char *key, size_t keylen, const char *text,
		    unsigned char out[CRYPTO_DIGEST_MAX])
{
	crypto_hmac(CRYPTO_SHA256, key, keylen, text, strlen(text), out);
}

/* The SigV4 signature of string_to_sign for the day date (YYYYMMDD). */
static void s3_signature(const char *region, const char *secret, const char *date,
			 const char *string_to_sign, char out[CRYPTO_SHA256_HEX])
{
	unsigned char k[CRYPTO_DIGEST_MAX];
	char *k0 = xasprintf("AWS4%s", secret);

	s3_hmac((const unsigned char *)k0, strlen(k0), date, k);
	s3_hmac(k, 32, region, k);
	s3_hmac(k, 32, "s3", k);
	s3_hmac(k, 32, "aws4_request", k);
	crypto_hmac_sha256_hex(k, 32, string_to_sign, strlen(string_to_sign), out);
	crypto_wipe(k, sizeof(k));
	crypto_wipe(k0, strlen(k0));
	free(k0);
}

char *s3_presign_url(const char *endpoint, const char *path, const char *region,
		     const char *akey, const char *secret, long long now, long long ttl)
{
	char amz_date[20], date[9], creq_hash[CRYPTO_SHA256_HEX], sig[CRYPTO_SHA256_HEX];
	char *host = NULL, *scope = NULL, *cred = NULL, *creq = NULL, *sts = NULL, *url = NULL;
	struct sx_buf q;
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
	strftime(date, sizeof(date), "%Y%m%d", &tm);
	host = s3_host(endpoint);
	scope = xasprintf("%s/%s/s3/aws4_request", date, region);
	cred = xasprintf("%s/%s", akey, scope);
	/* The query's parameters in sorted order, as the canonical request needs them. */
	sx_buf_init(&q, 4096);
	sx_buf_puts(&q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
	s3_uri_encode(&q, cred, false);
	sx_buf_printf(&q, "&X-Amz-Date=%s&X-Amz-Expires=%lld&X-Amz-SignedHeaders=host", amz_date, ttl);
	creq = xasprintf("GET\n%s\n%.*s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", path, (int)q.len, q.data,
			 host);
	crypto_sha256_hex(creq, strlen(creq), creq_hash);
	sts = xasprintf("AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, creq_hash);
	s3_signature(region, secret, date, sts, sig);
	url = xasprintf("%.*s%s?%.*s&X-Amz-Signature=%s", s3_endpoint_len(endpoint), endpoint, path,
			(int)q.len, q.data, sig);
	sx_buf_release(&q);
	free(host);
	free(scope);
	free(cred);
	free(creq);
	free(sts);
	return url;
}

char *s3_presign_get(const struct sx_conf *c, const char *key, long long now, long long ttl)
{
	const char *akey, *secret;
	char *path, *url;

	if (!arturl_path_safe(key) || !s3_credentials(c, &akey, &secret))
		return NULL;
	path = s3_object_path(c, key);
	url = s3_presign_url(c->s3_endpoint, path, c->s3_region, akey, secret, now, ttl);
	free(path);
	return url;
}
