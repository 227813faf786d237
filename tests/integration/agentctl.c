/*
 * Agent test controls (see agentctl.h).
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "db.h"
#include "doubles.h"
#include "http.h"
#include "timeutil.h"
#include "procs.h"
#include "wait.h"

static pid_t agents[16];
static size_t nagents;
static int conf_seq;

/*
 * Copies the stack's config without the overridden keys, then the overrides.
 * Agent tests are written against the model's decisions, so replay is off
 * unless a test turns it on (test_replay: "replay = auto").
 */
static char *write_conf(const char *overrides)
{
	char *path = xasprintf("/tmp/sextant-agent-test-%d-%d.conf", (int)getpid(), conf_seq++);
	FILE *in = fopen(tenv("SX_CONF"), "r");
	FILE *out = fopen(path, "w");
	char line[2048];
	char *all = xasprintf("llm_provider = openai\nllm_base_url = %s\nllm_api_key_env = SX_TEST_LLM_KEY\n"
			      "llm_timeout = 20\nllm_max_retries = 0\nlease_seconds = 6\nheartbeat_seconds = 1\n"
			      "poll_interval_ms = 100\nagent_workers = 1\ntask_timeout = 300\n"
			      "webdriver_timeout = 30\nreplay = off\n%s",
			      llm_double_base(), overrides ? overrides : "");

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

/* A child to reap and where its wait status goes. */
struct reap {
	pid_t pid;
	int *status;
};

/* True once the child in arg (a struct reap) has exited; its status is kept. */
static bool reaped_status(void *arg)
{
	const struct reap *r = arg;

	return waitpid(r->pid, r->status, WNOHANG) == r->pid;
}

/* Forks sextant-agent --config conf [arg] with its output appended to log. */
static pid_t agent_spawn(const char *conf, const char *arg, const char *log)
{
	char *bin = xasprintf("%s/sextant-agent", BUILDDIR);
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, bin, "--config", conf, arg, (char *)NULL);
		_exit(127);
	}
	free(bin);
	return pid;
}

pid_t agent_start(const char *overrides)
{
	char *conf = write_conf(overrides);
	char *log = xasprintf("%s/log/agent-test.log", tenv("SX_VAR"));
	pid_t pid = agent_spawn(conf, NULL, log);

	if (nagents < SX_ARRAY_LEN(agents))
		agents[nagents++] = pid;
	free(conf);
	free(log);
	return pid;
}

int agent_run(const char *overrides, const char *arg, const char *log, int timeout_ms)
{
	char *conf = write_conf(overrides);
	char *deflog = xasprintf("%s/log/agent-test.log", tenv("SX_VAR"));
	pid_t pid = agent_spawn(conf, arg, log ? log : deflog);
	int ws = 0, status = -1;

	if (wait_until(reaped_status, &(struct reap){ pid, &ws }, timeout_ms))
		status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	else
		agent_stop(pid, 5000);
	unlink(conf);
	free(conf);
	free(deflog);
	return status;
}

/* True once the child in arg (a pid_t) has exited and been reaped (here or by the test). */
static bool reaped(void *arg)
{
	pid_t pid = *(pid_t *)arg, r = waitpid(pid, NULL, WNOHANG);

	return r == pid || (r < 0 && errno == ECHILD);
}

void agent_stop(pid_t pid, int wait_ms)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	if (!wait_until(reaped, &pid, wait_ms)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
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

/* What agent_workers collects: the children of a supervisor. */
struct children {
	pid_t parent;
	pid_t *out;
	size_t n, max;
};

static bool collect_child(const struct proc_info *p, void *arg)
{
	struct children *c = arg;

	if (p->ppid == c->parent)
		c->out[c->n++] = p->pid;
	return c->n < c->max;
}

size_t agent_workers(pid_t supervisor, pid_t *out, size_t max)
{
	struct children c = { supervisor, out, 0, max };

	if (max > 0)
		proc_each(collect_child, &c);
	return c.n;
}

pid_t agent_lease_worker(pid_t supervisor, const char *id)
{
	struct sx_rows *rows = db_rows1("SELECT lease_owner FROM tasks WHERE id = ?", id);
	const char *owner = rows->nrows ? sx_rows_get(rows, 0, 0) : NULL;
	pid_t workers[8], found = 0;
	size_t n = agent_workers(supervisor, workers, SX_ARRAY_LEN(workers));

	for (size_t i = 0; owner && i < n && !found; i++) {
		char needle[32];

		snprintf(needle, sizeof(needle), ":%d:", (int)workers[i]);
		if (strstr(owner, needle))
			found = workers[i];
	}
	sx_rows_free(rows);
	return found;
}

const char product_schema[] =
	"{\"type\":\"object\",\"required\":[\"name\",\"price\"],\"properties\":{"
	"\"name\":{\"type\":\"string\"},\"price\":{\"type\":\"number\"},"
	"\"availability\":{\"type\":\"string\",\"enum\":[\"in stock\",\"out of stock\"]}}}";

char *job_script(const char *first)
{
	return xasprintf(
		"{\"rules\":["
		" {\"kind\":\"decide\",\"match\":\"thanks.html\",\"answers\":[{\"reasoning\":\"The application was sent\","
		"   \"actions\":[{\"action\":\"complete\"}]}]},"
		" {\"kind\":\"decide\",\"match\":\"Submit application\",\"answers\":[{\"reasoning\":\"Fill the form\","
		"   \"actions\":[%s"
		"    {\"action\":\"input_text\",\"label\":\"Full name\",\"text\":\"Chris P. Bacon\"},"
		"    {\"action\":\"input_text\",\"label\":\"Email\",\"text\":\"chris@pbacon.com\"},"
		"    {\"action\":\"select_option\",\"label\":\"How did you hear about us?\",\"option\":\"LinkedIn\"},"
		"    {\"action\":\"check\",\"label\":\"I agree to the processing of my personal data for recruitment purposes\"},"
		"    {\"action\":\"click\",\"label\":\"Submit application\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"The thank-you page is shown\"}]},"
		" {\"kind\":\"extract\",\"answers\":[{\"application_successful\":true,\"message\":\"Application submitted!\"}]}"
		"]}", first);
}

char *job_task(void)
{
	char *url = site_url("job/index.html");
	char *body = xasprintf("{\"url\":\"%s\",\"navigation_goal\":\"Apply for a job\","
			       "\"data_extraction_goal\":\"Was the job application successful?\","
			       "\"navigation_payload\":{\"name\":\"Chris P. Bacon\",\"email\":\"chris@pbacon.com\"}}", url);

	free(url);
	return body;
}

void agent_suite_init(struct test_org *org, const char *name)
{
	llm_double_start();
	agent_tests_clear_queue();
	test_org_new(org, name);
}

struct test_org suite_org;

void agent_suite_setup(void)
{
	agent_suite_init(&suite_org, program_invocation_short_name);
}

void agent_suite_fini(void)
{
	agents_stop_all();
	llm_double_stop();
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

/* What wait_final and wait_status poll: the task, and the status wanted (NULL: any final one). */
struct task_poll {
	const char *key;
	char path[128];
	const char *status;
	json_object *task;       /* the last answer */
};

static bool task_polled(void *arg)
{
	struct task_poll *tp = arg;
	struct resp *r = api_get(tp->path, tp->key);
	const char *st = jstr(r->json, "status");
	bool hit;

	if (tp->status)
		hit = st && strcmp(st, tp->status) == 0;
	else
		hit = st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0 &&
		      strcmp(st, "created") != 0;
	json_object_put(tp->task);
	tp->task = json_object_get(r->json);
	resp_free(r);
	return hit;
}

static bool task_poll(const char *key, const char *id, const char *status, int timeout_s,
		      json_object **task)
{
	struct task_poll tp = { .key = key, .status = status };
	bool hit;

	snprintf(tp.path, sizeof(tp.path), "/api/v1/tasks/%s", id);
	hit = wait_until(task_polled, &tp, timeout_s * 1000);
	if (task)
		*task = tp.task;
	else
		json_object_put(tp.task);
	return hit;
}

json_object *wait_final(const char *key, const char *id, int timeout_s)
{
	json_object *t = NULL;

	cr_assert(task_poll(key, id, NULL, timeout_s, &t), "task %s did not finish within %d s: %s", id,
		  timeout_s, t ? json_object_to_json_string(t) : "(no answer)");
	return t;
}

bool wait_status(const char *key, const char *id, const char *status, int timeout_s)
{
	return task_poll(key, id, status, timeout_s, NULL);
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

char *start_task(const struct task_run *run, pid_t *agent)
{
	pid_t pid;

	if (run->script)
		llm_double_script(run->script);
	pid = agent_start(run->overrides);
	if (agent)
		*agent = pid;
	return post_task(run->key, run->body, run->headers);
}

json_object *run_task(const struct task_run *run, char **id_out)
{
	char *id = start_task(run, NULL);
	json_object *t = wait_final(run->key, id, run->timeout_s > 0 ? run->timeout_s : 240);

	if (id_out)
		*id_out = id;
	else
		free(id);
	return t;
}
