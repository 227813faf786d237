#ifndef SX_CHROMEDRIVER_H
#define SX_CHROMEDRIVER_H
/*
 * The chromedriver process the agent owns when no webdriver_url is
 * configured: started on a loopback port under a watchdog, probed on
 * /status until ready, and stopped.  Sessions and commands go through
 * webdriver.h against chromedriver_url().
 */
#include "sx.h"
#include <sys/types.h>

/* A chromedriver process owned by the agent. */
struct chromedriver;

/*
 * Starts chromedriver at path on 127.0.0.1:port (0: pick a free port),
 * waits (bounded) until its /status says ready, and writes its base URL.
 */
enum sx_rc chromedriver_start(const char *path, int port, struct chromedriver **out);
/*
 * Starts argv[0] (with argv, NULL-terminated) under the same watchdog, with
 * no readiness probe: the shared Chromium of browser_host.h, which dies
 * with the process that started it.  chromedriver_alive, chromedriver_pid
 * and chromedriver_stop apply; its chromedriver_url is "".
 */
enum sx_rc chromedriver_spawn(char *const argv[], struct chromedriver **out);
const char *chromedriver_url(const struct chromedriver *d);
/*
 * chromedriver's process id, for tests and logs.  It runs under a small
 * watchdog process that kills chromedriver and its browsers together when
 * either the agent or chromedriver dies.
 */
pid_t chromedriver_pid(const struct chromedriver *d);
/* True while the process runs. */
bool chromedriver_alive(struct chromedriver *d);
/* Stops the process (TERM, then KILL after a bounded wait) and frees d. */
void chromedriver_stop(struct chromedriver *d);
#endif
