/*
 * The step loop (see runner.h).
 *
 * Every step is a row written before the next step starts: created as
 * running, then completed, failed or canceled with its actions, tokens and
 * cost.  A step that fails (the model's answer unusable, an action that
 * failed, the browser gone) is retried with retry_index + 1, up to
 * max_retries_per_step; a lost browser session is replaced before the retry.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sx.h"
#include "runner.h"
#include "crypto.h"
#include "actions.h"
#include "artifacts.h"
#include "buf.h"
#include "chromedriver.h"
#include "conf.h"
#include "db.h"
#include "heartbeat.h"
#include "http.h"
#include "llm/llm.h"
#include "log.h"
#include "loop.h"
#include "mask.h"
#include "prompt.h"
#include "proxy.h"
#include "proxyauth.h"
#include "queue.h"
#include "recorder.h"
#include "schema.h"
#include "scrape.h"
#include "timeutil.h"
#include "totp.h"
#include "webdriver.h"

#define ERR_LEN 512
#define HISTORY_KEEP 30
#define DOWNLOAD_MAX (25u << 20)
#define DECIDE_TEXT_MAX 3000

enum outcome {
	OUT_CONTINUE,      /* the step is done; take the next one */
	OUT_COMPLETED,
	OUT_TERMINATED,
	OUT_STEP_FAILED,   /* retry this step */
	OUT_TASK_FAILED,   /* fail the task now (e.g. extraction never matched its schema) */
	OUT_CANCELED,
	OUT_TIMED_OUT,
	OUT_LOST,          /* the lease is no longer ours */
	OUT_SHUTDOWN,      /* hand the task back */
};

struct run {
	struct runner *r;
	struct claimed_task *ct;
	const struct task *t;
	const char *url;
	const char *nav_goal;
	const char *extract_goal;
	json_object *payload;
	json_object *schema;
	char *payload_json;
	char *schema_json;
	struct webdriver_session *wd;
	char *user_data_dir;
	char *work_dir;
	char *last_url;
	char *proxy;                 /* the task's proxy URL (may hold credentials: never logged), or NULL */
	struct artifact_ctx art;
	struct recorder *rec;        /* the session recording, or NULL when disabled */
	json_object *history;        /* array of strings */
	struct loop_guard loop;
	int64_t deadline_ms;
	struct heartbeat hb;         /* renews the lease; raises cancel, lost and interrupt */
	/* the current step */
	char step_id[SX_ID_MAX];
	long long in_tokens, out_tokens;
	double cost;
	json_object *out_actions;
	json_object *extracted;
	int64_t llm_ms;              /* time spent waiting for the model this step */
	char reason[ERR_LEN];
	/*
	 * 2FA (totp.h).  Every code obtained is added to the mask, so no code
	 * reaches an artifact or a step.
	 */
	struct mask *mask;           /* the payload's secrets and the codes */
	struct totp_state totp;
	char code[TOTP_CODE_MAX];    /* the code for this step's re-decide, or "" */
	bool code_needed;            /* the last decide asked for a code */
};

static const char *jmember(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

/* ---- set-up -------------------------------------------------------------- */

enum sx_rc runner_open(struct runner *r, const struct sx_conf *c, const atomic_int *stopping)
{
	enum sx_rc rc;

	memset(r, 0, sizeof(*r));
	r->conf = c;
	r->stopping = stopping;
	queue_owner_name(r->owner, sizeof(r->owner));
	rc = sx_db_open(&r->db, c);
	if (rc == SX_OK)
		rc = sx_db_open(&r->hb_db, c);
	if (rc == SX_OK)
		rc = llm_client_new(c, &r->llm);
	return rc;
}

void runner_close(struct runner *r)
{
	if (r->driver)
		chromedriver_stop(r->driver);
	llm_client_free(r->llm);
	sx_db_free(r->hb_db);
	sx_db_free(r->db);
	memset(r, 0, sizeof(*r));
}

/* The WebDriver endpoint: the configured one, or our own chromedriver (restarted when dead). */
static enum sx_rc endpoint(struct runner *r, const char **out)
{
	enum sx_rc rc = SX_OK;

	if (r->conf->webdriver_url && *r->conf->webdriver_url) {
		*out = r->conf->webdriver_url;
		return SX_OK;
	}
	if (r->driver && !chromedriver_alive(r->driver)) {
		log_warn("runner", "msg=\"chromedriver died; restarting it\"");
		chromedriver_stop(r->driver);
		r->driver = NULL;
	}
	if (!r->driver)
		rc = chromedriver_start(r->conf->chromedriver_path, (int)r->conf->chromedriver_port, &r->driver);
	if (rc == SX_OK)
		*out = chromedriver_url(r->driver);
	return rc;
}

static void session_close(struct run *run)
{
	webdriver_session_delete(run->wd);
	webdriver_session_free(run->wd);
	run->wd = NULL;
	sx_rm_tree(run->user_data_dir);
	free(run->user_data_dir);
	run->user_data_dir = NULL;
}

/* Opens a browser session when there is none, on the page the task was at. */
static enum sx_rc session_ensure(struct run *run, char *err, size_t errlen)
{
	struct webdriver_options o;
	const char *ep = NULL;
	char tmpl[] = "/tmp/sextant-chromium-XXXXXX";
	char *proxy_plain = NULL, *ext_dir = NULL;
	enum sx_rc rc;

	if (run->wd)
		return SX_OK;
	rc = endpoint(run->r, &ep);
	if (rc) {
		snprintf(err, errlen, "could not start chromedriver: %s", sx_strerror(rc));
		return SX_ESESSION;
	}
	if (!mkdtemp(tmpl)) {
		snprintf(err, errlen, "could not create a browser profile directory");
		return SX_EIO;
	}
	run->user_data_dir = xstrdup(tmpl);
	memset(&o, 0, sizeof(o));
	o.endpoint = ep;
	o.chromium_path = run->r->conf->chromium_path;
	o.user_data_dir = run->user_data_dir;
	o.window_width = (int)run->r->conf->window_width;
	o.window_height = (int)run->r->conf->window_height;
	o.timeout_ms = run->r->conf->webdriver_timeout * 1000;
	o.download_dir = run->work_dir;
	o.proxy = run->proxy;
	if (run->proxy && proxy_url_has_credentials(run->proxy)) {
		char *user = NULL, *pass = NULL;

		/* Chromium takes the proxy without credentials and the credentials from the extension. */
		proxy_url_credentials(run->proxy, &user, &pass);
		proxy_plain = proxy_url_strip_credentials(run->proxy);
		ext_dir = xasprintf("%s/sextant-proxy-auth", run->user_data_dir);
		rc = proxyauth_write_extension(ext_dir, user, pass);
		crypto_wipe(user, strlen(user));
		crypto_wipe(pass, strlen(pass));
		free(user);
		free(pass);
		if (rc) {
			snprintf(err, errlen, "could not prepare the proxy credentials for the browser");
			free(proxy_plain);
			free(ext_dir);
			session_close(run);
			return SX_EIO;
		}
		o.proxy = proxy_plain;
		o.extension_dir = ext_dir;
	}
	rc = webdriver_session_new(&o, &run->wd);
	free(proxy_plain);
	free(ext_dir);
	if (rc) {
		snprintf(err, errlen, "could not start a browser session: %s", sx_strerror(rc));
		run->wd = NULL;
		session_close(run);
		return SX_ESESSION;
	}
	rc = webdriver_navigate(run->wd, run->last_url ? run->last_url : run->url);
	if (rc == SX_ESESSION) {
		snprintf(err, errlen, "browser session lost while loading the page: %.200s",
			 webdriver_last_error(run->wd));
		session_close(run);
		return rc;
	}
	if (rc) {
		/* A page that fails to load is the model's to see, not a lost session. */
		log_warn("runner", "msg=\"navigation failed\" task=%s error=%s", run->t->id,
			 sx_log_quote(webdriver_last_error(run->wd)));
	}
	return SX_OK;
}

/* ---- steps --------------------------------------------------------------- */

static enum sx_rc step_create(struct run *run, long long order)
{
	static const char q[] =
		"INSERT INTO steps (id, task_id, org_id, status, step_order, retry_index, "
		"created_at, modified_at) SELECT ?, ?, ?, 'running', ?, "
		"COALESCE(MAX(retry_index) + 1, 0), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) "
		"FROM steps WHERE task_id = ? AND step_order = ?";
	enum sx_rc rc;

	sx_id_new(run->step_id, "stp_");
	run->in_tokens = run->out_tokens = 0;
	run->cost = 0;
	json_object_put(run->out_actions);
	run->out_actions = json_object_new_array();
	run->reason[0] = '\0';
	{
		struct sx_param p[] = { sx_p_str(run->step_id), sx_p_str(run->t->id),
					sx_p_str(run->t->org_id), sx_p_i64(order),
					sx_p_str(run->t->id), sx_p_i64(order) };

		rc = sx_db_exec(run->r->db, q, p, 6, NULL);
	}
	return rc;
}

static enum sx_rc step_finish(struct run *run, const char *status, bool is_last, json_object *output)
{
	static const char q[] =
		"UPDATE steps SET status = ?, is_last = ?, input_token_count = ?, output_token_count = ?, "
		"step_cost = ?, output = ?, modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	static const char q_count[] =
		"UPDATE tasks SET step_count = (SELECT COUNT(*) FROM steps WHERE task_id = ?), "
		"modified_at = UTC_TIMESTAMP(6) WHERE id = ?";
	const char *text;
	enum sx_rc rc;

	mask_codes_in_json(run->mask, output);
	text = json_object_to_json_string_ext(output, JSON_C_TO_STRING_PLAIN);
	{
		struct sx_param p[] = { sx_p_str(status), sx_p_i64(is_last), sx_p_i64(run->in_tokens),
					sx_p_i64(run->out_tokens), sx_p_f64(run->cost), sx_p_str(text),
					sx_p_str(run->step_id) };

		rc = sx_db_exec(run->r->db, q, p, 7, NULL);
	}
	if (rc == SX_OK) {
		struct sx_param p[] = { sx_p_str(run->t->id), sx_p_str(run->t->id) };

		rc = sx_db_exec(run->r->db, q_count, p, 2, NULL);
	}
	return rc;
}

/* Adds a line to the history the model sees next step. */
static void history_add(struct run *run, long long order, const char *line)
{
	char *masked = mask_text(run->mask, line);
	char *entry = xasprintf("step %lld: %s", order, masked);

	json_object_array_add(run->history, json_object_new_string(entry));
	while (json_object_array_length(run->history) > HISTORY_KEEP)
		json_object_array_del_idx(run->history, 0, 1);
	free(entry);
	free(masked);
}

static char *history_text(struct run *run)
{
	struct sx_buf b;
	char *s;

	sx_buf_init(&b, 1 << 20);
	for (size_t i = 0; i < json_object_array_length(run->history); i++) {
		sx_buf_puts(&b, json_object_get_string(json_object_array_get_idx(run->history, i)));
		sx_buf_putc(&b, '\n');
	}
	s = sx_buf_detach(&b, NULL);
	return s ? s : xstrdup("");
}

/* Rebuilds the history of a resumed task from its completed steps' outputs. */
static void history_load(struct run *run)
{
	static const char q[] =
		"SELECT step_order, output FROM steps WHERE task_id = ? AND status = 'completed' "
		"ORDER BY step_order, retry_index";
	struct sx_param p[] = { sx_p_str(run->t->id) };
	struct sx_rows *rows = NULL;

	if (sx_db_query(run->r->db, q, p, 1, &rows) != SX_OK)
		return;
	for (size_t i = 0; i < rows->nrows; i++) {
		json_object *out = rows->cells[i * rows->ncols + 1] ?
			json_tokener_parse(sx_rows_get(rows, i, 1)) : NULL;
		json_object *acts;
		const char *u = jmember(out, "url_after");

		if (u) {
			free(run->last_url);
			run->last_url = xstrdup(u);
		}
		if (out && json_object_object_get_ex(out, "actions", &acts)) {
			for (size_t k = 0; k < json_object_array_length(acts); k++) {
				json_object *a = json_object_array_get_idx(acts, k);
				char sig[256];

				action_signature(a, sig, sizeof(sig));
				history_add(run, sx_rows_i64(rows, i, 0, 0), sig);
			}
		}
		json_object_put(out);
	}
	sx_rows_free(rows);
}

/* ---- LLM calls ----------------------------------------------------------- */

/*
 * One model call, with its request and response saved (secrets masked) and
 * its tokens and cost added to the step.  *text_out is the answer (caller
 * frees).
 */
static enum sx_rc ask(struct run *run, const char *system, const char *user,
		      const unsigned char *png, size_t pnglen, char **text_out, char *err, size_t errlen)
{
	struct llm_request req = { system, user, png, pnglen };
	struct llm_result res;
	enum sx_rc rc;

	int64_t t0 = sx_mono_ms();

	*text_out = NULL;
	memset(&res, 0, sizeof(res));
	rc = llm_complete(run->r->llm, &req, &res);
	run->llm_ms += sx_mono_ms() - t0;
	run->in_tokens += res.input_tokens;
	run->out_tokens += res.output_tokens;
	run->cost += res.cost;
	if (res.request_json) {
		char *m = mask_text(run->mask, res.request_json);

		artifact_save(&run->art, run->step_id, ART_LLM_REQUEST, "json", m, strlen(m), NULL);
		free(m);
	}
	if (res.response_json) {
		char *m = mask_text(run->mask, res.response_json);

		artifact_save(&run->art, run->step_id, ART_LLM_RESPONSE, "json", m, strlen(m), NULL);
		free(m);
	}
	if (rc) {
		snprintf(err, errlen, "the language model call failed: %.300s", res.error[0] ? res.error : sx_strerror(rc));
	} else {
		*text_out = res.text;
		res.text = NULL;
	}
	llm_result_release(&res);
	return rc;
}

static void ctx_from_page(struct run *run, struct prompt_ctx *ctx, const struct scrape_result *page,
			  char *history, long long order)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->url = page->url;
	ctx->title = page->title;
	ctx->navigation_goal = run->nav_goal;
	ctx->data_extraction_goal = run->extract_goal;
	ctx->payload_json = run->payload_json;
	ctx->elements = page->elements;
	ctx->history = history;
	ctx->step = (int)order;
	ctx->max_steps = (int)run->t->max_steps;
	ctx->loop_warning = run->loop.warned;
	ctx->page_text = page->text;
}

/*
 * Extracts the data the task asked for from page, checked against the
 * schema when there is one: one repair call on a mismatch, then a failure
 * (OUT_TASK_FAILED with the violation).  Returns OUT_COMPLETED with
 * run->extracted set, or a failure outcome.
 */
static enum outcome extract(struct run *run, const struct scrape_result *page, long long order)
{
	struct prompt_ctx ctx;
	char *history = history_text(run);
	char *system = prompt_system_extract();
	char problem[ERR_LEN] = "";
	enum outcome out = OUT_STEP_FAILED;

	ctx_from_page(run, &ctx, page, history, order);
	for (int attempt = 0; attempt < 2; attempt++) {
		char *user = prompt_user_extract(&ctx, run->schema_json, attempt ? problem : NULL);
		char *text = NULL;
		char perr[256];
		json_object *v;

		if (ask(run, system, user, NULL, 0, &text, run->reason, sizeof(run->reason)) != SX_OK) {
			free(user);
			out = OUT_STEP_FAILED;
			goto out;
		}
		free(user);
		v = llm_parse_answer(text, perr, sizeof(perr));
		free(text);
		if (!v) {
			snprintf(problem, sizeof(problem), "the answer was not valid JSON: %s", perr);
			continue;
		}
		if (run->schema && !schema_check(run->schema, v, perr, sizeof(perr))) {
			snprintf(problem, sizeof(problem), "%s", perr);
			json_object_put(v);
			continue;
		}
		json_object_put(run->extracted);
		run->extracted = v;
		out = OUT_COMPLETED;
		goto out;
	}
	snprintf(run->reason, sizeof(run->reason),
		 "Extracted information does not match extracted_information_schema: %s", problem);
	out = OUT_TASK_FAILED;
out:
	free(system);
	free(history);
	return out;
}

/* Asks the model whether the goal is achieved on a fresh look at the page. */
static enum sx_rc verify(struct run *run, long long order, bool *achieved, char *why, size_t whylen)
{
	struct scrape_result page;
	struct prompt_ctx ctx;
	unsigned char *png = NULL;
	size_t pnglen = 0;
	char *history = NULL, *system = NULL, *user = NULL, *text = NULL;
	json_object *v = NULL, *g;
	char perr[256];
	enum sx_rc rc;

	*achieved = false;
	memset(&page, 0, sizeof(page));
	rc = scrape_page(run->wd, &page);
	if (rc) {
		snprintf(run->reason, sizeof(run->reason), "could not read the page to verify: %.200s",
			 webdriver_last_error(run->wd));
		goto out;
	}
	if (run->r->conf->llm_vision)
		webdriver_screenshot(run->wd, &png, &pnglen);
	history = history_text(run);
	ctx_from_page(run, &ctx, &page, history, order);
	system = prompt_system_verify();
	user = prompt_user_verify(&ctx);
	rc = ask(run, system, user, png, pnglen, &text, run->reason, sizeof(run->reason));
	if (rc)
		goto out;
	v = llm_parse_answer(text, perr, sizeof(perr));
	if (!v || !json_object_object_get_ex(v, "goal_achieved", &g)) {
		snprintf(run->reason, sizeof(run->reason), "the verification answer was not usable: %s",
			 v ? "no goal_achieved" : perr);
		rc = SX_EPARSE;
		goto out;
	}
	*achieved = json_object_get_boolean(g);
	snprintf(why, whylen, "%.300s", jmember(v, "reasoning") ? jmember(v, "reasoning") : "");
	/* Extraction, if any, reads the page the verification saw. */
	if (*achieved && run->extract_goal) {
		enum outcome o = extract(run, &page, order);

		if (o == OUT_TASK_FAILED)
			rc = SX_ECONFLICT;
		else if (o != OUT_COMPLETED)
			rc = SX_ELLM;
	}
out:
	json_object_put(v);
	free(text);
	free(user);
	free(system);
	free(history);
	free(png);
	scrape_release(&page);
	return rc;
}

/* ---- acting -------------------------------------------------------------- */

/*
 * upload_file's fetcher: the URL comes from the model (and so, indirectly,
 * from the page or the client), so it goes through the SSRF guard, and
 * through the task's proxy like the browser's own traffic.
 */
static enum sx_rc download(void *arg, const char *url, const char *path, char *err, size_t errlen)
{
	struct run *run = arg;
	struct http_client *c = http_client_new();
	struct http_request req = { .method = "GET", .url = url, .timeout_ms = 60000,
				    .max_response = DOWNLOAD_MAX, .guarded = true,
				    .allow = run->r->conf->outbound_allow, .proxy = run->proxy };
	struct http_response res;
	enum sx_rc rc = http_perform(c, &req, &res);
	FILE *f = NULL;

	if (rc) {
		snprintf(err, errlen, "could not download the file: %s", res.error);
		goto out;
	}
	if (res.status != 200) {
		snprintf(err, errlen, "could not download the file: HTTP %ld", res.status);
		rc = SX_EHTTP;
		goto out;
	}
	f = fopen(path, "wb");
	if (!f || fwrite(res.body.data ? res.body.data : "", 1, res.body.len, f) != res.body.len) {
		snprintf(err, errlen, "could not save the downloaded file");
		rc = SX_EIO;
	}
out:
	if (f)
		fclose(f);
	http_response_release(&res);
	http_client_free(c);
	return rc;
}

/* Stops between actions for cancel, timeout, a lost lease or shutdown. */
static enum outcome interrupted(struct run *run)
{
	if (heartbeat_canceled(&run->hb) || queue_check_canceled(run->r->db, run->t->id) == SX_ECANCELED)
		return OUT_CANCELED;
	if (heartbeat_lost(&run->hb))
		return OUT_LOST;
	if (sx_mono_ms() > run->deadline_ms)
		return OUT_TIMED_OUT;
	if (*run->r->stopping)
		return OUT_SHUTDOWN;
	return OUT_CONTINUE;
}

/* A click may open a new tab: follow the newest window. */
static void follow_new_window(struct run *run, size_t before)
{
	char **h = NULL;
	size_t n = 0;

	if (webdriver_window_handles(run->wd, &h, &n) == SX_OK && n > before && n > 0)
		webdriver_switch_window(run->wd, h[n - 1]);
	for (size_t i = 0; i < n; i++)
		free(h[i]);
	free(h);
}

static size_t window_count(struct run *run)
{
	char **h = NULL;
	size_t n = 0;

	if (webdriver_window_handles(run->wd, &h, &n) != SX_OK)
		return 0;
	for (size_t i = 0; i < n; i++)
		free(h[i]);
	free(h);
	return n;
}

static void record_action(struct run *run, json_object *action, const struct scrape_result *page,
			  bool ok, const char *error, const char *shot)
{
	json_object *a = json_object_new_object();
	json_object *res = json_object_new_object();
	const char *id = jmember(action, "element");

	json_object_object_foreach(action, k, v) {
		if (strcmp(k, "text") == 0 && v) {
			char *m = mask_text(run->mask, json_object_get_string(v));

			json_object_object_add(a, k, json_object_new_string(m));
			free(m);
		} else {
			json_object_object_add(a, k, json_object_get(v));
		}
	}
	if (id && page && page->index) {
		json_object *e, *l;

		if (json_object_object_get_ex(page->index, id, &e) && json_object_object_get_ex(e, "label", &l))
			json_object_object_add(a, "label", json_object_get(l));
	}
	json_object_object_add(res, "success", json_object_new_boolean(ok));
	json_object_object_add(res, "error", error && *error ? json_object_new_string(error) : NULL);
	if (shot)
		json_object_object_add(res, "screenshot", json_object_new_string(shot));
	json_object_object_add(a, "result", res);
	json_object_array_add(run->out_actions, a);
}

static void screenshot(struct run *run, const char *type, char **rel)
{
	unsigned char *png = NULL;
	size_t len = 0;

	if (rel)
		*rel = NULL;
	if (run->wd && webdriver_screenshot(run->wd, &png, &len) == SX_OK) {
		artifact_save(&run->art, strcmp(type, ART_SCREENSHOT_FINAL) ? run->step_id : NULL,
			      type, "png", png, len, rel);
		/* The action and final screenshots are the recording's frames too. */
		recorder_frame(run->rec, png, len);
	}
	free(png);
}

/* The `wait` action: a sleep during which the recorder captures frames. */
static void wait_recording(void *arg, long long ms, const atomic_int *stop)
{
	struct run *run = arg;

	recorder_wait(run->rec, run->wd, ms, stop);
}

/* Runs the model's actions in order; the first failure ends the step. */
static enum outcome act(struct run *run, json_object *actions, const struct scrape_result *page,
			long long order)
{
	struct action_env env = { run->wd, page, run->work_dir, &run->hb.interrupt, download, run,
				  wait_recording, run };

	for (size_t i = 0; i < json_object_array_length(actions); i++) {
		json_object *a = json_object_array_get_idx(actions, i);
		enum action_type t = action_type_of(a);
		enum outcome stop = interrupted(run);
		char err[ERR_LEN] = "", sig[256];
		char *shot = NULL;
		size_t windows;
		enum sx_rc rc;

		if (stop != OUT_CONTINUE)
			return stop;
		if (!json_object_is_type(a, json_type_object))
			t = ACT_UNKNOWN;
		action_signature(a, sig, sizeof(sig));
		if (t == ACT_TERMINATE) {
			const char *why = jmember(a, "reason");

			if (!why)
				why = jmember(a, "reasoning");
			snprintf(run->reason, sizeof(run->reason), "%s",
				 why && *why ? why : "The agent judged the goal impossible to reach");
			record_action(run, a, page, true, NULL, NULL);
			history_add(run, order, sig);
			return OUT_TERMINATED;
		}
		if (t == ACT_SOLVE_CAPTCHA) {
			snprintf(run->reason, sizeof(run->reason),
				 "A CAPTCHA blocked the task: Sextant has no CAPTCHA solver");
			record_action(run, a, page, false, run->reason, NULL);
			return OUT_TERMINATED;
		}
		if (t == ACT_COMPLETE) {
			bool achieved = false;
			char why[400] = "";

			rc = verify(run, order, &achieved, why, sizeof(why));
			if (rc == SX_ECONFLICT) {
				record_action(run, a, page, false, run->reason, NULL);
				return OUT_TASK_FAILED;
			}
			if (rc == SX_ESESSION)
				return OUT_STEP_FAILED;
			if (rc) {
				record_action(run, a, page, false, run->reason, NULL);
				return OUT_STEP_FAILED;
			}
			if (achieved) {
				record_action(run, a, page, true, NULL, NULL);
				history_add(run, order, "complete (verified)");
				return OUT_COMPLETED;
			}
			snprintf(err, sizeof(err), "verification says the goal is not achieved yet: %s", why);
			record_action(run, a, page, false, err, NULL);
			history_add(run, order, err);
			return OUT_CONTINUE;
		}
		windows = t == ACT_CLICK ? window_count(run) : 0;
		rc = action_execute(&env, a, err, sizeof(err));
		if (rc == SX_OK && t == ACT_CLICK)
			follow_new_window(run, windows);
		screenshot(run, ART_SCREENSHOT_ACTION, &shot);
		record_action(run, a, page, rc == SX_OK, err, shot);
		free(shot);
		{
			char *line = xasprintf("%s -> %s%s", sig, rc == SX_OK ? "ok" : "failed: ", rc == SX_OK ? "" : err);

			history_add(run, order, line);
			free(line);
		}
		if (rc) {
			snprintf(run->reason, sizeof(run->reason), "%s", err);
			if (rc == SX_ESESSION)
				session_close(run);
			return OUT_STEP_FAILED;
		}
	}
	return OUT_CONTINUE;
}

/* The first action that is not complete/terminate, for loop detection. */
static void first_signature(json_object *actions, char *out, size_t outlen)
{
	out[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(actions); i++) {
		json_object *a = json_object_array_get_idx(actions, i);
		enum action_type t = action_type_of(a);

		if (t != ACT_COMPLETE && t != ACT_TERMINATE) {
			action_signature(a, out, outlen);
			return;
		}
	}
}

/* Asks for the next actions.  *actions_out is an array (caller puts). */
static enum outcome decide(struct run *run, const struct scrape_result *page, const unsigned char *png,
			   size_t pnglen, long long order, json_object *output, json_object **actions_out)
{
	struct prompt_ctx ctx;
	char *history = history_text(run);
	char *system = prompt_system_decide();
	char *user, *text = NULL, *short_text = NULL;
	char perr[256];
	json_object *v = NULL, *acts = NULL, *needed;
	enum outcome out = OUT_STEP_FAILED;

	*actions_out = NULL;
	ctx_from_page(run, &ctx, page, history, order);
	/* The decide prompt carries the start of the page text (messages, errors), not all of it. */
	if (page->text && strlen(page->text) > DECIDE_TEXT_MAX) {
		size_t n = DECIDE_TEXT_MAX;

		/* Cut on a character boundary, never inside a UTF-8 sequence. */
		while (n > 0 && ((unsigned char)page->text[n] & 0xC0) == 0x80)
			n--;
		short_text = xstrndup(page->text, n);
		ctx.page_text = short_text;
	}
	user = prompt_user_decide(&ctx);
	if (run->code[0]) {
		/* The code the model asked for; the artifact of this prompt shows it masked. */
		char *with_code = xasprintf("%sVerification code to enter: %s\n", user, run->code);

		free(user);
		user = with_code;
	}
	if (ask(run, system, user, run->r->conf->llm_vision ? png : NULL, pnglen, &text,
		run->reason, sizeof(run->reason)) != SX_OK)
		goto out;
	v = llm_parse_answer(text, perr, sizeof(perr));
	if (v && json_object_is_type(v, json_type_array))
		acts = json_object_get(v);
	else if (v && json_object_object_get_ex(v, "actions", &acts) && json_object_is_type(acts, json_type_array))
		json_object_get(acts);
	else
		acts = NULL;
	/* A model waiting for a one-time code may have nothing to do until it comes. */
	run->code_needed = !run->code[0] && v && json_object_is_type(v, json_type_object) &&
			   json_object_object_get_ex(v, "verification_code_needed", &needed) &&
			   json_object_get_boolean(needed);
	if (run->code_needed && !acts)
		acts = json_object_new_array();
	if (!run->code_needed && (!acts || json_object_array_length(acts) == 0)) {
		char *m = mask_text(run->mask, text ? text : "");

		snprintf(run->reason, sizeof(run->reason), "the model's answer could not be used: %s",
			 !v ? perr : "it holds no actions");
		json_object_object_add(output, "model_text", json_object_new_string(m));
		free(m);
		json_object_put(acts);
		goto out;
	}
	if (jmember(v, "reasoning"))
		json_object_object_add(output, "reasoning", json_object_new_string(jmember(v, "reasoning")));
	*actions_out = acts;
	out = OUT_CONTINUE;
out:
	json_object_put(v);
	free(text);
	free(short_text);
	free(user);
	free(system);
	free(history);
	return out;
}

static bool totp_keep_waiting(void *arg)
{
	return interrupted(arg) == OUT_CONTINUE;
}

/*
 * The model says the page asks for a one-time code: get one (totp_obtain
 * waits, stopping on cancel, timeout, a lost lease or shutdown), then
 * decide again with the code in the prompt.  No code in time terminates
 * the task with totp_obtain's reason.
 */
static enum outcome obtain_code(struct run *run, const struct scrape_result *page,
				const unsigned char *png, size_t pnglen, long long order,
				json_object *output, json_object **actions)
{
	struct totp_task tt = {
		.conf = run->r->conf, .db = run->r->db, .llm = run->r->llm,
		.org_id = run->t->org_id, .task_id = run->t->id, .payload = run->payload,
		.identifier = jmember(run->t->request, "totp_identifier"),
		.verification_url = jmember(run->t->request, "totp_verification_url"),
		.keep_waiting = totp_keep_waiting, .arg = run,
	};
	char source[64], why[ERR_LEN] = "", *line;
	enum outcome out;
	enum sx_rc rc;

	json_object_put(*actions);
	*actions = NULL;
	run->code_needed = false;
	rc = totp_obtain(&tt, &run->totp, run->code, source, sizeof(source), why, sizeof(why));
	run->in_tokens += run->totp.in_tokens;
	run->out_tokens += run->totp.out_tokens;
	run->cost += run->totp.cost;
	run->totp.in_tokens = run->totp.out_tokens = 0;
	run->totp.cost = 0;
	if (rc == SX_ECANCELED) {
		out = interrupted(run);
		return out == OUT_CONTINUE ? OUT_SHUTDOWN : out;
	}
	if (rc) {
		snprintf(run->reason, sizeof(run->reason), "%s", why);
		return OUT_TERMINATED;
	}
	mask_add_code(run->mask, run->code);
	json_object_object_add(output, "verification_code_source", json_object_new_string(source));
	line = xasprintf("the page asked for a verification code; one was obtained (%s)", source);
	history_add(run, order, line);
	free(line);
	out = decide(run, page, png, pnglen, order, output, actions);
	if (out == OUT_CONTINUE && json_object_array_length(*actions) == 0) {
		snprintf(run->reason, sizeof(run->reason),
			 "the model had a verification code but gave no actions to enter it");
		out = OUT_STEP_FAILED;
	}
	return out;
}

/* One step: observe, decide, act.  output receives what the step did. */
static enum outcome run_step(struct run *run, long long order, json_object *output)
{
	struct scrape_result page;
	unsigned char *png = NULL;
	size_t pnglen = 0;
	json_object *actions = NULL;
	char sig[256];
	enum outcome out;
	enum sx_rc rc;

	int64_t t_start = sx_mono_ms(), t_observed = 0, session_ms = 0;

	memset(&page, 0, sizeof(page));
	run->llm_ms = 0;
	out = interrupted(run);
	if (out != OUT_CONTINUE)
		goto out;
	if (session_ensure(run, run->reason, sizeof(run->reason)) != SX_OK) {
		out = OUT_STEP_FAILED;
		goto out;
	}
	/* Starting a browser is not the step's own cost: it is logged apart. */
	session_ms = sx_mono_ms() - t_start;
	t_start += session_ms;
	rc = scrape_page(run->wd, &page);
	if (rc) {
		snprintf(run->reason, sizeof(run->reason), "could not read the page: %.300s",
			 *webdriver_last_error(run->wd) ? webdriver_last_error(run->wd) : sx_strerror(rc));
		if (rc == SX_ESESSION)
			session_close(run);
		out = OUT_STEP_FAILED;
		goto out;
	}
	json_object_object_add(output, "url", json_object_new_string(page.url ? page.url : ""));
	json_object_object_add(output, "elements", json_object_new_int64((int64_t)page.nelements));
	if (webdriver_screenshot(run->wd, &png, &pnglen) == SX_OK) {
		artifact_save(&run->art, run->step_id, ART_SCREENSHOT_STEP, "png", png, pnglen, NULL);
		recorder_frame(run->rec, png, pnglen);
	}
	t_observed = sx_mono_ms();

	/* A task with only an extraction goal extracts on its first step. */
	if (!run->nav_goal || !*run->nav_goal) {
		out = run->extract_goal ? extract(run, &page, order) : OUT_COMPLETED;
		goto out;
	}
	crypto_wipe(run->code, sizeof(run->code));
	out = decide(run, &page, png, pnglen, order, output, &actions);
	if (out == OUT_CONTINUE && run->code_needed)
		out = obtain_code(run, &page, png, pnglen, order, output, &actions);
	if (out != OUT_CONTINUE)
		goto out;
	first_signature(actions, sig, sizeof(sig));
	switch (loop_judge(&run->loop, page.fingerprint, sig)) {
	case LOOP_OK:
		break;
	case LOOP_WARN:
		/* Same action, same page: ask again, telling the model it changed nothing. */
		json_object_put(actions);
		actions = NULL;
		history_add(run, order, "the previous action did not change the page");
		out = decide(run, &page, png, pnglen, order, output, &actions);
		if (out != OUT_CONTINUE)
			goto out;
		first_signature(actions, sig, sizeof(sig));
		if (loop_judge(&run->loop, page.fingerprint, sig) != LOOP_STOP)
			break;
		/* It insisted: stop. */
		__attribute__((fallthrough));
	case LOOP_STOP:
		snprintf(run->reason, sizeof(run->reason),
			 "Stopped: the agent repeated the same action (%s) on a page that did not change", sig);
		out = OUT_TERMINATED;
		goto out;
	}
	loop_record(&run->loop, page.fingerprint, sig);
	out = act(run, actions, &page, order);
out:
	if (run->wd && out != OUT_STEP_FAILED) {
		char *u = NULL;

		if (webdriver_current_url(run->wd, &u) == SX_OK) {
			json_object_object_add(output, "url_after", json_object_new_string(u));
			free(run->last_url);
			run->last_url = u;
		}
	}
	/* One line per step with where its time went (bench/agent reads these). */
	log_info("runner", "msg=\"step done\" task=%s order=%lld outcome=%d session_ms=%lld observe_ms=%lld "
		 "llm_ms=%lld act_ms=%lld elements=%zu element_bytes=%zu", run->t->id, order, (int)out,
		 (long long)session_ms, (long long)(t_observed ? t_observed - t_start : 0), (long long)run->llm_ms,
		 (long long)(t_observed ? sx_mono_ms() - t_observed - run->llm_ms : 0), page.nelements,
		 page.elements ? strlen(page.elements) : (size_t)0);
	json_object_put(actions);
	free(png);
	scrape_release(&page);
	return out;
}

/* ---- the task ------------------------------------------------------------ */

static long long elapsed_seconds(struct run *run)
{
	static const char q[] =
		"SELECT TIMESTAMPDIFF(SECOND, started_at, UTC_TIMESTAMP(6)) FROM tasks WHERE id = ?";
	struct sx_param p[] = { sx_p_str(run->t->id) };
	struct sx_rows *rows = NULL;
	long long s = 0;

	if (sx_db_query(run->r->db, q, p, 1, &rows) == SX_OK && rows->nrows == 1)
		s = sx_rows_i64(rows, 0, 0, 0);
	sx_rows_free(rows);
	return s < 0 ? 0 : s;
}

/*
 * Encodes the recording before the task's final status is written, so the
 * task object (and its webhook) has the recording once it is final.  A
 * handed-back task keeps its frames (recorder_free) for the attempt that
 * ends it.
 */
static void recording_end(struct run *run)
{
	recorder_finish(run->rec, &run->art);
	run->rec = NULL;
}

static void finish(struct run *run, enum task_status st, const char *reason)
{
	const char *extracted = run->extracted ?
		json_object_to_json_string_ext(run->extracted, JSON_C_TO_STRING_PLAIN) : NULL;

	recording_end(run);
	queue_finish(run->r->db, run->t->id, run->r->owner, st, reason, extracted);
}

/*
 * Picks the task's proxy from proxy_map by its proxy_location (unmapped:
 * direct) and records it on the task without credentials (NULL when
 * direct).  Credentials of an http:// proxy reach Chromium through a
 * per-session extension (proxyauth.h); Chromium has no SOCKS
 * authentication, so a task mapped to a socks5:// proxy with credentials
 * fails here with a clear reason rather than going direct or hanging.
 * Returns false when it finished the task.
 */
static bool proxy_choose(struct run *run)
{
	static const char q[] =
		"UPDATE tasks SET proxy_used = ?, modified_at = UTC_TIMESTAMP(6) "
		"WHERE id = ? AND lease_owner = ?";
	const char *loc = jmember(run->t->request, "proxy_location");
	char *shown = NULL;
	bool ok = true;

	run->proxy = proxy_map_lookup(run->r->conf->proxy_map, loc ? loc : "RESIDENTIAL");
	shown = proxy_url_strip_credentials(run->proxy);
	{
		struct sx_param p[] = { sx_p_str(shown), sx_p_str(run->t->id), sx_p_str(run->r->owner) };

		sx_db_exec(run->r->db, q, p, 3, NULL);
	}
	if (run->proxy)
		log_info("runner", "msg=\"task uses a proxy\" task=%s proxy=%s", run->t->id, sx_log_quote(shown));
	if (run->proxy && proxy_url_has_credentials(run->proxy) && proxy_url_is_socks(run->proxy)) {
		char reason[200];

		snprintf(reason, sizeof(reason), "Chromium does not support SOCKS proxies with credentials "
			 "(proxy_location %.40s maps to one); use an http:// proxy or one without credentials",
			 loc ? loc : "RESIDENTIAL");
		finish(run, TASK_FAILED, reason);
		ok = false;
	}
	free(shown);
	return ok;
}

void runner_run_task(struct runner *r, struct claimed_task *ct)
{
	struct run run;
	const struct sx_conf *c = r->conf;
	json_object *v;
	long long order = ct->next_order;
	long long failures = 0;
	char last_error[ERR_LEN] = "";
	enum outcome out = OUT_CONTINUE;

	memset(&run, 0, sizeof(run));
	run.r = r;
	run.ct = ct;
	run.t = &ct->task;
	run.url = jmember(run.t->request, "url");
	run.nav_goal = jmember(run.t->request, "navigation_goal");
	run.extract_goal = jmember(run.t->request, "data_extraction_goal");
	if (json_object_object_get_ex(run.t->request, "navigation_payload", &v) && v) {
		run.payload = v;
		run.payload_json = xstrdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	}
	run.mask = mask_new(run.payload);
	if (json_object_object_get_ex(run.t->request, "extracted_information_schema", &v) && v) {
		run.schema = v;
		run.schema_json = xstrdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	}
	run.history = json_object_new_array();
	run.art.db = r->db;
	run.art.root = c->artifacts_dir;
	run.art.org_id = run.t->org_id;
	run.art.task_id = run.t->id;
	run.work_dir = artifact_task_dir(&run.art);
	recorder_open(c, run.work_dir, &run.rec);
	run.deadline_ms = sx_mono_ms() + (c->task_timeout - elapsed_seconds(&run)) * 1000;
	if (ct->resumed)
		history_load(&run);
	heartbeat_start(&run.hb, c, r->hb_db, run.t->id, r->owner, r->stopping);
	if (!proxy_choose(&run))
		out = OUT_TASK_FAILED;

	while (out == OUT_CONTINUE) {
		json_object *output;
		enum outcome step;
		bool last;

		if (order >= run.t->max_steps) {
			char reason[96];

			snprintf(reason, sizeof(reason), "Max steps per task (%lld) exceeded", run.t->max_steps);
			screenshot(&run, ART_SCREENSHOT_FINAL, NULL);
			finish(&run, TASK_FAILED, reason);
			break;
		}
		if (step_create(&run, order) != SX_OK) {
			/* The database is unreachable: hand the task back rather than lose it. */
			sx_sleep_ms(1000, r->stopping);
			out = OUT_SHUTDOWN;
			break;
		}
		output = json_object_new_object();
		step = run_step(&run, order, output);
		json_object_object_add(output, "actions", json_object_get(run.out_actions));
		if (step == OUT_STEP_FAILED || step == OUT_TASK_FAILED)
			json_object_object_add(output, "error", json_object_new_string(run.reason));
		last = step == OUT_COMPLETED || step == OUT_TERMINATED || step == OUT_TASK_FAILED ||
		       step == OUT_TIMED_OUT;
		step_finish(&run, step == OUT_STEP_FAILED || step == OUT_TASK_FAILED ? "failed" :
				  step == OUT_CANCELED ? "canceled" :
				  step == OUT_SHUTDOWN || step == OUT_LOST ? "failed" : "completed",
			    last, output);
		json_object_put(output);

		switch (step) {
		case OUT_CONTINUE:
			order++;
			failures = 0;
			break;
		case OUT_STEP_FAILED:
			snprintf(last_error, sizeof(last_error), "%s", run.reason);
			log_info("runner", "msg=\"step failed\" task=%s order=%lld retry=%lld error=%s",
				 run.t->id, order, failures, sx_log_quote(run.reason));
			if (++failures > c->max_retries_per_step) {
				char reason[ERR_LEN + 64];

				snprintf(reason, sizeof(reason), "Max retries per step (%lld) exceeded: %s",
					 c->max_retries_per_step, last_error);
				screenshot(&run, ART_SCREENSHOT_FINAL, NULL);
				finish(&run, TASK_FAILED, reason);
				out = OUT_TASK_FAILED;
			}
			break;
		case OUT_COMPLETED:
			screenshot(&run, ART_SCREENSHOT_FINAL, NULL);
			finish(&run, TASK_COMPLETED, NULL);
			out = step;
			break;
		case OUT_TERMINATED:
			screenshot(&run, ART_SCREENSHOT_FINAL, NULL);
			finish(&run, TASK_TERMINATED, run.reason);
			out = step;
			break;
		case OUT_TASK_FAILED:
			screenshot(&run, ART_SCREENSHOT_FINAL, NULL);
			finish(&run, TASK_FAILED, run.reason);
			out = step;
			break;
		case OUT_TIMED_OUT: {
			char reason[128];

			snprintf(reason, sizeof(reason), "Task exceeded its time limit of %lld seconds",
				 c->task_timeout);
			screenshot(&run, ART_SCREENSHOT_FINAL, NULL);
			finish(&run, TASK_TIMED_OUT, reason);
			out = step;
			break;
		}
		case OUT_CANCELED:
			screenshot(&run, ART_SCREENSHOT_FINAL, NULL);
			recording_end(&run);
			queue_finish_canceled(r->db, run.t->id, r->owner);
			out = step;
			break;
		case OUT_LOST:
			log_warn("runner", "msg=\"lease lost; stopping\" task=%s", run.t->id);
			out = step;
			break;
		case OUT_SHUTDOWN:
			queue_release(r->db, run.t->id, r->owner);
			out = step;
			break;
		}
	}
	heartbeat_stop(&run.hb);
	session_close(&run);
	recorder_free(run.rec);
	json_object_put(run.history);
	json_object_put(run.out_actions);
	json_object_put(run.extracted);
	free(run.payload_json);
	mask_free(run.mask);
	crypto_wipe(run.code, sizeof(run.code));
	crypto_wipe(&run.totp, sizeof(run.totp));
	free(run.schema_json);
	free(run.work_dir);
	free(run.last_url);
	free(run.proxy);
}
