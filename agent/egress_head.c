/*
 * Proxy request heads (see egress_head.h).
 */
#include <ctype.h>
#include <strings.h>

#include "sx.h"
#include "egress_head.h"

size_t egress_head_end(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return i + 1;
	return 0;
}

static bool token_char(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

bool egress_authority_parse(const char *s, size_t len, unsigned def, char host[EGRESS_HOST_MAX],
			    unsigned *port_out)
{
	size_t h = 0, hlen, p;
	long long port = def;
	bool ok = false;

	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close || close == s + 1)
			goto out;
		h = 1;
		hlen = (size_t)(close - s) - 1;
		p = hlen + 2;
		for (size_t i = h; i < h + hlen; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
				goto out;
	} else {
		for (p = 0; p < len && name_char(s[p]); p++)
			;
		hlen = p;
	}
	if (hlen == 0 || hlen >= EGRESS_HOST_MAX)
		goto out;
	if (p < len) {
		char digits[8];

		if (s[p] != ':' || len - p - 1 == 0 || len - p - 1 >= sizeof(digits))
			goto out;
		memcpy(digits, s + p + 1, len - p - 1);
		digits[len - p - 1] = '\0';
		if (!sx_parse_ll(digits, 1, 65535, &port))
			goto out;
	}
	if (port == 0)
		goto out;
	for (size_t i = 0; i < hlen; i++)
		host[i] = (char)tolower((unsigned char)s[h + i]);
	host[hlen] = '\0';
	*port_out = (unsigned)port;
	ok = true;
out:
	return ok;
}

/* The target of a non-CONNECT request: an absolute http:// URI only. */
static bool parse_absolute(const char *head, size_t t, size_t tlen, struct egress_request *r)
{
	const char *s = head + t;
	size_t alen = 0;
	bool ok = tlen >= 8 && strncasecmp(s, "http://", 7) == 0;

	if (ok) {
		alen = strcspn(s + 7, "/?#");
		if (alen > tlen - 7)
			alen = tlen - 7;
		/* user:pass@ reads as one host and goes to another. */
		ok = !memchr(s + 7, '@', alen) && egress_authority_parse(s + 7, alen, 80, r->host, &r->port);
	}
	if (ok) {
		r->path = t + 7 + alen;
		r->path_len = tlen - 7 - alen;
		ok = r->path_len == 0 || head[r->path] != '#';
	}
	return ok;
}

/* Checks the header lines head[r->headers .. end) and notes an Upgrade. */
static bool parse_headers(const char *head, size_t end, struct egress_request *r)
{
	size_t i = r->headers;
	bool ok = true;

	while (ok && i + 2 < end) {
		const char *line = head + i;
		const char *eol = memchr(line, '\r', end - i);
		size_t n = 0;

		ok = eol && eol[1] == '\n';
		while (ok && line + n < eol && token_char(line[n]))
			n++;
		/* A name, then a colon; no folded line, no bare LF. */
		ok = ok && n > 0 && line + n < eol && line[n] == ':' &&
		     !memchr(line, '\n', (size_t)(eol - line));
		if (ok && n == 7 && strncasecmp(line, "upgrade", 7) == 0)
			r->upgrade = true;
		if (ok)
			i = (size_t)(eol - head) + 2;
	}
	return ok && i + 2 == end;
}

enum sx_rc egress_head_parse(const char *head, size_t len, struct egress_request *r,
			     char *why, size_t whylen)
{
	enum sx_rc rc = SX_EINVAL;
	const char *eol = memchr(head, '\r', len);
	size_t m, t, tlen, line_len;

	memset(r, 0, sizeof(*r));
	if (!eol || len < 4 || (size_t)(eol - head) + 2 > len || eol[1] != '\n') {
		snprintf(why, whylen, "no request line");
		goto out;
	}
	line_len = (size_t)(eol - head);
	for (m = 0; m < line_len && token_char(head[m]); m++)
		;
	if (m == 0 || m > 20 || m >= line_len || head[m] != ' ') {
		snprintf(why, whylen, "bad method");
		goto out;
	}
	t = m + 1;
	tlen = strcspn(head + t, " \r");
	if (tlen == 0 || t + tlen + 9 != line_len || head[t + tlen] != ' ' ||
	    strncmp(head + t + tlen + 1, "HTTP/1.", 7) != 0 ||
	    (head[line_len - 1] != '0' && head[line_len - 1] != '1')) {
		snprintf(why, whylen, "bad request line");
		goto out;
	}
	r->method_len = m;
	r->version = t + tlen + 1;
	r->headers = line_len + 2;
	r->end = len;
	if (m == 7 && strncmp(head, "CONNECT", 7) == 0) {
		r->kind = EGRESS_TUNNEL;
		if (!egress_authority_parse(head + t, tlen, 0, r->host, &r->port)) {
			snprintf(why, whylen, "CONNECT needs host:port");
			goto out;
		}
	} else {
		r->kind = EGRESS_FORWARD;
		if (!parse_absolute(head, t, tlen, r)) {
			snprintf(why, whylen, "a proxy request needs an absolute http:// URI");
			goto out;
		}
	}
	if (!parse_headers(head, len, r)) {
		snprintf(why, whylen, "malformed header line");
		goto out;
	}
	rc = SX_OK;
out:
	return rc;
}

void egress_authority(const char *host, unsigned port, char *out, size_t outlen)
{
	bool v6 = strchr(host, ':') != NULL;

	snprintf(out, outlen, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

/* True when the header line starts with name followed by ':'. */
static bool header_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/* Copies the header lines worth forwarding; notes whether Host was among them. */
static enum sx_rc copy_headers(const char *head, const struct egress_request *r, struct sx_buf *out,
			       bool *has_host)
{
	enum sx_rc rc = SX_OK;
	size_t i = r->headers;

	*has_host = false;
	while (rc == SX_OK && i + 2 < r->end) {
		const char *line = head + i;
		size_t n = (size_t)((const char *)memchr(line, '\r', r->end - i) - line);
		bool drop = header_is(line, n, "proxy-connection") ||
			    header_is(line, n, "proxy-authorization") ||
			    (!r->upgrade && (header_is(line, n, "connection") ||
					     header_is(line, n, "keep-alive")));

		*has_host = *has_host || header_is(line, n, "host");
		if (!drop)
			rc = sx_buf_append(out, line, n + 2);
		i += n + 2;
	}
	return rc;
}

enum sx_rc egress_head_forward(const char *head, const struct egress_request *r, bool absolute,
			       const char *proxy_auth, struct sx_buf *out)
{
	char authority[EGRESS_HOST_MAX + 16];
	bool has_host = false;
	const char *slash;
	enum sx_rc rc;

	egress_authority(r->host, r->port, authority, sizeof(authority));
	/* "http://host" and "http://host?q" have an empty path: the origin form starts with '/'. */
	slash = r->path_len == 0 || head[r->path] == '?' ? "/" : "";
	rc = sx_buf_printf(out, "%.*s %s%s%s%.*s %.8s\r\n", (int)r->method_len, head,
			   absolute ? "http://" : "", absolute ? authority : "", slash,
			   (int)r->path_len, head + r->path, head + r->version);
	if (rc == SX_OK)
		rc = copy_headers(head, r, out, &has_host);
	if (rc == SX_OK && !has_host)
		rc = sx_buf_printf(out, "Host: %s\r\n", authority);
	if (rc == SX_OK && proxy_auth)
		rc = sx_buf_printf(out, "Proxy-Authorization: %s\r\n", proxy_auth);
	if (rc == SX_OK && !r->upgrade)
		rc = sx_buf_puts(out, "Connection: close\r\n");
	if (rc == SX_OK)
		rc = sx_buf_puts(out, "\r\n");
	return rc;
}
