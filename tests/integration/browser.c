/*
 * The browser harness (see browser.h).
 */
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "sx.h"
#include "browser.h"
#include "http.h"
#include "log.h"

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

struct webdriver_session *browser_session(struct test_browser *b, const char *profile, int width, int height,
				   int timeout_ms)
{
	struct webdriver_options opt = { 0 };
	struct webdriver_session *s = NULL;
	char *dir = xasprintf("%s/%s", b->root, profile);
	enum sx_rc rc;

	cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s", dir);
	opt.endpoint = chromedriver_url(b->drv);
	opt.chromium_path = env_or("SX_CHROMIUM", "/usr/bin/chromium");
	opt.user_data_dir = dir;
	opt.window_width = width;
	opt.window_height = height;
	opt.timeout_ms = timeout_ms;
	/* The tests' own browsers run as the test (root in CI): Chromium's
	 * sandbox refuses root, the agent's browsers never run as root. */
	opt.no_sandbox = geteuid() == 0;
	rc = webdriver_session_new(&opt, &s);
	cr_assert_eq(rc, SX_OK, "no WebDriver session: %s", sx_strerror(rc));
	free(dir);
	return s;
}

void browser_start(struct test_browser *b, const char *tag, int width, int height, int timeout_ms)
{
	char *log = xasprintf("test_%s", tag);

	memset(b, 0, sizeof(*b));
	sx_log_init(log, SX_LOG_WARN);
	http_global_init();
	snprintf(b->root, sizeof(b->root), "/tmp/sx-%s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(b->root), "mkdtemp %s", b->root);
	cr_assert_eq(chromedriver_start(env_or("SX_CHROMEDRIVER", "/usr/bin/chromedriver"), 0, &b->drv), SX_OK,
		     "chromedriver did not start");
	b->ses = browser_session(b, "profile", width, height, timeout_ms);
	free(log);
}

void browser_stop(struct test_browser *b)
{
	webdriver_session_delete(b->ses);
	webdriver_session_free(b->ses);
	b->ses = NULL;
	chromedriver_stop(b->drv);
	b->drv = NULL;
	if (b->root[0] && strstr(b->root, "XXXXXX") == NULL)
		sx_rm_tree(b->root);
	b->root[0] = '\0';
}

char *browser_file_url(const struct test_browser *b, const char *name)
{
	return xasprintf("file://%s/%s", b->root, name);
}

void browser_write(const struct test_browser *b, const char *name, const char *html)
{
	char *path = xasprintf("%s/%s", b->root, name);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "cannot write %s", path);
	fputs(html, f);
	fclose(f);
	free(path);
}
