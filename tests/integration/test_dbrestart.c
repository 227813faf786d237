/*
 * The database restarts under the API: requests during the outage get a
 * 503 JSON answer promptly (no hang, no crash), and the same API processes
 * serve again once MariaDB is back.  Uses the stack's db-stop/db-start.
 */
#include <signal.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "client.h"
#include "timeutil.h"
#include "wait.h"

static long read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = -1;

	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = -1;
		fclose(f);
	}
	return pid;
}

static int stack(const char *verb)
{
	char *cmd = xasprintf("'%s' %s >/dev/null 2>&1", tenv("SX_STACK"), verb);
	int st = system(cmd);

	free(cmd);
	return st;
}

/* POSTs a task with key (arg): true when the API created it. */
static bool creates_a_task(void *arg)
{
	struct resp *r = api_post_json("/api/v1/tasks", arg, "{\"url\":\"https://example.com\"}");
	bool ok = r->status == 200;

	resp_free(r);
	return ok;
}

Test(dbrestart, outage_is_503_then_recovers, .timeout = 300)
{
	struct test_org org;
	char *pidfile = xasprintf("%s/run/api.pid", tenv("SX_VAR"));
	long api_pid;
	struct resp *r;
	int64_t t0;

	test_org_new(&org, "dbrestart");
	api_pid = read_pid(pidfile);
	cr_assert(api_pid > 0, "no api pid file at %s", pidfile);

	cr_assert_eq(stack("db-stop"), 0, "stack db-stop failed");
	for (int i = 0; i < 8; i++) {
		t0 = sx_mono_ms();
		r = api_post_json("/api/v1/tasks", org.key, "{\"url\":\"https://example.com\"}");
		cr_assert_eq(r->status, 503, "during outage: %ld %s", r->status, r->body);
		cr_assert(strncmp(r->content_type, "application/json", 16) == 0);
		cr_assert_not_null(jget(r, "detail"));
		cr_assert(sx_mono_ms() - t0 < 15000, "answer took %lld ms", (long long)(sx_mono_ms() - t0));
		resp_free(r);
		r = api_get("/api/v1/tasks", org.key);
		cr_assert_eq(r->status, 503, "GET during outage: %ld", r->status);
		resp_free(r);
	}
	cr_assert_eq(kill((pid_t)api_pid, 0), 0, "the API died during the outage");

	cr_assert_eq(stack("db-start"), 0, "stack db-start failed");
	cr_assert(wait_until(creates_a_task, org.key, 60000), "the API did not serve again after MariaDB came back");
	/* Every worker reconnects: a burst of requests all succeed. */
	for (int i = 0; i < 20; i++) {
		r = api_get("/api/v1/tasks?page_size=1", org.key);
		cr_assert_eq(r->status, 200, "after recovery: %ld %s", r->status, r->body);
		resp_free(r);
	}
	cr_assert_eq(read_pid(pidfile), api_pid, "the API was restarted");
	cr_assert_eq(kill((pid_t)api_pid, 0), 0);
	free(pidfile);
}
