/*
 * Replay (agent/replay.h): a task solved once repeats without the model.
 *
 * Each test serves the job form (tests/sites/job) under a start URL of its
 * own, written into $SX_VAR/sites-run/ (nginx serves it as /sites-run/), so
 * that the page behind one URL can change between two runs of a task the
 * way a real site changes: the form as it is, redesigned (two fields
 * swapped, a question relabelled), asking for one more required field, or
 * with a password.  The first run is decided by the LLM test double's
 * scripted answers; the repeats run while the double answers every call
 * with an HTTP 500, so any model call would fail the task and the count of
 * requests it received proves none was made.
 */
#include <ftw.h>
#include <sys/stat.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "db.h"
#include "doubles.h"
#include "json.h"

static struct test_org org;

static void setup(void)
{
	agent_suite_init(&org, "replay");
	/* The recording is not under test here, and its encoding is most of a replayed task's time. */
	agent_start("replay = auto\nagent_workers = 2\nrecording_enabled = false\n");
}

TestSuite(replay, .init = setup, .fini = agent_suite_fini, .timeout = 420);

/* ---- the site behind one start URL ----------------------------------------- */

enum form { FORM_AS_IS, FORM_REDESIGNED, FORM_ONE_MORE_FIELD, FORM_PASSWORD };

#define SOURCE_LABEL "How did you hear about us?"
#define SOURCE_LABEL_NEW "Where did you first hear about this job?"

static const char linkedin_field[] =
	"    <div class=\"field\">\n"
	"      <label for=\"linkedin\">LinkedIn profile</label>\n"
	"      <input type=\"url\" id=\"linkedin\" name=\"linkedin\" required>\n"
	"    </div>\n";
static const char password_field[] =
	"    <div class=\"field\">\n"
	"      <label for=\"portal_password\">Candidate portal password</label>\n"
	"      <input type=\"password\" id=\"portal_password\" name=\"portal_password\" required>\n"
	"    </div>\n";

static char *read_fixture(const char *name)
{
	char *path = xasprintf("%s/tests/sites/job/%s", SRCDIR, name);
	FILE *f = fopen(path, "rb");
	char *buf = xcalloc(1, 1 << 16);

	cr_assert(f, "%s", path);
	cr_assert(fread(buf, 1, (1 << 16) - 1, f) > 0);
	fclose(f);
	free(path);
	return buf;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "wb");

	cr_assert(f, "%s", path);
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
	free(path);
}

/* Where the job form's field block for the input with this id starts and ends in html. */
static void field_span(const char *html, const char *id, size_t *start, size_t *end)
{
	char *label = xasprintf("<label for=\"%s\">", id);
	const char *at = strstr(html, label), *b, *e;

	cr_assert(at, "no field %s in the job form", id);
	for (b = at; b > html && strncmp(b, "    <div class=\"field", 21) != 0; b--)
		;
	e = strstr(at, "    </div>\n");
	cr_assert(e);
	*start = (size_t)(b - html);
	*end = (size_t)(e + 11 - html);
	free(label);
}

/* html with [start, end) replaced by insert (html is freed). */
static char *splice(char *html, size_t start, size_t end, const char *insert)
{
	char *out = xasprintf("%.*s%s%s", (int)start, html, insert, html + end);

	free(html);
	return out;
}

/* The job form as variant shows it (caller frees). */
static char *form_html(enum form variant)
{
	char *html = read_fixture("index.html"), *name;
	size_t s1, e1, s2, e2;

	switch (variant) {
	case FORM_AS_IS:
		break;
	case FORM_REDESIGNED:
		/* Email before full name, and the source question asked another way. */
		field_span(html, "full_name", &s1, &e1);
		field_span(html, "email", &s2, &e2);
		name = xasprintf("%.*s", (int)(e1 - s1), html + s1);
		html = splice(html, e2, e2, name);
		html = splice(html, s1, e1, "");
		free(name);
		field_span(html, "source", &s1, &e1);
		s2 = (size_t)(strstr(html + s1, SOURCE_LABEL) - html);
		html = splice(html, s2, s2 + strlen(SOURCE_LABEL), SOURCE_LABEL_NEW);
		break;
	case FORM_ONE_MORE_FIELD:
	case FORM_PASSWORD:
		field_span(html, "phone", &s1, &e1);
		html = splice(html, s1, s1, variant == FORM_PASSWORD ? password_field : linkedin_field);
		break;
	}
	return html;
}

/*
 * Serves the job form as variant shows it, with its thanks.html, under
 * /sites-run/<org>-<name>/, replacing what was there; returns the start
 * URL (caller frees).
 */
static char *site_serve(const char *name, enum form variant)
{
	char *root = xasprintf("%s/sites-run", tenv("SX_VAR"));
	char *dir = xasprintf("%s/%s-%s", root, org.id, name);
	char *page = form_html(variant), *thanks = read_fixture("thanks.html");

	mkdir(root, 0755);
	mkdir(dir, 0755);
	write_file(dir, "index.html", page);
	write_file(dir, "thanks.html", thanks);
	free(root);
	free(dir);
	free(page);
	free(thanks);
	return xasprintf("%s/sites-run/%s-%s/index.html", tenv("SX_URL"), org.id, name);
}

/* o as compact JSON (borrowed from o). */
static const char *compact(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* ---- tasks ------------------------------------------------------------------- */

struct applicant {
	const char *name, *email, *linkedin, *password;
};

static const struct applicant chris = { "Chris P. Bacon", "chris@pbacon.com", NULL, NULL };
static const struct applicant dana = { "Dana Scully", "dana@fbi.example", NULL, NULL };
static const struct applicant fox = { "Fox Mulder", "fox@fbi.example", NULL, NULL };

/* `,"key":"value"` when value is set, else "" (caller frees). */
static char *member_or_empty(const char *key, const char *value)
{
	return value ? xasprintf(",\"%s\":\"%s\"", key, value) : xstrdup("");
}

/*
 * A navigation-only task on url with a's details as its payload (linkedin
 * and password only when a has them); extras: more members of the body,
 * with a leading comma, or "".  Caller frees.
 */
static char *task_body(const char *url, const struct applicant *a, const char *extras)
{
	char *li = member_or_empty("linkedin", a->linkedin), *pw = member_or_empty("portal_password", a->password);
	char *b = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Apply for the job with the applicant's details\","
			    "\"navigation_payload\":{\"name\":\"%s\",\"email\":\"%s\"%s%s}%s}",
			    url, a->name, a->email, li, pw, extras);

	free(li);
	free(pw);
	return b;
}

/*
 * The double's answers for a first run on the form: fill name and email
 * (and the password, when the applicant has one), choose LinkedIn, agree,
 * submit; complete on the thanks page; verify; extract.
 */
static void script_first_run(const struct applicant *a)
{
	char *pw = a->password ? xasprintf("{\"action\":\"input_text\",\"label\":\"Candidate portal password\","
					   "\"text\":\"%s\"},", a->password) : xstrdup("");
	char *s = xasprintf(
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"Application submitted\",\"answers\":[{\"reasoning\":\"Sent\","
		"   \"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"Submit application\",\"answers\":[{\"reasoning\":\"Fill the form\","
		"   \"actions\":["
		"    {\"action\":\"input_text\",\"label\":\"Full name\",\"text\":\"%s\"},"
		"    {\"action\":\"input_text\",\"label\":\"Email\",\"text\":\"%s\"},%s"
		"    {\"action\":\"select_option\",\"label\":\"" SOURCE_LABEL "\",\"option\":\"LinkedIn\"},"
		"    {\"action\":\"check\",\"label\":\"I agree to the processing of my personal data for recruitment purposes\"},"
		"    {\"action\":\"click\",\"label\":\"Submit application\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"The thank-you page is shown\"}]},"
		" {\"kind\":\"extract\",\"answers\":[{\"application_successful\":true}]}"
		"]}", a->name, a->email, pw);

	llm_double_script(s);
	free(s);
	free(pw);
}

/* The double's answers once the replay hands over: form_actions on the form, complete on the thanks page. */
static void script_healing(const char *form_match, const char *form_actions)
{
	char *s = xasprintf("{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"Application submitted\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"%s\",\"answers\":[{\"actions\":[%s]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"Thanks page\"}]}]}",
		form_match, form_actions);

	llm_double_script(s);
	free(s);
}

/* The double answers every call with an HTTP 500: a model call fails the task. */
static void model_refuses(void)
{
	llm_double_script("{\"rules\":[{\"kind\":\"any\",\"match\":null,\"answers\":[{\"__http\":500}]}]}");
}

/* A task that ran: its object at the end, its id, and how many model calls it made. */
struct ran {
	json_object *task;
	char *id;
	size_t calls;
};

static void ran_release(struct ran *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_object_put(r[i].task);
		free(r[i].id);
	}
}

/* Waits for the task id to end (the double's count taken before is before). */
static struct ran ran_wait(char *id, size_t before)
{
	struct ran r;

	r.id = id;
	r.task = wait_final(org.key, id, 240);
	r.calls = test_double_count(&llm_double) - before;
	return r;
}

/* Runs the task on url for a (extras as task_body's) to its end. */
static struct ran run_for(const char *url, const struct applicant *a, const char *extras)
{
	char *body = task_body(url, a, extras);
	size_t before = test_double_count(&llm_double);
	char *id = post_task(org.key, body, NULL);

	free(body);
	return ran_wait(id, before);
}

/* The task's steps (caller puts). */
static json_object *steps_of(const char *id)
{
	return api_get_json(org.key, "/api/v1/tasks/%s/steps", id);
}

/* How many of the task's steps were replayed. */
static size_t replayed_steps(const char *id)
{
	json_object *steps = steps_of(id);
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(steps); i++)
		n += sx_json_bool(sx_json_member(json_object_array_get_idx(steps, i), "output"), "replayed");
	json_object_put(steps);
	return n;
}

/* Whether some step of the task ended on a URL holding text (the form's GET query shows what was sent). */
static bool sent(const char *id, const char *text)
{
	json_object *steps = steps_of(id);
	bool found = false;

	for (size_t i = 0; !found && i < json_object_array_length(steps); i++) {
		const char *u = jstr(sx_json_member(json_object_array_get_idx(steps, i), "output"), "url_after");

		found = u && strstr(u, text);
	}
	json_object_put(steps);
	return found;
}

static json_object *replay_of(const struct ran *r)
{
	return sx_json_member(r->task, "replay");
}

/* The task completed with this replay outcome and made calls model calls. */
static void assert_ran(const struct ran *r, const char *outcome, size_t calls)
{
	cr_assert_str_eq(jstr(r->task, "status"), "completed", "%s", compact(r->task));
	cr_assert_str_eq(jstr(replay_of(r), "outcome"), outcome, "%s", compact(replay_of(r)));
	cr_assert_eq(r->calls, calls, "%s made %zu model calls, not %zu", r->id, r->calls, calls);
}

/* Everything `sextant-admin trace <verb> --org <org> [id]` printed (caller frees), asserting it succeeded. */
static char *admin_trace(const char *verb, const char *id)
{
	char *cmd = xasprintf("'%s' --config '%s' trace %s --org %s %s 2>/dev/null", tenv("SX_ADMIN"),
			      tenv("SX_CONF"), verb, org.id, id ? id : "");
	FILE *p = popen(cmd, "r");
	char *out = xcalloc(1, 1 << 20);
	size_t n;

	cr_assert(p);
	n = fread(out, 1, (1 << 20) - 1, p);
	out[n] = '\0';
	cr_assert_eq(pclose(p), 0, "sextant-admin trace %s failed", verb);
	free(cmd);
	return out;
}

/* The trace of task r as `trace show` prints it, compact (caller frees). */
static char *trace_text(const struct ran *r)
{
	char *text = admin_trace("show", jstr(replay_of(r), "trace_id"));
	json_object *t = json_tokener_parse(text);
	char *out;

	cr_assert(t, "trace show: %s", text);
	out = xstrdup(compact(t));
	json_object_put(t);
	free(text);
	return out;
}

static long long trace_version(const struct ran *r)
{
	return sx_json_int(replay_of(r), "trace_version", 0);
}

/* ---- the tests ----------------------------------------------------------------- */

Test(replay, a_repeat_with_new_values_makes_no_model_call)
{
	char *url = site_serve("repeat", FORM_AS_IS), *trace, *m;
	struct ran r[2];
	json_object *run_obj;

	script_first_run(&chris);
	r[0] = run_for(url, &chris, "");
	assert_ran(&r[0], "miss", 3);
	cr_assert_eq(trace_version(&r[0]), 1, "the first run keeps a trace");
	cr_assert_eq(replayed_steps(r[0].id), 0);

	/* What is stored: references for the payload's values, fingerprints, evidence. */
	trace = trace_text(&r[0]);
	cr_assert(strstr(trace, "\"navigation_goal\":\"Apply for the job with the applicant's details\""), "%s", trace);
	cr_assert(strstr(trace, "\"payload_keys\":[\"$.email\",\"$.name\"]"), "%s", trace);
	cr_assert(strstr(trace, "\"text\":{\"ref\":\"$.name\"}"), "%s", trace);
	cr_assert(strstr(trace, "\"text\":{\"ref\":\"$.email\"}"), "%s", trace);
	cr_assert(strstr(trace, "\"option\":{\"literal\":\"LinkedIn\"}"), "%s", trace);
	cr_assert(strstr(trace, "\"name\":\"full_name\",\"dom_id\":\"full_name\""), "%s", trace);
	cr_assert(strstr(trace, "\"evidence\":{\"url\":\"") && strstr(trace, "/thanks.html\""), "%s", trace);
	cr_assert(strstr(trace, "We will review your application"), "the thanks page's text is the evidence");
	cr_assert(!strstr(trace, chris.name) && !strstr(trace, "pbacon"), "no payload value is stored: %s", trace);
	cr_assert(!strstr(trace, "\"e1") && !strstr(trace, "data-sx-id"), "no scrape id is stored: %s", trace);
	free(trace);

	/* The repeat: another applicant, and the model refuses every call. */
	model_refuses();
	r[1] = run_for(url, &dana, "");
	assert_ran(&r[1], "hit", 0);
	cr_assert(sent(r[1].id, "full_name=Dana+Scully"), "the form was sent with the new name");
	cr_assert(sent(r[1].id, "email=dana%40fbi.example"), "the form was sent with the new email");
	cr_assert_eq(replayed_steps(r[1].id), 2);
	cr_assert_eq(trace_version(&r[1]), 1, "a clean replay keeps the trace as it was");
	cr_assert(sx_json_int(replay_of(&r[1]), "model_tokens_saved", 0) > 0);

	/* The run API shows it as Skyvern's script_run. */
	run_obj = api_get_json(org.key, "/v1/runs/%s", r[1].id);
	cr_assert(!sx_json_bool(sx_json_member(run_obj, "script_run"), "ai_fallback_triggered"));
	cr_assert_str_eq(jstr(sx_json_member(run_obj, "script_run"), "script_id"), jstr(replay_of(&r[0]), "trace_id"));
	json_object_put(run_obj);
	m = metrics_scrape();
	cr_assert(metric_value(m, "sextant_replay_tasks_total{outcome=\"hit\"}") >= 1);
	cr_assert(metric_value(m, "sextant_replay_model_tokens_saved_total") > 0);
	free(m);
	ran_release(r, 2);
	free(url);
}

Test(replay, a_task_with_an_extraction_goal_makes_its_one_extract_call)
{
	static const char goal[] = ",\"data_extraction_goal\":\"Was the application successful?\"";
	char *url = site_serve("extract", FORM_AS_IS);
	struct ran r[2];
	json_object *reqs;

	script_first_run(&chris);
	r[0] = run_for(url, &chris, goal);
	assert_ran(&r[0], "miss", 3);
	llm_double_script("{\"rules\":[{\"kind\":\"extract\",\"answers\":[{\"application_successful\":true}]},"
			  "{\"kind\":\"any\",\"match\":null,\"answers\":[{\"__http\":500}]}]}");
	r[1] = run_for(url, &fox, goal);
	assert_ran(&r[1], "hit", 1);
	reqs = llm_double_requests();
	cr_assert_str_eq(jstr(json_object_array_get_idx(reqs, json_object_array_length(reqs) - 1), "kind"), "extract",
			 "the one call is the extraction");
	cr_assert(sx_json_bool(sx_json_member(r[1].task, "extracted_information"), "application_successful"));
	json_object_put(reqs);
	ran_release(r, 2);
	free(url);
}

Test(replay, a_changed_page_heals_with_the_model_and_the_trace_is_updated)
{
	char *url = site_serve("changed", FORM_AS_IS);
	struct ran r[3];
	json_object *steps, *first;

	script_first_run(&chris);
	r[0] = run_for(url, &chris, "");
	assert_ran(&r[0], "miss", 3);

	/* The redesign: two fields swapped, the source question relabelled. */
	free(site_serve("changed", FORM_REDESIGNED));
	script_healing(SOURCE_LABEL_NEW,
		"{\"action\":\"select_option\",\"label\":\"" SOURCE_LABEL_NEW "\",\"option\":\"LinkedIn\"},"
		"{\"action\":\"check\",\"label\":\"I agree to the processing of my personal data for recruitment purposes\"},"
		"{\"action\":\"click\",\"label\":\"Submit application\"}");
	r[1] = run_for(url, &dana, "");
	/* The model decided the changed part (the form's rest, then the thanks page) and verified. */
	assert_ran(&r[1], "healed", 3);
	cr_assert_eq(sx_json_int(replay_of(&r[1]), "healed_at_step", -1), 1);
	cr_assert_eq(llm_double_asked("decide", SOURCE_LABEL_NEW), 1);
	/* The fields the trace still named were typed by the replay, with the new values. */
	steps = steps_of(r[1].id);
	first = sx_json_member(json_object_array_get_idx(steps, 0), "output");
	cr_assert(sx_json_bool(first, "replayed"));
	cr_assert_eq(json_object_array_length(sx_json_member(first, "actions")), 2, "%s", compact(first));
	cr_assert(jstr(first, "replay_handover"));
	json_object_put(steps);
	cr_assert(sent(r[1].id, "full_name=Dana+Scully"));
	cr_assert_eq(trace_version(&r[1]), 2, "the healed run replaced the trace");

	/* The next run on the redesigned page replays cleanly. */
	model_refuses();
	r[2] = run_for(url, &fox, "");
	assert_ran(&r[2], "hit", 0);
	cr_assert(sent(r[2].id, "full_name=Fox+Mulder"));
	ran_release(r, 3);
	free(url);
}

Test(replay, a_page_that_needs_one_more_field_falls_back_then_replays_cleanly)
{
	const struct applicant a[] = {
		{ chris.name, chris.email, "https://example.com/in/chris", NULL },
		{ dana.name, dana.email, "https://example.com/in/dana", NULL },
		{ fox.name, fox.email, "https://example.com/in/fox", NULL },
	};
	char *url = site_serve("extra", FORM_AS_IS);
	struct ran r[3];

	script_first_run(&a[0]);
	r[0] = run_for(url, &a[0], "");
	assert_ran(&r[0], "miss", 3);

	/* The form now requires a LinkedIn profile: the replayed submit is refused by the page. */
	free(site_serve("extra", FORM_ONE_MORE_FIELD));
	script_healing("LinkedIn profile",
		"{\"action\":\"input_text\",\"label\":\"LinkedIn profile\",\"text\":\"https://example.com/in/dana\"},"
		"{\"action\":\"click\",\"label\":\"Submit application\"}");
	r[1] = run_for(url, &a[1], "");
	assert_ran(&r[1], "healed", 3);
	cr_assert(sent(r[1].id, "linkedin=https%3A%2F%2Fexample.com%2Fin%2Fdana"));
	cr_assert_eq(trace_version(&r[1]), 2);

	model_refuses();
	r[2] = run_for(url, &a[2], "");
	assert_ran(&r[2], "hit", 0);
	cr_assert(sent(r[2].id, "linkedin=https%3A%2F%2Fexample.com%2Fin%2Ffox"), "the new field gets the new value");
	cr_assert(sent(r[2].id, "full_name=Fox+Mulder"));
	ran_release(r, 3);
	free(url);
}

Test(replay, two_identical_tasks_at_once_both_replay)
{
	char *url = site_serve("twice", FORM_AS_IS), *b1 = task_body(url, &dana, ""), *b2 = task_body(url, &fox, "");
	struct ran r[3];
	size_t before;
	char *id1, *id2;

	script_first_run(&chris);
	r[0] = run_for(url, &chris, "");
	assert_ran(&r[0], "miss", 3);
	model_refuses();
	before = test_double_count(&llm_double);
	id1 = post_task(org.key, b1, NULL);
	id2 = post_task(org.key, b2, NULL);
	r[1] = ran_wait(id1, before);
	r[2] = ran_wait(id2, before);
	assert_ran(&r[1], "hit", 0);
	assert_ran(&r[2], "hit", 0);
	cr_assert(sent(r[1].id, "full_name=Dana+Scully"));
	cr_assert(sent(r[2].id, "full_name=Fox+Mulder"));
	ran_release(r, 3);
	free(b1);
	free(b2);
	free(url);
}

/* ---- secrets ------------------------------------------------------------------ */

static const char *needle;
static char *hit_path;

/* nftw's visitor: records a file that holds needle. */
static int holds_needle(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	FILE *f;
	char *buf;
	size_t n;

	(void)ftw;
	if (type != FTW_F || hit_path)
		return 0;
	f = fopen(path, "rb");
	if (!f)
		return 0;
	buf = xmalloc((size_t)sb->st_size + 1);
	n = fread(buf, 1, (size_t)sb->st_size, f);
	fclose(f);
	if (memmem(buf, n, needle, strlen(needle)))
		hit_path = xstrdup(path);
	free(buf);
	return 0;
}

/* The first file under dir that holds s, or NULL (caller frees). */
static char *file_holding(const char *dir, const char *s)
{
	needle = s;
	hit_path = NULL;
	nftw(dir, holds_needle, 16, FTW_PHYS);
	return hit_path;
}

Test(replay, no_secret_value_reaches_a_trace_or_an_artifact)
{
	const struct applicant a[] = {
		{ chris.name, chris.email, NULL, "Tr0ub4dor-first-s3cret" },
		{ dana.name, dana.email, NULL, "C0rrect-h0rse-second" },
	};
	char *url = site_serve("secret", FORM_PASSWORD), *hit, *traces, *trace;
	char *dir = xasprintf("%s/artifacts/%s", tenv("SX_VAR"), org.id);
	struct ran r[2];
	struct sx_rows *rows;

	script_first_run(&a[0]);
	r[0] = run_for(url, &a[0], "");
	assert_ran(&r[0], "miss", 3);
	trace = trace_text(&r[0]);
	cr_assert(strstr(trace, "\"text\":{\"ref\":\"$.portal_password\"}"), "the password is stored as a reference");
	free(trace);
	model_refuses();
	r[1] = run_for(url, &a[1], "");
	assert_ran(&r[1], "hit", 0);

	traces = admin_trace("list", NULL);
	rows = db_rows1("SELECT trace_json, key_json FROM traces WHERE org_id = ?", org.id);
	for (size_t s = 0; s < SX_ARRAY_LEN(a); s++) {
		cr_assert(!strstr(traces, a[s].password));
		for (size_t i = 0; i < rows->nrows; i++)
			cr_assert(!strstr(sx_rows_get(rows, i, 0), a[s].password) &&
				  !strstr(sx_rows_get(rows, i, 1), a[s].password), "a trace holds a secret value");
		hit = file_holding(dir, a[s].password);
		cr_assert_null(hit, "%s holds a secret value", hit ? hit : "");
	}
	sx_rows_free(rows);
	free(traces);
	ran_release(r, 2);
	free(dir);
	free(url);
}

/* ---- control ------------------------------------------------------------------ */

Test(replay, run_with_agent_never_replays_and_a_deleted_trace_is_gone)
{
	char *url = site_serve("agent", FORM_AS_IS), *list;
	struct ran r[3];

	script_first_run(&chris);
	r[0] = run_for(url, &chris, "");
	assert_ran(&r[0], "miss", 3);

	/* run_with agent: the model decides, although a trace exists. */
	r[1] = run_for(url, &chris, ",\"run_with\":\"agent\"");
	assert_ran(&r[1], "off", 3);
	cr_assert_eq(replayed_steps(r[1].id), 0);
	cr_assert_str_eq(jstr(sx_json_member(r[1].task, "request"), "run_with"), "agent");

	/* Deleted, the trace is not replayed: the next run asks the model. */
	free(admin_trace("delete", jstr(replay_of(&r[1]), "trace_id")));
	list = admin_trace("list", NULL);
	cr_assert(!strstr(list, jstr(replay_of(&r[1]), "trace_id")));
	free(list);
	r[2] = run_for(url, &chris, ",\"run_with\":\"code\"");
	assert_ran(&r[2], "miss", 3);
	ran_release(r, 3);
	free(url);
}

/* How many traces the organization has (`trace list`). */
static size_t trace_count(void)
{
	char *text = admin_trace("list", NULL);
	json_object *list = json_tokener_parse(text);
	size_t n;

	cr_assert(json_object_is_type(list, json_type_array), "trace list: %s", text);
	n = json_object_array_length(list);
	json_object_put(list);
	free(text);
	return n;
}

/*
 * replay = off (README: Replay, "Turning it off"): a task whose run_with is
 * null neither keeps a trace nor replays one; a task that asks for "code"
 * still records, and replays.
 */
Test(replay, replay_off_keeps_no_trace_but_run_with_code_still_replays)
{
	char *url = site_serve("off", FORM_AS_IS);
	struct ran r[4];

	agents_stop_all();
	agent_start("replay = off\nrecording_enabled = false\n");

	script_first_run(&chris);
	r[0] = run_for(url, &chris, "");
	assert_ran(&r[0], "off", 3);
	cr_assert_eq(trace_count(), 0, "a task under replay = off kept a trace");

	/* run_with code: no trace yet, so the model decides, and its trace is kept. */
	r[1] = run_for(url, &chris, ",\"run_with\":\"code\"");
	assert_ran(&r[1], "miss", 3);
	cr_assert_eq(trace_version(&r[1]), 1);
	cr_assert_eq(trace_count(), 1);

	/* With a trace there, a task without run_with still asks the model. */
	r[2] = run_for(url, &dana, "");
	assert_ran(&r[2], "off", 3);
	cr_assert_eq(replayed_steps(r[2].id), 0);

	/* run_with code replays it. */
	model_refuses();
	r[3] = run_for(url, &fox, ",\"run_with\":\"code\"");
	assert_ran(&r[3], "hit", 0);
	cr_assert(sent(r[3].id, "full_name=Fox+Mulder"), "the form was sent with the new name");
	cr_assert_eq(trace_count(), 1);
	ran_release(r, 4);
	free(url);
}

Test(replay, run_with_is_checked)
{
	struct resp *r = api_post_json("/api/v1/tasks", org.key,
				       "{\"url\":\"https://a.example.com/\",\"run_with\":\"script\"}");

	cr_assert_eq(r->status, 422, "%s", r->body);
	cr_assert(strstr(r->body, "run_with"));
	resp_free(r);
}
