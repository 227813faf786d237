#ifndef SX_RUNNER_H
#define SX_RUNNER_H
/*
 * The task loop: runs one claimed task to a final status (or hands it back
 * on shutdown), one step after another — observe (scrape + screenshot) →
 * decide (one LLM call) → act (WebDriver; `complete` judged by judge.h) →
 * record (step row + artifacts), see agent_step.h — with the guards of the
 * contract: max steps, retries per step, loop detection, a wall-clock limit,
 * cancel checked before every action.
 */
#include <stdatomic.h>
#include "sx.h"

struct sx_conf;
struct sx_db;
struct llm_client;
struct chromedriver;
struct browser_pool;
struct claimed_task;

struct runner {
	const struct sx_conf *conf;
	struct sx_db *db;            /* the worker's connection */
	struct sx_db *hb_db;         /* the heartbeat thread's connection */
	struct llm_client *llm;
	struct chromedriver *driver;    /* local chromedriver, started on first use */
	struct browser_pool *pool;      /* the warm browser (browser_pool.h), or NULL when off */
	char owner[128];
	const atomic_int *stopping; /* set on SIGTERM */
};

/*
 * Opens the worker's two database connections and its LLM client into r.
 * SX_EDBDOWN etc. on failure, with r holding what did open (the worker
 * still runs without the database; it cannot without r->llm); close r with
 * runner_close either way.
 */
enum sx_rc runner_open(struct runner *r, const struct sx_conf *c, const atomic_int *stopping);
/* Stops the worker's warm browser and chromedriver and closes what runner_open opened. */
void runner_close(struct runner *r);

/* Runs ct to the end.  Errors are recorded on the task, not returned. */
void runner_run_task(struct runner *r, struct claimed_task *ct);
#endif
