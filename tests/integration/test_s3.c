/*
 * artifacts_backend = s3 against an S3-compatible server started here
 * (tests/doubles/s3_server.sh: s3rver from npm, on 127.0.0.1, standing in
 * for AWS S3 or MinIO): a real agent writes every artifact of a task to
 * the bucket and none to its disk; an API host configured for s3 (its own
 * sextant-api behind its own nginx, as on another machine) answers the
 * task's signed artifact URLs with a redirect to a presigned URL that the
 * store serves; a bad signature is still refused; `sextant-admin gc`
 * deletes the objects.
 */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "conf.h"
#include "db.h"
#include "http.h"
#include "s3.h"
#include "wait.h"

/* Ports of this program's range (SX_PORT's neighbours are other tests'). */
#define S3_PORT "31440"
#define S3_API_PORT "31442"
#define BUCKET "sextant-test"

static pid_t s3_pid, api_pid, nginx_pid;
static char *dir;

static const char overrides[] =
	"artifacts_backend = s3\n"
	"s3_endpoint = http://127.0.0.1:" S3_PORT "\n"
	"s3_bucket = " BUCKET "\n";

/* Forks argv in its own process group; its output goes to log. */
static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		FILE *f = freopen(log, "a", stdout);

		(void)f;
		dup2(STDOUT_FILENO, STDERR_FILENO);
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(-*pid, SIGTERM);
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

/* GETs url (no redirects followed) into res; the caller releases it. */
static void get(const char *url, struct http_response *res)
{
	struct http_client *hc = http_client_new();
	struct http_request req = { .method = "GET", .url = url, .timeout_ms = 10000 };

	cr_assert_eq(http_perform(hc, &req, res), SX_OK, "GET %s: %s", url, res->error);
	http_client_free(hc);
}

/* The status url answers with, 0 when none. */
static long status_of(const char *url)
{
	struct http_client *hc = http_client_new();
	struct http_request req = { .method = "GET", .url = url, .timeout_ms = 2000 };
	struct http_response res;
	long st = http_perform(hc, &req, &res) == SX_OK ? res.status : 0;

	http_response_release(&res);
	http_client_free(hc);
	return st;
}

static bool answers(void *url)
{
	return status_of(url) != 0;
}

static bool answers_ok(void *url)
{
	return status_of(url) == 200;
}

/* Writes the stack's config plus extra lines to path. */
static void write_conf(const char *path, const char *extra)
{
	FILE *in = fopen(tenv("SX_CONF"), "r"), *out = fopen(path, "w");
	char line[4096];

	cr_assert(in && out);
	while (fgets(line, sizeof(line), in)) {
		size_t k = strcspn(line, " =");

		if (!(k == 10 && strncmp(line, "api_socket", k) == 0) &&
		    !(k == 15 && strncmp(line, "public_base_url", k) == 0))
			fputs(line, out);
	}
	fputs(extra, out);
	fclose(in);
	fclose(out);
	chmod(path, 0600);
}

static void suite_init(void)
{
	char *s3dir, *log;

	agent_suite_setup();
	dir = xasprintf("%s/s3test", tenv("SX_VAR"));
	mkdir(dir, 0711);
	chmod(dir, 0711);
	s3dir = xasprintf("%s/objects", dir);
	log = xasprintf("%s/s3rver.log", dir);
	{
		char *script = xasprintf("%s/tests/doubles/s3_server.sh", tenv("SX_ROOT"));
		char *argv[] = { script, S3_PORT, s3dir, BUCKET, NULL };

		s3_pid = spawn(argv, log);
		free(script);
	}
	/* The first run installs s3rver from npm. */
	cr_assert(wait_until(answers, "http://127.0.0.1:" S3_PORT "/", 300 * 1000), "s3rver does not answer");
	setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
	free(s3dir);
	free(log);
}

/* An API host configured for s3: sextant-api on its own socket behind its own nginx. */
static void s3_api_start(void)
{
	char *conf = xasprintf("%s/api.conf", dir), *sock = xasprintf("%s/api.sock", dir);
	char *extra = xasprintf("%sapi_socket = %s\npublic_base_url = http://127.0.0.1:" S3_API_PORT "\n",
				overrides, sock);
	char *ngx = xasprintf("%s/nginx.conf", dir), *params = xasprintf("%s/fastcgi_params", dir);
	char *log = xasprintf("%s/api.log", dir), *api = xasprintf("%s/sextant-api", tenv("SX_ROOT"));
	FILE *f;

	write_conf(conf, extra);
	unlink(sock);
	{
		char *argv[] = { api, "--config", conf, NULL };

		api_pid = spawn(argv, log);
	}
	if (access(params, F_OK) != 0)
		cr_assert_eq(symlink("/etc/nginx/fastcgi_params", params), 0);
	f = fopen(ngx, "w");
	cr_assert_not_null(f);
	fprintf(f, "daemon off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/nginx-error.log warn;\n"
		"events { worker_connections 64; }\nhttp {\n access_log off;\n"
		" client_body_temp_path %s/cb; fastcgi_temp_path %s/fc; proxy_temp_path %s/px;\n"
		" scgi_temp_path %s/sc; uwsgi_temp_path %s/uw;\n include %s/nginx/sextant-keys.conf;\n"
		" limit_conn_zone $sextant_key_bucket zone=sextant_key_conn:1m;\n"
		" limit_req_zone $sextant_key_bucket zone=sextant_key_req:1m rate=100000r/s;\n"
		" upstream sextant_api { server unix:%s; }\n"
		" server { listen 127.0.0.1:" S3_API_PORT "; include %s/nginx/sextant-rules.conf; }\n}\n",
		dir, dir, dir, dir, dir, dir, dir, tenv("SX_ROOT"), sock, tenv("SX_ROOT"));
	fclose(f);
	{
		char *argv[] = { "nginx", "-c", ngx, "-p", dir, NULL };

		nginx_pid = spawn(argv, log);
	}
	cr_assert(wait_until(answers_ok, "http://127.0.0.1:" S3_API_PORT "/healthz", 30 * 1000),
		  "the s3 API host does not answer");
	free(conf);
	free(sock);
	free(extra);
	free(ngx);
	free(params);
	free(log);
	free(api);
}

static void suite_fini(void)
{
	stop(&nginx_pid);
	stop(&api_pid);
	stop(&s3_pid);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	agent_suite_fini();
	free(dir);
}

TestSuite(s3, .init = suite_init, .fini = suite_fini, .timeout = 600);

/* The config the agent ran with, for presigning in the test. */
static void s3_conf(struct sx_conf *c)
{
	sx_conf_defaults(c);
	free(c->artifacts_backend);
	c->artifacts_backend = xstrdup("s3");
	free(c->s3_endpoint);
	c->s3_endpoint = xstrdup("http://127.0.0.1:" S3_PORT);
	free(c->s3_bucket);
	c->s3_bucket = xstrdup(BUCKET);
}

/* The object rel's status in the store (200 with its bytes in *res, or 404). */
static long object_status(const struct sx_conf *c, const char *rel, struct http_response *res)
{
	char *url = s3_presign_get(c, rel, (long long)time(NULL), 60);

	cr_assert_not_null(url);
	get(url, res);
	free(url);
	return res->status;
}

/* Regular files in the task's directory on the agent's disk. */
static int local_files(const char *org, const char *task)
{
	struct sx_conf c;
	char err[256];
	char *path;
	DIR *d;
	struct dirent *e;
	int n = 0;

	cr_assert_eq(sx_conf_load(&c, tenv("SX_CONF"), err, sizeof(err)), SX_OK, "%s", err);
	path = xasprintf("%s/%s/%s", c.artifacts_dir, org, task);
	d = opendir(path);
	while (d && (e = readdir(d)))
		if (e->d_type == DT_REG)
			n++;
	if (d)
		closedir(d);
	free(path);
	sx_conf_release(&c);
	return n;
}

/* Every artifact row of the task and its object are still there. */
static void gc_rows_kept(const struct sx_conf *c, const char *task, const struct sx_rows *rows)
{
	struct sx_rows *now = db_rows1("SELECT path FROM artifacts WHERE task_id = ?", task);
	struct http_response res;

	cr_assert_eq(now->nrows, rows->nrows, "gc deleted rows whose objects it could not delete");
	for (size_t i = 0; i < rows->nrows; i++) {
		cr_assert_eq(object_status(c, sx_rows_get(rows, i, 0), &res), 200, "%s",
			     sx_rows_get(rows, i, 0));
		http_response_release(&res);
	}
	sx_rows_free(now);
}

/* Runs cmd through the shell; true when it exits 0.  out gets its stdout. */
static bool run_output(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;

	cr_assert_not_null(p);
	while (n + 1 < cap && fgets(out + n, (int)(cap - n), p))
		n = strlen(out);
	out[n] = '\0';
	return pclose(p) == 0;
}

Test(s3, artifacts_go_to_the_bucket_and_urls_redirect_to_presigned_ones)
{
	char *script = job_script(""), *body = job_task(), *id = NULL, *url;
	json_object *t = run_task(&(struct task_run){ .key = suite_org.key, .script = script, .body = body,
						      .overrides = overrides }, &id);
	struct sx_rows *rows;
	struct sx_conf c;
	struct http_response res;
	static const char bucket_url[] = "http://127.0.0.1:" S3_PORT "/" BUCKET "/";
	const char *shot, *q;
	char loc[2048];

	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	s3_conf(&c);
	rows = db_rows1("SELECT path, type FROM artifacts WHERE task_id = ?", id);
	cr_assert_gt(rows->nrows, 1);
	for (size_t i = 0; i < rows->nrows; i++) {
		cr_assert_eq(object_status(&c, sx_rows_get(rows, i, 0), &res), 200, "%s: %ld",
			     sx_rows_get(rows, i, 0), res.status);
		if (strcmp(sx_rows_get(rows, i, 1), "screenshot_final") == 0)
			cr_assert(strncmp(res.body.data, "\x89PNG", 4) == 0);
		http_response_release(&res);
	}
	cr_assert_eq(local_files(suite_org.id, id), 0, "artifacts were written to the agent's disk");

	/* Another API host, configured for s3, redirects the task's signed URL. */
	s3_api_start();
	shot = jstr(t, "screenshot_url");
	cr_assert_not_null(shot);
	q = strstr(shot, "/artifacts/");
	url = xasprintf("http://127.0.0.1:" S3_API_PORT "%s", q);
	get(url, &res);
	cr_assert_eq(res.status, 302, "GET %s: %ld %.*s", url, res.status, (int)res.body.len,
		     res.body.data ? res.body.data : "");
	cr_assert_not_null(res.location, "no Location in the redirect");
	snprintf(loc, sizeof(loc), "%s", res.location);
	http_response_release(&res);
	cr_assert(strncmp(loc, bucket_url, sizeof(bucket_url) - 1) == 0, "%s", loc);
	cr_assert(strstr(loc, "X-Amz-Signature=") && strstr(loc, "X-Amz-Expires=300"), "%s", loc);
	get(loc, &res);
	cr_assert_eq(res.status, 200);
	cr_assert(strncmp(res.body.data, "\x89PNG", 4) == 0);
	http_response_release(&res);
	free(url);

	/* A tampered signature (its last character changed) is still refused by our URL check. */
	url = xasprintf("http://127.0.0.1:" S3_API_PORT "%.*s%c", (int)(strlen(q) - 1), q,
			q[strlen(q) - 1] == '0' ? '1' : '0');
	get(url, &res);
	cr_assert_eq(res.status, 403);
	http_response_release(&res);
	free(url);

	/*
	 * gc keeps the rows whose objects it could not delete: without
	 * credentials, or with a store that does not answer, it stops (status
	 * 1); with an access key the store does not know, the store refuses
	 * each DELETE.  Every object and every row is still there each time.
	 * Then, with the right credentials, it deletes the objects.
	 */
	{
		char *conf = xasprintf("%s/admin.conf", dir), *down = xasprintf("%s/down.conf", dir);
		char *gc = xasprintf("'%s/sextant-admin' --config '%s' gc --days 0", tenv("SX_ROOT"), conf);
		char *cmd;
		char out[512];

		write_conf(conf, overrides);
		write_conf(down, "artifacts_backend = s3\ns3_endpoint = http://127.0.0.1:9\n"
			   "s3_bucket = " BUCKET "\n");
		cmd = xasprintf("env -u AWS_ACCESS_KEY_ID %s >/dev/null 2>&1", gc);
		cr_assert_eq(WEXITSTATUS(system(cmd)), 1, "gc without credentials did not fail");
		free(cmd);
		gc_rows_kept(&c, id, rows);
		cmd = xasprintf("'%s/sextant-admin' --config '%s' gc --days 0 >/dev/null 2>&1", tenv("SX_ROOT"),
				down);
		cr_assert_eq(WEXITSTATUS(system(cmd)), 1, "gc with the store down did not fail");
		free(cmd);
		gc_rows_kept(&c, id, rows);
		cmd = xasprintf("AWS_ACCESS_KEY_ID=unknown %s 2>/dev/null", gc);
		cr_assert(run_output(cmd, out, sizeof(out)), "%s", out);
		cr_assert(strstr(out, "artifacts_removed=0 ") && !strstr(out, "artifacts_kept=0"), "%s", out);
		free(cmd);
		gc_rows_kept(&c, id, rows);
		cmd = xasprintf("%s >/dev/null 2>&1", gc);
		cr_assert_eq(system(cmd), 0);
		free(cmd);
		free(gc);
		free(down);
		free(conf);
	}
	for (size_t i = 0; i < rows->nrows; i++) {
		cr_assert_eq(object_status(&c, sx_rows_get(rows, i, 0), &res), 404);
		http_response_release(&res);
	}
	sx_rows_free(rows);
	sx_conf_release(&c);
	json_object_put(t);
	free(id);
	free(body);
	free(script);
}
