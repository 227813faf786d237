/*
 * webdriver_url: the agent drives a WebDriver endpoint it did not start (a
 * chromedriver started here, standing in for a Selenium Grid hub), runs a
 * task on it without starting a chromedriver of its own, and gets through a
 * session the remote end kills (its browser killed under a running task):
 * the task ends with a final status and a reason, and the same agent runs
 * the next task on a fresh session of the same endpoint.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "http.h"
#include "procs.h"
#include "wait.h"

/* A port of this program's range. */
#define WD_PORT "31441"

static pid_t driver_pid;

/*
 * The endpoint is started here, as this program's user: as root, Chromium
 * refuses to start with its sandbox, so the agent asks that endpoint for
 * --no-sandbox (as tests/integration/browser.c does for its own browsers).
 */
#define REMOTE_OVERRIDES "webdriver_url = http://127.0.0.1:" WD_PORT "\n" "browser_pool = false\n"

static const char *remote_overrides(void)
{
	return geteuid() == 0 ? REMOTE_OVERRIDES "chromium_no_sandbox = true\n" : REMOTE_OVERRIDES;
}

static bool driver_ready(void *arg)
{
	struct http_client *hc = http_client_new();
	struct http_request req = { .method = "GET", .url = "http://127.0.0.1:" WD_PORT "/status",
				    .timeout_ms = 2000 };
	struct http_response res;
	bool ok = http_perform(hc, &req, &res) == SX_OK && res.status == 200;

	(void)arg;
	http_response_release(&res);
	http_client_free(hc);
	return ok;
}

static void suite_init(void)
{
	agent_suite_setup();
	driver_pid = fork();
	cr_assert_geq(driver_pid, 0);
	if (driver_pid == 0) {
		setpgid(0, 0);
		execlp("chromedriver", "chromedriver", "--port=" WD_PORT, "--silent", (char *)NULL);
		_exit(127);
	}
	cr_assert(wait_until(driver_ready, NULL, 30 * 1000), "chromedriver does not answer on " WD_PORT);
}

static void suite_fini(void)
{
	agent_suite_fini();
	if (driver_pid > 0) {
		kill(-driver_pid, SIGTERM);
		waitpid(driver_pid, NULL, 0);
	}
}

TestSuite(remote_webdriver, .init = suite_init, .fini = suite_fini, .timeout = 600);

struct count_under {
	pid_t ancestor;
	const char *comm;
	int n;
	bool kill;
};

/* Counts (and with kill, SIGKILLs) the processes named comm… under ancestor. */
static bool count_fn(const struct proc_info *p, void *arg)
{
	struct count_under *c = arg;

	if (strncmp(p->comm, c->comm, strlen(c->comm)) == 0 && proc_descends_from(p->pid, c->ancestor)) {
		c->n++;
		if (c->kill)
			kill(p->pid, SIGKILL);
	}
	return true;
}

static int count_under(pid_t ancestor, const char *comm, bool kill_them)
{
	struct count_under c = { ancestor, comm, 0, kill_them };

	proc_each(count_fn, &c);
	return c.n;
}

static bool browser_under_driver(void *arg)
{
	(void)arg;
	return count_under(driver_pid, "chrom", false) > 0;
}

static json_object *run_on_remote(char **id, pid_t *agent)
{
	char *script = job_script(""), *body = job_task();
	struct task_run run = { .key = suite_org.key, .script = script, .body = body, .overrides = remote_overrides() };
	char *tid = start_task(&run, agent);
	json_object *t = wait_final(suite_org.key, tid, 240);

	free(script);
	free(body);
	*id = tid;
	return t;
}

Test(remote_webdriver, runs_a_task_on_an_endpoint_it_did_not_start)
{
	char *id;
	pid_t agent = 0;
	json_object *t = run_on_remote(&id, &agent);

	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	/* The agent started no chromedriver: the one here served the session. */
	cr_assert_eq(count_under(agent, "chromedriver", false), 0);
	json_object_put(t);
	free(id);
}

Test(remote_webdriver, survives_a_session_the_remote_end_kills)
{
	/* The first decision comes late: the browser is killed while the agent waits for it. */
	static const char slow[] =
		"{\"rules\":[{\"kind\":\"decide\",\"match\":null,\"answers\":["
		"{\"__delay\":4,\"actions\":[{\"action\":\"complete\"}]},"
		"{\"actions\":[{\"action\":\"complete\"}]}]},"
		"{\"kind\":\"verify\",\"match\":null,\"answers\":[{\"goal_achieved\":true}]}]}";
	char *url = site_url("product/index.html");
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Look at the product\"}", url);
	struct task_run run = { .key = suite_org.key, .script = slow, .body = body, .overrides = remote_overrides() };
	struct llm_ask asked = { "decide", NULL, 1 };
	pid_t agent = 0;
	char *id = start_task(&run, &agent), *id2;
	json_object *t, *t2;
	const char *status;

	cr_assert(wait_until(llm_double_was_asked, &asked, 120 * 1000), "the agent never asked the model");
	cr_assert(wait_until(browser_under_driver, NULL, 10 * 1000), "no browser under the remote chromedriver");
	/* The remote end kills the session's browser (a Grid node going away). */
	cr_assert_gt(count_under(driver_pid, "chrom", true), 0);
	t = wait_final(suite_org.key, id, 240);
	status = jstr(t, "status");
	cr_assert(strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0,
		  "%s", json_object_to_json_string(t));
	if (strcmp(status, "failed") == 0)
		cr_assert(jstr(t, "failure_reason") && *jstr(t, "failure_reason"), "failed without a reason");
	else
		/* Completed: on a new session, after the step the kill broke failed. */
		cr_assert_gt(db_count1("SELECT COUNT(*) FROM steps WHERE task_id = ? AND status = 'failed'", id), 0);
	cr_assert(kill(driver_pid, 0) == 0, "the remote endpoint died");
	/*
	 * The same agent goes on with a fresh session on the same endpoint: the
	 * next task is only posted, no agent is started for it, and while its
	 * slow first decision holds it running, its lease names a worker of the
	 * first agent.
	 */
	llm_double_script(slow);
	id2 = post_task(suite_org.key, body, NULL);
	cr_assert(wait_status(suite_org.key, id2, "running", 120), "the agent did not take the next task");
	cr_assert_gt(agent_lease_worker(agent, id2), 0, "the next task is not leased by the first agent");
	t2 = wait_final(suite_org.key, id2, 240);
	cr_assert_str_eq(jstr(t2, "status"), "completed", "%s", json_object_to_json_string(t2));
	json_object_put(t);
	json_object_put(t2);
	free(id);
	free(id2);
	free(body);
	free(url);
}
