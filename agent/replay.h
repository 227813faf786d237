#ifndef SX_REPLAY_H
#define SX_REPLAY_H
/*
 * Replay: a task whose key (trace.h) has a stored trace runs it step by
 * step without the model — observe, check the page is the one expected,
 * resolve every action's fingerprint in the element list, act — and ends
 * on the recorded evidence of success instead of a verification call (a
 * task that asks for data still makes its one extraction call).
 *
 * Heal, never guess: at the first mismatch (another page, an element that
 * cannot be told apart, a failed action, the evidence missing) the model
 * takes over from there, with the history so far; a step whose first
 * actions resolved runs those and the model decides the next step.  When a
 * run that the model drove (in part or wholly) completes, verified, its
 * trace replaces the stored one.
 *
 * Control: a task's run_with (request or run API) "agent" never replays
 * (its trace is still kept), "code" replays when a trace exists; null
 * follows config `replay`: auto is "code", off is "agent" and keeps no
 * trace either.  A resumed attempt neither
 * replays nor records.  What happened ends up in the task's `replay`
 * ({outcome: hit | healed | miss | off, healed_at_step, model_tokens_saved,
 * trace_id, trace_version}), a replayed step's output says "replayed": true.
 */
#include "sx.h"
#include <json-c/json.h>
#include "run.h"
#include "task.h"

struct agent_step;

/* Reads the task's trace, when replay applies to it, and starts recording. */
void replay_start(struct run *run);
/* Frees what replay_start set up (run->replay may be NULL). */
void replay_free(struct run *run);

/*
 * The actions of the trace's next step for step st, resolved on its page
 * (a new reference), or NULL when the model decides this step: replay is
 * off, over, or handed over here.  st->page may be read again while the
 * page settles.
 */
json_object *replay_actions(struct run *run, struct agent_step *st);

/* Whether step st runs actions of the trace. */
bool replay_step_replayed(const struct run *run, const struct agent_step *st);

/*
 * The `complete` of a replayed step: the recorded evidence on a fresh look
 * at the page, then the extraction when the task asks for data.  Evidence
 * missing hands over to the model (OUT_CONTINUE).
 */
enum outcome replay_complete(struct run *run, struct agent_step *st, json_object *action);

/*
 * After step st ran actions (NULL when it decided none) with outcome out:
 * records the step for the trace, and hands over to the model when a
 * replayed action failed.
 */
void replay_step_done(struct run *run, struct agent_step *st, json_object *actions, enum outcome out);

/* Before the task ends with status st: stores the new trace and the task's replay outcome. */
void replay_task_end(struct run *run, enum task_status st);
#endif
