#ifndef SX_BROWSER_H
#define SX_BROWSER_H
/*
 * The browser of one task, the one layer the runner and its steps drive it
 * through: the WebDriver session (opened on first use and again after it
 * was lost, on the page the task was at), its Chromium profile directory,
 * the task's egress proxy (egress.h: every request the browser makes goes
 * through it, so the address policy holds for all of them), the page scrape,
 * screenshots and windows.  The endpoint is the configured webdriver_url or the
 * worker's own chromedriver, started (and restarted when dead) here.
 *
 * With browser_mode = shared (and no webdriver_url) the session does not
 * launch a Chromium: the task gets a browser context of its own in the
 * agent's shared browser (browser_context.h), and the worker's chromedriver
 * attaches a session to that browser and drives the context's page; the
 * windows the task counts and follows are its context's only.
 * Only this file, actions.c and the browser-level modules under it
 * (scrape.c, recorder.c) see webdriver.h.
 */
#include "sx.h"
#include <json-c/json.h>

struct sx_conf;
struct chromedriver;
struct egress;
struct browser_pool;
struct browser_context;
struct scrape_result;
struct webdriver_session;
struct webdriver_options;

struct browser {
	const struct sx_conf *conf;
	struct chromedriver **driver;   /* the worker's chromedriver slot (NULL until started) */
	const char *task_id;            /* for logs */
	const char *download_dir;       /* the task's directory */
	const char *proxy;              /* the task's proxy URL (may hold credentials: never logged), or NULL */
	struct egress *egress;          /* the task's egress proxy, started on first open */
	struct webdriver_session *wd;   /* NULL while closed */
	char *user_data_dir;            /* the session's Chromium profile, removed on close */
	size_t windows;                 /* the window count last read (0: not read in this session) */
	struct browser_pool *pool;      /* the worker's warm browser (browser_pool.h), or NULL */
	char endpoint[256];             /* the pool's chromedriver URL, as last asked */
	const char *started;            /* "warm" or "cold" since browser_record_start, or NULL */
	struct browser_context *ctx;    /* browser_mode = shared: the task's context, NULL while closed */
};

/*
 * A closed browser for the task task_id (no allocation); every pointer is
 * borrowed until browser_close.  Set b->proxy and b->pool before the
 * first open.
 */
void browser_init(struct browser *b, const struct sx_conf *c, struct chromedriver **driver,
		  const char *task_id, const char *download_dir);

/*
 * Opens a session when there is none and loads url in it.  A page that
 * fails to load is logged and left for the model to see; a session that
 * cannot start or is lost while loading is SX_ESESSION (SX_EIO for a local
 * failure), with the reason in err.  SX_EBLOCKED when the egress guard
 * refused url itself (as given or as the browser read it): the task cannot
 * go there, and err says why.
 */
enum sx_rc browser_open(struct browser *b, const char *url, char *err, size_t errlen);
/*
 * The options every session of this agent starts with, from c: the binary,
 * the window and the command timeout.  The caller adds the endpoint, the
 * profile, the proxy and the download directory.
 */
void browser_options(const struct sx_conf *c, struct webdriver_options *o);
/* Deletes the session, removes its profile directory; b may be opened again. */
void browser_close(struct browser *b);
/* browser_close, then stops the task's egress proxy: the task is over (and the pool may refill). */
void browser_release(struct browser *b);

/*
 * Adds the requests the egress guard refused since the last call to a
 * step's output as "egress_refused" (nothing when there were none).
 */
void browser_record_refusals(struct browser *b, json_object *output);
/*
 * Adds how the session opened since the last call started to a step's
 * output: "browser": "warm" (the pool's, browser_pool.h), "cold" (started
 * for the task) or "context" (a context in the shared browser); nothing
 * when no session was opened.  The step is over,
 * so the pool may start the next warm browser.
 */
void browser_record_start(struct browser *b, json_object *output);
bool browser_is_open(const struct browser *b);

/* The last WebDriver error message ("" when none or closed). */
const char *browser_last_error(const struct browser *b);
/* The session, for actions.c and the recorder (NULL while closed). */
struct webdriver_session *browser_session(struct browser *b);

/* Scrapes the current page (scrape.h); SX_ESESSION when the session is gone. */
enum sx_rc browser_scrape(struct browser *b, struct scrape_result *page);
/* A PNG of the viewport (caller frees *png); SX_ESESSION when closed. */
enum sx_rc browser_screenshot(struct browser *b, unsigned char **png, size_t *len);
/* The screenshot scaled down to at most max_width pixels wide (webdriver_screenshot_width). */
enum sx_rc browser_screenshot_width(struct browser *b, int max_width, unsigned char **png, size_t *len);
/* The current URL (caller frees *url). */
enum sx_rc browser_current_url(struct browser *b, char **url);

/*
 * The number of open windows (0 when it cannot be read): the count the last
 * browser_follow_new_window read, without a command, when there is one.
 * A window opened between the two (by a key press, a timer) is then
 * followed at the next click's browser_follow_new_window.
 */
size_t browser_window_count(struct browser *b);
/* Switches to the newest window when there are more than before (a click opened a tab). */
void browser_follow_new_window(struct browser *b, size_t before);
#endif
