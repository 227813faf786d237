/*
 * Operations endpoints: GET /healthz for load balancers and GET /metrics
 * for Prometheus.  Neither takes an API key; nginx lets /metrics through
 * from loopback only (nginx/sextant.conf).
 */
#include "sx.h"
#include "router.h"
#include "buf.h"
#include "log.h"
#include "metrics.h"

/* A scrape is a few hundred lines at most; the cap only guards a bug. */
#define METRICS_MAX (1u << 20)

void ops_healthz(struct http_req *req)
{
	json_object *o = json_object_new_object();
	enum sx_rc rc = metrics_health(req->db);

	json_object_object_add(o, "status", json_object_new_string(rc ? "unhealthy" : "ok"));
	if (rc)
		json_object_object_add(o, "detail", json_object_new_string(
			rc == SX_EDBDOWN ? "database not reachable" : "database error"));
	http_reply_json(req, rc ? 503 : 200, o, NULL);
}

void ops_metrics(struct http_req *req)
{
	struct sx_buf b;
	enum sx_rc rc;

	sx_buf_init(&b, METRICS_MAX);
	rc = metrics_render(req->db, &b);
	if (rc) {
		log_warn("api", "msg=\"metrics failed\" error=%s", sx_log_quote(sx_strerror(rc)));
		http_reply_db_error(req, rc);
		goto out;
	}
	http_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", sx_buf_str(&b), b.len, NULL);
out:
	sx_buf_release(&b);
}
