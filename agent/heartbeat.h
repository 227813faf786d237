#ifndef SX_HEARTBEAT_H
#define SX_HEARTBEAT_H
/*
 * The heartbeat of a running task: a thread that renews the task's lease
 * every heartbeat_seconds on the worker's second database connection, and
 * tells the worker, through atomic flags it reads between actions, that
 * the task was canceled, that the lease was lost, or that the process is
 * stopping.  interrupt ends the worker's waits (the `wait` action, LLM
 * backoff) early on any of the three.  Every flag shared by the two
 * threads is a C11 atomic.
 */
#include <pthread.h>
#include <stdatomic.h>
#include "sx.h"

struct sx_conf;
struct sx_db;

struct heartbeat {
	/* Set by heartbeat_start, read by the thread. */
	const struct sx_conf *conf;
	struct sx_db *db;
	const char *task_id;
	const char *owner;
	const atomic_int *stopping;  /* the process is stopping (SIGTERM) */
	pthread_t thread;
	bool running;                /* the thread was started */
	atomic_int stop;             /* the worker asks the thread to end */
	atomic_int canceled;         /* the task was canceled */
	atomic_int lost;             /* the lease is no longer ours */
	atomic_int interrupt;        /* ends waits early: cancel, lost lease or shutdown */
};

/*
 * Starts the thread for task_id held by owner, on db (a connection no other
 * thread uses); all are borrowed until heartbeat_stop.  A thread that
 * cannot be started is logged and leaves the task without a heartbeat
 * (its lease may then expire), as it always did.
 */
void heartbeat_start(struct heartbeat *hb, const struct sx_conf *c, struct sx_db *db,
		     const char *task_id, const char *owner, const atomic_int *stopping);
/* Ends the thread and waits for it; the flags keep their last values. */
void heartbeat_stop(struct heartbeat *hb);

/* True once the task was seen canceled / the lease lost. */
bool heartbeat_canceled(const struct heartbeat *hb);
bool heartbeat_lost(const struct heartbeat *hb);
#endif
