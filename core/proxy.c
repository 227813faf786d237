/*
 * The proxy map (see proxy.h).  Parsed on every use: it is a short string
 * and a task looks it up once, so there is no parsed form to keep in sync.
 */
#include "sx.h"
#include "proxy.h"

#include <ctype.h>

/* Where the parts of a proxy URL start, as offsets into it. */
struct proxy_url {
	size_t scheme_end;   /* just past "://" */
	size_t host;         /* the host, past any credentials */
	bool credentials;
};

static bool host_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* Parses url[0..len); false with a message (which never quotes the URL) in err. */
static bool proxy_url_parse(const char *url, size_t len, struct proxy_url *u, char *err, size_t errlen)
{
	static const char *const schemes[] = { "http://", "socks5://" };
	size_t i, at = 0, end, p;
	bool ok = false;

	memset(u, 0, sizeof(*u));
	for (i = 0; i < SX_ARRAY_LEN(schemes); i++) {
		size_t n = strlen(schemes[i]);

		if (len > n && strncmp(url, schemes[i], n) == 0)
			u->scheme_end = n;
	}
	if (!u->scheme_end) {
		snprintf(err, errlen, "the URL must start with http:// or socks5://");
		goto out;
	}
	end = len;
	if (url[end - 1] == '/')
		end--;                       /* one trailing slash, no path */
	for (i = u->scheme_end; i < end; i++) {
		if (url[i] == '/' || url[i] == '?' || url[i] == '#') {
			snprintf(err, errlen, "the URL must have no path or query");
			goto out;
		}
		if (url[i] == '@')
			at = i + 1;
	}
	u->credentials = at != 0;
	p = u->host = at ? at : u->scheme_end;
	if (p < end && url[p] == '[') {
		while (p < end && url[p] != ']')
			p++;
		if (p == end || p == u->host + 1) {
			snprintf(err, errlen, "the URL has a bad IPv6 host");
			goto out;
		}
		p++;
	} else {
		while (p < end && host_char(url[p]))
			p++;
		if (p == u->host) {
			snprintf(err, errlen, "the URL has no host");
			goto out;
		}
	}
	if (p < end) {
		char port[8];
		long long v;

		if (url[p] != ':' || end - p - 1 == 0 || end - p - 1 >= sizeof(port)) {
			snprintf(err, errlen, "the URL has a bad host or port");
			goto out;
		}
		memcpy(port, url + p + 1, end - p - 1);
		port[end - p - 1] = '\0';
		if (!sx_parse_ll(port, 1, 65535, &v)) {
			snprintf(err, errlen, "the URL has a bad port");
			goto out;
		}
	}
	ok = true;
out:
	return ok;
}

/*
 * Calls fn on every LOCATION=URL pair of map until it returns false.
 * Returns false with err set when the map does not parse.
 */
static bool proxy_map_each(const char *map, bool (*fn)(const char *loc, size_t loclen, const char *url,
						      size_t urllen, void *arg),
			   void *arg, char *err, size_t errlen)
{
	const char *p = map ? map : "";
	char why[128];
	bool ok = true;

	if (strspn(p, " \t") == strlen(p))
		goto out;
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *s = p, *end = p + len, *eq;
		struct proxy_url u;

		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		eq = memchr(s, '=', (size_t)(end - s));
		if (!eq || eq == s) {
			snprintf(err, errlen, "proxy_map: every entry must be LOCATION=URL");
			ok = false;
			goto out;
		}
		for (const char *c = s; c < eq; c++) {
			if (!isupper((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_') {
				snprintf(err, errlen, "proxy_map: location '%.*s' must be upper-case letters, "
					 "digits and _", (int)(eq - s > 40 ? 40 : eq - s), s);
				ok = false;
				goto out;
			}
		}
		if (eq - s == 4 && strncmp(s, "NONE", 4) == 0) {
			snprintf(err, errlen, "proxy_map: NONE always goes direct and cannot be mapped");
			ok = false;
			goto out;
		}
		if (!proxy_url_parse(eq + 1, (size_t)(end - eq - 1), &u, why, sizeof(why))) {
			snprintf(err, errlen, "proxy_map: %.*s: %s", (int)(eq - s > 40 ? 40 : eq - s), s, why);
			ok = false;
			goto out;
		}
		if (fn && !fn(s, (size_t)(eq - s), eq + 1, (size_t)(end - eq - 1), arg))
			goto out;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
out:
	return ok;
}

struct dup_check {
	const char *seen[64];
	size_t len[64];
	size_t n;
	bool dup;
	char name[48];
};

static bool check_dup(const char *loc, size_t loclen, const char *url, size_t urllen, void *arg)
{
	struct dup_check *d = arg;

	(void)url;
	(void)urllen;
	for (size_t i = 0; i < d->n && !d->dup; i++) {
		if (d->len[i] == loclen && memcmp(d->seen[i], loc, loclen) == 0) {
			d->dup = true;
			snprintf(d->name, sizeof(d->name), "%.*s", (int)(loclen > 40 ? 40 : loclen), loc);
		}
	}
	if (!d->dup && d->n < SX_ARRAY_LEN(d->seen)) {
		d->seen[d->n] = loc;
		d->len[d->n++] = loclen;
	}
	return !d->dup;
}

bool proxy_map_valid(const char *map, char *err, size_t errlen)
{
	struct dup_check d;
	bool ok;

	memset(&d, 0, sizeof(d));
	ok = proxy_map_each(map, check_dup, &d, err, errlen);
	if (ok && d.dup) {
		snprintf(err, errlen, "proxy_map: %s is mapped twice", d.name);
		ok = false;
	}
	return ok;
}

struct lookup {
	const char *location;
	char *url;
};

static bool find_location(const char *loc, size_t loclen, const char *url, size_t urllen, void *arg)
{
	struct lookup *l = arg;

	if (strlen(l->location) == loclen && memcmp(l->location, loc, loclen) == 0)
		l->url = xstrndup(url, urllen);
	return l->url == NULL;            /* stop at the first match */
}

char *proxy_map_lookup(const char *map, const char *location)
{
	struct lookup l = { location, NULL };
	char err[160];

	if (location && strcmp(location, "NONE") != 0 &&
	    !proxy_map_each(map, find_location, &l, err, sizeof(err))) {
		free(l.url);
		l.url = NULL;
	}
	return l.url;
}

bool proxy_url_has_credentials(const char *url)
{
	struct proxy_url u;
	char err[128];

	return url && proxy_url_parse(url, strlen(url), &u, err, sizeof(err)) && u.credentials;
}

char *proxy_url_strip_credentials(const char *url)
{
	struct proxy_url u;
	char err[128];
	char *s = NULL;

	if (url && proxy_url_parse(url, strlen(url), &u, err, sizeof(err)))
		s = xasprintf("%.*s%s", (int)u.scheme_end, url, url + u.host);
	else if (url)
		s = xstrdup("(invalid proxy URL)");   /* never echo what may hold a password */
	return s;
}

/* Percent-decodes s[0..n) into a new string. */
static char *pct_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    sx_hex_value(s[i + 1]) >= 0 && sx_hex_value(s[i + 2]) >= 0) {
			out[o++] = (char)(sx_hex_value(s[i + 1]) * 16 + sx_hex_value(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

bool proxy_url_credentials(const char *url, char **user, char **pass)
{
	struct proxy_url u;
	char err[128];
	const char *c, *colon;
	size_t n;

	*user = *pass = NULL;
	if (!url || !proxy_url_parse(url, strlen(url), &u, err, sizeof(err)) || !u.credentials)
		return false;
	/* The credentials are url[scheme_end .. host - 1), before the '@'. */
	c = url + u.scheme_end;
	n = u.host - u.scheme_end - 1;
	colon = memchr(c, ':', n);
	*user = pct_decode(c, colon ? (size_t)(colon - c) : n);
	*pass = colon ? pct_decode(colon + 1, n - (size_t)(colon - c) - 1) : xstrdup("");
	return true;
}

bool proxy_url_is_socks(const char *url)
{
	return url && strncmp(url, "socks5://", 9) == 0;
}
