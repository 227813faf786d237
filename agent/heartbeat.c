/*
 * The task's heartbeat thread (see heartbeat.h).  It wakes every 100 ms to
 * notice a stop request or SIGTERM promptly, and renews the lease once per
 * heartbeat_seconds.
 */
#include "sx.h"
#include "heartbeat.h"
#include "conf.h"
#include "log.h"
#include "task_db.h"
#include "timeutil.h"

static void *heartbeat_main(void *arg)
{
	struct heartbeat *hb = arg;
	const struct sx_conf *c = hb->conf;

	while (!atomic_load(&hb->stop)) {
		int64_t until = sx_mono_ms() + c->heartbeat_seconds * 1000;
		enum sx_rc rc;

		while (!atomic_load(&hb->stop) && sx_mono_ms() < until) {
			if (atomic_load(hb->stopping))
				atomic_store(&hb->interrupt, 1);
			sx_sleep_ms(100, NULL);
		}
		if (atomic_load(&hb->stop))
			break;
		rc = task_heartbeat(hb->db, hb->task_id, hb->owner, c->lease_seconds);
		if (rc == SX_ECANCELED) {
			atomic_store(&hb->canceled, 1);
			atomic_store(&hb->interrupt, 1);
		} else if (rc == SX_ECONFLICT) {
			atomic_store(&hb->lost, 1);
			atomic_store(&hb->interrupt, 1);
		} else if (rc) {
			log_warn("runner", "msg=\"heartbeat failed\" task=%s error=%s", hb->task_id,
				 sx_log_quote(sx_strerror(rc)));
		}
	}
	return NULL;
}

void heartbeat_start(struct heartbeat *hb, const struct sx_conf *c, struct sx_db *db,
		     const char *task_id, const char *owner, const atomic_int *stopping)
{
	hb->conf = c;
	hb->db = db;
	hb->task_id = task_id;
	hb->owner = owner;
	hb->stopping = stopping;
	atomic_store(&hb->stop, 0);
	atomic_store(&hb->canceled, 0);
	atomic_store(&hb->lost, 0);
	atomic_store(&hb->interrupt, 0);
	hb->running = pthread_create(&hb->thread, NULL, heartbeat_main, hb) == 0;
	if (!hb->running)
		log_warn("runner", "msg=\"heartbeat thread not started\" task=%s", task_id);
}

void heartbeat_stop(struct heartbeat *hb)
{
	atomic_store(&hb->stop, 1);
	if (hb->running)
		pthread_join(hb->thread, NULL);
	hb->running = false;
}

bool heartbeat_canceled(const struct heartbeat *hb)
{
	return atomic_load(&hb->canceled) != 0;
}

bool heartbeat_lost(const struct heartbeat *hb)
{
	return atomic_load(&hb->lost) != 0;
}
