#ifndef SX_TEST_AGENTCTL_H
#define SX_TEST_AGENTCTL_H
/*
 * Agent tests' controls: sextant-agent daemons started with a config
 * derived from the stack's (SX_CONF) with test overrides, pointed at the LLM
 * double (doubles.h), and the waits on a task's status.  Every process
 * started here dies with the test process (PR_SET_PDEATHSIG) and is stopped
 * by the test's fini.
 */
#include <sys/types.h>
#include "sx.h"
#include <json-c/json.h>
#include "doubles.h"

/*
 * Starts a sextant-agent with the stack's config plus overrides, given as
 * "key = value" lines separated by '\n' (NULL for none).  The LLM points at
 * the LLM double unless overridden.  Returns the supervisor's pid.
 */
pid_t agent_start(const char *overrides);
/*
 * Runs one sextant-agent with the stack's config plus overrides and the
 * extra argument arg (e.g. "--drain"; NULL for none), its output appended to
 * log (NULL: the agents' test log), and waits up to timeout_ms for it to
 * exit.  Returns its exit status, or -1 when it died by a signal or had to
 * be stopped.
 */
int agent_run(const char *overrides, const char *arg, const char *log, int timeout_ms);
/* TERM, then KILL after wait_ms. */
void agent_stop(pid_t pid, int wait_ms);
void agents_stop_all(void);
/* Pids of the supervisor's worker processes (up to max). */
size_t agent_workers(pid_t supervisor, pid_t *out, size_t max);
/*
 * The worker of supervisor that holds task id's lease now (its pid is the
 * second field of lease_owner, host:pid:random), or 0 when the task has no
 * lease or another process holds it.
 */
pid_t agent_lease_worker(pid_t supervisor, const char *id);

struct test_org;

/*
 * The common start of an agent test: the LLM double up, the queue cleared of
 * other tests' tasks, and a fresh organization named name.  The end: every
 * agent and the double stopped.
 */
void agent_suite_init(struct test_org *org, const char *name);
void agent_suite_fini(void);

/* The organization agent_suite_setup makes for each test. */
extern struct test_org suite_org;
/* agent_suite_init(&suite_org, the test program's name): a suite's .init. */
void agent_suite_setup(void);

/* $SX_URL/sites/<path>: a fixture page served by the stack's nginx (caller frees). */
char *site_url(const char *path);

/* The product fixture's extraction schema (name, price, availability). */
extern const char product_schema[];

/*
 * The LLM script that applies on the job fixture (fill the form, submit,
 * complete, verify, extract), with first (a JSON action followed by a
 * comma, or "") as the form step's first action.  Caller frees.
 */
char *job_script(const char *first);
/* A task that applies on the job fixture with the payload's name and email (caller frees). */
char *job_task(void);

/* Cancels queued/running tasks other tests left, so agents here run only ours. */
void agent_tests_clear_queue(void);

/* Polls GET /api/v1/tasks/{id} until a final status or timeout; returns the task (caller puts). */
json_object *wait_final(const char *key, const char *id, int timeout_s);
/* Polls until the task's status is `status` (true) or timeout (false). */
bool wait_status(const char *key, const char *id, const char *status, int timeout_s);

/* POSTs a task body; returns the id (caller frees). */
char *post_task(const char *key, const char *body, const char *const *headers);

/* One task for an agent to run: what start_task and run_task take. */
struct task_run {
	const char *key;             /* the organization's API key */
	const char *script;          /* the LLM double's script; NULL keeps the current one */
	const char *body;            /* the POST /api/v1/tasks body */
	const char *const *headers;  /* extra request headers, NULL-terminated, or NULL */
	const char *overrides;       /* the agent's config overrides (agent_start), or NULL */
	int timeout_s;               /* run_task's wait for a final status; 0: 240 s */
};

/*
 * Scripts the LLM double, starts an agent and POSTs the task.  Returns the
 * task's id (caller frees); the agent's pid in *agent when agent is not NULL.
 */
char *start_task(const struct task_run *run, pid_t *agent);
/*
 * start_task, then waits for a final status.  Returns the task (caller
 * puts) and, with id_out, its id (caller frees).
 */
json_object *run_task(const struct task_run *run, char **id_out);
#endif
