#ifndef SX_JUDGE_H
#define SX_JUDGE_H
/*
 * The judge: when the model says `complete`, a fresh look at the page and
 * one LLM call decide whether the goal is achieved (verify), and then the
 * data the task asked for is extracted from that same page, checked
 * against its schema (extract).  A task with only an extraction goal is
 * extracted on its first step.  Both answer with the step's outcome.
 */
#include "sx.h"
#include <json-c/json.h>
#include "run.h"

struct agent_step;
struct scrape_result;

/*
 * Judges the model's `complete` action, recorded in the step with its
 * verdict: OUT_COMPLETED (achieved, run->extracted set when asked for),
 * OUT_CONTINUE (not achieved yet: the history says why), OUT_STEP_FAILED
 * (the page or the model could not be read), OUT_TASK_FAILED (the
 * extraction never matched its schema).  The reason is in st->reason.
 */
enum outcome judge_complete(struct run *run, struct agent_step *st, json_object *action);

/*
 * Extracts the data the task asked for from page, checked against the
 * schema when there is one: one repair call on a mismatch, then
 * OUT_TASK_FAILED with the violation.  OUT_COMPLETED with run->extracted
 * set, or OUT_STEP_FAILED when the model call failed.
 */
enum outcome judge_extract(struct run *run, struct agent_step *st, const struct scrape_result *page);
#endif
