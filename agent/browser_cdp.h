#ifndef SX_BROWSER_CDP_H
#define SX_BROWSER_CDP_H
/*
 * A client of the Chrome DevTools Protocol on a browser's own endpoint
 * (ws://127.0.0.1:<port>/devtools/browser/<id>), for the browser-level
 * commands that chromedriver's CDP route cannot send: on a page's session
 * Target.createBrowserContext and its kin answer "Not allowed".  The shared
 * browser (browser_host.h) is driven through it; pages are still driven
 * through WebDriver (webdriver.h).
 *
 * A minimal WebSocket client (RFC 6455) on loopback: no TLS, no
 * extensions, text messages only, every message read into a capped buffer.
 * Events the browser sends between answers are read and dropped.  Closing
 * the connection (browser_cdp_free, or the process dying) is what Chromium
 * calls a detach: a browser context created with disposeOnDetach goes with
 * it.  The only file that speaks WebSocket.
 */
#include "sx.h"
#include <json-c/json.h>

struct browser_cdp;

/*
 * Connects to the browser endpoint path (e.g. "/devtools/browser/<id>") on
 * 127.0.0.1:port.  timeout_ms bounds the connection and every later call.
 * SX_ESESSION when nothing answers or the upgrade is refused.
 */
enum sx_rc browser_cdp_open(int port, const char *path, long timeout_ms, struct browser_cdp **out);
/*
 * Sends method with params (a JSON object, may be NULL; not consumed) and
 * waits for its answer.  *result (may be NULL to discard) is the answer's
 * "result" (caller puts).  SX_EWEBDRIVER when the browser answered an
 * error (its message in browser_cdp_last_error), SX_ESESSION when the
 * connection is gone, SX_ETIMEOUT, SX_ETOOBIG for an oversized message.
 */
enum sx_rc browser_cdp_call(struct browser_cdp *c, const char *method, json_object *params,
			    json_object **result);
/*
 * browser_cdp_call on the flat session session_id (from Target.attachToTarget
 * with flatten), which speaks for one target: a page's own domains.
 */
enum sx_rc browser_cdp_call_session(struct browser_cdp *c, const char *session_id, const char *method,
				    json_object *params, json_object **result);
/* The last error's message ("" when none). */
const char *browser_cdp_last_error(const struct browser_cdp *c);
/* Closes the connection (a detach) and frees c; accepts NULL. */
void browser_cdp_free(struct browser_cdp *c);
#endif
