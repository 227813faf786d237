/*
 * The task loop (see runner.h): one step after another (agent_step.h), each a
 * row written before the next starts — created as running, then
 * completed, failed or canceled with its actions, tokens and cost — and
 * the step's outcome turned into what comes next: the next step, a retry
 * (retry_index + 1, up to max_retries_per_step), or the task's end.
 */
#include <stdlib.h>

#include "sx.h"
#include "runner.h"
#include "crypto.h"
#include "actions.h"
#include "artifact_store.h"
#include "browser.h"
#include "browser_pool.h"
#include "chromedriver.h"
#include "conf.h"
#include "db.h"
#include "errcodes.h"
#include "history.h"
#include "llm/llm.h"
#include "log.h"
#include "mask.h"
#include "proxy.h"
#include "recorder.h"
#include "replay.h"
#include "run.h"
#include "agent_step.h"
#include "supervise.h"
#include "task_db.h"
#include "timeutil.h"

/* ---- set-up -------------------------------------------------------------- */

enum sx_rc runner_open(struct runner *r, const struct sx_conf *c, const atomic_int *stopping)
{
	enum sx_rc rc;

	memset(r, 0, sizeof(*r));
	r->conf = c;
	r->stopping = stopping;
	sx_worker_name(r->owner, sizeof(r->owner));
	rc = sx_db_open(&r->db, c);
	if (rc == SX_OK)
		rc = sx_db_open(&r->hb_db, c);
	if (rc == SX_OK)
		rc = llm_client_new(c, &r->llm);
	if (rc == SX_OK)
		browser_pool_new(c, &r->driver, &r->pool);
	return rc;
}

void runner_close(struct runner *r)
{
	browser_pool_free(r->pool);
	if (r->driver)
		chromedriver_stop(r->driver);
	llm_client_free(r->llm);
	sx_db_free(r->hb_db);
	sx_db_free(r->db);
	memset(r, 0, sizeof(*r));
}

enum outcome runner_interrupted(struct run *run)
{
	enum outcome out = OUT_CONTINUE;

	if (heartbeat_canceled(&run->hb) || task_check_canceled(run->r->db, run->t->id) == SX_ECANCELED)
		out = OUT_CANCELED;
	else if (heartbeat_lost(&run->hb))
		out = OUT_LOST;
	else if (sx_mono_ms() > run->deadline_ms)
		out = OUT_TIMED_OUT;
	else if (atomic_load(run->r->stopping))
		out = OUT_SHUTDOWN;
	return out;
}

void runner_screenshot(struct run *run, const char *type, char **rel)
{
	unsigned char *png = NULL;
	size_t len = 0;

	if (rel)
		*rel = NULL;
	if (browser_is_open(&run->browser) && browser_screenshot(&run->browser, &png, &len) == SX_OK) {
		artifact_store_save(&run->art, strcmp(type, ART_SCREENSHOT_FINAL) ? run->step->id : NULL,
				    type, "png", png, len, rel);
		/* The action and final screenshots are the recording's frames too. */
		recorder_frame(run->rec, png, len);
	}
	free(png);
}

/* ---- steps --------------------------------------------------------------- */

static enum sx_rc step_create(struct run *run, long long order)
{
	return step_begin(run->r->db, run->t->id, run->t->org_id, order, run->step->id);
}

static enum sx_rc step_finish(struct run *run, enum step_status status, bool is_last,
			      json_object *output)
{
	struct step_end_info e = { status, is_last, run->step->in_tokens, run->step->out_tokens,
				   run->step->cost, NULL };

	/* Reasoning, typed text, page URLs: nothing in a step's row shows a secret. */
	mask_json(run->mask, output);
	e.output_json = json_object_to_json_string_ext(output, JSON_C_TO_STRING_PLAIN);
	return step_end(run->r->db, run->t->id, run->step->id, &e);
}

/* Rebuilds the history of a resumed task from its completed steps' outputs (read by the claim). */
static void history_load(struct run *run)
{
	for (size_t i = 0; i < run->ct->nhistory; i++) {
		json_object *out = run->ct->history[i].output;
		json_object *acts;
		const char *u = jmember(out, "url_after");

		if (u) {
			/* A URL with a secret masked out is no page: such a task starts over at its url. */
			free(run->last_url);
			run->last_url = strstr(u, MASK_SHOWN) ? NULL : xstrdup(u);
		}
		if (out && json_object_object_get_ex(out, "actions", &acts)) {
			for (size_t k = 0; k < json_object_array_length(acts); k++) {
				json_object *a = json_object_array_get_idx(acts, k);
				char sig[256];

				action_signature(a, sig, sizeof(sig));
				history_add(run, run->ct->history[i].order, sig);
			}
		}
	}
}

/* ---- the task ------------------------------------------------------------ */

/* Seconds since the task first started, as the claim read them. */
static long long elapsed_seconds(struct run *run)
{
	return run->ct->elapsed_seconds;
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

/*
 * Writes the artifact files this attempt could not write into the task's
 * errors (one entry per type).  Called before the task ends or is handed
 * back, so the final task and its webhook name what was lost; a failure
 * here is logged and never keeps the task from ending.
 */
static void losses_record(struct run *run)
{
	json_object *lost = artifact_store_losses_take(&run->art);
	enum sx_rc rc = lost ? task_add_errors(run->r->db, run->t->id, run->r->owner, lost) : SX_OK;

	if (lost)
		log_warn("runner", "msg=\"artifacts lost\" task=%s kinds=%zu recorded=%s", run->t->id,
			 json_object_array_length(lost), rc ? sx_log_quote(sx_strerror(rc)) : "yes");
	json_object_put(lost);
}

/*
 * Ends the task with status st.  The reason (the model's own words for a
 * terminate, a page's error) and the extracted data are masked like
 * everything else kept.
 */
static void finish(struct run *run, enum task_status st, const char *reason)
{
	char *masked = reason ? mask_text(run->mask, reason) : NULL;
	const char *extracted = NULL;

	if (run->extracted) {
		mask_json(run->mask, run->extracted);
		extracted = json_object_to_json_string_ext(run->extracted, JSON_C_TO_STRING_PLAIN);
	}
	recording_end(run);
	losses_record(run);
	replay_task_end(run, st);
	task_finish(run->r->db, run->t->id, run->r->owner, st, masked, extracted);
	free(masked);
}

/*
 * Picks the task's proxy from proxy_map by its proxy_location (unmapped:
 * direct) and records it on the task without credentials (NULL when
 * direct).  The browser's egress proxy chains to it and sends an http://
 * proxy's credentials itself (egress_upstream.h); SOCKS authentication is
 * not implemented, so a task mapped to a socks5:// proxy with credentials
 * fails here with a clear reason rather than going direct or hanging.
 * Returns false when it finished the task.
 */
static bool proxy_choose(struct run *run)
{
	const char *loc = jmember(run->t->request, "proxy_location");
	char *shown = NULL;
	bool ok = true;

	run->proxy = proxy_map_lookup(run->r->conf->proxy_map, loc ? loc : "RESIDENTIAL");
	shown = proxy_url_strip_credentials(run->proxy);
	task_set_proxy_used(run->r->db, run->t->id, run->r->owner, shown);
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

/* Sets up the run of ct: goals, secrets, artifacts, recording, deadline, history, heartbeat. */
static void run_init(struct run *run, struct runner *r, struct claimed_task *ct)
{
	const struct sx_conf *c = r->conf;
	json_object *v;

	memset(run, 0, sizeof(*run));
	run->r = r;
	run->ct = ct;
	run->t = &ct->task;
	run->url = jmember(run->t->request, "url");
	run->nav_goal = jmember(run->t->request, "navigation_goal");
	run->extract_goal = jmember(run->t->request, "data_extraction_goal");
	if (json_object_object_get_ex(run->t->request, "navigation_payload", &v) && v) {
		run->payload = v;
		run->payload_json = xstrdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	}
	run->mask = mask_new(run->payload, c->mask_keys);
	if (json_object_object_get_ex(run->t->request, "extracted_information_schema", &v) && v) {
		run->schema = v;
		run->schema_json = xstrdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	}
	v = sx_json_member(run->t->request, "error_code_mapping");
	if (json_object_is_type(v, json_type_object) && json_object_object_length(v) > 0) {
		run->error_codes = v;
		run->error_codes_json = xstrdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	}
	run->history = json_object_new_array();
	run->art.db = r->db;
	run->art.conf = c;
	run->art.root = c->artifacts_dir;
	run->art.org_id = run->t->org_id;
	run->art.task_id = run->t->id;
	run->work_dir = artifact_store_task_dir(&run->art);
	browser_init(&run->browser, c, &r->driver, run->t->id, run->work_dir);
	run->browser.pool = r->pool;
	recorder_open(c, run->work_dir, &run->rec);
	run->deadline_ms = sx_mono_ms() + (c->task_timeout - elapsed_seconds(run)) * 1000;
	if (ct->resumed)
		history_load(run);
	heartbeat_start(&run->hb, c, r->hb_db, run->t->id, r->owner, r->stopping);
	replay_start(run);
}

static void run_release(struct run *run)
{
	heartbeat_stop(&run->hb);
	replay_free(run);
	browser_release(&run->browser);
	recorder_free(run->rec);
	json_object_put(run->history);
	json_object_put(run->extracted);
	free(run->payload_json);
	mask_free(run->mask);
	crypto_wipe(&run->totp, sizeof(run->totp));
	free(run->schema_json);
	free(run->error_codes_json);
	free(run->start_url);
	artifact_store_release(&run->art);
	free(run->work_dir);
	free(run->last_url);
	free(run->proxy);
}

/* Writes the step's row: its output (actions, error) and a status from its outcome. */
static void step_record(struct run *run, struct agent_step *st, enum outcome step)
{
	bool last = step == OUT_COMPLETED || step == OUT_TERMINATED || step == OUT_TASK_FAILED ||
		    step == OUT_TIMED_OUT;

	json_object_object_add(st->output, "actions", json_object_get(st->actions));
	if (st->errors)
		json_object_object_add(st->output, "errors", json_object_get(st->errors));
	browser_record_start(&run->browser, st->output);
	browser_record_refusals(&run->browser, st->output);
	if (step == OUT_STEP_FAILED || step == OUT_TASK_FAILED)
		json_object_object_add(st->output, "error", json_object_new_string(st->reason));
	step_finish(run, step == OUT_STEP_FAILED || step == OUT_TASK_FAILED ? STEP_FAILED :
			 step == OUT_CANCELED ? STEP_CANCELED :
			 step == OUT_SHUTDOWN || step == OUT_LOST ? STEP_FAILED : STEP_COMPLETED,
		    last, st->output);
}

/* The failure_reason of a task whose step failed once more than max_retries_per_step allows. */
static void max_retries_reason(struct run *run, struct agent_step *st, char *buf, size_t len)
{
	snprintf(buf, len, "Max retries per step (%lld) exceeded: %s", run->r->conf->max_retries_per_step,
		 st->reason);
}

/* The failure_reason of a task out of steps. */
static void max_steps_reason(struct run *run, char *buf, size_t len)
{
	snprintf(buf, len, "Max steps per task (%lld) exceeded", run->t->max_steps);
}

/*
 * The reason the task will end with after step st's outcome, when it ends
 * failed or terminated, into buf (or st->reason itself); NULL when the task
 * goes on, or ends otherwise.  run_next then ends it with that reason.
 */
static const char *failure_ahead(struct run *run, struct agent_step *st, enum outcome step,
				 long long order, long long failures, char *buf, size_t len)
{
	const char *reason = NULL;

	if (step == OUT_TERMINATED || step == OUT_TASK_FAILED) {
		reason = st->reason;
	} else if (step == OUT_STEP_FAILED && failures + 1 > run->r->conf->max_retries_per_step) {
		max_retries_reason(run, st, buf, len);
		reason = buf;
	} else if (step == OUT_CONTINUE && order + 1 >= run->t->max_steps) {
		max_steps_reason(run, buf, len);
		reason = buf;
	}
	return reason;
}

/*
 * The error codes of step st, when the task has an error_code_mapping and
 * the step ends it failed or terminated: asked for unless the model's
 * terminate named them (errcodes.h), then added to the task's errors
 * (secrets masked) before it ends.  Skyvern reports them on failed and
 * terminated tasks only, never on a completed, canceled or timed-out one.
 */
static void step_errors(struct run *run, struct agent_step *st, enum outcome step, long long order,
			long long failures)
{
	char buf[RUN_ERR_LEN + 64];
	const char *failure = NULL;

	if (run->error_codes && !st->errors_asked)
		failure = failure_ahead(run, st, step, order, failures, buf, sizeof(buf));
	if (failure)
		errcodes_ask(run, st, failure);
	if (!st->errors)
		return;
	mask_json(run->mask, st->errors);
	if (task_add_errors(run->r->db, run->t->id, run->r->owner, st->errors) != SX_OK)
		log_warn("runner", "msg=\"error codes not recorded\" task=%s", run->t->id);
}

/* Ends the task with status st and reason, after a last screenshot. */
static void finish_with_screenshot(struct run *run, enum task_status st, const char *reason)
{
	runner_screenshot(run, ART_SCREENSHOT_FINAL, NULL);
	finish(run, st, reason);
}

/*
 * Acts on the outcome of step st: the next step (*order + 1), a retry of
 * it (counted in *failures), or the task's end.  OUT_CONTINUE while the
 * task goes on.
 */
static enum outcome run_next(struct run *run, struct agent_step *st, enum outcome step, long long *order,
			     long long *failures)
{
	const struct sx_conf *c = run->r->conf;
	char reason[RUN_ERR_LEN + 64], *masked;
	enum outcome out = step;

	switch (step) {
	case OUT_CONTINUE:
		(*order)++;
		*failures = 0;
		break;
	case OUT_STEP_FAILED:
		masked = mask_text(run->mask, st->reason);
		log_info("runner", "msg=\"step failed\" task=%s order=%lld retry=%lld error=%s",
			 run->t->id, *order, *failures, sx_log_quote(masked));
		free(masked);
		out = OUT_CONTINUE;
		if (++*failures > c->max_retries_per_step) {
			max_retries_reason(run, st, reason, sizeof(reason));
			finish_with_screenshot(run, TASK_FAILED, reason);
			out = OUT_TASK_FAILED;
		}
		break;
	case OUT_COMPLETED:
		finish_with_screenshot(run, TASK_COMPLETED, NULL);
		break;
	case OUT_TERMINATED:
		finish_with_screenshot(run, TASK_TERMINATED, st->reason);
		break;
	case OUT_TASK_FAILED:
		finish_with_screenshot(run, TASK_FAILED, st->reason);
		break;
	case OUT_TIMED_OUT:
		snprintf(reason, sizeof(reason), "Task exceeded its time limit of %lld seconds", c->task_timeout);
		finish_with_screenshot(run, TASK_TIMED_OUT, reason);
		break;
	case OUT_CANCELED:
		runner_screenshot(run, ART_SCREENSHOT_FINAL, NULL);
		recording_end(run);
		losses_record(run);
		task_finish_canceled(run->r->db, run->t->id, run->r->owner);
		break;
	case OUT_LOST:
		log_warn("runner", "msg=\"lease lost; stopping\" task=%s", run->t->id);
		break;
	case OUT_SHUTDOWN:
		losses_record(run);
		task_hand_back(run->r->db, run->t->id, run->r->owner);
		break;
	}
	return out;
}

void runner_run_task(struct runner *r, struct claimed_task *ct)
{
	struct run run;
	long long order = ct->next_order, failures = 0;
	enum outcome out;

	run_init(&run, r, ct);
	if (!run.t->request) {
		/* task_db could not read it (see its errors): never run without a URL or goal. */
		finish(&run, TASK_FAILED, "The stored request of this task cannot be read "
		       "(nested deeper than the limit, or not JSON); create the task again");
		out = OUT_TASK_FAILED;
	} else {
		out = proxy_choose(&run) ? OUT_CONTINUE : OUT_TASK_FAILED;
	}
	run.browser.proxy = run.proxy;
	while (out == OUT_CONTINUE) {
		struct agent_step st;
		char reason[96];

		if (order >= run.t->max_steps) {
			max_steps_reason(&run, reason, sizeof(reason));
			finish_with_screenshot(&run, TASK_FAILED, reason);
			break;
		}
		agent_step_init(&st, order);
		run.step = &st;
		if (step_create(&run, order) != SX_OK) {
			/*
			 * The database failed the step's row (unreachable, or a
			 * conflict that outlived its retries): hand the task back now
			 * rather than leave it to its lease.  If the hand-back fails
			 * too, the lease's expiry returns it to the queue.
			 */
			sx_sleep_ms(1000, r->stopping);
			task_hand_back(r->db, run.t->id, r->owner);
			out = OUT_SHUTDOWN;
		} else {
			enum outcome step = agent_step_run(&run, &st);

			step_errors(&run, &st, step, order, failures);
			step_record(&run, &st, step);
			out = run_next(&run, &st, step, &order, &failures);
		}
		run.step = NULL;
		agent_step_release(&st);
	}
	run_release(&run);
}
