/*
 * The pre-fork supervisor (see supervise.h).
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sx.h"
#include "supervise.h"
#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "ssrf.h"
#include "timeutil.h"

/*
 * Written by the signal handler and read by every thread: a signal handler
 * may only touch lock-free atomics (C11 7.14.1.1).
 */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "sx_stopping must be a lock-free atomic");
atomic_int sx_stopping;

static void on_stop(int sig)
{
	(void)sig;
	sx_stopping = 1;
}

void sx_stop_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

pid_t sx_spawn_worker(sx_worker_fn worker, int index, void *arg)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0) {
		/* A worker whose supervisor is gone stops too (and hands its work back). */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		sx_stop_signals_install();
		_exit(worker(index, arg));
	}
	if (pid < 0)
		log_error(NULL, "msg=\"fork failed\" error=%s", sx_log_quote(strerror(errno)));
	return pid;
}

/* The slot of pid among the n workers, or -1. */
static int worker_slot(const pid_t *workers, int n, pid_t pid)
{
	for (int i = 0; pid > 0 && i < n; i++)
		if (workers[i] == pid)
			return i;
	return -1;
}

int sx_wait_workers(pid_t *workers, int n)
{
	int failed = 0, left = 0, ws, i;
	bool passed_on = false;

	for (i = 0; i < n; i++)
		left += workers[i] > 0;
	while (left > 0) {
		pid_t pid;

		if (sx_stopping && !passed_on) {
			for (i = 0; i < n; i++)
				if (workers[i] > 0)
					kill(workers[i], SIGTERM);
			passed_on = true;
		}
		pid = waitpid(-1, &ws, 0);
		if (pid < 0 && errno != EINTR)
			break;
		i = worker_slot(workers, n, pid);
		if (i < 0)
			continue;
		workers[i] = 0;
		left--;
		if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
			failed++;
	}
	return failed;
}

void sx_supervise(const char *comp, int n, sx_worker_fn worker, void *arg)
{
	pid_t *workers = xcalloc((size_t)n, sizeof(*workers));

	for (int i = 0; i < n; i++)
		workers[i] = sx_spawn_worker(worker, i, arg);
	log_info(comp, "msg=started workers=%d", n);
	while (!sx_stopping) {
		int ws;
		pid_t pid = waitpid(-1, &ws, 0);

		int i;

		if (pid < 0) {
			if (errno != EINTR)
				sx_sleep_ms(200, &sx_stopping);
			continue;
		}
		i = worker_slot(workers, n, pid);
		if (i < 0)
			continue;
		if (WIFSIGNALED(ws))
			log_error(comp, "msg=\"worker died\" pid=%d signal=%d", (int)pid, WTERMSIG(ws));
		else
			log_warn(comp, "msg=\"worker exited\" pid=%d status=%d", (int)pid, WEXITSTATUS(ws));
		workers[i] = 0;
		if (!sx_stopping) {
			/* A worker that cannot start must not spin the supervisor. */
			sx_sleep_ms(200, &sx_stopping);
			workers[i] = sx_spawn_worker(worker, i, arg);
		}
	}
	log_info(comp, "msg=stopping");
	(void)sx_wait_workers(workers, n);
	log_info(comp, "msg=stopped");
	free(workers);
}

int sx_daemon_init(int argc, char **argv, const char *program, struct sx_conf *conf)
{
	enum sx_log_level lvl = SX_LOG_INFO;
	char err[512];

	memset(conf, 0, sizeof(*conf));
	if (argc != 3 || strcmp(argv[1], "--config") != 0) {
		fprintf(stderr, "usage: %s --config FILE\n", program);
		return 2;
	}
	if (sx_conf_load(conf, argv[2], err, sizeof(err)) != SX_OK ||
	    !ssrf_conf_valid(conf, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	sx_log_level_parse(conf->log_level, &lvl);
	sx_log_init(program, lvl);
	return 0;
}

void sx_worker_name(char *out, size_t outlen)
{
	char host[64] = "host";
	unsigned char r[4];

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	crypto_random_bytes(r, sizeof(r));
	snprintf(out, outlen, "%s:%d:%02x%02x%02x%02x", host, (int)getpid(), r[0], r[1], r[2], r[3]);
}
