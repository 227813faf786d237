#ifndef SX_BROWSER_CONTEXT_H
#define SX_BROWSER_CONTEXT_H
/*
 * A task's browser context in the shared browser (browser_host.h), for
 * browser.c in browser_mode = shared.  A context is Chromium's
 * off-the-record profile: its own cookies, storage, HTTP cache and
 * permissions, its own proxy (the task's egress proxy, with loopback sent
 * through it too, as --proxy-bypass-list=<-loopback> does for a browser of
 * its own) and its own download folder (the task's directory).  Renderers
 * are never shared between contexts, so a page crash stays in its task.
 *
 * The context is created on the worker's own CDP connection with
 * disposeOnDetach: when the worker dies its connection closes and Chromium
 * disposes of the context; browser_context_free disposes of it at once.
 * It is also recorded for the host's sweep (browser_host_register).
 */
#include "sx.h"

struct sx_conf;
struct browser_context;

/*
 * Opens a context for task_id whose proxy is proxy ("http://127.0.0.1:<port>")
 * and whose downloads go to download_dir (may be NULL), with one page of
 * the configured window size.  SX_ESESSION (why in err) when the shared
 * browser cannot be reached or refuses.
 */
enum sx_rc browser_context_open(const struct sx_conf *c, const char *task_id, const char *proxy,
				const char *download_dir, struct browser_context **out, char *err, size_t errlen);
/* "127.0.0.1:<port>": the browser, for a WebDriver session to attach to (debugger_address). */
const char *browser_context_address(const struct browser_context *x);
/* The context's first page: its target id, which is its WebDriver window handle. */
const char *browser_context_page(const struct browser_context *x);
/* The context's id (for logs and tests). */
const char *browser_context_id(const struct browser_context *x);
/*
 * The number of pages (tabs and windows) open in the context, 0 when it
 * cannot be read.  With newest, a page that was not there at the last call
 * (caller frees; NULL when none).
 */
size_t browser_context_pages(struct browser_context *x, char **newest);
/* Disposes of the context (its pages close) and closes the connection; accepts NULL. */
void browser_context_free(struct browser_context *x);
#endif
