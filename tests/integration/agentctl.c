/*
 * Agent test controls (see agentctl.h).
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "http.h"
#include "timeutil.h"

static struct test_double llm;
static char double_base[128];
static pid_t agents[16];
static size_t nagents;
static int conf_seq;

void test_double_start(struct test_double *d, const char *script, int port)
{
	int fds[2];
	char buf[256], arg[16];
	size_t got = 0;
	char *path = xasprintf("%s/tests/doubles/%s", SRCDIR, script);
	char *p;
	long long v = 0;

	memset(d, 0, sizeof(*d));
	snprintf(arg, sizeof(arg), "%d", port);
	cr_assert_eq(pipe(fds), 0);
	d->pid = fork();
	cr_assert(d->pid >= 0);
	if (d->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], 1);
		close(fds[0]);
		execlp("python3", "python3", path, "--port", arg, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	memset(buf, 0, sizeof(buf));
	while (got < sizeof(buf) - 1 && !strchr(buf, '\n')) {
		ssize_t n = read(fds[0], buf + got, sizeof(buf) - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	p = strstr(buf, "PORT=");
	cr_assert_not_null(p, "%s did not print its port: %s", script, buf);
	p[5 + strcspn(p + 5, "\r\n")] = '\0';
	cr_assert(sx_parse_ll(p + 5, 1, 65535, &v));
	d->port = (int)v;
	snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%d", d->port);
	free(path);
}

void test_double_stop(struct test_double *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = 0;
}

char *test_double_call(const struct test_double *d, const char *method, const char *path,
		       const char *body)
{
	struct http_client *c = http_client_new();
	char *url = xasprintf("%s%s", d->url, path);
	struct http_header h[] = { { "Content-Type", "application/json" } };
	struct http_request req = { .method = method, .url = url, .headers = h, .nheaders = 1,
				    .body = body, .body_len = body ? strlen(body) : 0,
				    .timeout_ms = 10000, .max_response = 64u << 20 };
	struct http_response res;
	enum sx_rc rc = http_perform(c, &req, &res);
	char *out;

	cr_assert_eq(rc, SX_OK, "double %s: %s", path, res.error);
	cr_assert_eq(res.status, 200, "double %s: %ld %s", path, res.status, sx_buf_str(&res.body));
	out = xstrdup(sx_buf_str(&res.body));
	http_response_release(&res);
	http_client_free(c);
	free(url);
	return out;
}

const char *double_start(void)
{
	test_double_start(&llm, "llm_double.py", 0);
	snprintf(double_base, sizeof(double_base), "%s/v1", llm.url);
	return double_base;
}

void double_stop(void)
{
	test_double_stop(&llm);
}

void double_script(const char *json)
{
	free(test_double_call(&llm, "POST", "/__script", json));
}

json_object *double_requests(void)
{
	char *s = test_double_call(&llm, "GET", "/__requests", NULL);
	json_object *o = json_tokener_parse(s);

	free(s);
	return o;
}

/* Copies the stack's config without the overridden keys, then the overrides. */
static char *write_conf(const char *overrides)
{
	char *path = xasprintf("/tmp/sextant-agent-test-%d-%d.conf", (int)getpid(), conf_seq++);
	FILE *in = fopen(tenv("SX_CONF"), "r");
	FILE *out = fopen(path, "w");
	char line[2048];
	char *all = xasprintf("llm_provider = openai\nllm_base_url = %s\nllm_api_key_env = SX_TEST_LLM_KEY\n"
			      "llm_timeout = 20\nllm_max_retries = 0\nlease_seconds = 6\nheartbeat_seconds = 1\n"
			      "poll_interval_ms = 100\nagent_workers = 1\ntask_timeout = 300\n"
			      "webdriver_timeout = 30\n%s",
			      double_base, overrides ? overrides : "");

	cr_assert(in && out);
	while (fgets(line, sizeof(line), in)) {
		char key[128];
		bool skip = false;
		size_t k = strspn(line, " \t");
		size_t kl = strcspn(line + k, " \t=");
		const char *p = all;

		if (kl == 0 || kl >= sizeof(key) || line[k] == '#') {
			fputs(line, out);
			continue;
		}
		memcpy(key, line + k, kl);
		key[kl] = '\0';
		while (p && *p) {
			size_t l = strcspn(p, " =");

			if (l == kl && memcmp(p, key, kl) == 0)
				skip = true;
			p = strchr(p, '\n');
			if (p)
				p++;
		}
		/* Later overrides win: a key named twice in `all` keeps its last value. */
		if (!skip)
			fputs(line, out);
	}
	{
		/* Drop earlier duplicates inside `all` itself. */
		char *copy = xstrdup(all), *save = NULL;
		char *lines[64];
		size_t n = 0;

		for (char *l = strtok_r(copy, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save))
			lines[n++] = l;
		for (size_t i = 0; i < n; i++) {
			size_t kl = strcspn(lines[i], " =");
			bool later = false;

			for (size_t j = i + 1; j < n; j++)
				if (strcspn(lines[j], " =") == kl && memcmp(lines[i], lines[j], kl) == 0)
					later = true;
			if (!later)
				fprintf(out, "%s\n", lines[i]);
		}
		free(copy);
	}
	fclose(in);
	fclose(out);
	free(all);
	return path;
}

pid_t agent_start(const char *overrides)
{
	char *conf = write_conf(overrides);
	char *bin = xasprintf("%s/sextant-agent", BUILDDIR);
	char *log = xasprintf("%s/log/agent-test.log", tenv("SX_VAR"));
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, bin, "--config", conf, (char *)NULL);
		_exit(127);
	}
	if (nagents < SX_ARRAY_LEN(agents))
		agents[nagents++] = pid;
	free(conf);
	free(bin);
	free(log);
	return pid;
}

void agent_stop(pid_t pid, int wait_ms)
{
	int64_t t0 = sx_mono_ms();

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	while (sx_mono_ms() - t0 < wait_ms) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			goto done;
		sx_sleep_ms(50, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
done:
	for (size_t i = 0; i < nagents; i++)
		if (agents[i] == pid)
			agents[i] = 0;
}

void agents_stop_all(void)
{
	for (size_t i = 0; i < nagents; i++)
		if (agents[i] > 0)
			agent_stop(agents[i], 15000);
	nagents = 0;
}

size_t agent_workers(pid_t supervisor, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)) != NULL && n < max) {
		char path[300], buf[512];
		long long pid;
		FILE *f;

		if (!sx_parse_ll(e->d_name, 1, INT32_MAX, &pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			char *rp = strrchr(buf, ')');
			int ppid = 0;
			char state;

			if (rp && sscanf(rp + 2, "%c %d", &state, &ppid) == 2 && ppid == supervisor &&
			    state != 'Z')
				out[n++] = (pid_t)pid;
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

const char product_schema[] =
	"{\"type\":\"object\",\"required\":[\"name\",\"price\"],\"properties\":{"
	"\"name\":{\"type\":\"string\"},\"price\":{\"type\":\"number\"},"
	"\"availability\":{\"type\":\"string\",\"enum\":[\"in stock\",\"out of stock\"]}}}";

void agent_suite_init(struct test_org *org, const char *name)
{
	double_start();
	agent_tests_clear_queue();
	test_org_new(org, name);
}

void agent_suite_fini(void)
{
	agents_stop_all();
	double_stop();
}

char *site_url(const char *path)
{
	return xasprintf("%s/sites/%s", tenv("SX_URL"), path);
}

void agent_tests_clear_queue(void)
{
	static const char q[] =
		"UPDATE tasks SET status = 'canceled', finished_at = UTC_TIMESTAMP(6), "
		"lease_owner = NULL, lease_until = NULL WHERE status IN ('created', 'queued', 'running') "
		"AND org_id <> ?";

	db_exec2(q, "-", NULL);
}

json_object *wait_final(const char *key, const char *id, int timeout_s)
{
	char path[128];
	int64_t t0 = sx_mono_ms();

	snprintf(path, sizeof(path), "/api/v1/tasks/%s", id);
	while (sx_mono_ms() - t0 < (int64_t)timeout_s * 1000) {
		struct resp *r = api_get(path, key);
		const char *st = jstr(r->json, "status");

		if (st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0 && strcmp(st, "created") != 0) {
			json_object *o = json_object_get(r->json);

			resp_free(r);
			return o;
		}
		resp_free(r);
		sx_sleep_ms(250, NULL);
	}
	cr_assert_fail("task %s did not finish within %d s", id, timeout_s);
	return NULL;
}

bool wait_status(const char *key, const char *id, const char *status, int timeout_s)
{
	char path[128];
	int64_t t0 = sx_mono_ms();

	snprintf(path, sizeof(path), "/api/v1/tasks/%s", id);
	while (sx_mono_ms() - t0 < (int64_t)timeout_s * 1000) {
		struct resp *r = api_get(path, key);
		const char *st = jstr(r->json, "status");
		bool hit = st && strcmp(st, status) == 0;

		resp_free(r);
		if (hit)
			return true;
		sx_sleep_ms(100, NULL);
	}
	return false;
}

char *post_task(const char *key, const char *body, const char *const *headers)
{
	struct resp *r = api_call("POST", "/api/v1/tasks", key, body, strlen(body), headers);
	char *id;

	cr_assert_eq(r->status, 200, "create: %ld %s", r->status, r->body);
	id = xstrdup(jstr(r->json, "task_id"));
	resp_free(r);
	return id;
}
