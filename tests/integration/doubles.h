#ifndef SX_TEST_DOUBLES_H
#define SX_TEST_DOUBLES_H
/*
 * The harness for the test doubles in tests/doubles/: the LLM double
 * (llm_double.py), the webhook receiver (webhook_receiver.py) and the TOTP
 * endpoint (totp_endpoint.py).  Each runs as a child of the test process on
 * a loopback port (it prints PORT=<n>), dies with it (PR_SET_PDEATHSIG), and
 * is driven through its control API: POST /__script replaces its script,
 * GET /__requests lists what it received.  Needs nothing but SRCDIR, so
 * tests that do not use the stack can use it too.
 */
#include <sys/types.h>
#include "sx.h"
#include <json-c/json.h>

struct test_double {
	pid_t pid;
	int port;
	char url[64];            /* http://127.0.0.1:PORT */
};

/* Starts tests/doubles/<script> on port (0: any free one); asserts it printed its port. */
void test_double_start(struct test_double *d, const char *script, int port);
/* TERM and reap; a double that was never started is left alone. */
void test_double_stop(struct test_double *d);
/* method path on the double; asserts a 200 and returns the body (caller frees). */
char *test_double_call(const struct test_double *d, const char *method, const char *path,
		       const char *body);
/*
 * Replaces the double's script with the JSON text.  The LLM double keeps
 * what it recorded (POST /__reset clears it).
 */
void test_double_script(const struct test_double *d, const char *json);
/* Every request the double received, oldest first: a JSON array (caller puts). */
json_object *test_double_requests(const struct test_double *d);
/* How many requests the double received. */
size_t test_double_count(const struct test_double *d);

/* Conditions for wait.h: the double d has received exactly n requests, or at least n. */
struct double_count {
	const struct test_double *d;
	size_t n;
};
bool test_double_count_is(void *arg);
bool test_double_count_reached(void *arg);

/* The webhook receiver on port (0: any); the TOTP endpoint on any port. */
void webhook_receiver_start(struct test_double *d, int port);
void totp_endpoint_start(struct test_double *d);

/*
 * The LLM double, one per test process: speaks the OpenAI and Anthropic
 * wire formats, replays scripted answers, records the requests.  Start
 * returns its base URL (".../v1"), which agents are pointed at.
 */
extern struct test_double llm_double;
const char *llm_double_start(void);
void llm_double_stop(void);
/* The base URL of the running LLM double. */
const char *llm_double_base(void);
void llm_double_script(const char *json);
json_object *llm_double_requests(void);

/*
 * How many requests the LLM double received of kind ("decide", "verify",
 * …; NULL for any) whose user prompt holds text (NULL for any).
 */
size_t llm_double_asked(const char *kind, const char *text);

/* A condition for wait.h: llm_double_asked(kind, text) >= min. */
struct llm_ask {
	const char *kind;
	const char *text;
	size_t min;
};
bool llm_double_was_asked(void *arg);
#endif
