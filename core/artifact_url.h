#ifndef SX_ARTIFACT_URL_H
#define SX_ARTIFACT_URL_H
/*
 * Signed artifact URLs.  An artifact is a file under artifacts_dir named by
 * its relative path "<org>/<task>/<file>"; the public URL is
 *
 *   <public_base_url>/artifacts/<path>?expires=<unix>&sig=<hex>
 *
 * where sig is hex HMAC-SHA256(artifact_url_key, "/artifacts/<path>\n<expires>").
 * The message names the whole URL path and the expiry with a separator
 * neither can contain, so a signature for one file or one lifetime never
 * verifies for another.  sextant-api verifies the URL and hands the file to
 * nginx (X-Accel-Redirect); nothing else reads the key.
 */
#include "sx.h"

/* Why a URL was refused (ARTURL_OK when it was not). */
enum arturl_check {
	ARTURL_OK = 0,
	ARTURL_BAD_PATH,   /* not a plain relative path of safe characters */
	ARTURL_BAD_SIG,    /* missing or wrong signature, or no key configured */
	ARTURL_EXPIRED,    /* expires is in the past (or not a number) */
};

/*
 * True when path is a relative artifact path nginx may be pointed at: one
 * or more segments of [A-Za-z0-9._-], none empty and none starting with a
 * dot (so no "..", no hidden files), no leading slash, no percent signs or
 * other characters a decoder could turn into a separator.
 */
bool arturl_path_safe(const char *path);

/*
 * The signed URL of path under base, valid until now + ttl, or NULL when
 * path is NULL, key is NULL/empty (signing disabled) or path is not safe.
 * Caller frees.
 */
char *arturl_sign(const char *base, const char *key, long long ttl, long long now,
		  const char *path);

/*
 * Checks a request for path (relative, as in the URL after /artifacts/)
 * with the expires and sig query values (may be NULL) at unix time now.
 * expires must be spelled as arturl_sign spells it (decimal digits, no
 * sign, no leading zero), else ARTURL_BAD_SIG: one URL, one spelling.
 * The signature is compared in constant time.
 */
enum arturl_check arturl_verify(const char *key, const char *path, const char *expires,
				const char *sig, long long now);

/* The Content-Type of an artifact file, from its extension. */
const char *arturl_content_type(const char *path);
#endif
