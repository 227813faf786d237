/*
 * The SSRF guard end to end through http_perform(): real sockets, a
 * listener this test runs on loopback, and the guard deciding whether the
 * request may reach it.  Every address here is loopback: the machine's
 * network forbids anything else, and the guard is what is under test.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "client.h"
#include "http.h"
#include "ssrf.h"

/* A loopback HTTP listener that answers `answer` to each connection. */
struct listener {
	int fd;
	int port;
	const char *answer;
	pthread_t thread;
	int accepted;                  /* connections accepted */
	char request[4096];            /* the last request's head */
	struct sockaddr_storage local; /* the address the last connection reached */
};

static void *listener_main(void *arg)
{
	struct listener *l = arg;

	for (;;) {
		socklen_t sl = sizeof(l->local);
		int c = accept(l->fd, NULL, NULL);
		size_t n = 0;

		if (c < 0)
			break;
		l->accepted++;
		getsockname(c, (struct sockaddr *)&l->local, &sl);
		while (n < sizeof(l->request) - 1) {
			ssize_t r = read(c, l->request + n, sizeof(l->request) - 1 - n);

			if (r <= 0)
				break;
			n += (size_t)r;
			l->request[n] = '\0';
			if (strstr(l->request, "\r\n\r\n"))
				break;
		}
		if (write(c, l->answer, strlen(l->answer)) < 0)
			perror("write");
		close(c);
	}
	return NULL;
}

/* Listens on addr (host order, e.g. INADDR_LOOPBACK), on a free port. */
static void listener_start_on(struct listener *l, const char *answer, uint32_t addr)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	memset(l, 0, sizeof(*l));
	l->answer = answer;
	l->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(l->fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(addr);
	cr_assert_eq(bind(l->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(l->fd, 16), 0);
	cr_assert_eq(getsockname(l->fd, (struct sockaddr *)&a, &al), 0);
	l->port = ntohs(a.sin_port);
}

static void listener_start(struct listener *l, const char *answer)
{
	listener_start_on(l, answer, INADDR_LOOPBACK);
}

/* Serves in a thread (for requests that should get through). */
static void listener_serve(struct listener *l)
{
	cr_assert_eq(pthread_create(&l->thread, NULL, listener_main, l), 0);
}

/* True when a connection is waiting in the backlog (for requests that should not). */
static bool listener_pending(struct listener *l, int wait_ms)
{
	struct pollfd p = { l->fd, POLLIN, 0 };

	return poll(&p, 1, wait_ms) > 0;
}

static void listener_stop(struct listener *l)
{
	shutdown(l->fd, SHUT_RDWR);
	if (l->thread)
		pthread_join(l->thread, NULL);
	close(l->fd);
}

static const char ok_answer[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

static enum sx_rc get(const char *url, const char *allow, struct http_response *res)
{
	struct http_client *c = http_client_new();
	struct http_request req = { .method = "GET", .url = url, .timeout_ms = 5000,
				    .guarded = true, .allow = allow };
	enum sx_rc rc = http_perform(c, &req, res);

	http_client_free(c);
	return rc;
}

static void init(void)
{
	http_global_init();
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
}

TestSuite(ssrf, .init = init, .timeout = 60);

Test(ssrf, loopback_refused_and_nothing_sent)
{
	struct listener l;
	struct http_response res;
	char *url, *name_url;

	listener_start(&l, ok_answer);
	url = xasprintf("http://127.0.0.1:%d/hook", l.port);
	name_url = xasprintf("http://localhost:%d/hook", l.port);

	cr_assert_eq(get(url, "", &res), SX_EBLOCKED, "%s", res.error);
	cr_assert_str_eq(res.error, "refused: 127.0.0.1 resolves to a loopback address (127.0.0.1)");
	cr_assert_eq(res.status, 0);
	http_response_release(&res);

	/* A name for loopback, and an allow list that names other addresses only. */
	cr_assert_eq(get(name_url, "10.0.0.0/8,fd00::/8", &res), SX_EBLOCKED, "%s", res.error);
	cr_assert(strstr(res.error, "refused: localhost resolves to a loopback address"), "%s", res.error);
	http_response_release(&res);

	/* The IPv4-mapped spelling of loopback, as an IPv6 literal. */
	free(url);
	url = xasprintf("http://[::ffff:127.0.0.1]:%d/hook", l.port);
	cr_assert_eq(get(url, NULL, &res), SX_EBLOCKED, "%s", res.error);
	cr_assert(strstr(res.error, "a loopback address"), "%s", res.error);
	http_response_release(&res);

	/* The listener never saw a connection. */
	cr_assert_not(listener_pending(&l, 300), "a refused request reached the listener");
	listener_stop(&l);
	free(url);
	free(name_url);
}

Test(ssrf, allow_listed_loopback_goes_through)
{
	struct listener l;
	struct http_response res;
	char *url;

	listener_start(&l, ok_answer);
	listener_serve(&l);
	url = xasprintf("http://127.0.0.1:%d/hook?x=1", l.port);
	cr_assert_eq(get(url, "127.0.0.0/8", &res), SX_OK, "%s", res.error);
	cr_assert_eq(res.status, 200);
	cr_assert_eq(res.body.len, 2);
	cr_assert(memcmp(res.body.data, "ok", 2) == 0);
	http_response_release(&res);
	listener_stop(&l);
	cr_assert_eq(l.accepted, 1);
	cr_assert(strncmp(l.request, "GET /hook?x=1 HTTP/1.1\r\n", 24) == 0, "%s", l.request);
	free(url);
}

Test(ssrf, name_pinned_to_the_checked_address)
{
	struct listener l;
	struct http_response res;
	struct sockaddr_storage checked;
	char why[256], want[64], got[64], host[64];
	struct ssrf_allow *allow = NULL;
	char *url;

	listener_start(&l, ok_answer);
	listener_serve(&l);
	/* What the guard checks for this name is what the connection must reach. */
	cr_assert_eq(ssrf_allow_parse("127.0.0.0/8", &allow, why, sizeof(why)), SX_OK);
	cr_assert_eq(ssrf_resolve("localhost", (unsigned)l.port, allow, &checked, why, sizeof(why)), SX_OK,
		     "%s", why);
	ssrf_allow_free(allow);
	ssrf_addr_text((struct sockaddr *)&checked, want, sizeof(want));
	cr_assert_str_eq(want, "127.0.0.1", "this test assumes localhost is 127.0.0.1 first");

	url = xasprintf("http://localhost:%d/pinned", l.port);
	cr_assert_eq(get(url, "127.0.0.0/8", &res), SX_OK, "%s", res.error);
	cr_assert_eq(res.status, 200);
	http_response_release(&res);
	listener_stop(&l);
	cr_assert_eq(l.accepted, 1);
	ssrf_addr_text((struct sockaddr *)&l.local, got, sizeof(got));
	cr_assert_str_eq(got, want);
	/* The pin changes where curl connects, not what it asks for. */
	snprintf(host, sizeof(host), "Host: localhost:%d\r\n", l.port);
	cr_assert(strstr(l.request, host), "%s", l.request);
	free(url);
}

Test(ssrf, redirects_not_followed)
{
	struct listener target, first;
	struct http_response res;
	char *answer, *url;

	listener_start(&target, ok_answer);
	answer = xasprintf("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/\r\n"
			   "Content-Length: 0\r\nConnection: close\r\n\r\n", target.port);
	listener_start(&first, answer);
	listener_serve(&first);
	url = xasprintf("http://127.0.0.1:%d/", first.port);
	cr_assert_eq(get(url, "127.0.0.0/8", &res), SX_OK, "%s", res.error);
	cr_assert_eq(res.status, 302);
	http_response_release(&res);
	listener_stop(&first);
	cr_assert_not(listener_pending(&target, 300), "the redirect was followed");
	listener_stop(&target);
	free(url);
	free(answer);
}

Test(ssrf, schemes_and_userinfo_refused)
{
	struct listener l;
	struct http_response res;
	char *url;

	listener_start(&l, ok_answer);
	cr_assert_eq(get("file:///etc/passwd", "127.0.0.0/8", &res), SX_EBLOCKED);
	cr_assert(strstr(res.error, "only http and https"), "%s", res.error);
	http_response_release(&res);
	cr_assert_eq(get("gopher://127.0.0.1:70/", "127.0.0.0/8", &res), SX_EBLOCKED);
	http_response_release(&res);
	/* user:pass@ makes a URL read as one host and go to another: refused even when allowed. */
	url = xasprintf("http://trusted.example:x@127.0.0.1:%d/", l.port);
	cr_assert_eq(get(url, "127.0.0.0/8", &res), SX_EBLOCKED);
	cr_assert(strstr(res.error, "user:password"), "%s", res.error);
	http_response_release(&res);
	cr_assert_eq(get("not a url", "127.0.0.0/8", &res), SX_EBLOCKED);
	http_response_release(&res);
	/* A bad allow list refuses rather than opening up. */
	free(url);
	url = xasprintf("http://127.0.0.1:%d/", l.port);
	cr_assert_eq(get(url, "127.0.0.0/99", &res), SX_EBLOCKED);
	http_response_release(&res);
	cr_assert_not(listener_pending(&l, 300));
	listener_stop(&l);
	free(url);
}

Test(ssrf, environment_proxy_ignored)
{
	struct listener target, proxy;
	struct http_response res;
	char *env, *url;

	/* A proxy from the environment would connect for us, past the pin. */
	listener_start(&proxy, ok_answer);
	listener_start(&target, ok_answer);
	listener_serve(&target);
	env = xasprintf("http://127.0.0.1:%d", proxy.port);
	setenv("http_proxy", env, 1);
	url = xasprintf("http://127.0.0.1:%d/direct", target.port);
	cr_assert_eq(get(url, "127.0.0.0/8", &res), SX_OK, "%s", res.error);
	http_response_release(&res);
	listener_stop(&target);
	cr_assert_eq(target.accepted, 1);
	cr_assert_not(listener_pending(&proxy, 200), "the request went through http_proxy");
	listener_stop(&proxy);
	free(url);
	free(env);
}

/*
 * upload_file through a real agent: the file URL the model names is on
 * loopback.  Not allow-listed, the download is refused before anything is
 * sent and the task records why; allow-listed, the same download arrives.
 * The fixture page itself is on 127.0.0.1, which the browser's egress guard
 * must let through (127.0.0.1/32); the refused file is on 127.0.0.2.
 */
static struct test_org org;

static void agent_setup(void)
{
	init();
	agent_suite_init(&org, "ssrf");
}

static void agent_teardown(void)
{
	agent_suite_fini();
}

TestSuite(ssrf_agent, .init = agent_setup, .fini = agent_teardown, .timeout = 300);

static json_object *run_upload(struct listener *l, const char *host, const char *overrides)
{
	char *script = xasprintf(
		"{\"rules\":["
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":["
		"   {\"action\":\"upload_file\",\"label\":\"Upload resume\",\"url\":\"http://%s:%d/resume.pdf\"},"
		"   {\"action\":\"complete\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"uploaded\"}]}]}",
		host, l->port);
	char *body = xasprintf("{\"url\":\"%s/sites/job/index.html\",\"navigation_goal\":\"Upload the resume\"}",
			       tenv("SX_URL"));
	struct task_run run = { .key = org.key, .script = script, .body = body, .overrides = overrides };
	json_object *t = run_task(&run, NULL);

	free(body);
	free(script);
	return t;
}

Test(ssrf_agent, upload_from_loopback_refused)
{
	static const char pdf[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 8\r\n"
		"Connection: close\r\n\r\n%PDF-1.4";
	struct listener l;
	json_object *t;
	const char *reason;

	listener_start_on(&l, pdf, 0x7f000002);      /* 127.0.0.2 */
	t = run_upload(&l, "127.0.0.2", "max_retries_per_step = 0\noutbound_allow = \"127.0.0.1/32\"\n");
	cr_assert_str_eq(jstr(t, "status"), "failed", "%s", json_object_to_json_string(t));
	reason = jstr(t, "failure_reason");
	cr_assert(reason && strstr(reason, "refused: 127.0.0.2 resolves to a loopback address (127.0.0.2)") &&
		  !strstr(reason, "start URL"), "%s", reason ? reason : "(null)");
	cr_assert_not(listener_pending(&l, 200), "the refused download reached the listener");
	listener_stop(&l);
	json_object_put(t);
}

Test(ssrf_agent, upload_from_allow_listed_loopback)
{
	static const char pdf[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 8\r\n"
		"Connection: close\r\n\r\n%PDF-1.4";
	struct listener l;
	json_object *t;

	listener_start(&l, pdf);
	listener_serve(&l);
	t = run_upload(&l, "127.0.0.1", "max_retries_per_step = 0\noutbound_allow = \"127.0.0.0/8, ::1\"\n");
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));
	listener_stop(&l);
	cr_assert_eq(l.accepted, 1);
	cr_assert(strncmp(l.request, "GET /resume.pdf HTTP/1.1\r\n", 26) == 0, "%s", l.request);
	json_object_put(t);
}
