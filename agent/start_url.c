/*
 * The start URL of a run created without url (see start_url.h).
 */
#include "sx.h"
#include "start_url.h"
#include "agent_step.h"
#include "conf.h"
#include "invalid.h"
#include "json.h"
#include "llm/llm.h"
#include "log.h"
#include "prompt.h"
#include "runner.h"
#include "task.h"
#include "task_db.h"

/*
 * The URL of the model's answer text, borrowed from *answer (which the
 * caller puts), or NULL with st->reason saying why there is none.
 */
static const char *answer_url(struct agent_step *st, const char *text, json_object **answer)
{
	char perr[256];
	const char *url = NULL;

	*answer = llm_parse_answer(text, perr, sizeof(perr));
	if (!*answer) {
		snprintf(st->reason, sizeof(st->reason),
			 "The model chose no start URL: its answer is not JSON (%s)", perr);
	} else if (!(url = sx_json_string(*answer, "url")) || !*url) {
		url = NULL;
		snprintf(st->reason, sizeof(st->reason),
			 "The model chose no start URL: its answer has no \"url\" string");
	}
	return url;
}

/* Stores url as the task's; the outcome of the step when it could not. */
static enum outcome start_url_store(struct run *run, struct agent_step *st, const char *url)
{
	enum sx_rc rc = task_set_start_url(run->r->db, run->t->id, run->r->owner, url);
	enum outcome out = OUT_CONTINUE;

	if (rc == SX_ECONFLICT) {
		out = OUT_LOST;
		snprintf(st->reason, sizeof(st->reason), "the task is no longer this worker's");
	} else if (rc) {
		out = OUT_STEP_FAILED;
		snprintf(st->reason, sizeof(st->reason), "could not store the start URL: %s",
			 sx_strerror(rc));
	} else {
		free(run->start_url);
		run->start_url = xstrdup(url);
		run->url = run->start_url;
	}
	return out;
}

enum outcome start_url_choose(struct run *run, struct agent_step *st)
{
	struct prompt_ctx ctx;
	struct sx_invalid why;
	const char *text = NULL, *url;
	json_object *answer = NULL;
	enum outcome out = OUT_STEP_FAILED;

	memset(&why, 0, sizeof(why));
	memset(&ctx, 0, sizeof(ctx));
	ctx.navigation_goal = run->nav_goal;
	ctx.data_extraction_goal = run->extract_goal;
	if (agent_step_ask(run, st, sx_arena_own(&st->arena, prompt_system_start_url()),
			   sx_arena_own(&st->arena, prompt_user_start_url(&ctx)), NULL, 0, &text) != SX_OK)
		goto out;
	out = OUT_TASK_FAILED;
	url = answer_url(st, text, &answer);
	if (!url)
		goto out;
	json_object_object_add(st->output, "start_url", json_object_new_string(url));
	if (jmember(answer, "reasoning"))
		json_object_object_add(st->output, "start_url_reasoning",
				       json_object_new_string(jmember(answer, "reasoning")));
	if (task_url_check(url, run->r->conf->outbound_allow, &why) != SX_OK) {
		snprintf(st->reason, sizeof(st->reason), "The start URL the model chose cannot be used: %s",
			 why.msg ? why.msg : "refused");
		goto out;
	}
	out = start_url_store(run, st, url);
	if (out == OUT_CONTINUE)
		log_info("runner", "msg=\"start URL chosen\" task=%s", run->t->id);
out:
	sx_invalid_release(&why);
	json_object_put(answer);
	return out;
}
