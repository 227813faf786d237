#ifndef SX_START_URL_H
#define SX_START_URL_H
/*
 * The start URL of a run created without url (core/run.h): Skyvern asks a
 * model for one when the request has none; here the agent does, in the
 * task's first step, so that the API never waits on a model.
 *
 * One call with the goals (PROMPT_MARK_START_URL), made and recorded as
 * any call of a step is (agent_step_ask: its exchange saved as artifacts,
 * its tokens and cost counted in the step).  The URL the model names then
 * passes the checks a client's url passes at create time
 * (task_url_check: http or https, the SSRF policy on literal addresses),
 * and the egress guard when the browser goes there, as any page does.  An
 * accepted URL becomes the task's url (request.url, and run_request.url of
 * the run object) and run->url.
 */
#include "sx.h"
#include "run.h"

struct agent_step;

/*
 * Chooses run's start URL in step st.  The step's output receives
 * start_url (what the model named, accepted or not) and
 * start_url_reasoning.  OUT_CONTINUE with run->url set; OUT_STEP_FAILED
 * when the model call failed or the URL could not be stored (the step is
 * retried); OUT_TASK_FAILED when the answer holds no usable URL or the
 * URL is refused; OUT_LOST when the task is no longer this worker's.
 * st->reason says why when the outcome is not OUT_CONTINUE.
 */
enum outcome start_url_choose(struct run *run, struct agent_step *st);
#endif
