/*
 * sextant-agent: the daemon that runs tasks.
 *
 *   sextant-agent --config FILE
 *
 * A supervisor keeps agent_workers worker processes.  Each worker claims
 * one queued task at a time from MariaDB and runs it to the end (runner.c).
 * A worker that dies is replaced; the task it held comes back through its
 * lease.  SIGTERM: workers stop claiming, stop at the next action boundary
 * and hand their task back; the supervisor waits for them and exits.
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sx.h"
#include "conf.h"
#include "db.h"
#include "http.h"
#include "llm/llm.h"
#include "log.h"
#include "queue.h"
#include "runner.h"
#include "timeutil.h"

static volatile int stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int worker_main(const struct sx_conf *conf, int index)
{
	struct runner r;
	enum sx_rc rc;

	install_handlers();
	http_global_init();
	rc = runner_init(&r, conf, &stopping);
	if (rc)
		log_warn("agent", "msg=\"worker starting without the database\" error=%s",
			 sx_log_quote(sx_strerror(rc)));
	if (r.llm)
		llm_client_set_stop(r.llm, &stopping);
	if (!r.llm) {
		log_error("agent", "msg=\"LLM client could not be created\"");
		runner_release(&r);
		return 1;
	}
	log_info("agent", "msg=\"worker ready\" worker=%d owner=%s", index, sx_log_quote(r.owner));
	while (!stopping) {
		struct claimed_task ct;

		rc = queue_claim(r.db, conf, r.owner, &ct);
		if (rc == SX_OK) {
			runner_run_task(&r, &ct);
			claimed_task_release(&ct);
			continue;
		}
		claimed_task_release(&ct);
		if (rc != SX_EDONE)
			log_warn("agent", "msg=\"claim failed\" error=%s", sx_log_quote(sx_strerror(rc)));
		sx_sleep_ms(rc == SX_EDONE ? conf->poll_interval_ms : 1000, &stopping);
	}
	runner_release(&r);
	log_info("agent", "msg=\"worker stopped\" worker=%d", index);
	return 0;
}

static pid_t spawn_worker(const struct sx_conf *conf, int index)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* A worker whose supervisor is gone stops too, handing its task back. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
		_exit(worker_main(conf, index));
	}
	if (pid < 0)
		log_error("agent", "msg=\"fork failed\" error=%s", sx_log_quote(strerror(errno)));
	return pid;
}

static void warn_about_llm(const struct sx_conf *conf)
{
	struct llm_client *lc = NULL;

	if (llm_client_new(conf, &lc) == SX_OK && !llm_client_has_key(lc))
		log_warn("agent", "msg=\"the LLM key variable is not set; requests go without a key\" "
			 "variable=%s provider=%s base_url=%s", sx_log_quote(conf->llm_api_key_env),
			 conf->llm_provider, sx_log_quote(conf->llm_base_url));
	llm_client_free(lc);
}

int main(int argc, char **argv)
{
	struct sx_conf conf;
	enum sx_log_level lvl = SX_LOG_INFO;
	char err[512];
	pid_t *workers = NULL;
	int status = 1;
	long long n;

	memset(&conf, 0, sizeof(conf));
	if (argc != 3 || strcmp(argv[1], "--config") != 0) {
		fputs("usage: sextant-agent --config FILE\n", stderr);
		status = 2;
		goto out;
	}
	if (sx_conf_load(&conf, argv[2], err, sizeof(err)) != SX_OK) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	sx_log_level_parse(conf.log_level, &lvl);
	sx_log_init("sextant-agent", lvl);
	install_handlers();
	warn_about_llm(&conf);
	n = conf.agent_workers;
	workers = xcalloc((size_t)n, sizeof(*workers));
	for (long long i = 0; i < n; i++)
		workers[i] = spawn_worker(&conf, (int)i);
	log_info("agent", "msg=started workers=%lld", n);

	while (!stopping) {
		int ws;
		pid_t pid = waitpid(-1, &ws, 0);

		if (pid < 0) {
			if (errno != EINTR)
				sx_sleep_ms(200, &stopping);
			continue;
		}
		for (long long i = 0; i < n; i++) {
			if (workers[i] != pid)
				continue;
			if (WIFSIGNALED(ws))
				log_error("agent", "msg=\"worker died\" pid=%d signal=%d", (int)pid, WTERMSIG(ws));
			else
				log_warn("agent", "msg=\"worker exited\" pid=%d status=%d", (int)pid,
					 WEXITSTATUS(ws));
			workers[i] = 0;
			if (!stopping) {
				/* A worker that cannot start should not spin the supervisor. */
				sx_sleep_ms(500, &stopping);
				workers[i] = spawn_worker(&conf, (int)i);
			}
		}
	}
	log_info("agent", "msg=stopping");
	for (long long i = 0; i < n; i++)
		if (workers[i] > 0)
			kill(workers[i], SIGTERM);
	for (long long i = 0; i < n; i++)
		if (workers[i] > 0)
			while (waitpid(workers[i], NULL, 0) < 0 && errno == EINTR)
				;
	log_info("agent", "msg=stopped");
	status = 0;
out:
	free(workers);
	sx_conf_release(&conf);
	return status;
}
