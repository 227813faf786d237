/*
 * browser_mode = shared end to end (agent/browser_host.h,
 * agent/browser_context.h): a real sextant-agent keeps one Chromium, and
 * each task runs in a browser context of its own, driven by its worker's
 * chromedriver attached to that Chromium.  What a task must not share with
 * another running beside it: cookies and local storage (the cookie
 * fixture greets a browser that has been there before), its proxy (a
 * real forward proxy's log, proxyctl.h) and its downloads (each lands in
 * its own task's folder).  A crash of one task's page ends that task's
 * session only; a killed worker's context is disposed of; a dead shared
 * Chromium is started again.  The test reaches the shared browser the way
 * the agent does, through browser_host.h and browser_cdp.h.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "browser_cdp.h"
#include "browser_host.h"
#include "client.h"
#include "json.h"
#include "procs.h"
#include "proxyctl.h"
#include "wait.h"

TestSuite(shared, .init = agent_suite_setup, .fini = agent_suite_fini, .timeout = 300);

/*
 * The cookie fixture's script: visit again, then complete.  The second
 * visit's answer waits, so that a task holds its cookie in a running
 * browser while another task starts.
 */
static const char cookie_script[] =
	"{\"rules\":["
	" {\"kind\":\"decide\",\"match\":\"First visit\",\"answers\":["
	"  {\"actions\":[{\"action\":\"click\",\"label\":\"Visit again\"}]}]},"
	" {\"kind\":\"decide\",\"match\":\"Returning visitor\",\"answers\":["
	"  {\"__delay\":4,\"actions\":[{\"action\":\"complete\"}]}]},"
	" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true}]}]}";

/* POSTs a task on the cookie fixture with query q and the body's extra members (caller frees the id). */
static char *post_cookie(const char *q, const char *extra)
{
	char *url = site_url("cookie/index.html");
	char *body = xasprintf("{\"url\":\"%s?%s\",\"navigation_goal\":\"Visit the lounge twice\"%s}", url, q,
			       extra ? extra : "");
	char *id = post_task(suite_org.key, body, NULL);

	free(body);
	free(url);
	return id;
}

/* Waits for the task's final status and asserts it is completed. */
static void assert_completed(const char *id)
{
	json_object *t = wait_final(suite_org.key, id, 180);

	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	json_object_put(t);
}

/* How many of the task's steps have "browser" (in their output) equal to kind, and how many failed. */
static void steps_of(const char *id, const char *kind, int *opened, int *failed)
{
	json_object *steps = api_get_json(suite_org.key, "/api/v1/tasks/%s/steps", id);

	*opened = *failed = 0;
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i);
		const char *b = sx_json_string(sx_json_member(s, "output"), "browser");

		*opened += b && strcmp(b, kind) == 0;
		*failed += strcmp(jstr(s, "status"), "failed") == 0;
	}
	json_object_put(steps);
}

/* A connection to the shared browser of the agent whose supervisor is sup, once it is up. */
struct host_wait {
	char *dir;
	struct browser_cdp *cdp;
};

static bool host_up(void *arg)
{
	struct host_wait *h = arg;

	return browser_host_open(h->dir, 5000, &h->cdp, NULL, 0) == SX_OK;
}

static struct browser_cdp *shared_cdp(pid_t sup)
{
	struct host_wait h = { browser_host_dir(sup), NULL };

	cr_assert(wait_until(host_up, &h, 60000), "the shared browser in %s never came up", h.dir);
	free(h.dir);
	return h.cdp;
}

/* Whether the shared browser has a browser context named id. */
static bool context_exists(struct browser_cdp *cdp, const char *id)
{
	json_object *res = NULL, *ids;
	bool found = false;

	cr_assert_eq(browser_cdp_call(cdp, "Target.getBrowserContexts", NULL, &res), SX_OK, "%s",
		     browser_cdp_last_error(cdp));
	ids = sx_json_member(res, "browserContextIds");
	for (size_t i = 0; i < json_object_array_length(ids); i++)
		found |= strcmp(json_object_get_string(json_object_array_get_idx(ids, i)), id) == 0;
	json_object_put(res);
	return found;
}

/*
 * Two tasks at once on two workers of one agent: the second starts while
 * the first holds its cookie and local storage in the shared Chromium, and
 * is greeted as a first visitor; so is a third task after both.  Each
 * remembers its own first visit.
 */
Test(shared, contexts_share_no_cookies_or_storage)
{
	char *a, *b, *c;
	struct llm_ask first = { "decide", "Returning visitor", 1 };
	int opened, failed;

	llm_double_script(cookie_script);
	agent_start("agent_workers = 2\nbrowser_mode = shared\n");
	a = post_cookie("who=a", NULL);
	cr_assert(wait_until(llm_double_was_asked, &first, 120000), "the first task never came back to the lounge");
	b = post_cookie("who=b", NULL);
	assert_completed(a);
	assert_completed(b);
	c = post_cookie("who=c", NULL);
	assert_completed(c);
	cr_assert_eq(llm_double_asked("decide", "First visit"), 3, "each task's first page must be a first visit");
	cr_assert_eq(llm_double_asked("decide", "Returning visitor"), 3,
		     "each task must be remembered on its own second visit, and only there");
	steps_of(a, "context", &opened, &failed);
	cr_assert_eq(opened, 1, "the first task's steps must say it opened a context");
	free(a);
	free(b);
	free(c);
}

/*
 * Two tasks at once, one with a proxy and one without: every request of
 * the proxied one's page goes through its proxy, none of the other's.
 */
Test(shared, each_context_has_its_own_proxy)
{
	char dir[] = "/tmp/sextant-test-shared-XXXXXX";
	char *log = NULL, *over, *proxied_page, *direct_page, *proxied, *direct, *conf;
	int port;
	pid_t proxy;

	cr_assert(mkdtemp(dir));
	proxy = tinyproxy_spawn(dir, "shared", false, &port, &log);
	over = xasprintf("agent_workers = 2\nbrowser_mode = shared\n"
			 "proxy_map = \"RESIDENTIAL=http://127.0.0.1:%d\"\n", port);
	proxied_page = xasprintf("GET %s/sites/cookie/index.html?via=proxy", tenv("SX_URL"));
	direct_page = xasprintf("GET %s/sites/cookie/index.html?via=direct", tenv("SX_URL"));
	llm_double_script(cookie_script);
	agent_start(over);
	proxied = post_cookie("via=proxy", ",\"proxy_location\":\"RESIDENTIAL\"");
	direct = post_cookie("via=direct", ",\"proxy_location\":\"RESIDENTIAL_JP\"");
	assert_completed(proxied);
	assert_completed(direct);
	cr_assert_geq(tinyproxy_log_count(log, proxied_page), 1, "the proxied task's page did not go through its proxy (%s)",
		      log);
	cr_assert_eq(tinyproxy_log_count(log, direct_page), 0, "the unproxied task's page went through the other's proxy");
	kill(proxy, SIGTERM);
	waitpid(proxy, NULL, 0);
	unlink(log);
	conf = xasprintf("%s/shared.conf", dir);
	unlink(conf);
	rmdir(dir);
	free(conf);
	free(log);
	free(direct);
	free(proxied);
	free(direct_page);
	free(proxied_page);
	free(over);
}

/* A file of the task's own folder: <artifacts_dir>/<org>/<task>/<name>. */
struct task_file {
	const char *task;
	const char *name;
};

static char *task_file_path(const struct task_file *f)
{
	return xasprintf("%s/artifacts/%s/%s/%s", tenv("SX_VAR"), suite_org.id, f->task, f->name);
}

static bool task_file_exists(void *arg)
{
	char *path = task_file_path(arg);
	struct stat st;
	bool ok = stat(path, &st) == 0;

	free(path);
	return ok;
}

/* The download fixture's script for the report of who: download it, then complete. */
static char *download_rule(const char *who)
{
	return xasprintf(" {\"kind\":\"decide\",\"match\":\"Report for %s\",\"answers\":["
			 "  {\"actions\":[{\"action\":\"click\",\"label\":\"Download the report\"}]},"
			 "  {\"__delay\":2,\"actions\":[{\"action\":\"complete\"}]}]}",
			 who);
}

/* Two tasks at once download a file each: each file lands in its own task's folder only. */
Test(shared, downloads_land_in_each_task_folder)
{
	char *ra = download_rule("alpha"), *rb = download_rule("beta");
	char *script = xasprintf("{\"rules\":[%s,%s,{\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true}]}]}",
				 ra, rb);
	char *url = site_url("download/index.html"), *ids[2];
	const char *who[2] = { "alpha", "beta" };

	llm_double_script(script);
	agent_start("agent_workers = 2\nbrowser_mode = shared\n");
	for (int i = 0; i < 2; i++) {
		char *body = xasprintf("{\"url\":\"%s?who=%s\",\"navigation_goal\":\"Download the report\"}", url, who[i]);

		ids[i] = post_task(suite_org.key, body, NULL);
		free(body);
	}
	for (int i = 0; i < 2; i++)
		assert_completed(ids[i]);
	for (int i = 0; i < 2; i++) {
		char *own = xasprintf("report-%s.txt", who[i]), *other = xasprintf("report-%s.txt", who[1 - i]);
		struct task_file mine = { ids[i], own }, theirs = { ids[i], other };

		cr_assert(wait_until(task_file_exists, &mine, 20000), "%s's report is not in its task's folder", who[i]);
		cr_assert_not(task_file_exists(&theirs), "%s's report landed in %s's folder", who[1 - i], who[i]);
		free(own);
		free(other);
	}
	free(ids[0]);
	free(ids[1]);
	free(url);
	free(script);
	free(ra);
	free(rb);
}

/* Crashes the renderer of the shared browser's page whose URL holds needle (Page.crash on its session). */
static void crash_page(struct browser_cdp *cdp, const char *needle)
{
	json_object *res = NULL, *infos, *p = json_object_new_object(), *att = NULL;
	const char *target = NULL;

	cr_assert_eq(browser_cdp_call(cdp, "Target.getTargets", NULL, &res), SX_OK);
	infos = sx_json_member(res, "targetInfos");
	for (size_t i = 0; i < json_object_array_length(infos) && !target; i++) {
		json_object *t = json_object_array_get_idx(infos, i);
		const char *u = sx_json_string(t, "url");

		if (u && strstr(u, needle) && strcmp(sx_json_string(t, "type"), "page") == 0)
			target = sx_json_string(t, "targetId");
	}
	cr_assert(target, "no page of the shared browser is at %s", needle);
	json_object_object_add(p, "targetId", json_object_new_string(target));
	json_object_object_add(p, "flatten", json_object_new_boolean(1));
	cr_assert_eq(browser_cdp_call(cdp, "Target.attachToTarget", p, &att), SX_OK, "%s", browser_cdp_last_error(cdp));
	/* The renderer dies before it could answer: the call ends on its timeout. */
	browser_cdp_call_session(cdp, sx_json_string(att, "sessionId"), "Page.crash", NULL, NULL);
	json_object_put(att);
	json_object_put(p);
	json_object_put(res);
}

/*
 * One task's page crashes while both tasks wait for the model: that task's
 * next action fails, its step is retried in a new context and it
 * completes; the other task completes without a failed step.
 */
Test(shared, page_crash_ends_only_its_task_session)
{
	static const char script[] =
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"First visit\",\"answers\":["
		"  {\"__delay\":5,\"actions\":[{\"action\":\"click\",\"label\":\"Visit again\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"Returning visitor\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true}]}]}";
	struct llm_ask both = { "decide", "First visit", 2 };
	struct browser_cdp *cdp;
	char *victim, *other;
	int opened, failed;
	pid_t sup;

	llm_double_script(script);
	sup = agent_start("agent_workers = 2\nbrowser_mode = shared\nbrowser_pool = false\n");
	victim = post_cookie("t=victim", NULL);
	other = post_cookie("t=other", NULL);
	cr_assert(wait_until(llm_double_was_asked, &both, 120000), "the two tasks never both reached the model");
	cdp = shared_cdp(sup);
	crash_page(cdp, "t=victim");
	browser_cdp_free(cdp);
	assert_completed(victim);
	assert_completed(other);
	steps_of(victim, "context", &opened, &failed);
	cr_assert_geq(failed, 1, "the crashed task must record a failed step");
	cr_assert_eq(opened, 2, "the crashed task must open a new context once");
	steps_of(other, "context", &opened, &failed);
	cr_assert_eq(failed, 0, "the other task must not fail a step");
	cr_assert_eq(opened, 1, "the other task must keep its context");
	free(victim);
	free(other);
}

/* The worker that logged a line holding needle, and the value of key= on that line. */
struct log_find {
	const char *needle;
	const char *key;
	pid_t pid;
	char value[128];
};

static bool log_found(void *arg)
{
	struct log_find *lf = arg;
	char *path = xasprintf("%s/log/agent-test.log", tenv("SX_VAR")), line[8192];
	FILE *f = fopen(path, "r");

	while (f && !lf->pid && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, " pid="), *v;
		char pat[64];

		snprintf(pat, sizeof(pat), " %s=", lf->key);
		v = strstr(line, pat);
		if (!strstr(line, lf->needle) || !p || !v)
			continue;
		snprintf(lf->value, sizeof(lf->value), "%.*s", (int)strcspn(v + strlen(pat), " \n"), v + strlen(pat));
		lf->pid = (pid_t)strtol(p + 5, NULL, 10);
	}
	if (f)
		fclose(f);
	free(path);
	return lf->pid > 0;
}

struct context_gone {
	struct browser_cdp *cdp;
	const char *id;
	char *file;              /* its record for the host's sweep */
};

static bool context_gone(void *arg)
{
	struct context_gone *g = arg;

	return !context_exists(g->cdp, g->id) && access(g->file, F_OK) != 0;
}

/*
 * A worker killed with SIGKILL in the middle of a task: its context in the
 * shared browser is disposed of (its connection closed: disposeOnDetach;
 * and the host's sweep forgets it), and the shared browser stays up.
 */
Test(shared, killed_worker_context_is_disposed)
{
	static const char script[] =
		"{\"rules\":[{\"kind\":\"decide\",\"answers\":["
		" {\"actions\":[{\"action\":\"wait\",\"seconds\":2}]},"
		" {\"actions\":[{\"action\":\"scroll\",\"direction\":\"down\"},{\"action\":\"wait\",\"seconds\":2}]},"
		" {\"actions\":[{\"action\":\"wait\",\"seconds\":2}]},"
		" {\"actions\":[{\"action\":\"scroll\",\"direction\":\"up\"},{\"action\":\"wait\",\"seconds\":2}]}]}]}";
	struct context_gone g = { 0 };
	struct log_find lf = { 0 };
	char *id, *needle, *dir, *cancel;
	pid_t sup;

	llm_double_script(script);
	sup = agent_start("agent_workers = 1\nbrowser_mode = shared\n");
	id = post_cookie("t=long", NULL);
	needle = xasprintf("msg=\"browser context opened\" task=%s", id);
	lf.needle = needle;
	lf.key = "context";
	cr_assert(wait_until(log_found, &lf, 120000), "the task never opened a context");
	g.cdp = shared_cdp(sup);
	g.id = lf.value;
	dir = browser_host_dir(sup);
	g.file = xasprintf("%s/contexts/%s", dir, lf.value);
	cr_assert(context_exists(g.cdp, g.id), "the task's context %s is not in the shared browser", g.id);
	cr_assert_eq(access(g.file, F_OK), 0, "the task's context is not recorded for the sweep");
	kill(lf.pid, SIGKILL);
	cr_assert(wait_until(context_gone, &g, 30000), "the killed worker's context %s is still there", g.id);
	/* The shared browser still answers (context_exists asserts its call). */
	context_exists(g.cdp, g.id);
	cancel = xasprintf("/api/v1/tasks/%s/cancel", id);
	resp_free(api_post_json(cancel, suite_org.key, "{}"));
	free(cancel);
	browser_cdp_free(g.cdp);
	free(g.file);
	free(dir);
	free(needle);
	free(id);
}

/* The shared Chromium's browser process (not a renderer or helper) of host directory dir. */
struct browser_find {
	char arg[128];           /* --user-data-dir=<dir>/profile */
	pid_t pid;
};

static bool find_browser(const struct proc_info *p, void *arg)
{
	struct browser_find *bf = arg;
	char cmd[8192];

	if (!proc_cmdline(p->pid, cmd, sizeof(cmd)))
		return true;
	if (strstr(cmd, bf->arg) && !strstr(cmd, "--type=")) {
		bf->pid = p->pid;
		return false;
	}
	return true;
}

/* The shared Chromium killed between tasks: the host starts it again and the next task runs. */
Test(shared, dead_shared_browser_is_started_again)
{
	struct browser_find bf = { 0 };
	struct browser_cdp *cdp;
	char *dir, *id;
	pid_t sup;

	llm_double_script(cookie_script);
	sup = agent_start("agent_workers = 1\nbrowser_mode = shared\n");
	cdp = shared_cdp(sup);
	browser_cdp_free(cdp);
	dir = browser_host_dir(sup);
	snprintf(bf.arg, sizeof(bf.arg), "--user-data-dir=%s/profile ", dir);
	proc_each(find_browser, &bf);
	cr_assert_gt(bf.pid, 0, "no shared Chromium found");
	kill(bf.pid, SIGKILL);
	id = post_cookie("t=after", NULL);
	assert_completed(id);
	bf.pid = 0;
	proc_each(find_browser, &bf);
	cr_assert_gt(bf.pid, 0, "the shared Chromium was not started again");
	free(id);
	free(dir);
}
