/*
 * How the agent is hosted (issue 13): a real sextant-agent (LLM test double,
 * real Chromium) started as the test's user, root in CI.  Every Chromium
 * process of a running task belongs to the agents' user (SX_AGENT_USER, or
 * the test's user when that is not root) and runs with Chromium's sandbox;
 * started as root without agent_user the agent refuses; and
 * `sextant-agent --drain` runs what is queued, delivers the due webhook and
 * exits 0, as cron runs it on a shared host.
 */
#include <pwd.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "procs.h"
#include "wait.h"

#define OVERRIDES "outbound_allow = 127.0.0.0/8\nwebhook_poll_ms = 100\nwebhook_timeout = 3\n"

/* The product fixture's extraction, answered after a delay so the browser stays up. */
static const char slow_extract[] =
	"{\"rules\":[{\"kind\":\"extract\",\"answers\":[{\"__delay\":3,\"name\":\"Trailblazer 2 Tent\","
	"\"price\":249.0,\"availability\":\"in stock\"}]}]}";

TestSuite(hosting, .init = agent_suite_setup, .fini = agent_suite_fini, .timeout = 180);

/* The uid the agents' browsers must have: SX_AGENT_USER's under root, else ours. */
static uid_t agents_uid(void)
{
	const char *user = getenv("SX_AGENT_USER");
	const struct passwd *pw;

	if (geteuid() != 0)
		return geteuid();
	cr_assert(user && *user, "run as root, the stack must name SX_AGENT_USER");
	pw = getpwnam(user);
	cr_assert(pw, "no user %s", user);
	return pw->pw_uid;
}

/* What the scan of one agent's browser processes found. */
struct browser_scan {
	pid_t agent;
	uid_t want;
	size_t browsers;       /* chromium processes */
	size_t others;         /* chromedriver, crashpad, … */
	size_t wrong_user;     /* processes not owned by want */
	size_t no_sandbox;     /* browsers started with --no-sandbox */
	pid_t wrong_pid;
};

static bool scan_one(const struct proc_info *p, void *arg)
{
	struct browser_scan *s = arg;
	uid_t ruid, euid;

	if (strncmp(p->comm, "chrom", 5) != 0 || !proc_descends_from(p->pid, s->agent))
		return true;
	if (!proc_uids(p->pid, &ruid, &euid))
		return true;
	if (strcmp(p->comm, "chromium") == 0) {
		s->browsers++;
		if (proc_has_arg(p->pid, "--no-sandbox"))
			s->no_sandbox++;
	} else {
		s->others++;
	}
	if (ruid != s->want || euid != s->want) {
		s->wrong_user++;
		s->wrong_pid = p->pid;
	}
	return true;
}

/* A wait condition: the agent has at least one browser process. */
static bool browser_seen(void *arg)
{
	struct browser_scan *s = arg;

	s->browsers = s->others = s->wrong_user = s->no_sandbox = 0;
	proc_each(scan_one, s);
	return s->browsers > 0;
}

static char *product_task(const char *hook)
{
	char *site = site_url("product/index.html"), *body;

	if (hook)
		body = xasprintf("{\"url\":\"%s\",\"data_extraction_goal\":\"Extract the product name, price "
				 "and availability\",\"extracted_information_schema\":%s,"
				 "\"webhook_callback_url\":\"%s\"}", site, product_schema, hook);
	else
		body = xasprintf("{\"url\":\"%s\",\"data_extraction_goal\":\"Extract the product name, price "
				 "and availability\",\"extracted_information_schema\":%s}", site, product_schema);
	free(site);
	return body;
}

Test(hosting, browsers_of_a_running_task_belong_to_the_agent_user_and_are_sandboxed)
{
	struct browser_scan s = { .want = agents_uid() };
	char *body = product_task(NULL), *id;
	json_object *t;

	cr_assert_neq(s.want, 0, "the agents' user is root");
	id = start_task(&(struct task_run){ .key = suite_org.key, .script = slow_extract, .body = body }, &s.agent);
	cr_assert(wait_status(suite_org.key, id, "running", 60), "task %s never ran", id);
	cr_assert(wait_until(browser_seen, &s, 60000), "no chromium process under agent %d", (int)s.agent);
	cr_assert_eq(s.wrong_user, 0, "%zu browser process(es) not owned by uid %d, e.g. pid %d", s.wrong_user,
		     (int)s.want, (int)s.wrong_pid);
	cr_assert_eq(s.no_sandbox, 0, "%zu browser(s) run with --no-sandbox", s.no_sandbox);
	t = wait_final(suite_org.key, id, 120);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	json_object_put(t);
	free(id);
	free(body);
}

/* The text of a file (caller frees); "" when it cannot be read. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = xcalloc(1, 65536);

	if (f) {
		size_t n = fread(s, 1, 65535, f);

		s[n] = '\0';
		fclose(f);
	}
	return s;
}

Test(hosting, started_as_root_without_agent_user_it_refuses)
{
	char log[] = "/tmp/sx-hosting-log-XXXXXX";
	int fd = mkstemp(log);
	char *text;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(agent_run("agent_user = \"\"\n", NULL, log, 30000), 1);
	text = slurp(log);
	cr_assert(strstr(text, "refusing to run as root"), "log: %s", text);
	free(text);
	unlink(log);
}

Test(hosting, chromium_no_sandbox_is_used_only_when_configured_and_warned)
{
	struct browser_scan s = { .want = agents_uid() };
	char log[] = "/tmp/sx-hosting-log-XXXXXX";
	int fd = mkstemp(log);
	char *body = product_task(NULL), *id, *text;
	json_object *t;

	cr_assert_geq(fd, 0);
	close(fd);
	/* agent_run is not what starts it: a daemon is, with its log in the suite's. */
	id = start_task(&(struct task_run){ .key = suite_org.key, .script = slow_extract, .body = body,
					     .overrides = "chromium_no_sandbox = true\n" }, &s.agent);
	cr_assert(wait_until(browser_seen, &s, 60000), "no chromium process under agent %d", (int)s.agent);
	cr_assert_eq(s.no_sandbox, s.browsers, "%zu of %zu browsers without --no-sandbox",
		     s.browsers - s.no_sandbox, s.browsers);
	cr_assert_eq(s.wrong_user, 0, "a browser process not owned by uid %d", (int)s.want);
	t = wait_final(suite_org.key, id, 120);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	json_object_put(t);
	/* The warning, from a run of its own (the daemon's log is shared). */
	cr_assert_eq(agent_run("chromium_no_sandbox = true\nagent_workers = 1\n", "--drain", log, 60000), 0);
	text = slurp(log);
	cr_assert(strstr(text, "chromium_no_sandbox is set"), "log: %s", text);
	free(text);
	unlink(log);
	free(id);
	free(body);
}

/* A wait condition: the webhook receiver in arg got a request. */
static bool hook_called(void *arg)
{
	return test_double_count(arg) > 0;
}

Test(hosting, drain_runs_the_queue_delivers_the_webhook_and_exits)
{
	struct test_double receiver;
	char *hook, *body, *id, *path;
	struct resp *r;
	json_object *t = NULL;

	webhook_receiver_start(&receiver, 0);
	hook = xasprintf("%s/hook", receiver.url);
	body = product_task(hook);
	llm_double_script("{\"rules\":[{\"kind\":\"extract\",\"answers\":[{\"name\":\"Trailblazer 2 Tent\","
			  "\"price\":249.0,\"availability\":\"in stock\"}]}]}");
	id = post_task(suite_org.key, body, NULL);
	cr_assert_eq(agent_run(OVERRIDES, "--drain", NULL, 150000), 0, "sextant-agent --drain failed");
	path = xasprintf("/api/v1/tasks/%s", id);
	r = api_get(path, suite_org.key);
	cr_assert_eq(r->status, 200);
	t = json_tokener_parse(r->body);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", r->body);
	/* Delivered by the drain run itself: no agent runs any more. */
	cr_assert(hook_called(&receiver), "the drain run delivered no webhook");
	json_object_put(t);
	resp_free(r);
	test_double_stop(&receiver);
	free(path);
	free(id);
	free(body);
	free(hook);
}
