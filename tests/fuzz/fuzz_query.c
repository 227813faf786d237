/*
 * Fuzzes the query-string parser of sextant-api, http_query_next()
 * (fcgi/request.c), the way the handlers call it: the first line of the
 * input is a key, the rest the raw query string; the key and every key the
 * API reads (page, page_size, order, task_status, expires, sig) are looked up
 * with small and large output buffers, repeated keys iterated to the end.
 *
 * Beyond "no crash" it checks:
 *  - the value is NUL-terminated inside the buffer, and *truncated is set
 *    exactly when it filled the buffer and there was more;
 *  - iteration makes progress: each returned position lies after the
 *    previous one and within the string, and there are at most as many
 *    matches as '&'-separated parts;
 *  - the value is the decoding of the raw text after '=' (%XX decoded,
 *    '+' a space), cut to the buffer.  A query holding %00 is skipped:
 *    router_dispatch (fcgi/router.c) refuses it before any handler runs.
 */
#include <ctype.h>
#include <string.h>
#include "fuzz.h"
#include "request.h"

/* The bounds [*start, *end) of the part of query that ended just before p. */
static void matched_part(const char *from, const char *p, const char **start, const char **end)
{
	*end = p[-1] == '&' ? p - 1 : p;
	*start = *end;
	while (*start > from && (*start)[-1] != '&')
		(*start)--;
}

/*
 * The value the query's contract promises, written out independently: %XX
 * decoded, '+' a space; *len its length.  Caller frees.  (%00 never
 * reaches here: see LLVMFuzzerTestOneInput.)
 */
static char *expected_value(const char *raw, size_t n, size_t *len)
{
	char *out = xmalloc(n + 1), hex[3] = "";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned long v = 0;

		if (raw[i] == '%' && i + 2 < n && isxdigit((unsigned char)raw[i + 1]) &&
		    isxdigit((unsigned char)raw[i + 2])) {
			memcpy(hex, raw + i + 1, 2);
			v = strtoul(hex, NULL, 16);
		}
		if (v) {
			out[o++] = (char)v;
			i += 2;
		} else {
			out[o++] = raw[i] == '+' ? ' ' : raw[i];
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

/* The value read from the part [start, end) is its decoding, cut to the buffer. */
static void check_value(const char *start, const char *end, const char *out, size_t outlen,
			bool trunc)
{
	const char *eq = memchr(start, '=', (size_t)(end - start));
	size_t rawlen = eq ? (size_t)(end - eq - 1) : 0, wantlen = 0;
	char *want = expected_value(eq ? eq + 1 : "", rawlen, &wantlen);
	size_t vlen = strlen(out);

	FUZZ_CHECK(trunc == (wantlen > outlen - 1), "truncated=%d for %zu bytes in %zu",
		   trunc, wantlen, outlen);
	FUZZ_CHECK(vlen == (trunc ? outlen - 1 : wantlen) && memcmp(out, want, vlen) == 0,
		   "value '%.*s' read as '%s' (%zu bytes, want %zu)", (int)rawlen,
		   eq ? eq + 1 : "", out, vlen, wantlen);
	free(want);
}

static void check_key(const char *query, const char *key, size_t outlen)
{
	char out[1024];
	const char *p = query, *prev = query, *start, *end;
	size_t qlen = strlen(query), parts = 1, matches = 0;
	bool trunc = true;

	for (const char *c = query; *c; c++)
		parts += *c == '&';
	while ((p = http_query_next(p, key, out, outlen, &trunc)) != NULL) {
		size_t vlen = strnlen(out, outlen);

		matches++;
		FUZZ_CHECK(vlen < outlen, "value not NUL-terminated in %zu bytes", outlen);
		FUZZ_CHECK(p > prev && p <= query + qlen, "no progress at offset %td", p - query);
		FUZZ_CHECK(matches <= parts, "%zu matches for %zu parts", matches, parts);
		FUZZ_CHECK(!trunc || vlen == outlen - 1, "truncated but %zu of %zu bytes", vlen,
			   outlen);
		matched_part(prev, p, &start, &end);
		check_value(start, end, out, outlen, trunc);
		prev = p;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"page", "page_size", "order", "task_status", "expires", "sig",
	};
	static const size_t outlens[] = { 1, 2, 8, 64, 1024 };
	char *key = NULL, *query = NULL;
	const uint8_t *rest;
	size_t restlen;

	fuzz_first_line(data, size, &key, &rest, &restlen);
	query = xstrndup((const char *)rest, restlen);
	/* router_dispatch answers 400 to any target holding %00 before a handler reads it. */
	if (strstr(query, "%00"))
		goto out;
	for (size_t i = 0; i < SX_ARRAY_LEN(outlens); i++) {
		check_key(query, key, outlens[i]);
		for (size_t k = 0; k < SX_ARRAY_LEN(keys); k++)
			check_key(query, keys[k], outlens[i]);
	}
out:
	free(key);
	free(query);
	return 0;
}
