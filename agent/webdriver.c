/*
 * The W3C WebDriver client: the only file that speaks WebDriver.  It runs
 * a local chromedriver when the agent owns one (wd_driver_*), and talks to
 * any W3C endpoint through core/http (one keep-alive client per session).
 *
 * Every answer is read into a capped buffer, parsed with json-c and turned
 * into enum sx_rc here, once; the WebDriver message is kept in the session
 * for wd_last_error().  Logs name the command path and the WebDriver error
 * code only: page content, script text and arguments may carry the user's
 * secrets (navigation_payload) and are never logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <assert.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sx.h"
#include "buf.h"
#include "crypto.h"
#include "http.h"
#include "log.h"
#include "webdriver.h"

/* Answers are small except screenshots and script results. */
#define WD_MAX_SMALL (1u << 20)
#define WD_MAX_LARGE (32u << 20)
/* Headroom over the WebDriver-side timeouts, so that the driver reports its
 * own "timeout" error before our HTTP request gives up. */
#define WD_HTTP_GRACE_MS 5000L
/* Starting a browser is slower than any one command. */
#define WD_NEW_SESSION_MIN_MS 60000L
#define WD_DELETE_TIMEOUT_MS 5000L
#define WD_DEFAULT_TIMEOUT_MS 30000L
#define WD_DEFAULT_WIDTH 1280
#define WD_DEFAULT_HEIGHT 800
/* Bounds of wd_driver_start and wd_driver_stop. */
#define WD_START_DEADLINE_MS 15000L
#define WD_START_ATTEMPTS 3
#define WD_STOP_GRACE_MS 3000L
#define WD_JSON_DEPTH 64

struct wd_driver {
	pid_t pid;               /* the watchdog, leader of the process group */
	pid_t driver_pid;        /* chromedriver, the watchdog's child */
	int port;
	bool reaped;
	char url[64];
};

struct wd_session {
	struct http_client *http;
	char *endpoint;          /* base URL without a trailing slash */
	char *id;                /* WebDriver session id */
	char *base;              /* endpoint + "/session/" + id */
	long timeout_ms;
	char err[512];
};

/* Milliseconds on a clock that never jumps, for deadlines. */
static long long wd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wd_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Asks the kernel for a free loopback port by binding port 0 and closing
 * the socket.  Another process may take the port before chromedriver binds
 * it; wd_driver_start retries with a fresh port when that happens.
 */
static enum sx_rc wd_pick_port(int *port)
{
	enum sx_rc rc = SX_OK;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		rc = SX_EIO;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		rc = SX_EIO;
		goto out;
	}
	*port = ntohs(sa.sin_port);
out:
	if (rc)
		log_error("webdriver", "msg=\"cannot pick a free port\" error=%s",
			  sx_log_quote(strerror(errno)));
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * The chromedriver side: only async-signal-safe calls until exec.  Its
 * parent is the watchdog, so PR_SET_PDEATHSIG takes it down with the
 * watchdog; the signal mask and the dispositions the agent may have changed
 * are reset, and no descriptor of the agent (database, HTTP) leaks into it.
 */
static void wd_exec_driver(const char *path, char *const argv[], pid_t watchdog)
{
	struct sigaction sa;
	sigset_t none;
	int fd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != watchdog)
		_exit(126);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	close_range(3, ~0U, 0);
	execvp(path, argv);
	_exit(127);
}

/*
 * The watchdog: a forked child of the agent that leads a new process group
 * and runs chromedriver under it.  chromedriver does not take its Chromium
 * down when it dies, and PR_SET_PDEATHSIG on chromedriver alone would leave
 * the browser running after an agent crash.  So the watchdog gets SIGTERM
 * when the agent (the forking thread) dies, and on that, on a TERM from
 * wd_driver_stop, or when chromedriver exits for any reason, it SIGKILLs the
 * whole group, itself included.  It reports chromedriver's pid on report_fd.
 * Only async-signal-safe calls: the agent's other state is never touched.
 */
static void wd_watchdog(const char *path, char *const argv[], pid_t agent, int report_fd)
{
	struct sigaction sa;
	sigset_t set;
	pid_t self = getpid(), driver;

	setpgid(0, 0);
	/* SIGCHLD must not be ignored, or the kernel would discard it. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != agent)
		_exit(126);
	driver = fork();
	if (driver == 0)
		wd_exec_driver(path, argv, self);
	while (write(report_fd, &driver, sizeof(driver)) < 0 && errno == EINTR)
		;
	close_range(3, ~0U, 0);
	if (driver < 0)
		_exit(125);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);

		if (sig == SIGCHLD && waitpid(driver, NULL, WNOHANG) != driver)
			continue;
		if (sig > 0)
			break;
	}
	kill(0, SIGKILL);
	_exit(1);
}

/*
 * True while d's watchdog runs.  Once it has exited, the rest of its group
 * is killed *before* the watchdog is reaped: its zombie keeps the group id
 * reserved, so the kill cannot reach an unrelated group that reused it.
 */
static bool wd_driver_poll(struct wd_driver *d)
{
	siginfo_t info;
	int r;

	if (!d->reaped) {
		memset(&info, 0, sizeof(info));
		do {
			r = waitid(P_PID, (id_t)d->pid, &info, WEXITED | WNOHANG | WNOWAIT);
		} while (r < 0 && errno == EINTR);
		if (r < 0 || info.si_pid != 0) {
			kill(-d->pid, SIGKILL);
			while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
				;
			d->reaped = true;
		}
	}
	return !d->reaped;
}

/* True once GET /status answers {"value":{"ready":true}}. */
static bool wd_driver_ready(struct http_client *http, const char *url)
{
	struct http_response res;
	struct http_request req = { 0 };
	json_object *root = NULL, *value, *ready;
	char *status_url = xasprintf("%s/status", url);
	bool ok = false;

	req.method = "GET";
	req.url = status_url;
	req.timeout_ms = 2000;
	req.connect_timeout_ms = 500;
	req.max_response = WD_MAX_SMALL;
	if (http_perform(http, &req, &res) == SX_OK && res.status == 200) {
		root = json_tokener_parse(sx_buf_str(&res.body));
		ok = json_object_object_get_ex(root, "value", &value) &&
		     json_object_object_get_ex(value, "ready", &ready) &&
		     json_object_get_boolean(ready);
	}
	json_object_put(root);
	http_response_release(&res);
	free(status_url);
	return ok;
}

/*
 * Stops d's process group and reaps the watchdog; d itself is kept.  The
 * TERM reaches chromedriver and the watchdog, which then SIGKILLs the
 * group: nothing graceful is lost, as sessions are deleted before this.
 * The KILL after the grace period covers a watchdog that cannot run.
 */
static void wd_driver_kill(struct wd_driver *d)
{
	long long deadline = wd_now_ms() + WD_STOP_GRACE_MS;

	assert(d->pid > 0);
	if (!d->reaped)
		kill(-d->pid, SIGTERM);
	while (wd_driver_poll(d) && wd_now_ms() < deadline)
		wd_sleep_ms(20);
	if (!d->reaped) {
		kill(-d->pid, SIGKILL);
		while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
			;
		d->reaped = true;
	}
}

/*
 * One attempt: fork/exec chromedriver on port and wait until it is ready.
 * A process that exits early (a bad path, or the port was taken between
 * wd_pick_port and its bind) is SX_EIO, which the caller may retry on
 * another port; not ready by the deadline is SX_ETIMEOUT.
 */
static enum sx_rc wd_driver_try(const char *path, int port, long long deadline,
				struct wd_driver *d)
{
	enum sx_rc rc = SX_OK;
	struct http_client *http = http_client_new();
	char port_arg[32];
	char *argv[] = { (char *)path, port_arg, (char *)"--log-level=WARNING", NULL };
	pid_t agent = getpid(), driver = -1;
	int fds[2] = { -1, -1 };
	ssize_t n;

	/*
	 * No --allowed-ips: with that switch present (even empty) chromedriver
	 * listens on every interface, while without it it binds 127.0.0.1 and
	 * ::1 only and refuses remote peers.
	 */
	snprintf(port_arg, sizeof(port_arg), "--port=%d", port);
	memset(d, 0, sizeof(*d));
	d->port = port;
	d->reaped = true;
	snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%d", port);
	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_error("webdriver", "msg=\"pipe failed\" error=%s", sx_log_quote(strerror(errno)));
		rc = SX_EIO;
		goto out;
	}
	d->pid = fork();
	if (d->pid < 0) {
		log_error("webdriver", "msg=\"fork failed\" error=%s", sx_log_quote(strerror(errno)));
		rc = SX_EIO;
		goto out;
	}
	if (d->pid == 0) {
		close(fds[0]);
		wd_watchdog(path, argv, agent, fds[1]);
	}
	d->reaped = false;
	/* The parent sets the group too, so a kill right after fork reaches it. */
	setpgid(d->pid, d->pid);
	close(fds[1]);
	fds[1] = -1;
	do {
		n = read(fds[0], &driver, sizeof(driver));
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(driver) || driver <= 0) {
		rc = SX_EIO;
		goto out;
	}
	d->driver_pid = driver;
	for (;;) {
		if (!wd_driver_poll(d)) {
			rc = SX_EIO;
			break;
		}
		if (wd_driver_ready(http, d->url))
			break;
		if (wd_now_ms() >= deadline) {
			rc = SX_ETIMEOUT;
			break;
		}
		wd_sleep_ms(100);
	}
out:
	if (rc && !d->reaped)
		wd_driver_kill(d);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	http_client_free(http);
	return rc;
}

enum sx_rc wd_driver_start(const char *path, int port, struct wd_driver **out)
{
	enum sx_rc rc = SX_EINVAL;
	struct wd_driver *d = NULL;
	long long deadline = wd_now_ms() + WD_START_DEADLINE_MS;
	int attempts = port == 0 ? WD_START_ATTEMPTS : 1;
	int p = port;

	*out = NULL;
	if (!path || !*path || port < 0 || port > 65535)
		goto out;
	d = xcalloc(1, sizeof(*d));
	for (int i = 0; i < attempts && wd_now_ms() < deadline; i++) {
		if (port == 0) {
			rc = wd_pick_port(&p);
			if (rc)
				break;
		}
		rc = wd_driver_try(path, p, deadline, d);
		if (rc != SX_EIO)
			break;
	}
	if (rc == SX_EIO)
		log_error("webdriver", "msg=\"chromedriver exited during start-up\" path=%s port=%d",
			  sx_log_quote(path), p);
	else if (rc == SX_ETIMEOUT)
		log_error("webdriver", "msg=\"chromedriver not ready in time\" path=%s port=%d",
			  sx_log_quote(path), p);
	if (rc)
		goto out;
	log_info("webdriver", "msg=\"chromedriver started\" pid=%d watchdog=%d url=%s",
		 (int)d->driver_pid, (int)d->pid, d->url);
	*out = d;
	d = NULL;
out:
	free(d);
	return rc;
}

const char *wd_driver_url(const struct wd_driver *d)
{
	return d->url;
}

pid_t wd_driver_pid(const struct wd_driver *d)
{
	return d->driver_pid;
}

/* The watchdog outlives chromedriver only by the moment it takes to exit. */
bool wd_driver_alive(struct wd_driver *d)
{
	return d && wd_driver_poll(d);
}

void wd_driver_stop(struct wd_driver *d)
{
	if (!d)
		return;
	wd_driver_kill(d);
	log_info("webdriver", "msg=\"chromedriver stopped\" pid=%d", (int)d->driver_pid);
	free(d);
}

/*
 * Percent-encodes one path segment (an element id or window handle may come
 * from the language model and must not reshape the URL).
 */
static char *wd_path_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *o = xmalloc(n * 3 + 1), *p = o;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return o;
}

static void wd_set_error(struct wd_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void wd_set_error(struct wd_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

/*
 * Turns a W3C error code into our enum.  chromedriver reports a browser that
 * crashed or was closed under it as "unknown error: disconnected…" or
 * "chrome not reachable": the session is as gone as after "invalid session id".
 */
static enum sx_rc wd_map_error(const char *code, const char *message)
{
	static const struct {
		const char *code;
		enum sx_rc rc;
	} map[] = {
		{ "invalid session id", SX_ESESSION },
		{ "no such element", SX_ENOTFOUND },
		{ "stale element reference", SX_ENOTFOUND },
		{ "no such frame", SX_ENOTFOUND },
		{ "no such window", SX_ENOTFOUND },
		{ "timeout", SX_ETIMEOUT },
		{ "script timeout", SX_ETIMEOUT },
	};
	enum sx_rc rc = SX_EWEBDRIVER;

	for (size_t i = 0; i < SX_ARRAY_LEN(map); i++) {
		if (strcmp(code, map[i].code) == 0) {
			rc = map[i].rc;
			break;
		}
	}
	if (rc == SX_EWEBDRIVER && strcmp(code, "unknown error") == 0 &&
	    (strncmp(message, "disconnected", 12) == 0 || strstr(message, "chrome not reachable")))
		rc = SX_ESESSION;
	return rc;
}

/*
 * Parses a WebDriver answer and takes out its "value" (a new reference, or
 * NULL for JSON null).  An error answer is mapped, kept in s->err, and
 * logged with the command path and the error code only.
 */
static enum sx_rc wd_parse(struct wd_session *s, const char *method, const char *path,
			   const struct http_response *res, json_object **value)
{
	enum sx_rc rc = SX_OK;
	json_tokener *tok = json_tokener_new_ex(WD_JSON_DEPTH);
	json_object *root = NULL, *v = NULL, *code = NULL, *msg = NULL;

	root = json_tokener_parse_ex(tok, sx_buf_str(&res->body), (int)res->body.len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "value", &v)) {
		rc = res->status == 200 ? SX_EPARSE : SX_EWEBDRIVER;
		wd_set_error(s, "HTTP %ld with an answer that is not WebDriver JSON", res->status);
		log_warn("webdriver", "msg=\"bad answer\" method=%s path=%s status=%ld",
			 method, sx_log_quote(path), res->status);
		goto out;
	}
	if (json_object_is_type(v, json_type_object))
		json_object_object_get_ex(v, "error", &code);
	if (res->status != 200 || code) {
		const char *c = code ? json_object_get_string(code) : "unknown error";
		const char *m = "";

		if (json_object_object_get_ex(v, "message", &msg) && msg)
			m = json_object_get_string(msg);
		rc = wd_map_error(c, m);
		wd_set_error(s, "%s: %s", c, m);
		log_warn("webdriver", "msg=\"command failed\" method=%s path=%s status=%ld error=%s",
			 method, sx_log_quote(path), res->status, sx_log_quote(c));
		goto out;
	}
	*value = json_object_get(v);
out:
	json_object_put(root);
	json_tokener_free(tok);
	return rc;
}

/*
 * Sends one command to the session: method on base + path with body (may be
 * NULL; not consumed), reading at most max bytes.  On success *value holds
 * the answer's "value" (caller puts; NULL for JSON null).  The error message
 * is reset first, so wd_last_error() describes the latest command.  A
 * transport failure means the endpoint is gone: SX_ESESSION.
 */
static enum sx_rc wd_cmd(struct wd_session *s, const char *method, const char *path,
			 json_object *body, size_t max, long timeout_ms, json_object **value)
{
	enum sx_rc rc;
	struct http_response res;
	struct http_header hdr[] = { { "Content-Type", "application/json; charset=utf-8" } };
	struct http_request req = { 0 };
	char *url = xasprintf("%s%s", s->base, path);
	const char *text = NULL;

	*value = NULL;
	s->err[0] = '\0';
	if (body)
		text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	else if (strcmp(method, "POST") == 0)
		text = "{}";
	req.method = method;
	req.url = url;
	req.headers = hdr;
	req.nheaders = SX_ARRAY_LEN(hdr);
	req.body = text;
	req.body_len = text ? strlen(text) : 0;
	req.timeout_ms = timeout_ms > 0 ? timeout_ms : s->timeout_ms + WD_HTTP_GRACE_MS;
	req.max_response = max;
	rc = http_perform(s->http, &req, &res);
	if (rc == SX_EHTTP) {
		rc = SX_ESESSION;
		wd_set_error(s, "WebDriver endpoint unreachable: %s", res.error);
		log_warn("webdriver", "msg=\"endpoint unreachable\" method=%s path=%s error=%s",
			 method, sx_log_quote(path), sx_log_quote(res.error));
	} else if (rc) {
		wd_set_error(s, "%s", res.error);
		log_warn("webdriver", "msg=\"command failed\" method=%s path=%s error=%s",
			 method, sx_log_quote(path), sx_log_quote(res.error));
	} else {
		rc = wd_parse(s, method, path, &res, value);
	}
	http_response_release(&res);
	free(url);
	return rc;
}

/* A command whose value must be a string; *out is a copy (caller frees). */
static enum sx_rc wd_cmd_string(struct wd_session *s, const char *method, const char *path,
				json_object *body, char **out)
{
	enum sx_rc rc;
	json_object *v = NULL;

	*out = NULL;
	rc = wd_cmd(s, method, path, body, WD_MAX_SMALL, 0, &v);
	if (rc)
		goto out;
	if (!json_object_is_type(v, json_type_string)) {
		rc = SX_EPARSE;
		wd_set_error(s, "%s answered a non-string value", path);
		goto out;
	}
	*out = xstrdup(json_object_get_string(v));
out:
	json_object_put(v);
	return rc;
}

/* A command whose value does not matter (usually null). */
static enum sx_rc wd_cmd_void(struct wd_session *s, const char *method, const char *path,
			      json_object *body)
{
	json_object *v = NULL;
	enum sx_rc rc = wd_cmd(s, method, path, body, WD_MAX_SMALL, 0, &v);

	json_object_put(v);
	return rc;
}

/* An element command: POST /element/{id}/<verb> with body (may be NULL). */
static enum sx_rc wd_element_cmd(struct wd_session *s, const char *el, const char *verb,
				 json_object *body)
{
	enum sx_rc rc = SX_EINVAL;
	char *esc = NULL, *path = NULL;

	if (!el || !*el) {
		wd_set_error(s, "empty element id");
		goto out;
	}
	esc = wd_path_escape(el);
	path = xasprintf("/element/%s/%s", esc, verb);
	rc = wd_cmd_void(s, "POST", path, body);
out:
	free(path);
	free(esc);
	return rc;
}

static void wd_add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

/* The New Session body: capabilities for headless Chromium on this host. */
static json_object *wd_capabilities(const struct wd_options *opt, int w, int h, long t)
{
	json_object *root = json_object_new_object();
	json_object *caps = json_object_new_object();
	json_object *always = json_object_new_object();
	json_object *chrome = json_object_new_object();
	json_object *args = json_object_new_array();
	json_object *timeouts = json_object_new_object();
	static const char *const fixed[] = {
		"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync",
	};

	for (size_t i = 0; i < SX_ARRAY_LEN(fixed); i++)
		json_object_array_add(args, json_object_new_string(fixed[i]));
	if (opt->user_data_dir) {
		char *a = xasprintf("--user-data-dir=%s", opt->user_data_dir);

		json_object_array_add(args, json_object_new_string(a));
		free(a);
	}
	{
		char *a = xasprintf("--window-size=%d,%d", w, h);

		json_object_array_add(args, json_object_new_string(a));
		free(a);
	}
	if (opt->proxy && *opt->proxy) {
		char *a = xasprintf("--proxy-server=%s", opt->proxy);

		json_object_array_add(args, json_object_new_string(a));
		free(a);
		/*
		 * Chromium sends loopback addresses direct even with a proxy; a task
		 * mapped to a proxy must send every page request through it.
		 */
		json_object_array_add(args, json_object_new_string("--proxy-bypass-list=<-loopback>"));
	}
	if (opt->extension_dir && *opt->extension_dir) {
		char *a = xasprintf("--load-extension=%s", opt->extension_dir);
		char *b = xasprintf("--disable-extensions-except=%s", opt->extension_dir);

		json_object_array_add(args, json_object_new_string(a));
		json_object_array_add(args, json_object_new_string(b));
		free(a);
		free(b);
	}
	json_object_object_add(chrome, "args", args);
	if (opt->chromium_path)
		wd_add_str(chrome, "binary", opt->chromium_path);
	if (opt->download_dir) {
		json_object *prefs = json_object_new_object();

		wd_add_str(prefs, "download.default_directory", opt->download_dir);
		json_object_object_add(prefs, "download.prompt_for_download",
				       json_object_new_boolean(0));
		json_object_object_add(chrome, "prefs", prefs);
	}
	json_object_object_add(timeouts, "pageLoad", json_object_new_int64(t));
	json_object_object_add(timeouts, "script", json_object_new_int64(t));
	json_object_object_add(timeouts, "implicit", json_object_new_int64(0));
	wd_add_str(always, "browserName", "chrome");
	wd_add_str(always, "pageLoadStrategy", "normal");
	wd_add_str(always, "unhandledPromptBehavior", "accept");
	json_object_object_add(always, "goog:chromeOptions", chrome);
	json_object_object_add(always, "timeouts", timeouts);
	json_object_object_add(caps, "alwaysMatch", always);
	json_object_object_add(root, "capabilities", caps);
	return root;
}

/*
 * Non-positive sizes and timeouts take defaults rather than failing: they
 * come from optional configuration keys.  On failure nothing is kept and
 * the WebDriver message (a browser start-up error, never page content) is
 * logged, since there is no session left to ask wd_last_error() of.
 */
enum sx_rc wd_session_new(const struct wd_options *opt, struct wd_session **out)
{
	enum sx_rc rc = SX_EINVAL;
	struct wd_session *s = NULL;
	json_object *body = NULL, *v = NULL, *sid;
	size_t n;
	int w, h;

	*out = NULL;
	if (!opt || !opt->endpoint || !*opt->endpoint)
		goto out;
	w = opt->window_width > 0 ? opt->window_width : WD_DEFAULT_WIDTH;
	h = opt->window_height > 0 ? opt->window_height : WD_DEFAULT_HEIGHT;
	s = xcalloc(1, sizeof(*s));
	s->http = http_client_new();
	s->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : WD_DEFAULT_TIMEOUT_MS;
	n = strlen(opt->endpoint);
	while (n && opt->endpoint[n - 1] == '/')
		n--;
	s->endpoint = xstrndup(opt->endpoint, n);
	/* Until the id is known, commands are relative to the endpoint. */
	s->base = xstrdup(s->endpoint);
	body = wd_capabilities(opt, w, h, s->timeout_ms);
	rc = wd_cmd(s, "POST", "/session", body, WD_MAX_SMALL,
		    s->timeout_ms + WD_HTTP_GRACE_MS > WD_NEW_SESSION_MIN_MS ?
		    s->timeout_ms + WD_HTTP_GRACE_MS : WD_NEW_SESSION_MIN_MS, &v);
	if (rc) {
		log_warn("webdriver", "msg=\"new session failed\" endpoint=%s error=%s",
			 sx_log_quote(s->endpoint), sx_log_quote(s->err));
		goto out;
	}
	if (!json_object_object_get_ex(v, "sessionId", &sid) ||
	    !json_object_is_type(sid, json_type_string) || !*json_object_get_string(sid)) {
		rc = SX_EPARSE;
		log_warn("webdriver", "msg=\"new session answer has no sessionId\" endpoint=%s",
			 sx_log_quote(s->endpoint));
		goto out;
	}
	s->id = xstrdup(json_object_get_string(sid));
	free(s->base);
	{
		char *esc = wd_path_escape(s->id);

		s->base = xasprintf("%s/session/%s", s->endpoint, esc);
		free(esc);
	}
	log_info("webdriver", "msg=\"session created\" session=%s", sx_log_quote(s->id));
	*out = s;
	s = NULL;
out:
	json_object_put(v);
	json_object_put(body);
	wd_session_free(s);
	return rc;
}

/* The DELETE is best effort: a dead driver must not stall the worker. */
void wd_session_free(struct wd_session *s)
{
	json_object *v = NULL;

	if (!s)
		return;
	if (s->id) {
		wd_cmd(s, "DELETE", "", NULL, WD_MAX_SMALL, WD_DELETE_TIMEOUT_MS, &v);
		json_object_put(v);
	}
	http_client_free(s->http);
	free(s->endpoint);
	free(s->id);
	free(s->base);
	free(s);
}

const char *wd_last_error(const struct wd_session *s)
{
	return s ? s->err : "";
}

enum sx_rc wd_navigate(struct wd_session *s, const char *url)
{
	enum sx_rc rc = SX_EINVAL;
	json_object *body = NULL;

	if (!url)
		goto out;
	body = json_object_new_object();
	wd_add_str(body, "url", url);
	rc = wd_cmd_void(s, "POST", "/url", body);
out:
	json_object_put(body);
	return rc;
}

enum sx_rc wd_current_url(struct wd_session *s, char **out)
{
	return wd_cmd_string(s, "GET", "/url", NULL, out);
}

enum sx_rc wd_title(struct wd_session *s, char **out)
{
	return wd_cmd_string(s, "GET", "/title", NULL, out);
}

enum sx_rc wd_execute(struct wd_session *s, const char *script, json_object *args,
		      json_object **result)
{
	enum sx_rc rc = SX_EINVAL;
	json_object *body = NULL, *discard = NULL;

	/* A caller that wants no value passes NULL. */
	if (!result)
		result = &discard;
	*result = NULL;
	if (!script || (args && !json_object_is_type(args, json_type_array))) {
		wd_set_error(s, "script missing or args not a JSON array");
		goto out;
	}
	body = json_object_new_object();
	wd_add_str(body, "script", script);
	/* The caller keeps its reference: the body holds one of its own. */
	json_object_object_add(body, "args", args ? json_object_get(args) : json_object_new_array());
	rc = wd_cmd(s, "POST", "/execute/sync", body, WD_MAX_LARGE, 0, result);
out:
	json_object_put(discard);
	json_object_put(body);
	return rc;
}

json_object *wd_element_ref(const char *element_id)
{
	json_object *o = json_object_new_object();

	wd_add_str(o, WD_ELEMENT_KEY, element_id);
	return o;
}

const char *wd_element_id(json_object *o)
{
	json_object *id;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, WD_ELEMENT_KEY, &id) ||
	    !json_object_is_type(id, json_type_string))
		return NULL;
	return json_object_get_string(id);
}

enum sx_rc wd_find_css(struct wd_session *s, const char *css, char **element_id)
{
	enum sx_rc rc = SX_EINVAL;
	json_object *body = json_object_new_object(), *v = NULL;
	const char *id;

	*element_id = NULL;
	if (!css)
		goto out;
	wd_add_str(body, "using", "css selector");
	wd_add_str(body, "value", css);
	rc = wd_cmd(s, "POST", "/element", body, WD_MAX_SMALL, 0, &v);
	if (rc)
		goto out;
	id = wd_element_id(v);
	if (!id) {
		rc = SX_EPARSE;
		wd_set_error(s, "find element answered no element reference");
		goto out;
	}
	*element_id = xstrdup(id);
out:
	json_object_put(v);
	json_object_put(body);
	return rc;
}

enum sx_rc wd_element_click(struct wd_session *s, const char *el)
{
	return wd_element_cmd(s, el, "click", NULL);
}

enum sx_rc wd_element_clear(struct wd_session *s, const char *el)
{
	return wd_element_cmd(s, el, "clear", NULL);
}

enum sx_rc wd_element_send_keys(struct wd_session *s, const char *el, const char *text)
{
	enum sx_rc rc = SX_EINVAL;
	json_object *body = json_object_new_object();

	if (text) {
		wd_add_str(body, "text", text);
		rc = wd_element_cmd(s, el, "value", body);
	}
	json_object_put(body);
	return rc;
}

/*
 * keyDown + keyUp on a key input source, then Release Actions so that no
 * key stays pressed for the next action even when the first call failed;
 * the first error wins.
 */
enum sx_rc wd_press_key(struct wd_session *s, const char *key)
{
	enum sx_rc rc = SX_EINVAL, rc2;
	json_object *body = NULL, *sources, *src, *acts, *a;
	static const char *const types[] = { "keyDown", "keyUp" };

	if (!key || !*key) {
		wd_set_error(s, "empty key");
		goto out;
	}
	body = json_object_new_object();
	sources = json_object_new_array();
	src = json_object_new_object();
	acts = json_object_new_array();
	for (size_t i = 0; i < SX_ARRAY_LEN(types); i++) {
		a = json_object_new_object();
		wd_add_str(a, "type", types[i]);
		wd_add_str(a, "value", key);
		json_object_array_add(acts, a);
	}
	wd_add_str(src, "type", "key");
	wd_add_str(src, "id", "sextant-keyboard");
	json_object_object_add(src, "actions", acts);
	json_object_array_add(sources, src);
	json_object_object_add(body, "actions", sources);
	rc = wd_cmd_void(s, "POST", "/actions", body);
	rc2 = wd_cmd_void(s, "DELETE", "/actions", NULL);
	if (!rc)
		rc = rc2;
out:
	json_object_put(body);
	return rc;
}

enum sx_rc wd_screenshot(struct wd_session *s, unsigned char **png, size_t *len)
{
	static const unsigned char magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	enum sx_rc rc;
	json_object *v = NULL;
	unsigned char *bytes = NULL;
	size_t n = 0;

	*png = NULL;
	*len = 0;
	rc = wd_cmd(s, "GET", "/screenshot", NULL, WD_MAX_LARGE, 0, &v);
	if (rc)
		goto out;
	if (!json_object_is_type(v, json_type_string) ||
	    crypto_base64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v),
				 &bytes, &n) != SX_OK ||
	    n < sizeof(magic) || memcmp(bytes, magic, sizeof(magic)) != 0) {
		rc = SX_EPARSE;
		wd_set_error(s, "screenshot is not base64 PNG data");
		goto out;
	}
	*png = bytes;
	*len = n;
	bytes = NULL;
out:
	free(bytes);
	json_object_put(v);
	return rc;
}

enum sx_rc wd_switch_frame(struct wd_session *s, const char *frame_element_id)
{
	enum sx_rc rc;
	json_object *body = json_object_new_object();

	json_object_object_add(body, "id",
			       frame_element_id ? wd_element_ref(frame_element_id) : NULL);
	rc = wd_cmd_void(s, "POST", "/frame", body);
	json_object_put(body);
	return rc;
}

enum sx_rc wd_switch_parent_frame(struct wd_session *s)
{
	return wd_cmd_void(s, "POST", "/frame/parent", NULL);
}

enum sx_rc wd_window_handles(struct wd_session *s, char ***handles, size_t *n)
{
	enum sx_rc rc;
	json_object *v = NULL;
	char **list = NULL;
	size_t count = 0, i;

	*handles = NULL;
	*n = 0;
	rc = wd_cmd(s, "GET", "/window/handles", NULL, WD_MAX_SMALL, 0, &v);
	if (rc)
		goto out;
	if (!json_object_is_type(v, json_type_array)) {
		rc = SX_EPARSE;
		wd_set_error(s, "window handles are not an array");
		goto out;
	}
	count = json_object_array_length(v);
	list = xcalloc(count ? count : 1, sizeof(*list));
	for (i = 0; i < count; i++) {
		json_object *h = json_object_array_get_idx(v, i);

		if (!json_object_is_type(h, json_type_string)) {
			rc = SX_EPARSE;
			wd_set_error(s, "a window handle is not a string");
			goto out;
		}
		list[i] = xstrdup(json_object_get_string(h));
	}
	*handles = list;
	*n = count;
	list = NULL;
out:
	if (list) {
		for (i = 0; i < count; i++)
			free(list[i]);
		free(list);
	}
	json_object_put(v);
	return rc;
}

enum sx_rc wd_current_window(struct wd_session *s, char **handle)
{
	return wd_cmd_string(s, "GET", "/window", NULL, handle);
}

enum sx_rc wd_switch_window(struct wd_session *s, const char *handle)
{
	enum sx_rc rc = SX_EINVAL;
	json_object *body = json_object_new_object();

	if (handle) {
		wd_add_str(body, "handle", handle);
		rc = wd_cmd_void(s, "POST", "/window", body);
	}
	json_object_put(body);
	return rc;
}

enum sx_rc wd_close_window(struct wd_session *s)
{
	return wd_cmd_void(s, "DELETE", "/window", NULL);
}
