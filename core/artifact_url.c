/*
 * Signing and checking artifact URLs (see artifact_url.h).
 */
#include <limits.h>
#include "sx.h"
#include "artifact_url.h"
#include "crypto.h"

/* Longest path accepted: org and task ids plus a file name fit many times. */
#define ARTURL_PATH_MAX 512

bool arturl_path_safe(const char *path)
{
	bool seg_start = true;
	size_t n = 0;

	if (!path || !*path)
		return false;
	for (const char *p = path; *p; p++, n++) {
		unsigned char c = (unsigned char)*p;

		if (n >= ARTURL_PATH_MAX)
			return false;
		if (c == '/') {
			/* An empty segment ("//", leading or trailing slash). */
			if (seg_start)
				return false;
			seg_start = true;
			continue;
		}
		/* A dot may not open a segment: no ".", "..", ".hidden". */
		if (seg_start && c == '.')
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
		seg_start = false;
	}
	return !seg_start;
}

/*
 * Whether expires is written the one way arturl_sign writes it: decimal
 * digits without a sign or a leading zero.  The signature covers the
 * number, not its text, so "0<expires>" or "+<expires>" would otherwise be
 * a second spelling of the same signed URL.
 */
static bool arturl_expires_canonical(const char *expires)
{
	return expires && expires[0] >= '1' && expires[0] <= '9';
}

/* The HMAC of "/artifacts/<path>\n<expires>" under key, as hex. */
static void arturl_mac(const char *key, const char *path, long long expires, char out[CRYPTO_SHA256_HEX])
{
	char *msg = xasprintf("/artifacts/%s\n%lld", path, expires);

	crypto_hmac_sha256_hex(key, strlen(key), msg, strlen(msg), out);
	free(msg);
}

char *arturl_sign(const char *base, const char *key, long long ttl, long long now,
		  const char *path)
{
	char mac[CRYPTO_SHA256_HEX];
	char *url = NULL;
	long long expires;

	if (!path || !key || !*key || !arturl_path_safe(path))
		goto out;
	expires = now + ttl;
	arturl_mac(key, path, expires, mac);
	url = xasprintf("%s/artifacts/%s?expires=%lld&sig=%s", base ? base : "", path, expires, mac);
	crypto_wipe(mac, sizeof(mac));
out:
	return url;
}

enum arturl_check arturl_verify(const char *key, const char *path, const char *expires,
				const char *sig, long long now)
{
	enum arturl_check rc = ARTURL_OK;
	long long exp = 0;
	char want[CRYPTO_SHA256_HEX];

	want[0] = '\0';
	if (!arturl_path_safe(path)) {
		rc = ARTURL_BAD_PATH;
		goto out;
	}
	if (!key || !*key || !sig || strlen(sig) != 64 || !arturl_expires_canonical(expires) ||
	    !sx_parse_ll(expires, 0, LLONG_MAX / 2, &exp)) {
		rc = ARTURL_BAD_SIG;
		goto out;
	}
	/* The signature first: an attacker learns nothing from the expiry answer. */
	arturl_mac(key, path, exp, want);
	if (!crypto_equal(want, sig, 64)) {
		rc = ARTURL_BAD_SIG;
		goto out;
	}
	if (exp < now)
		rc = ARTURL_EXPIRED;
out:
	crypto_wipe(want, sizeof(want));
	return rc;
}

const char *arturl_content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" },
		{ ".webm", "video/webm" },
		{ ".mp4", "video/mp4" },
		{ ".json", "application/json" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".html", "text/plain; charset=utf-8" },
	};
	const char *dot = path ? strrchr(path, '.') : NULL;
	const char *type = "application/octet-stream";

	for (size_t i = 0; dot && i < SX_ARRAY_LEN(types); i++) {
		if (strcmp(dot, types[i].ext) == 0) {
			type = types[i].type;
			break;
		}
	}
	return type;
}
