#ifndef SX_TEST_AGENTCTL_H
#define SX_TEST_AGENTCTL_H
/*
 * Agent tests' controls: the LLM test double (tests/doubles/llm_double.py)
 * and sextant-agent daemons started with a config derived from the stack's
 * (SX_CONF) with test overrides.  Every process started here dies with the
 * test process (PR_SET_PDEATHSIG) and is stopped by the test's fini.
 */
#include <sys/types.h>
#include "sx.h"
#include <json-c/json.h>

/*
 * A test double: one of the Python stand-ins in tests/doubles/, run as a
 * child of the test process on a loopback port (it prints PORT=<n>), and
 * its control API (/__script, /__requests, …) called over HTTP.
 */
struct test_double {
	pid_t pid;
	int port;
	char url[64];            /* http://127.0.0.1:PORT */
};

/* Starts tests/doubles/<script> on port (0: any free one). */
void test_double_start(struct test_double *d, const char *script, int port);
void test_double_stop(struct test_double *d);
/* method path on the double; asserts a 200 and returns the body (caller frees). */
char *test_double_call(const struct test_double *d, const char *method, const char *path,
		       const char *body);

/* The LLM double: starts it on a free port; returns its base URL ".../v1". */
const char *double_start(void);
void double_stop(void);
/* Replaces the double's script with the JSON text. */
void double_script(const char *json);
/* Every request the double received (caller puts). */
json_object *double_requests(void);

/*
 * Starts a sextant-agent with the stack's config plus overrides, given as
 * "key = value" lines separated by '\n' (NULL for none).  The LLM points at
 * the double unless overridden.  Returns the supervisor's pid.
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
