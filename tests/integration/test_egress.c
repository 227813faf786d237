/*
 * The browser's egress proxy (agent/egress.h).
 *
 * Suite egress: the proxy alone, over real loopback sockets.  A "secret"
 * service listens on 127.0.0.2 and [::1] (both loopback on Linux, neither
 * allow-listed) and counts connections; allowed fixtures listen on
 * 127.0.0.1, allow-listed as 127.0.0.1/32.  DNS rebinding is tested here
 * with a resolver the test controls (egress_opts.resolve): Chromium sends
 * names to its proxy unresolved, so the proxy's resolver is the only one
 * that matters, and no system resolver on a test machine can be made to
 * answer one name differently from one call to the next.
 *
 * Suite egress_browser: a real sextant-agent and Chromium on the fixture
 * page tests/sites/egress/, which aims every kind of request a page can
 * make at the secret service; it must see zero connections, and the steps
 * must record each refusal.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "agentctl.h"
#include "buf.h"
#include "client.h"
#include "egress.h"
#include "ssrf.h"
#include "timeutil.h"

/* ---- a counting TCP service ------------------------------------------------ */

struct server {
	int fd, port;
	const char *answer;
	atomic_int accepted;
	atomic_int stop;
	char last[4096];           /* the last request head received */
	pthread_t thread;
};

static void *server_main(void *arg)
{
	struct server *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		char buf[4096] = "";
		size_t n = 0;
		int c;

		if (poll(&p, 1, 100) <= 0)
			continue;
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		atomic_fetch_add(&s->accepted, 1);
		while (n < sizeof(buf) - 1) {
			struct pollfd q = { c, POLLIN, 0 };
			ssize_t r;

			/* After the head, a short wait for a body that follows it. */
			if (poll(&q, 1, strstr(buf, "\r\n\r\n") ? 300 : 2000) <= 0)
				break;
			r = read(c, buf + n, sizeof(buf) - 1 - n);
			if (r <= 0)
				break;
			n += (size_t)r;
			buf[n] = '\0';
		}
		buf[n] = '\0';
		memcpy(s->last, buf, n + 1);
		if (write(c, s->answer, strlen(s->answer)) < 0)
			perror("write");
		close(c);
	}
	return NULL;
}

/* Listens on addr ("127.0.0.2", "::1") and port (0: any free one). */
static bool server_start(struct server *s, const char *addr, int port, const char *answer)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;

	memset(s, 0, sizeof(*s));
	memset(&ss, 0, sizeof(ss));
	s->answer = answer;
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		cr_assert_eq(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		cr_assert_eq(inet_pton(AF_INET, addr, &a->sin_addr), 1);
		sl = sizeof(*a);
	}
	s->fd = socket(ss.ss_family, SOCK_STREAM, 0);
	cr_assert_geq(s->fd, 0);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&ss, sl) != 0) {
		close(s->fd);
		return false;
	}
	cr_assert_eq(listen(s->fd, 64), 0);
	cr_assert_eq(getsockname(s->fd, (struct sockaddr *)&ss, &sl), 0);
	s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						  : ((struct sockaddr_in *)&ss)->sin_port);
	cr_assert_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
	return true;
}

static void server_stop(struct server *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static const char ok_answer[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
static const char secret_answer[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecret";

/* ---- a client of the proxy --------------------------------------------------- */

static int proxy_connect(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Reads until the peer closes (or 10 s pass); caller frees. */
static char *read_all(int fd)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = xmalloc(cap + 1);
	int64_t until = sx_mono_ms() + 10000;

	while (n < cap && sx_mono_ms() < until) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, 200) <= 0)
			continue;
		r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return buf;
}

/* Sends request through the proxy on port; returns everything answered. */
static char *through(int port, const char *request)
{
	int fd = proxy_connect(port);
	char *answer;

	cr_assert_eq(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	answer = read_all(fd);
	close(fd);
	return answer;
}

static struct egress *proxy_start(const char *allow, const char *upstream, egress_resolve_fn resolve)
{
	struct egress_opts o = { .allow = allow, .upstream = upstream, .task_id = "test", .resolve = resolve };
	struct egress *e = NULL;

	cr_assert_eq(egress_start(&o, &e), SX_OK);
	return e;
}

/* True when refusals (an egress_take_refusals() array) name host:port. */
static bool refusal_has(json_object *refusals, const char *host, int port)
{
	for (size_t i = 0; i < json_object_array_length(refusals); i++) {
		json_object *r = json_object_array_get_idx(refusals, i), *p;

		if (strcmp(jstr(r, "host"), host) == 0 && json_object_object_get_ex(r, "port", &p) &&
		    json_object_get_int(p) == port)
			return true;
	}
	return false;
}

TestSuite(egress, .timeout = 60);

Test(egress, refused_destinations_get_403_and_are_recorded)
{
	struct server v4, v6;
	struct egress *e = proxy_start("127.0.0.1/32", NULL, NULL);
	char *req[4], *answer;
	json_object *refusals;

	cr_assert(server_start(&v4, "127.0.0.2", 0, secret_answer));
	cr_assert(server_start(&v6, "::1", 0, secret_answer));
	req[0] = xasprintf("GET http://127.0.0.2:%d/metrics HTTP/1.1\r\nHost: 127.0.0.2:%d\r\n\r\n", v4.port, v4.port);
	req[1] = xasprintf("CONNECT 127.0.0.2:%d HTTP/1.1\r\n\r\n", v4.port);
	req[2] = xasprintf("CONNECT [::1]:%d HTTP/1.1\r\n\r\n", v6.port);
	req[3] = xasprintf("GET http://[::1]:%d/ HTTP/1.1\r\n\r\n", v6.port);
	for (size_t i = 0; i < SX_ARRAY_LEN(req); i++) {
		answer = through(egress_port(e), req[i]);
		cr_assert(strncmp(answer, "HTTP/1.1 403 ", 13) == 0, "%s -> %s", req[i], answer);
		cr_assert(strstr(answer, "a loopback address"), "%s", answer);
		free(answer);
		free(req[i]);
	}
	cr_assert_eq(atomic_load(&v4.accepted), 0, "the secret service on 127.0.0.2 was reached");
	cr_assert_eq(atomic_load(&v6.accepted), 0, "the secret service on ::1 was reached");
	cr_assert_eq(egress_refused_total(e), 4);
	refusals = egress_take_refusals(e);
	cr_assert_eq(json_object_array_length(refusals), 2, "%s", json_object_to_json_string(refusals));
	cr_assert(refusal_has(refusals, "127.0.0.2", v4.port));
	cr_assert(refusal_has(refusals, "::1", v6.port));
	cr_assert_str_eq(jstr(json_object_array_get_idx(refusals, 0), "address"), "127.0.0.2");
	json_object_put(refusals);
	refusals = egress_take_refusals(e);
	cr_assert_eq(json_object_array_length(refusals), 0, "taking empties the list");
	json_object_put(refusals);
	egress_free(e);
	server_stop(&v4);
	server_stop(&v6);
}

Test(egress, allowed_request_is_forwarded_in_origin_form)
{
	struct server fx;
	struct egress *e = proxy_start("127.0.0.1/32", NULL, NULL);
	char *req, *answer;

	cr_assert(server_start(&fx, "127.0.0.1", 0, ok_answer));
	req = xasprintf("POST http://127.0.0.1:%d/form?a=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			"Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic eDp5\r\n"
			"Content-Length: 3\r\n\r\nk=v", fx.port, fx.port);
	answer = through(egress_port(e), req);
	cr_assert(strstr(answer, "\r\n\r\nok"), "%s", answer);
	cr_assert_eq(atomic_load(&fx.accepted), 1);
	cr_assert(strncmp(fx.last, "POST /form?a=1 HTTP/1.1\r\n", 25) == 0, "%s", fx.last);
	cr_assert(strstr(fx.last, "Connection: close\r\n"), "%s", fx.last);
	cr_assert_null(strstr(fx.last, "Proxy-"), "%s", fx.last);
	cr_assert(strstr(fx.last, "\r\n\r\nk=v"), "the body did not follow the head: %s", fx.last);
	free(answer);
	free(req);
	egress_free(e);
	server_stop(&fx);
}

Test(egress, tunnel_relays_bytes_both_ways)
{
	struct server fx;
	struct egress *e = proxy_start("127.0.0.1/32", NULL, NULL);
	char *req, *answer;
	int fd;

	cr_assert(server_start(&fx, "127.0.0.1", 0, ok_answer));
	fd = proxy_connect(egress_port(e));
	req = xasprintf("CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
			"GET /inside HTTP/1.1\r\n\r\n", fx.port, fx.port);
	cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	answer = read_all(fd);
	cr_assert(strncmp(answer, "HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK\r\n", 56) == 0,
		  "%s", answer);
	cr_assert(strncmp(fx.last, "GET /inside HTTP/1.1\r\n", 22) == 0, "%s", fx.last);
	close(fd);
	free(answer);
	free(req);
	egress_free(e);
	server_stop(&fx);
}

/*
 * The test resolver: "rebind.test" answers 127.0.0.1 (allowed) the first
 * time and 127.0.0.2 (refused) after; other names go to ssrf_resolve.
 */
static atomic_int rebind_calls;

static enum sx_rc rebinding_resolve(const char *host, unsigned port, const struct ssrf_allow *allow,
				    struct sockaddr_storage *out, char *why, size_t whylen)
{
	struct sockaddr_in *a = (struct sockaddr_in *)out;
	const char *what = NULL;
	int n;

	if (strcmp(host, "rebind.test") != 0)
		return ssrf_resolve(host, port, allow, out, why, whylen);
	n = atomic_fetch_add(&rebind_calls, 1);
	memset(out, 0, sizeof(*out));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, n == 0 ? "127.0.0.1" : "127.0.0.2", &a->sin_addr);
	if (ssrf_check_addr((struct sockaddr *)out, allow, &what) != SX_OK) {
		snprintf(why, whylen, "refused: %s resolves to %s (%s)", host, what, n == 0 ? "127.0.0.1" : "127.0.0.2");
		return SX_EBLOCKED;
	}
	return SX_OK;
}

Test(egress, rebinding_name_is_pinned_to_the_checked_address)
{
	struct server fx, secret;
	struct egress *e = proxy_start("127.0.0.1/32", NULL, rebinding_resolve);
	char *req, *answer;

	/* The same port on both addresses: a second lookup would land on the secret. */
	cr_assert(server_start(&fx, "127.0.0.1", 0, ok_answer));
	cr_assert(server_start(&secret, "127.0.0.2", fx.port, secret_answer), "127.0.0.2:%d is taken", fx.port);
	req = xasprintf("GET http://rebind.test:%d/ HTTP/1.1\r\nHost: rebind.test:%d\r\n\r\n", fx.port, fx.port);
	answer = through(egress_port(e), req);
	cr_assert(strstr(answer, "\r\n\r\nok"), "%s", answer);
	cr_assert_eq(atomic_load(&rebind_calls), 1, "the name was resolved %d times for one request",
		     atomic_load(&rebind_calls));
	cr_assert_eq(atomic_load(&fx.accepted), 1);
	free(answer);
	/* Rebound: the next request sees the new answer, checks it, and is refused. */
	answer = through(egress_port(e), req);
	cr_assert(strncmp(answer, "HTTP/1.1 403 ", 13) == 0, "%s", answer);
	cr_assert_eq(atomic_load(&secret.accepted), 0, "the rebound name reached the secret service");
	free(answer);
	free(req);
	egress_free(e);
	server_stop(&fx);
	server_stop(&secret);
}

Test(egress, bad_and_oversized_heads)
{
	struct egress *e = proxy_start("127.0.0.1/32", NULL, NULL);
	struct sx_buf big;
	char *answer;

	answer = through(egress_port(e), "GET /origin-form HTTP/1.1\r\n\r\n");
	cr_assert(strncmp(answer, "HTTP/1.1 400 ", 13) == 0, "%s", answer);
	free(answer);
	answer = through(egress_port(e), "GET http://user:pw@127.0.0.1/ HTTP/1.1\r\n\r\n");
	cr_assert(strncmp(answer, "HTTP/1.1 400 ", 13) == 0, "%s", answer);
	free(answer);
	sx_buf_init(&big, 1 << 20);
	cr_assert_eq(sx_buf_puts(&big, "GET http://127.0.0.1/ HTTP/1.1\r\n"), SX_OK);
	while (big.len < 20000)
		cr_assert_eq(sx_buf_puts(&big, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"), SX_OK);
	answer = through(egress_port(e), sx_buf_str(&big));
	cr_assert(strncmp(answer, "HTTP/1.1 431 ", 13) == 0, "%.40s", answer);
	free(answer);
	sx_buf_release(&big);
	egress_free(e);
}

Test(egress, upstream_proxy_gets_connect_and_absolute_form_with_credentials)
{
	static const char tunnel_ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	struct server up, fwd, secret;
	struct egress *e;
	char *url, *req, *answer;

	cr_assert(server_start(&up, "127.0.0.1", 0, tunnel_ok));
	cr_assert(server_start(&fwd, "127.0.0.1", 0, ok_answer));
	cr_assert(server_start(&secret, "127.0.0.2", 0, secret_answer));
	url = xasprintf("http://sx-user:s3cret-pw@127.0.0.1:%d", up.port);
	e = proxy_start("127.0.0.1/32", url, NULL);
	free(url);

	/* A tunnel: the upstream is asked for the destination by name, with the credentials. */
	req = xasprintf("CONNECT 127.0.0.1:4443 HTTP/1.1\r\n\r\n");
	answer = through(egress_port(e), req);
	cr_assert(strncmp(answer, "HTTP/1.1 200 ", 13) == 0, "%s", answer);
	cr_assert(strncmp(up.last, "CONNECT 127.0.0.1:4443 HTTP/1.1\r\n", 33) == 0, "%s", up.last);
	/* base64("sx-user:s3cret-pw") */
	cr_assert(strstr(up.last, "Proxy-Authorization: Basic c3gtdXNlcjpzM2NyZXQtcHc=\r\n"), "%s", up.last);
	free(answer);
	free(req);
	egress_free(e);

	/* Plain HTTP: the absolute form goes to the upstream. */
	url = xasprintf("http://sx-user:s3cret-pw@127.0.0.1:%d", fwd.port);
	e = proxy_start("127.0.0.1/32", url, NULL);
	free(url);
	answer = through(egress_port(e), "GET http://127.0.0.1:8081/p HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n");
	cr_assert(strstr(answer, "\r\n\r\nok"), "%s", answer);
	cr_assert(strncmp(fwd.last, "GET http://127.0.0.1:8081/p HTTP/1.1\r\n", 38) == 0, "%s", fwd.last);
	cr_assert(strstr(fwd.last, "Proxy-Authorization: Basic c3gtdXNlcjpzM2NyZXQtcHc=\r\n"), "%s", fwd.last);
	free(answer);

	/* A refused destination never reaches the upstream. */
	req = xasprintf("GET http://127.0.0.2:%d/ HTTP/1.1\r\n\r\n", secret.port);
	answer = through(egress_port(e), req);
	cr_assert(strncmp(answer, "HTTP/1.1 403 ", 13) == 0, "%s", answer);
	cr_assert_eq(atomic_load(&fwd.accepted), 1, "the refused request went to the upstream");
	cr_assert_eq(atomic_load(&secret.accepted), 0);
	free(answer);
	free(req);
	egress_free(e);
	server_stop(&up);
	server_stop(&fwd);
	server_stop(&secret);
}

/* ---- the browser ------------------------------------------------------------- */

static struct test_org org;

static void browser_setup(void)
{
	agent_suite_init(&org, "egress");
}

static void browser_teardown(void)
{
	agent_suite_fini();
}

TestSuite(egress_browser, .init = browser_setup, .fini = browser_teardown, .timeout = 300);

/* The kinds of request the fixture page makes, each to its own secret port. */
static const char *const kinds[] = { "img", "script", "iframe", "fetch", "xhr", "ws", "form",
				     "redirect", "sw", "link", "goto" };
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* Every egress_refused entry of every step of task id, in one array (caller puts). */
static json_object *step_refusals(const char *id)
{
	char *path = xasprintf("/api/v1/tasks/%s/steps", id);
	struct resp *r = api_get(path, org.key);
	json_object *all = json_object_new_array(), *steps = r->json;

	cr_assert(r->status == 200 && steps && json_object_is_type(steps, json_type_array), "%s", r->body);
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *out, *ref;

		if (!json_object_object_get_ex(json_object_array_get_idx(steps, i), "output", &out) ||
		    !json_object_object_get_ex(out, "egress_refused", &ref))
			continue;
		for (size_t j = 0; j < json_object_array_length(ref); j++)
			json_object_array_add(all, json_object_get(json_object_array_get_idx(ref, j)));
	}
	resp_free(r);
	free(path);
	return all;
}

Test(egress_browser, every_request_kind_is_refused_and_recorded)
{
	struct server secret[NKINDS], v6, redirector;
	char *redirect_answer, *query, *script, *body, *id;
	json_object *t, *refusals;
	int total = 0;

	for (size_t i = 0; i < NKINDS; i++)
		cr_assert(server_start(&secret[i], "127.0.0.2", 0, secret_answer));
	cr_assert(server_start(&v6, "::1", 0, secret_answer));
	redirect_answer = xasprintf("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:%d/redirected\r\n"
				    "Content-Length: 0\r\nConnection: close\r\n\r\n", secret[7].port);
	cr_assert(server_start(&redirector, "127.0.0.1", 0, redirect_answer));
	query = xasprintf("host=127.0.0.2&v6=%d&img=%d&script=%d&iframe=%d&fetch=%d&xhr=%d&ws=%d&form=%d"
			  "&redirect=http%%3A%%2F%%2F127.0.0.1%%3A%d%%2Fr&sw=%d&link=%d",
			  v6.port, secret[0].port, secret[1].port, secret[2].port, secret[3].port,
			  secret[4].port, secret[5].port, secret[6].port, redirector.port, secret[8].port,
			  secret[9].port);
	script = xasprintf(
		"{\"rules\":["
		" {\"kind\":\"decide\",\"answers\":[{\"actions\":["
		"   {\"action\":\"wait\",\"seconds\":2},"
		"   {\"action\":\"click\",\"label\":\"Secret link\"},"
		"   {\"action\":\"goto_url\",\"url\":\"http://127.0.0.2:%d/goto\"},"
		"   {\"action\":\"complete\"}]}]},"
		" {\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"done\"}]}]}",
		secret[10].port);
	llm_double_script(script);
	agent_start("outbound_allow = 127.0.0.1/32\nmax_retries_per_step = 0\n");
	body = xasprintf("{\"url\":\"%s/sites/egress/index.html?%s\",\"navigation_goal\":\"Probe\"}",
			 tenv("SX_URL"), query);
	id = post_task(org.key, body, NULL);
	t = wait_final(org.key, id, 180);
	cr_assert_str_eq(jstr(t, "status"), "completed", "%s", json_object_to_json_string(t));

	for (size_t i = 0; i < NKINDS; i++)
		total += atomic_load(&secret[i].accepted);
	total += atomic_load(&v6.accepted);
	cr_assert_eq(total, 0, "the secret service saw %d connections", total);
	cr_assert_eq(atomic_load(&redirector.accepted), 1, "the allowed redirector was not reached");

	refusals = step_refusals(id);
	for (size_t i = 0; i < NKINDS; i++) {
		bool seen = refusal_has(refusals, "127.0.0.2", secret[i].port);

		/* Best effort: headless Chromium may not install a service worker. */
		if (strcmp(kinds[i], "sw") == 0)
			cr_log_info("service worker fetch %s", seen ? "refused and recorded" : "not triggered");
		else
			cr_expect(seen, "no refusal recorded for %s (port %d): %s", kinds[i], secret[i].port,
				  json_object_to_json_string(refusals));
	}
	cr_expect(refusal_has(refusals, "::1", v6.port), "no refusal recorded for [::1]: %s",
		  json_object_to_json_string(refusals));
	json_object_put(refusals);
	json_object_put(t);
	free(id);
	free(body);
	free(script);
	free(query);
	for (size_t i = 0; i < NKINDS; i++)
		server_stop(&secret[i]);
	server_stop(&v6);
	server_stop(&redirector);
	free(redirect_answer);
}

Test(egress_browser, refused_start_url_fails_the_task)
{
	struct server secret;
	struct resp *r;
	char *body, *id;
	json_object *t;
	const char *reason;

	cr_assert(server_start(&secret, "127.0.0.2", 0, secret_answer));
	/* A literal private address is refused when the task is created. */
	body = xasprintf("{\"url\":\"http://127.0.0.2:%d/metrics\",\"navigation_goal\":\"x\"}", secret.port);
	r = api_post_json("/api/v1/tasks", org.key, body);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert(strstr(r->body, "127.0.0.2 is a loopback address"), "%s", r->body);
	resp_free(r);
	free(body);
	r = api_post_json("/api/v1/tasks", org.key, "{\"url\":\"http://[::1]:9/\",\"navigation_goal\":\"x\"}");
	cr_assert_eq(r->status, 400, "%s", r->body);
	resp_free(r);

	/*
	 * Full-width digits pass the API as a name, and the browser reads them
	 * as 127.0.0.2: the egress guard is what stops it, and the task fails.
	 */
	llm_double_script("{\"rules\":[{\"kind\":\"decide\",\"answers\":[{\"actions\":[{\"action\":\"complete\"}]}]},"
		      "{\"kind\":\"verify\",\"answers\":[{\"goal_achieved\":true,\"reasoning\":\"x\"}]}]}");
	agent_start("outbound_allow = 127.0.0.1/32\n");
	body = xasprintf("{\"url\":\"http://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.\xef\xbc\x90.\xef\xbc\x90."
			 "\xef\xbc\x92:%d/metrics\",\"navigation_goal\":\"Read the metrics\"}", secret.port);
	id = post_task(org.key, body, NULL);
	t = wait_final(org.key, id, 180);
	cr_assert_str_eq(jstr(t, "status"), "failed", "%s", json_object_to_json_string(t));
	reason = jstr(t, "failure_reason");
	cr_assert(reason && strstr(reason, "The start URL was refused") && strstr(reason, "127.0.0.2"),
		  "%s", reason ? reason : "(null)");
	cr_assert_eq(atomic_load(&secret.accepted), 0, "the secret service was reached");
	json_object_put(t);
	free(id);
	free(body);
	server_stop(&secret);
}
