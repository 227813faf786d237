#ifndef SX_TEST_PROXYCTL_H
#define SX_TEST_PROXYCTL_H
/*
 * A real forward proxy for the tests: tinyproxy, run on loopback with a
 * generated config, in the foreground, dying with the test process
 * (PR_SET_PDEATHSIG).  Its own log shows what went through it.
 */
#include <stdbool.h>
#include <sys/types.h>

/*
 * Starts a tinyproxy on 127.0.0.1 and a free port (*port) with its config
 * and its log (*log, caller frees) in dir, named name.conf and name.log; the
 * log has a line for every request it forwards.  With auth it demands Basic
 * credentials sx-user / s3cret-pw.  Asserts that it came up; returns its pid.
 */
pid_t tinyproxy_spawn(const char *dir, const char *name, bool auth, int *port, char **log);
/* How many lines of the log at path hold needle (0 when there is no log). */
int tinyproxy_log_count(const char *path, const char *needle);
#endif
