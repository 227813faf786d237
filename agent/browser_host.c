/*
 * The shared browser's host process and the workers' way to it (see
 * browser_host.h).  Chromium is launched with the flags a task's Chromium
 * is given (webdriver_chromium_flags, and the ones chromedriver adds to them),
 * so that a page behaves the same in both modes, plus
 * --remote-debugging-port=0 (Chromium picks a free loopback port and
 * writes it to DevToolsActivePort) and HOST_FEATURES_OFF.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <json-c/json.h>

#include "sx.h"
#include "browser_cdp.h"
#include "browser_host.h"
#include "chromedriver.h"
#include "conf.h"
#include "log.h"
#include "timeutil.h"
#include "webdriver.h"

/*
 * The switches chromedriver adds to those it is given (webdriver.c sends
 * webdriver_chromium_flags), so the shared browser gets them too.
 */
static const char *const host_driver_flags[] = {
	"--allow-pre-commit-input", "--disable-background-timer-throttling",
	"--disable-backgrounding-occluded-windows", "--disable-client-side-phishing-detection",
	"--disable-default-apps", "--disable-hang-monitor", "--disable-popup-blocking",
	"--disable-prompt-on-repost", "--enable-automation", "--no-service-autorun",
	"--password-store=basic", "--use-mock-keychain", NULL,
};

/*
 * chromedriver's own two, and the omnibox popups that new headless
 * Chromium makes for every window (two WebUI pages, each in a renderer of
 * its own): a context's page is a window, and the popups doubled what each
 * task cost (bench/README.md).
 */
#define HOST_FEATURES_OFF "--disable-features=IgnoreDuplicateNavs,Prewarm,WebUIOmniboxPopup,WebUIOmniboxAimPopup"
#define HOST_DIR "/tmp"
#define HOST_PREFIX "sextant-browser-"
/* How often the host disposes of dead workers' contexts, and waits after a failed start. */
#define BROWSER_HOST_SWEEP_MS 2000L
#define BROWSER_HOST_RETRY_MS 1000L
/* The host's own calls are small; a worker's wait for the browser polls this often. */
#define BROWSER_HOST_CALL_MS 10000L
#define BROWSER_HOST_POLL_MS 100L
/* How long a stopping host keeps the browser for the workers' last contexts. */
#define BROWSER_HOST_DRAIN_MS 10000L

char *browser_host_dir(pid_t sup)
{
	return xasprintf("%s/%s%d", HOST_DIR, HOST_PREFIX, (int)sup);
}

/* The file of context id in dir, or its folder with id NULL (caller frees). */
static char *context_path(const char *dir, const char *id)
{
	return id ? xasprintf("%s/contexts/%s", dir, id) : xasprintf("%s/contexts", dir);
}

/* Removes the directories of hosts whose supervisor no longer runs (a SIGKILL). */
static void sweep_dead_hosts(void)
{
	DIR *d = opendir(HOST_DIR);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL) {
		long long pid;
		char *path;

		if (strncmp(de->d_name, HOST_PREFIX, strlen(HOST_PREFIX)) != 0 ||
		    !sx_parse_ll(de->d_name + strlen(HOST_PREFIX), 1, INT32_MAX, &pid) ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		path = xasprintf("%s/%s", HOST_DIR, de->d_name);
		log_info("host", "msg=\"removing a dead agent's shared browser directory\" dir=%s", sx_log_quote(path));
		sx_rm_tree(path);
		free(path);
	}
	if (d)
		closedir(d);
}

/* Appends the NULL-ended flags to argv (room for them counted by the caller). */
static size_t argv_add(char **argv, size_t n, const char *const *flags)
{
	for (size_t i = 0; flags[i]; i++)
		argv[n++] = (char *)flags[i];   /* exec takes char *const[]; nothing writes to it */
	return n;
}

/* Starts Chromium on a fresh profile under dir. */
static enum sx_rc host_start(const struct sx_conf *c, const char *dir, struct chromedriver **out)
{
	char *profile = xasprintf("%s/profile", dir), *contexts = context_path(dir, NULL);
	char *user_data = xasprintf("--user-data-dir=%s", profile);
	char *window = xasprintf("--window-size=%lld,%lld", c->window_width, c->window_height);
	const char *const own[] = {
		HOST_FEATURES_OFF, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		user_data, window, "about:blank", NULL,
	};
	char *argv[64];
	size_t n = 0;
	enum sx_rc rc;
	int err = 0;

	/* A stale DevToolsActivePort must not send a worker to a dead port. */
	sx_rm_tree(profile);
	rc = sx_mkdirs(profile, &err);
	if (rc == SX_OK)
		rc = sx_mkdirs(contexts, &err);
	if (rc) {
		log_error("host", "msg=\"cannot create the shared browser's directory\" dir=%s error=%s",
			  sx_log_quote(dir), sx_log_quote(strerror(err)));
		goto out;
	}
	argv[n++] = c->chromium_path;
	n = argv_add(argv, n, webdriver_chromium_flags);
	n = argv_add(argv, n, host_driver_flags);
	n = argv_add(argv, n, own);
	/* Chromium reads switches anywhere on its command line. */
	if (c->chromium_no_sandbox)
		argv[n++] = "--no-sandbox";
	assert(n < SX_ARRAY_LEN(argv));
	argv[n] = NULL;
	rc = chromedriver_spawn(argv, out);
	if (rc == SX_OK)
		log_info("host", "msg=\"shared browser started\" pid=%d dir=%s", (int)chromedriver_pid(*out),
			 sx_log_quote(dir));
out:
	free(window);
	free(user_data);
	free(contexts);
	free(profile);
	return rc;
}

/* Reads the port and browser path Chromium wrote into dir's profile; false while it has not. */
static bool active_port(const char *dir, int *port, char *path, size_t pathlen)
{
	char *file = xasprintf("%s/profile/DevToolsActivePort", dir), line[256];
	FILE *f = fopen(file, "r");
	long long p = 0;
	bool ok = false;

	if (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		ok = sx_parse_ll(line, 1, 65535, &p);
	}
	if (ok && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		ok = strncmp(line, "/devtools/browser/", 18) == 0;
		snprintf(path, pathlen, "%s", line);
	} else {
		ok = false;
	}
	*port = (int)p;
	if (f)
		fclose(f);
	free(file);
	return ok;
}

/*
 * The worker of a context file (its content), 0 when the file holds no
 * pid, or -1 when it is empty: browser_host_register renames a written
 * file into place, so an empty file is one that something else is still
 * writing, and not a sign that its worker is gone.
 */
static pid_t context_owner(const char *file)
{
	char buf[32] = "";
	long long pid = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (n == 0)
		pid = -1;
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (!sx_parse_ll(buf, 1, INT32_MAX, &pid))
			pid = 0;
	}
	if (fd >= 0)
		close(fd);
	return (pid_t)pid;
}

/* Disposes of context id, whose worker is gone, through *cdp (connected on first use). */
static void dispose_orphan(const char *dir, struct browser_cdp **cdp, const char *id, pid_t worker)
{
	json_object *params = json_object_new_object();
	enum sx_rc rc = SX_ESESSION;

	if (!*cdp)
		browser_host_open(dir, BROWSER_HOST_CALL_MS, cdp, NULL, 0);
	json_object_object_add(params, "browserContextId", json_object_new_string(id));
	if (*cdp)
		rc = browser_cdp_call(*cdp, "Target.disposeBrowserContext", params, NULL);
	if (rc == SX_OK)
		log_warn("host", "msg=\"disposed of a dead worker's browser context\" context=%s worker=%d", id,
			 (int)worker);
	else if (rc == SX_EWEBDRIVER)
		log_info("host", "msg=\"a dead worker's browser context is gone already\" context=%s worker=%d", id,
			 (int)worker);
	if (rc == SX_ESESSION || rc == SX_ETIMEOUT) {
		browser_cdp_free(*cdp);
		*cdp = NULL;
	}
	json_object_put(params);
}

/* Disposes of the contexts whose worker no longer runs and forgets them. */
static void sweep_contexts(const char *dir, struct browser_cdp **cdp)
{
	char *folder = context_path(dir, NULL);
	DIR *d = opendir(folder);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL) {
		char *file;
		pid_t worker;

		if (de->d_name[0] == '.')
			continue;
		file = xasprintf("%s/%s", folder, de->d_name);
		worker = context_owner(file);
		if (worker == 0 || (worker > 0 && kill(worker, 0) != 0 && errno == ESRCH)) {
			dispose_orphan(dir, cdp, de->d_name, worker);
			unlink(file);
		}
		free(file);
	}
	if (d)
		closedir(d);
	free(folder);
}

/* Whether dir records no context. */
static bool no_contexts(const char *dir)
{
	char *folder = context_path(dir, NULL);
	DIR *d = opendir(folder);
	struct dirent *de;
	bool none = true;

	while (d && none && (de = readdir(d)) != NULL)
		none = de->d_name[0] == '.';
	if (d)
		closedir(d);
	free(folder);
	return none;
}

/*
 * On a stop, the workers (stopped with this process) hand their tasks back
 * and close their contexts: the browser is kept until they have, or for
 * BROWSER_HOST_DRAIN_MS at most.
 */
static void drain(const char *dir, struct browser_cdp **cdp)
{
	int64_t deadline = sx_mono_ms() + BROWSER_HOST_DRAIN_MS;

	while (sx_mono_ms() < deadline) {
		sweep_contexts(dir, cdp);
		if (no_contexts(dir))
			break;
		sx_sleep_ms(BROWSER_HOST_POLL_MS, NULL);
	}
}

int browser_host_main(const struct sx_conf *c, const atomic_int *stop)
{
	char *dir = browser_host_dir(getppid());
	struct chromedriver *proc = NULL;
	struct browser_cdp *cdp = NULL;
	int64_t next_sweep = 0;

	sweep_dead_hosts();
	log_info("host", "msg=\"shared browser host ready\" dir=%s", sx_log_quote(dir));
	while (!*stop) {
		if (!chromedriver_alive(proc)) {
			if (proc)
				log_error("host", "msg=\"the shared browser died; starting it again\" pid=%d",
					  (int)chromedriver_pid(proc));
			chromedriver_stop(proc);
			proc = NULL;
			browser_cdp_free(cdp);
			cdp = NULL;
			if (host_start(c, dir, &proc) != SX_OK) {
				sx_sleep_ms(BROWSER_HOST_RETRY_MS, stop);
				continue;
			}
		}
		if (sx_mono_ms() >= next_sweep) {
			sweep_contexts(dir, &cdp);
			next_sweep = sx_mono_ms() + BROWSER_HOST_SWEEP_MS;
		}
		sx_sleep_ms(200, stop);
	}
	drain(dir, &cdp);
	browser_cdp_free(cdp);
	chromedriver_stop(proc);
	sx_rm_tree(dir);
	log_info("host", "msg=\"shared browser host stopped\"");
	free(dir);
	return 0;
}

enum sx_rc browser_host_open(const char *dir, long timeout_ms, struct browser_cdp **out, char *addr,
			     size_t addrlen)
{
	char path[256];
	int port = 0;
	enum sx_rc rc = SX_ENOTFOUND;

	*out = NULL;
	if (active_port(dir, &port, path, sizeof(path)))
		rc = browser_cdp_open(port, path, timeout_ms, out);
	if (rc == SX_OK && addr)
		snprintf(addr, addrlen, "127.0.0.1:%d", port);
	return rc;
}

enum sx_rc browser_host_connect(const struct sx_conf *c, struct browser_cdp **out, char *addr, size_t addrlen,
				char *err, size_t errlen)
{
	char *dir = browser_host_dir(getppid());
	int64_t deadline = sx_mono_ms() + c->webdriver_timeout * 1000;
	enum sx_rc rc;

	while ((rc = browser_host_open(dir, c->webdriver_timeout * 1000, out, addr, addrlen)) != SX_OK &&
	       sx_mono_ms() < deadline)
		sx_sleep_ms(BROWSER_HOST_POLL_MS, NULL);
	if (rc) {
		snprintf(err, errlen, "the shared browser is not running (%s)", dir);
		rc = SX_ESESSION;
	}
	free(dir);
	return rc;
}

/*
 * The file is written under a dot name (which the sweep skips) and renamed
 * into place, so the sweep never reads it half-written and takes a live
 * worker for a dead one.
 */
void browser_host_register(const char *context_id)
{
	char *dir = browser_host_dir(getppid()), *file = context_path(dir, context_id);
	char *folder = context_path(dir, NULL);
	char *tmp = xasprintf("%s/.%s.%d", folder, context_id, (int)getpid());
	char pid[32];
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok;

	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	ok = fd >= 0 && write(fd, pid, strlen(pid)) == (ssize_t)strlen(pid);
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	if (ok && rename(tmp, file) != 0)
		ok = false;
	if (!ok) {
		log_warn("host", "msg=\"cannot record a browser context for the sweep\" file=%s error=%s",
			 sx_log_quote(file), sx_log_quote(strerror(errno)));
		unlink(tmp);
	}
	free(tmp);
	free(folder);
	free(file);
	free(dir);
}

void browser_host_unregister(const char *context_id)
{
	char *dir = browser_host_dir(getppid()), *file = context_path(dir, context_id);

	unlink(file);
	free(file);
	free(dir);
}
