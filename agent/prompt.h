#ifndef SX_PROMPT_H
#define SX_PROMPT_H
/*
 * The prompts of the LLM calls the agent makes: decide (the next actions
 * of a step), verify (is the goal achieved, after "complete"), extract (the
 * data_extraction_goal as JSON), start URL (where a run created without url
 * begins) and errors (which of the task's error codes apply to its
 * failure).  Pure functions: no I/O, no logging; each returns a new string
 * the caller frees.
 *
 * Each system prompt starts with a marker line (SEXTANT-DECIDE,
 * SEXTANT-VERIFY, SEXTANT-EXTRACT, SEXTANT-START-URL, SEXTANT-ERRORS) so
 * artifacts and the LLM test double can tell the calls apart.  The prompts carry the navigation payload and the
 * goals, which the model needs; they are secrets as far as logs go, so a
 * prompt is stored only as a (masked) artifact and never logged.
 */
#include "sx.h"

#define PROMPT_MARK_DECIDE "SEXTANT-DECIDE"
#define PROMPT_MARK_VERIFY "SEXTANT-VERIFY"
#define PROMPT_MARK_VERIFY_EXTRACT "SEXTANT-VERIFY-EXTRACT"
#define PROMPT_MARK_EXTRACT "SEXTANT-EXTRACT"
#define PROMPT_MARK_START_URL "SEXTANT-START-URL"
#define PROMPT_MARK_ERRORS "SEXTANT-ERRORS"

/*
 * What the user prompts are built from; every pointer is borrowed and may
 * be NULL (shown as "(none)" or left out).
 */
struct prompt_ctx {
	const char *url;
	const char *title;
	const char *navigation_goal;
	const char *data_extraction_goal;
	const char *payload_json;     /* navigation_payload as JSON text */
	const char *elements;         /* scrape_result.elements (or the goal's lines of it), verbatim */
	bool no_elements;             /* leave the element list out (verification reads the text) */
	const char *history;          /* one earlier action per line with its result; numbered here */
	int step;                     /* 0-based order of this step */
	int max_steps;                /* <= 0: no cap shown */
	bool loop_warning;            /* the last action changed nothing */
	const char *page_text;        /* visible text; NULL leaves it out */
	const char *error_codes_json; /* error_code_mapping as JSON text; NULL leaves it out */
};

/*
 * Decide: the model answers only {"reasoning", "actions":[…],
 * "verification_code_needed"} with the action shapes listed in the prompt.
 * With ctx->error_codes_json, the user prompt lists the codes and asks a
 * terminate action to carry the "errors" that apply (as Skyvern's
 * extract-action prompt does).
 */
char *prompt_system_decide(void);
char *prompt_user_decide(const struct prompt_ctx *ctx);

/* Verify: the model answers only {"goal_achieved": bool, "reasoning": str}. */
char *prompt_system_verify(void);
char *prompt_user_verify(const struct prompt_ctx *ctx);

/*
 * Verify and extract in one call, for a task with both a goal and data to
 * extract: the model answers only {"goal_achieved": bool, "reasoning": str,
 * "extracted": <the value, matching schema_json when given; null when the
 * goal is not achieved>}.
 */
char *prompt_system_verify_extract(void);
char *prompt_user_verify_extract(const struct prompt_ctx *ctx, const char *schema_json);

/*
 * Extract: the model answers only the extracted JSON value, matching
 * schema_json when it is given.  repair_error, when set, is what was wrong
 * with the previous answer (a schema violation or a parse error) and asks
 * for a corrected one.
 */
char *prompt_system_extract(void);
char *prompt_user_extract(const struct prompt_ctx *ctx, const char *schema_json,
			  const char *repair_error);

/*
 * Start URL: the model answers only {"url": "https://…", "reasoning": str},
 * from the goals alone (ctx's navigation and data extraction goals).
 */
char *prompt_system_start_url(void);
char *prompt_user_start_url(const struct prompt_ctx *ctx);

/*
 * Errors: the model answers only {"reasoning": str, "errors": [{"error_code",
 * "reasoning", "confidence_float"}]} naming the codes of
 * ctx->error_codes_json whose condition the task's failure (failure, the
 * reason the task ends with) and its page meet, or [] when none does.
 */
char *prompt_system_errors(void);
char *prompt_user_errors(const struct prompt_ctx *ctx, const char *failure);
#endif
