/*
 * Helpers shared by the fuzz targets (see fuzz.h).
 */
#include <string.h>
#include "fuzz.h"

void fuzz_first_line(const uint8_t *data, size_t size, char **line,
		     const uint8_t **rest, size_t *restlen)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t n = nl ? (size_t)(nl - data) : size;

	*line = xstrndup((const char *)data, n);
	*rest = nl ? nl + 1 : data + size;
	*restlen = nl ? size - n - 1 : 0;
}

/* A strict JSON reader over [p, end): each function advances *p or fails. */
struct jscan {
	const unsigned char *p, *end;
	int depth;
};

static bool js_value(struct jscan *s);

static void js_blank(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool js_lit(struct jscan *s, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
		return false;
	s->p += n;
	return true;
}

static size_t js_digits(struct jscan *s)
{
	size_t n = 0;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		s->p++;
		n++;
	}
	return n;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool js_number(struct jscan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (s->p >= s->end || *s->p < '1' || *s->p > '9' || !js_digits(s))
		return false;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!js_digits(s))
			return false;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!js_digits(s))
			return false;
	}
	return true;
}

static int js_hex4(struct jscan *s)
{
	int v = 0;

	if (s->end - s->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int c = *s->p++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* One UTF-8 sequence starting at s->p (a byte >= 0x80), shortest form, no surrogates. */
static bool js_utf8(struct jscan *s)
{
	unsigned c = *s->p++, need, cp, min;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 1; cp = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2; cp = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3; cp = c & 0x07; min = 0x10000;
	} else {
		return false;
	}
	for (; need; need--) {
		if (s->p >= s->end || (*s->p & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (*s->p++ & 0x3f);
	}
	return cp >= min && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
}

static bool js_escape(struct jscan *s)
{
	int u, lo;

	if (s->p >= s->end)
		return false;
	switch (*s->p++) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		return true;
	case 'u':
		u = js_hex4(s);
		if (u < 0 || (u >= 0xdc00 && u <= 0xdfff))
			return false;
		if (u < 0xd800 || u > 0xdbff)
			return true;
		if (!js_lit(s, "\\u"))
			return false;
		lo = js_hex4(s);
		return lo >= 0xdc00 && lo <= 0xdfff;
	default:
		return false;
	}
}

static bool js_string(struct jscan *s)
{
	if (!js_lit(s, "\""))
		return false;
	while (s->p < s->end && *s->p != '"') {
		if (*s->p < 0x20)
			return false;
		if (*s->p == '\\') {
			s->p++;
			if (!js_escape(s))
				return false;
		} else if (*s->p >= 0x80) {
			if (!js_utf8(s))
				return false;
		} else {
			s->p++;
		}
	}
	return js_lit(s, "\"");
}

/* The members of an object or the elements of an array, after the opener. */
static bool js_container(struct jscan *s, char close, bool object)
{
	bool ok = true;

	if (++s->depth > 5000)
		return false;
	js_blank(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		return true;
	}
	for (;;) {
		js_blank(s);
		if (object) {
			ok = js_string(s);
			js_blank(s);
			ok = ok && js_lit(s, ":");
		}
		ok = ok && js_value(s);
		js_blank(s);
		if (!ok || s->p >= s->end)
			return false;
		if (*s->p == close)
			break;
		if (*s->p != ',')
			return false;
		s->p++;
	}
	s->p++;
	s->depth--;
	return true;
}

static bool js_value(struct jscan *s)
{
	js_blank(s);
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '{':
		s->p++;
		return js_container(s, '}', true);
	case '[':
		s->p++;
		return js_container(s, ']', false);
	case '"':
		return js_string(s);
	case 't':
		return js_lit(s, "true");
	case 'f':
		return js_lit(s, "false");
	case 'n':
		return js_lit(s, "null");
	default:
		return js_number(s);
	}
}

bool fuzz_json_valid(const char *text, size_t len)
{
	struct jscan s = { (const unsigned char *)text, (const unsigned char *)text + len, 0 };
	bool ok = js_value(&s);

	js_blank(&s);
	return ok && s.p == s.end;
}
