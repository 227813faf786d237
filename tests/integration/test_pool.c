/*
 * The warm browser pool end to end (agent/browser_pool.h): a real
 * sextant-agent with one task worker keeps a warm Chromium, hands it to
 * the next task and starts another; the step that opened a browser says
 * "browser": "warm" or "cold".  The cookie fixture greets a browser that
 * has been there before (a cookie and local storage), so a task that saw
 * another's profile would be greeted as a returning visitor.  A proxied
 * task's traffic is checked in a real forward proxy's log (proxyctl.h).
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "procs.h"
#include "proxyctl.h"
#include "wait.h"

TestSuite(pool, .init = agent_suite_setup, .fini = agent_suite_fini, .timeout = 300);

/* The LLM double's script on the cookie fixture: visit again, then complete. */
static const char cookie_script[] =
	"{\"rules\":["
	" {\"kind\":\"decide\",\"match\":\"First visit\",\"answers\":["
	"  {\"actions\":[{\"action\":\"click\",\"label\":\"Visit again\"}]}]},"
	" {\"kind\":\"decide\",\"match\":\"Returning visitor\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
	" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true}]}]}";

static char *cookie_task(const char *extra)
{
	char *url = site_url("cookie/index.html");
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Visit the lounge twice\"%s}", url,
			       extra ? extra : "");

	free(url);
	return body;
}

/* A needle in the agent log's lines of the workers of one supervisor. */
struct log_wait {
	pid_t sup;
	const char *needle;
	int n;                   /* at least this many lines */
};

/* Lines of the agent log written by one of sup's workers that hold needle. */
static int worker_log_count(pid_t sup, const char *needle)
{
	char *path = xasprintf("%s/log/agent-test.log", tenv("SX_VAR"));
	pid_t w[8];
	size_t nw = agent_workers(sup, w, SX_ARRAY_LEN(w));
	FILE *f = fopen(path, "r");
	char line[8192];
	int n = 0;

	while (f && fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < nw; i++) {
			char pid[32];

			snprintf(pid, sizeof(pid), " pid=%d ", (int)w[i]);
			n += strstr(line, pid) && strstr(line, needle);
		}
	}
	if (f)
		fclose(f);
	free(path);
	return n;
}

static bool logged(void *arg)
{
	struct log_wait *lw = arg;

	return worker_log_count(lw->sup, lw->needle) >= lw->n;
}

/* The browser process (not a renderer or helper) of a warm profile of one worker: its pid, 0 when none. */
struct warm_find {
	char arg[64];            /* --user-data-dir=/tmp/sextant-pool-<worker pid>- */
	pid_t pid;
};

static bool find_warm(const struct proc_info *p, void *arg)
{
	struct warm_find *wf = arg;
	char cmd[8192];

	if (!proc_cmdline(p->pid, cmd, sizeof(cmd)))
		return true;
	if (strstr(cmd, wf->arg) && !strstr(cmd, "--type=") &&
	    strstr(p->comm, "chrom")) {
		wf->pid = p->pid;
		return false;
	}
	return true;
}

/* How many profile directories, /tmp/sextant-pool-<pid>-*, a worker has. */
static int profiles_of(pid_t worker)
{
	char prefix[64];
	DIR *d = opendir("/tmp");
	struct dirent *de;
	int n = 0;

	snprintf(prefix, sizeof(prefix), "sextant-pool-%d-", (int)worker);
	while (d && (de = readdir(d)) != NULL)
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return n;
}

/* The agent whose supervisor is *arg has one profile left: its warm browser's. */
static bool one_profile(void *arg)
{
	pid_t w[8];
	size_t nw = agent_workers(*(pid_t *)arg, w, SX_ARRAY_LEN(w));
	int n = 0;

	for (size_t i = 0; i < nw; i++)
		n += profiles_of(w[i]);
	return n == 1;
}

/* The steps' "browser" fields, in order, as one string ("warm,-" …; caller frees). */
static char *browsers_of(const char *id)
{
	json_object *steps = api_get_json(suite_org.key, "/api/v1/tasks/%s/steps", id);
	char *s = xstrdup("");

	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *o, *b;
		const char *v = "-";
		char *next;

		if (json_object_object_get_ex(json_object_array_get_idx(steps, i), "output", &o) &&
		    json_object_object_get_ex(o, "browser", &b))
			v = json_object_get_string(b);
		next = xasprintf("%s%s%s", s, i ? "," : "", v);
		free(s);
		s = next;
	}
	json_object_put(steps);
	return s;
}

/* POSTs the cookie task and waits until it completed; returns its id (caller frees). */
static char *run_cookie_task(const char *extra)
{
	char *body = cookie_task(extra), *id = post_task(suite_org.key, body, NULL);
	json_object *t = wait_final(suite_org.key, id, 180);

	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	json_object_put(t);
	free(body);
	return id;
}

/*
 * Two tasks one after the other on one worker: each gets a warm browser
 * (its first step says so) and neither sees the other's cookie or local
 * storage, while within a task the fixture does remember the visit.  The
 * pool's thread ends each finished task's browser, profile and all.
 */
Test(pool, each_task_gets_a_fresh_warm_browser)
{
	struct log_wait ready = { 0, "msg=\"warm browser ready\"", 1 };
	struct log_wait ended = { 0, "msg=\"finished task's browser ended\"", 2 };
	char *a, *b, *ba, *bb, *handed;

	llm_double_script(cookie_script);
	ready.sup = agent_start("agent_workers = 1\n");
	cr_assert(wait_until(logged, &ready, 60000), "the worker never had a warm browser ready");
	a = run_cookie_task(NULL);
	b = run_cookie_task(NULL);
	ba = browsers_of(a);
	bb = browsers_of(b);
	cr_assert_str_eq(ba, "warm,-", "the first task's steps: %s", ba);
	cr_assert_str_eq(bb, "warm,-", "the second task's steps: %s", bb);
	cr_assert_eq(llm_double_asked("decide", "First visit"), 2, "each task's first page must be a first visit");
	cr_assert_eq(llm_double_asked("decide", "Returning visitor"), 2,
		     "each task must be remembered on its own second visit, and only there");
	handed = xasprintf("msg=\"warm browser handed over\" task=%s", b);
	cr_assert_eq(worker_log_count(ready.sup, handed), 1);
	ended.sup = ready.sup;
	cr_assert(wait_until(logged, &ended, 30000), "the finished tasks' browsers were not ended");
	cr_assert(wait_until(one_profile, &ready.sup, 10000), "a finished task's profile was left behind");
	free(handed);
	free(ba);
	free(bb);
	free(a);
	free(b);
}

/* The warm Chromium killed while it waits: it is replaced, not handed out, and the task runs. */
Test(pool, dead_warm_browser_is_replaced)
{
	struct log_wait ready = { 0, "msg=\"warm browser ready\"", 1 };
	struct log_wait replaced = { 0, "msg=\"warm browser does not answer; replacing it\"", 1 };
	struct warm_find wf = { 0 };
	pid_t w[8];
	size_t nw;
	char *id, *br;

	llm_double_script(cookie_script);
	ready.sup = replaced.sup = agent_start("agent_workers = 1\n");
	cr_assert(wait_until(logged, &ready, 60000), "the worker never had a warm browser ready");
	nw = agent_workers(ready.sup, w, SX_ARRAY_LEN(w));
	for (size_t i = 0; i < nw && !wf.pid; i++) {
		snprintf(wf.arg, sizeof(wf.arg), "--user-data-dir=/tmp/sextant-pool-%d-", (int)w[i]);
		proc_each(find_warm, &wf);
	}
	cr_assert_gt(wf.pid, 0, "no warm Chromium found");
	kill(wf.pid, SIGKILL);
	id = run_cookie_task(NULL);
	cr_assert(logged(&replaced), "the dead warm browser was not reported as replaced");
	br = browsers_of(id);
	cr_assert(strcmp(br, "warm,-") == 0 || strcmp(br, "cold,-") == 0, "the task's steps: %s", br);
	free(br);
	free(id);
}

/* browser_pool = false: no warm browser; the task starts its own, as before the pool. */
Test(pool, off_starts_a_browser_per_task)
{
	struct log_wait warm = { 0, "warm browser", 1 };
	char *id, *br;

	llm_double_script(cookie_script);
	warm.sup = agent_start("agent_workers = 1\nbrowser_pool = false\n");
	id = run_cookie_task(NULL);
	br = browsers_of(id);
	cr_assert_str_eq(br, "cold,-", "the task's steps: %s", br);
	cr_assert_not(logged(&warm), "the pool ran although it is off");
	free(br);
	free(id);
}

/*
 * A proxied task does not take the warm browser (its Chromium must be on
 * the task's own egress proxy, with the task's upstream, from launch): it
 * gets one started for it, and every request of its page goes through its
 * proxy.  The warm browser stays for the next unproxied task, whose
 * requests do not.
 */
Test(pool, proxied_task_gets_a_browser_on_its_own_proxy)
{
	char dir[] = "/tmp/sextant-test-pool-XXXXXX";
	struct log_wait ready = { 0, "msg=\"warm browser ready\"", 1 };
	char *log = NULL, *over, *page, *proxied, *direct, *br;
	int port, through;
	pid_t proxy;

	cr_assert(mkdtemp(dir));
	proxy = tinyproxy_spawn(dir, "pool", false, &port, &log);
	over = xasprintf("agent_workers = 1\nproxy_map = \"RESIDENTIAL=http://127.0.0.1:%d\"\n", port);
	page = xasprintf("GET %s/sites/cookie/index.html", tenv("SX_URL"));
	llm_double_script(cookie_script);
	ready.sup = agent_start(over);
	cr_assert(wait_until(logged, &ready, 60000), "the worker never had a warm browser ready");
	proxied = run_cookie_task(",\"proxy_location\":\"RESIDENTIAL\"");
	br = browsers_of(proxied);
	cr_assert_str_eq(br, "cold,-", "the proxied task's steps: %s", br);
	free(br);
	through = tinyproxy_log_count(log, page);
	cr_assert_geq(through, 2, "the proxy's log (%s) shows %d requests for the page, want both visits", log, through);
	direct = run_cookie_task(",\"proxy_location\":\"RESIDENTIAL_JP\"");
	br = browsers_of(direct);
	cr_assert_str_eq(br, "warm,-", "the unproxied task's steps: %s", br);
	cr_assert_eq(tinyproxy_log_count(log, page), through, "the unproxied task's requests went through the proxy");
	kill(proxy, SIGTERM);
	waitpid(proxy, NULL, 0);
	unlink(log);
	free(br);
	free(log);
	log = xasprintf("%s/pool.conf", dir);
	unlink(log);
	rmdir(dir);
	free(log);
	free(direct);
	free(proxied);
	free(page);
	free(over);
}

/* A worker's warm profile directories, /tmp/sextant-pool-<pid>-*, and a browser of it. */
struct worker_trace {
	pid_t worker;
	pid_t browser;           /* its warm Chromium, or 0 */
};

static bool profile_of(pid_t worker)
{
	return profiles_of(worker) > 0;
}

/* The worker's warm Chromium and its profile are gone. */
static bool trace_gone(void *arg)
{
	struct worker_trace *t = arg;
	struct proc_info p;

	return !(t->browser > 0 && proc_read(t->browser, &p)) && !profile_of(t->worker);
}

/*
 * A worker killed with SIGKILL leaves neither its warm Chromium (its
 * chromedriver's watchdog takes it down) nor, once the supervisor has
 * started the next worker, its warm profile; an agent stopped with SIGTERM
 * leaves neither either.
 */
Test(pool, killed_worker_leaves_no_browser_or_profile)
{
	struct log_wait ready = { 0, "msg=\"warm browser ready\"", 1 };
	struct warm_find wf = { 0 };
	struct worker_trace t = { 0 };
	pid_t w[8];
	size_t nw;

	ready.sup = agent_start("agent_workers = 1\n");
	cr_assert(wait_until(logged, &ready, 60000), "the worker never had a warm browser ready");
	nw = agent_workers(ready.sup, w, SX_ARRAY_LEN(w));
	for (size_t i = 0; i < nw && !wf.pid; i++) {
		snprintf(wf.arg, sizeof(wf.arg), "--user-data-dir=/tmp/sextant-pool-%d-", (int)w[i]);
		proc_each(find_warm, &wf);
		t.worker = w[i];
	}
	cr_assert_gt(wf.pid, 0, "no warm Chromium found");
	t.browser = wf.pid;
	cr_assert(profile_of(t.worker));
	kill(t.worker, SIGKILL);
	/* The next worker sweeps the dead one's profile when its pool starts. */
	cr_assert(wait_until(trace_gone, &t, 60000), "the killed worker's warm Chromium or profile is still there");
	nw = agent_workers(ready.sup, w, SX_ARRAY_LEN(w));
	agent_stop(ready.sup, 30000);
	for (size_t i = 0; i < nw; i++) {
		struct worker_trace after = { w[i], 0 };

		cr_assert(wait_until(trace_gone, &after, 10000), "worker %d left a warm profile", (int)w[i]);
	}
}
