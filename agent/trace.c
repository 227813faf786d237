/*
 * The trace model (see trace.h): keys, URL patterns, fingerprints, value
 * sources, and the recorder that builds a run's trace.
 */
#include <ctype.h>
#include <strings.h>
#include "sx.h"
#include "trace.h"
#include "actions.h"
#include "buf.h"
#include "json.h"
#include "mask.h"
#include "scrape.h"
#include "ssrf.h"

/* Payload values shorter than this are too common to tell a derived value by. */
#define DERIVED_MIN 3
/* Evidence lines longer than this are paragraphs, not a confirmation. */
#define EVIDENCE_LINE_MAX 200

/* The members of an action that hold a value to type or choose, and those copied as they are. */
static const char *const value_members[] = { "text", "option", "url", "key" };
static const char *const plain_members[] = { "direction", "seconds" };
/* The members of a fingerprint compared as strings. */
static const char *const fp_members[] = { "kind", "label", "name", "dom_id", "group" };

/* ---- the payload's leaves ---------------------------------------------------- */

/* The text of a leaf (string, number, boolean), or NULL for null, objects and arrays. */
static const char *leaf_text(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
	case json_type_int:
	case json_type_double:
	case json_type_boolean:
		return json_object_get_string(v);
	default:
		return NULL;
	}
}

/* Adds every leaf under v at path to out ({path: text}). */
static void leaves_add(json_object *v, const char *path, json_object *out)
{
	const char *text;

	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, m) {
			char *p = xasprintf("%s.%s", path, k);

			leaves_add(m, p, out);
			free(p);
		}
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			char *p = xasprintf("%s[%zu]", path, i);

			leaves_add(json_object_array_get_idx(v, i), p, out);
			free(p);
		}
	} else if ((text = leaf_text(v)) != NULL) {
		json_object_object_add(out, path, json_object_new_string(text));
	}
}

/* The payload's leaves as {"$.path": "text"} in document order (caller puts). */
static json_object *leaves_of(json_object *payload)
{
	json_object *out = json_object_new_object();

	if (payload)
		leaves_add(payload, "$", out);
	return out;
}

/* Whether s holds one of the payload's values of DERIVED_MIN bytes or more. */
static bool holds_payload_value(json_object *leaves, const char *s)
{
	json_object_object_foreach(leaves, path, v) {
		const char *t = json_object_get_string(v);

		(void)path;
		if (strlen(t) >= DERIVED_MIN && strstr(s, t))
			return true;
	}
	return false;
}

/* ---- the key ----------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The payload's leaf paths, sorted, as a JSON array (caller puts). */
static json_object *payload_keys(json_object *payload)
{
	json_object *leaves = leaves_of(payload), *out = json_object_new_array();
	size_t n = (size_t)json_object_object_length(leaves), i = 0;
	const char **paths = xcalloc(n ? n : 1, sizeof(*paths));

	json_object_object_foreach(leaves, path, v) {
		(void)v;
		paths[i++] = path;
	}
	qsort(paths, n, sizeof(*paths), cmp_str);
	for (i = 0; i < n; i++)
		json_object_array_add(out, json_object_new_string(paths[i]));
	free(paths);
	json_object_put(leaves);
	return out;
}

char *trace_key_json(const char *url, const char *nav_goal, const char *extract_goal, json_object *schema,
		     json_object *payload)
{
	char *norm = trace_url_normalize(url), *out;
	json_object *k;

	if (!norm)
		return NULL;
	k = json_object_new_object();
	json_object_object_add(k, "url", json_object_new_string(norm));
	json_object_object_add(k, "navigation_goal", sx_json_string_or_null(nav_goal));
	json_object_object_add(k, "data_extraction_goal", sx_json_string_or_null(extract_goal));
	json_object_object_add(k, "schema", json_object_get(schema));
	json_object_object_add(k, "payload_keys", payload_keys(payload));
	out = xstrdup(json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN));
	json_object_put(k);
	free(norm);
	return out;
}

/* ---- URLs -------------------------------------------------------------------- */

/*
 * Splits an http(s) url into its origin (scheme://host[:port] as
 * ssrf_url_host reads the host a browser goes to: lower-cased, without any
 * user:pass@, default port dropped; caller frees) and *rest, the path
 * onwards (borrowed from url).  NULL when url is no http(s) URL.  The
 * origin goes into trace keys and URL patterns, which are stored and
 * shown, so a password in a task's URL must never reach it.
 */
static char *url_origin(const char *url, const char **rest)
{
	char host[256], port_part[8] = "";
	unsigned port;
	bool https, v6;
	const char *authority;

	if (!url || !ssrf_url_host(url, host, sizeof(host), &port))
		return NULL;
	https = strncasecmp(url, "https://", 8) == 0;
	authority = url + (https ? 8 : 7);
	*rest = authority + strcspn(authority, "/?#");
	if (port != (https ? 443u : 80u))
		snprintf(port_part, sizeof(port_part), ":%u", port);
	v6 = strchr(host, ':') != NULL;
	return xasprintf("%s://%s%s%s%s", https ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "", port_part);
}

char *trace_url_normalize(const char *url)
{
	const char *rest = NULL;
	char *origin = url_origin(url, &rest), *out;
	size_t n;

	if (!origin)
		return NULL;
	n = strcspn(rest, "#");
	out = xasprintf("%s%s%.*s", origin, *rest == '/' ? "" : "/", (int)n, rest);
	free(origin);
	return out;
}

/* Whether a path segment is an id that changes from run to run: a number or a long hex string. */
static bool segment_is_id(const char *s, size_t n)
{
	size_t digits = 0, hex = 0;

	for (size_t i = 0; i < n; i++) {
		digits += isdigit((unsigned char)s[i]) != 0;
		hex += isxdigit((unsigned char)s[i]) || s[i] == '-';
	}
	return n > 0 && (digits == n || (n >= 16 && hex == n));
}

char *trace_url_pattern(const char *url, json_object *payload)
{
	const char *rest = NULL, *p;
	char *origin = url_origin(url, &rest), *out = NULL;
	json_object *leaves;
	struct sx_buf b;

	if (!origin)
		return NULL;
	leaves = leaves_of(payload);
	sx_buf_init(&b, 16384);   /* a page URL is at most a few KiB */
	sx_buf_puts(&b, origin);
	p = *rest == '/' ? rest + 1 : rest;
	for (;;) {
		size_t n = strcspn(p, "/?#");
		char *seg = xasprintf("%.*s", (int)n, p);

		sx_buf_putc(&b, '/');
		sx_buf_puts(&b, segment_is_id(seg, n) || holds_payload_value(leaves, seg) ? "*" : seg);
		free(seg);
		if (p[n] != '/')
			break;
		p += n + 1;
	}
	out = sx_buf_detach(&b, NULL);
	json_object_put(leaves);
	free(origin);
	return out;
}

bool trace_url_matches(const char *pattern, const char *url)
{
	const char *rest = NULL, *q, *p;
	char *origin = url_origin(url, &rest);
	size_t olen;
	bool ok = false;

	if (!origin || !pattern)
		goto out;
	olen = strlen(origin);
	if (strncmp(pattern, origin, olen) != 0 || pattern[olen] != '/')
		goto out;
	q = pattern + olen + 1;
	p = *rest == '/' ? rest + 1 : rest;
	for (;;) {
		size_t n = strcspn(p, "/?#"), m = strcspn(q, "/");

		if (!(m == 1 && *q == '*') && (m != n || strncmp(q, p, n) != 0))
			break;
		if ((p[n] == '/') != (q[m] == '/'))
			break;
		if (q[m] != '/') {
			ok = true;
			break;
		}
		p += n + 1;
		q += m + 1;
	}
out:
	free(origin);
	return ok;
}

/* ---- fingerprints ------------------------------------------------------------ */

/*
 * Whether an id attribute was made up by the page's framework for this
 * load (React's ":r5:", "input-1234", "ember412", a UUID) and so names no
 * element across loads: one with a ':', a run of three digits or more, or
 * a run of 16 hex digits and dashes.  Such an id is left out of a
 * fingerprint (as "") rather than making every replay hand over.
 */
static bool dom_id_generated(const char *id)
{
	size_t digits = 0, hex = 0;

	if (strchr(id, ':'))
		return true;
	for (const char *c = id; *c; c++) {
		digits = isdigit((unsigned char)*c) ? digits + 1 : 0;
		hex = isxdigit((unsigned char)*c) || *c == '-' ? hex + 1 : 0;
		if (digits >= 3 || hex >= 16)
			return true;
	}
	return false;
}

/* Member m of index entry or fingerprint o as a fingerprint holds it ("" for none). */
static const char *fp_member(json_object *o, const char *m)
{
	const char *v = sx_json_string(o, m);

	if (!v || (strcmp(m, "dom_id") == 0 && dom_id_generated(v)))
		return "";
	return v;
}

/* Whether index entry e equals fingerprint (or entry) fp in everything but ordinal and count. */
static bool fp_equal(json_object *e, json_object *fp)
{
	for (size_t i = 0; i < SX_ARRAY_LEN(fp_members); i++)
		if (strcmp(fp_member(e, fp_members[i]), fp_member(fp, fp_members[i])) != 0)
			return false;
	return json_object_equal(sx_json_member(e, "frame"), sx_json_member(fp, "frame"));
}

json_object *trace_fingerprint(json_object *index, const char *id)
{
	json_object *e, *fp;
	long long ordinal = -1, count = 0;

	if (!index || !id || !json_object_object_get_ex(index, id, &e))
		return NULL;
	json_object_object_foreach(index, other, o) {
		if (!fp_equal(o, e))
			continue;
		if (strcmp(other, id) == 0)
			ordinal = count;
		count++;
	}
	fp = json_object_new_object();
	json_object_object_add(fp, "frame", json_object_get(sx_json_member(e, "frame")));
	for (size_t i = 0; i < SX_ARRAY_LEN(fp_members); i++)
		json_object_object_add(fp, fp_members[i], json_object_new_string(fp_member(e, fp_members[i])));
	json_object_object_add(fp, "ordinal", json_object_new_int64(ordinal));
	json_object_object_add(fp, "count", json_object_new_int64(count));
	return fp;
}

const char *trace_resolve(json_object *index, json_object *fp, char *why, size_t whylen)
{
	long long want = sx_json_int(fp, "ordinal", -1), count = sx_json_int(fp, "count", 0), n = 0;
	const char *found = NULL, *label = sx_json_string(fp, "label");

	json_object_object_foreach(index, id, e) {
		if (!fp_equal(e, fp))
			continue;
		if (n == want)
			found = id;
		n++;
	}
	if (n == 0)
		snprintf(why, whylen, "no %s \"%.80s\" on the page", sx_json_string(fp, "kind"), label ? label : "");
	else if (n != count)
		snprintf(why, whylen, "%lld elements %s \"%.80s\" on the page where the trace saw %lld",
			 n, sx_json_string(fp, "kind"), label ? label : "", count);
	return n == count ? found : NULL;
}

/* ---- values ------------------------------------------------------------------ */

json_object *trace_value_source(json_object *payload, const char *value, char *why, size_t whylen)
{
	json_object *leaves = leaves_of(payload), *src = NULL;
	const char *ref = NULL;
	size_t vlen = strlen(value);
	bool derived = false, twice = false;

	json_object_object_foreach(leaves, path, v) {
		const char *t = json_object_get_string(v);
		size_t tlen = strlen(t);

		if (strcmp(t, value) == 0) {
			twice = twice || ref;
			ref = ref ? ref : path;
		} else if ((tlen >= DERIVED_MIN && strstr(value, t)) || (vlen >= DERIVED_MIN && strstr(t, value))) {
			derived = true;
		}
	}
	if (ref && twice) {
		snprintf(why, whylen, "a value two payload fields hold was typed (its source is not known)");
	} else if (ref) {
		src = json_object_new_object();
		json_object_object_add(src, "ref", json_object_new_string(ref));
	} else if (derived) {
		snprintf(why, whylen, "a value derived from a payload value was typed");
	} else {
		src = json_object_new_object();
		json_object_object_add(src, "literal", json_object_new_string(value));
	}
	json_object_put(leaves);
	return src;
}

char *trace_value_resolve(json_object *payload, json_object *src)
{
	const char *ref = sx_json_string(src, "ref"), *lit = sx_json_string(src, "literal");
	json_object *leaves, *v;
	char *out = NULL;

	if (!ref)
		return lit ? xstrdup(lit) : NULL;
	leaves = leaves_of(payload);
	if (json_object_object_get_ex(leaves, ref, &v))
		out = xstrdup(json_object_get_string(v));
	json_object_put(leaves);
	return out;
}

/* ---- a stored trace ---------------------------------------------------------- */

/* Whether v is an array whose items all have type t. */
static bool array_of(json_object *v, json_type t)
{
	if (!json_object_is_type(v, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), t))
			return false;
	return true;
}

/* Whether trace step ts has the shape trace_valid checks. */
static bool step_valid(json_object *ts)
{
	json_object *acts = sx_json_member(ts, "actions");

	if (!json_object_is_type(ts, json_type_object) || !array_of(acts, json_type_object))
		return false;
	for (size_t i = 0; i < json_object_array_length(acts); i++) {
		json_object *el = sx_json_member(json_object_array_get_idx(acts, i), "element");

		if (el && !json_object_is_type(el, json_type_object))
			return false;
	}
	return true;
}

bool trace_valid(json_object *t, char *why, size_t whylen)
{
	json_object *steps = sx_json_member(t, "steps"), *ev = sx_json_member(t, "evidence");

	if (!json_object_is_type(steps, json_type_array)) {
		snprintf(why, whylen, "it has no steps array");
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		if (!step_valid(json_object_array_get_idx(steps, i))) {
			snprintf(why, whylen, "its step %zu is malformed", i);
			return false;
		}
	}
	if (!json_object_is_type(ev, json_type_object) || !array_of(sx_json_member(ev, "text"), json_type_string)) {
		snprintf(why, whylen, "its evidence is malformed");
		return false;
	}
	return true;
}

/* ---- pages ------------------------------------------------------------------- */

bool trace_page_matches(json_object *want, const struct scrape_result *page, char *why, size_t whylen)
{
	const char *pattern = sx_json_string(want, "url"), *title = sx_json_string(want, "title");

	if (!trace_url_matches(pattern, page->url)) {
		snprintf(why, whylen, "the page is not the one the trace expected (%.200s)", pattern ? pattern : "");
		return false;
	}
	if (title && *title && strcmp(title, page->title ? page->title : "") != 0) {
		snprintf(why, whylen, "the page's title is not \"%.120s\"", title);
		return false;
	}
	return true;
}

bool trace_evidence_matches(json_object *evidence, const struct scrape_result *page, char *why, size_t whylen)
{
	json_object *text = sx_json_member(evidence, "text");

	if (!evidence || !trace_page_matches(evidence, page, why, whylen))
		return false;
	if (!array_of(text, json_type_string)) {
		snprintf(why, whylen, "the trace's evidence is malformed");
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(text); i++) {
		const char *line = json_object_get_string(json_object_array_get_idx(text, i));

		if (!page->text || !strstr(page->text, line)) {
			snprintf(why, whylen, "the page does not say \"%.120s\"", line);
			return false;
		}
	}
	return true;
}

/* The title to check a page by: "" when it shows a payload value (it changes with the payload). */
static const char *title_of(const struct scrape_result *page, json_object *leaves)
{
	const char *t = page->title ? page->title : "";

	return holds_payload_value(leaves, t) ? "" : t;
}

/* ---- the recorder ------------------------------------------------------------ */

void trace_recorder_init(struct trace_recorder *r)
{
	memset(r, 0, sizeof(*r));
	r->steps = json_object_new_array();
}

void trace_recorder_release(struct trace_recorder *r)
{
	json_object_put(r->steps);
	json_object_put(r->evidence);
	free(r->prev_text);
	memset(r, 0, sizeof(*r));
}

void trace_recorder_spoil(struct trace_recorder *r, const char *why)
{
	if (!r->spoiled)
		snprintf(r->why, sizeof(r->why), "%s", why);
	r->spoiled = true;
}

/* Whether line is one of the lines of text. */
static bool has_line(const char *text, const char *line, size_t n)
{
	for (const char *p = text; p && *p;) {
		size_t m = strcspn(p, "\n");

		if (m == n && strncmp(p, line, n) == 0)
			return true;
		p += m + (p[m] == '\n');
	}
	return false;
}

/* The evidence of the page a task completed on (see trace.h). */
static json_object *evidence_of(struct trace_recorder *r, const struct scrape_result *page, json_object *payload,
				json_object *leaves)
{
	json_object *ev = json_object_new_object(), *lines = json_object_new_array();
	char *pattern = trace_url_pattern(page->url, payload);

	json_object_object_add(ev, "url", sx_json_string_or_null(pattern));
	json_object_object_add(ev, "title", json_object_new_string(title_of(page, leaves)));
	for (const char *p = page->text; p && *p && json_object_array_length(lines) < TRACE_EVIDENCE_LINES;) {
		size_t n = strcspn(p, "\n");
		char *line = xasprintf("%.*s", (int)n, p);

		if (n >= DERIVED_MIN && n <= EVIDENCE_LINE_MAX && !has_line(r->prev_text, p, n) &&
		    !holds_payload_value(leaves, line))
			json_object_array_add(lines, json_object_new_string(line));
		free(line);
		p += n + (p[n] == '\n');
	}
	json_object_object_add(ev, "text", lines);
	free(pattern);
	return ev;
}

/* The recorded form of one successful browser action a (NULL when r got spoiled). */
static json_object *record_action(struct trace_recorder *r, json_object *payload, const struct scrape_result *page,
				  json_object *a, json_object *labels)
{
	const char *el = sx_json_string(a, "element");
	json_object *rec = json_object_new_object(), *v;
	char why[160];

	json_object_object_add(rec, "action", json_object_new_string(action_type_name(action_type_of(a))));
	if (el) {
		json_object *fp = trace_fingerprint(page->index, el);

		if (!fp) {
			trace_recorder_spoil(r, "an action used an element that is not on the page it observed");
			goto fail;
		}
		json_object_array_add(labels, json_object_get(sx_json_member(fp, "label")));
		json_object_object_add(rec, "element", fp);
	}
	for (size_t i = 0; i < SX_ARRAY_LEN(value_members); i++) {
		const char *s = sx_json_string(a, value_members[i]);
		json_object *src;

		if (!s)
			continue;
		src = trace_value_source(payload, s, why, sizeof(why));
		if (!src) {
			trace_recorder_spoil(r, why);
			goto fail;
		}
		json_object_object_add(rec, value_members[i], src);
	}
	for (size_t i = 0; i < SX_ARRAY_LEN(plain_members); i++)
		if ((v = sx_json_member(a, plain_members[i])) != NULL)
			json_object_object_add(rec, plain_members[i], json_object_get(v));
	return rec;
fail:
	json_object_put(rec);
	return NULL;
}

/* Whether the recorded action d succeeded. */
static bool succeeded(json_object *d)
{
	json_object *res = sx_json_member(d, "result");

	return res && sx_json_bool(res, "success");
}

void trace_record_step(struct trace_recorder *r, json_object *payload, const struct scrape_result *page,
		       json_object *actions, json_object *done)
{
	json_object *leaves, *step, *pg, *acts, *labels;
	char *pattern;
	bool complete = false;

	if (r->spoiled || r->evidence || !page->url)
		return;
	leaves = leaves_of(payload);
	acts = json_object_new_array();
	labels = json_object_new_array();
	for (size_t i = 0; !r->spoiled && i < json_object_array_length(done); i++) {
		json_object *a = json_object_array_get_idx(actions, i), *rec;
		enum action_type t = action_type_of(a);

		if (!a || !succeeded(json_object_array_get_idx(done, i)))
			continue;
		if (t == ACT_COMPLETE) {
			complete = true;
			r->evidence = evidence_of(r, page, payload, leaves);
			break;
		}
		if (t == ACT_TERMINATE || t == ACT_SOLVE_CAPTCHA || t == ACT_UNKNOWN)
			continue;
		rec = record_action(r, payload, page, a, labels);
		if (rec)
			json_object_array_add(acts, rec);
	}
	if (!r->spoiled && (json_object_array_length(acts) > 0 || complete)) {
		pattern = trace_url_pattern(page->url, payload);
		pg = json_object_new_object();
		json_object_object_add(pg, "url", sx_json_string_or_null(pattern));
		json_object_object_add(pg, "title", json_object_new_string(title_of(page, leaves)));
		json_object_object_add(pg, "labels", labels);
		labels = NULL;
		step = json_object_new_object();
		json_object_object_add(step, "page", pg);
		json_object_object_add(step, "actions", json_object_get(acts));
		if (complete)
			json_object_object_add(step, "complete", json_object_new_boolean(true));
		json_object_array_add(r->steps, step);
		free(pattern);
	}
	free(r->prev_text);
	r->prev_text = page->text ? xstrdup(page->text) : NULL;
	json_object_put(labels);
	json_object_put(acts);
	json_object_put(leaves);
}

json_object *trace_recorder_take(struct trace_recorder *r, const struct mask *mask)
{
	json_object *t = NULL;
	char *masked;
	const char *text;

	if (r->spoiled)
		return NULL;
	if (!r->evidence) {
		snprintf(r->why, sizeof(r->why), "the task did not complete on a recorded step");
		return NULL;
	}
	t = json_object_new_object();
	json_object_object_add(t, "steps", json_object_get(r->steps));
	json_object_object_add(t, "evidence", json_object_get(r->evidence));
	/* The last gate: nothing the mask would hide is ever stored. */
	text = json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN);
	masked = mask_text(mask, text);
	if (strcmp(masked, text) != 0) {
		snprintf(r->why, sizeof(r->why), "it would hold a secret value");
		json_object_put(t);
		t = NULL;
	}
	free(masked);
	return t;
}
