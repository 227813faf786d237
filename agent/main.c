/*
 * sextant-agent: the daemon that runs tasks.
 *
 *   sextant-agent --config FILE
 *
 * A supervisor keeps agent_workers worker processes, and one more that
 * delivers webhooks (webhook.c); with browser_mode = shared, one more that
 * keeps the shared browser (browser_host.c).  Each worker claims
 * one queued task at a time from MariaDB and runs it to the end (runner.c).
 * A worker that dies is replaced; the task it held comes back through its
 * lease.  SIGTERM: workers stop claiming, stop at the next action boundary
 * and hand their task back; the supervisor waits for them and exits.
 */

#include "sx.h"
#include "browser_host.h"
#include "conf.h"
#include "db.h"
#include "http.h"
#include "llm/llm.h"
#include "log.h"
#include "runner.h"
#include "supervise.h"
#include "task_db.h"
#include "timeutil.h"
#include "webhook.h"

static int worker_main(int index, void *arg)
{
	const struct sx_conf *conf = arg;
	struct runner r;
	enum sx_rc rc;

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
		sx_sleep_ms(rc == SX_EDONE ? conf->poll_interval_ms : 1000, &sx_stopping);
	}
	runner_close(&r);
	log_info("agent", "msg=\"worker stopped\" worker=%d", index);
	return 0;
}

/* 1 when the agent keeps a shared browser (browser_host.h): a process more to supervise. */
static int shared_browser(const struct sx_conf *conf)
{
	return strcmp(conf->browser_mode, "shared") == 0 && !(conf->webdriver_url && *conf->webdriver_url);
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
	int status = 1;

	status = sx_daemon_init(argc, argv, "sextant-agent", &conf);
	if (status)
		goto out;
	status = 1;
	sx_stop_signals_install();
	warn_about_llm(&conf);
	sx_supervise("agent", (int)conf.agent_workers + 1 + shared_browser(&conf), worker_main, &conf);
	status = 0;
out:
	sx_conf_release(&conf);
	return status;
}
