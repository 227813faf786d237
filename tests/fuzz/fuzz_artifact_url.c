/*
 * Fuzzes the signed artifact URL gate (core/artifact_url.c) the way
 * GET /artifacts/… reaches it: the input is the raw request target
 * "/artifacts/<path>?expires=…&sig=…"; the path is the raw text before '?'
 * and expires/sig are read with http_query_next() (fcgi/request.c) into the
 * API's buffer sizes, then checked with arturl_verify().
 *
 * Beyond "no crash" it checks:
 *  - a verified URL re-signs to itself: arturl_sign() for its path and
 *    expiry produces exactly the expires and sig text that was accepted
 *    (one canonical form; an accepted variant would be a second URL for
 *    the same grant);
 *  - the input's expires, signed properly for its path, either verifies
 *    and re-signs to itself, or is refused;
 *  - a path is signable and verifiable only when it is a plain relative
 *    path (segments of [A-Za-z0-9._-], none empty or starting with '.') of
 *    at most 512 bytes;
 *  - every URL arturl_sign() makes for the input's path verifies before
 *    its expiry, is refused as expired after it, and is refused with one
 *    character of its signature changed.
 */
#include "fuzz.h"
#include "artifact_url.h"
#include "request.h"

#define KEY "fuzz-artifact-url-key-0123456789"
#define BASE "https://sextant.example"
#define NOW 1800000000LL
#define TTL 3600LL

/* The contract of arturl_path_safe(), written out again independently. */
static bool path_plain(const char *p)
{
	bool seg_start = true;

	if (!*p)
		return false;
	for (; *p; p++) {
		if (*p == '/') {
			if (seg_start)
				return false;
			seg_start = true;
			continue;
		}
		if (seg_start && *p == '.')
			return false;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return false;
		seg_start = false;
	}
	return !seg_start;
}

/* The sig the key gives path at expiry exp (out holds 65 bytes). */
static void good_sig(const char *path, long long exp, char *out)
{
	char *url = arturl_sign(BASE, KEY, exp, 0, path);
	const char *s = url ? strstr(url, "&sig=") : NULL;

	FUZZ_CHECK(s && strlen(s + 5) == 64, "signing %s failed", path);
	memcpy(out, s + 5, 65);
	free(url);
}

/* An accepted (path, expires, sig) is the one URL arturl_sign() makes. */
static void check_resigns(const char *path, const char *expires, const char *sig)
{
	char *want = xasprintf(BASE "/artifacts/%s?expires=%s&sig=%s", path, expires, sig);
	char *got = arturl_sign(BASE, KEY, strtoll(expires, NULL, 10), 0, path);

	FUZZ_CHECK(path_plain(path), "verified a path that is not plain: %s", path);
	FUZZ_CHECK(got && strcmp(got, want) == 0, "a verified URL does not re-sign to itself:\n"
		   "accepted %s\nsigned   %s", want, got ? got : "(null)");
	free(want);
	free(got);
}

/* Sign the input's path, read the URL back as the API does, tamper with it. */
static void check_signed(const char *path)
{
	char *url = arturl_sign(BASE, KEY, TTL, NOW, path);
	char expires[32], sig[80];
	const char *q;

	FUZZ_CHECK((url != NULL) == (path_plain(path) && strlen(path) <= 512),
		   "signable %d for path %s", url != NULL, path);
	if (!url)
		return;
	q = strchr(url, '?');
	FUZZ_CHECK(q && http_query_next(q + 1, "expires", expires, sizeof(expires), NULL) &&
		   http_query_next(q + 1, "sig", sig, sizeof(sig), NULL), "unreadable %s", url);
	FUZZ_CHECK(arturl_verify(KEY, path, expires, sig, NOW) == ARTURL_OK, "refused %s", url);
	FUZZ_CHECK(arturl_verify(KEY, path, expires, sig, NOW + TTL + 1) == ARTURL_EXPIRED,
		   "not expired %s", url);
	/* First, last, and one more picked by the path: each verify costs an HMAC. */
	for (size_t k = 0; k < 3; k++) {
		size_t i = k == 0 ? 0 : k == 1 ? 63 : strlen(path) % 64;
		char saved = sig[i];

		sig[i] = saved == '0' ? '1' : '0';
		FUZZ_CHECK(arturl_verify(KEY, path, expires, sig, NOW) == ARTURL_BAD_SIG,
			   "sig with character %zu changed accepted", i);
		sig[i] = saved;
	}
	free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *target = xstrndup((const char *)data, size);
	const char *rest = target, *query;
	char path[600], expires[32], sig[80], good[65];
	bool trunc = false, trunc2 = false;
	size_t n;

	if (strncmp(rest, "/artifacts/", 11) == 0)
		rest += 11;
	n = strcspn(rest, "?");
	query = rest[n] == '?' ? rest + n + 1 : "";
	/* router_dispatch answers 400 to any target holding %00 before this gate. */
	if (strstr(target, "%00"))
		goto out;
	if (n >= sizeof(path))
		goto out;
	memcpy(path, rest, n);
	path[n] = '\0';
	expires[0] = sig[0] = '\0';
	http_query_next(query, "expires", expires, sizeof(expires), &trunc);
	http_query_next(query, "sig", sig, sizeof(sig), &trunc2);
	if (!trunc && !trunc2 && arturl_verify(KEY, path, expires, sig, NOW) == ARTURL_OK)
		check_resigns(path, expires, sig);
	if (path_plain(path) && n <= 512 && !trunc) {
		good_sig(path, strtoll(expires, NULL, 10), good);
		if (arturl_verify(KEY, path, expires, good, NOW) == ARTURL_OK)
			check_resigns(path, expires, good);
	}
	check_signed(path);
out:
	free(target);
	return 0;
}
