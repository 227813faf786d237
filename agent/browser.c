/*
 * The task's browser (see browser.h).  Each session gets a fresh profile
 * directory under /tmp, removed with the session; a proxy with credentials
 * is given to Chromium without them, and the credentials through an
 * extension written into that directory (proxyauth.h).
 */
#include <stdlib.h>

#include "sx.h"
#include "crypto.h"
#include "browser.h"
#include "chromedriver.h"
#include "conf.h"
#include "log.h"
#include "proxy.h"
#include "proxyauth.h"
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

void browser_close(struct browser *b)
{
	webdriver_session_delete(b->wd);
	webdriver_session_free(b->wd);
	b->wd = NULL;
	sx_rm_tree(b->user_data_dir);
	free(b->user_data_dir);
	b->user_data_dir = NULL;
}

/*
 * Chromium takes the proxy without credentials and the credentials from an
 * extension in the profile: sets o->proxy and o->extension_dir to strings
 * the caller frees (*plain, *ext_dir).
 */
static enum sx_rc proxy_with_credentials(struct browser *b, struct webdriver_options *o,
					 char **plain, char **ext_dir)
{
	char *user = NULL, *pass = NULL;
	enum sx_rc rc;

	proxy_url_credentials(b->proxy, &user, &pass);
	*plain = proxy_url_strip_credentials(b->proxy);
	*ext_dir = xasprintf("%s/sextant-proxy-auth", b->user_data_dir);
	rc = proxyauth_write_extension(*ext_dir, user, pass);
	crypto_wipe(user, strlen(user));
	crypto_wipe(pass, strlen(pass));
	free(user);
	free(pass);
	o->proxy = *plain;
	o->extension_dir = *ext_dir;
	return rc;
}

/* Starts the session on endpoint ep with a fresh profile. */
static enum sx_rc session_start(struct browser *b, const char *ep, char *err, size_t errlen)
{
	const struct sx_conf *c = b->conf;
	struct webdriver_options o;
	char tmpl[] = "/tmp/sextant-chromium-XXXXXX";
	char *proxy_plain = NULL, *ext_dir = NULL;
	enum sx_rc rc = SX_OK;

	if (!mkdtemp(tmpl)) {
		snprintf(err, errlen, "could not create a browser profile directory");
		rc = SX_EIO;
		goto out;
	}
	b->user_data_dir = xstrdup(tmpl);
	memset(&o, 0, sizeof(o));
	o.endpoint = ep;
	o.chromium_path = c->chromium_path;
	o.user_data_dir = b->user_data_dir;
	o.window_width = (int)c->window_width;
	o.window_height = (int)c->window_height;
	o.timeout_ms = c->webdriver_timeout * 1000;
	o.download_dir = b->download_dir;
	o.proxy = b->proxy;
	if (b->proxy && proxy_url_has_credentials(b->proxy) &&
	    proxy_with_credentials(b, &o, &proxy_plain, &ext_dir) != SX_OK) {
		snprintf(err, errlen, "could not prepare the proxy credentials for the browser");
		rc = SX_EIO;
		goto out;
	}
	rc = webdriver_session_new(&o, &b->wd);
	if (rc) {
		snprintf(err, errlen, "could not start a browser session: %s", sx_strerror(rc));
		b->wd = NULL;
		rc = SX_ESESSION;
	}
out:
	if (rc)
		browser_close(b);
	free(proxy_plain);
	free(ext_dir);
	return rc;
}

enum sx_rc browser_open(struct browser *b, const char *url, char *err, size_t errlen)
{
	const char *ep = NULL;
	enum sx_rc rc = SX_OK;

	if (b->wd)
		goto out;
	rc = endpoint(b, &ep);
	if (rc) {
		snprintf(err, errlen, "could not start chromedriver: %s", sx_strerror(rc));
		rc = SX_ESESSION;
		goto out;
	}
	rc = session_start(b, ep, err, errlen);
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
out:
	return rc;
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

	if (webdriver_window_handles(b->wd, &h, &n) != SX_OK)
		return 0;
	handles_free(h, n);
	return n;
}

void browser_follow_new_window(struct browser *b, size_t before)
{
	char **h = NULL;
	size_t n = 0;

	if (webdriver_window_handles(b->wd, &h, &n) == SX_OK && n > before && n > 0)
		webdriver_switch_window(b->wd, h[n - 1]);
	handles_free(h, n);
}
