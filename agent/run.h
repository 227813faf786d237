#ifndef SX_RUN_H
#define SX_RUN_H
/*
 * One task being run: the state the runner (runner.c) keeps for the whole
 * run and shares with its steps (agent_step.c), their judge (judge.c) and the
 * history (history.c).  What belongs to one step lives in struct agent_step
 * (agent_step.h) and is freed when the step ends.
 */
#include "sx.h"
#include <json-c/json.h>
#include "artifact_store.h"
#include "browser.h"
#include "heartbeat.h"
#include "loop.h"
#include "totp_obtain.h"

#define RUN_ERR_LEN 512

/* How a step ends, and so what the runner does next. */
enum outcome {
	OUT_CONTINUE,      /* the step is done; take the next one */
	OUT_COMPLETED,
	OUT_TERMINATED,
	OUT_STEP_FAILED,   /* retry this step */
	OUT_TASK_FAILED,   /* fail the task now (e.g. extraction never matched its schema) */
	OUT_CANCELED,
	OUT_TIMED_OUT,
	OUT_LOST,          /* the lease is no longer ours */
	OUT_SHUTDOWN,      /* hand the task back */
};

struct runner;
struct claimed_task;
struct task;
struct mask;
struct recorder;
struct agent_step;
struct replay;

struct run {
	struct runner *r;
	struct claimed_task *ct;
	const struct task *t;
	const char *url;             /* the task's url, or the start URL chosen for it; NULL until then */
	char *start_url;             /* the start URL chosen for a task without url (start_url.h), or NULL */
	const char *nav_goal;
	const char *extract_goal;
	json_object *payload;
	json_object *schema;
	char *payload_json;
	char *schema_json;
	json_object *error_codes;    /* the task's error_code_mapping (borrowed), or NULL */
	char *error_codes_json;
	struct browser browser;
	char *work_dir;
	char *last_url;
	char *proxy;                 /* the task's proxy URL (may hold credentials: never logged), or NULL */
	struct artifact_ctx art;
	struct recorder *rec;        /* the session recording, or NULL when disabled */
	json_object *history;        /* array of strings (history.h) */
	struct loop_guard loop;
	int64_t deadline_ms;
	struct heartbeat hb;         /* renews the lease; raises cancel, lost and interrupt */
	struct agent_step *step;           /* the step being run */
	json_object *extracted;      /* what the judge extracted, or NULL */
	/*
	 * 2FA (totp_obtain.h).  Every code obtained is added to the mask, so no code
	 * reaches an artifact or a step.
	 */
	struct mask *mask;           /* the payload's secrets and the codes */
	struct totp_state totp;
	struct replay *replay;       /* the trace replayed and the one recorded (replay.h) */
};

/*
 * Whether the task must stop before the next action: canceled, lease lost,
 * out of time, or the process stopping; OUT_CONTINUE when not.
 */
enum outcome runner_interrupted(struct run *run);

/*
 * Saves a screenshot of the browser as an artifact of type (of the current
 * step, or of the task for ART_SCREENSHOT_FINAL) and as a recording frame.
 * *rel, when not NULL, receives its relative path (caller frees) or NULL.
 */
void runner_screenshot(struct run *run, const char *type, char **rel);

/* The string member key of o, or NULL. */
static inline const char *jmember(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}
#endif
