/*
 * llm_parse_answer: the JSON value inside a model's answer.  Models wrap
 * their JSON in ```json fences, put prose before or after it, leave trailing
 * commas, or get cut off at max_tokens.  The first three are tolerated; a
 * cut-off answer is reported as such so the step can say why it failed.
 * What is returned is always JSON (RFC 8259, valid UTF-8): NaN, "1." or
 * broken UTF-8 in a candidate make it not valid JSON.
 */
#include "sx.h"
#include "buf.h"
#include "llm.h"
#include "json.h"

/* How many '{' / '[' starting points are tried before giving up on prose. */
#define PARSE_MAX_CANDIDATES 64

/*
 * The text inside the first ``` fence (the info string such as "json" on
 * the opening line skipped), up to the closing fence or the end of the
 * answer when the closing fence never came.  NULL when there is no fence.
 */
static char *fenced_body(const char *text)
{
	const char *open = strstr(text, "```"), *start, *end;
	char *out = NULL;

	if (open) {
		start = open + 3;
		while (*start && *start != '\n' && *start != '{' && *start != '[')
			start++;
		end = strstr(start, "```");
		if (!end)
			end = start + strlen(start);
		out = xstrndup(start, (size_t)(end - start));
	}
	return out;
}

/*
 * A copy of s (from a candidate '{' or '[') with every comma that is followed
 * only by blanks and a closing '}' or ']' removed; commas inside strings are
 * left alone.
 */
static char *drop_trailing_commas(const char *s)
{
	size_t n = strlen(s), i, o = 0, j;
	char *out = xmalloc(n + 1);
	bool in_str = false, esc = false;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == ',') {
			for (j = i + 1; j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' ||
						   s[j] == '\r'); j++)
				;
			if (j < n && (s[j] == '}' || s[j] == ']'))
				continue;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

/*
 * True when o serializes to JSON the project's strict parser reads back.
 * The tolerant tokener used here also takes NaN, Infinity, "1." and bytes
 * that are not UTF-8, and keeps a number's text as written, so such a value
 * would be stored in steps.output and served as something that is not JSON.
 */
static bool strict_json(json_object *o, char *why, size_t whylen)
{
	size_t len = 0;
	const char *text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	json_object *back = sx_json_parse(text, len, 0, why, whylen);
	bool ok = back != NULL;

	json_object_put(back);
	return ok;
}

enum try_result { TRY_OK, TRY_NOT_JSON, TRY_TRUNCATED };

/*
 * Parses the JSON value that starts at s, ignoring whatever follows it.
 * TRY_TRUNCATED when s is a valid beginning of JSON that simply ends too
 * soon: nothing after it can be a better answer, because every later
 * candidate lies inside this unfinished value.
 */
static enum try_result try_parse(const char *s, json_object **out, char *why, size_t whylen)
{
	enum try_result r = TRY_OK;
	char *clean = drop_trailing_commas(s);
	json_tokener *tok = json_tokener_new();
	enum json_tokener_error e;

	*out = json_tokener_parse_ex(tok, clean, (int)strlen(clean));
	e = json_tokener_get_error(tok);
	if (!*out) {
		r = e == json_tokener_continue ? TRY_TRUNCATED : TRY_NOT_JSON;
		snprintf(why, whylen, "%s", json_tokener_error_desc(e));
	} else if (!json_object_is_type(*out, json_type_object) &&
		   !json_object_is_type(*out, json_type_array)) {
		json_object_put(*out);
		*out = NULL;
		r = TRY_NOT_JSON;
		snprintf(why, whylen, "not an object or array");
	} else if (!strict_json(*out, why, whylen)) {
		json_object_put(*out);
		*out = NULL;
		r = TRY_NOT_JSON;
	}
	json_tokener_free(tok);
	free(clean);
	return r;
}

/* Tries each '{' or '[' in text in order; see try_parse. */
static json_object *scan(const char *text, char *err, size_t errlen)
{
	json_object *o = NULL;
	const char *p = text;
	char why[128] = "", first_why[128] = "";
	int tried = 0;
	enum try_result r;

	while ((p = strpbrk(p, "{[")) != NULL && tried < PARSE_MAX_CANDIDATES) {
		tried++;
		r = try_parse(p, &o, why, sizeof(why));
		if (r == TRY_OK)
			break;
		if (r == TRY_TRUNCATED) {
			snprintf(err, errlen, "answer is truncated: the JSON ends before it is complete");
			break;
		}
		if (!*first_why)
			snprintf(first_why, sizeof(first_why), "%s", why);
		p++;
	}
	if (!o && (!p || tried >= PARSE_MAX_CANDIDATES)) {
		if (tried == 0)
			snprintf(err, errlen, "answer is not JSON: no object or array in it");
		else
			snprintf(err, errlen, "answer is not valid JSON: %s", first_why);
	}
	return o;
}

json_object *llm_parse_answer(const char *text, char *err, size_t errlen)
{
	json_object *o = NULL;
	char *fenced = NULL;
	char why[256] = "";
	const char *p = text ? text : "";

	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (!*p) {
		snprintf(why, sizeof(why), "answer is empty");
		goto out;
	}
	/* A fenced block is what the model meant as its answer; prose is the fallback. */
	fenced = fenced_body(text);
	if (fenced)
		o = scan(fenced, why, sizeof(why));
	if (!o && (!fenced || strstr(why, "truncated") == NULL))
		o = scan(text, why, sizeof(why));
out:
	if (err && errlen)
		snprintf(err, errlen, "%s", o ? "" : why);
	free(fenced);
	return o;
}
