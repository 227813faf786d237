/*
 * The strict JSON Schema subset of jschema.h.  The walk keeps two
 * locations: the JSON pointer of the value being checked (for the message)
 * and the schema location it is checked against ("#/components/…", moved
 * by every $ref).  The first failure stops the walk, except inside anyOf
 * and oneOf, where the alternative that got furthest into the value
 * explains the failure best.
 */
#include "sx.h"
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include "jschema.h"

#define JS_MAX_DEPTH 64
#define JS_PTR_MAX 512
#define JS_MSG_MAX 1024

struct js {
	json_object *root;
	char ptr[JS_PTR_MAX];     /* the value's JSON pointer */
	const char *where;        /* the schema location of the last $ref */
	char msg[JS_MSG_MAX];
	size_t fail_len;          /* how deep into the value the failure was */
	int depth;
};

static bool js_value(struct js *c, json_object *schema, json_object *v);

static bool js_fail(struct js *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool js_fail(struct js *c, const char *fmt, ...)
{
	char what[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(c->msg, sizeof(c->msg), "%.300s: %.560s (at %.150s)", c->ptr[0] ? c->ptr : "(the body)",
		 what, c->where);
	c->fail_len = strlen(c->ptr);
	return false;
}

/* Short JSON text of v for a message. */
static const char *js_show(json_object *v, char *buf, size_t len)
{
	const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	snprintf(buf, len, "%s", s ? s : "null");
	if (strlen(s ? s : "") >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

/* Appends one reference token to the pointer, escaped as RFC 6901 says; returns the old length. */
static size_t js_push(struct js *c, const char *token)
{
	size_t old = strlen(c->ptr), n = old;

	for (const char *p = token; *p && n + 3 < sizeof(c->ptr); p++) {
		if (p == token)
			c->ptr[n++] = '/';
		if (*p == '~' || *p == '/') {
			c->ptr[n++] = '~';
			c->ptr[n++] = *p == '~' ? '0' : '1';
		} else {
			c->ptr[n++] = *p;
		}
	}
	if (!*token && n + 1 < sizeof(c->ptr))
		c->ptr[n++] = '/';
	c->ptr[n] = '\0';
	return old;
}

static const char *js_type_of(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_double: return "number";
	case json_type_int: return "integer";
	case json_type_object: return "object";
	case json_type_array: return "array";
	case json_type_string: return "string";
	}
	return "?";
}

static bool js_is(json_object *v, const char *type)
{
	const char *t = js_type_of(v);
	double d;

	if (strcmp(type, t) == 0)
		return true;
	if (strcmp(type, "number") == 0)
		return strcmp(t, "integer") == 0;
	if (strcmp(type, "integer") == 0 && strcmp(t, "number") == 0) {
		d = json_object_get_double(v);
		return isfinite(d) && d == floor(d);
	}
	return false;
}

/* Resolves "#/a/b" in the document (with ~0 and ~1 unescaped); NULL when it names nothing. */
static json_object *js_resolve(json_object *root, const char *ref)
{
	json_object *at = root;
	char tok[256];

	if (strncmp(ref, "#", 1) != 0)
		return NULL;
	for (const char *p = ref + 1; at && *p == '/'; ) {
		size_t n = 0;

		for (p++; *p && *p != '/' && n + 1 < sizeof(tok); p++) {
			if (*p == '~' && (p[1] == '0' || p[1] == '1'))
				tok[n++] = *++p == '0' ? '~' : '/';
			else
				tok[n++] = *p;
		}
		tok[n] = '\0';
		if (!json_object_object_get_ex(at, tok, &at))
			at = NULL;
	}
	return at;
}

/* The keywords the checker applies, then those it knows to be annotations. */
static bool js_keyword_known(const char *k)
{
	static const char *const known[] = {
		"$ref", "type", "enum", "const", "properties", "required", "additionalProperties",
		"items", "minItems", "maxItems", "minimum", "maximum", "minLength", "maxLength",
		"pattern", "anyOf", "oneOf", "allOf",
		"description", "title", "format", "examples", "default", "deprecated", "$comment",
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(k, known[i]) == 0)
			return true;
	return false;
}

static bool js_type(struct js *c, json_object *type, json_object *v)
{
	char buf[160];

	if (json_object_is_type(type, json_type_string))
		return js_is(v, json_object_get_string(type)) ||
		       js_fail(c, "expected %s, got %s", json_object_get_string(type), js_type_of(v));
	for (size_t i = 0; i < json_object_array_length(type); i++)
		if (js_is(v, json_object_get_string(json_object_array_get_idx(type, i))))
			return true;
	return js_fail(c, "expected %s, got %s", js_show(type, buf, sizeof(buf)), js_type_of(v));
}

static bool js_enum(struct js *c, json_object *schema, json_object *v)
{
	json_object *e = NULL;
	char a[160], b[400];

	if (json_object_object_get_ex(schema, "const", &e) && !json_object_equal(e, v))
		return js_fail(c, "%s is not %s", js_show(v, a, sizeof(a)), js_show(e, b, sizeof(b)));
	if (!json_object_object_get_ex(schema, "enum", &e))
		return true;
	for (size_t i = 0; i < json_object_array_length(e); i++)
		if (json_object_equal(json_object_array_get_idx(e, i), v))
			return true;
	return js_fail(c, "%s is not one of %s", js_show(v, a, sizeof(a)), js_show(e, b, sizeof(b)));
}

/* Code points of a UTF-8 string (JSON Schema counts characters, not bytes). */
static size_t js_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/*
 * The compiled form of a pattern of the document, compiled once: compiling
 * costs more than the rest of a check.  Keyed by the pattern's text, which
 * the document owns for the life of the process; a mutex, because the load
 * tests check answers from several threads.  NULL when it does not compile.
 */
static const regex_t *js_regex(const char *pattern)
{
	static struct { const char *pattern; regex_t re; bool ok; } cache[64];
	static size_t used;
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	const regex_t *re = NULL;
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < used && cache[i].pattern != pattern; i++)
		;
	if (i == used && used < SX_ARRAY_LEN(cache)) {
		cache[i].pattern = pattern;
		cache[i].ok = regcomp(&cache[i].re, pattern, REG_EXTENDED | REG_NOSUB) == 0;
		used++;
	}
	if (i < used && cache[i].ok)
		re = &cache[i].re;
	pthread_mutex_unlock(&lock);
	return re;
}

static bool js_string(struct js *c, json_object *schema, json_object *v)
{
	const char *s = json_object_get_string(v);
	json_object *k = NULL;
	const regex_t *re;

	if (json_object_object_get_ex(schema, "minLength", &k) && (long long)js_chars(s) < json_object_get_int64(k))
		return js_fail(c, "shorter than %lld characters", (long long)json_object_get_int64(k));
	if (json_object_object_get_ex(schema, "maxLength", &k) && (long long)js_chars(s) > json_object_get_int64(k))
		return js_fail(c, "longer than %lld characters", (long long)json_object_get_int64(k));
	if (!json_object_object_get_ex(schema, "pattern", &k))
		return true;
	re = js_regex(json_object_get_string(k));
	if (!re)
		return js_fail(c, "the schema's pattern %s does not compile (or too many patterns)",
			       json_object_get_string(k));
	if (regexec(re, s, 0, NULL, 0) != 0)
		return js_fail(c, "\"%.200s\" does not match %s", s, json_object_get_string(k));
	return true;
}

static bool js_number(struct js *c, json_object *schema, json_object *v)
{
	json_object *k = NULL;
	double d = json_object_get_double(v);

	if (json_object_object_get_ex(schema, "minimum", &k) && d < json_object_get_double(k))
		return js_fail(c, "%g is below the minimum %g", d, json_object_get_double(k));
	if (json_object_object_get_ex(schema, "maximum", &k) && d > json_object_get_double(k))
		return js_fail(c, "%g is above the maximum %g", d, json_object_get_double(k));
	return true;
}

static bool js_object(struct js *c, json_object *schema, json_object *v)
{
	json_object *req = NULL, *props = NULL, *extra = NULL, *sub;
	bool ok = true;

	json_object_object_get_ex(schema, "required", &req);
	for (size_t i = 0; req && i < json_object_array_length(req); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(req, i));

		if (!json_object_object_get_ex(v, name, NULL))
			return js_fail(c, "required member \"%s\" is missing", name);
	}
	json_object_object_get_ex(schema, "properties", &props);
	json_object_object_get_ex(schema, "additionalProperties", &extra);
	json_object_object_foreach(v, key, val) {
		size_t old;

		if (!props || !json_object_object_get_ex(props, key, &sub))
			sub = extra;
		if (!sub)
			continue;
		if (json_object_is_type(sub, json_type_boolean) && !json_object_get_boolean(sub))
			return js_fail(c, "member \"%s\" is not in the schema", key);
		old = js_push(c, key);
		ok = js_value(c, sub, val);
		if (ok)
			c->ptr[old] = '\0';
		if (!ok)
			break;
	}
	return ok;
}

static bool js_array(struct js *c, json_object *schema, json_object *v)
{
	json_object *k = NULL, *items = NULL;
	size_t n = json_object_array_length(v);
	char idx[24];

	if (json_object_object_get_ex(schema, "minItems", &k) && (long long)n < json_object_get_int64(k))
		return js_fail(c, "fewer than %lld items", (long long)json_object_get_int64(k));
	if (json_object_object_get_ex(schema, "maxItems", &k) && (long long)n > json_object_get_int64(k))
		return js_fail(c, "more than %lld items", (long long)json_object_get_int64(k));
	if (!json_object_object_get_ex(schema, "items", &items))
		return true;
	for (size_t i = 0; i < n; i++) {
		size_t old;

		snprintf(idx, sizeof(idx), "%zu", i);
		old = js_push(c, idx);
		if (!js_value(c, items, json_object_array_get_idx(v, i)))
			return false;
		c->ptr[old] = '\0';
	}
	return true;
}

/*
 * anyOf (at least one), oneOf (exactly one), allOf (every one).  When none
 * of the alternatives holds, the message of the one that failed deepest
 * into the value is kept: it is usually the alternative that was meant.
 */
static bool js_combine(struct js *c, json_object *schema, json_object *v, const char *kw)
{
	json_object *alts = NULL;
	char best[JS_MSG_MAX] = "", ptr[JS_PTR_MAX];
	size_t best_len = 0, held = 0, n;

	if (!json_object_object_get_ex(schema, kw, &alts))
		return true;
	n = json_object_array_length(alts);
	memcpy(ptr, c->ptr, sizeof(ptr));
	for (size_t i = 0; i < n; i++) {
		if (js_value(c, json_object_array_get_idx(alts, i), v)) {
			held++;
			continue;
		}
		if (strcmp(kw, "allOf") == 0)
			return false;
		if (!best[0] || c->fail_len > best_len) {
			memcpy(best, c->msg, sizeof(best));
			best_len = c->fail_len;
		}
		memcpy(c->ptr, ptr, sizeof(ptr));
	}
	if (strcmp(kw, "oneOf") == 0 && held > 1)
		return js_fail(c, "matches %zu of the oneOf alternatives, not exactly one", held);
	if (held > 0 || n == 0)
		return true;
	js_fail(c, "matches none of the %zu %s alternatives", n, kw);
	snprintf(c->msg + strlen(c->msg), sizeof(c->msg) - strlen(c->msg), "; closest: %s", best);
	return false;
}

static bool js_keywords(struct js *c, json_object *schema, json_object *v)
{
	json_object *k = NULL;

	json_object_object_foreach(schema, key, unused) {
		(void)unused;
		if (!js_keyword_known(key))
			return js_fail(c, "the schema uses \"%s\", which this checker does not know", key);
	}
	if (json_object_object_get_ex(schema, "type", &k) && !js_type(c, k, v))
		return false;
	if (!js_enum(c, schema, v))
		return false;
	if (json_object_is_type(v, json_type_string) && !js_string(c, schema, v))
		return false;
	if ((json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) &&
	    !js_number(c, schema, v))
		return false;
	if (json_object_is_type(v, json_type_object) && !js_object(c, schema, v))
		return false;
	if (json_object_is_type(v, json_type_array) && !js_array(c, schema, v))
		return false;
	return js_combine(c, schema, v, "allOf") && js_combine(c, schema, v, "anyOf") &&
	       js_combine(c, schema, v, "oneOf");
}

static bool js_value(struct js *c, json_object *schema, json_object *v)
{
	json_object *ref = NULL, *target;
	const char *saved = c->where;
	bool ok = true;

	if (json_object_is_type(schema, json_type_boolean))
		return json_object_get_boolean(schema) || js_fail(c, "no value is allowed here");
	if (!json_object_is_type(schema, json_type_object))
		return js_fail(c, "the schema is neither an object nor a boolean");
	if (++c->depth > JS_MAX_DEPTH) {
		c->depth--;
		return js_fail(c, "schema nesting deeper than %d (a $ref cycle?)", JS_MAX_DEPTH);
	}
	if (json_object_object_get_ex(schema, "$ref", &ref)) {
		target = js_resolve(c->root, json_object_get_string(ref));
		if (!target) {
			ok = js_fail(c, "$ref %s names nothing in the document", json_object_get_string(ref));
		} else {
			c->where = json_object_get_string(ref);
			ok = js_value(c, target, v);
			c->where = saved;
		}
	}
	if (ok)
		ok = js_keywords(c, schema, v);
	c->depth--;
	return ok;
}

bool jschema_check(json_object *root, json_object *schema, json_object *value, char *err, size_t errlen)
{
	struct js c;
	bool ok;

	memset(&c, 0, sizeof(c));
	c.root = root;
	c.where = "#";
	ok = js_value(&c, schema, value);
	if (!ok && err && errlen)
		snprintf(err, errlen, "%s", c.msg);
	return ok;
}
