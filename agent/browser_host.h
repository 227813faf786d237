#ifndef SX_BROWSER_HOST_H
#define SX_BROWSER_HOST_H
/*
 * The shared browser of browser_mode = shared: one headless Chromium per
 * agent (per supervisor), which every task worker of that agent uses, each
 * task in a browser context of its own (browser_context.h).  It pays the
 * browser, GPU and network-service processes once per host instead of
 * once per task (bench/README.md).
 *
 * It is kept by a process of its own, one more worker of the supervisor
 * (main.c): browser_host_main starts Chromium under a watchdog (it dies
 * with this process, which the supervisor then starts again), starts it
 * again when it dies, and every BROWSER_HOST_SWEEP_MS disposes of the
 * contexts whose worker is gone.  A worker's context is created with
 * disposeOnDetach on the worker's own connection, so Chromium disposes of
 * it when the worker dies; the sweep is the second line, for a context
 * whose connection outlived its worker.
 *
 * Everything lives in one directory named after the supervisor's pid,
 * /tmp/sextant-browser-<pid>/: the profile (profile/, with the
 * DevToolsActivePort file Chromium writes, which is how workers find it)
 * and contexts/<context id>, one file per live context holding its
 * worker's pid.  Directories of supervisors that no longer run are removed
 * when a host starts.
 */
#include <stdatomic.h>
#include <sys/types.h>
#include "sx.h"

struct sx_conf;
struct browser_cdp;

/* The host's directory for the agent whose supervisor is sup (caller frees). */
char *browser_host_dir(pid_t sup);

/*
 * The host process: keeps the shared Chromium until *stop, then, once the
 * workers have closed their contexts (10 s at most), stops it and removes
 * the directory.  Returns the process's exit status.
 */
int browser_host_main(const struct sx_conf *c, const atomic_int *stop);

/*
 * A worker's connection to its agent's shared browser: waits (at most
 * webdriver_timeout) for the browser to be up, connects to its CDP
 * endpoint, and writes "127.0.0.1:<port>" (for webdriver_options'
 * debugger_address) into addr.  SX_ESESSION with why in err when it is not
 * there in time.
 */
enum sx_rc browser_host_connect(const struct sx_conf *c, struct browser_cdp **out, char *addr, size_t addrlen,
				char *err, size_t errlen);

/*
 * One connection, now, to the shared browser whose host directory is dir
 * (browser_host_dir), with timeout_ms for each call; addr (may be NULL)
 * gets its "127.0.0.1:<port>".  SX_ENOTFOUND while the browser has not
 * written its port, SX_ESESSION when it does not answer.
 */
enum sx_rc browser_host_open(const char *dir, long timeout_ms, struct browser_cdp **out, char *addr,
			     size_t addrlen);

/*
 * Records context id as the calling worker's (for the sweep), or forgets
 * it once disposed.
 */
void browser_host_register(const char *context_id);
void browser_host_unregister(const char *context_id);
#endif
