/*
 * Answers held against api/openapi.json (see openapi.h).
 */
#include <ctype.h>
#include <strings.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "openapi.h"
#include "jschema.h"
#include "json.h"

static json_object *the_doc;

json_object *openapi_doc(void)
{
	if (!the_doc) {
		the_doc = json_object_from_file(SRCDIR "/api/openapi.json");
		cr_assert(json_object_is_type(the_doc, json_type_object),
			  "%s/api/openapi.json is missing or not JSON: %s", SRCDIR, json_util_get_last_err());
	}
	return the_doc;
}

/* The length of the segment at s (up to '/' or the end). */
static size_t seg_len(const char *s)
{
	return strcspn(s, "/");
}

static bool seg_is_param(const char *s, size_t n)
{
	return n >= 2 && s[0] == '{' && s[n - 1] == '}';
}

bool openapi_template_match(const char *a, const char *b)
{
	while (*a == '/' && *b == '/') {
		size_t na, nb;

		a++;
		b++;
		na = seg_len(a);
		nb = seg_len(b);
		if (na >= 3 && seg_is_param(a, na) && a[na - 2] == '+' && !a[na])
			return nb > 0;
		if (!seg_is_param(a, na) && !seg_is_param(b, nb) && (na != nb || strncmp(a, b, na) != 0))
			return false;
		if ((seg_is_param(a, na) || seg_is_param(b, nb)) && (na == 0 || nb == 0))
			return false;
		a += na;
		b += nb;
	}
	return !*a && !*b;
}

/* The number of literal segments of a template: the more, the more specific. */
static int template_literals(const char *t)
{
	int n = 0;

	for (const char *s = t; *s == '/'; s += 1 + seg_len(s + 1))
		n += !seg_is_param(s + 1, seg_len(s + 1));
	return n;
}

/* The document's path template for path (no query), or NULL; the most literal one wins. */
static const char *path_template(json_object *paths, const char *path)
{
	const char *best = NULL;

	json_object_object_foreach(paths, tmpl, item) {
		(void)item;
		if (openapi_template_match(tmpl, path) &&
		    (!best || template_literals(tmpl) > template_literals(best)))
			best = tmpl;
	}
	return best;
}

/* The response the document gives for status: exact, then "4XX", then "default"; NULL when none. */
static json_object *pick_response(json_object *doc, json_object *responses, long status)
{
	char code[24], range[24];
	json_object *r = NULL, *ref = NULL;

	snprintf(code, sizeof(code), "%ld", status);
	snprintf(range, sizeof(range), "%ldXX", status / 100);
	if (!json_object_object_get_ex(responses, code, &r) &&
	    !json_object_object_get_ex(responses, range, &r) &&
	    !json_object_object_get_ex(responses, "default", &r))
		return NULL;
	for (int i = 0; i < 4 && json_object_object_get_ex(r, "$ref", &ref); i++) {
		const char *name = strrchr(json_object_get_string(ref), '/');
		json_object *comps = NULL, *resps = NULL;

		json_object_object_get_ex(doc, "components", &comps);
		json_object_object_get_ex(comps, "responses", &resps);
		if (!name || !json_object_object_get_ex(resps, name + 1, &r))
			return NULL;
	}
	return r;
}

/* The media type of content that a Content-Type header falls under, wildcards ("image/…") too. */
static json_object *pick_media(json_object *content, const char *content_type, char *mt, size_t mtlen)
{
	size_t n = strcspn(content_type, "; \t");
	json_object *m = NULL;
	char wild[136];

	snprintf(mt, mtlen, "%.*s", (int)n, content_type);
	for (char *p = mt; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (json_object_object_get_ex(content, mt, &m))
		return m;
	snprintf(wild, sizeof(wild), "%.*s/*", (int)strcspn(mt, "/"), mt);
	if (json_object_object_get_ex(content, wild, &m) || json_object_object_get_ex(content, "*/*", &m))
		return m;
	return NULL;
}

/* Whether a media type carries JSON: application/json or any +json type. */
static bool media_is_json(const char *mt)
{
	size_t n = strlen(mt);

	return strcmp(mt, "application/json") == 0 || (n > 5 && strcmp(mt + n - 5, "+json") == 0);
}

/* The body against one response object of the document. */
static bool check_body(json_object *doc, json_object *resp, const char *content_type,
		       const char *body, size_t len, char *err, size_t errlen)
{
	json_object *content = NULL, *media, *schema = NULL, *value;
	char mt[128];
	bool ok;

	if (!json_object_object_get_ex(resp, "content", &content)) {
		if (len == 0)
			return true;
		snprintf(err, errlen, "the document says no body, got %zu bytes: %.200s", len, body);
		return false;
	}
	media = pick_media(content, content_type, mt, sizeof(mt));
	if (!media) {
		char types[256] = "";

		json_object_object_foreach(content, name, unused) {
			(void)unused;
			snprintf(types + strlen(types), sizeof(types) - strlen(types), " %s", name);
		}
		snprintf(err, errlen, "Content-Type \"%s\" is not one of the document's:%s", content_type, types);
		return false;
	}
	if (!media_is_json(mt) || !json_object_object_get_ex(media, "schema", &schema))
		return true;
	/* A list page nests deeper than the requests it shows (client.c parses as deep). */
	value = sx_json_parse_stored(body, len, 512, NULL, 0);
	if (!value && (len != 4 || memcmp(body, "null", 4) != 0)) {
		snprintf(err, errlen, "the body is not JSON: %.200s", body);
		return false;
	}
	ok = jschema_check(doc, schema, value, err, errlen);
	json_object_put(value);
	return ok;
}

/* The dev stack's static trees: fixture sites, the viewer's files, the bench page. */
static bool outside_api(const char *path)
{
	static const char *const trees[] = { "/sites/", "/ui/", "/ui", "/bench/" };

	for (size_t i = 0; i < SX_ARRAY_LEN(trees); i++)
		if (strncmp(path, trees[i], strlen(trees[i])) == 0 &&
		    (trees[i][strlen(trees[i]) - 1] == '/' || !path[strlen(trees[i])]))
			return true;
	return false;
}

bool openapi_check(const char *method, const char *path, long status, const char *content_type,
		   const char *body, size_t len, char *err, size_t errlen)
{
	json_object *doc = openapi_doc(), *paths = NULL, *item = NULL, *op = NULL, *responses = NULL, *resp;
	char p[1024], lower[16], why[1024];
	const char *tmpl;
	size_t n = strcspn(path, "?");

	snprintf(p, sizeof(p), "%.*s", (int)n, path);
	if (n > 1 && p[n - 1] == '/')
		p[n - 1] = '\0';
	if (outside_api(p) || status == 0)
		return true;
	snprintf(lower, sizeof(lower), "%s", method);
	for (char *c = lower; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	json_object_object_get_ex(doc, "paths", &paths);
	tmpl = path_template(paths, p);
	if (tmpl && json_object_object_get_ex(paths, tmpl, &item))
		json_object_object_get_ex(item, lower, &op);
	if (!op) {
		json_object_object_get_ex(doc, "x-sextant-unrouted", &op);
		tmpl = tmpl ? tmpl : "(no route)";
	}
	json_object_object_get_ex(op, "responses", &responses);
	resp = pick_response(doc, responses, status);
	if (!resp) {
		snprintf(err, errlen, "%s %s %ld: the document has no response for this status (body %.200s)",
			 method, tmpl, status, body);
		return false;
	}
	if (check_body(doc, resp, content_type ? content_type : "", body, len, why, sizeof(why)))
		return true;
	snprintf(err, errlen, "%s %s %ld: %s", method, tmpl, status, why);
	return false;
}
