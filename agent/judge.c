/*
 * complete → verify → extract (see judge.h).  The verification is a
 * verdict about the page, turned into the step's outcome here, once.
 */
#include "sx.h"
#include "judge.h"
#include "arena.h"
#include "browser.h"
#include "conf.h"
#include "history.h"
#include "json.h"
#include "llm/llm.h"
#include "prompt.h"
#include "relevant.h"
#include "runner.h"
#include "schema.h"
#include "scrape.h"
#include "agent_step.h"

#define WHY_LEN 400
/*
 * What verification and extraction read of a page: the lines that bear on
 * the goal (relevant.h), within these budgets.  Verification needs the
 * confirmation or the error, not the form; extraction needs the data.
 */
#define VERIFY_TEXT_MAX 2000
#define EXTRACT_TEXT_MAX 6000
#define EXTRACT_ELEMENTS_MAX 1500

/* What the model's fresh look at the page says. */
enum verdict {
	VERDICT_ACHIEVED,   /* the goal is reached */
	VERDICT_NOT_YET,    /* not reached: why says what the model saw */
	VERDICT_PAGE_LOST,  /* the page could not be read: the session is gone */
	VERDICT_UNUSABLE,   /* the page, or the model's answer, could not be used */
};

static enum outcome extract_with_repair(struct run *run, struct agent_step *st,
					const struct scrape_result *page, const char *problem_in);

/* True when the task asks for extracted data: a goal, or a schema alone (the run API's way). */
static bool wants_extraction(const struct run *run)
{
	return run->extract_goal || run->schema;
}

/*
 * The prompts of the verification call: verification alone reads the text
 * that bears on the goal; with extraction wanted, one call verifies and
 * extracts, reading the goal's and the data's lines of text and elements.
 */
static void verify_prompts(struct run *run, struct agent_step *st, const struct scrape_result *page,
			   const char **system, const char **user)
{
	struct prompt_ctx ctx;
	const char *goals;

	agent_step_prompt_ctx(run, st, page, &ctx);
	if (!wants_extraction(run)) {
		ctx.no_elements = true;
		ctx.page_text = sx_arena_own(&st->arena, relevant_lines(page->text, run->nav_goal,
									VERIFY_TEXT_MAX));
		*system = sx_arena_own(&st->arena, prompt_system_verify());
		*user = sx_arena_own(&st->arena, prompt_user_verify(&ctx));
		return;
	}
	goals = sx_arena_printf(&st->arena, "%s\n%s", run->nav_goal ? run->nav_goal : "",
				run->extract_goal ? run->extract_goal : "");
	ctx.elements = sx_arena_own(&st->arena, relevant_data_lines(page->elements, goals, EXTRACT_ELEMENTS_MAX));
	ctx.page_text = sx_arena_own(&st->arena, relevant_data_lines(page->text, goals, EXTRACT_TEXT_MAX));
	*system = sx_arena_own(&st->arena, prompt_system_verify_extract());
	*user = sx_arena_own(&st->arena, prompt_user_verify_extract(&ctx, run->schema_json));
}

/*
 * Asks the model whether the goal is achieved on a fresh scrape of the
 * page, which page receives (the caller releases it).  st->reason says why
 * when there is no verdict.  When the task wants extracted data, the same
 * call extracts it: *extracted is the model's value (a new reference), or
 * NULL when it gave none.
 */
static enum verdict verify(struct run *run, struct agent_step *st, struct scrape_result *page,
			   char *why, size_t whylen, json_object **extracted)
{
	unsigned char *png = NULL;
	size_t pnglen = 0;
	const char *text = NULL, *system, *user;
	json_object *v = NULL, *g;
	char perr[256];
	enum verdict verdict = VERDICT_UNUSABLE;
	enum sx_rc rc;

	*extracted = NULL;
	rc = browser_scrape(&run->browser, page);
	if (rc) {
		snprintf(st->reason, sizeof(st->reason), "could not read the page to verify: %.200s",
			 browser_last_error(&run->browser));
		verdict = rc == SX_ESESSION ? VERDICT_PAGE_LOST : VERDICT_UNUSABLE;
		goto out;
	}
	if (run->r->conf->llm_vision && run->r->conf->llm_verify_image) {
		browser_screenshot_width(&run->browser, llm_screenshot_width(run->r->conf), &png, &pnglen);
		sx_arena_own(&st->arena, png);
	}
	verify_prompts(run, st, page, &system, &user);
	if (agent_step_ask(run, st, system, user, png, pnglen, &text) != SX_OK)
		goto out;
	v = llm_parse_answer(text, perr, sizeof(perr));
	if (!v || !json_object_object_get_ex(v, "goal_achieved", &g)) {
		snprintf(st->reason, sizeof(st->reason), "the verification answer was not usable: %s",
			 v ? "no goal_achieved" : perr);
		goto out;
	}
	verdict = json_object_get_boolean(g) ? VERDICT_ACHIEVED : VERDICT_NOT_YET;
	snprintf(why, whylen, "%.300s", jmember(v, "reasoning") ? jmember(v, "reasoning") : "");
	if (verdict == VERDICT_ACHIEVED && wants_extraction(run))
		*extracted = json_object_get(sx_json_member(v, "extracted"));
out:
	json_object_put(v);
	return verdict;
}

/*
 * The extraction of a verified page: the value the verification call gave
 * when it matches the schema, else an extraction call (told what was wrong
 * with that value).  Consumes extracted.
 */
static enum outcome extract_after_verify(struct run *run, struct agent_step *st,
					 const struct scrape_result *page, json_object *extracted)
{
	char perr[256] = "";

	if (extracted && (!run->schema || schema_check(run->schema, extracted, perr, sizeof(perr)))) {
		json_object_put(run->extracted);
		run->extracted = extracted;
		return OUT_COMPLETED;
	}
	json_object_put(extracted);
	return extract_with_repair(run, st, page, *perr ? perr : NULL);
}

enum outcome judge_complete(struct run *run, struct agent_step *st, json_object *action)
{
	struct scrape_result page;
	char why[WHY_LEN] = "";
	const char *not_yet;
	json_object *extracted = NULL;
	enum outcome out = OUT_STEP_FAILED;

	memset(&page, 0, sizeof(page));
	switch (verify(run, st, &page, why, sizeof(why), &extracted)) {
	case VERDICT_PAGE_LOST:
		break;
	case VERDICT_UNUSABLE:
		agent_step_record_action(run, st, action, false, st->reason, NULL);
		break;
	case VERDICT_NOT_YET:
		not_yet = sx_arena_printf(&st->arena, "verification says the goal is not achieved yet: %s", why);
		agent_step_record_action(run, st, action, false, not_yet, NULL);
		history_add(run, st->order, not_yet);
		out = OUT_CONTINUE;
		break;
	case VERDICT_ACHIEVED:
		/*
		 * Extraction, if any, reads the page the verification saw.  A schema
		 * alone asks for it too (the run API's data_extraction_schema has no
		 * goal beside it), as in Skyvern.
		 */
		out = wants_extraction(run) ? extract_after_verify(run, st, &page, extracted) : OUT_COMPLETED;
		extracted = NULL;
		if (out == OUT_COMPLETED) {
			agent_step_record_action(run, st, action, true, NULL, NULL);
			history_add(run, st->order, "complete (verified)");
		} else {
			agent_step_record_action(run, st, action, false, st->reason, NULL);
		}
		break;
	}
	json_object_put(extracted);
	scrape_release(&page);
	return out;
}

enum outcome judge_extract(struct run *run, struct agent_step *st, const struct scrape_result *page)
{
	return extract_with_repair(run, st, page, NULL);
}

/* Extraction calls (two at most); problem, when set, is what was wrong with an earlier value. */
static enum outcome extract_with_repair(struct run *run, struct agent_step *st,
					const struct scrape_result *page, const char *problem_in)
{
	struct prompt_ctx ctx;
	const char *system = sx_arena_own(&st->arena, prompt_system_extract());
	char problem[RUN_ERR_LEN] = "";
	enum outcome out = OUT_TASK_FAILED;

	if (problem_in)
		snprintf(problem, sizeof(problem), "%s", problem_in);
	agent_step_prompt_ctx(run, st, page, &ctx);
	ctx.elements = sx_arena_own(&st->arena, relevant_data_lines(page->elements, run->extract_goal,
								     EXTRACT_ELEMENTS_MAX));
	ctx.page_text = sx_arena_own(&st->arena, relevant_data_lines(page->text, run->extract_goal,
								      EXTRACT_TEXT_MAX));
	for (int attempt = 0; attempt < 2 && out == OUT_TASK_FAILED; attempt++) {
		const char *user = sx_arena_own(&st->arena, prompt_user_extract(&ctx, run->schema_json,
										 *problem ? problem : NULL));
		const char *text = NULL;
		char perr[256];
		json_object *v;

		if (agent_step_ask(run, st, system, user, NULL, 0, &text) != SX_OK) {
			out = OUT_STEP_FAILED;
			break;
		}
		v = llm_parse_answer(text, perr, sizeof(perr));
		if (!v) {
			snprintf(problem, sizeof(problem), "the answer was not valid JSON: %s", perr);
		} else if (run->schema && !schema_check(run->schema, v, perr, sizeof(perr))) {
			snprintf(problem, sizeof(problem), "%s", perr);
			json_object_put(v);
		} else {
			json_object_put(run->extracted);
			run->extracted = v;
			out = OUT_COMPLETED;
		}
	}
	if (out == OUT_TASK_FAILED)
		snprintf(st->reason, sizeof(st->reason),
			 "Extracted information does not match extracted_information_schema: %s", problem);
	return out;
}
