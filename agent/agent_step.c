/*
 * One step: observe, decide, act (see agent_step.h).
 *
 * A step that fails (the model's answer unusable, an action that failed,
 * the browser gone) ends with OUT_STEP_FAILED and the runner retries it; a
 * lost browser session is closed here and opened again by the retry.
 */
#include "sx.h"
#include "crypto.h"
#include "agent_step.h"
#include "actions.h"
#include "relevant.h"
#include "browser.h"
#include "conf.h"
#include "errcode.h"
#include "history.h"
#include "http.h"
#include "judge.h"
#include "llm/llm.h"
#include "log.h"
#include "mask.h"
#include "prompt.h"
#include "task.h"
#include "recorder.h"
#include "replay.h"
#include "runner.h"
#include "start_url.h"
#include "timeutil.h"

#define DOWNLOAD_MAX (25u << 20)
#define DECIDE_TEXT_MAX 3000
#define SIG_LEN 256

void agent_step_init(struct agent_step *st, long long order)
{
	memset(st, 0, sizeof(*st));
	st->order = order;
	sx_arena_init(&st->arena);
}

void agent_step_release(struct agent_step *st)
{
	json_object_put(st->output);
	json_object_put(st->actions);
	json_object_put(st->errors);
	scrape_release(&st->page);
	free(st->png);
	crypto_wipe(st->code, sizeof(st->code));
	sx_arena_release(&st->arena);
	agent_step_init(st, st->order);
}

/* Saves one side of a model exchange (JSON, secrets masked) as an artifact of the step. */
static void save_exchange(struct run *run, struct agent_step *st, const char *json, const char *type)
{
	char *m;

	if (!json)
		return;
	m = sx_arena_own(&st->arena, mask_json_text(run->mask, json));
	artifact_store_save(&run->art, st->id, type, "json", m, strlen(m), NULL);
}

enum sx_rc agent_step_ask(struct run *run, struct agent_step *st, const char *system, const char *user,
		    const unsigned char *png, size_t pnglen, const char **text)
{
	struct llm_request req = { system, user, png, pnglen };
	struct llm_result res;
	int64_t t0 = sx_mono_ms();
	enum sx_rc rc;

	*text = NULL;
	memset(&res, 0, sizeof(res));
	rc = llm_complete(run->r->llm, &req, &res);
	st->llm_ms += sx_mono_ms() - t0;
	st->in_tokens += res.input_tokens;
	st->out_tokens += res.output_tokens;
	st->cost += res.cost;
	save_exchange(run, st, res.request_json, ART_LLM_REQUEST);
	save_exchange(run, st, res.response_json, ART_LLM_RESPONSE);
	if (rc) {
		snprintf(st->reason, sizeof(st->reason), "the language model call failed: %.300s",
			 res.error[0] ? res.error : sx_strerror(rc));
	} else {
		*text = sx_arena_own(&st->arena, res.text);
		res.text = NULL;
	}
	llm_result_release(&res);
	return rc;
}

void agent_step_prompt_ctx(struct run *run, struct agent_step *st, const struct scrape_result *page,
		     struct prompt_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->url = page->url;
	ctx->title = page->title;
	ctx->navigation_goal = run->nav_goal;
	ctx->data_extraction_goal = run->extract_goal;
	ctx->payload_json = run->payload_json;
	ctx->elements = page->elements;
	ctx->history = sx_arena_own(&st->arena, history_text(run));
	ctx->step = (int)st->order;
	ctx->max_steps = (int)run->t->max_steps;
	ctx->loop_warning = run->loop.warned;
	ctx->page_text = page->text;
	ctx->error_codes_json = run->error_codes_json;
}

void agent_step_record_action(struct run *run, struct agent_step *st, json_object *action, bool ok,
			const char *error, const char *shot)
{
	json_object *a = json_object_new_object();
	json_object *res = json_object_new_object();
	const char *id = jmember(action, "element");
	json_object *e, *l;

	json_object_object_foreach(action, k, v) {
		if (strcmp(k, "text") == 0 && v) {
			char *m = sx_arena_own(&st->arena, mask_text(run->mask, json_object_get_string(v)));

			json_object_object_add(a, k, json_object_new_string(m));
		} else {
			json_object_object_add(a, k, json_object_get(v));
		}
	}
	if (id && st->page.index && json_object_object_get_ex(st->page.index, id, &e) &&
	    json_object_object_get_ex(e, "label", &l))
		json_object_object_add(a, "label", json_object_get(l));
	json_object_object_add(res, "success", json_object_new_boolean(ok));
	json_object_object_add(res, "error", error && *error ? json_object_new_string(error) : NULL);
	if (shot)
		json_object_object_add(res, "screenshot", json_object_new_string(shot));
	json_object_object_add(a, "result", res);
	json_object_array_add(st->actions, a);
}

/* ---- observe ------------------------------------------------------------- */

/*
 * Opens the browser when there is none (on the page the task was at),
 * reads the page and screenshots it.  *t_opened is when the browser was
 * ready: starting one is not the step's own cost and is logged apart.
 *
 * One capture is the step's screenshot and the model's image: at the
 * model's width when it is sent a smaller one (a provider bills an image by
 * its size; llm_screenshot_width), so the step's artifact is what the model
 * saw.  A capture is a frame of Chrome's (≈ 50 ms whatever the encoding):
 * a second one at the window's size would cost that again on every step,
 * and the state it shows is the previous action's screenshot's.
 */
static enum outcome observe(struct run *run, struct agent_step *st, int64_t *t_opened)
{
	struct browser *b = &run->browser;
	int width = llm_screenshot_width(run->r->conf);
	enum outcome out = OUT_STEP_FAILED;
	enum sx_rc rc;

	rc = browser_open(b, run->last_url ? run->last_url : run->url, st->reason, sizeof(st->reason));
	if (rc == SX_EBLOCKED)
		out = OUT_TASK_FAILED;  /* the egress guard refused the page itself: the task cannot go on */
	if (rc)
		goto out;
	*t_opened = sx_mono_ms();
	rc = browser_scrape(b, &st->page);
	if (rc) {
		snprintf(st->reason, sizeof(st->reason), "could not read the page: %.300s",
			 *browser_last_error(b) ? browser_last_error(b) : sx_strerror(rc));
		if (rc == SX_ESESSION)
			browser_close(b);
		goto out;
	}
	json_object_object_add(st->output, "url", json_object_new_string(st->page.url ? st->page.url : ""));
	json_object_object_add(st->output, "elements", json_object_new_int64((int64_t)st->page.nelements));
	if (run->r->conf->llm_vision && width > 0 && width < run->r->conf->window_width)
		rc = browser_screenshot_width(b, width, &st->png, &st->pnglen);
	else
		rc = browser_screenshot(b, &st->png, &st->pnglen);
	if (rc == SX_OK) {
		artifact_store_save(&run->art, st->id, ART_SCREENSHOT_STEP, "png", st->png, st->pnglen, NULL);
		recorder_frame(run->rec, st->png, st->pnglen);
	}
	out = OUT_CONTINUE;
out:
	return out;
}

const unsigned char *agent_step_llm_image(const struct run *run, const struct agent_step *st,
					  size_t *len)
{
	*len = 0;
	if (!run->r->conf->llm_vision)
		return NULL;
	*len = st->pnglen;
	return st->png;
}

/* ---- decide -------------------------------------------------------------- */

const char *agent_step_page_text(struct run *run, struct agent_step *st)
{
	/* Text that only repeats an element's label adds nothing to the element list. */
	char *unlisted = sx_arena_own(&st->arena, relevant_unlisted(st->page.text, st->page.elements));

	return sx_arena_own(&st->arena, relevant_lines(unlisted, run->nav_goal, DECIDE_TEXT_MAX));
}

/* The actions of an answer, a bare array or {"actions": […]}: a new reference, or NULL. */
static json_object *answer_actions(json_object *v)
{
	json_object *acts = NULL;

	if (v && json_object_is_type(v, json_type_array))
		acts = v;
	else if (!v || !json_object_object_get_ex(v, "actions", &acts) ||
		 !json_object_is_type(acts, json_type_array))
		acts = NULL;
	return json_object_get(acts);
}

/* Asks for the next actions.  *actions_out is an array (caller puts). */
static enum outcome decide(struct run *run, struct agent_step *st, json_object **actions_out)
{
	struct prompt_ctx ctx;
	const char *system = sx_arena_own(&st->arena, prompt_system_decide());
	const char *user, *text = NULL;
	char perr[256];
	json_object *v = NULL, *acts = NULL, *needed;
	enum outcome out = OUT_STEP_FAILED;
	size_t llm_pnglen = 0;
	const unsigned char *llm_png = agent_step_llm_image(run, st, &llm_pnglen);

	*actions_out = NULL;
	agent_step_prompt_ctx(run, st, &st->page, &ctx);
	ctx.elements = sx_arena_own(&st->arena, scrape_elements_brief(&st->page, sx_arena_printf(
		&st->arena, "%s\n%s", run->nav_goal ? run->nav_goal : "", run->extract_goal ? run->extract_goal : "")));
	ctx.page_text = agent_step_page_text(run, st);
	user = sx_arena_own(&st->arena, prompt_user_decide(&ctx));
	/* The code the model asked for; the artifact of this prompt shows it masked. */
	if (st->code[0])
		user = sx_arena_printf(&st->arena, "%sVerification code to enter: %s\n", user, st->code);
	if (agent_step_ask(run, st, system, user, llm_png, llm_pnglen,
		     &text) != SX_OK)
		goto out;
	v = llm_parse_answer(text, perr, sizeof(perr));
	acts = answer_actions(v);
	/* A model waiting for a one-time code may have nothing to do until it comes. */
	st->code_needed = !st->code[0] && v && json_object_is_type(v, json_type_object) &&
			  json_object_object_get_ex(v, "verification_code_needed", &needed) &&
			  json_object_get_boolean(needed);
	if (st->code_needed && !acts)
		acts = json_object_new_array();
	if (!st->code_needed && (!acts || json_object_array_length(acts) == 0)) {
		snprintf(st->reason, sizeof(st->reason), "the model's answer could not be used: %s",
			 !v ? perr : "it holds no actions");
		json_object_object_add(st->output, "model_text", json_object_new_string(
			sx_arena_own(&st->arena, mask_text(run->mask, text ? text : ""))));
		json_object_put(acts);
		goto out;
	}
	if (jmember(v, "reasoning"))
		json_object_object_add(st->output, "reasoning", json_object_new_string(jmember(v, "reasoning")));
	*actions_out = acts;
	out = OUT_CONTINUE;
out:
	json_object_put(v);
	return out;
}

static bool totp_keep_waiting(void *arg)
{
	return runner_interrupted(arg) == OUT_CONTINUE;
}

/*
 * The model says the page asks for a one-time code: get one (totp_obtain_code
 * waits, stopping on cancel, timeout, a lost lease or shutdown), then
 * decide again with the code in the prompt.  No code in time terminates
 * the task with totp_obtain_code's reason.
 */
static enum outcome obtain_code(struct run *run, struct agent_step *st, json_object **actions)
{
	struct totp_task tt = {
		.conf = run->r->conf, .db = run->r->db, .llm = run->r->llm,
		.org_id = run->t->org_id, .task_id = run->t->id, .payload = run->payload,
		.identifier = jmember(run->t->request, "totp_identifier"),
		.verification_url = jmember(run->t->request, "totp_verification_url"),
		.keep_waiting = totp_keep_waiting, .arg = run,
	};
	char source[64], why[RUN_ERR_LEN] = "";
	enum outcome out;
	enum sx_rc rc;

	json_object_put(*actions);
	*actions = NULL;
	st->code_needed = false;
	rc = totp_obtain_code(&tt, &run->totp, st->code, source, sizeof(source), why, sizeof(why));
	st->in_tokens += run->totp.in_tokens;
	st->out_tokens += run->totp.out_tokens;
	st->cost += run->totp.cost;
	run->totp.in_tokens = run->totp.out_tokens = 0;
	run->totp.cost = 0;
	if (rc == SX_ECANCELED) {
		out = runner_interrupted(run);
		if (out == OUT_CONTINUE)
			out = OUT_SHUTDOWN;
		goto out;
	}
	if (rc) {
		snprintf(st->reason, sizeof(st->reason), "%s", why);
		out = OUT_TERMINATED;
		goto out;
	}
	mask_add_code(run->mask, st->code);
	json_object_object_add(st->output, "verification_code_source", json_object_new_string(source));
	history_add(run, st->order, sx_arena_printf(&st->arena, "the page asked for a verification code; "
						    "one was obtained (%s)", source));
	out = decide(run, st, actions);
	if (out == OUT_CONTINUE && json_object_array_length(*actions) == 0) {
		snprintf(st->reason, sizeof(st->reason),
			 "the model had a verification code but gave no actions to enter it");
		out = OUT_STEP_FAILED;
	}
out:
	return out;
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
			break;
		}
	}
}

/*
 * Decides the step's actions (getting a one-time code when the page asks
 * for one); the same action again on a page it did not change is asked
 * once more, telling the model so, and stops the task if it insists.
 */
static enum outcome decide_actions(struct run *run, struct agent_step *st, json_object **actions)
{
	const char *fp = st->page.fingerprint;
	char sig[SIG_LEN];
	enum outcome out;

	out = decide(run, st, actions);
	if (out == OUT_CONTINUE && st->code_needed)
		out = obtain_code(run, st, actions);
	if (out != OUT_CONTINUE)
		goto out;
	first_signature(*actions, sig, sizeof(sig));
	switch (loop_judge(&run->loop, fp, sig)) {
	case LOOP_OK:
		break;
	case LOOP_WARN:
		json_object_put(*actions);
		*actions = NULL;
		history_add(run, st->order, "the previous action did not change the page");
		out = decide(run, st, actions);
		if (out != OUT_CONTINUE)
			goto out;
		first_signature(*actions, sig, sizeof(sig));
		if (loop_judge(&run->loop, fp, sig) != LOOP_STOP)
			break;
		/* It insisted: stop. */
		__attribute__((fallthrough));
	case LOOP_STOP:
		snprintf(st->reason, sizeof(st->reason),
			 "Stopped: the agent repeated the same action (%s) on a page that did not change", sig);
		out = OUT_TERMINATED;
		goto out;
	}
	loop_record(&run->loop, fp, sig);
out:
	return out;
}

/* ---- act ----------------------------------------------------------------- */

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

/* The `wait` action: a sleep during which the recorder captures frames. */
static void wait_recording(void *arg, long long ms, const atomic_int *stop)
{
	struct run *run = arg;

	recorder_wait(run->rec, browser_session(&run->browser), ms, stop);
}

/*
 * A terminate of a task with error codes: the decide prompt listed them, so
 * the model has answered which apply (Skyvern folds the question into the
 * same call).  Those it named become the step's errors and, as Skyvern
 * reports them, the task's failure_reason; none named, the reason stays.
 */
static void terminate_errors(struct run *run, struct agent_step *st, json_object *a)
{
	char *joined;

	if (!run->error_codes)
		return;
	st->errors_asked = true;
	json_object_put(st->errors);
	st->errors = errcode_answer_errors(a, run->error_codes);
	if (st->errors) {
		joined = errcode_failure_reason(st->errors);
		snprintf(st->reason, sizeof(st->reason), "%s", joined);
		free(joined);
	}
}

/* The actions that end the step: terminate, solve_captcha (Sextant has no solver), complete. */
static enum outcome act_final(struct run *run, struct agent_step *st, json_object *a, enum action_type t)
{
	char sig[SIG_LEN];
	const char *why;
	enum outcome out = OUT_TERMINATED;

	if (t == ACT_TERMINATE) {
		why = jmember(a, "reason");
		if (!why)
			why = jmember(a, "reasoning");
		snprintf(st->reason, sizeof(st->reason), "%s",
			 why && *why ? why : "The agent judged the goal impossible to reach");
		terminate_errors(run, st, a);
		action_signature(a, sig, sizeof(sig));
		agent_step_record_action(run, st, a, true, NULL, NULL);
		history_add(run, st->order, sig);
	} else if (t == ACT_SOLVE_CAPTCHA) {
		snprintf(st->reason, sizeof(st->reason),
			 "A CAPTCHA blocked the task: Sextant has no CAPTCHA solver");
		agent_step_record_action(run, st, a, false, st->reason, NULL);
	} else {
		out = replay_step_replayed(run, st) ? replay_complete(run, st, a) : judge_complete(run, st, a);
	}
	return out;
}

/*
 * Points the actions recorded before the last one that have no screenshot
 * of their own (fields filled in a row) at shot, the screenshot taken after
 * them: each action's result shows the state after it.
 */
static void share_screenshot(struct agent_step *st, const char *shot)
{
	json_object *res;

	for (size_t i = json_object_array_length(st->actions) - 1; i-- > 0;) {
		if (!json_object_object_get_ex(json_object_array_get_idx(st->actions, i), "result", &res) ||
		    json_object_object_get_ex(res, "screenshot", NULL))
			break;
		json_object_object_add(res, "screenshot", json_object_new_string(shot));
	}
}

/*
 * Runs one browser action, screenshots its effect when it can change more
 * than its field (it fills none: actions.h), failed, or ends a run of field
 * actions (last: the next action fills no field, or there is none), and
 * records it; a failure fails the step.
 */
static enum outcome act_browser(struct run *run, struct agent_step *st, const struct action_env *env,
				json_object *a, enum action_type t, bool last)
{
	char err[RUN_ERR_LEN] = "", sig[SIG_LEN], *shot = NULL;
	size_t windows = t == ACT_CLICK ? browser_window_count(&run->browser) : 0;
	enum outcome out = OUT_CONTINUE;
	int64_t t0 = sx_mono_ms();
	enum sx_rc rc;

	action_signature(a, sig, sizeof(sig));
	rc = action_execute(env, a, err, sizeof(err));
	/* A click may open a new tab: follow the newest window. */
	if (rc == SX_OK && t == ACT_CLICK)
		browser_follow_new_window(&run->browser, windows);
	if (rc || last || !action_fills_field(t))
		runner_screenshot(run, ART_SCREENSHOT_ACTION, &shot);
	agent_step_record_action(run, st, a, rc == SX_OK, err, shot);
	if (shot)
		share_screenshot(st, shot);
	/* One line per action with its time, screenshot included (bench/agent reads these). */
	log_info("runner", "msg=\"action done\" task=%s order=%lld kind=%s ok=%d screenshot=%d ms=%lld",
		 run->t->id, st->order, action_type_name(t), rc == SX_OK, shot != NULL,
		 (long long)(sx_mono_ms() - t0));
	free(shot);
	history_add(run, st->order, sx_arena_printf(&st->arena, "%s -> %s%s", sig, rc == SX_OK ? "ok" : "failed: ",
						    rc == SX_OK ? "" : err));
	if (rc) {
		snprintf(st->reason, sizeof(st->reason), "%s", err);
		/* The retry of this step may propose the same action: a retry, not a loop. */
		loop_forget(&run->loop);
		if (rc == SX_ESESSION)
			browser_close(&run->browser);
		out = OUT_STEP_FAILED;
	}
	return out;
}

/* Whether the action after index i fills no field (or there is none): a run of field actions ends at i. */
static bool ends_field_run(json_object *actions, size_t i)
{
	return i + 1 >= json_object_array_length(actions) ||
	       !action_fills_field(action_type_of(json_object_array_get_idx(actions, i + 1)));
}

/* Runs the model's actions in order, each after a check for cancel, timeout, lease and shutdown. */
static enum outcome act(struct run *run, struct agent_step *st, json_object *actions)
{
	struct action_env env = { browser_session(&run->browser), &st->page, run->work_dir,
				  &run->hb.interrupt, download, run, wait_recording, run };
	enum outcome out = OUT_CONTINUE;

	for (size_t i = 0; out == OUT_CONTINUE && i < json_object_array_length(actions); i++) {
		json_object *a = json_object_array_get_idx(actions, i);
		enum action_type t = action_type_of(a);

		out = runner_interrupted(run);
		if (out != OUT_CONTINUE)
			break;
		if (!json_object_is_type(a, json_type_object))
			t = ACT_UNKNOWN;
		if (t == ACT_TERMINATE || t == ACT_SOLVE_CAPTCHA || t == ACT_COMPLETE) {
			out = act_final(run, st, a, t);
			break;
		}
		out = act_browser(run, st, &env, a, t, ends_field_run(actions, i));
	}
	return out;
}

/* ---- the step ------------------------------------------------------------ */

/* Notes where the step left the browser: the page a new session reopens. */
static void note_url_after(struct run *run, struct agent_step *st)
{
	char *u = NULL;

	if (browser_current_url(&run->browser, &u) == SX_OK) {
		json_object_object_add(st->output, "url_after", json_object_new_string(u));
		free(run->last_url);
		run->last_url = u;
	}
}

enum outcome agent_step_run(struct run *run, struct agent_step *st)
{
	json_object *actions = NULL;
	enum outcome out;
	int64_t t_start = sx_mono_ms(), t_opened = 0, t_observed = 0;

	st->output = json_object_new_object();
	st->actions = json_object_new_array();
	out = runner_interrupted(run);
	if (out == OUT_CONTINUE && !run->url && !run->last_url)
		out = start_url_choose(run, st);
	if (out == OUT_CONTINUE)
		out = observe(run, st, &t_opened);
	if (out != OUT_CONTINUE)
		goto out;
	t_observed = sx_mono_ms();
	/* A task with only an extraction goal extracts on its first step. */
	if (!run->nav_goal || !*run->nav_goal) {
		out = run->extract_goal ? judge_extract(run, st, &st->page) : OUT_COMPLETED;
		goto out;
	}
	/* A stored trace decides while it fits the page (replay.h); the model from the first mismatch. */
	actions = replay_actions(run, st);
	if (!actions)
		out = decide_actions(run, st, &actions);
	if (out == OUT_CONTINUE)
		out = act(run, st, actions);
out:
	replay_step_done(run, st, actions, out);
	if (browser_is_open(&run->browser) && out != OUT_STEP_FAILED)
		note_url_after(run, st);
	/* One line per step with where its time went, the settle wait part of observe (bench/agent reads these). */
	log_info("runner", "msg=\"step done\" task=%s order=%lld outcome=%d session_ms=%lld observe_ms=%lld "
		 "settle_ms=%lld llm_ms=%lld act_ms=%lld elements=%zu element_bytes=%zu", run->t->id, st->order,
		 (int)out, (long long)(t_opened ? t_opened - t_start : 0),
		 (long long)(t_observed ? t_observed - t_opened : 0), (long long)st->page.settle_ms,
		 (long long)st->llm_ms, (long long)(t_observed ? sx_mono_ms() - t_observed - st->llm_ms : 0),
		 st->page.nelements, st->page.elements ? strlen(st->page.elements) : (size_t)0);
	json_object_put(actions);
	return out;
}
