/*
 * Replay of a stored trace, and the recording of a new one (see replay.h).
 */
#include "sx.h"
#include "replay.h"
#include "agent_step.h"
#include "browser.h"
#include "conf.h"
#include "crypto.h"
#include "history.h"
#include "json.h"
#include "judge.h"
#include "log.h"
#include "runner.h"
#include "task_db.h"
#include "timeutil.h"
#include "trace.h"
#include "trace_db.h"

/*
 * How long a replayed step waits for the page it expects (a form submitted
 * a moment ago may still be loading) before it hands over, and how often it
 * looks again.  The model would have taken seconds to answer anyway.
 */
#define REPLAY_SETTLE_MS 3000
#define REPLAY_POLL_MS 150
#define WHY_LEN 240

struct replay {
	bool record;               /* keep this run's trace when it completes */
	bool replaying;            /* the trace drives the steps */
	bool had_trace;            /* the task started with a trace to replay */
	bool off;                  /* replay does not apply (config, run_with agent, resumed, no goal) */
	bool step_replayed;        /* the step being run runs the trace's actions */
	long long healed_at;       /* the first step the model decided after a handover, or -1 */
	long long tokens;          /* the model tokens this run spent */
	size_t next;               /* the trace step to replay next */
	char key[CRYPTO_SHA256_HEX];
	char *key_json;
	struct trace_row row;      /* the stored trace, when had_trace */
	json_object *trace;
	struct trace_recorder rec;
};

/* run_with of the task: its request's, else its run request's (the run API keeps it there); NULL: the config's. */
static const char *run_with(const struct run *run)
{
	const char *w = jmember(run->t->request, "run_with");

	return w ? w : jmember(run->t->run_request, "run_with");
}

/*
 * Reads the trace stored under the task's key, if any, and starts replaying
 * it.  The row is read as any stored JSON is (depth capped) and its shape
 * checked once here (trace_valid), so the replay below may index it.
 */
static void trace_load(struct run *run, struct replay *rp)
{
	enum sx_rc rc = trace_db_get(run->r->db, run->t->org_id, rp->key, &rp->row);
	char why[WHY_LEN] = "";

	if (rc == SX_OK) {
		rp->trace = sx_json_parse_stored(rp->row.trace_json ? rp->row.trace_json : "",
						 rp->row.trace_json ? strlen(rp->row.trace_json) : 0,
						 SX_JSON_MAX_DEPTH, why, sizeof(why));
		if (!rp->trace || !trace_valid(rp->trace, why, sizeof(why)))
			rc = SX_EPARSE;
		if (rc)
			log_warn("replay", "msg=\"stored trace unreadable; not replayed\" task=%s trace=%s why=%s",
				 run->t->id, rp->row.id, sx_log_quote(why));
	}
	if (rc) {
		trace_row_release(&rp->row);
		json_object_put(rp->trace);
		rp->trace = NULL;
		return;
	}
	rp->had_trace = rp->replaying = true;
	log_info("replay", "msg=\"replaying a trace\" task=%s trace=%s version=%lld steps=%zu", run->t->id,
		 rp->row.id, rp->row.version, json_object_array_length(sx_json_member(rp->trace, "steps")));
}

/*
 * The task's run_with, or the config's default for it: replay = auto is
 * "code", replay = off is "agent" with nothing kept either.  *keep says
 * whether the run's trace may be kept.
 */
static const char *mode_of(const struct run *run, bool *keep)
{
	const char *with = run_with(run);
	bool conf_on = strcmp(run->r->conf->replay, "off") != 0;

	*keep = conf_on || (with && strcmp(with, "code") == 0);
	return with ? with : conf_on ? "code" : "agent";
}

void replay_start(struct run *run)
{
	struct replay *rp = xcalloc(1, sizeof(*rp));
	bool keep;
	const char *mode = mode_of(run, &keep);

	run->replay = rp;
	rp->healed_at = -1;
	trace_recorder_init(&rp->rec);
	rp->off = true;
	if (!keep || run->ct->resumed || !run->nav_goal || !*run->nav_goal)
		return;
	rp->key_json = trace_key_json(run->url, run->nav_goal, run->extract_goal, run->schema, run->payload);
	if (!rp->key_json)
		return;
	crypto_sha256_hex(rp->key_json, strlen(rp->key_json), rp->key);
	rp->record = true;
	if (strcmp(mode, "agent") == 0)
		return;
	rp->off = false;
	trace_load(run, rp);
}

void replay_free(struct run *run)
{
	struct replay *rp = run->replay;

	if (!rp)
		return;
	trace_recorder_release(&rp->rec);
	trace_row_release(&rp->row);
	json_object_put(rp->trace);
	free(rp->key_json);
	free(rp);
	run->replay = NULL;
}

/*
 * Hands the task over to the model from step order on, telling the model's
 * history why (page text only: labels, a URL pattern; masked by history_add).
 */
static void handover(struct run *run, struct agent_step *st, long long order, const char *why)
{
	struct replay *rp = run->replay;

	rp->replaying = false;
	rp->healed_at = order;
	json_object_object_add(st->output, "replay_handover", json_object_new_string(why));
	history_add(run, st->order, sx_arena_printf(&st->arena, "replay stopped (%s); the model takes over", why));
	log_info("replay", "msg=\"handed over to the model\" task=%s order=%lld", run->t->id, order);
}

/*
 * The action of the trace ta for the page of st, with its element's id now
 * and its values from this task's payload; NULL with why filled when the
 * element cannot be told apart or the payload has no value for it.
 */
static json_object *resolve_action(struct run *run, struct agent_step *st, json_object *ta, char *why,
				   size_t whylen)
{
	static const char *const values[] = { "text", "option", "url", "key" };
	static const char *const plain[] = { "direction", "seconds" };
	json_object *a = json_object_new_object(), *fp = sx_json_member(ta, "element"), *v;
	const char *id;

	json_object_object_add(a, "action", json_object_get(sx_json_member(ta, "action")));
	if (fp) {
		id = st->page.index ? trace_resolve(st->page.index, fp, why, whylen) : NULL;
		if (!id)
			goto fail;
		json_object_object_add(a, "element", json_object_new_string(id));
	}
	for (size_t i = 0; i < SX_ARRAY_LEN(values); i++) {
		char *val;

		if (!(v = sx_json_member(ta, values[i])))
			continue;
		val = trace_value_resolve(run->payload, v);
		if (!val) {
			snprintf(why, whylen, "the payload has no value at %.100s", sx_json_string(v, "ref"));
			goto fail;
		}
		json_object_object_add(a, values[i], json_object_new_string(val));
		free(val);
	}
	for (size_t i = 0; i < SX_ARRAY_LEN(plain); i++)
		if ((v = sx_json_member(ta, plain[i])) != NULL)
			json_object_object_add(a, plain[i], json_object_get(v));
	json_object_object_add(a, "reasoning", json_object_new_string("replayed from the trace"));
	return a;
fail:
	json_object_put(a);
	return NULL;
}

/*
 * The actions of trace step ts resolved on st's page, in order, up to the
 * first that cannot be (why filled).  *page_ok is false, and the list
 * empty, when the page is not the one expected.
 */
static json_object *resolve_step(struct run *run, struct agent_step *st, json_object *ts, bool *page_ok,
				 char *why, size_t whylen)
{
	json_object *out = json_object_new_array(), *acts = sx_json_member(ts, "actions");

	*page_ok = trace_page_matches(sx_json_member(ts, "page"), &st->page, why, whylen);
	for (size_t i = 0; *page_ok && i < json_object_array_length(acts); i++) {
		json_object *a = resolve_action(run, st, json_object_array_get_idx(acts, i), why, whylen);

		if (!a)
			break;
		json_object_array_add(out, a);
	}
	return out;
}

/*
 * Reads the page of st again, after a short wait.  A page that cannot be
 * read (still navigating) leaves st->page empty, which fits no trace page,
 * and is looked at again while time is left.
 */
static void look_again(struct run *run, struct agent_step *st)
{
	sx_sleep_ms(REPLAY_POLL_MS, &run->hb.interrupt);
	scrape_release(&st->page);
	if (browser_scrape(&run->browser, &st->page) != SX_OK)
		scrape_release(&st->page);
}

json_object *replay_actions(struct run *run, struct agent_step *st)
{
	struct replay *rp = run->replay;
	json_object *steps, *ts, *acts = NULL;
	int64_t deadline = sx_mono_ms() + REPLAY_SETTLE_MS;
	char why[WHY_LEN] = "";
	size_t total;
	bool page_ok = false;

	if (!rp || !rp->replaying)
		return NULL;
	steps = sx_json_member(rp->trace, "steps");
	if (rp->next >= json_object_array_length(steps)) {
		handover(run, st, st->order, "the trace has no further step");
		return NULL;
	}
	ts = json_object_array_get_idx(steps, rp->next);
	total = json_object_array_length(sx_json_member(ts, "actions"));
	for (;;) {
		acts = resolve_step(run, st, ts, &page_ok, why, sizeof(why));
		if ((page_ok && json_object_array_length(acts) == total) || sx_mono_ms() >= deadline ||
		    runner_interrupted(run) != OUT_CONTINUE)
			break;
		json_object_put(acts);
		look_again(run, st);
	}
	if (!page_ok || (total > 0 && json_object_array_length(acts) == 0)) {
		handover(run, st, st->order, why);
		json_object_put(acts);
		return NULL;
	}
	rp->next++;
	rp->step_replayed = true;
	json_object_object_add(st->output, "replayed", json_object_new_boolean(true));
	if (json_object_array_length(acts) < total) {
		/* The actions that resolved run; the model decides the next step. */
		handover(run, st, st->order + 1, why);
	} else if (sx_json_bool(ts, "complete")) {
		json_object *c = json_object_new_object();

		json_object_object_add(c, "action", json_object_new_string("complete"));
		json_object_object_add(c, "reasoning", json_object_new_string("replayed from the trace"));
		json_object_array_add(acts, c);
	}
	return acts;
}

bool replay_step_replayed(const struct run *run, const struct agent_step *st)
{
	(void)st;
	return run->replay && run->replay->step_replayed;
}

/* Looks at the page until it shows the trace's evidence or REPLAY_SETTLE_MS pass; page receives it. */
static bool evidence_shown(struct run *run, struct scrape_result *page, char *why, size_t whylen)
{
	int64_t deadline = sx_mono_ms() + REPLAY_SETTLE_MS;
	json_object *evidence = sx_json_member(run->replay->trace, "evidence");
	bool ok = false;

	for (;;) {
		if (browser_scrape(&run->browser, page) == SX_OK)
			ok = trace_evidence_matches(evidence, page, why, whylen);
		else
			snprintf(why, whylen, "the page could not be read");
		if (ok || sx_mono_ms() >= deadline || runner_interrupted(run) != OUT_CONTINUE)
			break;
		scrape_release(page);
		sx_sleep_ms(REPLAY_POLL_MS, &run->hb.interrupt);
	}
	return ok;
}

enum outcome replay_complete(struct run *run, struct agent_step *st, json_object *action)
{
	struct scrape_result page;
	char why[WHY_LEN] = "";
	enum outcome out = OUT_COMPLETED;

	memset(&page, 0, sizeof(page));
	if (!evidence_shown(run, &page, why, sizeof(why))) {
		const char *err = sx_arena_printf(&st->arena, "replay: the recorded evidence of success is "
						  "missing: %s", why);

		agent_step_record_action(run, st, action, false, err, NULL);
		handover(run, st, st->order + 1, why);
		out = OUT_CONTINUE;
		goto out;
	}
	/* The data is new on every run: a task that asks for it makes its one extraction call. */
	if (run->extract_goal || run->schema)
		out = judge_extract(run, st, &page);
	agent_step_record_action(run, st, action, out == OUT_COMPLETED, out == OUT_COMPLETED ? NULL : st->reason,
				 NULL);
	if (out == OUT_COMPLETED)
		history_add(run, st->order, "complete (replayed: the recorded evidence of success is on the page)");
out:
	scrape_release(&page);
	return out;
}

void replay_step_done(struct run *run, struct agent_step *st, json_object *actions, enum outcome out)
{
	struct replay *rp = run->replay;

	if (!rp)
		return;
	rp->tokens += st->in_tokens + st->out_tokens;
	if (rp->step_replayed && rp->replaying && out == OUT_STEP_FAILED)
		handover(run, st, st->order, st->reason);
	rp->step_replayed = false;
	if (!rp->record || !actions)
		return;
	if (sx_json_member(st->output, "verification_code_source"))
		trace_recorder_spoil(&rp->rec, "a one-time code was entered");
	trace_record_step(&rp->rec, run->payload, &st->page, actions, st->actions);
}

/* Stores the run's new trace; *stored receives the row (released by the caller). */
static void trace_store(struct run *run, struct trace_row *stored)
{
	struct replay *rp = run->replay;
	json_object *t = trace_recorder_take(&rp->rec, run->mask);
	struct trace_row in;
	enum sx_rc rc;

	if (!t) {
		log_info("replay", "msg=\"trace not kept\" task=%s reason=%s", run->t->id, sx_log_quote(rp->rec.why));
		return;
	}
	memset(&in, 0, sizeof(in));
	in.org_id = run->t->org_id;
	in.trace_key = rp->key;
	in.key_json = rp->key_json;
	in.trace_json = (char *)json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN);
	in.step_count = (long long)json_object_array_length(sx_json_member(t, "steps"));
	in.model_tokens = rp->tokens;
	in.source_task_id = run->t->id;
	rc = trace_db_put(run->r->db, &in, stored);
	log_info("replay", "msg=\"trace kept\" task=%s trace=%s version=%lld steps=%lld stored=%s", run->t->id,
		 stored->id, stored->version, in.step_count, rc ? sx_strerror(rc) : "yes");
	json_object_put(t);
}

void replay_task_end(struct run *run, enum task_status status)
{
	struct replay *rp = run->replay;
	struct trace_row stored;
	const struct trace_row *shown;
	const char *outcome;
	json_object *o;
	long long saved = 0;

	if (!rp)
		return;
	memset(&stored, 0, sizeof(stored));
	outcome = rp->off ? "off" : !rp->had_trace ? "miss" : rp->healed_at >= 0 ? "healed" : "hit";
	if (rp->had_trace && rp->row.model_tokens > rp->tokens)
		saved = rp->row.model_tokens - rp->tokens;
	if (status == TASK_COMPLETED && rp->record && strcmp(outcome, "hit") != 0)
		trace_store(run, &stored);
	shown = stored.id[0] ? &stored : rp->had_trace ? &rp->row : NULL;
	o = json_object_new_object();
	json_object_object_add(o, "outcome", json_object_new_string(outcome));
	json_object_object_add(o, "healed_at_step", rp->had_trace && rp->healed_at >= 0 ?
				json_object_new_int64(rp->healed_at) : NULL);
	json_object_object_add(o, "model_tokens_saved", json_object_new_int64(saved));
	json_object_object_add(o, "trace_id", shown ? json_object_new_string(shown->id) : NULL);
	json_object_object_add(o, "trace_version", shown ? json_object_new_int64(shown->version) : NULL);
	if (task_set_replay(run->r->db, run->t->id, run->r->owner, o) != SX_OK)
		log_warn("replay", "msg=\"replay outcome not recorded\" task=%s", run->t->id);
	json_object_put(o);
	trace_row_release(&stored);
}
