/*
 * bench/cluster/claim: the database's ceiling on claims.  Queues TASKS
 * tasks, then CLAIMERS processes (each with its own connection, spread
 * over the configs given, so over a cluster's nodes) claim with
 * task_claim() and finish each task at once with task_finish() (a browser
 * stand-in that is done the moment it starts), until the queue is empty.
 * Prints claims per second and checks that every task was claimed once:
 * completed, attempt 1, and as many claims as tasks.
 *
 *   bench/cluster/claim ORG_ID CLAIMERS TASKS CONF [CONF...]
 *
 * Built and run by bench/cluster/claims.sh.
 */
#include "sx.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "supervise.h"
#include "task_db.h"
#include "timeutil.h"

#include <err.h>
#include <json-c/json.h>
#include <sys/wait.h>
#include <unistd.h>

static void load(const char *path, struct sx_conf *c)
{
	char err[512];

	if (sx_conf_load(c, path, err, sizeof(err)) != SX_OK) {
		fprintf(stderr, "claim: %s\n", err);
		exit(2);
	}
}

/* Queues n tasks of org, one INSERT each, as the API does. */
static void queue_tasks(struct sx_db *db, const char *org, long n)
{
	json_object *req = json_tokener_parse("{\"url\":\"https://example.com/\"}");
	char id[SX_ID_MAX];
	bool existing;

	for (long i = 0; i < n; i++) {
		if (task_db_create(db, org, req, NULL, 10, NULL, 0, id, &existing) != SX_OK) {
			fprintf(stderr, "claim: create failed: %s\n", sx_db_error(db));
			exit(1);
		}
	}
	json_object_put(req);
}

/* One claimer: claims and finishes until nothing is left; writes its count to fd. */
static int claimer(const char *conf_path, int start_fd, int out_fd)
{
	struct sx_conf c;
	struct sx_db *db = NULL;
	struct claimed_task ct;
	char owner[128], go;
	long claims = 0, errors = 0;
	enum sx_rc rc;

	load(conf_path, &c);
	sx_worker_name(owner, sizeof(owner));
	if (sx_db_open(&db, &c) != SX_OK)
		return 1;
	if (read(start_fd, &go, 1) != 1)
		return 1;
	for (;;) {
		rc = task_claim(db, &c, owner, &ct);
		if (rc == SX_EDONE)
			break;
		if (rc) {
			if (++errors > 100)
				break;
			continue;
		}
		if (task_finish(db, ct.task.id, owner, TASK_COMPLETED, NULL, NULL) == SX_OK)
			claims++;
		claimed_task_release(&ct);
	}
	if (write(out_fd, &claims, sizeof(claims)) != (ssize_t)sizeof(claims))
		return 1;
	sx_db_free(db);
	sx_conf_release(&c);
	return 0;
}

int main(int argc, char **argv)
{
	static const char q_check[] =
		"SELECT COUNT(*), COALESCE(SUM(status = 'completed'), 0), COALESCE(SUM(attempt = 1), 0) "
		"FROM tasks WHERE org_id = ?";
	static const char q_sync[] = "SET SESSION wsrep_sync_wait = 1";
	struct sx_conf c;
	struct sx_db *db = NULL;
	struct sx_rows *rows = NULL;
	int start[2], out[2];
	long claimers, tasks, total = 0, got;
	int64_t t0, t1;

	if (argc < 5)
		errx(2, "usage: claim ORG_ID CLAIMERS TASKS CONF [CONF...]");
	claimers = strtol(argv[2], NULL, 10);
	tasks = strtol(argv[3], NULL, 10);
	sx_log_init("claim", SX_LOG_ERROR);
	load(argv[4], &c);
	if (sx_db_open(&db, &c) != SX_OK)
		errx(1, "database: %s", sx_db_error(db));
	queue_tasks(db, argv[1], tasks);
	/* Every node has applied the inserts before the first claim. */
	sleep(1);
	if (pipe(start) || pipe(out))
		err(1, "pipe");
	for (long i = 0; i < claimers; i++) {
		pid_t pid = fork();

		if (pid < 0)
			err(1, "fork");
		if (pid == 0) {
			close(start[1]);
			_exit(claimer(argv[4 + i % (argc - 4)], start[0], out[1]));
		}
	}
	close(start[0]);
	close(out[1]);
	/* Let the claimers connect, then start them all at once. */
	sleep(1);
	t0 = sx_mono_ms();
	for (long i = 0; i < claimers; i++)
		if (write(start[1], "g", 1) != 1)
			err(1, "write");
	while (read(out[0], &got, sizeof(got)) == (ssize_t)sizeof(got))
		total += got;
	t1 = sx_mono_ms();
	while (wait(NULL) > 0)
		;
	/*
	 * Galera applies other nodes' writes asynchronously after they are
	 * certified: the check waits until this node has applied everything
	 * committed before it (a no-op on a single server).
	 */
	sx_db_exec(db, q_sync, NULL, 0, NULL);
	{
		struct sx_param p[] = { sx_p_str(argv[1]) };

		if (sx_db_query(db, q_check, p, 1, &rows) != SX_OK)
			errx(1, "check: %s", sx_db_error(db));
	}
	printf("claimers=%ld tasks=%ld claims=%ld seconds=%.2f claims_per_s=%.0f "
	       "org_tasks=%lld completed=%lld attempt1=%lld\n",
	       claimers, tasks, total, (double)(t1 - t0) / 1000.0,
	       (double)total * 1000.0 / (double)(t1 - t0 ? t1 - t0 : 1),
	       sx_rows_i64(rows, 0, 0, -1), sx_rows_i64(rows, 0, 1, -1), sx_rows_i64(rows, 0, 2, -1));
	sx_rows_free(rows);
	sx_db_free(db);
	sx_conf_release(&c);
	return 0;
}
