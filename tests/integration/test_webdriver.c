/*
 * The WebDriver client against a real chromedriver and headless Chromium.
 * Every test starts its own driver and session (browser.h), uses only local
 * pages (file:// under the harness's directory, or a one-page server on
 * 127.0.0.1), and removes everything afterwards.  The screenshot tests put
 * tests/doubles/webdriver_nocdp.py in front of the driver, to see which
 * route a screenshot takes and to be an endpoint without the CDP one.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <time.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "sx.h"
#include "browser.h"
#include "http.h"
#include "log.h"
#include "procs.h"
#include "wait.h"
#include "chromedriver.h"
#include "doubles.h"
#include "webdriver.h"

static struct test_browser br;

/* What live_in_group counts: the live processes of a group. */
struct group_count {
	pid_t pgid;
	int live;
};

static bool count_member(const struct proc_info *p, void *arg)
{
	struct group_count *g = arg;

	g->live += p->pgrp == g->pgid;
	return true;
}

/* The processes of group pgid that are not zombies. */
static int live_in_group(pid_t pgid)
{
	struct group_count g = { pgid, 0 };

	proc_each(count_member, &g);
	return g.live;
}

static bool group_gone(void *arg)
{
	return live_in_group(*(pid_t *)arg) == 0;
}

/*
 * Waits up to five seconds for group pgid to have no live process:
 * SIGKILLed orphans are reparented to an init that may be slow to reap
 * them (or, in a container, never does), so kill(-pgid, 0) alone would
 * still see them.
 */
static void assert_group_gone(pid_t pgid)
{
	cr_assert(wait_until(group_gone, &pgid, 5000), "%d processes of group %d still live",
		  live_in_group(pgid), (int)pgid);
}

static void write_page(const char *name, const char *html)
{
	browser_write(&br, name, html);
}

/* The file:// URL of a page written by write_page; caller frees. */
static char *page_url(const char *name)
{
	return browser_file_url(&br, name);
}

static void setup(void)
{
	browser_start(&br, "webdriver", 1024, 768, 20000);
}

static void teardown(void)
{
	browser_stop(&br);
}

static void navigate_to(const char *name)
{
	char *url = page_url(name);

	cr_assert_eq(webdriver_navigate(br.ses, url), SX_OK, "navigate: %s", webdriver_last_error(br.ses));
	free(url);
}

/* Runs script with no arguments and returns its string result (caller frees). */
static char *eval_string(const char *script)
{
	json_object *r = NULL;
	char *s;

	cr_assert_eq(webdriver_execute(br.ses, script, NULL, &r), SX_OK, "%s", webdriver_last_error(br.ses));
	cr_assert(json_object_is_type(r, json_type_string));
	s = xstrdup(json_object_get_string(r));
	json_object_put(r);
	return s;
}

static void free_handles(char **h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(h[i]);
	free(h);
}

TestSuite(webdriver, .init = setup, .fini = teardown, .timeout = 60);

Test(webdriver, navigate_reads_title_and_url)
{
	char *url = page_url("a.html"), *got = NULL, *title = NULL;

	write_page("a.html", "<!doctype html><title>Sextant page A</title><p>hello</p>");
	cr_assert_eq(webdriver_navigate(br.ses, url), SX_OK, "%s", webdriver_last_error(br.ses));
	cr_assert_eq(webdriver_title(br.ses, &title), SX_OK);
	cr_assert_str_eq(title, "Sextant page A");
	cr_assert_eq(webdriver_current_url(br.ses, &got), SX_OK);
	cr_assert_str_eq(got, url);
	cr_assert_str_eq(webdriver_last_error(br.ses), "");
	free(title);
	free(got);
	free(url);
}

/*
 * A one-page HTTP server on a loopback port the kernel picks: the listening
 * socket exists before the browser is pointed at it, so there is no start-up
 * race.  It answers every connection with the page until stopped.
 */
struct tiny_server {
	int fd;
	int port;
	pthread_t th;
	volatile int stop;
};

static void *tiny_serve(void *arg)
{
	static const char page[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
		"Content-Length: 46\r\n\r\n<!doctype html><title>Served over HTTP</title>";
	struct tiny_server *t = arg;

	while (!t->stop) {
		char buf[4096];
		int c = accept(t->fd, NULL, NULL);

		struct timeval tv = { 0, 300 * 1000 };

		if (c < 0)
			continue;
		/* Chromium opens spare connections it may never use: do not wait on one. */
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (read(c, buf, sizeof(buf)) > 0 && write(c, page, sizeof(page) - 1) < 0)
			t->stop = t->stop;
		close(c);
	}
	return NULL;
}

static void tiny_start(struct tiny_server *t)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	memset(t, 0, sizeof(*t));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(t->fd >= 0);
	cr_assert_eq(bind(t->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(t->fd, 16), 0);
	cr_assert_eq(getsockname(t->fd, (struct sockaddr *)&a, &alen), 0);
	t->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&t->th, NULL, tiny_serve, t), 0);
}

static void tiny_stop(struct tiny_server *t)
{
	t->stop = 1;
	shutdown(t->fd, SHUT_RDWR);
	close(t->fd);
	pthread_join(t->th, NULL);
}

Test(webdriver, navigate_over_http_to_a_local_server)
{
	struct tiny_server srv;
	char *url = NULL, *title = NULL;
	enum sx_rc rc;

	tiny_start(&srv);
	url = xasprintf("http://127.0.0.1:%d/served.html", srv.port);
	rc = webdriver_navigate(br.ses, url);
	if (rc == SX_OK)
		rc = webdriver_title(br.ses, &title);
	tiny_stop(&srv);
	cr_assert_eq(rc, SX_OK, "%s", webdriver_last_error(br.ses));
	cr_assert_str_eq(title, "Served over HTTP");
	free(title);
	free(url);
}

Test(webdriver, execute_returns_number_string_element_and_null)
{
	json_object *r = NULL, *args = json_object_new_array();

	write_page("x.html", "<!doctype html><title>x</title><div id=box>box</div>");
	navigate_to("x.html");
	cr_assert_eq(webdriver_execute(br.ses, "return 40 + 2;", NULL, &r), SX_OK);
	cr_assert(json_object_is_type(r, json_type_int));
	cr_assert_eq(json_object_get_int(r), 42);
	json_object_put(r);

	json_object_array_add(args, json_object_new_string("hi"));
	cr_assert_eq(webdriver_execute(br.ses, "return arguments[0] + '!';", args, &r), SX_OK);
	cr_assert_str_eq(json_object_get_string(r), "hi!");
	json_object_put(r);
	/* The arguments were not consumed: the caller still owns them. */
	cr_assert_eq(json_object_array_length(args), 1);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(args, 0)), "hi");

	cr_assert_eq(webdriver_execute(br.ses, "return document.getElementById('box');", NULL, &r), SX_OK);
	cr_assert_not_null(webdriver_element_id(r));
	{
		/* An element reference goes back in as an argument. */
		json_object *a2 = json_object_new_array(), *r2 = NULL;

		json_object_array_add(a2, webdriver_element_ref(webdriver_element_id(r)));
		cr_assert_eq(webdriver_execute(br.ses, "return arguments[0].id;", a2, &r2), SX_OK);
		cr_assert_str_eq(json_object_get_string(r2), "box");
		json_object_put(r2);
		json_object_put(a2);
	}
	json_object_put(r);

	cr_assert_eq(webdriver_execute(br.ses, "return null;", NULL, &r), SX_OK);
	cr_assert_null(r);
	json_object_put(args);
}

Test(webdriver, script_error_is_a_webdriver_error)
{
	json_object *r = NULL, *args = NULL;

	write_page("x.html", "<!doctype html><title>x</title>");
	navigate_to("x.html");
	cr_assert_eq(webdriver_execute(br.ses, "throw new Error('boom');", NULL, &r), SX_EWEBDRIVER);
	cr_assert_null(r);
	cr_assert(strstr(webdriver_last_error(br.ses), "javascript error") != NULL, "%s", webdriver_last_error(br.ses));
	/* Args that are not an array are refused before anything is sent. */
	args = json_object_new_object();
	cr_assert_eq(webdriver_execute(br.ses, "return 1;", args, &r), SX_EINVAL);
	json_object_put(args);
}

Test(webdriver, send_keys_clear_and_press_key)
{
	char *el = NULL, *v;
	json_object *r = NULL;

	write_page("form.html",
		   "<!doctype html><title>form</title><input id=name>"
		   "<script>window.keys=[];document.addEventListener('keydown',"
		   "function(e){window.keys.push(e.key);});</script>");
	navigate_to("form.html");
	cr_assert_eq(webdriver_find_css(br.ses, "#name", &el), SX_OK, "%s", webdriver_last_error(br.ses));
	cr_assert_eq(webdriver_element_send_keys(br.ses, el, "Ada Lovelace"), SX_OK);
	v = eval_string("return document.querySelector('#name').value;");
	cr_assert_str_eq(v, "Ada Lovelace");
	free(v);
	cr_assert_eq(webdriver_element_clear(br.ses, el), SX_OK);
	v = eval_string("return document.querySelector('#name').value;");
	cr_assert_str_eq(v, "");
	free(v);
	/* U+E007 is WebDriver's Enter; the focused input receives it. */
	cr_assert_eq(webdriver_execute(br.ses, "window.keys = [];", NULL, &r), SX_OK);
	cr_assert_eq(webdriver_press_key(br.ses, "\xee\x80\x87"), SX_OK, "%s", webdriver_last_error(br.ses));
	cr_assert_eq(webdriver_press_key(br.ses, "q"), SX_OK);
	v = eval_string("return window.keys.join(',');");
	cr_assert_str_eq(v, "Enter,q");
	free(v);
	free(el);
}

Test(webdriver, click_changes_text)
{
	char *btn = NULL, *v;

	write_page("click.html",
		   "<!doctype html><title>click</title><p id=out>before</p>"
		   "<button id=go onclick=\"document.getElementById('out').textContent='after'\">"
		   "Go</button>");
	navigate_to("click.html");
	cr_assert_eq(webdriver_find_css(br.ses, "#go", &btn), SX_OK);
	cr_assert_eq(webdriver_element_click(br.ses, btn), SX_OK, "%s", webdriver_last_error(br.ses));
	v = eval_string("return document.getElementById('out').textContent;");
	cr_assert_str_eq(v, "after");
	free(v);
	free(btn);
}

Test(webdriver, screenshot_is_a_png)
{
	unsigned char *png = NULL;
	size_t len = 0;
	static const unsigned char magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	write_page("shot.html",
		   "<!doctype html><title>shot</title><body style=\"margin:0;height:100vh;"
		   "background:linear-gradient(45deg,red,blue)\"><h1>Screenshot</h1></body>");
	navigate_to("shot.html");
	cr_assert_eq(webdriver_screenshot(br.ses, &png, &len), SX_OK, "%s", webdriver_last_error(br.ses));
	cr_assert_gt(len, 1000);
	cr_assert_eq(memcmp(png, magic, sizeof(magic)), 0);
	/* IHDR carries the viewport size, which is non-zero. */
	cr_assert_gt(png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19], 0);
	free(png);
}

Test(webdriver, iframe_switch_and_back)
{
	char *frame = NULL, *inner = NULL, *v, *missing = NULL;

	write_page("frames.html",
		   "<!doctype html><title>frames</title><p id=top>top</p>"
		   "<iframe id=f srcdoc=\"<p id=inner>inside the frame</p>\"></iframe>");
	navigate_to("frames.html");
	cr_assert_eq(webdriver_find_css(br.ses, "#f", &frame), SX_OK);
	/* The srcdoc document is not in the top document. */
	cr_assert_eq(webdriver_find_css(br.ses, "#inner", &missing), SX_ENOTFOUND);
	cr_assert_null(missing);
	cr_assert_eq(webdriver_switch_frame(br.ses, frame), SX_OK, "%s", webdriver_last_error(br.ses));
	cr_assert_eq(webdriver_find_css(br.ses, "#inner", &inner), SX_OK, "%s", webdriver_last_error(br.ses));
	v = eval_string("return document.getElementById('inner').textContent;");
	cr_assert_str_eq(v, "inside the frame");
	free(v);
	cr_assert_eq(webdriver_switch_parent_frame(br.ses), SX_OK);
	v = eval_string("return document.getElementById('top').textContent;");
	cr_assert_str_eq(v, "top");
	free(v);
	cr_assert_eq(webdriver_switch_frame(br.ses, frame), SX_OK);
	cr_assert_eq(webdriver_switch_frame(br.ses, NULL), SX_OK);
	v = eval_string("return document.title;");
	cr_assert_str_eq(v, "frames");
	free(v);
	free(inner);
	free(frame);
}

/* The session's window handles, read again at each poll until there are two. */
struct windows {
	char **h;
	size_t n;
};

static bool two_windows(void *arg)
{
	struct windows *w = arg;

	free_handles(w->h, w->n);
	w->h = NULL;
	w->n = 0;
	cr_assert_eq(webdriver_window_handles(br.ses, &w->h, &w->n), SX_OK, "%s", webdriver_last_error(br.ses));
	return w->n == 2;
}

/* The current window's title, read again at each poll until it is `want`. */
struct title_wait {
	const char *want;
	char *got;
};

static bool title_is(void *arg)
{
	struct title_wait *t = arg;

	free(t->got);
	t->got = NULL;
	cr_assert_eq(webdriver_title(br.ses, &t->got), SX_OK, "%s", webdriver_last_error(br.ses));
	return strcmp(t->got, t->want) == 0;
}

Test(webdriver, target_blank_opens_a_window_to_switch_to)
{
	char *link = NULL, *first = NULL, *cur = NULL, *title = NULL, *other = NULL;
	struct windows w = { NULL, 0 };
	struct title_wait tw = { "the popup", NULL };

	write_page("opener.html",
		   "<!doctype html><title>opener</title><a id=l href=\"popup.html\" "
		   "target=_blank>open</a>");
	write_page("popup.html", "<!doctype html><title>the popup</title>");
	navigate_to("opener.html");
	cr_assert_eq(webdriver_current_window(br.ses, &first), SX_OK);
	cr_assert_eq(webdriver_find_css(br.ses, "#l", &link), SX_OK);
	cr_assert_eq(webdriver_element_click(br.ses, link), SX_OK);
	cr_assert(wait_until(two_windows, &w, 5000), "%zu windows after the click, want 2", w.n);
	other = xstrdup(strcmp(w.h[0], first) == 0 ? w.h[1] : w.h[0]);
	cr_assert_str_neq(other, first);
	cr_assert_eq(webdriver_switch_window(br.ses, other), SX_OK);
	cr_assert_eq(webdriver_current_window(br.ses, &cur), SX_OK);
	cr_assert_str_eq(cur, other);
	/* The new window may still be loading; its title settles quickly. */
	cr_assert(wait_until(title_is, &tw, 5000), "the popup's title is '%s'", tw.got);
	cr_assert_eq(webdriver_close_window(br.ses), SX_OK);
	cr_assert_eq(webdriver_title(br.ses, &title), SX_ENOTFOUND, "closed window: %s", webdriver_last_error(br.ses));
	cr_assert_eq(webdriver_switch_window(br.ses, first), SX_OK);
	cr_assert_eq(webdriver_title(br.ses, &title), SX_OK);
	cr_assert_str_eq(title, "opener");
	free_handles(w.h, w.n);
	free(tw.got);
	free(title);
	free(cur);
	free(other);
	free(link);
	free(first);
}

Test(webdriver, switch_to_an_unknown_window_is_not_found)
{
	char *title = NULL;

	write_page("w.html", "<!doctype html><title>w</title>");
	navigate_to("w.html");
	cr_assert_eq(webdriver_switch_window(br.ses, "no-such-handle"), SX_ENOTFOUND, "%s", webdriver_last_error(br.ses));
	/* The session stays on its window. */
	cr_assert_eq(webdriver_title(br.ses, &title), SX_OK, "%s", webdriver_last_error(br.ses));
	cr_assert_str_eq(title, "w");
	free(title);
}

Test(webdriver, stale_and_unknown_elements_are_not_found)
{
	char *el = NULL;

	write_page("s1.html", "<!doctype html><title>s1</title><button id=b>b</button>");
	write_page("s2.html", "<!doctype html><title>s2</title>");
	navigate_to("s1.html");
	cr_assert_eq(webdriver_find_css(br.ses, "#b", &el), SX_OK);
	navigate_to("s2.html");
	cr_assert_eq(webdriver_element_click(br.ses, el), SX_ENOTFOUND);
	cr_assert_str_neq(webdriver_last_error(br.ses), "");
	cr_assert_eq(webdriver_element_click(br.ses, "f.0.d.0.e.999999"), SX_ENOTFOUND,
		     "%s", webdriver_last_error(br.ses));
	cr_assert_str_neq(webdriver_last_error(br.ses), "");
	/* An id with URL syntax in it stays one path segment. */
	cr_assert_eq(webdriver_element_click(br.ses, "../../window?x=1#y"), SX_ENOTFOUND,
		     "%s", webdriver_last_error(br.ses));
	free(el);
	cr_assert_eq(webdriver_find_css(br.ses, "#nothing-here", &el), SX_ENOTFOUND);
	cr_assert_null(el);
}

static bool driver_dead(void *arg)
{
	return !chromedriver_alive(arg);
}

Test(webdriver, killed_driver_gives_esession)
{
	char *title = NULL;
	pid_t pid = chromedriver_pid(br.drv), pgid = getpgid(pid);
	time_t t0 = time(NULL);

	write_page("k.html", "<!doctype html><title>k</title>");
	navigate_to("k.html");
	cr_assert(chromedriver_alive(br.drv));
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(webdriver_title(br.ses, &title), SX_ESESSION, "%s", webdriver_last_error(br.ses));
	cr_assert_null(title);
	cr_assert_str_neq(webdriver_last_error(br.ses), "");
	cr_assert_eq(webdriver_navigate(br.ses, "about:blank"), SX_ESESSION);
	cr_assert_lt(time(NULL) - t0, 10);
	/* The watchdog notices within moments and takes the browser down. */
	cr_assert(wait_until(driver_dead, br.drv, 5000), "the driver is still alive 5 s after its kill");
	/* No browser outlives its chromedriver, even before chromedriver_stop. */
	webdriver_session_delete(br.ses);
	webdriver_session_free(br.ses);
	br.ses = NULL;
	assert_group_gone(pgid);
	chromedriver_stop(br.drv);
	br.drv = NULL;
}

Test(webdriver, stop_leaves_no_process_behind)
{
	pid_t pgid = getpgid(chromedriver_pid(br.drv));

	/* chromedriver and the browser it launched share one group, not ours. */
	cr_assert_neq(pgid, getpgrp());
	cr_assert_gt(live_in_group(pgid), 2);
	chromedriver_stop(br.drv);
	br.drv = NULL;
	assert_group_gone(pgid);
}

/*
 * A server that accepts connections (the kernel completes the handshake
 * from the backlog) but never answers: the page load must end in the
 * driver's own "timeout", mapped to SX_ETIMEOUT, well before our HTTP grace.
 */
Test(webdriver, page_load_timeout_is_etimeout)
{
	struct webdriver_session *quick = NULL;
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof(sa);
	char *url = NULL;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	time_t t0;

	cr_assert(fd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 16), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	url = xasprintf("http://127.0.0.1:%d/hang", ntohs(sa.sin_port));
	quick = browser_session(&br, "profile2", 0, 0, 2000);
	t0 = time(NULL);
	cr_assert_eq(webdriver_navigate(quick, url), SX_ETIMEOUT, "%s", webdriver_last_error(quick));
	cr_assert_lt(time(NULL) - t0, 7);
	cr_assert(strstr(webdriver_last_error(quick), "timeout") != NULL, "%s", webdriver_last_error(quick));
	webdriver_session_delete(quick);
	webdriver_session_free(quick);
	close(fd);
	free(url);
}

Test(webdriver_start, bad_path_fails_fast, .timeout = 60)
{
	struct chromedriver *d = (struct chromedriver *)1;
	time_t t0 = time(NULL);

	sx_log_init("test_webdriver", SX_LOG_WARN);
	http_global_init();
	cr_assert_neq(chromedriver_start("/nonexistent/chromedriver", 0, &d), SX_OK);
	cr_assert_null(d);
	cr_assert_lt(time(NULL) - t0, 10);
	cr_assert_eq(chromedriver_start(NULL, 0, &d), SX_EINVAL);
	cr_assert_eq(chromedriver_start("/usr/bin/chromedriver", 70000, &d), SX_EINVAL);
}

Test(webdriver_start, session_on_a_dead_endpoint_is_esession, .timeout = 60)
{
	struct webdriver_options opt = { 0 };
	struct webdriver_session *s = (struct webdriver_session *)1;

	sx_log_init("test_webdriver", SX_LOG_WARN);
	http_global_init();
	/* Port 1 on loopback: nothing listens there. */
	opt.endpoint = "http://127.0.0.1:1/";
	opt.timeout_ms = 2000;
	cr_assert_eq(webdriver_session_new(&opt, &s), SX_ESESSION);
	cr_assert_null(s);
}

/* How many commands the WebDriver double received whose path holds what, with method. */
static size_t commands_to(const struct test_double *d, const char *method, const char *what)
{
	json_object *reqs = test_double_requests(d);
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		json_object *r = json_object_array_get_idx(reqs, i), *m, *p;

		if (json_object_object_get_ex(r, "method", &m) && json_object_object_get_ex(r, "path", &p) &&
		    strcmp(json_object_get_string(m), method) == 0 && strstr(json_object_get_string(p), what))
			n++;
	}
	json_object_put(reqs);
	return n;
}

/*
 * Takes two screenshots through the WebDriver double in front of the test's
 * chromedriver (cdp: whether the double lets the CDP route through) and
 * leaves the double running for the caller to read and stop.
 */
/*
 * Starts the WebDriver double in front of the test's chromedriver (cdp:
 * whether it lets the CDP route through) and a session through it, with
 * its own profile directory; the caller deletes the session and stops d.
 */
static struct webdriver_session *session_through(struct test_double *d, bool cdp, const char *profile)
{
	struct webdriver_options opt = { 0 };
	struct webdriver_session *s = NULL;
	char *script = xasprintf("{\"upstream\":\"%s\",\"cdp\":%s}", chromedriver_url(br.drv),
				 cdp ? "true" : "false");
	char *dir = xasprintf("%s/%s", br.root, profile);

	test_double_start(d, "webdriver_nocdp.py", 0);
	test_double_script(d, script);
	cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s", dir);
	opt.endpoint = d->url;
	opt.user_data_dir = dir;
	opt.timeout_ms = 20000;
	opt.no_sandbox = geteuid() == 0;  /* as tests/integration/browser.c */
	cr_assert_eq(webdriver_session_new(&opt, &s), SX_OK);
	free(dir);
	free(script);
	return s;
}

static void two_screenshots_through(struct test_double *d, bool cdp, const char *profile)
{
	struct webdriver_session *s = session_through(d, cdp, profile);
	unsigned char *png = NULL;
	size_t len = 0;
	char *url;

	write_page("nocdp.html", "<!doctype html><title>nocdp</title><h1>Screenshots</h1>");
	url = page_url("nocdp.html");
	cr_assert_eq(webdriver_navigate(s, url), SX_OK, "%s", webdriver_last_error(s));
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(webdriver_screenshot(s, &png, &len), SX_OK, "%s", webdriver_last_error(s));
		cr_assert(len > 8 && memcmp(png, "\x89PNG", 4) == 0);
		free(png);
	}
	webdriver_session_delete(s);
	webdriver_session_free(s);
	free(url);
}

/* Against chromedriver, screenshots go through its CDP endpoint, never the W3C command. */
Test(webdriver, screenshot_through_the_cdp_endpoint)
{
	struct test_double d;

	two_screenshots_through(&d, true, "cdp");
	cr_assert_eq(commands_to(&d, "POST", "/goog/cdp/execute"), 2);
	cr_assert_eq(commands_to(&d, "GET", "/screenshot"), 0);
	test_double_stop(&d);
}

/*
 * A WebDriver endpoint without chromedriver's CDP route (the double answers
 * "unknown command" there): the first screenshot falls back to W3C Take
 * Screenshot, and the session does not ask the CDP route again.
 */
Test(webdriver, screenshot_without_cdp_endpoint_takes_the_w3c_one)
{
	struct test_double d;

	two_screenshots_through(&d, false, "nocdp");
	cr_assert_eq(commands_to(&d, "POST", "/goog/cdp/execute"), 1, "the CDP route was asked again");
	cr_assert_eq(commands_to(&d, "GET", "/screenshot"), 2);
	test_double_stop(&d);
}

/*
 * Types "Ada é" into a focused field and clicks a checkbox at its centre,
 * through the WebDriver double (cdp: whether it lets the CDP route through);
 * the page sees the value and the box checked.  Returns the keys its
 * keydown listener saw, comma-separated (caller frees); the double is left
 * running for the caller to read.
 */
static char *type_and_click_through(struct test_double *d, bool cdp, const char *profile)
{
	struct webdriver_session *s = session_through(d, cdp, profile);
	char *url, *el = NULL, *box = NULL, *keys;
	json_object *r = NULL;

	write_page("typing.html", "<!doctype html><title>typing</title><input id=name>"
		   "<input id=box type=checkbox style='position:absolute;left:40px;top:80px;width:20px;height:20px'>"
		   "<script>window.keys=[];document.getElementById('name').addEventListener('keydown',"
		   "function(e){window.keys.push(e.key);});</script>");
	url = page_url("typing.html");
	cr_assert_eq(webdriver_navigate(s, url), SX_OK, "%s", webdriver_last_error(s));
	cr_assert_eq(webdriver_find_css(s, "#name", &el), SX_OK, "%s", webdriver_last_error(s));
	cr_assert_eq(webdriver_find_css(s, "#box", &box), SX_OK, "%s", webdriver_last_error(s));
	cr_assert_eq(webdriver_execute(s, "document.getElementById('name').focus();", NULL, NULL), SX_OK);
	cr_assert_eq(webdriver_type_focused(s, el, "Ada \xc3\xa9"), SX_OK, "%s", webdriver_last_error(s));
	cr_assert_eq(webdriver_click_at(s, box, 50, 90), SX_OK, "%s", webdriver_last_error(s));
	cr_assert_eq(webdriver_execute(s, "return [document.getElementById('name').value, window.keys.join(','),"
				       " document.getElementById('box').checked];", NULL, &r), SX_OK);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(r, 0)), "Ada \xc3\xa9");
	keys = xstrdup(json_object_get_string(json_object_array_get_idx(r, 1)));
	cr_assert(json_object_get_boolean(json_object_array_get_idx(r, 2)), "the box is checked");
	json_object_put(r);
	webdriver_session_delete(s);
	webdriver_session_free(s);
	free(el);
	free(box);
	free(url);
	return keys;
}

/* Typing inserts all but the last character and presses the last key; a click lands at its point. */
Test(webdriver, type_focused_and_click_at_through_cdp)
{
	struct test_double d;

	char *keys = type_and_click_through(&d, true, "typecdp");

	cr_assert_str_eq(keys, "\xc3\xa9", "one key press, the last character's");
	cr_assert_eq(commands_to(&d, "POST", "/value"), 0, "no Element Send Keys");
	cr_assert_eq(commands_to(&d, "POST", "/click"), 0, "no Element Click");
	test_double_stop(&d);
	free(keys);
}

/* Without the CDP route, the same calls are Element Send Keys and Element Click. */
Test(webdriver, type_focused_and_click_at_without_cdp)
{
	struct test_double d;

	char *keys = type_and_click_through(&d, false, "typenocdp");

	cr_assert_gt(strlen(keys), 6, "a key press per character: %s", keys);
	cr_assert_eq(commands_to(&d, "POST", "/value"), 1);
	cr_assert_eq(commands_to(&d, "POST", "/click"), 1);
	test_double_stop(&d);
	free(keys);
}

/*
 * One character goes as a key press alone (no insertText first): without
 * the CDP route that press is refused as unknown, and the character is
 * typed by Element Send Keys instead, once.
 */
Test(webdriver, one_character_without_cdp_is_typed_by_send_keys)
{
	struct test_double d;
	struct webdriver_session *s = session_through(&d, false, "onechar");
	char *url, *el = NULL;
	json_object *r = NULL;

	write_page("onechar.html", "<!doctype html><title>onechar</title><input id=name>");
	url = page_url("onechar.html");
	cr_assert_eq(webdriver_navigate(s, url), SX_OK, "%s", webdriver_last_error(s));
	cr_assert_eq(webdriver_find_css(s, "#name", &el), SX_OK, "%s", webdriver_last_error(s));
	cr_assert_eq(webdriver_execute(s, "document.getElementById('name').focus();", NULL, NULL), SX_OK);
	cr_assert_eq(webdriver_type_focused(s, el, "x"), SX_OK, "%s", webdriver_last_error(s));
	cr_assert_eq(webdriver_execute(s, "return document.getElementById('name').value;", NULL, &r), SX_OK);
	cr_assert_str_eq(json_object_get_string(r), "x");
	cr_assert_eq(commands_to(&d, "POST", "/goog/cdp/execute"), 1, "the CDP route was asked again");
	cr_assert_eq(commands_to(&d, "POST", "/value"), 1);
	json_object_put(r);
	webdriver_session_delete(s);
	webdriver_session_free(s);
	test_double_stop(&d);
	free(el);
	free(url);
}

static unsigned png_width(const unsigned char *png)
{
	return (unsigned)png[16] << 24 | (unsigned)png[17] << 16 | (unsigned)png[18] << 8 | png[19];
}

/*
 * The model's copy of a screenshot, scaled down (Chrome's own scaled
 * capture) on a page scrolled far down; a width at or above the viewport's
 * is the screenshot as taken.
 */
Test(webdriver, screenshot_scaled_to_a_width)
{
	unsigned char *png = NULL, *full = NULL;
	size_t len = 0, flen = 0;

	write_page("long.html", "<!doctype html><title>long</title><body style=\"margin:0\">"
		   "<div style=\"height:3000px;background:red\"></div>"
		   "<div style=\"height:3000px;background:blue\"></div></body>");
	navigate_to("long.html");
	free(eval_string("window.scrollTo(0, 3500); return String(window.scrollY);"));
	cr_assert_eq(webdriver_screenshot(br.ses, &full, &flen), SX_OK, "%s", webdriver_last_error(br.ses));
	cr_assert_eq(webdriver_screenshot_width(br.ses, 400, &png, &len), SX_OK, "%s",
		     webdriver_last_error(br.ses));
	cr_assert_eq(memcmp(png, "\x89PNG", 4), 0);
	cr_assert_eq(png_width(png), 400, "scaled to %u wide", png_width(png));
	cr_assert_gt(png_width(full), 400);
	free(png);
	cr_assert_eq(webdriver_screenshot_width(br.ses, 7680, &png, &len), SX_OK);
	cr_assert_eq(png_width(png), png_width(full), "a wider limit keeps the screenshot as taken");
	free(png);
	free(full);
}
