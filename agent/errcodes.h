#ifndef SX_ERRCODES_H
#define SX_ERRCODES_H
/*
 * The error-code question of a task that has an error_code_mapping
 * (core/errcode.h), as Skyvern asks it: when the task is about to end
 * failed or terminated, which of its codes apply?  A terminate the model
 * chose has answered already (the decide prompt lists the codes, and its
 * terminate action carries them: agent_step.c); every other such end (out
 * of steps or retries, a refused page, a loop, no one-time code, a
 * CAPTCHA, an extraction that never matched its schema) asks here, in one
 * more call.
 */
#include "sx.h"
#include "run.h"

struct agent_step;

/*
 * Asks the model which of run's error codes apply to the task ending for
 * failure (the reason it ends with), in step st, the step that ends it:
 * the call is recorded as any call of the step (exchange saved, tokens
 * counted) and sees the step's page, the history and the payload.  The
 * codes accepted by errcode_answer_errors are put in st->errors.  A failed
 * call or an answer with nothing acceptable leaves st->errors NULL and
 * st->reason as it was: the task then ends exactly as it would have.
 */
void errcodes_ask(struct run *run, struct agent_step *st, const char *failure);
#endif
