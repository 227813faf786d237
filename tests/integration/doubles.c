/*
 * The test doubles' harness (see doubles.h).
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "doubles.h"
#include "http.h"

#ifndef SRCDIR
#error "build with -DSRCDIR=\"/path/to/the/source/tree\""
#endif

struct test_double llm_double;
static char llm_base[128];

/* Reads the double's first line from fd and returns the port it names. */
static int read_port(int fd, const char *script)
{
	char buf[256];
	size_t got = 0;
	char *p;
	long long v = 0;

	memset(buf, 0, sizeof(buf));
	while (got < sizeof(buf) - 1 && !strchr(buf, '\n')) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	p = strstr(buf, "PORT=");
	cr_assert_not_null(p, "%s did not print its port: %s", script, buf);
	p[5 + strcspn(p + 5, "\r\n")] = '\0';
	cr_assert(sx_parse_ll(p + 5, 1, 65535, &v), "%s printed a bad port: %s", script, p);
	return (int)v;
}

void test_double_start(struct test_double *d, const char *script, int port)
{
	int fds[2];
	char arg[16];
	char *path = xasprintf("%s/tests/doubles/%s", SRCDIR, script);

	memset(d, 0, sizeof(*d));
	snprintf(arg, sizeof(arg), "%d", port);
	cr_assert_eq(pipe(fds), 0);
	d->pid = fork();
	cr_assert(d->pid >= 0, "fork failed");
	if (d->pid == 0) {
		/*
		 * No Criterion call here: with --full-stats even a passing
		 * assertion sends a message, and the runner rejects one from a
		 * process it did not start.
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execlp("python3", "python3", path, "--port", arg, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	d->port = read_port(fds[0], script);
	close(fds[0]);
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

	cr_assert_eq(rc, SX_OK, "double %s %s: %s", method, path, res.error);
	cr_assert_eq(res.status, 200, "double %s %s: %ld %s", method, path, res.status,
		     sx_buf_str(&res.body));
	out = xstrdup(sx_buf_str(&res.body));
	http_response_release(&res);
	http_client_free(c);
	free(url);
	return out;
}

void test_double_script(const struct test_double *d, const char *json)
{
	free(test_double_call(d, "POST", "/__script", json));
}

json_object *test_double_requests(const struct test_double *d)
{
	char *s = test_double_call(d, "GET", "/__requests", NULL);
	json_object *o = json_tokener_parse(s);

	cr_assert(o && json_object_is_type(o, json_type_array), "/__requests is not an array: %s", s);
	free(s);
	return o;
}

size_t test_double_count(const struct test_double *d)
{
	json_object *r = test_double_requests(d);
	size_t n = json_object_array_length(r);

	json_object_put(r);
	return n;
}

bool test_double_count_is(void *arg)
{
	const struct double_count *c = arg;

	return test_double_count(c->d) == c->n;
}

bool test_double_count_reached(void *arg)
{
	const struct double_count *c = arg;

	return test_double_count(c->d) >= c->n;
}

void webhook_receiver_start(struct test_double *d, int port)
{
	test_double_start(d, "webhook_receiver.py", port);
}

void totp_endpoint_start(struct test_double *d)
{
	test_double_start(d, "totp_endpoint.py", 0);
}

const char *llm_double_start(void)
{
	test_double_start(&llm_double, "llm_double.py", 0);
	snprintf(llm_base, sizeof(llm_base), "%s/v1", llm_double.url);
	return llm_base;
}

void llm_double_stop(void)
{
	test_double_stop(&llm_double);
}

const char *llm_double_base(void)
{
	return llm_base;
}

void llm_double_script(const char *json)
{
	test_double_script(&llm_double, json);
}

json_object *llm_double_requests(void)
{
	return test_double_requests(&llm_double);
}

/* A string member of o, or NULL. */
static const char *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

size_t llm_double_asked(const char *kind, const char *text)
{
	json_object *reqs = llm_double_requests();
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		json_object *r = json_object_array_get_idx(reqs, i);
		const char *k = member(r, "kind"), *user = member(r, "user");

		if (kind && (!k || strcmp(k, kind) != 0))
			continue;
		if (text && (!user || !strstr(user, text)))
			continue;
		n++;
	}
	json_object_put(reqs);
	return n;
}

bool llm_double_was_asked(void *arg)
{
	const struct llm_ask *a = arg;

	return llm_double_asked(a->kind, a->text) >= a->min;
}
