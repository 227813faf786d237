/*
 * The task's browser (see browser.h).  Each session gets a fresh profile
 * directory under /tmp, removed with the session.  Chromium's only proxy is
 * the task's egress proxy on loopback (webdriver.c adds
 * --proxy-bypass-list=<-loopback>, so nothing goes around it); the egress
 * proxy applies the address policy and chains to the task's own proxy with
 * its credentials, which Chromium never sees.
 */
#include <stdlib.h>

#include "sx.h"
#include "crypto.h"
#include "browser.h"
#include "browser_context.h"
#include "browser_pool.h"
#include "chromedriver.h"
#include "conf.h"
#include "log.h"
#include "proxy.h"
#include "egress.h"
#include "scrape.h"
#include "webdriver.h"

void browser_init(struct browser *b, const struct sx_conf *c, struct chromedriver **driver,
		  const char *task_id, const char *download_dir)
{
	memset(b, 0, sizeof(*b));
	b->conf = c;
	b->driver = driver;
	b->task_id = task_id;
	b->download_dir = download_dir;
}

/* The WebDriver endpoint: the configured one, or our own chromedriver (restarted when dead). */
static enum sx_rc endpoint(struct browser *b, const char **out)
{
	const struct sx_conf *c = b->conf;
	enum sx_rc rc = SX_OK;

	if (c->webdriver_url && *c->webdriver_url) {
		*out = c->webdriver_url;
		goto out;
	}
	if (b->pool) {
		rc = browser_pool_endpoint(b->pool, b->endpoint, sizeof(b->endpoint));
		*out = b->endpoint;
		goto out;
	}
	if (*b->driver && !chromedriver_alive(*b->driver)) {
		log_warn("runner", "msg=\"chromedriver died; restarting it\"");
		chromedriver_stop(*b->driver);
		*b->driver = NULL;
	}
	if (!*b->driver)
		rc = chromedriver_start(c->chromedriver_path, (int)c->chromedriver_port, b->driver);
	if (rc == SX_OK)
		*out = chromedriver_url(*b->driver);
out:
	return rc;
}

/*
 * An attached session's Delete Session leaves the shared browser as it is;
 * disposing of the context closes the task's pages.
 */
void browser_close(struct browser *b)
{
	webdriver_session_delete(b->wd);
	webdriver_session_free(b->wd);
	b->wd = NULL;
	browser_context_free(b->ctx);
	b->ctx = NULL;
	b->windows = 0;
	sx_rm_tree(b->user_data_dir);
	free(b->user_data_dir);
	b->user_data_dir = NULL;
}

/*
 * Starts the task's egress proxy once: the same one serves every session
 * of the task.  *proxy_local is its URL for the browser (caller frees).
 */
static enum sx_rc egress_ensure(struct browser *b, char **proxy_local, char *err, size_t errlen)
{
	struct egress_opts eo = { .allow = b->conf->outbound_allow, .upstream = b->proxy,
				  .task_id = b->task_id };
	enum sx_rc rc = SX_OK;

	*proxy_local = NULL;
	if (!b->egress)
		rc = egress_start(&eo, &b->egress);
	if (rc)
		snprintf(err, errlen, "could not start the browser's egress proxy: %s", sx_strerror(rc));
	else
		*proxy_local = xasprintf("http://127.0.0.1:%d", egress_port(b->egress));
	return rc;
}

void browser_options(const struct sx_conf *c, struct webdriver_options *o)
{
	memset(o, 0, sizeof(*o));
	o->chromium_path = c->chromium_path;
	o->window_width = (int)c->window_width;
	o->window_height = (int)c->window_height;
	o->timeout_ms = c->webdriver_timeout * 1000;
	o->no_sandbox = c->chromium_no_sandbox;
}

/*
 * The options of a session that launches its own Chromium: a fresh profile
 * directory (b->user_data_dir), the task's downloads folder and proxy.
 */
static enum sx_rc launch_options(struct browser *b, const char *proxy_local, struct webdriver_options *o,
				 char *err, size_t errlen)
{
	char tmpl[] = "/tmp/sextant-chromium-XXXXXX";

	if (!mkdtemp(tmpl)) {
		snprintf(err, errlen, "could not create a browser profile directory");
		return SX_EIO;
	}
	b->user_data_dir = xstrdup(tmpl);
	o->user_data_dir = b->user_data_dir;
	o->download_dir = b->download_dir;
	o->proxy = proxy_local;
	return SX_OK;
}

/*
 * The options of a session attached to the shared browser: the task's
 * context there (b->ctx), on its egress proxy and its downloads folder.
 */
static enum sx_rc attach_options(struct browser *b, const char *proxy_local, struct webdriver_options *o,
				 char *err, size_t errlen)
{
	enum sx_rc rc = browser_context_open(b->conf, b->task_id, proxy_local, b->download_dir, &b->ctx,
					     err, errlen);

	if (rc == SX_OK)
		o->debugger_address = browser_context_address(b->ctx);
	return rc;
}

/*
 * Starts the session on endpoint ep: with a Chromium of its own on a fresh
 * profile, or in shared mode attached to the shared browser and switched
 * to the task's context's page.
 */
static enum sx_rc session_start(struct browser *b, const char *ep, char *err, size_t errlen)
{
	struct webdriver_options o;
	char *proxy_local = NULL;
	enum sx_rc rc;

	browser_options(b->conf, &o);
	o.endpoint = ep;
	rc = egress_ensure(b, &proxy_local, err, errlen);
	if (rc == SX_OK)
		rc = sx_conf_shared_browser(b->conf) ? attach_options(b, proxy_local, &o, err, errlen) :
					    launch_options(b, proxy_local, &o, err, errlen);
	if (rc)
		goto out;
	rc = webdriver_session_new(&o, &b->wd);
	if (rc == SX_OK && b->ctx)
		rc = webdriver_switch_window(b->wd, browser_context_page(b->ctx));
	if (rc == SX_OK)
		scrape_session_prepare(b->wd);
	if (rc) {
		snprintf(err, errlen, "could not start a browser session: %.300s",
			 b->wd && *webdriver_last_error(b->wd) ? webdriver_last_error(b->wd) : sx_strerror(rc));
		rc = SX_ESESSION;
	}
out:
	if (rc)
		browser_close(b);
	free(proxy_local);
	return rc;
}

/*
 * True when the egress guard refused url: as given, or as the browser read
 * it (its host made canonical, e.g. full-width digits), with why in err.
 */
static bool url_refused(struct browser *b, const char *url, char *err, size_t errlen)
{
	char *at = NULL;
	bool refused = egress_refused_url(b->egress, url, err, errlen);

	if (!refused && webdriver_current_url(b->wd, &at) == SX_OK)
		refused = egress_refused_url(b->egress, at, err, errlen);
	free(at);
	return refused;
}

/*
 * The task's first session is the pool's warm one when there is one to be
 * had (browser_pool.h).  A proxied task never takes it: the warm Chromium
 * was launched on a proxy without the task's upstream, and Chromium's proxy
 * cannot be changed after launch, so the task's own egress proxy (with its
 * upstream and credentials) gets a Chromium started for it.  A session
 * opened again after one was lost keeps the task's egress proxy, so it is
 * started cold too.
 */
static enum sx_rc session_open(struct browser *b, char *err, size_t errlen)
{
	struct browser_pool_session s;
	const char *ep = NULL;
	enum sx_rc rc = SX_OK;

	if (b->pool && !(b->proxy && *b->proxy) && !b->egress && browser_pool_take(b->pool, b->task_id, &s)) {
		b->wd = s.wd;
		b->user_data_dir = s.user_data_dir;
		b->egress = s.egress;
		b->started = "warm";
		goto out;
	}
	rc = endpoint(b, &ep);
	if (rc) {
		snprintf(err, errlen, "could not start chromedriver: %s", sx_strerror(rc));
		rc = SX_ESESSION;
		goto out;
	}
	rc = session_start(b, ep, err, errlen);
	if (rc == SX_OK)
		b->started = sx_conf_shared_browser(b->conf) ? "context" : "cold";
out:
	return rc;
}

enum sx_rc browser_open(struct browser *b, const char *url, char *err, size_t errlen)
{
	enum sx_rc rc = SX_OK;

	if (b->wd)
		goto out;
	rc = session_open(b, err, errlen);
	if (rc)
		goto out;
	rc = webdriver_navigate(b->wd, url);
	if (rc == SX_ESESSION) {
		snprintf(err, errlen, "browser session lost while loading the page: %.200s",
			 webdriver_last_error(b->wd));
		browser_close(b);
		goto out;
	}
	if (rc) {
		/* A page that fails to load is the model's to see, not a lost session. */
		log_warn("runner", "msg=\"navigation failed\" task=%s error=%s", b->task_id,
			 sx_log_quote(webdriver_last_error(b->wd)));
		rc = SX_OK;
	}
	if (url_refused(b, url, err, errlen))
		rc = SX_EBLOCKED;
out:
	return rc;
}

void browser_release(struct browser *b)
{
	/* The task is over: the pool's thread ends its browser while the worker goes on to the next. */
	if (b->pool && b->wd && !b->ctx && browser_pool_retire(b->pool, b->wd, b->user_data_dir)) {
		b->wd = NULL;
		b->user_data_dir = NULL;
	}
	browser_close(b);
	egress_free(b->egress);
	b->egress = NULL;
	if (b->pool)
		browser_pool_refill(b->pool);
}

/* The step that opened the browser is over: the pool may start the next warm one. */
void browser_record_start(struct browser *b, json_object *output)
{
	if (b->started)
		json_object_object_add(output, "browser", json_object_new_string(b->started));
	if (b->started && b->pool)
		browser_pool_refill(b->pool);
	b->started = NULL;
}

void browser_record_refusals(struct browser *b, json_object *output)
{
	if (b->egress)
		egress_record_refusals(b->egress, output);
}

bool browser_is_open(const struct browser *b)
{
	return b->wd != NULL;
}

const char *browser_last_error(const struct browser *b)
{
	return webdriver_last_error(b->wd);
}

struct webdriver_session *browser_session(struct browser *b)
{
	return b->wd;
}

enum sx_rc browser_scrape(struct browser *b, struct scrape_result *page)
{
	return scrape_page(b->wd, page);
}

enum sx_rc browser_screenshot(struct browser *b, unsigned char **png, size_t *len)
{
	*png = NULL;
	*len = 0;
	return b->wd ? webdriver_screenshot(b->wd, png, len) : SX_ESESSION;
}

enum sx_rc browser_screenshot_width(struct browser *b, int max_width, unsigned char **png, size_t *len)
{
	*png = NULL;
	*len = 0;
	return b->wd ? webdriver_screenshot_width(b->wd, max_width, png, len) : SX_ESESSION;
}

enum sx_rc browser_current_url(struct browser *b, char **url)
{
	return webdriver_current_url(b->wd, url);
}

/* The window handles, freed. */
static void handles_free(char **h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(h[i]);
	free(h);
}

size_t browser_window_count(struct browser *b)
{
	char **h = NULL;
	size_t n = 0;

	if (b->windows)
		return b->windows;
	if (b->ctx) {
		b->windows = browser_context_pages(b->ctx, NULL);
		return b->windows;
	}
	if (webdriver_window_handles(b->wd, &h, &n) != SX_OK)
		return 0;
	handles_free(h, n);
	b->windows = n;
	return n;
}

void browser_follow_new_window(struct browser *b, size_t before)
{
	char **h = NULL, *newest = NULL;
	size_t n = 0;

	/* The shared browser's windows are every task's: follow a new one of this context. */
	if (b->ctx) {
		b->windows = browser_context_pages(b->ctx, &newest);
		if (newest && b->windows > before)
			webdriver_switch_window(b->wd, newest);
		free(newest);
		return;
	}
	if (webdriver_window_handles(b->wd, &h, &n) == SX_OK && n > before && n > 0)
		webdriver_switch_window(b->wd, h[n - 1]);
	b->windows = n;
	handles_free(h, n);
}
