#ifndef SX_TEST_BROWSER_H
#define SX_TEST_BROWSER_H
/*
 * The browser harness: a chromedriver on a free port and a headless
 * Chromium session driven by the project's own WebDriver client, with a
 * fresh profile under one mkdtemp directory that the stop removes with all
 * it holds.  SX_CHROMEDRIVER and SX_CHROMIUM override the binaries
 * (defaults /usr/bin/chromedriver and /usr/bin/chromium).
 */
#include <stdbool.h>
#include "chromedriver.h"
#include "webdriver.h"

struct test_browser {
	char root[64];             /* the mkdtemp directory, "" when none */
	struct chromedriver *drv;
	struct webdriver_session *ses;
};

/*
 * Starts the driver and one session with a width x height window and a
 * WebDriver timeout of timeout_ms; tag names the log and the temporary
 * directory (/tmp/sx-<tag>-XXXXXX).  Asserts that both came up.
 */
void browser_start(struct test_browser *b, const char *tag, int width, int height, int timeout_ms);

/*
 * Another session on b's driver, with its own profile directory root/profile
 * (created here); a width of 0 keeps the driver's default window.  Asserts
 * it came up; the caller frees it with webdriver_session_free.
 */
struct webdriver_session *browser_session(struct test_browser *b, const char *profile, int width, int height,
				   int timeout_ms);

/* Ends the session, stops the driver and removes root; what is already NULL is skipped. */
void browser_stop(struct test_browser *b);

/* The root's file:// URL of name (caller frees); browser_write puts html there. */
char *browser_file_url(const struct test_browser *b, const char *name);
void browser_write(const struct test_browser *b, const char *name, const char *html);
#endif
