/*
 * /healthz and /metrics from the database (see metrics.h).
 */
#include "sx.h"
#include "metrics.h"
#include "db.h"
#include "task.h"

/* Upper bounds (seconds) of the step latency histogram's buckets. */
static const double step_buckets[] = { 1, 2, 5, 10, 30, 60, 120, 300 };

enum sx_rc metrics_health(struct sx_db *db)
{
	static const char q[] = "SELECT 1";
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, NULL, 0, &rows);

	sx_rows_free(rows);
	return rc;
}

static void emit_head(struct sx_buf *out, const char *name, const char *type, const char *help)
{
	sx_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* sextant_tasks{status=…}: every status, zero when no task has it. */
static enum sx_rc emit_tasks(struct sx_db *db, struct sx_buf *out)
{
	static const char q[] = "SELECT status, COUNT(*) FROM tasks GROUP BY status";
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, NULL, 0, &rows);

	if (rc)
		goto out;
	emit_head(out, "sextant_tasks", "gauge", "Tasks by status.");
	for (int s = 0; s < TASK_STATUS_COUNT; s++) {
		const char *name = task_status_name((enum task_status)s);
		long long n = 0;

		for (size_t i = 0; i < rows->nrows; i++)
			if (strcmp(sx_rows_get(rows, i, 0), name) == 0)
				n = sx_rows_i64(rows, i, 1, 0);
		sx_buf_printf(out, "sextant_tasks{status=\"%s\"} %lld\n", name, n);
	}
out:
	sx_rows_free(rows);
	return rc;
}

static enum sx_rc emit_queue(struct sx_db *db, struct sx_buf *out)
{
	static const char q[] =
		"SELECT COUNT(*), COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(COALESCE(queued_at, created_at)), "
		"UTC_TIMESTAMP(6)), 0) / 1000000 FROM tasks WHERE status IN ('created', 'queued')";
	static const char q_workers[] =
		"SELECT COUNT(DISTINCT lease_owner) FROM tasks "
		"WHERE status = 'running' AND lease_owner IS NOT NULL AND lease_until > UTC_TIMESTAMP(6)";
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, NULL, 0, &rows);

	if (rc)
		goto out;
	emit_head(out, "sextant_queue_depth", "gauge", "Tasks waiting for a worker.");
	sx_buf_printf(out, "sextant_queue_depth %lld\n", sx_rows_i64(rows, 0, 0, 0));
	emit_head(out, "sextant_queue_oldest_age_seconds", "gauge",
		  "Age of the oldest waiting task (0 when none).");
	sx_buf_printf(out, "sextant_queue_oldest_age_seconds %.3f\n", sx_rows_f64(rows, 0, 1, 0));
	sx_rows_free(rows);
	rows = NULL;
	rc = sx_db_query(db, q_workers, NULL, 0, &rows);
	if (rc)
		goto out;
	/* A worker holding a live lease is alive: its heartbeat renews the lease. */
	emit_head(out, "sextant_workers_live", "gauge", "Agent workers holding a live task lease.");
	sx_buf_printf(out, "sextant_workers_live %lld\n", sx_rows_i64(rows, 0, 0, 0));
out:
	sx_rows_free(rows);
	return rc;
}

/* Steps, their latency histogram (created_at to modified_at of finished steps), tokens and cost. */
static enum sx_rc emit_steps(struct sx_db *db, struct sx_buf *out)
{
	static const char q[] =
		"SELECT COUNT(*), COALESCE(SUM(input_token_count), 0), COALESCE(SUM(output_token_count), 0), "
		"COALESCE(SUM(step_cost), 0), "
		"COALESCE(SUM(status IN ('completed', 'failed', 'canceled')), 0), "
		"COALESCE(SUM(IF(status IN ('completed', 'failed', 'canceled'), lat, 0)), 0), "
		"COALESCE(SUM(status IN ('completed', 'failed', 'canceled') AND lat <= ?), 0), "
		"COALESCE(SUM(status IN ('completed', 'failed', 'canceled') AND lat <= ?), 0), "
		"COALESCE(SUM(status IN ('completed', 'failed', 'canceled') AND lat <= ?), 0), "
		"COALESCE(SUM(status IN ('completed', 'failed', 'canceled') AND lat <= ?), 0), "
		"COALESCE(SUM(status IN ('completed', 'failed', 'canceled') AND lat <= ?), 0), "
		"COALESCE(SUM(status IN ('completed', 'failed', 'canceled') AND lat <= ?), 0), "
		"COALESCE(SUM(status IN ('completed', 'failed', 'canceled') AND lat <= ?), 0), "
		"COALESCE(SUM(status IN ('completed', 'failed', 'canceled') AND lat <= ?), 0) "
		"FROM (SELECT status, input_token_count, output_token_count, step_cost, "
		"TIMESTAMPDIFF(MICROSECOND, created_at, modified_at) / 1000000 AS lat FROM steps) s";
	static const char q_llm[] = "SELECT COUNT(*) FROM artifacts WHERE type = 'llm_request'";
	struct sx_param p[SX_ARRAY_LEN(step_buckets)];
	struct sx_rows *rows = NULL;
	enum sx_rc rc;

	for (size_t i = 0; i < SX_ARRAY_LEN(step_buckets); i++)
		p[i] = sx_p_f64(step_buckets[i]);
	rc = sx_db_query(db, q, p, SX_ARRAY_LEN(p), &rows);
	if (rc)
		goto out;
	emit_head(out, "sextant_steps_total", "counter", "Steps recorded, in any status.");
	sx_buf_printf(out, "sextant_steps_total %lld\n", sx_rows_i64(rows, 0, 0, 0));
	emit_head(out, "sextant_step_duration_seconds", "histogram",
		  "Duration of finished steps, from creation to last update.");
	for (size_t i = 0; i < SX_ARRAY_LEN(step_buckets); i++)
		sx_buf_printf(out, "sextant_step_duration_seconds_bucket{le=\"%g\"} %lld\n",
			      step_buckets[i], sx_rows_i64(rows, 0, 6 + i, 0));
	sx_buf_printf(out, "sextant_step_duration_seconds_bucket{le=\"+Inf\"} %lld\n",
		      sx_rows_i64(rows, 0, 4, 0));
	sx_buf_printf(out, "sextant_step_duration_seconds_sum %.6f\n", sx_rows_f64(rows, 0, 5, 0));
	sx_buf_printf(out, "sextant_step_duration_seconds_count %lld\n", sx_rows_i64(rows, 0, 4, 0));
	emit_head(out, "sextant_llm_tokens_total", "counter", "LLM tokens recorded on steps.");
	sx_buf_printf(out, "sextant_llm_tokens_total{direction=\"input\"} %lld\n", sx_rows_i64(rows, 0, 1, 0));
	sx_buf_printf(out, "sextant_llm_tokens_total{direction=\"output\"} %lld\n", sx_rows_i64(rows, 0, 2, 0));
	emit_head(out, "sextant_llm_cost_total", "counter", "LLM cost recorded on steps (configured prices).");
	sx_buf_printf(out, "sextant_llm_cost_total %.6f\n", sx_rows_f64(rows, 0, 3, 0));
	sx_rows_free(rows);
	rows = NULL;
	rc = sx_db_query(db, q_llm, NULL, 0, &rows);
	if (rc)
		goto out;
	/* Each LLM call leaves its request as an artifact; gc lowers this count. */
	emit_head(out, "sextant_llm_calls_total", "counter", "LLM calls (saved llm_request artifacts).");
	sx_buf_printf(out, "sextant_llm_calls_total %lld\n", sx_rows_i64(rows, 0, 0, 0));
out:
	sx_rows_free(rows);
	return rc;
}

static enum sx_rc emit_webhooks(struct sx_db *db, struct sx_buf *out)
{
	static const char q[] =
		"SELECT COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'failed'), 0), "
		"COALESCE(SUM(status = 'delivered'), 0) FROM webhook_deliveries";
	struct sx_rows *rows = NULL;
	enum sx_rc rc = sx_db_query(db, q, NULL, 0, &rows);

	if (rc)
		goto out;
	emit_head(out, "sextant_webhook_backlog", "gauge", "Webhook deliveries waiting to be sent.");
	sx_buf_printf(out, "sextant_webhook_backlog %lld\n", sx_rows_i64(rows, 0, 0, 0));
	emit_head(out, "sextant_webhook_failures_total", "counter", "Webhook deliveries that gave up.");
	sx_buf_printf(out, "sextant_webhook_failures_total %lld\n", sx_rows_i64(rows, 0, 1, 0));
	emit_head(out, "sextant_webhook_delivered_total", "counter", "Webhook deliveries delivered.");
	sx_buf_printf(out, "sextant_webhook_delivered_total %lld\n", sx_rows_i64(rows, 0, 2, 0));
out:
	sx_rows_free(rows);
	return rc;
}

enum sx_rc metrics_render(struct sx_db *db, struct sx_buf *out)
{
	enum sx_rc rc = emit_tasks(db, out);

	if (rc == SX_OK)
		rc = emit_queue(db, out);
	if (rc == SX_OK)
		rc = emit_steps(db, out);
	if (rc == SX_OK)
		rc = emit_webhooks(db, out);
	return rc;
}
