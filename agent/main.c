/*
 * sextant-agent: the daemon that runs tasks.
 *
 *   sextant-agent --config FILE [--drain]
 *
 * Started as root, it first becomes agent_user, and it checks that
 * Chromium's sandbox can work (privdrop.h): no browser ever runs as root.
 *
 * A supervisor keeps agent_workers worker processes, and one more that
 * delivers webhooks (webhook.c); with browser_mode = shared, one more that
 * keeps the shared browser (browser_host.c).  Each worker claims
 * one queued task at a time from MariaDB and runs it to the end (runner.c).
 * A worker that dies is replaced; the task it held comes back through its
 * lease.  SIGTERM: workers stop claiming, stop at the next action boundary
 * and hand their task back; the supervisor waits for them and exits.
 *
 * --drain, for a host where the agent runs from cron: the workers run what
 * is queued and exit when the queue is empty; then the sender delivers the
 * webhooks that are due (those tasks' among them) and the program exits.
 */

#include "sx.h"
#include "browser_host.h"
#include "conf.h"
#include "db.h"
#include "http.h"
#include "llm/llm.h"
#include "log.h"
#include "privdrop.h"
#include "runner.h"
#include "supervise.h"
#include "task_db.h"
#include "timeutil.h"
#include "webhook.h"

/* --drain: task workers end with the queue, and no worker is replaced. */
static bool draining;

static int worker_main(int index, void *arg)
{
	const struct sx_conf *conf = arg;
	struct runner r;
	enum sx_rc rc;
	int status = 0;

	/* The worker after the task workers sends the webhook outbox; the next keeps the shared browser. */
	if (index == (int)conf->agent_workers)
		return webhook_sender_main(conf);
	if (index == (int)conf->agent_workers + 1)
		return browser_host_main(conf, &sx_stopping);
	http_global_init();
	rc = runner_open(&r, conf, &sx_stopping);
	if (rc)
		log_warn("agent", "msg=\"worker starting without the database\" error=%s",
			 sx_log_quote(sx_strerror(rc)));
	if (r.llm)
		llm_client_set_stop(r.llm, &sx_stopping);
	if (!r.llm) {
		log_error("agent", "msg=\"LLM client could not be created\"");
		runner_close(&r);
		return 1;
	}
	log_info("agent", "msg=\"worker ready\" worker=%d owner=%s", index, sx_log_quote(r.owner));
	while (!sx_stopping) {
		struct claimed_task ct;

		rc = task_claim(r.db, conf, r.owner, &ct);
		if (rc == SX_OK) {
			runner_run_task(&r, &ct);
			claimed_task_release(&ct);
			continue;
		}
		claimed_task_release(&ct);
		if (rc != SX_EDONE)
			log_warn("agent", "msg=\"claim failed\" error=%s", sx_log_quote(sx_strerror(rc)));
		if (draining) {
			status = rc == SX_EDONE ? 0 : 1;
			break;
		}
		sx_sleep_ms(rc == SX_EDONE ? conf->poll_interval_ms : 1000, &sx_stopping);
	}
	runner_close(&r);
	log_info("agent", "msg=\"worker stopped\" worker=%d", index);
	return status;
}

static int sender_drain_main(int index, void *arg)
{
	(void)index;
	return webhook_sender_drain(arg);
}

/* sextant-agent --drain: the queue, then the due webhooks.  The exit status. */
static int drain(const struct sx_conf *conf)
{
	int n = (int)conf->agent_workers, failed = 0;
	pid_t *pids = xcalloc((size_t)n, sizeof(*pids)), sender;

	draining = true;
	log_info("agent", "msg=\"draining the queue\" workers=%d", n);
	for (int i = 0; i < n; i++)
		pids[i] = sx_spawn_worker(worker_main, i, (void *)conf);
	failed += sx_wait_workers(pids, n);
	if (!sx_stopping) {
		sender = sx_spawn_worker(sender_drain_main, 0, (void *)conf);
		failed += sx_wait_workers(&sender, 1);
	}
	log_info("agent", "msg=drained failed_workers=%d", failed);
	free(pids);
	return failed ? 1 : 0;
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
	char err[512];
	bool drain_once = argc == 4 && strcmp(argv[3], "--drain") == 0;
	int status = 1;

	if (argc == 4 && !drain_once) {
		fprintf(stderr, "usage: sextant-agent --config FILE [--drain]\n");
		return 2;
	}
	status = sx_daemon_init(drain_once ? 3 : argc, argv, "sextant-agent", &conf);
	if (status)
		goto out;
	status = 1;
	if (agent_drop_root(&conf, err, sizeof(err)) != SX_OK ||
	    agent_sandbox_check(&conf, err, sizeof(err)) != SX_OK) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	sx_stop_signals_install();
	warn_about_llm(&conf);
	if (drain_once) {
		/* A run from cron keeps no browser host: each task starts its own. */
		if (sx_conf_shared_browser(&conf))
			log_info("agent", "msg=\"--drain runs a browser per task (browser_mode = shared needs the daemon)\"");
		conf.no_browser_host = true;
		status = drain(&conf);
		goto out;
	}
	/* The shared browser's host is one process more to supervise. */
	sx_supervise("agent", (int)conf.agent_workers + 1 + sx_conf_shared_browser(&conf), worker_main, &conf);
	status = 0;
out:
	sx_conf_release(&conf);
	return status;
}
