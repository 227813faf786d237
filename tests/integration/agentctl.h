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
/* TERM, then KILL after wait_ms. */
void agent_stop(pid_t pid, int wait_ms);
void agents_stop_all(void);
/* Pids of the supervisor's worker processes (up to max). */
size_t agent_workers(pid_t supervisor, pid_t *out, size_t max);

struct test_org;

/*
 * The common start of an agent test: the LLM double up, the queue cleared of
 * other tests' tasks, and a fresh organization named name.  The end: every
 * agent and the double stopped.
 */
void agent_suite_init(struct test_org *org, const char *name);
void agent_suite_fini(void);

/* $SX_URL/sites/<path>: a fixture page served by the stack's nginx (caller frees). */
char *site_url(const char *path);

/* The product fixture's extraction schema (name, price, availability). */
extern const char product_schema[];

/* Cancels queued/running tasks other tests left, so agents here run only ours. */
void agent_tests_clear_queue(void);

/* Polls GET /api/v1/tasks/{id} until a final status or timeout; returns the task (caller puts). */
json_object *wait_final(const char *key, const char *id, int timeout_s);
/* Polls until the task's status is `status` (true) or timeout (false). */
bool wait_status(const char *key, const char *id, const char *status, int timeout_s);

/* POSTs a task body; returns the id (caller frees). */
char *post_task(const char *key, const char *body, const char *const *headers);
#endif
