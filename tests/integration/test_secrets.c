/*
 * Secrets stay secret end to end.  One task carries, in its
 * navigation_payload, a secret under each kind of key (password, pw, PIN,
 * CVV, card number, private key, token, SSN, one-time code, API key; snake
 * and camel case), every value with a quote, a backslash, a slash and a
 * non-ASCII letter.  The model (the LLM test double) types them into a GET
 * form (tests/sites/vault), so they come back in the next page's URL, in
 * its path and in its text; it repeats them in its reasoning, in the
 * verification and in the extracted data.
 *
 * Then every log, every artifact file of the task, every column of every
 * table and every webhook body is searched for each value in each form it
 * could be written in: raw, JSON-escaped (with and without "\/"), with
 * \u escapes, percent-encoded, and escaped twice.  Zero hits.  Two things
 * are not searched, on purpose: tasks.request (the client's own request,
 * kept to run the task and shown only to the client) and the lines of the
 * nginx logs about /sites/ (the fixture web site's own log, which a real
 * site keeps on its own server); the test checks that the latter did see
 * the secrets, so the form really echoed them.
 */
#include <ftw.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "buf.h"
#include "client.h"
#include "db.h"
#include "doubles.h"
#include "wait.h"

#define NFORMS 8

static struct test_org org;
static struct test_double receiver;

static void setup(void)
{
	agent_suite_init(&org, "secrets");
	webhook_receiver_start(&receiver, 0);
}

static void teardown(void)
{
	test_double_stop(&receiver);
	agent_suite_fini();
}

TestSuite(secrets, .init = setup, .fini = teardown, .timeout = 300);

struct secret {
	const char *key;     /* in navigation_payload */
	const char *label;   /* of the form field it is typed into */
	const char *value;
};

static const struct secret secrets[] = {
	{ "password", "Password", "Pa\"ss\\wo/rd-\xc3\xa9-1" },
	{ "user_pw", "User PW", "Pw\"A/7\\\xc3\xbc-x" },
	{ "pin", "PIN", "4\\7/1\"9\xc3\xb1" },
	{ "cvv", "CVV", "8/3\"1\\\xc3\xb8" },
	{ "cardNumber", "Card number", "4111/1111\"1111\\1111\xc3\xa5" },
	{ "private_key", "Private key", "KEY/\"\\\xc3\xa7-MIIB" },
	{ "token", "Token", "tok/\"\\\xc3\xb1-42z" },
	{ "ssn", "SSN", "078-05\"/\\1120\xc3\xa0" },
	{ "otp", "One-time code", "otp\"9/\\8\xc3\xb6" },
	{ "apiKey", "API key", "ak/\"\\\xc3\xa9-7731" },
};

/* ---- the forms a value can be written in --------------------------------- */

/* s as a JSON string body (json-c's escaping, quotes removed). */
static char *json_body(const char *s, bool slash)
{
	json_object *o = json_object_new_string(s);
	const char *j = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       (slash ? 0 : JSON_C_TO_STRING_NOSLASHESCAPE));
	char *out = xstrndup(j + 1, strlen(j) - 2);

	json_object_put(o);
	return out;
}

/* s as Python's json.dumps writes it: \" \\ and \uXXXX for every non-ASCII character. */
static char *ascii_json_body(const char *s)
{
	struct sx_buf b;
	const unsigned char *p = (const unsigned char *)s;

	sx_buf_init(&b, SIZE_MAX);
	while (*p) {
		unsigned cp = *p;
		int more = cp >= 0xF0 ? 3 : cp >= 0xE0 ? 2 : cp >= 0xC0 ? 1 : 0;

		if (more)
			cp &= 0x3F >> more;
		for (p++; more > 0 && *p; more--, p++)
			cp = (cp << 6) | (*p & 0x3F);
		if (cp == '"' || cp == '\\')
			sx_buf_printf(&b, "\\%c", (char)cp);
		else if (cp >= 0x80)
			sx_buf_printf(&b, "\\u%04x", cp);
		else
			sx_buf_putc(&b, (char)cp);
	}
	return sx_buf_detach(&b, NULL);
}

/* s percent-encoded as a browser encodes a form field. */
static char *percent(const char *s)
{
	struct sx_buf b;

	sx_buf_init(&b, SIZE_MAX);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-_.~", *p))
			sx_buf_putc(&b, (char)*p);
		else
			sx_buf_printf(&b, "%%%02X", *p);
	}
	return sx_buf_detach(&b, NULL);
}

/* Fills forms[NFORMS] with the ways v can be written (caller frees each). */
static void forms_of(const char *v, char *forms[NFORMS])
{
	forms[0] = xstrdup(v);
	forms[1] = json_body(v, true);
	forms[2] = json_body(v, false);
	forms[3] = ascii_json_body(v);
	forms[4] = percent(v);
	forms[5] = json_body(forms[1], true);      /* JSON inside JSON */
	forms[6] = json_body(forms[3], false);     /* a Python answer inside JSON */
	forms[7] = json_body(forms[4], true);      /* a URL in JSON: the same as [4] */
}

static void forms_free(char *forms[NFORMS])
{
	for (int i = 0; i < NFORMS; i++)
		free(forms[i]);
}

/* ---- where they are looked for ------------------------------------------- */

/* What was found, for the failure message. */
struct hits {
	size_t n;
	struct sx_buf where;
};

/* Looks for every form of every secret in data[0, len), said to be in place. */
static void search(struct hits *h, const char *data, size_t len, const char *place)
{
	for (size_t i = 0; i < SX_ARRAY_LEN(secrets); i++) {
		char *forms[NFORMS];

		forms_of(secrets[i].value, forms);
		for (int f = 0; f < NFORMS; f++) {
			if (memmem(data, len, forms[f], strlen(forms[f]))) {
				h->n++;
				if (h->where.len < 4000)
					sx_buf_printf(&h->where, "%s: %s (form %d)\n", place, secrets[i].key, f);
			}
		}
		forms_free(forms);
	}
}

/* Every log of the stack; the fixture site's own lines in nginx's logs are its business. */
static void search_logs(struct hits *h)
{
	static const char *const logs[] = { "agent-test.log", "api.log", "admin.log", "nginx-access.log",
					    "nginx-error.log", "mysqld.log" };

	for (size_t i = 0; i < SX_ARRAY_LEN(logs); i++) {
		char *path = xasprintf("%s/log/%s", tenv("SX_VAR"), logs[i]);
		FILE *f = fopen(path, "r");
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		while (f && (n = getline(&line, &cap, f)) > 0)
			if (!strstr(line, "/sites/"))
				search(h, line, (size_t)n, logs[i]);
		if (f)
			fclose(f);
		free(line);
		free(path);
	}
}

static struct hits *walk_hits;
static const char *walk_task;
static size_t walk_files;

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_F && strstr(path, walk_task) && st->st_size > 0) {
		FILE *f = fopen(path, "rb");
		char *data = xmalloc((size_t)st->st_size);
		size_t n = f ? fread(data, 1, (size_t)st->st_size, f) : 0;

		search(walk_hits, data, n, path);
		walk_files++;
		free(data);
		if (f)
			fclose(f);
	}
	return 0;
}

/* Every file under the artifacts directory that belongs to the task; returns how many. */
static size_t search_artifacts(struct hits *h, const char *task_id)
{
	char *root = xasprintf("%s/artifacts", tenv("SX_VAR"));

	walk_hits = h;
	walk_task = task_id;
	walk_files = 0;
	cr_assert_eq(nftw(root, walk_one, 16, FTW_PHYS), 0, "cannot walk %s", root);
	free(root);
	return walk_files;
}

/* Every column of every table, but the client's own request. */
static void search_tables(struct hits *h)
{
	static const char q[] =
		"SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = DATABASE()";
	struct sx_rows *cols = NULL;

	cr_assert_eq(sx_db_query(tdb(), q, NULL, 0, &cols), SX_OK);
	cr_assert_gt(cols->nrows, 20, "the schema has more columns than that");
	for (size_t i = 0; i < cols->nrows; i++) {
		const char *t = sx_rows_get(cols, i, 0), *c = sx_rows_get(cols, i, 1);
		char *sql, *place;
		struct sx_rows *rows = NULL;

		if (strcmp(t, "tasks") == 0 && strcmp(c, "request") == 0)
			continue;
		sql = xasprintf("SELECT CAST(`%s` AS CHAR) FROM `%s`", c, t);
		place = xasprintf("table %s.%s", t, c);
		cr_assert_eq(sx_db_query(tdb(), sql, NULL, 0, &rows), SX_OK, "%s", sql);
		for (size_t r = 0; r < rows->nrows; r++)
			if (sx_rows_get(rows, r, 0))
				search(h, sx_rows_get(rows, r, 0), strlen(sx_rows_get(rows, r, 0)), place);
		sx_rows_free(rows);
		free(place);
		free(sql);
	}
	sx_rows_free(cols);
}

/* Whether a string somewhere in o contains needle. */
static bool json_has(json_object *o, const char *needle)
{
	bool hit = false;

	if (json_object_is_type(o, json_type_string)) {
		hit = strstr(json_object_get_string(o), needle) != NULL;
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			(void)k;
			hit = hit || (v && json_has(v, needle));
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; !hit && i < json_object_array_length(o); i++)
			hit = json_has(json_object_array_get_idx(o, i), needle);
	}
	return hit;
}

/* ---- the task ------------------------------------------------------------ */

static json_object *jaction(const char *action, const char *label, const char *text)
{
	json_object *a = json_object_new_object();

	json_object_object_add(a, "action", json_object_new_string(action));
	if (label)
		json_object_object_add(a, "label", json_object_new_string(label));
	if (text)
		json_object_object_add(a, "text", json_object_new_string(text));
	return a;
}

static json_object *jrule(const char *kind, const char *match, json_object *answer)
{
	json_object *r = json_object_new_object(), *answers = json_object_new_array();

	json_object_object_add(r, "kind", json_object_new_string(kind));
	if (match)
		json_object_object_add(r, "match", json_object_new_string(match));
	json_object_array_add(answers, answer);
	json_object_object_add(r, "answers", answers);
	return r;
}

/* Every secret, one after another, for the model's prose. */
static char *all_values(void)
{
	struct sx_buf b;

	sx_buf_init(&b, SIZE_MAX);
	for (size_t i = 0; i < SX_ARRAY_LEN(secrets); i++)
		sx_buf_printf(&b, "%s %s; ", secrets[i].label, secrets[i].value);
	return sx_buf_detach(&b, NULL);
}

/* The model types every secret, then repeats them in its reasoning, verdict and extraction. */
static char *script(void)
{
	json_object *rules = json_object_new_array(), *o = json_object_new_object();
	json_object *fill = json_object_new_object(), *acts = json_object_new_array();
	json_object *done = json_object_new_object(), *verdict = json_object_new_object();
	json_object *extract = json_object_new_object();
	char *all = all_values(), *reasoning = xasprintf("The page echoes %s", all);
	char *typing = xasprintf("Type %s", all), *s;

	json_object_object_add(done, "reasoning", json_object_new_string(reasoning));
	json_object_object_add(done, "actions", json_object_new_array());
	json_object_array_add(json_object_object_get(done, "actions"), jaction("complete", NULL, NULL));
	json_object_array_add(rules, jrule("decide", "Values received", done));
	for (size_t i = 0; i < SX_ARRAY_LEN(secrets); i++)
		json_object_array_add(acts, jaction("input_text", secrets[i].label, secrets[i].value));
	json_object_array_add(acts, jaction("click", "Continue", NULL));
	json_object_object_add(fill, "reasoning", json_object_new_string(typing));
	json_object_object_add(fill, "actions", acts);
	json_object_array_add(rules, jrule("decide", NULL, fill));
	json_object_object_add(verdict, "goal_achieved", json_object_new_boolean(true));
	json_object_object_add(verdict, "reasoning", json_object_new_string(all));
	json_object_array_add(rules, jrule("verify", NULL, verdict));
	json_object_object_add(extract, "echoed_otp", json_object_new_string(secrets[8].value));
	json_object_object_add(extract, "echoed_card", json_object_new_string(secrets[4].value));
	json_object_array_add(rules, jrule("extract", NULL, extract));
	json_object_object_add(o, "rules", rules);
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	free(typing);
	free(reasoning);
	free(all);
	return s;
}

static char *task_body(void)
{
	json_object *o = json_object_new_object(), *p = json_object_new_object();
	char *url = site_url("vault/index.html");
	char *hook = xasprintf("http://127.0.0.1:%d/hook", receiver.port);
	char *s;

	json_object_object_add(p, "username", json_object_new_string("sam@example.com"));
	for (size_t i = 0; i < SX_ARRAY_LEN(secrets); i++)
		json_object_object_add(p, secrets[i].key, json_object_new_string(secrets[i].value));
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_object_add(o, "navigation_goal", json_object_new_string("Confirm the credentials"));
	json_object_object_add(o, "data_extraction_goal", json_object_new_string("Which values were echoed?"));
	json_object_object_add(o, "navigation_payload", p);
	json_object_object_add(o, "webhook_callback_url", json_object_new_string(hook));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	free(hook);
	free(url);
	return s;
}

/* The webhook receiver's requests, once the task's delivery arrived (caller puts). */
static json_object *webhook_requests(void)
{
	struct double_count one = { &receiver, 1 };

	cr_assert(wait_until(test_double_count_reached, &one, 30000), "no webhook delivery arrived");
	return test_double_requests(&receiver);
}

/* The fixture site's own log saw the secret in the URL: the echo really happened. */
static void assert_site_saw(const char *value)
{
	char *path = xasprintf("%s/log/nginx-access.log", tenv("SX_VAR"));
	char *enc = percent(value);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	bool seen = false;

	while (f && !seen && getline(&line, &cap, f) > 0)
		seen = strstr(line, "/sites/vault/echo.html?") && strstr(line, enc);
	cr_assert(seen, "no request of echo.html with %s in %s", enc, path);
	if (f)
		fclose(f);
	free(line);
	free(enc);
	free(path);
}

Test(secrets, no_secret_in_any_log_artifact_row_or_webhook)
{
	char *body = task_body(), *sc = script(), *id = NULL, *path;
	struct hits h = { 0 };
	json_object *t, *reqs, *llm, *steps;
	struct resp *r;

	sx_buf_init(&h.where, SIZE_MAX);
	llm_double_script(sc);
	agent_start("outbound_allow = 127.0.0.1/32\n");
	id = post_task(org.key, body, NULL);
	t = wait_final(org.key, id, 240);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));

	/* The secrets did travel: typed, echoed into the URL and the page, sent to the model. */
	for (size_t i = 0; i < SX_ARRAY_LEN(secrets); i++)
		assert_site_saw(secrets[i].value);
	llm = llm_double_requests();
	cr_assert(json_has(llm, secrets[0].value), "the model never saw the echoed password");
	json_object_put(llm);

	/* What the client reads shows them masked. */
	path = xasprintf("/api/v1/tasks/%s/steps", id);
	r = api_get(path, org.key);
	cr_assert_eq(r->status, 200);
	steps = json_object_get(r->json);
	cr_assert(json_has(steps, "?password=********&"), "no masked URL in %s", r->body);
	cr_assert(json_has(steps, "/t/********/echo.html"), "no masked path in %s", r->body);
	cr_assert(json_has(steps, "The page echoes Password ********;"), "no masked reasoning in %s", r->body);
	search(&h, r->body, strlen(r->body), "GET steps");
	resp_free(r);
	json_object_put(steps);
	free(path);
	cr_assert(json_has(t, "********"), "extracted data not masked: %s", json_object_to_json_string(t));

	reqs = webhook_requests();
	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		const char *b = jstr(json_object_array_get_idx(reqs, i), "body");

		cr_assert_not_null(b);
		search(&h, b, strlen(b), "webhook body");
	}
	json_object_put(reqs);

	cr_assert_geq(search_artifacts(&h, id), 6, "too few artifact files: screenshots, LLM exchanges");
	search_logs(&h);
	search_tables(&h);
	cr_assert_eq(h.n, 0, "%zu secrets found:\n%s", h.n, sx_buf_str(&h.where));

	sx_buf_release(&h.where);
	json_object_put(t);
	free(id);
	free(sc);
	free(body);
}
