#ifndef SX_SUPERVISE_H
#define SX_SUPERVISE_H
/*
 * The pre-fork supervisor both daemons share: it keeps a fixed number of
 * worker processes, replaces any that dies, and on SIGTERM/SIGINT tells them
 * to stop and waits for them.
 */
#include <stdatomic.h>
#include <sys/types.h>
#include "sx.h"

/* Set by SIGTERM/SIGINT once sx_stop_signals_install() ran. */
extern atomic_int sx_stopping;

/*
 * Installs the stop handler for SIGTERM and SIGINT without SA_RESTART, so a
 * process blocked in accept() or sleep returns and sees sx_stopping; ignores
 * SIGPIPE.  Call in the supervisor and again in each worker.
 */
void sx_stop_signals_install(void);

/*
 * Forks worker `index`: the child runs worker(index, arg) and exits with its
 * result; it gets SIGTERM when the supervisor dies.  Returns the child's pid
 * (or -1, logged).
 */
typedef int (*sx_worker_fn)(int index, void *arg);
pid_t sx_spawn_worker(sx_worker_fn worker, int index, void *arg);

/*
 * Keeps n workers running until sx_stopping; then sends them SIGTERM and
 * waits for every one (sx_wait_workers).  comp names the program in the logs.
 */
void sx_supervise(const char *comp, int n, sx_worker_fn worker, void *arg);

/*
 * Waits, replacing none, until every one of the n workers (pids from
 * sx_spawn_worker; those <= 0 are skipped) has ended, setting each slot to
 * 0 as it does.  Once sx_stopping is set, they are sent SIGTERM, once.
 * Returns how many did not exit with status 0.
 */
int sx_wait_workers(pid_t *workers, int n);

/*
 * Writes the name a worker holds leases under (tasks, webhook deliveries):
 * host:pid:random, unique to this process among every host's workers.
 */
void sx_worker_name(char *out, size_t outlen);
struct sx_conf;

/*
 * The start of a daemon invoked as `program --config FILE`: loads the config
 * into conf (zeroed first), checks the outbound settings, starts logging at
 * the configured level.  Returns 0 to go on, or the exit status to end with
 * (2 for a usage error, 1 for a bad config, already reported on stderr).
 * The caller releases conf in every case.
 */
int sx_daemon_init(int argc, char **argv, const char *program, struct sx_conf *conf);
#endif
