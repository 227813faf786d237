#ifndef SX_BROWSER_POOL_H
#define SX_BROWSER_POOL_H
/*
 * The worker's warm browser: one WebDriver session on the worker's own
 * chromedriver, with a Chromium that no task has touched (a fresh profile
 * directory, nothing navigated) and its own egress proxy (egress.h, the
 * configured outbound_allow, no upstream, no task).  A thread of the worker
 * starts it in the background, so that a task's first action does not
 * wait for Chromium to start (browser.c takes it in its session start).
 * The next one is started once the task that took it has finished its
 * first step (browser_pool_refill), not at once: on a machine with few
 * cores, a Chromium starting beside the task's first step slows that step
 * by about what the pool saved it (bench/README.md).
 *
 * What a task is given is answered for: a warm browser that no longer
 * answers (its Chromium or chromedriver died) is deleted and replaced,
 * never handed out.  Only tasks without a proxy take one: a proxied task's
 * Chromium must have the task's own egress proxy, with the task's upstream,
 * from its launch, and gets a browser started for it (see the README, "The
 * warm browser pool").
 *
 * The pool owns the worker's chromedriver slot while it exists: every start
 * or restart of the local chromedriver goes through browser_pool_endpoint,
 * under the pool's lock, whichever thread asks (the pool's or the
 * worker's: both live until the pool is freed, so the watchdog of
 * chromedriver.h, tied to the thread that started it, takes chromedriver
 * and every browser down when the worker dies, never earlier).
 * A crashed worker's warm profile directory is removed by the next pool
 * that starts (its name holds the worker's pid).
 *
 * There is no pool with a configured webdriver_url (an idle session would
 * hold a remote grid's slot and be ended by its idle timeout), nor with
 * browser_pool = false, nor with browser_mode = shared (a task's browser
 * context in the shared browser is made in milliseconds, browser_host.h): browser_pool_new then gives NULL, and browser.c
 * does what it does without one.
 */
#include "sx.h"

struct sx_conf;
struct chromedriver;
struct egress;
struct webdriver_session;
struct browser_pool;

/* A warm browser handed to a task: all three are the task's from then on. */
struct browser_pool_session {
	struct webdriver_session *wd;
	char *user_data_dir;        /* the profile, for the task to remove */
	struct egress *egress;      /* adopted by the task (egress_adopt) */
};

/*
 * Starts the pool of the worker whose chromedriver slot is *driver (both
 * borrowed until browser_pool_free), or sets *out to NULL when the
 * configuration keeps it off.  SX_EIO when its thread cannot be started
 * (the worker then runs without one).
 */
enum sx_rc browser_pool_new(const struct sx_conf *c, struct chromedriver **driver,
			    struct browser_pool **out);
/*
 * Stops the thread, deletes the warm session and removes its profile.  The
 * chromedriver is left to its owner (runner_close).  Accepts NULL.
 */
void browser_pool_free(struct browser_pool *p);

/*
 * Copies the local chromedriver's URL into url, starting it (again) when it
 * is not running.  SX_EIO etc. from chromedriver_start.
 */
enum sx_rc browser_pool_endpoint(struct browser_pool *p, char *url, size_t len);

/*
 * Hands the warm browser to task_id: waits (at most webdriver_timeout) for
 * one being started, checks that it answers, and adopts its egress proxy for
 * the task.  False when there is none to be had; *out is then untouched and
 * the caller starts a browser of its own.  The next warm browser waits
 * for browser_pool_refill.
 */
bool browser_pool_take(struct browser_pool *p, const char *task_id, struct browser_pool_session *out);

/*
 * Hands a finished task's session and profile directory (both owned by the
 * pool from then on) to the thread, which ends the session (Chromium's
 * quit: a few hundred milliseconds) and removes the directory while the
 * worker claims its next task.  False when the thread still has the last
 * one to end: the caller then ends this one itself.
 */
bool browser_pool_retire(struct browser_pool *p, struct webdriver_session *wd, char *user_data_dir);

/*
 * Lets the thread start the next warm browser (when there is none): the
 * task that took the last one is past its first step, or over.
 */
void browser_pool_refill(struct browser_pool *p);
#endif
