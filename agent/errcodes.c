/*
 * The error-code question at a task's failing end (see errcodes.h).
 */
#include "sx.h"
#include "errcodes.h"
#include "agent_step.h"
#include "conf.h"
#include "errcode.h"
#include "llm/llm.h"
#include "log.h"
#include "prompt.h"
#include "runner.h"
#include "task.h"

void errcodes_ask(struct run *run, struct agent_step *st, const char *failure)
{
	struct prompt_ctx ctx;
	char reason[RUN_ERR_LEN], perr[256];
	const char *text = NULL, *user;
	const unsigned char *png;
	size_t pnglen;
	json_object *answer = NULL;
	enum sx_rc rc;

	/* agent_step_ask writes st->reason when the call fails: the task's reason must not change. */
	snprintf(reason, sizeof(reason), "%s", st->reason);
	agent_step_prompt_ctx(run, st, &st->page, &ctx);
	ctx.page_text = agent_step_page_text(run, st);
	user = sx_arena_own(&st->arena, prompt_user_errors(&ctx, failure));
	png = agent_step_llm_image(run, st, &pnglen);
	rc = agent_step_ask(run, st, sx_arena_own(&st->arena, prompt_system_errors()), user,
			    png, pnglen, &text);
	if (rc == SX_OK)
		answer = llm_parse_answer(text, perr, sizeof(perr));
	json_object_put(st->errors);
	st->errors = errcode_answer_errors(answer, run->error_codes);
	log_info("runner", "msg=\"error codes asked\" task=%s call=%s codes=%zu", run->t->id,
		 rc ? "failed" : answer ? "answered" : "unusable",
		 st->errors ? json_object_array_length(st->errors) : (size_t)0);
	snprintf(st->reason, sizeof(st->reason), "%s", reason);
	json_object_put(answer);
}
