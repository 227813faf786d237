/*
 * The JSON Schema subset described in schema.h, checked recursively with
 * the path to the current value kept in a capped buffer for the message.
 */
#include "sx.h"
#include "buf.h"
#include "schema.h"

#include <ctype.h>
#include <math.h>

/* Deeper schemas than this are not extraction schemas; stop rather than recurse forever. */
#define SCHEMA_MAX_DEPTH 64
#define SCHEMA_PATH_MAX 512

struct check {
	char path[SCHEMA_PATH_MAX];
	char *err;
	size_t errlen;
};

static void fail(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct check *c, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
}

/* The JSON type name of a value, as the schema's "type" spells it. */
static const char *type_name(json_object *v)
{
	const char *s = "null";

	switch (json_object_get_type(v)) {
	case json_type_null: s = "null"; break;
	case json_type_boolean: s = "boolean"; break;
	case json_type_double: s = "number"; break;
	case json_type_int: s = "integer"; break;
	case json_type_object: s = "object"; break;
	case json_type_array: s = "array"; break;
	case json_type_string: s = "string"; break;
	}
	return s;
}

static bool is_number(json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static bool is_type(json_object *v, const char *t)
{
	bool ok = false;

	if (strcmp(t, "number") == 0) {
		ok = is_number(v);
	} else if (strcmp(t, "integer") == 0) {
		double d;

		ok = json_object_is_type(v, json_type_int);
		if (!ok && json_object_is_type(v, json_type_double)) {
			d = json_object_get_double(v);
			ok = isfinite(d) && d == floor(d);
		}
	} else {
		ok = strcmp(t, type_name(v)) == 0;
	}
	return ok;
}

/* Short JSON text of v for messages, cut to fit. */
static const char *show(json_object *v, char *buf, size_t len)
{
	const char *s = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE) : "null";
	size_t n = strlen(s);

	if (n < len)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%.*s…", (int)(len > 4 ? len - 4 : 0), s);
	return buf;
}

/* Numbers compare by value (1 equals 1.0); everything else structurally. */
static bool json_equal(json_object *a, json_object *b)
{
	bool eq;

	if (is_number(a) && is_number(b))
		eq = json_object_get_double(a) == json_object_get_double(b);
	else
		eq = json_object_equal(a, b) != 0;
	return eq;
}

static bool check_type(struct check *c, json_object *t, json_object *v)
{
	bool ok = true;
	char want[200] = "";
	size_t i, n;

	if (json_object_is_type(t, json_type_string)) {
		ok = is_type(v, json_object_get_string(t));
		snprintf(want, sizeof(want), "%s", json_object_get_string(t));
	} else if (json_object_is_type(t, json_type_array)) {
		struct sx_buf names;

		sx_buf_init(&names, sizeof(want) - 1);
		ok = false;
		n = json_object_array_length(t);
		for (i = 0; i < n; i++) {
			json_object *ti = json_object_array_get_idx(t, i);

			if (!json_object_is_type(ti, json_type_string))
				continue;
			if (is_type(v, json_object_get_string(ti)))
				ok = true;
			sx_buf_printf(&names, "%s%s", names.len ? " or " : "",
				      json_object_get_string(ti));
		}
		snprintf(want, sizeof(want), "%s", sx_buf_str(&names));
		sx_buf_release(&names);
		/* A list with no type names in it constrains nothing. */
		if (n == 0 || !*want)
			ok = true;
	}
	if (!ok) {
		/* "got number" reads oddly for 2.5 against integer; say what it is. */
		fail(c, "expected %s, got %s", want,
		     json_object_is_type(v, json_type_double) ? "number" : type_name(v));
	}
	return ok;
}

/*
 * Appends ".name" (or ["name"] when the name is not identifier-like) or
 * "[i]" to the path; returns the old length so the caller can cut it back.
 */
static size_t path_push_key(struct check *c, const char *key)
{
	size_t old = strlen(c->path);
	bool ident = *key && !isdigit((unsigned char)*key);
	const char *p;

	for (p = key; *p && ident; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			ident = false;
	if (ident)
		snprintf(c->path + old, sizeof(c->path) - old, ".%s", key);
	else
		snprintf(c->path + old, sizeof(c->path) - old, "[\"%s\"]", key);
	return old;
}

static size_t path_push_index(struct check *c, size_t i)
{
	size_t old = strlen(c->path);

	snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i);
	return old;
}

/* Reads an integer keyword such as minItems; false when absent or not a number. */
static bool kw_int(json_object *schema, const char *key, long long *out)
{
	json_object *v;
	bool ok = json_object_object_get_ex(schema, key, &v) && is_number(v);

	if (ok)
		*out = json_object_get_int64(v);
	return ok;
}

static bool kw_num(json_object *schema, const char *key, double *out)
{
	json_object *v;
	bool ok = json_object_object_get_ex(schema, key, &v) && is_number(v);

	if (ok)
		*out = json_object_get_double(v);
	return ok;
}

/* Length of a UTF-8 string in code points, as minLength/maxLength count. */
static long long utf8_len(const char *s)
{
	long long n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static bool check_value(struct check *c, json_object *schema, json_object *v, int depth);

static bool check_object(struct check *c, json_object *schema, json_object *v, int depth)
{
	bool ok = true;
	json_object *props = NULL, *req, *addl = NULL, *sub;
	size_t i, n, old;

	json_object_object_get_ex(schema, "properties", &props);
	if (!json_object_is_type(props, json_type_object))
		props = NULL;
	if (json_object_object_get_ex(schema, "required", &req) &&
	    json_object_is_type(req, json_type_array)) {
		n = json_object_array_length(req);
		for (i = 0; i < n && ok; i++) {
			json_object *name = json_object_array_get_idx(req, i);

			if (json_object_is_type(name, json_type_string) &&
			    !json_object_object_get_ex(v, json_object_get_string(name), NULL)) {
				fail(c, "missing required property \"%s\"", json_object_get_string(name));
				ok = false;
			}
		}
	}
	json_object_object_get_ex(schema, "additionalProperties", &addl);
	if (ok) {
		json_object_object_foreach(v, key, val) {
			bool declared = props && json_object_object_get_ex(props, key, &sub);

			if (!declared && json_object_is_type(addl, json_type_boolean) &&
			    !json_object_get_boolean(addl)) {
				fail(c, "property \"%s\" is not allowed", key);
				ok = false;
			} else if (declared || json_object_is_type(addl, json_type_object)) {
				old = path_push_key(c, key);
				ok = check_value(c, declared ? sub : addl, val, depth + 1);
				if (ok)
					c->path[old] = '\0';
			}
			if (!ok)
				break;
		}
	}
	return ok;
}

static bool check_array(struct check *c, json_object *schema, json_object *v, int depth)
{
	bool ok = true;
	json_object *items;
	long long lim;
	size_t i, n = json_object_array_length(v), old;

	if (kw_int(schema, "minItems", &lim) && (long long)n < lim) {
		fail(c, "expected at least %lld item%s, got %zu", lim, lim == 1 ? "" : "s", n);
		ok = false;
	} else if (kw_int(schema, "maxItems", &lim) && (long long)n > lim) {
		fail(c, "expected at most %lld item%s, got %zu", lim, lim == 1 ? "" : "s", n);
		ok = false;
	}
	if (ok && json_object_object_get_ex(schema, "items", &items) &&
	    (json_object_is_type(items, json_type_object) ||
	     json_object_is_type(items, json_type_boolean))) {
		for (i = 0; i < n && ok; i++) {
			old = path_push_index(c, i);
			ok = check_value(c, items, json_object_array_get_idx(v, i), depth + 1);
			if (ok)
				c->path[old] = '\0';
		}
	}
	return ok;
}

static bool check_scalar(struct check *c, json_object *schema, json_object *v)
{
	bool ok = true;
	double lim, d;
	long long n;
	char shown[80];

	if (is_number(v)) {
		d = json_object_get_double(v);
		if (kw_num(schema, "minimum", &lim) && d < lim) {
			fail(c, "%s is less than the minimum %g", show(v, shown, sizeof(shown)), lim);
			ok = false;
		} else if (kw_num(schema, "maximum", &lim) && d > lim) {
			fail(c, "%s is greater than the maximum %g", show(v, shown, sizeof(shown)), lim);
			ok = false;
		}
	} else if (json_object_is_type(v, json_type_string)) {
		long long len = utf8_len(json_object_get_string(v));

		if (kw_int(schema, "minLength", &n) && len < n) {
			fail(c, "expected at least %lld characters, got %lld", n, len);
			ok = false;
		} else if (kw_int(schema, "maxLength", &n) && len > n) {
			fail(c, "expected at most %lld characters, got %lld", n, len);
			ok = false;
		}
	}
	return ok;
}

static bool check_enum(struct check *c, json_object *en, json_object *v)
{
	bool ok = false;
	size_t i, n = json_object_array_length(en);
	char shown[80], allowed[160];

	for (i = 0; i < n && !ok; i++)
		ok = json_equal(json_object_array_get_idx(en, i), v);
	if (!ok)
		fail(c, "value %s is not one of the allowed values %s",
		     show(v, shown, sizeof(shown)), show(en, allowed, sizeof(allowed)));
	return ok;
}

static bool check_value(struct check *c, json_object *schema, json_object *v, int depth)
{
	bool ok = true;
	json_object *kw;

	if (depth > SCHEMA_MAX_DEPTH) {
		fail(c, "schema nested deeper than %d levels", SCHEMA_MAX_DEPTH);
		ok = false;
	} else if (json_object_is_type(schema, json_type_boolean)) {
		ok = json_object_get_boolean(schema);
		if (!ok)
			fail(c, "no value is allowed here");
	} else if (json_object_is_type(schema, json_type_object)) {
		if (json_object_object_get_ex(schema, "type", &kw))
			ok = check_type(c, kw, v);
		if (ok && json_object_object_get_ex(schema, "enum", &kw) &&
		    json_object_is_type(kw, json_type_array))
			ok = check_enum(c, kw, v);
		if (ok && json_object_is_type(v, json_type_object))
			ok = check_object(c, schema, v, depth);
		else if (ok && json_object_is_type(v, json_type_array))
			ok = check_array(c, schema, v, depth);
		else if (ok)
			ok = check_scalar(c, schema, v);
	}
	return ok;
}

bool schema_check(json_object *schema, json_object *value, char *err, size_t errlen)
{
	struct check c = { .path = "$", .err = err, .errlen = errlen };
	bool ok;

	if (err && errlen)
		err[0] = '\0';
	ok = check_value(&c, schema, value, 0);
	return ok;
}
