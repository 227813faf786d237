/*
 * The WebDriver client against a real chromedriver and headless Chromium.
 * Every test starts its own driver on a free port with a fresh profile
 * directory under one mkdtemp root, uses only local pages (file:// or a
 * python3 http.server on 127.0.0.1), and removes everything afterwards.
 * SX_CHROMEDRIVER and SX_CHROMIUM override the binaries.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <pthread.h>
#include <sys/time.h>
#include <unistd.h>

#include "sx.h"
#include "http.h"
#include "log.h"
#include "chromedriver.h"
#include "webdriver.h"

static char root[64];
static struct chromedriver *drv;
static struct webdriver_session *ses;

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}


/*
 * Counts the processes of group pgid that are not zombies.  With settle,
 * waits up to five seconds for the count to reach zero: SIGKILLed orphans
 * are reparented to an init that may be slow to reap them (or, in a
 * container, never does), so kill(-pgid, 0) alone would still see them.
 */
static int live_in_group(pid_t pgid, bool settle)
{
	struct timespec pause = { 0, 100 * 1000000L };
	int live = 0;

	for (int tries = 0; tries < (settle ? 50 : 1); tries++) {
		DIR *proc = opendir("/proc");
		struct dirent *de;

		cr_assert_not_null(proc);
		live = 0;
		while ((de = readdir(proc))) {
			char path[300], line[512], *rp, state;
			int ppid, pg;
			FILE *f;

			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			if (fgets(line, sizeof(line), f) && (rp = strrchr(line, ')')) &&
			    sscanf(rp + 1, " %c %d %d", &state, &ppid, &pg) == 3 &&
			    pg == pgid && state != 'Z' && state != 'X')
				live++;
			fclose(f);
		}
		closedir(proc);
		if (live == 0)
			break;
		nanosleep(&pause, NULL);
	}
	return live;
}

static void write_page(const char *name, const char *html)
{
	char *path = xasprintf("%s/%s", root, name);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "cannot write %s", path);
	fputs(html, f);
	fclose(f);
	free(path);
}

/* The file:// URL of a page written by write_page; caller frees. */
static char *page_url(const char *name)
{
	return xasprintf("file://%s/%s", root, name);
}

static void setup(void)
{
	struct webdriver_options opt = { 0 };
	char *profile;

	sx_log_init("test_webdriver", SX_LOG_WARN);
	http_global_init();
	snprintf(root, sizeof(root), "/tmp/sx-wd-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	profile = xasprintf("%s/profile", root);
	cr_assert_eq(mkdir(profile, 0700), 0);
	cr_assert_eq(chromedriver_start(env_or("SX_CHROMEDRIVER", "/usr/bin/chromedriver"), 0, &drv),
		     SX_OK);
	opt.endpoint = chromedriver_url(drv);
	opt.chromium_path = env_or("SX_CHROMIUM", "/usr/bin/chromium");
	opt.user_data_dir = profile;
	opt.window_width = 1024;
	opt.window_height = 768;
	opt.timeout_ms = 20000;
	cr_assert_eq(webdriver_session_new(&opt, &ses), SX_OK);
	free(profile);
}

static void teardown(void)
{
	webdriver_session_delete(ses);
	webdriver_session_free(ses);
	ses = NULL;
	chromedriver_stop(drv);
	drv = NULL;
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	root[0] = '\0';
}

static void navigate_to(const char *name)
{
	char *url = page_url(name);

	cr_assert_eq(webdriver_navigate(ses, url), SX_OK, "navigate: %s", webdriver_last_error(ses));
	free(url);
}

/* Runs script with no arguments and returns its string result (caller frees). */
static char *eval_string(const char *script)
{
	json_object *r = NULL;
	char *s;

	cr_assert_eq(webdriver_execute(ses, script, NULL, &r), SX_OK, "%s", webdriver_last_error(ses));
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
	cr_assert_eq(webdriver_navigate(ses, url), SX_OK, "%s", webdriver_last_error(ses));
	cr_assert_eq(webdriver_title(ses, &title), SX_OK);
	cr_assert_str_eq(title, "Sextant page A");
	cr_assert_eq(webdriver_current_url(ses, &got), SX_OK);
	cr_assert_str_eq(got, url);
	cr_assert_str_eq(webdriver_last_error(ses), "");
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
	rc = webdriver_navigate(ses, url);
	if (rc == SX_OK)
		rc = webdriver_title(ses, &title);
	tiny_stop(&srv);
	cr_assert_eq(rc, SX_OK, "%s", webdriver_last_error(ses));
	cr_assert_str_eq(title, "Served over HTTP");
	free(title);
	free(url);
}

Test(webdriver, execute_returns_number_string_element_and_null)
{
	json_object *r = NULL, *args = json_object_new_array();

	write_page("x.html", "<!doctype html><title>x</title><div id=box>box</div>");
	navigate_to("x.html");
	cr_assert_eq(webdriver_execute(ses, "return 40 + 2;", NULL, &r), SX_OK);
	cr_assert(json_object_is_type(r, json_type_int));
	cr_assert_eq(json_object_get_int(r), 42);
	json_object_put(r);

	json_object_array_add(args, json_object_new_string("hi"));
	cr_assert_eq(webdriver_execute(ses, "return arguments[0] + '!';", args, &r), SX_OK);
	cr_assert_str_eq(json_object_get_string(r), "hi!");
	json_object_put(r);
	/* The arguments were not consumed: the caller still owns them. */
	cr_assert_eq(json_object_array_length(args), 1);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(args, 0)), "hi");

	cr_assert_eq(webdriver_execute(ses, "return document.getElementById('box');", NULL, &r), SX_OK);
	cr_assert_not_null(webdriver_element_id(r));
	{
		/* An element reference goes back in as an argument. */
		json_object *a2 = json_object_new_array(), *r2 = NULL;

		json_object_array_add(a2, webdriver_element_ref(webdriver_element_id(r)));
		cr_assert_eq(webdriver_execute(ses, "return arguments[0].id;", a2, &r2), SX_OK);
		cr_assert_str_eq(json_object_get_string(r2), "box");
		json_object_put(r2);
		json_object_put(a2);
	}
	json_object_put(r);

	cr_assert_eq(webdriver_execute(ses, "return null;", NULL, &r), SX_OK);
	cr_assert_null(r);
	json_object_put(args);
}

Test(webdriver, script_error_is_a_webdriver_error)
{
	json_object *r = NULL, *args = NULL;

	write_page("x.html", "<!doctype html><title>x</title>");
	navigate_to("x.html");
	cr_assert_eq(webdriver_execute(ses, "throw new Error('boom');", NULL, &r), SX_EWEBDRIVER);
	cr_assert_null(r);
	cr_assert(strstr(webdriver_last_error(ses), "javascript error") != NULL, "%s", webdriver_last_error(ses));
	/* Args that are not an array are refused before anything is sent. */
	args = json_object_new_object();
	cr_assert_eq(webdriver_execute(ses, "return 1;", args, &r), SX_EINVAL);
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
	cr_assert_eq(webdriver_find_css(ses, "#name", &el), SX_OK, "%s", webdriver_last_error(ses));
	cr_assert_eq(webdriver_element_send_keys(ses, el, "Ada Lovelace"), SX_OK);
	v = eval_string("return document.querySelector('#name').value;");
	cr_assert_str_eq(v, "Ada Lovelace");
	free(v);
	cr_assert_eq(webdriver_element_clear(ses, el), SX_OK);
	v = eval_string("return document.querySelector('#name').value;");
	cr_assert_str_eq(v, "");
	free(v);
	/* U+E007 is WebDriver's Enter; the focused input receives it. */
	cr_assert_eq(webdriver_execute(ses, "window.keys = [];", NULL, &r), SX_OK);
	cr_assert_eq(webdriver_press_key(ses, "\xee\x80\x87"), SX_OK, "%s", webdriver_last_error(ses));
	cr_assert_eq(webdriver_press_key(ses, "q"), SX_OK);
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
	cr_assert_eq(webdriver_find_css(ses, "#go", &btn), SX_OK);
	cr_assert_eq(webdriver_element_click(ses, btn), SX_OK, "%s", webdriver_last_error(ses));
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
	cr_assert_eq(webdriver_screenshot(ses, &png, &len), SX_OK, "%s", webdriver_last_error(ses));
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
	cr_assert_eq(webdriver_find_css(ses, "#f", &frame), SX_OK);
	/* The srcdoc document is not in the top document. */
	cr_assert_eq(webdriver_find_css(ses, "#inner", &missing), SX_ENOTFOUND);
	cr_assert_null(missing);
	cr_assert_eq(webdriver_switch_frame(ses, frame), SX_OK, "%s", webdriver_last_error(ses));
	cr_assert_eq(webdriver_find_css(ses, "#inner", &inner), SX_OK, "%s", webdriver_last_error(ses));
	v = eval_string("return document.getElementById('inner').textContent;");
	cr_assert_str_eq(v, "inside the frame");
	free(v);
	cr_assert_eq(webdriver_switch_parent_frame(ses), SX_OK);
	v = eval_string("return document.getElementById('top').textContent;");
	cr_assert_str_eq(v, "top");
	free(v);
	cr_assert_eq(webdriver_switch_frame(ses, frame), SX_OK);
	cr_assert_eq(webdriver_switch_frame(ses, NULL), SX_OK);
	v = eval_string("return document.title;");
	cr_assert_str_eq(v, "frames");
	free(v);
	free(inner);
	free(frame);
}

Test(webdriver, target_blank_opens_a_window_to_switch_to)
{
	char *link = NULL, *first = NULL, *cur = NULL, *title = NULL, *other = NULL;
	char **h = NULL;
	size_t n = 0;
	struct timespec pause = { 0, 100 * 1000000L };

	write_page("opener.html",
		   "<!doctype html><title>opener</title><a id=l href=\"popup.html\" "
		   "target=_blank>open</a>");
	write_page("popup.html", "<!doctype html><title>the popup</title>");
	navigate_to("opener.html");
	cr_assert_eq(webdriver_current_window(ses, &first), SX_OK);
	cr_assert_eq(webdriver_find_css(ses, "#l", &link), SX_OK);
	cr_assert_eq(webdriver_element_click(ses, link), SX_OK);
	for (int i = 0; i < 50; i++) {
		free_handles(h, n);
		cr_assert_eq(webdriver_window_handles(ses, &h, &n), SX_OK);
		if (n == 2)
			break;
		nanosleep(&pause, NULL);
	}
	cr_assert_eq(n, 2);
	other = xstrdup(strcmp(h[0], first) == 0 ? h[1] : h[0]);
	cr_assert_str_neq(other, first);
	cr_assert_eq(webdriver_switch_window(ses, other), SX_OK);
	cr_assert_eq(webdriver_current_window(ses, &cur), SX_OK);
	cr_assert_str_eq(cur, other);
	/* The new window may still be loading; its title settles quickly. */
	for (int i = 0; i < 50; i++) {
		free(title);
		title = NULL;
		cr_assert_eq(webdriver_title(ses, &title), SX_OK);
		if (strcmp(title, "the popup") == 0)
			break;
		nanosleep(&pause, NULL);
	}
	cr_assert_str_eq(title, "the popup");
	cr_assert_eq(webdriver_close_window(ses), SX_OK);
	free(title);
	title = NULL;
	cr_assert_eq(webdriver_title(ses, &title), SX_ENOTFOUND, "closed window: %s", webdriver_last_error(ses));
	cr_assert_eq(webdriver_switch_window(ses, first), SX_OK);
	cr_assert_eq(webdriver_title(ses, &title), SX_OK);
	cr_assert_str_eq(title, "opener");
	cr_assert_eq(webdriver_switch_window(ses, "no-such-handle"), SX_ENOTFOUND);
	free_handles(h, n);
	free(title);
	free(cur);
	free(other);
	free(link);
	free(first);
}

Test(webdriver, stale_and_unknown_elements_are_not_found)
{
	char *el = NULL;

	write_page("s1.html", "<!doctype html><title>s1</title><button id=b>b</button>");
	write_page("s2.html", "<!doctype html><title>s2</title>");
	navigate_to("s1.html");
	cr_assert_eq(webdriver_find_css(ses, "#b", &el), SX_OK);
	navigate_to("s2.html");
	cr_assert_eq(webdriver_element_click(ses, el), SX_ENOTFOUND);
	cr_assert_str_neq(webdriver_last_error(ses), "");
	cr_assert_eq(webdriver_element_click(ses, "f.0.d.0.e.999999"), SX_ENOTFOUND,
		     "%s", webdriver_last_error(ses));
	cr_assert_str_neq(webdriver_last_error(ses), "");
	/* An id with URL syntax in it stays one path segment. */
	cr_assert_eq(webdriver_element_click(ses, "../../window?x=1#y"), SX_ENOTFOUND,
		     "%s", webdriver_last_error(ses));
	free(el);
	cr_assert_eq(webdriver_find_css(ses, "#nothing-here", &el), SX_ENOTFOUND);
	cr_assert_null(el);
}

Test(webdriver, killed_driver_gives_esession)
{
	char *title = NULL;
	pid_t pid = chromedriver_pid(drv), pgid = getpgid(pid);
	time_t t0 = time(NULL);
	struct timespec pause = { 0, 100 * 1000000L };

	write_page("k.html", "<!doctype html><title>k</title>");
	navigate_to("k.html");
	cr_assert(chromedriver_alive(drv));
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(webdriver_title(ses, &title), SX_ESESSION, "%s", webdriver_last_error(ses));
	cr_assert_null(title);
	cr_assert_str_neq(webdriver_last_error(ses), "");
	cr_assert_eq(webdriver_navigate(ses, "about:blank"), SX_ESESSION);
	cr_assert_lt(time(NULL) - t0, 10);
	/* The watchdog notices within moments and takes the browser down. */
	for (int i = 0; i < 50 && chromedriver_alive(drv); i++)
		nanosleep(&pause, NULL);
	cr_assert_not(chromedriver_alive(drv));
	/* No browser outlives its chromedriver, even before chromedriver_stop. */
	webdriver_session_delete(ses);
	webdriver_session_free(ses);
	ses = NULL;
	cr_assert_eq(live_in_group(pgid, true), 0);
	chromedriver_stop(drv);
	drv = NULL;
}

Test(webdriver, stop_leaves_no_process_behind)
{
	pid_t pgid = getpgid(chromedriver_pid(drv));

	/* chromedriver and the browser it launched share one group, not ours. */
	cr_assert_neq(pgid, getpgrp());
	cr_assert_gt(live_in_group(pgid, false), 2);
	chromedriver_stop(drv);
	drv = NULL;
	cr_assert_eq(live_in_group(pgid, true), 0);
}

/*
 * A server that accepts connections (the kernel completes the handshake
 * from the backlog) but never answers: the page load must end in the
 * driver's own "timeout", mapped to SX_ETIMEOUT, well before our HTTP grace.
 */
Test(webdriver, page_load_timeout_is_etimeout)
{
	struct webdriver_options opt = { 0 };
	struct webdriver_session *quick = NULL;
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof(sa);
	char *profile = xasprintf("%s/profile2", root), *url = NULL;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	time_t t0;

	cr_assert(fd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 16), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	url = xasprintf("http://127.0.0.1:%d/hang", ntohs(sa.sin_port));
	cr_assert_eq(mkdir(profile, 0700), 0);
	opt.endpoint = chromedriver_url(drv);
	opt.chromium_path = env_or("SX_CHROMIUM", "/usr/bin/chromium");
	opt.user_data_dir = profile;
	opt.timeout_ms = 2000;
	cr_assert_eq(webdriver_session_new(&opt, &quick), SX_OK);
	t0 = time(NULL);
	cr_assert_eq(webdriver_navigate(quick, url), SX_ETIMEOUT, "%s", webdriver_last_error(quick));
	cr_assert_lt(time(NULL) - t0, 7);
	cr_assert(strstr(webdriver_last_error(quick), "timeout") != NULL, "%s", webdriver_last_error(quick));
	webdriver_session_delete(quick);
	webdriver_session_free(quick);
	close(fd);
	free(url);
	free(profile);
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
