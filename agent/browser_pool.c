/*
 * The worker's warm browser (see browser_pool.h).  One mutex guards the
 * state the pool's thread and the worker share: the warm session, whether
 * one is being started, the stop request, and the chromedriver slot.
 * Sessions are started and deleted outside the lock; only the slot's
 * liveness check and a chromedriver (re)start are done under it.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "sx.h"
#include "browser.h"
#include "browser_pool.h"
#include "chromedriver.h"
#include "conf.h"
#include "egress.h"
#include "log.h"
#include "scrape.h"
#include "timeutil.h"
#include "webdriver.h"

/* Profile directories of warm browsers: /tmp/sextant-pool-<worker pid>-XXXXXX. */
#define POOL_DIR "/tmp"
#define POOL_PREFIX "sextant-pool-"
/* After a failed start the thread tries again this much later. */
#define POOL_RETRY_MS 5000L

struct browser_pool {
	const struct sx_conf *conf;
	struct chromedriver **driver;     /* the worker's slot, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;                /* ready, taken, a start ended, or stop */
	pthread_t thread;
	bool stop;
	bool starting;                    /* the thread is starting a session */
	bool ready;                       /* warm holds a session */
	bool wanted;                      /* the next may be started (browser_pool_refill) */
	struct browser_pool_session warm;
	bool has_retired;                 /* retired holds a finished task's session to end */
	struct browser_pool_session retired;
};

/* Deletes s's session, removes its profile and stops its proxy. */
static void session_discard(struct browser_pool_session *s)
{
	webdriver_session_delete(s->wd);
	webdriver_session_free(s->wd);
	sx_rm_tree(s->user_data_dir);
	free(s->user_data_dir);
	egress_free(s->egress);
	memset(s, 0, sizeof(*s));
}

/* The endpoint of browser.h, for the slot: restarted when dead.  Caller holds mu. */
static enum sx_rc endpoint_locked(struct browser_pool *p, char *url, size_t len)
{
	enum sx_rc rc = SX_OK;

	if (*p->driver && !chromedriver_alive(*p->driver)) {
		log_warn("runner", "msg=\"chromedriver died; restarting it\"");
		chromedriver_stop(*p->driver);
		*p->driver = NULL;
	}
	if (!*p->driver)
		rc = chromedriver_start(p->conf->chromedriver_path, (int)p->conf->chromedriver_port, p->driver);
	if (rc == SX_OK)
		snprintf(url, len, "%s", chromedriver_url(*p->driver));
	return rc;
}

enum sx_rc browser_pool_endpoint(struct browser_pool *p, char *url, size_t len)
{
	enum sx_rc rc;

	pthread_mutex_lock(&p->mu);
	rc = endpoint_locked(p, url, len);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/*
 * Starts a session as a task's own would be, except that its proxy has no
 * task and its downloads go to a folder of its profile (there is no task
 * directory yet; the profile is removed with the session either way).
 */
static enum sx_rc warm_start(struct browser_pool *p, struct browser_pool_session *s)
{
	const struct sx_conf *c = p->conf;
	struct egress_opts eo = { .allow = c->outbound_allow };
	struct webdriver_options o;
	char *tmpl = xasprintf("%s/%s%d-XXXXXX", POOL_DIR, POOL_PREFIX, (int)getpid());
	char url[256], *proxy = NULL, *downloads = NULL;
	enum sx_rc rc;

	memset(s, 0, sizeof(*s));
	rc = browser_pool_endpoint(p, url, sizeof(url));
	if (rc == SX_OK)
		rc = egress_start(&eo, &s->egress);
	if (rc == SX_OK && !mkdtemp(tmpl))
		rc = SX_EIO;
	if (rc)
		goto out;
	s->user_data_dir = tmpl;
	tmpl = NULL;
	proxy = xasprintf("http://127.0.0.1:%d", egress_port(s->egress));
	downloads = xasprintf("%s/Downloads", s->user_data_dir);
	browser_options(c, &o);
	o.endpoint = url;
	o.user_data_dir = s->user_data_dir;
	o.download_dir = downloads;
	o.proxy = proxy;
	rc = webdriver_session_new(&o, &s->wd);
	if (rc == SX_OK)
		scrape_session_prepare(s->wd);
out:
	if (rc)
		session_discard(s);
	free(tmpl);
	free(proxy);
	free(downloads);
	return rc;
}

/* Starts one warm session (unlocked) and publishes it; caller holds mu. */
static void refill_locked(struct browser_pool *p)
{
	struct browser_pool_session s;
	int64_t t0 = sx_mono_ms();
	enum sx_rc rc;

	p->starting = true;
	pthread_mutex_unlock(&p->mu);
	rc = warm_start(p, &s);
	if (rc)
		log_warn("pool", "msg=\"could not start a warm browser\" error=%s retry_ms=%ld",
			 sx_log_quote(sx_strerror(rc)), POOL_RETRY_MS);
	else
		log_info("pool", "msg=\"warm browser ready\" profile=%s ms=%lld", sx_log_quote(s.user_data_dir),
			 (long long)(sx_mono_ms() - t0));
	pthread_mutex_lock(&p->mu);
	p->starting = false;
	if (rc == SX_OK) {
		p->warm = s;
		p->ready = true;
	}
	pthread_cond_broadcast(&p->cv);
}

/* Waits on cv until stop or, with ms > 0, for at most ms; caller holds mu. */
static void wait_locked(struct browser_pool *p, long ms)
{
	struct timespec ts;

	if (ms <= 0) {
		pthread_cond_wait(&p->cv, &p->mu);
	} else {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += ms / 1000;
		ts.tv_nsec += (ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
}

/* The thread: keeps one warm session while the pool lives. */
static void *pool_main(void *arg)
{
	struct browser_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		if (p->has_retired) {
			struct browser_pool_session s = p->retired;
			int64_t t0 = sx_mono_ms();

			p->has_retired = false;
			pthread_mutex_unlock(&p->mu);
			session_discard(&s);
			log_info("pool", "msg=\"finished task's browser ended\" ms=%lld", (long long)(sx_mono_ms() - t0));
			pthread_mutex_lock(&p->mu);
			continue;
		}
		if (p->ready || !p->wanted) {
			wait_locked(p, 0);
			continue;
		}
		refill_locked(p);
		if (!p->ready && !p->stop)
			wait_locked(p, POOL_RETRY_MS);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/*
 * Removes the warm profiles of workers that died without removing theirs
 * (a SIGKILL): those whose pid no longer runs.  Their Chromium went with
 * their chromedriver's watchdog.
 */
static void sweep_stale(void)
{
	DIR *d = opendir(POOL_DIR);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		char *end = NULL, *path;
		long pid;

		if (strncmp(name, POOL_PREFIX, strlen(POOL_PREFIX)) != 0)
			continue;
		errno = 0;
		pid = strtol(name + strlen(POOL_PREFIX), &end, 10);
		if (errno || pid <= 0 || *end != '-' || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		path = xasprintf("%s/%s", POOL_DIR, name);
		log_info("pool", "msg=\"removing a dead worker's warm profile\" profile=%s", sx_log_quote(path));
		sx_rm_tree(path);
		free(path);
	}
	if (d)
		closedir(d);
}

enum sx_rc browser_pool_new(const struct sx_conf *c, struct chromedriver **driver,
			    struct browser_pool **out)
{
	struct browser_pool *p = NULL;
	pthread_condattr_t ca;
	enum sx_rc rc = SX_OK;

	*out = NULL;
	if (!c->browser_pool || (c->webdriver_url && *c->webdriver_url) || sx_conf_shared_browser(c))
		goto out;
	sweep_stale();
	p = xcalloc(1, sizeof(*p));
	p->conf = c;
	p->driver = driver;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Set before the thread runs, so that a task claimed at once waits for its first start. */
	p->starting = true;
	p->wanted = true;
	if (pthread_create(&p->thread, NULL, pool_main, p) != 0) {
		log_warn("pool", "msg=\"cannot start the pool's thread; every task starts its own browser\"");
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		rc = SX_EIO;
		goto out;
	}
	*out = p;
out:
	return rc;
}

void browser_pool_free(struct browser_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	if (p->ready)
		session_discard(&p->warm);
	if (p->has_retired)
		session_discard(&p->retired);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/*
 * Takes the warm session out of the pool, waiting until deadline for one
 * being started; the thread is woken to start the next.  False when none.
 */
static bool take_one(struct browser_pool *p, int64_t deadline, struct browser_pool_session *s)
{
	bool got = false;

	pthread_mutex_lock(&p->mu);
	while (!p->ready && p->starting && !p->stop && sx_mono_ms() < deadline)
		wait_locked(p, (long)(deadline - sx_mono_ms()));
	if (p->ready) {
		*s = p->warm;
		memset(&p->warm, 0, sizeof(p->warm));
		p->ready = false;
		p->wanted = false;
		got = true;
	}
	pthread_mutex_unlock(&p->mu);
	return got;
}

bool browser_pool_retire(struct browser_pool *p, struct webdriver_session *wd, char *user_data_dir)
{
	bool taken = false;

	pthread_mutex_lock(&p->mu);
	if (!p->has_retired && !p->stop) {
		p->retired = (struct browser_pool_session){ .wd = wd, .user_data_dir = user_data_dir };
		p->has_retired = true;
		taken = true;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return taken;
}

void browser_pool_refill(struct browser_pool *p)
{
	pthread_mutex_lock(&p->mu);
	if (!p->wanted) {
		p->wanted = true;
		/* Said here, not when the thread wakes, so that a take right after this waits for it. */
		p->starting = !p->ready && !p->stop;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

bool browser_pool_take(struct browser_pool *p, const char *task_id, struct browser_pool_session *out)
{
	int64_t t0 = sx_mono_ms(), deadline = t0 + p->conf->webdriver_timeout * 1000;
	struct browser_pool_session s;
	char *at = NULL;
	bool handed = false;

	/* A dead one is replaced at once, and once: a second in a row means the pool cannot help now. */
	for (int i = 0; i < 2 && !handed && take_one(p, deadline, &s); i++) {
		if (webdriver_current_url(s.wd, &at) == SX_OK) {
			handed = true;
			break;
		}
		log_warn("pool", "msg=\"warm browser does not answer; replacing it\" task=%s profile=%s error=%s",
			 task_id, sx_log_quote(s.user_data_dir), sx_log_quote(webdriver_last_error(s.wd)));
		session_discard(&s);
		browser_pool_refill(p);
	}
	if (handed) {
		egress_adopt(s.egress, task_id);
		*out = s;
		log_info("pool", "msg=\"warm browser handed over\" task=%s profile=%s waited_ms=%lld", task_id,
			 sx_log_quote(s.user_data_dir), (long long)(sx_mono_ms() - t0));
	}
	free(at);
	return handed;
}
