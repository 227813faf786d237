#ifndef SX_TEST_CLIENT_H
#define SX_TEST_CLIENT_H
/*
 * Helpers for integration tests: HTTP calls through the stack's nginx
 * (SX_URL), direct database reads (SX_CONF) to check what was written, and
 * organization/key set-up through the real sextant-admin (SX_ADMIN).  The
 * stack must be up: run the tests with `./stack test`.
 */
#include "sx.h"
#include <json-c/json.h>

struct sx_db;

struct resp {
	long status;
	char *body;
	size_t len;
	char content_type[128];
	json_object *json;      /* NULL when the body is not JSON */
	char *headers;          /* the response's header lines, as received */
};

/* An environment variable the stack sets; fails the test when missing. */
const char *tenv(const char *name);

/*
 * Sends method path (appended to SX_URL) with an optional API key (NULL for
 * none), body (NULL for none, len bytes) and extra headers (NULL-terminated
 * "Name: value" strings, or NULL).  Always returns a response; status 0 on
 * a transport error.  Every answer goes through resp_check_contract, or
 * the test fails.
 */
struct resp *api_call(const char *method, const char *path, const char *key,
		      const char *body, size_t len, const char *const *headers);
/*
 * The checks api_call makes of every answer, for tests that send requests
 * of their own: a JSON answer is strict JSON, and the answer is what
 * api/openapi.json says method path gets with that status (openapi.h).
 * Fails the test otherwise.
 */
void resp_check_contract(const char *method, const char *path, const struct resp *r);
struct resp *api_get(const char *path, const char *key);
struct resp *api_post_json(const char *path, const char *key, const char *body);
void resp_free(struct resp *r);
/*
 * The value of the response's header name (case-insensitive), without
 * surrounding blanks, into out; false when the response has none.
 */
bool resp_header(const struct resp *r, const char *name, char *out, size_t outlen);
/* GETs /metrics; asserts a 200 in the Prometheus text format and returns the text (caller frees). */
char *metrics_scrape(void);
/*
 * A metric's value in a scrape: the first line that starts with name (with
 * its labels, e.g. `x_total{type="a"}`) and a space; -1 when there is none.
 */
double metric_value(const char *text, const char *name);
/* GETs the path fmt names with key; asserts a 200 and returns the parsed body (caller puts). */
json_object *api_get_json(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A member of the response's JSON object, or NULL. */
json_object *jget(const struct resp *r, const char *key);
const char *jstr(json_object *o, const char *key);

/* Runs sextant-admin with args; returns its trimmed stdout (caller frees) or NULL. */
char *admin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A new organization with one key, for tests that need their own rows. */
struct test_org {
	char id[64];
	char key[128];
};
void test_org_new(struct test_org *o, const char *name);

/* The test process's database connection (opened on first use). */
struct sx_db *tdb(void);
/* Runs a SELECT with one string parameter; asserts it ran and returns the rows (caller frees). */
struct sx_rows *db_rows1(const char *sql, const char *param);
/* SELECT COUNT(*) … with one string parameter. */
long long db_count1(const char *sql, const char *param);
/* A condition for wait.h: db_count1(sql, param) >= min. */
struct db_count {
	const char *sql;
	const char *param;
	long long min;
};
bool db_count_reached(void *arg);
/* Waits until db_count1(sql, param) >= min, failing after timeout_s with the query in the message. */
void wait_db_count(const char *sql, const char *param, long long min, int timeout_s);
/* Runs an UPDATE/DELETE with up to two string parameters. */
void db_exec2(const char *sql, const char *p1, const char *p2);

/* Creates a task for key with a minimal body; returns its id (caller frees). */
char *create_task(const char *key, const char *url);
#endif
