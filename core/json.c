/*
 * JSON helpers (see json.h): strict, capped parsing of outside input and
 * typed member getters.
 */
#include <limits.h>
#include <math.h>
#include "sx.h"
#include "json.h"

/*
 * The strict checker.  json-c's parser is lenient even in strict mode (it
 * takes `1.`, `-.5` and `[0.]`, and re-emits their original text), so every
 * outside text is first checked against RFC 8259's grammar here, byte by
 * byte, without allocating.  Recursion is bounded by max_depth, itself
 * bounded by JSON_DEPTH_CAP.
 */
#define JSON_DEPTH_CAP 512

/* A cursor over the text being checked, and the first problem found in it. */
struct json_scan {
	const unsigned char *s;
	size_t len;
	size_t pos;
	int depth;
	int max_depth;
	const char *problem;   /* NULL while the text is fine */
	size_t at;             /* offset of the problem */
};

/* Records the first problem at the cursor; returns false for the caller to pass on. */
static bool scan_fail(struct json_scan *sc, const char *problem)
{
	if (!sc->problem) {
		sc->problem = problem;
		sc->at = sc->pos;
	}
	return false;
}

/* The byte at the cursor, or -1 at the end of the text. */
static int scan_peek(const struct json_scan *sc)
{
	return sc->pos < sc->len ? sc->s[sc->pos] : -1;
}

static void scan_ws(struct json_scan *sc)
{
	int c = scan_peek(sc);

	while (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
		sc->pos++;
		c = scan_peek(sc);
	}
}

static bool scan_literal(struct json_scan *sc, const char *word)
{
	size_t n = strlen(word);
	bool ok = sc->len - sc->pos >= n && memcmp(sc->s + sc->pos, word, n) == 0;

	if (ok)
		sc->pos += n;
	else
		scan_fail(sc, "not a JSON value");
	return ok;
}

/* Steps over a run of decimal digits; returns how many there were. */
static size_t scan_digits(struct json_scan *sc)
{
	size_t start = sc->pos;

	while (scan_peek(sc) >= '0' && scan_peek(sc) <= '9')
		sc->pos++;
	return sc->pos - start;
}

/*
 * True when the integer text (an optional '-', then digits without a
 * leading zero) fits json-c's integers, [-2^63, 2^64 - 1]; json-c would
 * silently clamp a larger one to the nearest bound.
 */
static bool int_text_fits(const unsigned char *s, size_t n)
{
	static const char min_digits[] = "9223372036854775808";
	static const char max_digits[] = "18446744073709551615";
	const char *limit = max_digits;
	size_t limit_len = sizeof(max_digits) - 1;

	if (n > 0 && s[0] == '-') {
		s++;
		n--;
		limit = min_digits;
		limit_len = sizeof(min_digits) - 1;
	}
	return n < limit_len || (n == limit_len && memcmp(s, limit, n) <= 0);
}

/* number = [ minus ] int [ frac ] [ exp ] (RFC 8259, section 6). */
static bool scan_number(struct json_scan *sc)
{
	size_t start = sc->pos;
	bool integer = true, ok = true;

	if (scan_peek(sc) == '-')
		sc->pos++;
	if (scan_peek(sc) == '0') {
		sc->pos++;
		if (scan_peek(sc) >= '0' && scan_peek(sc) <= '9')
			ok = scan_fail(sc, "leading zero in a number");
	} else if (scan_digits(sc) == 0) {
		ok = scan_fail(sc, "no digit in a number");
	}
	if (ok && scan_peek(sc) == '.') {
		sc->pos++;
		integer = false;
		if (scan_digits(sc) == 0)
			ok = scan_fail(sc, "no digit after the decimal point");
	}
	if (ok && (scan_peek(sc) == 'e' || scan_peek(sc) == 'E')) {
		sc->pos++;
		integer = false;
		if (scan_peek(sc) == '+' || scan_peek(sc) == '-')
			sc->pos++;
		if (scan_digits(sc) == 0)
			ok = scan_fail(sc, "no digit in the exponent");
	}
	if (ok && integer && !int_text_fits(sc->s + start, sc->pos - start)) {
		sc->pos = start;
		ok = scan_fail(sc, "integer out of range");
	}
	return ok;
}

/* Reads four hex digits into *out. */
static bool scan_hex4(struct json_scan *sc, unsigned *out)
{
	unsigned v = 0;
	int c, i;
	bool ok = true;

	for (i = 0; i < 4 && ok; i++) {
		c = sx_hex_value(scan_peek(sc));
		if (c >= 0)
			v = v * 16 + (unsigned)c;
		else
			ok = scan_fail(sc, "bad \\u escape");
		if (ok)
			sc->pos++;
	}
	*out = v;
	return ok;
}

/*
 * One escape, the cursor on its backslash.  \u0000 is refused: json-c keeps
 * object keys as C strings, so a NUL would truncate a key and could make it
 * collide with another.  A UTF-16 surrogate must come as a high-low pair.
 */
static bool scan_escape(struct json_scan *sc)
{
	unsigned u = 0, low = 0;
	bool ok = true;
	int c;

	sc->pos++;
	c = scan_peek(sc);
	if (c > 0 && c != 'u' && strchr("\"\\/bfnrt", c)) {
		sc->pos++;
	} else if (c != 'u') {
		ok = scan_fail(sc, "bad escape");
	} else {
		sc->pos++;
		ok = scan_hex4(sc, &u);
		if (ok && u == 0)
			ok = scan_fail(sc, "\\u0000 escape in a string");
		if (ok && u >= 0xDC00 && u <= 0xDFFF)
			ok = scan_fail(sc, "lone UTF-16 surrogate");
		if (ok && u >= 0xD800 && u <= 0xDBFF) {
			if (sc->len - sc->pos < 2 || sc->s[sc->pos] != '\\' || sc->s[sc->pos + 1] != 'u')
				ok = scan_fail(sc, "lone UTF-16 surrogate");
			if (ok) {
				sc->pos += 2;
				ok = scan_hex4(sc, &low);
			}
			if (ok && (low < 0xDC00 || low > 0xDFFF))
				ok = scan_fail(sc, "lone UTF-16 surrogate");
		}
	}
	return ok;
}

/*
 * One multi-byte UTF-8 character (RFC 3629), the cursor on its lead byte:
 * no overlong form (C0 80 is a NUL in disguise), no UTF-16 surrogate, no
 * code point above U+10FFFF, no truncated sequence.
 */
static bool scan_utf8(struct json_scan *sc)
{
	const unsigned char *s = sc->s + sc->pos;
	size_t left = sc->len - sc->pos, n = 0, j;
	uint32_t cp = 0, min = 0;
	bool ok = true;

	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 1;
		cp = s[0] & 0x1Fu;
		min = 0x80;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		n = 2;
		cp = s[0] & 0x0Fu;
		min = 0x800;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 3;
		cp = s[0] & 0x07u;
		min = 0x10000;
	} else {
		ok = false;
	}
	for (j = 1; ok && j <= n; j++) {
		ok = j < left && (s[j] & 0xC0) == 0x80;
		if (ok)
			cp = (cp << 6) | (s[j] & 0x3Fu);
	}
	if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)))
		ok = false;
	if (ok)
		sc->pos += n + 1;
	else
		scan_fail(sc, "invalid UTF-8");
	return ok;
}

/* A string, the cursor on its opening quote. */
static bool scan_string(struct json_scan *sc)
{
	bool ok = true, closed = false;
	int c;

	sc->pos++;
	while (ok && !closed) {
		c = scan_peek(sc);
		if (c == -1) {
			ok = scan_fail(sc, "unterminated string");
		} else if (c == '"') {
			sc->pos++;
			closed = true;
		} else if (c < 0x20) {
			ok = scan_fail(sc, c == 0 ? "NUL byte in a string" : "control character in a string");
		} else if (c == '\\') {
			ok = scan_escape(sc);
		} else if (c >= 0x80) {
			ok = scan_utf8(sc);
		} else {
			sc->pos++;
		}
	}
	return ok;
}

static bool scan_value(struct json_scan *sc);

/*
 * The members of an object or the elements of an array, the cursor just
 * past the opening bracket; `close` is '}' or ']'.
 */
static bool scan_members(struct json_scan *sc, int close)
{
	bool ok = true, done = false;

	scan_ws(sc);
	if (scan_peek(sc) == close) {
		sc->pos++;
		done = true;
	}
	while (ok && !done) {
		if (close == '}') {
			scan_ws(sc);
			ok = scan_peek(sc) == '"' ? scan_string(sc) : scan_fail(sc, "expected a member name");
			scan_ws(sc);
			if (ok && scan_peek(sc) != ':')
				ok = scan_fail(sc, "expected ':'");
			if (ok)
				sc->pos++;
		}
		ok = ok && scan_value(sc);
		scan_ws(sc);
		if (ok && scan_peek(sc) == close) {
			sc->pos++;
			done = true;
		} else if (ok && scan_peek(sc) == ',') {
			sc->pos++;
		} else if (ok) {
			ok = scan_fail(sc, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	return ok;
}

/* One value with the whitespace before it. */
static bool scan_value(struct json_scan *sc)
{
	bool ok;
	int c;

	scan_ws(sc);
	c = scan_peek(sc);
	if (c == '{' || c == '[') {
		if (sc->depth >= sc->max_depth) {
			ok = scan_fail(sc, "nested too deep");
		} else {
			sc->pos++;
			sc->depth++;
			ok = scan_members(sc, c == '{' ? '}' : ']');
			sc->depth--;
		}
	} else if (c == '"') {
		ok = scan_string(sc);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		ok = scan_number(sc);
	} else if (c == 't') {
		ok = scan_literal(sc, "true");
	} else if (c == 'f') {
		ok = scan_literal(sc, "false");
	} else if (c == 'n') {
		ok = scan_literal(sc, "null");
	} else {
		ok = scan_fail(sc, c == -1 ? "unexpected end of input" : "not a JSON value");
	}
	return ok;
}

static void json_set_err(char *err, size_t errlen, const char *msg, size_t offset, bool with_offset)
{
	if (!err || !errlen)
		return;
	if (with_offset)
		snprintf(err, errlen, "%s at offset %zu", msg, offset);
	else
		snprintf(err, errlen, "%s", msg);
}

static int json_depth_or_default(int max_depth)
{
	if (max_depth <= 0)
		return SX_JSON_MAX_DEPTH;
	return max_depth < JSON_DEPTH_CAP ? max_depth : JSON_DEPTH_CAP;
}

enum sx_rc sx_json_check(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	struct json_scan sc = { .s = (const unsigned char *)text, .len = text ? len : 0,
				.max_depth = json_depth_or_default(max_depth) };
	enum sx_rc rc = SX_OK;

	if (err && errlen)
		err[0] = '\0';
	if (scan_value(&sc)) {
		scan_ws(&sc);
		if (sc.pos < sc.len)
			scan_fail(&sc, "unexpected data after the JSON value");
	}
	if (sc.problem) {
		json_set_err(err, errlen, sc.problem, sc.at, true);
		rc = SX_EINVAL;
	}
	return rc;
}

/*
 * The shortest decimal text that reads back as d, laid out as Python's
 * repr() does (positional from 1e-4 to 1e16, else with an exponent), with
 * a '.' or an exponent so that it reads back as a double, not an integer.
 * size must be at least 40.
 */
static void json_double_text(double d, char *buf, size_t size)
{
	const char *e;
	long exp10;
	int prec;

	for (prec = 0; prec <= 16; prec++) {
		snprintf(buf, size, "%.*e", prec, d);
		if (prec == 16 || strtod(buf, NULL) == d)
			break;
	}
	e = strchr(buf, 'e');
	exp10 = e ? strtol(e + 1, NULL, 10) : 0;
	if (exp10 >= -4 && exp10 < 16)
		snprintf(buf, size, "%.*f", prec > exp10 ? prec - (int)exp10 : 0, d);
	if (!strpbrk(buf, ".e"))
		snprintf(buf + strlen(buf), size - strlen(buf), ".0");
}

/*
 * After the checker and json-c: no number may be infinite (1e400 is
 * grammatical but overflows), and every double is re-serialized from its
 * value, never from the client's text (json-c keeps that text and would
 * emit it again).  Recursion is bounded by the depth limit.
 */
static const char *json_tree_settle(json_object *o)
{
	const char *problem = NULL;
	char text[48];
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_double:
		if (!isfinite(json_object_get_double(o))) {
			problem = "number out of range";
			break;
		}
		json_double_text(json_object_get_double(o), text, sizeof(text));
		json_object_set_serializer(o, json_object_userdata_to_json_string, xstrdup(text),
					   json_object_free_userdata);
		break;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n && !problem; i++)
			problem = json_tree_settle(json_object_array_get_idx(o, i));
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			(void)key;
			problem = json_tree_settle(val);
			if (problem)
				break;
		}
		break;
	}
	default:
		break;
	}
	return problem;
}

/*
 * json-c's half of both parsers: text[0..len) into a tree nested at most
 * max_depth deep, then settled (json_tree_settle).  NULL with err filled
 * when either refuses.
 */
static json_object *json_c_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	struct json_tokener *tok = NULL;
	json_object *obj = NULL;
	const char *problem = NULL;

	/* json-c's depth counts the top level too: N allows N - 1 nested containers. */
	tok = json_tokener_new_ex(max_depth + 1);
	if (!tok) {
		fputs("sextant: out of memory creating a JSON tokener\n", stderr);
		abort();
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	if (!obj && json_tokener_get_error(tok) == json_tokener_continue) {
		/*
		 * A top-level number or literal is complete only at the end
		 * of input; a terminating NUL tells the tokener so.
		 */
		obj = json_tokener_parse_ex(tok, "", 1);
	}
	if (!obj) {
		json_set_err(err, errlen, json_tokener_error_desc(json_tokener_get_error(tok)), 0, false);
		goto out;
	}
	problem = json_tree_settle(obj);
	if (problem) {
		json_set_err(err, errlen, problem, 0, false);
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
out:
	json_tokener_free(tok);
	return obj;
}

/* Checks the arguments common to both parsers; false with err filled when they are unusable. */
static bool json_input_ok(const char *text, size_t len, char *err, size_t errlen)
{
	bool ok = true;

	if (err && errlen)
		err[0] = '\0';
	if (!text) {
		json_set_err(err, errlen, "no input", 0, false);
		ok = false;
	} else if (len >= INT_MAX) {
		json_set_err(err, errlen, "input too large", 0, false);
		ok = false;
	}
	return ok;
}

json_object *sx_json_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	json_object *obj = NULL;

	max_depth = json_depth_or_default(max_depth);
	if (json_input_ok(text, len, err, errlen) &&
	    sx_json_check(text, len, max_depth, err, errlen) == SX_OK)
		obj = json_c_parse(text, len, max_depth, err, errlen);
	return obj;
}

json_object *sx_json_parse_stored(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	json_object *obj = NULL;

	max_depth = json_depth_or_default(max_depth);
	if (json_input_ok(text, len, err, errlen))
		obj = json_c_parse(text, len, max_depth, err, errlen);
	if (!obj && err && errlen && !err[0])
		json_set_err(err, errlen, "not JSON", 0, false);
	return obj;
}

json_object *sx_json_member(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v))
		v = NULL;
	return v;
}

const char *sx_json_member_text(json_object *o, const char *key)
{
	json_object *v = sx_json_member(o, key);

	return v ? json_object_get_string(v) : NULL;
}

const char *sx_json_string(json_object *o, const char *key)
{
	json_object *v = sx_json_member(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

long long sx_json_int(json_object *o, const char *key, long long def)
{
	json_object *v = sx_json_member(o, key);

	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : def;
}

bool sx_json_bool(json_object *o, const char *key)
{
	json_object *v = sx_json_member(o, key);

	return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

json_object *sx_json_string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}
