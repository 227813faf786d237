/*
 * Proxies end to end: a real forward proxy (tinyproxy, run here on loopback
 * with a generated config, in the foreground, dying with the test) mapped
 * to RESIDENTIAL in proxy_map; a real sextant-agent and Chromium run
 * extraction tasks on the fixture site with the LLM test double.  The
 * proxy's own log shows what went through it, and tasks.proxy_used what the
 * task recorded.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "db.h"
#include "proxyctl.h"
#include "timeutil.h"
#include "wait.h"

static struct test_org org;
static pid_t proxy_pid = -1, auth_pid = -1;
static int proxy_port, auth_port;
static char proxy_dir[] = "/tmp/sextant-test-proxy-XXXXXX";
static char *proxy_log, *auth_log;

static void proxy_start(void)
{
	cr_assert(mkdtemp(proxy_dir), "mkdtemp");
	proxy_pid = tinyproxy_spawn(proxy_dir, "tinyproxy", false, &proxy_port, &proxy_log);
	auth_pid = tinyproxy_spawn(proxy_dir, "authproxy", true, &auth_port, &auth_log);
}

static void proxy_stop(void)
{
	pid_t *pids[] = { &proxy_pid, &auth_pid };

	for (size_t i = 0; i < SX_ARRAY_LEN(pids); i++) {
		if (*pids[i] > 0) {
			kill(*pids[i], SIGTERM);
			waitpid(*pids[i], NULL, 0);
			*pids[i] = -1;
		}
	}
}

static char *proxy_used(const char *id)
{
	static const char q[] = "SELECT proxy_used FROM tasks WHERE id = ?";
	struct sx_rows *rows = NULL;
	char *v;

	rows = db_rows1(q, id);
	cr_assert_eq(rows->nrows, 1);
	v = sx_rows_get(rows, 0, 0) ? xstrdup(sx_rows_get(rows, 0, 0)) : NULL;
	sx_rows_free(rows);
	return v;
}

static void setup(void)
{
	agent_suite_init(&org, "proxy");
	proxy_start();
}

/* Removes the proxy's config and log: every file of the test's own directory. */
static void proxy_dir_remove(void)
{
	static const char *const files[] = { "tinyproxy.conf", "tinyproxy.log", "authproxy.conf",
					     "authproxy.log", "bad.conf", "bad.out" };

	for (size_t i = 0; i < SX_ARRAY_LEN(files); i++) {
		char *f = xasprintf("%s/%s", proxy_dir, files[i]);

		unlink(f);
		free(f);
	}
	rmdir(proxy_dir);
}

static void teardown(void)
{
	agent_suite_fini();
	proxy_stop();
	proxy_dir_remove();
	free(proxy_log);
	free(auth_log);
}

TestSuite(proxy, .init = setup, .fini = teardown, .timeout = 300);

static char *product_task(const char *location)
{
	return xasprintf("{\"url\":\"%s/sites/product/index.html\",\"data_extraction_goal\":"
			 "\"Extract the product name and price\",\"proxy_location\":\"%s\"}",
			 tenv("SX_URL"), location);
}

/*
 * Runs an extraction task on the product page from proxy_location, with
 * RESIDENTIAL mapped to the plain proxy, RESIDENTIAL_GB to the one that
 * demands credentials, RESIDENTIAL_DE to SOCKS with credentials; returns
 * the final task (caller puts) and its id (*id, caller frees).
 */
static json_object *run_from(const char *location, char **id)
{
	static const char script[] =
		"{\"rules\":[{\"kind\":\"extract\",\"answers\":[{\"name\":\"Trailblazer 2 Tent\",\"price\":249.0}]}]}";
	char *overrides = xasprintf("proxy_map = \"RESIDENTIAL=http://127.0.0.1:%d,"
				    "RESIDENTIAL_GB=http://sx-user:s3cret-pw@127.0.0.1:%d,"
				    "RESIDENTIAL_DE=socks5://sx-user:s3cret-pw@127.0.0.1:%d\"\n",
				    proxy_port, auth_port, auth_port);
	char *body = product_task(location);
	json_object *t;

	t = run_task(&(struct task_run){ .key = org.key, .script = script, .body = body, .overrides = overrides }, id);
	free(body);
	free(overrides);
	return t;
}

/* The request line of the product page, as a proxy logs it (caller frees). */
static char *page_request(void)
{
	return xasprintf("GET %s/sites/product/index.html", tenv("SX_URL"));
}

/* RESIDENTIAL: the page request went through the proxy; the task says which. */
Test(proxy, residential_goes_through_the_mapped_proxy)
{
	char *page = page_request(), *want = xasprintf("http://127.0.0.1:%d", proxy_port);
	char *id, *used;
	json_object *t = run_from("RESIDENTIAL", &id);

	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	cr_assert_geq(tinyproxy_log_count(proxy_log, page), 1, "the proxy's log (%s) shows no request for the page", proxy_log);
	used = proxy_used(id);
	cr_assert(used && strcmp(used, want) == 0, "proxy_used %s, want %s", used ? used : "NULL", want);
	json_object_put(t);
	free(used);
	free(id);
	free(want);
	free(page);
}

/* An unmapped location goes direct, and records no proxy. */
Test(proxy, unmapped_location_goes_direct)
{
	char *page = page_request(), *id, *used;
	json_object *t = run_from("RESIDENTIAL_JP", &id);

	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	cr_assert_eq(tinyproxy_log_count(proxy_log, page), 0, "an unmapped location went through the proxy");
	cr_assert_eq(tinyproxy_log_count(auth_log, page), 0, "an unmapped location went through the proxy");
	used = proxy_used(id);
	cr_assert_null(used, "proxy_used %s for a direct task", used);
	json_object_put(t);
	free(id);
	free(page);
}

/*
 * A proxy that demands credentials: the task's Chromium answers its
 * challenge with the mapped ones (through the session's extension), so the
 * page goes through it; the task records the proxy without them, and
 * neither the task nor the agent's log shows the password.
 */
Test(proxy, credentials_answer_the_proxy_challenge)
{
	char *page = page_request(), *want = xasprintf("http://127.0.0.1:%d", auth_port);
	char *agent_log = xasprintf("%s/log/agent-test.log", tenv("SX_VAR"));
	char *id, *used;
	json_object *t = run_from("RESIDENTIAL_GB", &id);

	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	cr_assert_geq(tinyproxy_log_count(auth_log, page), 1, "the authenticating proxy's log (%s) shows no page request",
		      auth_log);
	cr_assert_null(strstr(json_object_to_json_string(t), "s3cret-pw"));
	used = proxy_used(id);
	cr_assert(used && strcmp(used, want) == 0, "proxy_used %s, want %s", used ? used : "NULL", want);
	cr_assert_eq(tinyproxy_log_count(agent_log, "s3cret-pw"), 0, "the agent logged a proxy password");
	json_object_put(t);
	free(used);
	free(id);
	free(agent_log);
	free(want);
	free(page);
}

/* SOCKS with credentials: Chromium has no SOCKS authentication, and the task says so. */
Test(proxy, socks_with_credentials_fails_clearly)
{
	char *id;
	json_object *t = run_from("RESIDENTIAL_DE", &id);

	cr_assert_str_eq(jstr(t, "status"), "failed", "%s", json_object_to_json_string(t));
	cr_assert(strstr(jstr(t, "failure_reason"), "Chromium does not support SOCKS proxies with credentials"),
		  "%s", jstr(t, "failure_reason"));
	cr_assert_null(strstr(json_object_to_json_string(t), "s3cret-pw"));
	json_object_put(t);
	free(id);
}

Test(proxy, bad_map_stops_startup)
{
	char *conf = xasprintf("%s/bad.conf", proxy_dir);
	char *cmd;
	FILE *in = fopen(tenv("SX_CONF"), "r"), *out = fopen(conf, "w");
	char line[2048];
	int status;

	/* The stack's config plus a proxy_map that does not parse. */
	cr_assert(in && out);
	while (fgets(line, sizeof(line), in))
		if (strncmp(line, "proxy_map", 9) != 0 && strncmp(line, "outbound_allow", 14) != 0)
			fputs(line, out);
	fputs("proxy_map = \"RESIDENTIAL=ftp://sx-user:s3cret-pw@127.0.0.1:21\"\n", out);
	fclose(in);
	fclose(out);
	cmd = xasprintf("%s/sextant-agent --config %s > %s/bad.out 2>&1", BUILDDIR, conf, proxy_dir);
	status = system(cmd);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "the agent started with a bad proxy_map");
	free(cmd);
	cmd = xasprintf("%s/bad.out", proxy_dir);
	cr_assert_eq(tinyproxy_log_count(cmd, "proxy_map: RESIDENTIAL"), 1, "no proxy_map message");
	cr_assert_eq(tinyproxy_log_count(cmd, "s3cret"), 0, "the message shows the password");
	free(cmd);
	free(conf);
}
