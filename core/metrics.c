/*
 * /healthz and /metrics from the database (see metrics.h).  The counts come
 * from the tables' owners (task_db, artifact_db, delivery_db); this file
 * only formats them.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "sx.h"
#include "metrics.h"
#include "id.h"
#include "artifact_db.h"
#include "db.h"
#include "delivery_db.h"
#include "task.h"
#include "task_db.h"

/* Upper bounds (seconds) of the step latency histogram's buckets. */
static const double step_buckets[STEP_COUNT_BOUNDS] = { 1, 2, 5, 10, 30, 60, 120, 300 };

enum sx_rc metrics_health(struct sx_db *db)
{
	return sx_db_ping(db);
}

enum sx_rc metrics_dir_writable(const char *dir, int *err)
{
	char id[SX_ID_MAX];
	char *path;
	int fd;

	*err = 0;
	sx_id_new(id, "hz_");
	path = xasprintf("%s/.healthz-%s", dir, id);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*err = errno;
		goto out;
	}
	errno = 0;
	if (write(fd, "", 1) != 1)
		*err = errno ? errno : EIO;
	if (close(fd) != 0 && !*err)
		*err = errno;
	if (unlink(path) != 0 && !*err)
		*err = errno;
out:
	free(path);
	return *err ? SX_EIO : SX_OK;
}

static void emit_head(struct sx_buf *out, const char *name, const char *type, const char *help)
{
	sx_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* sextant_tasks{status=…} (every status, zero when no task has it), the queue and the workers. */
static enum sx_rc emit_tasks(struct sx_db *db, struct sx_buf *out)
{
	struct task_counts n;
	enum sx_rc rc = task_db_count(db, &n);

	if (rc)
		return rc;
	emit_head(out, "sextant_tasks", "gauge", "Tasks by status.");
	for (int s = 0; s < TASK_STATUS_COUNT; s++)
		sx_buf_printf(out, "sextant_tasks{status=\"%s\"} %lld\n",
			      task_status_name((enum task_status)s), n.by_status[s]);
	emit_head(out, "sextant_queue_depth", "gauge", "Tasks waiting for a worker.");
	sx_buf_printf(out, "sextant_queue_depth %lld\n", n.waiting);
	emit_head(out, "sextant_queue_oldest_age_seconds", "gauge",
		  "Age of the oldest waiting task (0 when none).");
	sx_buf_printf(out, "sextant_queue_oldest_age_seconds %.3f\n", n.oldest_waiting_s);
	/* A worker holding a live lease is alive: its heartbeat renews the lease. */
	emit_head(out, "sextant_workers_live", "gauge", "Agent workers holding a live task lease.");
	sx_buf_printf(out, "sextant_workers_live %lld\n", n.workers_live);
	return SX_OK;
}

/* Steps, their latency histogram (created_at to modified_at of finished steps), tokens and cost. */
static enum sx_rc emit_steps(struct sx_db *db, struct sx_buf *out)
{
	struct step_counts n;
	long long llm_calls = 0;
	enum sx_rc rc = step_db_count(db, step_buckets, &n);

	if (rc == SX_OK)
		rc = artifact_db_count_type(db, ART_LLM_REQUEST, &llm_calls);
	if (rc)
		return rc;
	emit_head(out, "sextant_steps_total", "counter", "Steps recorded, in any status.");
	sx_buf_printf(out, "sextant_steps_total %lld\n", n.total);
	emit_head(out, "sextant_step_duration_seconds", "histogram",
		  "Duration of finished steps, from creation to last update.");
	for (size_t i = 0; i < SX_ARRAY_LEN(step_buckets); i++)
		sx_buf_printf(out, "sextant_step_duration_seconds_bucket{le=\"%g\"} %lld\n",
			      step_buckets[i], n.within[i]);
	sx_buf_printf(out, "sextant_step_duration_seconds_bucket{le=\"+Inf\"} %lld\n", n.finished);
	sx_buf_printf(out, "sextant_step_duration_seconds_sum %.6f\n", n.duration_sum);
	sx_buf_printf(out, "sextant_step_duration_seconds_count %lld\n", n.finished);
	emit_head(out, "sextant_llm_tokens_total", "counter", "LLM tokens recorded on steps.");
	sx_buf_printf(out, "sextant_llm_tokens_total{direction=\"input\"} %lld\n", n.input_tokens);
	sx_buf_printf(out, "sextant_llm_tokens_total{direction=\"output\"} %lld\n", n.output_tokens);
	emit_head(out, "sextant_llm_cost_total", "counter", "LLM cost recorded on steps (configured prices).");
	sx_buf_printf(out, "sextant_llm_cost_total %.6f\n", n.cost);
	/* Each LLM call leaves its request as an artifact; gc lowers this count. */
	emit_head(out, "sextant_llm_calls_total", "counter", "LLM calls (saved llm_request artifacts).");
	sx_buf_printf(out, "sextant_llm_calls_total %lld\n", llm_calls);
	return SX_OK;
}

/*
 * Artifact files the agent could not write, by type, from the tasks' errors
 * (the agent records them there, so every API host counts the same).
 */
static enum sx_rc emit_artifact_failures(struct sx_db *db, struct sx_buf *out)
{
	static const char *const types[] = {
		ART_SCREENSHOT_STEP, ART_SCREENSHOT_ACTION, ART_SCREENSHOT_FINAL, ART_LLM_REQUEST,
		ART_LLM_RESPONSE, ART_RECORDING, ART_RECORDING_FRAME
	};
	long long n[SX_ARRAY_LEN(types)];
	enum sx_rc rc = task_db_count_artifact_failures(db, types, SX_ARRAY_LEN(types), n);

	if (rc == SX_OK) {
		emit_head(out, "sextant_artifact_write_failures_total", "counter",
			  "Artifact files the agent could not write (counted in the tasks' errors).");
		for (size_t i = 0; i < SX_ARRAY_LEN(types); i++)
			sx_buf_printf(out, "sextant_artifact_write_failures_total{type=\"%s\"} %lld\n",
				      types[i], n[i]);
	}
	return rc;
}

/* Replay (agent/replay.h): tasks by what replay did, and the model tokens it saved. */
static enum sx_rc emit_replay(struct sx_db *db, struct sx_buf *out)
{
	static const char *const outcomes[] = { "hit", "healed", "miss", "off" };
	long long n[SX_ARRAY_LEN(outcomes)], saved = 0;
	enum sx_rc rc = task_db_count_replay(db, outcomes, SX_ARRAY_LEN(outcomes), n, &saved);

	if (rc)
		return rc;
	emit_head(out, "sextant_replay_tasks_total", "counter",
		  "Tasks by replay outcome: hit (no model decision), healed, miss (no trace), off.");
	for (size_t i = 0; i < SX_ARRAY_LEN(outcomes); i++)
		sx_buf_printf(out, "sextant_replay_tasks_total{outcome=\"%s\"} %lld\n", outcomes[i], n[i]);
	emit_head(out, "sextant_replay_model_tokens_saved_total", "counter",
		  "Model tokens replayed tasks did not spend, against the run that recorded their trace.");
	sx_buf_printf(out, "sextant_replay_model_tokens_saved_total %lld\n", saved);
	return SX_OK;
}

static enum sx_rc emit_webhooks(struct sx_db *db, struct sx_buf *out)
{
	struct delivery_counts n;
	enum sx_rc rc = delivery_db_count(db, &n);

	if (rc)
		return rc;
	emit_head(out, "sextant_webhook_backlog", "gauge", "Webhook deliveries waiting to be sent.");
	sx_buf_printf(out, "sextant_webhook_backlog %lld\n", n.pending);
	emit_head(out, "sextant_webhook_failures_total", "counter", "Webhook deliveries that gave up.");
	sx_buf_printf(out, "sextant_webhook_failures_total %lld\n", n.failed);
	emit_head(out, "sextant_webhook_delivered_total", "counter", "Webhook deliveries delivered.");
	sx_buf_printf(out, "sextant_webhook_delivered_total %lld\n", n.delivered);
	return SX_OK;
}

enum sx_rc metrics_render(struct sx_db *db, struct sx_buf *out)
{
	enum sx_rc rc = emit_tasks(db, out);

	if (rc == SX_OK)
		rc = emit_steps(db, out);
	if (rc == SX_OK)
		rc = emit_artifact_failures(db, out);
	if (rc == SX_OK)
		rc = emit_webhooks(db, out);
	if (rc == SX_OK)
		rc = emit_replay(db, out);
	return rc;
}
