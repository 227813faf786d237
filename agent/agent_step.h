#ifndef SX_AGENT_STEP_H
#define SX_AGENT_STEP_H
/*
 * One step of a task: choose a start URL when the task has none
 * (start_url.h), observe (open the browser if needed, scrape the page,
 * screenshot it), decide (one LLM call, a second when the page asks for a
 * one-time code or the model repeats itself), act (the model's actions in
 * order through actions.c; `complete` goes to the judge, judge.h).
 *
 * Everything a step owns is in struct agent_step (the agent's live step;
 * core/task.h's struct step is its stored row) and freed once, by
 * agent_step_release: the page and screenshot it observed, its output and
 * actions, and its scratch arena, which holds the step's transient strings
 * (prompts, history text, the model's answers, masked copies).
 */
#include "sx.h"
#include <json-c/json.h>
#include "arena.h"
#include "id.h"
#include "run.h"
#include "scrape.h"

struct prompt_ctx;

struct agent_step {
	long long order;
	char id[SX_ID_MAX];
	struct sx_arena arena;       /* freed at step_release */
	struct scrape_result page;   /* what the step observed */
	unsigned char *png;          /* its screenshot, at the model's size (observe), or NULL */
	size_t pnglen;
	json_object *output;         /* what the step did, for its row (step_run creates it) */
	json_object *actions;        /* the actions run, with their results */
	long long in_tokens, out_tokens;
	double cost;
	int64_t llm_ms;              /* time spent waiting for the model */
	char code[TOTP_CODE_MAX];    /* the one-time code for this step's re-decide, or "" */
	bool code_needed;            /* the last decide asked for a code */
	char reason[RUN_ERR_LEN];    /* why the step (or the task) ends, when it is not OUT_CONTINUE */
	json_object *errors;         /* the task's error codes that apply (core/errcode.h), or NULL */
	bool errors_asked;           /* the model already chose them, in its terminate action */
};

/* An empty step of order (no allocation). */
void agent_step_init(struct agent_step *st, long long order);
/* Frees what the step holds (the code wiped); st may be initialized again. */
void agent_step_release(struct agent_step *st);

/*
 * Runs step st of run (run->step == st): observe, decide, act.  st->output
 * receives what the step did, st->reason why it ends when the outcome is
 * not OUT_CONTINUE.
 */
enum outcome agent_step_run(struct run *run, struct agent_step *st);

/*
 * One model call, with its request and response saved (secrets masked) and
 * its tokens and cost added to the step.  *text is the answer (in the
 * step's arena); on failure st->reason says why.
 */
enum sx_rc agent_step_ask(struct run *run, struct agent_step *st, const char *system, const char *user,
		    const unsigned char *png, size_t pnglen, const char **text);

/*
 * The screenshot the model is shown with this step's page (the scaled copy
 * when there is one), or NULL when llm_vision is off or there is none.
 */
const unsigned char *agent_step_llm_image(const struct run *run, const struct agent_step *st,
					  size_t *len);

/*
 * The page text a decide-like prompt carries: the step's page text without
 * the lines the element list already shows (labels, options), then its first
 * lines (messages, errors) and the lines that bear on the task's goal, within
 * DECIDE_TEXT_MAX bytes (relevant.h); in the step's arena.
 */
const char *agent_step_page_text(struct run *run, struct agent_step *st);

/* The prompt context of page for step st (its strings are borrowed). */
void agent_step_prompt_ctx(struct run *run, struct agent_step *st, const struct scrape_result *page,
		     struct prompt_ctx *ctx);

/*
 * Adds action to the step's output with its result (ok, error) and, when
 * there is one, its screenshot shot; typed text is masked.
 */
void agent_step_record_action(struct run *run, struct agent_step *st, json_object *action, bool ok,
			const char *error, const char *shot);
#endif
