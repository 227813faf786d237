#ifndef SX_WEBDRIVER_H
#define SX_WEBDRIVER_H
/*
 * A W3C WebDriver client on core/http (libcurl) and json-c.  The only file
 * that speaks WebDriver.  Works against a local chromedriver the agent
 * starts (chromedriver.h) or any remote endpoint (a Selenium Grid hub).
 *
 * Errors: WebDriver's {"value":{"error":…,"message":…}} answers are mapped to
 * enum sx_rc — "invalid session id" and a dead endpoint to SX_ESESSION,
 * "no such element"/"stale element reference"/"no such frame"/"no such
 * window" to SX_ENOTFOUND, "tab crashed" (the page's renderer died) to
 * SX_ESESSION too, "timeout"/"script timeout" to SX_ETIMEOUT,
 * anything else to SX_EWEBDRIVER — and the message is kept in
 * webdriver_last_error().  Every call has the session's timeout.
 */
#include "sx.h"
#include <sys/types.h>
#include <json-c/json.h>

struct http_client;

/* The W3C key of an element reference in JSON. */
#define WEBDRIVER_ELEMENT_KEY "element-6066-11e4-a52e-4f735466cecf"

struct webdriver_options {
	const char *endpoint;        /* base URL, e.g. http://127.0.0.1:9515 */
	const char *chromium_path;   /* binary for goog:chromeOptions; NULL for the driver's default */
	const char *user_data_dir;   /* a fresh directory per task (created by the caller) */
	int window_width;
	int window_height;
	long timeout_ms;             /* per command */
	const char *proxy;           /* "http://host:port" / "socks5://host:port", or NULL */
	const char *download_dir;    /* may be NULL */
	/*
	 * "127.0.0.1:port" of a Chromium that is already running (the shared
	 * browser, browser_host.h): the session attaches to it instead of
	 * launching one, and the launch options above (binary, profile, proxy,
	 * downloads, window) are not sent.  NULL to launch.
	 */
	const char *debugger_address;
	bool no_sandbox;             /* --no-sandbox (config chromium_no_sandbox); else Chromium's sandbox */
};

struct webdriver_session;

/*
 * The switches every Chromium of the agent is started with, NULL-ended:
 * the ones webdriver_session_new sends for a Chromium chromedriver
 * launches, and the ones the shared browser is started with
 * (browser_host.c), so that a page behaves the same in both modes.
 */
extern const char *const webdriver_chromium_flags[];

/*
 * Creates a session with headless Chromium and the flags this machine
 * needs (--headless=new --disable-gpu --disable-dev-shm-usage
 * --no-first-run --disable-background-networking --disable-component-update
 * --disable-sync, the user-data-dir and window size, --no-sandbox only when
 * opt->no_sandbox), page-load strategy
 * "normal", a page-load timeout and script timeout derived from timeout_ms.
 * With opt->debugger_address the session attaches to that browser: Delete
 * Session then leaves the browser and its windows as they are.
 */
enum sx_rc webdriver_session_new(const struct webdriver_options *opt, struct webdriver_session **out);
/*
 * Sends Delete Session (closing the browser), best effort with a short
 * timeout so that a dead driver cannot stall the worker; s stays valid and
 * is then freed with webdriver_session_free.  Accepts NULL; a second call
 * sends nothing.
 */
enum sx_rc webdriver_session_delete(struct webdriver_session *s);
/* Frees s without a WebDriver command (delete the session first); accepts NULL. */
void webdriver_session_free(struct webdriver_session *s);
/*
 * The last WebDriver or transport error message of s ("" when none).  It is
 * reset by every command, so it describes the command that just failed.
 */
const char *webdriver_last_error(const struct webdriver_session *s);

enum sx_rc webdriver_navigate(struct webdriver_session *s, const char *url);
/* Current URL / title, caller frees. */
enum sx_rc webdriver_current_url(struct webdriver_session *s, char **out);
enum sx_rc webdriver_title(struct webdriver_session *s, char **out);

/*
 * Executes script synchronously with args (a JSON array, may be NULL; it is
 * not consumed) and returns the script's value (caller puts; may be NULL
 * for JS null/undefined; result may be NULL to discard it).  Element references come back as objects with
 * WEBDRIVER_ELEMENT_KEY.
 */
enum sx_rc webdriver_execute(struct webdriver_session *s, const char *script, json_object *args,
		      json_object **result);

/* Builds an element reference object {WEBDRIVER_ELEMENT_KEY: id} for script args. */
json_object *webdriver_element_ref(const char *element_id);
/* The id of an element reference, or NULL when o is not one. */
const char *webdriver_element_id(json_object *o);

enum sx_rc webdriver_find_css(struct webdriver_session *s, const char *css, char **element_id);
enum sx_rc webdriver_element_click(struct webdriver_session *s, const char *el);
enum sx_rc webdriver_element_clear(struct webdriver_session *s, const char *el);
enum sx_rc webdriver_element_send_keys(struct webdriver_session *s, const char *el, const char *text);
/*
 * Types text into el, which the caller has focused and emptied (an input,
 * a textarea or an editable in the top document), the cheap way: all but
 * its last character inserted as one edit (CDP Input.insertText: the
 * beforeinput and input events a paste or an input method gives), then the
 * last character as a real key press (keydown, keypress, input, keyup), so
 * pages that check a field on input or on a key see the whole value.  Three
 * CDP calls, against Element Send Keys' fixed cost and one key press per
 * character.  Text with control characters or WebDriver key codes, and an
 * endpoint without chromedriver's CDP route (found out by the first CDP
 * call: the text not typed yet then goes too), get Element Send Keys.
 */
/*
 * Has source run in every document the session's window loads from now
 * on, before the page's own scripts (CDP Page.addScriptToEvaluateOnNewDocument).
 * SX_EWEBDRIVER where the endpoint has no CDP route.
 */
enum sx_rc webdriver_document_script(struct webdriver_session *s, const char *source);

enum sx_rc webdriver_type_focused(struct webdriver_session *s, const char *el, const char *text);
/*
 * A left click at the viewport point (x, y) in CSS pixels, through the CDP
 * endpoint (mousePressed, mouseReleased: the trusted events a person's
 * click gives), for a point the caller found shows el.  Without
 * chromedriver's CDP route it is Element Click on el.  Unlike Element
 * Click it waits for no navigation: for controls that change in place (a
 * checkbox), not for links and buttons.
 */
enum sx_rc webdriver_click_at(struct webdriver_session *s, const char *el, double x, double y);
/* Sends one key (a WebDriver key code like "\xee\x80\x87" for Enter, or a character) via Perform Actions. */
enum sx_rc webdriver_press_key(struct webdriver_session *s, const char *key);

/*
 * A PNG of the viewport; *png is malloc'd (caller frees).  Taken with
 * Chrome's Page.captureScreenshot through chromedriver's CDP endpoint
 * (POST /session/{id}/goog/cdp/execute); an endpoint that does not know
 * that command (a WebDriver that is not chromedriver) gets the W3C Take
 * Screenshot, from then on for the whole session.
 */
enum sx_rc webdriver_screenshot(struct webdriver_session *s, unsigned char **png, size_t *len);
/*
 * webdriver_screenshot scaled down to at most max_width pixels wide (the
 * viewport as it is, for a narrower viewport, max_width <= 0 or an endpoint
 * without chromedriver's CDP route).
 */
enum sx_rc webdriver_screenshot_width(struct webdriver_session *s, int max_width, unsigned char **png,
				      size_t *len);

/*
 * Switches to a frame: NULL for the top document, else an element reference
 * id.  Switching to the top when the session is there already (nothing
 * since Navigate To, Switch To Window or the last switch to the top) sends
 * no command.
 */
enum sx_rc webdriver_switch_frame(struct webdriver_session *s, const char *frame_element_id);
enum sx_rc webdriver_switch_parent_frame(struct webdriver_session *s);

/* Window handles (caller frees each and the array), current, switch, close. */
enum sx_rc webdriver_window_handles(struct webdriver_session *s, char ***handles, size_t *n);
enum sx_rc webdriver_current_window(struct webdriver_session *s, char **handle);
enum sx_rc webdriver_switch_window(struct webdriver_session *s, const char *handle);
/* Closes the current window; switch to another handle before the next command. */
enum sx_rc webdriver_close_window(struct webdriver_session *s);
#endif
