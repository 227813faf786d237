/*
 * JSON helpers (see json.h): strict, capped parsing of outside input and
 * typed member getters.
 */
#include <limits.h>
#include <math.h>
#include "sx.h"
#include "json.h"

/*
 * json-c stores object keys as C strings, so a key holding \u0000 would be
 * silently truncated and could collide with another key.  Escapes occur
 * only inside strings, so scanning the raw text for a \u0000 escape (while
 * stepping over every other escape, so `\\u0000` is not misread) finds
 * them in keys and values alike.
 */
static bool json_text_has_nul_escape(const char *s, size_t len)
{
	bool found = false;
	size_t i;

	for (i = 0; i + 1 < len && !found; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && len - i >= 6 && memcmp(s + i + 2, "0000", 4) == 0)
			found = true;
		i++;
	}
	return found;
}

/*
 * Strict UTF-8 (RFC 3629): json-c's own check lets through overlong forms
 * (C0 80, a NUL in disguise), UTF-16 surrogates and code points above
 * U+10FFFF, which MariaDB's utf8mb4 would then refuse.  Returns the offset
 * of the first bad byte, or len when all is well.
 */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0, n, j;
	uint32_t cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xC2 && s[i] <= 0xDF) {
			n = 1;
			cp = s[i] & 0x1Fu;
			min = 0x80;
		} else if (s[i] >= 0xE0 && s[i] <= 0xEF) {
			n = 2;
			cp = s[i] & 0x0Fu;
			min = 0x800;
		} else if (s[i] >= 0xF0 && s[i] <= 0xF4) {
			n = 3;
			cp = s[i] & 0x07u;
			min = 0x10000;
		} else {
			break;
		}
		if (len - i - 1 < n)
			break;
		for (j = 1; j <= n && (s[i + j] & 0xC0) == 0x80; j++)
			cp = (cp << 6) | (s[i + j] & 0x3Fu);
		if (j <= n || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			break;
		i += n + 1;
	}
	return i;
}

/*
 * Second line of defence after the raw scan: no string value may hold an
 * embedded NUL, and no number may be NaN or infinite (json-c accepts NaN
 * and overflows 1e400 to infinity, neither of which is JSON).  Recursion is
 * bounded by the tokener's depth limit.
 */
static const char *json_tree_problem(json_object *o)
{
	const char *problem = NULL;
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_string:
		if ((size_t)json_object_get_string_len(o) != strlen(json_object_get_string(o)))
			problem = "NUL character in a string";
		break;
	case json_type_double:
		if (!isfinite(json_object_get_double(o)))
			problem = "number out of range";
		break;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n && !problem; i++)
			problem = json_tree_problem(json_object_array_get_idx(o, i));
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			(void)key;
			problem = json_tree_problem(val);
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

static void json_set_err(char *err, size_t errlen, const char *msg, size_t offset, bool with_offset)
{
	if (!err || !errlen)
		return;
	if (with_offset)
		snprintf(err, errlen, "%s at offset %zu", msg, offset);
	else
		snprintf(err, errlen, "%s", msg);
}

json_object *sx_json_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	struct json_tokener *tok = NULL;
	json_object *obj = NULL;
	enum json_tokener_error jerr;
	const char *problem = NULL;
	const char *nul;
	size_t end = len, i;

	if (err && errlen)
		err[0] = '\0';
	if (!text) {
		json_set_err(err, errlen, "no input", 0, false);
		goto out;
	}
	if (len >= INT_MAX) {
		json_set_err(err, errlen, "input too large", 0, false);
		goto out;
	}
	nul = memchr(text, '\0', len);
	if (nul) {
		json_set_err(err, errlen, "NUL byte in input", (size_t)(nul - text), true);
		goto out;
	}
	i = utf8_invalid_at((const unsigned char *)text, len);
	if (i < len) {
		json_set_err(err, errlen, "invalid UTF-8", i, true);
		goto out;
	}
	if (json_text_has_nul_escape(text, len)) {
		json_set_err(err, errlen, "\\u0000 escape in a string", 0, false);
		goto out;
	}
	/* json-c's depth counts the top level too: N allows N - 1 nested containers. */
	tok = json_tokener_new_ex(max_depth > 0 && max_depth < INT_MAX ? max_depth + 1
								     : JSON_TOKENER_DEFAULT_DEPTH);
	if (!tok) {
		fputs("sextant: out of memory creating a JSON tokener\n", stderr);
		abort();
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!obj && jerr == json_tokener_continue) {
		/*
		 * A top-level number or literal is complete only at the end
		 * of input; a terminating NUL tells the tokener so.
		 */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	} else {
		end = json_tokener_get_parse_end(tok);
	}
	if (!obj) {
		json_set_err(err, errlen, json_tokener_error_desc(jerr),
			     end < len ? end : len, true);
		goto out;
	}
	for (i = end; i < len; i++) {
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r') {
			json_set_err(err, errlen, "unexpected data after the JSON value", i, true);
			json_object_put(obj);
			obj = NULL;
			goto out;
		}
	}
	problem = json_tree_problem(obj);
	if (problem) {
		json_set_err(err, errlen, problem, 0, false);
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
out:
	if (tok)
		json_tokener_free(tok);
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
