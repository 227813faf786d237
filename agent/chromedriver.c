/*
 * The chromedriver process the agent owns (see chromedriver.h): started
 * under a watchdog that takes chromedriver and its browsers down together,
 * polled for liveness, and stopped.  It speaks no WebDriver beyond the
 * /status readiness probe; sessions and commands live in webdriver.c.
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
#include <unistd.h>
#include <json-c/json.h>

#include "sx.h"
#include "buf.h"
#include "chromedriver.h"
#include "http.h"
#include "log.h"
#include "timeutil.h"

/* The /status answer is small. */
#define CHROMEDRIVER_STATUS_MAX (1u << 20)
/* Bounds of chromedriver_start and chromedriver_stop. */
#define CHROMEDRIVER_START_DEADLINE_MS 15000L
#define CHROMEDRIVER_START_ATTEMPTS 3
#define CHROMEDRIVER_STOP_GRACE_MS 3000L

struct chromedriver {
	pid_t pid;               /* the watchdog, leader of the process group */
	pid_t driver_pid;        /* chromedriver, the watchdog's child */
	int port;
	bool reaped;
	char url[64];
};

/*
 * Asks the kernel for a free loopback port by binding port 0 and closing
 * the socket.  Another process may take the port before chromedriver binds
 * it; chromedriver_start retries with a fresh port when that happens.
 */
static enum sx_rc chromedriver_pick_port(int *port)
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
		log_error("chromedriver", "msg=\"cannot pick a free port\" error=%s",
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
static void chromedriver_exec(const char *path, char *const argv[], pid_t watchdog)
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
 * chromedriver_stop, or when chromedriver exits for any reason, it SIGKILLs the
 * whole group, itself included.  It reports chromedriver's pid on report_fd.
 * Only async-signal-safe calls: the agent's other state is never touched.
 */
static void chromedriver_watchdog(const char *path, char *const argv[], pid_t agent, int report_fd)
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
		chromedriver_exec(path, argv, self);
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
static bool chromedriver_poll(struct chromedriver *d)
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
static bool chromedriver_ready(struct http_client *http, const char *url)
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
	req.max_response = CHROMEDRIVER_STATUS_MAX;
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
static void chromedriver_kill(struct chromedriver *d)
{
	int64_t deadline = sx_mono_ms() + CHROMEDRIVER_STOP_GRACE_MS;

	assert(d->pid > 0);
	if (!d->reaped)
		kill(-d->pid, SIGTERM);
	while (chromedriver_poll(d) && sx_mono_ms() < deadline)
		sx_sleep_ms(20, NULL);
	if (!d->reaped) {
		kill(-d->pid, SIGKILL);
		while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
			;
		d->reaped = true;
	}
}

/*
 * Forks the watchdog with path argv under it, into d (zeroed here): d->pid
 * is the watchdog, d->driver_pid the program.  SX_EIO when either cannot
 * be started; nothing is left running then.
 */
static enum sx_rc chromedriver_fork(const char *path, char *const argv[], struct chromedriver *d)
{
	enum sx_rc rc = SX_OK;
	pid_t agent = getpid(), driver = -1;
	int fds[2] = { -1, -1 };
	ssize_t n;

	memset(d, 0, sizeof(*d));
	d->reaped = true;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_error("chromedriver", "msg=\"pipe failed\" error=%s", sx_log_quote(strerror(errno)));
		rc = SX_EIO;
		goto out;
	}
	d->pid = fork();
	if (d->pid < 0) {
		log_error("chromedriver", "msg=\"fork failed\" error=%s", sx_log_quote(strerror(errno)));
		rc = SX_EIO;
		goto out;
	}
	if (d->pid == 0) {
		close(fds[0]);
		chromedriver_watchdog(path, argv, agent, fds[1]);
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
out:
	if (rc && !d->reaped)
		chromedriver_kill(d);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return rc;
}

/*
 * One attempt: fork/exec chromedriver on port and wait until it is ready.
 * A process that exits early (a bad path, or the port was taken between
 * chromedriver_pick_port and its bind) is SX_EIO, which the caller may retry on
 * another port; not ready by the deadline is SX_ETIMEOUT.
 */
static enum sx_rc chromedriver_try(const char *path, int port, int64_t deadline,
				struct chromedriver *d)
{
	enum sx_rc rc;
	struct http_client *http = http_client_new();
	char port_arg[32];
	char *argv[] = { (char *)path, port_arg, (char *)"--log-level=WARNING", NULL };

	/*
	 * No --allowed-ips: with that switch present (even empty) chromedriver
	 * listens on every interface, while without it it binds 127.0.0.1 and
	 * ::1 only and refuses remote peers.
	 */
	snprintf(port_arg, sizeof(port_arg), "--port=%d", port);
	rc = chromedriver_fork(path, argv, d);
	d->port = port;
	snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%d", port);
	for (; rc == SX_OK;) {
		if (!chromedriver_poll(d)) {
			rc = SX_EIO;
			break;
		}
		if (chromedriver_ready(http, d->url))
			break;
		if (sx_mono_ms() >= deadline) {
			rc = SX_ETIMEOUT;
			break;
		}
		sx_sleep_ms(100, NULL);
	}
	if (rc && !d->reaped)
		chromedriver_kill(d);
	http_client_free(http);
	return rc;
}

enum sx_rc chromedriver_start(const char *path, int port, struct chromedriver **out)
{
	enum sx_rc rc = SX_EINVAL;
	struct chromedriver *d = NULL;
	int64_t deadline = sx_mono_ms() + CHROMEDRIVER_START_DEADLINE_MS;
	int attempts = port == 0 ? CHROMEDRIVER_START_ATTEMPTS : 1;
	int p = port;

	*out = NULL;
	if (!path || !*path || port < 0 || port > 65535)
		goto out;
	d = xcalloc(1, sizeof(*d));
	for (int i = 0; i < attempts && sx_mono_ms() < deadline; i++) {
		if (port == 0) {
			rc = chromedriver_pick_port(&p);
			if (rc)
				break;
		}
		rc = chromedriver_try(path, p, deadline, d);
		if (rc != SX_EIO)
			break;
	}
	if (rc == SX_EIO)
		log_error("chromedriver", "msg=\"chromedriver exited during start-up\" path=%s port=%d",
			  sx_log_quote(path), p);
	else if (rc == SX_ETIMEOUT)
		log_error("chromedriver", "msg=\"chromedriver not ready in time\" path=%s port=%d",
			  sx_log_quote(path), p);
	if (rc)
		goto out;
	log_info("chromedriver", "msg=\"chromedriver started\" pid=%d watchdog=%d url=%s",
		 (int)d->driver_pid, (int)d->pid, d->url);
	*out = d;
	d = NULL;
out:
	free(d);
	return rc;
}

enum sx_rc chromedriver_spawn(char *const argv[], struct chromedriver **out)
{
	struct chromedriver *d = xcalloc(1, sizeof(*d));
	enum sx_rc rc = chromedriver_fork(argv[0], argv, d);

	*out = NULL;
	if (rc) {
		log_error("chromedriver", "msg=\"cannot start a process under the watchdog\" path=%s",
			  sx_log_quote(argv[0]));
		free(d);
		goto out;
	}
	log_info("chromedriver", "msg=\"process started\" path=%s pid=%d watchdog=%d", sx_log_quote(argv[0]),
		 (int)d->driver_pid, (int)d->pid);
	*out = d;
out:
	return rc;
}

const char *chromedriver_url(const struct chromedriver *d)
{
	return d->url;
}

pid_t chromedriver_pid(const struct chromedriver *d)
{
	return d->driver_pid;
}

/* The watchdog outlives chromedriver only by the moment it takes to exit. */
bool chromedriver_alive(struct chromedriver *d)
{
	return d && chromedriver_poll(d);
}

void chromedriver_stop(struct chromedriver *d)
{
	if (!d)
		return;
	chromedriver_kill(d);
	log_info("chromedriver", "msg=\"chromedriver stopped\" pid=%d", (int)d->driver_pid);
	free(d);
}
